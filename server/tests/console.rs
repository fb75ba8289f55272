//! The console's sessions over the wire: who may call server functions, the cookie's
//! attributes, a new session id at sign-in, sign-out ending the session on the server, the lock
//! after repeated failures, and the refusal of cross-site requests.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use onboard::oauth2::jose::JwsAlgorithm;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use support::{ADMIN_EMAIL, ADMIN_PASSWORD, ConsoleSession, ORG_ID, SOFTWARE_ID, TestServer};

/// A browser-like caller without a cookie jar, so each test sees and sends cookies itself.
fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

/// The session cookie's `name=...` pair a response sets, and the whole header: over HTTPS
/// (behind a TLS proxy here) `__Host-onboard_session`, else `onboard_session`.
fn session_cookie(response: &Response) -> (String, String) {
    let secure =
        response.headers().get_all(SET_COOKIE).iter().any(|v| v.to_str().is_ok_and(|v| v.starts_with("__Host-onboard_session=")));
    cookie_named(response, if secure { "__Host-onboard_session" } else { "onboard_session" })
}

/// The `{name}=...` pair a response sets, and the whole header.
fn cookie_named(response: &Response, name: &str) -> (String, String) {
    let header = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", response.headers()))
        .to_owned();
    (header.split(';').next().unwrap().to_owned(), header)
}

