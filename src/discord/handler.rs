//! One handler per interaction, shared by both transports. Each reads what the user gave, calls the core
//! and replies; a reply not ready within `discord.defer_after_ms` is deferred first and then edited in.
//! Every failure becomes a clear ephemeral message; details go to the log, never to the user.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use serenity::all::{ActionRowComponent, CommandDataOption, CommandDataOptionValue, Interaction, Member, User};
use tokio::sync::oneshot;

use super::render::{self, pick};
use super::{Bot, quiz};
use crate::answer;
use crate::config::Locale;
use crate::quiz::QuizQuestion;
use crate::store::NewFlag;

/// Where the first response to an interaction goes: Discord's callback route (gateway), or the body of
/// the HTTP request that delivered it (HTTP interactions).
pub enum FirstReply {
    Rest,
    Http(oneshot::Sender<Value>),
}

/// An interaction, reduced to what the handlers read.
pub(crate) struct Incoming {
    pub id: u64,
    pub token: String,
    pub application_id: u64,
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    pub locale: Locale,
    /// Manage Server, as Discord computed it for this interaction (re-checked on every receipt).
    pub manage_guild: bool,
    pub kind: Kind,
}

pub(crate) enum Kind {
    Command {
        name: String,
        options: Vec<CommandDataOption>,
    },
    Autocomplete {
        name: String,
        options: Vec<CommandDataOption>,
    },
    Component {
        custom_id: String,
    },
    Modal {
        custom_id: String,
        fields: HashMap<String, String>,
    },
}

/// A user-facing failure: its text is shown as is.
#[derive(Debug)]
pub(crate) struct Refusal(pub String);

/// The refusal for a question id the notes no longer hold (edited away, or mistyped).
pub(crate) fn question_gone(locale: Locale) -> Refusal {
    Refusal(
        pick(
            locale,
            "その問題はノートにありません (削除されたか、ID の誤り)。",
            "That question is not in the notes (removed, or a mistyped id).",
        )
        .into(),
    )
}

type Outcome = Result<Value, Refusal>;

fn member_facts(member: Option<&Member>, user: &User) -> (u64, bool) {
    let manage = member
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.manage_guild() || p.administrator());
    (user.id.get(), manage)
}

impl Incoming {
    fn from(bot: &Bot, interaction: Interaction) -> Option<Incoming> {
        macro_rules! base {
            ($i:expr, $kind:expr) => {{
                let (user_id, manage_guild) = member_facts(
                    $i.member
                        .as_ref()
                        .map(|m| std::borrow::Borrow::<Member>::borrow(m)),
                    &$i.user,
                );
                Incoming {
                    id: $i.id.get(),
                    token: $i.token.clone(),
                    application_id: $i.application_id.get(),
                    guild_id: $i.guild_id.map(|g| g.get()),
                    channel_id: $i.channel_id.get(),
                    user_id,
                    locale: bot.locale_for(&$i.locale),
                    manage_guild,
                    kind: $kind,
                }
            }};
        }
        Some(match interaction {
            Interaction::Command(i) => base!(
                i,
                Kind::Command {
                    name: i.data.name.clone(),
                    options: i.data.options.clone()
                }
            ),
            Interaction::Autocomplete(i) => base!(
                i,
                Kind::Autocomplete {
                    name: i.data.name.clone(),
                    options: i.data.options.clone()
                }
            ),
            Interaction::Component(i) => base!(
                i,
                Kind::Component {
                    custom_id: i.data.custom_id.clone()
                }
            ),
            Interaction::Modal(i) => {
                let fields = i
                    .data
                    .components
                    .iter()
                    .flat_map(|row| &row.components)
                    .filter_map(|c| match c {
                        ActionRowComponent::InputText(input) => {
                            Some((input.custom_id.clone(), input.value.clone().unwrap_or_default()))
                        }
                        _ => None,
                    })
                    .collect();
                base!(
                    i,
                    Kind::Modal {
                        custom_id: i.data.custom_id.clone(),
                        fields
                    }
                )
            }
            _ => return None,
        })
    }

    pub fn channel_key(&self) -> String {
        format!("discord:{}:{}", self.guild_id.unwrap_or(0), self.channel_id)
    }
}

