//! A byte-level n-gram language model with interpolated modified Kneser-Ney smoothing, to compare
//! mixes by the perplexity that a model trained on each gives held-out text.
//!
//! The vocabulary is the 256 byte values, whatever the text: bits per byte of models trained on
//! different mixes are directly comparable, and no tokenizer has to be fitted.
//!
//! **Model** (Chen & Goodman 1998, "An empirical study of smoothing techniques for language
//! modeling", interpolated modified Kneser-Ney). For order `N`, a history `h` of `k - 1` bytes
//! and a next byte `w`, the order-`k` estimate is
//!
//! ```text
//! P_k(w | h) = ( c_k(hw) - D_k(c_k(hw)) + γ_k(h) P_{k-1}(w | h') ) / c_k(h•)
//! γ_k(h)     = D_k,1 N_1(h•) + D_k,2 N_2(h•) + D_k,3+ N_3+(h•)
//! P_0(w)     = 1 / 256
//! ```
//!
//! where `h'` is `h` without its oldest byte, `c_k(h•) = Σ_w c_k(hw)`, `N_i(h•)` is the number of
//! bytes `w` with `c_k(hw) = i` (`N_3+`: at least 3), and `D_k(0) = 0`. The discounted counts and
//! `γ_k(h)` add up to `c_k(h•)`, so every `P_k(· | h)` sums to one over the 256 bytes and every
//! byte has a positive probability. A history never seen at order `k` (`c_k(h•) = 0`) passes
//! straight through: `P_k(w | h) = P_{k-1}(w | h')`.
//!
//! **Counts.** The highest order uses raw counts. A lower order `k < N` uses continuation counts:
//! `c_k(g) = N_1+(• g)`, the number of distinct bytes `v` such that `vg` occurs in some document,
//! plus one when `g` starts a document (the document boundary counts as one more left context,
//! as `<s>` does in KenLM's adjusted counts, so that an n-gram seen only at document starts keeps
//! some mass).
//!
//! **Discounts**, per order, from the count-of-counts `n_1 .. n_4` of that order's counts:
//! `Y = n_1 / (n_1 + 2 n_2)`, `D_1 = 1 - 2 Y n_2 / n_1`, `D_2 = 2 - 3 Y n_3 / n_2`,
//! `D_3+ = 3 - 4 Y n_4 / n_3`. Each is clamped to `[0.05, i]` for `D_i` (a positive discount makes
//! every history pass mass to the lower order; a discount above `i` would make a count negative);
//! one that is undefined because a count-of-counts is zero (tiny or degenerate data) falls back to
//! 0.5, 1 and 1.5.
//!
//! **Documents.** No n-gram crosses a document boundary. Byte `i < N - 1` of a document is
//! predicted from the `i` bytes before it by the order-`(i + 1)` distribution `P_{i+1}`: the
//! truncated history is treated as the context of the lower-order model (a continuation-count
//! distribution), both when training and when scoring held-out text.
//!
//! **Repetitions.** A document drawn `c` times adds `c` to the raw counts of its `N`-grams,
//! exactly as `c` copies of it would; continuation counts only see which n-grams occur, so they
//! do not change with `c`, again as with copies. The highest order's discounts follow its counts:
//! on 5 MB of the demo corpus, `D_1` of order 5 is 0.63 with every count 1 and 0.31 with counts 1
//! to 4 (fewer singletons), and held-out text costs 2.27 and 2.31 bits per byte.
//!
//! **Storage and speed.** Each order keeps a hash map from the packed n-gram (up to 8 bytes in a
//! `u64`, one map per order, so orders never collide) to its count, and one from the packed
//! history to `c_k(h•)` and `N_1, N_2, N_3+`. The maps are sharded by key and every shard is
//! built by its own rayon task, so counting needs no merge. Measured with the ignored test
//! `measure_training_time` on this project's 2-core machine (nice 10, beside another busy job):
//! order 5 trains on 5.0 MB of the demo corpus (3,694 documents, counts 1 to 4; 503k distinct
//! 5-grams) in 0.23 s and scores 1 MB of its held-out set in 0.31 s (2.31 bits per byte);
//! order 8 takes 1.1 s and 0.8 s (2.15 bits per byte).

