//! What the terminal shows: plain text in the configured language (bold highlights on a terminal,
//! `**` otherwise) or JSON with a documented shape. No decisions are made here.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use tsumiage::answer::{McQuestion, ParseError, Ranking, shown_label};
use tsumiage::check::{CheckReport, Coverage};
use tsumiage::config::Locale;
use tsumiage::notes::Problem;
use tsumiage::search::SearchResults;
use tsumiage::search::index::{BuildProgress, Freshness, NoteIndex};

pub(super) fn pick<'a>(locale: Locale, ja: &'a str, en: &'a str) -> &'a str {
    match locale {
        Locale::Ja => ja,
        Locale::En => en,
    }
}

/// `notes/aws-dva/kinesis.md:12`: clickable in most terminals and editors.
pub(super) fn location(notes_root: &Path, path: &str, line: u64) -> String {
    format!("{}:{line}", notes_root.join(path).display())
}

pub fn problem(notes_root: &Path, problem: &Problem) -> String {
    let mut shown = problem.clone();
    shown.path = notes_root.join(&problem.path).display().to_string();
    shown.to_string()
}

pub fn build_reason(locale: Locale, freshness: Freshness, root: &Path) -> String {
    let why = match (freshness, locale) {
        (Freshness::Missing, Locale::Ja) => "索引がないので作成します",
        (Freshness::Missing, Locale::En) => "No index yet: building it",
        (Freshness::Stale, Locale::Ja) => "ノートが変わったので索引を作り直します",
        (Freshness::Stale, Locale::En) => "Notes changed: rebuilding the index",
        (Freshness::OldSchema, Locale::Ja) => "索引の形式が古いので作り直します",
        (Freshness::OldSchema, Locale::En) => "The index was built by an older version: rebuilding it",
        (Freshness::Fresh, _) => "",
    };
    format!("{why} ({})", root.display())
}

pub fn build_progress(locale: Locale, progress: BuildProgress) {
    eprintln!(
        "  {} {}/{}",
        pick(locale, "索引作成中", "indexing"),
        progress.indexed,
        progress.total
    );
}

pub fn build_done(locale: Locale, sections: usize, took: Duration) -> String {
    match locale {
        Locale::Ja => format!("  {sections} セクションを索引しました ({} ms)", took.as_millis()),
        Locale::En => format!("  indexed {sections} sections ({} ms)", took.as_millis()),
    }
}

pub fn index_summary(locale: Locale, index: &NoteIndex, root: &Path, took: Duration) -> String {
    match locale {
        Locale::Ja => format!(
            "索引: {} ({} セクション, {} ms)",
            root.display(),
            index.meta.sections,
            took.as_millis()
        ),
        Locale::En => format!(
            "index: {} ({} sections, {} ms)",
            root.display(),
            index.meta.sections,
            took.as_millis()
        ),
    }
}

/// `**x**` → bold on a terminal, left as Markdown emphasis otherwise.
fn emphasis(text: &str, terminal: bool) -> String {
    if !terminal {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split("**").enumerate() {
        if i > 0 {
            out.push_str(if i % 2 == 1 { "\x1b[1m" } else { "\x1b[0m" });
        }
        out.push_str(part);
    }
    out
}

pub fn ask_text(locale: Locale, notes_root: &Path, results: &SearchResults, terminal: bool) -> String {
    let mut out = String::new();
    if results.hits.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            pick(locale, "該当するノートは見つかりませんでした。", "No notes match.")
        );
        if !results.suggestions.is_empty() {
            let _ = writeln!(
                out,
                "{} {}",
                pick(locale, "もしかして:", "Did you mean:"),
                results.suggestions.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "{}",
            pick(
                locale,
                "言い換えるか、英語名 (例: Kinesis) を入れてみてください。",
                "Try other words, or the English service name."
            )
        );
        return out;
    }
    for (rank, hit) in results.hits.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {}",
            rank + 1,
            emphasis(&format!("**{}**", hit.heading_path), terminal)
        );
        let _ = writeln!(out, "   {}", location(notes_root, &hit.path, hit.line));
        for line in hit.snippet.lines() {
            let _ = writeln!(out, "   {}", emphasis(line, terminal));
        }
        if let Some(source) = hit.sources.first() {
            let _ = writeln!(out, "   {} {source}", pick(locale, "出典:", "source:"));
        }
        out.push('\n');
    }
    out
}

