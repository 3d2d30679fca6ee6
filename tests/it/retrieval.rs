//! Retrieval quality over the shipped notes: paraphrased questions (tests/data/retrieval/*.tsv, written
//! apart from the headings) must find the section that answers them in the top 3; bank questions must
//! find their referenced section in the top 5. Both print their figure.

use tsumiage::check::{check, questions};
use tsumiage::questions::normalize_reference;
use tsumiage::search::SectionSearcher;

use crate::util::{repo_root, shipped};

fn retrieval_cases() -> Vec<(String, String, String)> {
    let dir = repo_root().join("tests/data/retrieval");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/retrieval")
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
    // paraphrases no note contains, and with the notes twice as broad, 85% is the honest floor (README).
    assert!(
        share >= 0.85,
        "retrieval top-3 {:.1}% < 85%:\n{}",
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
