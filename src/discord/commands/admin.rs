//! What only members with Manage Server may do: the check every admin command passes on receipt (Discord
//! hides these commands from others, but a server can override that), and `/reload`, which reindexes the
//! notes now. (`/daily` is an admin command too: `commands::daily`.)

use std::sync::Arc;

use serde_json::Value;

use super::common::{ADMIN_COMMANDS, slash_command, text};
use crate::config::Locale;
use crate::discord::Bot;
use crate::discord::interaction::{Outcome, Refusal};
use crate::discord::views::ephemeral;

/// `/reload`.
pub fn definition() -> Value {
    slash_command(
        text(
            "reload",
            "再読み込み",
            "Reindex the notes now (Manage Server)",
            "ノートを今すぐ再索引 (サーバー管理)",
        ),
        vec![],
    )
}

/// Whether `command` needs Manage Server (which the member must have, as Discord reports it).
pub(crate) fn needs_manage_server(command: &str) -> bool {
    ADMIN_COMMANDS.contains(&command)
}

pub(crate) fn manage_server_needed(locale: Locale) -> Refusal {
    Refusal::told(
        locale,
        "このコマンドには「サーバー管理」権限が必要です。",
        "This command needs the Manage Server permission.",
    )
}

/// `/reload`: reindexes the notes and swaps them in.
pub(crate) async fn reload(bot: Arc<Bot>, locale: Locale) -> Outcome {
    let reloaded = bot.reload_now().await;
    if let Ok(Some(_)) = reloaded {
        bot.announce(crate::store::Topic::Notes);
    }
    match reloaded {
        Ok(Some(sections)) => Ok(ephemeral(&match locale {
            Locale::Ja => format!("🔄 ノートを再索引しました ({sections} セクション)。"),
            Locale::En => format!("🔄 Notes reindexed ({sections} sections)."),
        })),
        Ok(None) => Err(Refusal::told(
            locale,
            "このボットには再読み込みするノートのフォルダがありません。",
            "This bot has no notes folder to reload.",
        )),
        Err(error) => Err(Refusal::internal(format!("reloading the notes failed: {error:#}"))),
    }
}
