//! HTTP interactions mode: Discord POSTs signed interactions; the reply is the response body.

use std::sync::Arc;

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

use super::process::ServeProcess;
use super::server::FakeDiscord;
use super::{WAIT, bot, config, slash};

struct Endpoint {
    url: String,
    bot: Arc<tsumiage::discord::Bot>,
    key: SigningKey,
    discord: FakeDiscord,
    _dir: tempfile::TempDir,
    client: reqwest::Client,
}

/// The application's key pair in these tests: Discord signs with the private half.
pub(super) fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// The public key as `DISCORD_PUBLIC_KEY` holds it.
pub(super) fn public_key_hex() -> String {
    signing_key()
        .verifying_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A request's signature headers: the Unix-seconds timestamp and the hex Ed25519 signature.
#[derive(Clone)]
pub(super) struct Signed {
    timestamp: String,
    signature: String,
}

impl Signed {
    /// Some signature (not a valid one) with the current timestamp.
    pub(super) fn garbage(signature: &str) -> Signed {
        Signed {
            timestamp: now_secs().to_string(),
            signature: signature.to_string(),
        }
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Posts `body` to an interactions endpoint as Discord does (with the signature headers when `signed` is
/// given); returns the status and the reply body.
pub(super) async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    signed: Option<Signed>,
) -> (u16, Value) {
    let body = body.to_string();
    let mut request = client.post(url).body(body.clone());
    if let Some(signed) = signed {
        request = request
            .header("x-signature-timestamp", signed.timestamp)
            .header("x-signature-ed25519", signed.signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Discord's signature of `body` now: Ed25519 over timestamp ‖ body.
pub(super) fn sign(key: &SigningKey, body: &Value) -> Signed {
    sign_at(key, body, now_secs())
}

/// As `sign`, with the timestamp `at` (Unix seconds).
pub(super) fn sign_at(key: &SigningKey, body: &Value, at: i64) -> Signed {
    sign_with_timestamp(key, body, &at.to_string())
}

/// As `sign`, with any timestamp header.
fn sign_with_timestamp(key: &SigningKey, body: &Value, timestamp: &str) -> Signed {
    let timestamp = timestamp.to_string();
    let message = format!("{timestamp}{body}");
    let signature = key
        .sign(message.as_bytes())
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Signed { timestamp, signature }
}

async fn endpoint() -> Endpoint {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key();
    let verifier = tsumiage::discord::http::verifier(&public_key_hex()).unwrap();
    // The wall clock: requests are signed with the present time, as Discord signs them.
    let mut bot = bot(config(&discord.base_url()), &dir);
    bot.clock = Arc::new(tsumiage::clock::SystemClock);
    let bot = Arc::new(bot);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/interactions", listener.local_addr().unwrap());
    tokio::spawn(tsumiage::discord::http::run(
        bot.clone(),
        verifier,
        listener,
        std::future::pending(),
    ));
    // Commands are registered through REST at start.
    discord.wait_commands_registered(1, WAIT).await;
    Endpoint {
        url,
        bot,
        key,
        discord,
        _dir: dir,
        client: reqwest::Client::new(),
    }
}

impl Endpoint {
    async fn post(&self, body: &Value, signed: Option<Signed>) -> (u16, Value) {
        post_signed(&self.client, &self.url, body, signed).await
    }

    fn sign(&self, body: &Value) -> Signed {
        sign(&self.key, body)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_ping_gets_pong_bad_signatures_get_401_and_a_signed_ask_is_answered() {
    let endpoint = endpoint().await;
    let ping =
        json!({"id": "1", "application_id": super::server::APPLICATION_ID, "type": 1, "token": "t", "version": 1});
    let (status, reply) = endpoint.post(&ping, Some(endpoint.sign(&ping))).await;
    assert_eq!((status, reply), (200, json!({"type": 1})));

    // A signature of another body, a garbage signature, none at all: 401 each.
    let other = json!({"type": 1, "x": 1});
    assert_eq!(endpoint.post(&ping, Some(endpoint.sign(&other))).await.0, 401);
    assert_eq!(
        endpoint.post(&ping, Some(Signed::garbage(&"00".repeat(64)))).await.0,
        401
    );
    assert_eq!(endpoint.post(&ping, Some(Signed::garbage("zz"))).await.0, 401);
    assert_eq!(endpoint.post(&ping, None).await.0, 401);

    let ask = slash(
        &endpoint.discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "Kinesis 保持期間"}]),
    );
    let (status, reply) = endpoint.post(&ask, Some(endpoint.sign(&ask))).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["type"], 4, "{reply}");
    assert!(reply["data"].to_string().contains("kinesis.md:"), "{reply}");
}

/// A free port on 127.0.0.1 (bound, then released for the process to bind).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `serve --http` accepts connections on `url` (failing with its log after `WAIT`).
async fn wait_listening(client: &reqwest::Client, url: &str, serve: &ServeProcess) {
    let started = std::time::Instant::now();
    while client
        .post(url)
        .header("x-signature-timestamp", now_secs().to_string())
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < WAIT,
            "serve --http never listened:\n{}",
            serve.stderr()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_serve_http_refuses_stale_and_future_requests_and_runs_a_replay_once() {
    let discord = FakeDiscord::start().await;
    let address = format!("127.0.0.1:{}", free_port());
    let mut serve = ServeProcess::start(
        &["--http", &address],
        &discord.base_url(),
        "http-test-token-never-logged",
        &[("DISCORD_PUBLIC_KEY", &public_key_hex())],
    );
    let url = format!("http://{address}/interactions");
    let client = reqwest::Client::new();
    let key = signing_key();
    let ping =
        json!({"id": "1", "application_id": super::server::APPLICATION_ID, "type": 1, "token": "t", "version": 1});
    wait_listening(&client, &url, &serve).await;
    let now = now_secs();
    assert_eq!(
        post_signed(&client, &url, &ping, Some(sign_at(&key, &ping, now))).await,
        (200, json!({"type": 1}))
    );
    for (what, signed) in [
        ("600 s old", sign_at(&key, &ping, now - 600)),
        ("an hour ahead", sign_at(&key, &ping, now + 3600)),
        ("not a number", sign_with_timestamp(&key, &ping, "soon")),
    ] {
        let (status, reply) = post_signed(&client, &url, &ping, Some(signed)).await;
        assert_eq!(status, 401, "{what}: {reply}");
    }

    // An exact replay (same body, signature and timestamp) of a `/quiz start` gets the first response again
    // and starts nothing: run twice, the second would answer that a quiz is already running.
    let start = slash(
        &discord,
        "1002",
        "quiz",
        json!([{"name": "start", "type": 1, "options": [{"name": "seconds", "type": 4, "value": 120}]}]),
    );
    let signed = sign(&key, &start);
    let first = post_signed(&client, &url, &start, Some(signed.clone())).await;
    assert_eq!(first.0, 200, "{}", first.1);
    let replayed = post_signed(&client, &url, &start, Some(signed)).await;
    assert_eq!(replayed, first);
    let posted = format!("/api/v10/channels/{}/messages", super::server::CHANNEL_ID);
    discord
        .wait_for("the first question", WAIT, |r| {
            r.iter().find(|r| r.method == "POST" && r.path == posted).map(|_| ())
        })
        .await;
    // A fresh `/quiz start` (a new id) does run, and is refused: the quiz above is the channel's only one.
    let again = slash(
        &discord,
        "1002",
        "quiz",
        json!([{"name": "start", "type": 1, "options": []}]),
    );
    let refused = post_signed(&client, &url, &again, Some(sign(&key, &again))).await;
    assert_eq!(refused.0, 200);
    assert_ne!(refused.1, first.1, "a new interaction runs");

    let status = serve.terminate(WAIT).await;
    let log = serve.stderr();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("replayed interaction"), "{log}");
    assert_eq!(serve.stdout(), "", "logs belong on stderr");
    assert_eq!(
        discord.count_requests(|r| r.method == "POST"
            && r.path == posted
            && r.body["components"].to_string().contains("\"q:")),
        1
    );
    assert!(!log.contains("http-test-token-never-logged"));
}

/// The value of the exposition's sample line for `series` (name and labels), if there is one.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// `GET base/path`: the status, the `Content-Type` and the body.
async fn get(client: &reqwest::Client, base: &str, path: &str) -> (u16, String, String) {
    let response = client.get(format!("{base}{path}")).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response.headers()[reqwest::header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_string();
    (status, content_type, response.text().await.unwrap())
}

/// `GET /healthz` once the process listens (it binds once notes, index and store are loaded).
async fn first_health(client: &reqwest::Client, base: &str, serve: &ServeProcess) -> (u16, String) {
    let started = std::time::Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await {
            return (response.status().as_u16(), response.text().await.unwrap());
        }
        assert!(
            started.elapsed() < WAIT,
            "serve --http never listened:\n{}",
            serve.stderr()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Someone breaks the store under a running replica: not ready, with the reason, and a store error counted;
/// repaired: ready again.
async fn a_broken_store_makes_it_unready_until_repaired(client: &reqwest::Client, base: &str, store: &std::path::Path) {
    let database = rusqlite::Connection::open(store).unwrap();
    database
        .execute_batch("ALTER TABLE users RENAME TO users_moved")
        .unwrap();
    let (status, _, reason) = get(client, base, "/healthz").await;
    assert_eq!(status, 503, "{reason}");
    assert!(
        reason.starts_with("store unavailable: ") && reason.contains("users"),
        "{reason}"
    );
    assert!(!reason.contains('\n'), "{reason}");
    let (_, _, broken) = get(client, base, "/metrics").await;
    // At least the health check's read (a quiz driver of this replica may have failed a call too).
    let errors = sample(&broken, "tsumiage_store_errors_total");
    assert!(errors.is_some_and(|errors| errors >= 1.0), "{broken}");
    database
        .execute_batch("ALTER TABLE users_moved RENAME TO users")
        .unwrap();
    assert_eq!(get(client, base, "/healthz").await.2, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_serve_http_reports_ready_and_its_metrics_count_a_signed_ask() {
    let discord = FakeDiscord::start().await;
    let address = format!("127.0.0.1:{}", free_port());
    let store_dir = tempfile::tempdir().unwrap();
    let store = store_dir.path().join("store.sqlite");
    let mut serve = ServeProcess::start(
        &["--http", &address],
        &discord.base_url(),
        "http-test-token-never-logged",
        &[
            ("DISCORD_PUBLIC_KEY", &public_key_hex()),
            ("TSUMIAGE_STORE", store.to_str().unwrap()),
        ],
    );
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    assert_eq!(first_health(&client, &base, &serve).await, (200, "ok".to_string()));

    let (status, content_type, before) = get(&client, &base, "/metrics").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    assert_eq!(sample(&before, "tsumiage_quizzes_running"), Some(0.0), "{before}");
    assert_eq!(sample(&before, "tsumiage_store_errors_total"), Some(0.0), "{before}");
    let asked = r#"tsumiage_interactions_total{command="ask",outcome="ok"}"#;
    assert_eq!(sample(&before, asked), None, "{before}");

    let url = format!("{base}/interactions");
    let ask = slash(
        &discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "Kinesis 保持期間"}]),
    );
    let (status, reply) = post_signed(&client, &url, &ask, Some(sign(&signing_key(), &ask))).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["data"].to_string().contains("kinesis.md:"), "{reply}");
    assert_eq!(post_signed(&client, &url, &ask, None).await.0, 401);

    // A quiz this replica drives shows in the gauge.
    let start = slash(
        &discord,
        "1002",
        "quiz",
        json!([{"name": "start", "type": 1, "options": [{"name": "seconds", "type": 4, "value": 120}]}]),
    );
    let (status, reply) = post_signed(&client, &url, &start, Some(sign(&signing_key(), &start))).await;
    assert_eq!(status, 200, "{reply}");

    // An interaction is counted once its reply is out, which is after the HTTP response reached us: the
    // scrape waits for it.
    let started = r#"tsumiage_interactions_total{command="quiz_start",outcome="ok"}"#;
    let waiting = std::time::Instant::now();
    let after = loop {
        let (_, _, after) = get(&client, &base, "/metrics").await;
        let counted =
            sample(&after, started).is_some() && sample(&after, "tsumiage_reply_latency_seconds_count") == Some(2.0);
        if counted || waiting.elapsed() > WAIT {
            break after;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(sample(&after, "tsumiage_quizzes_running"), Some(1.0), "{after}");
    assert_eq!(sample(&after, started), Some(1.0), "{after}");
    assert_eq!(sample(&after, asked), Some(1.0), "{after}");
    assert_eq!(
        sample(&after, "tsumiage_reply_latency_seconds_count"),
        Some(2.0),
        "{after}"
    );
    let unsigned = r#"tsumiage_http_rejected_total{reason="signature"}"#;
    assert_eq!(sample(&after, unsigned), Some(1.0), "{after}");

    a_broken_store_makes_it_unready_until_repaired(&client, &base, &store).await;

    let status = serve.terminate(WAIT).await;
    assert!(status.success(), "{status}:\n{}", serve.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_shutting_down_reports_not_ready_so_the_balancer_sends_elsewhere() {
    let endpoint = endpoint().await;
    let base = endpoint.url.trim_end_matches("/interactions").to_string();
    let (status, _, body) = get(&endpoint.client, &base, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    endpoint.bot.shutdown(std::time::Duration::from_secs(1)).await;
    let (status, _, body) = get(&endpoint.client, &base, "/healthz").await;
    assert_eq!((status, body.as_str()), (503, "shutting down"));
}
