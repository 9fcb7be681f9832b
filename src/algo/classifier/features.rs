//! The classifier's features: hashed word 1- and 2-grams and a few binned shape indicators.
//!
//! **Tokenisation.** A text is split into lines at `\n`; each line into words by
//! [`for_each_word`](crate::algo::diversity::for_each_word): maximal runs of Unicode
//! alphanumeric characters or `_`, lowercased with Unicode rules (punctuation and white space
//! separate words and are dropped; no stemming, no stop list). Only the first
//! [`FeatureConfig::max_words`] words count, so the cost of a sample is bounded whatever its
//! length. Bigrams join consecutive words across line breaks (the text is one stream of words).
//!
//! **Hashing.** A word's hash is `xxh3_64_with_seed(word bytes, seed)`; a bigram's is
//! `xxh3_64_with_seed` of the two word hashes (16 bytes, little-endian), so `a b` and `b a`
//! differ. The top [`FeatureConfig::bits`] bits of a hash give its bucket. Unigrams and bigrams
//! share one bucket space, as in fastText. A bucket's value is the sublinear term frequency
//! `1 + ln(count)` of what fell into it, and the n-gram part of the vector is scaled to unit L2
//! norm, so a long text does not outvote a short one and a keyword repeated 50 times weighs
//! `1 + ln 50 = 4.9`, not 50.
//!
//! **Shape indicators.** A bag of n-grams cannot see repetition as such (a text and the same text
//! twice have the same normalised vector), nor shuffled words once its bigrams are rare ones, so
//! five indicator features, value 1 each and outside the normalisation, carry the form of the
//! text as bins (hashed into the same buckets under a salt): the share of non-empty lines that
//! repeat an earlier line (0, then tenths), the share of the words taken by the most frequent
//! word (twentieths up to one half), the share of distinct bigrams among all bigrams (tenths),
//! `floor(log2(words + 1))` (up to 12), and the share of sentences that start with a lowercase
//! letter (tenths; see `sentence_starts`). Shares of too few items (under 10 words or bigrams,
//! under 3 sentence ends) get a bin of their own. The classifier learns their weights like any
//! other feature. They are on unless [`FeatureConfig::shape`] is off.
//!
//! **Bucket count.** 2^21 buckets by default (2,097,152: fastText's default of 2 million, which
//! DCLM's classifier kept), 8 MiB of `f32` weights per fold. The demo pool (8,620 samples of
//! the build with a reference split) holds 682,304 distinct 1- and 2-grams; the share of them
//! that share a bucket with another is 47.9% at 2^20, 27.9% at 2^21 and 15.1% at 2^22
//! (`cargo bench --bench classifier -- vocabulary`). Collisions mostly pair rare grams, whose
//! weights stay small; 2^22 is there for larger pools, at 16 MiB a fold. 20 to 22 bits are
//! accepted.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::algo::diversity::{for_each_word, mix64};

/// Default bits of the hashed feature space: 2^21 buckets (see the module doc).
pub const DEFAULT_CLASSIFIER_BITS: u8 = 21;
/// Fewest bits accepted.
pub const MIN_CLASSIFIER_BITS: u8 = 20;
/// Most bits accepted.
pub const MAX_CLASSIFIER_BITS: u8 = 22;
/// Words of a text that count, by default.
pub const DEFAULT_MAX_WORDS: u32 = 2048;
/// Hash seed unless told otherwise.
pub const DEFAULT_FEATURE_SEED: u64 = 0x534D_434C_4153_5331; // "SMCLASS1"

/// Salt of the shape indicators' hashes.
const SHAPE_SALT: u64 = 0x5348_4150_4530_3031; // "SHAPE001"

/// How a text becomes a sparse vector. Part of a model: a model scores only with the
/// configuration it was trained with (and its fingerprint covers it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureConfig {
    /// Bits of the bucket space (20 to 22).
    pub bits: u8,
    /// Words of a text that count (its first ones).
    pub max_words: u32,
    /// Seed of the word hashes.
    pub seed: u64,
    /// Whether the four shape indicators are added.
    pub shape: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            bits: DEFAULT_CLASSIFIER_BITS,
            max_words: DEFAULT_MAX_WORDS,
            seed: DEFAULT_FEATURE_SEED,
            shape: true,
        }
    }
}

impl FeatureConfig {
    /// Number of buckets, `2^bits`.
    pub fn buckets(&self) -> usize {
        1usize << self.bits
    }

    fn bucket(&self, hash: u64) -> u32 {
        (hash >> (64 - u32::from(self.bits))) as u32
    }
}

/// A sparse feature vector: ascending distinct bucket ids and their values.
#[derive(Debug, Clone, Copy)]
pub struct Features<'a> {
    /// Bucket ids, ascending, distinct.
    pub idx: &'a [u32],
    /// Values, one per id.
    pub val: &'a [f32],
}

/// Reusable buffers that turn texts into [`Features`]; one per thread.
#[derive(Debug, Default, Clone)]
pub struct Featurizer {
    words: Vec<u64>,
    lines: Vec<u64>,
    unigrams: Vec<u32>,
    bigrams: Vec<u32>,
    idx: Vec<u32>,
    val: Vec<f32>,
}

