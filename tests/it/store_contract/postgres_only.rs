//! What only a database server can show: two replicas, each with its own connection, racing for the same
//! compare-and-swap save, daily slot, claim, lease and channel (exactly one wins every round); replicas
//! migrating a new database at once; a newer or foreign database refused untouched; the connection
//! errors, a connection the server cut, and store calls made from inside a tokio runtime, as the bot
//! makes them.

use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::thread;

use tsumiage::clock::Timestamp;
use tsumiage::store::*;

use super::{Backend, Postgres, admin};

/// How many times each race is run: each round is a fresh contest between two threads.
const ROUNDS: usize = 25;

/// Runs `contest(replica, round)` on two threads with a store each, released together every round, and
/// returns each round's two outcomes. A contest returns its errors instead of panicking, so that a failing
/// replica never leaves the other waiting at the barrier.
fn race<T: Send + 'static>(
    backend: &Postgres,
    contest: impl Fn(&mut PgStore, usize, usize) -> Result<T> + Send + Sync + 'static,
) -> Vec<[T; 2]> {
    let contest = Arc::new(contest);
    let start = Arc::new(Barrier::new(2));
    let replicas: Vec<_> = (0..2)
        .map(|replica| {
            let (contest, start, mut store) = (contest.clone(), start.clone(), backend.handle());
            thread::spawn(move || {
                (0..ROUNDS)
                    .map(|round| {
                        start.wait();
                        contest(&mut store, replica, round)
                    })
                    .collect::<Vec<Result<T>>>()
            })
        })
        .collect();
    let mut outcomes: Vec<Vec<T>> = replicas
        .into_iter()
        .map(|replica| replica.join().unwrap().into_iter().map(Result::unwrap).collect())
        .collect();
    let second = outcomes.pop().unwrap();
    let first = outcomes.pop().unwrap();
    first.into_iter().zip(second).map(|(a, b)| [a, b]).collect()
}

fn quiz(channel: &str, owner: &str) -> NewSession {
    NewSession {
        channel: channel.into(),
        started_at: Timestamp(0),
        question_count: ROUNDS,
        owner: owner.into(),
    }
}

fn effect(name: String) -> NewEffect {
    NewEffect {
        effect: name,
        payload: "{}".into(),
    }
}

pub fn two_replicas_racing_the_same_save_one_wins() {
    let Some(backend) = Postgres::fresh() else { return };
    let mut store = backend.handle();
    let session = store
        .start_quiz(&quiz("c", "replica:a"), Timestamp(100), "s", &[])
        .unwrap();
    // Round r: both replicas loaded version r + 1 and save it, each with its own effect for the round.
    let rounds = race(&backend, move |store, replica, round| {
        let based_on = round as i64 + 1;
        let state = format!("round {round} by {replica}");
        let effects = [effect(format!("ask:{round}")), effect(format!("by:{replica}:{round}"))];
        let outcome = store.save_quiz_state(session, based_on, &state, &effects, Timestamp(round as i64))?;
        // The loser reloads: it must find the winner's save, a version past its own base.
        let reloaded = store.quiz_state(session)?.map(|stored| stored.version);
        Ok((outcome, reloaded))
    });
    for (round, [a, b]) in rounds.iter().enumerate() {
        assert!(
            a.1 >= Some(round as i64 + 2) && b.1 >= Some(round as i64 + 2),
            "round {round}"
        );
        let outcomes = &[a.0, b.0];
        let saved = Cas::Saved(round as i64 + 2);
        assert!(
            outcomes == &[saved, Cas::Conflict] || outcomes == &[Cas::Conflict, saved],
            "round {round}: {outcomes:?}"
        );
    }
    let stored = store.quiz_state(session).unwrap().unwrap();
    assert_eq!(stored.version, ROUNDS as i64 + 1);
    // Each round's effects are the winner's only: `ask:r` once, one `by:…:r`.
    let effects = store.quiz_effects(session).unwrap();
    assert_eq!(effects.len(), 2 * ROUNDS, "{effects:?}");
    for round in 0..ROUNDS {
        let by = |replica: usize| effects.iter().any(|e| e.effect == format!("by:{replica}:{round}"));
        assert!(by(0) != by(1), "round {round}");
    }
}

