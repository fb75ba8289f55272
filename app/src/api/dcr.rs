//! Server functions of a workspace's DCR tab.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// The DCR settings as the tab edits them: keys as text, each trusted issuer with its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::struct_excessive_bools, reason = "one per switch of the tab, as the settings have them")]
pub struct DcrForm {
    pub enabled: bool,
    pub protect_by_access_token: bool,
    pub require_software_statement: bool,
    /// The trusted issuers; a row left wholly blank is none.
    pub ssa_issuers: Vec<IssuerForm>,
    /// Seconds, or empty for no limit.
    pub max_software_statement_age_seconds: String,
    pub require_signed_request: bool,
    /// `software_statement`, `jwks` or `jwks_uri`.
    pub request_keys_kind: String,
    pub request_jwks: String,
    pub request_jwks_uri: String,
    pub require_mtls: bool,
    pub bind_transport_certificate: bool,
    pub trust_sandbox_directory: bool,
    /// A policy id, or empty for none.
    pub policy_id: String,
}

/// A trusted software statement issuer as the tab edits it: its `iss`, and its keys as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerForm {
    pub issuer: String,
    /// `jwks` or `jwks_uri`.
    pub keys_kind: String,
    pub jwks: String,
    pub jwks_uri: String,
}

impl Default for IssuerForm {
    fn default() -> Self {
        Self { issuer: String::new(), keys_kind: "jwks".to_owned(), jwks: String::new(), jwks_uri: String::new() }
    }
}

impl IssuerForm {
    /// No name and no keys (text left in the key source not chosen does not count): the row
    /// stands for no issuer.
    pub fn is_blank(&self) -> bool {
        self.issuer.trim().is_empty() && self.keys_given().is_none()
    }

    /// The keys given, as compared between issuers: the chosen source, and its text; a key
    /// set that is JSON is compared as JSON (its layout and the order of its members aside).
    /// None when none are given.
    fn keys_given(&self) -> Option<(&str, String)> {
        let text = if self.keys_kind == "jwks" { self.jwks.trim() } else { self.jwks_uri.trim() };
        let canonical = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(json) if self.keys_kind == "jwks" => json.to_string(),
            _ => text.to_owned(),
        };
        (!canonical.is_empty()).then_some((self.keys_kind.as_str(), canonical))
    }
}

impl DcrForm {
    /// What these settings leave out of the Open Banking UK DCR profile, a sentence each, for
    /// an Open Banking UK workspace's tab. Such a workspace may run without them (a test
    /// set-up, a bank's own rule), but its registrations are then not the ones the OB
    /// specification describes, and the tab says so.
    pub fn open_banking_departures(&self) -> Vec<&'static str> {
        let mut departures = Vec::new();
        if !self.require_software_statement {
            departures
                .push("Software statements are not required: a registration need not describe software a directory approved.");
        }
        if !self.require_signed_request {
            departures.push(
                "Request bodies need not be signed: nothing proves the caller holds the TPP's keys, and a request's iat, exp, aud \
                 and jti are not checked.",
            );
        } else if self.request_keys_kind != "software_statement" {
            departures
                .push("Requests are verified with the keys configured here, not with the keys the software statement names.");
        }
        if !self.require_mtls {
            departures.push("Mutual TLS is not required: a registration need not come with a certificate from a trusted CA.");
        } else if self.require_software_statement && !self.bind_transport_certificate {
            departures.push(
                "The client certificate is not bound to the software statement: another TPP holding a copy of a signed request \
                 could register with it.",
            );
        }
        if self.trust_sandbox_directory {
            departures.push("The sandbox directory is trusted: its test software can register here.");
        }
        departures
    }

    /// Issuers given the same keys, named in pairs: the holder of those keys can sign
    /// statements in either's name. (Settings saved before each issuer had keys of its own
    /// gave every issuer the one key set.)
    pub fn issuers_sharing_keys(&self) -> Vec<(String, String)> {
        let given: Vec<_> = self
            .ssa_issuers
            .iter()
            .filter(|row| !row.issuer.trim().is_empty())
            .filter_map(|row| row.keys_given().map(|keys| (row.issuer.trim(), keys)))
            .collect();
        let mut pairs = Vec::new();
        for (index, (issuer, keys)) in given.iter().enumerate() {
            if let Some((earlier, _)) = given[..index].iter().find(|(_, other)| other == keys) {
                pairs.push(((*earlier).to_owned(), (*issuer).to_owned()));
            }
        }
        pairs
    }
}

#[cfg(feature = "ssr")]
impl DcrForm {
    /// The indexes of the issuer rows the settings keep, in order: the settings' issuer `n`
    /// is the row at the `n`th of them.
    fn kept_issuer_rows(&self) -> Vec<usize> {
        self.ssa_issuers.iter().enumerate().filter(|(_, row)| !row.is_blank()).map(|(index, _)| index).collect()
    }

