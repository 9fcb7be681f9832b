//! Reading JSONL and Parquet input, for the append stage and for `eval`'s held-out file: the
//! arguments are expanded (folders, globs: [`expand`]), inputs are opened and split into lines
//! ([`input`]) or Parquet rows as JSON ([`parquet`], both behind `reader`), records are parsed
//! and checked ([`record`], pure, run in parallel by [`crate::stages::append`], which writes
//! them to the pool); [`texts`] reads whole inputs at once (the reference set of `quality
//! train`). No store access.

pub(crate) mod dedup;
pub mod expand;
pub mod input;
pub mod parquet;
pub(crate) mod reader;
pub(crate) mod record;
pub mod texts;

pub use expand::{expand, Planned};
pub use input::{Compression, Input};
pub use record::{estimate_tokens, normalised_hash, parse, FieldNames, Parsed};
pub use texts::{read_texts, Texts};
