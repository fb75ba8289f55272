//! Console administrators: creation rules, sign-in, and the lock after repeated failures,
//! with a fixed clock.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::Arc;

use app::clock::FixedClock;
use app::domain::activity::{AdministratorEventFilter, AdministratorEventType as Kind, COMMAND_LINE_ACTOR};
use app::domain::event_log::Outcome;
use app::services::ServiceError;
use app::services::accounts::{self, SignInError};
use chrono::{DateTime, Duration};
use support::{ADMIN_EMAIL, ADMIN_PASSWORD, serve_args};

async fn prepared() -> (onboard::state::ServerState, Arc<FixedClock>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(DateTime::from_timestamp(1_795_316_679, 0).unwrap()));
    let state = onboard::startup::prepare(&serve_args(dir.path().to_owned()), clock.clone()).await.unwrap();
    (state, clock, dir)
}

#[tokio::test]
async fn the_first_administrator_comes_from_the_command_line_and_signs_in() {
    let (state, _, _dir) = prepared().await;
    let admin = accounts::sign_in(&state.app, &accounts::SignInFrom::default(), " Admin@Bank.Example ", ADMIN_PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(admin.administrator.email, ADMIN_EMAIL);
    assert_eq!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "wrong password!", None).await,
        Err(SignInError::Invalid)
    );
    assert_eq!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), "nobody@bank.example", ADMIN_PASSWORD, None).await,
        Err(SignInError::Invalid)
    );
    let stored = state.app.store.admin_user_by_email(ADMIN_EMAIL).await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"), "argon2id, never the password");
    let metrics = state.app.metrics.render();
    for line in
        [r#"onboard_console_sign_ins_total{outcome="signed_in"} 1"#, r#"onboard_console_sign_ins_total{outcome="refused"} 2"#]
    {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
}

#[tokio::test]
async fn administrators_need_an_address_and_a_long_password() {
    let (state, _, _dir) = prepared().await;
    let field = |result: Result<_, ServiceError>| match result {
        Err(ServiceError::Invalid(error)) => error.field,
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(
        field(
            accounts::create_administrator(
                state.app.store.as_ref(),
                state.app.clock.as_ref(),
                COMMAND_LINE_ACTOR,
                "not-an-address",
                "long enough password"
            )
            .await
        ),
        "email"
    );
    assert_eq!(
        field(
            accounts::create_administrator(
                state.app.store.as_ref(),
                state.app.clock.as_ref(),
                COMMAND_LINE_ACTOR,
                "ops@bank.example",
                "short"
            )
            .await
        ),
        "password"
    );
    let duplicate = accounts::create_administrator(
        state.app.store.as_ref(),
        state.app.clock.as_ref(),
        COMMAND_LINE_ACTOR,
        ADMIN_EMAIL,
        "another long password",
    )
    .await;
    assert!(matches!(duplicate, Err(ServiceError::Conflict(_))));
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let (state, clock, _dir) = prepared().await;
    for _ in 0..4 {
        assert_eq!(
            accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "wrong password!", None).await,
            Err(SignInError::Invalid)
        );
    }
    assert_eq!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "wrong password!", None).await,
        Err(SignInError::Locked { minutes: 15 })
    );
    // Locked: even the right password is refused.
    clock.advance(Duration::minutes(10));
    assert_eq!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await,
        Err(SignInError::Locked { minutes: 5 })
    );
    clock.advance(Duration::minutes(6));
    assert!(accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await.is_ok());
    // A success resets the count.
    for _ in 0..4 {
        assert_eq!(
            accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "wrong password!", None).await,
            Err(SignInError::Invalid)
        );
    }
    assert!(accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await.is_ok());
}

/// An address no administrator has is locked after as many failures as one that has: the
/// answers to the same guesses are the same, so they do not tell which accounts exist.
#[tokio::test]
async fn an_unknown_address_is_answered_as_a_known_one_is() {
    let (state, clock, _dir) = prepared().await;
    let guesses = |email: &'static str| {
        let app = state.app.clone();
        async move {
            let mut answers = Vec::new();
            for _ in 0..7 {
                answers.push(accounts::sign_in(&app, &accounts::SignInFrom::default(), email, "wrong password!", None).await);
            }
            answers
        }
    };
    let known = guesses(ADMIN_EMAIL).await;
    let unknown = guesses("nobody@bank.example").await;
    assert_eq!(known, unknown);
    assert_eq!(unknown[4..], [const { Err(SignInError::Locked { minutes: 15 }) }; 3]);
    clock.advance(Duration::minutes(15));
    assert_eq!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), "nobody@bank.example", "wrong password!", None).await,
        Err(SignInError::Invalid)
    );
    assert!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await.is_ok(),
        "the lock ran out"
    );
}

/// Failures are forgotten a day after the last attempt: the count starts afresh.
#[tokio::test]
async fn failures_are_forgotten_a_day_after_the_last() {
    let (state, clock, _dir) = prepared().await;
    for _ in 0..4 {
        assert_eq!(
            accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "wrong password!", None).await,
            Err(SignInError::Invalid)
        );
    }
    clock.advance(Duration::hours(23));
    assert_eq!(accounts::forget_old_sign_in_attempts(&state.app, 100).await.unwrap(), 0, "within the day");
    clock.advance(Duration::hours(1) + Duration::seconds(1));
    assert_eq!(accounts::forget_old_sign_in_attempts(&state.app, 100).await.unwrap(), 1);
    for _ in 0..4 {
        assert_eq!(
            accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "wrong password!", None).await,
            Err(SignInError::Invalid)
        );
    }
}

