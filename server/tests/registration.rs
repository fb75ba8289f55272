//! Registration over real TLS connections, against a running server: the mutual TLS rules,
//! the protocol's errors on the wire, the audit trail, and DCR settings that change behaviour
//! on the next request without a restart.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use onboard::oauth2::jose::JwsAlgorithm;
use reqwest::Method;
use serde_json::{Value, json};
use support::{ADMIN_WORKSPACE, ORG_ID, SOFTWARE_ID, TestServer, WORKSPACE, assert_registration_error};

#[tokio::test]
async fn a_tpp_registers_over_mutual_tls_and_the_admin_api_lists_it() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client = server.client(Some(&tpp.transport));
    let (status, body) = server.register(&client, "application/jose", tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let client_id = body["client_id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&client_id).map(|u| u.get_version_num()).ok(), Some(7));
    assert!(body["client_id_issued_at"].is_i64());
    assert!(body.get("client_secret").is_none(), "no secret for tls_client_auth");
    assert_eq!(body["token_endpoint_auth_method"], "tls_client_auth");
    assert_eq!(body["scope"], "accounts openid");
    assert_eq!(body["scopes"], json!(["accounts", "openid"]));
    assert_eq!(body["software_id"], SOFTWARE_ID);
    assert_eq!(body["org_id"], ORG_ID);
    assert_eq!(body["software_roles"], json!(["AISP", "PISP", "CBPII"]));
    assert_eq!(body["jwks_uri"], tpp.tpp_jwks_uri());
    assert!(body["software_statement"].as_str().is_some_and(|s| s.split('.').count() == 3));
    assert!(body["registration_access_token"].as_str().is_some_and(|t| t.len() >= 43));
    assert_eq!(
        body["registration_client_uri"],
        format!("https://localhost:8443{WORKSPACE}/openbankinguk/dcr/v3.2/register/{client_id}")
    );

    let (status, listed) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients?dcr=true"), None).await;
    assert_eq!(status, StatusCode::OK);
    let clients = listed["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0]["client_id"], client_id.as_str());
    assert_eq!(clients[0]["dynamically_registered"], true);
    assert_eq!(clients[0]["org_name"], "EXAMPLE TPP LIMITED");
    assert_eq!(listed["total"], 1);
    let (_, manual) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients?dcr=false"), None).await;
    assert_eq!((&manual["clients"], &manual["total"]), (&json!([]), &json!(0)));
    let suffix = &client_id[client_id.len() - 8..];
    let (_, found) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients?search={suffix}&limit=1"), None).await;
    assert_eq!((found["clients"][0]["client_id"].as_str(), &found["total"]), (Some(client_id.as_str()), &json!(1)));
    assert!(found.get("next").is_none(), "one page holds it: {found}");

    let (_, details) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients/{client_id}"), None).await;
    assert!(details["metadata"].get("registration_access_token").is_none(), "secrets are not stored in metadata");
    assert_eq!(details["metadata"]["client_id"], client_id.as_str());

    let events = server.audit_events("?type=dcr_created").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["client_id"], client_id.as_str());
    assert_eq!(events[0]["client_cert_subject"], format!("C=GB,O=OpenBanking,OU={ORG_ID},CN={SOFTWARE_ID}"));
}

/// A body too large to read never reaches the pipeline, but its refusal names the certificate
/// it came with, as every other refusal does.
#[tokio::test]
async fn an_oversized_body_is_audited_with_its_certificate() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let oversized = "a".repeat(70 * 1024);
    let (status, body) = server.register(&server.client(Some(&tpp.transport)), "application/jose", oversized).await;
    assert_registration_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "invalid_client_metadata");
    let rejected = server.audit_events("?type=dcr_rejected").await;
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["client_cert_subject"], format!("C=GB,O=OpenBanking,OU={ORG_ID},CN={SOFTWARE_ID}"));
}

#[tokio::test]
async fn es256_tpps_register_with_private_key_jwt() {
    let (server, tpp) = support::configured(JwsAlgorithm::Es256).await;
    let request = tpp.request_with(|claims| {
        claims["token_endpoint_auth_method"] = json!("private_key_jwt");
        claims["token_endpoint_auth_signing_alg"] = json!("ES256");
        claims.as_object_mut().map(|c| c.remove("tls_client_auth_subject_dn"));
    });
    let (status, body) = server.register(&server.client(Some(&tpp.transport)), "application/jwt", request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["token_endpoint_auth_signing_alg"], "ES256");
}

