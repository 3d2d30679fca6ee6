//! The contract's scenarios for live Discord quizzes (compare-and-swap saves, leases, effects, the last
//! question shown) and the daily question (slots, claims, answers, the group views).

use tsumiage::clock::Timestamp;
use tsumiage::daily::schedule::{Days, Reveal};
use tsumiage::quiz::session::SessionEnd;
use tsumiage::store::*;

use super::Backend;
use super::scenarios::{attempt, claim, effect, new_daily_post, quiz_session};

pub fn a_daily_answer_reviews_the_card_once_and_a_wrong_one_is_a_miss_until_answered_right(backend: &impl Backend) {
    let mut store = backend.handle();
    let user = store.user("carol", Timestamp(0)).unwrap();
    store
        .record_daily_post(&new_daily_post("q7", 1), &claim("replica:a", 100))
        .unwrap();
    let card = CardState {
        question_id: "q7".into(),
        due: Timestamp(600_000),
        stability: 0.2,
        difficulty: 7.0,
        elapsed_days: 0,
        scheduled_days: 0,
        reps: 1,
        lapses: 0,
        state: 1,
        last_review: Timestamp(4),
    };
    let wrong = DailyAnswer {
        guild: "g".into(),
        slot: "2026-11-26".into(),
        user,
        answer: "A".into(),
        picked: Vec::new(),
        correct: false,
        answered_at: Timestamp(4),
    };
    assert_eq!(store.record_daily_answer(&wrong, Some(&card)).unwrap(), Recorded::New);
    // A second press (another replica, a retried interaction) leaves the card as the first answer set it.
    let pressed_again = CardState {
        reps: 2,
        ..card.clone()
    };
    assert_eq!(
        store.record_daily_answer(&wrong, Some(&pressed_again)).unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(store.card(user, "q7").unwrap(), Some(card));
    assert_eq!(store.due_cards(user, Timestamp(600_000), 10).unwrap().len(), 1);
    assert_eq!(store.recent_misses(user, 10).unwrap(), vec!["q7".to_string()]);

    // Answered right later in a quiz: no longer a miss.
    let session = store
        .start_session(&NewSession {
            channel: "a".into(),
            started_at: Timestamp(0),
            question_count: 8,
            owner: "test".into(),
        })
        .unwrap();
    store.record_attempt(&attempt(session, 7, user, true), None).unwrap();
    assert_eq!(store.recent_misses(user, 10).unwrap(), Vec::<String>::new());
}

pub fn a_daily_slot_is_recorded_by_one_replica_and_its_send_and_reveal_claimed_by_one_until_the_claim_lapses(
    backend: &impl Backend,
) {
    let mut store = backend.handle();
    let (recorded, sent) = (DailyPostState::Recorded, DailyPostState::Sent);
    let slot = "2026-11-26";
    assert_eq!(
        store
            .record_daily_post(&new_daily_post("q1", 10), &claim("replica:a", 100))
            .unwrap(),
        Recorded::New
    );
    assert_eq!(
        store
            .record_daily_post(&new_daily_post("q2", 11), &claim("replica:b", 100))
            .unwrap(),
        Recorded::Duplicate
    );
    // A's claim to send: A may renew it, B may not until it lapses, then B holds it.
    assert!(
        store
            .claim_daily_post("g", slot, recorded, "replica:a", Timestamp(50), Timestamp(150))
            .unwrap()
    );
    assert!(
        !store
            .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(149), Timestamp(249))
            .unwrap()
    );
    assert!(
        store
            .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(150), Timestamp(250))
            .unwrap()
    );
    assert!(
        !store
            .claim_daily_post("g", slot, recorded, "replica:a", Timestamp(160), Timestamp(260))
            .unwrap()
    );
    // Sent: the claim is cleared, and a claim on the recorded post fails (nothing left to send).
    store.mark_daily_sent("g", slot, "m1", Timestamp(170)).unwrap();
    assert!(
        !store
            .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(171), Timestamp(271))
            .unwrap()
    );
    // The reveal: claimed by whoever comes first, then by nobody else until it lapses or is done.
    assert!(
        store
            .claim_daily_post("g", slot, sent, "replica:a", Timestamp(300), Timestamp(400))
            .unwrap()
    );
    assert!(
        !store
            .claim_daily_post("g", slot, sent, "replica:b", Timestamp(300), Timestamp(400))
            .unwrap()
    );
    store.mark_daily_revealed("g", slot, Timestamp(310)).unwrap();
    assert!(
        !store
            .claim_daily_post("g", slot, sent, "replica:b", Timestamp(500), Timestamp(600))
            .unwrap()
    );
    let post = store.daily_post("g", slot).unwrap().unwrap();
    assert_eq!(
        (post.question_id.as_str(), post.message_id.as_deref(), post.revealed_at),
        ("q1", Some("m1"), Some(Timestamp(310)))
    );
}

