//! Reading a question as a user pastes it: the stem, then labelled choices (`A.`, `1.`, `①`, `- [ ]`, …),
//! with the pick count written anywhere in the stem (`2 つ選択`, `(Choose 3)`, a bare `２つ` at its end,
//! `すべて選択`). Errors say what is wrong in the user's language.

use unicode_normalization::UnicodeNormalization;

use crate::locale::Locale;
use crate::questions::Question;
use crate::questions::stem::{asks_all_that_apply, is_negated, picks_requested};

/// A question as a user pastes it: the stem, then labelled choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McQuestion {
    pub stem: String,
    pub choices: Vec<McChoice>,
    /// How many choices to pick (`2 つ選択` → 2).
    pub picks: usize,
    /// `すべて選択` / "Select all that apply": as many as the evidence supports.
    pub all_that_apply: bool,
    /// Whether the question asks for the false or unsuitable choice.
    pub negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McChoice {
    /// As written (`A`, `3`, `①`); empty for `- [ ]` choices until ranked.
    pub label: String,
    pub text: String,
}

/// The most choices a question may have: labels run A to Z.
pub const MAX_CHOICES: usize = 26;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the question is empty")]
    Empty,
    #[error("the input is not text (it holds NUL bytes)")]
    NotText,
    #[error("no choices found: put each choice on its own line, labelled `A.`, `B)`, `(C)`, `1.` or `- [ ]`")]
    NoChoices,
    #[error("only one choice found (`{0}`): a multiple-choice question needs at least two")]
    OneChoice(String),
    #[error("no question text before the first choice")]
    NoStem,
    #[error("{0} choices found: at most 26 are read, one per letter A to Z")]
    TooManyChoices(usize),
}

impl ParseError {
    /// The error in the user's language.
    pub fn message(&self, locale: Locale) -> String {
        match locale {
            Locale::En => self.to_string(),
            Locale::Ja => match self {
                ParseError::Empty => "問題文が空です".to_string(),
                ParseError::NotText => "テキストではありません (NUL バイトを含みます)".to_string(),
                ParseError::NoChoices => "選択肢が見つかりません".to_string(),
                ParseError::OneChoice(text) => {
                    format!("選択肢が 1 つしかありません (`{text}`): 選択問題には 2 つ以上必要です")
                }
                ParseError::NoStem => "最初の選択肢の前に問題文がありません".to_string(),
                ParseError::TooManyChoices(count) => {
                    format!("選択肢が {count} 個あります: 読めるのは A〜Z の 26 個までです")
                }
            },
        }
    }
}

impl McQuestion {
    /// The same question from the bank, labelled A, B, C, …
    pub fn from_bank(question: &Question) -> McQuestion {
        McQuestion {
            stem: question.stem.clone(),
            choices: question
                .choices
                .iter()
                .map(|c| McChoice {
                    label: c.label.to_string(),
                    text: c.text.clone(),
                })
                .collect(),
            picks: question.correct_labels().len().max(1),
            all_that_apply: false,
            negated: is_negated(&question.stem),
        }
    }
}

/// A label as shown before its choice: `A.`, `3.`, but a circled number alone (`①`), as it was written.
pub fn shown_label(label: &str) -> String {
    if label.chars().all(is_circled_number) && !label.is_empty() {
        label.to_string()
    } else {
        format!("{label}.")
    }
}

fn is_circled_number(c: char) -> bool {
    ('①'..='⑳').contains(&c)
}

/// Reads a pasted question: every line before the first labelled choice is the stem; an unlabelled line
/// right after a choice continues it; text after a blank line following the choices is ignored.
pub fn parse_question(text: &str) -> Result<McQuestion, ParseError> {
    if text.contains('\0') {
        return Err(ParseError::NotText);
    }
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let (stem, choices) = split_stem_and_choices(text);
    match choices.len() {
        0 => return Err(ParseError::NoChoices),
        1 => return Err(ParseError::OneChoice(choices[0].text.clone())),
        n if n > MAX_CHOICES => return Err(ParseError::TooManyChoices(n)),
        _ => {}
    }
    if stem.is_empty() {
        return Err(ParseError::NoStem);
    }
    let picks = picks_requested(&stem).min(choices.len() - 1).max(1);
    Ok(McQuestion {
        all_that_apply: asks_all_that_apply(&stem),
        negated: is_negated(&stem),
        stem,
        choices,
        picks,
    })
}

fn split_stem_and_choices(text: &str) -> (String, Vec<McChoice>) {
    let mut stem_lines: Vec<&str> = Vec::new();
    let mut choices: Vec<McChoice> = Vec::new();
    let mut choices_closed = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((label, body)) = choice_label(trimmed) {
            if !choices_closed {
                choices.push(McChoice { label, text: body });
            }
        } else if choices.is_empty() {
            stem_lines.push(trimmed);
        } else if trimmed.is_empty() {
            choices_closed = true;
        } else if !choices_closed && let Some(last) = choices.last_mut() {
            last.text.push(' ');
            last.text.push_str(trimmed);
        }
    }
    (stem_lines.join("\n").trim().to_string(), choices)
}

