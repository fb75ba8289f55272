//! The URLs of a workspace's endpoints (DESIGN.md, "URL layout"), all under the deployment's
//! public URL: `{public_url}/{tenant}/{workspace}/...`.

use serde::{Deserialize, Serialize};

use super::ids::WorkspaceRef;
use super::workspace::Profile;

/// Path of the OBUK DCR v3.2 register endpoint within a workspace.
pub const OBUK_REGISTRATION_PATH: &str = "openbankinguk/dcr/v3.2/register";
/// Path of the plain RFC 7591 register endpoint within a workspace.
pub const GENERIC_REGISTRATION_PATH: &str = "oauth2/register";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceUrls {
    pub issuer: String,
    pub discovery: String,
    pub jwks: String,
    pub token: String,
    pub introspection: String,
    pub revocation: String,
    pub registration: String,
}

impl WorkspaceUrls {
    /// `public_url` is the deployment's base, e.g. `https://localhost:8443` or
    /// `https://bank.example/auth`.
    pub fn new(public_url: &str, workspace: &WorkspaceRef, profile: Profile) -> Self {
        let issuer = format!("{}/{}/{}", public_url.trim_end_matches('/'), workspace.tenant, workspace.workspace);
        let at = |path: &str| format!("{issuer}/{path}");
        let registration_path = match profile {
            Profile::OpenbankingUk => OBUK_REGISTRATION_PATH,
            Profile::Generic => GENERIC_REGISTRATION_PATH,
        };
        Self {
            discovery: at(".well-known/openid-configuration"),
            jwks: at(".well-known/jwks.json"),
            token: at("oauth2/token"),
            introspection: at("oauth2/introspect"),
            revocation: at("oauth2/revoke"),
            registration: at(registration_path),
            issuer,
        }
    }

    /// RFC 7592 `registration_client_uri` of a client.
    pub fn client_configuration(&self, client_id: &str) -> String {
        format!("{}/{client_id}", self.registration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{TenantId, WorkspaceId};

    #[test]
    fn builds_every_endpoint_under_the_issuer() {
        let workspace = WorkspaceRef {
            tenant: TenantId::parse("default").unwrap_or_else(|e| panic!("{e}")),
            workspace: WorkspaceId::parse("obuk").unwrap_or_else(|e| panic!("{e}")),
        };
        let urls = WorkspaceUrls::new("https://localhost:8443/", &workspace, Profile::OpenbankingUk);
        assert_eq!(urls.issuer, "https://localhost:8443/default/obuk");
        assert_eq!(urls.registration, "https://localhost:8443/default/obuk/openbankinguk/dcr/v3.2/register");
        assert_eq!(urls.discovery, "https://localhost:8443/default/obuk/.well-known/openid-configuration");
        assert_eq!(urls.client_configuration("c1"), format!("{}/c1", urls.registration));
        let generic = WorkspaceUrls::new("https://bank.example/auth", &workspace, Profile::Generic);
        assert_eq!(generic.registration, "https://bank.example/auth/default/obuk/oauth2/register");
    }
}
