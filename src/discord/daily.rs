//! The daily question in Discord: `/daily set|show|off|now` (Manage Server, re-checked on every receipt),
//! the post (an embed with one button per choice, and a marker in its footer), each member's private
//! feedback on their one answer, and the reveal (an edit of the post: answer, explanation, source, how many
//! answered, the share right, streaks). The engine that posts and reveals is `jobs::daily`; it reaches
//! Discord through `Bot`'s `Outbox` (`outbox.rs`), which renders with the views here.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use serenity::all::{CommandDataOption, CommandDataOptionValue};

use super::Bot;
use super::handler::{Incoming, Refusal, failed, player_name, question_gone};
use super::render::{self, Embed, pick};
use crate::config::Locale;
use crate::daily::schedule::{self, DailySchedule, Days, Reveal};
use crate::daily::{self, Streak};
use crate::jobs::daily::{self as daily_job, Posted, timestamp};
pub use crate::jobs::daily::{marker, nonce};
use crate::quiz::{Answer, QuizQuestion};
use crate::review::{Scheduler, untimed_rating};
use crate::store::{DailyAnswer, Recorded};

const BLUE: u32 = 0x3b82f6;
const GREEN: u32 = 0x22c55e;

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
    let mut body = render::message(&content, vec![embed.build()]);
    if let Some(role) = &schedule.role {
        body["allowed_mentions"] = json!({"parse": [], "roles": [role]});
    }
    let buttons: Vec<(String, String, u8)> = question
        .choices
        .iter()
        .map(|c| (format!("d:{slot}:{}", c.label), c.label.to_string(), 1))
        .collect();
    body["components"] = json!(render::button_rows(&buttons));
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
    let mut body = render::message("", vec![embed.build()]);
    body["components"] = json!([]);
    body
}

/// A member's streaks in a guild (for `/stats`).
pub fn member_streak(bot: &Bot, guild: u64, user: u64) -> Option<Streak> {
    let store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let all = daily_job::guild_streaks(&**store, &guild.to_string(), None).ok()?;
    let name = player_name(user);
    all.into_iter().find(|(n, _)| *n == name).map(|(_, s)| s)
}

/// `/stats` with the member's daily streaks added as a field.
pub fn with_streak(bot: &Bot, locale: Locale, guild: Option<u64>, user: u64, mut body: Value) -> Value {
    let Some(streak) = guild.and_then(|g| member_streak(bot, g, user)) else {
        return body;
    };
    let text = match locale {
        Locale::Ja => format!("連続正解 {} · 連続回答 {}", streak.correct, streak.answered),
        Locale::En => format!("right {} · answered {}", streak.correct, streak.answered),
    };
    if let Some(fields) = body["embeds"][0]["fields"].as_array_mut() {
        fields.push(
            json!({"name": pick(locale, "今日の問題の連続記録", "Daily streaks"), "value": text, "inline": false}),
        );
    }
    body
}

