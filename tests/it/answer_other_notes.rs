//! `answer` pointed at notes another group might write, in another shape than ours (outline bullets, topic
//! headings, no `×` lines, no scenario headings: tests/fixtures/other-notes/), on exam questions about them
//! (tests/fixtures/other-notes-questions/). It must beat the plain baseline a reader would try first: BM25 of
//! question + choice over the same sections, picking the choice whose best section scores highest. The
//! model's weights were fitted on our bank and were not refitted for these notes. The fixture lives under
//! tests/fixtures/, not tests/data/: it is a notes corpus of its own that states many of the facts our notes
//! state, and its questions are never asked of the shipped notes.

use std::collections::HashMap;

use tsumiage::answer::{McQuestion, rank};
use tsumiage::notes::{NoteSet, load_dir, parse_note};
use tsumiage::questions::{Question, parse_bank};
use tsumiage::search::SectionSearcher;
use tsumiage::search::analysis::bigram_tokens;
use tsumiage::search::index::{NoteIndex, searchable_sections};
use tsumiage::search::synonyms::Synonyms;

use crate::util::repo_root;

/// Okapi BM25 (k1 = 1.2, b = 0.75) over the sections' character bigrams, written out here so the
/// baseline owes nothing to tsumiage's own ranking.
struct PlainBm25 {
    sections: Vec<HashMap<String, f64>>,
    lengths: Vec<f64>,
    document_frequency: HashMap<String, f64>,
    average_length: f64,
}

impl PlainBm25 {
    fn new(set: &NoteSet) -> PlainBm25 {
        let mut sections = Vec::new();
        let mut lengths = Vec::new();
        let mut document_frequency: HashMap<String, f64> = HashMap::new();
        for (_, section) in searchable_sections(set) {
            let mut counts: HashMap<String, f64> = HashMap::new();
            let text = format!("{}\n{}", section.heading_path_display(), section.text);
            for token in bigram_tokens(&text) {
                *counts.entry(token.text).or_default() += 1.0;
            }
            for term in counts.keys() {
                *document_frequency.entry(term.clone()).or_default() += 1.0;
            }
            lengths.push(counts.values().sum());
            sections.push(counts);
        }
        let average_length = lengths.iter().sum::<f64>() / lengths.len().max(1) as f64;
        PlainBm25 {
            sections,
            lengths,
            document_frequency,
            average_length,
        }
    }

    /// The score of the best-matching section for a query.
    fn best(&self, query: &str) -> f64 {
        let terms: Vec<String> = bigram_tokens(query).into_iter().map(|t| t.text).collect();
        let n = self.sections.len() as f64;
        let mut best = 0.0f64;
        for (counts, length) in self.sections.iter().zip(&self.lengths) {
            let mut score = 0.0;
            for term in &terms {
                let Some(tf) = counts.get(term) else { continue };
                let df = self.document_frequency[term];
                let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
                score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / self.average_length));
            }
            best = best.max(score);
        }
        best
    }

    fn pick(&self, question: &Question) -> Vec<String> {
        let mut scored: Vec<(f64, String)> = question
            .choices
            .iter()
            .map(|c| {
                (
                    self.best(&format!("{}\n{}", question.stem, c.text)),
                    c.label.to_string(),
                )
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let picks = question.correct_labels().len().max(1);
        let mut labels: Vec<String> = scored.into_iter().take(picks).map(|(_, l)| l).collect();
        labels.sort();
        labels
    }
}

fn questions() -> Vec<Question> {
    let path = repo_root().join("tests/fixtures/other-notes-questions/questions.md");
    let note = parse_note("questions.md", &std::fs::read_to_string(path).unwrap()).0;
    parse_bank(&[note]).0
}

#[test]
fn answer_beats_plain_bm25_on_notes_of_another_shape() {
    let notes = load_dir(&repo_root().join("tests/fixtures/other-notes")).expect("tests/fixtures/other-notes");
    let index = NoteIndex::in_memory(&notes).unwrap();
    let searcher = SectionSearcher::new(&index, &Synonyms::default());
    let baseline = PlainBm25::new(&notes);
    let questions = questions();
    assert!(questions.len() >= 30, "only {} questions", questions.len());
    let (mut ours, mut theirs) = (0, 0);
    let mut predictions = Vec::new();
    for question in &questions {
        let expected: Vec<String> = question.correct_labels().iter().map(char::to_string).collect();
        let ranking = rank(&searcher, &McQuestion::from_bank(question), 0.0);
        let mut picked = ranking.likeliest;
        picked.sort();
        predictions.push((ranking.confidence, picked == expected));
        ours += usize::from(picked == expected);
        theirs += usize::from(baseline.pick(question) == expected);
        if picked != expected {
            println!(
                "  answer wrong on {}: picked {picked:?}, correct {expected:?}",
                question.id
            );
        }
    }
    let total = questions.len();
    println!(
        "other-shape notes: answer {ours}/{total} ({:.0}%), plain BM25 of question + choice {theirs}/{total} ({:.0}%), chance 25%",
        100.0 * ours as f64 / total as f64,
        100.0 * theirs as f64 / total as f64
    );
    // Calibration away from the notes the weights were fitted with.
    crate::answer_eval::print_reliability("other-shape notes", &predictions);
    assert!(
        ours > theirs,
        "answer {ours} does not beat plain BM25 {theirs} of {total}"
    );
}
