//! A trained classifier: its feature configuration and one or more folds, each a bias and one
//! `f32` weight per bucket; its bytes and its fingerprint.
//!
//! **Score.** `score(x) = bias_k + Σ w_k[i] x[i]` over the sparse features of the text, with
//! `k = `[`fold_of`]`(x)`: the logit of "x looks like the reference set" (or, for a distilled
//! model, of the predicted rank of the other signal). Higher is better. [`sigmoid`] turns it
//! into a probability; ranks do not need it.
//!
//! **Folds (cross-fitting).** A reference classifier is applied to the very pool whose samples
//! were its negatives. A model that saw a sample as a negative scores it lower than it would an
//! unseen one of the same kind (it memorises), so its ranks of the pool would be ranks of
//! "trained on or not". With two folds, fold `k`'s weights were trained on the negatives of the
//! other fold only, and a text is always scored by the fold of its own hash: no pool sample is
//! scored by weights that saw it. The fold is a function of the text, so a new sample gets the
//! same score as if it had been there at training time.
//!
//! **Bytes (format 1, little-endian).** `SMCL` (4 bytes), format version (u16), bits (u8),
//! flags (u8: bit 0 shape indicators), objective (u8: 1 reference, 2 distilled), max words
//! (u32), hash seed (u64), folds (u8, 1 or 2), then per fold: bias (f32), the number of non-zero
//! weights (u32) and that many `(bucket u32, weight f32)` pairs in ascending bucket order; nothing
//! after. The encoding is canonical (one byte string per model), so the fingerprint, xxh3-64 of
//! the bytes, is a hash of the configuration and the weights. The format version also stands for
//! the feature code (`features.rs`): a change that changes any score bumps it. A newer format
//! version is refused with [`ClassifierError::NewerVersion`], an older one with
//! [`ClassifierError::OlderVersion`] (its features are no longer computed): never guessed at.

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::error::{ClassifierError, Result};
use super::features::{
    FeatureConfig, Features, Featurizer, MAX_CLASSIFIER_BITS, MIN_CLASSIFIER_BITS,
};

/// The newest model format this build writes and reads.
pub const MODEL_FORMAT_VERSION: u16 = 1;
const MAGIC: [u8; 4] = *b"SMCL";
const HEADER_LEN: usize = 4 + 2 + 1 + 1 + 1 + 4 + 8 + 1;
/// Most folds a model has.
pub const MAX_FOLDS: usize = 2;
/// Seed of the hash that chooses a text's fold.
const FOLD_SEED: u64 = 0x464F_4C44_5345_4544; // "FOLDSEED"

/// The fold of `text` among `folds` (0 when `folds` is 1): a hash of its bytes.
pub fn fold_of(text: &str, folds: usize) -> usize {
    if folds <= 1 {
        0
    } else {
        (xxh3_64_with_seed(text.as_bytes(), FOLD_SEED) % folds as u64) as usize
    }
}

/// One fold's bias and weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// The bias.
    pub bias: f32,
    /// One weight per bucket.
    pub weights: Vec<f32>,
}

/// What a model was trained to predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Reference set (1) against negatives (0): logistic regression.
    Reference,
    /// Another signal's rank in `[0, 1]`: logistic regression on soft targets (distillation).
    Distilled,
}

impl Objective {
    fn code(self) -> u8 {
        match self {
            Objective::Reference => 1,
            Objective::Distilled => 2,
        }
    }

    fn from_code(code: u8) -> Result<Self> {
        match code {
            1 => Ok(Objective::Reference),
            2 => Ok(Objective::Distilled),
            other => Err(ClassifierError::Damaged(format!(
                "unknown objective {other}"
            ))),
        }
    }
}

/// A trained hashed n-gram linear classifier (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierModel {
    config: FeatureConfig,
    objective: Objective,
    folds: Vec<Fold>,
}

/// The logistic function.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Checks a feature configuration: bits in 20..=22, at least one word.
pub fn check_config(config: &FeatureConfig) -> Result<()> {
    if !(MIN_CLASSIFIER_BITS..=MAX_CLASSIFIER_BITS).contains(&config.bits) {
        return Err(ClassifierError::BadSetting {
            name: "bits",
            value: config.bits.to_string(),
            range: "20 to 22",
        });
    }
    if config.max_words == 0 {
        return Err(ClassifierError::BadSetting {
            name: "max_words",
            value: "0".into(),
            range: "at least 1",
        });
    }
    Ok(())
}

impl ClassifierModel {
    /// A model from its parts: 1 to [`MAX_FOLDS`] folds, each with one weight per bucket of
    /// `config`.
    pub(crate) fn from_parts(
        config: FeatureConfig,
        objective: Objective,
        folds: Vec<Fold>,
    ) -> Self {
        debug_assert!((1..=MAX_FOLDS).contains(&folds.len()));
        debug_assert!(folds.iter().all(|f| f.weights.len() == config.buckets()));
        ClassifierModel {
            config,
            objective,
            folds,
        }
    }

