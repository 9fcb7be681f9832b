//! The one harness of the integration tests (`mod common;` in each test binary): a temporary
//! store and a way to run the `samplemix` binary against it, its `--json` output, the store
//! checks, and generated records. Submodules: [`fixture`] (the committed multi-domain fixture),
//! [`score`] (the real default model and fixed real texts for the scorer tests).
#![allow(dead_code)]

pub mod fixture;
pub mod score;

#[allow(unused_imports)]
pub use fixture::{fixture_lines, fixture_range};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Env {
    pub dir: tempfile::TempDir,
    pub store: PathBuf,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_samplemix")
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        Env { dir, store }
    }

    /// An environment whose store is `store` (an existing one, used as it is), with a fresh
    /// temporary folder beside it for outputs.
    pub fn at(store: &Path) -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            store: store.to_path_buf(),
        }
    }

    /// An environment whose store is a copy of `store`.
    pub fn copy_of(store: &Path) -> Env {
        let env = Env::new();
        copy_dir(store, &env.store);
        env
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.arg("--store").arg(&self.store).args(args);
        c.env_remove("SAMPLEMIX_STORE");
        c
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).stdin(Stdio::null()).output().unwrap().into()
    }

    /// `run` with the fail point `point` set (`SAMPLEMIX_FAILPOINT`, see `src/failpoint.rs`).
    pub fn run_failing(&self, point: &str, args: &[&str]) -> Run {
        self.cmd(args)
            .env("SAMPLEMIX_FAILPOINT", point)
            .stdin(Stdio::null())
            .output()
            .unwrap()
            .into()
    }

    pub fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap().into()
    }

    pub fn write(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    pub fn stats(&self) -> serde_json::Value {
        self.run(&["stats", "--json"]).ok().json()
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The unsigned integer `key` of a JSON object, or a panic naming it.
pub fn u(v: &serde_json::Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no integer {key} in {v}"))
}

/// Opens the store as a reader and asserts that `Pool::verify` finds no problem.
pub fn verify(env: &Env, what: &str) {
    let pool = samplemix::pool::Pool::open_reader(&env.store).unwrap();
    let problems = pool.verify().unwrap();
    assert!(problems.is_empty(), "{what}: {problems:#?}");
}

/// Copies a folder tree (a store, say) file by file.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// Every file under `dir` (relative path, sorted) and an xxh3-128 of their names and bytes:
/// what the frozen-store tests compare before and after reading a store in place.
pub fn tree_digest(dir: &Path) -> (Vec<String>, u128) {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), root, out);
            } else {
                let name = e.path().strip_prefix(root).unwrap().display().to_string();
                out.push((name, std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    files.sort();
    let mut all = Vec::new();
    for (name, bytes) in &files {
        all.extend_from_slice(name.as_bytes());
        all.push(0);
        all.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        all.extend_from_slice(bytes);
    }
    let names = files.into_iter().map(|(n, _)| n).collect();
    (names, xxhash_rust::xxh3::xxh3_128(&all))
}

/// The (seq, count) pairs of the stored mix `name`.
pub fn stored_counts(env: &Env, name: &str) -> Vec<(u64, u16)> {
    let store = samplemix::store::Store::open_reader(&env.store).unwrap();
    store.mix(name).unwrap().unwrap().counts
}

/// A store of the first `n` fixture samples and a natural mix `m` of 1.5 times their tokens
/// (so samples repeat): what the export tests write out.
pub fn store_with_repeating_mix(n: usize) -> Env {
    let env = Env::new();
    let f = env.write("a.jsonl", fixture_lines(0, n).as_bytes());
    env.run(&["append", s(&f)]).ok();
    let tokens = env.stats()["tokens"].as_u64().unwrap();
    let budget = (tokens * 3 / 2).to_string();
    env.run(&["mix", "m", "--tokens", &budget, "--kernel", "natural"])
        .ok();
    env
}

/// The demo corpus folder of `tools/build-corpus.py` (`$SAMPLEMIX_DATA_DIR/demo`, which
/// tools/env.sh sets), for the ignored tests on the whole corpus.
pub fn demo_corpus_dir() -> PathBuf {
    PathBuf::from(
        std::env::var_os("SAMPLEMIX_DATA_DIR").expect("SAMPLEMIX_DATA_DIR (tools/env.sh)"),
    )
    .join("demo")
}

/// A store holding the demo corpus's pool (parts 1 and 2).
pub fn demo_corpus_store() -> Env {
    let dir = demo_corpus_dir();
    let env = Env::new();
    let parts = [dir.join("part1.jsonl"), dir.join("part2.jsonl")];
    env.run(&["append", s(&parts[0]), s(&parts[1])]).ok();
    env
}

/// `score` as the frozen stores were scored: 16 tokens, one thread, no model embeddings (they
/// came with format 3).
pub fn score_like_frozen(env: &Env) -> serde_json::Value {
    env.run(&[
        "score",
        "--max-tokens",
        "16",
        "--threads",
        "1",
        "--no-embeddings",
        "--json",
    ])
    .ok()
    .json()
}

/// A JSONL line.
pub fn line(v: serde_json::Value) -> String {
    let mut s = serde_json::to_string(&v).unwrap();
    s.push('\n');
    s
}

/// `n` distinct realistic records of a few sources.
pub fn records(n: usize, tag: &str) -> String {
    const WORDS: &[&str] = &[
        "river", "model", "protein", "market", "theorem", "compiler", "harbor", "violin",
        "glacier", "senate", "enzyme", "orbit", "ledger", "poem", "kernel", "forest", "dialect",
        "vaccine", "bridge", "algebra", "novel", "tariff", "neuron", "canyon",
    ];
    let sources = ["web", "wiki", "code", "books"];
    let mut out = String::new();
    let mut x: u64 = 0x9e3779b97f4a7c15 ^ tag.len() as u64;
    for i in 0..n {
        let mut words = Vec::new();
        for _ in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            words.push(WORDS[(x % WORDS.len() as u64) as usize]);
        }
        let text = format!("{tag} sample {i}: {}.", words.join(" "));
        out.push_str(&line(serde_json::json!({
            "id": format!("{tag}-{i}"),
            "text": text,
            "source": sources[i % sources.len()],
            "metadata": {"n": i},
        })));
    }
    out
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}
