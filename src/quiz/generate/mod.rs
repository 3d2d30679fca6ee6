//! Questions generated from the notes, marked `generated` and tied to the section they come from, so every
//! reveal cites `file:line` and a flag points at the note to fix.
//!
//! * Multiple choice: "which describes <section>?" The right choice is a fact of the section; the wrong
//!   ones are facts of *similar* sections, found with the index (same service first), so they look
//!   plausible. A fact is never a distractor when it could also answer the stem: when it repeats one of the
//!   section's own facts or names most of the section's subject.
//! * Cloze: a fact with its number hidden (`既定の保持期間は ＿＿ 時間`), or, failing a number, a key term
//!   (an API name, a katakana term) that the heading does not give away.
//!
//! A cloze never hides what answers nothing on its own: a bare `1` or `1 回` ("one of", not a fact), a
//! fragment of a larger number (`TLS1.2`, `1 万`, `10-20`), a year. Distractors come from sections about
//! something else: never the question's own section, a parent or child of it, or one with the same title.
//! What was dropped, and why, is counted (`Generator::dropped`) for `check --generated`.
//!
//! Generation is deterministic for a given `seed`: the same notes give the same questions and ids.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use super::checker::fold;
mod cloze_number;

use super::{QuizChoice, QuizQuestion, SourceRef};
use crate::answer::is_marked_wrong;
use crate::notes::{Note, NoteSet, Section};
use crate::order::{self, stable_hash};
use crate::search::analysis::{Script, normalize, words};
use crate::search::index::searchable_sections;
use crate::search::{SectionSearcher, edit_distance};
pub use cloze_number::hide_number;
use cloze_number::hide_number_noting;

/// Facts shorter or longer than this (in characters) make poor choices.
const MIN_FACT_CHARS: usize = 6;
const MAX_FACT_CHARS: usize = 160;
/// Wrong choices wanted per question; fewer than `MIN_DISTRACTORS` and the section is skipped.
const DISTRACTORS: usize = 3;
const MIN_DISTRACTORS: usize = 2;
/// The blank in a cloze stem.
pub const BLANK: &str = "＿＿";

/// Why a candidate question or choice was left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dropped {
    /// A cloze on `1` alone or `1` with a counter (`1 回あたり`): "one of", no fact to recall.
    ClozeOne,
    /// A cloze on part of a larger number or name (`TLS1.2`, `1 万`, `10-20`, `2^31`).
    ClozeFragment,
    /// A cloze on a year (`2020 年時点では`).
    ClozeYear,
    /// A distractor that could answer the stem: it repeats one of the section's facts or names its subject.
    DistractorSameSubject,
    /// A distractor from a section about the same thing: a parent or child, or one with the same title.
    DistractorRelatedSection,
    /// A distractor the index finds closest to the question's own section.
    DistractorClosest,
    /// A multiple-choice question not generated: fewer than two safe distractors.
    TooFewDistractors,
}

impl Dropped {
    pub fn describe(self) -> &'static str {
        match self {
            Dropped::ClozeOne => "cloze on a bare 1 or `1` + counter (`1 回`)",
            Dropped::ClozeFragment => "cloze on part of a larger number or name",
            Dropped::ClozeYear => "cloze on a year",
            Dropped::DistractorSameSubject => "distractor that could answer the stem",
            Dropped::DistractorRelatedSection => "distractor from the same subject (parent, child, same title)",
            Dropped::DistractorClosest => "distractor the index ties to the question's section",
            Dropped::TooFewDistractors => "multiple-choice question with fewer than 2 safe distractors",
        }
    }
}

/// Generates questions from one set of notes and its index.
pub struct Generator<'a> {
    set: &'a NoteSet,
    searcher: &'a SectionSearcher<'a>,
    /// Sections by id, with their file's service.
    sections: HashMap<&'a str, (&'a Section, Option<&'a str>)>,
    /// What was left out so far, and why.
    dropped: RefCell<BTreeMap<Dropped, usize>>,
}

