//! The DCR settings of a workspace (DESIGN.md, "DCR settings"): whether the register endpoint is
//! on and how it is protected. A change applies to the next request.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::Url;

use super::ids::PolicyId;
use super::jwks::PublicJwks;
use super::sandbox::SANDBOX_ISSUER;
use super::workspace::{Profile, SettingsError};

/// A URL a key set is fetched from. Parsing checks the shape; whether plain `http` is allowed
/// depends on the deployment and is checked by [`JwksUri::check_transport`].
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JwksUri(Url);

impl JwksUri {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text.trim())
            .map_err(|_| "must be an absolute URL, such as https://directory.example/jwks.json".to_owned())?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err("must use https".to_owned());
        }
        check_fetched_url(&url)?;
        if text.len() > 2048 {
            return Err("must be at most 2048 characters".to_owned());
        }
        Ok(Self(url))
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `https` always; plain `http` only to a loopback host, and only when the deployment
    /// allows it (`--allow-insecure-jwks-uris`, for tests and local sandboxes).
    pub fn check_transport(&self, allow_insecure_loopback: bool) -> Result<(), String> {
        match self.0.scheme() {
            "https" => Ok(()),
            "http" if allow_insecure_loopback && self.is_loopback() => Ok(()),
            "http" if allow_insecure_loopback => Err("plain http is allowed only for loopback hosts".to_owned()),
            _ => Err("must use https".to_owned()),
        }
    }

    fn is_loopback(&self) -> bool {
        match self.0.host() {
            Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
            None => false,
        }
    }
}

/// What every URL Onboard fetches from must be: one that names a host, carries no credentials
/// (they would be sent to whoever answers) and has no fragment.
pub fn check_fetched_url(url: &Url) -> Result<(), String> {
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials".to_owned());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".to_owned());
    }
    Ok(())
}

impl TryFrom<String> for JwksUri {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<JwksUri> for String {
    fn from(value: JwksUri) -> Self {
        value.0.into()
    }
}

impl fmt::Debug for JwksUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JwksUri({})", self.0)
    }
}

impl fmt::Display for JwksUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Where verification keys come from: a key set given inline, or a URL to fetch it from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    Jwks(PublicJwks),
    JwksUri(JwksUri),
}

/// A directory whose software statements the workspace trusts: the statement's `iss`, and the
/// keys that verify what it signs. Each issuer has keys of its own, so one directory's keys
/// never verify a statement naming another as its issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftwareStatementIssuer {
    /// The statement's `iss`, compared exactly (e.g. `OpenBanking Ltd`).
    pub issuer: String,
    /// None until given: a partial setup can be saved while registration is off.
    #[serde(default)]
    pub keys: Option<KeySource>,
}

/// Which keys verify a signed registration request.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RequestSigningKeys {
    /// The TPP's own keys, named by its software statement (`software_jwks_endpoint`, or an
    /// inline `software_jwks`): the holder-of-key proof of the OB directory specification.
    #[default]
    SoftwareStatement,
    Jwks(PublicJwks),
    JwksUri(JwksUri),
}

/// The limits a maximum software statement age may take, in seconds: a minute (shorter would
/// refuse statements over ordinary clock skew) to a year.
pub const MAX_SOFTWARE_STATEMENT_AGE_RANGE: std::ops::RangeInclusive<u32> = 60..=31_536_000;

