//! The register use case: the pipeline of `oauth2::registration` with the I/O its stages need
//! in between (client certificate trust, key fetching, storage), and an audit event for every
//! attempt.

mod admission;
mod attempt;
mod failure;
mod issuance;
mod validation;

use std::collections::BTreeMap;

use axum::body::Bytes;
use serde_json::value::RawValue;

use app::domain::workspace::Workspace;
pub use app::services::clients::DCR_REGISTER_SCOPE;

pub(crate) use self::attempt::{Attempt, record_failure, record_rejection};
pub use self::failure::{DCR_DISABLED, Failure, INSUFFICIENT_SCOPE, TOKEN_REQUIRED, TokenProblem};
pub(crate) use self::issuance::{Issue, registered_client, replay_guard};
pub(crate) use self::validation::{validate, validate_traced};
use super::client_certificate;
use super::rate_limits::{Rule, Throttled};
use crate::listener::Connection;
use crate::oauth2::registration::{RegistrationError, ValidatedRegistration};
use crate::state::ServerState;

/// A registration request as it arrived.
pub struct Incoming {
    /// The `Authorization` header, for workspaces that protect registration with a token.
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
    pub connection: Connection,
    /// The headers a DCR policy may read ([`super::policy_check::POLICY_HEADERS`]).
    pub headers: BTreeMap<String, String>,
}

/// Runs a registration; returns the 201 body.
pub async fn register(state: &ServerState, workspace: &Workspace, incoming: Incoming) -> Result<Box<RawValue>, Failure> {
    let now = state.app.clock.now();
    let certificate = client_certificate::check(state, workspace, &incoming.connection, now).await;
    let address = incoming.connection.remote_addr.map(|a| a.ip());
    let mut attempt = Attempt::new(&incoming.connection, &certificate);
    let outcome = async {
        // Before any work.
        state.protocol.rate_limits.check_address(workspace, Rule::RegistrationsPerIp, address).map_err(throttled(workspace))?;
        let consumed_token = admission::admit(state, workspace, &incoming, now).await?;
        let validated = validate(state, workspace, &incoming, &certificate, now, &mut attempt).await?;
        within_software_rate(state, workspace, &validated)?;
        issuance::store(state, workspace, &validated, consumed_token.as_deref(), now, &attempt).await
    }
    .await;
    if let Err(failure) = &outcome
        && failure.is_recorded()
    {
        record_rejection(state, workspace, failure, &attempt, now).await;
    }
    outcome
}

/// The rate a valid registration must still keep: its software's, when a verified software
/// statement names it (a software id the request merely claims is not counted, so nobody spends
/// another TPP's allowance; the address's rate still holds). The workspace's cap on dynamically
/// registered clients is kept by the write itself.
fn within_software_rate(state: &ServerState, workspace: &Workspace, validated: &ValidatedRegistration) -> Result<(), Failure> {
    if let Some(statement) = &validated.software_statement {
        state
            .protocol
            .rate_limits
            .check(workspace, Rule::RegistrationsPerSoftware, &statement.software_id)
            .map_err(throttled(workspace))?;
    }
    Ok(())
}

/// Logs a throttled request (without its credentials) and makes it the failure.
pub(crate) fn throttled(workspace: &Workspace) -> impl Fn(Throttled) -> Failure + '_ {
    move |throttled| {
        tracing::info!(workspace = %workspace.reference(), rule = ?throttled.rule, "registration request throttled");
        Failure::Throttled(throttled)
    }
}

/// Refuses a registration whose body was not taken (too large, or unreadable), so it never
/// reached the pipeline. It counts against its address's registration rate like any other, and
/// past that rate is recorded as throttled once a minute: a flood of large bodies must not
/// become a flood of writes either. The answer is the failure: the refusal, or throttled.
pub async fn refuse_unread(
    state: &ServerState,
    workspace: &Workspace,
    error: RegistrationError,
    connection: &Connection,
) -> Failure {
    let address = connection.remote_addr.map(|a| a.ip());
    let within_rate = state.protocol.rate_limits.check_address(workspace, Rule::RegistrationsPerIp, address);
    let failure = within_rate.map_or_else(throttled(workspace), |()| Failure::Rejected(error));
    if failure.is_recorded() {
        let now = state.app.clock.now();
        let attempt = Attempt::new(connection, &client_certificate::check(state, workspace, connection, now).await);
        record_rejection(state, workspace, &failure, &attempt, now).await;
    }
    failure
}
