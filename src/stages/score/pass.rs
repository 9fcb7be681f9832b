//! The incremental scoring pass over the pool: finds the samples without a score under the
//! scorer's fingerprint, scores them in batches, and writes each batch's results (raw figures,
//! exact token counts, source and pool token totals, index re-index marks) in one atomic store
//! batch. A crash loses at most the batch in flight; the next run continues where it stopped.
//! At the end it stores the pool's sorted mean NLLs, from which quality q is read.

use std::time::Instant;

use serde::Serialize;

use super::{QualityScorer, SampleScore};
use crate::algo::rank::{thin_sorted, QuantileIndex};
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::store::{
    round_to_f16, DocRecord, ModelEmbeddingRecord, NllQuantiles, SampleRow, ScoreRecord,
    ScorerState, NLL_QUANTILES_KEY, SCORER_KEY,
};

/// The samples a scorer still has to score.
#[derive(Clone, Debug, Default)]
pub struct Pending {
    /// Sequence numbers to score, in order.
    pub seqs: Vec<u64>,
    /// Their token estimates, summed.
    pub tokens_estimate: u64,
    /// Samples already scored under the fingerprint.
    pub scored: u64,
    /// Samples already found too short under the fingerprint.
    pub too_short: u64,
    /// Of `seqs`, the samples whose score is current but which lack a model embedding under
    /// the fingerprint (scored before embeddings were stored, or with them off): they are
    /// evaluated again, which gives the same score.
    pub embedding_only: u64,
}

/// Finds the samples with no score under `fingerprint` (reads the compact sample rows) and,
/// when `embeddings`, those without a model embedding under it (reads `model_embeddings`).
pub fn pending(pool: &Pool, fingerprint: &str, embeddings: bool) -> Result<Pending> {
    let id = SampleRow::fingerprint_id(fingerprint);
    let embedded = if embeddings {
        Some(pool.store().model_embedded(fingerprint)?)
    } else {
        None
    };
    let mut p = Pending::default();
    for item in pool.store().sample_rows() {
        let (seq, row) = item?;
        let lacks_embedding = embedded.as_ref().is_some_and(|e| !e.contains(&seq));
        if row.quality_fp == id && lacks_embedding {
            p.embedding_only += 1;
            p.seqs.push(seq);
            p.tokens_estimate += u64::from(row.tokens);
        } else if row.quality_fp == id {
            if row.mean_nll.is_some() {
                p.scored += 1;
            } else {
                p.too_short += 1;
            }
        } else {
            p.seqs.push(seq);
            p.tokens_estimate += u64::from(row.tokens);
        }
    }
    Ok(p)
}

/// Settings of a scoring pass.
#[derive(Clone, Debug)]
pub struct ScoreOptions {
    /// Samples per scorer call and per store batch (what a crash can lose).
    pub batch_samples: usize,
    /// Commit the index after this many scored samples (and at the end).
    pub index_commit_every: usize,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            batch_samples: 64,
            index_commit_every: 4096,
        }
    }
}

/// Hears about a scoring pass as it goes.
pub trait ScoreObserver {
    /// The pass starts with this many samples and estimated tokens to score.
    fn started(&self, _samples: u64, _tokens_estimate: u64) {}
    /// Samples and estimated tokens done so far, and model tokens scored.
    fn progress(&self, _samples: u64, _tokens_estimate: u64, _tokens_scored: u64) {}
    /// Of the samples to score, this many already have a current score and are evaluated again
    /// only for their model embedding (a store scored before embeddings were stored): the cost
    /// of a full model pass over them, said before it starts.
    fn embeddings_only(&self, _samples: u64) {}
}

impl ScoreObserver for () {}

