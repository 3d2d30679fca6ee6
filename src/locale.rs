//! The language replies are in: Japanese (the default: the group's notes are Japanese) or English. Every
//! front end and the core's user-facing errors speak it.

use serde::Deserialize;

/// The language of replies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Ja,
    En,
}

impl std::str::FromStr for Locale {
    type Err = UnknownLocale;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_lowercase().as_str() {
            "ja" | "ja-jp" | "japanese" => Ok(Locale::Ja),
            "en" | "en-us" | "en-gb" | "english" => Ok(Locale::En),
            other => Err(UnknownLocale(other.to_string())),
        }
    }
}

/// A locale name that is neither Japanese nor English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not `ja` or `en`")]
pub struct UnknownLocale(pub String);