    /// The feature configuration the model was trained with.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// What the model predicts.
    pub fn objective(&self) -> Objective {
        self.objective
    }

    /// Number of folds (1, or 2 for a cross-fitted reference classifier).
    pub fn folds(&self) -> usize {
        self.folds.len()
    }

    /// The score of a feature vector under fold `fold` (taken modulo the folds).
    pub fn margin(&self, fold: usize, features: Features<'_>) -> f32 {
        let f = &self.folds[fold % self.folds.len()];
        let mut sum = f.bias;
        for (&i, &x) in features.idx.iter().zip(features.val) {
            sum += f.weights[i as usize] * x;
        }
        sum
    }

    /// The score of a text (higher: more like the reference set), under the fold of the text;
    /// `featurizer` is scratch.
    pub fn score(&self, text: &str, featurizer: &mut Featurizer) -> f32 {
        let fold = fold_of(text, self.folds.len());
        let features = featurizer.featurize(text, &self.config);
        self.margin(fold, features)
    }

    /// The scores of many texts, in parallel (rayon), in their order.
    pub fn score_texts(&self, texts: &[&str]) -> Vec<f32> {
        texts
            .par_iter()
            .map_init(Featurizer::new, |f, t| self.score(t, f))
            .collect()
    }

    /// Non-zero weights, over all folds.
    pub fn nonzero(&self) -> usize {
        self.folds
            .iter()
            .map(|f| f.weights.iter().filter(|w| **w != 0.0).count())
            .sum()
    }

    /// Bytes the model holds in memory while scoring (its dense weights, all folds).
    pub fn memory_bytes(&self) -> usize {
        self.folds.len() * self.config.buckets() * std::mem::size_of::<f32>()
    }

    /// The model's canonical bytes (see the module doc).
    pub fn to_bytes(&self) -> Vec<u8> {
        let nonzero = self.nonzero();
        let mut out = Vec::with_capacity(HEADER_LEN + nonzero * 8);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&MODEL_FORMAT_VERSION.to_le_bytes());
        out.push(self.config.bits);
        out.push(u8::from(self.config.shape));
        out.push(self.objective.code());
        out.extend_from_slice(&self.config.max_words.to_le_bytes());
        out.extend_from_slice(&self.config.seed.to_le_bytes());
        out.push(self.folds.len() as u8);
        for fold in &self.folds {
            let nonzero = fold.weights.iter().filter(|w| **w != 0.0).count();
            out.extend_from_slice(&fold.bias.to_le_bytes());
            out.extend_from_slice(&(nonzero as u32).to_le_bytes());
            for (i, &w) in fold.weights.iter().enumerate() {
                if w != 0.0 {
                    out.extend_from_slice(&(i as u32).to_le_bytes());
                    out.extend_from_slice(&w.to_le_bytes());
                }
            }
        }
        out
    }

    /// xxh3-64 of [`to_bytes`](Self::to_bytes): changes with any weight or setting.
    pub fn fingerprint(&self) -> u64 {
        xxh3_64(&self.to_bytes())
    }

    /// Reads a model from its bytes, refusing a newer format, damage and trailing bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let damaged = |what: &str| ClassifierError::Damaged(what.to_owned());
        if bytes.len() < 6 || bytes[..4] != MAGIC {
            return Err(if bytes.len() >= 4 && bytes[..4] != MAGIC {
                ClassifierError::BadMagic
            } else {
                damaged("shorter than its header")
            });
        }
        let mut r = Reader { bytes, at: 4 };
        let version = u16::from_le_bytes(r.array()?);
        if version > MODEL_FORMAT_VERSION {
            return Err(ClassifierError::NewerVersion {
                found: version,
                supported: MODEL_FORMAT_VERSION,
            });
        }
        if version == 0 {
            return Err(damaged("format version 0"));
        }
        if version < MODEL_FORMAT_VERSION {
            // The format version also stands for the feature code: an older model's scores
            // cannot be reproduced.
            return Err(ClassifierError::OlderVersion {
                found: version,
                supported: MODEL_FORMAT_VERSION,
            });
        }
        let [bits, flags, objective] = r.array()?;
        if flags > 1 {
            return Err(damaged("unknown flags"));
        }
        let config = FeatureConfig {
            bits,
            shape: flags == 1,
            max_words: u32::from_le_bytes(r.array()?),
            seed: u64::from_le_bytes(r.array()?),
        };
        check_config(&config).map_err(|e| ClassifierError::Damaged(e.to_string()))?;
        let objective = Objective::from_code(objective)?;
        let [n_folds] = r.array()?;
        if !(1..=MAX_FOLDS).contains(&(n_folds as usize)) {
            return Err(damaged("fold count is not 1 or 2"));
        }
        let folds = (0..n_folds)
            .map(|_| read_fold(&mut r, config.buckets()))
            .collect::<Result<Vec<Fold>>>()?;
        if r.left() != 0 {
            return Err(damaged("bytes after the last fold"));
        }
        Ok(ClassifierModel::from_parts(config, objective, folds))
    }
}

