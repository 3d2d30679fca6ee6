//! Spaced repetition per user and question with FSRS (the `rs-fsrs` crate, desired retention 0.9). A
//! verdict and the answer's speed become a rating; the rating moves the user's card. `review_order` puts
//! due cards first, then recent misses. `card_after` is how every answer (a quiz's, the daily question's)
//! reviews the player's card: the caller writes the card in the same transaction as the answer, so a
//! replayed answer reviews nothing twice. Time is passed in; nothing here reads the clock.
//!
//! Core: imports the quiz's verdicts and the store's records and ports, never a backend or an adapter.

mod record;

pub use record::{AnswerRecord, record_answer};

use chrono::{DateTime, Utc};
use rs_fsrs::{Card, FSRS, Parameters, Rating, State};

use crate::clock::Timestamp;
use crate::quiz::checker::Verdict;
use crate::store::{CardState, Cards, UserId};

/// The share of reviews FSRS schedules to be remembered.
pub const DESIRED_RETENTION: f64 = 0.9;

/// The rating an answer earns: wrong is Again, a close (slipped) answer Hard, a right one Good, and a right
/// one in under a quarter of the time limit Easy.
pub fn rating(verdict: Verdict, elapsed_ms: i64, time_limit_ms: i64) -> Rating {
    match verdict {
        Verdict::Wrong => Rating::Again,
        Verdict::Close => Rating::Hard,
        Verdict::Correct if elapsed_ms * 4 < time_limit_ms => Rating::Easy,
        Verdict::Correct => Rating::Good,
    }
}

/// The rating of an answer given without a time limit (the daily question, open for hours): as `rating`,
/// but a right answer is Good, never Easy, since how fast it came says nothing.
pub fn untimed_rating(verdict: Verdict) -> Rating {
    match verdict {
        Verdict::Wrong => Rating::Again,
        Verdict::Close => Rating::Hard,
        Verdict::Correct => Rating::Good,
    }
}

/// The scheduler, with fuzz off so schedules are reproducible.
pub struct Scheduler {
    fsrs: FSRS,
}

impl Default for Scheduler {
    fn default() -> Self {
        let parameters = Parameters {
            request_retention: DESIRED_RETENTION,
            enable_fuzz: false,
            ..Parameters::default()
        };
        Scheduler {
            fsrs: FSRS::new(parameters),
        }
    }
}

impl Scheduler {
    /// The card after a review at `now` (a new card when the user never saw the question).
    pub fn review(&self, question_id: &str, card: Option<&CardState>, rating: Rating, now: Timestamp) -> CardState {
        let at = to_datetime(now);
        let current = card.map(to_fsrs).unwrap_or_else(|| Card {
            due: at,
            last_review: at,
            ..Card::default()
        });
        let next = self.fsrs.next(current, at, rating).card;
        from_fsrs(question_id, &next)
    }
}

/// How long an answer could take: a quiz question's time limit, or none (the daily question).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Limited { elapsed_ms: i64, limit_ms: i64 },
    Untimed,
}

/// One answer to one question, as it reviews the player's card.
#[derive(Debug, Clone, Copy)]
pub struct Answered<'a> {
    pub user: UserId,
    pub question_id: &'a str,
    pub verdict: Verdict,
    pub timing: Timing,
    pub at: Timestamp,
}

/// The player's card for the question after this answer: their stored card (a new one the first time),
/// moved by the answer's rating. Nothing is written: the caller stores it with the answer.
pub fn card_after(
    cards: &(impl Cards + ?Sized),
    scheduler: &Scheduler,
    answered: &Answered,
) -> crate::store::Result<CardState> {
    let previous = cards.card(answered.user, answered.question_id)?;
    let rating = match answered.timing {
        Timing::Limited { elapsed_ms, limit_ms } => rating(answered.verdict, elapsed_ms, limit_ms),
        Timing::Untimed => untimed_rating(answered.verdict),
    };
    Ok(scheduler.review(answered.question_id, previous.as_ref(), rating, answered.at))
}

/// Question ids to review: due cards (most overdue first), then recent misses not already listed.
pub fn review_order(due: &[CardState], misses: &[String], limit: usize) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    for id in due.iter().map(|c| &c.question_id).chain(misses) {
        if order.len() == limit {
            break;
        }
        if !order.contains(id) {
            order.push(id.clone());
        }
    }
    order
}

fn to_datetime(at: Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.millis()).unwrap_or_default()
}

