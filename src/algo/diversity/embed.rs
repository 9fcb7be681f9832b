//! Embeddings without a model: hashed token counts under a sparse random projection.
//!
//! **Features.** The tokens of a text are its lowercased words and its punctuation characters
//! ([`for_each_token`]). Each token is hashed with xxh3 (a unigram's
//! feature hash is its token hash); with bigrams on, a bigram's feature hash is xxh3 of the two
//! token hashes (16 bytes). The top `feature_bits` bits (default 20, about a million features)
//! give the feature index (the hashing trick: rare collisions add a little noise). A feature's
//! value is the sublinear term frequency `1 + ln(tf)`.
//!
//! **Projection.** The sparse vector is projected to `dim` dimensions with the sparse random
//! matrix of Achlioptas (2003): each entry is `+1` or `-1` with probability 1/6 each (here
//! 43/256, from one byte of a hash) and `0` with probability 2/3. The matrix is never stored: the
//! column of feature `f` is generated from `mix64(seed XOR f)`, eight entries per 64-bit hash,
//! so the projection is deterministic for a seed and costs `dim` table look-ups per feature. The
//! zero-mean entries preserve inner products in expectation (Johnson-Lindenstrauss); the
//! `sqrt(3)` scale is dropped because the result is L2-normalised. A text without tokens embeds
//! to the zero vector. Being a pure function of the text, the embedding need not be stored: it
//! can be recomputed when topics are refitted.
//!
//! **Defaults, measured.** On `tests/fixtures/demo-mini.jsonl` (302 samples, 8 sources), k-means
//! with k = 8 recovers the sources with this mean NMI (9 runs: 3 projection seeds x 3 k-means
//! seeds; no idf; unigrams with punctuation unless said; the ignored test
//! `measure_embedding_options` reproduces it):
//!
//! | dim | 64 | 128 | 256 | 512 | unprojected (2^16 features) |
//! |---|---|---|---|---|---|
//! | unigrams | 0.40 | 0.49 | **0.55** | 0.54 | 0.59 |
//! | unigrams + bigrams | 0.26 | 0.36 | 0.42 | 0.47 | 0.56 |
//!
//! Without punctuation tokens the unprojected ceiling is 0.49, and idf weights lower it (0.59 to
//! 0.49): what separates sources is mostly form (function words, punctuation), which idf
//! discounts. Hence the defaults: 256 dimensions (projection noise below the clustering's own
//! error; 64 loses a third of the NMI), unigrams with punctuation, bigrams off, idf optional. At
//! this sample length (median 110 words) almost every bigram is unique to its document, so
//! bigrams add projection noise and no shared signal; they remain an option for longer texts.
//!
//! **Idf.** The tests keep an idf weighting (`Idf`: `ln((1 + N) / (1 + df)) + 1`, smoothed idf
//! over `N` documents) to measure it; since it lowers the NMI (above), embeddings use none.
//!
//! Clustering does not depend on this embedding: [`fit`](super::fit) takes any row-major `&[f32]`
//! of dimension `D`, such as mean-pooled hidden states of the scoring model.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::error::{DiversityError, Result};
use super::rng::mix64;
use super::text::{for_each_token, for_each_word};

/// Embedding dimension unless told otherwise.
pub const DEFAULT_EMBED_DIM: usize = 256;
/// Bits of the hashed feature space unless told otherwise.
pub const DEFAULT_FEATURE_BITS: u32 = 20;
/// Projection seed unless told otherwise.
pub const DEFAULT_EMBED_SEED: u64 = 0x5345_4D42_4544_3031; // "SEMBED01"

/// Byte -> Achlioptas entry: +1 for bytes below 43, -1 for 43..86, 0 otherwise.
const SIGN_TABLE: [f32; 256] = {
    let mut t = [0.0f32; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if i < 43 {
            1.0
        } else if i < 86 {
            -1.0
        } else {
            0.0
        };
        i += 1;
    }
    t
};

/// Hashed token features projected to `dim` dimensions (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashedEmbedder {
    dim: usize,
    feature_bits: u32,
    bigrams: bool,
    punctuation: bool,
    seed: u64,
}

