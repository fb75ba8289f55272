//! The sandbox directory: enrolment through the admin API, its public key sets, and a
//! workspace that trusts it taking a registration from enrolled software with nothing else
//! configured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use axum::http::StatusCode;
use rcgen::DnType;
use reqwest::Method;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};

use app::domain::sandbox::SoftwareDetails;
use onboard::oauth2::jose::JwsAlgorithm;
use onboard::pki::{IssuedCertificate, transport_key_and_request};
use onboard::tpp::claims::{self, RegistrationAsk};
use onboard::tpp::keys::SigningKey;
use support::{ADMIN_WORKSPACE, ORG_ID, TestServer, decode};

fn details() -> SoftwareDetails {
    SoftwareDetails {
        software_id: "BudgetPlanner".to_owned(),
        org_id: "0015800001SANDBOX".to_owned(),
        org_name: Some("Budget Planner Ltd".to_owned()),
        client_name: "Budget Planner".to_owned(),
        roles: vec!["AISP".to_owned(), "PISP".to_owned()],
        redirect_uris: vec!["https://budget.example/callback".to_owned()],
    }
}

/// Enrolled software: its keys and what the directory gave it.
struct Enrolled {
    signing: SigningKey,
    transport: IssuedCertificate,
    enrolment: Value,
}

async fn enrol(server: &TestServer) -> Enrolled {
    let signing = SigningKey::generate(JwsAlgorithm::Es256, "BudgetPlanner-sig").unwrap();
    let (key_pem, csr_pem) = transport_key_and_request(&[(DnType::CommonName, "ignored by the directory")]).unwrap();
    let mut request = serde_json::to_value(details()).unwrap();
    request["signing_jwks"] = signing.public_jwks();
    request["transport_csr_pem"] = json!(csr_pem);
    let (status, enrolment) = server.admin(Method::POST, "/default/sandbox/software", Some(request)).await;
    assert_eq!(status, StatusCode::CREATED, "{enrolment}");
    let cert_pem = enrolment["transport_certificate_pem"].as_str().unwrap().to_owned();
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
    Enrolled { signing, transport: IssuedCertificate { cert_pem, key_pem, der }, enrolment }
}

fn registration(enrolled: &Enrolled) -> String {
    let ask = RegistrationAsk {
        audience: ORG_ID,
        token_endpoint_auth_method: "tls_client_auth",
        subject_dn: enrolled.enrolment["transport_subject_dn"].as_str().unwrap(),
        algorithm: "ES256",
        scope: &claims::scope_for_roles(&details().roles),
    };
    let statement = enrolled.enrolment["software_statement"].as_str().unwrap();
    let request = claims::registration_request(&details(), statement, &ask, support::now());
    enrolled.signing.sign(&request).unwrap()
}

