//! What the protocol endpoints read about a workspace on every request (the workspace itself,
//! its signing keys), kept for a second. A write through this store forgets the entry at once;
//! another instance sharing the database sees a change within [`TTL`]. A read that raced a
//! write never stores what it read (the write's generation has moved on).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::domain::ids::WorkspaceRef;

/// How long another instance's change may take to be seen here.
pub const TTL: Duration = Duration::from_secs(1);
/// More workspaces than a deployment serves at once: past it the cache starts again.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
pub struct ReadCache<V> {
    entries: Mutex<HashMap<WorkspaceRef, (Instant, V)>>,
    generation: AtomicU64,
}

impl<V> Default for ReadCache<V> {
    fn default() -> Self {
        Self { entries: Mutex::default(), generation: AtomicU64::default() }
    }
}

impl<V: Clone> ReadCache<V> {
    /// The value, if it was read less than [`TTL`] ago.
    pub fn get(&self, at: &WorkspaceRef) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(at).filter(|(read, _)| read.elapsed() < TTL).map(|(_, value)| value.clone())
    }

    /// Taken before reading the database, and handed to [`Self::put`] after.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `value` unless a write happened since `generation` was taken.
    pub fn put(&self, at: &WorkspaceRef, value: V, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(at.clone(), (Instant::now(), value));
    }

    /// After a write: the next read goes to the database.
    pub fn forget(&self, at: &WorkspaceRef) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(at);
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::domain::dcr::DcrSettings;
    use crate::domain::ids::{TenantId, WorkspaceId};
    use crate::domain::workspace::{Profile, Workspace, WorkspaceSettings};

    fn workspace(name: &str) -> (WorkspaceRef, Workspace) {
        let at = WorkspaceRef {
            tenant: TenantId::parse("default").unwrap_or_else(|e| panic!("{e}")),
            workspace: WorkspaceId::parse("obuk").unwrap_or_else(|e| panic!("{e}")),
        };
        let workspace = Workspace {
            tenant: at.tenant.clone(),
            id: at.workspace.clone(),
            name: name.to_owned(),
            profile: Profile::OpenbankingUk,
            settings: WorkspaceSettings::defaults_for(Profile::OpenbankingUk, "https://as.example/default/obuk"),
            dcr: DcrSettings::defaults_for(Profile::OpenbankingUk),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
        };
        (at, workspace)
    }

    #[test]
    fn a_write_is_seen_at_once_and_a_read_that_raced_it_is_not_kept() {
        let cache = ReadCache::<Workspace>::default();
        let (at, old) = workspace("old");
        assert!(cache.get(&at).is_none());
        cache.put(&at, old.clone(), cache.generation());
        assert_eq!(cache.get(&at).map(|w| w.name), Some("old".to_owned()));

        // A reader took the generation and read the old row; a write then committed.
        let seen = cache.generation();
        cache.forget(&at);
        assert!(cache.get(&at).is_none(), "the write is seen at once");
        cache.put(&at, old, seen);
        assert!(cache.get(&at).is_none(), "what the racing read saw is not kept");

        let (_, new) = workspace("new");
        cache.put(&at, new, cache.generation());
        assert_eq!(cache.get(&at).map(|w| w.name), Some("new".to_owned()));
    }
}
