//! `samplemix query`: search the pool, JSONL hits (or one JSON object with `--json`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use samplemix::index::{QuerySpec, SortBy};
use samplemix::pool::Pool;

use super::output::print_json;
use super::{QueryArgs, SortArg};

pub(super) fn run(store: &Path, args: QueryArgs) -> Result<ExitCode> {
    let spec = QuerySpec {
        text: args.query,
        source: args.source,
        topic: args.topic,
        min_quality: args.min_quality,
        max_quality: args.max_quality,
        mean_nll_bounds: None,
        min_diversity: args.min_diversity,
        diversity: None,
        sort: match args.sort {
            SortArg::Relevance => SortBy::Relevance,
            SortArg::Quality => SortBy::Quality,
            SortArg::Diversity => SortBy::Diversity,
        },
        limit: args.limit,
    };
    spec.check_bounds()?;
    let pool = Pool::open_reader(store)?;
    let choice = args.quality.choice_or(Default::default());
    let result = pool.query_with(&spec, args.full, choice)?;
    if args.json.json {
        print_json(&result)?;
    } else {
        let mut out = std::io::stdout().lock();
        for hit in &result.hits {
            serde_json::to_writer(&mut out, hit)?;
            writeln!(out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
