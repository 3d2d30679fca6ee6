//! The players of the group-quiz phase: per channel, a starter sends `/quiz start` to one replica, then
//! for each question posted in the channel five players press answer buttons through either replica at
//! random moments of the question's first seconds, and a third of them change their pick once. Every
//! press is recorded with what the reply said and how long it took, for the figures and for the check
//! against the store. Interactions are built as Discord sends them (the shapes of the tests' builders,
//! with a channel of each quiz's own).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use tsumiage::store::SessionId;

use crate::replica::deliver;
use crate::server::{APPLICATION_ID, BOT_USER_ID, FakeDiscord, GUILD_ID};

/// How long a channel waits for its next question or its scoreboard before giving up.
const PATIENCE: Duration = Duration::from_secs(60);
/// How often a channel looks for its next message at the local Discord.
const POLL: Duration = Duration::from_millis(50);

/// The shape of a run: how many channels, players per channel, questions per quiz and seconds per
/// question; players press within the first `spread` of each question.
#[derive(Clone, Copy)]
pub struct Plan {
    pub channels: usize,
    pub players: usize,
    pub questions: usize,
    pub seconds: u64,
    pub spread: Duration,
    /// Channels start one after another, `stagger` apart.
    pub stagger: Duration,
    /// Channel numbers start here, so that two runs in one process use different channels.
    pub first_channel: usize,
}

/// What a press came to, as the reply told the player.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    Picked,
    Changed,
    /// Refused by the quiz (too late, changed twice already, quiz over): not an answer.
    Refused,
    /// No reply, or an HTTP error.
    Failed,
}

/// One button press.
#[derive(Debug, Clone)]
pub struct Press {
    pub session: SessionId,
    pub index: usize,
    pub player: String,
    pub label: char,
    pub outcome: Outcome,
    pub latency: Duration,
}

/// The two replicas' URLs and what the channels share.
pub struct Table {
    pub discord: Arc<FakeDiscord>,
    pub urls: [String; 2],
    pub client: reqwest::Client,
}

pub fn channel_id(number: usize) -> String {
    (830_000_000_000_000_000u64 + number as u64).to_string()
}

fn player_id(channel: usize, player: usize) -> String {
    (7_000_000_000u64 + channel as u64 * 100 + player as u64).to_string()
}

fn member(user_id: &str) -> Value {
    json!({"user": {"id": user_id, "username": format!("user{user_id}"), "discriminator": "0",
                    "global_name": null, "avatar": null},
           "roles": [], "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
           "flags": 0, "permissions": "2048", "nick": null, "avatar": null, "pending": false})
}

/// An interaction of `kind` from `user_id` in `channel`, with `data`.
fn interaction(discord: &FakeDiscord, kind: u8, channel: &str, user_id: &str, data: Value) -> Value {
    let id = discord.next_id();
    json!({
        "id": id, "application_id": APPLICATION_ID, "type": kind, "token": format!("load-{id}"), "version": 1,
        "guild_id": GUILD_ID, "channel_id": channel, "locale": "en-US", "guild_locale": "ja",
        "entitlements": [], "attachment_size_limit": 26214400, "app_permissions": "2248473465835073",
        "member": member(user_id), "data": data,
        "authorizing_integration_owners": {"0": GUILD_ID}, "context": 0,
    })
}

/// Discord's ping, which a replica answers with a pong after checking the signature.
pub fn ping(discord: &FakeDiscord) -> Value {
    let id = discord.next_id();
    json!({"id": id, "application_id": APPLICATION_ID, "type": 1, "token": format!("ping-{id}"), "version": 1})
}

fn quiz_start(discord: &FakeDiscord, channel: &str, starter: &str, plan: &Plan) -> Value {
    let options = json!([{"name": "start", "type": 1, "options": [
        {"name": "count", "type": 4, "value": plan.questions},
        {"name": "seconds", "type": 4, "value": plan.seconds}]}]);
    let data = json!({"id": "830000000000000001", "name": "quiz", "type": 1, "options": options});
    interaction(discord, 2, channel, starter, data)
}

/// A press of `custom_id` on `message` (the message as the local Discord keeps it).
fn press(discord: &FakeDiscord, channel: &str, user_id: &str, custom_id: &str, message: &Value) -> Value {
    let data = json!({"custom_id": custom_id, "component_type": 2});
    let mut pressed = interaction(discord, 3, channel, user_id, data);
    let mut message = message.clone();
    let author = json!({"id": BOT_USER_ID, "username": "bot", "discriminator": "0", "global_name": null,
                        "avatar": null});
    for (key, default) in [
        ("channel_id", json!(channel)),
        ("author", author),
        ("content", json!("")),
        ("timestamp", json!("2026-01-01T00:00:00.000000+00:00")),
        ("tts", json!(false)),
        ("mention_everyone", json!(false)),
        ("mentions", json!([])),
        ("mention_roles", json!([])),
        ("attachments", json!([])),
        ("embeds", json!([])),
        ("pinned", json!(false)),
        ("type", json!(0)),
    ] {
        if message.get(key).is_none() {
            message[key] = default;
        }
    }
    pressed["message"] = message;
    pressed
}

