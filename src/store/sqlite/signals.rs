//! `Signals` on SQLite: one change counter per topic, bumped in a write transaction (so two replicas
//! bumping at once count two changes) and read by the others' polls.

use rusqlite::{OptionalExtension, params};

use super::*;
use crate::store::*;

impl Signals for SqliteStore {
    fn bump(&mut self, topic: Topic) -> Result<u64> {
        self.write(|tx| {
            tx.query_row(
                "INSERT INTO signals (topic, counter) VALUES (?1, 1)
                 ON CONFLICT (topic) DO UPDATE SET counter = counter + 1 RETURNING counter",
                params![topic.as_str()],
                |row| row.get::<_, i64>(0),
            )
        })
        .map(|counter| counter.max(0) as u64)
    }

    fn seen(&self, topic: Topic) -> Result<u64> {
        let counter: Option<i64> = self
            .connection
            .query_row(
                "SELECT counter FROM signals WHERE topic = ?1",
                params![topic.as_str()],
                |row| row.get(0),
            )
            .optional()?;
        Ok(counter.unwrap_or(0).max(0) as u64)
    }
}
