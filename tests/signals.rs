//! Named quality signals: the `repetition` signal on real samples of the demo corpus (labelled
//! junk ranks at the bottom), the incremental pass (only new samples get a value, a second run
//! does no work), `--quality` and `--rank-within` on query, get and mix (a re-draw reuses
//! them), and the stored scales agreeing with the exact ranks a draw uses.

mod common;

use std::collections::BTreeMap;

use common::fixture::{fixture_range, DEMO_MINI};
use common::{s, u, verify, Env};
use samplemix::pool::ranks::{
    self, QualityChoice, QualityRanks, QualitySignal, RankScope, RowColumns,
};
use samplemix::store::Store;
use serde_json::Value;

fn compute(env: &Env) -> Value {
    env.run(&["quality", "compute", "repetition", "--json"])
        .ok()
        .json()
}

/// q of every sample under `choice`, exactly as a draw reads it, with each sample's junk label
/// (`metadata.synthetic_noise`, or its source when clean).
fn labelled_q(store: &Store, choice: QualityChoice) -> Vec<(String, Option<f32>)> {
    let cols = RowColumns::read(store).unwrap();
    let q = ranks::q_column(store, &cols, choice).unwrap();
    let docs = store.docs(&cols.seqs).unwrap();
    docs.into_iter()
        .zip(q)
        .map(|(d, q)| {
            let d = d.unwrap();
            let meta: Value = d
                .metadata
                .as_deref()
                .map_or(Value::Null, |m| serde_json::from_str(m).unwrap());
            let label = meta["synthetic_noise"]
                .as_str()
                .map_or(d.source.clone(), str::to_string);
            (label, q)
        })
        .collect()
}

/// Per label: (samples, share with q below 0.2, median q).
fn bottom_fifth(labelled: &[(String, Option<f32>)]) -> BTreeMap<String, (usize, f64, f64)> {
    let mut by: BTreeMap<String, Vec<f32>> = BTreeMap::new();
    for (label, q) in labelled {
        by.entry(label.clone())
            .or_default()
            .push(q.expect("every sample has a repetition value"));
    }
    by.into_iter()
        .map(|(label, mut qs)| {
            qs.sort_by(f32::total_cmp);
            let low = qs.iter().filter(|&&q| q < 0.2).count() as f64 / qs.len() as f64;
            (label, (qs.len(), low, f64::from(qs[qs.len() / 2])))
        })
        .collect()
}

fn assert_junk_at_the_bottom(by: &BTreeMap<String, (usize, f64, f64)>, min_share: f64) {
    for (label, (n, low, median)) in by {
        eprintln!("{label:12} n {n:5}  share in the bottom fifth {low:.3}  median q {median:.3}");
    }
    for junk in ["spam", "boilerplate", "shuffled"] {
        let (n, low, median) = by[junk];
        assert!(n > 0);
        assert!(
            low >= min_share && median < 0.2,
            "{junk}: {low:.3} of {n} in the bottom fifth of repetition, median q {median:.3}"
        );
    }
    // The clean prose sources are mostly above it.
    for clean in ["books", "wiki"] {
        assert!(by[clean].1 < 0.1, "{clean}: {:?}", by[clean]);
    }
}

#[test]
fn labelled_junk_of_the_fixture_ranks_in_the_bottom_fifth_of_repetition() {
    let env = Env::new();
    env.run(&["append", DEMO_MINI]).ok();
    let r = compute(&env);
    assert_eq!(u(&r, "computed"), 298);
    let store = Store::open_reader(&env.store).unwrap();
    let choice = QualityChoice {
        signal: QualitySignal::Repetition,
        scope: RankScope::Pool,
    };
    let by = bottom_fifth(&labelled_q(&store, choice));
    assert_junk_at_the_bottom(&by, 0.8);
}

/// The same on the whole demo corpus (8,852 samples of `tools/build-corpus.py`, parts 1 and 2).
#[test]
#[ignore = "needs the demo corpus in $SAMPLEMIX_DATA_DIR/demo (tools/build-corpus.py); run with \
            tools/test.sh --test signals -- --ignored"]
