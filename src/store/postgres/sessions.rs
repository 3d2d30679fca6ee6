//! Sessions, their attempts and final scores, and the all-time leaderboard.
//!
//! A session's row is the lock that orders everything about it: `finish_session` and the recovery of an
//! interrupted session take it `FOR UPDATE` before reading what they score; `record_attempt` holds it
//! `FOR SHARE` while it checks the session is open and inserts, so an answer either lands before the
//! session ends (and is scored) or finds it ended (and is a `Duplicate`), never in between.

use ::postgres::Row;

use super::*;
use crate::clock::Timestamp;
use crate::quiz::session::SessionEnd;
use crate::store::columns::{picked_column, picked_from, recorded};
use crate::store::*;

pub(super) const SESSION_COLUMNS: &str = "id, channel, started_ms, question_count, owner, ended_ms, end_reason";

pub(super) fn session_from_row(row: &Row) -> Result<SessionRecord, ::postgres::Error> {
    let end: Option<String> = row.try_get(6)?;
    Ok(SessionRecord {
        id: row.try_get(0)?,
        channel: row.try_get(1)?,
        started_at: Timestamp(row.try_get(2)?),
        question_count: row.try_get::<_, i64>(3)? as usize,
        owner: row.try_get(4)?,
        ended_at: row.try_get::<_, Option<i64>>(5)?.map(Timestamp),
        end: end.as_deref().and_then(SessionEnd::parse),
    })
}

fn attempt_from_row(row: &Row) -> Result<Attempt, ::postgres::Error> {
    Ok(Attempt {
        session: row.try_get(0)?,
        question_index: row.try_get::<_, i64>(1)? as usize,
        question_id: row.try_get(2)?,
        user: row.try_get(3)?,
        answer: row.try_get(4)?,
        correct: row.try_get(5)?,
        answered_at: Timestamp(row.try_get(6)?),
        elapsed_ms: row.try_get(7)?,
        picked: picked_from(row.try_get(8)?),
    })
}

/// Inserts a session unless its channel has one running. The partial unique index decides a race
/// between two replicas starting a quiz in the same channel: the loser's insert does nothing and it
/// reports the winner's session as `ChannelBusy`.
pub(super) fn insert_session(tx: &mut Transaction<'_>, session: &NewSession) -> Result<SessionId> {
    // A running session found busy may end before we read it: then the insert is tried again.
    for _ in 0..3 {
        let inserted = tx.query_opt(
            "INSERT INTO sessions (channel, started_ms, question_count, owner) VALUES ($1, $2, $3, $4)
             ON CONFLICT (channel) WHERE ended_ms IS NULL DO NOTHING RETURNING id",
            &[
                &session.channel,
                &session.started_at.0,
                &(session.question_count as i64),
                &session.owner,
            ],
        )?;
        if let Some(row) = inserted {
            return Ok(row.try_get(0)?);
        }
        let running = tx.query_opt(
            "SELECT id FROM sessions WHERE channel = $1 AND ended_ms IS NULL",
            &[&session.channel],
        )?;
        if let Some(row) = running {
            return Err(StoreError::ChannelBusy {
                channel: session.channel.clone(),
                session: row.try_get(0)?,
            });
        }
    }
    Err(StoreError::Backend(format!(
        "could not start a session in {}: its running session kept changing",
        session.channel
    )))
}

