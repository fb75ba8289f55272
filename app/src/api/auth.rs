//! Signing in and out of the console.

use leptos::prelude::*;

use crate::domain::account::Administrator;
use crate::domain::console_session::SessionTimeLeft;

/// Where to go after signing in: only a console path, never another site, and nothing that
/// cannot stand in a `Location` header as it is.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with("/app/")
                && !path.starts_with("/app/login")
                && !path.contains("//")
                && !path.contains('\\')
                && path.bytes().all(|byte| byte.is_ascii_graphic()) =>
        {
            path
        }
        _ => "/app",
    }
}

#[server(prefix = "/app/fn", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String, code: Option<String>, next: Option<String>) -> Result<(), ServerFnError> {
    use crate::api::errors::{internal, invalid, refused};
    use crate::api::session::{SessionError, app_state, record_sign_in, session, session_client, sign_in_from, trust_browser};
    use crate::services::accounts::{self, SignInError};
    let state = app_state()?;
    match accounts::sign_in(&state, &sign_in_from(), &email, &password, code.as_deref()).await {
        Ok(signed_in) => {
            trust_browser(&signed_in.device);
            match record_sign_in(&state, &session().await?, &signed_in, &session_client()).await {
                Ok(()) => {}
                // Turned on while the password was checked: the code is asked for, as it now is.
                Err(SessionError::TwoStepTurnedOn) => {
                    return Err(refused(axum::http::StatusCode::UNAUTHORIZED, super::CODE_NEEDED));
                }
                Err(other) => return Err(internal(other)),
            }
            tracing::info!(administrator = %signed_in.administrator.email, "signed in to the console");
            // One who must set up two-step sign-in first can do nothing else: to where they do.
            let must_set_up = accounts::must_set_up_two_step(&state, &signed_in.administrator).await;
            leptos_axum::redirect(if matches!(must_set_up, Ok(true)) { "/app/account" } else { safe_next(next.as_deref()) });
            Ok(())
        }
        Err(SignInError::Internal(detail)) => Err(internal(detail)),
        Err(held_off @ (SignInError::Locked { .. } | SignInError::TooFrequent { .. })) => {
            Err(refused(axum::http::StatusCode::TOO_MANY_REQUESTS, held_off.to_string()))
        }
        Err(SignInError::CodeNeeded) => Err(refused(axum::http::StatusCode::UNAUTHORIZED, super::CODE_NEEDED)),
        Err(blocked @ SignInError::TwoStepBlocked) => Err(refused(axum::http::StatusCode::FORBIDDEN, blocked.to_string())),
        Err(refusal) => Err(invalid(refusal.to_string())),
    }
}

#[server(prefix = "/app/fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    use crate::api::errors::internal;
    use crate::api::session::{app_state, caller, current_sign_in, session};
    let (state, session) = (app_state()?, session().await?);
    // Who it was, for the activity; not knowing (the database failing) does not stop the sign-out.
    let sign_in = current_sign_in(&session, &state, caller()).await.unwrap_or_else(|error| {
        tracing::warn!(%error, "signing out a session whose administrator could not be looked up; not recorded");
        None
    });
    if let Some(sign_in) = sign_in {
        crate::services::accounts::signed_out(&state, &sign_in.administrator, &sign_in.id, caller()).await;
    }
    session.flush().await.map_err(internal)?;
    leptos_axum::redirect("/app/login");
    Ok(())
}

/// The signed-in administrator gives their password again, as a sensitive change asks once
/// `--console-confirm-minutes` have passed since they last did ([`super::CONFIRMATION_NEEDED`]).
/// Checked as at sign-in, against the same limits; a wrong one is refused as a sign-in is.
#[server(prefix = "/app/fn", endpoint = "confirm_password")]
pub async fn confirm_password(password: String) -> Result<(), ServerFnError> {
    use crate::api::errors::{internal, invalid, refused};
    use crate::api::session::{app_state, require_sign_in, session, sign_in_from, trust_browser};
    use crate::services::accounts::{self, SignInError};
    let sign_in = require_sign_in().await?;
    let state = app_state()?;
    match accounts::confirm_password(&state, &sign_in.id, &sign_in.administrator, &sign_in_from(), &password).await {
        Ok(confirmed) => {
            trust_browser(&confirmed.device);
            if !confirmed.still_signed_in {
                return Err(refused(axum::http::StatusCode::UNAUTHORIZED, super::SESSION_ENDED));
            }
            // A new session id, as at sign-in: a copy of the cookie taken before gains nothing.
            session().await?.cycle_id().await.map_err(internal)?;
            Ok(())
        }
        Err(SignInError::Internal(detail)) => Err(internal(detail)),
        Err(held_off @ (SignInError::Locked { .. } | SignInError::TooFrequent { .. })) => {
            Err(refused(axum::http::StatusCode::TOO_MANY_REQUESTS, held_off.to_string()))
        }
        Err(SignInError::Invalid) => Err(invalid("password: that is not your password")),
        Err(refusal) => Err(invalid(refusal.to_string())),
    }
}

/// How long a password given in a session lets it make sensitive changes
/// (`--console-confirm-minutes`), for the dialog that asks for it again to say.
#[server(prefix = "/app/fn", endpoint = "password_confirmation_minutes")]
pub async fn password_confirmation_minutes() -> Result<i64, ServerFnError> {
    crate::api::session::require_sign_in().await?;
    Ok(crate::api::session::app_state()?.deployment.console_confirm.num_minutes())
}

#[server(prefix = "/app/fn", endpoint = "current_administrator")]
pub async fn current_administrator() -> Result<Administrator, ServerFnError> {
    // The top bar's address: shown while two-step sign-in is being set up too.
    Ok(crate::api::session::require_sign_in_to_set_up().await?.administrator)
}

/// How long this session has left unless used, so a page can warn before it ends. Asking is
/// no use of the session: it does not keep it signed in. 401 once it has ended.
#[server(prefix = "/app/fn", endpoint = "session_remaining")]
pub async fn session_remaining() -> Result<SessionTimeLeft, ServerFnError> {
    crate::api::session::require_time_left().await
}

/// Keeps this session signed in (a use of it, as any other request is) and says how long it
/// now has. 401 once it has ended.
#[server(prefix = "/app/fn", endpoint = "stay_signed_in")]
pub async fn stay_signed_in() -> Result<SessionTimeLeft, ServerFnError> {
    crate::api::session::require_sign_in_to_set_up().await?;
    crate::api::session::require_time_left().await
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_console_paths_are_followed() {
        assert_eq!(safe_next(Some("/app/default/workspaces")), "/app/default/workspaces");
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/app//evil.example",
            "/app/\\evil",
            "/api/admin",
            "/app/login",
            "/app/x\n",
            "/app/a b",
            "/app/é",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/app", "{hostile}");
        }
        assert_eq!(safe_next(None), "/app");
    }
}
