//! `samplemix eval --judge transformer`: a small byte-level transformer trained on each mix, on
//! the committed multi-domain fixture (no reference model needed). A small configuration keeps
//! the whole file well under two minutes on 2 cores.

mod common;

use common::fixture::{DEMO_MINI as POOL, DEMO_MINI_HELDOUT as HELDOUT};
use common::Env;
use serde_json::Value;

/// A small judge: 2 blocks of width 64, 64-byte context, windows of 16 (steps: [`STEPS`]).
const SMALL: &[&str] = &[
    "--judge",
    "transformer",
    "--judge-d-model",
    "64",
    "--judge-layers",
    "2",
    "--judge-heads",
    "2",
    "--judge-context",
    "64",
    "--judge-batch",
    "16",
    "--judge-lr",
    "0.003",
    "--judge-heldout-bytes",
    "256",
];

fn pool() -> Env {
    let env = Env::new();
    env.run(&["append", POOL]).ok();
    let budget = (env.stats()["tokens"].as_u64().unwrap() / 3).to_string();
    env.run(&["mix", "natural", "--kernel", "natural", "--tokens", &budget])
        .ok();
    // A deliberately bad mix: web pages only, where the fixture's planted junk (spam,
    // boilerplate, shuffled and gibberish text) lives; the held-out text has no web pages.
    env.run(&[
        "mix",
        "web-only",
        "--kernel",
        "domain",
        "--domain-weights",
        "web=1",
        "--tokens",
        &budget,
    ])
    .ok();
    env
}

/// Optimiser steps of the small judge unless a test names its own.
const STEPS: &[&str] = &["--judge-steps", "160"];

fn judge(env: &Env, names: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["eval"];
    args.extend_from_slice(names);
    args.extend_from_slice(&["--heldout", HELDOUT, "--json"]);
    args.extend_from_slice(SMALL);
    if !extra.contains(&"--judge-steps") {
        args.extend_from_slice(STEPS);
    }
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

/// `args` with the value after `flag` replaced (clap refuses a flag given twice).
fn with<'a>(args: &[&'a str], flag: &str, value: &'a str) -> Vec<&'a str> {
    let mut out = args.to_vec();
    let at = out.iter().position(|a| *a == flag).expect("flag in args") + 1;
    out[at] = value;
    out
}

fn transformer<'a>(ev: &'a Value, name: &str) -> &'a Value {
    let m = ev["mixes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mix"] == name)
        .unwrap_or_else(|| panic!("no mix {name} in {ev}"));
    &m["transformer"]
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn a_bad_mix_scores_worse_than_natural_and_the_loss_falls_with_training() {
    let env = pool();
    let ev = judge(&env, &["natural", "web-only"], &["--judge-curve", "4"]);
    let setup = &ev["transformer"];
    assert_eq!(
        setup["params"],
        2 * (12 * 64 * 64 + 13 * 64) + 256 * 64 + 64 * 64 + 128
    );
    assert_eq!(setup["train_tokens"], 160 * 16 * 64);
    assert!(setup["choice_items"].as_u64().unwrap() >= 30, "{setup}");
    let (nat, web) = (transformer(&ev, "natural"), transformer(&ev, "web-only"));
    let (nat_bpb, web_bpb) = (
        f(&nat["heldout_bits_per_byte"]["mean"]),
        f(&web["heldout_bits_per_byte"]["mean"]),
    );
    assert!(nat_bpb > 1.0 && nat_bpb < 5.0, "{nat}");
    assert!(
        web_bpb > nat_bpb + 0.1,
        "web-only {web_bpb} vs natural {nat_bpb}"
    );
    let (nat_acc, web_acc) = (
        f(&nat["choice_accuracy"]["mean"]),
        f(&web["choice_accuracy"]["mean"]),
    );
    // At this CI size the choice task does not separate the two (measured: 0.167 each with the
    // sequence-number uniform; 0.167 natural against 0.190 web-only, 7 against 8 items, with
    // the text-key uniform of store format 4); a bad mix must not do better by more than one
    // item. The full-size judge's choice figures are in BENCHMARKS.md.
    let one_item = 1.0 / setup["choice_items"].as_u64().unwrap() as f64;
    assert!(
        nat_acc + one_item + 1e-9 >= web_acc,
        "choice: natural {nat_acc} vs web-only {web_acc}"
    );
    // Every held-out source is measured, and the natural mix is better on most of them.
    let per_nat = nat["runs"][0]["source_bits_per_byte"].as_array().unwrap();
    let per_web = web["runs"][0]["source_bits_per_byte"].as_array().unwrap();
    assert_eq!(
        per_nat.len(),
        setup["heldout_sources"].as_array().unwrap().len()
    );
    let better = per_nat
        .iter()
        .zip(per_web)
        .filter(|(a, b)| f(a) < f(b))
        .count();
    assert!(better * 2 > per_nat.len(), "{per_nat:?} vs {per_web:?}");
    // The learning curve: held-out loss falls from the first point to the last.
    let curve = nat["runs"][0]["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 4);
    let first = f(&curve[0]["heldout_nats_per_byte"]);
    let last = f(&curve[3]["heldout_nats_per_byte"]);
    assert!(last < first - 0.2, "curve {curve:?}");
    assert_eq!(curve[3]["tokens"], 160 * 16 * 64);
}

#[test]
fn the_same_mix_seed_and_settings_give_the_same_loss() {
    let env = pool();
    let a = judge(
        &env,
        &["natural"],
        &["--judge-steps", "40", "--judge-seeds", "1,2"],
    );
    let b = judge(
        &env,
        &["natural"],
        &["--judge-steps", "40", "--judge-seeds", "1"],
    );
    let (ra, rb) = (
        &transformer(&a, "natural")["runs"],
        &transformer(&b, "natural")["runs"],
    );
    let (la, lb) = (
        f(&ra[0]["heldout_bits_per_byte"]),
        f(&rb[0]["heldout_bits_per_byte"]),
    );
    assert!((la - lb).abs() < 1e-6, "{la} vs {lb}");
    assert_eq!(ra[0]["choice"]["correct"], rb[0]["choice"]["correct"]);
    // Another seed is another model.
    assert_ne!(f(&ra[1]["heldout_bits_per_byte"]), la);
    let spread = &transformer(&a, "natural")["heldout_bits_per_byte"];
    assert!(f(&spread["min"]) <= f(&spread["mean"]) && f(&spread["mean"]) <= f(&spread["max"]));
}

#[test]
fn the_table_reports_the_judge_and_bad_settings_are_refused() {
    let env = pool();
    let r = env
        .run(
            &[
                &["eval", "natural", "web-only", "--heldout", HELDOUT][..],
                SMALL,
                &["--judge-steps", "10"],
            ]
            .concat(),
        )
        .ok();
    assert!(
        r.stdout.contains("trained judge: byte-level transformer"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("web-only ") && l.contains("tie")
                || l.starts_with("web-only ") && l.contains("worse")),
        "{}",
        r.stdout
    );
    let r = env.run(
        &[
            &["eval", "natural", "--heldout", HELDOUT][..],
            &with(SMALL, "--judge-heads", "3"),
        ]
        .concat(),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("heads"), "{}", r.stderr);
    let r = env.run(
        &[
            &["eval", "natural", "--heldout", HELDOUT][..],
            &with(SMALL, "--judge-lr", "NaN"),
        ]
        .concat(),
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("learning rate"), "{}", r.stderr);
}
