//! Turning any text into a query over note sections and the hits into answers: heading path, the best
//! lines of the section with the matched words marked, `file:line` and score. Queries are built from the
//! analyser's words, never parsed, so no input (`"(`, emoji, a pasted paragraph) is an error. Katakana and
//! kanji words become their bigrams (strong), Latin words whole terms plus camelCase parts, synonyms add
//! their group's other terms; every other bigram of the question counts weakly (near-synonyms like
//! 保持期間/保持期限). The bag of terms is ranked by BM25 in `scoring`.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde::Serialize;
use tantivy::{DocAddress, TantivyDocument, Term};

use crate::search::analysis::{Script, Word, bigram_tokens, normalize_with_offsets, words};
use crate::search::index::{Fields, NoteIndex};
use crate::search::scoring::{TermBag, top_by_bm25};
use crate::search::synonyms::{Synonyms, mentions};

/// Query words beyond this many are ignored: a pasted page must not build a giant query.
const MAX_QUERY_WORDS: usize = 64;

/// What a Japanese term of the glossary counts when an English question reaches it. An English question's
/// own words match nothing in the Japanese prose, so these terms carry its meaning, more than a synonym
/// does (0.8). Chosen on the first 112 English retrieval questions (top 3: 62.5% at 0.8, 69.6% at 1.2, 75.0%
/// at 1.6, 75.9% at 2.0 and 2.5, 75.0% at 3.0): 2.0 and above cost a paraphrased Japanese question whose
/// words reach a glossary term (キャッシュミス), 1.6 keeps every Japanese figure. The held-out English
/// questions, written before any weight was tried, gain 10 points in the top 3 at 1.6 (35 → 40 of 60).
const GLOSSARY_TARGET_WEIGHT: f32 = 1.6;

/// What each other bigram of the question counts (a content word counts 0.8–1.5, shared among its tokens).
const RECALL_WEIGHT: f32 = 0.4;

/// A matching section.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hit {
    pub id: String,
    pub title: String,
    pub heading_path: String,
    pub path: String,
    pub line: u64,
    /// The section's full text.
    pub text: String,
    /// The best lines of the section, matched words wrapped in `**`.
    pub snippet: String,
    pub score: f32,
    #[serde(skip)]
    pub sources: Vec<String>,
}

/// The answer to one query.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchResults {
    pub hits: Vec<Hit>,
    /// Close words from the notes, offered when nothing matched.
    pub suggestions: Vec<String>,
}

/// Searches an index with the given synonyms.
pub struct SectionSearcher<'a> {
    pub index: &'a NoteIndex,
    /// The user's synonyms and those harvested from the notes.
    pub synonyms: Cow<'a, Synonyms>,
    /// Lines of each section shown as its snippet.
    pub snippet_lines: usize,
}

/// A unit of meaning in a query, used both to build the query and to pick and mark snippet lines.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    /// Normalised text (`保持期間`, `kinesis`).
    pub text: String,
    pub script: Script,
    /// How much a match counts: longer words are more specific; synonyms count a little less.
    pub weight: f32,
}

/// The content words of a query, with synonym expansions: what a matching section should contain.
pub fn query_terms(text: &str, synonyms: &Synonyms) -> Vec<QueryTerm> {
    let all_words = words(text);
    let content: Vec<&Word> = all_words
        .iter()
        .filter(|w| is_content(w))
        .take(MAX_QUERY_WORDS)
        .collect();
    let mut seen = HashSet::new();
    let mut terms = Vec::new();
    let mut push = |text: String, script: Script, weight: f32| {
        if seen.insert(text.clone()) {
            terms.push(QueryTerm { text, script, weight });
        }
    };
    for word in &content {
        push(word.text.clone(), word.script, word_weight(word));
    }
    if content.is_empty() {
        // A query of hiragana only (`ばっちげっと`) or single characters: use what there is.
        for word in all_words.iter().filter(|w| w.script != Script::Other) {
            push(word.text.clone(), word.script, 0.5);
        }
    }
    for expansion in synonyms.expansions(text) {
        let script = words(&expansion).first().map_or(Script::Word, |w| w.script);
        let weight = if synonyms.is_glossary_target(&expansion) {
            GLOSSARY_TARGET_WEIGHT
        } else {
            0.8
        };
        push(expansion, script, weight);
    }
    terms
}

/// The synonyms a search uses: the pairs harvested from the notes of `index`, and the user's list.
pub fn search_synonyms(index: &NoteIndex, user_synonyms: &Synonyms) -> Synonyms {
    let mut synonyms = index.harvested.clone();
    synonyms.merge(user_synonyms);
    synonyms
}

