//! The stored mixes: one manifest per mix name (table `mixes`). `schema/store.md` describes the
//! same layout for readers of the bytes.

use serde::{Deserialize, Serialize};

use super::codec::Versioned;
use super::PoolCounters;

/// A drawn mix. Table `mixes`, key: the mix name (UTF-8).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MixRecord {
    /// The resolved parameters as compact JSON (kernel and its parameters, tokens, seed,
    /// max_repeat, share bounds): everything needed to draw it again.
    pub params: String,
    /// The pool counters when it was drawn (`next_seq` bounds the samples it could see).
    pub counters: PoolCounters,
    /// The scorer fingerprint whose quality scores were used; empty when none.
    pub scorer: String,
    /// Seconds since the Unix epoch when it was drawn.
    pub drawn_at: u64,
    /// Tokens asked for.
    pub tokens_requested: u64,
    /// Tokens drawn: Σ count x tokens.
    pub tokens_drawn: u64,
    /// Samples left out for lacking a score the kernel needs, and those eligible.
    pub exclusions: MixExclusions,
    /// (sequence number, count) of every sample drawn at least once, ascending by seq.
    pub counts: Vec<(u64, u16)>,
    /// Per source, ascending by source id.
    pub sources: Vec<MixSourceTotals>,
}

impl Versioned for MixRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "mixes";
}

/// Samples left out of a mix, by reason.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MixExclusions {
    /// Without a quality score (the kernel needs q).
    pub no_quality: u64,
    /// Without a diversity score (the kernel needs d).
    pub no_diversity: u64,
    /// Without a topic (the kernel needs one).
    pub no_topic: u64,
    /// With zero tokens.
    pub zero_tokens: u64,
    /// With a positive weight.
    pub eligible: u64,
}

/// One source's totals in a mix.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct MixSourceTotals {
    /// The source name.
    pub name: String,
    /// Its tokens in the pool.
    pub natural_tokens: u64,
    /// Its tokens in the mix.
    pub mixed_tokens: u64,
    /// Its expected tokens (the solve).
    pub expected_tokens: f64,
    /// Distinct samples drawn.
    pub samples_drawn: u64,
    /// Tokens of the distinct samples drawn.
    pub distinct_tokens: u64,
    /// The share constraint it is pinned at ("min", "max", "exact"), if any.
    pub pinned: Option<String>,
}
