//! Group commit for the writes on the protocol endpoints' hot paths (a registration, a replay
//! record, an access token, an audit event). Each caller hands its write to one writer task
//! and waits; the writer takes every write waiting at that moment, applies them in one
//! transaction, commits once, and only then answers each caller.
//!
//! Nothing is weaker than one transaction per write: a caller hears "done" only after the
//! commit that holds its write (`synchronous=FULL` on SQLite); a write that fails (a replayed
//! `jti`, a used token) is undone alone (the batch runs again with a savepoint around each
//! write) and its caller gets that error, while the others commit; two writes of the same `jti` in one batch meet the same unique
//! constraint as in two transactions. What changes is that one fsync serves many writes.

use tokio::sync::{mpsc, oneshot};

use super::{NewClient, ReplayGuard, StoreError};
use crate::domain::audit::NewAuditEvent;
use crate::domain::token::AccessTokenRecord;

/// The most writes one transaction takes.
pub const MAX_BATCH: usize = 256;
/// Writes waiting for the writer, beyond which callers wait to hand theirs over.
const QUEUE_DEPTH: usize = 4096;

/// A write the writer task applies.
#[derive(Debug)]
pub enum Write {
    Registration {
        client: Box<NewClient>,
        replay: Option<ReplayGuard>,
        consumed_token: Option<String>,
        audit: Box<NewAuditEvent>,
    },
    ReplayGuard(ReplayGuard),
    AccessToken {
        record: AccessTokenRecord,
        token_hash: String,
    },
    AuditEvent(Box<NewAuditEvent>),
}

/// A write and where its outcome goes.
pub struct Pending {
    pub write: Write,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

impl Pending {
    pub fn answer(self, outcome: Result<(), StoreError>) {
        // The caller may have gone (its request was cancelled); the write stands either way.
        let _ = self.reply.send(outcome);
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
        self.sender.send(Pending { write, reply }).await.map_err(|_| StoreError::WriterGone)?;
        outcome.await.map_err(|_| StoreError::WriterGone)?
    }
}

/// The next batch: the first write to arrive, and every write already waiting behind it.
pub async fn next_batch(receiver: &mut mpsc::Receiver<Pending>) -> Option<Vec<Pending>> {
    let first = receiver.recv().await?;
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match receiver.try_recv() {
            Ok(pending) => batch.push(pending),
            Err(_) => break,
        }
    }
    Some(batch)
}
