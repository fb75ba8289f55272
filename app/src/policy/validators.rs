//! Validator rules, compiled (patterns become regular expressions once, on save and on load)
//! and checked against the input document. Every rule is checked, in order; the first failing
//! one decides the verdict.
//!
//! A rule on a field the document lacks fails, except `absent`, `not_equals` and `not_in`:
//! an allow-list cannot be satisfied by leaving the field out, nor by an empty list.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::domain::policy::{Comparator, ValidatorRule};
use crate::domain::workspace::SettingsError;

/// Bounds the memory a rule's regular expression may compile to.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// A rule ready to check: its pattern compiled, when it has one.
#[derive(Debug, Clone)]
struct CompiledRule {
    rule: ValidatorRule,
    pattern: Option<Regex>,
}

/// An ordered list of rules ready to check.
#[derive(Debug, Clone)]
pub struct CompiledValidators {
    rules: Vec<CompiledRule>,
}

/// How one rule fared.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome<'a> {
    pub rule: &'a ValidatorRule,
    pub passed: bool,
}

impl CompiledValidators {
    /// Compiles every pattern; a bad one is named by its rule (`body[2].value`).
    pub fn compile(rules: &[ValidatorRule]) -> Result<Self, SettingsError> {
        let rules = rules
            .iter()
            .enumerate()
            .map(|(index, rule)| {
                let pattern = match (rule.comparator, rule.value.as_str()) {
                    (Comparator::Matches, Some(wildcard)) => Some(wildcard_regex(wildcard)),
                    (Comparator::Regex, Some(expression)) => Some(expression.to_owned()),
                    _ => None,
                };
                let pattern =
                    pattern
                        .map(|source| RegexBuilder::new(&source).size_limit(REGEX_SIZE_LIMIT).build())
                        .transpose()
                        .map_err(|e| SettingsError::new(format!("body[{index}].value"), format!("not a usable pattern: {e}")))?;
                Ok(CompiledRule { rule: rule.clone(), pattern })
            })
            .collect::<Result<_, SettingsError>>()?;
        Ok(Self { rules })
    }

    /// Every rule's outcome, in order.
    pub fn check(&self, input: &Value) -> Vec<RuleOutcome<'_>> {
        self.rules
            .iter()
            .map(|compiled| RuleOutcome { rule: &compiled.rule, passed: passes(compiled, compiled.rule.field.resolve(input)) })
            .collect()
    }
}

fn passes(compiled: &CompiledRule, found: Option<&Value>) -> bool {
    let value = &compiled.rule.value;
    let listed = |item: &Value| value.as_array().is_some_and(|list| list.contains(item));
    let fits = |item: &Value| item.as_str().is_some_and(|text| compiled.pattern.as_ref().is_some_and(|p| p.is_match(text)));
    match (compiled.rule.comparator, found) {
        (Comparator::Present, found) => found.is_some(),
        (Comparator::Absent, found) => found.is_none(),
        (Comparator::NotEquals, found) => found != Some(value),
        (Comparator::NotIn, None) => true,
        (Comparator::Equals, Some(found)) => found == value,
        (Comparator::In, Some(found)) => each(found, listed),
        (Comparator::NotIn, Some(Value::Array(items))) => !items.iter().any(listed),
        (Comparator::NotIn, Some(found)) => !listed(found),
        (Comparator::Contains, Some(Value::Array(items))) => items.contains(value),
        (Comparator::Contains, Some(Value::String(text))) => value.as_str().is_some_and(|part| text.contains(part)),
        (Comparator::ContainsAll, Some(Value::Array(items))) => {
            value.as_array().is_some_and(|wanted| wanted.iter().all(|item| items.contains(item)))
        }
        (Comparator::Matches | Comparator::Regex, Some(found)) => each(found, fits),
        // A missing field satisfies no other comparator; neither does a string for
        // contains_all, nor anything but an array or a string for contains.
        (_, None) | (Comparator::Contains | Comparator::ContainsAll, Some(_)) => false,
    }
}

/// `test` on every element of an array, or on the value itself. An empty array passes no
/// allow-list: nothing in it was checked.
fn each(found: &Value, test: impl Fn(&Value) -> bool) -> bool {
    match found {
        Value::Array(items) => !items.is_empty() && items.iter().all(test),
        single => test(single),
    }
}

