//! `samplemix eval`: judge stored mixes side by side on held-out text (one table).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use samplemix::algo::judge::{ModelConfig, TrainSettings};
use samplemix::stages::eval::{self as judge, Evaluation, JudgeOptions, TransformerOptions};
use samplemix::store::Store;

use super::output::print_json;
use super::JsonFlag;

/// `samplemix eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The mixes to judge (all drawn from this store; draw them at the same token budget).
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Held-out JSONL (a `text` field per line) that is not in the pool.
    #[arg(long, value_name = "FILE")]
    pub heldout: PathBuf,
    /// Order of the byte-level n-gram model trained on each mix.
    #[arg(long, default_value_t = samplemix::algo::metrics::byte_lm::DEFAULT_ORDER)]
    pub order: usize,
    /// Word n-gram length of the distinct n-gram ratio.
    #[arg(long, default_value_t = samplemix::algo::metrics::distinct::DEFAULT_DISTINCT_N)]
    pub distinct_n: usize,
    /// Report each mix's token share of samples whose metadata has this key.
    #[arg(long, value_name = "KEY")]
    pub label_key: Option<String>,
    /// The judges: `ngram` (the n-gram figures only) or `transformer` (also train a small
    /// byte-level transformer on each mix, once per seed, and measure it on the held-out text).
    #[arg(long, value_enum, default_value_t = JudgeKind::Ngram)]
    pub judge: JudgeKind,
    #[command(flatten)]
    pub transformer: TransformerArgs,
    /// Also write the evaluation as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub write_json: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Which judges run.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JudgeKind {
    /// Byte n-gram model, DSIR, distinct n-grams, near-duplicates.
    Ngram,
    /// All of those plus the trained transformer.
    Transformer,
}

/// The trained judge's settings (`--judge transformer`).
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Trained judge (--judge transformer)")]
pub struct TransformerArgs {
    /// Training seeds: one model per seed and mix; the table gives mean and spread.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub judge_seeds: Vec<u64>,
    /// Optimiser steps.
    #[arg(long, default_value_t = TrainSettings::DEFAULT.steps)]
    pub judge_steps: usize,
    /// Windows per step.
    #[arg(long, default_value_t = TrainSettings::DEFAULT.batch)]
    pub judge_batch: usize,
    /// Peak learning rate (linear warm-up over a twelfth of the steps, cosine to a tenth).
    #[arg(long, default_value_t = TrainSettings::DEFAULT.lr)]
    pub judge_lr: f64,
    /// Width of the model.
    #[arg(long, default_value_t = ModelConfig::DEFAULT.d_model)]
    pub judge_d_model: usize,
    /// Transformer blocks.
    #[arg(long, default_value_t = ModelConfig::DEFAULT.layers)]
    pub judge_layers: usize,
    /// Attention heads.
    #[arg(long, default_value_t = ModelConfig::DEFAULT.heads)]
    pub judge_heads: usize,
    /// Context in bytes.
    #[arg(long, default_value_t = ModelConfig::DEFAULT.context)]
    pub judge_context: usize,
    /// Bytes of each held-out text measured (its first bytes).
    #[arg(long, default_value_t = TransformerOptions::default().heldout_bytes)]
    pub judge_heldout_bytes: usize,
    /// Questions of the choice task.
    #[arg(long, default_value_t = TransformerOptions::default().choice_items)]
    pub judge_choice_items: usize,
    /// Points of a held-out learning curve printed per run (0: none).
    #[arg(long, default_value_t = 0)]
    pub judge_curve: usize,
}

