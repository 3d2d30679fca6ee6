//! The quiz replica engine: Discord quizzes run from the store, so that any bot replica sharing it can
//! serve them. The core's `QuizSession` is saved (with what rendering needs) after every change, by
//! compare-and-swap: an input on any replica loads the quiz of its channel, applies the input with the pure
//! core and saves; a save that lost the race to another replica is retried on the fresh state. The effects
//! of a change (post question N, reveal question N, post the scoreboard) are recorded with it, and carried
//! out, in order, by the one replica holding the quiz's lease: its driver task renews the lease, ticks the
//! core at each deadline, and marks each effect sent after sending it through the `Outbox`. Posts carry a
//! nonce the chat enforces, so an effect resent after a crash between sending and marking creates no
//! second message; a reveal is an edit, harmless to repeat. A periodic sweep on every replica (and one at
//! start-up) takes over quizzes whose lease lapsed (their replica died), and closes as interrupted those
//! whose deadline passed more than ten minutes before anyone noticed. One quiz per channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};

use super::{Message, Outbox, SharedStore, lock};
use crate::clock::{Clock, Timestamp};
use crate::config::{Locale, QuizOnShutdown};
use crate::order::stable_hash;
use crate::quiz::session::SessionEnd;
use crate::quiz::session::{CloseReason, Event, Input, PlayerResult, QuizSession, ScoreLine};
use crate::review::Scheduler;
use crate::review::{AnswerRecord, record_answer};
use crate::store::owner::{self, Takeover};
use crate::store::versions;
use crate::store::{Cas, FinalScore, NewEffect, QuizEffect, SessionId, Store, StoreError};

/// A save that keeps losing to other replicas gives up after this many tries (each reloads first).
const CAS_TRIES: usize = 20;

/// A quiz as saved in the store: the core's session, and what the adapter needs to render it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedQuiz {
    /// The Discord channel id the quiz posts in, and its key in the store (`discord:<guild>:<channel>`).
    pub channel: u64,
    pub channel_key: String,
    /// Who started it: they may stop it.
    pub starter: u64,
    /// When it started: with the session id, what makes its posts' nonces unique (a new store file
    /// starts its session ids again).
    pub started_at: Timestamp,
    pub locale: Locale,
    pub seconds: u64,
    pub time_limit_ms: i64,
    pub session: QuizSession,
}

/// This replica's part: the quizzes a task of it drives, each with the bell that wakes its driver when an
/// input handled here changed the quiz. (Inputs handled by other replicas are seen at the next renewal.)
#[derive(Default)]
pub struct Quizzes {
    driving: Mutex<HashMap<SessionId, Driver>>,
    ended: Notify,
}

struct Driver {
    bell: Arc<Notify>,
    /// Claimed by `/quiz start`, started by `begin` once the reply is out.
    started: bool,
}

impl Quizzes {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Driver>> {
        self.driving.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claims `session` for a driver of this replica; `None` when one has it already.
    pub fn claim(&self, session: SessionId, started: bool) -> Option<Arc<Notify>> {
        let mut driving = self.lock();
        if driving.contains_key(&session) {
            return None;
        }
        let bell = Arc::new(Notify::new());
        driving.insert(
            session,
            Driver {
                bell: bell.clone(),
                started,
            },
        );
        Some(bell)
    }

    /// Starts the driver `/quiz start` claimed: its bell, once (`None` when it runs or is not claimed here).
    pub fn begin(&self, session: SessionId) -> Option<Arc<Notify>> {
        match self.lock().get_mut(&session) {
            Some(driver) if !driver.started => {
                driver.started = true;
                Some(driver.bell.clone())
            }
            _ => None,
        }
    }

    fn release(&self, session: SessionId) {
        self.lock().remove(&session);
        self.ended.notify_waiters();
    }

    /// How many quizzes this replica drives now (claimed or running).
    pub fn driving(&self) -> usize {
        self.lock().len()
    }

    fn is_driving(&self, session: SessionId) -> bool {
        self.lock().contains_key(&session)
    }

    fn wake(&self, session: SessionId) {
        if let Some(driver) = self.lock().get(&session) {
            driver.bell.notify_one();
        }
    }

