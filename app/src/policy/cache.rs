//! Compiled policies, kept so a registration does not parse its workspace's policy again. An
//! entry is used only while the stored body is exactly the one it was compiled from, so an
//! edit is picked up by the next request however close in time it came.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::CompiledPolicy;
use crate::domain::ids::{PolicyId, WorkspaceRef};
use crate::domain::policy::{Policy, PolicyBody};
use crate::domain::workspace::SettingsError;

type Key = (WorkspaceRef, PolicyId);
/// A compiled policy and the body it was compiled from.
type Entry = (PolicyBody, Arc<CompiledPolicy>);

#[derive(Debug, Default)]
pub struct PolicyCache {
    compiled: Mutex<HashMap<Key, Entry>>,
}

impl PolicyCache {
    /// The compiled form of `policy` as it is now. Compiling validators compiles their
    /// patterns, so call this off the async runtime.
    pub fn compiled(&self, at: &WorkspaceRef, policy: &Policy) -> Result<Arc<CompiledPolicy>, SettingsError> {
        let key = (at.clone(), policy.id.clone());
        if let Some((body, compiled)) = self.lock().get(&key)
            && *body == policy.body
        {
            return Ok(compiled.clone());
        }
        let compiled = Arc::new(CompiledPolicy::compile(&policy.body)?);
        self.lock().insert(key, (policy.body.clone(), compiled.clone()));
        Ok(compiled)
    }

    /// Forgets a deleted policy.
    pub fn forget(&self, at: &WorkspaceRef, id: &PolicyId) {
        self.lock().remove(&(at.clone(), id.clone()));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        self.compiled.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::ids::{TenantId, WorkspaceId};

    #[test]
    fn an_edit_is_compiled_even_within_the_same_second() {
        let at = WorkspaceRef {
            tenant: TenantId::parse("default").unwrap_or_else(|e| panic!("{e}")),
            workspace: WorkspaceId::parse("obuk").unwrap_or_else(|e| panic!("{e}")),
        };
        let same_time = DateTime::from_timestamp(0, 0).unwrap_or_default();
        let policy = |module: &str| Policy {
            id: PolicyId::parse("p").unwrap_or_else(|e| panic!("{e}")),
            name: "p".to_owned(),
            body: PolicyBody::Rego(module.to_owned()),
            created_at: same_time,
            updated_at: same_time,
        };
        let cache = PolicyCache::default();
        let module = |compiled: &CompiledPolicy| match compiled {
            CompiledPolicy::Rego(module) => module.clone(),
            CompiledPolicy::Validators(_) => String::new(),
        };
        let first = cache.compiled(&at, &policy("package onboard\n\nallow := true\n")).unwrap_or_else(|e| panic!("{e}"));
        let again = cache.compiled(&at, &policy("package onboard\n\nallow := true\n")).unwrap_or_else(|e| panic!("{e}"));
        assert!(Arc::ptr_eq(&first, &again), "the same body is compiled once");
        let edited = cache.compiled(&at, &policy("package onboard\n\nallow := false\n")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(module(&edited), "package onboard\n\nallow := false\n");
    }
}