impl Featurizer {
    /// A featurizer with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The features of `text` under `config` (see the module doc), valid until the next call.
    pub fn featurize(&mut self, text: &str, config: &FeatureConfig) -> Features<'_> {
        self.read_words(text, config);
        let n = self.words.len();
        self.unigrams.clear();
        self.bigrams.clear();
        for (i, &h) in self.words.iter().enumerate() {
            self.unigrams.push(config.bucket(h));
            if i > 0 {
                let mut pair = [0u8; 16];
                pair[..8].copy_from_slice(&self.words[i - 1].to_le_bytes());
                pair[8..].copy_from_slice(&h.to_le_bytes());
                self.bigrams
                    .push(config.bucket(xxh3_64_with_seed(&pair, config.seed)));
            }
        }
        self.unigrams.sort_unstable();
        self.bigrams.sort_unstable();
        merge_counts(&self.unigrams, &self.bigrams, &mut self.idx, &mut self.val);
        let norm = self.val.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            self.val.iter_mut().for_each(|v| *v /= norm);
        }
        if config.shape {
            let (sentence_ends, lowercase_starts) = sentence_starts(text, config.max_words);
            let stats = ShapeStats {
                words: n,
                sentence_ends,
                lowercase_starts,
                top_word: longest_run(&self.unigrams),
                distinct_bigrams: runs(&self.bigrams),
                bigrams: self.bigrams.len(),
                lines: self.lines.len(),
                distinct_lines: {
                    self.lines.sort_unstable();
                    self.lines.dedup();
                    self.lines.len()
                },
            };
            for (kind, bin) in stats.bins().into_iter().enumerate() {
                let id =
                    config.bucket(mix64(SHAPE_SALT ^ config.seed ^ ((kind as u64) << 8 | bin)));
                add_feature(&mut self.idx, &mut self.val, id, 1.0);
            }
        }
        Features {
            idx: &self.idx,
            val: &self.val,
        }
    }

    /// Fills `words` with the hashes of the first `max_words` words and `lines` with the hashes
    /// of the non-empty trimmed lines they come from.
    fn read_words(&mut self, text: &str, config: &FeatureConfig) {
        self.words.clear();
        self.lines.clear();
        let max = config.max_words as usize;
        for line in text.split('\n') {
            if self.words.len() >= max {
                break;
            }
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            if config.shape {
                self.lines
                    .push(xxh3_64_with_seed(trimmed.as_bytes(), config.seed));
            }
            let words = &mut self.words;
            for_each_word(trimmed, |w| {
                if words.len() < max {
                    words.push(xxh3_64_with_seed(w.as_bytes(), config.seed));
                }
            });
        }
    }
}

/// What the shape indicators bin.
struct ShapeStats {
    words: usize,
    sentence_ends: usize,
    lowercase_starts: usize,
    top_word: usize,
    distinct_bigrams: usize,
    bigrams: usize,
    lines: usize,
    distinct_lines: usize,
}

impl ShapeStats {
    /// One bin per indicator: duplicated lines, top word share, distinct bigrams, length,
    /// lowercase sentence starts.
    fn bins(&self) -> [u64; 5] {
        let share = |part: usize, whole: usize| part as f64 / whole.max(1) as f64;
        let dup_lines = self.lines - self.distinct_lines;
        let dup_bin = if dup_lines == 0 {
            0
        } else {
            1 + ((share(dup_lines, self.lines) * 10.0) as u64).min(9)
        };
        // Too few words or bigrams for a share to mean anything: a bin of their own.
        let top_bin = if self.words < 10 {
            11
        } else {
            ((share(self.top_word, self.words) * 20.0) as u64).min(10)
        };
        let distinct_bin = if self.bigrams < 10 {
            10
        } else {
            ((share(self.distinct_bigrams, self.bigrams) * 10.0) as u64).min(9)
        };
        let length_bin = u64::from((self.words as u64 + 1).ilog2()).min(12);
        let lower_bin = if self.sentence_ends < 3 {
            10
        } else {
            ((share(self.lowercase_starts, self.sentence_ends) * 10.0) as u64).min(9)
        };
        [dup_bin, top_bin, distinct_bin, length_bin, lower_bin]
    }
}

/// Among the first `max_words` whitespace-separated words of `text`: how many follow a word
/// that ends a sentence (its last character, after closing quotes and brackets, is `.`, `!` or
/// `?`) and begin with a letter, and how many of those begin with a lowercase letter. Natural
/// prose starts sentences in capitals; shuffled words put the full stops anywhere.
fn sentence_starts(text: &str, max_words: u32) -> (usize, usize) {
    let (mut ends, mut lower) = (0, 0);
    let mut after_end = false;
    for word in text.split_whitespace().take(max_words as usize) {
        if after_end {
            if let Some(first) = word.chars().find(|c| c.is_alphanumeric()) {
                if first.is_alphabetic() {
                    ends += 1;
                    lower += usize::from(first.is_lowercase());
                }
            }
        }
        let tail = word.trim_end_matches(['"', '\'', ')', ']', '\u{201d}', '\u{2019}']);
        after_end = tail.ends_with(['.', '!', '?']);
    }
    (ends, lower)
}

