//! Judging a mix on held-out text: cheap proxies for "how good would a model trained on this mix
//! be" (method.md, "Judging a mix without pre-training a 1B model"), as pure functions over
//! texts and counts, with no store access. A mix is given as its distinct samples with the number
//! of times each was drawn; every metric counts a sample drawn `c` times as `c` copies of it
//! without copying its text.
//!
//! - [`byte_lm`]: a byte-level n-gram model with interpolated modified Kneser-Ney smoothing,
//!   trained on the mix; its bits per byte on held-out text rank mixes (lower is better).
//! - [`dsir`]: DSIR's hashed unigram and bigram features; the KL reduction of the mix against the
//!   natural pool, towards the held-out text (higher is better).
//! - [`distinct`]: the distinct word n-gram ratio of the mix's token stream (repetition lowers it).
//!
//! Reading mixes and held-out files, and the table that puts the metrics side by side, belong to
//! the caller.

pub mod byte_lm;
pub mod distinct;
pub mod dsir;
mod error;
mod hash;

#[cfg(test)]
mod fixture;

pub use error::{EvalError, Result};
