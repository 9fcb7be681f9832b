//! Locality-sensitive hashing of MinHash signatures: candidate pairs, novelty and near-duplicate
//! groups.
//!
//! **Banding.** The first `b * r` values of a signature are cut into `b` bands of `r` rows; a
//! band's bucket key is xxh3 of the band number (u32, little-endian) followed by its `r` values
//! (u32, little-endian each). Two samples are candidates when they share at least one bucket key,
//! which for true Jaccard similarity `J` happens with probability `P(J) = 1 - (1 - J^r)^b`.
//! The default, `b = 32`, `r = 4` (all 128 values), gives
//!
//! | J | 0.1 | 0.2 | 0.3 | 0.4 | 0.5 | 0.6 | 0.7 | 0.8 | 0.9 |
//! |---|---|---|---|---|---|---|---|---|---|
//! | P(J) | 0.003 | 0.050 | 0.229 | 0.564 | 0.873 | 0.988 | 1 - 2e-4 | 1 - 5e-8 | 1 - 2e-15 |
//!
//! with the steepest point near `(1/b)^(1/r) = 0.42`. Near-duplicates (J >= 0.8) are never
//! missed by the buckets, and the novelty of a sample whose closest other sample has J >= 0.5
//! (templated pages, boilerplate, heavy edits) is resolved too, which is what the n-gram term of
//! d(x) is for. The other common choice, 20 x 6, misses pairs below 0.6 (P(0.45) = 0.15,
//! P(0.6) = 0.62). Measured on the fixture's 302 samples (ignored test `measure_banding`): the
//! mean error of `overlap(x)` against the true largest Jaccard similarity is 0.013 with 32 x 4
//! and 0.027 with 20 x 6; of the 49 samples whose closest other sample has J >= 0.3, 1 reads
//! overlap 0 with 32 x 4 and 7 with 20 x 6. The price is more pairs to verify (38 instead of 21
//! there) and 32 bucket keys per sample instead of 20. Bucket keys are what the store persists,
//! as bucket key -> sample keys.
//!
//! **Verification.** A candidate counts only through its estimated Jaccard similarity (the
//! fraction of equal values over the whole signature), never through the bucket collision alone.
//!
//! **Novelty.** `overlap(x)` is the largest estimated similarity between `x` and any other
//! sample among its candidates (0 when it has none); `novelty(x) = 1 - overlap(x)`. A sample
//! without shingles (empty or punctuation only) has no buckets, overlap 0 and novelty 1.
//! Because bucket sharing and the estimate are symmetric, and a maximum does not depend on the
//! order of its terms, inserting the same samples in any order gives the same overlaps, novelties
//! and groups; ties in the nearest sample go to the smallest key, so that is order-free too.
//!
//! **Groups.** Two samples are near-duplicates when their true shingle Jaccard similarity is at
//! least [`DEFAULT_NEAR_DUPLICATE_THRESHOLD`] = 0.8. The estimate has standard deviation
//! `sqrt(J (1 - J) / K)` (0.035 at J = 0.8, K = 128), so cutting the estimate at 0.8 itself would
//! miss about half of the pairs that sit just above 0.8 (measured on the fixture: recall 0.81).
//! Pairs are therefore linked when their estimate reaches [`grouping_threshold`]`(0.8, K)` =
//! `0.8 - 2 sqrt(0.8 * 0.2 / K)` = 0.729 for K = 128, which keeps about 97% of the pairs at
//! exactly J = 0.8 and admits a pair at J = 0.6 with probability 0.1%. Groups are the connected
//! components of the linked pairs (union-find).
//!
//! A bucket shared by very many samples (thousands of copies of one boilerplate page) makes
//! insertion cost grow with its size; exact duplicates are dropped before this stage, which keeps
//! that rare.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use super::error::{DiversityError, Result};
use super::minhash::{Signature, DEFAULT_NUM_PERM};
#[cfg(test)]
use crate::algo::union_find::UnionFind;

/// True Jaccard similarity at and above which two samples are near-duplicates by default.
pub const DEFAULT_NEAR_DUPLICATE_THRESHOLD: f32 = 0.8;

/// The cut on estimated similarity that finds pairs of true similarity `jaccard` with about 97%
/// probability from signatures of `num_perm` values: `jaccard - 2 sqrt(jaccard (1 - jaccard) /
/// num_perm)`.
pub fn grouping_threshold(jaccard: f32, num_perm: usize) -> f32 {
    let j = f64::from(jaccard.clamp(0.0, 1.0));
    (j - 2.0 * (j * (1.0 - j) / num_perm.max(1) as f64).sqrt()) as f32
}

/// Bands and rows per band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LshParams {
    /// Number of bands `b`.
    pub bands: usize,
    /// Signature values per band `r`.
    pub rows: usize,
}