impl<'a> Generator<'a> {
    pub fn new(set: &'a NoteSet, searcher: &'a SectionSearcher<'a>) -> Generator<'a> {
        let sections = searchable_sections(set)
            .map(|(n, s)| (s.id.as_str(), (s, n.front.service.as_deref())))
            .collect();
        Generator {
            set,
            searcher,
            sections,
            dropped: RefCell::new(BTreeMap::new()),
        }
    }

    /// What generation left out so far, and why.
    pub fn dropped(&self) -> BTreeMap<Dropped, usize> {
        self.dropped.borrow().clone()
    }

    fn drop_one(&self, reason: Dropped) {
        *self.dropped.borrow_mut().entry(reason).or_default() += 1;
    }

    /// The questions of one section: a multiple-choice question and at most one cloze. They depend only on
    /// the notes, so a section's question ids always mean the same question.
    pub fn for_section(&self, note: &Note, section: &Section) -> Vec<QuizQuestion> {
        let service = note.front.service.as_deref();
        let mut questions: Vec<QuizQuestion> = multiple_choice(self, section, service).into_iter().collect();
        questions.extend(cloze_noting(section, service, &mut |reason| self.drop_one(reason)));
        for question in &mut questions {
            question.tags = note.section_tags(section);
        }
        questions
    }

    /// Up to `wanted` questions from the sections `keep` accepts, taken in an order set by `seed`.
    pub fn questions(&self, keep: &dyn Fn(&Note, &Section) -> bool, wanted: usize, seed: u64) -> Vec<QuizQuestion> {
        let mut sections: Vec<(&Note, &Section)> = searchable_sections(self.set)
            .filter(|(note, section)| keep(note, section))
            .collect();
        // Sorted first so the draw depends on the seed only, then shuffled.
        sections.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        order::shuffle(&mut sections, seed);
        let mut questions = Vec::new();
        for (note, section) in sections {
            if questions.len() >= wanted {
                break;
            }
            questions.extend(self.for_section(note, section));
        }
        questions.truncate(wanted);
        questions
    }

    /// The generated question with this id (`gen:mc:<section>` or `gen:cloze:<section>:<n>`), if the notes
    /// still give it.
    pub fn by_id(&self, id: &str) -> Option<QuizQuestion> {
        let rest = id.strip_prefix("gen:mc:").or_else(|| id.strip_prefix("gen:cloze:"))?;
        let section_id = if id.starts_with("gen:cloze:") {
            rest.rsplit_once(':')?.0
        } else {
            rest
        };
        let (note, section) = searchable_sections(self.set).find(|(_, s)| s.id == section_id)?;
        self.for_section(note, section).into_iter().find(|q| q.id == id)
    }
}

/// Every question the notes give (one multiple-choice and at most one cloze question per section).
pub fn generate(set: &NoteSet, searcher: &SectionSearcher) -> Vec<QuizQuestion> {
    generate_noting(set, searcher).0
}

/// Every question the notes give, with what was left out and why.
pub fn generate_noting(set: &NoteSet, searcher: &SectionSearcher) -> (Vec<QuizQuestion>, BTreeMap<Dropped, usize>) {
    let generator = Generator::new(set, searcher);
    let questions = searchable_sections(set)
        .flat_map(|(note, section)| generator.for_section(note, section))
        .collect();
    (questions, generator.dropped())
}

/// Labels some notes put before a fact (`答え: …`), dropped from choices and stems.
fn clean_fact(fact: &str) -> &str {
    let fact = fact.trim();
    for label in ["答え:", "答え：", "答:", "Answer:", "A:", "○", "◯"] {
        if let Some(rest) = fact.strip_prefix(label) {
            return rest.trim_start();
        }
    }
    fact
}

fn source_of(section: &Section) -> SourceRef {
    SourceRef {
        section_id: Some(section.id.clone()),
        path: section.path.clone(),
        line: section.line,
    }
}

/// A fact worth asking about or offering as a choice: not too short or long, and not a line the notes
/// mark as a wrong approach (`× …`): true of nothing, it would be a giveaway either way.
fn usable_fact(fact: &str) -> bool {
    (MIN_FACT_CHARS..=MAX_FACT_CHARS).contains(&fact.chars().count()) && !is_marked_wrong(&normalize(fact))
}

/// A multiple-choice question on `section`, or `None` when the notes hold too few safe distractors.
fn multiple_choice(generator: &Generator, section: &Section, service: Option<&str>) -> Option<QuizQuestion> {
    let facts: Vec<&String> = section.facts.iter().filter(|f| usable_fact(f)).collect();
    if facts.is_empty() {
        return None;
    }
    // Only the section decides which fact is asked and where it sits, so an id always names one question.
    let correct = facts[(stable_hash(0, &section.id) % facts.len() as u64) as usize];
    let query = format!("{} {}", section.heading_path_display(), clean_fact(correct));
    let mut similar: Vec<(bool, usize, &Section)> = generator
        .searcher
        .search(&query, 12)
        .hits
        .iter()
        .enumerate()
        .filter(|(_, hit)| hit.id != section.id)
        .filter_map(|(rank, hit)| {
            let (other, other_service) = generator.sections.get(hit.id.as_str())?;
            Some((service.is_some() && *other_service == service, rank, *other))
        })
        .collect();
    // Same service first, then by similarity.
    similar.sort_by_key(|(same_service, rank, _)| (!same_service, *rank));
    let mut distractors: Vec<&str> = Vec::new();
    for (_, _, other) in similar {
        if same_subject(other, section) {
            generator.drop_one(Dropped::DistractorRelatedSection);
            continue;
        }
        // One fact per similar section, for variety.
        let candidate = other
            .facts
            .iter()
            .find(|fact| safe_distractor(generator, fact, section, correct, &distractors));
        if let Some(fact) = candidate {
            distractors.push(fact);
        }
        if distractors.len() == DISTRACTORS {
            break;
        }
    }
    if distractors.len() < MIN_DISTRACTORS {
        generator.drop_one(Dropped::TooFewDistractors);
        return None;
    }
    let mut texts: Vec<&str> = distractors;
    let correct_at = (stable_hash(0x9e37_79b9, &section.id) % (texts.len() as u64 + 1)) as usize;
    texts.insert(correct_at, correct);
    let choices: Vec<QuizChoice> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| QuizChoice {
            label: (b'A' + i as u8) as char,
            text: clean_fact(text).to_string(),
            pinned: false,
        })
        .collect();
    let label = choices[correct_at].label;
    Some(QuizQuestion {
        id: format!("gen:mc:{}", section.id),
        stem: format!("「{}」について正しいものはどれか。", section.heading_path_display()),
        choices,
        correct: vec![label],
        answer: None,
        accepted: Vec::new(),
        explanation: format!("{}: {}", section.heading_path_display(), clean_fact(correct)),
        origin: source_of(section),
        source: source_of(section),
        generated: true,
        service: service.map(str::to_string),
        tags: Vec::new(),
    })
}

