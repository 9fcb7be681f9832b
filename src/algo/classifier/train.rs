//! Training: logistic regression over the sparse features, AdaGrad with L2, in a fixed order.
//!
//! **Loss.** Each example has a target `y` in `[0, 1]` (1 reference, 0 negative; or a soft
//! target when distilling) and a weight. The loss is the weighted cross-entropy
//! `-y ln p - (1 - y) ln(1 - p)` with `p = sigmoid(score)`, whose gradient in a weight is
//! `(p - y) x_i`: one rule serves both classification and regression onto ranks. With
//! [`TrainConfig::balance`] (the default) the two classes weigh the same in total, whatever
//! their sizes.
//!
//! **AdaGrad with L2** (Duchi, Hazan and Singer 2011). For every feature of the example,
//! `g = weight (p - y) x_i + l2 w_i`, `G_i += g^2`, `w_i -= lr g / sqrt(G_i)`; the bias the same
//! without L2. The L2 term is applied to the features an example has (lazy, sparse
//! regularisation, as in Vowpal Wabbit), so an update costs the example's non-zero features and
//! never the 2^21 buckets. Per-bucket step sizes suit hashed n-grams, whose frequencies span
//! six orders of magnitude: frequent grams settle, rare ones still move.
//!
//! **Determinism.** Each epoch visits the examples in a Fisher-Yates permutation drawn from
//! SplitMix64 seeded with `seed + epoch`; features are computed in parallel (pure functions of
//! the text; once for all epochs while they fit in 256 MiB, else again each epoch) and the
//! updates applied one example at a time in that order, so the same examples, configuration and
//! seed give the same model bytes on any number of threads.
//!
//! **Why hand-written.** The update is ten lines over a dense `f32` array; a linear-algebra or
//! fastText dependency would add a C++ build or a second text pipeline whose tokenisation and
//! hashing the store's fingerprint could not pin, for no speed gained (`benches/classifier.rs`).

use rayon::prelude::*;

use super::error::{ClassifierError, Result};
use super::features::{FeatureConfig, Featurizer};
use super::model::{check_config, sigmoid, ClassifierModel, Fold, Objective};
use crate::algo::diversity::SplitMix64;

/// Examples featurized together (in parallel) before their updates are applied in order.
const CHUNK: usize = 4096;

/// One training example.
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    /// The text.
    pub text: &'a str,
    /// Target in `[0, 1]`: 1 reference, 0 negative, or a rank when distilling.
    pub target: f32,
    /// Weight, finite and at least 0 (1 for an ordinary example).
    pub weight: f32,
}

/// Training settings. Part of what makes a model, but not of its fingerprint: the fingerprint
/// hashes the result (configuration and weights), which these settings determine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Passes over the examples.
    pub epochs: u32,
    /// AdaGrad's base step.
    pub learning_rate: f32,
    /// L2 penalty per update of a feature.
    pub l2: f32,
    /// Seed of the visiting order.
    pub seed: u64,
    /// Whether the two classes (targets above and below 0.5) weigh the same in total (for
    /// [`Objective::Reference`] only; distillation weighs every example alike).
    pub balance: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 5,
            learning_rate: 0.2,
            l2: 1e-5,
            seed: 0,
            balance: true,
        }
    }
}

/// What a training run did.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Examples trained on.
    pub examples: usize,
    /// Examples with target above 0.5.
    pub positives: usize,
    /// Weighted mean cross-entropy of each epoch, each example measured before its update.
    pub epoch_loss: Vec<f64>,
    /// Buckets with a non-zero weight at the end.
    pub nonzero: usize,
}

