//! Durable records: users, sessions, every attempt, final scores, spaced-repetition cards, flags on
//! questions, and the daily question (schedule per guild, posted slots, answers). `Store` is the small
//! interface the quiz, the CLI and the Discord bot write through; `SqliteStore` is the embedded backend,
//! `PgStore` the PostgreSQL one for replicas on several hosts, and `open` picks one from a setting (a file
//! path or a `postgres://` URL).
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

mod open;
pub mod owner;
mod postgres;
mod sqlite;

use std::path::PathBuf;

pub use self::postgres::{PG_SCHEMA_VERSION, PgStore};
pub use open::{is_postgres_url, open};
pub use sqlite::{LeaderLine, SCHEMA_VERSION, SqliteStore};

use crate::clock::Timestamp;

pub type UserId = i64;
pub type SessionId = i64;
pub type FlagId = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path} was written by a newer tsumiage (store schema {found}, this build knows up to {supported}): upgrade tsumiage; the file was not changed"
    )]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },
    #[error("{path} is not a tsumiage store ({detail}); the file was not changed")]
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
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A backend's own failure (PostgreSQL: connection, login, query), as a message that names the server
    /// and database but never a password.
    #[error("store: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A running Discord quiz as stored: the adapter's serialised quiz, its version and its lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizState {
    pub session: SessionId,
    /// The session's channel key (`discord:<guild>:<channel>`): at most one running quiz each.
    pub channel: String,
    /// Bumped by every save: a save names the version it was based on.
    pub version: i64,
    /// The quiz, serialised by the adapter (JSON).
    pub state: String,
    pub lease: Lease,
    /// The session has ended (its last effects may still be pending).
    pub ended: bool,
}

/// Who drives a quiz's deadlines, and until when, unless renewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub owner: String,
    /// `None`: never leased (a session from before leases, or a terminal quiz).
    pub until: Option<Timestamp>,
}

/// The outcome of a compare-and-swap save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cas {
    /// Saved; the state's version is now this.
    Saved(i64),
    /// The stored version is not the one the save was based on (another replica saved first), or the
    /// session has ended: nothing was written.
    Conflict,
}

/// An effect of a state change, as recorded with it: `effect` names it uniquely within the session
/// (`ask:0`, `reveal:0`, `finish`), `payload` is what the adapter needs to carry it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEffect {
    pub effect: String,
    pub payload: String,
}

/// A recorded effect: pending until `sent_at` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizEffect {
    pub session: SessionId,
    /// Order within the session: effects are carried out in this order.
    pub seq: i64,
    pub effect: String,
    pub payload: String,
    pub recorded_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    /// The message it posted (a question's message is edited by its reveal).
    pub message_id: Option<String>,
}

/// Whether a write landed or was a replay of one already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    Duplicate,
}

/// A quiz session as it starts: where it runs and how many questions it will ask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// `terminal:alice`, `discord:<guild>:<channel>`: one running session per channel.
    pub channel: String,
    pub started_at: Timestamp,
    pub question_count: usize,
    /// Who runs it (`pid:1234` for a terminal process): a session whose owner is gone was interrupted.
    pub owner: String,
}

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SessionEnd {
    CountReached,
    Stopped,
    Silence,
    /// The process died mid-session; closed when the store was next opened.
    Interrupted,
}

impl SessionEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionEnd::CountReached => "count_reached",
            SessionEnd::Stopped => "stopped",
            SessionEnd::Silence => "silence",
            SessionEnd::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<SessionEnd> {
        Some(match text {
            "count_reached" => SessionEnd::CountReached,
            "stopped" => SessionEnd::Stopped,
            "silence" => SessionEnd::Silence,
            "interrupted" => SessionEnd::Interrupted,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub channel: String,
    pub started_at: Timestamp,
    pub question_count: usize,
    pub owner: String,
    pub ended_at: Option<Timestamp>,
    pub end: Option<SessionEnd>,
}

/// One player's answer to one question of a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub session: SessionId,
    /// 0-based position of the question in the session: with `session` and `user`, the attempt's key.
    pub question_index: usize,
    pub question_id: String,
    pub user: UserId,
    /// What the player gave as shown to them (`B`, `A,C`, free text); empty when time ran out. Choices are
    /// shown in an order drawn per quiz, so a letter alone means nothing later: `picked` does.
    pub answer: String,
    /// The picked choices by identity (`QuizChoice::key`, a hash of the choice's text), so the attempt
    /// means the same after the file's choices are reordered. Empty for a typed answer, no answer, and
    /// attempts stored before schema 5.
    pub picked: Vec<String>,
    /// Whether it scored (a close free-text answer scores).
    pub correct: bool,
    pub answered_at: Timestamp,
    /// From the question being asked to the answer.
    pub elapsed_ms: i64,
}

/// One player's final result in a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalScore {
    pub user: UserId,
    pub points: u32,
    /// Competition ranking: ties share a rank (1, 1, 3).
    pub rank: u32,
}

