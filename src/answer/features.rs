//! What the notes say about each choice, as a handful of numbers the model weighs (see `model`).
//!
//! The stem is searched first: the sections that match it best decide, and a section far below the best
//! hardly counts (its relevance is squared and its rank discounted). In those sections, a line that names
//! the choice's distinctive words supports it, a line the notes mark as wrong (`× …`) counts against it,
//! and a heading that names it supports it most. Beside that evidence: the older blended support over more
//! sections, plain BM25 of the stem with the choice, whether the choice is the kind of thing the stem asks
//! for (a number, a name, a procedure). Not its length: the bank's authors made the right answer the longest
//! far more often than real exams do.

use std::collections::HashMap;

use super::units::{Unit, choice_units, coverage, distinctive_text, with_typos_corrected};
use super::{Evidence, McQuestion};
use crate::search::analysis::{Script, normalize, words};
use crate::search::synonyms::mentions;
use crate::search::{Hit, SectionSearcher};

/// How many numbers describe a choice.
pub const FEATURE_COUNT: usize = 6;
/// Their names, in order (the fitting harness prints weights under them).
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] =
    ["support", "top_line", "top_wrong", "top_heading", "bm25", "type_fit"];
/// The features that are evidence for the choice being true: a negated question flips them.
const EVIDENCE_FEATURES: usize = 5;

/// How many sections matching the stem are weighed.
const SCENARIO_SECTIONS: usize = 40;
/// Of those, how many are read for evidence (the rest only give a relevance to sections found per choice).
const EVIDENCE_SECTIONS: usize = 8;
/// The best-matching sections, and how much each counts by rank: the first decides most.
const TOP_RANK_WEIGHTS: [f32; 3] = [1.0, 0.6, 0.35];
/// A top section's line naming this much of the choice (after the rank weighting) is cited as its evidence.
const DECISIVE_LINE: f32 = 0.5;

/// One choice's features, oriented so that a higher value means "more likely the answer", and the
/// section that supports it most.
#[derive(Debug, Clone)]
pub struct ChoiceFeatures {
    pub values: [f32; FEATURE_COUNT],
    pub evidence: Option<Evidence>,
}

/// The features of every choice of `question`, in order.
pub fn choice_features(searcher: &SectionSearcher, question: &McQuestion) -> Vec<ChoiceFeatures> {
    let stem = with_typos_corrected(searcher, &question.stem);
    let scenario = searcher.search(&stem, SCENARIO_SECTIONS).hits;
    let top_score = scenario.first().map_or(1.0, |h| h.score).max(f32::EPSILON);
    let relevance: HashMap<&str, f32> = scenario.iter().map(|h| (h.id.as_str(), h.score / top_score)).collect();
    let units: Vec<Vec<Unit>> = question
        .choices
        .iter()
        .map(|c| choice_units(searcher, &question.stem, &c.text, &question.choices))
        .collect();

    // Candidate sections: the best for the stem, plus the best for the stem and each choice together.
    let mut candidates: Vec<Hit> = scenario.iter().take(EVIDENCE_SECTIONS).cloned().collect();
    let mut bm25 = Vec::with_capacity(question.choices.len());
    for (choice, units) in question.choices.iter().zip(&units) {
        let query = format!("{stem}\n{}", choice_query(&choice.text, units));
        let hits = searcher.search(&query, 3).hits;
        bm25.push(hits.first().map_or(0.0, |h| h.score));
        for hit in hits {
            if relevance.contains_key(hit.id.as_str()) && !candidates.iter().any(|c| c.id == hit.id) {
                candidates.push(hit);
            }
        }
    }
    let sections: Vec<SectionText> = candidates.iter().map(SectionText::new).collect();
    let reader = Reader {
        candidates: &candidates,
        sections: &sections,
        relevance: &relevance,
        stem_terms: stem_terms(&question.stem, &question.choices),
        top: scenario.len().min(TOP_RANK_WEIGHTS.len()),
    };
    let best_bm25 = bm25.iter().copied().fold(f32::EPSILON, f32::max);
    let asked = Asked::of(&question.stem);
    question
        .choices
        .iter()
        .zip(&units)
        .zip(&bm25)
        .map(|((choice, units), bm25)| {
            let choice_negative = is_negative(&normalize(&choice.text));
            let (support, mut evidence) = reader.support(units, choice_negative);
            let (line, wrong, heading, decisive) = reader.top_evidence(units, choice_negative);
            // A line of a top section that names the choice is the evidence a reader would cite.
            if line >= DECISIVE_LINE {
                evidence = decisive.or(evidence);
            }
            let mut values = [support, line, wrong, heading, bm25 / best_bm25, asked.fit(&choice.text)];
            if question.negated {
                values.iter_mut().take(EVIDENCE_FEATURES).for_each(|v| *v = -*v);
            }
            ChoiceFeatures { values, evidence }
        })
        .collect()
}

