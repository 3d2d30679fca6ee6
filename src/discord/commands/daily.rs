//! `/daily set|show|off|now` (Manage Server, re-checked on every receipt: `daily` is one of
//! `ADMIN_COMMANDS`), and the answer buttons of a daily post: each member's one answer, checked, recorded
//! with their review card, and answered privately. The scheduler and the posts are `discord::daily` and
//! `views::daily`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use serenity::all::{CommandDataOption, CommandDataOptionValue};

use super::common::{
    BOOLEAN, CHANNEL, CHAT_INPUT, INTEGER, MANAGE_GUILD, ROLE, STRING, SUB_COMMAND, question_gone, topic_definition,
};
use crate::config::Locale;
use crate::daily;
use crate::daily::schedule::{self, DailySchedule, Days, Reveal};
use crate::discord::Bot;
use crate::discord::interaction::{Incoming, Outcome, Refusal, player_name, subcommand};
use crate::discord::views::{BLUE, CONTENT_MAX, Embed, ephemeral, make_ephemeral, message, pick, truncate};
use crate::jobs::daily::{self as daily_job, Posted};
use crate::quiz::{Answer, QuizQuestion};
use crate::review::{self, Scheduler};
use crate::store::{DailyAnswer, Recorded};

/// The `/daily` command definition (Manage Server by default; re-checked on receipt anyway).
pub fn definition() -> Value {
    let option = |name: &str, ja: &str, kind: u8, en_desc: &str, ja_desc: &str| {
        json!({"name": name, "name_localizations": {"ja": ja}, "type": kind,
               "description": en_desc, "description_localizations": {"ja": ja_desc}})
    };
    let mut hours = option(
        "reveal_hours",
        "答え合わせ",
        INTEGER,
        "Reveal after this many hours (0: with the next post)",
        "何時間後に答えを出すか (0: 次の出題時)",
    );
    hours["min_value"] = json!(0);
    hours["max_value"] = json!(168);
    let topic = topic_definition();
    let set_options = json!([
        option(
            "channel",
            "チャンネル",
            CHANNEL,
            "Where to post (default: here)",
            "投稿先 (既定: ここ)"
        ),
        option("time", "時刻", STRING, "Time of day, HH:MM", "時刻 (HH:MM)"),
        option(
            "timezone",
            "タイムゾーン",
            STRING,
            "IANA time zone, e.g. Asia/Tokyo",
            "タイムゾーン (例: Asia/Tokyo)"
        ),
        option(
            "days",
            "曜日",
            STRING,
            "every, weekdays, or e.g. mon,wed,fri",
            "every・weekdays・mon,wed,fri など"
        ),
        option("role", "ロール", ROLE, "Role to mention", "メンションするロール"),
        hours,
        topic,
        option(
            "thread",
            "スレッド",
            BOOLEAN,
            "Open a discussion thread on each post",
            "投稿ごとに議論スレッドを作る"
        ),
    ]);
    let sub = |name: &str, ja: &str, en_desc: &str, ja_desc: &str| {
        json!({"name": name, "name_localizations": {"ja": ja}, "type": SUB_COMMAND,
               "description": en_desc, "description_localizations": {"ja": ja_desc}})
    };
    let mut set = sub("set", "設定", "Set the daily question", "今日の問題を設定");
    set["options"] = set_options;
    json!({
        "name": "daily", "name_localizations": {"ja": "今日の問題"}, "type": CHAT_INPUT,
        "description": "The daily question (Manage Server)",
        "description_localizations": {"ja": "今日の問題 (サーバー管理者)"},
        "default_member_permissions": MANAGE_GUILD,
        "contexts": [0],
        "options": [
            set,
            sub("show", "表示", "Show the schedule and the next post", "設定と次の出題を表示"),
            sub("off", "停止", "Stop the daily question", "今日の問題を止める"),
            sub("now", "今すぐ", "Post one now, to try it out", "今すぐ 1 問出す (お試し)"),
        ]
    })
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
    make_ephemeral(message("", vec![embed.build()]))
}

/// `/daily …`.
pub(crate) async fn command(bot: &Arc<Bot>, incoming: &Incoming, options: &[CommandDataOption]) -> Outcome {
    let locale = incoming.locale;
    let Some(guild) = incoming.guild_id.map(|g| g.to_string()) else {
        return Err(Refusal::told(
            locale,
            "サーバーの中で使ってください。",
            "Use it in a server.",
        ));
    };
    let (sub, options) = subcommand(options);
    let now = bot.clock.utc();
    let current = bot
        .with_store(|s| s.daily_schedules())?
        .into_iter()
        .find(|s| s.guild == guild);
    let here = || default_schedule(bot, &guild, &incoming.channel_id.to_string());
    match sub {
        "set" => {
            let mut schedule = current.unwrap_or_else(here);
            schedule.enabled = true;
            for option in options {
                set_option(&mut schedule, option)?;
            }
            bot.with_store(|s| s.set_daily_schedule(&schedule))?;
            bot.daily_changed.notify_one();
            bot.announce(crate::store::Topic::Daily);
            Ok(describe(locale, &schedule, now))
        }
        "show" => match current {
            Some(schedule) => Ok(describe(locale, &schedule, now)),
            None => Ok(ephemeral(pick(
                locale,
                "今日の問題はまだ設定されていません: /daily set",
                "No daily question yet: /daily set",
            ))),
        },
        "off" => {
            if let Some(mut schedule) = current {
                schedule.enabled = false;
                bot.with_store(|s| s.set_daily_schedule(&schedule))?;
                bot.daily_changed.notify_one();
                bot.announce(crate::store::Topic::Daily);
            }
            Ok(ephemeral(pick(
                locale,
                "今日の問題を止めました。",
                "Daily question off.",
            )))
        }
        "now" => post_now(bot, locale, &current.unwrap_or_else(here), now).await,
        _ => Err(Refusal::unknown(locale)),
    }
}

