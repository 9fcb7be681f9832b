//! Hostile and careless input at the command line (issue 11, cases 3, 4, 6, 8, 9, 10 and 11):
//! each test fails on the samplemix before the fix and passes after it.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{gzip, line, records, s, zstd, Env, Run};
use serde_json::json;

/// A store of `n` records of four sources (web, wiki, code, books), about 75 tokens each.
fn setup(n: usize) -> Env {
    let env = Env::new();
    let f = env.write("a.jsonl", records(n, "a").as_bytes());
    env.run(&["append", s(&f)]).ok();
    env
}

/// Runs a command, killing it after `limit`; `None` when it did not finish in time.
fn run_within(env: &Env, args: &[&str], limit: Duration) -> Option<Run> {
    let mut child = env
        .cmd(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap().into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

fn fails_with(run: Run, code: i32, needle: &str) {
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(needle),
        "stderr lacks {needle:?}: {}",
        run.stderr
    );
}

/// Case 3: a deeply nested query is refused at once, naming the limit; one at the limit runs.
#[test]
fn deep_or_long_queries_are_refused_quickly() {
    let env = setup(40);
    let deep = format!("{}the{}", "(".repeat(30), ")".repeat(30));
    let run = run_within(&env, &["query", &deep], Duration::from_secs(20))
        .expect("a query nested 30 deep must not run for 20 s");
    fails_with(run, 1, "the limit is 6 levels");
    let unclosed = "(".repeat(40) + "sample";
    let run = run_within(&env, &["query", &unclosed], Duration::from_secs(20))
        .expect("an unclosed query nested 40 deep must not run for 20 s");
    fails_with(run, 1, "the limit is 6 levels");
    let at_cap = format!("{}sample{}", "(".repeat(6), ")".repeat(6));
    let start = Instant::now();
    let run = env.run(&["query", &at_cap, "--json"]).ok();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(run.json()["total"], 40);
    let long = "sample ".repeat(300);
    let run = env.run(&["query", &long]);
    fails_with(run, 1, "the limit is 2048 bytes");
}

/// Case 4: huge limits are clamped to the pool; 0 returns no hits but counts the matches.
#[test]
fn query_limits_are_clamped_and_zero_returns_nothing() {
    let env = setup(30);
    for limit in ["1000000000000", "18446744073709551615"] {
        let run = env
            .run(&["query", "sample", "--limit", limit, "--json"])
            .ok();
        let out = run.json();
        assert_eq!(out["hits"].as_array().unwrap().len(), 30, "{out}");
        assert_eq!(out["total"], 30);
    }
    let out = env
        .run(&["query", "sample", "--limit", "0", "--json"])
        .ok()
        .json();
    assert_eq!(out["hits"].as_array().unwrap().len(), 0, "{out}");
    assert_eq!(out["total"], 30);
    let plain = env.run(&["query", "sample", "--limit", "0"]).ok();
    assert_eq!(plain.stdout, "");
}

fn mix(env: &Env, extra: &[&str]) -> Run {
    let mut args = vec!["mix", "m", "--tokens", "2000", "--kernel", "natural"];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// Case 6: contradictory or infeasible share constraints are refused with the reason, and
/// nothing is saved.
#[test]
fn contradictory_share_constraints_are_refused() {
    let env = setup(200);
    let contradictions: [&[&str]; 2] = [
        &["--min-share", "web=0.9", "--max-share", "web=0.1"],
        // web's natural share is 1/4: at least half of it, at most 0.01 of the mix.
        &["--source-bounds", "0.5,2", "--max-share", "web=0.01"],
    ];
    for flags in contradictions {
        fails_with(mix(&env, flags), 1, "source web must have at least");
    }
    fails_with(
        mix(&env, &["--min-share", "web=0.6,wiki=0.6"]),
        1,
        "the minimum shares add up to 1.2",
    );
    fails_with(
        mix(
            &env,
            &["--max-share", "web=0.1,wiki=0.1,code=0.1,books=0.1"],
        ),
        1,
        "less than 1",
    );
    fails_with(
        mix(&env, &["--min-share", "nosuch=0.1"]),
        1,
        "unknown source \"nosuch\"",
    );
    assert_eq!(env.stats()["mixes"].as_array().unwrap().len(), 0);
    // Consistent bounds still draw.
    mix(&env, &["--min-share", "web=0.3", "--max-share", "web=0.4"]).ok();
}

/// Case 8: `--shard-tokens` takes the suffixes `--tokens` takes.
#[test]
fn shard_tokens_accept_suffixes() {
    let env = setup(200);
    mix(&env, &[]).ok();
    let out = env.path("out");
    let run = env
        .run(&[
            "export",
            "m",
            "--out",
            s(&out),
            "--shard-tokens",
            "1k",
            "--json",
        ])
        .ok();
    let shards = run.json()["shards"].as_array().unwrap().len();
    assert!(
        shards >= 2,
        "2000 tokens in shards of 1k: {shards} shard(s)"
    );
    let out2 = env.path("out2");
    env.run(&["export", "m", "--out", s(&out2), "--shard-tokens", "100M"])
        .ok();
    let bad = env.run(&["export", "m", "--out", s(&out2), "--shard-tokens", "lots"]);
    fails_with(bad, 2, "is not a token count");
}

/// Case 9: a UTF-8 byte-order mark at the start of an input is not part of its first record,
/// for plain, gzip and zstd files and stdin.
#[test]
fn byte_order_mark_is_skipped() {
    let env = Env::new();
    let body = |tag: &str| {
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice(
            line(json!({"id": format!("{tag}-1"), "text": format!("{tag} one")})).as_bytes(),
        );
        b.extend_from_slice(
            line(json!({"id": format!("{tag}-2"), "text": format!("{tag} two")})).as_bytes(),
        );
        b
    };
    let plain = env.write("plain.jsonl", &body("plain"));
    let gz = env.write("gz.jsonl.gz", &gzip(&body("gz")));
    let zst = env.write("zst.jsonl.zst", &zstd(&body("zst")));
    let out = env
        .run(&["append", s(&plain), s(&gz), s(&zst), "--json"])
        .ok()
        .json();
    assert_eq!(
        (out["added"].as_u64(), out["rejected"].as_u64()),
        (Some(6), Some(0)),
        "{out}"
    );
    let out = env
        .run_stdin(&["append", "-", "--json"], &body("stdin"))
        .ok()
        .json();
    assert_eq!(
        (out["added"].as_u64(), out["rejected"].as_u64()),
        (Some(2), Some(0)),
        "{out}"
    );
    env.run(&["get", "plain-1"]).ok();
    env.run(&["get", "stdin-1"]).ok();
}

/// Case 10: a budget that draws nothing is an error and saves nothing; export, report and eval
/// refuse an empty mix an older samplemix saved.
#[test]
fn a_budget_that_draws_nothing_is_refused() {
    let env = setup(50);
    let run = env.run(&["mix", "tiny", "--tokens", "1", "--kernel", "natural"]);
    fails_with(run, 1, "a budget of 1 tokens draws no sample");
    assert_eq!(env.stats()["mixes"].as_array().unwrap().len(), 0);
    fails_with(
        env.run(&["export", "tiny", "--out", s(&env.path("x"))]),
        1,
        "no mix called \"tiny\"",
    );

    // An empty manifest as an older samplemix saved it.
    mix(&env, &[]).ok();
    {
        let store = samplemix::store::Store::open_writer(&env.store).unwrap();
        let mut record = store.mix("m").unwrap().unwrap();
        record.counts.clear();
        record.tokens_requested = 1;
        samplemix::stages::mix::save(&store, "empty", &record).unwrap();
    }
    let heldout = env.write("heldout.jsonl", records(5, "h").as_bytes());
    for args in [
        vec!["export", "empty", "--out", s(&env.path("e"))],
        vec!["report", "empty", "--out", s(&env.path("r"))],
        vec!["eval", "empty", "--heldout", s(&heldout)],
    ] {
        fails_with(
            env.run(&args),
            1,
            "is empty: its budget of 1 tokens drew no sample",
        );
    }
}

/// Case 11: an io error is printed once, not twice.
#[test]
fn os_errors_are_printed_once() {
    let env = setup(5);
    let not_a_dir = env.write("plain-file", b"x");
    let f = env.write("b.jsonl", records(2, "b").as_bytes());
    // A store path under a plain file, for a writer and for a reader: the io error of the
    // store's folder or FORMAT file was printed twice ("Not a directory (os error 20)").
    let under_file = not_a_dir.join("store");
    for args in [
        vec!["--store", s(&under_file), "append", s(&f)],
        vec!["--store", s(&not_a_dir), "stats"],
    ] {
        let run: Run = std::process::Command::new(common::bin())
            .args(&args)
            .output()
            .unwrap()
            .into();
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.matches("(os error").count() <= 1,
            "{}",
            run.stderr
        );
    }
}

/// Case 11: source names from records, --source and file names, and mix names, are bounded and
/// printable; a bad one in a record rejects that record only.
#[test]
fn source_and_mix_names_are_validated() {
    let env = Env::new();
    let input = [
        line(json!({"text": "good one", "source": "web"})),
        line(json!({"text": "bad newline", "source": "we\nb"})),
        line(json!({"text": "bad nul", "source": "x\u{0}"})),
        line(json!({"text": "bad long", "source": "s".repeat(257)})),
        line(json!({"text": "longest allowed", "source": "s".repeat(256)})),
    ]
    .concat();
    let f = env.write("in.jsonl", input.as_bytes());
    let run = env.run(&["append", s(&f), "--json"]).ok();
    let out = run.json();
    assert_eq!(
        (out["added"].as_u64(), out["rejected"].as_u64()),
        (Some(2), Some(3)),
        "{out}"
    );
    for line_no in [2, 3, 4] {
        assert!(
            run.stderr
                .contains(&format!("in.jsonl:{line_no}: source field \"source\"")),
            "{}",
            run.stderr
        );
    }
    let sources = env.stats()["sources"].as_array().unwrap().clone();
    assert_eq!(sources.len(), 2, "{sources:?}");
    let table = env.run(&["stats"]).ok().stdout;
    assert!(!table.contains('\0'));

    let g = env.write("more.jsonl", records(3, "m").as_bytes());
    fails_with(
        env.run(&["append", s(&g), "--source", "a\tb"]),
        2,
        "control character",
    );
    let long = "s".repeat(257);
    fails_with(
        env.run(&["append", s(&g), "--source", &long]),
        2,
        "limit is 256 bytes",
    );
    // A file name that implies a bad source: that input fails, the others go in.
    let bad_name = env.write(
        "we\nb.jsonl",
        line(json!({"text": "from a bad name"})).as_bytes(),
    );
    let ok_name = env.write(
        "fine.jsonl",
        line(json!({"text": "from a good name"})).as_bytes(),
    );
    let run = env.run(&["append", s(&bad_name), s(&ok_name), "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("--source"), "{}", run.stderr);
    assert_eq!(run.json()["added"], 1);

    for name in ["a\nb", &"m".repeat(129), ""] {
        let run = env.run(&["mix", name, "--tokens", "5", "--kernel", "natural"]);
        fails_with(run, 1, "mix name");
    }
    env.run(&[
        "mix",
        &"m".repeat(128),
        "--tokens",
        "5",
        "--kernel",
        "natural",
    ])
    .ok();
}
