//! `CountedStore`: the bot's store, wrapped so that every call that fails moves the store-errors counter,
//! whichever part of the bot made it (a handler, the quiz or daily engine, the health check). It forwards
//! each port's methods unchanged; a busy channel (`ChannelBusy`) is the store refusing a second quiz, not
//! a failure, and is not counted. A port added to `Store` is forwarded by adding its block below.

use prometheus_client::metrics::counter::Counter;

use crate::clock::Timestamp;
use crate::daily::schedule::DailySchedule;
use crate::quiz::session::SessionEnd;
use crate::store::*;

/// A store whose failed calls are counted.
pub(crate) struct CountedStore {
    inner: Box<dyn Store>,
    errors: Counter,
}

impl CountedStore {
    pub fn new(inner: Box<dyn Store>, errors: Counter) -> CountedStore {
        CountedStore { inner, errors }
    }

    fn count<T>(&self, result: &Result<T>) {
        match result {
            Ok(_) | Err(StoreError::ChannelBusy { .. }) => {}
            Err(_) => {
                self.errors.inc();
            }
        }
    }
}

/// Implements a port by forwarding each method to the wrapped store and counting its failure. (One
/// method at a time, so that `&self` and `&mut self` are told apart by their tokens.)
macro_rules! forward {
    ($port:ident { $($methods:tt)* }) => {
        forward!(@methods $port [] $($methods)*);
    };
    (@methods $port:ident [$($done:tt)*]) => {
        impl $port for CountedStore {
            $($done)*
        }
    };
    (@methods $port:ident [$($done:tt)*]
        fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty; $($rest:tt)*) => {
        forward!(@methods $port [$($done)*
            fn $name(&mut self $(, $arg: $ty)*) -> $ret {
                let result = self.inner.$name($($arg),*);
                self.count(&result);
                result
            }
        ] $($rest)*);
    };
    (@methods $port:ident [$($done:tt)*]
        fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty; $($rest:tt)*) => {
        forward!(@methods $port [$($done)*
            fn $name(&self $(, $arg: $ty)*) -> $ret {
                let result = self.inner.$name($($arg),*);
                self.count(&result);
                result
            }
        ] $($rest)*);
    };
}

forward!(Users {
    fn user(&mut self, name: &str, now: Timestamp) -> Result<UserId>;
    fn user_name(&self, user: UserId) -> Result<Option<String>>;
    fn find_user(&self, name: &str) -> Result<Option<UserId>>;
    fn stats(&self, user: UserId, now: Timestamp) -> Result<UserStats>;
    fn leaderboard(&self, name_prefix: &str, limit: usize) -> Result<Vec<LeaderLine>>;
});

forward!(Sessions {
    fn start_session(&mut self, session: &NewSession) -> Result<SessionId>;
    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>>;
    fn unfinished_sessions(&self) -> Result<Vec<SessionRecord>>;
    fn record_attempt(&mut self, attempt: &Attempt, card: Option<&CardState>) -> Result<Recorded>;
    fn attempts(&self, session: SessionId) -> Result<Vec<Attempt>>;
    fn finish_session(
        &mut self,
        id: SessionId,
        end: SessionEnd,
        at: Timestamp,
        scores: &[FinalScore]
    ) -> Result<Recorded>;
    fn close_interrupted(&mut self, session: SessionId, at: Timestamp) -> Result<()>;
    fn scores(&self, session: SessionId) -> Result<Vec<FinalScore>>;
});

