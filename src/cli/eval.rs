//! `samplemix eval`: judge stored mixes side by side on held-out text (one table).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use samplemix::stages::eval::{self as judge, Evaluation, JudgeOptions};
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
    /// Also write the evaluation as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub write_json: Option<PathBuf>,
    #[command(flatten)]
    pub json: JsonFlag,
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
    let opts = JudgeOptions {
        lm_order: args.order,
        distinct_n: args.distinct_n,
        label_key: args.label_key,
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
    let w = ev
        .mixes
        .iter()
        .map(|m| m.mix.len())
        .max()
        .unwrap_or(3)
        .max(3);
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
