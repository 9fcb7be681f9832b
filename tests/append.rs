//! `samplemix append`, `stats`, `get` and `query` through the binary, and every kind of bad
//! input the append contract names.

mod common;

use common::{gzip, line, records, s, zstd, Env};
use serde_json::json;

#[test]
fn append_then_stats_get_and_query() {
    let env = Env::new();
    let f = env.write("part.jsonl", records(200, "a").as_bytes());
    let r = env.run(&["append", s(&f), "--json"]).ok().json();
    assert_eq!(r["added"], 200);
    assert_eq!(r["duplicates"], 0);
    assert_eq!(r["rejected"], 0);

    let st = env.stats();
    assert_eq!(st["samples"], 200);
    assert_eq!(st["format_version"], samplemix::store::FORMAT_VERSION);
    assert_eq!(st["index"]["docs"], 200);
    assert_eq!(st["index"]["behind_by"], 0);
    let sources: Vec<&str> = st["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 4, "{sources:?}");

    let g = env.run(&["get", "a-7", "--json"]).ok().json();
    assert_eq!(g["id"], "a-7");
    assert_eq!(g["source"], "books");
    assert_eq!(g["metadata"], json!({"n": 7}));
    assert!(g["text"].as_str().unwrap().starts_with("a sample 7:"));
    assert!(g["origin"].as_str().unwrap().ends_with("part.jsonl:8"));

    // A phrase that only one sample holds.
    let q = env.run(&["query", "\"sample 123\"", "--json"]).ok().json();
    assert_eq!(q["total"], 1, "{q}");
    assert_eq!(q["hits"][0]["id"], "a-123");
    // Plain JSONL output: one hit a line, filtered by source.
    let out = env
        .run(&["query", "river", "--source", "wiki", "--limit", "5"])
        .ok()
        .stdout;
    let hits: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!hits.is_empty() && hits.len() <= 5);
    assert!(hits.iter().all(|h| h["source"] == "wiki"));
    assert!(hits
        .iter()
        .all(|h| h["text"].as_str().unwrap().to_lowercase().contains("river")));
    // Score filters find nothing before scoring.
    let q = env
        .run(&["query", "--min-quality", "0.5", "--json"])
        .ok()
        .json();
    assert_eq!(q["total"], 0);
    // Bad query strings and flags are user errors.
    let bad = env.run(&["query", "text:(", "--json"]);
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    assert!(bad.stderr.contains("invalid query"), "{}", bad.stderr);
    let bad = env.run(&["query", "--min-quality", "3"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("outside 0 to 1"));
    let missing = env.run(&["get", "nope"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("no sample with id \"nope\""));
}

#[test]
fn appending_the_same_file_twice_adds_nothing() {
    let env = Env::new();
    let f = env.write("p.jsonl", records(300, "b").as_bytes());
    env.run(&["append", s(&f)]).ok();
    let again = env.run(&["append", s(&f), "--json"]).ok().json();
    assert_eq!(again["added"], 0);
    assert_eq!(again["duplicates"], 300);
    // Whitespace changes do not make a new sample.
    let first: serde_json::Value =
        serde_json::from_str(records(1, "b").lines().next().unwrap()).unwrap();
    let respaced = first["text"].as_str().unwrap().replace(' ', "  \n ");
    let r = env
        .run_stdin(
            &["append", "-", "--json"],
            line(json!({ "text": respaced })).as_bytes(),
        )
        .ok()
        .json();
    assert_eq!(
        (r["added"].as_u64(), r["duplicates"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    let st = env.stats();
    assert_eq!(st["samples"], 300);
    assert_eq!(st["duplicates_skipped"], 301);
    assert_eq!(st["appends"], 3);
}

#[test]
fn gzip_zstd_and_stdin_inputs() {
    let env = Env::new();
    let data = records(90, "c");
    let lines: Vec<&str> = data.split_inclusive('\n').collect();
    let gz = env.write("one.jsonl.gz", &gzip(lines[..30].concat().as_bytes()));
    let zs = env.write("two.jsonl.zst", &zstd(lines[30..60].concat().as_bytes()));
    let r = env.run(&["append", s(&gz), s(&zs), "--json"]).ok().json();
    assert_eq!(r["added"], 60);
    assert_eq!(r["files"][0]["compression"], "gzip");
    assert_eq!(r["files"][1]["compression"], "zstd");
    // Compressed stdin is recognised by its magic bytes.
    let r = env
        .run_stdin(
            &["append", "-", "--json"],
            &zstd(lines[60..].concat().as_bytes()),
        )
        .ok()
        .json();
    assert_eq!(r["added"], 30);
    assert_eq!(env.stats()["samples"], 90);
}

#[test]
fn field_renaming_and_source_resolution() {
    let env = Env::new();
    let f = env.write(
        "crawl.jsonl",
        [
            line(json!({"content": "alpha text one", "key": "k1", "domain": "news"})),
            line(json!({"content": "alpha text two", "key": 2})),
        ]
        .concat()
        .as_bytes(),
    );
    env.run(&[
        "append",
        s(&f),
        "--text-field",
        "content",
        "--id-field",
        "key",
        "--source-field",
        "domain",
    ])
    .ok();
    assert_eq!(
        env.run(&["get", "k1", "--json"]).ok().json()["source"],
        "news"
    );
    // No source field and no flag: the file name gives it.
    assert_eq!(
        env.run(&["get", "2", "--json"]).ok().json()["source"],
        "crawl"
    );
    // The flag sets it for records without one.
    let r = env.run_stdin(
        &["append", "-", "--source", "books"],
        line(json!({"text": "beta text", "id": "b"})).as_bytes(),
    );
    r.ok();
    assert_eq!(
        env.run(&["get", "b", "--json"]).ok().json()["source"],
        "books"
    );
    // Without an id field, the id is the text hash and is stable.
    env.run_stdin(
        &["append", "-"],
        line(json!({"text": "gamma text"})).as_bytes(),
    )
    .ok();
    let q = env.run(&["query", "gamma", "--json"]).ok().json();
    let id = q["hits"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 16);
    assert_eq!(
        env.run(&["get", &id, "--json"]).ok().json()["text"],
        "gamma text"
    );
}

/// One input with a good record on each side of every kind of bad one.
#[test]
fn bad_records_are_reported_counted_and_skipped() {
    let env = Env::new();
    let good =
        |i: usize| line(json!({"id": format!("g{i}"), "text": format!("good record number {i}")}));
    let deep = format!(
        "{{\"text\":\"deep\",\"metadata\":{}{}}}\n",
        "[".repeat(500),
        "]".repeat(500)
    );
    let mut data: Vec<u8> = Vec::new();
    let bad: Vec<(Vec<u8>, &str)> = vec![
        (b"{\"text\": \"unterminated\n".to_vec(), "malformed JSON"),
        (b"[\"a list\"]\n".to_vec(), "not a JSON object"),
        (
            b"{\"body\": \"no text field\"}\n".to_vec(),
            "missing text field",
        ),
        (b"{\"text\": 42}\n".to_vec(), "is a number, not a string"),
        (
            b"{\"text\": \"   \\n \"}\n".to_vec(),
            "empty or whitespace only",
        ),
        (
            b"{\"text\": \"bad \xff\xfe bytes\"}\n".to_vec(),
            "invalid UTF-8",
        ),
        (deep.into_bytes(), "nested more than 128 levels"),
        (
            b"{\"id\": \"g0\", \"text\": \"another text under a taken id\"}\n".to_vec(),
            "id \"g0\"",
        ),
    ];
    data.extend(good(0).as_bytes());
    for (i, (b, _)) in bad.iter().enumerate() {
        data.extend(b);
        data.extend(good(i + 1).as_bytes());
    }
    let f = env.write("mixed.jsonl", &data);
    let r = env.run(&["append", s(&f), "--json", "--rejects"]);
    assert_eq!(r.code, 0, "bad records are not a failure: {}", r.stderr);
    let j = r.json();
    assert_eq!(j["added"], bad.len() + 1);
    assert_eq!(j["rejected"], bad.len());
    for (i, (_, reason)) in bad.iter().enumerate() {
        let lineno = 2 * i + 2;
        let expect = format!("mixed.jsonl:{lineno}: ");
        let l = r
            .stderr
            .lines()
            .find(|l| l.contains(&expect))
            .unwrap_or_else(|| panic!("no report for line {lineno}: {}", r.stderr));
        assert!(l.contains(reason), "line {lineno}: {l}");
    }
    let rejects_file = j["rejects_file"].as_str().unwrap();
    let rejects = std::fs::read_to_string(rejects_file).unwrap();
    assert_eq!(rejects.lines().count(), bad.len());
    let first: serde_json::Value = serde_json::from_str(rejects.lines().next().unwrap()).unwrap();
    assert_eq!(first["line"], 2);
    assert!(first["file"].as_str().unwrap().ends_with("mixed.jsonl"));
    assert!(std::path::Path::new(rejects_file).parent() == env.store.parent());
    assert_eq!(env.stats()["rejected"], bad.len());
}

#[test]
fn a_50_megabyte_line_is_rejected_without_loading_it() {
    let env = Env::new();
    let mut data = line(json!({"id": "before", "text": "before the long line"})).into_bytes();
    data.extend(b"{\"text\": \"");
    data.extend(std::iter::repeat_n(b'x', 50 << 20));
    data.extend(b"\"}\n");
    data.extend(line(json!({"id": "after", "text": "after the long line"})).as_bytes());
    let f = env.write("long.jsonl", &data);
    let r = env.run(&["append", s(&f), "--json"]).ok();
    assert!(
        r.stderr
            .contains("long.jsonl:2: line of 52428812 bytes exceeds the limit of 8388608 bytes"),
        "{}",
        r.stderr
    );
    assert_eq!(r.json()["added"], 2);
    // A higher limit lets it in.
    let r = env
        .run(&["append", s(&f), "--json", "--max-line-bytes", "60000000"])
        .ok()
        .json();
    assert_eq!(r["added"], 1);
}

#[test]
fn truncated_compressed_streams_keep_what_came_before() {
    let env = Env::new();
    let data = records(2000, "t");
    for (name, bytes) in [
        ("cut.jsonl.gz", gzip(data.as_bytes())),
        ("cut.jsonl.zst", zstd(data.as_bytes())),
    ] {
        let env = Env::new();
        let f = env.write(name, &bytes[..bytes.len() / 2]);
        let r = env.run(&["append", s(&f), "--json"]);
        assert_eq!(
            r.code, 1,
            "a truncated input fails the command: {}",
            r.stderr
        );
        let j = r.json();
        let added = j["added"].as_u64().unwrap();
        assert!(added > 100 && added < 2000, "{added}");
        assert_eq!(j["rejected"], 1);
        assert!(j["files"][0]["error"].as_str().unwrap().contains(name));
        assert!(
            r.stderr.contains("truncated") || r.stderr.contains("corrupt"),
            "{}",
            r.stderr
        );
        assert_eq!(env.stats()["samples"], added);
    }
    drop(env);
}

#[test]
fn missing_files_and_directories_are_reported_and_the_rest_goes_in() {
    let env = Env::new();
    let good = env.write("good.jsonl", records(10, "m").as_bytes());
    let dir = env.path("adir");
    std::fs::create_dir(&dir).unwrap();
    let missing = env.path("nope.jsonl");
    let r = env.run(&["append", s(&missing), s(&dir), s(&good), "--json"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("nope.jsonl: no such file"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("adir: is a directory"), "{}", r.stderr);
    assert_eq!(r.json()["added"], 10);
}

#[test]
fn strict_stops_at_the_first_error_and_adds_nothing_from_that_file() {
    let env = Env::new();
    let first = env.write("first.jsonl", records(20, "s").as_bytes());
    let mut bad = records(50, "u");
    bad.push_str("{broken\n");
    bad.push_str(&records(5, "v"));
    let bad = env.write("bad.jsonl", bad.as_bytes());
    let r = env.run(&["append", "--strict", s(&first), s(&bad)]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("bad.jsonl:51: malformed JSON"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("nothing from"), "{}", r.stderr);
    let st = env.stats();
    assert_eq!(
        st["samples"], 20,
        "the file before the bad one is kept, nothing of the bad one"
    );
    assert!(env.run(&["get", "u-0"]).code == 1);
    // Strict over stdin works too (it is read twice).
    let r = env.run_stdin(&["append", "--strict", "-"], b"{\"text\": 1}\n");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("-:1: text field"), "{}", r.stderr);
    let r = env
        .run_stdin(
            &["append", "--strict", "-", "--json"],
            records(5, "w").as_bytes(),
        )
        .ok()
        .json();
    assert_eq!(r["added"], 5);
}

#[test]
fn bad_input_never_damages_what_is_stored() {
    let env = Env::new();
    let f = env.write("base.jsonl", records(100, "k").as_bytes());
    env.run(&["append", s(&f)]).ok();
    let before = env.run(&["get", "k-42", "--json"]).ok().stdout;
    env.write(
        "junk.jsonl.gz",
        b"\x1f\x8b\x08\x00garbage that is not deflate",
    );
    let junk = env.path("junk.jsonl.gz");
    env.run(&["append", s(&junk)]);
    env.run_stdin(
        &["append", "-"],
        b"\x00\x01\x02 not json at all\n{\"text\":\"k sample 1: dup?\"}\n",
    );
    assert_eq!(env.run(&["get", "k-42", "--json"]).ok().stdout, before);
    let st = env.stats();
    assert!(st["samples"].as_u64().unwrap() >= 100);
    assert_eq!(st["index"]["docs"], st["samples"]);
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    assert_eq!(env.run(&["append"]).code, 2);
    assert_eq!(env.run(&["query", "--sort", "sideways"]).code, 2);
    assert_eq!(env.run(&["frobnicate"]).code, 2);
}

#[test]
fn read_commands_need_an_existing_store() {
    let env = Env::new();
    let r = env.run(&["stats"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no store at"), "{}", r.stderr);
    assert!(
        !env.store.exists(),
        "a read command must not create a store"
    );
}
