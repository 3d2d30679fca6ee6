//! The connection to PostgreSQL, on a thread of its own.
//!
//! The store interface is synchronous (`&mut self` methods the bot calls from tokio tasks, under a
//! `std::sync::Mutex`). The synchronous `postgres` crate drives its socket with a private tokio runtime
//! and panics when called on a thread that is already inside a runtime, which every bot task is. So the
//! `postgres::Client` lives on a dedicated std thread that this module owns, and each store call is one
//! job sent over a channel: the caller blocks on the reply exactly as it blocks on an SQLite write, the
//! runtime's threads never enter the driver's runtime, and no `block_on` is ever nested. One connection
//! per store is enough: the bot serialises store calls behind its mutex anyway, so a pool would sit idle.
//! (The alternative, `tokio-postgres` on a runtime of our own thread, is what `postgres` already is.)
//!
//! A connection that broke (server restarted, network cut) is reopened by the next job; the job that
//! found it broken fails with the error, so no write is silently retried. The driver does not always know
//! at once that its socket is dead, so after a failed job the next one first checks the connection with
//! an empty query and reconnects if that fails.
//!
//! Errors name the server as `host:port` and the database, never the password: every message built here
//! passes through `Redactor`, which removes the password however it was given (URL user info, a
//! `password=` option, or the parsed configuration).

use std::str::FromStr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use ::postgres::config::Host;
use ::postgres::{Client, Config, NoTls};

use crate::store::{Result, StoreError};

/// Without a `connect_timeout` in the URL, an unreachable host fails after this long instead of the
/// operating system's minutes.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// After a failed job, how long the next one waits for the server to answer its check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// One store call: given the connection (or why there is none), it runs, sends its own reply, and says
/// whether it failed.
type Job = Box<dyn FnOnce(Result<&mut Client>) -> bool + Send>;

/// The handle the store holds: a channel to the connection's thread.
pub(super) struct Connection {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// `host:port/database`, for messages.
    target: String,
}

impl Connection {
    /// Parses `url`, connects on a new thread and waits until the connection is up.
    pub(super) fn open(url: &str) -> Result<Connection> {
        let redactor = Redactor::for_url(url);
        let mut config = Config::from_str(url).map_err(|error| {
            StoreError::Backend(redactor.clean(&format!(
                "malformed PostgreSQL URL {}: {}",
                redactor.url(),
                error_chain(&error)
            )))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        let redactor = redactor.with_password(config.get_password());
        let target = describe_target(&config);
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (ready, connected) = mpsc::sync_channel::<Result<()>>(1);
        let worker = Worker {
            config,
            target: target.clone(),
            redactor,
        };
        let thread = std::thread::Builder::new()
            .name("tsumiage-postgres".into())
            .spawn(move || worker.run(inbox, ready))
            .map_err(|error| StoreError::Backend(format!("cannot start the PostgreSQL thread: {error}")))?;
        let connection = Connection {
            jobs: Some(jobs),
            thread: Some(thread),
            target,
        };
        match connected.recv() {
            Ok(Ok(())) => Ok(connection),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(connection.stopped()),
        }
    }

    /// `host:port/database`.
    pub(super) fn target(&self) -> &str {
        &self.target
    }

    /// Runs `job` on the connection's thread and waits for its result.
    pub(super) fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Client) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |client: Result<&mut Client>| {
            let outcome = client.and_then(job);
            let failed = outcome.is_err();
            // The caller waits for this reply; it is gone only if the caller itself is.
            let _ = reply.send(outcome);
            failed
        });
        let jobs = self.jobs.as_ref().ok_or_else(|| self.stopped())?;
        jobs.send(job).map_err(|_| self.stopped())?;
        answer.recv().map_err(|_| self.stopped())?
    }

    fn stopped(&self) -> StoreError {
        StoreError::Backend(format!(
            "the connection thread of the PostgreSQL store {} stopped",
            self.target
        ))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; it closes the connection on its way out.
        self.jobs.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The connection's thread: connects, then serves jobs until the store is dropped.
struct Worker {
    config: Config,
    target: String,
    redactor: Redactor,
}

impl Worker {
    fn run(self, inbox: mpsc::Receiver<Job>, ready: mpsc::SyncSender<Result<()>>) {
        let mut client = match self.connect() {
            Ok(client) => {
                let _ = ready.send(Ok(()));
                client
            }
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        drop(ready);
        let mut last_failed = false;
        for job in inbox {
            let broken = client.is_closed() || (last_failed && client.is_valid(CHECK_TIMEOUT).is_err());
            if broken {
                match self.connect() {
                    Ok(reopened) => client = reopened,
                    Err(error) => {
                        last_failed = job(Err(error));
                        continue;
                    }
                }
            }
            last_failed = job(Ok(&mut client));
        }
    }

    fn connect(&self) -> Result<Client> {
        self.config.connect(NoTls).map_err(|error| {
            StoreError::Backend(self.redactor.clean(&format!(
                "cannot connect to the PostgreSQL store at {}: {}",
                self.target,
                error_chain(&error)
            )))
        })
    }
}

/// `host:port/database` from a parsed configuration (several hosts joined by commas; the driver's
/// defaults, `localhost`, 5432 and the user's name as database, where the URL gives none).
pub(super) fn describe_target(config: &Config) -> String {
    let ports = config.get_ports();
    let port = |i: usize| ports.get(i).or_else(|| ports.first()).copied().unwrap_or(5432);
    let hosts: Vec<String> = if config.get_hosts().is_empty() {
        vec![format!("localhost:{}", port(0))]
    } else {
        config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, host)| match host {
                Host::Tcp(name) => format!("{name}:{}", port(i)),
                #[cfg(unix)]
                Host::Unix(path) => format!("{}:{}", path.display(), port(i)),
            })
            .collect()
    };
    let database = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("(default database)");
    format!("{}/{database}", hosts.join(","))
}

