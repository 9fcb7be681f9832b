//! One function per command: resolve the arguments, call the library, print the outcome (one
//! JSON object with `--json`, readable text otherwise).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use samplemix::index::{QuerySpec, SortBy};
use samplemix::ingest::{FieldNames, Input};
use samplemix::pool::Pool;
use samplemix::stages::append::{self, AppendOptions};

use super::output::print_json;
use super::progress::{AppendProgress, ScoreProgress};
use super::{AppendArgs, Cli, Command, QueryArgs, ScoreArgs, SortArg};

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Append(args) => append(&cli.store, args),
        Command::Stats(json) => stats(&cli.store, json.json),
        Command::Get { id, json } => get(&cli.store, &id, json.json),
        Command::Query(args) => query(&cli.store, args),
        Command::Score(args) => score(&cli.store, args),
        Command::Topics(args) => super::topics::run(&cli.store, args),
        Command::Mix(args) => super::mix::run(&cli.store, args),
        Command::Export(args) => super::export::run(&cli.store, args),
        Command::Report(args) => super::report::run(&cli.store, args),
        Command::Eval(args) => super::eval::run(&cli.store, args),
        Command::Check(json) => super::repair::check(&cli.store, json.json),
        Command::Repair(args) => super::repair::run(&cli.store, args),
    }
}

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

