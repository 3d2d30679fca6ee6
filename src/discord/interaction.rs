//! The vocabulary every Discord handler shares: an interaction reduced to what the handlers read
//! (`Incoming`), the typed ids of the bot's buttons and modals (`CustomId`), the kinds of first response
//! (`ResponseKind`), the one way a handler fails (`Refusal`, which any error becomes with `?`), the option
//! readers, and the `Responder` that sends the replies. It imports nothing from `commands/`, `router` or
//! `views`: they build on it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use serenity::all::{ActionRowComponent, CommandDataOption, CommandDataOptionValue, Interaction, Member, User};
use tokio::sync::oneshot;

use super::rest::Rest;
use crate::config::Locale;
use crate::store::SessionId;

/// Discord's longest `custom_id` (characters).
pub const CUSTOM_ID_MAX: usize = 100;

/// Where the first response to an interaction goes: Discord's callback route (gateway), or the body of
/// the HTTP request that delivered it (HTTP interactions).
pub enum FirstReply {
    Rest,
    Http(oneshot::Sender<Value>),
}

/// An interaction, reduced to what the handlers read.
pub(crate) struct Incoming {
    pub id: u64,
    pub token: String,
    pub application_id: u64,
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    pub locale: Locale,
    /// Manage Server, as Discord computed it for this interaction (re-checked on every receipt).
    pub manage_guild: bool,
    pub kind: Kind,
}

pub(crate) enum Kind {
    Command {
        name: String,
        options: Vec<CommandDataOption>,
    },
    Autocomplete {
        name: String,
        options: Vec<CommandDataOption>,
    },
    Component {
        custom_id: String,
    },
    Modal {
        custom_id: String,
        fields: HashMap<String, String>,
    },
}

fn member_facts(member: Option<&Member>, user: &User) -> (u64, bool) {
    let manage = member
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.manage_guild() || p.administrator());
    (user.id.get(), manage)
}

impl Incoming {
    /// The interaction as the handlers see it, its locale chosen by `locale_for` from the user's own;
    /// `None` for kinds the bot does not handle (pings are answered by the transports).
    pub fn from(interaction: Interaction, locale_for: impl Fn(&str) -> Locale) -> Option<Incoming> {
        macro_rules! base {
            ($i:expr, $kind:expr) => {{
                let (user_id, manage_guild) = member_facts(
                    $i.member
                        .as_ref()
                        .map(|m| std::borrow::Borrow::<Member>::borrow(m)),
                    &$i.user,
                );
                Incoming {
                    id: $i.id.get(),
                    token: $i.token.clone(),
                    application_id: $i.application_id.get(),
                    guild_id: $i.guild_id.map(|g| g.get()),
                    channel_id: $i.channel_id.get(),
                    user_id,
                    locale: locale_for(&$i.locale),
                    manage_guild,
                    kind: $kind,
                }
            }};
        }
        Some(match interaction {
            Interaction::Command(i) => base!(
                i,
                Kind::Command {
                    name: i.data.name.clone(),
                    options: i.data.options.clone()
                }
            ),
            Interaction::Autocomplete(i) => base!(
                i,
                Kind::Autocomplete {
                    name: i.data.name.clone(),
                    options: i.data.options.clone()
                }
            ),
            Interaction::Component(i) => base!(
                i,
                Kind::Component {
                    custom_id: i.data.custom_id.clone()
                }
            ),
            Interaction::Modal(i) => {
                let fields = i
                    .data
                    .components
                    .iter()
                    .flat_map(|row| &row.components)
                    .filter_map(|c| match c {
                        ActionRowComponent::InputText(input) => {
                            Some((input.custom_id.clone(), input.value.clone().unwrap_or_default()))
                        }
                        _ => None,
                    })
                    .collect();
                base!(
                    i,
                    Kind::Modal {
                        custom_id: i.data.custom_id.clone(),
                        fields
                    }
                )
            }
            _ => return None,
        })
    }

    pub fn channel_key(&self) -> String {
        format!("discord:{}:{}", self.guild_id.unwrap_or(0), self.channel_id)
    }
}

/// How the store names a Discord member.
pub(crate) fn player_name(user_id: u64) -> String {
    format!("discord:{user_id}")
}

