//! The bot's behaviour over the gateway, as a Discord server sees it.

use std::time::Duration;

use serde_json::{Value, json};

use super::server::{CHANNEL_ID, FakeDiscord};
use super::{WAIT, assert_one_response_each, callback_for, exchange, modal_submit, press, slash, start_with};

fn text_of(body: &Value) -> String {
    body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_gets_an_answer_with_file_and_line_and_commands_are_registered_once() {
    let running = start_with(|_| {}).await;
    let discord = &running.discord;
    let commands = discord.commands();
    let names: Vec<&str> = commands
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ask") && names.contains(&"quiz"), "{names:?}");
    assert_eq!(commands[0]["name_localizations"]["ja"], "質問");

    let sent = slash(
        discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "Kinesis 保持期間"}]),
    );
    let reply = exchange(discord, sent.clone()).await;
    assert_eq!(reply["type"], 4, "{reply}");
    let text = text_of(&reply["data"]);
    assert!(text.contains("kinesis.md:"), "{text}");
    assert!(text.contains("24"), "{text}");

    // Nothing found: "did you mean".
    let sent = slash(
        discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "kinesys"}]),
    );
    let reply = exchange(discord, sent.clone()).await;
    assert_eq!(reply["type"], 4, "{reply}");

    // /answer opens a modal; its submission gets the ranked choices.
    let sent = slash(discord, "1001", "answer", json!([]));
    let reply = exchange(discord, sent.clone()).await;
    assert_eq!(reply["type"], 9, "{reply}");
    let sent = modal_submit(
        discord,
        "1001",
        "answer",
        "question",
        "Kinesis Data Streams の既定の保持期間は?\nA. 1 時間\nB. 24 時間\nC. 30 日\n",
    );
    let reply = exchange(discord, sent.clone()).await;
    assert!(text_of(&reply).contains("kinesis.md:"), "{reply}");

    // Autocomplete offers topics.
    let mut sent = slash(
        discord,
        "1001",
        "quiz",
        json!([{"name": "start", "type": 1, "options": [{"name": "topic", "type": 3, "value": "kin", "focused": true}]}]),
    );
    sent["type"] = json!(4);
    let reply = exchange(discord, sent.clone()).await;
    assert_eq!(reply["type"], 8);
    assert!(text_of(&reply).contains("Kinesis"), "{reply}");

    // /help and unknown things are answered, never silent.
    let sent = slash(discord, "1001", "help", json!([]));
    discord.dispatch("INTERACTION_CREATE", sent.clone());
    assert_eq!(callback_for(discord, &sent).await["data"]["flags"], 64);
    assert_eq!(running.bot.background_starts(), 1);
    assert_one_response_each(discord);
}

/// The `index`-th quiz question the bot posted in the test channel (0-based), once it is there.
async fn nth_question(discord: &FakeDiscord, index: usize) -> Value {
    let posted = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    discord
        .wait_for(&format!("question {index}"), WAIT, |r| {
            r.iter()
                .filter(|r| r.method == "POST" && r.path == posted && r.body.get("components").is_some())
                .nth(index)
                .map(|r| r.body.clone())
        })
        .await
}

