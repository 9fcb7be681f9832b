//! `samplemix quality`: named quality signals besides `lm`. `quality compute SIGNAL` runs the
//! incremental pass of a signal (`repetition`, or `classifier` with the stored model) over every
//! sample that lacks it under the signal's current fingerprint; `quality train` trains and
//! stores the classifier's model.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::{bail, Result};
use indicatif::ProgressBar;
use samplemix::ingest::Input;
use samplemix::pool::ranks::{QualityChoice, QualitySignal, RankScope};
use samplemix::pool::Pool;
use samplemix::stages::quality::{self, SignalObserver, SignalOptions, TrainOptions, TrainOutcome};
use samplemix::store::Signal;

use super::output::{note_open, print_json};
use super::progress::{bar, PHASE_TEMPLATE};
use super::JsonFlag;

/// `samplemix quality`.
#[derive(clap::Args, Debug)]
pub struct QualityArgs {
    #[command(subcommand)]
    pub command: QualityCommand,
}

/// The `quality` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum QualityCommand {
    /// Compute a signal for every sample without a value under its current fingerprint
    /// (repetition, classifier; lm is computed by `samplemix score`).
    Compute(ComputeArgs),
    /// Train the classifier signal's model and store it (replacing the previous one, so that
    /// `quality compute classifier` rescores every sample): a reference set against a uniform
    /// sample of the pool plus synthetic hard negatives, or a distillation of another signal.
    Train(TrainArgs),
}

/// `samplemix quality train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// The reference set, the positives: JSONL files (.jsonl, .jsonl.gz, .jsonl.zst; - for
    /// stdin), read like `append` reads. At least 50 samples.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub reference: Vec<String>,
    /// Negatives to train against instead of a uniform sample of the pool and its synthetic
    /// hard negatives.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub negatives: Vec<String>,
    /// Train the classifier to predict this signal's ranks (lm or repetition) from the samples
    /// that have it, holding 20% out to report the Spearman correlation.
    #[arg(long, value_name = "SIGNAL", conflicts_with_all = ["reference", "negatives"])]
    pub distill: Option<String>,
    /// Seed of the pool sample, the hard negatives and the training order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Most pool samples drawn as negatives.
    #[arg(long, default_value_t = quality::DEFAULT_NEGATIVE_SAMPLES)]
    pub negative_samples: usize,
    /// Passes over the training samples.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub epochs: u32,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `samplemix quality compute`.
#[derive(clap::Args, Debug)]
pub struct ComputeArgs {
    /// The signal: repetition or classifier.
    #[arg(value_name = "SIGNAL")]
    pub signal: String,
    /// Samples per store batch (what an interruption can lose).
    #[arg(long, hide = true, default_value_t = 4096)]
    pub batch_samples: usize,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `--quality`: the signal q(x) is read from.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualityArg {
    /// Mean NLL under the reference model (samplemix score).
    Lm,
    /// The model-free repetition score (samplemix quality compute repetition).
    Repetition,
    /// The trained classifier's score.
    Classifier,
    /// The mean of the sample's q's among lm, repetition and classifier, ranked again.
    Combined,
}

/// `--rank-within`: where q(x) is ranked.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankArg {
    /// Among the whole pool.
    Pool,
    /// Among the sample's own source.
    Source,
    /// Among the sample's own topic (samples without a topic get no q).
    Topic,
}

/// `--quality` and `--rank-within`, shared by mix, query and report.
#[derive(clap::Args, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QualityFlags {
    /// The quality signal q(x) is read from [default: a new mix: combined; query: lm; a report
    /// or a re-drawn mix: the mix's saved one].
    #[arg(long, value_enum)]
    pub quality: Option<QualityArg>,
    /// Where q(x) is ranked [default: pool; a re-drawn mix: its saved one].
    #[arg(long, value_enum, value_name = "SCOPE")]
    pub rank_within: Option<RankArg>,
}

impl QualityFlags {
    /// The signal given, if any.
    pub fn signal(&self) -> Option<QualitySignal> {
        self.quality.map(|q| match q {
            QualityArg::Lm => QualitySignal::Lm,
            QualityArg::Repetition => QualitySignal::Repetition,
            QualityArg::Classifier => QualitySignal::Classifier,
            QualityArg::Combined => QualitySignal::Combined,
        })
    }

    /// The scope given, if any.
    pub fn scope(&self) -> Option<RankScope> {
        self.rank_within.map(|r| match r {
            RankArg::Pool => RankScope::Pool,
            RankArg::Source => RankScope::Source,
            RankArg::Topic => RankScope::Topic,
        })
    }