async fn sign_in(base: &str, client: &Client, cookie: Option<&str>, password: &str) -> Response {
    let mut request = client
        .post(format!("{base}/app/fn/sign_in"))
        .header(ORIGIN, base)
        .header("accept", "application/json")
        .form(&[("email", ADMIN_EMAIL), ("password", password)]);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

async fn list_workspaces(base: &str, client: &Client, cookie: Option<&str>) -> StatusCode {
    let mut request = client.post(format!("{base}/app/fn/list_workspaces")).header(ORIGIN, base).form(&[("tenant", "default")]);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap().status()
}

#[tokio::test]
async fn a_session_is_made_at_sign_in_renewed_on_each_sign_in_and_ended_by_sign_out() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());

    // Pages send visitors to sign in, keeping where they were going; server functions say 401.
    let page = client.get(format!("{base}/app/default/workspaces/obuk/dcr")).send().await.unwrap();
    assert!(page.status().is_redirection(), "{}", page.status());
    assert_eq!(page.headers()[LOCATION], "/app/login?next=%2Fapp%2Fdefault%2Fworkspaces%2Fobuk%2Fdcr");
    assert_eq!(list_workspaces(&base, &client, None).await, StatusCode::UNAUTHORIZED);

    let first = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    assert!(first.status().is_success() || first.status().is_redirection(), "{}", first.status());
    let (cookie, header) = session_cookie(&first);
    let attributes: Vec<&str> = header.split("; ").collect();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attributes.contains(&attribute), "{attribute} missing from {header}");
    }
    assert!(!header.contains("Secure"), "plain HTTP cannot keep a Secure cookie: {header}");
    assert_eq!(list_workspaces(&base, &client, Some(&cookie)).await, StatusCode::OK);
    let page = client.get(format!("{base}/app/default/workspaces")).header(COOKIE, &cookie).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    // Each use moves the idle expiry on: the answer renews the same session for the idle time
    // (`--console-idle-minutes`, 30 by default).
    let (kept, header) = session_cookie(&page);
    assert_eq!(kept, cookie);
    assert!(header.contains("Max-Age=1800"), "{header}");

    // Signing in again with that cookie gives a new id and ends the old one.
    let second = sign_in(&base, &client, Some(&cookie), ADMIN_PASSWORD).await;
    let (renewed, _) = session_cookie(&second);
    assert_ne!(renewed, cookie);
    assert_eq!(list_workspaces(&base, &client, Some(&cookie)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(list_workspaces(&base, &client, Some(&renewed)).await, StatusCode::OK);

    // Signing out ends the session on the server, not just in the browser.
    let out = client.post(format!("{base}/app/fn/sign_out")).header(ORIGIN, &base).header(COOKIE, &renewed).send().await.unwrap();
    assert!(out.status().is_success() || out.status().is_redirection(), "{}", out.status());
    assert_eq!(list_workspaces(&base, &client, Some(&renewed)).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_run_only_their_own_nonced_scripts_and_nothing_frames_them() {
    let server = TestServer::start().await;
    let console = ConsoleSession::sign_in(&server).await;
    for path in ["/app/login", "/app/default/workspaces", "/app/no/such/page"] {
        let page = console.get(path).await;
        let headers = page.headers().clone();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let policy = header("content-security-policy");
        assert!(policy.contains("script-src 'self' 'nonce-"), "{path}: {policy}");
        let nonce = nonce_of(&page);
        assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("cache-control"), "no-store", "{path}");
        let html = page.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path}: no scripts");
        assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), scripts, "{path}: a script without the nonce");
    }
    // A nonce serves one response.
    assert_ne!(nonce_of(&console.get("/app/login").await), nonce_of(&console.get("/app/login").await));

    // What the console's middleware answers itself is protected too, and runs nothing.
    let base = &server.http;
    let sent_to_sign_in = client().get(format!("{base}/app/default/workspaces")).send().await.unwrap();
    let cross_site = client().post(format!("{base}/app/fn/list_workspaces")).header(ORIGIN, "https://evil.example");
    let cross_site = cross_site.form(&[("tenant", "default")]).send().await.unwrap();
    assert_eq!((sent_to_sign_in.status(), cross_site.status()), (StatusCode::SEE_OTHER, StatusCode::FORBIDDEN));
    for refusal in [sent_to_sign_in, cross_site] {
        assert_eq!(refusal.headers()["x-frame-options"], "DENY");
        assert!(refusal.headers()["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
    }
    // Nothing any listener answers is to be sniffed, the protocol's JSON included.
    let discovery = client().get(format!("{base}/default/obuk/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(discovery.headers()["x-content-type-options"], "nosniff");
}

/// The nonce of a page's policy.
fn nonce_of(page: &Response) -> String {
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    policy.split("'nonce-").nth(1).and_then(|rest| rest.split_once('\'')).map(|(nonce, _)| nonce.to_owned()).unwrap()
}

#[tokio::test]
async fn the_console_refuses_host_names_it_is_not_served_under() {
    let server = TestServer::start_with(|args| args.console_hosts = vec!["onboard-admin.bank.internal".to_owned()]).await;
    let port = server.http.rsplit(':').next().unwrap().to_owned();
    let login = |host: String| client().get(format!("{}/app/login", server.http)).header("host", host).send();
    // A name an attacker points at this server: the browser thinks the page is the console's.
    let rebound = login(format!("evil.example:{port}")).await.unwrap();
    assert_eq!(rebound.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(rebound.headers()["x-frame-options"], "DENY");
    for host in ["localhost", "127.0.0.1", "onboard-admin.bank.internal"] {
        assert_eq!(login(format!("{host}:{port}")).await.unwrap().status(), StatusCode::OK, "{host}");
    }
    // The protocol's endpoints answer under any name: TPPs reach them through whatever fronts them.
    let discovery = client().get(format!("{}/default/obuk/.well-known/openid-configuration", server.http));
    assert_eq!(discovery.header("host", "evil.example").send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn over_https_and_http2_the_console_works_and_its_cookie_is_secure() {
    let server = TestServer::start().await;
    let base = server.https.clone();
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .add_root_certificate(reqwest::Certificate::from_pem(server.dev_ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let response = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    // Browsers speak HTTP/2 here, where the authority travels without a Host header.
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert!(response.status().is_success() || response.status().is_redirection(), "{}", response.status());
    let (cookie, header) = session_cookie(&response);
    assert!(header.contains("Secure"), "{header}");
    let (_, device) = cookie_named(&response, "__Secure-onboard_device");
    assert!(device.ends_with("; Secure"), "{device}");
    assert_eq!(list_workspaces(&base, &client, Some(&cookie)).await, StatusCode::OK);
}

/// Behind a proxy that terminates TLS (`--behind-tls-proxy`), the plain listener's cookie is
/// `Secure` too, the console expects the proxy's https origin, and loopback is not trusted.
#[tokio::test]
async fn behind_a_tls_proxy_the_plain_listeners_cookie_is_secure() {
    let server = TestServer::start_with(|args| args.listeners.behind_tls_proxy = true).await;
    let (base, client) = (server.http.clone(), client());
    let through_the_proxy = client
        .post(format!("{base}/app/fn/sign_in"))
        .header(ORIGIN, "https://localhost:8443")
        .header("accept", "application/json")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    let (_, header) = session_cookie(&through_the_proxy);
    assert!(header.starts_with("__Host-onboard_session="), "{header}");
    let attributes: Vec<&str> = header.split("; ").collect();
    assert!(attributes.contains(&"Secure") && attributes.contains(&"Path=/") && !header.contains("Domain"), "{header}");
    let plain = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    assert_eq!(plain.status(), StatusCode::FORBIDDEN, "a plain http origin is not the console's behind the proxy");
    // Through a proxy on this host every caller comes from loopback: metrics need the token.
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::UNAUTHORIZED);
}

/// With `--https-protocol-only`, the listener TPPs reach serves the protocol and nothing of
/// the bank's own: no console, admin API or metrics; the plain listener keeps them.
#[tokio::test]
async fn the_https_listener_can_serve_the_protocol_only() {
    let server = TestServer::start_with(|args| args.listeners.https_protocol_only = true).await;
    let tls = server.client(None);
    let discovery = tls.get(format!("{}/default/obuk/.well-known/openid-configuration", server.https)).send().await.unwrap();
    assert_eq!(discovery.status(), StatusCode::OK);
    assert_eq!(tls.get(format!("{}/healthz", server.https)).send().await.unwrap().status(), StatusCode::OK);
    for path in
        ["/app/login", "/app/default/workspaces", "/api/admin/v1/tenants/default/workspaces", "/metrics", "/pkg/onboard.js"]
    {
        let response = tls.get(format!("{}{path}", server.https)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "not_found", "{path}: {body}");
    }
    let (status, _) = server.admin(reqwest::Method::GET, "/default/workspaces", None).await;
    assert_eq!(status, StatusCode::OK, "the plain listener keeps the admin API");
    let page = client().get(format!("{}/app/login", server.http)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "and the console");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_a_clear_message() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    // A browser that signed in before is trusted: its cookie goes to sign-in only, and no
    // script or other site's request can use it.
    let earlier = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    let (device, header) = cookie_named(&earlier, "onboard_device");
    assert!(device.len() > "onboard_device=".len() + 40, "{device}");
    for attribute in ["Path=/app/fn/;", "HttpOnly", "SameSite=Strict", "Max-Age=2592000"] {
        assert!(header.contains(attribute), "{attribute} missing from {header}");
    }
    for _ in 0..4 {
        let refused = sign_in(&base, &client, None, "not the password").await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(refused.text().await.unwrap().contains("is not right"));
    }
    let locked = sign_in(&base, &client, None, "not the password").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.text().await.unwrap().contains("too many failed sign-ins: try again in 15 minute(s)"));
    let still_locked = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    assert_eq!(still_locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(still_locked.headers().get(SET_COOKIE).is_none(), "no session for a locked account");
    // The lock an outsider's guesses set does not hold the administrator's own browser.
    let trusted = sign_in(&base, &client, Some(&device), ADMIN_PASSWORD).await;
    assert!(trusted.status().is_success() || trusted.status().is_redirection(), "{}", trusted.status());
    let (session, _) = session_cookie(&trusted);
    assert_eq!(list_workspaces(&base, &client, Some(&session)).await, StatusCode::OK);
    assert_eq!(cookie_named(&trusted, "onboard_device").0, device, "the same token, trusted for longer");
}

/// A burst of guesses gets no more password checks than one guess after another: those that
/// read the account before a parallel guess locked it are refused too, not counted afresh.
#[tokio::test]
async fn parallel_guesses_get_no_more_tries_than_the_limit() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    // Twenty: as many as one caller may make in a minute, so each reaches the lock.
    let guesses = (0..20).map(|_| sign_in(&base, &client, None, "not the password"));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses).await.iter().map(Response::status).collect();
    let checked = statuses.iter().filter(|status| **status == StatusCode::BAD_REQUEST).count();
    let locked = statuses.iter().filter(|status| **status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, locked), (4, 16), "{statuses:?}");
}

/// Twenty wrong sign-ins, each as another address, from one caller, for a console at `origin`.
async fn twenty_guesses(base: &str, origin: &str, client: &Client) {
    for n in 0..20 {
        let guess = client
            .post(format!("{base}/app/fn/sign_in"))
            .header(ORIGIN, origin)
            .form(&[("email", format!("nobody{n}@bank.example").as_str()), ("password", "not the password")])
            .send()
            .await
            .unwrap();
        assert_eq!(guess.status(), StatusCode::BAD_REQUEST, "attempt {n}");
    }
}

/// One caller gets twenty sign-in attempts a minute, whichever addresses it tries: past them,
/// even the right password waits.
#[tokio::test]
async fn one_caller_gets_twenty_sign_in_attempts_a_minute() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    twenty_guesses(&base, &base, &client).await;
    let held_off = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    assert_eq!(held_off.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(held_off.text().await.unwrap().contains("too many sign-ins from this address: try again in "));
}

/// Behind a proxy every connection has the proxy's address: counting by it would let one
/// outsider keep every administrator out, so the plain listener does not.
#[tokio::test]
async fn behind_a_proxy_sign_ins_are_not_counted_by_the_proxys_address() {
    let server = TestServer::start_with(|args| args.listeners.behind_tls_proxy = true).await;
    let (base, client) = (server.http.clone(), client());
    let origin = "https://localhost:8443";
    twenty_guesses(&base, origin, &client).await;
    let signed_in = client
        .post(format!("{base}/app/fn/sign_in"))
        .header(ORIGIN, origin)
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        session_cookie(&signed_in).0.starts_with("__Host-onboard_session="),
        "the twenty-first gets in: {}",
        signed_in.status()
    );
}

#[tokio::test]
async fn cross_site_and_origin_less_changes_are_refused() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    let signed_in = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    let (cookie, _) = session_cookie(&signed_in);
    for origin in [Some("https://evil.example"), Some("null"), None] {
        let mut request = client.post(format!("{base}/app/fn/create_workspace")).header(COOKIE, &cookie).form(&[
            ("tenant", "default"),
            ("id", "planted"),
            ("name", "Planted"),
            ("profile", "generic"),
        ]);
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        assert_eq!(request.send().await.unwrap().status(), StatusCode::FORBIDDEN, "{origin:?}");
    }
    let (status, _) = server.admin(reqwest::Method::GET, "/default/workspaces/planted", None).await;
    assert_eq!(status.as_u16(), 404, "nothing was created");
}

#[tokio::test]
async fn an_open_banking_registration_shows_its_organisation_and_software_statement_claims() {
    let (server, tpp) = support::configured(JwsAlgorithm::Ps256).await;
    let registered = tpp.register(&server, |_| {}).await;
    let client_id = registered["client_id"].as_str().unwrap();

    let console = ConsoleSession::sign_in(&server).await;
    let workspace = [("tenant", "default"), ("workspace", "obuk")];

    let (status, listed) =
        console.call("list_applications", &[workspace[0], workspace[1], ("filter", "dcr"), ("search", ""), ("page", "1")]).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let row = &listed["rows"][0];
    assert_eq!((row["client_id"].as_str(), row["dynamically_registered"].as_bool()), (Some(client_id), Some(true)));
    assert_eq!((row["software_id"].as_str(), row["org_id"].as_str()), (Some(SOFTWARE_ID), Some(ORG_ID)));
    let search = |q: String| {
        let console = &console;
        async move {
            console
                .call("list_applications", &[workspace[0], workspace[1], ("filter", "all"), ("search", &q), ("page", "1")])
                .await
        }
    };
    let (_, found) = search(client_id[client_id.len() - 6..].to_uppercase()).await;
    assert_eq!((found["total"].as_u64(), found["rows"][0]["client_id"].as_str()), (Some(1), Some(client_id)), "{found}");
    let (_, none) = search("no such application".to_owned()).await;
    assert_eq!((none["total"].as_u64(), none["rows"].as_array().map(Vec::len)), (Some(0), Some(0)), "{none}");
    let (status, refused) = search("x".repeat(201)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("longer than 200 characters"), "{refused}");

    let (status, detail) = console.call("get_application", &[workspace[0], workspace[1], ("client_id", client_id)]).await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    let claims: Value = serde_json::from_str(detail["software_statement_claims"].as_str().unwrap()).unwrap();
    assert_eq!((claims["software_id"].as_str(), claims["iss"].as_str()), (Some(SOFTWARE_ID), Some(support::DIRECTORY)));
    let metadata: Value = serde_json::from_str(detail["metadata"].as_str().unwrap()).unwrap();
    assert_eq!(metadata["token_endpoint_auth_method"], "tls_client_auth");
    assert!(metadata.get("registration_access_token").is_none() && metadata.get("client_secret").is_none(), "{metadata}");

    let (status, _) = console.call("get_application", &[workspace[0], workspace[1], ("client_id", "no-such-client")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A manual client's JWKS URI written with an address no fetch may reach (a private network
/// the deployment has not listed) is refused when the client is made, not at its first token.
#[tokio::test]
async fn a_manual_client_cannot_name_keys_at_an_address_fetches_refuse() {
    let server = TestServer::start().await;
    let console = ConsoleSession::sign_in(&server).await;
    let client = |jwks_uri: &str| {
        serde_json::json!({
            "tenant": "default", "workspace": "obuk",
            "form": {
                "name": "Resource server", "scopes": "accounts", "token_endpoint_auth_method": "private_key_jwt",
                "tls_client_auth_subject_dn": "", "jwks": "", "jwks_uri": jwks_uri
            }
        })
    };
    let (status, refused) = console.call_json("create_manual_client", &client("https://10.1.2.3/jwks")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused.to_string().contains("jwks_uri: 10.1.2.3 is not an address outbound fetches may reach"), "{refused}");
    let (status, made) = console.call_json("create_manual_client", &client("https://keys.bank.example/jwks")).await;
    assert_eq!(status, StatusCode::OK, "{made}");
}

/// A release build leaves compressed copies of the assets beside them: a browser that accepts
/// Brotli or gzip gets that copy, one that accepts neither gets the file itself, and a file
/// without copies (a debug build's) is served as it is.
#[tokio::test]
async fn compressed_copies_of_the_assets_are_served_to_browsers_that_accept_them() {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    for (file, content) in
        [("console.wasm", "wasm"), ("console.wasm.br", "brotli"), ("console.wasm.gz", "gzip"), ("console.css", "css")]
    {
        std::fs::write(pkg.join(file), content).unwrap();
    }
    let root = site.path().display().to_string();
    let server = TestServer::start_with(|args| args.site_root = root).await;
    let fetch = |path: &'static str, accept: &'static str| {
        let url = format!("{}/pkg/{path}", server.http);
        async move {
            let response = client().get(url).header("accept-encoding", accept).send().await.unwrap();
            let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(response.headers()["x-content-type-options"], "nosniff");
            (response.status(), encoding, response.text().await.unwrap())
        }
    };
    assert_eq!(fetch("console.wasm", "gzip, deflate, br").await, (StatusCode::OK, Some("br".to_owned()), "brotli".to_owned()));
    assert_eq!(fetch("console.wasm", "gzip").await, (StatusCode::OK, Some("gzip".to_owned()), "gzip".to_owned()));
    assert_eq!(fetch("console.wasm", "identity").await, (StatusCode::OK, None, "wasm".to_owned()));
    assert_eq!(fetch("console.css", "gzip, br").await, (StatusCode::OK, None, "css".to_owned()));
}

/// Changing one's own password through the console: the session goes on under a new id, every
/// other session of the old password ends, and the browser gets a device token for the new one.
#[tokio::test]
async fn an_administrator_changes_their_password_and_only_this_session_goes_on() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    let (this, _) = session_cookie(&sign_in(&base, &client, None, ADMIN_PASSWORD).await);
    let (other, _) = session_cookie(&sign_in(&base, &client, None, ADMIN_PASSWORD).await);
    let change = |cookie: String, fields: [(&'static str, &'static str); 3]| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let request = client.post(format!("{base}/app/fn/change_password")).header(ORIGIN, &base).header(COOKIE, cookie);
            request.form(&fields).send().await.unwrap()
        }
    };
    let new = "Another-Passw0rd-2026";
    let mismatch =
        change(this.clone(), [("current_password", ADMIN_PASSWORD), ("new_password", new), ("confirm_password", "typo")]).await;
    assert_eq!(mismatch.status(), StatusCode::BAD_REQUEST);
    assert!(mismatch.text().await.unwrap().contains("confirm_password: does not match"));
    let anonymous = client
        .post(format!("{base}/app/fn/change_password"))
        .header(ORIGIN, &base)
        .form(&[("current_password", ADMIN_PASSWORD), ("new_password", new), ("confirm_password", new)])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let wrong =
        change(this.clone(), [("current_password", "not my password"), ("new_password", new), ("confirm_password", new)]).await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.unwrap().contains("current_password: that is not your password"));

    let changed =
        change(this.clone(), [("current_password", ADMIN_PASSWORD), ("new_password", new), ("confirm_password", new)]).await;
    assert!(changed.status().is_success(), "{}", changed.status());
    let (renewed, _) = session_cookie(&changed);
    assert_ne!(renewed, this, "a new session id");
    assert_eq!(list_workspaces(&base, &client, Some(&this)).await, StatusCode::UNAUTHORIZED, "the old id is gone");
    cookie_named(&changed, "onboard_device");
    assert_eq!(list_workspaces(&base, &client, Some(&renewed)).await, StatusCode::OK);
    assert_eq!(list_workspaces(&base, &client, Some(&other)).await, StatusCode::UNAUTHORIZED, "the other session ended");
    assert_eq!(sign_in(&base, &client, None, ADMIN_PASSWORD).await.status(), StatusCode::BAD_REQUEST, "the old password");
    assert!(sign_in(&base, &client, None, new).await.status().is_success());
}

/// A signed-in page learns how long its session has left and can stay signed in; both answer
/// 401 without a session, and once it has ended.
#[tokio::test]
async fn a_page_learns_how_long_its_session_has_left_and_can_stay_signed_in() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    let (cookie, _) = session_cookie(&sign_in(&base, &client, None, ADMIN_PASSWORD).await);
    let call = |cookie: Option<&str>, function: &str| {
        let request = client.post(format!("{base}/app/fn/{function}")).header(ORIGIN, &base);
        match cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        }
        .send()
    };
    for function in ["session_remaining", "stay_signed_in"] {
        let answer = call(Some(&cookie), function).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{function}");
        let left: Value = answer.json().await.unwrap();
        let seconds = left["seconds"].as_u64().unwrap();
        assert!((30 * 60..=31 * 60 + 1).contains(&seconds), "{function}: {left}");
        assert_eq!((&left["renewable"], &left["idle_minutes"]), (&Value::Bool(true), &Value::from(30)), "{function}");
        assert_eq!(call(None, function).await.unwrap().status(), StatusCode::UNAUTHORIZED, "{function} without a session");
    }
    let signed_out = call(Some(&cookie), "sign_out").await.unwrap();
    assert!(signed_out.status().is_success() || signed_out.status().is_redirection(), "{}", signed_out.status());
    for function in ["session_remaining", "stay_signed_in"] {
        assert_eq!(call(Some(&cookie), function).await.unwrap().status(), StatusCode::UNAUTHORIZED, "{function} once ended");
    }
}