impl TransformerArgs {
    fn options(&self) -> Result<TransformerOptions> {
        if self.judge_seeds.is_empty() {
            bail!("--judge-seeds needs at least one seed");
        }
        if self.judge_heldout_bytes == 0 {
            bail!("--judge-heldout-bytes must be at least 1");
        }
        Ok(TransformerOptions {
            train: TrainSettings {
                model: ModelConfig {
                    d_model: self.judge_d_model,
                    layers: self.judge_layers,
                    heads: self.judge_heads,
                    context: self.judge_context,
                },
                steps: self.judge_steps,
                batch: self.judge_batch,
                lr: self.judge_lr,
                warmup: self.judge_steps.div_ceil(12),
                ..TrainSettings::DEFAULT
            },
            seeds: self.judge_seeds.clone(),
            heldout_bytes: self.judge_heldout_bytes,
            choice_items: self.judge_choice_items,
            curve_points: self.judge_curve,
        })
    }
}

/// Keeps glibc from returning the tensor library's short-lived multi-megabyte buffers to the
/// kernel after every op (measured: 1,790 -> 3,210 training bytes/s on 2 cores), by raising
/// the mmap and trim thresholds for this process.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tunables; it is called before any tensor exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

pub fn run(store: &Path, args: EvalArgs) -> Result<ExitCode> {
    let max = samplemix::algo::metrics::byte_lm::MAX_ORDER;
    if !(1..=max).contains(&args.order) {
        bail!("--order must be 1 to {max}, not {}", args.order);
    }
    if args.distinct_n == 0 {
        bail!("--distinct-n must be at least 1");
    }
    let st = Store::open_reader(store)?;
    let heldout = judge::read_heldout(&args.heldout)?;
    for s in heldout.skipped.iter().take(10) {
        eprintln!("samplemix: warning: held-out line skipped: {s}");
    }
    if heldout.skipped.len() > 10 {
        eprintln!(
            "samplemix: warning: {} more held-out lines skipped (all listed in --json)",
            heldout.skipped.len() - 10
        );
    }
    let transformer = match args.judge {
        JudgeKind::Ngram => None,
        JudgeKind::Transformer => {
            keep_freed_memory();
            Some(args.transformer.options()?)
        }
    };
    let opts = JudgeOptions {
        lm_order: args.order,
        distinct_n: args.distinct_n,
        label_key: args.label_key,
        transformer,
    };
    let ev = judge::evaluate(&st, &args.names, &heldout, &opts)?;
    if let Some(path) = &args.write_json {
        let bytes = serde_json::to_vec_pretty(&ev)?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json.json {
        print_json(&ev)?;
    } else {
        print!("{}", table(&ev));
        print!("{}", transformer_table(&ev));
    }
    Ok(ExitCode::SUCCESS)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.digits$}"))
}

/// The evaluation as two aligned text tables: the measures, then the per-source shares.
pub fn table(ev: &Evaluation) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "held-out: {} ({} texts, {:.2} MB); byte {}-gram model per mix; DSIR KL(held-out || pool) = {:.4} nats",
        ev.heldout,
        ev.heldout_texts,
        ev.heldout_bytes as f64 / 1e6,
        ev.lm_order,
        ev.pool_kl
    );
    let w = name_width(ev);
    let _ = writeln!(
        out,
        "{:<w$}  {:>9}  {:>6}  {:>8}  {:>8}  {:>9}  {:>8}  {:>9}  {:>10}  {:>6}  {:>6}  {:>7}  {:>6}  kernel",
        "mix",
        "tokens",
        "bpb",
        "KL red.",
        format!("dist-{}", ev.distinct_n),
        "near-dup",
        "redund.",
        "labelled",
        "topic even",
        "<half",
        "q",
        "d",
        "samples",
    );
    for m in &ev.mixes {
        let _ = writeln!(
            out,
            "{:<w$}  {:>9}  {:>6.4}  {:>8.4}  {:>8.4}  {:>9.4}  {:>8.4}  {:>9}  {:>10}  {:>6}  {:>6}  {:>7}  {:>6}  {}",
            m.mix,
            m.tokens,
            m.heldout_bits_per_byte,
            m.dsir_kl_reduction,
            m.distinct_ngram_ratio,
            m.near_dup_rate,
            m.redundant_rate,
            opt(m.labelled_share, 4),
            opt(m.topic_evenness, 4),
            m.topics_under_half.map_or("-".into(), |x| x.to_string()),
            opt(m.mean_q, 3),
            opt(m.mean_d, 3),
            m.samples,
            m.kernel
        );
    }
    if let Some(key) = &ev.label_key {
        let _ = writeln!(
            out,
            "labelled: token share of samples with metadata key {key}"
        );
    }
    let _ = writeln!(out, "\nper-source token share (pool first):");
    let cw: Vec<usize> = ev.sources.iter().map(|s| s.len().max(6)).collect();
    let mut head = format!("{:<w$}", "mix");
    for (s, cw) in ev.sources.iter().zip(&cw) {
        let _ = write!(head, "  {s:>cw$}");
    }
    let _ = writeln!(out, "{head}");
    let row = |name: &str, shares: &[f64]| {
        let mut r = format!("{name:<w$}");
        for (x, cw) in shares.iter().zip(&cw) {
            let _ = write!(r, "  {:>cw$}", format!("{:.1}%", 100.0 * x));
        }
        r
    };
    let _ = writeln!(out, "{}", row("(pool)", &ev.pool_source_shares));
    for m in &ev.mixes {
        let _ = writeln!(out, "{}", row(&m.mix, &m.source_shares));
    }
    out
}