/// Sends first responses and edits for one interaction.
pub(crate) struct Responder {
    bot: Arc<Bot>,
    id: u64,
    token: String,
    application_id: u64,
    first: Option<FirstReply>,
}

impl Responder {
    /// The first response (`type` 4 message, 5 deferred, 8 autocomplete, 9 modal).
    pub async fn first(&mut self, kind: u8, data: Option<Value>) {
        let mut body = json!({ "type": kind });
        if let Some(data) = data {
            body["data"] = data;
        }
        match self.first.take() {
            Some(FirstReply::Http(sender)) => {
                let _ = sender.send(body);
            }
            Some(FirstReply::Rest) => {
                let route = format!("/interactions/{}/{}/callback", self.id, self.token);
                if let Err(error) = self.bot.rest.post(&route, &body).await {
                    tracing::error!("responding to an interaction failed: {error}");
                }
            }
            None => tracing::error!("a second first response was attempted and dropped"),
        }
    }

    /// Replaces the first response's message (after a defer).
    pub async fn edit_original(&self, data: &Value) {
        let route = format!("/webhooks/{}/{}/messages/@original", self.application_id, self.token);
        let mut data = data.clone();
        if let Some(object) = data.as_object_mut() {
            object.remove("flags");
        }
        if let Err(error) = self.bot.rest.patch(&route, &data).await {
            tracing::error!("editing a deferred reply failed: {error}");
        }
    }
}

/// Handles one interaction from either transport.
pub async fn handle(bot: Arc<Bot>, interaction: Interaction, first: FirstReply) {
    let _in_flight = bot.in_flight();
    let Some(incoming) = Incoming::from(&bot, interaction) else {
        return;
    };
    let mut responder = Responder {
        bot: bot.clone(),
        id: incoming.id,
        token: incoming.token.clone(),
        application_id: incoming.application_id,
        first: Some(first),
    };
    dispatch(&bot, &incoming, &mut responder).await;
}

