//! `samplemix shards create DIR --shards N`, and what `append` and `stats` do when `--store`
//! names a sharded pool (a folder with a `SHARDS` layout file; schema/shards.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use samplemix::ingest::Planned;
use samplemix::stages::append::{self, AppendObserver, AppendOptions};
use samplemix::store::shards::{self, DEFAULT_PARTITIONS};

use super::output::print_json;

/// `samplemix shards`.
#[derive(clap::Args, Debug)]
pub struct ShardsArgs {
    #[command(subcommand)]
    pub command: ShardsCommand,
}

/// The `shards` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ShardsCommand {
    /// Create a sharded pool: N empty stores in DIR and the layout file that routes records to
    /// them by the hash of their normalised text.
    Create {
        /// The new sharded pool's folder (must not hold a store).
        dir: PathBuf,
        /// Number of shards (stores).
        #[arg(long)]
        shards: usize,
        /// Virtual partitions, spread over the shards as contiguous ranges.
        #[arg(long, default_value_t = DEFAULT_PARTITIONS)]
        partitions: u32,
        #[command(flatten)]
        json: super::JsonFlag,
    },
}

pub(super) fn run(args: ShardsArgs) -> Result<ExitCode> {
    match args.command {
        ShardsCommand::Create {
            dir,
            shards: n,
            partitions,
            json,
        } => {
            let layout = shards::create(&dir, n, partitions)?;
            if json.json {
                print_json(&layout)?;
            } else {
                println!(
                    "created a sharded pool of {} stores over {} partitions in {}",
                    layout.shards.len(),
                    layout.partitions,
                    dir.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `append` into the sharded pool at `dir`.
pub(super) fn append(
    dir: &Path,
    inputs: &[Planned],
    opts: &AppendOptions,
    observer: &dyn AppendObserver,
    json: bool,
) -> Result<ExitCode> {
    let report = append::append_sharded(dir, inputs, opts, observer)?;
    if json {
        print_json(&report)?;
    } else {
        println!(
            "added {} samples ({} tokens est.) over {} shards, skipped {} exact duplicates, \
             rejected {} records in {:.1} s; the sharded pool has {} samples",
            report.added,
            report.tokens_added,
            report.shards.len(),
            report.duplicates,
            report.rejected,
            report.seconds,
            report.pool_samples
        );
    }
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "samplemix: {} input(s) could not be read to the end (see above)",
            report.failed.len()
        );
        ExitCode::from(1)
    })
}

/// `stats` of the sharded pool at `dir`: the shards' totals summed.
pub(super) fn stats(dir: &Path, json: bool) -> Result<ExitCode> {
    let s = shards::stats(dir)?;
    if json {
        print_json(&s)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "sharded pool    {} ({} shards, {} partitions)",
        dir.display(),
        s.shards.len(),
        s.partitions
    )?;
    writeln!(
        out,
        "samples         {} ({} tokens; {:.1} MB of text)",
        s.samples,
        s.tokens,
        s.bytes as f64 / 1e6
    )?;
    writeln!(out, "duplicates      {} skipped", s.duplicates)?;
    writeln!(out, "rejected        {} records", s.rejected)?;
    for sh in &s.shards {
        writeln!(
            out,
            "shard           {}: partitions {}..{}, {} samples, {} tokens",
            sh.path, sh.first, sh.end, sh.samples, sh.tokens
        )?;
    }
    for (name, src) in &s.sources {
        writeln!(
            out,
            "source          {name}: {} samples, {} tokens",
            src.samples, src.tokens
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
