//! `/stats`: a member's answers, points and review cards, with their daily streaks in this server.

use serde_json::{Value, json};
use serenity::all::CommandDataOption;

use super::common::{USER, option, slash_command, text};
use crate::config::Locale;
use crate::discord::Bot;
use crate::discord::daily::member_streak;
use crate::discord::interaction::{Incoming, Outcome, player_name, user_option};
use crate::discord::views::{Embed, mention, message, pick};
use crate::store::UserStats;

/// `/stats [user]`.
pub fn definition() -> Value {
    let user = text(
        "user",
        "ユーザー",
        "Whose stats (default: you)",
        "誰の成績か (既定: 自分)",
    );
    slash_command(
        text(
            "stats",
            "成績",
            "Answers, points and review cards",
            "回答数・ポイント・復習カード",
        ),
        vec![option(USER, user)],
    )
}

/// `/stats [user]`: the user named, or the one asking.
pub(crate) fn stats(bot: &Bot, incoming: &Incoming, options: &[CommandDataOption]) -> Outcome {
    let locale = incoming.locale;
    let target = user_option(options, "user").unwrap_or(incoming.user_id);
    let stats = {
        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        let now = bot.clock.now();
        let user = store.user(&player_name(target), now)?;
        store.stats(user, now)?
    };
    let body = view(locale, &target.to_string(), &stats);
    Ok(with_streak(bot, locale, incoming.guild_id, target, body))
}

fn view(locale: Locale, player: &str, stats: &UserStats) -> Value {
    let rate = if stats.attempts == 0 {
        0.0
    } else {
        stats.correct as f64 * 100.0 / stats.attempts as f64
    };
    let embed = Embed::new(pick(locale, "📊 成績", "📊 Stats"))
        .description(&mention(player))
        .field(
            pick(locale, "回答", "Answers"),
            &format!("{} ({rate:.0}%)", stats.attempts),
            true,
        )
        .field(pick(locale, "正解", "Right"), &stats.correct.to_string(), true)
        .field(pick(locale, "クイズ", "Quizzes"), &stats.sessions.to_string(), true)
        .field(pick(locale, "ポイント", "Points"), &stats.points.to_string(), true)
        .field(
            pick(locale, "復習カード (期限)", "Review cards (due)"),
            &format!("{} ({})", stats.cards, stats.due_cards),
            true,
        );
    message("", vec![embed.build()])
}

/// `/stats` with the member's daily streaks added as a field.
fn with_streak(bot: &Bot, locale: Locale, guild: Option<u64>, user: u64, mut body: Value) -> Value {
    let Some(streak) = guild.and_then(|g| member_streak(bot, g, user)) else {
        return body;
    };
    let text = match locale {
        Locale::Ja => format!("連続正解 {} · 連続回答 {}", streak.correct, streak.answered),
        Locale::En => format!("right {} · answered {}", streak.correct, streak.answered),
    };
    if let Some(fields) = body["embeds"][0]["fields"].as_array_mut() {
        fields.push(
            json!({"name": pick(locale, "今日の問題の連続記録", "Daily streaks"), "value": text, "inline": false}),
        );
    }
    body
}