    fn from_settings(settings: &crate::domain::dcr::DcrSettings) -> Self {
        use crate::domain::dcr::{KeySource, RequestSigningKeys};
        let pretty = |jwks: &crate::domain::jwks::PublicJwks| serde_json::to_string_pretty(jwks.as_json()).unwrap_or_default();
        let ssa_issuers = settings
            .software_statement_issuers
            .iter()
            .map(|trusted| {
                let issuer = trusted.issuer.clone();
                match &trusted.keys {
                    None => IssuerForm { issuer, ..IssuerForm::default() },
                    Some(KeySource::Jwks(jwks)) => IssuerForm { issuer, jwks: pretty(jwks), ..IssuerForm::default() },
                    Some(KeySource::JwksUri(uri)) => IssuerForm {
                        issuer,
                        keys_kind: "jwks_uri".to_owned(),
                        jwks_uri: uri.to_string(),
                        ..IssuerForm::default()
                    },
                }
            })
            .collect();
        let (request_keys_kind, request_jwks, request_jwks_uri) = match &settings.request_signing_keys {
            RequestSigningKeys::SoftwareStatement => ("software_statement", String::new(), String::new()),
            RequestSigningKeys::Jwks(jwks) => ("jwks", pretty(jwks), String::new()),
            RequestSigningKeys::JwksUri(uri) => ("jwks_uri", String::new(), uri.to_string()),
        };
        Self {
            enabled: settings.enabled,
            protect_by_access_token: settings.protect_by_access_token,
            require_software_statement: settings.require_software_statement,
            ssa_issuers,
            max_software_statement_age_seconds: settings
                .max_software_statement_age_seconds
                .map(|seconds| seconds.to_string())
                .unwrap_or_default(),
            require_signed_request: settings.require_signed_request,
            request_keys_kind: request_keys_kind.to_owned(),
            request_jwks,
            request_jwks_uri,
            require_mtls: settings.require_mtls,
            bind_transport_certificate: settings.bind_transport_certificate,
            trust_sandbox_directory: settings.trust_sandbox_directory,
            policy_id: settings.policy_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        }
    }

    /// The settings this form describes; a problem names the form field it concerns.
    fn to_settings(&self) -> Result<crate::domain::dcr::DcrSettings, ServerFnError> {
        use crate::domain::dcr::{DcrSettings, JwksUri, KeySource, RequestSigningKeys, SoftwareStatementIssuer};
        use crate::domain::jwks::{PublicJwks, Strictness};
        let jwks = |field: &str, text: &str| {
            PublicJwks::parse_str(text, Strictness::Strict).map_err(|e| crate::api::errors::invalid(format!("{field}: {e}")))
        };
        let uri =
            |field: &str, text: &str| JwksUri::parse(text).map_err(|e| crate::api::errors::invalid(format!("{field}: {e}")));
        // No keys given is no keys configured: whether some are needed is the settings' rule.
        let mut software_statement_issuers = Vec::new();
        for index in self.kept_issuer_rows() {
            let row = &self.ssa_issuers[index];
            let field = |name: &str| format!("ssa_issuers[{index}].{name}");
            let keys = match row.keys_kind.as_str() {
                _ if row.keys_given().is_none() => None,
                "jwks" => Some(KeySource::Jwks(jwks(&field("jwks"), &row.jwks)?)),
                "jwks_uri" => Some(KeySource::JwksUri(uri(&field("jwks_uri"), &row.jwks_uri)?)),
                other => {
                    return Err(crate::api::errors::invalid(format!("{}: '{other}' is not a key source", field("keys_kind"))));
                }
            };
            software_statement_issuers.push(SoftwareStatementIssuer { issuer: row.issuer.trim().to_owned(), keys });
        }
        let request_signing_keys = match self.request_keys_kind.as_str() {
            "jwks" => RequestSigningKeys::Jwks(jwks("request_jwks", &self.request_jwks)?),
            "jwks_uri" => RequestSigningKeys::JwksUri(uri("request_jwks_uri", &self.request_jwks_uri)?),
            "software_statement" => RequestSigningKeys::SoftwareStatement,
            other => return Err(crate::api::errors::invalid(format!("request_keys_kind: '{other}' is not a key source"))),
        };
        Ok(DcrSettings {
            enabled: self.enabled,
            protect_by_access_token: self.protect_by_access_token,
            require_software_statement: self.require_software_statement,
            software_statement_issuers,
            max_software_statement_age_seconds: match self.max_software_statement_age_seconds.trim() {
                "" => None,
                seconds => Some(seconds.parse().map_err(|_| {
                    crate::api::errors::invalid(
                        "max_software_statement_age_seconds: must be a whole number of seconds, or empty for no limit",
                    )
                })?),
            },
            require_signed_request: self.require_signed_request,
            request_signing_keys,
            require_mtls: self.require_mtls,
            bind_transport_certificate: self.bind_transport_certificate,
            trust_sandbox_directory: self.trust_sandbox_directory,
            policy_id: match self.policy_id.trim() {
                "" => None,
                id => Some(
                    crate::domain::ids::PolicyId::parse(id)
                        .map_err(|e| crate::api::errors::invalid(format!("policy_id: {e}")))?,
                ),
            },
        })
    }
}

