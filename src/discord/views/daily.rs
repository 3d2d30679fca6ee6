//! The daily question's posts, as the scheduler sends them: the question with one answer button per
//! choice and the slot's marker in its footer (how a post is found again after a crash), and the reveal
//! that edits it once the slot closes.

use serde_json::{Value, json};

use super::{BLUE, Button, ButtonStyle, Embed, GREEN, button_rows, message, pick};
use crate::config::Locale;
use crate::daily::Streak;
use crate::daily::schedule::DailySchedule;
use crate::discord::interaction::CustomId;
use crate::jobs::daily::{marker, nonce};
use crate::quiz::QuizQuestion;

/// The post: question embed, one button per choice (`d:<slot>:<label>`), the role mentioned when set.
pub fn post_body(locale: Locale, schedule: &DailySchedule, slot: &str, question: &QuizQuestion) -> Value {
    let mut embed = Embed::new(pick(locale, "📅 今日の問題", "📅 Daily question"))
        .description(&question.stem)
        .color(BLUE);
    for choice in &question.choices {
        embed = embed.field(&choice.label.to_string(), &choice.text, false);
    }
    embed = embed.footer(&marker(&schedule.guild, slot));
    let content = schedule.role.as_ref().map(|r| format!("<@&{r}>")).unwrap_or_default();
    let mut body = message(&content, vec![embed.build()]);
    if let Some(role) = &schedule.role {
        body["allowed_mentions"] = json!({"parse": [], "roles": [role]});
    }
    let buttons: Vec<Button> = question
        .choices
        .iter()
        .map(|c| Button {
            id: CustomId::DailyPick {
                slot: slot.to_string(),
                label: c.label,
            },
            label: c.label.to_string(),
            style: ButtonStyle::Primary,
        })
        .collect();
    body["components"] = json!(button_rows(&buttons));
    body["nonce"] = json!(nonce(&schedule.guild, slot));
    body["enforce_nonce"] = json!(true);
    body
}

/// The reveal: the post edited to show the answer, with the tally and streaks; buttons removed.
pub fn reveal_body(
    locale: Locale,
    guild: &str,
    slot: &str,
    question: &QuizQuestion,
    answers: &[(u64, bool)],
    streaks: &[(u64, Streak)],
) -> Value {
    let right = answers.iter().filter(|(_, correct)| *correct).count();
    let share = if answers.is_empty() {
        0
    } else {
        right * 100 / answers.len()
    };
    let tally = match locale {
        Locale::Ja => format!("{} 人が回答、正解 {right} 人 ({share}%)", answers.len()),
        Locale::En => format!("{} answered, {right} right ({share}%)", answers.len()),
    };
    let mut embed = Embed::new(pick(locale, "✅ 今日の問題の答え", "✅ Daily question: answer"))
        .description(&question.stem)
        .color(GREEN)
        .field(pick(locale, "正解", "Answer"), &question.canonical(), false)
        .field(pick(locale, "回答", "Answers"), &tally, false);
    if !question.explanation.trim().is_empty() {
        embed = embed.field(pick(locale, "解説", "Explanation"), &question.explanation, false);
    }
    embed = embed.field(
        pick(locale, "出典", "Source"),
        &format!("`{}:{}`", question.source.path, question.source.line),
        false,
    );
    let mut lines: Vec<String> = streaks
        .iter()
        .filter(|(_, s)| s.answered > 0)
        .map(|(user, s)| match locale {
            Locale::Ja => format!("<@{user}> 連続正解 {} · 連続回答 {}", s.correct, s.answered),
            Locale::En => format!("<@{user}> right streak {} · answered streak {}", s.correct, s.answered),
        })
        .collect();
    lines.truncate(20);
    if !lines.is_empty() {
        embed = embed.field(pick(locale, "連続記録", "Streaks"), &lines.join("\n"), false);
    }
    embed = embed.footer(&marker(guild, slot));
    let mut body = message("", vec![embed.build()]);
    body["components"] = json!([]);
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daily::schedule::{self, Days, Reveal};

    fn question() -> QuizQuestion {
        let source = crate::quiz::SourceRef {
            section_id: None,
            path: "aws/kinesis.md".into(),
            line: 12,
        };
        QuizQuestion {
            id: "kin-001".into(),
            stem: "Kinesis の既定の保持期間は?".into(),
            choices: ["1 時間", "24 時間", "7 日"]
                .iter()
                .zip(['A', 'B', 'C'])
                .map(|(text, label)| crate::quiz::QuizChoice {
                    label,
                    text: text.to_string(),
                    pinned: false,
                })
                .collect(),
            correct: vec!['B'],
            answer: None,
            accepted: vec![],
            explanation: "既定は 24 時間。".into(),
            origin: source.clone(),
            source,
            generated: false,
            service: Some("Kinesis".into()),
            tags: vec![],
        }
    }

    #[test]
    fn the_post_pings_only_its_role_and_carries_its_marker_and_nonce() {
        let schedule = DailySchedule {
            guild: "1".into(),
            channel: "2".into(),
            time: schedule::parse_time("09:00").unwrap(),
            zone: chrono_tz::Asia::Tokyo,
            days: Days::EVERY_DAY,
            role: Some("77".into()),
            reveal: Reveal::AfterHours(12),
            topic: None,
            thread: false,
            enabled: true,
        };
        let body = post_body(Locale::En, &schedule, "2026-11-27", &question());
        assert_eq!(body["content"], "<@&77>");
        assert_eq!(body["allowed_mentions"], json!({"parse": [], "roles": ["77"]}));
        assert_eq!(body["embeds"][0]["footer"]["text"], marker("1", "2026-11-27"));
        assert_eq!(body["nonce"], nonce("1", "2026-11-27"));
        assert!(nonce("123456789012345678", "2026-11-26").len() <= 25);
        let ids: Vec<&str> = body["components"][0]["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["custom_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["d:2026-11-27:A", "d:2026-11-27:B", "d:2026-11-27:C"]);
    }

    #[test]
    fn the_reveal_shows_the_share_right_source_and_streaks_and_drops_the_buttons() {
        let streak = |correct, answered| Streak { correct, answered };
        let body = reveal_body(
            Locale::En,
            "1",
            "2026-11-27",
            &question(),
            &[(5, true), (6, true), (7, false)],
            &[(5, streak(4, 4)), (6, streak(1, 3)), (7, streak(0, 2))],
        );
        let text = body.to_string();
        assert!(text.contains("3 answered, 2 right (66%)"), "{text}");
        assert!(text.contains("`aws/kinesis.md:12`"), "{text}");
        assert!(text.contains("<@5> right streak 4 · answered streak 4"), "{text}");
        assert!(text.contains("B. 24 時間"), "{text}");
        assert_eq!(body["components"], json!([]));
        let nobody = reveal_body(Locale::Ja, "1", "s", &question(), &[], &[]);
        assert!(nobody.to_string().contains("0 人が回答、正解 0 人 (0%)"), "{nobody}");
    }
}
