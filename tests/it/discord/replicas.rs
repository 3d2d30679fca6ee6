//! Several bot replicas in HTTP interactions mode sharing one store file, as several processes behind a
//! load balancer would. Each replica runs on a tokio runtime of its own, so it can be killed the way
//! SIGKILL kills a process: `shutdown_background` drops every task at its next await, with no graceful
//! shutdown (no scoreboard, no store cleanup, the lease simply stops being renewed). Their quizzes run on
//! one `FastClock`; the daily question's replicas (`replicas_daily.rs`) share one movable clock.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tsumiage::clock::{Clock, SystemClock};
use tsumiage::config::QuizOnShutdown;
use tsumiage::discord::Bot;
use tsumiage::notes::NoteSet;
use tsumiage::quiz::library::Library;
use tsumiage::quiz::session::SessionEnd;
use tsumiage::search::index::NoteIndex;
use tsumiage::search::synonyms::Synonyms;

use super::replica_store::{SharedStore, replica_tests};

use super::http::{post_signed, public_key_hex, sign_at, signing_key};
use super::server::{CHANNEL_ID, FakeDiscord};
use super::{BANK, FastClock, KINESIS, SPEED, SQS, WAIT, config, press, slash};

/// The quiz lease in these tests, in real milliseconds: a dead replica's quiz is taken over within about
/// this long. Long enough that a replica slowed down by a busy machine keeps its lease; short enough for a
/// quick test.
pub(super) const LEASE_MS: u64 = 800;

/// A third multiple-choice question (the shared bank has two), so a quiz can outlast a replica.
const SQS_BANK: &str = "---\nkind: questions\nservice: SQS\n---\n# 問題\n\n## sqs-001\n\nSQS の可視性タイムアウトの既定は?\n\n- [ ] 10 秒\n- [x] 30 秒\n- [ ] 12 時間\n\n解説: 既定は 30 秒、最大 12 時間。\n\n参照: sqs.md#可視性タイムアウト\n";

pub(super) fn library() -> Library {
    let notes = NoteSet::from_texts([
        ("kinesis.md", KINESIS),
        ("sqs.md", SQS),
        ("questions/kinesis.md", BANK),
        ("questions/sqs.md", SQS_BANK),
    ]);
    let index = NoteIndex::in_memory(&notes).expect("index");
    Library::new(notes, index, Synonyms::default())
}

