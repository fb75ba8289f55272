//! Server functions of a workspace's Policies pages: the list, the editor (validator rules or
//! Rego) and deletion. Rule values are edited as text; [`rule_value`] and [`value_text`] turn
//! one into the other.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::policy::{Comparator, Policy, PolicyBody};

/// A row of the Policies list, and an option of the DCR tab's policy select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySummary {
    pub id: String,
    pub name: String,
    pub language: String,
    /// Rules of a validator policy, lines of a Rego module.
    pub size: usize,
    pub updated_at: DateTime<Utc>,
}

impl From<&Policy> for PolicySummary {
    fn from(policy: &Policy) -> Self {
        Self {
            id: policy.id.to_string(),
            name: policy.name.clone(),
            language: policy.body.language().to_owned(),
            size: match &policy.body {
                PolicyBody::Validators(rules) => rules.len(),
                PolicyBody::Rego(module) => module.lines().count(),
            },
            updated_at: policy.updated_at,
        }
    }
}

/// One rule as the editor shows it: every part as text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RuleForm {
    pub field: String,
    pub comparator: String,
    pub value: String,
    pub error_code: String,
    pub error_description: String,
}

/// A policy as the editor shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PolicyForm {
    pub id: String,
    pub name: String,
    /// `validators` or `rego`.
    pub language: String,
    pub rules: Vec<RuleForm>,
    pub rego: String,
}

/// What marks a rule's value as JSON in the editor: `json:42`, `json:true`, `json:["a,b"]`.
pub const JSON_PREFIX: &str = "json:";

/// A rule's value from the editor's text. Plain text is always text, never coerced: a list for
/// `in`, `not_in` and `contains_all` (one item per comma or line, trimmed), the text exactly as
/// written for `matches` and `regex`, nothing for `present` and `absent`, and otherwise the
/// trimmed text. Text after [`JSON_PREFIX`] is JSON, for numbers, booleans, or items with commas.
pub fn rule_value(comparator: Comparator, text: &str) -> Result<Value, String> {
    if matches!(comparator, Comparator::Present | Comparator::Absent) {
        return Ok(Value::Null);
    }
    if let Some(json) = text.trim_start().strip_prefix(JSON_PREFIX) {
        return serde_json::from_str(json).map_err(|e| format!("not JSON after {JSON_PREFIX}: {e}"));
    }
    Ok(match comparator {
        Comparator::Matches | Comparator::Regex => Value::String(text.to_owned()),
        Comparator::In | Comparator::NotIn | Comparator::ContainsAll => Value::Array(
            text.split([',', '\n'])
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        ),
        _ if text.trim().is_empty() => Value::Null,
        _ => Value::String(text.trim().to_owned()),
    })
}

/// The editor's text for a rule's value: plain words where they read back the same, JSON after
/// [`JSON_PREFIX`] otherwise; the inverse of [`rule_value`].
pub fn value_text(comparator: Comparator, value: &Value) -> String {
    let plain = |value: &Value| {
        matches!(value, Value::String(text)
            if !text.is_empty() && text.trim() == text && !text.contains([',', '\n']) && !text.starts_with(JSON_PREFIX))
    };
    match (comparator, value) {
        (_, Value::Null) => String::new(),
        (Comparator::Matches | Comparator::Regex, Value::String(text)) if !text.trim_start().starts_with(JSON_PREFIX) => {
            text.clone()
        }
        (Comparator::In | Comparator::NotIn | Comparator::ContainsAll, Value::Array(items))
            if !items.is_empty() && items.iter().all(plain) =>
        {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        }
        (Comparator::Equals | Comparator::NotEquals | Comparator::Contains, Value::String(_)) if plain(value) => {
            value.as_str().unwrap_or_default().to_owned()
        }
        (_, other) => format!("{JSON_PREFIX}{other}"),
    }
}

/// What the editor says a rule compares with, so a typed value is never a surprise:
/// `Compared with the text "42".`, `Compared with the number 42.`.
pub fn describe_value(comparator: Comparator, text: &str) -> String {
    let value = match rule_value(comparator, text) {
        Err(problem) => return problem,
        Ok(_) if !comparator.takes_value() => return String::new(),
        Ok(Value::Null) => return "No value yet.".to_owned(),
        Ok(value) => value,
    };
    let what = match &value {
        Value::String(_) => "the text",
        Value::Number(_) => "the number",
        Value::Bool(_) => "the boolean",
        Value::Array(items) if items.len() == 1 => "a list of 1:",
        Value::Array(items) => return format!("Compared with a list of {}: {value}.", items.len()),
        Value::Object(_) | Value::Null => "the JSON",
    };
    format!("Compared with {what} {value}.")
}

