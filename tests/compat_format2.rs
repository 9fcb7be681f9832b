//! The frozen store of store format 2 (`tests/compat_data/format-2/store`, written once by
//! `tools/make-compat-store.sh` with the format-2 binary; never regenerated): the current binary
//! reads it in place without changing a file, serves its quality signals, re-draws its stored
//! mixes (including one ranked by `combined` within sources with topic bounds) to the stored
//! counts, and writes beside it (on a copy) without recomputing what is current.

mod common;

use std::path::{Path, PathBuf};

use common::{fixture_range, s, score_like_frozen, stored_counts, tree_digest, u, verify, Env};
use serde_json::Value;

fn frozen() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat_data/format-2/store")
}

const EMMA: &str = "books/emma/ch018-p03";

/// (signal, raw, q within the pool) of `id`, as `get --json` lists them.
fn signals(env: &Env, id: &str) -> Vec<(String, Option<f64>, f64)> {
    let g = env.run(&["get", id, "--json"]).ok().json();
    g["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["signal"].as_str().unwrap().to_string(),
                v["raw"].as_f64(),
                v["q_pool"].as_f64().unwrap(),
            )
        })
        .collect()
}

fn check_reads(env: &Env) {
    let st = env.stats();
    assert_eq!(st["format_version"], 2);
    assert_eq!(
        (u(&st, "samples"), u(&st, "tokens"), u(&st, "scored")),
        (48, 11027, 48)
    );
    let sig: Vec<(&str, u64)> = st["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["signal"].as_str().unwrap(), u(v, "computed")))
        .collect();
    assert_eq!(sig, [("repetition", 48), ("classifier", 48)]);
    let got = signals(env, EMMA);
    let expected = [
        ("lm", Some(4.049_178_123_474_121), 0.927_083_333_333_333_4),
        ("repetition", Some(0.973_124_563_694_000_2), 0.6875),
        (
            "classifier",
            Some(3.846_244_335_174_560_5),
            0.979_166_666_666_666_6,
        ),
        ("combined", None, 0.979_166_666_666_666_6),
    ];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for ((name, raw, q), (en, er, eq)) in got.iter().zip(expected) {
        assert_eq!(name, en);
        assert_eq!(raw.is_some(), er.is_some(), "{name}");
        if let (Some(r), Some(e)) = (raw, er) {
            assert!((r - e).abs() < 1e-12, "{name}: {r} != {e}");
        }
        assert!((q - eq).abs() < 1e-12, "{name}: {q} != {eq}");
    }
    let q = env
        .run(&[
            "query",
            "--quality",
            "combined",
            "--min-quality",
            "0.5",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(u(&q, "total"), 24);
    let q = env
        .run(&[
            "query",
            "--quality",
            "classifier",
            "--sort",
            "quality",
            "--limit",
            "1",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(q["hits"][0]["id"], EMMA);
}

#[test]
fn reading_commands_read_the_format_2_store_in_place_and_change_nothing() {
    let before = tree_digest(&frozen());
    let env = Env::at(&frozen());
    check_reads(&env);
    verify(&env, "the frozen format-2 store");
    let out = env.path("export");
    let m = env
        .run(&["export", "combined", "--out", s(&out), "--json"])
        .ok()
        .json();
    assert_eq!((u(&m, "samples"), u(&m, "tokens")), (24, 5459));
    let report = env.path("report");
    env.run(&["report", "combined", "--out", s(&report)]).ok();
    assert_eq!(
        tree_digest(&frozen()),
        before,
        "a reading command changed a file of the frozen format-2 store"
    );
}

#[test]
fn its_mixes_redraw_to_the_stored_counts() {
    let env = Env::copy_of(&frozen());
    for (name, samples) in [("main", 15), ("natural", 13), ("combined", 24)] {
        let stored = stored_counts(&env, name);
        assert_eq!(stored.len(), samples, "{name}");
        let r = env.run(&["mix", name, "--json"]).ok().json();
        let c = &r["changes"];
        assert_eq!(c["params_changed"], false, "{name}");
        assert_eq!(
            (
                u(c, "samples_added"),
                u(c, "samples_removed"),
                u(c, "count_changes")
            ),
            (0, 0, 0),
            "{name}: {c}"
        );
        assert_eq!(stored_counts(&env, name), stored, "{name}");
    }
}

#[test]
fn the_writer_keeps_what_is_current_and_adds_new_data_beside_it() {
    let env = Env::copy_of(&frozen());
    for signal in ["repetition", "classifier"] {
        let r = env
            .run(&["quality", "compute", signal, "--json"])
            .ok()
            .json();
        assert_eq!(u(&r, "computed"), 0, "{signal} is current: {r}");
    }
    let r = score_like_frozen(&env);
    assert_eq!(r["model_work"], false);
    // The writer migrated it to the current format, changing no stored record.
    assert_eq!(
        env.stats()["format_version"],
        samplemix::store::FORMAT_VERSION
    );
    let new = env.write("new.jsonl", fixture_range(48, 60).as_bytes());
    let r = env.run(&["append", s(&new), "--json"]).ok().json();
    assert_eq!((u(&r, "added"), u(&r, "pool_samples")), (12, 60));
    for signal in ["repetition", "classifier"] {
        let r = env
            .run(&["quality", "compute", signal, "--json"])
            .ok()
            .json();
        assert_eq!(u(&r, "computed"), 12, "{signal}: only the new samples: {r}");
    }
    verify(&env, "after new data");
    // The old samples keep their stored signals (to 1e-12: serde_json's default float parser
    // may round the last bit).
    let got = signals(&env, EMMA);
    for (i, name, raw) in [
        (1, "repetition", 0.973_124_563_694_000_2),
        (2, "classifier", 3.846_244_335_174_560_5),
    ] {
        assert_eq!(got[i].0, name);
        assert!((got[i].1.unwrap() - raw).abs() < 1e-12, "{got:?}");
    }
    let r: Value = env.run(&["mix", "combined", "--json"]).ok().json();
    assert_eq!(u(&r["changes"], "new_pool_samples"), 12);
}
