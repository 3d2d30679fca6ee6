//! The daily question's background task: one tokio task for every server. It asks the pure schedule for
//! the earliest deadline (a post or a reveal) across guilds, sleeps until then, and `select!`s on that sleep,
//! a schedule-change notification and shutdown.
//!
//! Exactly once per slot: a slot is recorded in the store (state `recorded`, with its question) before
//! anything is sent, and marked `sent` with the message id after. A slot found `recorded` but not `sent`
//! (the process died in between, or the send failed) is resolved by looking for the post in the channel
//! first (every post carries its slot's marker) and sending only if it is not there: never lost, never
//! twice. Posting and looking are behind `DailyHost`, so tests run this loop with a paused tokio clock and
//! a fake host, and the Discord adapter implements the host over REST.
//!
//! Several replicas sharing a store each run this loop. Recording a slot is an insert that one replica
//! wins; the winner holds a claim on the slot for `CLAIM_FOR`, and the others leave the slot alone while
//! the claim is live. A recorded slot whose claim lapsed (its replica died before marking it sent) is
//! claimed and resolved as above by another replica; a post that reached Discord after all is sent again
//! with the same enforced nonce, which returns the first message. A reveal is claimed the same way.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use super::{Message, Outbox, Questions, SharedStore, lock};
use crate::clock::{Clock, Timestamp};
use crate::daily::schedule::{DailySchedule, Slot};
use crate::daily::{self, GroupRecord, Streak};
use crate::quiz::QuizQuestion;
use crate::store::{DailyPost, DailyPostState, Lease, NewDailyPost, Recorded, Store, UserId};
use crate::store::{owner, versions};

/// Never sleep longer than this in one go: a wall clock that jumps (suspend, NTP) is re-read at least
/// this often.
pub const MAX_SLEEP: Duration = Duration::from_secs(300);
/// After a failed send or reveal, or one another replica has claimed, look again this much later.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long a replica's claim on a slot's send or reveal holds: a replica that died holding it is taken
/// over this long after it claimed. (A send slower than this may be repeated by the replica taking over,
/// with the same enforced nonce: Discord returns the first message.)
pub const CLAIM_FOR: Duration = Duration::from_secs(60);

/// How far back "recent" answers go when choosing what the group gets wrong.
const RECENT_DAYS: i64 = 60;

/// The marker every post carries: how a post is found again after a crash.
pub fn marker(guild: &str, slot: &str) -> String {
    format!("tsumiage daily {guild}/{slot}")
}

/// A nonce for the slot's post (Discord: at most 25 characters): with `enforce_nonce`, a send repeated
/// within minutes returns the first message instead of creating a second.
pub fn nonce(guild: &str, slot: &str) -> String {
    format!("{:x}", crate::order::stable_hash(0, &marker(guild, slot)))
}

/// The daily question's engine on one replica: the store's ports, this replica's id (the owner of its
/// claims on slots, unique per run), and `host`, which serves the questions and carries the posts.
pub struct DailyJob<H> {
    pub store: SharedStore,
    pub replica: String,
    pub host: Arc<H>,
}

impl<H> Clone for DailyJob<H> {
    fn clone(&self) -> Self {
        DailyJob {
            store: self.store.clone(),
            replica: self.replica.clone(),
            host: self.host.clone(),
        }
    }
}

/// A slot's answers (user name, right) and the guild's streaks (user name), for its reveal.
struct Tally {
    answers: Vec<(String, bool)>,
    streaks: Vec<(String, Streak)>,
}

impl<H: Outbox + Questions> DailyJob<H> {
    /// What the group has seen and got wrong here: what `daily::choose` weighs.
    fn group_record(&self, guild: &str, now: DateTime<Utc>) -> crate::store::Result<GroupRecord> {
        let store = lock(&self.store);
        let posts = store.daily_posts(guild)?;
        let mut record = GroupRecord {
            last: posts.last().map(|p| p.question_id.clone()),
            ..GroupRecord::default()
        };
        for post in posts {
            *record.posted.entry(post.question_id).or_default() += 1;
        }
        let since = Timestamp::from_utc(now - chrono::Duration::days(RECENT_DAYS));
        for (question, right, total) in store.group_recent(guild, since)? {
            record.recent.insert(question, (right, total));
        }
        record.due = store.group_due(guild, Timestamp::from_utc(now))?.into_iter().collect();
        Ok(record)
    }