/// How a workspace's register endpoint is governed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[expect(clippy::struct_excessive_bools, reason = "each switch is a documented, independent DCR setting")]
#[serde(deny_unknown_fields)]
pub struct DcrSettings {
    /// Off: the endpoint is not advertised and answers 403 `access_denied`.
    pub enabled: bool,
    /// Requires a single-use bearer token with the `dcr_register` scope.
    #[serde(default)]
    pub protect_by_access_token: bool,
    /// Requires a `software_statement` from one of `software_statement_issuers`.
    pub require_software_statement: bool,
    /// The directories whose statements are trusted, each with its keys. A statement sent
    /// where none is required is verified the same way.
    #[serde(default)]
    pub software_statement_issuers: Vec<SoftwareStatementIssuer>,
    /// The oldest a software statement may be, counted from its `iat`, in seconds; none for no
    /// limit. OB statements carry no `exp`, and the directory specification leaves their
    /// lifetime to the bank ("pragmatic time ranges", such as a minute for statements fetched
    /// to register). With a limit, a statement without `iat` is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_software_statement_age_seconds: Option<u32>,
    /// Requires the body to be a JWS (`application/jose` or `application/jwt`).
    pub require_signed_request: bool,
    #[serde(default)]
    pub request_signing_keys: RequestSigningKeys,
    /// Requires a client certificate that chains to the workspace's trusted CAs.
    pub require_mtls: bool,
    /// Requires the client certificate to be one of the software's transport certificates: a
    /// `use: tls` key, with the certificate as its `x5c[0]`, in the key set the software
    /// statement names (OBUK DCR step 7). A registration then proves it comes from the software
    /// the statement describes, not from another TPP holding a copy of its signed request.
    #[serde(default)]
    pub bind_transport_certificate: bool,
    /// Trusts the tenant's sandbox directory besides the configured keys and CAs: its
    /// software statements, its transport certificates and its software's key sets. For test
    /// workspaces; off unless switched on.
    #[serde(default)]
    pub trust_sandbox_directory: bool,
    /// The DCR policy every registration must also pass, if any (a policy of this workspace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<PolicyId>,
}

impl DcrSettings {
    /// What a new workspace starts with: off, and for Open Banking UK the full OB protections
    /// ready to go once keys and issuers are configured.
    pub fn defaults_for(profile: Profile) -> Self {
        let obuk = profile == Profile::OpenbankingUk;
        Self {
            enabled: false,
            protect_by_access_token: false,
            require_software_statement: obuk,
            software_statement_issuers: Vec::new(),
            max_software_statement_age_seconds: None,
            require_signed_request: obuk,
            request_signing_keys: RequestSigningKeys::SoftwareStatement,
            require_mtls: obuk,
            bind_transport_certificate: obuk,
            trust_sandbox_directory: false,
            policy_id: None,
        }
    }

    /// The trusted issuer named `issuer`, if any.
    pub fn software_statement_issuer(&self, issuer: &str) -> Option<&SoftwareStatementIssuer> {
        self.software_statement_issuers.iter().find(|trusted| trusted.issuer == issuer)
    }

    /// The JWKS URIs these settings fetch keys from, each with the field that names it.
    pub fn jwks_uris(&self) -> Vec<(String, &JwksUri)> {
        let mut uris = Vec::new();
        for (index, trusted) in self.software_statement_issuers.iter().enumerate() {
            if let Some(KeySource::JwksUri(uri)) = &trusted.keys {
                uris.push((format!("software_statement_issuers[{index}].keys.jwks_uri"), uri));
            }
        }
        if let RequestSigningKeys::JwksUri(uri) = &self.request_signing_keys {
            uris.push(("request_signing_keys.jwks_uri".to_owned(), uri));
        }
        uris
    }

    /// Rules across fields, checked on save: the first that fails. See [`Self::problems`].
    pub fn validate(&self, allow_insecure_jwks_uris: bool) -> Result<(), SettingsError> {
        self.problems(allow_insecure_jwks_uris).into_iter().next().map_or(Ok(()), Err)
    }

    /// Every rule across fields that fails, in the order of the form. Key sources are always
    /// checked; what an enabled endpoint needs to work binds only once `enabled` is on, so a
    /// partial setup can be saved.
    pub fn problems(&self, allow_insecure_jwks_uris: bool) -> Vec<SettingsError> {
        let mut problems: Vec<SettingsError> = self
            .jwks_uris()
            .into_iter()
            .filter_map(|(field, uri)| uri.check_transport(allow_insecure_jwks_uris).err().map(|m| SettingsError::new(field, m)))
            .collect();
        problems.extend(self.issuer_problems());
        if let Some(age) = self.max_software_statement_age_seconds
            && !MAX_SOFTWARE_STATEMENT_AGE_RANGE.contains(&age)
        {
            problems.push(SettingsError::new(
                "max_software_statement_age_seconds",
                format!(
                    "must be from {} seconds (one minute) to {} seconds (one year), or empty for no limit",
                    MAX_SOFTWARE_STATEMENT_AGE_RANGE.start(),
                    MAX_SOFTWARE_STATEMENT_AGE_RANGE.end()
                ),
            ));
        }
        if !self.enabled {
            return problems;
        }
        if self.require_software_statement && !self.trust_sandbox_directory && self.software_statement_issuers.is_empty() {
            problems.push(SettingsError::new(
                "software_statement_issuers",
                "name at least one issuer while software statements are required, or trust the sandbox directory",
            ));
        }
        for (index, trusted) in self.software_statement_issuers.iter().enumerate() {
            if trusted.keys.is_none() {
                problems.push(SettingsError::new(
                    format!("software_statement_issuers[{index}].keys"),
                    format!("'{}' needs its keys to verify its statements: give a JWKS or a JWKS URI", trusted.issuer),
                ));
            }
        }
        if self.require_signed_request
            && self.request_signing_keys == RequestSigningKeys::SoftwareStatement
            && !self.require_software_statement
        {
            problems.push(SettingsError::new(
                "request_signing_keys",
                "keys from the software statement need software statements to be required; \
                 require them, or give a JWKS or a JWKS URI",
            ));
        }
        if self.bind_transport_certificate && !(self.require_software_statement && self.require_mtls) {
            problems.push(SettingsError::new(
                "bind_transport_certificate",
                "binding the client certificate to the software statement needs both software statements and mutual TLS \
                 to be required",
            ));
        }
        problems
    }

