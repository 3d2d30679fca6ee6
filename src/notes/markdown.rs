//! The Markdown reader: ATX headings (`#`–`######`) cut a note into sections; fenced code is kept whole
//! (a `#` inside it is not a heading); bullets become facts and links become sources.

use super::{Parsed, Problem, Section, SectionBuilder};

pub(super) fn parse(path: &str, file_title: &str, body: &str, first_line: usize) -> Parsed {
    let mut builder = SectionBuilder::new(path);
    let mut problems = Vec::new();
    let mut fence: Option<(char, usize, usize)> = None; // (fence char, length, opening line)
    for (index, line) in body.lines().enumerate() {
        let line_no = first_line + index + 1;
        if let Some((fence_char, fence_len, _)) = fence {
            if is_closing_fence(line, fence_char, fence_len) {
                fence = None;
            }
            builder.body_line(line_no, line, file_title);
            continue;
        }
        if let Some((fence_char, fence_len)) = opening_fence(line) {
            fence = Some((fence_char, fence_len, line_no));
            builder.body_line(line_no, line, file_title);
            continue;
        }
        match heading(line) {
            Some((level, "")) => {
                problems.push(Problem::warning(path, line_no, "heading has no text"));
                builder.heading(level, "untitled", line_no);
            }
            Some((level, title)) => builder.heading(level, title, line_no),
            None => builder.body_line(line_no, line, file_title),
        }
    }
    if let Some((_, _, opened)) = fence {
        problems.push(Problem::warning(
            path,
            opened,
            "code block is never closed: the rest of the file is read as code",
        ));
    }
    Parsed {
        sections: builder.finish(),
        problems,
    }
}

/// `## Title ##` → `(2, "Title")`.
fn heading(line: &str) -> Option<(u8, &str)> {
    let trimmed = strip_indent(line)?;
    let hashes = trimmed.chars().take_while(|&c| c == '#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let rest = &trimmed[hashes..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let mut title = rest.trim();
    let without_closing = title.trim_end_matches('#');
    if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        title = without_closing.trim_end();
    }
    Some((hashes as u8, title))
}

/// Up to three spaces of indentation are allowed before a heading or fence.
fn strip_indent(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    (indent <= 3).then(|| &line[indent..])
}

fn opening_fence(line: &str) -> Option<(char, usize)> {
    let trimmed = strip_indent(line)?;
    let fence_char = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.chars().take_while(|&c| c == fence_char).count();
    (len >= 3).then_some((fence_char, len))
}

fn is_closing_fence(line: &str, fence_char: char, fence_len: usize) -> bool {
    strip_indent(line).is_some_and(|t| {
        let t = t.trim_end();
        t.chars().count() >= fence_len && t.chars().all(|c| c == fence_char)
    })
}

/// Fills `facts`, `code` and `sources` from a finished section's text.
pub(super) fn extract_facts_code_sources(section: &mut Section) {
    let mut in_code: Option<(char, usize)> = None;
    let mut code = String::new();
    for line in section.text.lines() {
        if let Some((fence_char, fence_len)) = in_code {
            if is_closing_fence(line, fence_char, fence_len) {
                section.code.push(std::mem::take(&mut code));
                in_code = None;
            } else {
                code.push_str(line);
                code.push('\n');
            }
            continue;
        }
        if let Some(fence) = opening_fence(line) {
            in_code = Some(fence);
            continue;
        }
        if let Some(fact) = bullet_text(line) {
            let fact = strip_task_box(fact);
            if !fact.is_empty() {
                section.facts.push(fact.to_string());
            }
        }
        if let Some(source) = source_line(line) {
            section.sources.push(source.to_string());
        }
        for url in links(line) {
            if !section.sources.iter().any(|s| s.contains(url)) {
                section.sources.push(url.to_string());
            }
        }
    }
    if in_code.is_some() && !code.is_empty() {
        section.code.push(code);
    }
}

/// The text of a bullet item (`- x`, `* x`, `+ x`, `1. x`, `1) x`, `• x`, `・x`), or `None`.
pub(super) fn bullet_text(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    for marker in ["- ", "* ", "+ ", "• ", "•", "・"] {
        if let Some(rest) = trimmed.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        let rest = &trimmed[digits..];
        if let Some(rest) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(rest.trim());
        }
    }
    None
}

fn strip_task_box(text: &str) -> &str {
    for box_ in ["[ ] ", "[x] ", "[X] "] {
        if let Some(rest) = text.strip_prefix(box_) {
            return rest.trim();
        }
    }
    text
}

/// `出典: https://…` / `Source: …` → the value.
fn source_line(line: &str) -> Option<&str> {
    let trimmed = line.trim_start().trim_start_matches(['-', '*', ' ']);
    for label in ["出典", "Source", "Sources", "source", "参考"] {
        if let Some(rest) = trimmed.strip_prefix(label) {
            let rest = rest.trim_start();
            if let Some(value) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('：')) {
                let value = value.trim();
                return (!value.is_empty()).then_some(value);
            }
        }
    }
    None
}

