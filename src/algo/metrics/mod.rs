//! Judging a mix on held-out text: cheap proxies for "how good would a model trained on this mix
//! be" (docs/method.md, "Judging a mix without pre-training a 1B model"), as pure functions over
//! texts and counts, with no store access. A mix is given as its distinct samples with the number
//! of times each was drawn; every metric counts a sample drawn `c` times as `c` copies of it
//! without copying its text.
//!
//! - [`byte_lm`]: a byte-level n-gram model with interpolated modified Kneser-Ney smoothing,
//!   trained on the mix; its bits per byte on held-out text rank mixes (lower is better).
//! - [`dsir`]: DSIR's hashed unigram and bigram features; the KL reduction of the mix against the
//!   natural pool, towards the held-out text (higher is better).
//! - [`distinct`]: the distinct word n-gram ratio of the mix's token stream (repetition lowers it).
//! - [`near_dup`]: near-duplicate samples of the mix and the fraction of drawn instances that are
//!   redundant, with the MinHash/LSH rule of `topics --duplicates`.
//!
//! [`crate::stages::eval`] reads stored mixes and a held-out file and puts these side by side.
//!
//! ```
//! use samplemix::algo::metrics::{byte_lm, distinct, dsir, near_dup};
//! # fn main() -> samplemix::algo::metrics::Result<()> {
//! let mix = [("the cat sat on the mat", 2), ("a dog ran in the park", 1)];
//! let heldout = ["the cat ran on the mat"];
//! let lm = byte_lm::train(byte_lm::DEFAULT_ORDER, mix.iter().map(|&(t, c)| (t.as_bytes(), c)))?;
//! let bpb = lm.bits_per_byte(heldout.iter().map(|t| t.as_bytes()).collect::<Vec<_>>());
//! assert!(bpb < 8.0);
//! let target = dsir::HashedNgramDist::from_texts(heldout.iter().map(|&t| (t, 1.0)).collect::<Vec<_>>());
//! let mix_dist = dsir::HashedNgramDist::from_texts(mix.iter().map(|&(t, c)| (t, f64::from(c))).collect::<Vec<_>>());
//! assert!(dsir::kl_divergence(&target, &mix_dist) > 0.0);
//! let d = distinct::distinct_ngram_ratio(mix, 2);
//! assert_eq!((d.distinct, d.total), (10, 15));
//! let r = near_dup::near_duplicates(&mix);
//! assert_eq!(r.redundant_rate, 1.0 / 3.0);
//! # Ok(()) }
//! ```

pub mod byte_lm;
pub mod distinct;
pub mod dsir;
mod error;
mod hash;
pub mod near_dup;

pub use error::{EvalError, Result};
