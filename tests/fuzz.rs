//! Property-based fuzzing of the two parsers that take arbitrary user text: the JSONL record
//! parser (`ingest::parse`, and the line reader in front of it) and the path from a query string
//! to a tantivy query (`PoolIndex::search`). Fixed seeds and case counts, no persistence file:
//! every run tries the same cases, in a few seconds.
//!
//! Properties: never a panic; always `Ok` or a typed error, in bounded time; valid records
//! round-trip their text, id and source; accepted source names obey `names`; the query caps
//! (`MAX_QUERY_DEPTH`, `MAX_QUERY_BYTES`) are enforced.

use std::io::{BufReader, Cursor};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError};
use samplemix::index::{
    IndexEntry, IndexScores, PoolIndex, QuerySpec, MAX_QUERY_BYTES, MAX_QUERY_DEPTH,
};
use samplemix::ingest::input::{LineItem, LineReader};
use samplemix::ingest::{normalised_hash, parse, FieldNames};
use samplemix::names::{check_source_name, MAX_SOURCE_NAME_BYTES};
use samplemix::Error;
use serde_json::{json, Map, Value};

/// The same cases on every run; failures are shrunk and printed, never stored.
fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5a3d_1e11),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Slowest a single parse may be before it counts as a failure (they take microseconds).
const SLOW: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------- the JSONL record parser

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|x| json!(x)),
        any::<String>().prop_map(Value::String),
        "[a-z ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Objects whose known fields hold any JSON value (or are missing).
fn record_like() -> impl Strategy<Value = Value> {
    let field = || prop::option::of(json_value());
    (field(), field(), field(), field(), json_value()).prop_map(|(text, id, source, meta, x)| {
        let mut m = Map::new();
        for (k, v) in [
            ("text", text),
            ("id", id),
            ("source", source),
            ("metadata", meta),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v);
            }
        }
        m.insert("extra".into(), x);
        Value::Object(m)
    })
}