#[tokio::test]
async fn mutual_tls_is_required_and_judged_per_workspace() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;

    let (status, body) = server.register(&server.client(None), "application/jose", tpp.request()).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert!(body["error_description"].as_str().unwrap().contains("client certificate"));

    let stranger_ca = onboard::pki::CertificateAuthority::generate("Unknown CA", support::now()).unwrap();
    let stranger = stranger_ca.issue_client(&[(rcgen::DnType::CommonName, "intruder")], support::now()).unwrap();
    let (status, body) = server.register(&server.client(Some(&stranger)), "application/jose", tpp.request()).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert!(body["error_description"].as_str().unwrap().contains("not issued by a CA this workspace trusts"));

    // The plain listener has no client certificate to offer.
    let plain = reqwest::Client::new()
        .post(format!("{}{WORKSPACE}/openbankinguk/dcr/v3.2/register", server.http))
        .header("content-type", "application/jose")
        .body(tpp.request())
        .send()
        .await
        .unwrap();
    let (status, body) = support::decode(plain).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");

    // Refusals are audited with their reason and the certificate presented.
    let rejected = server.audit_events("?type=dcr_rejected").await;
    assert_eq!(rejected.len(), 3);
    assert!(rejected.iter().any(|e| e["client_cert_subject"] == "CN=intruder"));
    assert!(rejected.iter().all(|e| e["error"] == "invalid_client_metadata" && e["outcome"] == "failure"));
}

#[tokio::test]
async fn a_replayed_request_is_refused_and_writes_nothing() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client = server.client(Some(&tpp.transport));
    let request = tpp.request();
    let (status, _) = server.register(&client, "application/jose", request.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = server.register(&client, "application/jose", request).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert!(body["error_description"].as_str().unwrap().contains("jti"));
    let (_, listed) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients"), None).await;
    assert_eq!(listed["clients"].as_array().map(Vec::len), Some(1));
}