#[cfg(feature = "ssr")]
impl PolicyForm {
    fn from_policy(policy: &Policy) -> Self {
        let (rules, rego) = match &policy.body {
            PolicyBody::Validators(rules) => (
                rules
                    .iter()
                    .map(|rule| RuleForm {
                        field: rule.field.to_string(),
                        comparator: rule.comparator.as_str().to_owned(),
                        value: value_text(rule.comparator, &rule.value),
                        error_code: rule.error_code.as_str().to_owned(),
                        error_description: rule.error_description.clone(),
                    })
                    .collect(),
                String::new(),
            ),
            PolicyBody::Rego(module) => (Vec::new(), module.clone()),
        };
        Self { id: policy.id.to_string(), name: policy.name.clone(), language: policy.body.language().to_owned(), rules, rego }
    }

    /// The draft this form describes; a problem names its field (`rules[2].field`).
    fn to_draft(&self) -> Result<crate::domain::policy::PolicyDraft, ServerFnError> {
        use crate::api::errors::invalid;
        use crate::domain::policy::{FieldPath, PolicyDraft, PolicyErrorCode, ValidatorRule};
        let body = match self.language.as_str() {
            "validators" => PolicyBody::Validators(
                self.rules
                    .iter()
                    .enumerate()
                    .map(|(index, rule)| {
                        let at = |part: &str, message: String| invalid(format!("rules[{index}].{part}: {message}"));
                        let comparator = Comparator::parse(&rule.comparator)
                            .ok_or_else(|| at("comparator", "choose a comparator".to_owned()))?;
                        Ok(ValidatorRule {
                            field: FieldPath::parse(&rule.field).map_err(|e| at("field", e))?,
                            comparator,
                            value: rule_value(comparator, &rule.value).map_err(|e| at("value", e))?,
                            error_code: PolicyErrorCode::parse(&rule.error_code)
                                .ok_or_else(|| at("error_code", "choose an error code".to_owned()))?,
                            error_description: rule.error_description.trim().to_owned(),
                        })
                    })
                    .collect::<Result<_, ServerFnError>>()?,
            ),
            "rego" => PolicyBody::Rego(self.rego.clone()),
            _ => return Err(invalid("language: choose validators or Rego")),
        };
        Ok(PolicyDraft { name: self.name.clone(), body })
    }
}

/// Names a service error by the editor's field: `body[2].value` is `rules[2].value` in the
/// validator editor and `rego` in the Rego one.
#[cfg(feature = "ssr")]
fn form_field(field: &str, language: &str) -> String {
    match (field.strip_prefix("body"), language) {
        (Some(rest), "validators") if rest.starts_with('[') => format!("rules{rest}"),
        (Some(""), "validators") => "rules".to_owned(),
        (Some(_), _) => "rego".to_owned(),
        (None, _) => field.to_owned(),
    }
}

#[server(prefix = "/app/fn", endpoint = "list_policies")]
pub async fn list_policies(tenant: String, workspace: String) -> Result<Vec<PolicySummary>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let policies = crate::services::policies::list_policies(&app_state()?, &at).await.map_err(user_error)?;
    Ok(policies.iter().map(PolicySummary::from).collect())
}

#[server(prefix = "/app/fn", endpoint = "get_policy_form")]
pub async fn get_policy_form(tenant: String, workspace: String, id: String) -> Result<PolicyForm, ServerFnError> {
    use crate::api::errors::{refused, user_error};
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let id =
        crate::domain::ids::PolicyId::parse(id).map_err(|_| refused(axum::http::StatusCode::NOT_FOUND, "policy not found"))?;
    let policy = crate::services::policies::get_policy(&app_state()?, &at, &id).await.map_err(user_error)?;
    Ok(PolicyForm::from_policy(&policy))
}

/// Creates the policy (`create`) or replaces it; returns it as saved.
#[server(prefix = "/app/fn", endpoint = "save_policy", input = Json)]
pub async fn save_policy(tenant: String, workspace: String, create: bool, form: PolicyForm) -> Result<PolicyForm, ServerFnError> {
    use crate::api::errors::{invalid, user_error};
    use crate::api::session::{app_state, require_confirmed_administrator};
    use crate::domain::ids::PolicyId;
    use crate::domain::policy::NewPolicy;
    use crate::services::{ServiceError, policies};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let id = PolicyId::parse(form.id.trim()).map_err(|e| invalid(format!("id: {e}")))?;
    let draft = form.to_draft()?;
    let state = app_state()?;
    let saved = if create {
        policies::create_policy(&state, &at, NewPolicy { id, draft }, &administrator.email).await
    } else {
        policies::update_policy(&state, &at, &id, draft, &administrator.email).await
    };
    match saved {
        Ok(policy) => {
            tracing::info!(workspace = %at, policy = %policy.id, administrator = %administrator.email, "policy saved in the console");
            Ok(PolicyForm::from_policy(&policy))
        }
        Err(ServiceError::Invalid(problem)) => {
            Err(invalid(format!("{}: {}", form_field(&problem.field, &form.language), problem.message)))
        }
        Err(ServiceError::Conflict(message)) => {
            Err(crate::api::errors::refused(axum::http::StatusCode::CONFLICT, format!("id: {message}")))
        }
        Err(other) => Err(user_error(other)),
    }
}

