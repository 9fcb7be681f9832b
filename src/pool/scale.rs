//! The derived scales, read from stored quantiles, never stored per sample: q(x) from the sorted
//! mean NLLs of the current scorer ([`QualityScale`]), and d(x) ([`DiversityScale`]).
//!
//! d(x) at read time, from what the store keeps per sample (topic, novelty) and per pool (each
//! topic's cluster rank and the sorted products `cluster_rank * novelty`).
//!
//! d(x) = rank_normalise(cluster_rank(x) * novelty(x)) is a rank over the whole pool, so it
//! changes for every sample whenever the pool or its topics change. It is never stored per
//! sample: the product `cluster_rank(topic) * novelty` orders the samples exactly as d does,
//! and d is read off the product's position among the pool's products ([`DiversityScale::d`]).
//! A threshold `d >= D` becomes a product threshold `P`, and that becomes, per topic `t`, a
//! novelty threshold `novelty >= P / cluster_rank(t)` (computed exactly in `f32`, the stored
//! precision): the index answers it with its `topic` and `novelty` fields, which change only
//! when a sample's own topic or novelty does.

use serde::Serialize;

use crate::algo::diversity::{DiversityParts, TopicStats};
use crate::algo::rank::{for_each_mid_rank, thin_sorted, QuantileIndex};
use crate::error::Result;
use crate::index::DiversityFilter;
use crate::store::{
    DiversityQuantiles, NllQuantiles, ScorerState, Store, DIVERSITY_SCALE_KEY, NLL_QUANTILES_KEY,
    SCORER_KEY,
};

/// The pool's diversity scale, as the last `topics` run left it.
#[derive(Clone, Debug)]
pub struct DiversityScale {
    q: DiversityQuantiles,
}

impl DiversityScale {
    /// The scale of the pool; `None` before `topics` has run.
    pub fn load(store: &Store) -> Result<Option<DiversityScale>> {
        let Some(q) = store.meta::<DiversityQuantiles>(DIVERSITY_SCALE_KEY)? else {
            return Ok(None);
        };
        Ok((!q.values.is_empty()).then_some(DiversityScale { q }))
    }

    /// A scale over stored quantiles.
    pub fn from_quantiles(q: DiversityQuantiles) -> DiversityScale {
        DiversityScale { q }
    }

    /// The stored values.
    pub fn quantiles(&self) -> &DiversityQuantiles {
        &self.q
    }

    /// `cluster_rank(topic) * novelty`: the order of d. `None` for a topic the scale does not
    /// know.
    pub fn product(&self, topic: u32, novelty: f32) -> Option<f64> {
        product(&self.q.topic_rank, topic, novelty)
    }

    /// d of a sample whose product is `product`: its mid-rank among the pool's products over n.
    pub fn d(&self, product: f64) -> f64 {
        let v = &self.q.values;
        let lo = v.partition_point(|&x| x < product);
        let hi = v.partition_point(|&x| x <= product);
        ((lo + 1 + hi) as f64 / 2.0 / v.len() as f64).min(1.0)
    }

    /// The parts of d(x) of a sample with this topic and novelty.
    pub fn parts(&self, topic: u32, novelty: f32) -> Option<DiversityParts> {
        let t = topic as usize;
        let p = self.product(topic, novelty)?;
        Some(DiversityParts {
            cluster_score: self.q.topic_score.get(t).copied().unwrap_or(0.0),
            cluster_rank: self.q.topic_rank[t],
            novelty: f64::from(novelty),
            d: self.d(p),
        })
    }

    /// The smallest product whose d is at least `min_d` (d never decreases with the product);
    /// `None` when no product's is. A product between two stored values `v[i-1] < p < v[i]`
    /// (possible when the values are quantiles) has d = `(2 i + 1) / 2 / len`, which can reach
    /// `min_d` before `d(v[i])` does: then the bound is the next float above `v[i-1]`.
    pub fn min_product(&self, min_d: f64) -> Option<f64> {
        let v = &self.q.values;
        let i = v.partition_point(|&x| self.d(x) < min_d);
        let between = ((i + 1 + i) as f64 / 2.0 / v.len() as f64).min(1.0);
        if between >= min_d {
            return Some(match i {
                0 => f64::NEG_INFINITY,
                _ => v[i - 1].next_up(),
            });
        }
        v.get(i).copied()
    }

