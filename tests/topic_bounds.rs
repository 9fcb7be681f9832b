//! `mix --topic-bounds` end to end on the committed multi-domain fixture (no model needed: the
//! kernel here uses d(x) only): the topics the free draw leaves under half their natural share
//! are brought within the bounds, `--json` and the report list them, the bounds are saved with
//! the mix and reused by a re-draw, and impossible bounds are refused with a clear message.

mod common;

use common::fixture::DEMO_MINI;
use common::{s, Env};
use serde_json::Value;

fn pool() -> (Env, String) {
    let env = Env::new();
    env.run(&["append", DEMO_MINI]).ok();
    env.run(&["topics", "--topics", "8"]).ok();
    let budget = env.stats()["tokens"].as_u64().unwrap() / 3;
    (env, budget.to_string())
}

fn under_half(report: &Value) -> Vec<u64> {
    report["topics"]["under_half"]
        .as_array()
        .unwrap_or_else(|| panic!("no topics.under_half in {report}"))
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

/// Each topic's share of the mix over its share of the pool, from the report's topic table.
fn topic_ratios(env: &Env, mix: &str) -> Vec<f64> {
    let out = env.path(&format!("report-{mix}"));
    env.run(&["report", mix, "--out", s(&out)]).ok();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let topics = report["topics"]["topics"].as_array().unwrap().clone();
    let sum = |i: usize| topics.iter().map(|t| t[i].as_f64().unwrap()).sum::<f64>();
    let (pool, mixed) = (sum(1), sum(2));
    let ratios: Vec<f64> = topics
        .iter()
        .map(|t| (t[2].as_f64().unwrap() / mixed) / (t[1].as_f64().unwrap() / pool))
        .collect();
    let listed: Vec<u64> = report["topics"]["under_half"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let computed: Vec<u64> = topics
        .iter()
        .zip(&ratios)
        .filter(|(_, &r)| r < 0.5)
        .map(|(t, _)| t[0].as_u64().unwrap())
        .collect();
    assert_eq!(listed, computed, "the report's under_half list");
    ratios
}

#[test]
fn topic_bounds_lift_the_starved_topics() {
    let (env, budget) = pool();
    let args = ["--tokens", &budget, "--kernel", "linear", "--alpha", "1"];
    let mut free_args = vec!["mix", "free"];
    free_args.extend(args);
    // A weighting kernel gets topic bounds 0.5,2 by default: `off` draws without them.
    free_args.extend(["--topic-bounds", "off", "--json"]);
    let free = env.run(&free_args).ok().json();
    assert!(
        !under_half(&free).is_empty(),
        "the free draw should starve a topic: {}",
        free["topics"]
    );
    assert_eq!(free["topics"]["under_half_count"], under_half(&free).len());

    let mut bounded_args = vec!["mix", "bounded"];
    bounded_args.extend(args);
    bounded_args.extend(["--topic-bounds", "0.5,2", "--json"]);
    let bounded = env.run(&bounded_args).ok().json();
    assert_eq!(
        under_half(&bounded),
        Vec::<u64>::new(),
        "{}",
        bounded["topics"]
    );
    assert_eq!(
        bounded["params"]["bounds"]["topic_relative"],
        serde_json::json!([0.5, 2.0])
    );
    // About 100 samples drawn, most topics held at a bound (rounded to their side of it): the
    // budget holds to a few samples (on the 2,973-sample demo store: within 0.5%).
    let err = bounded["budget_error"].as_f64().unwrap();
    assert!(err.abs() < 0.05, "{bounded}");
    for r in topic_ratios(&env, "bounded") {
        assert!((0.5..=2.1).contains(&r), "{r}");
    }
    topic_ratios(&env, "free");

    // A re-draw reuses the saved bounds; --no-bounds drops them.
    let again = env.run(&["mix", "bounded", "--json"]).ok().json();
    assert_eq!(again["changes"]["params_changed"], false);
    assert_eq!(again["changes"]["count_changes"], 0);
    assert_eq!(again["topics"], bounded["topics"]);
    let dropped = env
        .run(&["mix", "bounded", "--no-bounds", "--json"])
        .ok()
        .json();
    assert!(dropped["params"]["bounds"].get("topic_relative").is_none());
    assert_eq!(under_half(&dropped), under_half(&free));

    // The text output names the topics under half.
    let text = env.run(&["mix", "free"]).ok().stdout;
    assert!(
        text.contains(&format!(
            "{} under half their natural share",
            under_half(&free).len()
        )),
        "{text}"
    );
}

fn refused(run: common::Run) -> String {
    assert_ne!(run.code, 0, "stdout: {}", run.stdout);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    run.stderr
}

#[test]
fn impossible_topic_bounds_are_refused() {
    let (env, budget) = pool();
    for (bounds, needle) in [
        ("2,3", "topic bounds = 2,3 is invalid"),
        ("0.5", "--topic-bounds \"0.5\": expected LOW,HIGH"),
        ("x,2", "--topic-bounds: LOW is not a number"),
    ] {
        let err = refused(env.run(&[
            "mix",
            "m",
            "--tokens",
            &budget,
            "--kernel",
            "natural",
            "--topic-bounds",
            bounds,
        ]));
        assert!(err.contains(needle), "{bounds}: {err}");
    }
    // More than the pool holds: the budget's own error, not the topics'.
    let twice = (2 * env.stats()["tokens"].as_u64().unwrap()).to_string();
    let err = refused(env.run(&[
        "mix",
        "m",
        "--tokens",
        &twice,
        "--kernel",
        "natural",
        "--max-repeat",
        "1",
        "--topic-bounds",
        "0.5,1",
    ]));
    assert!(err.contains("the pool cannot reach"), "{err}");
    // Without topics, the flag says what to run.
    let bare = Env::new();
    bare.run(&["append", DEMO_MINI]).ok();
    let err = refused(bare.run(&[
        "mix",
        "m",
        "--tokens",
        &budget,
        "--kernel",
        "natural",
        "--topic-bounds",
        "0.5,2",
    ]));
    assert!(err.contains("samplemix topics"), "{err}");
}

/// A small budget under the default topic bounds: a topic held at a bound rounds as one group,
/// so the draw stays near the budget. (When every (source, topic) cell of a held topic rounded to
/// its side of the bound, this draw, about 30 samples, went 64-85% over the budget.)
#[test]
fn held_topics_round_whole_and_keep_the_budget() {
    let env = Env::new();
    env.run(&["append", DEMO_MINI]).ok();
    env.run(&["quality", "compute", "repetition"]).ok();
    env.run(&["topics"]).ok();
    let budget = (env.stats()["tokens"].as_u64().unwrap() / 10).to_string();
    for seed in ["1", "2", "3"] {
        let m = env
            .run(&[
                "mix", "m", "--fresh", "--tokens", &budget, "--seed", seed, "--json",
            ])
            .ok()
            .json();
        assert_eq!(
            m["params"]["bounds"]["topic_relative"],
            serde_json::json!([0.5, 2.0])
        );
        assert_eq!(
            m["params"]["bounds"]["held_topics_round_whole"], true,
            "{m}"
        );
        let err = m["budget_error"].as_f64().unwrap();
        // About 30 samples of some 270 tokens (the largest over 1,000): within a few samples.
        assert!(err.abs() < 0.15, "seed {seed}: {err} off the budget: {m}");
    }
}