/// `A. text`, `A) text`, `(A) text`, `A: text`, `1. text`, `１．text`, `① text`, `- [ ] text` → label and text.
fn choice_label(line: &str) -> Option<(String, String)> {
    for task in ["- [ ]", "- [x]", "- [X]", "* [ ]", "* [x]"] {
        if let Some(rest) = line.strip_prefix(task) {
            return Some((String::new(), rest.trim().to_string()));
        }
    }
    let first = line.chars().next()?;
    if is_circled_number(first) {
        return Some((first.to_string(), line[first.len_utf8()..].trim().to_string()));
    }
    // Normalise the first few characters only, to read full-width labels (`Ａ．`, `（１）`).
    let head: String = line.chars().take(4).collect::<String>().nfkc().collect();
    let rest_of_line: String = line.chars().skip(4).collect();
    let normalized = format!("{head}{rest_of_line}");
    let (label, rest) = if let Some(inner) = normalized.strip_prefix('(') {
        let close = inner.find(')')?;
        (&inner[..close], &inner[close + 1..])
    } else {
        let (end, separator) = normalized
            .char_indices()
            .find(|(_, c)| matches!(c, '.' | ')' | ':' | '、'))?;
        (&normalized[..end], &normalized[end + separator.len_utf8()..])
    };
    let is_letter = label.len() == 1 && label.chars().all(|c| c.is_ascii_alphabetic());
    let is_number = (1..=2).contains(&label.len()) && label.chars().all(|c| c.is_ascii_digit());
    if !(is_letter || is_number) || rest.trim().is_empty() {
        return None;
    }
    // `A.` must be followed by a space or text that is not a continuation of a word (`e.g.` is no label).
    if is_letter && label.chars().all(|c| c.is_ascii_lowercase()) && !rest.starts_with(' ') {
        return None;
    }
    Some((label.to_uppercase(), rest.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_label_styles() {
        for (text, labels) in [
            ("Q?\nA. one\nB. two\nC. three", vec!["A", "B", "C"]),
            ("Q?\nA) one\nB) two", vec!["A", "B"]),
            ("Q?\n(A) one\n(B) two", vec!["A", "B"]),
            (
                "Q?\n1. one\n2. two\n3. three\n4. four\n5. five",
                vec!["1", "2", "3", "4", "5"],
            ),
            ("問題文\n１．一つ目\n２．二つ目", vec!["1", "2"]),
            ("問題文\nＡ．一つ目\nＢ．二つ目", vec!["A", "B"]),
            ("問題文\n（Ａ）一つ目\n（Ｂ）二つ目", vec!["A", "B"]),
            ("問題文\n① 一つ目\n② 二つ目\n③ 三つ目", vec!["①", "②", "③"]),
            ("問題文\n- [ ] 一つ目\n- [x] 二つ目", vec!["", ""]),
            (
                "SQS と SNS、どちらを使うべきか\nA、SQS を使う\nB、SNS を使う",
                vec!["A", "B"],
            ),
        ] {
            let question = parse_question(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                question.choices.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(),
                labels,
                "{text}"
            );
            assert!(!question.stem.is_empty());
        }
    }

    #[test]
    fn circled_labels_are_shown_as_written() {
        assert_eq!(shown_label("②"), "②");
        assert_eq!(shown_label("B"), "B.");
        assert_eq!(shown_label("3"), "3.");
    }

    #[test]
    fn multi_line_stems_continued_choices_and_trailing_text() {
        let question = parse_question("A developer must…\nWhich is best? (Choose two.)\n\nA. Use SQS\n   with a DLQ\nB. Use SNS\nC. Use Kinesis\n\nAnswer: A").unwrap();
        assert_eq!(question.stem, "A developer must…\nWhich is best? (Choose two.)");
        assert_eq!(question.choices[0].text, "Use SQS with a DLQ");
        assert_eq!(question.choices.len(), 3);
        assert_eq!(question.picks, 2);
    }

    #[test]
    fn pick_counts_as_exam_sites_write_them() {
        let choices = "\nA. a\nB. b\nC. c\nD. d\nE. e";
        for (stem, picks) in [
            ("正しいものはどれか。２つ", 2),
            ("正しいものはどれか。3つ", 3),
            ("適切なものはどれですか。(2つ選択してください。)", 2),
            ("Which steps should the developer take? Select TWO.", 2),
            ("Which actions meet the requirements? (Choose 3)", 3),
            ("Which service should be used?", 1),
        ] {
            let question = parse_question(&format!("{stem}{choices}")).unwrap();
            assert_eq!(question.picks, picks, "{stem}");
            assert!(!question.all_that_apply, "{stem}");
        }
        let all = parse_question(&format!("当てはまるものをすべて選択してください。{choices}")).unwrap();
        assert!(all.all_that_apply);
    }

    #[test]
    fn bad_input_gets_a_clear_error() {
        assert_eq!(parse_question("  \n"), Err(ParseError::Empty));
        assert_eq!(parse_question(""), Err(ParseError::Empty));
        assert_eq!(parse_question("just a question"), Err(ParseError::NoChoices));
        assert!(matches!(parse_question("Q\nA. only"), Err(ParseError::OneChoice(_))));
        assert_eq!(parse_question("A. one\nB. two"), Err(ParseError::NoStem));
        assert_eq!(parse_question("Q\nA. a\0\nB. b"), Err(ParseError::NotText));
        // `e.g.` is not a choice label.
        assert_eq!(parse_question("e.g. this"), Err(ParseError::NoChoices));
        let many: String = (1..=27).map(|n| format!("\n{n}. choice {n}")).collect();
        assert_eq!(
            parse_question(&format!("Q?{many}")),
            Err(ParseError::TooManyChoices(27))
        );
        let binary = String::from_utf8_lossy(&[0xff, 0xfe, 0x00, 0x41, 0x2e, 0x20]).to_string();
        assert!(parse_question(&binary).is_err());
    }

    #[test]
    fn errors_speak_the_locale() {
        let error = parse_question("just a question").unwrap_err();
        assert_eq!(error.message(Locale::Ja), "選択肢が見つかりません");
        assert!(error.message(Locale::En).starts_with("no choices found"));
        let many = ParseError::TooManyChoices(30).message(Locale::Ja);
        assert!(many.contains("26") && many.contains("30"), "{many}");
    }
}