fn to_fsrs(card: &CardState) -> Card {
    Card {
        due: to_datetime(card.due),
        stability: card.stability,
        difficulty: card.difficulty,
        elapsed_days: card.elapsed_days,
        scheduled_days: card.scheduled_days,
        reps: card.reps,
        lapses: card.lapses,
        state: match card.state {
            1 => State::Learning,
            2 => State::Review,
            3 => State::Relearning,
            _ => State::New,
        },
        last_review: to_datetime(card.last_review),
    }
}

fn from_fsrs(question_id: &str, card: &Card) -> CardState {
    CardState {
        question_id: question_id.to_string(),
        due: Timestamp(card.due.timestamp_millis()),
        stability: card.stability,
        difficulty: card.difficulty,
        elapsed_days: card.elapsed_days,
        scheduled_days: card.scheduled_days,
        reps: card.reps,
        lapses: card.lapses,
        state: card.state as i32,
        last_review: Timestamp(card.last_review.timestamp_millis()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn ratings_follow_the_verdict_and_speed() {
        assert_eq!(rating(Verdict::Wrong, 1_000, 20_000), Rating::Again);
        assert_eq!(rating(Verdict::Close, 1_000, 20_000), Rating::Hard);
        assert_eq!(rating(Verdict::Correct, 3_000, 20_000), Rating::Easy);
        assert_eq!(rating(Verdict::Correct, 12_000, 20_000), Rating::Good);
    }

    #[test]
    fn a_right_answer_pushes_the_card_out_and_a_miss_brings_it_back() {
        let scheduler = Scheduler::default();
        let now = Timestamp(1_700_000_000_000);
        let good = scheduler.review("q", None, Rating::Good, now);
        assert_eq!(good.reps, 1);
        let later = Timestamp(good.due.millis().max(now.millis() + DAY));
        let easy = scheduler.review("q", Some(&good), Rating::Easy, later);
        assert!(easy.due.millis() - later.millis() >= DAY, "{easy:?}");
        let again = scheduler.review("q", Some(&easy), Rating::Again, easy.due);
        assert!(again.due.millis() - easy.due.millis() < DAY, "{again:?}");
        assert_eq!(again.lapses, 1);
    }

    /// The `Cards` port over one stored card.
    struct OneCard(Option<CardState>);

    impl Cards for OneCard {
        fn card(&self, _user: UserId, _question_id: &str) -> crate::store::Result<Option<CardState>> {
            Ok(self.0.clone())
        }
        fn due_cards(&self, _: UserId, _: Timestamp, _: usize) -> crate::store::Result<Vec<CardState>> {
            Ok(self.0.clone().into_iter().collect())
        }
        fn recent_misses(&self, _: UserId, _: usize) -> crate::store::Result<Vec<String>> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn an_answer_moves_the_stored_card_and_only_a_timed_fast_one_counts_as_easy() {
        let scheduler = Scheduler::default();
        let now = Timestamp(1_700_000_000_000);
        let answered = |timing| Answered {
            user: 1,
            question_id: "q",
            verdict: Verdict::Correct,
            timing,
            at: now,
        };
        let fast = Timing::Limited {
            elapsed_ms: 1_000,
            limit_ms: 20_000,
        };
        let first = card_after(&OneCard(None), &scheduler, &answered(fast)).unwrap();
        assert_eq!(first.reps, 1);
        assert_eq!(first, scheduler.review("q", None, Rating::Easy, now));
        let untimed = card_after(&OneCard(None), &scheduler, &answered(Timing::Untimed)).unwrap();
        assert_eq!(untimed, scheduler.review("q", None, Rating::Good, now));
        let second = card_after(&OneCard(Some(first.clone())), &scheduler, &answered(fast)).unwrap();
        assert_eq!(second.reps, 2, "the stored card was read and moved on");
    }

    #[test]
    fn due_cards_come_first_then_misses_without_repeats() {
        let scheduler = Scheduler::default();
        let now = Timestamp(1_700_000_000_000);
        let due = vec![
            scheduler.review("a", None, Rating::Again, now),
            scheduler.review("b", None, Rating::Again, now),
        ];
        let misses = vec!["c".to_string(), "a".to_string(), "d".to_string()];
        assert_eq!(review_order(&due, &misses, 10), ["a", "b", "c", "d"]);
        assert_eq!(review_order(&due, &misses, 3), ["a", "b", "c"]);
    }
}