    pub async fn wait_all_finished(&self) {
        loop {
            let notified = self.ended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.lock().is_empty() {
                return;
            }
            notified.await;
        }
    }
}

/// The effects a change's events call for, named so that each is recorded once per session.
pub fn effects_of(events: &[Event]) -> Vec<NewEffect> {
    events
        .iter()
        .filter_map(|event| {
            let name = match event {
                Event::QuestionAsked { index, .. } => format!("ask:{index}"),
                Event::QuestionClosed { index, .. } => format!("reveal:{index}"),
                Event::Finished { .. } => "finish".to_string(),
                Event::AnswerAccepted { .. } | Event::AnswerRefused { .. } => return None,
            };
            let payload = serde_json::to_string(event).ok()?;
            Some(NewEffect { effect: name, payload })
        })
        .collect()
}

/// The quiz engine on one replica: the store's ports, this replica's id (its lease owner id), its clock,
/// the lease length, what a shutdown does, the drivers running here, the shutdown signal, and `host`,
/// the chat the effects reach.
pub struct QuizJob<H> {
    pub store: SharedStore,
    pub replica: String,
    pub clock: Arc<dyn Clock>,
    /// How long a lease runs unless renewed; drivers renew it (and look for other replicas' changes) four
    /// times per lease, and the sweep runs as often.
    pub lease: Duration,
    pub on_shutdown: QuizOnShutdown,
    pub drivers: Arc<Quizzes>,
    pub shutdown: watch::Receiver<bool>,
    pub host: Arc<H>,
}

impl<H> Clone for QuizJob<H> {
    fn clone(&self) -> Self {
        QuizJob {
            store: self.store.clone(),
            replica: self.replica.clone(),
            clock: self.clock.clone(),
            lease: self.lease,
            on_shutdown: self.on_shutdown,
            drivers: self.drivers.clone(),
            shutdown: self.shutdown.clone(),
            host: self.host.clone(),
        }
    }
}

/// When a lease of `lease` taken at `now` runs out.
pub fn lease_until(lease: Duration, now: Timestamp) -> Timestamp {
    now.plus_millis(lease.as_millis() as i64)
}

impl<H: Outbox> QuizJob<H> {
    fn renew_every(&self) -> Duration {
        self.lease / 4
    }

    /// Loads the quiz, applies `change` with the core at the current time, and saves it by compare-and-swap
    /// with the effects of its events; when another replica saved first, reloads and applies again. `None`:
    /// no running quiz there.
    pub fn apply<T>(
        &self,
        target: Target,
        mut change: impl FnMut(&mut SavedQuiz, SessionId, Timestamp) -> (T, Vec<Event>),
    ) -> anyhow::Result<Option<Applied<T>>> {
        let mut store = lock(&self.store);
        for _ in 0..CAS_TRIES {
            let stored = match target {
                Target::Channel(channel) => store.running_quiz(channel)?,
                Target::Session(session) => store.quiz_state(session)?,
            };
            let Some(stored) = stored.filter(|stored| !stored.ended) else {
                return Ok(None);
            };
            let mut quiz: SavedQuiz = serde_json::from_str(&stored.state)?;
            let now = self.clock.now();
            let (value, events) = change(&mut quiz, stored.session, now);
            let state = serde_json::to_string(&quiz)?;
            // Nothing changed (a tick before the deadline, a refused input): nothing to save.
            if state == stored.state {
                return Ok(Some(Applied { quiz, value }));
            }
            match store.save_quiz_state(stored.session, stored.version, &state, &effects_of(&events), now)? {
                Cas::Saved(_) => {
                    drop(store);
                    self.drivers.wake(stored.session);
                    return Ok(Some(Applied { quiz, value }));
                }
                Cas::Conflict => tracing::debug!(
                    session = stored.session,
                    "quiz saved by another replica first: retrying"
                ),
            }
        }
        anyhow::bail!("the quiz kept changing under this replica ({CAS_TRIES} tries)")
    }

    /// Takes or renews this replica's lease on `session`.
    fn renew(&self, session: SessionId) -> Result<bool, StoreError> {
        self.take_over(session, self.clock.now())
    }

    /// Takes the lease on `session` as if it were `lapsed_at` (`owner::lapse_time`: later than now when
    /// its holder was a replica of this host that is gone), until a lease from now.
    fn take_over(&self, session: SessionId, lapsed_at: Timestamp) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let mut store = lock(&self.store);
        // Never a quiz a newer build saved: it may hold a state this build misreads. A lease this replica
        // holds on it is given up now, so a newer replica's sweep takes the quiz at once.
        if let Some(quiz) = store.quiz_state(session)?
            && !versions::allowed(&format!("quiz {session}"), quiz.saved_by.as_deref())
        {
            store.release_lease(session, &self.replica, now)?;
            return Ok(false);
        }
        store.take_lease(session, &self.replica, lapsed_at.max(now), lease_until(self.lease, now))
    }

