//! `samplemix report`: write a stored mix's report (JSON, per-source CSV, HTML).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use samplemix::pool::mixes;
use samplemix::stages::report;
use samplemix::store::Store;

use super::output::{load_mix, print_json};
use super::JsonFlag;

/// `samplemix report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// The mix name.
    pub name: String,
    /// Output folder (created; report.json, sources.csv and report.html are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// `--quality`, `--rank-within`: the q(x) the report shows [default: the mix's own].
    #[command(flatten)]
    pub quality: super::quality::QualityFlags,
    #[command(flatten)]
    pub json: JsonFlag,
}

pub fn run(store: &Path, args: ReportArgs) -> Result<ExitCode> {
    let st = Store::open_reader(store)?;
    let record = load_mix(&st, &args.name)?;
    let saved = mixes::MixSpec::of(&record)?.quality_choice();
    let pool = mixes::load_with(&st, args.quality.choice_or(saved))?;
    let mut r = report::build(&args.name, &record, &pool)?;
    report::name_topics(&mut r, &samplemix::pool::topic_views::topic_names(&st)?);
    report::write(&args.out, &r)?;
    if args.json.json {
        print_json(&r)?;
    } else {
        println!(
            "report of mix {} written to {} (report.json, sources.csv, report.html)",
            args.name,
            args.out.display()
        );
    }
    for w in &r.warnings {
        eprintln!("samplemix: warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}
