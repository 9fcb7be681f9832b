//! The command line: clap arguments, resolved into library calls, and the exit-code contract of
//! `docs/cli.md` (0 success, 1 user error with a one-line reason, 2 usage error).
//! Only this module knows clap, anyhow and the terminal.

mod append;
mod eval;
mod export;
mod get;
mod mix;
mod output;
mod progress;
mod quality;
mod query;
mod repair;
mod report;
mod score;
mod shards;
mod stats;
mod topics;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Sample-wise pre-training data mixing over an embedded, incremental pool.
#[derive(Parser, Debug)]
#[command(name = "samplemix", version, about, propagate_version = true)]
pub struct Cli {
    /// The store folder.
    #[arg(
        long,
        global = true,
        env = "SAMPLEMIX_STORE",
        default_value = "samplemix-store"
    )]
    pub store: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Add documents from JSONL files (.jsonl, .jsonl.gz, .jsonl.zst; - for stdin).
    Append(AppendArgs),
    /// Summarise the pool.
    Stats(JsonFlag),
    /// Show one sample with all its stored fields and scores.
    Get {
        /// The sample id.
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Quality-score every sample that has no score under the current model and settings.
    Score(ScoreArgs),
    /// Named quality signals besides lm: `quality compute repetition`, `quality train`, `quality
    /// compute classifier`.
    Quality(quality::QualityArgs),
    /// Search the pool; prints JSONL (one hit a line).
    Query(QueryArgs),
    /// Embed, cluster and compute diversity for the samples that need it.
    Topics(topics::TopicsArgs),
    /// Draw a mix called NAME to a token budget and save its manifest in the store.
    Mix(mix::MixArgs),
    /// Write a mix as shuffled zstd JSONL shards, each sample repeated by its count.
    Export(export::ExportArgs),
    /// Write a mix's report: JSON, a per-source CSV and an HTML page with charts.
    Report(report::ReportArgs),
    /// Judge stored mixes side by side on held-out text (n-gram model perplexity, DSIR KL
    /// reduction, distinct n-grams, near-duplicates, source and topic shares).
    Eval(eval::EvalArgs),
    /// Check a store for damage without changing anything (exit 1 when something is damaged).
    Check(JsonFlag),
    /// Recover what can still be read of a damaged store into a new store (--into NEW); the
    /// damaged store is not changed.
    Repair(repair::RepairArgs),
    /// Sharded pools: `shards create DIR --shards N`; `--store DIR` then names the sharded pool
    /// for `append` (records routed by text hash) and `stats` (summed over the shards).
    Shards(shards::ShardsArgs),
}

