//! # samplemix
//!
//! Sample-wise pre-training data mixing. samplemix keeps a growing pool of documents in an
//! embedded store, scores every sample for quality and diversity, and draws training mixes to a
//! token budget from those scores (see `ARCHITECTURE.md` for the pipeline).
//!
//! The pipeline, one module per stage:
//! [`ingest`] → [`store`] / [`index`] (kept consistent by [`pool`]) → score → [`topics`] →
//! weight → draw → export/report, and [`eval`] to judge a drawn mix on held-out text.
//!
//! ```no_run
//! use samplemix::{ingest, pool::Pool, index::QuerySpec};
//! # fn main() -> samplemix::Result<()> {
//! let mut pool = Pool::open_writer("my-store".as_ref())?;
//! let inputs = [ingest::Input::parse("crawl.jsonl.zst")];
//! let report = ingest::append(&mut pool, &inputs, &Default::default(), &())?;
//! println!("added {} samples, skipped {} duplicates", report.added, report.duplicates);
//! let hits = pool.query(&QuerySpec { text: Some("\"data mixing\"".into()), limit: 5, ..Default::default() }, false)?;
//! pool.close()?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod diversity;
pub mod error;
pub mod eval;
pub mod export;
pub mod index;
pub mod ingest;
pub mod mix;
pub mod mixes;
pub mod names;
pub mod pool;
pub mod report;
pub mod score;
pub mod store;
pub mod topics;

#[cfg(test)]
mod test_fixture;

pub use error::{Error, Result};
