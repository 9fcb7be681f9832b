//! `samplemix check` and `samplemix repair`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use samplemix::pool::repair;

use super::output::print_json;
use super::JsonFlag;

/// `samplemix repair`.
#[derive(clap::Args, Debug)]
pub struct RepairArgs {
    /// The new store to recover into (must not exist, or be an empty folder). The damaged store
    /// given by --store is never written.
    #[arg(long, value_name = "NEW")]
    pub into: PathBuf,
    #[command(flatten)]
    pub json: JsonFlag,
}

pub fn check(store: &Path, json: bool) -> Result<ExitCode> {
    let r = repair::check(store)?;
    if json {
        print_json(&r)?;
    } else {
        println!(
            "store {}: {}",
            r.store,
            if r.sound { "sound" } else { "DAMAGED" }
        );
        if let Some(n) = r.samples {
            println!("samples    {n}");
        }
        if let Some(n) = r.index_docs {
            println!("index      {n} docs");
        }
        for t in &r.tables {
            println!("table      {:<12} {} keys", t.table, t.keys);
        }
        for p in &r.problems {
            println!("problem    {p}");
        }
        for n in &r.notes {
            println!("note       {n}");
        }
        println!("advice     {}", r.advice);
    }
    Ok(if r.sound {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "samplemix: store {} has {} problem(s): {}",
            r.store,
            r.problems.len(),
            r.advice
        );
        ExitCode::from(1)
    })
}

pub fn run(store: &Path, args: RepairArgs) -> Result<ExitCode> {
    let r = repair::repair_into(store, &args.into)?;
    if args.json.json {
        print_json(&r)?;
    } else {
        for step in &r.steps {
            println!("- {step}");
        }
        println!(
            "recovered {} samples into {} (index: {} docs); {} is unchanged",
            r.samples, r.into, r.index_docs, r.from
        );
        for p in &r.problems {
            println!("problem    {p}");
        }
    }
    Ok(if r.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "samplemix: the recovered store {} is not consistent ({} problem(s), listed above): \
             some data was lost",
            r.into,
            r.problems.len()
        );
        ExitCode::from(1)
    })
}
