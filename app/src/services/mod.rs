//! Console and admin use cases as plain async functions over [`AppState`]: the admin REST API
//! and the console's server functions both call these, so no rule exists twice.

pub mod accounts;
pub mod activity;
pub mod audit;
pub mod clients;
pub mod dcr_settings;
pub mod dry_run;
pub mod policies;
pub mod revocation_lists;
pub mod sandbox_tpps;
pub mod sign_in_rate;
pub mod signing_keys;
pub mod workspaces;

use crate::domain::workspace::SettingsError;
use crate::storage::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Invalid(#[from] SettingsError),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}
