//! `check`: everything that can be wrong with a notes folder, gathered in one report: files that could
//! not be read, malformed front matter and questions, empty sections, duplicate ids, `参照:` links
//! to sections that do not exist, and section domains no file names. Also the coverage table (sections and
//! questions per service/domain).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::notes::{NoteKind, NoteSet, Problem, Severity};
use crate::questions::{Question, parse_bank};

/// The most choices a bank question may have (`notes/README.md`: 2 to 6).
pub const MAX_CHOICES: usize = 6;

/// The outcome of checking a notes folder.
#[derive(Debug)]
pub struct CheckReport {
    pub problems: Vec<Problem>,
    pub files: usize,
    pub sections: usize,
    pub questions: usize,
}

impl CheckReport {
    pub fn errors(&self) -> usize {
        self.problems.iter().filter(|p| p.severity == Severity::Error).count()
    }

    pub fn warnings(&self) -> usize {
        self.problems.len() - self.errors()
    }
}

/// Checks notes and questions together (questions refer to sections).
pub fn check(set: &NoteSet) -> CheckReport {
    let mut problems = set.problems.clone();
    let mut first_seen: HashMap<&str, (&str, usize)> = HashMap::new();
    let mut sections = 0;
    for note in set.notes.iter().filter(|n| n.front.kind == NoteKind::Notes) {
        for section in &note.sections {
            sections += 1;
            if let Some((path, line)) = first_seen.insert(&section.id, (&section.path, section.line)) {
                problems.push(Problem::error(
                    &section.path,
                    section.line,
                    format!("section id `{}` is already used at {path}:{line}", section.id),
                ));
            }
        }
    }
    problems.extend(unknown_domains(set));
    let (questions, question_problems) = parse_bank(&set.notes);
    problems.extend(question_problems);
    problems.extend(skewed_keys(&questions));
    for question in &questions {
        if question.choices.len() > MAX_CHOICES {
            problems.push(Problem::error(
                &question.path,
                question.line,
                format!(
                    "question `{}` has {} choices; at most {MAX_CHOICES} are allowed (see notes/README.md)",
                    question.id,
                    question.choices.len()
                ),
            ));
        }
        if let Some(reference) = question.reference_id()
            && !first_seen.contains_key(reference.as_str())
        {
            problems.push(Problem::error(
                &question.path,
                question.line,
                format!(
                    "question `{}` refers to `{}`, which is no section{}",
                    question.id,
                    question.reference.as_deref().unwrap_or_default(),
                    closest_id(&reference, first_seen.keys().copied())
                        .map(|id| format!(" (did you mean `{id}`?)"))
                        .unwrap_or_default()
                ),
            ));
        }
    }
    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    CheckReport {
        problems,
        files: set.notes.len(),
        sections,
        questions: questions.len(),
    }
}

/// A file needs this many single-answer questions before its key is judged: fewer prove nothing.
const SKEW_MIN_KEYS: usize = 6;

/// Files whose answer key is skewed: one position holds more than half of the file's single-answer keys
/// (with at least `SKEW_MIN_KEYS` of them). A warning: the quiz shuffles choices anyway, but a file read
/// as it is written should not teach "the answer is B".
fn skewed_keys(questions: &[Question]) -> Vec<Problem> {
    let mut by_file: BTreeMap<&str, Vec<&Question>> = BTreeMap::new();
    for question in questions {
        by_file.entry(question.path.as_str()).or_default().push(question);
    }
    by_file
        .into_iter()
        .filter_map(|(path, questions)| {
            let counts = crate::questions::rebalance::key_positions(questions.iter().copied());
            let keys: usize = counts.values().sum();
            let (label, most) = counts.into_iter().max_by_key(|(label, n)| (*n, std::cmp::Reverse(*label)))?;
            (keys >= SKEW_MIN_KEYS && most * 2 > keys).then(|| {
                Problem::warning(
                    path,
                    questions[0].line,
                    format!(
                        "answer key skewed: {label} is right in {most} of the file's {keys} single-answer questions; `cargo run --example rebalance_keys` spreads it"
                    ),
                )
            })
        })
        .collect()
}

