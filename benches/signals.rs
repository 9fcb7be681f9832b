//! Throughput of the `repetition` signal against `lm` scoring, side by side, per core.
//!
//! 1. `repetition`: `RepetitionComputer::compute` (features and score, no store) over every
//!    text of the demo corpus (parts 1 and 2), on one thread; the median of 3 runs.
//! 2. `lm`: the default model (`score::default_model_path`) at its default settings
//!    (`max_tokens` 256) on one thread, over the first 8 texts of the corpus (what one core does;
//!    it is 3 to 4 orders of magnitude slower, so a few samples measure it).
//! 3. The ratio, and the labelled junk of the corpus (`metadata.synthetic_noise`) by its rank
//!    among the corpus's repetition scores.
//!
//! Rates are per CPU second of the thread (repetition) or the process (lm), read from `/proc`,
//! so that other work on the machine does not lower them; wall times are printed too.
//!
//! Needs the demo corpus: `python3 tools/build-corpus.py`; the model: `tools/fetch-model.sh`
//! (without it, the lm row says so and the rest runs). Run: `cargo bench --bench signals`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use samplemix::stages::quality::{RepetitionComputer, SignalComputer};
use samplemix::stages::score::{self, LlamaScorer, LlamaSettings, QualityScorer};

const RUNS: usize = 3;

/// CPU seconds this thread has run (`/proc/thread-self/schedstat`, nanoseconds), so that a rate
/// per core does not depend on what else the machine runs; `None` off Linux.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

/// CPU seconds of the whole process (`/proc/self/stat` user + system ticks at 100 Hz).
fn process_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
const LM_SAMPLES: usize = 8;

fn corpus() -> Vec<(String, String)> {
    let data = std::env::var("SAMPLEMIX_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/samplemix/data")
        });
    let mut out = Vec::new();
    for part in ["part1.jsonl", "part2.jsonl"] {
        let path = data.join("demo").join(part);
        let Ok(f) = std::fs::File::open(&path) else {
            eprintln!(
                "bench signals: {} missing: run python3 tools/build-corpus.py",
                path.display()
            );
            std::process::exit(1);
        };
        for line in std::io::BufReader::new(f).lines() {
            let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
            let label = v["metadata"]["synthetic_noise"]
                .as_str()
                .or(v["source"].as_str())
                .unwrap_or("?")
                .to_string();
            out.push((label, v["text"].as_str().unwrap_or_default().to_string()));
        }
    }
    out
}

fn lm_rate(texts: &[&str]) -> Option<(f64, String)> {
    let model = score::default_model_path();
    if !model.exists() {
        println!(
            "lm: model {} missing (tools/fetch-model.sh)",
            model.display()
        );
        return None;
    }
    let settings = LlamaSettings {
        threads: 1,
        ..LlamaSettings::default()
    };
    let mut scorer = LlamaScorer::load(&model, settings.clone()).ok()?;
    let started = Instant::now();
    let cpu0 = process_cpu();
    let r = scorer.score_batch(texts).ok()?;
    let wall = started.elapsed().as_secs_f64();
    // CPU time of the process (llama.cpp's own threads included), else wall time.
    let secs = match (cpu0, process_cpu()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    let tokens: u64 = r.iter().map(|s| u64::from(s.n_tokens().min(256))).sum();
    Some((
        texts.len() as f64 / secs,
        format!(
            "{} samples, {tokens} tokens, {secs:.1} CPU s ({wall:.1} s wall), max_tokens {}",
            texts.len(),
            settings.max_tokens
        ),
    ))
}

fn main() {
    let corpus = corpus();
    let texts: Vec<&str> = corpus.iter().map(|(_, t)| t.as_str()).collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    let computer = RepetitionComputer::new();
    let mut times = Vec::new();
    let mut walls = Vec::new();
    let mut scores = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let cpu0 = thread_cpu();
        scores = texts.iter().map(|t| computer.compute(t).raw).collect();
        let wall = started.elapsed().as_secs_f64();
        walls.push(wall);
        times.push(match (cpu0, thread_cpu()) {
            (Some(a), Some(b)) if b > a => b - a,
            _ => wall,
        });
    }
    times.sort_by(f64::total_cmp);
    walls.sort_by(f64::total_cmp);
    let secs = times[RUNS / 2];
    let rep_rate = texts.len() as f64 / secs;
    println!(
        "repetition: {} samples ({:.1} MB) in {:.3} CPU s ({:.3} s wall) on 1 thread: {:.0} \
         samples/s per core, {:.1} MB/s",
        texts.len(),
        bytes as f64 / 1e6,
        secs,
        walls[RUNS / 2],
        rep_rate,
        bytes as f64 / 1e6 / secs
    );
    match lm_rate(&texts[..LM_SAMPLES.min(texts.len())]) {
        Some((lm, what)) => println!(
            "lm:         {lm:.2} samples/s per core ({what})\nratio:      repetition is {:.0}x \
             the samples/s of lm",
            rep_rate / lm
        ),
        None => println!("lm:         not measured"),
    }

    // Labelled junk by its rank among the corpus's repetition scores (higher is better).
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| {
        scores[a]
            .unwrap_or(0.0)
            .total_cmp(&scores[b].unwrap_or(0.0))
    });
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (rank, &i) in order.iter().enumerate() {
        let e = by.entry(corpus[i].0.as_str()).or_default();
        e.0 += 1;
        if (rank as f64) < 0.2 * order.len() as f64 {
            e.1 += 1;
        }
    }
    println!("share of each label in the bottom fifth of repetition:");
    for (label, (n, low)) in by {
        println!("  {label:12} {n:5} samples  {:.3}", low as f64 / n as f64);
    }
}
