//! DCR policies: rules an administrator attaches to a workspace's register endpoint, checked
//! after the built-in rules on every registration. A policy is either an ordered list of
//! validator rules or a Rego module; both read the same input document (see
//! [`INPUT_FIELDS`]). This module holds the shapes and their checks; evaluation lives in
//! `crate::policy` (built with the `ssr` feature only).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ids::PolicyId;
use super::workspace::SettingsError;

/// The most rules one validator policy may hold.
pub const MAX_RULES: usize = 100;
/// The largest Rego module accepted, in bytes.
pub const MAX_REGO_LEN: usize = 64 * 1024;
const MAX_NAME_LEN: usize = 100;
pub const MAX_DESCRIPTION_LEN: usize = 500;
const MAX_PATTERN_LEN: usize = 1000;

/// The error a failing rule rejects a registration with (RFC 7591 §3.2.2, OBUK DCR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyErrorCode {
    UnapprovedSoftwareStatement,
    InvalidClientMetadata,
    InvalidRedirectUri,
}

impl PolicyErrorCode {
    pub const ALL: [Self; 3] = [Self::UnapprovedSoftwareStatement, Self::InvalidClientMetadata, Self::InvalidRedirectUri];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnapprovedSoftwareStatement => "unapproved_software_statement",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == name)
    }
}

/// How a rule compares the field it reads with its value. On an array field, `in`, `not_in`,
/// `matches` and `regex` apply to every element; `contains` and `contains_all` look for
/// elements (on a string field, `contains` looks for a substring).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    Equals,
    NotEquals,
    In,
    NotIn,
    Contains,
    ContainsAll,
    /// A wildcard pattern: `*` stands for any characters, `\*` for a literal star and `\\` for a
    /// literal backslash.
    Matches,
    Present,
    Absent,
    Regex,
}

impl Comparator {
    pub const ALL: [Self; 10] = [
        Self::Equals,
        Self::NotEquals,
        Self::In,
        Self::NotIn,
        Self::Contains,
        Self::ContainsAll,
        Self::Matches,
        Self::Present,
        Self::Absent,
        Self::Regex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equals => "equals",
            Self::NotEquals => "not_equals",
            Self::In => "in",
            Self::NotIn => "not_in",
            Self::Contains => "contains",
            Self::ContainsAll => "contains_all",
            Self::Matches => "matches",
            Self::Present => "present",
            Self::Absent => "absent",
            Self::Regex => "regex",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|comparator| comparator.as_str() == name)
    }

    /// Whether the comparator compares with a value (`present` and `absent` do not).
    pub fn takes_value(self) -> bool {
        !matches!(self, Self::Present | Self::Absent)
    }

    /// What the rule's value must be.
    fn check_value(self, value: &Value) -> Result<(), &'static str> {
        match self {
            Self::Present | Self::Absent if !value.is_null() => Err("takes no value"),
            Self::In | Self::NotIn | Self::ContainsAll if !value.is_array() => Err("must be a list of values"),
            Self::Matches | Self::Regex => match value.as_str() {
                None => Err("must be a text pattern"),
                Some(pattern) if pattern.is_empty() || pattern.len() > MAX_PATTERN_LEN => {
                    Err("must be a pattern of 1 to 1000 characters")
                }
                Some(_) => Ok(()),
            },
            Self::Equals | Self::NotEquals | Self::Contains if value.is_null() => Err("is required"),
            _ => Ok(()),
        }
    }
}

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(usize),
}

/// Where in the input document a rule looks: keys separated by `.`, array elements by `[n]`,
/// e.g. `software_statement.software_roles`, `request.redirect_uris[0]`,
/// `client_certificate.subject_dn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FieldPath {
    text: String,
    steps: Vec<PathStep>,
}

