//! The abuse controls of a workspace's endpoints: rate limits per client address, per software
//! and per client (429 with `Retry-After`, nothing stored; of a caller's throttled
//! registration requests, the first of each minute is audited) and the cap on dynamically
//! registered clients (403, audited).

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{Value, json};
use support::{ADMIN_WORKSPACE, TestServer, assert_registration_error};

/// A 429 in the protocol's error format, with a `Retry-After` in whole seconds.
async fn assert_throttled(response: reqwest::Response, description: &str) {
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache", "RFC 6749 §5.1, on every error");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    let said = body["error_description"].as_str().unwrap();
    assert!(said.starts_with(description) && said.ends_with(&format!("retry after {retry_after} s")), "{said}");
}

async fn limit(server: &TestServer, admin_workspace: &str, limits: Value) {
    server.patch_workspace_at(admin_workspace, json!({ "limits": limits })).await;
}

async fn client_count(server: &TestServer, admin_workspace: &str) -> usize {
    let (status, body) = server.admin(Method::GET, &format!("{admin_workspace}/clients"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["clients"].as_array().unwrap().len()
}

#[tokio::test]
async fn registrations_are_limited_per_address_and_capped_per_workspace() {
    let server = TestServer::start().await;
    let register = server.generic_workspace_with_dcr("apps").await;
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 3, "max_dynamic_clients": 2})).await;

    let client = server.client(None);
    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    for _ in 0..2 {
        assert_eq!(client.post(&register).json(&metadata).send().await.unwrap().status().as_u16(), 201);
    }
    let full = client.post(&register).json(&metadata).send().await.unwrap();
    let (status, body) = support::decode(full).await;
    assert_registration_error(status, &body, StatusCode::FORBIDDEN, "access_denied");
    assert_eq!(body["error_description"], "this workspace holds its limit of 2 dynamically registered clients");

    for _ in 0..3 {
        assert_throttled(
            client.post(&register).json(&metadata).send().await.unwrap(),
            "too many registration requests from this address",
        )
        .await;
    }
    assert_eq!(client_count(&server, "/default/workspaces/apps").await, 2, "nothing stored past the cap or the rate");
    let (_, audit) = server.admin(Method::GET, "/default/workspaces/apps/audit-events?type=dcr_rejected", None).await;
    let refusals: Vec<(&str, &str)> = audit["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["error"].as_str().unwrap_or_default(), e["error_description"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        refusals,
        [
            ("temporarily_unavailable", "too many registration requests from this address"),
            ("access_denied", "this workspace holds its limit of 2 dynamically registered clients")
        ],
        "the cap is audited, and the first throttled request of the minute; the two after it are written nowhere"
    );

    // Another workspace keeps its own allowance; 0 switches a limit off.
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 0, "max_dynamic_clients": 3})).await;
    assert_eq!(client.post(&register).json(&metadata).send().await.unwrap().status().as_u16(), 201);
}

/// Behind a proxy that terminates TLS every connection is the proxy's: the plain listener
/// counts nothing by that address (one outsider would use up every TPP's allowance) and
/// records no address, while the TLS listener, whose connections are the callers', still does.
#[tokio::test]
async fn behind_a_proxy_nothing_is_counted_or_recorded_by_the_proxys_address() {
    let server = TestServer::start_with(|args| args.listeners.behind_tls_proxy = true).await;
    let direct = server.generic_workspace_with_dcr("apps").await;
    let proxied = direct.replace(&server.https, &server.http);
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 1})).await;

    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    let plain = reqwest::Client::new();
    for _ in 0..3 {
        assert_eq!(plain.post(&proxied).json(&metadata).send().await.unwrap().status(), StatusCode::CREATED);
    }
    let client = server.client(None);
    assert_eq!(client.post(&direct).json(&metadata).send().await.unwrap().status(), StatusCode::CREATED);
    assert_throttled(
        client.post(&direct).json(&metadata).send().await.unwrap(),
        "too many registration requests from this address",
    )
    .await;

    let (_, audit) = server.admin(Method::GET, "/default/workspaces/apps/audit-events?type=dcr_created", None).await;
    let addresses: Vec<bool> = audit["audit_events"].as_array().unwrap().iter().map(|e| e["remote_addr"].is_string()).collect();
    assert_eq!(addresses, [true, false, false, false], "newest first: the direct one names its address, the proxied ones none");
}

