//! Numbers a cloze question may hide: the first number of a fact that is a fact to recall, with its unit
//! (`既定は ＿＿ 時間` → `24 時間`), never part of a name (`S3`, `m5.2xlarge`), never a year, never a bare
//! `1` or `1` with a counter (`1 回あたり`: "one of", no fact), never a fragment of a larger number (`TLS1.2`,
//! `1 万`, `10-20`, `2^31`). Each number passed over is reported with its reason.

use super::{BLANK, Dropped};
use crate::quiz::checker::{is_counter, is_quantity};

/// `既定は 24 時間` → (`既定は ＿＿ 時間`, `24 時間`): the first number that is not part of a name (`S3`,
/// `EC2`), with its unit in the answer when it has one, so `24 日` is not taken for `24 時間`.
pub fn hide_number(fact: &str) -> Option<(String, String)> {
    hide_number_noting(fact, &mut |_| {})
}

/// `hide_number`, telling `dropped` about each number it passes over and why.
pub(crate) fn hide_number_noting(fact: &str, dropped: &mut dyn FnMut(Dropped)) -> Option<(String, String)> {
    let chars: Vec<(usize, char)> = fact.char_indices().collect();
    let mut i = 0;
    while i < chars.len() {
        let (start, ch) = chars[i];
        let after_letter = i > 0 && chars[i - 1].1.is_ascii_alphabetic();
        if !ch.is_ascii_digit() || after_letter {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < chars.len()
            && (chars[j].1.is_ascii_digit() || (matches!(chars[j].1, ',' | '.') && next_is_digit(&chars, j)))
        {
            j += 1;
        }
        let end = chars.get(j).map_or(fact.len(), |(at, _)| *at);
        if chars
            .get(j)
            .is_some_and(|(_, c)| c.is_ascii_alphabetic() && !unit_follows(&fact[end..]))
        {
            i = j; // `2xlarge`, `3AZ`: part of a name
            continue;
        }
        let number = &fact[start..end];
        let unit = unit_after(&fact[end..]);
        let reason = if is_year(number, unit) {
            Some(Dropped::ClozeYear) // `2020 年時点では`: a date, not a fact to recall
        } else if is_fragment(&fact[..start], &fact[end..]) {
            Some(Dropped::ClozeFragment)
        } else if number == "1" && unit.is_none_or(is_counter) {
            Some(Dropped::ClozeOne)
        } else {
            None
        };
        if let Some(reason) = reason {
            dropped(reason);
            i = j;
            continue;
        }
        let answer = match unit {
            Some(unit) => format!("{number} {unit}"),
            None => number.to_string(),
        };
        let stem = format!("{}{BLANK}{}", &fact[..start], &fact[end..]);
        return Some((stem, answer));
    }
    None
}

/// Whether the number between `before` and `after` is only part of one: of a version or name (`TLS1.2`,
/// `v2`), a range or date (`10-20`, `2024/01`), a power (`2^31`), or a Japanese multiple (`1 万`).
fn is_fragment(before: &str, after: &str) -> bool {
    let joined_before = before
        .chars()
        .next_back()
        .is_some_and(|c| matches!(c, '.' | '-' | '/' | ':' | '^' | '~' | '〜' | '–' | '_'));
    let mut rest = after.chars();
    let joined_after = match rest.next() {
        Some('-' | '/' | ':' | '^' | '.' | '~' | '〜') => rest.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    let multiple = after.trim_start().starts_with(['万', '億', '千', '兆']);
    joined_before || joined_after || multiple
}

fn is_year(number: &str, unit: Option<&str>) -> bool {
    let year = number.parse::<u32>().is_ok_and(|n| (1900..=2100).contains(&n));
    year && unit.is_some_and(|u| matches!(u.trim(), "年" | "年間"))
}

fn next_is_digit(chars: &[(usize, char)], at: usize) -> bool {
    chars.get(at + 1).is_some_and(|(_, c)| c.is_ascii_digit())
}

fn unit_follows(rest: &str) -> bool {
    unit_after(rest).is_some()
}

/// The unit right after a number (`時間`, `hours`, `MB`), the longest spelling that reads as one.
fn unit_after(rest: &str) -> Option<&str> {
    let rest = rest.trim_start();
    let run: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '、' | '。' | ',' | '.'))
        .take(6)
        .collect();
    let ends: Vec<usize> = run.char_indices().map(|(at, c)| at + c.len_utf8()).collect();
    ends.into_iter()
        .rev()
        .map(|end| &rest[..end])
        .find(|unit| is_quantity(&format!("1 {unit}")))
}
