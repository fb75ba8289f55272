//! The OBIE DCR conformance tool's registration scenarios (OBUK-DCR.md §6.4, and the
//! `SecureApiGateway` fork's additions of §6.5), reproduced as black-box tests over mutual TLS:
//! DCR-001, every DCR-004 case, DCR-011, DCR-012 and DCR-013. Error bodies are checked as the
//! fork checks them: exactly `error` and `error_description`, with its expected wording.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::tpp::keys::SigningKey;
use serde_json::{Value, json};
use support::{Ecosystem, TestServer, WORKSPACE, assert_registration_error};

async fn configured() -> (TestServer, Ecosystem, reqwest::Client) {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client = server.client(Some(&tpp.transport));
    (server, tpp, client)
}

/// DCR-001: discovery, fetched like the tool does (no client certificate), advertises an
/// absolute registration URL, and everything the tool reads to build its requests.
#[tokio::test]
async fn dcr_001_validate_oidc_config_registration_url() {
    let (server, _tpp, _) = configured().await;
    let response =
        server.client(None).get(format!("{}{WORKSPACE}/.well-known/openid-configuration", server.https)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let document: Value = response.json().await.unwrap();
    let registration = url::Url::parse(document["registration_endpoint"].as_str().unwrap()).unwrap();
    assert_eq!(registration.scheme(), "https");
    assert_eq!(document["request_object_signing_alg_values_supported"][0], "PS256");
    assert!(document["token_endpoint_auth_signing_alg_values_supported"].as_array().unwrap().contains(&json!("PS256")));
    assert_eq!(document["response_types_supported"], json!(["code", "code id_token"]));
    assert_eq!(document["token_endpoint_auth_methods_supported"], json!(["tls_client_auth", "private_key_jwt"]));
    assert_eq!(document["tls_client_certificate_bound_access_tokens"], true);
    assert!(document["token_endpoint"].is_string());
    let jwks: Value = server
        .client(None)
        .get(document["jwks_uri"].as_str().unwrap().replace("https://localhost:8443", &server.https))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "{jwks}");
    assert_eq!(jwks["keys"][0]["alg"], "PS256");
    assert_eq!(document["mtls_endpoint_aliases"]["registration_endpoint"], document["registration_endpoint"]);
    for endpoint in ["introspection", "revocation"] {
        let methods = &document[format!("{endpoint}_endpoint_auth_methods_supported")];
        assert_eq!(methods, &document["token_endpoint_auth_methods_supported"], "{endpoint}: clients authenticate alike");
    }

    // The same document where RFC 8414 §3.1 puts it for an issuer with a path.
    let rfc8414 = format!("{}/.well-known/oauth-authorization-server{WORKSPACE}", server.https);
    let same: Value = server.client(None).get(rfc8414).send().await.unwrap().json().await.unwrap();
    assert_eq!(same, document);
}

/// DCR-004: each invalid registration request fails with 400.
#[tokio::test]
async fn dcr_004_invalid_registration_requests_fail() {
    let (server, tpp, client) = configured().await;
    let now = support::now().timestamp();
    let cases = [
        ("fails on expired claims", tpp.request_with(|c| c["exp"] = json!(now - 3600))),
        ("fails on invalid issuer", tpp.request_with(|c| c["iss"] = json!("foo.is/invalid"))),
        ("fails on invalid issuer too short", tpp.request_with(|c| c["iss"] = json!(""))),
        ("fails on invalid issuer too long", tpp.request_with(|c| c["iss"] = json!("123456789012345678901234567890"))),
    ];
    for (name, request) in cases {
        let (status, body) = server.register(&client, "application/jose", request).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    }

    // "Register software client will fail with token endpoint auth method RS256": the JWS and
    // every *_alg claim use RS256.
    let mut claims = tpp.request_claims(&tpp.ssa());
    claims["id_token_signed_response_alg"] = json!("RS256");
    claims["token_endpoint_auth_method"] = json!("private_key_jwt");
    claims["token_endpoint_auth_signing_alg"] = json!("RS256");
    claims.as_object_mut().map(|c| c.remove("tls_client_auth_subject_dn"));
    let rs256 = tpp.tpp_key.sign_with_header(&json!({"alg": "RS256", "kid": tpp.tpp_key.kid(), "typ": "JWT"}), &claims).unwrap();
    let (status, body) = server.register(&client, "application/jose", rs256).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");

    // The fork's extra case: a redirect URI outside software_redirect_uris.
    let request = tpp.request_with(|c| c["redirect_uris"] = json!(["https://abc.com"]));
    let (status, body) = server.register(&client, "application/jose", request).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_redirect_uri");
    assert!(
        body["error_description"].as_str().unwrap().contains(
            "invalid registration request redirect_uris value, must match or be a subset of the software_redirect_uris"
        ),
        "{body}"
    );
}

/// DCR-011: invalid `response_types` fail with 400, and the body decodes as JSON.
#[tokio::test]
async fn dcr_011_invalid_response_types_fail_with_a_json_body() {
    let (server, tpp, client) = configured().await;
    let request = tpp.request_with(|c| c["response_types"] = json!(["id_token", "token"]));
    let response =
        client.post(server.register_url()).header("content-type", "application/jose").body(request).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).expect("the 400 body must be valid JSON");
    assert_registration_error(StatusCode::BAD_REQUEST, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
}

/// DCR-012 (fork): a request signed with a random RSA-2048 key under the same kid.
#[tokio::test]
async fn dcr_012_request_signed_with_the_wrong_key_fails() {
    let (server, tpp, client) = configured().await;
    let wrong = SigningKey::generate(JwsAlgorithm::Ps256, tpp.tpp_key.kid()).unwrap();
    let request = wrong.sign(&tpp.request_claims(&tpp.ssa())).unwrap();
    let (status, body) = server.register(&client, "application/jose", request).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Registration Request JWT is invalid: Expected JWT to have a valid signature"),
        "{body}"
    );
}

/// DCR-013 (fork): a software statement re-signed with a random key (header and kid kept), and
/// one re-serialised as two segments with `alg: none`.
#[tokio::test]
async fn dcr_013_software_statement_with_an_invalid_signature_fails() {
    let (server, tpp, client) = configured().await;
    let wrong = SigningKey::generate(JwsAlgorithm::Ps256, tpp.directory_key.kid()).unwrap();
    let resigned = wrong.sign(&tpp.ssa_claims()).unwrap();
    let request = tpp.tpp_key.sign(&tpp.request_claims(&resigned)).unwrap();
    let (status, body) = server.register(&client, "application/jose", request).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_software_statement");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Registration Request contains an invalid software_statement, Expected JWT to have a valid signature"),
        "{body}"
    );

    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!("{}.{}", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&tpp.ssa_claims()));
    let request = tpp.tpp_key.sign(&tpp.request_claims(&unsigned)).unwrap();
    let (status, body) = server.register(&client, "application/jose", request).await;
    assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_software_statement");
    assert!(body["error_description"].as_str().unwrap().contains("software_statement claim is not an encoded JWT"), "{body}");
}

/// The tool registers with `exp = iat + 3600` exactly; that must pass (OBUK-DCR.md §6.6 item 7).
#[tokio::test]
async fn the_tools_one_hour_request_lifetime_is_accepted() {
    let (server, tpp, client) = configured().await;
    let request = tpp.request_with(|c| {
        let iat = c["iat"].as_i64().unwrap();
        c["exp"] = json!(iat + 3600);
    });
    let (status, body) = server.register(&client, "application/jose", request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["client_id"].as_str().is_some_and(|id| id.len() <= 36));
}
