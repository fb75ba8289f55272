//! Evaluating DCR policies (built with the `ssr` feature only): a policy compiled once per version, then checked
//! against each registration's input document. Both languages give the same kind of outcome:
//! the checks made, in order, and the rejection if one failed. Validators run in the server;
//! Rego runs in its policy workers ([`sandbox`]).

mod cache;
mod rego;
pub mod sandbox;
mod validators;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use cache::PolicyCache;
pub use rego::{CompiledRego, EVALUATION_LIMIT, RegoVerdict};
pub use sandbox::RegoSandbox;
pub use validators::CompiledValidators;

use crate::domain::policy::{MAX_DESCRIPTION_LEN, PolicyBody, PolicyErrorCode, ValidatorRule};
use crate::domain::workspace::SettingsError;

/// What a Rego policy rejects with (validator rules name their own code).
pub const REGO_ERROR_CODE: PolicyErrorCode = PolicyErrorCode::InvalidClientMetadata;
/// What the TPP is told when a policy could not be evaluated (the reason goes to the log).
pub const UNEVALUABLE: &str = "the registration could not be checked against the workspace's policy";

/// A policy ready to evaluate.
#[derive(Debug, Clone)]
pub enum CompiledPolicy {
    Validators(CompiledValidators),
    /// A Rego module, compiled by the worker that evaluates it.
    Rego(String),
}

/// One check a policy made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCheck {
    pub name: String,
    pub passed: bool,
    /// Why it failed, in the words the TPP would be given.
    pub detail: Option<String>,
}

/// Why a policy refused a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRejection {
    pub code: PolicyErrorCode,
    pub description: String,
    /// For the log only: why the policy could not be evaluated.
    pub internal: Option<String>,
}

/// Every check made, in order, and the rejection if any failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyOutcome {
    pub checks: Vec<PolicyCheck>,
    pub rejection: Option<PolicyRejection>,
}

impl CompiledPolicy {
    /// Compiles a policy's validators, or takes its Rego module as it is (a policy being saved
    /// is checked with [`check`]); a problem names the part of the body it concerns.
    pub fn compile(body: &PolicyBody) -> Result<Self, SettingsError> {
        body.check_shape()?;
        match body {
            PolicyBody::Validators(rules) => CompiledValidators::compile(rules).map(Self::Validators),
            PolicyBody::Rego(module) => Ok(Self::Rego(module.clone())),
        }
    }

    pub async fn evaluate(&self, input: &Value, sandbox: &RegoSandbox) -> PolicyOutcome {
        match self {
            Self::Validators(validators) => validator_outcome(validators, input),
            Self::Rego(module) => rego_outcome(sandbox.evaluate(module, input).await),
        }
    }
}

/// Checks a policy before it is saved: its shape, its validators compiled, its Rego module
/// compiled and evaluated once on an empty input by a policy worker.
pub async fn check(body: &PolicyBody, sandbox: &RegoSandbox) -> Result<(), SettingsError> {
    match CompiledPolicy::compile(body)? {
        CompiledPolicy::Validators(_) => Ok(()),
        CompiledPolicy::Rego(module) => sandbox.check(&module).await,
    }
}

fn validator_outcome(validators: &CompiledValidators, input: &Value) -> PolicyOutcome {
    let outcomes = validators.check(input);
    let rejection = outcomes.iter().find(|outcome| !outcome.passed).map(|failed| PolicyRejection {
        code: failed.rule.error_code,
        description: failed.rule.error_description.clone(),
        internal: None,
    });
    let checks = outcomes
        .iter()
        .map(|outcome| PolicyCheck {
            name: describe(outcome.rule),
            passed: outcome.passed,
            detail: (!outcome.passed)
                .then(|| format!("{}: {}", outcome.rule.error_code.as_str(), outcome.rule.error_description)),
        })
        .collect();
    PolicyOutcome { checks, rejection }
}

/// The rule in words, e.g. `software_statement.software_roles in ["AISP","PISP"]`.
fn describe(rule: &ValidatorRule) -> String {
    if rule.comparator.takes_value() {
        format!("{} {} {}", rule.field, rule.comparator.as_str(), rule.value)
    } else {
        format!("{} {}", rule.field, rule.comparator.as_str())
    }
}

/// A description a TPP can be given: control characters as spaces, at most
/// [`MAX_DESCRIPTION_LEN`] characters (a `deny` message may quote the request at any length).
fn one_line(text: &str) -> String {
    let mut line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_DESCRIPTION_LEN).collect();
    if text.chars().nth(MAX_DESCRIPTION_LEN).is_some() {
        line.pop();
        line.push('…');
    }
    line
}

fn rego_outcome(evaluated: Result<RegoVerdict, String>) -> PolicyOutcome {
    let rejection =
        |description: String, internal: Option<String>| PolicyRejection { code: REGO_ERROR_CODE, description, internal };
    match evaluated {
        Ok(verdict) => {
            let denied = (!verdict.deny.is_empty()).then(|| one_line(&verdict.deny.join("; ")));
            let checks = vec![
                PolicyCheck {
                    name: "allow".to_owned(),
                    passed: verdict.allow,
                    detail: (!verdict.allow).then(|| "allow is not true".to_owned()),
                },
                PolicyCheck { name: "deny".to_owned(), passed: denied.is_none(), detail: denied.clone() },
            ];
            let rejection = match (verdict.allow, denied) {
                (_, Some(messages)) => Some(rejection(messages, None)),
                (false, None) => Some(rejection("the registration is not allowed by the workspace's policy".to_owned(), None)),
                (true, None) => None,
            };
            PolicyOutcome { checks, rejection }
        }
        Err(reason) => PolicyOutcome {
            checks: vec![PolicyCheck { name: "evaluation".to_owned(), passed: false, detail: Some(reason.clone()) }],
            rejection: Some(rejection(UNEVALUABLE.to_owned(), Some(reason))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_messages_are_cut_to_one_bounded_line() {
        assert_eq!(one_line("a\nb\tc"), "a b c");
        let long = "x".repeat(MAX_DESCRIPTION_LEN + 10);
        let cut = one_line(&long);
        assert_eq!((cut.chars().count(), cut.ends_with('…')), (MAX_DESCRIPTION_LEN, true));
        assert_eq!(one_line(&long[..MAX_DESCRIPTION_LEN]), long[..MAX_DESCRIPTION_LEN]);
    }
}
