//! Parquet input through the binary: a file written by pyarrow at test time (several row groups,
//! struct columns, nulls, a duplicate, an integer text column) appends with the same stored
//! samples as the same records in JSONL; bad rows are named `file:row-group:row`; a truncated
//! file is reported, keeps what came before it and makes the CLI exit 1.

mod common;

use std::path::Path;
use std::process::Command;

use common::{s, Env};
use serde_json::Value;

/// Writes `main.parquet` (30 rows in row groups of 7) and `ints.parquet` (an int64 `text`
/// column), each with its JSONL twin (`pyarrow`'s own rows, nulls kept as `null`).
const WRITE: &str = r#"
import json, sys
import pyarrow as pa, pyarrow.parquet as pq
out = sys.argv[1]
words = "river model protein market theorem compiler harbor violin glacier senate".split()
rows = []
for i in range(30):
    body = " ".join(words[(i * k) % len(words)] for k in range(1, 12)) + f" number {i}"
    if i in (4, 11):
        body = None                      # a null text
    if i == 20:
        body = "  " + rows[3]["doc"]["body"].replace(" ", "\n ")   # a duplicate of row 3
    rows.append({
        "id": None if i % 9 == 0 else 1000 + i,
        "doc": {"body": body, "title": f"t{i}"},
        "meta": {"site": ["web", "wiki", None][i % 3], "url": None if i % 4 == 0 else f"http://x/{i}"},
        "score": i / 8,
        "tags": [f"a{i}", "b"] if i % 2 else [],
    })
schema = pa.schema([
    ("id", pa.int64()),
    ("doc", pa.struct([("body", pa.string()), ("title", pa.string())])),
    ("meta", pa.struct([("site", pa.string()), ("url", pa.string())])),
    ("score", pa.float64()),
    ("tags", pa.list_(pa.string())),
])
table = pa.Table.from_pylist(rows, schema=schema)
pq.write_table(table, f"{out}/main.parquet", row_group_size=7, compression="zstd")
assert pq.ParquetFile(f"{out}/main.parquet").num_row_groups == 5
with open(f"{out}/main.jsonl", "w") as f:
    for r in table.to_pylist():
        f.write(json.dumps(r) + "\n")
ints = pa.table({"text": pa.array([1, 2, None], pa.int64()), "id": ["i1", "i2", "i3"]})
pq.write_table(ints, f"{out}/ints.parquet", compression="snappy")
with open(f"{out}/ints.jsonl", "w") as f:
    for r in ints.to_pylist():
        f.write(json.dumps(r) + "\n")
"#;

