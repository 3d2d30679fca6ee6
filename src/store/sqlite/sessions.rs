//! `Sessions` on SQLite: sessions, attempts keyed by (session, question index, user) so a replay is ignored,
//! and final scores written once with the session's end.

use rusqlite::{OptionalExtension, Transaction, params};

use super::cards::save_card;
use super::*;
use crate::clock::Timestamp;
use crate::quiz::session::SessionEnd;
use crate::store::columns::{picked_column, picked_from, recorded};
use crate::store::*;

pub(super) fn session_from_row(row: &rusqlite::Row) -> rusqlite::Result<SessionRecord> {
    let end: Option<String> = row.get(6)?;
    Ok(SessionRecord {
        id: row.get(0)?,
        channel: row.get(1)?,
        started_at: Timestamp(row.get(2)?),
        question_count: row.get::<_, i64>(3)? as usize,
        owner: row.get(4)?,
        ended_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        end: end.as_deref().and_then(SessionEnd::parse),
    })
}

pub(super) const SESSION_COLUMNS: &str = "id, channel, started_ms, question_count, owner, ended_ms, end_reason";
fn attempt_from_row(row: &rusqlite::Row) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        session: row.get(0)?,
        question_index: row.get::<_, i64>(1)? as usize,
        question_id: row.get(2)?,
        user: row.get(3)?,
        answer: row.get(4)?,
        correct: row.get(5)?,
        answered_at: Timestamp(row.get(6)?),
        elapsed_ms: row.get(7)?,
        picked: picked_from(row.get(8)?),
    })
}

/// Inserts a session unless its channel already has one running (checked in the caller's transaction).
pub(super) fn insert_session(transaction: &Transaction, session: &NewSession) -> Result<SessionId> {
    let running: Option<SessionId> = transaction
        .query_row(
            "SELECT id FROM sessions WHERE channel = ?1 AND ended_ms IS NULL",
            [&session.channel],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(running) = running {
        return Err(StoreError::ChannelBusy {
            channel: session.channel.clone(),
            session: running,
        });
    }
    transaction.execute(
        "INSERT INTO sessions (channel, started_ms, question_count, owner) VALUES (?1, ?2, ?3, ?4)",
        params![
            session.channel,
            session.started_at.0,
            session.question_count as i64,
            session.owner
        ],
    )?;
    Ok(transaction.last_insert_rowid())
}

pub(super) fn insert_scores(
    transaction: &Transaction,
    session: SessionId,
    scores: &[FinalScore],
) -> rusqlite::Result<()> {
    let mut insert = transaction
        .prepare("INSERT OR IGNORE INTO scores (session_id, user_id, points, rank) VALUES (?1, ?2, ?3, ?4)")?;
    for score in scores {
        insert.execute(params![session, score.user, score.points, score.rank])?;
    }
    Ok(())
}

impl Sessions for SqliteStore {
    fn start_session(&mut self, session: &NewSession) -> Result<SessionId> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = insert_session(&transaction, session)?;
        transaction.commit()?;
        Ok(id)
    }

    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1");
        Ok(self.connection.query_row(&sql, [id], session_from_row).optional()?)
    }

    fn unfinished_sessions(&self) -> Result<Vec<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE ended_ms IS NULL ORDER BY id");
        let mut statement = self.connection.prepare(&sql)?;
        let rows = statement.query_map([], session_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn record_attempt(&mut self, attempt: &Attempt, card: Option<&CardState>) -> Result<Recorded> {
        // Sessions are never deleted, so checking outside the transaction is safe.
        if self.session(attempt.session)?.is_none() {
            return Err(StoreError::UnknownSession(attempt.session));
        }
        self.write(|tx| {
            let ended: Option<Option<i64>> =
                tx.query_row("SELECT ended_ms FROM sessions WHERE id = ?1", [attempt.session], |row| row.get(0)).optional()?;
            // An answer arriving for a session already closed (say, by recovery) must not change its score.
            if !matches!(ended, Some(None)) {
                return Ok(Recorded::Duplicate);
            }
            let changed = tx.execute(
                "INSERT OR IGNORE INTO attempts (session_id, question_index, question_id, user_id, answer, correct, answered_ms, elapsed_ms, picked)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    attempt.session,
                    attempt.question_index as i64,
                    attempt.question_id,
                    attempt.user,
                    attempt.answer,
                    attempt.correct,
                    attempt.answered_at.0,
                    attempt.elapsed_ms,
                    picked_column(&attempt.picked)
                ],
            )?;
            if changed > 0
                && let Some(card) = card
            {
                save_card(tx, attempt.user, card)?;
            }
            Ok(recorded(changed as u64))
        })
    }

    fn attempts(&self, session: SessionId) -> Result<Vec<Attempt>> {
        let mut statement = self.connection.prepare(
            "SELECT session_id, question_index, question_id, user_id, answer, correct, answered_ms, elapsed_ms, picked
             FROM attempts WHERE session_id = ?1 ORDER BY question_index, user_id",
        )?;
        let rows = statement.query_map([session], attempt_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn finish_session(
        &mut self,
        id: SessionId,
        end: SessionEnd,
        at: Timestamp,
        scores: &[FinalScore],
    ) -> Result<Recorded> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ended: Option<Option<i64>> = transaction
            .query_row("SELECT ended_ms FROM sessions WHERE id = ?1", [id], |row| row.get(0))
            .optional()?;
        match ended {
            None => return Err(StoreError::UnknownSession(id)),
            Some(Some(_)) => return Ok(Recorded::Duplicate),
            Some(None) => {}
        }
        transaction.execute(
            "UPDATE sessions SET ended_ms = ?2, end_reason = ?3 WHERE id = ?1",
            params![id, at.0, end.as_str()],
        )?;
        insert_scores(&transaction, id, scores)?;
        transaction.commit()?;
        Ok(Recorded::New)
    }

    fn close_interrupted(&mut self, id: SessionId, at: Timestamp) -> Result<()> {
        let transaction = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let points: Vec<(UserId, u32)> = {
            let mut statement = transaction
                .prepare("SELECT user_id, SUM(correct) FROM attempts WHERE session_id = ?1 GROUP BY user_id")?;
            statement
                .query_map([id], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u32)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let changed = transaction.execute(
            "UPDATE sessions SET ended_ms = ?2, end_reason = 'interrupted' WHERE id = ?1 AND ended_ms IS NULL",
            params![id, at.0],
        )?;
        if changed > 0 {
            insert_scores(&transaction, id, &rank_scores(points))?;
        }
        transaction.commit()?;
        Ok(())
    }

    fn scores(&self, session: SessionId) -> Result<Vec<FinalScore>> {
        let mut statement = self
            .connection
            .prepare("SELECT user_id, points, rank FROM scores WHERE session_id = ?1 ORDER BY rank, user_id")?;
        let rows = statement.query_map([session], |row| {
            Ok(FinalScore {
                user: row.get(0)?,
                points: row.get(1)?,
                rank: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
