//! Finding the note sections that answer a question. A query walks down through `analysis` (Japanese
//! bigrams and English words, folded the same way as the notes), `synonyms` (the group's and the
//! glossary's equivalents), is scored by `scoring` (BM25 over the `index` that `index` builds and reloads)
//! and comes back from `searcher` as plain hits with highlighted snippets.
//!
//! Core: imports tantivy and the notes, never the store, the adapters or the clock.

pub mod analysis;
pub mod index;
pub mod scoring;
mod searcher;
pub mod synonyms;

pub use searcher::{
    Hit, QueryTerm, SearchResults, SectionSearcher, edit_distance, highlight, query_terms, search_synonyms, snippet,
};
