//! Workspaces: one authorization server each, with a profile and general settings (audiences,
//! trusted client CAs, allowed authentication methods, grant types, scopes, role→scope map).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::dcr::DcrSettings;
use super::ids::{TenantId, WorkspaceId, WorkspaceRef};
use super::limits::Limits;
use super::oauth::{GrantType, TokenEndpointAuthMethod, is_scope_token};
use super::revocation::crl_uris_problem;
use super::signing::JwsAlgorithm;

/// Which rule set a workspace's endpoints apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// Open Banking UK: FAPI 1 Advanced rules, signed requests, software statements, mutual TLS.
    OpenbankingUk,
    /// Plain RFC 7591 dynamic client registration.
    Generic,
}

impl Profile {
    pub const ALL: [Self; 2] = [Self::OpenbankingUk, Self::Generic];

    /// The profile named `name` (as `as_str` spells it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|profile| profile.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenbankingUk => "openbanking_uk",
            Self::Generic => "generic",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::OpenbankingUk => "Open Banking UK",
            Self::Generic => "Generic OAuth 2.0",
        }
    }
}

/// The general settings of a workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSettings {
    /// Values accepted in a registration request's `aud` (besides `org_id`, when set).
    pub accepted_audiences: Vec<String>,
    /// The bank's organisation id at the directory (the OB `aud` of registration requests).
    pub org_id: Option<String>,
    /// PEM bundle of the CAs whose client certificates this workspace trusts.
    pub trusted_client_ca_pem: Option<String>,
    /// Where the revocation lists of the CAs that issue client certificates are published. With
    /// lists set, a certificate is accepted only if a current list of its issuer leaves it out,
    /// and while a list cannot be had, no client certificate is.
    /// Left out when empty, so that settings saved without lists stay readable by a release
    /// before them (a rolling upgrade).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_crl_uris: Vec<String>,
    pub token_endpoint_auth_methods: Vec<TokenEndpointAuthMethod>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Vec<String>,
    /// Which scopes each software role (`software_roles` of an SSA) may request.
    pub role_scopes: BTreeMap<String, Vec<String>>,
    /// Lifetime of the access tokens the workspace issues.
    #[serde(default = "default_access_token_ttl")]
    pub access_token_ttl_seconds: u32,
    /// The algorithm the workspace signs access tokens with.
    #[serde(default = "default_signing_alg")]
    pub access_token_signing_alg: JwsAlgorithm,
    /// Rate limits on the register, token, introspection and revocation endpoints, the cap on
    /// self-registered clients.
    #[serde(default)]
    pub limits: Limits,
}

fn default_signing_alg() -> JwsAlgorithm {
    JwsAlgorithm::Ps256
}

/// One hour, the usual lifetime of a client credentials token.
fn default_access_token_ttl() -> u32 {
    3600
}

impl WorkspaceSettings {
    /// What a new workspace of `profile` starts with; `issuer` is its issuer URL.
    pub fn defaults_for(profile: Profile, issuer: &str) -> Self {
        let openid = || "openid".to_owned();
        match profile {
            Profile::OpenbankingUk => Self {
                accepted_audiences: vec![issuer.to_owned()],
                org_id: None,
                trusted_client_ca_pem: None,
                client_crl_uris: Vec::new(),
                token_endpoint_auth_methods: vec![TokenEndpointAuthMethod::TlsClientAuth, TokenEndpointAuthMethod::PrivateKeyJwt],
                grant_types: GrantType::ALL.to_vec(),
                scopes: ["openid", "accounts", "payments", "fundsconfirmations"].map(str::to_owned).to_vec(),
                access_token_ttl_seconds: default_access_token_ttl(),
                access_token_signing_alg: default_signing_alg(),
                limits: Limits::default(),
                role_scopes: BTreeMap::from([
                    ("AISP".to_owned(), vec!["accounts".to_owned(), openid()]),
                    ("PISP".to_owned(), vec!["payments".to_owned(), openid()]),
                    ("CBPII".to_owned(), vec!["fundsconfirmations".to_owned(), openid()]),
                ]),
            },
            Profile::Generic => Self {
                accepted_audiences: vec![issuer.to_owned()],
                org_id: None,
                trusted_client_ca_pem: None,
                client_crl_uris: Vec::new(),
                token_endpoint_auth_methods: vec![
                    TokenEndpointAuthMethod::ClientSecretBasic,
                    TokenEndpointAuthMethod::ClientSecretPost,
                    TokenEndpointAuthMethod::PrivateKeyJwt,
                    TokenEndpointAuthMethod::TlsClientAuth,
                ],
                grant_types: GrantType::ALL.to_vec(),
                scopes: vec![openid()],
                role_scopes: BTreeMap::new(),
                access_token_ttl_seconds: default_access_token_ttl(),
                access_token_signing_alg: default_signing_alg(),
                limits: Limits::default(),
            },
        }
    }

    /// Applies a partial update and checks the result as a whole.
    pub fn patched(&self, patch: WorkspaceSettingsPatch) -> Result<Self, SettingsError> {
        let next = self.with_patch(patch);
        next.validate()?;
        Ok(next)
    }

