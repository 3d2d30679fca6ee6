//! Which command, button or modal goes to which handler in `commands/`, and how its reply is sent: at
//! once, or, when the work may outlast `discord.defer_after_ms`, deferred first and then edited in
//! (Discord's 3 s rule). Every refusal becomes a clear ephemeral message; details go to the log, never to
//! the user. Shared by both transports (`handle`), which also counts each interaction by route and outcome,
//! and its reply latency, in the bot's metrics. Routing (`route`) is pure and unit-tested here.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use serenity::all::{CommandDataOption, Interaction};

use super::commands::{admin, answer, ask, daily, flag, help, leaderboard, quiz, review, stats};
use super::interaction::{
    CustomId, FirstReply, Incoming, Kind, Outcome, QuestionKey, Refusal, Responder, ResponseKind, focused_value,
    string_option, subcommand,
};
use super::metrics::Served;
use super::views::{self, EPHEMERAL};
use super::{Bot, quiz as quiz_engine};
use crate::config::Locale;
use crate::store::SessionId;

/// Where an interaction goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Ask,
    /// `/answer` opens its modal; `Rank` is the modal sent back.
    Answer,
    QuizStart,
    QuizStop,
    Leaderboard,
    Review,
    Stats,
    Daily,
    Flag,
    Reload,
    Help,
    /// An admin command (named) from a member without Manage Server.
    NeedsManageServer(&'static str),
    SuggestQuestions,
    SuggestTopics,
    QuizPick {
        session: SessionId,
        index: usize,
        label: char,
    },
    DailyPick {
        slot: String,
        label: char,
    },
    /// A 🚩 button: it opens the flag modal.
    FlagButton(QuestionKey),
    Rank,
    Flagged(QuestionKey),
    /// Nothing this bot knows (a stale or forged id, a command not registered).
    Unknown,
}

fn route_command(name: &str, options: &[CommandDataOption], manage_guild: bool) -> Route {
    let route = match name {
        "ask" => Route::Ask,
        "answer" => Route::Answer,
        "quiz" => match subcommand(options).0 {
            "start" => Route::QuizStart,
            "stop" => Route::QuizStop,
            _ => Route::Unknown,
        },
        "leaderboard" => Route::Leaderboard,
        "review" => Route::Review,
        "stats" => Route::Stats,
        "daily" => Route::Daily,
        "flag" => Route::Flag,
        "reload" => Route::Reload,
        "help" => Route::Help,
        _ => Route::Unknown,
    };
    if admin::needs_manage_server(name) && !manage_guild {
        return Route::NeedsManageServer(route.name());
    }
    route
}

impl Route {
    /// The route's name in the metrics: a fixed word per route, never what the user typed, so the
    /// label's values are few and known.
    fn name(&self) -> &'static str {
        match self {
            Route::Ask => "ask",
            Route::Answer => "answer",
            Route::QuizStart => "quiz_start",
            Route::QuizStop => "quiz_stop",
            Route::Leaderboard => "leaderboard",
            Route::Review => "review",
            Route::Stats => "stats",
            Route::Daily => "daily",
            Route::Flag => "flag",
            Route::Reload => "reload",
            Route::Help => "help",
            Route::NeedsManageServer(command) => command,
            Route::SuggestQuestions | Route::SuggestTopics => "autocomplete",
            Route::QuizPick { .. } => "quiz_pick",
            Route::DailyPick { .. } => "daily_pick",
            Route::FlagButton(_) => "flag_button",
            Route::Rank => "answer_modal",
            Route::Flagged(_) => "flag_modal",
            Route::Unknown => "unknown",
        }
    }
}

