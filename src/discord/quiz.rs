//! Group quizzes in channels, driven by the core's `QuizSession`: one task per running quiz owns the
//! session, sleeps until its next deadline, and takes picks and stops from the handlers through a
//! channel. Each question is a channel message with one button per choice; a pick is acknowledged only to
//! the player; at the deadline the message is edited to reveal the answer. Sessions, attempts, cards and
//! final scores are written to the store as they happen. One quiz per channel.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use serenity::all::CommandDataOption;
use tokio::sync::{Notify, mpsc, oneshot};

use super::handler::{Incoming, Refusal, failed, int_option, player_name, topic_option};
use super::{Bot, render};
use crate::clock::Timestamp;
use crate::config::Locale;
use crate::quiz::generate::mix;
use crate::quiz::session::{CloseReason, Event, Input, PlayerResult, QuizSession, Refusal as Refused, SessionSettings};
use crate::quiz::{Answer, AnswerRecord, QuizQuestion, record_answer};
use crate::srs::Scheduler;
use crate::store::{FinalScore, NewSession, SessionId, Store};

enum Command {
    Pick {
        player: String,
        session: SessionId,
        index: usize,
        label: char,
        reply: oneshot::Sender<String>,
    },
    Stop,
}

struct Running {
    session: SessionId,
    starter: u64,
    inputs: mpsc::UnboundedSender<Command>,
    /// The game, until its task is started (after the reply to `/quiz start` went out).
    waiting: Option<(Game, mpsc::UnboundedReceiver<Command>)>,
}

#[derive(Default)]
pub(crate) struct Quizzes {
    running: Mutex<HashMap<u64, Running>>,
    ended: Notify,
    /// The id of the last question posted in each channel (what `/flag` without an id flags).
    last_shown: Mutex<HashMap<u64, String>>,
}

impl Quizzes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn last_shown(&self, channel: u64) -> Option<String> {
        self.last_shown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&channel)
            .cloned()
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

struct Game {
    locale: Locale,
    channel: u64,
    session_id: SessionId,
    session: QuizSession,
    first_events: Vec<Event>,
    seconds: u64,
    time_limit_ms: i64,
    messages: HashMap<usize, String>,
    joined: HashSet<String>,
    scheduler: Scheduler,
}

fn refuse(locale: Locale, ja: &str, en: &str) -> Refusal {
    Refusal(render::pick(locale, ja, en).to_string())
}

/// `/quiz start`: checks and records the session; the game starts once the reply is out (`begin`).
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
    if bot.quizzes.lock().contains_key(&incoming.channel_id) {
        return Err(refuse(
            locale,
            "このチャンネルではクイズが進行中です (/quiz stop で終了)。",
            "A quiz is already running in this channel (/quiz stop ends it).",
        ));
    }
    let now = Timestamp::now();
    let library = bot.library();
    let seed = now.millis() as u64;
    let mut questions: Vec<QuizQuestion> = library
        .questions
        .iter()
        .filter(|q| q.matches_topic(&topic) && !q.choices.is_empty())
        .cloned()
        .collect();
    // Bank questions first, then generated ones, each in a shuffled order.
    questions.sort_by_key(|q| (q.generated, mix(seed, &q.id)));
    questions.truncate(count);
    if questions.is_empty() {
        return Err(Refusal(match locale {
            Locale::Ja => format!("「{topic}」の問題が見つかりません。"),
            Locale::En => format!("No questions about `{topic}`."),
        }));
    }
    let session_id = {
        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        let key = incoming.channel_key();
        let busy = store
            .unfinished_sessions()
            .map_err(|e| failed(locale, e))?
            .iter()
            .any(|s| s.channel == key);
        if busy {
            return Err(refuse(
                locale,
                "このチャンネルではクイズが進行中です。",
                "A quiz is already running in this channel.",
            ));
        }
        store
            .start_session(&NewSession {
                channel: key,
                started_at: now,
                question_count: questions.len(),
                owner: crate::store::owner::this_process(),
            })
            .map_err(|e| failed(locale, e))?
    };
    let second_ms = settings.quiz_second_ms.max(1) as i64;
    let session_settings = SessionSettings {
        question_count: questions.len(),
        time_limit_ms: seconds as i64 * second_ms,
        silence_limit_ms: 120 * second_ms,
    };
    let total = questions.len();
    let (session, first_events) = QuizSession::start(questions, session_settings, now);
    let (inputs, receiver) = mpsc::unbounded_channel();
    let game = Game {
        locale,
        channel: incoming.channel_id,
        session_id,
        session,
        first_events,
        seconds,
        time_limit_ms: session_settings.time_limit_ms,
        messages: HashMap::new(),
        joined: HashSet::new(),
        scheduler: Scheduler::default(),
    };
    {
        let mut running = bot.quizzes.lock();
        if running.contains_key(&incoming.channel_id) {
            return Err(refuse(
                locale,
                "クイズが進行中です。",
                "A quiz is already running here.",
            ));
        }
        running.insert(
            incoming.channel_id,
            Running {
                session: session_id,
                starter: incoming.user_id,
                inputs,
                waiting: Some((game, receiver)),
            },
        );
    }
    Ok(render::quiz_intro(locale, total, seconds, &topic))
}

