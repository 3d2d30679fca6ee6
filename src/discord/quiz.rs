//! Group quizzes in channels, run from the store so that any bot replica sharing it can serve them. The
//! core's `QuizSession` is saved (with what rendering needs) after every change, by compare-and-swap: an
//! input on any replica loads the quiz of its channel, applies the input with the pure core and saves; a
//! save that lost the race to another replica is retried on the fresh state. The effects of a change (post
//! question N, reveal question N, post the scoreboard) are recorded with it, and carried out, in order, by
//! the one replica holding the quiz's lease: its driver task renews the lease, ticks the core at each
//! deadline, and marks each effect sent after sending it. Posts carry a nonce Discord enforces, so an
//! effect resent after a crash between sending and marking creates no second message; a reveal is an edit,
//! harmless to repeat. A periodic sweep on every replica (and one at start-up) takes over quizzes whose
//! lease lapsed (their replica died), and closes as interrupted those whose deadline passed more than ten
//! minutes before anyone noticed. One quiz per channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serenity::all::CommandDataOption;
use tokio::sync::Notify;

use super::handler::{Incoming, Refusal, failed, int_option, player_name, topic_option};
use super::{Bot, render};
use crate::clock::Timestamp;
use crate::config::{Locale, QuizOnShutdown};
use crate::quiz::order::stable_hash;
use crate::quiz::session::{
    CloseReason, Event, Input, PlayerResult, QuizSession, Refusal as Refused, ScoreLine, SessionSettings,
};
use crate::quiz::{Answer, AnswerRecord, QuizQuestion, draw_questions, record_answer};
use crate::review::Scheduler;
use crate::store::owner::{self, Takeover};
use crate::store::{Cas, FinalScore, NewEffect, NewSession, QuizEffect, SessionEnd, SessionId, Store, StoreError};

/// A save that keeps losing to other replicas gives up after this many tries (each reloads first).
const CAS_TRIES: usize = 20;

/// A quiz as saved in the store: the core's session, and what the adapter needs to render it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedQuiz {
    /// The Discord channel id the quiz posts in, and its key in the store (`discord:<guild>:<channel>`).
    channel: u64,
    channel_key: String,
    /// Who started it: they may stop it.
    starter: u64,
    /// When it started: with the session id, what makes its posts' nonces unique (a new store file
    /// starts its session ids again).
    started_at: Timestamp,
    locale: Locale,
    seconds: u64,
    time_limit_ms: i64,
    session: QuizSession,
}

/// This replica's part: the quizzes a task of it drives, each with the bell that wakes its driver when an
/// input handled here changed the quiz. (Inputs handled by other replicas are seen at the next renewal.)
#[derive(Default)]
pub(crate) struct Quizzes {
    driving: Mutex<HashMap<SessionId, Driver>>,
    ended: Notify,
}

struct Driver {
    bell: Arc<Notify>,
    /// Claimed by `/quiz start`, started by `begin` once the reply is out.
    started: bool,
}

impl Quizzes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Driver>> {
        self.driving.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `session` for a driver of this replica; `None` when one has it already.
    fn claim(&self, session: SessionId, started: bool) -> Option<Arc<Notify>> {
        let mut driving = self.lock();
        if driving.contains_key(&session) {
            return None;
        }
        let bell = Arc::new(Notify::new());
        driving.insert(
            session,
            Driver {
                bell: bell.clone(),
                started,
            },
        );
        Some(bell)
    }

    fn release(&self, session: SessionId) {
        self.lock().remove(&session);
        self.ended.notify_waiters();
    }

    fn is_driving(&self, session: SessionId) -> bool {
        self.lock().contains_key(&session)
    }

    fn wake(&self, session: SessionId) {
        if let Some(driver) = self.lock().get(&session) {
            driver.bell.notify_one();
        }
    }

    pub async fn wait_all_finished(&self) {
        loop {
            let notified = self.ended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().is_empty() {
                return;
            }
            notified.await;
        }
    }
}

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

/// The effects a change's events call for, named so that each is recorded once per session.
fn effects_of(events: &[Event]) -> Vec<NewEffect> {
    events
        .iter()
        .filter_map(|event| {
            let name = match event {
                Event::QuestionAsked { index, .. } => format!("ask:{index}"),
                Event::QuestionClosed { index, .. } => format!("reveal:{index}"),
                Event::Finished { .. } => "finish".to_string(),
                Event::AnswerAccepted { .. } | Event::AnswerRefused { .. } => return None,
            };
            let payload = serde_json::to_string(event).ok()?;
            Some(NewEffect { effect: name, payload })
        })
        .collect()
}

