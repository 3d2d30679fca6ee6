//! The daily question: schedules per guild, posted slots with their claims, members' answers, and the
//! group views over them.
//!
//! A slot is won by `INSERT … ON CONFLICT DO NOTHING` (of two replicas recording it at once, the second
//! waits for the first's commit and inserts nothing); its pending work is claimed by one conditional
//! `UPDATE`, which a concurrent claim re-checks against the winner's row before it can succeed.

use ::postgres::Row;

use super::*;
use crate::clock::Timestamp;
use crate::daily::schedule::{Days, Reveal};
use crate::store::columns::{picked_column, picked_from, recorded};
use crate::store::*;

const DAILY_POST_COLUMNS: &str = "guild, slot, question_id, state, message_id, recorded_ms, sent_ms, channel, revealed_ms, claimed_by, claim_until_ms, saved_by";

fn daily_post_from_row(row: &Row) -> Result<DailyPost, ::postgres::Error> {
    let state: String = row.try_get(3)?;
    Ok(DailyPost {
        guild: row.try_get(0)?,
        slot: row.try_get(1)?,
        question_id: row.try_get(2)?,
        state: if state == "sent" {
            DailyPostState::Sent
        } else {
            DailyPostState::Recorded
        },
        message_id: row.try_get(4)?,
        recorded_at: Timestamp(row.try_get(5)?),
        sent_at: row.try_get::<_, Option<i64>>(6)?.map(Timestamp),
        channel: row.try_get(7)?,
        revealed_at: row.try_get::<_, Option<i64>>(8)?.map(Timestamp),
        claim: Lease {
            owner: row.try_get::<_, Option<String>>(9)?.unwrap_or_default(),
            until: row.try_get::<_, Option<i64>>(10)?.map(Timestamp),
        },
        saved_by: row.try_get(11)?,
    })
}

fn daily_answer_from_row(row: &Row) -> Result<DailyAnswer, ::postgres::Error> {
    Ok(DailyAnswer {
        guild: row.try_get(0)?,
        slot: row.try_get(1)?,
        user: row.try_get(2)?,
        answer: row.try_get(3)?,
        correct: row.try_get(4)?,
        answered_at: Timestamp(row.try_get(5)?),
        picked: picked_from(row.try_get(6)?),
    })
}

fn schedule_from_row(row: &Row) -> Result<DailySchedule> {
    let guild: String = row.try_get(0)?;
    let bad = |what: String| StoreError::BadSchedule(format!("guild {guild}: {what}"));
    let time: String = row.try_get(2)?;
    let zone: String = row.try_get(3)?;
    let days: i32 = row.try_get(5)?;
    let reveal: Option<i64> = row.try_get(6)?;
    let reveal = match reveal {
        None => Reveal::WithNextPost,
        Some(hours) => {
            Reveal::AfterHours(u32::try_from(hours).map_err(|_| bad(format!("reveal after {hours} hours")))?)
        }
    };
    Ok(DailySchedule {
        time: crate::daily::schedule::parse_time(&time).map_err(|e| bad(e.to_string()))?,
        zone: crate::daily::schedule::parse_zone(&zone).map_err(|e| bad(e.to_string()))?,
        days: u8::try_from(days)
            .ok()
            .and_then(Days::from_mask)
            .ok_or_else(|| bad(format!("days mask {days}")))?,
        reveal,
        channel: row.try_get(1)?,
        role: row.try_get(4)?,
        topic: row.try_get(7)?,
        thread: row.try_get(8)?,
        enabled: row.try_get(9)?,
        guild,
    })
}

fn state_name(state: DailyPostState) -> &'static str {
    match state {
        DailyPostState::Recorded => "recorded",
        DailyPostState::Sent => "sent",
    }
}

/// Quiz sessions in a guild run on channels `discord:<guild>:<channel>`.
fn guild_channel_prefix(guild: &str) -> String {
    format!("discord:{guild}:")
}

