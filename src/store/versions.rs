//! Which build may drive what: every replica records its build version in the store when it starts
//! (`Replicas`), and every quiz state and daily slot records the version of the build that saved it. A
//! replica never takes the lease of a quiz, nor claims a daily slot, saved by a newer build: the newer
//! build may have written a state this one misreads (a rolling upgrade runs both for a while). Versions are
//! compared as semantic versions (`MAJOR.MINOR.PATCH`, a pre-release before its release); the decision is
//! pure, and `refuse_newer` logs it once per record.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Mutex;

/// The version of this build, as recorded with what it saves.
pub const BUILD_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A parsed version: the numbers, then whether it is a release (a pre-release sorts before its release).
fn parse(version: &str) -> Option<(u64, u64, u64, bool, &str)> {
    let version = version.trim();
    let version = version.split_once('+').map_or(version, |(v, _build)| v);
    let (core, pre) = version.split_once('-').unwrap_or((version, ""));
    let mut numbers = core.split('.').map(|n| n.parse::<u64>().ok());
    let (major, minor, patch) = (numbers.next()??, numbers.next()??, numbers.next()??);
    if numbers.next().is_some() {
        return None;
    }
    Some((major, minor, patch, pre.is_empty(), pre))
}

/// `a` against `b` as semantic versions; `None` when either is not one.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(
        (a.0, a.1, a.2, a.3)
            .cmp(&(b.0, b.1, b.2, b.3))
            .then_with(|| a.4.cmp(b.4)),
    )
}

/// Whether the build `mine` may drive a record saved by `saved_by`: yes for a record saved before versions
/// were recorded (`None`) or by this version or an older one; no for a newer one, or for a version this
/// build cannot read (it cannot tell it is not newer).
pub fn may_drive(mine: &str, saved_by: Option<&str>) -> bool {
    match saved_by {
        None => true,
        Some(saved_by) => compare(saved_by, mine).is_some_and(|order| order != Ordering::Greater),
    }
}

/// Whether this build may drive `what` (a quiz, a daily slot) saved by `saved_by`; when not, logs why, once
/// per `what` in this process.
pub fn allowed(what: &str, saved_by: Option<&str>) -> bool {
    if may_drive(BUILD_VERSION, saved_by) {
        return true;
    }
    static LOGGED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    if logged.get_or_insert_with(HashSet::new).insert(what.to_string()) {
        tracing::warn!(
            what,
            saved_by = saved_by.unwrap_or_default(),
            this_build = BUILD_VERSION,
            "saved by a newer tsumiage: left to a replica of that version (upgrade this one)"
        );
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_or_unreadable_version_is_never_driven_an_older_or_equal_one_is() {
        assert!(may_drive("0.2.0", None), "saved before versions were recorded");
        assert!(may_drive("0.2.0", Some("0.2.0")));
        assert!(may_drive("0.2.0", Some("0.1.9")));
        assert!(may_drive("0.10.0", Some("0.9.0")), "numbers, not text");
        assert!(
            may_drive("1.0.0", Some("1.0.0-rc.1")),
            "a pre-release is older than its release"
        );
        assert!(!may_drive("0.2.0", Some("0.2.1")));
        assert!(!may_drive("0.9.0", Some("0.10.0")));
        assert!(!may_drive("1.0.0-rc.1", Some("1.0.0")));
        assert!(!may_drive("0.2.0", Some("garbage")), "cannot tell it is not newer");
        assert!(
            may_drive("0.2.0", Some("0.2.0+build.5")),
            "build metadata does not order"
        );
    }

    #[test]
    fn this_build_drives_its_own_records() {
        assert!(allowed("quiz 1", Some(BUILD_VERSION)));
        assert!(!allowed("quiz 2", Some("999.0.0")));
    }
}
