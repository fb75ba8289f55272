//! The signed-in administrator's two-step sign-in: whether it is on, setting up an
//! authenticator app, turning it on or off, and its recovery codes.

use leptos::prelude::*;

use crate::domain::account::{TwoStepSetup, TwoStepStatus};

/// Whether the signed-in administrator signs in in two steps.
#[server(prefix = "/app/fn", endpoint = "two_step_sign_in")]
pub async fn two_step_sign_in() -> Result<TwoStepStatus, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_sign_in_to_set_up};
    let administrator = require_sign_in_to_set_up().await?.administrator;
    crate::services::accounts::two_step_status(&app_state()?, &administrator).await.map_err(user_error)
}

/// A fresh secret for the signed-in administrator's authenticator app; nothing is stored
/// until [`enable_two_step`] gets a code from it.
#[server(prefix = "/app/fn", endpoint = "new_two_step_setup")]
pub async fn new_two_step_setup() -> Result<TwoStepSetup, ServerFnError> {
    use crate::api::errors::{internal, user_error};
    use crate::api::session::{app_state, require_sign_in_to_set_up, session};
    let administrator = require_sign_in_to_set_up().await?.administrator;
    let (setup, pending) = crate::services::accounts::new_two_step_setup(&app_state()?, &administrator).map_err(user_error)?;
    session().await?.insert(TWO_STEP_SETUP, pending).await.map_err(internal)?;
    Ok(setup)
}

/// The session key of the secret being set up ([`new_two_step_setup`]).
#[cfg(feature = "ssr")]
const TWO_STEP_SETUP: &str = "two_step_setup";

/// Turns two-step sign-in on with the secret this session set up ([`new_two_step_setup`]) and a
/// `code` the app shows, the `password` proving it is the administrator. Answers the recovery
/// codes, shown this once.
#[server(prefix = "/app/fn", endpoint = "enable_two_step")]
pub async fn enable_two_step(password: String, code: String) -> Result<Vec<String>, ServerFnError> {
    use crate::api::errors::internal;
    use crate::api::session::{app_state, require_sign_in_to_set_up, session, sign_in_from};
    let sign_in = require_sign_in_to_set_up().await?;
    let (state, administrator, session) = (app_state()?, sign_in.administrator, session().await?);
    // One that cannot be read is as none: set up again.
    let pending = session.get(TWO_STEP_SETUP).await.ok().flatten();
    let recovery_codes = crate::services::accounts::enable_two_step(
        &state,
        &administrator,
        &sign_in.id,
        &sign_in_from(),
        &password,
        pending,
        &code,
    )
    .await
    .map_err(change_refused)?;
    session.remove::<crate::services::accounts::PendingTwoStep>(TWO_STEP_SETUP).await.map_err(internal)?;
    tracing::info!(administrator = %administrator.email, "turned two-step sign-in on");
    Ok(recovery_codes)
}

/// Replaces the signed-in administrator's recovery codes, with the `password` and a `code`.
/// Answers the new ones, shown this once.
#[server(prefix = "/app/fn", endpoint = "new_recovery_codes")]
pub async fn new_recovery_codes(password: String, code: String) -> Result<Vec<String>, ServerFnError> {
    use crate::api::session::{app_state, require_administrator, sign_in_from};
    let administrator = require_administrator().await?;
    let state = app_state()?;
    let recovery_codes =
        crate::services::accounts::replace_recovery_codes(&state, &administrator, &sign_in_from(), &password, &code)
            .await
            .map_err(change_refused)?;
    tracing::info!(administrator = %administrator.email, "made new two-step recovery codes");
    Ok(recovery_codes)
}

/// Turns two-step sign-in off, with the `password` and a `code` from the app.
#[server(prefix = "/app/fn", endpoint = "disable_two_step")]
pub async fn disable_two_step(password: String, code: String) -> Result<(), ServerFnError> {
    use crate::api::session::{app_state, require_administrator, sign_in_from};
    let administrator = require_administrator().await?;
    let state = app_state()?;
    crate::services::accounts::disable_two_step(&state, &administrator, &sign_in_from(), &password, &code)
        .await
        .map_err(change_refused)?;
    tracing::info!(administrator = %administrator.email, "turned two-step sign-in off");
    Ok(())
}

/// What the account page shows of a refused change, at its field.
#[cfg(feature = "ssr")]
fn change_refused(error: crate::services::accounts::TwoStepChangeError) -> ServerFnError {
    use axum::http::StatusCode;

    use crate::api::errors::{internal, invalid, refused, user_error};
    use crate::services::accounts::{SignInError, TwoStepChangeError};
    match error {
        TwoStepChangeError::Password(SignInError::Internal(detail)) => internal(detail),
        TwoStepChangeError::Password(held_off @ (SignInError::Locked { .. } | SignInError::TooFrequent { .. })) => {
            refused(StatusCode::TOO_MANY_REQUESTS, format!("password: {held_off}"))
        }
        TwoStepChangeError::Password(_) => invalid("password: that is not your password"),
        wrong @ (TwoStepChangeError::WrongCode | TwoStepChangeError::WrongSetupCode) => invalid(format!("code: {wrong}")),
        TwoStepChangeError::Blocked => refused(StatusCode::FORBIDDEN, format!("code: {}", TwoStepChangeError::Blocked)),
        TwoStepChangeError::SetupExpired => refused(StatusCode::CONFLICT, format!("code: {}", TwoStepChangeError::SetupExpired)),
        TwoStepChangeError::Already(what) => refused(StatusCode::CONFLICT, what),
        TwoStepChangeError::Service(error) => user_error(error),
    }
}