#[tokio::test]
async fn parallel_guesses_cannot_get_past_the_limit() {
    let (state, _, _dir) = prepared().await;
    let guesses = (0..12).map(|n| {
        let app = state.app.clone();
        tokio::spawn(async move {
            accounts::sign_in(&app, &accounts::SignInFrom::default(), ADMIN_EMAIL, &format!("wrong password {n}"), None).await
        })
    });
    let mut invalid = 0;
    for guess in guesses {
        match guess.await.unwrap() {
            Err(SignInError::Invalid) => invalid += 1,
            Err(SignInError::Locked { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(invalid <= 4, "{invalid} passwords were checked before the lock");
    assert!(matches!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await,
        Err(SignInError::Locked { .. })
    ));
}

/// The administrator signed in, and a console session recording it.
async fn signed_in_session(state: &onboard::state::ServerState) -> (accounts::SignedIn, tower_sessions::Session) {
    let signed_in =
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    let sessions = app::console_sessions::ConsoleSessionStore::new(state.app.store.clone(), state.app.clock.clone());
    let session = tower_sessions::Session::new(None, Arc::new(sessions), None);
    app::api::session::record_sign_in(&state.app, &session, &signed_in, &accounts::SessionClient::default()).await.unwrap();
    (signed_in, session)
}

#[tokio::test]
async fn a_sign_in_ends_after_twelve_hours_however_busy_the_session() {
    use app::api::session::signed_in_administrator;
    let (state, clock, _dir) = prepared().await;
    let (signed_in, session) = signed_in_session(&state).await;
    assert_eq!(signed_in_administrator(&session, &state.app, None).await.unwrap(), Some(signed_in.administrator));
    // Used every twenty minutes, so never idle for long.
    for _ in 0..36 {
        clock.advance(Duration::minutes(20));
        assert!(signed_in_administrator(&session, &state.app, None).await.unwrap().is_some(), "still within the lifetime");
    }
    clock.advance(Duration::seconds(1));
    assert_eq!(signed_in_administrator(&session, &state.app, None).await.unwrap(), None);
}

#[tokio::test]
async fn a_sign_in_ends_after_the_idle_time_unused() {
    use app::api::session::signed_in_administrator;
    let (state, clock, _dir) = prepared().await;
    let idle = state.app.deployment.console_idle;
    assert_eq!(idle, Duration::minutes(30), "the default, OWASP ASVS level 2's");
    let (_, session) = signed_in_session(&state).await;
    // Its last use is noted to within a minute: a minute's grace beyond the idle time.
    clock.advance(idle + Duration::minutes(1));
    assert!(signed_in_administrator(&session, &state.app, None).await.unwrap().is_some());
    let (_, session) = signed_in_session(&state).await;
    clock.advance(idle + Duration::minutes(1) + Duration::seconds(1));
    assert_eq!(signed_in_administrator(&session, &state.app, None).await.unwrap(), None);
}

/// A page asks how long its session has left so it can warn before the end; asking is no use
/// of the session, so a page left open does not keep it signed in.
#[tokio::test]
async fn asking_how_long_a_session_has_left_does_not_keep_it_signed_in() {
    use app::api::session::{signed_in_administrator, time_left};
    let (state, clock, _dir) = prepared().await;
    let idle = state.app.deployment.console_idle;
    let (_, session) = signed_in_session(&state).await;
    let full = time_left(&session, &state.app).await.unwrap().unwrap();
    // The minute within which a use may not have been noted, and the last second, included.
    let whole = u64::try_from((idle + Duration::seconds(61)).num_seconds()).unwrap();
    assert_eq!((full.seconds, full.renewable, full.idle_minutes), (whole, true, 30));
    for asked in 1..=6_u64 {
        clock.advance(Duration::minutes(5));
        assert_eq!(time_left(&session, &state.app).await.unwrap().unwrap().seconds, whole - asked * 300);
    }
    // A use, with a minute left, gives it the whole idle time again.
    assert!(signed_in_administrator(&session, &state.app, None).await.unwrap().is_some());
    assert_eq!(time_left(&session, &state.app).await.unwrap().unwrap().seconds, whole);
    clock.advance(Duration::seconds(i64::try_from(whole).unwrap()));
    assert_eq!(time_left(&session, &state.app).await.unwrap(), None, "ended once its time has passed");
    assert_eq!(signed_in_administrator(&session, &state.app, None).await.unwrap(), None);
}

#[tokio::test]
async fn a_new_password_lifts_the_lock_and_ends_the_sessions_of_the_old_one() {
    use app::api::session::signed_in_administrator;
    let (state, _clock, _dir) = prepared().await;
    let (signed_in, session) = signed_in_session(&state).await;
    for _ in 0..5 {
        let _ = accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "a wrong guess!", None).await;
    }
    assert!(matches!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await,
        Err(SignInError::Locked { .. })
    ));

    let refused = accounts::set_password(state.app.store.as_ref(), state.app.clock.as_ref(), ADMIN_EMAIL, "too short").await;
    assert!(refused.is_err(), "{refused:?}");
    assert!(
        accounts::set_password(
            state.app.store.as_ref(),
            state.app.clock.as_ref(),
            "nobody@bank.example",
            "Another-Passw0rd-2026"
        )
        .await
        .is_err()
    );
    assert!(signed_in_administrator(&session, &state.app, None).await.unwrap().is_some(), "nothing changed yet");

    accounts::set_password(state.app.store.as_ref(), state.app.clock.as_ref(), " Admin@Bank.Example ", "Another-Passw0rd-2026")
        .await
        .unwrap();
    assert_eq!(signed_in_administrator(&session, &state.app, None).await.unwrap(), None, "signed in with the old password");
    assert_eq!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await,
        Err(SignInError::Invalid),
        "unlocked"
    );
    let again = accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "Another-Passw0rd-2026", None)
        .await
        .unwrap();
    assert_eq!(again.administrator, signed_in.administrator);
}

/// What the activity records of accounts and console requests, oldest first: (type, outcome,
/// address, actor, caller).
async fn activity(state: &onboard::state::ServerState) -> Vec<(Kind, Outcome, Option<String>, Option<String>, Option<String>)> {
    let events = state.app.store.administrator_events(&AdministratorEventFilter::default()).await.unwrap();
    events
        .into_iter()
        .rev()
        .filter(|e| {
            matches!(e.event.event_type, Kind::AdministratorCreated | Kind::PasswordChanged) || e.event.remote_addr.is_some()
        })
        .map(|e| (e.event.event_type, e.event.outcome, e.event.email, e.event.actor, e.event.remote_addr))
        .collect()
}

