//! Pure algorithms over slices and texts: no store, no pool, no index, no stage, no I/O besides
//! what a caller hands in. Every stage builds on these.
//!
//! - [`classifier`]: the `classifier` quality signal: hashed word 1- and 2-gram logistic
//!   regression (AdaGrad + L2), synthetic hard negatives, distillation from another signal.
//! - [`diversity`]: shingles and MinHash, LSH banding and overlaps, hashed n-gram embeddings,
//!   k-means with frozen-centroid joins and a drift rule, topic statistics and d(x).
//! - [`mix`]: q(x) from mean NLL mid-ranks, the kernels w(x) and the capped budget draw.
//! - [`metrics`]: the measures `samplemix eval` puts side by side (byte n-gram bits per byte,
//!   DSIR's KL reduction, distinct n-grams, near-duplicate rates).
//! - [`judge`]: a small byte-level transformer trained on a mix, its held-out loss and a
//!   multiple-choice task (the trained judge of `samplemix eval --judge transformer`).
//! - [`rank`]: mid-ranks of runs of equal values, and the thinning of a sorted list to the
//!   quantiles a store keeps.
//! - [`repetition`]: the `repetition` quality signal's text statistics (Gopher and FineWeb
//!   rules) and its soft pass score.
//! - [`union_find`]: disjoint sets, and connected components in a stable order.
//! - [`grouping`]: near-duplicate groups from MinHash signatures and their LSH bucket keys.

pub mod classifier;
pub mod diversity;
pub mod grouping;
pub mod judge;
pub mod metrics;
pub mod mix;
pub mod rank;
pub mod repetition;
pub mod tokenize;
pub mod union_find;
