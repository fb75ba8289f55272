//! The Dry run page's server function: the registration pipeline, run without writing.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::domain::dry_run::{DryRunReport, DryRunRequest};

#[server(prefix = "/app/fn", endpoint = "dry_run_registration", input = Json)]
pub async fn dry_run_registration(
    tenant: String,
    workspace: String,
    request: DryRunRequest,
) -> Result<DryRunReport, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    require_administrator().await?;
    let at = crate::api::workspaces::workspace_ref(&tenant, &workspace)?;
    let state = app_state()?;
    state.dry_run.dry_run(&state, &at, request).await.map_err(user_error)
}
