//! `DailyLog` on SQLite: schedules per guild, posted slots (an insert one replica wins, then claims that
//! lapse), answers keyed by (guild, slot, user), and the group history the daily choice reads.

use rusqlite::{OptionalExtension, params};

use super::cards::save_card;
use super::*;
use crate::clock::Timestamp;
use crate::daily::schedule::{Days, Reveal};
use crate::store::columns::{picked_column, picked_from, recorded};
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
        claim: Lease {
            owner: row.get::<_, Option<String>>(9)?.unwrap_or_default(),
            until: row.get::<_, Option<i64>>(10)?.map(Timestamp),
        },
        saved_by: row.get(11)?,
    })
}

const DAILY_POST_COLUMNS: &str = "guild, slot, question_id, state, message_id, recorded_ms, sent_ms, channel, revealed_ms, claimed_by, claim_until_ms, saved_by";

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
                "INSERT INTO daily_posts (guild, slot, channel, question_id, state, recorded_ms, claimed_by, claim_until_ms, saved_by)
                 VALUES (?1, ?2, ?3, ?4, 'recorded', ?5, ?6, ?7, ?8)
                 ON CONFLICT (guild, slot) DO NOTHING",
                params![
                    post.guild,
                    post.slot,
                    post.channel,
                    post.question_id,
                    post.at.0,
                    claim.owner,
                    claim.until.map(|t| t.0),
                    BUILD_VERSION
                ],
            )?;
            Ok(recorded(changed as u64))
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
            Ok(recorded(changed as u64))
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
