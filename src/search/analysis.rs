//! Text analysis for Japanese notes with English names, without a dictionary: width and case folding
//! (NFKC, so `ＤｙｎａｍｏＤＢ` is `dynamodb` and `ｼｬｰﾄﾞ` is `シャード`), CJK runs cut into overlapping bigrams
//! with positions (the Lucene `cjk` scheme: full recall inside katakana compounds, and a word is a phrase of
//! its bigrams), Latin words and numbers kept whole, and camelCase API names split into parts for a second
//! field.
//! Every token keeps its byte span in the original text, for highlighting.

use tantivy::tokenizer::{Token as TantivyToken, TokenStream, Tokenizer};
use unicode_normalization::UnicodeNormalization;

/// A character of normalised text and the byte span of the original text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizedChar {
    pub ch: char,
    pub from: usize,
    pub to: usize,
}

/// NFKC and lower-casing, keeping for each output character the span of input it came from.
pub fn normalize_with_offsets(text: &str) -> Vec<NormalizedChar> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((from, ch)) = chars.next() {
        let voicing_follows = chars.peek().is_some_and(|&(_, next)| is_voicing_mark(next));
        if ch.is_ascii() {
            out.push(NormalizedChar {
                ch: ch.to_ascii_lowercase(),
                from,
                to: from + 1,
            });
        } else if is_nfkc_stable(ch) && !voicing_follows {
            // Kana and kanji have no case.
            out.push(NormalizedChar {
                ch,
                from,
                to: from + ch.len_utf8(),
            });
        } else {
            // Slow path: compose with following voicing marks (half-width ｶﾞ is two characters).
            let mut unit = vec![ch];
            let mut to = from + ch.len_utf8();
            while let Some(&(at, next)) = chars.peek() {
                if !is_voicing_mark(next) {
                    break;
                }
                unit.push(next);
                to = at + next.len_utf8();
                chars.next();
            }
            for normalized in unit.into_iter().nfkc() {
                push_lowercase(&mut out, normalized, from, to);
            }
        }
    }
    out
}

/// The normalised text alone.
pub fn normalize(text: &str) -> String {
    normalize_with_offsets(text).into_iter().map(|n| n.ch).collect()
}

fn push_lowercase(out: &mut Vec<NormalizedChar>, ch: char, from: usize, to: usize) {
    for lower in ch.to_lowercase() {
        out.push(NormalizedChar { ch: lower, from, to });
    }
}

fn is_voicing_mark(ch: char) -> bool {
    matches!(ch, '\u{3099}' | '\u{309A}' | '\u{FF9E}' | '\u{FF9F}')
}

/// Characters NFKC leaves as they are, checked without running the normaliser (the common case).
fn is_nfkc_stable(ch: char) -> bool {
    matches!(ch, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{30FC}' | '\u{4E00}'..='\u{9FFF}')
}

/// The script class that decides how a run of characters is tokenized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Kanji,
    Hiragana,
    Katakana,
    /// Letters and digits of non-CJK scripts: whole words.
    Word,
    /// Spaces, punctuation, symbols: separators.
    Other,
}

impl Script {
    pub fn of(ch: char) -> Script {
        match ch {
            '\u{3005}'
            | '\u{3006}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{20000}'..='\u{3134F}' => Script::Kanji,
            '\u{AC00}'..='\u{D7AF}' => Script::Kanji, // Hangul syllables: bigrams, like kanji
            '\u{3041}'..='\u{309F}' => Script::Hiragana,
            '\u{30A0}'..='\u{30FA}' | '\u{30FC}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' => Script::Katakana,
            c if c.is_alphanumeric() => Script::Word,
            _ => Script::Other,
        }
    }

    pub fn is_cjk(self) -> bool {
        matches!(self, Script::Kanji | Script::Hiragana | Script::Katakana)
    }
}

/// A token with its position and its span in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    pub from: usize,
    pub to: usize,
    pub position: usize,
}

/// The main analyser: CJK runs as bigrams (a lone CJK character as itself), other words whole.
/// `Kinesis Data Streamsのデータ保持期限は24時間` →
/// `kinesis data streams のデ デー ータ タ保 保持 持期 期限 限は 24 時間`.
pub fn bigram_tokens(text: &str) -> Vec<Token> {
    let chars = normalize_with_offsets(text);
    bigram_spans(&chars)
        .into_iter()
        .map(|span| token(&chars[span.chars], span.position))
        .collect()
}

