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

const QUIZ_COLUMNS: &str = "id, channel, version, state, owner, lease_until_ms, ended_ms IS NOT NULL";

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
            "UPDATE sessions SET state = ?2, version = 1, lease_until_ms = ?3 WHERE id = ?1",
            params![id, state, lease_until.0],
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
                "UPDATE sessions SET state = ?3, version = version + 1
                 WHERE id = ?1 AND version = ?2 AND ended_ms IS NULL AND state IS NOT NULL",
                params![session, based_on, state],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::session::SessionEnd;
    use crate::store::sqlite::test_support::*;

    #[test]
    fn a_save_based_on_an_old_version_is_a_conflict_and_changes_nothing() {
        let (dir, mut store) = open_temp();
        let session = store
            .start_quiz(&quiz_session("c"), Timestamp(100), "s1", &[effect("ask:0")])
            .unwrap();
        let stored = store.running_quiz("c").unwrap().unwrap();
        assert_eq!(
            (stored.session, stored.version, stored.state.as_str()),
            (session, 1, "s1")
        );
        assert_eq!((stored.lease.owner.as_str(), stored.ended), ("replica:a", false));
        // Two replicas load version 1; the first save wins, the second is refused.
        let mut other = SqliteStore::open(&dir.path().join("data/t.sqlite")).unwrap();
        assert_eq!(
            store
                .save_quiz_state(session, 1, "s2", &[effect("reveal:0"), effect("ask:1")], Timestamp(5))
                .unwrap(),
            Cas::Saved(2)
        );
        assert_eq!(
            other
                .save_quiz_state(session, 1, "s2-other", &[effect("reveal:0")], Timestamp(6))
                .unwrap(),
            Cas::Conflict
        );
        let stored = other.quiz_state(session).unwrap().unwrap();
        assert_eq!((stored.version, stored.state.as_str()), (2, "s2"));
        // Retried on the fresh version, it lands; an effect already recorded is not recorded twice.
        assert_eq!(
            other
                .save_quiz_state(session, 2, "s3", &[effect("ask:1"), effect("finish")], Timestamp(7))
                .unwrap(),
            Cas::Saved(3)
        );
        let names: Vec<String> = store
            .quiz_effects(session)
            .unwrap()
            .into_iter()
            .map(|e| e.effect)
            .collect();
        assert_eq!(names, ["ask:0", "reveal:0", "ask:1", "finish"]);
        store
            .mark_effect_sent(session, "ask:0", Some("m1"), Timestamp(8))
            .unwrap();
        store
            .mark_effect_sent(session, "ask:0", Some("m2"), Timestamp(9))
            .unwrap();
        let first = &store.quiz_effects(session).unwrap()[0];
        assert_eq!(
            (first.message_id.as_deref(), first.sent_at),
            (Some("m1"), Some(Timestamp(8)))
        );
        // A second quiz in the channel is refused; once the session ended, saves are conflicts.
        let busy = store
            .start_quiz(&quiz_session("c"), Timestamp(100), "x", &[])
            .unwrap_err();
        assert!(matches!(busy, StoreError::ChannelBusy { .. }), "{busy}");
        store
            .finish_session(session, SessionEnd::CountReached, Timestamp(10), &[])
            .unwrap();
        assert_eq!(
            store.save_quiz_state(session, 3, "s4", &[], Timestamp(11)).unwrap(),
            Cas::Conflict
        );
        assert!(store.running_quiz("c").unwrap().is_none());
        assert!(store.quiz_state(session).unwrap().unwrap().ended);
        // Ended, with effects still to carry out: still listed, until they are done.
        assert_eq!(store.running_quizzes().unwrap().len(), 1);
        for name in ["reveal:0", "ask:1", "finish"] {
            store.mark_effect_sent(session, name, None, Timestamp(12)).unwrap();
        }
        assert!(store.running_quizzes().unwrap().is_empty());
        // Terminal sessions have no state: never listed as quizzes to take over.
        store.start_session(&quiz_session("terminal:alice")).unwrap();
        assert!(store.running_quizzes().unwrap().is_empty());
    }

    #[test]
    fn a_lease_is_taken_renewed_and_after_it_expired_stolen() {
        let (_dir, mut store) = open_temp();
        let session = store.start_quiz(&quiz_session("c"), Timestamp(100), "s", &[]).unwrap();
        // Held by a until 100: b cannot take it before then; a renews it.
        assert!(
            !store
                .take_lease(session, "replica:b", Timestamp(50), Timestamp(150))
                .unwrap()
        );
        assert!(
            store
                .take_lease(session, "replica:a", Timestamp(60), Timestamp(160))
                .unwrap()
        );
        assert!(
            !store
                .take_lease(session, "replica:b", Timestamp(120), Timestamp(220))
                .unwrap()
        );
        // a stops renewing: at its expiry b steals it, and a can no longer renew.
        assert!(
            store
                .take_lease(session, "replica:b", Timestamp(160), Timestamp(260))
                .unwrap()
        );
        let lease = store.quiz_state(session).unwrap().unwrap().lease;
        assert_eq!((lease.owner.as_str(), lease.until), ("replica:b", Some(Timestamp(260))));
        assert!(
            !store
                .take_lease(session, "replica:a", Timestamp(170), Timestamp(270))
                .unwrap()
        );
        // An ended session's lease still expires and can be taken: its last effects may be pending.
        store
            .finish_session(session, SessionEnd::Stopped, Timestamp(300), &[])
            .unwrap();
        assert!(
            !store
                .take_lease(session, "replica:a", Timestamp(259), Timestamp(500))
                .unwrap()
        );
        assert!(
            store
                .take_lease(session, "replica:a", Timestamp(400), Timestamp(500))
                .unwrap()
        );
    }

    #[test]
    fn a_released_lease_can_be_taken_at_once_and_only_its_holder_releases_it() {
        let (_dir, mut store) = open_temp();
        let session = store.start_quiz(&quiz_session("c"), Timestamp(100), "s", &[]).unwrap();
        assert!(
            store
                .take_lease(session, "replica:a", Timestamp(10), Timestamp(1_000))
                .unwrap()
        );
        assert!(!store.release_lease(session, "replica:b", Timestamp(20)).unwrap());
        assert!(
            !store
                .take_lease(session, "replica:b", Timestamp(30), Timestamp(1_030))
                .unwrap()
        );
        assert!(store.release_lease(session, "replica:a", Timestamp(40)).unwrap());
        assert_eq!(
            store.quiz_state(session).unwrap().unwrap().lease.until,
            Some(Timestamp(40))
        );
        assert!(
            store
                .take_lease(session, "replica:b", Timestamp(40), Timestamp(1_040))
                .unwrap()
        );
    }

    #[test]
    fn the_last_question_shown_is_per_channel() {
        let (_dir, mut store) = open_temp();
        assert_eq!(store.last_shown("c1").unwrap(), None);
        store.set_last_shown("c1", "q1", Timestamp(1)).unwrap();
        store.set_last_shown("c2", "q9", Timestamp(1)).unwrap();
        store.set_last_shown("c1", "q2", Timestamp(2)).unwrap();
        assert_eq!(store.last_shown("c1").unwrap().as_deref(), Some("q2"));
        assert_eq!(store.last_shown("c2").unwrap().as_deref(), Some("q9"));
    }
}
