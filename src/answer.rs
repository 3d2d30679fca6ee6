//! Ranking the choices of an exam-style multiple-choice question by the evidence in the notes.
//!
//! Word overlap between a choice and the notes barely beats chance: distractors name real services too.
//! So a choice is scored by how well it matches the sections that match the *question*: the stem is searched
//! first, and each of those sections counts in proportion to how well it matches the stem; within a
//! section, the single line (fact) that best matches the choice counts most, and a line the notes mark as
//! the wrong answer (`× …`) counts against it. Words every choice shares, or that merely echo the stem, count
//! little; rare words count more (inverse document frequency). A negated question (`誤っているもの`, `NOT`)
//! picks the least supported choices.

use std::collections::HashMap;

use serde::Serialize;
use tantivy::collector::Count;
use unicode_normalization::UnicodeNormalization;

use crate::analysis::{Script, bigram_tokens, normalize, words};
use crate::questions::Question;
use crate::questions::stem::{is_negated, picks_requested};
use crate::search::{Hit, SectionSearcher};
use crate::synonyms::mentions;

/// A question as a user pastes it: the stem, then labelled choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McQuestion {
    pub stem: String,
    pub choices: Vec<McChoice>,
    /// How many choices to pick (`2 つ選択` → 2).
    pub picks: usize,
    /// Whether the question asks for the false or unsuitable choice.
    pub negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McChoice {
    pub label: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the question is empty")]
    Empty,
    #[error("no choices found: put each choice on its own line, labelled `A.`, `B)`, `(C)`, `1.` or `- [ ]`")]
    NoChoices,
    #[error("only one choice found (`{0}`): a multiple-choice question needs at least two")]
    OneChoice(String),
    #[error("no question text before the first choice")]
    NoStem,
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
            negated: is_negated(&question.stem),
        }
    }
}

/// Reads a pasted question: every line before the first labelled choice is the stem; an unlabelled line
/// right after a choice continues it; text after a blank line following the choices is ignored.
pub fn parse_question(text: &str) -> Result<McQuestion, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    let mut stem_lines: Vec<&str> = Vec::new();
    let mut choices: Vec<McChoice> = Vec::new();
    let mut choices_closed = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((label, body)) = choice_label(trimmed) {
            if choices_closed {
                continue;
            }
            choices.push(McChoice { label, text: body });
        } else if choices.is_empty() {
            stem_lines.push(trimmed);
        } else if trimmed.is_empty() {
            choices_closed = true;
        } else if !choices_closed && let Some(last) = choices.last_mut() {
            last.text.push(' ');
            last.text.push_str(trimmed);
        }
    }
    let stem = stem_lines.join("\n").trim().to_string();
    match choices.len() {
        0 => return Err(ParseError::NoChoices),
        1 => return Err(ParseError::OneChoice(choices[0].text.clone())),
        _ => {}
    }
    if stem.is_empty() {
        return Err(ParseError::NoStem);
    }
    let picks = picks_requested(&stem).min(choices.len() - 1).max(1);
    let negated = is_negated(&stem);
    Ok(McQuestion {
        stem,
        choices,
        picks,
        negated,
    })
}