/// The custom id of the answer button labelled `label` on a posted question.
fn button_for(question: &Value, label: char) -> String {
    question["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .map(|b| b["custom_id"].as_str().unwrap().to_string())
        .find(|id| id.starts_with("q:") && id.ends_with(&format!(":{label}")))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiz_with_three_players_ends_with_the_right_scoreboard() {
    three_players(&start_with(|_| {}).await).await;
}

/// The same gateway quiz, picks, reveals, scoreboard and `/leaderboard`, on a fresh PostgreSQL database
/// (skipped, with the store contract's one notice, when no server is set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_quiz_with_three_players_ends_with_the_right_scoreboard() {
    let Some(database) = super::replica_store::SharedStore::postgres() else {
        return;
    };
    three_players(&super::start_on(Some(database.open()), |_| {}).await).await;
}

/// Three players, two questions: the scoreboard ranks them and `/leaderboard` reads the store.
async fn three_players(running: &super::Running) {
    let discord = &running.discord;
    // 2 questions, 20 "seconds" of 100 ms each.
    let sent = slash(
        discord,
        "2001",
        "quiz",
        json!([{"name": "start", "type": 1, "options": [
            {"name": "topic", "type": 3, "value": "kinesis"},
            {"name": "count", "type": 4, "value": 2},
            {"name": "seconds", "type": 4, "value": 20}]}]),
    );
    let intro = exchange(discord, sent.clone()).await;
    assert_eq!(intro["type"], 4, "{intro}");

    // A second quiz in the same channel is refused.
    let again = slash(
        discord,
        "2002",
        "quiz",
        json!([{"name": "start", "type": 1, "options": []}]),
    );
    discord.dispatch("INTERACTION_CREATE", again.clone());
    assert_eq!(callback_for(discord, &again).await["data"]["flags"], 64);

    let posted = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    for index in 0..2 {
        let question = nth_question(discord, index).await;
        let (right, wrong) = super::shown_right_and_wrong(&question, super::library().questions());
        let (right, wrong) = (button_for(&question, right), button_for(&question, wrong));
        // alice always right; bob right on the first only; carol wrong then changes to right on the first.
        let picks: Vec<(&str, &String)> = match index {
            0 => vec![("3001", &right), ("3002", &right), ("3003", &wrong), ("3003", &right)],
            _ => vec![("3001", &right), ("3002", &wrong), ("3003", &wrong)],
        };
        for (player, custom_id) in picks {
            let pressed = press(discord, player, custom_id, &question);
            let ack = exchange(discord, pressed.clone()).await;
            assert_eq!(ack["type"], 4, "{ack}");
            assert_eq!(
                ack["data"]["flags"], 64,
                "picks are acknowledged to the player only: {ack}"
            );
        }
    }
    let board = discord
        .wait_for("scoreboard", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "POST" && r.path == posted && r.body.to_string().contains("🏁"))
                .map(|r| r.body["embeds"][0]["description"].as_str().unwrap().to_string())
        })
        .await;
    assert_eq!(
        board, "1. <@3001> — 2 pt\n2. <@3002> — 1 pt\n2. <@3003> — 1 pt",
        "{board}"
    );
    // Both questions were edited to reveal the answer and who was right.
    let reveals = discord.count_requests(|r| r.method == "PATCH" && r.path.starts_with(&posted));
    assert_eq!(reveals, 2);

    // The leaderboard reads the store.
    let sent = slash(discord, "2001", "leaderboard", json!([]));
    let reply = exchange(discord, sent.clone()).await;
    assert!(text_of(&reply).contains("<@3001> — 2 pt"), "{reply}");
    assert_one_response_each(discord);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_not_ready_in_time_is_deferred_then_edited_in() {
    // 0: no reply is ever ready in time, so this one is deferred however quick the search.
    let running = start_with(|config| config.discord.defer_after_ms = 0).await;
    let discord = &running.discord;
    let sent = slash(
        discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "シャード"}]),
    );
    let dispatched = std::time::Instant::now();
    let deferred = exchange(discord, sent.clone()).await;
    assert_eq!(deferred["type"], 5, "{deferred}");
    let token = sent["token"].as_str().unwrap().to_string();
    let edit = discord
        .wait_for("edited original", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "PATCH" && r.path.ends_with(&format!("{token}/messages/@original")))
                .map(|r| (r.body.clone(), r.at))
        })
        .await;
    let defer_at = discord
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/callback") && r.path.contains(&token))
        .unwrap()
        .at;
    assert!(defer_at.duration_since(dispatched) < Duration::from_millis(2500));
    assert!(edit.1 > defer_at);
    assert!(text_of(&edit.0).contains("kinesis.md:"), "{}", edit.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_429_is_retried_after_retry_after_without_a_duplicate() {
    let running = start_with(|_| {}).await;
    let discord = &running.discord;
    let sent = slash(
        discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "SQS 可視性タイムアウト"}]),
    );
    let token = sent["token"].as_str().unwrap().to_string();
    discord.rate_limit_next(&token, 0.3);
    let reply = exchange(discord, sent.clone()).await;
    assert!(text_of(&reply).contains("sqs.md:"), "{reply}");
    let tries: Vec<_> = discord
        .requests()
        .into_iter()
        .filter(|r| r.path.contains(&token))
        .collect();
    assert_eq!(tries.len(), 2, "one 429, one retry: {tries:?}");
    assert_eq!(tries[0].status, 429);
    assert!(tries[1].status < 300);
    assert!(tries[1].at.duration_since(tries[0].at) >= Duration::from_millis(300));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_gateway_connection_is_resumed_and_the_bot_keeps_answering() {
    let mut running = start_with(|_| {}).await;
    let discord = &running.discord;
    discord.drop_gateway();
    // Sent while the connection is down: replayed on RESUME.
    let sent = slash(
        discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "Kinesis 保持期間"}]),
    );
    let reply = exchange(discord, sent.clone()).await;
    assert!(text_of(&reply).contains("kinesis.md:"), "{reply}");
    assert!(discord.resumes() >= 1, "resumed");
    assert_eq!(discord.identifies(), 1, "no new session");

    // op 7: reconnect and resume again; still answering; background tasks were started once.
    discord.send_reconnect();
    let sent = slash(
        discord,
        "1001",
        "ask",
        json!([{"name": "query", "type": 3, "value": "シャード"}]),
    );
    let reply = exchange(discord, sent.clone()).await;
    assert!(text_of(&reply).contains("kinesis.md:"), "{reply}");
    assert_eq!(running.bot.background_starts(), 1);

    // Graceful shutdown: the run future returns.
    running.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(WAIT, &mut running.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_is_for_the_starter_or_manage_server_and_flags_review_stats_answer() {
    let running = start_with(|_| {}).await;
    let discord = &running.discord;
    let start = slash(
        discord,
        "4001",
        "quiz",
        json!([{"name": "start", "type": 1, "options": [{"name": "seconds", "type": 4, "value": 120}]}]),
    );
    discord.dispatch("INTERACTION_CREATE", start.clone());
    assert_eq!(callback_for(discord, &start).await["type"], 4);
    let posted = format!("/api/v10/channels/{CHANNEL_ID}/messages");
    let question = discord
        .wait_for("first question", WAIT, |r| {
            r.iter()
                .find(|r| r.method == "POST" && r.path == posted && r.body.get("components").is_some())
                .map(|r| r.body.clone())
        })
        .await;

    // The flag button opens a modal; its reason is stored and the source is named.
    let flag_id = question["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .map(|b| b["custom_id"].as_str().unwrap().to_string())
        .find(|id| id.starts_with("f:"))
        .unwrap();
    let pressed = press(discord, "4002", &flag_id, &question);
    let modal = exchange(discord, pressed.clone()).await;
    assert_eq!(modal["type"], 9, "{modal}");
    let modal_id = modal["data"]["custom_id"].as_str().unwrap();
    let submitted = modal_submit(discord, "4002", modal_id, "reason", "the answer key is wrong");
    let flagged = exchange(discord, submitted.clone()).await;
    assert!(text_of(&flagged).contains("questions/kinesis.md:"), "{flagged}");
    assert_eq!(flagged["data"]["flags"], 64);

    // Someone else without Manage Server cannot stop it: a clear ephemeral refusal.
    let mut stop = slash(
        discord,
        "4002",
        "quiz",
        json!([{"name": "stop", "type": 1, "options": []}]),
    );
    stop["member"]["permissions"] = json!("0");
    let refused = exchange(discord, stop.clone()).await;
    assert!(text_of(&refused).contains("Manage Server"), "{refused}");
    // A moderator can.
    let mut stop = slash(
        discord,
        "4003",
        "quiz",
        json!([{"name": "stop", "type": 1, "options": []}]),
    );
    stop["member"]["permissions"] = json!("32");
    let stopped = exchange(discord, stop.clone()).await;
    assert!(text_of(&stopped).contains("stopped"), "{stopped}");
    discord
        .wait_for("final scoreboard", WAIT, |r| {
            r.iter()
                .find(|r| r.body.to_string().contains("Quiz stopped"))
                .map(|_| ())
        })
        .await;

    for name in ["review", "stats"] {
        let sent = slash(discord, "4001", name, json!([]));
        let reply = exchange(discord, sent.clone()).await;
        assert_eq!(reply["type"], 4, "{reply}");
    }
    // A question /answer cannot read gets an explanation, not silence.
    let submitted = modal_submit(discord, "4001", "answer", "question", "no choices here");
    let reply = exchange(discord, submitted.clone()).await;
    assert_eq!(reply["data"]["flags"], 64, "{reply}");
    assert!(text_of(&reply).contains("Could not read"), "{reply}");
    assert_one_response_each(discord);
}