/// The answer buttons of a posted question: (custom id `q:{session}:{index}:{label}`, session, label).
fn answer_buttons(message: &Value) -> Vec<(String, SessionId, char)> {
    let rows = message["components"].as_array().cloned().unwrap_or_default();
    rows.iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|button| {
            let id = button["custom_id"].as_str()?;
            let mut parts = id.strip_prefix("q:")?.split(':');
            let session = parts.next()?.parse().ok()?;
            let _index = parts.next()?;
            let label = parts.next()?.chars().next()?;
            Some((id.to_string(), session, label))
        })
        .collect()
}

/// Waits for the channel's message number `index` among those `wanted` picks out.
async fn nth_message(
    discord: &FakeDiscord,
    channel: &str,
    index: usize,
    wanted: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(found) = discord.messages(channel).into_iter().filter(&wanted).nth(index) {
            return Ok(found);
        }
        if tokio::time::Instant::now() > deadline {
            bail!("channel {channel}: message {} never came", index + 1);
        }
        tokio::time::sleep(POLL).await;
    }
}

fn is_question(message: &Value) -> bool {
    !answer_buttons(message).is_empty()
}

fn is_scoreboard(message: &Value) -> bool {
    message["embeds"][0]["title"].as_str().is_some_and(|t| t.contains('🏁'))
}

/// One channel's quiz from `/quiz start` to its scoreboard; returns every press made in it.
pub async fn run_channel(table: Arc<Table>, number: usize, plan: Plan) -> Result<Vec<Press>> {
    tokio::time::sleep(plan.stagger * (number - plan.first_channel) as u32).await;
    let channel = channel_id(number);
    let start = quiz_start(&table.discord, &channel, &player_id(number, 0), &plan);
    let (status, reply, _) = deliver(&table.client, &table.urls[number % 2], &start).await?;
    if status != 200 || !reply.to_string().contains("questions") {
        bail!("channel {channel}: /quiz start was not accepted ({status}): {reply}");
    }
    let mut presses = Vec::new();
    for index in 0..plan.questions {
        let question = nth_message(&table.discord, &channel, index, is_question).await?;
        let players = (0..plan.players).map(|player| {
            let seed = ((number * 100 + index) * 100 + player) as u64;
            play(&table, &channel, &question, player_id(number, player), seed, plan)
        });
        for played in futures_util::future::join_all(players).await {
            presses.extend(played?);
        }
    }
    nth_message(&table.discord, &channel, 0, is_scoreboard)
        .await
        .context("the scoreboard")?;
    Ok(presses)
}

/// One player on one question: a press at a random moment of the spread through a random replica, and
/// for a third of the players a second press, on another button through the other replica.
async fn play(
    table: &Table,
    channel: &str,
    question: &Value,
    player: String,
    seed: u64,
    plan: Plan,
) -> Result<Vec<Press>> {
    let buttons = answer_buttons(question);
    let index = question_index(&buttons)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let spread_ms = plan.spread.as_millis().max(1) as u64;
    tokio::time::sleep(Duration::from_millis(rng.random_range(0..spread_ms))).await;
    let mut choice = rng.random_range(0..buttons.len());
    let mut replica = rng.random_range(0..2usize);
    let presses_wanted = if rng.random_bool(1.0 / 3.0) { 2 } else { 1 };
    let mut presses = Vec::new();
    for _ in 0..presses_wanted {
        let (custom_id, session, label) = &buttons[choice];
        let pressed = press(&table.discord, channel, &player, custom_id, question);
        let (outcome, latency) = match deliver(&table.client, &table.urls[replica], &pressed).await {
            Ok((200, reply, latency)) => (outcome_of(&reply), latency),
            Ok((_, _, latency)) => (Outcome::Failed, latency),
            Err(_) => (Outcome::Failed, Duration::ZERO),
        };
        presses.push(Press {
            session: *session,
            index,
            player: player.clone(),
            label: *label,
            outcome,
            latency,
        });
        choice = (choice + 1) % buttons.len();
        replica = 1 - replica;
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..500))).await;
    }
    Ok(presses)
}

/// The question a set of buttons belongs to (`q:{session}:{index}:{label}`).
fn question_index(buttons: &[(String, SessionId, char)]) -> Result<usize> {
    let (custom_id, _, _) = buttons.first().context("a question without answer buttons")?;
    custom_id
        .split(':')
        .nth(2)
        .and_then(|index| index.parse().ok())
        .with_context(|| format!("an answer button without a question index: {custom_id}"))
}

/// What the ephemeral reply to a press says (the interaction's locale is English).
fn outcome_of(reply: &Value) -> Outcome {
    let text = reply["data"]["content"].as_str().unwrap_or_default();
    if text.contains("You picked") {
        Outcome::Picked
    } else if text.contains("Changed to") {
        Outcome::Changed
    } else if reply["type"].as_u64() == Some(4) {
        Outcome::Refused
    } else {
        Outcome::Failed
    }
}