/// What a scoring pass did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScoreReport {
    /// The scorer's name.
    pub scorer: String,
    /// The scorer's fingerprint.
    pub fingerprint: String,
    /// Samples scored by this pass.
    pub scored: u64,
    /// Samples found too short to score by this pass.
    pub too_short: u64,
    /// Tokens the model predicted (what the speed is measured in).
    pub tokens_scored: u64,
    /// Samples that already had a score under this fingerprint.
    pub already_scored: u64,
    /// Samples in the pool with a score under this fingerprint afterwards.
    pub pool_scored: u64,
    /// Samples in the pool too short to score, afterwards.
    pub pool_too_short: u64,
    /// Wall time of the model work and writes.
    pub seconds: f64,
    /// Model tokens per second.
    pub tokens_per_second: f64,
    /// Samples per second.
    pub samples_per_second: f64,
    /// Model embeddings written by this pass (0 when the scorer gives none).
    pub embedded: u64,
    /// Their dimension (`None`: the scorer gives no embeddings).
    pub embedding_dim: Option<usize>,
}

/// Scores the `pending` samples of the pool with `scorer`.
pub fn score_pool(
    pool: &mut Pool,
    scorer: &mut dyn QualityScorer,
    pending: &Pending,
    description: &str,
    opts: &ScoreOptions,
    observer: &dyn ScoreObserver,
) -> Result<ScoreReport> {
    let started = Instant::now();
    let fingerprint = scorer.fingerprint().to_string();
    let fp_id = SampleRow::fingerprint_id(&fingerprint);
    let mut state = ScorerState {
        fingerprint: fingerprint.clone(),
        description: description.to_string(),
        scored: pending.scored,
        too_short: pending.too_short,
    };
    let mut report = ScoreReport {
        scorer: scorer.name().to_string(),
        fingerprint: fingerprint.clone(),
        already_scored: pending.scored,
        ..ScoreReport::default()
    };
    observer.started(pending.seqs.len() as u64, pending.tokens_estimate);
    let mut done_estimate = 0u64;
    let mut since_commit: Vec<u64> = Vec::new();
    report.embedding_dim = scorer.embedding_dim();
    for chunk in pending.seqs.chunks(opts.batch_samples.max(1)) {
        let docs = pool.store.docs(chunk)?;
        let texts: Vec<&str> = docs
            .iter()
            .map(|d| d.as_ref().map_or("", |d| d.text.as_str()))
            .collect();
        let results = scorer.score_and_embed(&texts).map_err(Error::Score)?;
        let mut batch = pool.store.batch();
        let mut tally = pool.mirror.tally();
        let mut rows = Vec::with_capacity(chunk.len());
        for ((&seq, doc), (result, embedding)) in chunk.iter().zip(&docs).zip(results) {
            let Some(doc) = doc else { continue };
            let Some(mut row) = pool.store.sample_row(seq)? else {
                continue;
            };
            done_estimate += u64::from(row.tokens);
            let record = apply_result(pool, &mut tally, seq, doc, &mut row, &result, fp_id)?;
            if record.n_scored > 0 {
                report.scored += 1;
                state.scored += 1;
                report.tokens_scored += u64::from(record.n_scored);
            } else {
                report.too_short += 1;
                state.too_short += 1;
            }
            if report.embedding_dim.is_some() {
                // A sample too short to score has no text position: an empty embedding says
                // it was looked at.
                let mut values = embedding.unwrap_or_default();
                round_to_f16(&mut values);
                batch.put_model_embedding(
                    seq,
                    &ModelEmbeddingRecord {
                        fingerprint_id: fp_id,
                        values,
                    },
                );
                report.embedded += 1;
            }
            batch.put_score(
                seq,
                &ScoreRecord {
                    fingerprint: fingerprint.clone(),
                    ..record
                },
            );
            batch.put_sample_row(seq, &row);
            batch.mark_reindex(seq);
            rows.push((seq, row, doc));
        }
        batch.put_meta(SCORER_KEY, &state);
        pool.mirror.commit(batch, tally)?;
        // Each row keeps its own doc: a seq with a doc but no row is skipped above, so zipping
        // the rows with the docs again would pair them wrongly.
        for (seq, row, doc) in &rows {
            pool.replace_in_index(*seq, doc, row)?;
            since_commit.push(*seq);
        }
        if since_commit.len() >= opts.index_commit_every {
            pool.commit_reindexed(&since_commit)?;
            since_commit.clear();
        }
        observer.progress(
            report.scored + report.too_short,
            done_estimate,
            report.tokens_scored,
        );
    }
    pool.commit_reindexed(&since_commit)?;
    let quantiles = nll_quantiles(pool, &fingerprint)?;
    let mut batch = pool.store.batch();
    batch.put_meta(NLL_QUANTILES_KEY, &quantiles);
    batch.put_meta(SCORER_KEY, &state);
    batch.commit()?;
    // The per-source and per-topic scales of lm, and `combined`, follow the scores.
    crate::pool::ranks::store_quantiles(pool.store())?;
    report.pool_scored = state.scored;
    report.pool_too_short = state.too_short;
    report.seconds = started.elapsed().as_secs_f64();
    if report.seconds > 0.0 {
        report.tokens_per_second = report.tokens_scored as f64 / report.seconds;
        report.samples_per_second = (report.scored + report.too_short) as f64 / report.seconds;
    }
    Ok(report)
}

