//! The daily question on several replicas sharing one store (see `replicas.rs` for how a replica runs and
//! is killed): every replica runs its scheduler on one movable clock, and each slot is posted and revealed
//! once, whichever replica dies where.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tsumiage::config::QuizOnShutdown;
use tsumiage::store::DailyPostState;

use super::replica_store::{SharedStore, replica_tests};
use super::replicas::{Replica, library, posted};
use super::server::{CHANNEL_ID, FakeDiscord, GUILD_ID};
use super::{MovableClock, WAIT, daily_set, press, utc};

/// The daily posts (messages carrying a slot's marker) in the channel, as Discord keeps them.
fn daily_messages(discord: &FakeDiscord) -> Vec<Value> {
    discord
        .messages(CHANNEL_ID)
        .into_iter()
        .filter(|m| {
            m["embeds"][0]["footer"]["text"]
                .as_str()
                .is_some_and(|f| f.starts_with("tsumiage daily"))
        })
        .collect()
}

/// Message-create requests for a daily post that Discord accepted (a 429 creates nothing).
fn daily_sends(discord: &FakeDiscord) -> usize {
    let posted = posted();
    discord.count_requests(|r| {
        r.method == "POST" && r.path == posted && r.status < 300 && r.body.to_string().contains("tsumiage daily")
    })
}

/// Edits of a daily post (its reveal).
fn daily_reveals(discord: &FakeDiscord, message: &str) -> usize {
    let path = format!("{}/{message}", posted());
    discord.count_requests(|r| r.method == "PATCH" && r.path == path)
}

/// `/daily set` through `replica` (its scheduler wakes and reads the schedule).
async fn set_daily(discord: &FakeDiscord, client: &reqwest::Client, replica: &Replica, options: Value) {
    let shown = replica.deliver(client, &daily_set(discord, options)).await;
    assert!(shown.to_string().contains("Asia/Tokyo"), "{shown}");
}

/// Sets the daily question for 09:00 Tokyo through `replica`, the shared clock 0.4 s before it.
async fn set_nine_in_tokyo_just_before_nine(
    discord: &FakeDiscord,
    client: &reqwest::Client,
    replica: &Replica,
    clock: &MovableClock,
) {
    clock.set(utc("2026-11-26T23:59:59.600Z"));
    let options =
        json!([{"name": "time", "type": 3, "value": "09:00"}, {"name": "timezone", "type": 3, "value": "Asia/Tokyo"}]);
    set_daily(discord, client, replica, options).await;
}