/// `A. text`, `A) text`, `(A) text`, `A: text`, `1. text`, `１．text`, `① text`, `- [ ] text` → label and text.
fn choice_label(line: &str) -> Option<(String, String)> {
    for task in ["- [ ]", "- [x]", "- [X]", "* [ ]", "* [x]"] {
        if let Some(rest) = line.strip_prefix(task) {
            return Some((String::new(), rest.trim().to_string()));
        }
    }
    let first = line.chars().next()?;
    if ('①'..='⑳').contains(&first) {
        let number = first as u32 - '①' as u32 + 1;
        return Some((number.to_string(), line[first.len_utf8()..].trim().to_string()));
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

/// Every choice with its support, and the picks.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Ranking {
    pub best: Vec<String>,
    pub choices: Vec<RankedChoice>,
    #[serde(skip)]
    pub negated: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RankedChoice {
    pub label: String,
    pub text: String,
    /// Support in the notes, 0 (none) to about 1 (the best-matching section states it).
    pub score: f32,
    pub evidence: Option<Evidence>,
}

/// The section that supports a choice most.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    pub id: String,
    pub title: String,
    pub path: String,
    pub line: u64,
    /// The line of the section that matches the choice best.
    #[serde(skip)]
    pub fact: String,
}

/// How many sections matching the stem are weighed.
const SCENARIO_SECTIONS: usize = 40;
/// Of those, how many are read for evidence (the rest only give a relevance to sections found per choice).
const EVIDENCE_SECTIONS: usize = 8;

/// Ranks the choices of `question` by the evidence in the notes `searcher` searches.
pub fn rank(searcher: &SectionSearcher, question: &McQuestion) -> Ranking {
    let scenario = searcher.search(&question.stem, SCENARIO_SECTIONS).hits;
    let top_score = scenario.first().map_or(1.0, |h| h.score).max(f32::EPSILON);
    let relevance: HashMap<&str, f32> = scenario.iter().map(|h| (h.id.as_str(), h.score / top_score)).collect();

    // Candidate sections: the best for the stem, plus the best for the stem and each choice together.
    let mut candidates: Vec<Hit> = scenario.iter().take(EVIDENCE_SECTIONS).cloned().collect();
    for choice in &question.choices {
        for hit in searcher.search(&format!("{}\n{}", question.stem, choice.text), 3).hits {
            if relevance.contains_key(hit.id.as_str()) && !candidates.iter().any(|c| c.id == hit.id) {
                candidates.push(hit);
            }
        }
    }
    let sections: Vec<SectionText> = candidates.iter().map(SectionText::new).collect();

    let stem_terms = stem_terms(&question.stem, &question.choices);
    let units: Vec<Vec<Unit>> = question
        .choices
        .iter()
        .map(|c| choice_units(searcher, &question.stem, &c.text, &question.choices))
        .collect();
    let mut ranked: Vec<RankedChoice> = question
        .choices
        .iter()
        .zip(&units)
        .map(|(choice, units)| {
            let mut best: (f32, Option<Evidence>) = (0.0, None);
            let choice_negative = is_negative(&normalize(&choice.text));
            for (hit, section) in candidates.iter().zip(&sections) {
                let relevance = relevance.get(hit.id.as_str()).copied().unwrap_or(0.0);
                let (support, fact) = section.support(units, choice_negative, &stem_terms);
                let score = relevance * support;
                if score > best.0 || (best.1.is_none() && score != 0.0) {
                    best = (
                        score,
                        Some(Evidence {
                            id: hit.id.clone(),
                            title: hit.title.clone(),
                            path: hit.path.clone(),
                            line: hit.line,
                            fact,
                        }),
                    );
                }
            }
            RankedChoice {
                label: choice.label.clone(),
                text: choice.text.clone(),
                score: best.0,
                evidence: best.1,
            }
        })
        .collect();
    for (index, choice) in ranked.iter_mut().enumerate() {
        if choice.label.is_empty() {
            choice.label = ((b'A' + index as u8) as char).to_string();
        }
    }
    let mut order: Vec<usize> = (0..ranked.len()).collect();
    order.sort_by(|&a, &b| {
        let by_score = ranked[b].score.total_cmp(&ranked[a].score);
        (if question.negated { by_score.reverse() } else { by_score }).then(a.cmp(&b))
    });
    let best = order
        .iter()
        .take(question.picks)
        .map(|&i| ranked[i].label.clone())
        .collect();
    Ranking {
        best,
        choices: ranked,
        negated: question.negated,
    }
}

/// The stem's content words that no choice repeats: what the question asks about.
fn stem_terms(stem: &str, choices: &[McChoice]) -> Vec<String> {
    let choices: Vec<String> = choices.iter().map(|c| normalize(&c.text)).collect();
    words(stem)
        .into_iter()
        .filter(|w| matches!(w.script, Script::Word | Script::Kanji | Script::Katakana) && w.text.chars().count() >= 2)
        .filter(|w| !choices.iter().any(|c| mentions(c, &w.text)))
        .map(|w| w.text)
        .collect()
}

/// A distinctive word of a choice, with its weight and the words it may appear as in the notes.
#[derive(Debug, Clone)]
struct Unit {
    forms: Vec<String>,
    weight: f32,
}

fn choice_units(searcher: &SectionSearcher, stem: &str, choice: &str, all: &[McChoice]) -> Vec<Unit> {
    let stem = normalize(stem);
    let others: Vec<String> = all.iter().map(|c| normalize(&c.text)).collect();
    let total_docs = searcher.index.searcher().num_docs().max(1) as f32;
    let mut units: Vec<Unit> = Vec::new();
    for word in words(choice) {
        let length = word.text.chars().count();
        let content = match word.script {
            Script::Word => length >= 2 || word.text.chars().all(|c| c.is_ascii_digit()),
            Script::Kanji | Script::Katakana => length >= 2,
            _ => false,
        };
        if !content || units.iter().any(|u| u.forms[0] == word.text) {
            continue;
        }
        let sharing = others.iter().filter(|c| mentions(c, &word.text)).count().max(1);
        let mut weight = 1.0 - (sharing - 1) as f32 / all.len().max(1) as f32;
        if sharing == all.len() && all.len() > 1 {
            weight = 0.0;
        }
        if mentions(&stem, &word.text) {
            weight *= 0.3;
        }
        let document_frequency = document_frequency(searcher, &word.text) as f32;
        weight *= (1.0 + total_docs / (1.0 + document_frequency)).ln();
        let mut forms = vec![word.text.clone()];
        forms.extend(
            searcher
                .synonyms
                .alternatives(&word.text)
                .into_iter()
                .map(str::to_string),
        );
        units.push(Unit { forms, weight });
    }
    units
}

/// In how many sections a word occurs (as a phrase of its bigrams).
fn document_frequency(searcher: &SectionSearcher, word: &str) -> usize {
    let fields = searcher.index.fields;
    let terms: Vec<(usize, tantivy::Term)> = bigram_tokens(word)
        .into_iter()
        .map(|t| (t.position, tantivy::Term::from_field_text(fields.body, &t.text)))
        .collect();
    let query: Box<dyn tantivy::query::Query> = match terms.len() {
        0 => return 0,
        1 => Box::new(tantivy::query::TermQuery::new(
            terms[0].1.clone(),
            tantivy::schema::IndexRecordOption::Basic,
        )),
        _ => Box::new(tantivy::query::PhraseQuery::new_with_offset(terms)),
    };
    searcher.index.searcher().search(&query, &Count).unwrap_or(0)
}

/// A candidate section's text, normalised once.
struct SectionText {
    whole: String,
    lines: Vec<(String, String, bool)>, // (original, normalised, marked as wrong)
}

/// Whether a statement is negative (`読めない`, `不要`, `cannot`): a choice that contradicts the polarity
/// of the fact it matches is not supported by it, however many words they share.
fn is_negative(normalized: &str) -> bool {
    [
        "ない",
        "なく",
        "ません",
        "不可",
        "不要",
        "できず",
        "cannot",
        "can't",
        "not ",
        "never",
    ]
    .iter()
    .any(|marker| normalized.contains(marker))
}

impl SectionText {
    fn new(hit: &Hit) -> SectionText {
        let lines = hit
            .text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let normalized = normalize(l);
                let marked_wrong = is_marked_wrong(&normalized);
                (l.trim().to_string(), normalized, marked_wrong)
            })
            .collect();
        SectionText {
            whole: normalize(&format!("{}\n{}", hit.heading_path, hit.text)),
            lines,
        }
    }

    /// How strongly the section states the choice, and the line that states it best.
    /// `stem_terms` are the question's own words; a clause of a fact that holds both one of them and the
    /// choice (`最大 365 日` for "最大は?") ties the choice to what is asked, more than the line alone.
    fn support(&self, units: &[Unit], choice_negative: bool, stem_terms: &[String]) -> (f32, String) {
        let total: f32 = units.iter().map(|u| u.weight).sum();
        if total <= 0.0 {
            return (0.0, String::new());
        }
        let coverage = |text: &str| units.iter().map(|u| u.weight * presence(text, u)).sum::<f32>() / total;
        let whole = coverage(&self.whole);
        let mut best_line = (0.0f32, String::new());
        let mut worst_line = 0.0f32;
        for (original, normalized, wrong) in &self.lines {
            let clause_link = normalized
                .split(['、', '。', ',', ';', '(', ')', ':'])
                .filter(|clause| stem_terms.iter().any(|t| mentions(clause, t)))
                .map(coverage)
                .fold(0.0f32, f32::max);
            let mut line = coverage(normalized) * (0.7 + 0.3 * clause_link);
            if is_negative(normalized) != choice_negative {
                line *= 0.4;
            }
            if *wrong {
                worst_line = worst_line.max(line);
            } else if line > best_line.0 {
                best_line = (line, original.clone());
            }
        }
        if worst_line > best_line.0 {
            (0.4 * whole - 0.8 * worst_line, best_line.1)
        } else {
            (0.6 * whole + 0.4 * best_line.0, best_line.1)
        }
    }
}

