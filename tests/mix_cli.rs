//! `samplemix mix` end to end: manifests, re-draws after an append, domain files, bad input.

mod common;

use common::{records, s, Env};

fn setup(n: usize) -> Env {
    let env = Env::new();
    let f = env.write("a.jsonl", records(n, "a").as_bytes());
    env.run(&["append", s(&f)]).ok();
    env
}

fn share(report: &serde_json::Value, source: &str) -> f64 {
    report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == source)
        .unwrap_or_else(|| panic!("no source {source} in {report}"))["mixed_share"]
        .as_f64()
        .unwrap()
}

#[test]
fn draw_save_redraw_and_diff() {
    let env = setup(12_000);
    let tokens: u64 = env.stats()["tokens"].as_u64().unwrap();
    let budget = (tokens / 2).to_string();
    let first = env
        .run(&[
            "mix", "m", "--tokens", &budget, "--kernel", "natural", "--seed", "3", "--json",
        ])
        .ok()
        .json();
    let err = first["budget_error"].as_f64().unwrap();
    assert!(err.abs() < 0.005, "{first}");
    assert!(first["changes"].is_null());
    assert_eq!(first["params"]["seed"], 3);

    // Same pool, saved parameters: the same manifest.
    let again = env.run(&["mix", "m", "--json"]).ok().json();
    assert_eq!(again["changes"]["params_changed"], false);
    assert_eq!(again["changes"]["samples_added"], 0);
    assert_eq!(again["changes"]["samples_removed"], 0);
    assert_eq!(again["changes"]["count_changes"], 0);
    assert_eq!(again["tokens_drawn"], first["tokens_drawn"]);

    // A 1% append: a small diff, reported.
    let f = env.write("b.jsonl", records(120, "b").as_bytes());
    env.run(&["append", s(&f)]).ok();
    let listed = &env.stats()["mixes"];
    assert_eq!(listed[0]["name"], "m", "stats lists the mix: {listed}");
    assert_eq!(listed[0]["kernel"], "natural");
    assert_eq!(listed[0]["new_since"], 120, "{listed}");
    let third = env.run(&["mix", "m", "--json"]).ok().json();
    assert_eq!(env.stats()["mixes"][0]["new_since"], 0);
    let ch = &third["changes"];
    assert_eq!(ch["new_pool_samples"], 120);
    let frac = ch["old_samples_changed_fraction"].as_f64().unwrap();
    assert!(frac < 0.02, "{ch}");
    assert!(ch["unchanged"].as_u64().unwrap() > 5_000, "{ch}");
    let text = env.run(&["mix", "m", "--seed", "4"]).ok().stdout;
    assert!(
        text.contains("changes since the previous draw (parameters changed)"),
        "{text}"
    );

    // --fresh: the saved parameters are ignored (defaults for what the flags leave out).
    let capped = env
        .run(&["mix", "m", "--max-repeat", "2", "--json"])
        .ok()
        .json();
    assert_eq!(capped["params"]["max_repeat"], 2);
    assert_eq!(capped["params"]["seed"], 4);
    let fresh = env
        .run(&[
            "mix", "m", "--fresh", "--kernel", "natural", "--tokens", &budget, "--json",
        ])
        .ok()
        .json();
    assert_eq!(fresh["params"]["max_repeat"], 4, "{fresh}");
    assert_eq!(fresh["params"]["seed"], 0, "{fresh}");
    assert_eq!(fresh["changes"]["params_changed"], true, "{fresh}");
    let r = env.run(&["mix", "m", "--fresh", "--kernel", "natural"]);
    assert_eq!(r.code, 1, "--fresh needs --tokens: {}", r.stderr);
}