/// [`activity`] once it holds `count` events: refusals are recorded in the background.
async fn settled_activity(
    state: &onboard::state::ServerState,
    count: usize,
) -> Vec<(Kind, Outcome, Option<String>, Option<String>, Option<String>)> {
    for _ in 0..250 {
        let events = activity(state).await;
        if events.len() >= count {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    activity(state).await
}

#[tokio::test]
async fn sign_ins_refusals_locks_and_account_changes_are_recorded_with_who_and_from_where() {
    let (state, _, _dir) = prepared().await;
    let caller = Some(std::net::IpAddr::from([192, 0, 2, 7]));
    let console = accounts::SignInFrom { address: caller, devices: Vec::new() };
    let from = Some("192.0.2.7".to_owned());
    let admin = Some(ADMIN_EMAIL.to_owned());
    let server_start = Some("server start".to_owned());
    assert_eq!(
        activity(&state).await,
        [(Kind::AdministratorCreated, Outcome::Success, admin.clone(), server_start.clone(), None)]
    );

    let signed_in = accounts::sign_in(&state.app, &console, ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    let _ = accounts::sign_in(&state.app, &console, "Nobody@Bank.Example", ADMIN_PASSWORD, None).await;
    let _ = accounts::sign_in(&state.app, &console, "my password, typed in the wrong field", ADMIN_PASSWORD, None).await;
    for _ in 0..6 {
        let _ = accounts::sign_in(&state.app, &console, ADMIN_EMAIL, "a wrong guess!", None).await;
    }
    settled_activity(&state, 7).await;
    accounts::signed_out(&state.app, &signed_in.administrator, "a sign-in", caller).await;
    accounts::set_password(state.app.store.as_ref(), state.app.clock.as_ref(), ADMIN_EMAIL, "Another-Passw0rd-2026")
        .await
        .unwrap();
    accounts::create_administrator(
        state.app.store.as_ref(),
        state.app.clock.as_ref(),
        COMMAND_LINE_ACTOR,
        "Ops@Bank.Example",
        "long enough password",
    )
    .await
    .unwrap();

    let refused = (Kind::SignInRefused, Outcome::Failure, admin.clone(), None, from.clone());
    let command_line = Some(COMMAND_LINE_ACTOR.to_owned());
    let expected = [
        (Kind::AdministratorCreated, Outcome::Success, admin.clone(), server_start, None),
        (Kind::SignedIn, Outcome::Success, admin.clone(), None, from.clone()),
        // Refusals of addresses no administrator has are not recorded: anyone can send them.
        refused.clone(),
        refused.clone(),
        refused.clone(),
        refused,
        // The fifth failure locks the address; the attempt after it, held off, is not recorded.
        (Kind::SignInLocked, Outcome::Failure, admin.clone(), None, from.clone()),
        (Kind::SignedOut, Outcome::Success, admin.clone(), None, from),
        (Kind::PasswordChanged, Outcome::Success, admin, command_line.clone(), None),
        (Kind::AdministratorCreated, Outcome::Success, Some("ops@bank.example".to_owned()), command_line, None),
    ];
    assert_eq!(settled_activity(&state, expected.len()).await, expected);
}

/// OWASP's device cookie: a browser that signed in as an address before counts its own
/// failures, so an outsider who keeps the address locked does not lock its administrator out;
/// the browser's own guesses lock it in turn; its trust ends with a new password, or 30 days
/// after its last sign-in.
#[tokio::test]
async fn a_browser_that_signed_in_before_gets_in_while_outsiders_keep_the_address_locked() {
    let (state, clock, _dir) = prepared().await;
    let outsider = accounts::SignInFrom::default();
    let sign_in = |from: accounts::SignInFrom, password: &'static str| {
        let app = state.app.clone();
        async move { accounts::sign_in(&app, &from, ADMIN_EMAIL, password, None).await }
    };
    let device = sign_in(accounts::SignInFrom::default(), ADMIN_PASSWORD).await.unwrap().device;
    let browser = || accounts::SignInFrom { address: None, devices: vec![device.clone()] };
    let lock_the_address = || async {
        for _ in 0..5 {
            let _ = accounts::sign_in(&state.app, &outsider, ADMIN_EMAIL, "an outsider's guess", None).await;
        }
        assert!(matches!(sign_in(accounts::SignInFrom::default(), ADMIN_PASSWORD).await, Err(SignInError::Locked { .. })));
    };

    lock_the_address().await;
    let again = sign_in(browser(), ADMIN_PASSWORD).await.unwrap();
    assert_eq!(again.device, device, "the browser keeps its token");
    // Another address, or a token that is none, is counted as any outsider is: against the
    // address, which five failures lock for everyone.
    for _ in 0..5 {
        let _ = accounts::sign_in(&state.app, &browser(), "ops@bank.example", "a guess", None).await;
    }
    let elsewhere = accounts::sign_in(&state.app, &outsider, "ops@bank.example", "a guess", None).await;
    assert!(matches!(elsewhere, Err(SignInError::Locked { .. })), "{elsewhere:?}");
    let forged = accounts::SignInFrom { address: None, devices: vec![app::secrets::Secret::generate()] };
    lock_the_address().await;
    assert!(matches!(sign_in(forged, ADMIN_PASSWORD).await, Err(SignInError::Locked { .. })));

    // The browser's own failures lock it, as the address's lock it.
    for _ in 0..4 {
        assert_eq!(sign_in(browser(), "my own typo").await, Err(SignInError::Invalid));
    }
    assert!(matches!(sign_in(browser(), "my own typo").await, Err(SignInError::Locked { .. })));
    assert!(matches!(sign_in(browser(), ADMIN_PASSWORD).await, Err(SignInError::Locked { .. })));
    clock.advance(Duration::minutes(15));
    assert!(sign_in(browser(), ADMIN_PASSWORD).await.is_ok(), "its lock has ended");

    // Thirty days after its last sign-in, the browser is an outsider again.
    clock.advance(accounts::DEVICE_TRUST + Duration::seconds(1));
    lock_the_address().await;
    assert!(matches!(sign_in(browser(), ADMIN_PASSWORD).await, Err(SignInError::Locked { .. })));

    // A new password forgets the browsers trusted by the old one.
    clock.advance(Duration::minutes(15));
    let device = sign_in(accounts::SignInFrom::default(), ADMIN_PASSWORD).await.unwrap().device;
    accounts::set_password(state.app.store.as_ref(), state.app.clock.as_ref(), ADMIN_EMAIL, "Another-Passw0rd-2026")
        .await
        .unwrap();
    for _ in 0..5 {
        let _ = accounts::sign_in(&state.app, &outsider, ADMIN_EMAIL, "an outsider's guess", None).await;
    }
    let trusted_before = accounts::SignInFrom { address: None, devices: vec![device] };
    let refused = accounts::sign_in(&state.app, &trusted_before, ADMIN_EMAIL, "Another-Passw0rd-2026", None).await;
    assert!(matches!(refused, Err(SignInError::Locked { .. })), "{refused:?}");
}

/// An administrator changes their own password by proving the current one, which is counted
/// as a sign-in attempt: wrong guesses lock the address as at the sign-in page. Their other
/// sessions end; the sign-in returned keeps this one going with the new password's mark.
#[tokio::test]
async fn an_administrator_changes_their_own_password_with_the_current_one() {
    use accounts::PasswordChangeError;
    use app::api::session::signed_in_administrator;
    let (state, clock, _dir) = prepared().await;
    let (signed_in, other_session) = signed_in_session(&state).await;
    let admin = &signed_in.administrator;
    // From the browser that signed in, which is trusted: an outsider's lock on the address
    // does not keep its administrator from changing the password.
    let console =
        accounts::SignInFrom { address: Some(std::net::IpAddr::from([192, 0, 2, 7])), devices: vec![signed_in.device.clone()] };
    for _ in 0..5 {
        let _ = accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "an outsider's guess", None).await;
    }
    let change = |current: &'static str, new: &'static str| {
        let (app, admin, console) = (state.app.clone(), admin.clone(), console.clone());
        async move { accounts::change_own_password(&app, &admin, &console, current, None, new).await }
    };
    let field = |result: Result<accounts::SignedIn, PasswordChangeError>| match result {
        Err(PasswordChangeError::New(ServiceError::Invalid(problem))) => problem.field,
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(field(change(ADMIN_PASSWORD, "short").await), "new_password");
    assert_eq!(field(change(ADMIN_PASSWORD, ADMIN_PASSWORD).await), "new_password", "the same one again");
    assert!(matches!(
        change("not my password", "Another-Passw0rd-2026").await,
        Err(PasswordChangeError::Current(SignInError::Invalid))
    ));
    assert!(signed_in_administrator(&other_session, &state.app, None).await.unwrap().is_some(), "nothing changed yet");

    let changed = change(ADMIN_PASSWORD, "Another-Passw0rd-2026").await.unwrap();
    assert_eq!(changed.administrator, *admin);
    assert_ne!(changed.password_mark, signed_in.password_mark);
    assert_eq!(signed_in_administrator(&other_session, &state.app, None).await.unwrap(), None, "the other session has ended");
    assert_eq!(
        accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await,
        Err(SignInError::Invalid)
    );
    // This browser is trusted afresh under the new password (the old token is forgotten): an
    // outsider's lock does not hold it.
    for _ in 0..5 {
        let _ = accounts::sign_in(&state.app, &accounts::SignInFrom::default(), ADMIN_EMAIL, "an outsider's guess", None).await;
    }
    let forgotten = accounts::SignInFrom { address: None, devices: vec![signed_in.device.clone()] };
    let refused = accounts::sign_in(&state.app, &forgotten, ADMIN_EMAIL, "Another-Passw0rd-2026", None).await;
    assert!(matches!(refused, Err(SignInError::Locked { .. })), "{refused:?}");
    let trusted = accounts::SignInFrom { address: None, devices: vec![changed.device] };
    assert!(accounts::sign_in(&state.app, &trusted, ADMIN_EMAIL, "Another-Passw0rd-2026", None).await.is_ok());
    let recorded = settled_activity(&state, 0).await;
    assert!(
        recorded.contains(&(
            Kind::PasswordChanged,
            Outcome::Success,
            Some(ADMIN_EMAIL.to_owned()),
            None,
            Some("192.0.2.7".to_owned())
        )),
        "by themselves, from their address: {recorded:?}"
    );

    // Guessing the current password is counted like any sign-in: five wrong lock the browser.
    clock.advance(Duration::minutes(15));
    for _ in 0..4 {
        assert!(matches!(change("guess", "Yet-Another-Passw0rd").await, Err(PasswordChangeError::Current(SignInError::Invalid))));
    }
    assert!(matches!(
        change("guess", "Yet-Another-Passw0rd").await,
        Err(PasswordChangeError::Current(SignInError::Locked { .. }))
    ));
    let metrics = state.app.metrics.render();
    for line in [
        r#"onboard_console_password_changes_total{outcome="changed"} 1"#,
        r#"onboard_console_password_changes_total{outcome="refused"} 5"#,
        r#"onboard_console_password_changes_total{outcome="locked"} 1"#,
        r#"onboard_console_password_changes_total{outcome="rejected"} 2"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
}

/// A console session signed in as `email`, from a browser with `user_agent` at `address`, and
/// the id of its sign-in.
async fn session_from(
    state: &onboard::state::ServerState,
    email: &str,
    password: &str,
    user_agent: &str,
    address: [u8; 4],
) -> (tower_sessions::Session, String) {
    let signed_in = accounts::sign_in(&state.app, &accounts::SignInFrom::default(), email, password, None).await.unwrap();
    let sessions = app::console_sessions::ConsoleSessionStore::new(state.app.store.clone(), state.app.clock.clone());
    let session = tower_sessions::Session::new(None, Arc::new(sessions), None);
    let client = accounts::SessionClient { address: Some(address.into()), user_agent: user_agent.to_owned() };
    app::api::session::record_sign_in(&state.app, &session, &signed_in, &client).await.unwrap();
    let current = app::api::session::current_sign_in(&session, &state.app, None).await.unwrap().unwrap();
    (session, current.id)
}

const FIREFOX_ON_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SAFARI_ON_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// An administrator sees their sessions (browser, address, last use) and ends one, or every
/// other: an ended session is signed out at its next request. Another administrator's sessions
/// are out of their reach, idle and outlived sessions are not listed, and each ending is in
/// the activity.
#[tokio::test]
async fn an_administrator_lists_and_ends_their_own_sessions() {
    use app::api::session::signed_in_administrator;
    use app::clock::Clock as _;
    let (state, clock, _dir) = prepared().await;
    let app = &state.app;
    let (laptop, laptop_id) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, FIREFOX_ON_LINUX, [192, 0, 2, 7]).await;
    let admin = signed_in_administrator(&laptop, app, None).await.unwrap().unwrap();
    clock.advance(Duration::minutes(1));
    let (phone, phone_id) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, SAFARI_ON_IOS, [198, 51, 100, 9]).await;
    clock.advance(Duration::minutes(1));
    // The laptop is used again, from another address: noted as its last use.
    assert!(signed_in_administrator(&laptop, app, Some([203, 0, 113, 5].into())).await.unwrap().is_some());

    let listed = accounts::own_sessions(app, &admin, &laptop_id).await.unwrap();
    let seen: Vec<_> = listed.iter().map(|s| (s.id.as_str(), s.browser.as_str(), s.address.as_deref(), s.current)).collect();
    assert_eq!(
        seen,
        [
            (laptop_id.as_str(), "Firefox on Linux", Some("203.0.113.5"), true),
            (phone_id.as_str(), "Safari on iOS", Some("198.51.100.9"), false),
        ],
        "the most recently used first"
    );
    assert_eq!(listed[0].last_seen_at, clock.now());
    assert_eq!(listed[0].signed_in_at, clock.now() - Duration::minutes(2));
    assert_eq!(listed[1].user_agent, SAFARI_ON_IOS);

    // The session in use is ended by signing out, not from the list.
    let refused = accounts::end_session(app, &admin, &laptop_id, &laptop_id, None).await;
    assert!(matches!(refused, Err(ServiceError::Conflict(_))), "{refused:?}");
    // Another administrator cannot end (or learn of) this one's sessions.
    let other_email = "other@bank.example";
    accounts::create_administrator(app.store.as_ref(), app.clock.as_ref(), COMMAND_LINE_ACTOR, other_email, ADMIN_PASSWORD)
        .await
        .unwrap();
    let (other, other_id) = session_from(&state, other_email, ADMIN_PASSWORD, FIREFOX_ON_LINUX, [192, 0, 2, 8]).await;
    let other_admin = signed_in_administrator(&other, app, None).await.unwrap().unwrap();
    let refused = accounts::end_session(app, &other_admin, &other_id, &phone_id, None).await;
    assert!(matches!(refused, Err(ServiceError::NotFound("session"))), "{refused:?}");
    assert_eq!(accounts::end_other_sessions(app, &other_admin, &other_id, None).await.unwrap(), 0);
    assert_eq!(accounts::own_sessions(app, &other_admin, &other_id).await.unwrap().len(), 1);
    assert!(signed_in_administrator(&phone, app, None).await.unwrap().is_some(), "the phone is still signed in");

    let console = Some(std::net::IpAddr::from([203, 0, 113, 5]));
    accounts::end_session(app, &admin, &laptop_id, &phone_id, console).await.unwrap();
    assert_eq!(signed_in_administrator(&phone, app, None).await.unwrap(), None, "signed out at its next request");
    let ids = |sessions: Vec<app::domain::console_session::OwnSession>| sessions.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(ids(accounts::own_sessions(app, &admin, &laptop_id).await.unwrap()), std::slice::from_ref(&laptop_id));
    let again = accounts::end_session(app, &admin, &laptop_id, &phone_id, console).await;
    assert!(matches!(again, Err(ServiceError::NotFound(_))), "{again:?}");

    let (tablet, _) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, SAFARI_ON_IOS, [198, 51, 100, 10]).await;
    let (desk, _) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, FIREFOX_ON_LINUX, [198, 51, 100, 11]).await;
    assert_eq!(accounts::end_other_sessions(app, &admin, &laptop_id, console).await.unwrap(), 2);
    assert_eq!(signed_in_administrator(&tablet, app, None).await.unwrap(), None);
    assert_eq!(signed_in_administrator(&desk, app, None).await.unwrap(), None);
    assert_eq!(signed_in_administrator(&laptop, app, None).await.unwrap(), Some(admin.clone()), "this one goes on");
    assert!(signed_in_administrator(&other, app, None).await.unwrap().is_some(), "the other administrator's too");

    let ended: Vec<_> = app
        .store
        .administrator_events(&AdministratorEventFilter { event_type: Some(Kind::SessionsEnded), ..Default::default() })
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event.email, e.event.detail, e.event.remote_addr))
        .collect();
    let (admin_email, from) = (Some(ADMIN_EMAIL.to_owned()), Some("203.0.113.5".to_owned()));
    assert_eq!(
        ended,
        [
            (admin_email.clone(), Some("every other session (2)".to_owned()), from.clone()),
            (admin_email, Some("Safari on iOS, last used from 198.51.100.9".to_owned()), from),
        ],
        "newest first"
    );

    // A session unused for the idle time has ended and is not listed; housekeeping forgets it.
    clock.advance(state.app.deployment.console_idle + Duration::minutes(2));
    let (_, fresh_id) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, FIREFOX_ON_LINUX, [192, 0, 2, 7]).await;
    assert_eq!(ids(accounts::own_sessions(app, &admin, &fresh_id).await.unwrap()), std::slice::from_ref(&fresh_id));
    let idle = accounts::end_session(app, &admin, &fresh_id, &laptop_id, console).await;
    assert!(matches!(idle, Err(ServiceError::NotFound(_))), "an ended session is not ended again: {idle:?}");
    assert_eq!(accounts::end_other_sessions(app, &admin, &fresh_id, console).await.unwrap(), 0, "none signed in");
    assert_eq!(accounts::forget_ended_sessions(app, 100).await.unwrap(), 1, "the other administrator's");
    assert_eq!(signed_in_administrator(&laptop, app, None).await.unwrap(), None, "unused for too long");
    // A new password ends every session of the old one, and they are not listed either.
    accounts::set_password(app.store.as_ref(), app.clock.as_ref(), ADMIN_EMAIL, "Another-Passw0rd-2026").await.unwrap();
    assert!(accounts::own_sessions(app, &admin, &fresh_id).await.unwrap().is_empty());
}

