//! The posts of a channel quiz, as its driver sends them: each question with one button per choice (and
//! the 🚩 button), the reveal that edits it when the question closes, and the final scoreboard.

use serde_json::{Value, json};

use super::{
    BLUE, BUTTONS_PER_ROW, Button, ButtonStyle, Embed, GREEN, GREY, ROWS_MAX, button_rows, flag_button, location,
    mention, message, pick,
};
use crate::config::Locale;
use crate::discord::interaction::CustomId;
use crate::quiz::QuizQuestion;
use crate::quiz::session::SessionEnd;
use crate::quiz::session::{CloseReason, PlayerResult, ScoreLine};
use crate::store::SessionId;

/// A quiz question: its embed and one button per choice (plus a flag button when there is room).
pub fn question(
    locale: Locale,
    session: SessionId,
    index: usize,
    total: usize,
    question: &QuizQuestion,
    seconds: u64,
) -> Value {
    let title = format!("{} {}/{}", pick(locale, "❓ 問題", "❓ Question"), index + 1, total);
    let mut embed = Embed::new(&title).description(&question.stem).color(BLUE);
    for choice in &question.choices {
        embed = embed.field(&choice.label.to_string(), &choice.text, false);
    }
    let footer = match locale {
        Locale::Ja => format!("{seconds} 秒 · 選択は 1 回まで変更できます"),
        Locale::En => format!("{seconds} s · you may change your pick once"),
    };
    embed = embed.footer(&footer);
    let mut buttons: Vec<Button> = question
        .choices
        .iter()
        .map(|c| Button {
            id: CustomId::QuizPick {
                session,
                index,
                label: c.label,
            },
            label: c.label.to_string(),
            style: ButtonStyle::Primary,
        })
        .collect();
    if buttons.len() < ROWS_MAX * BUTTONS_PER_ROW {
        buttons.push(flag_button(locale, &question.id));
    }
    let mut body = message("", vec![embed.build()]);
    body["components"] = json!(button_rows(&buttons));
    body
}

/// The question after its time: the answer, the explanation, the source and who was right.
pub fn reveal(
    locale: Locale,
    index: usize,
    total: usize,
    question: &QuizQuestion,
    results: &[PlayerResult],
    reason: CloseReason,
) -> Value {
    let title = format!("{} {}/{}", pick(locale, "✅ 正解", "✅ Answer"), index + 1, total);
    let right: Vec<String> = results
        .iter()
        .filter(|r| r.verdict.scores())
        .map(|r| mention(&r.player))
        .collect();
    let wrong: Vec<String> = results
        .iter()
        .filter(|r| !r.verdict.scores() && r.answer.is_some())
        .map(|r| {
            format!(
                "{} ({})",
                mention(&r.player),
                r.answer.as_ref().map(|a| a.display()).unwrap_or_default()
            )
        })
        .collect();
    let none = pick(locale, "なし", "nobody");
    let mut embed = Embed::new(&title)
        .description(&question.stem)
        .color(if reason == CloseReason::Stopped { GREY } else { GREEN })
        .field(pick(locale, "正解", "Answer"), &question.canonical(), false)
        .field(
            pick(locale, "正解した人", "Right"),
            &if right.is_empty() {
                none.to_string()
            } else {
                right.join(" ")
            },
            false,
        );
    if !wrong.is_empty() {
        embed = embed.field(pick(locale, "不正解", "Wrong"), &wrong.join(" "), false);
    }
    if !question.explanation.trim().is_empty() {
        embed = embed.field(pick(locale, "解説", "Explanation"), &question.explanation, false);
    }
    embed = embed.field(
        pick(locale, "出典", "Source"),
        &location(&question.source.path, question.source.line as u64),
        false,
    );
    let mut body = message("", vec![embed.build()]);
    body["components"] = json!(button_rows(&[flag_button(locale, &question.id)]));
    body
}

pub fn scoreboard(locale: Locale, lines: &[ScoreLine], reason: SessionEnd) -> Value {
    let title = match reason {
        SessionEnd::Stopped => pick(locale, "🏁 クイズ中止: 結果", "🏁 Quiz stopped: results"),
        SessionEnd::Silence => pick(
            locale,
            "🏁 回答がないため終了: 結果",
            "🏁 Quiz ended (no answers): results",
        ),
        _ => pick(locale, "🏁 クイズ終了: 結果", "🏁 Quiz over: results"),
    };
    let body = if lines.is_empty() {
        pick(locale, "回答者なし", "No answers").to_string()
    } else {
        lines
            .iter()
            .take(25)
            .map(|l| format!("{}. {} — {} pt", l.rank, mention(&l.player), l.points))
            .collect::<Vec<_>>()
            .join("\n")
    };
    message("", vec![Embed::new(title).description(&body).color(GREEN).build()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::views::assert_within_limits;
    use crate::quiz::{QuizChoice, SourceRef};

    fn quiz_question(choices: usize, long: bool) -> QuizQuestion {
        let text = if long { "長".repeat(3000) } else { "短い".into() };
        let source = SourceRef {
            section_id: None,
            path: "k.md".into(),
            line: 3,
        };
        QuizQuestion {
            id: if long { "x".repeat(200) } else { "k-1".into() },
            stem: text.clone(),
            choices: (0..choices)
                .map(|i| QuizChoice {
                    label: (b'A' + i as u8) as char,
                    text: text.clone(),
                    pinned: false,
                })
                .collect(),
            correct: vec!['A'],
            answer: None,
            accepted: vec![],
            explanation: text.clone(),
            origin: source.clone(),
            source,
            generated: false,
            service: None,
            tags: vec![],
        }
    }

    #[test]
    fn huge_questions_still_fit_every_limit() {
        for choices in [2, 4, 26] {
            let q = quiz_question(choices, true);
            let body = question(Locale::Ja, 1, 0, 3, &q, 20);
            assert_within_limits(&body);
            let body = reveal(Locale::En, 0, 3, &q, &[], CloseReason::TimeUp);
            assert_within_limits(&body);
        }
        let body = question(Locale::En, 1, 0, 1, &quiz_question(4, false), 20);
        assert_eq!(body["components"][0]["components"].as_array().unwrap().len(), 5);
        assert_eq!(body["components"][0]["components"][0]["custom_id"], "q:1:0:A");
    }
}
