//! Connections the store keeps for its hot paths (the group commit writer, the protocol
//! endpoints' reads) and lends itself, beside sqlx's pool.
//!
//! sqlx's pool pings every connection it takes back, a round trip per query (to the
//! connection's thread on SQLite, to the server on PostgreSQL) that a hot read pays on top of
//! its own. A held connection goes back without one, and it is safe because only a connection
//! whose user finished cleanly goes back ([`Lent::give_back`]): one that failed or whose query
//! was abandoned mid-way (a dropped request) is closed, and a later loan opens a fresh one. So
//! no connection in an unknown state is lent again. One that sat unused past [`IDLE_CHECK`] is
//! pinged before it is lent, so a database restarted meanwhile costs no request.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a connection may sit unused before it is pinged on its next loan.
pub const IDLE_CHECK: Duration = Duration::from_secs(1);
/// How long a loan waits for a connection, as the pool's `acquire_timeout`: an unreachable
/// database fails the caller instead of holding it.
pub const LEND_TIMEOUT: Duration = Duration::from_secs(5);

/// Up to `size` connections, opened when first needed and kept while they work.
pub struct HeldConnections<C: Connection> {
    options: Arc<C::Options>,
    /// Connections not lent, with when each was last used; the last one in is lent first, so
    /// the warmest page cache serves.
    idle: Mutex<Vec<(C, Instant)>>,
    loans: Semaphore,
}

impl<C: Connection> HeldConnections<C> {
    pub fn new(options: Arc<C::Options>, size: usize) -> Self {
        Self { options, idle: Mutex::default(), loans: Semaphore::new(size) }
    }

    /// A connection, when one of the `size` is free; [`sqlx::Error::PoolTimedOut`] after
    /// [`LEND_TIMEOUT`].
    pub async fn lend(&self) -> Result<Lent<'_, C>, sqlx::Error> {
        tokio::time::timeout(LEND_TIMEOUT, self.lend_untimed()).await.unwrap_or(Err(sqlx::Error::PoolTimedOut))
    }

    async fn lend_untimed(&self) -> Result<Lent<'_, C>, sqlx::Error> {
        let permit = self.loans.acquire().await.map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let connection = match idle {
            Some((connection, last_used)) => Self::still_usable(connection, last_used).await,
            None => None,
        };
        let connection = match connection {
            Some(connection) => connection,
            None => C::connect_with(&self.options).await?,
        };
        Ok(Lent { connection, home: self, _permit: permit })
    }

    async fn still_usable(mut connection: C, last_used: Instant) -> Option<C> {
        if last_used.elapsed() < IDLE_CHECK {
            return Some(connection);
        }
        connection.ping().await.ok().map(|()| connection)
    }
}

/// A lent connection. Dropped without [`Lent::give_back`], it is closed.
pub struct Lent<'a, C: Connection> {
    connection: C,
    home: &'a HeldConnections<C>,
    _permit: SemaphorePermit<'a>,
}

impl<C: Connection> Lent<'_, C> {
    /// Returns the connection for the next loan: call it only when everything sent on it
    /// finished without an error.
    pub fn give_back(self) {
        self.home.idle.lock().unwrap_or_else(PoisonError::into_inner).push((self.connection, Instant::now()));
    }
}

impl<C: Connection> Deref for Lent<'_, C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.connection
    }
}

impl<C: Connection> DerefMut for Lent<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.connection
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

    fn held(size: usize) -> HeldConnections<SqliteConnection> {
        HeldConnections::new(Arc::new(SqliteConnectOptions::new().in_memory(true)), size)
    }

    async fn stamp(connection: &mut SqliteConnection, value: i64) {
        sqlx::query(&format!("pragma user_version = {value}")).execute(connection).await.unwrap();
    }

    async fn read_stamp(connection: &mut SqliteConnection) -> i64 {
        sqlx::query_scalar("pragma user_version").fetch_one(connection).await.unwrap()
    }

    #[tokio::test]
    async fn a_connection_given_back_is_lent_again() {
        let held = held(1);
        let mut lent = held.lend().await.unwrap();
        stamp(&mut lent, 7).await;
        lent.give_back();
        let mut again = held.lend().await.unwrap();
        assert_eq!(read_stamp(&mut again).await, 7);
    }

    #[tokio::test]
    async fn a_connection_not_given_back_is_replaced() {
        let held = held(1);
        let mut lent = held.lend().await.unwrap();
        stamp(&mut lent, 7).await;
        drop(lent);
        let mut fresh = held.lend().await.unwrap();
        assert_eq!(read_stamp(&mut fresh).await, 0, "an in-memory database starts at 0: a new connection");
    }

    #[tokio::test]
    async fn a_loan_waits_for_a_free_connection() {
        let held = held(1);
        let lent = held.lend().await.unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), held.lend()).await;
        assert!(waiting.is_err(), "the only connection is lent");
        lent.give_back();
        held.lend().await.unwrap();
    }
}
