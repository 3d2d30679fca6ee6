//! A real `tsumiage serve` process, as an operator starts it: its own notes, index and store in a temp
//! dir, settings from the environment, stdout and stderr captured to files for the assertions.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{BANK, KINESIS, SQS};

pub struct ServeProcess {
    pub child: Child,
    _dir: tempfile::TempDir,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl ServeProcess {
    /// Starts `tsumiage serve ARGS` with `api_base`, the token and the extra `env`.
    pub fn start(args: &[&str], api_base: &str, token: &str, env: &[(&str, &str)]) -> ServeProcess {
        let dir = tempfile::tempdir().unwrap();
        let notes = dir.path().join("notes");
        std::fs::create_dir_all(notes.join("questions")).unwrap();
        std::fs::write(notes.join("kinesis.md"), KINESIS).unwrap();
        std::fs::write(notes.join("sqs.md"), SQS).unwrap();
        std::fs::write(notes.join("questions/kinesis.md"), BANK).unwrap();
        let stdout = dir.path().join("stdout.log");
        let stderr = dir.path().join("stderr.log");
        let mut command = Command::new(crate::util::binary());
        command
            .arg("serve")
            .args(args)
            .current_dir(dir.path())
            .env("DISCORD_TOKEN", token)
            .env("TSUMIAGE_DISCORD_API_BASE", api_base)
            .env("TSUMIAGE_DISCORD_DEV_GUILD_ID", super::server::GUILD_ID)
            .env("TSUMIAGE_NOTES", &notes)
            .env("TSUMIAGE_INDEX", dir.path().join("index"))
            .env("TSUMIAGE_SYNONYMS", dir.path().join("synonyms.txt"))
            .env("TSUMIAGE_STORE", dir.path().join("data/store.sqlite"))
            .env_remove("TSUMIAGE_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        ServeProcess {
            child,
            _dir: dir,
            stdout,
            stderr,
        }
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    /// Waits (polling every 20 ms) until the process exits, or kills it and panics after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if started.elapsed() > timeout {
                let _ = self.child.kill();
                panic!("serve did not exit within {timeout:?}:\n{}", self.stderr());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the log holds `needle`, or panics after `timeout`.
    pub async fn wait_log(&self, needle: &str, timeout: Duration) -> String {
        let started = Instant::now();
        loop {
            let log = self.stderr();
            if log.contains(needle) {
                return log;
            }
            assert!(
                started.elapsed() < timeout,
                "no `{needle}` in the log within {timeout:?}:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGTERM, then the exit status.
    pub async fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.wait_exit(timeout).await
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
