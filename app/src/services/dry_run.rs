//! The dry run of a registration, as the console asks for it. The pipeline lives in the server
//! crate, which implements [`RegistrationDryRun`]; the console reaches it through the state.

use async_trait::async_trait;

use super::ServiceError;
use crate::domain::dry_run::{DryRunReport, DryRunRequest};
use crate::domain::ids::WorkspaceRef;
use crate::state::AppState;

/// Runs a registration request through the whole pipeline without writing anything.
#[async_trait]
pub trait RegistrationDryRun: Send + Sync {
    async fn dry_run(&self, state: &AppState, at: &WorkspaceRef, request: DryRunRequest) -> Result<DryRunReport, ServiceError>;
}