/// One case per stage of the pipeline, each asserting status and `error` on the wire.
#[tokio::test]
async fn each_kind_of_rejection_reaches_the_wire_in_rfc7591_form() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client = server.client(Some(&tpp.transport));
    let other_tpp_key = onboard::tpp::keys::SigningKey::generate(JwsAlgorithm::Ps256, "tpp-sig-1").unwrap();
    let rogue_directory = onboard::tpp::keys::SigningKey::generate(JwsAlgorithm::Ps256, "directory-1").unwrap();
    let now = support::now().timestamp();

    let drop = |name: &'static str| {
        move |c: &mut Value| {
            c.as_object_mut().map(|m| m.remove(name));
        }
    };
    let resigned_ssa = |claims: Value| tpp.tpp_key.sign(&tpp.request_claims(&tpp.directory_key.sign(&claims).unwrap())).unwrap();
    #[rustfmt::skip]
    let cases: Vec<(&str, String, &str)> = vec![
        ("expired", tpp.request_with(|c| { c["iat"] = json!(now - 7200); c["exp"] = json!(now - 3600); }), "invalid_client_metadata"),
        ("no exp", tpp.request_with(drop("exp")), "invalid_client_metadata"),
        ("no iat", tpp.request_with(drop("iat")), "invalid_client_metadata"),
        ("issued in the future", tpp.request_with(|c| { c["iat"] = json!(now + 600); c["exp"] = json!(now + 1200); }), "invalid_client_metadata"),
        ("valid for more than an hour", tpp.request_with(|c| c["exp"] = json!(c["iat"].as_i64().unwrap() + 3601)), "invalid_client_metadata"),
        ("no jti", tpp.request_with(drop("jti")), "invalid_client_metadata"),
        ("no aud", tpp.request_with(drop("aud")), "invalid_client_metadata"),
        ("wrong audience", tpp.request_with(|c| c["aud"] = json!("not-the-bank")), "invalid_client_metadata"),
        ("issuer not software_id", tpp.request_with(|c| c["iss"] = json!("SomeoneElse")), "invalid_client_metadata"),
        ("software_id mismatch", tpp.request_with(|c| c["software_id"] = json!("AnotherSoftware")), "invalid_client_metadata"),
        ("claim of the wrong type", tpp.request_with(|c| c["redirect_uris"] = json!("https://tpp.example.com/callback")), "invalid_client_metadata"),
        ("redirect not in SSA", tpp.request_with(|c| c["redirect_uris"] = json!(["https://abc.com"])), "invalid_redirect_uri"),
        ("redirect over http", tpp.request_with(|c| c["redirect_uris"] = json!(["http://tpp.example.com/callback"])), "invalid_redirect_uri"),
        ("redirect to localhost", tpp.request_with(|c| c["redirect_uris"] = json!(["https://localhost/callback"])), "invalid_redirect_uri"),
        ("redirect with fragment", tpp.request_with(|c| c["redirect_uris"] = json!(["https://tpp.example.com/callback#x"])), "invalid_redirect_uri"),
        ("auth method not allowed", tpp.request_with(|c| { c["token_endpoint_auth_method"] = json!("client_secret_basic"); drop("tls_client_auth_subject_dn")(c); }), "invalid_client_metadata"),
        ("DN missing", tpp.request_with(drop("tls_client_auth_subject_dn")), "invalid_client_metadata"),
        ("DN with private_key_jwt", tpp.request_with(|c| { c["token_endpoint_auth_method"] = json!("private_key_jwt"); c["token_endpoint_auth_signing_alg"] = json!("PS256"); }), "invalid_client_metadata"),
        ("private_key_jwt without alg", tpp.request_with(|c| { c["token_endpoint_auth_method"] = json!("private_key_jwt"); drop("tls_client_auth_subject_dn")(c); }), "invalid_client_metadata"),
        ("assertion alg with tls_client_auth", tpp.request_with(|c| c["token_endpoint_auth_signing_alg"] = json!("PS256")), "invalid_client_metadata"),
        ("RS256 id token alg", tpp.request_with(|c| c["id_token_signed_response_alg"] = json!("RS256")), "invalid_client_metadata"),
        ("request object alg none", tpp.request_with(|c| c["request_object_signing_alg"] = json!("none")), "invalid_client_metadata"),
        ("implicit response types", tpp.request_with(|c| c["response_types"] = json!(["id_token", "token"])), "invalid_client_metadata"),
        ("code without authorization_code", tpp.request_with(|c| c["grant_types"] = json!(["client_credentials"])), "invalid_client_metadata"),
        ("no grant types", tpp.request_with(drop("grant_types")), "invalid_client_metadata"),
        ("unknown grant", tpp.request_with(|c| c["grant_types"] = json!(["password"])), "invalid_client_metadata"),
        ("scope beyond workspace", tpp.request_with(|c| c["scope"] = json!("accounts admin")), "invalid_client_metadata"),
        ("no application type", tpp.request_with(drop("application_type")), "invalid_client_metadata"),
        ("application type", tpp.request_with(|c| c["application_type"] = json!("native")), "invalid_client_metadata"),
        ("signed by another key", other_tpp_key.sign(&tpp.request_claims(&tpp.ssa())).unwrap(), "invalid_client_metadata"),
        ("SSA missing", tpp.request_with(drop("software_statement")), "invalid_software_statement"),
        ("SSA signed by another key", tpp.tpp_key.sign(&tpp.request_claims(&rogue_directory.sign(&tpp.ssa_claims()).unwrap())).unwrap(), "invalid_software_statement"),
        ("SSA from an untrusted issuer", resigned_ssa(with(tpp.ssa_claims(), "iss", json!("Rogue Directory"))), "unapproved_software_statement"),
        ("SSA of a revoked organisation", resigned_ssa(with(tpp.ssa_claims(), "org_status", json!("Revoked"))), "unapproved_software_statement"),
        ("SSA expired", resigned_ssa(with(tpp.ssa_claims(), "exp", json!(now - 3600))), "invalid_software_statement"),
        ("SSA authorisation withdrawn", resigned_ssa(with(tpp.ssa_claims(), "organisation_competent_authority_claims", json!({"status": "Withdrawn", "authorisations": []}))), "unapproved_software_statement"),
        ("role not authorised", resigned_ssa(with(tpp.ssa_claims(), "organisation_competent_authority_claims", json!({"status": "Active", "authorisations": [{"member_state": "GB", "roles": ["PISP"]}]}))), "unapproved_software_statement"),
        ("scope beyond the SSA roles", resigned_ssa(with(tpp.ssa_claims(), "software_roles", json!(["PISP"]))), "invalid_client_metadata"),
        ("SSA naming no keys", resigned_ssa(without(tpp.ssa_claims(), "software_jwks_endpoint")), "invalid_software_statement"),
    ];
    let count = cases.len();
    for (name, request, error) in cases {
        let (status, body) = server.register(&client, "application/jose", request).await;
        assert_eq!(body["error"], error, "{name}: {body}");
        assert_registration_error(status, &body, StatusCode::BAD_REQUEST, error);
    }
    assert_eq!(server.audit_events("?type=dcr_rejected&limit=100").await.len(), count, "every refusal is audited");
    let (_, listed) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients"), None).await;
    assert_eq!(listed["clients"], json!([]), "no refusal registers anything");

    // A refusal names the software and organisation only of a statement that verified: anyone
    // can claim another's in one that does not.
    let newest_refusal = || async { server.audit_events("?type=dcr_rejected&limit=1").await.remove(0) };
    let forged = tpp.tpp_key.sign(&tpp.request_claims(&rogue_directory.sign(&tpp.ssa_claims()).unwrap())).unwrap();
    server.register(&client, "application/jose", forged).await;
    let refused = newest_refusal().await;
    assert_eq!((&refused["software_id"], &refused["org_id"]), (&Value::Null, &Value::Null), "{refused}");
    server.register(&client, "application/jose", tpp.request_with(|c| c["scope"] = json!("accounts admin"))).await;
    let refused = newest_refusal().await;
    assert_eq!(refused["software_id"], tpp.ssa_claims()["software_id"], "{refused}");
    assert_eq!(refused["org_id"], tpp.ssa_claims()["org_id"], "{refused}");
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().map(|m| m.remove(name));
    claims
}

