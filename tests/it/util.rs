//! Shared helpers: the shipped notes loaded and indexed once per test run, and the CLI binary.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tsumiage::index::NoteIndex;
use tsumiage::notes::{NoteSet, load_dir};
use tsumiage::synonyms::Synonyms;

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The notes that ship in `notes/`, with an in-memory index and the shipped synonyms.
pub struct Shipped {
    pub notes: NoteSet,
    pub index: NoteIndex,
    pub synonyms: Synonyms,
}

pub fn shipped() -> &'static Shipped {
    static SHIPPED: OnceLock<Shipped> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let notes = load_dir(&repo_root().join("notes")).expect("notes folder");
        let index = NoteIndex::in_memory(&notes).expect("index of the shipped notes");
        let synonyms = Synonyms::parse(&std::fs::read_to_string(repo_root().join("config/synonyms.txt")).unwrap())
            .expect("synonyms");
        Shipped { notes, index, synonyms }
    })
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tsumiage"))
}
