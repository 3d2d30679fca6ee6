//! `Signals` on PostgreSQL: one change counter per topic, bumped by an upsert (a concurrent bump waits for
//! the row and adds to the committed count) and polled by the other replicas. Polled, not `LISTEN`ed: the
//! connection's thread serves one store call at a time and has no idle loop to receive notifications in.

use super::*;
use crate::store::*;

impl Signals for PgStore {
    fn bump(&mut self, topic: Topic) -> Result<u64> {
        let counter: i64 = self.write(move |tx| {
            Ok(tx
                .query_one(
                    "INSERT INTO signals (topic, counter) VALUES ($1, 1)
                     ON CONFLICT (topic) DO UPDATE SET counter = signals.counter + 1 RETURNING counter",
                    &[&topic.as_str()],
                )?
                .try_get(0)?)
        })?;
        Ok(counter.max(0) as u64)
    }

    fn seen(&self, topic: Topic) -> Result<u64> {
        let counter: Option<i64> = self.read(move |tx| {
            Ok(tx
                .query_opt("SELECT counter FROM signals WHERE topic = $1", &[&topic.as_str()])?
                .map(|row| row.try_get(0))
                .transpose()?)
        })?;
        Ok(counter.unwrap_or(0).max(0) as u64)
    }
}
