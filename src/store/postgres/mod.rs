//! The store on a PostgreSQL server, for bot replicas on several hosts: the same records and the same
//! semantics as `SqliteStore`, so the contract tests (`tests/it/store_contract.rs`) run unchanged on both.
//!
//! Where SQLite serialises every write behind one file lock, here each store call is one transaction at
//! READ COMMITTED, and what must not interleave is decided by the database, never by timing:
//! - idempotent writes are `INSERT … ON CONFLICT DO NOTHING`, reported as `Recorded::Duplicate` when no row
//!   was inserted (a second replica racing the first waits for its commit, then finds the row);
//! - compare-and-swap saves, leases and daily claims are one conditional `UPDATE`: a concurrent `UPDATE` of
//!   the same row waits for the first to commit and re-checks its condition on the new row, so of two
//!   replicas based on the same version or racing for the same expired lease exactly one wins;
//! - ending a session locks its row (`SELECT … FOR UPDATE`) before it reads the attempts it scores, and
//!   recording an attempt holds the row `FOR SHARE`, so no answer lands in a session being closed.
//!
//! `SKIP LOCKED` is not used: every call names its one row (a session, a slot) and owes an exact answer.
//! Skipping a locked row would turn "another replica is touching it" into a refusal, so a lease holder
//! renewing while a rival's steal attempt holds the row would be told it lost a lease it still holds;
//! waiting a few milliseconds for that attempt to commit gives the true answer.
//!
//! The methods live in one file per record group (`users`, `sessions`, `quizzes`, `cards`, `flags`,
//! `daily`) as inherent methods with the trait's names and signatures; `impl Store` below only forwards.
//! `connection` owns the driver's thread, `migrations` the schema. Text is ordered `COLLATE "C"` (bytes,
//! as SQLite's default), so listings come in the same order whatever the database's locale.

mod cards;
mod connection;
mod daily;
mod flags;
mod migrations;
mod quizzes;
mod sessions;
mod signals;
mod users;

use ::postgres::{IsolationLevel, Transaction};

pub use migrations::PG_SCHEMA_VERSION;

use super::*;
use connection::Connection;

/// A store in a PostgreSQL database, reached through one connection owned by a thread of its own.
pub struct PgStore {
    connection: Connection,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/database`), checks it
    /// and migrates it to `PG_SCHEMA_VERSION`. A malformed URL, a refused connection or a failed login is
    /// one `StoreError::Backend` naming `host:port/database`, never the password; a database of a newer
    /// schema is refused with `NewerSchema` and left as it was.
    pub fn connect(url: &str) -> Result<PgStore> {
        let connection = Connection::open(url)?;
        let target = connection.target().to_string();
        connection.run(move |client| migrations::migrate(client, &target))?;
        Ok(PgStore { connection })
    }

    /// The server and database, as `host:port/database`.
    pub fn target(&self) -> &str {
        self.connection.target()
    }

    /// The highest migration applied to the database.
    pub fn schema_version(&self) -> Result<i64> {
        self.read(|tx| {
            Ok(tx
                .query_one("SELECT MAX(version) FROM tsumiage_migrations", &[])?
                .try_get(0)?)
        })
    }

    /// One write transaction: committed when `work` succeeds, rolled back when it fails.
    fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.connection.run(move |client| {
            let mut transaction = client.transaction()?;
            let value = work(&mut transaction)?;
            transaction.commit()?;
            Ok(value)
        })
    }

    /// One read-only transaction on one snapshot (REPEATABLE READ), so a read made of several queries
    /// (`stats`) sees a single moment.
    fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Transaction<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        self.connection.run(move |client| {
            let mut transaction = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let value = work(&mut transaction)?;
            transaction.commit()?;
            Ok(value)
        })
    }
}

/// A `BIGINT` count as the interface's `u32` (saturating: a count never exceeds it in practice, and a
/// store read must not panic).
fn count_u32(count: i64) -> u32 {
    u32::try_from(count.max(0)).unwrap_or(u32::MAX)
}

/// A `LIMIT` from the interface's `usize` (`usize::MAX` would overflow to a negative limit).
fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