/// A session signed in before sign-ins were kept apart holds its sign-in under another key: it
/// is asked to sign in again rather than failing.
#[tokio::test]
async fn a_session_of_before_is_signed_out() {
    let (state, _, _dir) = prepared().await;
    let sessions = app::console_sessions::ConsoleSessionStore::new(state.app.store.clone(), state.app.clock.clone());
    let session = tower_sessions::Session::new(None, Arc::new(sessions), None);
    let administrator = serde_json::json!({"id": "u1", "email": ADMIN_EMAIL});
    session.insert("sign_in", serde_json::json!({"administrator": administrator, "at": 0, "password_mark": "m"})).await.unwrap();
    assert_eq!(app::api::session::signed_in_administrator(&session, &state.app, None).await.unwrap(), None);
}

/// `onboard admin sign-out`: every session of the administrator ends, their password stays,
/// and the activity says the command line did it.
#[tokio::test]
async fn an_administrator_is_signed_out_everywhere_from_the_command_line() {
    use app::api::session::signed_in_administrator;
    let (state, _, _dir) = prepared().await;
    let app = &state.app;
    let (laptop, _) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, FIREFOX_ON_LINUX, [192, 0, 2, 7]).await;
    let (phone, _) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, SAFARI_ON_IOS, [198, 51, 100, 9]).await;
    let nobody = accounts::sign_out_everywhere(app.store.as_ref(), app.clock.as_ref(), "nobody@bank.example").await;
    assert!(matches!(nobody, Err(ServiceError::NotFound("administrator"))), "{nobody:?}");
    assert!(signed_in_administrator(&laptop, app, None).await.unwrap().is_some());

    let ended = accounts::sign_out_everywhere(app.store.as_ref(), app.clock.as_ref(), " Admin@Bank.Example ").await.unwrap();
    assert_eq!(ended, 2);
    assert_eq!(signed_in_administrator(&laptop, app, None).await.unwrap(), None);
    assert_eq!(signed_in_administrator(&phone, app, None).await.unwrap(), None);
    assert!(
        accounts::sign_in(app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await.is_ok(),
        "same password"
    );
    let recorded = app
        .store
        .administrator_events(&AdministratorEventFilter { event_type: Some(Kind::SessionsEnded), ..Default::default() })
        .await
        .unwrap();
    let recorded: Vec<_> = recorded.into_iter().map(|e| (e.event.email, e.event.actor, e.event.detail)).collect();
    assert_eq!(
        recorded,
        [(Some(ADMIN_EMAIL.to_owned()), Some(COMMAND_LINE_ACTOR.to_owned()), Some("every session (2)".to_owned()))]
    );
}

