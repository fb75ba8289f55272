//! Registration management as the OBIE conformance tool exercises it (OBUK-DCR.md §6.4, §6.5):
//! DCR-002, 003, 005, 007, 008, 009 and 010, once with `tls_client_auth` and once with
//! `private_key_jwt`, and the fork's `registration_access_token` variant; plus the rules the
//! tool does not test: 403 for another client's token, certificate binding, workspaces apart.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::tpp::keys::SigningKey;
use reqwest::Method;
use serde_json::{Value, json};
use support::{Ecosystem, TestServer, WORKSPACE};

#[derive(Clone, Copy, Debug)]
enum Auth {
    TlsClientAuth,
    PrivateKeyJwt,
}

struct Tool {
    server: TestServer,
    tpp: Ecosystem,
    mtls: reqwest::Client,
}

impl Tool {
    async fn new() -> Self {
        let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
        let mtls = server.client(Some(&tpp.transport));
        Self { server, tpp, mtls }
    }

    fn claims(auth: Auth) -> impl Fn(&mut Value) {
        move |c: &mut Value| {
            if let Auth::PrivateKeyJwt = auth {
                c["token_endpoint_auth_method"] = json!("private_key_jwt");
                c["token_endpoint_auth_signing_alg"] = json!("PS256");
                c.as_object_mut().map(|m| m.remove("tls_client_auth_subject_dn"));
            }
        }
    }

    /// "Register software client": 201 with a `client_id`.
    async fn register(&self, auth: Auth) -> Value {
        self.tpp.register(&self.server, Self::claims(auth)).await
    }

    /// "Retrieve client credentials grant": 200 with a JSON token.
    async fn token(&self, auth: Auth, client_id: &str) -> String {
        let assertion;
        let form: Vec<(&str, &str)> = match auth {
            Auth::TlsClientAuth => vec![("client_id", client_id), ("grant_type", "client_credentials"), ("scope", "")],
            Auth::PrivateKeyJwt => {
                assertion = self
                    .tpp
                    .client_assertion(client_id, &self.server.token_url().replace(&self.server.https, "https://localhost:8443"));
                vec![
                    ("grant_type", "client_credentials"),
                    ("scope", ""),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion.as_str()),
                ]
            }
        };
        let (status, body, _) = self.server.token(&self.mtls, &form, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["expires_in"].is_i64());
        body["access_token"].as_str().unwrap().to_owned()
    }

    fn url(&self, client_id: &str) -> String {
        format!("{}/{client_id}", self.server.register_url())
    }

    async fn call(
        &self,
        method: Method,
        client_id: &str,
        bearer: &str,
        body: Option<String>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let mut request = self.mtls.request(method, self.url(client_id)).header("authorization", format!("Bearer {bearer}"));
        if let Some(body) = body {
            request = request.header("content-type", "application/jose").body(body);
        }
        let response = request.send().await.unwrap();
        let headers = response.headers().clone();
        let (status, body) = support::decode(response).await;
        (status, body, headers)
    }

    /// A freshly signed claim set with the same metadata (new jti, iat, exp).
    fn update_body(&self, auth: Auth, change: impl FnOnce(&mut Value)) -> String {
        let adjust = Self::claims(auth);
        self.tpp.request_with(|c| {
            adjust(c);
            change(c);
        })
    }
}

fn assert_unauthorized(status: StatusCode, headers: &reqwest::header::HeaderMap) {
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenge = headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(challenge.starts_with("Bearer "), "WWW-Authenticate matches ^Bearer .*: {challenge:?}");
}

