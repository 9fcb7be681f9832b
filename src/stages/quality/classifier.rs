//! The `classifier` signal over the pool: `quality train` (a reference set against a uniform
//! sample of the pool and synthetic hard negatives, or a distillation of another signal) stores
//! one fingerprinted model in the store; `quality compute classifier` applies it through the
//! generic signal pass ([`super::compute_signal`]), so only samples without a value under the
//! current model's fingerprint are scored, and a retrained model rescores them all.
//!
//! Training reads everything it needs, trains in memory and writes the model in one store batch
//! at the end: a crash before that leaves the previous model (or none) in place, untouched.

use rayon::prelude::*;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::{SignalComputer, SignalValue};
use crate::algo::classifier::{
    self, distill, hard_negatives, train_reference, vocabulary_overlap, ClassifierError,
    ClassifierModel, FeatureConfig, Featurizer, Objective, TrainConfig, DEFAULT_FOLDS,
    DEFAULT_HARD_NEGATIVE_SHARE, DEFAULT_HELD_OUT_SHARE, LANGUAGE_OVERLAP_WARNING,
    MODEL_FORMAT_VERSION,
};
use crate::error::{Error, Result};
use crate::ingest::{read_texts, Input};
use crate::pool::ranks::{raw_column, RowColumns};
use crate::pool::Pool;
use crate::store::{ClassifierRecord, Signal, Store, CLASSIFIER_KEY};

/// Fewest reference samples (or samples with a value to distil) training accepts.
pub const MIN_TRAINING_SAMPLES: usize = 50;
/// Pool samples drawn as negatives unless told otherwise (at most): training on 100,000
/// samples takes under a minute on one core (`benches/classifier.rs`).
pub const DEFAULT_NEGATIVE_SAMPLES: usize = 100_000;
/// Texts per side the language check reads.
const LANGUAGE_SAMPLE: usize = 2000;

/// Reads the stored model, refusing one of a newer format or one whose bytes do not match its
/// fingerprint. `None` when no model was ever trained.
pub fn stored_model(store: &Store) -> Result<Option<(ClassifierRecord, ClassifierModel)>> {
    let Some(record) = store.meta::<ClassifierRecord>(CLASSIFIER_KEY)? else {
        return Ok(None);
    };
    if record.model_format > MODEL_FORMAT_VERSION {
        return Err(ClassifierError::NewerVersion {
            found: record.model_format,
            supported: MODEL_FORMAT_VERSION,
        }
        .into());
    }
    let model = ClassifierModel::from_bytes(&record.model)?;
    if fingerprint_of(&model) != record.fingerprint {
        return Err(ClassifierError::Damaged(format!(
            "the stored model's bytes do not hash to its fingerprint {}",
            record.fingerprint
        ))
        .into());
    }
    Ok(Some((record, model)))
}

fn fingerprint_of(model: &ClassifierModel) -> String {
    format!("{:016x}", model.fingerprint())
}

/// Applies the stored model: the computer of the `classifier` signal.
#[derive(Debug, Clone)]
pub struct ClassifierComputer {
    model: ClassifierModel,
    fingerprint: String,
    description: String,
}

impl ClassifierComputer {
    /// The computer of the store's current model; an error naming what to do when there is
    /// none, or it cannot be read.
    pub fn load(store: &Store) -> Result<ClassifierComputer> {
        let (record, model) = stored_model(store)?.ok_or_else(|| {
            Error::Invalid(
                "no classifier model in the store: train one with `samplemix quality train \
                 --reference FILE` (or `--distill lm`)"
                    .into(),
            )
        })?;
        Ok(ClassifierComputer {
            model,
            fingerprint: record.fingerprint,
            description: record.description,
        })
    }
}

impl SignalComputer for ClassifierComputer {
    fn signal(&self) -> Signal {
        Signal::Classifier
    }

    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn description(&self) -> String {
        format!("classifier {}: {}", self.fingerprint, self.description)
    }

    fn compute(&self, text: &str) -> SignalValue {
        SignalValue {
            raw: Some(self.model.score(text, &mut Featurizer::new())),
            features: Vec::new(),
        }
    }

    fn compute_batch(&self, texts: &[&str]) -> Result<Vec<SignalValue>> {
        Ok(texts
            .par_iter()
            .map_init(Featurizer::new, |f, t| SignalValue {
                raw: Some(self.model.score(t, f)),
                features: Vec::new(),
            })
            .collect())
    }
}