/// Signing in again in a browser that has a session replaces its sign-in: the earlier one is
/// not left behind in the list, and the session goes on under a new id.
#[tokio::test]
async fn signing_in_again_in_a_browser_ends_its_earlier_sign_in() {
    use app::api::session::{current_sign_in, record_sign_in};
    let (state, clock, _dir) = prepared().await;
    let app = &state.app;
    let (browser, first) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, FIREFOX_ON_LINUX, [192, 0, 2, 7]).await;
    let (_, other) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, SAFARI_ON_IOS, [198, 51, 100, 9]).await;
    clock.advance(Duration::minutes(1));
    let again = accounts::sign_in(app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    let client = accounts::SessionClient { address: Some([192, 0, 2, 7].into()), user_agent: FIREFOX_ON_LINUX.to_owned() };
    record_sign_in(app, &browser, &again, &client).await.unwrap();
    let second = current_sign_in(&browser, app, None).await.unwrap().unwrap();
    assert_ne!(second.id, first);
    let listed: Vec<_> =
        accounts::own_sessions(app, &second.administrator, &second.id).await.unwrap().into_iter().map(|s| s.id).collect();
    assert_eq!(listed, [second.id.clone(), other], "the first sign-in is gone");
    assert_eq!(app.store.console_sign_in(&first).await.unwrap(), None);
}

/// The Administrators page's list: every administrator by address, the one asking marked,
/// when each last signed in, how many sessions are signed in as them, and a lock in force.
#[tokio::test]
async fn administrators_are_listed_with_their_last_sign_in_sessions_and_lock() {
    use app::clock::Clock as _;
    let (state, clock, _dir) = prepared().await;
    let app = &state.app;
    let other_email = "ops@bank.example";
    accounts::create_administrator(app.store.as_ref(), app.clock.as_ref(), COMMAND_LINE_ACTOR, other_email, ADMIN_PASSWORD)
        .await
        .unwrap();
    let started = clock.now();
    clock.advance(Duration::minutes(5));
    let (laptop, _) = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, FIREFOX_ON_LINUX, [192, 0, 2, 7]).await;
    let _phone = session_from(&state, ADMIN_EMAIL, ADMIN_PASSWORD, SAFARI_ON_IOS, [198, 51, 100, 9]).await;
    let admin = app::api::session::signed_in_administrator(&laptop, app, None).await.unwrap().unwrap();
    for _ in 0..5 {
        let _ = accounts::sign_in(app, &accounts::SignInFrom::default(), other_email, "a wrong guess!", None).await;
    }

    let listed = accounts::administrators(app, Some(&admin)).await.unwrap();
    let seen: Vec<_> = listed
        .iter()
        .map(|a| (a.email.as_str(), a.you, a.last_signed_in_at, a.signed_in_sessions, a.locked_until.is_some()))
        .collect();
    assert_eq!(seen, [(ADMIN_EMAIL, true, Some(clock.now()), 2, false), (other_email, false, None, 0, true)], "by address");
    assert_eq!(listed[1].created_at, started);
    assert_eq!(listed[1].locked_until, Some(clock.now() + Duration::minutes(15)));
}

