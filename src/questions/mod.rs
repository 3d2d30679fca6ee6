//! The question bank: multiple-choice questions written in note files marked `kind: questions`
//! (`- [ ]` / `- [x]` choices, a `解説:` explanation and a `参照:` reference to the section that answers
//! them). Parsing is pure and reports every malformed question at its `file:line`.
//!
//! Core: imports `notes` and `order` only.

pub mod rebalance;
pub mod stem;

use std::collections::HashMap;

use crate::notes::{Note, NoteKind, Problem, Section, slug::slugify};

/// One authored multiple-choice question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The heading, e.g. `kinesis-001`: unique in the bank and stable.
    pub id: String,
    pub path: String,
    pub line: usize,
    pub stem: String,
    pub choices: Vec<Choice>,
    pub explanation: String,
    /// The section id (or `path#heading`) named by `参照:`, as written.
    pub reference: Option<String>,
    pub service: Option<String>,
    pub domains: Vec<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// `A`, `B`, … in the order written.
    pub label: char,
    pub text: String,
    pub correct: bool,
    /// Marked `<!-- pin -->`: shown at its place whatever the order drawn for the other choices, and
    /// never moved by the key rebalancer.
    pub pinned: bool,
    pub line: usize,
}

impl Question {
    pub fn correct_labels(&self) -> Vec<char> {
        self.choices.iter().filter(|c| c.correct).map(|c| c.label).collect()
    }

    /// The reference turned into a section id (`path#slug`), whatever form it was written in.
    pub fn reference_id(&self) -> Option<String> {
        self.reference.as_deref().map(normalize_reference)
    }
}

/// `aws-dva/kinesis.md#Kinesis のデータ保持` → `aws-dva/kinesis.md#kinesis-のデータ保持`.
pub fn normalize_reference(reference: &str) -> String {
    let reference = reference.trim().trim_start_matches("notes/");
    match reference.split_once('#') {
        Some((path, fragment)) => format!("{path}#{}", slugify(fragment)),
        None => reference.to_string(),
    }
}

/// Parses every question in the notes marked `kind: questions`.
pub fn parse_bank(notes: &[Note]) -> (Vec<Question>, Vec<Problem>) {
    let cited: HashMap<&str, &Section> = notes
        .iter()
        .filter(|n| n.front.kind == NoteKind::Notes)
        .flat_map(|n| &n.sections)
        .map(|s| (s.id.as_str(), s))
        .collect();
    let mut questions = Vec::new();
    let mut problems = Vec::new();
    for note in notes.iter().filter(|n| n.front.kind == NoteKind::Questions) {
        for section in &note.sections {
            if let Some(mut question) = parse_question(note, section, &mut problems) {
                // A question not annotated with its own domains takes those of the section it cites.
                if section.domains_from.is_none()
                    && let Some(cited) = question.reference_id().and_then(|id| cited.get(id.as_str()).copied())
                {
                    question.domains = cited.domains.clone();
                }
                questions.push(question);
            }
        }
    }
    let mut first_seen: HashMap<&str, &Question> = HashMap::new();
    for question in &questions {
        if let Some(first) = first_seen.insert(question.id.as_str(), question) {
            problems.push(Problem::error(
                &question.path,
                question.line,
                format!(
                    "question id `{}` is already used at {}:{}",
                    question.id, first.path, first.line
                ),
            ));
        }
    }
    (questions, problems)
}

/// Where the parser is inside a question's body.
#[derive(PartialEq)]
enum Part {
    Stem,
    Choices,
    Explanation,
}

