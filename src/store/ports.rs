//! The store's ports: one small trait per group of records, each written by one feature. A backend
//! implements all of them (`Store` is their sum); a caller names the one it needs. Writes take `&mut self`
//! and are one transaction each; every method has the same meaning on every backend (the contract tests in
//! `tests/it/store_contract.rs` run the same scenarios on each).

use super::Result;
use super::records::*;
use crate::clock::Timestamp;
use crate::daily::schedule::DailySchedule;
use crate::quiz::session::SessionEnd;

/// The people who answer: a user per name (a terminal player, a Discord member as `discord:<id>`), and what they have done.
pub trait Users {
    /// The user with this name, created on first use.
    fn user(&mut self, name: &str, now: Timestamp) -> Result<UserId>;
    /// The name of a user id (`None` for an unknown id).
    fn user_name(&self, user: UserId) -> Result<Option<String>>;
    /// The id of a user by name, without creating one (`None` for an unknown name).
    fn find_user(&self, name: &str) -> Result<Option<UserId>>;
    fn stats(&self, user: UserId, now: Timestamp) -> Result<UserStats>;
    /// Users whose name starts with `name_prefix`, by points summed over every finished session, best
    /// first (ties by name), at most `limit`.
    fn leaderboard(&self, name_prefix: &str, limit: usize) -> Result<Vec<LeaderLine>>;
}

/// Quiz sessions, every attempt in them and their final scores, written exactly once.
pub trait Sessions {
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
    /// Closes an unfinished session as `Interrupted`, scored from its stored attempts, in one transaction;
    /// a session that has ended meanwhile (another replica closed it) is left as it is.
    fn close_interrupted(&mut self, session: SessionId, at: Timestamp) -> Result<()>;
    fn scores(&self, session: SessionId) -> Result<Vec<FinalScore>>;

    /// Closes every unfinished session that `is_running` says is no longer run by anyone (its process was
    /// killed) as `close_interrupted` does. Returns the sessions it judged dead.
    fn close_interrupted_sessions(
        &mut self,
        at: Timestamp,
        is_running: &dyn Fn(&SessionRecord) -> bool,
    ) -> Result<Vec<SessionId>> {
        let dead: Vec<SessionId> = self
            .unfinished_sessions()?
            .into_iter()
            .filter(|session| !is_running(session))
            .map(|session| session.id)
            .collect();
        for &id in &dead {
            self.close_interrupted(id, at)?;
        }
        Ok(dead)
    }
}

/// Discord quizzes run from the store: state saved by compare-and-swap, the lease of the replica that drives them, and their effects, recorded with the change that caused them.
pub trait LiveQuizzes {
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
}

/// Spaced-repetition cards (written with the answer that reviewed them, by `Sessions` and `DailyLog`) and what to review.
pub trait Cards {
    fn card(&self, user: UserId, question_id: &str) -> Result<Option<CardState>>;
    /// Cards due at `now`, most overdue first.
    fn due_cards(&self, user: UserId, now: Timestamp, limit: usize) -> Result<Vec<CardState>>;
    /// Questions the user last got wrong, most recent first.
    fn recent_misses(&self, user: UserId, limit: usize) -> Result<Vec<String>>;
}

/// Questions members flagged as wrong or unclear, with where the fix goes.
pub trait Flags {
    fn add_flag(&mut self, flag: &NewFlag) -> Result<FlagId>;
    fn flags(&self) -> Result<Vec<FlagRecord>>;
}

/// The daily question: schedules per guild, posted slots claimed by one replica at a time, answers, and the group history `daily::choose` reads.
pub trait DailyLog {
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

/// Change counters replicas poll to hear each other: a replica that changed something every replica must
/// act on (reloaded the notes, changed a daily schedule) bumps its topic; the others see the count move.
pub trait Signals {
    /// Counts one more change of `topic` and returns the new count (1 for the first).
    fn bump(&mut self, topic: Topic) -> Result<u64>;
    /// How many changes of `topic` were counted so far (0 before the first).
    fn seen(&self, topic: Topic) -> Result<u64>;
}

/// The replicas that ran on this store: each records its build version and schema when it starts, and
/// that it is still there while it runs.
pub trait Replicas {
    /// Records replica `id` of build `version` as seen at `at` (started then, the first time), with the
    /// store schema this backend runs.
    fn record_replica(&mut self, id: &str, version: &str, at: Timestamp) -> Result<()>;
    /// Every replica recorded, last seen first.
    fn replicas(&self) -> Result<Vec<ReplicaRecord>>;
}

/// Everything a backend keeps: what the bot and the CLI hold, as `Box<dyn Store>`.
pub trait Store: Users + Sessions + LiveQuizzes + Cards + Flags + DailyLog + Signals + Replicas + Send {}

impl<T: Users + Sessions + LiveQuizzes + Cards + Flags + DailyLog + Signals + Replicas + Send> Store for T {}
