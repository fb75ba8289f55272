//! Access tokens as recorded: who holds them, for what, bound to which certificate, until when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::WorkspaceRef;

/// An issued access token (the token itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub workspace: WorkspaceRef,
    pub client_id: String,
    /// Space-separated, as in the token.
    pub scope: String,
    /// RFC 8705 §3.1 `x5t#S256` of the certificate the token is bound to.
    pub certificate_thumbprint: Option<String>,
    pub issued_at: DateTime<Utc>,
    /// Epoch seconds.
    pub expires_at: i64,
    pub revoked: bool,
}

impl AccessTokenRecord {
    /// Usable at `now`: not revoked and not expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && now.timestamp() < self.expires_at
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// The hashes of a client's secrets, which only the store and the authenticating code see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCredentials {
    pub client_secret_hash: Option<String>,
    pub registration_access_token_hash: Option<String>,
    /// The certificate subject the registration access token is bound to, if any.
    pub registration_access_token_subject: Option<String>,
}
