//! The `classifier` quality signal end to end: `quality train` then `quality compute classifier`
//! on the committed fixture (pool `demo-mini.jsonl`, reference `demo-mini-reference.jsonl`):
//! incremental application, retraining, labelled junk ranking, distillation, bad reference sets,
//! a model of a newer format, and crashes (fail points and SIGKILL) during training and
//! application.

mod common;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use common::fixture::{DEMO_MINI, DEMO_MINI_REFERENCE};
use common::{fixture_range, s, u, Env};
use samplemix::pool::Pool;
use samplemix::store::{ClassifierRecord, SampleRow, Signal, SignalState, CLASSIFIER_KEY};

fn train(env: &Env, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "quality",
        "train",
        "--reference",
        DEMO_MINI_REFERENCE,
        "--json",
    ];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

fn compute(env: &Env) -> serde_json::Value {
    env.run(&["quality", "compute", "classifier", "--json"])
        .ok()
        .json()
}

fn append(env: &Env, lines: &str, name: &str) -> u64 {
    let file = env.write(name, lines.as_bytes());
    env.run(&["append", s(&file)]).ok();
    u(&env.stats(), "samples")
}

/// Each sample's current classifier value, with its id and its `synthetic_noise` label.
fn values(env: &Env) -> Vec<(String, Option<String>, f32)> {
    let pool = Pool::open_reader(&env.store).unwrap();
    let store = pool.store();
    let state: SignalState = store
        .meta(&Signal::Classifier.state_key())
        .unwrap()
        .expect("the classifier's state");
    let fp = SampleRow::fingerprint_id(&state.fingerprint);
    let mut out = Vec::new();
    for item in store.signal_values(Signal::Classifier, 0) {
        let (seq, v) = item.unwrap();
        if v.fingerprint_id != fp {
            continue;
        }
        let doc = store.docs(&[seq]).unwrap().remove(0).expect("doc");
        let noise = doc.metadata.as_deref().and_then(|m| {
            let m: serde_json::Value = serde_json::from_str(m).ok()?;
            m["synthetic_noise"].as_str().map(str::to_owned)
        });
        out.push((doc.id, noise, v.raw.expect("a value")));
    }
    out
}

/// Share of each kind (`synthetic_noise` label, else the id's source prefix) in the bottom
/// fifth of the classifier's values.
fn bottom_fifth_shares(env: &Env) -> BTreeMap<String, (usize, f64)> {
    let mut v = values(env);
    v.sort_by(|a, b| a.2.total_cmp(&b.2));
    let cut = v.len() / 5;
    let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (rank, (id, noise, _)) in v.iter().enumerate() {
        let kind = noise
            .clone()
            .unwrap_or_else(|| id.split('/').next().unwrap_or("").to_string());
        let e = by.entry(kind).or_default();
        e.0 += 1;
        e.1 += usize::from(rank < cut);
    }
    by.into_iter()
        .map(|(k, (n, low))| (k, (n, low as f64 / n as f64)))
        .collect()
}

/// The demo corpus (parts 1 and 2 of `tools/build-corpus.py`) with its reference split: the
/// labelled spam, boilerplate and gibberish fall in the classifier's bottom fifth, about half
/// of the shuffled text does, and code and clean prose stay mostly above it.
#[test]
#[ignore = "needs the demo corpus in $SAMPLEMIX_DATA_DIR/demo (tools/build-corpus.py); run with \
            tools/test.sh --test quality_classifier -- --ignored"]
fn labelled_junk_of_the_demo_corpus_ranks_in_the_bottom_fifth_of_the_classifier() {
    let env = common::demo_corpus_store();
    let reference = common::demo_corpus_dir().join("reference.jsonl");
    env.run(&["quality", "train", "--reference", s(&reference)])
        .ok();
    compute(&env);
    let by = bottom_fifth_shares(&env);
    for (kind, (n, low)) in &by {
        eprintln!("{kind:12} n {n:5}  share in the bottom fifth {low:.3}");
    }
    for junk in ["spam", "boilerplate", "gibberish"] {
        let (n, low) = by[junk];
        assert!(
            n > 0 && low >= 0.8,
            "{junk}: {low:.3} of {n} in the bottom fifth"
        );
    }
    // Shuffled Wikipedia leads keep the words of good text: measured 0.507 with the reference
    // split of 1,102 samples (the goal is 0.8; BENCHMARKS.md), so this guards the level reached.
    assert!(by["shuffled"].1 >= 0.45, "shuffled: {:?}", by["shuffled"]);
    // Code is in the reference split, so the classifier no longer drops it wholesale
    // (0.585 of code in the bottom fifth without code in the reference; 0.255 with it).
    assert!(by["code"].1 < 0.35, "code: {:?}", by["code"]);
    for clean in ["books", "wiki", "faq"] {
        assert!(by[clean].1 < 0.15, "{clean}: {:?}", by[clean]);
    }
}