pub fn two_replicas_racing_for_the_same_daily_slot_and_claim_one_wins() {
    let Some(backend) = Postgres::fresh() else { return };
    let rounds = race(&backend, |store, replica, round| {
        let slot = format!("2026-12-{:02}", round + 1);
        let owner = format!("replica:{replica}");
        let post = NewDailyPost {
            guild: "g".into(),
            slot: slot.clone(),
            channel: "c".into(),
            question_id: format!("q{replica}"),
            at: Timestamp(round as i64),
        };
        let claim = Lease {
            owner: owner.clone(),
            until: Some(Timestamp(100)),
        };
        let recorded = store.record_daily_post(&post, &claim)?;
        // Both then race to take over the lapsed claim on the same slot.
        let (now, until) = (Timestamp(200), Timestamp(300));
        let late = format!("replica:late{replica}");
        let claimed = store.claim_daily_post("g", &slot, DailyPostState::Recorded, &late, now, until)?;
        Ok((recorded, claimed))
    });
    let store = backend.handle();
    for (round, [a, b]) in rounds.iter().enumerate() {
        let recorded = [a.0, b.0];
        assert!(
            recorded == [Recorded::New, Recorded::Duplicate] || recorded == [Recorded::Duplicate, Recorded::New],
            "round {round}: {recorded:?}"
        );
        assert!(a.1 != b.1, "round {round}: both or neither claimed the lapsed slot");
        let slot = format!("2026-12-{:02}", round + 1);
        let post = store.daily_post("g", &slot).unwrap().unwrap();
        let winner = if a.0 == Recorded::New { "q0" } else { "q1" };
        assert_eq!(post.question_id, winner, "round {round}");
    }
    assert_eq!(store.daily_posts("g").unwrap().len(), ROUNDS);
}

pub fn two_replicas_stealing_the_same_expired_lease_one_wins() {
    let Some(backend) = Postgres::fresh() else { return };
    let mut store = backend.handle();
    let session = store
        .start_quiz(&quiz("c", "replica:dead"), Timestamp(100), "s", &[])
        .unwrap();
    // Round r: the lease lapsed at 100 + 1000 r; both try to steal it then, for 1000 ms.
    let rounds = race(&backend, move |store, replica, round| {
        let now = Timestamp(100 + 1_000 * round as i64);
        let until = Timestamp(now.0 + 1_000);
        store.take_lease(session, &format!("replica:{replica}"), now, until)
    });
    for (round, [a, b]) in rounds.iter().enumerate() {
        assert!(a != b, "round {round}: both or neither took the lease");
    }
    let lease = store.quiz_state(session).unwrap().unwrap().lease;
    assert_eq!(lease.until, Some(Timestamp(100 + 1_000 * ROUNDS as i64)));
}

pub fn two_replicas_starting_a_quiz_in_one_channel_one_wins() {
    let Some(backend) = Postgres::fresh() else { return };
    let rounds = race(&backend, |store, replica, round| {
        let channel = format!("discord:g:{round}");
        let started = store.start_quiz(&quiz(&channel, &format!("replica:{replica}")), Timestamp(100), "s", &[]);
        match started {
            Ok(session) => Ok(Ok(session)),
            Err(StoreError::ChannelBusy { session, .. }) => Ok(Err(session)),
            Err(other) => Err(other),
        }
    });
    for (round, [a, b]) in rounds.iter().enumerate() {
        match (a, b) {
            (Ok(won), Err(busy)) | (Err(busy), Ok(won)) => assert_eq!(won, busy, "round {round}"),
            other => panic!("round {round}: {other:?}"),
        }
    }
    assert_eq!(backend.handle().unfinished_sessions().unwrap().len(), ROUNDS);
}

