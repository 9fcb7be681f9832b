//! `samplemix score`: quality-score the samples without a score under the current model.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use samplemix::pool::Pool;

use super::output::{note_open, print_json};
use super::progress::ScoreProgress;
use super::ScoreArgs;

pub(super) fn run(store: &Path, args: ScoreArgs) -> Result<ExitCode> {
    use samplemix::stages::score::{self, LlamaScorer, LlamaSettings, QualityScorer};
    let mut settings = LlamaSettings {
        max_tokens: args.max_tokens,
        batch_tokens: args.batch_tokens,
        embeddings: !args.no_embeddings,
        ..LlamaSettings::default()
    };
    if let Some(t) = args.threads {
        settings.threads = t;
    }
    if let Some(g) = args.gpu_layers {
        settings.gpu_layers = g;
    }
    let model = args.model.unwrap_or_else(score::default_model_path);
    let mut pool = Pool::open_existing_writer(store)?;
    note_open(&pool);
    // Loading maps the model and hashes it for the fingerprint; no token is evaluated yet.
    let mut scorer = LlamaScorer::load(&model, settings.clone())?;
    let description = score::llama_description(&model, settings.max_tokens, scorer.fingerprint());
    let opts = score::ScoreOptions {
        batch_samples: args.batch_samples.max(1),
        ..Default::default()
    };
    let progress = ScoreProgress::new();
    let outcome = score::score_pending(&mut pool, &mut scorer, &description, &opts, &progress)?;
    progress.finish();
    pool.close()?;
    let report = &outcome.report;
    if args.json.json {
        print_json(&outcome)?;
    } else if !outcome.model_work {
        println!(
            "nothing to score: all {} samples already have a score under fingerprint {} ({} too short); no model work done",
            report.pool_scored + report.pool_too_short,
            report.fingerprint,
            report.pool_too_short
        );
    } else {
        println!(
            "scored {} samples ({} too short to score) in {:.1} s: {:.0} tokens/s, {:.1} samples/s; \
             {} of the pool's samples are scored under fingerprint {}",
            report.scored,
            report.too_short,
            report.seconds,
            report.tokens_per_second,
            report.samples_per_second,
            report.pool_scored,
            report.fingerprint
        );
        if let Some(dim) = report.embedding_dim {
            println!(
                "stored {} model embeddings ({dim} values, {} bytes each as binary16)",
                report.embedded,
                2 * dim
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