#[test]
fn train_and_compute_are_incremental_and_retraining_rescores_all() {
    let env = Env::new();
    let first = append(&env, &fixture_range(0, 200), "a.jsonl");
    let trained = train(&env, &[]);
    let fp = trained["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(fp.len(), 16);
    assert!(trained["previous_fingerprint"].is_null());
    assert_eq!(u(&trained, "reference_samples"), 240);
    assert_eq!(u(&trained, "negative_samples"), first);
    let c = compute(&env);
    assert_eq!(
        (u(&c, "computed"), c["work_done"].as_bool()),
        (first, Some(true))
    );
    assert_eq!(c["fingerprint"], fp.as_str());
    let again = compute(&env);
    assert_eq!(u(&again, "computed"), 0, "a second run does no work");
    assert_eq!(again["work_done"], false);

    // New samples: only they get the signal.
    let total = append(&env, &fixture_range(200, 302), "b.jsonl");
    assert!(total > first);
    let c = compute(&env);
    assert_eq!(u(&c, "computed"), total - first);
    assert_eq!(u(&c, "already_computed"), first);
    assert_eq!(u(&c, "pool_computed"), total);

    // Retraining (another seed) changes the fingerprint and rescores every sample.
    let retrained = train(&env, &["--seed", "1"]);
    let fp1 = retrained["fingerprint"].as_str().unwrap().to_string();
    assert_ne!(fp1, fp);
    assert_eq!(retrained["previous_fingerprint"], fp.as_str());
    let c = compute(&env);
    assert_eq!(u(&c, "computed"), total);
    assert_eq!(c["fingerprint"], fp1.as_str());
    assert_eq!(values(&env).len() as u64, total);

    // The same data and seed give the same model: nothing to rescore.
    let same = train(&env, &["--seed", "1"]);
    assert_eq!(same["fingerprint"], fp1.as_str());
    assert_eq!(u(&compute(&env), "computed"), 0);
    common::verify(&env, "after training and computing");
}

/// Issue 13's acceptance asks that spam, boilerplate and shuffled text of the labelled junk rank
/// in the bottom fifth of the classifier signal. On this fixture (210 reference samples without
/// code, a pool of 298) the classifier gets: every spam sample in the bottom quarter, the junk as
/// a whole in the bottom quarter on average, and each kind below the pool's median on average;
/// boilerplate and shuffled text are not all in the bottom fifth (the full demo corpus:
/// `cargo bench --bench classifier -- junk`, in `docs/method.md`).
#[test]
fn labelled_junk_ranks_low() {
    let env = Env::new();
    let text = std::fs::read_to_string(DEMO_MINI).unwrap();
    append(&env, &text, "pool.jsonl");
    train(&env, &[]);
    compute(&env);
    let mut v = values(&env);
    v.sort_by(|a, b| a.2.total_cmp(&b.2));
    let n = v.len() as f64;
    let mut by_kind: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (rank, (_, noise, _)) in v.iter().enumerate() {
        if let Some(kind @ ("spam" | "boilerplate" | "shuffled")) = noise.as_deref() {
            by_kind
                .entry(kind.to_string())
                .or_default()
                .push((rank + 1) as f64 / n);
        }
    }
    eprintln!("rank quantiles of the labelled junk: {by_kind:#?}");
    assert_eq!(by_kind.len(), 3, "{by_kind:?}");
    let mean = |q: &[f64]| q.iter().sum::<f64>() / q.len() as f64;
    assert!(by_kind["spam"].iter().all(|&q| q <= 0.25), "{by_kind:?}");
    for (kind, q) in &by_kind {
        assert!(mean(q) < 0.5, "{kind}: mean rank quantile {}", mean(q));
    }
    let all: Vec<f64> = by_kind.values().flatten().copied().collect();
    assert!(mean(&all) <= 0.25, "junk mean rank quantile {}", mean(&all));
}

#[test]
fn distillation_reports_a_held_out_spearman_and_needs_values() {
    let env = Env::new();
    append(
        &env,
        &std::fs::read_to_string(DEMO_MINI).unwrap(),
        "pool.jsonl",
    );
    let no_lm = env.run(&["quality", "train", "--distill", "lm"]);
    assert_ne!(no_lm.code, 0);
    assert!(
        no_lm.stderr.contains("samplemix score"),
        "names what to run: {}",
        no_lm.stderr
    );
    env.run(&["quality", "compute", "repetition"]).ok();
    let d = env
        .run(&["quality", "train", "--distill", "repetition", "--json"])
        .ok()
        .json();
    assert_eq!(d["objective"], "distill:repetition");
    let rho = d["held_out_spearman"].as_f64().expect("a Spearman figure");
    assert!(u(&d, "held_out") >= 40, "{d}");
    assert!(rho > 0.3, "held-out Spearman with repetition: {rho}");
    let both = env.run(&[
        "quality",
        "train",
        "--distill",
        "lm",
        "--reference",
        DEMO_MINI_REFERENCE,
    ]);
    assert_ne!(both.code, 0);
}

/// Writes `n` lines of the reference fixture (or of `texts`) as a JSONL file.
fn jsonl(texts: &[String]) -> String {
    texts
        .iter()
        .map(|t| format!("{}\n", serde_json::json!({ "text": t })))
        .collect()
}

fn german(n: usize) -> Vec<String> {
    let parts = [
        "Die Stadt liegt an einem großen Fluss und hat eine lange Geschichte.",
        "Im Winter ist es kalt, und die Menschen bleiben gern in ihren Häusern.",
        "Der Bahnhof wurde im neunzehnten Jahrhundert gebaut und später erweitert.",
        "Viele Besucher kommen wegen der alten Kirche und des schönen Marktplatzes.",
        "Die Schule hat mehr als tausend Schüler, die aus der ganzen Region kommen.",
        "Nach dem Krieg wurde die Brücke wieder aufgebaut und für den Verkehr geöffnet.",
    ];
    (0..n)
        .map(|i| {
            (0..4)
                .map(|k| parts[(i * 7 + k * 3) % parts.len()])
                .collect::<Vec<_>>()
                .join(" ")
                + &format!(" Nummer {i}.")
        })
        .collect()
}

fn no_model(env: &Env) -> bool {
    let r = env.run(&["quality", "compute", "classifier"]);
    r.code != 0 && r.stderr.contains("no classifier model")
}

#[test]
fn bad_reference_sets_get_an_error_or_a_warning_and_lose_nothing() {
    let env = Env::new();
    let docs = append(
        &env,
        &std::fs::read_to_string(DEMO_MINI).unwrap(),
        "pool.jsonl",
    );

    let empty = env.write("empty.jsonl", b"");
    let r = env.run(&["quality", "train", "--reference", s(&empty)]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("empty.jsonl") && r.stderr.contains("0 usable samples"),
        "{}",
        r.stderr
    );

    let reference = std::fs::read_to_string(DEMO_MINI_REFERENCE).unwrap();
    let tiny: String = reference
        .lines()
        .take(10)
        .map(|l| format!("{l}\n"))
        .collect();
    let tiny = env.write("tiny.jsonl", tiny.as_bytes());
    let r = env.run(&["quality", "train", "--reference", s(&tiny)]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("10 usable samples") && r.stderr.contains("at least 50"),
        "{}",
        r.stderr
    );
    assert!(no_model(&env), "nothing was stored");

    // All duplicates of the pool: a warning, the duplicates left out of the negatives.
    let dups = env.write("dups.jsonl", fixture_range(0, 120).as_bytes());
    let r = env
        .run(&["quality", "train", "--reference", s(&dups), "--json"])
        .ok();
    assert!(
        r.stderr.contains("exact duplicates of pool samples"),
        "{}",
        r.stderr
    );
    let j = r.json();
    let in_pool = u(&j, "reference_in_pool");
    assert!(in_pool >= 115, "{j}");
    assert_eq!(u(&j, "negative_samples"), docs - in_pool);

    // Another language: a warning naming it.
    let de = env.write("de.jsonl", jsonl(&german(80)).as_bytes());
    let r = env.run(&["quality", "train", "--reference", s(&de)]).ok();
    assert!(r.stderr.contains("another language"), "{}", r.stderr);
    let ok = env
        .run(&["quality", "train", "--reference", DEMO_MINI_REFERENCE])
        .ok();
    assert!(!ok.stderr.contains("warning"), "{}", ok.stderr);
    assert_eq!(u(&env.stats(), "samples"), docs, "no sample lost");
}

/// Marks the stored model as written by a newer samplemix (format 2), as a newer build would.
fn make_model_newer(env: &Env) -> ClassifierRecord {
    let pool = Pool::open_writer(&env.store).unwrap();
    let store = pool.store();
    let mut record: ClassifierRecord = store.meta(CLASSIFIER_KEY).unwrap().expect("a model");
    record.model_format = 2;
    record.model[4..6].copy_from_slice(&2u16.to_le_bytes());
    let mut batch = store.batch();
    batch.put_meta(CLASSIFIER_KEY, &record);
    batch.commit().unwrap();
    pool.close().unwrap();
    record
}

#[test]
fn a_model_of_a_newer_format_is_refused_and_kept() {
    let env = Env::new();
    let docs = append(&env, &fixture_range(0, 120), "pool.jsonl");
    train(&env, &[]);
    let newer = make_model_newer(&env);
    let r = env.run(&["quality", "compute", "classifier"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("format 2 is newer") && r.stderr.contains("upgrade samplemix"),
        "{}",
        r.stderr
    );
    let r = env.run(&["quality", "train", "--reference", DEMO_MINI_REFERENCE]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("newer than this samplemix"),
        "{}",
        r.stderr
    );
    let pool = Pool::open_reader(&env.store).unwrap();
    let kept: ClassifierRecord = pool.store().meta(CLASSIFIER_KEY).unwrap().unwrap();
    assert_eq!(kept, newer, "the newer model is kept as it was");
    assert_eq!(pool.counters().docs, docs);
}

/// After a crash: the store opens as a writer, verifies, and keeps its samples.
fn check_opens(env: &Env, docs: u64, what: &str) {
    let pool = Pool::open_writer(&env.store)
        .unwrap_or_else(|e| panic!("{what}: the store does not open: {e}"));
    let problems = pool.verify().unwrap();
    assert!(problems.is_empty(), "{what}: {problems:#?}");
    assert_eq!(pool.counters().docs, docs, "{what}");
    pool.close().unwrap();
}

#[test]
fn a_crash_during_train_or_compute_leaves_a_store_that_finishes() {
    let env = Env::new();
    let docs = append(
        &env,
        &std::fs::read_to_string(DEMO_MINI).unwrap(),
        "pool.jsonl",
    );
    // Abort where the model is written: no model, then a re-run stores one.
    let r = env.run_failing(
        "store.batch:1:abort",
        &["quality", "train", "--reference", DEMO_MINI_REFERENCE],
    );
    assert_ne!(r.code, 0, "the fail point ended the process");
    check_opens(&env, docs, "abort in train");
    assert!(no_model(&env), "the aborted training stored nothing");
    let fp = train(&env, &[])["fingerprint"]
        .as_str()
        .unwrap()
        .to_string();

    // Abort in the third batch of 50 of the pass: 100 samples kept, the re-run does the rest.
    let r = env.run_failing(
        "store.batch:3:abort",
        &["quality", "compute", "classifier", "--batch-samples", "50"],
    );
    assert_ne!(r.code, 0);
    check_opens(&env, docs, "abort in compute");
    let c = compute(&env);
    assert_eq!(
        (u(&c, "already_computed"), u(&c, "computed")),
        (100, docs - 100)
    );
    assert_eq!(c["fingerprint"], fp.as_str());

    // SIGKILL at moments spread over a training and a full pass of a retrained model.
    for (round, ms) in [30u64, 120, 250, 400, 700].into_iter().enumerate() {
        let seed = (round + 2).to_string();
        for args in [
            vec![
                "quality",
                "train",
                "--reference",
                DEMO_MINI_REFERENCE,
                "--seed",
                &seed,
            ],
            vec!["quality", "compute", "classifier", "--batch-samples", "20"],
        ] {
            let mut child = env
                .cmd(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(ms));
            let _ = child.kill();
            child.wait().unwrap();
            check_opens(&env, docs, &format!("SIGKILL after {ms} ms of {args:?}"));
        }
    }
    let trained = train(&env, &["--seed", "9"]);
    let c = compute(&env);
    assert_eq!(u(&c, "pool_computed"), docs);
    assert_eq!(c["fingerprint"], trained["fingerprint"]);
    assert_eq!(u(&compute(&env), "computed"), 0);
}
