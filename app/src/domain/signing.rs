//! A workspace's own signing keys: the algorithm, and the public half that is published.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::WorkspaceRef;

/// The JWS algorithms Onboard accepts anywhere and a workspace signs with (FAPI 1 Part 2
/// §8.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JwsAlgorithm {
    /// RSASSA-PSS with SHA-256 (RFC 7518 §3.5).
    #[serde(rename = "PS256")]
    Ps256,
    /// ECDSA with P-256 and SHA-256 (RFC 7518 §3.4).
    #[serde(rename = "ES256")]
    Es256,
}

impl JwsAlgorithm {
    pub const ALL: [Self; 2] = [Self::Ps256, Self::Es256];

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

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key pair made for a workspace. The private half is only ever read to sign.
#[derive(Clone)]
pub struct SigningKeyMaterial {
    pub kid: String,
    pub algorithm: JwsAlgorithm,
    /// The PKCS#8 PEM private key, sealed under the deployment's key encryption key (bound to
    /// `kid`) by the server before anything sees it; only the token signer opens it. `None`
    /// once the key has retired and its private half was erased (see [`keys_to_erase`]).
    pub sealed_private_key: Option<String>,
    /// The public JWK, with `kid`, `use: sig` and `alg`.
    pub public_jwk: Value,
}

impl fmt::Debug for SigningKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyMaterial").field("kid", &self.kid).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

/// A workspace key as the admin API and the console list it: its public half and where it is
/// in its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub algorithm: JwsAlgorithm,
    pub created_at: DateTime<Utc>,
    #[serde(flatten)]
    pub state: KeyState,
    /// The private half is gone: the key retired, and housekeeping erased it.
    pub private_key_erased: bool,
    /// The key that signs the workspace's access tokens now: the signing key of the algorithm
    /// the workspace's settings name. The newest key of the other algorithm is ready, unused.
    pub signs_tokens: bool,
    pub public_jwk: Value,
}

/// A stored signing key.
#[derive(Debug, Clone)]
pub struct WorkspaceSigningKey {
    pub workspace: WorkspaceRef,
    pub material: SigningKeyMaterial,
    pub created_at: DateTime<Utc>,
    /// When it starts signing: when it was made, or later for a planned rotation, which
    /// publishes the key first so verifiers that cache the key set have it before it is used.
    pub signs_from: DateTime<Utc>,
}

/// The longest a planned rotation may publish its key before it signs (30 days).
pub const MAX_PUBLISHED_AHEAD_HOURS: u32 = 720;

/// How long before its hour a planned key can no longer be withdrawn: instances read the keys
/// through a cache and their clocks differ, so one may sign with it a little early, and a
/// token it signed must keep verifying.
pub const WITHDRAWAL_CLOSES_SECONDS_BEFORE: i64 = 300;

/// How long a replaced key stays published: the longest an access token can live (a day) and
/// the clock skew verifiers allow, so every token it signed can still be verified.
pub const REPLACED_KEY_GRACE_SECONDS: i64 = 86_400 + 60;

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyState {
    /// Made by a planned rotation: published, and signing from `signs_from`.
    Next { signs_from: DateTime<Utc> },
    /// The newest key of its algorithm that has started signing: it signs the workspace's
    /// tokens.
    Signing,
    /// Replaced, and still published for the tokens it signed until `until`.
    Retiring { until: DateTime<Utc> },
    /// Replaced long enough ago that no token it signed is still valid: no longer published.
    Retired,
}

impl KeyState {
    pub fn is_published(self) -> bool {
        !matches!(self, Self::Retired)
    }
}

/// Each key's state at `now`, given a workspace's keys newest first: a key signs from its
/// `signs_from`, is replaced once a newer key of its algorithm has started signing, and retires
/// a grace period after that.
pub fn key_states(keys: &[WorkspaceSigningKey], now: DateTime<Utc>) -> Vec<KeyState> {
    keys.iter()
        .enumerate()
        .map(|(index, key)| {
            if key.signs_from > now {
                return KeyState::Next { signs_from: key.signs_from };
            }
            let successor = keys[..index]
                .iter()
                .rev()
                .find(|newer| newer.material.algorithm == key.material.algorithm && newer.signs_from <= now);
            match successor {
                None => KeyState::Signing,
                Some(newer) => {
                    let until = newer.signs_from + chrono::Duration::seconds(REPLACED_KEY_GRACE_SECONDS);
                    if now < until { KeyState::Retiring { until } } else { KeyState::Retired }
                }
            }
        })
        .collect()
}

/// The key of `algorithm` that signs at `now`, of a workspace's keys newest first.
pub fn signing_key(keys: &[WorkspaceSigningKey], algorithm: JwsAlgorithm, now: DateTime<Utc>) -> Option<&WorkspaceSigningKey> {
    keys.iter().find(|key| key.material.algorithm == algorithm && key.signs_from <= now)
}

