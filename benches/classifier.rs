//! The `classifier` quality signal: apply and training speed, model memory, the LM scorer's speed
//! beside it, distillation from the LM, where labelled junk ranks, and the hashed vocabulary.
//!
//! ```text
//! cargo bench --bench classifier                 # apply, train 100k, memory, LM side by side
//! cargo bench --bench classifier -- distill      # distil the LM's mean NLL: held-out Spearman
//! cargo bench --bench classifier -- junk         # ranks of the labelled junk and of each source
//! cargo bench --bench classifier -- vocabulary   # distinct 1- and 2-grams, bucket sharing
//! ```
//!
//! Texts: the demo corpus's pool, `${SAMPLEMIX_DATA_DIR:-~/.cache/samplemix/data}/demo/`
//! `part1.jsonl` and `part2.jsonl` (tools/build-corpus.py), else `tests/fixtures/demo-mini.jsonl`.
//! The reference set is `$SAMPLEMIX_BENCH_REFERENCE` (JSONL) when given, else a stand-in: the
//! pool's samples of books, wiki, faq and docs whose id hashes even (they stay in the pool too,
//! as a reference drawn from the same sources would overlap a real pool).
//!
//! - `throughput`: apply on one thread over the whole pool (repeated for at least 3 s), then on
//!   every core; training on 100,000 examples (the pool, copies of it with 5% of the words
//!   shuffled, and hard negatives) with the default settings; the model's memory; then the LM
//!   scorer at its default settings on `SAMPLEMIX_BENCH_LM_SAMPLES` (default 32; 0 skips it)
//!   samples taken round-robin over sources, and the ratio. Speeds are given per CPU second of
//!   the thread (Linux `/proc`), since a shared machine's wall time says little per core.
//! - `distill`: scores `SAMPLEMIX_BENCH_DISTILL_SAMPLES` (default 1000) pool samples with the LM
//!   at its default settings (the first ones in xxh3 order of their ids: a uniform sample),
//!   caching mean NLLs in `$CARGO_TARGET_DIR/classifier-bench-lm-<fingerprint>.tsv` so a rerun
//!   scores only what is missing; distils `-mean NLL` with 20% held out by text hash and prints
//!   the held-out Spearman correlation.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use samplemix::algo::classifier::{
    distill, hard_negative, hard_negatives, shuffle_words, train_reference, ClassifierModel,
    FeatureConfig, Featurizer, HardNegativeKind, TrainConfig, DEFAULT_FOLDS,
    DEFAULT_HARD_NEGATIVE_SHARE, DEFAULT_HELD_OUT_SHARE,
};
use samplemix::algo::rank::{mid_ranks, spearman};
use samplemix::stages::score::{default_model_path, LlamaScorer, LlamaSettings, QualityScorer};
use xxhash_rust::xxh3::xxh3_64;

/// Sources the stand-in reference set is drawn from.
const REFERENCE_SOURCES: [&str; 4] = ["books", "wiki", "faq", "docs"];

struct Sample {
    id: String,
    text: String,
    source: String,
    noise: Option<String>,
}

fn main() {
    let mode = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "throughput".into());
    let (origin, pool) = load_pool();
    println!("pool: {} samples from {origin}", pool.len());
    match mode.as_str() {
        "throughput" => throughput(&pool),
        "distill" => distill_lm(&pool),
        "junk" => junk(&pool),
        "vocabulary" => vocabulary(&pool),
        other => {
            eprintln!("unknown mode {other}; use throughput, distill, junk or vocabulary");
            std::process::exit(2);
        }
    }
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// CPU time of the calling thread (Linux: `/proc/thread-self/schedstat`, nanoseconds).
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let ns: f64 = stat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("ns");
    ns / 1e9
}

/// CPU time of the whole process, all threads (Linux: `/proc/self/stat`, in clock ticks of
/// 1/100 s).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("stat");
    let after = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

