//! The sandbox directory a tenant runs for testing: it signs software statements and issues
//! transport certificates to sandbox software, the way the Open Banking directory does for real
//! TPPs, and publishes their key sets so `software_jwks_endpoint` needs no outside host. A
//! workspace trusts it only when its DCR settings say so (`trust_sandbox_directory`).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::TenantId;
use super::workspace::SettingsError;

/// The `iss` of the software statements the sandbox directory signs.
pub const SANDBOX_ISSUER: &str = "Onboard Sandbox Directory";

/// The roles sandbox software may hold.
pub const SANDBOX_ROLES: [&str; 3] = ["AISP", "PISP", "CBPII"];

const MAX_REDIRECT_URIS: usize = 10;
const MAX_TEXT_LEN: usize = 200;

/// Where a tenant's sandbox directory publishes, under the public URL. `.sandbox` cannot be a
/// workspace id, so these never meet a workspace's routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxUrls {
    base: String,
}

impl SandboxUrls {
    pub fn new(public_url: &str, tenant: &TenantId) -> Self {
        Self { base: format!("{}/{tenant}/.sandbox", public_url.trim_end_matches('/')) }
    }

    /// The directory's public key set (software statements are verified with it).
    pub fn directory_jwks(&self) -> String {
        format!("{}/directory/jwks.json", self.base)
    }

    /// The CA certificate that issues sandbox transport certificates.
    pub fn directory_ca(&self) -> String {
        format!("{}/directory/ca.pem", self.base)
    }

    /// The `software_jwks_endpoint` of sandbox software.
    pub fn software_jwks(&self, software_id: &str) -> String {
        format!("{}/software/{software_id}/jwks.json", self.base)
    }

    /// The software id a `software_jwks_endpoint` of this directory names, if it is one.
    pub fn software_id_of(&self, uri: &str) -> Option<String> {
        let rest = uri.strip_prefix(&self.base)?.strip_prefix("/software/")?;
        let id = rest.strip_suffix("/jwks.json")?;
        (!id.is_empty() && !id.contains('/')).then(|| id.to_owned())
    }
}

/// The directory's private material, stored per tenant and made on first use.
#[derive(Clone, PartialEq, Eq)]
pub struct SandboxDirectoryKeys {
    /// The PS256 key that signs software statements (PKCS#8 PEM).
    pub signing_key_pem: String,
    /// The CA that issues transport certificates.
    pub ca_cert_pem: String,
    pub ca_key_pem: String,
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for SandboxDirectoryKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxDirectoryKeys").field("created_at", &self.created_at).finish_non_exhaustive()
    }
}

/// What describes a piece of sandbox software, as a TPP asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareDetails {
    pub software_id: String,
    pub org_id: String,
    /// The organisation's name, the statement's `org_name`. Software enrolled before it was
    /// asked for has none; its statements name the organisation by the client name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_name: Option<String>,
    pub client_name: String,
    pub roles: Vec<String>,
    pub redirect_uris: Vec<String>,
}

/// Whether `software_id` could be sandbox software's: 1 to 22 letters and digits, as the Open
/// Banking directory issues them (so it stands in a URL path or a header as it is).
pub fn is_software_id(software_id: &str) -> bool {
    (1..=22).contains(&software_id.len()) && software_id.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl SoftwareDetails {
    /// A software id of 1 to 22 letters and digits (as the Open Banking directory issues them),
    /// an organisation id of 1 to 64 letters, digits, `-` and `_` (both go into certificate
    /// subjects and URLs), known roles, and `https` redirect URIs.
    pub fn check(&self) -> Result<(), SettingsError> {
        let software_id = &self.software_id;
        if !is_software_id(software_id) {
            return Err(SettingsError::new("software_id", "must be 1 to 22 letters or digits"));
        }
        let org_id = &self.org_id;
        if org_id.is_empty() || org_id.len() > 64 || !org_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SettingsError::new("org_id", "must be 1 to 64 letters, digits, '-' or '_'"));
        }
        if let Some(org_name) = &self.org_name {
            one_line_name("org_name", org_name)?;
        }
        one_line_name("client_name", &self.client_name)?;
        if self.roles.is_empty() || self.roles.iter().any(|role| !SANDBOX_ROLES.contains(&role.as_str())) {
            return Err(SettingsError::new("roles", format!("give one or more of {}", SANDBOX_ROLES.join(", "))));
        }
        if self.redirect_uris.is_empty() || self.redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(SettingsError::new("redirect_uris", format!("give 1 to {MAX_REDIRECT_URIS} redirect URIs")));
        }
        if let Some(bad) = self.redirect_uris.iter().find(|uri| !is_https_url(uri)) {
            return Err(SettingsError::new("redirect_uris", format!("'{bad}' is not an https URL")));
        }
        Ok(())
    }

    /// The statement's `org_name`.
    pub fn organisation_name(&self) -> &str {
        self.org_name.as_deref().unwrap_or(&self.client_name)
    }
}

