//! `samplemix topics`: runs the diversity stage, then optionally lists the topics (`--show`) and
//! the near-duplicate groups (`--duplicates`).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use samplemix::pool::topic_views::{self, DuplicateGroup, TopicView};
use samplemix::pool::Pool;
use samplemix::stages::topics::{self, TopicCount, TopicsObserver, TopicsOptions};
use samplemix::store::EmbeddingSource;
use serde::Serialize;

use super::progress::{self, BarSlot, PHASE_TEMPLATE, SPINNER_TEMPLATE};
use super::JsonFlag;

/// `samplemix topics`.
#[derive(clap::Args, Debug)]
pub struct TopicsArgs {
    /// Re-cluster the whole pool (new topic ids).
    #[arg(long)]
    pub refit: bool,
    /// Number of topics, or `auto` for round(sqrt(n / 2)) clamped to 2..256 (the default). It is
    /// kept for later refits; a number other than the current model's refits.
    #[arg(long, value_name = "K|auto", value_parser = parse_topics)]
    pub topics: Option<TopicCount>,
    /// Never refit because the pool drifted: new samples always join the current topics (an
    /// explicit --refit still refits).
    #[arg(long)]
    pub keep_topics: bool,
    /// List the topics: size, tokens, share per source, characteristic terms.
    #[arg(long)]
    pub show: bool,
    /// List the near-duplicate groups (estimated Jaccard similarity >= 0.73, for pairs at 0.8).
    #[arg(long)]
    pub duplicates: bool,
    /// The embeddings to cluster on: `hashed` (word n-grams, computed here) or `model` (the
    /// reference model's mean hidden states, computed by `score`; refused while some samples
    /// lack one). Kept for later runs; a change refits. Default: as chosen before; on the first
    /// run, model when every sample has a model embedding (after `score`), else hashed.
    #[arg(long, value_name = "hashed|model", value_parser = parse_embedding)]
    pub embedding: Option<EmbeddingSource>,
    /// Samples per store batch (tuning and tests).
    #[arg(long, hide = true, default_value_t = topics::DEFAULT_CHUNK)]
    pub chunk: usize,
    #[command(flatten)]
    pub json: JsonFlag,
}

fn parse_embedding(s: &str) -> Result<EmbeddingSource, String> {
    match s {
        "hashed" => Ok(EmbeddingSource::Hashed),
        "model" => Ok(EmbeddingSource::Model),
        _ => Err(format!("{s:?} is neither hashed nor model")),
    }
}

fn parse_topics(s: &str) -> Result<TopicCount, String> {
    if s == "auto" {
        return Ok(TopicCount::Default);
    }
    match s.parse::<usize>() {
        Ok(k) if k >= 1 => Ok(TopicCount::Fixed(k)),
        _ => Err(format!(
            "{s:?} is neither a number of topics (1 or more) nor auto"
        )),
    }
}

/// One bar per phase on stderr, only on a terminal.
struct Progress {
    bar: BarSlot,
    interactive: bool,
}

impl TopicsObserver for Progress {
    fn phase(&self, name: &str, total: Option<u64>) {
        if !self.interactive {
            return;
        }
        let template = if total.is_some() {
            PHASE_TEMPLATE
        } else {
            SPINNER_TEMPLATE
        };
        let bar = progress::bar(total, template);
        bar.set_prefix(name.to_string());
        if total.is_none() {
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        self.bar.set(bar);
    }

    fn advance(&self, n: u64) {
        self.bar.with(|bar| bar.inc(n));
    }

    fn finished(&self) {
        self.bar.finish();
    }
}

#[derive(Serialize)]
struct Duplicates {
    /// The estimated-similarity cut.
    threshold: f32,
    groups: Vec<DuplicateGroup>,
}

pub fn run(store: &Path, args: TopicsArgs) -> Result<ExitCode> {
    let opts = TopicsOptions {
        refit: args.refit,
        topics: args.topics,
        keep_topics: args.keep_topics,
        chunk: args.chunk.max(1),
        embedding: args.embedding,
    };
    let mut pool = Pool::open_existing_writer(store)?;
    super::output::note_open(&pool);
    let progress = Progress {
        bar: BarSlot::default(),
        interactive: std::io::stderr().is_terminal(),
    };
    let report = topics::run(&mut pool, &opts, &progress)?;
    let shown = if args.show {
        Some(topic_views::show(pool.store())?)
    } else {
        None
    };
    let duplicates = if args.duplicates {
        let (threshold, groups) = topic_views::near_duplicate_groups(pool.store())?;
        Some(Duplicates { threshold, groups })
    } else {
        None
    };
    pool.close()?;
    if args.json.json {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            report: &'a topics::TopicsReport,
            #[serde(skip_serializing_if = "Option::is_none")]
            topics: Option<&'a Vec<TopicView>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            duplicates: Option<&'a Duplicates>,
        }
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(
            &mut out,
            &Out {
                report: &report,
                topics: shown.as_ref(),
                duplicates: duplicates.as_ref(),
            },
        )?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "processed {} new samples ({} older samples' novelty raised), {} joined topics{}; \
         {} index documents updated in {:.1} s",
        report.processed,
        report.novelty_updated,
        report.joined,
        match &report.refit {
            Some(r) => format!(
                "; refit ({}): {} topics on {} samples, {} in {:.1} s",
                r.reason, r.k, r.samples, r.algorithm, r.fit_seconds
            ),
            None => String::new(),
        },
        report.reindexed,
        report.seconds
    )?;
    writeln!(out, "topics: {}", report.state)?;
    if let Some(list) = &shown {
        writeln!(out)?;
        writeln!(
            out,
            "{:>5} {:<28} {:>7} {:>10} {:>6} {:>6}  {:<40} terms",
            "topic", "name", "samples", "tokens", "share", "score", "sources (share of samples)"
        )?;
        for t in list {
            let sources: Vec<String> = t
                .sources
                .iter()
                .take(3)
                .map(|s| format!("{} {:.0}%", s.source, 100.0 * s.share))
                .collect();
            writeln!(
                out,
                "{:>5} {:<28} {:>7} {:>10} {:>5.1}% {:>6.3}  {:<40} {}",
                t.topic,
                t.name,
                t.size,
                t.tokens,
                100.0 * t.token_share,
                t.score,
                sources.join(", "),
                t.terms
                    .iter()
                    .take(8)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            )?;
        }
    }
    if let Some(d) = &duplicates {
        writeln!(out)?;
        writeln!(
            out,
            "{} near-duplicate groups (estimated Jaccard >= {:.3}):",
            d.groups.len(),
            d.threshold
        )?;
        for g in &d.groups {
            let ids: Vec<String> = g
                .members
                .iter()
                .map(|m| format!("{} ({})", m.id, m.source))
                .collect();
            writeln!(out, "  {}", ids.join("  "))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
