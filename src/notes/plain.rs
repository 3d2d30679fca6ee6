//! The plain-text reader, for study logs pasted from a blog or chat: a line that is followed by `•`
//! bullets is a heading and the bullets are its facts; everything else is body text.

use super::{Parsed, SectionBuilder, markdown::bullet_text};

pub(super) fn parse(path: &str, file_title: &str, body: &str, first_line: usize) -> Parsed {
    let lines: Vec<&str> = body.lines().collect();
    let mut builder = SectionBuilder::new(path);
    for (index, line) in lines.iter().enumerate() {
        let line_no = first_line + index + 1;
        if is_heading(&lines, index) {
            builder.heading(2, line.trim(), line_no);
        } else {
            builder.body_line(line_no, line, file_title);
        }
    }
    Parsed {
        sections: builder.finish(),
        problems: Vec::new(),
    }
}

/// A non-bullet line whose next non-blank line is a bullet.
fn is_heading(lines: &[&str], index: usize) -> bool {
    let line = lines[index];
    if line.trim().is_empty() || bullet_text(line).is_some() {
        return false;
    }
    lines[index + 1..]
        .iter()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|next| next.trim_start().starts_with(['•', '・']))
}

#[cfg(test)]
mod tests {
    use crate::notes::parse_note;

    #[test]
    fn seed_shaped_logs_become_sections() {
        let log = "学習ログ\n\nLambda関数の一時ファイルの保存場所\n\n  • ローカルディレクトリの/tmpを使用する\n\nKinesisとは\n\n  • フルマネージド\n    • KCLとは\n\ndocs.aws.amazon.com\n";
        let (note, problems) = parse_note("seed/log.txt", log);
        assert!(problems.is_empty(), "{problems:?}");
        let titles: Vec<&str> = note.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["log", "Lambda関数の一時ファイルの保存場所", "Kinesisとは"]);
        assert_eq!(note.sections[1].facts, ["ローカルディレクトリの/tmpを使用する"]);
        assert_eq!(note.sections[1].line, 3);
        assert_eq!(note.sections[2].facts, ["フルマネージド", "KCLとは"]);
        assert!(note.sections[2].text.contains("docs.aws.amazon.com"));
    }
}
