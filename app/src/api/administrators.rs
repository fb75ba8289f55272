//! The Administrators page: who can sign in to the console.

use leptos::prelude::*;

use crate::domain::account::AdministratorOverview;

/// Every administrator, by e-mail address, the one asking marked.
#[server(prefix = "/app/fn", endpoint = "list_administrators")]
pub async fn list_administrators() -> Result<Vec<AdministratorOverview>, ServerFnError> {
    use crate::api::errors::user_error;
    use crate::api::session::{app_state, require_administrator};
    let administrator = require_administrator().await?;
    crate::services::accounts::administrators(&app_state()?, Some(&administrator)).await.map_err(user_error)
}
