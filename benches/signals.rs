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
//! Needs the demo corpus: `python3 tools/build-corpus.py`; the model: `tools/fetch-model.sh`
//! (without it, the lm row says so and the rest runs). Run: `cargo bench --bench signals`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::time::Instant;

use samplemix::stages::quality::{RepetitionComputer, SignalComputer};
use samplemix::stages::score::{self, LlamaScorer, LlamaSettings, QualityScorer};

const RUNS: usize = 3;
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
    let r = scorer.score_batch(texts).ok()?;
    let secs = started.elapsed().as_secs_f64();
    let tokens: u64 = r.iter().map(|s| u64::from(s.n_tokens().min(256))).sum();
    Some((
        texts.len() as f64 / secs,
        format!(
            "{} samples, {tokens} tokens, {secs:.1} s, max_tokens {}",
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
    let mut scores = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        scores = texts.iter().map(|t| computer.compute(t).raw).collect();
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let secs = times[RUNS / 2];
    let rep_rate = texts.len() as f64 / secs;
    println!(
        "repetition: {} samples ({:.1} MB) in {:.3} s on 1 thread: {:.0} samples/s per core, \
         {:.1} MB/s",
        texts.len(),
        bytes as f64 / 1e6,
        secs,
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
