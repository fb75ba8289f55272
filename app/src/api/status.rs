//! The console's system status check.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the status page shows an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub version: String,
    pub database: String,
    pub database_reachable: bool,
    pub checked_at: String,
}

#[server(prefix = "/app/fn", endpoint = "system_status")]
pub async fn system_status() -> Result<StatusReport, ServerFnError> {
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let state = app_state()?;
    let reachable = state.store.ping().await.is_ok();
    Ok(StatusReport {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: state.store.backend().as_str().to_owned(),
        database_reachable: reachable,
        checked_at: state.clock.now().format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    })
}