impl Default for LshParams {
    fn default() -> Self {
        LshParams { bands: 32, rows: 4 }
    }
}

impl LshParams {
    /// Probability that two samples of true Jaccard similarity `j` share a bucket:
    /// `1 - (1 - j^r)^b`.
    pub fn detection_probability(&self, j: f64) -> f64 {
        1.0 - (1.0 - j.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// The similarity where the S-curve is steepest, about `(1/b)^(1/r)`.
    pub fn threshold(&self) -> f64 {
        (1.0 / self.bands as f64).powf(1.0 / self.rows as f64)
    }

    fn check(&self, num_perm: usize) -> Result<()> {
        if self.bands == 0 {
            return Err(DiversityError::Zero { what: "LSH bands" });
        }
        if self.rows == 0 {
            return Err(DiversityError::Zero {
                what: "LSH rows per band",
            });
        }
        let need = self.bands * self.rows;
        if need > num_perm {
            return Err(DiversityError::BandsTooWide {
                bands: self.bands,
                rows: self.rows,
                need,
                have: num_perm,
            });
        }
        Ok(())
    }
}

/// The `b` bucket keys of a signature (none for an empty signature). Errors when the signature is
/// shorter than `b * r`.
pub fn bucket_keys(sig: &Signature, params: &LshParams) -> Result<Vec<u64>> {
    if sig.is_empty() {
        return Ok(Vec::new());
    }
    params.check(sig.len())?;
    let mut buf = Vec::with_capacity(4 * (params.rows + 1));
    Ok(sig
        .values()
        .chunks_exact(params.rows)
        .take(params.bands)
        .enumerate()
        .map(|(band, values)| {
            buf.clear();
            buf.extend_from_slice(&(band as u32).to_le_bytes());
            for v in values {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            xxh3_64(&buf)
        })
        .collect())
}

/// The most similar other sample of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// Key of the most similar other sample (the smallest key among equals); `None` when no
    /// candidate was found.
    pub nearest: Option<u64>,
    /// Its estimated Jaccard similarity (0 when `nearest` is `None`).
    pub jaccard: f32,
}

impl Overlap {
    /// No similar sample: overlap 0, novelty 1.
    pub const NONE: Overlap = Overlap {
        nearest: None,
        jaccard: 0.0,
    };

    /// `1 - jaccard`, in `[0, 1]`.
    pub fn novelty(&self) -> f32 {
        1.0 - self.jaccard
    }

    /// Whether sample `key` at estimated similarity `j` beats the current nearest sample: a
    /// larger similarity, or the same with a smaller key. This rule makes the result independent
    /// of the order in which samples are offered; a store that keeps overlaps should use it too.
    pub fn improved_by(&self, key: u64, j: f32) -> bool {
        match self.nearest {
            None => true,
            Some(cur) => j > self.jaccard || (j == self.jaccard && key < cur),
        }
    }

    /// Takes `(key, j)` as the nearest sample when it improves the overlap; returns whether it
    /// did.
    pub fn offer(&mut self, key: u64, j: f32) -> bool {
        let better = self.improved_by(key, j);
        if better {
            *self = Overlap {
                nearest: Some(key),
                jaccard: j,
            };
        }
        better
    }
}

/// What inserting one sample changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Inserted {
    /// The new sample's own overlap.
    pub overlap: Overlap,
    /// Older samples whose overlap the new sample raised, with their new overlap (their novelty
    /// must be rewritten).
    pub updated: Vec<(u64, Overlap)>,
}

/// In-memory LSH index: bucket key -> sample keys, plus each sample's signature and overlap.
/// `Default` is [`LshIndex::with_defaults`].
#[derive(Debug, Clone)]
pub struct LshIndex {
    params: LshParams,
    num_perm: usize,
    buckets: HashMap<u64, Vec<u64>>,
    signatures: HashMap<u64, Signature>,
    overlaps: HashMap<u64, Overlap>,
}

impl LshIndex {
    /// An empty index for signatures of `num_perm` values. Errors when the bands do not fit.
    pub fn new(params: LshParams, num_perm: usize) -> Result<Self> {
        params.check(num_perm)?;
        Ok(LshIndex {
            params,
            num_perm,
            buckets: HashMap::new(),
            signatures: HashMap::new(),
            overlaps: HashMap::new(),
        })
    }

    /// An empty index with the default 32 x 4 bands over 128-value signatures.
    pub fn with_defaults() -> Self {
        LshIndex {
            params: LshParams::default(),
            num_perm: DEFAULT_NUM_PERM,
            buckets: HashMap::new(),
            signatures: HashMap::new(),
            overlaps: HashMap::new(),
        }
    }