/// A token as a range of normalised characters, so that indexing need not allocate a string per token.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    chars: std::ops::Range<usize>,
    position: usize,
}

/// `bigram_tokens`' cutting, as spans of `chars`.
fn bigram_spans(chars: &[NormalizedChar]) -> Vec<Span> {
    let mut spans = Vec::with_capacity(chars.len());
    let mut position = 0;
    let mut push = |chars: std::ops::Range<usize>| {
        spans.push(Span { chars, position });
        position += 1;
    };
    for run in runs(chars, |s| s.is_cjk()) {
        if Script::of(chars[run.start].ch).is_cjk() {
            if run.len() == 1 {
                push(run.clone());
            }
            for start in run.start..run.end.saturating_sub(1) {
                push(start..start + 2);
            }
        } else {
            // A number glued to its unit (`5GB`, `128mb`) is the number and the unit, as `5 GB` is;
            // letters then digits (`s3`, `ec2`, `sigv4`) are one name and stay whole.
            let mut start = run.start;
            for i in run.start + 1..run.end {
                if chars[i - 1].ch.is_ascii_digit()
                    && chars[i].ch.is_alphabetic()
                    && chars[run.start..i].iter().all(|c| c.ch.is_ascii_digit())
                {
                    push(start..i);
                    start = i;
                }
            }
            push(start..run.end);
        }
    }
    spans
}

/// Parts of Latin words, camelCase and snake_case split, lower-cased: `BatchGetItem` → `batch get item`,
/// `DynamoDB` → `dynamo db`, `AWS_XRAY_DAEMON_ADDRESS` → `aws xray daemon address`. CJK text is skipped.
pub fn word_part_tokens(text: &str) -> Vec<Token> {
    // Case matters for the split, so this works on NFKC text that is not lower-cased yet.
    let mut tokens = Vec::new();
    let mut position = 0;
    let mut word_start: Option<usize> = None;
    let mut emit = |word: &str, start: usize, tokens: &mut Vec<Token>| {
        for (from, part) in camel_parts(word) {
            tokens.push(Token {
                text: part.to_lowercase(),
                from: start + from,
                to: start + from + part.len(),
                position,
            });
            position += 1;
        }
    };
    for (at, ch) in text.char_indices() {
        let is_word =
            ch.is_ascii_alphanumeric() || (Script::of(ch) == Script::Word && !ch.is_ascii() && is_fullwidth_alnum(ch));
        match (is_word, word_start) {
            (true, None) => word_start = Some(at),
            (false, Some(start)) => {
                emit(&text[start..at], start, &mut tokens);
                word_start = None;
            }
            _ => {}
        }
    }
    if let Some(start) = word_start {
        emit(&text[start..], start, &mut tokens);
    }
    tokens
}

fn is_fullwidth_alnum(ch: char) -> bool {
    matches!(ch, '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}')
}

/// Splits one word at case changes: `GenerateDataKey` → `Generate`, `Data`, `Key`; `IAMRole` → `IAM`,
/// `Role`; digits stay with what precedes them (`EC2Instance` → `EC2`, `Instance`). Full-width letters
/// are folded first.
fn camel_parts(word: &str) -> Vec<(usize, String)> {
    let chars: Vec<(usize, char)> = word.char_indices().map(|(i, c)| (i, fold_width(c))).collect();
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 1..chars.len() {
        let (prev, cur) = (chars[i - 1].1, chars[i].1);
        let next_is_lower = chars.get(i + 1).is_some_and(|(_, c)| c.is_lowercase());
        let boundary = (cur.is_uppercase() && (prev.is_lowercase() || prev.is_ascii_digit()))
            || (cur.is_uppercase() && prev.is_uppercase() && next_is_lower);
        if boundary {
            parts.push(collect_part(&chars[start..i]));
            start = i;
        }
    }
    if start < chars.len() {
        parts.push(collect_part(&chars[start..]));
    }
    parts
}

fn collect_part(chars: &[(usize, char)]) -> (usize, String) {
    (chars[0].0, chars.iter().map(|(_, c)| *c).collect())
}

fn fold_width(ch: char) -> char {
    if is_fullwidth_alnum(ch) {
        char::from_u32(ch as u32 - 0xFEE0).unwrap_or(ch)
    } else {
        ch
    }
}

/// A word of a query: a run of one script (`データ`, `保持期間`, `の`, `kinesis`), normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub script: Script,
}