    /// Each issuer is named once, by a usable `iss`, and not by the sandbox directory's (which
    /// `trust_sandbox_directory` trusts, with the directory's own keys).
    fn issuer_problems(&self) -> Vec<SettingsError> {
        let mut problems = Vec::new();
        for (index, trusted) in self.software_statement_issuers.iter().enumerate() {
            let field = format!("software_statement_issuers[{index}].issuer");
            let name = &trusted.issuer;
            let problem = if name.trim().is_empty() {
                "name the issuer: the software statement's iss".to_owned()
            } else if name.trim() != name || name.len() > 256 {
                format!("'{name}' is not a usable issuer: at most 256 characters, without leading or trailing spaces")
            } else if name == SANDBOX_ISSUER {
                format!(
                    "'{name}' is the sandbox directory's issuer: trust the sandbox directory instead, which verifies with its own keys"
                )
            } else if self.software_statement_issuers[..index].iter().any(|earlier| earlier.issuer == *name) {
                format!("'{name}' is listed twice: give each issuer once, with its keys")
            } else {
                continue;
            };
            problems.push(SettingsError::new(field, problem));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn jwks() -> serde_json::Value {
        let c = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc";
        json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": c, "y": c}]})
    }

    fn enabled_obuk() -> serde_json::Value {
        json!({
            "enabled": true,
            "require_software_statement": true,
            "software_statement_issuers": [{"issuer": "OpenBanking Ltd", "keys": {"jwks": jwks()}}],
            "require_signed_request": true,
            "request_signing_keys": "software_statement",
            "require_mtls": true
        })
    }

    fn parse(value: serde_json::Value) -> Result<DcrSettings, String> {
        serde_json::from_value::<DcrSettings>(value).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_the_documented_shape() {
        let settings = parse(enabled_obuk()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.validate(false), Ok(()));
        let directory = settings.software_statement_issuer("OpenBanking Ltd").unwrap_or_else(|| panic!("trusted"));
        assert!(matches!(directory.keys, Some(KeySource::Jwks(_))));
        assert_eq!(settings.software_statement_issuer("Another Directory"), None);
        assert_eq!(settings.request_signing_keys, RequestSigningKeys::SoftwareStatement);

        let mut uri = enabled_obuk();
        uri["request_signing_keys"] = json!({"jwks_uri": "https://keys.tpp.example/jwks"});
        assert!(matches!(parse(uri).map(|s| s.request_signing_keys), Ok(RequestSigningKeys::JwksUri(_))));
    }

    #[test]
    fn refuses_unknown_fields_and_bad_keys() {
        let mut unknown = enabled_obuk();
        unknown["colour"] = json!("red");
        assert!(parse(unknown).is_err());

        let mut private = enabled_obuk();
        private["software_statement_issuers"][0]["keys"]["jwks"]["keys"][0]["d"] = json!("secret");
        assert!(parse(private).is_err_and(|e| e.contains("private key material")));

        let mut not_url = enabled_obuk();
        not_url["software_statement_issuers"][0]["keys"] = json!({"jwks_uri": "keys.example"});
        assert!(parse(not_url).is_err());

        // The shape before issuers had keys of their own is refused, not half read.
        let mut shared = enabled_obuk();
        shared["software_statement_keys"] = json!({"jwks": jwks()});
        assert!(parse(shared).is_err_and(|e| e.contains("software_statement_keys")));
    }

    #[test]
    fn jwks_uris_need_https_unless_loopback_is_allowed() {
        let uri = |s: &str| JwksUri::parse(s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(uri("https://a.example/j").check_transport(false), Ok(()));
        assert!(uri("http://127.0.0.1:9/j").check_transport(false).is_err());
        assert_eq!(uri("http://127.0.0.1:9/j").check_transport(true), Ok(()));
        assert_eq!(uri("http://localhost:9/j").check_transport(true), Ok(()));
        assert!(uri("http://a.example/j").check_transport(true).is_err());
        assert!(JwksUri::parse("ftp://a.example/j").is_err());
        assert!(JwksUri::parse("https://user:pw@a.example/j").is_err());
    }

    #[test]
    fn cross_field_rules_name_their_field() {
        let field = |mutate: &dyn Fn(&mut serde_json::Value)| {
            let mut value = enabled_obuk();
            mutate(&mut value);
            parse(value).ok().and_then(|s| s.validate(false).err()).map(|e| e.field)
        };
        assert_eq!(
            field(&|v| v["software_statement_issuers"][0]["keys"] = json!(null)).as_deref(),
            Some("software_statement_issuers[0].keys")
        );
        assert_eq!(field(&|v| v["software_statement_issuers"] = json!([])).as_deref(), Some("software_statement_issuers"));
        assert_eq!(
            field(&|v| v["software_statement_issuers"][0]["keys"] = json!({"jwks_uri": "http://a.example/j"})).as_deref(),
            Some("software_statement_issuers[0].keys.jwks_uri")
        );
        assert_eq!(
            field(&|v| {
                v["require_software_statement"] = json!(false);
            })
            .as_deref(),
            Some("request_signing_keys")
        );
        for (age, refused) in [(59, true), (60, false), (31_536_000, false), (31_536_001, true)] {
            let outcome = field(&|v| v["max_software_statement_age_seconds"] = json!(age));
            assert_eq!(outcome.is_some(), refused, "{age}: {outcome:?}");
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let enabled = DcrSettings { enabled: true, ..DcrSettings::defaults_for(Profile::OpenbankingUk) };
        let fields: Vec<String> = enabled.problems(false).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["software_statement_issuers"]);
        let sandbox = DcrSettings { trust_sandbox_directory: true, ..enabled };
        assert_eq!(sandbox.problems(false), []);
    }

    #[test]
    fn each_issuer_is_named_once_by_a_usable_iss() {
        let issuer = |name: &str| json!({"issuer": name, "keys": {"jwks": jwks()}});
        let problems = |issuers: serde_json::Value| {
            let mut value = enabled_obuk();
            value["software_statement_issuers"] = issuers;
            let settings = parse(value).unwrap_or_else(|e| panic!("{e}"));
            settings.problems(false).into_iter().map(|p| (p.field, p.message)).collect::<Vec<_>>()
        };
        assert_eq!(problems(json!([issuer("OpenBanking Ltd"), issuer("Other Directory")])), []);
        let found = problems(json!([
            issuer("OpenBanking Ltd"),
            issuer(" "),
            issuer("OpenBanking Ltd"),
            issuer(" padded"),
            issuer(&"x".repeat(257)),
            issuer(SANDBOX_ISSUER),
        ]));
        let fields: Vec<&str> = found.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, (1..=5).map(|i| format!("software_statement_issuers[{i}].issuer")).collect::<Vec<_>>(), "{found:?}");
        assert!(found[1].1.contains("listed twice") && found[4].1.contains("sandbox directory"), "{found:?}");

        // Keys are needed only once registration is on: a partial setup can be saved.
        let mut partial = enabled_obuk();
        partial["software_statement_issuers"][0]["keys"] = json!(null);
        partial["enabled"] = json!(false);
        assert_eq!(parse(partial).map(|s| s.problems(false)), Ok(vec![]));
    }

    #[test]
    fn defaults_are_off_and_valid() {
        let obuk = DcrSettings::defaults_for(Profile::OpenbankingUk);
        assert!(!obuk.enabled && obuk.require_mtls && obuk.require_signed_request);
        assert_eq!(obuk.validate(false), Ok(()));
        let generic = DcrSettings::defaults_for(Profile::Generic);
        assert_eq!(generic.validate(false), Ok(()));
        let enabled_without_keys = DcrSettings { enabled: true, ..obuk };
        assert!(enabled_without_keys.validate(false).is_err());
    }
}
