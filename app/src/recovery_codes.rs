//! Recovery codes of two-step sign-in: [`COUNT`] one-time codes an administrator keeps apart
//! from their phone, each standing in once for a code from the authenticator app. A code is 80
//! random bits in Crockford's base32 (no I, L, O or U to misread), shown in groups of four:
//! `7k2m-q9xd-4hvt-0bcn`. Typed back, case, spaces and hyphens do not matter, and the letters
//! people confuse with digits read as those digits. Only each code's SHA-256 is stored: 80 bits
//! leave nothing to guess offline, so no slow hash is needed.

use crate::secrets::{Secret, SecretHash, random_bytes};

/// Codes made at a time; making new ones replaces all of them.
pub const COUNT: usize = 10;
/// Symbols in a code, without its hyphens.
const SYMBOLS: usize = 16;
/// Crockford's base32, lowercase.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// [`COUNT`] new codes, as their symbols (to show: [`shown`]; to store: [`stored_hash`]).
pub fn new_codes() -> Vec<String> {
    (0..COUNT).map(|_| encoded(random_bytes::<10>())).collect()
}

/// 80 bits as [`SYMBOLS`] base32 symbols, five bits each, the first bits first.
fn encoded(bytes: [u8; 10]) -> String {
    let bits = bytes.iter().fold(0_u128, |bits, byte| (bits << 8) | u128::from(*byte));
    (0..SYMBOLS).rev().map(|at| char::from(ALPHABET[usize::try_from((bits >> (at * 5)) & 31).unwrap_or(0)])).collect()
}

/// A code's symbols as shown: in groups of four, joined by hyphens (`xxxx-xxxx-xxxx-xxxx`).
pub fn shown(symbols: &str) -> String {
    symbols.as_bytes().chunks(4).map(|group| String::from_utf8_lossy(group).into_owned()).collect::<Vec<_>>().join("-")
}

/// The code `typed` is, as its symbols, if it has a recovery code's shape (a six-digit app code
/// does not): spaces and hyphens left out, letters lowercase, `i` and `l` read as `1` and `o` as
/// `0`.
pub fn normalised(typed: &str) -> Option<String> {
    let symbols: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    (symbols.len() == SYMBOLS && symbols.bytes().all(|symbol| ALPHABET.contains(&symbol))).then_some(symbols)
}

/// What is stored of a code (as [`normalised`]).
pub fn stored_hash(symbols: &str) -> SecretHash {
    Secret::from_given(symbols.to_owned()).hash()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eighty_random_bits_in_groups_of_four() {
        let codes: Vec<_> = new_codes().iter().map(|symbols| shown(symbols)).collect();
        assert_eq!(codes.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(code.split('-').map(str::len).collect::<Vec<_>>(), [4, 4, 4, 4], "{code}");
            assert_eq!(normalised(code).map(|symbols| shown(&symbols)).as_deref(), Some(code.as_str()));
        }
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        assert_eq!(encoded([0; 10]), "0000000000000000");
        assert_eq!(encoded([0xff; 10]), "zzzzzzzzzzzzzzzz");
        // 0x08 is 00001000: the first symbol is 00001, the second 000 then 00 of the next byte.
        assert_eq!(encoded([0x08, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "1000000000000001");
    }

    #[test]
    fn typed_codes_are_read_leniently_and_app_codes_are_not_recovery_codes() {
        assert_eq!(normalised("7K2M Q9XD-4HVT-0BCN").as_deref(), Some("7k2mq9xd4hvt0bcn"));
        assert_eq!(normalised("7k2m-q9xd-4hvt-obcn").as_deref(), Some("7k2mq9xd4hvt0bcn"), "o read as zero");
        assert_eq!(normalised("IL00-0000-0000-0000").as_deref(), Some("1100000000000000"));
        for not_one in
            ["123456", "123 456", "7k2m-q9xd-4hvt-0bc", "7k2m-q9xd-4hvt-0bcnn", "7k2m-q9xd-4hvt-0bcu", "7k2m-q9xd-4hvt-0bc!"]
        {
            assert_eq!(normalised(not_one), None, "{not_one}");
        }
        assert_eq!(stored_hash("7k2mq9xd4hvt0bcn"), stored_hash(&normalised("7K2M-Q9XD-4HVT-0BCN").unwrap()));
    }
}
