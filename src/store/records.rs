//! The records the store keeps, as plain values the core reads and writes: no SQL, no backend.

use crate::clock::Timestamp;
use crate::quiz::session::SessionEnd;

pub type UserId = i64;
pub type SessionId = i64;
pub type FlagId = i64;

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
    /// The build version that saved it last (`None`: saved before versions were recorded).
    pub saved_by: Option<String>,
}

/// Who drives a quiz's deadlines (or does a daily slot's pending work), and until when, unless renewed.
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
pub use crate::daily::schedule::DailySchedule;

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
    /// The replica doing its pending work and until when (owner empty, `until` `None`: nobody).
    pub claim: Lease,
    /// The build version that recorded it (`None`: recorded before versions were).
    pub saved_by: Option<String>,
}

/// A bot replica as it recorded itself in the store: its build version and the store schema it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaRecord {
    pub id: String,
    pub version: String,
    pub schema: i64,
    pub started: Timestamp,
    pub last_seen: Timestamp,
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

/// One line of the all-time leaderboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderLine {
    pub user_name: String,
    pub points: u64,
    pub sessions: u64,
}

/// What one replica changes and every other must act on (`Signals`): `Notes` after a `/reload`, `Daily`
/// after a schedule change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Notes,
    Daily,
}

impl Topic {
    pub const ALL: [Topic; 2] = [Topic::Notes, Topic::Daily];

    /// The name stored for the topic.
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Notes => "notes",
            Topic::Daily => "daily",
        }
    }
}
