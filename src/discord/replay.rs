//! The interactions an HTTP endpoint already handled, so a replayed request (the same signed body sent
//! again while its timestamp is still inside the accepted window) runs nothing a second time: it gets the
//! first request's response instead, which is also what Discord needs if it retried because the first
//! response got lost. Bounded by age (ids older than the window cannot come back: their timestamp is
//! refused) and by count (the oldest are forgotten first).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

/// The first response to an interaction: `None` while it is being handled; `Some(None)` when the handler
/// ended without one (answered 204).
pub type Response = Option<Option<Value>>;

/// What to do with an interaction id.
pub enum Seen {
    /// First time: handle it and publish the response on the sender.
    First(watch::Sender<Response>),
    /// Already handled (or being handled): wait for that response on the receiver and send it again.
    Replay(watch::Receiver<Response>),
}

pub struct Handled {
    keep_for: Duration,
    capacity: usize,
    order: VecDeque<(Instant, String)>,
    responses: HashMap<String, watch::Receiver<Response>>,
}

impl Handled {
    /// Remembers ids for `keep_for` (twice the timestamp window: a request may be signed up to a window
    /// in the past and replayed up to a window in the future), at most `capacity` of them.
    pub fn new(keep_for: Duration, capacity: usize) -> Handled {
        Handled {
            keep_for,
            capacity: capacity.max(1),
            order: VecDeque::new(),
            responses: HashMap::new(),
        }
    }

    /// Records `id` at `now` if it is new; otherwise hands out the first response.
    pub fn see(&mut self, id: &str, now: Instant) -> Seen {
        self.forget_old(now);
        if let Some(response) = self.responses.get(id) {
            return Seen::Replay(response.clone());
        }
        while self.order.len() >= self.capacity {
            self.forget_oldest();
        }
        let (sender, receiver) = watch::channel(None);
        self.order.push_back((now, id.to_string()));
        self.responses.insert(id.to_string(), receiver);
        Seen::First(sender)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.order.len()
    }

    fn forget_old(&mut self, now: Instant) {
        while self
            .order
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > self.keep_for)
        {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((_, id)) = self.order.pop_front() {
            self.responses.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_seen_again_gets_the_first_response() {
        let mut handled = Handled::new(Duration::from_secs(600), 10);
        let now = Instant::now();
        let Seen::First(sender) = handled.see("1", now) else {
            panic!("new id")
        };
        let Seen::Replay(mut early) = handled.see("1", now) else {
            panic!("replay")
        };
        assert_eq!(*early.borrow_and_update(), None, "still being handled");
        sender.send_replace(Some(Some(serde_json::json!({"type": 4}))));
        let Seen::Replay(late) = handled.see("1", now) else {
            panic!("replay")
        };
        assert_eq!(*late.borrow(), Some(Some(serde_json::json!({"type": 4}))));
        assert!(matches!(handled.see("2", now), Seen::First(_)));
    }

    #[test]
    fn memory_is_bounded_by_age_and_count() {
        let mut handled = Handled::new(Duration::from_secs(600), 3);
        let start = Instant::now();
        for id in ["1", "2", "3", "4"] {
            assert!(matches!(handled.see(id, start), Seen::First(_)));
        }
        assert_eq!(handled.len(), 3);
        assert!(
            matches!(handled.see("1", start), Seen::First(_)),
            "the oldest was forgotten"
        );
        let later = start + Duration::from_secs(601);
        assert!(matches!(handled.see("5", later), Seen::First(_)));
        assert_eq!(handled.len(), 1, "everything older than the window is gone");
    }
}
