//! Heading anchors: turns a heading into the slug GitHub uses for its `#anchor`, so a section id such as
//! `aws-dva/kinesis.md#データ保持期間` is also a working link to the note on a git host.

use std::collections::HashMap;

/// The GitHub anchor of a heading: lower-cased, punctuation and symbols dropped (letters and digits of any
/// script, `-` and `_` kept), each space turned into `-`.
pub fn slugify(heading: &str) -> String {
    let mut slug = String::with_capacity(heading.len());
    for c in heading.trim().chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            slug.extend(c.to_lowercase());
        } else if c == ' ' {
            slug.push('-');
        }
    }
    slug
}

/// Hands out unique slugs within one file: the second `## 例` becomes `例-1`, the third `例-2`.
#[derive(Debug, Default)]
pub struct SlugDeduper {
    seen: HashMap<String, usize>,
}

impl SlugDeduper {
    pub fn unique(&mut self, heading: &str) -> String {
        let base = slugify(heading);
        let mut candidate = base.clone();
        while let Some(count) = self.seen.get_mut(&candidate) {
            *count += 1;
            candidate = format!("{base}-{}", *count - 1);
        }
        self.seen.insert(candidate.clone(), 1);
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_github_rules() {
        assert_eq!(
            slugify("Kinesis Data Streams のデータ保持期間"),
            "kinesis-data-streams-のデータ保持期間"
        );
        assert_eq!(slugify("Lambda の /tmp (一時ファイル)"), "lambda-の-tmp-一時ファイル");
        assert_eq!(slugify("What's `BatchGetItem`?"), "whats-batchgetitem");
        assert_eq!(slugify("保持期間は？"), "保持期間は");
    }

    #[test]
    fn repeated_headings_get_numbered() {
        let mut deduper = SlugDeduper::default();
        assert_eq!(deduper.unique("例"), "例");
        assert_eq!(deduper.unique("例"), "例-1");
        assert_eq!(deduper.unique("例"), "例-2");
        assert_eq!(deduper.unique("例-1"), "例-1-1");
    }
}