fn labelled_junk_of_the_demo_corpus_ranks_in_the_bottom_fifth_of_repetition() {
    let env = common::demo_corpus_store();
    compute(&env);
    let store = Store::open_reader(&env.store).unwrap();
    let choice = QualityChoice {
        signal: QualitySignal::Repetition,
        scope: RankScope::Pool,
    };
    let by = bottom_fifth(&labelled_q(&store, choice));
    assert_junk_at_the_bottom(&by, 0.8);
}

#[test]
fn only_new_samples_get_the_signal_and_a_second_run_does_no_work() {
    let env = Env::new();
    let first = env.write("first.jsonl", fixture_range(0, 150).as_bytes());
    env.run(&["append", s(&first)]).ok();
    let n1 = u(&env.stats(), "samples");
    let r = compute(&env);
    assert_eq!((u(&r, "computed"), u(&r, "already_computed")), (n1, 0));
    assert_eq!(r["work_done"], true);
    let fp = r["fingerprint"].as_str().unwrap().to_string();
    let before = env.run(&["get", "books/emma/ch018-p03", "--json"]);
    let r = compute(&env);
    assert_eq!(r["work_done"], false);
    assert_eq!((u(&r, "computed"), u(&r, "already_computed")), (0, n1));

    let rest = env.write("rest.jsonl", fixture_range(150, 302).as_bytes());
    env.run(&["append", s(&rest)]).ok();
    let n2 = u(&env.stats(), "samples");
    assert!(n2 > n1);
    let r = compute(&env);
    assert_eq!(
        (
            u(&r, "computed"),
            u(&r, "already_computed"),
            u(&r, "pool_computed")
        ),
        (n2 - n1, n1, n2)
    );
    assert_eq!(r["fingerprint"], fp.as_str());
    assert_eq!(compute(&env)["work_done"], false);
    verify(&env, "after two passes");
    let sig = &env.stats()["signals"][0];
    assert_eq!(
        (sig["signal"].as_str(), u(sig, "computed")),
        (Some("repetition"), n2)
    );

    // An old sample kept its raw value and features; its q moved with the pool.
    if before.code == 0 {
        let sig = |v: &Value| {
            v["signals"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["signal"] == "repetition")
                .cloned()
                .unwrap()
        };
        let after = env
            .run(&["get", "books/emma/ch018-p03", "--json"])
            .ok()
            .json();
        let (a, b) = (sig(&after), sig(&before.json()));
        assert_eq!(a["raw"], b["raw"]);
        assert_eq!(a["features"], b["features"]);
    }
}

