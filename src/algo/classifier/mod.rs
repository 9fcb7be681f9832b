//! The `classifier` quality signal: a hashed word 1- and 2-gram linear classifier, trained to
//! tell a reference set from the pool (after DCLM's fastText filter and the GPT-3 quality
//! classifier), or distilled from another signal.
//!
//! - [`features`](FeatureConfig): tokenisation, hashing into 2^21 buckets (20 to 22 bits),
//!   sublinear term frequencies under unit L2 norm, five binned shape indicators.
//! - [`train`]: logistic regression with AdaGrad and L2, in a seeded order: the same examples,
//!   settings and seed give the same model bytes.
//! - [`ClassifierModel`]: score (a logit, higher = more like the reference), canonical bytes
//!   with a format version, fingerprint (xxh3 of the bytes: configuration and weights).
//! - [`hard_negatives`]: pool samples damaged like web junk (keyword stuffing, repeated lines,
//!   shuffled words).
//! - [`distill`]: regression onto another signal's ranks, measured by Spearman's correlation on
//!   held-out samples.
//! - [`vocabulary_overlap`]: a cheap check that a reference set is in the pool's language.
//!
//! The method, the defaults and their measurements are in `docs/method.md` ("The classifier
//! signal") and `benches/classifier.rs`.

mod distill;
mod error;
mod features;
mod language;
mod model;
mod negatives;
mod train;

#[cfg(test)]
mod tests;

pub use distill::{distill, is_held_out, DistillReport, DEFAULT_HELD_OUT_SHARE};
pub use error::{ClassifierError, Result};
pub use features::{
    FeatureConfig, Features, Featurizer, DEFAULT_CLASSIFIER_BITS, DEFAULT_FEATURE_SEED,
    DEFAULT_MAX_WORDS, MAX_CLASSIFIER_BITS, MIN_CLASSIFIER_BITS,
};
pub use language::{vocabulary_overlap, LANGUAGE_OVERLAP_WARNING, POOL_TOP, REFERENCE_TOP};
pub use model::{check_config, sigmoid, ClassifierModel, Objective, MODEL_FORMAT_VERSION};
pub use negatives::{hard_negative, hard_negatives, shuffle_words, HardNegativeKind};
pub use train::{train, Example, TrainConfig, TrainReport};

/// Hard negatives made per pool negative, unless told otherwise.
pub const DEFAULT_HARD_NEGATIVE_SHARE: f64 = 1.0;

/// Trains a reference classifier: `reference` texts are positives (target 1); `negatives` and
/// the `hard` negatives (from [`hard_negatives`]) are negatives (target 0); every example
/// weighs 1 and the classes are balanced by [`TrainConfig::balance`].
pub fn train_reference(
    reference: &[&str],
    negatives: &[&str],
    hard: &[(HardNegativeKind, String)],
    features: FeatureConfig,
    config: &TrainConfig,
) -> Result<(ClassifierModel, TrainReport)> {
    let example = |text, target| Example {
        text,
        target,
        weight: 1.0,
    };
    let examples: Vec<Example<'_>> = reference
        .iter()
        .map(|t| example(*t, 1.0))
        .chain(negatives.iter().map(|t| example(*t, 0.0)))
        .chain(hard.iter().map(|(_, t)| example(t.as_str(), 0.0)))
        .collect();
    train(&examples, features, Objective::Reference, config)
}
