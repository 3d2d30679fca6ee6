//! The group-quiz phase: quizzes in many channels at once, their players pressing answer buttons through
//! two replicas that share one store. Measures each press from sending it to its reply (the ephemeral
//! acknowledgement is the HTTP response), then checks the store against what the players did: each
//! accepted press must end up as its player's attempt for that question, once (the last pick counts), each
//! quiz must end normally, and each channel must hold each question once and one scoreboard, with each
//! question revealed once. Compare-and-swap saves that lost the race and were applied again are counted
//! from the engine's log (see `replica::LogCounts`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use tsumiage::clock::{Clock, SystemClock};
use tsumiage::quiz::session::SessionEnd;
use tsumiage::store::{SessionId, Store, UserId};

use crate::players::{Outcome, Plan, Press, Table, channel_id, ping, run_channel};
use crate::replica::{LogCounts, deliver};
use crate::{Figures, figures};

/// What the store and the channels say against what the players did.
#[derive(Debug, Default)]
pub struct Check {
    /// (session, question, player) with an accepted press: each must be one attempt with the last pick.
    pub expected: usize,
    /// Expected answers missing from the store, or recorded with another pick than the last.
    pub lost: usize,
    /// Attempts beyond one per (session, question, player), and answers recorded that nobody gave.
    pub doubled: usize,
    /// Attempts recorded as a miss (no answer in time) for a player who had made no accepted press.
    pub misses: usize,
    pub sessions: usize,
    /// Sessions not ended by reaching their question count.
    pub not_ended: usize,
    /// Channels whose messages are not each question once and one scoreboard, or whose questions were
    /// not each revealed (edited) once.
    pub posts_wrong: usize,
}

/// The figures of one group-quiz run.
pub struct QuizFigures {
    pub plan: Plan,
    pub latency: Figures,
    pub accepted: usize,
    pub refused: usize,
    pub failed: usize,
    /// Channels whose quiz did not run to its scoreboard, with why.
    pub broken: Vec<String>,
    pub retries: [usize; 2],
    pub errors: usize,
    pub check: Check,
    pub wall: Duration,
    pub load_before: String,
    pub load_after: String,
}

/// The load average of the machine (1, 5 and 15 minutes), as `/proc/loadavg` gives it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Runs `plan` on the replicas of `table` and checks the store `store` afterwards.
pub async fn run(table: &Arc<Table>, plan: Plan, store: &str, counts: &LogCounts) -> Result<QuizFigures> {
    let load_before = load_average();
    let (retries_before, errors_before) = (counts.retries(), counts.errors());
    let started = Instant::now();
    let channels: Vec<_> = (plan.first_channel..plan.first_channel + plan.channels)
        .map(|number| tokio::spawn(run_channel(table.clone(), number, plan)))
        .collect();
    let mut presses = Vec::new();
    let mut broken = Vec::new();
    for channel in channels {
        match channel.await {
            Ok(Ok(made)) => presses.extend(made),
            Ok(Err(error)) => broken.push(format!("{error:#}")),
            Err(error) => broken.push(format!("a channel's task failed: {error}")),
        }
    }
    let wall = started.elapsed();
    let retries_after = counts.retries();
    let latencies = presses
        .iter()
        .filter(|p| p.outcome != Outcome::Failed)
        .map(|p| p.latency)
        .collect();
    let label = format!("{} channel(s) x {} players", plan.channels, plan.players);
    let count = |outcome: &[Outcome]| presses.iter().filter(|p| outcome.contains(&p.outcome)).count();
    let mut check = check_store(&mut *tsumiage::store::open(store)?, &presses)?;
    check.posts_wrong = (plan.first_channel..plan.first_channel + plan.channels)
        .filter(|number| !posted_once(table, &channel_id(*number), plan.questions))
        .count();
    Ok(QuizFigures {
        plan,
        latency: figures(label, presses.len(), latencies, 0),
        accepted: count(&[Outcome::Picked, Outcome::Changed]),
        refused: count(&[Outcome::Refused]),
        failed: count(&[Outcome::Failed]),
        broken,
        retries: [0, 1].map(|i| retries_after[i] - retries_before[i]),
        errors: counts.errors() - errors_before,
        check,
        wall,
        load_before,
        load_after: load_average(),
    })
}

/// Whether the channel holds each of its `questions` once and one scoreboard after them, and each
/// question was revealed (its message edited) once.
fn posted_once(table: &Table, channel: &str, questions: usize) -> bool {
    let messages = table.discord.messages(channel);
    let titles: Vec<String> = messages
        .iter()
        .map(|m| m["embeds"][0]["title"].as_str().unwrap_or_default().to_string())
        .collect();
    let asked = titles.iter().filter(|t| t.starts_with('❓')).count();
    let boards = titles.iter().filter(|t| t.contains('🏁')).count();
    let prefix = format!("/api/v10/channels/{channel}/messages/");
    let mut edited: Vec<String> = table
        .discord
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with(&prefix))
        .map(|r| r.path)
        .collect();
    let edits = edited.len();
    edited.sort();
    edited.dedup();
    messages.len() == questions + 1
        && asked == questions
        && boards == 1
        && titles.last().is_some_and(|t| t.contains('🏁'))
        && edits == questions
        && edited.len() == questions
}