/// A button press on a daily post: checked, recorded once, answered privately.
pub(crate) async fn pick_answer(bot: &Arc<Bot>, incoming: &Incoming, custom_id: &str) -> Result<Value, Refusal> {
    let locale = incoming.locale;
    let mut parts = custom_id.splitn(3, ':').skip(1);
    let (Some(slot), Some(label), Some(guild)) = (parts.next(), parts.next(), incoming.guild_id) else {
        return Err(Refusal(
            pick(locale, "この操作は分かりません。", "Unknown action.").into(),
        ));
    };
    let guild = guild.to_string();
    let now = bot.clock.utc();
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let post = store
        .daily_post(&guild, slot)
        .map_err(|e| failed(locale, e))?
        .ok_or_else(|| Refusal(pick(locale, "この問題は見つかりません。", "That question is gone.").into()))?;
    if post.revealed_at.is_some() {
        return Err(Refusal(
            pick(locale, "この問題はもう締め切られました。", "This question is closed.").into(),
        ));
    }
    let library = bot.library();
    let question = library
        .questions
        .iter()
        .find(|q| q.id == post.question_id)
        .ok_or_else(|| question_gone(locale))?;
    // The letters on the post's buttons are those of the slot's order.
    let question = &daily::shown(question, &guild, slot);
    let answer = question
        .parse_answer(label)
        .unwrap_or(Answer::Picks(label.chars().collect()));
    if question.check_pick_count(&answer).is_err() {
        return Err(Refusal(
            pick(locale, "その選択肢はありません。", "Not a choice of this question.").into(),
        ));
    }
    let checked = question.check(&answer);
    let correct = checked.verdict.scores();
    let user = store
        .user(&player_name(incoming.user_id), timestamp(now))
        .map_err(|e| failed(locale, e))?;
    // The answer also reviews the member's card for the question: a miss comes back in `/review`.
    let previous = store.card(user, &question.id).map_err(|e| failed(locale, e))?;
    let card = Scheduler::default().review(
        &question.id,
        previous.as_ref(),
        untimed_rating(checked.verdict),
        timestamp(now),
    );
    let recorded = store
        .record_daily_answer(
            &DailyAnswer {
                guild: guild.clone(),
                slot: slot.to_string(),
                user,
                answer: answer.display(),
                picked: question.picked_keys(&answer),
                correct,
                answered_at: timestamp(now),
            },
            Some(&card),
        )
        .map_err(|e| failed(locale, e))?;
    if recorded == Recorded::Duplicate {
        let previous = store
            .daily_answers(&guild, slot)
            .ok()
            .and_then(|all| all.into_iter().find(|a| a.user == user))
            .map(|a| question.shown_picks(&a.answer, &a.picked))
            .unwrap_or_default();
        return Ok(render::ephemeral(&match locale {
            Locale::Ja => format!("回答は 1 回までです (あなたの回答: {previous})。"),
            Locale::En => format!("One answer each (yours: {previous})."),
        }));
    }
    let verdict = if correct {
        pick(locale, "✅ 正解!", "✅ Right!")
    } else {
        pick(locale, "❌ 不正解", "❌ Wrong")
    };
    let mut text = format!(
        "{verdict}\n{}: {}",
        pick(locale, "正解", "Answer"),
        question.canonical()
    );
    if !question.explanation.trim().is_empty() {
        text.push_str(&format!(
            "\n{}: {}",
            pick(locale, "解説", "Explanation"),
            question.explanation
        ));
    }
    text.push_str(&format!(
        "\n{}: `{}:{}`",
        pick(locale, "出典", "Source"),
        question.source.path,
        question.source.line
    ));
    Ok(render::ephemeral(&render::truncate(&text, render::CONTENT_MAX)))
}

/// The `/daily` command definition (Manage Server by default; re-checked on receipt anyway).
pub fn definition() -> Value {
    let option = |name: &str, ja: &str, kind: u8, en_desc: &str, ja_desc: &str| {
        json!({"name": name, "name_localizations": {"ja": ja}, "type": kind,
               "description": en_desc, "description_localizations": {"ja": ja_desc}})
    };
    let mut hours = option(
        "reveal_hours",
        "答え合わせ",
        4,
        "Reveal after this many hours (0: with the next post)",
        "何時間後に答えを出すか (0: 次の出題時)",
    );
    hours["min_value"] = json!(0);
    hours["max_value"] = json!(168);
    let mut topic = option(
        "topic",
        "トピック",
        3,
        "Only questions about this service or tag",
        "サービスやタグで絞り込み",
    );
    topic["autocomplete"] = json!(true);
    let set_options = json!([
        option(
            "channel",
            "チャンネル",
            7,
            "Where to post (default: here)",
            "投稿先 (既定: ここ)"
        ),
        option("time", "時刻", 3, "Time of day, HH:MM", "時刻 (HH:MM)"),
        option(
            "timezone",
            "タイムゾーン",
            3,
            "IANA time zone, e.g. Asia/Tokyo",
            "タイムゾーン (例: Asia/Tokyo)"
        ),
        option(
            "days",
            "曜日",
            3,
            "every, weekdays, or e.g. mon,wed,fri",
            "every・weekdays・mon,wed,fri など"
        ),
        option("role", "ロール", 8, "Role to mention", "メンションするロール"),
        hours,
        topic,
        option(
            "thread",
            "スレッド",
            5,
            "Open a discussion thread on each post",
            "投稿ごとに議論スレッドを作る"
        ),
    ]);
    let sub = |name: &str, ja: &str, en_desc: &str, ja_desc: &str| {
        json!({"name": name, "name_localizations": {"ja": ja}, "type": 1,
               "description": en_desc, "description_localizations": {"ja": ja_desc}})
    };
    let mut set = sub("set", "設定", "Set the daily question", "今日の問題を設定");
    set["options"] = set_options;
    json!({
        "name": "daily", "name_localizations": {"ja": "今日の問題"}, "type": 1,
        "description": "The daily question (Manage Server)",
        "description_localizations": {"ja": "今日の問題 (サーバー管理者)"},
        "default_member_permissions": super::commands::MANAGE_GUILD,
        "contexts": [0],
        "options": [
            set,
            sub("show", "表示", "Show the schedule and the next post", "設定と次の出題を表示"),
            sub("off", "停止", "Stop the daily question", "今日の問題を止める"),
            sub("now", "今すぐ", "Post one now, to try it out", "今すぐ 1 問出す (お試し)"),
        ]
    })
}

