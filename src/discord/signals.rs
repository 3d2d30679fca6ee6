//! The bot's side of `jobs::signals`: after a `/reload` or a schedule change it bumps the topic's counter
//! (`announce`), and when another replica bumped one it reindexes its notes or wakes its daily scheduler.
//! It also records this replica (build version, store schema) when it starts and as a heartbeat.

use crate::jobs::signals::{Heard, Listener};
use crate::store::Topic;

use super::Bot;

impl Bot {
    /// Tells the other replicas that `topic` changed here. The count is noted as heard under the store
    /// lock, with the bump, so this replica's own poll never acts on it. A failure is logged: the change
    /// stands here, the others learn of it at their next change or restart.
    pub(crate) fn announce(&self, topic: Topic) {
        let bumped = self.with_store(|store| store.bump(topic).map(|count| self.heard.note(topic, count)));
        if let Err(error) = bumped {
            tracing::error!(topic = topic.as_str(), "telling the other replicas failed: {error}");
        }
    }
}

impl Bot {
    /// Records this replica, its build version and the store schema in the store (at start, then as a
    /// heartbeat): what runs on a shared store is there to see.
    pub(crate) fn record_replica(&self) {
        let now = self.clock.now();
        let recorded = self.with_store(|store| store.record_replica(&self.replica, crate::store::BUILD_VERSION, now));
        if let Err(error) = recorded {
            tracing::warn!("recording this replica in the store failed: {error}");
        }
    }
}

impl Listener for Bot {
    fn heard(&self) -> &Heard {
        &self.heard
    }

    fn count(&self, topic: Topic) -> Option<u64> {
        self.with_store(|store| store.seen(topic))
            .inspect_err(|error| tracing::warn!(topic = topic.as_str(), "reading a change counter failed: {error}"))
            .ok()
    }

    fn heartbeat(&self) {
        self.record_replica();
    }

    async fn changed(&self, topic: Topic) {
        match topic {
            Topic::Daily => self.daily_changed.notify_one(),
            Topic::Notes => match self.reload_now().await {
                Ok(Some(sections)) => tracing::info!(sections, "notes reindexed after a /reload on another replica"),
                Ok(None) => {}
                Err(error) => tracing::error!("reloading the notes failed: {error:#}"),
            },
        }
    }
}