/// A handler's failure. `Told` is shown as is; `Internal` was logged where it happened and is shown as
/// "something went wrong" in the user's language. Any error becomes `Internal` with `?`.
#[derive(Debug)]
pub(crate) enum Refusal {
    Told(String),
    Internal,
}

impl Refusal {
    /// A refusal in the user's language.
    pub fn told(locale: Locale, ja: &str, en: &str) -> Refusal {
        Refusal::Told(
            match locale {
                Locale::Ja => ja,
                Locale::En => en,
            }
            .to_string(),
        )
    }

    /// Logs an internal error (with its causes, for `anyhow`) and hides it from the user.
    pub fn internal(error: impl fmt::Display) -> Refusal {
        tracing::error!("{error:#}");
        Refusal::Internal
    }

    /// For an action the bot does not know (a stale or forged button, a command not registered).
    pub fn unknown(locale: Locale) -> Refusal {
        Refusal::told(locale, "この操作は分かりません。", "Unknown action.")
    }

    /// What the user reads.
    pub fn text(&self, locale: Locale) -> String {
        match self {
            Refusal::Told(text) => text.clone(),
            Refusal::Internal => match locale {
                Locale::Ja => "内部エラーが起きました (詳細はボットのログにあります)。",
                Locale::En => "Something went wrong on the bot's side (details are in its log).",
            }
            .to_string(),
        }
    }
}

/// `?` on any error (store, JSON, a task that panicked) logs it and refuses with the internal message.
/// (`anyhow::Error` is not a `std` error: `.map_err(Refusal::internal)` for it.)
impl<E: std::error::Error> From<E> for Refusal {
    fn from(error: E) -> Refusal {
        Refusal::internal(error)
    }
}

/// What a handler returns: the reply's data, or why not.
pub(crate) type Outcome = Result<Value, Refusal>;

/// The first response's `type`, as Discord numbers it. (The bot never updates a component's own message
/// in place, so `DEFERRED_UPDATE_MESSAGE` 6 and `UPDATE_MESSAGE` 7 are not here.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// The answer to a ping (HTTP interactions).
    Pong = 1,
    ChannelMessage = 4,
    /// "The bot is thinking": the message is edited in later.
    Deferred = 5,
    Autocomplete = 8,
    Modal = 9,
}

impl Serialize for ResponseKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(*self as u8)
    }
}

/// Names a question in a flag button and in `/flag`'s autocomplete: its id, or its id's stable hash when
/// the id is too long for a `custom_id` (100 characters, with room for the modal's extra letter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuestionKey {
    Id(String),
    Hash(u64),
}

impl QuestionKey {
    /// The key of the question with this id.
    pub fn of(question_id: &str) -> QuestionKey {
        if question_id.chars().count() + "f:".len() < CUSTOM_ID_MAX {
            QuestionKey::Id(question_id.to_string())
        } else {
            QuestionKey::Hash(crate::order::stable_hash(0, question_id))
        }
    }

    /// Whether this key names the question with this id.
    pub fn names(&self, question_id: &str) -> bool {
        *self == QuestionKey::of(question_id)
    }
}

/// The key as an autocomplete value shows it: the id, or 16 hex digits.
impl fmt::Display for QuestionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuestionKey::Id(id) => f.write_str(id),
            QuestionKey::Hash(hash) => write!(f, "{hash:016x}"),
        }
    }
}

/// The id of every button, modal and modal field the bot makes, and how it is written on the wire:
/// - `q:{session}:{index}:{label}` a quiz's answer button,
/// - `d:{slot}:{label}` a daily post's answer button,
/// - `f:{question id}` or `f#{16 hex digits}` a question's 🚩 button, and the same after `m` for the modal
///   it opens,
/// - `answer` `/answer`'s modal, with its field `question`; `reason` the flag modal's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomId {
    QuizPick {
        session: SessionId,
        index: usize,
        label: char,
    },
    DailyPick {
        slot: String,
        label: char,
    },
    FlagButton(QuestionKey),
    FlagModal(QuestionKey),
    AnswerModal,
    QuestionField,
    ReasonField,
}

