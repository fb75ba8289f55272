//! The registration pipeline's checks as a record: what a dry run shows an administrator, rule
//! by rule. The server fills a [`Trace`] while it runs the same pipeline a real registration
//! runs, so the two cannot disagree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ids::PolicyId;

/// Which part of the pipeline a check belongs to, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Whether the endpoint takes registrations at all.
    Admission,
    /// The client certificate (mutual TLS).
    Transport,
    /// The request body: its content type and shape.
    Body,
    SoftwareStatement,
    /// The request's signature.
    Signature,
    /// The request's claims and metadata against the built-in rules.
    Claims,
    /// The workspace's DCR policy.
    Policy,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Self; 7] =
        [Self::Admission, Self::Transport, Self::Body, Self::SoftwareStatement, Self::Signature, Self::Claims, Self::Policy];

    pub fn label(self) -> &'static str {
        match self {
            Self::Admission => "Admission",
            Self::Transport => "Transport",
            Self::Body => "Request body",
            Self::SoftwareStatement => "Software statement",
            Self::Signature => "Signature",
            Self::Claims => "Claims",
            Self::Policy => "Policy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// Not checked, with the reason in `detail` (e.g. a token a dry run cannot present).
    Skipped,
}

/// One check of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineCheck {
    pub stage: Stage,
    pub name: String,
    pub outcome: CheckOutcome,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The checks made so far, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub checks: Vec<PipelineCheck>,
}

impl Trace {
    pub fn push(&mut self, stage: Stage, name: impl Into<String>, outcome: CheckOutcome, detail: Option<String>) {
        self.checks.push(PipelineCheck { stage, name: name.into(), outcome, detail });
    }

    pub fn pass(&mut self, stage: Stage, name: impl Into<String>) {
        self.push(stage, name, CheckOutcome::Passed, None);
    }

    pub fn skip(&mut self, stage: Stage, name: impl Into<String>, reason: impl Into<String>) {
        self.push(stage, name, CheckOutcome::Skipped, Some(reason.into()));
    }

    /// Records `result` as the outcome of the check `name` (a failure described by `detail`)
    /// and hands it back, so a pipeline step reads `trace.record(stage, name, step(..), ..)?`.
    pub fn record<T, E>(
        &mut self,
        stage: Stage,
        name: impl Into<String>,
        result: Result<T, E>,
        detail: impl FnOnce(&E) -> String,
    ) -> Result<T, E> {
        match &result {
            Ok(_) => self.pass(stage, name),
            Err(error) => self.push(stage, name, CheckOutcome::Failed, Some(detail(error))),
        }
        result
    }

    /// The first check that failed.
    pub fn first_failure(&self) -> Option<&PipelineCheck> {
        self.checks.iter().find(|check| check.outcome == CheckOutcome::Failed)
    }

    /// After the failure the pipeline stopped at, a skipped row for each later stage it did
    /// not reach, so a report shows what was left unchecked as well as what was checked.
    pub fn mark_unreached(&mut self) {
        let Some(stopped) = self.checks.iter().rev().find(|check| check.outcome == CheckOutcome::Failed).map(|c| c.stage) else {
            return;
        };
        for stage in Stage::ALL.into_iter().skip_while(|stage| *stage != stopped).skip(1) {
            if !self.checks.iter().any(|check| check.stage == stage) {
                self.skip(stage, "not reached", "a registration stops at its first failed check");
            }
        }
    }
}

/// The registration request of a dry run: a compact JWS as a TPP would send it, or the claims
/// as JSON (sent as an unsigned `application/json` body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DryRunBody {
    Jws(String),
    Claims(Map<String, Value>),
}

/// What a dry run is asked to check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryRunRequest {
    pub request: DryRunBody,
    /// A software statement to put in the claims (only with claims; a JWS carries its own).
    #[serde(default)]
    pub software_statement: Option<String>,
    /// The client certificate (PEM, leaf first, intermediates after) the TPP would present.
    #[serde(default)]
    pub client_certificate_pem: Option<String>,
    /// Check this policy instead of the one the DCR settings name (to try one before
    /// attaching it).
    #[serde(default)]
    pub policy_id: Option<PolicyId>,
    /// Request headers a policy reads (`user-agent`, `x-fapi-interaction-id`,
    /// `x-fapi-financial-id`, `x-forwarded-for`); `content-type` follows from `request`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// What the register endpoint would answer, and every check that led there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunReport {
    pub accepted: bool,
    /// The HTTP status the endpoint would answer with.
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    pub checks: Vec<PipelineCheck>,
    /// What the verdict leaves out, e.g. an access token the endpoint requires and a dry run
    /// cannot present.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_trace_records_each_check_and_hands_results_back() {
        let mut trace = Trace::default();
        assert_eq!(trace.record(Stage::Body, "is JSON", Ok::<_, String>(1), String::clone), Ok(1));
        trace.skip(Stage::Admission, "token", "a dry run presents no token");
        let refused = trace.record(Stage::Claims, "aud", Err::<(), _>("not accepted"), |e| format!("aud: {e}"));
        assert_eq!(refused, Err("not accepted"));
        let failure = trace.first_failure().map(|check| (check.name.as_str(), check.detail.as_deref()));
        assert_eq!(failure, Some(("aud", Some("aud: not accepted"))));
        assert_eq!(trace.checks.len(), 3);
    }

    #[test]
    fn the_stages_after_the_failure_that_stopped_the_pipeline_are_marked_unreached() {
        let mut trace = Trace::default();
        let _ = trace.record(Stage::Admission, "enabled", Err::<(), _>("off"), ToString::to_string);
        trace.pass(Stage::Transport, "certificate");
        let _ = trace.record(Stage::SoftwareStatement, "issuer", Err::<(), _>("untrusted"), ToString::to_string);
        trace.mark_unreached();
        let unreached: Vec<Stage> =
            trace.checks.iter().filter(|check| check.outcome == CheckOutcome::Skipped).map(|check| check.stage).collect();
        assert_eq!(unreached, [Stage::Signature, Stage::Claims, Stage::Policy], "after the last failure, not the first");

        let mut passed = Trace::default();
        passed.pass(Stage::Claims, "aud");
        passed.mark_unreached();
        assert_eq!(passed.checks.len(), 1, "nothing is added when nothing failed");
    }

    #[test]
    fn a_request_is_a_jws_or_claims() {
        let jws: DryRunRequest = serde_json::from_value(json!({"request": "a.b.c"})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(jws.request, DryRunBody::Jws("a.b.c".to_owned()));
        let claims: DryRunRequest =
            serde_json::from_value(json!({"request": {"client_name": "x"}, "software_statement": "s.s.s"}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(claims.request, DryRunBody::Claims(_)));
        assert!(serde_json::from_value::<DryRunRequest>(json!({"request": 3})).is_err());
        assert!(serde_json::from_value::<DryRunRequest>(json!({"request": "a.b.c", "extra": 1})).is_err());
    }
}
