//! Load on the Discord adapter: the real bot (serenity gateway client, handlers, REST replies) against the
//! tests' local Discord on 127.0.0.1, in one process. Sends slash commands as INTERACTION_CREATE dispatches
//! at a fixed rate and measures, on the server's clock, from each dispatch to its reply's arrival
//! (`POST /interactions/{id}/{token}/callback`). Baselines from the same run: a plain HTTP round trip to the
//! local server (the floor of any reply) and `/help` (the whole gateway → handler → REST path with a handler
//! that does nothing but reply), so `/ask`'s figures read as ratios.
//!
//! The group-quiz phase (`group_quiz`): two HTTP-interactions replicas sharing one store (SQLite, or
//! PostgreSQL with `--store postgres://…`), 50 channels each running a quiz, five players a channel pressing
//! answer buttons through either replica; press-to-reply latency against a single channel's, answers lost
//! or doubled (checked in the store), and compare-and-swap saves retried.
//!
//! `cargo run --release --example discord_load -- [SECONDS_PER_PHASE] [--phases all|commands|quiz]
//! [--store FILE|postgres://URL]` (seconds: default 10, at most 30; the store also from
//! `TSUMIAGE_LOAD_STORE`, else a new SQLite file). Never run by `cargo test`.

// The crate root of an example resolves modules beside it: this tool's own sit in `discord_load/`.
#[path = "discord_load/group_quiz.rs"]
mod group_quiz;
#[path = "discord_load/players.rs"]
mod players;
#[path = "discord_load/replica.rs"]
mod replica;
#[allow(dead_code)]
#[path = "../tests/it/discord/server.rs"]
mod server;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{Value, json};
use server::{APPLICATION_ID, CHANNEL_ID, FakeDiscord, GUILD_ID};
use tsumiage::config::Config;
use tsumiage::discord::Bot;
use tsumiage::quiz::library::Library;
use tsumiage::search::index::NoteIndex;
use tsumiage::search::synonyms::load_lists;
use tsumiage::store::SqliteStore;

/// The issue's two rates, and five times the higher one to show the headroom.
const RATES: [u32; 3] = [50, 200, 1000];
/// How long to wait for the last replies of a phase.
const DRAIN: Duration = Duration::from_secs(10);
const QUERIES: [&str; 6] = [
    "Kinesis のデータ保持期間の最大は?",
    "SQS 可視性タイムアウト",
    "Lambda の同時実行数",
    "DynamoDB のパーティションキー",
    "API Gateway のスロットリング",
    "S3 の整合性",
];

