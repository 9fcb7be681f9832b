//! # samplemix
//!
//! Sample-wise pre-training data mixing. samplemix keeps a growing pool of documents in an
//! embedded store, scores every sample for quality and diversity, and draws training mixes to a
//! token budget from those scores (see `ARCHITECTURE.md` for the pipeline).
//!
//! The layers, each depending only on the ones before it (`ARCHITECTURE.md` has the rules, and
//! `tests/layout.rs` checks them):
//!
//! - [`error`]: the library's one error type.
//! - [`store`]: RocksDB tables and the store-owned types of every stored record.
//! - [`index`]: the tantivy index derived from the store.
//! - [`ingest`]: reading and parsing JSONL input (files, stdin, compression).
//! - [`algo`]: pure algorithms (diversity, mix kernels and draw, eval metrics), no store.
//! - [`pool`]: the store and index opened together, kept consistent, and the read side (stats,
//!   get, query, verify, the q and d scales, stored mixes).
//! - [`stages`]: append → score → topics → mix → export / report, and eval; each builds on
//!   [`pool`] and [`algo`], none on another stage.
//!
//! ```no_run
//! use samplemix::{ingest, pool::Pool, index::QuerySpec, stages::append};
//! # fn main() -> samplemix::Result<()> {
//! let mut pool = Pool::open_writer("my-store".as_ref())?;
//! let inputs = [ingest::Input::parse("crawl.jsonl.zst")];
//! let report = append::append(&mut pool, &inputs, &Default::default(), &())?;
//! println!("added {} samples, skipped {} duplicates", report.added, report.duplicates);
//! let hits = pool.query(&QuerySpec { text: Some("\"data mixing\"".into()), limit: 5, ..Default::default() }, false)?;
//! pool.close()?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod algo;
pub mod error;
pub mod failpoint;
pub mod index;
pub mod ingest;
pub mod names;
pub mod pool;
pub mod stages;
pub mod store;

#[cfg(test)]
mod test_fixture;

pub use error::{Error, Result};
