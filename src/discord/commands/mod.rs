//! The slash commands: one module per command the user types, each with the views of its replies (the
//! posts the quiz and daily engines send are `views::quiz` and `views::daily`). Here: the commands as
//! Discord registers them (names and descriptions in English with Japanese localizations), and their
//! idempotent registration: a bulk overwrite (PUT) to the development guild when `discord.dev_guild_id`
//! is set, globally otherwise. Commands import `interaction`, `views` and the engines, never `router`.

pub mod admin;
pub mod answer;
pub mod ask;
mod common;
pub mod daily;
pub mod flag;
pub mod help;
pub mod leaderboard;
pub mod quiz;
pub mod review;
pub mod stats;

use serde_json::{Value, json};

use super::Bot;
use super::rest::RestError;

pub use common::{ADMIN_COMMANDS, MANAGE_GUILD};

/// Every command, as the bulk-overwrite body.
pub fn definitions() -> Value {
    json!([
        ask::definition(),
        answer::definition(),
        quiz::definition(),
        leaderboard::definition(),
        review::definition(),
        stats::definition(),
        flag::definition(),
        admin::definition(),
        help::definition(),
        daily::definition(),
    ])
}

/// Overwrites the registered commands with `definitions()`: running it twice changes nothing.
pub async fn register(bot: &Bot) -> Result<usize, RestError> {
    let app = bot.application_id();
    let route = match bot.config.discord.dev_guild_id {
        Some(guild) => format!("/applications/{app}/guilds/{guild}/commands"),
        None => format!("/applications/{app}/commands"),
    };
    let registered = bot.rest.put(&route, &definitions()).await?;
    Ok(registered.as_array().map_or(0, Vec::len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_fit_discords_rules() {
        let commands = definitions();
        let name_ok = |n: &str| (1..=32).contains(&n.chars().count()) && n == n.to_lowercase() && !n.contains(' ');
        fn walk(value: &Value, check: &dyn Fn(&Value)) {
            check(value);
            for option in value["options"].as_array().into_iter().flatten() {
                walk(option, check);
            }
        }
        for command in commands.as_array().unwrap() {
            walk(command, &|v: &Value| {
                assert!(name_ok(v["name"].as_str().unwrap()), "{v}");
                assert!(name_ok(v["name_localizations"]["ja"].as_str().unwrap()), "{v}");
                for d in [&v["description"], &v["description_localizations"]["ja"]] {
                    assert!((1..=100).contains(&d.as_str().unwrap().chars().count()), "{v}");
                }
                assert!(v["options"].as_array().map_or(0, Vec::len) <= 25);
            });
        }
    }

    #[test]
    fn admin_commands_need_manage_server_and_others_do_not() {
        for command in definitions().as_array().unwrap() {
            let name = command["name"].as_str().unwrap();
            let needed = command.get("default_member_permissions");
            if ADMIN_COMMANDS.contains(&name) {
                assert_eq!(needed, Some(&json!(32)), "{name}");
            } else {
                assert_eq!(needed, None, "{name}");
            }
        }
        assert!(
            ADMIN_COMMANDS
                .iter()
                .all(|a| definitions().to_string().contains(&format!("\"{a}\"")))
        );
    }
}
