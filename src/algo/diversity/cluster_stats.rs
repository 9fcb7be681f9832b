//! What a topic is: its size, compactness, separation, cluster score and characteristic terms.
//!
//! For a topic `c` with members `x`:
//! - `compactness(c)` = mean Euclidean distance of its members to its centroid
//!   ([`ClusterStats::compactness`]: running, so it follows joins without a refit);
//! - `separation(c)` = mean Euclidean distance from its centroid to the centroids of the other
//!   non-empty topics (0 when it is the only one);
//! - `score(c)` = `r(compactness)(c) * r(separation)(c)`, where `r` rank-normalises
//!   ([`rank_normalise`]) over the non-empty topics. Loose topics (large
//!   compactness) that lie far from the others score near 1; tight topics crowded by neighbours
//!   (near-copies, templated pages) score near `1 / m^2` for `m` non-empty topics. Ranks rather
//!   than raw distances keep the score free of the embedding's scale, so hashed n-gram vectors
//!   and model hidden states give comparable scores. An empty topic scores 0.
//!
//! **Characteristic terms** (a reference the tests keep; `topics` computes its terms from each
//! topic's representatives the same way, in `topics::summary`). `TopicTerms` counts, per topic and over the pool, in how many
//! documents each term occurs (document frequency, so one long document cannot dominate). A
//! term's score for topic `c` is `p_c * ln(p_c / p)`, with `p_c` its document share inside the
//! topic and `p = (df + 1) / (N + 1)` its smoothed share in the pool: the term's contribution to
//! the KL divergence of the topic from the pool. Frequent words everywhere (`the`, `self`) score
//! near 0; words typical of the topic score high. Terms in fewer than 2 documents of a topic of 2
//! or more are skipped as noise. The counts are additive, so new samples can be added as they
//! join.

#[cfg(test)]
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[cfg(test)]
use super::error::{DiversityError, Result};
use super::kmeans::{ClusterStats, KMeansModel};
use super::score::rank_normalise;
#[cfg(test)]
use super::text::for_each_word;

/// The figures of one topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicStats {
    /// Topic number.
    pub topic: u32,
    /// Members (fitted and joined).
    pub size: u64,
    /// Mean distance of the members to the centroid.
    pub compactness: f64,
    /// Mean distance from the centroid to the other non-empty topics' centroids.
    pub separation: f64,
    /// `r(compactness) * r(separation)` over the non-empty topics; 0 when empty.
    pub score: f64,
}

fn dist(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let d = f64::from(*x) - f64::from(*y);
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

/// The statistics of every topic of a model, in topic order.
pub fn topic_stats(model: &KMeansModel) -> Vec<TopicStats> {
    let dim = model.dim();
    let cents: Vec<&[f32]> = model.centroids().chunks_exact(dim).collect();
    let stats: &[ClusterStats] = model.stats();
    let live: Vec<usize> = (0..stats.len()).filter(|&c| stats[c].count() > 0).collect();
    let mut out: Vec<TopicStats> = stats
        .iter()
        .enumerate()
        .map(|(c, s)| TopicStats {
            topic: c as u32,
            size: s.count(),
            compactness: s.compactness(),
            separation: 0.0,
            score: 0.0,
        })
        .collect();
    if live.len() > 1 {
        for &c in &live {
            let sum: f64 = live
                .iter()
                .filter(|&&o| o != c)
                .map(|&o| dist(cents[c], cents[o]))
                .sum();
            out[c].separation = sum / (live.len() - 1) as f64;
        }
    }
    let comp: Vec<f64> = live.iter().map(|&c| out[c].compactness).collect();
    let sep: Vec<f64> = live.iter().map(|&c| out[c].separation).collect();
    // Distances are finite (inputs are checked), so ranking cannot fail.
    if let (Ok(rc), Ok(rs)) = (rank_normalise(&comp), rank_normalise(&sep)) {
        for (i, &c) in live.iter().enumerate() {
            out[c].score = rc[i] * rs[i];
        }
    }
    out
}

/// Each sample's cluster score: the score of its topic.
#[cfg(test)]
pub fn sample_cluster_scores(topics: &[u32], stats: &[TopicStats]) -> Result<Vec<f64>> {
    topics
        .iter()
        .map(|&t| {
            stats
                .get(t as usize)
                .map(|s| s.score)
                .ok_or(DiversityError::NoSuchTopic {
                    topic: t as usize,
                    k: stats.len(),
                })
        })
        .collect()
}

/// A characteristic term of a topic.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermScore {
    /// The term.
    pub term: String,
    /// `p_c * ln(p_c / p)`.
    pub score: f64,
    /// Share of the topic's documents that contain it.
    pub topic_share: f64,
    /// Share of the pool's documents that contain it.
    pub pool_share: f64,
}

/// Document frequencies per topic and over the pool (see the module doc).
#[cfg(test)]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicTerms {
    docs: Vec<u64>,
    df: Vec<HashMap<String, u64>>,
    pool_docs: u64,
    pool_df: HashMap<String, u64>,
}

