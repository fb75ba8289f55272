//! A workspace's own signing keys: the algorithm, and the public half that is published.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::WorkspaceRef;

/// Algorithms a workspace signs with (FAPI 1 Part 2 §8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    #[serde(rename = "PS256")]
    Ps256,
    #[serde(rename = "ES256")]
    Es256,
}

impl SigningAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "PS256" => Some(Self::Ps256),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }
}

/// A key pair made for a workspace. The private half is only ever read to sign.
#[derive(Clone)]
pub struct SigningKeyMaterial {
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    /// The PKCS#8 PEM private key, sealed under the deployment's key encryption key (bound to
    /// `kid`) by the server before anything sees it; only the token signer opens it.
    pub sealed_private_key: String,
    /// The public JWK, with `kid`, `use: sig` and `alg`.
    pub public_jwk: Value,
}

impl fmt::Debug for SigningKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyMaterial").field("kid", &self.kid).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// A stored signing key.
#[derive(Debug, Clone)]
pub struct WorkspaceSigningKey {
    pub workspace: WorkspaceRef,
    pub material: SigningKeyMaterial,
    pub created_at: DateTime<Utc>,
}
