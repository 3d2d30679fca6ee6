//! The notes as the quizzes, the daily question and the bot use them: the notes, their index, the
//! synonyms (the group's list, the glossary and the pairs the notes write) and every quiz question (the
//! authored bank, then those generated from the notes). `NotesSource::load` reads all of it from disk the
//! one way both the terminal and the bot do; tests build a `Library` from notes in memory.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::QuizQuestion;
use super::generate::generate;
use crate::notes::{NoteSet, load_dir};
use crate::search::index::{BuildProgress, Freshness, IndexError, NoteIndex};
use crate::search::synonyms::{SynonymFileError, Synonyms, load_lists};
use crate::search::{SectionSearcher, search_synonyms};

/// The notes with their index, synonyms and questions. Swapped whole when the notes change.
pub struct Library {
    pub notes: NoteSet,
    pub index: NoteIndex,
    /// The user's synonyms merged with those harvested from the notes, once (`search_synonyms`).
    pub synonyms: Synonyms,
    bank: Vec<QuizQuestion>,
    /// The bank, then the questions generated from the notes: generated on first use, because it costs a
    /// search per section (about a second for the shipped notes in a release build) that a terminal quiz
    /// the bank fills never needs. The bot asks for them once when it loads the notes.
    every: OnceLock<Vec<QuizQuestion>>,
}

impl Library {
    /// `synonyms` is the user's list; the pairs the notes write are added to it here.
    pub fn new(notes: NoteSet, index: NoteIndex, synonyms: Synonyms) -> Library {
        let bank: Vec<QuizQuestion> = crate::check::questions(&notes)
            .iter()
            .map(|q| QuizQuestion::from_bank(q, &notes))
            .collect();
        let synonyms = search_synonyms(&index, &synonyms);
        Library {
            notes,
            index,
            synonyms,
            bank,
            every: OnceLock::new(),
        }
    }

    /// The authored questions.
    pub fn bank(&self) -> &[QuizQuestion] {
        &self.bank
    }

    /// Every question: the bank's, then those generated from the notes (generated on the first call).
    pub fn questions(&self) -> &[QuizQuestion] {
        self.every.get_or_init(|| {
            let mut every = self.bank.clone();
            every.extend(generate(&self.notes, &self.searcher(0)));
            every
        })
    }

    /// The questions generated from the notes.
    pub fn generated(&self) -> &[QuizQuestion] {
        &self.questions()[self.bank.len()..]
    }

    pub fn searcher(&self, snippet_lines: usize) -> SectionSearcher<'_> {
        let mut searcher = SectionSearcher::prepared(&self.index, &self.synonyms);
        searcher.snippet_lines = snippet_lines;
        searcher
    }

    /// A question by id, bank or generated (generating only for a generated question's id).
    pub fn question(&self, id: &str) -> Option<&QuizQuestion> {
        let find = |questions: &'_ [QuizQuestion]| questions.iter().position(|q| q.id == id);
        match find(&self.bank) {
            Some(found) => Some(&self.bank[found]),
            None if id.starts_with("gen:") => find(self.questions()).map(|found| &self.questions()[found]),
            None => None,
        }
    }

    /// Topics a quiz can be about: services and tags, most common first.
    pub fn topics(&self) -> Vec<String> {
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for question in self.questions() {
            for topic in question.service.iter().chain(&question.tags) {
                *counts.entry(topic.clone()).or_default() += 1;
            }
        }
        let mut topics: Vec<(String, usize)> = counts.into_iter().collect();
        topics.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        topics.into_iter().map(|(t, _)| t).collect()
    }
}

/// Where a library is read from: the configured paths.
#[derive(Debug, Clone)]
pub struct NotesSource {
    pub notes: PathBuf,
    pub index: PathBuf,
    pub synonyms: PathBuf,
    /// The English ↔ Japanese glossary, merged with `synonyms`.
    pub glossary: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("reading the notes folder {path}: {source}")]
    Notes { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Synonyms(#[from] SynonymFileError),
    #[error("opening the index in {path}: {source}")]
    Index { path: PathBuf, source: IndexError },
}

impl NotesSource {
    /// Reads the notes, the synonyms and the glossary, opens the index (building it first when missing
    /// or stale) and generates the questions: `read_notes` then `library`. Blocking.
    pub fn load(&self, progress: &mut dyn FnMut(BuildProgress)) -> Result<(Library, Freshness), LibraryError> {
        self.library(self.read_notes()?, progress)
    }

    /// The library of notes already read: the synonyms and the glossary (a missing file is an empty list;
    /// an unreadable or malformed one is an error), the index, built first when it is missing or stale
    /// (reporting through `progress`), and the questions. Returns why the index was built (`Fresh`: it was
    /// not).
    pub fn library(
        &self,
        notes: NoteSet,
        progress: &mut dyn FnMut(BuildProgress),
    ) -> Result<(Library, Freshness), LibraryError> {
        let synonyms = load_lists(&self.synonyms, Some(&self.glossary))?;
        let (index, freshness) =
            NoteIndex::open_or_build(&self.index, &notes, progress).map_err(|source| LibraryError::Index {
                path: self.index.clone(),
                source,
            })?;
        Ok((Library::new(notes, index, synonyms), freshness))
    }

    /// The notes alone, for what needs no index or questions (`check`, `ask`).
    pub fn read_notes(&self) -> Result<NoteSet, LibraryError> {
        load_dir(&self.notes).map_err(|source| LibraryError::Notes {
            path: self.notes.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_library_is_loaded_from_disk_with_bank_and_generated_questions_and_a_missing_folder_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let notes = dir.path().join("notes");
        std::fs::create_dir_all(notes.join("questions")).unwrap();
        std::fs::write(
            notes.join("k.md"),
            "---\nservice: Kinesis\n---\n# Kinesis\n\n## 保持期間\n\n- 既定は 24 時間、最大 365 日。\n",
        )
        .unwrap();
        std::fs::write(
            notes.join("questions/k.md"),
            "---\nkind: questions\nservice: Kinesis\n---\n# 問題\n\n## kin-001\n\n保持期間の既定は?\n\n- [ ] 1 時間\n- [x] 24 時間\n\n参照: k.md#保持期間\n",
        )
        .unwrap();
        let source = NotesSource {
            notes: notes.clone(),
            index: dir.path().join("index"),
            synonyms: dir.path().join("missing-synonyms.txt"),
            glossary: dir.path().join("missing-glossary.txt"),
        };
        let (library, freshness) = source.load(&mut |_| {}).unwrap();
        assert_eq!(freshness, Freshness::Missing);
        assert!(library.question("kin-001").is_some());
        assert!(!library.generated().is_empty() && library.generated().iter().all(|q| q.generated));
        let (_, again) = source.load(&mut |_| {}).unwrap();
        assert_eq!(again, Freshness::Fresh);

        let gone = NotesSource {
            notes: dir.path().join("nowhere"),
            ..source
        };
        let error = gone.load(&mut |_| {}).err().unwrap().to_string();
        assert!(error.contains("nowhere"), "{error}");
    }
}
