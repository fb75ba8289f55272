//! OAuth clients as the console and admin API see them: a summary for lists, details for one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::oauth::TokenEndpointAuthMethod;

/// A client in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSummary {
    pub client_id: String,
    pub name: Option<String>,
    /// Registered through the DCR endpoint (shown with a DCR label), not created by an admin.
    pub dynamically_registered: bool,
    pub software_id: Option<String>,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub created_at: DateTime<Utc>,
    /// When the client last obtained an access token, if ever.
    #[serde(default)]
    pub last_token_at: Option<DateTime<Utc>>,
}

impl ClientSummary {
    /// Registered through DCR and unused for `after_days`: no token since then, or none at all
    /// since it registered that long ago. Manual clients are the bank's own and never abandoned.
    pub fn is_abandoned(&self, now: DateTime<Utc>, after_days: u32) -> bool {
        let last_seen = self.last_token_at.unwrap_or(self.created_at);
        self.dynamically_registered && now - last_seen >= chrono::Duration::days(i64::from(after_days))
    }
}

/// One client with everything it registered. `metadata` is the registration as returned to the
/// client, without secrets; `software_statement` is the SSA it presented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientDetails {
    #[serde(flatten)]
    pub summary: ClientSummary,
    pub metadata: Value,
    pub software_statement: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Which clients a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientFilter {
    #[default]
    All,
    /// Only dynamically registered clients.
    Dynamic,
    /// Only clients an administrator created.
    Manual,
}

impl ClientFilter {
    /// From the admin API's `?dcr=true|false`.
    pub fn from_dcr_flag(dcr: Option<bool>) -> Self {
        match dcr {
            None => Self::All,
            Some(true) => Self::Dynamic,
            Some(false) => Self::Manual,
        }
    }
}

/// A client an administrator creates (not through DCR), such as the bank's own onboarding
/// portal that obtains `dcr_register` tokens.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewManualClient {
    pub name: String,
    pub scopes: Vec<String>,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// The client's keys, for `private_key_jwt` (exactly one of `jwks` and `jwks_uri`).
    #[serde(default)]
    pub jwks: Option<crate::domain::jwks::PublicJwks>,
    #[serde(default)]
    pub jwks_uri: Option<crate::domain::dcr::JwksUri>,
    /// The certificate subject, for `tls_client_auth`.
    #[serde(default)]
    pub tls_client_auth_subject_dn: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dcr_client_is_abandoned_after_its_days_without_a_token() {
        let day = |n: i64| DateTime::UNIX_EPOCH + chrono::Duration::days(n);
        let client = ClientSummary {
            client_id: "c".to_owned(),
            name: None,
            dynamically_registered: true,
            software_id: None,
            org_id: None,
            org_name: None,
            token_endpoint_auth_method: TokenEndpointAuthMethod::PrivateKeyJwt,
            created_at: day(0),
            last_token_at: None,
        };
        assert!(!client.is_abandoned(day(89), 90), "registered 89 days ago, never used: not yet");
        assert!(client.is_abandoned(day(90), 90));
        let used = ClientSummary { last_token_at: Some(day(50)), ..client.clone() };
        assert!(!used.is_abandoned(day(139), 90), "a token 89 days ago");
        assert!(used.is_abandoned(day(140), 90));
        let manual = ClientSummary { dynamically_registered: false, ..client };
        assert!(!manual.is_abandoned(day(1000), 90), "the bank's own clients are never abandoned");
    }
}
