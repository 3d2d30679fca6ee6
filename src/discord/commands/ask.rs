//! `/ask`: the notes' sections that best answer a question, each with its snippet and `path:line`, or
//! suggestions when nothing matches.

use std::sync::Arc;

use serde_json::{Value, json};

use super::common::{STRING, option, slash_command, text};
use crate::config::Locale;
use crate::discord::Bot;
use crate::discord::interaction::{Outcome, Refusal};
use crate::discord::views::{BLUE, Embed, location, message, pick, truncate};
use crate::search::SearchResults;

/// `/ask query`.
pub fn definition() -> Value {
    let mut query = option(STRING, text("query", "質問文", "What to look up", "調べたいこと"));
    query["required"] = json!(true);
    query["max_length"] = json!(500);
    slash_command(text("ask", "質問", "Search the notes", "ノートを検索"), vec![query])
}

/// Searches the notes off the async threads (the router defers the reply when it takes long).
pub(crate) async fn ask(bot: Arc<Bot>, locale: Locale, query: String) -> Outcome {
    if query.trim().is_empty() {
        return Err(Refusal::told(locale, "質問を入れてください。", "Type a question."));
    }
    let library = bot.library();
    let top = bot.config.search.top;
    let lines = bot.config.search.snippet_lines;
    let reply = tokio::task::spawn_blocking(move || {
        let results = library.searcher(lines).search(&query, top);
        view(locale, &query, &results)
    })
    .await?;
    Ok(reply)
}

fn view(locale: Locale, query: &str, results: &SearchResults) -> Value {
    if results.hits.is_empty() {
        let mut text = format!(
            "{} `{}`",
            pick(locale, "該当するノートは見つかりませんでした:", "No notes match"),
            truncate(query, 200)
        );
        if !results.suggestions.is_empty() {
            text.push_str(&format!(
                "\n{} {}",
                pick(locale, "もしかして:", "Did you mean:"),
                results.suggestions.join(", ")
            ));
        }
        return message(&text, Vec::new());
    }
    let mut embed = Embed::new(&format!("🔎 {query}")).color(BLUE);
    for hit in &results.hits {
        let value = format!("{}\n{}", hit.snippet.trim(), location(&hit.path, hit.line));
        embed = embed.field(&hit.heading_path, &value, false);
    }
    message("", vec![embed.build()])
}
