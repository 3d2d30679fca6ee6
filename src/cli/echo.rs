//! What an error may echo of the user's input: at most its first line, cut to about 80 characters. A
//! 100 KB paste named in a parse error would otherwise fill the terminal, once per mention.

use std::borrow::Cow;

/// The most characters of one argument an error shows.
pub const ECHO_LIMIT: usize = 80;

/// `input` as an error may show it: its first line, at most `ECHO_LIMIT` characters, `…` when cut.
pub fn short(input: &str) -> Cow<'_, str> {
    let first_line = input.lines().next().unwrap_or_default();
    let cut = first_line.len() < input.len() || first_line.chars().count() > ECHO_LIMIT;
    if !cut {
        return Cow::Borrowed(input);
    }
    let kept: String = first_line.chars().take(ECHO_LIMIT).collect();
    Cow::Owned(format!("{kept}…"))
}

/// `message` with every long or multi-line argument (and the value of a long `--flag=value`) replaced by
/// its short form wherever the message repeats it.
pub fn without_long_echoes(message: &str, args: impl IntoIterator<Item = String>) -> String {
    let mut long: Vec<String> = Vec::new();
    for arg in args {
        if let Some((_, value)) = arg.strip_prefix("--").and_then(|a| a.split_once('='))
            && matches!(short(value), Cow::Owned(_))
        {
            long.push(value.to_string());
        }
        if matches!(short(&arg), Cow::Owned(_)) {
            long.push(arg);
        }
    }
    // Longest first: a shorter argument may be part of a longer one.
    long.sort_by_key(|arg| std::cmp::Reverse(arg.len()));
    let mut out = message.to_string();
    for arg in &long {
        if out.contains(arg.as_str()) {
            out = out.replace(arg.as_str(), &short(arg));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_inputs_are_echoed_as_they_are() {
        assert_eq!(short("- Lambda のタイムアウト"), "- Lambda のタイムアウト");
    }

    #[test]
    fn long_or_multi_line_inputs_are_cut_to_their_first_line() {
        let paste = format!("---\n{}", "あ".repeat(50_000));
        assert_eq!(short(&paste), "---…");
        let line = "x".repeat(200);
        assert_eq!(short(&line).chars().count(), ECHO_LIMIT + 1);
        let message = format!("error: unexpected argument '{paste}' found\n\n  tip: use '-- {paste}'\n");
        let shown = without_long_echoes(&message, [paste.clone()]);
        assert_eq!(
            shown,
            "error: unexpected argument '---…' found\n\n  tip: use '-- ---…'\n"
        );
        let flag = format!("--top={line}");
        let shown = without_long_echoes(&format!("invalid value '{line}' for '--top <N>'"), [flag]);
        assert!(shown.len() < 120, "{shown}");
    }
}