impl CustomId {
    /// The 🚩 button of the question with this id.
    pub fn flag_button(question_id: &str) -> CustomId {
        CustomId::FlagButton(QuestionKey::of(question_id))
    }
}

/// A `custom_id` the bot did not make (a stale or forged one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a custom id of this bot: {0:?}")]
pub struct UnknownCustomId(pub String);

fn write_key(f: &mut fmt::Formatter<'_>, key: &QuestionKey) -> fmt::Result {
    match key {
        QuestionKey::Id(id) => write!(f, "f:{id}"),
        QuestionKey::Hash(hash) => write!(f, "f#{hash:016x}"),
    }
}

impl fmt::Display for CustomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CustomId::QuizPick { session, index, label } => write!(f, "q:{session}:{index}:{label}"),
            CustomId::DailyPick { slot, label } => write!(f, "d:{slot}:{label}"),
            CustomId::FlagButton(key) => write_key(f, key),
            CustomId::FlagModal(key) => {
                f.write_str("m")?;
                write_key(f, key)
            }
            CustomId::AnswerModal => f.write_str("answer"),
            CustomId::QuestionField => f.write_str("question"),
            CustomId::ReasonField => f.write_str("reason"),
        }
    }
}

/// `rest` as `{head}:{label}` with a one-character label (which may itself be `:`).
fn split_label(rest: &str) -> Option<(&str, char)> {
    let label = rest.chars().next_back()?;
    let head = rest[..rest.len() - label.len_utf8()].strip_suffix(':')?;
    Some((head, label))
}

fn parse_key(text: &str) -> Option<QuestionKey> {
    if let Some(id) = text.strip_prefix("f:") {
        return Some(QuestionKey::Id(id.to_string()));
    }
    let hex = text.strip_prefix("f#")?;
    let lower_hex = hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    lower_hex
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
        .map(QuestionKey::Hash)
}

fn parse_custom_id(text: &str) -> Option<CustomId> {
    match text {
        "answer" => return Some(CustomId::AnswerModal),
        "question" => return Some(CustomId::QuestionField),
        "reason" => return Some(CustomId::ReasonField),
        _ => {}
    }
    if let Some(rest) = text.strip_prefix("q:") {
        let (numbers, label) = split_label(rest)?;
        let (session, index) = numbers.split_once(':')?;
        return Some(CustomId::QuizPick {
            session: session.parse().ok()?,
            index: index.parse().ok()?,
            label,
        });
    }
    if let Some(rest) = text.strip_prefix("d:") {
        let (slot, label) = split_label(rest)?;
        return Some(CustomId::DailyPick {
            slot: slot.to_string(),
            label,
        });
    }
    if let Some(button) = text.strip_prefix('m') {
        return parse_key(button).map(CustomId::FlagModal);
    }
    parse_key(text).map(CustomId::FlagButton)
}

impl FromStr for CustomId {
    type Err = UnknownCustomId;

    fn from_str(text: &str) -> Result<CustomId, UnknownCustomId> {
        parse_custom_id(text).ok_or_else(|| UnknownCustomId(text.to_string()))
    }
}

/// A string option's value.
pub(crate) fn string_option(options: &[CommandDataOption], name: &str) -> Option<String> {
    options.iter().find_map(|o| match (&o.name[..], &o.value) {
        (n, CommandDataOptionValue::String(s)) if n == name => Some(s.clone()),
        _ => None,
    })
}

pub(crate) fn int_option(options: &[CommandDataOption], name: &str) -> Option<i64> {
    options.iter().find_map(|o| match (&o.name[..], &o.value) {
        (n, CommandDataOptionValue::Integer(i)) if n == name => Some(*i),
        _ => None,
    })
}

pub(crate) fn user_option(options: &[CommandDataOption], name: &str) -> Option<u64> {
    options.iter().find_map(|o| match (&o.name[..], &o.value) {
        (n, CommandDataOptionValue::User(id)) if n == name => Some(id.get()),
        _ => None,
    })
}

pub(crate) fn topic_option(options: &[CommandDataOption]) -> Option<String> {
    string_option(options, "topic")
}

