//! Study notes: the Markdown (and plain-text) files under `notes/`, read into sections with their heading
//! path, file and line, facts, code and sources. Parsing is pure (`parse_note` takes a path and text);
//! `load_dir` is the thin layer that walks a folder, reads the files and reports what it could not read.
//!
//! Core, at the bottom: imports nothing else of the crate's.

mod front_matter;
mod load;
mod markdown;
mod plain;
pub mod slug;

use std::fmt;

pub use front_matter::{FrontMatter, NoteKind};
pub use load::{MAX_NOTE_BYTES, NoteSet, load_dir};

/// One note file, parsed.
#[derive(Debug, Clone)]
pub struct Note {
    /// Path under the notes folder, `/`-separated (`aws-dva/kinesis.md`).
    pub path: String,
    pub front: FrontMatter,
    pub sections: Vec<Section>,
}

impl Note {
    /// The file's display title: front matter `title`, else its first heading, else its file name.
    pub fn title(&self) -> &str {
        self.front
            .title
            .as_deref()
            .or_else(|| self.sections.iter().find(|s| s.level > 0).map(|s| s.title.as_str()))
            .unwrap_or_else(|| file_stem(&self.path))
    }

    /// Tags of one of its sections: the file's service and free tags, and the section's own exam domains.
    pub fn section_tags(&self, section: &Section) -> Vec<String> {
        let mut tags: Vec<String> = self.front.service.iter().cloned().collect();
        tags.extend(section.domains.iter().cloned());
        tags.extend(self.front.tags.iter().cloned());
        tags
    }
}

/// A heading and the text under it, up to the next heading of any level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `PATH#SLUG`, stable as long as the file path and heading stay.
    pub id: String,
    pub path: String,
    /// 1-based line of the heading (of the first body line for text before any heading).
    pub line: usize,
    /// Heading level 1–6; 0 for text before the first heading.
    pub level: u8,
    pub title: String,
    /// Titles of the enclosing headings, outermost first, ending with this section's own title.
    pub heading_path: Vec<String>,
    /// The body as written, without leading and trailing blank lines.
    pub text: String,
    /// File line of the first line of `text`.
    pub text_line: usize,
    /// Bullet items, markers removed; nested bullets are facts too.
    pub facts: Vec<String>,
    /// Contents of fenced code blocks.
    pub code: Vec<String>,
    /// Link targets and `出典:` lines.
    pub sources: Vec<String>,
    /// Whether deeper headings follow directly under this one (so an empty body is not a mistake).
    pub has_subsections: bool,
    /// Exam domains of this section: those of a `<!-- domain: … -->` line right under its heading, else
    /// its nearest enclosing heading's, else the file's front matter `domain`.
    pub domains: Vec<String>,
    /// The line of the annotation `domains` come from (this heading's or an enclosing one's); `None` when
    /// they are the file's.
    pub domains_from: Option<usize>,
}

impl Section {
    /// `Kinesis > データ保持`.
    pub fn heading_path_display(&self) -> String {
        self.heading_path.join(" > ")
    }

    /// Body lines with their file line numbers.
    pub fn numbered_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.text
            .lines()
            .enumerate()
            .map(move |(i, line)| (self.text_line + i, line))
    }
}

/// How serious a finding in the notes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// Something wrong with a note, at `path:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub fn error(path: &str, line: usize, message: impl Into<String>) -> Self {
        Problem {
            path: path.to_string(),
            line,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(path: &str, line: usize, message: impl Into<String>) -> Self {
        Problem {
            path: path.to_string(),
            line,
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}:{}: {severity}: {}", self.path, self.line, self.message)
    }
}

/// Parses one note. `path` is its path under the notes folder; `.txt` files are read as plain-text
/// study logs, everything else as Markdown. Never fails: what it cannot make sense of is a `Problem`.
pub fn parse_note(path: &str, text: &str) -> (Note, Vec<Problem>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let split = front_matter::split(text);
    let mut problems: Vec<Problem> = split
        .errors
        .iter()
        .map(|e| Problem::error(path, e.line, e.message.clone()))
        .collect();
    let mut note = Note {
        path: path.to_string(),
        front: split.front,
        sections: Vec::new(),
    };
    let file_title = note.front.title.clone().unwrap_or_else(|| file_stem(path).to_string());
    let parsed = if path.ends_with(".txt") {
        plain::parse(path, &file_title, split.body, split.body_first_line)
    } else {
        markdown::parse(path, &file_title, split.body, split.body_first_line)
    };
    note.sections = parsed.sections;
    for section in note.sections.iter_mut().filter(|s| s.domains_from.is_none()) {
        section.domains = note.front.domains.clone();
    }
    problems.extend(parsed.problems);
    for section in &note.sections {
        if section.text.trim().is_empty() && !section.has_subsections && section.level > 0 {
            problems.push(Problem::warning(
                path,
                section.line,
                format!("section `{}` is empty", section.title),
            ));
        }
    }
    (note, problems)
}