impl FieldPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text.len() > 256 {
            return Err("must be a path of 1 to 256 characters, e.g. request.scope".to_owned());
        }
        let mut steps = Vec::new();
        let root = text.split(['.', '[']).next().unwrap_or_default();
        if !INPUT_PARTS.contains(&root) {
            return Err(format!("'{text}' must start with one of: {}", INPUT_PARTS.join(", ")));
        }
        for part in text.split('.') {
            let (key, mut indices) = match part.find('[') {
                Some(at) => (&part[..at], &part[at..]),
                None => (part, ""),
            };
            if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c == ']') {
                return Err(format!("'{text}' is not a path: each step needs a name, as in request.scope"));
            }
            steps.push(PathStep::Key(key.to_owned()));
            while let Some(rest) = indices.strip_prefix('[') {
                let (number, after) = rest.split_once(']').ok_or_else(|| format!("'{text}' has an unclosed '['"))?;
                let index = number.parse().map_err(|_| format!("'{text}': '[{number}]' is not an array position"))?;
                steps.push(PathStep::Index(index));
                indices = after;
            }
            if !indices.is_empty() {
                return Err(format!("'{text}' is not a path: '{indices}' follows an array position"));
            }
        }
        Ok(Self { text: text.to_owned(), steps })
    }

    /// The value at this path, if the document has one (`null` counts as none).
    pub fn resolve<'a>(&self, document: &'a Value) -> Option<&'a Value> {
        self.steps
            .iter()
            .try_fold(document, |value, step| match step {
                PathStep::Key(key) => value.get(key.as_str()),
                PathStep::Index(index) => value.get(*index),
            })
            .filter(|value| !value.is_null())
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl TryFrom<String> for FieldPath {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FieldPath> for String {
    fn from(value: FieldPath) -> Self {
        value.text
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One validator rule: the registration passes it when `field` compares with `value` as
/// `comparator` says; otherwise it is rejected with `error_code` and `error_description`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorRule {
    pub field: FieldPath,
    pub comparator: Comparator,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub value: Value,
    pub error_code: PolicyErrorCode,
    pub error_description: String,
}

impl ValidatorRule {
    fn check(&self) -> Result<(), (&'static str, String)> {
        self.comparator
            .check_value(&self.value)
            .map_err(|problem| ("value", format!("{}: {problem}", self.comparator.as_str())))?;
        let description = self.error_description.trim();
        if description.is_empty() || description.len() > MAX_DESCRIPTION_LEN || description.chars().any(char::is_control) {
            return Err(("error_description", format!("must be 1 to {MAX_DESCRIPTION_LEN} characters on one line")));
        }
        Ok(())
    }
}

/// What a policy says, in its language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "language", content = "body", rename_all = "snake_case")]
pub enum PolicyBody {
    /// Rules that must all pass, checked in order; the first failure rejects.
    Validators(Vec<ValidatorRule>),
    /// A Rego module defining `allow` (and optionally `deny`, a set of messages).
    Rego(String),
}

impl PolicyBody {
    pub fn language(&self) -> &'static str {
        match self {
            Self::Validators(_) => "validators",
            Self::Rego(_) => "rego",
        }
    }

    /// The checks that need no compiler: sizes, and each rule's value and description. Rego
    /// syntax and regular expressions are checked when the policy is compiled.
    pub fn check_shape(&self) -> Result<(), SettingsError> {
        // PostgreSQL's jsonb cannot hold NUL, and no rule or module needs one.
        if serde_json::to_string(self).is_ok_and(|json| json.contains("\\u0000")) {
            return Err(SettingsError::new("body", "must not contain NUL characters"));
        }
        match self {
            Self::Validators(rules) if rules.is_empty() => Err(SettingsError::new("body", "add at least one rule")),
            Self::Validators(rules) if rules.len() > MAX_RULES => {
                Err(SettingsError::new("body", format!("at most {MAX_RULES} rules")))
            }
            Self::Validators(rules) => rules.iter().enumerate().try_for_each(|(index, rule)| {
                rule.check().map_err(|(field, message)| SettingsError::new(format!("body[{index}].{field}"), message))
            }),
            Self::Rego(text) if text.trim().is_empty() => Err(SettingsError::new("body", "write the Rego module")),
            Self::Rego(text) if text.len() > MAX_REGO_LEN => {
                Err(SettingsError::new("body", format!("at most {} KiB", MAX_REGO_LEN / 1024)))
            }
            Self::Rego(_) => Ok(()),
        }
    }
}

/// A policy as an administrator writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDraft {
    pub name: String,
    #[serde(flatten)]
    pub body: PolicyBody,
}

impl PolicyDraft {
    pub fn check(&self) -> Result<(), SettingsError> {
        let name = self.name.trim();
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(SettingsError::new("name", format!("must be 1 to {MAX_NAME_LEN} characters")));
        }
        self.body.check_shape()
    }
}

/// A policy to create: its id (unique in the workspace, it appears in the DCR settings) and
/// the draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPolicy {
    pub id: PolicyId,
    #[serde(flatten)]
    pub draft: PolicyDraft,
}