use rayon::prelude::*;

use super::error::{EvalError, Result};
use super::hash::{default_shards, shard_of, U64Map, U64Set};

/// Order of the model unless told otherwise: byte 5-grams.
pub const DEFAULT_ORDER: usize = 5;
/// The largest order: an n-gram is packed into one `u64`.
pub const MAX_ORDER: usize = 8;

/// The smallest discount (see the module doc).
const MIN_DISCOUNT: f64 = 0.05;
/// `D_1, D_2, D_3+` when the count-of-counts do not define them.
const FALLBACK_DISCOUNTS: [f64; 3] = [0.5, 1.0, 1.5];
/// Bytes scored per parallel task when scoring held-out text.
const SCORE_CHUNK: usize = 1 << 16;

/// The low `k` bytes of a `u64`.
#[inline(always)]
fn mask(k: usize) -> u64 {
    if k >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * k)) - 1
    }
}

/// Packs up to 8 bytes into a `u64`, the last byte lowest.
fn pack(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |key, &b| (key << 8) | u64::from(b))
}

/// Calls `f` with every packed `k`-gram of `text`, in order (none when `text` is shorter).
fn for_each_ngram(text: &[u8], k: usize, mut f: impl FnMut(u64)) {
    let m = mask(k);
    let mut key = 0u64;
    for (i, &b) in text.iter().enumerate() {
        key = ((key << 8) | u64::from(b)) & m;
        if i + 1 >= k {
            f(key);
        }
    }
}

/// Modified Kneser-Ney discounts `[D_1, D_2, D_3+]` from the count-of-counts `[n_1, .., n_4]`
/// (see the module doc for the formulas, clamps and fallbacks).
fn discounts(n: [u64; 4]) -> [f64; 3] {
    let [n1, n2, n3, n4] = n.map(|x| x as f64);
    let y = n1 / (n1 + 2.0 * n2);
    let raw = [
        1.0 - 2.0 * y * n2 / n1,
        2.0 - 3.0 * y * n3 / n2,
        3.0 - 4.0 * y * n4 / n3,
    ];
    let mut out = FALLBACK_DISCOUNTS;
    for (i, (d, r)) in out.iter_mut().zip(raw).enumerate() {
        if r.is_finite() {
            *d = r.clamp(MIN_DISCOUNT, (i + 1) as f64);
        }
    }
    out
}

/// A map from packed n-grams to values, split into shards by [`shard_of`].
struct Sharded<V> {
    shards: Vec<U64Map<V>>,
}

impl<V: Default + Send + Sync> Sharded<V> {
    /// Builds the map in parallel: every shard runs `emit` over all the input and keeps the
    /// `(key, item)` pairs of its own keys, folding items into values with `apply`.
    fn build<T>(
        shards: usize,
        emit: impl Fn(&mut dyn FnMut(u64, T)) + Sync,
        apply: impl Fn(&mut V, T) + Sync,
    ) -> Self {
        let shards = (0..shards)
            .into_par_iter()
            .map(|s| {
                let mut map = U64Map::<V>::default();
                emit(&mut |key, item| {
                    if shard_of(key, shards) == s {
                        apply(map.entry(key).or_default(), item);
                    }
                });
                map
            })
            .collect();
        Sharded { shards }
    }

    #[inline]
    fn get(&self, key: u64) -> Option<&V> {
        self.shards.get(shard_of(key, self.shards.len()))?.get(&key)
    }

    fn iter(&self) -> impl Iterator<Item = (u64, &V)> {
        self.shards
            .iter()
            .flat_map(|m| m.iter().map(|(&k, v)| (k, v)))
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|m| m.len()).sum()
    }
}

/// What one history knows at one order: `c_k(h•)` and `N_1, N_2, N_3+`.
#[derive(Debug, Default, Clone, Copy)]
struct History {
    total: u64,
    n: [u32; 3],
}

/// One order `k` of the model.
struct Level {
    /// Packed `k`-gram -> count (raw at the highest order, continuation below); never 0.
    counts: Sharded<u64>,
    /// Packed `(k-1)`-byte history -> its totals.
    histories: Sharded<History>,
    /// `[D_1, D_2, D_3+]`.
    discounts: [f64; 3],
}

