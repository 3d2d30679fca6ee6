//! `/answer`'s reply: the picks and their confidence, or a plain statement that the notes don't settle
//! the question, and each choice's probability and evidence either way.

use serde_json::Value;

use super::{Embed, GREEN, ORANGE, location, message, pick};
use crate::answer::{McQuestion, Ranking, shown_label};
use crate::config::Locale;

pub fn answer(locale: Locale, question: &McQuestion, ranking: &Ranking) -> Value {
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
        let body = answer(Locale::Ja, &question, &ranking(true)).to_string();
        assert!(body.contains("ノートでは決めきれません (確信度 55%)"), "{body}");
        assert!(body.contains("① choice ①") && body.contains("② choice ②"), "{body}");
        assert!(!body.contains("✅"), "{body}");
        let body = answer(Locale::En, &question, &ranking(false)).to_string();
        assert!(body.contains("Best supported: ① (confidence 55%)"), "{body}");
        assert!(body.contains("✅ ① choice ①"), "{body}");
    }
}
