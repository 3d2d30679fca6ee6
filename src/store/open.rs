//! One setting names the store (`--store`, `paths.store`, `TSUMIAGE_STORE`): a file path opens the
//! embedded SQLite store, as always; a `postgres://` or `postgresql://` URL connects to PostgreSQL. Any
//! setting that starts with `postgres:` or `postgresql:` is taken as a URL, so a mistyped one
//! (`postgres:/db`) is reported as malformed instead of silently creating a file of that name; a file
//! really called so can be given as `./postgres:…`.

use std::path::Path;

use super::{PgStore, Result, SqliteStore, Store};

/// Opens the store `spec` names, migrated and ready.
pub fn open(spec: &str) -> Result<Box<dyn Store>> {
    if is_postgres_url(spec) {
        Ok(Box::new(PgStore::connect(spec.trim())?))
    } else {
        Ok(Box::new(SqliteStore::open(Path::new(spec))?))
    }
}

impl From<SqliteStore> for Box<dyn Store> {
    fn from(store: SqliteStore) -> Box<dyn Store> {
        Box::new(store)
    }
}

impl From<PgStore> for Box<dyn Store> {
    fn from(store: PgStore) -> Box<dyn Store> {
        Box::new(store)
    }
}

/// Whether `spec` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(spec: &str) -> bool {
    let spec = spec.trim_start().to_ascii_lowercase();
    spec.starts_with("postgres:") || spec.starts_with("postgresql:")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;

    #[test]
    fn urls_and_paths_are_told_apart() {
        for url in [
            "postgres://u@h/db",
            "postgresql://h/db",
            "POSTGRES://h",
            " postgres:/typo",
        ] {
            assert!(is_postgres_url(url), "{url}");
        }
        for path in [
            "data/tsumiage.sqlite",
            "./postgres:odd",
            "/var/lib/postgres/x.sqlite",
            "",
        ] {
            assert!(!is_postgres_url(path), "{path}");
        }
    }

    #[test]
    fn a_path_opens_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/s.sqlite");
        let mut store = open(path.to_str().unwrap()).unwrap();
        assert_eq!(store.user("alice", Timestamp(0)).unwrap(), 1);
        drop(store);
        assert!(path.exists());
    }

    #[test]
    fn a_malformed_url_is_an_error_not_a_file() {
        let spec = "postgres://alice:hunter2@localhost:99999/db";
        let error = open(spec).err().expect("a malformed URL must be refused");
        let message = error.to_string();
        assert!(message.contains("malformed PostgreSQL URL"), "{message}");
        assert!(message.contains("localhost:99999/db"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        assert!(!Path::new(spec).exists());
    }
}
