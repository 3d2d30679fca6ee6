//! The daily question's background task: one tokio task for every server. It asks the pure schedule for
//! the earliest deadline (a post or a reveal) across guilds, sleeps until then, and `select!`s on that sleep,
//! a schedule-change notification and shutdown.
//!
//! Exactly once per slot: a slot is recorded in the store (state `recorded`, with its question) before
//! anything is sent, and marked `sent` with the message id after. A slot found `recorded` but not `sent`
//! (the process died in between, or the send failed) is resolved by looking for the post in the channel
//! first (every post carries its slot's marker) and sending only if it is not there: never lost, never
//! twice. Posting and looking are behind `DailyHost`, so tests run this loop with a paused tokio clock and
//! a fake host, and the Discord adapter implements the host over REST.
//!
//! Several replicas sharing a store each run this loop. Recording a slot is an insert that one replica
//! wins; the winner holds a claim on the slot for `CLAIM_FOR`, and the others leave the slot alone while
//! the claim is live. A recorded slot whose claim lapsed (its replica died before marking it sent) is
//! claimed and resolved as above by another replica; a post that reached Discord after all is sent again
//! with the same enforced nonce, which returns the first message. A reveal is claimed the same way.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use crate::clock::{Clock, Timestamp};
use crate::daily::schedule::{DailySchedule, Slot};
use crate::store::{DailyPost, DailyPostState, Lease, NewDailyPost, Recorded, Store};

/// Never sleep longer than this in one go: a wall clock that jumps (suspend, NTP) is re-read at least
/// this often.
pub const MAX_SLEEP: Duration = Duration::from_secs(300);
/// After a failed send or reveal, or one another replica has claimed, look again this much later.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long a replica's claim on a slot's send or reveal holds: a replica that died holding it is taken
/// over this long after it claimed. (A send slower than this may be repeated by the replica taking over,
/// with the same enforced nonce: Discord returns the first message.)
pub const CLAIM_FOR: Duration = Duration::from_secs(60);

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp::from_utc(at)
}

/// What the scheduler needs from the bot: the store, a question, and the channel.
pub trait DailyHost: Send + Sync + 'static {
    /// This replica's id, as the owner of its claims on slots (unique per run).
    fn replica(&self) -> &str;
    /// Runs `work` with the store locked (briefly: no await inside).
    fn with_store<R>(&self, work: impl FnOnce(&mut dyn Store) -> R) -> R;
    /// The question for a slot, or `None` when the server's bank has nothing that fits.
    fn choose(&self, schedule: &DailySchedule, slot_id: &str) -> Option<String>;
    /// Sends the post of `slot_id` (its question, answer buttons and marker); returns the message id.
    fn send(
        &self,
        schedule: &DailySchedule,
        slot_id: &str,
        question_id: &str,
    ) -> impl Future<Output = anyhow::Result<String>> + Send;
    /// The message id of this slot's post if it is already in the channel.
    fn find(
        &self,
        schedule: &DailySchedule,
        channel: &str,
        slot_id: &str,
    ) -> impl Future<Output = anyhow::Result<Option<String>>> + Send;
    /// Edits the post to show the answer, the share right and streaks.
    fn reveal(&self, schedule: &DailySchedule, post: &DailyPost) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// What `post_slot` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// The slot's post is in the channel (sent now, found there, or sent before): its message id.
    Sent(String),
    /// Nothing fits the schedule: nothing recorded, nothing sent.
    NothingFits,
    /// Another replica recorded the slot or holds its claim: it sends the post; look again later.
    ClaimedElsewhere,
}

fn claim_until(now: DateTime<Utc>) -> Timestamp {
    timestamp(now + chrono::Duration::from_std(CLAIM_FOR).unwrap_or_default())
}