async fn dispatch(bot: &Arc<Bot>, incoming: &Incoming, responder: &mut Responder) {
    let locale = incoming.locale;
    match &incoming.kind {
        Kind::Command { name, .. }
            if super::commands::ADMIN_COMMANDS.contains(&name.as_str()) && !incoming.manage_guild =>
        {
            // Discord hides these from members without Manage Server, but a server can override that.
            let text = pick(
                locale,
                "このコマンドには「サーバー管理」権限が必要です。",
                "This command needs the Manage Server permission.",
            );
            send_outcome(responder, Err(Refusal(text.into()))).await
        }
        Kind::Command { name, options } => match name.as_str() {
            "ask" => {
                let query = string_option(options, "query").unwrap_or_default();
                let bot2 = bot.clone();
                reply_in_time(bot, responder, false, async move { ask(&bot2, locale, query).await }).await
            }
            "answer" => responder.first(9, Some(render::answer_modal(locale))).await,
            "quiz" => {
                let (sub, sub_options) = match options.first() {
                    Some(CommandDataOption {
                        name,
                        value: CommandDataOptionValue::SubCommand(options),
                        ..
                    }) => (name.as_str(), options.clone()),
                    _ => ("", Vec::new()),
                };
                let outcome = match sub {
                    "start" => quiz::start(bot, incoming, &sub_options).await,
                    "stop" => quiz::stop(bot, incoming).await,
                    _ => Err(Refusal(unknown(locale))),
                };
                let started = outcome.is_ok() && sub == "start";
                send_outcome(responder, outcome).await;
                if started {
                    quiz::begin(bot, incoming);
                }
            }
            "leaderboard" => {
                let outcome = leaderboard(bot, locale);
                send_outcome(responder, outcome).await
            }
            "review" => {
                let outcome = review(bot, incoming);
                send_outcome(responder, outcome).await
            }
            "stats" => {
                let target = options
                    .iter()
                    .find_map(|o| match (&o.name[..], &o.value) {
                        ("user", CommandDataOptionValue::User(id)) => Some(id.get()),
                        _ => None,
                    })
                    .unwrap_or(incoming.user_id);
                let outcome = stats(bot, locale, target)
                    .map(|body| super::daily::with_streak(bot, locale, incoming.guild_id, target, body));
                send_outcome(responder, outcome).await
            }
            "daily" => {
                let outcome = super::daily::command(bot, incoming, options).await;
                send_outcome(responder, outcome).await
            }
            "flag" => {
                let reason = string_option(options, "reason").unwrap_or_default();
                let outcome = match string_option(options, "question") {
                    Some(key) => flag(bot, incoming, &key, &reason),
                    None => match last_shown(bot, incoming) {
                        Some(id) => flag(bot, incoming, &id, &reason),
                        None => Err(Refusal(
                            pick(
                                locale,
                                "このチャンネルではまだ問題が出ていません。`question` に問題 ID を入れてください。",
                                "No question was shown in this channel yet: give its id in `question`.",
                            )
                            .into(),
                        )),
                    },
                };
                send_outcome(responder, outcome).await
            }
            "reload" => {
                let bot2 = bot.clone();
                reply_in_time(bot, responder, true, async move { reload(&bot2, locale).await }).await
            }
            "help" => responder.first(4, Some(render::help(locale))).await,
            _ => send_outcome(responder, Err(Refusal(unknown(locale)))).await,
        },
        Kind::Autocomplete { name, options } => {
            let (option, typed) = focused_value(options).unwrap_or_default();
            let folded = crate::quiz::checker::fold(&typed);
            if name == "flag" && option == "question" {
                let library = bot.library();
                let choices: Vec<(String, String)> = library
                    .questions
                    .iter()
                    .filter(|q| {
                        crate::quiz::checker::fold(&q.id).contains(&folded)
                            || crate::quiz::checker::fold(&q.stem).contains(&folded)
                    })
                    .take(25)
                    .map(|q| (format!("{} — {}", q.id, q.stem), question_key(&q.id)))
                    .collect();
                return responder.first(8, Some(render::autocomplete_pairs(&choices))).await;
            }
            let topics: Vec<String> = bot
                .library()
                .topics()
                .into_iter()
                .filter(|t| crate::quiz::checker::fold(t).contains(&folded))
                .take(25)
                .collect();
            responder.first(8, Some(render::autocomplete(&topics))).await
        }
        Kind::Component { custom_id } => {
            if custom_id.starts_with("q:") {
                let outcome = quiz::pick(bot, incoming, custom_id).await;
                send_outcome(responder, outcome).await
            } else if custom_id.starts_with("d:") {
                let outcome = super::daily::pick_answer(bot, incoming, custom_id).await;
                send_outcome(responder, outcome).await
            } else if custom_id.starts_with("f:") || custom_id.starts_with("f#") {
                let modal_id = format!("m{custom_id}");
                responder.first(9, Some(render::flag_modal(locale, &modal_id))).await
            } else {
                send_outcome(responder, Err(Refusal(unknown(locale)))).await
            }
        }
        Kind::Modal { custom_id, fields } => {
            if custom_id == "answer" {
                let text = fields.get("question").cloned().unwrap_or_default();
                let bot2 = bot.clone();
                reply_in_time(bot, responder, false, async move { rank(&bot2, locale, text).await }).await
            } else if let Some(flag_id) = custom_id.strip_prefix('m') {
                let reason = fields.get("reason").cloned().unwrap_or_default();
                let key = flag_id.get(2..).unwrap_or("");
                let outcome = flag(bot, incoming, key, &reason);
                send_outcome(responder, outcome).await
            } else {
                send_outcome(responder, Err(Refusal(unknown(locale)))).await
            }
        }
    }
}

fn unknown(locale: Locale) -> String {
    pick(locale, "この操作は分かりません。", "Unknown action.").to_string()
}

fn internal(locale: Locale) -> Refusal {
    Refusal(
        pick(
            locale,
            "内部エラーが起きました (詳細はボットのログにあります)。",
            "Something went wrong on the bot's side (details are in its log).",
        )
        .to_string(),
    )
}

/// Logs an internal error and turns it into the user's message.
pub(crate) fn failed(locale: Locale, error: impl std::fmt::Display) -> Refusal {
    tracing::error!("{error}");
    internal(locale)
}

