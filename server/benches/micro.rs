//! Micro-benchmarks of the registration pipeline's CPU-bound steps, so a regression shows up
//! where it happens: JWS verification (PS256, ES256), a software statement's inspection and
//! verification, distinguished-name parsing and comparison, and DCR policy evaluation (the
//! sample validator and Rego policies). `cargo bench -p server --bench micro`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark's fixtures either work or it cannot run")]

use std::hint::black_box;

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

use app::domain::dcr::{KeySource, SoftwareStatementIssuer};
use app::domain::dn::DistinguishedName;
use app::domain::jwks::{PublicJwks, Strictness};
use app::domain::policy::ValidatorRule;
use app::domain::sandbox::SoftwareDetails;
use app::policy::{CompiledRego, CompiledValidators};
use onboard::oauth2::jose::{CompactJws, JwsAlgorithm};
use onboard::oauth2::software_statement;
use onboard::tpp::claims;
use onboard::tpp::keys::SigningKey;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn software() -> SoftwareDetails {
    SoftwareDetails {
        software_id: "BenchSoftware0001".to_owned(),
        org_id: "0015800001HQQrZAAX".to_owned(),
        org_name: Some("Budget Planner Ltd".to_owned()),
        client_name: "Bench TPP".to_owned(),
        roles: vec!["AISP".to_owned(), "PISP".to_owned()],
        redirect_uris: vec!["https://tpp.example.com/cb".to_owned()],
    }
}

fn jws_verification(c: &mut Criterion) {
    for algorithm in [JwsAlgorithm::Ps256, JwsAlgorithm::Es256] {
        let key = SigningKey::generate(algorithm, "k1").unwrap();
        let keys = PublicJwks::parse(&key.public_jwks(), Strictness::Strict).unwrap();
        let token = key.sign(&claims::software_statement(&software(), "Directory", None, now())).unwrap();
        c.bench_function(&format!("jws: parse and verify {}", algorithm.as_str()), |b| {
            b.iter(|| CompactJws::parse(black_box(&token)).unwrap().verify(&keys).unwrap().len());
        });
    }
}

fn statement_validation(c: &mut Criterion) {
    let directory = SigningKey::generate(JwsAlgorithm::Ps256, "directory-1").unwrap();
    let keys = PublicJwks::parse(&directory.public_jwks(), Strictness::Strict).unwrap();
    let statement = directory.sign(&claims::software_statement(&software(), "Directory", None, now())).unwrap();
    let trusted = [SoftwareStatementIssuer { issuer: "Directory".to_owned(), keys: Some(KeySource::Jwks(keys.clone())) }];
    c.bench_function("software statement: inspect and verify (PS256)", |b| {
        b.iter(|| {
            let unverified = software_statement::inspect(black_box(&statement), &trusted).unwrap();
            software_statement::verify(unverified, &keys, now(), None).unwrap()
        });
    });
}

fn distinguished_names(c: &mut Criterion) {
    let registered = "CN=BenchSoftware0001,OU=0015800001HQQrZAAX,O=OpenBanking,C=GB";
    let presented = DistinguishedName::from_attributes([
        ("2.5.4.3".to_owned(), "BenchSoftware0001"),
        ("2.5.4.11".to_owned(), "0015800001HQQrZAAX"),
        ("2.5.4.10".to_owned(), "OpenBanking"),
        ("2.5.4.6".to_owned(), "GB"),
    ]);
    c.bench_function("dn: parse the registered subject and compare", |b| {
        b.iter(|| DistinguishedName::parse(black_box(registered)).unwrap() == presented);
    });
}

/// A policy input document as the register endpoint builds it (the parts the samples read).
fn policy_input() -> Value {
    json!({
        "request": {"scope": "openid accounts payments", "token_endpoint_auth_method": "tls_client_auth"},
        "software_statement": {
            "software_roles": ["AISP", "PISP"], "org_id": "0015800001HQQrZAAX",
            "software_client_uri": "https://tpp.example.com"
        },
        "registration": {"redirect_uris": ["https://tpp.example.com/cb", "https://app.tpp.example.com/cb"]},
        "client_certificate": null, "headers": {}, "workspace": {"id": "obuk"}
    })
}

fn sample_policy(name: &str) -> Value {
    let path = format!("{}/policies/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn policies(c: &mut Criterion) {
    let input = policy_input();
    let rules: Vec<ValidatorRule> = serde_json::from_value(sample_policy("aisp-pisp-only")["body"].clone()).unwrap();
    let validators = CompiledValidators::compile(&rules).unwrap();
    c.bench_function("policy: validators (aisp-pisp-only)", |b| b.iter(|| validators.check(black_box(&input)).len()));
    let module = sample_policy("own-domain-redirects")["body"].as_str().unwrap().to_owned();
    let rego = CompiledRego::compile(&module).unwrap();
    c.bench_function("policy: rego (own-domain-redirects)", |b| {
        b.iter(|| rego.evaluate(black_box(&input)).unwrap().passed());
    });
}

criterion_group!(benches, jws_verification, statement_validation, distinguished_names, policies);
criterion_main!(benches);
