//! The store on real files: a new file is migrated, a file from a newer tsumiage, another program's
//! database and a damaged file are refused with a clear error and left byte for byte as they were.

use tsumiage::clock::Timestamp;
use tsumiage::store::{NewSession, SCHEMA_VERSION, Sessions, SqliteStore, StoreError, Users};

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

/// A question file with its choice lines in the given order.
fn bank_with(choices: &[&str]) -> String {
    format!(
        "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-r1\n\n既定の保持期間は?\n\n{}\n解説: 既定は 24 時間。\n",
        choices.iter().map(|c| format!("{c}\n")).collect::<String>()
    )
}

#[test]
fn a_stored_attempt_means_the_same_after_the_files_choices_are_reordered() {
    use tsumiage::notes::NoteSet;
    use tsumiage::quiz::session::PlayerResult;
    use tsumiage::quiz::{Answer, QuizQuestion};
    use tsumiage::review::{AnswerRecord, record_answer};

    let question_of = |text: &str| {
        let set = NoteSet::from_texts([("q/kinesis.md", text)]);
        QuizQuestion::from_bank(&tsumiage::check::questions(&set)[0], &set)
    };
    let before = question_of(&bank_with(&[
        "- [ ] 1 時間",
        "- [ ] 7 日",
        "- [x] 24 時間",
        "- [ ] 365 日",
    ]));
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
    let session = store
        .start_session(&NewSession {
            channel: "t".into(),
            started_at: Timestamp(0),
            question_count: 2,
            owner: "test".into(),
        })
        .unwrap();
    // Two attempts as shown under some seed: a wrong pick (`7 日`) and the right one, by their letters there.
    let shown = before.presented(42);
    let letter_of = |text: &str| shown.choices.iter().find(|c| c.text == text).unwrap().label;
    for (index, text) in [(0, "7 日"), (1, "24 時間")] {
        let answer = Answer::Picks(vec![letter_of(text)]);
        let result = PlayerResult {
            player: "alice".into(),
            verdict: shown.check(&answer).verdict,
            answer: Some(answer),
            points: 0,
            answered_at: Timestamp(10),
            elapsed_ms: 10,
        };
        let record = AnswerRecord {
            session,
            index,
            question: &shown,
            player: "alice",
            result: &result,
            time_limit_ms: 20_000,
        };
        record_answer(&mut store, &tsumiage::review::Scheduler::default(), &record).unwrap();
    }
    // The file's choices are then reordered (and the key moved with them, as the rebalancer does).
    let after = question_of(&bank_with(&[
        "- [x] 24 時間",
        "- [ ] 365 日",
        "- [ ] 7 日",
        "- [ ] 1 時間",
    ]));
    let attempts = store.attempts(session).unwrap();
    let picked: Vec<Vec<&str>> = attempts
        .iter()
        .map(|a| {
            after
                .choices_by_key(&a.picked)
                .iter()
                .map(|c| c.text.as_str())
                .collect()
        })
        .collect();
    assert_eq!(picked, [vec!["7 日"], vec!["24 時間"]]);
    for attempt in &attempts {
        assert_eq!(after.keys_are_correct(&attempt.picked), attempt.correct, "{attempt:?}");
    }
    assert_eq!(attempts.iter().map(|a| a.correct).collect::<Vec<_>>(), [false, true]);
    // Shown again under another order, the stored picks read as that order's letters.
    let again = after.presented(7);
    let letter = again.choices.iter().find(|c| c.text == "24 時間").unwrap().label;
    assert_eq!(
        again.shown_picks(&attempts[1].answer, &attempts[1].picked),
        letter.to_string()
    );
}
