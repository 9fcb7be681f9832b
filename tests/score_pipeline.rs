//! `samplemix score` over a real pool with the real default model: incremental (only new or
//! re-fingerprinted samples are scored), resumable after SIGKILL, too-short samples counted and
//! excluded, quality queries, and bad model files refused without touching the store.
//! Short `--max-tokens` keeps the model work small (a few thousand tokens per test).

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{fixture_lines as fixture, line, s, Env};
use samplemix::pool::Pool;
use serde_json::json;

fn score(env: &Env, extra: &[&str]) -> serde_json::Value {
    // One llama.cpp thread per test: tests run two at a time on two cores.
    let mut args = vec!["score", "--max-tokens", "24", "--threads", "1", "--json"];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

#[test]
fn scoring_is_incremental_and_follows_the_fingerprint() {
    let env = Env::new();
    let f = env.write("a.jsonl", fixture(0, 30).as_bytes());
    env.run(&["append", s(&f)]).ok();
    let first = score(&env, &[]);
    assert_eq!(first["model_work"], true);
    assert_eq!(first["scored"], 30);
    assert_eq!(first["already_scored"], 0);
    assert!(first["tokens_scored"].as_u64().unwrap() <= 30 * 24);

    let again = score(&env, &[]);
    assert_eq!(
        again["model_work"], false,
        "a scored pool needs no model work: {again}"
    );
    assert_eq!(again["pool_scored"], 30);

    // New data: only it is scored.
    let g = env.write("b.jsonl", fixture(30, 12).as_bytes());
    env.run(&["append", s(&g)]).ok();
    let third = score(&env, &[]);
    assert_eq!(
        (third["scored"].as_u64(), third["already_scored"].as_u64()),
        (Some(12), Some(30)),
        "{third}"
    );
    assert_eq!(third["fingerprint"], first["fingerprint"]);

    // Another setting that changes results is another fingerprint: everything is rescored.
    let other = env
        .run(&["score", "--max-tokens", "16", "--threads", "1", "--json"])
        .ok()
        .json();
    assert_ne!(other["fingerprint"], first["fingerprint"]);
    assert_eq!(other["scored"], 42);

    // Token counts are now the model's, and the index carries the scores.
    let st = env.stats();
    assert_eq!(st["tokens_estimated"], 0);
    assert_eq!(st["scored"], 42);
    let pool = Pool::open_reader(&env.store).unwrap();
    assert!(pool.verify().unwrap().is_empty());
}

#[test]
fn quality_queries_rank_by_mean_nll() {
    let env = Env::new();
    let f = env.write("a.jsonl", fixture(40, 40).as_bytes());
    env.run(&["append", s(&f)]).ok();
    // Before scoring, quality filters match nothing.
    assert_eq!(
        env.run(&["query", "--min-quality", "0", "--json"])
            .ok()
            .json()["total"],
        0
    );
    score(&env, &[]);
    let all = env
        .run(&["query", "--sort", "quality", "--limit", "100", "--json"])
        .ok()
        .json();
    assert_eq!(all["total"], 40);
    let hits = all["hits"].as_array().unwrap();
    let nll: Vec<f64> = hits
        .iter()
        .map(|h| h["mean_nll"].as_f64().unwrap())
        .collect();
    assert!(
        nll.windows(2).all(|w| w[0] <= w[1]),
        "sorted by quality = ascending mean NLL: {nll:?}"
    );
    let q: Vec<f64> = hits
        .iter()
        .map(|h| h["quality"].as_f64().unwrap())
        .collect();
    assert!(q.windows(2).all(|w| w[0] >= w[1]));
    assert!(
        (q[0] - (1.0 - 0.5 / 40.0)).abs() < 1e-9,
        "best sample's q is 1 - 0.5/n: {}",
        q[0]
    );
    let top = env
        .run(&["query", "--min-quality", "0.75", "--limit", "100", "--json"])
        .ok()
        .json();
    assert_eq!(top["total"], 10, "q >= 0.75 keeps the best quarter of 40");
    assert!(top["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["quality"].as_f64().unwrap() >= 0.75));
    let low = env
        .run(&["query", "--max-quality", "0.25", "--limit", "100", "--json"])
        .ok()
        .json();
    assert_eq!(low["total"], 10);
    // get shows the raw figures.
    let id = hits[0]["id"].as_str().unwrap();
    let g = env.run(&["get", id, "--json"]).ok().json();
    assert_eq!(g["mean_nll"], hits[0]["mean_nll"]);
    assert!(g["perplexity"].as_f64().unwrap() > 1.0);
    assert_eq!(g["tokens_estimated"], false);
    assert!(g["scored_tokens"].as_u64().unwrap() > 0);
}

#[test]
fn too_short_samples_are_counted_and_never_ranked() {
    let env = Env::new();
    let data = [
        line(json!({"id": "one", "text": "a"})),
        line(json!({"id": "prose", "text": "The river runs slowly through the old town, past the mill and the church."})),
        line(json!({"id": "zh", "text": "长江是亚洲最长的河流，也是世界第三长的河流。"})),
        line(json!({"id": "binary", "text": "\u{1}\u{7f}\u{fffd}\u{fffd}\u{3}\u{10}x\u{fffd}"})),
    ]
    .concat();
    env.run_stdin(&["append", "-"], data.as_bytes()).ok();
    let r = score(&env, &[]);
    assert_eq!(
        (r["scored"].as_u64(), r["too_short"].as_u64()),
        (Some(3), Some(1)),
        "{r}"
    );
    let one = env.run(&["get", "one", "--json"]).ok().json();
    assert_eq!(one["scored_tokens"], 0);
    assert!(one["quality"].is_null() && one["mean_nll"].is_null());
    let st = env.stats();
    assert_eq!(
        (st["scored"].as_u64(), st["too_short"].as_u64()),
        (Some(3), Some(1))
    );
    let ranked = env
        .run(&["query", "--sort", "quality", "--json"])
        .ok()
        .json();
    assert_eq!(ranked["total"], 3);
    assert!(ranked["hits"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["id"] != "one"));
}

#[test]
fn bad_model_files_are_refused_and_nothing_is_stored() {
    let env = Env::new();
    let f = env.write("a.jsonl", fixture(0, 3).as_bytes());
    env.run(&["append", s(&f)]).ok();
    let missing = env.path("nope.gguf");
    let r = env.run(&["score", "--model", s(&missing)]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("does not exist") && r.stderr.contains("tools/fetch-model.sh"),
        "{}",
        r.stderr
    );
    let junk = env.write("junk.gguf", b"this is not a model at all, just text");
    let r = env.run(&["score", "--model", s(&junk)]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not a GGUF model file"), "{}", r.stderr);
    assert_eq!(env.stats()["scored"], 0);
}

#[test]
fn sigkill_while_scoring_loses_at_most_the_batch_in_flight() {
    let env = Env::new();
    let f = env.write("a.jsonl", fixture(100, 48).as_bytes());
    env.run(&["append", s(&f)]).ok();
    let mut child = env
        .cmd(&[
            "score",
            "--max-tokens",
            "24",
            "--threads",
            "1",
            "--batch-samples",
            "4",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as a reader sees some batches stored.
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let scored = env.run(&["stats", "--json"]).json()["scored"]
            .as_u64()
            .unwrap_or(0);
        if scored >= 8 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "scoring ended before it could be killed"
        );
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let pool = Pool::open_writer(&env.store).unwrap();
    assert!(pool.verify().unwrap().is_empty());
    pool.close().unwrap();
    let before = env.stats()["scored"].as_u64().unwrap();
    assert!((8..48).contains(&before), "{before}");
    let rest = score(&env, &[]);
    assert_eq!(
        rest["scored"].as_u64().unwrap(),
        48 - before,
        "the rerun scores exactly the rest"
    );
    assert_eq!(rest["pool_scored"], 48);
    assert_eq!(
        env.run(&["query", "--min-quality", "0", "--json"])
            .ok()
            .json()["total"],
        48
    );
}
