//! Why a registration was refused, and what the register endpoint answers for each reason.

use super::super::rate_limits::Throttled;
use crate::oauth2::error_description;
use crate::oauth2::registration::RegistrationError;

/// Why no client was registered.
#[derive(Debug)]
pub enum Failure {
    /// DCR is switched off for the workspace.
    Disabled,
    /// The workspace requires a `dcr_register` access token, and the request's fell short.
    Token(TokenProblem),
    /// The request broke a rule; the TPP can fix it.
    Rejected(RegistrationError),
    /// Keys the workspace depends on could not be fetched; retrying later may work.
    Unavailable(String),
    /// Over one of the workspace's rate limits.
    Throttled(Throttled),
    /// The workspace holds as many dynamically registered clients as it may.
    CapReached(u32),
    /// Something unexpected; the detail is for the log only.
    Internal(String),
}

impl From<RegistrationError> for Failure {
    fn from(error: RegistrationError) -> Self {
        Self::Rejected(error)
    }
}

impl Failure {
    /// Whether the audit log records this refusal: every one, but of a caller's throttled
    /// requests only the first of each minute (a flood must not become a flood of writes).
    pub(crate) fn is_recorded(&self) -> bool {
        match self {
            Self::Throttled(throttled) => throttled.first_in_minute,
            _ => true,
        }
    }

    /// "code: description", as the audit log and a dry run show it.
    pub(crate) fn detail(&self) -> String {
        let (code, description) = self.audit_code();
        format!("{code}: {description}")
    }

    /// The HTTP status the register endpoint answers with.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::Disabled | Self::CapReached(_) | Self::Token(TokenProblem::InsufficientScope) => 403,
            Self::Token(_) => 401,
            Self::Rejected(_) => 400,
            Self::Unavailable(_) => 503,
            Self::Throttled(_) => 429,
            Self::Internal(_) => 500,
        }
    }

    /// The wire error code and description the client is given (and the audit log and a dry
    /// run show): printable ASCII, as RFC 7591 §3.2.2 asks, though it echoes the request.
    pub(crate) fn audit_code(&self) -> (&'static str, String) {
        let (code, description) = self.unsanitised_code();
        (code, error_description::registration(&description))
    }

    fn unsanitised_code(&self) -> (&'static str, String) {
        match self {
            Self::Disabled => ("access_denied", DCR_DISABLED.to_owned()),
            Self::Token(TokenProblem::InsufficientScope) => ("insufficient_scope", INSUFFICIENT_SCOPE.to_owned()),
            Self::Token(_) => ("invalid_token", TOKEN_REQUIRED.to_owned()),
            Self::Rejected(error) => (error.code().as_str(), error.description()),
            Self::Unavailable(detail) => ("temporarily_unavailable", detail.clone()),
            Self::Throttled(throttled) => ("temporarily_unavailable", throttled.rule.description().to_owned()),
            Self::CapReached(cap) => {
                ("access_denied", format!("this workspace holds its limit of {cap} dynamically registered clients"))
            }
            Self::Internal(_) => ("server_error", "the server could not complete the request".to_owned()),
        }
    }
}

/// What was wrong with the bearer token of a registration the workspace protects by access
/// token (RFC 6750 §3.1 answers each differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// No bearer token at all.
    Missing,
    /// Unknown, expired, revoked, used, of another workspace or client kind, or presented
    /// without the certificate it is bound to.
    Invalid,
    /// A valid token that does not carry the `dcr_register` scope.
    InsufficientScope,
}

pub const TOKEN_REQUIRED: &str = "registration requires a valid, unused dcr_register access token";
/// What a request to a workspace with registration switched off is told.
pub const DCR_DISABLED: &str = "dynamic client registration is disabled for this workspace";

pub const INSUFFICIENT_SCOPE: &str = "registration requires an access token with the dcr_register scope";
