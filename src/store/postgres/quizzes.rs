//! Live Discord quizzes: the stored state saved by compare-and-swap, the lease, the effects and the last
//! question shown per channel.
//!
//! A save, a lease take and a release are each one conditional `UPDATE` of the session's row. Under READ
//! COMMITTED a second `UPDATE` of the same row waits for the first to commit and then re-evaluates its
//! `WHERE` on the row the first wrote: of two saves based on version 3 the second finds version 4 and
//! changes nothing; of two replicas stealing the same expired lease the second finds it renewed.

use ::postgres::Row;

use super::sessions::insert_session;
use super::*;
use crate::clock::Timestamp;
use crate::store::*;

const QUIZ_COLUMNS: &str = "id, channel, version, state, owner, lease_until_ms, ended_ms IS NOT NULL, saved_by";

fn quiz_from_row(row: &Row) -> Result<QuizState, ::postgres::Error> {
    Ok(QuizState {
        session: row.try_get(0)?,
        channel: row.try_get(1)?,
        version: row.try_get(2)?,
        state: row.try_get(3)?,
        lease: Lease {
            owner: row.try_get(4)?,
            until: row.try_get::<_, Option<i64>>(5)?.map(Timestamp),
        },
        ended: row.try_get(6)?,
        saved_by: row.try_get(7)?,
    })
}

/// Appends effects after the session's last one; a name already recorded is skipped (never carried out
/// twice). Callers hold the session's row lock (the save's `UPDATE`, or a session nobody else knows yet),
/// so no other transaction appends to the same session meanwhile.
fn insert_effects(tx: &mut Transaction<'_>, session: SessionId, effects: &[NewEffect], at: Timestamp) -> Result<()> {
    let mut seq: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(seq), 0)::BIGINT FROM quiz_effects WHERE session_id = $1",
            &[&session],
        )?
        .try_get(0)?;
    let insert = tx.prepare(
        "INSERT INTO quiz_effects (session_id, seq, effect, payload, recorded_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
    )?;
    for effect in effects {
        // As in SQLite, a skipped effect still takes its number: `seq` orders, it need not be dense.
        seq += 1;
        tx.execute(&insert, &[&session, &seq, &effect.effect, &effect.payload, &at.0])?;
    }
    Ok(())
}

impl LiveQuizzes for PgStore {
    fn start_quiz(
        &mut self,
        session: &NewSession,
        lease_until: Timestamp,
        state: &str,
        effects: &[NewEffect],
    ) -> Result<SessionId> {
        let (session, state, effects) = (session.clone(), state.to_string(), effects.to_vec());
        self.write(move |tx| {
            let id = insert_session(tx, &session)?;
            tx.execute(
                "UPDATE sessions SET state = $2, version = 1, lease_until_ms = $3, saved_by = $4 WHERE id = $1",
                &[&id, &state, &lease_until.0, &BUILD_VERSION],
            )?;
            insert_effects(tx, id, &effects, session.started_at)?;
            Ok(id)
        })
    }

    fn quiz_state(&self, session: SessionId) -> Result<Option<QuizState>> {
        self.read(move |tx| {
            let sql = format!("SELECT {QUIZ_COLUMNS} FROM sessions WHERE id = $1 AND state IS NOT NULL");
            let row = tx.query_opt(&sql, &[&session])?;
            Ok(row.as_ref().map(quiz_from_row).transpose()?)
        })
    }

    fn running_quiz(&self, channel: &str) -> Result<Option<QuizState>> {
        let channel = channel.to_string();
        self.read(move |tx| {
            let sql = format!(
                "SELECT {QUIZ_COLUMNS} FROM sessions WHERE channel = $1 AND ended_ms IS NULL AND state IS NOT NULL"
            );
            let row = tx.query_opt(&sql, &[&channel])?;
            Ok(row.as_ref().map(quiz_from_row).transpose()?)
        })
    }

