//! Spaced-repetition cards, what a user last missed, and a user's totals.

use ::postgres::Row;

use super::*;
use crate::clock::Timestamp;
use crate::store::*;

const CARD_COLUMNS: &str =
    "question_id, due_ms, stability, difficulty, elapsed_days, scheduled_days, reps, lapses, state, last_review_ms";

fn card_from_row(row: &Row) -> Result<CardState, ::postgres::Error> {
    Ok(CardState {
        question_id: row.try_get(0)?,
        due: Timestamp(row.try_get(1)?),
        stability: row.try_get(2)?,
        difficulty: row.try_get(3)?,
        elapsed_days: row.try_get(4)?,
        scheduled_days: row.try_get(5)?,
        reps: row.try_get(6)?,
        lapses: row.try_get(7)?,
        state: row.try_get(8)?,
        last_review: Timestamp(row.try_get(9)?),
    })
}

/// Inserts or replaces a user's card, inside the caller's transaction (the answer that reviewed it).
pub(super) fn save_card(tx: &mut Transaction<'_>, user: UserId, card: &CardState) -> Result<()> {
    tx.execute(
        "INSERT INTO cards (user_id, question_id, due_ms, stability, difficulty, elapsed_days, scheduled_days, reps, lapses, state, last_review_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (user_id, question_id) DO UPDATE SET due_ms = excluded.due_ms, stability = excluded.stability,
           difficulty = excluded.difficulty, elapsed_days = excluded.elapsed_days, scheduled_days = excluded.scheduled_days,
           reps = excluded.reps, lapses = excluded.lapses, state = excluded.state, last_review_ms = excluded.last_review_ms",
        &[
            &user,
            &card.question_id,
            &card.due.0,
            &card.stability,
            &card.difficulty,
            &card.elapsed_days,
            &card.scheduled_days,
            &card.reps,
            &card.lapses,
            &card.state,
            &card.last_review.0,
        ],
    )?;
    Ok(())
}

impl Cards for PgStore {
    fn card(&self, user: UserId, question_id: &str) -> Result<Option<CardState>> {
        let question_id = question_id.to_string();
        self.read(move |tx| {
            let sql = format!("SELECT {CARD_COLUMNS} FROM cards WHERE user_id = $1 AND question_id = $2");
            let row = tx.query_opt(&sql, &[&user, &question_id])?;
            Ok(row.as_ref().map(card_from_row).transpose()?)
        })
    }

    fn due_cards(&self, user: UserId, now: Timestamp, limit: usize) -> Result<Vec<CardState>> {
        self.read(move |tx| {
            let sql = format!(
                "SELECT {CARD_COLUMNS} FROM cards WHERE user_id = $1 AND due_ms <= $2
                 ORDER BY due_ms, question_id COLLATE \"C\" LIMIT $3"
            );
            let rows = tx.query(&sql, &[&user, &now.0, &sql_limit(limit)])?;
            Ok(rows.iter().map(card_from_row).collect::<Result<_, _>>()?)
        })
    }

    /// A question counts as missed when the user's latest answer to it, in a quiz or to a daily post, was
    /// wrong.
    fn recent_misses(&self, user: UserId, limit: usize) -> Result<Vec<String>> {
        self.read(move |tx| {
            let rows = tx.query(
                "WITH answers (question_id, correct, answered_ms) AS (
                     SELECT question_id, correct, answered_ms FROM attempts WHERE user_id = $1
                     UNION ALL
                     SELECT p.question_id, a.correct, a.answered_ms FROM daily_answers a
                       JOIN daily_posts p ON p.guild = a.guild AND p.slot = a.slot
                       WHERE a.user_id = $1
                 )
                 SELECT question_id FROM answers a
                 WHERE NOT correct
                   AND answered_ms = (SELECT MAX(answered_ms) FROM answers b WHERE b.question_id = a.question_id)
                 GROUP BY question_id ORDER BY MAX(answered_ms) DESC, question_id COLLATE \"C\" LIMIT $2",
                &[&user, &sql_limit(limit)],
            )?;
            Ok(rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?)
        })
    }
}
