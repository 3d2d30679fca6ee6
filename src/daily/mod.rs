//! The daily question: when it is posted and revealed in a server's time zone (`schedule`), which
//! question it is (`choose`), and each member's streaks (`streaks`). All of it takes what the store knows and `now` as plain
//! values, so it is tested without a store, a clock or Discord; `jobs::daily` runs it on a timer.
//!
//! Core: imports the quiz and the store's records, never tokio, serenity or a store backend.

mod choose;
pub mod schedule;
mod streaks;

pub use choose::{GroupRecord, choose, eligible, shown};
pub use streaks::{Streak, streak, streaks};