fn parse_question(note: &Note, section: &Section, problems: &mut Vec<Problem>) -> Option<Question> {
    let mut stem = Vec::new();
    let mut choices: Vec<Choice> = Vec::new();
    let mut explanation = Vec::new();
    let mut reference = None;
    let mut part = Part::Stem;
    for (line_no, line) in section.numbered_lines() {
        let trimmed = line.trim();
        if let Some((correct, text)) = choice_line(trimmed) {
            let (text, pinned) = strip_pin(text);
            if part == Part::Explanation {
                problems.push(Problem::warning(
                    &section.path,
                    line_no,
                    "choice after the explanation: is it in the right question?",
                ));
            }
            part = Part::Choices;
            let label = (b'A' + choices.len().min(25) as u8) as char;
            choices.push(Choice {
                label,
                text: text.to_string(),
                correct,
                pinned,
                line: line_no,
            });
        } else if let Some(text) = labelled(trimmed, &["解説", "Explanation"]) {
            part = Part::Explanation;
            explanation.push(text.to_string());
        } else if let Some(text) = labelled(trimmed, &["参照", "Reference", "See"]) {
            reference = Some(text.to_string()).filter(|r| !r.is_empty());
        } else if part == Part::Stem {
            stem.push(trimmed);
        } else if part == Part::Explanation {
            explanation.push(trimmed.to_string());
        } else if !trimmed.is_empty() {
            problems.push(Problem::warning(
                &section.path,
                line_no,
                "text between choices is ignored",
            ));
        }
    }
    if choices.is_empty() {
        // A heading without choices (the file's title, an intro) is not a question.
        if section.level >= 2 && !section.text.trim().is_empty() {
            problems.push(Problem::warning(
                &section.path,
                section.line,
                format!("`{}` has no `- [ ]` choices: not a question", section.title),
            ));
        }
        return None;
    }
    let question = Question {
        id: section.title.trim().to_string(),
        path: section.path.clone(),
        line: section.line,
        stem: join_paragraph(&stem),
        choices,
        explanation: join_paragraph(&explanation.iter().map(String::as_str).collect::<Vec<_>>()),
        reference,
        service: note.front.service.clone(),
        domains: section.domains.clone(),
        tags: note.front.tags.clone(),
    };
    validate(&question, problems);
    Some(question)
}

fn validate(question: &Question, problems: &mut Vec<Problem>) {
    let mut error = |line: usize, message: String| problems.push(Problem::error(&question.path, line, message));
    if question.stem.is_empty() {
        error(
            question.line,
            format!("question `{}` has no question text before its choices", question.id),
        );
    }
    if question.choices.len() < 2 {
        error(
            question.line,
            format!(
                "question `{}` has {} choice; it needs at least 2",
                question.id,
                question.choices.len()
            ),
        );
    }
    let correct = question.correct_labels().len();
    let wanted = stem::picks_requested(&question.stem);
    if correct == 0 {
        error(
            question.line,
            format!("question `{}` marks no choice correct (`- [x]`)", question.id),
        );
    } else if correct != wanted {
        error(
            question.line,
            format!(
                "question `{}` marks {correct} choices correct but its text asks for {wanted}",
                question.id
            ),
        );
    }
    for (i, choice) in question.choices.iter().enumerate() {
        if choice.text.is_empty() {
            error(choice.line, "empty choice".into());
        }
        if let Some(earlier) = question.choices[..i].iter().find(|c| same_text(&c.text, &choice.text)) {
            error(
                choice.line,
                format!("choice {} repeats choice {}", choice.label, earlier.label),
            );
        }
    }
    if question.explanation.is_empty() {
        problems.push(Problem::warning(
            &question.path,
            question.line,
            format!("question `{}` has no `解説:`", question.id),
        ));
    }
    if question.reference.is_none() {
        problems.push(Problem::warning(
            &question.path,
            question.line,
            format!("question `{}` has no `参照:`", question.id),
        ));
    }
}

fn same_text(a: &str, b: &str) -> bool {
    let squash = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    squash(a) == squash(b)
}

/// `- [x] text` → `(true, "text")`.
pub fn choice_line(line: &str) -> Option<(bool, &str)> {
    let rest = line
        .strip_prefix("- ")
        .or_else(|| line.strip_prefix("* "))?
        .trim_start();
    let (correct, text) = if let Some(text) = rest.strip_prefix("[ ]") {
        (false, text)
    } else if let Some(text) = rest.strip_prefix("[x]").or_else(|| rest.strip_prefix("[X]")) {
        (true, text)
    } else {
        return None;
    };
    Some((correct, text.trim()))
}

/// The marker that keeps a choice in place, at the end of its line.
pub const PIN_MARKER: &str = "<!-- pin -->";

/// `上記のすべて <!-- pin -->` → (`上記のすべて`, pinned).
pub fn strip_pin(text: &str) -> (&str, bool) {
    match text.strip_suffix(PIN_MARKER) {
        Some(rest) => (rest.trim_end(), true),
        None => (text, false),
    }
}

/// `解説: text` / `解説：text` → `text`.
fn labelled<'a>(line: &'a str, labels: &[&str]) -> Option<&'a str> {
    labels.iter().find_map(|label| {
        let rest = line.strip_prefix(label)?.trim_start();
        rest.strip_prefix(':')
            .or_else(|| rest.strip_prefix('：'))
            .map(str::trim)
    })
}

