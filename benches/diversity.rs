//! Speed and quality of the diversity algorithms (`samplemix::algo::diversity`), printed as a table.
//!
//! ```sh
//! cargo bench --bench diversity            # full sizes (1M x 64, 100k x 576, 50k texts)
//! cargo bench --bench diversity -- --quick # a tenth of each, for a smoke run
//! cargo bench --bench diversity -- --topics        # only the store case below
//! cargo bench --bench diversity -- --topics 4      # ... on the corpus and 3 rewritten copies
//! ```
//!
//! The store case (`--topics`, also run last by default when the demo corpus exists): a pool of
//! the demo corpus (`python3 tools/build-corpus.py`; `part1` + `part2`) without every 100th
//! sample gets `samplemix topics`; then the held-back 1% is appended and, on two copies of that
//! store, `topics` (incremental: signatures, overlaps and joins of the new samples) is timed
//! against `topics --refit` (the same, then k-means on every embedding and the rewrite of every
//! topic), each from opening the pool to closing it, median of 3. With `--topics N` the pool also
//! holds N - 1 copies of each sample with half of its words replaced by corpus words (new
//! samples, not near-duplicates), to see how the ratio moves with the pool's size.
//!
//! k-means data: seeded Gaussian mixtures (centres uniform in [-3, 3]^d, unit-variance noise,
//! as many centres as topics). Text: the 302 samples of `tests/fixtures/demo-mini.jsonl`, each
//! repeated with half of its words replaced by words drawn from the fixture's vocabulary, so
//! lengths and word frequencies are real and the copies are not near-duplicates of each other.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use samplemix::algo::diversity::{
    default_k, fit, matching_accuracy, Algorithm, KMeansParams, LshIndex, MinHasher, Signature,
};
use samplemix::ingest::Input;
use samplemix::pool::Pool;
use samplemix::stages::append;
use samplemix::stages::topics::{self, TopicsOptions, TopicsReport};

