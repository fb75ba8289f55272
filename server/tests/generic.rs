//! The generic profile: plain RFC 7591 registration and RFC 7592 management at
//! `/{tenant}/{workspace}/oauth2/register`, governed by the same DCR settings, without the
//! FAPI and OBUK rules.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{Value, json};
use support::TestServer;

async fn generic_workspace() -> (TestServer, String) {
    let server = TestServer::start().await;
    let (status, body) = server
        .admin(Method::POST, "/default/workspaces", Some(json!({"id": "apps", "name": "Apps", "profile": "generic"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, dcr) = server.admin(Method::GET, "/default/workspaces/apps/dcr", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((dcr["require_signed_request"].as_bool(), dcr["require_mtls"].as_bool()), (Some(false), Some(false)));
    let mut enabled = dcr.clone();
    enabled["enabled"] = json!(true);
    let (status, _) = server.admin(Method::PUT, "/default/workspaces/apps/dcr", Some(enabled)).await;
    assert_eq!(status, StatusCode::OK);
    let register = format!("{}/default/apps/oauth2/register", server.https);
    (server, register)
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    support::decode(request.send().await.unwrap()).await
}

#[tokio::test]
async fn a_client_registers_with_json_and_manages_itself_with_its_registration_token() {
    let (server, register) = generic_workspace().await;
    let client = server.client(None);
    let metadata = json!({"client_name": "Budget app", "redirect_uris": ["http://localhost:8080/callback"], "grant_types": ["client_credentials", "authorization_code"]});
    let (status, registered) = send(client.post(&register).json(&metadata)).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    assert_eq!(registered["token_endpoint_auth_method"], "client_secret_basic", "the RFC 7591 default");
    assert_eq!(registered["response_types"], json!(["code"]));
    assert_eq!(registered["scope"], "openid", "the workspace's scopes when none are asked for");
    let secret = registered["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 36);
    let database = std::fs::read(server.dir.path().join("onboard.db")).unwrap();
    let wal = std::fs::read(server.dir.path().join("onboard.db-wal")).unwrap_or_default();
    for (file, bytes) in [("onboard.db", database), ("onboard.db-wal", wal)] {
        assert!(!bytes.windows(secret.len()).any(|window| window == secret.as_bytes()), "only a hash reaches {file}");
    }
    let (_, details) = server
        .admin(Method::GET, &format!("/default/workspaces/apps/clients/{}", registered["client_id"].as_str().unwrap()), None)
        .await;
    assert!(!details.to_string().contains(secret), "the console's view of the client has no secret");
    assert!(registered.get("tls_client_certificate_bound_access_tokens").is_some_and(|v| v == false));
    let client_id = registered["client_id"].as_str().unwrap();
    let rat = registered["registration_access_token"].as_str().unwrap();
    assert_eq!(registered["registration_client_uri"], format!("https://localhost:8443/default/apps/oauth2/register/{client_id}"));

    let manage = format!("{register}/{client_id}");
    let (status, read) = send(client.get(&manage).bearer_auth(rat)).await;
    assert_eq!((status, read["client_name"].as_str()), (StatusCode::OK, Some("Budget app")));
    assert!(read.get("client_secret").is_none());
    assert_eq!(read["client_secret_expires_at"], 0, "the secret does not expire");

    let mut changed = metadata.clone();
    changed["client_name"] = json!("Budget app 2");
    let (status, updated) = send(client.put(&manage).bearer_auth(rat).json(&changed)).await;
    assert_eq!((status, updated["client_name"].as_str()), (StatusCode::OK, Some("Budget app 2")), "{updated}");
    assert!(updated.get("client_secret").is_none());
    let (status, reread) = send(client.get(&manage).bearer_auth(rat)).await;
    assert_eq!(status, StatusCode::OK);
    for after_the_update in [&updated, &reread] {
        assert_eq!(after_the_update["client_secret_expires_at"], 0, "an update keeps the secret, which does not expire");
    }
    // RFC 7592 §2.2: a secret sent with an update must be the one the client holds.
    for (presented, expected) in [(json!("not-its-secret"), StatusCode::BAD_REQUEST), (json!(secret), StatusCode::OK)] {
        let mut with_secret = changed.clone();
        with_secret["client_secret"] = presented;
        let (status, body) = send(client.put(&manage).bearer_auth(rat).json(&with_secret)).await;
        assert_eq!(status, expected, "{body}");
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(body["error"], "invalid_client_metadata", "{body}");
        }
    }

    // The client's secret gets tokens, with no certificate needed outside OBUK.
    let token_url = format!("{}/default/apps/oauth2/token", server.https);
    let (status, token) = send(
        client
            .post(&token_url)
            .basic_auth(client_id, registered["client_secret"].as_str())
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let access_token = token["access_token"].as_str().unwrap();
    assert!(support::jwt_claims(access_token).get("cnf").is_none(), "no certificate, no binding");
    // A bearer token any resource server it is sent to could replay manages nothing.
    for request in
        [client.get(&manage), client.put(&manage).json(&json!({"grant_types": ["client_credentials"]})), client.delete(&manage)]
    {
        let (status, body) = send(request.bearer_auth(access_token)).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")), "{body}");
    }

    let (status, _) = send(client.delete(&manage).bearer_auth(rat)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(client.get(&manage).bearer_auth(rat)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn profiles_keep_to_their_own_endpoints_and_rules() {
    let (server, register) = generic_workspace().await;
    let client = server.client(None);
    let obuk_path_on_generic = format!("{}/default/apps/openbankinguk/dcr/v3.2/register", server.https);
    let (status, _) = send(client.post(obuk_path_on_generic).json(&json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let generic_path_on_obuk = format!("{}/default/obuk/oauth2/register", server.https);
    let (status, _) = send(client.post(generic_path_on_obuk).json(&json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let discovery: Value = client
        .get(format!("{}/default/apps/.well-known/openid-configuration", server.https))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["registration_endpoint"], "https://localhost:8443/default/apps/oauth2/register");
    assert_eq!(discovery["tls_client_certificate_bound_access_tokens"], true, "offered to the clients that ask");

    let refused = [
        (json!({"redirect_uris": ["http://app.example/callback"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["https://app.example/cb#fragment"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["javascript:alert(document.cookie)"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["data:text/html,<script>alert(1)</script>"]}), "invalid_redirect_uri"),
        (json!({"redirect_uris": ["file:///etc/passwd"]}), "invalid_redirect_uri"),
        (json!({"grant_types": ["authorization_code"]}), "invalid_redirect_uri"),
        (json!({"grant_types": ["client_credentials"], "scope": "admin"}), "invalid_client_metadata"),
        (json!({"token_endpoint_auth_method": "client_secret_jwt"}), "invalid_client_metadata"),
        (
            json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
    ];
    for (metadata, error) in refused {
        let (status, body) = send(client.post(&register).json(&metadata)).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some(error)), "{metadata}: {body}");
    }
    // A native app's private-use scheme (RFC 8252 §7.1) is its own to receive on.
    let native = json!({"redirect_uris": ["com.example.budget:/oauth2redirect"], "grant_types": ["authorization_code"]});
    let (status, body) = send(client.post(&register).json(&native)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// A generic workspace that also allows `self_signed_tls_client_auth`.
async fn self_signed_workspace() -> (TestServer, String) {
    let (server, register) = generic_workspace().await;
    let methods = json!({"token_endpoint_auth_methods": ["client_secret_basic", "self_signed_tls_client_auth"]});
    let (status, _) = server.admin(Method::PATCH, "/default/workspaces/apps", Some(methods)).await;
    assert_eq!(status, StatusCode::OK);
    (server, register)
}

/// A self-signed client certificate named `common_name`, and the metadata of a client that
/// authenticates with it: its JWKS holds the certificate (`x5c`).
fn self_signed_client(common_name: &str) -> (onboard::pki::IssuedCertificate, Value) {
    use base64::Engine as _;
    let certificate = onboard::pki::self_signed_client(&[(rcgen::DnType::CommonName, common_name)], support::now()).unwrap();
    let key = onboard::tpp::keys::SigningKey::generate(onboard::oauth2::jose::JwsAlgorithm::Es256, "unused").unwrap();
    let mut jwk = key.public_jwk().clone();
    jwk["use"] = json!("tls");
    jwk["x5c"] = json!([base64::engine::general_purpose::STANDARD.encode(&certificate.der)]);
    let metadata = json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "self_signed_tls_client_auth", "jwks": {"keys": [jwk]}});
    (certificate, metadata)
}

/// RFC 8705 §3: a client's tokens are bound to its certificate when it registered
/// `tls_client_certificate_bound_access_tokens` (then a certificate is required) or
/// authenticates with one; another client's are not, whatever its connection carries.
#[tokio::test]
async fn tokens_are_bound_to_the_certificate_of_the_clients_that_asked() {
    let (server, register) = generic_workspace().await;
    let token_url = format!("{}/default/apps/oauth2/token", server.https);
    let (certificate, _) = self_signed_client("laptop");
    let form = [("grant_type", "client_credentials")];
    let bound_to = |token: &Value| support::jwt_claims(token["access_token"].as_str().unwrap())["cnf"]["x5t#S256"].clone();

    for asked in [false, true] {
        let metadata = json!({"grant_types": ["client_credentials"], "tls_client_certificate_bound_access_tokens": asked});
        let (status, registered) = send(server.client(None).post(&register).json(&metadata)).await;
        assert_eq!((status, &registered["tls_client_certificate_bound_access_tokens"]), (StatusCode::CREATED, &json!(asked)));
        let (client_id, secret) = (registered["client_id"].as_str().unwrap(), registered["client_secret"].as_str());

        let with_certificate = server.client(Some(&certificate)).post(&token_url).basic_auth(client_id, secret).form(&form);
        let (status, token) = send(with_certificate).await;
        assert_eq!(status, StatusCode::OK, "{token}");
        let expected = if asked { json!(onboard::oauth2::token::certificate_thumbprint(&certificate.der)) } else { Value::Null };
        assert_eq!(bound_to(&token), expected, "asked: {asked}");

        let (status, body) = send(server.client(None).post(&token_url).basic_auth(client_id, secret).form(&form)).await;
        let expected = if asked { (StatusCode::BAD_REQUEST, Some("invalid_request")) } else { (StatusCode::OK, None) };
        assert_eq!((status, body["error"].as_str()), expected, "asked: {asked}: {body}");
    }
}

/// `self_signed_tls_client_auth` (RFC 8705 §2.2): the certificate is one the client registered
/// in its JWKS (`x5c`), with no CA involved.
#[tokio::test]
async fn a_self_signed_certificate_authenticates_the_client_that_registered_it() {
    let (server, register) = self_signed_workspace().await;
    let (certificate, metadata) = self_signed_client("device-42");
    let (status, registered) = send(server.client(None).post(&register).json(&metadata)).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let client_id = registered["client_id"].as_str().unwrap();

    let token_url = format!("{}/default/apps/oauth2/token", server.https);
    let form = [("client_id", client_id), ("grant_type", "client_credentials")];
    let (status, token) = send(server.client(Some(&certificate)).post(&token_url).form(&form)).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(
        support::jwt_claims(token["access_token"].as_str().unwrap())["cnf"]["x5t#S256"],
        onboard::oauth2::token::certificate_thumbprint(&certificate.der)
    );
    let stranger = onboard::pki::self_signed_client(&[(rcgen::DnType::CommonName, "device-42")], support::now()).unwrap();
    let (status, body) = send(server.client(Some(&stranger)).post(&token_url).form(&form)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
}

/// A client secret belongs to the `client_secret_*` methods: an update to another method
/// forgets it (the answer no longer speaks of its expiry), and it cannot come back by a later
/// update, as no new secret is issued on a PUT.
#[tokio::test]
async fn leaving_the_secret_methods_forgets_the_secret_for_good() {
    let (server, register) = self_signed_workspace().await;
    let client = server.client(None);
    let with_secret = json!({"grant_types": ["client_credentials"], "token_endpoint_auth_method": "client_secret_basic"});
    let (status, registered) = send(client.post(&register).json(&with_secret)).await;
    assert_eq!((status, &registered["client_secret_expires_at"]), (StatusCode::CREATED, &json!(0)), "{registered}");
    let manage = format!("{register}/{}", registered["client_id"].as_str().unwrap());
    let rat = registered["registration_access_token"].as_str().unwrap();

    let (_, self_signed) = self_signed_client("device-7");
    let (status, updated) = send(client.put(&manage).bearer_auth(rat).json(&self_signed)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert!(updated.get("client_secret_expires_at").is_none(), "no secret, no expiry: {updated}");

    let (status, body) = send(client.put(&manage).bearer_auth(rat).json(&with_secret)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_client_metadata")), "{body}");
    let token_url = format!("{}/default/apps/oauth2/token", server.https);
    let form = [("grant_type", "client_credentials")];
    let client_id = registered["client_id"].as_str().unwrap();
    let (status, body) =
        send(client.post(&token_url).basic_auth(client_id, registered["client_secret"].as_str()).form(&form)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")), "the old secret is gone");
}
