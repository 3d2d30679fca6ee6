//! Who runs a quiz session. A terminal quiz is run by the process that started it, recorded as
//! `pid:<id>`: when a store is opened, sessions whose process is gone (killed, crashed) are closed as
//! interrupted. A Discord quiz is run from the store by any bot replica sharing it; the one that drives its
//! deadlines holds a lease (`replica:<pid>:<nonce>` until an expiry it keeps renewing). A lease that lapsed
//! means its replica died or hung, and another replica takes the quiz over (`takeover`), or closes it as
//! interrupted when its deadlines passed long ago. The decisions (`takeover`) are pure, with time passed in;
//! `this_process`, `replica_id`, `lapse_time` and `still_running` are the only parts that ask the operating system (its
//! process id and host, and whether a recorded process is still alive), for the adapters to call. A
//! replica restarted on the same host takes over its dead predecessor's leases and claims at once
//! (`lapse_time`) instead of waiting for their expiry.

use std::path::Path;

use super::{Lease, QuizState, SessionRecord};
use crate::clock::Timestamp;

/// A quiz whose next deadline passed longer ago than this when nobody drove it is closed as interrupted
/// instead of resumed: the channel has moved on, and a burst of stale questions would help no one.
pub const STALE_AFTER_MS: i64 = 10 * 60 * 1000;

/// The owner recorded with a session this process runs.
pub fn this_process() -> String {
    format!("pid:{}", std::process::id())
}

/// The lease owner id of one bot replica: its host and pid (for the logs, and so a restart on the same
/// host can tell its predecessor is gone), and a nonce so a restarted process (which may get the same pid)
/// never takes its predecessor's leases for its own.
pub fn replica_id(nonce: u64) -> String {
    replica_id_on(&this_host(), nonce)
}

/// `replica_id` as if this process ran on `host` (tests run several "hosts" in one process).
pub fn replica_id_on(host: &str, nonce: u64) -> String {
    format!("replica:{}:{}:{nonce:x}", host.replace(':', "_"), std::process::id())
}

/// This machine's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`), or empty when unknown; a `:`
/// would break the owner id, so it is replaced.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|host| host.trim().replace(':', "_"))
        .unwrap_or_default()
}

/// Whether lease or claim owner `owner` is a replica on this host (`host`, named so in `me`, this
/// replica's id) whose process is gone: its pid is not running (`alive` says), or is this process's own
/// pid under another nonce (a restart that got the same pid, as a container's pid 1 always does). Such a
/// lease or claim has lapsed now, whatever its expiry says. Owners on other hosts, or on an unknown host,
/// are never judged here: their expiry decides.
pub fn gone_from_this_host(owner: &str, me: &str, alive: impl Fn(u32) -> bool) -> bool {
    let parse = |id: &str| -> Option<(String, u32)> {
        let rest = id.strip_prefix("replica:")?;
        let mut parts = rest.rsplitn(3, ':');
        let _nonce = parts.next()?;
        let pid = parts.next()?.parse().ok()?;
        Some((parts.next()?.to_string(), pid))
    };
    let (Some((host, pid)), Some((my_host, my_pid))) = (parse(owner), parse(me)) else {
        return false;
    };
    if owner == me || host.is_empty() || host != my_host {
        return false;
    }
    pid == my_pid || !alive(pid)
}

/// The time at which to take over `lease` held by someone else: `now`, or, when its owner is a replica
/// of this host that is gone, its expiry if later (the store then sees it as lapsed; should its owner
/// have renewed it meanwhile, the take still fails).
pub fn lapse_time(lease: &Lease, me: &str, now: Timestamp) -> Timestamp {
    match lease.until {
        Some(until) if until > now && gone_from_this_host(&lease.owner, me, process_alive) => until,
        _ => now,
    }
}

/// Whether a session is still being played: its owner process is alive. Owners that are not processes
/// (a replica's lease, judged by its expiry instead) are treated as running.
pub fn still_running(session: &SessionRecord) -> bool {
    match session
        .owner
        .strip_prefix("pid:")
        .and_then(|pid| pid.parse::<u32>().ok())
    {
        Some(pid) => pid == std::process::id() || process_alive(pid),
        None => true,
    }
}

/// `/proc/<pid>` where there is a `/proc`, else `kill -0` (no signal is sent). A reused pid only delays
/// the closing; it never counts anything twice.
fn process_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// What a replica's sweep does with a running quiz it finds in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// Another replica's lease is live (or this replica drives it already): nothing to do.
    Leave,
    /// The lease lapsed: take it and continue the quiz from its stored state.
    Resume,
    /// The lease lapsed and the quiz's deadline passed more than `STALE_AFTER_MS` ago: close it.
    Interrupted,
}

