//! DSIR's hashed n-gram features, and the KL reduction of a mix (Xie et al. 2023, "Data Selection
//! for Language Models via Importance Resampling").
//!
//! **Features.** A text is lowercased and split as NLTK's `WordPunctTokenizer` splits it (the
//! tokenizer of DSIR's code, regex `\w+|[^\w\s]+`): maximal runs of word characters (alphanumeric
//! or `_`, the word characters of [`crate::algo::diversity::for_each_word`]) and maximal runs of other
//! characters that are not white space. Every token (unigram) and every pair of consecutive tokens
//! (bigram, the two joined by one space as DSIR joins them) is hashed with xxh3-64 into one of
//! [`DSIR_BUCKETS`] buckets. DSIR hashes with sha256, so a given n-gram lands in another bucket
//! here, but the statistics of the features are the same. Bigrams do not cross texts.
//!
//! **Distribution.** A [`HashedNgramDist`] holds weighted bucket counts `c_b` (each n-gram of a
//! text added with `weight` adds `weight` to its bucket). Its probabilities use add-one (Laplace)
//! smoothing: `p_b = (c_b + 1) / (Σ c + B)`, with `B` = [`DSIR_BUCKETS`] and the pseudo-count in
//! units of one n-gram of weight 1, so that every bucket has a positive probability and every KL
//! divergence is finite. (DSIR's code adds 1e-8 to the normalised probabilities inside its
//! logarithms instead.) Pass mix counts as weights and 1 for pool and held-out documents, so that
//! the pseudo-count weighs the same against every distribution. With `Σ c` in the hundreds of
//! thousands or more, as for a mix or a held-out set of a megabyte or more, the smoothing hardly
//! matters; with far fewer n-grams than buckets it dominates (on the test fixture's 8 held-out wiki
//! texts, 1,720 n-grams, doubling every weight of a mix turned its reduction from +0.18 to -0.02
//! nats).
//!
//! **KL reduction.** DSIR judges a selection by how much closer its feature distribution is to the
//! target's than the raw pool's is: `KL(target ‖ pool) - KL(target ‖ mix)`, in nats
//! ([`kl_reduction`]). Positive: the mix resembles the held-out text more than the pool does.
//! Measured on the demo corpus (pool 4.9 million n-grams, held-out wiki and books texts 235,000):
//! a mix of the pool's wiki and books texts reduces KL by 0.147 nats, a random third of the pool
//! by -0.0004, its code by -0.59; DSIR's 1e-8 smoothing gives 0.159, -0.0003 and -0.61, and
//! weighting the mix's texts 3 instead of 1 changes the first by 0.0002.

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

/// Number of hash buckets, as in DSIR.
pub const DSIR_BUCKETS: usize = 10_000;

/// Add-one smoothing: the pseudo-count of every bucket.
const PSEUDO_COUNT: f64 = 1.0;

/// Calls `f` with each token of `text` as `WordPunctTokenizer` splits its lowercased form:
/// runs of word characters and runs of other non-space characters.
fn for_each_wordpunct(text: &str, mut f: impl FnMut(&str)) {
    let mut buf = String::with_capacity(32);
    let mut in_word = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            if !buf.is_empty() {
                f(&buf);
                buf.clear();
            }
            continue;
        }
        let word = ch.is_alphanumeric() || ch == '_';
        if word != in_word && !buf.is_empty() {
            f(&buf);
            buf.clear();
        }
        in_word = word;
        if ch.is_ascii() {
            buf.push(ch.to_ascii_lowercase());
        } else {
            buf.extend(ch.to_lowercase());
        }
    }
    if !buf.is_empty() {
        f(&buf);
    }
}

fn bucket(bytes: &[u8]) -> usize {
    (xxh3_64(bytes) % DSIR_BUCKETS as u64) as usize
}

/// Weighted counts of hashed unigrams and bigrams over [`DSIR_BUCKETS`] buckets (see the module
/// doc). With integer weights (mix counts) every sum is exact, so the counts do not depend on the
/// order in which texts were added or merged.
#[derive(Debug, Clone, PartialEq)]
pub struct HashedNgramDist {
    counts: Vec<f64>,
    total: f64,
}

impl Default for HashedNgramDist {
    fn default() -> Self {
        Self::new()
    }
}

impl HashedNgramDist {
    /// No counts: probabilities are uniform.
    pub fn new() -> Self {
        HashedNgramDist {
            counts: vec![0.0; DSIR_BUCKETS],
            total: 0.0,
        }
    }

    /// Adds every unigram and bigram of `text` with `weight` (a mix count, or 1).
    pub fn add(&mut self, text: &str, weight: f64) {
        let mut prev = String::new();
        let mut pair = String::new();
        let mut added = 0usize;
        for_each_wordpunct(text, |tok| {
            self.counts[bucket(tok.as_bytes())] += weight;
            added += 1;
            if !prev.is_empty() {
                pair.clear();
                pair.push_str(&prev);
                pair.push(' ');
                pair.push_str(tok);
                self.counts[bucket(pair.as_bytes())] += weight;
                added += 1;
            }
            prev.clear();
            prev.push_str(tok);
        });
        self.total += weight * added as f64;
    }

    /// The distribution of `texts`, each `(text, weight)` added with [`HashedNgramDist::add`], in
    /// parallel.
    pub fn from_texts<'a>(texts: impl IntoParallelIterator<Item = (&'a str, f64)>) -> Self {
        texts
            .into_par_iter()
            .fold(Self::new, |mut d, (text, weight)| {
                d.add(text, weight);
                d
            })
            .reduce(Self::new, |mut a, b| {
                a.merge(&b);
                a
            })
    }

    /// Adds the counts of `other` to these.
    pub fn merge(&mut self, other: &HashedNgramDist) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// The weighted count of every bucket.
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    /// The weighted number of n-grams added: `Σ c_b`.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Smoothed probabilities `p_b = (c_b + 1) / (Σ c + B)`, summing to one.
    pub fn probabilities(&self) -> Vec<f64> {
        let denom = self.total + PSEUDO_COUNT * DSIR_BUCKETS as f64;
        self.counts
            .iter()
            .map(|c| (c + PSEUDO_COUNT) / denom)
            .collect()
    }
}

