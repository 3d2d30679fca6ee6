//! The embedded store: one SQLite file (WAL, foreign keys on, `synchronous = FULL`), versioned by
//! `PRAGMA user_version` and marked as tsumiage's by `PRAGMA application_id`. Opening checks the file
//! before touching it: a file from a newer tsumiage, another program's database, or a damaged file is
//! refused with a typed error and left exactly as it was.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior, params};

use super::*;
use crate::daily::schedule::{Days, Reveal};

/// The schema this build writes. Each step of `MIGRATIONS` moves the file up one version.
pub const SCHEMA_VERSION: i64 = 5;

/// `tsum` in ASCII: tells a tsumiage store from any other SQLite file.
const APPLICATION_ID: i64 = 0x7473_756d;

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
];

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

    /// Reads only: decides whether this file may be written to.
    fn check_before_writing(&mut self) -> Result<()> {
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

    fn migrate(&mut self) -> Result<()> {
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
        _ => StoreError::Sqlite(error),
    }
}

fn recorded(changed: usize) -> Recorded {
    if changed > 0 {
        Recorded::New
    } else {
        Recorded::Duplicate
    }
}

fn session_from_row(row: &rusqlite::Row) -> rusqlite::Result<SessionRecord> {
    let end: Option<String> = row.get(6)?;
    Ok(SessionRecord {
        id: row.get(0)?,
        channel: row.get(1)?,
        started_at: Timestamp(row.get(2)?),
        question_count: row.get::<_, i64>(3)? as usize,
        owner: row.get(4)?,
        ended_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        end: end.as_deref().and_then(SessionEnd::parse),
    })
}

const SESSION_COLUMNS: &str = "id, channel, started_ms, question_count, owner, ended_ms, end_reason";
const CARD_COLUMNS: &str =
    "question_id, due_ms, stability, difficulty, elapsed_days, scheduled_days, reps, lapses, state, last_review_ms";

fn card_from_row(row: &rusqlite::Row) -> rusqlite::Result<CardState> {
    Ok(CardState {
        question_id: row.get(0)?,
        due: Timestamp(row.get(1)?),
        stability: row.get(2)?,
        difficulty: row.get(3)?,
        elapsed_days: row.get(4)?,
        scheduled_days: row.get(5)?,
        reps: row.get(6)?,
        lapses: row.get(7)?,
        state: row.get(8)?,
        last_review: Timestamp(row.get(9)?),
    })
}

fn attempt_from_row(row: &rusqlite::Row) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        session: row.get(0)?,
        question_index: row.get::<_, i64>(1)? as usize,
        question_id: row.get(2)?,
        user: row.get(3)?,
        answer: row.get(4)?,
        correct: row.get(5)?,
        answered_at: Timestamp(row.get(6)?),
        elapsed_ms: row.get(7)?,
        picked: picked_from(row.get(8)?),
    })
}

