//! Quality-scoring benchmark: how close `LlamaScorer::score_batch` runs to llama.cpp's own speed,
//! and how the quality ranking converges with `max_tokens`.
//!
//! ```text
//! cargo bench --bench score                  # throughput at max_tokens 128, 256, 512
//! cargo bench --bench score -- convergence   # rank agreement of max_tokens 64..1024 with 1024
//! cargo bench --bench score -- layouts       # cost and batch-dependence of attention layouts
//! cargo bench --bench score -- embeddings    # score_batch against score_and_embed, paired
//! ```
//!
//! Texts: `$SAMPLEMIX_BENCH_CORPUS` (JSONL with a "text" field, optionally "source"), else the demo
//! corpus `${SAMPLEMIX_DATA_DIR:-~/.cache/samplemix/data}/demo/part1.jsonl` (tools/build-corpus.py),
//! else documents cut from files every Debian system has (Python sources, licences, package docs).
//! Samples are taken round-robin across sources, in file order. `SAMPLEMIX_BENCH_SAMPLES` sets
//! how many; `SAMPLEMIX_BENCH_THREADS` the llama.cpp threads (default 2).
//!
//! Throughput pairs, group by group, the end-to-end `score_batch` with a raw decode of exactly the
//! same llama.cpp batches (logits at every position, no tokenization, no NLL): the limit. Pairing
//! cancels out slow drifts in machine load. If llama.cpp's own `llama-perplexity` has been built
//! (tools/build-llama-reference.sh), it runs on the same texts for an outside reference.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use samplemix::stages::score::{
    default_model_path, AttentionLayout, LlamaScorer, LlamaSettings, QualityScorer, SampleScore,
};

/// Texts per `score_batch` call in the throughput runs.
const GROUP: usize = 32;

struct Corpus {
    description: String,
    texts: Vec<String>,
}

fn main() {
    let mode = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "throughput".into());
    let threads: usize = env_number("SAMPLEMIX_BENCH_THREADS").unwrap_or(2);
    let model = default_model_path();
    if !model.is_file() {
        eprintln!(
            "the default model is missing at {}: run tools/fetch-model.sh",
            model.display()
        );
        std::process::exit(1);
    }
    match mode.as_str() {
        "throughput" => throughput(&model, threads),
        "convergence" => convergence(&model, threads),
        "layouts" => layouts(&model, threads),
        "embeddings" => embeddings(&model, threads),
        other => {
            eprintln!("unknown mode {other}; use throughput, convergence, layouts or embeddings");
            std::process::exit(2);
        }
    }
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn settings(max_tokens: usize, threads: usize) -> LlamaSettings {
    LlamaSettings {
        max_tokens,
        threads,
        ..LlamaSettings::default()
    }
}

fn load(model: &Path, settings: LlamaSettings, layout: AttentionLayout) -> LlamaScorer {
    LlamaScorer::load_with_layout(model, settings, layout).unwrap_or_else(|e| panic!("{e}"))
}

fn refs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

fn scored_tokens(results: &[SampleScore]) -> u64 {
    results
        .iter()
        .filter_map(SampleScore::scored)
        .map(|s| u64::from(s.n_scored))
        .sum()
}

