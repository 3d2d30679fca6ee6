//! Settings: `config/tsumiage.toml` (committed, documented defaults), overridden by environment
//! variables (`TSUMIAGE_*`, also read from `.env`), overridden by command-line flags. Paths are relative
//! to the directory tsumiage runs in.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::locale::Locale;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub locale: Locale,
    pub paths: Paths,
    pub search: SearchSettings,
    pub answer: AnswerSettings,
    pub discord: DiscordSettings,
    pub daily: DailySettings,
}

/// `[answer]`: when `answer` commits to a choice.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerSettings {
    /// Below this confidence (0 to 1) `answer` abstains: the notes don't settle the question.
    pub min_confidence: f32,
}

impl Default for AnswerSettings {
    fn default() -> Self {
        AnswerSettings {
            min_confidence: crate::answer::DEFAULT_MIN_CONFIDENCE,
        }
    }
}

/// Defaults of a server's daily question (`[daily]`); `/daily set` changes them per server at run time.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DailySettings {
    /// Local time of day, `HH:MM`.
    pub time: String,
    /// IANA time zone name.
    pub time_zone: String,
    /// `every`, `weekdays`, or weekdays such as `mon,wed,fri`.
    pub days: String,
    /// Hours from the post to the reveal; 0 reveals with the next post.
    pub reveal_hours: u32,
    /// Open a discussion thread on each post.
    pub thread: bool,
}

impl Default for DailySettings {
    fn default() -> Self {
        DailySettings {
            time: "09:00".into(),
            time_zone: crate::daily::schedule::DEFAULT_TIME_ZONE.into(),
            days: "every".into(),
            reveal_hours: crate::daily::schedule::DEFAULT_REVEAL_HOURS,
            thread: false,
        }
    }
}

/// The Discord bot's settings (`[discord]`). The token is never here: it comes from `DISCORD_TOKEN`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DiscordSettings {
    /// Base URL of the Discord API (`https://discord.com` when unset): a local server in tests, or a shared
    /// rate-limit proxy. Env `TSUMIAGE_DISCORD_API_BASE`.
    pub api_base: Option<String>,
    /// Register the commands to this guild only (they update at once): for development. Unset: globally.
    /// Env `TSUMIAGE_DISCORD_DEV_GUILD_ID`.
    pub dev_guild_id: Option<u64>,
    /// A reply not ready after this long is deferred (Discord allows 3 s for the first response); 0 defers
    /// every reply at once.
    pub defer_after_ms: u64,
    /// Quiz defaults when `/quiz start` leaves them out.
    pub quiz_count: usize,
    pub quiz_seconds: u64,
    /// Retired: it once shortened a quiz "second" for tests, which now pass in a clock of their own. Still
    /// read, so that an old config file loads; `serve` warns that it does nothing.
    #[serde(rename = "quiz_second_ms")]
    pub retired_quiz_second_ms: Option<u64>,
    /// A running quiz's lease, in milliseconds: the replica driving it renews it four times per lease; when
    /// that replica dies, another takes the quiz over within about this long.
    pub quiz_lease_ms: u64,
    /// What a shutdown (SIGTERM, Ctrl-C) does to the quizzes this replica drives.
    pub quiz_on_shutdown: QuizOnShutdown,
    /// How often the notes folder is checked for edits, in seconds (fractions allowed; 0: never). Changed
    /// notes are reindexed in the background and swapped in.
    pub reload_secs: f64,
    /// `serve --http`: a request whose signed timestamp is further than this many seconds from this
    /// machine's clock, in either direction, is refused with 401 (a stale, replayed or pre-signed request).
    pub http_timestamp_window_secs: u64,
}

/// What a shutdown does to the running quizzes a replica drives.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum QuizOnShutdown {
    /// Stop them: each posts its final scoreboard. Right for a bot that stops for good.
    #[default]
    End,
    /// Give up their leases and post nothing: another replica, or this bot when it is back, goes on with
    /// them at once. Right for rolling restarts and deploys.
    HandOver,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    pub notes: PathBuf,
    pub index: PathBuf,
    pub synonyms: PathBuf,
    /// The English ↔ Japanese glossary of exam terms: synonym groups in the same format, merged with
    /// `synonyms` so that English questions find Japanese sections.
    pub glossary: PathBuf,
    /// The SQLite store of users, attempts, scores, cards and flags: not disposable, unlike the index.
    pub store: PathBuf,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSettings {
    /// Sections `ask` shows when `--top` is not given.
    pub top: usize,
    /// Lines of each section shown as its snippet.
    pub snippet_lines: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            locale: Locale::Ja,
            paths: Paths::default(),
            search: SearchSettings::default(),
            answer: AnswerSettings::default(),
            discord: DiscordSettings::default(),
            daily: DailySettings::default(),
        }
    }
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            notes: "notes".into(),
            index: "index".into(),
            synonyms: "config/synonyms.txt".into(),
            glossary: "config/glossary-en-ja.txt".into(),
            store: "data/tsumiage.sqlite".into(),
        }
    }
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            api_base: None,
            dev_guild_id: None,
            defer_after_ms: 2000,
            quiz_count: 5,
            quiz_seconds: 20,
            retired_quiz_second_ms: None,
            quiz_lease_ms: 4000,
            quiz_on_shutdown: QuizOnShutdown::End,
            reload_secs: 5.0,
            http_timestamp_window_secs: 300,
        }
    }
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            top: 5,
            snippet_lines: 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause (`source`) follows in the error chain: naming it here too printed it twice.
    #[error("cannot read config file {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("setting `{key}`: {message}")]
    Invalid { key: String, message: String },
}