/// Applies one sample's result to its row (exact tokens, fingerprint, mean NLL) and to the
/// source and pool token totals; returns its score record (fingerprint left empty).
fn apply_result(
    pool: &Pool,
    tally: &mut crate::pool::mirror::Tally,
    seq: u64,
    doc: &DocRecord,
    row: &mut SampleRow,
    result: &SampleScore,
    fp_id: u64,
) -> Result<ScoreRecord> {
    let n_tokens = result.n_tokens();
    let (nll_sum, n_scored) = match result {
        SampleScore::Scored(s) => (s.nll_sum, s.n_scored),
        SampleScore::TooShort { .. } => (0.0, 0),
    };
    // Exact token counts replace the estimates in every total.
    let delta = i64::from(n_tokens) - i64::from(row.tokens);
    let Some(source) = tally.known_source(&pool.mirror, &doc.source) else {
        return Err(Error::corrupt(
            pool.store.path(),
            "docs",
            seq,
            format!(
                "names source {:?}, which table sources does not list",
                doc.source
            ),
        ));
    };
    source.tokens = source.tokens.saturating_add_signed(delta);
    let counters = tally.counters();
    counters.tokens = counters.tokens.saturating_add_signed(delta);
    row.tokens = n_tokens;
    row.tokens_exact = true;
    row.quality_fp = fp_id;
    row.mean_nll = (n_scored > 0).then(|| (nll_sum / f64::from(n_scored)) as f32);
    Ok(ScoreRecord {
        fingerprint: String::new(),
        n_tokens,
        nll_sum,
        n_scored,
    })
}

/// The sorted mean NLLs of every sample scored under `fingerprint`, thinned to at most
/// [`MAX_QUANTILES`](crate::algo::rank::MAX_QUANTILES) evenly spaced order statistics
/// ([`QuantileIndex::Floor`]).
pub fn nll_quantiles(pool: &Pool, fingerprint: &str) -> Result<NllQuantiles> {
    let id = SampleRow::fingerprint_id(fingerprint);
    let mut all: Vec<f64> = Vec::new();
    for item in pool.store().sample_rows() {
        let (_, row) = item?;
        if row.quality_fp == id {
            if let Some(m) = row.mean_nll {
                all.push(f64::from(m));
            }
        }
    }
    all.sort_by(f64::total_cmp);
    let n = all.len();
    let values = thin_sorted(all, QuantileIndex::Floor);
    Ok(NllQuantiles {
        fingerprint: fingerprint.to_string(),
        n: n as u64,
        values,
    })
}
