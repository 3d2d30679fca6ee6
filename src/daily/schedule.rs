//! When a server's daily question is posted: `DailySchedule` (channel, local time of day, IANA time zone,
//! which weekdays, role to ping, reveal policy, topic filter, discussion thread) and the pure arithmetic
//! on it. `next_post_after(now)` is the next post instant, `slot_for(now)` the slot that should be up at
//! `now` (the catch-up decision after a restart). A slot is named by its local date (`2026-11-26`), so one
//! local day has at most one slot whatever the clocks do: that name is what the store keys posts by.
//!
//! Daylight saving: a time that does not exist on a spring-forward day (02:30 in New York) posts at the
//! first valid instant after it (03:00 local); a time that exists twice on an autumn day posts once, at the
//! first of the two. Nothing here reads the wall clock or knows about tokio: `now` is always passed in.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

/// The time zone a new schedule uses: the study group this bot was written for is in Japan.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Tokyo";
/// Hours from post to reveal when nothing else is set.
pub const DEFAULT_REVEAL_HOURS: u32 = 12;
/// A slot missed while the bot was down is posted late for at most this long: later, today's question
/// would land next to tomorrow's.
pub const CATCH_UP_HOURS: i64 = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("unknown time zone `{0}` (use an IANA name such as Asia/Tokyo or Europe/Berlin)")]
    TimeZone(String),
    #[error("cannot read `{0}` as a time of day (use HH:MM, 24-hour)")]
    TimeOfDay(String),
    #[error("cannot read `{0}` as days (use `every`, `weekdays`, or weekdays such as `mon,wed,fri`)")]
    Days(String),
    #[error("reveal after {0} hours is out of range (1 to 168)")]
    RevealHours(u32),
}

/// Which weekdays have a post: a non-empty set, Monday bit 0 … Sunday bit 6.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Days(u8);

const ALL_DAYS: u8 = 0x7f;
const WEEKDAYS: u8 = 0x1f;
const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Days {
    pub const EVERY_DAY: Days = Days(ALL_DAYS);
    pub const WEEKDAYS: Days = Days(WEEKDAYS);

    /// The set from its stored bit mask; `None` for an empty or out-of-range mask.
    pub fn from_mask(mask: u8) -> Option<Days> {
        (mask != 0 && mask & !ALL_DAYS == 0).then_some(Days(mask))
    }

    pub fn mask(self) -> u8 {
        self.0
    }

    pub fn chosen(days: &[Weekday]) -> Option<Days> {
        Days::from_mask(days.iter().fold(0, |mask, d| mask | 1 << d.num_days_from_monday()))
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    /// `every`, `weekdays`, or a list like `mon,wed,fri` (also `月,水,金`).
    pub fn parse(text: &str) -> Result<Days, ScheduleError> {
        let folded = text.trim().to_lowercase();
        match folded.as_str() {
            "every" | "everyday" | "every day" | "daily" | "毎日" => return Ok(Days::EVERY_DAY),
            "weekdays" | "平日" => return Ok(Days::WEEKDAYS),
            _ => {}
        }
        let mut mask = 0u8;
        for part in folded.split([',', ' ', '、']).filter(|p| !p.is_empty()) {
            let index = NAMES
                .iter()
                .position(|n| part.starts_with(n))
                .or_else(|| {
                    ["月", "火", "水", "木", "金", "土", "日"]
                        .iter()
                        .position(|n| part.starts_with(n))
                })
                .ok_or_else(|| ScheduleError::Days(text.to_string()))?;
            mask |= 1 << index;
        }
        Days::from_mask(mask).ok_or_else(|| ScheduleError::Days(text.to_string()))
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Days::EVERY_DAY => f.write_str("every"),
            Days::WEEKDAYS => f.write_str("weekdays"),
            Days(mask) => {
                let names: Vec<&str> = (0..7).filter(|i| mask & (1 << i) != 0).map(|i| NAMES[i]).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

impl fmt::Debug for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Days({self})")
    }
}

/// When the answer is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// This many hours after the post.
    AfterHours(u32),
    /// When the next post goes out.
    WithNextPost,
}

impl Reveal {
    pub fn after_hours(hours: u32) -> Result<Reveal, ScheduleError> {
        if (1..=168).contains(&hours) {
            Ok(Reveal::AfterHours(hours))
        } else {
            Err(ScheduleError::RevealHours(hours))
        }
    }
}

/// One server's daily question settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySchedule {
    pub guild: String,
    pub channel: String,
    /// Local time of day in `zone`.
    pub time: NaiveTime,
    pub zone: Tz,
    pub days: Days,
    /// Role id to mention in the post.
    pub role: Option<String>,
    pub reveal: Reveal,
    /// Only questions about this service or tag.
    pub topic: Option<String>,
    /// Open a discussion thread on each post.
    pub thread: bool,
    /// `/daily off` keeps the settings and stops the posts.
    pub enabled: bool,
}