/// An administrator's sessions over the wire: each listed with the browser its `User-Agent`
/// names and the caller's address, nothing of a session's secrets in the list; another
/// session ended from this one gets 401 at its next call; an id that is not one of theirs is a
/// 404, and this session cannot end itself from the list.
#[tokio::test]
async fn an_administrator_lists_their_sessions_and_ends_another() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let sign_in_as = |user_agent: &'static str| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let response = client
                .post(format!("{base}/app/fn/sign_in"))
                .header(ORIGIN, &base)
                .header("accept", "application/json")
                .header("user-agent", user_agent)
                .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
                .send()
                .await
                .unwrap();
            session_cookie(&response).0
        }
    };
    let laptop = sign_in_as(firefox).await;
    let phone = sign_in_as("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Version/18.1 Safari/604.1").await;
    let call = |cookie: &str, function: &str, form: &[(&str, &str)]| {
        client.post(format!("{base}/app/fn/{function}")).header(ORIGIN, &base).header(COOKIE, cookie).form(form).send()
    };

    let listed = call(&laptop, "own_sessions", &[]).await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let body = listed.text().await.unwrap();
    for secret in [laptop.split('=').nth(1).unwrap(), phone.split('=').nth(1).unwrap(), "password_mark"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
    let sessions: Vec<Value> = serde_json::from_str(&body).unwrap();
    let seen: Vec<_> = sessions
        .iter()
        .map(|s| (s["browser"].as_str().unwrap(), s["address"].as_str().unwrap(), s["current"].as_bool().unwrap()))
        .collect();
    assert_eq!(seen, [("Safari on iOS", "127.0.0.1", false), ("Firefox on Linux", "127.0.0.1", true)]);
    assert_eq!(sessions[1]["user_agent"], firefox);
    let (phone_id, laptop_id) = (sessions[0]["id"].as_str().unwrap(), sessions[1]["id"].as_str().unwrap());

    let itself = call(&laptop, "end_session", &[("sign_in_id", laptop_id)]).await.unwrap();
    assert_eq!(itself.status(), StatusCode::CONFLICT);
    let unknown = call(&laptop, "end_session", &[("sign_in_id", "not-a-session")]).await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let anonymous = client
        .post(format!("{base}/app/fn/end_session"))
        .header(ORIGIN, &base)
        .form(&[("sign_in_id", phone_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(list_workspaces(&base, &client, Some(&phone)).await, StatusCode::OK, "nothing ended yet");

    let ended = call(&laptop, "end_session", &[("sign_in_id", phone_id)]).await.unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    assert_eq!(list_workspaces(&base, &client, Some(&phone)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(list_workspaces(&base, &client, Some(&laptop)).await, StatusCode::OK);

    let tablet = sign_in_as(firefox).await;
    let all = call(&laptop, "end_other_sessions", &[]).await.unwrap();
    assert_eq!(all.text().await.unwrap(), "1");
    assert_eq!(list_workspaces(&base, &client, Some(&tablet)).await, StatusCode::UNAUTHORIZED);
    assert_eq!(list_workspaces(&base, &client, Some(&laptop)).await, StatusCode::OK);
}

/// Two-step sign-in over the wire: set up and turned on from a signed-in session; then signing
/// in with the password alone is answered 401 with a request for the code, a wrong code is
/// refused at its field, and the right one signs in. The administrators' list says it is on.
#[tokio::test]
async fn an_administrator_turns_on_two_step_sign_in_and_then_signs_in_with_a_code() {
    let server = TestServer::start().await;
    let (base, client) = (server.http.clone(), client());
    let (cookie, _) = session_cookie(&sign_in(&base, &client, None, ADMIN_PASSWORD).await);
    let call = |function: &str, form: &[(&str, &str)]| {
        client.post(format!("{base}/app/fn/{function}")).header(ORIGIN, &base).header(COOKIE, &cookie).form(form).send()
    };
    let setup: Value = call("new_two_step_setup", &[]).await.unwrap().json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().replace(' ', "");
    let code_in = |steps: u64| {
        let now = u64::try_from(support::now().timestamp()).unwrap() / app::totp::STEP_SECONDS;
        app::totp::code_at(&secret, now + steps).unwrap()
    };
    let status: Value = call("two_step_sign_in", &[]).await.unwrap().json().await.unwrap();
    assert_eq!(status["enabled_at"], Value::Null);
    let wrong = call("enable_two_step", &[("password", ADMIN_PASSWORD), ("code", &code_in(5))]).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.unwrap().contains("code: the code is not right"));
    let on = call("enable_two_step", &[("password", ADMIN_PASSWORD), ("code", &code_in(0))]).await.unwrap();
    assert!(on.status().is_success(), "{}", on.status());
    let status: Value = call("two_step_sign_in", &[]).await.unwrap().json().await.unwrap();
    assert!(status["enabled_at"].is_string(), "{status}");
    let listed: Value = call("list_administrators", &[]).await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["two_step"], "on", "{listed}");
    assert_eq!(listed[0]["recovery_codes_left"], 10, "how many, never which: {listed}");

    let password_alone = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    assert_eq!(password_alone.status(), StatusCode::UNAUTHORIZED);
    assert!(password_alone.headers().get(SET_COOKIE).is_none_or(|c| !c.to_str().unwrap().starts_with("onboard_session=")));
    assert!(password_alone.text().await.unwrap().contains(app::api::CODE_NEEDED));
    let with_code = |code: String| {
        client
            .post(format!("{base}/app/fn/sign_in"))
            .header(ORIGIN, &base)
            .header("accept", "application/json")
            .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD), ("code", &code)])
            .send()
    };
    let wrong = with_code(code_in(5)).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(wrong.text().await.unwrap().contains("the code is not right"));
    // The next step's code (the enabling one's step is used): a phone a little ahead.
    let signed_in = with_code(code_in(1)).await.unwrap();
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection(), "{}", signed_in.status());
    let (second, _) = session_cookie(&signed_in);
    assert_eq!(list_workspaces(&base, &client, Some(&second)).await, StatusCode::OK);
}