/// How long a lease runs unless renewed; drivers renew (and look for other replicas' changes) four times
/// per lease, and the sweep runs as often.
fn lease_length(bot: &Bot) -> Duration {
    Duration::from_millis(bot.config.discord.quiz_lease_ms.max(40))
}

fn renew_every(bot: &Bot) -> Duration {
    lease_length(bot) / 4
}

fn lease_until(bot: &Bot, now: Timestamp) -> Timestamp {
    now.plus_millis(lease_length(bot).as_millis() as i64)
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
    let running = {
        let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        store.running_quiz(&incoming.channel_key())
    };
    let Ok(Some(quiz)) = running else { return };
    let bell = {
        let mut driving = bot.quizzes.lock();
        match driving.get_mut(&quiz.session) {
            Some(driver) if !driver.started => {
                driver.started = true;
                driver.bell.clone()
            }
            _ => return,
        }
    };
    tokio::spawn(drive(bot.clone(), quiz.session, bell));
}

/// What to load: a channel's running quiz (inputs from players) or a session (its driver).
#[derive(Clone, Copy)]
enum Target<'a> {
    Channel(&'a str),
    Session(SessionId),
}

/// A change applied and saved (or nothing to save).
struct Applied<T> {
    quiz: SavedQuiz,
    value: T,
}

/// Loads the quiz, applies `change` with the core at the current time, and saves it by compare-and-swap
/// with the effects of its events; when another replica saved first, reloads and applies again. `None`:
/// no running quiz there.
fn apply<T>(
    bot: &Bot,
    target: Target,
    mut change: impl FnMut(&mut SavedQuiz, SessionId, Timestamp) -> (T, Vec<Event>),
) -> anyhow::Result<Option<Applied<T>>> {
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..CAS_TRIES {
        let stored = match target {
            Target::Channel(channel) => store.running_quiz(channel)?,
            Target::Session(session) => store.quiz_state(session)?,
        };
        let Some(stored) = stored.filter(|stored| !stored.ended) else {
            return Ok(None);
        };
        let mut quiz: SavedQuiz = serde_json::from_str(&stored.state)?;
        let now = bot.clock.now();
        let (value, events) = change(&mut quiz, stored.session, now);
        let state = serde_json::to_string(&quiz)?;
        // Nothing changed (a tick before the deadline, a refused input): nothing to save.
        if state == stored.state {
            return Ok(Some(Applied { quiz, value }));
        }
        match store.save_quiz_state(stored.session, stored.version, &state, &effects_of(&events), now)? {
            Cas::Saved(_) => {
                drop(store);
                bot.quizzes.wake(stored.session);
                return Ok(Some(Applied { quiz, value }));
            }
            Cas::Conflict => tracing::debug!(
                session = stored.session,
                "quiz saved by another replica first: retrying"
            ),
        }
    }
    anyhow::bail!("the quiz kept changing under this replica ({CAS_TRIES} tries)")
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

/// Takes or renews this replica's lease on `session`.
fn renew(bot: &Bot, session: SessionId) -> Result<bool, StoreError> {
    let now = bot.clock.now();
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    store.take_lease(session, &bot.replica, now, lease_until(bot, now))
}

/// The driver of one quiz on the replica holding its lease: renews the lease, ticks the core at each
/// deadline, carries out the recorded effects, and ends once the quiz is finished and closed in the store,
/// or when another replica holds the lease. At shutdown it stops the quiz, or hands it over (gives up the
/// lease, leaving any effect not yet sent to the next driver), as `discord.quiz_on_shutdown` says.
async fn drive(bot: Arc<Bot>, session: SessionId, bell: Arc<Notify>) {
    let mut shutdown = bot.shutdown_signal();
    loop {
        if *shutdown.borrow() && bot.config.discord.quiz_on_shutdown == QuizOnShutdown::HandOver {
            hand_over(&bot, session);
            break;
        }
        match renew(&bot, session) {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(session, "quiz lease held by another replica: no longer driving it here");
                break;
            }
            Err(error) => {
                tracing::error!(session, "renewing a quiz lease failed: {error}");
                tokio::time::sleep(bot.clock.sleep_for(renew_every(&bot))).await;
                continue;
            }
        }
        let stopping = *shutdown.borrow();
        let applied = apply(&bot, Target::Session(session), |quiz, _, now| {
            let input = if stopping { Input::Stop } else { Input::Tick };
            ((), quiz.session.handle(input, now))
        });
        let (quiz, ended) = match applied {
            Ok(Some(applied)) => (applied.quiz, false),
            // Ended: only its last effects may be left to carry out (the scoreboard, after a crash).
            Ok(None) => match load(&bot, session) {
                Ok(Some(quiz)) => (quiz, true),
                Ok(None) => break,
                Err(error) => {
                    tracing::error!(session, "reading a quiz failed: {error:#}");
                    break;
                }
            },
            Err(error) => {
                tracing::error!(session, "updating a quiz failed: {error:#}");
                tokio::time::sleep(bot.clock.sleep_for(renew_every(&bot))).await;
                continue;
            }
        };
        match carry_out(&bot, session, &quiz).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                tracing::error!(session, "carrying out a quiz's effects failed: {error:#}");
                tokio::time::sleep(bot.clock.sleep_for(renew_every(&bot))).await;
                continue;
            }
        }
        if ended || quiz.session.is_finished() {
            break;
        }
        let now = bot.clock.now();
        let until_deadline = quiz
            .session
            .next_deadline()
            .map_or(0, |deadline| deadline.millis_since(now)) as u64;
        let wait = bot
            .clock
            .sleep_for(Duration::from_millis(until_deadline).min(renew_every(&bot)));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = bell.notified() => {}
            _ = shutdown.changed(), if !stopping => {}
        }
    }
    bot.quizzes.release(session);
}