    /// These settings with a partial update applied, unchecked.
    #[must_use]
    pub fn with_patch(&self, patch: WorkspaceSettingsPatch) -> Self {
        let mut next = self.clone();
        if let Some(v) = patch.accepted_audiences {
            next.accepted_audiences = v;
        }
        if let Some(v) = patch.org_id {
            next.org_id = v.filter(|s| !s.trim().is_empty());
        }
        if let Some(v) = patch.trusted_client_ca_pem {
            next.trusted_client_ca_pem = v.filter(|s| !s.trim().is_empty());
        }
        if let Some(v) = patch.client_crl_uris {
            next.client_crl_uris = v.iter().map(|uri| uri.trim().to_owned()).filter(|uri| !uri.is_empty()).collect();
        }
        if let Some(v) = patch.token_endpoint_auth_methods {
            next.token_endpoint_auth_methods = v;
        }
        if let Some(v) = patch.grant_types {
            next.grant_types = v;
        }
        if let Some(v) = patch.scopes {
            next.scopes = v;
        }
        if let Some(v) = patch.role_scopes {
            next.role_scopes = v;
        }
        if let Some(v) = patch.access_token_ttl_seconds {
            next.access_token_ttl_seconds = v;
        }
        if let Some(v) = patch.access_token_signing_alg {
            next.access_token_signing_alg = v;
        }
        if let Some(v) = patch.limits {
            next.limits = v;
        }
        next
    }

    /// Rules that relate fields to each other, checked on save: the first that fails. See
    /// [`Self::problems`].
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.problems().into_iter().next().map_or(Ok(()), Err)
    }

    /// Every rule these settings break, one problem per field at most (per role for
    /// `role_scopes`), so a form shows each at its field. The CA bundle is checked by the server, which can parse certificates.
    pub fn problems(&self) -> Vec<SettingsError> {
        let mut problems = Vec::new();
        if self.accepted_audiences.is_empty() && self.org_id.is_none() {
            problems.push(SettingsError::new("accepted_audiences", "at least one audience (or org_id) is required"));
        } else if let Some(bad) = self.accepted_audiences.iter().find(|a| a.trim().is_empty() || a.len() > 512) {
            problems.push(SettingsError::new("accepted_audiences", format!("'{bad}' is not a usable audience")));
        }
        if let Some(org_id) = &self.org_id
            && (org_id.len() > 64 || !org_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        {
            problems.push(SettingsError::new("org_id", "must be up to 64 letters, digits, '-' or '_'"));
        }
        problems.extend(crl_uris_problem(&self.client_crl_uris));
        if self.token_endpoint_auth_methods.is_empty() {
            problems.push(SettingsError::new("token_endpoint_auth_methods", "at least one method is required"));
        } else if self.token_endpoint_auth_methods.contains(&TokenEndpointAuthMethod::ClientSecretJwt) {
            // Its HMAC needs the secret itself, and Onboard keeps only a hash of secrets.
            problems.push(SettingsError::new(
                "token_endpoint_auth_methods",
                "client_secret_jwt is not supported: client secrets are stored only as hashes",
            ));
        }
        if !(60..=86_400).contains(&self.access_token_ttl_seconds) {
            problems.push(SettingsError::new("access_token_ttl_seconds", "must be between 60 and 86400 seconds"));
        }
        if self.grant_types.is_empty() {
            problems.push(SettingsError::new("grant_types", "at least one grant type is required"));
        }
        if let Some(bad) = self.scopes.iter().find(|s| !is_scope_token(s)) {
            problems.push(SettingsError::new("scopes", format!("'{bad}' is not a valid scope token (RFC 6749 §3.3)")));
        }
        for (role, scopes) in &self.role_scopes {
            if role.is_empty() || role.len() > 32 {
                problems.push(SettingsError::new("role_scopes", format!("role '{role}' must be 1 to 32 characters")));
            } else if let Some(missing) = scopes.iter().find(|s| !self.scopes.contains(s)) {
                problems.push(SettingsError::new(
                    format!("role_scopes.{role}"),
                    format!("scope '{missing}' is not one of the workspace's scopes"),
                ));
            }
        }
        problems.extend(self.limits.problems());
        problems
    }

    /// The values a registration request's `aud` may take.
    pub fn audiences(&self) -> impl Iterator<Item = &str> {
        self.accepted_audiences.iter().map(String::as_str).chain(self.org_id.as_deref())
    }
}

/// A partial update of [`WorkspaceSettings`]: absent fields stay as they are; `null` clears an
/// optional one.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSettingsPatch {
    pub accepted_audiences: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub org_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub trusted_client_ca_pem: Option<Option<String>>,
    pub client_crl_uris: Option<Vec<String>>,
    pub token_endpoint_auth_methods: Option<Vec<TokenEndpointAuthMethod>>,
    pub grant_types: Option<Vec<GrantType>>,
    pub scopes: Option<Vec<String>>,
    pub role_scopes: Option<BTreeMap<String, Vec<String>>>,
    pub access_token_ttl_seconds: Option<u32>,
    pub access_token_signing_alg: Option<JwsAlgorithm>,
    /// Replaces the limits as a whole; members left out take their defaults.
    pub limits: Option<Limits>,
}