/// The default config file, read when it exists.
pub const DEFAULT_CONFIG: &str = "config/tsumiage.toml";

impl Config {
    /// Parses a config file's text.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if !(0.0..=1.0).contains(&config.answer.min_confidence) {
            return Err(ConfigError::Invalid {
                key: "answer.min_confidence".into(),
                message: format!("{} is not between 0 and 1", config.answer.min_confidence),
            });
        }
        Ok(config)
    }

    /// Reads `explicit` (which must exist) or else `config/tsumiage.toml` if present, then applies
    /// environment overrides through `env` (a lookup, so tests pass their own).
    pub fn load(explicit: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let explicit = explicit
            .map(Path::to_path_buf)
            .or_else(|| env("TSUMIAGE_CONFIG").map(PathBuf::from));
        let mut config = match explicit {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Config::parse(&text, &path)?
            }
            None => match std::fs::read_to_string(DEFAULT_CONFIG) {
                Ok(text) => Config::parse(&text, Path::new(DEFAULT_CONFIG))?,
                Err(_) => Config::default(),
            },
        };
        config.apply_env(env)?;
        if config.search.top == 0 {
            // `ask` would say that no notes match, which is not what is wrong.
            return Err(ConfigError::Invalid {
                key: "search.top".into(),
                message: "must be 1 or more".into(),
            });
        }
        Ok(config)
    }

    fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(notes) = env("TSUMIAGE_NOTES") {
            self.paths.notes = notes.into();
        }
        if let Some(index) = env("TSUMIAGE_INDEX") {
            self.paths.index = index.into();
        }
        if let Some(synonyms) = env("TSUMIAGE_SYNONYMS") {
            self.paths.synonyms = synonyms.into();
        }
        if let Some(glossary) = env("TSUMIAGE_GLOSSARY") {
            self.paths.glossary = glossary.into();
        }
        if let Some(store) = env("TSUMIAGE_STORE") {
            self.paths.store = store.into();
        }
        if let Some(base) = env("TSUMIAGE_DISCORD_API_BASE").filter(|b| !b.trim().is_empty()) {
            self.discord.api_base = Some(base.trim().to_string());
        }
        if let Some(guild) = env("TSUMIAGE_DISCORD_DEV_GUILD_ID").filter(|g| !g.trim().is_empty()) {
            self.discord.dev_guild_id = Some(guild.trim().parse().map_err(|_| ConfigError::Invalid {
                key: "discord.dev_guild_id".into(),
                message: format!("`{guild}` is not a guild id (a number)"),
            })?);
        }
        if let Some(locale) = env("TSUMIAGE_LOCALE") {
            self.locale = locale
                .parse()
                .map_err(|e: crate::locale::UnknownLocale| ConfigError::Invalid {
                    key: "locale".into(),
                    message: e.to_string(),
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_zero_top_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[search]\ntop = 0\n").unwrap();
        let error = Config::load(Some(&path), |_| None).unwrap_err();
        assert_eq!(error.to_string(), "setting `search.top`: must be 1 or more");
    }

    use super::*;

    #[test]
    fn the_shipped_config_parses_and_matches_the_defaults() {
        let text = include_str!("../config/tsumiage.toml");
        assert_eq!(
            Config::parse(text, Path::new("config/tsumiage.toml")).unwrap(),
            Config::default()
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "locale = \"en\"\n[paths]\nnotes = \"my-notes\"\n").unwrap();
        let env = |key: &str| (key == "TSUMIAGE_INDEX").then(|| "/tmp/idx".to_string());
        let config = Config::load(Some(&path), env).unwrap();
        assert_eq!(config.locale, Locale::En);
        assert_eq!(config.paths.notes, PathBuf::from("my-notes"));
        assert_eq!(config.paths.index, PathBuf::from("/tmp/idx"));
    }

    #[test]
    fn mistakes_are_named() {
        let error = Config::parse("[search]\ntop = \"five\"\n", Path::new("c.toml")).unwrap_err();
        assert!(error.to_string().contains("c.toml"), "{error}");
        let error = Config::parse("[paths]\nnotez = \"x\"\n", Path::new("c.toml")).unwrap_err();
        assert!(error.to_string().contains("notez"), "{error}");
        assert!(Config::load(Some(Path::new("/nonexistent/c.toml")), |_| None).is_err());
        assert!(Config::load(None, |k| (k == "TSUMIAGE_LOCALE").then(|| "fr".into())).is_err());
        let error = Config::parse("[answer]\nmin_confidence = 1.5\n", Path::new("c.toml")).unwrap_err();
        assert!(error.to_string().contains("answer.min_confidence"), "{error}");
    }

    #[test]
    fn an_old_file_with_the_retired_quiz_second_is_read_and_the_setting_noted() {
        let config = Config::parse("[discord]\nquiz_second_ms = 100\n", Path::new("c.toml")).unwrap();
        assert_eq!(config.discord.retired_quiz_second_ms, Some(100));
        let rest = DiscordSettings {
            retired_quiz_second_ms: None,
            ..config.discord
        };
        assert_eq!(rest, DiscordSettings::default(), "it changes nothing else");
    }
}
