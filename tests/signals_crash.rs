//! Crash safety of the signal pass: `samplemix quality compute repetition` killed with SIGKILL at
//! pseudo-random moments. After every kill the store must open and verify, the values stored so
//! far must be exactly those of an uninterrupted run, and a re-run must compute only the rest.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{records, s, u, Env};
use samplemix::pool::Pool;
use samplemix::store::{Signal, SignalRecord, Store};

const SAMPLES: usize = 40_000;
const ROUNDS: usize = 8;

fn compute(env: &Env) -> std::process::Command {
    let mut c = env.cmd(&["quality", "compute", "repetition", "--batch-samples", "256"]);
    c.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Every stored repetition value, in sequence order, after checking that the store opens as a
/// writer and verifies.
fn values(env: &Env, what: &str) -> Vec<(u64, SignalRecord)> {
    let pool = Pool::open_writer(&env.store)
        .unwrap_or_else(|e| panic!("{what}: the store does not open after a kill: {e}"));
    let problems = pool.verify().unwrap();
    assert!(problems.is_empty(), "{what}: {problems:#?}");
    pool.close().unwrap();
    let store = Store::open_reader(&env.store).unwrap();
    store
        .signal_values(Signal::Repetition, 0)
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn sigkill_during_the_signal_pass_leaves_a_store_that_a_rerun_completes() {
    let data = records(SAMPLES, "sig");
    let base = Env::new();
    let file = base.write("input.jsonl", data.as_bytes());
    base.run(&["append", s(&file)]).ok();

    // The uninterrupted run: its values are what every interrupted one must end with.
    let full = Env::copy_of(&base.store);
    let started = Instant::now();
    assert!(compute(&full).status().unwrap().success());
    let span = started.elapsed();
    let expected = values(&full, "uninterrupted");
    assert_eq!(expected.len(), SAMPLES);

    let mut seed: u64 = 0x5151_c0ff_ee00_1234;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1000) as f64 / 1000.0
    };
    let mut partial = 0;
    for round in 1..=ROUNDS {
        let env = Env::copy_of(&base.store);
        let mut child = compute(&env).spawn().unwrap();
        std::thread::sleep(span.mul_f64(1.2 * next()).max(Duration::from_millis(20)));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let got = values(&env, &format!("round {round}, after the kill"));
        // What is stored is a prefix-free subset of the full run's values, value for value.
        for (seq, v) in &got {
            assert_eq!(&expected[*seq as usize].1, v, "round {round}, seq {seq}");
        }
        if !got.is_empty() && got.len() < SAMPLES {
            partial += 1;
        }
        let r = env
            .run(&["quality", "compute", "repetition", "--json"])
            .ok()
            .json();
        assert_eq!(
            (
                u(&r, "computed"),
                u(&r, "already_computed"),
                u(&r, "pool_computed")
            ),
            (
                (SAMPLES - got.len()) as u64,
                got.len() as u64,
                SAMPLES as u64
            ),
            "round {round}: the re-run did not compute exactly the rest"
        );
        assert_eq!(
            values(&env, &format!("round {round}, completed")),
            expected,
            "round {round}"
        );
        eprintln!(
            "round {round}: {} of {SAMPLES} stored at the kill",
            got.len()
        );
    }
    assert!(
        partial >= ROUNDS / 2,
        "only {partial} kills landed mid-pass; the test is not testing"
    );
}
