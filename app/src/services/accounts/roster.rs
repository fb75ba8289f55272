//! The roster of administrators (the console's Administrators page, the admin API's
//! `/administrators`): every administrator, when they last signed in, how many sessions are
//! signed in as them now, whether they sign in in two steps (with how many recovery codes
//! left), and whether sign-in as their address is locked. Read-only: who may administer is
//! decided on the command line (`onboard admin ...`).

use super::sessions::{Window, signed_in_count};
use crate::domain::account::{AdminAccount, Administrator, AdministratorOverview, TwoStepState};
use crate::services::ServiceError;
use crate::state::AppState;

/// Every administrator, by e-mail address; `asking` (an administrator in the console; none for
/// the admin API) is marked as the one asking.
pub async fn administrators(
    state: &AppState,
    asking: Option<&Administrator>,
) -> Result<Vec<AdministratorOverview>, ServiceError> {
    let store = state.store.as_ref();
    let now = state.clock.now();
    let mut listed = Vec::new();
    for AdminAccount { user, last_signed_in_at, two_step_wrong_codes, recovery_codes_left } in store.admin_accounts().await? {
        let sessions = signed_in_count(store, &user, Window::now(state)).await?;
        let locked_until = store
            .sign_in_locked_until(&user.email, now.timestamp())
            .await?
            .and_then(|until| chrono::DateTime::from_timestamp(until, 0));
        let two_step = match two_step_wrong_codes {
            None => TwoStepState::Off,
            Some(wrong) if wrong >= super::two_step::WRONG_CODES_BLOCKING => TwoStepState::Blocked,
            Some(_) => TwoStepState::On,
        };
        // Only while codes are taken: a blocked two-step sign-in takes none until reset, and a
        // reset deletes them.
        let recovery_codes_left = match two_step {
            TwoStepState::On => Some(u32::try_from(recovery_codes_left).unwrap_or(0)),
            TwoStepState::Off | TwoStepState::Blocked => None,
        };
        listed.push(AdministratorOverview {
            you: asking.is_some_and(|asking| asking.id == user.id),
            email: user.email,
            created_at: user.created_at,
            last_signed_in_at,
            signed_in_sessions: sessions,
            two_step,
            recovery_codes_left,
            locked_until,
        });
    }
    Ok(listed)
}
