//! `Signals` and `Replicas` on SQLite: one change counter per topic, bumped in a write transaction (so
//! two replicas bumping at once count two changes) and read by the others' polls; and one row per
//! replica (its build version, the schema, when it started and was last seen).

use rusqlite::{OptionalExtension, params};

use super::*;
use crate::clock::Timestamp;
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

impl Replicas for SqliteStore {
    fn record_replica(&mut self, id: &str, version: &str, at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO replicas (id, version, schema, started_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (id) DO UPDATE SET version = ?2, schema = ?3, last_seen_ms = ?4",
                params![id, version, SCHEMA_VERSION, at.0],
            )
            .map(drop)
        })
    }

    fn replicas(&self) -> Result<Vec<ReplicaRecord>> {
        let mut statement = self.connection.prepare(
            "SELECT id, version, schema, started_ms, last_seen_ms FROM replicas ORDER BY last_seen_ms DESC, id",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(ReplicaRecord {
                id: row.get(0)?,
                version: row.get(1)?,
                schema: row.get(2)?,
                started: Timestamp(row.get(3)?),
                last_seen: Timestamp(row.get(4)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