pub fn ask_json(query: &str, took: Duration, results: &SearchResults) -> String {
    let hits: Vec<_> = results
        .hits
        .iter()
        .map(|h| {
            json!({
                "id": h.id, "title": h.title, "heading_path": h.heading_path, "path": h.path, "line": h.line,
                "text": h.text, "snippet": h.snippet, "score": h.score,
            })
        })
        .collect();
    json!({
        "query": query,
        "took_us": took.as_micros() as u64,
        "hits": hits,
        "suggestions": results.suggestions,
    })
    .to_string()
}

pub fn answer_parse_error(locale: Locale, error: &ParseError) -> String {
    let hint = pick(
        locale,
        "問題文のあとに、選択肢を 1 行ずつ `A.` `B)` `(C)` `1.` `- [ ]` などのラベル付きで書いてください。",
        "Write the question, then one choice per line labelled `A.`, `B)`, `(C)`, `1.` or `- [ ]`.",
    );
    format!("{}\n{hint}", error.message(locale))
}

fn answer_heading(locale: Locale, question: &McQuestion, ranking: &Ranking) -> String {
    let percent = (ranking.confidence * 100.0).round();
    if ranking.abstained {
        let leaning = ranking.likeliest.join(", ");
        return match locale {
            Locale::Ja => format!(
                "ノートではこの問題を決めきれません (確信度 {percent}%、最も近いのは {leaning})。下の根拠を確かめてください。"
            ),
            Locale::En => format!(
                "The notes don't settle this question (confidence {percent}%; the closest is {leaning}). Check the evidence below."
            ),
        };
    }
    let best = ranking.best.join(", ");
    match (locale, question.negated) {
        (Locale::Ja, false) => format!("最も根拠のある選択肢: {best} (確信度 {percent}%)"),
        (Locale::Ja, true) => format!("否定形の問題: ノートの根拠が最も弱い選択肢: {best} (確信度 {percent}%)"),
        (Locale::En, false) => format!("Best supported: {best} (confidence {percent}%)"),
        (Locale::En, true) => format!("Negated question: least supported: {best} (confidence {percent}%)"),
    }
}

pub fn answer_text(locale: Locale, notes_root: &Path, question: &McQuestion, ranking: &Ranking) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}\n", answer_heading(locale, question, ranking));
    for choice in &ranking.choices {
        let marker = if ranking.best.contains(&choice.label) {
            "→"
        } else {
            " "
        };
        let label = shown_label(&choice.label);
        let _ = writeln!(out, "{marker} {label} {}  [{:.2}]", choice.text, choice.score);
        if let Some(evidence) = &choice.evidence {
            let _ = writeln!(
                out,
                "      {} ({})",
                evidence.title,
                location(notes_root, &evidence.path, evidence.line)
            );
            if !evidence.fact.is_empty() {
                let _ = writeln!(out, "      {}", evidence.fact);
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{}",
        pick(
            locale,
            "※ ノートの記述との一致度による推定です。出典で確かめてください。",
            "Ranked by agreement with the notes: check the sources."
        )
    );
    out
}

pub fn answer_json(ranking: &Ranking) -> String {
    let choices: Vec<_> = ranking
        .choices
        .iter()
        .map(|c| {
            json!({
                "label": c.label, "text": c.text, "score": c.score,
                "evidence": c.evidence.as_ref().map(|e| json!({"id": e.id, "title": e.title, "path": e.path, "line": e.line})),
            })
        })
        .collect();
    json!({
        "best": ranking.best,
        "confidence": ranking.confidence,
        "abstained": ranking.abstained,
        "negated": ranking.negated,
        "choices": choices,
    })
    .to_string()
}

pub fn check_summary(locale: Locale, report: &CheckReport) -> String {
    match locale {
        Locale::Ja => format!(
            "{} ファイル, {} セクション, {} 問: エラー {}, 警告 {}",
            report.files,
            report.sections,
            report.questions,
            report.errors(),
            report.warnings()
        ),
        Locale::En => format!(
            "{} files, {} sections, {} questions: {} errors, {} warnings",
            report.files,
            report.sections,
            report.questions,
            report.errors(),
            report.warnings()
        ),
    }
}

enum Align {
    Left,
    Right,
}

/// `text` padded with spaces to `width` terminal columns: kana, kanji and full-width forms take two
/// columns, which `format!`'s padding (counting characters) does not know.
fn pad_to(text: &str, width: usize, align: Align) -> String {
    let columns: usize = text.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum();
    let fill = " ".repeat(width.saturating_sub(columns));
    match align {
        Align::Left => format!("{text}{fill}"),
        Align::Right => format!("{fill}{text}"),
    }
}

/// East Asian wide and full-width characters (the common blocks).
fn is_wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}' | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}' | '\u{FF00}'..='\u{FF60}' | '\u{FFE0}'..='\u{FFE6}')
}

