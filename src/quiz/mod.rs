//! Quizzes: one question type (`QuizQuestion`) that authored bank questions and questions generated from
//! the notes both become, answer checking (`checker`), the session state machine that runs one quiz in one
//! channel with the clock passed in (`session`), question generation (`generate`), which questions a quiz
//! asks (`select`: one topic rule, one pick rule), and the notes loaded as a `library` for every front end.
//! Pure apart from `library` reading the notes folder: the terminal and Discord adapters feed inputs and
//! render the events that come back.
//!
//! Core: imports `notes`, `questions`, `check`, `search`, `answer` (which generated facts are marked wrong)
//! and `order`; never `review`, `daily` or the store, which import it.

pub mod checker;
pub mod generate;
pub mod library;
pub mod select;
pub mod session;

use serde::{Deserialize, Serialize};

use crate::order;

use crate::notes::NoteSet;
use crate::questions::Question;
use checker::{Checked, Verdict, check};

/// A place in the notes: `file:line`, and the section id when it is a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub section_id: Option<String>,
    pub path: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizChoice {
    /// The letter it is shown with: `A`, `B`, … in the order presented.
    pub label: char,
    pub text: String,
    /// Kept at its place when the choices are shuffled (`上記のすべて`, a range among ranges in order).
    #[serde(default)]
    pub pinned: bool,
}

impl QuizChoice {
    /// The choice's identity, whatever letter it is shown with: a stable hash of its text, normalised
    /// (width, case, spacing) as `check` compares choices, so no two choices of a question share one.
    pub fn key(&self) -> String {
        choice_key(&self.text)
    }
}

/// The identity of a choice with this text (see `QuizChoice::key`).
pub fn choice_key(text: &str) -> String {
    let normalised: String = crate::search::analysis::normalize(text)
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    format!("{:016x}", order::stable_hash(0, &normalised))
}

/// An answer with a number of picks the question does not ask for (`2 つ選択` answered with one letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrongPickCount {
    pub wanted: usize,
    pub given: usize,
}

/// A question as a quiz asks it: multiple choice (`choices` and `correct`) or cloze (`answer`, typed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuizQuestion {
    /// Stable: `kinesis-001` for bank questions, `gen:…` for generated ones (derived from the section id).
    pub id: String,
    pub stem: String,
    pub choices: Vec<QuizChoice>,
    pub correct: Vec<char>,
    /// The canonical answer of a cloze question.
    pub answer: Option<String>,
    /// Other spellings a cloze answer may take.
    pub accepted: Vec<String>,
    pub explanation: String,
    /// Where the question is defined, so a flag points where the fix goes: the question file for bank
    /// questions, the note section for generated ones.
    pub origin: SourceRef,
    /// The section that answers the question, cited on every reveal.
    pub source: SourceRef,
    pub generated: bool,
    pub service: Option<String>,
    pub tags: Vec<String>,
}

/// What a player gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// Choice labels, sorted and without repeats.
    Picks(Vec<char>),
    Text(String),
}

impl Answer {
    /// `B`, `A,C`, or the text as typed.
    pub fn display(&self) -> String {
        match self {
            Answer::Picks(labels) => labels.iter().map(char::to_string).collect::<Vec<_>>().join(","),
            Answer::Text(text) => text.clone(),
        }
    }
}

impl QuizQuestion {
    /// A plain question for tests: `id?` with choices `A`… (`choice A`…), one of them right, from `q.md:1`.
    #[cfg(test)]
    pub(crate) fn sample(id: &str, choices: usize, correct: char) -> QuizQuestion {
        let source = SourceRef {
            section_id: None,
            path: "q.md".into(),
            line: 1,
        };
        QuizQuestion {
            id: id.into(),
            stem: format!("{id}?"),
            choices: (b'A'..)
                .take(choices)
                .map(|label| QuizChoice {
                    label: label as char,
                    text: format!("choice {}", label as char),
                    pinned: false,
                })
                .collect(),
            correct: vec![correct],
            answer: None,
            accepted: Vec::new(),
            explanation: String::new(),
            origin: source.clone(),
            source,
            generated: false,
            service: None,
            tags: Vec::new(),
        }
    }

    /// A bank question, its source resolved to the section its `参照:` names (or its own file when the
    /// reference is missing or broken).
    pub fn from_bank(question: &Question, set: &NoteSet) -> QuizQuestion {
        let origin = SourceRef {
            section_id: None,
            path: question.path.clone(),
            line: question.line,
        };
        let source = question
            .reference_id()
            .and_then(|id| set.notes.iter().flat_map(|n| &n.sections).find(|s| s.id == id))
            .map(|s| SourceRef {
                section_id: Some(s.id.clone()),
                path: s.path.clone(),
                line: s.line,
            })
            .unwrap_or_else(|| origin.clone());
        QuizQuestion {
            id: question.id.clone(),
            stem: question.stem.clone(),
            choices: question
                .choices
                .iter()
                .map(|c| QuizChoice {
                    label: c.label,
                    text: c.text.clone(),
                    pinned: c.pinned,
                })
                .collect(),
            correct: question.correct_labels(),
            answer: None,
            accepted: Vec::new(),
            explanation: question.explanation.clone(),
            origin,
            source,
            generated: false,
            service: question.service.clone(),
            tags: question.domains.iter().chain(&question.tags).cloned().collect(),
        }
    }