    /// What was given, over `fallback` where nothing was.
    pub fn choice_or(&self, fallback: QualityChoice) -> QualityChoice {
        QualityChoice {
            signal: self.signal().unwrap_or(fallback.signal),
            scope: self.scope().unwrap_or(fallback.scope),
        }
    }
}

/// The bar of a compute run, drawn once the pass starts (never when nothing is pending).
struct Progress {
    prefix: &'static str,
    bar: OnceLock<Option<ProgressBar>>,
}

impl Progress {
    fn bar(&self) -> Option<&ProgressBar> {
        self.bar
            .get_or_init(|| {
                std::io::stderr().is_terminal().then(|| {
                    let b = bar(Some(0), PHASE_TEMPLATE);
                    b.set_prefix(self.prefix);
                    b
                })
            })
            .as_ref()
    }
}

impl SignalObserver for Progress {
    fn started(&self, samples: u64) {
        if let Some(b) = self.bar() {
            b.set_length(samples);
        }
    }
    fn progress(&self, samples: u64) {
        if let Some(b) = self.bar() {
            b.set_position(samples);
        }
    }
}

pub(super) fn run(store: &Path, args: QualityArgs) -> Result<ExitCode> {
    match args.command {
        QualityCommand::Compute(a) => compute(store, a),
        QualityCommand::Train(a) => train(store, a),
    }
}

fn compute(store: &Path, args: ComputeArgs) -> Result<ExitCode> {
    let Some(signal) = Signal::from_name(&args.signal) else {
        bail!(
            "unknown signal {:?}: expected repetition or classifier",
            args.signal
        );
    };
    let mut pool = Pool::open_existing_writer(store)?;
    note_open(&pool);
    let progress = Progress {
        prefix: signal.name(),
        bar: OnceLock::new(),
    };
    let opts = SignalOptions {
        batch_samples: args.batch_samples.max(1),
    };
    let outcome = quality::compute_named(&mut pool, &args.signal, &opts, &progress)?;
    if let Some(Some(b)) = progress.bar.get() {
        b.finish_and_clear();
    }
    pool.close()?;
    let report = &outcome.report;
    if args.json.json {
        print_json(&outcome)?;
    } else if outcome.work_done {
        println!(
            "{}: computed {} samples ({} not applicable) in {:.2} s, {:.0} samples/s; {} of the \
             pool's samples have a value under fingerprint {}",
            report.signal,
            report.computed,
            report.not_applicable,
            report.seconds,
            report.samples_per_second,
            report.pool_computed,
            report.fingerprint
        );
    } else {
        println!(
            "{}: nothing to compute: all {} samples have a value under fingerprint {}",
            report.signal, report.already_computed, report.fingerprint
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn train(store: &Path, args: TrainArgs) -> Result<ExitCode> {
    let distill = match args.distill.as_deref() {
        None => None,
        Some(name) => Some(Signal::from_name(name).ok_or_else(|| {
            anyhow::anyhow!("unknown signal {name:?} for --distill: expected lm or repetition")
        })?),
    };
    let opts = TrainOptions {
        reference: args.reference.iter().map(|a| Input::parse(a)).collect(),
        negatives: args.negatives.iter().map(|a| Input::parse(a)).collect(),
        distill,
        seed: args.seed,
        negative_samples: args.negative_samples,
        epochs: args.epochs,
        ..TrainOptions::default()
    };
    let mut pool = Pool::open_existing_writer(store)?;
    note_open(&pool);
    let outcome = quality::train_classifier(&mut pool, &opts)?;
    pool.close()?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    report_skipped(&outcome.skipped_lines);
    if args.json.json {
        print_json(&outcome)?;
    } else {
        print_trained(&outcome);
    }
    Ok(ExitCode::SUCCESS)
}

fn report_skipped(skipped: &[String]) {
    for line in skipped.iter().take(10) {
        eprintln!("skipped {line}");
    }
    if skipped.len() > 10 {
        eprintln!("... and {} more lines skipped", skipped.len() - 10);
    }
}

fn print_trained(o: &TrainOutcome) {
    println!(
        "classifier {} trained in {:.1} s: {}",
        o.fingerprint, o.seconds, o.description
    );
    if let Some(r) = o.held_out_spearman {
        println!(
            "held-out Spearman correlation with the distilled signal: {r:.3} ({} samples)",
            o.held_out.unwrap_or(0)
        );
    }
    match &o.previous_fingerprint {
        Some(p) if *p != o.fingerprint => println!(
            "replaced model {p}: `samplemix quality compute classifier` rescores every sample"
        ),
        Some(_) => println!("the model is the same as the one stored before"),
        None => println!("next: `samplemix quality compute classifier`"),
    }
}
