//! One contract, two backends: every behaviour of the store the bot relies on (idempotent writes,
//! compare-and-swap saves, leases, daily claims, exactly-once effects, the reads built on them), written
//! once in `scenarios` generic over a backend, and run on SQLite (a temp file) and on PostgreSQL (a fresh
//! database per test, created on the server `TSUMIAGE_TEST_POSTGRES_URL` names and dropped afterwards, so
//! tests run in parallel). Without that variable the PostgreSQL half is skipped with one notice; `.ci/run`
//! starts a throw-away server and counts the tests run on each backend by their module
//! (`store_contract::sqlite::`, `store_contract::postgres::`).
//!
//! `postgres_only` holds what SQLite cannot show: two stores on two connections racing for the same save,
//! slot and lease, two replicas migrating one database at once, and the connection errors.

mod live_scenarios;
mod postgres_only;
mod scenarios;

use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use tsumiage::store::{LeaderLine, PgStore, SqliteStore, Store, Users};

/// The server the PostgreSQL half runs on: a superuser URL (a database is created per test).
pub const POSTGRES_URL_VARIABLE: &str = "TSUMIAGE_TEST_POSTGRES_URL";

/// A fresh, empty store of one backend, and as many handles onto it as a test needs (each another
/// connection: another replica).
pub trait Backend {
    type Handle: Store + Leaderboard + Send + 'static;
    fn handle(&self) -> Self::Handle;
}

/// The leaderboard is an inherent method on each backend today, not part of `Store`.
pub trait Leaderboard {
    fn leaders(&self, name_prefix: &str, limit: usize) -> Vec<LeaderLine>;
}

impl Leaderboard for SqliteStore {
    fn leaders(&self, name_prefix: &str, limit: usize) -> Vec<LeaderLine> {
        self.leaderboard(name_prefix, limit).unwrap()
    }
}

impl Leaderboard for PgStore {
    fn leaders(&self, name_prefix: &str, limit: usize) -> Vec<LeaderLine> {
        self.leaderboard(name_prefix, limit).unwrap()
    }
}

pub struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    pub fn fresh() -> Option<Sqlite> {
        Some(Sqlite {
            dir: tempfile::tempdir().unwrap(),
        })
    }
}

impl Backend for Sqlite {
    type Handle = SqliteStore;
    fn handle(&self) -> SqliteStore {
        SqliteStore::open(&self.dir.path().join("data/t.sqlite")).unwrap()
    }
}

/// A database of its own on the test server, dropped (with any connection still open) when done.
pub struct Postgres {
    admin_url: String,
    database: String,
    pub url: String,
}

impl Postgres {
    /// `None` (after one notice per test run) when no server is configured.
    pub fn fresh() -> Option<Postgres> {
        let admin_url = postgres_server_url()?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let database = format!(
            "tsumiage_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        admin(&admin_url)
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .unwrap();
        let url = with_database(&admin_url, &database);
        Some(Postgres {
            admin_url,
            database,
            url,
        })
    }
}

impl Backend for Postgres {
    type Handle = PgStore;
    fn handle(&self) -> PgStore {
        PgStore::connect(&self.url).unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database);
        // A failed drop leaves a database on a throw-away server: not worth a second panic.
        let _ = admin(&self.admin_url).batch_execute(&drop);
    }
}

/// The server's URL, or `None` after printing, once per run, that the PostgreSQL half is skipped.
pub fn postgres_server_url() -> Option<String> {
    let url = std::env::var(POSTGRES_URL_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty());
    if url.is_none() {
        static NOTICE: Once = Once::new();
        NOTICE.call_once(|| {
            // Straight to the stderr handle: the test harness captures `eprintln!`, and this notice is
            // meant to be seen once per run.
            let _ = writeln!(
                std::io::stderr(),
                "note: {POSTGRES_URL_VARIABLE} is not set: the PostgreSQL half of the store contract is \
                 skipped (.ci/run starts a server and runs it)"
            );
        });
    }
    url
}

/// A plain connection to the server, for creating and dropping databases (tests run outside any tokio
/// runtime, so the synchronous client is fine here).
pub fn admin(url: &str) -> ::postgres::Client {
    ::postgres::Client::connect(url, ::postgres::NoTls)
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VARIABLE} is set but its server is unreachable: {e}"))
}

/// `url` with its database replaced (the query string kept).
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    format!("{}/{database}{query}", &base[..path_start])
}

