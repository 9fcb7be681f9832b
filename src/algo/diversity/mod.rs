//! Diversity d(x): topics from embeddings and novelty from n-gram overlap, as pure algorithms.
//!
//! This module owns the maths of the diversity score (docs/method.md, "Diversity d(x)" and
//! "Incremental behaviour") and nothing else: plain slices and `Vec`s in, plain structs out, no
//! store, index or model. Whatever is persisted (signatures, bucket keys, topic models) derives
//! serde's `Serialize` and `Deserialize`; the caller decides where it lives.
//!
//! Two signals, each cheap to keep current as the pool grows:
//!
//! 1. **N-gram overlap** ([`MinHasher`], [`bucket_keys`], [`Overlap`]): word 5-gram shingles
//!    hashed with xxh3, 128-value MinHash signatures, LSH with 32 bands of 4 rows.
//!    `novelty(x) = 1 -` the largest estimated Jaccard similarity of `x` to any other sample;
//!    near-duplicate groups of the pairs at Jaccard >= 0.8. Inserting samples in any order gives
//!    the same novelties. [`LshIndex`] keeps all of it in memory (the benchmarks time it);
//!    `topics` keeps it in the store.
//! 2. **Topics** ([`HashedEmbedder`], [`fit`], [`KMeansModel`]): embeddings (hashed words and
//!    punctuation under a sparse random projection to 256 dimensions, or any external
//!    `f32` rows such as mean-pooled hidden states), k-means with k-means++ seeding (Lloyd, or
//!    mini-batch for large pools), frozen centroids that new samples join with running
//!    statistics, and per-topic compactness, separation and cluster score ([`topic_stats`]).
//!
//! `d(x) = rank(rank(cluster score) * novelty)`, returned with its parts
//! ([`DiversityParts`]); [`nmi`] and [`matching_accuracy`] compare labelings (the integration
//! tests and the benchmarks judge topics with them). The unit tests keep reference
//! implementations that nothing else calls (`diversity`, `sample_cluster_scores`, `TopicTerms`,
//! `Idf`) and hold the stages to them.
//!
//! **Order of appends.** For a fixed topic model, every result here (novelty, nearest sample,
//! near-duplicate groups, topic assignments, topic statistics, d(x)) is exactly the same
//! whatever the order in which samples were added. A refit is what changes topics: its
//! centroids depend on the whole pool and the seed, so topics after "fit, then join" differ
//! from those of a refit on the same pool (measured in the tests).
//!
//! **What to persist.** Per sample: its [`Signature`] (K u32), its [`bucket_keys`] (as bucket ->
//! sample postings), its [`Overlap`] (nearest key and estimated similarity; novelty is
//! `1 - jaccard`), its topic and distance ([`Assignment`]). Per pool: the [`MinHasher`] and
//! [`LshParams`] (signatures and buckets are comparable only under the same ones), the
//! [`HashedEmbedder`] options and the [`KMeansModel`] (centroids and running statistics). When a
//! new sample arrives, [`LshIndex::insert`] reports the older samples whose overlap it raised
//! ([`Inserted::updated`]); a store that keeps the index on disk applies the same rule with
//! [`Overlap::offer`]. Hashed embeddings need not be stored: they are a function of the text.

mod cluster_stats;
mod embed;
mod error;
mod kmeans;
mod lsh;
mod minhash;
mod model_vec;
mod rng;
mod score;
mod text;

#[cfg(test)]
mod tests;

#[cfg(test)]
pub use cluster_stats::{sample_cluster_scores, TermScore, TopicTerms};
pub use cluster_stats::{topic_stats, TopicStats};
#[cfg(test)]
pub use embed::Idf;
pub use embed::{HashedEmbedder, DEFAULT_EMBED_DIM, DEFAULT_EMBED_SEED, DEFAULT_FEATURE_BITS};
pub use error::{DiversityError, Result};
#[cfg(test)]
pub use kmeans::check_row;
pub use kmeans::{
    default_k, fit, Algorithm, Assignment, ClusterStats, Fit, KMeansModel, KMeansParams,
    RefitReason, MAX_DEFAULT_TOPICS, MINI_BATCH_MIN_N,
};
pub use lsh::{
    bucket_keys, grouping_threshold, Inserted, LshIndex, LshParams, Overlap,
    DEFAULT_NEAR_DUPLICATE_THRESHOLD,
};
pub use minhash::{
    jaccard, shingles, MinHasher, Signature, DEFAULT_MINHASH_SEED, DEFAULT_NUM_PERM,
    DEFAULT_SHINGLE_WORDS,
};
pub use model_vec::model_topic_vector;
#[cfg(test)]
pub use score::diversity;
pub use score::{matching_accuracy, nmi, rank_normalise, DiversityParts};
pub use text::{for_each_token, for_each_word, words};

pub(crate) use rng::{mix64, SplitMix64};