async fn send_outcome(responder: &mut Responder, outcome: Outcome) {
    let data = match outcome {
        Ok(data) => data,
        Err(Refusal(text)) => render::error(&text),
    };
    responder.first(4, Some(data)).await
}

/// Runs `work` and replies with what it returns; if it takes longer than `defer_after_ms`, defers first
/// (Discord's 3 s rule) and then edits the reply in.
async fn reply_in_time(
    bot: &Arc<Bot>,
    responder: &mut Responder,
    ephemeral: bool,
    work: impl std::future::Future<Output = Outcome> + Send + 'static,
) {
    let mut task = tokio::spawn(work);
    let defer_after = Duration::from_millis(bot.config.discord.defer_after_ms);
    // 0 defers every reply at once, however quick its work.
    let outcome = if defer_after.is_zero() {
        None
    } else {
        tokio::select! {
            outcome = &mut task => Some(outcome),
            _ = tokio::time::sleep(defer_after) => None,
        }
    };
    let flatten = |joined: Result<Outcome, tokio::task::JoinError>| match joined {
        Ok(outcome) => outcome,
        Err(error) => Err(failed(bot.config.locale, format!("a handler panicked: {error}"))),
    };
    match outcome {
        Some(joined) => {
            let outcome = flatten(joined).map(|d| if ephemeral { render::make_ephemeral(d) } else { d });
            send_outcome(responder, outcome).await
        }
        None => {
            let flags = if ephemeral {
                json!({"flags": render::EPHEMERAL})
            } else {
                json!({})
            };
            responder.first(5, Some(flags)).await;
            let data = match flatten(task.await) {
                Ok(data) => data,
                Err(Refusal(text)) => render::error(&text),
            };
            responder.edit_original(&data).await
        }
    }
}

fn string_option(options: &[CommandDataOption], name: &str) -> Option<String> {
    options.iter().find_map(|o| match (&o.name[..], &o.value) {
        (n, CommandDataOptionValue::String(s)) if n == name => Some(s.clone()),
        _ => None,
    })
}

pub(crate) fn int_option(options: &[CommandDataOption], name: &str) -> Option<i64> {
    options.iter().find_map(|o| match (&o.name[..], &o.value) {
        (n, CommandDataOptionValue::Integer(i)) if n == name => Some(*i),
        _ => None,
    })
}

pub(crate) fn topic_option(options: &[CommandDataOption]) -> Option<String> {
    string_option(options, "topic")
}

