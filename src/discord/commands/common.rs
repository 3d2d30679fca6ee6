//! What the commands share: the pieces of a command's definition (Discord's option types by name, texts
//! in English with Japanese localizations, the slash command's frame with its permissions), the admin
//! commands, and the refusal for a question the notes no longer hold. A leaf: it imports no command.

use serde_json::{Value, json};

use crate::config::Locale;
use crate::discord::interaction::Refusal;

/// Discord's application command option types, and the slash command's own type, by name.
pub const SUB_COMMAND: u8 = 1;
pub const STRING: u8 = 3;
pub const INTEGER: u8 = 4;
pub const BOOLEAN: u8 = 5;
pub const USER: u8 = 6;
pub const CHANNEL: u8 = 7;
pub const ROLE: u8 = 8;
pub const CHAT_INPUT: u8 = 1;

/// Discord's Manage Server permission bit (`MANAGE_GUILD`, 1 << 5).
pub const MANAGE_GUILD: u64 = 1 << 5;

/// Commands only members with Manage Server may use: registered with `default_member_permissions` (so
/// Discord hides them from others) and re-checked on every receipt (a server can override the default).
pub const ADMIN_COMMANDS: &[&str] = &["reload", "daily"];

/// A name and description, in English with their Japanese localizations.
pub fn text(name: &str, ja_name: &str, en: &str, ja: &str) -> Value {
    json!({
        "name": name, "name_localizations": {"ja": ja_name},
        "description": en, "description_localizations": {"ja": ja},
    })
}

/// An option (or subcommand) of `kind`, named and described by `text`.
pub fn option(kind: u8, text: Value) -> Value {
    with(text, "type", json!(kind))
}

pub fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

/// A slash command in servers only, with its options (required ones first); an admin command is hidden
/// from members without Manage Server.
pub fn slash_command(text: Value, options: Vec<Value>) -> Value {
    let mut command = with(text, "type", json!(CHAT_INPUT));
    if !options.is_empty() {
        command["options"] = json!(options);
    }
    command["contexts"] = json!([0]);
    if ADMIN_COMMANDS.contains(&command["name"].as_str().unwrap_or("")) {
        // An integer, as Discord's OpenAPI description has it for requests (responses carry a string).
        command["default_member_permissions"] = json!(MANAGE_GUILD);
    }
    command
}

/// The `topic` option of `/quiz start` and `/daily set`, completed as the user types.
pub fn topic_definition() -> Value {
    let mut topic = option(
        STRING,
        text(
            "topic",
            "トピック",
            "Only questions about this service or tag",
            "サービスやタグで絞り込み",
        ),
    );
    topic["autocomplete"] = json!(true);
    topic
}

/// The refusal for a question id the notes no longer hold (edited away, or mistyped).
pub(crate) fn question_gone(locale: Locale) -> Refusal {
    Refusal::told(
        locale,
        "その問題はノートにありません (削除されたか、ID の誤り)。",
        "That question is not in the notes (removed, or a mistyped id).",
    )
}
