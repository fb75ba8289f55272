//! The token endpoint over real mutual TLS: every client authentication method accepted and
//! refused, certificate-bound tokens signed with the workspace key, and RFC 6749 §5.2 errors.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use onboard::oauth2::jose::{CompactJws, JwsAlgorithm};
use onboard::oauth2::token::certificate_thumbprint;
use reqwest::Method;
use serde_json::{Value, json};
use support::{ADMIN_WORKSPACE, Ecosystem, TestServer, WORKSPACE, jwt_claims};

/// A token request's form parameters.
type Form<'a> = Vec<(&'a str, &'a str)>;

fn assert_token_error(status: StatusCode, body: &Value, expected_status: StatusCode, expected: &str) {
    assert_eq!((status, body["error"].as_str()), (expected_status, Some(expected)), "{body}");
}

#[tokio::test]
async fn tls_client_auth_gets_a_certificate_bound_token_signed_by_the_workspace() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    // Exactly what the conformance tool sends for tls_client_auth.
    let (status, body, headers) =
        server.token(&mtls, &[("client_id", &client_id), ("grant_type", "client_credentials"), ("scope", "")], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600, "an integer");
    assert_eq!(body["scope"], "accounts openid", "no scope asked: the registered ones");

    let token = body["access_token"].as_str().unwrap();
    let claims = jwt_claims(token);
    assert_eq!(claims["iss"], "https://localhost:8443/default/obuk");
    assert_eq!((claims["sub"].as_str(), claims["client_id"].as_str()), (Some(client_id.as_str()), Some(client_id.as_str())));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert_eq!(claims["cnf"]["x5t#S256"], certificate_thumbprint(&tpp.transport.der));
    assert!(claims["jti"].is_string());

    let jwks: Value =
        mtls.get(format!("{}{WORKSPACE}/.well-known/jwks.json", server.https)).send().await.unwrap().json().await.unwrap();
    let keys = app::domain::jwks::PublicJwks::parse(&jwks, app::domain::jwks::Strictness::Strict).unwrap();
    assert!(CompactJws::parse(token).unwrap().verify(&keys).is_ok(), "signed by the published workspace key");
}

#[tokio::test]
async fn private_key_jwt_works_as_the_conformance_tool_sends_it() {
    for algorithm in [JwsAlgorithm::Ps256, JwsAlgorithm::Es256] {
        let (server, tpp) = support::configured(algorithm).await;
        let registered = tpp
            .register(&server, |c| {
                c["token_endpoint_auth_method"] = json!("private_key_jwt");
                c["token_endpoint_auth_signing_alg"] = json!(algorithm.as_str());
                c.as_object_mut().map(|m| m.remove("tls_client_auth_subject_dn"));
            })
            .await;
        let client_id = registered["client_id"].as_str().unwrap();
        let mtls = server.client(Some(&tpp.transport));
        let assertion = tpp.client_assertion(
            client_id,
            &registered["registration_client_uri"]
                .as_str()
                .unwrap()
                .replace(&format!("openbankinguk/dcr/v3.2/register/{client_id}"), "oauth2/token"),
        );
        // No client_id parameter, no kid, scope=openid as the fork sends.
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", "openid"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ];
        let (status, body, _) = server.token(&mtls, &form, None).await;
        assert_eq!(status, StatusCode::OK, "{algorithm}: {body}");
        assert_eq!(body["scope"], "openid");

        // The same assertion again is a replay, answered like any failed authentication.
        let (status, body, headers) = server.token(&mtls, &form, None).await;
        assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
        assert_eq!(body["error_description"], "client authentication failed", "the reason stays off the wire");
        assert_eq!(headers.get("www-authenticate").map(|v| v.to_str().unwrap()), Some("Basic realm=\"onboard\""));
        assert_eq!(
            (headers.get("cache-control").unwrap(), headers.get("pragma").unwrap()),
            (&"no-store".parse().unwrap(), &"no-cache".parse().unwrap())
        );

        // An assertion in a request refused after authentication (a scope the client lacks)
        // is spent all the same: it cannot get a token afterwards.
        let token_endpoint = "https://localhost:8443/default/obuk/oauth2/token";
        let spent = tpp.client_assertion(client_id, token_endpoint);
        let with_scope = |scope: &'static str, assertion: &str| {
            [
                ("grant_type", "client_credentials".to_owned()),
                ("scope", scope.to_owned()),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned()),
                ("client_assertion", assertion.to_owned()),
            ]
        };
        let refused = with_scope("payments fundsconfirmations", &spent);
        let refused: Vec<(&str, &str)> = refused.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body, _) = server.token(&mtls, &refused, None).await;
        assert_token_error(status, &body, StatusCode::BAD_REQUEST, "invalid_scope");
        let retried = with_scope("openid", &spent);
        let retried: Vec<(&str, &str)> = retried.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body, _) = server.token(&mtls, &retried, None).await;
        assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

        // Signed by another key.
        let impostor = Ecosystem::new(algorithm).await;
        let forged = impostor.client_assertion(client_id, "https://localhost:8443/default/obuk/oauth2/token");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", forged.as_str()),
        ];
        let (status, body, _) = server.token(&mtls, &form, None).await;
        assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

        // An expired assertion.
        let now = support::now().timestamp();
        let expired_claims = json!({"iss": client_id, "sub": client_id, "aud": "https://localhost:8443/default/obuk", "iat": now - 4000, "exp": now - 3000, "jti": "expired-1"});
        let expired = tpp.tpp_key.sign_with_header(&json!({"alg": algorithm.as_str()}), &expired_claims).unwrap();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", expired.as_str()),
        ];
        let (status, body, _) = server.token(&mtls, &form, None).await;
        assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

        // Without a certificate the token could not be bound (FAPI: sender-constrained only).
        let assertion = tpp.client_assertion(client_id, "https://localhost:8443/default/obuk");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ];
        let (status, body, _) = server.token(&server.client(None), &form, None).await;
        assert_token_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    }
}

