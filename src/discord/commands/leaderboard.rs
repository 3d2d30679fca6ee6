//! `/leaderboard`: the all-time points of the bot's players (Discord members), best first.

use serde_json::Value;

use super::common::{slash_command, text};
use crate::config::Locale;
use crate::discord::Bot;
use crate::discord::interaction::Outcome;
use crate::discord::views::{Embed, mention, message, pick};
use crate::store::LeaderLine;

/// `/leaderboard`.
pub fn definition() -> Value {
    slash_command(
        text("leaderboard", "ランキング", "All-time leaderboard", "総合ランキング"),
        vec![],
    )
}

pub(crate) fn leaderboard(bot: &Bot, locale: Locale) -> Outcome {
    let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let lines = store.leaderboard("discord:", 10)?;
    Ok(view(locale, &lines))
}

fn view(locale: Locale, lines: &[LeaderLine]) -> Value {
    let body = if lines.is_empty() {
        pick(locale, "まだ記録がありません", "No scores yet").to_string()
    } else {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let who = l
                    .user_name
                    .strip_prefix("discord:")
                    .map(mention)
                    .unwrap_or_else(|| l.user_name.clone());
                match locale {
                    Locale::Ja => format!("{}. {who} — {} pt ({} 回)", i + 1, l.points, l.sessions),
                    Locale::En => format!("{}. {who} — {} pt ({} quizzes)", i + 1, l.points, l.sessions),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    message(
        "",
        vec![
            Embed::new(pick(locale, "🏆 ランキング", "🏆 Leaderboard"))
                .description(&body)
                .build(),
        ],
    )
}
