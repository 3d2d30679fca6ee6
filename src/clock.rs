//! Time: a `Timestamp` in milliseconds since the Unix epoch, and the one `Clock` trait through which the
//! adapters and background jobs read it. The core never reads a clock: it takes a `Timestamp` from its
//! caller, so tests drive time by hand and replays are exact. `SystemClock` is the only code in the crate
//! that reads the wall clock; tests pass in clocks of their own (started at a chosen instant, driven by
//! tokio's paused timer, or running faster than real time).

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub const fn plus_millis(self, millis: i64) -> Timestamp {
        Timestamp(self.0 + millis)
    }

    /// Milliseconds from `earlier` to `self`, never negative.
    pub fn millis_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0).max(0)
    }

    pub fn from_utc(at: DateTime<Utc>) -> Timestamp {
        Timestamp(at.timestamp_millis())
    }

    /// The same instant as a UTC date and time (the epoch for an instant chrono cannot represent).
    pub fn to_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }
}

/// Where the adapters and jobs read the time. One clock per bot (or terminal command), passed in, so a
/// test can hand every part of it the same instant.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;

    /// `now` as a UTC date and time: what the daily schedule reads.
    fn utc(&self) -> DateTime<Utc> {
        self.now().to_utc()
    }

    /// How long a task sleeps on the runtime's timer for this clock to advance by `span`: `span` itself
    /// for a clock that runs at the timer's pace (the default); less for one that runs faster. Jobs convert
    /// every wait through it, so their deadlines and leases keep their meaning whatever the clock.
    fn sleep_for(&self, span: Duration) -> Duration {
        span
    }
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since_epoch.as_millis() as i64)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_and_its_utc_view_are_the_same_instant() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T00:00:01.250Z")
            .unwrap()
            .with_timezone(&Utc);
        let stamp = Timestamp::from_utc(at);
        assert_eq!(stamp, Timestamp(1_795_737_601_250));
        assert_eq!(stamp.to_utc(), at);
    }

    #[test]
    fn the_system_clock_reads_the_present_and_waits_at_its_own_pace() {
        // 2026-01-01: any reading before it is a broken clock, not a slow test.
        assert!(SystemClock.now() > Timestamp(1_767_225_600_000));
        assert_eq!(
            SystemClock.sleep_for(Duration::from_millis(250)),
            Duration::from_millis(250)
        );
    }
}