/// OBUK DCR (FAPI 1 Advanced) registers no `client_secret_*` client, even where the workspace
/// allows the method for its manually created clients; nothing is stored.
#[tokio::test]
async fn an_open_banking_workspace_registers_no_secret_clients() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    server
        .patch_workspace(json!({"token_endpoint_auth_methods": ["tls_client_auth", "private_key_jwt", "client_secret_basic"]}))
        .await;
    let request = tpp.request_with(|c| {
        c["token_endpoint_auth_method"] = json!("client_secret_basic");
        c.as_object_mut().map(|m| m.remove("tls_client_auth_subject_dn"));
    });
    let (status, body) = server.register(&server.client(Some(&tpp.transport)), "application/jose", request).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert_eq!(
        body["error_description"],
        "token_endpoint_auth_method not supported, must be one of: [tls_client_auth, private_key_jwt]"
    );
    let (_, clients) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients"), None).await;
    assert_eq!(clients["clients"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn bodies_are_checked_for_type_and_size() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client = server.client(Some(&tpp.transport));
    let (status, body) = server.register(&client, "text/plain", tpp.request()).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    let (status, body) = server.register(&client, "application/json", "{}").await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    let (status, body) = server.register(&client, "application/jose", "a".repeat(70 * 1024)).await;
    assert_registration_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "invalid_client_metadata");
    let (status, body) = server.register(&client, "application/jose", "not.a.jws").await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
}

