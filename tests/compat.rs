//! Old stores open: the frozen store of store format 1 (`tests/compat_data/format-1/store`, made
//! once by `tools/make-compat-store.sh` with samplemix 0.1.0 and never regenerated; see
//! `tests/compat_data/README.md`), opened by the current binary.
//!
//! The expected values were read from that store with the binary that wrote it. A failure here
//! means the current binary reads an existing store differently: keep the old layout readable,
//! migrate it, or refuse it with a clear message and a new store format.
//!
//! Reading commands run on the committed folder itself and must not change a byte of it; writing
//! commands run on a copy.

mod common;

use std::path::{Path, PathBuf};

use common::fixture::{fixture_lines, fixture_range, DEMO_MINI_HELDOUT};
use common::{s, score_like_frozen, stored_counts, tree_digest, u, verify, Env};
use serde_json::Value;

const FROZEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/compat_data/format-1/store"
);

/// (name, samples, tokens) of each source, largest first, as `stats` lists them.
const SOURCES: [(&str, u64, u64); 8] = [
    ("books", 4, 2053),
    ("web", 8, 1844),
    ("docs", 7, 1761),
    ("code", 4, 1729),
    ("faq", 7, 1666),
    ("wiki", 7, 823),
    ("packages", 6, 667),
    ("fortunes", 5, 484),
];

/// The scorer fingerprint of the default model at `--max-tokens 16`.
const FINGERPRINT: &str = "b5699492a5836e4b";

const NEAR_DUP: &str =
    "faq/perl/perlfaq3/why-don-t-perl-one-liners-work-on-my-dos-mac-vms-s-4a11#near-dup";
const NEAR_DUP_ORIGINAL: &str =
    "faq/perl/perlfaq3/why-don-t-perl-one-liners-work-on-my-dos-mac-vms-s-4a11";

/// xxh3-128 of `manifest.json` and the decompressed shards of `export main` (see
/// [`export_digest`]). The manifest gained `"format": "jsonl"` with `export --format parquet`;
/// without that line the digest is the earlier 0x3d50_e879_646d_e0ef_658e_a6b0_ff51_d59e
/// (the shards are unchanged).
const EXPORT_MAIN_DIGEST: u128 = 0x2896_8a88_085f_9790_8a47_d61d_7d3d_d1c8;

fn frozen() -> PathBuf {
    PathBuf::from(FROZEN)
}

/// xxh3-128 of an export's `manifest.json` followed by its shards, decompressed, in file-name
/// order (the compressed bytes would also follow the zstd library's version).
fn export_digest(dir: &Path) -> u128 {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut all = std::fs::read(dir.join("manifest.json")).unwrap();
    for name in names.iter().filter(|n| n.ends_with(".jsonl.zst")) {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        all.extend(zstd::decode_all(bytes.as_slice()).unwrap());
    }
    xxhash_rust::xxh3::xxh3_128(&all)
}

/// JSON floats compared to 1e-12 (serde_json's default parser may round the last bit).
fn close(v: &Value, expected: f64) {
    let x = v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"));
    assert!((x - expected).abs() < 1e-12, "{x} != {expected}");
}