/// The upstream tool's GET schema (OBUK-DCR.md §6.6 item 5).
fn assert_tool_schema(body: &Value) {
    let text = |name: &str| body[name].as_str().unwrap_or_else(|| panic!("{name} must be a string: {body}"));
    let client_id = text("client_id");
    assert!((1..=36).contains(&client_id.len()));
    if let Some(secret) = body.get("client_secret") {
        assert!(secret.as_str().is_some_and(|s| (1..=36).contains(&s.len())));
    }
    for uri in body["redirect_uris"].as_array().unwrap() {
        let uri = url::Url::parse(uri.as_str().unwrap()).unwrap();
        assert!(uri.scheme() == "https" && uri.host_str() != Some("localhost") && uri.fragment().is_none());
    }
    let method = text("token_endpoint_auth_method");
    assert!(
        ["private_key_jwt", "client_secret_jwt", "client_secret_basic", "client_secret_post", "tls_client_auth"]
            .contains(&method)
    );
    for grant in body["grant_types"].as_array().unwrap() {
        assert!(["client_credentials", "authorization_code", "refresh_token"].contains(&grant.as_str().unwrap()));
    }
    for response_type in body["response_types"].as_array().unwrap() {
        assert!(["code", "code id_token"].contains(&response_type.as_str().unwrap()));
    }
    assert!(onboard::oauth2::software_statement::is_base62_id(text("software_id")));
    assert!((1..=256).contains(&text("scope").len()));
    assert!(!text("software_statement").is_empty());
    assert!(["web", "mobile"].contains(&text("application_type")));
    for alg in ["id_token_signed_response_alg", "request_object_signing_alg"] {
        assert!((1..=5).contains(&text(alg).len()));
    }
    match method {
        "private_key_jwt" => assert!((1..=5).contains(&text("token_endpoint_auth_signing_alg").len())),
        "tls_client_auth" => assert!(text("tls_client_auth_subject_dn").len() <= 128),
        _ => {}
    }
    assert!(body["client_id_issued_at"].is_i64());
}

#[tokio::test]
async fn the_conformance_tools_management_scenarios_pass() {
    let tool = Tool::new().await;
    for auth in [Auth::TlsClientAuth, Auth::PrivateKeyJwt] {
        // DCR-002 and DCR-005: register, token, retrieve (schema), delete.
        let registered = tool.register(auth).await;
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        let token = tool.token(auth, &client_id).await;
        let (status, body, _) = tool.call(Method::GET, &client_id, &token, None).await;
        assert_eq!(status, StatusCode::OK, "{auth:?}: {body}");
        assert_tool_schema(&body);
        assert!(body.get("registration_access_token").is_none() && body.get("client_secret").is_none());

        // DCR-007: an empty bearer token.
        let response = tool.mtls.get(tool.url(&client_id)).header("authorization", "Bearer ").send().await.unwrap();
        assert_unauthorized(StatusCode::from_u16(response.status().as_u16()).unwrap(), response.headers());

        // DCR-008: a complete, freshly signed claim set without client_id → 200.
        let (status, body, _) = tool
            .call(Method::PUT, &client_id, &token, Some(tool.update_body(auth, |c| c["scope"] = json!("payments openid"))))
            .await;
        assert_eq!(status, StatusCode::OK, "{auth:?}: {body}");
        assert_eq!((body["client_id"].as_str(), body["scope"].as_str()), (Some(client_id.as_str()), Some("openid payments")));
        assert_eq!(body["client_id_issued_at"], registered["client_id_issued_at"], "the client keeps its identity");
        let (status, _, _) = tool.call(Method::GET, &client_id, &token, None).await;
        assert_eq!(status, StatusCode::OK, "an update keeps the client's tokens");

        // DCR-003, DCR-009, DCR-010: delete, then the old token gets 401 on GET, PUT, DELETE.
        let (status, _, _) = tool.call(Method::DELETE, &client_id, &token, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, headers) = tool.call(Method::GET, &client_id, &token, None).await;
        assert_unauthorized(status, &headers);
        let (status, _, headers) = tool.call(Method::PUT, &client_id, &token, Some(tool.update_body(auth, |_| {}))).await;
        assert_unauthorized(status, &headers);
        let (status, _, headers) = tool.call(Method::DELETE, &client_id, &token, None).await;
        assert_unauthorized(status, &headers);
    }
}

