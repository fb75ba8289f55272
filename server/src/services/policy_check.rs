//! The last stage of a registration: the workspace's DCR policy, evaluated on the input
//! document every policy reads. A policy that is missing, does not compile or cannot be
//! evaluated refuses the registration (the reason goes to the log), so a broken policy never
//! lets a registration through.

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

use app::domain::dry_run::{CheckOutcome, Stage, Trace};
use app::domain::ids::{PolicyId, WorkspaceRef};
use app::domain::policy::{Policy, PolicyErrorCode};
use app::domain::workspace::Workspace;
use app::policy::{PolicyOutcome, UNEVALUABLE};

use super::registration::Failure;
use crate::oauth2::registration::{RegistrationError, ValidatedRegistration};
use crate::state::ServerState;
use crate::tls::client_trust::CertificateFacts;

/// The request headers a policy may read. Never credentials: `Authorization` is not among them.
pub const POLICY_HEADERS: [&str; 5] =
    [CONTENT_TYPE, "user-agent", "x-fapi-interaction-id", "x-fapi-financial-id", "x-forwarded-for"];

/// The longest header value a policy sees.
const MAX_HEADER_LEN: usize = 1024;

/// The header a request's body type is read from.
pub const CONTENT_TYPE: &str = "content-type";

/// The [`POLICY_HEADERS`] a request carries, by lowercase name.
pub fn policy_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    select_headers(|name| headers.get(name).and_then(|value| value.to_str().ok()))
}

/// The [`POLICY_HEADERS`] `value_of` gives, each cut to [`MAX_HEADER_LEN`] characters.
pub fn select_headers<'a>(value_of: impl Fn(&str) -> Option<&'a str>) -> BTreeMap<String, String> {
    POLICY_HEADERS
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), value_of(name)?.chars().take(MAX_HEADER_LEN).collect())))
        .collect()
}

/// The document every policy reads: `{request, registration, software_statement,
/// client_certificate, headers, workspace}` (absent parts are `null`; `request` is the claims
/// as sent but a `client_secret`). `client_certificate` is
/// there only when the certificate chains to one of the workspace's trusted CAs.
pub fn policy_input(
    workspace: &Workspace,
    claims: &Map<String, Value>,
    validated: &ValidatedRegistration,
    certificate: Option<&CertificateFacts>,
    headers: &BTreeMap<String, String>,
) -> Value {
    let (registration, ssa) = (&validated.metadata, validated.software_statement.as_ref());
    let mut registered = serde_json::to_value(registration).unwrap_or(Value::Null);
    if let Some(fields) = registered.as_object_mut() {
        fields.insert("scope".to_owned(), Value::String(registration.scopes.join(" ")));
    }
    // A client's secret (an update may carry it) is no policy's business: a message that
    // quotes the request would hand it on.
    let request: Map<String, Value> =
        claims.iter().filter(|(name, _)| name.as_str() != "client_secret").map(|(k, v)| (k.clone(), v.clone())).collect();
    json!({
        "request": request,
        "registration": registered,
        "software_statement": ssa.map(|s| &s.claims),
        "client_certificate": certificate,
        "headers": headers,
        "workspace": {"id": workspace.id.as_str(), "profile": workspace.profile.as_str()},
    })
}

/// Evaluates the policy the DCR settings name (or `instead`, for a dry run) on the document
/// `input` makes, recording each of its checks. No policy: nothing to check, and no document
/// made (it parses the client certificate and copies the request, about 6% of a
/// registration's CPU).
pub async fn check_policy(
    state: &ServerState,
    workspace: &Workspace,
    input: impl FnOnce() -> Value,
    instead: Option<&PolicyId>,
    trace: &mut Trace,
) -> Result<(), Failure> {
    let Some(id) = instead.or(workspace.dcr.policy_id.as_ref()) else {
        trace.skip(Stage::Policy, "DCR policy", "no policy is attached to the register endpoint");
        return Ok(());
    };
    let at = workspace.reference();
    let policy = match state.app.store.policy(&at, id).await {
        Ok(policy) => policy,
        Err(error) => return Err(Failure::Internal(error.to_string())),
    };
    let outcome = match policy {
        Some(policy) => evaluate(state, at.clone(), policy, input()).await,
        None => Err(format!("policy '{id}' does not exist")),
    };
    match outcome {
        Ok(outcome) => record(trace, id, outcome),
        Err(reason) => {
            tracing::warn!(workspace = %at, policy = %id, %reason, "registration refused: the policy could not be evaluated");
            trace.push(Stage::Policy, format!("policy '{id}'"), CheckOutcome::Failed, Some(reason));
            Err(refused(PolicyErrorCode::InvalidClientMetadata, UNEVALUABLE.to_owned()))
        }
    }
}

/// Compiles (when the cache does not hold this version, off the async runtime: validators
/// compile their patterns) and evaluates: validators here, a Rego module in a policy worker.
async fn evaluate(state: &ServerState, at: WorkspaceRef, policy: Policy, input: Value) -> Result<PolicyOutcome, String> {
    let cache = state.app.policies.clone();
    let compiled = tokio::task::spawn_blocking(move || {
        cache.compiled(&at, &policy).map_err(|e| format!("policy '{}' does not compile: {e}", policy.id))
    })
    .await
    .map_err(|e| format!("the compilation stopped: {e}"))??;
    Ok(compiled.evaluate(&input, &state.app.rego).await)
}

fn record(trace: &mut Trace, id: &PolicyId, outcome: PolicyOutcome) -> Result<(), Failure> {
    for check in outcome.checks {
        let result = if check.passed { CheckOutcome::Passed } else { CheckOutcome::Failed };
        trace.push(Stage::Policy, format!("{id}: {}", check.name), result, check.detail);
    }
    match outcome.rejection {
        None => Ok(()),
        Some(rejection) => {
            if let Some(reason) = &rejection.internal {
                tracing::warn!(policy = %id, %reason, "registration refused: the policy could not be evaluated");
            }
            Err(refused(rejection.code, rejection.description))
        }
    }
}

fn refused(code: PolicyErrorCode, description: String) -> Failure {
    Failure::Rejected(RegistrationError::RefusedByPolicy { code, description })
}