/// Cuts text into same-script runs. Katakana and kanji runs are the content words of Japanese text;
/// hiragana runs are mostly particles and endings.
pub fn words(text: &str) -> Vec<Word> {
    let chars = normalize_with_offsets(text);
    let mut words = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let script = Script::of(chars[start].ch);
        let mut end = start + 1;
        while end < chars.len() && Script::of(chars[end].ch) == script {
            end += 1;
        }
        if script != Script::Other {
            words.push(Word {
                text: chars[start..end].iter().map(|c| c.ch).collect(),
                script,
            });
        }
        start = end;
    }
    words
}

/// Maximal runs of characters that are not `Other`, split where CJK meets non-CJK.
fn runs(chars: &[NormalizedChar], is_cjk: impl Fn(Script) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start: Option<(usize, bool)> = None;
    for (i, c) in chars.iter().enumerate() {
        let script = Script::of(c.ch);
        let class = (script != Script::Other).then(|| is_cjk(script));
        match (start, class) {
            (Some((s, cjk)), Some(now)) if cjk != now => {
                runs.push(s..i);
                start = Some((i, now));
            }
            (Some((s, _)), None) => {
                runs.push(s..i);
                start = None;
            }
            (None, Some(now)) => start = Some((i, now)),
            _ => {}
        }
    }
    if let Some((s, _)) = start {
        runs.push(s..chars.len());
    }
    runs
}

fn token(chars: &[NormalizedChar], position: usize) -> Token {
    Token {
        text: chars.iter().map(|c| c.ch).collect(),
        from: chars[0].from,
        to: chars[chars.len() - 1].to,
        position,
    }
}

/// tantivy adapter for `bigram_tokens`.
#[derive(Clone, Default)]
pub struct BigramTokenizer;

/// tantivy adapter for `word_part_tokens` (stemming is added as a filter when registering).
#[derive(Clone, Default)]
pub struct WordPartTokenizer;

/// Tokens computed up front and handed to tantivy one by one.
pub struct VecTokenStream {
    tokens: Vec<TantivyToken>,
    next: usize,
}

impl VecTokenStream {
    fn new(tokens: Vec<Token>) -> Self {
        let tokens = tokens
            .into_iter()
            .map(|t| TantivyToken {
                offset_from: t.from,
                offset_to: t.to,
                position: t.position,
                text: t.text,
                position_length: 1,
            })
            .collect();
        VecTokenStream { tokens, next: 0 }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &TantivyToken {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        &mut self.tokens[self.next - 1]
    }
}

impl Tokenizer for BigramTokenizer {
    type TokenStream<'a> = BigramTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramTokenStream {
        let chars = normalize_with_offsets(text);
        let spans = bigram_spans(&chars);
        BigramTokenStream {
            chars,
            spans,
            next: 0,
            token: TantivyToken::default(),
        }
    }
}

/// `bigram_tokens` handed to tantivy one by one, each written into the same token: indexing a section
/// allocates no string per bigram.
pub struct BigramTokenStream {
    chars: Vec<NormalizedChar>,
    spans: Vec<Span>,
    next: usize,
    token: TantivyToken,
}

impl TokenStream for BigramTokenStream {
    fn advance(&mut self) -> bool {
        let Some(span) = self.spans.get(self.next) else {
            return false;
        };
        self.next += 1;
        let chars = &self.chars[span.chars.clone()];
        self.token.text.clear();
        self.token.text.extend(chars.iter().map(|c| c.ch));
        self.token.offset_from = chars[0].from;
        self.token.offset_to = chars[chars.len() - 1].to;
        self.token.position = span.position;
        self.token.position_length = 1;
        true
    }

    fn token(&self) -> &TantivyToken {
        &self.token
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        &mut self.token
    }
}

