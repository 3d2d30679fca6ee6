//! The SQLite file's schema: each step of `MIGRATIONS` moves it up one version (`PRAGMA user_version`),
//! in a write transaction so replicas opening the file at once migrate it once. A file is checked before
//! anything is written: a newer schema, another program's database or a damaged file is refused as is.

use rusqlite::TransactionBehavior;

use super::{SqliteStore, classify};
use crate::store::{Result, StoreError};

/// The schema this build writes. Each step of `MIGRATIONS` moves the file up one version.
pub const SCHEMA_VERSION: i64 = 7;

/// `tsum` in ASCII: tells a tsumiage store from any other SQLite file.
pub(super) const APPLICATION_ID: i64 = 0x7473_756d;

/// Migration `i` takes the schema from version `i` to `i + 1`. Never edit a released step: add one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    started_ms INTEGER NOT NULL,
    question_count INTEGER NOT NULL,
    owner TEXT NOT NULL,
    ended_ms INTEGER,
    end_reason TEXT CHECK (end_reason IN ('count_reached', 'stopped', 'silence', 'interrupted'))
);
-- One running quiz per channel.
CREATE UNIQUE INDEX sessions_running_per_channel ON sessions (channel) WHERE ended_ms IS NULL;
CREATE TABLE attempts (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    question_index INTEGER NOT NULL,
    question_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
    answered_ms INTEGER NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    UNIQUE (session_id, question_index, user_id)
);
CREATE INDEX attempts_by_user ON attempts (user_id, answered_ms);
CREATE TABLE scores (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    points INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE TABLE cards (
    user_id INTEGER NOT NULL REFERENCES users (id),
    question_id TEXT NOT NULL,
    due_ms INTEGER NOT NULL,
    stability REAL NOT NULL,
    difficulty REAL NOT NULL,
    elapsed_days INTEGER NOT NULL,
    scheduled_days INTEGER NOT NULL,
    reps INTEGER NOT NULL,
    lapses INTEGER NOT NULL,
    state INTEGER NOT NULL,
    last_review_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, question_id)
);
CREATE INDEX cards_due ON cards (user_id, due_ms);
CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    question_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL,
    path TEXT NOT NULL,
    line INTEGER NOT NULL,
    session_id INTEGER REFERENCES sessions (id),
    created_ms INTEGER NOT NULL
);
CREATE TABLE daily_schedules (
    guild TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    time_of_day TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    weekdays_only INTEGER NOT NULL CHECK (weekdays_only IN (0, 1)),
    role TEXT
);
CREATE TABLE daily_posts (
    guild TEXT NOT NULL,
    slot TEXT NOT NULL,
    question_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('recorded', 'sent')),
    message_id TEXT,
    recorded_ms INTEGER NOT NULL,
    sent_ms INTEGER,
    PRIMARY KEY (guild, slot)
);
CREATE TABLE daily_answers (
    guild TEXT NOT NULL,
    slot TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id),
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL CHECK (correct IN (0, 1)),
    answered_ms INTEGER NOT NULL,
    PRIMARY KEY (guild, slot, user_id),
    FOREIGN KEY (guild, slot) REFERENCES daily_posts (guild, slot)
);
"#,
    r#"
-- The full daily schedule: days as a weekday bit mask (Monday bit 0), reveal after N hours (NULL: with the
-- next post), topic filter, discussion thread, and on/off. weekdays_only stays, derived from days.
ALTER TABLE daily_schedules ADD COLUMN days INTEGER NOT NULL DEFAULT 127;
UPDATE daily_schedules SET days = 31 WHERE weekdays_only = 1;
ALTER TABLE daily_schedules ADD COLUMN reveal_hours INTEGER DEFAULT 12;
ALTER TABLE daily_schedules ADD COLUMN topic TEXT;
ALTER TABLE daily_schedules ADD COLUMN thread INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_schedules ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;
ALTER TABLE daily_posts ADD COLUMN channel TEXT;
ALTER TABLE daily_posts ADD COLUMN revealed_ms INTEGER;
"#,
    r#"