fn throughput(model: &Path, threads: usize) {
    let corpus = load_corpus(env_number("SAMPLEMIX_BENCH_SAMPLES").unwrap_or(160));
    println!("texts: {}", corpus.description);
    println!(
        "threads: {threads}, batch_tokens: {}, {GROUP} texts per score_batch call",
        LlamaSettings::DEFAULT_BATCH_TOKENS
    );
    println!();
    println!("| max_tokens | samples | tokens scored | raw decode tok/s | score_batch tok/s | samples/s | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let mut reference_runs = Vec::new();
    for max_tokens in [128, 256, 512] {
        let mut scorer = load(model, settings(max_tokens, threads), AttentionLayout::EXACT);
        // Warm-up on a whole group, so that llama.cpp's buffers reach full size before timing.
        let first = refs(&corpus.texts[..GROUP.min(corpus.texts.len())]);
        scorer
            .decode_only(&scorer.prepare(&first))
            .expect("warm-up");
        scorer.score_batch(&first).expect("warm-up");
        let (mut raw, mut full) = (Duration::ZERO, Duration::ZERO);
        let mut tokens = 0u64;
        for (i, group) in corpus.texts.chunks(GROUP).enumerate() {
            let texts = refs(group);
            let prepared = scorer.prepare(&texts);
            // Alternate which of the pair runs first.
            for step in [i % 2, 1 - i % 2] {
                let started = Instant::now();
                if step == 0 {
                    scorer.decode_only(&prepared).expect("decode");
                    raw += started.elapsed();
                } else {
                    let results = scorer.score_batch(&texts).expect("score");
                    full += started.elapsed();
                    tokens += scored_tokens(&results);
                }
            }
        }
        let raw_tps = tokens as f64 / raw.as_secs_f64();
        let full_tps = tokens as f64 / full.as_secs_f64();
        println!(
            "| {max_tokens} | {} | {tokens} | {raw_tps:.1} | {full_tps:.1} | {:.2} | {:.3} |",
            corpus.texts.len(),
            corpus.texts.len() as f64 / full.as_secs_f64(),
            full_tps / raw_tps
        );
        reference_runs.push((max_tokens, tokens));
    }
    llama_perplexity_reference(model, threads, &corpus, &reference_runs);
}

/// The cost of the model embeddings: a scorer without them (`score_batch`) and one with them
/// (`score_and_embed`, the call the score pass makes), group by group on the same texts,
/// alternating which runs first; at `$SAMPLEMIX_BENCH_MAX_TOKENS` (default 256).
fn embeddings(model: &Path, threads: usize) {
    let corpus = load_corpus(env_number("SAMPLEMIX_BENCH_SAMPLES").unwrap_or(192));
    let max_tokens = env_number("SAMPLEMIX_BENCH_MAX_TOKENS").unwrap_or(256);
    println!("texts: {}", corpus.description);
    println!("threads: {threads}, max_tokens: {max_tokens}, {GROUP} texts per call");
    let mut plain = load(
        model,
        LlamaSettings {
            embeddings: false,
            ..settings(max_tokens, threads)
        },
        AttentionLayout::EXACT,
    );
    let mut both = load(model, settings(max_tokens, threads), AttentionLayout::EXACT);
    let dim = both.embedding_dim().expect("embeddings on");
    let first = refs(&corpus.texts[..GROUP.min(corpus.texts.len())]);
    plain.score_batch(&first).expect("warm-up");
    both.score_and_embed(&first).expect("warm-up");
    let (mut t_plain, mut t_both) = (Duration::ZERO, Duration::ZERO);
    let (mut tokens, mut embedded) = (0u64, 0usize);
    for (i, group) in corpus.texts.chunks(GROUP).enumerate() {
        let texts = refs(group);
        for step in [i % 2, 1 - i % 2] {
            let started = Instant::now();
            if step == 0 {
                let results = plain.score_batch(&texts).expect("score");
                t_plain += started.elapsed();
                tokens += scored_tokens(&results);
            } else {
                let results = both.score_and_embed(&texts).expect("score");
                t_both += started.elapsed();
                embedded += results.iter().filter(|(_, e)| e.is_some()).count();
            }
        }
    }
    let n = corpus.texts.len() as f64;
    println!();
    println!("| call | samples | tokens scored | seconds | samples/s | tok/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, t) in [("score_batch", t_plain), ("score_and_embed", t_both)] {
        println!(
            "| {name} | {} | {tokens} | {:.1} | {:.2} | {:.1} |",
            corpus.texts.len(),
            t.as_secs_f64(),
            n / t.as_secs_f64(),
            tokens as f64 / t.as_secs_f64()
        );
    }
    println!(
        "\nembeddings: {embedded} of {} samples, {dim} values, {} bytes of binary16 each; \
         time ratio with/without {:.3}",
        corpus.texts.len(),
        2 * dim,
        t_both.as_secs_f64() / t_plain.as_secs_f64()
    );
}

/// Runs llama.cpp's `llama-perplexity`, if built, on the same texts: chunks of `max_tokens`,
/// batches of the default batch size, flash attention off, the same threads.
fn llama_perplexity_reference(
    model: &Path,
    threads: usize,
    corpus: &Corpus,
    runs: &[(usize, u64)],
) {
    let bin = std::env::var_os("SAMPLEMIX_LLAMA_REF").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/samplemix/llama.cpp-ref")
        },
        PathBuf::from,
    );
    let bin = bin.join("bin/llama-perplexity");
    if !bin.is_file() {
        println!("\n(llama-perplexity not built: run tools/build-llama-reference.sh for a reference row)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let text_file = dir.path().join("corpus.txt");
    std::fs::write(&text_file, corpus.texts.join("\n\n")).expect("write corpus");
    println!();
    println!("llama-perplexity (llama.cpp's own tool) on the same texts joined, -t {threads} -fa off -b {}:", LlamaSettings::DEFAULT_BATCH_TOKENS);
    println!();
    println!("| chunk (-c) | chunks | tokens evaluated | tok/s (evaluation + its log-softmax) |");
    println!("|---:|---:|---:|---:|");
    for &(max_tokens, tokens) in runs {
        let chunks = (tokens as usize).div_ceil(max_tokens).max(2);
        let output = Command::new(&bin)
            .arg("-m")
            .arg(model)
            .arg("-f")
            .arg(&text_file)
            .args(["-c", &max_tokens.to_string()])
            .args(["-b", &LlamaSettings::DEFAULT_BATCH_TOKENS.to_string()])
            .args(["-t", &threads.to_string(), "-fa", "off"])
            .args(["--chunks", &chunks.to_string()])
            .output()
            .expect("run llama-perplexity");
        let log = String::from_utf8_lossy(&output.stderr);
        match compute_seconds(&log) {
            Some(seconds) => {
                let evaluated = chunks * max_tokens;
                println!(
                    "| {max_tokens} | {chunks} | {evaluated} | {:.1} |",
                    evaluated as f64 / seconds
                );
            }
            None => println!(
                "| {max_tokens} | {chunks} | ? | (no timing in its log; {}) |",
                output.status
            ),
        }
    }
}

/// Seconds from llama-perplexity's "calculating perplexity" log line to its "Final estimate"
/// line: evaluation and its own log-softmax, without loading and tokenizing. Log lines start
/// with a minutes.seconds.milliseconds.microseconds timestamp.
fn compute_seconds(log: &str) -> Option<f64> {
    let stamp = |needle: &str| -> Option<f64> {
        let before = &log[..log.find(needle)?];
        before.split_whitespace().rev().find_map(|word| {
            let parts: Vec<f64> = word
                .split('.')
                .map(|p| p.parse().ok())
                .collect::<Option<_>>()?;
            match parts[..] {
                [m, s, ms, us] => Some(m * 60.0 + s + ms / 1e3 + us / 1e6),
                _ => None,
            }
        })
    };
    let start = stamp("calculating perplexity over")?;
    let end = stamp("Final estimate")?;
    Some(end - start)
}

/// Scores every text once at max_tokens 1024, keeping every position's NLL. A causal model's
/// prediction at a position depends only on the tokens before it, so the mean NLL at a smaller
/// `max_tokens` is the mean of the first `max_tokens` of these (checked against `score_batch`
/// on a subset, which also gives the throughput at each setting).
fn convergence(model: &Path, threads: usize) {
    const SETTINGS: [usize; 5] = [64, 128, 256, 512, 1024];
    let corpus = load_corpus(env_number("SAMPLEMIX_BENCH_SAMPLES").unwrap_or(400));
    let texts = refs(&corpus.texts);
    println!("texts: {}", corpus.description);
    // One more token than 1024 fits the BOS prefix plus 1024 tokens, i.e. 1024 predictions.
    let mut scorer = load(model, settings(1025, threads), AttentionLayout::EXACT);
    let started = Instant::now();
    let mut per_position: Vec<Option<Vec<f64>>> = Vec::new();
    let mut lengths = Vec::new();
    for text in &texts {
        let tokens = scorer.tokenize(text);
        lengths.push(tokens.len());
        if tokens.len() < 2 {
            per_position.push(None);
            continue;
        }
        let mut input = vec![scorer.prefix_token()];
        input.extend_from_slice(&tokens[..tokens.len().min(1024)]);
        per_position.push(Some(scorer.token_nlls(&input).expect("score")));
    }
    eprintln!(
        "per-position pass: {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let mean_at = |nlls: &[f64], k: usize| {
        let k = k.min(nlls.len());
        nlls[..k].iter().sum::<f64>() / k as f64
    };
    let mut sorted = lengths.clone();
    sorted.sort_unstable();
    let scored: Vec<usize> = (0..texts.len())
        .filter(|&i| per_position[i].is_some())
        .collect();
    println!(
        "{} samples, {} scored; tokens per sample: median {}, 90th percentile {}; {} longer than 1024",
        texts.len(),
        scored.len(),
        sorted[sorted.len() / 2],
        sorted[sorted.len() * 9 / 10],
        lengths.iter().filter(|&&n| n > 1024).count()
    );

    // Throughput, and a check of the prefix means, with score_batch on a subset.
    let subset: Vec<&str> = texts.iter().copied().take(48).collect();
    let mut measured = Vec::new();
    let mut worst_check = 0.0f64;
    for &max_tokens in &SETTINGS {
        let mut scorer = load(model, settings(max_tokens, threads), AttentionLayout::EXACT);
        scorer.score_batch(&subset[..4]).expect("warm-up");
        let started = Instant::now();
        let results = scorer.score_batch(&subset).expect("score");
        let elapsed = started.elapsed().as_secs_f64();
        for (i, r) in results.iter().enumerate() {
            if let (Some(r), Some(nlls)) = (r.scored(), &per_position[i]) {
                worst_check = worst_check.max((r.mean_nll() - mean_at(nlls, max_tokens)).abs());
            }
        }
        let tokens = scored_tokens(&results);
        measured.push((tokens as f64 / elapsed, subset.len() as f64 / elapsed));
    }
    println!(
        "prefix means vs score_batch at each max_tokens on the first {} texts: largest difference {worst_check:.6} nats",
        subset.len()
    );
    println!();
    println!("| max_tokens | Spearman vs 1024, all scored | Spearman vs 1024, samples longer than max_tokens | tokens scored (share of 1024's) | score_batch tok/s | samples/s |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let reference: Vec<f64> = scored
        .iter()
        .map(|&i| mean_at(per_position[i].as_deref().unwrap_or_default(), 1024))
        .collect();
    let total_1024: usize = scored.iter().map(|&i| lengths[i].min(1024)).sum();
    for (&max_tokens, (tps, sps)) in SETTINGS.iter().zip(measured) {
        let here: Vec<f64> = scored
            .iter()
            .map(|&i| mean_at(per_position[i].as_deref().unwrap_or_default(), max_tokens))
            .collect();
        let (long_here, long_ref): (Vec<f64>, Vec<f64>) = scored
            .iter()
            .enumerate()
            .filter(|&(_, &i)| lengths[i] > max_tokens)
            .map(|(j, _)| (here[j], reference[j]))
            .unzip();
        let tokens: usize = scored.iter().map(|&i| lengths[i].min(max_tokens)).sum();
        println!(
            "| {max_tokens} | {:.4} | {:.4} (n={}) | {tokens} ({:.0}%) | {tps:.1} | {sps:.2} |",
            spearman(&here, &reference),
            spearman(&long_here, &long_ref),
            long_here.len(),
            100.0 * tokens as f64 / total_1024 as f64
        );
    }
}

fn layouts(model: &Path, threads: usize) {
    let corpus = load_corpus(env_number("SAMPLEMIX_BENCH_SAMPLES").unwrap_or(96));
    let texts = refs(&corpus.texts);
    let alone_n = 24.min(texts.len());
    println!("texts: {}", corpus.description);
    println!("max_tokens 256, {threads} threads; batched = all texts in {GROUP}-text calls; alone = first {alone_n} texts one per call");
    println!();
    println!(
        "| flash attention | KV cache | tok/s (batched) | largest |batched - alone| mean NLL |"
    );
    println!("|---|---|---:|---:|");
    for (flash_attention, unified_kv) in
        [(false, false), (false, true), (true, false), (true, true)]
    {
        let layout = AttentionLayout {
            flash_attention,
            unified_kv,
        };
        let mut scorer = load(model, settings(256, threads), layout);
        scorer.score_batch(&texts[..4]).expect("warm-up");
        let started = Instant::now();
        let mut batched = Vec::new();
        for group in texts.chunks(GROUP) {
            batched.extend(scorer.score_batch(group).expect("score"));
        }
        let elapsed = started.elapsed();
        let mut worst = 0.0f64;
        for (text, b) in texts.iter().zip(&batched).take(alone_n) {
            let alone = scorer.score_batch(&[text]).expect("score")[0];
            if let (Some(a), Some(b)) = (alone.scored(), b.scored()) {
                worst = worst.max((a.mean_nll() - b.mean_nll()).abs());
            }
        }
        println!(
            "| {} | {} | {:.1} | {worst:.5} |",
            if flash_attention { "on" } else { "off" },
            if unified_kv {
                "unified"
            } else {
                "per-sequence"
            },
            scored_tokens(&batched) as f64 / elapsed.as_secs_f64()
        );
    }
}

/// Spearman rank correlation (average ranks for ties).
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[i].total_cmp(&values[j]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && values[order[end + 1]] == values[order[start]] {
            end += 1;
        }
        let mid = (start + end) as f64 / 2.0 + 1.0;
        for &i in &order[start..=end] {
            ranks[i] = mid;
        }
        start = end + 1;
    }
    ranks
}

// ------------------------------------------------------------------------------------------
// Texts

fn load_corpus(n: usize) -> Corpus {
    let data_dir = std::env::var_os("SAMPLEMIX_DATA_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/samplemix/data")
        },
        PathBuf::from,
    );
    let jsonl = std::env::var_os("SAMPLEMIX_BENCH_CORPUS")
        .map(PathBuf::from)
        .or_else(|| Some(data_dir.join("demo/part1.jsonl")).filter(|p| p.is_file()));
    let (origin, by_source) = match jsonl {
        Some(path) => (path.display().to_string(), read_jsonl(&path)),
        None => (
            "files of this Debian system (Python sources, licences, package docs)".to_string(),
            system_texts(),
        ),
    };
    let texts = round_robin(&by_source, n);
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for t in &texts {
        hasher.update(t.as_bytes());
        hasher.update(&[0]);
    }
    let counts: BTreeMap<&str, usize> = by_source
        .iter()
        .map(|(s, v)| (s.as_str(), v.len().min(texts.len())))
        .collect();
    Corpus {
        description: format!(
            "{} samples, {:.2} MB, from {origin}, round-robin over {} sources {:?}; xxh3 {:016x}",
            texts.len(),
            bytes as f64 / 1e6,
            by_source.len(),
            counts.keys().collect::<Vec<_>>(),
            hasher.digest()
        ),
        texts,
    }
}

