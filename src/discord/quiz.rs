//! Group quizzes in channels: `/quiz start|stop` and the answer buttons. Each input is applied by the
//! quiz replica engine (`jobs::quiz`: compare-and-swap saves in the store, leases, the effect queue, the
//! take-over sweep), so any bot replica sharing the store serves it; the engine's driver posts through the
//! bot's `Outbox`. One quiz per channel.

use std::sync::Arc;

use serenity::all::CommandDataOption;

use super::handler::{Incoming, Refusal, failed, int_option, topic_option};
use super::{Bot, render};
use crate::clock::Timestamp;
use crate::config::Locale;
use crate::jobs::quiz::{self as quiz_job, Applied, SavedQuiz, Target, effects_of};
use crate::quiz::session::{Event, Input, QuizSession, Refusal as Refused, SessionSettings};
use crate::quiz::{Answer, QuizQuestion, draw_questions};
use crate::store::{NewSession, SessionId, StoreError};

fn refuse(locale: Locale, ja: &str, en: &str) -> Refusal {
    Refusal(render::pick(locale, ja, en).to_string())
}

fn busy(locale: Locale) -> Refusal {
    refuse(
        locale,
        "このチャンネルではクイズが進行中です (/quiz stop で終了)。",
        "A quiz is already running in this channel (/quiz stop ends it).",
    )
}

fn lease_until(bot: &Bot, now: Timestamp) -> Timestamp {
    quiz_job::lease_until(bot.quiz_lease(), now)
}

/// Applies a player's or a command's input to the channel's quiz, with the engine (`QuizJob::apply`).
fn apply<T>(
    bot: &Arc<Bot>,
    target: Target,
    change: impl FnMut(&mut SavedQuiz, SessionId, Timestamp) -> (T, Vec<Event>),
) -> anyhow::Result<Option<Applied<T>>> {
    bot.quiz_job().apply(target, change)
}

/// `/quiz start`: records the session with its first state and effects, leased to this replica; the
/// driver starts once the reply is out (`begin`).
pub(crate) async fn start(
    bot: &Arc<Bot>,
    incoming: &Incoming,
    options: &[CommandDataOption],
) -> Result<serde_json::Value, Refusal> {
    let locale = incoming.locale;
    let settings = &bot.config.discord;
    let count = int_option(options, "count").map_or(settings.quiz_count, |c| c.clamp(1, 25) as usize);
    let seconds = int_option(options, "seconds").map_or(settings.quiz_seconds, |s| s.clamp(1, 120) as u64);
    let topic = topic_option(options).unwrap_or_default();
    let key = incoming.channel_key();
    let now = bot.clock.now();
    let library = bot.library();
    let seed = now.millis() as u64;
    // One button press is one pick: a question asking for two choices is left to the terminal quiz.
    let candidates = library
        .questions
        .iter()
        .filter(|q| q.matches_topic(&topic) && !q.choices.is_empty() && q.picks_wanted() == 1);
    // Bank questions first, then generated ones, each drawn in an order set by the seed; each shown with
    // its choices in an order of its own (the quiz is saved with them, so every replica shows the same).
    let (bank, generated): (Vec<QuizQuestion>, Vec<QuizQuestion>) = candidates.cloned().partition(|q| !q.generated);
    let mut questions = draw_questions(bank, count, seed);
    questions.extend(draw_questions(generated, count - questions.len(), seed));
    let questions: Vec<QuizQuestion> = questions.iter().map(|q| q.presented(seed)).collect();
    if questions.is_empty() {
        return Err(Refusal(match locale {
            Locale::Ja => format!("「{topic}」の問題が見つかりません。"),
            Locale::En => format!("No questions about `{topic}`."),
        }));
    }
    let session_settings = SessionSettings {
        question_count: questions.len(),
        time_limit_ms: seconds as i64 * 1000,
        silence_limit_ms: 120 * 1000,
    };
    let total = questions.len();
    let (session, first_events) = QuizSession::start(questions, session_settings, now);
    let quiz = SavedQuiz {
        channel: incoming.channel_id,
        channel_key: key.clone(),
        starter: incoming.user_id,
        started_at: now,
        locale,
        seconds,
        time_limit_ms: session_settings.time_limit_ms,
        session,
    };
    let state = serde_json::to_string(&quiz).map_err(|e| failed(locale, e))?;
    let session_id = {
        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        let started = store.start_quiz(
            &NewSession {
                channel: key,
                started_at: now,
                question_count: total,
                owner: bot.replica.clone(),
            },
            lease_until(bot, now),
            &state,
            &effects_of(&first_events),
        );
        match started {
            Ok(id) => id,
            Err(StoreError::ChannelBusy { .. }) => return Err(busy(locale)),
            Err(error) => return Err(failed(locale, error)),
        }
    };
    // Claimed now, so the sweep does not take this quiz for an orphan before `begin` starts its driver.
    bot.quizzes.claim(session_id, false);
    Ok(render::quiz_intro(locale, total, seconds, &topic))
}

