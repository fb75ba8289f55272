//! Group commit for the writes on the protocol endpoints' hot paths (a registration, a replay
//! record, an access token, an audit event). Each caller hands its write to one writer task
//! (with a database connection of its own) and waits; the writer takes every write waiting at
//! that moment, applies them in one transaction (one query per write, the audit events many
//! to a query), commits once, and only then answers each caller.
//!
//! Nothing is weaker than one transaction per write: a caller hears "done" only after the
//! commit that holds its write (`synchronous=FULL` on SQLite); a write that fails (a replayed
//! `jti`, a used token) is undone alone (the batch runs again with a savepoint around each
//! write) and its caller gets that error, while the others commit; two writes of the same
//! `jti` in one batch meet the same unique constraint as in two transactions. What changes is
//! that one fsync serves many writes.

use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{NewClient, ReplayGuard, StoreError};
use crate::domain::audit::NewAuditEvent;
use crate::domain::token::AccessTokenRecord;

/// The most writes one transaction takes.
pub const MAX_BATCH: usize = 256;
/// Writes waiting for the writer, beyond which callers wait to hand theirs over. Enough for
/// about a second of reads' audit events, so a checkpoint that holds the writer up briefly
/// does not hold reads up too; at most a few megabytes.
const QUEUE_DEPTH: usize = 16_384;

/// A write the writer task applies.
#[derive(Debug)]
pub enum Write {
    Registration {
        /// The client, its `metadata` taken out: the writer binds `metadata` instead.
        client: Box<NewClient>,
        /// The client's metadata as stored ([`super::stored_metadata::serialized`]).
        metadata: Box<RawValue>,
        replay: Option<ReplayGuard>,
        consumed_token: Option<String>,
        max_dynamic_clients: u32,
        audit: Box<NewAuditEvent>,
    },
    ReplayGuard(ReplayGuard),
    /// An access token, with the replay record of the client assertion it was issued for and
    /// its audit event.
    AccessToken {
        record: AccessTokenRecord,
        token_hash: String,
        replay: Option<ReplayGuard>,
        audit: Box<NewAuditEvent>,
    },
    AuditEvent(Box<NewAuditEvent>),
    /// Nothing: answered once every write queued before it is committed.
    Barrier,
}

/// A write and where its outcome goes: to the caller waiting for it, or (for a write nobody
/// waits for) to the log when it failed.
pub struct Pending {
    pub write: Write,
    reply: Option<oneshot::Sender<Result<(), StoreError>>>,
}

impl Pending {
    pub fn answer(self, outcome: Result<(), StoreError>) {
        match (self.reply, outcome) {
            // The caller may have gone (its request was cancelled); the write stands either way.
            (Some(reply), outcome) => {
                let _ = reply.send(outcome);
            }
            (None, Err(error)) => tracing::error!(%error, write = self.write.kind(), "a write nobody waited for failed"),
            (None, Ok(())) => {}
        }
    }
}

impl Write {
    fn kind(&self) -> &'static str {
        match self {
            Self::Registration { .. } => "registration",
            Self::ReplayGuard(_) => "replay record",
            Self::AccessToken { .. } => "access token",
            Self::AuditEvent(_) => "audit event",
            Self::Barrier => "barrier",
        }
    }

    /// The workspace whose count of dynamically registered clients this write updates (a row
    /// the transaction then holds locked until its commit).
    fn locked_count(&self) -> Option<(&str, &str)> {
        match self {
            Self::Registration { client, .. } if client.summary.dynamically_registered => {
                Some((client.workspace.tenant.as_str(), client.workspace.workspace.as_str()))
            }
            _ => None,
        }
    }
}

/// The callers' end of the writer's queue.
#[derive(Debug, Clone)]
pub struct Queue {
    sender: mpsc::Sender<Pending>,
}

impl Queue {
    /// A queue, and the receiving end the writer task drains.
    pub fn new() -> (Self, mpsc::Receiver<Pending>) {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        (Self { sender }, receiver)
    }

    /// Hands `write` to the writer and waits until it is committed (or refused).
    pub async fn submit(&self, write: Write) -> Result<(), StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.sender.send(Pending { write, reply: Some(reply) }).await.map_err(|_| StoreError::WriterGone)?;
        outcome.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Waits until every write queued before this call is committed: the queue is first in,
    /// first out, and batches commit in order.
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.submit(Write::Barrier).await
    }

    /// Whether the writer has stopped (every write would be refused).
    pub fn writer_gone(&self) -> bool {
        self.sender.is_closed()
    }

    /// Hands `write` to the writer, in order with the others, without waiting for its commit.
    /// A full queue is waited on, neither dropped nor set aside: writes waiting off the
    /// caller's path, one task each, grew without bound while the writer fell behind (peak RSS
    /// 74, 102, then 113 MB over three runs of GET at 9k/s on PostgreSQL; 58 MB flat now).
    pub async fn submit_detached(&self, write: Write) {
        if self.sender.send(Pending { write, reply: None }).await.is_err() {
            tracing::error!("the database writer has stopped; a write was lost");
        }
    }
}