pub fn replicas_opening_a_new_database_at_once_migrate_it_once() {
    let Some(backend) = Postgres::fresh() else { return };
    let start = Arc::new(Barrier::new(4));
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let (start, url) = (start.clone(), backend.url.clone());
            thread::spawn(move || {
                start.wait();
                PgStore::connect(&url).map(|store| store.schema_version().unwrap())
            })
        })
        .collect();
    for opener in openers {
        assert_eq!(opener.join().unwrap().unwrap(), PG_SCHEMA_VERSION);
    }
    let mut client = admin(&backend.url);
    let applied: i64 = client
        .query_one("SELECT count(*) FROM tsumiage_migrations", &[])
        .unwrap()
        .get(0);
    assert_eq!(applied, PG_SCHEMA_VERSION);
}

/// Every table of the public schema with its row count: what "left alone" is checked against.
fn snapshot(client: &mut ::postgres::Client) -> Vec<(String, i64)> {
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    tables
        .into_iter()
        .map(|table| {
            let rows: i64 = client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .unwrap()
                .get(0);
            (table, rows)
        })
        .collect()
}

pub fn a_newer_schema_or_a_foreign_database_is_refused_and_left_alone() {
    let Some(backend) = Postgres::fresh() else { return };
    backend.handle().user("alice", Timestamp(0)).unwrap();
    let mut client = admin(&backend.url);
    client
        .execute(
            "INSERT INTO tsumiage_migrations (version) VALUES ($1)",
            &[&(PG_SCHEMA_VERSION + 1)],
        )
        .unwrap();
    let before = snapshot(&mut client);
    let error = PgStore::connect(&backend.url)
        .err()
        .expect("a newer schema must be refused");
    assert!(
        matches!(error, StoreError::NewerSchema { found, .. } if found == PG_SCHEMA_VERSION + 1),
        "{error}"
    );
    assert!(error.to_string().contains("newer tsumiage"), "{error}");
    assert_eq!(snapshot(&mut client), before);

    let Some(foreign) = Postgres::fresh() else { return };
    let mut client = admin(&foreign.url);
    client
        .batch_execute("CREATE TABLE users (id INT PRIMARY KEY, email TEXT)")
        .unwrap();
    let before = snapshot(&mut client);
    let error = PgStore::connect(&foreign.url)
        .err()
        .expect("another program's tables must be refused");
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error}");
    assert!(error.to_string().contains("users"), "{error}");
    assert_eq!(snapshot(&mut client), before);
}

