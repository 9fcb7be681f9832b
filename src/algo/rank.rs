//! Mid-ranks and quantile thinning: the one copy of each, used by the quality scale (q from mean
//! NLLs), the diversity scale (d from cluster rank x novelty) and the topics' cluster ranks.

/// Most values a stored quantile list keeps ([`NllQuantiles`](crate::store::NllQuantiles),
/// [`DiversityQuantiles`](crate::store::DiversityQuantiles)): a scale is resolved to 1/4096 of
/// the pool.
pub const MAX_QUANTILES: usize = 4097;

/// Walks `sorted` (ascending) in runs of equal items (`same` compares an item with the first of
/// its run) and calls `each(run, mid_rank)`, where `mid_rank` is the mean of the 1-based ranks
/// the run spans when each item takes `weight(item)` ranks: `(below + 1 + below + in_run) / 2`,
/// with `below` the weight before the run. With every weight 1, a run `i..j` gets
/// `(i + 1 + j) / 2`.
pub fn for_each_mid_rank<T>(
    sorted: &[T],
    same: impl Fn(&T, &T) -> bool,
    weight: impl Fn(&T) -> u64,
    mut each: impl FnMut(&[T], f64),
) {
    let mut below = 0u64;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        let mut in_run = 0u64;
        while j < sorted.len() && same(&sorted[j], &sorted[i]) {
            in_run += weight(&sorted[j]);
            j += 1;
        }
        each(&sorted[i..j], (below + 1 + below + in_run) as f64 / 2.0);
        below += in_run;
        i = j;
    }
}

/// The 1-based mid-rank of each value among `values` (ties share the mean of the ranks they
/// span), in the values' order. NaN sorts above every number (`total_cmp`).
pub fn mid_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut out = vec![0.0; values.len()];
    for_each_mid_rank(
        &order,
        |&a, &b| values[a].total_cmp(&values[b]).is_eq(),
        |_| 1,
        |run, mid| run.iter().for_each(|&i| out[i] = mid),
    );
    out
}

/// Spearman's rank correlation of two equally long lists: Pearson's correlation of their
/// [`mid_ranks`]. `None` when there are fewer than 2 pairs or either list is constant.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    if a.len() != b.len() || a.len() < 2 {
        return None;
    }
    let (ra, rb) = (mid_ranks(a), mid_ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

/// Which order statistic stands for the i-th of `m` evenly spaced quantiles of `n` sorted
/// values. Each stored list keeps the rule it was written with: changing one would change the
/// stored scale of every pool of more than [`MAX_QUANTILES`] samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantileIndex {
    /// `floor(i (n - 1) / (m - 1))`, in integers: the mean-NLL quantiles of `score`.
    Floor,
    /// `round(i (n - 1) / (m - 1))`, in f64 (exact: m - 1 = 4096 is a power of two): the
    /// diversity products of `topics`.
    Nearest,
}

/// `sorted` itself when it holds at most [`MAX_QUANTILES`] values, else [`MAX_QUANTILES`] evenly
/// spaced order statistics of it (the first and the last always among them).
pub fn thin_sorted(sorted: Vec<f64>, index: QuantileIndex) -> Vec<f64> {
    let n = sorted.len();
    let m = MAX_QUANTILES;
    if n <= m {
        return sorted;
    }
    (0..m)
        .map(|i| {
            sorted[match index {
                QuantileIndex::Floor => i * (n - 1) / (m - 1),
                QuantileIndex::Nearest => {
                    (i as f64 * (n - 1) as f64 / (m - 1) as f64).round() as usize
                }
            }]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mid_ranks(values: &[f64], weights: &[u64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut out = vec![0.0; values.len()];
        for_each_mid_rank(
            &order,
            |&a, &b| values[a] == values[b],
            |&i| weights[i],
            |run, mid| run.iter().for_each(|&i| out[i] = mid),
        );
        out
    }

    #[test]
    fn spearman_of_monotone_reversed_and_constant_lists() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let squares: Vec<f64> = a.iter().map(|x| x * x).collect();
        assert_eq!(spearman(&a, &squares), Some(1.0));
        let reversed: Vec<f64> = a.iter().rev().copied().collect();
        assert_eq!(spearman(&a, &reversed), Some(-1.0));
        assert_eq!(spearman(&a, &[2.0; 5]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
        // Ties: ranks 1, 2.5, 2.5, 4 against 1..4: r = 4.5 / sqrt(4.5 * 5).
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]).expect("defined");
        assert!((r - 4.5 / (4.5f64 * 5.0).sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(super::mid_ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }

    #[test]
    fn ties_share_the_mean_of_the_ranks_they_span() {
        assert_eq!(
            mid_ranks(&[3.0, 1.0, 3.0, 2.0], &[1; 4]),
            vec![3.5, 1.0, 3.5, 2.0]
        );
        assert_eq!(mid_ranks(&[5.0; 3], &[1; 3]), vec![2.0; 3]);
        assert!(mid_ranks(&[], &[]).is_empty());
    }

    #[test]
    fn weighted_items_span_their_weight_in_ranks() {
        // Sizes 2, 3, 1 at scores 0.5, 0.1, 0.5: the 3 at 0.1 span ranks 1..=3 (mid 2), the
        // other 3 span 4..=6 (mid 5).
        assert_eq!(mid_ranks(&[0.5, 0.1, 0.5], &[2, 3, 1]), vec![5.0, 2.0, 5.0]);
        assert_eq!(mid_ranks(&[0.2, 0.7], &[4, 0]), vec![2.5, 4.5]);
    }

    #[test]
    fn short_lists_are_kept_whole_and_long_ones_keep_both_ends() {
        let short: Vec<f64> = (0..MAX_QUANTILES).map(|i| i as f64).collect();
        for rule in [QuantileIndex::Floor, QuantileIndex::Nearest] {
            assert_eq!(thin_sorted(short.clone(), rule), short);
            let long: Vec<f64> = (0..10_000).map(f64::from).collect();
            let thin = thin_sorted(long, rule);
            assert_eq!(thin.len(), MAX_QUANTILES);
            assert_eq!((thin[0], thin[MAX_QUANTILES - 1]), (0.0, 9999.0));
            assert!(thin.windows(2).all(|w| w[0] < w[1]));
        }
    }

    /// Why both rules stay: on a pool the size of the demo's (8,852 samples) they keep other
    /// order statistics, so unifying them would change a stored scale.
    #[test]
    fn the_two_index_rules_differ_on_a_pool_of_the_demo_size() {
        let pool: Vec<f64> = (0..8852).map(f64::from).collect();
        let floor = thin_sorted(pool.clone(), QuantileIndex::Floor);
        let nearest = thin_sorted(pool, QuantileIndex::Nearest);
        assert_eq!((floor[1], nearest[1]), (2.0, 2.0));
        assert_eq!((floor[3], nearest[3]), (6.0, 6.0));
        let differ = floor.iter().zip(&nearest).filter(|(a, b)| a != b).count();
        assert!(differ > 1000, "{differ}");
        assert!(floor
            .iter()
            .zip(&nearest)
            .all(|(f, n)| f <= n && n - f <= 1.0));
    }
}