#[cfg(test)]
impl TopicTerms {
    /// Counts for `k` topics, all empty.
    pub fn new(k: usize) -> Self {
        TopicTerms {
            docs: vec![0; k],
            df: vec![HashMap::new(); k],
            ..Default::default()
        }
    }

    /// Adds one document of `topic` given as its terms (repeats count once).
    pub fn add<S: AsRef<str>>(
        &mut self,
        topic: usize,
        terms: impl IntoIterator<Item = S>,
    ) -> Result<()> {
        let k = self.docs.len();
        if topic >= k {
            return Err(DiversityError::NoSuchTopic { topic, k });
        }
        let mut seen: Vec<String> = terms.into_iter().map(|t| t.as_ref().to_owned()).collect();
        seen.sort_unstable();
        seen.dedup();
        self.docs[topic] += 1;
        self.pool_docs += 1;
        for t in seen {
            *self.pool_df.entry(t.clone()).or_default() += 1;
            *self.df[topic].entry(t).or_default() += 1;
        }
        Ok(())
    }

    /// Adds one document of `topic` from its text: its words
    /// ([`for_each_word`]) of two or more characters with at least
    /// one letter (so numbers are left out).
    pub fn add_text(&mut self, topic: usize, text: &str) -> Result<()> {
        let mut terms = Vec::new();
        for_each_word(text, |w| {
            if w.chars().nth(1).is_some() && w.chars().any(char::is_alphabetic) {
                terms.push(w.to_owned());
            }
        });
        self.add(topic, terms)
    }

    /// The `n` best terms of `topic`, best first (ties by term).
    pub fn top_terms(&self, topic: usize, n: usize) -> Result<Vec<TermScore>> {
        let k = self.docs.len();
        if topic >= k {
            return Err(DiversityError::NoSuchTopic { topic, k });
        }
        let nc = self.docs[topic];
        if nc == 0 {
            return Ok(Vec::new());
        }
        let min_df = if nc >= 2 { 2 } else { 1 };
        let big_n = self.pool_docs as f64;
        let mut out: Vec<TermScore> = self.df[topic]
            .iter()
            .filter(|(_, &c)| c >= min_df)
            .map(|(t, &c)| {
                let pc = c as f64 / nc as f64;
                let df = self.pool_df.get(t).copied().unwrap_or(c) as f64;
                let p = (df + 1.0) / (big_n + 1.0);
                TermScore {
                    term: t.clone(),
                    score: pc * (pc / p).ln(),
                    topic_share: pc,
                    pool_share: df / big_n,
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.term.cmp(&b.term))
        });
        out.truncate(n);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::diversity::kmeans::{fit, KMeansParams};

    #[test]
    fn loose_and_separated_topics_score_higher() {
        // Three 1-d groups: a tight one at 0, a tight one at 1, a looser one far away at 10.
        let mut data = Vec::new();
        for i in 0..20 {
            data.push(0.0 + 0.001 * i as f32);
            data.push(1.0 + 0.002 * i as f32);
            data.push(10.0 + 0.05 * i as f32);
        }
        let f = fit(&data, 1, &KMeansParams::new(3)).unwrap();
        let stats = topic_stats(&f.model);
        let loose = f.assignments[2].topic as usize;
        assert_eq!(stats[loose].score, 1.0);
        assert!(stats.iter().all(|s| s.size == 20));
        let others: Vec<f64> = (0..3)
            .filter(|&c| c != loose)
            .map(|c| stats[c].score)
            .collect();
        assert!(others.iter().all(|&s| s < 0.5));
        let per_sample = sample_cluster_scores(
            &f.assignments.iter().map(|a| a.topic).collect::<Vec<_>>(),
            &stats,
        )
        .unwrap();
        assert_eq!(per_sample[2], 1.0);
        assert!(sample_cluster_scores(&[7], &stats).is_err());
    }

    #[test]
    fn one_topic_and_empty_topics() {
        let data = vec![1.0f32; 10];
        let f = fit(&data, 1, &KMeansParams::new(3)).unwrap();
        let stats = topic_stats(&f.model);
        let live: Vec<&TopicStats> = stats.iter().filter(|s| s.size > 0).collect();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].separation, 0.0);
        assert_eq!(live[0].score, 1.0);
        assert!(stats.iter().filter(|s| s.size == 0).all(|s| s.score == 0.0));
    }

    #[test]
    fn top_terms_contrast_topic_with_pool() {
        let mut t = TopicTerms::new(2);
        for _ in 0..5 {
            t.add_text(0, "the river and the valley water").unwrap();
            t.add_text(1, "the function returns the value 42").unwrap();
        }
        t.add_text(0, "the river 2024 x").unwrap();
        let top = t.top_terms(0, 3).unwrap();
        assert_eq!(top[0].term, "river");
        assert!(top.iter().all(|s| s.term != "the"));
        assert!(t.top_terms(1, 10).unwrap().iter().all(|s| s.term != "42"));
        assert!(t.top_terms(2, 1).is_err());
        assert!(TopicTerms::new(1).top_terms(0, 5).unwrap().is_empty());
    }
}