impl Level {
    fn new(counts: Sharded<u64>, shards: usize) -> Level {
        let coc = counts
            .shards
            .par_iter()
            .map(|m| {
                let mut n = [0u64; 4];
                for &c in m.values() {
                    if (1..=4).contains(&c) {
                        n[(c - 1) as usize] += 1;
                    }
                }
                n
            })
            .reduce(
                || [0; 4],
                |a, b| [a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]],
            );
        let histories = Sharded::build(
            shards,
            |emit| {
                for (key, &c) in counts.iter() {
                    emit(key >> 8, c);
                }
            },
            |h: &mut History, c| {
                h.total += c;
                h.n[(c.clamp(1, 3) - 1) as usize] += 1;
            },
        );
        Level {
            counts,
            histories,
            discounts: discounts(coc),
        }
    }

    #[inline]
    fn discount(&self, c: u64) -> f64 {
        match c {
            0 => 0.0,
            1 => self.discounts[0],
            2 => self.discounts[1],
            _ => self.discounts[2],
        }
    }

    /// `γ_k(h)`: the discounted mass that `h` hands to the lower order.
    #[inline]
    fn backoff_mass(&self, h: &History) -> f64 {
        self.discounts
            .iter()
            .zip(h.n)
            .map(|(d, n)| d * f64::from(n))
            .sum()
    }
}

/// Bits a model spends on held-out text: `bits = -Σ log2 P(byte | history)` over `bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CrossEntropy {
    /// Total bits.
    pub bits: f64,
    /// Bytes scored.
    pub bytes: u64,
}

impl CrossEntropy {
    /// `bits / bytes`: 8 for the uniform model; NaN when no byte was scored.
    pub fn bits_per_byte(&self) -> f64 {
        if self.bytes == 0 {
            f64::NAN
        } else {
            self.bits / self.bytes as f64
        }
    }
}

/// A trained byte n-gram model (see the module doc).
pub struct ByteLm {
    order: usize,
    /// `levels[k - 1]` is order `k`.
    levels: Vec<Level>,
}

impl std::fmt::Debug for ByteLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ngrams: Vec<usize> = self.levels.iter().map(|l| l.counts.len()).collect();
        f.debug_struct("ByteLm")
            .field("order", &self.order)
            .field("distinct_ngrams", &ngrams)
            .finish()
    }
}

/// Trains a model of `order` (1 to [`MAX_ORDER`]) on `docs`, each `(text, count)` counted
/// `count` times (a count of 0 leaves the document out). An empty training set gives the uniform
/// model (8 bits per byte). Counting runs on rayon's pool.
pub fn train<'a>(
    order: usize,
    docs: impl IntoIterator<Item = (&'a [u8], u32)>,
) -> Result<ByteLm, EvalError> {
    if !(1..=MAX_ORDER).contains(&order) {
        return Err(EvalError::BadOrder {
            order,
            max: MAX_ORDER,
        });
    }
    let docs: Vec<(&[u8], u64)> = docs
        .into_iter()
        .filter(|&(_, c)| c > 0)
        .map(|(t, c)| (t, u64::from(c)))
        .collect();
    let shards = default_shards();
    // Highest order: raw counts, weighted by the documents' counts.
    let mut counts = vec![Sharded::build(
        shards,
        |emit| {
            for &(text, weight) in &docs {
                for_each_ngram(text, order, |key| emit(key, weight));
            }
        },
        |c: &mut u64, weight| *c += weight,
    )];
    // Lower orders, from the top down: the distinct left extensions of each k-gram are the
    // distinct (k+1)-grams that end with it, and the document start is one more.
    for k in (1..order).rev() {
        let upper = counts.last().map_or(&[][..], |u| &u.shards[..]);
        let starts: U64Set = docs
            .iter()
            .filter(|(t, _)| t.len() >= k)
            .map(|(t, _)| pack(&t[..k]))
            .collect();
        let level = Sharded::build(
            shards,
            |emit| {
                for key in upper.iter().flat_map(|m| m.keys()) {
                    emit(key & mask(k), ());
                }
                for &key in &starts {
                    emit(key, ());
                }
            },
            |c: &mut u64, ()| *c += 1,
        );
        counts.push(level);
    }
    counts.reverse();
    let levels = counts.into_iter().map(|c| Level::new(c, shards)).collect();
    Ok(ByteLm { order, levels })
}