/// The daily post's button for `label` (`d:<slot>:<label>`).
fn daily_button(post: &Value, label: char) -> String {
    post["components"][0]["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["custom_id"].as_str())
        .find(|id| id.ends_with(&format!(":{label}")))
        .unwrap()
        .to_string()
}

async fn two_replicas_post_the_daily_question_once_take_answers_on_either_and_reveal_it_once(store: &SharedStore) {
    let discord = FakeDiscord::start().await;
    let clock = Arc::new(MovableClock::default());
    clock.set(utc("2026-11-26T18:00:00Z")); // 03:00 in Tokyo
    let a = Replica::start_with_clock(&discord, store, clock.clone());
    let b = Replica::start_with_clock(&discord, store, clock.clone());
    discord.wait_commands_registered(2, WAIT).await;
    let client = reqwest::Client::new();

    // 08:59:59.5 in Tokyo: 09:00 set through A, then the same schedule confirmed through B, so both
    // schedulers are awake and due at the same instant, half a second away.
    clock.set(utc("2026-11-26T23:59:59.500Z"));
    let options = json!([{"name": "time", "type": 3, "value": "09:00"}, {"name": "timezone", "type": 3, "value": "Asia/Tokyo"},
                         {"name": "reveal_hours", "type": 4, "value": 12}]);
    set_daily(&discord, &client, &a, options).await;
    set_daily(&discord, &client, &b, json!([])).await;
    let post = discord
        .wait_for("the daily post", WAIT, |_| daily_messages(&discord).into_iter().next())
        .await;
    // A second send would arrive now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(daily_messages(&discord).len(), 1, "one daily post in the channel");
    assert_eq!(daily_sends(&discord), 1, "one message-create request for the slot");

    // Members answer through either replica; a second answer is refused on the other one.
    let (right, wrong) = super::shown_right_and_wrong(&post, library().questions());
    for (replica, member, label) in [(&a, "3001", right), (&b, "3002", right), (&a, "3003", wrong)] {
        let feedback = replica
            .deliver(&client, &press(&discord, member, &daily_button(&post, label), &post))
            .await;
        let text = feedback["data"]["content"].as_str().unwrap_or_default();
        assert!(text.contains(if label == right { "✅" } else { "❌" }), "{feedback}");
    }
    let again = b
        .deliver(&client, &press(&discord, "3003", &daily_button(&post, right), &post))
        .await;
    assert!(again.to_string().contains("One answer each"), "{again}");

    // Just before the reveal (21:00 Tokyo): a schedule change through each replica wakes both.
    clock.set(utc("2026-11-27T11:59:59.500Z"));
    tokio::join!(
        set_daily(&discord, &client, &a, json!([])),
        set_daily(&discord, &client, &b, json!([]))
    );
    let message = post["id"].as_str().unwrap().to_string();
    let reveal = discord
        .wait_for("the reveal", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "PATCH" && r.path.ends_with(&format!("/messages/{message}")))
                .map(|r| r.body.clone())
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(daily_reveals(&discord, &message), 1, "one reveal");
    assert!(reveal.to_string().contains("3 人が回答、正解 2 人 (66%)"), "{reveal}");
    assert_eq!(daily_sends(&discord), 1);
    let stored = store.open().daily_post(GUILD_ID, "2026-11-27").unwrap().unwrap();
    assert_eq!(stored.state, DailyPostState::Sent);
    assert_eq!(stored.message_id.as_deref(), Some(message.as_str()));
    assert!(stored.revealed_at.is_some(), "{stored:?}");
}

async fn a_replica_killed_between_recording_the_daily_post_and_sending_it_leaves_the_other_to_send_it_once(
    store: &SharedStore,
) {
    let discord = FakeDiscord::start().await;
    let clock = Arc::new(MovableClock::default());
    clock.set(utc("2026-11-26T18:00:00Z"));
    let mut a = Replica::start_with_clock(&discord, store, clock.clone());
    let b = Replica::start_with_clock(&discord, store, clock.clone());
    discord.wait_commands_registered(2, WAIT).await;
    let client = reqwest::Client::new();

    // Set through A only: A's scheduler posts at 09:00, and Discord rate-limits that post for 30 s. A
    // has recorded the slot and waits to send it; it is killed there.
    discord.rate_limit_next(&posted(), 30.0);
    set_nine_in_tokyo_just_before_nine(&discord, &client, &a, &clock).await;
    let path = posted();
    discord
        .wait_for("A's rate-limited post", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "POST" && r.path == path && r.status == 429)
                .map(|_| ())
        })
        .await;
    a.kill();
    let recorded = store.open().daily_post(GUILD_ID, "2026-11-27").unwrap().unwrap();
    assert_eq!(recorded.state, DailyPostState::Recorded, "{recorded:?}");

    // B, woken at 09:00:10 by a schedule change: A's claim on the slot is still live (A might only be
    // slow), so B leaves it.
    clock.set(utc("2026-11-27T00:00:10Z"));
    set_daily(&discord, &client, &b, json!([])).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(daily_sends(&discord), 0, "B sent while A's claim was live");

    // At 09:01:30 the claim has lapsed: B looks in the channel, finds nothing, and sends the post once.
    clock.set(utc("2026-11-27T00:01:30Z"));
    set_daily(&discord, &client, &b, json!([])).await;
    let post = discord
        .wait_for("B's daily post", WAIT, |_| daily_messages(&discord).into_iter().next())
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(daily_messages(&discord).len(), 1);
    assert_eq!(daily_sends(&discord), 1);
    let stored = store.open().daily_post(GUILD_ID, "2026-11-27").unwrap().unwrap();
    assert_eq!(stored.state, DailyPostState::Sent, "{stored:?}");
    assert_eq!(stored.message_id.as_deref(), post["id"].as_str());
    // The question A chose is the one B sent.
    assert_eq!(
        post["embeds"][0]["description"].as_str(),
        library()
            .questions()
            .iter()
            .find(|q| q.id == recorded.question_id)
            .map(|q| q.stem.as_str())
    );
}

async fn a_replica_killed_after_discord_created_its_post_then_a_restart_yields_exactly_one_post(store: &SharedStore) {
    // Restarted once the dead replica's claim on the slot (a minute from 09:00) lapsed.
    killed_after_discord_created_its_post_then_restarted_at(store, "2026-11-27T00:01:05Z").await;
}

