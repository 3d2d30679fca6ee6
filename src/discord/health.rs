//! Readiness, as `GET /healthz` reports it in HTTP mode: a replica is ready when its notes are loaded, its
//! index holds every section of them, and its store answers a cheap read now; not while it shuts down (so
//! a load balancer stops sending it interactions first). Not ready comes with a one-line reason.

use std::sync::Arc;
use std::time::Duration;

use super::Bot;
use crate::store::StoreError;

/// How long the store's read may take before the replica counts as not ready (a server that stopped
/// answering, a lock held by a long write).
const STORE_PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the checks found.
#[derive(Debug)]
pub(crate) struct Checks {
    pub shutting_down: bool,
    /// Searchable sections in the loaded notes, and documents in the index that serves them.
    pub sections: usize,
    pub indexed: u64,
    /// The store's read: `None` when it did not answer in time.
    pub store: Option<Result<(), StoreError>>,
}

/// `Ok` when ready; otherwise the first reason it is not, on one line.
pub(crate) fn verdict(checks: Checks) -> Result<(), String> {
    if checks.shutting_down {
        return Err("shutting down".into());
    }
    if checks.sections == 0 {
        return Err("no notes loaded: the notes folder has no searchable section".into());
    }
    if checks.indexed != checks.sections as u64 {
        return Err(format!(
            "index not ready: {} of {} sections indexed",
            checks.indexed, checks.sections
        ));
    }
    match checks.store {
        None => Err(format!(
            "store did not answer within {} s",
            STORE_PROBE_TIMEOUT.as_secs()
        )),
        Some(Err(error)) => Err(one_line(&format!("store unavailable: {error}"))),
        Some(Ok(())) => Ok(()),
    }
}

/// Multi-line errors (a driver's detail) folded onto one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs the checks on `bot`: the store's read off the async threads (it may wait on a server).
pub(crate) async fn readiness(bot: &Arc<Bot>) -> Result<(), String> {
    let library = bot.library();
    let probe = bot.clone();
    let store = tokio::task::spawn_blocking(move || {
        // A read that touches the database and changes nothing: the name is no member's.
        probe.with_store(|store| store.find_user("healthz:probe").map(|_| ()))
    });
    let store = match tokio::time::timeout(STORE_PROBE_TIMEOUT, store).await {
        Ok(Ok(read)) => Some(read),
        Ok(Err(panicked)) => Some(Err(StoreError::Backend(format!("the store read panicked: {panicked}")))),
        Err(_) => None,
    };
    verdict(Checks {
        shutting_down: bot.is_shutting_down(),
        sections: library.index.meta.sections,
        indexed: library.index.searcher().num_docs(),
        store,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Checks {
        Checks {
            shutting_down: false,
            sections: 3,
            indexed: 3,
            store: Some(Ok(())),
        }
    }

    #[test]
    fn ready_only_when_notes_index_and_store_are_up() {
        assert_eq!(verdict(ready()), Ok(()));
        let cases: [(Checks, &str); 5] = [
            (
                Checks {
                    shutting_down: true,
                    ..ready()
                },
                "shutting down",
            ),
            (
                Checks {
                    sections: 0,
                    indexed: 0,
                    ..ready()
                },
                "no notes loaded",
            ),
            (
                Checks { indexed: 1, ..ready() },
                "index not ready: 1 of 3 sections indexed",
            ),
            (Checks { store: None, ..ready() }, "store did not answer within 2 s"),
            (
                Checks {
                    store: Some(Err(StoreError::Backend("cannot reach db:5432\n  (refused)".into()))),
                    ..ready()
                },
                "store unavailable: store: cannot reach db:5432 (refused)",
            ),
        ];
        for (checks, reason) in cases {
            let found = verdict(checks).unwrap_err();
            assert!(found.starts_with(reason), "{found}");
            assert!(!found.contains('\n'), "{found}");
        }
    }
}