/// Lines that the notes mark as a wrong answer: `× Scan は遅い`, `NG: …`, `誤り: …`.
pub(crate) fn is_marked_wrong(normalized_line: &str) -> bool {
    let content =
        normalized_line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '*' | '+' | '•' | '・'));
    ["×", "✗", "✕", "❌", "ng:", "ng ", "誤り", "誤:", "不正解", "wrong:"]
        .iter()
        .any(|marker| content.starts_with(marker))
}

/// How much of a unit occurs in a text: 1 for the word or a synonym; for a longer Japanese word, the share
/// of its bigrams found (保持期間 in a text saying 保持期限 is half there).
fn presence(text: &str, unit: &Unit) -> f32 {
    let mut best = 0.0f32;
    for form in &unit.forms {
        if mentions(text, form) {
            return 1.0;
        }
        let chars: Vec<char> = form.chars().collect();
        if chars.len() >= 3 && chars.iter().all(|c| Script::of(*c).is_cjk()) {
            let bigrams: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
            let found = bigrams.iter().filter(|b| text.contains(b.as_str())).count();
            best = best.max(0.7 * found as f32 / bigrams.len() as f32);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::NoteIndex;
    use crate::notes::NoteSet;
    use crate::synonyms::Synonyms;

    #[test]
    fn parses_all_label_styles() {
        for (text, labels) in [
            ("Q?\nA. one\nB. two\nC. three", vec!["A", "B", "C"]),
            ("Q?\nA) one\nB) two", vec!["A", "B"]),
            ("Q?\n(A) one\n(B) two", vec!["A", "B"]),
            ("Q?\n1. one\n2. two", vec!["1", "2"]),
            ("問題文\n１．一つ目\n２．二つ目", vec!["1", "2"]),
            ("問題文\nＡ．一つ目\nＢ．二つ目", vec!["A", "B"]),
            ("問題文\n（Ａ）一つ目\n（Ｂ）二つ目", vec!["A", "B"]),
            ("問題文\n① 一つ目\n② 二つ目", vec!["1", "2"]),
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
    fn multi_line_stems_continued_choices_and_trailing_text() {
        let question = parse_question("A developer must…\nWhich is best? (Choose two.)\n\nA. Use SQS\n   with a DLQ\nB. Use SNS\nC. Use Kinesis\n\nAnswer: A").unwrap();
        assert_eq!(question.stem, "A developer must…\nWhich is best? (Choose two.)");
        assert_eq!(question.choices[0].text, "Use SQS with a DLQ");
        assert_eq!(question.choices.len(), 3);
        assert_eq!(question.picks, 2);
    }

    #[test]
    fn bad_input_gets_a_clear_error() {
        assert_eq!(parse_question("  \n"), Err(ParseError::Empty));
        assert_eq!(parse_question("just a question"), Err(ParseError::NoChoices));
        assert!(matches!(parse_question("Q\nA. only"), Err(ParseError::OneChoice(_))));
        assert_eq!(parse_question("A. one\nB. two"), Err(ParseError::NoStem));
        // `e.g.` is not a choice label.
        assert_eq!(parse_question("e.g. this"), Err(ParseError::NoChoices));
    }

    const NOTES: &str = "# Lambda\n\n## Lambda の環境変数を平文で見せたくない場合\n\n- KMS の暗号化ヘルパーで環境変数を暗号化する\n- × Secrets Manager のローテーションは平文表示を防ぐ仕組みではない\n\n## Lambda の一時ファイル\n\n- /tmp に書く (既定 512 MB、最大 10 GB)\n\n# Kinesis\n\n## データ保持期間\n\n- 既定 24 時間、最大 365 日\n- 保持期間を過ぎたレコードは読めない\n\n## シャードの分割\n\n- トラフィック増には シャード を分割する\n";

    fn ranking(text: &str) -> Ranking {
        let index = NoteIndex::in_memory(&NoteSet::from_texts([("aws.md", NOTES)])).unwrap();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        rank(&searcher, &parse_question(text).unwrap())
    }

    #[test]
    fn the_choice_the_scenario_section_states_wins() {
        let ranking = ranking(
            "Lambda の環境変数に DB パスワードがある。チーム外の人に平文で見せないには?\nA. KMS の暗号化ヘルパーで暗号化する\nB. Secrets Manager のローテーションを有効にする\nC. /tmp に保存する\nD. シャードを分割する",
        );
        assert_eq!(ranking.best, ["A"]);
        let evidence = ranking.choices[0].evidence.as_ref().unwrap();
        assert_eq!(evidence.id, "aws.md#lambda-の環境変数を平文で見せたくない場合");
        assert!(ranking.choices[0].score > ranking.choices[1].score);
    }

    #[test]
    fn negated_questions_pick_the_unsupported_choice() {
        let ranking = ranking(
            "Kinesis Data Streams の保持期間について誤っているものはどれか\nA. 既定は 24 時間\nB. 最大 365 日まで延ばせる\nC. 保持期間を過ぎても読める",
        );
        assert_eq!(ranking.best, ["C"]);
    }
}