/// With `--console-require-two-step`, an administrator who has not set up two-step sign-in
/// signs in with the password but can only set it up: pages send them to their account page,
/// other server functions answer 403 and the bundle download refuses them. Once it is on, the
/// console is theirs.
#[tokio::test]
async fn a_console_that_requires_two_step_sign_in_lets_an_administrator_set_it_up_first() {
    let server = TestServer::start_with(|args| args.console_require_two_step = true).await;
    let (base, client) = (server.http.clone(), client());
    let signed_in = sign_in(&base, &client, None, ADMIN_PASSWORD).await;
    assert_eq!(signed_in.headers()[LOCATION], "/app/account", "straight to where it is set up");
    let (cookie, _) = session_cookie(&signed_in);
    let page = |path: &'static str| client.get(format!("{base}{path}")).header(COOKIE, &cookie).send();
    let call = |function: &str, form: &[(&str, &str)]| {
        client.post(format!("{base}/app/fn/{function}")).header(ORIGIN, &base).header(COOKIE, &cookie).form(form).send()
    };
    for path in ["/app/default/workspaces", "/app/administrators", "/app/default/sandbox/Any/bundle.zip"] {
        let sent = page(path).await.unwrap();
        assert!(sent.status().is_redirection(), "{path}: {}", sent.status());
        assert_eq!(sent.headers()[LOCATION], "/app/account", "{path}");
    }
    assert_eq!(page("/app/account").await.unwrap().status(), StatusCode::OK);
    let refused = call("list_workspaces", &[("tenant", "default")]).await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains(app::api::TWO_STEP_REQUIRED));
    assert_eq!(call("list_administrators", &[]).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(call("current_administrator", &[]).await.unwrap().status(), StatusCode::OK);
    let status: Value = call("two_step_sign_in", &[]).await.unwrap().json().await.unwrap();
    assert_eq!((&status["required"], &status["enabled_at"]), (&Value::Bool(true), &Value::Null));

    let setup: Value = call("new_two_step_setup", &[]).await.unwrap().json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().replace(' ', "");
    let step = u64::try_from(support::now().timestamp()).unwrap() / app::totp::STEP_SECONDS;
    let code = app::totp::code_at(&secret, step).unwrap();
    let on = call("enable_two_step", &[("password", ADMIN_PASSWORD), ("code", &code)]).await.unwrap();
    assert!(on.status().is_success(), "{}", on.status());
    assert_eq!(call("list_workspaces", &[("tenant", "default")]).await.unwrap().status(), StatusCode::OK);
    assert_eq!(page("/app/default/workspaces").await.unwrap().status(), StatusCode::OK);
}