/// Checks the examples and returns (positives, negatives).
fn check_examples(examples: &[Example<'_>], objective: Objective) -> Result<(usize, usize)> {
    if examples.is_empty() {
        return Err(ClassifierError::NoExamples);
    }
    for (index, e) in examples.iter().enumerate() {
        if !(0.0..=1.0).contains(&e.target) {
            return Err(ClassifierError::BadExample {
                index,
                what: "target",
                value: f64::from(e.target),
                range: "[0, 1]",
            });
        }
        if !e.weight.is_finite() || e.weight < 0.0 {
            return Err(ClassifierError::BadExample {
                index,
                what: "weight",
                value: f64::from(e.weight),
                range: "[0, infinity)",
            });
        }
    }
    let positives = examples.iter().filter(|e| e.target > 0.5).count();
    let negatives = examples.len() - positives;
    if objective == Objective::Reference && (positives == 0 || negatives == 0) {
        return Err(ClassifierError::OneClass {
            positives,
            negatives,
        });
    }
    Ok((positives, negatives))
}

/// Trains a one-fold model on `examples` (see the module doc).
pub fn train(
    examples: &[Example<'_>],
    features: FeatureConfig,
    objective: Objective,
    config: &TrainConfig,
) -> Result<(ClassifierModel, TrainReport)> {
    let (fold, report) = fit(examples, features, objective, config)?;
    let model = ClassifierModel::from_parts(features, objective, vec![fold]);
    Ok((model, report))
}

/// Trains one fold's weights on `examples`.
pub(crate) fn fit(
    examples: &[Example<'_>],
    features: FeatureConfig,
    objective: Objective,
    config: &TrainConfig,
) -> Result<(Fold, TrainReport)> {
    check_config(&features)?;
    let positive_rate = config.learning_rate.is_finite() && config.learning_rate > 0.0;
    let valid_l2 = config.l2.is_finite() && config.l2 >= 0.0;
    if config.epochs == 0 || !positive_rate || !valid_l2 {
        return Err(ClassifierError::BadSetting {
            name: "epochs, learning_rate, l2",
            value: format!("{}, {}, {}", config.epochs, config.learning_rate, config.l2),
            range: "at least 1, above 0, at least 0",
        });
    }
    let (positives, negatives) = check_examples(examples, objective)?;
    let n = examples.len() as f32;
    let class_weight = |target: f32| {
        if !config.balance || objective != Objective::Reference {
            1.0
        } else if target > 0.5 {
            n / (2.0 * positives as f32)
        } else {
            n / (2.0 * negatives as f32)
        }
    };
    let mut state = Adagrad::new(features.buckets(), config);
    let cache = FeatureCache::build(examples, &features);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut epoch_loss = Vec::with_capacity(config.epochs as usize);
    for epoch in 0..config.epochs {
        let mut rng = SplitMix64::new(config.seed.wrapping_add(u64::from(epoch)));
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let (mut loss, mut total_weight) = (0.0f64, 0.0f64);
        let mut update = |i: usize, idx: &[u32], val: &[f32]| {
            let e = &examples[i];
            let weight = e.weight * class_weight(e.target);
            let p = state.step(idx, val, e.target, weight);
            let p = f64::from(p).clamp(1e-7, 1.0 - 1e-7);
            let y = f64::from(e.target);
            loss -= f64::from(weight) * (y * p.ln() + (1.0 - y) * (1.0 - p).ln());
            total_weight += f64::from(weight);
        };
        match &cache {
            Some(cache) => {
                for &i in &order {
                    let (idx, val) = cache.get(i);
                    update(i, idx, val);
                }
            }
            None => {
                for chunk in order.chunks(CHUNK) {
                    for (&i, (idx, val)) in chunk.iter().zip(&featurize(examples, chunk, &features))
                    {
                        update(i, idx, val);
                    }
                }
            }
        }
        epoch_loss.push(if total_weight > 0.0 {
            loss / total_weight
        } else {
            0.0
        });
    }
    let fold = Fold {
        bias: state.bias,
        weights: state.weights,
    };
    let report = TrainReport {
        examples: examples.len(),
        positives,
        epoch_loss,
        nonzero: fold.weights.iter().filter(|w| **w != 0.0).count(),
    };
    Ok((fold, report))
}

/// Most feature entries (bucket and value, 8 bytes each) kept in memory across epochs: 32
/// million, 256 MiB (100,000 demo-pool samples take about 40 million over two folds, 20 million
/// a fold). Beyond it, features are computed again each epoch.
const MAX_CACHED_ENTRIES: usize = 32 << 20;

/// The feature vectors of `examples[i]` for each `i` of `which`, computed in parallel.
fn featurize(
    examples: &[Example<'_>],
    which: &[usize],
    features: &FeatureConfig,
) -> Vec<(Vec<u32>, Vec<f32>)> {
    which
        .par_iter()
        .map_init(Featurizer::new, |f, &i| {
            let v = f.featurize(examples[i].text, features);
            (v.idx.to_vec(), v.val.to_vec())
        })
        .collect()
}

/// Every example's features, computed once (in parallel) for all epochs.
struct FeatureCache {
    offsets: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f32>,
}

impl FeatureCache {
    /// The cache, or `None` once it would pass [`MAX_CACHED_ENTRIES`].
    fn build(examples: &[Example<'_>], features: &FeatureConfig) -> Option<FeatureCache> {
        let mut cache = FeatureCache {
            offsets: vec![0],
            idx: Vec::new(),
            val: Vec::new(),
        };
        let all: Vec<usize> = (0..examples.len()).collect();
        for chunk in all.chunks(CHUNK) {
            for (idx, val) in featurize(examples, chunk, features) {
                if cache.idx.len() + idx.len() > MAX_CACHED_ENTRIES {
                    return None;
                }
                cache.idx.extend_from_slice(&idx);
                cache.val.extend_from_slice(&val);
                cache.offsets.push(cache.idx.len());
            }
        }
        Some(cache)
    }

    fn get(&self, i: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.offsets[i], self.offsets[i + 1]);
        (&self.idx[a..b], &self.val[a..b])
    }
}

/// Weights, bias and AdaGrad's sums of squared gradients.
struct Adagrad {
    weights: Vec<f32>,
    sums: Vec<f32>,
    bias: f32,
    bias_sum: f32,
    learning_rate: f32,
    l2: f32,
}

impl Adagrad {
    fn new(buckets: usize, config: &TrainConfig) -> Self {
        Adagrad {
            weights: vec![0.0; buckets],
            sums: vec![0.0; buckets],
            bias: 0.0,
            bias_sum: 0.0,
            learning_rate: config.learning_rate,
            l2: config.l2,
        }
    }

    /// One update on one example; returns the prediction before it.
    fn step(&mut self, idx: &[u32], val: &[f32], target: f32, weight: f32) -> f32 {
        let mut margin = self.bias;
        for (&i, &x) in idx.iter().zip(val) {
            margin += self.weights[i as usize] * x;
        }
        let p = sigmoid(margin);
        let residual = weight * (p - target);
        for (&i, &x) in idx.iter().zip(val) {
            let i = i as usize;
            let g = residual * x + self.l2 * self.weights[i];
            if g != 0.0 {
                self.sums[i] += g * g;
                self.weights[i] -= self.learning_rate * g / self.sums[i].sqrt();
            }
        }
        if residual != 0.0 {
            self.bias_sum += residual * residual;
            self.bias -= self.learning_rate * residual / self.bias_sum.sqrt();
        }
        p
    }
}
