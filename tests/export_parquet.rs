//! `samplemix export --format parquet`: the Parquet shards hold the JSONL export's documents in
//! the same order with the same columns (metadata as JSON text marked `arrow.json`), the
//! manifest's per-shard counts match the files, and the shards append back into a store with
//! the same samples, tokens and metadata objects as the JSONL shards.

mod common;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use arrow_array::{Array, StringArray};
use common::{s, store_with_repeating_mix, u, Env};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

fn export(env: &Env, out: &Path, format: &str) -> Value {
    env.run(&[
        "export",
        "m",
        "--out",
        s(out),
        "--format",
        format,
        "--shard-tokens",
        "6000",
        "--json",
    ])
    .ok()
    .json()
}

/// (id, text, source, metadata) of every line of the JSONL shards, per shard.
fn read_jsonl(dir: &Path, manifest: &Value) -> Vec<Vec<[Value; 4]>> {
    let shards = manifest["shards"].as_array().unwrap();
    shards
        .iter()
        .map(|sh| {
            let f = File::open(dir.join(sh["file"].as_str().unwrap())).unwrap();
            let mut text = String::new();
            zstd::Decoder::new(f)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text.lines()
                .map(|l| {
                    let v: Value = serde_json::from_str(l).unwrap();
                    [
                        v["id"].clone(),
                        v["text"].clone(),
                        v["source"].clone(),
                        v["metadata"].clone(),
                    ]
                })
                .collect()
        })
        .collect()
}

/// The same rows read from the Parquet shards with the parquet crate.
fn read_parquet(dir: &Path, manifest: &Value) -> Vec<Vec<[Value; 4]>> {
    let shards = manifest["shards"].as_array().unwrap();
    shards
        .iter()
        .map(|sh| {
            let name = sh["file"].as_str().unwrap();
            assert!(name.ends_with(".parquet"), "{name}");
            let f = File::open(dir.join(name)).unwrap();
            let builder = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
            let schema = builder.schema().clone();
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert_eq!(names, ["id", "text", "source", "metadata"]);
            assert_eq!(
                schema.field(3).metadata().get("ARROW:extension:name"),
                Some(&"arrow.json".to_string())
            );
            let mut rows = Vec::new();
            for batch in builder.build().unwrap() {
                let batch = batch.unwrap();
                let col = |i: usize| {
                    batch
                        .column(i)
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .unwrap()
                        .clone()
                };
                let (id, text, source, meta) = (col(0), col(1), col(2), col(3));
                for r in 0..batch.num_rows() {
                    let m = if meta.is_null(r) {
                        Value::Null
                    } else {
                        serde_json::from_str(meta.value(r)).unwrap()
                    };
                    rows.push([
                        id.value(r).into(),
                        text.value(r).into(),
                        source.value(r).into(),
                        m,
                    ]);
                }
            }
            rows
        })
        .collect()
}

#[test]
fn parquet_export_holds_the_jsonl_documents_in_order_and_appends_back() {
    let env = store_with_repeating_mix(60);
    let (jdir, pdir) = (env.path("jsonl"), env.path("parquet"));
    let jm = export(&env, &jdir, "jsonl");
    let pm = export(&env, &pdir, "parquet");
    assert_eq!(pm["format"], "parquet");
    assert_eq!(jm["format"], "jsonl");
    for key in ["lines", "tokens", "samples", "shuffle_seed"] {
        assert_eq!(jm[key], pm[key], "{key}");
    }
    let jrows = read_jsonl(&jdir, &jm);
    let prows = read_parquet(&pdir, &pm);
    assert!(prows.len() > 1, "several shards at 6000 tokens");
    assert_eq!(jrows, prows, "same documents, same order, same shards");
    for (sh, rows) in pm["shards"].as_array().unwrap().iter().zip(&prows) {
        assert_eq!(u(sh, "lines"), rows.len() as u64);
    }
    let with_meta = prows.iter().flatten().filter(|r| r[3].is_object()).count();
    assert!(with_meta > 0, "the fixture's samples carry metadata");

    // Both exports append back into the same pool: the mix's distinct samples.
    let files = |dir: &Path, ext: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_str().unwrap().ends_with(ext))
            .map(|p| p.to_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let (a, b) = (Env::new(), Env::new());
    let mut args = vec!["append".to_string()];
    args.extend(files(&jdir, ".jsonl.zst"));
    a.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .ok();
    let mut args = vec!["append".to_string()];
    args.extend(files(&pdir, ".parquet"));
    b.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .ok();
    let (sa, sb) = (a.stats(), b.stats());
    assert_eq!(u(&sa, "samples"), u(&pm, "samples"));
    for key in ["samples", "tokens", "sources"] {
        assert_eq!(sa[key], sb[key], "{key}");
    }
    let row = prows.iter().flatten().find(|r| r[3].is_object()).unwrap();
    let id = row[0].as_str().unwrap();
    let ga = a.run(&["get", id, "--json"]).ok().json();
    let gb = b.run(&["get", id, "--json"]).ok().json();
    assert_eq!(ga["metadata"], gb["metadata"]);
    assert_eq!(
        gb["metadata"], row[3],
        "the metadata object, not its JSON text"
    );
}
