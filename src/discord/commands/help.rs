//! `/help`: what each command does, only to the one asking.

use serde_json::Value;

use super::common::{slash_command, text};
use crate::config::Locale;
use crate::discord::views::{BLUE, Embed, make_ephemeral, message, pick};

/// `/help`.
pub fn definition() -> Value {
    slash_command(text("help", "ヘルプ", "How to use tsumiage", "使い方"), vec![])
}

pub(crate) fn help(locale: Locale) -> Value {
    let lines: &[(&str, &str, &str)] = &[
        (
            "/ask",
            "ノートを検索 (出典 file:line 付き)",
            "Search the notes (with file:line)",
        ),
        (
            "/answer",
            "選択問題を貼り付けて根拠付きで順位付け",
            "Paste a multiple-choice question: ranked choices with evidence",
        ),
        (
            "/quiz start",
            "チャンネルでクイズ (ボタンで回答)",
            "A quiz in this channel (answer with buttons)",
        ),
        (
            "/quiz stop",
            "クイズを止める (開始した人かサーバー管理権限)",
            "Stop the quiz (its starter or Manage Server)",
        ),
        ("/leaderboard", "ランキング", "All-time leaderboard"),
        (
            "/review",
            "自分の復習 (自分だけに表示)",
            "Your review of due cards and misses (only you see it)",
        ),
        ("/stats", "成績", "Stats"),
        (
            "/flag",
            "誤りのある問題を報告 (最後に出た問題か ID 指定、🚩 ボタンでも)",
            "Flag a wrong question (the last one shown, or by id; also its 🚩 button)",
        ),
        (
            "/reload",
            "ノートを今すぐ再索引 (サーバー管理権限)",
            "Reindex the notes now (Manage Server)",
        ),
    ];
    let mut embed = Embed::new(pick(locale, "📚 tsumiage の使い方", "📚 Using tsumiage")).color(BLUE);
    for (name, ja, en) in lines {
        embed = embed.field(name, pick(locale, ja, en), false);
    }
    make_ephemeral(message("", vec![embed.build()]))
}
