//! `samplemix append`: add JSONL and Parquet inputs (files, folders, globs) to the pool, rejected records optionally to a file.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use samplemix::ingest::{self, FieldNames};
use samplemix::pool::Pool;
use samplemix::stages::append::{self, AppendOptions};

use super::output::{note_open, print_json};
use super::progress::AppendProgress;
use super::AppendArgs;

fn rejects_path(store: &Path, arg: Option<&Path>) -> PathBuf {
    if let Some(arg) = arg {
        return arg.to_path_buf();
    }
    let mut name = store
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "samplemix-store".into());
    name.push(".rejects.jsonl");
    store.with_file_name(name)
}

pub(super) fn run(store: &Path, args: AppendArgs) -> Result<ExitCode> {
    let opts = AppendOptions {
        fields: FieldNames {
            text: args.text_field,
            id: args.id_field,
            source: args.source_field,
            ..FieldNames::default()
        },
        source: args.source,
        strict: args.strict,
        max_line_bytes: args.max_line_bytes,
        chunk_lines: args.chunk_lines.max(1),
        ..AppendOptions::default()
    };
    let rejects = match &args.rejects {
        None => None,
        Some(arg) => {
            let path = rejects_path(store, arg.as_deref());
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open rejects file {}", path.display()))?;
            Some((path, file))
        }
    };
    let rejects_file = rejects.as_ref().map(|(p, _)| p.clone());
    let inputs = ingest::expand(&args.files)?;
    if samplemix::store::shards::is_sharded(store) {
        let progress = AppendProgress::new(rejects);
        let code = super::shards::append(store, &inputs, &opts, &progress, args.json.json);
        progress.finish();
        return code;
    }
    let mut pool = Pool::open_writer(store)?;
    note_open(&pool);
    let progress = AppendProgress::new(rejects);
    let report = append::append_planned(&mut pool, &inputs, &opts, &progress);
    progress.finish();
    let report = report?;
    pool.close()?;
    let failed = report.failed_files();
    if args.json.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            report: &'a append::AppendReport,
            rejects_file: Option<String>,
        }
        print_json(&Out {
            report: &report,
            rejects_file: rejects_file.map(|p| p.display().to_string()),
        })?;
    } else {
        let mb = report.input_bytes as f64 / 1e6;
        println!(
            "added {} samples ({} tokens est.), skipped {} exact duplicates, rejected {} records; \
             read {:.1} MB from {} input(s) in {:.1} s; the pool has {} samples",
            report.added,
            report.tokens_added,
            report.duplicates,
            report.rejected,
            mb,
            report.files.len(),
            report.seconds,
            report.pool_samples
        );
        if report.files_skipped > 0 {
            println!(
                "skipped {} file(s) already appended completely",
                report.files_skipped
            );
        }
        if let Some(p) = rejects_file.filter(|_| report.rejected > 0) {
            println!("rejected records written to {}", p.display());
        }
    }
    Ok(if failed > 0 {
        eprintln!("samplemix: {failed} input(s) could not be read to the end (see above)");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