impl DailyLog for PgStore {
    fn set_daily_schedule(&mut self, schedule: &DailySchedule) -> Result<()> {
        let schedule = schedule.clone();
        let time = schedule.time.format("%H:%M").to_string();
        let zone = schedule.zone.name().to_string();
        let days = i32::from(schedule.days.mask());
        let reveal: Option<i64> = match schedule.reveal {
            Reveal::AfterHours(hours) => Some(i64::from(hours)),
            Reveal::WithNextPost => None,
        };
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO daily_schedules (guild, channel, time_of_day, time_zone, role, days, reveal_hours, topic, thread, enabled)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (guild) DO UPDATE SET channel = excluded.channel, time_of_day = excluded.time_of_day,
                   time_zone = excluded.time_zone, role = excluded.role, days = excluded.days,
                   reveal_hours = excluded.reveal_hours, topic = excluded.topic, thread = excluded.thread,
                   enabled = excluded.enabled",
                &[
                    &schedule.guild,
                    &schedule.channel,
                    &time,
                    &zone,
                    &schedule.role,
                    &days,
                    &reveal,
                    &schedule.topic,
                    &schedule.thread,
                    &schedule.enabled,
                ],
            )?;
            Ok(())
        })
    }

    fn daily_schedules(&self) -> Result<Vec<DailySchedule>> {
        self.read(|tx| {
            let rows = tx.query(
                "SELECT guild, channel, time_of_day, time_zone, role, days, reveal_hours, topic, thread, enabled
                 FROM daily_schedules ORDER BY guild COLLATE \"C\"",
                &[],
            )?;
            rows.iter().map(schedule_from_row).collect()
        })
    }

    fn record_daily_post(&mut self, post: &NewDailyPost, claim: &Lease) -> Result<Recorded> {
        let (post, claim) = (post.clone(), claim.clone());
        self.write(move |tx| {
            let inserted = tx.execute(
                "INSERT INTO daily_posts (guild, slot, channel, question_id, state, recorded_ms, claimed_by, claim_until_ms, saved_by)
                 VALUES ($1, $2, $3, $4, 'recorded', $5, $6, $7, $8)
                 ON CONFLICT (guild, slot) DO NOTHING",
                &[
                    &post.guild,
                    &post.slot,
                    &post.channel,
                    &post.question_id,
                    &post.at.0,
                    &claim.owner,
                    &claim.until.map(|t| t.0),
                    &BUILD_VERSION,
                ],
            )?;
            Ok(recorded(inserted))
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
        let (guild, slot, owner) = (guild.to_string(), slot.to_string(), owner.to_string());
        self.write(move |tx| {
            let changed = tx.execute(
                "UPDATE daily_posts SET claimed_by = $4, claim_until_ms = $6
                 WHERE guild = $1 AND slot = $2 AND state = $3 AND revealed_ms IS NULL
                   AND (claimed_by = $4 OR claim_until_ms IS NULL OR claim_until_ms <= $5)",
                &[&guild, &slot, &state_name(state), &owner, &now.0, &until.0],
            )?;
            Ok(changed > 0)
        })
    }

    fn mark_daily_sent(&mut self, guild: &str, slot: &str, message_id: &str, at: Timestamp) -> Result<()> {
        let (guild, slot, message_id) = (guild.to_string(), slot.to_string(), message_id.to_string());
        self.write(move |tx| {
            tx.execute(
                "UPDATE daily_posts SET state = 'sent', message_id = $3, sent_ms = $4, claimed_by = NULL, claim_until_ms = NULL
                 WHERE guild = $1 AND slot = $2",
                &[&guild, &slot, &message_id, &at.0],
            )?;
            Ok(())
        })
    }

    fn mark_daily_revealed(&mut self, guild: &str, slot: &str, at: Timestamp) -> Result<()> {
        let (guild, slot) = (guild.to_string(), slot.to_string());
        self.write(move |tx| {
            tx.execute(
                "UPDATE daily_posts SET revealed_ms = $3, claimed_by = NULL, claim_until_ms = NULL
                 WHERE guild = $1 AND slot = $2 AND revealed_ms IS NULL",
                &[&guild, &slot, &at.0],
            )?;
            Ok(())
        })
    }

    fn daily_post(&self, guild: &str, slot: &str) -> Result<Option<DailyPost>> {
        let (guild, slot) = (guild.to_string(), slot.to_string());
        self.read(move |tx| {
            let sql = format!("SELECT {DAILY_POST_COLUMNS} FROM daily_posts WHERE guild = $1 AND slot = $2");
            let row = tx.query_opt(&sql, &[&guild, &slot])?;
            Ok(row.as_ref().map(daily_post_from_row).transpose()?)
        })
    }

    fn daily_posts(&self, guild: &str) -> Result<Vec<DailyPost>> {
        let guild = guild.to_string();
        self.read(move |tx| {
            let sql = format!(
                "SELECT {DAILY_POST_COLUMNS} FROM daily_posts WHERE guild = $1 ORDER BY recorded_ms, slot COLLATE \"C\""
            );
            let rows = tx.query(&sql, &[&guild])?;
            Ok(rows.iter().map(daily_post_from_row).collect::<Result<_, _>>()?)
        })
    }

    fn record_daily_answer(&mut self, answer: &DailyAnswer, card: Option<&CardState>) -> Result<Recorded> {
        let (answer, card) = (answer.clone(), card.cloned());
        self.write(move |tx| {
            let inserted = tx.execute(
                "INSERT INTO daily_answers (guild, slot, user_id, answer, correct, answered_ms, picked)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                &[
                    &answer.guild,
                    &answer.slot,
                    &answer.user,
                    &answer.answer,
                    &answer.correct,
                    &answer.answered_at.0,
                    &picked_column(&answer.picked),
                ],
            )?;
            if inserted > 0
                && let Some(card) = &card
            {
                cards::save_card(tx, answer.user, card)?;
            }
            Ok(recorded(inserted))
        })
    }

    fn daily_answers(&self, guild: &str, slot: &str) -> Result<Vec<DailyAnswer>> {
        let (guild, slot) = (guild.to_string(), slot.to_string());
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT guild, slot, user_id, answer, correct, answered_ms, picked FROM daily_answers
                 WHERE guild = $1 AND slot = $2 ORDER BY answered_ms, user_id",
                &[&guild, &slot],
            )?;
            Ok(rows.iter().map(daily_answer_from_row).collect::<Result<_, _>>()?)
        })
    }

    fn guild_daily_answers(&self, guild: &str) -> Result<Vec<DailyAnswer>> {
        let guild = guild.to_string();
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT guild, slot, user_id, answer, correct, answered_ms, picked FROM daily_answers
                 WHERE guild = $1 ORDER BY answered_ms, user_id",
                &[&guild],
            )?;
            Ok(rows.iter().map(daily_answer_from_row).collect::<Result<_, _>>()?)
        })
    }

    fn group_recent(&self, guild: &str, since: Timestamp) -> Result<Vec<(String, u32, u32)>> {
        let (guild, prefix) = (guild.to_string(), guild_channel_prefix(guild));
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT question_id, count(*) FILTER (WHERE correct), count(*) FROM (
                     SELECT p.question_id, a.correct FROM daily_answers a
                       JOIN daily_posts p ON p.guild = a.guild AND p.slot = a.slot
                       WHERE a.guild = $1 AND a.answered_ms >= $2
                     UNION ALL
                     SELECT t.question_id, t.correct FROM attempts t JOIN sessions s ON s.id = t.session_id
                       WHERE starts_with(s.channel, $3) AND t.answered_ms >= $2
                 ) answers GROUP BY question_id ORDER BY question_id COLLATE \"C\"",
                &[&guild, &since.0, &prefix],
            )?;
            let mut lines = Vec::with_capacity(rows.len());
            for row in &rows {
                lines.push((row.try_get(0)?, count_u32(row.try_get(1)?), count_u32(row.try_get(2)?)));
            }
            Ok(lines)
        })
    }

    fn group_due(&self, guild: &str, now: Timestamp) -> Result<Vec<(String, u32)>> {
        let (guild, prefix) = (guild.to_string(), guild_channel_prefix(guild));
        self.read(move |tx| {
            let rows = tx.query(
                "SELECT question_id, count(*) FROM cards WHERE due_ms <= $2 AND user_id IN (
                     SELECT user_id FROM daily_answers WHERE guild = $1
                     UNION
                     SELECT t.user_id FROM attempts t JOIN sessions s ON s.id = t.session_id
                       WHERE starts_with(s.channel, $3)
                 ) GROUP BY question_id ORDER BY question_id COLLATE \"C\"",
                &[&guild, &now.0, &prefix],
            )?;
            let mut lines = Vec::with_capacity(rows.len());
            for row in &rows {
                lines.push((row.try_get(0)?, count_u32(row.try_get(1)?)));
            }
            Ok(lines)
        })
    }
}
