//! `samplemix get`: one sample with all its stored fields and scores.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use samplemix::pool::Pool;

use super::output::{print_json, warn_index_damage};

pub(super) fn run(store: &Path, id: &str, json: bool) -> Result<ExitCode> {
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
    for sv in &v.signals {
        writeln!(
            out,
            "signal     {:<10} raw {}, q pool {}, q source {}, q topic {}",
            sv.signal,
            opt(sv.raw),
            opt(sv.q_pool),
            opt(sv.q_source),
            opt(sv.q_topic)
        )?;
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