#[test]
fn domain_weights_from_flags_and_files() {
    let env = setup(10_000);
    let tokens: u64 = env.stats()["tokens"].as_u64().unwrap();
    let budget = (tokens / 2).to_string();
    let want = [("web", 0.1), ("wiki", 0.2), ("code", 0.3), ("books", 0.4)];
    let check = |r: &serde_json::Value| {
        for (src, w) in want {
            let got = share(r, src);
            assert!((got - w).abs() / w < 0.01, "{src}: {got} vs {w}");
        }
    };
    let r = env
        .run(&[
            "mix",
            "d1",
            "--tokens",
            &budget,
            "--kernel",
            "domain",
            "--domain-weights",
            "web=0.1,wiki=0.2,code=0.3,books=0.4",
            "--json",
        ])
        .ok()
        .json();
    check(&r);
    let json = env.write("w.json", br#"{"web": 1, "wiki": 2, "code": 3, "books": 4}"#);
    let r = env
        .run(&[
            "mix",
            "d2",
            "--tokens",
            &budget,
            "--kernel",
            "domain",
            "--domain-file",
            s(&json),
            "--normalise",
            "--json",
        ])
        .ok()
        .json();
    check(&r);
    let toml = env.write(
        "w.toml",
        b"# RegMix weights\n[weights]\nweb = 0.1\nwiki = 0.2\ncode = 0.3\nbooks = 0.4\n",
    );
    let r = env
        .run(&[
            "mix",
            "d3",
            "--tokens",
            &budget,
            "--kernel",
            "domain",
            "--domain-file",
            s(&toml),
            "--json",
        ])
        .ok()
        .json();
    check(&r);
    // Shares far from natural are warned about.
    let run = env.run(&[
        "mix",
        "d4",
        "--tokens",
        &budget,
        "--kernel",
        "domain",
        "--domain-weights",
        "web=0.7,wiki=0.1,code=0.1,books=0.1",
    ]);
    assert!(run.stderr.contains("warning: source web"), "{}", run.stderr);

    // Bad shares.
    let r = env.run(&[
        "mix",
        "x",
        "--tokens",
        "1000",
        "--kernel",
        "domain",
        "--domain-file",
        s(&json),
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("sum to 10"), "{}", r.stderr);
    let r = env.run(&[
        "mix",
        "x",
        "--tokens",
        "1000",
        "--kernel",
        "domain",
        "--domain-weights",
        "news=1",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("unknown source \"news\""), "{}", r.stderr);
}

#[test]
fn share_bounds_from_the_command_line() {
    let env = setup(10_000);
    let tokens: u64 = env.stats()["tokens"].as_u64().unwrap();
    let budget = (tokens / 2).to_string();
    let r = env
        .run(&[
            "mix",
            "b",
            "--tokens",
            &budget,
            "--kernel",
            "natural",
            "--min-share",
            "books=0.4",
            "--json",
        ])
        .ok()
        .json();
    assert!(share(&r, "books") > 0.4 - 0.004, "{r}");
    assert!(r["budget_error"].as_f64().unwrap().abs() < 0.005);
}

#[test]
fn bad_input() {
    let env = setup(1_000);
    let r = env.run(&["mix", "m", "--tokens", "0", "--kernel", "natural"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("budget is 0"), "{}", r.stderr);
    let r = env.run(&["mix", "m", "--tokens", "1G", "--kernel", "natural"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("largest reachable budget"),
        "{}",
        r.stderr
    );
    let r = env.run(&["mix", "m", "--tokens", "1000", "--kernel", "magic"]);
    assert_eq!(r.code, 2);
    let r = env.run(&["mix", "new"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--tokens"), "{}", r.stderr);
    let r = env.run(&["mix", "m", "--tokens", "1000"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("samplemix score"), "{}", r.stderr);
    let r = env.run(&[
        "mix", "m", "--tokens", "1000", "--kernel", "linear", "--alpha", "1",
    ]);
    assert!(r.stderr.contains("samplemix topics"), "{}", r.stderr);
    let r = env.run(&[
        "mix", "m", "--tokens", "1000", "--kernel", "natural", "--a", "2",
    ]);
    assert_eq!(r.code, 1);
    let other = Env::new();
    let r = other.run(&["mix", "m", "--tokens", "1000", "--kernel", "natural"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no store"), "{}", r.stderr);
    assert!(!other.store.exists());
}

fn read_shards(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let bytes = zstd::decode_all(std::fs::File::open(f).unwrap()).unwrap();
        for line in String::from_utf8(bytes).unwrap().lines() {
            out.push(serde_json::from_str(line).unwrap());
        }
    }
    out
}

#[test]
fn export_is_deterministic_and_repeats_samples_by_count() {
    let env = setup(2_000);
    let tokens: u64 = env.stats()["tokens"].as_u64().unwrap();
    // More than the pool: samples repeat.
    let budget = (tokens * 2).to_string();
    env.run(&["mix", "m", "--tokens", &budget, "--kernel", "natural"])
        .ok();
    let (a, b) = (env.path("a"), env.path("b"));
    let m = env
        .run(&[
            "export",
            "m",
            "--out",
            s(&a),
            "--shard-tokens",
            "20000",
            "--json",
        ])
        .ok()
        .json();
    env.run(&["export", "m", "--out", s(&b), "--shard-tokens", "20000"])
        .ok();
    assert!(m["shards"].as_array().unwrap().len() > 1);
    for shard in m["shards"].as_array().unwrap() {
        let f = shard["file"].as_str().unwrap();
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "same seed, same bytes"
        );
    }
    let lines = read_shards(&a);
    assert_eq!(lines.len() as u64, m["lines"].as_u64().unwrap());
    let mut per_id = std::collections::HashMap::new();
    for l in &lines {
        assert!(l["text"].is_string() && l["source"].is_string());
        assert!(l["metadata"]["n"].is_u64(), "{l}");
        *per_id
            .entry(l["id"].as_str().unwrap().to_string())
            .or_insert(0u32) += 1;
    }
    assert!(per_id.values().all(|&c| (1..=4).contains(&c)));
    assert!(per_id.values().any(|&c| c >= 2));
    // Natural at twice the pool's tokens: every sample twice (e = 2 exactly).
    assert!(
        per_id.values().all(|&c| c == 2),
        "natural at twice the pool: 2 copies each"
    );
    // Not consecutive copies: the order is shuffled.
    let adjacent = lines
        .windows(2)
        .filter(|w| w[0]["id"] == w[1]["id"])
        .count();
    assert!(adjacent < lines.len() / 10, "{adjacent}");
    // Another seed, another order.
    let c = env.path("c");
    env.run(&["export", "m", "--out", s(&c), "--seed", "9"])
        .ok();
    assert_ne!(read_shards(&c), lines);

    // Bad output folders and names.
    let r = env.run(&["export", "m", "--out", s(&a)]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("not empty"), "{}", r.stderr);
    env.run(&["export", "m", "--out", s(&a), "--force"]).ok();
    let file = env.write("file.txt", b"x");
    let r = env.run(&["export", "m", "--out", s(&file)]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is a file"), "{}", r.stderr);
    let r = env.run(&["export", "nope", "--out", s(&env.path("d"))]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no mix called \"nope\""), "{}", r.stderr);
}

#[test]
fn parameters_from_a_config_file() {
    let env = setup(10_000);
    let tokens: u64 = env.stats()["tokens"].as_u64().unwrap();
    let cfg = env.write(
        "mix.toml",
        format!(
            "tokens = {}\nkernel = \"domain\"\nseed = 5\nmax_repeat = 3\n\n[domain_weights]\n\
             web = 0.4\nwiki = 0.3\ncode = 0.2\nbooks = 0.1\n",
            tokens / 2
        )
        .as_bytes(),
    );
    let r = env
        .run(&["mix", "c", "--config", s(&cfg), "--json"])
        .ok()
        .json();
    assert_eq!(r["params"]["seed"], 5);
    assert_eq!(r["params"]["max_repeat"], 3);
    assert_eq!(r["params"]["kernel"]["kernel"], "domain");
    assert!((share(&r, "books") - 0.1).abs() < 0.001, "{r}");
    // A flag wins over the file.
    let r = env
        .run(&["mix", "c2", "--config", s(&cfg), "--seed", "6", "--json"])
        .ok()
        .json();
    assert_eq!(r["params"]["seed"], 6);
    let bad = env.write("bad.json", br#"{"tokens": 1000, "kernal": "natural"}"#);
    let r = env.run(&["mix", "c3", "--config", s(&bad)]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("kernal"), "{}", r.stderr);
}

#[test]
fn cap_warning_when_many_samples_hit_the_cap() {
    let env = setup(2_000);
    let tokens: u64 = env.stats()["tokens"].as_u64().unwrap();
    let budget = (tokens * 39 / 10).to_string();
    let r = env
        .run(&[
            "mix", "m", "--tokens", &budget, "--kernel", "natural", "--json",
        ])
        .ok();
    assert!(r.stderr.contains("at the repetition cap"), "{}", r.stderr);
    let j = r.json();
    assert!(j["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("cap")));
}
