//! The optional front matter block at the top of a note: a small, line-based subset of YAML
//! (`key: value` and `key: [a, b]`), enough for titles, tags and exam domains without a YAML dependency.

use std::collections::BTreeMap;

/// What a note file says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontMatter {
    pub title: Option<String>,
    pub service: Option<String>,
    pub domains: Vec<String>,
    pub tags: Vec<String>,
    pub sources: Vec<String>,
    pub lang: Option<String>,
    pub kind: NoteKind,
    /// Keys tsumiage does not know, kept so tools built on it can read them.
    pub other: BTreeMap<String, String>,
}

/// Whether a file holds study notes (searchable sections) or a question bank.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NoteKind {
    #[default]
    Notes,
    Questions,
}

/// A front matter line that could not be read, with its 1-based line number in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatterError {
    pub line: usize,
    pub message: String,
}

/// The result of splitting a file into its front matter and the rest.
#[derive(Debug)]
pub struct Split<'a> {
    pub front: FrontMatter,
    pub errors: Vec<FrontMatterError>,
    /// The text after the closing `---`.
    pub body: &'a str,
    /// How many lines precede `body`, so body line numbers can be turned into file line numbers.
    pub body_first_line: usize,
}

/// Splits `text` into front matter and body. A file without a leading `---` has an empty front matter.
pub fn split(text: &str) -> Split<'_> {
    let mut split = Split {
        front: FrontMatter::default(),
        errors: Vec::new(),
        body: text,
        body_first_line: 0,
    };
    let Some(after_open) = strip_open_fence(text) else {
        return split;
    };
    let mut offset = text.len() - after_open.len();
    let mut line_no = 1;
    for line in after_open.split_inclusive('\n') {
        line_no += 1;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if content.trim_end() == "---" || content.trim_end() == "..." {
            split.body = &text[offset..];
            split.body_first_line = line_no;
            return split;
        }
        parse_line(content, line_no, &mut split.front, &mut split.errors);
    }
    // No closing fence: treat the whole file as body, and say so.
    split.front = FrontMatter::default();
    split.errors = vec![FrontMatterError {
        line: 1,
        message: "front matter opened with `---` is never closed (add a `---` line after it)".into(),
    }];
    split
}

fn strip_open_fence(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("---")?;
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n'))
}

fn parse_line(content: &str, line_no: usize, front: &mut FrontMatter, errors: &mut Vec<FrontMatterError>) {
    let trimmed = content.trim();
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return;
    }
    let Some((key, value)) = trimmed.split_once(':') else {
        errors.push(FrontMatterError {
            line: line_no,
            message: format!("front matter line `{trimmed}` is not `key: value`"),
        });
        return;
    };
    let key = key.trim().to_lowercase();
    let value = value.trim();
    if value.starts_with('[') && !value.ends_with(']') {
        errors.push(FrontMatterError {
            line: line_no,
            message: format!("the list for `{key}` is not closed with `]`"),
        });
        return;
    }
    match key.as_str() {
        "title" => front.title = Some(unquote(value).to_string()).filter(|t| !t.is_empty()),
        "service" => front.service = Some(unquote(value).to_string()).filter(|s| !s.is_empty()),
        "domain" | "domains" => front.domains = list(value),
        "tags" => front.tags = list(value),
        "sources" | "source" => front.sources = list(value),
        "lang" | "language" => front.lang = Some(unquote(value).to_lowercase()),
        "kind" => match unquote(value) {
            "notes" | "" => front.kind = NoteKind::Notes,
            "questions" => front.kind = NoteKind::Questions,
            other => errors.push(FrontMatterError {
                line: line_no,
                message: format!("unknown kind `{other}` (expected `notes` or `questions`)"),
            }),
        },
        _ => {
            front.other.insert(key, value.to_string());
        }
    }
}

/// `[a, "b c"]` or `a, b` → `["a", "b c"]`.
pub(super) fn list(value: &str) -> Vec<String> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    inner
        .split(',')
        .map(|item| unquote(item.trim()).to_string())
        .filter(|item| !item.is_empty())
        .collect()
}

fn unquote(value: &str) -> &str {
    let value = value.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote).and_then(|v| v.strip_suffix(quote)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_known_keys_and_lists() {
        let text = "---\ntitle: Amazon Kinesis\nservice: Kinesis\ndomain: [development, security]\ntags: a, \"b c\"\nkind: questions\nowner: me\n---\n# Body\n";
        let split = split(text);
        assert!(split.errors.is_empty(), "{:?}", split.errors);
        assert_eq!(split.front.title.as_deref(), Some("Amazon Kinesis"));
        assert_eq!(split.front.domains, ["development", "security"]);
        assert_eq!(split.front.tags, ["a", "b c"]);
        assert_eq!(split.front.kind, NoteKind::Questions);
        assert_eq!(split.front.other["owner"], "me");
        assert_eq!(split.body, "# Body\n");
        assert_eq!(split.body_first_line, 8);
    }

    #[test]
    fn no_front_matter_leaves_text_alone() {
        let split = split("# Title\n---\n");
        assert_eq!(split.body, "# Title\n---\n");
        assert_eq!(split.body_first_line, 0);
    }

    #[test]
    fn broken_lines_are_reported_with_their_line() {
        let split = split("---\ntitle: ok\nthis is not a pair\ntags: [a, b\n---\nbody");
        let lines: Vec<usize> = split.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4]);
        assert_eq!(split.front.title.as_deref(), Some("ok"));
    }

    #[test]
    fn unclosed_front_matter_is_an_error_and_the_text_is_kept() {
        let split = split("---\ntitle: x\n# Heading\n");
        assert_eq!(split.errors.len(), 1);
        assert!(split.body.contains("# Heading"));
    }
}
