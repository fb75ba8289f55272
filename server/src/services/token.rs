//! The client credentials grant (RFC 6749 §4.4): find the client, authenticate it with its
//! registered method (fetching its keys, recording its assertion's `jti`), and issue an access
//! token signed with the workspace's key, bound to the client's certificate (RFC 8705 §3), and
//! recorded so that revocation and deletion end it at once.

use chrono::Duration;
use serde::Serialize;

use app::domain::audit::AuditEventType;
use app::domain::client::ClientDetails;
use app::domain::dcr::JwksUri;
use app::domain::event_log::storable;
use app::domain::jwks::{PublicJwks, Strictness};
use app::domain::oauth::TokenEndpointAuthMethod;
use app::domain::signing::signing_key;
use app::domain::token::{AccessTokenRecord, StoredCredentials};
use app::domain::workspace::{Profile, Workspace};
use app::secrets::{Secret, SecretHash};
use app::services::clients::DCR_REGISTER_SCOPE;
use app::storage::{ReplayGuard, ReplayScope, StoreError};

use crate::listener::Connection;
use crate::oauth2::client_auth::{self, RegisteredClient};
use crate::oauth2::jose::CompactJws;
use crate::oauth2::registration::ClientCertificateCheck;
use crate::oauth2::token::{
    AccessTokenClaims, Confirmation, PresentedCredentials, TokenError, TokenRequest, certificate_thumbprint, granted_scopes,
};
use crate::services::client_certificate;
use crate::services::rate_limits::{Rule, Throttled};
use crate::services::registration::Attempt;
use crate::state::ServerState;
use crate::tls::client_trust::{subject_dn, subject_name};

/// RFC 6749 §5.1.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: String,
}

#[derive(Debug)]
pub enum TokenFailure {
    Rejected(TokenError),
    /// Over one of the workspace's rate limits.
    Throttled(Throttled),
    Internal(String),
}

impl From<TokenError> for TokenFailure {
    fn from(error: TokenError) -> Self {
        Self::Rejected(error)
    }
}

/// Logs a throttled request (without its credentials) and makes it the failure.
pub(crate) fn throttled(workspace: &Workspace) -> impl Fn(Throttled) -> TokenFailure + '_ {
    move |throttled| {
        tracing::info!(workspace = %workspace.reference(), rule = ?throttled.rule, "request throttled");
        TokenFailure::Throttled(throttled)
    }
}

pub(crate) fn internal(detail: impl std::fmt::Display) -> TokenFailure {
    TokenFailure::Internal(detail.to_string())
}

impl TokenFailure {
    /// The wire error code the client gets.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected(error) => error.code(),
            Self::Throttled(_) => "temporarily_unavailable",
            Self::Internal(_) => "server_error",
        }
    }
}

/// Answers a token request, counted in the metrics by how the client authenticated.
pub async fn issue(
    state: &ServerState,
    workspace: &Workspace,
    form: &[u8],
    authorization: Option<&str>,
    connection: &Connection,
) -> Result<TokenResponse, TokenFailure> {
    let mut method = "unknown";
    let answer = issue_counted(state, workspace, form, authorization, connection, &mut method).await;
    state.app.metrics.token_request(&workspace.reference(), method, answer.as_ref().err().map(TokenFailure::code));
    answer
}

async fn issue_counted(
    state: &ServerState,
    workspace: &Workspace,
    form: &[u8],
    authorization: Option<&str>,
    connection: &Connection,
    method: &mut &'static str,
) -> Result<TokenResponse, TokenFailure> {
    let limits = &state.protocol.rate_limits;
    let address = connection.remote_addr.map(|a| a.ip());
    limits.check_address(workspace, Rule::TokenRequestsPerIp, address).map_err(throttled(workspace))?;
    let request = TokenRequest::parse(form, authorization)?;
    *method = request.credentials.method_label();
    if request.grant_type != "client_credentials" {
        return Err(TokenError::UnsupportedGrantType(request.grant_type).into());
    }
    let found = find(state, workspace, &request.credentials).await.map_err(without_reason(workspace))?;
    // From here on the request names a client of the workspace: its outcome is audited.
    let attempt = token_attempt(&found, connection);
    let outcome = issue_to(state, workspace, &request, found, connection, &attempt).await;
    if let Err(failure) = &outcome {
        record_refusal(state, workspace, failure, &attempt).await;
    }
    outcome.map_err(without_reason(workspace))
}

