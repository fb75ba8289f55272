//! The registration response (OBUK-DCR.md §4, RFC 7591 §3.2.1, RFC 7592 §3): the registered
//! metadata, the software statement's claims flattened to top level, and what was issued.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::ValidatedRegistration;

/// What Onboard issued for a client, other than its secrets (see [`RegistrationResponse`]).
#[derive(Debug, Clone, Copy)]
pub struct IssuedCredentials<'a> {
    pub client_id: &'a str,
    pub issued_at: i64,
    /// Whether the client has a secret (the `client_secret_*` methods).
    pub has_client_secret: bool,
    pub registration_client_uri: &'a str,
}

/// The client's metadata as stored and read back (RFC 7592 GET, and the answer to a PUT): the
/// registered metadata, the statement's claims and what was issued, but never a secret.
pub fn registered_metadata(registration: &ValidatedRegistration, issued: &IssuedCredentials<'_>) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(ssa) = &registration.software_statement {
        for (name, value) in ssa.flattened_claims() {
            body.insert(name.to_owned(), value.clone());
        }
        body.insert("software_statement".to_owned(), Value::String(ssa.compact.clone()));
    }
    let metadata = &registration.metadata;
    if let Ok(Value::Object(fields)) = serde_json::to_value(metadata) {
        body.extend(fields);
    }
    body.insert("scope".to_owned(), Value::String(metadata.scopes.join(" ")));
    body.insert("scopes".to_owned(), json!(metadata.scopes));
    body.insert("client_id".to_owned(), json!(issued.client_id));
    body.insert("client_id_issued_at".to_owned(), json!(issued.issued_at));
    if issued.has_client_secret {
        // OBUK: "Set to zero if the client_secret does not expire".
        body.insert("client_secret_expires_at".to_owned(), json!(0));
    }
    body.insert("registration_client_uri".to_owned(), json!(issued.registration_client_uri));
    body
}

/// The 201 body: the registered metadata and, next to it, the secrets issued with it, which
/// appear here and nowhere else (neither stored nor shown again).
#[derive(Debug, Serialize)]
pub struct RegistrationResponse<'a> {
    /// The [`registered_metadata`], as the stored client holds it.
    #[serde(flatten)]
    pub metadata: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<&'a str>,
}
