//! Upkeep while the server runs: rate-limit entries forgotten, what has expired deleted in
//! short batches (audit events too, when the operator bounds how long they are kept), retired
//! signing keys' private halves erased.

use std::future::Future;
use std::time::Duration;

use app::storage::StoreError;
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::state::ServerState;

/// How long what does not expire by itself is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Audit events and administrators' activity (`--audit-retention-days`); `None`: for good.
    pub audit: Option<chrono::Duration>,
}

impl Retention {
    pub fn of(args: &ServeArgs) -> Self {
        Self { audit: args.audit_retention_days.map(|days| chrono::Duration::days(days.into())) }
    }
}

/// How often rate-limited callers (of the protocol and of console sign-in) whose allowance is
/// full again are forgotten.
const TICK: Duration = Duration::from_mins(1);
/// How often what has expired is deleted, and retired keys erased.
const PURGE_INTERVAL: Duration = Duration::from_mins(10);
/// Rows deleted in one statement (or, for access tokens, one transaction): short enough that
/// the hot paths' writes, which wait for the write lock on SQLite meanwhile, barely notice.
const PURGE_BATCH: u64 = 1000;
/// How long past its request's expiry a replay record is kept: instances whose clocks run
/// behind the purging one's still accept that request for as long as theirs lag.
const REPLAY_RECORD_MARGIN_SECONDS: i64 = 300;
/// The hot paths' turn between two batches.
const PAUSE_BETWEEN_BATCHES: Duration = Duration::from_millis(20);

/// Runs until the server stops: once a minute, forgets rate-limited callers whose allowance is
/// full again; every [`PURGE_INTERVAL`], deletes expired access tokens, replay records of
/// expired requests (they would fail the `exp` check anyway), expired console sessions,
/// console sign-in attempts a day old and audit events older than `retention` says, and
/// erases retired signing keys' private halves.
pub async fn run(state: ServerState, retention: Retention, mut stopped: watch::Receiver<bool>) {
    let mut since_purge = Duration::ZERO;
    loop {
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            _ = stopped.changed() => return,
        }
        state.protocol.rate_limits.forget_idle();
        state.app.sign_in_rate.forget_idle();
        since_purge += TICK;
        if since_purge < PURGE_INTERVAL {
            continue;
        }
        since_purge = Duration::ZERO;
        if !purge_expired(&state, retention, &mut stopped).await {
            return;
        }
        erase_retired_private_keys(&state).await;
    }
}

/// Deletes everything that has expired, and audit events older than `retention` keeps; false
/// if the server began to stop meanwhile.
pub async fn purge_expired(state: &ServerState, retention: Retention, stopped: &mut watch::Receiver<bool>) -> bool {
    let (app, now) = (&state.app, state.app.clock.now());
    let epoch = now.timestamp();
    let expired = drain("access tokens", stopped, |batch| app.store.purge_expired_access_tokens(epoch, batch)).await
        && drain("replay records", stopped, |batch| {
            app.store.purge_expired_replay_guards(epoch - REPLAY_RECORD_MARGIN_SECONDS, batch)
        })
        .await
        && drain("console sessions", stopped, |batch| app.store.purge_expired_sessions(epoch, batch)).await
        && drain("console sign-ins", stopped, |batch| app::services::accounts::forget_ended_sessions(app, batch)).await
        && drain("console sign-in attempts", stopped, |batch| app::services::accounts::forget_old_sign_in_attempts(app, batch))
            .await
        && drain("trusted devices", stopped, |batch| app::services::accounts::forget_untrusted_devices(app, batch)).await;
    let Some(cut_off) = retention.audit.map(|kept| now - kept) else {
        return expired;
    };
    expired
        && drain("audit events", stopped, |batch| app.store.purge_audit_events(cut_off, batch)).await
        && drain("administrator events", stopped, |batch| app.store.purge_administrator_events(cut_off, batch)).await
}

/// Deletes `what` a batch at a time until a batch deletes nothing, pausing between batches;
/// false if the server began to stop meanwhile (a backlog, such as the first purge after an
/// upgrade, is taken up again at the next start). A short batch is no end: the audit purges
/// look at the oldest rows a batch, and one dated ahead (a clock that jumped) among them
/// keeps every batch short.
async fn drain<F, Purge>(what: &str, stopped: &mut watch::Receiver<bool>, mut purge: F) -> bool
where
    F: FnMut(u64) -> Purge,
    Purge: Future<Output = Result<u64, StoreError>>,
{
    let mut purged = 0;
    loop {
        match purge(PURGE_BATCH).await {
            Ok(deleted) => {
                purged += deleted;
                if deleted == 0 {
                    break;
                }
            }
            Err(error) => {
                tracing::warn!(%error, what, "could not delete what has expired");
                break;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(PAUSE_BETWEEN_BATCHES) => {}
            _ = stopped.changed() => return false,
        }
    }
    if purged > 0 {
        tracing::debug!(purged, what, "deleted what has expired");
    }
    true
}

/// Erases the private half of every signing key that has retired, in the store and in the
/// token signers' memory.
pub async fn erase_retired_private_keys(state: &ServerState) {
    match app::services::signing_keys::erase_retired_private_keys(&state.app).await {
        Ok(erased) => erased.iter().for_each(|key| state.protocol.token_signers.forget(&key.material.kid)),
        Err(error) => tracing::warn!(%error, "could not erase retired signing keys"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, MutexGuard, PoisonError};

    use super::*;

    fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[tokio::test(start_paused = true)]
    async fn batches_run_until_one_deletes_nothing() {
        let (_keep_open, mut stopped) = watch::channel(false);
        let deletions = Mutex::new(vec![PURGE_BATCH, PURGE_BATCH + 3, 7, 999, 0, PURGE_BATCH]);
        let purge = |batch| {
            assert_eq!(batch, PURGE_BATCH);
            let deleted = lock(&deletions).remove(0);
            async move { Ok(deleted) }
        };
        assert!(drain("rows", &mut stopped, purge).await);
        assert_eq!(*lock(&deletions), [PURGE_BATCH], "past short batches, up to the empty one, not past it");
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_batch_ends_the_drain_for_this_round() {
        let (_keep_open, mut stopped) = watch::channel(false);
        let calls = Mutex::new(0);
        let purge = |_| {
            *lock(&calls) += 1;
            async { Err(StoreError::Conflict) }
        };
        assert!(drain("rows", &mut stopped, purge).await);
        assert_eq!(*lock(&calls), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stopping_server_ends_a_long_drain() {
        let (stop, mut stopped) = watch::channel(false);
        let calls = Mutex::new(0);
        let purge = |_| {
            let mut calls = lock(&calls);
            *calls += 1;
            if *calls == 2 {
                let _ = stop.send(true);
            }
            async { Ok(PURGE_BATCH) }
        };
        assert!(!drain("rows", &mut stopped, purge).await, "an endless backlog, stopped");
        assert_eq!(*lock(&calls), 2);
    }
}