pub fn daily_records_are_idempotent(backend: &impl Backend) {
    let mut store = backend.handle();
    let schedule = DailySchedule {
        guild: "g".into(),
        channel: "c".into(),
        time: tsumiage::daily::schedule::parse_time("09:00").unwrap(),
        zone: tsumiage::daily::schedule::parse_zone("Asia/Tokyo").unwrap(),
        days: Days::WEEKDAYS,
        role: None,
        reveal: Reveal::AfterHours(12),
        topic: None,
        thread: false,
        enabled: true,
    };
    store.set_daily_schedule(&schedule).unwrap();
    let changed = DailySchedule {
        time: tsumiage::daily::schedule::parse_time("08:30").unwrap(),
        zone: tsumiage::daily::schedule::parse_zone("Europe/Berlin").unwrap(),
        days: Days::parse("mon,fri").unwrap(),
        role: Some("r".into()),
        reveal: Reveal::WithNextPost,
        topic: Some("Kinesis".into()),
        thread: true,
        enabled: false,
        ..schedule
    };
    store.set_daily_schedule(&changed).unwrap();
    assert_eq!(store.daily_schedules().unwrap(), vec![changed]);
    assert_eq!(
        store
            .record_daily_post(&new_daily_post("q1", 1), &claim("replica:a", 100))
            .unwrap(),
        Recorded::New
    );
    assert_eq!(
        store
            .record_daily_post(&new_daily_post("q2", 2), &claim("replica:b", 100))
            .unwrap(),
        Recorded::Duplicate
    );
    assert_eq!(
        store.daily_post("g", "2026-11-26").unwrap().unwrap().state,
        DailyPostState::Recorded
    );
    store.mark_daily_sent("g", "2026-11-26", "m1", Timestamp(3)).unwrap();
    let post = store.daily_post("g", "2026-11-26").unwrap().unwrap();
    assert_eq!(
        (post.question_id.as_str(), post.state, post.message_id.as_deref()),
        ("q1", DailyPostState::Sent, Some("m1"))
    );
    let user = store.user("bob", Timestamp(0)).unwrap();
    let answer = DailyAnswer {
        guild: "g".into(),
        slot: "2026-11-26".into(),
        user,
        answer: "A".into(),
        picked: Vec::new(),
        correct: true,
        answered_at: Timestamp(4),
    };
    assert_eq!(store.record_daily_answer(&answer, None).unwrap(), Recorded::New);
    assert_eq!(store.record_daily_answer(&answer, None).unwrap(), Recorded::Duplicate);
    assert_eq!(store.daily_answers("g", "2026-11-26").unwrap().len(), 1);
    store.mark_daily_revealed("g", "2026-11-26", Timestamp(5)).unwrap();
    store.mark_daily_revealed("g", "2026-11-26", Timestamp(6)).unwrap();
    let posts = store.daily_posts("g").unwrap();
    assert_eq!(
        (posts.len(), posts[0].revealed_at, posts[0].channel.as_deref()),
        (1, Some(Timestamp(5)), Some("c"))
    );
    assert_eq!(store.guild_daily_answers("g").unwrap().len(), 1);
    assert_eq!(
        store.group_recent("g", Timestamp(0)).unwrap(),
        vec![("q1".to_string(), 1, 1)]
    );
    assert_eq!(store.group_recent("other", Timestamp(0)).unwrap(), vec![]);
    assert_eq!(store.group_due("g", Timestamp(0)).unwrap(), vec![]);
}

