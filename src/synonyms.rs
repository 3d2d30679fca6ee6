//! Query-time synonyms: groups of words that mean the same to a study group (`シャード, shard`,
//! `デッドレターキュー, DLQ, dead-letter queue`). Applied when a query is built, so editing the list needs
//! no reindex. Groups come from a user-editable file and from pairs the notes write themselves, such as
//! `可視性タイムアウト (visibility timeout)`.

use crate::analysis::{Script, normalize};

/// Synonym groups, normalised (NFKC, lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
}

/// A line of the synonyms file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SynonymError {
    pub line: usize,
    pub message: String,
}

impl Synonyms {
    /// One group per line, terms separated by commas; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Synonyms, SynonymError> {
        let mut synonyms = Synonyms::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let group: Vec<String> = line
                .split([',', '、', '，'])
                .map(|t| normalize(t.trim()))
                .filter(|t| !t.is_empty())
                .collect();
            if group.len() < 2 {
                return Err(SynonymError {
                    line: index + 1,
                    message: format!("`{line}` names one term; a group needs two or more, separated by commas"),
                });
            }
            synonyms.add_group(group);
        }
        Ok(synonyms)
    }

    /// Adds a group, merging it into an existing group that shares a term.
    pub fn add_group(&mut self, group: Vec<String>) {
        if let Some(existing) = self.groups.iter_mut().find(|g| g.iter().any(|t| group.contains(t))) {
            for term in group {
                if !existing.contains(&term) {
                    existing.push(term);
                }
            }
        } else {
            let mut unique: Vec<String> = Vec::with_capacity(group.len());
            for term in group {
                if !unique.contains(&term) {
                    unique.push(term);
                }
            }
            self.groups.push(unique);
        }
    }

    pub fn merge(&mut self, other: &Synonyms) {
        for group in &other.groups {
            self.add_group(group.clone());
        }
    }

    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }

    /// Terms to search for besides the query's own: the other members of every group that the query
    /// mentions (a Latin term as a whole word, a Japanese term anywhere).
    pub fn expansions(&self, query: &str) -> Vec<String> {
        let normalized = normalize(query);
        let mut out = Vec::new();
        for group in &self.groups {
            if group.iter().any(|term| mentions(&normalized, term)) {
                for term in group {
                    if !mentions(&normalized, term) && !out.contains(term) {
                        out.push(term.clone());
                    }
                }
            }
        }
        out
    }

    /// The group members equivalent to `term` (normalised), not including it.
    pub fn alternatives(&self, term: &str) -> Vec<&str> {
        self.groups
            .iter()
            .filter(|g| g.iter().any(|t| t == term))
            .flat_map(|g| g.iter().filter(|t| *t != term).map(String::as_str))
            .collect()
    }

    /// Pairs the notes write as `カタカナ語 (English words)` or `English (カタカナ語)`.
    pub fn harvest<'a>(texts: impl IntoIterator<Item = &'a str>) -> Synonyms {
        let mut synonyms = Synonyms::default();
        for text in texts {
            let normalized = normalize(text);
            let mut rest = normalized.as_str();
            while let Some(open) = rest.find('(') {
                let before = &rest[..open];
                let after = &rest[open + 1..];
                let Some(close) = after.find(')') else { break };
                let inside = &after[..close];
                if let Some(pair) = pair_of(before, inside) {
                    synonyms.add_group(pair);
                }
                rest = &after[close..];
            }
        }
        synonyms
    }
}

/// `…デッドレターキュー` + `dlq, dead-letter queue` → the Japanese term and each English alternative;
/// `visibility timeout` + `可視性タイムアウト` the other way round.
fn pair_of(before: &str, inside: &str) -> Option<Vec<String>> {
    let before = before.trim_end();
    let alternatives = inside
        .split([',', '/', '、'])
        .map(str::trim)
        .filter(|alt| !alt.is_empty() && alt.chars().count() <= 40);
    let is_latin_phrase = |s: &str| {
        s.chars().any(|c| c.is_ascii_alphabetic())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_'))
    };
    let is_japanese_term = |s: &str| {
        s.chars().count() >= 2
            && s.chars()
                .all(|c| matches!(Script::of(c), Script::Kanji | Script::Katakana | Script::Hiragana))
    };
    let japanese: String = trailing(before, |c| matches!(Script::of(c), Script::Kanji | Script::Katakana));
    let (term, wanted): (String, &dyn Fn(&str) -> bool) = if japanese.chars().count() >= 2 {
        (japanese, &is_latin_phrase)
    } else {
        let latin = trailing(before, |c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_'));
        let latin = latin
            .split_whitespace()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" ");
        if !is_latin_phrase(&latin) {
            return None;
        }
        (latin, &is_japanese_term)
    };
    let group: Vec<String> = std::iter::once(term)
        .chain(alternatives.filter(|a| wanted(a)).map(str::to_string))
        .collect();
    (group.len() >= 2).then_some(group)
}

/// The longest suffix of `text` whose characters all satisfy `keep`.
fn trailing(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut chars: Vec<char> = text.chars().rev().take_while(|&c| keep(c)).collect();
    chars.reverse();
    chars.into_iter().collect::<String>().trim().to_string()
}

/// Whether normalised `text` mentions `term`: Latin terms as whole words, others as substrings.
pub fn mentions(text: &str, term: &str) -> bool {
    if term.chars().any(|c| Script::of(c).is_cjk()) {
        return text.contains(term);
    }
    let is_word_char = |c: char| c.is_alphanumeric() && !Script::of(c).is_cjk();
    text.match_indices(term).any(|(at, _)| {
        let before_ok = text[..at].chars().next_back().is_none_or(|c| !is_word_char(c));
        let after_ok = text[at + term.len()..].chars().next().is_none_or(|c| !is_word_char(c));
        before_ok && after_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_and_expands_queries() {
        let synonyms = Synonyms::parse(
            "# comment\nシャード, shard\nデッドレターキュー, DLQ, dead-letter queue\n保持期間、保持期限\n",
        )
        .unwrap();
        assert_eq!(synonyms.expansions("ｼｬｰﾄﾞの上限"), ["shard"]);
        assert_eq!(
            synonyms.expansions("What is a DLQ?"),
            ["デッドレターキュー", "dead-letter queue"]
        );
        assert_eq!(synonyms.expansions("保持期間は"), ["保持期限"]);
        // Latin terms match whole words only.
        assert!(synonyms.expansions("shards").is_empty());
        assert_eq!(
            synonyms.alternatives("dlq"),
            ["デッドレターキュー", "dead-letter queue"]
        );
    }

    #[test]
    fn a_group_of_one_is_an_error_with_its_line() {
        let error = Synonyms::parse("a, b\nlonely\n").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn harvests_pairs_written_in_the_notes() {
        let synonyms = Synonyms::harvest([
            "Lambda のデッドレターキュー (DLQ, dead-letter queue) を設定",
            "visibility timeout（可視性タイムアウト）",
            "設定 (重要)",
            "パーティションキー(PK)",
        ]);
        assert_eq!(synonyms.expansions("DLQ"), ["デッドレターキュー", "dead-letter queue"]);
        assert_eq!(synonyms.expansions("可視性タイムアウト"), ["visibility timeout"]);
        assert_eq!(synonyms.expansions("PK"), ["パーティションキー"]);
        assert_eq!(synonyms.groups().len(), 3);
    }
}
