//! Crash safety: `samplemix append` killed with SIGKILL at pseudo-random moments of a
//! multi-batch input. After every kill the store must open, its tables must agree, the index
//! must hold every stored sample exactly once, and re-running the append must complete the pool
//! to exactly the count of an uninterrupted run.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{records, s, Env};
use samplemix::pool::Pool;

const ROUNDS: usize = 20;

fn append(env: &Env, file: &str) -> std::process::Command {
    let mut c = env.cmd(&["append", file, "--chunk-lines", "250"]);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn check(env: &Env, what: &str) -> u64 {
    let pool = Pool::open_writer(&env.store)
        .unwrap_or_else(|e| panic!("{what}: the store does not open after a kill: {e}"));
    let problems = pool.verify().unwrap();
    assert!(problems.is_empty(), "{what}: {problems:#?}");
    let docs = pool.counters().docs;
    pool.close().unwrap();
    docs
}

/// Starts an append, kills it with SIGKILL after `delay`, and checks the store if one exists.
fn kill_after(env: &Env, file: &str, delay: Duration, what: &str) -> Option<u64> {
    let mut child = append(env, file).spawn().unwrap();
    std::thread::sleep(delay);
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    env.store.join("db").exists().then(|| check(env, what))
}

#[test]
fn sigkill_during_append_leaves_a_consistent_store() {
    let data = records(40_000, "crash");
    let full = Env::new();
    let file = full.write("input.jsonl", data.as_bytes());
    let file = s(&file).to_string();

    let started = Instant::now();
    assert!(append(&full, &file).status().unwrap().success());
    let span = started.elapsed();
    let expected = check(&full, "uninterrupted");
    assert_eq!(expected, 40_000);

    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1000) as f64 / 1000.0
    };
    let mut partial = 0;
    for round in 1..=ROUNDS {
        // Each round: a fresh store, a kill anywhere in the first append, a second kill while
        // an append completes the partial pool, then a run to the end.
        let env = Env::new();
        let first = kill_after(
            &env,
            &file,
            span.mul_f64(1.1 * next()),
            &format!("round {round}, first kill"),
        );
        let second = kill_after(
            &env,
            &file,
            span.mul_f64(0.8 * next()),
            &format!("round {round}, second kill"),
        );
        for docs in [first, second].into_iter().flatten() {
            if docs > 0 && docs < expected {
                partial += 1;
            }
        }
        assert!(append(&env, &file).status().unwrap().success());
        assert_eq!(
            check(&env, &format!("round {round}, completed")),
            expected,
            "round {round}: re-running did not complete the pool exactly"
        );
        eprintln!(
            "round {round}: stored after kills: {first:?}, {second:?}; completed to {expected}"
        );
    }
    assert!(
        partial >= 10,
        "only {partial} kills landed mid-append; the test is not testing"
    );
}
