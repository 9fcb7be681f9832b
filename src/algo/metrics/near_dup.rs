//! Redundancy of a mix: its near-duplicate samples, and how many of its drawn instances repeat
//! an earlier one exactly or as a near-duplicate.
//!
//! Near-duplicates are found as `samplemix topics --duplicates` finds them: MinHash signatures of
//! word 5-gram shingles under the default [`MinHasher`] (128 values), LSH with the default
//! [`LshParams`] (32 bands of 4 rows), and a candidate pair linked when its estimated Jaccard
//! similarity reaches [`grouping_threshold`]`(`[`DEFAULT_NEAR_DUPLICATE_THRESHOLD`]`, 128)` =
//! 0.729 (pairs of true similarity 0.8 are linked with about 97% probability). Groups are the
//! connected components of the links. A text without a word has an empty signature and is never a
//! near-duplicate of anything; a text of 1 to 4 words has one shingle of all its words and matches
//! only the same words in the same order.
//!
//! Unlike `topics`, which keeps only the signatures of the pool, this works on a mix's distinct
//! samples alone, so a group here is a group of drawn samples.

use rayon::prelude::*;

use crate::algo::diversity::{
    bucket_keys, grouping_threshold, LshParams, MinHasher, DEFAULT_NEAR_DUPLICATE_THRESHOLD,
};
use crate::algo::grouping::link_near_duplicates;

/// Near-duplicate statistics of a mix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearDupStats {
    /// Distinct samples drawn (count at least 1).
    pub samples: u64,
    /// Drawn instances: the sum of the counts.
    pub instances: u64,
    /// Near-duplicate groups, a sample without near-duplicates counting as a group of its own.
    pub groups: u64,
    /// Distinct samples with at least one other drawn sample in their group.
    pub near_dup_samples: u64,
    /// `near_dup_samples / samples` (0 for an empty mix).
    pub near_dup_rate: f64,
    /// `(instances - groups) / instances`: the fraction of drawn instances that repeat an earlier
    /// instance, exactly (a count above 1) or as a near-duplicate (0 for an empty mix).
    pub redundant_rate: f64,
}