/// A lone bot restarted on the same host after a crash takes over its own dead claim at once: five
/// seconds after 09:00 the claim runs for almost a minute more (longer than this test waits), but it
/// names a replica of this host whose process is gone (this very pid, under another run's nonce).
async fn a_restart_on_the_same_host_takes_over_its_own_dead_claim_at_once(store: &SharedStore) {
    killed_after_discord_created_its_post_then_restarted_at(store, "2026-11-27T00:00:05Z").await;
}

/// A replica is killed after Discord created its daily post but before it heard back; another is started
/// at `restart_at`: the slot is resolved from the channel and marked sent, never posted again.
async fn killed_after_discord_created_its_post_then_restarted_at(store: &SharedStore, restart_at: &str) {
    let discord = FakeDiscord::start().await;
    let clock = Arc::new(MovableClock::default());
    clock.set(utc("2026-11-26T18:00:00Z"));
    let client = reqwest::Client::new();
    let mut first = Replica::start_on_host(&discord, store, clock.clone(), QuizOnShutdown::End, "restarted-host");
    discord.wait_commands_registered(1, WAIT).await;
    // The post's response is held: Discord creates the message, and the replica is killed before it hears.
    discord.hold_next(&posted(), Duration::from_secs(5));
    set_nine_in_tokyo_just_before_nine(&discord, &client, &first, &clock).await;
    let path = posted();
    discord
        .wait_for("the held post", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "POST" && r.path == path && r.body.to_string().contains("tsumiage daily"))
                .map(|_| ())
        })
        .await;
    first.kill();
    clock.set(utc(restart_at));
    let _second = Replica::start_on_host(&discord, store, clock.clone(), QuizOnShutdown::End, "restarted-host");
    let channel = format!("/channels/{CHANNEL_ID}/messages");
    discord
        .wait_for("the restarted replica reads the channel", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "GET" && r.path.ends_with(&channel))
                .map(|_| ())
        })
        .await;
    let deadline = std::time::Instant::now() + WAIT;
    let marked = loop {
        let post = store.open().daily_post(GUILD_ID, "2026-11-27").unwrap();
        if let Some(post) = post.filter(|p| p.state == DailyPostState::Sent) {
            break post;
        }
        assert!(std::time::Instant::now() < deadline, "the slot was never marked sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(daily_sends(&discord), 1, "one message-create request for the slot");
    assert_eq!(daily_messages(&discord).len(), 1);
    assert_eq!(marked.message_id.as_deref(), daily_messages(&discord)[0]["id"].as_str());
}

/// Replicas hear each other: a schedule set through A alone reaches B's scheduler through the store's
/// change counter. A is killed right after, before the slot is due, so only B can post it, and B's
/// scheduler, asleep for minutes with no schedule, must have been woken by A's change.
async fn a_schedule_set_through_one_replica_wakes_the_other_replicas_scheduler(store: &SharedStore) {
    let discord = FakeDiscord::start().await;
    let clock = Arc::new(MovableClock::default());
    clock.set(utc("2026-11-26T18:00:00Z"));
    let mut a = Replica::start_with_clock(&discord, store, clock.clone());
    let _b = Replica::start_with_clock(&discord, store, clock.clone());
    discord.wait_commands_registered(2, WAIT).await;
    let client = reqwest::Client::new();

    clock.set(utc("2026-11-26T23:59:58Z"));
    set_daily(
        &discord,
        &client,
        &a,
        json!([{"name": "time", "type": 3, "value": "09:00"}, {"name": "timezone", "type": 3, "value": "Asia/Tokyo"}]),
    )
    .await;
    a.kill();
    let post = discord
        .wait_for("B's daily post", WAIT, |_| daily_messages(&discord).into_iter().next())
        .await;
    assert_eq!(daily_sends(&discord), 1);
    // Marked sent just after Discord answered.
    let deadline = std::time::Instant::now() + WAIT;
    let stored = loop {
        let stored = store.open().daily_post(GUILD_ID, "2026-11-27").unwrap();
        if let Some(stored) = stored.filter(|p| p.state == DailyPostState::Sent) {
            break stored;
        }
        assert!(std::time::Instant::now() < deadline, "the slot was never marked sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(stored.message_id.as_deref(), post["id"].as_str());
}

replica_tests!(
    two_replicas_post_the_daily_question_once_take_answers_on_either_and_reveal_it_once,
    a_replica_killed_between_recording_the_daily_post_and_sending_it_leaves_the_other_to_send_it_once,
    a_replica_killed_after_discord_created_its_post_then_a_restart_yields_exactly_one_post,
    a_schedule_set_through_one_replica_wakes_the_other_replicas_scheduler,
    a_restart_on_the_same_host_takes_over_its_own_dead_claim_at_once,
);