/// A sensitive change asks for the password again once `--console-confirm-minutes` (15 by
/// default) have passed since it was last given in the session: reading does not, a wrong
/// password is refused (and recorded) as at sign-in, and the right one gives the session a new
/// id and lets changes through for another window.
#[tokio::test]
async fn a_sensitive_change_asks_for_the_password_again_after_a_while() {
    use app::clock::FixedClock;
    let clock = std::sync::Arc::new(FixedClock::new(support::now()));
    let server = TestServer::start_on_clock(clock.clone(), |_| {}).await;
    let (base, client) = (server.http.clone(), client());
    let (cookie, _) = session_cookie(&sign_in(&base, &client, None, ADMIN_PASSWORD).await);
    let (other_browser, _) = session_cookie(&sign_in(&base, &client, None, ADMIN_PASSWORD).await);
    let call = |cookie: &str, function: &str, form: &[(&str, &str)]| {
        client.post(format!("{base}/app/fn/{function}")).header(ORIGIN, &base).header(COOKIE, cookie).form(form).send()
    };
    let rotate = [("tenant", "default"), ("workspace", "obuk"), ("algorithm", "PS256")];
    let in_workspace = [("tenant", "default"), ("workspace", "obuk")];
    let sandbox = [("tenant", "default"), ("software_id", "NoSuchSoftware")];
    let registration = [("tenant", "default"), ("workspace", "obuk"), ("software_id", "NoSuchSoftware")];
    let sensitive: [(&str, &[(&str, &str)]); 7] = [
        ("rotate_signing_key", &rotate),
        ("delete_policy", &[("tenant", "default"), ("workspace", "obuk"), ("id", "no-such-policy")]),
        ("delete_application", &[("tenant", "default"), ("workspace", "obuk"), ("client_id", "no-such-client")]),
        ("delete_abandoned_applications", &in_workspace),
        ("register_sandbox_tpp", &registration),
        ("delete_sandbox_tpp", &sandbox),
        ("sandbox_bundle_download", &sandbox),
    ];
    let bundle = || client.get(format!("{base}/app/default/sandbox/NoSuchSoftware/bundle.zip")).header(COOKIE, &cookie).send();

    // Signing in gave the password: the first window is open.
    assert_eq!(call(&cookie, "rotate_signing_key", &rotate).await.unwrap().status(), StatusCode::OK);
    assert_eq!(bundle().await.unwrap().status(), StatusCode::NOT_FOUND, "allowed, and there is none");
    for (site, status) in [
        ("same-origin", StatusCode::NOT_FOUND),
        ("none", StatusCode::NOT_FOUND),
        ("cross-site", StatusCode::FORBIDDEN),
        ("same-site", StatusCode::FORBIDDEN),
    ] {
        let fetched = client
            .get(format!("{base}/app/default/sandbox/NoSuchSoftware/bundle.zip"))
            .header(COOKIE, &cookie)
            .header("sec-fetch-site", site)
            .send()
            .await
            .unwrap();
        assert_eq!(fetched.status(), status, "started by {site}: another site's link downloads nothing");
    }
    clock.advance(chrono::Duration::minutes(15));
    for (function, form) in sensitive {
        let refused = call(&cookie, function, form).await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{function}");
        assert_eq!(refused.text().await.unwrap(), format!("ServerError|{}", app::api::CONFIRMATION_NEEDED), "{function}");
    }
    let refused: Value = bundle().await.unwrap().json().await.unwrap();
    assert_eq!(refused["error_description"], app::api::CONFIRMATION_NEEDED, "the bundle holds private keys");
    for (function, form) in [("list_signing_keys", &in_workspace[..]), ("list_sandbox_tpps", &[("tenant", "default")])] {
        assert_eq!(call(&cookie, function, form).await.unwrap().status(), StatusCode::OK, "reading is no change: {function}");
    }

    let wrong = call(&cookie, "confirm_password", &[("password", "not my password")]).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(wrong.text().await.unwrap(), "ServerError|password: that is not your password");
    assert_eq!(call(&cookie, "rotate_signing_key", &rotate).await.unwrap().status(), StatusCode::FORBIDDEN);
    let right = call(&cookie, "confirm_password", &[("password", ADMIN_PASSWORD)]).await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    // A new session id, as at sign-in: a copy of the old cookie is signed out.
    let (confirmed, _) = session_cookie(&right);
    assert_ne!(confirmed, cookie);
    assert_eq!(call(&cookie, "rotate_signing_key", &rotate).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(call(&confirmed, "rotate_signing_key", &rotate).await.unwrap().status(), StatusCode::OK);
    let elsewhere = call(&other_browser, "rotate_signing_key", &rotate).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN, "each session has its own window: the confirmation was this one's");
    clock.advance(chrono::Duration::minutes(14));
    assert_eq!(call(&confirmed, "rotate_signing_key", &rotate).await.unwrap().status(), StatusCode::OK, "within the new window");

    // The wrong password is in the administrators' activity, said to be a confirmation's
    // (recorded off the request: looked for until it is there).
    let refusals = || async {
        let url = format!("{base}/api/admin/v1/administrator-events?type=sign_in_refused");
        let listed: Value = client.get(url).bearer_auth(support::ADMIN_KEY).send().await.unwrap().json().await.unwrap();
        listed["administrator_events"].as_array().cloned().unwrap_or_default()
    };
    for _ in 0..100 {
        if !refusals().await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let refused = refusals().await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0]["detail"].as_str().unwrap_or_default().contains("confirming their password"), "{refused:?}");
}

