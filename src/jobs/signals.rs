//! Replicas hear each other: a replica that reloaded its notes or changed a daily schedule bumps the
//! topic's change counter in the store (`store::Signals`); every replica polls the counters and acts on a
//! change it did not make (reindexes its notes, wakes its daily scheduler) within one poll period.
//!
//! `Heard` is the highest count this replica has acted on or made itself, per topic. A replica's own bump
//! is noted in it under the store lock, in the same step as the bump, so its poll never mistakes its own
//! change for another's. Counts only grow, and acting once on the latest count covers every change up to
//! it (a reload reads the whole folder, a woken scheduler reads every schedule), so a burst of changes
//! costs one action.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::store::Topic;

/// How often a replica looks at the counters: a change reaches every replica within about this long.
pub const POLL: Duration = Duration::from_millis(500);

/// The highest count of each topic this replica has made or acted on.
#[derive(Debug, Default)]
pub struct Heard {
    notes: AtomicU64,
    daily: AtomicU64,
}

impl Heard {
    fn counter(&self, topic: Topic) -> &AtomicU64 {
        match topic {
            Topic::Notes => &self.notes,
            Topic::Daily => &self.daily,
        }
    }

    /// Notes `count` for `topic`; whether it is newer than anything noted before.
    pub fn note(&self, topic: Topic, count: u64) -> bool {
        self.counter(topic).fetch_max(count, Ordering::SeqCst) < count
    }
}

/// What the listener asks of the bot.
pub trait Listener: Send + Sync + 'static {
    /// What this replica has heard.
    fn heard(&self) -> &Heard;
    /// The stored count of `topic` (`None` when the store could not be read: tried again next poll).
    fn count(&self, topic: Topic) -> Option<u64>;
    /// Acts on a change of `topic` another replica made.
    fn changed(&self, topic: Topic) -> impl Future<Output = ()> + Send;
    /// Records in the store that this replica is still there (every `HEARTBEAT_POLLS` polls).
    fn heartbeat(&self);
}

/// How many polls between two heartbeats: a replica's "last seen" is at most this many periods old.
pub const HEARTBEAT_POLLS: u32 = 60;

/// Takes the counts stored now as heard. Call it before the jobs first read what the topics cover (the
/// daily schedules): what those counts counted is then already in what they read, and any later change is
/// acted on. Done inside `run`, a change made between the scheduler's first read and the listener's start
/// would be taken as old and never acted on.
pub fn hear_current<L: Listener>(host: &L) {
    for topic in Topic::ALL {
        if let Some(count) = host.count(topic) {
            host.heard().note(topic, count);
        }
    }
}

/// Runs until shutdown: every `period`, acts on each topic whose count moved past what was heard
/// (`hear_current` first).
pub async fn run<L: Listener>(host: Arc<L>, period: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut polls = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            result = shutdown.changed() => if result.is_err() || *shutdown.borrow() { return },
        }
        polls = (polls + 1) % HEARTBEAT_POLLS;
        if polls == 0 {
            host.heartbeat();
        }
        for topic in Topic::ALL {
            if let Some(count) = host.count(topic)
                && host.heard().note(topic, count)
            {
                tracing::info!(
                    topic = topic.as_str(),
                    count,
                    "another replica changed it: acting on it here"
                );
                host.changed(topic).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A store's counters and what the listener acted on.
    #[derive(Default)]
    struct Host {
        heard: Heard,
        counts: Mutex<[u64; 2]>,
        acted: Mutex<Vec<Topic>>,
    }

    impl Host {
        /// Another replica's change: the stored count moves, this replica has not heard it.
        fn bump_elsewhere(&self, topic: Topic) {
            self.counts.lock().unwrap()[topic as usize] += 1;
        }

        /// This replica's own change: bumped and noted in one step, as the bot does under the store lock.
        fn bump_here(&self, topic: Topic) {
            let mut counts = self.counts.lock().unwrap();
            counts[topic as usize] += 1;
            self.heard.note(topic, counts[topic as usize]);
        }
    }

    impl Listener for Host {
        fn heard(&self) -> &Heard {
            &self.heard
        }

        fn count(&self, topic: Topic) -> Option<u64> {
            Some(self.counts.lock().unwrap()[topic as usize])
        }

        async fn changed(&self, topic: Topic) {
            self.acted.lock().unwrap().push(topic);
        }

        fn heartbeat(&self) {}
    }

    #[tokio::test(start_paused = true)]
    async fn acts_once_on_each_change_made_elsewhere_never_on_its_own_nor_on_what_came_before_it() {
        let host = Arc::new(Host::default());
        host.bump_elsewhere(Topic::Daily); // before this replica started
        hear_current(&*host);
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(run(host.clone(), POLL, shutdown));
        tokio::time::sleep(POLL * 3).await;
        assert!(host.acted.lock().unwrap().is_empty());

        host.bump_here(Topic::Notes);
        tokio::time::sleep(POLL * 3).await;
        assert!(host.acted.lock().unwrap().is_empty(), "its own change");

        host.bump_elsewhere(Topic::Daily);
        host.bump_elsewhere(Topic::Daily);
        host.bump_elsewhere(Topic::Notes);
        tokio::time::sleep(POLL * 3).await;
        assert_eq!(
            *host.acted.lock().unwrap(),
            [Topic::Notes, Topic::Daily],
            "two daily bumps, one wake"
        );

        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[test]
    fn a_count_is_new_only_once_and_an_older_one_never() {
        let heard = Heard::default();
        assert!(heard.note(Topic::Daily, 2));
        assert!(!heard.note(Topic::Daily, 2));
        assert!(!heard.note(Topic::Daily, 1));
        assert!(heard.note(Topic::Notes, 1));
    }
}