/// A stored policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub id: PolicyId,
    pub name: String,
    #[serde(flatten)]
    pub body: PolicyBody,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The parts of the input document every policy reads: `request` (the claims as the TPP sent
/// them, including ones not listed in [`INPUT_FIELDS`]), `registration` (the metadata that will
/// be registered, after defaults: e.g. the software statement's redirect URIs when the request
/// names none), `software_statement` (the verified SSA's claims), `client_certificate` (a
/// certificate that chains to a trusted CA, else absent), `headers` and `workspace`.
pub const INPUT_PARTS: [&str; 6] =
    ["request", "registration", "software_statement", "client_certificate", "headers", "workspace"];

/// The fields of the input document, for the console's suggestions.
pub const INPUT_FIELDS: &[&str] = &[
    "request.iss",
    "request.aud",
    "request.software_id",
    "request.client_name",
    "request.redirect_uris",
    "request.token_endpoint_auth_method",
    "request.token_endpoint_auth_signing_alg",
    "request.tls_client_auth_subject_dn",
    "request.grant_types",
    "request.response_types",
    "request.scope",
    "request.application_type",
    "request.id_token_signed_response_alg",
    "request.request_object_signing_alg",
    "request.contacts",
    "registration.redirect_uris",
    "registration.token_endpoint_auth_method",
    "registration.grant_types",
    "registration.response_types",
    "registration.scope",
    "registration.application_type",
    "registration.software_id",
    "registration.client_name",
    "software_statement.iss",
    "software_statement.software_id",
    "software_statement.software_client_name",
    "software_statement.software_client_uri",
    "software_statement.software_redirect_uris",
    "software_statement.software_roles",
    "software_statement.software_environment",
    "software_statement.software_mode",
    "software_statement.software_jwks_endpoint",
    "software_statement.org_id",
    "software_statement.org_name",
    "software_statement.org_status",
    "software_statement.organisation_competent_authority_claims.authority_id",
    "software_statement.organisation_competent_authority_claims.status",
    "client_certificate.subject_dn",
    "client_certificate.issuer_dn",
    "client_certificate.serial",
    "client_certificate.not_after",
    "client_certificate.sha256",
    "headers.user-agent",
    "headers.x-fapi-interaction-id",
    "workspace.id",
    "workspace.profile",
];

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_parse_and_resolve() {
        let document = json!({"request": {"redirect_uris": ["https://a", "https://b"], "scope": null}, "headers": {"x-y": "1"}});
        let resolve = |path: &str| FieldPath::parse(path).ok().and_then(|p| p.resolve(&document).cloned());
        assert_eq!(resolve("request.redirect_uris[1]"), Some(json!("https://b")));
        assert_eq!(resolve("request.redirect_uris"), Some(json!(["https://a", "https://b"])));
        assert_eq!(resolve("headers.x-y"), Some(json!("1")));
        assert_eq!(resolve("request.scope"), None, "null counts as absent");
        assert_eq!(resolve("request.redirect_uris[5]"), None);
        assert_eq!(resolve("request.missing.deeper"), None);
        for bad in [
            "",
            "request..scope",
            "request.[0]",
            "request[x]",
            "request[0",
            "request[0]b",
            ".request",
            "request.a b",
            "softwre_statement.org_id",
            "x.y-z",
        ] {
            assert!(FieldPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn policies_have_the_documented_shape() {
        let validators = json!({
            "name": "Only AISP and PISP",
            "language": "validators",
            "body": [{
                "field": "software_statement.software_roles",
                "comparator": "in",
                "value": ["AISP", "PISP"],
                "error_code": "unapproved_software_statement",
                "error_description": "only AISP and PISP software may register"
            }]
        });
        let draft: PolicyDraft = serde_json::from_value(validators.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(draft.check(), Ok(()));
        assert_eq!(serde_json::to_value(&draft).ok(), Some(validators));

        let rego: PolicyDraft = serde_json::from_value(json!({"name": "r", "language": "rego", "body": "package onboard"}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rego.body.language(), "rego");
        assert!(serde_json::from_value::<PolicyDraft>(json!({"name": "x", "language": "cel", "body": ""})).is_err());
    }

    #[test]
    fn each_rule_problem_names_its_field() {
        let rule = |comparator: &str, value: Value, description: &str| {
            let body = json!([{"field": "request.scope", "comparator": comparator, "value": value,
                "error_code": "invalid_client_metadata", "error_description": description}]);
            let body: Vec<ValidatorRule> = serde_json::from_value(body).unwrap_or_else(|e| panic!("{e}"));
            PolicyBody::Validators(body).check_shape().err().map(|e| e.field)
        };
        assert_eq!(rule("equals", json!("accounts"), "no"), None);
        assert_eq!(rule("in", json!("accounts"), "no").as_deref(), Some("body[0].value"));
        assert_eq!(rule("contains_all", json!({}), "no").as_deref(), Some("body[0].value"));
        assert_eq!(rule("present", json!("x"), "no").as_deref(), Some("body[0].value"));
        assert_eq!(rule("present", Value::Null, "no"), None);
        assert_eq!(rule("regex", json!(3), "no").as_deref(), Some("body[0].value"));
        assert_eq!(rule("matches", json!(""), "no").as_deref(), Some("body[0].value"));
        assert_eq!(rule("equals", Value::Null, "no").as_deref(), Some("body[0].value"));
        assert_eq!(rule("equals", json!(1), " ").as_deref(), Some("body[0].error_description"));
        assert_eq!(rule("equals", json!(1), "two\nlines").as_deref(), Some("body[0].error_description"));
        assert_eq!(PolicyBody::Validators(vec![]).check_shape().err().map(|e| e.field).as_deref(), Some("body"));
        assert!(PolicyBody::Rego(" ".to_owned()).check_shape().is_err());
    }

    #[test]
    fn names_round_trip() {
        for comparator in Comparator::ALL {
            assert_eq!(Comparator::parse(comparator.as_str()), Some(comparator));
        }
        for code in PolicyErrorCode::ALL {
            assert_eq!(PolicyErrorCode::parse(code.as_str()), Some(code));
        }
    }
}
