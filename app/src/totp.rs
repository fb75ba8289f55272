//! Time-based one-time passwords (TOTP, RFC 6238) as authenticator apps make them: HMAC-SHA1,
//! six digits, a new code every 30 seconds. A code is accepted in its own step or the one
//! either side (a phone's clock a little off, a code typed as it changed), and each step's code
//! only once: [`matching_step`] says which step a code is, so the caller can refuse a step
//! already used.

use subtle::ConstantTimeEq as _;
use totp_rs::{Algorithm, Secret, TOTP};

/// Digits in a code.
pub const CODE_DIGITS: usize = 6;
/// Seconds a code stands for.
pub const STEP_SECONDS: u64 = 30;
/// Steps either side of now whose codes are accepted.
const ACCEPTED_DRIFT_STEPS: u64 = 1;
/// The random secret's length: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "Onboard";

/// A new random secret, as base32 (how apps and people type it).
pub fn new_secret() -> String {
    Secret::Raw(crate::secrets::random_bytes::<SECRET_BYTES>().to_vec()).to_encoded().to_string()
}

/// The generator for a base32 `secret`, labelled with `account` for authenticator apps; none
/// when it is not base32 of at least 128 bits.
fn generator(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.trim().to_ascii_uppercase()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, CODE_DIGITS, 0, STEP_SECONDS, bytes, Some(ISSUER.to_owned()), account.to_owned()).ok()
}

/// The `otpauth://` address an authenticator app takes (as a QR code) to add `account`.
pub fn enrolment_uri(secret: &str, account: &str) -> Option<String> {
    generator(secret, account).map(|totp| totp.get_url())
}

/// A code as typed: digits, perhaps with spaces (apps show "123 456"); none if it cannot be one.
pub fn typed_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == CODE_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The time step (Unix seconds / [`STEP_SECONDS`]) whose code `code` is, among the step of
/// `now` and those [`ACCEPTED_DRIFT_STEPS`] either side; compared in constant time.
pub fn matching_step(secret: &str, code: &str, now: i64) -> Option<u64> {
    let (totp, code) = (generator(secret, "")?, typed_code(code)?);
    let current = u64::try_from(now).ok()? / STEP_SECONDS;
    let mut matched = None;
    for step in current.saturating_sub(ACCEPTED_DRIFT_STEPS)..=current + ACCEPTED_DRIFT_STEPS {
        // Every candidate is compared, so the time taken says nothing of which matched.
        if bool::from(totp.generate(step * STEP_SECONDS).as_bytes().ct_eq(code.as_bytes())) {
            matched = Some(step);
        }
    }
    matched
}

/// The code of `step`, as an authenticator app shows it (tests and the command line's checks).
pub fn code_at(secret: &str, step: u64) -> Option<String> {
    generator(secret, "").map(|totp| totp.generate(step * STEP_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 secret, "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_are_rfc_6238s() {
        // Appendix B, SHA-1, the last six of each eight-digit value.
        for (time, code) in [(59_u64, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(code_at(RFC_SECRET, time / STEP_SECONDS).as_deref(), Some(code), "at {time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_or_a_neighbours_and_no_other() {
        let now = 1_111_111_109_i64;
        let step = 1_111_111_109 / STEP_SECONDS;
        for (offset, accepted) in [(-2_i64, false), (-1, true), (0, true), (1, true), (2, false)] {
            let at = step.checked_add_signed(offset).unwrap_or_default();
            let code = code_at(RFC_SECRET, at).unwrap_or_default();
            assert_eq!(matching_step(RFC_SECRET, &code, now), accepted.then_some(at), "{offset} steps away");
        }
        assert_eq!(matching_step(RFC_SECRET, "081 804", now), Some(step), "spaces as apps show them");
        for wrong in ["", "08180", "0818044", "08180a", "081805"] {
            assert_eq!(matching_step(RFC_SECRET, wrong, now), None, "{wrong:?}");
        }
    }

    #[test]
    fn a_new_secret_is_160_random_bits_an_app_can_take() {
        let (first, second) = (new_secret(), new_secret());
        assert_ne!(first, second);
        assert_eq!(first.len(), 32, "160 bits of base32: {first}");
        let uri = enrolment_uri(&first, "admin@bank.example").unwrap_or_default();
        assert!(uri.starts_with("otpauth://totp/Onboard:admin%40bank.example?secret="), "{uri}");
        assert!(uri.contains("&issuer=Onboard"), "{uri}");
        assert_eq!(enrolment_uri("not base32!", "a"), None);
        assert_eq!(enrolment_uri("GEZDGNBV", "a"), None, "too short to be a secret");
    }
}
