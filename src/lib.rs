//! tsumiage: a study group's notes, searchable in Japanese and English, turned into answers and quizzes.
//!
//! The library is the pure core: it parses notes (`notes`, `questions`), analyses text (`analysis`),
//! indexes and searches sections (`index`, `search`), ranks multiple-choice answers (`answer`) and checks a
//! notes folder (`check`). It never prints and never reads the wall clock; the command-line and Discord
//! adapters call it and render what it returns.

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
