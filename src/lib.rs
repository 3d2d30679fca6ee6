//! tsumiage: a study group's notes, searchable in Japanese and English, turned into answers and quizzes.
//!
//! The core never prints, never reads the wall clock (`clock::Clock` is passed in) and imports no effect
//! crate (serenity, tokio, a database driver); `.ci/architecture.py` checks that, and that no module imports
//! another that imports it back:
//! - `notes`, `questions`: the notes and the question bank, parsed; `check` validates them;
//! - `search`: analysis, synonyms, the index and BM25 scoring; `answer`: multiple-choice ranking;
//! - `quiz`: questions, answer checking, generation, selection, sessions and the notes loaded as a library;
//! - `review`: FSRS cards and recording answers; `daily`: the daily question's schedule, choice and streaks;
//! - `store`: the records and one port (trait) per group of them; `order`, `locale`, `clock`: shared bits.
//!
//! The adapters sit on top: `store::sqlite` (the embedded backend), `jobs` (background loops on tokio),
//! `discord` (the bot, serenity and HTTP interactions), `config` (settings from files and the environment)
//! and, in the binary, `cli`.

pub mod answer;
pub mod check;
pub mod clock;
pub mod config;
pub mod daily;
pub mod discord;
pub mod jobs;
pub mod locale;
pub mod notes;
pub mod order;
pub mod questions;
pub mod quiz;
pub mod review;
pub mod search;
pub mod store;
