//! Console administrators: creation rules, sign-in, and the lock after repeated failures,
//! with a fixed clock.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod support;

use std::sync::Arc;

use app::clock::FixedClock;
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
    let admin = accounts::sign_in(&state.app, " Admin@Bank.Example ", ADMIN_PASSWORD).await.unwrap();
    assert_eq!(admin.email, ADMIN_EMAIL);
    assert_eq!(accounts::sign_in(&state.app, ADMIN_EMAIL, "wrong password!").await, Err(SignInError::Invalid));
    assert_eq!(accounts::sign_in(&state.app, "nobody@bank.example", ADMIN_PASSWORD).await, Err(SignInError::Invalid));
    let stored = state.app.store.admin_user_by_email(ADMIN_EMAIL).await.unwrap().unwrap();
    assert!(stored.password_hash.starts_with("$argon2id$"), "argon2id, never the password");
}

#[tokio::test]
async fn administrators_need_an_address_and_a_long_password() {
    let (state, _, _dir) = prepared().await;
    let field = |result: Result<_, ServiceError>| match result {
        Err(ServiceError::Invalid(error)) => error.field,
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(field(accounts::create_administrator(&state.app, "not-an-address", "long enough password").await), "email");
    assert_eq!(field(accounts::create_administrator(&state.app, "ops@bank.example", "short").await), "password");
    let duplicate = accounts::create_administrator(&state.app, ADMIN_EMAIL, "another long password").await;
    assert!(matches!(duplicate, Err(ServiceError::Conflict(_))));
}

#[tokio::test]
async fn five_failures_lock_the_account_for_fifteen_minutes() {
    let (state, clock, _dir) = prepared().await;
    for _ in 0..4 {
        assert_eq!(accounts::sign_in(&state.app, ADMIN_EMAIL, "wrong password!").await, Err(SignInError::Invalid));
    }
    assert_eq!(accounts::sign_in(&state.app, ADMIN_EMAIL, "wrong password!").await, Err(SignInError::Locked { minutes: 15 }));
    // Locked: even the right password is refused.
    clock.advance(Duration::minutes(10));
    assert_eq!(accounts::sign_in(&state.app, ADMIN_EMAIL, ADMIN_PASSWORD).await, Err(SignInError::Locked { minutes: 5 }));
    clock.advance(Duration::minutes(6));
    assert!(accounts::sign_in(&state.app, ADMIN_EMAIL, ADMIN_PASSWORD).await.is_ok());
    // A success resets the count.
    for _ in 0..4 {
        assert_eq!(accounts::sign_in(&state.app, ADMIN_EMAIL, "wrong password!").await, Err(SignInError::Invalid));
    }
    assert!(accounts::sign_in(&state.app, ADMIN_EMAIL, ADMIN_PASSWORD).await.is_ok());
}