fn check_parse(line: &[u8]) -> Result<(), TestCaseError> {
    let start = Instant::now();
    let parsed = parse(line, &FieldNames::default());
    prop_assert!(start.elapsed() < SLOW, "parse took {:?}", start.elapsed());
    match parsed {
        Err(reason) => prop_assert!(!reason.is_empty()),
        Ok(p) => {
            prop_assert!(!p.text.trim().is_empty());
            prop_assert!(p.id.as_ref().is_none_or(|id| !id.is_empty()));
            if let Some(source) = &p.source {
                prop_assert_eq!(check_source_name(source), Ok(()));
            }
            prop_assert_eq!(p.hash, normalised_hash(&p.text));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn record_parser_takes_any_bytes(line in prop::collection::vec(any::<u8>(), 0..400)) {
        check_parse(&line)?;
    }

    #[test]
    fn record_parser_takes_any_json(v in record_like()) {
        check_parse(serde_json::to_string(&v).unwrap().as_bytes())?;
    }

    #[test]
    fn valid_records_round_trip(
        text in any::<String>().prop_filter("not blank", |t| !t.trim().is_empty()),
        id in prop::option::of(any::<String>().prop_filter("non-empty", |s| !s.is_empty())),
        source in prop::option::of("[^\\p{Cc}]{1,64}".prop_filter("not blank", |s| !s.trim().is_empty())),
        meta in prop::option::of(json_value()),
    ) {
        let mut m = Map::new();
        m.insert("text".into(), json!(text));
        if let Some(id) = &id { m.insert("id".into(), json!(id)); }
        if let Some(s) = &source { m.insert("source".into(), json!(s)); }
        if let Some(v) = &meta { m.insert("metadata".into(), v.clone()); }
        let line = serde_json::to_string(&Value::Object(m)).unwrap();
        let p = parse(line.as_bytes(), &FieldNames::default());
        prop_assert!(p.is_ok(), "{line}: {p:?}");
        let p = p.unwrap();
        prop_assert_eq!(&p.text, &text);
        prop_assert_eq!(&p.id, &id);
        prop_assert_eq!(&p.source, &source);
        prop_assert_eq!(p.hash, normalised_hash(&text));
    }

    #[test]
    fn bad_source_names_reject_the_record(
        name in prop_oneof![
            "[a-z]{1,8}[\\x00-\\x1f\\x7f][a-z]{0,8}",
            "[a-z]{257,300}",
        ]
    ) {
        let line = serde_json::to_string(&json!({"text": "some text", "source": name})).unwrap();
        let reason = parse(line.as_bytes(), &FieldNames::default()).unwrap_err();
        prop_assert!(reason.starts_with("source field \"source\": the source name"), "{reason}");
        prop_assert!(!reason.contains('\n') && !reason.contains('\0'));
        prop_assert!(name.len() <= MAX_SOURCE_NAME_BYTES || reason.contains("256 bytes"));
    }

    /// The line reader splits any byte stream as `split('\n')` would, without a trailing `\r`
    /// and without a byte-order mark at the start, however the reads are cut.
    #[test]
    fn line_reader_splits_any_stream(
        bom in any::<bool>(),
        body in prop::collection::vec(prop_oneof![Just(b'\n'), Just(b'\r'), any::<u8>()], 0..300),
        cut in 1usize..17,
    ) {
        let mut data = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
        data.extend_from_slice(&body);
        let mut expected: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(|l| {
            let mut l = l.to_vec();
            if l.last() == Some(&b'\r') { l.pop(); }
            l
        }).collect();
        if data.is_empty() || data.last() == Some(&b'\n') { expected.pop(); }
        if let Some(first) = expected.first_mut() {
            if first.starts_with(b"\xEF\xBB\xBF") { first.drain(..3); }
        }
        let mut reader = LineReader::new(BufReader::with_capacity(cut, Cursor::new(data)), 1 << 20);
        let mut got = Vec::new();
        while let Some(item) = reader.next_line() {
            match item.unwrap() {
                LineItem::Line(no, l) => { prop_assert_eq!(no as usize, got.len() + 1); got.push(l); }
                LineItem::TooLong(..) => prop_assert!(false, "no line is over 1 MiB"),
            }
        }
        prop_assert_eq!(got, expected);
    }
}

// ---------------------------------------------------------------- the query parser

/// An index of a few documents, for searches to run against.
fn small_index() -> (tempfile::TempDir, PoolIndex) {
    let dir = tempfile::tempdir().unwrap();
    let mut index = PoolIndex::open_writer(dir.path()).unwrap();
    let texts = [
        "the river flows past the harbor",
        "a theorem about compilers and kernels",
        "violin music in the old senate",
    ];
    for (seq, text) in texts.iter().enumerate() {
        let scores = IndexScores {
            topic: Some(seq as u64),
            mean_nll: Some(2.0 + seq as f64),
            novelty: Some(0.5),
        };
        index
            .add(&IndexEntry {
                seq: seq as u64,
                text,
                source: "web",
                tokens: 7,
                scores,
            })
            .unwrap();
    }
    index.commit(texts.len() as u64).unwrap();
    (dir, index)
}

/// Searches `q`: `Ok` or a typed query error, in bounded time; the error's reason.
fn search(index: &PoolIndex, q: &str, limit: usize) -> Result<Option<String>, TestCaseError> {
    let spec = QuerySpec {
        text: Some(q.to_string()),
        limit,
        ..QuerySpec::default()
    };
    let start = Instant::now();
    let result = index.search(&spec);
    let took = start.elapsed();
    prop_assert!(took < SLOW, "{q:?} took {took:?}");
    match result {
        Ok(r) => {
            prop_assert!(r.hits.len() <= limit.min(3));
            prop_assert!(r.total <= 3);
            Ok(None)
        }
        Err(Error::Query { reason, .. }) => Ok(Some(reason)),
        Err(e) => Err(TestCaseError::fail(format!("{q:?}: untyped error {e}"))),
    }
}

/// Pieces of tantivy's query syntax, glued at random.
fn query_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "river",
            "the",
            "harbor",
            "AND",
            "OR",
            "NOT",
            "+",
            "-",
            "(",
            ")",
            "(",
            ")",
            "\"",
            ":",
            "text:",
            "source:",
            "seq:",
            "topic:",
            "novelty:",
            "mean_nll:",
            "[",
            "]",
            "{",
            "}",
            " TO ",
            "*",
            "^2",
            "^",
            "~1",
            "~",
            "IN",
            "\\",
            "'",
            "1.5",
            "-3",
            "/",
            "!",
            "&&",
            "||",
            " ",
            " ",
            "é",
            "\t",
        ])
        .prop_map(str::to_string),
        "[a-z]{1,8}",
        any::<char>().prop_map(String::from),
    ]
}

