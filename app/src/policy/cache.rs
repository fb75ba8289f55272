//! Compiled policies kept per version, so a registration does not parse its workspace's policy
//! again. A policy's version is its `updated_at`; an edit is picked up by the next request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::CompiledPolicy;
use crate::domain::ids::{PolicyId, WorkspaceRef};
use crate::domain::policy::Policy;
use crate::domain::workspace::SettingsError;

type Key = (WorkspaceRef, PolicyId);
/// A compiled policy and the version (`updated_at`) it was compiled from.
type Entry = (DateTime<Utc>, Arc<CompiledPolicy>);

#[derive(Debug, Default)]
pub struct PolicyCache {
    compiled: Mutex<HashMap<Key, Entry>>,
}

impl PolicyCache {
    /// The compiled form of this version of `policy`.
    pub fn compiled(&self, at: &WorkspaceRef, policy: &Policy) -> Result<Arc<CompiledPolicy>, SettingsError> {
        let key = (at.clone(), policy.id.clone());
        if let Some((version, compiled)) = self.lock().get(&key)
            && *version == policy.updated_at
        {
            return Ok(compiled.clone());
        }
        let compiled = Arc::new(CompiledPolicy::compile(&policy.body)?);
        self.lock().insert(key, (policy.updated_at, compiled.clone()));
        Ok(compiled)
    }

    /// Forgets a deleted policy.
    pub fn forget(&self, at: &WorkspaceRef, id: &PolicyId) {
        self.lock().remove(&(at.clone(), id.clone()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.compiled.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
