//! `/answer`: a modal to paste a multiple-choice question into, and the reply: the picks and their
//! confidence, or a plain statement that the notes don't settle the question, and each choice's
//! probability and evidence either way.

use std::sync::Arc;

use serde_json::{Value, json};

use super::common::{slash_command, text};
use crate::answer::{self, McQuestion, Ranking, shown_label};
use crate::config::Locale;
use crate::discord::Bot;
use crate::discord::interaction::{CustomId, Outcome, Refusal};
use crate::discord::views::{
    ACTION_ROW, Embed, GREEN, ORANGE, PARAGRAPH, TEXT_INPUT, location, message, pick, truncate,
};

/// The modal that asks for a question to rank.
pub(crate) fn modal(locale: Locale) -> Value {
    json!({
        "custom_id": CustomId::AnswerModal.to_string(),
        "title": truncate(pick(locale, "問題を貼り付け", "Paste a question"), 45),
        "components": [{"type": ACTION_ROW, "components": [{
            "type": TEXT_INPUT, "custom_id": CustomId::QuestionField.to_string(), "style": PARAGRAPH, "required": true, "min_length": 1, "max_length": 4000,
            "label": pick(locale, "問題文と選択肢 (A. … B. …)", "Question and choices (A. … B. …)"),
        }]}]
    })
}

/// `/answer` (no options: the question is pasted into its modal).
pub fn definition() -> Value {
    slash_command(
        text(
            "answer",
            "回答",
            "Rank a multiple-choice question's choices by the notes",
            "選択問題を根拠付きで順位付け",
        ),
        vec![],
    )
}

/// Ranks the pasted question's choices by the notes, off the async threads (the router defers the reply
/// when it takes long).
pub(crate) async fn rank(bot: Arc<Bot>, locale: Locale, text: String) -> Outcome {
    let question = answer::parse_question(&text).map_err(|error| {
        Refusal::Told(match locale {
            Locale::Ja => format!("問題を読めませんでした: {}", error.message(locale)),
            Locale::En => format!("Could not read the question: {}", error.message(locale)),
        })
    })?;
    let library = bot.library();
    let min_confidence = bot.config.answer.min_confidence;
    let reply = tokio::task::spawn_blocking(move || {
        let ranking = answer::rank(&library.searcher(2), &question, min_confidence);
        view(locale, &question, &ranking)
    })
    .await?;
    Ok(reply)
}

fn view(locale: Locale, question: &McQuestion, ranking: &Ranking) -> Value {
    let percent = (ranking.confidence * 100.0).round();
    let (title, color) = if ranking.abstained {
        let title = match locale {
            Locale::Ja => format!("🤔 ノートでは決めきれません (確信度 {percent}%)"),
            Locale::En => format!("🤔 The notes don't settle this (confidence {percent}%)"),
        };
        (title, ORANGE)
    } else {
        let best = ranking.best.join(", ");
        let title = match locale {
            Locale::Ja => format!("🧭 最有力: {best} (確信度 {percent}%)"),
            Locale::En => format!("🧭 Best supported: {best} (confidence {percent}%)"),
        };
        (title, GREEN)
    };
    let mut embed = Embed::new(&title).description(&question.stem).color(color);
    for choice in &ranking.choices {
        let mark = if ranking.best.contains(&choice.label) {
            "✅ "
        } else {
            ""
        };
        let name = format!(
            "{mark}{} {} ({:.2})",
            shown_label(&choice.label),
            choice.text,
            choice.score
        );
        let value = match &choice.evidence {
            Some(evidence) => format!("{}\n{}", evidence.title, location(&evidence.path, evidence.line)),
            None => pick(locale, "ノートに根拠なし", "no evidence in the notes").to_string(),
        };
        embed = embed.field(&name, &value, false);
    }
    if question.negated {
        embed = embed.footer(pick(
            locale,
            "「誤っているもの」を問う問題: 根拠の弱い選択肢を選んでいます",
            "The question asks for the false choice: the least supported is picked",
        ));
    }
    message("", vec![embed.build()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::{RankedChoice, parse_question};

    fn ranking(abstained: bool) -> Ranking {
        let choice = |label: &str, score: f32| RankedChoice {
            label: label.to_string(),
            text: format!("choice {label}"),
            score,
            evidence: None,
        };
        Ranking {
            best: if abstained { Vec::new() } else { vec!["①".to_string()] },
            confidence: 0.55,
            abstained,
            likeliest: vec!["①".to_string()],
            choices: vec![choice("①", 0.55), choice("②", 0.45)],
            negated: false,
        }
    }

    #[test]
    fn an_abstention_says_the_notes_do_not_settle_it_and_keeps_the_choices() {
        let question = parse_question("問題\n① choice ①\n② choice ②").unwrap();
        let body = view(Locale::Ja, &question, &ranking(true)).to_string();
        assert!(body.contains("ノートでは決めきれません (確信度 55%)"), "{body}");
        assert!(body.contains("① choice ①") && body.contains("② choice ②"), "{body}");
        assert!(!body.contains("✅"), "{body}");
        let body = view(Locale::En, &question, &ranking(false)).to_string();
        assert!(body.contains("Best supported: ① (confidence 55%)"), "{body}");
        assert!(body.contains("✅ ① choice ①"), "{body}");
    }
}
