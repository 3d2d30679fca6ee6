//! `LiveQuizzes` on SQLite: a quiz's state saved by compare-and-swap on its version, its lease, and its
//! effects in order, all in the transaction of the change that caused them (`BEGIN IMMEDIATE`, so two
//! replicas never interleave).

use rusqlite::{OptionalExtension, Transaction, params};

use super::sessions::insert_session;
use super::*;
use crate::clock::Timestamp;
use crate::store::*;

/// Appends effects after the session's last one. A name already recorded is skipped: the same effect is
/// never carried out twice.
fn insert_effects(
    transaction: &Transaction,
    session: SessionId,
    effects: &[NewEffect],
    at: Timestamp,
) -> rusqlite::Result<()> {
    let mut seq: i64 = transaction.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM quiz_effects WHERE session_id = ?1",
        [session],
        |row| row.get(0),
    )?;
    let mut insert = transaction.prepare(
        "INSERT OR IGNORE INTO quiz_effects (session_id, seq, effect, payload, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for effect in effects {
        seq += 1;
        insert.execute(params![session, seq, effect.effect, effect.payload, at.0])?;
    }
    Ok(())
}

const QUIZ_COLUMNS: &str = "id, channel, version, state, owner, lease_until_ms, ended_ms IS NOT NULL, saved_by";

fn quiz_from_row(row: &rusqlite::Row) -> rusqlite::Result<QuizState> {
    Ok(QuizState {
        session: row.get(0)?,
        channel: row.get(1)?,
        version: row.get(2)?,
        state: row.get(3)?,
        lease: Lease {
            owner: row.get(4)?,
            until: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        },
        ended: row.get(6)?,
        saved_by: row.get(7)?,
    })
}

impl LiveQuizzes for SqliteStore {
    fn start_quiz(
        &mut self,
        session: &NewSession,
        lease_until: Timestamp,
        state: &str,
        effects: &[NewEffect],
    ) -> Result<SessionId> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = insert_session(&transaction, session)?;
        transaction.execute(
            "UPDATE sessions SET state = ?2, version = 1, lease_until_ms = ?3, saved_by = ?4 WHERE id = ?1",
            params![id, state, lease_until.0, BUILD_VERSION],
        )?;
        insert_effects(&transaction, id, effects, session.started_at)?;
        transaction.commit()?;
        Ok(id)
    }

    fn quiz_state(&self, session: SessionId) -> Result<Option<QuizState>> {
        let sql = format!("SELECT {QUIZ_COLUMNS} FROM sessions WHERE id = ?1 AND state IS NOT NULL");
        Ok(self.connection.query_row(&sql, [session], quiz_from_row).optional()?)
    }

    fn running_quiz(&self, channel: &str) -> Result<Option<QuizState>> {
        let sql = format!(
            "SELECT {QUIZ_COLUMNS} FROM sessions WHERE channel = ?1 AND ended_ms IS NULL AND state IS NOT NULL"
        );
        Ok(self.connection.query_row(&sql, [channel], quiz_from_row).optional()?)
    }

    fn running_quizzes(&self) -> Result<Vec<QuizState>> {
        let sql = format!(
            "SELECT {QUIZ_COLUMNS} FROM sessions WHERE state IS NOT NULL AND (ended_ms IS NULL OR EXISTS (
                 SELECT 1 FROM quiz_effects e WHERE e.session_id = sessions.id AND e.sent_ms IS NULL))
             ORDER BY id"
        );
        let mut statement = self.connection.prepare(&sql)?;
        let rows = statement.query_map([], quiz_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn save_quiz_state(
        &mut self,
        session: SessionId,
        based_on: i64,
        state: &str,
        effects: &[NewEffect],
        at: Timestamp,
    ) -> Result<Cas> {
        self.write(|tx| {
            // The compare-and-swap: the write lands only on the version it was computed from.
            let changed = tx.execute(
                "UPDATE sessions SET state = ?3, version = version + 1, saved_by = ?4
                 WHERE id = ?1 AND version = ?2 AND ended_ms IS NULL AND state IS NOT NULL",
                params![session, based_on, state, BUILD_VERSION],
            )?;
            if changed == 0 {
                return Ok(Cas::Conflict);
            }
            insert_effects(tx, session, effects, at)?;
            Ok(Cas::Saved(based_on + 1))
        })
    }

    fn take_lease(&mut self, session: SessionId, owner: &str, now: Timestamp, until: Timestamp) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE sessions SET owner = ?2, lease_until_ms = ?4
                 WHERE id = ?1 AND (owner = ?2 OR lease_until_ms IS NULL OR lease_until_ms <= ?3)",
                params![session, owner, now.0, until.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn release_lease(&mut self, session: SessionId, owner: &str, now: Timestamp) -> Result<bool> {
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE sessions SET lease_until_ms = ?3 WHERE id = ?1 AND owner = ?2",
                params![session, owner, now.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn quiz_effects(&self, session: SessionId) -> Result<Vec<QuizEffect>> {
        let mut statement = self.connection.prepare(
            "SELECT session_id, seq, effect, payload, recorded_ms, sent_ms, message_id
             FROM quiz_effects WHERE session_id = ?1 ORDER BY seq",
        )?;
        let rows = statement.query_map([session], |row| {
            Ok(QuizEffect {
                session: row.get(0)?,
                seq: row.get(1)?,
                effect: row.get(2)?,
                payload: row.get(3)?,
                recorded_at: Timestamp(row.get(4)?),
                sent_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
                message_id: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn mark_effect_sent(
        &mut self,
        session: SessionId,
        effect: &str,
        message_id: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE quiz_effects SET sent_ms = ?3, message_id = ?4
                 WHERE session_id = ?1 AND effect = ?2 AND sent_ms IS NULL",
                params![session, effect, at.0, message_id],
            )?;
            Ok(())
        })
    }

    fn set_last_shown(&mut self, channel: &str, question_id: &str, at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO last_shown (channel, question_id, shown_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (channel) DO UPDATE SET question_id = excluded.question_id, shown_ms = excluded.shown_ms",
                params![channel, question_id, at.0],
            )?;
            Ok(())
        })
    }

    fn last_shown(&self, channel: &str) -> Result<Option<String>> {
        Ok(self
            .connection
            .query_row(
                "SELECT question_id FROM last_shown WHERE channel = ?1",
                [channel],
                |row| row.get(0),
            )
            .optional()?)
    }
}
