//! What the bot shows in Discord, as plain JSON message bodies: embeds and components built from the
//! core's results, always within Discord's limits (content 2000, embed title 256, description 4096,
//! 25 fields of 256/1024, footer 2048, 6000 per message; 5 rows of 5 buttons, custom_id 100, label 80).
//! Text that does not fit is cut with `…`, never refused. Pure: no I/O, unit-tested here.

use serde_json::{Value, json};

mod answer;
pub use answer::answer;

use crate::config::Locale;
use crate::quiz::QuizQuestion;
use crate::quiz::session::SessionEnd;
use crate::quiz::session::{CloseReason, PlayerResult, ScoreLine};
use crate::search::SearchResults;
use crate::store::{CardState, LeaderLine, UserStats};

pub const CONTENT_MAX: usize = 2000;
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELDS_MAX: usize = 25;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FOOTER_MAX: usize = 2048;
pub const EMBED_TOTAL_MAX: usize = 6000;
pub const ROWS_MAX: usize = 5;
pub const BUTTONS_PER_ROW: usize = 5;
pub const CUSTOM_ID_MAX: usize = 100;
pub const LABEL_MAX: usize = 80;
/// Message flag: only the user who acted sees the reply.
pub const EPHEMERAL: u64 = 64;

const BLUE: u32 = 0x3b82f6;
const GREEN: u32 = 0x22c55e;
const GREY: u32 = 0x6b7280;
const ORANGE: u32 = 0xf59e0b;

pub fn pick<'a>(locale: Locale, ja: &'a str, en: &'a str) -> &'a str {
    match locale {
        Locale::Ja => ja,
        Locale::En => en,
    }
}

/// `text` cut to at most `max` characters (Discord counts characters), ending in `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A non-empty field name or value (Discord refuses empty ones).
fn nonempty(text: String) -> String {
    if text.trim().is_empty() {
        "\u{200b}".to_string()
    } else {
        text
    }
}

/// An embed builder that keeps every part within its limit and the whole within 6000 characters.
#[derive(Debug, Default)]
pub struct Embed {
    title: Option<String>,
    description: Option<String>,
    fields: Vec<(String, String, bool)>,
    footer: Option<String>,
    color: Option<u32>,
}

impl Embed {
    pub fn new(title: &str) -> Embed {
        Embed {
            title: Some(truncate(title, TITLE_MAX)),
            ..Embed::default()
        }
    }

    pub fn description(mut self, text: &str) -> Embed {
        self.description = Some(truncate(text, DESCRIPTION_MAX));
        self
    }

    pub fn color(mut self, color: u32) -> Embed {
        self.color = Some(color);
        self
    }

    pub fn footer(mut self, text: &str) -> Embed {
        self.footer = Some(truncate(text, FOOTER_MAX));
        self
    }

    /// Adds a field; fields past the 25th are dropped.
    pub fn field(mut self, name: &str, value: &str, inline: bool) -> Embed {
        if self.fields.len() < FIELDS_MAX {
            self.fields.push((
                nonempty(truncate(name, FIELD_NAME_MAX)),
                nonempty(truncate(value, FIELD_VALUE_MAX)),
                inline,
            ));
        }
        self
    }

    fn total(&self) -> usize {
        let len = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
        len(&self.title)
            + len(&self.description)
            + len(&self.footer)
            + self
                .fields
                .iter()
                .map(|(n, v, _)| n.chars().count() + v.chars().count())
                .sum::<usize>()
    }

    /// The JSON embed; over 6000 characters, the last fields go first, then the description is cut.
    pub fn build(mut self) -> Value {
        while self.total() > EMBED_TOTAL_MAX && self.fields.len() > 1 {
            self.fields.pop();
        }
        let over = self.total().saturating_sub(EMBED_TOTAL_MAX);
        if over > 0
            && let Some(description) = &self.description
        {
            let keep = description.chars().count().saturating_sub(over);
            self.description = Some(truncate(description, keep.max(1)));
        }
        let over = self.total().saturating_sub(EMBED_TOTAL_MAX);
        if over > 0
            && let Some((_, value, _)) = self.fields.last_mut()
        {
            let keep = value.chars().count().saturating_sub(over).max(1);
            *value = truncate(value, keep);
        }
        let mut embed = json!({});
        if let Some(title) = self.title {
            embed["title"] = json!(title);
        }
        if let Some(description) = self.description {
            embed["description"] = json!(description);
        }
        if let Some(color) = self.color {
            embed["color"] = json!(color);
        }
        if let Some(footer) = self.footer {
            embed["footer"] = json!({ "text": footer });
        }
        if !self.fields.is_empty() {
            embed["fields"] = self
                .fields
                .into_iter()
                .map(|(name, value, inline)| json!({"name": name, "value": value, "inline": inline}))
                .collect();
        }
        embed
    }
}