/// `KL(target ‖ other) = Σ_b p_b ln(p_b / q_b)` in nats, over the smoothed probabilities `p` of
/// `target` and `q` of `other`: zero when they are equal, positive otherwise, always finite.
pub fn kl_divergence(target: &HashedNgramDist, other: &HashedNgramDist) -> f64 {
    let p = target.probabilities();
    let q = other.probabilities();
    p.iter().zip(&q).map(|(p, q)| p * (p / q).ln()).sum()
}

/// DSIR's KL reduction of a mix, in nats: `KL(heldout ‖ pool) - KL(heldout ‖ mix)`. Positive when
/// the mix's features are closer to the held-out text's than the natural pool's are.
pub fn kl_reduction(
    heldout: &HashedNgramDist,
    pool: &HashedNgramDist,
    mix: &HashedNgramDist,
) -> f64 {
    kl_divergence(heldout, pool) - kl_divergence(heldout, mix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixture as fixture;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_wordpunct(text, |t| out.push(t.to_owned()));
        out
    }

    fn dist(texts: &[&str]) -> HashedNgramDist {
        HashedNgramDist::from_texts(texts.par_iter().map(|t| (*t, 1.0)))
    }

    #[test]
    fn tokens_are_word_and_punctuation_runs() {
        assert_eq!(
            tokens("Hello, World!! foo_bar=baz(2) ÉTÉ..."),
            ["hello", ",", "world", "!!", "foo_bar", "=", "baz", "(", "2", ")", "été", "..."]
        );
        assert!(tokens(" \n\t").is_empty());
        let mut d = HashedNgramDist::new();
        d.add("a b c", 1.0);
        assert_eq!(d.total(), 5.0); // 3 unigrams, 2 bigrams
        assert_eq!(d.counts().iter().sum::<f64>(), 5.0);
        d.add("", 3.0);
        assert_eq!(d.total(), 5.0);
        let p = d.probabilities();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p.iter().all(|&x| x > 0.0));
    }

    #[test]
    fn kl_is_zero_on_itself_and_positive_otherwise() {
        let f = fixture::samples();
        let of = |src: &str| -> Vec<&str> {
            f.iter()
                .filter(|s| s.source == src)
                .map(|s| s.text.as_str())
                .collect()
        };
        let sources = ["wiki", "books", "code", "packages", "faq"];
        let dists: Vec<HashedNgramDist> = sources.iter().map(|s| dist(&of(s))).collect();
        for (i, a) in dists.iter().enumerate() {
            assert_eq!(kl_divergence(a, a), 0.0);
            for (j, b) in dists.iter().enumerate().filter(|&(j, _)| j != i) {
                let kl = kl_divergence(a, b);
                assert!(
                    kl > 0.01 && kl.is_finite(),
                    "{} {}: {kl}",
                    sources[i],
                    sources[j]
                );
            }
        }
        assert_eq!(
            kl_divergence(&HashedNgramDist::new(), &HashedNgramDist::new()),
            0.0
        );
        assert!(kl_divergence(&dists[0], &HashedNgramDist::new()) > 0.0);
    }

    #[test]
    fn a_mix_of_the_target_kind_has_a_positive_reduction() {
        let f = fixture::samples();
        let held = fixture::heldout();
        let prose = |s: &fixture::Sample| s.source == "wiki" || s.source == "books";
        let heldout = HashedNgramDist::from_texts(
            held.par_iter()
                .filter(|s| prose(s))
                .map(|s| (s.text.as_str(), 1.0)),
        );
        // The pool: prose padded with code, package lists, docs, web noise.
        let pool = HashedNgramDist::from_texts(f.par_iter().map(|s| (s.text.as_str(), 1.0)));
        let mix_of = |keep: &(dyn Fn(&fixture::Sample) -> bool + Sync)| {
            HashedNgramDist::from_texts(
                f.par_iter()
                    .filter(|s| keep(s))
                    .map(|s| (s.text.as_str(), 1.0)),
            )
        };
        let same_kind = kl_reduction(&heldout, &pool, &mix_of(&prose));
        let code = kl_reduction(&heldout, &pool, &mix_of(&|s| s.source == "code"));
        println!(
            "KL reduction towards held-out prose ({} n-grams): prose mix {same_kind:.3}, code mix \
             {code:.3}",
            heldout.total()
        );
        assert!(same_kind > 0.01, "{same_kind}");
        assert!(code < -0.1, "{code}");
        assert_eq!(kl_reduction(&heldout, &pool, &pool), 0.0);
    }

    #[test]
    fn a_weight_equals_repeated_adds() {
        let text = "The quick brown fox, the lazy dog; the quick end.";
        let mut twice = HashedNgramDist::new();
        twice.add(text, 1.0);
        twice.add("another text", 1.0);
        twice.add(text, 1.0);
        let mut weighted = HashedNgramDist::new();
        weighted.add(text, 2.0);
        weighted.add("another text", 1.0);
        assert_eq!(twice, weighted);
        let mut merged = HashedNgramDist::new();
        let mut part = HashedNgramDist::new();
        part.add(text, 2.0);
        merged.add("another text", 1.0);
        merged.merge(&part);
        assert_eq!(merged, weighted);
    }
}
