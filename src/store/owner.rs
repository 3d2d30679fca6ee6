//! Who runs a quiz session: the process that started it, recorded as `pid:<id>`. When a store is opened,
//! sessions whose process is gone (killed, crashed) are closed as interrupted; sessions of a live process,
//! a terminal quiz or the Discord bot, are left to it.

use std::path::Path;

use super::SessionRecord;

/// The owner recorded with a session this process runs.
pub fn this_process() -> String {
    format!("pid:{}", std::process::id())
}

/// Whether a session is still being played: its owner process is alive. Owners that are not
/// processes are treated as running.
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