/// The rest of a token request, once it names a client: authenticate it, count it against its
/// allowance, grant the scopes, and sign and store the token with its audit event.
async fn issue_to(
    state: &ServerState,
    workspace: &Workspace,
    request: &TokenRequest,
    found: Found,
    connection: &Connection,
    attempt: &Attempt,
) -> Result<TokenResponse, TokenFailure> {
    let authenticated = verify(state, workspace, &request.credentials, found, connection, Jti::WithTheToken).await?;
    let assertion = authenticated.unrecorded_jti;
    let client = authenticated.client;
    // Counted once authenticated, so nobody spends another client's allowance.
    let limits = &state.protocol.rate_limits;
    if let Err(over) = limits.check(workspace, Rule::TokenRequestsPerClient, &authenticated.allowance) {
        record_jti(state, assertion.as_ref()).await?;
        return Err(throttled(workspace)(over));
    }
    // The assertion's jti is recorded in the same commit as the token; when no token is issued,
    // it is recorded on its own, so a refused request spends its assertion all the same.
    let signed = match grant(workspace, &client, request.scope.as_deref(), connection) {
        Ok((scopes, thumbprint)) => sign(state, workspace, &client.client_id, scopes, thumbprint).await,
        Err(refusal) => Err(refusal),
    };
    match signed {
        Ok(signed) => keep(state, workspace, signed, assertion.as_ref(), attempt).await,
        Err(failure) => {
            record_jti(state, assertion.as_ref()).await?;
            Err(failure)
        }
    }
}

/// Who asks for a token, as its audit events name them: the client, its software and
/// organisation, the subject of the certificate the connection carries, and the address.
fn token_attempt(found: &Found, connection: &Connection) -> Attempt {
    let leaf = connection.client_chain.as_ref().and_then(|chain| chain.first());
    let mut attempt = Attempt {
        client_id: Some(found.details.summary.client_id.clone()),
        client_cert_subject: leaf.and_then(subject_dn),
        remote_addr: connection.remote_addr.map(|a| a.to_string()),
        ..Attempt::default()
    };
    attempt.names_software_of(&found.details);
    attempt
}

/// Records a refused request of a client of the workspace, with the reason its answer may
/// leave out. Throttled requests are not recorded one by one (the metrics count them), nor
/// are failures of Onboard's own (the log has them). Queued, not waited for: a refusal of a
/// known client answers as soon as one of an unknown client, and costs no commit of its own.
async fn record_refusal(state: &ServerState, workspace: &Workspace, failure: &TokenFailure, attempt: &Attempt) {
    let TokenFailure::Rejected(error) = failure else { return };
    let event =
        attempt.failure_event(workspace, AuditEventType::TokenRefused, error.code(), &error.to_string(), state.app.clock.now());
    state.app.store.queue_audit_event(event).await;
}

/// What the request may have: its scopes and the certificate its token is bound to.
fn grant(
    workspace: &Workspace,
    client: &RegisteredClient,
    scope: Option<&str>,
    connection: &Connection,
) -> Result<(Vec<String>, Option<String>), TokenFailure> {
    let settings = &workspace.settings;
    client_auth::check_grant(client, &settings.grant_types)?;
    // dcr_register is not among the workspace's scopes: it is given to manual clients alone.
    let scopes = granted_scopes(scope, &client.scopes, |scope| {
        scope == DCR_REGISTER_SCOPE || settings.scopes.iter().any(|offered| offered == scope)
    })?;
    let certificate = connection.client_chain.as_ref().and_then(|chain| chain.first());
    if !binds_tokens(workspace, client) {
        return Ok((scopes, None));
    }
    let certificate = certificate.ok_or_else(|| {
        TokenError::InvalidRequest("a client certificate is required: access tokens are bound to it (RFC 8705)".to_owned())
    })?;
    Ok((scopes, Some(certificate_thumbprint(certificate))))
}

/// Whether the client's access tokens are bound to its certificate (RFC 8705 §3): always in
/// Open Banking UK (FAPI 1 Part 2 §5.2.2-5: only sender-constrained tokens), for a client that
/// authenticates with its certificate, and for one that registered
/// `tls_client_certificate_bound_access_tokens`. Others get unbound tokens, whatever
/// certificate their connection happens to carry.
fn binds_tokens(workspace: &Workspace, client: &RegisteredClient) -> bool {
    workspace.profile == Profile::OpenbankingUk
        || client.token_endpoint_auth_method.uses_certificate()
        || client.tls_client_certificate_bound_access_tokens
}

