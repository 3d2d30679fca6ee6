//! Which question a server gets today. No question repeats until every eligible question of the server's
//! bank was posted; among the least-posted, the one the group gets wrong most (lowest recent correct rate
//! in this server, smoothed so an unseen question counts as 50%), then the one most members have a due
//! review card for. Ties break by an order drawn from the slot (`order::shuffle`), so a fresh bank is
//! not walked in file order.

use std::collections::HashMap;

use crate::order;
use crate::quiz::QuizQuestion;

/// What the store knows about a server's history, per question id.
#[derive(Debug, Clone, Default)]
pub struct GroupRecord {
    /// How many times each question was the daily question here.
    pub posted: HashMap<String, u32>,
    /// The question of the last post: not repeated back to back when a new round starts.
    pub last: Option<String>,
    /// Recent answers in this server (daily and quiz): (right, total).
    pub recent: HashMap<String, (u32, u32)>,
    /// How many members have this question's review card due.
    pub due: HashMap<String, u32>,
}

/// Whether a question can be the daily question: buttons for its choices, and exactly one right choice
/// (a button press is one pick).
pub fn eligible(question: &QuizQuestion) -> bool {
    (2..=25).contains(&question.choices.len()) && question.correct.len() == 1
}

/// Today's question for a server, or `None` when no question fits (no bank, or nothing on the topic).
pub fn choose<'q>(
    questions: &'q [QuizQuestion],
    topic: Option<&str>,
    record: &GroupRecord,
    seed: &str,
) -> Option<&'q QuizQuestion> {
    let candidates: Vec<&QuizQuestion> = questions
        .iter()
        .filter(|q| eligible(q) && topic.is_none_or(|t| q.matches_topic(t)))
        .collect();
    let times = |q: &QuizQuestion| record.posted.get(&q.id).copied().unwrap_or(0);
    let fewest = candidates.iter().map(|q| times(q)).min()?;
    let mut round: Vec<&QuizQuestion> = candidates.into_iter().filter(|q| times(q) == fewest).collect();
    if round.len() > 1 {
        round.retain(|q| record.last.as_deref() != Some(q.id.as_str()));
    }
    // (right + 1) / (total + 2), compared as fractions so no float rounding decides.
    let rate = |q: &QuizQuestion| {
        let (right, total) = record.recent.get(&q.id).copied().unwrap_or((0, 0));
        (u64::from(right) + 1, u64::from(total) + 2)
    };
    let due = |q: &QuizQuestion| record.due.get(&q.id).copied().unwrap_or(0);
    // Ties go to the first in an order drawn from the slot (`min_by` keeps the first of equals): sorted by
    // id first, so the draw depends on the seed only, not on the order the bank was read in.
    round.sort_by(|a, b| a.id.cmp(&b.id));
    order::shuffle(&mut round, order::seed_of(0, seed));
    round.into_iter().min_by(|a, b| {
        let ((ra, ta), (rb, tb)) = (rate(a), rate(b));
        (ra * tb).cmp(&(rb * ta)).then(due(b).cmp(&due(a)))
    })
}

/// The daily question as a slot shows it: its choices in the order drawn for the guild's slot, the same
/// on every replica and after a restart (the post, a button press and the reveal all read it so).
pub fn shown(question: &QuizQuestion, guild: &str, slot: &str) -> QuizQuestion {
    question.presented(order::seed_of(0, &format!("daily {guild}/{slot}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, tag: &str) -> QuizQuestion {
        QuizQuestion {
            tags: vec![tag.into()],
            ..QuizQuestion::sample(id, 2, 'A')
        }
    }

    fn bank() -> Vec<QuizQuestion> {
        vec![
            question("a", "kinesis"),
            question("b", "kinesis"),
            question("c", "sqs"),
            question("d", "sqs"),
        ]
    }

    /// Posts `n` days in a row, recording each choice, and returns the ids.
    fn run(questions: &[QuizQuestion], topic: Option<&str>, record: &mut GroupRecord, n: usize) -> Vec<String> {
        (0..n)
            .map(|day| {
                let chosen = choose(questions, topic, record, &format!("2026-11-{day:02}"))
                    .unwrap()
                    .id
                    .clone();
                *record.posted.entry(chosen.clone()).or_default() += 1;
                record.last = Some(chosen.clone());
                chosen
            })
            .collect()
    }

    #[test]
    fn no_repeat_until_the_bank_is_exhausted_and_none_back_to_back() {
        let questions = bank();
        let mut record = GroupRecord::default();
        let ids = run(&questions, None, &mut record, 12);
        for round in ids.chunks(4) {
            let mut sorted = round.to_vec();
            sorted.sort();
            assert_eq!(sorted, ["a", "b", "c", "d"], "{ids:?}");
        }
        assert!(ids.windows(2).all(|w| w[0] != w[1]), "{ids:?}");
    }

    #[test]
    fn the_topic_filter_applies_and_an_empty_topic_gives_nothing() {
        let questions = bank();
        let mut record = GroupRecord::default();
        let ids = run(&questions, Some("SQS"), &mut record, 4);
        assert!(ids.iter().all(|id| id == "c" || id == "d"), "{ids:?}");
        assert_ne!(ids[0], ids[1]);
        assert!(choose(&questions, Some("lambda"), &record, "x").is_none());
        assert!(choose(&[], None, &record, "x").is_none());
    }

    #[test]
    fn what_the_group_gets_wrong_most_comes_first_then_most_due() {
        let questions = bank();
        let mut record = GroupRecord::default();
        record.recent.insert("a".into(), (9, 10));
        record.recent.insert("b".into(), (1, 10));
        record.recent.insert("c".into(), (5, 10));
        record.recent.insert("d".into(), (5, 10));
        assert_eq!(choose(&questions, None, &record, "s").unwrap().id, "b");
        // Once b was posted, c and d tie on rate: the one more members are due on wins.
        record.posted.insert("b".into(), 1);
        record.due.insert("d".into(), 3);
        record.due.insert("c".into(), 1);
        assert_eq!(choose(&questions, None, &record, "s").unwrap().id, "d");
        // An unseen question (50%) beats one the group gets mostly right.
        let mut record = GroupRecord::default();
        record.recent.insert("a".into(), (8, 10));
        record.recent.insert("b".into(), (8, 10));
        record.recent.insert("c".into(), (8, 10));
        assert_eq!(choose(&questions, None, &record, "s").unwrap().id, "d");
    }

    #[test]
    fn only_single_answer_multiple_choice_questions_are_eligible() {
        let mut questions = bank();
        questions[0].correct = vec!['A', 'B'];
        questions[1].choices.clear();
        questions[1].answer = Some("x".into());
        let mut record = GroupRecord::default();
        let ids = run(&questions, Some("kinesis"), &mut record, 0);
        assert!(ids.is_empty());
        assert!(choose(&questions, Some("kinesis"), &record, "s").is_none());
    }
}
