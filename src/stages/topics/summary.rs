//! The end of a run: per-topic records and the diversity scale, from the current model and one
//! scan of the compact sample rows and of the topic assignments.
//!
//! **Characteristic terms.** Each topic keeps its [`REPRESENTATIVES`] members nearest to the
//! centroid (ties by sequence number). Their words (as [`for_each_word`] splits them, two or
//! more characters with a letter) give the topic's document share `p_t(w)`; the pool's share is
//! estimated from every topic's representatives weighted by the topic's size,
//! `p(w) = (sum_t size_t p_t(w) + 1) / (N + 1)`; a term scores `p_t ln(p_t / p)` (its share of
//! the KL divergence of the topic from the pool, as in `diversity::TopicTerms`), and terms in
//! fewer than 2 representatives are left out. Reading a bounded sample keeps a run's cost
//! independent of the pool's size (k times 32 texts), and representatives near the centroid are
//! the topic's most typical members, which is what a reader wants to see.

use std::collections::{BinaryHeap, HashMap, HashSet};

use xxhash_rust::xxh3::xxh3_64;

use crate::algo::diversity::{for_each_word, topic_stats};
use crate::error::Result;
use crate::pool::scale::{cluster_ranks, product, quantiles};
use crate::pool::Pool;
use crate::store::{
    DiversityQuantiles, TopicRecord, TopicSourceShare, TopicState, TopicTerm, DIVERSITY_SCALE_KEY,
};

/// Members nearest to the centroid that each topic keeps (and reads its terms from).
pub const REPRESENTATIVES: usize = 32;
/// Characteristic terms kept per topic.
const TOP_TERMS: usize = 12;

/// Writes every topic's record and the diversity scale (one batch).
pub(super) fn summarise(pool: &mut Pool, state: &TopicState) -> Result<()> {
    let store = &pool.store;
    let Some(model) = crate::pool::topic_views::model(store)? else {
        return Ok(());
    };
    let k = model.model.k();
    let stats = topic_stats(&model.model);
    let ranks = cluster_ranks(&stats);

    let mut tokens = vec![0u64; k];
    let mut sources: Vec<HashMap<u32, (u64, u64)>> = vec![HashMap::new(); k];
    let mut products = Vec::new();
    for item in store.sample_rows() {
        let (_, row) = item?;
        let (Some(topic), Some(novelty)) = (row.topic, row.novelty) else {
            continue;
        };
        let t = topic as usize;
        if t >= k {
            continue; // verify reports it
        }
        tokens[t] += u64::from(row.tokens);
        let e = sources[t].entry(row.source_id).or_default();
        e.0 += 1;
        e.1 += u64::from(row.tokens);
        products.extend(product(&ranks, topic, novelty));
    }

    // The members nearest to each centroid: a max-heap of (distance bits, seq) per topic
    // (distances are non-negative, so their bits sort as they do).
    let mut nearest: Vec<BinaryHeap<(u32, u64)>> = vec![BinaryHeap::new(); k];
    for item in store.all_assignments() {
        let (seq, a) = item?;
        let t = a.topic as usize;
        if a.generation != state.generation || t >= k {
            continue;
        }
        nearest[t].push((a.distance.to_bits(), seq));
        if nearest[t].len() > REPRESENTATIVES {
            nearest[t].pop();
        }
    }
    let representatives: Vec<Vec<u64>> = nearest
        .into_iter()
        .map(|h| h.into_sorted_vec().into_iter().map(|(_, s)| s).collect())
        .collect();
    let terms = characteristic_terms(pool, &representatives, &stats_sizes(&stats))?;

    let store = &pool.store;
    let mut batch = store.batch();
    for t in 0..k {
        let mut by_source: Vec<TopicSourceShare> = sources[t]
            .iter()
            .map(|(&source_id, &(samples, tokens))| TopicSourceShare {
                source_id,
                samples,
                tokens,
            })
            .collect();
        by_source.sort_by(|a, b| {
            b.samples
                .cmp(&a.samples)
                .then(a.source_id.cmp(&b.source_id))
        });
        batch.put_topic_record(
            t as u32,
            &TopicRecord {
                generation: model.generation,
                size: stats[t].size,
                tokens: tokens[t],
                compactness: stats[t].compactness,
                separation: stats[t].separation,
                score: stats[t].score,
                cluster_rank: ranks[t],
                sources: by_source,
                terms: terms[t].clone(),
                representatives: representatives[t].clone(),
            },
        );
    }
    batch.delete_topic_records_from(k as u32);
    batch.put_meta(
        DIVERSITY_SCALE_KEY,
        &DiversityQuantiles {
            generation: model.generation,
            n: products.len() as u64,
            topic_score: stats.iter().map(|s| s.score).collect(),
            topic_rank: ranks,
            values: quantiles(products),
        },
    );
    batch.commit()
}

