//! `Cards` on SQLite: one FSRS card per (user, question), saved in the transaction of the answer that
//! reviewed it.

use rusqlite::{OptionalExtension, Transaction, params};

use super::*;
use crate::clock::Timestamp;
use crate::store::*;

const CARD_COLUMNS: &str =
    "question_id, due_ms, stability, difficulty, elapsed_days, scheduled_days, reps, lapses, state, last_review_ms";

fn card_from_row(row: &rusqlite::Row) -> rusqlite::Result<CardState> {
    Ok(CardState {
        question_id: row.get(0)?,
        due: Timestamp(row.get(1)?),
        stability: row.get(2)?,
        difficulty: row.get(3)?,
        elapsed_days: row.get(4)?,
        scheduled_days: row.get(5)?,
        reps: row.get(6)?,
        lapses: row.get(7)?,
        state: row.get(8)?,
        last_review: Timestamp(row.get(9)?),
    })
}

/// Inserts or replaces a user's card, inside the caller's transaction.
pub(super) fn save_card(tx: &Transaction, user: UserId, card: &CardState) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO cards (user_id, question_id, due_ms, stability, difficulty, elapsed_days, scheduled_days, reps, lapses, state, last_review_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (user_id, question_id) DO UPDATE SET due_ms = excluded.due_ms, stability = excluded.stability,
           difficulty = excluded.difficulty, elapsed_days = excluded.elapsed_days, scheduled_days = excluded.scheduled_days,
           reps = excluded.reps, lapses = excluded.lapses, state = excluded.state, last_review_ms = excluded.last_review_ms",
        params![
            user,
            card.question_id,
            card.due.0,
            card.stability,
            card.difficulty,
            card.elapsed_days,
            card.scheduled_days,
            card.reps,
            card.lapses,
            card.state,
            card.last_review.0
        ],
    )?;
    Ok(())
}

impl Cards for SqliteStore {
    fn card(&self, user: UserId, question_id: &str) -> Result<Option<CardState>> {
        let sql = format!("SELECT {CARD_COLUMNS} FROM cards WHERE user_id = ?1 AND question_id = ?2");
        Ok(self
            .connection
            .query_row(&sql, params![user, question_id], card_from_row)
            .optional()?)
    }

    fn due_cards(&self, user: UserId, now: Timestamp, limit: usize) -> Result<Vec<CardState>> {
        let sql = format!(
            "SELECT {CARD_COLUMNS} FROM cards WHERE user_id = ?1 AND due_ms <= ?2 ORDER BY due_ms, question_id LIMIT ?3"
        );
        let mut statement = self.connection.prepare(&sql)?;
        let rows = statement.query_map(params![user, now.0, limit as i64], card_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn recent_misses(&self, user: UserId, limit: usize) -> Result<Vec<String>> {
        // A question counts as missed when the user's latest answer to it, in a quiz or to a daily post,
        // was wrong.
        let mut statement = self.connection.prepare(
            "WITH answers (question_id, correct, answered_ms) AS (
                 SELECT question_id, correct, answered_ms FROM attempts WHERE user_id = ?1
                 UNION ALL
                 SELECT p.question_id, a.correct, a.answered_ms FROM daily_answers a
                   JOIN daily_posts p ON p.guild = a.guild AND p.slot = a.slot
                   WHERE a.user_id = ?1
             )
             SELECT question_id FROM answers a
             WHERE correct = 0
               AND answered_ms = (SELECT MAX(answered_ms) FROM answers b WHERE b.question_id = a.question_id)
             GROUP BY question_id ORDER BY MAX(answered_ms) DESC, question_id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![user, limit as i64], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
