//! The reference model's embeddings (store format 3): `score` stores one per sample beside its
//! score, incrementally; `topics --embedding model` clusters on them, refuses while some samples
//! lack one, and keeps the choice; an abort mid-score or mid-refit leaves a store that verifies,
//! and the next run finishes the work. Few tokens per sample (`--max-tokens 16`).

mod common;

use common::{fixture_lines as fixture, s, u, verify, Env, Run};
use serde_json::Value;

fn score(env: &Env, extra: &[&str]) -> Value {
    let mut args = vec!["score", "--max-tokens", "16", "--threads", "1", "--json"];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

fn topics(env: &Env, extra: &[&str]) -> Run {
    let mut args = vec!["topics", "--json"];
    args.extend_from_slice(extra);
    env.run(&args)
}

#[test]
fn score_stores_embeddings_incrementally_and_fills_in_older_scores() {
    let env = Env::new();
    let a = env.write("a.jsonl", fixture(0, 20).as_bytes());
    env.run(&["append", s(&a)]).ok();
    // Scored without embeddings first, as before this feature.
    let plain = score(&env, &["--no-embeddings"]);
    assert_eq!((u(&plain, "scored"), u(&plain, "embedded")), (20, 0));
    assert!(plain["embedding_dim"].is_null(), "{plain}");
    // The next run with embeddings evaluates them again: same scores, now embedded, and it
    // says so before the model pass.
    let run = env.run(&["score", "--max-tokens", "16", "--threads", "1", "--json"]);
    assert!(
        run.stderr
            .contains("20 samples already scored under this model have no model embedding"),
        "{}",
        run.stderr
    );
    let filled = run.ok().json();
    assert_eq!(filled["model_work"], true, "{filled}");
    assert_eq!(u(&filled, "embedded"), 20);
    assert_eq!(filled["embedding_dim"], 576);
    assert_eq!(filled["fingerprint"], plain["fingerprint"]);
    verify(&env, "after filling in");
    // Nothing left: no model work.
    let again = score(&env, &[]);
    assert_eq!(again["model_work"], false, "{again}");
    // New samples: only they.
    let b = env.write("b.jsonl", fixture(20, 6).as_bytes());
    env.run(&["append", s(&b)]).ok();
    let more = score(&env, &[]);
    assert_eq!(
        (
            u(&more, "scored") + u(&more, "too_short"),
            u(&more, "embedded")
        ),
        (6, 6)
    );
    assert_eq!(u(&more, "already_scored"), 20);
    verify(&env, "after the append");
}

#[test]
fn topics_on_model_embeddings_is_a_kept_choice_refused_while_some_lack_one() {
    let env = Env::new();
    let a = env.write("a.jsonl", fixture(0, 24).as_bytes());
    env.run(&["append", s(&a)]).ok();
    let refused = topics(&env, &["--embedding", "model"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("samplemix score"),
        "{}",
        refused.stderr
    );
    score(&env, &["--no-embeddings"]);
    let refused = topics(&env, &["--embedding", "model"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("24 of the pool's 24 samples have no model embedding"),
        "{}",
        refused.stderr
    );
    score(&env, &[]);
    let first = topics(&env, &["--embedding", "model", "--topics", "3"])
        .ok()
        .json();
    assert_eq!(first["refit"]["k"], 3, "{first}");
    assert!(
        first["state"]["embedding"]
            .as_str()
            .unwrap()
            .contains("reference model"),
        "{first}"
    );
    verify(&env, "after the fit on model embeddings");
    // The choice is kept: a plain run does nothing more.
    let kept = topics(&env, &[]).ok().json();
    assert!(kept["refit"].is_null(), "{kept}");
    // New samples not yet scored: refused, with the count.
    let b = env.write("b.jsonl", fixture(24, 5).as_bytes());
    env.run(&["append", s(&b)]).ok();
    let refused = topics(&env, &[]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("5 of the pool's 29 samples"),
        "{}",
        refused.stderr
    );
    score(&env, &[]);
    let joined = topics(&env, &["--keep-topics"]).ok().json();
    assert_eq!(
        (u(&joined, "joined"), joined["refit"].is_null()),
        (5, true),
        "{joined}"
    );
    verify(&env, "after the join");
    // Back to hashed: a refit, with the reason.
    let back = topics(&env, &["--embedding", "hashed"]).ok().json();
    assert_eq!(
        back["refit"]["reason"], "embeddings changed from model to hashed",
        "{back}"
    );
    verify(&env, "after going back to hashed");
}

#[test]
fn aborts_mid_score_and_mid_refit_leave_a_store_that_verifies_and_finishes() {
    let env = Env::new();
    let a = env.write("a.jsonl", fixture(40, 16).as_bytes());
    env.run(&["append", s(&a)]).ok();
    // The second store batch of the score pass aborts: the first batch (4 samples) is in.
    let r = env.run_failing(
        "store.batch:2:abort",
        &[
            "score",
            "--max-tokens",
            "16",
            "--threads",
            "1",
            "--batch-samples",
            "4",
        ],
    );
    assert_eq!(r.code, -1, "{}", r.stderr);
    verify(&env, "after the aborted score");
    let rest = score(&env, &[]);
    assert_eq!(u(&rest, "embedded"), 12, "{rest}");
    verify(&env, "after the rerun");
    // A refit onto model embeddings aborts while its topics are written (chunks of 4).
    topics(&env, &["--topics", "2", "--embedding", "hashed"]).ok();
    let r = env.run_failing(
        "store.batch:3:abort",
        &["topics", "--embedding", "model", "--chunk", "4"],
    );
    assert_eq!(r.code, -1, "{}", r.stderr);
    verify(&env, "after the aborted refit");
    // The next run finishes that refit on the model's embeddings, and keeps the choice.
    let done = topics(&env, &["--chunk", "4"]).ok().json();
    assert!(
        done["state"]["embedding"]
            .as_str()
            .unwrap()
            .contains("reference model"),
        "{done}"
    );
    assert_eq!(done["state"]["refit_in_progress"], false);
    verify(&env, "after finishing the refit");
}