/// Whether `fact` may be offered as a wrong choice for `section`: usable, not the same as the right
/// answer or a distractor already chosen, not something the section itself would answer, and not closer
/// to the section than to its own (counting why it was left out otherwise).
fn safe_distractor(generator: &Generator, fact: &str, section: &Section, correct: &str, chosen: &[&str]) -> bool {
    if !usable_fact(fact) || chosen.iter().chain([&correct]).any(|other| same_fact(other, fact)) {
        return false;
    }
    let reason = if could_answer(fact, section) {
        Dropped::DistractorSameSubject
    } else if closest_to(generator.searcher, fact, section) {
        Dropped::DistractorClosest
    } else {
        return true;
    };
    generator.drop_one(reason);
    false
}

/// Whether `other` is about what `section` is about: one is the other's parent or child (its heading path
/// starts with the other's), or both have the same title (`まとめ` under two services is not the same).
fn same_subject(other: &Section, section: &Section) -> bool {
    let (a, b) = (other.heading_path_display(), section.heading_path_display());
    let nested = |outer: &str, inner: &str| inner.starts_with(outer) && inner[outer.len()..].starts_with(" > ");
    nested(&a, &b) || nested(&b, &a) || (other.path == section.path && fold(&other.title) == fold(&section.title))
}

/// Whether the index finds `section` the best match for `fact`: then the notes themselves say the fact
/// is about the stem's subject, and it must not be offered as a wrong answer.
fn closest_to(searcher: &SectionSearcher, fact: &str, section: &Section) -> bool {
    searcher
        .search(clean_fact(fact), 1)
        .hits
        .first()
        .is_some_and(|hit| hit.id == section.id)
}