/// A wildcard pattern as an anchored regular expression: `*` is any characters, `\*` a star,
/// `\\` a backslash.
fn wildcard_regex(wildcard: &str) -> String {
    let mut source = String::from("(?s)^");
    let mut chars = wildcard.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '\\')) => {
                let escaped = chars.next().unwrap_or('\\');
                source.push_str(&regex::escape(escaped.encode_utf8(&mut [0; 4])));
            }
            '*' => source.push_str(".*"),
            other => source.push_str(&regex::escape(other.encode_utf8(&mut [0; 4]))),
        }
    }
    source.push('$');
    source
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn document() -> Value {
        json!({
            "request": {
                "scope": "openid accounts",
                "redirect_uris": ["https://app.tpp.example/cb", "https://app.tpp.example/cb2"],
                "token_endpoint_auth_method": "tls_client_auth",
                "grant_types": ["client_credentials", "authorization_code"],
                "empty": []
            },
            "software_statement": {"software_roles": ["AISP", "PISP"], "org_id": "0015800001HQQrZAAX", "name": "a*b", "path": "C:\\dir"},
            "registration": {}
        })
    }

    /// Whether one rule passes on [`document`].
    fn check(field: &str, comparator: &str, value: Value) -> bool {
        let mut rule = json!({
            "field": field, "comparator": comparator,
            "error_code": "invalid_client_metadata", "error_description": "refused"
        });
        rule["value"] = value;
        let rule: ValidatorRule = serde_json::from_value(rule).unwrap_or_else(|e| panic!("{e}"));
        let compiled = CompiledValidators::compile(&[rule]).unwrap_or_else(|e| panic!("{e:?}"));
        compiled.check(&document())[0].passed
    }

    #[test]
    fn equals_and_not_equals() {
        assert!(check("request.token_endpoint_auth_method", "equals", json!("tls_client_auth")));
        assert!(!check("request.token_endpoint_auth_method", "equals", json!("private_key_jwt")));
        assert!(check("software_statement.software_roles", "equals", json!(["AISP", "PISP"])));
        assert!(!check("request.missing", "equals", json!("x")));
        assert!(check("request.token_endpoint_auth_method", "not_equals", json!("private_key_jwt")));
        assert!(!check("request.token_endpoint_auth_method", "not_equals", json!("tls_client_auth")));
        assert!(check("request.missing", "not_equals", json!("x")));
    }

    #[test]
    fn in_and_not_in_apply_to_every_element() {
        assert!(check("software_statement.software_roles", "in", json!(["AISP", "PISP", "CBPII"])));
        assert!(!check("software_statement.software_roles", "in", json!(["AISP"])));
        assert!(check("software_statement.org_id", "in", json!(["0015800001HQQrZAAX"])));
        assert!(!check("software_statement.org_id", "in", json!(["other"])));
        assert!(!check("request.missing", "in", json!(["x"])), "an allow-list needs the field");
        assert!(!check("request.empty", "in", json!(["x"])), "nor an empty list");
        assert!(check("request.empty", "not_in", json!(["x"])));
        assert!(check("software_statement.software_roles", "not_in", json!(["CBPII"])));
        assert!(!check("software_statement.software_roles", "not_in", json!(["PISP"])));
        assert!(check("request.missing", "not_in", json!(["x"])));
    }

    #[test]
    fn contains_and_contains_all() {
        assert!(check("request.grant_types", "contains", json!("client_credentials")));
        assert!(!check("request.grant_types", "contains", json!("refresh_token")));
        assert!(check("request.scope", "contains", json!("accounts")));
        assert!(!check("request.scope", "contains", json!("payments")));
        assert!(!check("request.missing", "contains", json!("x")));
        assert!(check("request.grant_types", "contains_all", json!(["authorization_code", "client_credentials"])));
        assert!(!check("request.grant_types", "contains_all", json!(["authorization_code", "refresh_token"])));
        assert!(!check("request.scope", "contains_all", json!(["openid"])), "a string holds no elements");
    }

    #[test]
    fn matches_takes_wildcards_and_escaped_stars() {
        assert!(check("request.redirect_uris", "matches", json!("https://app.tpp.example/*")));
        assert!(!check("request.redirect_uris", "matches", json!("https://other.example/*")));
        assert!(!check("request.redirect_uris", "matches", json!("https://app.tpp.example/cb")), "every element must match");
        assert!(check("software_statement.name", "matches", json!(r"a\*b")));
        assert!(!check("request.token_endpoint_auth_method", "matches", json!(r"tls\*")));
        assert!(check("request.token_endpoint_auth_method", "matches", json!("tls*auth")));
        assert!(check("software_statement.path", "matches", json!(r"C:\\*")), "a backslash, then a wildcard");
        assert!(!check("request.empty", "matches", json!("*")), "an empty list matches nothing");
        assert!(!check("request.token_endpoint_auth_method", "matches", json!("tls.client.auth")), "dots are literal");
    }

    #[test]
    fn present_absent_and_regex() {
        assert!(check("request.scope", "present", Value::Null));
        assert!(!check("request.missing", "present", Value::Null));
        assert!(check("request.missing", "absent", Value::Null));
        assert!(!check("request.scope", "absent", Value::Null));
        assert!(check("software_statement.org_id", "regex", json!("^0015800001[A-Za-z0-9]{8}$")));
        assert!(!check("software_statement.org_id", "regex", json!("^9")));
        assert!(check("request.redirect_uris", "regex", json!(r"^https://app\.tpp\.example/")));
    }

    #[test]
    fn a_bad_pattern_is_named_by_its_rule() {
        let rules: Vec<ValidatorRule> = serde_json::from_value(json!([
            {"field": "request.scope", "comparator": "present", "error_code": "invalid_client_metadata", "error_description": "x"},
            {"field": "request.scope", "comparator": "regex", "value": "(unclosed", "error_code": "invalid_client_metadata", "error_description": "x"}
        ]))
        .unwrap_or_else(|e| panic!("{e}"));
        let error = CompiledValidators::compile(&rules).err().map(|e| e.field);
        assert_eq!(error.as_deref(), Some("body[1].value"));
    }
}