/// A message body: content (cut to 2000) and embeds.
pub fn message(content: &str, embeds: Vec<Value>) -> Value {
    let mut body =
        json!({ "content": truncate(content, CONTENT_MAX), "embeds": embeds, "allowed_mentions": {"parse": []} });
    if content.is_empty() {
        body.as_object_mut().unwrap().remove("content");
    }
    body
}

/// A plain text reply only the user sees.
pub fn ephemeral(content: &str) -> Value {
    let mut body = message(content, Vec::new());
    body["flags"] = json!(EPHEMERAL);
    body
}

pub fn make_ephemeral(mut body: Value) -> Value {
    body["flags"] = json!(EPHEMERAL);
    body
}

/// `custom_id` values, at most 99 characters (so a modal's id, one letter longer, fits too): long question
/// ids are replaced by a stable hash.
pub fn custom_id(prefix: &str, key: &str) -> String {
    let id = format!("{prefix}:{key}");
    if id.chars().count() < CUSTOM_ID_MAX {
        id
    } else {
        format!("{prefix}#{:016x}", crate::order::stable_hash(0, key))
    }
}

/// Whether a `custom_id` made by [`custom_id`] with `prefix` stands for `key`.
pub fn custom_id_matches(id: &str, prefix: &str, key: &str) -> bool {
    custom_id(prefix, key) == id
}

/// Buttons laid out in rows of 5, at most 5 rows (25 buttons); `(custom_id, label, style)`.
pub fn button_rows(buttons: &[(String, String, u8)]) -> Vec<Value> {
    buttons
        .iter()
        .take(ROWS_MAX * BUTTONS_PER_ROW)
        .map(|(id, label, style)| {
            json!({"type": 2, "style": style, "custom_id": truncate(id, CUSTOM_ID_MAX), "label": truncate(label, LABEL_MAX)})
        })
        .collect::<Vec<_>>()
        .chunks(BUTTONS_PER_ROW)
        .map(|row| json!({"type": 1, "components": row}))
        .collect()
}

pub(super) fn location(path: &str, line: u64) -> String {
    format!("`{path}:{line}`")
}

pub fn ask(locale: Locale, query: &str, results: &SearchResults) -> Value {
    if results.hits.is_empty() {
        let mut text = format!(
            "{} `{}`",
            pick(locale, "該当するノートは見つかりませんでした:", "No notes match"),
            truncate(query, 200)
        );
        if !results.suggestions.is_empty() {
            text.push_str(&format!(
                "\n{} {}",
                pick(locale, "もしかして:", "Did you mean:"),
                results.suggestions.join(", ")
            ));
        }
        return message(&text, Vec::new());
    }
    let mut embed = Embed::new(&format!("🔎 {query}")).color(BLUE);
    for hit in &results.hits {
        let value = format!("{}\n{}", hit.snippet.trim(), location(&hit.path, hit.line));
        embed = embed.field(&hit.heading_path, &value, false);
    }
    message("", vec![embed.build()])
}

/// The modal that asks for a question to rank.
pub fn answer_modal(locale: Locale) -> Value {
    json!({
        "custom_id": "answer",
        "title": truncate(pick(locale, "問題を貼り付け", "Paste a question"), 45),
        "components": [{"type": 1, "components": [{
            "type": 4, "custom_id": "question", "style": 2, "required": true, "min_length": 1, "max_length": 4000,
            "label": pick(locale, "問題文と選択肢 (A. … B. …)", "Question and choices (A. … B. …)"),
        }]}]
    })
}

pub fn flag_modal(locale: Locale, custom_id: &str) -> Value {
    json!({
        "custom_id": custom_id,
        "title": pick(locale, "問題を報告", "Flag this question"),
        "components": [{"type": 1, "components": [{
            "type": 4, "custom_id": "reason", "style": 2, "required": true, "min_length": 1, "max_length": 500,
            "label": pick(locale, "どこが誤り・不明瞭ですか", "What is wrong or unclear?"),
        }]}]
    })
}

pub fn flag_button(locale: Locale, question_id: &str) -> (String, String, u8) {
    (
        custom_id("f", question_id),
        pick(locale, "🚩 報告", "🚩 Flag").to_string(),
        2,
    )
}