#[tokio::test]
async fn certificate_authentication_is_refused_for_the_wrong_subject_or_ca() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let wrong_dn = tpp.register(&server, |c| c["tls_client_auth_subject_dn"] = json!("CN=someone-else,O=OpenBanking,C=GB")).await;
    let right = tpp.register(&server, |_| {}).await;
    let mtls = server.client(Some(&tpp.transport));
    let wrong_id = wrong_dn["client_id"].as_str().unwrap();
    let right_id = right["client_id"].as_str().unwrap();

    let (status, body, _) = server.token(&mtls, &[("client_id", wrong_id), ("grant_type", "client_credentials")], None).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    let stranger_ca = onboard::pki::CertificateAuthority::generate("Unknown CA", support::now()).unwrap();
    let subject = [
        (rcgen::DnType::CommonName, support::SOFTWARE_ID),
        (rcgen::DnType::OrganizationalUnitName, support::ORG_ID),
        (rcgen::DnType::OrganizationName, "OpenBanking"),
        (rcgen::DnType::CountryName, "GB"),
    ];
    let lookalike = stranger_ca.issue_client(&subject, support::now()).unwrap();
    let right_form = [("client_id", right_id), ("grant_type", "client_credentials")];
    let (status, body, _) = server.token(&server.client(Some(&lookalike)), &right_form, None).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    let (status, body, _) = server.token(&server.client(None), &right_form, None).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    let (status, _, _) = server.token(&mtls, &right_form, None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn grants_scopes_and_requests_follow_rfc6749() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let code_only = tpp.register(&server, |c| c["grant_types"] = json!(["authorization_code"])).await["client_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mtls = server.client(Some(&tpp.transport));

    let cases: Vec<(Form, StatusCode, &str)> = vec![
        (vec![("client_id", &client_id), ("grant_type", "password")], StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        (
            vec![("client_id", &client_id), ("grant_type", "client_credentials"), ("scope", "payments")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (vec![("client_id", &code_only), ("grant_type", "client_credentials")], StatusCode::BAD_REQUEST, "unauthorized_client"),
        (vec![("client_id", "no-such-client"), ("grant_type", "client_credentials")], StatusCode::UNAUTHORIZED, "invalid_client"),
        (vec![("grant_type", "client_credentials")], StatusCode::UNAUTHORIZED, "invalid_client"),
        (vec![("client_id", &client_id)], StatusCode::BAD_REQUEST, "invalid_request"),
        (
            vec![("client_id", &client_id), ("grant_type", "client_credentials"), ("client_secret", "guess")],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
    ];
    for (form, status_expected, error) in cases {
        let (status, body, headers) = server.token(&mtls, &form, None).await;
        assert_token_error(status, &body, status_expected, error);
        assert_eq!(headers["cache-control"], "no-store");
    }
    let response = mtls.post(server.token_url()).json(&json!({"grant_type": "client_credentials"})).send().await.unwrap();
    assert_eq!(support::decode(response).await.1["error"], "invalid_request");

    // RFC 6749 §5.2: what a request sends comes back in a description only as %x20-21 /
    // %x23-5B / %x5D-7E.
    let (status, body, _) = server.token(&mtls, &[("client_id", client_id.as_str()), ("grant_type", "\"x\\é")], None).await;
    assert_token_error(status, &body, StatusCode::BAD_REQUEST, "unsupported_grant_type");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with("grant_type ''x/?' is not supported"), "{description}");
}

#[tokio::test]
async fn what_the_workspace_stops_offering_no_client_gets() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let form = |scope| [("client_id", client_id.as_str()), ("grant_type", "client_credentials"), ("scope", scope)];
    let (status, body, _) = server.token(&mtls, &form("accounts openid"), None).await;
    assert_eq!((status, body["scope"].as_str()), (StatusCode::OK, Some("accounts openid")), "{body}");

    // The bank stops offering `accounts`: the client registered it, but gets it no more.
    let role_scopes = json!({"AISP": ["openid"], "PISP": ["payments", "openid"], "CBPII": ["fundsconfirmations", "openid"]});
    server.patch_workspace(json!({"scopes": ["openid", "payments", "fundsconfirmations"], "role_scopes": role_scopes})).await;
    let (status, body, _) = server.token(&mtls, &form("accounts openid"), None).await;
    assert_token_error(status, &body, StatusCode::BAD_REQUEST, "invalid_scope");
    assert!(body["error_description"].as_str().unwrap().contains("no longer offered"), "{body}");
    let (status, body, _) = server.token(&mtls, &form(""), None).await;
    assert_eq!((status, body["scope"].as_str()), (StatusCode::OK, Some("openid")), "{body}");

    // Nor the grant.
    server.patch_workspace(json!({"grant_types": ["authorization_code", "refresh_token"]})).await;
    let (status, body, _) = server.token(&mtls, &form(""), None).await;
    assert_token_error(status, &body, StatusCode::BAD_REQUEST, "unauthorized_client");
}

/// The secret methods, on a generic workspace (an Open Banking UK one registers no secret
/// clients): each client authenticates only by its own method, and only while the workspace
/// allows it.
#[tokio::test]
async fn client_secrets_work_only_where_the_workspace_allows_them() {
    let server = TestServer::start().await;
    let register = server.generic_workspace_with_dcr("apps").await;
    let token_url = format!("{}/default/apps/oauth2/token", server.https);
    let client = server.client(None);
    let registered = |method: &'static str| {
        let metadata =
            json!({"client_name": method, "grant_types": ["client_credentials"], "token_endpoint_auth_method": method});
        let request = client.post(&register).json(&metadata);
        async move {
            let (status, body) = support::decode(request.send().await.unwrap()).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            (body["client_id"].as_str().unwrap().to_owned(), body["client_secret"].as_str().unwrap().to_owned())
        }
    };
    let (basic_id, basic_secret) = registered("client_secret_basic").await;
    let (post_id, post_secret) = registered("client_secret_post").await;
    let grant = [("grant_type", "client_credentials")];
    let token = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = support::decode(response).await;
        (status, body, challenge)
    };

    let (status, body, _) = token(client.post(&token_url).basic_auth(&basic_id, Some(&basic_secret)).form(&grant)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, challenge) = token(client.post(&token_url).basic_auth(&basic_id, Some("wrong")).form(&grant)).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(challenge.unwrap_or_default().starts_with("Basic"));

    let form = [("grant_type", "client_credentials"), ("client_id", post_id.as_str()), ("client_secret", post_secret.as_str())];
    let (status, body, _) = token(client.post(&token_url).form(&form)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The wrong method for the client: its secret in a Basic header.
    let (status, body, _) = token(client.post(&token_url).basic_auth(&post_id, Some(&post_secret)).form(&grant)).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    // The workspace withdraws the method: its clients can no longer use it.
    server
        .patch_workspace_at(
            "/default/workspaces/apps",
            json!({"token_endpoint_auth_methods": ["tls_client_auth", "private_key_jwt"]}),
        )
        .await;
    let (status, body, _) = token(client.post(&token_url).basic_auth(&basic_id, Some(&basic_secret)).form(&grant)).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
}

/// A token a client of the workspace gets or is refused is an audit event, with the scope it
/// was granted or the reason its answer leaves out; a request naming no client is not.
#[tokio::test]
async fn token_requests_of_the_workspace_s_clients_are_audited() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let grant =
        |scope: &'static str| vec![("client_id", client_id.as_str()), ("grant_type", "client_credentials"), ("scope", scope)];
    let (status, body, _) = server.token(&mtls, &grant("accounts"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = server.token(&mtls, &grant("payments"), None).await;
    assert_token_error(status, &body, StatusCode::BAD_REQUEST, "invalid_scope");
    // Without its certificate the client cannot authenticate: refused, and said why in the log.
    let (status, body, _) = server.token(&server.client(None), &grant("accounts"), None).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    assert_eq!(body["error_description"], "client authentication failed", "the reason stays off the wire");
    let stranger = [("client_id", "nobody"), ("grant_type", "client_credentials")];
    let (status, body, _) = server.token(&mtls, &stranger, None).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");

    let issued = server.audit_events("?type=token_issued").await;
    assert_eq!(issued.len(), 1, "{issued:?}");
    assert_eq!(
        (issued[0]["client_id"].as_str(), issued[0]["detail"].as_str()),
        (Some(client_id.as_str()), Some("scope accounts"))
    );
    assert_eq!(issued[0]["outcome"], "success");
    assert!(issued[0]["client_cert_subject"].as_str().is_some_and(|subject| subject.contains("CN=")), "{}", issued[0]);
    assert!(issued[0]["software_id"].is_string() && issued[0]["org_id"].is_string(), "{}", issued[0]);
    // Refusals are queued, not waited for: they may land a moment after their answers.
    let mut refused = server.audit_events("?type=token_refused").await;
    for _ in 0..100 {
        if refused.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        refused = server.audit_events("?type=token_refused").await;
    }
    let reasons: Vec<_> = refused.iter().map(|e| (e["client_id"].as_str(), e["error"].as_str())).collect();
    assert_eq!(
        reasons,
        [(Some(client_id.as_str()), Some("invalid_client")), (Some(client_id.as_str()), Some("invalid_scope"))],
        "newest first, and nothing for a client the workspace does not have"
    );
    let why = refused[0]["error_description"].as_str().unwrap_or_default();
    assert!(why.contains("certificate"), "the audit event says why: {why}");
}

#[tokio::test]
async fn a_client_of_one_workspace_gets_nothing_from_another() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let (status, _) = server
        .admin(Method::POST, "/default/workspaces", Some(json!({"id": "other", "name": "Other", "profile": "openbanking_uk"})))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server.patch_workspace_at("/default/workspaces/other", tpp.workspace_settings()).await;
    let response = server
        .client(Some(&tpp.transport))
        .post(format!("{}/default/other/oauth2/token", server.https))
        .form(&[("client_id", client_id.as_str()), ("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (status, body) = support::decode(response).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let _ = ADMIN_WORKSPACE;
}

/// Introspection (RFC 7662) and revocation (RFC 7009): TPPs see and end only their own
/// tokens; the bank's resource servers (manual clients allowed to) may introspect any token,
/// and its other manual clients only their own.
#[tokio::test]
async fn introspection_and_revocation_respect_ownership_and_deletion() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let mtls = server.client(Some(&tpp.transport));
    // Asking for the resource servers' permission in a registration gets nothing.
    let a = tpp.register(&server, |c| c["may_introspect"] = json!(true)).await["client_id"].as_str().unwrap().to_owned();
    let b = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let token_of = |client_id: String| {
        let server = &server;
        let mtls = &mtls;
        async move {
            let (status, body, _) =
                server.token(mtls, &[("client_id", &client_id), ("grant_type", "client_credentials")], None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        }
    };
    let (token_a, token_a2, token_b) = (token_of(a.clone()).await, token_of(a.clone()).await, token_of(b.clone()).await);

    let rs_cert = tpp
        .transport_ca
        .issue_client(&[(rcgen::DnType::CommonName, "accounts-api"), (rcgen::DnType::OrganizationName, "Bank")], support::now())
        .unwrap();
    let new_rs = json!({"name": "Accounts API", "scopes": ["accounts"], "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=accounts-api,O=Bank", "may_introspect": true});
    let (status, resource_server) = server.admin(Method::POST, &format!("{ADMIN_WORKSPACE}/clients"), Some(new_rs)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(resource_server["metadata"]["may_introspect"], true, "{resource_server}");
    let rs_id = resource_server["client_id"].as_str().unwrap().to_owned();
    let rs = server.client(Some(&rs_cert));
    let portal_cert = tpp
        .transport_ca
        .issue_client(&[(rcgen::DnType::CommonName, "portal"), (rcgen::DnType::OrganizationName, "Bank")], support::now())
        .unwrap();
    let new_portal = json!({"name": "Onboarding portal", "scopes": ["dcr_register"], "token_endpoint_auth_method": "tls_client_auth", "tls_client_auth_subject_dn": "CN=portal,O=Bank"});
    let (status, portal) = server.admin(Method::POST, &format!("{ADMIN_WORKSPACE}/clients"), Some(new_portal)).await;
    assert_eq!(status, StatusCode::CREATED, "{portal}");
    let portal_id = portal["client_id"].as_str().unwrap().to_owned();
    let portal = server.client(Some(&portal_cert));

    let endpoint = |name: &str| format!("{}{WORKSPACE}/oauth2/{name}", server.https);
    let call = |client: &reqwest::Client, name: &str, caller: &str, token: &str| {
        client.post(endpoint(name)).form(&[("client_id", caller.to_owned()), ("token", token.to_owned())]).send()
    };
    let active = |response: reqwest::Response| async move {
        let (status, body) = support::decode(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["active"].as_bool().unwrap()
    };

    for name in ["introspect", "revoke"] {
        let response = call(&mtls, name, &a, "unknown-token").await.unwrap();
        assert_eq!(response.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"), "{name}");
    }
    let (status, own) = support::decode(call(&mtls, "introspect", &a, &token_a).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (own["active"].as_bool(), own["client_id"].as_str(), own["token_type"].as_str()),
        (Some(true), Some(a.as_str()), Some("Bearer"))
    );
    assert_eq!(own["cnf"]["x5t#S256"], certificate_thumbprint(&tpp.transport.der));
    assert!(!active(call(&mtls, "introspect", &a, &token_b).await.unwrap()).await, "a TPP never sees another TPP's token");
    assert!(active(call(&rs, "introspect", &rs_id, &token_b).await.unwrap()).await, "a resource server sees every token");
    assert!(
        !active(call(&portal, "introspect", &portal_id, &token_b).await.unwrap()).await,
        "a manual client not made a resource server sees only its own"
    );
    assert!(!active(call(&rs, "introspect", &rs_id, "not-a-token").await.unwrap()).await);
    // Found by its jti, a token counts only if it is the very token issued: another signature
    // or payload with the same jti is nothing.
    let (signing_input, signature) = token_b.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let altered = format!("{signing_input}.{flipped}{}", &signature[1..]);
    assert!(!active(call(&rs, "introspect", &rs_id, &altered).await.unwrap()).await, "an altered signature");

    let (status, body) = support::decode(call(&mtls, "revoke", &b, &token_a).await.unwrap()).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unauthorized_client")));
    let (status, _) = support::decode(call(&mtls, "revoke", &a, &token_a).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!active(call(&rs, "introspect", &rs_id, &token_a).await.unwrap()).await, "revoked at once");
    let (status, _) = support::decode(call(&mtls, "revoke", &a, "unknown-token").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "unknown tokens are not an error");
    let management = mtls.get(format!("{}/{a}", server.register_url())).bearer_auth(&token_a).send().await.unwrap();
    assert_eq!(management.status().as_u16(), 401);

    assert!(active(call(&rs, "introspect", &rs_id, &token_a2).await.unwrap()).await);
    let (status, _) = server.admin(Method::DELETE, &format!("{ADMIN_WORKSPACE}/clients/{a}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!active(call(&rs, "introspect", &rs_id, &token_a2).await.unwrap()).await, "a deleted client's tokens are inactive");

    let unauthenticated = mtls.post(endpoint("introspect")).form(&[("token", token_b.as_str())]).send().await.unwrap();
    let (status, body) = support::decode(unauthenticated).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
}

/// A manual client changes through the admin API (the console's form calls the same service):
/// giving a resource server its permission and withdrawing it takes effect at its next
/// introspection; each change is audited with what it changed, and one that changes nothing
/// is not. Its method stays, and a TPP's registration is the TPP's to change.
#[tokio::test]
async fn a_manual_client_changes_and_its_introspection_follows() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let mtls = server.client(Some(&tpp.transport));
    let tpp_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let (status, body, _) = server.token(&mtls, &[("client_id", &tpp_id), ("grant_type", "client_credentials")], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tpp_token = body["access_token"].as_str().unwrap().to_owned();

    let subject = [(rcgen::DnType::CommonName, "accounts-api"), (rcgen::DnType::OrganizationName, "Bank")];
    let rs_cert = tpp.transport_ca.issue_client(&subject, support::now()).unwrap();
    let rs = server.client(Some(&rs_cert));
    let body = |may_introspect: bool, scopes: &[&str]| {
        json!({"name": "Accounts API", "scopes": scopes, "token_endpoint_auth_method": "tls_client_auth",
               "tls_client_auth_subject_dn": "CN=accounts-api,O=Bank", "may_introspect": may_introspect})
    };
    let (status, created) =
        server.admin(Method::POST, &format!("{ADMIN_WORKSPACE}/clients"), Some(body(false, &["accounts"]))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let rs_id = created["client_id"].as_str().unwrap().to_owned();
    let path = format!("{ADMIN_WORKSPACE}/clients/{rs_id}");
    let sees_tpp_token = || async {
        let form = [("client_id", rs_id.as_str()), ("token", tpp_token.as_str())];
        let response = rs.post(format!("{}{WORKSPACE}/oauth2/introspect", server.https)).form(&form).send().await.unwrap();
        let (status, answer) = support::decode(response).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["active"].as_bool().unwrap()
    };
    assert!(!sees_tpp_token().await, "created without the permission");

    let (status, changed) = server.admin(Method::PUT, &path, Some(body(true, &["accounts", "payments"]))).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["metadata"]["may_introspect"].as_bool(), changed["metadata"]["scope"].as_str()),
        (Some(true), Some("accounts payments"))
    );
    assert_eq!(changed["metadata"]["client_id_issued_at"], created["metadata"]["client_id_issued_at"], "{changed}");
    assert!(sees_tpp_token().await, "given the permission");
    let (status, _) = server.admin(Method::PUT, &path, Some(body(true, &["accounts", "payments"]))).await;
    assert_eq!(status, StatusCode::OK, "the same again");
    let (status, _) = server.admin(Method::PUT, &path, Some(body(false, &["accounts", "payments"]))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!sees_tpp_token().await, "withdrawn");
    let (_, audit) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/audit-events?type=client_updated"), None).await;
    let details: Vec<(&str, &str)> = audit["audit_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["client_id"].as_str().unwrap(), e["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        details,
        [(rs_id.as_str(), "changed may_introspect off"), (rs_id.as_str(), "changed scope, may_introspect on")],
        "newest first; nothing for the change that changed nothing"
    );

    let unsaid = json!({"name": "Accounts API", "scopes": ["accounts"], "token_endpoint_auth_method": "tls_client_auth",
                        "tls_client_auth_subject_dn": "CN=accounts-api,O=Bank"});
    let (status, refused) = server.admin(Method::PUT, &path, Some(unsaid)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a change says whether it may introspect: {refused}");
    let other_method = json!({"name": "Accounts API", "scopes": ["accounts"], "token_endpoint_auth_method": "client_secret_basic", "may_introspect": false});
    let (status, refused) = server.admin(Method::PUT, &path, Some(other_method)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("token_endpoint_auth_method"), "{refused}");
    let unknown_scope = body(true, &["accounts", "nonsense"]);
    let (status, refused) = server.admin(Method::PUT, &path, Some(unknown_scope)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (_, kept) = server.admin(Method::GET, &path, None).await;
    assert_eq!(
        (kept["metadata"]["may_introspect"].as_bool(), kept["metadata"]["scope"].as_str()),
        (Some(false), Some("accounts payments")),
        "a refused change changes nothing"
    );

    let tpp_path = format!("{ADMIN_WORKSPACE}/clients/{tpp_id}");
    let (status, refused) = server.admin(Method::PUT, &tpp_path, Some(body(true, &["accounts"]))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (_, tpp_client) = server.admin(Method::GET, &tpp_path, None).await;
    assert_eq!(tpp_client["metadata"].get("may_introspect"), None, "{tpp_client}");
    let (status, _) =
        server.admin(Method::PUT, &format!("{ADMIN_WORKSPACE}/clients/no-such-client"), Some(body(true, &["accounts"]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A method the workspace stopped allowing does not keep an administrator from narrowing
    // what the client may do; a new client could not have it.
    server.patch_workspace(json!({"token_endpoint_auth_methods": ["private_key_jwt"]})).await;
    let (status, narrowed) = server.admin(Method::PUT, &path, Some(body(false, &["accounts"]))).await;
    assert_eq!((status, narrowed["metadata"]["scope"].as_str()), (StatusCode::OK, Some("accounts")), "{narrowed}");
    let (status, refused) =
        server.admin(Method::POST, &format!("{ADMIN_WORKSPACE}/clients"), Some(body(false, &["accounts"]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
}

/// Access tokens are signed with PS256 by default; ES256 is selectable per workspace, and its
/// key is published next to the RSA one.
#[tokio::test]
async fn the_token_signing_algorithm_is_selectable() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    server.patch_workspace(json!({"access_token_signing_alg": "ES256", "access_token_ttl_seconds": 600})).await;
    let mtls = server.client(Some(&tpp.transport));
    let (status, body, _) = server.token(&mtls, &[("client_id", &client_id), ("grant_type", "client_credentials")], None).await;
    assert_eq!((status, body["expires_in"].as_i64()), (StatusCode::OK, Some(600)), "{body}");
    let token = body["access_token"].as_str().unwrap();
    let jws = CompactJws::parse(token).unwrap();
    assert_eq!(jws.algorithm(), Ok(JwsAlgorithm::Es256));
    let jwks: Value =
        mtls.get(format!("{}{WORKSPACE}/.well-known/jwks.json", server.https)).send().await.unwrap().json().await.unwrap();
    let algs: Vec<&str> = jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["alg"].as_str()).collect();
    assert_eq!(algs, ["ES256", "PS256"], "newest first");
    let keys = app::domain::jwks::PublicJwks::parse(&jwks, app::domain::jwks::Strictness::Strict).unwrap();
    assert!(jws.verify(&keys).is_ok());
}

/// Rotating a workspace key: the new key signs every token from then on, the replaced one stays
/// published (its tokens still verify) and is listed as retiring until a day after the rotation.
#[tokio::test]
async fn a_rotated_key_signs_new_tokens_and_the_old_one_stays_published() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let token = || async {
        let (status, body, _) =
            server.token(&mtls, &[("client_id", &client_id), ("grant_type", "client_credentials")], None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    };
    let before = token().await;
    let old_kid = CompactJws::parse(&before).unwrap().kid().unwrap().to_owned();

    let keys_path = format!("{ADMIN_WORKSPACE}/signing-keys");
    let (status, rotated) = server.admin(Method::POST, &keys_path, Some(json!({"algorithm": "PS256"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{rotated}");
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["state"], "signing");
    assert!(rotated["public_jwk"].get("d").is_none() && rotated.get("sealed_private_key").is_none(), "{rotated}");

    let (_, listed) = server.admin(Method::GET, &keys_path, None).await;
    let state_of = |kid: &str| listed["signing_keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap().clone();
    assert_eq!(state_of(&new_kid)["state"], "signing");
    let old = state_of(&old_kid);
    assert_eq!(old["state"], "retiring", "{old}");
    let until = chrono::DateTime::parse_from_rfc3339(old["until"].as_str().unwrap()).unwrap();
    assert!(until > support::now() + chrono::Duration::hours(23), "published for the longest token lifetime: {until}");

    let after = token().await;
    assert_eq!(CompactJws::parse(&after).unwrap().kid(), Some(new_kid.as_str()), "the new key signs");
    let jwks: Value =
        mtls.get(format!("{}{WORKSPACE}/.well-known/jwks.json", server.https)).send().await.unwrap().json().await.unwrap();
    let keys = app::domain::jwks::PublicJwks::parse(&jwks, app::domain::jwks::Strictness::Strict).unwrap();
    assert!(keys.find(&old_kid).is_some() && keys.find(&new_kid).is_some(), "{jwks}");
    for issued in [&before, &after] {
        assert!(CompactJws::parse(issued).unwrap().verify(&keys).is_ok(), "every unexpired token still verifies");
    }

    // A key of the algorithm the workspace does not sign with is made ready, not put to use.
    let (status, standby) = server.admin(Method::POST, &keys_path, Some(json!({"algorithm": "ES256"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{standby}");
    assert_eq!((standby["state"].as_str(), standby["signs_tokens"].as_bool()), (Some("signing"), Some(false)));
    let (_, listed) = server.admin(Method::GET, &keys_path, None).await;
    let signers: Vec<&Value> = listed["signing_keys"].as_array().unwrap().iter().filter(|k| k["signs_tokens"] == true).collect();
    assert_eq!((signers.len(), signers[0]["kid"].as_str()), (1, Some(new_kid.as_str())), "{listed}");

    let (status, body) = server.admin(Method::POST, &keys_path, Some(json!({"algorithm": "HS256"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) =
        server.admin(Method::POST, "/default/workspaces/nowhere/signing-keys", Some(json!({"algorithm": "ES256"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A planned rotation publishes its key first: the current key signs until the planned hour,
/// then the new one does. A planned key can be started early or withdrawn before it signs;
/// one planned rotation at a time.
#[tokio::test]
async fn a_planned_rotation_publishes_its_key_first_and_it_signs_from_its_hour() {
    let clock = std::sync::Arc::new(app::clock::FixedClock::new(support::now()));
    let server = TestServer::start_on_clock(clock.clone(), |_| {}).await;
    let tpp = Ecosystem::new(JwsAlgorithm::Ps256).await;
    tpp.configure(&server).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let signed_by = || async {
        let (status, body, _) =
            server.token(&mtls, &[("client_id", &client_id), ("grant_type", "client_credentials")], None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        CompactJws::parse(body["access_token"].as_str().unwrap()).unwrap().kid().unwrap().to_owned()
    };
    let published = || async {
        let jwks: Value =
            mtls.get(format!("{}{WORKSPACE}/.well-known/jwks.json", server.https)).send().await.unwrap().json().await.unwrap();
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let keys_path = format!("{ADMIN_WORKSPACE}/signing-keys");
    let plan = |hours: u32| Some(json!({"algorithm": "PS256", "published_ahead_hours": hours}));
    let current = signed_by().await;
    // Keys are ordered by when they were made: the planned one is made after the current one.
    clock.advance(chrono::Duration::seconds(1));

    let (status, planned) = server.admin(Method::POST, &keys_path, plan(1)).await;
    assert_eq!(status, StatusCode::CREATED, "{planned}");
    let next = planned["kid"].as_str().unwrap().to_owned();
    assert_eq!((planned["state"].as_str(), planned["signs_tokens"].as_bool()), (Some("next"), Some(false)), "{planned}");
    assert!(published().await.contains(&next), "published before it signs");
    assert_eq!(signed_by().await, current, "the current key signs until the planned hour");
    let (status, refused) = server.admin(Method::POST, &keys_path, plan(24)).await;
    assert_eq!(status, StatusCode::CONFLICT, "one planned rotation at a time: {refused}");
    let (status, refused) = server.admin(Method::POST, &keys_path, plan(721)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    clock.advance(chrono::Duration::hours(1));
    assert_eq!(signed_by().await, next, "from its hour on");
    let (_, listed) = server.admin(Method::GET, &keys_path, None).await;
    let state_of =
        |kid: &str| listed["signing_keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap()["state"].clone();
    assert_eq!((state_of(&next), state_of(&current)), (json!("signing"), json!("retiring")), "{listed}");

    // Planned again, then withdrawn: it leaves the set, and signed nothing.
    let (_, withdrawn) = server.admin(Method::POST, &keys_path, plan(48)).await;
    let withdrawn = withdrawn["kid"].as_str().unwrap().to_owned();
    let (status, _) = server.admin(Method::DELETE, &format!("{keys_path}/{withdrawn}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!published().await.contains(&withdrawn));
    let (status, _) = server.admin(Method::DELETE, &format!("{keys_path}/{withdrawn}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, refused) = server.admin(Method::DELETE, &format!("{keys_path}/{next}"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "a key that signs is rotated, not withdrawn: {refused}");

    // Planned, then started early: rotating at once makes the published key sign now.
    let (_, early) = server.admin(Method::POST, &keys_path, plan(24)).await;
    let early = early["kid"].as_str().unwrap().to_owned();
    let (status, started) = server.admin(Method::POST, &keys_path, Some(json!({"algorithm": "PS256"}))).await;
    assert_eq!(
        (status, started["kid"].as_str(), started["state"].as_str()),
        (StatusCode::OK, Some(early.as_str()), Some("signing"))
    );
    assert_eq!(signed_by().await, early);

    let details: Vec<String> =
        server.audit_events("?type=signing_key_rotated").await.iter().map(|e| e["detail"].as_str().unwrap().to_owned()).collect();
    assert_eq!(
        details,
        [
            format!("planned PS256 key {early} signs from now"),
            format!("new PS256 key {early}, published now, signs in 24 h"),
            format!("new PS256 key {withdrawn}, published now, signs in 48 h"),
            format!("new PS256 key {next}, published now, signs in 1 h"),
        ]
    );
    let withdrawals = server.audit_events("?type=signing_key_withdrawn").await;
    assert_eq!(withdrawals.len(), 1);
    assert_eq!(withdrawals[0]["detail"], format!("planned key {withdrawn}"));
}

/// The console rotates a key through its server function: only with a session, only for a
/// known algorithm, and the new key signs the next token.
#[tokio::test]
async fn the_console_rotates_a_key_with_a_session_and_a_known_algorithm() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let console = support::ConsoleSession::sign_in(&server).await;
    let at = [("tenant", "default"), ("workspace", "obuk")];
    let (status, listed) = console.call("list_signing_keys", &at).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let before = listed.as_array().unwrap().len();

    let anonymous = support::ConsoleSession { cookie: "onboard_session=none".to_owned(), ..console };
    let (status, _) = anonymous.call("rotate_signing_key", &[at[0], at[1], ("algorithm", "PS256")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let console = support::ConsoleSession::sign_in(&server).await;
    let (status, refused) = console.call("rotate_signing_key", &[at[0], at[1], ("algorithm", "HS256")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(console.call("list_signing_keys", &at).await.1.as_array().unwrap().len(), before, "nothing made");

    let (status, rotated) = console.call("rotate_signing_key", &[at[0], at[1], ("algorithm", "PS256")]).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["state"], "signing");
    let (_, listed) = console.call("list_signing_keys", &at).await;
    assert_eq!(listed.as_array().unwrap().len(), before + 1);
    assert_eq!(listed[0]["kid"], rotated["kid"], "newest first");
    // The audit log says who rotated which key.
    let rotations = server.audit_events("?type=signing_key_rotated").await;
    assert_eq!(rotations.len(), 1, "{rotations:?}");
    assert_eq!(rotations[0]["actor"], support::ADMIN_EMAIL);
    assert_eq!(rotations[0]["detail"], format!("new PS256 key {}", rotated["kid"].as_str().unwrap()));
    let mtls = server.client(Some(&tpp.transport));
    let (status, body, _) = server.token(&mtls, &[("client_id", &client_id), ("grant_type", "client_credentials")], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(CompactJws::parse(token).unwrap().kid(), rotated["kid"].as_str());
}

/// A loopback host publishing one certificate revocation list, which the test replaces.
async fn serve_crl(list: std::sync::Arc<std::sync::Mutex<Vec<u8>>>) -> String {
    async fn crl(
        axum::extract::State(list): axum::extract::State<std::sync::Arc<std::sync::Mutex<Vec<u8>>>>,
    ) -> impl axum::response::IntoResponse {
        ([("content-type", "application/pkix-crl"), ("cache-control", "no-cache")], list.lock().unwrap().clone())
    }
    let router = axum::Router::new().route("/issuing-ca.crl", axum::routing::get(crl)).with_state(list);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}/issuing-ca.crl")
}

/// With `client_crl_uris`, a transport certificate its CA has revoked is refused at the
/// register and token endpoints once the list naming it is fetched; the list is checked to
/// be one the deployment may reach before it is saved.
#[tokio::test]
async fn a_revoked_transport_certificate_is_refused_once_its_ca_lists_it() {
    let clock = std::sync::Arc::new(app::clock::FixedClock::new(support::now()));
    let server = TestServer::start_on_clock(clock.clone(), |_| {}).await;
    let tpp = Ecosystem::new(JwsAlgorithm::Ps256).await;
    tpp.configure(&server).await;
    let days = |n: i64| support::now() + chrono::Duration::days(n);
    let list = std::sync::Arc::new(std::sync::Mutex::new(tpp.transport_ca.revocation_list(&[], days(-1), days(2)).unwrap()));
    let crl_uri = serve_crl(list.clone()).await;

    let (status, body) =
        server.admin(Method::PATCH, ADMIN_WORKSPACE, Some(json!({"client_crl_uris": ["http://10.1.2.3/ca.crl"]}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("not an address outbound fetches may reach"), "{body}");
    server.patch_workspace(json!({"client_crl_uris": [crl_uri]})).await;

    let client_id = tpp.register(&server, |_| {}).await["client_id"].as_str().unwrap().to_owned();
    let mtls = server.client(Some(&tpp.transport));
    let grant = [("client_id", client_id.as_str()), ("grant_type", "client_credentials")];
    let (status, body, _) = server.token(&mtls, &grant, None).await;
    assert_eq!(status, StatusCode::OK, "not revoked yet: {body}");

    *list.lock().unwrap() = tpp.transport_ca.revocation_list(&[&tpp.transport.der], days(-1), days(2)).unwrap();
    // `no-cache`: fetched again a minute on.
    clock.advance(chrono::Duration::seconds(61));
    let (status, body, _) = server.token(&mtls, &grant, None).await;
    assert_token_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, body) = server.register(&mtls, "application/jose", tpp.request()).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(body["error_description"].as_str().is_some_and(|why| why.contains("revoked")), "{body}");

    let mut refused = server.audit_events("?type=token_refused").await;
    for _ in 0..100 {
        if !refused.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        refused = server.audit_events("?type=token_refused").await;
    }
    let why = refused.first().and_then(|event| event["error_description"].as_str()).unwrap_or_default();
    assert!(why.contains("the certificate is revoked"), "the audit log says why: {refused:?}");

    // The console shows what the list says.
    let console = support::ConsoleSession::sign_in(&server).await;
    let (status, report) = console.call("revocation_list_status", &[("tenant", "default"), ("workspace", "obuk")]).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let list = &report["lists"][0]["state"]["Ok"];
    assert_eq!((report["lists"][0]["uri"].as_str(), list["revoked"].as_u64()), (Some(crl_uri.as_str()), Some(1)), "{report}");
    assert!(list["issuer"].as_str().is_some_and(|issuer| issuer.contains("CN=Test Transport CA")), "{report}");
    assert_eq!(report["uncovered_cas"], json!([]), "the one trusted CA has its list");
}
