//! Free-text answer checking: lenient but honest. Both texts are folded (NFKC, lower case, full/half
//! width, hiragana to katakana, punctuation and spaces dropped); a number with a unit matches the same
//! number in any of the unit's spellings or bare (`24時間` = `24 hours` = `24`); otherwise a small edit
//! distance, growing with the answer's length, makes an answer close (惜しい) rather than wrong. The verdict
//! always carries the canonical answer, so it is shown whatever the player typed.

use crate::search::analysis::normalize;
use crate::search::edit_distance;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    Correct,
    /// Accepted with a slip (a typo, a missing long vowel): scores, and says so.
    Close,
    Wrong,
}

impl Verdict {
    /// Whether the answer scores.
    pub fn scores(self) -> bool {
        matches!(self, Verdict::Correct | Verdict::Close)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub verdict: Verdict,
    /// The answer as the notes write it.
    pub canonical: String,
}

/// Checks `given` against the canonical answer and any other accepted spellings.
pub fn check(given: &str, canonical: &str, also_accepted: &[String]) -> Checked {
    let verdict = std::iter::once(canonical)
        .chain(also_accepted.iter().map(String::as_str))
        .map(|expected| verdict_for(given, expected))
        .min_by_key(|v| match v {
            Verdict::Correct => 0,
            Verdict::Close => 1,
            Verdict::Wrong => 2,
        })
        .unwrap_or(Verdict::Wrong);
    Checked {
        verdict,
        canonical: canonical.to_string(),
    }
}

fn verdict_for(given: &str, expected: &str) -> Verdict {
    let given_folded = fold(given);
    if given_folded.is_empty() {
        return Verdict::Wrong;
    }
    if let Some(expected_quantity) = Quantity::parse(expected) {
        // Numbers are exact: 25 hours is not "close" to 24 hours.
        return match Quantity::parse(given) {
            Some(quantity) if quantity.matches(&expected_quantity) => Verdict::Correct,
            _ => Verdict::Wrong,
        };
    }
    let expected_folded = fold(expected);
    if given_folded == expected_folded {
        return Verdict::Correct;
    }
    let length = expected_folded.chars().count();
    if edit_distance(&given_folded, &expected_folded) <= allowed_edits(length) {
        Verdict::Close
    } else {
        Verdict::Wrong
    }
}

/// Edits tolerated for an answer of `length` folded characters: none for short answers (where one edit
/// is another word: SQS/SNS), then one more every few characters.
pub fn allowed_edits(length: usize) -> usize {
    match length {
        0..=3 => 0,
        4..=7 => 1,
        8..=12 => 2,
        _ => 3,
    }
}

/// NFKC, lower case, hiragana as katakana, and only letters, digits and the long-vowel mark kept.
pub fn fold(text: &str) -> String {
    normalize(text)
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == 'ー')
        .map(hiragana_to_katakana)
        .collect()
}

fn hiragana_to_katakana(ch: char) -> char {
    match ch {
        '\u{3041}'..='\u{3096}' => char::from_u32(ch as u32 + 0x60).unwrap_or(ch),
        _ => ch,
    }
}

/// Whether `unit` is a counter (`回`, `件`, `個`, `times`): with `1` it says "one of", not a quantity.
pub fn is_counter(unit: &str) -> bool {
    Quantity::parse(&format!("1 {unit}")).is_some_and(|q| q.unit == Some("count"))
}

/// Whether `text` is a number with an optional known unit (`24 時間`, `365days`, `8,760`).
pub fn is_quantity(text: &str) -> bool {
    Quantity::parse(text).is_some()
}

/// A number and its unit, the unit reduced to one name (`時間`, `hours`, `h` → `hour`).
#[derive(Debug, Clone, PartialEq)]
struct Quantity {
    value: f64,
    unit: Option<&'static str>,
}