pub(super) struct Replica {
    url: String,
    /// The replica's clock: requests to it are signed at its time, as Discord's would be at the present.
    clock: Arc<dyn Clock>,
    runtime: Option<tokio::runtime::Runtime>,
    /// Sending on it shuts the replica down as a SIGTERM does; `served` ends when it is done.
    terminate: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl Replica {
    /// A replica serving HTTP interactions on 127.0.0.1, its store at `store` (shared with the others),
    /// on the `FastClock`.
    fn start(discord: &FakeDiscord, store: &SharedStore) -> Replica {
        Replica::start_with(discord, store, Arc::new(FastClock), QuizOnShutdown::End)
    }

    /// As `start`, reading `clock`, which runs at the real pace (several replicas may share one).
    pub(super) fn start_with_clock(discord: &FakeDiscord, store: &SharedStore, clock: Arc<dyn Clock>) -> Replica {
        Replica::start_with(discord, store, clock, QuizOnShutdown::End)
    }

    fn start_with(
        discord: &FakeDiscord,
        store: &SharedStore,
        clock: Arc<dyn Clock>,
        on_shutdown: QuizOnShutdown,
    ) -> Replica {
        // Each replica on a host of its own, as behind a load balancer: one cannot tell from a pid that
        // another (in this same test process) is gone.
        static HOSTS: AtomicU64 = AtomicU64::new(0);
        let host = format!("test-host-{}", HOSTS.fetch_add(1, Ordering::Relaxed));
        Replica::start_on_host(discord, store, clock, on_shutdown, &host)
    }

    /// As `start_with`, on the host `host`: a replica started on the host of one that was killed is that
    /// replica's restart (same host, same pid, another run).
    pub(super) fn start_on_host(
        discord: &FakeDiscord,
        store: &SharedStore,
        clock: Arc<dyn Clock>,
        on_shutdown: QuizOnShutdown,
        host: &str,
    ) -> Replica {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut config = config(&discord.base_url());
        // The lease in the clock's time: LEASE_MS of real time on either clock.
        let fast = clock.sleep_for(Duration::from_secs(1)) < Duration::from_secs(1);
        config.discord.quiz_lease_ms = if fast { LEASE_MS * u64::from(SPEED) } else { LEASE_MS };
        config.discord.quiz_on_shutdown = on_shutdown;
        let mut bot = Bot::new(config, library(), store.open(), "test-token-never-logged");
        bot.clock = clock.clone();
        static RUNS: AtomicU64 = AtomicU64::new(1);
        bot.replica = tsumiage::store::owner::replica_id_on(host, RUNS.fetch_add(1, Ordering::Relaxed));
        let bot = Arc::new(bot);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/interactions", listener.local_addr().unwrap());
        let verifier = tsumiage::discord::http::verifier(&public_key_hex()).unwrap();
        let (terminate, terminated) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let shutdown = async move {
                let _ = terminated.await;
            };
            if let Err(error) = tsumiage::discord::http::run(bot, verifier, listener, shutdown).await {
                panic!("replica stopped: {error:#}");
            }
        });
        Replica {
            url,
            clock,
            runtime: Some(runtime),
            terminate: Some(terminate),
            served: Some(served),
        }
    }

    /// Shuts the replica down gracefully, as a SIGTERM does, and waits until it has.
    async fn terminate(&mut self) {
        if let Some(terminate) = self.terminate.take() {
            let _ = terminate.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.unwrap();
        }
    }

    /// Kills the replica: its tasks are dropped where they are, nothing is shut down gracefully.
    pub(super) fn kill(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Delivers an interaction as Discord does (signed POST) and returns the first response.
    pub(super) async fn deliver(&self, client: &reqwest::Client, interaction: &Value) -> Value {
        let at = self.clock.now().millis().div_euclid(1000);
        let signed = sign_at(&signing_key(), interaction, at);
        let (status, reply) = post_signed(client, &self.url, interaction, Some(signed)).await;
        assert_eq!(status, 200, "{reply}");
        reply
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(super) fn posted() -> String {
    format!("/api/v10/channels/{CHANNEL_ID}/messages")
}

/// The `index`-th quiz question in the channel (the message, as Discord keeps it), waiting for it.
async fn question(discord: &FakeDiscord, index: usize) -> Value {
    discord
        .wait_for(&format!("question {}", index + 1), WAIT, |_| {
            discord.messages(CHANNEL_ID).into_iter().filter(is_question).nth(index)
        })
        .await
}

fn is_question(body: &Value) -> bool {
    body["components"].to_string().contains("\"q:")
}

/// The button ids of a question for its right and a wrong choice, from the question bank the bot uses.
fn right_and_wrong(message: &Value) -> (String, String) {
    let (right, wrong) = super::shown_right_and_wrong(message, library().questions());
    let buttons: Vec<String> = message["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .filter(|id| id.starts_with("q:"))
        .collect();
    let id = |label: char| {
        buttons
            .iter()
            .find(|b| b.ends_with(&format!(":{label}")))
            .unwrap()
            .clone()
    };
    (id(right), id(wrong))
}

/// Presses a button of `message` as `player` through `replica`; the pick is acknowledged privately.
async fn pick(
    discord: &FakeDiscord,
    client: &reqwest::Client,
    replica: &Replica,
    player: &str,
    custom_id: &str,
    message: &Value,
) {
    let ack = replica
        .deliver(client, &press(discord, player, custom_id, message))
        .await;
    assert_eq!(
        (ack["type"].as_u64(), ack["data"]["flags"].as_u64()),
        (Some(4), Some(64)),
        "{ack}"
    );
    let text = ack["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("picked") || text.contains("Changed"),
        "pick not accepted: {ack}"
    );
}

/// Every question posted once, revealed (edited) once, and one scoreboard: the channel's messages and
/// edits, counted at the server.
fn assert_each_posted_and_revealed_once(discord: &FakeDiscord, count: usize) -> String {
    let posted = posted();
    let requests = discord.requests();
    let messages = discord.messages(CHANNEL_ID);
    let titles: Vec<&str> = messages
        .iter()
        .map(|m| m["embeds"][0]["title"].as_str().unwrap())
        .collect();
    let mut expected: Vec<String> = (1..=count).map(|n| format!("❓ Question {n}/{count}")).collect();
    expected.push("🏁 Quiz over: results".into());
    assert_eq!(
        titles, expected,
        "each question posted once, in order, then the scoreboard"
    );
    let mut edited: Vec<&str> = requests
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with(&posted))
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(edited.len(), count, "each question revealed once: {edited:?}");
    edited.sort();
    edited.dedup();
    assert_eq!(edited.len(), count, "reveals of distinct questions: {edited:?}");
    messages[count]["embeds"][0]["description"]
        .as_str()
        .unwrap()
        .to_string()
}

fn start_quiz(discord: &FakeDiscord, starter: &str, count: u64) -> Value {
    // 15 seconds on the `FastClock`: 1.5 s per question.
    start_quiz_of(discord, starter, count, 15)
}

fn start_quiz_of(discord: &FakeDiscord, starter: &str, count: u64, seconds: u64) -> Value {
    slash(
        discord,
        starter,
        "quiz",
        json!([{"name": "start", "type": 1, "options": [
            {"name": "count", "type": 4, "value": count},
            {"name": "seconds", "type": 4, "value": seconds}]}]),
    )
}

async fn wait_scoreboard(discord: &FakeDiscord) {
    let posted = posted();
    discord
        .wait_for("scoreboard", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "POST" && r.path == posted && r.body.to_string().contains("🏁"))
                .map(|_| ())
        })
        .await;
    // Anything sent twice would arrive now: give it the time of a lease.
    tokio::time::sleep(Duration::from_millis(2 * LEASE_MS)).await;
}

