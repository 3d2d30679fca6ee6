//! Two bot replicas in HTTP interactions mode in one process, as `tests/it/discord/replicas.rs` runs them:
//! each on a tokio runtime of its own (one worker thread, named after the replica), each with its own
//! connection to one shared store (an SQLite file or a PostgreSQL database), both posting to the local
//! Discord. Interactions reach them as Discord sends them: a POST signed with Ed25519 over timestamp ‖ body.
//!
//! Also here: the count of compare-and-swap saves that lost the race and were applied again. The quiz
//! engine logs each such retry (`jobs::quiz`, at debug level) and exposes no counter, so a tracing layer
//! counts those log events, per replica by the name of the thread that wrote them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tsumiage::clock::{Clock, SystemClock};
use tsumiage::config::Config;
use tsumiage::discord::Bot;
use tsumiage::quiz::library::Library;

use crate::server::{FakeDiscord, GUILD_ID};

/// The message `jobs::quiz` logs when a save lost the compare-and-swap and is applied again.
const RETRY_MESSAGE: &str = "quiz saved by another replica first: retrying";
/// The names of the two replicas, and of their runtimes' threads.
pub const NAMES: [&str; 2] = ["replica-a", "replica-b"];

/// The application's key pair in this tool, as in the tests: the local Discord signs with the private half.
fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn public_key_hex() -> String {
    hex(&signing_key().verifying_key().to_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts of what the replicas logged: lost compare-and-swap saves per replica, and errors.
#[derive(Default)]
pub struct LogCounts {
    retries: [AtomicUsize; 2],
    errors: AtomicUsize,
}

impl LogCounts {
    /// Retried saves so far, per replica.
    pub fn retries(&self) -> [usize; 2] {
        [0, 1].map(|i| self.retries[i].load(Ordering::Relaxed))
    }

    /// Errors logged so far by tsumiage (a save that gave up, a failed post, a store error).
    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }
}

struct CountingLayer(Arc<LogCounts>);

#[derive(Default)]
struct MessageOf(String);

impl Visit for MessageOf {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for CountingLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() == tracing::Level::ERROR {
            self.0.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut message = MessageOf::default();
        event.record(&mut message);
        if message.0 == RETRY_MESSAGE {
            let thread = std::thread::current();
            let replica = NAMES.iter().position(|name| thread.name() == Some(name));
            if let Some(replica) = replica {
                self.0.retries[replica].fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Installs the log: warnings and errors to stderr, and the counting layer (which sees only the quiz
/// engine's debug events and tsumiage's errors, so the load pays for nothing else).
pub fn install_log() -> Arc<LogCounts> {
    let counts = Arc::new(LogCounts::default());
    let counted = Targets::new()
        .with_target("tsumiage", tracing::Level::ERROR)
        .with_target("tsumiage::jobs::quiz", tracing::Level::DEBUG);
    let printed = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(Targets::new().with_default(tracing::Level::WARN));
    tracing_subscriber::registry()
        .with(CountingLayer(counts.clone()).with_filter(counted))
        .with(printed)
        .init();
    counts
}

/// One replica: its interactions URL and the runtime it runs on.
pub struct Replica {
    pub url: String,
    runtime: Option<tokio::runtime::Runtime>,
    terminate: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl Replica {
    /// Starts replica `number` (0 or 1) on 127.0.0.1 with the store `store` (a path or a `postgres://`
    /// URL), serving `library`.
    pub fn start(number: usize, discord: &FakeDiscord, store: &str, library: Library) -> Result<Replica> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(NAMES[number])
            .enable_all()
            .build()?;
        let mut config = Config::default();
        config.discord.api_base = Some(discord.base_url());
        config.discord.dev_guild_id = Some(GUILD_ID.parse()?);
        config.discord.reload_secs = 0.0;
        let store = tsumiage::store::open(store).context("opening the load's store")?;
        let bot = Arc::new(Bot::new(config, library, store, "load-token"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}/interactions", listener.local_addr()?);
        let verifier = tsumiage::discord::http::verifier(&public_key_hex())?;
        let (terminate, terminated) = tokio::sync::oneshot::channel::<()>();
        let served = runtime.spawn(async move {
            let shutdown = async move {
                let _ = terminated.await;
            };
            let served = match tokio::net::TcpListener::from_std(listener) {
                Ok(listener) => tsumiage::discord::http::run(bot, verifier, listener, shutdown).await,
                Err(error) => Err(error.into()),
            };
            if let Err(error) = served {
                tracing::error!("{} stopped: {error:#}", NAMES[number]);
            }
        });
        Ok(Replica {
            url,
            runtime: Some(runtime),
            terminate: Some(terminate),
            served: Some(served),
        })
    }

    /// Shuts the replica down as a SIGTERM does, waiting at most `patience` for it.
    pub async fn stop(mut self, patience: Duration) {
        if let Some(terminate) = self.terminate.take() {
            let _ = terminate.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = tokio::time::timeout(patience, served).await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        // Not `drop(runtime)`: that blocks, which a runtime's own context forbids.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Delivers `interaction` to the replica at `url` as Discord does (signed, now); returns the status, the
/// reply and the time from sending to the whole reply.
pub async fn deliver(client: &reqwest::Client, url: &str, interaction: &Value) -> Result<(u16, Value, Duration)> {
    let body = interaction.to_string();
    let timestamp = SystemClock.now().millis().div_euclid(1000).to_string();
    let signature = hex(&signing_key().sign(format!("{timestamp}{body}").as_bytes()).to_bytes());
    let started = Instant::now();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("x-signature-timestamp", timestamp)
        .header("x-signature-ed25519", signature)
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    let took = started.elapsed();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text)), took))
}
