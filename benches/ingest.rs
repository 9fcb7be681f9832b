//! Ingest throughput and query latency.
//!
//! 1. `samplemix append` (library path: parse, dedup, RocksDB batch, tantivy) on the demo
//!    corpus, against the same documents indexed by tantivy alone with the same schema, writer
//!    threads and memory, from the same JSONL (parsed in parallel the same way): the ratio is
//!    what the store, dedup and consistency cost on top of indexing.
//! 2. Query latency (p50, p95) of a term query with a quality filter, through `Pool::query`
//!    (index search, store reads, snippets), on a pool of >= 100k samples cut from the corpus.
//!    Mean-NLL values are synthetic (uniform in [2, 6) from a hash of the seq), written into the
//!    index; the filter is quality >= 0.5, i.e. mean NLL <= the median, 4.0.
//!
//! Needs the demo corpus: `python3 tools/build-corpus.py` (or SAMPLEMIX_BENCH_INPUT=FILE.jsonl).
//! Run: `tools/bench.sh ingest` (or `cargo bench --bench ingest`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use samplemix::index::{self, IndexEntry, IndexScores, PoolIndex, QuerySpec};
use samplemix::ingest::Input;
use samplemix::pool::Pool;
use samplemix::stages::append::{self, AppendOptions};
use samplemix::store::Store;
use tantivy::{doc, Index};

const RUNS: usize = 3;

fn input_files() -> Vec<PathBuf> {
    if let Ok(p) = std::env::var("SAMPLEMIX_BENCH_INPUT") {
        return vec![PathBuf::from(p)];
    }
    let data = std::env::var("SAMPLEMIX_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/samplemix/data")
        });
    let files: Vec<PathBuf> = ["part1.jsonl", "part2.jsonl"]
        .iter()
        .map(|f| data.join("demo").join(f))
        .collect();
    if files.iter().any(|f| !f.exists()) {
        eprintln!(
            "bench ingest: demo corpus missing under {}: run python3 tools/build-corpus.py",
            data.display()
        );
        std::process::exit(1);
    }
    files
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn samplemix_append(files: &[PathBuf]) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let started = Instant::now();
    let mut pool = Pool::open_writer(&store).unwrap();
    let inputs: Vec<Input> = files.iter().map(|f| Input::File(f.clone())).collect();
    let report = append::append(&mut pool, &inputs, &AppendOptions::default(), &()).unwrap();
    pool.close().unwrap();
    (started.elapsed().as_secs_f64(), report.added)
}

fn tantivy_alone(files: &[PathBuf]) -> (f64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (schema, f) = index::build_schema();
    let index = Index::create_in_dir(dir.path(), schema).unwrap();
    let mut writer = index.writer_with_num_threads(2, 128 << 20).unwrap();
    let mut seq = 0u64;
    for file in files {
        let mut lines =
            BufReader::with_capacity(1 << 20, std::fs::File::open(file).unwrap()).lines();
        loop {
            let chunk: Vec<String> = lines.by_ref().take(4096).map(|l| l.unwrap()).collect();
            if chunk.is_empty() {
                break;
            }
            let docs: Vec<(String, String)> = chunk
                .par_iter()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    (
                        v["text"].as_str().unwrap().to_string(),
                        v["source"].as_str().unwrap_or("x").to_string(),
                    )
                })
                .collect();
            for (text, source) in docs {
                let tokens = text.len().div_ceil(4) as u64;
                writer
                    .add_document(
                        doc!(f.seq => seq, f.text => text, f.source => source, f.tokens => tokens),
                    )
                    .unwrap();
                seq += 1;
            }
        }
    }
    writer.commit().unwrap();
    writer.wait_merging_threads().unwrap();
    (started.elapsed().as_secs_f64(), seq)
}

