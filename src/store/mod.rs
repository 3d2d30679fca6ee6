//! Durable records: users, sessions, every attempt, final scores, spaced-repetition cards, flags on
//! questions, and the daily question (schedule per guild, posted slots, answers). `records` are the plain
//! values; `ports` are one small trait per group of records (`Users`, `Sessions`, `LiveQuizzes`, `Cards`,
//! `Flags`, `DailyLog`, `Signals`, `Replicas`), and `Store` is their sum, which the CLI and the bot hold as `Box<dyn Store>`.
//! Backends implement every port with the same meaning (the contract tests in `tests/it/store_contract.rs`
//! run the same scenarios on both): `sqlite` (the embedded default, one file) and `postgres` (for replicas on
//! several hosts); `open` picks one from a setting (a file path or a `postgres://` URL).
//!
//! The records and ports are core: no SQL, no backend crate. Only `sqlite/` and `postgres/` import a
//! database driver, and `owner` reads `/proc` to tell whether a recorded process still runs (used by the
//! adapters).
//!
//! Every write is idempotent where a replay is possible: an attempt is keyed by (session, question index,
//! user), a final score by (session, user), a daily post by (guild, slot), a daily answer by (guild, slot,
//! user). A write that would count twice is ignored and reported as `Recorded::Duplicate`.
//!
//! A Discord quiz lives here too, so that any bot replica sharing the file can serve it: its serialised
//! state with a version (saved by compare-and-swap: a save based on an old version is refused as a
//! `Cas::Conflict` and the caller reloads and retries), a lease naming the one replica that drives its
//! deadlines, and its effects (post question N, reveal question N, post the scoreboard), recorded in the
//! same transaction as the state change that caused them and marked sent once done.
//!
//! The daily question is shared the same way: a slot is recorded by one replica only (an insert that
//! either wins or finds the slot taken), and its pending work (the send, then the reveal) is claimed by one
//! replica at a time until an expiry, after which another replica may take it over.

mod columns;
mod open;
pub mod owner;
mod ports;
mod postgres;
mod records;
mod sqlite;
pub mod versions;

use std::path::PathBuf;

pub use self::postgres::{PG_SCHEMA_VERSION, PgStore};
pub use open::{is_postgres_url, open};
pub use ports::{Cards, DailyLog, Flags, LiveQuizzes, Replicas, Sessions, Signals, Store, Users};
pub use records::*;
pub use sqlite::{SCHEMA_VERSION, SqliteStore};
pub use versions::BUILD_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path} was written by a newer tsumiage (store schema {found}, this build knows up to {supported}): upgrade tsumiage; the store was not changed"
    )]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("{path} is not a tsumiage store ({detail}); it was not changed")]
    NotAStore { path: PathBuf, detail: String },
    #[error("{path} is corrupted ({detail}); the file was not changed: restore it from a backup or move it aside")]
    Corrupted { path: PathBuf, detail: String },
    #[error("cannot create the folder for the store {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("a quiz is already running in {channel} (session {session}): one quiz per channel")]
    ChannelBusy { channel: String, session: SessionId },
    #[error("a stored daily schedule is unreadable ({0}): set it again with /daily set")]
    BadSchedule(String),
    #[error("unknown session {0}")]
    UnknownSession(SessionId),
    /// A backend's own failure (an SQL error; PostgreSQL: connection, login, query), as a message that
    /// names the server and database but never a password.
    #[error("store: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Competition ranking of (user, points): ties share a rank, the next rank skips (10, 10, 7 → 1, 1, 3).
pub fn rank_scores(mut points: Vec<(UserId, u32)>) -> Vec<FinalScore> {
    points.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut scores: Vec<FinalScore> = Vec::with_capacity(points.len());
    for (i, (user, points)) in points.into_iter().enumerate() {
        let rank = match scores.last() {
            Some(previous) if previous.points == points => previous.rank,
            _ => i as u32 + 1,
        };
        scores.push(FinalScore { user, points, rank });
    }
    scores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties() {
        let ranks: Vec<(UserId, u32, u32)> = rank_scores(vec![(1, 3), (2, 5), (3, 5), (4, 1)])
            .into_iter()
            .map(|s| (s.user, s.points, s.rank))
            .collect();
        assert_eq!(ranks, vec![(2, 5, 1), (3, 5, 1), (1, 3, 3), (4, 1, 4)]);
    }
}
