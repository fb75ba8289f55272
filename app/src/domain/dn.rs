//! Distinguished names for `tls_client_auth` (RFC 8705 §2.1.2): the registered
//! `tls_client_auth_subject_dn` (an RFC 4514 string) against a certificate's subject, compared
//! as sets of attributes. Order does not matter; short names and OIDs are aliases
//! (`organizationIdentifier` = `2.5.4.97`); values compare case-insensitively with spaces
//! collapsed, as X.520's caseIgnoreMatch does.

use std::collections::BTreeSet;

/// Attribute names of RFC 4514 §3, X.520 and the EV / PSD2 certificate profiles, each with
/// its OID (compared lower-case). Any other attribute can be written as a dotted OID.
const ALIASES: [(&str, &str); 35] = [
    ("cn", "2.5.4.3"),
    ("commonname", "2.5.4.3"),
    ("sn", "2.5.4.4"),
    ("surname", "2.5.4.4"),
    ("serialnumber", "2.5.4.5"),
    ("c", "2.5.4.6"),
    ("countryname", "2.5.4.6"),
    ("l", "2.5.4.7"),
    ("localityname", "2.5.4.7"),
    ("st", "2.5.4.8"),
    ("stateorprovincename", "2.5.4.8"),
    ("street", "2.5.4.9"),
    ("streetaddress", "2.5.4.9"),
    ("o", "2.5.4.10"),
    ("organizationname", "2.5.4.10"),
    ("ou", "2.5.4.11"),
    ("organizationalunitname", "2.5.4.11"),
    ("title", "2.5.4.12"),
    ("businesscategory", "2.5.4.15"),
    ("postalcode", "2.5.4.17"),
    ("name", "2.5.4.41"),
    ("givenname", "2.5.4.42"),
    ("initials", "2.5.4.43"),
    ("generationqualifier", "2.5.4.44"),
    ("dnqualifier", "2.5.4.46"),
    ("pseudonym", "2.5.4.65"),
    ("organizationidentifier", "2.5.4.97"),
    ("dc", "0.9.2342.19200300.100.1.25"),
    ("uid", "0.9.2342.19200300.100.1.1"),
    ("emailaddress", "1.2.840.113549.1.9.1"),
    ("e", "1.2.840.113549.1.9.1"),
    ("jurisdictionlocalityname", "1.3.6.1.4.1.311.60.2.1.1"),
    ("jurisdictionstateorprovincename", "1.3.6.1.4.1.311.60.2.1.2"),
    ("jurisdictioncountryname", "1.3.6.1.4.1.311.60.2.1.3"),
    ("jurisdictionc", "1.3.6.1.4.1.311.60.2.1.3"),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum DnError {
    #[error("is empty")]
    Empty,
    #[error("has an attribute without '=': '{0}'")]
    MissingEquals(String),
    #[error("names an unknown attribute type '{0}'")]
    UnknownType(String),
    #[error("has a malformed escape")]
    BadEscape,
}

/// A distinguished name as a set of (OID, normalised value) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName(BTreeSet<(String, String)>);

impl DistinguishedName {
    /// Parses an RFC 4514 string such as `CN=tpp,OU=0015800001HQQrZAAX,O=OpenBanking,C=GB`.
    pub fn parse(text: &str) -> Result<Self, DnError> {
        if text.trim().is_empty() {
            return Err(DnError::Empty);
        }
        let mut attributes = BTreeSet::new();
        for rdn in split_unescaped(text, &[',', ';'])? {
            for attribute in split_unescaped(&rdn, &['+'])? {
                let (kind, value) =
                    attribute.split_once('=').ok_or_else(|| DnError::MissingEquals(attribute.trim().to_owned()))?;
                attributes.insert((oid(kind.trim())?, normalise(&unescape(trim_unescaped(value))?)));
            }
        }
        Ok(Self(attributes))
    }

    /// A name from attribute OIDs (dotted) and values, as read from a certificate.
    pub fn from_attributes<'a>(attributes: impl IntoIterator<Item = (String, &'a str)>) -> Self {
        Self(attributes.into_iter().map(|(oid, value)| (oid, normalise(value))).collect())
    }
}

fn oid(kind: &str) -> Result<String, DnError> {
    if !kind.is_empty() && kind.split('.').all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit())) {
        return Ok(kind.to_owned());
    }
    let lower = kind.to_ascii_lowercase();
    ALIASES
        .iter()
        .find(|(name, _)| *name == lower)
        .map(|(_, oid)| (*oid).to_owned())
        .ok_or_else(|| DnError::UnknownType(kind.to_owned()))
}