/// A client whose credentials checked out.
pub(crate) struct Authenticated {
    pub client: RegisteredClient,
    /// Registered through DCR (a TPP), rather than created by an administrator.
    pub dynamically_registered: bool,
    /// Whose rate limit its token requests count against ([`allowance`]).
    allowance: String,
    /// The client assertion's replay record, when its caller records it ([`Jti::WithTheToken`]).
    unrecorded_jti: Option<ReplayGuard>,
}

/// Whose allowance a client's token requests spend: its software's, when a verified software
/// statement named the software at registration (a TPP's many registrations share one), else
/// the client's own. A software id a registration merely claimed counts for nothing: anybody
/// can claim another TPP's.
fn allowance(client: &RegisteredClient, statement_verified: bool) -> String {
    match (&client.software_id, statement_verified) {
        (Some(software_id), true) => format!("software:{software_id}"),
        _ => format!("client:{}", client.client_id),
    }
}

/// When a client assertion's `jti` is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jti {
    /// Before authentication succeeds: introspection and revocation.
    AtOnce,
    /// By the token endpoint, in the commit that stores the token (or alone, if none is).
    WithTheToken,
}

/// Records the assertion's jti on its own; a replay found now refuses the request.
async fn record_jti(state: &ServerState, guard: Option<&ReplayGuard>) -> Result<(), TokenFailure> {
    let Some(guard) = guard else { return Ok(()) };
    match state.app.store.insert_replay_guard(guard).await {
        Ok(()) => Ok(()),
        Err(StoreError::Replayed) => Err(replayed()),
        Err(other) => Err(internal(other)),
    }
}

/// A client assertion used before.
fn replayed() -> TokenFailure {
    TokenError::InvalidClient("client assertion: its jti has been used before".to_owned()).into()
}

/// Every authentication failure gets the same `invalid_client` answer, so that nobody learns
/// which clients exist or how they authenticate; the reason goes to the log (and, for a client
/// of the workspace, to its audit event).
fn without_reason(workspace: &Workspace) -> impl Fn(TokenFailure) -> TokenFailure + '_ {
    move |failure| match failure {
        TokenFailure::Rejected(TokenError::InvalidClient(reason)) => {
            tracing::info!(workspace = %workspace.reference(), %reason, "client authentication failed");
            TokenError::InvalidClient(AUTHENTICATION_FAILED.to_owned()).into()
        }
        other => other,
    }
}

/// Finds the client named by the request and checks its credentials with its registered method,
/// answering every authentication failure alike ([`without_reason`]).
pub(crate) async fn authenticate(
    state: &ServerState,
    workspace: &Workspace,
    credentials: &PresentedCredentials,
    connection: &Connection,
) -> Result<Authenticated, TokenFailure> {
    let found = find(state, workspace, credentials).await;
    let authenticated = match found {
        Ok(found) => verify(state, workspace, credentials, found, connection, Jti::AtOnce).await,
        Err(failure) => Err(failure),
    };
    authenticated.map_err(without_reason(workspace))
}

const AUTHENTICATION_FAILED: &str = "client authentication failed";

/// The client a request names, as stored, before its credentials are checked.
struct Found {
    details: ClientDetails,
    stored: StoredCredentials,
    client: RegisteredClient,
}

/// The client of the workspace the credentials name; `invalid_client` if there is none.
async fn find(state: &ServerState, workspace: &Workspace, credentials: &PresentedCredentials) -> Result<Found, TokenFailure> {
    let client_id = client_auth::claimed_client_id(credentials)?;
    let stored = state.app.store.client_with_credentials(&workspace.reference(), &client_id).await.map_err(internal)?;
    let unknown = || TokenFailure::Rejected(TokenError::InvalidClient("unknown client".to_owned()));
    let (details, stored) = stored.ok_or_else(unknown)?;
    let client = RegisteredClient::from_metadata(&details.metadata).map_err(internal)?;
    Ok(Found { details, stored, client })
}

