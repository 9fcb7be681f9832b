//! The reference split of the demo corpus (`tools/build-corpus.py`, `reference.jsonl`), checked
//! on its committed slice `tests/fixtures/demo-mini-reference.jsonl`: it shares no id, no
//! whitespace-normalised text and no document with the pool fixture or the held-out fixture,
//! holds no labelled junk or planted duplicate, and has the five kinds of text it is meant to
//! have. (`build-corpus.py` runs the same checks over the full splits on every build.)

mod common;

use common::fixture::{DEMO_MINI, DEMO_MINI_HELDOUT, DEMO_MINI_REFERENCE};
use common::Env;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

fn rows(path: &str) -> Vec<Value> {
    let raw = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    raw.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}:{}: {e}", i + 1)))
        .collect()
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_default()
}

/// The store's normalisation (runs of whitespace to one space), lower-cased.
fn norm(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The document a sample belongs to, at the grain the pool's part1/part2 split keeps together
/// (a book chapter, a wiki article, a documentation file, an FAQ question).
fn chapter_doc(v: &Value) -> String {
    let m = &v["metadata"];
    let s = |k: &str| m[k].as_str().unwrap_or_default().to_owned();
    match field(v, "source") {
        "books" => format!("books:{}:{}", s("title"), m["chapter_index"]),
        "wiki" => format!("wiki:{}", s("title")),
        "docs" => format!("docs:{}:{}", s("project"), s("file")),
        "faq" => format!("faq:{}:{}:{}", s("project"), s("file"), s("question")),
        other => format!("{other}:{}", field(v, "id")),
    }
}

/// The whole document, as the held-out split keeps it apart (a whole novel for books).
fn whole_doc(v: &Value) -> String {
    match field(v, "source") {
        "books" => format!("books:{}", field(&v["metadata"], "title")),
        _ => chapter_doc(v),
    }
}

const LABELS: [&str; 3] = ["synthetic_noise", "near_duplicate_of", "exact_duplicate_of"];

#[test]
fn reference_fixture_is_disjoint_from_pool_and_heldout() {
    let reference = rows(DEMO_MINI_REFERENCE);
    let pool = rows(DEMO_MINI);
    let heldout = rows(DEMO_MINI_HELDOUT);
    assert!(
        reference.len() >= 100,
        "{} reference samples",
        reference.len()
    );
    for (name, other, doc) in [
        ("pool", &pool, chapter_doc as fn(&Value) -> String),
        ("held-out", &heldout, whole_doc),
    ] {
        let ids: HashSet<&str> = other.iter().map(|v| field(v, "id")).collect();
        let texts: HashSet<String> = other.iter().map(|v| norm(field(v, "text"))).collect();
        let docs: HashSet<String> = other.iter().map(doc).collect();
        for v in &reference {
            let id = field(v, "id");
            assert!(!ids.contains(id), "{id} is also in the {name} fixture");
            assert!(
                !texts.contains(&norm(field(v, "text"))),
                "{id}: its text is also in the {name} fixture"
            );
            assert!(
                !docs.contains(&doc(v)),
                "{id}: its document {} is also in the {name} fixture",
                doc(v)
            );
        }
    }
    let texts: HashSet<String> = reference.iter().map(|v| norm(field(v, "text"))).collect();
    assert_eq!(
        texts.len(),
        reference.len(),
        "a text repeats inside the reference"
    );
    for v in &reference {
        for label in LABELS {
            assert!(
                v["metadata"].get(label).is_none(),
                "{}: labelled {label}",
                field(v, "id")
            );
        }
    }
    let mut per_source = BTreeMap::new();
    for v in &reference {
        *per_source.entry(field(v, "source")).or_insert(0usize) += 1;
    }
    let kinds: Vec<&str> = per_source.keys().copied().collect();
    assert_eq!(
        kinds,
        ["books", "code", "docs", "faq", "wiki"],
        "{per_source:?}"
    );
}

/// The controls: the same checks do find overlap where there is some (a pool line against
/// the pool itself, a chapter shared with a differently worded text).
#[test]
fn the_overlap_checks_find_overlap() {
    let pool = rows(DEMO_MINI);
    let book = pool
        .iter()
        .find(|v| field(v, "source") == "books")
        .expect("a book in the pool fixture");
    let mut reworded = book.clone();
    reworded["text"] = Value::from(format!("  {}  ", field(book, "text").to_uppercase()));
    reworded["id"] = Value::from("books/other-id");
    assert_eq!(norm(field(&reworded, "text")), norm(field(book, "text")));
    assert_eq!(chapter_doc(&reworded), chapter_doc(book));
    let mut next_chapter = book.clone();
    let ch = book["metadata"]["chapter_index"].as_u64().unwrap_or(0);
    next_chapter["metadata"]["chapter_index"] = Value::from(ch + 1);
    assert_ne!(chapter_doc(&next_chapter), chapter_doc(book));
    assert_eq!(whole_doc(&next_chapter), whole_doc(book));
}

/// Through the store: appending the reference after the pool fixture drops nothing as an exact
/// duplicate (the store's own whitespace-normalised text hash) and rejects no id.
#[test]
fn reference_appends_beside_the_pool_without_duplicates() {
    let env = Env::new();
    env.run(&["append", DEMO_MINI]).ok();
    let before = env.stats()["samples"].as_u64().unwrap();
    env.run(&["append", DEMO_MINI_REFERENCE]).ok();
    let after = env.stats()["samples"].as_u64().unwrap();
    assert_eq!(after - before, rows(DEMO_MINI_REFERENCE).len() as u64);
}