async fn two_replicas_serve_one_quiz_and_the_survivor_finishes_it_when_the_other_is_killed(store: &SharedStore) {
    let discord = FakeDiscord::start().await;
    let mut a = Replica::start(&discord, store);
    let b = Replica::start(&discord, store);
    discord.wait_commands_registered(2, WAIT).await;
    let client = reqwest::Client::new();

    let intro = a.deliver(&client, &start_quiz(&discord, "3001", 3)).await;
    assert!(intro.to_string().contains("3 questions"), "{intro}");
    // A second quiz in the channel is refused by the other replica too: the store knows.
    let again = b.deliver(&client, &start_quiz(&discord, "3002", 1)).await;
    assert!(again.to_string().contains("already running"), "{again}");

    // Question 1, posted by A: picks alternate between the replicas, the first three at the same time
    // (saves racing on the store: a replica that loses reloads and applies its pick again). alice (3001)
    // is right every time, bob (3002) only on the first, carol (3003) picks wrong first and changes to right.
    let first = question(&discord, 0).await;
    let (right, wrong) = right_and_wrong(&first);
    tokio::join!(
        pick(&discord, &client, &a, "3001", &right, &first),
        pick(&discord, &client, &b, "3002", &right, &first),
        pick(&discord, &client, &a, "3003", &wrong, &first),
    );
    pick(&discord, &client, &b, "3003", &right, &first).await;

    // Question 2, posted by A at question 1's deadline.
    let second = question(&discord, 1).await;
    let (right, wrong) = right_and_wrong(&second);
    pick(&discord, &client, &b, "3001", &right, &second).await;
    pick(&discord, &client, &a, "3002", &wrong, &second).await;
    pick(&discord, &client, &b, "3003", &wrong, &second).await;

    // A dies mid-question: B notices its lease lapse, takes the quiz over, reveals question 2 at its
    // deadline and posts question 3.
    a.kill();
    let killed = Instant::now();
    let third = question(&discord, 2).await;
    let third_at = discord
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == posted() && is_question(&r.body))
        .nth(2)
        .unwrap()
        .at;
    assert!(third_at > killed, "question 3 was posted after A died, so by B");
    let (right, wrong) = right_and_wrong(&third);
    pick(&discord, &client, &b, "3001", &right, &third).await;
    pick(&discord, &client, &b, "3002", &wrong, &third).await;
    pick(&discord, &client, &b, "3003", &wrong, &third).await;

    wait_scoreboard(&discord).await;
    let board = assert_each_posted_and_revealed_once(&discord, 3);
    assert_eq!(
        board, "1. <@3001> — 3 pt\n2. <@3002> — 1 pt\n2. <@3003> — 1 pt",
        "{board}"
    );

    // The store agrees: the session ended normally, with the same scores and every attempt recorded once.
    let store = store.open();
    let session = store.session(1).unwrap().unwrap();
    assert_eq!(session.end, Some(SessionEnd::CountReached));
    let points: Vec<u32> = store.scores(1).unwrap().iter().map(|s| s.points).collect();
    assert_eq!(points, [3, 1, 1]);
    assert_eq!(store.attempts(1).unwrap().len(), 9);
    assert!(store.quiz_effects(1).unwrap().iter().all(|e| e.sent_at.is_some()));
    assert!(store.running_quizzes().unwrap().is_empty());
}

