//! The contract's scenarios, each written once for any backend: the SQLite store's own unit tests
//! (minus what is about its file: WAL, schema upgrades), plus what the bot relies on and no unit test
//! covered (a second handle, the leaderboard, the group views, a refused orphan answer). Here: users,
//! sessions, attempts, scores and cards, and the helpers; `live_scenarios` has quizzes and the daily
//! question.

use tsumiage::clock::Timestamp;
use tsumiage::quiz::session::SessionEnd;
use tsumiage::store::*;

pub use super::live_scenarios::*;
use super::{Backend, Leaderboard};

pub(super) fn attempt(session: SessionId, index: usize, user: UserId, correct: bool) -> Attempt {
    Attempt {
        session,
        question_index: index,
        question_id: format!("q{index}"),
        user,
        answer: "B".into(),
        picked: vec!["k1".into()],
        correct,
        answered_at: Timestamp(1_000 + index as i64),
        elapsed_ms: 1_000,
    }
}

pub fn a_replayed_attempt_counts_once_and_does_not_touch_the_card_again(backend: &impl Backend) {
    let mut store = backend.handle();
    let user = store.user("alice", Timestamp(0)).unwrap();
    assert_eq!(store.user("alice", Timestamp(5)).unwrap(), user);
    let session = store
        .start_session(&NewSession {
            channel: "t".into(),
            started_at: Timestamp(0),
            question_count: 2,
            owner: "test".into(),
        })
        .unwrap();
    let card = CardState {
        question_id: "q0".into(),
        due: Timestamp(9),
        stability: 1.0,
        difficulty: 5.0,
        elapsed_days: 0,
        scheduled_days: 0,
        reps: 1,
        lapses: 0,
        state: 1,
        last_review: Timestamp(1),
    };
    assert_eq!(
        store
            .record_attempt(&attempt(session, 0, user, true), Some(&card))
            .unwrap(),
        Recorded::New
    );
    let replayed_card = CardState {
        reps: 2,
        ..card.clone()
    };
    assert_eq!(
        store
            .record_attempt(&attempt(session, 0, user, true), Some(&replayed_card))
            .unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(store.attempts(session).unwrap().len(), 1);
    assert_eq!(store.card(user, "q0").unwrap().unwrap().reps, 1);
    let unknown = store
        .record_attempt(&attempt(session + 1, 0, user, true), None)
        .unwrap_err();
    assert!(matches!(unknown, StoreError::UnknownSession(_)), "{unknown}");
    // The trait is object safe: a bot can hold `Box<dyn Store>` and swap the backend.
    let as_trait: &mut dyn Store = &mut store;
    assert_eq!(as_trait.attempts(session).unwrap().len(), 1);
}

pub fn finishing_twice_and_recovery_never_count_a_score_twice(backend: &impl Backend) {
    let mut store = backend.handle();
    let alice = store.user("alice", Timestamp(0)).unwrap();
    let bob = store.user("bob", Timestamp(0)).unwrap();
    let done = store
        .start_session(&NewSession {
            channel: "a".into(),
            started_at: Timestamp(0),
            question_count: 1,
            owner: "test".into(),
        })
        .unwrap();
    store.record_attempt(&attempt(done, 0, alice, true), None).unwrap();
    let scores = rank_scores(vec![(alice, 1)]);
    assert_eq!(
        store
            .finish_session(done, SessionEnd::CountReached, Timestamp(5), &scores)
            .unwrap(),
        Recorded::New
    );
    assert_eq!(
        store
            .finish_session(done, SessionEnd::Stopped, Timestamp(6), &scores)
            .unwrap(),
        Recorded::Duplicate
    );

    let broken = store
        .start_session(&NewSession {
            channel: "b".into(),
            started_at: Timestamp(0),
            question_count: 3,
            owner: "test".into(),
        })
        .unwrap();
    store.record_attempt(&attempt(broken, 0, alice, true), None).unwrap();
    store.record_attempt(&attempt(broken, 0, bob, true), None).unwrap();
    store.record_attempt(&attempt(broken, 1, bob, false), None).unwrap();
    assert_eq!(
        store.close_interrupted_sessions(Timestamp(10), &|_| false).unwrap(),
        vec![broken]
    );
    assert!(
        store
            .close_interrupted_sessions(Timestamp(11), &|_| false)
            .unwrap()
            .is_empty()
    );
    // A late write for the closed session changes nothing.
    assert_eq!(
        store.record_attempt(&attempt(broken, 2, alice, true), None).unwrap(),
        Recorded::Duplicate
    );
    let record = store.session(broken).unwrap().unwrap();
    assert_eq!(record.end, Some(SessionEnd::Interrupted));
    let scores = store.scores(broken).unwrap();
    assert_eq!(
        scores,
        vec![
            FinalScore {
                user: alice,
                points: 1,
                rank: 1
            },
            FinalScore {
                user: bob,
                points: 1,
                rank: 1
            }
        ]
    );
    assert_eq!(store.stats(alice, Timestamp(20)).unwrap().points, 2);
}

pub fn one_running_session_per_channel_and_live_sessions_stay_open(backend: &impl Backend) {
    let mut store = backend.handle();
    let new = |channel: &str, owner: &str| NewSession {
        channel: channel.into(),
        started_at: Timestamp(0),
        question_count: 1,
        owner: owner.into(),
    };
    let live = store.start_session(&new("c1", "alive")).unwrap();
    let error = store.start_session(&new("c1", "alive")).unwrap_err();
    assert!(
        matches!(error, StoreError::ChannelBusy { session, .. } if session == live),
        "{error}"
    );
    let dead = store.start_session(&new("c2", "dead")).unwrap();
    let closed = store
        .close_interrupted_sessions(Timestamp(5), &|s| s.owner == "alive")
        .unwrap();
    assert_eq!(closed, vec![dead]);
    assert_eq!(
        store
            .unfinished_sessions()
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![live]
    );
    // Once the dead session is closed its channel is free again.
    store.start_session(&new("c2", "alive")).unwrap();
}

pub fn misses_due_cards_and_flags(backend: &impl Backend) {
    let mut store = backend.handle();
    let user = store.user("alice", Timestamp(0)).unwrap();
    let session = store
        .start_session(&NewSession {
            channel: "a".into(),
            started_at: Timestamp(0),
            question_count: 3,
            owner: "test".into(),
        })
        .unwrap();
    store.record_attempt(&attempt(session, 0, user, false), None).unwrap();
    store.record_attempt(&attempt(session, 1, user, true), None).unwrap();
    store.record_attempt(&attempt(session, 2, user, false), None).unwrap();
    assert_eq!(
        store.recent_misses(user, 10).unwrap(),
        vec!["q2".to_string(), "q0".to_string()]
    );
    let flag = NewFlag {
        question_id: "q0".into(),
        user,
        reason: "answer key wrong".into(),
        path: "aws/questions/k.md".into(),
        line: 7,
        session: Some(session),
        created_at: Timestamp(3),
    };
    store.add_flag(&flag).unwrap();
    let flags = store.flags().unwrap();
    assert_eq!(
        (flags[0].user_name.as_str(), flags[0].path.as_str(), flags[0].line),
        ("alice", "aws/questions/k.md", 7)
    );
}

pub(super) fn new_daily_post(question_id: &str, at: i64) -> NewDailyPost {
    NewDailyPost {
        guild: "g".into(),
        slot: "2026-11-26".into(),
        channel: "c".into(),
        question_id: question_id.into(),
        at: Timestamp(at),
    }
}

pub(super) fn claim(owner: &str, until: i64) -> Lease {
    Lease {
        owner: owner.into(),
        until: Some(Timestamp(until)),
    }
}

pub(super) fn quiz_session(channel: &str) -> NewSession {
    NewSession {
        channel: channel.into(),
        started_at: Timestamp(0),
        question_count: 2,
        owner: "replica:a".into(),
    }
}

pub(super) fn effect(name: &str) -> NewEffect {
    NewEffect {
        effect: name.into(),
        payload: format!("{{\"{name}\": true}}"),
    }
}

pub fn another_handle_sees_the_same_records(backend: &impl Backend) {
    let mut store = backend.handle();
    let alice = store.user("alice", Timestamp(0)).unwrap();
    let session = store.start_session(&quiz_session("t")).unwrap();
    drop(store);
    // Another process (or replica) opening the same store finds everything, and the same ids.
    let mut other = backend.handle();
    assert_eq!(other.user("alice", Timestamp(1)).unwrap(), alice);
    assert_eq!(other.find_user("alice").unwrap(), Some(alice));
    assert_eq!(other.find_user("nobody").unwrap(), None);
    assert_eq!(other.user_name(alice).unwrap().as_deref(), Some("alice"));
    assert_eq!(other.user_name(alice + 1_000).unwrap(), None);
    let unfinished = other.unfinished_sessions().unwrap();
    assert_eq!(unfinished.iter().map(|s| s.id).collect::<Vec<_>>(), vec![session]);
    let record = other.session(session).unwrap().unwrap();
    assert_eq!(
        (
            record.channel.as_str(),
            record.question_count,
            record.owner.as_str(),
            record.end
        ),
        ("t", 2, "replica:a", None)
    );
    assert_eq!(other.session(session + 1_000).unwrap(), None);
    let bob = other.user("bob", Timestamp(2)).unwrap();
    assert_ne!(bob, alice);
}

pub fn the_leaderboard_sums_finished_sessions_best_first(backend: &impl Backend) {
    let mut store = backend.handle();
    let names = ["discord:3", "discord:1", "discord:2", "terminal:zed"];
    let ids: Vec<UserId> = names.iter().map(|n| store.user(n, Timestamp(0)).unwrap()).collect();
    for (channel, points) in [("c1", [3, 5, 5, 9]), ("c2", [4, 0, 2, 9])] {
        let session = store.start_session(&quiz_session(channel)).unwrap();
        let scores = rank_scores(ids.iter().copied().zip(points).collect());
        store
            .finish_session(session, SessionEnd::CountReached, Timestamp(1), &scores)
            .unwrap();
    }
    let lines = store.leaders("discord:", 10);
    let summary: Vec<(&str, u64, u64)> = lines
        .iter()
        .map(|l| (l.user_name.as_str(), l.points, l.sessions))
        .collect();
    // discord:3 and discord:2 tie on 7: ties by name.
    assert_eq!(
        summary,
        vec![("discord:2", 7, 2), ("discord:3", 7, 2), ("discord:1", 5, 2)]
    );
    assert_eq!(store.leaders("discord:", 1).len(), 1);
    assert_eq!(store.leaders("terminal:", 10)[0].points, 18);
    // A prefix is matched as text, not as a pattern.
    assert!(store.leaders("discord_", 10).is_empty());
    assert!(store.leaders("%", 10).is_empty());
}

pub fn signals_count_every_bump_per_topic_and_every_handle_sees_them(backend: &impl Backend) {
    let mut here = backend.handle();
    let mut there = backend.handle();
    assert_eq!(
        (here.seen(Topic::Notes).unwrap(), here.seen(Topic::Daily).unwrap()),
        (0, 0)
    );
    assert_eq!(here.bump(Topic::Daily).unwrap(), 1);
    assert_eq!(
        there.bump(Topic::Daily).unwrap(),
        2,
        "a bump on another handle adds to the same count"
    );
    assert_eq!(here.seen(Topic::Daily).unwrap(), 2);
    assert_eq!(there.seen(Topic::Notes).unwrap(), 0, "topics count apart");
    assert_eq!(there.bump(Topic::Notes).unwrap(), 1);
    assert_eq!(here.seen(Topic::Notes).unwrap(), 1);
    // Bumps racing from several handles each count once.
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let mut handle = backend.handle();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    handle.bump(Topic::Daily).unwrap();
                }
            })
        })
        .collect();
    for racer in racers {
        racer.join().unwrap();
    }
    assert_eq!(here.seen(Topic::Daily).unwrap(), 22);
}

