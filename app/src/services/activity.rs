//! Recording and reading administrators' activity ([`crate::domain::activity`]).

use super::ServiceError;
use crate::domain::activity::{AdministratorEvent, AdministratorEventFilter, NewAdministratorEvent};
use crate::state::AppState;
use crate::storage::Store;

/// Records what happened (and has happened by now: a sign-in, a new password). It stands
/// whatever happens here, so a failure to record it is logged, not returned.
pub async fn record(store: &dyn Store, event: &NewAdministratorEvent) {
    if let Err(error) = store.record_administrator_event(event).await {
        tracing::error!(%error, event = %event.event_type, "could not record an administrator's activity");
    }
}

pub async fn list_administrator_events(
    state: &AppState,
    filter: &AdministratorEventFilter,
) -> Result<Vec<AdministratorEvent>, ServiceError> {
    Ok(state.store.administrator_events(filter).await?)
}