fn is_content(word: &Word) -> bool {
    let chars = word.text.chars().count();
    match word.script {
        Script::Word => true,
        Script::Kanji | Script::Katakana => chars >= 2,
        Script::Hiragana | Script::Other => false,
    }
}

fn word_weight(word: &Word) -> f32 {
    let chars = word.text.chars().count() as f32;
    match word.script {
        Script::Word if word.text.chars().all(|c| c.is_ascii_digit()) => 1.0,
        Script::Word => 1.0 + (chars / 8.0).min(0.5),
        _ => 0.8 + (chars / 6.0).min(0.7),
    }
}

impl<'a> SectionSearcher<'a> {
    /// `synonyms` are the user's list; the pairs harvested from the notes are added to them.
    pub fn new(index: &'a NoteIndex, user_synonyms: &Synonyms) -> Self {
        SectionSearcher {
            index,
            synonyms: Cow::Owned(search_synonyms(index, user_synonyms)),
            snippet_lines: 2,
        }
    }

    /// With synonyms merged beforehand by `search_synonyms`: what a long-running bot does, as merging
    /// takes longer than a search.
    pub fn prepared(index: &'a NoteIndex, synonyms: &'a Synonyms) -> Self {
        SectionSearcher {
            index,
            synonyms: Cow::Borrowed(synonyms),
            snippet_lines: 2,
        }
    }

    /// The `top` best sections for `text`.
    pub fn search(&self, text: &str, top: usize) -> SearchResults {
        let terms = query_terms(text, &self.synonyms);
        let ranked = self.rank_terms(text, &terms, top);
        let searcher = self.index.searcher();
        let fields = self.index.fields;
        let hits: Vec<Hit> = ranked
            .into_iter()
            .filter_map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address).ok()?;
                Some(hit_from(&doc, fields, score, &terms, self.snippet_lines))
            })
            .collect();
        let suggestions = if hits.is_empty() {
            self.suggestions(&terms)
        } else {
            Vec::new()
        };
        SearchResults { hits, suggestions }
    }

    /// Only the ranking: scores and document addresses of the `top` best sections, nothing loaded.
    pub fn rank(&self, text: &str, top: usize) -> Vec<(f32, DocAddress)> {
        self.rank_terms(text, &query_terms(text, &self.synonyms), top)
    }

    fn rank_terms(&self, text: &str, terms: &[QueryTerm], top: usize) -> Vec<(f32, DocAddress)> {
        top_by_bm25(&self.index.searcher(), &self.term_bag(text, terms), top).unwrap_or_default()
    }

    /// The query as index terms, each with how much a match counts: every token of every query word in
    /// the heading, the body and (at half weight) the tags, Latin words also by their camelCase parts, each
    /// word's weight shared among its tokens (`shared_weight`); and, to boost sections that match those,
    /// every other CJK bigram of the question weakly in the body. A term reached twice counts once, at its
    /// larger weight.
    ///
    /// Why a bag of tokens and no phrases: on the retrieval and question-bank tests it finds what exact
    /// bigram phrases found (109/109 top 3; 97.3% top 5, was 96.4%), and it ranks several times faster.
    fn term_bag(&self, text: &str, terms: &[QueryTerm]) -> TermBag {
        let fields = self.index.fields;
        let mut weights: HashMap<Term, f32> = HashMap::new();
        let mut count = |term: Term, weight: f32| {
            let entry = weights.entry(term).or_default();
            *entry = entry.max(weight);
        };
        for term in terms {
            let tokens = bigram_tokens(&term.text);
            let share = shared_weight(term.weight, tokens.len());
            for token in &tokens {
                for (field, boost) in [(fields.heading, 1.0), (fields.body, 1.0), (fields.tags, 0.5)] {
                    count(Term::from_field_text(field, &token.text), share * boost);
                }
            }
            if term.script == Script::Word {
                // `batch get item` finds `BatchGetItem` through its parts.
                let parts = self.word_parts(&term.text);
                let share = shared_weight(term.weight, parts.len());
                for part in parts {
                    count(part, share);
                }
            }
        }
        // Every bigram of the question, weakly: ranks 保持期限 up for 保持期間 and the like.
        let mut boosting: HashMap<Term, f32> = HashMap::new();
        for token in bigram_tokens(text).into_iter().take(MAX_QUERY_WORDS * 4) {
            let term = Term::from_field_text(fields.body, &token.text);
            if token.text.chars().any(|c| Script::of(c).is_cjk()) && !weights.contains_key(&term) {
                boosting.insert(term, RECALL_WEIGHT);
            }
        }
        // In a fixed order, so that equal sums come out equal on every run.
        let sorted = |map: HashMap<Term, f32>| {
            let mut terms: Vec<(Term, f32)> = map.into_iter().collect();
            terms.sort_by(|a, b| a.0.cmp(&b.0));
            terms
        };
        TermBag {
            matching: sorted(weights),
            boosting: sorted(boosting),
        }
    }

    /// camelCase parts of a Latin word, stemmed as the `parts` field is.
    fn word_parts(&self, word: &str) -> Vec<Term> {
        let Some(mut analyzer) = self.index.index.tokenizers().get("tsumiage_word_parts") else {
            return Vec::new();
        };
        let mut stream = analyzer.token_stream(word);
        let mut parts = Vec::new();
        while let Some(token) = stream.next() {
            parts.push(Term::from_field_text(self.index.fields.parts, &token.text));
        }
        parts
    }

    /// Notes' words close to the query's words that the notes do not contain (at most three).
    pub fn suggestions(&self, terms: &[QueryTerm]) -> Vec<String> {
        let vocabulary = &self.index.vocabulary.counts;
        let mut scored: Vec<(usize, u32, &str)> = Vec::new();
        for term in terms.iter().filter(|t| !vocabulary.contains_key(&t.text)) {
            let length = term.text.chars().count();
            let allowed = if term.script == Script::Word {
                (length / 4).clamp(1, 3)
            } else {
                1
            };
            for (word, count) in vocabulary {
                let difference = word.chars().count().abs_diff(length);
                if difference > allowed {
                    continue;
                }
                let distance = edit_distance(&term.text, word);
                if distance <= allowed {
                    scored.push((distance, *count, word));
                }
            }
        }
        scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
        let mut out: Vec<String> = Vec::new();
        for (_, _, word) in scored {
            if !out.iter().any(|w| w == word) {
                out.push(word.to_string());
            }
            if out.len() == 3 {
                break;
            }
        }
        out
    }
}