/// Where `incoming` goes (Manage Server as Discord reported it for this interaction).
fn route(kind: &Kind, manage_guild: bool) -> Route {
    match kind {
        Kind::Command { name, options } => route_command(name, options, manage_guild),
        Kind::Autocomplete { name, options } => match focused_value(options) {
            Some((option, _)) if name == "flag" && option == "question" => Route::SuggestQuestions,
            _ => Route::SuggestTopics,
        },
        Kind::Component { custom_id } => match custom_id.parse::<CustomId>() {
            Ok(CustomId::QuizPick { session, index, label }) => Route::QuizPick { session, index, label },
            Ok(CustomId::DailyPick { slot, label }) => Route::DailyPick { slot, label },
            Ok(CustomId::FlagButton(key)) => Route::FlagButton(key),
            _ => Route::Unknown,
        },
        Kind::Modal { custom_id, .. } => match custom_id.parse::<CustomId>() {
            Ok(CustomId::AnswerModal) => Route::Rank,
            Ok(CustomId::FlagModal(key)) => Route::Flagged(key),
            _ => Route::Unknown,
        },
    }
}

/// Handles one interaction from either transport.
pub async fn handle(bot: Arc<Bot>, interaction: Interaction, first: FirstReply) {
    let _in_flight = bot.in_flight();
    let Some(incoming) = Incoming::from(interaction, |user_locale| bot.locale_for(user_locale)) else {
        return;
    };
    let mut responder = Responder::new(bot.rest.clone(), &incoming, first);
    let route = route(&incoming.kind, incoming.manage_guild);
    let name = route.name();
    let served = dispatch(&bot, &incoming, route, &mut responder).await;
    bot.metrics.interaction(name, served);
    if let Some(latency) = responder.answered_after() {
        bot.metrics.reply_latency(latency);
    }
}

fn options(incoming: &Incoming) -> &[CommandDataOption] {
    match &incoming.kind {
        Kind::Command { options, .. } | Kind::Autocomplete { options, .. } => options,
        _ => &[],
    }
}