#[tokio::test]
async fn the_registration_access_token_manages_the_registration_too() {
    let tool = Tool::new().await;
    let registered = tool.register(Auth::TlsClientAuth).await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let rat = registered["registration_access_token"].as_str().unwrap().to_owned();
    let (status, _, _) = tool.call(Method::GET, &client_id, &rat, None).await;
    assert_eq!(status, StatusCode::OK);
    // The token is bound to the subject of the certificate the client registered with: another
    // TPP's certificate from the same CA opens nothing, the TPP's renewed one (same subject,
    // new key) does.
    let issue = |subject: &[(rcgen::DnType, &str)]| tool.tpp.transport_ca.issue_client(subject, support::now()).unwrap();
    let tpp_subject = [
        (rcgen::DnType::CommonName, support::SOFTWARE_ID),
        (rcgen::DnType::OrganizationalUnitName, support::ORG_ID),
        (rcgen::DnType::OrganizationName, "OpenBanking"),
        (rcgen::DnType::CountryName, "GB"),
    ];
    for (certificate, expected) in [(issue(&[(rcgen::DnType::CommonName, "another")]), 401), (issue(&tpp_subject), 200)] {
        let response = tool.server.client(Some(&certificate)).get(tool.url(&client_id)).bearer_auth(&rat).send().await.unwrap();
        assert_eq!(response.status().as_u16(), expected, "{:?}", certificate.cert_pem.lines().nth(1));
    }
    let (status, _, headers) = tool.call(Method::GET, &client_id, "invalid-access-token-123", None).await;
    assert_unauthorized(status, &headers);
    // The fork's PUT includes client_id.
    let body = tool.update_body(Auth::TlsClientAuth, |c| c["client_id"] = json!(client_id));
    let (status, body, _) = tool.call(Method::PUT, &client_id, &rat, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let other = tool.update_body(Auth::TlsClientAuth, |c| c["client_id"] = json!("someone-else"));
    let (status, body, _) = tool.call(Method::PUT, &client_id, &rat, Some(other)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")));
    let (status, _, _) = tool.call(Method::DELETE, &client_id, &rat, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, headers) = tool.call(Method::GET, &client_id, &rat, None).await;
    assert_unauthorized(status, &headers);
}

#[tokio::test]
async fn a_valid_token_of_another_client_is_forbidden_and_an_unknown_client_revokes_it() {
    let tool = Tool::new().await;
    let a = tool.register(Auth::TlsClientAuth).await["client_id"].as_str().unwrap().to_owned();
    let b = tool.register(Auth::TlsClientAuth).await;
    let (b_id, b_rat) =
        (b["client_id"].as_str().unwrap().to_owned(), b["registration_access_token"].as_str().unwrap().to_owned());
    let token_a = tool.token(Auth::TlsClientAuth, &a).await;

    let (status, body, _) = tool.call(Method::GET, &b_id, &token_a, None).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("access_denied")));
    let (status, _, _) = tool.call(Method::GET, &a, &b_rat, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another client's registration access token");
    let b_secret_for_a = format!("{a}~{}", b_rat.rsplit_once('~').unwrap().1);
    let (status, _, headers) = tool.call(Method::GET, &a, &b_secret_for_a, None).await;
    assert_unauthorized(status, &headers);
    let (status, _, headers) = tool.call(Method::GET, &a, &format!("{b_id}~not-its-secret"), None).await;
    assert_unauthorized(status, &headers);

    // A client id that is not even UTF-8 names no client either: 401, not a refusal of the path.
    let (status, body, headers) = tool.call(Method::GET, "%FF", &token_a, None).await;
    assert_unauthorized(status, &headers);
    assert_eq!(body["error"], "invalid_token", "{body}");
    let (status, _, headers) = tool.call(Method::GET, "no-such-client", &token_a, None).await;
    assert_unauthorized(status, &headers);
    let (status, _, headers) = tool.call(Method::GET, &a, &token_a, None).await;
    assert_unauthorized(status, &headers);
    let (status, _, _) = tool.call(Method::GET, &b_id, &b_rat, None).await;
    assert_eq!(status, StatusCode::OK, "b is untouched");

    // A PUT is authorised before its body is read: without a valid token even an oversized
    // body gets the 401, and a valid token's oversized body the 413.
    let oversized = "a".repeat(70 * 1024);
    let (status, _, headers) = tool.call(Method::PUT, &b_id, &format!("{b_id}~not-its-secret"), Some(oversized.clone())).await;
    assert_unauthorized(status, &headers);
    let (status, body, _) = tool.call(Method::PUT, &b_id, &b_rat, Some(oversized)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("invalid_client_metadata")), "{body}");
    // The authorised update's oversized body is recorded as that client's update.
    let events = tool.server.audit_events("?type=dcr_updated&limit=100").await;
    let oversized_update = events.iter().find(|e| e["error_description"] == "request body: larger than 64 KiB");
    let oversized_update = oversized_update.unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(
        (oversized_update["client_id"].as_str(), oversized_update["outcome"].as_str()),
        (Some(b_id.as_str()), Some("failure"))
    );
    assert!(oversized_update["software_id"].is_string(), "{oversized_update}");
}

