//! The background loops of a running bot and the engines they drive: posting and revealing the daily
//! question (`daily`), the quiz replica engine with its drivers and take-over sweep (`quiz`), and the notes
//! reload (`reload`), and the listener that hears the other replicas' changes (`signals`). Each computes its next deadline from the pure core, sleeps on tokio until then
//! (`select!` on that sleep, a notification and shutdown), and works through the store's ports and the
//! one effects port, `Outbox`, for what reaches the chat. The Discord adapter implements `Outbox` over
//! REST; tests implement it with a fake, so every engine is tested without serenity.
//!
//! Adapter: may import the core, tokio and the store; never serenity nor `discord`.

pub mod daily;
pub mod quiz;
pub mod reload;
pub mod signals;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::Locale;
use crate::daily::Streak;
use crate::daily::schedule::DailySchedule;
use crate::quiz::QuizQuestion;
use crate::quiz::session::SessionEnd;
use crate::quiz::session::{CloseReason, PlayerResult, ScoreLine};
use crate::store::{SessionId, Store};

/// The store as the jobs share it with the bot's handlers: locked briefly, never across an await.
pub type SharedStore = Arc<Mutex<Box<dyn Store>>>;

pub(crate) fn lock(store: &SharedStore) -> MutexGuard<'_, Box<dyn Store>> {
    store.lock().unwrap_or_else(|e| e.into_inner())
}

/// What an engine sends to the chat, as values: the adapter renders them (its views) and sends them.
#[derive(Debug, Clone, Copy)]
pub enum Message<'a> {
    /// A daily question's post: the question as shown for its slot, answer buttons, and the slot's marker.
    DailyPost {
        schedule: &'a DailySchedule,
        slot: &'a str,
        question: &'a QuizQuestion,
    },
    /// A daily post edited to reveal its answer: who answered (user names, right or not) and the guild's
    /// streaks (user names).
    DailyReveal {
        guild: &'a str,
        slot: &'a str,
        question: &'a QuizQuestion,
        answers: &'a [(String, bool)],
        streaks: &'a [(String, Streak)],
    },
    /// Question `index` of a quiz (of `total`), open for `seconds`, with its answer buttons.
    QuizQuestion {
        locale: Locale,
        session: SessionId,
        index: usize,
        total: usize,
        question: &'a QuizQuestion,
        seconds: u64,
    },
    /// A quiz question's post edited to reveal its answer and who was right.
    QuizReveal {
        locale: Locale,
        index: usize,
        total: usize,
        question: &'a QuizQuestion,
        results: &'a [PlayerResult],
        reason: CloseReason,
    },
    /// A quiz's final scoreboard.
    Scoreboard {
        locale: Locale,
        scoreboard: &'a [ScoreLine],
        reason: SessionEnd,
    },
}

/// The effects port: what reaches the chat. Posts carry a nonce the chat enforces, so a post repeated
/// after a crash between sending and recording it returns the first message instead of a second one.
pub trait Outbox: Send + Sync + 'static {
    /// Posts `message` in `channel`; returns the message id.
    fn post(
        &self,
        channel: &str,
        message: Message<'_>,
        nonce: &str,
    ) -> impl Future<Output = anyhow::Result<String>> + Send;
    /// Replaces the message `id` in `channel` with `message`.
    fn edit(&self, channel: &str, id: &str, message: Message<'_>) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// The id of a recent message in `channel` that carries `marker`, if there is one.
    fn find(&self, channel: &str, marker: &str) -> impl Future<Output = anyhow::Result<Option<String>>> + Send;
}

/// The questions served now (they change when the notes are reloaded).
pub trait Questions: Send + Sync + 'static {
    fn with_questions<R>(&self, read: impl FnOnce(&[QuizQuestion]) -> R) -> R;
}