    /// The question for a slot, or `None` when the server's bank has nothing that fits.
    fn choose(&self, schedule: &DailySchedule, slot_id: &str, now: DateTime<Utc>) -> Option<String> {
        let record = self.group_record(&schedule.guild, now).unwrap_or_else(|error| {
            tracing::error!("reading the group's record failed: {error}");
            GroupRecord::default()
        });
        let seed = format!("{}/{slot_id}", schedule.guild);
        self.host.with_questions(|questions| {
            daily::choose(questions, schedule.topic.as_deref(), &record, &seed).map(|q| q.id.clone())
        })
    }

    /// The question `question_id` as the slot shows it (its choices in the slot's order).
    fn shown(&self, guild: &str, slot_id: &str, question_id: &str) -> Option<QuizQuestion> {
        self.host.with_questions(|questions| {
            let question = questions.iter().find(|q| q.id == question_id)?;
            Some(daily::shown(question, guild, slot_id))
        })
    }

    /// Sends the post of `slot_id` to the schedule's channel; returns the message id.
    async fn send(&self, schedule: &DailySchedule, slot_id: &str, question_id: &str) -> anyhow::Result<String> {
        let question = self
            .shown(&schedule.guild, slot_id, question_id)
            .ok_or_else(|| anyhow::anyhow!("question {question_id} is no longer in the notes"))?;
        let post = Message::DailyPost {
            schedule,
            slot: slot_id,
            question: &question,
        };
        let nonce = nonce(&schedule.guild, slot_id);
        self.host.post(&schedule.channel, post, &nonce).await
    }

    /// Who answered a slot and the guild's streaks.
    fn tally(&self, guild: &str, slot: &str) -> crate::store::Result<Tally> {
        let store = lock(&self.store);
        let mut answers = Vec::new();
        for answer in store.daily_answers(guild, slot)? {
            answers.push((store.user_name(answer.user)?.unwrap_or_default(), answer.correct));
        }
        let streaks = guild_streaks(&**store, guild, None)?;
        Ok(Tally { answers, streaks })
    }

    /// Edits the post to show the answer, the share right and streaks.
    async fn reveal(&self, schedule: &DailySchedule, post: &DailyPost) -> anyhow::Result<()> {
        let Some(message) = &post.message_id else { return Ok(()) };
        let Some(question) = self.shown(&schedule.guild, &post.slot, &post.question_id) else {
            tracing::warn!(question = %post.question_id, "revealing a question no longer in the notes: skipped");
            return Ok(());
        };
        let tally = self.tally(&schedule.guild, &post.slot)?;
        let reveal = Message::DailyReveal {
            guild: &schedule.guild,
            slot: &post.slot,
            question: &question,
            answers: &tally.answers,
            streaks: &tally.streaks,
        };
        let channel = post.channel.as_deref().unwrap_or(&schedule.channel);
        self.host.edit(channel, message, reveal).await
    }
}

/// The streaks of everyone who ever answered in this guild, by user name, most correct first.
pub fn guild_streaks(
    store: &dyn Store,
    guild: &str,
    open: Option<&str>,
) -> crate::store::Result<Vec<(String, Streak)>> {
    let posted: Vec<String> = store
        .daily_posts(guild)?
        .into_iter()
        // Trial posts (`/daily now`) are not scheduled slots: they neither count nor break a streak.
        .filter(|p| p.message_id.is_some() && !p.slot.starts_with("try-"))
        .map(|p| p.slot)
        .collect();
    let answers: Vec<(String, UserId, bool)> = store
        .guild_daily_answers(guild)?
        .into_iter()
        .map(|a| (a.slot, a.user, a.correct))
        .collect();
    let mut out = Vec::new();
    for (user, streak) in daily::streaks(&posted, &answers, open) {
        out.push((store.user_name(user)?.unwrap_or_default(), streak));
    }
    out.sort_by(|a, b| b.1.correct.cmp(&a.1.correct).then(b.1.answered.cmp(&a.1.answered)));
    Ok(out)
}