/// One scheduled post: the local date it belongs to and the instant it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub date: NaiveDate,
    pub at: DateTime<Utc>,
}

impl Slot {
    /// The slot's name in the store: its local date.
    pub fn id(&self) -> String {
        self.date.format("%Y-%m-%d").to_string()
    }
}

pub fn parse_zone(name: &str) -> Result<Tz, ScheduleError> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| ScheduleError::TimeZone(name.to_string()))
}

/// `HH:MM` (also `H:MM`, `HH:MM:SS`).
pub fn parse_time(text: &str) -> Result<NaiveTime, ScheduleError> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .map_err(|_| ScheduleError::TimeOfDay(text.to_string()))
}

/// The UTC instant a local date and time names in `zone`: the earlier one when it exists twice (autumn),
/// the first instant after the gap when it does not exist (spring).
pub fn resolve_local(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps start and end on whole minutes in every zone in the database and last at most a day
            // (Samoa, 2011), so the first valid minute after the asked time is where the gap ends.
            let mut probe = local;
            for _ in 0..=24 * 60 {
                probe += Duration::minutes(1);
                let probe_minute = probe.with_second(0).unwrap_or(probe);
                match zone.from_local_datetime(&probe_minute) {
                    LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => return at.with_timezone(&Utc),
                    LocalResult::None => {}
                }
            }
            // Unreachable with real zone data: fall back to reading the local time as UTC.
            Utc.from_utc_datetime(&local)
        }
    }
}

impl DailySchedule {
    /// The slot of a local date, if that weekday has one.
    pub fn slot_on(&self, date: NaiveDate) -> Option<Slot> {
        self.days.contains(date.weekday()).then(|| Slot {
            date,
            at: resolve_local(self.zone, date.and_time(self.time)),
        })
    }