pub fn a_save_based_on_an_old_version_is_a_conflict_and_changes_nothing(backend: &impl Backend) {
    let mut store = backend.handle();
    let session = store
        .start_quiz(&quiz_session("c"), Timestamp(100), "s1", &[effect("ask:0")])
        .unwrap();
    let stored = store.running_quiz("c").unwrap().unwrap();
    assert_eq!(
        (stored.session, stored.version, stored.state.as_str()),
        (session, 1, "s1")
    );
    assert_eq!((stored.lease.owner.as_str(), stored.ended), ("replica:a", false));
    // Two replicas load version 1; the first save wins, the second is refused.
    let mut other = backend.handle();
    assert_eq!(
        store
            .save_quiz_state(session, 1, "s2", &[effect("reveal:0"), effect("ask:1")], Timestamp(5))
            .unwrap(),
        Cas::Saved(2)
    );
    assert_eq!(
        other
            .save_quiz_state(session, 1, "s2-other", &[effect("reveal:0")], Timestamp(6))
            .unwrap(),
        Cas::Conflict
    );
    let stored = other.quiz_state(session).unwrap().unwrap();
    assert_eq!((stored.version, stored.state.as_str()), (2, "s2"));
    // Retried on the fresh version, it lands; an effect already recorded is not recorded twice.
    assert_eq!(
        other
            .save_quiz_state(session, 2, "s3", &[effect("ask:1"), effect("finish")], Timestamp(7))
            .unwrap(),
        Cas::Saved(3)
    );
    let names: Vec<String> = store
        .quiz_effects(session)
        .unwrap()
        .into_iter()
        .map(|e| e.effect)
        .collect();
    assert_eq!(names, ["ask:0", "reveal:0", "ask:1", "finish"]);
    store
        .mark_effect_sent(session, "ask:0", Some("m1"), Timestamp(8))
        .unwrap();
    store
        .mark_effect_sent(session, "ask:0", Some("m2"), Timestamp(9))
        .unwrap();
    let first = &store.quiz_effects(session).unwrap()[0];
    assert_eq!(
        (first.message_id.as_deref(), first.sent_at),
        (Some("m1"), Some(Timestamp(8)))
    );
    // A second quiz in the channel is refused; once the session ended, saves are conflicts.
    let busy = store
        .start_quiz(&quiz_session("c"), Timestamp(100), "x", &[])
        .unwrap_err();
    assert!(matches!(busy, StoreError::ChannelBusy { .. }), "{busy}");
    store
        .finish_session(session, SessionEnd::CountReached, Timestamp(10), &[])
        .unwrap();
    assert_eq!(
        store.save_quiz_state(session, 3, "s4", &[], Timestamp(11)).unwrap(),
        Cas::Conflict
    );
    assert!(store.running_quiz("c").unwrap().is_none());
    assert!(store.quiz_state(session).unwrap().unwrap().ended);
    // Ended, with effects still to carry out: still listed, until they are done.
    assert_eq!(store.running_quizzes().unwrap().len(), 1);
    for name in ["reveal:0", "ask:1", "finish"] {
        store.mark_effect_sent(session, name, None, Timestamp(12)).unwrap();
    }
    assert!(store.running_quizzes().unwrap().is_empty());
    // Terminal sessions have no state: never listed as quizzes to take over.
    store.start_session(&quiz_session("terminal:alice")).unwrap();
    assert!(store.running_quizzes().unwrap().is_empty());
}

pub fn a_lease_is_taken_renewed_and_after_it_expired_stolen(backend: &impl Backend) {
    let mut store = backend.handle();
    let session = store.start_quiz(&quiz_session("c"), Timestamp(100), "s", &[]).unwrap();
    // Held by a until 100: b cannot take it before then; a renews it.
    assert!(
        !store
            .take_lease(session, "replica:b", Timestamp(50), Timestamp(150))
            .unwrap()
    );
    assert!(
        store
            .take_lease(session, "replica:a", Timestamp(60), Timestamp(160))
            .unwrap()
    );
    assert!(
        !store
            .take_lease(session, "replica:b", Timestamp(120), Timestamp(220))
            .unwrap()
    );
    // a stops renewing: at its expiry b steals it, and a can no longer renew.
    assert!(
        store
            .take_lease(session, "replica:b", Timestamp(160), Timestamp(260))
            .unwrap()
    );
    let lease = store.quiz_state(session).unwrap().unwrap().lease;
    assert_eq!((lease.owner.as_str(), lease.until), ("replica:b", Some(Timestamp(260))));
    assert!(
        !store
            .take_lease(session, "replica:a", Timestamp(170), Timestamp(270))
            .unwrap()
    );
    // An ended session's lease still expires and can be taken: its last effects may be pending.
    store
        .finish_session(session, SessionEnd::Stopped, Timestamp(300), &[])
        .unwrap();
    assert!(
        !store
            .take_lease(session, "replica:a", Timestamp(259), Timestamp(500))
            .unwrap()
    );
    assert!(
        store
            .take_lease(session, "replica:a", Timestamp(400), Timestamp(500))
            .unwrap()
    );
}

pub fn a_released_lease_can_be_taken_at_once_and_only_its_holder_releases_it(backend: &impl Backend) {
    let mut store = backend.handle();
    let session = store.start_quiz(&quiz_session("c"), Timestamp(100), "s", &[]).unwrap();
    assert!(
        store
            .take_lease(session, "replica:a", Timestamp(10), Timestamp(1_000))
            .unwrap()
    );
    assert!(!store.release_lease(session, "replica:b", Timestamp(20)).unwrap());
    assert!(
        !store
            .take_lease(session, "replica:b", Timestamp(30), Timestamp(1_030))
            .unwrap()
    );
    assert!(store.release_lease(session, "replica:a", Timestamp(40)).unwrap());
    assert_eq!(
        store.quiz_state(session).unwrap().unwrap().lease.until,
        Some(Timestamp(40))
    );
    assert!(
        store
            .take_lease(session, "replica:b", Timestamp(40), Timestamp(1_040))
            .unwrap()
    );
}

