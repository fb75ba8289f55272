//! OBUK DCR v3.2 registration (OBUK-DCR.md §2 and §4): the stages of the validation pipeline of
//! §2.4, each a pure function, and the registration response.
//!
//! The edge runs them in order, doing the I/O in between:
//! [`check_transport`] → [`RegistrationRequest::parse`] → [`inspect_software_statement`] →
//! (fetch the issuer's keys) → `software_statement::verify` → [`request_key_source`] →
//! (fetch the TPP's keys) → [`verify_request`] → [`check_transport_binding`] (with the software's
//! keys, where the workspace binds the certificate) → [`validate`] → [`registered_metadata`] →
//! (store) → [`RegistrationResponse`].

mod claims;
mod error;
mod request;
mod response;
mod validate;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;

pub use error::{ErrorCode, RegistrationError};
pub use request::{
    ClientCertificateCheck, RegistrationRequest, RequestKeySource, check_transport, check_transport_binding,
    inspect_software_statement, request_key_source, software_key_source, verify_request,
};
pub use response::{IssuedCredentials, RegistrationResponse, registered_metadata};
pub use validate::{
    ApplicationType, ClientMetadata, MAX_REQUEST_LIFETIME_SECONDS, RegistrationPolicy, ReplayKey, ValidatedRegistration,
    validate, validate_traced,
};