#[tokio::test]
async fn unknown_workspaces_and_paths_answer_404_json() {
    let server = TestServer::start().await;
    let client = server.client(None);
    for path in [
        "/default/nope/.well-known/openid-configuration",
        "/default/obuk/nothing-here",
        "/Bad Tenant/x/.well-known/openid-configuration",
    ] {
        let response = client.get(format!("{}{path}", server.https)).send().await.unwrap();
        let (status, body) = support::decode(response).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"], "not_found", "{path}");
    }
    let response = client.get(server.register_url()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

/// Every DCR setting takes effect on the next request, without a restart.
#[tokio::test]
async fn settings_change_behaviour_on_the_next_request() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let with_cert = server.client(Some(&tpp.transport));
    let without_cert = server.client(None);
    let discovery = format!("{}{WORKSPACE}/.well-known/openid-configuration", server.https);
    let mut settings = tpp.dcr_settings();

    // enabled: off → 403 and not advertised; on → advertised.
    settings["enabled"] = json!(false);
    server.put_dcr(settings.clone()).await;
    let (status, body) = server.register(&with_cert, "application/jose", tpp.request()).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::FORBIDDEN, json!("access_denied")));
    let document: Value = without_cert.get(&discovery).send().await.unwrap().json().await.unwrap();
    assert!(document.get("registration_endpoint").is_none());
    settings["enabled"] = json!(true);
    server.put_dcr(settings.clone()).await;
    let document: Value = without_cert.get(&discovery).send().await.unwrap().json().await.unwrap();
    assert_eq!(document["registration_endpoint"], format!("https://localhost:8443{WORKSPACE}/openbankinguk/dcr/v3.2/register"));

    // require_mtls: off → a connection without a certificate may register.
    settings["require_mtls"] = json!(false);
    server.put_dcr(settings.clone()).await;
    let (status, body) = server.register(&without_cert, "application/jose", tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // require_signed_request: off → plain RFC 7591 JSON is accepted.
    settings["require_signed_request"] = json!(false);
    server.put_dcr(settings.clone()).await;
    let mut plain = tpp.request_claims(&tpp.ssa());
    for claim in ["iss", "iat", "exp", "aud", "jti"] {
        plain.as_object_mut().map(|c| c.remove(claim));
    }
    let (status, body) = server.register(&with_cert, "application/json", plain.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // software_statement_issuers: the directory is no longer trusted.
    let trusted = settings["software_statement_issuers"].clone();
    settings["software_statement_issuers"][0]["issuer"] = json!("Another Directory");
    server.put_dcr(settings.clone()).await;
    let (status, body) = server.register(&with_cert, "application/jose", tpp.request()).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "unapproved_software_statement");

    // The directory's keys as inline JWKS instead of a URI.
    settings["software_statement_issuers"] = trusted;
    settings["software_statement_issuers"][0]["keys"] = json!({"jwks": tpp.directory_key.public_jwks()});
    server.put_dcr(settings.clone()).await;
    let (status, body) = server.register(&with_cert, "application/jose", tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // No software statement required, request verified with configured keys.
    settings["require_software_statement"] = json!(false);
    settings["request_signing_keys"] = json!({"jwks": tpp.tpp_key.public_jwks()});
    server.put_dcr(settings.clone()).await;
    let request = tpp.request_with(|c| {
        c.as_object_mut().map(|m| m.remove("software_statement"));
    });
    let (status, body) = server.register(&with_cert, "application/jose", request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.get("software_statement").is_none());

    // protect_by_access_token: without a dcr_register token nothing is authorised.
    settings["protect_by_access_token"] = json!(true);
    server.put_dcr(settings).await;
    let response = with_cert
        .post(server.register_url())
        .header("content-type", "application/jose")
        .body(tpp.request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert!(response.headers().get("www-authenticate").is_some_and(|v| v.to_str().unwrap_or_default().starts_with("Bearer")));
}

#[tokio::test]
async fn tpp_keys_are_cached_and_refetched_for_an_unknown_kid() {
    let (server, mut tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client = server.client(Some(&tpp.transport));
    for _ in 0..3 {
        let (status, body) = server.register(&client, "application/jose", tpp.request()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(tpp.tpp_fetches(), 1, "the TPP's key set is fetched once and cached");

    // The TPP rotates to a new key: the unknown kid triggers one fresh fetch.
    tpp.tpp_key = onboard::tpp::keys::SigningKey::generate(JwsAlgorithm::Ps256, "tpp-sig-2").unwrap();
    tpp.published.lock().unwrap().tpp = tpp.tpp_key.public_jwks();
    let (status, body) = server.register(&client, "application/jose", tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(tpp.tpp_fetches(), 2);
}

#[tokio::test]
async fn unreachable_key_hosts_are_reported_by_whose_they_are() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client = server.client(Some(&tpp.transport));
    tpp.published.lock().unwrap().down = true;
    // The bank's own directory key URI is down: the server cannot decide now (503).
    let (status, body) = server.register(&client, "application/jose", tpp.request()).await;
    assert_eq!((status, body["error"].clone()), (StatusCode::SERVICE_UNAVAILABLE, json!("temporarily_unavailable")), "{body}");

    // With the directory keys inline, only the TPP's endpoint is down: the TPP's problem (400).
    let mut settings = tpp.dcr_settings();
    settings["software_statement_issuers"][0]["keys"] = json!({"jwks": tpp.directory_key.public_jwks()});
    server.put_dcr(settings).await;
    let (status, body) = server.register(&client, "application/jose", tpp.request()).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert!(body["error_description"].as_str().unwrap().contains("could not be verified"));
}

/// "Protect by access token": a `dcr_register` token, issued to a manually created client,
/// admits exactly one registration.
#[tokio::test]
async fn protect_by_access_token_admits_one_registration_per_dcr_register_token() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let portal_cert = tpp
        .transport_ca
        .issue_client(
            &[(rcgen::DnType::CommonName, "onboarding-portal"), (rcgen::DnType::OrganizationName, "Bank")],
            support::now(),
        )
        .unwrap();
    let new_portal = json!({
        "name": "Onboarding portal",
        "scopes": ["dcr_register", "accounts"],
        "token_endpoint_auth_method": "tls_client_auth",
        "tls_client_auth_subject_dn": "CN=onboarding-portal,O=Bank"
    });
    let (status, portal) = server.admin(Method::POST, &format!("{ADMIN_WORKSPACE}/clients"), Some(new_portal)).await;
    assert_eq!(status, StatusCode::CREATED, "{portal}");
    assert_eq!(portal["dynamically_registered"], false);
    assert!(portal.get("client_secret").is_none());
    let mut settings = tpp.dcr_settings();
    settings["protect_by_access_token"] = json!(true);
    server.put_dcr(settings).await;

    let portal_client = server.client(Some(&portal_cert));
    let form =
        [("client_id", portal["client_id"].as_str().unwrap()), ("grant_type", "client_credentials"), ("scope", "dcr_register")];
    let (status, issued, _) = server.token(&portal_client, &form, None).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let token = issued["access_token"].as_str().unwrap();

    let register = |bearer: Option<String>| {
        let mut request =
            portal_client.post(server.register_url()).header("content-type", "application/jose").body(tpp.request());
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    // RFC 6750 §3.1: no token, a challenge without an error code; a token without the
    // dcr_register scope, 403 insufficient_scope.
    let response = register(None).await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"onboard\"");
    let accounts_form = [form[0], form[1], ("scope", "accounts")];
    let accounts_only = server.token(&portal_client, &accounts_form, None).await.1["access_token"].as_str().unwrap().to_owned();
    let response = register(Some(accounts_only)).await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"insufficient_scope\", scope=\"dcr_register\"");
    let (status, body) = support::decode(response).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("insufficient_scope")), "{body}");
    let (status, registered) = support::decode(register(Some(token.to_owned())).await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let response = register(Some(token.to_owned())).await.unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer error=\"invalid_token\"");
    let (status, body) = support::decode(response).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")), "the token is single use");

    // The onboarding token manages nothing, and the portal (a manual client) is not reachable
    // through the DCR management endpoint at all.
    let portal_url = format!("{}/{}", server.register_url(), portal["client_id"].as_str().unwrap());
    let (status, _) = support::decode(portal_client.get(&portal_url).bearer_auth(token).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let fresh = server.token(&portal_client, &form, None).await.1["access_token"].as_str().unwrap().to_owned();
    let (status, _) = support::decode(portal_client.delete(&portal_url).bearer_auth(&fresh).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let registered_url = format!("{}/{}", server.register_url(), registered["client_id"].as_str().unwrap());
    let (status, _) = support::decode(portal_client.get(&registered_url).bearer_auth(&fresh).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a dcr_register token is not a management token");
    let (_, manual) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients?dcr=false"), None).await;
    assert_eq!(manual["clients"].as_array().map(Vec::len), Some(1), "the portal still exists");

    // A TPP's own token never carries dcr_register.
    let tpp_form = [
        ("client_id", registered["client_id"].as_str().unwrap()),
        ("grant_type", "client_credentials"),
        ("scope", "dcr_register"),
    ];
    let (status, body, _) = server.token(&server.client(Some(&tpp.transport)), &tpp_form, None).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scope")));
    let (_, manual) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients?dcr=false"), None).await;
    assert_eq!(manual["clients"].as_array().map(Vec::len), Some(1));
    let refusals = server.audit_events("?type=dcr_rejected").await;
    assert_eq!(refusals.iter().filter(|e| e["error"] == "invalid_token").count(), 2);
    assert_eq!(refusals.iter().filter(|e| e["error"] == "insufficient_scope").count(), 1);
}

#[tokio::test]
async fn manual_clients_are_validated_and_their_secret_is_shown_once() {
    let server = TestServer::start().await;
    let clients = format!("{ADMIN_WORKSPACE}/clients");
    let refused = [
        (
            json!({"name": "x", "scopes": ["nonsense"], "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=x"}),
            "scopes",
        ),
        (
            json!({"name": "x", "scopes": ["dcr_register"], "token_endpoint_auth_method": "client_secret_basic"}),
            "token_endpoint_auth_method",
        ),
        (json!({"name": "x", "scopes": ["dcr_register"], "token_endpoint_auth_method": "private_key_jwt"}), "jwks"),
        (
            json!({"name": "x", "scopes": ["dcr_register"], "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "garbage"}),
            "tls_client_auth_subject_dn",
        ),
        (
            json!({"name": "", "scopes": ["dcr_register"], "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=x"}),
            "name",
        ),
    ];
    for (body, field) in refused {
        let (status, error) = server.admin(Method::POST, &clients, Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {error}");
        assert!(error["error_description"].as_str().unwrap().starts_with(field), "{field}: {error}");
    }
    server
        .patch_workspace(json!({"token_endpoint_auth_methods": ["tls_client_auth", "private_key_jwt", "client_secret_basic"]}))
        .await;
    let (status, created) = server
        .admin(Method::POST, &clients, Some(json!({"name": "Portal", "scopes": ["dcr_register", "accounts"], "token_endpoint_auth_method": "client_secret_basic"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 36);
    let (_, read) = server.admin(Method::GET, &format!("{clients}/{}", created["client_id"].as_str().unwrap()), None).await;
    assert!(!read.to_string().contains(secret));
    assert_eq!(read["metadata"]["grant_types"], json!(["client_credentials"]));
    assert_eq!(server.audit_events("?type=client_created").await.len(), 1);
}

/// With the client certificate bound to the software statement (OBUK DCR step 7), only a
/// transport certificate the software's key set publishes (a `use: tls` key with the
/// certificate as `x5c[0]`) registers. Another certificate from the same trusted CA, with the
/// same subject, presenting the very same signed request, is refused, and the setting needs
/// software statements and mutual TLS to be required.
#[tokio::test]
async fn a_bound_workspace_registers_only_over_a_transport_certificate_the_software_publishes() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let mut keys = tpp.tpp_key.public_jwks();
    let transport_key = onboard::tpp::keys::transport_jwk(&tpp.transport.cert_pem, "tpp-tls-1").unwrap();
    keys["keys"].as_array_mut().unwrap().push(transport_key);
    tpp.published.lock().unwrap().tpp = keys;
    let mut settings = tpp.dcr_settings();
    settings["bind_transport_certificate"] = json!(true);
    server.put_dcr(settings.clone()).await;

    let request = tpp.request();
    let copier = tpp
        .transport_ca
        .issue_client(
            &[
                (rcgen::DnType::CommonName, SOFTWARE_ID),
                (rcgen::DnType::OrganizationalUnitName, ORG_ID),
                (rcgen::DnType::OrganizationName, "OpenBanking"),
                (rcgen::DnType::CountryName, "GB"),
            ],
            support::now(),
        )
        .unwrap();
    let (status, body) = server.register(&server.client(Some(&copier)), "application/jose", request.clone()).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_software_statement");
    assert!(body["error_description"].as_str().unwrap().starts_with("tls transport cert does not match"), "{body}");

    let (status, body) = server.register(&server.client(Some(&tpp.transport)), "application/jose", request).await;
    assert_eq!(status, StatusCode::CREATED, "the software's own certificate, same request: {body}");

    settings["require_mtls"] = json!(false);
    let (status, refused) = server.admin(Method::PUT, &format!("{ADMIN_WORKSPACE}/dcr"), Some(settings)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("bind_transport_certificate"), "{refused}");
}

/// A workspace may bound how old a software statement is (OB statements carry `iat` but no
/// `exp`): an older one is refused with `invalid_software_statement`, and the bound is kept
/// within a minute and a year.
#[tokio::test]
async fn a_workspace_may_refuse_old_software_statements() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let mut settings = tpp.dcr_settings();
    settings["max_software_statement_age_seconds"] = json!(600);
    server.put_dcr(settings.clone()).await;
    let (_, saved) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/dcr"), None).await;
    assert_eq!(saved["max_software_statement_age_seconds"], 600, "{saved}");

    let mut old = tpp.ssa_claims();
    old["iat"] = json!(support::now().timestamp() - 3600);
    let old_ssa = tpp.directory_key.sign(&old).unwrap();
    let request = tpp.tpp_key.sign(&tpp.request_claims(&old_ssa)).unwrap();
    let mtls = server.client(Some(&tpp.transport));
    let (status, body) = server.register(&mtls, "application/jose", request).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_software_statement");
    assert!(body["error_description"].as_str().unwrap().contains("at most 600 seconds old"), "{body}");
    let (status, body) = server.register(&mtls, "application/jose", tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "a statement a minute old: {body}");

    settings["max_software_statement_age_seconds"] = json!(30);
    let (status, refused) = server.admin(Method::PUT, &format!("{ADMIN_WORKSPACE}/dcr"), Some(settings)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("max_software_statement_age_seconds"), "{refused}");
}

/// Each trusted directory's statements are verified with its own keys only: a workspace
/// trusting two directories does not let one sign statements naming the other as issuer.
#[tokio::test]
async fn a_directory_cannot_sign_statements_in_another_directorys_name() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let other_directory = onboard::tpp::keys::SigningKey::generate(JwsAlgorithm::Ps256, "other-directory").unwrap();
    let mut settings = tpp.dcr_settings();
    settings["software_statement_issuers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"issuer": "Another Directory", "keys": {"jwks": other_directory.public_jwks()}}));
    server.put_dcr(settings).await;
    let mtls = server.client(Some(&tpp.transport));
    let register_with = |issuer: &str, signer: &onboard::tpp::keys::SigningKey| {
        let mut claims = tpp.ssa_claims();
        claims["iss"] = json!(issuer);
        let ssa = signer.sign(&claims).unwrap();
        tpp.tpp_key.sign(&tpp.request_claims(&ssa)).unwrap()
    };

    let (status, body) = server.register(&mtls, "application/jose", register_with("Another Directory", &other_directory)).await;
    assert_eq!(status, StatusCode::CREATED, "the other directory's own statement: {body}");
    let (status, body) = server.register(&mtls, "application/jose", register_with(support::DIRECTORY, &other_directory)).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_software_statement");
    assert!(body["error_description"].as_str().unwrap().contains("signature"), "{body}");
    let (status, body) = server.register(&mtls, "application/jose", register_with("Another Directory", &tpp.directory_key)).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_software_statement");
    let (status, body) = server.register(&mtls, "application/jose", tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "the first directory's own statement: {body}");
}

/// A registration request whose `aud` is the bank's `org_id` is valid at each of the bank's
/// workspaces that accept it; once one of them has taken it, the others refuse it as a replay,
/// so whoever holds a copy cannot register the TPP a second time (and get that registration's
/// access token).
#[tokio::test]
async fn a_request_one_workspace_took_is_a_replay_at_the_others() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let (status, body) = server
        .admin(
            Method::POST,
            "/default/workspaces",
            Some(json!({"id": "obuk-two", "name": "Second", "profile": "openbanking_uk"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    server.patch_workspace_at("/default/workspaces/obuk-two", tpp.workspace_settings()).await;
    let (status, body) = server.admin(Method::PUT, "/default/workspaces/obuk-two/dcr", Some(tpp.dcr_settings())).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let request = tpp.request();
    let mtls = server.client(Some(&tpp.transport));
    let (status, body) = server.register(&mtls, "application/jose", request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let second = format!("{}/default/obuk-two/openbankinguk/dcr/v3.2/register", server.https);
    let response = mtls.post(&second).header("content-type", "application/jose").body(request).send().await.unwrap();
    let (status, body) = support::decode(response).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert!(body["error_description"].as_str().unwrap().contains("replayed jti"), "{body}");
    // A request of its own registers there.
    let response = mtls.post(&second).header("content-type", "application/jose").body(tpp.request()).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}