/// Gives up this replica's lease on a quiz at shutdown, for another replica (or the next run) to take.
fn hand_over(bot: &Bot, session: SessionId) {
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    match store.release_lease(session, &bot.replica, bot.clock.now()) {
        Ok(true) => tracing::info!(session, "shutting down: quiz handed over"),
        Ok(false) => {}
        // The lease then lapses on its own within a lease period: the hand-over is only slower.
        Err(error) => tracing::error!(session, "releasing a quiz lease failed: {error}"),
    }
}

/// A quiz as stored, ended or not.
fn load(bot: &Bot, session: SessionId) -> anyhow::Result<Option<SavedQuiz>> {
    let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    match store.quiz_state(session)? {
        Some(stored) => Ok(Some(serde_json::from_str(&stored.state)?)),
        None => Ok(None),
    }
}

/// Records the results of one closed question as attempts, with the players' review cards. Idempotent: a
/// reveal carried out again after a crash records nothing twice.
fn record_results(
    store: &mut dyn Store,
    session: SessionId,
    quiz: &SavedQuiz,
    index: usize,
    results: &[PlayerResult],
    answered_only: bool,
) {
    let question = &quiz.session.questions()[index];
    let scheduler = Scheduler::default();
    for result in results {
        if answered_only && result.answer.is_none() {
            continue;
        }
        let record = AnswerRecord {
            session,
            index,
            question,
            player: &player_name_of(&result.player),
            result,
            time_limit_ms: quiz.time_limit_ms,
        };
        if let Err(error) = record_answer(store, &scheduler, &record) {
            tracing::error!("recording an attempt failed: {error}");
        }
    }
}

/// Closes a quiz nobody drove for too long, without posting anything: the answers already given count
/// (those of questions revealed while nobody was there to post, and of the question left open), the
/// session ends as interrupted with the core's scores, and its pending effects are dropped.
fn close_stale(bot: &Bot, session: SessionId, mut quiz: SavedQuiz, now: Timestamp) -> anyhow::Result<()> {
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let pending: Vec<QuizEffect> = store
        .quiz_effects(session)?
        .into_iter()
        .filter(|e| e.sent_at.is_none())
        .collect();
    let mut closed: Vec<Event> = pending
        .iter()
        .filter_map(|e| serde_json::from_str::<Event>(&e.payload).ok())
        .collect();
    // The core closes the open question at its deadline (and any it would have asked since).
    closed.extend(quiz.session.handle(Input::Stop, now));
    for event in &closed {
        if let Event::QuestionClosed { index, results, .. } = event {
            record_results(&mut **store, session, &quiz, *index, results, true);
        }
    }
    let scores = final_scores(&mut **store, &quiz.session.scoreboard(), now)?;
    store.finish_session(session, SessionEnd::Interrupted, now, &scores)?;
    for effect in &pending {
        store.mark_effect_sent(session, &effect.effect, None, now)?;
    }
    Ok(())
}

/// Ends the quiz in the store with its final scores (once: a replay changes nothing).
fn finish(bot: &Bot, session: SessionId, reason: SessionEnd, scoreboard: &[ScoreLine]) -> anyhow::Result<()> {
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let now = bot.clock.now();
    let scores = final_scores(&mut **store, scoreboard, now)?;
    store.finish_session(session, reason, now, &scores)?;
    Ok(())
}

