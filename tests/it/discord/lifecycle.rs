//! The bot's life: notes edited while it runs, READY firing again, and SIGTERM to a real `tsumiage serve`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tsumiage::discord::Bot;
use tsumiage::notes::load_dir;
use tsumiage::quiz::library::{Library, NotesSource};
use tsumiage::search::index::NoteIndex;
use tsumiage::search::synonyms::Synonyms;
use tsumiage::store::{Sessions, SqliteStore};

use super::server::{CHANNEL_ID, FakeDiscord, GUILD_ID};
use super::{BANK, KINESIS, Running, SQS, WAIT, callback_for, config, slash, start_with};

fn write_notes(dir: &Path) {
    std::fs::create_dir_all(dir.join("questions")).unwrap();
    std::fs::write(dir.join("kinesis.md"), KINESIS).unwrap();
    std::fs::write(dir.join("sqs.md"), SQS).unwrap();
    std::fs::write(dir.join("questions/kinesis.md"), BANK).unwrap();
}

async fn ask(discord: &FakeDiscord, query: &str) -> Value {
    let sent = slash(
        discord,
        "7001",
        "ask",
        json!([{"name": "query", "type": 3, "value": query}]),
    );
    discord.dispatch("INTERACTION_CREATE", sent.clone());
    callback_for(discord, &sent).await
}

