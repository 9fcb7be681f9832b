//! The incremental scenario, end to end through the CLI and its `--json` output: append part 1,
//! score, topics, mix; append part 2 (new crawl data) and part 1 again (all duplicates); run the
//! same commands again. Only the new samples are scored and embedded, old scores and topics are
//! kept, and the mix is re-drawn as a diff of the previous draw.
//! Uses the committed multi-domain fixture and the default model with `--max-tokens 16`.

mod common;

use common::{fixture_range as fixture, s, u, Env};
use serde_json::Value;

fn ids(jsonl: &str) -> Vec<String> {
    jsonl
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// The per-sample fields that scoring and topics write.
fn scored_fields(env: &Env, id: &str) -> Value {
    let v = env.run(&["get", id, "--json"]).ok().json();
    serde_json::json!({
        "seq": v["seq"], "tokens": v["tokens"], "mean_nll": v["mean_nll"],
        "scored_tokens": v["scored_tokens"], "fingerprint": v["fingerprint"], "topic": v["topic"],
    })
}

#[test]
fn new_data_is_scored_and_embedded_once_and_the_mix_is_redrawn_as_a_diff() {
    // Part 2 is under half of part 1, so the topics' drift rule (joined >= half the fitted rows)
    // does not ask for a refit and the new samples join the existing topics.
    let (n1, n2) = (220, 82);
    let env = Env::new();
    let part1 = env.write("part1.jsonl", fixture(0, n1).as_bytes());
    let part2 = env.write("part2.jsonl", fixture(n1, n1 + n2).as_bytes());
    // One llama.cpp thread: test binaries run two at a time on two cores.
    let score = ["score", "--max-tokens", "16", "--threads", "1", "--json"];

    // ---- the first crawl
    let a1 = env.run(&["append", s(&part1), "--json"]).ok().json();
    assert_eq!(u(&a1, "added"), n1 as u64, "{a1}");
    let s1 = env.run(&score).ok().json();
    assert_eq!(s1["model_work"], true);
    assert_eq!(u(&s1, "scored") + u(&s1, "too_short"), n1 as u64, "{s1}");
    assert_eq!(u(&s1, "already_scored"), 0);
    let t1 = env.run(&["topics", "--json"]).ok().json();
    assert_eq!(u(&t1, "processed"), n1 as u64, "{t1}");
    assert!(t1["refit"].is_object(), "the first run fits topics: {t1}");
    let budget = (u(&env.stats(), "tokens") / 2).to_string();
    let m1 = env
        .run(&["mix", "m", "--tokens", &budget, "--seed", "5", "--json"])
        .ok()
        .json();
    assert!(m1["changes"].is_null(), "a first draw has no diff: {m1}");
    // The defaults: quality-threshold on the combined signal, topics within 0.5x-2x natural.
    assert_eq!(
        m1["params"]["kernel"]["kernel"], "quality-threshold",
        "{m1}"
    );
    assert_eq!(m1["params"]["quality"], "combined", "{m1}");
    assert_eq!(
        m1["params"]["bounds"]["topic_relative"],
        serde_json::json!([0.5, 2.0]),
        "{m1}"
    );
    let drawn_before = m1["samples_drawn"].as_u64().expect("samples_drawn");

    let old_ids = ids(&fixture(0, n1));
    let watched: Vec<&String> = old_ids.iter().step_by(37).collect();
    let before: Vec<Value> = watched.iter().map(|id| scored_fields(&env, id)).collect();
    assert!(before
        .iter()
        .all(|v| v["fingerprint"].is_string() && v["topic"].is_u64()));

    // ---- new crawl data, and the old crawl again
    let a2 = env
        .run(&["append", s(&part2), s(&part1), "--json"])
        .ok()
        .json();
    // Part 2 holds a few exact copies of part-1 records (as crawls do); part 1 is all copies.
    let new = u(&a2, "added");
    let (f2, f1) = (&a2["files"][0], &a2["files"][1]);
    assert_eq!(u(f2, "added") + u(f2, "duplicates"), n2 as u64, "{a2}");
    assert_eq!(
        (u(f1, "added"), u(f1, "duplicates")),
        (0, n1 as u64),
        "{a2}"
    );
    assert!(new > n2 as u64 * 9 / 10, "{a2}");

    let s2 = env.run(&score).ok().json();
    assert_eq!(s2["model_work"], true);
    assert_eq!(
        u(&s2, "scored") + u(&s2, "too_short"),
        new,
        "only the new samples are scored: {s2}"
    );
    assert_eq!(u(&s2, "already_scored"), u(&s1, "scored"), "{s2}");
    assert_eq!(
        u(&s2, "pool_scored"),
        u(&s1, "scored") + u(&s2, "scored"),
        "{s2}"
    );

    let t2 = env.run(&["topics", "--json"]).ok().json();
    assert_eq!(
        u(&t2, "processed"),
        new,
        "only the new samples are embedded: {t2}"
    );
    assert_eq!(u(&t2, "joined"), new, "{t2}");
    assert!(t2["refit"].is_null(), "no refit: {t2}");

    // Old samples keep their scores, token counts and topics.
    let after: Vec<Value> = watched.iter().map(|id| scored_fields(&env, id)).collect();
    assert_eq!(before, after);

    // ---- the re-draw: the saved parameters over the grown pool, reported as a diff
    let m2 = env.run(&["mix", "m", "--json"]).ok().json();
    let ch = &m2["changes"];
    assert_eq!(ch["params_changed"], false, "{m2}");
    assert_eq!(u(ch, "new_pool_samples"), new, "{ch}");
    assert_eq!(
        m2["params"], m1["params"],
        "the saved parameters are reused"
    );
    eprintln!("re-draw after {new} new samples: {ch}");
    let added = u(ch, "samples_added");
    let removed = u(ch, "samples_removed");
    let unchanged = u(ch, "unchanged");
    assert!(added > 0, "new samples enter the mix: {ch}");
    assert_eq!(
        unchanged + u(ch, "count_changes") + removed,
        drawn_before,
        "the diff accounts for every sample of the previous draw: {ch}"
    );
    assert!(
        unchanged > drawn_before / 2,
        "most of the previous draw is kept (a diff, not a rebuild): {ch}"
    );
    let err = m2["budget_error"].as_f64().unwrap();
    assert!(err.abs() < 0.02, "{m2}");

    // ---- nothing new: no model work, nothing embedded, the same mix
    let s3 = env.run(&score).ok().json();
    assert_eq!(s3["model_work"], false, "{s3}");
    let t3 = env.run(&["topics", "--json"]).ok().json();
    assert_eq!(u(&t3, "processed"), 0, "{t3}");
    let m3 = env.run(&["mix", "m", "--json"]).ok().json();
    let ch = &m3["changes"];
    assert_eq!(
        (
            u(ch, "samples_added"),
            u(ch, "samples_removed"),
            u(ch, "count_changes")
        ),
        (0, 0, 0),
        "{ch}"
    );
}