forward!(LiveQuizzes {
    fn start_quiz(
        &mut self,
        session: &NewSession,
        lease_until: Timestamp,
        state: &str,
        effects: &[NewEffect]
    ) -> Result<SessionId>;
    fn quiz_state(&self, session: SessionId) -> Result<Option<QuizState>>;
    fn running_quiz(&self, channel: &str) -> Result<Option<QuizState>>;
    fn running_quizzes(&self) -> Result<Vec<QuizState>>;
    fn save_quiz_state(
        &mut self,
        session: SessionId,
        based_on: i64,
        state: &str,
        effects: &[NewEffect],
        at: Timestamp
    ) -> Result<Cas>;
    fn take_lease(&mut self, session: SessionId, owner: &str, now: Timestamp, until: Timestamp) -> Result<bool>;
    fn release_lease(&mut self, session: SessionId, owner: &str, now: Timestamp) -> Result<bool>;
    fn quiz_effects(&self, session: SessionId) -> Result<Vec<QuizEffect>>;
    fn mark_effect_sent(
        &mut self,
        session: SessionId,
        effect: &str,
        message_id: Option<&str>,
        at: Timestamp
    ) -> Result<()>;
    fn set_last_shown(&mut self, channel: &str, question_id: &str, at: Timestamp) -> Result<()>;
    fn last_shown(&self, channel: &str) -> Result<Option<String>>;
});

forward!(Cards {
    fn card(&self, user: UserId, question_id: &str) -> Result<Option<CardState>>;
    fn due_cards(&self, user: UserId, now: Timestamp, limit: usize) -> Result<Vec<CardState>>;
    fn recent_misses(&self, user: UserId, limit: usize) -> Result<Vec<String>>;
});

forward!(Flags {
    fn add_flag(&mut self, flag: &NewFlag) -> Result<FlagId>;
    fn flags(&self) -> Result<Vec<FlagRecord>>;
});

forward!(DailyLog {
    fn set_daily_schedule(&mut self, schedule: &DailySchedule) -> Result<()>;
    fn daily_schedules(&self) -> Result<Vec<DailySchedule>>;
    fn record_daily_post(&mut self, post: &NewDailyPost, claim: &Lease) -> Result<Recorded>;
    fn claim_daily_post(
        &mut self,
        guild: &str,
        slot: &str,
        state: DailyPostState,
        owner: &str,
        now: Timestamp,
        until: Timestamp
    ) -> Result<bool>;
    fn mark_daily_sent(&mut self, guild: &str, slot: &str, message_id: &str, at: Timestamp) -> Result<()>;
    fn mark_daily_revealed(&mut self, guild: &str, slot: &str, at: Timestamp) -> Result<()>;
    fn daily_post(&self, guild: &str, slot: &str) -> Result<Option<DailyPost>>;
    fn daily_posts(&self, guild: &str) -> Result<Vec<DailyPost>>;
    fn record_daily_answer(&mut self, answer: &DailyAnswer, card: Option<&CardState>) -> Result<Recorded>;
    fn daily_answers(&self, guild: &str, slot: &str) -> Result<Vec<DailyAnswer>>;
    fn guild_daily_answers(&self, guild: &str) -> Result<Vec<DailyAnswer>>;
    fn group_recent(&self, guild: &str, since: Timestamp) -> Result<Vec<(String, u32, u32)>>;
    fn group_due(&self, guild: &str, now: Timestamp) -> Result<Vec<(String, u32)>>;
});

forward!(Signals {
    fn bump(&mut self, topic: Topic) -> Result<u64>;
    fn seen(&self, topic: Topic) -> Result<u64>;
});

forward!(Replicas {
    fn record_replica(&mut self, id: &str, version: &str, at: Timestamp) -> Result<()>;
    fn replicas(&self) -> Result<Vec<ReplicaRecord>>;
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[test]
    fn failed_calls_are_counted_and_a_busy_channel_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let errors = Counter::default();
        let inner = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
        let mut store = CountedStore::new(Box::new(inner), errors.clone());
        let at = Timestamp::from_millis(1_000);
        let session = NewSession {
            channel: "discord:1:2".into(),
            started_at: at,
            question_count: 1,
            owner: "replica".into(),
        };
        let user = store.user("discord:7", at).unwrap();
        assert_eq!(store.find_user("discord:7").unwrap(), Some(user));
        store.start_session(&session).unwrap();
        assert!(matches!(
            store.start_session(&session),
            Err(StoreError::ChannelBusy { .. })
        ));
        assert_eq!(errors.get(), 0, "a busy channel is a refusal");
        let unknown = store.finish_session(999, SessionEnd::Stopped, at, &[]);
        assert!(unknown.is_err(), "{unknown:?}");
        assert_eq!(errors.get(), 1);
    }
}