/// The scoreboard as the store keeps it: each player as a user of the store, with points and rank.
fn final_scores(
    store: &mut dyn Store,
    scoreboard: &[ScoreLine],
    now: Timestamp,
) -> Result<Vec<FinalScore>, StoreError> {
    scoreboard
        .iter()
        .map(|line| {
            store.user(&player_name_of(&line.player), now).map(|user| FinalScore {
                user,
                points: line.points,
                rank: line.rank,
            })
        })
        .collect()
}

/// The nonce of a post (Discord: at most 25 characters): with `enforce_nonce`, a post resent after a
/// crash returns the first message instead of creating a second.
fn nonce(session: SessionId, quiz: &SavedQuiz, effect: &str) -> String {
    let key = format!(
        "tsumiage quiz {} {} {effect}",
        quiz.channel_key,
        quiz.started_at.millis()
    );
    format!("{:x}", stable_hash(session as u64, &key))
}

/// Carries out the quiz's pending effects in order, each marked sent after it is done. `Ok(false)`: the
/// lease was lost, and the rest is left to its new holder.
async fn carry_out(bot: &Bot, session: SessionId, quiz: &SavedQuiz) -> anyhow::Result<bool> {
    let effects = {
        let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        store.quiz_effects(session)?
    };
    let mut messages: HashMap<String, String> = effects
        .iter()
        .filter_map(|e| Some((e.effect.clone(), e.message_id.clone()?)))
        .collect();
    let locale = quiz.locale;
    let total = quiz.session.questions().len();
    let posts = format!("/channels/{}/messages", quiz.channel);
    for effect in effects.iter().filter(|e| e.sent_at.is_none()) {
        // Checked before each send: a replica that lost its lease (it stalled past it) sends nothing more.
        if !renew(bot, session)? {
            return Ok(false);
        }
        let event: Event = serde_json::from_str(&effect.payload)?;
        let mut message_id = None;
        match event {
            Event::QuestionAsked { index, .. } => {
                let question = &quiz.session.questions()[index];
                {
                    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
                    store.set_last_shown(&quiz.channel_key, &question.id, bot.clock.now())?;
                }
                let mut body = render::question(locale, session, index, total, question, quiz.seconds);
                body["nonce"] = serde_json::json!(nonce(session, quiz, &effect.effect));
                body["enforce_nonce"] = serde_json::json!(true);
                match bot.rest.post(&posts, &body).await {
                    Ok(message) => message_id = message["id"].as_str().map(str::to_string),
                    Err(error) => tracing::error!("posting a quiz question failed: {error}"),
                }
            }
            Event::QuestionClosed {
                index, reason, results, ..
            } => {
                let question = &quiz.session.questions()[index];
                {
                    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
                    // A stopped question leaves out who had not answered yet; a timed-out one counts
                    // them as misses.
                    let answered_only = reason == CloseReason::Stopped;
                    record_results(&mut **store, session, quiz, index, &results, answered_only);
                }
                if let Some(id) = messages.get(&format!("ask:{index}")) {
                    let body = render::reveal(locale, index, total, question, &results, reason);
                    if let Err(error) = bot.rest.patch(&format!("{posts}/{id}"), &body).await {
                        tracing::error!("revealing a quiz answer failed: {error}");
                    }
                }
            }
            Event::Finished { reason, scoreboard } => {
                // Scores first, as before replicas: once the scoreboard is out, /leaderboard shows it. An
                // ended session with this effect pending is still found by the sweep, so the post follows.
                finish(bot, session, reason, &scoreboard)?;
                let mut body = render::scoreboard(locale, &scoreboard, reason);
                body["nonce"] = serde_json::json!(nonce(session, quiz, &effect.effect));
                body["enforce_nonce"] = serde_json::json!(true);
                match bot.rest.post(&posts, &body).await {
                    Ok(message) => message_id = message["id"].as_str().map(str::to_string),
                    Err(error) => tracing::error!("posting the scoreboard failed: {error}"),
                }
            }
            Event::AnswerAccepted { .. } | Event::AnswerRefused { .. } => {}
        }
        if let Some(id) = &message_id {
            messages.insert(effect.effect.clone(), id.clone());
        }
        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        store.mark_effect_sent(session, &effect.effect, message_id.as_deref(), bot.clock.now())?;
    }
    Ok(true)
}

