//! The jobs' ports implemented by the bot, and its engines (`DailyJob`, `QuizJob`) built over them:
//! `Outbox` over Discord's REST API (each `Message` rendered with its view, posts sent with an enforced
//! nonce, a post found again by the marker in its embed's footer), and `Questions` from the library now
//! served.

use std::sync::Arc;

use serde_json::json;

use super::Bot;
use super::views;
use super::views::daily::{post_body, reveal_body};
use crate::jobs::daily::{self as daily_job, DailyJob};
use crate::jobs::quiz::QuizJob;
use crate::jobs::{Message, Outbox, Questions};
use crate::quiz::QuizQuestion;

/// Discord user ids from store user names (`discord:<id>`); other names are left out.
fn discord_ids<T: Clone>(named: &[(String, T)]) -> Vec<(u64, T)> {
    named
        .iter()
        .filter_map(|(name, value)| {
            let id = name.strip_prefix("discord:")?.parse().ok()?;
            Some((id, value.clone()))
        })
        .collect()
}

impl Bot {
    /// The message's view: daily posts in the server's locale, quiz messages in their quiz's.
    fn render(&self, message: Message<'_>) -> serde_json::Value {
        let daily_locale = self.config.locale;
        match message {
            Message::DailyPost {
                schedule,
                slot,
                question,
            } => post_body(daily_locale, schedule, slot, question),
            Message::DailyReveal {
                guild,
                slot,
                question,
                answers,
                streaks,
            } => reveal_body(
                daily_locale,
                guild,
                slot,
                question,
                &discord_ids(answers),
                &discord_ids(streaks),
            ),
            Message::QuizQuestion {
                locale,
                session,
                index,
                total,
                question,
                seconds,
            } => views::quiz::question(locale, session, index, total, question, seconds),
            Message::QuizReveal {
                locale,
                index,
                total,
                question,
                results,
                reason,
            } => views::quiz::reveal(locale, index, total, question, results, reason),
            Message::Scoreboard {
                locale,
                scoreboard,
                reason,
            } => views::quiz::scoreboard(locale, scoreboard, reason),
        }
    }

    /// The daily question's engine on this bot.
    pub(crate) fn daily_job(self: &Arc<Self>) -> DailyJob<Bot> {
        DailyJob {
            store: self.store.clone(),
            replica: self.replica.clone(),
            host: self.clone(),
        }
    }

    /// The quiz engine on this bot.
    pub(crate) fn quiz_job(self: &Arc<Self>) -> QuizJob<Bot> {
        QuizJob {
            store: self.store.clone(),
            replica: self.replica.clone(),
            clock: self.clock.clone(),
            lease: self.quiz_lease(),
            on_shutdown: self.config.discord.quiz_on_shutdown,
            drivers: self.quizzes.clone(),
            shutdown: self.shutdown_signal(),
            host: self.clone(),
        }
    }

    /// How long a quiz lease runs unless renewed (`discord.quiz_lease_ms`, at least 40 ms).
    pub(crate) fn quiz_lease(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.config.discord.quiz_lease_ms.max(40))
    }

    /// Starts the daily scheduler once (called from the first Ready).
    pub(crate) fn start_daily(self: &Arc<Self>) {
        tokio::spawn(daily_job::run(
            self.daily_job(),
            self.clock.clone(),
            self.daily_changed.clone(),
            self.shutdown_signal(),
        ));
    }
}

impl Outbox for Bot {
    async fn post(&self, channel: &str, message: Message<'_>, nonce: &str) -> anyhow::Result<String> {
        let mut body = self.render(message);
        body["nonce"] = json!(nonce);
        body["enforce_nonce"] = json!(true);
        let sent = self.rest.post(&format!("/channels/{channel}/messages"), &body).await?;
        let id = sent["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("Discord returned no message id"))?
            .to_string();
        if matches!(message, Message::DailyPost { .. }) {
            self.metrics.daily_post_sent();
        }
        if let Message::DailyPost {
            schedule,
            slot,
            question,
        } = message
            && schedule.thread
        {
            // Best effort, in the background: the post stands, and is recorded as sent at once, however
            // slow or failing the thread route is.
            let name = views::truncate(&format!("📅 {slot} {}", question.stem), 100);
            let route = format!("/channels/{channel}/messages/{id}/threads");
            self.rest
                .post_in_background(route, json!({"name": name}), "opening the daily discussion thread");
        }
        Ok(id)
    }

    async fn edit(&self, channel: &str, id: &str, message: Message<'_>) -> anyhow::Result<()> {
        let body = self.render(message);
        self.rest
            .patch(&format!("/channels/{channel}/messages/{id}"), &body)
            .await?;
        Ok(())
    }

    async fn find(&self, channel: &str, marker: &str) -> anyhow::Result<Option<String>> {
        let messages = self.rest.get(&format!("/channels/{channel}/messages?limit=50")).await?;
        let found = messages.as_array().into_iter().flatten().find(|m| {
            m["embeds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| e["footer"]["text"].as_str() == Some(marker))
        });
        Ok(found.and_then(|m| m["id"].as_str()).map(str::to_string))
    }
}

impl Questions for Bot {
    fn with_questions<R>(&self, read: impl FnOnce(&[QuizQuestion]) -> R) -> R {
        read(self.library().questions())
    }
}
