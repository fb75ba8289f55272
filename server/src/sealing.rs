//! Private keys at rest: sealed with AES-256-GCM under a key encryption key (KEK) from the
//! configuration, and bound to what they are (their `kid`) so a sealed value cannot be moved to
//! another row. A sealed value reads `sealed:v1:<kek id>:<base64url(nonce ‖ ciphertext ‖ tag)>`;
//! the KEK id (the first 8 bytes of its SHA-256, hex) tells which KEK a database needs.

use std::fmt;
use std::path::Path;

use anyhow::{Context as _, bail};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

pub use app::sealing::SealingError;

const PREFIX: &str = "sealed:v1:";
const KEY_LEN: usize = 32;

/// The key that seals private keys stored in the database.
pub struct KeyEncryptionKey {
    key: LessSafeKey,
    id: String,
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyEncryptionKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// Warns when `path` (`what` it is, e.g. "the key encryption key's file") is open to its
/// group or to others: whoever can read the key encryption key and the database has every
/// private key.
pub(crate) fn warn_if_others_can_read(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(metadata) = std::fs::metadata(path)
        && metadata.permissions().mode() & 0o077 != 0
    {
        let mode = format!("{:o}", metadata.permissions().mode() & 0o777);
        let owner_only = if metadata.is_dir() { "700" } else { "600" };
        tracing::warn!(path = %path.display(), mode, "{what} is open to others than its owner; chmod {owner_only} it");
    }
}

impl KeyEncryptionKey {
    fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        if bytes.len() != KEY_LEN {
            bail!("a key encryption key is {KEY_LEN} bytes (base64url, 43 characters); this one is {}", bytes.len());
        }
        let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| anyhow::anyhow!("not an AES-256 key"))?);
        let id = app::secrets::hex(&Sha256::digest(bytes)[..8]);
        Ok(Self { key, id })
    }

    /// Reads the KEK from `path` (base64url of 32 bytes). Where the file does not exist and
    /// `generate` is set, makes a new one and writes it there, readable by the owner only.
    pub fn load_or_generate(path: &Path, generate: bool) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_if_others_can_read(path, "the key encryption key's file");
                let bytes = URL_SAFE_NO_PAD.decode(text.trim()).context("the key encryption key is not base64url")?;
                Self::from_bytes(&bytes).with_context(|| format!("reading {}", path.display()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound && generate => {
                let mut bytes = [0u8; KEY_LEN];
                aws_lc_rs::rand::fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness for a key encryption key"))?;
                crate::tls::dev_certificates::write(path, &format!("{}\n", URL_SAFE_NO_PAD.encode(bytes)), true)?;
                tracing::info!(
                    path = %path.display(),
                    "generated a key encryption key; back it up, and keep it apart from the database's backups"
                );
                Self::from_bytes(&bytes)
            }
            Err(error) => Err(error).with_context(|| format!("reading the key encryption key {}", path.display())),
        }
    }

    /// Which KEK this is, as sealed values name it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `secret`, bound to `context` (what it is, e.g. a key's `kid`).
    pub fn seal(&self, secret: &str, context: &str) -> Result<String, SealingError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealingError::Corrupt)?;
        let mut sealed = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut sealed)
            .map_err(|_| SealingError::Corrupt)?;
        let mut encoded = nonce.to_vec();
        encoded.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}:{}", self.id, URL_SAFE_NO_PAD.encode(encoded)))
    }

    /// Opens a value [`seal`](Self::seal) made with this KEK for the same `context`.
    pub fn open(&self, stored: &str, context: &str) -> Result<String, SealingError> {
        let (kek, payload) = stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once(':')).ok_or(SealingError::NotSealed)?;
        if kek != self.id {
            return Err(SealingError::OtherKey(kek.to_owned()));
        }
        let mut bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| SealingError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SealingError::Corrupt);
        }
        let mut sealed = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| SealingError::Corrupt)?;
        let opened =
            self.key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed).map_err(|_| SealingError::Corrupt)?;
        String::from_utf8(opened.to_vec()).map_err(|_| SealingError::Corrupt)
    }
}

impl app::sealing::Sealer for KeyEncryptionKey {
    fn seal(&self, secret: &str, context: &str) -> Result<String, SealingError> {
        KeyEncryptionKey::seal(self, secret, context)
    }

    fn open(&self, stored: &str, context: &str) -> Result<String, SealingError> {
        KeyEncryptionKey::open(self, stored, context)
    }
}

/// The KEK id a stored value is sealed with; `None` for a value stored in plaintext (before
/// keys were sealed).
pub fn sealed_with(stored: &str) -> Option<&str> {
    stored.strip_prefix(PREFIX).and_then(|rest| rest.split_once(':')).map(|(kek, _)| kek)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(dir: &tempfile::TempDir, name: &str) -> KeyEncryptionKey {
        KeyEncryptionKey::load_or_generate(&dir.path().join(name), true).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn seals_and_opens_only_for_the_same_key_and_context() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let (first, second) = (kek(&dir, "a"), kek(&dir, "b"));
        let sealed = first.seal("-----BEGIN PRIVATE KEY-----", "kid-1").unwrap_or_default();
        assert!(!sealed.contains("PRIVATE"), "{sealed}");
        assert_eq!(sealed_with(&sealed), Some(first.id()));
        assert_ne!(sealed, first.seal("-----BEGIN PRIVATE KEY-----", "kid-1").unwrap_or_default(), "a fresh nonce each time");
        assert_eq!(first.open(&sealed, "kid-1").as_deref(), Ok("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(first.open(&sealed, "kid-2"), Err(SealingError::Corrupt), "bound to its kid");
        assert_eq!(second.open(&sealed, "kid-1"), Err(SealingError::OtherKey(first.id().to_owned())));
        // One character of the ciphertext changed (never to itself: the character there may
        // already be the replacement).
        let at = sealed.len() - 8;
        let replacement = if sealed.as_bytes()[at] == b'A' { "B" } else { "A" };
        let tampered = format!("{}{replacement}{}", &sealed[..at], &sealed[at + 1..]);
        assert_ne!(tampered, sealed);
        assert_eq!(first.open(&tampered, "kid-1"), Err(SealingError::Corrupt));
        assert_eq!(first.open("-----BEGIN PRIVATE KEY-----", "kid-1"), Err(SealingError::NotSealed));
        assert_eq!(sealed_with("-----BEGIN PRIVATE KEY-----"), None);
    }

    #[test]
    fn the_key_file_is_made_once_owner_only_and_then_reused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("key-encryption-key");
        assert!(KeyEncryptionKey::load_or_generate(&path, false).is_err(), "not made unless asked");
        let made = kek(&dir, "key-encryption-key");
        let mode = std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or_default();
        assert_eq!(mode, 0o600);
        assert_eq!(kek(&dir, "key-encryption-key").id(), made.id());
        std::fs::write(&path, "c2hvcnQ").unwrap_or_else(|e| panic!("{e}"));
        assert!(KeyEncryptionKey::load_or_generate(&path, true).is_err_and(|e| e.to_string().contains("reading")));
    }
}