fn subcommand(options: &[CommandDataOption]) -> (&str, &[CommandDataOption]) {
    match options.first() {
        Some(CommandDataOption {
            name,
            value: CommandDataOptionValue::SubCommand(inner),
            ..
        }) => (name.as_str(), inner.as_slice()),
        _ => ("", &[]),
    }
}

/// The schedule a guild starts from: `[daily]` in the config, posting to `channel`.
pub fn default_schedule(bot: &Bot, guild: &str, channel: &str) -> DailySchedule {
    let settings = &bot.config.daily;
    DailySchedule {
        guild: guild.to_string(),
        channel: channel.to_string(),
        time: schedule::parse_time(&settings.time).unwrap_or(chrono::NaiveTime::MIN),
        zone: schedule::parse_zone(&settings.time_zone).unwrap_or(chrono_tz::Asia::Tokyo),
        days: Days::parse(&settings.days).unwrap_or(Days::EVERY_DAY),
        role: None,
        reveal: match settings.reveal_hours {
            0 => Reveal::WithNextPost,
            hours => Reveal::AfterHours(hours),
        },
        topic: None,
        thread: settings.thread,
        enabled: true,
    }
}

fn describe(locale: Locale, schedule: &DailySchedule, now: DateTime<Utc>) -> Value {
    let next = schedule.next_post_after(now).timestamp();
    let reveal = match (schedule.reveal, locale) {
        (Reveal::AfterHours(h), Locale::Ja) => format!("{h} 時間後"),
        (Reveal::AfterHours(h), Locale::En) => format!("after {h} h"),
        (Reveal::WithNextPost, Locale::Ja) => "次の出題時".into(),
        (Reveal::WithNextPost, Locale::En) => "with the next post".into(),
    };
    let none = pick(locale, "なし", "none");
    let embed = Embed::new(pick(locale, "📅 今日の問題の設定", "📅 Daily question"))
        .color(BLUE)
        .field(
            pick(locale, "チャンネル", "Channel"),
            &format!("<#{}>", schedule.channel),
            true,
        )
        .field(
            pick(locale, "時刻", "Time"),
            &format!("{} {}", schedule.time.format("%H:%M"), schedule.zone.name()),
            true,
        )
        .field(pick(locale, "曜日", "Days"), &schedule.days.to_string(), true)
        .field(
            pick(locale, "ロール", "Role"),
            &schedule.role.as_ref().map_or(none.to_string(), |r| format!("<@&{r}>")),
            true,
        )
        .field(pick(locale, "答え合わせ", "Reveal"), &reveal, true)
        .field(
            pick(locale, "トピック", "Topic"),
            schedule.topic.as_deref().unwrap_or(none),
            true,
        )
        .field(
            pick(locale, "次の出題", "Next post"),
            &if schedule.enabled {
                format!("<t:{next}:F> (<t:{next}:R>)")
            } else {
                pick(locale, "停止中", "off").to_string()
            },
            false,
        );
    render::make_ephemeral(render::message("", vec![embed.build()]))
}