    /// The per-topic novelty bounds that select `d >= min_d` (every sample with a diversity when
    /// `min_d` is `None`) and order by d.
    pub fn index_filter(&self, min_d: Option<f64>) -> DiversityFilter {
        let ranks = &self.q.topic_rank;
        let min_product = match min_d {
            None => Some(f64::NEG_INFINITY),
            Some(d) => self.min_product(d),
        };
        DiversityFilter {
            topic_rank: ranks.clone(),
            min_novelty: ranks
                .iter()
                .map(|&r| min_product.and_then(|p| min_novelty(r, p)))
                .collect(),
        }
    }
}

/// `topic_rank[topic] * novelty`, the one formula for the order of d (in `f64`).
pub(crate) fn product(topic_rank: &[f64], topic: u32, novelty: f32) -> Option<f64> {
    topic_rank
        .get(topic as usize)
        .map(|r| r * f64::from(novelty))
}

/// The smallest `f32` novelty `x` in `[0, 1]` with `rank * x >= p` (in the arithmetic of
/// [`product`]); `None` when even novelty 1 falls short.
fn min_novelty(rank: f64, p: f64) -> Option<f32> {
    if p <= 0.0 {
        return Some(0.0);
    }
    if rank <= 0.0 || rank < p {
        return None;
    }
    let mut x = ((p / rank) as f32).clamp(0.0, 1.0);
    while x > 0.0 && rank * f64::from(x.next_down()) >= p {
        x = x.next_down();
    }
    while rank * f64::from(x) < p {
        x = x.next_up();
    }
    Some(x)
}

/// The cluster rank of each topic's members: the mid-rank of the topic's score among all
/// samples' scores, over n (what `rank_normalise` gives each sample; 0 for an empty topic).
pub(crate) fn cluster_ranks(stats: &[TopicStats]) -> Vec<f64> {
    let n: u64 = stats.iter().map(|s| s.size).sum();
    let mut order: Vec<usize> = (0..stats.len()).filter(|&t| stats[t].size > 0).collect();
    order.sort_by(|&a, &b| stats[a].score.total_cmp(&stats[b].score));
    let mut out = vec![0.0; stats.len()];
    for_each_mid_rank(
        &order,
        |&a, &b| stats[a].score == stats[b].score,
        |&t| stats[t].size,
        |run, mid| {
            for &t in run {
                out[t] = mid / n as f64;
            }
        },
    );
    out
}

/// The values a [`DiversityQuantiles`] keeps of the pool's products: all of them, sorted, or
/// [`MAX_QUANTILES`](crate::algo::rank::MAX_QUANTILES) evenly spaced order statistics ([`QuantileIndex::Nearest`]; d is then
/// exact to about 1/4096).
pub(crate) fn quantiles(mut products: Vec<f64>) -> Vec<f64> {
    products.sort_by(f64::total_cmp);
    thin_sorted(products, QuantileIndex::Nearest)
}

/// A sample's diversity and its parts, for `get`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SampleDiversity {
    /// Topic id.
    pub topic: Option<u32>,
    /// Distance of the embedding to the topic's centroid.
    pub topic_distance: Option<f32>,
    /// Cluster score of the topic.
    pub cluster_score: Option<f64>,
    /// Its rank among the pool's samples, over n.
    pub cluster_rank: Option<f64>,
    /// `1 -` the largest estimated Jaccard similarity to another sample.
    pub novelty: Option<f64>,
    /// Id of that most similar sample.
    pub nearest: Option<String>,
    /// Its estimated Jaccard similarity.
    pub nearest_jaccard: Option<f64>,
    /// d(x).
    pub d: Option<f64>,
}

