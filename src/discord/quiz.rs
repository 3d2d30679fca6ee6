//! Group quizzes in channels, as the Discord commands reach them: `open` records a new quiz, `begin`
//! starts its driver once `/quiz start`'s reply is out, and `apply` runs a player's or a command's input.
//! All three go through the quiz replica engine (`jobs::quiz`: compare-and-swap saves in the store, leases,
//! the effect queue, the take-over sweep), so any bot replica sharing the store serves a quiz; the engine's
//! driver posts through the bot's `Outbox`. One quiz per channel.

use std::sync::Arc;

use super::Bot;
use super::interaction::Incoming;
use crate::clock::Timestamp;
use crate::config::Locale;
pub(crate) use crate::jobs::quiz::Target;
use crate::jobs::quiz::{Applied, SavedQuiz, effects_of, lease_until};
use crate::quiz::QuizQuestion;
use crate::quiz::session::{Event, QuizSession, SessionSettings};
use crate::store::{NewSession, SessionId, StoreError};

/// A quiz `/quiz start` asked for: where, by whom, and its questions (drawn, each in its shown order).
pub(crate) struct NewQuiz {
    pub channel: u64,
    pub channel_key: String,
    pub starter: u64,
    pub locale: Locale,
    pub seconds: u64,
    pub questions: Vec<QuizQuestion>,
    pub now: Timestamp,
}

/// What opening a quiz came to.
pub(crate) enum Opened {
    Started,
    ChannelBusy,
}

/// Records a new quiz with its first state and effects, leased to this replica; the driver starts once
/// the reply is out (`begin`).
pub(crate) fn open(bot: &Bot, new: NewQuiz) -> anyhow::Result<Opened> {
    let now = new.now;
    let session_settings = SessionSettings {
        question_count: new.questions.len(),
        time_limit_ms: new.seconds as i64 * 1000,
        silence_limit_ms: 120 * 1000,
    };
    let total = new.questions.len();
    let (session, first_events) = QuizSession::start(new.questions, session_settings, now);
    let quiz = SavedQuiz {
        channel: new.channel,
        channel_key: new.channel_key.clone(),
        starter: new.starter,
        started_at: now,
        locale: new.locale,
        seconds: new.seconds,
        time_limit_ms: session_settings.time_limit_ms,
        session,
    };
    let state = serde_json::to_string(&quiz)?;
    let started = bot.with_store(|store| {
        store.start_quiz(
            &NewSession {
                channel: new.channel_key,
                started_at: now,
                question_count: total,
                owner: bot.replica.clone(),
            },
            lease_until(bot.quiz_lease(), now),
            &state,
            &effects_of(&first_events),
        )
    });
    let session_id = match started {
        Ok(id) => id,
        Err(StoreError::ChannelBusy { .. }) => return Ok(Opened::ChannelBusy),
        Err(error) => return Err(error.into()),
    };
    // Claimed now, so the sweep does not take this quiz for an orphan before `begin` starts its driver.
    bot.quizzes.claim(session_id, false);
    Ok(Opened::Started)
}

/// Starts the driver of the quiz `open` recorded in the interaction's channel.
pub(crate) fn begin(bot: &Arc<Bot>, incoming: &Incoming) {
    let running = bot.with_store(|store| store.running_quiz(&incoming.channel_key()));
    let Ok(Some(quiz)) = running else { return };
    if let Some(bell) = bot.quizzes.begin(quiz.session) {
        tokio::spawn(bot.quiz_job().drive(quiz.session, bell));
    }
}

/// Applies a player's or a command's input to the quiz `target` names, with the engine
/// (`QuizJob::apply`). `None`: no running quiz there.
pub(crate) fn apply<T>(
    bot: &Arc<Bot>,
    target: Target,
    change: impl FnMut(&mut SavedQuiz, SessionId, Timestamp) -> (T, Vec<Event>),
) -> anyhow::Result<Option<Applied<T>>> {
    bot.quiz_job().apply(target, change)
}