/// Starts the driver of the quiz `start` recorded in the interaction's channel.
pub(crate) fn begin(bot: &Arc<Bot>, incoming: &Incoming) {
    let running = bot.with_store(|store| store.running_quiz(&incoming.channel_key()));
    let Ok(Some(quiz)) = running else { return };
    if let Some(bell) = bot.quizzes.begin(quiz.session) {
        tokio::spawn(bot.quiz_job().drive(quiz.session, bell));
    }
}

/// `/quiz stop`: the starter or a member with Manage Server (as Discord reports it for this interaction),
/// on any replica; the quiz's driver posts the last reveal and the scoreboard.
pub(crate) async fn stop(bot: &Arc<Bot>, incoming: &Incoming) -> Result<serde_json::Value, Refusal> {
    enum Stop {
        /// Over already (its last effects may be pending): as if there were none.
        Over,
        NotAllowed,
        Stopped,
    }
    let locale = incoming.locale;
    let applied = apply(bot, Target::Channel(&incoming.channel_key()), |quiz, _, now| {
        if quiz.session.is_finished() {
            return (Stop::Over, Vec::new());
        }
        if quiz.starter != incoming.user_id && !incoming.manage_guild {
            return (Stop::NotAllowed, Vec::new());
        }
        (Stop::Stopped, quiz.session.handle(Input::Stop, now))
    })
    .map_err(|e| failed(locale, format!("{e:#}")))?;
    match applied.map(|a| a.value) {
        None | Some(Stop::Over) => Err(refuse(
            locale,
            "このチャンネルで進行中のクイズはありません。",
            "No quiz is running in this channel.",
        )),
        Some(Stop::NotAllowed) => Err(refuse(
            locale,
            "クイズを止められるのは開始した人か「サーバー管理」権限のある人だけです。",
            "Only the quiz's starter or a member with Manage Server can stop it.",
        )),
        Some(Stop::Stopped) => Ok(render::ephemeral(render::pick(
            locale,
            "⏹ クイズを止めました。",
            "⏹ Quiz stopped.",
        ))),
    }
}

/// A button press `q:{session}:{index}:{label}` on any replica: applied and saved, acknowledged to the
/// player only.
pub(crate) async fn pick(bot: &Arc<Bot>, incoming: &Incoming, custom_id: &str) -> Result<serde_json::Value, Refusal> {
    let locale = incoming.locale;
    let parts: Vec<&str> = custom_id.split(':').collect();
    let parsed = match parts.as_slice() {
        ["q", session, index, label] => session
            .parse::<SessionId>()
            .ok()
            .zip(index.parse::<usize>().ok())
            .zip(label.chars().next()),
        _ => None,
    };
    let Some(((session, index), label)) = parsed else {
        return Err(refuse(locale, "このボタンは分かりません。", "Unknown button."));
    };
    let over = || refuse(locale, "このクイズは終了しています。", "This quiz is over.");
    let player = incoming.user_id.to_string();
    let applied = apply(bot, Target::Channel(&incoming.channel_key()), |quiz, running, now| {
        if running != session {
            return (None, Vec::new());
        }
        // Joining is idempotent in the core: whoever picks takes part from then on.
        let mut events = quiz.session.handle(Input::Join { player: player.clone() }, now);
        events.extend(quiz.session.handle(
            Input::Answer {
                player: player.clone(),
                question_index: index,
                answer: Answer::Picks(vec![label]),
            },
            now,
        ));
        (Some(acknowledgement(locale, &player, label, &events)), events)
    })
    .map_err(|e| failed(locale, format!("{e:#}")))?;
    match applied.and_then(|a| a.value) {
        Some(text) => Ok(render::ephemeral(&text)),
        None => Err(over()),
    }
}

/// What a player is told about their pick.
fn acknowledgement(locale: Locale, player: &str, label: char, events: &[Event]) -> String {
    events
        .iter()
        .find_map(|event| match event {
            Event::AnswerAccepted { player: p, changed, .. } if p == player => Some(match (locale, changed) {
                (Locale::Ja, false) => format!("✅ {label} を選びました (1 回だけ変更できます)"),
                (Locale::En, false) => format!("✅ You picked {label} (you may change it once)"),
                (Locale::Ja, true) => format!("🔁 {label} に変更しました (これで確定)"),
                (Locale::En, true) => format!("🔁 Changed to {label} (final)"),
            }),
            Event::AnswerRefused { player: p, reason, .. } if p == player => Some(
                match reason {
                    Refused::Late => render::pick(
                        locale,
                        "⌛ この問題は締め切られました。",
                        "⌛ Time is up for this question.",
                    ),
                    Refused::AlreadyChanged => render::pick(
                        locale,
                        "選択の変更は 1 回までです。",
                        "You already changed your pick once.",
                    ),
                    Refused::Invalid => {
                        render::pick(locale, "その選択肢はありません。", "Not a choice of this question.")
                    }
                    Refused::Finished => render::pick(locale, "このクイズは終了しています。", "This quiz is over."),
                    Refused::WrongPickCount { .. } => render::pick(
                        locale,
                        "この問題は 1 回の選択では答えられません。",
                        "This question takes more than one pick.",
                    ),
                }
                .to_string(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}