/// Quality q(x) = 1 - midrank(mean NLL) / n among the samples scored under the pool's current
/// scorer, read from the sorted mean NLLs that `score` stores.
#[derive(Clone, Debug)]
pub struct QualityScale {
    values: Vec<f64>,
}

impl QualityScale {
    /// The scale of the pool's current scorer; `None` before anything is scored.
    pub fn load(store: &Store) -> Result<Option<QualityScale>> {
        let Some(state) = store.meta::<ScorerState>(SCORER_KEY)? else {
            return Ok(None);
        };
        let Some(q) = store.meta::<NllQuantiles>(NLL_QUANTILES_KEY)? else {
            return Ok(None);
        };
        if q.fingerprint != state.fingerprint || q.values.is_empty() {
            return Ok(None);
        }
        Ok(Some(QualityScale { values: q.values }))
    }

    /// A scale over these ascending mean NLLs.
    pub fn from_sorted(values: Vec<f64>) -> QualityScale {
        QualityScale { values }
    }

    /// q of a sample with this mean NLL.
    pub fn quality(&self, mean_nll: f64) -> f64 {
        let lo = self.values.partition_point(|&v| v < mean_nll);
        let hi = self.values.partition_point(|&v| v <= mean_nll);
        1.0 - (lo + hi) as f64 / 2.0 / self.values.len() as f64
    }

