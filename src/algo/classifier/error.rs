//! The one error type of the classifier module.

use thiserror::Error;

/// What can go wrong when training, reading or applying a classifier. Every variant says what
/// is wrong and, where the user can act, what to do.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ClassifierError {
    /// Nothing to train on.
    #[error("no training samples: give a reference set (and negatives) with text in it")]
    NoExamples,
    /// A classifier needs both classes.
    #[error(
        "training needs reference (positive) and negative samples: got {positives} positive and \
         {negatives} negative; give a reference set and a pool or negatives that are not empty"
    )]
    OneClass {
        /// Samples with target 1.
        positives: usize,
        /// Samples with target 0.
        negatives: usize,
    },
    /// A training target or weight outside what training accepts.
    #[error("training sample {index}: {what} {value} is not in {range}")]
    BadExample {
        /// Position of the sample.
        index: usize,
        /// `target` or `weight`.
        what: &'static str,
        /// The value given.
        value: f64,
        /// The accepted range.
        range: &'static str,
    },
    /// Distillation needs one value per text, and enough of them to hold some out.
    #[error("distillation: {0}")]
    Distill(String),
    /// A setting outside its range.
    #[error("classifier setting {name} = {value} is out of range: {range}")]
    BadSetting {
        /// The setting.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// What is accepted.
        range: &'static str,
    },
    /// Model bytes that do not start with the classifier's magic.
    #[error("not a samplemix classifier model (wrong magic bytes)")]
    BadMagic,
    /// A model written by a newer samplemix.
    #[error(
        "classifier model format {found} is newer than this samplemix reads (up to {supported}): \
         upgrade samplemix, or retrain with `samplemix quality train`"
    )]
    NewerVersion {
        /// The version in the bytes.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// A model of an older format, whose features this build no longer computes.
    #[error(
        "classifier model format {found} is older than this samplemix computes features for \
         ({supported}): retrain with `samplemix quality train`"
    )]
    OlderVersion {
        /// The version in the bytes.
        found: u16,
        /// The only version this build reads.
        supported: u16,
    },
    /// Model bytes that end early or contradict themselves.
    #[error("damaged classifier model: {0}; retrain with `samplemix quality train`")]
    Damaged(String),
}

/// Result type of the classifier module.
pub type Result<T, E = ClassifierError> = std::result::Result<T, E>;
