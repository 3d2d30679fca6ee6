//! The Discord bot end to end: the real serenity client against `server::FakeDiscord` on 127.0.0.1.
//! Each test builds its own small notes in memory and a store in a temp dir. Waits are on events with
//! timeouts, never fixed sleeps.

mod admin;
mod bot;
mod daily;
mod daily_thread;
mod http;
mod lifecycle;
mod process;
mod replica_store;
mod replicas;
mod replicas_daily;
pub mod server;
mod startup;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tsumiage::clock::{Clock, SystemClock, Timestamp};
use tsumiage::config::Config;
use tsumiage::discord::Bot;
use tsumiage::notes::NoteSet;
use tsumiage::quiz::library::Library;
use tsumiage::search::index::NoteIndex;
use tsumiage::search::synonyms::Synonyms;
use tsumiage::store::SqliteStore;

use server::{APPLICATION_ID, CHANNEL_ID, FakeDiscord, GUILD_ID};

pub const WAIT: Duration = Duration::from_secs(15);

pub const KINESIS: &str = "---\ntags: [streaming]\n---\n# Kinesis\n\n## データ保持期間\n\nKinesis Data Streams のデータ保持期間は既定で 24 時間、最大 365 日まで延長できる。\n\n## シャード\n\nシャードあたり書き込み 1 MB/秒、読み取り 2 MB/秒。\n";
pub const SQS: &str = "# SQS\n\n## 可視性タイムアウト\n\nSQS の可視性タイムアウトの既定は 30 秒、最大 12 時間。\n";
pub const BANK: &str = "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-001\n\nKinesis の既定の保持期間は?\n\n- [ ] 1 時間\n- [x] 24 時間\n- [ ] 7 日\n\n解説: 既定は 24 時間。\n\n参照: kinesis.md#データ保持期間\n\n## kin-002\n\nシャードあたりの書き込みは?\n\n- [x] 1 MB/秒\n- [ ] 2 MB/秒\n- [ ] 10 MB/秒\n\n解説: 書き込み 1 MB/秒、読み取り 2 MB/秒。\n\n参照: kinesis.md#シャード\n";

pub fn library() -> Library {
    let notes = NoteSet::from_texts([("kinesis.md", KINESIS), ("sqs.md", SQS), ("questions/kinesis.md", BANK)]);
    let index = NoteIndex::in_memory(&notes).expect("index");
    Library::new(notes, index, Synonyms::default())
}

pub fn config(base: &str) -> Config {
    let mut config = Config::default();
    config.discord.api_base = Some(base.to_string());
    config.discord.dev_guild_id = Some(GUILD_ID.parse().unwrap());
    config.discord.reload_secs = 0.0;
    config
}

pub fn bot(config: Config, dir: &tempfile::TempDir) -> Bot {
    let store = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
    let mut bot = Bot::new(config, library(), store, "test-token-never-logged");
    bot.clock = Arc::new(FastClock);
    bot
}

/// How many times faster than real time `FastClock` runs: a quiz "second" passes in 100 ms.
pub const SPEED: u32 = 10;

/// A clock that runs `SPEED` times faster than real time, from the moment the first test read it. Every
/// `FastClock` in the test binary reads the same time, so replicas sharing a store agree on deadlines
/// and leases.
pub struct FastClock;

impl FastClock {
    fn origin() -> &'static (Timestamp, Instant) {
        static ORIGIN: OnceLock<(Timestamp, Instant)> = OnceLock::new();
        ORIGIN.get_or_init(|| (SystemClock.now(), Instant::now()))
    }
}

impl Clock for FastClock {
    fn now(&self) -> Timestamp {
        let (start, at) = Self::origin();
        start.plus_millis((at.elapsed() * SPEED).as_millis() as i64)
    }

    fn sleep_for(&self, span: Duration) -> Duration {
        span / SPEED
    }
}

/// The fake server, and the bot on its gateway until the returned sender is dropped or fires.
pub struct Running {
    pub discord: FakeDiscord,
    pub bot: Arc<Bot>,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
    _dir: tempfile::TempDir,
}

/// Runs the bot's gateway client as a task, stopped by sending on the returned channel.
pub fn spawn_gateway(
    bot: &Arc<Bot>,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(tsumiage::discord::gateway::run(
        bot.clone(),
        "test-token-never-logged",
        async move {
            let _ = stopped.await;
        },
    ));
    (stop, task)
}

pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Running {
    start_on(None, adjust).await
}

/// A gateway bot against a local Discord, on `store` (`None`: an SQLite file in the test's temp dir).
pub async fn start_on(store: Option<Box<dyn tsumiage::store::Store>>, adjust: impl FnOnce(&mut Config)) -> Running {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&discord.base_url());
    adjust(&mut config);
    let bot = match store {
        None => bot(config, &dir),
        Some(store) => {
            let mut bot = Bot::new(config, library(), store, "test-token-never-logged");
            bot.clock = Arc::new(FastClock);
            bot
        }
    };
    let bot = Arc::new(bot);
    let (stop, task) = spawn_gateway(&bot);
    discord.wait_ready(WAIT).await;
    discord.wait_commands_registered(1, WAIT).await;
    Running {
        discord,
        bot,
        stop: Some(stop),
        task,
        _dir: dir,
    }
}

/// A wall clock the test moves: real time plus an offset. One clock can drive several bots.
#[derive(Default)]
pub struct MovableClock {
    offset: Mutex<chrono::Duration>,
}

