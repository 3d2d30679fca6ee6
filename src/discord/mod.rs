//! The Discord adapter: slash commands, buttons and modals over the core. `interaction` is the shared
//! vocabulary (typed custom ids, response kinds, refusals, option readers); `router` sends each
//! interaction to its command in `commands/` (one module per command the user types, with its views);
//! `views` holds Discord's limits and the posts the engines send; `quiz` (channel quizzes over the store,
//! by any replica) and `daily` (the daily question's host) are the engines. Two transports share the same
//! router: the gateway (`gateway`, serenity's client) and HTTP interactions (`http`, Ed25519-verified).
//! REST calls go through `rest`, which honours 429s. `metrics` counts what an operator watches (the router,
//! the outbox and the store feed it) and `health` tells whether the replica is ready; HTTP mode serves both.
//! Imports go one way: router → commands → engines → views → interaction.

pub mod commands;
pub mod daily;
pub mod gateway;
pub mod health;
pub mod http;
pub(crate) mod interaction;
pub mod metrics;
mod outbox;
mod quiz;
mod replay;
pub mod rest;
mod router;
mod signals;
pub mod views;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::config::{Config, Locale};
use crate::quiz::library::{Library, NotesSource};
use crate::store::Store;

pub use interaction::FirstReply;
pub use router::handle;

/// Everything the handlers share.
pub struct Bot {
    pub config: Config,
    library: RwLock<Arc<Library>>,
    pub(crate) store: crate::jobs::SharedStore,
    pub(crate) rest: rest::Rest,
    application_id: AtomicU64,
    pub(crate) quizzes: Arc<crate::jobs::quiz::Quizzes>,
    /// This replica's id as a quiz lease owner: unique per run.
    pub replica: String,
    background_started: AtomicBool,
    background_starts: AtomicUsize,
    commands_registered: AtomicUsize,
    shutdown: tokio::sync::watch::Sender<bool>,
    pub notes_source: Option<NotesSource>,
    /// The one clock every part of the bot reads: quizzes, the daily question, answers, review due times
    /// (tests pass in clocks of their own).
    pub clock: Arc<dyn Clock>,
    /// Wakes the daily scheduler when a schedule changes.
    pub(crate) daily_changed: Arc<tokio::sync::Notify>,
    /// The change counts (`store::Signals`) this replica made or acted on.
    pub(crate) heard: crate::jobs::signals::Heard,
    /// Interactions being handled now: shutdown waits for them.
    in_flight: AtomicUsize,
    idle: tokio::sync::Notify,
    /// What `/metrics` exposes (HTTP mode); the store counts its failures into it.
    pub(crate) metrics: Arc<metrics::Metrics>,
}

/// Counts one interaction as in flight until dropped.
pub(crate) struct InFlight<'a>(&'a Bot);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Bot {
    /// Start-up: waits until Discord's API answers with this bot's token (see
    /// `Rest::wait_until_reachable`); an error when the token is rejected, which no retry can fix.
    pub async fn reach_discord(&self) -> anyhow::Result<()> {
        self.rest.wait_until_reachable().await.map_err(|error| match error {
            rest::RestError::Status { status: 401, .. } => anyhow::anyhow!(
                "the Discord API at {} rejected the token (401 Unauthorized): check DISCORD_TOKEN",
                self.rest.base()
            ),
            other => anyhow::Error::new(other),
        })
    }

    pub fn new(config: Config, library: Library, store: impl Into<Box<dyn Store>>, token: &str) -> Bot {
        // Every question generated now, before the first `/quiz` waits for it.
        library.questions();
        let rest = rest::Rest::new(config.discord.api_base.as_deref(), token);
        let metrics = Arc::new(metrics::Metrics::new());
        let store = metrics::CountedStore::new(store.into(), metrics.store_errors());
        Bot {
            config,
            library: RwLock::new(Arc::new(library)),
            store: Arc::new(Mutex::new(Box::new(store))),
            rest,
            application_id: AtomicU64::new(0),
            quizzes: Arc::default(),
            replica: crate::store::owner::replica_id(replica_nonce(SystemClock.now())),
            background_started: AtomicBool::new(false),
            background_starts: AtomicUsize::new(0),
            commands_registered: AtomicUsize::new(0),
            shutdown: tokio::sync::watch::channel(false).0,
            notes_source: None,
            clock: Arc::new(SystemClock),
            daily_changed: Arc::default(),
            heard: Default::default(),
            in_flight: AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
            metrics,
        }
    }