/// Names a settings error by the form field it concerns. An issuer's problem names its row;
/// "name at least one issuer" names the first row's issuer, where the name goes.
#[cfg(feature = "ssr")]
fn form_field(field: &str, form: &DcrForm) -> String {
    let key_field = |prefix: &str, separator: char, kind: &str| match kind {
        "jwks" => format!("{prefix}{separator}jwks"),
        "jwks_uri" => format!("{prefix}{separator}jwks_uri"),
        _ => format!("{prefix}{separator}keys_kind"),
    };
    if field == "software_statement_issuers" {
        // None is named: the tab shows where the first name goes.
        return "ssa_issuers[0].issuer".to_owned();
    }
    let rows = form.kept_issuer_rows();
    if let Some((index, member)) = field
        .strip_prefix("software_statement_issuers[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(index, member)| Some((rows.get(index.parse::<usize>().ok()?).copied()?, member)))
    {
        let prefix = format!("ssa_issuers[{index}]");
        return match member {
            m if m.starts_with(".keys") => key_field(&prefix, '.', &form.ssa_issuers[index].keys_kind),
            _ => format!("{prefix}.issuer"),
        };
    }
    match field {
        f if f.starts_with("request_signing_keys") => key_field("request", '_', &form.request_keys_kind),
        other => other.to_owned(),
    }
}

#[server(prefix = "/app/fn", endpoint = "get_dcr_form")]
pub async fn get_dcr_form(tenant: String, workspace: String) -> Result<DcrForm, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let settings = crate::services::dcr_settings::get_dcr_settings(&app_state()?, &at).await.map_err(user_error)?;
    Ok(DcrForm::from_settings(&settings))
}

#[server(prefix = "/app/fn", endpoint = "save_dcr_settings", input = Json)]
pub async fn save_dcr_settings(tenant: String, workspace: String, form: DcrForm) -> Result<DcrForm, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_confirmed_administrator};
    use crate::services::ServiceError;
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let settings = form.to_settings()?;
    let state = app_state()?;
    let problems = crate::services::dcr_settings::dcr_settings_problems(&state, &at, &settings).await.map_err(user_error)?;
    if !problems.is_empty() {
        // Each problem names its form field: the form shows them all at once.
        let each: Vec<String> =
            problems.iter().map(|problem| format!("{}: {}", form_field(&problem.field, &form), problem.message)).collect();
        return Err(crate::api::errors::invalid(each.join(&crate::api::PROBLEM_SEPARATOR.to_string())));
    }
    match crate::services::dcr_settings::update_dcr_settings(&state, &at, settings, &administrator.email).await {
        Ok(saved) => {
            tracing::info!(workspace = %at, administrator = %administrator.email, "DCR settings saved in the console");
            Ok(DcrForm::from_settings(&saved))
        }
        Err(ServiceError::Invalid(invalid)) => {
            Err(crate::api::errors::invalid(format!("{}: {}", form_field(&invalid.field, &form), invalid.message)))
        }
        Err(other) => Err(user_error(other)),
    }
}