/// Starts the task of the quiz `start` prepared in `channel`.
pub(crate) fn begin(bot: &Arc<Bot>, channel: u64) {
    let waiting = bot
        .quizzes
        .lock()
        .get_mut(&channel)
        .and_then(|running| running.waiting.take());
    if let Some((game, inputs)) = waiting {
        tokio::spawn(run(bot.clone(), game, inputs));
    }
}

/// `/quiz stop`: the starter or a member with Manage Server (as Discord reports it for this interaction).
pub(crate) async fn stop(bot: &Arc<Bot>, incoming: &Incoming) -> Result<serde_json::Value, Refusal> {
    let locale = incoming.locale;
    let running = bot.quizzes.lock();
    let Some(quiz) = running.get(&incoming.channel_id) else {
        return Err(refuse(
            locale,
            "このチャンネルで進行中のクイズはありません。",
            "No quiz is running in this channel.",
        ));
    };
    if quiz.starter != incoming.user_id && !incoming.manage_guild {
        return Err(refuse(
            locale,
            "クイズを止められるのは開始した人か「サーバー管理」権限のある人だけです。",
            "Only the quiz's starter or a member with Manage Server can stop it.",
        ));
    }
    let _ = quiz.inputs.send(Command::Stop);
    Ok(render::ephemeral(render::pick(
        locale,
        "⏹ クイズを止めました。",
        "⏹ Quiz stopped.",
    )))
}

/// A button press `q:{session}:{index}:{label}`: acknowledged to the player only.
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
    let (reply, answer) = oneshot::channel();
    {
        let running = bot.quizzes.lock();
        let quiz = running.get(&incoming.channel_id).ok_or_else(over)?;
        if quiz.session != session {
            return Err(over());
        }
        quiz.inputs
            .send(Command::Pick {
                player: incoming.user_id.to_string(),
                session,
                index,
                label,
                reply,
            })
            .map_err(|_| over())?;
    }
    let text = answer.await.map_err(|_| over())?;
    Ok(render::ephemeral(&text))
}

async fn run(bot: Arc<Bot>, mut game: Game, mut inputs: mpsc::UnboundedReceiver<Command>) {
    let mut shutdown = bot.shutdown_signal();
    let first = std::mem::take(&mut game.first_events);
    game.show(&bot, first).await;
    while !game.session.is_finished() {
        let now = Timestamp::now();
        let wait = game
            .session
            .next_deadline()
            .map_or(0, |deadline| deadline.millis_since(now)) as u64;
        let events = tokio::select! {
            command = inputs.recv() => match command {
                Some(Command::Pick { player, session, index, label, reply }) => {
                    let (ack, events) = game.pick(player, session, index, label);
                    let _ = reply.send(ack);
                    events
                }
                Some(Command::Stop) | None => game.session.handle(Input::Stop, Timestamp::now()),
            },
            _ = tokio::time::sleep(std::time::Duration::from_millis(wait)) => {
                game.session.handle(Input::Tick, Timestamp::now())
            }
            _ = shutdown.changed() => game.session.handle(Input::Stop, Timestamp::now()),
        };
        game.show(&bot, events).await;
    }
    bot.quizzes.lock().remove(&game.channel);
    bot.quizzes.ended.notify_waiters();
}