/// Cuts the corpus into windows of 30 words (stride 12) to make a pool of >= 100k samples.
fn windows_file(files: &[PathBuf], out: &Path) -> usize {
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let mut n = 0;
    for file in files {
        for l in BufReader::new(std::fs::File::open(file).unwrap()).lines() {
            let v: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
            let words: Vec<&str> = v["text"].as_str().unwrap().split_whitespace().collect();
            let source = v["source"].as_str().unwrap_or("x");
            let mut start = 0;
            while start < words.len() {
                let end = (start + 30).min(words.len());
                if end - start >= 12 {
                    let text = words[start..end].join(" ");
                    writeln!(w, "{}", serde_json::json!({"text": text, "source": source})).unwrap();
                    n += 1;
                }
                start += 12;
            }
        }
    }
    n
}

fn query_latency(files: &[PathBuf]) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("windows.jsonl");
    let n = windows_file(files, &input);
    let store = dir.path().join("store");
    let mut pool = Pool::open_writer(&store).unwrap();
    let report = append::append(
        &mut pool,
        &[Input::File(input)],
        &AppendOptions::default(),
        &(),
    )
    .unwrap();
    pool.close().unwrap();
    // Synthetic quality in the index.
    {
        let reader = Store::open_reader(&store).unwrap();
        let mut ix = PoolIndex::open_writer(&store).unwrap();
        let next = ix.watermark();
        for item in reader.docs_from(0) {
            let (seq, d) = item.unwrap();
            let u =
                (xxhash_rust::xxh3::xxh3_64(&seq.to_le_bytes()) >> 11) as f64 / (1u64 << 53) as f64;
            ix.replace(&IndexEntry {
                seq,
                text: &d.text,
                source: &d.source,
                tokens: u64::from(d.tokens_estimate),
                scores: IndexScores {
                    mean_nll: Some(2.0 + 4.0 * u),
                    ..Default::default()
                },
            })
            .unwrap();
        }
        ix.commit(next).unwrap();
        ix.close().unwrap();
    }
    let pool = Pool::open_reader(&store).unwrap();
    let terms = [
        "function", "history", "water", "return", "system", "music", "language", "error", "city",
        "the",
    ];
    let mut lat = Vec::new();
    let mut totals = Vec::new();
    for round in 0..20 {
        for t in terms {
            let spec = QuerySpec {
                text: Some(t.to_string()),
                min_quality: Some(0.5),
                mean_nll_bounds: Some((None, Some(4.0))),
                limit: 10,
                ..Default::default()
            };
            let s = Instant::now();
            let r = pool.query(&spec, false).unwrap();
            let ms = s.elapsed().as_secs_f64() * 1e3;
            if round > 0 {
                lat.push(ms);
            } else {
                totals.push((t, r.total));
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize];
    println!("\nquery latency: pool of {} samples ({n} windows of the corpus), term query + quality >= 0.5, limit 10, with snippets", report.added);
    println!("  matches per term: {totals:?}");
    println!(
        "  p50 {:.2} ms   p95 {:.2} ms   max {:.2} ms   ({} queries)",
        p(0.5),
        p(0.95),
        p(1.0),
        lat.len()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("ingest: bench");
        return;
    }
    let files = input_files();
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    println!(
        "input: {} files, {:.1} MB of JSONL",
        files.len(),
        bytes as f64 / 1e6
    );
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut docs = 0;
    for _ in 0..RUNS {
        let (t, n) = samplemix_append(&files);
        a.push(t);
        docs = n;
        let (t, _) = tantivy_alone(&files);
        b.push(t);
    }
    let (ta, tb) = (median(a), median(b));
    let mb = bytes as f64 / 1e6;
    println!(
        "\n{:<34} {:>8} {:>9} {:>10}",
        "ingest (median of 3)", "s", "MB/s", "docs/s"
    );
    println!(
        "{:<34} {:>8.2} {:>9.2} {:>10.0}",
        "samplemix append",
        ta,
        mb / ta,
        docs as f64 / ta
    );
    println!(
        "{:<34} {:>8.2} {:>9.2} {:>10.0}",
        "tantivy alone, same schema",
        tb,
        mb / tb,
        docs as f64 / tb
    );
    println!("ratio samplemix / tantivy-alone throughput: {:.2}", tb / ta);
    query_latency(&files);
}