/// Where `m`'s seeds lie against `base`'s: a win or loss only when the ranges do not overlap.
fn verdict(m: &judge::Spread, base: &judge::Spread, lower_is_better: bool) -> &'static str {
    let (better, worse) = if lower_is_better {
        (m.max < base.min, m.min > base.max)
    } else {
        (m.min > base.max, m.max < base.min)
    };
    match (better, worse) {
        (true, _) => "better",
        (_, true) => "worse",
        _ => "tie",
    }
}

/// The trained judge's tables: per mix the mean and spread over seeds, then per held-out
/// source, then the learning curves (empty when the judge did not run).
pub fn transformer_table(ev: &Evaluation) -> String {
    use std::fmt::Write;
    let Some(setup) = &ev.transformer else {
        return String::new();
    };
    let mut out = String::new();
    let o = &setup.options;
    let m = &o.train.model;
    let _ = writeln!(
        out,
        "\ntrained judge: byte-level transformer, {} parameters (d {}, {} layers, {} heads, context {}); \
         {} steps x {} windows = {} training bytes; AdamW peak lr {} (warm-up {} steps, cosine to {}); \
         seeds {:?}; {} threads",
        setup.params,
        m.d_model,
        m.layers,
        m.heads,
        m.context,
        o.train.steps,
        o.train.batch,
        setup.train_tokens,
        o.train.lr,
        o.train.warmup,
        o.train.lr * o.train.min_lr_ratio,
        o.seeds,
        setup.threads
    );
    let _ = writeln!(
        out,
        "held-out: {} bytes (the first {} of each text); choice task: {} questions (true \
         continuation vs 2 from other texts, its words shuffled, a keyword repeated; \
         length-normalised log-likelihood)",
        setup.heldout_bytes, o.heldout_bytes, setup.choice_items
    );
    transformer_summary(ev, &mut out);
    transformer_sources(ev, setup, &mut out);
    transformer_curves(ev, &mut out);
    out
}