fn mixture(n: usize, d: usize, centers: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let c: Vec<f32> = (0..centers * d)
        .map(|_| rng.random_range(-3.0f32..3.0))
        .collect();
    let mut x = Vec::with_capacity(n * d);
    for _ in 0..n {
        let j = rng.random_range(0..centers);
        for t in 0..d {
            let z: f32 = StandardNormal.sample(&mut rng);
            x.push(c[j * d + t] + z);
        }
    }
    (x, c)
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

/// Prints markdown table rows.
struct Table;

impl Table {
    fn row(&mut self, what: &str, size: &str, time: String, result: String) {
        println!("| {what} | {size} | {time} | {result} |");
    }
}

fn kmeans_case(table: &mut Table, n: usize, d: usize) {
    let k = default_k(n);
    let t = Instant::now();
    let (data, _) = mixture(n, d, k, 7);
    eprintln!("generated {n} x {d} in {:.1} s", secs(t));
    let size = format!("{n} x {d}, k = {k}");
    // The noise alone: what the generating centres would score.
    let oracle = d as f64;
    let mut fitted = None;
    for refine in [0usize, 1, 3] {
        let mut p = KMeansParams::new(k).with_algorithm(Algorithm::MiniBatch);
        p.refine_iters = refine;
        let t = Instant::now();
        let f = fit(&data, d, &p).expect("fit");
        let el = secs(t);
        table.row(
            &format!("k-means mini-batch + {refine} Lloyd"),
            &size,
            format!("{el:.1} s"),
            format!(
                "{} steps + {} Lloyd; inertia/n {:.2} (noise alone {oracle:.0})",
                f.mini_batch_steps,
                f.lloyd_iterations,
                f.inertia / n as f64
            ),
        );
        if refine == 1 {
            fitted = Some((f, el));
        }
    }
    // Incremental: 1% new rows join the fitted model, against a refit on all rows.
    let Some((f, fit_time)) = fitted else { return };
    let t = Instant::now();
    let all_rows = f.model.assign(&data, d).expect("assign");
    table.row(
        "assign every row to fitted centroids",
        &size,
        format!("{:.2} s", secs(t)),
        format!("{:.0} rows/s", all_rows.len() as f64 / secs(t)),
    );
    let (new, _) = {
        // New rows from the same centres: regenerate with the same seed and take a fresh tail.
        let (more, c) = mixture(n + n / 100, d, k, 7);
        (more[n * d..].to_vec(), c)
    };
    let mut model = f.model.clone();
    let t = Instant::now();
    let joined = model.join(&new, d).expect("join");
    let join_time = secs(t);
    let mut all = data.clone();
    all.extend_from_slice(&new);
    let t = Instant::now();
    let refit = fit(
        &all,
        d,
        &KMeansParams::new(k).with_algorithm(Algorithm::MiniBatch),
    )
    .expect("refit");
    let refit_time = secs(t);
    let a: Vec<usize> = joined.iter().map(|x| x.topic as usize).collect();
    let b: Vec<usize> = refit.assignments[n..]
        .iter()
        .map(|x| x.topic as usize)
        .collect();
    let acc = matching_accuracy(&a, &b).expect("accuracy");
    table.row(
        "join 1% new rows vs refit",
        &format!("{} new, {n} fitted", n / 100),
        format!("{join_time:.3} s vs {refit_time:.1} s"),
        format!(
            "ratio {:.4} ({:.0}x faster); same topic as the refit for {:.1}% of the new rows (fit alone: {fit_time:.1} s)",
            join_time / refit_time,
            refit_time / join_time,
            100.0 * acc
        ),
    );
}

/// Mini-batch against full Lloyd (k-means++ on every row), and greedy against plain k-means++.
fn lloyd_case(table: &mut Table, n: usize, d: usize) {
    let k = default_k(n);
    let (data, _) = mixture(n, d, k, 7);
    let size = format!("{n} x {d}, k = {k}");
    let mut plain = KMeansParams::new(k).with_algorithm(Algorithm::MiniBatch);
    plain.local_trials = 1;
    for (what, p) in [
        (
            "k-means Lloyd to convergence",
            KMeansParams::new(k).with_algorithm(Algorithm::Lloyd),
        ),
        (
            "k-means mini-batch + 1 Lloyd",
            KMeansParams::new(k).with_algorithm(Algorithm::MiniBatch),
        ),
        ("same, plain k-means++ (1 candidate)", plain),
    ] {
        let t = Instant::now();
        let f = fit(&data, d, &p).expect("fit");
        table.row(
            what,
            &size,
            format!("{:.1} s", secs(t)),
            format!(
                "{} steps + {} Lloyd; inertia/n {:.2} (noise alone {d})",
                f.mini_batch_steps,
                f.lloyd_iterations,
                f.inertia / n as f64
            ),
        );
    }
}

fn texts(n: usize) -> (Vec<String>, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/demo-mini.jsonl");
    let raw = std::fs::read_to_string(&path).expect("fixture");
    let originals: Vec<String> = raw
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    let vocab: Vec<&str> = originals
        .iter()
        .flat_map(|t| t.split_whitespace())
        .collect();
    let mut rng = StdRng::seed_from_u64(3);
    let mut out = originals.clone();
    while out.len() < n {
        let src = &originals[out.len() % originals.len()];
        let t: Vec<&str> = src
            .split_whitespace()
            .map(|w| {
                if rng.random_bool(0.5) {
                    vocab[rng.random_range(0..vocab.len())]
                } else {
                    w
                }
            })
            .collect();
        out.push(t.join(" "));
    }
    let bytes = out.iter().map(String::len).sum();
    (out, bytes)
}

fn minhash_case(table: &mut Table, n: usize) {
    let (texts, bytes) = texts(n);
    let hasher = MinHasher::default();
    let t = Instant::now();
    let sigs: Vec<Signature> = {
        use rayon::prelude::*;
        texts
            .par_iter()
            .map(|t| hasher.signature_of_text(t))
            .collect()
    };
    let sig_time = secs(t);
    let t = Instant::now();
    let mut lsh = LshIndex::with_defaults();
    let mut rewrites = 0;
    for (i, s) in sigs.into_iter().enumerate() {
        rewrites += lsh.insert(i as u64, s).expect("insert").updated.len();
    }
    let lsh_time = secs(t);
    let size = format!("{n} texts, {:.1} MB", bytes as f64 / 1e6);
    table.row(
        "shingles + MinHash (128), parallel",
        &size,
        format!("{sig_time:.2} s"),
        format!("{:.0} samples/s", n as f64 / sig_time),
    );
    table.row(
        "LSH insert (32 x 4) + novelty, one thread",
        &size,
        format!("{lsh_time:.2} s"),
        format!(
            "{:.0} samples/s; {rewrites} novelty rewrites",
            n as f64 / lsh_time
        ),
    );
    table.row(
        "MinHash + LSH together",
        &size,
        format!("{:.2} s", sig_time + lsh_time),
        format!("{:.0} samples/s", n as f64 / (sig_time + lsh_time)),
    );
}

/// The demo corpus' pool files, if they were built.
fn demo_lines() -> Option<Vec<String>> {
    let data = std::env::var("SAMPLEMIX_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/samplemix/data")
        });
    let mut out = Vec::new();
    for f in ["part1.jsonl", "part2.jsonl"] {
        let text = std::fs::read_to_string(data.join("demo").join(f)).ok()?;
        out.extend(text.lines().map(str::to_owned));
    }
    Some(out)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Opens the pool, runs `topics` with `opts`, closes it; returns the seconds and the report.
fn timed_topics(store: &Path, opts: &TopicsOptions) -> (f64, TopicsReport) {
    let t = Instant::now();
    let mut pool = Pool::open_writer(store).expect("open");
    let report = topics::run(&mut pool, opts, &()).expect("topics");
    pool.close().expect("close");
    (secs(t), report)
}