/// What `post_slot` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// The slot's post is in the channel (sent now, found there, or sent before): its message id.
    Sent(String),
    /// Nothing fits the schedule: nothing recorded, nothing sent.
    NothingFits,
    /// Another replica recorded the slot or holds its claim: it sends the post; look again later.
    ClaimedElsewhere,
}

fn claim_until(now: DateTime<Utc>) -> Timestamp {
    Timestamp::from_utc(now + chrono::Duration::from_std(CLAIM_FOR).unwrap_or_default())
}

/// Posts a slot exactly once, whichever replica gets to it first.
pub async fn post_slot<H: Outbox + Questions>(
    job: &DailyJob<H>,
    schedule: &DailySchedule,
    slot_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Posted> {
    let existing = lock(&job.store).daily_post(&schedule.guild, slot_id)?;
    // A slot recorded before a `/daily set` moved the channel is finished where it was started.
    let mut target = schedule.clone();
    let question = match existing {
        Some(post) if post.state == DailyPostState::Sent => {
            return Ok(Posted::Sent(post.message_id.unwrap_or_default()));
        }
        // Recorded by a newer build: left to a replica of that version.
        Some(post)
            if !versions::allowed(
                &format!("daily slot {} {slot_id}", schedule.guild),
                post.saved_by.as_deref(),
            ) =>
        {
            return Ok(Posted::ClaimedElsewhere);
        }
        Some(post) => {
            // Recorded, not marked sent: its replica is sending it, or died (or failed) before marking it.
            // A claim of a dead replica of this host (this process before a crash) lapsed already.
            let lapsed_at = owner::lapse_time(&post.claim, &job.replica, Timestamp::from_utc(now));
            let claimed = lock(&job.store).claim_daily_post(
                &schedule.guild,
                slot_id,
                DailyPostState::Recorded,
                &job.replica,
                lapsed_at,
                claim_until(now),
            )?;
            if !claimed {
                return Ok(Posted::ClaimedElsewhere);
            }
            // The send may have reached Discord before its replica died.
            if let Some(channel) = &post.channel {
                target.channel = channel.clone();
            }
            let wanted = marker(&schedule.guild, slot_id);
            if let Some(message) = job.host.find(&target.channel, &wanted).await? {
                tracing::info!(guild = %schedule.guild, slot = slot_id, "daily post found in the channel: marking it sent");
                lock(&job.store).mark_daily_sent(&schedule.guild, slot_id, &message, Timestamp::from_utc(now))?;
                return Ok(Posted::Sent(message));
            }
            post.question_id
        }
        None => {
            let Some(question) = job.choose(schedule, slot_id, now) else {
                tracing::warn!(guild = %schedule.guild, slot = slot_id, "no question fits the daily schedule");
                return Ok(Posted::NothingFits);
            };
            // Recorded first: from here on a restart resolves this slot instead of choosing again. Of
            // replicas recording it at once, one wins and sends; the others leave it to the winner.
            let new = NewDailyPost {
                guild: schedule.guild.clone(),
                slot: slot_id.to_string(),
                channel: schedule.channel.clone(),
                question_id: question.clone(),
                at: Timestamp::from_utc(now),
            };
            let claim = Lease {
                owner: job.replica.clone(),
                until: Some(claim_until(now)),
            };
            if lock(&job.store).record_daily_post(&new, &claim)? == Recorded::Duplicate {
                return Ok(Posted::ClaimedElsewhere);
            }
            question
        }
    };
    let message = job.send(&target, slot_id, &question).await?;
    lock(&job.store).mark_daily_sent(&schedule.guild, slot_id, &message, Timestamp::from_utc(now))?;
    tracing::info!(guild = %schedule.guild, slot = slot_id, question, "daily question posted");
    Ok(Posted::Sent(message))
}

/// The slot a stored post belongs to, for its reveal time (`None` for `/daily now` trials, named `try-…`).
fn slot_of(schedule: &DailySchedule, post: &DailyPost) -> Option<Slot> {
    let date = chrono::NaiveDate::parse_from_str(&post.slot, "%Y-%m-%d").ok()?;
    Some(Slot {
        date,
        at: crate::daily::schedule::resolve_local(schedule.zone, date.and_time(schedule.time)),
    })
}

/// When a sent post is revealed.
pub fn reveal_time(schedule: &DailySchedule, post: &DailyPost) -> DateTime<Utc> {
    match slot_of(schedule, post) {
        Some(slot) => schedule.reveal_at(&slot),
        // A trial post: revealed after the schedule's reveal hours, counted from when it was sent.
        None => {
            let sent = post.sent_at.unwrap_or(post.recorded_at).0;
            let sent = DateTime::from_timestamp_millis(sent).unwrap_or_default();
            match schedule.reveal {
                crate::daily::schedule::Reveal::AfterHours(hours) => sent + chrono::Duration::hours(i64::from(hours)),
                crate::daily::schedule::Reveal::WithNextPost => schedule.next_post_after(sent),
            }
        }
    }
}

/// Does everything due at `now` and returns the next deadline.
pub async fn tick<H: Outbox + Questions>(job: &DailyJob<H>, now: DateTime<Utc>) -> DateTime<Utc> {
    let mut next = now + chrono::Duration::from_std(MAX_SLEEP).unwrap_or_default();
    let retry = now + chrono::Duration::from_std(RETRY_AFTER).unwrap_or_default();
    let schedules = match lock(&job.store).daily_schedules() {
        Ok(schedules) => schedules,
        Err(error) => {
            tracing::error!("reading daily schedules failed: {error:#}");
            return retry;
        }
    };
    for schedule in &schedules {
        // `/daily off` stops new posts; a post already out is still revealed.
        if schedule.enabled {
            if let Some(slot) = schedule.slot_for(now) {
                match post_slot(job, schedule, &slot.id(), now).await {
                    Ok(Posted::Sent(_) | Posted::NothingFits) => {}
                    // Another replica is on it: look again in case it dies before marking it sent.
                    Ok(Posted::ClaimedElsewhere) => next = next.min(retry),
                    Err(error) => {
                        tracing::error!(guild = %schedule.guild, slot = %slot.id(), "daily post failed: {error:#}");
                        next = next.min(retry);
                    }
                }
            }
            next = next.min(schedule.next_post_after(now));
        }
        let posts = lock(&job.store).daily_posts(&schedule.guild).unwrap_or_default();
        for post in posts
            .iter()
            .filter(|p| p.state == DailyPostState::Sent && p.revealed_at.is_none())
        {
            let at = reveal_time(schedule, post);
            if at > now {
                next = next.min(at);
                continue;
            }
            if !versions::allowed(
                &format!("daily slot {} {}", post.guild, post.slot),
                post.saved_by.as_deref(),
            ) {
                continue;
            }
            // One replica reveals: the one that claims it. Another looks again later, in case it dies.
            let claimed = lock(&job.store).claim_daily_post(
                &schedule.guild,
                &post.slot,
                DailyPostState::Sent,
                &job.replica,
                owner::lapse_time(&post.claim, &job.replica, Timestamp::from_utc(now)),
                claim_until(now),
            );
            match claimed {
                Ok(true) => {}
                Ok(false) => {
                    next = next.min(retry);
                    continue;
                }
                Err(error) => {
                    tracing::error!(guild = %schedule.guild, slot = %post.slot, "claiming a daily reveal failed: {error:#}");
                    next = next.min(retry);
                    continue;
                }
            }
            match job.reveal(schedule, post).await {
                Ok(()) => {
                    let marked =
                        lock(&job.store).mark_daily_revealed(&schedule.guild, &post.slot, Timestamp::from_utc(now));
                    if let Err(error) = marked {
                        tracing::error!("recording a reveal failed: {error:#}");
                    }
                }
                Err(error) => {
                    tracing::error!(guild = %schedule.guild, slot = %post.slot, "daily reveal failed: {error:#}");
                    next = next.min(retry);
                }
            }
        }
    }
    next
}

/// The scheduler: runs until `shutdown` turns true (or its sender is gone). `changed` wakes it when a
/// schedule is set, so a new time takes effect at once.
pub async fn run<H: Outbox + Questions>(
    job: DailyJob<H>,
    clock: Arc<dyn Clock>,
    changed: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        let next = tick(&job, clock.utc()).await;
        let wait = clock.sleep_for((next - clock.utc()).to_std().unwrap_or_default().min(MAX_SLEEP));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = changed.notified() => {}
            result = shutdown.changed() => if result.is_err() || *shutdown.borrow() { return },
        }
    }
}

#[cfg(test)]
mod tests;