/// `<!-- domain: security, deployment -->` → the domains; `None` for any other line.
fn domain_annotation(line: &str) -> Option<Vec<String>> {
    let inner = line.trim().strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    let value = inner
        .strip_prefix("domains:")
        .or_else(|| inner.strip_prefix("domain:"))?;
    Some(front_matter::list(value.trim()))
}

/// What a format parser hands back.
struct Parsed {
    sections: Vec<Section>,
    problems: Vec<Problem>,
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

/// Builds sections from headings and their body lines; shared by the Markdown and plain-text readers.
struct SectionBuilder<'a> {
    path: &'a str,
    slugs: slug::SlugDeduper,
    /// The headings enclosing the current position: level, title, and domains if annotated.
    stack: Vec<Heading>,
    sections: Vec<Section>,
    current: Option<Section>,
    body: Vec<(usize, String)>,
}

struct Heading {
    level: u8,
    title: String,
    /// The line of its domain annotation, and the domains.
    domains: Option<(usize, Vec<String>)>,
}

impl<'a> SectionBuilder<'a> {
    fn new(path: &'a str) -> Self {
        SectionBuilder {
            path,
            slugs: slug::SlugDeduper::default(),
            stack: Vec::new(),
            sections: Vec::new(),
            current: None,
            body: Vec::new(),
        }
    }

    fn heading(&mut self, level: u8, title: &str, line: usize) {
        if let Some(parent) = self.current.as_mut()
            && level > parent.level
        {
            parent.has_subsections = true;
        }
        self.finish_current();
        while self.stack.last().is_some_and(|h| h.level >= level) {
            self.stack.pop();
        }
        self.stack.push(Heading {
            level,
            title: title.to_string(),
            domains: None,
        });
        self.current = Some(self.new_section(level, title, line));
    }

    /// A body line; text before any heading opens a level-0 section named after the file.
    fn body_line(&mut self, line: usize, text: &str, file_title: &str) {
        if self.current.is_none() {
            if text.trim().is_empty() {
                return;
            }
            self.current = Some(self.new_section(0, file_title, line));
        }
        self.body.push((line, text.to_string()));
    }

    fn new_section(&mut self, level: u8, title: &str, line: usize) -> Section {
        let slug = self.slugs.unique(title);
        let mut heading_path: Vec<String> = self.stack.iter().map(|h| h.title.clone()).collect();
        if level == 0 {
            heading_path = vec![title.to_string()];
        }
        // Until its own annotation is read (in `finish_current`), a section has its parent's domains.
        let inherited = self
            .stack
            .iter()
            .rev()
            .skip(usize::from(level > 0))
            .find_map(|h| h.domains.clone());
        Section {
            id: format!("{}#{}", self.path, slug),
            path: self.path.to_string(),
            line,
            level,
            title: title.to_string(),
            heading_path,
            text: String::new(),
            text_line: line + 1,
            facts: Vec::new(),
            code: Vec::new(),
            sources: Vec::new(),
            has_subsections: false,
            domains_from: inherited.as_ref().map(|(line, _)| *line),
            domains: inherited.map(|(_, domains)| domains).unwrap_or_default(),
        }
    }

    fn finish_current(&mut self) {
        let Some(mut section) = self.current.take() else {
            return;
        };
        let mut body = std::mem::take(&mut self.body);
        let first = body.iter().position(|(_, l)| !l.trim().is_empty());
        // A domain annotation counts only as the first line under the heading; it is not note text.
        if let Some(first) = first
            && let Some(domains) = domain_annotation(&body[first].1)
        {
            let line = body[first].0;
            if section.level > 0
                && let Some(heading) = self.stack.last_mut()
            {
                heading.domains = Some((line, domains.clone()));
            }
            section.domains = domains;
            section.domains_from = Some(line);
            body.remove(first);
        }
        let first = body.iter().position(|(_, l)| !l.trim().is_empty());
        let last = body.iter().rposition(|(_, l)| !l.trim().is_empty());
        if let (Some(first), Some(last)) = (first, last) {
            section.text_line = body[first].0;
            section.text = body[first..=last]
                .iter()
                .map(|(_, l)| l.as_str())
                .collect::<Vec<_>>()
                .join("\n");
        }
        markdown::extract_facts_code_sources(&mut section);
        self.sections.push(section);
    }

    fn finish(mut self) -> Vec<Section> {
        self.finish_current();
        self.sections
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_title_prefers_front_matter_then_heading_then_file_name() {
        let (note, _) = parse_note("a/kinesis.md", "---\ntitle: T\n---\n# H\ntext\n");
        assert_eq!(note.title(), "T");
        let (note, _) = parse_note("a/kinesis.md", "# H\ntext\n");
        assert_eq!(note.title(), "H");
        let (note, _) = parse_note("a/kinesis.md", "just text\n");
        assert_eq!(note.title(), "kinesis");
    }

    #[test]
    fn problems_display_as_file_line() {
        let problem = Problem::error("a.md", 3, "bad");
        assert_eq!(problem.to_string(), "a.md:3: error: bad");
    }
}
