//! `/review`: the member's own review, only to them: the cards due now first, then recent misses, each
//! with its answer and source.

use serde_json::Value;

use super::common::{slash_command, text};
use crate::config::Locale;
use crate::discord::Bot;
use crate::discord::interaction::{Incoming, Outcome, player_name};
use crate::discord::views::{Embed, ephemeral, location, make_ephemeral, message, pick, truncate};
use crate::quiz::QuizQuestion;
use crate::store::CardState;

/// `/review`.
pub fn definition() -> Value {
    slash_command(
        text(
            "review",
            "復習",
            "Your due cards and misses (only you see it)",
            "自分の復習 (自分だけに表示)",
        ),
        vec![],
    )
}

pub(crate) fn review(bot: &Bot, incoming: &Incoming) -> Outcome {
    let locale = incoming.locale;
    let (due, misses) = {
        let mut store = bot.store.lock().unwrap_or_else(|e| e.into_inner());
        let now = bot.clock.now();
        let user = store.user(&player_name(incoming.user_id), now)?;
        let due = store.due_cards(user, now, 10)?;
        let misses = store.recent_misses(user, 10)?;
        (due, misses)
    };
    let order = crate::review::review_order(&due, &misses, 10);
    let library = bot.library();
    let items: Vec<&QuizQuestion> = order
        .iter()
        .filter_map(|id| library.questions().iter().find(|q| &q.id == id))
        .collect();
    Ok(view(locale, &due, &items))
}

/// The personal review: due cards first, then recent misses, each with its source.
fn view(locale: Locale, due: &[CardState], items: &[&QuizQuestion]) -> Value {
    if items.is_empty() {
        return ephemeral(pick(
            locale,
            "復習するものはありません。クイズに参加しましょう!",
            "Nothing to review. Join a quiz!",
        ));
    }
    let mut embed = Embed::new(&match locale {
        Locale::Ja => format!("🔁 復習 ({} 件、期限 {} 件)", items.len(), due.len()),
        Locale::En => format!(
            "🔁 Review ({} item{}, {} due)",
            items.len(),
            if items.len() == 1 { "" } else { "s" },
            due.len()
        ),
    });
    for question in items {
        let value = format!(
            "{}\n{}",
            truncate(&question.canonical(), 300),
            location(&question.source.path, question.source.line as u64)
        );
        embed = embed.field(&question.stem, &value, false);
    }
    make_ephemeral(message("", vec![embed.build()]))
}