pub fn replicas_record_their_version_and_saves_carry_the_version_that_saved_them(backend: &impl Backend) {
    let mut store = backend.handle();
    let other = backend.handle();
    store.record_replica("replica:h:1:a", "0.1.0", Timestamp(10)).unwrap();
    store.record_replica("replica:h:2:b", "0.2.0", Timestamp(20)).unwrap();
    store.record_replica("replica:h:1:a", "0.1.0", Timestamp(30)).unwrap();
    let replicas = other.replicas().unwrap();
    let seen: Vec<(&str, &str, i64, i64)> = replicas
        .iter()
        .map(|r| (r.id.as_str(), r.version.as_str(), r.started.0, r.last_seen.0))
        .collect();
    assert_eq!(
        seen,
        [("replica:h:1:a", "0.1.0", 10, 30), ("replica:h:2:b", "0.2.0", 20, 20)]
    );
    assert!(replicas.iter().all(|r| r.schema > 0), "{replicas:?}");

    let session = NewSession {
        channel: "discord:1:2".into(),
        started_at: Timestamp(0),
        question_count: 1,
        owner: "replica:h:1:a".into(),
    };
    let id = store.start_quiz(&session, Timestamp(100), "{}", &[]).unwrap();
    assert_eq!(
        other.quiz_state(id).unwrap().unwrap().saved_by.as_deref(),
        Some(BUILD_VERSION)
    );
    let post = NewDailyPost {
        guild: "g".into(),
        slot: "2026-01-01".into(),
        channel: "c".into(),
        question_id: "q".into(),
        at: Timestamp(0),
    };
    let claim = Lease {
        owner: "replica:h:1:a".into(),
        until: Some(Timestamp(60)),
    };
    store.record_daily_post(&post, &claim).unwrap();
    let stored = other.daily_post("g", "2026-01-01").unwrap().unwrap();
    assert_eq!(stored.saved_by.as_deref(), Some(BUILD_VERSION));
    assert_eq!(stored.claim, claim, "the slot's claim is read back");
}