/// A quiz question: its embed and one button per choice (plus a flag button when there is room).
pub fn question(
    locale: Locale,
    session: i64,
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
    let mut buttons: Vec<(String, String, u8)> = question
        .choices
        .iter()
        .map(|c| (format!("q:{session}:{index}:{}", c.label), c.label.to_string(), 1))
        .collect();
    if buttons.len() < ROWS_MAX * BUTTONS_PER_ROW {
        buttons.push(flag_button(locale, &question.id));
    }
    let mut body = message("", vec![embed.build()]);
    body["components"] = json!(button_rows(&buttons));
    body
}

fn mention(player: &str) -> String {
    format!("<@{player}>")
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

pub fn quiz_intro(locale: Locale, count: usize, seconds: u64, topic: &str) -> Value {
    let text = match locale {
        Locale::Ja => format!(
            "🎯 クイズ開始: {count} 問、各 {seconds} 秒{}",
            topic_suffix(locale, topic)
        ),
        Locale::En => format!(
            "🎯 Quiz: {count} questions, {seconds} s each{}",
            topic_suffix(locale, topic)
        ),
    };
    message(&text, Vec::new())
}

fn topic_suffix(locale: Locale, topic: &str) -> String {
    if topic.is_empty() {
        String::new()
    } else {
        match locale {
            Locale::Ja => format!(" (トピック: {topic})"),
            Locale::En => format!(" (topic: {topic})"),
        }
    }
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

pub fn leaderboard(locale: Locale, lines: &[LeaderLine]) -> Value {
    let body = if lines.is_empty() {
        pick(locale, "まだ記録がありません", "No scores yet").to_string()
    } else {
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let who = l
                    .user_name
                    .strip_prefix("discord:")
                    .map(mention)
                    .unwrap_or_else(|| l.user_name.clone());
                match locale {
                    Locale::Ja => format!("{}. {who} — {} pt ({} 回)", i + 1, l.points, l.sessions),
                    Locale::En => format!("{}. {who} — {} pt ({} quizzes)", i + 1, l.points, l.sessions),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    message(
        "",
        vec![
            Embed::new(pick(locale, "🏆 ランキング", "🏆 Leaderboard"))
                .description(&body)
                .build(),
        ],
    )
}

pub fn stats(locale: Locale, player: &str, stats: &UserStats) -> Value {
    let rate = if stats.attempts == 0 {
        0.0
    } else {
        stats.correct as f64 * 100.0 / stats.attempts as f64
    };
    let embed = Embed::new(pick(locale, "📊 成績", "📊 Stats"))
        .description(&mention(player))
        .field(
            pick(locale, "回答", "Answers"),
            &format!("{} ({rate:.0}%)", stats.attempts),
            true,
        )
        .field(pick(locale, "正解", "Right"), &stats.correct.to_string(), true)
        .field(pick(locale, "クイズ", "Quizzes"), &stats.sessions.to_string(), true)
        .field(pick(locale, "ポイント", "Points"), &stats.points.to_string(), true)
        .field(
            pick(locale, "復習カード (期限)", "Review cards (due)"),
            &format!("{} ({})", stats.cards, stats.due_cards),
            true,
        );
    message("", vec![embed.build()])
}

/// The personal review: due cards first, then recent misses, each with its source.
pub fn review(locale: Locale, due: &[CardState], items: &[&QuizQuestion]) -> Value {
    if items.is_empty() {
        return ephemeral(pick(
            locale,
            "復習するものはありません。クイズに参加しましょう!",
            "Nothing to review. Join a quiz!",
        ));
    }
    let mut embed = Embed::new(&match locale {
        Locale::Ja => format!("🔁 復習 ({} 件、期限 {} 件)", items.len(), due.len()),
        Locale::En => format!(
            "🔁 Review ({} item{}, {} due)",
            items.len(),
            if items.len() == 1 { "" } else { "s" },
            due.len()
        ),
    });
    for question in items {
        let value = format!(
            "{}\n{}",
            truncate(&question.canonical(), 300),
            location(&question.source.path, question.source.line as u64)
        );
        embed = embed.field(&question.stem, &value, false);
    }
    make_ephemeral(message("", vec![embed.build()]))
}

pub fn help(locale: Locale) -> Value {
    let lines: &[(&str, &str, &str)] = &[
        (
            "/ask",
            "ノートを検索 (出典 file:line 付き)",
            "Search the notes (with file:line)",
        ),
        (
            "/answer",
            "選択問題を貼り付けて根拠付きで順位付け",
            "Paste a multiple-choice question: ranked choices with evidence",
        ),
        (
            "/quiz start",
            "チャンネルでクイズ (ボタンで回答)",
            "A quiz in this channel (answer with buttons)",
        ),
        (
            "/quiz stop",
            "クイズを止める (開始した人かサーバー管理権限)",
            "Stop the quiz (its starter or Manage Server)",
        ),
        ("/leaderboard", "ランキング", "All-time leaderboard"),
        (
            "/review",
            "自分の復習 (自分だけに表示)",
            "Your review of due cards and misses (only you see it)",
        ),
        ("/stats", "成績", "Stats"),
        (
            "/flag",
            "誤りのある問題を報告 (最後に出た問題か ID 指定、🚩 ボタンでも)",
            "Flag a wrong question (the last one shown, or by id; also its 🚩 button)",
        ),
        (
            "/reload",
            "ノートを今すぐ再索引 (サーバー管理権限)",
            "Reindex the notes now (Manage Server)",
        ),
    ];
    let mut embed = Embed::new(pick(locale, "📚 tsumiage の使い方", "📚 Using tsumiage")).color(BLUE);
    for (name, ja, en) in lines {
        embed = embed.field(name, pick(locale, ja, en), false);
    }
    make_ephemeral(message("", vec![embed.build()]))
}

pub fn error(text: &str) -> Value {
    ephemeral(&format!("⚠️ {text}"))
}

/// Autocomplete choices shown as `name` (cut to 100) that fill in `value`.
pub fn autocomplete_pairs(choices: &[(String, String)]) -> Value {
    let choices: Vec<Value> = choices
        .iter()
        .take(25)
        .map(|(name, value)| json!({"name": truncate(name, 100), "value": truncate(value, 100)}))
        .collect();
    json!({ "choices": choices })
}

pub fn autocomplete(choices: &[String]) -> Value {
    let choices: Vec<Value> = choices
        .iter()
        .take(25)
        .map(|c| json!({"name": truncate(c, 100), "value": truncate(c, 100)}))
        .collect();
    json!({ "choices": choices })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::{QuizChoice, SourceRef};

    fn chars(value: &Value) -> usize {
        value.as_str().map_or(0, |s| s.chars().count())
    }

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

    fn assert_within_limits(body: &Value) {
        assert!(chars(&body["content"]) <= CONTENT_MAX);
        let mut total = 0;
        for embed in body["embeds"].as_array().into_iter().flatten() {
            assert!(chars(&embed["title"]) <= TITLE_MAX);
            assert!(chars(&embed["description"]) <= DESCRIPTION_MAX);
            assert!(chars(&embed["footer"]["text"]) <= FOOTER_MAX);
            let fields = embed["fields"].as_array().cloned().unwrap_or_default();
            assert!(fields.len() <= FIELDS_MAX);
            let mut sum = chars(&embed["title"]) + chars(&embed["description"]) + chars(&embed["footer"]["text"]);
            for field in &fields {
                assert!((1..=FIELD_NAME_MAX).contains(&chars(&field["name"])));
                assert!((1..=FIELD_VALUE_MAX).contains(&chars(&field["value"])));
                sum += chars(&field["name"]) + chars(&field["value"]);
            }
            total += sum;
        }
        assert!(total <= EMBED_TOTAL_MAX, "{total}");
        let rows = body["components"].as_array().cloned().unwrap_or_default();
        assert!(rows.len() <= ROWS_MAX);
        for row in rows {
            let buttons = row["components"].as_array().unwrap();
            assert!(buttons.len() <= BUTTONS_PER_ROW);
            for button in buttons {
                assert!((1..=CUSTOM_ID_MAX).contains(&chars(&button["custom_id"])));
                assert!(chars(&button["label"]) <= LABEL_MAX);
            }
        }
    }

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("日本語テキスト", 4).chars().count(), 4);
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

    #[test]
    fn long_ids_become_short_stable_custom_ids() {
        let long = "g".repeat(150);
        let id = custom_id("f", &long);
        assert!(id.chars().count() <= CUSTOM_ID_MAX);
        assert!(custom_id_matches(&id, "f", &long));
        assert!(!custom_id_matches(&id, "f", "other"));
        assert_eq!(custom_id("f", "k-1"), "f:k-1");
    }

    #[test]
    fn a_long_content_and_many_fields_are_cut_not_refused() {
        let body = message(&"x".repeat(5000), vec![]);
        assert_within_limits(&body);
        let mut embed = Embed::new(&"t".repeat(300)).description(&"d".repeat(5000));
        for i in 0..40 {
            embed = embed.field(&format!("f{i}"), &"v".repeat(2000), false);
        }
        let body = message("", vec![embed.build()]);
        assert_within_limits(&body);
        assert!(error("").get("flags").is_some());
    }
}