#[derive(Clone)]
struct Figures {
    label: String,
    sent: usize,
    answered: usize,
    deferred: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn figures(label: String, sent: usize, mut latencies: Vec<Duration>, deferred: usize) -> Figures {
    latencies.sort();
    let at = |q: f64| {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        latencies[rank - 1]
    };
    Figures {
        label,
        sent,
        answered: latencies.len(),
        deferred,
        p50: at(0.50),
        p99: at(0.99),
        max: latencies.last().copied().unwrap_or_default(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn slash(id: &str, name: &str, options: Value) -> Value {
    json!({
        "id": id, "application_id": APPLICATION_ID, "type": 2, "token": format!("load-{id}"), "version": 1,
        "guild_id": GUILD_ID, "channel_id": CHANNEL_ID, "locale": "ja", "guild_locale": "ja",
        "entitlements": [], "attachment_size_limit": 26214400, "app_permissions": "2248473465835073",
        "member": {"user": {"id": "1001", "username": "load", "discriminator": "0", "global_name": null,
                            "avatar": null},
                   "roles": [], "joined_at": "2025-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
                   "flags": 0, "permissions": "0", "nick": null, "avatar": null, "pending": false},
        "data": {"id": "830000000000000001", "name": name, "type": 1, "options": options},
        "authorizing_integration_owners": {"0": GUILD_ID}, "context": 0,
    })
}

/// Dispatches `name` at `rate`/s for `seconds`, then waits for the replies.
async fn phase(discord: &FakeDiscord, name: &str, rate: u32, seconds: u64) -> Figures {
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = rate as usize * seconds as usize;
    for n in 0..total {
        ticker.tick().await;
        let id = discord.next_id();
        let options = match name {
            "ask" => json!([{"name": "query", "type": 3, "value": QUERIES[n % QUERIES.len()]}]),
            _ => json!([]),
        };
        let interaction = slash(&id, name, options);
        sent.insert(format!("load-{id}"), Instant::now());
        discord.dispatch("INTERACTION_CREATE", interaction);
    }
    let reply_of = |path: &str| -> Option<String> {
        // /api/v10/interactions/{id}/{token}/callback
        let parts: Vec<&str> = path.split('/').collect();
        match parts.as_slice() {
            ["", "api", "v10", "interactions", _, token, "callback"] => Some(token.to_string()),
            _ => None,
        }
    };
    let deadline = Instant::now() + DRAIN;
    loop {
        // Counted in place: copying every request recorded so far would stall the runtime the bot shares.
        let answered =
            discord.count_requests(|r| r.status < 300 && reply_of(&r.path).is_some_and(|t| sent.contains_key(&t)));
        if answered >= sent.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut latencies = Vec::new();
    let mut deferred = 0;
    for request in discord.requests() {
        let Some(token) = reply_of(&request.path) else { continue };
        let Some(at) = sent.get(&token) else { continue };
        if request.status >= 300 {
            continue;
        }
        if request.body["type"] == 5 {
            deferred += 1;
        }
        latencies.push(request.at.saturating_duration_since(*at));
    }
    figures(format!("/{name} at {rate}/s"), total, latencies, deferred)
}

/// The floor: a plain HTTP POST to the local server's callback route and its answer, at `rate`/s.
async fn http_baseline(discord: &FakeDiscord, rate: u32, seconds: u64) -> Figures {
    let client = reqwest::Client::new();
    let url = format!("{}/api/v10/interactions/1/baseline/callback", discord.base_url());
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let total = rate as usize * seconds as usize;
    let mut tasks = Vec::with_capacity(total);
    for _ in 0..total {
        ticker.tick().await;
        let request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(r#"{"type":4,"data":{"content":"ok"}}"#);
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            request.send().await.ok().map(|_| started.elapsed())
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        if let Ok(Some(latency)) = task.await {
            latencies.push(latency);
        }
    }
    figures(format!("HTTP round trip at {rate}/s"), total, latencies, 0)
}

/// The phases to run.
#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Phases {
    All,
    /// The slash-command phases (`/help`, `/ask` over the gateway).
    Commands,
    /// The group-quiz phase (two HTTP replicas, one store).
    Quiz,
}

#[derive(clap::Parser)]
#[command(about = "Load on the Discord adapter, against the local Discord")]
struct Args {
    /// Seconds per rate in the slash-command phases (1 to 30).
    #[arg(default_value_t = 10)]
    seconds_per_phase: u64,
    #[arg(long, value_enum, default_value_t = Phases::All)]
    phases: Phases,
    /// The group-quiz phase's store: a file (SQLite) or a postgres:// URL (a fresh database: the check
    /// reads back the sessions of this run). Default: TSUMIAGE_LOAD_STORE, else a new SQLite file.
    #[arg(long)]
    store: Option<String>,
}

/// The shipped notes as the bot loads them, and their number of sections.
fn shipped_library() -> Result<(Library, usize)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let notes = tsumiage::notes::load_dir(&root.join("notes")).context("the shipped notes")?;
    let index = NoteIndex::in_memory(&notes)?;
    let synonyms = load_lists(
        &root.join("config/synonyms.txt"),
        Some(&root.join("config/glossary-en-ja.txt")),
    )?;
    let sections = index.meta.sections;
    Ok((Library::new(notes, index, synonyms), sections))
}

fn print_rows(rows: &[Figures]) {
    println!(
        "{:<32} {:>6} {:>8} {:>8} {:>9} {:>9} {:>9}",
        "phase", "sent", "answered", "deferred", "p50 ms", "p99 ms", "max ms"
    );
    for row in rows {
        println!(
            "{:<32} {:>6} {:>8} {:>8} {:>9} {:>9} {:>9}",
            row.label,
            row.sent,
            row.answered,
            row.deferred,
            ms(row.p50),
            ms(row.p99),
            ms(row.max)
        );
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

/// `/help` and `/ask` over the gateway at each rate, with the HTTP floor.
async fn command_phases(seconds: u64) -> Result<()> {
    let (library, sections) = shipped_library()?;
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir()?;
    let mut config = Config::default();
    config.discord.api_base = Some(discord.base_url());
    config.discord.dev_guild_id = Some(GUILD_ID.parse()?);
    config.discord.reload_secs = 0.0;
    let store = SqliteStore::open(&dir.path().join("store.sqlite"))?;
    let bot = Arc::new(Bot::new(config, library, store, "load-token"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(tsumiage::discord::gateway::run(bot.clone(), "load-token", async move {
        let _ = stopped.await;
    }));
    discord.wait_ready(Duration::from_secs(15)).await;
    discord.wait_commands_registered(1, Duration::from_secs(15)).await;
    // Warm up (first search, connection pool).
    phase(&discord, "ask", 20, 1).await;

    println!(
        "tsumiage Discord load: {} cores, shipped notes ({sections} sections), {seconds} s per phase",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rows = Vec::new();
    for rate in RATES {
        rows.push(http_baseline(&discord, rate, seconds).await);
        rows.push(phase(&discord, "help", rate, seconds).await);
        rows.push(phase(&discord, "ask", rate, seconds).await);
    }
    print_rows(&rows);
    for chunk in rows.chunks(3) {
        let [http, help, ask] = chunk else { continue };
        println!(
            "{}: /ask p99 = {:.1}x /help p99, {:.1}x HTTP round trip p99",
            ask.label,
            ratio(ask.p99, help.p99),
            ratio(ask.p99, http.p99)
        );
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(15), run).await;
    Ok(())
}

/// The group quiz's shape: per quiz, three questions of 8 seconds, answered within the first 3 seconds
/// (so a press made late under load still lands before the deadline); channels start 40 ms apart.
const GROUP_QUIZ: players::Plan = players::Plan {
    channels: 50,
    players: 5,
    questions: 3,
    seconds: 8,
    spread: Duration::from_secs(3),
    stagger: Duration::from_millis(40),
    first_channel: 1,
};

/// The group-quiz phase: the ping floor, one channel alone (the baseline, same shape, six questions), then 50 channels at once, on
/// two replicas sharing the store `store` (a new SQLite file when `None`).
async fn quiz_phase(store: Option<String>, counts: &replica::LogCounts) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = match store {
        Some(store) => store,
        None => dir.path().join("store.sqlite").to_string_lossy().into_owned(),
    };
    let backend = if tsumiage::store::is_postgres_url(&store) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let discord = Arc::new(FakeDiscord::start().await);
    let (first, sections) = shipped_library()?;
    let a = replica::Replica::start(0, &discord, &store, first)?;
    let b = replica::Replica::start(1, &discord, &store, shipped_library()?.0)?;
    discord.wait_commands_registered(2, Duration::from_secs(30)).await;
    let table = Arc::new(players::Table {
        discord,
        urls: [a.url.clone(), b.url.clone()],
        client: reqwest::Client::new(),
    });
    println!(
        "tsumiage group-quiz load on {backend}: {} cores, shipped notes ({sections} sections), load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        group_quiz::load_average()
    );
    group_quiz::ping_floor(&table, 50, 50).await; // warm-up
    let floor = group_quiz::ping_floor(&table, 500, 100).await;
    // Twice the questions, for a baseline of some 40 presses rather than 20.
    let single = players::Plan {
        channels: 1,
        first_channel: 0,
        questions: 2 * GROUP_QUIZ.questions,
        ..GROUP_QUIZ
    };
    let single = group_quiz::run(&table, single, &store, counts).await?;
    let group = group_quiz::run(&table, GROUP_QUIZ, &store, counts).await?;
    group_quiz::print(backend, &floor, &[&single, &group]);
    a.stop(Duration::from_secs(15)).await;
    b.stop(Duration::from_secs(15)).await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let args = <Args as clap::Parser>::parse();
    let counts = replica::install_log();
    if args.phases != Phases::Quiz {
        command_phases(args.seconds_per_phase.clamp(1, 30)).await?;
    }
    if args.phases != Phases::Commands {
        let store = args.store.or_else(|| std::env::var("TSUMIAGE_LOAD_STORE").ok());
        quiz_phase(store, &counts).await?;
    }
    Ok(())
}
