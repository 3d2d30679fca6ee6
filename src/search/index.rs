//! The search index of note sections, kept on disk in generations: `ROOT/gen-…/` holds one complete
//! tantivy index with its metadata, and `ROOT/CURRENT` names the generation in use. A rebuild writes a new
//! generation beside the old one and then replaces `CURRENT` atomically (write + rename), so a reader never
//! sees half an index and a crash mid-build leaves the old one in use. An index whose notes fingerprint
//! or schema version differs from the notes at hand is stale and is rebuilt.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::schema::{Field, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, doc};

use crate::notes::{NoteKind, NoteSet, Section};
use crate::search::analysis::{BigramTokenizer, Script, WordPartTokenizer, words};
use crate::search::synonyms::Synonyms;

/// Bump when the schema, the analysers or what is indexed changes: older indexes are then rebuilt.
pub const SCHEMA_VERSION: u32 = 3;

const BIGRAM: &str = "tsumiage_bigram";
const WORD_PARTS: &str = "tsumiage_word_parts";
const CURRENT: &str = "CURRENT";
const META: &str = "tsumiage-index.json";
const VOCABULARY: &str = "vocabulary.tsv";
const HARVESTED: &str = "harvested-synonyms.txt";

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("index I/O at {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("index metadata at {path} is unreadable: {message}")]
    Meta { path: PathBuf, message: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What is recorded beside each generation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct IndexMeta {
    pub schema_version: u32,
    /// The notes fingerprint, as 16 hex digits.
    pub fingerprint: String,
    pub sections: usize,
}

/// Whether an on-disk index can serve the notes at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    Missing,
    /// Notes were added, removed or edited since it was built.
    Stale,
    /// Built by an older tsumiage.
    OldSchema,
}

/// Progress of a build, for the caller to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildProgress {
    pub indexed: usize,
    pub total: usize,
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub path: Field,
    pub line: Field,
    pub title: Field,
    pub heading: Field,
    pub body: Field,
    pub parts: Field,
    pub tags: Field,
    pub text: Field,
    pub sources: Field,
}

/// How often a content word occurs in the notes: the source of "did you mean" suggestions.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub counts: HashMap<String, u32>,
}

/// An open index of note sections.
pub struct NoteIndex {
    pub index: Index,
    pub reader: IndexReader,
    pub fields: Fields,
    pub meta: IndexMeta,
    pub vocabulary: Vocabulary,
    /// Synonym pairs found in the notes (`デッドレターキュー (DLQ)`).
    pub harvested: Synonyms,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    // Only the body keeps positions: `answer` counts the sections that hold a word as a phrase of its
    // bigrams; ranking reads term frequencies alone (`scoring`).
    let text_with = |tokenizer: &str, record: IndexRecordOption, stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored { options.set_stored() } else { options }
    };
    let frequencies = IndexRecordOption::WithFreqs;
    let fields = Fields {
        id: builder.add_text_field("id", STORED),
        path: builder.add_text_field("path", STORED),
        line: builder.add_u64_field("line", STORED),
        title: builder.add_text_field("title", STORED),
        heading: builder.add_text_field("heading", text_with(BIGRAM, frequencies, true)),
        body: builder.add_text_field(
            "body",
            text_with(BIGRAM, IndexRecordOption::WithFreqsAndPositions, false),
        ),
        parts: builder.add_text_field("parts", text_with(WORD_PARTS, frequencies, false)),
        tags: builder.add_text_field("tags", text_with(BIGRAM, frequencies, false)),
        text: builder.add_text_field("text", STORED),
        sources: builder.add_text_field("sources", STORED),
    };
    (builder.build(), fields)
}

fn register_tokenizers(index: &Index) {
    index.tokenizers().register(BIGRAM, TextAnalyzer::from(BigramTokenizer));
    index.tokenizers().register(
        WORD_PARTS,
        TextAnalyzer::builder(WordPartTokenizer)
            .filter(Stemmer::new(Language::English))
            .build(),
    );
}

