//! The `onboard` binary's command line: documented flags, their environment variables, and
//! `onboard migrate`.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::process::Command;

fn onboard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_onboard"))
}

#[test]
fn help_documents_every_serve_flag_with_its_environment_variable() {
    let output = onboard().args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for (flag, env) in [
        ("--data-dir", "ONBOARD_DATA_DIR"),
        ("--database-url", "ONBOARD_DATABASE_URL"),
        ("--http-addr", "ONBOARD_HTTP_ADDR"),
        ("--https-addr", "ONBOARD_HTTPS_ADDR"),
        ("--public-url", "ONBOARD_PUBLIC_URL"),
        ("--tls-cert", "ONBOARD_TLS_CERT"),
        ("--tls-key", "ONBOARD_TLS_KEY"),
        ("--admin-api-key", "ONBOARD_ADMIN_API_KEY"),
        ("--allow-insecure-jwks-uris", "ONBOARD_ALLOW_INSECURE_JWKS_URIS"),
        ("--jwks-allowed-networks", "ONBOARD_JWKS_ALLOWED_NETWORKS"),
        ("--metrics-token", "ONBOARD_METRICS_TOKEN"),
        ("--behind-tls-proxy", "ONBOARD_BEHIND_TLS_PROXY"),
        ("--https-protocol-only", "ONBOARD_HTTPS_PROTOCOL_ONLY"),
        ("--audit-retention-days", "ONBOARD_AUDIT_RETENTION_DAYS"),
    ] {
        assert!(help.contains(flag) && help.contains(env), "{flag} / {env} missing from:\n{help}");
    }
}

#[test]
fn migrate_creates_the_database_named_by_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let output = onboard().arg("migrate").env("ONBOARD_DATA_DIR", dir.path()).env("RUST_LOG", "info").output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(dir.path().join("onboard.db").exists());
    // Logged to a pipe, not a terminal: plain text, without colour codes.
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(log.contains("migrations applied") && !log.contains('\u{1b}'), "{log:?}");
    // Running it again is a no-op.
    assert!(onboard().arg("migrate").env("ONBOARD_DATA_DIR", dir.path()).status().unwrap().success());
}

#[test]
fn an_unusable_configuration_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = onboard()
        .args(["serve", "--public-url", "not a url", "--http-addr", "127.0.0.1:0", "--https-addr", "127.0.0.1:0"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--public-url"), "{}", String::from_utf8_lossy(&output.stderr));

    let output = onboard()
        .args(["serve", "--http-addr", "127.0.0.1:0", "--https-addr", "127.0.0.1:0"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .env("ONBOARD_JWKS_ALLOWED_NETWORKS", "10.0.0.0/8,intranet")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--jwks-allowed-networks") && stderr.contains("\"intranet\" is not a network"), "{stderr}");

    // Plain HTTP off this host, with no TLS proxy said to front it: refused before anything.
    let output = onboard()
        .args(["serve", "--http-addr", "0.0.0.0:0", "--https-addr", "127.0.0.1:0"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--http-addr 0.0.0.0:0") && stderr.contains("--behind-tls-proxy"), "{stderr}");
}

#[test]
fn admin_create_user_and_set_password_read_the_password_from_standard_input_sign_out_and_reset_two_step_need_none() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut child = onboard()
        .args(["admin", "create-user", "--email", "ops@bank.example"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .env_remove("ONBOARD_ADMIN_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(!dir.path().join("key-encryption-key").exists(), "the administrator commands need only the database");

    let again = onboard()
        .args(["admin", "create-user", "--email", "ops@bank.example", "--password", "another long password"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success(), "the address is taken");
    let short = onboard()
        .args(["admin", "create-user", "--email", "x@bank.example", "--password", "short"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 12 characters"));

    let mut child = onboard()
        .args(["admin", "set-password", "--email", "ops@bank.example"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a new long enough password\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let nobody = onboard()
        .args(["admin", "set-password", "--email", "nobody@bank.example", "--password", "a new long enough password"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!nobody.status.success());
    let stderr = String::from_utf8_lossy(&nobody.stderr);
    assert!(stderr.contains("administrator not found"), "{stderr}");

    let signed_out = onboard()
        .args(["admin", "sign-out", "--email", "ops@bank.example"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(signed_out.status.success(), "{}", String::from_utf8_lossy(&signed_out.stderr));
    let nobody = onboard()
        .args(["admin", "sign-out", "--email", "nobody@bank.example"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("administrator not found"));

    let reset = onboard()
        .args(["admin", "reset-two-step", "--email", "ops@bank.example"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(reset.status.success(), "{}", String::from_utf8_lossy(&reset.stderr));
    assert!(String::from_utf8_lossy(&reset.stderr).contains("was off already"), "{}", String::from_utf8_lossy(&reset.stderr));
    let nobody = onboard()
        .args(["admin", "reset-two-step", "--email", "nobody@bank.example"])
        .env("ONBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("administrator not found") && !nobody.status.success());
}