    #[cfg(test)]
    /// The banding.
    pub fn params(&self) -> LshParams {
        self.params
    }

    #[cfg(test)]
    /// Number of samples inserted.
    pub fn len(&self) -> usize {
        self.signatures.len()
    }

    #[cfg(test)]
    /// Whether nothing was inserted.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    fn check_sig(&self, sig: &Signature) -> Result<()> {
        if !sig.is_empty() && sig.len() != self.num_perm {
            return Err(DiversityError::SignatureLength {
                expected: self.num_perm,
                got: sig.len(),
            });
        }
        Ok(())
    }

    #[cfg(test)]
    /// Sample keys that share at least one bucket with `sig`, sorted, without repeats.
    pub fn candidates(&self, sig: &Signature) -> Result<Vec<u64>> {
        self.check_sig(sig)?;
        let mut out: Vec<u64> = bucket_keys(sig, &self.params)?
            .iter()
            .filter_map(|b| self.buckets.get(b))
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    #[cfg(test)]
    /// Candidates of `sig` whose estimated similarity is at least `min_jaccard`, most similar
    /// first (then by key).
    pub fn similar(&self, sig: &Signature, min_jaccard: f32) -> Result<Vec<(u64, f32)>> {
        let mut out: Vec<(u64, f32)> = self
            .candidates(sig)?
            .into_iter()
            .filter_map(|key| {
                let j = self.signatures.get(&key)?.similarity_unchecked(sig);
                (j >= min_jaccard).then_some((key, j))
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// Adds a sample; returns its overlap and the older samples whose overlap it raised.
    pub fn insert(&mut self, key: u64, sig: Signature) -> Result<Inserted> {
        if self.signatures.contains_key(&key) {
            return Err(DiversityError::DuplicateKey(key));
        }
        self.check_sig(&sig)?;
        let buckets = bucket_keys(&sig, &self.params)?;
        let mut cands: Vec<u64> = buckets
            .iter()
            .filter_map(|b| self.buckets.get(b))
            .flatten()
            .copied()
            .collect();
        cands.sort_unstable();
        cands.dedup();
        let mut own = Overlap::NONE;
        let mut updated = Vec::new();
        for other in cands {
            let (Some(other_sig), Some(other_overlap)) =
                (self.signatures.get(&other), self.overlaps.get_mut(&other))
            else {
                continue;
            };
            let j = other_sig.similarity_unchecked(&sig);
            own.offer(other, j);
            if other_overlap.offer(key, j) {
                updated.push((other, *other_overlap));
            }
        }
        for b in buckets {
            self.buckets.entry(b).or_default().push(key);
        }
        self.signatures.insert(key, sig);
        self.overlaps.insert(key, own);
        Ok(Inserted {
            overlap: own,
            updated,
        })
    }

    #[cfg(test)]
    /// The overlap of an inserted sample.
    pub fn overlap(&self, key: u64) -> Option<Overlap> {
        self.overlaps.get(&key).copied()
    }

    #[cfg(test)]
    /// `1 - overlap` of an inserted sample.
    pub fn novelty(&self, key: u64) -> Option<f32> {
        self.overlap(key).map(|o| o.novelty())
    }

    #[cfg(test)]
    /// Every sample's overlap, sorted by key.
    pub fn overlaps(&self) -> Vec<(u64, Overlap)> {
        let mut out: Vec<(u64, Overlap)> = self.overlaps.iter().map(|(&k, &o)| (k, o)).collect();
        out.sort_unstable_by_key(|p| p.0);
        out
    }

    #[cfg(test)]
    /// The estimate cut for the default near-duplicate similarity with this index's signature
    /// length: [`grouping_threshold`]`(0.8, K)`.
    pub fn default_grouping_threshold(&self) -> f32 {
        grouping_threshold(DEFAULT_NEAR_DUPLICATE_THRESHOLD, self.num_perm)
    }

    #[cfg(test)]
    /// Candidate pairs `(a, b, j)` with `a < b` and estimated similarity `j >= threshold`,
    /// sorted. For near-duplicates pass [`LshIndex::default_grouping_threshold`].
    pub fn near_duplicate_pairs(&self, threshold: f32) -> Vec<(u64, u64, f32)> {
        let mut keys: Vec<u64> = self.signatures.keys().copied().collect();
        keys.sort_unstable();
        let mut out = Vec::new();
        for a in keys {
            let Some(sig) = self.signatures.get(&a) else {
                continue;
            };
            // Signatures in the index all passed check_sig, so this cannot fail.
            if let Ok(similar) = self.similar(sig, threshold) {
                out.extend(
                    similar
                        .into_iter()
                        .filter(|&(b, _)| b > a)
                        .map(|(b, j)| (a, b, j)),
                );
            }
        }
        out.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.cmp(&y.1)));
        out
    }

    #[cfg(test)]
    /// Near-duplicate groups: connected components (of two or more samples) of the pairs with
    /// estimated similarity `>= threshold` (see [`LshIndex::default_grouping_threshold`]). Each
    /// group is sorted; groups are sorted by their smallest key.
    pub fn near_duplicate_groups(&self, threshold: f32) -> Vec<Vec<u64>> {
        let pairs = self.near_duplicate_pairs(threshold);
        let mut ids: Vec<u64> = pairs.iter().flat_map(|p| [p.0, p.1]).collect();
        ids.sort_unstable();
        ids.dedup();
        let index: HashMap<u64, usize> = ids.iter().enumerate().map(|(i, &k)| (k, i)).collect();
        let mut uf = UnionFind::new(ids.len());
        for (a, b, _) in &pairs {
            if let (Some(&i), Some(&j)) = (index.get(a), index.get(b)) {
                uf.union(i, j);
            }
        }
        uf.components()
            .into_iter()
            .map(|g| g.into_iter().map(|i| ids[i]).collect())
            .collect()
    }
}

impl Default for LshIndex {
    fn default() -> Self {
        Self::with_defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::diversity::minhash::MinHasher;

    #[test]
    fn s_curve_of_the_default_banding() {
        let p = LshParams::default();
        let expect = [
            (0.1, 0.003),
            (0.2, 0.050),
            (0.3, 0.229),
            (0.4, 0.564),
            (0.5, 0.873),
            (0.6, 0.988),
        ];
        for (j, pr) in expect {
            assert!((p.detection_probability(j) - pr).abs() < 1e-3, "P({j})");
        }
        assert!(p.detection_probability(0.7) > 0.9998);
        assert!(p.detection_probability(0.8) > 1.0 - 1e-7);
        assert!((p.threshold() - 0.4204).abs() < 1e-3);
        let other = LshParams { bands: 20, rows: 6 };
        assert!((other.detection_probability(0.45) - 0.15).abs() < 0.01);
        assert!((other.detection_probability(0.6) - 0.62).abs() < 0.01);
        assert!(LshIndex::new(LshParams { bands: 20, rows: 7 }, 128).is_err());
        assert!(LshIndex::new(LshParams { bands: 0, rows: 7 }, 128).is_err());
        let cut = grouping_threshold(0.8, 128);
        assert!((cut - 0.7293).abs() < 1e-4);
        assert_eq!(LshIndex::with_defaults().default_grouping_threshold(), cut);
        assert!(LshIndex::new(LshParams { bands: 20, rows: 7 }, 128).is_err());
        assert!(LshIndex::new(LshParams { bands: 0, rows: 7 }, 128).is_err());
    }

    #[test]
    fn bucket_keys_depend_on_band_and_values() {
        let h = MinHasher::default();
        let s = h.signature_of_text("the quick brown fox jumps over the lazy dog");
        let keys = bucket_keys(&s, &LshParams::default()).unwrap();
        assert_eq!(keys.len(), 32);
        let mut uniq = keys.clone();
        uniq.sort_unstable();
        uniq.dedup();
        assert_eq!(uniq.len(), 32);
        assert!(bucket_keys(&h.signature_of_text(""), &LshParams::default())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn novelty_groups_and_errors() {
        let h = MinHasher::default();
        let words: Vec<String> = (0..80).map(|i| format!("w{i}")).collect();
        let base = words.join(" ");
        // One inserted word changes 4 of 76 shingles: J = 76 / 81.
        let near = base.replace("w40 ", "w40 extra ");
        let other = "completely different words appear in this unrelated sentence about cats";
        let mut idx = LshIndex::default();
        idx.insert(1, h.signature_of_text(&base)).unwrap();
        idx.insert(2, h.signature_of_text(other)).unwrap();
        let ins = idx.insert(3, h.signature_of_text(&near)).unwrap();
        assert_eq!(ins.overlap.nearest, Some(1));
        assert_eq!(ins.updated.len(), 1);
        assert_eq!(idx.novelty(2), Some(1.0));
        assert!(idx.novelty(1).unwrap() < 0.2);
        assert_eq!(idx.near_duplicate_groups(0.8), vec![vec![1, 3]]);
        idx.insert(4, h.signature_of_text("")).unwrap();
        assert_eq!(idx.novelty(4), Some(1.0));
        assert_eq!(
            idx.insert(4, h.signature_of_text("x")),
            Err(DiversityError::DuplicateKey(4))
        );
        let short = MinHasher::new(64, 5, 0).unwrap();
        assert!(idx.insert(5, short.signature_of_text("a b c")).is_err());
    }
}
