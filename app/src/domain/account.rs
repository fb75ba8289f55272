//! Console administrators.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An administrator as stored. The password hash never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// Who is signed in to the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Administrator {
    pub id: String,
    pub email: String,
}

/// An administrator account and when it last signed in, as the store lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccount {
    pub user: AdminUser,
    pub last_signed_in_at: Option<DateTime<Utc>>,
    /// The wrong codes given since the last right one while they sign in with a code from an
    /// authenticator app too; none while they do not.
    pub two_step_wrong_codes: Option<i32>,
    /// Recovery codes not used yet (none while two-step sign-in is off).
    pub recovery_codes_left: i64,
}

/// Whether an administrator signs in in two steps, as the Administrators page shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoStepState {
    Off,
    On,
    /// Too many wrong codes in a row: no code is taken until an operator resets it.
    Blocked,
}

/// Whether an administrator signs in in two steps: since when, if they do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepStatus {
    pub enabled_at: Option<DateTime<Utc>>,
    /// Recovery codes not used yet (none while it is off).
    pub recovery_codes_left: u32,
    /// Whether the deployment requires every administrator to sign in in two steps.
    pub required: bool,
}

/// A fresh secret for an administrator's authenticator app, as the account page shows it while
/// two-step sign-in is being set up. Nothing is stored until a code from it is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoStepSetup {
    /// Base32, in groups of four, for typing into an app.
    pub secret: String,
    /// The `otpauth://` address an app takes.
    pub uri: String,
    /// That address as a QR code: a `data:` URL of an SVG image.
    pub qr_code: String,
}

/// An administrator's two-step sign-in, as stored: the authenticator app's secret, sealed
/// under the key encryption key, and the last time step (Unix seconds / 30) a code was
/// accepted in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTwoStep {
    pub secret_sealed: String,
    /// Epoch seconds.
    pub enabled_at: i64,
    pub last_used_step: i64,
    /// Wrong codes given since the last right one.
    pub failed_codes: i32,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
}

/// At or under this many recovery codes left, the console warns: on the owner's account page,
/// and on the Administrators page.
pub const RECOVERY_CODES_RUNNING_LOW: u32 = 2;

/// An administrator as the Administrators page lists them: nothing secret, nothing another
/// administrator could act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdministratorOverview {
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub last_signed_in_at: Option<DateTime<Utc>>,
    /// How many sessions are signed in as them now.
    pub signed_in_sessions: u64,
    /// Whether they sign in with a code from an authenticator app too.
    pub two_step: TwoStepState,
    /// While two-step sign-in is on: the recovery codes they have not used yet (how many, never
    /// which), so one running out can be told to make new ones before losing their phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_codes_left: Option<u32>,
    /// Until when sign-in as their address is locked after failed attempts, if it is now.
    pub locked_until: Option<DateTime<Utc>>,
    /// Whether they are the administrator asking (left out when false, so the admin API, which
    /// no administrator asks, does not say it of everyone).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub you: bool,
}

/// The fewest characters an administrator's password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest a password may be, in bytes (a longer one is refused before any hashing).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Normalises an e-mail address for lookup: trimmed, lower-case.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible e-mail address: something@something.something, no spaces, control characters
/// or invisible formatting ([`is_invisible`]), at most 254 characters.
pub fn is_email(email: &str) -> bool {
    let email = email.trim();
    email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || is_invisible(c))
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
}

/// Characters that show nothing, or turn the text around them (zero-width and bidirectional
/// marks, the soft hyphen, the byte-order mark): an address holding one could pass, in a list,
/// for another administrator's.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_addresses() {
        assert!(is_email("admin@bank.example"));
        assert!(!is_email("admin"));
        assert!(!is_email("admin@localhost"));
        assert!(!is_email("a b@bank.example"));
        assert!(!is_email("a\0b@bank.example"), "PostgreSQL cannot even look it up");
        assert!(!is_email("a\u{1b}b@bank.example"));
        for invisible in ["ad\u{200B}min@bank.example", "admin@bank\u{202E}.example", "\u{FEFF}admin@bank.example"] {
            assert!(!is_email(invisible), "{invisible:?} could pass for another address");
        }
        assert_eq!(normalise_email(" Admin@Bank.Example "), "admin@bank.example");
    }
}
