//! What a quiz shows in the terminal, in the configured language: the question with its choices and time
//! limit, the verdict with the canonical answer, explanation and `file:line` of the source, and the summary.

use std::fmt::Write as _;
use std::path::Path;

use tsumiage::config::Locale;
use tsumiage::quiz::QuizQuestion;
use tsumiage::quiz::checker::Verdict;
use tsumiage::quiz::session::SessionEnd;
use tsumiage::quiz::session::{CloseReason, PlayerResult, Refusal, ScoreLine};
use tsumiage::store::{Attempt, FlagRecord, UserStats};

use crate::cli::render::{location, pick};

pub fn quiz_intro(locale: Locale, count: usize, seconds: i64) -> String {
    match locale {
        Locale::Ja => format!(
            "クイズ: {count} 問、各 {seconds} 秒。選択肢の記号 (例: b、2 つなら a,c) を入力。!flag 理由 で問題を報告、!stop で終了。"
        ),
        Locale::En => format!(
            "Quiz: {count} question{}, {seconds} s each. Type the letter of your choice (a,c for two). `!flag reason` reports a question, `!stop` ends.",
            if count == 1 { "" } else { "s" }
        ),
    }
}

/// The header of `review`: cards due and recent misses, not a quiz.
pub fn review_intro(locale: Locale, count: usize, seconds: i64) -> String {
    match locale {
        Locale::Ja => format!(
            "復習: {count} 問、各 {seconds} 秒。選択肢の記号 (例: b、2 つなら a,c) を入力。!flag 理由 で問題を報告、!stop で終了。"
        ),
        Locale::En => format!(
            "Review: {}, {seconds} s each. Type the letter of your choice (a,c for two). `!flag reason` reports a question, `!stop` ends.",
            counted(count as u64, "card", "cards")
        ),
    }
}

/// `1 card`, `2 cards`: English plurals (Japanese counters do not change).
pub fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

pub fn unknown_player(locale: Locale, name: &str, store: &Path) -> String {
    match locale {
        Locale::Ja => format!(
            "プレイヤー「{name}」の記録はありません ({})。`--user` の名前を確かめてください。",
            store.display()
        ),
        Locale::En => format!(
            "No player named `{name}` in the store ({}): check the name given to `--user`.",
            store.display()
        ),
    }
}

pub fn question(locale: Locale, index: usize, total: usize, question: &QuizQuestion, seconds: i64) -> String {
    let mut out = String::new();
    let generated = if question.generated {
        pick(locale, " (ノートから自動生成)", " (generated from the notes)")
    } else {
        ""
    };
    let timer = match locale {
        Locale::Ja => format!("制限時間 {seconds} 秒"),
        Locale::En => format!("{seconds} s to answer"),
    };
    let _ = writeln!(out, "\n[{}/{total}] {timer}{generated}", index + 1);
    let _ = writeln!(out, "{}", question.stem);
    for choice in &question.choices {
        let _ = writeln!(out, "  {}. {}", choice.label, choice.text);
    }
    if question.is_cloze() {
        let _ = writeln!(
            out,
            "{}",
            pick(locale, "(＿＿ に入る語を入力)", "(type what goes in ＿＿)")
        );
    }
    out.push_str("> ");
    out
}

pub fn remaining(locale: Locale, millis: i64) -> String {
    let seconds = (millis + 999) / 1000;
    match locale {
        Locale::Ja => format!("残り {seconds} 秒"),
        Locale::En => format!("{seconds} s left"),
    }
}

pub fn reveal(
    locale: Locale,
    notes_root: &Path,
    question: &QuizQuestion,
    result: &PlayerResult,
    reason: CloseReason,
) -> String {
    let mut out = String::new();
    let verdict = match (result.answer.is_some(), result.verdict, reason) {
        (false, _, CloseReason::TimeUp) => pick(locale, "⏱ 時間切れ", "⏱ Time is up"),
        (false, _, _) => pick(locale, "未回答", "No answer"),
        (true, Verdict::Correct, _) => pick(locale, "○ 正解", "✓ Correct"),
        (true, Verdict::Close, _) => pick(locale, "△ 惜しい (正解として数えます)", "~ Close (counted as correct)"),
        (true, Verdict::Wrong, _) => pick(locale, "× 不正解", "✗ Wrong"),
    };
    let _ = writeln!(out, "\n{verdict}");
    let _ = writeln!(out, "{} {}", pick(locale, "正解:", "Answer:"), question.canonical());
    if !question.explanation.is_empty() {
        let _ = writeln!(out, "{} {}", pick(locale, "解説:", "Why:"), question.explanation);
    }
    let _ = writeln!(
        out,
        "{} {}",
        pick(locale, "出典:", "Source:"),
        location(notes_root, &question.source.path, question.source.line as u64)
    );
    out
}

pub fn refused(locale: Locale, reason: Refusal) -> String {
    match reason {
        Refusal::Late => pick(
            locale,
            "締め切り後の回答は受け付けません。",
            "Too late: that question is closed.",
        ),
        Refusal::AlreadyChanged => pick(
            locale,
            "回答の変更は 1 回までです。",
            "You can change your pick only once.",
        ),
        Refusal::Invalid => pick(
            locale,
            "この問題の回答として読めません。",
            "That is not an answer to this question.",
        ),
        Refusal::Finished => pick(locale, "クイズは終了しています。", "The quiz is over."),
        Refusal::WrongPickCount { wanted } => return pick_count(locale, wanted),
    }
    .to_string()
}

