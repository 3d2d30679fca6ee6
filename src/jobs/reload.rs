//! The notes reload loop: notes edited on disk are reindexed in the background and swapped in. It looks at
//! a cheap fingerprint of the notes folder (every file's path, size and modification time) every period,
//! and rebuilds only when it changed; it stops at shutdown. What is served, and how it is rebuilt, is the
//! host's (`Reloadable`), so the loop is tested with a fake host and paused tokio time.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// What the reload loop asks of the bot.
pub trait Reloadable: Send + Sync + 'static {
    /// Whether what is served was built from the notes now on disk (unreadable notes count as a change).
    fn serves_disk(&self) -> impl Future<Output = bool> + Send;
    /// Rebuilds from the notes on disk and swaps the result in; the number of sections indexed.
    fn rebuild(&self) -> impl Future<Output = anyhow::Result<usize>> + Send;
}

/// A cheap fingerprint of the notes folder: every file's path, size and modification time.
pub fn notes_fingerprint(dir: &Path) -> u64 {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => walk(&path, out),
                Ok(meta) => out.push(format!("{}:{}:{:?}", path.display(), meta.len(), meta.modified().ok())),
                Err(_) => {}
            }
        }
    }
    let mut parts = Vec::new();
    walk(dir, &mut parts);
    parts.sort();
    crate::order::stable_hash(0, &parts.join("\n"))
}

/// Runs until shutdown: looks at `notes` every `period` and rebuilds through `host` when it changed.
pub async fn run<R: Reloadable>(host: Arc<R>, notes: PathBuf, period: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut seen = notes_fingerprint(&notes);
    // What is served was read before this task started (at start-up, or before Ready): an edit made in
    // between leaves no trace in `seen`, so the first look compares contents.
    let mut changed = !host.serves_disk().await;
    loop {
        if !changed {
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = shutdown.changed() => return,
            }
            let now = notes_fingerprint(&notes);
            changed = now != seen;
            seen = now;
            if !changed {
                continue;
            }
        }
        changed = false;
        match host.rebuild().await {
            Ok(sections) => tracing::info!(sections, "notes changed: reindexed"),
            Err(error) => tracing::error!("reloading the notes failed: {error:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;

    #[derive(Default)]
    struct Host {
        stale: AtomicBool,
        rebuilds: AtomicUsize,
    }

    impl Reloadable for Host {
        async fn serves_disk(&self) -> bool {
            !self.stale.load(Ordering::SeqCst)
        }

        async fn rebuild(&self) -> anyhow::Result<usize> {
            self.rebuilds.fetch_add(1, Ordering::SeqCst);
            Ok(1)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_edit_is_rebuilt_once_an_untouched_folder_never_and_shutdown_stops_the_loop() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), "# A\n").unwrap();
        let host = Arc::new(Host::default());
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(run(
            host.clone(),
            dir.path().to_path_buf(),
            Duration::from_secs(5),
            shutdown,
        ));
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(host.rebuilds.load(Ordering::SeqCst), 0, "nothing changed");
        std::fs::write(dir.path().join("b.md"), "# B\n").unwrap();
        tokio::time::sleep(Duration::from_secs(6)).await;
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(host.rebuilds.load(Ordering::SeqCst), 1, "one edit, one rebuild");
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn notes_edited_before_the_loop_started_are_rebuilt_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let host = Arc::new(Host::default());
        host.stale.store(true, Ordering::SeqCst);
        let (_stop, shutdown) = watch::channel(false);
        tokio::spawn(run(
            host.clone(),
            dir.path().to_path_buf(),
            Duration::from_secs(5),
            shutdown,
        ));
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(host.rebuilds.load(Ordering::SeqCst), 1);
    }
}