impl MovableClock {
    /// From now on, the clock reads `at` (and runs on from there).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.offset.lock().unwrap() = at - Utc::now();
    }
}

impl Clock for MovableClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_utc(Utc::now() + *self.offset.lock().unwrap())
    }
}

pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// `/daily set` with `options` by a member with Manage Server (the receiving bot's scheduler wakes).
pub fn daily_set(discord: &FakeDiscord, options: Value) -> Value {
    let mut sent = slash(
        discord,
        "1000",
        "daily",
        json!([{"name": "set", "type": 1, "options": options}]),
    );
    sent["member"]["permissions"] = json!("32");
    sent
}

pub fn user(id: &str) -> Value {
    json!({"id": id, "username": format!("user{id}"), "discriminator": "0", "global_name": null, "avatar": null})
}

pub fn member(id: &str, permissions: &str) -> Value {
    json!({"user": user(id), "roles": [], "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false,
           "mute": false, "flags": 0, "permissions": permissions, "nick": null, "avatar": null, "pending": false})
}

/// An interaction of `kind` from `user_id` in the test guild and channel, with `data`.
pub fn interaction(discord: &FakeDiscord, kind: u8, user_id: &str, data: Value, locale: &str) -> Value {
    let id = discord.next_id();
    json!({
        "id": id, "application_id": APPLICATION_ID, "type": kind, "token": format!("token-{id}"), "version": 1,
        "guild_id": GUILD_ID, "channel_id": CHANNEL_ID, "locale": locale, "guild_locale": "ja",
        "entitlements": [], "attachment_size_limit": 26214400, "app_permissions": "2248473465835073",
        "member": member(user_id, "2048"), "data": data,
        "authorizing_integration_owners": {"0": GUILD_ID}, "context": 0,
    })
}

pub fn slash(discord: &FakeDiscord, user_id: &str, name: &str, options: Value) -> Value {
    interaction(
        discord,
        2,
        user_id,
        json!({"id": "830000000000000001", "name": name, "type": 1, "options": options}),
        "en-US",
    )
}

/// A button press on `message` (the whole message object, as Discord sends it).
pub fn press(discord: &FakeDiscord, user_id: &str, custom_id: &str, message: &Value) -> Value {
    let mut pressed = interaction(
        discord,
        3,
        user_id,
        json!({"custom_id": custom_id, "component_type": 2}),
        "en-US",
    );
    let mut message = message.clone();
    for (key, default) in [
        ("id", json!(discord.next_id())),
        ("channel_id", json!(CHANNEL_ID)),
        ("author", user(server::BOT_USER_ID)),
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

pub fn modal_submit(discord: &FakeDiscord, user_id: &str, custom_id: &str, field: &str, value: &str) -> Value {
    interaction(
        discord,
        5,
        user_id,
        json!({"custom_id": custom_id, "components": [{"type": 1, "components": [
            {"type": 4, "custom_id": field, "value": value}]}]}),
        "en-US",
    )
}

/// The callback body (`{type, data}`) the bot sent for the interaction `sent`.
/// Sends an interaction over the gateway and waits for the bot's first response to it.
pub async fn exchange(discord: &FakeDiscord, interaction: Value) -> Value {
    discord.dispatch("INTERACTION_CREATE", interaction.clone());
    callback_for(discord, &interaction).await
}

pub async fn callback_for(discord: &FakeDiscord, sent: &Value) -> Value {
    let path = format!(
        "/api/v10/interactions/{}/{}/callback",
        sent["id"].as_str().unwrap(),
        sent["token"].as_str().unwrap()
    );
    discord
        .wait_for(&format!("callback {path}"), WAIT, |r| {
            r.iter()
                .find(|r| r.path == path && r.status < 300)
                .map(|r| r.body.clone())
        })
        .await
}

/// Every interaction got at most one successful first response (a second is a bug: 40060 on Discord).
pub fn assert_one_response_each(discord: &FakeDiscord) {
    let mut seen = std::collections::HashMap::new();
    for request in discord.requests() {
        if request.path.ends_with("/callback") && request.status < 300 {
            *seen.entry(request.path.clone()).or_insert(0) += 1;
        }
    }
    let twice: Vec<_> = seen.into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(twice.is_empty(), "answered more than once: {twice:?}");
}

/// The letters of the right choice and of a wrong one on a posted question (quiz or daily), as the post
/// shows them: choices are shown in an order drawn per quiz or slot, so the post's fields (letter → text)
/// say which letter stands for which choice, and the bank says which text is right.
pub fn shown_right_and_wrong(message: &Value, bank: &[tsumiage::quiz::QuizQuestion]) -> (char, char) {
    let embed = &message["embeds"][0];
    let stem = embed["description"].as_str().unwrap();
    let question = bank
        .iter()
        .find(|q| q.stem == stem)
        .unwrap_or_else(|| panic!("no question with the stem {stem}"));
    let shown: Vec<(char, &str)> = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            let label = f["name"].as_str()?.chars().next()?;
            let text = f["value"].as_str()?;
            question.choices.iter().any(|c| c.text == text).then_some((label, text))
        })
        .collect();
    let is_right = |text: &str| {
        question
            .choices
            .iter()
            .any(|c| c.text == text && question.correct.contains(&c.label))
    };
    let right = shown
        .iter()
        .find(|(_, t)| is_right(t))
        .expect("the right choice is shown")
        .0;
    let wrong = shown
        .iter()
        .find(|(_, t)| !is_right(t))
        .expect("a wrong choice is shown")
        .0;
    (right, wrong)
}