    /// Inclusive mean-NLL bounds equivalent to `min_q <= q <= max_q`; an empty range when
    /// nothing qualifies.
    pub fn nll_bounds(&self, min_q: Option<f64>, max_q: Option<f64>) -> (Option<f64>, Option<f64>) {
        let m = self.values.len() as f64;
        let mut hi = None;
        let mut lo = None;
        if let Some(q) = min_q {
            // q(values[i]) = 1 - (i + 0.5) / m >= q  <=>  i <= (1 - q) m - 0.5
            let i = ((1.0 - q) * m - 0.5).floor();
            hi = Some(match self.values.len().checked_sub(1) {
                Some(last) if i >= 0.0 => self.values[(i as usize).min(last)],
                _ => f64::NEG_INFINITY,
            });
        }
        if let Some(q) = max_q {
            let i = ((1.0 - q) * m - 0.5).ceil().max(0.0) as usize;
            lo = Some(self.values.get(i).copied().unwrap_or(f64::INFINITY));
        }
        (lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::diversity::{diversity, rank_normalise};
    use crate::algo::rank::MAX_QUANTILES;

    fn stats(sizes_scores: &[(u64, f64)]) -> Vec<TopicStats> {
        sizes_scores
            .iter()
            .enumerate()
            .map(|(t, &(size, score))| TopicStats {
                topic: t as u32,
                size,
                compactness: 0.0,
                separation: 0.0,
                score,
            })
            .collect()
    }

    /// The per-topic ranks and the stored products give exactly the module's d(x).
    #[test]
    fn scale_reproduces_diversity() {
        let st = stats(&[(3, 0.5), (2, 0.25), (0, 0.0), (4, 0.5), (1, 1.0)]);
        let ranks = cluster_ranks(&st);
        let topics: Vec<u32> = [0, 0, 0, 1, 1, 3, 3, 3, 3, 4].to_vec();
        let novelty: Vec<f32> = vec![1.0, 0.5, 0.0, 1.0, 0.25, 0.75, 1.0, 1.0, 0.125, 0.5];
        let scores: Vec<f64> = topics.iter().map(|&t| st[t as usize].score).collect();
        let nov64: Vec<f64> = novelty.iter().map(|&v| f64::from(v)).collect();
        let expected = diversity(&scores, &nov64).unwrap();
        let r = rank_normalise(&scores).unwrap();
        let products: Vec<f64> = topics
            .iter()
            .zip(&novelty)
            .map(|(&t, &v)| product(&ranks, t, v).unwrap())
            .collect();
        let scale = DiversityScale::from_quantiles(DiversityQuantiles {
            generation: 1,
            n: 10,
            topic_score: st.iter().map(|s| s.score).collect(),
            topic_rank: ranks.clone(),
            values: quantiles(products.clone()),
        });
        for i in 0..topics.len() {
            assert_eq!(ranks[topics[i] as usize], r[i]);
            assert_eq!(scale.parts(topics[i], novelty[i]).unwrap(), expected[i]);
        }
        // Thresholds: the filter keeps exactly the samples with d >= D.
        for min_d in [0.0, 0.05, 0.3, 0.55, 0.6, 0.9, 1.0, 1.01] {
            let f = scale.index_filter(Some(min_d));
            for i in 0..topics.len() {
                let t = topics[i] as usize;
                let kept = f.min_novelty[t].is_some_and(|m| novelty[i] >= m);
                assert_eq!(kept, expected[i].d >= min_d, "D = {min_d}, sample {i}");
            }
        }
        assert!(scale.product(9, 1.0).is_none());
    }

    /// With quantiles instead of all products, the filter still keeps exactly the samples whose
    /// d (as read from the quantiles) is at least D.
    #[test]
    fn filter_agrees_with_d_on_quantiles() {
        let ranks = vec![0.2, 0.55, 0.9];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let samples: Vec<(u32, f32)> = (0..20_000)
            .map(|_| ((next() % 3) as u32, (next() % 1000) as f32 / 999.0))
            .collect();
        let products: Vec<f64> = samples
            .iter()
            .map(|&(t, n)| product(&ranks, t, n).unwrap())
            .collect();
        let scale = DiversityScale::from_quantiles(DiversityQuantiles {
            generation: 1,
            n: samples.len() as u64,
            topic_score: vec![0.1, 0.2, 0.3],
            topic_rank: ranks.clone(),
            values: quantiles(products.clone()),
        });
        for k in 0..=200 {
            let min_d = f64::from(k) / 200.0;
            let f = scale.index_filter(Some(min_d));
            for (&(t, n), &p) in samples.iter().zip(&products) {
                let kept = f.min_novelty[t as usize].is_some_and(|m| n >= m);
                assert_eq!(kept, scale.d(p) >= min_d, "D = {min_d}, t {t}, novelty {n}");
            }
        }
    }

    #[test]
    fn novelty_thresholds_are_exact_in_f32() {
        for (rank, p) in [
            (0.3, 0.1),
            (1.0 / 3.0, 0.2),
            (0.7, 0.7),
            (0.9, 0.0),
            (0.2, 0.5),
        ] {
            match min_novelty(rank, p) {
                None => assert!(rank < p),
                Some(x) => {
                    assert!(rank * f64::from(x) >= p);
                    assert!(x == 0.0 || rank * f64::from(x.next_down()) < p);
                }
            }
        }
        let many: Vec<f64> = (0..10_000).map(|i| f64::from(i) / 10_000.0).collect();
        let q = quantiles(many);
        assert_eq!(q.len(), MAX_QUANTILES);
        assert_eq!(q[0], 0.0);
        assert_eq!(q[MAX_QUANTILES - 1], 0.9999);
    }
}

#[cfg(test)]
mod quality_tests {
    use super::QualityScale;

    #[test]
    fn an_empty_quality_scale_lets_nothing_through_instead_of_panicking() {
        let empty = QualityScale::from_sorted(Vec::new());
        for q in [0.0, 0.5, 1.0, f64::NAN] {
            let (_, hi) = empty.nll_bounds(Some(q), None);
            assert_eq!(hi, Some(f64::NEG_INFINITY), "min_q {q}");
        }
        let scale = QualityScale::from_sorted(vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(scale.nll_bounds(Some(0.5), None), (None, Some(2.0)));
        assert_eq!(
            scale.nll_bounds(Some(0.0), Some(1.0)),
            (Some(1.0), Some(4.0))
        );
    }
}