pub fn coverage(locale: Locale, coverage: &Coverage) -> String {
    let mut out = String::new();
    for (title, table) in [
        (pick(locale, "サービス", "service"), &coverage.by_service),
        (pick(locale, "試験分野", "domain"), &coverage.by_domain),
    ] {
        let _ = writeln!(
            out,
            "\n{}{}{}",
            pad_to(title, 24, Align::Left),
            pad_to(pick(locale, "セクション", "sections"), 10, Align::Right),
            pad_to(pick(locale, "問題", "questions"), 10, Align::Right)
        );
        for (key, (sections, questions)) in table {
            let _ = writeln!(out, "{key:<24}{sections:>10}{questions:>10}");
        }
    }
    out
}

/// How many sample questions `check --generated` shows of each kind.
const GENERATED_SAMPLE: usize = 5;

/// `check --generated`: how many questions the notes give, a sample of each kind (drawn in a fixed order,
/// so two runs on the same notes show the same), and what was dropped and why.
pub fn generated(
    locale: Locale,
    questions: &[tsumiage::quiz::QuizQuestion],
    dropped: &std::collections::BTreeMap<tsumiage::quiz::generate::Dropped, usize>,
) -> String {
    let mut out = String::new();
    let (cloze, choice): (Vec<_>, Vec<_>) = questions.iter().partition(|q| q.is_cloze());
    let _ = match locale {
        Locale::Ja => writeln!(out, "\n生成した問題: 選択式 {}、穴埋め {}", choice.len(), cloze.len()),
        Locale::En => writeln!(
            out,
            "\nGenerated questions: {} multiple choice, {} cloze",
            choice.len(),
            cloze.len()
        ),
    };
    for kind in [choice, cloze] {
        for question in tsumiage::order::draw(kind, GENERATED_SAMPLE, 0) {
            let _ = writeln!(out, "- {}\n  {}", question.id, question.stem);
            for choice in &question.choices {
                let mark = if question.correct.contains(&choice.label) {
                    "*"
                } else {
                    " "
                };
                let _ = writeln!(out, "   {mark}{}. {}", choice.label, choice.text);
            }
            if let Some(answer) = &question.answer {
                let _ = writeln!(out, "   = {answer}");
            }
        }
    }
    let _ = writeln!(out, "{}", pick(locale, "除外したもの:", "Dropped:"));
    if dropped.is_empty() {
        let _ = writeln!(out, "  {}", pick(locale, "なし", "nothing"));
    }
    for (reason, count) in dropped {
        let _ = writeln!(out, "  {count:>5}  {}", reason.describe());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_japanese_as_two_columns() {
        assert_eq!(pad_to("サービス", 10, Align::Left), "サービス  ");
        assert_eq!(pad_to("問題", 6, Align::Right), "  問題");
        assert_eq!(pad_to("ＤＢ", 4, Align::Left), "ＤＢ");
        assert_eq!(pad_to("sections", 10, Align::Right), "  sections");
        assert_eq!(pad_to("longer than wide", 4, Align::Left), "longer than wide");
    }
}