/// `/daily …`.
pub(crate) async fn command(
    bot: &Arc<Bot>,
    incoming: &Incoming,
    options: &[CommandDataOption],
) -> Result<Value, Refusal> {
    let locale = incoming.locale;
    let Some(guild) = incoming.guild_id.map(|g| g.to_string()) else {
        return Err(Refusal(
            pick(locale, "サーバーの中で使ってください。", "Use it in a server.").into(),
        ));
    };
    // Manage Server was re-checked on receipt: `daily` is one of `commands::ADMIN_COMMANDS`.
    let (sub, options) = subcommand(options);
    let now = bot.clock.utc();
    let current = bot
        .with_store(|s| s.daily_schedules())
        .map_err(|e| failed(locale, e))?
        .into_iter()
        .find(|s| s.guild == guild);
    let bad = |e: schedule::ScheduleError| Refusal(e.to_string());
    match sub {
        "set" => {
            let mut schedule =
                current.unwrap_or_else(|| default_schedule(bot, &guild, &incoming.channel_id.to_string()));
            schedule.enabled = true;
            for option in options {
                match (option.name.as_str(), &option.value) {
                    ("channel", CommandDataOptionValue::Channel(id)) => schedule.channel = id.get().to_string(),
                    ("time", CommandDataOptionValue::String(text)) => {
                        schedule.time = schedule::parse_time(text).map_err(bad)?
                    }
                    ("timezone", CommandDataOptionValue::String(text)) => {
                        schedule.zone = schedule::parse_zone(text).map_err(bad)?
                    }
                    ("days", CommandDataOptionValue::String(text)) => schedule.days = Days::parse(text).map_err(bad)?,
                    ("role", CommandDataOptionValue::Role(id)) => schedule.role = Some(id.get().to_string()),
                    ("reveal_hours", CommandDataOptionValue::Integer(0)) => schedule.reveal = Reveal::WithNextPost,
                    ("reveal_hours", CommandDataOptionValue::Integer(h)) => {
                        schedule.reveal = Reveal::after_hours(u32::try_from(*h).unwrap_or(u32::MAX)).map_err(bad)?
                    }
                    ("topic", CommandDataOptionValue::String(text)) => {
                        schedule.topic = Some(text.trim().to_string()).filter(|t| !t.is_empty())
                    }
                    ("thread", CommandDataOptionValue::Boolean(on)) => schedule.thread = *on,
                    _ => {}
                }
            }
            bot.with_store(|s| s.set_daily_schedule(&schedule))
                .map_err(|e| failed(locale, e))?;
            bot.daily_changed.notify_one();
            Ok(describe(locale, &schedule, now))
        }
        "show" => match current {
            Some(schedule) => Ok(describe(locale, &schedule, now)),
            None => Ok(render::ephemeral(pick(
                locale,
                "今日の問題はまだ設定されていません: /daily set",
                "No daily question yet: /daily set",
            ))),
        },
        "off" => {
            if let Some(mut schedule) = current {
                schedule.enabled = false;
                bot.with_store(|s| s.set_daily_schedule(&schedule))
                    .map_err(|e| failed(locale, e))?;
                bot.daily_changed.notify_one();
            }
            Ok(render::ephemeral(pick(
                locale,
                "今日の問題を止めました。",
                "Daily question off.",
            )))
        }
        "now" => {
            let schedule = current.unwrap_or_else(|| default_schedule(bot, &guild, &incoming.channel_id.to_string()));
            let slot = format!("try-{}", now.timestamp_millis());
            match daily_job::post_slot(&bot.daily_job(), &schedule, &slot, now).await {
                Ok(Posted::Sent(_)) => Ok(render::ephemeral(pick(locale, "投稿しました。", "Posted."))),
                Ok(Posted::NothingFits) => Err(Refusal(
                    pick(locale, "出せる問題がありません。", "No question fits.").into(),
                )),
                // A trial slot is this interaction's own: another replica holding it is not expected.
                Ok(Posted::ClaimedElsewhere) => Err(Refusal(
                    pick(locale, "もう一度お試しください。", "Try again in a moment.").into(),
                )),
                Err(error) => Err(failed(locale, format!("{error:#}"))),
            }
        }
        _ => Err(Refusal(
            pick(locale, "この操作は分かりません。", "Unknown action.").into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_fits_discords_rules_and_ids_fit() {
        let definition = definition();
        assert_eq!(definition["options"].as_array().unwrap().len(), 4);
        assert!(nonce("123456789012345678", "2026-11-26").len() <= 25);
        assert!(format!("d:try-{}:A", i64::MAX).len() <= render::CUSTOM_ID_MAX);
    }

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