/// Checks the found client's credentials with its registered method.
async fn verify(
    state: &ServerState,
    workspace: &Workspace,
    credentials: &PresentedCredentials,
    found: Found,
    connection: &Connection,
    jti: Jti,
) -> Result<Authenticated, TokenFailure> {
    let Found { details, stored, client } = found;
    let at = workspace.reference();
    client_auth::check_method(credentials, client.token_endpoint_auth_method)?;
    if !workspace.settings.token_endpoint_auth_methods.contains(&client.token_endpoint_auth_method) {
        return Err(TokenError::InvalidClient(format!(
            "{} is no longer allowed by this workspace",
            client.token_endpoint_auth_method.as_str()
        ))
        .into());
    }
    let now = state.app.clock.now();
    let mut unrecorded_jti = None;
    match credentials {
        PresentedCredentials::Basic { secret, .. } | PresentedCredentials::Post { secret, .. } => {
            let matches = stored.client_secret_hash.is_some_and(|hash| SecretHash::from_stored(hash).matches(secret.expose()));
            if !matches {
                return Err(TokenError::InvalidClient("wrong client secret".to_owned()).into());
            }
        }
        PresentedCredentials::Assertion { assertion, .. } => {
            let kid = crate::oauth2::jose::CompactJws::parse(assertion).ok().and_then(|jws| jws.kid().map(str::to_owned));
            let keys = client_keys(state, workspace, &client, kid.as_deref()).await?;
            let urls = state.app.deployment.urls(&at, workspace.profile);
            let used = client_auth::check_assertion(assertion, &keys, &client, &[&urls.token, &urls.issuer], now.timestamp())?;
            let guard = ReplayGuard {
                scope: ReplayScope::Workspace(at.clone()),
                issuer: format!("client_assertion:{}", client.client_id),
                jti: used.jti,
                expires_at: used.keep_until,
            };
            match jti {
                Jti::WithTheToken => unrecorded_jti = Some(guard),
                Jti::AtOnce => record_jti(state, Some(&guard)).await?,
            }
        }
        PresentedCredentials::Certificate { .. } => authenticate_certificate(state, workspace, &client, connection, now).await?,
    }
    let allowance = allowance(&client, details.software_statement.is_some());
    Ok(Authenticated { client, dynamically_registered: details.summary.dynamically_registered, allowance, unrecorded_jti })
}

async fn authenticate_certificate(
    state: &ServerState,
    workspace: &Workspace,
    client: &RegisteredClient,
    connection: &Connection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), TokenFailure> {
    let chain = connection.client_chain.as_deref();
    let leaf = chain.and_then(<[_]>::first).ok_or_else(|| {
        TokenFailure::Rejected(TokenError::InvalidClient("a client certificate is required (mutual TLS)".to_owned()))
    })?;
    if client.token_endpoint_auth_method == TokenEndpointAuthMethod::SelfSignedTlsClientAuth {
        let keys = client_keys(state, workspace, client, None).await?;
        return Ok(client_auth::check_self_signed(leaf, &keys)?);
    }
    match client_certificate::check(state, workspace, connection, now).await {
        ClientCertificateCheck::Trusted { .. } => {}
        ClientCertificateCheck::Untrusted { reason, .. } => {
            return Err(TokenError::InvalidClient(format!("client certificate: {reason}")).into());
        }
        ClientCertificateCheck::Absent => {
            return Err(TokenError::InvalidClient("a client certificate is required".to_owned()).into());
        }
    }
    let subject = subject_name(leaf)
        .ok_or_else(|| TokenFailure::Rejected(TokenError::InvalidClient("the client certificate cannot be read".to_owned())))?;
    Ok(client_auth::check_subject_dn(client.tls_client_auth_subject_dn.as_deref(), &subject)?)
}

/// The client's public keys: its registered `jwks`, or its `jwks_uri` (fetched, cached, and
/// fetched again for an unknown `kid`; read from the store when it is the trusted sandbox
/// directory's).
async fn client_keys(
    state: &ServerState,
    workspace: &Workspace,
    client: &RegisteredClient,
    kid: Option<&str>,
) -> Result<PublicJwks, TokenFailure> {
    let refused = |why: String| TokenFailure::Rejected(TokenError::InvalidClient(format!("client keys: {why}")));
    if let Some(jwks) = &client.jwks {
        return PublicJwks::parse(jwks, Strictness::SkipUnsupported)
            .map_err(|e| refused(format!("the client's keys are unusable: {e}")));
    }
    let uri = client.jwks_uri.as_deref().ok_or_else(|| refused("the client registered no keys".to_owned()))?;
    if let Some(keys) = super::sandbox::local_software_jwks(state, workspace, uri).await.map_err(|e| refused(e.to_string()))? {
        return Ok((*keys).clone());
    }
    let uri = JwksUri::parse(uri).map_err(|e| refused(format!("the client's jwks_uri is unusable: {e}")))?;
    state.app.jwks.get(&uri, kid).await.map(|keys| (*keys).clone()).map_err(|e| refused(e.to_string()))
}