/// Number of runs of equal values in a sorted slice.
fn runs(sorted: &[u32]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[0] != w[1]).count()
}

/// Length of the longest run of equal values in a sorted slice.
fn longest_run(sorted: &[u32]) -> usize {
    let (mut best, mut run) = (0, 0);
    for (i, &x) in sorted.iter().enumerate() {
        run = if i > 0 && sorted[i - 1] == x {
            run + 1
        } else {
            1
        };
        best = best.max(run);
    }
    best
}

/// Merges two sorted id lists into distinct ids with the value `1 + ln(count)`.
fn merge_counts(a: &[u32], b: &[u32], idx: &mut Vec<u32>, val: &mut Vec<f32>) {
    idx.clear();
    val.clear();
    let (mut i, mut j) = (0, 0);
    let mut push = |id: u32| match idx.last() {
        Some(&last) if last == id => {
            if let Some(c) = val.last_mut() {
                *c += 1.0;
            }
        }
        _ => {
            idx.push(id);
            val.push(1.0);
        }
    };
    while i < a.len() || j < b.len() {
        if j >= b.len() || (i < a.len() && a[i] <= b[j]) {
            push(a[i]);
            i += 1;
        } else {
            push(b[j]);
            j += 1;
        }
    }
    for c in val.iter_mut() {
        if *c > 1.0 {
            *c = 1.0 + c.ln();
        }
    }
}

/// Adds `value` to bucket `id`, keeping `idx` ascending and distinct.
fn add_feature(idx: &mut Vec<u32>, val: &mut Vec<f32>, id: u32, value: f32) {
    match idx.binary_search(&id) {
        Ok(at) => val[at] += value,
        Err(at) => {
            idx.insert(at, id);
            val.insert(at, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(text: &str, config: &FeatureConfig) -> (Vec<u32>, Vec<f32>) {
        let mut f = Featurizer::new();
        let v = f.featurize(text, config);
        (v.idx.to_vec(), v.val.to_vec())
    }

    #[test]
    fn ids_are_sorted_distinct_and_ngrams_unit_norm() {
        let config = FeatureConfig {
            shape: false,
            ..FeatureConfig::default()
        };
        let (idx, val) = owned("The cat sat on the mat. The cat sat!", &config);
        assert!(idx.windows(2).all(|w| w[0] < w[1]));
        assert!(idx.iter().all(|&i| (i as usize) < config.buckets()));
        let norm: f32 = val.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        // 9 words, "the cat sat" twice: unigrams the, cat, sat, on, mat; bigrams the-cat,
        // cat-sat, sat-on, on-the, the-mat, mat-the: 5 + 6 distinct.
        assert_eq!(idx.len(), 11);
        assert_eq!(owned("the CAT sat on the mat the cat sat", &config).0, idx);
    }

    #[test]
    fn shape_bins_see_repetition_that_ngrams_do_not() {
        let plain = FeatureConfig {
            shape: false,
            ..FeatureConfig::default()
        };
        let once = "alpha beta gamma\ndelta epsilon zeta\n";
        let twice = format!("{once}{once}");
        // Without shape features the doubled text differs only where the seam adds a bigram.
        let a = owned(once, &plain);
        let b = owned(&twice, &plain);
        assert_eq!(b.0.len(), a.0.len() + 1);
        let config = FeatureConfig::default();
        let sa = owned(once, &config);
        let sb = owned(&twice, &config);
        let extra_a: Vec<u32> = sa.0.iter().filter(|i| !a.0.contains(i)).copied().collect();
        let extra_b: Vec<u32> = sb.0.iter().filter(|i| !b.0.contains(i)).copied().collect();
        assert_eq!(extra_a.len(), 5);
        assert_ne!(extra_a, extra_b, "the duplicated-line bin differs");
    }

    #[test]
    fn empty_text_has_only_shape_features_and_no_nan() {
        let (idx, val) = owned("", &FeatureConfig::default());
        assert_eq!(idx.len(), 5);
        assert!(val.iter().all(|v| *v == 1.0));
        let (idx, _) = owned(
            " ,;. \n\n",
            &FeatureConfig {
                shape: false,
                ..FeatureConfig::default()
            },
        );
        assert!(idx.is_empty());
    }

    #[test]
    fn only_the_first_max_words_count() {
        let config = FeatureConfig {
            max_words: 3,
            shape: false,
            ..FeatureConfig::default()
        };
        assert_eq!(owned("a b c d e f", &config), owned("a b c", &config));
    }

    #[test]
    fn bigrams_keep_word_order() {
        let config = FeatureConfig {
            shape: false,
            ..FeatureConfig::default()
        };
        assert_ne!(owned("red wine", &config).0, owned("wine red", &config).0);
    }
}
