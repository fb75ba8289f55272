//! The signed-in administrator's own account: their sessions, and changing their password.

use leptos::prelude::*;

use crate::domain::console_session::OwnSession;

/// Replaces the signed-in administrator's password: `current_password` proves it is them (a
/// sign-in attempt like any other), with a `code` if they sign in in two steps; `new_password`
/// twice. Every other session of theirs ends; this one goes on under a new id.
#[server(prefix = "/app/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    code: Option<String>,
    new_password: String,
    confirm_password: String,
) -> Result<(), ServerFnError> {
    use crate::api::errors::{internal, invalid, refused, user_error};
    use crate::api::session::{
        SessionError, app_state, record_sign_in, require_administrator, session, session_client, sign_in_from, trust_browser,
    };
    use crate::services::accounts::{self, PasswordChangeError, SignInError};
    let administrator = require_administrator().await?;
    if new_password != confirm_password {
        return Err(invalid("confirm_password: does not match the new password"));
    }
    let state = app_state()?;
    let code = code.as_deref().filter(|code| !code.trim().is_empty());
    match accounts::change_own_password(&state, &administrator, &sign_in_from(), &current_password, code, &new_password).await {
        Ok(signed_in) => {
            trust_browser(&signed_in.device);
            tracing::info!(administrator = %administrator.email, "changed their console password");
            match record_sign_in(&state, &session().await?, &signed_in, &session_client()).await {
                Ok(()) => Ok(()),
                Err(SessionError::TwoStepTurnedOn) => Err(refused(
                    axum::http::StatusCode::UNAUTHORIZED,
                    "Your password was changed. Two-step sign-in was turned on meanwhile: sign in again with the new \
                     password and a code from your authenticator app.",
                )),
                Err(error) => {
                    tracing::error!(%error, "a new password was set, but the session it was set in could not go on");
                    Err(refused(
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "Your password was changed, but this session could not go on: sign in again with the new one.",
                    ))
                }
            }
        }
        Err(PasswordChangeError::Current(SignInError::Invalid)) => Err(invalid("current_password: that is not your password")),
        Err(PasswordChangeError::Current(SignInError::CodeNeeded)) => {
            Err(invalid("code: enter the code from your authenticator app (two-step sign-in is on)"))
        }
        Err(PasswordChangeError::Current(wrong @ SignInError::WrongCode)) => Err(invalid(format!("code: {wrong}"))),
        Err(PasswordChangeError::Current(blocked @ SignInError::TwoStepBlocked)) => {
            Err(refused(axum::http::StatusCode::FORBIDDEN, format!("code: {blocked}")))
        }
        Err(PasswordChangeError::Current(SignInError::Internal(detail))) => Err(internal(detail)),
        Err(PasswordChangeError::Current(held_off)) => {
            Err(refused(axum::http::StatusCode::TOO_MANY_REQUESTS, format!("current_password: {held_off}")))
        }
        Err(PasswordChangeError::New(error)) => Err(user_error(error)),
    }
}

/// The signed-in administrator's sessions, the most recently used first; the one asking is
/// marked as current.
#[server(prefix = "/app/fn", endpoint = "own_sessions")]
pub async fn own_sessions() -> Result<Vec<OwnSession>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_sign_in_to_set_up};
    // A read of the account page, shown while two-step sign-in is being set up too.
    let sign_in = require_sign_in_to_set_up().await?;
    crate::services::accounts::own_sessions(&app_state()?, &sign_in.administrator, &sign_in.id).await.map_err(user_error)
}

/// Ends another session of the signed-in administrator's, by the id of its sign-in as
/// [`own_sessions`] lists it (not the session's own id, which is a secret of its browser); it
/// is signed out at its next request.
#[server(prefix = "/app/fn", endpoint = "end_session")]
pub async fn end_session(sign_in_id: String) -> Result<(), ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, caller, require_sign_in};
    let sign_in = require_sign_in().await?;
    let state = app_state()?;
    crate::services::accounts::end_session(&state, &sign_in.administrator, &sign_in.id, &sign_in_id, caller())
        .await
        .map_err(user_error)
}

/// Ends every session of the signed-in administrator's but this one; returns how many ended.
#[server(prefix = "/app/fn", endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, caller, require_sign_in};
    let sign_in = require_sign_in().await?;
    let state = app_state()?;
    crate::services::accounts::end_other_sessions(&state, &sign_in.administrator, &sign_in.id, caller()).await.map_err(user_error)
}
