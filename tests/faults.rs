//! Fault injection beside the SIGKILL tests of `crash.rs`: deterministic failure points in the
//! write paths (`SAMPLEMIX_FAILPOINT=NAME[:NTH][:abort|error]`, see `src/failpoint.rs`). After
//! every injected abort or error the store must open, `Pool::verify` must find nothing, nothing
//! committed before must be lost, and running the command again must finish the work.

mod common;

use common::{records, s, Env, Run};
use samplemix::pool::Pool;
use serde_json::Value;

/// The run stopped where it was told to: killed by the abort, or exit 1 naming the point.
fn assert_failed_at(r: &Run, point: &str) {
    let name = point.split(':').next().unwrap();
    assert!(
        r.stderr.contains(&format!("fail point {name}")),
        "{point}: the fail point was not reached: {}",
        r.stderr
    );
    if point.ends_with(":error") {
        assert_eq!(r.code, 1, "{point}: {}", r.stderr);
        assert!(r.stderr.contains("injected failure"), "{}", r.stderr);
    } else {
        assert_eq!(r.code, -1, "{point}: not killed by the abort: {}", r.stderr);
    }
}

/// Opens the store as writer (which repairs the index), verifies it, returns the samples.
fn verified(env: &Env, what: &str) -> u64 {
    let pool = Pool::open_existing_writer(&env.store)
        .unwrap_or_else(|e| panic!("{what}: the store does not open: {e}"));
    let problems = pool.verify().unwrap();
    assert!(problems.is_empty(), "{what}: {problems:#?}");
    let docs = pool.counters().docs;
    pool.close().unwrap();
    docs
}

fn mixes(env: &Env) -> Value {
    env.stats()["mixes"].clone()
}

#[test]
fn a_failure_while_creating_a_store_leaves_one_that_append_finishes() {
    for point in ["store.create", "store.create:error"] {
        let env = Env::new();
        let f = env.write("a.jsonl", records(50, "c").as_bytes());
        let r = env.run_failing(point, &["append", s(&f)]);
        assert_failed_at(&r, point);
        assert!(env.store.join("db").is_dir(), "{point}");
        assert!(!env.store.join("FORMAT").exists(), "{point}");
        // Never fully created: readers see no store, the next append finishes it.
        let st = env.run(&["stats"]);
        assert_eq!(st.code, 1, "{point}");
        assert!(st.stderr.contains("no store at"), "{point}: {}", st.stderr);
        let top = env.run(&["topics"]);
        assert!(
            top.stderr.contains("no store at"),
            "{point}: {}",
            top.stderr
        );
        env.run(&["append", s(&f)]).ok();
        assert_eq!(verified(&env, point), 50);
    }
    // A creation stopped inside RocksDB (db.creating/ left behind) is started again.
    let env = Env::new();
    std::fs::create_dir_all(env.store.join("db.creating")).unwrap();
    std::fs::write(env.store.join("db.creating/MANIFEST-000001"), b"partial").unwrap();
    let f = env.write("a.jsonl", records(5, "c").as_bytes());
    env.run(&["append", s(&f)]).ok();
    assert!(!env.store.join("db.creating").exists());
    assert_eq!(verified(&env, "db.creating"), 5);
}

#[test]
fn failures_in_append_lose_nothing_committed_and_a_rerun_completes() {
    let base = records(300, "base");
    let more = records(1000, "more");
    for point in [
        "store.batch:1",
        "store.batch:4",
        "store.batch:11",
        "store.batch:2:error",
        "index.commit:1",
        "index.commit:1:error",
    ] {
        let env = Env::new();
        let a = env.write("a.jsonl", base.as_bytes());
        let b = env.write("b.jsonl", more.as_bytes());
        env.run(&["append", s(&a), "--chunk-lines", "100"]).ok();
        let committed = verified(&env, "before");
        assert_eq!(committed, 300);
        let r = env.run_failing(point, &["append", s(&b), "--chunk-lines", "100"]);
        assert_failed_at(&r, point);
        let after = verified(&env, point);
        assert!(
            (committed..=1300).contains(&after) && after.is_multiple_of(100),
            "{point}: {after} samples: not at a chunk boundary above what was committed"
        );
        // Nothing committed before is lost.
        assert_eq!(
            env.run(&["get", "base-299", "--json"]).ok().json()["id"],
            "base-299"
        );
        env.run(&["append", s(&a), s(&b), "--chunk-lines", "100"])
            .ok();
        assert_eq!(
            verified(&env, point),
            1300,
            "{point}: the re-run did not complete"
        );
        let q = env.run(&["query", "\"sample 999\"", "--json"]).ok().json();
        assert_eq!(q["hits"][0]["id"], "more-999", "{point}");
    }
}

#[test]
fn failures_in_topics_and_mix_lose_nothing_committed_and_a_rerun_completes() {
    let env = Env::new();
    let a = env.write("a.jsonl", records(400, "t").as_bytes());
    env.run(&["append", s(&a)]).ok();
    env.run(&["mix", "m", "--kernel", "natural", "--tokens", "2000"])
        .ok();
    let saved = mixes(&env);
    assert_eq!(saved[0]["tokens"].as_u64().map(|t| t > 0), Some(true));
    for point in [
        "store.batch:1",
        "store.batch:2",
        "index.commit:1",
        "store.batch:1:error",
    ] {
        let r = env.run_failing(point, &["topics", "--topics", "4", "--chunk", "100"]);
        assert_failed_at(&r, point);
        assert_eq!(verified(&env, point), 400, "{point}");
        assert_eq!(mixes(&env), saved, "{point}");
    }
    env.run(&["topics", "--topics", "4", "--chunk", "100"]).ok();
    assert_eq!(verified(&env, "topics re-run"), 400);
    assert!(env.stats()["topics"].is_object(), "{}", env.stats());

    for point in ["mix.save", "mix.save:error", "store.batch:1"] {
        let r = env.run_failing(
            point,
            &["mix", "m", "--kernel", "natural", "--tokens", "5000"],
        );
        assert_failed_at(&r, point);
        assert_eq!(verified(&env, point), 400);
        assert_eq!(mixes(&env), saved, "{point}: the saved mix changed");
    }
    env.run(&["mix", "m", "--kernel", "natural", "--tokens", "5000"])
        .ok();
    let redrawn = mixes(&env);
    assert_ne!(redrawn, saved);
    assert_eq!(redrawn[0]["name"], "m");
}
