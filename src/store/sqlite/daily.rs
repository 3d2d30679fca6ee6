//! `DailyLog` on SQLite: schedules per guild, posted slots (an insert one replica wins, then claims that
//! lapse), answers keyed by (guild, slot, user), and the group history the daily choice reads.

use rusqlite::{OptionalExtension, params};

use super::cards::save_card;
use super::*;
use crate::clock::Timestamp;
use crate::daily::schedule::{Days, Reveal};
use crate::store::*;

fn daily_post_from_row(row: &rusqlite::Row) -> rusqlite::Result<DailyPost> {
    let state: String = row.get(3)?;
    Ok(DailyPost {
        guild: row.get(0)?,
        slot: row.get(1)?,
        question_id: row.get(2)?,
        state: if state == "sent" {
            DailyPostState::Sent
        } else {
            DailyPostState::Recorded
        },
        message_id: row.get(4)?,
        recorded_at: Timestamp(row.get(5)?),
        sent_at: row.get::<_, Option<i64>>(6)?.map(Timestamp),
        channel: row.get(7)?,
        revealed_at: row.get::<_, Option<i64>>(8)?.map(Timestamp),
    })
}

const DAILY_POST_COLUMNS: &str =
    "guild, slot, question_id, state, message_id, recorded_ms, sent_ms, channel, revealed_ms";

fn daily_answer_from_row(row: &rusqlite::Row) -> rusqlite::Result<DailyAnswer> {
    Ok(DailyAnswer {
        guild: row.get(0)?,
        slot: row.get(1)?,
        user: row.get(2)?,
        answer: row.get(3)?,
        correct: row.get(4)?,
        answered_at: Timestamp(row.get(5)?),
        picked: picked_from(row.get(6)?),
    })
}

impl DailyLog for SqliteStore {
    fn set_daily_schedule(&mut self, schedule: &DailySchedule) -> Result<()> {
        let time = schedule.time.format("%H:%M").to_string();
        let reveal = match schedule.reveal {
            Reveal::AfterHours(hours) => Some(hours),
            Reveal::WithNextPost => None,
        };
        self.write(|tx| {
            tx.execute(
                "INSERT INTO daily_schedules (guild, channel, time_of_day, time_zone, weekdays_only, role, days, reveal_hours, topic, thread, enabled)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (guild) DO UPDATE SET channel = excluded.channel, time_of_day = excluded.time_of_day,
                   time_zone = excluded.time_zone, weekdays_only = excluded.weekdays_only, role = excluded.role,
                   days = excluded.days, reveal_hours = excluded.reveal_hours, topic = excluded.topic,
                   thread = excluded.thread, enabled = excluded.enabled",
                params![
                    schedule.guild,
                    schedule.channel,
                    time,
                    schedule.zone.name(),
                    schedule.days == Days::WEEKDAYS,
                    schedule.role,
                    schedule.days.mask(),
                    reveal,
                    schedule.topic,
                    schedule.thread,
                    schedule.enabled
                ],
            )?;
            Ok(())
        })
    }

