//! The distinctive words of a choice ("units"): what sets it apart from the other choices, each weighted
//! by how rare it is in the notes and by how many other choices share it (a word every choice shares
//! weighs nothing, so long choices are compared on the clause where they differ). A mistyped API name
//! (`BatchWriteltem`) also matches the notes' word one edit away.

use tantivy::collector::Count;

use super::McChoice;
use crate::search::SectionSearcher;
use crate::search::analysis::{Script, bigram_tokens, normalize, words};
use crate::search::synonyms::mentions;

/// A distinctive word of a choice, with its weight and the words it may appear as in the notes.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub forms: Vec<String>,
    pub weight: f32,
}

/// The shortest Latin word matched with one edit: shorter words differ by one letter too often (`get`/`set`).
const TYPO_MIN_CHARS: usize = 6;
/// At most this many of the notes' words stand in for one mistyped word.
const TYPO_MAX_FORMS: usize = 3;

pub(super) fn choice_units(searcher: &SectionSearcher, stem: &str, choice: &str, all: &[McChoice]) -> Vec<Unit> {
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
        let mut forms = vec![word.text.clone()];
        if word.script == Script::Word {
            forms.extend(typo_corrections(searcher, &word.text));
        }
        forms.extend(
            searcher
                .synonyms
                .alternatives(&word.text)
                .into_iter()
                .map(str::to_string),
        );
        let frequency = forms
            .iter()
            .take(1 + TYPO_MAX_FORMS)
            .map(|f| document_frequency(searcher, f))
            .max()
            .unwrap_or(0) as f32;
        weight *= (1.0 + total_docs / (1.0 + frequency)).ln();
        units.push(Unit { forms, weight });
    }
    units
}

/// The text with, after it, the notes' spelling of each mistyped long Latin word in it (`BatchWriteltem` →
/// `batchwriteitem`), so that searching it finds what the writer meant.
pub(super) fn with_typos_corrected(searcher: &SectionSearcher, text: &str) -> String {
    let mut out = text.to_string();
    for word in words(text).into_iter().filter(|w| w.script == Script::Word) {
        for correction in typo_corrections(searcher, &word.text).into_iter().take(1) {
            out.push(' ');
            out.push_str(&correction);
        }
    }
    out
}

/// The notes' words one edit (Damerau–Levenshtein) away from a long Latin word the notes never use.
fn typo_corrections(searcher: &SectionSearcher, word: &str) -> Vec<String> {
    let vocabulary = &searcher.index.vocabulary.counts;
    let length = word.chars().count();
    if length < TYPO_MIN_CHARS || vocabulary.contains_key(word) {
        return Vec::new();
    }
    let mut found: Vec<(&u32, &String)> = vocabulary
        .iter()
        .filter(|(known, _)| known.len().abs_diff(word.len()) <= 2 && known.chars().count().abs_diff(length) <= 1)
        .filter(|(known, _)| damerau_levenshtein(word, known) <= 1)
        .map(|(known, count)| (count, known))
        .collect();
    found.sort_by(|a, b| b.0.cmp(a.0).then(a.1.cmp(b.1)));
    found.into_iter().take(TYPO_MAX_FORMS).map(|(_, w)| w.clone()).collect()
}

/// Edit distance counting a swap of two neighbouring characters as one edit (optimal string alignment).
pub(super) fn damerau_levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
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

/// How much of a unit occurs in a text: 1 for the word or a synonym; for a longer Japanese word, the share
/// of its bigrams found (保持期間 in a text saying 保持期限 is half there).
pub(super) fn presence(text: &str, unit: &Unit) -> f32 {
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

/// The weighted share of the units that occur in a text.
pub(super) fn coverage(units: &[Unit], text: &str) -> f32 {
    let total: f32 = units.iter().map(|u| u.weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    units.iter().map(|u| u.weight * presence(text, u)).sum::<f32>() / total
}

/// The choice's distinctive words, most distinctive first (for a search that ignores shared wording).
pub(super) fn distinctive_text(units: &[Unit]) -> String {
    units
        .iter()
        .filter(|u| u.weight > 0.0)
        .map(|u| u.forms[0].as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swap_or_one_wrong_letter_is_one_edit() {
        assert_eq!(damerau_levenshtein("batchwriteltem", "batchwriteitem"), 1);
        assert_eq!(damerau_levenshtein("projcetion", "projection"), 1);
        assert_eq!(damerau_levenshtein("getitem", "getitem"), 0);
        assert_eq!(damerau_levenshtein("query", "scan"), 5);
        assert_eq!(damerau_levenshtein("", "abc"), 3);
    }
}