fn env_float(name: &str) -> Option<f64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn read_jsonl(path: &Path) -> Vec<Sample> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let v: serde_json::Value = serde_json::from_str(&line).ok()?;
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            Some(Sample {
                id: s("id"),
                text: v["text"].as_str()?.to_owned(),
                source: s("source"),
                noise: v["metadata"]["synthetic_noise"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

fn load_pool() -> (String, Vec<Sample>) {
    let data = std::env::var_os("SAMPLEMIX_DATA_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/samplemix/data")
        },
        PathBuf::from,
    );
    let parts = [data.join("demo/part1.jsonl"), data.join("demo/part2.jsonl")];
    if parts.iter().all(|p| p.is_file()) {
        let pool = parts.iter().flat_map(|p| read_jsonl(p)).collect();
        return (format!("{}/demo/part{{1,2}}.jsonl", data.display()), pool);
    }
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-mini.jsonl");
    (fixture.display().to_string(), read_jsonl(&fixture))
}

/// The reference set: `$SAMPLEMIX_BENCH_REFERENCE`, else the stand-in of the module doc.
fn reference(pool: &[Sample]) -> (String, Vec<String>) {
    if let Some(path) = std::env::var_os("SAMPLEMIX_BENCH_REFERENCE") {
        let path = PathBuf::from(path);
        let texts = read_jsonl(&path).into_iter().map(|s| s.text).collect();
        return (path.display().to_string(), texts);
    }
    let sources = std::env::var("SAMPLEMIX_BENCH_REFERENCE_SOURCES")
        .unwrap_or_else(|_| REFERENCE_SOURCES.join(","));
    let sources: Vec<&str> = sources.split(',').collect();
    let texts = pool
        .iter()
        .filter(|s| sources.contains(&s.source.as_str()))
        .filter(|s| xxh3_64(s.id.as_bytes()).is_multiple_of(2))
        .map(|s| s.text.clone())
        .collect();
    (
        format!("stand-in: pool samples of {sources:?} with an even id hash"),
        texts,
    )
}

fn refs(texts: &[String]) -> Vec<&str> {
    texts.iter().map(String::as_str).collect()
}

/// The default reference classifier: reference against the whole pool and its hard negatives.
fn reference_model(pool: &[Sample], seed: u64) -> (ClassifierModel, usize, f64) {
    let (origin, reference) = reference(pool);
    let mut negatives: Vec<&Sample> = pool.iter().collect();
    negatives.sort_by_key(|s| xxh3_64(s.id.as_bytes()) ^ seed);
    let negatives: Vec<&str> = negatives.iter().map(|s| s.text.as_str()).collect();
    let share = env_float("SAMPLEMIX_BENCH_HARD_SHARE").unwrap_or(DEFAULT_HARD_NEGATIVE_SHARE);
    let hard_count = (negatives.len() as f64 * share).round() as usize;
    let hard = hard_negatives(&negatives, hard_count, seed);
    let started = Instant::now();
    let defaults = TrainConfig::default();
    let config = TrainConfig {
        seed,
        epochs: env_number("SAMPLEMIX_BENCH_EPOCHS").map_or(defaults.epochs, |e| e as u32),
        learning_rate: env_float("SAMPLEMIX_BENCH_LR").map_or(defaults.learning_rate, |v| v as f32),
        l2: env_float("SAMPLEMIX_BENCH_L2").map_or(defaults.l2, |v| v as f32),
        ..defaults
    };
    let (model, report) = train_reference(
        &refs(&reference),
        &negatives,
        &hard,
        env_number("SAMPLEMIX_BENCH_FOLDS").unwrap_or(DEFAULT_FOLDS),
        FeatureConfig::default(),
        &config,
    )
    .expect("train");
    let secs = started.elapsed().as_secs_f64();
    println!(
        "reference: {} texts ({origin}); negatives: {} pool + {} hard; epoch losses {:?}",
        reference.len(),
        negatives.len(),
        hard.len(),
        report
            .epoch_loss
            .iter()
            .map(|l| format!("{l:.3}"))
            .collect::<Vec<_>>()
    );
    (model, report.examples, secs)
}

fn throughput(pool: &[Sample]) {
    let threads = rayon::current_num_threads();
    let (model, examples, secs) = reference_model(pool, 1);
    println!(
        "trained the reference model on {examples} examples in {secs:.1} s ({threads} threads)"
    );
    let texts: Vec<&str> = pool.iter().map(|s| s.text.as_str()).collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();
    // Apply, one thread: samples per second of this thread's CPU time (the machine may be
    // shared), and of wall time.
    let mut f = Featurizer::new();
    let mut sink = 0.0f32;
    let (mut done, started, cpu) = (0usize, Instant::now(), thread_cpu_seconds());
    while started.elapsed().as_secs_f64() < 3.0 {
        for t in &texts {
            sink += model.score(t, &mut f);
        }
        done += texts.len();
    }
    let wall_one = done as f64 / started.elapsed().as_secs_f64();
    let one = done as f64 / (thread_cpu_seconds() - cpu);
    println!("apply, one thread: {one:.0} samples per CPU second, {wall_one:.0} per wall second");
    // Apply, every core.
    let started = Instant::now();
    let rounds = 3;
    for _ in 0..rounds {
        sink += model.score_texts(&texts).iter().sum::<f32>();
    }
    let all = (rounds * texts.len()) as f64 / started.elapsed().as_secs_f64();
    println!(
        "apply: {one:.0} samples per CPU second on one thread ({:.1} MB/s; mean sample {:.0} bytes), {all:.0} samples per wall second on {threads} threads (checksum {sink:.1})",
        one * bytes as f64 / texts.len() as f64 / 1e6,
        bytes as f64 / texts.len() as f64
    );
    let train_secs = train_100k(pool);
    let model_bytes = model.to_bytes().len();
    println!(
        "memory: {:.1} MiB of weights while applying ({} folds of 2^{} f32), {:.1} MiB more while training (the AdaGrad sums of the fold in training), {:.1} MiB stored ({} non-zero weights)",
        model.memory_bytes() as f64 / 1048576.0,
        model.folds(),
        model.config().bits,
        (model.config().buckets() * 4) as f64 / 1048576.0,
        model_bytes as f64 / 1048576.0,
        model.nonzero()
    );
    let (lm_wall, lm_cpu, lm_threads) = lm_speed(pool);
    println!();
    println!("| signal | threads | samples per wall second | samples per CPU second (per core) | classifier / this, per core |");
    println!("|---|---:|---:|---:|---:|");
    println!("| classifier apply | 1 | {wall_one:.0} | {one:.0} | 1 |");
    println!("| classifier apply | {threads} | {all:.0} | | |");
    println!(
        "| lm (default settings) | {lm_threads} | {lm_wall:.3} | {lm_cpu:.3} | {:.0} |",
        one / lm_cpu
    );
    println!();
    println!("training on 100,000 examples: {train_secs:.1} s on {threads} threads");
}

/// 100,000 examples from the pool: the pool itself, copies with 5% of the words shuffled, and
/// every fourth a hard negative; reference sources are positives. Trained as `quality train`
/// trains (two folds: each fold sees every positive and half the negatives). Returns the
/// training seconds.
fn train_100k(pool: &[Sample]) -> f64 {
    let n = 100_000;
    let made: Vec<(String, bool)> = (0..n)
        .map(|i| {
            let s = &pool[i % pool.len()];
            let positive = REFERENCE_SOURCES.contains(&s.source.as_str()) && s.noise.is_none();
            if i < pool.len() {
                (s.text.clone(), positive)
            } else if i % 4 == 3 {
                let kind = HardNegativeKind::ALL[i % 3];
                (hard_negative(&s.text, kind, i as u64), false)
            } else {
                (shuffle_words(&s.text, 0.05, i as u64), positive)
            }
        })
        .collect();
    let positives: Vec<&str> = made.iter().filter(|m| m.1).map(|m| m.0.as_str()).collect();
    let negatives: Vec<&str> = made.iter().filter(|m| !m.1).map(|m| m.0.as_str()).collect();
    let bytes: usize = made.iter().map(|(t, _)| t.len()).sum();
    let (started, cpu) = (Instant::now(), process_cpu_seconds());
    let (model, report) = train_reference(
        &positives,
        &negatives,
        &[],
        DEFAULT_FOLDS,
        FeatureConfig::default(),
        &TrainConfig::default(),
    )
    .expect("train");
    let secs = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu;
    println!(
        "train: {n} examples ({:.0} MB, {} positive), {} folds, {} epochs, {} example visits per epoch, {secs:.1} s wall, {cpu:.1} s CPU; {} non-zero weights; fingerprint {:016x}",
        bytes as f64 / 1e6,
        positives.len(),
        model.folds(),
        report.epoch_loss.len(),
        report.examples,
        report.nonzero,
        model.fingerprint()
    );
    secs
}

/// Samples taken in turn from each source.
fn round_robin(pool: &[Sample], n: usize) -> Vec<&str> {
    let mut by_source: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in pool {
        by_source.entry(&s.source).or_default().push(&s.text);
    }
    let mut out = Vec::new();
    for depth in 0.. {
        let before = out.len();
        for texts in by_source.values() {
            if let Some(t) = texts.get(depth) {
                if out.len() < n {
                    out.push(*t);
                }
            }
        }
        if out.len() == before || out.len() >= n {
            break;
        }
    }
    out
}

fn load_lm() -> LlamaScorer {
    let model = default_model_path();
    LlamaScorer::load(&model, LlamaSettings::default())
        .unwrap_or_else(|e| panic!("the LM scorer at {}: {e}", model.display()))
}

/// The LM scorer's samples per wall second and per CPU second at its default settings, and its
/// threads.
fn lm_speed(pool: &[Sample]) -> (f64, f64, usize) {
    let n = env_number("SAMPLEMIX_BENCH_LM_SAMPLES").unwrap_or(32);
    if n == 0 {
        println!("lm: skipped (SAMPLEMIX_BENCH_LM_SAMPLES=0)");
        return (f64::NAN, f64::NAN, 0);
    }
    let texts = round_robin(pool, n + 4);
    let mut lm = load_lm();
    lm.score_batch(&texts[..4]).expect("warm-up");
    let (started, cpu) = (Instant::now(), process_cpu_seconds());
    for group in texts[4..].chunks(16) {
        lm.score_batch(group).expect("score");
    }
    let n = (texts.len() - 4) as f64;
    let rate = n / started.elapsed().as_secs_f64();
    let per_cpu = n / (process_cpu_seconds() - cpu);
    let threads = lm.settings().threads;
    println!(
        "lm: {n} samples at max_tokens {} on {threads} threads: {rate:.3} samples per wall second, {per_cpu:.3} per CPU second",
        lm.settings().max_tokens
    );
    (rate, per_cpu, threads)
}

/// Texts and `-mean NLL` of the samples a store scored (`$SAMPLEMIX_BENCH_LM_STORE`, opened as a
/// reader), with the scorer's description.
fn scored_in_store(path: &Path) -> (String, Vec<String>, Vec<f64>) {
    let pool = samplemix::pool::Pool::open_reader(path).expect("open the store");
    let store = pool.store();
    let cols = samplemix::pool::ranks::RowColumns::read(store).expect("rows");
    let (mut texts, mut values) = (Vec::new(), Vec::new());
    let scored: Vec<(u64, f64)> = cols
        .seqs
        .iter()
        .zip(&cols.lm)
        .filter_map(|(&seq, v)| Some((seq, -f64::from((*v)?))))
        .collect();
    for chunk in scored.chunks(4096) {
        let seqs: Vec<u64> = chunk.iter().map(|p| p.0).collect();
        for (doc, (_, v)) in store.docs(&seqs).expect("docs").into_iter().zip(chunk) {
            if let Some(doc) = doc {
                texts.push(doc.text);
                values.push(*v);
            }
        }
    }
    let scorer = store
        .meta::<samplemix::store::ScorerState>(samplemix::store::SCORER_KEY)
        .ok()
        .flatten()
        .map_or_else(|| "unknown scorer".to_string(), |s| format!("{s:?}"));
    (scorer, texts, values)
}

fn distill_table(texts: &[&str], values: &[f64]) {
    println!("| epochs | trained | held out | held-out Spearman with -mean NLL | seconds |");
    println!("|---:|---:|---:|---:|---:|");
    for epochs in [5, 10, 20] {
        let config = TrainConfig {
            epochs,
            ..TrainConfig::default()
        };
        let started = Instant::now();
        let (_, report) = distill(
            texts,
            values,
            FeatureConfig::default(),
            &config,
            DEFAULT_HELD_OUT_SHARE,
        )
        .expect("distill");
        println!(
            "| {epochs} | {} | {} | {:.3} | {:.1} |",
            report.trained,
            report.held_out,
            report.spearman.unwrap_or(f64::NAN),
            started.elapsed().as_secs_f64()
        );
    }
}

fn distill_lm(pool: &[Sample]) {
    if let Some(path) = std::env::var_os("SAMPLEMIX_BENCH_LM_STORE") {
        let (scorer, texts, values) = scored_in_store(Path::new(&path));
        println!(
            "{} samples scored in {} by {scorer}",
            texts.len(),
            Path::new(&path).display()
        );
        distill_table(&refs(&texts), &values);
        return;
    }
    let n = env_number("SAMPLEMIX_BENCH_DISTILL_SAMPLES").unwrap_or(1000);
    let mut chosen: Vec<&Sample> = pool.iter().collect();
    chosen.sort_by_key(|s| xxh3_64(s.id.as_bytes()));
    chosen.truncate(n);
    let mut lm = load_lm();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let cache = target.join(format!(
        "classifier-bench-lm-{:016x}.tsv",
        xxh3_64(lm.fingerprint().as_bytes())
    ));
    let mut nll: BTreeMap<String, f64> = std::fs::read_to_string(&cache)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (id, v) = l.rsplit_once('\t')?;
            Some((id.to_owned(), v.parse().ok()?))
        })
        .collect();
    let missing: Vec<&&Sample> = chosen.iter().filter(|s| !nll.contains_key(&s.id)).collect();
    println!(
        "lm scores cached in {}: {} of {n}; scoring {}",
        cache.display(),
        n - missing.len(),
        missing.len()
    );
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cache)
        .expect("cache file");
    let started = Instant::now();
    for (k, group) in missing.chunks(16).enumerate() {
        let texts: Vec<&str> = group.iter().map(|s| s.text.as_str()).collect();
        for (s, r) in group.iter().zip(lm.score_batch(&texts).expect("score")) {
            if let Some(q) = r.scored() {
                writeln!(out, "{}\t{}", s.id, q.mean_nll()).expect("write cache");
                nll.insert(s.id.clone(), q.mean_nll());
            }
        }
        out.flush().expect("flush cache");
        eprintln!(
            "scored {} in {:.0} s",
            (k + 1) * 16,
            started.elapsed().as_secs_f64()
        );
    }
    let scored: Vec<(&str, f64)> = chosen
        .iter()
        .filter_map(|s| Some((s.text.as_str(), -*nll.get(&s.id)?)))
        .collect();
    let texts: Vec<&str> = scored.iter().map(|p| p.0).collect();
    let values: Vec<f64> = scored.iter().map(|p| p.1).collect();
    distill_table(&texts, &values);
    // For comparison: the reference classifier (not trained on the LM) against the LM.
    let (model, _, _) = reference_model(pool, 1);
    let scores: Vec<f64> = model
        .score_texts(&texts)
        .into_iter()
        .map(f64::from)
        .collect();
    println!(
        "reference classifier vs -mean NLL on the same {} samples: Spearman {:.3}",
        texts.len(),
        spearman(&scores, &values).unwrap_or(f64::NAN)
    );
}