/// How long a batch that nobody waits for (reads' audit events) gathers more writes before it
/// is committed. Once the events went many to a statement, the writer finished batches sooner,
/// so they were smaller and more: each commit rewrote the same last pages of the audit table,
/// and GET at c=64 wrote 23 MB/s against 12 before (9 with the linger).
pub const LINGER: Duration = Duration::from_millis(10);

/// The next batch: the first write to arrive, and every write already waiting behind it. When
/// no caller waits for any of them, it gathers more for up to [`LINGER`], and stops as soon as
/// a write with a caller waiting joins it (or it is full).
pub async fn next_batch(receiver: &mut mpsc::Receiver<Pending>) -> Option<Vec<Pending>> {
    let first = receiver.recv().await?;
    let mut batch = vec![first];
    take_waiting(&mut batch, receiver);
    let deadline = Instant::now() + LINGER;
    while batch.len() < MAX_BATCH && batch.iter().all(|pending| pending.reply.is_none()) {
        match tokio::time::timeout_at(deadline, receiver.recv()).await {
            Ok(Some(pending)) => {
                batch.push(pending);
                take_waiting(&mut batch, receiver);
            }
            Ok(None) | Err(_) => break,
        }
    }
    in_lock_order(&mut batch);
    Some(batch)
}

/// Orders a batch's registrations by the count row each locks. Two instances on one
/// PostgreSQL database, each committing a batch with registrations in workspaces A and B,
/// would otherwise deadlock when one locks A's row first and the other B's: one batch would
/// be aborted and its writes run again. Each caller hears its own write's outcome, so the
/// order within a batch is free; the sort is stable, so the rest keeps its queue order.
fn in_lock_order(batch: &mut [Pending]) {
    batch.sort_by(|a, b| a.write.locked_count().cmp(&b.write.locked_count()));
}

/// Adds the writes already waiting in the queue, up to a full batch.
fn take_waiting(batch: &mut Vec<Pending>, receiver: &mut mpsc::Receiver<Pending>) {
    while batch.len() < MAX_BATCH {
        match receiver.try_recv() {
            Ok(pending) => batch.push(pending),
            Err(_) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::contract_tests;
    use super::*;
    use crate::domain::audit::AuditEventType;
    use crate::domain::event_log::Outcome;

    fn event() -> Write {
        let at = contract_tests::workspace_ref("obuk");
        Write::AuditEvent(Box::new(contract_tests::audit(&at, AuditEventType::DcrRead, Outcome::Success, 0)))
    }

    #[tokio::test(start_paused = true)]
    async fn writes_nobody_waits_for_gather_for_the_linger() {
        let (queue, mut receiver) = Queue::new();
        queue.submit_detached(event()).await;
        let later = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LINGER / 2).await;
            later.submit_detached(event()).await;
            tokio::time::sleep(LINGER).await;
            later.submit_detached(event()).await;
        });
        let started = Instant::now();
        let batch = next_batch(&mut receiver).await.unwrap_or_default();
        assert_eq!((batch.len(), started.elapsed()), (2, LINGER));
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_someone_waits_for_ends_the_linger() {
        let (queue, mut receiver) = Queue::new();
        queue.submit_detached(event()).await;
        let waiting = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(LINGER / 5).await;
            let _ = waiting.submit(event()).await;
        });
        let started = Instant::now();
        let batch = next_batch(&mut receiver).await.unwrap_or_default();
        assert_eq!((batch.len(), started.elapsed()), (2, LINGER / 5));
    }

    fn registration(workspace: &str, client_id: &str, dynamic: bool) -> Write {
        let at = contract_tests::workspace_ref(workspace);
        let audit = contract_tests::audit(&at, AuditEventType::DcrCreated, Outcome::Success, 0);
        Write::Registration {
            client: Box::new(contract_tests::client(&at, client_id, dynamic, 0)),
            metadata: RawValue::from_string("{}".to_owned()).unwrap_or_else(|e| panic!("{e}")),
            replay: None,
            consumed_token: None,
            max_dynamic_clients: 10,
            audit: Box::new(audit),
        }
    }

    fn client_id(write: &Write) -> &str {
        match write {
            Write::Registration { client, .. } => &client.summary.client_id,
            other => other.kind(),
        }
    }

    #[tokio::test]
    async fn registrations_take_their_count_rows_in_one_order() {
        let (queue, mut receiver) = Queue::new();
        let writes = [
            registration("zeta", "z1", true),
            event(),
            registration("alpha", "a1", true),
            registration("alpha", "manual", false),
            registration("zeta", "z2", true),
            registration("alpha", "a2", true),
        ];
        for write in writes {
            queue.submit_detached(write).await;
        }
        let batch = next_batch(&mut receiver).await.unwrap_or_default();
        let order: Vec<&str> = batch.iter().map(|pending| client_id(&pending.write)).collect();
        // Writes that lock no count row first, in queue order; then alpha's, then zeta's.
        assert_eq!(order, ["audit event", "manual", "a1", "a2", "z1", "z2"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_someone_waits_for_goes_at_once() {
        let (queue, mut receiver) = Queue::new();
        tokio::spawn(async move {
            let _ = queue.submit(event()).await;
        });
        let started = Instant::now();
        let batch = next_batch(&mut receiver).await.unwrap_or_default();
        assert_eq!((batch.len(), started.elapsed()), (1, Duration::ZERO));
    }
}