fn check_stats(st: &Value) {
    assert_eq!(st["format_version"], 1);
    assert_eq!(u(st, "samples"), 48);
    assert_eq!(u(st, "tokens"), 11_027);
    assert_eq!(u(st, "tokens_estimated"), 0);
    assert_eq!(u(st, "bytes"), 42_410);
    let sources: Vec<(&str, u64, u64)> = st["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["name"].as_str().unwrap(), u(x, "samples"), u(x, "tokens")))
        .collect();
    assert_eq!(sources, SOURCES);
    assert_eq!(u(st, "duplicates_skipped"), 1);
    assert_eq!(u(st, "rejected"), 1);
    assert_eq!(u(st, "appends"), 2);
    assert_eq!(u(st, "scored"), 48);
    assert_eq!(u(st, "too_short"), 0);
    assert!(st["scorer"].as_str().unwrap().contains(FINGERPRINT));
    let t = &st["topics"];
    assert_eq!(
        (
            u(t, "k"),
            u(t, "generation"),
            u(t, "fitted_on"),
            u(t, "joined_since")
        ),
        (4, 1, 40, 8)
    );
    assert_eq!((u(t, "without_topic"), u(t, "without_novelty")), (0, 0));
    assert_eq!(
        (u(&st["index"], "docs"), u(&st["index"], "behind_by")),
        (48, 0)
    );
    let mixes: Vec<(&str, u64, u64)> = st["mixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), u(m, "tokens"), u(m, "samples")))
        .collect();
    assert_eq!(mixes, [("main", 3564, 15), ("natural", 3574, 13)]);
}

/// The stored fields of a sample (what no later run may change), with its scores as read now.
fn check_sample(env: &Env, id: &str, seq: u64, source: &str, tokens: u64, mean_nll: f64) -> Value {
    let g = env.run(&["get", id, "--json"]).ok().json();
    assert_eq!(g["id"], id);
    assert_eq!(u(&g, "seq"), seq, "{id}");
    assert_eq!(g["source"], source, "{id}");
    assert_eq!(u(&g, "tokens"), tokens, "{id}");
    assert_eq!(g["tokens_estimated"], false, "{id}");
    close(&g["mean_nll"], mean_nll);
    assert_eq!(u(&g, "scored_tokens"), 16, "{id}");
    assert_eq!(g["fingerprint"], FINGERPRINT, "{id}");
    g
}

fn check_samples(env: &Env) {
    let g = check_sample(
        env,
        "packages/libsvn-notify-perl",
        1,
        "packages",
        104,
        6.697_604_656_219_482,
    );
    assert_eq!(g["text_hash"], "e01e924fa4eccc063447294b3536c126");
    assert_eq!(g["metadata"]["package"], "libsvn-notify-perl");
    assert!(g["text"]
        .as_str()
        .unwrap()
        .starts_with("libsvn-notify-perl: Subversion activity notification"));
    assert_eq!(u(&g, "topic"), 1);
    close(&g["quality"], 0.135_416_666_666_666_63);
    close(&g["diversity"], 0.239_583_333_333_333_34);
    close(&g["diversity_parts"]["novelty"], 1.0);
    assert_eq!(g["diversity_parts"]["nearest"], Value::Null);

    let g = check_sample(
        env,
        "books/emma/ch018-p03",
        22,
        "books",
        540,
        4.049_178_123_474_121,
    );
    close(&g["quality"], 0.927_083_333_333_333_4);
    assert_eq!(u(&g, "topic"), 2);

    let g = check_sample(env, NEAR_DUP, 46, "faq", 431, 4.361_965_179_443_359);
    let parts = &g["diversity_parts"];
    assert_eq!(parts["nearest"], NEAR_DUP_ORIGINAL);
    close(&parts["nearest_jaccard"], 0.757_812_5);
    close(&parts["novelty"], 0.242_187_5);
    close(&g["diversity"], 0.114_583_333_333_333_33);
}

fn query(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["query", "--json"];
    all.extend_from_slice(args);
    env.run(&all).ok().json()
}

fn ids(r: &Value) -> Vec<&str> {
    r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect()
}

fn check_queries(env: &Env) {
    let r = query(env, &["Subversion"]);
    assert_eq!(ids(&r), ["packages/libsvn-notify-perl"]);
    assert_eq!(u(&query(env, &["--limit", "100"]), "total"), 48);
    let r = query(env, &["--source", "books", "--sort", "quality"]);
    assert_eq!(
        ids(&r),
        [
            "books/emma/ch018-p03",
            "books/sensesensibility/ch036-p03",
            "books/emma/ch040-p02",
            "books/sensesensibility/ch021-p05"
        ]
    );
    assert_eq!(u(&query(env, &["--min-quality", "0.9"]), "total"), 6);
    assert_eq!(u(&query(env, &["--topic", "2"]), "total"), 18);
    assert_eq!(u(&query(env, &["--min-diversity", "0.5"]), "total"), 32);
}

#[test]
fn reading_commands_read_the_frozen_store_in_place_and_change_nothing() {
    let before = tree_digest(&frozen());
    let env = Env::at(&frozen());
    check_stats(&env.stats());
    check_samples(&env);
    check_queries(&env);
    verify(&env, "the frozen store");

    let out = env.path("export");
    let m = env
        .run(&["export", "main", "--out", s(&out), "--json"])
        .ok()
        .json();
    assert_eq!(
        (u(&m, "lines"), u(&m, "tokens"), u(&m, "samples")),
        (15, 3564, 15)
    );
    assert_eq!(u(&m, "drawn_at_next_seq"), 48);
    assert_eq!(
        export_digest(&out),
        EXPORT_MAIN_DIGEST,
        "the export of the stored mix changed: {:#034x}",
        export_digest(&out)
    );

    let report = env.path("report");
    env.run(&["report", "main", "--out", s(&report)]).ok();
    let r: Value =
        serde_json::from_slice(&std::fs::read(report.join("report.json")).unwrap()).unwrap();
    assert_eq!(r["name"], "main");
    assert!(report.join("sources.csv").is_file() && report.join("report.html").is_file());

    let ev = env
        .run(&[
            "eval",
            "main",
            "natural",
            "--heldout",
            DEMO_MINI_HELDOUT,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(u(&ev, "heldout_texts"), 42);

    // The quality flags of store format 2 read a format-1 store as it is: lm ranked within
    // sources, from scales computed in memory (a reader writes none).
    let r = query(
        &env,
        &[
            "--rank-within",
            "source",
            "--sort",
            "quality",
            "--limit",
            "100",
        ],
    );
    assert_eq!(u(&r, "total"), 48);
    let g = env
        .run(&["get", "books/emma/ch018-p03", "--json"])
        .ok()
        .json();
    let lm = &g["signals"][0];
    assert_eq!(lm["signal"], "lm");
    close(&lm["q_pool"], 0.927_083_333_333_333_4);
    assert!(lm["q_source"].as_f64().unwrap() > 0.5);
    assert_eq!(g["signals"].as_array().unwrap().len(), 2, "lm and combined");

    assert_eq!(
        tree_digest(&frozen()),
        before,
        "a reading command changed a file of the frozen store"
    );
}

#[test]
fn a_redraw_with_the_saved_parameters_gives_the_stored_counts() {
    let env = Env::copy_of(&frozen());
    for (name, samples, tokens) in [("main", 15, 3564), ("natural", 13, 3574)] {
        let stored = stored_counts(&env, name);
        assert_eq!(stored.len() as u64, samples);
        let r = env.run(&["mix", name, "--json"]).ok().json();
        let c = &r["changes"];
        assert_eq!(c["params_changed"], false, "{name}");
        assert_eq!(
            (
                u(c, "new_pool_samples"),
                u(c, "samples_added"),
                u(c, "samples_removed"),
                u(c, "count_changes"),
                u(c, "unchanged")
            ),
            (0, 0, 0, 0, samples),
            "{name}"
        );
        assert_eq!(u(&r, "tokens_drawn"), tokens, "{name}");
        assert_eq!(stored_counts(&env, name), stored, "{name}");
    }
}

#[test]
fn the_writer_opens_it_and_new_data_goes_in_beside_the_old() {
    let env = Env::copy_of(&frozen());
    // Its scores are current for the default model at --max-tokens 16, its topics too.
    let r = score_like_frozen(&env);
    // The writer migrated it to the current store format (tables `signals` and
    // `model_embeddings`), changing nothing else.
    let format: Value =
        serde_json::from_str(&std::fs::read_to_string(env.store.join("FORMAT")).unwrap()).unwrap();
    assert_eq!(
        (
            format["format_version"].as_u64(),
            format["created_by"].as_str()
        ),
        (
            Some(u64::from(samplemix::store::FORMAT_VERSION)),
            Some("samplemix 0.1.0")
        )
    );
    assert_eq!(
        env.stats()["format_version"],
        samplemix::store::FORMAT_VERSION
    );
    let r2 = env
        .run(&["quality", "compute", "repetition", "--json"])
        .ok()
        .json();
    assert_eq!(u(&r2, "computed"), 48);
    assert_eq!(r["model_work"], false);
    assert_eq!(u(&r, "already_scored"), 48);
    let r = env.run(&["topics", "--json"]).ok().json();
    assert_eq!(u(&r, "processed"), 0);

    let old = env.write("old.jsonl", fixture_lines(0, 48).as_bytes());
    let r = env.run(&["append", s(&old), "--json"]).ok().json();
    assert_eq!((u(&r, "added"), u(&r, "duplicates")), (0, 48));
    let new = env.write("new.jsonl", fixture_range(48, 60).as_bytes());
    let r = env.run(&["append", s(&new), "--json"]).ok().json();
    assert_eq!((u(&r, "added"), u(&r, "pool_samples")), (12, 60));
    let r = score_like_frozen(&env);
    assert_eq!((u(&r, "scored"), u(&r, "already_scored")), (12, 48));
    let r = env.run(&["topics", "--keep-topics", "--json"]).ok().json();
    assert_eq!(u(&r, "processed"), 12);
    verify(&env, "after new data");

    let st = env.stats();
    assert_eq!((u(&st, "samples"), u(&st, "appends")), (60, 4));
    // The old samples keep what was stored about them.
    check_sample(
        &env,
        "packages/libsvn-notify-perl",
        1,
        "packages",
        104,
        6.697_604_656_219_482,
    );
    check_sample(
        &env,
        "books/emma/ch018-p03",
        22,
        "books",
        540,
        4.049_178_123_474_121,
    );
    check_sample(&env, NEAR_DUP, 46, "faq", 431, 4.361_965_179_443_359);
    let r = env.run(&["mix", "main", "--json"]).ok().json();
    assert_eq!(u(&r["changes"], "new_pool_samples"), 12);
    // Samples scored before model embeddings existed get them on the next score that stores
    // them, under the same fingerprint.
    let r = env
        .run(&["score", "--max-tokens", "16", "--threads", "1", "--json"])
        .ok()
        .json();
    assert_eq!(u(&r, "embedded"), 60, "{r}");
    verify(&env, "after the embeddings");
}