/// `picked` as stored: choice keys separated by spaces; NULL (before schema 5) or empty for none.
fn picked_from(column: Option<String>) -> Vec<String> {
    column
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

fn picked_column(picked: &[String]) -> Option<String> {
    (!picked.is_empty()).then(|| picked.join(" "))
}

fn daily_post_from_row(row: &rusqlite::Row) -> rusqlite::Result<DailyPost> {
    let state: String = row.get(3)?;
    Ok(DailyPost {
        guild: row.get(0)?,
        slot: row.get(1)?,
        question_id: row.get(2)?,
        state: if state == "sent" {
            DailyPostState::Sent
        } else {
            DailyPostState::Recorded
        },
        message_id: row.get(4)?,
        recorded_at: Timestamp(row.get(5)?),
        sent_at: row.get::<_, Option<i64>>(6)?.map(Timestamp),
        channel: row.get(7)?,
        revealed_at: row.get::<_, Option<i64>>(8)?.map(Timestamp),
    })
}

const DAILY_POST_COLUMNS: &str =
    "guild, slot, question_id, state, message_id, recorded_ms, sent_ms, channel, revealed_ms";

/// Inserts a session unless its channel already has one running (checked in the caller's transaction).
fn insert_session(transaction: &Transaction, session: &NewSession) -> Result<SessionId> {
    let running: Option<SessionId> = transaction
        .query_row(
            "SELECT id FROM sessions WHERE channel = ?1 AND ended_ms IS NULL",
            [&session.channel],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(running) = running {
        return Err(StoreError::ChannelBusy {
            channel: session.channel.clone(),
            session: running,
        });
    }
    transaction.execute(
        "INSERT INTO sessions (channel, started_ms, question_count, owner) VALUES (?1, ?2, ?3, ?4)",
        params![
            session.channel,
            session.started_at.0,
            session.question_count as i64,
            session.owner
        ],
    )?;
    Ok(transaction.last_insert_rowid())
}

/// Appends effects after the session's last one. A name already recorded is skipped: the same effect is
/// never carried out twice.
fn insert_effects(
    transaction: &Transaction,
    session: SessionId,
    effects: &[NewEffect],
    at: Timestamp,
) -> rusqlite::Result<()> {
    let mut seq: i64 = transaction.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM quiz_effects WHERE session_id = ?1",
        [session],
        |row| row.get(0),
    )?;
    let mut insert = transaction.prepare(
        "INSERT OR IGNORE INTO quiz_effects (session_id, seq, effect, payload, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for effect in effects {
        seq += 1;
        insert.execute(params![session, seq, effect.effect, effect.payload, at.0])?;
    }
    Ok(())
}

const QUIZ_COLUMNS: &str = "id, channel, version, state, owner, lease_until_ms, ended_ms IS NOT NULL";

fn quiz_from_row(row: &rusqlite::Row) -> rusqlite::Result<QuizState> {
    Ok(QuizState {
        session: row.get(0)?,
        channel: row.get(1)?,
        version: row.get(2)?,
        state: row.get(3)?,
        lease: Lease {
            owner: row.get(4)?,
            until: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        },
        ended: row.get(6)?,
    })
}

fn insert_scores(transaction: &Transaction, session: SessionId, scores: &[FinalScore]) -> rusqlite::Result<()> {
    let mut insert = transaction
        .prepare("INSERT OR IGNORE INTO scores (session_id, user_id, points, rank) VALUES (?1, ?2, ?3, ?4)")?;
    for score in scores {
        insert.execute(params![session, score.user, score.points, score.rank])?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn user(&mut self, name: &str, now: Timestamp) -> Result<UserId> {
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO users (name, created_ms) VALUES (?1, ?2)",
                params![name, now.0],
            )?;
            tx.query_row("SELECT id FROM users WHERE name = ?1", [name], |row| row.get(0))
        })
    }

    fn start_session(&mut self, session: &NewSession) -> Result<SessionId> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = insert_session(&transaction, session)?;
        transaction.commit()?;
        Ok(id)
    }

    fn start_quiz(
        &mut self,
        session: &NewSession,
        lease_until: Timestamp,
        state: &str,
        effects: &[NewEffect],
    ) -> Result<SessionId> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = insert_session(&transaction, session)?;
        transaction.execute(
            "UPDATE sessions SET state = ?2, version = 1, lease_until_ms = ?3 WHERE id = ?1",
            params![id, state, lease_until.0],
        )?;
        insert_effects(&transaction, id, effects, session.started_at)?;
        transaction.commit()?;
        Ok(id)
    }

    fn quiz_state(&self, session: SessionId) -> Result<Option<QuizState>> {
        let sql = format!("SELECT {QUIZ_COLUMNS} FROM sessions WHERE id = ?1 AND state IS NOT NULL");
        Ok(self.connection.query_row(&sql, [session], quiz_from_row).optional()?)
    }

    fn running_quiz(&self, channel: &str) -> Result<Option<QuizState>> {
        let sql = format!(
            "SELECT {QUIZ_COLUMNS} FROM sessions WHERE channel = ?1 AND ended_ms IS NULL AND state IS NOT NULL"
        );
        Ok(self.connection.query_row(&sql, [channel], quiz_from_row).optional()?)
    }

    fn running_quizzes(&self) -> Result<Vec<QuizState>> {
        let sql = format!(
            "SELECT {QUIZ_COLUMNS} FROM sessions WHERE state IS NOT NULL AND (ended_ms IS NULL OR EXISTS (
                 SELECT 1 FROM quiz_effects e WHERE e.session_id = sessions.id AND e.sent_ms IS NULL))
             ORDER BY id"
        );
        let mut statement = self.connection.prepare(&sql)?;
        let rows = statement.query_map([], quiz_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn save_quiz_state(
        &mut self,
        session: SessionId,
        based_on: i64,
        state: &str,
        effects: &[NewEffect],
        at: Timestamp,
    ) -> Result<Cas> {
        self.write(|tx| {
            // The compare-and-swap: the write lands only on the version it was computed from.
            let changed = tx.execute(
                "UPDATE sessions SET state = ?3, version = version + 1
                 WHERE id = ?1 AND version = ?2 AND ended_ms IS NULL AND state IS NOT NULL",
                params![session, based_on, state],
            )?;
            if changed == 0 {
                return Ok(Cas::Conflict);
            }
            insert_effects(tx, session, effects, at)?;
            Ok(Cas::Saved(based_on + 1))
        })
    }

    fn take_lease(&mut self, session: SessionId, owner: &str, now: Timestamp, until: Timestamp) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE sessions SET owner = ?2, lease_until_ms = ?4
                 WHERE id = ?1 AND (owner = ?2 OR lease_until_ms IS NULL OR lease_until_ms <= ?3)",
                params![session, owner, now.0, until.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn release_lease(&mut self, session: SessionId, owner: &str, now: Timestamp) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE sessions SET lease_until_ms = ?3 WHERE id = ?1 AND owner = ?2",
                params![session, owner, now.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn quiz_effects(&self, session: SessionId) -> Result<Vec<QuizEffect>> {
        let mut statement = self.connection.prepare(
            "SELECT session_id, seq, effect, payload, recorded_ms, sent_ms, message_id
             FROM quiz_effects WHERE session_id = ?1 ORDER BY seq",
        )?;
        let rows = statement.query_map([session], |row| {
            Ok(QuizEffect {
                session: row.get(0)?,
                seq: row.get(1)?,
                effect: row.get(2)?,
                payload: row.get(3)?,
                recorded_at: Timestamp(row.get(4)?),
                sent_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
                message_id: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn mark_effect_sent(
        &mut self,
        session: SessionId,
        effect: &str,
        message_id: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE quiz_effects SET sent_ms = ?3, message_id = ?4
                 WHERE session_id = ?1 AND effect = ?2 AND sent_ms IS NULL",
                params![session, effect, at.0, message_id],
            )?;
            Ok(())
        })
    }

    fn set_last_shown(&mut self, channel: &str, question_id: &str, at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO last_shown (channel, question_id, shown_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (channel) DO UPDATE SET question_id = excluded.question_id, shown_ms = excluded.shown_ms",
                params![channel, question_id, at.0],
            )?;
            Ok(())
        })
    }

    fn last_shown(&self, channel: &str) -> Result<Option<String>> {
        Ok(self
            .connection
            .query_row(
                "SELECT question_id FROM last_shown WHERE channel = ?1",
                [channel],
                |row| row.get(0),
            )
            .optional()?)
    }

    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        Ok(self.connection.query_row(&sql, [id], session_from_row).optional()?)
    }

    fn unfinished_sessions(&self) -> Result<Vec<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE ended_ms IS NULL ORDER BY id");
        let mut statement = self.connection.prepare(&sql)?;
        let rows = statement.query_map([], session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn record_attempt(&mut self, attempt: &Attempt, card: Option<&CardState>) -> Result<Recorded> {
        // Sessions are never deleted, so checking outside the transaction is safe.
        if self.session(attempt.session)?.is_none() {
            return Err(StoreError::UnknownSession(attempt.session));
        }
        self.write(|tx| {
            let ended: Option<Option<i64>> =
                tx.query_row("SELECT ended_ms FROM sessions WHERE id = ?1", [attempt.session], |row| row.get(0)).optional()?;
            // An answer arriving for a session already closed (say, by recovery) must not change its score.
            if !matches!(ended, Some(None)) {
                return Ok(Recorded::Duplicate);
            }
            let changed = tx.execute(
                "INSERT OR IGNORE INTO attempts (session_id, question_index, question_id, user_id, answer, correct, answered_ms, elapsed_ms, picked)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    attempt.session,
                    attempt.question_index as i64,
                    attempt.question_id,
                    attempt.user,
                    attempt.answer,
                    attempt.correct,
                    attempt.answered_at.0,
                    attempt.elapsed_ms,
                    picked_column(&attempt.picked)
                ],
            )?;
            if changed > 0
                && let Some(card) = card
            {
                save_card(tx, attempt.user, card)?;
            }
            Ok(recorded(changed))
        })
    }

    fn attempts(&self, session: SessionId) -> Result<Vec<Attempt>> {
        let mut statement = self.connection.prepare(
            "SELECT session_id, question_index, question_id, user_id, answer, correct, answered_ms, elapsed_ms, picked
             FROM attempts WHERE session_id = ?1 ORDER BY question_index, user_id",
        )?;
        let rows = statement.query_map([session], attempt_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn finish_session(
        &mut self,
        id: SessionId,
        end: SessionEnd,
        at: Timestamp,
        scores: &[FinalScore],
    ) -> Result<Recorded> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ended: Option<Option<i64>> = transaction
            .query_row("SELECT ended_ms FROM sessions WHERE id = ?1", [id], |row| row.get(0))
            .optional()?;
        match ended {
            None => return Err(StoreError::UnknownSession(id)),
            Some(Some(_)) => return Ok(Recorded::Duplicate),
            Some(None) => {}
        }
        transaction.execute(
            "UPDATE sessions SET ended_ms = ?2, end_reason = ?3 WHERE id = ?1",
            params![id, at.0, end.as_str()],
        )?;
        insert_scores(&transaction, id, scores)?;
        transaction.commit()?;
        Ok(Recorded::New)
    }

    fn close_interrupted_sessions(
        &mut self,
        at: Timestamp,
        is_running: &dyn Fn(&SessionRecord) -> bool,
    ) -> Result<Vec<SessionId>> {
        let unfinished: Vec<SessionId> = self
            .unfinished_sessions()?
            .into_iter()
            .filter(|s| !is_running(s))
            .map(|s| s.id)
            .collect();
        for &id in &unfinished {
            let transaction = self
                .connection
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let points: Vec<(UserId, u32)> = {
                let mut statement = transaction
                    .prepare("SELECT user_id, SUM(correct) FROM attempts WHERE session_id = ?1 GROUP BY user_id")?;
                statement
                    .query_map([id], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u32)))?
                    .collect::<rusqlite::Result<_>>()?
            };
            let changed = transaction.execute(
                "UPDATE sessions SET ended_ms = ?2, end_reason = 'interrupted' WHERE id = ?1 AND ended_ms IS NULL",
                params![id, at.0],
            )?;
            if changed > 0 {
                insert_scores(&transaction, id, &rank_scores(points))?;
            }
            transaction.commit()?;
        }
        Ok(unfinished)
    }

    fn scores(&self, session: SessionId) -> Result<Vec<FinalScore>> {
        let mut statement = self
            .connection
            .prepare("SELECT user_id, points, rank FROM scores WHERE session_id = ?1 ORDER BY rank, user_id")?;
        let rows = statement.query_map([session], |row| {
            Ok(FinalScore {
                user: row.get(0)?,
                points: row.get(1)?,
                rank: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn card(&self, user: UserId, question_id: &str) -> Result<Option<CardState>> {
        let sql = format!("SELECT {CARD_COLUMNS} FROM cards WHERE user_id = ?1 AND question_id = ?2");
        Ok(self
            .connection
            .query_row(&sql, params![user, question_id], card_from_row)
            .optional()?)
    }

    fn due_cards(&self, user: UserId, now: Timestamp, limit: usize) -> Result<Vec<CardState>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} FROM cards WHERE user_id = ?1 AND due_ms <= ?2 ORDER BY due_ms, question_id LIMIT ?3"
        );
        let mut statement = self.connection.prepare(&sql)?;
        let rows = statement.query_map(params![user, now.0, limit as i64], card_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn recent_misses(&self, user: UserId, limit: usize) -> Result<Vec<String>> {
        // A question counts as missed when the user's latest answer to it, in a quiz or to a daily post,
        // was wrong.
        let mut statement = self.connection.prepare(
            "WITH answers (question_id, correct, answered_ms) AS (
                 SELECT question_id, correct, answered_ms FROM attempts WHERE user_id = ?1
                 UNION ALL
                 SELECT p.question_id, a.correct, a.answered_ms FROM daily_answers a
                   JOIN daily_posts p ON p.guild = a.guild AND p.slot = a.slot
                   WHERE a.user_id = ?1
             )
             SELECT question_id FROM answers a
             WHERE correct = 0
               AND answered_ms = (SELECT MAX(answered_ms) FROM answers b WHERE b.question_id = a.question_id)
             GROUP BY question_id ORDER BY MAX(answered_ms) DESC, question_id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![user, limit as i64], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn stats(&self, user: UserId, now: Timestamp) -> Result<UserStats> {
        let count = |sql: &str, extra: Option<i64>| -> rusqlite::Result<u64> {
            let value: i64 = match extra {
                Some(extra) => self.connection.query_row(sql, params![user, extra], |row| row.get(0))?,
                None => self.connection.query_row(sql, [user], |row| row.get(0))?,
            };
            Ok(value as u64)
        };
        Ok(UserStats {
            attempts: count("SELECT count(*) FROM attempts WHERE user_id = ?1", None)?,
            correct: count("SELECT count(*) FROM attempts WHERE user_id = ?1 AND correct = 1", None)?,
            sessions: count(
                "SELECT count(DISTINCT session_id) FROM attempts WHERE user_id = ?1",
                None,
            )?,
            points: count("SELECT COALESCE(SUM(points), 0) FROM scores WHERE user_id = ?1", None)?,
            cards: count("SELECT count(*) FROM cards WHERE user_id = ?1", None)?,
            due_cards: count(
                "SELECT count(*) FROM cards WHERE user_id = ?1 AND due_ms <= ?2",
                Some(now.0),
            )?,
        })
    }

    fn add_flag(&mut self, flag: &NewFlag) -> Result<FlagId> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO flags (question_id, user_id, reason, path, line, session_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![flag.question_id, flag.user, flag.reason, flag.path, flag.line as i64, flag.session, flag.created_at.0],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    fn flags(&self) -> Result<Vec<FlagRecord>> {
        let mut statement = self.connection.prepare(
            "SELECT f.id, f.question_id, u.name, f.reason, f.path, f.line, f.created_ms
             FROM flags f JOIN users u ON u.id = f.user_id ORDER BY f.path, f.line, f.id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(FlagRecord {
                id: row.get(0)?,
                question_id: row.get(1)?,
                user_name: row.get(2)?,
                reason: row.get(3)?,
                path: row.get(4)?,
                line: row.get::<_, i64>(5)? as usize,
                created_at: Timestamp(row.get(6)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn find_user(&self, name: &str) -> Result<Option<UserId>> {
        Ok(self
            .connection
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |row| row.get(0))
            .optional()?)
    }

    fn user_name(&self, user: UserId) -> Result<Option<String>> {
        Ok(self
            .connection
            .query_row("SELECT name FROM users WHERE id = ?1", params![user], |row| row.get(0))
            .optional()?)
    }

    fn set_daily_schedule(&mut self, schedule: &DailySchedule) -> Result<()> {
        let time = schedule.time.format("%H:%M").to_string();
        let reveal = match schedule.reveal {
            Reveal::AfterHours(hours) => Some(hours),
            Reveal::WithNextPost => None,
        };
        self.write(|tx| {
            tx.execute(
                "INSERT INTO daily_schedules (guild, channel, time_of_day, time_zone, weekdays_only, role, days, reveal_hours, topic, thread, enabled)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (guild) DO UPDATE SET channel = excluded.channel, time_of_day = excluded.time_of_day,
                   time_zone = excluded.time_zone, weekdays_only = excluded.weekdays_only, role = excluded.role,
                   days = excluded.days, reveal_hours = excluded.reveal_hours, topic = excluded.topic,
                   thread = excluded.thread, enabled = excluded.enabled",
                params![
                    schedule.guild,
                    schedule.channel,
                    time,
                    schedule.zone.name(),
                    schedule.days == Days::WEEKDAYS,
                    schedule.role,
                    schedule.days.mask(),
                    reveal,
                    schedule.topic,
                    schedule.thread,
                    schedule.enabled
                ],
            )?;
            Ok(())
        })
    }

    fn daily_schedules(&self) -> Result<Vec<DailySchedule>> {
        let mut statement = self.connection.prepare(
            "SELECT guild, channel, time_of_day, time_zone, role, days, reveal_hours, topic, thread, enabled FROM daily_schedules ORDER BY guild",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, u8>(5)?,
                row.get::<_, Option<u32>>(6)?,
                row.get::<_, Option<String>>(7)?,
                row.get::<_, bool>(8)?,
                row.get::<_, bool>(9)?,
            ))
        })?;
        let mut schedules = Vec::new();
        for row in rows {
            let (guild, channel, time, zone, role, days, reveal, topic, thread, enabled) = row?;
            let bad = |what: String| StoreError::BadSchedule(format!("guild {guild}: {what}"));
            schedules.push(DailySchedule {
                time: crate::daily::schedule::parse_time(&time).map_err(|e| bad(e.to_string()))?,
                zone: crate::daily::schedule::parse_zone(&zone).map_err(|e| bad(e.to_string()))?,
                days: Days::from_mask(days).ok_or_else(|| bad(format!("days mask {days}")))?,
                reveal: reveal.map_or(Reveal::WithNextPost, Reveal::AfterHours),
                guild: guild.clone(),
                channel,
                role,
                topic,
                thread,
                enabled,
            });
        }
        Ok(schedules)
    }

    fn record_daily_post(&mut self, post: &NewDailyPost, claim: &Lease) -> Result<Recorded> {
        self.write(|tx| {
            let changed = tx.execute(
                "INSERT INTO daily_posts (guild, slot, channel, question_id, state, recorded_ms, claimed_by, claim_until_ms)
                 VALUES (?1, ?2, ?3, ?4, 'recorded', ?5, ?6, ?7)
                 ON CONFLICT (guild, slot) DO NOTHING",
                params![
                    post.guild,
                    post.slot,
                    post.channel,
                    post.question_id,
                    post.at.0,
                    claim.owner,
                    claim.until.map(|t| t.0)
                ],
            )?;
            Ok(recorded(changed))
        })
    }

    fn claim_daily_post(
        &mut self,
        guild: &str,
        slot: &str,
        state: DailyPostState,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let state = match state {
            DailyPostState::Recorded => "recorded",
            DailyPostState::Sent => "sent",
        };
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE daily_posts SET claimed_by = ?4, claim_until_ms = ?6
                 WHERE guild = ?1 AND slot = ?2 AND state = ?3 AND revealed_ms IS NULL
                   AND (claimed_by = ?4 OR claim_until_ms IS NULL OR claim_until_ms <= ?5)",
                params![guild, slot, state, owner, now.0, until.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn mark_daily_sent(&mut self, guild: &str, slot: &str, message_id: &str, at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE daily_posts SET state = 'sent', message_id = ?3, sent_ms = ?4, claimed_by = NULL, claim_until_ms = NULL
                 WHERE guild = ?1 AND slot = ?2",
                params![guild, slot, message_id, at.0],
            )?;
            Ok(())
        })
    }

    fn mark_daily_revealed(&mut self, guild: &str, slot: &str, at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE daily_posts SET revealed_ms = ?3, claimed_by = NULL, claim_until_ms = NULL
                 WHERE guild = ?1 AND slot = ?2 AND revealed_ms IS NULL",
                params![guild, slot, at.0],
            )?;
            Ok(())
        })
    }

    fn daily_post(&self, guild: &str, slot: &str) -> Result<Option<DailyPost>> {
        Ok(self
            .connection
            .query_row(
                &format!("SELECT {DAILY_POST_COLUMNS} FROM daily_posts WHERE guild = ?1 AND slot = ?2"),
                params![guild, slot],
                daily_post_from_row,
            )
            .optional()?)
    }

    fn daily_posts(&self, guild: &str) -> Result<Vec<DailyPost>> {
        let mut statement = self.connection.prepare(&format!(
            "SELECT {DAILY_POST_COLUMNS} FROM daily_posts WHERE guild = ?1 ORDER BY recorded_ms, slot"
        ))?;
        let rows = statement.query_map(params![guild], daily_post_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn record_daily_answer(&mut self, answer: &DailyAnswer, card: Option<&CardState>) -> Result<Recorded> {
        self.write(|tx| {
            let changed = tx.execute(
                "INSERT OR IGNORE INTO daily_answers (guild, slot, user_id, answer, correct, answered_ms, picked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![answer.guild, answer.slot, answer.user, answer.answer, answer.correct, answer.answered_at.0, picked_column(&answer.picked)],
            )?;
            if changed > 0
                && let Some(card) = card
            {
                save_card(tx, answer.user, card)?;
            }
            Ok(recorded(changed))
        })
    }

    fn daily_answers(&self, guild: &str, slot: &str) -> Result<Vec<DailyAnswer>> {
        let mut statement = self.connection.prepare(
            "SELECT guild, slot, user_id, answer, correct, answered_ms, picked FROM daily_answers WHERE guild = ?1 AND slot = ?2 ORDER BY answered_ms, user_id",
        )?;
        let rows = statement.query_map(params![guild, slot], daily_answer_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn guild_daily_answers(&self, guild: &str) -> Result<Vec<DailyAnswer>> {
        let mut statement = self.connection.prepare(
            "SELECT guild, slot, user_id, answer, correct, answered_ms, picked FROM daily_answers WHERE guild = ?1 ORDER BY answered_ms, user_id",
        )?;
        let rows = statement.query_map(params![guild], daily_answer_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn group_recent(&self, guild: &str, since: Timestamp) -> Result<Vec<(String, u32, u32)>> {
        // Quiz sessions in this guild are on channels `discord:<guild>:<channel>`.
        let mut statement = self.connection.prepare(
            "SELECT question_id, SUM(correct), COUNT(*) FROM (
                 SELECT p.question_id, a.correct FROM daily_answers a
                   JOIN daily_posts p ON p.guild = a.guild AND p.slot = a.slot
                   WHERE a.guild = ?1 AND a.answered_ms >= ?2
                 UNION ALL
                 SELECT t.question_id, t.correct FROM attempts t JOIN sessions s ON s.id = t.session_id
                   WHERE s.channel LIKE 'discord:' || ?1 || ':%' AND t.answered_ms >= ?2
             ) GROUP BY question_id ORDER BY question_id",
        )?;
        let rows = statement.query_map(params![guild, since.0], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn group_due(&self, guild: &str, now: Timestamp) -> Result<Vec<(String, u32)>> {
        let mut statement = self.connection.prepare(
            "SELECT question_id, COUNT(*) FROM cards WHERE due_ms <= ?2 AND user_id IN (
                 SELECT user_id FROM daily_answers WHERE guild = ?1
                 UNION
                 SELECT t.user_id FROM attempts t JOIN sessions s ON s.id = t.session_id
                   WHERE s.channel LIKE 'discord:' || ?1 || ':%'
             ) GROUP BY question_id ORDER BY question_id",
        )?;
        let rows = statement.query_map(params![guild, now.0], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Inserts or replaces a user's card, inside the caller's transaction.
fn save_card(tx: &Transaction, user: UserId, card: &CardState) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO cards (user_id, question_id, due_ms, stability, difficulty, elapsed_days, scheduled_days, reps, lapses, state, last_review_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (user_id, question_id) DO UPDATE SET due_ms = excluded.due_ms, stability = excluded.stability,
           difficulty = excluded.difficulty, elapsed_days = excluded.elapsed_days, scheduled_days = excluded.scheduled_days,
           reps = excluded.reps, lapses = excluded.lapses, state = excluded.state, last_review_ms = excluded.last_review_ms",
        params![
            user,
            card.question_id,
            card.due.0,
            card.stability,
            card.difficulty,
            card.elapsed_days,
            card.scheduled_days,
            card.reps,
            card.lapses,
            card.state,
            card.last_review.0
        ],
    )?;
    Ok(())
}

fn daily_answer_from_row(row: &rusqlite::Row) -> rusqlite::Result<DailyAnswer> {
    Ok(DailyAnswer {
        guild: row.get(0)?,
        slot: row.get(1)?,
        user: row.get(2)?,
        answer: row.get(3)?,
        correct: row.get(4)?,
        answered_at: Timestamp(row.get(5)?),
        picked: picked_from(row.get(6)?),
    })
}

/// One line of the all-time leaderboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderLine {
    pub user_name: String,
    pub points: u64,
    pub sessions: u64,
}

impl SqliteStore {
    /// Users by points summed over every finished session, best first (ties by name), at most `limit`.
    pub fn leaderboard(&self, name_prefix: &str, limit: usize) -> Result<Vec<LeaderLine>> {
        let mut statement = self.connection.prepare(
            "SELECT u.name, SUM(s.points), COUNT(*) FROM scores s JOIN users u ON u.id = s.user_id \
             WHERE substr(u.name, 1, length(?1)) = ?1 GROUP BY u.id ORDER BY SUM(s.points) DESC, u.name LIMIT ?2",
        )?;
        let lines = statement
            .query_map(params![name_prefix, limit as i64], |row| {
                Ok(LeaderLine {
                    user_name: row.get(0)?,
                    points: row.get::<_, i64>(1)? as u64,
                    sessions: row.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(session: SessionId, index: usize, user: UserId, correct: bool) -> Attempt {
        Attempt {
            session,
            question_index: index,
            question_id: format!("q{index}"),
            user,
            answer: "B".into(),
            picked: vec!["k1".into()],
            correct,
            answered_at: Timestamp(1_000 + index as i64),
            elapsed_ms: 1_000,
        }
    }

    fn open_temp() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("data/t.sqlite")).unwrap();
        (dir, store)
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
    fn a_replayed_attempt_counts_once_and_does_not_touch_the_card_again() {
        let (_dir, mut store) = open_temp();
        let user = store.user("alice", Timestamp(0)).unwrap();
        assert_eq!(store.user("alice", Timestamp(5)).unwrap(), user);
        let session = store
            .start_session(&NewSession {
                channel: "t".into(),
                started_at: Timestamp(0),
                question_count: 2,
                owner: "test".into(),
            })
            .unwrap();
        let card = CardState {
            question_id: "q0".into(),
            due: Timestamp(9),
            stability: 1.0,
            difficulty: 5.0,
            elapsed_days: 0,
            scheduled_days: 0,
            reps: 1,
            lapses: 0,
            state: 1,
            last_review: Timestamp(1),
        };
        assert_eq!(
            store
                .record_attempt(&attempt(session, 0, user, true), Some(&card))
                .unwrap(),
            Recorded::New
        );
        let replayed_card = CardState {
            reps: 2,
            ..card.clone()
        };
        assert_eq!(
            store
                .record_attempt(&attempt(session, 0, user, true), Some(&replayed_card))
                .unwrap(),
            Recorded::Duplicate
        );
        assert_eq!(store.attempts(session).unwrap().len(), 1);
        assert_eq!(store.card(user, "q0").unwrap().unwrap().reps, 1);
        let unknown = store
            .record_attempt(&attempt(session + 1, 0, user, true), None)
            .unwrap_err();
        assert!(matches!(unknown, StoreError::UnknownSession(_)), "{unknown}");
        // The trait is object safe: a bot can hold `Box<dyn Store>` and swap the backend.
        let as_trait: &mut dyn Store = &mut store;
        assert_eq!(as_trait.attempts(session).unwrap().len(), 1);
    }

    #[test]
    fn finishing_twice_and_recovery_never_count_a_score_twice() {
        let (_dir, mut store) = open_temp();
        let alice = store.user("alice", Timestamp(0)).unwrap();
        let bob = store.user("bob", Timestamp(0)).unwrap();
        let done = store
            .start_session(&NewSession {
                channel: "a".into(),
                started_at: Timestamp(0),
                question_count: 1,
                owner: "test".into(),
            })
            .unwrap();
        store.record_attempt(&attempt(done, 0, alice, true), None).unwrap();
        let scores = rank_scores(vec![(alice, 1)]);
        assert_eq!(
            store
                .finish_session(done, SessionEnd::CountReached, Timestamp(5), &scores)
                .unwrap(),
            Recorded::New
        );
        assert_eq!(
            store
                .finish_session(done, SessionEnd::Stopped, Timestamp(6), &scores)
                .unwrap(),
            Recorded::Duplicate
        );

        let broken = store
            .start_session(&NewSession {
                channel: "b".into(),
                started_at: Timestamp(0),
                question_count: 3,
                owner: "test".into(),
            })
            .unwrap();
        store.record_attempt(&attempt(broken, 0, alice, true), None).unwrap();
        store.record_attempt(&attempt(broken, 0, bob, true), None).unwrap();
        store.record_attempt(&attempt(broken, 1, bob, false), None).unwrap();
        assert_eq!(
            store.close_interrupted_sessions(Timestamp(10), &|_| false).unwrap(),
            vec![broken]
        );
        assert!(
            store
                .close_interrupted_sessions(Timestamp(11), &|_| false)
                .unwrap()
                .is_empty()
        );
        // A late write for the closed session changes nothing.
        assert_eq!(
            store.record_attempt(&attempt(broken, 2, alice, true), None).unwrap(),
            Recorded::Duplicate
        );
        let record = store.session(broken).unwrap().unwrap();
        assert_eq!(record.end, Some(SessionEnd::Interrupted));
        let scores = store.scores(broken).unwrap();
        assert_eq!(
            scores,
            vec![
                FinalScore {
                    user: alice,
                    points: 1,
                    rank: 1
                },
                FinalScore {
                    user: bob,
                    points: 1,
                    rank: 1
                }
            ]
        );
        assert_eq!(store.stats(alice, Timestamp(20)).unwrap().points, 2);
    }

    #[test]
    fn one_running_session_per_channel_and_live_sessions_stay_open() {
        let (_dir, mut store) = open_temp();
        let new = |channel: &str, owner: &str| NewSession {
            channel: channel.into(),
            started_at: Timestamp(0),
            question_count: 1,
            owner: owner.into(),
        };
        let live = store.start_session(&new("c1", "alive")).unwrap();
        let error = store.start_session(&new("c1", "alive")).unwrap_err();
        assert!(
            matches!(error, StoreError::ChannelBusy { session, .. } if session == live),
            "{error}"
        );
        let dead = store.start_session(&new("c2", "dead")).unwrap();
        let closed = store
            .close_interrupted_sessions(Timestamp(5), &|s| s.owner == "alive")
            .unwrap();
        assert_eq!(closed, vec![dead]);
        assert_eq!(
            store
                .unfinished_sessions()
                .unwrap()
                .iter()
                .map(|s| s.id)
                .collect::<Vec<_>>(),
            vec![live]
        );
        // Once the dead session is closed its channel is free again.
        store.start_session(&new("c2", "alive")).unwrap();
    }

    #[test]
    fn misses_due_cards_and_flags() {
        let (_dir, mut store) = open_temp();
        let user = store.user("alice", Timestamp(0)).unwrap();
        let session = store
            .start_session(&NewSession {
                channel: "a".into(),
                started_at: Timestamp(0),
                question_count: 3,
                owner: "test".into(),
            })
            .unwrap();
        store.record_attempt(&attempt(session, 0, user, false), None).unwrap();
        store.record_attempt(&attempt(session, 1, user, true), None).unwrap();
        store.record_attempt(&attempt(session, 2, user, false), None).unwrap();
        assert_eq!(
            store.recent_misses(user, 10).unwrap(),
            vec!["q2".to_string(), "q0".to_string()]
        );
        let flag = NewFlag {
            question_id: "q0".into(),
            user,
            reason: "answer key wrong".into(),
            path: "aws/questions/k.md".into(),
            line: 7,
            session: Some(session),
            created_at: Timestamp(3),
        };
        store.add_flag(&flag).unwrap();
        let flags = store.flags().unwrap();
        assert_eq!(
            (flags[0].user_name.as_str(), flags[0].path.as_str(), flags[0].line),
            ("alice", "aws/questions/k.md", 7)
        );
    }

    #[test]
    fn a_daily_answer_reviews_the_card_once_and_a_wrong_one_is_a_miss_until_answered_right() {
        let (_dir, mut store) = open_temp();
        let user = store.user("carol", Timestamp(0)).unwrap();
        store
            .record_daily_post(&new_daily_post("q7", 1), &claim("replica:a", 100))
            .unwrap();
        let card = CardState {
            question_id: "q7".into(),
            due: Timestamp(600_000),
            stability: 0.2,
            difficulty: 7.0,
            elapsed_days: 0,
            scheduled_days: 0,
            reps: 1,
            lapses: 0,
            state: 1,
            last_review: Timestamp(4),
        };
        let wrong = DailyAnswer {
            guild: "g".into(),
            slot: "2026-11-26".into(),
            user,
            answer: "A".into(),
            picked: Vec::new(),
            correct: false,
            answered_at: Timestamp(4),
        };
        assert_eq!(store.record_daily_answer(&wrong, Some(&card)).unwrap(), Recorded::New);
        // A second press (another replica, a retried interaction) leaves the card as the first answer set it.
        let pressed_again = CardState {
            reps: 2,
            ..card.clone()
        };
        assert_eq!(
            store.record_daily_answer(&wrong, Some(&pressed_again)).unwrap(),
            Recorded::Duplicate
        );
        assert_eq!(store.card(user, "q7").unwrap(), Some(card));
        assert_eq!(store.due_cards(user, Timestamp(600_000), 10).unwrap().len(), 1);
        assert_eq!(store.recent_misses(user, 10).unwrap(), vec!["q7".to_string()]);

        // Answered right later in a quiz: no longer a miss.
        let session = store
            .start_session(&NewSession {
                channel: "a".into(),
                started_at: Timestamp(0),
                question_count: 8,
                owner: "test".into(),
            })
            .unwrap();
        store.record_attempt(&attempt(session, 7, user, true), None).unwrap();
        assert_eq!(store.recent_misses(user, 10).unwrap(), Vec::<String>::new());
    }

    fn new_daily_post(question_id: &str, at: i64) -> NewDailyPost {
        NewDailyPost {
            guild: "g".into(),
            slot: "2026-11-26".into(),
            channel: "c".into(),
            question_id: question_id.into(),
            at: Timestamp(at),
        }
    }

    fn claim(owner: &str, until: i64) -> Lease {
        Lease {
            owner: owner.into(),
            until: Some(Timestamp(until)),
        }
    }

    #[test]
    fn a_daily_slot_is_recorded_by_one_replica_and_its_send_and_reveal_claimed_by_one_until_the_claim_lapses() {
        let (_dir, mut store) = open_temp();
        let (recorded, sent) = (DailyPostState::Recorded, DailyPostState::Sent);
        let slot = "2026-11-26";
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q1", 10), &claim("replica:a", 100))
                .unwrap(),
            Recorded::New
        );
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q2", 11), &claim("replica:b", 100))
                .unwrap(),
            Recorded::Duplicate
        );
        // A's claim to send: A may renew it, B may not until it lapses, then B holds it.
        assert!(
            store
                .claim_daily_post("g", slot, recorded, "replica:a", Timestamp(50), Timestamp(150))
                .unwrap()
        );
        assert!(
            !store
                .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(149), Timestamp(249))
                .unwrap()
        );
        assert!(
            store
                .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(150), Timestamp(250))
                .unwrap()
        );
        assert!(
            !store
                .claim_daily_post("g", slot, recorded, "replica:a", Timestamp(160), Timestamp(260))
                .unwrap()
        );
        // Sent: the claim is cleared, and a claim on the recorded post fails (nothing left to send).
        store.mark_daily_sent("g", slot, "m1", Timestamp(170)).unwrap();
        assert!(
            !store
                .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(171), Timestamp(271))
                .unwrap()
        );
        // The reveal: claimed by whoever comes first, then by nobody else until it lapses or is done.
        assert!(
            store
                .claim_daily_post("g", slot, sent, "replica:a", Timestamp(300), Timestamp(400))
                .unwrap()
        );
        assert!(
            !store
                .claim_daily_post("g", slot, sent, "replica:b", Timestamp(300), Timestamp(400))
                .unwrap()
        );
        store.mark_daily_revealed("g", slot, Timestamp(310)).unwrap();
        assert!(
            !store
                .claim_daily_post("g", slot, sent, "replica:b", Timestamp(500), Timestamp(600))
                .unwrap()
        );
        let post = store.daily_post("g", slot).unwrap().unwrap();
        assert_eq!(
            (post.question_id.as_str(), post.message_id.as_deref(), post.revealed_at),
            ("q1", Some("m1"), Some(Timestamp(310)))
        );
    }

    #[test]
    fn daily_records_are_idempotent() {
        let (_dir, mut store) = open_temp();
        let schedule = DailySchedule {
            guild: "g".into(),
            channel: "c".into(),
            time: crate::daily::schedule::parse_time("09:00").unwrap(),
            zone: crate::daily::schedule::parse_zone("Asia/Tokyo").unwrap(),
            days: Days::WEEKDAYS,
            role: None,
            reveal: Reveal::AfterHours(12),
            topic: None,
            thread: false,
            enabled: true,
        };
        store.set_daily_schedule(&schedule).unwrap();
        let changed = DailySchedule {
            time: crate::daily::schedule::parse_time("08:30").unwrap(),
            zone: crate::daily::schedule::parse_zone("Europe/Berlin").unwrap(),
            days: Days::parse("mon,fri").unwrap(),
            role: Some("r".into()),
            reveal: Reveal::WithNextPost,
            topic: Some("Kinesis".into()),
            thread: true,
            enabled: false,
            ..schedule
        };
        store.set_daily_schedule(&changed).unwrap();
        assert_eq!(store.daily_schedules().unwrap(), vec![changed]);
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q1", 1), &claim("replica:a", 100))
                .unwrap(),
            Recorded::New
        );
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q2", 2), &claim("replica:b", 100))
                .unwrap(),
            Recorded::Duplicate
        );
        assert_eq!(
            store.daily_post("g", "2026-11-26").unwrap().unwrap().state,
            DailyPostState::Recorded
        );
        store.mark_daily_sent("g", "2026-11-26", "m1", Timestamp(3)).unwrap();
        let post = store.daily_post("g", "2026-11-26").unwrap().unwrap();
        assert_eq!(
            (post.question_id.as_str(), post.state, post.message_id.as_deref()),
            ("q1", DailyPostState::Sent, Some("m1"))
        );
        let user = store.user("bob", Timestamp(0)).unwrap();
        let answer = DailyAnswer {
            guild: "g".into(),
            slot: "2026-11-26".into(),
            user,
            answer: "A".into(),
            picked: Vec::new(),
            correct: true,
            answered_at: Timestamp(4),
        };
        assert_eq!(store.record_daily_answer(&answer, None).unwrap(), Recorded::New);
        assert_eq!(store.record_daily_answer(&answer, None).unwrap(), Recorded::Duplicate);
        assert_eq!(store.daily_answers("g", "2026-11-26").unwrap().len(), 1);
        store.mark_daily_revealed("g", "2026-11-26", Timestamp(5)).unwrap();
        store.mark_daily_revealed("g", "2026-11-26", Timestamp(6)).unwrap();
        let posts = store.daily_posts("g").unwrap();
        assert_eq!(
            (posts.len(), posts[0].revealed_at, posts[0].channel.as_deref()),
            (1, Some(Timestamp(5)), Some("c"))
        );
        assert_eq!(store.guild_daily_answers("g").unwrap().len(), 1);
        assert_eq!(
            store.group_recent("g", Timestamp(0)).unwrap(),
            vec![("q1".to_string(), 1, 1)]
        );
        assert_eq!(store.group_recent("other", Timestamp(0)).unwrap(), vec![]);
        assert_eq!(store.group_due("g", Timestamp(0)).unwrap(), vec![]);
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
    fn a_save_based_on_an_old_version_is_a_conflict_and_changes_nothing() {
        let (dir, mut store) = open_temp();
        let session = store
            .start_quiz(&quiz_session("c"), Timestamp(100), "s1", &[effect("ask:0")])
            .unwrap();
        let stored = store.running_quiz("c").unwrap().unwrap();
        assert_eq!(
            (stored.session, stored.version, stored.state.as_str()),
            (session, 1, "s1")
        );
        assert_eq!((stored.lease.owner.as_str(), stored.ended), ("replica:a", false));
        // Two replicas load version 1; the first save wins, the second is refused.
        let mut other = SqliteStore::open(&dir.path().join("data/t.sqlite")).unwrap();
        assert_eq!(
            store
                .save_quiz_state(session, 1, "s2", &[effect("reveal:0"), effect("ask:1")], Timestamp(5))
                .unwrap(),
            Cas::Saved(2)
        );
        assert_eq!(
            other
                .save_quiz_state(session, 1, "s2-other", &[effect("reveal:0")], Timestamp(6))
                .unwrap(),
            Cas::Conflict
        );
        let stored = other.quiz_state(session).unwrap().unwrap();
        assert_eq!((stored.version, stored.state.as_str()), (2, "s2"));
        // Retried on the fresh version, it lands; an effect already recorded is not recorded twice.
        assert_eq!(
            other
                .save_quiz_state(session, 2, "s3", &[effect("ask:1"), effect("finish")], Timestamp(7))
                .unwrap(),
            Cas::Saved(3)
        );
        let names: Vec<String> = store
            .quiz_effects(session)
            .unwrap()
            .into_iter()
            .map(|e| e.effect)
            .collect();
        assert_eq!(names, ["ask:0", "reveal:0", "ask:1", "finish"]);
        store
            .mark_effect_sent(session, "ask:0", Some("m1"), Timestamp(8))
            .unwrap();
        store
            .mark_effect_sent(session, "ask:0", Some("m2"), Timestamp(9))
            .unwrap();
        let first = &store.quiz_effects(session).unwrap()[0];
        assert_eq!(
            (first.message_id.as_deref(), first.sent_at),
            (Some("m1"), Some(Timestamp(8)))
        );
        // A second quiz in the channel is refused; once the session ended, saves are conflicts.
        let busy = store
            .start_quiz(&quiz_session("c"), Timestamp(100), "x", &[])
            .unwrap_err();
        assert!(matches!(busy, StoreError::ChannelBusy { .. }), "{busy}");
        store
            .finish_session(session, SessionEnd::CountReached, Timestamp(10), &[])
            .unwrap();
        assert_eq!(
            store.save_quiz_state(session, 3, "s4", &[], Timestamp(11)).unwrap(),
            Cas::Conflict
        );
        assert!(store.running_quiz("c").unwrap().is_none());
        assert!(store.quiz_state(session).unwrap().unwrap().ended);
        // Ended, with effects still to carry out: still listed, until they are done.
        assert_eq!(store.running_quizzes().unwrap().len(), 1);
        for name in ["reveal:0", "ask:1", "finish"] {
            store.mark_effect_sent(session, name, None, Timestamp(12)).unwrap();
        }
        assert!(store.running_quizzes().unwrap().is_empty());
        // Terminal sessions have no state: never listed as quizzes to take over.
        store.start_session(&quiz_session("terminal:alice")).unwrap();
        assert!(store.running_quizzes().unwrap().is_empty());
    }

    #[test]
    fn a_lease_is_taken_renewed_and_after_it_expired_stolen() {
        let (_dir, mut store) = open_temp();
        let session = store.start_quiz(&quiz_session("c"), Timestamp(100), "s", &[]).unwrap();
        // Held by a until 100: b cannot take it before then; a renews it.
        assert!(
            !store
                .take_lease(session, "replica:b", Timestamp(50), Timestamp(150))
                .unwrap()
        );
        assert!(
            store
                .take_lease(session, "replica:a", Timestamp(60), Timestamp(160))
                .unwrap()
        );
        assert!(
            !store
                .take_lease(session, "replica:b", Timestamp(120), Timestamp(220))
                .unwrap()
        );
        // a stops renewing: at its expiry b steals it, and a can no longer renew.
        assert!(
            store
                .take_lease(session, "replica:b", Timestamp(160), Timestamp(260))
                .unwrap()
        );
        let lease = store.quiz_state(session).unwrap().unwrap().lease;
        assert_eq!((lease.owner.as_str(), lease.until), ("replica:b", Some(Timestamp(260))));
        assert!(
            !store
                .take_lease(session, "replica:a", Timestamp(170), Timestamp(270))
                .unwrap()
        );
        // An ended session's lease still expires and can be taken: its last effects may be pending.
        store
            .finish_session(session, SessionEnd::Stopped, Timestamp(300), &[])
            .unwrap();
        assert!(
            !store
                .take_lease(session, "replica:a", Timestamp(259), Timestamp(500))
                .unwrap()
        );
        assert!(
            store
                .take_lease(session, "replica:a", Timestamp(400), Timestamp(500))
                .unwrap()
        );
    }

    #[test]
    fn a_released_lease_can_be_taken_at_once_and_only_its_holder_releases_it() {
        let (_dir, mut store) = open_temp();
        let session = store.start_quiz(&quiz_session("c"), Timestamp(100), "s", &[]).unwrap();
        assert!(
            store
                .take_lease(session, "replica:a", Timestamp(10), Timestamp(1_000))
                .unwrap()
        );
        assert!(!store.release_lease(session, "replica:b", Timestamp(20)).unwrap());
        assert!(
            !store
                .take_lease(session, "replica:b", Timestamp(30), Timestamp(1_030))
                .unwrap()
        );
        assert!(store.release_lease(session, "replica:a", Timestamp(40)).unwrap());
        assert_eq!(
            store.quiz_state(session).unwrap().unwrap().lease.until,
            Some(Timestamp(40))
        );
        assert!(
            store
                .take_lease(session, "replica:b", Timestamp(40), Timestamp(1_040))
                .unwrap()
        );
    }

    #[test]
    fn the_last_question_shown_is_per_channel() {
        let (_dir, mut store) = open_temp();
        assert_eq!(store.last_shown("c1").unwrap(), None);
        store.set_last_shown("c1", "q1", Timestamp(1)).unwrap();
        store.set_last_shown("c2", "q9", Timestamp(1)).unwrap();
        store.set_last_shown("c1", "q2", Timestamp(2)).unwrap();
        assert_eq!(store.last_shown("c1").unwrap().as_deref(), Some("q2"));
        assert_eq!(store.last_shown("c2").unwrap().as_deref(), Some("q9"));
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

    #[test]
    fn ranks_share_ties() {
        let ranks: Vec<(UserId, u32, u32)> = rank_scores(vec![(1, 3), (2, 5), (3, 5), (4, 1)])
            .into_iter()
            .map(|s| (s.user, s.points, s.rank))
            .collect();
        assert_eq!(ranks, vec![(2, 5, 1), (3, 5, 1), (1, 3, 3), (4, 1, 4)]);
    }
}
