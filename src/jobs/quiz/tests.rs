//! The quiz engine with two replicas on one store file, a channel in memory and a clock set by hand.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::*;
use crate::quiz::session::SessionSettings;
use crate::quiz::{Answer, QuizQuestion};
use crate::store::{NewSession, SqliteStore};

fn saved(started_at: i64) -> (SavedQuiz, Vec<Event>) {
    let question = |id: &str| QuizQuestion::sample(id, 2, 'A');
    let settings = SessionSettings {
        question_count: 2,
        time_limit_ms: 1_000,
        silence_limit_ms: 60_000,
    };
    let (session, events) = QuizSession::start(vec![question("q1"), question("q2")], settings, Timestamp(started_at));
    let quiz = SavedQuiz {
        channel: 2,
        channel_key: "discord:1:2".into(),
        starter: 7,
        started_at: Timestamp(started_at),
        locale: Locale::En,
        seconds: 1,
        time_limit_ms: 1_000,
        session,
    };
    (quiz, events)
}

#[test]
fn effects_are_named_once_per_question_and_answers_are_not_effects() {
    let (mut quiz, first) = saved(0);
    let mut events = first;
    events.extend(quiz.session.handle(
        Input::Answer {
            player: "7".into(),
            question_index: 0,
            answer: Answer::Picks(vec!['A']),
        },
        Timestamp(10),
    ));
    events.extend(quiz.session.handle(Input::Tick, Timestamp(5_000)));
    let names: Vec<String> = effects_of(&events).into_iter().map(|e| e.effect).collect();
    assert_eq!(names, ["ask:0", "reveal:0", "ask:1", "reveal:1", "finish"]);
    // The payload is the core's event: what the replica carrying it out reads back.
    let payload = &effects_of(&events)[1].payload;
    assert!(matches!(
        serde_json::from_str::<Event>(payload).unwrap(),
        Event::QuestionClosed { index: 0, .. }
    ));
}

#[test]
fn post_nonces_fit_discord_and_differ_per_effect_and_per_quiz() {
    let (quiz, _) = saved(0);
    let (later, _) = saved(1);
    let nonces = [
        nonce(1, &quiz, "ask:0"),
        nonce(1, &quiz, "ask:1"),
        nonce(2, &quiz, "ask:0"),
        nonce(1, &later, "ask:0"),
    ];
    assert!(nonces.iter().all(|n| !n.is_empty() && n.len() <= 25), "{nonces:?}");
    let distinct: std::collections::HashSet<&String> = nonces.iter().collect();
    assert_eq!(distinct.len(), nonces.len());
    assert_eq!(
        nonce(1, &quiz, "ask:0"),
        nonces[0],
        "the same effect resent gets the same nonce"
    );
}