fn junk(pool: &[Sample]) {
    let (model, _, _) = reference_model(pool, 1);
    let texts: Vec<&str> = pool.iter().map(|s| s.text.as_str()).collect();
    let scores: Vec<f64> = model
        .score_texts(&texts)
        .into_iter()
        .map(f64::from)
        .collect();
    let ranks = mid_ranks(&scores);
    let n = scores.len() as f64;
    let mut groups: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (s, r) in pool.iter().zip(&ranks) {
        let key = match &s.noise {
            Some(kind) => format!("junk: {kind}"),
            None => format!("source: {}", s.source),
        };
        groups.entry(key).or_default().push(r / n);
    }
    let plain = FeatureConfig {
        shape: false,
        ..*model.config()
    };
    let mut f = Featurizer::new();
    let mut parts: BTreeMap<String, (f64, f64, usize)> = BTreeMap::new();
    for s in pool {
        let full = f64::from(model.score(&s.text, &mut f));
        let fold = samplemix::algo::classifier::fold_of(&s.text, model.folds());
        let ngram = f64::from(model.margin(fold, f.featurize(&s.text, &plain)));
        let key = s.noise.clone().unwrap_or_else(|| s.source.clone());
        let e = parts.entry(key).or_default();
        e.0 += ngram;
        e.1 += full - ngram;
        e.2 += 1;
    }
    for (k, (a, b, c)) in &parts {
        println!(
            "{k}: mean n-gram part {:.2}, shape part {:.2}",
            a / *c as f64,
            b / *c as f64
        );
    }
    println!("| group | samples | in the bottom fifth | median rank quantile |");
    println!("|---|---:|---:|---:|");
    for (group, mut q) in groups {
        q.sort_by(f64::total_cmp);
        let bottom = q.iter().filter(|&&x| x <= 0.2).count();
        println!(
            "| {group} | {} | {:.1}% | {:.2} |",
            q.len(),
            100.0 * bottom as f64 / q.len() as f64,
            q[q.len() / 2]
        );
    }
}

