//! A whole `score` run over the pool: the samples without a score under the scorer's
//! fingerprint are scored, or, when there are none, the report says so without model work.

use std::path::Path;

use serde::Serialize;

use super::pass::{pending, score_pool, ScoreObserver, ScoreOptions, ScoreReport};
use super::types::QualityScorer;
use crate::error::Result;
use crate::pool::Pool;

/// What a score run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScoreOutcome {
    /// The pass's report (counts only, when nothing was pending).
    #[serde(flatten)]
    pub report: ScoreReport,
    /// Whether the model evaluated anything.
    pub model_work: bool,
}

/// How a run describes a llama.cpp model in the scorer state: path, max tokens, fingerprint.
pub fn llama_description(model: &Path, max_tokens: usize, fingerprint: &str) -> String {
    format!(
        "{} (max_tokens {max_tokens}, fingerprint {fingerprint})",
        model.display()
    )
}

/// Scores every sample of `pool` that has no score under `scorer`'s fingerprint; with none, no
/// model work is done and the report gives the pool's counts.
pub fn score_pending(
    pool: &mut Pool,
    scorer: &mut dyn QualityScorer,
    description: &str,
    opts: &ScoreOptions,
    observer: &dyn ScoreObserver,
) -> Result<ScoreOutcome> {
    let pending = pending(pool, scorer.fingerprint(), scorer.embedding_dim().is_some())?;
    if pending.seqs.is_empty() {
        let report = ScoreReport {
            scorer: scorer.name().to_string(),
            fingerprint: scorer.fingerprint().to_string(),
            already_scored: pending.scored,
            pool_scored: pending.scored,
            pool_too_short: pending.too_short,
            ..Default::default()
        };
        return Ok(ScoreOutcome {
            report,
            model_work: false,
        });
    }
    if pending.embedding_only > 0 {
        observer.embeddings_only(pending.embedding_only);
    }
    let report = score_pool(pool, scorer, &pending, description, opts, observer)?;
    Ok(ScoreOutcome {
        report,
        model_work: true,
    })
}