impl Game {
    fn pick(&mut self, player: String, session: SessionId, index: usize, label: char) -> (String, Vec<Event>) {
        let locale = self.locale;
        let now = Timestamp::now();
        if session != self.session_id {
            return (
                render::pick(locale, "このクイズは終了しています。", "This quiz is over.").into(),
                Vec::new(),
            );
        }
        let mut events = Vec::new();
        if self.joined.insert(player.clone()) {
            events.extend(self.session.handle(Input::Join { player: player.clone() }, now));
        }
        events.extend(self.session.handle(
            Input::Answer {
                player: player.clone(),
                question_index: index,
                answer: Answer::Picks(vec![label]),
            },
            now,
        ));
        let ack = events
            .iter()
            .find_map(|event| match event {
                Event::AnswerAccepted { player: p, changed, .. } if *p == player => Some(match (locale, changed) {
                    (Locale::Ja, false) => format!("✅ {label} を選びました (1 回だけ変更できます)"),
                    (Locale::En, false) => format!("✅ You picked {label} (you may change it once)"),
                    (Locale::Ja, true) => format!("🔁 {label} に変更しました (これで確定)"),
                    (Locale::En, true) => format!("🔁 Changed to {label} (final)"),
                }),
                Event::AnswerRefused { player: p, reason, .. } if *p == player => Some(
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
                    }
                    .to_string(),
                ),
                _ => None,
            })
            .unwrap_or_default();
        (ack, events)
    }

    /// Sends and records what the session's events say.
    async fn show(&mut self, bot: &Bot, events: Vec<Event>) {
        let locale = self.locale;
        let total = self.session.questions().len();
        for event in events {
            match event {
                Event::QuestionAsked { index, .. } => {
                    let question = &self.session.questions()[index];
                    let body = render::question(locale, self.session_id, index, total, question, self.seconds);
                    bot.quizzes
                        .last_shown
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(self.channel, question.id.clone());
                    match bot
                        .rest
                        .post(&format!("/channels/{}/messages", self.channel), &body)
                        .await
                    {
                        Ok(message) => {
                            if let Some(id) = message["id"].as_str() {
                                self.messages.insert(index, id.to_string());
                            }
                        }
                        Err(error) => tracing::error!("posting a quiz question failed: {error}"),
                    }
                }
                Event::QuestionClosed {
                    index, reason, results, ..
                } => {
                    let question = self.session.questions()[index].clone();
                    for result in &results {
                        if reason == CloseReason::Stopped && result.answer.is_none() {
                            continue;
                        }
                        if let Err(error) = self.record(bot, index, &question, result) {
                            tracing::error!("recording an attempt failed: {error:#}");
                        }
                    }
                    let body = render::reveal(locale, index, total, &question, &results, reason);
                    let route = match self.messages.get(&index) {
                        Some(id) => format!("/channels/{}/messages/{id}", self.channel),
                        None => continue,
                    };
                    if let Err(error) = bot.rest.patch(&route, &body).await {
                        tracing::error!("revealing a quiz answer failed: {error}");
                    }
                }
                Event::Finished { reason, scoreboard } => {
                    let stored = {
                        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
                        let now = Timestamp::now();
                        let scores: Result<Vec<FinalScore>, _> = scoreboard
                            .iter()
                            .map(|line| {
                                store.user(&player_name_of(&line.player), now).map(|user| FinalScore {
                                    user,
                                    points: line.points,
                                    rank: line.rank,
                                })
                            })
                            .collect();
                        scores.and_then(|scores| store.finish_session(self.session_id, reason, now, &scores))
                    };
                    if let Err(error) = stored {
                        tracing::error!("storing the final scores failed: {error}");
                    }
                    let body = render::scoreboard(locale, &scoreboard, reason);
                    if let Err(error) = bot
                        .rest
                        .post(&format!("/channels/{}/messages", self.channel), &body)
                        .await
                    {
                        tracing::error!("posting the scoreboard failed: {error}");
                    }
                }
                Event::AnswerAccepted { .. } | Event::AnswerRefused { .. } => {}
            }
        }
    }

    fn record(
        &mut self,
        bot: &Bot,
        index: usize,
        question: &QuizQuestion,
        result: &PlayerResult,
    ) -> anyhow::Result<()> {
        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        let record = AnswerRecord {
            session: self.session_id,
            index,
            question,
            player: &player_name_of(&result.player),
            result,
            time_limit_ms: self.time_limit_ms,
        };
        record_answer(&mut *store, &self.scheduler, &record)?;
        Ok(())
    }
}

fn player_name_of(player: &str) -> String {
    player
        .parse::<u64>()
        .map(player_name)
        .unwrap_or_else(|_| player.to_string())
}