/// Each token's share of a word's weight: a four-character word (three bigrams) must not count three
/// times a Latin word, but a section holding all its bigrams must stay well ahead of one holding some,
/// hence less than an even split (tuned on the retrieval and bank tests; 0.5 to 0.7 do equally well).
fn shared_weight(weight: f32, tokens: usize) -> f32 {
    weight / (tokens.max(1) as f32).powf(0.7)
}

fn hit_from(doc: &TantivyDocument, fields: Fields, score: f32, terms: &[QueryTerm], snippet_lines: usize) -> Hit {
    let text = NoteIndex::stored_text(doc, fields.text);
    let heading_path = NoteIndex::stored_text(doc, fields.heading);
    Hit {
        id: NoteIndex::stored_text(doc, fields.id),
        title: NoteIndex::stored_text(doc, fields.title),
        path: NoteIndex::stored_text(doc, fields.path),
        line: doc
            .get_first(fields.line)
            .and_then(|v| tantivy::schema::Value::as_u64(&v))
            .unwrap_or_default(),
        snippet: snippet(&text, terms, snippet_lines),
        sources: NoteIndex::stored_text(doc, fields.sources)
            .lines()
            .map(str::to_string)
            .collect(),
        heading_path,
        text,
        score,
    }
}

/// The `max_lines` lines of `text` that match the query terms best (in their original order), with each
/// match wrapped in `**`. Only facts and prose: fenced code blocks (a lone `aws dynamodb update-item \`
/// line says nothing by itself) and source lines are skipped; with no matching line, the first lines.
pub fn snippet(text: &str, terms: &[QueryTerm], max_lines: usize) -> String {
    let lines: Vec<&str> = outside_code_blocks(text)
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty() && !is_source_line(l))
        .collect();
    let mut scored: Vec<(usize, f32)> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let normalized: String = normalize_with_offsets(line).iter().map(|c| c.ch).collect();
            let score = terms
                .iter()
                .filter(|t| mentions(&normalized, &t.text))
                .map(|t| t.weight)
                .sum();
            (i, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut chosen: Vec<usize> = scored
        .iter()
        .filter(|(_, s)| *s > 0.0)
        .take(max_lines)
        .map(|(i, _)| *i)
        .collect();
    if chosen.is_empty() {
        chosen = (0..lines.len().min(max_lines)).collect();
    }
    chosen.sort_unstable();
    chosen
        .iter()
        .map(|&i| highlight(lines[i], terms))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of `text` outside fenced code blocks (``` or ~~~ fences, the fence lines included).
fn outside_code_blocks(text: &str) -> impl Iterator<Item = &str> {
    let mut fence: Option<&str> = None;
    text.lines().filter(move |line| {
        let trimmed = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| trimmed.starts_with(m));
        match (fence, marker) {
            (None, Some(opening)) => {
                fence = Some(opening);
                false
            }
            (Some(open), Some(closing)) if open == closing => {
                fence = None;
                false
            }
            (Some(_), _) => false,
            (None, None) => true,
        }
    })
}

/// Byte ranges of the inline code spans of `line` (backticks included): a run of backticks up to the next
/// run of the same length. A run without its closing run is literal text.
fn code_spans(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let run_at = |at: usize| bytes[at..].iter().take_while(|b| **b == b'`').count();
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|b| *b == b'`') {
        let open = at + offset;
        let width = run_at(open);
        let mut search = open + width;
        let mut close = None;
        while let Some(offset) = bytes[search..].iter().position(|b| *b == b'`') {
            let candidate = search + offset;
            let candidate_width = run_at(candidate);
            if candidate_width == width {
                close = Some(candidate + width);
                break;
            }
            search = candidate + candidate_width;
        }
        match close {
            Some(end) => {
                spans.push((open, end));
                at = end;
            }
            None => at = open + width,
        }
    }
    spans
}