    fn daily_schedules(&self) -> Result<Vec<DailySchedule>> {
        let mut statement = self.connection.prepare(
            "SELECT guild, channel, time_of_day, time_zone, role, days, reveal_hours, topic, thread, enabled FROM daily_schedules ORDER BY guild",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, u8>(5)?,
                row.get::<_, Option<u32>>(6)?,
                row.get::<_, Option<String>>(7)?,
                row.get::<_, bool>(8)?,
                row.get::<_, bool>(9)?,
            ))
        })?;
        let mut schedules = Vec::new();
        for row in rows {
            let (guild, channel, time, zone, role, days, reveal, topic, thread, enabled) = row?;
            let bad = |what: String| StoreError::BadSchedule(format!("guild {guild}: {what}"));
            schedules.push(DailySchedule {
                time: crate::daily::schedule::parse_time(&time).map_err(|e| bad(e.to_string()))?,
                zone: crate::daily::schedule::parse_zone(&zone).map_err(|e| bad(e.to_string()))?,
                days: Days::from_mask(days).ok_or_else(|| bad(format!("days mask {days}")))?,
                reveal: reveal.map_or(Reveal::WithNextPost, Reveal::AfterHours),
                guild: guild.clone(),
                channel,
                role,
                topic,
                thread,
                enabled,
            });
        }
        Ok(schedules)
    }

    fn record_daily_post(&mut self, post: &NewDailyPost, claim: &Lease) -> Result<Recorded> {
        self.write(|tx| {
            let changed = tx.execute(
                "INSERT INTO daily_posts (guild, slot, channel, question_id, state, recorded_ms, claimed_by, claim_until_ms)
                 VALUES (?1, ?2, ?3, ?4, 'recorded', ?5, ?6, ?7)
                 ON CONFLICT (guild, slot) DO NOTHING",
                params![
                    post.guild,
                    post.slot,
                    post.channel,
                    post.question_id,
                    post.at.0,
                    claim.owner,
                    claim.until.map(|t| t.0)
                ],
            )?;
            Ok(recorded(changed))
        })
    }

    fn claim_daily_post(
        &mut self,
        guild: &str,
        slot: &str,
        state: DailyPostState,
        owner: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let state = match state {
            DailyPostState::Recorded => "recorded",
            DailyPostState::Sent => "sent",
        };
        self.write(|tx| {
            let changed = tx.execute(
                "UPDATE daily_posts SET claimed_by = ?4, claim_until_ms = ?6
                 WHERE guild = ?1 AND slot = ?2 AND state = ?3 AND revealed_ms IS NULL
                   AND (claimed_by = ?4 OR claim_until_ms IS NULL OR claim_until_ms <= ?5)",
                params![guild, slot, state, owner, now.0, until.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn mark_daily_sent(&mut self, guild: &str, slot: &str, message_id: &str, at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE daily_posts SET state = 'sent', message_id = ?3, sent_ms = ?4, claimed_by = NULL, claim_until_ms = NULL
                 WHERE guild = ?1 AND slot = ?2",
                params![guild, slot, message_id, at.0],
            )?;
            Ok(())
        })
    }

    fn mark_daily_revealed(&mut self, guild: &str, slot: &str, at: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE daily_posts SET revealed_ms = ?3, claimed_by = NULL, claim_until_ms = NULL
                 WHERE guild = ?1 AND slot = ?2 AND revealed_ms IS NULL",
                params![guild, slot, at.0],
            )?;
            Ok(())
        })
    }

    fn daily_post(&self, guild: &str, slot: &str) -> Result<Option<DailyPost>> {
        Ok(self
            .connection
            .query_row(
                &format!("SELECT {DAILY_POST_COLUMNS} FROM daily_posts WHERE guild = ?1 AND slot = ?2"),
                params![guild, slot],
                daily_post_from_row,
            )
            .optional()?)
    }

    fn daily_posts(&self, guild: &str) -> Result<Vec<DailyPost>> {
        let mut statement = self.connection.prepare(&format!(
            "SELECT {DAILY_POST_COLUMNS} FROM daily_posts WHERE guild = ?1 ORDER BY recorded_ms, slot"
        ))?;
        let rows = statement.query_map(params![guild], daily_post_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn record_daily_answer(&mut self, answer: &DailyAnswer, card: Option<&CardState>) -> Result<Recorded> {
        self.write(|tx| {
            let changed = tx.execute(
                "INSERT OR IGNORE INTO daily_answers (guild, slot, user_id, answer, correct, answered_ms, picked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![answer.guild, answer.slot, answer.user, answer.answer, answer.correct, answer.answered_at.0, picked_column(&answer.picked)],
            )?;
            if changed > 0
                && let Some(card) = card
            {
                save_card(tx, answer.user, card)?;
            }
            Ok(recorded(changed))
        })
    }

    fn daily_answers(&self, guild: &str, slot: &str) -> Result<Vec<DailyAnswer>> {
        let mut statement = self.connection.prepare(
            "SELECT guild, slot, user_id, answer, correct, answered_ms, picked FROM daily_answers WHERE guild = ?1 AND slot = ?2 ORDER BY answered_ms, user_id",
        )?;
        let rows = statement.query_map(params![guild, slot], daily_answer_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn guild_daily_answers(&self, guild: &str) -> Result<Vec<DailyAnswer>> {
        let mut statement = self.connection.prepare(
            "SELECT guild, slot, user_id, answer, correct, answered_ms, picked FROM daily_answers WHERE guild = ?1 ORDER BY answered_ms, user_id",
        )?;
        let rows = statement.query_map(params![guild], daily_answer_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn group_recent(&self, guild: &str, since: Timestamp) -> Result<Vec<(String, u32, u32)>> {
        // Quiz sessions in this guild are on channels `discord:<guild>:<channel>`.
        let mut statement = self.connection.prepare(
            "SELECT question_id, SUM(correct), COUNT(*) FROM (
                 SELECT p.question_id, a.correct FROM daily_answers a
                   JOIN daily_posts p ON p.guild = a.guild AND p.slot = a.slot
                   WHERE a.guild = ?1 AND a.answered_ms >= ?2
                 UNION ALL
                 SELECT t.question_id, t.correct FROM attempts t JOIN sessions s ON s.id = t.session_id
                   WHERE s.channel LIKE 'discord:' || ?1 || ':%' AND t.answered_ms >= ?2
             ) GROUP BY question_id ORDER BY question_id",
        )?;
        let rows = statement.query_map(params![guild, since.0], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn group_due(&self, guild: &str, now: Timestamp) -> Result<Vec<(String, u32)>> {
        let mut statement = self.connection.prepare(
            "SELECT question_id, COUNT(*) FROM cards WHERE due_ms <= ?2 AND user_id IN (
                 SELECT user_id FROM daily_answers WHERE guild = ?1
                 UNION
                 SELECT t.user_id FROM attempts t JOIN sessions s ON s.id = t.session_id
                   WHERE s.channel LIKE 'discord:' || ?1 || ':%'
             ) GROUP BY question_id ORDER BY question_id",
        )?;
        let rows = statement.query_map(params![guild, now.0], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::test_support::*;

    #[test]
    fn a_daily_answer_reviews_the_card_once_and_a_wrong_one_is_a_miss_until_answered_right() {
        let (_dir, mut store) = open_temp();
        let user = store.user("carol", Timestamp(0)).unwrap();
        store
            .record_daily_post(&new_daily_post("q7", 1), &claim("replica:a", 100))
            .unwrap();
        let card = CardState {
            question_id: "q7".into(),
            due: Timestamp(600_000),
            stability: 0.2,
            difficulty: 7.0,
            elapsed_days: 0,
            scheduled_days: 0,
            reps: 1,
            lapses: 0,
            state: 1,
            last_review: Timestamp(4),
        };
        let wrong = DailyAnswer {
            guild: "g".into(),
            slot: "2026-11-26".into(),
            user,
            answer: "A".into(),
            picked: Vec::new(),
            correct: false,
            answered_at: Timestamp(4),
        };
        assert_eq!(store.record_daily_answer(&wrong, Some(&card)).unwrap(), Recorded::New);
        // A second press (another replica, a retried interaction) leaves the card as the first answer set it.
        let pressed_again = CardState {
            reps: 2,
            ..card.clone()
        };
        assert_eq!(
            store.record_daily_answer(&wrong, Some(&pressed_again)).unwrap(),
            Recorded::Duplicate
        );
        assert_eq!(store.card(user, "q7").unwrap(), Some(card));
        assert_eq!(store.due_cards(user, Timestamp(600_000), 10).unwrap().len(), 1);
        assert_eq!(store.recent_misses(user, 10).unwrap(), vec!["q7".to_string()]);

        // Answered right later in a quiz: no longer a miss.
        let session = store
            .start_session(&NewSession {
                channel: "a".into(),
                started_at: Timestamp(0),
                question_count: 8,
                owner: "test".into(),
            })
            .unwrap();
        store.record_attempt(&attempt(session, 7, user, true), None).unwrap();
        assert_eq!(store.recent_misses(user, 10).unwrap(), Vec::<String>::new());
    }

    fn new_daily_post(question_id: &str, at: i64) -> NewDailyPost {
        NewDailyPost {
            guild: "g".into(),
            slot: "2026-11-26".into(),
            channel: "c".into(),
            question_id: question_id.into(),
            at: Timestamp(at),
        }
    }

    fn claim(owner: &str, until: i64) -> Lease {
        Lease {
            owner: owner.into(),
            until: Some(Timestamp(until)),
        }
    }

    #[test]
    fn a_daily_slot_is_recorded_by_one_replica_and_its_send_and_reveal_claimed_by_one_until_the_claim_lapses() {
        let (_dir, mut store) = open_temp();
        let (recorded, sent) = (DailyPostState::Recorded, DailyPostState::Sent);
        let slot = "2026-11-26";
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q1", 10), &claim("replica:a", 100))
                .unwrap(),
            Recorded::New
        );
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q2", 11), &claim("replica:b", 100))
                .unwrap(),
            Recorded::Duplicate
        );
        // A's claim to send: A may renew it, B may not until it lapses, then B holds it.
        assert!(
            store
                .claim_daily_post("g", slot, recorded, "replica:a", Timestamp(50), Timestamp(150))
                .unwrap()
        );
        assert!(
            !store
                .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(149), Timestamp(249))
                .unwrap()
        );
        assert!(
            store
                .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(150), Timestamp(250))
                .unwrap()
        );
        assert!(
            !store
                .claim_daily_post("g", slot, recorded, "replica:a", Timestamp(160), Timestamp(260))
                .unwrap()
        );
        // Sent: the claim is cleared, and a claim on the recorded post fails (nothing left to send).
        store.mark_daily_sent("g", slot, "m1", Timestamp(170)).unwrap();
        assert!(
            !store
                .claim_daily_post("g", slot, recorded, "replica:b", Timestamp(171), Timestamp(271))
                .unwrap()
        );
        // The reveal: claimed by whoever comes first, then by nobody else until it lapses or is done.
        assert!(
            store
                .claim_daily_post("g", slot, sent, "replica:a", Timestamp(300), Timestamp(400))
                .unwrap()
        );
        assert!(
            !store
                .claim_daily_post("g", slot, sent, "replica:b", Timestamp(300), Timestamp(400))
                .unwrap()
        );
        store.mark_daily_revealed("g", slot, Timestamp(310)).unwrap();
        assert!(
            !store
                .claim_daily_post("g", slot, sent, "replica:b", Timestamp(500), Timestamp(600))
                .unwrap()
        );
        let post = store.daily_post("g", slot).unwrap().unwrap();
        assert_eq!(
            (post.question_id.as_str(), post.message_id.as_deref(), post.revealed_at),
            ("q1", Some("m1"), Some(Timestamp(310)))
        );
    }

    #[test]
    fn daily_records_are_idempotent() {
        let (_dir, mut store) = open_temp();
        let schedule = DailySchedule {
            guild: "g".into(),
            channel: "c".into(),
            time: crate::daily::schedule::parse_time("09:00").unwrap(),
            zone: crate::daily::schedule::parse_zone("Asia/Tokyo").unwrap(),
            days: Days::WEEKDAYS,
            role: None,
            reveal: Reveal::AfterHours(12),
            topic: None,
            thread: false,
            enabled: true,
        };
        store.set_daily_schedule(&schedule).unwrap();
        let changed = DailySchedule {
            time: crate::daily::schedule::parse_time("08:30").unwrap(),
            zone: crate::daily::schedule::parse_zone("Europe/Berlin").unwrap(),
            days: Days::parse("mon,fri").unwrap(),
            role: Some("r".into()),
            reveal: Reveal::WithNextPost,
            topic: Some("Kinesis".into()),
            thread: true,
            enabled: false,
            ..schedule
        };
        store.set_daily_schedule(&changed).unwrap();
        assert_eq!(store.daily_schedules().unwrap(), vec![changed]);
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q1", 1), &claim("replica:a", 100))
                .unwrap(),
            Recorded::New
        );
        assert_eq!(
            store
                .record_daily_post(&new_daily_post("q2", 2), &claim("replica:b", 100))
                .unwrap(),
            Recorded::Duplicate
        );
        assert_eq!(
            store.daily_post("g", "2026-11-26").unwrap().unwrap().state,
            DailyPostState::Recorded
        );
        store.mark_daily_sent("g", "2026-11-26", "m1", Timestamp(3)).unwrap();
        let post = store.daily_post("g", "2026-11-26").unwrap().unwrap();
        assert_eq!(
            (post.question_id.as_str(), post.state, post.message_id.as_deref()),
            ("q1", DailyPostState::Sent, Some("m1"))
        );
        let user = store.user("bob", Timestamp(0)).unwrap();
        let answer = DailyAnswer {
            guild: "g".into(),
            slot: "2026-11-26".into(),
            user,
            answer: "A".into(),
            picked: Vec::new(),
            correct: true,
            answered_at: Timestamp(4),
        };
        assert_eq!(store.record_daily_answer(&answer, None).unwrap(), Recorded::New);
        assert_eq!(store.record_daily_answer(&answer, None).unwrap(), Recorded::Duplicate);
        assert_eq!(store.daily_answers("g", "2026-11-26").unwrap().len(), 1);
        store.mark_daily_revealed("g", "2026-11-26", Timestamp(5)).unwrap();
        store.mark_daily_revealed("g", "2026-11-26", Timestamp(6)).unwrap();
        let posts = store.daily_posts("g").unwrap();
        assert_eq!(
            (posts.len(), posts[0].revealed_at, posts[0].channel.as_deref()),
            (1, Some(Timestamp(5)), Some("c"))
        );
        assert_eq!(store.guild_daily_answers("g").unwrap().len(), 1);
        assert_eq!(
            store.group_recent("g", Timestamp(0)).unwrap(),
            vec![("q1".to_string(), 1, 1)]
        );
        assert_eq!(store.group_recent("other", Timestamp(0)).unwrap(), vec![]);
        assert_eq!(store.group_due("g", Timestamp(0)).unwrap(), vec![]);
    }
}