    fn running_quizzes(&self) -> Result<Vec<QuizState>> {
        self.read(|tx| {
            let sql = format!(
                "SELECT {QUIZ_COLUMNS} FROM sessions WHERE state IS NOT NULL AND (ended_ms IS NULL OR EXISTS (
                     SELECT 1 FROM quiz_effects e WHERE e.session_id = sessions.id AND e.sent_ms IS NULL))
                 ORDER BY id"
            );
            let rows = tx.query(&sql, &[])?;
            Ok(rows.iter().map(quiz_from_row).collect::<Result<_, _>>()?)
        })
    }

    fn save_quiz_state(
        &mut self,
        session: SessionId,
        based_on: i64,
        state: &str,
        effects: &[NewEffect],
        at: Timestamp,
    ) -> Result<Cas> {
        let (state, effects) = (state.to_string(), effects.to_vec());
        self.write(move |tx| {
            // The compare-and-swap: the write lands only on the version it was computed from.
            let changed = tx.execute(
                "UPDATE sessions SET state = $3, version = version + 1, saved_by = $4
                 WHERE id = $1 AND version = $2 AND ended_ms IS NULL AND state IS NOT NULL",
                &[&session, &based_on, &state, &BUILD_VERSION],
            )?;
            if changed == 0 {
                return Ok(Cas::Conflict);
            }
            insert_effects(tx, session, &effects, at)?;
            Ok(Cas::Saved(based_on + 1))
        })
    }

    fn take_lease(&mut self, session: SessionId, owner: &str, now: Timestamp, until: Timestamp) -> Result<bool> {
        let owner = owner.to_string();
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE sessions SET owner = $2, lease_until_ms = $4
                 WHERE id = $1 AND (owner = $2 OR lease_until_ms IS NULL OR lease_until_ms <= $3)",
                &[&session, &owner, &now.0, &until.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn release_lease(&mut self, session: SessionId, owner: &str, now: Timestamp) -> Result<bool> {
        let owner = owner.to_string();
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE sessions SET lease_until_ms = $3 WHERE id = $1 AND owner = $2",
                &[&session, &owner, &now.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn quiz_effects(&self, session: SessionId) -> Result<Vec<QuizEffect>> {
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT session_id, seq, effect, payload, recorded_ms, sent_ms, message_id
                 FROM quiz_effects WHERE session_id = $1 ORDER BY seq",
                &[&session],
            )?;
            let mut effects = Vec::with_capacity(rows.len());
            for row in &rows {
                effects.push(QuizEffect {
                    session: row.try_get(0)?,
                    seq: row.try_get(1)?,
                    effect: row.try_get(2)?,
                    payload: row.try_get(3)?,
                    recorded_at: Timestamp(row.try_get(4)?),
                    sent_at: row.try_get::<_, Option<i64>>(5)?.map(Timestamp),
                    message_id: row.try_get(6)?,
                });
            }
            Ok(effects)
        })
    }

    fn mark_effect_sent(
        &mut self,
        session: SessionId,
        effect: &str,
        message_id: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        let (effect, message_id) = (effect.to_string(), message_id.map(str::to_string));
        self.write(move |tx| {
            tx.execute(
                "UPDATE quiz_effects SET sent_ms = $3, message_id = $4
                 WHERE session_id = $1 AND effect = $2 AND sent_ms IS NULL",
                &[&session, &effect, &at.0, &message_id],
            )?;
            Ok(())
        })
    }

    fn set_last_shown(&mut self, channel: &str, question_id: &str, at: Timestamp) -> Result<()> {
        let (channel, question_id) = (channel.to_string(), question_id.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO last_shown (channel, question_id, shown_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (channel) DO UPDATE SET question_id = excluded.question_id, shown_ms = excluded.shown_ms",
                &[&channel, &question_id, &at.0],
            )?;
            Ok(())
        })
    }

    fn last_shown(&self, channel: &str) -> Result<Option<String>> {
        let channel = channel.to_string();
        self.read(move |tx| {
            let row = tx.query_opt("SELECT question_id FROM last_shown WHERE channel = $1", &[&channel])?;
            Ok(row.map(|row| row.try_get(0)).transpose()?)
        })
    }
}