impl ByteLm {
    /// The order `N`.
    pub fn order(&self) -> usize {
        self.order
    }

    /// `[D_1, D_2, D_3+]` of order `k` (1 to `N`), `None` for another `k`.
    pub fn discounts(&self, k: usize) -> Option<[f64; 3]> {
        Some(self.levels.get(k.checked_sub(1)?)?.discounts)
    }

    /// Number of distinct `k`-grams the model holds at order `k` (0 for another `k`).
    pub fn distinct_ngrams(&self, k: usize) -> usize {
        k.checked_sub(1)
            .and_then(|i| self.levels.get(i))
            .map_or(0, |l| l.counts.len())
    }

    /// `log2 P(byte | context)`: the order-`(m + 1)` estimate, where `m` is the smaller of
    /// `context.len()` and `N - 1` and only the last `m` bytes of `context` are used. A context
    /// shorter than `N - 1` bytes is read as the start of a document (see the module doc).
    pub fn log2_prob(&self, context: &[u8], byte: u8) -> f64 {
        let h = &context[context.len().saturating_sub(self.order - 1)..];
        self.prob(pack(h), h.len(), byte).log2()
    }

    /// `P(byte | history)` for the last `len` bytes packed in `history` (`len < N`).
    #[inline]
    fn prob(&self, history: u64, len: usize, byte: u8) -> f64 {
        let mut p = 1.0 / 256.0;
        for (k, level) in self.levels.iter().enumerate().take(len + 1) {
            let h = history & mask(k);
            // A history seen at order k + 1 is seen at order k (its suffix), so the first unseen
            // one ends the recursion: the higher orders would pass P through unchanged.
            let Some(stats) = level.histories.get(h) else {
                break;
            };
            let c = level
                .counts
                .get((h << 8) | u64::from(byte))
                .copied()
                .unwrap_or(0);
            p = (c as f64 - level.discount(c) + level.backoff_mass(stats) * p) / stats.total as f64;
        }
        p
    }

    /// Bits spent on `text[start..end]`, byte `i` predicted from the up to `N - 1` bytes before
    /// it within `text`.
    fn range_bits(&self, text: &[u8], start: usize, end: usize) -> f64 {
        let keep = mask(self.order - 1);
        let from = start.saturating_sub(self.order - 1);
        let mut history = pack(&text[from..start]);
        let mut bits = 0.0;
        for (i, &b) in text.iter().enumerate().take(end).skip(start) {
            bits -= self.prob(history, i.min(self.order - 1), b).log2();
            history = ((history << 8) | u64::from(b)) & keep;
        }
        bits
    }