fn stats_sizes(stats: &[crate::algo::diversity::TopicStats]) -> Vec<u64> {
    stats.iter().map(|s| s.size).collect()
}

/// The words a topic's terms are made of, as xxh3 hashes; the spelling of each hash is kept in
/// `names` the first time it is seen.
fn term_set(text: &str, names: &mut HashMap<u64, String>) -> HashSet<u64> {
    let mut out = HashSet::new();
    for_each_word(text, |w| {
        if w.chars().nth(1).is_some() && w.chars().any(char::is_alphabetic) {
            let h = xxh3_64(w.as_bytes());
            if out.insert(h) {
                names.entry(h).or_insert_with(|| w.to_owned());
            }
        }
    });
    out
}

/// The characteristic terms of every topic from its representatives (see the module doc).
fn characteristic_terms(
    pool: &Pool,
    representatives: &[Vec<u64>],
    sizes: &[u64],
) -> Result<Vec<Vec<TopicTerm>>> {
    let all: Vec<u64> = representatives.iter().flatten().copied().collect();
    let docs = pool.store.docs(&all)?;
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut at = 0;
    let mut df: Vec<HashMap<u64, u32>> = Vec::with_capacity(representatives.len());
    for reps in representatives {
        let mut counts: HashMap<u64, u32> = HashMap::new();
        for doc in docs[at..at + reps.len()].iter().flatten() {
            for w in term_set(&doc.text, &mut names) {
                *counts.entry(w).or_default() += 1;
            }
        }
        at += reps.len();
        df.push(counts);
    }
    let total: u64 = sizes.iter().sum();
    let mut pool_est: HashMap<u64, f64> = HashMap::new();
    for (t, counts) in df.iter().enumerate() {
        let r = representatives[t].len();
        if r == 0 {
            continue;
        }
        let weight = sizes[t] as f64 / r as f64;
        for (&w, &c) in counts {
            *pool_est.entry(w).or_default() += weight * f64::from(c);
        }
    }
    Ok(df
        .iter()
        .enumerate()
        .map(|(t, counts)| {
            let r = representatives[t].len();
            let min_df = if r >= 2 { 2 } else { 1 };
            let mut terms: Vec<TopicTerm> = counts
                .iter()
                .filter(|(_, &c)| c >= min_df)
                .map(|(w, &c)| {
                    let pt = f64::from(c) / r as f64;
                    let est = pool_est.get(w).copied().unwrap_or(0.0);
                    let p = (est + 1.0) / (total as f64 + 1.0);
                    TopicTerm {
                        term: names[w].clone(),
                        score: pt * (pt / p).ln(),
                        topic_share: pt,
                        pool_share: (est / total.max(1) as f64).min(1.0),
                    }
                })
                .collect();
            terms.sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then_with(|| a.term.cmp(&b.term))
            });
            terms.truncate(TOP_TERMS);
            terms
        })
        .collect())
}
