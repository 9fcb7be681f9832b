//! The named quality signals: their ids, the per-sample values of table `signals`, and the
//! per-signal state and quantiles kept in table `meta`.
//!
//! A signal is a raw quality figure of a sample computed by a fingerprinted computer. `lm` (the
//! mean NLL under the reference model) keeps living in the sample rows (`SampleRow.mean_nll`
//! under `SampleRow.quality_fp`); every other signal lives here, one [`SignalRecord`] per
//! (signal, sample). Ranks (q) are never stored per sample: they are read from the stored
//! [`SignalQuantiles`] (or from all values, when a command reads them all).

use serde::{Deserialize, Serialize};

use super::codec::Versioned;

/// A named quality signal. The ids are part of the store format (the first 4 bytes of a key of
/// table `signals`): never reuse or renumber one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// Id 0: mean NLL per token under the reference language model (`samplemix score`). Its
    /// values live in the sample rows, never in table `signals`. Lower is better.
    Lm,
    /// Id 1: the model-free repetition score (`samplemix quality compute repetition`), in
    /// [0, 1]. Higher is better.
    Repetition,
    /// Id 2: the trained hashed n-gram classifier's score. Higher is better.
    Classifier,
}

impl Signal {
    /// Every signal, in id order.
    pub const ALL: [Signal; 3] = [Signal::Lm, Signal::Repetition, Signal::Classifier];

    /// The id stored in keys.
    pub const fn id(self) -> u32 {
        match self {
            Signal::Lm => 0,
            Signal::Repetition => 1,
            Signal::Classifier => 2,
        }
    }

    /// The signal with this id.
    pub fn from_id(id: u32) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.id() == id)
    }

    /// The name users type and the store's `meta` keys carry.
    pub const fn name(self) -> &'static str {
        match self {
            Signal::Lm => "lm",
            Signal::Repetition => "repetition",
            Signal::Classifier => "classifier",
        }
    }

    /// The signal with this name.
    pub fn from_name(name: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether a higher raw value means better quality (false for `lm`: lower NLL is better).
    pub const fn higher_is_better(self) -> bool {
        !matches!(self, Signal::Lm)
    }

    /// Key in table `meta` of the signal's [`SignalState`].
    pub fn state_key(self) -> Vec<u8> {
        format!("signal/{}", self.name()).into_bytes()
    }

    /// Key in table `meta` of the signal's [`SignalQuantiles`].
    pub fn quantiles_key(self) -> Vec<u8> {
        format!("signal_quantiles/{}", self.name()).into_bytes()
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One sample's value of one signal. Table `signals`, key: signal id (u32 BE) then sequence
/// number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SignalRecord {
    /// xxh3-64 of the computer's fingerprint ([`super::SampleRow::fingerprint_id`]): the value
    /// is current while it equals the id of the signal's current fingerprint.
    pub fingerprint_id: u64,
    /// The raw score; `None` when the signal does not apply to the sample (for example a text
    /// without a word), which counts as computed.
    pub raw: Option<f32>,
    /// The raw features the score was derived from (their meaning and order are the
    /// computer's; empty for signals without features).
    pub features: Vec<f32>,
}

impl Versioned for SignalRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "signals";
}

/// The computer a signal was last computed with, and its totals. Table `meta`, key
/// `signal/NAME`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SignalState {
    /// Fingerprint of the computer (its version and every setting that changes results).
    pub fingerprint: String,
    /// Human-readable description of the computer.
    pub description: String,
    /// Samples with a value under this fingerprint.
    pub computed: u64,
    /// Of those, samples the signal does not apply to (`raw` is `None`).
    pub not_applicable: u64,
}

impl Versioned for SignalState {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// The sorted raw values of one group of samples (the pool, one source or one topic).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct QuantileGroup {
    /// The source id or topic id (0 for the pool).
    pub key: u32,
    /// Samples with a value in the group.
    pub n: u64,
    /// Ascending raw values: all of them, or at most 4097 evenly spaced order statistics.
    pub values: Vec<f64>,
}

/// What q of a signal is read from, for each rank scope. Table `meta`, key
/// `signal_quantiles/NAME` (also for `lm`, whose pool-wide scale stays `nll_quantiles`).
/// Written at the end of every pass that changes values (`score`, `quality compute`, `topics`).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SignalQuantiles {
    /// The fingerprint id the values were computed under (`lm`: the scorer's).
    pub fingerprint_id: u64,
    /// The topic model generation and `topics_next` watermark the per-topic groups were read
    /// under (0, 0 before any topics run).
    pub topic_stamp: (u64, u64),
    /// The whole pool.
    pub pool: QuantileGroup,
    /// One group per source with a value, by source id.
    pub sources: Vec<QuantileGroup>,
    /// One group per topic with a value, by topic id.
    pub topics: Vec<QuantileGroup>,
}

impl Versioned for SignalQuantiles {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// The key of `seq`'s value of `signal` in table `signals`.
pub fn signal_key(signal: Signal, seq: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&signal.id().to_be_bytes());
    k[4..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Reads a key of table `signals`.
pub fn read_signal_key(key: &[u8]) -> Option<(u32, u64)> {
    if key.len() != 12 {
        return None;
    }
    let id = u32::from_be_bytes(key[..4].try_into().ok()?);
    let seq = u64::from_be_bytes(key[4..].try_into().ok()?);
    Some((id, seq))
}
