//! Shared helpers: the shipped notes loaded and indexed once per test run, and the CLI binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use tsumiage::notes::{NoteSet, load_dir};
use tsumiage::search::index::NoteIndex;
use tsumiage::search::synonyms::{Synonyms, load_lists};

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The notes that ship in `notes/`, with an in-memory index and the shipped synonyms.
pub struct Shipped {
    pub notes: NoteSet,
    pub index: NoteIndex,
    /// `config/synonyms.txt` and the English ↔ Japanese glossary, as the CLI and the bot load them.
    pub synonyms: Synonyms,
    /// `config/synonyms.txt` alone: what the glossary is measured against.
    pub synonyms_without_glossary: Synonyms,
}

pub fn shipped() -> &'static Shipped {
    static SHIPPED: OnceLock<Shipped> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let notes = load_dir(&repo_root().join("notes")).expect("notes folder");
        let index = NoteIndex::in_memory(&notes).expect("index of the shipped notes");
        let synonyms_path = repo_root().join("config/synonyms.txt");
        let glossary_path = repo_root().join("config/glossary-en-ja.txt");
        let synonyms = load_lists(&synonyms_path, Some(&glossary_path)).expect("synonyms and glossary");
        let synonyms_without_glossary = load_lists(&synonyms_path, None).expect("synonyms");
        Shipped {
            notes,
            index,
            synonyms,
            synonyms_without_glossary,
        }
    })
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tsumiage"))
}

/// A temporary folder with notes, in which the CLI runs as a user would run it (English messages, none of
/// the developer's `TSUMIAGE_*` settings).
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    /// `files` are `(path under notes/, text)`.
    pub fn with_notes(files: &[(&str, &str)]) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = dir.path().join("notes").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Workspace { dir }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("TSUMIAGE_LOCALE", "en")
            .env_remove("TSUMIAGE_NOTES")
            .env_remove("TSUMIAGE_INDEX")
            .env_remove("TSUMIAGE_CONFIG")
            .env_remove("TSUMIAGE_STORE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs the CLI with `stdin` as its standard input and waits for it.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self.command(args).spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }
}
