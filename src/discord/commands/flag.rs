//! Flagging a wrong or unclear question: `/flag reason [question]` (the last question shown in the
//! channel by default, with the question ids completed as the user types), or a question's 🚩 button,
//! which opens a modal asking why. Each flag is stored with the question's `path:line`.

use serde_json::{Value, json};
use serenity::all::CommandDataOption;

use super::common::question_gone;
use super::common::{STRING, option, slash_command, text};
use crate::config::Locale;
use crate::discord::Bot;
use crate::discord::interaction::{CustomId, Incoming, Outcome, QuestionKey, Refusal, player_name, string_option};
use crate::discord::views::{ACTION_ROW, PARAGRAPH, TEXT_INPUT, autocomplete_pairs, ephemeral, pick, truncate};
use crate::quiz::QuizQuestion;
use crate::quiz::checker::fold;
use crate::store::NewFlag;

/// How a question is named: by its id, or by the key its 🚩 button and the autocomplete carry.
enum Named<'a> {
    Typed(&'a str),
    Key(&'a QuestionKey),
}

/// `/flag reason [question]`.
pub fn definition() -> Value {
    let mut question = option(
        STRING,
        text(
            "question",
            "問題",
            "Question id (default: the last one shown here)",
            "問題 ID (既定: このチャンネルで最後に出た問題)",
        ),
    );
    question["autocomplete"] = json!(true);
    let mut reason = option(
        STRING,
        text("reason", "理由", "What is wrong or unclear", "どこが誤り・不明瞭か"),
    );
    reason["required"] = json!(true);
    reason["max_length"] = json!(500);
    slash_command(
        text(
            "flag",
            "報告",
            "Flag a wrong or unclear question",
            "誤り・不明瞭な問題を報告",
        ),
        // Required options come first.
        vec![reason, question],
    )
}

/// `/flag`: the question given (an id or an autocomplete choice), else the channel's last one.
pub(crate) fn command(bot: &Bot, incoming: &Incoming, options: &[CommandDataOption]) -> Outcome {
    let reason = string_option(options, "reason").unwrap_or_default();
    match string_option(options, "question").or_else(|| last_shown(bot, incoming)) {
        Some(typed) => flag(bot, incoming, Named::Typed(&typed), &reason),
        None => Err(Refusal::told(
            incoming.locale,
            "このチャンネルではまだ問題が出ていません。`question` に問題 ID を入れてください。",
            "No question was shown in this channel yet: give its id in `question`.",
        )),
    }
}

/// The flag modal, with the reason typed: flags the question its button named.
pub(crate) fn submitted(bot: &Bot, incoming: &Incoming, key: &QuestionKey, reason: &str) -> Outcome {
    flag(bot, incoming, Named::Key(key), reason)
}

/// The question ids (with their stems) that contain what the user typed, as autocomplete choices.
pub(crate) fn questions_matching(bot: &Bot, typed: &str) -> Value {
    let folded = fold(typed);
    let library = bot.library();
    let choices: Vec<(String, String)> = library
        .questions()
        .iter()
        .filter(|q| fold(&q.id).contains(&folded) || fold(&q.stem).contains(&folded))
        .take(25)
        .map(|q| (format!("{} — {}", q.id, q.stem), QuestionKey::of(&q.id).to_string()))
        .collect();
    autocomplete_pairs(&choices)
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

fn find<'a>(questions: &'a [QuizQuestion], named: &Named) -> Option<&'a QuizQuestion> {
    questions.iter().find(|q| match named {
        Named::Typed(typed) => {
            let typed = typed.trim();
            q.id == typed || QuestionKey::of(&q.id).to_string() == typed
        }
        Named::Key(key) => key.names(&q.id),
    })
}

/// Stores a flag on the question named.
fn flag(bot: &Bot, incoming: &Incoming, named: Named, reason: &str) -> Outcome {
    let locale = incoming.locale;
    let library = bot.library();
    let question = find(library.questions(), &named).ok_or_else(|| question_gone(locale))?;
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let now = bot.clock.now();
    let user = store.user(&player_name(incoming.user_id), now)?;
    store.add_flag(&NewFlag {
        question_id: question.id.clone(),
        user,
        reason: truncate(reason.trim(), 500),
        path: question.origin.path.clone(),
        line: question.origin.line,
        session: None,
        created_at: now,
    })?;
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
    Ok(ephemeral(&text))
}

/// The modal a 🚩 button opens: why the question is wrong or unclear.
pub(crate) fn modal(locale: Locale, key: QuestionKey) -> Value {
    json!({
        "custom_id": CustomId::FlagModal(key).to_string(),
        "title": pick(locale, "問題を報告", "Flag this question"),
        "components": [{"type": ACTION_ROW, "components": [{
            "type": TEXT_INPUT, "custom_id": CustomId::ReasonField.to_string(), "style": PARAGRAPH,
            "required": true, "min_length": 1, "max_length": 500,
            "label": pick(locale, "どこが誤り・不明瞭ですか", "What is wrong or unclear?"),
        }]}]
    })
}