/// The error and its causes, `: `-separated: the driver's own `Display` says only "db error".
pub(super) fn error_chain(error: &::postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<::postgres::Error> for StoreError {
    fn from(error: ::postgres::Error) -> StoreError {
        StoreError::Backend(format!("PostgreSQL: {}", error_chain(&error)))
    }
}

/// Removes a connection string's password from anything shown about it.
#[derive(Debug, Clone)]
pub(super) struct Redactor {
    url: String,
    secrets: Vec<String>,
}

impl Redactor {
    pub(super) fn for_url(url: &str) -> Redactor {
        let mut secrets = Vec::new();
        let mut shown = url.to_string();
        if let Some((scheme, rest)) = url.split_once("://") {
            // The user info ends at the authority's last `@` (an unencoded `@` in the password stays in it).
            let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
            let authority = &rest[..authority_end];
            let at = authority.rfind('@').or_else(|| rest.rfind('@'));
            if let Some(at) = at {
                let user_info = &rest[..at];
                if let Some((user, password)) = user_info.split_once(':') {
                    secrets.push(password.to_string());
                    shown = format!("{scheme}://{user}:***{}", &rest[at..]);
                }
            }
        }
        for (start, _) in url.match_indices("password=") {
            let value = &url[start + "password=".len()..];
            let end = value.find(['&', ' ']).unwrap_or(value.len());
            secrets.push(value[..end].to_string());
        }
        secrets.retain(|secret| !secret.is_empty());
        let mut redactor = Redactor { url: shown, secrets };
        redactor.url = redactor.clean(&redactor.url);
        redactor
    }

    fn with_password(mut self, password: Option<&[u8]>) -> Redactor {
        if let Some(password) = password.map(String::from_utf8_lossy).filter(|p| !p.is_empty()) {
            self.secrets.push(password.into_owned());
        }
        self
    }

    /// The URL with its password replaced by `***`.
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// `text` with every form of the password replaced by `***`.
    pub(super) fn clean(&self, text: &str) -> String {
        let mut clean = text.to_string();
        let mut secrets = self.secrets.clone();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        for secret in &secrets {
            clean = clean.replace(secret.as_str(), "***");
        }
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_removed_from_the_url_and_any_message() {
        let redactor = Redactor::for_url("postgres://alice:s3cr@t@db.example:5433/tsumiage?sslmode=disable");
        assert_eq!(
            redactor.url(),
            "postgres://alice:***@db.example:5433/tsumiage?sslmode=disable"
        );
        assert_eq!(redactor.clean("bad: s3cr@t!"), "bad: ***!");
        let options = Redactor::for_url("postgresql://bob@h/db?password=hunter2&application_name=x");
        assert!(!options.url().contains("hunter2"), "{}", options.url());
        let plain = Redactor::for_url("postgres://carol@h:1/db");
        assert_eq!(plain.url(), "postgres://carol@h:1/db");
        assert_eq!(plain.clean("carol"), "carol");
    }

    #[test]
    fn the_target_names_hosts_ports_and_database() {
        let config = Config::from_str("postgres://u:p@10.0.0.1:6543/quiz").unwrap();
        assert_eq!(describe_target(&config), "10.0.0.1:6543/quiz");
        let defaults = Config::from_str("postgres://u@db").unwrap();
        assert_eq!(describe_target(&defaults), "db:5432/u");
        let several = Config::from_str("postgres://a:1,b:2/x").unwrap();
        assert_eq!(describe_target(&several), "a:1,b:2/x");
    }

    #[test]
    fn a_malformed_url_is_one_error_naming_it_without_the_password() {
        let error = Connection::open("postgres://alice:hunter2@127.0.0.1:notaport/db")
            .err()
            .expect("a malformed URL must be refused");
        let message = error.to_string();
        assert!(message.contains("malformed PostgreSQL URL"), "{message}");
        assert!(message.contains("127.0.0.1:notaport/db"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}