impl Default for HashedEmbedder {
    fn default() -> Self {
        HashedEmbedder {
            dim: DEFAULT_EMBED_DIM,
            feature_bits: DEFAULT_FEATURE_BITS,
            bigrams: false,
            punctuation: true,
            seed: DEFAULT_EMBED_SEED,
        }
    }
}

impl HashedEmbedder {
    /// An embedder of `dim` dimensions with the default options (unigrams with punctuation,
    /// 2^20 features, default seed).
    pub fn new(dim: usize) -> Result<Self> {
        Self::with_options(dim, DEFAULT_FEATURE_BITS, false, DEFAULT_EMBED_SEED)
    }

    /// Every option: `feature_bits` in `1..=32`; `bigrams` adds token bigrams to the unigrams.
    /// Punctuation tokens are on (see [`HashedEmbedder::with_punctuation`]).
    pub fn with_options(dim: usize, feature_bits: u32, bigrams: bool, seed: u64) -> Result<Self> {
        if dim == 0 {
            return Err(DiversityError::ZeroDim);
        }
        if feature_bits == 0 || feature_bits > 32 {
            return Err(DiversityError::Zero {
                what: "feature bits (1 to 32)",
            });
        }
        Ok(HashedEmbedder {
            dim,
            feature_bits,
            bigrams,
            punctuation: true,
            seed,
        })
    }

    /// The same with punctuation tokens on or off (on by default).
    pub fn with_punctuation(mut self, punctuation: bool) -> Self {
        self.punctuation = punctuation;
        self
    }

    /// Output dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Bits of the feature hash (`1..=32`).
    pub fn feature_bits(&self) -> u32 {
        self.feature_bits
    }

    /// Whether token bigrams are features too.
    pub fn bigrams(&self) -> bool {
        self.bigrams
    }

    /// Whether punctuation tokens are features.
    pub fn punctuation(&self) -> bool {
        self.punctuation
    }

    /// Seed of the feature hash and the projection.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn index(&self, hash: u64) -> u32 {
        (hash >> (64 - self.feature_bits)) as u32
    }

    /// The sparse features of `text`: `(feature index, 1 + ln(tf))`, sorted by index.
    pub fn features(&self, text: &str) -> Vec<(u32, f32)> {
        let mut ids: Vec<u32> = Vec::new();
        let mut prev: Option<u64> = None;
        let mut pair = [0u8; 16];
        let tokens = |text: &str, f: &mut dyn FnMut(&str)| {
            if self.punctuation {
                for_each_token(text, f)
            } else {
                for_each_word(text, f)
            }
        };
        tokens(text, &mut |w: &str| {
            let h = xxh3_64(w.as_bytes());
            ids.push(self.index(h));
            if self.bigrams {
                if let Some(p) = prev {
                    pair[..8].copy_from_slice(&p.to_le_bytes());
                    pair[8..].copy_from_slice(&h.to_le_bytes());
                    ids.push(self.index(xxh3_64(&pair)));
                }
                prev = Some(h);
            }
        });
        ids.sort_unstable();
        let mut out: Vec<(u32, f32)> = Vec::new();
        for chunk in ids.chunk_by(|a, b| a == b) {
            out.push((chunk[0], 1.0 + (chunk.len() as f32).ln()));
        }
        out
    }

    /// Projects sparse features and L2-normalises.
    pub fn embed_features(&self, features: &[(u32, f32)]) -> Vec<f32> {
        self.project(features, |_| 1.0)
    }

    /// Projects sparse features, each value times `weight(feature)`, and L2-normalises.
    fn project(&self, features: &[(u32, f32)], weight: impl Fn(u32) -> f32) -> Vec<f32> {
        let mut out = vec![0.0f32; self.dim];
        for &(f, tf) in features {
            let w = tf * weight(f);
            let base = mix64(self.seed ^ u64::from(f));
            for (c, chunk) in out.chunks_mut(8).enumerate() {
                let r =
                    mix64(base.wrapping_add((c as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)));
                for (o, b) in chunk.iter_mut().zip(r.to_le_bytes()) {
                    *o += w * SIGN_TABLE[b as usize];
                }
            }
        }
        let norm = out.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|v| *v /= norm);
        }
        out
    }

    /// The embedding of one text.
    pub fn embed(&self, text: &str) -> Vec<f32> {
        self.embed_features(&self.features(text))
    }

    /// The embedding of one text with idf weights (the tests' measurement of idf).
    #[cfg(test)]
    pub(crate) fn embed_weighted(&self, text: &str, idf: &Idf) -> Vec<f32> {
        self.project(&self.features(text), |f| idf.weight(f))
    }

    /// The embeddings of many texts, row-major (`texts.len() x dim`), computed in parallel.
    pub fn embed_all<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<f32> {
        let rows: Vec<Vec<f32>> = texts.par_iter().map(|t| self.embed(t.as_ref())).collect();
        rows.concat()
    }
}