/// Polls `condition` every 20 ms until it holds, or panics after `timeout`.
async fn eventually(what: &str, timeout: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_edited_while_the_bot_runs_is_seen_by_ask() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes");
    write_notes(&notes);
    let source = NotesSource {
        notes: notes.clone(),
        index: dir.path().join("index"),
        synonyms: dir.path().join("synonyms.txt"),
        glossary: dir.path().join("glossary-en-ja.txt"),
    };
    let set = load_dir(&notes).unwrap();
    let (index, _) = NoteIndex::open_or_build(&source.index, &set, &mut |_| {}).unwrap();
    let mut config = config(&discord.base_url());
    config.discord.reload_secs = 0.05;
    let store = SqliteStore::open(&dir.path().join("store.sqlite")).unwrap();
    let mut bot = Bot::new(
        config,
        Library::new(set, index, Synonyms::default()),
        store,
        "test-token-never-logged",
    );
    bot.notes_source = Some(source);
    let bot = Arc::new(bot);
    let (stop, task) = super::spawn_gateway(&bot);
    discord.wait_ready(WAIT).await;
    eventually("background tasks", WAIT, || bot.background_starts() == 1).await;

    let before = ask(&discord, "Zebracorn").await;
    assert!(!before.to_string().contains("sqs.md:"), "{before}");
    std::fs::write(
        notes.join("sqs.md"),
        format!("{SQS}\n## Zebracorn queues\n\nZebracorn queues keep messages for 42 days.\n"),
    )
    .unwrap();
    let edited = Instant::now();
    let deadline = edited + Duration::from_secs(10);
    loop {
        let reply = ask(&discord, "Zebracorn").await.to_string();
        if reply.contains("sqs.md:") && reply.contains("42 days") {
            break;
        }
        assert!(Instant::now() < deadline, "the edit never showed up: {reply}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("edit visible to /ask after {:?}", edited.elapsed());
    stop.send(()).unwrap();
    tokio::time::timeout(WAIT, task).await.unwrap().unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_tasks_start_once_although_ready_fires_twice() {
    let running: Running = start_with(|_| {}).await;
    let discord = &running.discord;
    assert_eq!(discord.identifies(), 1);
    // op 9 (not resumable): serenity identifies again and gets a second READY.
    discord.send_invalid_session();
    eventually("a second IDENTIFY", WAIT, || discord.identifies() == 2).await;
    let reply = ask(discord, "Kinesis 保持期間").await;
    assert!(reply.to_string().contains("kinesis.md:"), "{reply}");
    assert_eq!(running.bot.background_starts(), 1);
    assert_eq!(running.bot.commands_registered(), 1);
    let registrations = discord.count_requests(|r| r.method == "PUT" && r.path.ends_with("/commands"));
    assert_eq!(registrations, 1, "commands registered once");
}

/// A real `tsumiage serve` against the local Discord, its notes, store and log under `dir`.
fn spawn_serve(
    discord: &FakeDiscord,
    dir: &std::path::Path,
    notes: &std::path::Path,
    store_path: &std::path::Path,
    token: &str,
    stderr_path: &std::path::Path,
) -> std::process::Child {
    std::process::Command::new(crate::util::binary())
        .arg("serve")
        .current_dir(dir)
        .env("DISCORD_TOKEN", token)
        .env("TSUMIAGE_DISCORD_API_BASE", discord.base_url())
        .env("TSUMIAGE_DISCORD_DEV_GUILD_ID", GUILD_ID)
        .env("TSUMIAGE_NOTES", notes)
        .env("TSUMIAGE_INDEX", dir.join("index"))
        .env("TSUMIAGE_SYNONYMS", dir.join("synonyms.txt"))
        .env("TSUMIAGE_STORE", store_path)
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(stderr_path).unwrap())
        .spawn()
        .unwrap()
}

/// Sends SIGTERM and waits for the process to exit (failing with its log after `WAIT`).
async fn terminate(child: &mut std::process::Child, stderr_path: &std::path::Path) -> std::process::ExitStatus {
    let signalled = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if signalled.elapsed() > WAIT {
            let _ = child.kill();
            panic!(
                "serve did not exit within {WAIT:?} of SIGTERM:\n{}",
                std::fs::read_to_string(stderr_path).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_reply_in_flight_closes_the_quiz_and_exits_0() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes");
    write_notes(&notes);
    let store_path = dir.path().join("data/store.sqlite");
    std::fs::create_dir_all(store_path.parent().unwrap()).unwrap();
    let token = "sigterm-test-token-never-logged";
    let stderr_path = dir.path().join("stderr.log");
    let mut child = spawn_serve(&discord, dir.path(), &notes, &store_path, token, &stderr_path);
    discord.wait_ready(WAIT).await;
    discord.wait_commands_registered(1, WAIT).await;

    // A quiz is running (its session is open in the store) ...
    let start = slash(
        &discord,
        "8001",
        "quiz",
        json!([{"name": "start", "type": 1, "options": [{"name": "seconds", "type": 4, "value": 120}]}]),
    );
    discord.dispatch("INTERACTION_CREATE", start.clone());
    callback_for(&discord, &start).await;
    let posted = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    discord
        .wait_for("first question", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "POST" && r.path == posted && r.body.get("components").is_some())
                .map(|_| ())
        })
        .await;
    // ... and an /ask reply is in flight: its callback got a 429 and waits 1 s to retry.
    let sent = slash(
        &discord,
        "8002",
        "ask",
        json!([{"name": "query", "type": 3, "value": "Kinesis 保持期間"}]),
    );
    let interaction_token = sent["token"].as_str().unwrap().to_string();
    discord.rate_limit_next(&interaction_token, 1.0);
    discord.dispatch("INTERACTION_CREATE", sent.clone());
    discord
        .wait_for("the 429", WAIT, |r| {
            r.iter()
                .find(|r| r.status == 429 && r.path.contains(&interaction_token))
                .map(|_| ())
        })
        .await;

    let signalled = Instant::now();
    let status = terminate(&mut child, &stderr_path).await;
    let log = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(status.success(), "exit status {status}:\n{log}");
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "{:?}",
        signalled.elapsed()
    );

    // The reply in flight was completed, after the signal.
    let reply = callback_for(&discord, &sent).await;
    assert!(reply.to_string().contains("kinesis.md:"), "{reply}");
    // The quiz posted its final scoreboard.
    assert!(
        discord
            .requests()
            .iter()
            .any(|r| r.path == posted && r.body.to_string().contains("🏁")),
        "no final scoreboard"
    );
    // The store reopens, with the session closed.
    let store = SqliteStore::open(&store_path).unwrap();
    assert!(store.unfinished_sessions().unwrap().is_empty());
    assert!(!log.contains(token), "the token leaked into the log");
}
