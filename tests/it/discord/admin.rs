//! Manage Server commands (declared with `default_member_permissions`, re-checked on receipt) and `/flag`.

use serde_json::{Value, json};
use tsumiage::store::{Flags, SqliteStore};

use super::server::{CHANNEL_ID, FakeDiscord};
use super::{WAIT, assert_one_response_each, callback_for, exchange, slash, start_with};

fn with_permissions(mut interaction: Value, permissions: &str) -> Value {
    interaction["member"]["permissions"] = json!(permissions);
    interaction
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_declare_manage_server_and_are_rechecked_on_receipt() {
    let running = start_with(|_| {}).await;
    let discord = &running.discord;
    let commands = discord.commands();
    let find = |name: &str| {
        commands
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not registered: {commands}"))
    };
    assert_eq!(find("reload")["default_member_permissions"], 32);
    assert!(find("ask").get("default_member_permissions").is_none());
    assert!(find("flag").get("default_member_permissions").is_none());

    // Without Manage Server (a server may have overridden the default): refused, ephemeral, clear.
    let sent = with_permissions(slash(discord, "5001", "reload", json!([])), "0");
    let refused = exchange(discord, sent.clone()).await;
    assert_eq!(refused["data"]["flags"], 64, "{refused}");
    assert!(refused.to_string().contains("Manage Server"), "{refused}");
    // With Manage Server (32) or Administrator (8): carried out (this bot has no notes folder to reload).
    for permissions in ["32", "8"] {
        let sent = with_permissions(slash(discord, "5002", "reload", json!([])), permissions);
        let reply = exchange(discord, sent.clone()).await;
        assert!(reply.to_string().contains("no notes folder"), "{reply}");
    }
    assert_one_response_each(discord);
}

/// `/flag` from user `user` with these options, and the bot's reply.
async fn flag(discord: &FakeDiscord, user: &str, options: Value) -> Value {
    exchange(discord, slash(discord, user, "flag", options)).await
}

/// The ids `/flag`'s question option offers for what was typed.
async fn flag_completions(discord: &FakeDiscord, typed: &str) -> Vec<String> {
    let mut sent = slash(
        discord,
        "6001",
        "flag",
        json!([{"name": "reason", "type": 3, "value": "x"},
               {"name": "question", "type": 3, "value": typed, "focused": true}]),
    );
    sent["type"] = json!(4);
    let choices = exchange(discord, sent).await;
    assert_eq!(choices["type"], 8, "{choices}");
    choices["data"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["value"].as_str().unwrap().to_string())
        .collect()
}

/// Starts a quiz and returns the id of the question it shows first.
async fn quiz_shows_a_question(discord: &FakeDiscord) -> &'static str {
    let start = slash(
        discord,
        "6002",
        "quiz",
        json!([{"name": "start", "type": 1, "options": [{"name": "seconds", "type": 4, "value": 120}]}]),
    );
    discord.dispatch("INTERACTION_CREATE", start.clone());
    callback_for(discord, &start).await;
    let posted = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    let question = discord
        .wait_for("first question", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "POST" && r.path == posted && r.body.get("components").is_some())
                .map(|r| r.body.clone())
        })
        .await;
    if question.to_string().contains("f:kin-001") {
        "kin-001"
    } else {
        "kin-002"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flag_takes_the_last_question_shown_or_an_autocompleted_id_and_stores_the_reason() {
    let running = start_with(|_| {}).await;
    let discord = &running.discord;

    // Nothing shown yet and no id: told what to do.
    let reply = flag(discord, "6001", json!([{"name": "reason", "type": 3, "value": "typo"}])).await;
    assert!(reply.to_string().contains("No question was shown"), "{reply}");

    // The question option autocompletes ids and stems.
    assert_eq!(flag_completions(discord, "kin-00").await, ["kin-001", "kin-002"]);

    // By id.
    let by_id = json!([{"name": "reason", "type": 3, "value": "the key says 24 h, the notes too?"},
                       {"name": "question", "type": 3, "value": "kin-002"}]);
    let reply = flag(discord, "6001", by_id).await;
    assert_eq!(reply["data"]["flags"], 64, "{reply}");
    assert!(reply.to_string().contains("kin-002"), "{reply}");
    assert!(reply.to_string().contains("questions/kinesis.md:"), "{reply}");

    // An unknown id is refused clearly.
    let unknown =
        json!([{"name": "reason", "type": 3, "value": "?"}, {"name": "question", "type": 3, "value": "nope-9"}]);
    let reply = flag(discord, "6001", unknown).await.to_string();
    assert!(
        reply.contains("not in the notes (removed, or a mistyped id)"),
        "{reply}"
    );

    // During a quiz, without an id: the question on screen.
    let shown_id = quiz_shows_a_question(discord).await;
    let reply = flag(
        discord,
        "6003",
        json!([{"name": "reason", "type": 3, "value": "ambiguous wording"}]),
    )
    .await;
    assert!(reply.to_string().contains(shown_id), "{shown_id}: {reply}");

    // Both flags are in the store, with their reasons and sources.
    let store = SqliteStore::open(&running._dir.path().join("store.sqlite")).unwrap();
    let flags: Vec<(String, String)> = store
        .flags()
        .unwrap()
        .into_iter()
        .map(|f| (f.question_id, f.reason))
        .collect();
    assert!(
        flags.contains(&("kin-002".into(), "the key says 24 h, the notes too?".into())),
        "{flags:?}"
    );
    assert!(
        flags.contains(&(shown_id.into(), "ambiguous wording".into())),
        "{flags:?}"
    );
    assert_one_response_each(discord);
}