/// The administrator of sign-in `id`, while it counts.
async fn administrator_of(state: &app::state::AppState, id: &str) -> Option<app::domain::account::Administrator> {
    accounts::session_administrator(state, id, None).await.unwrap().map(|sign_in| sign_in.administrator)
}

/// The code an authenticator app set up with `secret` shows at `at`.
fn app_code(secret: &str, at: DateTime<chrono::Utc>) -> String {
    let step = u64::try_from(at.timestamp()).unwrap() / app::totp::STEP_SECONDS;
    app::totp::code_at(secret, step).unwrap()
}

/// Two-step sign-in is turned on with the password and a code from the app being set up;
/// then signing in needs a code, each code is accepted once, and wrong codes count towards
/// the lock. It is turned off with the password and a code, or reset on the command line.
/// The app's secret is stored sealed, and each change is in the activity.
#[tokio::test]
async fn once_two_step_sign_in_is_on_signing_in_needs_a_code_from_the_app() {
    use accounts::TwoStepChangeError;
    use app::clock::Clock as _;
    let (state, clock, _dir) = prepared().await;
    let (app, from) = (&state.app, accounts::SignInFrom::default());
    let signed_in = accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    let admin = signed_in.administrator.clone();
    let client = accounts::SessionClient::default();
    let this_session = accounts::open_session(app, &signed_in, &client).await.unwrap();
    let other_session = accounts::open_session(app, &signed_in, &client).await.unwrap();
    assert_eq!(accounts::two_step_status(app, &admin).await.unwrap().enabled_at, None);
    let (setup, pending) = accounts::new_two_step_setup(app, &admin).unwrap();
    let secret = setup.secret.replace(' ', "");
    assert!(setup.uri.starts_with("otpauth://totp/Onboard:admin%40bank.example?secret="), "{}", setup.uri);
    assert!(setup.uri.contains(&secret) && setup.qr_code.starts_with("data:image/svg+xml;base64,"));

    let enable_with = |pending: Option<accounts::PendingTwoStep>, password: &'static str, code: String| {
        let (admin, from, this_session) = (admin.clone(), from.clone(), this_session.clone());
        async move { accounts::enable_two_step(app, &admin, &this_session, &from, password, pending, &code).await }
    };
    let enable = |password: &'static str, code: String| enable_with(Some(pending.clone()), password, code);
    let unset = enable_with(None, ADMIN_PASSWORD, app_code(&secret, clock.now())).await;
    assert!(matches!(unset, Err(TwoStepChangeError::SetupExpired)), "the secret is the session's, none here: {unset:?}");
    let refused = enable("not my password", app_code(&secret, clock.now())).await;
    assert!(matches!(refused, Err(TwoStepChangeError::Password(SignInError::Invalid))), "{refused:?}");
    let later_code = app_code(&secret, clock.now() + Duration::minutes(5));
    assert!(matches!(enable(ADMIN_PASSWORD, later_code).await, Err(TwoStepChangeError::WrongSetupCode)));
    assert_eq!(
        accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, None).await.map(|s| s.administrator),
        Ok(admin.clone())
    );
    let enabling_code = app_code(&secret, clock.now());
    enable(ADMIN_PASSWORD, enabling_code.clone()).await.unwrap();
    assert!(matches!(enable(ADMIN_PASSWORD, app_code(&secret, clock.now())).await, Err(TwoStepChangeError::Already(_))));
    assert_eq!(accounts::two_step_status(app, &admin).await.unwrap().enabled_at, Some(clock.now()));
    // Sessions signed in with the password alone end; the one that turned it on goes on.
    assert_eq!(administrator_of(app, &other_session).await, None);
    assert_eq!(administrator_of(app, &this_session).await, Some(admin.clone()));
    let stored = app.store.admin_two_step(&admin.id).await.unwrap().unwrap();
    assert!(stored.secret_sealed.starts_with("sealed:v1:") && !stored.secret_sealed.contains(&secret), "sealed at rest");

    let sign_in = |code: Option<String>| {
        let from = from.clone();
        async move { accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, code.as_deref()).await }
    };
    assert_eq!(sign_in(None).await, Err(SignInError::CodeNeeded));
    assert_eq!(
        accounts::sign_in(app, &from, ADMIN_EMAIL, "not my password", Some(&enabling_code)).await,
        Err(SignInError::Invalid),
        "a code does not stand in for the password"
    );
    assert_eq!(sign_in(Some(enabling_code)).await, Err(SignInError::WrongCode), "the enabling code is used");
    clock.advance(Duration::seconds(30));
    let code = app_code(&secret, clock.now());
    assert_eq!(sign_in(Some(code.clone())).await.map(|s| s.administrator), Ok(admin.clone()));
    assert_eq!(sign_in(Some(code)).await, Err(SignInError::WrongCode), "once");
    // A phone's clock half a minute off still signs in.
    clock.advance(Duration::seconds(30));
    assert!(sign_in(Some(app_code(&secret, clock.now() + Duration::seconds(30)))).await.is_ok());

    // Wrong codes count towards the lock, as wrong passwords do.
    clock.advance(Duration::minutes(2));
    for _ in 0..4 {
        assert_eq!(sign_in(Some(app_code(&secret, clock.now() + Duration::minutes(10)))).await, Err(SignInError::WrongCode));
    }
    let fifth = sign_in(Some(app_code(&secret, clock.now() - Duration::minutes(10)))).await;
    assert!(matches!(fifth, Err(SignInError::Locked { .. })), "{fifth:?}");
    assert!(matches!(sign_in(Some(app_code(&secret, clock.now()))).await, Err(SignInError::Locked { .. })));
    clock.advance(Duration::minutes(16));

    let disable = |code: String| {
        let (admin, from) = (admin.clone(), from.clone());
        async move { accounts::disable_two_step(app, &admin, &from, ADMIN_PASSWORD, &code).await }
    };
    assert!(matches!(disable(app_code(&secret, clock.now() + Duration::minutes(5))).await, Err(TwoStepChangeError::WrongCode)));
    disable(app_code(&secret, clock.now())).await.unwrap();
    assert_eq!(sign_in(None).await.map(|s| s.administrator), Ok(admin.clone()), "the password alone again");

    // On again (the key shown earlier has expired: a new one), then reset from the command
    // line, as for a lost phone.
    clock.advance(Duration::seconds(30));
    assert!(matches!(enable(ADMIN_PASSWORD, app_code(&secret, clock.now())).await, Err(TwoStepChangeError::SetupExpired)));
    let (again, pending) = accounts::new_two_step_setup(app, &admin).unwrap();
    assert_ne!(again.secret, setup.secret, "a fresh secret");
    let code = app_code(&again.secret.replace(' ', ""), clock.now());
    enable_with(Some(pending), ADMIN_PASSWORD, code).await.unwrap();
    let (store, cli_clock) = (app.store.as_ref(), app.clock.as_ref());
    assert!(accounts::reset_two_step(store, cli_clock, " Admin@Bank.Example ").await.unwrap());
    assert!(!accounts::reset_two_step(store, cli_clock, ADMIN_EMAIL).await.unwrap(), "off already");
    assert!(accounts::reset_two_step(store, cli_clock, "nobody@bank.example").await.is_err());
    assert!(sign_in(None).await.is_ok());

    let changes: Vec<_> = app
        .store
        .administrator_events(&AdministratorEventFilter::default())
        .await
        .unwrap()
        .into_iter()
        .rev()
        .filter(|e| matches!(e.event.event_type, Kind::TwoStepEnabled | Kind::TwoStepDisabled))
        .map(|e| (e.event.event_type, e.event.email, e.event.actor, e.event.detail))
        .collect();
    let email = Some(ADMIN_EMAIL.to_owned());
    assert_eq!(
        changes,
        [
            (Kind::TwoStepEnabled, email.clone(), None, Some("authenticator app; other sessions signed out".to_owned())),
            (Kind::TwoStepDisabled, email.clone(), None, Some("from their account page".to_owned())),
            (Kind::TwoStepEnabled, email.clone(), None, Some("authenticator app; other sessions signed out".to_owned())),
            (Kind::TwoStepDisabled, email, Some(COMMAND_LINE_ACTOR.to_owned()), Some("reset on the command line".to_owned())),
        ]
    );
}

