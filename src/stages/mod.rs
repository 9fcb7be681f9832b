//! The pipeline's stages, each a function over an open [`crate::pool::Pool`] (or its
//! [`crate::store::Store`]) built from the [`crate::algo`] algorithms. A stage depends on the
//! pool, the store, the index, the input readers and the algorithms, never on another stage.
//!
//! - [`append`]: JSONL inputs into the pool (exact dedup, sequence numbers, one batch a chunk).
//! - [`score`]: quality, the mean NLL of each sample under a llama.cpp model.
//! - [`quality`]: named quality signals besides `lm` (`repetition`, `classifier`), computed
//!   incrementally.
//! - [`topics`]: diversity, n-gram overlaps, topics and the d(x) scale.
//! - [`mix`]: draws a mix over the pool's rows and saves its manifest.
//! - [`export`]: a stored mix as shuffled zstd JSONL shards.
//! - [`report`]: a stored mix's report (JSON, CSV, HTML).
//! - [`eval`]: judges stored mixes on held-out text.

pub mod append;
pub mod eval;
pub mod export;
pub mod mix;
pub mod quality;
pub mod report;
pub mod score;
pub mod topics;
