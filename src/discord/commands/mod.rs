//! The slash commands: one module per command the user types, each with the views of its replies (the
//! posts the quiz and daily engines send are `views::quiz` and `views::daily`). Here: the commands as
//! Discord registers them (names and descriptions in English with Japanese localizations), and their
//! idempotent registration: a bulk overwrite (PUT) to the development guild when `discord.dev_guild_id`
//! is set, globally otherwise. Commands import `interaction`, `views` and the engines, never `router`.

pub mod admin;
pub mod answer;
pub mod ask;
pub mod daily;
pub mod flag;
pub mod help;
pub mod leaderboard;
pub mod quiz;
pub mod review;
pub mod stats;

use serde_json::{Value, json};

use super::Bot;
use super::interaction::Refusal;
use super::rest::RestError;
use crate::config::Locale;

/// Discord's application command option types, and the slash command's own type, by name.
const SUB_COMMAND: u8 = 1;
const STRING: u8 = 3;
const INTEGER: u8 = 4;
const BOOLEAN: u8 = 5;
const USER: u8 = 6;
const CHANNEL: u8 = 7;
const ROLE: u8 = 8;
const CHAT_INPUT: u8 = 1;

/// Discord's Manage Server permission bit (`MANAGE_GUILD`, 1 << 5).
pub const MANAGE_GUILD: u64 = 1 << 5;

/// Commands only members with Manage Server may use: registered with `default_member_permissions` (so
/// Discord hides them from others) and re-checked on every receipt (a server can override the default).
pub const ADMIN_COMMANDS: &[&str] = &["reload", "daily"];