/// Compares the attempts the store recorded with the presses the players made.
fn check_store(store: &mut dyn Store, presses: &[Press]) -> Result<Check> {
    type Key = (SessionId, usize, String);
    let mut expected: HashMap<Key, char> = HashMap::new();
    // In the order made: a player's second press (a change) overrides the first.
    for press in presses
        .iter()
        .filter(|p| matches!(p.outcome, Outcome::Picked | Outcome::Changed))
    {
        expected.insert((press.session, press.index, press.player.clone()), press.label);
    }
    let now = SystemClock.now();
    let players: BTreeSet<&str> = presses.iter().map(|p| p.player.as_str()).collect();
    let mut player_of: HashMap<UserId, String> = HashMap::new();
    for player in players {
        player_of.insert(store.user(&format!("discord:{player}"), now)?, player.to_string());
    }
    let sessions: BTreeSet<SessionId> = presses.iter().map(|p| p.session).collect();
    let mut recorded: HashMap<Key, Vec<String>> = HashMap::new();
    let mut not_ended = 0;
    for &session in &sessions {
        let ended = store.session(session)?.and_then(|s| s.end);
        if ended != Some(SessionEnd::CountReached) {
            not_ended += 1;
        }
        for attempt in store.attempts(session)? {
            let player = player_of
                .get(&attempt.user)
                .cloned()
                .unwrap_or_else(|| format!("store user {}", attempt.user));
            recorded
                .entry((session, attempt.question_index, player))
                .or_default()
                .push(attempt.answer);
        }
    }
    let lost = expected
        .iter()
        .filter(|(key, label)| !recorded.get(*key).is_some_and(|a| a.contains(&label.to_string())))
        .count();
    let extra: usize = recorded.values().map(|a| a.len().saturating_sub(1)).sum();
    let unexpected = |answered: bool| {
        recorded
            .iter()
            .filter(|(key, a)| !expected.contains_key(*key) && a.iter().any(|a| a.is_empty() != answered))
            .count()
    };
    Ok(Check {
        expected: expected.len(),
        lost,
        doubled: extra + unexpected(true),
        misses: unexpected(false),
        sessions: sessions.len(),
        not_ended,
        posts_wrong: 0,
    })
}

/// The floor of a press: Discord's ping, signed, to alternate replicas at `rate`/s (the signature check
/// and the HTTP round trip, nothing of the quiz).
pub async fn ping_floor(table: &Arc<Table>, count: usize, rate: u32) -> Figures {
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(count);
    for n in 0..count {
        ticker.tick().await;
        let table = table.clone();
        tasks.push(tokio::spawn(async move {
            let pinged = ping(&table.discord);
            match deliver(&table.client, &table.urls[n % 2], &pinged).await {
                Ok((200, reply, took)) if reply["type"] == 1 => Some(took),
                _ => None,
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        if let Ok(Some(took)) = task.await {
            latencies.push(took);
        }
    }
    figures(format!("signed ping at {rate}/s"), count, latencies, 0)
}

/// Prints the runs of the group-quiz phase, each against the floor and the first run (the baseline).
pub fn print(backend: &str, floor: &Figures, runs: &[&QuizFigures]) {
    let mut rows = vec![floor.clone()];
    rows.extend(runs.iter().map(|run| run.latency.clone()));
    crate::print_rows(&rows);
    let Some(baseline) = runs.first() else { return };
    for run in runs {
        let plan = &run.plan;
        let check = &run.check;
        println!(
            "{} on {backend} ({} questions of {} s): {} presses, {} accepted, {} refused, {} failed, in {:.1} s; \
             load average {} before, {} after",
            run.latency.label,
            plan.questions,
            plan.seconds,
            run.latency.sent,
            run.accepted,
            run.refused,
            run.failed,
            run.wall.as_secs_f64(),
            run.load_before,
            run.load_after
        );
        println!(
            "  p50 = {:.2}x baseline p50, p99 = {:.2}x baseline p99 = {:.1}x signed-ping p99",
            crate::ratio(run.latency.p50, baseline.latency.p50),
            crate::ratio(run.latency.p99, baseline.latency.p99),
            crate::ratio(run.latency.p99, floor.p99)
        );
        println!(
            "  store: {} answers expected, {} lost, {} doubled, {} misses recorded; {} sessions, {} not ended \
             normally; {} channels with a message missing, repeated or not revealed once",
            check.expected, check.lost, check.doubled, check.misses, check.sessions, check.not_ended, check.posts_wrong
        );
        println!(
            "  compare-and-swap saves retried: {} (replica A {}, B {}); errors logged: {}",
            run.retries[0] + run.retries[1],
            run.retries[0],
            run.retries[1],
            run.errors
        );
        for broken in &run.broken {
            println!("  channel broken: {broken}");
        }
    }
}
