//! Secrets the database keeps and must read back (private keys, administrators' two-step
//! secrets) are stored sealed under the key encryption key, bound to what they are. The key
//! and its cipher live in the server; the console's services seal and open through
//! [`Sealer`].

/// Why a stored value does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealingError {
    #[error("is not sealed")]
    NotSealed,
    #[error("is sealed with key encryption key {0}, not this server's")]
    OtherKey(String),
    #[error("does not open: it was altered, or sealed for another key")]
    Corrupt,
}

/// Seals values under the key encryption key, each bound to a `context` (what it is, e.g. its
/// [`PrivateKeySlot`](crate::storage::PrivateKeySlot)'s), and opens them.
pub trait Sealer: Send + Sync {
    /// `secret` sealed, bound to `context`.
    fn seal(&self, secret: &str, context: &str) -> Result<String, SealingError>;
    /// What [`seal`](Self::seal) sealed for the same `context`.
    fn open(&self, stored: &str, context: &str) -> Result<String, SealingError>;
}