impl Tokenizer for WordPartTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(word_part_tokens(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(tokens: &[Token]) -> Vec<&str> {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn the_tantivy_stream_gives_the_same_tokens_as_bigram_tokens() {
        let text = "Kinesis Data Streamsのデータ保持期限は24時間、ｼｬｰﾄﾞは5GB。字";
        let mut tokenizer = BigramTokenizer;
        let mut stream = tokenizer.token_stream(text);
        let mut streamed = Vec::new();
        while stream.advance() {
            let t = stream.token();
            streamed.push(Token {
                text: t.text.clone(),
                from: t.offset_from,
                to: t.offset_to,
                position: t.position,
            });
        }
        assert_eq!(streamed, bigram_tokens(text));
        assert_eq!(streamed.last().map(|t| t.text.as_str()), Some("字"));
    }

    #[test]
    fn bigrams_cjk_and_keeps_words_whole() {
        let tokens = bigram_tokens("Kinesis Data Streamsのデータ保持期限は24時間");
        assert_eq!(
            texts(&tokens),
            [
                "kinesis", "data", "streams", "のデ", "デー", "ータ", "タ保", "保持", "持期", "期限", "限は", "24",
                "時間"
            ]
        );
        let positions: Vec<usize> = tokens.iter().map(|t| t.position).collect();
        assert_eq!(positions, (0..13).collect::<Vec<_>>());
    }

    #[test]
    fn folds_width_and_case() {
        assert_eq!(texts(&bigram_tokens("ＤｙｎａｍｏＤＢ")), ["dynamodb"]);
        assert_eq!(normalize("ｼｬｰﾄﾞ"), "シャード");
        assert_eq!(texts(&bigram_tokens("ｼｬｰﾄﾞ")), ["シャ", "ャー", "ード"]);
        assert_eq!(normalize("ﾊﾟｰﾃｨｼｮﾝｷｰ"), "パーティションキー");
        assert_eq!(normalize("１２８ＭＢ"), "128mb");
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "ｼｬｰﾄﾞを分割";
        for token in bigram_tokens(text) {
            assert_eq!(normalize(&text[token.from..token.to]), token.text, "{token:?}");
        }
        let tokens = bigram_tokens("ＤｙｎａｍｏＤＢ");
        assert_eq!((tokens[0].from, tokens[0].to), (0, "ＤｙｎａｍｏＤＢ".len()));
    }

    #[test]
    fn a_lone_cjk_character_is_its_own_token() {
        assert_eq!(texts(&bigram_tokens("最大 1 秒")), ["最大", "1", "秒"]);
    }

    #[test]
    fn numbers_with_units_keep_the_number_whole() {
        assert_eq!(texts(&bigram_tokens("168時間")), ["168", "時間"]);
        assert_eq!(texts(&bigram_tokens("16MB と 5 GB")), ["16", "mb", "と", "5", "gb"]);
        assert_eq!(
            texts(&bigram_tokens("S3 EC2 sigv4 2xlarge")),
            ["s3", "ec2", "sigv4", "2", "xlarge"]
        );
        assert_eq!(texts(&bigram_tokens("1.5 秒")), ["1", "5", "秒"]);
    }

    #[test]
    fn odd_input_never_panics() {
        for text in ["", "\"(", "🙂🙂", "\u{3099}", "ﾞ", "a\u{0}b", "\u{feff}", "𠮷野家"] {
            let _ = bigram_tokens(text);
            let _ = word_part_tokens(text);
            let _ = words(text);
        }
        assert_eq!(texts(&bigram_tokens("𠮷野家")), ["𠮷野", "野家"]);
    }

    #[test]
    fn camel_case_api_names_split_into_parts() {
        assert_eq!(texts(&word_part_tokens("BatchGetItem")), ["batch", "get", "item"]);
        assert_eq!(
            texts(&word_part_tokens("GenerateDataKeyWithoutPlaintext")),
            ["generate", "data", "key", "without", "plaintext"]
        );
        assert_eq!(
            texts(&word_part_tokens("DynamoDB と IAMRole")),
            ["dynamo", "db", "iam", "role"]
        );
        assert_eq!(
            texts(&word_part_tokens("AWS_XRAY_DAEMON_ADDRESS")),
            ["aws", "xray", "daemon", "address"]
        );
        assert_eq!(texts(&word_part_tokens("EC2Instance s3")), ["ec2", "instance", "s3"]);
        assert_eq!(texts(&word_part_tokens("ＢａｔｃｈＧｅｔ")), ["batch", "get"]);
    }

    #[test]
    fn words_are_same_script_runs() {
        let words: Vec<(String, Script)> = words("Kinesisのデータ保持期間の最大は?")
            .into_iter()
            .map(|w| (w.text, w.script))
            .collect();
        let expected = [
            ("kinesis", Script::Word),
            ("の", Script::Hiragana),
            ("データ", Script::Katakana),
            ("保持期間", Script::Kanji),
            ("の", Script::Hiragana),
            ("最大", Script::Kanji),
            ("は", Script::Hiragana),
        ];
        assert_eq!(words, expected.map(|(t, s)| (t.to_string(), s)));
    }
}
