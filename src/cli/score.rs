//! `samplemix score`: quality-score the samples without a score under the current model.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use samplemix::pool::Pool;

use super::output::{note_open, print_json};
use super::progress::ScoreProgress;
use super::ScoreArgs;

/// `score --json`: the report, and whether the model evaluated anything.
#[derive(serde::Serialize)]
struct ScoreOut<'a> {
    #[serde(flatten)]
    report: &'a samplemix::stages::score::ScoreReport,
    model_work: bool,
}

pub(super) fn run(store: &Path, args: ScoreArgs) -> Result<ExitCode> {
    use samplemix::stages::score::{self, LlamaScorer, LlamaSettings, QualityScorer};
    let mut settings = LlamaSettings {
        max_tokens: args.max_tokens,
        batch_tokens: args.batch_tokens,
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
    let description = format!(
        "{} (max_tokens {}, fingerprint {})",
        model.display(),
        settings.max_tokens,
        scorer.fingerprint()
    );
    let pending = score::pending(&pool, scorer.fingerprint())?;
    if pending.seqs.is_empty() {
        let report = score::ScoreReport {
            scorer: scorer.name().to_string(),
            fingerprint: scorer.fingerprint().to_string(),
            already_scored: pending.scored,
            pool_scored: pending.scored,
            pool_too_short: pending.too_short,
            ..Default::default()
        };
        pool.close()?;
        if args.json.json {
            print_json(&ScoreOut {
                report: &report,
                model_work: false,
            })?;
        } else {
            println!(
                "nothing to score: all {} samples already have a score under fingerprint {} ({} too short); no model work done",
                pending.scored + pending.too_short,
                report.fingerprint,
                pending.too_short
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let progress = ScoreProgress::new();
    let opts = score::ScoreOptions {
        batch_samples: args.batch_samples.max(1),
        ..Default::default()
    };
    let report = score::score_pool(
        &mut pool,
        &mut scorer,
        &pending,
        &description,
        &opts,
        &progress,
    )?;
    progress.finish();
    pool.close()?;
    if args.json.json {
        print_json(&ScoreOut {
            report: &report,
            model_work: true,
        })?;
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
    }
    Ok(ExitCode::SUCCESS)
}
