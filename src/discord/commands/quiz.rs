//! `/quiz start|stop`, the quiz's answer buttons, and the topics `topic` options complete to. The quiz
//! itself (saved state, leases, effects, its driver) is the engine in `discord::quiz`; the posts it sends
//! are `views::quiz`.

use std::sync::Arc;

use serde_json::{Value, json};
use serenity::all::CommandDataOption;

use super::common::{INTEGER, SUB_COMMAND, option, slash_command, text, topic_definition, with};
use crate::config::Locale;
use crate::discord::interaction::{Incoming, Outcome, Refusal, int_option, topic_option};
use crate::discord::quiz::{NewQuiz, Opened, Target, apply, open};
use crate::discord::views::{ephemeral, message, pick};
use crate::discord::{Bot, Library};
use crate::quiz::session::{Event, Input, Refusal as Refused};
use crate::quiz::{Answer, QuizQuestion, select};
use crate::store::SessionId;

/// `/quiz start [topic] [count] [seconds]` and `/quiz stop`.
pub fn definition() -> Value {
    let mut count = option(INTEGER, text("count", "問題数", "How many questions", "問題数"));
    count["min_value"] = json!(1);
    count["max_value"] = json!(25);
    let mut seconds = option(
        INTEGER,
        text("seconds", "秒数", "Seconds to answer each question", "1 問あたりの秒数"),
    );
    seconds["min_value"] = json!(5);
    seconds["max_value"] = json!(120);
    let start = text(
        "start",
        "開始",
        "Start a quiz in this channel",
        "このチャンネルでクイズを始める",
    );
    let start = with(
        option(SUB_COMMAND, start),
        "options",
        json!([topic_definition(), count, seconds]),
    );
    let stop = text(
        "stop",
        "終了",
        "Stop this channel's quiz (starter or Manage Server)",
        "クイズを止める (開始者か管理者)",
    );
    slash_command(
        text(
            "quiz",
            "クイズ",
            "Group quiz with buttons",
            "ボタンで答えるグループクイズ",
        ),
        vec![start, option(SUB_COMMAND, stop)],
    )
}

/// `/quiz start`: draws the questions and records the quiz, leased to this replica; the router starts its
/// driver (`discord::quiz::begin`) once this reply is out.
pub(crate) async fn start(bot: &Arc<Bot>, incoming: &Incoming, options: &[CommandDataOption]) -> Outcome {
    let locale = incoming.locale;
    let settings = &bot.config.discord;
    let count = int_option(options, "count").map_or(settings.quiz_count, |c| c.clamp(1, 25) as usize);
    let seconds = int_option(options, "seconds").map_or(settings.quiz_seconds, |s| s.clamp(1, 120) as u64);
    let topic = topic_option(options).unwrap_or_default();
    let now = bot.clock.now();
    let questions = draw(&bot.library(), &topic, count, now.millis() as u64);
    if questions.is_empty() {
        return Err(Refusal::Told(match locale {
            Locale::Ja => format!("「{topic}」の問題が見つかりません。"),
            Locale::En => format!("No questions about `{topic}`."),
        }));
    }
    let total = questions.len();
    let new = NewQuiz {
        channel: incoming.channel_id,
        channel_key: incoming.channel_key(),
        starter: incoming.user_id,
        locale,
        seconds,
        questions,
        now,
    };
    match open(bot, new).map_err(Refusal::internal)? {
        Opened::Started => Ok(intro(locale, total, seconds, &topic)),
        Opened::ChannelBusy => Err(Refusal::told(
            locale,
            "このチャンネルではクイズが進行中です (/quiz stop で終了)。",
            "A quiz is already running in this channel (/quiz stop ends it).",
        )),
    }
}

/// Up to `count` questions about `topic`, by the quiz's one pick rule (`quiz::select`), each shown with
/// its choices in an order of its own (the quiz is saved with them, so every replica shows the same). One
/// button press is one pick: a question asking for two choices is left to the terminal quiz.
fn draw(library: &Library, topic: &str, count: usize, seed: u64) -> Vec<QuizQuestion> {
    let request = select::Request {
        topic: &select::Topic::new(topic),
        count,
        seed,
        one_pick_only: true,
        bank_only: false,
    };
    select::pick(library, &request)
}

/// `/quiz stop`: the starter or a member with Manage Server (as Discord reports it for this interaction),
/// on any replica; the quiz's driver posts the last reveal and the scoreboard.
pub(crate) async fn stop(bot: &Arc<Bot>, incoming: &Incoming) -> Outcome {
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
    .map_err(Refusal::internal)?;
    match applied.map(|a| a.value) {
        None | Some(Stop::Over) => Err(Refusal::told(
            locale,
            "このチャンネルで進行中のクイズはありません。",
            "No quiz is running in this channel.",
        )),
        Some(Stop::NotAllowed) => Err(Refusal::told(
            locale,
            "クイズを止められるのは開始した人か「サーバー管理」権限のある人だけです。",
            "Only the quiz's starter or a member with Manage Server can stop it.",
        )),
        Some(Stop::Stopped) => Ok(ephemeral(pick(locale, "⏹ クイズを止めました。", "⏹ Quiz stopped."))),
    }
}

/// A button press on a quiz question, on any replica: applied and saved, acknowledged to the player only.
pub(crate) async fn pick_answer(
    bot: &Arc<Bot>,
    incoming: &Incoming,
    session: SessionId,
    index: usize,
    label: char,
) -> Outcome {
    let locale = incoming.locale;
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
    .map_err(Refusal::internal)?;
    match applied.and_then(|a| a.value) {
        Some(text) => Ok(ephemeral(&text)),
        None => Err(Refusal::told(
            locale,
            "このクイズは終了しています。",
            "This quiz is over.",
        )),
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
                    Refused::Late => pick(
                        locale,
                        "⌛ この問題は締め切られました。",
                        "⌛ Time is up for this question.",
                    ),
                    Refused::AlreadyChanged => pick(
                        locale,
                        "選択の変更は 1 回までです。",
                        "You already changed your pick once.",
                    ),
                    Refused::Invalid => pick(locale, "その選択肢はありません。", "Not a choice of this question."),
                    Refused::Finished => pick(locale, "このクイズは終了しています。", "This quiz is over."),
                    Refused::WrongPickCount { .. } => pick(
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

fn intro(locale: Locale, count: usize, seconds: u64, topic: &str) -> Value {
    let text = match locale {
        Locale::Ja => format!(
            "🎯 クイズ開始: {count} 問、各 {seconds} 秒{}",
            topic_suffix(locale, topic)
        ),
        Locale::En => format!(
            "🎯 Quiz: {count} questions, {seconds} s each{}",
            topic_suffix(locale, topic)
        ),
    };
    message(&text, Vec::new())
}

fn topic_suffix(locale: Locale, topic: &str) -> String {
    if topic.is_empty() {
        String::new()
    } else {
        match locale {
            Locale::Ja => format!(" (トピック: {topic})"),
            Locale::En => format!(" (topic: {topic})"),
        }
    }
}

/// The topics a quiz can be about that contain what the user typed (case and width folded), at most 25.
pub(crate) fn topics_matching(bot: &Bot, typed: &str) -> Vec<String> {
    let folded = crate::quiz::checker::fold(typed);
    bot.library()
        .topics()
        .into_iter()
        .filter(|t| crate::quiz::checker::fold(t).contains(&folded))
        .take(25)
        .collect()
}
