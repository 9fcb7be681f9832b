//! The `repetition` signal's computer: [`crate::algo::repetition`] over each text.

use super::{SignalComputer, SignalValue};
use crate::algo::repetition::{self, FEATURE_NAMES, REPETITION_VERSION, RULES};
use crate::store::Signal;

/// Computes the repetition features and score of texts. Model-free and stateless: a text's
/// value depends on nothing but the text and [`REPETITION_VERSION`].
#[derive(Clone, Debug)]
pub struct RepetitionComputer {
    fingerprint: String,
}

impl Default for RepetitionComputer {
    fn default() -> Self {
        Self::new()
    }
}

impl RepetitionComputer {
    /// The computer of this build.
    pub fn new() -> RepetitionComputer {
        let what =
            format!("samplemix repetition v{REPETITION_VERSION} {FEATURE_NAMES:?} {RULES:?}");
        RepetitionComputer {
            fingerprint: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(what.as_bytes())),
        }
    }
}

impl SignalComputer for RepetitionComputer {
    fn signal(&self) -> Signal {
        Signal::Repetition
    }

    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn description(&self) -> String {
        format!(
            "repetition v{REPETITION_VERSION}: {} features, soft pass score of {} rules \
             (fingerprint {})",
            FEATURE_NAMES.len(),
            RULES.len(),
            self.fingerprint
        )
    }

    fn compute(&self, text: &str) -> SignalValue {
        match repetition::measure(text) {
            Some((score, features)) => SignalValue {
                raw: Some(score),
                features,
            },
            None => SignalValue::default(),
        }
    }
}
