//! The gateway transport: serenity's client, pointed at the configured API base when one is set
//! (serenity's proxy, with its rate limiter off: `rest` honours 429s). Shutdown is an input: when the
//! `shutdown` future completes, running quizzes are stopped and recorded, then the shards close.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serenity::all::{Client, ClientBuilder, Context, EventHandler, GatewayIntents, HttpBuilder, Interaction, Ready};
use serenity::async_trait;

use super::{Bot, FirstReply, handle};

struct Handler {
    bot: Arc<Bot>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, "connected to the Discord gateway");
        self.bot.on_ready(ready.application.id.get()).await;
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        handle(self.bot.clone(), interaction, FirstReply::Rest).await;
    }
}

/// Runs the bot on the gateway until `shutdown` completes.
pub async fn run(bot: Arc<Bot>, token: &str, shutdown: impl Future<Output = ()>) -> Result<()> {
    let mut http = HttpBuilder::new(token);
    if let Some(base) = &bot.config.discord.api_base {
        http = http.proxy(base.trim_end_matches('/')).ratelimiter_disabled(true);
    }
    // `new_with_http` keeps the proxy; calling `.token()` afterwards would build a new Http without it.
    let mut client: Client = ClientBuilder::new_with_http(http.build(), GatewayIntents::GUILDS)
        .event_handler(Handler { bot: bot.clone() })
        .await
        .context("starting the Discord client")?;
    let shards = client.shard_manager.clone();
    tokio::select! {
        result = client.start() => result.context("the Discord gateway connection failed")?,
        _ = shutdown => {
            tracing::info!("shutting down: closing quizzes");
            bot.shutdown(Duration::from_secs(10)).await;
            shards.shutdown_all().await;
        }
    }
    Ok(())
}
