//! How records are written as columns, the same on every backend: a write's outcome from its row count,
//! and a choice list as one text column.

use super::Recorded;

/// A row count from an insert that skips a duplicate (`INSERT OR IGNORE`, `ON CONFLICT DO NOTHING`): no row
/// means the write was already there.
pub(crate) fn recorded(inserted: u64) -> Recorded {
    if inserted > 0 {
        Recorded::New
    } else {
        Recorded::Duplicate
    }
}

/// `picked` as stored: choice keys separated by spaces; NULL (before schema 5) or empty for none.
pub(crate) fn picked_from(column: Option<String>) -> Vec<String> {
    column
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

pub(crate) fn picked_column(picked: &[String]) -> Option<String> {
    (!picked.is_empty()).then(|| picked.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choice_lists_round_trip_and_none_is_null() {
        let picked = vec!["k1".to_string(), "k2".to_string()];
        assert_eq!(picked_from(picked_column(&picked)), picked);
        assert_eq!(picked_column(&[]), None);
        assert!(picked_from(None).is_empty());
        assert_eq!(recorded(0), Recorded::Duplicate);
        assert_eq!(recorded(1), Recorded::New);
    }
}
