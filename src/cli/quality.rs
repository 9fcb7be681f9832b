//! `samplemix quality`: named quality signals besides `lm`. `quality compute SIGNAL` runs the
//! incremental pass of a model-free signal (`repetition`) over every sample that lacks it
//! under the signal's current fingerprint.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use indicatif::ProgressBar;
use samplemix::pool::ranks::{QualityChoice, QualitySignal, RankScope};
use samplemix::pool::Pool;
use samplemix::stages::quality::{
    self, RepetitionComputer, SignalComputer, SignalObserver, SignalOptions, SignalReport,
};
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
    /// (repetition; lm is computed by `samplemix score`).
    Compute(ComputeArgs),
}

/// `samplemix quality compute`.
#[derive(clap::Args, Debug)]
pub struct ComputeArgs {
    /// The signal: repetition.
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
    /// The quality signal q(x) is read from [default: lm; a re-drawn mix: its saved one].
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

/// What to run when no sample has a q under `choice` (`None` for today's `lm` over the pool,
/// whose absence the draw itself explains).
pub fn missing_q_hint(choice: QualityChoice) -> Option<String> {
    if choice.is_default() {
        return None;
    }
    let signal = match choice.signal {
        QualitySignal::Lm => "`samplemix score`",
        QualitySignal::Repetition => "`samplemix quality compute repetition`",
        QualitySignal::Classifier => "the classifier (train it, then apply it)",
        QualitySignal::Combined => {
            "a signal (`samplemix score`, `samplemix quality compute repetition`)"
        }
    };
    let topics = if choice.scope == RankScope::Topic {
        " and `samplemix topics`"
    } else {
        ""
    };
    Some(format!(
        "no sample has a quality q under {}: run {signal}{topics} first, or choose another \
         --quality or --rank-within",
        choice.describe()
    ))
}

/// `quality compute --json`: the report, and whether anything was computed.
#[derive(serde::Serialize)]
struct ComputeOut<'a> {
    #[serde(flatten)]
    report: &'a SignalReport,
    work_done: bool,
}

struct Progress(Option<ProgressBar>);

impl SignalObserver for Progress {
    fn started(&self, samples: u64) {
        if let Some(b) = &self.0 {
            b.set_length(samples);
        }
    }
    fn progress(&self, samples: u64) {
        if let Some(b) = &self.0 {
            b.set_position(samples);
        }
    }
}

pub(super) fn run(store: &Path, args: QualityArgs) -> Result<ExitCode> {
    match args.command {
        QualityCommand::Compute(a) => compute(store, a),
    }
}

/// The computer of a model-free signal.
fn computer(name: &str) -> Result<Box<dyn SignalComputer>> {
    match Signal::from_name(name) {
        Some(Signal::Repetition) => Ok(Box::new(RepetitionComputer::new())),
        Some(Signal::Lm) => bail!("signal lm is computed by `samplemix score`"),
        Some(Signal::Classifier) => {
            bail!("signal classifier needs a trained model: see `samplemix quality --help`")
        }
        None => bail!("unknown signal {name:?}: expected repetition"),
    }
}

fn compute(store: &Path, args: ComputeArgs) -> Result<ExitCode> {
    let computer = computer(&args.signal)?;
    let mut pool = Pool::open_existing_writer(store)?;
    note_open(&pool);
    let pending = quality::pending(&pool, computer.signal(), computer.fingerprint())?;
    let work_done = !pending.seqs.is_empty();
    let report = if work_done {
        let progress = Progress(std::io::stderr().is_terminal().then(|| {
            let b = bar(Some(0), PHASE_TEMPLATE);
            b.set_prefix(computer.signal().name());
            b
        }));
        let opts = SignalOptions {
            batch_samples: args.batch_samples.max(1),
        };
        let report =
            quality::compute_signal(&mut pool, computer.as_ref(), &pending, &opts, &progress)?;
        if let Some(b) = &progress.0 {
            b.finish_and_clear();
        }
        report
    } else {
        SignalReport {
            signal: computer.signal().name().to_string(),
            fingerprint: computer.fingerprint().to_string(),
            already_computed: pending.computed,
            pool_computed: pending.computed,
            ..Default::default()
        }
    };
    pool.close()?;
    if args.json.json {
        print_json(&ComputeOut {
            report: &report,
            work_done,
        })?;
    } else if work_done {
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