/// Takes texts in turn from each source, in file order, until `n`.
fn round_robin(by_source: &BTreeMap<String, Vec<String>>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    while out.len() < n {
        let mut any = false;
        for texts in by_source.values() {
            if let Some(t) = texts.get(depth) {
                any = true;
                if out.len() < n {
                    out.push(t.clone());
                }
            }
        }
        if !any {
            break;
        }
        depth += 1;
    }
    out
}

fn read_jsonl(path: &Path) -> BTreeMap<String, Vec<String>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut by_source: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line.expect("read corpus line");
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let Some(text) = value.get("text").and_then(|t| t.as_str()) else {
            continue;
        };
        let source = value
            .get("source")
            .and_then(|s| s.as_str())
            .unwrap_or("all")
            .to_string();
        by_source.entry(source).or_default().push(text.to_string());
    }
    by_source
}

/// Documents cut from files present on every Debian system with Python 3: each file is split at
/// blank lines into pieces of at most about 4,000 bytes.
fn system_texts() -> BTreeMap<String, Vec<String>> {
    let mut by_source: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |source: &str, paths: Vec<PathBuf>| {
        for path in paths {
            if let Some(text) = read_maybe_gz(&path) {
                by_source
                    .entry(source.to_string())
                    .or_default()
                    .extend(split_documents(&text, 4000));
            }
        }
    };
    add(
        "python",
        files_in(
            Path::new("/usr/lib/python3.11"),
            &|n| n.ends_with(".py"),
            false,
        ),
    );
    add(
        "licence",
        files_in(Path::new("/usr/share/common-licenses"), &|_| true, false),
    );
    add(
        "docs",
        files_in(
            Path::new("/usr/share/doc"),
            &|n| {
                n.starts_with("README")
                    || n.starts_with("NEWS")
                    || n.starts_with("FAQ")
                    || n.ends_with(".md")
                    || n.ends_with(".md.gz")
            },
            true,
        ),
    );
    by_source
}

fn files_in(dir: &Path, keep: &dyn Fn(&str) -> bool, recurse: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recurse {
                out.extend(files_in(&path, keep, true));
            }
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(keep) {
            out.push(path);
        }
    }
    out
}

fn read_maybe_gz(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .ok()?;
        out
    } else {
        bytes
    };
    String::from_utf8(bytes).ok()
}

fn split_documents(text: &str, max_bytes: usize) -> Vec<String> {
    let mut docs = Vec::new();
    let mut current = String::new();
    for para in text.split("\n\n") {
        if !current.is_empty() && current.len() + para.len() > max_bytes {
            docs.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(para);
    }
    if !current.trim().is_empty() {
        docs.push(current);
    }
    docs.retain(|d| !d.trim().is_empty());
    docs
}
