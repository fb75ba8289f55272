//! The OAuth 2.0 vocabulary a workspace configures: client authentication methods (RFC 7591 §2,
//! RFC 8705 §2), grant types (RFC 7591 §2) and scope tokens (RFC 6749 §3.3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `token_endpoint_auth_method` values Onboard knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// RFC 8705 §2.1: PKI mutual TLS; the certificate's subject DN identifies the client.
    TlsClientAuth,
    /// RFC 8705 §2.2: a self-signed certificate registered in the client's JWKS.
    SelfSignedTlsClientAuth,
    /// OIDC Core §9: a JWT assertion signed with the client's private key.
    PrivateKeyJwt,
    /// OIDC Core §9: a JWT assertion signed with the client secret (HMAC).
    ClientSecretJwt,
    /// RFC 6749 §2.3.1: HTTP Basic with the client secret.
    ClientSecretBasic,
    /// RFC 6749 §2.3.1: the client secret in the form body.
    ClientSecretPost,
}

impl TokenEndpointAuthMethod {
    pub const ALL: [Self; 6] = [
        Self::TlsClientAuth,
        Self::SelfSignedTlsClientAuth,
        Self::PrivateKeyJwt,
        Self::ClientSecretJwt,
        Self::ClientSecretBasic,
        Self::ClientSecretPost,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TlsClientAuth => "tls_client_auth",
            Self::SelfSignedTlsClientAuth => "self_signed_tls_client_auth",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }

    /// Methods that authenticate with a shared secret, which Onboard issues at registration.
    pub fn uses_client_secret(self) -> bool {
        matches!(self, Self::ClientSecretJwt | Self::ClientSecretBasic | Self::ClientSecretPost)
    }

    /// Methods that authenticate with the TLS client certificate (RFC 8705 §2).
    pub fn uses_certificate(self) -> bool {
        matches!(self, Self::TlsClientAuth | Self::SelfSignedTlsClientAuth)
    }

    /// Methods whose assertion is a JWT, which need `token_endpoint_auth_signing_alg`.
    pub fn uses_signed_assertion(self) -> bool {
        matches!(self, Self::PrivateKeyJwt | Self::ClientSecretJwt)
    }
}

/// `grant_types` values Onboard knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantType {
    ClientCredentials,
    AuthorizationCode,
    RefreshToken,
}

impl GrantType {
    pub const ALL: [Self; 3] = [Self::ClientCredentials, Self::AuthorizationCode, Self::RefreshToken];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
        }
    }
}

/// A wire value that names none of the known variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value '{0}'")]
pub struct UnknownValue(pub String);

macro_rules! wire_enum_traits {
    ($ty:ty) => {
        impl FromStr for $ty {
            type Err = UnknownValue;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::ALL.into_iter().find(|candidate| candidate.as_str() == value).ok_or_else(|| UnknownValue(value.to_owned()))
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum_traits!(TokenEndpointAuthMethod);
wire_enum_traits!(GrantType);

/// Whether `token` is a valid RFC 6749 §3.3 scope token: `1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn is_scope_token(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= 128
        && token.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for method in TokenEndpointAuthMethod::ALL {
            assert_eq!(method.as_str().parse::<TokenEndpointAuthMethod>(), Ok(method));
            let json = serde_json::to_string(&method).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", method.as_str()));
        }
        for grant in GrantType::ALL {
            assert_eq!(grant.as_str().parse::<GrantType>(), Ok(grant));
        }
        assert!("implicit".parse::<GrantType>().is_err());
    }

    #[test]
    fn scope_tokens_follow_rfc6749() {
        assert!(is_scope_token("accounts"));
        assert!(is_scope_token("urn:x:read"));
        assert!(!is_scope_token(""));
        assert!(!is_scope_token("two words"));
        assert!(!is_scope_token("quote\""));
        assert!(!is_scope_token("back\\slash"));
    }
}