fn read_fold(r: &mut Reader<'_>, buckets: usize) -> Result<Fold> {
    let damaged = |what: &str| ClassifierError::Damaged(what.to_owned());
    let bias = f32::from_le_bytes(r.array()?);
    let n = u32::from_le_bytes(r.array()?) as usize;
    if !bias.is_finite() || n > buckets || r.left() < n * 8 {
        return Err(damaged("weight count does not match its length"));
    }
    let mut weights = vec![0.0f32; buckets];
    let mut previous: Option<u32> = None;
    for _ in 0..n {
        let i = u32::from_le_bytes(r.array()?);
        let w = f32::from_le_bytes(r.array()?);
        if previous.is_some_and(|p| p >= i) || i as usize >= buckets {
            return Err(damaged("buckets out of order or out of range"));
        }
        if !w.is_finite() || w == 0.0 {
            return Err(damaged("a weight is zero or not finite"));
        }
        weights[i as usize] = w;
        previous = Some(i);
    }
    Ok(Fold { bias, weights })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.at + N;
        let slice = self
            .bytes
            .get(self.at..end)
            .ok_or_else(|| ClassifierError::Damaged("ends early".into()))?;
        self.at = end;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small_model() -> ClassifierModel {
        let config = FeatureConfig {
            bits: 20,
            ..FeatureConfig::default()
        };
        let mut weights = vec![0.0; config.buckets()];
        weights[3] = 0.5;
        weights[1_000_000] = -1.25;
        let mut other = vec![0.0; config.buckets()];
        other[7] = 2.0;
        ClassifierModel::from_parts(
            config,
            Objective::Reference,
            vec![
                Fold {
                    bias: 0.25,
                    weights,
                },
                Fold {
                    bias: -0.5,
                    weights: other,
                },
            ],
        )
    }

    #[test]
    fn bytes_round_trip_and_fingerprint_follows_weights() {
        let model = small_model();
        let bytes = model.to_bytes();
        assert_eq!(bytes.len(), HEADER_LEN + (8 + 2 * 8) + (8 + 8));
        let back = ClassifierModel::from_bytes(&bytes).expect("reads back");
        assert_eq!(back, model);
        assert_eq!(back.fingerprint(), model.fingerprint());
        let mut other = model.clone();
        other.folds[0].weights[3] = 0.5001;
        assert_ne!(other.fingerprint(), model.fingerprint());
        let mut shape_off = model.clone();
        shape_off.config.shape = false;
        assert_ne!(shape_off.fingerprint(), model.fingerprint());
    }

    #[test]
    fn newer_damaged_and_foreign_bytes_are_refused() {
        let bytes = small_model().to_bytes();
        let mut newer = bytes.clone();
        newer[4..6].copy_from_slice(&2u16.to_le_bytes());
        assert_eq!(
            ClassifierModel::from_bytes(&newer),
            Err(ClassifierError::NewerVersion {
                found: 2,
                supported: 1
            })
        );
        let message = ClassifierModel::from_bytes(&newer).unwrap_err().to_string();
        assert!(message.contains("newer"), "{message}");
        for cut in [0, 3, 10, HEADER_LEN, HEADER_LEN + 20, bytes.len() - 1] {
            assert!(matches!(
                ClassifierModel::from_bytes(&bytes[..cut]),
                Err(ClassifierError::Damaged(_))
            ));
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(ClassifierModel::from_bytes(&trailing).is_err());
        assert_eq!(
            ClassifierModel::from_bytes(b"PK\x03\x04 not a model"),
            Err(ClassifierError::BadMagic)
        );
        let mut bad_bits = bytes.clone();
        bad_bits[6] = 30;
        assert!(matches!(
            ClassifierModel::from_bytes(&bad_bits),
            Err(ClassifierError::Damaged(_))
        ));
        let mut unordered = bytes;
        let (a, b) = (HEADER_LEN + 8, HEADER_LEN + 16);
        let first: Vec<u8> = unordered[a..a + 8].to_vec();
        let second: Vec<u8> = unordered[b..b + 8].to_vec();
        unordered[a..a + 8].copy_from_slice(&second);
        unordered[b..b + 8].copy_from_slice(&first);
        assert!(ClassifierModel::from_bytes(&unordered).is_err());
    }
}
