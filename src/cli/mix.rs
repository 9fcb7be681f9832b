//! `samplemix mix`: draw a named mix, save its manifest, print its report and what changed
//! since the previous draw of the same name.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::ValueEnum;
use samplemix::pool::mixes::{self, MixSpec};
use samplemix::stages::mix::params::{self, KernelKind, MixParams};
use samplemix::stages::mix::MixDiff;
use samplemix::store::MixRecord;

use super::output::print_json;
use super::JsonFlag;

/// Kernels of `mix --kernel`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelArg {
    /// Target joint density of (q, d): Olkin-Liu bivariate beta (--a, --b, --c).
    BivariateBeta,
    /// alpha d + (1 - alpha) q (--alpha).
    Linear,
    /// Uniform over samples: natural source shares.
    Natural,
    /// Given source token shares (--domain-weights or --domain-file).
    Domain,
    /// The best fraction of samples by quality (--fraction).
    QualityThreshold,
    /// Equal tokens per topic.
    TopicBalanced,
}

/// `samplemix mix`.
#[derive(clap::Args, Debug)]
pub struct MixArgs {
    /// The mix name. Drawing an existing name again reuses its saved parameters unless flags
    /// override them, and prints what changed.
    pub name: String,
    /// Token budget (suffixes k, M, G accepted: 250M). Required for a new mix.
    #[arg(long, value_parser = parse_tokens)]
    pub tokens: Option<u64>,
    /// Weighting kernel [default: quality-threshold, chosen by the held-out evaluation
    /// (BENCHMARKS.md)].
    #[arg(long, value_enum)]
    pub kernel: Option<KernelArg>,
    /// bivariate-beta: quality shape a [default: 2].
    #[arg(long)]
    pub a: Option<f64>,
    /// bivariate-beta: diversity shape b [default: 2].
    #[arg(long)]
    pub b: Option<f64>,
    /// bivariate-beta: coupling shape c [default: 2].
    #[arg(long)]
    pub c: Option<f64>,
    /// linear: weight of diversity [default: 0.8].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// quality-threshold: fraction of samples kept [default: 0.8].
    #[arg(long)]
    pub fraction: Option<f64>,
    /// domain: token shares, src=share,...
    #[arg(long, value_name = "SRC=SHARE,...", conflicts_with = "domain_file")]
    pub domain_weights: Option<String>,
    /// domain: token shares from a JSON object or TOML table {source: share}.
    #[arg(long, value_name = "FILE.json|FILE.toml")]
    pub domain_file: Option<PathBuf>,
    /// domain: divide the shares by their sum instead of requiring a sum of 1.
    #[arg(long)]
    pub normalise: bool,
    /// Seed of the per-sample uniforms [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Most copies of one sample [default: 4].
    #[arg(long)]
    pub max_repeat: Option<u16>,
    /// Keep every source's token share within LOW,HIGH times its natural share (e.g. 0.5,2;
    /// `off` for none).
    #[arg(long, value_name = "LOW,HIGH")]
    pub source_bounds: Option<String>,
    /// Keep every topic's token share within LOW,HIGH times its natural share; `off` for none
    /// [default: a new mix of bivariate-beta, linear or quality-threshold on a pool with topics:
    /// 0.5,2]. A topic that cannot supply LOW even with every sample at the repetition cap gets
    /// what it can.
    #[arg(long, value_name = "LOW,HIGH")]
    pub topic_bounds: Option<String>,
    /// Absolute minimum token shares, src=share,...
    #[arg(long, value_name = "SRC=SHARE,...")]
    pub min_share: Option<String>,
    /// Absolute maximum token shares, src=share,...
    #[arg(long, value_name = "SRC=SHARE,...")]
    pub max_share: Option<String>,
    /// Ignore the saved parameters of a re-drawn mix: flags, config file and defaults only
    /// (the diff against the previous draw is still printed).
    #[arg(long)]
    pub fresh: bool,
    /// Drop every saved constraint (source and topic bounds, min and max shares) of a re-drawn
    /// mix.
    #[arg(long)]
    pub no_bounds: bool,
    /// Parameters from a TOML or JSON file (keys: tokens, kernel, a, b, c, alpha, fraction,
    /// seed, max_repeat, source_bounds = [low, high], topic_bounds = [low, high], normalise,
    /// and tables domain_weights,
    /// min_share, max_share of source = share). Flags win over the file, the file over the
    /// saved parameters of a re-drawn mix.
    #[arg(long, value_name = "FILE.toml|FILE.json")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub quality: super::quality::QualityFlags,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// A token count with an optional suffix k, M, G (or B), T: `250M`, `1.5G`. `mix --tokens` and
/// `export --shard-tokens` share it.
pub(super) fn parse_tokens(s: &str) -> Result<u64, String> {
    params::parse_tokens(s)
}

impl KernelArg {
    fn kind(self) -> KernelKind {
        match self {
            KernelArg::BivariateBeta => KernelKind::BivariateBeta,
            KernelArg::Linear => KernelKind::Linear,
            KernelArg::Natural => KernelKind::Natural,
            KernelArg::Domain => KernelKind::Domain,
            KernelArg::QualityThreshold => KernelKind::QualityThreshold,
            KernelArg::TopicBalanced => KernelKind::TopicBalanced,
        }
    }
}

/// The parameters of a draw as given: the flags, with what `--config` fills in where a flag is
/// absent.
fn given(args: &MixArgs) -> Result<MixParams> {
    let given = MixParams {
        tokens: args.tokens,
        kernel: args.kernel.map(KernelArg::kind),
        a: args.a,
        b: args.b,
        c: args.c,
        alpha: args.alpha,
        fraction: args.fraction,
        seed: args.seed,
        max_repeat: args.max_repeat,
        normalise: args.normalise,
        source_bounds: args.source_bounds.clone(),
        topic_bounds: args.topic_bounds.clone(),
        domain_weights: args.domain_weights.clone(),
        domain_file: args.domain_file.clone(),
        min_share: args.min_share.clone(),
        max_share: args.max_share.clone(),
        no_bounds: args.no_bounds,
        quality: args.quality.signal(),
        rank_within: args.quality.scope(),
        ..MixParams::default()
    };
    Ok(match &args.config {
        Some(path) => given.with_config_file(path)?,
        None => given,
    })
}

pub fn run(store: &Path, args: MixArgs) -> Result<ExitCode> {
    samplemix::names::check_mix_name(&args.name).map_err(anyhow::Error::msg)?;
    let given = given(&args)?;
    let drawn = params::draw_named(store, &args.name, &given, args.fresh)?;
    if args.json.json {
        print_json(&drawn.report_json())?;
    } else {
        print_text(&args.name, &drawn.spec, &drawn.record, drawn.diff.as_ref());
        print_topics(&drawn.topics);
    }
    for w in &drawn.warnings {
        eprintln!("samplemix: warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The topic coverage line of a draw (nothing when the pool has no topics).
fn print_topics(t: &mixes::TopicShares) {
    if t.pool_topics == 0 {
        return;
    }
    let ids: Vec<String> = t.under_half.iter().map(u32::to_string).collect();
    println!(
        "topics: {} of {} in the mix; {} under half their natural share{}",
        t.mix_topics,
        t.pool_topics,
        t.under_half.len(),
        if ids.is_empty() {
            String::new()
        } else {
            format!(" ({})", ids.join(", "))
        }
    );
}

fn print_text(name: &str, spec: &MixSpec, r: &MixRecord, diff: Option<&MixDiff>) {
    let err = (r.tokens_drawn as f64 - r.tokens_requested as f64) / r.tokens_requested as f64;
    println!(
        "mix {name}: {} tokens drawn for {} requested ({:+.3}%), {} distinct samples, kernel {}, \
         seed {}, max repeat {}",
        r.tokens_drawn,
        r.tokens_requested,
        100.0 * err,
        r.counts.len(),
        serde_json::to_string(&spec.kernel).unwrap_or_default(),
        spec.seed,
        spec.max_repeat
    );
    let choice = spec.quality_choice();
    if spec.kernel.needs().0 && !choice.is_default() {
        println!("q(x) from {}", choice.describe());
    }
    if let Some((lo, hi)) = spec.bounds.topic_relative {
        println!("topics kept within {lo}x-{hi}x their natural share");
    }
    let ex = &r.exclusions;
    if ex.no_quality + ex.no_diversity + ex.no_topic + ex.zero_tokens > 0 {
        println!(
            "excluded: {} without quality score, {} without diversity score, {} without topic, \
             {} empty; {} eligible",
            ex.no_quality, ex.no_diversity, ex.no_topic, ex.zero_tokens, ex.eligible
        );
    }
    println!(
        "{:<24} {:>14} {:>9} {:>14} {:>9} {:>7} {:>7}",
        "source", "pool tokens", "share", "mix tokens", "share", "ratio", "repeat"
    );
    for (s, t) in mixes::shares(r).iter().zip(&r.sources) {
        println!(
            "{:<24} {:>14} {:>9.4} {:>14} {:>9.4} {:>7.2} {:>7.2}{}",
            s.name,
            t.natural_tokens,
            s.natural_share,
            t.mixed_tokens,
            s.mixed_share,
            s.ratio,
            s.average_repetition,
            t.pinned
                .as_deref()
                .map(|p| format!("  (at its {p} share)"))
                .unwrap_or_default()
        );
    }
    if let Some(d) = diff {
        println!(
            "changes since the previous draw{}: {} new pool samples; {} samples added, {} \
             removed, {} with a new count, {} unchanged ({:.3}% of the previous pool changed); \
             tokens {} -> {}",
            if d.params_changed {
                " (parameters changed)"
            } else {
                ""
            },
            d.new_pool_samples,
            d.samples_added,
            d.samples_removed,
            d.count_changes,
            d.unchanged,
            100.0 * d.old_samples_changed_fraction,
            d.tokens_before,
            d.tokens_after
        );
        for s in &d.sources {
            if s.tokens_before != s.tokens_after {
                println!(
                    "  {:<24} {:>14} -> {:<14} share {:.4} -> {:.4}",
                    s.name, s.tokens_before, s.tokens_after, s.share_before, s.share_after
                );
            }
        }
    }
}