/// One replica on `store`, a two-question quiz started by `player`, who answers the first question right.
async fn one_replica_with_a_quiz_answered_once(
    discord: &FakeDiscord,
    store: &SharedStore,
    client: &reqwest::Client,
    player: &str,
) -> Replica {
    let replica = Replica::start(discord, store);
    discord.wait_commands_registered(1, WAIT).await;
    replica.deliver(client, &start_quiz(discord, player, 2)).await;
    let first = question(discord, 0).await;
    let (right, _) = right_and_wrong(&first);
    pick(discord, client, &replica, player, &right, &first).await;
    replica
}

async fn a_sigterm_with_hand_over_leaves_the_quiz_to_the_other_replica_and_posts_nothing(store: &SharedStore) {
    let discord = FakeDiscord::start().await;
    let mut a = Replica::start_with(&discord, store, Arc::new(FastClock), QuizOnShutdown::HandOver);
    let b = Replica::start(&discord, store);
    discord.wait_commands_registered(2, WAIT).await;
    let client = reqwest::Client::new();

    // A starts and drives a two-question quiz; 6001 answers question 1 right.
    a.deliver(&client, &start_quiz(&discord, "6001", 2)).await;
    let first = question(&discord, 0).await;
    let (right, _) = right_and_wrong(&first);
    pick(&discord, &client, &b, "6001", &right, &first).await;

    // A is shut down (a rolling restart): it gives the quiz up instead of ending it, so B goes on with it;
    // one scoreboard with both points means A's shutdown neither ended the quiz nor posted a board.
    a.terminate().await;
    finish_with_both_points(&discord, &client, &b, "6001", store).await;
    let store = store.open();
    assert!(store.quiz_effects(1).unwrap().iter().all(|e| e.sent_at.is_some()));
}