/// Distinguishes a field set to `null` (`Some(None)`) from an absent one (`None`).
#[expect(clippy::option_option, reason = "absent, null and a value are three different patches")]
fn double_option<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// A settings rule that failed: the field it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{field}: {message}")]
pub struct SettingsError {
    pub field: String,
    pub message: String,
}

impl SettingsError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// A workspace as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workspace {
    pub tenant: TenantId,
    pub id: WorkspaceId,
    pub name: String,
    pub profile: Profile,
    pub settings: WorkspaceSettings,
    pub dcr: DcrSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Workspace {
    pub fn reference(&self) -> WorkspaceRef {
        WorkspaceRef { tenant: self.tenant.clone(), workspace: self.id.clone() }
    }
}

/// A workspace as listed in a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceSummary {
    pub tenant: TenantId,
    pub id: WorkspaceId,
    pub name: String,
    pub profile: Profile,
    pub dcr_enabled: bool,
    pub client_count: i64,
}

/// What creating a workspace takes.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewWorkspace {
    pub id: WorkspaceId,
    pub name: String,
    pub profile: Profile,
}

impl NewWorkspace {
    pub fn validate(&self) -> Result<(), SettingsError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(SettingsError::new("name", "must be 1 to 80 characters"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obuk() -> WorkspaceSettings {
        WorkspaceSettings::defaults_for(Profile::OpenbankingUk, "https://as.example/default/obuk")
    }

    #[test]
    fn defaults_are_valid_for_both_profiles() {
        assert_eq!(obuk().validate(), Ok(()));
        assert_eq!(WorkspaceSettings::defaults_for(Profile::Generic, "https://x").validate(), Ok(()));
        assert_eq!(obuk().audiences().collect::<Vec<_>>(), vec!["https://as.example/default/obuk"]);
    }

    #[test]
    fn patch_changes_only_what_it_names() {
        let patch: WorkspaceSettingsPatch = serde_json::from_str(r#"{"org_id": "0015800001HQQrZAAX"}"#).unwrap_or_default();
        let next = obuk().patched(patch).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(next.org_id.as_deref(), Some("0015800001HQQrZAAX"));
        assert_eq!(next.scopes, obuk().scopes);
        assert_eq!(next.audiences().count(), 2);

        let clear: WorkspaceSettingsPatch = serde_json::from_str(r#"{"org_id": null}"#).unwrap_or_default();
        assert_eq!(next.patched(clear).map(|s| s.org_id), Ok(None));
    }

    #[test]
    fn patch_refuses_unknown_fields() {
        assert!(serde_json::from_str::<WorkspaceSettingsPatch>(r#"{"colour": "red"}"#).is_err());
    }

    #[test]
    fn each_rule_names_its_field() {
        let field = |patch: &str| {
            let patch: WorkspaceSettingsPatch = serde_json::from_str(patch).unwrap_or_default();
            obuk().patched(patch).err().map(|e| e.field)
        };
        assert_eq!(field(r#"{"accepted_audiences": []}"#).as_deref(), Some("accepted_audiences"));
        assert_eq!(field(r#"{"accepted_audiences": [" "]}"#).as_deref(), Some("accepted_audiences"));
        assert_eq!(field(r#"{"org_id": "has space"}"#).as_deref(), Some("org_id"));
        assert_eq!(field(r#"{"token_endpoint_auth_methods": []}"#).as_deref(), Some("token_endpoint_auth_methods"));
        assert_eq!(
            field(r#"{"token_endpoint_auth_methods": ["client_secret_jwt"]}"#).as_deref(),
            Some("token_endpoint_auth_methods")
        );
        assert_eq!(field(r#"{"grant_types": []}"#).as_deref(), Some("grant_types"));
        assert_eq!(field(r#"{"access_token_ttl_seconds": 5}"#).as_deref(), Some("access_token_ttl_seconds"));
        assert_eq!(field(r#"{"scopes": ["bad scope"]}"#).as_deref(), Some("scopes"));
        assert_eq!(field(r#"{"scopes": ["openid"]}"#).as_deref(), Some("role_scopes.AISP"));
    }

    #[test]
    fn every_problem_is_told_at_once() {
        let patch: WorkspaceSettingsPatch = serde_json::from_str(
            r#"{"accepted_audiences": [], "grant_types": [], "access_token_ttl_seconds": 5,
                "limits": {"max_dynamic_clients": 2000000, "abandoned_after_days": 0}}"#,
        )
        .unwrap_or_default();
        let fields: Vec<String> = obuk().with_patch(patch).problems().into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [
                "accepted_audiences",
                "access_token_ttl_seconds",
                "grant_types",
                "limits.max_dynamic_clients",
                "limits.abandoned_after_days"
            ]
        );
    }
}
