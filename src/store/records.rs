//! The values the store holds, one type per table, each with its value version.
//! `schema/store.md` describes the same layouts for readers of the bytes.

use serde::{Deserialize, Serialize};

use super::codec::Versioned;

/// A sample as appended: the source of truth for everything derived from it.
/// Table `docs`, key: sequence number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct DocRecord {
    /// The sample's id: the input's id field, or the hex xxh3-64 of its normalised text.
    pub id: String,
    /// The domain the sample came from.
    pub source: String,
    /// The text, exactly as given.
    pub text: String,
    /// Metadata as compact JSON text (the input's `metadata` object plus unknown top-level
    /// fields), if any.
    pub metadata: Option<String>,
    /// xxh3-128 of the whitespace-normalised text (the dedup key).
    pub text_hash: u128,
    /// Estimated tokens before scoring (see `ingest::estimate_tokens`).
    pub tokens_estimate: u32,
    /// Where it came from: the input file (or `-`) and its 1-based line.
    pub origin_file: String,
    /// Line of `origin_file`.
    pub origin_line: u64,
}

impl Versioned for DocRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "docs";
}

/// The compact per-sample row that mixes read instead of texts: everything a draw needs.
/// Table `samples`, key: sequence number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct SampleRow {
    /// Token count: the estimate until the sample is scored, then the reference model's count.
    pub tokens: u32,
    /// Dense id of the sample's source (table `sources`).
    pub source_id: u32,
    /// Whether `tokens` is the reference model's count (not the estimate).
    pub tokens_exact: bool,
    /// xxh3-64 of the fingerprint the sample was scored under; 0 when never scored.
    pub quality_fp: u64,
    /// Mean NLL per token under that scorer; `None` when unscored or too short to score.
    pub mean_nll: Option<f32>,
    /// Topic id, once assigned.
    pub topic: Option<u32>,
    /// Novelty (1 - largest estimated Jaccard similarity to another sample), once computed.
    pub novelty: Option<f32>,
}

impl SampleRow {
    /// The 64-bit id of a scorer fingerprint kept in `quality_fp`: its xxh3-64, never 0 (which
    /// means unscored).
    pub fn fingerprint_id(fingerprint: &str) -> u64 {
        xxhash_rust::xxh3::xxh3_64(fingerprint.as_bytes()).max(1)
    }

    /// The row of a newly appended sample.
    pub fn new(tokens: u32, source_id: u32) -> SampleRow {
        SampleRow {
            tokens,
            source_id,
            tokens_exact: false,
            quality_fp: 0,
            mean_nll: None,
            topic: None,
            novelty: None,
        }
    }
}

impl Versioned for SampleRow {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "samples";
}

/// Running totals of one source. Table `sources`, key: the source name (UTF-8).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct SourceInfo {
    /// Dense id, assigned in order of first appearance.
    pub id: u32,
    /// Samples stored.
    pub docs: u64,
    /// Tokens (estimates until scored).
    pub tokens: u64,
    /// UTF-8 bytes of text.
    pub bytes: u64,
}

impl Versioned for SourceInfo {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "sources";
}

/// Pool-wide counters. Table `meta`, key `counters`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq)]
pub struct PoolCounters {
    /// The sequence number the next stored sample gets; every sample has a smaller one.
    pub next_seq: u64,
    /// Samples stored.
    pub docs: u64,
    /// Tokens (estimates until scored).
    pub tokens: u64,
    /// UTF-8 bytes of text.
    pub bytes: u64,
    /// Exact duplicates skipped by all appends so far.
    pub duplicates: u64,
    /// Records rejected by all appends so far.
    pub rejected: u64,
    /// Completed append runs.
    pub appends: u64,
}

impl Versioned for PoolCounters {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// The raw quality figures of one sample. Table `scores`, key: sequence number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ScoreRecord {
    /// Fingerprint of the scorer (model file and result-changing settings).
    pub fingerprint: String,
    /// Length in the scorer's tokenizer, without BOS.
    pub n_tokens: u32,
    /// Sum of the per-token negative log-likelihoods (nats) of the scored tokens.
    pub nll_sum: f64,
    /// Tokens predicted; 0 when the sample is too short to score (fewer than 2 tokens).
    pub n_scored: u32,
}

impl ScoreRecord {
    /// Mean NLL per scored token, if the sample was long enough to score.
    pub fn mean_nll(&self) -> Option<f64> {
        (self.n_scored > 0).then(|| self.nll_sum / f64::from(self.n_scored))
    }
}

impl Versioned for ScoreRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "scores";
}

/// The scorer the pool was last scored with, and its totals. Table `meta`, key `scorer`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ScorerState {
    /// Fingerprint of the scorer.
    pub fingerprint: String,
    /// Human-readable scorer description (model file, settings).
    pub description: String,
    /// Samples with a score under this fingerprint.
    pub scored: u64,
    /// Samples too short to score under this fingerprint.
    pub too_short: u64,
}

impl Versioned for ScorerState {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// Sorted mean NLLs of the scored pool (all of them, or an evenly spaced subset of at most
/// 4097), from which quality q = 1 - rank / n is read at query time. Table `meta`, key
/// `nll_quantiles`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct NllQuantiles {
    /// Fingerprint of the scorer the values come from.
    pub fingerprint: String,
    /// Scored samples the values summarise.
    pub n: u64,
    /// Ascending mean NLLs.
    pub values: Vec<f64>,
}

impl Versioned for NllQuantiles {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}