pub fn a_wrong_password_is_one_error_naming_the_server_not_the_password() {
    let Some(backend) = Postgres::fresh() else { return };
    // `.ci/postgres` makes this one role give its password; every other role is trusted on 127.0.0.1.
    admin(&backend.url)
        .batch_execute(
            "DO $$ BEGIN
                 CREATE ROLE tsumiage_password_check LOGIN PASSWORD 'the-right-one';
             EXCEPTION WHEN duplicate_object THEN NULL;
             END $$",
        )
        .unwrap();
    let secret = "correct-horse-battery-staple";
    let authority_and_path = backend
        .url
        .split_once('@')
        .map_or(backend.url.as_str(), |(_, rest)| rest);
    let url = format!("postgres://tsumiage_password_check:{secret}@{authority_and_path}");
    let Err(error) = PgStore::connect(&url) else {
        panic!(
            "the server at {} accepted a wrong password for tsumiage_password_check: it must require one \
             for that role (see .ci/postgres)",
            super::POSTGRES_URL_VARIABLE
        )
    };
    let message = error.to_string();
    let server = authority_and_path.split('?').next().unwrap();
    assert!(message.contains(server), "{message} should name {server}");
    assert!(message.contains("password authentication failed"), "{message}");
    assert!(!message.contains(secret), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

pub fn a_refused_connection_or_a_malformed_url_is_one_clear_error() {
    // A port nobody listens on: bound, then released.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let secret = "s3cret-Pa55";
    let error = PgStore::connect(&format!("postgres://quiz:{secret}@127.0.0.1:{port}/tsumiage"))
        .err()
        .expect("nothing listens there");
    let message = error.to_string();
    assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    assert!(message.contains(&format!("127.0.0.1:{port}/tsumiage")), "{message}");
    assert!(message.contains("cannot connect"), "{message}");
    assert!(!message.contains(secret), "{message}");

    for malformed in [
        format!("postgres://quiz:{secret}@127.0.0.1:port/tsumiage"),
        format!("postgresql://quiz:{secret}@[::1/tsumiage"),
        format!("postgres://quiz@127.0.0.1/tsumiage?password={secret}&bogus_option=1"),
    ] {
        let message = PgStore::connect(&malformed).err().expect(&malformed).to_string();
        assert!(message.contains("malformed PostgreSQL URL"), "{message}");
        assert!(!message.contains(secret), "{message}");
    }
}

pub fn open_picks_the_backend_from_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite");
    let mut sqlite = open(path.to_str().unwrap()).unwrap();
    sqlite.user("alice", Timestamp(0)).unwrap();
    drop(sqlite);
    assert!(SqliteStore::open(&path).unwrap().find_user("alice").unwrap().is_some());
    let error = open("postgres://alice:hunter2@localhost:99999/db").err().unwrap();
    assert!(!error.to_string().contains("hunter2"), "{error}");

    let Some(backend) = Postgres::fresh() else { return };
    let mut store = open(&backend.url).unwrap();
    let id = store.user("bob", Timestamp(0)).unwrap();
    assert_eq!(backend.handle().find_user("bob").unwrap(), Some(id));
    // The other spelling of the scheme works too.
    let other = backend.url.replacen("postgres://", "postgresql://", 1);
    assert_eq!(open(&other).unwrap().find_user("bob").unwrap(), Some(id));
}

pub fn a_store_call_from_inside_a_tokio_runtime_works() {
    let Some(backend) = Postgres::fresh() else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let url = backend.url.clone();
    // As the bot does: connect and call the store from async tasks, with no spawn_blocking.
    let id = runtime.block_on(async move {
        let mut store = PgStore::connect(&url).unwrap();
        let task = tokio::spawn(async move { store.user("carol", Timestamp(0)).unwrap() });
        task.await.unwrap()
    });
    assert_eq!(backend.handle().find_user("carol").unwrap(), Some(id));
}

pub fn a_connection_the_server_dropped_is_reopened_by_the_next_call() {
    let Some(backend) = Postgres::fresh() else { return };
    let mut store = backend.handle();
    let alice = store.user("alice", Timestamp(0)).unwrap();
    let database = backend.url.rsplit('/').next().unwrap().to_string();
    let terminated: i64 = admin(&backend.url)
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&database],
        )
        .unwrap()
        .get(0);
    assert_eq!(terminated, 1);
    // `pg_terminate_backend` only signals: wait (boundedly) until the server process is gone, so the
    // next call meets a dead connection rather than racing its death.
    let gone = (0..500).any(|_| {
        let left: i64 = admin(&backend.url)
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&database],
            )
            .unwrap()
            .get(0);
        left == 0 || {
            thread::sleep(std::time::Duration::from_millis(10));
            false
        }
    });
    assert!(gone, "the terminated connection is still listed");
    // The call that finds the connection cut may fail (with an error, not a panic) or, if the driver
    // noticed first, reconnect at once; the one after it works either way, on the same records.
    if let Err(error) = store.find_user("alice") {
        assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    }
    assert_eq!(store.find_user("alice").unwrap(), Some(alice));
    assert_eq!(store.user("bob", Timestamp(1)).unwrap(), alice + 1);
}
