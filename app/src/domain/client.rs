//! OAuth clients as the console and admin API see them: a summary for lists, details for one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::oauth::TokenEndpointAuthMethod;
use super::workspace::SettingsError;

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

/// Which of a workspace's clients a list holds, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientSelection {
    pub filter: ClientFilter,
    /// Only clients registered by then with no token since (stored, or purged once expired).
    pub unused_since: Option<DateTime<Utc>>,
    /// Only clients whose id or name holds it, ignoring case; blank: every one.
    pub search: String,
    /// Where the page starts, then how many it holds at most (`None`: the rest).
    pub start: PageStart,
    pub limit: Option<u64>,
}

/// Where a page of a client list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// After skipping this many: pages a reader can jump between, as the console's are.
    Offset(u64),
    /// Right after the client a [`ClientCursor`] names, in the list's order: a walk through
    /// every page neither repeats nor misses a client while others are added or deleted.
    After(ClientCursor),
}

impl Default for PageStart {
    fn default() -> Self {
        Self::Offset(0)
    }
}

/// A place in a client list, newest first: a client's registration time and id (the list's
/// order). Travels as an opaque text ([`Self::encode`]); it stays valid when its client is
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCursor {
    pub created_at: DateTime<Utc>,
    pub client_id: String,
}

/// The longest text [`ClientCursor::parse`] takes.
const MAX_CURSOR_CHARS: usize = 512;

impl ClientCursor {
    /// The place right after `client`.
    pub fn after(client: &ClientSummary) -> Self {
        Self { created_at: client.created_at, client_id: client.client_id.clone() }
    }

    /// Base64url (no padding) of `<created_at as RFC 3339, nanoseconds>|<client id>`.
    pub fn encode(&self) -> String {
        let text = format!("{}|{}", self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true), self.client_id);
        URL_SAFE_NO_PAD.encode(text)
    }

    /// A cursor [`Self::encode`] made; anything else is refused.
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        let invalid = || SettingsError::new("after", "is not a cursor this list returned as `next`");
        if text.len() > MAX_CURSOR_CHARS {
            return Err(invalid());
        }
        let decoded = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
        let (created_at, client_id) = decoded.split_once('|').ok_or_else(invalid)?;
        let created_at = DateTime::parse_from_rfc3339(created_at).map_err(|_| invalid())?.with_timezone(&Utc);
        if client_id.is_empty() || client_id.chars().any(char::is_control) {
            return Err(invalid());
        }
        Ok(Self { created_at, client_id: client_id.to_owned() })
    }
}

/// The longest search of a client list, in characters.
pub const MAX_CLIENT_SEARCH_CHARS: usize = 200;
/// The most clients one page of a list holds.
pub const MAX_CLIENT_PAGE: u64 = 1000;

impl ClientSelection {
    /// What a caller may ask for: a search of at most [`MAX_CLIENT_SEARCH_CHARS`] characters, and
    /// pages of 1 to [`MAX_CLIENT_PAGE`] clients (a caller that names no limit gets every one:
    /// the services' own lists).
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.search.chars().count() > MAX_CLIENT_SEARCH_CHARS {
            return Err(SettingsError::new("search", format!("is longer than {MAX_CLIENT_SEARCH_CHARS} characters")));
        }
        if self.limit.is_some_and(|limit| !(1..=MAX_CLIENT_PAGE).contains(&limit)) {
            return Err(SettingsError::new("limit", format!("must be from 1 to {MAX_CLIENT_PAGE}")));
        }
        Ok(())
    }

    /// The dynamically registered clients with no token for `after_days` (counting from their
    /// registration when they never had one). Manual clients are the bank's own and never
    /// abandoned.
    pub fn abandoned(now: DateTime<Utc>, after_days: u32) -> Self {
        Self { filter: ClientFilter::Dynamic, unused_since: Some(abandoned_cut_off(now, after_days)), ..Self::default() }
    }
}

/// A dynamically registered client that has had no token since this moment, and was
/// registered by then, is abandoned after `after_days`.
pub fn abandoned_cut_off(now: DateTime<Utc>, after_days: u32) -> DateTime<Utc> {
    now - chrono::Duration::days(i64::from(after_days))
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
    /// Whether it may introspect any token of the workspace (a resource server, RFC 7662 §4);
    /// without, only its own.
    #[serde(default)]
    pub may_introspect: bool,
}

/// Whether a client may introspect the tokens of other clients of its workspace (RFC 7662 §4):
/// only one an administrator created as a resource server, saying so. A dynamically registered
/// client never may, whatever its registration carried; a stored registration without the
/// member may not (migration 24 wrote it into every manual client made before it existed).
pub fn introspects_every_token(dynamically_registered: bool, may_introspect: Option<bool>) -> bool {
    !dynamically_registered && may_introspect == Some(true)
}

