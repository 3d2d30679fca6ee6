//! Rebalancing a question file's answer key: where the right choice sits, spread over the positions, so
//! that "always B" wins nothing even where a question is shown in file order. Pure text in, text out: only
//! choice lines move (two lines of one question swap places), never a stem, an explanation or an id, and
//! a choice marked `<!-- pin -->` never moves.
//!
//! * Single-answer questions: each position `A`–`D` gets a share of the file's keys that differs from
//!   the others' by at most one. A file already so balanced is left exactly as it is; otherwise the
//!   questions nearest the end of the file move first (new questions are appended there, so the ones the
//!   group already knows keep their letters), each by one swap from a position holding too many to one
//!   holding too few. Which positions take the remainder is drawn from the file's path.
//! * Multi-answer questions: the right choices go to positions drawn from the question's id, so the
//!   keys spread over the file instead of all being `A`+`B`.
//!
//! Both rules are deterministic, and a second run changes nothing.

use std::collections::BTreeMap;

use super::{Question, parse_bank};
use crate::notes::parse_note;
use crate::order::{seed_of, shuffle, stable_hash};

/// Positions `A`–`D`: what every single-answer question in the bank offers.
const POSITIONS: usize = 4;

/// The outcome for one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebalanced {
    pub text: String,
    /// Ids of the questions whose choice lines moved.
    pub moved: Vec<String>,
}

/// How many single-answer questions have their right choice at each letter.
pub fn key_positions<'a>(questions: impl IntoIterator<Item = &'a Question>) -> BTreeMap<char, usize> {
    let mut counts = BTreeMap::new();
    for question in questions {
        let right = question.correct_labels();
        if let [label] = right.as_slice() {
            *counts.entry(*label).or_default() += 1;
        }
    }
    counts
}

/// The file `text` (at `path`) with its answer key rebalanced.
pub fn rebalance(path: &str, text: &str) -> Rebalanced {
    let (note, _) = parse_note(path, text);
    let (questions, _) = parse_bank(std::slice::from_ref(&note));
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut moved = Vec::new();
    for (question, swaps) in single_answer_moves(path, &questions)
        .into_iter()
        .chain(questions.iter().filter_map(multi_answer_moves))
    {
        for (a, b) in &swaps {
            lines.swap(question.choices[*a].line - 1, question.choices[*b].line - 1);
        }
        moved.push(question.id.clone());
    }
    moved.sort();
    moved.dedup();
    Rebalanced {
        text: lines.join("\n"),
        moved,
    }
}

/// A swap of two choices of a question, by index.
type Swap = (usize, usize);

/// The swaps that spread the file's single-answer keys over `A`–`D`.
fn single_answer_moves<'q>(path: &str, questions: &'q [Question]) -> Vec<(&'q Question, Vec<Swap>)> {
    // (question, index of its right choice), for questions with one right choice among A–D.
    let mut keyed: Vec<(&Question, usize)> = questions
        .iter()
        .filter(|q| q.correct_labels().len() == 1)
        .filter_map(|q| Some((q, q.choices.iter().position(|c| c.correct)?)))
        .filter(|(_, at)| *at < POSITIONS)
        .collect();
    let mut counts = [0usize; POSITIONS];
    for (_, at) in &keyed {
        counts[*at] += 1;
    }
    let (max, min) = (counts.iter().max(), counts.iter().min());
    if max.zip(min).is_none_or(|(max, min)| max - min <= 1) {
        return Vec::new();
    }
    let targets = targets(path, keyed.len());
    let mut moves = Vec::new();
    // Latest questions first.
    for (question, at) in keyed.iter_mut().rev() {
        if counts[*at] <= targets[*at] {
            continue;
        }
        let movable =
            |to: usize| to < question.choices.len() && !question.choices[to].pinned && !question.choices[*at].pinned;
        // The position furthest below its target takes it (ties: the earlier letter).
        let to = (0..POSITIONS)
            .filter(|&to| counts[to] < targets[to] && movable(to))
            .max_by_key(|&to| (targets[to] - counts[to], std::cmp::Reverse(to)));
        if let Some(to) = to {
            counts[*at] -= 1;
            counts[to] += 1;
            moves.push((*question, vec![(*at, to)]));
            *at = to;
        }
    }
    moves
}

/// How many keys each position should hold: an even share, the remainder to positions drawn from `path`.
fn targets(path: &str, keys: usize) -> [usize; POSITIONS] {
    let mut targets = [keys / POSITIONS; POSITIONS];
    let mut order: Vec<usize> = (0..POSITIONS).collect();
    shuffle(&mut order, stable_hash(0, path));
    for &position in order.iter().take(keys % POSITIONS) {
        targets[position] += 1;
    }
    targets
}