fn normalise(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Splits on separators that are not escaped with a backslash (escapes are kept).
fn split_unescaped(text: &str, separators: &[char]) -> Result<Vec<String>, DnError> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                current.push(chars.next().ok_or(DnError::BadEscape)?);
            }
            c if separators.contains(&c) => parts.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    parts.push(current);
    Ok(parts)
}

/// Removes the spaces around a value that RFC 4514 §3 allows, keeping an escaped one (`\ `):
/// a value may end in a space only by escaping it.
fn trim_unescaped(value: &str) -> &str {
    let value = value.trim_start();
    let trimmed = value.trim_end();
    let escapes = trimmed.len() - trimmed.trim_end_matches('\\').len();
    if escapes.is_multiple_of(2) {
        return trimmed;
    }
    // The last backslash escapes the first whitespace character after it.
    let escaped = value[trimmed.len()..].chars().next().map_or(0, char::len_utf8);
    &value[..trimmed.len() + escaped]
}

/// RFC 4514 §2.4: `\` followed by a special character, or by two hex digits of a UTF-8 byte.
fn unescape(value: &str) -> Result<String, DnError> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buffer = [0; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            continue;
        }
        let next = chars.next().ok_or(DnError::BadEscape)?;
        if next.is_ascii_hexdigit() {
            let low = chars.next().filter(char::is_ascii_hexdigit).ok_or(DnError::BadEscape)?;
            let hex = format!("{next}{low}");
            bytes.push(u8::from_str_radix(&hex, 16).map_err(|_| DnError::BadEscape)?);
        } else {
            let mut buffer = [0; 4];
            bytes.extend_from_slice(next.encode_utf8(&mut buffer).as_bytes());
        }
    }
    String::from_utf8(bytes).map_err(|_| DnError::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(text: &str) -> DistinguishedName {
        DistinguishedName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn order_aliases_case_and_spacing_do_not_matter() {
        let registered =
            dn("CN=0015800001HQQrZAAX,organizationIdentifier=PSDGB-OB-Unknown0015800001HQQrZAAX,O=Open Banking,C=GB");
        assert_eq!(registered, dn("C=GB, O=open  banking, 2.5.4.97=PSDGB-OB-Unknown0015800001HQQrZAAX, cn=0015800001HQQrZAAX"));
        assert_ne!(registered, dn("CN=0015800001HQQrZAAX,O=Open Banking,C=GB"), "a missing attribute is a different name");
        assert_ne!(registered, dn("CN=other,organizationIdentifier=PSDGB-OB-Unknown0015800001HQQrZAAX,O=Open Banking,C=GB"));
    }

    #[test]
    fn escapes_and_multivalued_rdns_are_understood() {
        assert_eq!(
            dn(r"CN=TPP\, Ltd,O=x"),
            DistinguishedName::from_attributes([("2.5.4.3".to_owned(), "TPP, Ltd"), ("2.5.4.10".to_owned(), "x")])
        );
        assert_eq!(dn(r"CN=caf\C3\A9"), dn("CN=café"));
        assert_eq!(
            dn(r"CN=\ ,O=a\  ,OU=b\\ "),
            DistinguishedName::from_attributes([
                ("2.5.4.3".to_owned(), " "),
                ("2.5.4.10".to_owned(), "a "),
                ("2.5.4.11".to_owned(), "b\\"),
            ])
        );
        assert_eq!(dn("CN=a+OU=b,C=GB"), dn("OU=b,CN=a,C=GB"));
        assert_eq!(
            dn("businessCategory=Private Organization,jurisdictionC=GB"),
            dn("2.5.4.15=private organization,1.3.6.1.4.1.311.60.2.1.3=gb")
        );
    }

    #[test]
    fn malformed_names_are_refused() {
        assert_eq!(DistinguishedName::parse(""), Err(DnError::Empty));
        assert_eq!(DistinguishedName::parse("CN"), Err(DnError::MissingEquals("CN".into())));
        assert_eq!(DistinguishedName::parse("XYZ=1"), Err(DnError::UnknownType("XYZ".into())));
        assert_eq!(DistinguishedName::parse(r"CN=a\"), Err(DnError::BadEscape));
        assert_eq!(DistinguishedName::parse(r"CN=\ZZ"), Ok(dn("CN=ZZ")), "an escaped non-hex character is itself");
    }
}