/// What an administrator's change of a manual client changed, for the audit log: the names of
/// the members that differ (`scope`, `jwks`), or `None` if nothing did.
pub fn manual_client_changes(before: &Value, after: &Value) -> Option<String> {
    let changed: Vec<&str> = MANUAL_CLIENT_MEMBERS
        .iter()
        .copied()
        .filter(|member| before.get(*member) != after.get(*member))
        .map(|member| if member == "may_introspect" { introspection_change(after) } else { member })
        .collect();
    (!changed.is_empty()).then(|| format!("changed {}", changed.join(", ")))
}

/// The members of a manual client's registration an administrator may change.
const MANUAL_CLIENT_MEMBERS: [&str; 6] =
    ["client_name", "scope", "jwks", "jwks_uri", "tls_client_auth_subject_dn", "may_introspect"];

fn introspection_change(after: &Value) -> &'static str {
    if after.get("may_introspect") == Some(&Value::Bool(true)) { "may_introspect on" } else { "may_introspect off" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resource_servers_introspect_every_token() {
        assert!(introspects_every_token(false, Some(true)));
        assert!(!introspects_every_token(false, Some(false)));
        assert!(!introspects_every_token(false, None), "not said: not allowed");
        assert!(!introspects_every_token(true, Some(true)), "whatever a registration carried");
        assert!(!introspects_every_token(true, None));
    }

    #[test]
    fn a_change_names_what_it_changed() {
        let before =
            serde_json::json!({"client_name": "RS", "scope": "a", "jwks_uri": "https://rs/jwks", "may_introspect": false});
        assert_eq!(manual_client_changes(&before, &before), None);
        let mut after = before.clone();
        after["scope"] = "a b".into();
        after["may_introspect"] = true.into();
        assert_eq!(manual_client_changes(&before, &after).as_deref(), Some("changed scope, may_introspect on"));
        let keys = serde_json::json!({"client_name": "RS", "scope": "a", "jwks": {"keys": []}, "may_introspect": false});
        assert_eq!(manual_client_changes(&before, &keys).as_deref(), Some("changed jwks, jwks_uri"));
        let mut off = after.clone();
        off["may_introspect"] = false.into();
        assert_eq!(manual_client_changes(&after, &off).as_deref(), Some("changed may_introspect off"));
    }

    #[test]
    fn a_selection_takes_a_short_search_and_a_bounded_page() {
        assert_eq!(ClientSelection::default().validate(), Ok(()));
        let search = |chars: usize| ClientSelection { search: "é".repeat(chars), ..ClientSelection::default() };
        assert_eq!(search(MAX_CLIENT_SEARCH_CHARS).validate(), Ok(()), "counted in characters, not bytes");
        assert_eq!(search(MAX_CLIENT_SEARCH_CHARS + 1).validate().map_err(|e| e.field), Err("search".to_owned()));
        let page = |limit: u64| ClientSelection { limit: Some(limit), ..ClientSelection::default() };
        assert_eq!(page(MAX_CLIENT_PAGE).validate(), Ok(()));
        assert_eq!(page(0).validate().map_err(|e| e.field), Err("limit".to_owned()));
        assert_eq!(page(MAX_CLIENT_PAGE + 1).validate().map_err(|e| e.field), Err("limit".to_owned()));
    }

    #[test]
    fn a_cursor_survives_its_trip_and_nothing_else_passes_for_one() {
        let created_at = DateTime::parse_from_rfc3339("2026-11-24T03:23:11.918843123Z").map(|t| t.with_timezone(&Utc));
        let cursor = ClientCursor { created_at: created_at.unwrap_or_default(), client_id: "a|b~c".to_owned() };
        assert_eq!(ClientCursor::parse(&cursor.encode()), Ok(cursor.clone()), "nanoseconds and any id kept");
        assert!(cursor.encode().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "fits a query");

        let refused = |text: &str| ClientCursor::parse(text).map_err(|e| e.field);
        let encoded = |text: &str| URL_SAFE_NO_PAD.encode(text);
        assert_eq!(refused("not base64!"), Err("after".to_owned()));
        assert_eq!(refused(&encoded("2026-11-24T03:23:11Z")), Err("after".to_owned()), "no id");
        assert_eq!(refused(&encoded("yesterday|c1")), Err("after".to_owned()));
        assert_eq!(refused(&encoded("2026-11-24T03:23:11Z|")), Err("after".to_owned()), "an empty id");
        assert_eq!(refused(&encoded("2026-11-24T03:23:11Z|c\n1")), Err("after".to_owned()), "a control character");
        assert_eq!(refused(&"A".repeat(MAX_CURSOR_CHARS + 1)), Err("after".to_owned()));
        assert!(refused(&encoded("2026-11-24T03:23:11+01:00|c1")).is_ok(), "any offset, read as UTC");
    }
}