/// For every signal and scope, q read from the stored scales (get, query) equals q as a draw
/// ranks it (the pool is smaller than 4097 samples per group, so the scales hold every value).
#[test]
fn stored_scales_give_the_exact_ranks_and_query_follows_them() {
    let env = Env::new();
    env.run(&["append", DEMO_MINI]).ok();
    compute(&env);
    env.run(&["topics", "--json"]).ok();
    let store = Store::open_reader(&env.store).unwrap();
    let cols = RowColumns::read(&store).unwrap();
    let r = QualityRanks::load(&store).unwrap();
    for signal in [QualitySignal::Repetition, QualitySignal::Combined] {
        for scope in RankScope::ALL {
            let choice = QualityChoice { signal, scope };
            let exact = ranks::q_column(&store, &cols, choice).unwrap();
            assert!(
                exact.iter().filter(|q| q.is_some()).count() > 200,
                "{choice:?}"
            );
            for (i, &seq) in cols.seqs.iter().enumerate() {
                let row = store.sample_row(seq).unwrap().unwrap();
                let stored = r.q(&r.sample(&store, seq, &row).unwrap(), choice);
                match (exact[i], stored) {
                    (None, None) => {}
                    (Some(e), Some(s)) => assert!(
                        (f64::from(e) - s).abs() < 1e-6,
                        "{choice:?} seq {seq}: exact {e}, stored {s}"
                    ),
                    other => panic!("{choice:?} seq {seq}: {other:?}"),
                }
            }
        }
    }
    drop(store);

    // query: the quality order and bounds of the chosen signal and scope.
    let q = env
        .run(&[
            "query",
            "--quality",
            "repetition",
            "--rank-within",
            "source",
            "--sort",
            "quality",
            "--min-quality",
            "0.5",
            "--limit",
            "400",
            "--json",
        ])
        .ok()
        .json();
    let hits = q["hits"].as_array().unwrap();
    let total = u(&q, "total") as usize;
    assert_eq!(hits.len(), total);
    assert!(total > 100 && total < 200, "{total}");
    let qs: Vec<f64> = hits
        .iter()
        .map(|h| h["quality"].as_f64().unwrap())
        .collect();
    assert!(qs.windows(2).all(|w| w[0] >= w[1]), "{qs:?}");
    assert!(qs.iter().all(|&x| x >= 0.5));
    // get shows the same q for a hit.
    let g = env
        .run(&["get", hits[0]["id"].as_str().unwrap(), "--json"])
        .ok()
        .json();
    let rep = g["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["signal"] == "repetition")
        .unwrap();
    assert_eq!(rep["q_source"].as_f64().unwrap(), qs[0]);
    assert_eq!(rep["features"].as_array().unwrap().len(), 24);
    // The default query is today's: lm, which nothing has scored here.
    let d = env
        .run(&["query", "--sort", "quality", "--json"])
        .ok()
        .json();
    assert_eq!(u(&d, "total"), 0);
}

#[test]
fn a_mix_records_its_signal_and_scope_and_a_redraw_reuses_them() {
    let env = Env::new();
    env.run(&["append", DEMO_MINI]).ok();
    compute(&env);
    env.run(&["topics", "--json"]).ok();
    let m = env
        .run(&[
            "mix",
            "m",
            "--tokens",
            "20000",
            "--kernel",
            "linear",
            "--alpha",
            "0",
            "--quality",
            "repetition",
            "--rank-within",
            "source",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(m["params"]["quality"], "repetition");
    assert_eq!(m["params"]["rank_within"], "source");
    assert_eq!(u(&m["excluded"], "no_quality"), 0);
    let store = Store::open_reader(&env.store).unwrap();
    let first = store.mix("m").unwrap().unwrap().counts;
    drop(store);
    let again = env.run(&["mix", "m", "--json"]).ok().json();
    assert_eq!(again["changes"]["params_changed"], false);
    assert_eq!(again["params"]["quality"], "repetition");
    let store = Store::open_reader(&env.store).unwrap();
    assert_eq!(store.mix("m").unwrap().unwrap().counts, first);
    drop(store);
    // Another scope changes the draw and says so.
    let other = env
        .run(&["mix", "m", "--rank-within", "pool", "--json"])
        .ok()
        .json();
    assert_eq!(other["changes"]["params_changed"], true);
    assert_eq!(other["params"]["quality"], "repetition");
    assert!(other["params"].get("rank_within").is_none());
    // Junk is drawn less under repetition than naturally: the linear kernel at alpha 0 is q.
    let natural = env
        .run(&[
            "mix", "n", "--tokens", "20000", "--kernel", "natural", "--json",
        ])
        .ok()
        .json();
    let web = |v: &Value| {
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "web")
            .unwrap()["mixed_share"]
            .as_f64()
            .unwrap()
    };
    assert!(
        web(&other) < web(&natural),
        "{} vs {}",
        web(&other),
        web(&natural)
    );
    // A report shows the mix's own q unless told otherwise.
    let out = env.path("report");
    env.run(&["report", "m", "--out", s(&out)]).ok();
    env.run(&["report", "m", "--out", s(&out), "--quality", "combined"])
        .ok();
}

#[test]
fn unknown_and_unsupported_signals_are_refused_with_a_reason() {
    let env = Env::new();
    env.run(&["append", DEMO_MINI]).ok();
    let r = env.run(&["quality", "compute", "lm"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("samplemix score"), "{}", r.stderr);
    let r = env.run(&["quality", "compute", "fluency"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unknown signal"), "{}", r.stderr);
    // A draw on a signal nothing computed names what to run.
    let r = env.run(&["mix", "x", "--tokens", "1000", "--quality", "repetition"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stderr.contains("samplemix quality compute repetition"),
        "{}",
        r.stderr
    );
}