/// The swaps that put a multi-answer question's right choices where its id says, or `None` when they
/// are there already.
fn multi_answer_moves(question: &Question) -> Option<(&Question, Vec<Swap>)> {
    let right: Vec<usize> = (0..question.choices.len())
        .filter(|&i| question.choices[i].correct)
        .collect();
    if right.len() < 2 {
        return None;
    }
    // Pinned right choices stay; the others are drawn among the unpinned places.
    let mut free: Vec<usize> = (0..question.choices.len())
        .filter(|&i| !question.choices[i].pinned)
        .collect();
    shuffle(&mut free, seed_of(0, &question.id));
    let movable = right.iter().filter(|&&i| !question.choices[i].pinned).count();
    let mut wanted: Vec<usize> = free.into_iter().take(movable).collect();
    wanted.sort_unstable();
    let misplaced: Vec<usize> = right
        .iter()
        .copied()
        .filter(|i| !question.choices[*i].pinned && !wanted.contains(i))
        .collect();
    let empty: Vec<usize> = wanted.iter().copied().filter(|i| !right.contains(i)).collect();
    let swaps: Vec<Swap> = misplaced.into_iter().zip(empty).collect();
    (!swaps.is_empty()).then_some((question, swaps))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, key: usize, choices: usize, pin_last: bool) -> String {
        let mut text = format!("## {id}\n\n{id} の問題文。\n\n");
        for i in 0..choices {
            let mark = if i == key { "x" } else { " " };
            let pin = if pin_last && i + 1 == choices {
                " <!-- pin -->"
            } else {
                ""
            };
            text.push_str(&format!("- [{mark}] {id} の選択肢 {i}{pin}\n"));
        }
        text.push_str(&format!("\n解説: {id} の解説。\n\n参照: x.md#y\n\n"));
        text
    }

    fn file(keys: &[usize]) -> String {
        let mut text = "---\nkind: questions\n---\n# 問題\n\n".to_string();
        for (i, key) in keys.iter().enumerate() {
            text.push_str(&question(&format!("q-{i:03}"), *key, 4, i % 3 == 0));
        }
        text
    }

    fn parsed(text: &str) -> Vec<Question> {
        let (note, _) = parse_note("q.md", text);
        parse_bank(&[note]).0
    }

    #[test]
    fn a_skewed_key_is_spread_by_moving_choice_lines_only_and_a_second_run_changes_nothing() {
        let text = file(&[1, 1, 1, 0, 1, 1, 0, 1, 1, 2, 1]);
        let once = rebalance("q.md", &text);
        let counts = key_positions(&parsed(&once.text));
        assert!(counts.values().all(|&n| (2..=3).contains(&n)), "{counts:?}");
        assert_eq!(counts.values().sum::<usize>(), 11);
        // Only choice lines moved: every other line is where it was, and each question keeps its choices.
        for (before, after) in text.lines().zip(once.text.lines()) {
            if !before.starts_with("- [") {
                assert_eq!(before, after);
            }
        }
        let (old, new) = (parsed(&text), parsed(&once.text));
        for (old, new) in old.iter().zip(&new) {
            let texts = |q: &Question| {
                let mut t: Vec<(String, bool)> = q.choices.iter().map(|c| (c.text.clone(), c.correct)).collect();
                t.sort();
                t
            };
            assert_eq!((old.id.as_str(), texts(old)), (new.id.as_str(), texts(new)));
            // Pinned choices (the last of every third question) stayed last.
            assert_eq!(old.choices[3].pinned, new.choices[3].pinned);
            if old.choices[3].pinned {
                assert_eq!(old.choices[3].text, new.choices[3].text);
            }
        }
        assert_eq!(rebalance("q.md", &once.text).text, once.text);
        assert!(rebalance("q.md", &once.text).moved.is_empty());
    }

    #[test]
    fn a_balanced_file_stays_as_it_is_and_appended_questions_move_first() {
        let balanced = file(&[0, 1, 2, 3, 1]);
        assert_eq!(rebalance("q.md", &balanced).text, balanced);
        let grown = file(&[0, 1, 2, 3, 1, 1, 1, 1]);
        let result = rebalance("q.md", &grown);
        assert!(
            result.moved.iter().all(|id| id.as_str() >= "q-005"),
            "{:?}",
            result.moved
        );
    }

    #[test]
    fn multi_answer_keys_move_to_places_drawn_from_the_id() {
        let mut text = "---\nkind: questions\n---\n# 問題\n\n".to_string();
        for i in 0..12 {
            text.push_str(&format!(
                "## m-{i:02}\n\n正しいものを 2 つ選択してください。\n\n- [x] 甲{i}\n- [x] 乙{i}\n- [ ] 丙{i}\n- [ ] 丁{i}\n- [ ] 戊{i}\n\n解説: x\n\n参照: x.md#y\n\n"
            ));
        }
        let once = rebalance("q.md", &text);
        let keys: Vec<Vec<char>> = parsed(&once.text).iter().map(Question::correct_labels).collect();
        assert!(keys.iter().all(|k| k.len() == 2));
        let not_ab = keys.iter().filter(|k| k.as_slice() != ['A', 'B']).count();
        assert!(not_ab >= 8, "{keys:?}");
        assert_eq!(rebalance("q.md", &once.text).text, once.text);
    }
}