/// The choice as searched beside the stem: its distinctive words when it has any, else all of it.
fn choice_query(text: &str, units: &[Unit]) -> String {
    let distinctive = distinctive_text(units);
    if distinctive.is_empty() {
        text.to_string()
    } else {
        distinctive
    }
}

/// The candidate sections of one question, read once for all its choices.
struct Reader<'a> {
    candidates: &'a [Hit],
    sections: &'a [SectionText],
    relevance: &'a HashMap<&'a str, f32>,
    stem_terms: Vec<String>,
    /// How many of the first candidates are the stem's top sections.
    top: usize,
}

impl Reader<'_> {
    /// The blended support over all candidates (relevance × how strongly the section states the choice)
    /// and the section that gives the most.
    fn support(&self, units: &[Unit], choice_negative: bool) -> (f32, Option<Evidence>) {
        let mut best: (f32, Option<Evidence>) = (0.0, None);
        for (hit, section) in self.candidates.iter().zip(self.sections) {
            let relevance = self.relevance.get(hit.id.as_str()).copied().unwrap_or(0.0);
            let (support, fact) = section.support(units, choice_negative, &self.stem_terms);
            let score = relevance * support;
            if score > best.0 || (best.1.is_none() && score != 0.0) {
                best = (score, Some(Evidence::from_hit(hit, fact)));
            }
        }
        best
    }

    /// In the stem's top sections, weighted by rank and squared relevance: the best line naming the
    /// choice, the best `×` line naming it, how much of it the heading names, and where that best line is.
    fn top_evidence(&self, units: &[Unit], choice_negative: bool) -> (f32, f32, f32, Option<Evidence>) {
        let (mut line, mut wrong, mut heading) = (0.0f32, 0.0f32, 0.0f32);
        let mut evidence = None;
        let top = self
            .candidates
            .iter()
            .zip(self.sections)
            .zip(TOP_RANK_WEIGHTS)
            .take(self.top);
        for ((hit, section), rank_weight) in top {
            let relevance = self.relevance.get(hit.id.as_str()).copied().unwrap_or(0.0);
            let weight = rank_weight * relevance * relevance;
            let (named, marked, fact) = section.named(units, choice_negative, &self.stem_terms);
            if weight * named > line {
                line = weight * named;
                evidence = Some(Evidence::from_hit(hit, fact));
            }
            wrong = wrong.max(weight * marked);
            heading = heading.max(weight * coverage(units, &section.title));
        }
        (line, wrong, heading, evidence)
    }
}

/// The stem's content words that no choice repeats: what the question asks about.
fn stem_terms(stem: &str, choices: &[super::McChoice]) -> Vec<String> {
    let choices: Vec<String> = choices.iter().map(|c| normalize(&c.text)).collect();
    words(stem)
        .into_iter()
        .filter(|w| matches!(w.script, Script::Word | Script::Kanji | Script::Katakana) && w.text.chars().count() >= 2)
        .filter(|w| !choices.iter().any(|c| mentions(c, &w.text)))
        .map(|w| w.text)
        .collect()
}

/// What kind of answer the stem asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Asked {
    /// `最大は`, `何秒`, "how many": a choice without a number does not fit.
    Number,
    /// `どのサービス`, "which API": a name, not a sentence.
    Name,
    /// `どうすれば`, "how should": a sentence saying what to do.
    Procedure,
    Anything,
}

impl Asked {
    fn of(stem: &str) -> Asked {
        let text = normalize(stem);
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let any = |markers: &[&str]| markers.iter().any(|m| compact.contains(m) || text.contains(m));
        if any(&[
            "最大は",
            "最小は",
            "上限は",
            "最大何",
            "最大で何",
            "最大どれ",
            "何秒",
            "何分",
            "何時間",
            "何日",
            "何回",
            "何個",
            "何件",
            "何mb",
            "何kb",
            "いくつ",
            "どれくらい",
            "どのくらい",
            "how many",
            "how long",
            "how much",
            "maximum",
            "minimum",
        ]) {
            Asked::Number
        } else if any(&[
            "どのサービス",
            "どのapi",
            "どのメトリクス",
            "どのコマンド",
            "どのヘッダー",
            "どのaws",
            "which service",
            "which aws service",
            "which api",
            "which metric",
            "which command",
            "which header",
        ]) {
            Asked::Name
        } else if any(&[
            "どうすれば",
            "どうすべき",
            "どのようにすべき",
            "どのようにすれば",
            "方法はどれ",
            "手順",
            "how should",
            "what should",
            "which solution",
            "which approach",
            "which steps",
        ]) {
            Asked::Procedure
        } else {
            Asked::Anything
        }
    }