    pub fn is_cloze(&self) -> bool {
        self.choices.is_empty()
    }

    /// The question as shown under `seed`: its choices in an order drawn from the seed and the question's
    /// id (pinned choices keep their place), relabelled `A`, `B`, … in that order, with the key following
    /// its choices. The same seed always gives the same order, so a replica or a restart shows it again.
    pub fn presented(&self, seed: u64) -> QuizQuestion {
        let mut shown = self.clone();
        let free: Vec<usize> = (0..self.choices.len()).filter(|&i| !self.choices[i].pinned).collect();
        let mut drawn = free.clone();
        order::shuffle(&mut drawn, order::seed_of(seed, &self.id));
        for (place, from) in free.iter().zip(drawn) {
            shown.choices[*place] = self.choices[from].clone();
        }
        let right: Vec<String> = self.correct_choices().map(QuizChoice::key).collect();
        for (i, choice) in shown.choices.iter_mut().enumerate() {
            choice.label = (b'A' + i.min(25) as u8) as char;
        }
        shown.correct = shown
            .choices
            .iter()
            .filter(|c| right.contains(&c.key()))
            .map(|c| c.label)
            .collect();
        shown
    }

    fn correct_choices(&self) -> impl Iterator<Item = &QuizChoice> {
        self.choices.iter().filter(|c| self.correct.contains(&c.label))
    }

    /// The identities of the choices an answer picks (empty for a typed answer).
    pub fn picked_keys(&self, answer: &Answer) -> Vec<String> {
        let Answer::Picks(labels) = answer else {
            return Vec::new();
        };
        self.choices
            .iter()
            .filter(|c| labels.contains(&c.label))
            .map(QuizChoice::key)
            .collect()
    }

    /// The choices with these identities, as this question shows them (a stored attempt read back after
    /// the file's choices moved). A choice since edited or deleted is left out.
    pub fn choices_by_key(&self, keys: &[String]) -> Vec<&QuizChoice> {
        self.choices.iter().filter(|c| keys.contains(&c.key())).collect()
    }

    /// A stored answer as this question shows it: the letters its picked choices have here, found by
    /// identity; `letters` (as stored) for an answer from before identities were kept.
    pub fn shown_picks(&self, letters: &str, keys: &[String]) -> String {
        if keys.is_empty() {
            return letters.to_string();
        }
        let labels: Vec<String> = self.choices_by_key(keys).iter().map(|c| c.label.to_string()).collect();
        labels.join(",")
    }

    /// Whether these choice identities are exactly the right ones.
    pub fn keys_are_correct(&self, keys: &[String]) -> bool {
        let mut right: Vec<String> = self.correct_choices().map(QuizChoice::key).collect();
        let mut given = keys.to_vec();
        right.sort_unstable();
        given.sort_unstable();
        given.dedup();
        !right.is_empty() && right == given
    }

    /// How many choices a multiple-choice question asks for.
    pub fn picks_wanted(&self) -> usize {
        self.correct.len()
    }

    /// The one rule on the number of picks, for the terminal and Discord alike: a multiple-choice answer
    /// picks as many choices as the question asks for, else it is asked again rather than graded.
    pub fn check_pick_count(&self, answer: &Answer) -> Result<(), WrongPickCount> {
        match answer {
            Answer::Picks(labels) if !self.is_cloze() && labels.len() != self.picks_wanted() => Err(WrongPickCount {
                wanted: self.picks_wanted(),
                given: labels.len(),
            }),
            _ => Ok(()),
        }
    }

