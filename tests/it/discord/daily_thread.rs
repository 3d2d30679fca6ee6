//! The daily question's discussion thread (`/daily set thread:true`), against the local Discord's Start
//! Thread from Message route: each scheduled post opens its thread, named after the day and the question;
//! a thread Discord refuses (403) or answers slowly never holds back, nor undoes, the post.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tsumiage::discord::Bot;
use tsumiage::store::{DailyLog, DailyPostState, SqliteStore};

use super::server::{CHANNEL_ID, FakeDiscord, GUILD_ID, Recorded};
use super::{MovableClock, WAIT, callback_for, config, library, utc};

/// `/daily set` by a member with Manage Server; waits for its reply (the scheduler then re-reads).
async fn daily_set(discord: &FakeDiscord, options: Value) {
    let sent = super::daily_set(discord, options);
    discord.dispatch("INTERACTION_CREATE", sent.clone());
    callback_for(discord, &sent).await;
}

/// The `n`-th daily post as Discord keeps it (with its id), waiting for it.
async fn post(discord: &FakeDiscord, n: usize) -> Value {
    discord
        .wait_for(&format!("daily post {}", n + 1), WAIT, |_| {
            discord
                .messages(CHANNEL_ID)
                .into_iter()
                .filter(|m| m.to_string().contains("tsumiage daily"))
                .nth(n)
        })
        .await
}

/// The thread requests for `message_id` among `requests`: (status, name).
fn thread_requests(requests: &[Recorded], message_id: &str) -> Vec<(u16, String)> {
    let path = format!("/api/v10/channels/{CHANNEL_ID}/messages/{message_id}/threads");
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .map(|r| (r.status, r.body["name"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// Waits until the store records the post of `slot` as sent, with its message id.
async fn wait_sent(store: &std::path::Path, slot: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let posts = SqliteStore::open(store).unwrap().daily_posts(GUILD_ID).unwrap();
        if let Some(sent) = posts
            .iter()
            .find(|p| p.slot == slot && p.state != DailyPostState::Recorded)
            .and_then(|p| p.message_id.clone())
        {
            return sent;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{slot} never recorded as sent: {posts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_scheduled_post_opens_its_thread_and_a_failing_thread_never_holds_the_post_back() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("store.sqlite");
    let clock = Arc::new(MovableClock::default());
    clock.set(utc("2026-11-26T23:59:59.600Z")); // 08:59:59.6 in Tokyo
    let mut bot = Bot::new(
        config(&discord.base_url()),
        library(),
        SqliteStore::open(&store_path).unwrap(),
        "test-token-never-logged",
    );
    bot.clock = clock.clone();
    let bot = Arc::new(bot);
    let (stop, task) = super::spawn_gateway(&bot);
    discord.wait_ready(WAIT).await;
    daily_set(
        &discord,
        json!([{"name": "time", "type": 3, "value": "09:00"}, {"name": "timezone", "type": 3, "value": "Asia/Tokyo"},
               {"name": "thread", "type": 5, "value": true}]),
    )
    .await;

    // Day 1: the post, then its thread, started from it and named after the day and the question.
    let first = post(&discord, 0).await;
    let first_id = first["id"].as_str().unwrap().to_string();
    let thread = discord
        .wait_for("the first thread", WAIT, |_| discord.threads().into_iter().next())
        .await;
    assert_eq!(thread["id"], first_id.as_str(), "a thread from the post");
    let stem = first["embeds"][0]["description"].as_str().unwrap();
    let name = thread["name"].as_str().unwrap();
    assert!(name.starts_with("📅 2026-11-27 ") && name.contains(stem), "{name}");
    assert_eq!(
        thread_requests(&discord.requests(), &first_id),
        [(201, name.to_string())]
    );
    assert_eq!(wait_sent(&store_path, "2026-11-27").await, first_id);

    // Day 2: Discord refuses the thread (the bot may not create threads there): the post stands and is
    // recorded as sent.
    discord.fail_next("/threads", 403);
    clock.set(utc("2026-11-27T23:59:59.600Z"));
    daily_set(&discord, json!([])).await;
    let second_id = post(&discord, 1).await["id"].as_str().unwrap().to_string();
    assert_eq!(wait_sent(&store_path, "2026-11-28").await, second_id);
    discord
        .wait_for("the refused thread", WAIT, |requests| {
            (thread_requests(requests, &second_id).first().map(|r| r.0) == Some(403)).then_some(())
        })
        .await;

    // Day 3: Discord starts the thread but answers only after a minute, longer than any wait here: the
    // post is recorded as sent without waiting for that answer.
    discord.hold_next("/threads", Duration::from_secs(60));
    clock.set(utc("2026-11-28T23:59:59.600Z"));
    daily_set(&discord, json!([])).await;
    let third_id = post(&discord, 2).await["id"].as_str().unwrap().to_string();
    assert_eq!(wait_sent(&store_path, "2026-11-29").await, third_id);
    discord
        .wait_for("the third thread", WAIT, |_| {
            discord
                .threads()
                .iter()
                .any(|t| t["id"] == third_id.as_str())
                .then_some(())
        })
        .await;
    assert_eq!(discord.threads().len(), 2, "one thread per post that could have one");
    assert_eq!(thread_requests(&discord.requests(), &third_id).len(), 1);
    assert_eq!(discord.messages(CHANNEL_ID).len(), 3, "one message per day");

    let _ = stop.send(());
    let _ = tokio::time::timeout(WAIT, task).await;
}
