//! `samplemix export`: write a stored mix as shuffled zstd JSONL shards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use samplemix::export::{self, ExportOptions};
use samplemix::store::{MixRecord, Store};

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

/// The stored mix `name`, or an error listing the mixes there are.
pub fn load_mix(store: &Store, name: &str) -> Result<MixRecord> {
    match store.mix(name)? {
        Some(r) if r.counts.is_empty() => anyhow::bail!(
            "mix {name:?} is empty: its budget of {} tokens drew no sample (an older samplemix \
             saved it); draw it again with a larger budget: `samplemix mix {name} --tokens T`",
            r.tokens_requested
        ),
        Some(r) => Ok(r),
        None => {
            let names = store.mix_names()?;
            anyhow::bail!(
                "no mix called {name:?} in the store ({}): draw it with `samplemix mix {name} \
                 --tokens T`",
                if names.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("it has {}", names.join(", "))
                }
            )
        }
    }
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
        super::commands::print_json(&m)?;
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
