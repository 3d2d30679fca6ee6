//! The daily question end to end: the real bot in process against the local Discord, with its clock
//! started just before 09:00 Tokyo so the post is a fraction of a second away. Covers the post at the set
//! time, three members answering, the reveal's share and streaks, and a restart between "recorded" and
//! "sent". (A replica killed around post time, and several replicas at once: `replicas_daily.rs`.)

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tsumiage::discord::Bot;
use tsumiage::store::{DailyLog, SqliteStore};

use super::server::{CHANNEL_ID, FakeDiscord, GUILD_ID};
use super::{MovableClock, WAIT, callback_for, config, exchange, library, press, slash, utc};

struct Started {
    bot: Arc<Bot>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The bot on `discord`'s gateway with its store in `dir` and the given clock.
async fn start_bot(discord: &FakeDiscord, dir: &tempfile::TempDir, clock: Arc<MovableClock>) -> Started {
    let store = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
    let mut bot = Bot::new(config(&discord.base_url()), library(), store, "test-token-never-logged");
    bot.clock = clock;
    let bot = Arc::new(bot);
    let (stop, task) = super::spawn_gateway(&bot);
    discord.wait_ready(WAIT).await;
    Started { bot, stop, task }
}

async fn stop_bot(started: Started) {
    let _ = started.stop.send(());
    let _ = tokio::time::timeout(WAIT, started.task).await;
    drop(started.bot);
}

/// `/daily set` by a member with Manage Server.
async fn daily_set(discord: &FakeDiscord, options: Value) -> Value {
    let sent = super::daily_set(discord, options);
    discord.dispatch("INTERACTION_CREATE", sent.clone());
    callback_for(discord, &sent).await
}

fn daily_posts(discord: &FakeDiscord) -> Vec<Value> {
    let path = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    discord
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path && r.body.to_string().contains("tsumiage daily"))
        .map(|r| r.body)
        .collect()
}

async fn wait_posts(discord: &FakeDiscord, n: usize) -> Vec<Value> {
    discord
        .wait_for(&format!("{n} daily posts"), WAIT, |r| {
            let path = format!("/api/v10/channels/{CHANNEL_ID}/messages");
            let posts: Vec<Value> = r
                .iter()
                .filter(|r| r.method == "POST" && r.path == path && r.body.to_string().contains("tsumiage daily"))
                .map(|r| r.body.clone())
                .collect();
            (posts.len() >= n).then_some(posts)
        })
        .await
}

fn buttons(post: &Value) -> Vec<String> {
    post["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .map(|b| b["custom_id"].as_str().unwrap().to_string())
        .collect()
}

/// The answer button labelled `label` on a daily post.
fn button(post: &Value, label: &str) -> String {
    buttons(post)
        .into_iter()
        .find(|b| b.ends_with(&format!(":{label}")))
        .unwrap()
}

/// The `n`-th edit (0-based) of a message in the test channel: a daily post's reveal.
async fn nth_reveal(discord: &FakeDiscord, n: usize) -> String {
    let edited = format!("/api/v10/channels/{CHANNEL_ID}/messages/");
    discord
        .wait_for(&format!("reveal {n}"), WAIT, |r| {
            r.iter()
                .filter(|r| r.method == "PATCH" && r.path.starts_with(&edited))
                .nth(n)
                .map(|r| r.body.clone())
        })
        .await
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_post_appears_at_the_set_time_three_members_answer_and_the_reveal_shows_share_and_streaks() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(MovableClock::default());
    clock.set(utc("2026-11-26T18:00:00Z")); // 03:00 in Tokyo
    let started = start_bot(&discord, &dir, clock.clone()).await;

    // Without Manage Server: refused, nothing stored.
    let sent = slash(
        &discord,
        "1001",
        "daily",
        json!([{"name": "set", "type": 1, "options": []}]),
    );
    let refused = exchange(&discord, sent.clone()).await;
    assert_eq!(refused["data"]["flags"], 64, "{refused}");

    let stem = first_day_posts_on_time_and_takes_one_answer_each(&discord, &clock).await;
    first_reveal_shows_share_streaks_and_reviews(&discord, &clock, &stem).await;
    let exposition = started.bot.metrics().exposition(0);
    assert!(exposition.contains("\ntsumiage_daily_posts_total 1\n"), "{exposition}");
    second_day_asks_the_other_question_and_a_miss_resets(&discord, &clock, &stem).await;
    stop_bot(started).await;
}

/// 08:59:59.6 in Tokyo, then `/daily set` for 09:00: posted 0.4 s later; two right answers, one wrong,
/// a second answer refused. Returns the first post's stem.
async fn first_day_posts_on_time_and_takes_one_answer_each(discord: &FakeDiscord, clock: &MovableClock) -> String {
    clock.set(utc("2026-11-26T23:59:59.600Z"));
    let set_at = std::time::Instant::now();
    let shown = daily_set(
        discord,
        json!([{"name": "time", "type": 3, "value": "09:00"}, {"name": "timezone", "type": 3, "value": "Asia/Tokyo"},
               {"name": "reveal_hours", "type": 4, "value": 12}]),
    )
    .await;
    let next = utc("2026-11-27T00:00:00Z").timestamp();
    assert!(
        shown.to_string().contains(&format!("<t:{next}:F> (<t:{next}:R>)")),
        "{shown}"
    );
    let post = wait_posts(discord, 1).await.remove(0);
    let waited = set_at.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "posted before 09:00: after {waited:?}"
    );
    let footer = post["embeds"][0]["footer"]["text"].as_str().unwrap();
    assert!(footer.ends_with("/2026-11-27"), "{post}");

    let (right, wrong) = super::shown_right_and_wrong(&post, library().questions());
    let (right, wrong) = (right.to_string(), wrong.to_string());
    for (member, label) in [("3001", &right), ("3002", &right), ("3003", &wrong)] {
        let pressed = press(discord, member, &button(&post, label), &post);
        let feedback = exchange(discord, pressed.clone()).await;
        assert_eq!(feedback["data"]["flags"], 64, "{feedback}");
        let text = feedback["data"]["content"].as_str().unwrap();
        assert!(text.contains(if *label == right { "✅" } else { "❌" }), "{text}");
        assert!(
            text.contains("kinesis.md:"),
            "feedback cites the source file:line: {text}"
        );
    }
    // A second answer is refused (the first stands).
    let again = press(discord, "3003", &button(&post, &right), &post);
    let again = exchange(discord, again.clone()).await;
    assert!(again["data"]["content"].as_str().unwrap().contains(&wrong), "{again}");
    post["embeds"][0]["description"].as_str().unwrap().to_string()
}