    /// Reads what a player typed: choice letters (`b`, `A,C`, `a c`) for multiple choice, any text for a
    /// cloze. `None` when the letters are not this question's.
    pub fn parse_answer(&self, input: &str) -> Option<Answer> {
        let input = input.trim();
        if self.is_cloze() {
            return (!input.is_empty()).then(|| Answer::Text(input.to_string()));
        }
        let mut labels = Vec::new();
        for ch in input
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, ',' | '、' | '，' | '.')))
        {
            let label = crate::search::analysis::normalize(&ch.to_string())
                .to_uppercase()
                .chars()
                .next()?;
            if !self.choices.iter().any(|c| c.label == label) {
                return None;
            }
            labels.push(label);
        }
        labels.sort_unstable();
        labels.dedup();
        (!labels.is_empty()).then_some(Answer::Picks(labels))
    }

    /// The verdict on an answer, with the canonical answer.
    pub fn check(&self, answer: &Answer) -> Checked {
        match (answer, &self.answer) {
            (Answer::Text(text), Some(canonical)) => check(text, canonical, &self.accepted),
            (Answer::Picks(labels), _) => {
                let verdict = if *labels == self.correct {
                    Verdict::Correct
                } else {
                    Verdict::Wrong
                };
                Checked {
                    verdict,
                    canonical: self.canonical(),
                }
            }
            (Answer::Text(_), None) => Checked {
                verdict: Verdict::Wrong,
                canonical: self.canonical(),
            },
        }
    }

    /// Whether the question is about `topic`, by the one topic rule (`select::Topic`).
    pub fn matches_topic(&self, topic: &str) -> bool {
        select::Topic::new(topic).matches_question(self)
    }

    /// `B. text` (each correct choice) or the cloze answer.
    pub fn canonical(&self) -> String {
        if let Some(answer) = &self.answer {
            return answer.clone();
        }
        self.choices
            .iter()
            .filter(|c| self.correct.contains(&c.label))
            .map(|c| format!("{}. {}", c.label, c.text))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// A quiz's questions: `count` of `candidates`, drawn by `seed` with the one permutation of
/// `order::shuffle` (the terminal quiz and `/quiz` alike). Sorted by id first, so the draw depends on the
/// seed, not on the order the files were read in.
pub fn draw_questions(mut candidates: Vec<QuizQuestion>, count: usize, seed: u64) -> Vec<QuizQuestion> {
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    order::draw(candidates, count, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BANK: &str = "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-001\n\n保持期間は?\n\n- [ ] 1 時間\n- [x] 24 時間\n\n解説: 既定は 24 時間。\n\n参照: k.md#データ保持期間\n";

    #[test]
    fn bank_questions_cite_their_reference_and_point_flags_at_their_own_file() {
        let set = NoteSet::from_texts([
            ("k.md", "# Kinesis\n\n## データ保持期間\n\n- 24 時間\n"),
            ("q/k.md", BANK),
        ]);
        let bank = crate::check::questions(&set);
        let question = QuizQuestion::from_bank(&bank[0], &set);
        assert_eq!((question.source.path.as_str(), question.source.line), ("k.md", 3));
        assert_eq!((question.origin.path.as_str(), question.origin.line), ("q/k.md", 7));
        assert_eq!(question.parse_answer(" b "), Some(Answer::Picks(vec!['B'])));
        assert_eq!(question.parse_answer("Ｂ"), Some(Answer::Picks(vec!['B'])));
        assert_eq!(question.parse_answer("z"), None);
        assert_eq!(question.check(&Answer::Picks(vec!['B'])).verdict, Verdict::Correct);
        assert_eq!(question.check(&Answer::Picks(vec!['A', 'B'])).verdict, Verdict::Wrong);
        assert_eq!(question.canonical(), "B. 24 時間");
        assert!(question.matches_topic("kinesis") && !question.matches_topic("sqs"));
    }

    #[test]
    fn a_presented_question_keeps_pinned_choices_in_place_and_its_key_on_the_same_texts() {
        let bank = BANK.replace(
            "- [x] 24 時間\n",
            "- [x] 24 時間\n- [ ] 7 日\n- [ ] 30 日\n- [ ] 上記のいずれでもない <!-- pin -->\n",
        );
        let set = NoteSet::from_texts([("q/k.md", bank.as_str())]);
        let question = QuizQuestion::from_bank(&crate::check::questions(&set)[0], &set);
        assert_eq!(
            question.choices.last().map(|c| (c.text.as_str(), c.pinned)),
            Some(("上記のいずれでもない", true))
        );
        let mut orders = std::collections::BTreeSet::new();
        for seed in 0..20 {
            let shown = question.presented(seed);
            assert_eq!(shown, question.presented(seed));
            assert_eq!(shown.choices[4].text, "上記のいずれでもない");
            let labels: Vec<char> = shown.choices.iter().map(|c| c.label).collect();
            assert_eq!(labels, ['A', 'B', 'C', 'D', 'E']);
            assert_eq!(shown.canonical().split_once(". ").map(|(_, t)| t), Some("24 時間"));
            orders.insert(shown.choices.iter().map(|c| c.text.clone()).collect::<Vec<_>>());
        }
        assert!(orders.len() >= 5, "{orders:?}");
    }

    #[test]
    fn the_number_of_picks_must_be_the_number_asked_for() {
        let one = QuizQuestion::sample("q", 4, 'B');
        assert_eq!(one.check_pick_count(&Answer::Picks(vec!['B'])), Ok(()));
        assert_eq!(
            one.check_pick_count(&Answer::Picks(vec!['A', 'B'])),
            Err(WrongPickCount { wanted: 1, given: 2 })
        );
        let mut two = one.clone();
        two.correct = vec!['A', 'C'];
        assert!(two.check_pick_count(&Answer::Picks(vec!['A'])).is_err());
        assert!(two.check_pick_count(&Answer::Picks(vec!['B', 'D', 'E'])).is_err());
        assert_eq!(two.check_pick_count(&Answer::Picks(vec!['A', 'C'])), Ok(()));
    }
}