-- Discord quizzes live in the store so that any replica can serve them: the serialised quiz (NULL for
-- terminal quizzes and sessions from before), its version for compare-and-swap saves, and the lease:
-- `owner` drives its deadlines until lease_until_ms unless it renews.
ALTER TABLE sessions ADD COLUMN state TEXT;
ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN lease_until_ms INTEGER;
-- What a quiz shows in its channel, recorded with the state change that caused it and marked sent after,
-- so a replica taking over knows what was done and carries out only the rest.
CREATE TABLE quiz_effects (
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    seq INTEGER NOT NULL,
    effect TEXT NOT NULL,
    payload TEXT NOT NULL,
    recorded_ms INTEGER NOT NULL,
    sent_ms INTEGER,
    message_id TEXT,
    PRIMARY KEY (session_id, seq),
    UNIQUE (session_id, effect)
);
-- The last question shown per channel, for /flag without an id, whichever replica showed it.
CREATE TABLE last_shown (
    channel TEXT PRIMARY KEY,
    question_id TEXT NOT NULL,
    shown_ms INTEGER NOT NULL
);
"#,
    r#"
-- A daily slot's pending work (sending a recorded post, revealing a sent one) is claimed by one replica
-- until claim_until_ms; another replica takes it over only once the claim lapsed. Cleared when done.
ALTER TABLE daily_posts ADD COLUMN claimed_by TEXT;
ALTER TABLE daily_posts ADD COLUMN claim_until_ms INTEGER;
"#,
    r#"
-- Choices are shown in an order drawn per quiz and per daily slot, so a stored letter means nothing once
-- the order changes: the picked choices are kept by identity too (hashes of their text, space-separated).
-- NULL for answers stored before: their letters and `correct` stay as they were.
ALTER TABLE attempts ADD COLUMN picked TEXT;
ALTER TABLE daily_answers ADD COLUMN picked TEXT;
"#,
    r#"
-- A change counter per topic ('notes', 'daily'): a replica bumps it after a change every replica must act
-- on, and the others poll it.
CREATE TABLE signals (
    topic TEXT PRIMARY KEY,
    counter INTEGER NOT NULL
);
"#,
    r#"
-- Every replica's build version and the store schema it runs, recorded when it starts and while it runs;
-- and the version that saved each quiz state and daily slot: a replica never drives one a newer build
-- saved. NULL for records from before.
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    schema INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
ALTER TABLE sessions ADD COLUMN saved_by TEXT;
ALTER TABLE daily_posts ADD COLUMN saved_by TEXT;
"#,
];

impl SqliteStore {
    /// Reads only: decides whether this file may be written to.
    pub(super) fn check_before_writing(&mut self) -> Result<()> {
        let path = self.path.clone();
        let read = |sql: &str| -> Result<i64> {
            self.connection
                .query_row(sql, [], |row| row.get(0))
                .map_err(|e| classify(&path, e))
        };
        let version = read("PRAGMA user_version")?;
        let application_id = read("PRAGMA application_id")?;
        let tables = read("SELECT count(*) FROM sqlite_master")?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if application_id != APPLICATION_ID && (version > 0 || tables > 0) {
            return Err(StoreError::NotAStore {
                path,
                detail: format!("SQLite database with application id {application_id:#x}"),
            });
        }
        if tables > 0 {
            let verdict: String = self
                .connection
                .query_row("PRAGMA quick_check", [], |row| row.get(0))
                .map_err(|e| classify(&path, e))?;
            if verdict != "ok" {
                return Err(StoreError::Corrupted { path, detail: verdict });
            }
        }
        Ok(())
    }

    pub(super) fn migrate(&mut self) -> Result<()> {
        let version = self.schema_version()?;
        for (step, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let transaction = self
                .connection
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            // Replicas sharing the file may open it at the same moment: the step runs once, in whichever
            // takes the write lock first; the other finds it done.
            let now: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            if now > step as i64 {
                continue;
            }
            transaction.execute_batch(sql)?;
            transaction.pragma_update(None, "user_version", step as i64 + 1)?;
            transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
            transaction.commit()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::quiz::session::SessionEnd;
    use crate::store::*;
    use rusqlite::Connection;

    fn open_temp() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("data/t.sqlite")).unwrap();
        (dir, store)
    }