/// The administrator signed in, with two-step sign-in turned on; the app's secret.
async fn two_step_turned_on(state: &onboard::state::ServerState, clock: &FixedClock) -> String {
    use app::clock::Clock as _;
    let (app, from) = (&state.app, accounts::SignInFrom::default());
    let signed_in = accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    let session = accounts::open_session(app, &signed_in, &accounts::SessionClient::default()).await.unwrap();
    let (setup, pending) = accounts::new_two_step_setup(app, &signed_in.administrator).unwrap();
    let secret = setup.secret.replace(' ', "");
    let code = app_code(&secret, clock.now());
    let recovery_codes =
        accounts::enable_two_step(app, &signed_in.administrator, &session, &from, ADMIN_PASSWORD, Some(pending), &code)
            .await
            .unwrap();
    assert_eq!(recovery_codes.len(), app::recovery_codes::COUNT);
    secret
}

/// Wrong codes in a row block two-step sign-in for good, beyond the address's lock (which
/// forgets at every right password): whoever gives them knows the password. The block is in
/// the activity, and only an operator's reset lifts it. The last try before the address's
/// lock, answered with a request for the code, locks it as a failure would, recorded.
#[tokio::test]
async fn ten_wrong_codes_in_a_row_block_two_step_sign_in_until_an_operator_resets_it() {
    use app::clock::Clock as _;
    let (state, clock, _dir) = prepared().await;
    let (app, from) = (&state.app, accounts::SignInFrom::default());
    let secret = two_step_turned_on(&state, &clock).await;
    let sign_in = |code: Option<String>| {
        let from = from.clone();
        async move { accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, code.as_deref()).await }
    };

    // Four asks for the code, then the fifth locks the address.
    for _ in 0..4 {
        assert_eq!(sign_in(None).await, Err(SignInError::CodeNeeded));
    }
    assert!(matches!(sign_in(None).await, Err(SignInError::Locked { .. })));
    clock.advance(Duration::minutes(16));
    let mut answers = Vec::new();
    while answers.len() < 12 {
        match sign_in(Some(app_code(&secret, clock.now() + Duration::minutes(10)))).await {
            Err(SignInError::Locked { .. }) => clock.advance(Duration::minutes(16)),
            answer => answers.push(answer),
        }
    }
    let blocked = answers.iter().position(|answer| *answer == Err(SignInError::TwoStepBlocked)).unwrap();
    // The fifth wrong code was answered with the address's lock (not listed): the tenth blocks.
    assert_eq!(blocked, 8, "the tenth wrong code blocks: {answers:?}");
    assert!(answers[..8].iter().all(|answer| *answer == Err(SignInError::WrongCode)), "{answers:?}");
    assert!(answers[8..].iter().all(|answer| *answer == Err(SignInError::TwoStepBlocked)), "{answers:?}");
    clock.advance(Duration::minutes(16));
    assert_eq!(sign_in(Some(app_code(&secret, clock.now()))).await, Err(SignInError::TwoStepBlocked), "the right code too");

    let locks: Vec<_> = settled_locks(&state, 3).await;
    assert_eq!(locks.len(), 3, "{locks:?}");
    assert_eq!(locks[0], None, "the address locked at the fifth ask for the code");
    assert_eq!(locks[1].as_deref(), Some("the password was right, the two-step code was not"), "then at the fifth wrong code");
    assert!(locks[2].as_deref().is_some_and(|detail| detail.contains("blocked after 10 wrong codes")), "{locks:?}");

    let roster = accounts::administrators(app, None).await.unwrap();
    assert_eq!(roster[0].two_step, app::domain::account::TwoStepState::Blocked, "the Administrators page says so");

    assert!(accounts::reset_two_step(app.store.as_ref(), app.clock.as_ref(), ADMIN_EMAIL).await.unwrap());
    clock.advance(Duration::minutes(16));
    assert!(sign_in(None).await.is_ok(), "the password alone after the reset");
    assert_eq!(accounts::administrators(app, None).await.unwrap()[0].two_step, app::domain::account::TwoStepState::Off);
}

