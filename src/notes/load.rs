//! Reads a notes folder from disk: every `.md` and `.txt` file below it (hidden entries and `README.md`
//! files skipped), in a stable order. A file that cannot be read, is binary, is not UTF-8 or is too large
//! becomes a `Problem` naming it; the other files are still read.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Note, Problem, parse_note};

/// Notes larger than this are refused: a note that big is almost surely a pasted dump, not a note.
pub const MAX_NOTE_BYTES: u64 = 1024 * 1024;

/// Every note under a folder, what was wrong with them, and a fingerprint of their bytes.
#[derive(Debug, Default)]
pub struct NoteSet {
    pub notes: Vec<Note>,
    pub problems: Vec<Problem>,
    /// Changes whenever a file is added, removed, renamed or edited: the index is rebuilt on a change.
    pub fingerprint: u64,
}

impl NoteSet {
    /// Parses notes given as `(path, text)` pairs; the in-memory twin of `load_dir`, used by tests.
    pub fn from_texts<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> NoteSet {
        let mut set = NoteSet {
            fingerprint: FNV_OFFSET,
            ..NoteSet::default()
        };
        for (path, text) in files {
            set.fingerprint = fnv1a(set.fingerprint, path.as_bytes());
            set.fingerprint = fnv1a(set.fingerprint, text.as_bytes());
            set.add(path, text);
        }
        set
    }

    fn add(&mut self, path: &str, text: &str) {
        let (note, problems) = parse_note(path, text);
        self.notes.push(note);
        self.problems.extend(problems);
    }
}

/// Reads every note under `root`. Fails only when `root` itself cannot be listed.
pub fn load_dir(root: &Path) -> std::io::Result<NoteSet> {
    let mut files = Vec::new();
    collect_files(root, root, &mut files)?;
    files.sort();
    let mut set = NoteSet {
        fingerprint: FNV_OFFSET,
        ..NoteSet::default()
    };
    for (relative, full) in files {
        set.fingerprint = fnv1a(set.fingerprint, relative.as_bytes());
        match read_note_text(&full) {
            Ok(text) => {
                set.fingerprint = fnv1a(set.fingerprint, text.as_bytes());
                set.add(&relative, &text);
            }
            Err((line, message)) => set.problems.push(Problem::error(&relative, line, message)),
        }
    }
    Ok(set)
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            collect_files(root, &path, out)?;
        } else if (name.ends_with(".md") || name.ends_with(".txt")) && !name.eq_ignore_ascii_case("README.md") {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((relative, path));
        }
    }
    Ok(())
}

/// The file's text, or the line and message of why it cannot be a note.
fn read_note_text(path: &Path) -> Result<String, (usize, String)> {
    let size = fs::metadata(path).map_err(|e| (1, format!("cannot read: {e}")))?.len();
    if size > MAX_NOTE_BYTES {
        return Err((
            1,
            format!("file is {size} bytes; notes are limited to {MAX_NOTE_BYTES} bytes (split it up)"),
        ));
    }
    let bytes = fs::read(path).map_err(|e| (1, format!("cannot read: {e}")))?;
    decode_note(&bytes)
}

/// Accepts UTF-8 text; refuses binary data and other encodings, naming the line of the first bad byte.
pub(crate) fn decode_note(bytes: &[u8]) -> Result<String, (usize, String)> {
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        let line = line_of(bytes, nul);
        return Err((line, "binary file (contains a NUL byte): not a text note".into()));
    }
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        (
            line_of(bytes, at),
            format!("not valid UTF-8 at byte {at} (save the file as UTF-8)"),
        )
    })
}

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a: stable across runs and Rust versions (unlike `DefaultHasher`), and plenty for change detection.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // A separator, so ("ab", "c") and ("a", "bc") differ.
    hash ^= 0xff;
    hash.wrapping_mul(0x0100_0000_01b3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_files_are_reported_and_good_ones_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::write(root.join("sub/good.md"), "# Good\nbody\n").unwrap();
        fs::write(root.join("binary.md"), b"# x\n\x00\x01").unwrap();
        fs::write(root.join("latin1.md"), b"# ok\nline two \xe9\n").unwrap();
        fs::write(root.join("empty.md"), b"").unwrap();
        fs::write(root.join("README.md"), "# not a note").unwrap();
        fs::write(root.join(".hidden.md"), "# hidden").unwrap();
        fs::write(root.join("image.png"), b"\x89PNG").unwrap();
        let set = load_dir(root).unwrap();
        let paths: Vec<&str> = set.notes.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(paths, ["empty.md", "sub/good.md"]);
        let problems: Vec<String> = set.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("binary.md:2: error: binary file"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("latin1.md:2: error: not valid UTF-8"),
            "{problems:?}"
        );
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("big.md"), "a".repeat(MAX_NOTE_BYTES as usize + 1)).unwrap();
        let set = load_dir(dir.path()).unwrap();
        assert!(set.notes.is_empty());
        assert!(set.problems[0].message.contains("limited to"));
    }

    #[test]
    fn fingerprint_changes_with_content_and_names() {
        let a = NoteSet::from_texts([("a.md", "# A\nx")]).fingerprint;
        assert_eq!(a, NoteSet::from_texts([("a.md", "# A\nx")]).fingerprint);
        assert_ne!(a, NoteSet::from_texts([("a.md", "# A\ny")]).fingerprint);
        assert_ne!(a, NoteSet::from_texts([("b.md", "# A\nx")]).fingerprint);
    }
}