/// A signed access token, not yet stored.
struct Signed {
    record: AccessTokenRecord,
    response: TokenResponse,
}

async fn sign(
    state: &ServerState,
    workspace: &Workspace,
    client_id: &str,
    scopes: Vec<String>,
    thumbprint: Option<String>,
) -> Result<Signed, TokenFailure> {
    let at = workspace.reference();
    let algorithm = workspace.settings.access_token_signing_alg;
    let keys = state.app.store.signing_keys(&at).await.map_err(internal)?;
    let now = state.app.clock.now();
    let key = signing_key(&keys, algorithm, now);
    let key = key.ok_or_else(|| internal(format!("workspace {at} has no {} signing key", algorithm.as_str())))?;
    let lifetime = i64::from(workspace.settings.access_token_ttl_seconds);
    let issuer = state.app.deployment.urls(&at, workspace.profile).issuer;
    let scope = scopes.join(" ");
    let claims = AccessTokenClaims {
        iss: issuer.clone(),
        sub: client_id.to_owned(),
        aud: issuer,
        client_id: client_id.to_owned(),
        scope: scope.clone(),
        iat: now.timestamp(),
        exp: (now + Duration::seconds(lifetime)).timestamp(),
        jti: app::secrets::new_time_ordered_id(now),
        cnf: thumbprint.clone().map(|x5t_s256| Confirmation { x5t_s256 }),
    };
    let token = state.protocol.token_signers.sign_access_token(&key.material, &claims).map_err(internal)?;
    let record = AccessTokenRecord {
        jti: claims.jti,
        workspace: at,
        client_id: client_id.to_owned(),
        scope: scope.clone(),
        certificate_thumbprint: thumbprint,
        issued_at: now,
        expires_at: claims.exp,
        revoked: false,
    };
    Ok(Signed { record, response: TokenResponse { access_token: token, token_type: "Bearer", expires_in: lifetime, scope } })
}

/// Stores the token (its hash) with the assertion's replay record and its audit event, in one
/// commit.
async fn keep(
    state: &ServerState,
    workspace: &Workspace,
    signed: Signed,
    assertion: Option<&ReplayGuard>,
    attempt: &Attempt,
) -> Result<TokenResponse, TokenFailure> {
    let hash = Secret::from_given(signed.response.access_token.clone()).hash();
    let record = &signed.record;
    let mut event = attempt.event(workspace, AuditEventType::TokenIssued, record.issued_at);
    event.detail =
        Some(if record.scope.is_empty() { "no scope".to_owned() } else { storable(&format!("scope {}", record.scope)) });
    match state.app.store.insert_access_token(record, hash.as_str(), assertion, &event).await {
        Ok(()) => {}
        Err(StoreError::Replayed) => return Err(replayed()),
        // Deleted since it was authenticated: it is no client any more.
        Err(StoreError::NotFound) => {
            return Err(TokenError::InvalidClient("the client was deleted while its token was made".to_owned()).into());
        }
        Err(other) => return Err(internal(other)),
    }
    tracing::info!(workspace = %record.workspace, client_id = %record.client_id, jti = %record.jti, "access token issued");
    Ok(signed.response)
}

/// The access token `token` is, if Onboard issued it and has not forgotten it: the record its
/// `jti` claim names, kept only if the hash stored with it is that of `token` (compared in
/// constant time). The signature is not checked: the hash is of the very token Onboard signed,
/// and a forged or altered one does not match it. Looking tokens up by `jti`, a time-ordered
/// key, spares the store an index of hashes, whose random keys cost a page per token issued.
pub async fn presented_access_token(state: &ServerState, token: &str) -> Result<Option<AccessTokenRecord>, StoreError> {
    let jws = CompactJws::parse(token).ok();
    let Some(jti) = jws.as_ref().and_then(|jws| jws.unverified_claims().get("jti")?.as_str()) else {
        return Ok(None);
    };
    let found = state.app.store.access_token(jti).await?;
    Ok(found.filter(|(_, issued)| issued.matches(token)).map(|(record, _)| record))
}
