//! The background loops of a running bot: posting and revealing the daily question. Each computes its
//! next deadline from the pure core, sleeps on tokio until then, and stops on shutdown.
//!
//! Adapter: may import the core, tokio and the store; never serenity.

pub mod daily;
