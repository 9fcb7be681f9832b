//! Real text for the tests: the committed `tests/fixtures/demo-mini*.jsonl` slices of the demo
//! corpus, and for measurements the full demo corpus when `tools/build-corpus.py` built it.

use std::path::{Path, PathBuf};

/// One fixture line.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub id: String,
    pub text: String,
    pub source: String,
    /// `metadata.near_duplicate_of`: the id of the sample this one is a near-copy of.
    pub near_duplicate_of: Option<String>,
    /// Id of the original for labelled near-duplicates and exact copies, else its own id.
    pub family: String,
    /// `metadata.topic` of Wikipedia samples, else empty.
    pub wiki_topic: String,
    /// `metadata.synthetic_noise` of the labelled junk (`spam`, `boilerplate`, ...), else None.
    pub noise: Option<String>,
}

fn read(path: &Path) -> Vec<Sample> {
    let raw = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    raw.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("fixture line is JSON");
            let s = |k: &str| v[k].as_str().expect("string field").to_owned();
            let m = &v["metadata"];
            let family = m["near_duplicate_of"]
                .as_str()
                .or(m["exact_duplicate_of"].as_str())
                .map_or_else(|| s("id"), str::to_owned);
            Sample {
                id: s("id"),
                text: s("text"),
                source: s("source"),
                near_duplicate_of: m["near_duplicate_of"].as_str().map(str::to_owned),
                family,
                wiki_topic: m["topic"].as_str().unwrap_or_default().to_owned(),
                noise: m["synthetic_noise"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `demo-mini.jsonl`: 302 pool samples of 8 sources, with labelled near-duplicates.
pub(crate) fn samples() -> Vec<Sample> {
    read(&fixtures().join("demo-mini.jsonl"))
}

/// `demo-mini-heldout.jsonl`: 42 samples that are not in the pool.
pub(crate) fn heldout() -> Vec<Sample> {
    read(&fixtures().join("demo-mini-heldout.jsonl"))
}

fn demo_texts(file: &str, max_bytes: usize) -> Option<Vec<String>> {
    let dir = match std::env::var_os("SAMPLEMIX_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".cache/samplemix/data"),
    };
    let path = dir.join("demo").join(file);
    if !path.exists() {
        return None;
    }
    let mut out = Vec::new();
    let mut bytes = 0;
    for s in read(&path) {
        if bytes >= max_bytes {
            break;
        }
        bytes += s.text.len();
        out.push(s.text);
    }
    Some(out)
}

/// Texts of the demo corpus's pool, up to about `max_bytes`, if it was built.
pub(crate) fn demo_corpus_texts(max_bytes: usize) -> Option<Vec<String>> {
    let mut texts = demo_texts("part1.jsonl", max_bytes)?;
    let have: usize = texts.iter().map(|t| t.len()).sum();
    if have < max_bytes {
        texts.extend(demo_texts("part2.jsonl", max_bytes - have).unwrap_or_default());
    }
    Some(texts)
}

/// Texts of the demo corpus's held-out set, up to about `max_bytes`, if it was built.
pub(crate) fn demo_heldout_texts(max_bytes: usize) -> Option<Vec<String>> {
    demo_texts("heldout.jsonl", max_bytes)
}