/// Near-duplicate statistics of a mix given as its distinct samples `(text, count)`; samples with
/// count 0 are left out. Signatures are computed in parallel; see the module doc for the rule.
pub fn near_duplicates(docs: &[(&str, u32)]) -> NearDupStats {
    let drawn: Vec<(&str, u32)> = docs.iter().copied().filter(|d| d.1 > 0).collect();
    let hasher = MinHasher::default();
    let params = LshParams::default();
    let cut = grouping_threshold(DEFAULT_NEAR_DUPLICATE_THRESHOLD, hasher.num_perm());
    let (sigs, keys): (Vec<_>, Vec<_>) = drawn
        .par_iter()
        .map(|&(text, _)| {
            let sig = hasher.signature_of_text(text);
            // Cannot fail: default signatures hold 128 = 32 x 4 values, or none.
            let keys = bucket_keys(&sig, &params).unwrap_or_default();
            (sig, keys)
        })
        .unzip();
    let mut uf = link_near_duplicates(&sigs, &keys, cut);
    let mut size = vec![0u64; drawn.len()];
    let roots: Vec<usize> = (0..drawn.len()).map(|i| uf.find(i)).collect();
    for &r in &roots {
        size[r] += 1;
    }
    let samples = drawn.len() as u64;
    let instances: u64 = drawn.iter().map(|d| u64::from(d.1)).sum();
    let groups = size.iter().filter(|&&s| s > 0).count() as u64;
    let near_dup_samples = roots.iter().filter(|&&r| size[r] > 1).count() as u64;
    let rate = |num: u64, den: u64| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    NearDupStats {
        samples,
        instances,
        groups,
        near_dup_samples,
        near_dup_rate: rate(near_dup_samples, samples),
        redundant_rate: rate(instances - groups, instances),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::algo::diversity::{jaccard, shingles, LshIndex, DEFAULT_SHINGLE_WORDS};
    use crate::test_fixture as fixture;

    /// SplitMix64 steps.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn random_text(rng: &mut u64, words: usize) -> String {
        (0..words)
            .map(|_| format!("w{}", next(rng) % 5000))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn planted_near_copies_are_found_and_unrelated_texts_are_not() {
        let mut rng = 7;
        let base = random_text(&mut rng, 300);
        // Three edited words change at most 15 of 296 shingles: J >= 281 / 311 = 0.9.
        let mut words: Vec<&str> = base.split(' ').collect();
        words[40] = "edited";
        words[150] = "changed";
        words[260] = "altered";
        let near = words.join(" ");
        let others: Vec<String> = (0..20).map(|_| random_text(&mut rng, 200)).collect();
        let mut docs: Vec<(&str, u32)> = vec![(&base, 1), (&near, 1)];
        docs.extend(others.iter().map(|t| (t.as_str(), 1)));
        docs.push(("", 1));
        docs.push(("two words", 1));
        let s = near_duplicates(&docs);
        assert_eq!((s.samples, s.instances, s.groups), (24, 24, 23));
        assert_eq!(s.near_dup_samples, 2);
        assert!((s.near_dup_rate - 2.0 / 24.0).abs() < 1e-12);
        assert!((s.redundant_rate - 1.0 / 24.0).abs() < 1e-12);
        // Empty texts are near-duplicates of nothing, not even of each other.
        let s = near_duplicates(&[("", 1), ("", 1), (" ... ", 1)]);
        assert_eq!((s.groups, s.near_dup_samples), (3, 0));
    }

    #[test]
    fn counts_feed_the_redundant_rate_exactly() {
        let mut rng = 11;
        let (a, b) = (random_text(&mut rng, 100), random_text(&mut rng, 100));
        let s = near_duplicates(&[(&a, 2), (&b, 2)]);
        assert_eq!((s.samples, s.instances, s.groups), (2, 4, 2));
        assert_eq!((s.near_dup_samples, s.near_dup_rate), (0, 0.0));
        assert_eq!(s.redundant_rate, 0.5);
        let near = a.replacen("w", "v", 1);
        let s = near_duplicates(&[(&a, 3), (&near, 1), (&b, 1), ("not drawn", 0)]);
        assert_eq!((s.samples, s.instances, s.groups), (3, 5, 2));
        assert_eq!(s.near_dup_samples, 2);
        assert_eq!(s.redundant_rate, 3.0 / 5.0);
        let empty = near_duplicates(&[]);
        assert_eq!(
            (empty.samples, empty.redundant_rate, empty.near_dup_rate),
            (0, 0.0, 0.0)
        );
    }

    /// The same groups as the diversity module's `LshIndex` (the rule of `topics
    /// --duplicates`), and the fixture's labelled near-copies of true Jaccard similarity >= 0.8
    /// are found.
    #[test]
    fn agrees_with_the_lsh_index_on_the_fixture() {
        let f = fixture::samples();
        let docs: Vec<(&str, u32)> = f.iter().map(|s| (s.text.as_str(), 1)).collect();
        let stats = near_duplicates(&docs);
        let hasher = MinHasher::default();
        let mut lsh = LshIndex::with_defaults();
        for (i, s) in f.iter().enumerate() {
            lsh.insert(i as u64, hasher.signature_of_text(&s.text))
                .unwrap();
        }
        let groups = lsh.near_duplicate_groups(lsh.default_grouping_threshold());
        let grouped: usize = groups.iter().map(Vec::len).sum();
        assert_eq!(stats.near_dup_samples as usize, grouped);
        assert_eq!(stats.groups as usize, f.len() - grouped + groups.len());
        let ids: HashMap<&str, usize> = f
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.as_str(), i))
            .collect();
        let mut report = Vec::new();
        for s in &f {
            let Some(&orig) = s.near_duplicate_of.as_deref().and_then(|id| ids.get(id)) else {
                continue;
            };
            let j = jaccard(
                &shingles(&s.text, DEFAULT_SHINGLE_WORDS).unwrap(),
                &shingles(&f[orig].text, DEFAULT_SHINGLE_WORDS).unwrap(),
            );
            let linked = near_duplicates(&[(&s.text, 1), (&f[orig].text, 1)]).near_dup_samples == 2;
            report.push(format!("{j:.2}{}", if linked { "+" } else { "-" }));
            if j >= 0.8 {
                assert!(linked, "{} at J = {j}", s.id);
            }
            if j < 0.6 {
                assert!(!linked, "{} at J = {j}", s.id);
            }
        }
        println!("labelled near-copies, true J (+ linked): {report:?}; {stats:?}");
    }
}