fn insert_scores(tx: &mut Transaction<'_>, session: SessionId, scores: &[FinalScore]) -> Result<()> {
    let insert = tx.prepare(
        "INSERT INTO scores (session_id, user_id, points, rank) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )?;
    for score in scores {
        tx.execute(
            &insert,
            &[&session, &score.user, &i64::from(score.points), &i64::from(score.rank)],
        )?;
    }
    Ok(())
}

/// Locks a session's row for the rest of the transaction: `None` for an unknown session, else its
/// `ended_ms`.
fn lock_session(tx: &mut Transaction<'_>, id: SessionId) -> Result<Option<Option<i64>>> {
    let row = tx.query_opt("SELECT ended_ms FROM sessions WHERE id = $1 FOR UPDATE", &[&id])?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

impl Sessions for PgStore {
    fn start_session(&mut self, session: &NewSession) -> Result<SessionId> {
        let session = session.clone();
        self.write(move |tx| insert_session(tx, &session))
    }

    fn session(&self, id: SessionId) -> Result<Option<SessionRecord>> {
        self.read(move |tx| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1");
            let row = tx.query_opt(&sql, &[&id])?;
            Ok(row.as_ref().map(session_from_row).transpose()?)
        })
    }

    fn unfinished_sessions(&self) -> Result<Vec<SessionRecord>> {
        self.read(|tx| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE ended_ms IS NULL ORDER BY id");
            let rows = tx.query(&sql, &[])?;
            Ok(rows.iter().map(session_from_row).collect::<Result<_, _>>()?)
        })
    }

    fn record_attempt(&mut self, attempt: &Attempt, card: Option<&CardState>) -> Result<Recorded> {
        let (attempt, card) = (attempt.clone(), card.cloned());
        self.write(move |tx| {
            let ended = tx.query_opt(
                "SELECT ended_ms FROM sessions WHERE id = $1 FOR SHARE",
                &[&attempt.session],
            )?;
            let ended: Option<i64> = match ended {
                None => return Err(StoreError::UnknownSession(attempt.session)),
                Some(row) => row.try_get(0)?,
            };
            // An answer arriving for a session already closed (say, by recovery) must not change its score.
            if ended.is_some() {
                return Ok(Recorded::Duplicate);
            }
            let inserted = tx.execute(
                "INSERT INTO attempts (session_id, question_index, question_id, user_id, answer, correct, answered_ms, elapsed_ms, picked)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                &[
                    &attempt.session,
                    &(attempt.question_index as i64),
                    &attempt.question_id,
                    &attempt.user,
                    &attempt.answer,
                    &attempt.correct,
                    &attempt.answered_at.0,
                    &attempt.elapsed_ms,
                    &picked_column(&attempt.picked),
                ],
            )?;
            if inserted > 0
                && let Some(card) = &card
            {
                cards::save_card(tx, attempt.user, card)?;
            }
            Ok(recorded(inserted))
        })
    }

    fn attempts(&self, session: SessionId) -> Result<Vec<Attempt>> {
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT session_id, question_index, question_id, user_id, answer, correct, answered_ms, elapsed_ms, picked
                 FROM attempts WHERE session_id = $1 ORDER BY question_index, user_id",
                &[&session],
            )?;
            Ok(rows.iter().map(attempt_from_row).collect::<Result<_, _>>()?)
        })
    }

    fn finish_session(
        &mut self,
        id: SessionId,
        end: SessionEnd,
        at: Timestamp,
        scores: &[FinalScore],
    ) -> Result<Recorded> {
        let scores = scores.to_vec();
        self.write(move |tx| {
            match lock_session(tx, id)? {
                None => return Err(StoreError::UnknownSession(id)),
                Some(Some(_)) => return Ok(Recorded::Duplicate),
                Some(None) => {}
            }
            tx.execute(
                "UPDATE sessions SET ended_ms = $2, end_reason = $3 WHERE id = $1",
                &[&id, &at.0, &end.as_str()],
            )?;
            insert_scores(tx, id, &scores)?;
            Ok(Recorded::New)
        })
    }

    /// Locks the session row first: another replica may close it at the same time; it is then left as that
    /// one closed it.
    fn close_interrupted(&mut self, id: SessionId, at: Timestamp) -> Result<()> {
        self.write(move |tx| {
            if lock_session(tx, id)? != Some(None) {
                return Ok(());
            }
            let rows = tx.query(
                "SELECT user_id, count(*) FILTER (WHERE correct) FROM attempts WHERE session_id = $1 GROUP BY user_id",
                &[&id],
            )?;
            let mut points: Vec<(UserId, u32)> = Vec::with_capacity(rows.len());
            for row in &rows {
                points.push((row.try_get(0)?, count_u32(row.try_get(1)?)));
            }
            tx.execute(
                "UPDATE sessions SET ended_ms = $2, end_reason = 'interrupted' WHERE id = $1",
                &[&id, &at.0],
            )?;
            insert_scores(tx, id, &rank_scores(points))
        })
    }

    fn scores(&self, session: SessionId) -> Result<Vec<FinalScore>> {
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT user_id, points, rank FROM scores WHERE session_id = $1 ORDER BY rank, user_id",
                &[&session],
            )?;
            let mut scores = Vec::with_capacity(rows.len());
            for row in &rows {
                scores.push(FinalScore {
                    user: row.try_get(0)?,
                    points: count_u32(row.try_get(1)?),
                    rank: count_u32(row.try_get(2)?),
                });
            }
            Ok(scores)
        })
    }
}