    /// The bits this model spends on `texts`, each scored as a document of its own (its first
    /// bytes with truncated histories), in parallel over 64 KiB pieces of the texts. The sum runs
    /// in a fixed order, so the result does not depend on the number of threads.
    pub fn cross_entropy<'a>(
        &self,
        texts: impl IntoParallelIterator<Item = &'a [u8]>,
    ) -> CrossEntropy {
        let pieces: Vec<(f64, u64)> = texts
            .into_par_iter()
            .flat_map_iter(|text| {
                (0..text.len()).step_by(SCORE_CHUNK).map(move |start| {
                    let end = (start + SCORE_CHUNK).min(text.len());
                    (text, start, end)
                })
            })
            .map(|(text, start, end)| (self.range_bits(text, start, end), (end - start) as u64))
            .collect();
        pieces.iter().fold(
            CrossEntropy {
                bits: 0.0,
                bytes: 0,
            },
            |acc, &(bits, bytes)| CrossEntropy {
                bits: acc.bits + bits,
                bytes: acc.bytes + bytes,
            },
        )
    }

    /// Bits per byte on `texts`: total bits over total bytes ([`ByteLm::cross_entropy`]); NaN
    /// when the texts hold no byte. `2^bpb` is the per-byte perplexity.
    pub fn bits_per_byte<'a>(&self, texts: impl IntoParallelIterator<Item = &'a [u8]>) -> f64 {
        self.cross_entropy(texts).bits_per_byte()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::test_fixture as fixture;

    fn docs_of(texts: &[(&'static str, u32)]) -> Vec<(&'static [u8], u32)> {
        texts.iter().map(|&(t, c)| (t.as_bytes(), c)).collect()
    }

    fn sum_of_probs(lm: &ByteLm, context: &[u8]) -> f64 {
        (0..=255u8)
            .map(|b| {
                let lp = lm.log2_prob(context, b);
                assert!(lp.is_finite() && lp < 0.0, "{context:?} {b}: {lp}");
                lp.exp2()
            })
            .sum()
    }

    #[test]
    fn probabilities_sum_to_one() {
        let f = fixture::samples();
        let train_docs: Vec<(&[u8], u32)> = f
            .iter()
            .take(120)
            .enumerate()
            .map(|(i, s)| (s.text.as_bytes(), 1 + (i % 3) as u32))
            .collect();
        let probe = f[200].text.as_bytes();
        for order in [1, 2, 3, 5, 8] {
            let lm = train(order, train_docs.iter().copied()).unwrap();
            let mut contexts: Vec<&[u8]> = vec![
                b"",
                b"t",
                b"th",
                b"the",
                b" the ",
                b"of the",
                b"zqzqzqzq",
                b"\xff\x00\x01",
                b"\x00",
                b"the quick brown fox and the lazy dog",
            ];
            contexts.extend((0..probe.len().min(400)).step_by(37).map(|i| &probe[..i]));
            contexts.extend(train_docs[7].0.windows(order + 2).step_by(53).take(10));
            for c in contexts {
                let s = sum_of_probs(&lm, c);
                assert!((s - 1.0).abs() < 1e-9, "order {order}, {c:?}: {s}");
            }
        }
    }

    /// Counts and probabilities by brute force: every n-gram occurrence listed with its left
    /// neighbour (`None` at a document start), the recursion of the module doc written out
    /// without any of the model's shortcuts.
    fn reference_log2_prob(order: usize, docs: &[(&[u8], u32)], context: &[u8], w: u8) -> f64 {
        let h = &context[context.len().saturating_sub(order - 1)..];
        let mut p = 1.0 / 256.0;
        for k in 1..=h.len() + 1 {
            let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
            if k == order {
                for &(d, c) in docs.iter().filter(|d| d.1 > 0) {
                    for g in d.windows(k) {
                        *counts.entry(g.to_vec()).or_default() += u64::from(c);
                    }
                }
            } else {
                let mut seen: HashSet<(Option<u8>, Vec<u8>)> = HashSet::new();
                for &(d, _) in docs.iter().filter(|d| d.1 > 0) {
                    for (i, g) in d.windows(k).enumerate() {
                        seen.insert((i.checked_sub(1).map(|j| d[j]), g.to_vec()));
                    }
                }
                for (_, g) in seen {
                    *counts.entry(g).or_default() += 1;
                }
            }
            let mut coc = [0u64; 4];
            for &c in counts.values() {
                if (1..=4).contains(&c) {
                    coc[c as usize - 1] += 1;
                }
            }
            let d = discounts(coc);
            let disc = |c: u64| match c {
                0 => 0.0,
                1 => d[0],
                2 => d[1],
                _ => d[2],
            };
            let hk = &h[h.len() + 1 - k..];
            let (mut total, mut gamma) = (0u64, 0.0);
            for (g, &c) in &counts {
                if &g[..k - 1] == hk {
                    total += c;
                    gamma += disc(c);
                }
            }
            if total == 0 {
                continue;
            }
            let mut g = hk.to_vec();
            g.push(w);
            let c = counts.get(&g).copied().unwrap_or(0);
            p = (c as f64 - disc(c) + gamma * p) / total as f64;
        }
        p.log2()
    }

    #[test]
    fn matches_a_brute_force_reference() {
        let texts = [
            ("abracadabra abracadabra", 1),
            ("the cat sat on the mat", 2),
            ("cab", 3),
            ("ab", 1),
            ("", 2),
            ("ignored: count 0", 0),
            ("a bad cat, a bad hat", 1),
        ];
        let docs = docs_of(&texts);
        for order in [1, 2, 3, 4, 6] {
            let lm = train(order, docs.iter().copied()).unwrap();
            for context in [
                &b""[..],
                b"a",
                b"ab",
                b"abr",
                b" the c",
                b"bad ",
                b"xyz",
                b"cat",
            ] {
                for w in 0..=255u8 {
                    let got = lm.log2_prob(context, w);
                    let want = reference_log2_prob(order, &docs, context, w);
                    assert!(
                        (got - want).abs() < 1e-12,
                        "order {order} {context:?} {w}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn in_domain_training_text_predicts_held_out_text_better() {
        let f = fixture::samples();
        let held = fixture::heldout();
        let of = |sources: &[&str]| -> Vec<(&[u8], u32)> {
            f.iter()
                .filter(|s| sources.contains(&s.source.as_str()))
                .map(|s| (s.text.as_bytes(), 1))
                .collect()
        };
        let prose = of(&["wiki", "books"]);
        let code = of(&["code"]);
        let held_prose: Vec<&[u8]> = held
            .iter()
            .filter(|s| s.source == "wiki" || s.source == "books")
            .map(|s| s.text.as_bytes())
            .collect();
        let held_code: Vec<&[u8]> = held
            .iter()
            .filter(|s| s.source == "code")
            .map(|s| s.text.as_bytes())
            .collect();
        let lm_prose = train(DEFAULT_ORDER, prose).unwrap();
        let lm_code = train(DEFAULT_ORDER, code).unwrap();
        let bpb = |lm: &ByteLm, t: &[&[u8]]| lm.bits_per_byte(t.par_iter().copied());
        let (pp, pc) = (bpb(&lm_prose, &held_prose), bpb(&lm_code, &held_prose));
        let (cc, cp) = (bpb(&lm_code, &held_code), bpb(&lm_prose, &held_code));
        println!("held-out prose: {pp:.3} bpb (prose model), {pc:.3} (code model)");
        println!("held-out code: {cc:.3} bpb (code model), {cp:.3} (prose model)");
        assert!(pp < pc - 0.2, "{pp} vs {pc}");
        assert!(cc < cp - 0.2, "{cc} vs {cp}");
        assert!(pp < 4.0 && cc < 4.0, "{pp} {cc}");
    }

    #[test]
    fn a_count_equals_copies() {
        let f = fixture::samples();
        let a = f[3].text.as_bytes();
        let b = f[4].text.as_bytes();
        let counted = train(4, [(a, 2), (b, 1)]).unwrap();
        let copied = train(4, [(a, 1), (b, 1), (a, 1)]).unwrap();
        for k in 1..=4 {
            assert_eq!(counted.discounts(k), copied.discounts(k));
        }
        for context in [&b""[..], b"t", b"the", b"e th", b"qqq", &a[10..13]] {
            for w in 0..=255u8 {
                assert_eq!(counted.log2_prob(context, w), copied.log2_prob(context, w));
            }
        }
        let texts: Vec<&[u8]> = vec![b, f[5].text.as_bytes()];
        assert_eq!(
            counted.cross_entropy(texts.par_iter().copied()),
            copied.cross_entropy(texts.par_iter().copied())
        );
    }

    #[test]
    fn order_one_is_a_smoothed_unigram() {
        let text = b"mississippi river, mississippi delta";
        let lm = train(1, [(&text[..], 1)]).unwrap();
        let mut c = [0u64; 256];
        for &b in text {
            c[b as usize] += 1;
        }
        let mut coc = [0u64; 4];
        for &x in &c {
            if (1..=4).contains(&x) {
                coc[x as usize - 1] += 1;
            }
        }
        let d = discounts(coc);
        let disc = |x: u64| [0.0, d[0], d[1], d[2]][x.min(3) as usize];
        let total = text.len() as f64;
        let gamma: f64 = c.iter().map(|&x| disc(x)).sum();
        for w in 0..=255u8 {
            let x = c[w as usize];
            let want = (x as f64 - disc(x)) / total + gamma / total / 256.0;
            for context in [&b""[..], b"mis", b"zz"] {
                assert!((lm.log2_prob(context, w) - want.log2()).abs() < 1e-12);
            }
        }
        // Bits of a held-out text are the sum of its bytes' unigram bits.
        let held = b"misty";
        let want: f64 = held.iter().map(|&b| -lm.log2_prob(b"", b)).sum();
        let got = lm.cross_entropy([&held[..]]);
        assert!((got.bits - want).abs() < 1e-9 && got.bytes == 5);
    }

    #[test]
    fn empty_training_set_is_uniform() {
        let none: [(&[u8], u32); 0] = [];
        for order in [1, DEFAULT_ORDER, MAX_ORDER] {
            let lm = train(order, none).unwrap();
            assert_eq!(lm.bits_per_byte([&b"any text at all"[..]]), 8.0);
        }
        let zero_counts = train(3, [(&b"abc"[..], 0)]).unwrap();
        assert_eq!(zero_counts.log2_prob(b"ab", b'c'), -8.0);
        let lm = train(3, [(&b"abc"[..], 1)]).unwrap();
        assert!(lm.bits_per_byte(Vec::<&[u8]>::new()).is_nan());
        assert_eq!(lm.cross_entropy([&b""[..]]).bytes, 0);
    }

    #[test]
    fn bad_orders_and_long_texts() {
        let none: [(&[u8], u32); 0] = [];
        assert_eq!(
            train(0, none).unwrap_err(),
            EvalError::BadOrder { order: 0, max: 8 }
        );
        assert!(train(9, none).is_err());
        // A text longer than one scoring piece scores as the sum of its bytes.
        let text: Vec<u8> = (0..SCORE_CHUNK * 2 + 77)
            .map(|i| b"abcabd"[i % 6])
            .collect();
        let lm = train(3, [(&text[..1000], 1)]).unwrap();
        let want: f64 = (0..text.len())
            .map(|i| -lm.log2_prob(&text[i.saturating_sub(2)..i], text[i]))
            .sum();
        let got = lm.cross_entropy([&text[..]]);
        assert_eq!(got.bytes, text.len() as u64);
        assert!((got.bits - want).abs() < 1e-6 * want);
    }

    /// Training time on about 5 MB of the demo corpus (`$SAMPLEMIX_DATA_DIR/demo/part*.jsonl`,
    /// built by `tools/build-corpus.py`) with counts 1 to 4 (and, for comparison, all 1), and
    /// scoring time on 1 MB of its held-out set; printed, no assertion on time. Run with
    /// `cargo test --release --lib measure_training_time -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement; needs the demo corpus"]
    fn measure_training_time() {
        let Some(texts) = fixture::demo_corpus_texts(5_000_000) else {
            println!("no demo corpus: run tools/build-corpus.py");
            return;
        };
        let held = fixture::demo_heldout_texts(1_000_000).unwrap_or_default();
        let held: Vec<&[u8]> = held.iter().map(|t| t.as_bytes()).collect();
        let bytes: usize = texts.iter().map(|t| t.len()).sum();
        for (order, counts) in [(5, "1 to 4"), (5, "1"), (3, "1 to 4"), (8, "1 to 4")] {
            let count = |i: usize| if counts == "1" { 1 } else { 1 + (i % 4) as u32 };
            let started = std::time::Instant::now();
            let docs = texts
                .iter()
                .enumerate()
                .map(|(i, t)| (t.as_bytes(), count(i)));
            let lm = train(order, docs).unwrap();
            let trained = started.elapsed();
            let started = std::time::Instant::now();
            let ce = lm.cross_entropy(held.par_iter().copied());
            println!(
                "order {order}, counts {counts}: trained on {bytes} bytes ({} docs) in \
                 {trained:.2?} with {} threads; {lm:?}; top discounts {:.3?}; scored {} held-out \
                 bytes in {:.2?}: {:.3} bpb",
                texts.len(),
                rayon::current_num_threads(),
                lm.discounts(order).unwrap_or_default(),
                ce.bytes,
                started.elapsed(),
                ce.bits_per_byte()
            );
        }
    }
}