/// Fetches a JWKS URI now; the key ids found, or why it failed.
#[server(prefix = "/app/fn", endpoint = "test_jwks_uri")]
pub async fn test_jwks_uri(uri: String) -> Result<Vec<String>, ServerFnError> {
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let uri = crate::domain::dcr::JwksUri::parse(&uri).map_err(|e| crate::api::errors::invalid(format!("The URI {e}")))?;
    let keys = app_state()?.jwks.probe(&uri).await.map_err(|e| crate::api::errors::invalid(e.to_string()))?;
    Ok(keys.keys().iter().map(|key| key.kid.clone().unwrap_or_else(|| "(no kid)".to_owned())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(name: &str, jwks_uri: &str) -> IssuerForm {
        IssuerForm {
            issuer: name.to_owned(),
            keys_kind: "jwks_uri".to_owned(),
            jwks_uri: jwks_uri.to_owned(),
            ..IssuerForm::default()
        }
    }

    fn open_banking_form() -> DcrForm {
        DcrForm {
            enabled: true,
            protect_by_access_token: false,
            require_software_statement: true,
            ssa_issuers: vec![issuer("OpenBanking Ltd", "https://keystore.openbanking.org.uk/keystore/openbanking.jwks")],
            max_software_statement_age_seconds: String::new(),
            require_signed_request: true,
            request_keys_kind: "software_statement".to_owned(),
            request_jwks: String::new(),
            request_jwks_uri: String::new(),
            require_mtls: true,
            bind_transport_certificate: true,
            trust_sandbox_directory: false,
            policy_id: String::new(),
        }
    }

    #[test]
    fn the_open_banking_defaults_depart_from_nothing() {
        assert!(open_banking_form().open_banking_departures().is_empty());
    }

    #[test]
    fn each_protection_switched_off_is_named() {
        let named = |form: DcrForm| form.open_banking_departures().join(" ");
        let form = open_banking_form;
        assert!(named(DcrForm { require_software_statement: false, ..form() }).contains("Software statements are not required"));
        assert!(named(DcrForm { require_signed_request: false, ..form() }).contains("need not be signed"));
        assert!(named(DcrForm { request_keys_kind: "jwks".to_owned(), ..form() }).contains("keys configured here"));
        assert!(named(DcrForm { require_mtls: false, ..form() }).contains("Mutual TLS is not required"));
        assert!(named(DcrForm { trust_sandbox_directory: true, ..form() }).contains("sandbox directory is trusted"));
        assert!(named(DcrForm { bind_transport_certificate: false, ..form() }).contains("not bound to the software statement"));
        let no_mtls = DcrForm { require_mtls: false, bind_transport_certificate: false, ..form() };
        assert_eq!(no_mtls.open_banking_departures().len(), 1, "no binding without mutual TLS is no departure of its own");
        let unsigned_with_keys = DcrForm { require_signed_request: false, request_keys_kind: "jwks".to_owned(), ..form() };
        assert_eq!(
            unsigned_with_keys.open_banking_departures().len(),
            1,
            "keys of an unsigned body are no departure of their own"
        );
    }

    #[test]
    fn issuers_given_the_same_keys_are_named() {
        let shared = "https://keystore.directory.example/jwks";
        let form = |issuers: Vec<IssuerForm>| DcrForm { ssa_issuers: issuers, ..open_banking_form() };
        let apart = form(vec![issuer("A", shared), issuer("B", "https://other.example/jwks")]);
        assert_eq!(apart.issuers_sharing_keys(), []);
        let together =
            form(vec![issuer("A", shared), issuer("B", "https://other.example/jwks"), issuer("C", &format!(" {shared} "))]);
        assert_eq!(together.issuers_sharing_keys(), [("A".to_owned(), "C".to_owned())]);
        // A key set pasted in differs only in layout: still the same keys.
        let pasted =
            |name: &str, text: &str| IssuerForm { issuer: name.to_owned(), jwks: text.to_owned(), ..IssuerForm::default() };
        let (one, other) =
            ("{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\"}]}", "{\n  \"keys\": [{\"crv\": \"P-256\", \"kty\": \"EC\"}]\n}");
        let same = form(vec![pasted("A", one), pasted("B", other), issuer("", shared)]);
        assert_eq!(same.issuers_sharing_keys(), [("A".to_owned(), "B".to_owned())]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn an_issuer_problem_names_its_row_past_blank_ones() {
        let blank = IssuerForm::default();
        let mut form =
            DcrForm { ssa_issuers: vec![blank.clone(), issuer("A", "https://a.example/j"), blank], ..open_banking_form() };
        form.ssa_issuers.push(IssuerForm { issuer: "B".to_owned(), ..IssuerForm::default() });
        assert_eq!(form_field("software_statement_issuers[0].issuer", &form), "ssa_issuers[1].issuer");
        assert_eq!(form_field("software_statement_issuers[0].keys.jwks_uri", &form), "ssa_issuers[1].jwks_uri");
        assert_eq!(form_field("software_statement_issuers[1].keys", &form), "ssa_issuers[3].jwks");
        assert_eq!(form_field("software_statement_issuers", &form), "ssa_issuers[0].issuer");
        assert_eq!(
            form_field("software_statement_issuers", &DcrForm { ssa_issuers: vec![], ..form.clone() }),
            "ssa_issuers[0].issuer"
        );
        // Text left in the key source not chosen is no issuer.
        let leftover = IssuerForm { keys_kind: "jwks_uri".to_owned(), jwks: "{}".to_owned(), ..IssuerForm::default() };
        assert!(leftover.is_blank() && !IssuerForm { keys_kind: "jwks".to_owned(), ..leftover.clone() }.is_blank());
        assert_eq!(form_field("request_signing_keys.jwks_uri", &form), "request_keys_kind");
        let settings = form.to_settings().unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = settings.software_statement_issuers.iter().map(|t| t.issuer.as_str()).collect();
        assert_eq!(names, ["A", "B"]);
    }
}