pub fn the_last_question_shown_is_per_channel(backend: &impl Backend) {
    let mut store = backend.handle();
    assert_eq!(store.last_shown("c1").unwrap(), None);
    store.set_last_shown("c1", "q1", Timestamp(1)).unwrap();
    store.set_last_shown("c2", "q9", Timestamp(1)).unwrap();
    store.set_last_shown("c1", "q2", Timestamp(2)).unwrap();
    assert_eq!(store.last_shown("c1").unwrap().as_deref(), Some("q2"));
    assert_eq!(store.last_shown("c2").unwrap().as_deref(), Some("q9"));
}

pub fn group_views_count_the_guilds_quizzes_and_daily_answers(backend: &impl Backend) {
    let mut store = backend.handle();
    let (ann, ben) = (
        store.user("ann", Timestamp(0)).unwrap(),
        store.user("ben", Timestamp(0)).unwrap(),
    );
    let here = store.start_session(&quiz_session("discord:g:c")).unwrap();
    let elsewhere = store.start_session(&quiz_session("discord:gg:c")).unwrap();
    store.record_attempt(&attempt(here, 0, ann, true), None).unwrap();
    store.record_attempt(&attempt(here, 0, ben, false), None).unwrap();
    store.record_attempt(&attempt(here, 1, ann, false), None).unwrap();
    store.record_attempt(&attempt(elsewhere, 1, ben, true), None).unwrap();
    store
        .record_daily_post(&new_daily_post("q0", 1), &claim("replica:a", 100))
        .unwrap();
    let daily = DailyAnswer {
        guild: "g".into(),
        slot: "2026-11-26".into(),
        user: ben,
        answer: "C".into(),
        picked: vec!["k3".into()],
        correct: true,
        answered_at: Timestamp(2_000),
    };
    store.record_daily_answer(&daily, None).unwrap();
    // Guild g: its own channel's attempts and its daily answers, not guild gg's.
    assert_eq!(
        store.group_recent("g", Timestamp(0)).unwrap(),
        vec![("q0".to_string(), 2, 3), ("q1".to_string(), 0, 1)]
    );
    assert_eq!(
        store.group_recent("g", Timestamp(1_001)).unwrap(),
        vec![("q0".to_string(), 1, 1), ("q1".to_string(), 0, 1)]
    );
    assert_eq!(
        store.guild_daily_answers("g").unwrap()[0].picked,
        vec!["k3".to_string()]
    );
    let late = attempt(here, 2, ann, true);
    store.record_attempt(&late, Some(&card("q2", 50))).unwrap();
    let answer = DailyAnswer {
        user: ann,
        ..daily.clone()
    };
    store.record_daily_answer(&answer, Some(&card("q0", 80))).unwrap();
    assert_eq!(store.card(ann, "q2").unwrap(), Some(card("q2", 50)));
    assert_eq!(
        store.group_due("g", Timestamp(60)).unwrap(),
        vec![("q2".to_string(), 1)]
    );
    assert_eq!(
        store.group_due("g", Timestamp(80)).unwrap(),
        vec![("q0".to_string(), 1), ("q2".to_string(), 1)]
    );
    assert_eq!(store.group_due("gg", Timestamp(80)).unwrap(), vec![]);
    let due: Vec<String> = store
        .due_cards(ann, Timestamp(100), 1)
        .unwrap()
        .into_iter()
        .map(|c| c.question_id)
        .collect();
    assert_eq!(due, vec!["q2".to_string()]);
    let stats = store.stats(ann, Timestamp(60)).unwrap();
    assert_eq!(
        stats,
        UserStats {
            attempts: 3,
            correct: 2,
            sessions: 1,
            points: 0,
            cards: 2,
            due_cards: 1,
        }
    );
}

pub fn a_daily_answer_to_a_post_never_recorded_is_refused(backend: &impl Backend) {
    let mut store = backend.handle();
    let user = store.user("dan", Timestamp(0)).unwrap();
    let orphan = DailyAnswer {
        guild: "g".into(),
        slot: "2026-01-01".into(),
        user,
        answer: "A".into(),
        picked: Vec::new(),
        correct: true,
        answered_at: Timestamp(1),
    };
    assert!(store.record_daily_answer(&orphan, None).is_err());
    assert!(store.daily_answers("g", "2026-01-01").unwrap().is_empty());
}

/// A card in review with every field set, due at `due`.
fn card(question: &str, due: i64) -> CardState {
    CardState {
        question_id: question.into(),
        due: Timestamp(due),
        stability: 1.5,
        difficulty: 4.25,
        elapsed_days: 2,
        scheduled_days: 3,
        reps: 4,
        lapses: 1,
        state: 2,
        last_review: Timestamp(1),
    }
}