/// 12 hours on: the reveal edits the post with the share right and streaks; `/stats` shows them; the
/// daily answer reviewed each member's card.
async fn first_reveal_shows_share_streaks_and_reviews(discord: &FakeDiscord, clock: &MovableClock, stem: &str) {
    // A schedule change wakes the sleeping scheduler.
    clock.set(utc("2026-11-27T12:00:01Z"));
    daily_set(discord, json!([])).await;
    let text = nth_reveal(discord, 0).await;
    assert!(text.contains("3 人が回答、正解 2 人 (66%)"), "{text}");
    assert!(text.contains("<@3001> 連続正解 1 · 連続回答 1"), "{text}");
    assert!(text.contains("<@3003> 連続正解 0 · 連続回答 1"), "{text}");
    assert!(text.contains("kinesis.md:"), "{text}");
    assert!(text.contains(r#""components":[]"#), "{text}");

    let stats = exchange(discord, slash(discord, "3001", "stats", json!([])))
        .await
        .to_string();
    assert!(
        stats.contains("Daily streaks") && stats.contains("right 1 · answered 1"),
        "{stats}"
    );
    assert_eq!(daily_posts(discord).len(), 1);

    // 3003's miss is due for review; a member who did not answer has nothing to review.
    let first_stem = if stem.contains("保持期間") {
        "Kinesis の既定の保持期間は?"
    } else {
        "シャードあたりの書き込みは?"
    };
    let review = exchange(discord, slash(discord, "3003", "review", json!([])))
        .await
        .to_string();
    assert!(
        review.contains("(1 item, 1 due)") && review.contains(first_stem),
        "{review}"
    );
    let review = exchange(discord, slash(discord, "3009", "review", json!([])))
        .await
        .to_string();
    assert!(review.contains("Nothing to review"), "{review}");
}

/// The next day: the other question (no repeat), 3002 does not answer (a miss resets), 3003 is right.
async fn second_day_asks_the_other_question_and_a_miss_resets(discord: &FakeDiscord, clock: &MovableClock, stem: &str) {
    clock.set(utc("2026-11-27T23:59:59.600Z"));
    daily_set(discord, json!([])).await;
    let second = wait_posts(discord, 2).await.remove(1);
    let stem2 = second["embeds"][0]["description"].as_str().unwrap();
    assert_ne!(stem2, stem, "a question repeated before the bank was exhausted");
    let right = super::shown_right_and_wrong(&second, library().questions())
        .0
        .to_string();
    for member in ["3001", "3003"] {
        let pressed = press(discord, member, &button(&second, &right), &second);
        discord.dispatch("INTERACTION_CREATE", pressed.clone());
        callback_for(discord, &pressed).await;
    }
    clock.set(utc("2026-11-28T12:00:01Z"));
    daily_set(discord, json!([])).await;
    let text = nth_reveal(discord, 1).await;
    assert!(text.contains("2 人が回答、正解 2 人 (100%)"), "{text}");
    assert!(text.contains("<@3001> 連続正解 2 · 連続回答 2"), "{text}");
    assert!(text.contains("<@3003> 連続正解 1 · 連続回答 2"), "{text}");
    assert!(!text.contains("<@3002>"), "3002 missed the day: no streak left: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_recorded_and_sent_neither_loses_nor_duplicates_the_post() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(MovableClock::default());
    clock.set(utc("2026-11-26T23:59:59.700Z"));
    let first = start_bot(&discord, &dir, clock.clone()).await;
    // Discord creates the message but its answer never arrives: the first bot is stuck there as if dead
    // (its task is abandoned, not shut down gracefully).
    discord.hold_next(&format!("/channels/{CHANNEL_ID}/messages"), Duration::from_secs(120));
    daily_set(&discord, json!([{"name": "time", "type": 3, "value": "09:00"}])).await;
    wait_posts(&discord, 1).await;
    first.task.abort();
    drop(first.bot);
    {
        let store = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
        let post = store.daily_post(GUILD_ID, "2026-11-27").unwrap().unwrap();
        assert_eq!(post.state, tsumiage::store::DailyPostState::Recorded, "{post:?}");
    }
    // Restarted at 09:01:03, once the first bot's claim on the slot (a minute: it could have been a replica
    // still sending) lapsed: the slot is resolved from the channel, not posted again.
    clock.set(utc("2026-11-27T00:01:03Z"));
    let second = start_bot(&discord, &dir, clock.clone()).await;
    discord
        .wait_for("the channel read", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "GET" && r.path.ends_with(&format!("/channels/{CHANNEL_ID}/messages")))
                .map(|_| ())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(daily_posts(&discord).len(), 1);
    stop_bot(second).await;
    let store = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
    let post = store.daily_post(GUILD_ID, "2026-11-27").unwrap().unwrap();
    assert_eq!(post.state, tsumiage::store::DailyPostState::Sent, "{post:?}");
}