/// Document frequencies of hashed features, for idf weights (test-only: see the module doc).
#[cfg(test)]
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Idf {
    docs: u64,
    df: std::collections::HashMap<u32, u32>,
}

#[cfg(test)]
impl Idf {
    /// No documents yet (every weight is 1).
    pub fn new() -> Self {
        Self::default()
    }

    /// Document frequencies over `texts`.
    pub fn fit<S: AsRef<str>>(embedder: &HashedEmbedder, texts: &[S]) -> Self {
        let mut idf = Self::new();
        for t in texts {
            idf.add_document(&embedder.features(t.as_ref()));
        }
        idf
    }

    /// Counts one document's features (as [`HashedEmbedder::features`] gives them).
    pub fn add_document(&mut self, features: &[(u32, f32)]) {
        self.docs += 1;
        for &(f, _) in features {
            *self.df.entry(f).or_insert(0) += 1;
        }
    }

    /// Documents counted.
    pub fn docs(&self) -> u64 {
        self.docs
    }

    /// `ln((1 + N) / (1 + df)) + 1`.
    pub fn weight(&self, feature: u32) -> f32 {
        let df = self.df.get(&feature).copied().unwrap_or(0) as f64;
        (((1.0 + self.docs as f64) / (1.0 + df)).ln() + 1.0) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn unit_norm_deterministic_and_empty_is_zero() {
        let e = HashedEmbedder::default();
        let v = e.embed("The cat sat on the mat.");
        assert_eq!(v.len(), DEFAULT_EMBED_DIM);
        assert!((cos(&v, &v) - 1.0).abs() < 1e-5);
        assert_eq!(v, e.embed("the CAT sat  on the\nmat."));
        assert!(e.embed("").iter().all(|&x| x == 0.0));
        assert!(e.embed(" \n\t ").iter().all(|&x| x == 0.0));
        assert!(HashedEmbedder::new(0).is_err());
        assert_eq!(e.embed_all(&["a b", "c"]).len(), 2 * DEFAULT_EMBED_DIM);
    }

    #[test]
    fn features_are_sublinear_counts() {
        let e = HashedEmbedder::with_options(8, 20, false, 1).unwrap();
        let f = e.features("a a a b");
        assert_eq!(f.len(), 2);
        let mut vals: Vec<f32> = f.iter().map(|p| p.1).collect();
        vals.sort_by(f32::total_cmp);
        assert_eq!(vals[0], 1.0);
        assert!((vals[1] - (1.0 + 3f32.ln())).abs() < 1e-6);
        assert_eq!(HashedEmbedder::default().features("a b, c").len(), 4);
        let bi = HashedEmbedder::with_options(8, 20, true, 1).unwrap();
        assert_eq!(bi.features("a b c").len(), 5);
        assert_eq!(bi.with_punctuation(false).features("a, b c").len(), 5);
    }

    #[test]
    fn similar_texts_are_closer_than_unrelated_ones() {
        let e = HashedEmbedder::new(256).unwrap();
        let a = e.embed("the river flows through the valley to the sea near the old town");
        let b = e.embed("a river flows down the valley and reaches the sea by the town");
        let c = e.embed("fn main() { let x = vec![1, 2, 3]; println!(\"{:?}\", x); }");
        assert!(cos(&a, &b) > cos(&a, &c) + 0.2);
    }

    #[test]
    fn idf_downweights_common_features() {
        let e = HashedEmbedder::default();
        let idf = Idf::fit(&e, &["the cat", "the dog", "the bird"]);
        assert_eq!(idf.docs(), 3);
        let the = e.features("the")[0].0;
        let cat = e.features("cat")[0].0;
        assert!(idf.weight(the) < idf.weight(cat));
        assert_eq!(idf.weight(the), 1.0);
    }
}