/// Decides for `quiz` at `now`, by replica `me` (`driving`: a task of this replica drives it already);
/// `next_deadline` is the quiz's own next deadline, `None` once it has finished (its last effects may
/// still be pending).
pub fn takeover(
    quiz: &QuizState,
    me: &str,
    driving: bool,
    next_deadline: Option<Timestamp>,
    now: Timestamp,
) -> Takeover {
    if driving {
        return Takeover::Leave;
    }
    let lapsed = quiz.lease.owner == me || quiz.lease.until.is_none_or(|until| until <= now);
    if !lapsed {
        return Takeover::Leave;
    }
    match next_deadline {
        Some(deadline) if now.millis_since(deadline) > STALE_AFTER_MS => Takeover::Interrupted,
        _ => Takeover::Resume,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz(owner: &str, until: Option<i64>) -> QuizState {
        QuizState {
            session: 1,
            channel: "discord:1:2".into(),
            version: 3,
            state: "{}".into(),
            lease: Lease {
                owner: owner.into(),
                until: until.map(Timestamp),
            },
            ended: false,
            saved_by: None,
        }
    }

    #[test]
    fn a_live_lease_is_left_a_lapsed_one_resumed_and_a_long_dead_quiz_closed() {
        let now = Timestamp(1_000_000);
        let soon = Some(Timestamp(1_005_000));
        // Another replica's live lease.
        assert_eq!(
            takeover(&quiz("b", Some(1_000_001)), "a", false, soon, now),
            Takeover::Leave
        );
        // Lapsed exactly now, or long ago with a deadline still ahead or just past: resume.
        assert_eq!(
            takeover(&quiz("b", Some(1_000_000)), "a", false, soon, now),
            Takeover::Resume
        );
        assert_eq!(
            takeover(&quiz("b", Some(10)), "a", false, Some(Timestamp(999_000)), now),
            Takeover::Resume
        );
        // Our own lease (a task that ended, say) and a quiz never leased are ours to resume.
        assert_eq!(
            takeover(&quiz("a", Some(2_000_000)), "a", false, soon, now),
            Takeover::Resume
        );
        assert_eq!(takeover(&quiz("b", None), "a", false, soon, now), Takeover::Resume);
        // Already driven here.
        assert_eq!(takeover(&quiz("a", Some(10)), "a", true, soon, now), Takeover::Leave);
        // The deadline passed more than 10 minutes ago: closed, not resumed.
        let stale = Some(Timestamp(now.0 - STALE_AFTER_MS - 1));
        assert_eq!(
            takeover(&quiz("b", Some(10)), "a", false, stale, now),
            Takeover::Interrupted
        );
        // A finished quiz whose scoreboard is pending is resumed to post it, however old.
        assert_eq!(takeover(&quiz("b", Some(10)), "a", false, None, now), Takeover::Resume);
    }

    #[test]
    fn replica_ids_differ_by_nonce_and_count_as_running_for_the_terminal() {
        assert_ne!(replica_id(1), replica_id(2));
        let record = SessionRecord {
            id: 1,
            channel: "c".into(),
            started_at: Timestamp(0),
            question_count: 1,
            owner: replica_id(1),
            ended_at: None,
            end: None,
        };
        assert!(still_running(&record));
    }

    #[test]
    fn a_dead_replica_of_this_host_is_gone_a_live_one_or_another_hosts_is_not() {
        let me = "replica:box:100:aa";
        let alive = |pid: u32| pid == 300;
        assert!(
            gone_from_this_host("replica:box:200:bb", me, alive),
            "its pid is not running"
        );
        assert!(
            gone_from_this_host("replica:box:100:bb", me, alive),
            "a restart that got the same pid"
        );
        assert!(!gone_from_this_host("replica:box:300:bb", me, alive), "still running");
        assert!(
            !gone_from_this_host("replica:other:200:bb", me, alive),
            "another host's pids mean nothing here"
        );
        assert!(!gone_from_this_host(me, me, alive), "itself");
        assert!(
            !gone_from_this_host("replica::200:bb", "replica::100:aa", alive),
            "unknown host"
        );
        assert!(!gone_from_this_host("replica:dead", me, alive), "not a replica id");
        assert!(!gone_from_this_host("pid:200", me, alive));
    }

    #[test]
    fn the_lease_of_a_dead_predecessor_on_this_host_lapses_at_once_a_live_owners_at_its_expiry() {
        let me = replica_id(1);
        let now = Timestamp(1_000);
        // A predecessor with this very pid (as a container's pid 1), under another nonce: gone.
        let predecessor = Lease {
            owner: replica_id(2),
            until: Some(Timestamp(61_000)),
        };
        assert_eq!(lapse_time(&predecessor, &me, now), Timestamp(61_000));
        // Another host's replica, and an expired lease, keep `now`.
        let elsewhere = Lease {
            owner: "replica:elsewhere:1:2".into(),
            until: Some(Timestamp(61_000)),
        };
        assert_eq!(lapse_time(&elsewhere, &me, now), now);
        let expired = Lease {
            owner: replica_id(2),
            until: Some(Timestamp(10)),
        };
        assert_eq!(lapse_time(&expired, &me, now), now);
    }
}