/// Posts a slot exactly once, whichever replica gets to it first.
pub async fn post_slot<H: DailyHost>(
    host: &H,
    schedule: &DailySchedule,
    slot_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Posted> {
    let existing = host.with_store(|store| store.daily_post(&schedule.guild, slot_id))?;
    // A slot recorded before a `/daily set` moved the channel is finished where it was started.
    let mut target = schedule.clone();
    let question = match existing {
        Some(post) if post.state == DailyPostState::Sent => {
            return Ok(Posted::Sent(post.message_id.unwrap_or_default()));
        }
        Some(post) => {
            // Recorded, not marked sent: its replica is sending it, or died (or failed) before marking it.
            let claimed = host.with_store(|store| {
                store.claim_daily_post(
                    &schedule.guild,
                    slot_id,
                    DailyPostState::Recorded,
                    host.replica(),
                    timestamp(now),
                    claim_until(now),
                )
            })?;
            if !claimed {
                return Ok(Posted::ClaimedElsewhere);
            }
            // The send may have reached Discord before its replica died.
            if let Some(channel) = &post.channel {
                target.channel = channel.clone();
            }
            if let Some(message) = host.find(schedule, &target.channel, slot_id).await? {
                tracing::info!(guild = %schedule.guild, slot = slot_id, "daily post found in the channel: marking it sent");
                host.with_store(|store| store.mark_daily_sent(&schedule.guild, slot_id, &message, timestamp(now)))?;
                return Ok(Posted::Sent(message));
            }
            post.question_id
        }
        None => {
            let Some(question) = host.choose(schedule, slot_id) else {
                tracing::warn!(guild = %schedule.guild, slot = slot_id, "no question fits the daily schedule");
                return Ok(Posted::NothingFits);
            };
            // Recorded first: from here on a restart resolves this slot instead of choosing again. Of
            // replicas recording it at once, one wins and sends; the others leave it to the winner.
            let new = NewDailyPost {
                guild: schedule.guild.clone(),
                slot: slot_id.to_string(),
                channel: schedule.channel.clone(),
                question_id: question.clone(),
                at: timestamp(now),
            };
            let claim = Lease {
                owner: host.replica().to_string(),
                until: Some(claim_until(now)),
            };
            if host.with_store(|store| store.record_daily_post(&new, &claim))? == Recorded::Duplicate {
                return Ok(Posted::ClaimedElsewhere);
            }
            question
        }
    };
    let message = host.send(&target, slot_id, &question).await?;
    host.with_store(|store| store.mark_daily_sent(&schedule.guild, slot_id, &message, timestamp(now)))?;
    tracing::info!(guild = %schedule.guild, slot = slot_id, question, "daily question posted");
    Ok(Posted::Sent(message))
}

/// The slot a stored post belongs to, for its reveal time (`None` for `/daily now` trials, named `try-…`).
fn slot_of(schedule: &DailySchedule, post: &DailyPost) -> Option<Slot> {
    let date = chrono::NaiveDate::parse_from_str(&post.slot, "%Y-%m-%d").ok()?;
    Some(Slot {
        date,
        at: crate::daily::schedule::resolve_local(schedule.zone, date.and_time(schedule.time)),
    })
}

/// When a sent post is revealed.
pub fn reveal_time(schedule: &DailySchedule, post: &DailyPost) -> DateTime<Utc> {
    match slot_of(schedule, post) {
        Some(slot) => schedule.reveal_at(&slot),
        // A trial post: revealed after the schedule's reveal hours, counted from when it was sent.
        None => {
            let sent = post.sent_at.unwrap_or(post.recorded_at).0;
            let sent = DateTime::from_timestamp_millis(sent).unwrap_or_default();
            match schedule.reveal {
                crate::daily::schedule::Reveal::AfterHours(hours) => sent + chrono::Duration::hours(i64::from(hours)),
                crate::daily::schedule::Reveal::WithNextPost => schedule.next_post_after(sent),
            }
        }
    }
}

/// Does everything due at `now` and returns the next deadline.
pub async fn tick<H: DailyHost>(host: &H, now: DateTime<Utc>) -> DateTime<Utc> {
    let mut next = now + chrono::Duration::from_std(MAX_SLEEP).unwrap_or_default();
    let retry = now + chrono::Duration::from_std(RETRY_AFTER).unwrap_or_default();
    let schedules = match host.with_store(|store| store.daily_schedules()) {
        Ok(schedules) => schedules,
        Err(error) => {
            tracing::error!("reading daily schedules failed: {error:#}");
            return retry;
        }
    };
    for schedule in &schedules {
        // `/daily off` stops new posts; a post already out is still revealed.
        if schedule.enabled {
            if let Some(slot) = schedule.slot_for(now) {
                match post_slot(host, schedule, &slot.id(), now).await {
                    Ok(Posted::Sent(_) | Posted::NothingFits) => {}
                    // Another replica is on it: look again in case it dies before marking it sent.
                    Ok(Posted::ClaimedElsewhere) => next = next.min(retry),
                    Err(error) => {
                        tracing::error!(guild = %schedule.guild, slot = %slot.id(), "daily post failed: {error:#}");
                        next = next.min(retry);
                    }
                }
            }
            next = next.min(schedule.next_post_after(now));
        }
        let posts = host
            .with_store(|store| store.daily_posts(&schedule.guild))
            .unwrap_or_default();
        for post in posts
            .iter()
            .filter(|p| p.state == DailyPostState::Sent && p.revealed_at.is_none())
        {
            let at = reveal_time(schedule, post);
            if at > now {
                next = next.min(at);
                continue;
            }
            // One replica reveals: the one that claims it. Another looks again later, in case it dies.
            let claimed = host.with_store(|store| {
                store.claim_daily_post(
                    &schedule.guild,
                    &post.slot,
                    DailyPostState::Sent,
                    host.replica(),
                    timestamp(now),
                    claim_until(now),
                )
            });
            match claimed {
                Ok(true) => {}
                Ok(false) => {
                    next = next.min(retry);
                    continue;
                }
                Err(error) => {
                    tracing::error!(guild = %schedule.guild, slot = %post.slot, "claiming a daily reveal failed: {error:#}");
                    next = next.min(retry);
                    continue;
                }
            }
            match host.reveal(schedule, post).await {
                Ok(()) => {
                    let marked =
                        host.with_store(|store| store.mark_daily_revealed(&schedule.guild, &post.slot, timestamp(now)));
                    if let Err(error) = marked {
                        tracing::error!("recording a reveal failed: {error:#}");
                    }
                }
                Err(error) => {
                    tracing::error!(guild = %schedule.guild, slot = %post.slot, "daily reveal failed: {error:#}");
                    next = next.min(retry);
                }
            }
        }
    }
    next
}

/// The scheduler: runs until `shutdown` turns true (or its sender is gone). `changed` wakes it when a
/// schedule is set, so a new time takes effect at once.
pub async fn run<H: DailyHost>(
    host: Arc<H>,
    clock: Arc<dyn Clock>,
    changed: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let next = tick(&*host, clock.utc()).await;
        let wait = clock.sleep_for((next - clock.utc()).to_std().unwrap_or_default().min(MAX_SLEEP));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = changed.notified() => {}
            result = shutdown.changed() => if result.is_err() || *shutdown.borrow() { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::daily::schedule::{Days, Reveal, parse_time, parse_zone};
    use crate::store::SqliteStore;

    /// A clock that reads `start` at creation and then runs with tokio's paused clock.
    struct TokioClock {
        start: DateTime<Utc>,
        at: tokio::time::Instant,
    }

    impl TokioClock {
        fn starting_at(start: DateTime<Utc>) -> TokioClock {
            TokioClock {
                start,
                at: tokio::time::Instant::now(),
            }
        }
    }

    impl Clock for TokioClock {
        fn now(&self) -> Timestamp {
            let elapsed = tokio::time::Instant::now().duration_since(self.at);
            timestamp(self.start).plus_millis(elapsed.as_millis() as i64)
        }
    }

    /// A channel in memory, and a switch that makes the next send reach the channel and then fail, as if
    /// the process died before recording it.
    struct Fake {
        store: Mutex<SqliteStore>,
        messages: Mutex<Vec<(String, String)>>,
        die_after_next_send: AtomicBool,
        fail_next_send: AtomicBool,
        reveals: Mutex<Vec<String>>,
        _dir: tempfile::TempDir,
    }

    impl Fake {
        fn new() -> Arc<Fake> {
            let dir = tempfile::tempdir().unwrap();
            let store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
            Arc::new(Fake {
                store: Mutex::new(store),
                messages: Mutex::default(),
                die_after_next_send: AtomicBool::new(false),
                fail_next_send: AtomicBool::new(false),
                reveals: Mutex::default(),
                _dir: dir,
            })
        }

        fn slots_posted(&self) -> Vec<String> {
            self.messages
                .lock()
                .unwrap()
                .iter()
                .map(|(_, slot)| slot.clone())
                .collect()
        }
    }

    impl DailyHost for Fake {
        fn replica(&self) -> &str {
            "replica:test"
        }

        fn with_store<R>(&self, work: impl FnOnce(&mut dyn Store) -> R) -> R {
            work(&mut *self.store.lock().unwrap())
        }

        fn choose(&self, _: &DailySchedule, slot_id: &str) -> Option<String> {
            Some(format!("q-{slot_id}"))
        }

        async fn send(&self, _: &DailySchedule, slot_id: &str, _: &str) -> anyhow::Result<String> {
            if self.fail_next_send.swap(false, Ordering::SeqCst) {
                anyhow::bail!("Discord unreachable");
            }
            let mut messages = self.messages.lock().unwrap();
            let id = format!("m{}", messages.len() + 1);
            messages.push((id.clone(), slot_id.to_string()));
            if self.die_after_next_send.swap(false, Ordering::SeqCst) {
                anyhow::bail!("connection reset after the message was created");
            }
            Ok(id)
        }

        async fn find(&self, _: &DailySchedule, _: &str, slot_id: &str) -> anyhow::Result<Option<String>> {
            Ok(self
                .messages
                .lock()
                .unwrap()
                .iter()
                .find(|(_, slot)| slot == slot_id)
                .map(|(id, _)| id.clone()))
        }

        async fn reveal(&self, _: &DailySchedule, post: &DailyPost) -> anyhow::Result<()> {
            self.reveals.lock().unwrap().push(post.slot.clone());
            Ok(())
        }
    }

    fn tokyo_nine() -> DailySchedule {
        DailySchedule {
            guild: "g".into(),
            channel: "c".into(),
            time: parse_time("09:00").unwrap(),
            zone: parse_zone("Asia/Tokyo").unwrap(),
            days: Days::EVERY_DAY,
            role: None,
            reveal: Reveal::AfterHours(12),
            topic: None,
            thread: false,
            enabled: true,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    struct Running {
        stop: watch::Sender<bool>,
        changed: Arc<Notify>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Running {
        /// Stops the scheduler and checks that it ends at once.
        async fn stop_and_join(self) {
            self.stop.send(true).unwrap();
            tokio::time::timeout(Duration::from_secs(1), self.task)
                .await
                .unwrap()
                .unwrap();
        }
    }

    fn start(host: &Arc<Fake>, clock: &Arc<TokioClock>) -> Running {
        let (stop, shutdown) = watch::channel(false);
        let changed = Arc::new(Notify::new());
        let task = tokio::spawn(run(host.clone(), clock.clone(), changed.clone(), shutdown));
        Running { stop, changed, task }
    }

    async fn wait(seconds: u64) {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn posts_at_the_set_time_reveals_later_and_posts_again_the_next_day() {
        let host = Fake::new();
        host.with_store(|s| s.set_daily_schedule(&tokyo_nine())).unwrap();
        // 08:59 in Tokyo.
        let clock = Arc::new(TokioClock::starting_at(utc("2026-11-26T23:59:00Z")));
        let running = start(&host, &clock);
        wait(59).await;
        assert!(host.slots_posted().is_empty(), "posted early");
        wait(2).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        let post = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
        assert_eq!(
            (post.state, post.message_id.as_deref()),
            (DailyPostState::Sent, Some("m1"))
        );
        wait(12 * 3600 - 120).await;
        assert!(host.reveals.lock().unwrap().is_empty(), "revealed early");
        wait(120).await;
        assert_eq!(*host.reveals.lock().unwrap(), ["2026-11-27"]);
        wait(12 * 3600).await;
        assert_eq!(host.slots_posted(), ["2026-11-27", "2026-11-28"]);
        assert_eq!(*host.reveals.lock().unwrap(), ["2026-11-27"]);
        running.stop_and_join().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_restart_after_sending_but_before_recording_it_finds_the_post_instead_of_sending_again() {
        let host = Fake::new();
        host.with_store(|s| s.set_daily_schedule(&tokyo_nine())).unwrap();
        host.die_after_next_send.store(true, Ordering::SeqCst);
        let clock = Arc::new(TokioClock::starting_at(utc("2026-11-26T23:59:30Z")));
        let running = start(&host, &clock);
        wait(31).await;
        // The message is in the channel; the store still says `recorded`. The process "dies".
        running.task.abort();
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        let post = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
        assert_eq!(post.state, DailyPostState::Recorded);
        // On restart the slot is resolved from the channel: marked sent, nothing sent twice.
        let running = start(&host, &clock);
        wait(1).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        let post = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
        assert_eq!(
            (post.state, post.message_id.as_deref()),
            (DailyPostState::Sent, Some("m1"))
        );
        running.task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_another_replica_recorded_is_left_to_it_until_its_claim_lapses_then_posted_once() {
        let host = Fake::new();
        host.with_store(|s| s.set_daily_schedule(&tokyo_nine())).unwrap();
        // Another replica recorded 09:00's slot, claimed until 09:01, and died before sending it.
        let post = NewDailyPost {
            guild: "g".into(),
            slot: "2026-11-27".into(),
            channel: "c".into(),
            question_id: "q-other".into(),
            at: timestamp(utc("2026-11-27T00:00:00Z")),
        };
        let claim = Lease {
            owner: "replica:dead".into(),
            until: Some(timestamp(utc("2026-11-27T00:01:00Z"))),
        };
        host.with_store(|s| s.record_daily_post(&post, &claim)).unwrap();
        let clock = Arc::new(TokioClock::starting_at(utc("2026-11-27T00:00:01Z")));
        let running = start(&host, &clock);
        wait(58).await;
        assert!(
            host.slots_posted().is_empty(),
            "sent while another replica's claim was live"
        );
        wait(RETRY_AFTER.as_secs() + 1).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        let post = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
        assert_eq!(
            (post.question_id.as_str(), post.state),
            ("q-other", DailyPostState::Sent)
        );
        wait(3600).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        running.task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_send_that_never_reached_discord_is_retried_and_not_lost() {
        let host = Fake::new();
        host.with_store(|s| s.set_daily_schedule(&tokyo_nine())).unwrap();
        host.fail_next_send.store(true, Ordering::SeqCst);
        let clock = Arc::new(TokioClock::starting_at(utc("2026-11-26T23:59:30Z")));
        let running = start(&host, &clock);
        wait(31).await;
        assert!(host.slots_posted().is_empty());
        wait(RETRY_AFTER.as_secs() + 1).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        // The question chosen before the failure is the one sent.
        let post = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
        assert_eq!(
            (post.question_id.as_str(), post.state),
            ("q-2026-11-27", DailyPostState::Sent)
        );
        running.task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn down_at_post_time_catches_up_once_and_a_second_restart_posts_nothing() {
        let host = Fake::new();
        host.with_store(|s| s.set_daily_schedule(&tokyo_nine())).unwrap();
        // Up at 10:30 Tokyo, after a night down: the 09:00 slot is posted now, and only that one.
        let clock = Arc::new(TokioClock::starting_at(utc("2026-11-27T01:30:00Z")));
        let running = start(&host, &clock);
        wait(1).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        running.task.abort();
        let running = start(&host, &clock);
        wait(1).await;
        running.task.abort();
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_schedule_change_wakes_the_sleeping_task_and_shutdown_stops_it() {
        let host = Fake::new();
        host.with_store(|s| s.set_daily_schedule(&tokyo_nine())).unwrap();
        // 06:00 Tokyo: asleep until 09:00 (in MAX_SLEEP steps).
        let clock = Arc::new(TokioClock::starting_at(utc("2026-11-26T21:00:00Z")));
        let running = start(&host, &clock);
        wait(10).await;
        let mut earlier = tokyo_nine();
        earlier.time = parse_time("06:01").unwrap();
        host.with_store(|s| s.set_daily_schedule(&earlier)).unwrap();
        running.changed.notify_one();
        wait(51).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        let post_sent = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
        assert_eq!(post_sent.sent_at, Some(timestamp(utc("2026-11-26T21:01:00Z"))));
        running.stop_and_join().await;
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_next_post_the_reveal_follows_the_next_slot_and_off_stops_posting() {
        let host = Fake::new();
        let mut schedule = tokyo_nine();
        schedule.reveal = Reveal::WithNextPost;
        schedule.days = Days::WEEKDAYS;
        host.with_store(|s| s.set_daily_schedule(&schedule)).unwrap();
        // Friday 2026-11-27 08:59 Tokyo.
        let clock = Arc::new(TokioClock::starting_at(utc("2026-11-26T23:59:00Z")));
        let running = start(&host, &clock);
        wait(61).await;
        assert_eq!(host.slots_posted(), ["2026-11-27"]);
        // Over the weekend: still open.
        wait(2 * 86400).await;
        assert!(host.reveals.lock().unwrap().is_empty());
        wait(86400).await;
        assert_eq!(host.slots_posted(), ["2026-11-27", "2026-11-30"]);
        assert_eq!(*host.reveals.lock().unwrap(), ["2026-11-27"]);
        schedule.enabled = false;
        host.with_store(|s| s.set_daily_schedule(&schedule)).unwrap();
        running.changed.notify_one();
        wait(3 * 86400).await;
        assert_eq!(host.slots_posted(), ["2026-11-27", "2026-11-30"]);
        // Off stops posts, not the reveal of the last one (due with what would have been the next post).
        assert_eq!(*host.reveals.lock().unwrap(), ["2026-11-27", "2026-11-30"]);
        running.task.abort();
    }
}
