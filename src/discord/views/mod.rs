//! The building blocks of what the bot shows in Discord, as plain JSON message bodies: embeds, buttons,
//! ephemeral replies and refusals, always within Discord's limits (content 2000, embed title 256,
//! description 4096, 25 fields of 256/1024, footer 2048, 6000 per message; 5 rows of 5 buttons, custom_id
//! 100, label 80). Text that does not fit is cut with `…`, never refused. Each command's own views live
//! with the command (`commands/`); the posts the quiz and daily engines send live here (`quiz`, `daily`),
//! since the engines may not import the commands. Pure: no I/O, unit-tested here. Imports nothing from
//! `commands/` or `router`.

pub mod daily;
pub mod quiz;

use serde_json::{Value, json};

pub use super::interaction::CUSTOM_ID_MAX;
use super::interaction::CustomId;
use crate::config::Locale;

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
pub const LABEL_MAX: usize = 80;
/// Message flag: only the user who acted sees the reply.
pub const EPHEMERAL: u64 = 64;

pub const BLUE: u32 = 0x3b82f6;
pub const GREEN: u32 = 0x22c55e;
pub const GREY: u32 = 0x6b7280;
pub const ORANGE: u32 = 0xf59e0b;

/// Discord's component types, and the text input's style, by name.
pub const ACTION_ROW: u8 = 1;
pub const BUTTON: u8 = 2;
pub const TEXT_INPUT: u8 = 4;
/// A multi-line text input.
pub const PARAGRAPH: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonStyle {
    Primary = 1,
    Secondary = 2,
}

/// A button: what it sends back, what it says, how it looks.
#[derive(Debug, Clone)]
pub struct Button {
    pub id: CustomId,
    pub label: String,
    pub style: ButtonStyle,
}

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

/// Buttons laid out in rows of 5, at most 5 rows (25 buttons).
pub fn button_rows(buttons: &[Button]) -> Vec<Value> {
    buttons
        .iter()
        .take(ROWS_MAX * BUTTONS_PER_ROW)
        .map(|button| {
            json!({"type": BUTTON, "style": button.style as u8, "custom_id": button.id.to_string(),
                   "label": truncate(&button.label, LABEL_MAX)})
        })
        .collect::<Vec<_>>()
        .chunks(BUTTONS_PER_ROW)
        .map(|row| json!({"type": ACTION_ROW, "components": row}))
        .collect()
}

/// A question's 🚩 button (it opens the flag modal).
pub fn flag_button(locale: Locale, question_id: &str) -> Button {
    Button {
        id: CustomId::flag_button(question_id),
        label: pick(locale, "🚩 報告", "🚩 Flag").to_string(),
        style: ButtonStyle::Secondary,
    }
}

/// Where a note says it: `path:line` in code.
pub fn location(path: &str, line: u64) -> String {
    format!("`{path}:{line}`")
}

pub fn mention(player: &str) -> String {
    format!("<@{player}>")
}

/// A refusal: an ephemeral warning.
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
fn chars(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

/// Test helper: asserts that a message body keeps every Discord limit.
#[cfg(test)]
pub(crate) fn assert_within_limits(body: &Value) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters_and_marks_the_cut() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "ab…");
        assert_eq!(truncate("日本語テキスト", 4).chars().count(), 4);
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
