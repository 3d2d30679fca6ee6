//! Query-time synonyms: groups of words that mean the same to a study group (`シャード, shard`,
//! `デッドレターキュー, DLQ, dead-letter queue`). Applied when a query is built, so editing the list needs
//! no reindex. Groups come from a user-editable file and from pairs the notes write themselves, such as
//! `可視性タイムアウト (visibility timeout)`. The user's lists are two files of the same format, merged when
//! loaded: the synonyms proper, and the English ↔ Japanese glossary of exam terms (`retention period,
//! 保持期間`) that lets an English question find a Japanese section.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::search::analysis::{Script, normalize};

/// Synonym groups, normalised (NFKC, lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    groups: Vec<Vec<String>>,
    /// (group, term) positions of every term by its first character: a query is matched in one pass
    /// over its characters instead of one substring search per term (hundreds once harvested).
    by_first_char: HashMap<char, Vec<(usize, usize)>>,
    /// Terms reached through their group but never looked for in a query: the Japanese side of the
    /// glossary. The glossary is there for English questions; a Japanese question already uses the notes'
    /// words, and expanding it into English only adds noise (it cost two bank questions their section).
    targets_only: HashSet<String>,
}

/// A line of the synonyms file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SynonymError {
    pub line: usize,
    pub message: String,
}

/// A list of synonyms that could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum SynonymFileError {
    #[error("reading {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Parse { path: PathBuf, source: SynonymError },
}

/// The user's lists read and merged into one: the synonyms file and, when given, the English ↔ Japanese
/// glossary (`Synonyms::glossary`). A missing file is an empty list: both are optional, and a fresh checkout
/// without a glossary still searches.
pub fn load_lists(synonyms: &Path, glossary: Option<&Path>) -> Result<Synonyms, SynonymFileError> {
    let mut merged = read_list(synonyms, Synonyms::parse)?;
    if let Some(glossary) = glossary {
        merged.merge(&read_list(glossary, Synonyms::glossary)?);
    }
    Ok(merged)
}

