//! The store on real files: a new file is migrated, a file from a newer tsumiage, another program's
//! database and a damaged file are refused with a clear error and left byte for byte as they were.

use tsumiage::clock::Timestamp;
use tsumiage::store::{NewSession, SCHEMA_VERSION, SqliteStore, Store, StoreError};

fn new_store_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("s.sqlite");
    let mut store = SqliteStore::open(&path).unwrap();
    let user = store.user("alice", Timestamp(0)).unwrap();
    let session = store
        .start_session(&NewSession {
            channel: "t".into(),
            started_at: Timestamp(0),
            question_count: 1,
            owner: "test".into(),
        })
        .unwrap();
    assert!(user > 0 && session > 0);
    drop(store);
    path
}

#[test]
fn reopening_keeps_the_data_and_the_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_store_file(dir.path());
    let mut store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.unfinished_sessions().unwrap().len(), 1);
    assert_eq!(store.user("alice", Timestamp(1)).unwrap(), 1);
}

#[test]
fn a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = new_store_file(dir.path());
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let error = SqliteStore::open(&path).err().expect("a newer schema must be refused");
    assert!(
        matches!(error, StoreError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
        "{error}"
    );
    assert!(error.to_string().contains("newer tsumiage"), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_corrupted_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.sqlite");
    let bytes: Vec<u8> = (0..8192u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    std::fs::write(&garbage, &bytes).unwrap();
    let error = SqliteStore::open(&garbage).err().expect("garbage must be refused");
    assert!(matches!(error, StoreError::Corrupted { .. }), "{error}");
    assert!(error.to_string().contains("corrupted"), "{error}");
    assert_eq!(std::fs::read(&garbage).unwrap(), bytes);

    // A real store whose pages were overwritten: the header is fine, the b-trees are not.
    let path = new_store_file(dir.path());
    {
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let mut damaged = std::fs::read(&path).unwrap();
    assert!(damaged.len() > 3 * 4096, "{}", damaged.len());
    for byte in &mut damaged[4096 + 100..3 * 4096] {
        *byte = 0x5a;
    }
    std::fs::write(&path, &damaged).unwrap();
    let error = SqliteStore::open(&path).err().expect("a damaged store must be refused");
    assert!(matches!(error, StoreError::Corrupted { .. }), "{error}");
    assert_eq!(std::fs::read(&path).unwrap(), damaged);
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE notes (x TEXT);")
        .unwrap();
    let error = SqliteStore::open(&path)
        .err()
        .expect("a foreign database must be refused");
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error}");
}