fn append(store: &Path, file: &Path) {
    let mut pool = Pool::open_writer(store).expect("open");
    append::append(
        &mut pool,
        &[Input::File(file.to_path_buf())],
        &Default::default(),
        &(),
    )
    .expect("append");
    pool.close().expect("close");
}

/// Incremental `topics` on 1% new data against a full refit (see the module doc).
fn topics_case(copies: usize) {
    let Some(lines) = demo_lines() else {
        eprintln!("topics case skipped: build the demo corpus with python3 tools/build-corpus.py");
        return;
    };
    let mut pool: Vec<String> = lines.clone();
    let vocab: Vec<String> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .flat_map(|t| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let mut rng = StdRng::seed_from_u64(5);
    for copy in 1..copies {
        for l in &lines {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("corpus line");
            let text: Vec<&str> = v["text"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .map(|w| {
                    if rng.random_bool(0.5) {
                        vocab[rng.random_range(0..vocab.len())].as_str()
                    } else {
                        w
                    }
                })
                .collect();
            v["text"] = text.join(" ").into();
            v["id"] = format!("{}#copy{copy}", v["id"].as_str().unwrap_or_default()).into();
            pool.push(v.to_string());
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut old, mut new) = (String::new(), String::new());
    for (i, l) in pool.iter().enumerate() {
        let part = if i % 100 == 99 { &mut new } else { &mut old };
        part.push_str(l);
        part.push('\n');
    }
    let old_file = dir.path().join("old.jsonl");
    let new_file = dir.path().join("new.jsonl");
    std::fs::write(&old_file, old).expect("write");
    std::fs::write(&new_file, new).expect("write");
    let base = dir.path().join("base");
    append(&base, &old_file);
    let (first, first_report) = timed_topics(&base, &TopicsOptions::default());
    let samples = Pool::open_reader(&base).expect("open").counters().docs;
    let (mut inc, mut refit) = (Vec::new(), Vec::new());
    let (mut inc_report, mut refit_report) = (None, None);
    for run in 0..3 {
        let a = dir.path().join(format!("inc{run}"));
        copy_dir(&base, &a);
        append(&a, &new_file);
        let (t, r) = timed_topics(&a, &TopicsOptions::default());
        inc.push(t);
        inc_report = Some(r);
        let b = dir.path().join(format!("refit{run}"));
        copy_dir(&base, &b);
        append(&b, &new_file);
        let (t, r) = timed_topics(
            &b,
            &TopicsOptions {
                refit: true,
                ..TopicsOptions::default()
            },
        );
        refit.push(t);
        refit_report = Some(r);
    }
    let (inc_r, refit_r) = (inc_report.expect("ran"), refit_report.expect("ran"));
    let (ti, tr) = (median(inc), median(refit));
    let size = format!("{samples} samples + {} new", inc_r.processed);
    println!(
        "| `topics`, first run (signatures, overlaps, embeddings, fit) | {samples} samples | \
         {first:.2} s | k = {}, {} |",
        first_report.refit.as_ref().map_or(0, |r| r.k),
        first_report
            .refit
            .as_ref()
            .map_or(String::new(), |r| format!(
                "{} in {:.2} s",
                r.algorithm, r.fit_seconds
            )),
    );
    println!(
        "| `topics` on 1% new data, median of 3 | {size} | {ti:.3} s | {} joined, {} older \
         novelties raised, {} index documents replaced |",
        inc_r.joined, inc_r.novelty_updated, inc_r.reindexed
    );
    println!(
        "| `topics --refit` on the same pool, median of 3 | {size} | {tr:.2} s | k = {}, fit {:.2} \
         s, {} index documents replaced |",
        refit_r.refit.as_ref().map_or(0, |r| r.k),
        refit_r.refit.as_ref().map_or(0.0, |r| r.fit_seconds),
        refit_r.reindexed
    );
    println!(
        "| incremental / refit | | | **ratio {:.3}** ({:.0}x faster) |",
        ti / tr,
        tr / ti
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--topics") {
        let copies = args
            .get(i + 1)
            .and_then(|a| a.parse().ok())
            .unwrap_or(1usize);
        println!(
            "topics bench: {} rayon threads",
            rayon::current_num_threads()
        );
        println!();
        println!("| what | size | time | result |");
        println!("|---|---|---|---|");
        topics_case(copies.max(1));
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let scale = if quick { 10 } else { 1 };
    println!(
        "diversity bench: {} rayon threads{}",
        rayon::current_num_threads(),
        if quick {
            " (quick: a tenth of each size)"
        } else {
            ""
        }
    );
    println!();
    println!("| what | size | time | result |");
    println!("|---|---|---|---|");
    let mut table = Table;
    minhash_case(&mut table, 50_000 / scale);
    lloyd_case(&mut table, 100_000 / scale, 64);
    kmeans_case(&mut table, 1_000_000 / scale, 64);
    kmeans_case(&mut table, 100_000 / scale, 576);
    topics_case(1);
}