fn query_text() -> impl Strategy<Value = String> {
    prop::collection::vec(query_piece(), 0..60).prop_map(|p| p.concat())
}

#[test]
fn query_parser_takes_any_query_text() {
    let (_dir, index) = small_index();
    let mut runner = proptest::test_runner::TestRunner::new(config(1024));
    runner
        .run(&(query_text(), 0usize..5), |(q, limit)| {
            search(&index, &q, limit).map(|_| ())
        })
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(config(512));
    runner
        .run(&any::<String>(), |q| search(&index, &q, 3).map(|_| ()))
        .unwrap();
}

#[test]
fn query_caps_are_enforced() {
    let (_dir, index) = small_index();
    let mut runner = proptest::test_runner::TestRunner::new(config(128));
    let deep = (MAX_QUERY_DEPTH + 1..200, query_text(), any::<bool>());
    runner
        .run(&deep, |(depth, inner, close)| {
            let closers = if close {
                ")".repeat(depth)
            } else {
                String::new()
            };
            let q = format!("{}{inner}{closers}", "(".repeat(depth));
            let reason = search(&index, &q, 3)?;
            let want = format!("the limit is {MAX_QUERY_DEPTH} levels");
            prop_assert!(
                reason.as_deref().is_some_and(|r| r.contains(&want)),
                "{reason:?}"
            );
            Ok(())
        })
        .unwrap();
    let long = (
        MAX_QUERY_BYTES + 1..3 * MAX_QUERY_BYTES,
        "[a-z][a-z ]{0,19}",
    );
    let mut runner = proptest::test_runner::TestRunner::new(config(32));
    runner
        .run(&long, |(len, word)| {
            let q: String = word.chars().cycle().take(len).collect();
            let reason = search(&index, &q, 3)?;
            let want = format!("the limit is {MAX_QUERY_BYTES} bytes");
            prop_assert!(
                reason.as_deref().is_some_and(|r| r.contains(&want)),
                "{reason:?}"
            );
            Ok(())
        })
        .unwrap();
}

/// The worst shapes found for tantivy 0.25's grammar, at the caps: each level of parentheses
/// is parsed twice, and a group that never closes makes every level fail and be parsed again.
/// Each must stay well under a second (BENCHMARKS.md lists the times this test prints).
#[test]
fn parse_time_at_the_caps() {
    let (_dir, index) = small_index();
    let d = MAX_QUERY_DEPTH;
    let fill = |prefix: &str, suffix: &str| {
        let room = MAX_QUERY_BYTES - prefix.len() - suffix.len();
        let words: String = "river ".repeat(room / 6);
        format!("{prefix}{words}{suffix}")
    };
    let group = format!("{}river{} ", "(".repeat(d), ")".repeat(d));
    let shapes = [
        (
            "nested, closed",
            format!("{}the{}", "(".repeat(d), ")".repeat(d)),
        ),
        ("nested, never closed, long", fill(&"(".repeat(d), "")),
        ("nested, closed, long", fill(&"(".repeat(d), &")".repeat(d))),
        (
            "a word at every level, never closed",
            fill(&"(river ".repeat(d), ""),
        ),
        (
            "groups at the cap side by side",
            group.repeat(MAX_QUERY_BYTES / group.len()),
        ),
        (
            "groups side by side, then an unclosed one",
            format!(
                "{}{}",
                group.repeat(MAX_QUERY_BYTES / group.len() - 1),
                "(".repeat(d)
            ),
        ),
    ];
    for (name, q) in shapes {
        assert!(q.len() <= MAX_QUERY_BYTES, "{name}: {} bytes", q.len());
        let start = Instant::now();
        let spec = QuerySpec {
            text: Some(q.clone()),
            limit: 3,
            ..QuerySpec::default()
        };
        let outcome = match index.search(&spec) {
            Ok(_) => "ok".to_string(),
            Err(Error::Query { .. }) => "syntax error".to_string(),
            Err(e) => panic!("{name}: {e}"),
        };
        let took = start.elapsed();
        println!(
            "parse at the caps: {name} ({} bytes, depth {d}): {outcome} in {:.2} ms",
            q.len(),
            took.as_secs_f64() * 1e3
        );
        assert!(took < SLOW, "{name} took {took:?}");
    }
}
