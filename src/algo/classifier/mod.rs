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
pub use model::{
    check_config, fold_of, sigmoid, ClassifierModel, Fold, Objective, MAX_FOLDS,
    MODEL_FORMAT_VERSION,
};
pub use negatives::{hard_negative, hard_negatives, shuffle_words, HardNegative, HardNegativeKind};
use train::fit;
pub use train::{train, Example, TrainConfig, TrainReport};

/// Hard negatives made per pool negative, unless told otherwise.
pub const DEFAULT_HARD_NEGATIVE_SHARE: f64 = 1.0;

/// Folds of a reference classifier unless told otherwise (cross-fitting, see [`ClassifierModel`]).
pub const DEFAULT_FOLDS: usize = 2;

/// Trains a reference classifier with `folds` folds (1 or 2): `reference` texts are positives
/// (target 1) of every fold; `negatives` and the `hard` negatives made from them (by
/// [`hard_negatives`] over `negatives`) are negatives (target 0) of the folds other than their
/// own ([`fold_of`] of the negative, or of the text a hard negative was made from), so that no
/// negative is scored by weights that saw it. Every example weighs 1 and the classes are
/// balanced by [`TrainConfig::balance`]. The report sums the folds' examples and averages their
/// losses.
pub fn train_reference(
    reference: &[&str],
    negatives: &[&str],
    hard: &[HardNegative],
    folds: usize,
    features: FeatureConfig,
    config: &TrainConfig,
) -> Result<(ClassifierModel, TrainReport)> {
    if !(1..=MAX_FOLDS).contains(&folds) {
        return Err(ClassifierError::BadSetting {
            name: "folds",
            value: folds.to_string(),
            range: "1 or 2",
        });
    }
    let negative_fold: Vec<usize> = negatives.iter().map(|t| fold_of(t, folds)).collect();
    let mut parts = Vec::with_capacity(folds);
    let mut report: Option<TrainReport> = None;
    for k in 0..folds {
        let keep = |fold: usize| folds == 1 || fold != k;
        let example = |text, target| Example {
            text,
            target,
            weight: 1.0,
        };
        let examples: Vec<Example<'_>> = reference
            .iter()
            .map(|t| example(*t, 1.0))
            .chain(
                negatives
                    .iter()
                    .zip(&negative_fold)
                    .filter(|(_, f)| keep(**f))
                    .map(|(t, _)| example(*t, 0.0)),
            )
            .chain(
                hard.iter()
                    .filter(|h| negative_fold.get(h.source).is_some_and(|f| keep(*f)))
                    .map(|h| example(h.text.as_str(), 0.0)),
            )
            .collect();
        let (fold, r) = fit(&examples, features, Objective::Reference, config)?;
        parts.push(fold);
        report = Some(match report {
            None => r,
            Some(mut acc) => {
                acc.examples += r.examples;
                acc.positives += r.positives;
                for (a, b) in acc.epoch_loss.iter_mut().zip(&r.epoch_loss) {
                    *a = (*a + b) / 2.0;
                }
                acc
            }
        });
    }
    let model = ClassifierModel::from_parts(features, Objective::Reference, parts);
    let mut report = report.ok_or(ClassifierError::NoExamples)?;
    report.nonzero = model.nonzero();
    Ok((model, report))
}