/// A text field of the submitted modal (empty when absent).
fn field(incoming: &Incoming, id: CustomId) -> String {
    match &incoming.kind {
        Kind::Modal { fields, .. } => fields.get(&id.to_string()).cloned().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Runs the handler `route` names and sends its replies; returns how it ended.
async fn dispatch(bot: &Arc<Bot>, incoming: &Incoming, route: Route, responder: &mut Responder) -> Served {
    let locale = incoming.locale;
    let options = options(incoming);
    let outcome = match route {
        Route::Ask => {
            let query = string_option(options, "query").unwrap_or_default();
            let work = ask::ask(bot.clone(), locale, query);
            return reply_in_time(bot, responder, locale, false, work).await;
        }
        Route::Rank => {
            let work = answer::rank(bot.clone(), locale, field(incoming, CustomId::QuestionField));
            return reply_in_time(bot, responder, locale, false, work).await;
        }
        Route::Reload => return reply_in_time(bot, responder, locale, true, admin::reload(bot.clone(), locale)).await,
        Route::Answer => return answered(responder, ResponseKind::Modal, answer::modal(locale)).await,
        Route::FlagButton(key) => return answered(responder, ResponseKind::Modal, flag::modal(locale, key)).await,
        Route::Help => return answered(responder, ResponseKind::ChannelMessage, help::help(locale)).await,
        Route::SuggestQuestions => {
            let choices = flag::questions_matching(bot, &typed(options));
            return answered(responder, ResponseKind::Autocomplete, choices).await;
        }
        Route::SuggestTopics => {
            let choices = views::autocomplete(&quiz::topics_matching(bot, &typed(options)));
            return answered(responder, ResponseKind::Autocomplete, choices).await;
        }
        Route::QuizStart => {
            let outcome = quiz::start(bot, incoming, subcommand(options).1).await;
            let started = outcome.is_ok();
            let served = send_outcome(responder, locale, outcome).await;
            if started {
                quiz_engine::begin(bot, incoming);
            }
            return served;
        }
        Route::QuizStop => quiz::stop(bot, incoming).await,
        Route::QuizPick { session, index, label } => quiz::pick_answer(bot, incoming, session, index, label).await,
        Route::DailyPick { slot, label } => daily::pick_answer(bot, incoming, &slot, label).await,
        Route::Daily => daily::command(bot, incoming, options).await,
        Route::Leaderboard => leaderboard::leaderboard(bot, locale),
        Route::Review => review::review(bot, incoming),
        Route::Stats => stats::stats(bot, incoming, options),
        Route::Flag => flag::command(bot, incoming, options),
        Route::Flagged(key) => flag::submitted(bot, incoming, &key, &field(incoming, CustomId::ReasonField)),
        Route::NeedsManageServer(_) => Err(admin::manage_server_needed(locale)),
        Route::Unknown => Err(Refusal::unknown(locale)),
    };
    send_outcome(responder, locale, outcome).await
}

/// What the user has typed so far in the option an autocomplete request is for.
fn typed(options: &[CommandDataOption]) -> String {
    focused_value(options).map(|(_, typed)| typed).unwrap_or_default()
}

/// Sends a reply that cannot be refused (a modal, suggestions, the help).
async fn answered(responder: &mut Responder, kind: ResponseKind, data: serde_json::Value) -> Served {
    responder.first(kind, Some(data)).await;
    Served::Ok
}

async fn send_outcome(responder: &mut Responder, locale: Locale, outcome: Outcome) -> Served {
    let served = Served::of(&outcome);
    let data = match outcome {
        Ok(data) => data,
        Err(refusal) => views::error(&refusal.text(locale)),
    };
    responder.first(ResponseKind::ChannelMessage, Some(data)).await;
    served
}

/// Runs `work` and replies with what it returns; if it takes longer than `defer_after_ms`, defers first
/// (Discord's 3 s rule) and then edits the reply in.
async fn reply_in_time(
    bot: &Arc<Bot>,
    responder: &mut Responder,
    locale: Locale,
    ephemeral: bool,
    work: impl std::future::Future<Output = Outcome> + Send + 'static,
) -> Served {
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
    // A handler that panicked failed; it is told in the bot's own language, as any failure outside an
    // interaction.
    let served = |joined: &Result<Outcome, tokio::task::JoinError>| joined.as_ref().map_or(Served::Failed, Served::of);
    let flatten = |joined: Result<Outcome, tokio::task::JoinError>| {
        joined.unwrap_or_else(|error| {
            let refusal = Refusal::internal(format!("a handler panicked: {error}"));
            Err(Refusal::Told(refusal.text(bot.config.locale)))
        })
    };
    match outcome {
        Some(joined) => {
            let ended = served(&joined);
            let outcome = flatten(joined).map(|d| if ephemeral { views::make_ephemeral(d) } else { d });
            send_outcome(responder, locale, outcome).await;
            ended
        }
        None => {
            let flags = if ephemeral {
                json!({"flags": EPHEMERAL})
            } else {
                json!({})
            };
            responder.first(ResponseKind::Deferred, Some(flags)).await;
            let joined = task.await;
            let ended = served(&joined);
            let data = match flatten(joined) {
                Ok(data) => data,
                Err(refusal) => views::error(&refusal.text(locale)),
            };
            responder.edit_original(&data).await;
            ended
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde_json::Value;

    use super::*;

    fn options(value: Value) -> Vec<CommandDataOption> {
        serde_json::from_value(value).unwrap()
    }

    fn command(name: &str, options: Vec<CommandDataOption>) -> Kind {
        Kind::Command {
            name: name.into(),
            options,
        }
    }

    fn component(id: &str) -> Kind {
        Kind::Component { custom_id: id.into() }
    }

    fn modal(id: &str) -> Kind {
        Kind::Modal {
            custom_id: id.into(),
            fields: HashMap::new(),
        }
    }

    #[test]
    fn each_command_goes_to_its_handler() {
        let plain = [
            ("ask", Route::Ask),
            ("answer", Route::Answer),
            ("leaderboard", Route::Leaderboard),
            ("review", Route::Review),
            ("stats", Route::Stats),
            ("flag", Route::Flag),
            ("help", Route::Help),
        ];
        for (name, expected) in plain {
            assert_eq!(route(&command(name, vec![]), false), expected, "{name}");
        }
        let sub = |name: &str| options(json!([{"name": name, "type": 1, "options": []}]));
        assert_eq!(route(&command("quiz", sub("start")), false), Route::QuizStart);
        assert_eq!(route(&command("quiz", sub("stop")), false), Route::QuizStop);
        assert_eq!(route(&command("quiz", sub("pause")), false), Route::Unknown);
        assert_eq!(route(&command("quiz", vec![]), false), Route::Unknown);
        assert_eq!(route(&command("daily", sub("show")), true), Route::Daily);
        assert_eq!(route(&command("shutdown", vec![]), true), Route::Unknown);
    }

    #[test]
    fn admin_commands_need_manage_server_on_every_receipt() {
        for name in ["reload", "daily"] {
            assert_eq!(
                route(&command(name, vec![]), false),
                Route::NeedsManageServer(name),
                "{name}"
            );
        }
        assert_eq!(route(&command("reload", vec![]), true), Route::Reload);
        assert_eq!(route(&command("ask", vec![]), true), Route::Ask);
    }

    #[test]
    fn each_button_and_modal_goes_to_its_handler() {
        assert_eq!(
            route(&component("q:12:3:B"), false),
            Route::QuizPick {
                session: 12,
                index: 3,
                label: 'B'
            }
        );
        assert_eq!(
            route(&component("d:2026-11-27:C"), false),
            Route::DailyPick {
                slot: "2026-11-27".into(),
                label: 'C'
            }
        );
        assert_eq!(
            route(&component("f:kin-001"), false),
            Route::FlagButton(QuestionKey::Id("kin-001".into()))
        );
        assert_eq!(route(&modal("answer"), false), Route::Rank);
        assert_eq!(
            route(&modal("mf#00000000000000ff"), false),
            Route::Flagged(QuestionKey::Hash(255))
        );
    }

    #[test]
    fn an_id_in_the_wrong_place_or_not_ours_is_unknown_and_refused_clearly() {
        for kind in [
            component("answer"),
            component("mf:kin-001"),
            component("q:12:3"),
            component("x:1"),
            component(""),
            modal("f:kin-001"),
            modal("q:1:0:A"),
            modal("reason"),
        ] {
            assert_eq!(route(&kind, true), Route::Unknown);
        }
        assert_eq!(Refusal::unknown(Locale::En).text(Locale::En), "Unknown action.");
        assert_eq!(
            Refusal::unknown(Locale::Ja).text(Locale::Ja),
            "この操作は分かりません。"
        );
    }

    #[test]
    fn autocomplete_suggests_question_ids_for_flag_and_topics_elsewhere() {
        let focused = |name: &str| options(json!([{"name": name, "type": 3, "value": "kin", "focused": true}]));
        let ask = |name: &str, option: &str| Kind::Autocomplete {
            name: name.into(),
            options: focused(option),
        };
        assert_eq!(route(&ask("flag", "question"), false), Route::SuggestQuestions);
        assert_eq!(route(&ask("quiz", "topic"), false), Route::SuggestTopics);
        assert_eq!(route(&ask("daily", "topic"), false), Route::SuggestTopics);
    }

    /// The words a file's code (comments left out) uses as whole words.
    fn code_words(path: &std::path::Path) -> std::collections::BTreeSet<String> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .flat_map(|line| line.split(|c: char| !(c.is_alphanumeric() || c == '_')))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn imports_inside_discord_go_one_way() {
        let discord = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/discord");
        let files = |dir: &str| -> Vec<std::path::PathBuf> {
            let mut found: Vec<_> = std::fs::read_dir(discord.join(dir))
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.extension().is_some_and(|e| e == "rs"))
                .collect();
            found.sort();
            found
        };
        // (files, the modules they may not name): router → commands → engines → views → interaction.
        let mut rules = vec![(
            vec![discord.join("interaction.rs")],
            vec!["commands", "router", "views"],
        )];
        rules.push((files("views"), vec!["commands", "router"]));
        rules.push((files("commands"), vec!["router"]));
        rules.push((
            vec![discord.join("quiz.rs"), discord.join("daily.rs")],
            vec!["commands", "router"],
        ));
        for (files, forbidden) in rules {
            assert!(!files.is_empty());
            for file in files {
                let words = code_words(&file);
                for module in &forbidden {
                    assert!(!words.contains(*module), "{} names `{module}`", file.display());
                }
            }
        }
    }
}
