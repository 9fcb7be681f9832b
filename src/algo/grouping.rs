//! Near-duplicate groups: the one rule behind `topics --duplicates` and the redundancy that
//! `eval` measures. Two samples are linked when they share an LSH bucket and their MinHash
//! signatures' estimated Jaccard similarity reaches the cut; groups are the connected
//! components of the links.

use rayon::prelude::*;

use super::union_find::UnionFind;
use crate::algo::diversity::Signature;

/// Links every two items that share a bucket key (`keys[i]` are item `i`'s, `sigs[i]` its
/// signature) and whose estimated similarity reaches `cut`. Signatures that do not compare
/// (different lengths) are not linked. Returns the sets; [`UnionFind::components`] lists them.
pub fn link_near_duplicates(sigs: &[Signature], keys: &[Vec<u64>], cut: f32) -> UnionFind {
    // Bucket members as runs of (key, item) pairs sorted by key.
    let mut pairs: Vec<(u64, usize)> = keys
        .iter()
        .enumerate()
        .flat_map(|(i, ks)| ks.iter().map(move |&k| (k, i)))
        .collect();
    pairs.par_sort_unstable();
    let mut uf = UnionFind::new(sigs.len());
    for run in pairs.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        for (x, &(_, a)) in run.iter().enumerate() {
            for &(_, b) in &run[x + 1..] {
                if uf.find(a) != uf.find(b) && sigs[a].similarity(&sigs[b]).is_ok_and(|j| j >= cut)
                {
                    uf.union(a, b);
                }
            }
        }
    }
    uf
}

/// The groups of two or more items under [`link_near_duplicates`], each ascending, ordered by
/// their smallest item.
pub fn near_duplicate_groups(sigs: &[Signature], keys: &[Vec<u64>], cut: f32) -> Vec<Vec<usize>> {
    link_near_duplicates(sigs, keys, cut)
        .components()
        .into_iter()
        .filter(|g| g.len() > 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(values: &[u32]) -> Signature {
        Signature::from_values(values.to_vec())
    }

    #[test]
    fn items_link_through_shared_buckets_at_the_cut() {
        let sigs = vec![
            sig(&[1, 2, 3, 4]),
            sig(&[1, 2, 3, 9]),
            sig(&[7, 7, 7, 7]),
            sig(&[1, 2, 8, 9]),
            sig(&[1, 2, 3, 4]),
            sig(&[]),
        ];
        // 0 ~ 1 (0.75) in bucket 10; 1 ~ 3 (0.75) in bucket 11; 4 equals 0 but shares no
        // bucket with it; 2 shares bucket 10 but is unlike everything; 5 has no signature.
        let keys = vec![
            vec![10],
            vec![10, 11],
            vec![10],
            vec![11],
            vec![12],
            vec![10],
        ];
        assert_eq!(
            near_duplicate_groups(&sigs, &keys, 0.75),
            vec![vec![0, 1, 3]]
        );
        assert!(near_duplicate_groups(&sigs, &keys, 0.8).is_empty());
        let mut uf = link_near_duplicates(&sigs, &keys, 0.75);
        assert_eq!(uf.components().len(), 4);
    }

    #[test]
    fn signatures_of_other_lengths_are_never_linked() {
        let sigs = vec![sig(&[1, 2, 3, 4]), sig(&[1, 2])];
        assert!(near_duplicate_groups(&sigs, &[vec![1], vec![1]], 0.0).is_empty());
    }
}