/// One option of `/daily set` applied to the schedule; a value the schedule cannot take is refused with
/// the reason.
fn set_option(schedule: &mut DailySchedule, option: &CommandDataOption) -> Result<(), Refusal> {
    let bad = |e: schedule::ScheduleError| Refusal::Told(e.to_string());
    match (option.name.as_str(), &option.value) {
        ("channel", CommandDataOptionValue::Channel(id)) => schedule.channel = id.get().to_string(),
        ("time", CommandDataOptionValue::String(text)) => schedule.time = schedule::parse_time(text).map_err(bad)?,
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
    Ok(())
}

/// `/daily now`: a trial post in a slot of its own, now.
async fn post_now(bot: &Arc<Bot>, locale: Locale, schedule: &DailySchedule, now: DateTime<Utc>) -> Outcome {
    let slot = format!("try-{}", now.timestamp_millis());
    match daily_job::post_slot(&bot.daily_job(), schedule, &slot, now)
        .await
        .map_err(Refusal::internal)?
    {
        Posted::Sent(_) => Ok(ephemeral(pick(locale, "投稿しました。", "Posted."))),
        Posted::NothingFits => Err(Refusal::told(locale, "出せる問題がありません。", "No question fits.")),
        // A trial slot is this interaction's own: another replica holding it is not expected.
        Posted::ClaimedElsewhere => Err(Refusal::told(
            locale,
            "もう一度お試しください。",
            "Try again in a moment.",
        )),
    }
}

/// A button press on a daily post: checked, recorded once, answered privately.
pub(crate) async fn pick_answer(bot: &Arc<Bot>, incoming: &Incoming, slot: &str, label: char) -> Outcome {
    let locale = incoming.locale;
    let Some(guild) = incoming.guild_id else {
        return Err(Refusal::unknown(locale));
    };
    let guild = guild.to_string();
    let now = bot.clock.now();
    let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
    let post = store
        .daily_post(&guild, slot)?
        .ok_or_else(|| Refusal::told(locale, "この問題は見つかりません。", "That question is gone."))?;
    if post.revealed_at.is_some() {
        return Err(Refusal::told(
            locale,
            "この問題はもう締め切られました。",
            "This question is closed.",
        ));
    }
    let library = bot.library();
    let question = library
        .questions()
        .iter()
        .find(|q| q.id == post.question_id)
        .ok_or_else(|| question_gone(locale))?;
    // The letters on the post's buttons are those of the slot's order.
    let question = &daily::shown(question, &guild, slot);
    let label = label.to_string();
    let answer = question
        .parse_answer(&label)
        .unwrap_or(Answer::Picks(label.chars().collect()));
    if question.check_pick_count(&answer).is_err() {
        return Err(Refusal::told(
            locale,
            "その選択肢はありません。",
            "Not a choice of this question.",
        ));
    }
    let checked = question.check(&answer);
    let correct = checked.verdict.scores();
    let user = store.user(&player_name(incoming.user_id), now)?;
    // The answer also reviews the member's card for the question: a miss comes back in `/review`.
    let answered = review::Answered {
        user,
        question_id: &question.id,
        verdict: checked.verdict,
        timing: review::Timing::Untimed,
        at: now,
    };
    let card = review::card_after(&**store, &Scheduler::default(), &answered)?;
    let answered = DailyAnswer {
        guild: guild.clone(),
        slot: slot.to_string(),
        user,
        answer: answer.display(),
        picked: question.picked_keys(&answer),
        correct,
        answered_at: now,
    };
    if store.record_daily_answer(&answered, Some(&card))? == Recorded::Duplicate {
        let previous = store
            .daily_answers(&guild, slot)
            .ok()
            .and_then(|all| all.into_iter().find(|a| a.user == user))
            .map(|a| question.shown_picks(&a.answer, &a.picked))
            .unwrap_or_default();
        return Ok(ephemeral(&match locale {
            Locale::Ja => format!("回答は 1 回までです (あなたの回答: {previous})。"),
            Locale::En => format!("One answer each (yours: {previous})."),
        }));
    }
    Ok(feedback(locale, question, correct))
}

/// What a member is told about their answer: right or wrong, the answer, the explanation, the source.
fn feedback(locale: Locale, question: &QuizQuestion, correct: bool) -> Value {
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
    ephemeral(&truncate(&text, CONTENT_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::interaction::{CUSTOM_ID_MAX, CustomId};

    #[test]
    fn the_command_fits_discords_rules_and_ids_fit() {
        let definition = definition();
        assert_eq!(definition["options"].as_array().unwrap().len(), 4);
        let trial = CustomId::DailyPick {
            slot: format!("try-{}", i64::MAX),
            label: 'A',
        };
        assert!(trial.to_string().chars().count() <= CUSTOM_ID_MAX);
    }
}
