//! Diversity d(x): topics from embeddings and novelty from n-gram overlap, as pure algorithms.
//!
//! This module owns the maths of the diversity score (method.md, "Diversity d(x)" and
//! "Incremental behaviour") and nothing else: plain slices and `Vec`s in, plain structs out, no
//! store, index or model. Whatever is persisted (signatures, bucket keys, topic models, term
//! counts) derives serde's `Serialize` and `Deserialize`; the caller decides where it lives.
//!
//! Two signals, each cheap to keep current as the pool grows:
//!
//! 1. **N-gram overlap** ([`MinHasher`], [`LshIndex`]): word 5-gram shingles hashed with xxh3,
//!    128-value MinHash signatures, LSH with 32 bands of 4 rows. `novelty(x) = 1 -` the largest
//!    estimated Jaccard similarity of `x` to any other sample; near-duplicate groups of the
//!    pairs at Jaccard >= 0.8. Inserting samples in any order gives the same novelties.
//! 2. **Topics** ([`HashedEmbedder`], [`fit`], [`KMeansModel`]): embeddings (hashed words and
//!    punctuation under a sparse random projection to 256 dimensions, or any external
//!    `f32` rows such as mean-pooled hidden states), k-means with k-means++ seeding (Lloyd, or
//!    mini-batch for large pools), frozen centroids that new samples join with running
//!    statistics, and per-topic compactness, separation, cluster score ([`topic_stats`]) and
//!    characteristic terms ([`TopicTerms`]).
//!
//! [`diversity`] combines them: `d(x) = rank(rank(cluster score) * novelty)`, returned with its
//! parts. [`nmi`] and [`matching_accuracy`] compare labelings.
//!
//! **Order of appends.** For a fixed topic model (centroids and idf weights), every result here
//! (novelty, nearest sample, near-duplicate groups, topic assignments, topic statistics,
//! d(x)) is exactly the same whatever the order in which samples were added. A refit is what
//! changes topics: its centroids depend on the whole pool and the seed, so topics after
//! "fit, then join" differ from those of a refit on the same pool (measured in the tests).
//!
//! **What to persist.** Per sample: its [`Signature`] (K u32), its [`bucket_keys`] (as bucket ->
//! sample postings), its [`Overlap`] (nearest key and estimated similarity; novelty is
//! `1 - jaccard`), its topic and distance ([`Assignment`]). Per pool: the [`MinHasher`] and
//! [`LshParams`] (signatures and buckets are comparable only under the same ones), the
//! [`HashedEmbedder`] options and [`Idf`] weights, the [`KMeansModel`] (centroids and running
//! statistics) and the [`TopicTerms`] counts. All of these derive serde's traits. When a new
//! sample arrives, [`LshIndex::insert`] reports the older samples whose overlap it raised
//! ([`Inserted::updated`]); a store that keeps the index on disk applies the same rule with
//! [`Overlap::offer`]. Hashed embeddings need not be stored: they are a function of the text.
//!
//! ```
//! use samplemix::diversity::{
//!     diversity, fit, sample_cluster_scores, topic_stats, HashedEmbedder, Idf, KMeansParams,
//!     LshIndex, MinHasher,
//! };
//! # fn main() -> Result<(), samplemix::diversity::DiversityError> {
//! let texts = [
//!     "The river flows through the valley to the sea.",
//!     "The river flows through the valley to the sea!",
//!     "fn main() { println!(\"hello\"); }",
//!     "def main(): print('hello')",
//! ];
//! // Novelty.
//! let hasher = MinHasher::default();
//! let mut lsh = LshIndex::with_defaults();
//! for (key, text) in texts.iter().enumerate() {
//!     lsh.insert(key as u64, hasher.signature_of_text(text))?;
//! }
//! let novelty: Vec<f64> = (0..texts.len() as u64)
//!     .map(|k| lsh.novelty(k).map_or(1.0, f64::from))
//!     .collect();
//! assert_eq!(novelty[0], 0.0); // same words as text 1
//! // Topics.
//! let embedder = HashedEmbedder::default();
//! let idf = Idf::fit(&embedder, &texts);
//! let rows = embedder.embed_all(&texts, Some(&idf));
//! let topics = fit(&rows, embedder.dim(), &KMeansParams::new(2))?;
//! let labels: Vec<u32> = topics.assignments.iter().map(|a| a.topic).collect();
//! let scores = sample_cluster_scores(&labels, &topic_stats(&topics.model))?;
//! // d(x) with its parts.
//! let d = diversity(&scores, &novelty)?;
//! assert!(d[2].d > d[0].d);
//! # Ok(()) }
//! ```

mod cluster_stats;
mod embed;
mod error;
mod kmeans;
mod lsh;
mod minhash;
mod rng;
mod score;
mod text;

#[cfg(test)]
mod tests;

pub use cluster_stats::{sample_cluster_scores, topic_stats, TermScore, TopicStats, TopicTerms};
pub use embed::{HashedEmbedder, Idf, DEFAULT_EMBED_DIM, DEFAULT_EMBED_SEED, DEFAULT_FEATURE_BITS};
pub use error::{DiversityError, Result};
pub use kmeans::{
    check_row, default_k, fit, Algorithm, Assignment, ClusterStats, Fit, KMeansModel, KMeansParams,
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
pub use score::{diversity, matching_accuracy, nmi, rank_normalise, DiversityParts};
pub use text::{for_each_token, for_each_word, words};