/// The subcommand chosen (`""` when none) and its options.
pub(crate) fn subcommand(options: &[CommandDataOption]) -> (&str, &[CommandDataOption]) {
    match options.first() {
        Some(CommandDataOption {
            name,
            value: CommandDataOptionValue::SubCommand(inner),
            ..
        }) => (name.as_str(), inner.as_slice()),
        _ => ("", &[]),
    }
}

/// The focused option of an autocomplete request: its name and what the user has typed so far.
pub(crate) fn focused_value(options: &[CommandDataOption]) -> Option<(String, String)> {
    for option in options {
        match &option.value {
            CommandDataOptionValue::Autocomplete { value, .. } => return Some((option.name.clone(), value.clone())),
            CommandDataOptionValue::SubCommand(inner) | CommandDataOptionValue::SubCommandGroup(inner) => {
                if let Some(found) = focused_value(inner) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// Sends the first response and the edits for one interaction.
pub(crate) struct Responder {
    rest: Rest,
    id: u64,
    token: String,
    application_id: u64,
    first: Option<FirstReply>,
    /// When the interaction was received, and how long after it the first response went out.
    received: std::time::Instant,
    answered_after: Option<std::time::Duration>,
}

impl Responder {
    pub fn new(rest: Rest, incoming: &Incoming, first: FirstReply) -> Responder {
        Responder {
            rest,
            id: incoming.id,
            token: incoming.token.clone(),
            application_id: incoming.application_id,
            first: Some(first),
            received: std::time::Instant::now(),
            answered_after: None,
        }
    }

    /// From receipt to the first response (handed to the HTTP transport, or accepted by the callback
    /// route); `None` before it is sent.
    pub fn answered_after(&self) -> Option<std::time::Duration> {
        self.answered_after
    }

    /// The first response; only one is sent.
    pub async fn first(&mut self, kind: ResponseKind, data: Option<Value>) {
        let mut body = json!({ "type": kind });
        if let Some(data) = data {
            body["data"] = data;
        }
        match self.first.take() {
            Some(FirstReply::Http(sender)) => {
                let _ = sender.send(body);
            }
            Some(FirstReply::Rest) => {
                let route = format!("/interactions/{}/{}/callback", self.id, self.token);
                if let Err(error) = self.rest.post(&route, &body).await {
                    tracing::error!("responding to an interaction failed: {error}");
                }
            }
            None => {
                tracing::error!("a second first response was attempted and dropped");
                return;
            }
        }
        self.answered_after = Some(self.received.elapsed());
    }

    /// Replaces the first response's message (after a defer).
    pub async fn edit_original(&self, data: &Value) {
        let route = format!("/webhooks/{}/{}/messages/@original", self.application_id, self.token);
        let mut data = data.clone();
        if let Some(object) = data.as_object_mut() {
            object.remove("flags");
        }
        if let Err(error) = self.rest.patch(&route, &data).await {
            tracing::error!("editing a deferred reply failed: {error}");
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// A character as labels and ids may hold: ASCII, `:`, circled digits, kana, emoji.
    fn any_char(rng: &mut ChaCha8Rng) -> char {
        const SOME: &[char] = &['A', 'Z', ':', '#', 'm', 'f', '①', '⑳', 'あ', '🚩', ' ', '-'];
        if rng.random_bool(0.5) {
            SOME[rng.random_range(0..SOME.len())]
        } else {
            char::from_u32(rng.random_range(0x20..0x3000)).unwrap_or('x')
        }
    }

    fn any_text(rng: &mut ChaCha8Rng, max: usize) -> String {
        let len = rng.random_range(0..=max);
        (0..len).map(|_| any_char(rng)).collect()
    }

    fn any_custom_id(rng: &mut ChaCha8Rng) -> CustomId {
        match rng.random_range(0..7) {
            0 => CustomId::QuizPick {
                session: rng.random(),
                index: rng.random::<u64>() as usize,
                label: any_char(rng),
            },
            1 => CustomId::DailyPick {
                slot: any_text(rng, 30),
                label: any_char(rng),
            },
            2 => CustomId::flag_button(&any_text(rng, 150)),
            3 => CustomId::FlagModal(QuestionKey::of(&any_text(rng, 150))),
            4 => CustomId::AnswerModal,
            5 => CustomId::QuestionField,
            _ => CustomId::ReasonField,
        }
    }

    #[test]
    fn every_custom_id_reads_back_as_itself() {
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        for _ in 0..20_000 {
            let id = any_custom_id(&mut rng);
            let text = id.to_string();
            assert_eq!(text.parse::<CustomId>(), Ok(id), "{text:?}");
        }
    }

    #[test]
    fn the_ids_the_bot_makes_fit_discords_100_characters() {
        let mut rng = ChaCha8Rng::seed_from_u64(100);
        let fits = |id: CustomId| {
            let text = id.to_string();
            assert!((1..=CUSTOM_ID_MAX).contains(&text.chars().count()), "{text:?}");
        };
        for _ in 0..5_000 {
            let question_id = any_text(&mut rng, 300);
            fits(CustomId::flag_button(&question_id));
            fits(CustomId::FlagModal(QuestionKey::of(&question_id)));
            let label = any_char(&mut rng);
            fits(CustomId::QuizPick {
                session: rng.random(),
                index: rng.random::<u64>() as usize,
                label,
            });
            // Slots are dates, or `try-` and the trial's Unix milliseconds.
            let slot = if rng.random_bool(0.5) {
                format!("try-{}", rng.random::<i64>())
            } else {
                format!("{:04}-{:02}-{:02}", rng.random_range(0..10_000), 1, 31)
            };
            fits(CustomId::DailyPick { slot, label });
        }
        fits(CustomId::QuizPick {
            session: SessionId::MIN,
            index: usize::MAX,
            label: '🚩',
        });
    }

    #[test]
    fn the_wire_format_is_the_one_posted_buttons_carry() {
        let quiz = CustomId::QuizPick {
            session: 1,
            index: 0,
            label: 'A',
        };
        assert_eq!(quiz.to_string(), "q:1:0:A");
        let daily = CustomId::DailyPick {
            slot: "2026-11-27".into(),
            label: 'B',
        };
        assert_eq!(daily.to_string(), "d:2026-11-27:B");
        assert_eq!(CustomId::flag_button("k-1").to_string(), "f:k-1");
        assert_eq!(CustomId::FlagModal(QuestionKey::of("k-1")).to_string(), "mf:k-1");
        let long = "g".repeat(150);
        let button = CustomId::flag_button(&long).to_string();
        assert!(button.starts_with("f#") && button.len() == 18, "{button}");
        assert!(QuestionKey::of(&long).names(&long));
        assert!(!QuestionKey::of(&long).names("other"));
        assert_eq!(QuestionKey::of(&"g".repeat(97)), QuestionKey::Id("g".repeat(97)));
        assert!(matches!(QuestionKey::of(&"g".repeat(98)), QuestionKey::Hash(_)));
    }

    #[test]
    fn ids_the_bot_did_not_make_are_refused() {
        for text in [
            "",
            "q:",
            "q:1:0:",
            "q:1:0:AB",
            "q:x:0:A",
            "q:1:A",
            "d:A",
            "d:slot:",
            "f",
            "f#123",
            "f#ZZZZZZZZZZZZZZZZ",
            "m",
            "mq:1:0:A",
            "answers",
            "x:1",
        ] {
            assert!(text.parse::<CustomId>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn response_kinds_are_discords_numbers() {
        let numbers = [
            (ResponseKind::Pong, 1),
            (ResponseKind::ChannelMessage, 4),
            (ResponseKind::Deferred, 5),
            (ResponseKind::Autocomplete, 8),
            (ResponseKind::Modal, 9),
        ];
        for (kind, number) in numbers {
            assert_eq!(json!({ "type": kind }), json!({ "type": number }));
        }
    }

    #[test]
    fn any_error_becomes_an_internal_refusal_shown_in_the_users_language() {
        fn fails() -> Result<(), Refusal> {
            let _: Value = serde_json::from_str("{")?;
            Ok(())
        }
        let refusal = fails().unwrap_err();
        assert!(matches!(refusal, Refusal::Internal));
        assert!(refusal.text(Locale::En).contains("Something went wrong"));
        assert!(refusal.text(Locale::Ja).contains("内部エラー"));
        assert_eq!(
            Refusal::told(Locale::En, "だめ", "No.").text(Locale::Ja),
            "No.",
            "a told refusal is already in its language"
        );
    }
}
