//! Audit events: every registration attempt, accepted or rejected with its reason, every
//! change to a client, every token a client of the workspace asked for, and every change an
//! administrator makes to the workspace (its settings, policies and signing keys), kept per
//! workspace.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event_log::{EventFilter, Outcome, storable};
use super::ids::WorkspaceRef;
use super::oauth::UnknownValue;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEventType {
    /// A client was registered through the DCR endpoint.
    DcrCreated,
    /// A registration request was refused.
    DcrRejected,
    /// A client read its registration (RFC 7592 GET); with outcome failure, a refused attempt.
    DcrRead,
    /// A client updated its registration (RFC 7592 PUT).
    DcrUpdated,
    /// A client deleted its registration (RFC 7592 DELETE).
    DcrDeleted,
    /// An administrator created a client.
    ClientCreated,
    /// An administrator changed a client they created (`detail`: what changed).
    ClientUpdated,
    /// An administrator deleted a client.
    ClientDeleted,
    /// An administrator changed the workspace's general settings.
    SettingsUpdated,
    /// An administrator changed the workspace's DCR settings.
    DcrSettingsUpdated,
    /// An administrator created or changed a DCR policy.
    PolicySaved,
    /// An administrator deleted a DCR policy.
    PolicyDeleted,
    /// An administrator rotated the workspace's signing key, or planned a rotation.
    SigningKeyRotated,
    /// An administrator withdrew a key a planned rotation had published.
    SigningKeyWithdrawn,
    /// A client got an access token from the token endpoint (`detail`: the scope granted).
    TokenIssued,
    /// A client of the workspace asked for an access token and was refused (a request naming
    /// no client of the workspace is only counted in the metrics: anyone can send those).
    TokenRefused,
}

impl AuditEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DcrCreated => "dcr_created",
            Self::DcrRejected => "dcr_rejected",
            Self::DcrRead => "dcr_read",
            Self::DcrUpdated => "dcr_updated",
            Self::DcrDeleted => "dcr_deleted",
            Self::ClientCreated => "client_created",
            Self::ClientUpdated => "client_updated",
            Self::ClientDeleted => "client_deleted",
            Self::SettingsUpdated => "settings_updated",
            Self::DcrSettingsUpdated => "dcr_settings_updated",
            Self::PolicySaved => "policy_saved",
            Self::PolicyDeleted => "policy_deleted",
            Self::SigningKeyRotated => "signing_key_rotated",
            Self::SigningKeyWithdrawn => "signing_key_withdrawn",
            Self::TokenIssued => "token_issued",
            Self::TokenRefused => "token_refused",
        }
    }
}

impl FromStr for AuditEventType {
    type Err = UnknownValue;
    /// Parsed by the serde derive, which knows every variant.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(value.to_owned())).map_err(|_| UnknownValue(value.to_owned()))
    }
}

impl fmt::Display for AuditEventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to record. Never carries secrets or tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    pub workspace: WorkspaceRef,
    pub event_type: AuditEventType,
    pub outcome: Outcome,
    pub client_id: Option<String>,
    /// The wire error code of a rejection.
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub software_id: Option<String>,
    pub org_id: Option<String>,
    /// Subject DN of the client certificate presented, if any.
    pub client_cert_subject: Option<String>,
    pub remote_addr: Option<String>,
    /// Who made an administrative change: the administrator's email, or [`ADMIN_API_ACTOR`].
    #[serde(default)]
    pub actor: Option<String>,
    /// What an administrative change was (`policy reserved-names`, `registration on`), or the
    /// scope an issued token was granted (`scope accounts payments`).
    #[serde(default)]
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The most characters of an identifier named by a request that an audit event keeps.
pub const MAX_AUDITED_ID_CHARS: usize = 128;

/// An identifier a request named (a client id in its path, a claimed `software_id`), as an
/// audit event keeps it: [`storable`], and at most [`MAX_AUDITED_ID_CHARS`] characters, so a
/// refused request cannot make its event large.
pub fn storable_id(text: &str) -> String {
    storable(&text.chars().take(MAX_AUDITED_ID_CHARS).collect::<String>())
}

/// The actor of a change made through the admin REST API (its key names nobody).
pub const ADMIN_API_ACTOR: &str = "admin API key";

impl NewAuditEvent {
    /// Whether it names who acted or what they did: an administrator's change, or an issued
    /// token (its scope). Other protocol requests' events name neither.
    pub fn is_attributed(&self) -> bool {
        self.actor.is_some() || self.detail.is_some()
    }

    /// A change an administrator (`actor`) made to the workspace at `workspace`.
    pub fn administration(
        workspace: WorkspaceRef,
        event_type: AuditEventType,
        actor: &str,
        detail: Option<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            workspace,
            event_type,
            outcome: Outcome::Success,
            client_id: None,
            error: None,
            error_description: None,
            software_id: None,
            org_id: None,
            client_cert_subject: None,
            remote_addr: None,
            actor: Some(actor.to_owned()),
            detail,
            created_at: now,
        }
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: i64,
    #[serde(flatten)]
    pub event: NewAuditEvent,
}

/// Which events of a workspace's audit log a list shows.
pub type AuditFilter = EventFilter<AuditEventType>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_serde_and_as_str() {
        use AuditEventType as T;
        for kind in [
            T::DcrCreated,
            T::DcrRejected,
            T::DcrRead,
            T::DcrUpdated,
            T::DcrDeleted,
            T::ClientCreated,
            T::ClientUpdated,
            T::ClientDeleted,
            T::SettingsUpdated,
            T::DcrSettingsUpdated,
            T::PolicySaved,
            T::PolicyDeleted,
            T::SigningKeyRotated,
            T::SigningKeyWithdrawn,
            T::TokenIssued,
            T::TokenRefused,
        ] {
            assert_eq!(kind.as_str().parse::<T>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).ok(), Some(serde_json::Value::String(kind.as_str().to_owned())));
        }
        assert!("nonsense".parse::<T>().is_err());
    }
}