/// What `quality train` is asked to do.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// The reference set (positives).
    pub reference: Vec<Input>,
    /// Negatives given by the user; empty: a uniform sample of the pool plus hard negatives.
    pub negatives: Vec<Input>,
    /// Distil this signal's values instead of training on a reference set.
    pub distill: Option<Signal>,
    /// Seed of the sample, the hard negatives and the training order.
    pub seed: u64,
    /// Most pool samples drawn as negatives.
    pub negative_samples: usize,
    /// Hard negatives made per pool negative.
    pub hard_share: f64,
    /// Passes over the training samples.
    pub epochs: u32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            reference: Vec::new(),
            negatives: Vec::new(),
            distill: None,
            seed: 0,
            negative_samples: DEFAULT_NEGATIVE_SAMPLES,
            hard_share: DEFAULT_HARD_NEGATIVE_SHARE,
            epochs: TrainConfig::default().epochs,
        }
    }
}

/// What `quality train` did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrainOutcome {
    /// The new model's fingerprint (the signal's fingerprint from now on).
    pub fingerprint: String,
    /// The fingerprint of the model it replaced, if any.
    pub previous_fingerprint: Option<String>,
    /// `reference` or `distill:SIGNAL`.
    pub objective: String,
    /// What the model was trained on, in words (stored with it).
    pub description: String,
    /// Reference samples read (distillation: samples trained on).
    pub reference_samples: u64,
    /// Input lines left out, as `file:line: reason`.
    pub skipped_lines: Vec<String>,
    /// Reference samples that are exact duplicates of pool samples (left out of the negatives).
    pub reference_in_pool: u64,
    /// Negative samples (pool sample or given).
    pub negative_samples: u64,
    /// Synthetic hard negatives.
    pub hard_negatives: u64,
    /// Count-weighted share of the reference's frequent words among the pool's (the language
    /// check); `None` in distillation.
    pub vocabulary_overlap: Option<f64>,
    /// Mean training loss of each epoch.
    pub epoch_loss: Vec<f64>,
    /// Buckets with a non-zero weight.
    pub nonzero_weights: u64,
    /// Bytes of the stored model.
    pub model_bytes: u64,
    /// Distillation: samples held out of training.
    pub held_out: Option<u64>,
    /// Distillation: Spearman correlation with the signal on the held-out samples.
    pub held_out_spearman: Option<f64>,
    /// Problems that did not stop training, each naming what is wrong.
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

/// Trains a model as `opts` says and stores it (replacing the previous one) in one batch.
pub fn train_classifier(pool: &mut Pool, opts: &TrainOptions) -> Result<TrainOutcome> {
    let started = std::time::Instant::now();
    let store = pool.store();
    let previous = previous_fingerprint(store)?;
    let config = TrainConfig {
        epochs: opts.epochs,
        seed: opts.seed,
        ..TrainConfig::default()
    };
    let (model, mut outcome) = match opts.distill {
        Some(signal) => {
            if !opts.reference.is_empty() || !opts.negatives.is_empty() {
                return Err(Error::Invalid(
                    "--distill trains on the pool's own values of the signal: --reference and \
                     --negatives do not go with it"
                        .into(),
                ));
            }
            train_distilled(store, signal, &config)?
        }
        None => train_on_reference(store, opts, &config)?,
    };
    outcome.fingerprint = fingerprint_of(&model);
    outcome.previous_fingerprint = previous;
    let bytes = model.to_bytes();
    outcome.model_bytes = bytes.len() as u64;
    outcome.nonzero_weights = model.nonzero() as u64;
    let record = ClassifierRecord {
        model_format: MODEL_FORMAT_VERSION,
        fingerprint: outcome.fingerprint.clone(),
        objective: outcome.objective.clone(),
        description: outcome.description.clone(),
        reference_samples: outcome.reference_samples,
        negative_samples: outcome.negative_samples,
        hard_negatives: outcome.hard_negatives,
        seed: opts.seed,
        held_out_spearman: outcome.held_out_spearman,
        model: bytes,
    };
    let mut batch = store.batch();
    batch.put_meta(CLASSIFIER_KEY, &record);
    batch.commit()?;
    outcome.seconds = started.elapsed().as_secs_f64();
    Ok(outcome)
}