/// A body too large to read is refused (413, audited) as a registration attempt of its
/// address: past the address's rate it is throttled, and only the first throttled request of
/// the minute is written.
#[tokio::test]
async fn oversized_bodies_count_against_the_address_rate() {
    let server = TestServer::start().await;
    let register = server.generic_workspace_with_dcr("apps").await;
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 2})).await;

    let client = server.client(None);
    let oversized = || client.post(&register).header("content-type", "application/json").body("a".repeat(70 * 1024));
    for _ in 0..2 {
        assert_eq!(oversized().send().await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_throttled(oversized().send().await.unwrap(), "too many registration requests from this address").await;
    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    assert_throttled(
        client.post(&register).json(&metadata).send().await.unwrap(),
        "too many registration requests from this address",
    )
    .await;
    let (_, audit) = server.admin(Method::GET, "/default/workspaces/apps/audit-events?type=dcr_rejected", None).await;
    let codes: Vec<&str> =
        audit["audit_events"].as_array().unwrap().iter().map(|e| e["error"].as_str().unwrap_or_default()).collect();
    assert_eq!(
        codes,
        ["temporarily_unavailable", "invalid_client_metadata", "invalid_client_metadata"],
        "the refusals within the rate, and the first throttled one"
    );
}

/// A body whose chunked framing breaks mid-way cannot be read: it is refused in the protocol's
/// own format and audited as a registration attempt, like an oversized one.
#[tokio::test]
async fn an_unreadable_body_is_refused_and_audited() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    server.generic_workspace_with_dcr("apps").await;
    let address = server.http.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = "POST /default/apps/oauth2/register HTTP/1.1\r\nhost: localhost\r\n\
        content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
        2\r\n{}\r\nnot-a-chunk-size\r\n\r\n";
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("\"error\":\"invalid_client_metadata\""), "{answer}");

    let (_, audit) = server.admin(Method::GET, "/default/workspaces/apps/audit-events?type=dcr_rejected", None).await;
    let described: Vec<&str> =
        audit["audit_events"].as_array().unwrap().iter().map(|e| e["error_description"].as_str().unwrap_or_default()).collect();
    assert_eq!(described, ["request body: could not be read (the connection ended or its framing was broken)"]);
}

/// Refused management requests (no token, any path) are audited within the address's
/// registration rate, each naming at most 128 characters of the client id it was given; past
/// the rate they are throttled, the first of the minute written. A client's own reads are not
/// counted.
#[tokio::test]
async fn refused_management_requests_count_against_the_address_rate() {
    let server = TestServer::start().await;
    let register = server.generic_workspace_with_dcr("apps").await;
    let client = server.client(None);
    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    let registered: Value = client.post(&register).json(&metadata).send().await.unwrap().json().await.unwrap();
    let own_uri = format!("{register}/{}", registered["client_id"].as_str().unwrap());
    let own_token = registered["registration_access_token"].as_str().unwrap();
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 2})).await;

    for _ in 0..3 {
        assert_eq!(client.get(&own_uri).bearer_auth(own_token).send().await.unwrap().status(), StatusCode::OK, "its own reads");
    }
    let long_id = "x".repeat(4000);
    for _ in 0..2 {
        let refused = client.get(format!("{register}/{long_id}")).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    for _ in 0..2 {
        assert_throttled(
            client.delete(format!("{register}/{long_id}")).send().await.unwrap(),
            "too many registration requests from this address",
        )
        .await;
    }
    let (_, audit) = server.admin(Method::GET, "/default/workspaces/apps/audit-events?outcome=failure", None).await;
    let named: Vec<(&str, usize)> = audit["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["error"].as_str().unwrap_or_default(), e["client_id"].as_str().unwrap_or_default().len()))
        .collect();
    assert_eq!(
        named,
        [("temporarily_unavailable", 128), ("invalid_token", 128), ("invalid_token", 128)],
        "the two refusals within the rate and the first throttled one, their client ids cut short"
    );
}

#[tokio::test]
async fn registrations_racing_for_the_last_places_never_pass_the_cap() {
    let server = TestServer::start().await;
    let register = server.generic_workspace_with_dcr("apps").await;
    limit(&server, "/default/workspaces/apps", json!({"registrations_per_ip_per_minute": 0, "max_dynamic_clients": 3})).await;

    let client = server.client(None);
    let metadata = json!({"client_name": "Budget app", "grant_types": ["client_credentials"]});
    let racing = (0..10).map(|_| client.post(&register).json(&metadata).send());
    let mut statuses: Vec<u16> =
        futures_util::future::join_all(racing).await.into_iter().map(|response| response.unwrap().status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 201, 403, 403, 403, 403, 403, 403, 403]);
    assert_eq!(client_count(&server, "/default/workspaces/apps").await, 3);
}

