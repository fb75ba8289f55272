//! Where the certificate revocation lists (CRLs) of a workspace's trusted client CAs are
//! published (`client_crl_uris`).

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use super::dcr::check_fetched_url;
use super::workspace::SettingsError;

/// More lists than this is a misconfiguration: each is fetched and checked on a request.
pub const MAX_CRL_URIS: usize = 8;

/// A URL a CRL is fetched from. Plain `http` is allowed, to any host: CAs publish their lists
/// over `http` (RFC 5280 §4.2.1.13), as a list is signed by its CA. What signing does not stop,
/// an older list replayed, the fetch refuses by the list's `thisUpdate` and number. Which
/// addresses may be reached is the deployment's outbound policy, as for key sets.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CrlUri(Url);

impl CrlUri {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > 2048 {
            return Err("must be at most 2048 characters".to_owned());
        }
        let url = Url::parse(text.trim())
            .map_err(|_| "must be an absolute URL, such as http://crl.directory.example/issuing-ca.crl".to_owned())?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("must use http or https".to_owned());
        }
        check_fetched_url(&url)?;
        Ok(Self(url))
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for CrlUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for CrlUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CrlUri({})", self.0)
    }
}

/// What a workspace's revocation lists say now, as the console shows it under the setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationReport {
    pub lists: Vec<RevocationListReport>,
    /// The subjects of trusted CAs no list fetched is of: a certificate one of them issues has
    /// no known revocation status, and is refused.
    pub uncovered_cas: Vec<String>,
    /// The workspace trusts the sandbox directory, which publishes no list: its certificates
    /// are refused while lists are set.
    pub sandbox_uncovered: bool,
}

/// One list, as the certificate checks see it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationListReport {
    pub uri: String,
    /// What the list says, or why there is none (client certificates are then refused).
    pub state: Result<RevocationListFacts, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationListFacts {
    pub issuer: String,
    /// `YYYY-MM-DD HH:MM UTC`.
    pub next_update: String,
    pub revoked: usize,
    /// Past its next update: the certificates of its issuer are refused until a newer one is had.
    pub stale: bool,
}

/// What is wrong with a list of CRL URLs, if anything: too many, one unusable, or one twice.
pub fn crl_uris_problem(uris: &[String]) -> Option<SettingsError> {
    let problem = |message: String| Some(SettingsError::new("client_crl_uris", message));
    if uris.len() > MAX_CRL_URIS {
        return problem(format!("at most {MAX_CRL_URIS} revocation lists"));
    }
    let mut seen = Vec::with_capacity(uris.len());
    for uri in uris {
        match CrlUri::parse(uri) {
            Err(message) => return problem(format!("'{uri}' {message}")),
            Ok(parsed) if seen.contains(&parsed) => return problem(format!("'{uri}' is listed twice")),
            Ok(parsed) => seen.push(parsed),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crl_urls_are_absolute_http_or_https_without_credentials() {
        assert!(CrlUri::parse("http://crl.directory.example/issuing.crl").is_ok());
        assert!(CrlUri::parse("https://crl.directory.example/issuing.crl").is_ok());
        for (bad, why) in [
            ("ldap://directory.example/cn=CA", "http or https"),
            ("/issuing.crl", "absolute URL"),
            ("http://user:pw@crl.example/a.crl", "credentials"),
            ("http://crl.example/a.crl#x", "fragment"),
        ] {
            let refused = CrlUri::parse(bad).err().unwrap_or_default();
            assert!(refused.contains(why), "{bad}: {refused}");
        }
    }

    #[test]
    fn a_list_of_crl_urls_is_short_usable_and_without_repeats() {
        let list = |uris: &[&str]| uris.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>();
        assert_eq!(crl_uris_problem(&[]), None);
        assert_eq!(crl_uris_problem(&list(&["http://a.example/1.crl", "http://a.example/2.crl"])), None);
        let twice = crl_uris_problem(&list(&["http://a.example/1.crl", "http://a.example/1.crl"]));
        assert!(twice.is_some_and(|p| p.field == "client_crl_uris" && p.message.contains("listed twice")));
        let nine: Vec<String> = (0..9).map(|n| format!("http://a.example/{n}.crl")).collect();
        assert!(crl_uris_problem(&nine).is_some_and(|p| p.message.contains("at most 8")));
        assert!(crl_uris_problem(&list(&["ftp://a.example/1.crl"])).is_some_and(|p| p.message.starts_with("'ftp://")));
    }
}