fn vocabulary(pool: &[Sample]) {
    let config = FeatureConfig {
        bits: 22,
        shape: false,
        ..FeatureConfig::default()
    };
    // Distinct grams by their 22-bit buckets is not enough: count 64-bit hashes of the grams.
    let mut grams: HashSet<u64> = HashSet::new();
    for s in pool {
        let words = samplemix::algo::diversity::words(&s.text);
        let words = &words[..words.len().min(config.max_words as usize)];
        for (i, w) in words.iter().enumerate() {
            grams.insert(xxh3_64(w.as_bytes()));
            if i > 0 {
                grams.insert(xxh3_64(format!("{} {w}", words[i - 1]).as_bytes()));
            }
        }
    }
    println!("distinct 1- and 2-grams: {}", grams.len());
    println!("| bits | buckets | grams sharing a bucket with another |");
    println!("|---:|---:|---:|");
    for bits in [20u32, 21, 22] {
        let mut per: BTreeMap<u64, u32> = BTreeMap::new();
        for g in &grams {
            *per.entry(g >> (64 - bits)).or_default() += 1;
        }
        let shared: u64 = per
            .values()
            .filter(|&&c| c > 1)
            .map(|&c| u64::from(c))
            .sum();
        println!(
            "| {bits} | {} | {:.1}% |",
            1u64 << bits,
            100.0 * shared as f64 / grams.len() as f64
        );
    }
}
