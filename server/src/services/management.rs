//! Registration management (OBUK DCR v3.2 §GET/PUT/DELETE, RFC 7592): a client reads, replaces
//! or deletes its own registration with a bearer token — an access token issued to it by
//! `client_credentials` and bound to its certificate, or its `registration_access_token`. Unknown clients and bad tokens get
//! 401 (and an access token presented for an unknown client is revoked), one answer for both so
//! that a caller without a valid token cannot learn which client ids exist; a valid token of
//! another client gets 403. Every operation is an audit event; refusals beyond the address's
//! registration rate get 429 instead, and only the first of each minute is recorded.

use serde_json::Value;

use app::domain::audit::AuditEventType;
use app::domain::client::ClientDetails;
use app::domain::dn::DistinguishedName;
use app::domain::workspace::{Profile, Workspace};
use app::secrets::{self, SecretHash};
use app::storage::StoreError;

use super::client_certificate;
use super::rate_limits::Rule;
use super::registration::{self, Attempt, DCR_REGISTER_SCOPE, Failure, Incoming, Issue};
use super::token;
use crate::listener::Connection;
use crate::oauth2::bearer::bearer_token;
use crate::oauth2::jose::CompactJws;
use crate::oauth2::registration::{ClientCertificateCheck, RegistrationError};
use crate::oauth2::software_statement::SoftwareStatement;
use crate::oauth2::token::certificate_thumbprint;
use crate::state::ServerState;

