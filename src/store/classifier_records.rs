//! The trained model of the `classifier` signal, kept in table `meta` under
//! [`CLASSIFIER_KEY`]: one record, replaced whole by each `quality train`.
//!
//! The model's own bytes are the classifier's canonical layout (`schema/classifier.md`), kept
//! opaque here: the store neither reads nor changes them. Their format version is repeated in
//! the record, so that a model written by a newer samplemix is refused by name before its bytes
//! are read.

use serde::{Deserialize, Serialize};

use super::codec::Versioned;

/// Key in table `meta` of the [`ClassifierRecord`].
pub const CLASSIFIER_KEY: &[u8] = b"classifier/model";

/// The trained classifier and what it was trained on. Table `meta`, key `classifier/model`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ClassifierRecord {
    /// Format version of `model` (the classifier's byte layout).
    pub model_format: u16,
    /// The signal's fingerprint: xxh3-64 of `model`, 16 hex digits.
    pub fingerprint: String,
    /// What the model predicts: `reference`, or `distill:SIGNAL`.
    pub objective: String,
    /// What it was trained on, in words.
    pub description: String,
    /// Positive samples (the reference set), or samples distilled from.
    pub reference_samples: u64,
    /// Negative samples (drawn from the pool, or given).
    pub negative_samples: u64,
    /// Synthetic hard negatives.
    pub hard_negatives: u64,
    /// The training seed.
    pub seed: u64,
    /// Distillation only: Spearman correlation with the signal on the held-out samples.
    pub held_out_spearman: Option<f64>,
    /// The model's bytes.
    pub model: Vec<u8>,
}

impl Versioned for ClassifierRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}
