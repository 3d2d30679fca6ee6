//! `answer` measured on questions written for it (tests/data/answer/*.md, not in the bank) and on the
//! whole question bank: how often the ranked best choice(s) are exactly the correct ones. Prints the
//! figures beside chance.

use tsumiage::answer::{McQuestion, rank};
use tsumiage::notes::parse_note;
use tsumiage::questions::{Question, parse_bank};
use tsumiage::search::SectionSearcher;

use crate::util::{repo_root, shipped};

/// (correct, total, chance): chance is the expected score of guessing.
fn accuracy(questions: &[Question]) -> (usize, usize, f64, Vec<String>) {
    let shipped = shipped();
    let searcher = SectionSearcher::new(&shipped.index, &shipped.synonyms);
    let mut correct = 0;
    let mut chance = 0.0;
    let mut wrong = Vec::new();
    for question in questions {
        let ranking = rank(&searcher, &McQuestion::from_bank(question));
        let expected: Vec<String> = question.correct_labels().iter().map(char::to_string).collect();
        let mut best = ranking.best.clone();
        best.sort();
        if best == expected {
            correct += 1;
        } else {
            wrong.push(format!(
                "{} ({}:{}): picked {best:?}, correct {expected:?}",
                question.id, question.path, question.line
            ));
        }
        let n = question.choices.len() as f64;
        chance += if expected.len() == 2 {
            2.0 / (n * (n - 1.0))
        } else {
            1.0 / n
        };
    }
    (correct, questions.len(), chance / questions.len().max(1) as f64, wrong)
}

fn test_questions() -> Vec<Question> {
    let dir = repo_root().join("tests/data/answer");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/answer")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let notes: Vec<_> = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "md"))
        .map(|f| {
            parse_note(
                &f.file_name().unwrap().to_string_lossy(),
                &std::fs::read_to_string(f).unwrap(),
            )
            .0
        })
        .collect();
    let (questions, problems) = parse_bank(&notes);
    let errors: Vec<_> = problems
        .iter()
        .filter(|p| p.severity == tsumiage::notes::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    questions
}

#[test]
fn answer_picks_the_right_choice_on_questions_written_for_it() {
    let questions = test_questions();
    assert!(questions.len() >= 20, "only {} answer test questions", questions.len());
    let (correct, total, chance, wrong) = accuracy(&questions);
    let share = correct as f64 / total as f64;
    println!(
        "answer: {correct}/{total} test questions right ({:.1}%; chance {:.1}%)",
        share * 100.0,
        chance * 100.0
    );
    for line in &wrong {
        println!("  wrong {line}");
    }
    assert!(share >= 0.70, "answer accuracy {:.1}% < 70%", share * 100.0);
}

#[test]
fn answer_beats_chance_clearly_on_the_question_bank() {
    let bank = tsumiage::check::questions(&shipped().notes);
    if bank.is_empty() {
        return;
    }
    let (correct, total, chance, wrong) = accuracy(&bank);
    let share = correct as f64 / total as f64;
    println!(
        "answer: {correct}/{total} bank questions right ({:.1}%; chance {:.1}%)",
        share * 100.0,
        chance * 100.0
    );
    for line in &wrong {
        println!("  wrong {line}");
    }
    assert!(
        share >= 2.0 * chance,
        "answer accuracy {:.1}% is not twice chance ({:.1}%)",
        share * 100.0,
        chance * 100.0
    );
}