/// The fingerprint of the model in the store, refusing to replace one this build cannot read
/// because it is newer.
fn previous_fingerprint(store: &Store) -> Result<Option<String>> {
    let Some(record) = store.meta::<ClassifierRecord>(CLASSIFIER_KEY)? else {
        return Ok(None);
    };
    if record.model_format > MODEL_FORMAT_VERSION {
        return Err(Error::Invalid(format!(
            "the store holds a classifier model of format {}, newer than this samplemix \
             writes ({MODEL_FORMAT_VERSION}); training would replace it: upgrade samplemix",
            record.model_format
        )));
    }
    Ok(Some(record.fingerprint))
}

fn names(inputs: &[Input]) -> String {
    inputs
        .iter()
        .map(Input::display_name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn train_on_reference(
    store: &Store,
    opts: &TrainOptions,
    config: &TrainConfig,
) -> Result<(ClassifierModel, TrainOutcome)> {
    if opts.reference.is_empty() {
        return Err(Error::Invalid(
            "quality train needs a reference set (--reference FILE...) or --distill SIGNAL".into(),
        ));
    }
    let files = names(&opts.reference);
    let reference = read_texts(&opts.reference)?;
    let mut outcome = TrainOutcome {
        objective: "reference".into(),
        reference_samples: reference.texts.len() as u64,
        skipped_lines: reference.skipped.clone(),
        ..TrainOutcome::default()
    };
    if reference.texts.len() < MIN_TRAINING_SAMPLES {
        return Err(Error::Invalid(format!(
            "the reference set ({files}) has {} usable samples ({} lines skipped): at least \
             {MIN_TRAINING_SAMPLES} are needed to train a classifier",
            reference.texts.len(),
            reference.skipped.len()
        )));
    }
    let in_pool: Vec<u64> = store
        .seqs_of_hashes(&reference.hashes)?
        .into_iter()
        .flatten()
        .collect();
    outcome.reference_in_pool = in_pool.len() as u64;
    if in_pool.len() * 2 >= reference.texts.len() {
        outcome.warnings.push(format!(
            "{} of the {} reference samples ({files}) are exact duplicates of pool samples: \
             they are left out of the negatives, but a reference set drawn from the pool only \
             teaches the classifier to tell part of the pool from the rest",
            in_pool.len(),
            reference.texts.len()
        ));
    }
    let (negatives, from_pool) = if opts.negatives.is_empty() {
        (pool_sample(store, opts, &in_pool)?, true)
    } else {
        let given = read_texts(&opts.negatives)?;
        outcome.skipped_lines.extend(given.skipped);
        (given.texts, false)
    };
    if negatives.is_empty() {
        return Err(Error::Invalid(if from_pool {
            format!(
                "no negatives: the pool has no sample besides the reference set ({files}); \
                 append a pool first or give --negatives FILE"
            )
        } else {
            format!(
                "the negatives ({}) have no usable sample",
                names(&opts.negatives)
            )
        }));
    }
    let ref_texts: Vec<&str> = reference.texts.iter().map(String::as_str).collect();
    let neg_texts: Vec<&str> = negatives.iter().map(String::as_str).collect();
    let overlap = vocabulary_overlap(
        &ref_texts[..ref_texts.len().min(LANGUAGE_SAMPLE)],
        &neg_texts[..neg_texts.len().min(LANGUAGE_SAMPLE)],
    );
    outcome.vocabulary_overlap = overlap;
    if overlap.is_some_and(|o| o < LANGUAGE_OVERLAP_WARNING) {
        outcome.warnings.push(format!(
            "the reference set ({files}) looks like another language than the pool: only {:.0}% \
             of its {} most frequent words (by count) are among the pool's {} most frequent; \
             the classifier will mostly learn the language",
            100.0 * overlap.unwrap_or(0.0),
            classifier::REFERENCE_TOP,
            classifier::POOL_TOP
        ));
    }
    let hard = if from_pool {
        let count = (neg_texts.len() as f64 * opts.hard_share.max(0.0)).round() as usize;
        hard_negatives(&neg_texts, count, opts.seed)
    } else {
        Vec::new()
    };
    outcome.negative_samples = neg_texts.len() as u64;
    outcome.hard_negatives = hard.len() as u64;
    // Cross-fitting when the negatives are the pool's own samples (see ClassifierModel).
    let folds = if from_pool { DEFAULT_FOLDS } else { 1 };
    let (model, report) = train_reference(
        &ref_texts,
        &neg_texts,
        &hard,
        folds,
        FeatureConfig::default(),
        config,
    )?;
    outcome.epoch_loss = report.epoch_loss;
    outcome.description = format!(
        "reference {} samples of {files}; negatives {} {} + {} hard; {} fold(s); seed {}, {} \
         epochs, 2^{} buckets",
        ref_texts.len(),
        neg_texts.len(),
        if from_pool {
            "pool samples"
        } else {
            "given samples"
        },
        hard.len(),
        model.folds(),
        opts.seed,
        config.epochs,
        model.config().bits
    );
    Ok((model, outcome))
}

/// A uniform sample of at most `opts.negative_samples` pool samples (the smallest seeded hashes
/// of their text keys), without the samples in `exclude`; their texts in text-key order, so that
/// the sample and the training do not depend on the order the pool was appended in.
fn pool_sample(store: &Store, opts: &TrainOptions, exclude: &[u64]) -> Result<Vec<String>> {
    let exclude: std::collections::HashSet<u64> = exclude.iter().copied().collect();
    let mut keyed: Vec<(u64, u128, u64)> = store
        .text_keys()?
        .into_iter()
        .filter(|(_, seq)| !exclude.contains(seq))
        .map(|(key, seq)| (xxh3_64_with_seed(&key.to_le_bytes(), opts.seed), key, seq))
        .collect();
    keyed.sort_unstable();
    keyed.truncate(opts.negative_samples);
    keyed.sort_unstable_by_key(|k| k.1);
    let seqs: Vec<u64> = keyed.into_iter().map(|k| k.2).collect();
    read_docs(store, &seqs)
}

fn read_docs(store: &Store, seqs: &[u64]) -> Result<Vec<String>> {
    let mut texts = Vec::with_capacity(seqs.len());
    for chunk in seqs.chunks(4096) {
        texts.extend(store.docs(chunk)?.into_iter().flatten().map(|d| d.text));
    }
    Ok(texts)
}

fn train_distilled(
    store: &Store,
    signal: Signal,
    config: &TrainConfig,
) -> Result<(ClassifierModel, TrainOutcome)> {
    if signal == Signal::Classifier {
        return Err(Error::Invalid(
            "--distill classifier: the classifier cannot be distilled from itself; use lm or \
             repetition"
                .into(),
        ));
    }
    let cols = RowColumns::read(store)?;
    let raw = raw_column(store, signal, &cols)?;
    // In text-key order, so that the held-out split and the training order do not depend on
    // the order the pool was appended in.
    let value_of: std::collections::HashMap<u64, f64> = cols
        .seqs
        .iter()
        .zip(&raw)
        .filter_map(|(&seq, v)| {
            let v = f64::from((*v)?);
            Some((seq, if signal.higher_is_better() { v } else { -v }))
        })
        .collect();
    let (seqs, values): (Vec<u64>, Vec<f64>) = store
        .seqs_by_text_hash()?
        .into_iter()
        .filter_map(|seq| value_of.get(&seq).map(|&v| (seq, v)))
        .unzip();
    if seqs.len() < MIN_TRAINING_SAMPLES {
        return Err(Error::Invalid(format!(
            "--distill {signal}: {} samples have a value of {signal} under its current \
             fingerprint; at least {MIN_TRAINING_SAMPLES} are needed (run `samplemix {}` first)",
            seqs.len(),
            if signal == Signal::Lm {
                "score".to_string()
            } else {
                format!("quality compute {signal}")
            }
        )));
    }
    let texts = read_docs(store, &seqs)?;
    if texts.len() != values.len() {
        return Err(Error::Invalid(format!(
            "--distill {signal}: {} samples with a value but {} texts in the store",
            values.len(),
            texts.len()
        )));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (model, report) = distill(
        &refs,
        &values,
        FeatureConfig::default(),
        config,
        DEFAULT_HELD_OUT_SHARE,
    )?;
    debug_assert_eq!(model.objective(), Objective::Distilled);
    let outcome = TrainOutcome {
        objective: format!("distill:{signal}"),
        description: format!(
            "distilled from {signal}: {} samples trained, {} held out, held-out Spearman {}; \
             seed {}, {} epochs",
            report.trained,
            report.held_out,
            report
                .spearman
                .map_or_else(|| "undefined".to_string(), |r| format!("{r:.3}")),
            config.seed,
            config.epochs
        ),
        reference_samples: report.trained as u64,
        held_out: Some(report.held_out as u64),
        held_out_spearman: report.spearman,
        epoch_loss: report.train.epoch_loss,
        ..TrainOutcome::default()
    };
    Ok((model, outcome))
}