/// A name of 1 to [`MAX_TEXT_LEN`] characters on one line, not just spaces.
fn one_line_name(field: &str, name: &str) -> Result<(), SettingsError> {
    let name = name.trim();
    if name.is_empty() || name.len() > MAX_TEXT_LEN || name.chars().any(char::is_control) {
        return Err(SettingsError::new(field, format!("must be 1 to {MAX_TEXT_LEN} characters on one line")));
    }
    Ok(())
}

fn is_https_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|url| url.scheme() == "https" && url.host().is_some() && url.fragment().is_none())
}

/// Sandbox software as the directory keeps it: its details and its public key set (the TPP's
/// signing keys, and its transport certificate as a `use: tls` key with `x5c`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SandboxSoftware {
    #[serde(flatten)]
    pub details: SoftwareDetails,
    pub jwks: Value,
    pub created_at: DateTime<Utc>,
}

/// A line of the console's sandbox TPP list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSoftwareSummary {
    #[serde(flatten)]
    pub details: SoftwareDetails,
    pub created_at: DateTime<Utc>,
    /// The server holds its bundle: it can be downloaded and registered from the console.
    pub held: bool,
}

/// A sandbox TPP the console makes: the server generates its keys and holds its bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSandboxTpp {
    #[serde(flatten)]
    pub details: SoftwareDetails,
    /// `PS256` or `ES256`, for its request signing key.
    pub algorithm: String,
}

/// What registering a sandbox TPP at a workspace came to: the endpoint's status and answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxRegistration {
    pub status: u16,
    /// The client registered, when it was.
    pub client_id: Option<String>,
    /// The answer, pretty-printed JSON; a registration access token is not shown.
    pub answer: String,
}

/// What a TPP sends the directory to be enrolled: its details, its public signing keys, and a
/// certificate signing request for its transport key. No private key leaves the TPP.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    #[serde(flatten)]
    pub details: SoftwareDetails,
    /// The TPP's public signing keys (`use: sig`), published at its `software_jwks_endpoint`.
    pub signing_jwks: Value,
    pub transport_csr_pem: String,
}

/// What the directory hands back on enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub software_statement: String,
    pub transport_certificate_pem: String,
    pub transport_subject_dn: String,
    pub directory_ca_pem: String,
    pub software_jwks_endpoint: String,
    pub directory_jwks_uri: String,
    pub issuer: String,
}

/// A fresh software statement for enrolled software.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedStatement {
    pub software_statement: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> SoftwareDetails {
        SoftwareDetails {
            software_id: "BudgetPlanner".to_owned(),
            org_id: "0015800001HQQrZAAX".to_owned(),
            org_name: Some("Budget Planner Ltd".to_owned()),
            client_name: "Budget Planner".to_owned(),
            roles: vec!["AISP".to_owned()],
            redirect_uris: vec!["https://tpp.example/cb".to_owned()],
        }
    }

    #[test]
    fn software_jwks_endpoints_are_recognised() {
        let tenant = TenantId::parse("default").unwrap_or_else(|e| panic!("{e}"));
        let urls = SandboxUrls::new("https://localhost:8443/", &tenant);
        let endpoint = urls.software_jwks("BudgetPlanner");
        assert_eq!(endpoint, "https://localhost:8443/default/.sandbox/software/BudgetPlanner/jwks.json");
        assert_eq!(urls.software_id_of(&endpoint).as_deref(), Some("BudgetPlanner"));
        for other in [
            "https://localhost:8443/other/.sandbox/software/budget-planner/jwks.json",
            "https://localhost:8443/default/.sandbox/software/a/b/jwks.json",
            "https://evil.example/default/.sandbox/software/budget-planner/jwks.json",
        ] {
            assert_eq!(urls.software_id_of(other), None, "{other}");
        }
    }

    #[test]
    fn details_are_checked_field_by_field() {
        assert_eq!(details().check(), Ok(()));
        let field = |change: fn(&mut SoftwareDetails)| {
            let mut bad = details();
            change(&mut bad);
            bad.check().err().map(|e| e.field)
        };
        assert_eq!(field(|d| d.software_id = "a/b".to_owned()).as_deref(), Some("software_id"));
        assert_eq!(field(|d| d.org_id = String::new()).as_deref(), Some("org_id"));
        assert_eq!(field(|d| d.org_name = Some("  ".to_owned())).as_deref(), Some("org_name"));
        assert_eq!(field(|d| d.client_name = "a\nb".to_owned()).as_deref(), Some("client_name"));
        assert_eq!(field(|d| d.roles = vec!["ASPSP".to_owned()]).as_deref(), Some("roles"));
        assert_eq!(field(|d| d.redirect_uris = vec!["http://tpp.example/cb".to_owned()]).as_deref(), Some("redirect_uris"));
    }

    #[test]
    fn software_enrolled_without_an_organisation_name_is_named_by_its_client_name() {
        let stored = r#"{"software_id":"Old","org_id":"org","client_name":"Old App","roles":["AISP"],"redirect_uris":[]}"#;
        let old: SoftwareDetails = serde_json::from_str(stored).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((old.org_name.as_deref(), old.organisation_name()), (None, "Old App"));
        assert_eq!(details().organisation_name(), "Budget Planner Ltd");
    }
}