/// Runs each named scenario on the given backend, as one `#[test]` each.
macro_rules! contract_tests {
    ($backend:ident: $($scenario:ident),* $(,)?) => {
        $(
            #[test]
            fn $scenario() {
                if let Some(backend) = super::$backend::fresh() {
                    super::scenarios::$scenario(&backend);
                }
            }
        )*
    };
}

macro_rules! every_scenario {
    ($backend:ident) => {
        contract_tests!($backend:
            a_replayed_attempt_counts_once_and_does_not_touch_the_card_again,
            finishing_twice_and_recovery_never_count_a_score_twice,
            one_running_session_per_channel_and_live_sessions_stay_open,
            misses_due_cards_and_flags,
            a_daily_answer_reviews_the_card_once_and_a_wrong_one_is_a_miss_until_answered_right,
            a_daily_slot_is_recorded_by_one_replica_and_its_send_and_reveal_claimed_by_one_until_the_claim_lapses,
            daily_records_are_idempotent,
            a_save_based_on_an_old_version_is_a_conflict_and_changes_nothing,
            a_lease_is_taken_renewed_and_after_it_expired_stolen,
            a_released_lease_can_be_taken_at_once_and_only_its_holder_releases_it,
            the_last_question_shown_is_per_channel,
            another_handle_sees_the_same_records,
            the_leaderboard_sums_finished_sessions_best_first,
            group_views_count_the_guilds_quizzes_and_daily_answers,
            a_daily_answer_to_a_post_never_recorded_is_refused,
            signals_count_every_bump_per_topic_and_every_handle_sees_them,
            replicas_record_their_version_and_saves_carry_the_version_that_saved_them,
        );
    };
}

mod sqlite {
    every_scenario!(Sqlite);
}

mod postgres {
    every_scenario!(Postgres);

    #[test]
    fn two_replicas_racing_the_same_save_one_wins() {
        super::postgres_only::two_replicas_racing_the_same_save_one_wins();
    }

    #[test]
    fn two_replicas_racing_for_the_same_daily_slot_and_claim_one_wins() {
        super::postgres_only::two_replicas_racing_for_the_same_daily_slot_and_claim_one_wins();
    }

    #[test]
    fn two_replicas_stealing_the_same_expired_lease_one_wins() {
        super::postgres_only::two_replicas_stealing_the_same_expired_lease_one_wins();
    }

    #[test]
    fn two_replicas_starting_a_quiz_in_one_channel_one_wins() {
        super::postgres_only::two_replicas_starting_a_quiz_in_one_channel_one_wins();
    }

    #[test]
    fn replicas_opening_a_new_database_at_once_migrate_it_once() {
        super::postgres_only::replicas_opening_a_new_database_at_once_migrate_it_once();
    }

    #[test]
    fn a_newer_schema_or_a_foreign_database_is_refused_and_left_alone() {
        super::postgres_only::a_newer_schema_or_a_foreign_database_is_refused_and_left_alone();
    }

    #[test]
    fn a_wrong_password_is_one_error_naming_the_server_not_the_password() {
        super::postgres_only::a_wrong_password_is_one_error_naming_the_server_not_the_password();
    }

    #[test]
    fn a_refused_connection_or_a_malformed_url_is_one_clear_error() {
        super::postgres_only::a_refused_connection_or_a_malformed_url_is_one_clear_error();
    }

    #[test]
    fn open_picks_the_backend_from_the_setting() {
        super::postgres_only::open_picks_the_backend_from_the_setting();
    }

    #[test]
    fn a_connection_the_server_dropped_is_reopened_by_the_next_call() {
        super::postgres_only::a_connection_the_server_dropped_is_reopened_by_the_next_call();
    }

    #[test]
    fn a_store_call_from_inside_a_tokio_runtime_works() {
        super::postgres_only::a_store_call_from_inside_a_tokio_runtime_works();
    }
}

#[test]
fn a_url_gets_its_database_replaced() {
    assert_eq!(with_database("postgres://u@h:1/postgres", "t"), "postgres://u@h:1/t");
    assert_eq!(with_database("postgres://u@h:1", "t"), "postgres://u@h:1/t");
    assert_eq!(
        with_database("postgresql://u:p@h/x?sslmode=disable", "t"),
        "postgresql://u:p@h/t?sslmode=disable"
    );
}