/// Why a management request was refused.
#[derive(Debug)]
pub enum Refusal {
    /// 401 with `WWW-Authenticate: Bearer` and no error code (RFC 6750 §3.1): no token at all.
    TokenMissing,
    /// 401 with `WWW-Authenticate: Bearer error="invalid_token"`, saying why: the caller holds
    /// a valid token (or has been told what it lacks), so the reason tells it nothing new.
    Unauthorized(&'static str),
    /// 401 `invalid_token` for a token that proves nothing: the answer is the same whether or
    /// not the client exists, so it cannot be used to find client ids; `why` (an unknown
    /// client, an unknown or expired token) goes to the audit log only.
    TokenNotValid(&'static str),
    /// 403: registration is switched off for the workspace, so nothing may change.
    Disabled,
    /// 403: the token belongs to another client.
    Forbidden,
    /// A PUT body broke a registration rule, or the pipeline could not run.
    Registration(Failure),
}

impl From<Failure> for Refusal {
    fn from(failure: Failure) -> Self {
        Self::Registration(failure)
    }
}

impl Refusal {
    pub const FORBIDDEN: &str = "the token was issued to another client";
    pub const TOKEN_MISSING: &str = "a bearer token is required";
    pub const TOKEN_NOT_VALID: &str = "the token is not valid for this client";

    /// The wire error code and description, as recorded in the audit log.
    fn audit_code(&self) -> (&'static str, String) {
        match self {
            Self::TokenMissing => ("invalid_token", Self::TOKEN_MISSING.to_owned()),
            Self::Unauthorized(why) => ("invalid_token", (*why).to_owned()),
            Self::TokenNotValid(why) => ("invalid_token", format!("{}: {why}", Self::TOKEN_NOT_VALID)),
            Self::Disabled => ("access_denied", registration::DCR_DISABLED.to_owned()),
            Self::Forbidden => ("access_denied", Self::FORBIDDEN.to_owned()),
            Self::Registration(failure) => failure.audit_code(),
        }
    }
}

/// GET: the registration as it was returned at registration, without secrets.
pub async fn read(
    state: &ServerState,
    workspace: &Workspace,
    client_id: &str,
    authorization: Option<&str>,
    connection: &Connection,
) -> Result<Value, Refusal> {
    let (mut attempt, certificate) = attempt(state, workspace, client_id, connection).await;
    let outcome = authorize(state, workspace, client_id, authorization, connection, &certificate).await;
    let outcome = outcome.inspect(|client| attempt.names_software_of(client));
    Ok(audited(state, workspace, AuditEventType::DcrRead, outcome, &attempt, connection, Counted::NotYet).await?.metadata)
}

/// DELETE: the client and every token issued to it end at once.
pub async fn delete(
    state: &ServerState,
    workspace: &Workspace,
    client_id: &str,
    authorization: Option<&str>,
    connection: &Connection,
) -> Result<(), Refusal> {
    let (mut attempt, certificate) = attempt(state, workspace, client_id, connection).await;
    let outcome = match authorize(state, workspace, client_id, authorization, connection, &certificate).await {
        Ok(client) => {
            attempt.names_software_of(&client);
            let event = attempt.event(workspace, AuditEventType::DcrDeleted, state.app.clock.now());
            match state.app.store.delete_client(&workspace.reference(), client_id, &event).await {
                Ok(true) => return Ok(()),
                Ok(false) => Err(Refusal::Unauthorized("unknown client")),
                Err(error) => Err(Refusal::Registration(Failure::Internal(error.to_string()))),
            }
        }
        Err(refusal) => Err(refusal),
    };
    audited(state, workspace, AuditEventType::DcrDeleted, outcome, &attempt, connection, Counted::NotYet).await
}

/// A PUT its caller may make: checked before the body is read, so an unauthorised caller's
/// body is never read (nor refused as too large before the 401 it is due).
pub struct UpdateGrant {
    existing: ClientDetails,
    attempt: Attempt,
    certificate: ClientCertificateCheck,
}

/// PUT, first step: the token must be the client's own, and registration switched on (while
/// off, clients can still read and delete theirs). A refusal is audited.
pub async fn authorize_update(
    state: &ServerState,
    workspace: &Workspace,
    client_id: &str,
    authorization: Option<&str>,
    connection: &Connection,
) -> Result<UpdateGrant, Refusal> {
    let (mut attempt, certificate) = attempt(state, workspace, client_id, connection).await;
    let outcome = match authorize(state, workspace, client_id, authorization, connection, &certificate).await {
        Ok(client) => {
            attempt.names_software_of(&client);
            if workspace.dcr.enabled { Ok(client) } else { Err(Refusal::Disabled) }
        }
        refused => refused,
    };
    let existing = match outcome {
        Ok(existing) => existing,
        refused @ Err(_) => {
            audited(state, workspace, AuditEventType::DcrUpdated, refused, &attempt, connection, Counted::NotYet).await?
        }
    };
    Ok(UpdateGrant { existing, attempt, certificate })
}

/// PUT, second step: a complete registration request, validated by exactly the POST pipeline;
/// the client keeps its id, its secrets and its tokens.
pub async fn update(
    state: &ServerState,
    workspace: &Workspace,
    grant: UpdateGrant,
    incoming: Incoming,
) -> Result<Value, Refusal> {
    let UpdateGrant { existing, mut attempt, certificate } = grant;
    // An update runs the registration's whole pipeline (key fetches, the policy): it counts
    // against the address's registration rate before any of that work, as a registration does,
    // and its refusal is not counted again.
    let address = incoming.connection.remote_addr.map(|a| a.ip());
    let outcome = match state.protocol.rate_limits.check_address(workspace, Rule::RegistrationsPerIp, address) {
        Ok(()) => {
            let replaced = replace(state, workspace, &existing, &incoming, &certificate, &mut attempt).await;
            // A refusal is the client's event: it names the client's software and organisation,
            // not those of a statement presented to move it elsewhere (the refusal says why).
            if replaced.is_err() {
                attempt.names_software_of(&existing);
            }
            replaced
        }
        Err(over) => Err(Refusal::Registration(registration::throttled(workspace)(over))),
    };
    audited(state, workspace, AuditEventType::DcrUpdated, outcome, &attempt, &incoming.connection, Counted::Already).await
}

/// PUT, when the body could not be taken (too large, or unreadable): refused, and audited as
/// the client's update.
pub async fn refuse_unread(
    state: &ServerState,
    workspace: &Workspace,
    grant: UpdateGrant,
    error: RegistrationError,
    connection: &Connection,
) -> Refusal {
    let refusal = Refusal::Registration(Failure::Rejected(error));
    refused(state, workspace, AuditEventType::DcrUpdated, refusal, &grant.attempt, connection, Counted::NotYet).await
}

async fn replace(
    state: &ServerState,
    workspace: &Workspace,
    existing: &ClientDetails,
    incoming: &Incoming,
    certificate: &ClientCertificateCheck,
    attempt: &mut Attempt,
) -> Result<Value, Refusal> {
    let now = state.app.clock.now();
    let validated = registration::validate(state, workspace, incoming, certificate, now, attempt).await?;
    let client_id = &existing.summary.client_id;
    if claimed(incoming, "client_id").is_some_and(|named| named.as_str() != Some(client_id)) {
        return Err(invalid("client_id", "must be the client_id of the registration being updated").into());
    }
    if validated.metadata.software_id != existing.summary.software_id {
        return Err(invalid("software_id", "cannot change").into());
    }
    same_statement_origin(existing, validated.software_statement.as_ref()).map_err(Failure::Rejected)?;
    let stored = state.app.store.client_with_credentials(&workspace.reference(), client_id).await.map_err(internal)?;
    let (_, credentials) = stored.ok_or(Refusal::Unauthorized("unknown client"))?;
    // RFC 7592 §2.2: a `client_secret` in the request must be the one currently issued.
    if let Some(presented) = claimed(incoming, "client_secret") {
        let current = presented.as_str().zip(credentials.client_secret_hash.clone());
        if !current.is_some_and(|(secret, hash)| SecretHash::from_stored(hash).matches(secret)) {
            return Err(invalid("client_secret", "must be the client's current secret").into());
        }
    }
    if validated.metadata.token_endpoint_auth_method.uses_client_secret() && credentials.client_secret_hash.is_none() {
        return Err(
            invalid("token_endpoint_auth_method", "cannot change to a client secret method: register a new client").into()
        );
    }
    // A secret belongs to the secret methods: leaving them forgets it, so it cannot come back.
    let kept_secret_hash =
        credentials.client_secret_hash.filter(|_| validated.metadata.token_endpoint_auth_method.uses_client_secret());
    let issue = Issue {
        client_id: client_id.clone(),
        issued_at: existing.summary.created_at,
        has_client_secret: kept_secret_hash.is_some(),
    };
    let mut client = registration::registered_client(state, workspace, &validated, &issue);
    client.client_secret_hash = kept_secret_hash;
    client.registration_access_token_hash = credentials.registration_access_token_hash;
    let replay = registration::replay_guard(workspace, &validated);
    let event = attempt.event(workspace, AuditEventType::DcrUpdated, now);
    match state.app.store.update_client(&client, replay.as_ref(), &event).await {
        Ok(true) => Ok(client.metadata),
        Ok(false) => Err(Refusal::Unauthorized("unknown client")),
        Err(StoreError::Replayed) => Err(Failure::Rejected(RegistrationError::Replayed).into()),
        Err(other) => Err(internal(other)),
    }
}

/// Checks the caller: in an OBUK workspace that requires mutual TLS, a trusted client
/// certificate; then the bearer token: an active access token of this workspace issued to this
/// client, bound to the certificate it is presented with, or this client's registration access
/// token. Only dynamically registered clients are managed here: administrators' clients are not
/// reachable through this endpoint, and a `dcr_register` token authorises nothing but one POST.
async fn authorize(
    state: &ServerState,
    workspace: &Workspace,
    client_id: &str,
    authorization: Option<&str>,
    connection: &Connection,
    certificate: &ClientCertificateCheck,
) -> Result<ClientDetails, Refusal> {
    let at = workspace.reference();
    let now = state.app.clock.now();
    // No token at all is answered as such (RFC 6750 §3.1: a bare challenge), certificate or not.
    let token = bearer_token(authorization).ok_or(Refusal::TokenMissing)?;
    let needs_certificate = workspace.profile == Profile::OpenbankingUk && workspace.dcr.require_mtls;
    if needs_certificate && !matches!(certificate, ClientCertificateCheck::Trusted { .. }) {
        return Err(Refusal::Unauthorized("mutual TLS with a trusted client certificate is required"));
    }
    // Access tokens are JWTs; registration access tokens hold no '.': only the store that can
    // hold the presented kind is asked.
    if !token.contains('.') {
        return by_registration_access_token(state, &at, client_id, token, certificate).await;
    }
    // The token first: one that proves nothing never has the path's client looked up, so the
    // answer and its timing are the same whether or not that client exists.
    let Some(record) = token::presented_access_token(state, token).await.map_err(internal)? else {
        return Err(Refusal::TokenNotValid("an unknown access token"));
    };
    if record.workspace != at || !record.is_active(now) || record.has_scope(DCR_REGISTER_SCOPE) {
        return Err(Refusal::TokenNotValid("an expired, revoked or foreign access token"));
    }
    // An access token goes to every resource server its client calls; one not bound to a
    // certificate could be replayed by any of them to take the registration over (RFC 6750
    // §5.2). Such a client manages its registration with its registration access token
    // (RFC 7592 §2). In Open Banking UK every access token is bound.
    let Some(bound) = &record.certificate_thumbprint else {
        return Err(Refusal::Unauthorized(
            "an access token not bound to a certificate manages no registration: use the registration access token",
        ));
    };
    let presented = connection.client_chain.as_ref().and_then(|chain| chain.first()).map(|der| certificate_thumbprint(der));
    if presented.as_deref() != Some(bound.as_str()) {
        return Err(Refusal::Unauthorized("the access token is bound to another certificate"));
    }
    let client = state.app.store.client(&at, client_id).await.map_err(internal)?.filter(|c| c.summary.dynamically_registered);
    let Some(client) = client else {
        // OBUK DCR v3.2: "the ASPSP responds with an Unauthorized status code and immediately
        // revokes the access token".
        if let Err(error) = state.app.store.revoke_access_token(&record.jti, now).await {
            tracing::warn!(%error, "could not revoke a token presented for an unknown client");
        }
        return Err(Refusal::Unauthorized("unknown client"));
    };
    if record.client_id != client_id {
        return Err(Refusal::Forbidden);
    }
    Ok(client)
}

/// The client's own registration access token: the stored hash is compared in constant time,
/// and a token bound to a certificate subject works only over a trusted certificate with that
/// subject (compared as a set of attributes). The token names its client (`{client_id}~...`):
/// that client is the one looked up, not the one the path names, so a caller learns nothing
/// of the path's client from the answer or its timing. A valid token of another client is
/// refused as such (403) whether or not the path names a client at all.
async fn by_registration_access_token(
    state: &ServerState,
    at: &app::domain::ids::WorkspaceRef,
    client_id: &str,
    token: &str,
    certificate: &ClientCertificateCheck,
) -> Result<ClientDetails, Refusal> {
    // Tokens of before they named their client name none: the path's client is the one asked.
    let named = secrets::registration_token_client(token).unwrap_or(client_id);
    let stored = state.app.store.client_with_credentials(at, named).await.map_err(internal)?;
    // Only dynamically registered clients hold a registration access token.
    let owner = stored.filter(|(client, credentials)| {
        client.summary.dynamically_registered
            && credentials
                .registration_access_token_hash
                .clone()
                .is_some_and(|stored| SecretHash::from_stored(stored).matches(token))
    });
    let Some((client, credentials)) = owner else {
        return Err(Refusal::TokenNotValid("an unknown registration access token"));
    };
    if client.summary.client_id != client_id {
        return Err(Refusal::Forbidden);
    }
    if let Some(bound) = &credentials.registration_access_token_subject
        && !same_subject(bound, certificate)
    {
        return Err(Refusal::Unauthorized(
            "the registration access token is bound to the certificate subject its client registered with",
        ));
    }
    Ok(client)
}

/// Whether `certificate` is trusted and its subject is `bound`, as attribute sets (the order
/// and spelling of attribute names may differ between a renewed certificate and the first).
fn same_subject(bound: &str, certificate: &ClientCertificateCheck) -> bool {
    let ClientCertificateCheck::Trusted { subject } = certificate else { return false };
    // A subject that could not be read matches nothing.
    if bound.is_empty() || subject.is_empty() {
        return false;
    }
    // The same certificate, or one written out alike: no parsing needed.
    if bound == subject {
        return true;
    }
    // A value in RFC 4514's hex form (one with no string form, such as a BMPString) is
    // compared as written: parsed, `#1e04…` reads as the text of a string value `\#1e04…`.
    if has_hex_value(bound) || has_hex_value(subject) {
        return false;
    }
    match (DistinguishedName::parse(bound), DistinguishedName::parse(subject)) {
        (Ok(bound), Ok(presented)) => bound == presented,
        _ => bound == subject,
    }
}

/// Whether an RFC 4514 string (as `client_trust` writes it) holds a hex-form value: an
/// unescaped `#` right after `=`. A string value starting with `#` is written `\#`.
fn has_hex_value(dn: &str) -> bool {
    dn.contains("=#")
}

/// What the audit log records of a caller, and its certificate's check (made once a request).
async fn attempt(
    state: &ServerState,
    workspace: &Workspace,
    client_id: &str,
    connection: &Connection,
) -> (Attempt, ClientCertificateCheck) {
    let certificate = client_certificate::check(state, workspace, connection, state.app.clock.now()).await;
    (Attempt { client_id: Some(client_id.to_owned()), ..Attempt::new(connection, &certificate) }, certificate)
}

/// A claim of a PUT body that registration metadata does not keep (`client_id`, which the
/// conformance tool's fork sends, and `client_secret`), read after the body was validated.
fn claimed(incoming: &Incoming, name: &str) -> Option<Value> {
    let text = std::str::from_utf8(&incoming.body).ok()?;
    let mut claims = match crate::oauth2::jose::CompactJws::parse(text) {
        Ok(jws) => jws.unverified_claims().clone(),
        Err(_) => crate::oauth2::strict_json::parse_object(&incoming.body).ok()?,
    };
    claims.remove(name)
}

/// A client registered with a software statement stays with its directory and organisation:
/// an update presents a statement of the same issuer naming the same `org_id`. Otherwise a
/// token that reached another TPP could move the client under that TPP's statement, or (where
/// statements are optional) drop the statement to register keys of its own.
fn same_statement_origin(existing: &ClientDetails, updated: Option<&SoftwareStatement>) -> Result<(), RegistrationError> {
    let Some(stored) = existing.software_statement.as_deref() else { return Ok(()) };
    let updated = updated.ok_or(RegistrationError::SoftwareStatementRequiredForUpdate)?;
    // Verified when the client registered: its issuer is read, not checked again.
    let stored_issuer = CompactJws::parse(stored)
        .ok()
        .and_then(|jws| jws.unverified_claims().get("iss").and_then(Value::as_str).map(str::to_owned));
    if stored_issuer.as_deref() != Some(updated.issuer.as_str()) {
        return Err(RegistrationError::SoftwareStatementClaimInvalid {
            claim: "iss".to_owned(),
            problem: "must be the issuer of the software statement the client registered with".to_owned(),
        });
    }
    if updated.org_id != existing.summary.org_id {
        return Err(RegistrationError::SoftwareStatementClaimInvalid {
            claim: "org_id".to_owned(),
            problem: "must be the organisation the client registered with".to_owned(),
        });
    }
    Ok(())
}

fn invalid(claim: &str, problem: &str) -> Failure {
    Failure::Rejected(RegistrationError::ClaimInvalid { claim: claim.to_owned(), problem: problem.to_owned() })
}

fn internal(error: impl std::fmt::Display) -> Refusal {
    Refusal::Registration(Failure::Internal(error.to_string()))
}

/// `outcome`, audited: a success is recorded with the operation itself (delete, update) or
/// here (read); a refusal as `refused` says.
async fn audited<T>(
    state: &ServerState,
    workspace: &Workspace,
    event_type: AuditEventType,
    outcome: Result<T, Refusal>,
    attempt: &Attempt,
    connection: &Connection,
    counted: Counted,
) -> Result<T, Refusal> {
    let refusal = match outcome {
        // A read changes nothing, so its answer does not wait for its event's commit (only for
        // room in the writer's queue).
        Ok(done) if event_type == AuditEventType::DcrRead => {
            state.app.store.queue_audit_event(attempt.event(workspace, event_type, state.app.clock.now())).await;
            return Ok(done);
        }
        Ok(done) => return Ok(done),
        Err(refusal) => refusal,
    };
    Err(refused(state, workspace, event_type, refusal, attempt, connection, counted).await)
}

/// Whether a request was counted against its address's registration rate before it was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// Before its work began (an update).
    Already,
    NotYet,
}

/// `refusal`, recorded. Refusals count against the address's registration rate (once: one
/// throttled, or counted before, already has been); past it, the request is throttled instead,
/// and recorded once a minute.
async fn refused(
    state: &ServerState,
    workspace: &Workspace,
    event_type: AuditEventType,
    refusal: Refusal,
    attempt: &Attempt,
    connection: &Connection,
    counted: Counted,
) -> Refusal {
    let address = connection.remote_addr.map(|a| a.ip());
    let refusal = match refusal {
        throttled @ Refusal::Registration(Failure::Throttled(_)) => throttled,
        other if counted == Counted::Already => other,
        other => match state.protocol.rate_limits.check_address(workspace, Rule::RegistrationsPerIp, address) {
            Ok(()) => other,
            Err(over) => Refusal::Registration(registration::throttled(workspace)(over)),
        },
    };
    if let Refusal::Registration(failure) = &refusal
        && !failure.is_recorded()
    {
        return refusal;
    }
    if let Refusal::Registration(Failure::Internal(detail)) = &refusal {
        tracing::error!(workspace = %workspace.reference(), %detail, "registration management failed");
    }
    let (error, description) = refusal.audit_code();
    registration::record_failure(state, workspace, event_type, error, description, attempt, state.app.clock.now()).await;
    refusal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(subject: &str) -> ClientCertificateCheck {
        ClientCertificateCheck::Trusted { subject: subject.to_owned() }
    }

    #[test]
    fn subjects_match_as_attribute_sets_but_hex_values_only_as_written() {
        assert!(same_subject("CN=tpp,O=Bank", &trusted("O=Bank,CN=tpp")));
        assert!(same_subject("CN=#1e040061006c", &trusted("CN=#1e040061006c")));
        assert!(!same_subject("CN=#1e040061006c", &trusted("CN=\\#1e040061006c")), "a BMPString is not the text of its hex");
        assert!(!same_subject("CN=\\#1e040061006c", &trusted("CN=#1e040061006c")));
        assert!(!same_subject("", &trusted("")), "an unreadable subject matches nothing");
        assert!(!same_subject("CN=tpp", &ClientCertificateCheck::Absent));
    }
}
