//! Ingest: JSONL inputs into the pool. Inputs are opened and split into lines ([`input`]),
//! lines are parsed and checked in parallel ([`record`]), and one writer assigns sequence
//! numbers, drops exact duplicates and writes each chunk to the store in one atomic batch before
//! indexing it ([`append`]).

mod append;
mod dedup;
pub mod input;
mod record;

pub use append::{append, AppendObserver, AppendOptions, AppendReport, FileReport, Reject};
pub use input::{Compression, Input};
pub use record::{estimate_tokens, normalised_hash, parse, FieldNames, Parsed};