    /// The driver of one quiz on the replica holding its lease: renews the lease, ticks the core at each
    /// deadline, carries out the recorded effects, and ends once the quiz is finished and closed in the store,
    /// or when another replica holds the lease. At shutdown it stops the quiz, or hands it over (gives up the
    /// lease, leaving any effect not yet sent to the next driver), as `discord.quiz_on_shutdown` says.
    pub async fn drive(self, session: SessionId, bell: Arc<Notify>) {
        let mut shutdown = self.shutdown.clone();
        loop {
            if *shutdown.borrow() && self.on_shutdown == QuizOnShutdown::HandOver {
                self.hand_over(session);
                break;
            }
            match self.renew(session) {
                Ok(true) => {}
                Ok(false) => {
                    tracing::info!(session, "quiz lease held by another replica: no longer driving it here");
                    break;
                }
                Err(error) => {
                    tracing::error!(session, "renewing a quiz lease failed: {error}");
                    tokio::time::sleep(self.clock.sleep_for(self.renew_every())).await;
                    continue;
                }
            }
            let stopping = *shutdown.borrow();
            let applied = self.apply(Target::Session(session), |quiz, _, now| {
                let input = if stopping { Input::Stop } else { Input::Tick };
                ((), quiz.session.handle(input, now))
            });
            let (quiz, ended) = match applied {
                Ok(Some(applied)) => (applied.quiz, false),
                // Ended: only its last effects may be left to carry out (the scoreboard, after a crash).
                Ok(None) => match self.load(session) {
                    Ok(Some(quiz)) => (quiz, true),
                    Ok(None) => break,
                    Err(error) => {
                        tracing::error!(session, "reading a quiz failed: {error:#}");
                        break;
                    }
                },
                Err(error) => {
                    tracing::error!(session, "updating a quiz failed: {error:#}");
                    tokio::time::sleep(self.clock.sleep_for(self.renew_every())).await;
                    continue;
                }
            };
            match self.carry_out(session, &quiz).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    tracing::error!(session, "carrying out a quiz's effects failed: {error:#}");
                    tokio::time::sleep(self.clock.sleep_for(self.renew_every())).await;
                    continue;
                }
            }
            if ended || quiz.session.is_finished() {
                break;
            }
            let now = self.clock.now();
            let until_deadline = quiz
                .session
                .next_deadline()
                .map_or(0, |deadline| deadline.millis_since(now)) as u64;
            let wait = self
                .clock
                .sleep_for(Duration::from_millis(until_deadline).min(self.renew_every()));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = bell.notified() => {}
                _ = shutdown.changed(), if !stopping => {}
            }
        }
        self.drivers.release(session);
    }

    /// Gives up this replica's lease on a quiz at shutdown, for another replica (or the next run) to take.
    fn hand_over(&self, session: SessionId) {
        let mut store = lock(&self.store);
        match store.release_lease(session, &self.replica, self.clock.now()) {
            Ok(true) => tracing::info!(session, "shutting down: quiz handed over"),
            Ok(false) => {}
            // The lease then lapses on its own within a lease period: the hand-over is only slower.
            Err(error) => tracing::error!(session, "releasing a quiz lease failed: {error}"),
        }
    }

    /// A quiz as stored, ended or not.
    fn load(&self, session: SessionId) -> anyhow::Result<Option<SavedQuiz>> {
        let store = lock(&self.store);
        match store.quiz_state(session)? {
            Some(stored) => Ok(Some(serde_json::from_str(&stored.state)?)),
            None => Ok(None),
        }
    }

    /// Closes a quiz nobody drove for too long, without posting anything: the answers already given count
    /// (those of questions revealed while nobody was there to post, and of the question left open), the
    /// session ends as interrupted with the core's scores, and its pending effects are dropped.
    fn close_stale(&self, session: SessionId, mut quiz: SavedQuiz, now: Timestamp) -> anyhow::Result<()> {
        let mut store = lock(&self.store);
        let pending: Vec<QuizEffect> = store
            .quiz_effects(session)?
            .into_iter()
            .filter(|e| e.sent_at.is_none())
            .collect();
        let mut closed: Vec<Event> = pending
            .iter()
            .filter_map(|e| serde_json::from_str::<Event>(&e.payload).ok())
            .collect();
        // The core closes the open question at its deadline (and any it would have asked since).
        closed.extend(quiz.session.handle(Input::Stop, now));
        for event in &closed {
            if let Event::QuestionClosed { index, results, .. } = event {
                record_results(&mut **store, session, &quiz, *index, results, true);
            }
        }
        let scores = final_scores(&mut **store, &quiz.session.scoreboard(), now)?;
        store.finish_session(session, SessionEnd::Interrupted, now, &scores)?;
        for effect in &pending {
            store.mark_effect_sent(session, &effect.effect, None, now)?;
        }
        Ok(())
    }

    /// Ends the quiz in the store with its final scores (once: a replay changes nothing).
    fn finish(&self, session: SessionId, reason: SessionEnd, scoreboard: &[ScoreLine]) -> anyhow::Result<()> {
        let mut store = lock(&self.store);
        let now = self.clock.now();
        let scores = final_scores(&mut **store, scoreboard, now)?;
        store.finish_session(session, reason, now, &scores)?;
        Ok(())
    }

    /// Carries out the quiz's pending effects in order, each marked sent after it is done. `Ok(false)`: the
    /// lease was lost, and the rest is left to its new holder.
    async fn carry_out(&self, session: SessionId, quiz: &SavedQuiz) -> anyhow::Result<bool> {
        let effects = {
            let store = lock(&self.store);
            store.quiz_effects(session)?
        };
        let mut messages: HashMap<String, String> = effects
            .iter()
            .filter_map(|e| Some((e.effect.clone(), e.message_id.clone()?)))
            .collect();
        let channel = quiz.channel.to_string();
        for effect in effects.iter().filter(|e| e.sent_at.is_none()) {
            // Checked before each send: a replica that lost its lease (it stalled past it) sends nothing more.
            if !self.renew(session)? {
                return Ok(false);
            }
            let event: Event = serde_json::from_str(&effect.payload)?;
            let message_id = self
                .carry_out_one(session, quiz, &channel, &effect.effect, event, &messages)
                .await?;
            if let Some(id) = &message_id {
                messages.insert(effect.effect.clone(), id.clone());
            }
            let mut store = lock(&self.store);
            store.mark_effect_sent(session, &effect.effect, message_id.as_deref(), self.clock.now())?;
        }
        Ok(true)
    }

    /// Carries out one effect (`name`, for `event`); returns the id of the message it posted. A failed send
    /// is logged and counts as done, as a dropped message would.
    async fn carry_out_one(
        &self,
        session: SessionId,
        quiz: &SavedQuiz,
        channel: &str,
        name: &str,
        event: Event,
        messages: &HashMap<String, String>,
    ) -> anyhow::Result<Option<String>> {
        let (locale, total) = (quiz.locale, quiz.session.questions().len());
        let message = match &event {
            Event::QuestionAsked { index, .. } => {
                let question = &quiz.session.questions()[*index];
                lock(&self.store).set_last_shown(&quiz.channel_key, &question.id, self.clock.now())?;
                let seconds = quiz.seconds;
                Message::QuizQuestion {
                    locale,
                    session,
                    index: *index,
                    total,
                    question,
                    seconds,
                }
            }
            Event::QuestionClosed {
                index, reason, results, ..
            } => {
                let question = &quiz.session.questions()[*index];
                // A stopped question leaves out who had not answered yet; a timed-out one counts them as misses.
                let answered_only = *reason == CloseReason::Stopped;
                record_results(&mut **lock(&self.store), session, quiz, *index, results, answered_only);
                let Some(id) = messages.get(&format!("ask:{index}")) else {
                    return Ok(None);
                };
                let reveal = Message::QuizReveal {
                    locale,
                    index: *index,
                    total,
                    question,
                    results,
                    reason: *reason,
                };
                if let Err(error) = self.host.edit(channel, id, reveal).await {
                    tracing::error!("revealing a quiz answer failed: {error:#}");
                }
                return Ok(None);
            }
            Event::Finished { reason, scoreboard } => {
                // Scores first, as before replicas: once the scoreboard is out, /leaderboard shows it. An
                // ended session with this effect pending is still found by the sweep, so the post follows.
                self.finish(session, *reason, scoreboard)?;
                Message::Scoreboard {
                    locale,
                    scoreboard,
                    reason: *reason,
                }
            }
            Event::AnswerAccepted { .. } | Event::AnswerRefused { .. } => return Ok(None),
        };
        match self.host.post(channel, message, &nonce(session, quiz, name)).await {
            Ok(id) => Ok(Some(id)),
            Err(error) => {
                tracing::error!(effect = name, "posting a quiz message failed: {error:#}");
                Ok(None)
            }
        }
    }

    /// The sweep, on every replica: at start-up and then four times per lease, takes over quizzes whose
    /// lease lapsed, or closes them as interrupted when they are long dead. Stops at shutdown.
    pub async fn sweep(self) {
        let mut shutdown = self.shutdown.clone();
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(error) = self.sweep_once() {
                tracing::error!("looking for orphaned quizzes failed: {error:#}");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.clock.sleep_for(self.renew_every())) => {}
                result = shutdown.changed() => if result.is_err() || *shutdown.borrow() { return },
            }
        }
    }

    fn sweep_once(&self) -> anyhow::Result<()> {
        let running = {
            let store = lock(&self.store);
            store.running_quizzes()?
        };
        for quiz in running {
            let saved: SavedQuiz = match serde_json::from_str(&quiz.state) {
                Ok(saved) => saved,
                Err(error) => {
                    tracing::error!(session = quiz.session, "a stored quiz is unreadable: {error}");
                    continue;
                }
            };
            let now = self.clock.now();
            let driving = self.drivers.is_driving(quiz.session);
            // A lease held by a dead replica of this host (this process before a crash) lapsed already.
            let lapsed_at = owner::lapse_time(&quiz.lease, &self.replica, now);
            let mut judged = quiz.clone();
            if lapsed_at > now {
                judged.lease.until = Some(now);
            }
            match owner::takeover(&judged, &self.replica, driving, saved.session.next_deadline(), now) {
                Takeover::Leave => {}
                Takeover::Resume => {
                    let Some(bell) = self.drivers.claim(quiz.session, true) else {
                        continue;
                    };
                    if self.take_over(quiz.session, lapsed_at)? {
                        tracing::info!(session = quiz.session, from = %quiz.lease.owner, "taking over a quiz whose lease lapsed");
                        tokio::spawn(self.clone().drive(quiz.session, bell));
                    } else {
                        self.drivers.release(quiz.session);
                    }
                }
                Takeover::Interrupted => {
                    // The lease first, so no other replica resumes it while it is being closed.
                    if self.take_over(quiz.session, lapsed_at)? {
                        self.close_stale(quiz.session, saved, now)?;
                        tracing::info!(
                            session = quiz.session,
                            "closed a quiz left without a replica for too long"
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// What to load: a channel's running quiz (inputs from players) or a session (its driver).
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Channel(&'a str),
    Session(SessionId),
}

/// A change applied and saved (or nothing to save).
pub struct Applied<T> {
    pub quiz: SavedQuiz,
    pub value: T,
}

/// Records the results of one closed question as attempts, with the players' review cards. Idempotent: a
/// reveal carried out again after a crash records nothing twice.
fn record_results(
    store: &mut dyn Store,
    session: SessionId,
    quiz: &SavedQuiz,
    index: usize,
    results: &[PlayerResult],
    answered_only: bool,
) {
    let question = &quiz.session.questions()[index];
    let scheduler = Scheduler::default();
    for result in results {
        if answered_only && result.answer.is_none() {
            continue;
        }
        let record = AnswerRecord {
            session,
            index,
            question,
            player: &player_name_of(&result.player),
            result,
            time_limit_ms: quiz.time_limit_ms,
        };
        if let Err(error) = record_answer(store, &scheduler, &record) {
            tracing::error!("recording an attempt failed: {error}");
        }
    }
}

/// The scoreboard as the store keeps it: each player as a user of the store, with points and rank.
fn final_scores(
    store: &mut dyn Store,
    scoreboard: &[ScoreLine],
    now: Timestamp,
) -> Result<Vec<FinalScore>, StoreError> {
    scoreboard
        .iter()
        .map(|line| {
            store.user(&player_name_of(&line.player), now).map(|user| FinalScore {
                user,
                points: line.points,
                rank: line.rank,
            })
        })
        .collect()
}

/// The nonce of a post (Discord: at most 25 characters): with `enforce_nonce`, a post resent after a
/// crash returns the first message instead of creating a second.
fn nonce(session: SessionId, quiz: &SavedQuiz, effect: &str) -> String {
    let key = format!(
        "tsumiage quiz {} {} {effect}",
        quiz.channel_key,
        quiz.started_at.millis()
    );
    format!("{:x}", stable_hash(session as u64, &key))
}

/// A player of a chat quiz (a Discord user id) as a user of the store: `discord:<id>`, as the bot names
/// everyone who answers.
fn player_name_of(player: &str) -> String {
    match player.parse::<u64>() {
        Ok(id) => format!("discord:{id}"),
        Err(_) => player.to_string(),
    }
}

#[cfg(test)]
mod tests;