fn text(name: &str, ja_name: &str, en: &str, ja: &str) -> Value {
    json!({
        "name": name, "name_localizations": {"ja": ja_name},
        "description": en, "description_localizations": {"ja": ja},
    })
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

/// Every command, as the bulk-overwrite body.
pub fn definitions() -> Value {
    let query = with(
        with(
            text("query", "質問文", "What to look up", "調べたいこと"),
            "type",
            json!(STRING),
        ),
        "required",
        json!(true),
    );
    let mut query = query;
    query["max_length"] = json!(500);
    let mut topic = with(
        text(
            "topic",
            "トピック",
            "Only questions about this service or tag",
            "サービスやタグで絞り込み",
        ),
        "type",
        json!(STRING),
    );
    topic["autocomplete"] = json!(true);
    let mut count = with(
        text("count", "問題数", "How many questions", "問題数"),
        "type",
        json!(INTEGER),
    );
    count["min_value"] = json!(1);
    count["max_value"] = json!(25);
    let mut seconds = with(
        text("seconds", "秒数", "Seconds to answer each question", "1 問あたりの秒数"),
        "type",
        json!(INTEGER),
    );
    seconds["min_value"] = json!(5);
    seconds["max_value"] = json!(120);
    let start = with(
        with(
            text(
                "start",
                "開始",
                "Start a quiz in this channel",
                "このチャンネルでクイズを始める",
            ),
            "type",
            json!(SUB_COMMAND),
        ),
        "options",
        json!([topic, count, seconds]),
    );
    let stop = with(
        text(
            "stop",
            "終了",
            "Stop this channel's quiz (starter or Manage Server)",
            "クイズを止める (開始者か管理者)",
        ),
        "type",
        json!(SUB_COMMAND),
    );
    let user = with(
        text(
            "user",
            "ユーザー",
            "Whose stats (default: you)",
            "誰の成績か (既定: 自分)",
        ),
        "type",
        json!(USER),
    );
    let mut question = with(
        text(
            "question",
            "問題",
            "Question id (default: the last one shown here)",
            "問題 ID (既定: このチャンネルで最後に出た問題)",
        ),
        "type",
        json!(STRING),
    );
    question["autocomplete"] = json!(true);
    let mut reason = with(
        with(
            text("reason", "理由", "What is wrong or unclear", "どこが誤り・不明瞭か"),
            "type",
            json!(STRING),
        ),
        "required",
        json!(true),
    );
    reason["max_length"] = json!(500);
    let command = |base: Value, options: Value| {
        let mut command = with(base, "type", json!(CHAT_INPUT));
        if options.as_array().is_some_and(|o| !o.is_empty()) {
            command["options"] = options;
        }
        command["contexts"] = json!([0]);
        if ADMIN_COMMANDS.contains(&command["name"].as_str().unwrap_or("")) {
            // An integer, as Discord's OpenAPI description has it for requests (responses carry a string).
            command["default_member_permissions"] = json!(MANAGE_GUILD);
        }
        command
    };
    json!([
        command(text("ask", "質問", "Search the notes", "ノートを検索"), json!([query])),
        command(
            text(
                "answer",
                "回答",
                "Rank a multiple-choice question's choices by the notes",
                "選択問題を根拠付きで順位付け"
            ),
            json!([])
        ),
        command(
            text(
                "quiz",
                "クイズ",
                "Group quiz with buttons",
                "ボタンで答えるグループクイズ"
            ),
            json!([start, stop])
        ),
        command(
            text("leaderboard", "ランキング", "All-time leaderboard", "総合ランキング"),
            json!([])
        ),
        command(
            text(
                "review",
                "復習",
                "Your due cards and misses (only you see it)",
                "自分の復習 (自分だけに表示)"
            ),
            json!([])
        ),
        command(
            text(
                "stats",
                "成績",
                "Answers, points and review cards",
                "回答数・ポイント・復習カード"
            ),
            json!([user])
        ),
        command(
            text(
                "flag",
                "報告",
                "Flag a wrong or unclear question",
                "誤り・不明瞭な問題を報告"
            ),
            // Required options come first.
            json!([reason, question])
        ),
        command(
            text(
                "reload",
                "再読み込み",
                "Reindex the notes now (Manage Server)",
                "ノートを今すぐ再索引 (サーバー管理)"
            ),
            json!([])
        ),
        command(text("help", "ヘルプ", "How to use tsumiage", "使い方"), json!([])),
        daily::definition(),
    ])
}

/// The refusal for a question id the notes no longer hold (edited away, or mistyped).
pub(crate) fn question_gone(locale: Locale) -> Refusal {
    Refusal::told(
        locale,
        "その問題はノートにありません (削除されたか、ID の誤り)。",
        "That question is not in the notes (removed, or a mistyped id).",
    )
}

/// Overwrites the registered commands with `definitions()`: running it twice changes nothing.
pub async fn register(bot: &Bot) -> Result<usize, RestError> {
    let app = bot.application_id();
    let route = match bot.config.discord.dev_guild_id {
        Some(guild) => format!("/applications/{app}/guilds/{guild}/commands"),
        None => format!("/applications/{app}/commands"),
    };
    let registered = bot.rest.put(&route, &definitions()).await?;
    Ok(registered.as_array().map_or(0, Vec::len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_fit_discords_rules() {
        let commands = definitions();
        let name_ok = |n: &str| (1..=32).contains(&n.chars().count()) && n == n.to_lowercase() && !n.contains(' ');
        fn walk(value: &Value, check: &dyn Fn(&Value)) {
            check(value);
            for option in value["options"].as_array().into_iter().flatten() {
                walk(option, check);
            }
        }
        for command in commands.as_array().unwrap() {
            walk(command, &|v: &Value| {
                assert!(name_ok(v["name"].as_str().unwrap()), "{v}");
                assert!(name_ok(v["name_localizations"]["ja"].as_str().unwrap()), "{v}");
                for d in [&v["description"], &v["description_localizations"]["ja"]] {
                    assert!((1..=100).contains(&d.as_str().unwrap().chars().count()), "{v}");
                }
                assert!(v["options"].as_array().map_or(0, Vec::len) <= 25);
            });
        }
    }

    #[test]
    fn admin_commands_need_manage_server_and_others_do_not() {
        for command in definitions().as_array().unwrap() {
            let name = command["name"].as_str().unwrap();
            let needed = command.get("default_member_permissions");
            if ADMIN_COMMANDS.contains(&name) {
                assert_eq!(needed, Some(&json!(32)), "{name}");
            } else {
                assert_eq!(needed, None, "{name}");
            }
        }
        assert!(
            ADMIN_COMMANDS
                .iter()
                .all(|a| definitions().to_string().contains(&format!("\"{a}\"")))
        );
    }
}
