//! `samplemix export`: write a stored mix as shuffled zstd JSONL or Parquet shards, or as token
//! ids for training (`--format tokens`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use samplemix::stages::export::tokens::{self as export_tokens, TokenExportOptions, TokenLayout};
use samplemix::stages::export::{self, DocFormat, ExportOptions};
use samplemix::stages::score::{default_model_path, GgufTokenizer};
use samplemix::store::Store;

use super::output::{load_mix, print_json};
use super::JsonFlag;

/// `samplemix export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The mix name.
    pub name: String,
    /// Output folder (created; must be empty unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Tokens per shard (suffixes k, M, G accepted: 100M).
    #[arg(long, default_value = "100M", value_parser = super::mix::parse_tokens)]
    pub shard_tokens: u64,
    /// Shuffle seed (default: the mix's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output format: zstd JSONL shards, Parquet shards (same columns; metadata as JSON text),
    /// or token ids (flat .bin arrays, optionally with Megatron .idx files).
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    pub format: ExportFormat,
    /// Tokenizer of --format tokens: `gguf` (the default model's vocabulary) or a GGUF file.
    #[arg(long, default_value = "gguf")]
    pub tokenizer: String,
    /// Files of --format tokens: `flat` (.bin only) or `megatron` (.bin and .idx).
    #[arg(long, value_enum, default_value_t = LayoutArg::Flat)]
    pub token_layout: LayoutArg,
    /// Replace an earlier export in a non-empty folder.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

/// `--format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// zstd JSONL shards.
    Jsonl,
    /// Parquet shards (zstd pages).
    Parquet,
    /// Token ids.
    Tokens,
}

/// `--token-layout`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutArg {
    /// Flat `.bin` arrays only.
    Flat,
    /// Flat `.bin` arrays plus a Megatron `.idx` beside each.
    Megatron,
}

pub fn run(store: &Path, args: ExportArgs) -> Result<ExitCode> {
    let st = Store::open_reader(store)?;
    let record = load_mix(&st, &args.name)?;
    export::prepare_out(&args.out, args.force)?;
    if args.format == ExportFormat::Tokens {
        let path = if args.tokenizer == "gguf" {
            default_model_path()
        } else {
            PathBuf::from(&args.tokenizer)
        };
        let tok = GgufTokenizer::load(&path)?;
        let opts = TokenExportOptions {
            shard_tokens: args.shard_tokens,
            seed: args.seed,
            layout: match args.token_layout {
                LayoutArg::Flat => TokenLayout::Flat,
                LayoutArg::Megatron => TokenLayout::Megatron,
            },
        };
        let m = export_tokens::export_tokens(&st, &args.name, &record, &args.out, &tok, &opts)?;
        if args.json.json {
            print_json(&m)?;
        } else {
            println!(
                "exported mix {} as {} tokens: {} documents, {} tokens in {} shard(s) to {}",
                args.name,
                m.dtype,
                m.documents,
                m.tokens,
                m.shards.len(),
                args.out.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let opts = ExportOptions {
        shard_tokens: args.shard_tokens,
        seed: args.seed,
        format: if args.format == ExportFormat::Parquet {
            DocFormat::Parquet
        } else {
            DocFormat::Jsonl
        },
        ..ExportOptions::default()
    };
    let m = export::export(&st, &args.name, &record, &args.out, &opts)?;
    if args.json.json {
        print_json(&m)?;
    } else {
        println!(
            "exported mix {} as {}: {} documents ({} distinct samples), {} tokens in {} shard(s) \
             to {}",
            args.name,
            m.format.extension(),
            m.lines,
            m.samples,
            m.tokens,
            m.shards.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