impl Quantity {
    /// The whole text must be a number with an optional known unit (`24 時間`, `8,760h`, `1.5 秒`).
    fn parse(text: &str) -> Option<Quantity> {
        let normalized = normalize(text);
        let trimmed = normalized.trim();
        let number_end = trimmed
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
            .unwrap_or(trimmed.len());
        let digits: String = trimmed[..number_end].chars().filter(|c| *c != ',').collect();
        if !digits.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let value: f64 = digits.parse().ok()?;
        let rest: String = trimmed[number_end..]
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '%')
            .map(hiragana_to_katakana)
            .collect();
        if rest.is_empty() {
            return Some(Quantity { value, unit: None });
        }
        let unit = UNITS
            .iter()
            .find(|(_, spellings)| spellings.contains(&rest.as_str()))
            .map(|(unit, _)| *unit)?;
        Some(Quantity {
            value,
            unit: Some(unit),
        })
    }

    /// Same number, and the same unit when both name one (a bare number matches any unit).
    fn matches(&self, expected: &Quantity) -> bool {
        (self.value - expected.value).abs() < 1e-9
            && match (self.unit, expected.unit) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// Units and their spellings after folding (NFKC, lower case, no spaces, hiragana as katakana).
const UNITS: &[(&str, &[&str])] = &[
    ("millisecond", &["ms", "ミリ秒", "millisecond", "milliseconds", "msec"]),
    ("second", &["s", "sec", "secs", "second", "seconds", "秒"]),
    ("minute", &["m", "min", "mins", "minute", "minutes", "分", "分間"]),
    ("hour", &["h", "hr", "hrs", "hour", "hours", "時間"]),
    ("day", &["d", "day", "days", "日", "日間"]),
    ("week", &["w", "week", "weeks", "週", "週間"]),
    ("month", &["month", "months", "カ月", "ヵ月", "ヶ月", "ケ月"]),
    ("year", &["y", "year", "years", "年", "年間"]),
    ("byte", &["b", "byte", "bytes", "バイト"]),
    ("kilobyte", &["kb", "kib", "キロバイト"]),
    ("megabyte", &["mb", "mib", "メガバイト"]),
    ("gigabyte", &["gb", "gib", "ギガバイト"]),
    ("terabyte", &["tb", "tib", "テラバイト"]),
    ("percent", &["%", "percent", "パーセント"]),
    ("count", &["個", "件", "回", "ツ", "本", "items", "times"]),
    ("character", &["文字", "characters", "chars"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_table() {
        use Verdict::*;
        let table: &[(&str, &str, Verdict)] = &[
            // Exact after folding: case, width, spaces, punctuation, kana.
            ("DynamoDB", "dynamodb", Correct),
            ("DynamoDB", "ＤｙｎａｍｏＤＢ", Correct),
            ("BatchGetItem", "batch-get-item", Correct),
            ("シャード", "しゃーど", Correct),
            ("シャード", "ｼｬｰﾄﾞ", Correct),
            ("可視性タイムアウト", "可視性 タイムアウト。", Correct),
            // Numbers with units.
            ("24 時間", "24時間", Correct),
            ("24 時間", "24 hours", Correct),
            ("24 時間", "24", Correct),
            ("24 時間", "２４ｈ", Correct),
            ("8,760 時間", "8760 hours", Correct),
            ("365 日", "365days", Correct),
            // Near misses: close.
            ("BatchGetItem", "BatchGetItems", Close),
            ("CloudFormation", "CloudFromation", Close),
            ("デッドレターキュー", "デッドレタキュー", Close),
            ("可視性タイムアウト", "可視性タイムアト", Close),
            ("Kinesis", "Kenesis", Close),
            // True misses.
            ("24 時間", "24 日", Wrong),
            ("24 時間", "25 時間", Wrong),
            ("24 時間", "二十四", Wrong),
            ("SQS", "SNS", Wrong),
            ("BatchGetItem", "BatchWriteItem", Wrong),
            ("シャード", "パーティション", Wrong),
            ("DynamoDB", "", Wrong),
            ("DynamoDB", "？！", Wrong),
        ];
        for (canonical, given, want) in table {
            let checked = check(given, canonical, &[]);
            assert_eq!(checked.verdict, *want, "{given:?} for {canonical:?}");
            assert_eq!(checked.canonical, *canonical);
        }
    }

    #[test]
    fn other_accepted_spellings_count() {
        let accepted = vec!["DLQ".to_string()];
        let checked = check("dlq", "デッドレターキュー", &accepted);
        assert_eq!(
            (checked.verdict, checked.canonical.as_str()),
            (Verdict::Correct, "デッドレターキュー")
        );
    }

    #[test]
    fn the_allowance_grows_with_length() {
        assert_eq!(allowed_edits(3), 0);
        assert!(allowed_edits(5) < allowed_edits(10));
        assert!(allowed_edits(10) < allowed_edits(20));
    }
}