/// The spaced-repetition state of one user's card for one question, in plain numbers (the FSRS fields).
#[derive(Debug, Clone, PartialEq)]
pub struct CardState {
    pub question_id: String,
    pub due: Timestamp,
    pub stability: f64,
    pub difficulty: f64,
    pub elapsed_days: i64,
    pub scheduled_days: i64,
    pub reps: i32,
    pub lapses: i32,
    /// 0 new, 1 learning, 2 review, 3 relearning.
    pub state: i32,
    pub last_review: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFlag {
    pub question_id: String,
    pub user: UserId,
    pub reason: String,
    /// Where the question is defined (question file or note section): where the fix goes.
    pub path: String,
    pub line: usize,
    pub session: Option<SessionId>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRecord {
    pub id: FlagId,
    pub question_id: String,
    pub user_name: String,
    pub reason: String,
    pub path: String,
    pub line: usize,
    pub created_at: Timestamp,
}

/// A user's totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserStats {
    pub attempts: u64,
    pub correct: u64,
    pub sessions: u64,
    pub points: u64,
    pub cards: u64,
    pub due_cards: u64,
}

/// A guild's daily question settings: the schedule module's type, stored as is.
pub use crate::schedule::DailySchedule;

/// A daily question slot: first recorded (chosen), then sent. Recording before sending is what keeps a
/// restart from posting twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyPostState {
    Recorded,
    Sent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyPost {
    pub guild: String,
    /// The slot's local date, `YYYY-MM-DD`.
    pub slot: String,
    pub question_id: String,
    pub state: DailyPostState,
    /// Where it was posted (the schedule's channel may change afterwards).
    pub channel: Option<String>,
    pub message_id: Option<String>,
    pub recorded_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub revealed_at: Option<Timestamp>,
}

/// A slot about to be recorded: the question chosen for it and the channel it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDailyPost {
    pub guild: String,
    pub slot: String,
    pub channel: String,
    pub question_id: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyAnswer {
    pub guild: String,
    pub slot: String,
    pub user: UserId,
    /// The button pressed, as shown on the post.
    pub answer: String,
    /// The picked choice by identity, as `Attempt::picked` (empty before schema 5).
    pub picked: Vec<String>,
    pub correct: bool,
    pub answered_at: Timestamp,
}

/// The records tsumiage keeps. Writes take `&mut self`: each is one transaction.
pub trait Store {
    /// The user with this name, created on first use.
    fn user(&mut self, name: &str, now: Timestamp) -> Result<UserId>;
    /// The name of a user id (`None` for an unknown id).
    fn user_name(&self, user: UserId) -> Result<Option<String>>;
    /// The id of a user by name, without creating one (`None` for an unknown name).
    fn find_user(&self, name: &str) -> Result<Option<UserId>>;

    /// Starts a session; refused with `ChannelBusy` while another one is unfinished in the same channel.
    fn start_session(&mut self, session: &NewSession) -> Result<SessionId>;
    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>>;
    /// Sessions not ended yet (a running quiz, or one whose process died).
    fn unfinished_sessions(&self) -> Result<Vec<SessionRecord>>;
    /// Records an attempt and, in the same transaction, the user's updated card. A replayed attempt (same
    /// session, question index and user) changes nothing: neither the attempt nor the card.
    fn record_attempt(&mut self, attempt: &Attempt, card: Option<&CardState>) -> Result<Recorded>;
    fn attempts(&self, session: SessionId) -> Result<Vec<Attempt>>;
    /// Ends a session and stores its final scores, once: a second call is a `Duplicate` and changes nothing.
    fn finish_session(
        &mut self,
        id: SessionId,
        end: SessionEnd,
        at: Timestamp,
        scores: &[FinalScore],
    ) -> Result<Recorded>;
    /// Closes every unfinished session that `is_running` says is no longer run by anyone (its process was
    /// killed) as `Interrupted`, scoring it from its stored attempts. Returns the sessions closed.
    fn close_interrupted_sessions(
        &mut self,
        at: Timestamp,
        is_running: &dyn Fn(&SessionRecord) -> bool,
    ) -> Result<Vec<SessionId>>;
    fn scores(&self, session: SessionId) -> Result<Vec<FinalScore>>;

