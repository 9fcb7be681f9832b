//! Distinct word n-gram ratio of a mix: how much of its token stream is new.
//!
//! Words are those of [`crate::algo::diversity::for_each_word`] (lowercased alphanumeric runs). A word
//! n-gram is `n` consecutive words of one document (n-grams never cross documents), hashed as the
//! MinHash shingles are: xxh3-64 of the `n` words' xxh3-64 hashes, 8 little-endian bytes each.
//! Two different n-grams share a hash with probability about `m^2 / 2^65` for `m` distinct
//! n-grams (1e-8 at `m = 10^6`), which changes nothing measurable.
//!
//! A document drawn `c` times contributes `c` times its n-grams to the total and its n-grams once
//! to the distinct set, so repeating a mix's samples lowers its ratio.

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::hash::U64Set;
use crate::algo::diversity::for_each_word;

/// The n-gram length unless told otherwise: word 4-grams.
pub const DEFAULT_DISTINCT_N: usize = 4;

/// Documents hashed per parallel task.
const HASH_CHUNK: usize = 64;

/// Distinct and total word n-grams of a mix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistinctNgrams {
    /// Distinct n-grams (by hash).
    pub distinct: u64,
    /// All n-grams, each document's counted `count` times.
    pub total: u64,
    /// `distinct / total`, in `(0, 1]`; 0 when there is no n-gram at all.
    pub ratio: f64,
}

/// The hashes of the word `n`-grams of `text`, in order (none when it has fewer than `n` words).
fn ngram_hashes(text: &str, n: usize) -> Vec<u64> {
    let mut words: Vec<u64> = Vec::new();
    for_each_word(text, |w| words.push(xxh3_64(w.as_bytes())));
    let mut bytes = vec![0u8; 8 * n];
    words
        .windows(n)
        .map(|win| {
            for (dst, h) in bytes.chunks_exact_mut(8).zip(win) {
                dst.copy_from_slice(&h.to_le_bytes());
            }
            xxh3_64(&bytes)
        })
        .collect()
}

/// The distinct word `n`-gram ratio of `docs`, each `(text, count)` drawn `count` times:
/// `ratio = |{distinct n-grams}| / Σ_docs count * (words - n + 1)`, over documents of at least
/// `n` words (see the module doc). `n = 0` is read as 1. Hashing runs in parallel.
pub fn distinct_ngram_ratio<'a>(
    docs: impl IntoIterator<Item = (&'a str, u32)>,
    n: usize,
) -> DistinctNgrams {
    let n = n.max(1);
    let docs: Vec<(&str, u32)> = docs.into_iter().filter(|d| d.1 > 0).collect();
    let hashed: Vec<(Vec<u64>, u64)> = docs
        .par_chunks(HASH_CHUNK)
        .flat_map_iter(|chunk| {
            chunk
                .iter()
                .map(|&(text, count)| (ngram_hashes(text, n), u64::from(count)))
        })
        .collect();
    let mut seen = U64Set::default();
    let mut total = 0u64;
    for (hashes, count) in &hashed {
        total += count * hashes.len() as u64;
        seen.extend(hashes.iter().copied());
    }
    let distinct = seen.len() as u64;
    DistinctNgrams {
        distinct,
        total,
        ratio: if total == 0 {
            0.0
        } else {
            distinct as f64 / total as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_small_examples() {
        // "a b a b a": bigrams ab, ba, ab, ba.
        let r = distinct_ngram_ratio([("A b, a B a", 1)], 2);
        assert_eq!((r.distinct, r.total, r.ratio), (2, 4, 0.5));
        // N-grams do not cross documents: ab and cd, not bc.
        let r = distinct_ngram_ratio([("a b", 1), ("c d", 1)], 2);
        assert_eq!((r.distinct, r.total), (2, 2));
        // Unigrams.
        let r = distinct_ngram_ratio([("x y x", 2)], 1);
        assert_eq!((r.distinct, r.total), (2, 6));
        assert_eq!(distinct_ngram_ratio([("x y x", 2)], 0), r);
    }

    #[test]
    fn repeating_a_doc_halves_its_ratio() {
        let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let text = words.join(" ");
        let once = distinct_ngram_ratio([(text.as_str(), 1)], DEFAULT_DISTINCT_N);
        assert_eq!((once.distinct, once.total, once.ratio), (97, 97, 1.0));
        let twice = distinct_ngram_ratio([(text.as_str(), 2)], DEFAULT_DISTINCT_N);
        assert_eq!((twice.distinct, twice.total, twice.ratio), (97, 194, 0.5));
        let copies = distinct_ngram_ratio([(text.as_str(), 1), (text.as_str(), 1)], 4);
        assert_eq!(copies, twice);
    }

    #[test]
    fn short_and_undrawn_docs_contribute_nothing() {
        let r = distinct_ngram_ratio([("only three words", 4), ("", 1), ("a b c d", 0)], 4);
        assert_eq!((r.distinct, r.total, r.ratio), (0, 0, 0.0));
        let r = distinct_ngram_ratio([("only three words", 4), ("one two three four", 3)], 4);
        assert_eq!((r.distinct, r.total), (1, 3));
        let none: [(&str, u32); 0] = [];
        assert_eq!(distinct_ngram_ratio(none, 4).total, 0);
    }
}