/// Whether `fact` (from another section) might also be a right answer to a question on `section`: it
/// repeats one of the section's facts, or it is about the same subject (names most of its heading's words).
pub fn could_answer(fact: &str, section: &Section) -> bool {
    if section.facts.iter().any(|own| same_fact(own, fact)) {
        return true;
    }
    let subject: Vec<String> = words(&section.title)
        .into_iter()
        .filter(|w| matches!(w.script, Script::Kanji | Script::Katakana | Script::Word) && w.text.chars().count() >= 2)
        .map(|w| fold(&w.text))
        .collect();
    if subject.is_empty() {
        return false;
    }
    let folded = fold(fact);
    let named = subject.iter().filter(|term| folded.contains(term.as_str())).count();
    named * 2 > subject.len()
}

/// The same statement, up to spacing, width, punctuation and a slip or two.
fn same_fact(a: &str, b: &str) -> bool {
    let (a, b) = (fold(a), fold(b));
    a == b || edit_distance(&a, &b) * 10 <= a.chars().count().max(b.chars().count())
}

/// A cloze question on the first fact of `section` with a number, else with a key term.
#[cfg(test)]
fn cloze(section: &Section, service: Option<&str>) -> Option<QuizQuestion> {
    cloze_noting(section, service, &mut |_| {})
}

/// `cloze`, telling `dropped` about each number it would not hide.
fn cloze_noting(section: &Section, service: Option<&str>, dropped: &mut dyn FnMut(Dropped)) -> Option<QuizQuestion> {
    let facts = section
        .facts
        .iter()
        .map(|f| clean_fact(f))
        .enumerate()
        .filter(|(_, f)| usable_fact(f));
    let (fact_index, fact, hidden) = facts
        .clone()
        .find_map(|(i, fact)| hide_number_noting(fact, dropped).map(|hidden| (i, fact, hidden)))
        .or_else(|| {
            facts
                .clone()
                .find_map(|(i, fact)| hide_key_term(fact, section).map(|hidden| (i, fact, hidden)))
        })?;
    let (stem_fact, answer) = hidden;
    Some(QuizQuestion {
        id: format!("gen:cloze:{}:{fact_index}", section.id),
        stem: format!("{}: {stem_fact}", section.heading_path_display()),
        choices: Vec::new(),
        correct: Vec::new(),
        answer: Some(answer),
        accepted: Vec::new(),
        explanation: format!("{}: {fact}", section.heading_path_display()),
        origin: source_of(section),
        source: source_of(section),
        generated: true,
        service: service.map(str::to_string),
        tags: Vec::new(),
    })
}

