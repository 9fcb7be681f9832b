//! Ranks, the combined diversity score d(x), and label-agreement measures.
//!
//! **Rank normalisation.** `rank_normalise(v)_i = midrank(v_i) / n`, where the mid-rank is the
//! 1-based rank with ties given the mean of the ranks they span. Values lie in `(0, 1]`; the
//! largest value gets 1, and `n` equal values all get `(n + 1) / (2 n)`.
//!
//! **d(x).** With `s(x)` the cluster score of the sample's topic
//! ([`TopicStats::score`](super::TopicStats)) and `novelty(x)` from the LSH index:
//!
//! ```text
//! cluster_rank(x) = rank_normalise(s)(x)
//! d(x)            = rank_normalise(cluster_rank * novelty)(x)
//! ```
//!
//! the form docs/method.md suggests. The product makes a near-copy (novelty near 0) score low in any
//! topic, and orders unique samples by their topic; the outer rank makes d uniform on `(0, 1]`
//! like q(x), so the two can be weighted against each other. All parts are returned
//! ([`DiversityParts`]) so a user can see why a sample scored as it did.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::error::{DiversityError, Result};
use crate::algo::rank::for_each_mid_rank;

/// `midrank / n` of each value (see the module doc). NaN is an error naming the sample.
pub fn rank_normalise(values: &[f64]) -> Result<Vec<f64>> {
    if let Some(i) = values.iter().position(|v| v.is_nan()) {
        return Err(DiversityError::NonFiniteScore {
            what: "value to rank",
            index: i,
        });
    }
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; n];
    for_each_mid_rank(
        &order,
        |&a, &b| values[a] == values[b],
        |_| 1,
        |run, mid| {
            for &o in run {
                out[o] = mid / n as f64;
            }
        },
    );
    Ok(out)
}

/// The parts and the result of d(x) for one sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DiversityParts {
    /// Cluster score of the sample's topic.
    pub cluster_score: f64,
    /// Its rank-normalised value among the samples.
    pub cluster_rank: f64,
    /// `1 - ` largest estimated Jaccard similarity to another sample.
    pub novelty: f64,
    /// `rank_normalise(cluster_rank * novelty)`, in `(0, 1]`.
    pub d: f64,
}

/// d(x) of every sample from its topic's cluster score and its novelty (parallel slices).
/// Errors on different lengths, non-finite values, or novelty outside `[0, 1]`. The reference
/// the tests hold `topics`' diversity scale to.
#[cfg(test)]
pub fn diversity(cluster_scores: &[f64], novelty: &[f64]) -> Result<Vec<DiversityParts>> {
    if cluster_scores.len() != novelty.len() {
        return Err(DiversityError::LengthMismatch {
            what: "cluster scores and novelties",
            left: cluster_scores.len(),
            right: novelty.len(),
        });
    }
    if let Some(i) = cluster_scores.iter().position(|v| !v.is_finite()) {
        return Err(DiversityError::NonFiniteScore {
            what: "cluster score",
            index: i,
        });
    }
    if let Some(i) = novelty
        .iter()
        .position(|v| !(v.is_finite() && (0.0..=1.0).contains(v)))
    {
        return Err(DiversityError::NonFiniteScore {
            what: "novelty (must be in [0, 1])",
            index: i,
        });
    }
    let ranks = rank_normalise(cluster_scores)?;
    let product: Vec<f64> = ranks.iter().zip(novelty).map(|(r, n)| r * n).collect();
    let d = rank_normalise(&product)?;
    Ok((0..novelty.len())
        .map(|i| DiversityParts {
            cluster_score: cluster_scores[i],
            cluster_rank: ranks[i],
            novelty: novelty[i],
            d: d[i],
        })
        .collect())
}

fn check_labelings(a: &[usize], b: &[usize]) -> Result<()> {
    if a.len() != b.len() {
        return Err(DiversityError::LengthMismatch {
            what: "labelings",
            left: a.len(),
            right: b.len(),
        });
    }
    Ok(())
}

