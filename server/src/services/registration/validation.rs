//! The validation pipeline of `oauth2::registration`, with the I/O its stages need in between
//! (client certificate trust, key fetching, the DCR policy), each check recorded for a dry run.

use chrono::{DateTime, Utc};

use app::domain::dry_run::{CheckOutcome, Stage, Trace};
use app::domain::ids::PolicyId;
use app::domain::workspace::Workspace;

use super::super::{keys, policy_check};
use super::{Attempt, Failure, Incoming};
use crate::oauth2::registration::{
    self as pipeline, ClientCertificateCheck, RegistrationPolicy, RegistrationRequest, ValidatedRegistration,
};
use crate::oauth2::software_statement;
use crate::state::ServerState;
use crate::tls::client_trust;

/// The whole validation pipeline of a registration request (POST and PUT alike).
pub(crate) async fn validate(
    state: &ServerState,
    workspace: &Workspace,
    incoming: &Incoming,
    certificate: &ClientCertificateCheck,
    now: DateTime<Utc>,
    attempt: &mut Attempt,
) -> Result<ValidatedRegistration, Failure> {
    validate_traced(state, workspace, incoming, certificate, now, attempt, &mut Trace::default(), None).await
}

/// [`validate`], recording every check in `trace`; a dry run may name a policy to check
/// `instead` of the attached one.
#[expect(clippy::too_many_arguments, reason = "the pipeline's inputs, each distinct; a struct would only rename them")]
pub(crate) async fn validate_traced(
    state: &ServerState,
    workspace: &Workspace,
    incoming: &Incoming,
    certificate: &ClientCertificateCheck,
    now: DateTime<Utc>,
    attempt: &mut Attempt,
    trace: &mut Trace,
    instead: Option<&PolicyId>,
) -> Result<ValidatedRegistration, Failure> {
    let dcr = &workspace.dcr;
    step(trace, Stage::Transport, "client certificate", pipeline::check_transport(dcr, certificate))?;
    let request = step(
        trace,
        Stage::Body,
        "content type and shape",
        RegistrationRequest::parse(incoming.content_type.as_deref(), &incoming.body, dcr),
    )?;
    let inspected = pipeline::inspect_software_statement(&request, dcr).map_err(Failure::from);
    let ssa = match inspected {
        Err(failure) => {
            trace.push(
                Stage::SoftwareStatement,
                "present, well-formed, from a trusted issuer",
                CheckOutcome::Failed,
                Some(failure.detail()),
            );
            return Err(failure);
        }
        Ok(None) => {
            trace.skip(Stage::SoftwareStatement, "software statement", "none was sent, and this workspace does not require one");
            None
        }
        Ok(Some(unverified)) => {
            trace.pass(Stage::SoftwareStatement, "present, well-formed, from a trusted issuer");
            let keys = step(
                trace,
                Stage::SoftwareStatement,
                "the issuer's keys are available",
                keys::software_statement_keys(state, workspace, unverified.issuer(), unverified.kid()).await,
            )?;
            let verified = step(
                trace,
                Stage::SoftwareStatement,
                "signature, validity and organisation",
                software_statement::verify(unverified, &keys, now, dcr.max_software_statement_age_seconds),
            )?;
            // Only a verified statement's: anyone can claim another's software in a statement
            // that fails, and the audit log would file the failure under it.
            attempt.software_id = Some(verified.software_id.clone());
            attempt.org_id.clone_from(&verified.org_id);
            Some(verified)
        }
    };
    let claims = match &request {
        RegistrationRequest::Signed(jws) => {
            let source = step(
                trace,
                Stage::Signature,
                "the request's signing keys are known",
                pipeline::request_key_source(dcr, ssa.as_ref()),
            )?;
            let keys = step(
                trace,
                Stage::Signature,
                "the signing keys are available",
                keys::request_keys(state, workspace, source, jws.kid()).await,
            )?;
            step(trace, Stage::Signature, "the request's signature", pipeline::verify_request(jws, &keys))?
        }
        RegistrationRequest::Plain(claims) => {
            trace.skip(
                Stage::Signature,
                "the request's signature",
                "the request is not signed, and this workspace does not require it",
            );
            claims
        }
    };
    if dcr.bind_transport_certificate {
        let source = step(trace, Stage::Transport, "the software's key set", pipeline::software_key_source(ssa.as_ref()))?;
        let software_keys = step(
            trace,
            Stage::Transport,
            "the software's key set is available",
            keys::request_keys(state, workspace, source, None).await,
        )?;
        let leaf = incoming.connection.client_chain.as_ref().and_then(|chain| chain.first()).map(AsRef::as_ref);
        step(
            trace,
            Stage::Transport,
            "the client certificate is one of the software's transport certificates",
            pipeline::check_transport_binding(&software_keys, leaf),
        )?;
    }
    let policy = RegistrationPolicy { profile: workspace.profile, settings: &workspace.settings };
    let signed = matches!(request, RegistrationRequest::Signed(_));
    let validated = pipeline::validate_traced(claims, signed, ssa, &policy, now, trace)?;
    let input = || {
        // A policy sees a certificate only once it is trusted: a self-signed one proves nothing.
        let leaf = incoming.connection.client_chain.as_ref().and_then(|chain| chain.first());
        let facts = match certificate {
            ClientCertificateCheck::Trusted { .. } => leaf.and_then(client_trust::certificate_facts),
            _ => None,
        };
        policy_check::policy_input(workspace, claims, &validated, facts.as_ref(), &incoming.headers)
    };
    policy_check::check_policy(state, workspace, input, instead, trace).await?;
    Ok(validated)
}

/// Records one step's result in `trace` (a failure with its wire code) and hands it back.
fn step<T, E: Into<Failure>>(trace: &mut Trace, stage: Stage, name: &str, result: Result<T, E>) -> Result<T, Failure> {
    trace.record(stage, name, result.map_err(Into::into), Failure::detail)
}