fn append(store: &Path, args: AppendArgs) -> Result<ExitCode> {
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
    let inputs: Vec<Input> = args.files.iter().map(|f| Input::parse(f)).collect();
    let mut pool = Pool::open_writer(store)?;
    note_open(&pool);
    let progress = AppendProgress::new(rejects);
    let report = append::append(&mut pool, &inputs, &opts, &progress)?;
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

/// Warns on stderr that a reader found the index damaged (what needs no index still works).
fn warn_index_damage(pool: &Pool) {
    if let Some(reason) = pool.index_damage() {
        let e = samplemix::Error::IndexDamaged {
            path: pool.store().path().join(samplemix::index::INDEX_DIR),
            reason: reason.to_string(),
        };
        eprintln!("samplemix: warning: {e}");
    }
}

/// Says on stderr what opening the pool as writer repaired: an index rebuilt from the store, or
/// samples it lacked after a crash.
pub(super) fn note_open(pool: &Pool) {
    let opened = pool.open_report();
    if let Some(reason) = pool.index_rebuild_reason() {
        eprintln!(
            "samplemix: index {} was discarded ({reason}); rebuilt it from the store ({} samples)",
            pool.store()
                .path()
                .join(samplemix::index::INDEX_DIR)
                .display(),
            opened.indexed_on_open
        );
    } else if opened.indexed_on_open > 0 || opened.index_rebuilt {
        eprintln!(
            "samplemix: indexed {} samples the index lacked{}",
            opened.indexed_on_open,
            if opened.index_rebuilt {
                " (index rebuilt)"
            } else {
                ""
            }
        );
    }
}

fn stats(store: &Path, json: bool) -> Result<ExitCode> {
    let pool = Pool::open_reader(store)?;
    warn_index_damage(&pool);
    let s = pool.stats()?;
    if json {
        print_json(&s)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "store           {} (format {})",
        s.store, s.format_version
    )?;
    writeln!(
        out,
        "samples         {} ({} tokens, {} of them estimated; {:.1} MB of text)",
        s.samples,
        s.tokens,
        match s.tokens_estimated {
            0 => "none".to_string(),
            n if n == s.samples => "all".to_string(),
            n => format!("{n} samples'"),
        },
        s.bytes as f64 / 1e6
    )?;
    writeln!(out, "duplicates      {} skipped", s.duplicates_skipped)?;
    writeln!(out, "rejected        {} records", s.rejected)?;
    writeln!(out, "appends         {}", s.appends)?;
    writeln!(
        out,
        "scored          {} of {} ({} too short){}",
        s.scored,
        s.samples,
        s.too_short,
        s.scorer
            .as_deref()
            .map_or(String::new(), |d| format!("; scorer {d}"))
    )?;
    writeln!(
        out,
        "topics          {}",
        s.topics
            .as_ref()
            .map_or("not computed".into(), |t| t.to_string())
    )?;
    writeln!(
        out,
        "index           {} docs{}",
        s.index.docs,
        if let Some(reason) = &s.index.damaged {
            format!(", DAMAGED ({reason}); the next writing command rebuilds it from the store")
        } else if s.index.behind_by > 0 {
            format!(
                ", {} behind the store (a writer catches up on open)",
                s.index.behind_by
            )
        } else {
            String::new()
        }
    )?;
    writeln!(out, "size on disk    {:.1} MB", s.size_on_disk as f64 / 1e6)?;
    writeln!(out, "sources ({}):", s.sources.len())?;
    writeln!(
        out,
        "  {:<20} {:>10} {:>12} {:>7}",
        "name", "samples", "tokens", "share"
    )?;
    for src in &s.sources {
        writeln!(
            out,
            "  {:<20} {:>10} {:>12} {:>6.1}%",
            src.name,
            src.samples,
            src.tokens,
            src.token_share * 100.0
        )?;
    }
    if !s.mixes.is_empty() {
        writeln!(out, "mixes ({}):", s.mixes.len())?;
        for m in &s.mixes {
            writeln!(
                out,
                "  {:<20} {:>12} tokens {:>10} samples  {}{}",
                m.name,
                m.tokens,
                m.samples,
                m.kernel,
                if m.new_since > 0 {
                    format!(" ({} new pool samples since the draw)", m.new_since)
                } else {
                    String::new()
                }
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn get(store: &Path, id: &str, json: bool) -> Result<ExitCode> {
    let pool = Pool::open_reader(store)?;
    warn_index_damage(&pool);
    let v = pool.get(id)?;
    if json {
        print_json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    let opt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.4}"));
    writeln!(out, "id         {}", v.id)?;
    writeln!(out, "source     {}", v.source)?;
    writeln!(
        out,
        "tokens     {}{}",
        v.tokens,
        if v.tokens_estimated {
            " (estimate)"
        } else {
            ""
        }
    )?;
    writeln!(out, "origin     {}", v.origin)?;
    writeln!(out, "quality    {}", opt(v.quality))?;
    writeln!(out, "mean nll   {}", opt(v.mean_nll))?;
    writeln!(out, "diversity  {}", opt(v.diversity))?;
    if let Some(p) = &v.diversity_parts {
        writeln!(
            out,
            "  parts    cluster score {}, cluster rank {}, novelty {}, topic distance {}",
            opt(p.cluster_score),
            opt(p.cluster_rank),
            opt(p.novelty),
            opt(p.topic_distance.map(f64::from))
        )?;
        if let Some(n) = &p.nearest {
            writeln!(
                out,
                "  nearest  {n} (estimated Jaccard {})",
                opt(p.nearest_jaccard)
            )?;
        }
    }
    writeln!(
        out,
        "topic      {}",
        v.topic.map_or("-".to_string(), |t| t.to_string())
    )?;
    if let Some(m) = &v.metadata {
        writeln!(out, "metadata   {m}")?;
    }
    writeln!(out, "\n{}", v.text)?;
    Ok(ExitCode::SUCCESS)
}

fn query(store: &Path, args: QueryArgs) -> Result<ExitCode> {
    for (name, v) in [
        ("--min-quality", args.min_quality),
        ("--max-quality", args.max_quality),
        ("--min-diversity", args.min_diversity),
    ] {
        if let Some(v) = v {
            anyhow::ensure!((0.0..=1.0).contains(&v), "{name} {v} is outside 0 to 1");
        }
    }
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
    let pool = Pool::open_reader(store)?;
    let result = pool.query(&spec, args.full)?;
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

/// `score --json`: the report, and whether the model evaluated anything.
#[derive(serde::Serialize)]
struct ScoreOut<'a> {
    #[serde(flatten)]
    report: &'a samplemix::stages::score::ScoreReport,
    model_work: bool,
}

fn score(store: &Path, args: ScoreArgs) -> Result<ExitCode> {
    use samplemix::stages::score::{self, LlamaScorer, LlamaSettings, QualityScorer};
    let mut settings = LlamaSettings {
        max_tokens: args.max_tokens,
        batch_tokens: args.batch_tokens,
        ..LlamaSettings::default()
    };
    if let Some(t) = args.threads {
        settings.threads = t;
    }
    if let Some(g) = args.gpu_layers {
        settings.gpu_layers = g;
    }
    let model = args.model.unwrap_or_else(score::default_model_path);
    let mut pool = Pool::open_existing_writer(store)?;
    note_open(&pool);
    // Loading maps the model and hashes it for the fingerprint; no token is evaluated yet.
    let mut scorer = LlamaScorer::load(&model, settings.clone())?;
    let description = format!(
        "{} (max_tokens {}, fingerprint {})",
        model.display(),
        settings.max_tokens,
        scorer.fingerprint()
    );
    let pending = score::pending(&pool, scorer.fingerprint())?;
    if pending.seqs.is_empty() {
        let report = score::ScoreReport {
            scorer: scorer.name().to_string(),
            fingerprint: scorer.fingerprint().to_string(),
            already_scored: pending.scored,
            pool_scored: pending.scored,
            pool_too_short: pending.too_short,
            ..Default::default()
        };
        pool.close()?;
        if args.json.json {
            print_json(&ScoreOut {
                report: &report,
                model_work: false,
            })?;
        } else {
            println!(
                "nothing to score: all {} samples already have a score under fingerprint {} ({} too short); no model work done",
                pending.scored + pending.too_short,
                report.fingerprint,
                pending.too_short
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let progress = ScoreProgress::new();
    let opts = score::ScoreOptions {
        batch_samples: args.batch_samples.max(1),
        ..Default::default()
    };
    let report = score::score_pool(
        &mut pool,
        &mut scorer,
        &pending,
        &description,
        &opts,
        &progress,
    )?;
    progress.finish();
    pool.close()?;
    if args.json.json {
        print_json(&ScoreOut {
            report: &report,
            model_work: true,
        })?;
    } else {
        println!(
            "scored {} samples ({} too short to score) in {:.1} s: {:.0} tokens/s, {:.1} samples/s; \
             {} of the pool's samples are scored under fingerprint {}",
            report.scored,
            report.too_short,
            report.seconds,
            report.tokens_per_second,
            report.samples_per_second,
            report.pool_scored,
            report.fingerprint
        );
    }
    Ok(ExitCode::SUCCESS)
}