    /// Starts a quiz run from the store: the session, its first state (version 1) leased to
    /// `session.owner` until `lease_until`, and the first effects, in one transaction. `ChannelBusy` as
    /// `start_session`.
    fn start_quiz(
        &mut self,
        session: &NewSession,
        lease_until: Timestamp,
        state: &str,
        effects: &[NewEffect],
    ) -> Result<SessionId>;
    /// A quiz's stored state, ended or not (`None` for a session without state: a terminal quiz, or one
    /// from before quizzes were stored).
    fn quiz_state(&self, session: SessionId) -> Result<Option<QuizState>>;
    /// The unfinished quiz with a state in `channel`.
    fn running_quiz(&self, channel: &str) -> Result<Option<QuizState>>;
    /// Every quiz with a state that is unfinished or still has effects to carry out.
    fn running_quizzes(&self) -> Result<Vec<QuizState>>;
    /// Saves `state` if the stored version is still `based_on` and the session has not ended, recording
    /// `effects` after those already recorded, in one transaction.
    fn save_quiz_state(
        &mut self,
        session: SessionId,
        based_on: i64,
        state: &str,
        effects: &[NewEffect],
        at: Timestamp,
    ) -> Result<Cas>;
    /// Takes, renews or steals the lease: succeeds when `owner` holds it already, or nobody does, or it
    /// expired at or before `now`; then `owner` holds it until `until`. `false`: someone else holds it.
    /// (An ended session's lease can be taken too: its last effects may be pending.)
    fn take_lease(&mut self, session: SessionId, owner: &str, now: Timestamp, until: Timestamp) -> Result<bool>;
    /// Ends `owner`'s lease on the quiz at `now`, so any replica may take it at once; `false` (and nothing
    /// changed) when `owner` does not hold it.
    fn release_lease(&mut self, session: SessionId, owner: &str, now: Timestamp) -> Result<bool>;
    /// A session's effects in order, sent or not.
    fn quiz_effects(&self, session: SessionId) -> Result<Vec<QuizEffect>>;
    /// Marks an effect carried out (with the message it posted); a second call changes nothing.
    fn mark_effect_sent(
        &mut self,
        session: SessionId,
        effect: &str,
        message_id: Option<&str>,
        at: Timestamp,
    ) -> Result<()>;
    /// The last question shown in a channel (what `/flag` without an id flags).
    fn set_last_shown(&mut self, channel: &str, question_id: &str, at: Timestamp) -> Result<()>;
    fn last_shown(&self, channel: &str) -> Result<Option<String>>;

    fn card(&self, user: UserId, question_id: &str) -> Result<Option<CardState>>;
    /// Cards due at `now`, most overdue first.
    fn due_cards(&self, user: UserId, now: Timestamp, limit: usize) -> Result<Vec<CardState>>;
    /// Questions the user last got wrong, most recent first.
    fn recent_misses(&self, user: UserId, limit: usize) -> Result<Vec<String>>;
    fn stats(&self, user: UserId, now: Timestamp) -> Result<UserStats>;

    fn add_flag(&mut self, flag: &NewFlag) -> Result<FlagId>;
    fn flags(&self) -> Result<Vec<FlagRecord>>;

    fn set_daily_schedule(&mut self, schedule: &DailySchedule) -> Result<()>;
    fn daily_schedules(&self) -> Result<Vec<DailySchedule>>;
    /// Records the question chosen for a slot, claimed by `claim` (the replica that will send it), if
    /// nobody recorded the slot yet: `New` means this caller won the slot and sends it. `Duplicate`: it was
    /// recorded first by another replica or an earlier run; its question and claim stand, nothing changes.
    fn record_daily_post(&mut self, post: &NewDailyPost, claim: &Lease) -> Result<Recorded>;
    /// Claims a slot's pending work for `owner` until `until`: sending its post while it is `Recorded`,
    /// revealing it once `Sent`. Succeeds when the slot is in `state`, not revealed, and `owner` holds the
    /// claim already, or nobody does, or it lapsed at or before `now`. `false`: another replica holds it,
    /// or the work is done (the state moved on). Marking the slot sent or revealed clears the claim.
    fn claim_daily_post(
        &mut self,
        guild: &str,
        slot: &str,
        state: DailyPostState,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool>;
    fn mark_daily_sent(&mut self, guild: &str, slot: &str, message_id: &str, at: Timestamp) -> Result<()>;
    fn mark_daily_revealed(&mut self, guild: &str, slot: &str, at: Timestamp) -> Result<()>;
    fn daily_post(&self, guild: &str, slot: &str) -> Result<Option<DailyPost>>;
    /// Every post of a guild, oldest first.
    fn daily_posts(&self, guild: &str) -> Result<Vec<DailyPost>>;
    /// Records a member's answer to a daily post and, in the same transaction, their updated card for its
    /// question. A second answer to the same post changes nothing: neither the answer nor the card.
    fn record_daily_answer(&mut self, answer: &DailyAnswer, card: Option<&CardState>) -> Result<Recorded>;
    fn daily_answers(&self, guild: &str, slot: &str) -> Result<Vec<DailyAnswer>>;
    /// Every daily answer in a guild.
    fn guild_daily_answers(&self, guild: &str) -> Result<Vec<DailyAnswer>>;
    /// (question, right, total) over the guild's daily answers and quiz attempts since `since`.
    fn group_recent(&self, guild: &str, since: Timestamp) -> Result<Vec<(String, u32, u32)>>;
    /// (question, members with its card due at `now`) over the guild's members (who answered there).
    fn group_due(&self, guild: &str, now: Timestamp) -> Result<Vec<(String, u32)>>;
}

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