/// Lines of one paragraph joined: Japanese lines join without a space, others with one.
fn join_paragraph(lines: &[&str]) -> String {
    let mut out = String::new();
    for line in lines.iter().map(|l| l.trim()) {
        if line.is_empty() {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            continue;
        }
        let needs_space = out
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == ',')
            && line.chars().next().is_some_and(|c| c.is_ascii());
        if needs_space {
            out.push(' ');
        }
        out.push_str(line);
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::parse_note;

    const BANK: &str = "---\nkind: questions\nservice: Kinesis\n---\n# Kinesis の問題\n\n## kin-001\n\nレコードが失われた。\n原因はどれか。\n\n- [ ] シャード不足\n- [x] 保持期間切れ\n- [ ] KCL の障害\n\n解説: 既定の保持期間は 24 時間。\n延長できる。\n\n参照: aws-dva/kinesis.md#データ 保持\n\n## kin-002\n\n正しいものを 2 つ選択してください。\n\n- [x] a\n- [ ] b\n- [ ] B\n\n## kin-001\n\nq\n\n- [x] only\n";

    #[test]
    fn a_question_takes_the_domains_of_the_section_it_cites_unless_annotated_itself() {
        let (notes, _) = parse_note(
            "aws-dva/kinesis.md",
            "---\nservice: Kinesis\ndomain: [development]\n---\n# Kinesis\n## 暗号化\n<!-- domain: security -->\nSSE-KMS\n",
        );
        let (bank, _) = parse_note(
            "aws-dva/questions/kinesis.md",
            "---\nkind: questions\ndomain: [development]\n---\n## q1\n暗号化は?\n- [x] KMS\n- [ ] なし\n参照: aws-dva/kinesis.md#暗号化\n\n\
             ## q2\n<!-- domain: troubleshooting -->\n暗号化は?\n- [x] KMS\n- [ ] なし\n参照: aws-dva/kinesis.md#暗号化\n\n\
             ## q3\n保持は?\n- [x] 24h\n- [ ] 1h\n",
        );
        let (questions, _) = parse_bank(&[notes, bank]);
        let domains: Vec<&[String]> = questions.iter().map(|q| q.domains.as_slice()).collect();
        assert_eq!(
            domains,
            [
                &["security".to_string()][..],
                &["troubleshooting".to_string()],
                &["development".to_string()]
            ]
        );
        assert_eq!(questions[1].stem, "暗号化は?", "the annotation is not part of the stem");
    }

    fn bank() -> (Vec<Question>, Vec<Problem>) {
        let (note, problems) = parse_note("aws-dva/questions/kinesis.md", BANK);
        assert!(problems.is_empty(), "{problems:?}");
        parse_bank(&[note])
    }

    #[test]
    fn parses_stem_choices_explanation_and_reference() {
        let (questions, _) = bank();
        let q = &questions[0];
        assert_eq!(q.id, "kin-001");
        assert_eq!(q.line, 7);
        assert_eq!(q.stem, "レコードが失われた。原因はどれか。");
        assert_eq!(q.correct_labels(), ['B']);
        assert_eq!(q.choices[2].text, "KCL の障害");
        assert_eq!(q.explanation, "既定の保持期間は 24 時間。延長できる。");
        assert_eq!(q.reference_id().as_deref(), Some("aws-dva/kinesis.md#データ-保持"));
        assert_eq!(q.service.as_deref(), Some("Kinesis"));
    }

    #[test]
    fn reports_wrong_counts_duplicates_and_reused_ids_with_lines() {
        let (_, problems) = bank();
        let errors: Vec<String> = problems
            .iter()
            .filter(|p| p.severity == crate::notes::Severity::Error)
            .map(ToString::to_string)
            .collect();
        assert!(
            errors
                .iter()
                .any(|e| e.contains(":21: error: question `kin-002` marks 1 choices correct but its text asks for 2")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains(":27: error: choice C repeats choice B")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains(":29: error: question `kin-001` has 1 choice")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("`kin-001` is already used at aws-dva/questions/kinesis.md:7")),
            "{errors:?}"
        );
    }

    #[test]
    fn notes_files_are_not_questions() {
        let (note, _) = parse_note("a.md", "# A\n\n- [x] done\n- [ ] todo\n");
        assert!(parse_bank(&[note]).0.is_empty());
    }
}