#[server(prefix = "/app/fn", endpoint = "delete_policy")]
pub async fn delete_policy(tenant: String, workspace: String, id: String) -> Result<(), ServerFnError> {
    use crate::api::errors::{refused, user_error};
    use crate::api::session::{app_state, require_confirmed_administrator};
    let administrator = require_confirmed_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let id =
        crate::domain::ids::PolicyId::parse(id).map_err(|_| refused(axum::http::StatusCode::NOT_FOUND, "policy not found"))?;
    crate::services::policies::delete_policy(&app_state()?, &at, &id, &administrator.email).await.map_err(user_error)?;
    tracing::info!(workspace = %at, policy = %id, administrator = %administrator.email, "policy deleted in the console");
    leptos_axum::redirect(&format!("/app/{tenant}/workspaces/{workspace}/policies?deleted={id}"));
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plain_text_is_text_and_json_is_asked_for() {
        let value = |comparator, text: &str| rule_value(comparator, text).unwrap_or_default();
        assert_eq!(value(Comparator::In, "AISP, PISP"), json!(["AISP", "PISP"]));
        assert_eq!(value(Comparator::NotIn, "a\nb\n"), json!(["a", "b"]));
        assert_eq!(value(Comparator::ContainsAll, "1, true, x"), json!(["1", "true", "x"]));
        assert_eq!(value(Comparator::In, r#"json:["x", 2]"#), json!(["x", 2]));
        assert_eq!(value(Comparator::Equals, "tls_client_auth"), json!("tls_client_auth"));
        assert_eq!(value(Comparator::Equals, " 42 "), json!("42"));
        assert_eq!(value(Comparator::Equals, "true"), json!("true"));
        assert_eq!(value(Comparator::Equals, "json:42"), json!(42));
        assert_eq!(value(Comparator::Equals, " json:true"), json!(true));
        assert_eq!(value(Comparator::Equals, " "), Value::Null);
        assert_eq!(value(Comparator::Matches, " https://*.tpp.example/*"), json!(" https://*.tpp.example/*"));
        assert_eq!(value(Comparator::Regex, "^[0-9]+$ "), json!("^[0-9]+$ "));
        assert_eq!(value(Comparator::Present, "ignored"), Value::Null);
        let error = rule_value(Comparator::Equals, "json:[1,").err().unwrap_or_default();
        assert!(error.starts_with("not JSON after json:"), "{error}");
    }

    #[test]
    fn the_editor_text_round_trips() {
        for (comparator, value) in [
            (Comparator::In, json!(["AISP", "PISP"])),
            (Comparator::In, json!(["a,b", "c"])),
            (Comparator::In, json!([])),
            (Comparator::ContainsAll, json!([1, "x", true])),
            (Comparator::Equals, json!("tls_client_auth")),
            (Comparator::Equals, json!("42")),
            (Comparator::Equals, json!(42)),
            (Comparator::Equals, json!(" padded ")),
            (Comparator::Equals, json!("json:not really")),
            (Comparator::NotEquals, json!(["a"])),
            (Comparator::Contains, json!(false)),
            (Comparator::Matches, json!("https://*")),
            (Comparator::Regex, json!(" x ")),
            (Comparator::Absent, Value::Null),
        ] {
            let text = value_text(comparator, &value);
            assert_eq!(rule_value(comparator, &text), Ok(value.clone()), "{comparator:?} {value} as {text}");
        }
    }

    #[test]
    fn the_editor_says_what_a_value_is() {
        assert_eq!(describe_value(Comparator::Equals, "42"), r#"Compared with the text "42"."#);
        assert_eq!(describe_value(Comparator::Equals, "json:42"), "Compared with the number 42.");
        assert_eq!(describe_value(Comparator::In, "AISP, PISP"), r#"Compared with a list of 2: ["AISP","PISP"]."#);
        assert_eq!(describe_value(Comparator::Equals, ""), "No value yet.");
        assert_eq!(describe_value(Comparator::Present, ""), "");
        assert!(describe_value(Comparator::Equals, "json:{").starts_with("not JSON"));
    }
}