/// Guessing at the password from inside a session locks the address as guessing at sign-in
/// does, and ends that session: whoever holds it does not know the password.
#[tokio::test]
async fn guessing_the_password_in_a_session_locks_the_address_and_ends_the_session() {
    use app::clock::FixedClock;
    let clock = std::sync::Arc::new(FixedClock::new(support::now()));
    let server = TestServer::start_on_clock(clock.clone(), |_| {}).await;
    let (base, client) = (server.http.clone(), client());
    let (cookie, _) = session_cookie(&sign_in(&base, &client, None, ADMIN_PASSWORD).await);
    let confirm = |password: &'static str| {
        client
            .post(format!("{base}/app/fn/confirm_password"))
            .header(ORIGIN, &base)
            .header(COOKIE, &cookie)
            .form(&[("password", password)])
            .send()
    };
    for _ in 0..4 {
        assert_eq!(confirm("a guess at the password").await.unwrap().status(), StatusCode::BAD_REQUEST);
        assert_eq!(list_workspaces(&base, &client, Some(&cookie)).await, StatusCode::OK, "a wrong guess alone ends nothing");
    }
    let locked = confirm("a fifth guess").await.unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.text().await.unwrap().contains("too many failed sign-ins"));
    assert_eq!(list_workspaces(&base, &client, Some(&cookie)).await, StatusCode::UNAUTHORIZED, "the session has ended");
    assert_eq!(
        sign_in(&base, &client, None, ADMIN_PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the address is locked"
    );
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        r#"onboard_console_password_confirmations_total{outcome="refused"} 4"#,
        r#"onboard_console_password_confirmations_total{outcome="locked"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
}