/// A caller without a valid token learns nothing of which client ids exist: a forged token, an
/// unknown access token or a forged registration access token (naming the path's client or
/// another) gets the same 401 for an existing client as for one that never was, and a valid
/// registration access token of another client the same 403. The audit log keeps the reason.
#[tokio::test]
async fn a_bad_token_gets_the_same_answer_whether_or_not_the_client_exists() {
    let tool = Tool::new().await;
    let existing = tool.register(Auth::TlsClientAuth).await["client_id"].as_str().unwrap().to_owned();
    let other = tool.register(Auth::TlsClientAuth).await;
    let (other_id, other_rat) =
        (other["client_id"].as_str().unwrap().to_owned(), other["registration_access_token"].as_str().unwrap().to_owned());
    let forged_jwt = "eyJhbGciOiJQUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
    let forged_rat = |client_id: &str| format!("{client_id}~not-its-secret");
    for path in [&existing, "never-registered"] {
        let (status, body, _) = tool.call(Method::GET, path, &other_rat, None).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("access_denied")), "{path}: {body}");
    }
    for method in [Method::GET, Method::DELETE] {
        for token in [forged_jwt.to_owned(), forged_rat(&existing), forged_rat(&other_id)] {
            let for_existing = tool.call(method.clone(), &existing, &token, None).await;
            let for_unknown = tool.call(method.clone(), "never-registered", &token, None).await;
            assert_unauthorized(for_existing.0, &for_existing.2);
            assert_eq!(for_existing.1, for_unknown.1, "{method} with {token}");
            assert_eq!(for_existing.2["www-authenticate"], for_unknown.2["www-authenticate"]);
        }
    }
    let (_, body, _) = tool.call(Method::GET, "never-registered", &forged_rat("never-registered"), None).await;
    assert_eq!(body["error_description"], "the token is not valid for this client", "{body}");

    let events = tool.server.audit_events("?type=dcr_deleted&limit=100").await;
    let reason = |client_id: &str| {
        events
            .iter()
            .filter(|e| e["client_id"] == client_id)
            .map(|e| e["error_description"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };
    for path in [existing.as_str(), "never-registered"] {
        let reasons = reason(path);
        assert_eq!(reasons.len(), 3, "{events:?}");
        assert!(reasons.iter().any(|d| d.contains("an unknown access token")), "{events:?}");
        assert!(reasons.iter().filter(|d| d.contains("an unknown registration access token")).count() == 2, "{events:?}");
    }
}

#[tokio::test]
async fn a_bound_token_works_only_with_its_certificate_and_only_in_its_workspace() {
    let tool = Tool::new().await;
    let client_id = tool.register(Auth::TlsClientAuth).await["client_id"].as_str().unwrap().to_owned();
    let token = tool.token(Auth::TlsClientAuth, &client_id).await;
    let other_cert = tool.tpp.transport_ca.issue_client(&[(rcgen::DnType::CommonName, "another")], support::now()).unwrap();
    for client in [tool.server.client(Some(&other_cert)), tool.server.client(None)] {
        let response = client.get(tool.url(&client_id)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "a bound token needs its certificate");
    }

    let (status, _) = tool
        .server
        .admin(Method::POST, "/default/workspaces", Some(json!({"id": "other", "name": "Other", "profile": "openbanking_uk"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let elsewhere = format!("{}/default/other/openbankinguk/dcr/v3.2/register/{client_id}", tool.server.https);
    let response = tool.mtls.get(elsewhere).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401, "a token of one workspace never works in another");
}

#[tokio::test]
async fn switched_off_registration_keeps_reads_and_deletes_but_refuses_changes() {
    let tool = Tool::new().await;
    let registered = tool.register(Auth::TlsClientAuth).await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let rat = registered["registration_access_token"].as_str().unwrap().to_owned();
    let mut settings = tool.tpp.dcr_settings();
    settings["enabled"] = json!(false);
    tool.server.put_dcr(settings).await;
    let (status, body, _) = tool.call(Method::PUT, &client_id, &rat, Some(tool.update_body(Auth::TlsClientAuth, |_| {}))).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("access_denied")));
    let (status, _, _) = tool.call(Method::GET, &client_id, &rat, None).await;
    assert_eq!(status, StatusCode::OK);
    // Without any token the challenge carries no error code (RFC 6750 §3.1).
    let response = tool.mtls.get(tool.url(&client_id)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"onboard\"");
    // Nor without a certificate as well: no token is answered as no token.
    let response = tool.server.client(None).get(tool.url(&client_id)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"onboard\"");
    // Without a trusted certificate an OBUK workspace refuses even the registration token.
    let response = tool.server.client(None).get(tool.url(&client_id)).bearer_auth(&rat).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let (status, _, _) = tool.call(Method::DELETE, &client_id, &rat, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

/// A client registered with a software statement stays with its directory and organisation: a
/// token that reached another TPP cannot move the client under another directory's statement
/// or organisation, nor (where statements are optional) drop the statement for keys of its own.
#[tokio::test]
async fn an_update_keeps_the_clients_directory_and_organisation() {
    let tool = Tool::new().await;
    let other_directory = SigningKey::generate(JwsAlgorithm::Ps256, "other-directory").unwrap();
    let mut settings = tool.tpp.dcr_settings();
    settings["software_statement_issuers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"issuer": "Another Directory", "keys": {"jwks": other_directory.public_jwks()}}));
    tool.server.put_dcr(settings.clone()).await;
    let client_id = tool.register(Auth::TlsClientAuth).await["client_id"].as_str().unwrap().to_owned();
    let token = tool.token(Auth::TlsClientAuth, &client_id).await;
    let update_with = |statement: Value, signer: &SigningKey| {
        let ssa = signer.sign(&statement).unwrap();
        tool.tpp.tpp_key.sign(&tool.tpp.request_claims(&ssa)).unwrap()
    };

    let mut elsewhere = tool.tpp.ssa_claims();
    elsewhere["iss"] = json!("Another Directory");
    let mut other_org = tool.tpp.ssa_claims();
    other_org["org_id"] = json!("0015800001ZEZ3hAAH");
    let refused = [
        (
            update_with(elsewhere, &other_directory),
            "claim iss must be the issuer of the software statement the client registered with",
        ),
        (update_with(other_org, &tool.tpp.directory_key), "claim org_id must be the organisation the client registered with"),
    ];
    for (body, problem) in refused {
        let (status, body, _) = tool.call(Method::PUT, &client_id, &token, Some(body)).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_software_statement")), "{body}");
        assert!(body["error_description"].as_str().unwrap().contains(problem), "{body}");
    }

    // Statements made optional, requests verified with configured keys: one without a
    // statement is still refused for a client that registered with one.
    settings["require_software_statement"] = json!(false);
    settings["bind_transport_certificate"] = json!(false);
    settings["request_signing_keys"] = json!({"jwks": tool.tpp.tpp_key.public_jwks()});
    tool.server.put_dcr(settings).await;
    let without = tool.update_body(Auth::TlsClientAuth, |c| {
        c.as_object_mut().map(|m| m.remove("software_statement"));
        c["software_id"] = json!(support::SOFTWARE_ID);
        c["jwks_uri"] = json!("https://attacker.example/jwks");
    });
    let (status, body, _) = tool.call(Method::PUT, &client_id, &token, Some(without)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_software_statement")), "{body}");
    assert_eq!(body["error_description"], "software_statement: required to update a client that registered with one");
    let (status, _, _) = tool.call(Method::PUT, &client_id, &token, Some(tool.update_body(Auth::TlsClientAuth, |_| {}))).await;
    assert_eq!(status, StatusCode::OK, "its own directory's statement still updates it");
}

/// An update runs the registration's pipeline, so it counts against the address's
/// registration rate as a registration does; a client's own reads do not.
#[tokio::test]
async fn updates_count_against_the_address_rate() {
    let tool = Tool::new().await;
    let client_id = tool.register(Auth::TlsClientAuth).await["client_id"].as_str().unwrap().to_owned();
    let token = tool.token(Auth::TlsClientAuth, &client_id).await;
    tool.server.patch_workspace(json!({"limits": {"registrations_per_ip_per_minute": 2}})).await;
    for _ in 0..3 {
        assert_eq!(tool.call(Method::GET, &client_id, &token, None).await.0, StatusCode::OK, "its own reads");
    }
    // A refused update counts once, as it was counted before its checks ran.
    let refused = tool.update_body(Auth::TlsClientAuth, |claims| claims["client_id"] = json!("another-client"));
    let (status, body, _) = tool.call(Method::PUT, &client_id, &token, Some(refused)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")), "{body}");
    let update = || Some(tool.update_body(Auth::TlsClientAuth, |_| {}));
    assert_eq!(tool.call(Method::PUT, &client_id, &token, update()).await.0, StatusCode::OK);
    let (status, body, headers) = tool.call(Method::PUT, &client_id, &token, update()).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("temporarily_unavailable")), "{body}");
    assert!(headers.contains_key("retry-after"));
}

#[tokio::test]
async fn updates_follow_the_registration_rules_and_every_operation_is_audited() {
    let tool = Tool::new().await;
    let client_id = tool.register(Auth::TlsClientAuth).await["client_id"].as_str().unwrap().to_owned();
    let token = tool.token(Auth::TlsClientAuth, &client_id).await;
    let refused = [
        (tool.update_body(Auth::TlsClientAuth, |c| c["redirect_uris"] = json!(["https://abc.com"])), "invalid_redirect_uri"),
        (tool.update_body(Auth::TlsClientAuth, |c| c["response_types"] = json!(["token"])), "invalid_client_metadata"),
        (tool.update_body(Auth::TlsClientAuth, |c| c["software_id"] = json!("AnotherSoftwareId")), "invalid_client_metadata"),
    ];
    for (body, error) in refused {
        let (status, body, _) = tool.call(Method::PUT, &client_id, &token, Some(body)).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{body}");
    }
    let update = tool.update_body(Auth::TlsClientAuth, |_| {});
    let (status, _, _) = tool.call(Method::PUT, &client_id, &token, Some(update.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, _) = tool.call(Method::PUT, &client_id, &token, Some(update)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")), "a replayed update");
    let (status, _, _) = tool.call(Method::GET, &client_id, &token, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = tool.call(Method::DELETE, &client_id, &token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // A read's event is committed with the next batch, without the read waiting for it.
    let mut events = tool.server.audit_events("?limit=100").await;
    for _ in 0..100 {
        if events.iter().any(|e| e["event_type"] == "dcr_read") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        events = tool.server.audit_events("?limit=100").await;
    }
    let count = |kind: &str, outcome: &str| {
        events
            .iter()
            .filter(|e| e["event_type"] == kind && e["outcome"] == outcome && e["client_id"] == client_id.as_str())
            .count()
    };
    assert_eq!(count("dcr_updated", "success"), 1);
    assert_eq!(count("dcr_updated", "failure"), 4);
    assert_eq!(count("dcr_read", "success"), 1);
    let read = events.iter().find(|e| e["event_type"] == "dcr_read").unwrap();
    let deleted = events.iter().find(|e| e["event_type"] == "dcr_deleted").unwrap();
    for field in ["software_id", "org_id"] {
        assert!(read[field].is_string(), "a read names the client's {field}: {read}");
        assert_eq!(read[field], deleted[field]);
    }
    assert_eq!(count("dcr_deleted", "success"), 1);
    let _ = WORKSPACE;
}

/// What a refused request names reaches the audit log unverified, whatever it holds: a client
/// id with U+0000, which PostgreSQL's text cannot store, is recorded rather than lost.
#[tokio::test]
async fn a_refusal_naming_a_client_id_with_nul_is_still_audited() {
    let Some(url) = support::fresh_postgres_database("nul_audit").await else { return };
    let server = TestServer::start_with(|args| args.database.database_url = Some(url)).await;
    let response =
        server.client(None).get(format!("{}/a%00b", server.register_url())).bearer_auth("not-a-token").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let events = server.audit_events("?type=dcr_read").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["client_id"], "a\u{FFFD}b");
    assert_eq!(events[0]["outcome"], "failure");

    // Where no certificate check comes first, such an id names no client (401), and the query
    // that would fail on PostgreSQL is never made.
    let register = server.generic_workspace_with_dcr("apps").await;
    let client = server.client(None);
    let response = client.get(format!("{register}/a%00b")).bearer_auth("a~not-its-secret").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let token_url = register.replace("/oauth2/register", "/oauth2/token");
    let form = [("grant_type", "client_credentials"), ("client_id", "a\u{0}b"), ("client_secret", "whatever")];
    let response = client.post(&token_url).form(&form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = server.admin(reqwest::Method::DELETE, "/default/workspaces/apps/clients/a%00b", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