    /// 1 when the choice is the kind of answer asked for, 0 otherwise (and for every choice when the
    /// stem asks for anything).
    fn fit(self, choice: &str) -> f32 {
        let fits = match self {
            Asked::Number => choice.chars().any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c)),
            Asked::Name => is_name_like(choice),
            Asked::Procedure => !is_name_like(choice),
            Asked::Anything => false,
        };
        f32::from(u8::from(fits))
    }
}

/// A short name (`ValidateService`, `Amazon SQS`, `X-Ray デーモン`) rather than a sentence.
fn is_name_like(choice: &str) -> bool {
    let hiragana = choice.chars().filter(|c| ('\u{3041}'..='\u{3096}').contains(c)).count();
    choice.split_whitespace().count() <= 4 && choice.chars().count() <= 40 && hiragana <= 2
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

/// Lines that the notes mark as a wrong answer: `× Scan は遅い`, `NG: …`, `誤り: …`.
pub(crate) fn is_marked_wrong(normalized_line: &str) -> bool {
    let content =
        normalized_line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '*' | '+' | '•' | '・'));
    ["×", "✗", "✕", "❌", "ng:", "ng ", "誤り", "誤:", "不正解", "wrong:"]
        .iter()
        .any(|marker| content.starts_with(marker))
}

/// How much of the choice a clause of the line names that also holds one of the stem's own words
/// (`最大 365 日` for "最大は?"): it ties the choice to what is asked.
fn clause_link(normalized_line: &str, units: &[Unit], stem_terms: &[String]) -> f32 {
    normalized_line
        .split(['、', '。', ',', ';', '(', ')', ':'])
        .filter(|clause| stem_terms.iter().any(|t| mentions(clause, t)))
        .map(|clause| coverage(units, clause))
        .fold(0.0f32, f32::max)
}

/// A candidate section's text, normalised once.
struct SectionText {
    whole: String,
    title: String,
    lines: Vec<(String, String, bool)>, // (original, normalised, marked as wrong)
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
            title: normalize(&hit.title),
            lines,
        }
    }

    /// How fully the best plain line and the best `×` line name the choice (a line of the opposite
    /// polarity counts less, and a line counts fully only where a clause also holds a word of the stem).
    fn named(&self, units: &[Unit], choice_negative: bool, stem_terms: &[String]) -> (f32, f32, String) {
        let (mut plain, mut marked) = (0.0f32, 0.0f32);
        let mut fact = String::new();
        for (original, normalized, wrong) in &self.lines {
            if *wrong {
                // `× ApplicationStart: 起動用。確認は ValidateService` marks what comes before the colon.
                let claim = normalized.split([':', '。']).next().unwrap_or(normalized);
                marked = marked.max(coverage(units, claim));
            } else {
                let mut line = coverage(units, normalized) * (0.5 + 0.5 * clause_link(normalized, units, stem_terms));
                if is_negative(normalized) != choice_negative {
                    line *= 0.4;
                }
                if line > plain {
                    plain = line;
                    fact.clone_from(original);
                }
            }
        }
        (plain, marked, fact)
    }

    /// How strongly the section states the choice, and the line that states it best.
    /// `stem_terms` are the question's own words; a clause of a fact that holds both one of them and the
    /// choice (`最大 365 日` for "最大は?") ties the choice to what is asked, more than the line alone.
    fn support(&self, units: &[Unit], choice_negative: bool, stem_terms: &[String]) -> (f32, String) {
        if units.iter().map(|u| u.weight).sum::<f32>() <= 0.0 {
            return (0.0, String::new());
        }
        let whole = coverage(units, &self.whole);
        let mut best_line = (0.0f32, String::new());
        let mut worst_line = 0.0f32;
        for (original, normalized, wrong) in &self.lines {
            let mut line = coverage(units, normalized) * (0.7 + 0.3 * clause_link(normalized, units, stem_terms));
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