    fn quiz_session(channel: &str) -> NewSession {
        NewSession {
            channel: channel.into(),
            started_at: Timestamp(0),
            question_count: 2,
            owner: "replica:a".into(),
        }
    }

    fn effect(name: &str) -> NewEffect {
        NewEffect {
            effect: name.into(),
            payload: format!("{{\"{name}\": true}}"),
        }
    }

    #[test]
    fn a_new_file_is_migrated_to_the_current_schema_in_wal_mode() {
        let (_dir, store) = open_temp();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let mode: String = store
            .connection
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let foreign_keys: i64 = store
            .connection
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(foreign_keys, 1);
    }

    #[test]
    fn a_version_2_file_is_upgraded_keeping_its_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            // The file as the previous release left it: schema 2, a finished and a running session.
            let connection = Connection::open(&path).unwrap();
            for (step, sql) in MIGRATIONS.iter().take(2).enumerate() {
                connection.execute_batch(sql).unwrap();
                connection.pragma_update(None, "user_version", step as i64 + 1).unwrap();
            }
            connection
                .pragma_update(None, "application_id", APPLICATION_ID)
                .unwrap();
            connection
                .execute_batch(
                    "INSERT INTO users (id, name, created_ms) VALUES (1, 'discord:7', 0);
                     INSERT INTO sessions (id, channel, started_ms, question_count, owner, ended_ms, end_reason)
                       VALUES (1, 'discord:1:2', 0, 2, 'pid:1', 50, 'count_reached');
                     INSERT INTO sessions (id, channel, started_ms, question_count, owner)
                       VALUES (2, 'discord:1:3', 60, 2, 'pid:999999999');
                     INSERT INTO attempts (session_id, question_index, question_id, user_id, answer, correct, answered_ms, elapsed_ms)
                       VALUES (1, 0, 'q1', 1, 'B', 1, 10, 10);
                     INSERT INTO scores (session_id, user_id, points, rank) VALUES (1, 1, 1, 1);
                     INSERT INTO daily_posts (guild, slot, question_id, state, recorded_ms, channel)
                       VALUES ('1', '2026-11-26', 'q1', 'sent', 5, '2');",
                )
                .unwrap();
        }
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let old = store.attempts(1).unwrap();
        // An attempt from before choice identities keeps its letter and verdict, with no picked keys.
        assert_eq!((old.len(), old[0].answer.as_str(), old[0].correct), (1, "B", true));
        assert!(old[0].picked.is_empty());
        assert_eq!(store.scores(1).unwrap()[0].points, 1);
        assert_eq!(store.user("discord:7", Timestamp(0)).unwrap(), 1);
        assert_eq!(store.daily_posts("1").unwrap().len(), 1);
        // A post from before claims is unclaimed: its reveal can be claimed.
        assert!(
            store
                .claim_daily_post(
                    "1",
                    "2026-11-26",
                    DailyPostState::Sent,
                    "replica:a",
                    Timestamp(0),
                    Timestamp(1)
                )
                .unwrap()
        );
        assert_eq!(store.session(1).unwrap().unwrap().end, Some(SessionEnd::CountReached));
        // The running session from before has no stored quiz: not a quiz to take over; its dead owner
        // process still gets it closed as interrupted, as before.
        assert!(store.running_quizzes().unwrap().is_empty());
        assert_eq!(
            store
                .close_interrupted_sessions(Timestamp(70), &crate::store::owner::still_running)
                .unwrap(),
            vec![2]
        );
        // The new tables work on the upgraded file.
        let session = store
            .start_quiz(&quiz_session("discord:1:3"), Timestamp(200), "s", &[effect("ask:0")])
            .unwrap();
        assert_eq!(store.quiz_effects(session).unwrap().len(), 1);
        // Opening again is a no-op.
        drop(store);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(store.running_quizzes().unwrap().len(), 1);
    }

    #[test]
    fn every_schema_version_has_its_migration() {
        assert_eq!(MIGRATIONS.len() as i64, SCHEMA_VERSION);
    }
}