#[tokio::test]
async fn enrolled_software_registers_where_the_sandbox_is_trusted_and_nowhere_else() {
    let server = TestServer::start().await;
    let public = |path: &str| format!("{}/default/.sandbox/{path}", server.http);
    // Nothing is published before the directory exists, and an anonymous request makes none.
    assert_eq!(reqwest::get(public("directory/jwks.json")).await.unwrap().status(), StatusCode::NOT_FOUND);

    let enrolled = enrol(&server).await;
    assert_eq!(enrolled.enrolment["issuer"], "Onboard Sandbox Directory");
    let (status, issued) = server.admin(Method::POST, "/default/sandbox/software/BudgetPlanner/statements", None).await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    assert_eq!(
        server.administrator_events(&["sandbox_software_enrolled", "sandbox_statement_issued"]).await,
        [
            "sandbox_software_enrolled | admin API key | tenant default, software BudgetPlanner",
            "sandbox_statement_issued | admin API key | tenant default, software BudgetPlanner"
        ]
    );
    assert_eq!(
        enrolled.enrolment["software_jwks_endpoint"],
        "https://localhost:8443/default/.sandbox/software/BudgetPlanner/jwks.json"
    );
    assert_eq!(enrolled.enrolment["transport_subject_dn"], "CN=BudgetPlanner,OU=0015800001SANDBOX,O=Onboard Sandbox,C=GB");

    // The directory's keys, its CA and the software's key set (signing keys and the transport
    // certificate as a tls key) are public.
    let (status, directory) = decode(reqwest::get(public("directory/jwks.json")).await.unwrap()).await;
    assert_eq!((status, directory["keys"][0]["kid"].as_str()), (StatusCode::OK, Some("sandbox-directory")));
    assert!(directory["keys"][0].get("d").is_none(), "no private part");
    let ca = reqwest::get(public("directory/ca.pem")).await.unwrap().text().await.unwrap();
    assert_eq!(ca, enrolled.enrolment["directory_ca_pem"].as_str().unwrap());
    let (_, software) = decode(reqwest::get(public("software/BudgetPlanner/jwks.json")).await.unwrap()).await;
    let uses: Vec<&str> = software["keys"].as_array().unwrap().iter().map(|k| k["use"].as_str().unwrap()).collect();
    assert_eq!(uses, ["sig", "tls"]);
    assert!(software["keys"][1]["x5c"][0].is_string());
    assert_eq!(reqwest::get(public("software/nobody/jwks.json")).await.unwrap().status(), StatusCode::NOT_FOUND);

    // A workspace that trusts nothing yet refuses the software.
    server.patch_workspace(json!({"org_id": ORG_ID})).await;
    let settings = json!({
        "enabled": true, "require_software_statement": true, "require_signed_request": true,
        "request_signing_keys": "software_statement", "require_mtls": true, "trust_sandbox_directory": true,
        "bind_transport_certificate": true
    });
    let client = server.client(Some(&enrolled.transport));
    let mut untrusting = settings.clone();
    untrusting["trust_sandbox_directory"] = json!(false);
    let other = SigningKey::generate(JwsAlgorithm::Ps256, "other").unwrap();
    untrusting["software_statement_issuers"] =
        json!([{"issuer": "OpenBanking Ltd", "keys": {"jwks": {"keys": [other.public_jwk()]}}}]);
    untrusting["require_mtls"] = json!(false);
    untrusting["bind_transport_certificate"] = json!(false);
    server.put_dcr(untrusting).await;
    let (status, body) = server.register(&client, "application/jose", registration(&enrolled)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unapproved_software_statement")), "{body}");

    // One switch: the sandbox's issuer, keys, CA and software key sets are trusted.
    server.put_dcr(settings).await;
    let (status, body) = server.register(&client, "application/jose", registration(&enrolled)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["software_id"], "BudgetPlanner");
    // The statement names the organisation as enrolled, and the client is listed under it.
    let client_id = body["client_id"].as_str().unwrap();
    let (_, client) = server.admin(Method::GET, &format!("{ADMIN_WORKSPACE}/clients/{client_id}"), None).await;
    assert_eq!(client["org_name"], "Budget Planner Ltd", "{client}");
    // The sandbox's CA is the one mutual TLS relies on: General settings without CAs of their
    // own still save.
    server.patch_workspace(json!({"org_id": ORG_ID})).await;

    // A certificate the sandbox CA did not issue is still refused.
    let stranger = onboard::pki::self_signed_client(&[(DnType::CommonName, "BudgetPlanner")], support::now()).unwrap();
    let (status, body) = server.register(&server.client(Some(&stranger)), "application/jose", registration(&enrolled)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn enrolment_checks_what_it_is_given() {
    let server = TestServer::start().await;
    let signing = SigningKey::generate(JwsAlgorithm::Ps256, "k").unwrap();
    let (_, csr_pem) = transport_key_and_request(&[(DnType::CommonName, "x")]).unwrap();
    let base = || {
        let mut request = serde_json::to_value(details()).unwrap();
        request["signing_jwks"] = signing.public_jwks();
        request["transport_csr_pem"] = json!(csr_pem);
        request
    };
    let bad_csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    let mut private = signing.public_jwk().clone();
    private["d"] = json!("private");
    let cases: [(&str, &str, Value); 5] = [
        ("transport_csr_pem", "/transport_csr_pem", json!(bad_csr)),
        ("signing_jwks", "/signing_jwks", json!({"keys": [private]})),
        ("signing_jwks", "/signing_jwks", json!({"keys": []})),
        ("roles", "/roles", json!(["ASPSP"])),
        ("software_id", "/software_id", json!("../x")),
    ];
    for (field, pointer, value) in cases {
        let mut request = base();
        *request.pointer_mut(pointer).unwrap() = value;
        let (status, body) = server.admin(Method::POST, "/default/sandbox/software", Some(request)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {body}");
        assert!(body["error_description"].as_str().unwrap().starts_with(field), "{field}: {body}");
    }
    let (status, _) = server.admin(Method::POST, "/nobody/sandbox/software", Some(base())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unauthenticated = reqwest::Client::new()
        .post(format!("{}/api/admin/v1/tenants/default/sandbox/software", server.http))
        .json(&base())
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
}
