//! `Signals` and `Replicas` on PostgreSQL: one change counter per topic, bumped by an upsert (a
//! concurrent bump waits for the row and adds to the committed count) and polled by the other replicas.
//! Polled, not `LISTEN`ed: the connection's thread serves one store call at a time and has no idle loop
//! to receive notifications in. And one row per replica (build version, schema, started, last seen).

use super::*;
use crate::clock::Timestamp;
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

impl Replicas for PgStore {
    fn record_replica(&mut self, id: &str, version: &str, at: Timestamp) -> Result<()> {
        let (id, version) = (id.to_string(), version.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO replicas (id, version, schema, started_ms, last_seen_ms) VALUES ($1, $2, $3, $4, $4)
                 ON CONFLICT (id) DO UPDATE SET version = $2, schema = $3, last_seen_ms = $4",
                &[&id, &version, &PG_SCHEMA_VERSION, &at.0],
            )?;
            Ok(())
        })
    }

    fn replicas(&self) -> Result<Vec<ReplicaRecord>> {
        self.read(|tx| {
            let rows = tx.query(
                "SELECT id, version, schema, started_ms, last_seen_ms FROM replicas
                 ORDER BY last_seen_ms DESC, id COLLATE \"C\"",
                &[],
            )?;
            let mut replicas = Vec::with_capacity(rows.len());
            for row in &rows {
                replicas.push(ReplicaRecord {
                    id: row.try_get(0)?,
                    version: row.try_get(1)?,
                    schema: row.try_get(2)?,
                    started: Timestamp(row.try_get(3)?),
                    last_seen: Timestamp(row.try_get(4)?),
                });
            }
            Ok(replicas)
        })
    }
}
