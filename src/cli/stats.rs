//! `samplemix stats`: summarise the pool.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use samplemix::pool::Pool;

use super::output::{print_json, warn_index_damage};

pub(super) fn run(store: &Path, json: bool) -> Result<ExitCode> {
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
    for sig in &s.signals {
        writeln!(
            out,
            "signal          {}: {} of {} ({} not applicable); {}",
            sig.signal, sig.computed, s.samples, sig.not_applicable, sig.description
        )?;
    }
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
