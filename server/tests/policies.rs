//! DCR policies over the wire: managed through the admin API, attached in the DCR settings,
//! enforced on the next registration (validator rules and Rego, failing closed), and a dry run
//! that agrees with the register endpoint.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{Value, json};

use onboard::oauth2::jose::JwsAlgorithm;
use support::{ADMIN_WORKSPACE, Ecosystem, TestServer};

const POLICIES: &str = "/default/workspaces/obuk/policies";

fn aisp_only() -> Value {
    json!({
        "id": "aisp-only",
        "name": "AISP software only",
        "language": "validators",
        "body": [{
            "field": "software_statement.software_roles",
            "comparator": "in",
            "value": ["AISP"],
            "error_code": "unapproved_software_statement",
            "error_description": "only account information software may register here"
        }]
    })
}

async fn attach(server: &TestServer, tpp: &Ecosystem, policy_id: Option<&str>) {
    let mut settings = tpp.dcr_settings();
    if let Some(id) = policy_id {
        settings["policy_id"] = json!(id);
    }
    server.put_dcr(settings).await;
}

async fn create(server: &TestServer, policy: Value) -> (StatusCode, Value) {
    server.admin(Method::POST, POLICIES, Some(policy)).await
}

#[tokio::test]
async fn policies_are_managed_through_the_admin_api() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;

    let (status, created) = create(&server, aisp_only()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!((created["language"].as_str(), created["body"][0]["comparator"].as_str()), (Some("validators"), Some("in")));
    assert_eq!(create(&server, aisp_only()).await.0, StatusCode::CONFLICT);
    // Administrators' changes are audited with who made them; the refused one is not a change.
    let saved = server.audit_events("?type=policy_saved").await;
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(
        (saved[0]["actor"].as_str(), saved[0]["detail"].as_str()),
        (Some("admin API key"), Some("policy aisp-only created"))
    );

    let (status, listed) = server.admin(Method::GET, POLICIES, None).await;
    assert_eq!((status, listed["policies"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)));

    // A body that does not compile names its field, and nothing is saved.
    let mut bad_pattern = aisp_only();
    bad_pattern["id"] = json!("bad");
    bad_pattern["body"][0] = json!({"field": "request.client_name", "comparator": "regex", "value": "(unclosed",
        "error_code": "invalid_client_metadata", "error_description": "x"});
    let (status, body) = create(&server, bad_pattern).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_request")), "{body}");
    assert!(body["error_description"].as_str().unwrap().starts_with("body[0].value: "), "{body}");
    let rego =
        json!({"id": "broken", "name": "Broken", "language": "rego", "body": "package onboard\n\nallow if {\n  input.x ==\n"});
    let (status, body) = create(&server, rego).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let description = body["error_description"].as_str().unwrap();
    assert!(description.starts_with("body: line ") && description.contains(", column "), "{description}");
    assert_eq!(server.admin(Method::GET, &format!("{POLICIES}/broken"), None).await.0, StatusCode::NOT_FOUND);

    // Attaching needs a policy that exists; an attached policy cannot be deleted.
    let mut unknown = tpp.dcr_settings();
    unknown["policy_id"] = json!("missing");
    let (status, body) = server.admin(Method::PUT, &format!("{ADMIN_WORKSPACE}/dcr"), Some(unknown)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error_description"].as_str().unwrap().starts_with("policy_id: "), "{body}");
    attach(&server, &tpp, Some("aisp-only")).await;
    assert_eq!(server.admin(Method::DELETE, &format!("{POLICIES}/aisp-only"), None).await.0, StatusCode::CONFLICT);

    // A member the API does not know is refused by name, not dropped: a PUT's id is the path's.
    let (status, body) = server.admin(Method::PUT, &format!("{POLICIES}/aisp-only"), Some(aisp_only())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error_description"].as_str().unwrap().starts_with("id: unknown field"), "{body}");
    let mut misspelt = aisp_only();
    misspelt["id"] = json!("misspelt");
    misspelt["bdy"] = json!([]);
    let (status, body) = create(&server, misspelt).await;
    assert!(status == StatusCode::BAD_REQUEST && body["error_description"].as_str().unwrap().starts_with("bdy: "), "{body}");

    let mut renamed = aisp_only();
    renamed.as_object_mut().unwrap().remove("id");
    renamed["name"] = json!("Renamed");
    let (status, updated) = server.admin(Method::PUT, &format!("{POLICIES}/aisp-only"), Some(renamed)).await;
    assert_eq!((status, updated["name"].as_str()), (StatusCode::OK, Some("Renamed")));

    attach(&server, &tpp, None).await;
    assert_eq!(server.admin(Method::DELETE, &format!("{POLICIES}/aisp-only"), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(server.admin(Method::GET, &format!("{POLICIES}/aisp-only"), None).await.0, StatusCode::NOT_FOUND);
    let details =
        |events: Vec<Value>| events.iter().map(|e| e["detail"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>();
    assert_eq!(
        details(server.audit_events("?type=policy_saved").await),
        ["policy aisp-only changed", "policy aisp-only created"]
    );
    assert_eq!(details(server.audit_events("?type=policy_deleted").await), ["policy aisp-only deleted"]);
    let dcr = details(server.audit_events("?type=dcr_settings_updated").await);
    // What each save changed: the policy chosen, then none.
    assert!(dcr.first().is_some_and(|latest| latest == "registration on: no policy"), "{dcr:?}");
    assert!(dcr.iter().any(|detail| detail == "registration on: policy 'aisp-only' chosen"), "{dcr:?}");
}

#[tokio::test]
async fn a_policy_refuses_registrations_and_a_change_applies_to_the_next_one() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    create(&server, aisp_only()).await;
    attach(&server, &tpp, Some("aisp-only")).await;

    // The tool's software statement holds AISP, PISP and CBPII roles.
    let client = server.client(Some(&tpp.transport));
    let (status, body) = server.register(&client, "application/jose", tpp.request()).await;
    support::assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "unapproved_software_statement");
    assert_eq!(body["error_description"], "only account information software may register here");
    let refused = server.audit_events("?type=dcr_rejected").await;
    assert_eq!(refused[0]["error_description"], "only account information software may register here");

    let mut widened = aisp_only();
    widened.as_object_mut().unwrap().remove("id");
    widened["body"][0]["value"] = json!(["AISP", "PISP", "CBPII"]);
    let (status, _) = server.admin(Method::PUT, &format!("{POLICIES}/aisp-only"), Some(widened)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server.register(&client, "application/jose", tpp.request()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn rego_policies_allow_deny_and_fail_closed() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let module = r#"package onboard

default allow := false

allow if input.client_certificate.subject_dn != ""

deny contains msg if {
    some uri in input.request.redirect_uris
    not startswith(uri, concat("", [input.software_statement.software_client_uri, "/"]))
    msg := sprintf("redirect URI %s is not on the TPP's own site", [uri])
}

"#;
    let (status, body) = create(&server, json!({"id": "own-site", "name": "Own site", "language": "rego", "body": module})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    attach(&server, &tpp, Some("own-site")).await;
    let client = server.client(Some(&tpp.transport));
    let register = |change: Value| {
        let request = tpp.request_with(|claims| {
            for (key, value) in change.as_object().unwrap() {
                claims[key] = value.clone();
            }
        });
        let client = client.clone();
        let server = &server;
        async move { server.register(&client, "application/jose", request).await }
    };

    // The SSA's software_client_uri is not set by the tool, so every redirect URI is denied.
    let (status, body) = register(json!({})).await;
    support::assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    assert_eq!(body["error_description"], "redirect URI https://tpp.example.com/callback is not on the TPP's own site");

    // Without redirect URIs nothing is denied, and allow holds: registered.
    let (status, body) =
        register(json!({"redirect_uris": [], "grant_types": ["client_credentials"], "response_types": []})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_policy_that_cannot_be_evaluated_refuses_the_registration() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let module = r#"package onboard

allow if {
    input.request.client_name == "spin"
    some i in numbers.range(1, 5000)
    some j in numbers.range(1, 5000)
    i * j == -1
}

# Two values for one complete rule: an evaluation error, on demand.
allow if {
    input.request.client_name == "broken"
    conflict == 1
}

conflict := 1 if input.request.client_name == "broken"

conflict := 2 if input.request.client_name == "broken"

# One step that asks for gigabytes: beyond the timer's reach, within a worker's memory cap.
allow if {
    input.request.client_name == "greedy"
    count(sprintf("%04000000000d", [1])) > 0
}

# A function that calls itself without end: beyond any thread's stack.
allow if {
    input.request.client_name == "endless"
    endless(1) > 0
}

endless(n) := endless(n + 1)
"#;
    let (status, body) = create(&server, json!({"id": "fragile", "name": "Fragile", "language": "rego", "body": module})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    attach(&server, &tpp, Some("fragile")).await;
    let client = server.client(Some(&tpp.transport));
    // Each refused, and the server (whose policy workers the worst of them end) serves on.
    for client_name in ["spin", "broken", "greedy", "endless", "plain", "greedy", "plain"] {
        let request = tpp.request_with(|claims| claims["client_name"] = json!(client_name));
        let (status, body) = server.register(&client, "application/jose", request).await;
        support::assert_registration_error(status, &body, StatusCode::BAD_REQUEST, "invalid_client_metadata");
        let expected = if client_name == "plain" {
            "the registration is not allowed by the workspace's policy"
        } else {
            "the registration could not be checked against the workspace's policy"
        };
        assert_eq!(body["error_description"], expected, "{client_name}");
    }
}

/// One dry run through the admin API.
async fn dry_run(server: &TestServer, request: Value) -> Value {
    let (status, report) = server.admin(Method::POST, &format!("{ADMIN_WORKSPACE}/dcr/dry-run"), Some(request)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

#[tokio::test]
async fn the_dry_run_agrees_with_the_register_endpoint() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let mut policy = aisp_only();
    policy["body"][0]["value"] = json!(["AISP", "PISP", "CBPII"]);
    policy["body"]
        .as_array_mut()
        .unwrap()
        .push(json!({"field": "request.client_name", "comparator": "not_equals", "value": "Forbidden App",
            "error_code": "invalid_client_metadata", "error_description": "that name is taken"}));
    create(&server, policy).await;
    attach(&server, &tpp, Some("aisp-only")).await;

    let now = support::now().timestamp();
    let cases: Vec<(&str, String, bool)> = vec![
        ("accepted", tpp.request(), true),
        ("expired", tpp.request_with(|c| c["exp"] = json!(now - 600)), true),
        ("wrong audience", tpp.request_with(|c| c["aud"] = json!("someone-else")), true),
        ("policy rule", tpp.request_with(|c| c["client_name"] = json!("Forbidden App")), true),
        ("bad redirect", tpp.request_with(|c| c["redirect_uris"] = json!(["https://evil.example/cb"])), true),
        ("no certificate", tpp.request(), false),
        ("not a jws", "not.a.jws".to_owned(), true),
    ];
    let client_pem = tpp.transport.cert_pem.clone();
    let replayed = cases[0].1.clone();
    for (name, request, with_certificate) in cases {
        let mut ask = json!({"request": request});
        if with_certificate {
            ask["client_certificate_pem"] = json!(client_pem);
        }
        let report = dry_run(&server, ask).await;
        let client = server.client(with_certificate.then_some(&tpp.transport));
        let (status, body) = server.register(&client, "application/jose", request).await;
        assert_eq!(report["status"].as_u64(), Some(u64::from(status.as_u16())), "{name}: {report} vs {body}");
        if status == StatusCode::CREATED {
            assert_eq!(report["accepted"], true, "{name}");
        } else {
            assert_eq!((&report["error"], &report["error_description"]), (&body["error"], &body["error_description"]), "{name}");
            let failed: Vec<&Value> = report["checks"].as_array().unwrap().iter().filter(|c| c["outcome"] == "failed").collect();
            assert_eq!(failed.len(), 1, "{name}: one failing check stops the pipeline: {report}");
        }
    }

    // The accepted request was registered above: now it is a replay, for both.
    let report = dry_run(&server, json!({"request": replayed, "client_certificate_pem": client_pem})).await;
    let (status, body) = server.register(&server.client(Some(&tpp.transport)), "application/jose", replayed).await;
    assert_eq!((report["status"].as_u64(), &report["error_description"]), (Some(400), &body["error_description"]));
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_dry_run_shows_every_check_and_writes_nothing() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    create(&server, aisp_only()).await;

    // A policy can be tried before it is attached.
    let report = dry_run(
        &server,
        json!({"request": tpp.request(), "client_certificate_pem": tpp.transport.cert_pem, "policy_id": "aisp-only"}),
    )
    .await;
    assert_eq!((report["accepted"].as_bool(), report["error"].as_str()), (Some(false), Some("unapproved_software_statement")));
    let stages: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["stage"].as_str().unwrap()).collect();
    for stage in ["admission", "transport", "body", "software_statement", "signature", "claims", "policy"] {
        assert!(stages.contains(&stage), "{stage} missing from {stages:?}");
    }
    let policy_check = report["checks"].as_array().unwrap().iter().find(|c| c["stage"] == "policy").unwrap();
    assert_eq!(policy_check["outcome"], "failed");
    assert!(policy_check["name"].as_str().unwrap().contains("software_statement.software_roles in"), "{policy_check}");

    // Nothing was written: no client, no audit event, and the same request still registers.
    let (_, clients) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients"), None).await;
    assert_eq!(clients["clients"].as_array().map(Vec::len), Some(0));
    let events = server.audit_events("").await;
    assert!(events.iter().all(|event| event["actor"].is_string()), "only the set-up's administration: {events:?}");

    // Decoded claims plus a software statement: sent as JSON, which this workspace refuses.
    let claims = tpp.request_claims(&tpp.ssa());
    let mut claims = claims.as_object().unwrap().clone();
    let ssa = claims.remove("software_statement").unwrap();
    let report =
        dry_run(&server, json!({"request": claims, "software_statement": ssa, "client_certificate_pem": tpp.transport.cert_pem}))
            .await;
    assert_eq!(report["error"], "invalid_client_metadata");
    assert!(report["error_description"].as_str().unwrap().contains("requires a signed registration request"), "{report}");
    // Refused at the body: what the pipeline did not reach is listed, and marked so.
    let unreached: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "not reached")
        .map(|c| c["stage"].as_str().unwrap())
        .collect();
    assert_eq!(unreached, ["software_statement", "signature", "claims", "policy"], "{report}");

    let (status, body) = server
        .admin(
            Method::POST,
            &format!("{ADMIN_WORKSPACE}/dcr/dry-run"),
            Some(json!({"request": "a.b.c", "client_certificate_pem": "nonsense"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn the_dry_run_sees_headers_as_the_endpoint_does_and_says_what_it_leaves_out() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let rule = |field: &str, value: &str, description: &str| {
        json!({"field": field, "comparator": "equals", "value": value,
            "error_code": "invalid_client_metadata", "error_description": description})
    };
    let policy = json!({"id": "fapi-headers", "name": "FAPI headers", "language": "validators", "body": [
        rule("headers.content-type", "application/jose", "send a signed request"),
        rule("headers.x-fapi-financial-id", "0015800001041RE", "unknown financial institution"),
    ]});
    assert_eq!(create(&server, policy).await.0, StatusCode::CREATED);
    attach(&server, &tpp, Some("fapi-headers")).await;

    // Without the header, both refuse at the second rule; with it, both accept.
    let ask =
        |headers: Value| json!({"request": tpp.request(), "client_certificate_pem": tpp.transport.cert_pem, "headers": headers});
    let report = dry_run(&server, ask(json!({}))).await;
    assert_eq!(report["error_description"], "unknown financial institution", "{report}");
    let (status, body) = server.register(&server.client(Some(&tpp.transport)), "application/jose", tpp.request()).await;
    assert_eq!((status, &body["error_description"]), (StatusCode::BAD_REQUEST, &report["error_description"]));
    let report = dry_run(&server, ask(json!({"X-FAPI-Financial-ID": "0015800001041RE"}))).await;
    assert_eq!(report["accepted"], true, "{report}");
    assert!(report.get("warnings").is_none(), "{report}");
    let response = server
        .client(Some(&tpp.transport))
        .post(server.register_url())
        .header("content-type", "application/jose")
        .header("x-fapi-financial-id", "0015800001041RE")
        .body(tpp.request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    // Headers a policy cannot read, and policies the workspace lacks, are named.
    for (ask, field) in [
        (ask(json!({"authorization": "Bearer x"})), "headers: "),
        (ask(json!({"content-type": "application/json"})), "headers: "),
        (json!({"request": tpp.request(), "policy_id": "missing"}), "policy_id: "),
    ] {
        let (status, body) = server.admin(Method::POST, &format!("{ADMIN_WORKSPACE}/dcr/dry-run"), Some(ask)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body["error_description"].as_str().unwrap().starts_with(field), "{body}");
    }

    // An endpoint that takes dcr_register tokens: an accepted dry run says a token is needed.
    let mut settings = tpp.dcr_settings();
    settings["policy_id"] = json!("fapi-headers");
    settings["protect_by_access_token"] = json!(true);
    let (status, body) = server.admin(Method::PUT, &format!("{ADMIN_WORKSPACE}/dcr"), Some(settings)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report = dry_run(&server, ask(json!({"x-fapi-financial-id": "0015800001041RE"}))).await;
    assert_eq!(report["accepted"], true, "{report}");
    assert!(report["warnings"][0].as_str().unwrap().contains("dcr_register access token"), "{report}");
}

/// A request signed by the tool's TPP, with a software statement changed by `ssa` and claims
/// changed by `request`.
fn request_with_ssa(tpp: &Ecosystem, ssa: impl FnOnce(&mut Value), request: impl FnOnce(&mut Value)) -> String {
    let mut ssa_claims = tpp.ssa_claims();
    ssa(&mut ssa_claims);
    let statement = tpp.directory_key.sign(&ssa_claims).unwrap();
    let mut claims = tpp.request_claims(&statement);
    request(&mut claims);
    tpp.tpp_key.sign(&claims).unwrap()
}

#[tokio::test]
async fn the_sample_policies_do_what_the_readme_says() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    for sample in [
        include_str!("../policies/aisp-pisp-only.json"),
        include_str!("../policies/tls-client-auth-only.json"),
        include_str!("../policies/org-allow-list.json"),
        include_str!("../policies/own-domain-redirects.json"),
    ] {
        let (status, body) = create(&server, serde_json::from_str(sample).unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let verdict = |policy: &'static str, request: String| {
        let ask = json!({"request": request, "client_certificate_pem": tpp.transport.cert_pem, "policy_id": policy});
        let server = &server;
        async move {
            let report = dry_run(server, ask).await;
            (report["error"].as_str().map(str::to_owned), report["error_description"].as_str().map(str::to_owned))
        }
    };
    let accepted = (None, None);
    let refused = |code: &str, description: &str| (Some(code.to_owned()), Some(description.to_owned()));

    // The tool's software statement holds the CBPII role too.
    assert_eq!(
        verdict("aisp-pisp-only", tpp.request()).await,
        refused("unapproved_software_statement", "only account information and payment initiation software may register")
    );
    let aisp = request_with_ssa(&tpp, |s| s["software_roles"] = json!(["AISP"]), |c| c["scope"] = json!("accounts openid"));
    assert_eq!(verdict("aisp-pisp-only", aisp).await, accepted);

    assert_eq!(verdict("tls-client-auth-only", tpp.request()).await, accepted);
    let key_jwt = tpp.request_with(|c| {
        c["token_endpoint_auth_method"] = json!("private_key_jwt");
        c["token_endpoint_auth_signing_alg"] = json!("PS256");
        c.as_object_mut().unwrap().remove("tls_client_auth_subject_dn");
    });
    assert_eq!(
        verdict("tls-client-auth-only", key_jwt).await,
        refused("invalid_client_metadata", "token_endpoint_auth_method must be tls_client_auth")
    );

    // A certificate counts only when it chains to a trusted CA: a self-signed one is absent.
    let mut open_transport = tpp.dcr_settings();
    open_transport["require_mtls"] = json!(false);
    server.put_dcr(open_transport).await;
    let self_signed =
        onboard::pki::self_signed_client(&[(rcgen::DnType::CommonName, support::SOFTWARE_ID)], support::now()).unwrap();
    let ask =
        json!({"request": tpp.request(), "client_certificate_pem": self_signed.cert_pem, "policy_id": "tls-client-auth-only"});
    let report = dry_run(&server, ask).await;
    assert_eq!(report["error_description"], "register over mutual TLS with a certificate from a trusted CA", "{report}");
    server.put_dcr(tpp.dcr_settings()).await;

    assert_eq!(verdict("org-allow-list", tpp.request()).await, accepted);
    let stranger = request_with_ssa(&tpp, |s| s["org_id"] = json!("0015800001ZZZZZZZZ"), |_| {});
    assert_eq!(
        verdict("org-allow-list", stranger).await,
        refused("unapproved_software_statement", "this organisation is not onboarded yet; contact the bank's TPP support")
    );

    // Leaving redirect_uris out registers the software statement's, which are checked too.
    let unnamed = request_with_ssa(
        &tpp,
        |s| s["software_client_uri"] = json!("https://other-tpp.example"),
        |c| c["redirect_uris"] = json!([]),
    );
    assert_eq!(
        verdict("own-domain-redirects", unnamed).await,
        refused(
            "invalid_client_metadata",
            "redirect URI https://tpp.example.com/callback is not on the TPP's own domain (software_client_uri)"
        )
    );
    let own_site = request_with_ssa(&tpp, |s| s["software_client_uri"] = json!("https://tpp.example.com"), |_| {});
    assert_eq!(verdict("own-domain-redirects", own_site).await, accepted);
    let elsewhere = request_with_ssa(&tpp, |s| s["software_client_uri"] = json!("https://other-tpp.example"), |_| {});
    assert_eq!(
        verdict("own-domain-redirects", elsewhere).await,
        refused(
            "invalid_client_metadata",
            "redirect URI https://tpp.example.com/callback is not on the TPP's own domain (software_client_uri)"
        )
    );
}