fn entropy(counts: impl Iterator<Item = usize>, n: f64) -> f64 {
    counts
        .filter(|&c| c > 0)
        .map(|c| {
            let p = c as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Normalised mutual information of two labelings, `I(A; B) / ((H(A) + H(B)) / 2)` (the
/// arithmetic normalisation, scikit-learn's default). 1 when both put everything in one class
/// (or are empty); 0 when exactly one does.
pub fn nmi(a: &[usize], b: &[usize]) -> Result<f64> {
    check_labelings(a, b)?;
    let n = a.len() as f64;
    let mut joint: HashMap<(usize, usize), usize> = HashMap::new();
    let mut ca: HashMap<usize, usize> = HashMap::new();
    let mut cb: HashMap<usize, usize> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1;
        *ca.entry(x).or_default() += 1;
        *cb.entry(y).or_default() += 1;
    }
    let (ha, hb) = (
        entropy(ca.values().copied(), n),
        entropy(cb.values().copied(), n),
    );
    if ha == 0.0 && hb == 0.0 {
        return Ok(1.0);
    }
    let mut mi = 0.0;
    for (&(x, y), &c) in &joint {
        let pxy = c as f64 / n;
        let px = ca[&x] as f64 / n;
        let py = cb[&y] as f64 / n;
        mi += pxy * (pxy / (px * py)).ln();
    }
    Ok((mi / ((ha + hb) / 2.0)).clamp(0.0, 1.0))
}

/// Best-matching accuracy: the largest fraction of samples on which the labelings agree under a
/// one-to-one matching of their labels (Hungarian algorithm). 1 for empty labelings.
pub fn matching_accuracy(a: &[usize], b: &[usize]) -> Result<f64> {
    check_labelings(a, b)?;
    if a.is_empty() {
        return Ok(1.0);
    }
    let mut ia: HashMap<usize, usize> = HashMap::new();
    let mut ib: HashMap<usize, usize> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        let l = ia.len();
        ia.entry(x).or_insert(l);
        let l = ib.len();
        ib.entry(y).or_insert(l);
    }
    let m = ia.len().max(ib.len());
    let mut counts = vec![vec![0i64; m]; m];
    for (x, y) in a.iter().zip(b) {
        counts[ia[x]][ib[y]] += 1;
    }
    let cost: Vec<Vec<i64>> = counts
        .iter()
        .map(|r| r.iter().map(|&c| -c).collect())
        .collect();
    let matched: i64 = hungarian(&cost)
        .iter()
        .enumerate()
        .map(|(i, &j)| counts[i][j])
        .sum();
    Ok(matched as f64 / a.len() as f64)
}

/// Minimum-cost perfect matching of a square cost matrix (the O(m^3) potentials form); returns
/// the column of each row.
fn hungarian(cost: &[Vec<i64>]) -> Vec<usize> {
    let m = cost.len();
    let inf = i64::MAX / 4;
    let mut u = vec![0i64; m + 1];
    let mut v = vec![0i64; m + 1];
    let mut p = vec![0usize; m + 1]; // p[j]: row matched to column j (1-based, 0 = none)
    let mut way = vec![0usize; m + 1];
    for i in 1..=m {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut row_to_col = vec![0usize; m];
    for j in 1..=m {
        if p[j] > 0 {
            row_to_col[p[j] - 1] = j - 1;
        }
    }
    row_to_col
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mid_ranks() {
        assert_eq!(
            rank_normalise(&[3.0, 1.0, 3.0, 2.0]).unwrap(),
            vec![0.875, 0.25, 0.875, 0.5]
        );
        assert_eq!(rank_normalise(&[5.0; 3]).unwrap(), vec![2.0 / 3.0; 3]);
        assert!(rank_normalise(&[]).unwrap().is_empty());
        assert!(rank_normalise(&[1.0, f64::NAN]).is_err());
    }

    #[test]
    fn d_combines_rank_and_novelty() {
        let parts = diversity(&[1.0, 1.0, 2.0, 3.0], &[1.0, 0.0, 1.0, 0.5]).unwrap();
        // Products: 0.375, 0, 0.75, 0.5.
        let d: Vec<f64> = parts.iter().map(|p| p.d).collect();
        assert_eq!(d, vec![0.5, 0.25, 1.0, 0.75]);
        assert_eq!(parts[3].cluster_rank, 1.0);
        assert!(diversity(&[1.0], &[1.5]).is_err());
        assert!(diversity(&[1.0], &[]).is_err());
        assert!(diversity(&[f64::INFINITY], &[0.5]).is_err());
        // All samples alike: every d equal, none undefined.
        let same = diversity(&[0.0; 4], &[1.0; 4]).unwrap();
        assert!(same.iter().all(|p| p.d == 0.625));
    }

    #[test]
    fn nmi_and_matching() {
        let a = [0, 0, 1, 1, 2, 2];
        let b = [5, 5, 3, 3, 9, 9];
        assert!((nmi(&a, &b).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(matching_accuracy(&a, &b).unwrap(), 1.0);
        assert_eq!(nmi(&[0, 0], &[1, 1]).unwrap(), 1.0);
        assert_eq!(nmi(&[0, 0, 1, 1], &[0, 0, 0, 0]).unwrap(), 0.0);
        // sklearn: normalized_mutual_info_score([0,0,1,1],[0,0,1,2]) = 0.8
        assert!((nmi(&[0, 0, 1, 1], &[0, 0, 1, 2]).unwrap() - 0.8).abs() < 1e-9);
        assert_eq!(
            matching_accuracy(&[0, 0, 1, 1], &[0, 0, 1, 2]).unwrap(),
            0.75
        );
        assert_eq!(
            matching_accuracy(&[0, 1, 2, 0], &[1, 1, 1, 1]).unwrap(),
            0.5
        );
        assert!(nmi(&[0], &[]).is_err());
    }
}
