//! The store the replica tests share, on either backend: an SQLite file in a temp dir, or a fresh
//! PostgreSQL database on the server `TSUMIAGE_TEST_POSTGRES_URL` names (the store contract's helper, so
//! the PostgreSQL half is skipped with the same one notice when no server is set). Each scenario runs once
//! per backend from a `sqlite` and a `postgres` module (`replica_tests!`), so `.ci/run` counts them per
//! backend by name (`discord::replicas::sqlite::…`, `discord::replicas::postgres::…`).

use std::path::PathBuf;

use tsumiage::store::Store;

use crate::store_contract::Postgres;

pub enum SharedStore {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    /// `None` only while being dropped (the database is dropped on a plain thread).
    Postgres(Option<Postgres>),
}

impl SharedStore {
    pub fn sqlite() -> Option<SharedStore> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite");
        Some(SharedStore::Sqlite { _dir: dir, path })
    }

    /// `None` when no PostgreSQL server is configured. The synchronous admin client cannot run on a
    /// runtime thread, so the database is created on a plain one.
    pub fn postgres() -> Option<SharedStore> {
        let database = std::thread::spawn(Postgres::fresh).join().unwrap()?;
        Some(SharedStore::Postgres(Some(database)))
    }

    /// What `--store` / `TSUMIAGE_STORE` would say: the file path or the database URL.
    pub fn spec(&self) -> String {
        match self {
            SharedStore::Sqlite { path, .. } => path.display().to_string(),
            SharedStore::Postgres(database) => database.as_ref().unwrap().url.clone(),
        }
    }

    /// Another handle onto the store (another connection, as another replica would hold).
    pub fn open(&self) -> Box<dyn Store> {
        tsumiage::store::open(&self.spec()).unwrap()
    }

    /// The SQLite file, for the scenarios that edit it directly.
    pub fn sqlite_path(&self) -> Option<&PathBuf> {
        match self {
            SharedStore::Sqlite { path, .. } => Some(path),
            SharedStore::Postgres(_) => None,
        }
    }
}

impl Drop for SharedStore {
    fn drop(&mut self) {
        if let SharedStore::Postgres(database) = self
            && let Some(database) = database.take()
        {
            let _ = std::thread::spawn(move || drop(database)).join();
        }
    }
}

/// Runs each named async scenario (taking a `SharedStore`) once on SQLite and once on PostgreSQL, as
/// `sqlite::<scenario>` and `postgres::<scenario>` tests.
macro_rules! replica_tests {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(store) = super::super::replica_store::SharedStore::sqlite() {
                        super::$scenario(&store).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    if let Some(store) = super::super::replica_store::SharedStore::postgres() {
                        super::$scenario(&store).await;
                    }
                }
            )*
        }
    };
}

pub(super) use replica_tests;