/// `samplemix score`.
#[derive(clap::Args, Debug)]
pub struct ScoreArgs {
    /// The reference model (GGUF). Default: $SAMPLEMIX_MODEL, else SmolLM2-135M-Instruct Q4_1 in
    /// the model cache (tools/fetch-model.sh puts it there).
    #[arg(long, value_name = "FILE.gguf")]
    pub model: Option<PathBuf>,
    /// Tokens scored per sample (longer samples are scored on their first N tokens).
    #[arg(long, default_value_t = samplemix::stages::score::LlamaSettings::DEFAULT_MAX_TOKENS)]
    pub max_tokens: usize,
    /// CPU threads for llama.cpp (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Tokens per llama.cpp batch (several samples share a batch).
    #[arg(long, default_value_t = samplemix::stages::score::LlamaSettings::DEFAULT_BATCH_TOKENS)]
    pub batch_tokens: usize,
    /// Model layers to offload to the GPU (builds with --features cuda or metal).
    #[arg(long)]
    pub gpu_layers: Option<u32>,
    /// Samples per scorer call and store batch (what an interruption can lose).
    #[arg(long, hide = true, default_value_t = 64)]
    pub batch_samples: usize,
    /// Store no model embeddings (by default each sample's mean hidden state comes from the
    /// same model pass as its score, for `topics --embedding model`; samples scored without
    /// one get it on the next run that stores them).
    #[arg(long)]
    pub no_embeddings: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `--json`.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct JsonFlag {
    /// Print one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `samplemix append`.
#[derive(clap::Args, Debug)]
pub struct AppendArgs {
    /// Input files (JSONL, plain or gzip/zstd, or Parquet), folders (every file under them)
    /// or quoted globs ('crawl/**/*.jsonl.zst'); - reads stdin. Files found in a folder or by a
    /// glob that were appended completely before are skipped.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Field holding the text.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// Field holding the id (samples without one get a hash of their text).
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// Field holding the source (domain).
    #[arg(long, default_value = "source")]
    pub source_field: String,
    /// Source for records without one (default: the file name up to its first dot).
    #[arg(long, value_parser = source_name)]
    pub source: Option<String>,
    /// Stop at the first bad record, adding nothing from its file.
    #[arg(long)]
    pub strict: bool,
    /// Longest accepted line in bytes; longer lines are rejected.
    #[arg(long, default_value_t = 8 << 20)]
    pub max_line_bytes: usize,
    /// Write rejected records as JSONL to this file (appending); without a value, to
    /// STORE.rejects.jsonl beside the store.
    #[arg(long, value_name = "FILE")]
    #[allow(clippy::option_option)]
    pub rejects: Option<Option<PathBuf>>,
    /// Lines per parallel parse and store batch (tuning and tests).
    #[arg(long, hide = true, default_value_t = 4096)]
    pub chunk_lines: usize,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// Sort orders of `query`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortArg {
    /// BM25 relevance to the query text.
    Relevance,
    /// Quality, highest first.
    Quality,
    /// Diversity, highest first.
    Diversity,
}

/// `samplemix query`.
#[derive(clap::Args, Debug)]
pub struct QueryArgs {
    /// A query over the text: words (all must match), "phrases", a OR b, -excluded.
    pub query: Option<String>,
    /// Only this source.
    #[arg(long)]
    pub source: Option<String>,
    /// Only this topic.
    #[arg(long)]
    pub topic: Option<u64>,
    /// Quality at least this (0 to 1).
    #[arg(long)]
    pub min_quality: Option<f64>,
    /// Quality at most this (0 to 1).
    #[arg(long)]
    pub max_quality: Option<f64>,
    /// Diversity at least this (0 to 1).
    #[arg(long)]
    pub min_diversity: Option<f64>,
    /// Result order.
    #[arg(long, value_enum, default_value = "relevance")]
    pub sort: SortArg,
    /// How many hits (at most the pool's size; 0 prints none, and --json still gives the total).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Print whole texts instead of snippets.
    #[arg(long)]
    pub full: bool,
    /// `--quality`, `--rank-within`: what q(x) means for the quality filter, sort and output.
    #[command(flatten)]
    pub quality: quality::QualityFlags,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `--source`: 1 to 256 bytes, no control characters.
fn source_name(s: &str) -> Result<String, String> {
    samplemix::names::check_source_name(s).map(|()| s.to_string())
}

/// Runs the command line and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "samplemix: error: {}", describe(&e));
            ExitCode::from(1)
        }
    }
}

/// Dispatches a parsed command line to its command.
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Append(args) => append::run(&cli.store, args),
        Command::Stats(json) if samplemix::store::shards::is_sharded(&cli.store) => {
            shards::stats(&cli.store, json.json)
        }
        Command::Stats(json) => stats::run(&cli.store, json.json),
        Command::Get { id, json } => get::run(&cli.store, &id, json.json),
        Command::Query(args) => query::run(&cli.store, args),
        Command::Score(args) => score::run(&cli.store, args),
        Command::Quality(args) => quality::run(&cli.store, args),
        Command::Topics(args) => topics::run(&cli.store, args),
        Command::Mix(args) => mix::run(&cli.store, args),
        Command::Export(args) => export::run(&cli.store, args),
        Command::Report(args) => report::run(&cli.store, args),
        Command::Eval(args) => eval::run(&cli.store, args),
        Command::Check(json) => repair::check(&cli.store, json.json),
        Command::Repair(args) => repair::run(&cli.store, args),
        Command::Shards(args) => shards::run(args),
    }
}

/// The error and its causes joined by ": ", as `{:#}` prints them, leaving out a cause whose
/// text the message already holds: library errors that name an io error in their own text
/// ("{path}: {source}") would otherwise print it twice ("(os error 2): ... (os error 2)").
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.is_empty() {
            out = text;
        } else if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_prints_each_cause_once() {
        let io = || std::io::Error::from_raw_os_error(2);
        let lib: anyhow::Error = samplemix::Error::Io {
            path: "/x/y".into(),
            source: io(),
        }
        .into();
        let text = describe(&lib);
        assert_eq!(text.matches("(os error 2)").count(), 1, "{text}");
        assert!(text.starts_with("/x/y: "), "{text}");
        // Context that does not repeat its cause keeps it.
        let ctx = anyhow::Error::new(io()).context("cannot open rejects file r.jsonl");
        let text = describe(&ctx);
        assert!(
            text.starts_with("cannot open rejects file r.jsonl: "),
            "{text}"
        );
        assert!(text.ends_with("(os error 2)"), "{text}");
    }
}