/// The sections that are search results: those of study notes (not question banks) that have text.
pub fn searchable_sections(set: &NoteSet) -> impl Iterator<Item = (&crate::notes::Note, &Section)> {
    set.notes
        .iter()
        .filter(|n| n.front.kind == NoteKind::Notes)
        .flat_map(|n| n.sections.iter().map(move |s| (n, s)))
        .filter(|(_, s)| !s.text.trim().is_empty())
}

/// The texts of a section's four indexed fields, as the index is given them.
pub struct IndexedTexts {
    pub heading: String,
    pub body: String,
    /// Heading and body again, for their camelCase parts.
    pub parts: String,
    pub tags: String,
}

impl IndexedTexts {
    pub fn of(note: &crate::notes::Note, section: &Section) -> IndexedTexts {
        let body = indexable_text(&section.text);
        let heading = section.heading_path_display();
        let mut tags = note.section_tags(section);
        tags.push(note.title().to_string());
        IndexedTexts {
            parts: format!("{heading}\n{body}"),
            heading,
            body,
            tags: tags.join(" "),
        }
    }
}

/// The body as indexed: URLs removed (their words would match every query about AWS).
pub fn indexable_text(text: &str) -> String {
    text.split_whitespace()
        .filter(|w| !w.contains("://"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl NoteIndex {
    /// Opens the index under `root` if it is fresh for `set`, else builds a new generation.
    /// Returns the index and whether it was (re)built, and why.
    pub fn open_or_build(
        root: &Path,
        set: &NoteSet,
        progress: &mut dyn FnMut(BuildProgress),
    ) -> Result<(NoteIndex, Freshness), IndexError> {
        match Self::freshness(root, set) {
            Freshness::Fresh => match Self::open(root) {
                Ok(index) => Ok((index, Freshness::Fresh)),
                // Unreadable although its metadata matched: rebuild rather than fail.
                Err(_) => Ok((Self::build(root, set, progress)?, Freshness::Stale)),
            },
            other => Ok((Self::build(root, set, progress)?, other)),
        }
    }

    /// Whether this index was built from exactly these notes.
    pub fn serves(&self, set: &NoteSet) -> bool {
        self.meta.fingerprint == fingerprint_hex(set.fingerprint)
    }

    /// Compares the current generation's metadata with the notes.
    pub fn freshness(root: &Path, set: &NoteSet) -> Freshness {
        let Some(meta) = current_generation(root).and_then(|dir| read_meta(&dir).ok()) else {
            return Freshness::Missing;
        };
        if meta.schema_version != SCHEMA_VERSION {
            Freshness::OldSchema
        } else if meta.fingerprint != fingerprint_hex(set.fingerprint) {
            Freshness::Stale
        } else {
            Freshness::Fresh
        }
    }

    /// Opens the current generation.
    pub fn open(root: &Path) -> Result<NoteIndex, IndexError> {
        let dir = current_generation(root).ok_or_else(|| IndexError::Meta {
            path: root.join(CURRENT),
            message: "no index has been built".into(),
        })?;
        let meta = read_meta(&dir)?;
        let index = Index::open_in_dir(&dir)?;
        let fields = fields_of(&index.schema())?;
        register_tokenizers(&index);
        let vocabulary = read_vocabulary(&dir.join(VOCABULARY));
        let harvested = fs::read_to_string(dir.join(HARVESTED))
            .ok()
            .and_then(|t| Synonyms::parse(&t).ok())
            .unwrap_or_default();
        NoteIndex::assemble(index, fields, meta, vocabulary, harvested)
    }

    /// Builds a new generation under `root` and makes it current.
    pub fn build(root: &Path, set: &NoteSet, progress: &mut dyn FnMut(BuildProgress)) -> Result<NoteIndex, IndexError> {
        fs::create_dir_all(root).map_err(io_error(root))?;
        let name = format!("gen-{}-v{SCHEMA_VERSION}", fingerprint_hex(set.fingerprint));
        let final_dir = root.join(&name);
        let complete = read_meta(&final_dir).is_ok_and(|meta| {
            meta.schema_version == SCHEMA_VERSION && meta.fingerprint == fingerprint_hex(set.fingerprint)
        });
        if !complete {
            let staging = root.join(format!(".building-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&staging);
            fs::create_dir_all(&staging).map_err(io_error(&staging))?;
            let directory = MmapDirectory::open(&staging).map_err(|e| IndexError::Tantivy(e.into()))?;
            let (schema, fields) = schema();
            let index = Index::create(directory, schema, tantivy::IndexSettings::default())?;
            register_tokenizers(&index);
            let (meta, side) = fill(&index, fields, set, progress)?;
            write_sidecars(&staging, &side, &meta)?;
            drop(index);
            // A same-named generation that is not complete (tampered with, or from a crashed rename) goes.
            let _ = fs::remove_dir_all(&final_dir);
            if let Err(error) = fs::rename(&staging, &final_dir) {
                // Another process built the same generation meanwhile: use theirs.
                let _ = fs::remove_dir_all(&staging);
                if !final_dir.join(META).is_file() {
                    return Err(IndexError::Io {
                        path: final_dir,
                        source: error,
                    });
                }
            }
        }
        set_current(root, &name)?;
        remove_other_generations(root, &name);
        Self::open(root)
    }

    /// An index with its reader (reloaded by hand: a generation never changes once built).
    fn assemble(
        index: Index,
        fields: Fields,
        meta: IndexMeta,
        vocabulary: Vocabulary,
        harvested: Synonyms,
    ) -> Result<NoteIndex, IndexError> {
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(NoteIndex {
            index,
            reader,
            fields,
            meta,
            vocabulary,
            harvested,
        })
    }

    /// An index held in memory, for tests and benchmarks.
    pub fn in_memory(set: &NoteSet) -> Result<NoteIndex, IndexError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        register_tokenizers(&index);
        let (meta, side) = fill(&index, fields, set, &mut |_| {})?;
        NoteIndex::assemble(index, fields, meta, side.vocabulary, side.harvested)
    }

    pub fn searcher(&self) -> tantivy::Searcher {
        self.reader.searcher()
    }

    /// Reads a stored text field of a document.
    pub fn stored_text(doc: &TantivyDocument, field: Field) -> String {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    }
}

/// What is kept beside the tantivy index: the notes' vocabulary and the synonym pairs they write.
struct SideData {
    vocabulary: Vocabulary,
    harvested: Synonyms,
}

/// Indexes the searchable sections of `set`; the side data is computed meanwhile on another thread, as
/// tantivy's own indexing thread does the heavy part.
fn fill(
    index: &Index,
    fields: Fields,
    set: &NoteSet,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<(IndexMeta, SideData), IndexError> {
    std::thread::scope(|scope| {
        let side = scope.spawn(|| SideData {
            vocabulary: vocabulary_of(set),
            harvested: harvest(set),
        });
        let indexed = add_sections(index, fields, set, progress)?;
        let side = side.join().expect("computing the vocabulary does not panic");
        let meta = IndexMeta {
            schema_version: SCHEMA_VERSION,
            fingerprint: fingerprint_hex(set.fingerprint),
            sections: indexed,
        };
        Ok((meta, side))
    })
}

fn add_sections(
    index: &Index,
    fields: Fields,
    set: &NoteSet,
    progress: &mut dyn FnMut(BuildProgress),
) -> Result<usize, IndexError> {
    let mut writer: IndexWriter = index.writer_with_num_threads(1, 64 * 1024 * 1024)?;
    let total = searchable_sections(set).count();
    let mut indexed = 0;
    for (note, section) in searchable_sections(set) {
        let texts = IndexedTexts::of(note, section);
        writer.add_document(doc!(
            fields.id => section.id.as_str(),
            fields.path => section.path.as_str(),
            fields.line => section.line as u64,
            fields.title => section.title.as_str(),
            fields.heading => texts.heading,
            fields.body => texts.body,
            fields.parts => texts.parts,
            fields.tags => texts.tags,
            fields.text => section.text.as_str(),
            fields.sources => section.sources.join("\n"),
        ))?;
        indexed += 1;
        if indexed % 1000 == 0 || indexed == total {
            progress(BuildProgress { indexed, total });
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(indexed)
}

fn write_sidecars(dir: &Path, side: &SideData, meta: &IndexMeta) -> Result<(), IndexError> {
    let mut entries: Vec<_> = side.vocabulary.counts.iter().collect();
    entries.sort();
    let vocabulary_text: String = entries
        .iter()
        .map(|(word, count)| format!("{word}\t{count}\n"))
        .collect();
    write_synced(&dir.join(VOCABULARY), vocabulary_text.as_bytes())?;
    let harvested: String = side.harvested.groups().iter().map(|g| g.join(", ") + "\n").collect();
    write_synced(&dir.join(HARVESTED), harvested.as_bytes())?;
    // The metadata goes last: its presence marks a complete generation.
    let meta_json = serde_json::to_vec_pretty(meta).expect("metadata serialises");
    write_synced(&dir.join(META), &meta_json)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), IndexError> {
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

fn vocabulary_of(set: &NoteSet) -> Vocabulary {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for (_, section) in searchable_sections(set) {
        for text in [section.heading_path_display(), indexable_text(&section.text)] {
            for word in words(&text) {
                let long_enough = match word.script {
                    Script::Word => word.text.chars().count() >= 3 && !word.text.chars().all(|c| c.is_ascii_digit()),
                    Script::Kanji | Script::Katakana => word.text.chars().count() >= 2,
                    _ => false,
                };
                if long_enough {
                    *counts.entry(word.text).or_default() += 1;
                }
            }
        }
    }
    Vocabulary { counts }
}

fn harvest(set: &NoteSet) -> Synonyms {
    Synonyms::harvest(searchable_sections(set).flat_map(|(_, s)| [s.title.as_str(), s.text.as_str()]))
}

fn read_vocabulary(path: &Path) -> Vocabulary {
    let counts = fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (word, count) = line.split_once('\t')?;
            Some((word.to_string(), count.parse().ok()?))
        })
        .collect();
    Vocabulary { counts }
}

fn fields_of(schema: &Schema) -> Result<Fields, IndexError> {
    let field = |name: &str| schema.get_field(name).map_err(IndexError::from);
    Ok(Fields {
        id: field("id")?,
        path: field("path")?,
        line: field("line")?,
        title: field("title")?,
        heading: field("heading")?,
        body: field("body")?,
        parts: field("parts")?,
        tags: field("tags")?,
        text: field("text")?,
        sources: field("sources")?,
    })
}

fn fingerprint_hex(fingerprint: u64) -> String {
    format!("{fingerprint:016x}")
}

fn current_generation(root: &Path) -> Option<PathBuf> {
    let name = fs::read_to_string(root.join(CURRENT)).ok()?;
    let name = name.trim();
    (!name.is_empty() && !name.contains(['/', '\\']) && name != "..").then(|| root.join(name))
}

fn read_meta(dir: &Path) -> Result<IndexMeta, IndexError> {
    let path = dir.join(META);
    let bytes = fs::read(&path).map_err(io_error(&path))?;
    serde_json::from_slice(&bytes).map_err(|e| IndexError::Meta {
        path,
        message: e.to_string(),
    })
}

/// Points `CURRENT` at `name`: written to a temporary file and renamed, which is atomic.
fn set_current(root: &Path, name: &str) -> Result<(), IndexError> {
    let temporary = root.join(format!(".{CURRENT}.{}", std::process::id()));
    write_synced(&temporary, name.as_bytes())?;
    let current = root.join(CURRENT);
    fs::rename(&temporary, &current).map_err(io_error(&current))?;
    if let Ok(dir) = fs::File::open(root) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Removes older generations and abandoned builds. Best effort: a reader that still has an old
/// generation open keeps its (already open) files.
fn remove_other_generations(root: &Path, keep: &str) {
    let Ok(entries) = fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let is_old_generation = name.starts_with("gen-") && name != keep;
        let is_abandoned_build =
            name.starts_with(".building-") && !name.starts_with(&format!(".building-{}-", std::process::id()));
        if is_old_generation || (is_abandoned_build && older_than_an_hour(&entry.path())) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn older_than_an_hour(path: &Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_some_and(|age| age.as_secs() > 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(text: &str) -> NoteSet {
        NoteSet::from_texts([("k.md", text)])
    }

    #[test]
    fn builds_then_reuses_then_rebuilds_when_notes_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("index");
        let first = notes("# Kinesis\n- 保持期間は 24 時間\n");
        let mut progress = Vec::new();
        let (index, why) = NoteIndex::open_or_build(&root, &first, &mut |p| progress.push(p)).unwrap();
        assert_eq!(why, Freshness::Missing);
        assert_eq!(index.meta.sections, 1);
        assert_eq!(progress.last(), Some(&BuildProgress { indexed: 1, total: 1 }));
        drop(index);

        let (_, why) = NoteIndex::open_or_build(&root, &first, &mut |_| {}).unwrap();
        assert_eq!(why, Freshness::Fresh);

        let second = notes("# Kinesis\n- 保持期間は 24 時間\n## Shards\n- 1 MB/s\n");
        assert_eq!(NoteIndex::freshness(&root, &second), Freshness::Stale);
        let (index, why) = NoteIndex::open_or_build(&root, &second, &mut |_| {}).unwrap();
        assert_eq!(why, Freshness::Stale);
        assert_eq!(index.searcher().num_docs(), 2);
        let generations = fs::read_dir(&root)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("gen-"))
            .count();
        assert_eq!(generations, 1, "old generations are removed");
    }

    #[test]
    fn an_interrupted_build_leaves_the_old_index_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let set = notes("# A\n- x\n");
        NoteIndex::build(&root, &set, &mut |_| {}).unwrap();
        // A build that died before its metadata was written: a staging folder with partial files.
        let staging = root.join(".building-999999-gen-dead");
        fs::create_dir_all(&staging).unwrap();
        fs::write(staging.join("garbage"), b"partial").unwrap();
        assert_eq!(NoteIndex::freshness(&root, &set), Freshness::Fresh);
        assert_eq!(NoteIndex::open(&root).unwrap().searcher().num_docs(), 1);
    }

    #[test]
    fn an_older_schema_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let set = notes("# A\n- x\n");
        NoteIndex::build(dir.path(), &set, &mut |_| {}).unwrap();
        let generation = current_generation(dir.path()).unwrap();
        let mut meta = read_meta(&generation).unwrap();
        meta.schema_version = 0;
        fs::write(generation.join(META), serde_json::to_vec(&meta).unwrap()).unwrap();
        assert_eq!(NoteIndex::freshness(dir.path(), &set), Freshness::OldSchema);
        let (_, why) = NoteIndex::open_or_build(dir.path(), &set, &mut |_| {}).unwrap();
        assert_eq!(why, Freshness::OldSchema);
        assert_eq!(NoteIndex::freshness(dir.path(), &set), Freshness::Fresh);
    }

    #[test]
    fn question_banks_and_empty_sections_are_not_indexed() {
        let set = NoteSet::from_texts([
            ("k.md", "# Parent\n## Child\n- fact\n"),
            ("q.md", "---\nkind: questions\n---\n## q1\nstem\n- [x] a\n- [ ] b\n"),
        ]);
        let index = NoteIndex::in_memory(&set).unwrap();
        assert_eq!(index.searcher().num_docs(), 1);
    }
}