/// The keys whose private half can go: retired at `now` (no token they signed is still valid,
/// and they are no longer published) and still holding it. `keys` may span workspaces, each
/// workspace's keys together and newest first.
pub fn keys_to_erase(keys: &[WorkspaceSigningKey], now: DateTime<Utc>) -> Vec<&WorkspaceSigningKey> {
    keys.chunk_by(|a, b| a.workspace == b.workspace)
        .flat_map(|workspace_keys| workspace_keys.iter().zip(key_states(workspace_keys, now)))
        .filter(|(key, state)| *state == KeyState::Retired && key.material.sealed_private_key.is_some())
        .map(|(key, _)| key)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::ids::{TenantId, WorkspaceId};

    fn key(kid: &str, algorithm: JwsAlgorithm, hours: i64) -> WorkspaceSigningKey {
        key_in("obuk", kid, algorithm, hours)
    }

    fn key_in(workspace: &str, kid: &str, algorithm: JwsAlgorithm, hours: i64) -> WorkspaceSigningKey {
        let at = WorkspaceRef {
            tenant: TenantId::parse("default").unwrap_or_else(|e| panic!("{e}")),
            workspace: WorkspaceId::parse(workspace).unwrap_or_else(|e| panic!("{e}")),
        };
        WorkspaceSigningKey {
            workspace: at,
            material: SigningKeyMaterial {
                kid: kid.to_owned(),
                algorithm,
                sealed_private_key: Some(format!("sealed {kid}")),
                public_jwk: json!({"kid": kid}),
            },
            created_at: DateTime::from_timestamp(hours * 3600, 0).unwrap_or_default(),
            signs_from: DateTime::from_timestamp(hours * 3600, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_replaced_key_stays_published_for_a_day_after_its_successor_is_made() {
        use JwsAlgorithm::{Es256, Ps256};
        // Newest first: PS256 rotated at hour 10 and again at hour 40; one ES256 key.
        let keys = [key("ps-3", Ps256, 40), key("es-1", Es256, 5), key("ps-2", Ps256, 10), key("ps-1", Ps256, 0)];
        let at_hour = |hours: i64| DateTime::from_timestamp(hours * 3600, 0).unwrap_or_default();
        let until = |hours: i64| KeyState::Retiring { until: at_hour(hours) + chrono::Duration::seconds(60) };
        assert_eq!(key_states(&keys, at_hour(41)), [KeyState::Signing, KeyState::Signing, until(64), KeyState::Retired]);
        assert_eq!(key_states(&keys[2..], at_hour(33)), [KeyState::Signing, until(34)], "before the second rotation");
        assert_eq!(key_states(&keys, at_hour(65)), [KeyState::Signing, KeyState::Signing, KeyState::Retired, KeyState::Retired]);
        assert!(!KeyState::Retired.is_published() && until(1).is_published() && KeyState::Signing.is_published());
    }

    #[test]
    fn a_planned_key_is_published_first_then_signs_and_its_predecessor_retires_a_day_later() {
        use JwsAlgorithm::{Es256, Ps256};
        let at_hour = |hours: i64| DateTime::from_timestamp(hours * 3600, 0).unwrap_or_default();
        // Made at hour 10 to sign from hour 34.
        let planned = WorkspaceSigningKey { signs_from: at_hour(34), ..key("ps-2", Ps256, 10) };
        let keys = [planned, key("es-1", Es256, 5), key("ps-1", Ps256, 0)];
        let next = KeyState::Next { signs_from: at_hour(34) };
        let kid = |hours: i64, algorithm| signing_key(&keys, algorithm, at_hour(hours)).map(|k| k.material.kid.as_str());
        assert_eq!(key_states(&keys, at_hour(11)), [next, KeyState::Signing, KeyState::Signing]);
        assert!(next.is_published(), "published before it signs");
        assert_eq!((kid(11, Ps256), kid(11, Es256)), (Some("ps-1"), Some("es-1")));
        let until = KeyState::Retiring { until: at_hour(58) + chrono::Duration::seconds(60) };
        assert_eq!(key_states(&keys, at_hour(34)), [KeyState::Signing, KeyState::Signing, until], "from its hour on");
        assert_eq!(kid(34, Ps256), Some("ps-2"));
        assert_eq!(key_states(&keys, at_hour(59))[2], KeyState::Retired);
        assert_eq!(signing_key(&keys[..1], Ps256, at_hour(11)).map(|k| k.material.kid.as_str()), None, "none signs yet");
    }

    #[test]
    fn only_retired_keys_still_holding_their_private_half_are_erased_workspace_by_workspace() {
        use JwsAlgorithm::{Es256, Ps256};
        let at_hour = |hours: i64| DateTime::from_timestamp(hours * 3600, 0).unwrap_or_default();
        let mut erased = key("ps-1", Ps256, 0);
        erased.material.sealed_private_key = None;
        // Two workspaces, each newest first. "other" rotated later than "obuk".
        let keys = [
            key("ps-3", Ps256, 40),
            key("es-1", Es256, 5),
            key("ps-2", Ps256, 10),
            erased,
            key_in("other", "other-2", Ps256, 30),
            key_in("other", "other-1", Ps256, 1),
        ];
        let kids = |hours: i64| {
            keys_to_erase(&keys, at_hour(hours)).into_iter().map(|key| key.material.kid.as_str()).collect::<Vec<_>>()
        };
        assert!(kids(34).is_empty(), "ps-2 and other-1 are still published");
        assert_eq!(kids(55), ["other-1"], "a day after its successor; ps-1 has nothing left to erase");
        assert_eq!(kids(65), ["ps-2", "other-1"]);
        assert!(keys_to_erase(&keys[..2], at_hour(1000)).is_empty(), "keys that sign are never erased");
    }
}