fn read_list(
    path: &Path,
    parse: impl Fn(&str) -> Result<Synonyms, SynonymError>,
) -> Result<Synonyms, SynonymFileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Synonyms::default()),
        Err(source) => {
            return Err(SynonymFileError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    parse(&text).map_err(|source| SynonymFileError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

impl Synonyms {
    /// One group per line, terms separated by commas; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Synonyms, SynonymError> {
        // Lines are collected first and merged in one pass (`merge`): adding and reindexing line by line
        // took seconds for the glossary's ~900 lines.
        let mut lines = Synonyms::default();
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
            lines.groups.push(group);
        }
        let mut synonyms = Synonyms::default();
        synonyms.merge(&lines);
        Ok(synonyms)
    }

    /// The English ↔ Japanese glossary: the same format as `parse`, but only its English terms are looked
    /// for in a query; its Japanese terms are what they expand to.
    pub fn glossary(text: &str) -> Result<Synonyms, SynonymError> {
        let mut glossary = Synonyms::parse(text)?;
        glossary.targets_only = glossary
            .groups
            .iter()
            .flatten()
            .filter(|term| !term.is_ascii())
            .cloned()
            .collect();
        glossary.reindex();
        Ok(glossary)
    }

    /// Adds a group, merging it into an existing group that shares a term.
    pub fn add_group(&mut self, group: Vec<String>) {
        for term in &group {
            self.targets_only.remove(term);
        }
        self.add_group_unindexed(group);
        self.reindex();
    }

    /// Adds another list's groups (merging those that share a term), reindexing once at the end. A term is
    /// looked for in queries when either list looks for it.
    pub fn merge(&mut self, other: &Synonyms) {
        let looked_for = |list: &Synonyms| -> HashSet<String> {
            let terms = list.groups.iter().flatten();
            terms.filter(|t| !list.targets_only.contains(*t)).cloned().collect()
        };
        let looked_for_anywhere: HashSet<String> = looked_for(self).union(&looked_for(other)).cloned().collect();
        self.targets_only.extend(other.targets_only.iter().cloned());
        self.targets_only.retain(|term| !looked_for_anywhere.contains(term));
        // Which group holds each term: one lookup per term, where a scan of every group per added group
        // took seconds for the glossary's ~900 groups against the harvested ones.
        let mut group_of: HashMap<String, usize> = HashMap::new();
        for (g, group) in self.groups.iter().enumerate() {
            for term in group {
                group_of.entry(term.clone()).or_insert(g);
            }
        }
        for group in &other.groups {
            let existing = group.iter().filter_map(|t| group_of.get(t).copied()).min();
            let g = existing.unwrap_or_else(|| {
                self.groups.push(Vec::new());
                self.groups.len() - 1
            });
            for term in group {
                if !self.groups[g].contains(term) {
                    self.groups[g].push(term.clone());
                    group_of.entry(term.clone()).or_insert(g);
                }
            }
        }
        self.reindex();
    }

    fn add_group_unindexed(&mut self, group: Vec<String>) {
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

    fn reindex(&mut self) {
        self.by_first_char.clear();
        for (g, group) in self.groups.iter().enumerate() {
            for (t, term) in group.iter().enumerate() {
                if self.targets_only.contains(term) {
                    continue;
                }
                if let Some(first) = term.chars().next() {
                    self.by_first_char.entry(first).or_default().push((g, t));
                }
            }
        }
    }

    /// Indexes of the groups that `normalized` text mentions, with which of their terms it mentions.
    fn mentioned(&self, normalized: &str) -> Vec<(usize, Vec<usize>)> {
        let mut found: Vec<(usize, Vec<usize>)> = Vec::new();
        for (at, ch) in normalized.char_indices() {
            let Some(candidates) = self.by_first_char.get(&ch) else {
                continue;
            };
            for &(g, t) in candidates {
                let term = &self.groups[g][t];
                if normalized[at..].starts_with(term.as_str())
                    && (whole_word_at(normalized, at, term) || plural_at(normalized, at, term))
                {
                    match found.iter_mut().find(|(group, _)| *group == g) {
                        Some((_, terms)) if !terms.contains(&t) => terms.push(t),
                        Some(_) => {}
                        None => found.push((g, vec![t])),
                    }
                }
            }
        }
        found
    }

    /// Whether `term` is one of the glossary's Japanese terms, which only English queries reach.
    pub fn is_glossary_target(&self, term: &str) -> bool {
        self.targets_only.contains(term)
    }

    pub fn groups(&self) -> &[Vec<String>] {
        &self.groups
    }

    /// Terms to search for besides the query's own: the other members of every group that the query
    /// mentions (a Latin term as a whole word, a Japanese term anywhere).
    pub fn expansions(&self, query: &str) -> Vec<String> {
        let normalized = normalize(query);
        let mut out: Vec<String> = Vec::new();
        for (g, mentioned_terms) in self.mentioned(&normalized) {
            for (t, term) in self.groups[g].iter().enumerate() {
                if !mentioned_terms.contains(&t) && !out.contains(term) {
                    out.push(term.clone());
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

    /// Pairs the notes write as `カタカナ語 (English words)` or `English (カタカナ語)`. Only translation-like
    /// pairs count: the Japanese side holds katakana, the parentheses hold one or two terms (a list of
    /// examples such as `サービス (SQS, SNS, EventBridge)` is not a synonym), and a term written beside
    /// three or more different partners is ambiguous and dropped. Harvested pairs are kept apart, never
    /// merged into each other, so one loose pair cannot chain unrelated words together.
    pub fn harvest<'a>(texts: impl IntoIterator<Item = &'a str>) -> Synonyms {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        for text in texts {
            // Most sections have no parentheses at all: skip them before normalising.
            if !text.contains(['(', '（', '﹙']) {
                continue;
            }
            let normalized = normalize(text);
            let mut rest = normalized.as_str();
            while let Some(open) = rest.find('(') {
                let before = &rest[..open];
                let after = &rest[open + 1..];
                let Some(close) = after.find(')') else { break };
                for pair in pairs_of(before, &after[..close]) {
                    if seen.insert(pair.clone()) {
                        pairs.push(pair);
                    }
                }
                rest = &after[close..];
            }
        }
        let mut partners: HashMap<&str, usize> = HashMap::new();
        for (a, b) in &pairs {
            *partners.entry(a).or_default() += 1;
            *partners.entry(b).or_default() += 1;
        }
        let groups = pairs
            .iter()
            .filter(|(a, b)| partners[a.as_str()] < 3 && partners[b.as_str()] < 3)
            .map(|(a, b)| vec![a.clone(), b.clone()])
            .collect();
        let mut synonyms = Synonyms {
            groups,
            by_first_char: HashMap::new(),
            targets_only: HashSet::new(),
        };
        synonyms.reindex();
        synonyms
    }
}

/// `…デッドレターキュー` + `dlq, dead-letter queue` → (デッドレターキュー, dlq), (デッドレターキュー, dead-letter
/// queue); `visibility timeout` + `可視性タイムアウト` the other way round.
fn pairs_of(before: &str, inside: &str) -> Vec<(String, String)> {
    let before = before.trim_end();
    let alternatives: Vec<&str> = inside
        .split([',', '/', '、'])
        .map(str::trim)
        .filter(|alt| !alt.is_empty())
        .collect();
    if alternatives.is_empty() || alternatives.len() > 2 {
        return Vec::new();
    }
    let is_latin_term = |s: &str| {
        s.chars().any(|c| c.is_ascii_alphabetic())
            && s.split_whitespace().count() <= 4
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_'))
    };
    let is_japanese_term = |s: &str| {
        s.chars().count() >= 3
            && s.chars().any(|c| Script::of(c) == Script::Katakana)
            && s.chars()
                .all(|c| matches!(Script::of(c), Script::Kanji | Script::Katakana))
    };
    let japanese = trailing(before, |c| matches!(Script::of(c), Script::Kanji | Script::Katakana));
    let (term, wanted): (String, &dyn Fn(&str) -> bool) = if is_japanese_term(&japanese) {
        (japanese, &is_latin_term)
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
        if !is_latin_term(&latin) {
            return Vec::new();
        }
        (latin, &is_japanese_term)
    };
    alternatives
        .into_iter()
        .filter(|a| wanted(a))
        .map(|a| (term.clone(), a.to_string()))
        .collect()
}

/// The longest suffix of `text` whose characters all satisfy `keep`.
fn trailing(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut chars: Vec<char> = text.chars().rev().take_while(|&c| keep(c)).collect();
    chars.reverse();
    chars.into_iter().collect::<String>().trim().to_string()
}

/// Whether `term`, found at byte `at` of `text`, stands there in its English plural (`shards`, `caches`,
/// `aliases`): English questions say "items" and "partition keys" where the lists write the singular. Only
/// for a last word of four letters or more, so that an acronym (`EB`) does not match another (`EBS`).
fn plural_at(text: &str, at: usize, term: &str) -> bool {
    let last_word_letters = term.rsplit(' ').next().map_or(0, |w| w.chars().count());
    if last_word_letters < 4 || !term.is_ascii() {
        return false;
    }
    let is_word_char = |c: char| c.is_alphanumeric() && !Script::of(c).is_cjk();
    let before_ok = text[..at].chars().next_back().is_none_or(|c| !is_word_char(c));
    let rest = &text[at + term.len()..];
    before_ok
        && ["s", "es"].iter().any(|suffix| {
            rest.strip_prefix(suffix)
                .is_some_and(|after| after.chars().next().is_none_or(|c| !is_word_char(c)))
        })
}

/// Whether normalised `text` mentions `term`: Latin terms as whole words, others as substrings.
pub fn mentions(text: &str, term: &str) -> bool {
    text.match_indices(term).any(|(at, _)| whole_word_at(text, at, term))
}

/// Whether `term`, found at byte `at` of `text`, stands as a whole word there (always, for CJK terms).
fn whole_word_at(text: &str, at: usize, term: &str) -> bool {
    if term.chars().any(|c| Script::of(c).is_cjk()) {
        return true;
    }
    let is_word_char = |c: char| c.is_alphanumeric() && !Script::of(c).is_cjk();
    let before_ok = text[..at].chars().next_back().is_none_or(|c| !is_word_char(c));
    let after_ok = text[at + term.len()..].chars().next().is_none_or(|c| !is_word_char(c));
    before_ok && after_ok
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
        // Latin terms match whole words only, or their English plural when four letters or longer.
        assert!(synonyms.expansions("sharding").is_empty());
        assert_eq!(synonyms.expansions("two shards"), ["シャード"]);
        assert_eq!(synonyms.expansions("DLQs"), Vec::<String>::new());
        assert_eq!(
            synonyms.alternatives("dlq"),
            ["デッドレターキュー", "dead-letter queue"]
        );
    }

    #[test]
    fn lists_load_merged_and_a_missing_one_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let synonyms = dir.path().join("synonyms.txt");
        let glossary = dir.path().join("glossary.txt");
        std::fs::write(&synonyms, "保持期間, retention period\n").unwrap();
        std::fs::write(
            &glossary,
            "retention period, 保持期限\nvisibility timeout, 可視性タイムアウト\n",
        )
        .unwrap();
        let merged = load_lists(&synonyms, Some(&glossary)).unwrap();
        assert_eq!(merged.groups().len(), 2);
        assert_eq!(merged.expansions("retention period"), ["保持期間", "保持期限"]);
        // The glossary's Japanese terms are reached from English, not looked for, unless the synonyms
        // file looks for them too.
        assert_eq!(merged.expansions("visibility timeout"), ["可視性タイムアウト"]);
        assert!(merged.expansions("可視性タイムアウト").is_empty());
        assert_eq!(merged.expansions("保持期間"), ["retention period", "保持期限"]);
        let absent = dir.path().join("absent.txt");
        assert_eq!(load_lists(&absent, Some(&absent)).unwrap(), Synonyms::default());
        std::fs::write(&glossary, "lonely\n").unwrap();
        let error = load_lists(&synonyms, Some(&glossary)).unwrap_err();
        assert!(error.to_string().contains("glossary.txt: line 1"), "{error}");
    }

    #[test]
    fn a_group_of_one_is_an_error_with_its_line() {
        let error = Synonyms::parse("a, b\nlonely\n").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn merging_joins_groups_that_share_a_term_and_finds_the_merged_terms() {
        let mut harvested = Synonyms::harvest(["デッドレターキュー (DLQ) に送る"]);
        let user = Synonyms::parse("dlq, dead-letter queue\nシャード, shard\n").unwrap();
        harvested.merge(&user);
        assert_eq!(harvested.groups().len(), 2);
        assert_eq!(
            harvested.expansions("DLQ の保持期間"),
            ["デッドレターキュー", "dead-letter queue"]
        );
        assert_eq!(harvested.expansions("shard を増やす"), ["シャード"]);
    }

    #[test]
    fn harvests_pairs_written_in_the_notes() {
        let synonyms = Synonyms::harvest([
            "Lambda のデッドレターキュー (DLQ, dead-letter queue) を設定",
            "visibility timeout（可視性タイムアウト）",
            "設定 (重要)",
            "パーティションキー(PK)",
            "送信先のサービス (SQS, SNS, EventBridge)",
            "暗号化する場合 (SSE-C)",
        ]);
        assert_eq!(synonyms.expansions("DLQ"), ["デッドレターキュー"]);
        assert_eq!(synonyms.expansions("dead-letter queue"), ["デッドレターキュー"]);
        assert_eq!(synonyms.expansions("可視性タイムアウト"), ["visibility timeout"]);
        assert_eq!(synonyms.expansions("PK"), ["パーティションキー"]);
        assert_eq!(synonyms.groups().len(), 4, "{:?}", synonyms.groups());
    }

    #[test]
    fn a_term_written_beside_many_partners_is_not_a_synonym() {
        let synonyms = Synonyms::harvest([
            "エンドポイント (HTTPS)",
            "エンドポイント (VPC)",
            "エンドポイント (FIPS)",
            "シャード (shard)",
        ]);
        assert_eq!(synonyms.groups(), [vec!["シャード".to_string(), "shard".to_string()]]);
    }
}