/// The existing id in the same file whose slug shares the most characters with `wanted`.
fn closest_id<'a>(wanted: &str, ids: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let (wanted_path, wanted_slug) = wanted.split_once('#')?;
    ids.filter(|id| id.split_once('#').is_some_and(|(path, _)| path == wanted_path))
        .map(|id| {
            let slug = id.split_once('#').map_or("", |(_, s)| s);
            let shared = slug.chars().filter(|c| wanted_slug.contains(*c)).count();
            (shared, id)
        })
        .filter(|(shared, _)| *shared > 0)
        .max_by_key(|(shared, _)| *shared)
        .map(|(_, id)| id)
}

/// Domains in `<!-- domain: … -->` annotations that no file's front matter names: most likely typos. (The
/// exam's domains are whatever the files' `domain` lists use, so another exam's notes need no setting.)
fn unknown_domains(set: &NoteSet) -> Vec<Problem> {
    let known: BTreeSet<&str> = set
        .notes
        .iter()
        .flat_map(|n| &n.front.domains)
        .map(String::as_str)
        .collect();
    let mut reported: BTreeSet<(&str, usize, &str)> = BTreeSet::new();
    for note in &set.notes {
        for section in &note.sections {
            let Some(line) = section.domains_from else { continue };
            for domain in section.domains.iter().filter(|d| !known.contains(d.as_str())) {
                reported.insert((&note.path, line, domain));
            }
        }
    }
    reported
        .into_iter()
        .map(|(path, line, domain)| {
            let known: Vec<&str> = known.iter().copied().collect();
            Problem::warning(
                path,
                line,
                format!(
                    "no note file's `domain` names `{domain}` (a typo?); the files name: {}",
                    known.join(", ")
                ),
            )
        })
        .collect()
}

/// Sections and questions counted per service and per exam domain.
#[derive(Debug, Default)]
pub struct Coverage {
    /// key → (sections, questions)
    pub by_service: BTreeMap<String, (usize, usize)>,
    pub by_domain: BTreeMap<String, (usize, usize)>,
}

pub fn coverage(set: &NoteSet) -> Coverage {
    let mut coverage = Coverage::default();
    let unknown = || "(none)".to_string();
    for note in set.notes.iter().filter(|n| n.front.kind == NoteKind::Notes) {
        let count = note.sections.iter().filter(|s| !s.text.trim().is_empty()).count();
        coverage
            .by_service
            .entry(note.front.service.clone().unwrap_or_else(unknown))
            .or_default()
            .0 += count;
        for section in note.sections.iter().filter(|s| !s.text.trim().is_empty()) {
            for domain in domains_or_none(&section.domains) {
                coverage.by_domain.entry(domain).or_default().0 += 1;
            }
        }
    }
    let (questions, _) = parse_bank(&set.notes);
    for question in &questions {
        coverage
            .by_service
            .entry(question.service.clone().unwrap_or_else(unknown))
            .or_default()
            .1 += 1;
        for domain in domains_or_none(&question.domains) {
            coverage.by_domain.entry(domain).or_default().1 += 1;
        }
    }
    coverage
}

fn domains_or_none(domains: &[String]) -> Vec<String> {
    if domains.is_empty() {
        vec!["(none)".to_string()]
    } else {
        domains.to_vec()
    }
}

