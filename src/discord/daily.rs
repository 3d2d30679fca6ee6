//! The daily question's Discord side, as the scheduler (`jobs::daily`) drives it: `Bot` is its
//! `DailyHost`: it chooses from the library, sends the post over REST (with a nonce Discord enforces),
//! finds a post by its marker after a crash, and reveals it (an edit of the post: answer, explanation,
//! source, how many answered, the share right, streaks). The posts' bodies are `views::daily`; the
//! `/daily` command and the answer buttons are `commands::daily`.

use std::sync::Arc;

use serde_json::json;

use super::Bot;
use super::views::daily::{marker, post_body, reveal_body};
use super::views::truncate;
use crate::daily::schedule::DailySchedule;
use crate::daily::{self, GroupRecord, Streak, choose, streaks};
use crate::jobs::daily::{self as daily_job, DailyHost, timestamp};
use crate::store::{DailyPost, Store, UserId};

/// How far back "recent" answers go when choosing what the group gets wrong.
const RECENT_DAYS: i64 = 60;

fn store_error(error: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

/// Discord user ids and streaks of everyone who ever answered in this guild, most correct first.
fn guild_streaks(store: &dyn Store, guild: &str, open: Option<&str>) -> anyhow::Result<Vec<(u64, Streak)>> {
    let posted: Vec<String> = store
        .daily_posts(guild)
        .map_err(store_error)?
        .into_iter()
        // Trial posts (`/daily now`) are not scheduled slots: they neither count nor break a streak.
        .filter(|p| p.message_id.is_some() && !p.slot.starts_with("try-"))
        .map(|p| p.slot)
        .collect();
    let answers: Vec<(String, UserId, bool)> = store
        .guild_daily_answers(guild)
        .map_err(store_error)?
        .into_iter()
        .map(|a| (a.slot, a.user, a.correct))
        .collect();
    let mut out = Vec::new();
    for (user, streak) in streaks(&posted, &answers, open) {
        let name = store.user_name(user).map_err(store_error)?.unwrap_or_default();
        if let Some(id) = name.strip_prefix("discord:").and_then(|id| id.parse().ok()) {
            out.push((id, streak));
        }
    }
    out.sort_by(|a, b| b.1.correct.cmp(&a.1.correct).then(b.1.answered.cmp(&a.1.answered)));
    Ok(out)
}

/// A member's streaks in a guild (for `/stats`).
pub fn member_streak(bot: &Bot, guild: u64, user: u64) -> Option<Streak> {
    let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let all = guild_streaks(&**store, &guild.to_string(), None).ok()?;
    all.into_iter().find(|(id, _)| *id == user).map(|(_, s)| s)
}

impl DailyHost for Bot {
    fn replica(&self) -> &str {
        &self.replica
    }

    fn with_store<R>(&self, work: impl FnOnce(&mut dyn Store) -> R) -> R {
        work(&mut **self.store.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn choose(&self, schedule: &DailySchedule, slot_id: &str) -> Option<String> {
        let now = self.clock.now();
        let record = self.with_store(|store| -> crate::store::Result<GroupRecord> {
            let posts = store.daily_posts(&schedule.guild)?;
            let mut record = GroupRecord {
                last: posts.last().map(|p| p.question_id.clone()),
                ..GroupRecord::default()
            };
            for post in posts {
                *record.posted.entry(post.question_id).or_default() += 1;
            }
            let since = timestamp(now - chrono::Duration::days(RECENT_DAYS));
            for (question, right, total) in store.group_recent(&schedule.guild, since)? {
                record.recent.insert(question, (right, total));
            }
            record.due = store.group_due(&schedule.guild, timestamp(now))?.into_iter().collect();
            Ok(record)
        });
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                tracing::error!("reading the group's record failed: {error}");
                GroupRecord::default()
            }
        };
        let library = self.library();
        choose(
            library.questions(),
            schedule.topic.as_deref(),
            &record,
            &format!("{}/{slot_id}", schedule.guild),
        )
        .map(|q| q.id.clone())
    }

    async fn send(&self, schedule: &DailySchedule, slot_id: &str, question_id: &str) -> anyhow::Result<String> {
        let library = self.library();
        let question = library
            .questions()
            .iter()
            .find(|q| q.id == question_id)
            .ok_or_else(|| anyhow::anyhow!("question {question_id} is no longer in the notes"))?;
        let question = &daily::shown(question, &schedule.guild, slot_id);
        let body = post_body(self.config.locale, schedule, slot_id, question);
        let sent = self
            .rest
            .post(&format!("/channels/{}/messages", schedule.channel), &body)
            .await?;
        let id = sent["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("Discord returned no message id"))?
            .to_string();
        if schedule.thread {
            // Best effort, in the background: the post stands, and is recorded as sent at once, however
            // slow or failing the thread route is.
            let name = truncate(&format!("📅 {slot_id} {}", question.stem), 100);
            let route = format!("/channels/{}/messages/{id}/threads", schedule.channel);
            self.rest
                .post_in_background(route, json!({"name": name}), "opening the daily discussion thread");
        }
        Ok(id)
    }

    async fn find(&self, schedule: &DailySchedule, channel: &str, slot_id: &str) -> anyhow::Result<Option<String>> {
        let wanted = marker(&schedule.guild, slot_id);
        let messages = self.rest.get(&format!("/channels/{channel}/messages?limit=50")).await?;
        let found = messages.as_array().into_iter().flatten().find(|m| {
            m["embeds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["footer"]["text"].as_str() == Some(wanted.as_str()))
        });
        Ok(found.and_then(|m| m["id"].as_str()).map(str::to_string))
    }

    async fn reveal(&self, schedule: &DailySchedule, post: &DailyPost) -> anyhow::Result<()> {
        let Some(message) = &post.message_id else { return Ok(()) };
        let library = self.library();
        let Some(question) = library.questions().iter().find(|q| q.id == post.question_id) else {
            tracing::warn!(question = %post.question_id, "revealing a question no longer in the notes: skipped");
            return Ok(());
        };
        let question = &daily::shown(question, &schedule.guild, &post.slot);
        let (answers, streaks) = self.with_store(|store| -> anyhow::Result<_> {
            let mut answers = Vec::new();
            for answer in store.daily_answers(&schedule.guild, &post.slot).map_err(store_error)? {
                let name = store.user_name(answer.user).map_err(store_error)?.unwrap_or_default();
                if let Some(id) = name.strip_prefix("discord:").and_then(|id| id.parse::<u64>().ok()) {
                    answers.push((id, answer.correct));
                }
            }
            let streaks = guild_streaks(store, &schedule.guild, None)?;
            Ok((answers, streaks))
        })?;
        let body = reveal_body(
            self.config.locale,
            &schedule.guild,
            &post.slot,
            question,
            &answers,
            &streaks,
        );
        let channel = post.channel.as_deref().unwrap_or(&schedule.channel);
        self.rest
            .patch(&format!("/channels/{channel}/messages/{message}"), &body)
            .await?;
        Ok(())
    }
}

/// Starts the scheduler once (called from the first Ready).
pub fn start(bot: &Arc<Bot>) {
    tokio::spawn(daily_job::run(
        bot.clone(),
        bot.clock.clone(),
        bot.daily_changed.clone(),
        bot.shutdown_signal(),
    ));
}
