//! `samplemix export`: write a stored mix as shuffled zstd JSONL shards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use samplemix::stages::export::{self, ExportOptions};
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
    /// Replace an earlier export in a non-empty folder.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub json: JsonFlag,
}

pub fn run(store: &Path, args: ExportArgs) -> Result<ExitCode> {
    let st = Store::open_reader(store)?;
    let record = load_mix(&st, &args.name)?;
    export::prepare_out(&args.out, args.force)?;
    let opts = ExportOptions {
        shard_tokens: args.shard_tokens,
        seed: args.seed,
        ..ExportOptions::default()
    };
    let m = export::export(&st, &args.name, &record, &args.out, &opts)?;
    if args.json.json {
        print_json(&m)?;
    } else {
        println!(
            "exported mix {}: {} lines ({} distinct samples), {} tokens in {} shard(s) to {}",
            args.name,
            m.lines,
            m.samples,
            m.tokens,
            m.shards.len(),
            args.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