fn is_source_line(line: &str) -> bool {
    let trimmed = line.trim_start_matches(['-', '*', ' ']);
    ["出典", "Source", "参考"]
        .iter()
        .any(|label| trimmed.starts_with(label))
}

/// Wraps every occurrence of the terms in `line` in `**`, merging overlapping and adjacent matches.
pub fn highlight(line: &str, terms: &[QueryTerm]) -> String {
    let chars = normalize_with_offsets(line);
    let normalized: String = chars.iter().map(|c| c.ch).collect();
    // Byte offset in `normalized` → index in `chars`.
    let mut char_at = Vec::with_capacity(normalized.len() + 1);
    for (i, c) in chars.iter().enumerate() {
        char_at.extend(std::iter::repeat_n(i, c.ch.len_utf8()));
    }
    char_at.push(chars.len());
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for term in terms {
        for (at, matched) in normalized.match_indices(term.text.as_str()) {
            let end = at + matched.len();
            let is_word_char = |c: char| c.is_alphanumeric() && !Script::of(c).is_cjk();
            let whole_word = term.script != Script::Word
                || (!normalized[..at].chars().next_back().is_some_and(is_word_char)
                    && !normalized[end..].chars().next().is_some_and(is_word_char));
            if whole_word {
                spans.push((chars[char_at[at]].from, chars[char_at[end] - 1].to));
            }
        }
    }
    // A match inside inline code marks the whole code span: `**` inside backticks is shown literally.
    let code = code_spans(line);
    for span in &mut spans {
        for &(from, to) in &code {
            if span.0 < to && from < span.1 {
                *span = (span.0.min(from), span.1.max(to));
            }
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (from, to) in spans {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    let mut out = String::with_capacity(line.len() + merged.len() * 4);
    let mut at = 0;
    for (from, to) in merged {
        out.push_str(&line[at..from]);
        out.push_str("**");
        out.push_str(&line[from..to]);
        out.push_str("**");
        at = to;
    }
    out.push_str(&line[at..]);
    out
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notes::NoteSet;

    const NOTES: &str = "---\nservice: Kinesis\n---\n# Kinesis\n\n## Kinesis Data Streams のデータ保持期限\n\n- 既定は 24 時間\n- 最大は 365 日 (2020 年は 168 時間)\n\n出典: https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html\n\n## シャードの分割と結合\n\n- トラフィックが増えたらシャード (shard) を分割する\n- KCL のワーカーはシャードごとに 1 つ\n\n# DynamoDB\n\n## 多数の項目を速く読む\n\n- BatchGetItem で最大 100 項目をまとめて読む\n- デッドレターキュー (DLQ) とは関係ない\n";

    fn index() -> NoteIndex {
        NoteIndex::in_memory(&NoteSet::from_texts([("aws/kinesis.md", NOTES)])).unwrap()
    }

    fn top_id(searcher: &SectionSearcher, query: &str) -> Option<String> {
        searcher.search(query, 3).hits.first().map(|h| h.id.clone())
    }

    #[test]
    fn japanese_questions_find_their_section() {
        let index = index();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        assert_eq!(
            top_id(&searcher, "Kinesis のデータ保持期間の最大は?").as_deref(),
            Some("aws/kinesis.md#kinesis-data-streams-のデータ保持期限")
        );
        assert_eq!(
            top_id(&searcher, "ｼｬｰﾄﾞを増やすには").as_deref(),
            Some("aws/kinesis.md#シャードの分割と結合")
        );
        assert_eq!(
            top_id(&searcher, "batch get item").as_deref(),
            Some("aws/kinesis.md#多数の項目を速く読む")
        );
        assert_eq!(
            top_id(&searcher, "ＢａｔｃｈＧｅｔＩｔｅｍ").as_deref(),
            Some("aws/kinesis.md#多数の項目を速く読む")
        );
    }

    #[test]
    fn synonyms_connect_english_and_katakana() {
        let index = index();
        let synonyms = Synonyms::parse("シャード, shard\n").unwrap();
        let searcher = SectionSearcher::new(&index, &synonyms);
        assert_eq!(
            top_id(&searcher, "how to split a shard").as_deref(),
            Some("aws/kinesis.md#シャードの分割と結合")
        );
        // Harvested from `デッドレターキュー (DLQ)` in the notes themselves.
        assert_eq!(
            top_id(&searcher, "デッドレターキュー").as_deref(),
            Some("aws/kinesis.md#多数の項目を速く読む")
        );
    }

    #[test]
    fn any_text_is_a_query() {
        let index = index();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        for query in [
            "\"(",
            "🙂",
            "",
            "   ",
            "AND OR NOT",
            "field:value",
            "*",
            &"Kinesis のシャード ".repeat(500),
        ] {
            let _ = searcher.search(query, 5);
        }
        assert!(searcher.search("🙂", 5).hits.is_empty());
    }

    #[test]
    fn no_hits_offers_close_words() {
        let index = index();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        let results = searcher.search("Kenesis", 5);
        assert!(results.hits.is_empty());
        assert_eq!(results.suggestions, ["kinesis"]);
    }

    #[test]
    fn snippets_pick_matching_lines_and_mark_matches() {
        let index = index();
        let searcher = SectionSearcher::new(&index, &Synonyms::default());
        let hit = &searcher.search("保持期限の最大", 1).hits[0];
        assert_eq!(hit.snippet, "- **最大**は 365 日 (2020 年は 168 時間)");
        assert_eq!(hit.line, 6);
        assert_eq!(hit.heading_path, "Kinesis > Kinesis Data Streams のデータ保持期限");
        assert_eq!(
            hit.sources,
            ["https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html"]
        );
    }

    #[test]
    fn highlight_maps_back_to_the_original_width() {
        let terms = query_terms("シャード dynamodb", &Synonyms::default());
        assert_eq!(
            highlight("ｼｬｰﾄﾞと ＤｙｎａｍｏＤＢ と dynamodbx", &terms),
            "**ｼｬｰﾄﾞ**と **ＤｙｎａｍｏＤＢ** と dynamodbx"
        );
    }

    #[test]
    fn a_match_inside_inline_code_marks_the_whole_span() {
        let terms = query_terms("attribute_not_exists で上書きを防ぐ", &Synonyms::default());
        let shown = highlight("- `attribute_not_exists(UserId)` で上書きを防ぐ", &terms);
        assert!(
            shown.starts_with("- **`attribute_not_exists(UserId)`** で**上書"),
            "{shown}"
        );
        let terms = query_terms("not exists", &Synonyms::default());
        assert_eq!(
            highlight("``a `not` b`` and `exists` and ` lone", &terms),
            "**``a `not` b``** and **`exists`** and ` lone"
        );
    }

    #[test]
    fn snippets_never_pick_lines_out_of_code_blocks() {
        let text = "- 条件付き書き込みは `attribute_not_exists` で上書きを防ぐ\n\n```sh\naws dynamodb update-item \\\n  --condition-expression \"attribute_not_exists(UserId)\"\n```\n\nDynamoDB は楽観的ロックにも使える。\n";
        let terms = query_terms("DynamoDB の条件付き書き込みで update-item", &Synonyms::default());
        let shown = snippet(text, &terms, 2);
        assert!(!shown.contains("aws ") && !shown.contains("--condition"), "{shown}");
        assert!(shown.contains("**条件"), "{shown}");
        assert!(shown.contains("**DynamoDB**"), "{shown}");
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("kinesys", "kinesis"), 1);
        assert_eq!(edit_distance("シャード", "シャド"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