    fn local_date(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.zone).date_naive()
    }

    /// The first slot due strictly after `now`.
    pub fn next_slot_after(&self, now: DateTime<Utc>) -> Slot {
        // Start a day early: a gap can push a slot past midnight, and a week and two days always holds a
        // chosen weekday.
        let today = self.local_date(now);
        (-1..=8)
            .filter_map(|offset| self.slot_on(today + Duration::days(offset)))
            .find(|slot| slot.at > now)
            .expect("a non-empty set of weekdays has a slot within any 8 days")
    }

    /// The instant of the next post after `now`.
    pub fn next_post_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.next_slot_after(now).at
    }

    /// The latest slot due at or before `now`: the current one until the next is due.
    pub fn current_slot(&self, now: DateTime<Utc>) -> Option<Slot> {
        let today = self.local_date(now);
        (-8..=1)
            .rev()
            .filter_map(|offset| self.slot_on(today + Duration::days(offset)))
            .find(|slot| slot.at <= now)
    }

    /// The slot that should be up at `now`, if any: the current slot, while it is still worth posting.
    /// A bot that was down at post time posts on start only for this slot (catch-up), never for older ones,
    /// and the caller posts a slot only if the store has no record of it: never two for one slot. A slot
    /// whose reveal time has passed is not posted late (its answer would be shown at once), nor one more
    /// than `CATCH_UP_HOURS` old.
    pub fn slot_for(&self, now: DateTime<Utc>) -> Option<Slot> {
        let slot = self.current_slot(now)?;
        let until = self.reveal_at(&slot).min(slot.at + Duration::hours(CATCH_UP_HOURS));
        (now < until).then_some(slot)
    }

    /// When a slot's answer is revealed: `None` means with the next post.
    pub fn reveal_at(&self, slot: &Slot) -> DateTime<Utc> {
        match self.reveal {
            Reveal::AfterHours(hours) => slot.at + Duration::hours(i64::from(hours)),
            Reveal::WithNextPost => self.next_post_after(slot.at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(zone: &str, time: &str, days: Days) -> DailySchedule {
        DailySchedule {
            guild: "g".into(),
            channel: "c".into(),
            time: parse_time(time).unwrap(),
            zone: parse_zone(zone).unwrap(),
            days,
            role: None,
            reveal: Reveal::AfterHours(DEFAULT_REVEAL_HOURS),
            topic: None,
            thread: false,
            enabled: true,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    /// Every post from `from` on, `n` of them.
    fn posts(s: &DailySchedule, from: &str, n: usize) -> Vec<DateTime<Utc>> {
        let mut now = utc(from);
        (0..n)
            .map(|_| {
                now = s.next_post_after(now);
                now
            })
            .collect()
    }

    #[test]
    fn tokyo_has_no_daylight_saving_so_it_is_always_nine_hours_ahead() {
        let s = schedule("Asia/Tokyo", "09:00", Days::EVERY_DAY);
        assert_eq!(
            s.next_post_after(utc("2026-11-26T00:00:00Z")),
            utc("2026-11-27T00:00:00Z")
        );
        assert_eq!(
            s.next_post_after(utc("2026-11-25T23:59:59Z")),
            utc("2026-11-26T00:00:00Z")
        );
        // Exactly at post time, the next one is tomorrow's.
        assert_eq!(
            s.next_post_after(utc("2026-11-26T00:00:00Z")),
            utc("2026-11-27T00:00:00Z")
        );
        let s = schedule("Asia/Tokyo", "07:30", Days::EVERY_DAY);
        assert_eq!(
            posts(&s, "2026-03-01T00:00:00Z", 3),
            [
                utc("2026-03-01T22:30:00Z"),
                utc("2026-03-02T22:30:00Z"),
                utc("2026-03-03T22:30:00Z")
            ]
        );
        assert_eq!(s.next_slot_after(utc("2026-03-01T00:00:00Z")).id(), "2026-03-02");
    }

    #[test]
    fn new_york_spring_forward_posts_a_missing_time_once_at_the_end_of_the_gap() {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
        let s = schedule("America/New_York", "02:30", Days::EVERY_DAY);
        assert_eq!(
            posts(&s, "2026-03-06T12:00:00Z", 4),
            [
                utc("2026-03-07T07:30:00Z"), // 02:30 EST
                utc("2026-03-08T07:00:00Z"), // 03:00 EDT, the first instant after the gap
                utc("2026-03-09T06:30:00Z"), // 02:30 EDT
                utc("2026-03-10T06:30:00Z"),
            ]
        );
        let ids: Vec<String> = posts(&s, "2026-03-06T12:00:00Z", 4)
            .iter()
            .map(|at| s.current_slot(*at).unwrap().id())
            .collect();
        assert_eq!(ids, ["2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]);
        // A time outside the gap just moves its UTC hour.
        let s = schedule("America/New_York", "09:00", Days::EVERY_DAY);
        assert_eq!(
            posts(&s, "2026-03-07T00:00:00Z", 2),
            [utc("2026-03-07T14:00:00Z"), utc("2026-03-08T13:00:00Z")]
        );
    }

    #[test]
    fn new_york_fall_back_posts_a_doubled_time_once() {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
        let s = schedule("America/New_York", "01:30", Days::EVERY_DAY);
        assert_eq!(
            posts(&s, "2026-10-31T00:00:00Z", 3),
            [
                utc("2026-10-31T05:30:00Z"),
                utc("2026-11-01T05:30:00Z"), // the first 01:30 (EDT); the second (06:30Z) is skipped
                utc("2026-11-02T06:30:00Z"),
            ]
        );
        // Asked during the repeated hour, after the first 01:30: the next post is tomorrow, not the repeat.
        assert_eq!(
            s.next_post_after(utc("2026-11-01T06:00:00Z")),
            utc("2026-11-02T06:30:00Z")
        );
        assert_eq!(s.current_slot(utc("2026-11-01T06:45:00Z")).unwrap().id(), "2026-11-01");
    }

    #[test]
    fn berlin_spring_and_autumn() {
        // 2026-03-29: 02:00 CET → 03:00 CEST. 2026-10-25: 03:00 CEST → 02:00 CET.
        let s = schedule("Europe/Berlin", "02:15", Days::EVERY_DAY);
        assert_eq!(
            posts(&s, "2026-03-28T00:00:00Z", 3),
            [
                utc("2026-03-28T01:15:00Z"),
                utc("2026-03-29T01:00:00Z"), // 03:00 CEST
                utc("2026-03-30T00:15:00Z"),
            ]
        );
        assert_eq!(
            posts(&s, "2026-10-24T00:00:00Z", 3),
            [
                utc("2026-10-24T00:15:00Z"),
                utc("2026-10-25T00:15:00Z"), // the first 02:15 (CEST)
                utc("2026-10-26T01:15:00Z"),
            ]
        );
        let s = schedule("Europe/Berlin", "08:00", Days::EVERY_DAY);
        assert_eq!(
            posts(&s, "2026-10-24T12:00:00Z", 2),
            [utc("2026-10-25T07:00:00Z"), utc("2026-10-26T07:00:00Z")]
        );
    }

    #[test]
    fn weekday_rules() {
        // 2026-11-27 is a Friday.
        let s = schedule("Asia/Tokyo", "09:00", Days::WEEKDAYS);
        let ids: Vec<String> = posts(&s, "2026-11-26T12:00:00Z", 4)
            .iter()
            .map(|at| s.current_slot(*at).unwrap().id())
            .collect();
        assert_eq!(ids, ["2026-11-27", "2026-11-30", "2026-12-01", "2026-12-02"]);
        let s = schedule("Asia/Tokyo", "09:00", Days::parse("mon, wed,fri").unwrap());
        let ids: Vec<String> = posts(&s, "2026-11-26T12:00:00Z", 4)
            .iter()
            .map(|at| s.current_slot(*at).unwrap().id())
            .collect();
        assert_eq!(ids, ["2026-11-27", "2026-11-30", "2026-12-02", "2026-12-04"]);
        let sunday = schedule("Asia/Tokyo", "09:00", Days::chosen(&[Weekday::Sun]).unwrap());
        assert_eq!(
            sunday.next_post_after(utc("2026-11-29T00:00:00Z")),
            utc("2026-12-06T00:00:00Z")
        );
        // The weekday is the local one: Monday 08:00 in Tokyo is still Sunday in UTC.
        let s = schedule("Asia/Tokyo", "08:00", Days::chosen(&[Weekday::Mon]).unwrap());
        assert_eq!(
            s.next_post_after(utc("2026-11-26T00:00:00Z")),
            utc("2026-11-29T23:00:00Z")
        );
    }

    #[test]
    fn days_parse_and_print() {
        assert_eq!(Days::parse("every").unwrap(), Days::EVERY_DAY);
        assert_eq!(Days::parse("平日").unwrap(), Days::WEEKDAYS);
        assert_eq!(Days::parse("月,水,金").unwrap().to_string(), "mon,wed,fri");
        assert_eq!(Days::parse("Monday Friday").unwrap().to_string(), "mon,fri");
        assert!(Days::parse("").is_err());
        assert!(Days::parse("someday").is_err());
        assert_eq!(Days::from_mask(0), None);
        assert_eq!(Days::from_mask(0x80), None);
        assert!(parse_zone("Mars/Olympus").is_err());
        assert!(parse_time("25:00").is_err());
        assert_eq!(parse_time("7:05").unwrap(), NaiveTime::from_hms_opt(7, 5, 0).unwrap());
    }

    #[test]
    fn catch_up_posts_only_the_current_slot_and_only_before_its_reveal() {
        let mut s = schedule("Asia/Tokyo", "09:00", Days::EVERY_DAY);
        s.reveal = Reveal::AfterHours(12);
        // Before the first slot of the day: yesterday's is current (and still before its reveal? no: 21:00).
        assert_eq!(s.slot_for(utc("2026-11-25T23:00:00Z")), None);
        // Down at 09:00, up at 09:05: today's slot is still current, so it is posted now.
        assert_eq!(s.slot_for(utc("2026-11-26T00:05:00Z")).unwrap().id(), "2026-11-26");
        // Up at 20:59 local: still before the reveal.
        assert_eq!(s.slot_for(utc("2026-11-26T11:59:00Z")).unwrap().id(), "2026-11-26");
        // Up after the reveal time: nothing is posted late; the next post is tomorrow's.
        assert_eq!(s.slot_for(utc("2026-11-26T12:00:00Z")), None);
        assert_eq!(
            s.next_post_after(utc("2026-11-26T12:00:00Z")),
            utc("2026-11-27T00:00:00Z")
        );
        // Revealed with the next post: caught up for at most CATCH_UP_HOURS, and never an older slot.
        s.reveal = Reveal::WithNextPost;
        assert_eq!(s.slot_for(utc("2026-11-26T11:59:00Z")).unwrap().id(), "2026-11-26");
        assert_eq!(s.slot_for(utc("2026-11-26T23:59:00Z")), None);
        assert_eq!(s.slot_for(utc("2026-11-27T00:00:00Z")).unwrap().id(), "2026-11-27");
        // Down for three days: on start, at most the current slot.
        let s = schedule("Asia/Tokyo", "09:00", Days::WEEKDAYS);
        let weekend = DailySchedule {
            reveal: Reveal::WithNextPost,
            ..s.clone()
        };
        assert_eq!(
            weekend.current_slot(utc("2026-11-29T05:00:00Z")).unwrap().id(),
            "2026-11-27"
        );
        assert_eq!(weekend.slot_for(utc("2026-11-29T05:00:00Z")), None);
        assert_eq!(
            weekend.slot_for(utc("2026-11-27T05:00:00Z")).unwrap().id(),
            "2026-11-27"
        );
        assert_eq!(
            s.reveal_at(&s.current_slot(utc("2026-11-27T01:00:00Z")).unwrap()),
            utc("2026-11-27T12:00:00Z")
        );
    }

    #[test]
    fn a_gap_on_a_weekday_boundary_still_gives_one_slot_per_local_day() {
        // Every post time of a year in three zones: strictly increasing and one per local date.
        for zone in ["America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Lord_Howe"] {
            for time in ["00:00", "00:30", "01:30", "02:00", "02:30", "03:00", "23:59"] {
                let s = schedule(zone, time, Days::EVERY_DAY);
                let all = posts(&s, "2026-01-01T00:00:00Z", 366);
                let mut ids: Vec<String> = all.iter().map(|at| s.current_slot(*at).unwrap().id()).collect();
                assert!(all.windows(2).all(|w| w[0] < w[1]), "{zone} {time}");
                let n = ids.len();
                ids.dedup();
                assert_eq!(ids.len(), n, "{zone} {time}: a local date posted twice");
                assert!(
                    all.windows(2).all(|w| w[1] - w[0] <= Duration::hours(25)),
                    "{zone} {time}: a day skipped"
                );
            }
        }
    }
}