/// `player` answers question 2 of a two-question quiz right on `replica`; the quiz must then end with one
/// scoreboard giving `player` both points, each question posted and revealed once, and its session ended
/// by reaching its count.
async fn finish_with_both_points(
    discord: &FakeDiscord,
    client: &reqwest::Client,
    replica: &Replica,
    player: &str,
    store: &SharedStore,
) {
    let second = question(discord, 1).await;
    let (right, _) = right_and_wrong(&second);
    pick(discord, client, replica, player, &right, &second).await;
    wait_scoreboard(discord).await;
    let board = assert_each_posted_and_revealed_once(discord, 2);
    assert_eq!(board, format!("1. <@{player}> — 2 pt"), "{board}");
    let store = store.open();
    assert_eq!(store.session(1).unwrap().unwrap().end, Some(SessionEnd::CountReached));
}

async fn a_restart_of_the_only_replica_resumes_its_quiz(store: &SharedStore) {
    let discord = FakeDiscord::start().await;
    let client = reqwest::Client::new();
    let mut first_run = one_replica_with_a_quiz_answered_once(&discord, store, &client, "5001").await;

    // Killed and started again on the same store: the quiz goes on where it was.
    first_run.kill();
    let second_run = Replica::start(&discord, store);
    finish_with_both_points(&discord, &client, &second_run, "5001", store).await;
}

/// A real `tsumiage serve --http` process as a replica, on the store at `store`.
fn serve_process(discord: &FakeDiscord, dir: &Path, store: &SharedStore) -> (std::process::Child, String) {
    let notes = dir.join("notes");
    std::fs::create_dir_all(notes.join("questions")).unwrap();
    for (path, text) in [
        ("kinesis.md", KINESIS),
        ("sqs.md", SQS),
        ("questions/kinesis.md", BANK),
        ("questions/sqs.md", SQS_BANK),
    ] {
        std::fs::write(notes.join(path), text).unwrap();
    }
    let config = dir.join("tsumiage.toml");
    std::fs::write(
        &config,
        format!("[discord]\nquiz_lease_ms = {LEASE_MS}\nreload_secs = 0\n"),
    )
    .unwrap();
    // A free port for the process: taken from the system, released, handed over.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(crate::util::binary())
        .args(["serve", "--http", &format!("127.0.0.1:{port}")])
        .arg("--config")
        .arg(&config)
        .current_dir(dir)
        .env("DISCORD_TOKEN", "test-token-never-logged")
        .env("DISCORD_PUBLIC_KEY", public_key_hex())
        .env("TSUMIAGE_DISCORD_API_BASE", discord.base_url())
        .env("TSUMIAGE_DISCORD_DEV_GUILD_ID", super::server::GUILD_ID)
        .env("TSUMIAGE_NOTES", &notes)
        .env("TSUMIAGE_INDEX", dir.join("index"))
        .env("TSUMIAGE_SYNONYMS", dir.join("synonyms.txt"))
        .env("TSUMIAGE_STORE", store.spec())
        .env("TSUMIAGE_LOCALE", "en")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}/interactions"))
}