/// Questions in the bank, for the quiz and tests; problems are `check`'s business.
pub fn questions(set: &NoteSet) -> Vec<Question> {
    parse_bank(&set.notes).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unresolved_references_are_errors_with_a_suggestion() {
        let set = NoteSet::from_texts([
            ("k.md", "# Kinesis\n## データ保持期間\n- 24 時間\n"),
            (
                "q.md",
                "---\nkind: questions\n---\n## q1\n本文\n- [x] a\n- [ ] b\n解説: x\n参照: k.md#データ保持\n## q2\n本文\n- [x] a\n- [ ] b\n解説: x\n参照: k.md#データ保持期間\n",
            ),
        ]);
        let report = check(&set);
        assert_eq!(report.errors(), 1, "{:?}", report.problems);
        let message = report.problems[0].to_string();
        assert!(
            message.starts_with("q.md:4: error: question `q1` refers to `k.md#データ保持`"),
            "{message}"
        );
        assert!(message.contains("did you mean `k.md#データ保持期間`"), "{message}");
        assert_eq!((report.sections, report.questions), (2, 2));
    }

    /// A question file whose single-answer keys sit at these positions (0 = A).
    fn bank(keys: &[usize]) -> String {
        let mut text = "---\nkind: questions\n---\n# Q\n".to_string();
        for (i, key) in keys.iter().enumerate() {
            text.push_str(&format!("## q{i}\n本文\n"));
            for c in 0..4 {
                let mark = if c == *key { "x" } else { " " };
                text.push_str(&format!("- [{mark}] 選択肢 {i}-{c}\n"));
            }
            text.push_str("解説: x\n参照: k.md#データ保持期間\n");
        }
        text
    }

    #[test]
    fn a_skewed_answer_key_is_a_warning_not_an_error() {
        let skewed = bank(&[1, 1, 1, 1, 0, 2]);
        let set = NoteSet::from_texts([
            ("k.md", "# Kinesis\n## データ保持期間\n- 24 時間\n"),
            ("q.md", skewed.as_str()),
        ]);
        let report = check(&set);
        assert_eq!((report.errors(), report.warnings()), (0, 1), "{:?}", report.problems);
        assert!(
            report.problems[0]
                .to_string()
                .contains("B is right in 4 of the file's 6"),
            "{:?}",
            report.problems
        );
        // Half is not more than half; five questions are too few to judge.
        for keys in [&[1, 1, 1, 0, 2, 3][..], &[1, 1, 1, 1, 1]] {
            let text = bank(keys);
            let set = NoteSet::from_texts([
                ("k.md", "# Kinesis\n## データ保持期間\n- 24 時間\n"),
                ("q.md", text.as_str()),
            ]);
            assert_eq!(check(&set).warnings(), 0, "{keys:?}");
        }
    }

    #[test]
    fn an_annotated_domain_no_file_names_is_a_warning_at_its_line_once() {
        let set = NoteSet::from_texts([
            (
                "a.md",
                "---\ndomain: [development]\n---\n# A\n## B\n<!-- domain: securty -->\ntext\n### C\ntext\n",
            ),
            (
                "b.md",
                "---\ndomain: [security]\n---\n# D\n<!-- domain: development -->\ntext\n",
            ),
        ]);
        let report = check(&set);
        let messages: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "a.md:6: warning: no note file's `domain` names `securty` (a typo?); the files name: development, security"
            ]
        );
    }

    #[test]
    fn coverage_counts_sections_and_questions_per_service_and_domain() {
        let set = NoteSet::from_texts([
            (
                "k.md",
                "---\nservice: Kinesis\ndomain: [development]\n---\n# K\nx\n## A\ny\n## 暗号化\n<!-- domain: security -->\nz\n",
            ),
            (
                "q.md",
                "---\nkind: questions\nservice: Kinesis\ndomain: [development]\n---\n## q1\n本文\n- [x] a\n- [ ] b\n\n\
                 ## q2\n本文\n- [x] a\n- [ ] b\n参照: k.md#暗号化\n",
            ),
        ]);
        let coverage = coverage(&set);
        assert_eq!(coverage.by_service["Kinesis"], (3, 2));
        // Each section and question counts under its own domains, not the file's.
        assert_eq!(coverage.by_domain["development"], (2, 1));
        assert_eq!(coverage.by_domain["security"], (1, 1));
    }
}