/// A clock the test sets by hand.
struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    fn set(&self, at: i64) {
        *self.0.lock().unwrap() = Timestamp(at);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// A channel that enforces nonces as Discord does (a post repeated with a nonce returns the first
/// message), and can hang after creating the next message, as a replica killed before hearing back.
#[derive(Default)]
struct Chat {
    /// (nonce, message id, what was posted).
    posts: Mutex<Vec<(String, String, String)>>,
    attempts: AtomicUsize,
    hang_after_next_post: AtomicBool,
}

fn label(message: Message<'_>) -> String {
    match message {
        Message::QuizQuestion { index, .. } => format!("question {index}"),
        Message::QuizReveal { index, .. } => format!("reveal {index}"),
        Message::Scoreboard { .. } => "scoreboard".into(),
        other => format!("{other:?}"),
    }
}

impl Outbox for Chat {
    async fn post(&self, _: &str, message: Message<'_>, nonce: &str) -> anyhow::Result<String> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let id = {
            let mut posts = self.posts.lock().unwrap();
            if let Some((_, id, _)) = posts.iter().find(|(n, _, _)| n == nonce) {
                return Ok(id.clone());
            }
            let id = format!("m{}", posts.len() + 1);
            posts.push((nonce.to_string(), id.clone(), label(message)));
            id
        };
        if self.hang_after_next_post.swap(false, Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        Ok(id)
    }

    async fn edit(&self, _: &str, _: &str, _: Message<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    async fn find(&self, _: &str, _: &str) -> anyhow::Result<Option<String>> {
        Ok(None)
    }
}

/// Shorter than a question (1 s), so a lease lapses while question 1 is still open.
const LEASE: Duration = Duration::from_millis(400);

/// Replicas sharing one store file (each with a connection of its own), one chat and one clock.
struct World {
    dir: tempfile::TempDir,
    chat: Arc<Chat>,
    clock: Arc<ManualClock>,
    _stop: watch::Sender<bool>,
    shutdown: watch::Receiver<bool>,
}

impl World {
    fn new() -> World {
        let (stop, shutdown) = watch::channel(false);
        World {
            dir: tempfile::tempdir().unwrap(),
            chat: Arc::default(),
            clock: Arc::new(ManualClock(Mutex::new(Timestamp(0)))),
            _stop: stop,
            shutdown,
        }
    }

    fn replica(&self, name: &str) -> QuizJob<Chat> {
        let store: Box<dyn Store> = Box::new(SqliteStore::open(&self.dir.path().join("s.sqlite")).unwrap());
        QuizJob {
            store: Arc::new(Mutex::new(store)),
            replica: format!("replica:{name}"),
            clock: self.clock.clone(),
            lease: LEASE,
            on_shutdown: QuizOnShutdown::End,
            drivers: Arc::default(),
            shutdown: self.shutdown.clone(),
            host: self.chat.clone(),
        }
    }
}

/// Starts the two-question quiz of `saved` at time 0 in `job`'s store, leased to `job`.
fn start(job: &QuizJob<Chat>) -> SessionId {
    let (quiz, events) = saved(0);
    let session = NewSession {
        channel: quiz.channel_key.clone(),
        started_at: Timestamp(0),
        question_count: 2,
        owner: job.replica.clone(),
    };
    let state = serde_json::to_string(&quiz).unwrap();
    let mut store = lock(&job.store);
    let until = lease_until(job.lease, Timestamp(0));
    store.start_quiz(&session, until, &state, &effects_of(&events)).unwrap()
}

fn pick(player: &str) -> impl FnMut(&mut SavedQuiz, SessionId, Timestamp) -> ((), Vec<Event>) {
    let player = player.to_string();
    move |quiz, _, now| {
        let mut events = quiz.session.handle(Input::Join { player: player.clone() }, now);
        let answer = Answer::Picks(vec!['A']);
        events.extend(quiz.session.handle(
            Input::Answer {
                player: player.clone(),
                question_index: 0,
                answer,
            },
            now,
        ));
        ((), events)
    }
}

/// Waits (on paused tokio time) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

fn sent_effects(job: &QuizJob<Chat>, session: SessionId) -> Vec<(String, Option<String>)> {
    let effects = lock(&job.store).quiz_effects(session).unwrap();
    effects
        .into_iter()
        .filter(|e| e.sent_at.is_some())
        .map(|e| (e.effect, e.message_id))
        .collect()
}

#[test]
fn a_save_that_lost_to_another_replica_is_applied_again_on_the_fresh_state() {
    let world = World::new();
    let (a, b) = (world.replica("a"), world.replica("b"));
    let session = start(&a);
    let mut tries = 0;
    let mut alice = pick("1");
    let applied = a
        .apply(Target::Session(session), |quiz, id, now| {
            tries += 1;
            if tries == 1 {
                // B saves bob's pick between A's load and A's save.
                b.apply(Target::Session(session), pick("2")).unwrap().unwrap();
            }
            alice(quiz, id, now)
        })
        .unwrap()
        .unwrap();
    assert_eq!(tries, 2, "A's save conflicted once, then went through");
    let stored: SavedQuiz = serde_json::from_str(&lock(&b.store).quiz_state(session).unwrap().unwrap().state).unwrap();
    for quiz in [&applied.quiz, &stored] {
        let board = quiz.session.scoreboard();
        let players: Vec<&str> = board.iter().map(|l| l.player.as_str()).collect();
        assert_eq!(players.len(), 2, "both picks kept: {players:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_lapsed_lease_is_taken_over_by_the_sweep_and_a_live_one_is_left_alone() {
    let world = World::new();
    let (a, b) = (world.replica("a"), world.replica("b"));
    let session = start(&a);
    world.clock.set(LEASE.as_millis() as i64 - 1);
    b.sweep_once().unwrap();
    assert!(!b.drivers.is_driving(session), "A's lease was still live");
    assert!(world.chat.posts.lock().unwrap().is_empty());
    // A died without renewing: once its lease lapsed, B takes the quiz and carries out its first effect.
    world.clock.set(LEASE.as_millis() as i64);
    b.sweep_once().unwrap();
    assert!(b.drivers.is_driving(session));
    until("B posts question 1", || !sent_effects(&b, session).is_empty()).await;
    let lease = lock(&b.store).running_quizzes().unwrap()[0].lease.clone();
    assert_eq!(lease.owner, "replica:b");
    assert_eq!(
        sent_effects(&b, session),
        [("ask:0".to_string(), Some("m1".to_string()))]
    );
}

#[tokio::test(start_paused = true)]
async fn an_effect_sent_before_a_crash_but_not_marked_is_sent_again_and_lands_once() {
    let world = World::new();
    let (a, b) = (world.replica("a"), world.replica("b"));
    let session = start(&a);
    // A's driver posts question 1; Discord creates it, and A dies before marking the effect sent.
    world.chat.hang_after_next_post.store(true, Ordering::SeqCst);
    let bell = a.drivers.claim(session, true).unwrap();
    let driver = tokio::spawn(a.clone().drive(session, bell));
    until("A's post", || world.chat.attempts.load(Ordering::SeqCst) == 1).await;
    driver.abort();
    assert!(sent_effects(&a, session).is_empty());
    // B takes over once A's lease lapsed and resends with the same nonce: the chat returns A's message.
    world.clock.set(LEASE.as_millis() as i64);
    b.sweep_once().unwrap();
    until("B marks it sent", || !sent_effects(&b, session).is_empty()).await;
    assert_eq!(world.chat.attempts.load(Ordering::SeqCst), 2);
    let posts = world.chat.posts.lock().unwrap().clone();
    assert_eq!(posts.iter().map(|p| p.2.as_str()).collect::<Vec<_>>(), ["question 0"]);
    assert_eq!(
        sent_effects(&b, session),
        [("ask:0".to_string(), Some("m1".to_string()))]
    );
}

#[tokio::test(start_paused = true)]
async fn a_quiz_saved_by_a_newer_build_is_never_taken_over_even_once_its_lease_lapsed() {
    let world = World::new();
    let (a, b) = (world.replica("a"), world.replica("b"));
    let session = start(&a);
    assert_eq!(
        lock(&a.store).quiz_state(session).unwrap().unwrap().saved_by.as_deref(),
        Some(crate::store::BUILD_VERSION),
        "the store records the build that saved the state"
    );
    // As if A were a newer build: its saves say so.
    let file = rusqlite::Connection::open(world.dir.path().join("s.sqlite")).unwrap();
    file.execute("UPDATE sessions SET saved_by = '999.0.0' WHERE id = ?1", [session])
        .unwrap();
    world.clock.set(LEASE.as_millis() as i64 * 3);
    b.sweep_once().unwrap();
    assert!(
        !b.drivers.is_driving(session),
        "B is older: it leaves the quiz to a newer replica"
    );
    assert_eq!(lock(&b.store).running_quizzes().unwrap()[0].lease.owner, "replica:a");
    // Saved by this version again (the newer replicas rolled back): B takes it over.
    file.execute(
        "UPDATE sessions SET saved_by = ?2 WHERE id = ?1",
        rusqlite::params![session, crate::store::BUILD_VERSION],
    )
    .unwrap();
    b.sweep_once().unwrap();
    assert!(b.drivers.is_driving(session));
    // A newer build saves it again while B drives it: B's next renewal gives the lease up at once.
    file.execute("UPDATE sessions SET saved_by = '999.0.0' WHERE id = ?1", [session])
        .unwrap();
    assert!(!b.renew(session).unwrap());
    let lease = lock(&b.store).running_quizzes().unwrap()[0].lease.clone();
    assert_eq!(
        lease.until,
        Some(b.clock.now()),
        "released, not left to expire: {lease:?}"
    );
}