async fn a_kill_9_of_a_serve_process_while_its_question_post_is_in_flight_gives_one_message_per_question(
    store: &SharedStore,
) {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Replica A is a real process, on the wall clock; B runs in this test, on the wall clock too.
    let (mut process, url) = serve_process(&discord, dir.path(), store);
    let a = Replica {
        url,
        clock: Arc::new(SystemClock),
        runtime: None,
        terminate: None,
        served: None,
    };
    let b = Replica::start_with_clock(&discord, store, Arc::new(SystemClock));
    discord.wait_commands_registered(2, WAIT).await;
    let client = reqwest::Client::new();

    // Two real seconds per question.
    let intro = a.deliver(&client, &start_quiz_of(&discord, "6001", 3, 2)).await;
    assert!(intro.to_string().contains("3 questions"), "{intro}");
    let first = question(&discord, 0).await;
    let (right, wrong) = right_and_wrong(&first);
    // Discord creates question 2's message but A never hears back: it dies between sending and marking.
    discord.hold_next_method("POST", &posted(), Duration::from_secs(3));
    pick(&discord, &client, &a, "6001", &right, &first).await;
    pick(&discord, &client, &b, "6002", &wrong, &first).await;
    let second = question(&discord, 1).await;
    process.kill().unwrap(); // SIGKILL
    process.wait().unwrap();

    // B serves picks at once (the quiz is in the store), takes the quiz over when A's lease lapses, sends
    // question 2 again with its nonce (Discord returns the message A created) and goes on.
    let (right, wrong) = right_and_wrong(&second);
    pick(&discord, &client, &b, "6001", &right, &second).await;
    pick(&discord, &client, &b, "6002", &wrong, &second).await;
    let third = question(&discord, 2).await;
    let (right, _) = right_and_wrong(&third);
    pick(&discord, &client, &b, "6001", &right, &third).await;
    pick(&discord, &client, &b, "6002", &right, &third).await;
    wait_scoreboard(&discord).await;

    let sends_of_second =
        discord.count_requests(|r| r.method == "POST" && r.body["embeds"][0]["title"] == "❓ Question 2/3");
    assert_eq!(sends_of_second, 2, "sent by A, then again by B after the takeover");
    let board = assert_each_posted_and_revealed_once(&discord, 3);
    assert_eq!(board, "1. <@6001> — 3 pt\n2. <@6002> — 1 pt", "{board}");
    let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiz_nobody_drove_for_more_than_10_minutes_is_closed_as_interrupted_and_nothing_is_posted() {
    let discord = FakeDiscord::start().await;
    // SQLite only: the test edits the stored state in place, with SQLite's JSON functions.
    let shared = SharedStore::sqlite().unwrap();
    let store = &shared;
    let client = reqwest::Client::new();
    let mut first_run = one_replica_with_a_quiz_answered_once(&discord, store, &client, "7001").await;
    first_run.kill();
    // As if the machine had been off for a while: the open question's deadline passed 11 minutes ago.
    {
        let connection = rusqlite::Connection::open(store.sqlite_path().unwrap()).unwrap();
        let long_ago = FastClock.now().millis() - 11 * 60 * 1000;
        let changed = connection
            .execute(
                "UPDATE sessions SET state = json_set(state, '$.session.phase.Open.deadline', ?1)",
                [long_ago],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let requests_before = discord.requests().len();
    let _second_run = Replica::start(&discord, store);
    discord.wait_commands_registered(2, WAIT).await;
    let deadline = Instant::now() + WAIT;
    let closed = loop {
        let session = store.open().session(1).unwrap().unwrap();
        if session.end.is_some() {
            break session;
        }
        assert!(Instant::now() < deadline, "the quiz was never closed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(closed.end, Some(SessionEnd::Interrupted));
    tokio::time::sleep(Duration::from_millis(2 * LEASE_MS)).await;
    // Nothing stale reached the channel: no reveal, no question, no scoreboard.
    let after: Vec<String> = discord.requests()[requests_before..]
        .iter()
        .filter(|r| r.path.contains("/channels/"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(after.is_empty(), "{after:?}");
    assert_eq!(discord.messages(CHANNEL_ID).len(), 1);
    // The answer given to the open question counts; the question asked while nobody was there is no
    // one's miss. The pending effects are dropped, so no replica comes back to the quiz.
    let store = store.open();
    assert!(store.running_quizzes().unwrap().is_empty());
    let attempts = store.attempts(1).unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.question_index, a.correct))
            .collect::<Vec<_>>(),
        [(0, true)]
    );
    assert_eq!(
        store.scores(1).unwrap().iter().map(|s| s.points).collect::<Vec<_>>(),
        [1]
    );
}

replica_tests!(
    two_replicas_serve_one_quiz_and_the_survivor_finishes_it_when_the_other_is_killed,
    a_sigterm_with_hand_over_leaves_the_quiz_to_the_other_replica_and_posts_nothing,
    a_restart_of_the_only_replica_resumes_its_quiz,
    a_kill_9_of_a_serve_process_while_its_question_post_is_in_flight_gives_one_message_per_question,
);