#[tokio::test]
async fn a_software_id_is_limited_once_its_statement_is_verified() {
    let (server, tpp) = support::configured(onboard::oauth2::jose::JwsAlgorithm::Ps256).await;
    limit(&server, ADMIN_WORKSPACE, json!({"registrations_per_software_per_minute": 1})).await;
    tpp.register(&server, |_| {}).await;

    // A request whose statement does not verify spends nothing: it is refused for what it is.
    let mtls = server.client(Some(&tpp.transport));
    let forged = tpp.request_with(|claims| claims["software_statement"] = json!("eyJhbGciOiJQUzI1NiJ9.e30.c2ln"));
    let (status, body) = server.register(&mtls, "application/jose", forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    let again =
        mtls.post(server.register_url()).header("content-type", "application/jose").body(tpp.request()).send().await.unwrap();
    assert_throttled(again, "too many registrations of this software").await;
    assert_eq!(client_count(&server, ADMIN_WORKSPACE).await, 1);
}

/// A software id a registration only claims, with no statement to vouch for it, spends nobody's
/// allowance: registering twice under another TPP's software id, and asking for tokens with
/// both clients, leaves that software's registration and token allowances alone.
#[tokio::test]
async fn a_claimed_software_id_spends_no_one_elses_allowance() {
    let server = TestServer::start().await;
    let register = server.generic_workspace_with_dcr("apps").await;
    let per_minute = json!({"registrations_per_software_per_minute": 1, "token_requests_per_client_per_minute": 1});
    limit(&server, "/default/workspaces/apps", per_minute).await;

    let client = server.client(None);
    let metadata =
        json!({"client_name": "Copycat", "software_id": "someone-elses-software", "grant_types": ["client_credentials"]});
    let mut registered = Vec::new();
    for _ in 0..2 {
        let (status, body) = support::decode(client.post(&register).json(&metadata).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        registered.push(body);
    }
    let token_url = register.replace("/oauth2/register", "/oauth2/token");
    for body in &registered {
        let (client_id, secret) = (body["client_id"].as_str().unwrap(), body["client_secret"].as_str());
        let request = client.post(&token_url).basic_auth(client_id, secret).form(&[("grant_type", "client_credentials")]);
        let (status, token) = support::decode(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "each client spends its own allowance: {token}");
    }
    let (client_id, secret) = (registered[0]["client_id"].as_str().unwrap(), registered[0]["client_secret"].as_str());
    let over = client.post(&token_url).basic_auth(client_id, secret).form(&[("grant_type", "client_credentials")]);
    assert_throttled(over.send().await.unwrap(), "too many token requests from this client").await;
}

#[tokio::test]
async fn token_requests_are_limited_per_client_and_per_address() {
    let (server, tpp) = support::configured(onboard::oauth2::jose::JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let form = [("client_id", client_id.as_str()), ("grant_type", "client_credentials")];

    limit(&server, ADMIN_WORKSPACE, json!({"token_requests_per_client_per_minute": 2})).await;
    for _ in 0..2 {
        assert_eq!(server.token(&mtls, &form, None).await.0, StatusCode::OK);
    }
    let over = mtls.post(server.token_url()).form(&form).send().await.unwrap();
    assert_throttled(over, "too many token requests from this client").await;
    // Another client's name does not spend this one's allowance: it is counted after
    // authentication, and an unknown client fails that first.
    let stranger = [("client_id", "someone-else"), ("grant_type", "client_credentials")];
    assert_eq!(server.token(&mtls, &stranger, None).await.0, StatusCode::UNAUTHORIZED);

    limit(&server, ADMIN_WORKSPACE, json!({"token_requests_per_ip_per_minute": 1, "token_requests_per_client_per_minute": 0}))
        .await;
    assert_eq!(server.token(&mtls, &form, None).await.0, StatusCode::OK);
    // Over the address's rate, even a request that would fail anyway is refused before any work.
    let over = mtls.post(server.token_url()).form(&stranger).send().await.unwrap();
    assert_throttled(over, "too many token requests from this address").await;
}

/// Introspection and revocation count together against their own rate per address, before
/// any work; the token endpoint's allowance is not theirs. The rate is stored only when it is
/// not its default, so an older release can still read the workspace.
#[tokio::test]
async fn introspection_and_revocation_are_limited_per_address() {
    let (server, tpp) = support::configured(onboard::oauth2::jose::JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let (_, workspace) = server.admin(Method::GET, ADMIN_WORKSPACE, None).await;
    assert!(workspace["settings"]["limits"].get("introspection_requests_per_ip_per_minute").is_none(), "{workspace}");

    limit(
        &server,
        ADMIN_WORKSPACE,
        json!({"introspection_requests_per_ip_per_minute": 2, "token_requests_per_ip_per_minute": 0}),
    )
    .await;
    let (_, workspace) = server.admin(Method::GET, ADMIN_WORKSPACE, None).await;
    assert_eq!(workspace["settings"]["limits"]["introspection_requests_per_ip_per_minute"], 2);
    let url = |name: &str| server.token_url().replace("/oauth2/token", &format!("/oauth2/{name}"));
    let form = [("client_id", client_id.as_str()), ("token", "not-a-token")];
    for name in ["introspect", "revoke"] {
        assert_eq!(mtls.post(url(name)).form(&form).send().await.unwrap().status(), StatusCode::OK, "{name}");
    }
    for name in ["introspect", "revoke"] {
        let over = mtls.post(url(name)).form(&form).send().await.unwrap();
        assert_throttled(over, "too many introspection and revocation requests from this address").await;
    }
    let grant = [("client_id", client_id.as_str()), ("grant_type", "client_credentials")];
    assert_eq!(server.token(&mtls, &grant, None).await.0, StatusCode::OK, "tokens are counted apart");
}

#[tokio::test]
async fn limits_are_checked_when_saved() {
    let server = TestServer::start().await;
    let (status, body) = server.admin(Method::PATCH, ADMIN_WORKSPACE, Some(json!({"limits": {"abandoned_after_days": 0}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("limits.abandoned_after_days"), "{body}");
    let (status, body) = server.admin(Method::PATCH, ADMIN_WORKSPACE, Some(json!({"limits": {"per_hour": 5}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, workspace) = server.admin(Method::GET, ADMIN_WORKSPACE, None).await;
    assert_eq!(workspace["settings"]["limits"]["registrations_per_ip_per_minute"], 60, "defaults, unchanged: {workspace}");
}

/// A client as the store holds it, registered `days_ago` and never given a token.
fn stored_client(id: &str, dynamic: bool, days_ago: i64) -> app::storage::NewClient {
    let at = app::domain::ids::WorkspaceRef {
        tenant: app::domain::ids::TenantId::parse("default").unwrap(),
        workspace: app::domain::ids::WorkspaceId::parse("obuk").unwrap(),
    };
    app::storage::NewClient {
        workspace: at,
        summary: app::domain::client::ClientSummary {
            client_id: id.to_owned(),
            name: Some(format!("Client {id}")),
            dynamically_registered: dynamic,
            software_id: None,
            org_id: None,
            org_name: None,
            token_endpoint_auth_method: app::domain::oauth::TokenEndpointAuthMethod::ClientSecretBasic,
            created_at: support::now() - chrono::Duration::days(days_ago),
            last_token_at: None,
        },
        metadata: json!({"client_id": id}),
        software_statement: None,
        client_secret_hash: None,
        registration_access_token_hash: None,
        registration_access_token_subject: None,
    }
}

#[tokio::test]
async fn abandoned_dcr_clients_are_listed_and_deleted_together_from_the_console() {
    let server = TestServer::start().await;
    let store = &server.running().state.app.store;
    let created = |id: &str| app::domain::audit::NewAuditEvent {
        workspace: stored_client(id, true, 0).workspace,
        event_type: app::domain::audit::AuditEventType::DcrCreated,
        outcome: app::domain::event_log::Outcome::Success,
        client_id: Some(id.to_owned()),
        error: None,
        error_description: None,
        software_id: None,
        org_id: None,
        client_cert_subject: None,
        remote_addr: None,
        actor: None,
        detail: None,
        created_at: support::now(),
    };
    for (id, dynamic, days_ago) in
        [("old-tpp-1", true, 200), ("old-tpp-2", true, 91), ("fresh-tpp", true, 10), ("bank-own", false, 400)]
    {
        store.register_client(stored_client(id, dynamic, days_ago), None, None, 0, &created(id)).await.unwrap();
    }
    let console = support::ConsoleSession::sign_in(&server).await;
    let list = |filter: &'static str| {
        let console = &console;
        async move {
            let form = [("tenant", "default"), ("workspace", "obuk"), ("filter", filter), ("search", ""), ("page", "1")];
            let (status, page) = console.call("list_applications", &form).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            page["rows"].as_array().unwrap().iter().map(|row| row["client_id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("abandoned").await, ["old-tpp-2", "old-tpp-1"], "DCR clients past 90 days without a token");

    let (status, deleted) = console.call("delete_abandoned_applications", &[("tenant", "default"), ("workspace", "obuk")]).await;
    assert_eq!((status, deleted), (StatusCode::OK, json!(2)));
    assert!(list("abandoned").await.is_empty());
    assert_eq!(list("all").await, ["fresh-tpp", "bank-own"]);
    let (_, audit) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/audit-events?type=client_deleted"), None).await;
    assert_eq!(audit["audit_events"].as_array().unwrap().len(), 2, "each deletion is audited");

    // A shorter period, set under Limits, makes the fresh client abandoned too.
    limit(&server, ADMIN_WORKSPACE, json!({"abandoned_after_days": 7})).await;
    assert_eq!(list("abandoned").await, ["fresh-tpp"]);
}
