//! The admin REST API, driven in-process through the router (no listener), on SQLite with a
//! fixed clock.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use app::clock::FixedClock;
use onboard::http::{Surface, router};
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::tpp::keys::SigningKey;
use support::{ADMIN_KEY, serve_args};

const BASE: &str = "/api/admin/v1/tenants/default/workspaces";
const ACTIVITY: &str = "/api/admin/v1/administrator-events";

struct Admin {
    router: axum::Router,
    _dir: tempfile::TempDir,
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_316_679, 0).unwrap()
}

impl Admin {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state =
            onboard::startup::prepare(&serve_args(dir.path().to_owned()), Arc::new(FixedClock::new(now()))).await.unwrap();
        Self { router: router(state, Surface::default()), _dir: dir }
    }

    async fn call(&self, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            request = request.header("authorization", format!("Bearer {key}"));
        }
        let request = match body {
            Some(body) => request.header("content-type", "application/json").body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn as_admin(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call(method, path, Some(ADMIN_KEY), body).await
    }
}

#[tokio::test]
async fn the_api_key_is_required() {
    let admin = Admin::new().await;
    for key in [None, Some("wrong-key-wrong-key-wrong-key-wrong-key"), Some("")] {
        let (status, body) = admin.call("GET", BASE, key, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(body["error"], "invalid_token");
    }
    let (status, body) = admin.as_admin("GET", BASE, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["workspaces"][0]["id"], "obuk", "the embedded default exists");
    assert_eq!(body["workspaces"][0]["profile"], "openbanking_uk");
    assert_eq!(body["workspaces"][0]["dcr_enabled"], false);
}

#[tokio::test]
async fn workspaces_are_created_and_validated() {
    let admin = Admin::new().await;
    let (status, created) =
        admin.as_admin("POST", BASE, Some(json!({"id": "sandbox", "name": "Sandbox", "profile": "generic"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["settings"]["accepted_audiences"], json!(["https://localhost:8443/default/sandbox"]));
    assert_eq!(created["endpoints"]["registration"], "https://localhost:8443/default/sandbox/oauth2/register");
    assert_eq!(created["dcr"]["enabled"], false);
    assert_eq!(created["created_at"], "2026-11-22T03:04:39Z");

    let (status, _) = admin.as_admin("POST", BASE, Some(json!({"id": "sandbox", "name": "Again", "profile": "generic"}))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Made by the server as it started (the default workspace) and by the API key; the
    // conflict made nothing.
    let (_, activity) = admin.as_admin("GET", &format!("{ACTIVITY}?type=workspace_created"), None).await;
    let made: Vec<_> = activity["administrator_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| (event["actor"].as_str().unwrap_or("-"), event["detail"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        made,
        [
            ("admin API key", "workspace default/sandbox (Generic OAuth 2.0)"),
            ("server start", "workspace default/obuk (Open Banking UK)")
        ]
    );

    // Each workspace has its own signing key, published and never exposed in private form.
    let (status, jwks) = admin.call("GET", "/default/sandbox/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, default_jwks) = admin.call("GET", "/default/obuk/.well-known/jwks.json", None, None).await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    assert_ne!(jwks["keys"][0]["kid"], default_jwks["keys"][0]["kid"]);
    assert!(jwks["keys"][0].get("d").is_none());
    assert!(!created.to_string().contains("PRIVATE KEY"));
    let (status, _) = admin.call("GET", "/default/missing/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bad = [
        (json!({"id": "Bad Id", "name": "x", "profile": "generic"}), "id"),
        (json!({"id": "ok", "name": "", "profile": "generic"}), "name"),
        (json!({"id": "ok", "name": "x", "profile": "psd3"}), "profile"),
        (json!({"id": "ok", "name": "x", "profile": "generic", "extra": 1}), "extra"),
    ];
    for (body, field) in bad {
        let (status, error) = admin.as_admin("POST", BASE, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}");
        assert!(error["error_description"].as_str().unwrap().contains(field), "{field}: {error}");
    }
    let (status, _) = admin.as_admin("GET", "/api/admin/v1/tenants/nobody/workspaces", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = admin.as_admin("GET", &format!("{BASE}/missing"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn general_settings_are_patched_and_checked() {
    let admin = Admin::new().await;
    let path = format!("{BASE}/obuk");
    let ca = onboard::pki::CertificateAuthority::generate("Transport CA", now()).unwrap();
    let (status, body) = admin
        .as_admin("PATCH", &path, Some(json!({"org_id": "0015800001HQQrZAAX", "trusted_client_ca_pem": ca.cert_pem()})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["settings"]["org_id"], "0015800001HQQrZAAX");
    assert_eq!(body["settings"]["token_endpoint_auth_methods"], json!(["tls_client_auth", "private_key_jwt"]));

    let leaf = ca.issue_client(&[(rcgen::DnType::CommonName, "leaf")], now()).unwrap();
    let refused = [
        json!({"trusted_client_ca_pem": "not a certificate"}),
        json!({"trusted_client_ca_pem": leaf.cert_pem}),
        json!({"scopes": ["openid"]}),
        json!({"token_endpoint_auth_methods": ["magic"]}),
        json!({"colour": "red"}),
    ];
    for patch in refused {
        let (status, body) = admin.as_admin("PATCH", &path, Some(patch.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{patch}: {body}");
    }
    let (_, unchanged) = admin.as_admin("GET", &path, None).await;
    assert_eq!(unchanged["settings"]["scopes"], json!(["openid", "accounts", "payments", "fundsconfirmations"]));

    // The audit log says what the one accepted change changed: the CA trusted is named.
    let (_, audit) = admin.as_admin("GET", &format!("{path}/audit-events?type=settings_updated"), None).await;
    let details: Vec<&str> = audit["audit_events"].as_array().unwrap().iter().filter_map(|e| e["detail"].as_str()).collect();
    let [detail] = details.as_slice() else { panic!("one change: {audit}") };
    let fingerprint = detail
        .strip_prefix("organisation id '0015800001HQQrZAAX'; trusted client CAs added: 'CN=Transport CA, O=Onboard' (SHA-256 ")
        .and_then(|rest| rest.strip_suffix(')'));
    assert!(fingerprint.is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())), "{detail}");
}

#[tokio::test]
async fn dcr_settings_are_validated_and_nothing_is_saved_on_error() {
    let admin = Admin::new().await;
    let path = format!("{BASE}/obuk/dcr");
    let (status, defaults) = admin.as_admin("GET", &path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(defaults["request_signing_keys"], "software_statement");

    let key = SigningKey::generate(JwsAlgorithm::Es256, "dir-1").unwrap();
    let good = json!({
        "enabled": true,
        "require_software_statement": true,
        "software_statement_issuers": [{"issuer": "OpenBanking Ltd", "keys": {"jwks": key.public_jwks()}}],
        "require_signed_request": true,
        "request_signing_keys": "software_statement",
        "require_mtls": true
    });
    let mut private = good.clone();
    private["software_statement_issuers"][0]["keys"]["jwks"]["keys"][0]["d"] = json!("c2VjcmV0");
    let mut malformed = good.clone();
    malformed["software_statement_issuers"][0]["keys"] = json!({"jwks": {"keys": "nope"}});
    let mut plain_http = good.clone();
    plain_http["software_statement_issuers"][0]["keys"] = json!({"jwks_uri": "http://keys.example.com/jwks"});
    let mut private_address = good.clone();
    private_address["software_statement_issuers"][0]["keys"] = json!({"jwks_uri": "https://10.1.2.3/jwks"});
    let mut unknown = good.clone();
    unknown["require_everything"] = json!(true);
    let mut no_issuers = good.clone();
    no_issuers["software_statement_issuers"] = json!([]);
    let mut keyless = good.clone();
    keyless["software_statement_issuers"][0]["keys"] = json!(null);
    let mut twice = good.clone();
    let first = twice["software_statement_issuers"][0].clone();
    twice["software_statement_issuers"].as_array_mut().unwrap().push(first);
    let mut shared_keys = good.clone();
    shared_keys["software_statement_keys"] = json!({"jwks": key.public_jwks()});
    let (status, body) = admin.as_admin("PUT", &path, Some(good.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "mutual TLS without trusted CAs: {body}");
    assert!(body["error_description"].as_str().unwrap().starts_with("require_mtls:"), "{body}");
    let ca = onboard::pki::CertificateAuthority::generate("Transport CA", now()).unwrap();
    let (status, _) =
        admin.as_admin("PATCH", &format!("{BASE}/obuk"), Some(json!({"trusted_client_ca_pem": ca.cert_pem()}))).await;
    assert_eq!(status, StatusCode::OK);
    let cases = [
        (private, "software_statement_issuers[0].keys.jwks", "private key material"),
        (malformed, "software_statement_issuers[0].keys.jwks", "\"keys\" array"),
        (plain_http, "software_statement_issuers[0].keys.jwks_uri", "loopback"),
        (private_address, "software_statement_issuers[0].keys.jwks_uri", "10.1.2.3 is not an address outbound fetches may reach"),
        (unknown, "require_everything", "unknown field"),
        (no_issuers, "software_statement_issuers", "at least one issuer"),
        (keyless, "software_statement_issuers[0].keys", "needs its keys"),
        (twice, "software_statement_issuers[1].issuer", "listed twice"),
        // The shape from before each issuer had its own keys: refused, naming the field.
        (shared_keys, "software_statement_keys", "unknown field"),
    ];
    for (body, field, problem) in cases {
        let (status, error) = admin.as_admin("PUT", &path, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {error}");
        let description = error["error_description"].as_str().unwrap();
        assert!(description.contains(field) && description.contains(problem), "{field}: {description}");
        let (_, current) = admin.as_admin("GET", &path, None).await;
        assert_eq!(current, defaults, "nothing is saved after a refused update ({field})");
    }

    let (status, saved) = admin.as_admin("PUT", &path, Some(good.clone())).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (_, read_back) = admin.as_admin("GET", &path, None).await;
    assert_eq!(read_back["software_statement_issuers"], good["software_statement_issuers"]);
    assert_eq!(read_back["enabled"], true);

    let (status, _) = admin.call("PUT", &path, Some(ADMIN_KEY), None).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, body) = admin.as_admin("PATCH", &format!("{BASE}/obuk"), Some(json!({"trusted_client_ca_pem": null}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the CAs mutual TLS depends on cannot be removed: {body}");
}

#[tokio::test]
async fn clients_and_audit_queries_are_validated() {
    let admin = Admin::new().await;
    let (status, body) = admin.as_admin("GET", &format!("{BASE}/obuk/clients?dcr=maybe"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_request");
    for bad in ["limit=0", "limit=1001", &format!("search={}", "x".repeat(201)), "after=", "after=bm90LWEtY3Vyc29y", "offset=1"] {
        let (status, body) = admin.as_admin("GET", &format!("{BASE}/obuk/clients?{bad}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (_, body) = admin.as_admin("GET", &format!("{BASE}/obuk/clients?after=bm90LWEtY3Vyc29y"), None).await;
    assert!(body["error_description"].as_str().is_some_and(|d| d.contains("after")), "names the parameter: {body}");
    let (status, body) = admin.as_admin("GET", &format!("{BASE}/obuk/audit-events?type=nonsense"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) =
        admin.as_admin("GET", &format!("{BASE}/obuk/audit-events?type=dcr_rejected&outcome=failure&limit=5"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["audit_events"], json!([]));
    let (status, _) = admin.as_admin("DELETE", &format!("{BASE}/obuk/clients/unknown"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn administrators_activity_is_listed_filtered_and_needs_the_key() {
    let admin = Admin::new().await;
    let (status, _) = admin.call("GET", ACTIVITY, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = admin.as_admin("GET", &format!("{ACTIVITY}?type=administrator_created"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = &body["administrator_events"][0];
    assert_eq!(body["administrator_events"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(created["event_type"], "administrator_created");
    assert_eq!(created["outcome"], "success");
    assert_eq!(created["email"], support::ADMIN_EMAIL);
    assert_eq!(created["actor"], "server start");
    let (_, body) = admin.as_admin("GET", &format!("{ACTIVITY}?type=sign_in_refused&outcome=failure&limit=5"), None).await;
    assert_eq!(body["administrator_events"], json!([]));
    for bad in ["type=dcr_created", "outcome=maybe", "before=x", "email=admin@bank.example"] {
        let (status, body) = admin.as_admin("GET", &format!("{ACTIVITY}?{bad}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_request");
    }
}

/// The administrators, for an access review: each one's address, creation, last sign-in,
/// sessions, two-step sign-in and lock, and nothing secret.
#[tokio::test]
async fn administrators_are_listed_without_secrets_and_need_the_key() {
    let admin = Admin::new().await;
    let path = "/api/admin/v1/administrators";
    let (status, _) = admin.call("GET", path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = admin.as_admin("GET", path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["administrators"],
        json!([{
            "email": support::ADMIN_EMAIL,
            "created_at": now(),
            "last_signed_in_at": null,
            "signed_in_sessions": 0,
            "two_step": "off",
            "locked_until": null,
        }])
    );
}

/// The list pages by cursor: each page names where the next starts, the last names none.
#[tokio::test]
async fn the_client_list_pages_by_cursor() {
    let admin = Admin::new().await;
    let mut created = Vec::new();
    for n in 0..5 {
        let new = json!({
            "name": format!("Portal {n}"),
            "scopes": ["accounts"],
            "token_endpoint_auth_method": "tls_client_auth",
            "tls_client_auth_subject_dn": format!("CN=portal-{n},O=Bank")
        });
        let (status, body) = admin.as_admin("POST", &format!("{BASE}/obuk/clients"), Some(new)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        created.push(body["client_id"].as_str().unwrap_or_default().to_owned());
    }
    let mut walked = Vec::new();
    let mut query = "limit=2".to_owned();
    let mut last = Value::Null;
    for expected in [2, 2, 1] {
        let (status, page) = admin.as_admin("GET", &format!("{BASE}/obuk/clients?{query}"), None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!((page["clients"].as_array().map(Vec::len), &page["total"]), (Some(expected), &json!(5)), "{page}");
        walked.extend(
            page["clients"].as_array().into_iter().flatten().map(|c| c["client_id"].as_str().unwrap_or_default().to_owned()),
        );
        match page["next"].as_str() {
            Some(next) => query = format!("limit=2&after={next}"),
            None => assert_eq!(expected, 1, "only the last page names no next: {page}"),
        }
        last = page;
    }
    assert!(last.get("next").is_none(), "the last page names no next: {last}");
    let (_, whole) = admin.as_admin("GET", &format!("{BASE}/obuk/clients?limit=5"), None).await;
    assert!(whole.get("next").is_none(), "a page that holds the rest names no next: {whole}");
    let in_one_page: Vec<_> = whole["clients"].as_array().into_iter().flatten().map(|c| c["client_id"].clone()).collect();
    assert_eq!(json!(walked), json!(in_one_page), "the pages, in the list's order");
    walked.sort();
    created.sort();
    assert_eq!(walked, created, "every client once");
}

#[tokio::test]
async fn operations_endpoints_answer() {
    let admin = Admin::new().await;
    let (status, body) = admin.call("GET", "/healthz", None, None).await;
    assert_eq!((status, body["status"].clone()), (StatusCode::OK, json!("ok")));
    let (status, body) = admin.call("GET", "/readyz", None, None).await;
    assert_eq!((status, body["database"].clone()), (StatusCode::OK, json!("sqlite")));
}

/// A replaced key retires a day (and a minute) after its successor was made. Housekeeping then
/// erases its private half: the key stays listed, retired, with `private_key_erased`, is no
/// longer published, can sign nothing, and is not among the keys a rekey re-seals.
#[tokio::test]
async fn a_retired_keys_private_half_is_erased_and_the_key_stays_listed() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(now()));
    let state = onboard::startup::prepare(&serve_args(dir.path().to_owned()), clock.clone()).await.unwrap();
    let admin = Admin { router: router(state.clone(), Surface::default()), _dir: dir };
    let keys_path = format!("{BASE}/obuk/signing-keys");
    let (_, listed) = admin.as_admin("GET", &keys_path, None).await;
    let old = listed["signing_keys"].as_array().unwrap().iter().find(|key| key["algorithm"] == "PS256").unwrap().clone();
    let old_kid = old["kid"].as_str().unwrap().to_owned();
    clock.advance(chrono::Duration::minutes(5));
    let (status, rotated) = admin.as_admin("POST", &keys_path, Some(json!({"algorithm": "PS256"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();

    let old_key = || async {
        let (_, listed) = admin.as_admin("GET", &keys_path, None).await;
        listed["signing_keys"].as_array().unwrap().iter().find(|key| key["kid"] == old_kid.as_str()).unwrap().clone()
    };
    let published = || async {
        let (_, jwks) = admin.call("GET", "/default/obuk/.well-known/jwks.json", None, None).await;
        jwks["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    clock.advance(chrono::Duration::seconds(app::domain::signing::REPLACED_KEY_GRACE_SECONDS - 1));
    onboard::housekeeping::erase_retired_private_keys(&state).await;
    let retiring = old_key().await;
    assert_eq!(
        (retiring["state"].as_str(), retiring["private_key_erased"].as_bool()),
        (Some("retiring"), Some(false)),
        "{retiring}"
    );
    assert!(published().await.contains(&old_kid), "its tokens may still be valid");

    clock.advance(chrono::Duration::seconds(2));
    onboard::housekeeping::erase_retired_private_keys(&state).await;
    let retired = old_key().await;
    assert_eq!((retired["state"].as_str(), retired["private_key_erased"].as_bool()), (Some("retired"), Some(true)), "{retired}");
    assert_eq!(retired["public_jwk"], old["public_jwk"], "the public half stays listed");
    assert!(!published().await.contains(&old_kid) && published().await.contains(&new_kid));

    let at = app::domain::ids::WorkspaceRef {
        tenant: app::domain::ids::TenantId::parse("default").unwrap(),
        workspace: app::domain::ids::WorkspaceId::parse("obuk").unwrap(),
    };
    let stored = state.app.store.signing_keys(&at).await.unwrap();
    let erased = stored.iter().find(|key| key.material.kid == old_kid).unwrap();
    assert!(erased.material.sealed_private_key.is_none());
    let refused = state.protocol.token_signers.sign_access_token(&erased.material, &json!({"sub": "x"})).unwrap_err();
    assert!(refused.contains("erased"), "{refused}");
    let slots = state.app.store.stored_private_keys().await.unwrap();
    assert!(!slots.iter().any(|(slot, _)| format!("{slot:?}").contains(&old_kid)), "nothing left to re-seal");
    let signing = stored.iter().find(|key| key.material.kid == new_kid).unwrap();
    assert!(state.protocol.token_signers.sign_access_token(&signing.material, &json!({"sub": "x"})).is_ok());
}

/// Changes (`PATCH`) of different settings sent at once all stick: each is applied to the settings as
/// they are when it is written, never to an older read of them.
#[tokio::test]
async fn parallel_settings_changes_are_all_kept() {
    let server = support::TestServer::start().await;
    let patches = [
        json!({"org_id": "0015800001HQQrZAAX"}),
        json!({"access_token_ttl_seconds": 1200}),
        json!({"accepted_audiences": ["https://bank.example/issuer"]}),
        json!({"scopes": ["openid", "accounts", "payments", "fundsconfirmations", "extra"]}),
        json!({"grant_types": ["client_credentials", "refresh_token"]}),
        json!({"limits": {"registrations_per_ip_per_minute": 77}}),
    ];
    let sent = patches.iter().map(|patch| server.admin(reqwest::Method::PATCH, "/default/workspaces/obuk", Some(patch.clone())));
    for (status, body) in futures_util::future::join_all(sent).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (_, read) = server.admin(reqwest::Method::GET, "/default/workspaces/obuk", None).await;
    let settings = &read["settings"];
    assert_eq!(settings["org_id"], "0015800001HQQrZAAX", "{read}");
    assert_eq!(settings["access_token_ttl_seconds"], 1200, "{read}");
    assert_eq!(settings["accepted_audiences"], json!(["https://bank.example/issuer"]), "{read}");
    assert_eq!(settings["scopes"], json!(["openid", "accounts", "payments", "fundsconfirmations", "extra"]), "{read}");
    assert_eq!(settings["grant_types"], json!(["client_credentials", "refresh_token"]), "{read}");
    assert_eq!(settings["limits"]["registrations_per_ip_per_minute"], 77, "{read}");
}

/// `--audit-retention-days` (30 at least) bounds how long audit events and administrators'
/// activity are kept; without it, housekeeping keeps them for good.
#[tokio::test]
async fn audit_events_older_than_the_retention_are_purged_and_kept_without_one() {
    use app::clock::Clock as _;
    use onboard::cli::Cli;
    use onboard::housekeeping::{Retention, purge_expired};

    let parse = |days: &str| {
        use clap::Parser as _;
        Cli::try_parse_from(["onboard", "--audit-retention-days", days]).map(|cli| Retention::of(&cli.serve))
    };
    assert!(parse("29").is_err() && parse("ninety").is_err());
    let kept_90_days = Retention { audit: Some(chrono::Duration::days(90)) };
    assert_eq!(parse("90").unwrap(), kept_90_days);

    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(now()));
    let state = onboard::startup::prepare(&serve_args(dir.path().to_owned()), clock.clone()).await.unwrap();
    let admin = Admin { router: router(state.clone(), Surface::default()), _dir: dir };
    // The default workspace's creation is recorded now; 91 days later it is past 90 days old.
    clock.advance(chrono::Duration::days(91));
    let (status, _) = admin.as_admin("PATCH", &format!("{BASE}/obuk"), Some(json!({"org_id": "recent"}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_running, stopped) = tokio::sync::watch::channel(false);
    let counts = || async {
        let (_, audit) = admin.as_admin("GET", &format!("{BASE}/obuk/audit-events"), None).await;
        let (_, activity) = admin.as_admin("GET", ACTIVITY, None).await;
        let times = |events: &Value| events.as_array().unwrap().iter().map(|e| e["created_at"].clone()).collect::<Vec<_>>();
        (times(&audit["audit_events"]), times(&activity["administrator_events"]))
    };
    let before = counts().await;
    assert!(before.0.len() == 1 && before.1.len() >= 2, "a change now, and what the start recorded 91 days ago: {before:?}");

    assert!(purge_expired(&state, Retention::default(), &mut stopped.clone()).await);
    assert_eq!(counts().await, before, "kept for good without a retention");

    assert!(purge_expired(&state, kept_90_days, &mut stopped.clone()).await);
    let recent = json!(clock.now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    assert_eq!(counts().await, (vec![recent], vec![]), "the settings change of today stays; the start's events are gone");
}
