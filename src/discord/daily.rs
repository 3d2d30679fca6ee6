//! The daily question in Discord, apart from its command (`commands::daily`) and its posts
//! (`views::daily`): each member's streaks for `/stats`. The engine that posts and reveals is `jobs::daily`;
//! it reaches Discord through `Bot`'s `Outbox` (`outbox.rs`).

use super::Bot;
use super::interaction::player_name;
use crate::daily::Streak;
use crate::jobs::daily as daily_job;

/// A member's streaks in a guild (for `/stats`).
pub fn member_streak(bot: &Bot, guild: u64, user: u64) -> Option<Streak> {
    let all = bot
        .with_store(|store| daily_job::guild_streaks(store, &guild.to_string(), None))
        .ok()?;
    let name = player_name(user);
    all.into_iter().find(|(n, _)| *n == name).map(|(_, s)| s)
}
