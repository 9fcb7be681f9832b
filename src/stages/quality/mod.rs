//! Named quality signals besides `lm`: the [`SignalComputer`] interface, the incremental pass
//! that computes a signal for every sample lacking it under the computer's current fingerprint
//! ([`pending`], [`compute_signal`]), and the computers that exist ([`RepetitionComputer`],
//! [`ClassifierComputer`] over the model [`train_classifier`] stores).
//!
//! Values are stored raw (table `signals`, [`crate::store::SignalRecord`]); q is a rank read
//! at query time from the quantiles the pass stores at its end ([`crate::pool::ranks`]).
//!
//! Invariants:
//! - A sample's value does not depend on the other samples of its batch.
//! - [`SignalComputer::fingerprint`] changes whenever a setting or version that changes
//!   results changes; a value under another fingerprint counts as missing.
//! - Each batch's values and the signal's [`crate::store::SignalState`] are written in one
//!   atomic store batch: a crash loses at most the batch in flight.

mod classifier;
mod pass;
mod repetition;
mod run;

pub use classifier::{
    stored_model, train_classifier, ClassifierComputer, TrainOptions, TrainOutcome,
    DEFAULT_NEGATIVE_SAMPLES, MIN_TRAINING_SAMPLES,
};
pub use pass::{
    compute_signal, pending, SignalObserver, SignalOptions, SignalPending, SignalReport,
};
pub use repetition::RepetitionComputer;
pub use run::{computable_signal, compute_named, computer, SignalOutcome};

use rayon::prelude::*;

use crate::error::Result;
use crate::store::Signal;

/// One sample's value of a signal, as a computer returns it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SignalValue {
    /// The raw score (oriented as [`Signal::higher_is_better`] says); `None` when the signal
    /// does not apply to the text.
    pub raw: Option<f32>,
    /// The raw features the score was derived from (empty if the signal has none).
    pub features: Vec<f32>,
}

/// Computes one named signal from a sample's text.
pub trait SignalComputer: Sync {
    /// The signal it computes (never [`Signal::Lm`], which `samplemix score` computes).
    fn signal(&self) -> Signal;
    /// What identifies its results: version and every setting that changes a value.
    fn fingerprint(&self) -> &str;
    /// Human-readable description (stored in the signal's state, shown by `stats`).
    fn description(&self) -> String;
    /// The value of one text.
    fn compute(&self, text: &str) -> SignalValue;
    /// The values of a batch of texts, in order (by default [`SignalComputer::compute`] on
    /// every text, in parallel).
    fn compute_batch(&self, texts: &[&str]) -> Result<Vec<SignalValue>> {
        Ok(texts.par_iter().map(|t| self.compute(t)).collect())
    }
}