/// `BatchGetItem で最大 100 項目` → hides `BatchGetItem`: the longest Latin word (4+ letters) or katakana
/// term (4+ characters) that the heading does not already give away.
fn hide_key_term(fact: &str, section: &Section) -> Option<(String, String)> {
    let heading = fold(&section.heading_path_display());
    let term = words(fact)
        .into_iter()
        .filter(|w| matches!(w.script, Script::Katakana | Script::Word) && w.text.chars().count() >= 4)
        .filter(|w| !w.text.chars().all(|c| c.is_ascii_digit()) && !heading.contains(&fold(&w.text)))
        .max_by_key(|w| w.text.chars().count())?;
    // `words` normalises; find the term as written (same length in characters after NFKC for these scripts).
    let at = crate::search::analysis::normalize(fact).find(&term.text)?;
    let original = fact
        .get(at..at + term.text.len())
        .filter(|s| fold(s) == fold(&term.text))?;
    Some((fact.replacen(original, BLANK, 1), original.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::checker::Verdict;
    use crate::quiz::{Answer, QuizQuestion};
    use crate::search::index::NoteIndex;
    use crate::search::synonyms::Synonyms;

    const KINESIS: &str = "---\nservice: Kinesis\n---\n# Kinesis\n\n## データ保持期間\n\n- 既定の保持期間はレコード追加から 24 時間\n- 最大 8,760 時間 (365 日) まで延長できる\n\n## シャード\n\n- 1 シャードの書き込みは毎秒 1 MB まで\n- トラフィックが増えたらシャードを分割する\n- × シャードを減らすと書き込み上限が上がる\n\n## コンシューマー\n\n- 拡張ファンアウトはコンシューマーごとに専用のスループットを持つ\n- KCL はチェックポイントを DynamoDB に保存する\n\n## まとめ\n\n- 既定の保持期間はレコード追加から 24 時間。\n- Kinesis のデータ保持期間は延長できる\n";
    const SQS: &str = "---\nservice: SQS\n---\n# SQS\n\n## メッセージ保持期間\n\n- 既定の保持期間は 4 日、最大 14 日\n\n## 可視性タイムアウト\n\n- 既定の可視性タイムアウトは 30 秒\n- 処理が終わらないと別のコンシューマーに再配信される\n";

    fn generated() -> (NoteSet, Vec<QuizQuestion>) {
        let set = NoteSet::from_texts([("aws/kinesis.md", KINESIS), ("aws/sqs.md", SQS)]);
        let index = NoteIndex::in_memory(&set).unwrap();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        let questions = generate(&set, &searcher);
        (set, questions)
    }

    #[test]
    fn distractors_never_answer_the_stem_and_every_question_has_its_source() {
        let (set, questions) = generated();
        let sections: Vec<&Section> = set.notes.iter().flat_map(|n| &n.sections).collect();
        let multiple_choice: Vec<&QuizQuestion> = questions.iter().filter(|q| !q.is_cloze()).collect();
        assert!(multiple_choice.len() >= 3, "{questions:#?}");
        for question in &questions {
            assert!(question.generated);
            let section = sections
                .iter()
                .find(|s| Some(&s.id) == question.source.section_id.as_ref())
                .expect("source section");
            assert_eq!(
                (question.source.path.as_str(), question.source.line),
                (section.path.as_str(), section.line)
            );
            assert_eq!(question.origin, question.source);
            if question.is_cloze() {
                continue;
            }
            assert_eq!(question.correct.len(), 1);
            for choice in &question.choices {
                let is_own_fact = section.facts.iter().any(|f| same_fact(f, &choice.text));
                assert_eq!(is_own_fact, question.correct.contains(&choice.label), "{question:#?}");
            }
            // The `まとめ` section repeats the retention fact: it must never be a wrong choice for it.
            if section.title == "データ保持期間" {
                assert!(
                    !question
                        .choices
                        .iter()
                        .any(|c| !question.correct.contains(&c.label) && c.text.contains("24 時間"))
                );
                assert!(
                    !question
                        .choices
                        .iter()
                        .any(|c| c.text.contains("延長できる") && !question.correct.contains(&c.label))
                );
            }
        }
        assert!(
            !questions
                .iter()
                .any(|q| q.stem.contains('×') || q.choices.iter().any(|c| c.text.contains('×')))
        );
        // Same service is preferred: the retention question's wrong choices come from Kinesis sections first.
        let retention = multiple_choice
            .iter()
            .find(|q| q.id == "gen:mc:aws/kinesis.md#データ保持期間")
            .expect("retention");
        let wrong: Vec<&str> = retention
            .choices
            .iter()
            .filter(|c| !retention.correct.contains(&c.label))
            .map(|c| c.text.as_str())
            .collect();
        let kinesis_facts: Vec<&String> = set.notes[0].sections.iter().flat_map(|s| &s.facts).collect();
        assert!(kinesis_facts.iter().any(|f| f.as_str() == wrong[0]), "{wrong:?}");
    }

    #[test]
    fn a_generated_id_always_names_the_same_question() {
        let set = NoteSet::from_texts([("aws/kinesis.md", KINESIS), ("aws/sqs.md", SQS)]);
        let index = NoteIndex::in_memory(&set).unwrap();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        let generator = Generator::new(&set, &searcher);
        let all = generate(&set, &searcher);
        for question in &all {
            assert_eq!(generator.by_id(&question.id).as_ref(), Some(question));
        }
        let some = generator.questions(&|note, _| note.path.contains("sqs"), 2, 42);
        assert_eq!(some.len(), 2);
        assert!(
            some.iter().all(|q| q.source.path == "aws/sqs.md" && all.contains(q)),
            "{some:#?}"
        );
        assert_eq!(generator.by_id("gen:mc:aws/kinesis.md#nothing-here"), None);
    }

    #[test]
    fn generated_questions_carry_their_sections_exam_domains() {
        let kinesis = KINESIS
            .replace("service: Kinesis\n", "service: Kinesis\ndomain: [development]\n")
            .replace("## シャード\n", "## シャード\n<!-- domain: troubleshooting -->\n");
        let set = NoteSet::from_texts([("aws/kinesis.md", kinesis.as_str())]);
        let index = NoteIndex::in_memory(&set).unwrap();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        let questions = generate(&set, &searcher);
        let shards: Vec<&QuizQuestion> = questions
            .iter()
            .filter(|q| q.matches_topic("troubleshooting"))
            .collect();
        assert!(!shards.is_empty());
        assert!(
            shards.iter().all(|q| q.id.contains("#シャード")),
            "{:?}",
            shards.iter().map(|q| &q.id).collect::<Vec<_>>()
        );
        assert!(questions.iter().any(|q| q.matches_topic("development")));
        assert!(
            !questions
                .iter()
                .any(|q| q.id.contains("#シャード") && q.matches_topic("development"))
        );
    }

    #[test]
    fn cloze_hides_a_number_with_its_unit() {
        let (_, questions) = generated();
        let retention = questions
            .iter()
            .find(|q| q.id.starts_with("gen:cloze:aws/kinesis.md#データ保持期間"))
            .expect("cloze");
        assert_eq!(
            retention.stem,
            "Kinesis > データ保持期間: 既定の保持期間はレコード追加から ＿＿ 時間"
        );
        assert_eq!(retention.answer.as_deref(), Some("24 時間"));
        for (given, verdict) in [
            ("24", Verdict::Correct),
            ("24 hours", Verdict::Correct),
            ("24日", Verdict::Wrong),
        ] {
            assert_eq!(retention.check(&Answer::Text(given.into())).verdict, verdict, "{given}");
        }
    }

    #[test]
    fn numbers_inside_names_are_not_hidden_and_key_terms_are() {
        assert_eq!(hide_number("S3 と EC2 を使う"), None);
        assert_eq!(
            hide_number("2020 年時点の最大は 168 時間"),
            Some(("2020 年時点の最大は ＿＿ 時間".into(), "168 時間".into()))
        );
        assert_eq!(
            hide_number("m5.2xlarge は 8 vCPU"),
            Some(("m5.2xlarge は ＿＿ vCPU".into(), "8".into()))
        );
        assert_eq!(
            hide_number("最大 8,760 時間"),
            Some(("最大 ＿＿ 時間".into(), "8,760 時間".into()))
        );
        assert_eq!(hide_number("1 MB まで"), Some(("＿＿ MB まで".into(), "1 MB".into())));
        let set = NoteSet::from_texts([(
            "d.md",
            "# DynamoDB\n\n## まとめて読む\n\n- BatchGetItem で多数の項目を読む\n",
        )]);
        let section = &set.notes[0].sections[1];
        let question = cloze(section, None).unwrap();
        assert_eq!(question.stem, "DynamoDB > まとめて読む: ＿＿ で多数の項目を読む");
        assert_eq!(question.answer.as_deref(), Some("BatchGetItem"));
    }

    #[test]
    fn a_cloze_never_hides_a_bare_one_a_counter_alone_or_part_of_a_number() {
        let mut dropped = Vec::new();
        let mut hide = |fact: &str| hide_number_noting(fact, &mut |reason| dropped.push(reason));
        // `1 回あたり`: "per one", no fact; the real limit later in the line is hidden instead.
        assert_eq!(
            hide("1 回あたりのサイズ上限は 256 KB"),
            Some(("1 回あたりのサイズ上限は ＿＿ KB".into(), "256 KB".into()))
        );
        assert_eq!(hide("1 メッセージの最大サイズ"), None);
        assert_eq!(hide("TLS1.2 以上を使う"), None);
        assert_eq!(hide("1 万件まで"), None);
        assert_eq!(hide("2024-01 以降"), None);
        assert_eq!(hide("AES-256 で暗号化"), None);
        assert_eq!(
            hide("再試行は 2 回まで"),
            Some(("再試行は ＿＿ 回まで".into(), "2 回".into()))
        );
        assert_eq!(hide("1 MB まで"), Some(("＿＿ MB まで".into(), "1 MB".into())));
        assert_eq!(
            dropped,
            [
                Dropped::ClozeOne,
                Dropped::ClozeOne,
                Dropped::ClozeFragment, // TLS1.2
                Dropped::ClozeFragment, // 1 万
                Dropped::ClozeFragment, // 2024-01: both numbers
                Dropped::ClozeFragment,
                Dropped::ClozeFragment, // AES-256
            ]
        );
    }

    #[test]
    fn distractors_never_come_from_a_parent_child_or_same_titled_section_and_drops_are_counted() {
        let notes = "---\nservice: Kinesis\n---\n# Kinesis\n\n## シャード\n\n- 1 シャードの書き込みは毎秒 1 MB まで\n- トラフィックが増えたらシャードを分割する\n\n### シャードの分割\n\n- UpdateShardCount でシャード数を変える\n- 分割すると親シャードは閉じられる\n\n## コンシューマー\n\n- 拡張ファンアウトはコンシューマーごとに専用のスループットを持つ\n- KCL はチェックポイントを DynamoDB に保存する\n\n## 暗号化\n\n- サーバー側暗号化は KMS キーを使う\n- 暗号化しても書き込み上限は変わらない\n\n## 保持期間\n\n- 既定の保持期間は 24 時間\n- 最大 365 日まで延長できる\n";
        let set = NoteSet::from_texts([("aws/kinesis.md", notes), ("aws/sqs.md", SQS)]);
        let index = NoteIndex::in_memory(&set).unwrap();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        let (questions, dropped) = generate_noting(&set, &searcher);
        let sections: Vec<&Section> = set.notes.iter().flat_map(|n| &n.sections).collect();
        let shard_facts: Vec<&String> = sections
            .iter()
            .filter(|s| s.title.contains("シャード"))
            .flat_map(|s| &s.facts)
            .collect();
        for question in questions.iter().filter(|q| !q.is_cloze() && q.id.contains("#シャード")) {
            for choice in question.choices.iter().filter(|c| !question.correct.contains(&c.label)) {
                assert!(!shard_facts.contains(&&choice.text), "{question:#?}");
            }
        }
        assert!(
            dropped.get(&Dropped::DistractorRelatedSection).copied().unwrap_or(0) > 0,
            "{dropped:?}"
        );
    }
}