/// The sweep, on every replica: at start-up and then four times per lease, takes over quizzes whose
/// lease lapsed, or closes them as interrupted when they are long dead. Stops at shutdown.
pub(crate) async fn sweep(bot: Arc<Bot>) {
    let mut shutdown = bot.shutdown_signal();
    loop {
        if *shutdown.borrow() {
            return;
        }
        if let Err(error) = sweep_once(&bot) {
            tracing::error!("looking for orphaned quizzes failed: {error:#}");
        }
        tokio::select! {
            _ = tokio::time::sleep(bot.clock.sleep_for(renew_every(&bot))) => {}
            result = shutdown.changed() => if result.is_err() || *shutdown.borrow() { return },
        }
    }
}

fn sweep_once(bot: &Arc<Bot>) -> anyhow::Result<()> {
    let running = {
        let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        store.running_quizzes()?
    };
    for quiz in running {
        let saved: SavedQuiz = match serde_json::from_str(&quiz.state) {
            Ok(saved) => saved,
            Err(error) => {
                tracing::error!(session = quiz.session, "a stored quiz is unreadable: {error}");
                continue;
            }
        };
        let now = bot.clock.now();
        let driving = bot.quizzes.is_driving(quiz.session);
        match owner::takeover(&quiz, &bot.replica, driving, saved.session.next_deadline(), now) {
            Takeover::Leave => {}
            Takeover::Resume => {
                let Some(bell) = bot.quizzes.claim(quiz.session, true) else {
                    continue;
                };
                if renew(bot, quiz.session)? {
                    tracing::info!(session = quiz.session, from = %quiz.lease.owner, "taking over a quiz whose lease lapsed");
                    tokio::spawn(drive(bot.clone(), quiz.session, bell));
                } else {
                    bot.quizzes.release(quiz.session);
                }
            }
            Takeover::Interrupted => {
                // The lease first, so no other replica resumes it while it is being closed.
                if renew(bot, quiz.session)? {
                    close_stale(bot, quiz.session, saved, now)?;
                    tracing::info!(
                        session = quiz.session,
                        "closed a quiz left without a replica for too long"
                    );
                }
            }
        }
    }
    Ok(())
}

fn player_name_of(player: &str) -> String {
    player
        .parse::<u64>()
        .map(player_name)
        .unwrap_or_else(|_| player.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(started_at: i64) -> (SavedQuiz, Vec<Event>) {
        let question = |id: &str| QuizQuestion::sample(id, 2, 'A');
        let settings = SessionSettings {
            question_count: 2,
            time_limit_ms: 1_000,
            silence_limit_ms: 60_000,
        };
        let (session, events) =
            QuizSession::start(vec![question("q1"), question("q2")], settings, Timestamp(started_at));
        let quiz = SavedQuiz {
            channel: 2,
            channel_key: "discord:1:2".into(),
            starter: 7,
            started_at: Timestamp(started_at),
            locale: Locale::En,
            seconds: 1,
            time_limit_ms: 1_000,
            session,
        };
        (quiz, events)
    }

    #[test]
    fn effects_are_named_once_per_question_and_answers_are_not_effects() {
        let (mut quiz, first) = saved(0);
        let mut events = first;
        events.extend(quiz.session.handle(
            Input::Answer {
                player: "7".into(),
                question_index: 0,
                answer: Answer::Picks(vec!['A']),
            },
            Timestamp(10),
        ));
        events.extend(quiz.session.handle(Input::Tick, Timestamp(5_000)));
        let names: Vec<String> = effects_of(&events).into_iter().map(|e| e.effect).collect();
        assert_eq!(names, ["ask:0", "reveal:0", "ask:1", "reveal:1", "finish"]);
        // The payload is the core's event: what the replica carrying it out reads back.
        let payload = &effects_of(&events)[1].payload;
        assert!(matches!(
            serde_json::from_str::<Event>(payload).unwrap(),
            Event::QuestionClosed { index: 0, .. }
        ));
    }

    #[test]
    fn post_nonces_fit_discord_and_differ_per_effect_and_per_quiz() {
        let (quiz, _) = saved(0);
        let (later, _) = saved(1);
        let nonces = [
            nonce(1, &quiz, "ask:0"),
            nonce(1, &quiz, "ask:1"),
            nonce(2, &quiz, "ask:0"),
            nonce(1, &later, "ask:0"),
        ];
        assert!(nonces.iter().all(|n| !n.is_empty() && n.len() <= 25), "{nonces:?}");
        let distinct: std::collections::HashSet<&String> = nonces.iter().collect();
        assert_eq!(distinct.len(), nonces.len());
        assert_eq!(
            nonce(1, &quiz, "ask:0"),
            nonces[0],
            "the same effect resent gets the same nonce"
        );
    }
}