/// Per mix: held-out bits per byte and choice accuracy over seeds, each against the first mix.
fn transformer_summary(ev: &Evaluation, out: &mut String) {
    use std::fmt::Write;
    let Some(base) = ev.mixes.first().and_then(|m| m.transformer.as_ref()) else {
        return;
    };
    let w = name_width(ev);
    let base_name = &ev.mixes[0].mix;
    let _ = writeln!(
        out,
        "{:<w$}  {:>8}  {:>7}  {:>15}  {:>8}  {:>7}  {:>13}  {:>8}  {:>8}  {:>10}  {:>7}",
        "mix",
        "bpb",
        "+-sd",
        "[min, max]",
        "choice",
        "+-sd",
        "95% CI seed 1",
        "bpb vs",
        "choice",
        "train B/s",
        "s/run",
    );
    for mix in &ev.mixes {
        let Some(t) = &mix.transformer else { continue };
        let b = &t.heldout_bits_per_byte;
        let c = &t.choice_accuracy;
        let ci = t.runs.first().map(|r| r.choice.ci95).unwrap_or((0.0, 1.0));
        let n = t.runs.len().max(1) as f64;
        let _ = writeln!(
            out,
            "{:<w$}  {:>8.4}  {:>7.4}  {:>15}  {:>8.3}  {:>7.3}  {:>13}  {:>8}  {:>8}  {:>10.0}  {:>7.1}",
            mix.mix,
            b.mean,
            b.std,
            format!("[{:.4}, {:.4}]", b.min, b.max),
            c.mean,
            c.std,
            format!("[{:.3}, {:.3}]", ci.0, ci.1),
            verdict(b, &base.heldout_bits_per_byte, true),
            verdict(c, &base.choice_accuracy, false),
            t.runs.iter().map(|r| r.train_tokens_per_second).sum::<f64>() / n,
            t.runs.iter().map(|r| r.seconds).sum::<f64>() / n,
        );
    }
    let _ = writeln!(
        out,
        "(\"vs\": against {base_name}; better or worse only when the seeds' ranges do not overlap)"
    );
}

/// Held-out bits per byte per held-out source, mean over seeds.
fn transformer_sources(ev: &Evaluation, setup: &judge::TransformerSetup, out: &mut String) {
    use std::fmt::Write;
    let w = name_width(ev);
    let _ = writeln!(
        out,
        "\nheld-out bits per byte per source (trained judge, mean over seeds):"
    );
    let cw: Vec<usize> = setup
        .heldout_sources
        .iter()
        .map(|s| s.len().max(7))
        .collect();
    let mut head = format!("{:<w$}", "mix");
    for (s, cw) in setup.heldout_sources.iter().zip(&cw) {
        let _ = write!(head, "  {s:>cw$}");
    }
    let _ = writeln!(out, "{head}");
    for mix in &ev.mixes {
        let Some(t) = &mix.transformer else { continue };
        let mut row = format!("{:<w$}", mix.mix);
        for (i, cw) in cw.iter().enumerate() {
            let v = t
                .runs
                .iter()
                .map(|r| r.source_bits_per_byte[i])
                .sum::<f64>()
                / t.runs.len().max(1) as f64;
            let _ = write!(row, "  {v:>cw$.4}");
        }
        let _ = writeln!(out, "{row}");
    }
}

/// The learning curves of the runs that recorded one.
fn transformer_curves(ev: &Evaluation, out: &mut String) {
    use std::fmt::Write;
    for mix in &ev.mixes {
        let Some(t) = &mix.transformer else { continue };
        for r in t.runs.iter().filter(|r| !r.curve.is_empty()) {
            let _ = writeln!(out, "\nlearning curve, {} seed {}:", mix.mix, r.seed);
            let _ = writeln!(
                out,
                "{:>12}  {:>12}  {:>12}",
                "train bytes", "train bpb", "held-out bpb"
            );
            for p in &r.curve {
                let _ = writeln!(
                    out,
                    "{:>12}  {:>12.4}  {:>12.4}",
                    p.tokens,
                    p.train_nats_per_byte / std::f64::consts::LN_2,
                    p.heldout_nats_per_byte / std::f64::consts::LN_2
                );
            }
        }
    }
}

/// Width of the mix-name column.
fn name_width(ev: &Evaluation) -> usize {
    ev.mixes
        .iter()
        .map(|m| m.mix.len())
        .max()
        .unwrap_or(3)
        .max(3)
}
