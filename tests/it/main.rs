//! Integration tests, one binary (one link step): the shipped notes, the command line, and the engines
//! end to end. Shared helpers live in `util`.

mod answer_eval;
mod answer_fit;
mod answer_other_notes;
mod cli;
mod cli_edges;
mod discord;
mod quiz;
mod retrieval;
mod store;
mod store_contract;
mod util;