/// The answer picked another number of choices than the question asks for: asked again.
pub fn pick_count(locale: Locale, wanted: usize) -> String {
    match (locale, wanted) {
        (Locale::Ja, _) => format!("{wanted} つ選んでください。"),
        (Locale::En, 1) => "Choose 1 (one letter).".to_string(),
        (Locale::En, _) => format!("Choose {wanted} (letters separated by commas, e.g. a,c)."),
    }
}

pub fn answer_hint(locale: Locale, question: &QuizQuestion) -> String {
    let labels: Vec<String> = question
        .choices
        .iter()
        .map(|c| c.label.to_ascii_lowercase().to_string())
        .collect();
    match locale {
        Locale::Ja => format!("選択肢の記号 ({}) を入力してください。", labels.join(" / ")),
        Locale::En => format!("Type one of the letters {}.", labels.join(", ")),
    }
}

pub fn flagged(locale: Locale, notes_root: &Path, question: &QuizQuestion) -> String {
    let at = location(notes_root, &question.origin.path, question.origin.line as u64);
    match locale {
        Locale::Ja => format!("問題 {} を報告しました ({at})。", question.id),
        Locale::En => format!("Flagged question {} ({at}).", question.id),
    }
}

pub fn summary(
    locale: Locale,
    notes_root: &Path,
    questions: &[QuizQuestion],
    scoreboard: &[ScoreLine],
    attempts: &[Attempt],
    asked: usize,
    reason: SessionEnd,
) -> String {
    let mut out = String::new();
    let ended = match reason {
        SessionEnd::CountReached => "",
        SessionEnd::Stopped => pick(locale, " (中断)", " (stopped)"),
        SessionEnd::Silence => pick(locale, " (無回答が続いたため終了)", " (ended after silence)"),
        SessionEnd::Interrupted => pick(locale, " (中断)", " (interrupted)"),
    };
    let _ = writeln!(out, "\n{}{ended}", pick(locale, "== 結果 ==", "== Results =="));
    for line in scoreboard {
        let _ = match locale {
            Locale::Ja => writeln!(
                out,
                "{}. {}  {} / {} 問正解",
                line.rank, line.player, line.points, asked
            ),
            Locale::En => writeln!(out, "{}. {}  score {}/{}", line.rank, line.player, line.points, asked),
        };
    }
    let missed: Vec<&QuizQuestion> = attempts
        .iter()
        .filter(|a| !a.correct)
        .filter_map(|a| questions.get(a.question_index))
        .collect();
    if !missed.is_empty() {
        let _ = writeln!(out, "{}", pick(locale, "間違えた問題:", "Missed:"));
        for question in missed {
            let at = location(notes_root, &question.source.path, question.source.line as u64);
            let _ = writeln!(out, "  {}  {at}", question.id);
        }
        let _ = writeln!(
            out,
            "{}",
            pick(
                locale,
                "`tsumiage review` で復習できます。",
                "Run `tsumiage review` to go over them."
            )
        );
    }
    out
}

pub fn interrupted_closed(locale: Locale, sessions: usize) -> String {
    match locale {
        Locale::Ja => format!("中断されたクイズ {sessions} 件を終了扱いにしました (記録済みの回答は残っています)。"),
        Locale::En => format!("Closed {sessions} interrupted quiz session(s); their recorded answers are kept."),
    }
}

pub fn no_questions(locale: Locale, topic: &str) -> String {
    match (locale, topic.is_empty()) {
        (Locale::Ja, true) => "出題できる問題がありません。".to_string(),
        (Locale::Ja, false) => format!("「{topic}」の問題はありません。"),
        (Locale::En, true) => "No questions to ask.".to_string(),
        (Locale::En, false) => format!("No questions about `{topic}`."),
    }
}

pub fn nothing_to_review(locale: Locale) -> String {
    pick(
        locale,
        "いま復習するカードはありません。",
        "Nothing to review right now.",
    )
    .to_string()
}

pub fn stats(locale: Locale, name: &str, stats: &UserStats, misses: &[String]) -> String {
    let mut out = String::new();
    let rate = if stats.attempts == 0 {
        0.0
    } else {
        stats.correct as f64 * 100.0 / stats.attempts as f64
    };
    let _ = match locale {
        Locale::Ja => writeln!(
            out,
            "{name}: 回答 {} 問、正解 {} 問 ({rate:.0}%)、クイズ {} 回、得点 {}\nカード {} 枚 (復習待ち {} 枚)",
            stats.attempts, stats.correct, stats.sessions, stats.points, stats.cards, stats.due_cards
        ),
        Locale::En => writeln!(
            out,
            "{name}: {}, {} correct ({rate:.0}%), {}, {}\n{} ({} due)",
            counted(stats.attempts, "answer", "answers"),
            stats.correct,
            counted(stats.sessions, "quiz", "quizzes"),
            counted(stats.points, "point", "points"),
            counted(stats.cards, "card", "cards"),
            stats.due_cards
        ),
    };
    if !misses.is_empty() {
        let _ = writeln!(
            out,
            "{} {}",
            pick(locale, "最近間違えた問題:", "Recent misses:"),
            misses.join(", ")
        );
    }
    out
}

pub fn flags(locale: Locale, notes_root: &Path, flags: &[FlagRecord]) -> String {
    if flags.is_empty() {
        return format!(
            "{}\n",
            pick(locale, "報告された問題はありません。", "No flagged questions.")
        );
    }
    let mut out = String::new();
    for flag in flags {
        let at = location(notes_root, &flag.path, flag.line as u64);
        let reason = if flag.reason.is_empty() {
            pick(locale, "(理由なし)", "(no reason)")
        } else {
            flag.reason.as_str()
        };
        let _ = writeln!(out, "{at}: {}  {}: {reason}", flag.question_id, flag.user_name);
    }
    out
}