/// URLs in a line: `[text](url)`, `<url>` and bare `http(s)://` runs.
fn links(line: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("http") {
        let candidate = &rest[start..];
        if !(candidate.starts_with("https://") || candidate.starts_with("http://")) {
            rest = &candidate[4..];
            continue;
        }
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '"' | '\'' | '`' | ']') || !c.is_ascii())
            .unwrap_or(candidate.len());
        let url = candidate[..end].trim_end_matches(['.', ',', ';', ':']);
        if url.len() > "https://".len() {
            urls.push(url);
        }
        rest = &candidate[end..];
    }
    urls
}

#[cfg(test)]
mod tests {
    use crate::notes::parse_note;

    const NOTE: &str = "# Kinesis\n\nintro line\n\n## データ保持\n\n- 既定は 24 時間\n  - 最大 365 日\n1. numbered\n\n出典: https://docs.aws.amazon.com/streams/x.html\n\n```bash\n# not a heading\naws kinesis describe-stream\n```\n\n## データ保持\n\nsee [docs](https://example.com/a) and <https://example.com/b>.\n\n### 空\n";

    #[test]
    fn headings_make_sections_with_paths_lines_and_unique_ids() {
        let (note, problems) = parse_note("aws/kinesis.md", NOTE);
        let ids: Vec<&str> = note.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "aws/kinesis.md#kinesis",
                "aws/kinesis.md#データ保持",
                "aws/kinesis.md#データ保持-1",
                "aws/kinesis.md#空"
            ]
        );
        let retention = &note.sections[1];
        assert_eq!(retention.line, 5);
        assert_eq!(retention.text_line, 7);
        assert_eq!(retention.heading_path_display(), "Kinesis > データ保持");
        assert_eq!(retention.facts, ["既定は 24 時間", "最大 365 日", "numbered"]);
        assert_eq!(retention.code, ["# not a heading\naws kinesis describe-stream\n"]);
        assert_eq!(retention.sources, ["https://docs.aws.amazon.com/streams/x.html"]);
        assert_eq!(
            note.sections[2].sources,
            ["https://example.com/a", "https://example.com/b"]
        );
        assert_eq!(note.sections[3].heading_path, ["Kinesis", "データ保持", "空"]);
        // Only the truly empty leaf section is reported.
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].line, 22);
    }

    #[test]
    fn a_domain_line_under_a_heading_sets_the_domains_of_its_section_and_subsections() {
        let text = "---\ndomain: [development]\n---\n# Lambda\nintro\n## 権限\n\n<!-- domain: security, troubleshooting -->\n- 実行ロール\n### リソースポリシー\ntext\n## 同時実行\n<!-- domains: [bogus] -->\ntext\n## 層\ntext <!-- domain: security -->\n";
        let (note, problems) = parse_note("a.md", text);
        let domains: Vec<(&str, Vec<&str>)> = note
            .sections
            .iter()
            .map(|s| (s.title.as_str(), s.domains.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            domains,
            [
                ("Lambda", vec!["development"]),
                ("権限", vec!["security", "troubleshooting"]),
                ("リソースポリシー", vec!["security", "troubleshooting"]),
                ("同時実行", vec!["bogus"]),
                // Not the first line under the heading: ordinary text, the file's domains.
                ("層", vec!["development"]),
            ]
        );
        let permissions = &note.sections[1];
        assert_eq!((permissions.text.as_str(), permissions.text_line), ("- 実行ロール", 9));
        assert_eq!(permissions.facts, ["実行ロール"]);
        assert_eq!(
            (
                note.sections[0].domains_from,
                permissions.domains_from,
                note.sections[2].domains_from
            ),
            (None, Some(8), Some(8))
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_parent_heading_with_only_subsections_is_not_empty() {
        let (_, problems) = parse_note("a.md", "# A\n## B\ntext\n");
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn text_before_the_first_heading_is_a_section_named_after_the_file() {
        let (note, _) = parse_note("dir/lambda.md", "Lambda notes\n\n# Next\nbody\n");
        assert_eq!(note.sections[0].title, "lambda");
        assert_eq!(note.sections[0].level, 0);
        assert_eq!(note.sections[0].line, 1);
    }

    #[test]
    fn unclosed_code_fence_is_reported_at_its_opening_line() {
        let (_, problems) = parse_note("a.md", "# A\ntext\n```\ncode\n");
        assert!(
            problems
                .iter()
                .any(|p| p.line == 3 && p.message.contains("never closed")),
            "{problems:?}"
        );
    }

    #[test]
    fn hashes_without_space_are_not_headings() {
        let (note, _) = parse_note("a.md", "# A\n#hashtag\n####### seven\n");
        assert_eq!(note.sections.len(), 1);
        assert!(note.sections[0].text.contains("#hashtag"));
    }

    #[test]
    fn front_matter_lines_are_counted_in_line_numbers() {
        let (note, _) = parse_note("a.md", "---\ntitle: x\n---\n# A\nbody\n");
        assert_eq!(note.sections[0].line, 4);
    }
}