/// The details of the `sign_in_locked` events, oldest first, once there are `count`: they are
/// recorded in the background.
async fn settled_locks(state: &onboard::state::ServerState, count: usize) -> Vec<Option<String>> {
    for _ in 0..250 {
        let events = state.app.store.administrator_events(&AdministratorEventFilter::default()).await.unwrap();
        let locks: Vec<_> =
            events.into_iter().rev().filter(|e| e.event.event_type == Kind::SignInLocked).map(|e| e.event.detail).collect();
        if locks.len() >= count {
            return locks;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Vec::new()
}

/// Sign-ins presenting the same code at once: exactly one gets in, however they interleave (a
/// step's code is used by one atomic write).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_code_presented_at_once_signs_in_once() {
    use app::clock::Clock as _;
    let (state, clock, _dir) = prepared().await;
    let app = &state.app;
    let secret = two_step_turned_on(&state, &clock).await;
    clock.advance(Duration::seconds(30));
    let code = app_code(&secret, clock.now());
    let attempts: Vec<_> = (0..4)
        .map(|_| {
            let (app, code) = (app.clone(), code.clone());
            tokio::spawn(async move {
                accounts::sign_in(&app, &accounts::SignInFrom::default(), ADMIN_EMAIL, ADMIN_PASSWORD, Some(&code)).await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for attempt in attempts {
        answers.push(attempt.await.unwrap());
    }
    assert_eq!(answers.iter().filter(|answer| answer.is_ok()).count(), 1, "{answers:?}");
    assert!(answers.iter().filter(|answer| answer.is_err()).all(|answer| *answer == Err(SignInError::WrongCode)), "{answers:?}");
}

/// A sign-in checked without a code just before two-step sign-in is turned on (its password
/// right, the setting still off) does not get a session: recorded after the turning on, it is
/// taken back and the code asked for; recorded before, turning it on ends it. A new password
/// needs the code too, so a session that never gave one gets none by changing the password.
#[tokio::test]
async fn a_sign_in_racing_two_step_being_turned_on_gets_no_session() {
    use app::api::session::{SessionError, current_sign_in, record_sign_in, signed_in_administrator};
    use app::clock::Clock as _;
    let (state, clock, _dir) = prepared().await;
    let (app, from) = (&state.app, accounts::SignInFrom::default());
    let client = accounts::SessionClient::default();
    let new_session = || {
        let sessions = app::console_sessions::ConsoleSessionStore::new(app.store.clone(), app.clock.clone());
        tower_sessions::Session::new(None, Arc::new(sessions), None)
    };

    // Checked while two-step sign-in was off, recorded before it is turned on elsewhere.
    let early = accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    assert!(!early.passed_two_step);
    let early_session = new_session();
    record_sign_in(app, &early_session, &early, &client).await.unwrap();
    // Checked while it was off, recorded after it was turned on.
    let late = accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    let secret = two_step_turned_on(&state, &clock).await;
    assert_eq!(signed_in_administrator(&early_session, app, None).await.unwrap(), None, "ended by turning it on");
    let late_session = new_session();
    let refused = record_sign_in(app, &late_session, &late, &client).await;
    assert!(matches!(refused, Err(SessionError::TwoStepTurnedOn)), "{refused:?}");
    assert_eq!(current_sign_in(&late_session, app, None).await.unwrap(), None);
    // The activity recorded the sign-in when its password was checked; it says it was taken back.
    let events = app.store.administrator_events(&AdministratorEventFilter::default()).await.unwrap();
    let latest = &events[0].event;
    assert_eq!((latest.event_type, latest.outcome), (Kind::SignInRefused, Outcome::Failure));
    assert!(latest.detail.as_deref().is_some_and(|detail| detail.contains("taken back")), "{latest:?}");
    let admin = late.administrator.clone();
    let listed = accounts::own_sessions(app, &admin, "").await.unwrap();
    assert_eq!(listed.len(), 1, "only the session that turned it on: {listed:?}");

    // A new password, asked for by a session that never gave a code (its request began before
    // two-step sign-in was turned on), needs the code: the password alone gets no session.
    let new_password = "Another-Passw0rd-For-Testing!";
    let change = |code: Option<String>| {
        let (admin, from) = (admin.clone(), from.clone());
        async move { accounts::change_own_password(app, &admin, &from, ADMIN_PASSWORD, code.as_deref(), new_password).await }
    };
    assert!(matches!(change(None).await, Err(accounts::PasswordChangeError::Current(SignInError::CodeNeeded))));
    clock.advance(Duration::seconds(30));
    let wrong = change(Some(app_code(&secret, clock.now() + Duration::minutes(5)))).await;
    assert!(matches!(wrong, Err(accounts::PasswordChangeError::Current(SignInError::WrongCode))), "{wrong:?}");

    // With the code, a session; a new password changed in it, with a code, keeps it.
    let code = app_code(&secret, clock.now());
    let with_code = accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, Some(&code)).await.unwrap();
    assert!(with_code.passed_two_step);
    let session = new_session();
    record_sign_in(app, &session, &with_code, &client).await.unwrap();
    clock.advance(Duration::seconds(30));
    let changed = change(Some(app_code(&secret, clock.now()))).await.unwrap();
    assert!(changed.passed_two_step);
    record_sign_in(app, &session, &changed, &client).await.unwrap();
    assert_eq!(signed_in_administrator(&session, app, None).await.unwrap(), Some(admin));
}

/// Turning two-step sign-in on gives ten recovery codes: each signs in once in place of the
/// app's code (typed in any case, with spaces), recorded as such; a wrong one counts as a wrong
/// code. New codes, made with the password and a code, replace them all; turning two-step
/// sign-in off with one (a lost phone) takes the rest away.
#[tokio::test]
async fn a_recovery_code_signs_in_once_in_place_of_the_apps_code() {
    use app::clock::Clock as _;
    let (state, clock, _dir) = prepared().await;
    let (app, from) = (&state.app, accounts::SignInFrom::default());
    let signed_in = accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, None).await.unwrap();
    let admin = signed_in.administrator.clone();
    let session = accounts::open_session(app, &signed_in, &accounts::SessionClient::default()).await.unwrap();
    let (setup, pending) = accounts::new_two_step_setup(app, &admin).unwrap();
    let secret = setup.secret.replace(' ', "");
    let codes =
        accounts::enable_two_step(app, &admin, &session, &from, ADMIN_PASSWORD, Some(pending), &app_code(&secret, clock.now()))
            .await
            .unwrap();
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    assert!(codes.iter().all(|code| app::recovery_codes::normalised(code).is_some()), "{codes:?}");
    let left = || async { accounts::two_step_status(app, &admin).await.unwrap().recovery_codes_left };
    assert_eq!(left().await, 10);
    let stored = app.store.admin_two_step(&admin.id).await.unwrap().unwrap();
    assert!(!format!("{stored:?}").contains(&codes[0]), "only hashes are stored");

    let sign_in = |code: String| {
        let from = from.clone();
        async move { accounts::sign_in(app, &from, ADMIN_EMAIL, ADMIN_PASSWORD, Some(&code)).await }
    };
    let typed = codes[0].to_uppercase().replace('-', " ");
    let with_recovery = sign_in(typed).await.unwrap();
    assert!(with_recovery.passed_two_step);
    assert_eq!(sign_in(codes[0].clone()).await, Err(SignInError::WrongCode), "once");
    assert_eq!(app.store.admin_two_step(&admin.id).await.unwrap().unwrap().failed_codes, 1, "counted as a wrong code");
    assert_eq!(sign_in("0000-0000-0000-0000".to_owned()).await, Err(SignInError::WrongCode));
    assert_eq!(left().await, 9);
    let details = |kind: Kind| async move {
        let events = app.store.administrator_events(&AdministratorEventFilter::default()).await.unwrap();
        events.into_iter().filter(|e| e.event.event_type == kind).filter_map(|e| e.event.detail).collect::<Vec<_>>()
    };
    assert_eq!(details(Kind::SignedIn).await, ["with a recovery code in place of the app's; 9 left"], "recorded as such");

    // New codes, with the password and a code from the app; the old ones no longer work.
    clock.advance(Duration::seconds(30));
    let refused = accounts::replace_recovery_codes(app, &admin, &from, ADMIN_PASSWORD, "0000-0000-0000-0000").await;
    assert!(matches!(refused, Err(accounts::TwoStepChangeError::WrongCode)), "{refused:?}");
    let new_codes =
        accounts::replace_recovery_codes(app, &admin, &from, ADMIN_PASSWORD, &app_code(&secret, clock.now())).await.unwrap();
    assert_eq!(left().await, 10);
    assert!(new_codes.iter().all(|code| !codes.contains(code)));
    assert_eq!(sign_in(codes[1].clone()).await, Err(SignInError::WrongCode), "replaced");
    assert!(sign_in(new_codes[0].clone()).await.is_ok());

    // A lost phone: off with a recovery code, and the others go with it.
    accounts::disable_two_step(app, &admin, &from, ADMIN_PASSWORD, &new_codes[1]).await.unwrap();
    assert_eq!(accounts::two_step_status(app, &admin).await.unwrap().enabled_at, None);
    assert_eq!(left().await, 0);
    let (again, pending) = accounts::new_two_step_setup(app, &admin).unwrap();
    let again_secret = again.secret.replace(' ', "");
    clock.advance(Duration::seconds(30));
    let code = app_code(&again_secret, clock.now());
    accounts::enable_two_step(app, &admin, &session, &from, ADMIN_PASSWORD, Some(pending), &code).await.unwrap();
    assert_eq!(sign_in(new_codes[2].clone()).await, Err(SignInError::WrongCode), "gone with the old app");
    assert_eq!(details(Kind::RecoveryCodesReplaced).await, ["the earlier ones no longer work"]);
}
