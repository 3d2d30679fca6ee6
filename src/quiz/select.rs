//! Which questions a quiz asks, by one rule for every front end (the terminal quiz, `/quiz`, the daily
//! question's topic): one topic rule (`Topic`) and one pick rule (`pick`).
//!
//! A topic matches a question when, folded (width, case, spacing), it is part of the question's service, a
//! tag, its id or its file; a note section matches on its service, exam domains, tags or file. An empty
//! topic matches everything. Picking: authored bank questions first, drawn by the seed; questions generated
//! from the notes fill the count; the whole set is then put in an order drawn by the seed (so generated
//! questions come mixed in among the bank's) and each question shows its choices in an order of its own.

use super::checker::fold;
use super::library::Library;
use super::{QuizQuestion, draw_questions};
use crate::notes::{Note, Section};
use crate::order;

/// What a quiz is about, folded once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topic(String);

impl Topic {
    pub fn new(text: &str) -> Topic {
        Topic(fold(text))
    }

    /// Whether any of `fields` contains the topic (always, for an empty topic).
    pub fn matches<'f>(&self, fields: impl IntoIterator<Item = &'f str>) -> bool {
        self.0.is_empty() || fields.into_iter().any(|field| fold(field).contains(&self.0))
    }

    /// Whether a question is about the topic: its service, tags, id or file.
    pub fn matches_question(&self, question: &QuizQuestion) -> bool {
        let fields = question.service.iter().chain(&question.tags).map(String::as_str);
        self.matches(fields.chain([
            question.id.as_str(),
            question.origin.path.as_str(),
            question.source.path.as_str(),
        ]))
    }

    /// Whether a note section is about the topic: its service, exam domains, tags or file.
    pub fn matches_section(&self, note: &Note, section: &Section) -> bool {
        let tags = note.section_tags(section);
        self.matches(tags.iter().map(String::as_str).chain([note.path.as_str()]))
    }
}

/// What a quiz asks for.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub topic: &'a Topic,
    pub count: usize,
    pub seed: u64,
    /// Only questions answered with one pick among choices (a button press is one pick).
    pub one_pick_only: bool,
    /// Only authored questions, none generated from the notes.
    pub bank_only: bool,
}

/// The questions of a quiz, as they will be shown: at most `request.count`, empty when none fits.
/// Questions are generated from the notes only when the bank cannot fill the count.
pub fn pick(library: &Library, request: &Request) -> Vec<QuizQuestion> {
    let candidates = |questions: &[QuizQuestion]| -> Vec<QuizQuestion> {
        let fits = |q: &&QuizQuestion| {
            request.topic.matches_question(q)
                && (!request.one_pick_only || (!q.choices.is_empty() && q.picks_wanted() == 1))
        };
        questions.iter().filter(fits).cloned().collect()
    };
    let mut chosen = draw_questions(candidates(library.bank()), request.count, request.seed);
    if chosen.len() < request.count && !request.bank_only {
        let wanted = request.count - chosen.len();
        chosen.extend(draw_questions(candidates(library.generated()), wanted, request.seed));
    }
    order::shuffle(&mut chosen, request.seed);
    chosen.iter().map(|q| q.presented(request.seed)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::NoteSet;
    use crate::search::index::NoteIndex;
    use crate::search::synonyms::Synonyms;

    const BANK: &str = "---\nkind: questions\nservice: Kinesis\ntags: [streaming]\n---\n# 問題\n\n## kin-001\n\n保持期間は?\n\n- [ ] 1 時間\n- [x] 24 時間\n\n参照: k.md#保持\n\n## kin-002\n\nどれを選ぶ? (2つ選択)\n\n- [x] A\n- [x] B\n- [ ] C\n\n参照: k.md#保持\n";

    fn library() -> Library {
        let set = NoteSet::from_texts([("k.md", "# Kinesis\n\n## 保持\n\n- 24 時間\n"), ("q/k.md", BANK)]);
        let index = NoteIndex::in_memory(&set).unwrap();
        Library::new(set, index, Synonyms::default())
    }

    fn request(topic: &Topic, count: usize) -> Request<'_> {
        Request {
            topic,
            count,
            seed: 7,
            one_pick_only: false,
            bank_only: false,
        }
    }

    #[test]
    fn a_topic_matches_folded_parts_of_service_tags_id_and_file() {
        let library = library();
        let questions = library.bank();
        for topic in ["kinesis", "ＫＩＮＥＳＩＳ", "stream", "kin-00", "q/k", ""] {
            assert!(Topic::new(topic).matches_question(&questions[0]), "{topic}");
        }
        assert!(!Topic::new("sqs").matches_question(&questions[0]));
    }

    #[test]
    fn a_section_matches_on_its_notes_service_and_file() {
        let set = NoteSet::from_texts([(
            "aws/k.md",
            "---\nservice: Kinesis\n---\n# Kinesis\n\n## 保持\n\n- 24 時間\n",
        )]);
        let note = &set.notes[0];
        let section = &note.sections[0];
        assert!(Topic::new("kinesis").matches_section(note, section));
        assert!(Topic::new("aws/").matches_section(note, section));
        assert!(!Topic::new("sqs").matches_section(note, section));
    }

    #[test]
    fn picking_keeps_the_count_the_topic_and_one_pick_questions_when_asked() {
        let questions = library();
        let kinesis = Topic::new("kinesis");
        assert_eq!(pick(&questions, &request(&kinesis, 5)).len(), 2);
        assert_eq!(pick(&questions, &request(&kinesis, 1)).len(), 1);
        let one_pick = Request {
            one_pick_only: true,
            ..request(&kinesis, 5)
        };
        let picked = pick(&questions, &one_pick);
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].picks_wanted(), 1);
        assert!(pick(&questions, &request(&Topic::new("sqs"), 5)).is_empty());
    }

    #[test]
    fn the_same_seed_picks_the_same_quiz() {
        let questions = library();
        let topic = Topic::default();
        let ids = |seed| -> Vec<String> {
            pick(
                &questions,
                &Request {
                    seed,
                    ..request(&topic, 2)
                },
            )
            .into_iter()
            .map(|q| q.id)
            .collect()
        };
        assert_eq!(ids(3), ids(3));
    }
}