/// Runs the fixture writer into `dir`; fails (does not skip) when pyarrow is missing.
fn write_fixtures(dir: &Path) {
    let probe = Command::new("python3")
        .args(["-c", "import pyarrow"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        _ => panic!(
            "python3 with pyarrow is needed to write the Parquet fixtures: run tools/setup.sh \
             (it installs pyarrow)"
        ),
    }
    let out = Command::new("python3")
        .args(["-c", WRITE, s(dir)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fixture writer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The stored samples as (id, source, text, metadata) sorted by id.
fn stored(store: &Path) -> Vec<(String, String, String, Value)> {
    let st = samplemix::store::Store::open_reader(store).unwrap();
    let mut docs: Vec<_> = st
        .docs_from(0)
        .map(|r| {
            let (_, d) = r.unwrap();
            let meta = d
                .metadata
                .as_deref()
                .map_or(Value::Null, |m| serde_json::from_str(m).unwrap());
            (d.id, d.source, d.text, meta)
        })
        .collect();
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    docs
}

const FIELDS: [&str; 4] = ["--text-field", "doc.body", "--source-field", "meta.site"];

#[test]
fn parquet_appends_like_the_same_records_in_jsonl() {
    let fx = tempfile::tempdir().unwrap();
    write_fixtures(fx.path());
    let (pq, jl) = (fx.path().join("main.parquet"), fx.path().join("main.jsonl"));

    let from_parquet = Env::new();
    let mut args = vec!["append", s(&pq), "--json"];
    args.extend(FIELDS);
    let rp = from_parquet.run(&args).ok();
    let from_jsonl = Env::new();
    let mut args = vec!["append", s(&jl), "--json"];
    args.extend(FIELDS);
    let rj = from_jsonl.run(&args).ok();
    let (p, j) = (rp.json(), rj.json());
    for key in ["added", "duplicates", "rejected", "tokens_added"] {
        assert_eq!(p[key], j[key], "{key}: {p} vs {j}");
    }
    assert_eq!(
        (p["added"].as_u64(), p["duplicates"].as_u64()),
        (Some(27), Some(1))
    );
    assert_eq!(p["rejected"], 2);
    assert_eq!(p["files"][0]["compression"], "parquet");
    assert_eq!(p["files"][0]["lines"], 30);

    let (sp, sj) = (stored(&from_parquet.store), stored(&from_jsonl.store));
    assert_eq!(sp, sj);
    // The columns not mapped are metadata; a dotted field leaves the rest of its struct.
    let row1 = sp.iter().find(|d| d.0 == "1001").expect("row 1 stored");
    assert_eq!(row1.1, "wiki");
    assert_eq!(row1.3["doc"], serde_json::json!({"title": "t1"}));
    assert_eq!(row1.3["meta"], serde_json::json!({"url": "http://x/1"}));
    assert_eq!(row1.3["score"], 0.125);
    assert_eq!(row1.3["tags"], serde_json::json!(["a1", "b"]));
    // A null site falls back to the file's name; null metadata columns are kept as null.
    let row2 = sp.iter().find(|d| d.0 == "1002").expect("row 2 stored");
    assert_eq!(row2.1, "main");
    // Bad rows are named by row group and row (from 0): row 4 is group 0 row 4, row 11 is
    // group 1 row 4.
    assert!(
        rp.stderr
            .contains("main.parquet:0:4: missing text field \"doc.body\""),
        "{}",
        rp.stderr
    );
    assert!(rp.stderr.contains("main.parquet:1:4: "), "{}", rp.stderr);
    assert!(rj.stderr.contains("main.jsonl:12: "), "{}", rj.stderr);
}

#[test]
fn a_non_string_text_column_is_rejected_row_by_row() {
    let fx = tempfile::tempdir().unwrap();
    write_fixtures(fx.path());
    let env = Env::new();
    let r = env
        .run(&["append", s(&fx.path().join("ints.parquet")), "--json"])
        .ok();
    let j = r.json();
    assert_eq!(
        (j["added"].as_u64(), j["rejected"].as_u64()),
        (Some(0), Some(3))
    );
    assert!(
        r.stderr
            .contains("ints.parquet:0:0: text field \"text\" is a number, not a string"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("ints.parquet:0:2: missing text field"));
    let twin = Env::new();
    let jl = twin
        .run(&["append", s(&fx.path().join("ints.jsonl")), "--json"])
        .ok()
        .json();
    assert_eq!(jl["rejected"], 3);
}

#[test]
fn a_truncated_parquet_file_is_reported_and_what_came_before_stays() {
    let fx = tempfile::tempdir().unwrap();
    write_fixtures(fx.path());
    let good = fx.path().join("main.parquet");
    let bytes = std::fs::read(&good).unwrap();
    let cut = fx.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let env = Env::new();
    let mut args = vec!["append", s(&good), s(&cut), "--json"];
    args.extend(FIELDS);
    let r = env.run(&args);
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["added"], 27);
    let err = j["files"][1]["error"]
        .as_str()
        .expect("the cut file has an error");
    assert!(err.contains("truncated"), "{err}");
    assert!(r.stderr.contains("cut.parquet"), "{}", r.stderr);
    assert_eq!(env.stats()["samples"], 27);
    // The store is whole: appending the good file again adds nothing.
    let again = env.run(&["append", s(&good), "--json"]).ok().json();
    assert_eq!(again["added"], 0);
}