/// The focused option of an autocomplete request: its name and what the user has typed so far.
fn focused_value(options: &[CommandDataOption]) -> Option<(String, String)> {
    for option in options {
        match &option.value {
            CommandDataOptionValue::Autocomplete { value, .. } => return Some((option.name.clone(), value.clone())),
            CommandDataOptionValue::SubCommand(inner) | CommandDataOptionValue::SubCommandGroup(inner) => {
                if let Some(found) = focused_value(inner) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

async fn ask(bot: &Arc<Bot>, locale: Locale, query: String) -> Outcome {
    if query.trim().is_empty() {
        return Err(Refusal(
            pick(locale, "質問を入れてください。", "Type a question.").into(),
        ));
    }
    let library = bot.library();
    let top = bot.config.search.top;
    let lines = bot.config.search.snippet_lines;
    tokio::task::spawn_blocking(move || {
        let results = library.searcher(lines).search(&query, top);
        render::ask(locale, &query, &results)
    })
    .await
    .map_err(|e| failed(locale, e))
}

async fn rank(bot: &Arc<Bot>, locale: Locale, text: String) -> Outcome {
    let question = answer::parse_question(&text).map_err(|error| {
        Refusal(match locale {
            Locale::Ja => format!("問題を読めませんでした: {}", error.message(locale)),
            Locale::En => format!("Could not read the question: {}", error.message(locale)),
        })
    })?;
    let library = bot.library();
    let min_confidence = bot.config.answer.min_confidence;
    tokio::task::spawn_blocking(move || {
        let ranking = answer::rank(&library.searcher(2), &question, min_confidence);
        render::answer(locale, &question, &ranking)
    })
    .await
    .map_err(|e| failed(locale, e))
}

fn leaderboard(bot: &Bot, locale: Locale) -> Outcome {
    let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let lines = store.leaderboard("discord:", 10).map_err(|e| failed(locale, e))?;
    Ok(render::leaderboard(locale, &lines))
}

pub(crate) fn player_name(user_id: u64) -> String {
    format!("discord:{user_id}")
}

fn stats(bot: &Bot, locale: Locale, user_id: u64) -> Outcome {
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let now = bot.clock.now();
    let user = store.user(&player_name(user_id), now).map_err(|e| failed(locale, e))?;
    let stats = store.stats(user, now).map_err(|e| failed(locale, e))?;
    Ok(render::stats(locale, &user_id.to_string(), &stats))
}

fn review(bot: &Bot, incoming: &Incoming) -> Outcome {
    let locale = incoming.locale;
    let (due, misses) = {
        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        let now = bot.clock.now();
        let user = store
            .user(&player_name(incoming.user_id), now)
            .map_err(|e| failed(locale, e))?;
        let due = store.due_cards(user, now, 10).map_err(|e| failed(locale, e))?;
        let misses = store.recent_misses(user, 10).map_err(|e| failed(locale, e))?;
        (due, misses)
    };
    let order = crate::review::review_order(&due, &misses, 10);
    let library = bot.library();
    let items: Vec<&QuizQuestion> = order
        .iter()
        .filter_map(|id| library.questions.iter().find(|q| &q.id == id))
        .collect();
    Ok(render::review(locale, &due, &items))
}

/// How a question is named in an autocomplete value or a flag button: its id, or the id's stable hash when
/// the id is too long for Discord (100 characters).
fn question_key(id: &str) -> String {
    let custom = render::custom_id("f", id);
    custom.get(2..).unwrap_or(id).to_string()
}

async fn reload(bot: &Bot, locale: Locale) -> Outcome {
    match bot.reload_now().await {
        Ok(Some(sections)) => Ok(render::ephemeral(&match locale {
            Locale::Ja => format!("🔄 ノートを再索引しました ({sections} セクション)。"),
            Locale::En => format!("🔄 Notes reindexed ({sections} sections)."),
        })),
        Ok(None) => Err(Refusal(
            pick(
                locale,
                "このボットには再読み込みするノートのフォルダがありません。",
                "This bot has no notes folder to reload.",
            )
            .into(),
        )),
        Err(error) => Err(failed(locale, format!("reloading the notes failed: {error:#}"))),
    }
}

/// The last question shown in the interaction's channel, by whichever replica showed it.
fn last_shown(bot: &Bot, incoming: &Incoming) -> Option<String> {
    let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    store
        .last_shown(&incoming.channel_key())
        .inspect_err(|error| tracing::error!("reading the last question shown failed: {error}"))
        .ok()
        .flatten()
}

/// Stores a flag on the question named `key` (an id, or the key of a flag button or autocomplete choice).
fn flag(bot: &Bot, incoming: &Incoming, key: &str, reason: &str) -> Outcome {
    let locale = incoming.locale;
    let library = bot.library();
    let key = key.trim();
    let question = library
        .questions
        .iter()
        .find(|q| q.id == key || question_key(&q.id) == key)
        .ok_or_else(|| question_gone(locale))?;
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let now = bot.clock.now();
    let user = store
        .user(&player_name(incoming.user_id), now)
        .map_err(|e| failed(locale, e))?;
    store
        .add_flag(&NewFlag {
            question_id: question.id.clone(),
            user,
            reason: render::truncate(reason.trim(), 500),
            path: question.origin.path.clone(),
            line: question.origin.line,
            session: None,
            created_at: now,
        })
        .map_err(|e| failed(locale, e))?;
    let text = match locale {
        Locale::Ja => format!(
            "🚩 報告しました: `{}` (`{}:{}`)",
            question.id, question.origin.path, question.origin.line
        ),
        Locale::En => format!(
            "🚩 Flagged `{}` (`{}:{}`)",
            question.id, question.origin.path, question.origin.line
        ),
    };
    Ok(render::ephemeral(&text))
}
