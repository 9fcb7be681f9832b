//! Distillation: the classifier trained to predict another signal's rank, so that the part of
//! the pool an expensive signal (the LM's mean NLL) has not reached gets a cheap estimate.
//!
//! The values of the other signal (higher = better; pass `-NLL` for the LM) become targets in
//! `(0, 1)`: `(midrank - 1/2) / n` among the training samples, the signal's own q scale. The
//! classifier regresses them with the cross-entropy of soft targets ([`super::train`]), with
//! no class balancing. A deterministic share of the samples, chosen by a hash of the text (so
//! the same sample is held out whatever the order or the other samples), is held out of
//! training, and [`DistillReport::spearman`] is the rank correlation of the model's scores with
//! the signal's values on exactly those samples.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::error::{ClassifierError, Result};
use super::features::FeatureConfig;
use super::model::{ClassifierModel, Objective};
use super::train::{train, Example, TrainConfig, TrainReport};
use crate::algo::rank::{mid_ranks, spearman};

/// Share of the samples held out to measure a distilled model, unless told otherwise.
pub const DEFAULT_HELD_OUT_SHARE: f64 = 0.2;
/// Seed of the hash that chooses the held-out samples.
const HOLD_OUT_SEED: u64 = 0x484F_4C44_4F55_5431; // "HOLDOUT1"

/// What a distillation measured.
#[derive(Debug, Clone, PartialEq)]
pub struct DistillReport {
    /// Samples trained on.
    pub trained: usize,
    /// Samples held out.
    pub held_out: usize,
    /// Spearman correlation of the model's scores with the signal on the held-out samples
    /// (`None` when fewer than 2 were held out or either side is constant).
    pub spearman: Option<f64>,
    /// The training run.
    pub train: TrainReport,
}

/// Whether a text belongs to the held-out share (a hash of its bytes, independent of order).
pub fn is_held_out(text: &str, share: f64) -> bool {
    let threshold = (share.clamp(0.0, 1.0) * 10_000.0).round() as u64;
    xxh3_64_with_seed(text.as_bytes(), HOLD_OUT_SEED) % 10_000 < threshold
}

/// Trains a model to predict `values` (one per text, higher = better) from `texts`, holding
/// out `held_out_share` of them to measure it (see the module doc).
pub fn distill(
    texts: &[&str],
    values: &[f64],
    features: FeatureConfig,
    config: &TrainConfig,
    held_out_share: f64,
) -> Result<(ClassifierModel, DistillReport)> {
    if texts.len() != values.len() {
        return Err(ClassifierError::Distill(format!(
            "{} texts but {} values",
            texts.len(),
            values.len()
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(ClassifierError::Distill(format!(
            "value {} of sample {i} is not a finite number",
            values[i]
        )));
    }
    if !(0.0..1.0).contains(&held_out_share) {
        return Err(ClassifierError::BadSetting {
            name: "held_out_share",
            value: held_out_share.to_string(),
            range: "0 to below 1",
        });
    }
    let held: Vec<bool> = texts
        .iter()
        .map(|t| is_held_out(t, held_out_share))
        .collect();
    let train_values: Vec<f64> = (0..texts.len())
        .filter(|&i| !held[i])
        .map(|i| values[i])
        .collect();
    if train_values.is_empty() {
        return Err(ClassifierError::NoExamples);
    }
    let n = train_values.len() as f64;
    let targets: Vec<f32> = mid_ranks(&train_values)
        .into_iter()
        .map(|r| ((r - 0.5) / n) as f32)
        .collect();
    let examples: Vec<Example<'_>> = (0..texts.len())
        .filter(|&i| !held[i])
        .zip(&targets)
        .map(|(i, &target)| Example {
            text: texts[i],
            target,
            weight: 1.0,
        })
        .collect();
    let (model, train_report) = train(&examples, features, Objective::Distilled, config)?;
    let held_texts: Vec<&str> = (0..texts.len())
        .filter(|&i| held[i])
        .map(|i| texts[i])
        .collect();
    let held_values: Vec<f64> = (0..texts.len())
        .filter(|&i| held[i])
        .map(|i| values[i])
        .collect();
    let predicted: Vec<f64> = model
        .score_texts(&held_texts)
        .into_iter()
        .map(f64::from)
        .collect();
    let report = DistillReport {
        trained: examples.len(),
        held_out: held_texts.len(),
        spearman: spearman(&predicted, &held_values),
        train: train_report,
    };
    Ok((model, report))
}