    pub(crate) fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(self)
    }

    async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.in_flight.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    pub fn library(&self) -> Arc<Library> {
        self.library.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn swap_library(&self, library: Library) {
        *self.library.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(library);
    }

    pub fn locale_for(&self, user_locale: &str) -> Locale {
        match user_locale {
            l if l.starts_with("ja") => Locale::Ja,
            l if l.starts_with("en") => Locale::En,
            _ => self.config.locale,
        }
    }

    pub fn set_application_id(&self, id: u64) {
        self.application_id.store(id, Ordering::SeqCst);
    }

    pub fn application_id(&self) -> u64 {
        self.application_id.load(Ordering::SeqCst)
    }

    /// How many times the background tasks were started: 1 however often Ready fires.
    pub fn background_starts(&self) -> usize {
        self.background_starts.load(Ordering::SeqCst)
    }

    pub fn commands_registered(&self) -> usize {
        self.commands_registered.load(Ordering::SeqCst)
    }

    /// The counters, gauge and histogram `GET /metrics` exposes.
    pub fn metrics(&self) -> &metrics::Metrics {
        &self.metrics
    }

    /// Whether shutdown has begun (SIGTERM): the health check then reports the replica not ready.
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub(crate) fn shutdown_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// On each Ready: registers the commands and starts the background tasks, both only the first time.
    pub async fn on_ready(self: &Arc<Self>, application_id: u64) {
        self.set_application_id(application_id);
        if self.background_started.swap(true, Ordering::SeqCst) {
            tracing::info!("ready again (reconnect): background tasks already running");
            return;
        }
        self.background_starts.fetch_add(1, Ordering::SeqCst);
        match commands::register(self).await {
            Ok(count) => {
                self.commands_registered.fetch_add(1, Ordering::SeqCst);
                tracing::info!(count, "slash commands registered");
            }
            Err(error) => tracing::error!("registering slash commands failed: {error:#}"),
        }
        // Before the scheduler first reads the schedules: a change made after that read is acted on.
        crate::jobs::signals::hear_current(&**self);
        self.record_replica();
        self.start_daily();
        // Quizzes whose replica died (or this process, before a restart) are taken over from the store.
        tokio::spawn(self.quiz_job().sweep());
        // Another replica's /reload or schedule change, heard through the store.
        let signals = crate::jobs::signals::POLL;
        tokio::spawn(crate::jobs::signals::run(self.clone(), signals, self.shutdown_signal()));
        if let Some(source) = self.notes_source.clone()
            && self.config.discord.reload_secs > 0.0
        {
            let period = Duration::from_secs_f64(self.config.discord.reload_secs);
            let reload = crate::jobs::reload::run(self.clone(), source.notes, period, self.shutdown_signal());
            tokio::spawn(reload);
        }
    }

    /// Stops the running quizzes this replica drives (each posts its final scoreboard and is closed in the
    /// store), or hands them over (`discord.quiz_on_shutdown`), and lets the interactions in flight finish
    /// their replies, waiting at most `grace` in all.
    pub async fn shutdown(&self, grace: Duration) {
        let _ = self.shutdown.send(true);
        let finished = async {
            self.quizzes.wait_all_finished().await;
            self.wait_idle().await;
        };
        if tokio::time::timeout(grace, finished).await.is_err() {
            tracing::warn!(
                in_flight = self.in_flight.load(Ordering::SeqCst),
                "shutdown grace period over"
            );
        }
    }
}

/// A nonce for this replica's lease id: the start time and a per-process count, so two bots in one
/// process (tests) or two runs of one pid never share an id.
fn replica_nonce(started: Timestamp) -> u64 {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    started.millis() as u64 ^ COUNT.fetch_add(1, Ordering::SeqCst).rotate_left(48)
}

impl Bot {
    /// Reindexes the notes now and swaps them in (`/reload`); `Ok(None)` when the bot has no notes folder.
    /// Runs `work` with the store locked (briefly: no await inside).
    pub(crate) fn with_store<R>(&self, work: impl FnOnce(&mut dyn Store) -> R) -> R {
        work(&mut **self.store.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) async fn reload_now(&self) -> anyhow::Result<Option<usize>> {
        let Some(source) = self.notes_source.clone() else {
            return Ok(None);
        };
        let library = tokio::task::spawn_blocking(move || load_library(&source)).await??;
        let sections = library.index.meta.sections;
        self.swap_library(library);
        Ok(Some(sections))
    }
}

/// Reads the notes and generates every question (blocking: run it off the async threads), so the first
/// `/quiz` after a (re)load does not wait for the generation.
fn load_library(source: &NotesSource) -> Result<Library, crate::quiz::library::LibraryError> {
    let (library, _) = source.load(&mut |_| {})?;
    library.questions();
    Ok(library)
}

/// Whether the bot's library was built from the notes now on disk (unreadable notes count as a change).
async fn library_serves_disk(bot: &Bot, source: &NotesSource) -> bool {
    let notes = source.notes.clone();
    let library = bot.library();
    tokio::task::spawn_blocking(move || crate::notes::load_dir(&notes).is_ok_and(|set| library.index.serves(&set)))
        .await
        .unwrap_or(false)
}

impl crate::jobs::reload::Reloadable for Bot {
    async fn serves_disk(&self) -> bool {
        match &self.notes_source {
            Some(source) => library_serves_disk(self, source).await,
            None => true,
        }
    }

    async fn rebuild(&self) -> anyhow::Result<usize> {
        Ok(self.reload_now().await?.unwrap_or(0))
    }
}
