//! The embedded store: one SQLite file (WAL, foreign keys on, `synchronous = FULL`), versioned by
//! `PRAGMA user_version` and marked as tsumiage's by `PRAGMA application_id`. Opening checks the file
//! before touching it: a file from a newer tsumiage, another program's database, or a damaged file is
//! refused with a typed error and left exactly as it was.
//!
//! A backend (adapter): implements every port of `store` in one file per port, plus `migrations`. The only
//! code that imports rusqlite.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

use crate::store::{Result, StoreError};

mod cards;
mod daily;
mod flags;
mod migrations;
mod quizzes;
mod sessions;
mod signals;
mod users;

pub use migrations::SCHEMA_VERSION;

pub struct SqliteStore {
    connection: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating when missing) the store at `path`, checks it and migrates it to `SCHEMA_VERSION`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let connection = Connection::open(path).map_err(|e| classify(path, e))?;
        let mut store = SqliteStore {
            connection,
            path: path.to_path_buf(),
        };
        store.check_before_writing()?;
        store.connection.busy_timeout(std::time::Duration::from_secs(5))?;
        store
            .connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| classify(path, e))?;
        // FULL: a commit survives not only a killed process (NORMAL would) but a power cut too.
        store.connection.pragma_update(None, "synchronous", "FULL")?;
        store.connection.pragma_update(None, "foreign_keys", "ON")?;
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.connection.query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    /// One write transaction, taking the write lock at once: a deferred transaction that reads first
    /// fails with SQLITE_BUSY, without waiting, when another connection (another replica) wrote since.
    fn write<T>(&mut self, work: impl FnOnce(&Transaction) -> rusqlite::Result<T>) -> Result<T> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&transaction)?;
        transaction.commit()?;
        Ok(value)
    }
}

/// Turns SQLite's "not a database" and "corrupt" codes into the store's typed errors.
fn classify(path: &Path, error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::Corrupted {
            path: path.to_path_buf(),
            detail: "not an SQLite database".into(),
        },
        Some(ErrorCode::DatabaseCorrupt) => StoreError::Corrupted {
            path: path.to_path_buf(),
            detail: error.to_string(),
        },
        _ => error.into(),
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Backend(error.to_string())
    }
}
