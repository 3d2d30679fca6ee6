//! The daily loop with a paused tokio clock, a fake chat and a real store.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::*;
use crate::daily::schedule::{Days, Reveal, parse_time, parse_zone};
use crate::store::{DailyAnswer, SqliteStore};

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
        Timestamp::from_utc(self.start).plus_millis(elapsed.as_millis() as i64)
    }
}

/// A channel in memory (message id, slot, marker), the questions served, and switches that make the
/// next send fail before reaching the channel, or reach it and then fail, as if the process died
/// before recording it.
struct Fake {
    store: SharedStore,
    questions: Vec<QuizQuestion>,
    messages: Mutex<Vec<(String, String, String)>>,
    die_after_next_send: AtomicBool,
    fail_next_send: AtomicBool,
    reveals: Mutex<Vec<String>>,
    /// Each reveal's answers, as the outbox received them.
    tallies: Mutex<Vec<Vec<(String, bool)>>>,
    _dir: tempfile::TempDir,
}

impl Fake {
    fn new() -> Arc<Fake> {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("s.sqlite")).unwrap();
        let store: Box<dyn Store> = Box::new(store);
        let questions = ["q-a", "q-b", "q-other"].map(|id| QuizQuestion::sample(id, 3, 'B'));
        Arc::new(Fake {
            store: Arc::new(Mutex::new(store)),
            questions: questions.to_vec(),
            messages: Mutex::default(),
            die_after_next_send: AtomicBool::new(false),
            fail_next_send: AtomicBool::new(false),
            reveals: Mutex::default(),
            tallies: Mutex::default(),
            _dir: dir,
        })
    }

    fn with_store<R>(&self, work: impl FnOnce(&mut dyn Store) -> R) -> R {
        work(&mut **lock(&self.store))
    }

    fn job(self: &Arc<Self>) -> DailyJob<Fake> {
        DailyJob {
            store: self.store.clone(),
            replica: "replica:test".into(),
            host: self.clone(),
        }
    }

    fn slots_posted(&self) -> Vec<String> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .map(|(_, slot, _)| slot.clone())
            .collect()
    }
}

impl Questions for Fake {
    fn with_questions<R>(&self, read: impl FnOnce(&[QuizQuestion]) -> R) -> R {
        read(&self.questions)
    }
}

impl Outbox for Fake {
    async fn post(&self, _: &str, message: Message<'_>, _: &str) -> anyhow::Result<String> {
        let Message::DailyPost { schedule, slot, .. } = message else {
            anyhow::bail!("not a daily post: {message:?}");
        };
        if self.fail_next_send.swap(false, Ordering::SeqCst) {
            anyhow::bail!("Discord unreachable");
        }
        let mut messages = self.messages.lock().unwrap();
        let id = format!("m{}", messages.len() + 1);
        messages.push((id.clone(), slot.to_string(), marker(&schedule.guild, slot)));
        if self.die_after_next_send.swap(false, Ordering::SeqCst) {
            anyhow::bail!("connection reset after the message was created");
        }
        Ok(id)
    }

    async fn edit(&self, _: &str, _: &str, message: Message<'_>) -> anyhow::Result<()> {
        let Message::DailyReveal { slot, answers, .. } = message else {
            anyhow::bail!("not a daily reveal: {message:?}");
        };
        self.reveals.lock().unwrap().push(slot.to_string());
        self.tallies.lock().unwrap().push(answers.to_vec());
        Ok(())
    }

    async fn find(&self, _: &str, wanted: &str) -> anyhow::Result<Option<String>> {
        let messages = self.messages.lock().unwrap();
        Ok(messages
            .iter()
            .find(|(_, _, m)| m == wanted)
            .map(|(id, _, _)| id.clone()))
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
    let task = tokio::spawn(run(host.job(), clock.clone(), changed.clone(), shutdown));
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
        at: Timestamp::from_utc(utc("2026-11-27T00:00:00Z")),
    };
    let claim = Lease {
        owner: "replica:dead".into(),
        until: Some(Timestamp::from_utc(utc("2026-11-27T00:01:00Z"))),
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
    let chosen = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
    assert_eq!(chosen.state, DailyPostState::Recorded);
    wait(RETRY_AFTER.as_secs() + 1).await;
    assert_eq!(host.slots_posted(), ["2026-11-27"]);
    // The question chosen before the failure is the one sent.
    let post = host.with_store(|s| s.daily_post("g", "2026-11-27")).unwrap().unwrap();
    assert_eq!(
        (post.question_id, post.state),
        (chosen.question_id, DailyPostState::Sent)
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
    assert_eq!(
        post_sent.sent_at,
        Some(Timestamp::from_utc(utc("2026-11-26T21:01:00Z")))
    );
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

#[tokio::test(start_paused = true)]
async fn the_post_goes_out_with_its_marker_and_the_reveal_tells_the_outbox_who_answered() {
    let host = Fake::new();
    let job = host.job();
    let nine = utc("2026-11-27T00:00:00Z");
    let posted = post_slot(&job, &tokyo_nine(), "2026-11-27", nine).await.unwrap();
    assert_eq!(posted, Posted::Sent("m1".into()));
    assert_eq!(host.messages.lock().unwrap()[0].2, marker("g", "2026-11-27"));
    host.with_store(|s| {
        s.set_daily_schedule(&tokyo_nine())?;
        let user = s.user("discord:5", Timestamp::from_utc(nine))?;
        let answer = DailyAnswer {
            guild: "g".into(),
            slot: "2026-11-27".into(),
            user,
            answer: "B".into(),
            picked: vec![],
            correct: true,
            answered_at: Timestamp::from_utc(nine),
        };
        s.record_daily_answer(&answer, None)
    })
    .unwrap();
    // Twelve hours later the loop reveals it, with the answer read from the store's daily log.
    tick(&job, utc("2026-11-27T12:00:01Z")).await;
    assert_eq!(*host.tallies.lock().unwrap(), [vec![("discord:5".to_string(), true)]]);
    // A second post of the same slot is the first one, not a new message.
    let again = post_slot(&job, &tokyo_nine(), "2026-11-27", nine).await.unwrap();
    assert_eq!((again, host.slots_posted().len()), (Posted::Sent("m1".into()), 1));
}
