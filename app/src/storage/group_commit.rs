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
    /// An access token, with the replay record of the client assertion it was issued for.
    AccessToken {
        record: AccessTokenRecord,
        token_hash: String,
        replay: Option<ReplayGuard>,
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
    Some(batch)
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
