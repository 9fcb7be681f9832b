//! Sharded pools (schema/shards.md): `shards create`, `append` routing records to shards by
//! text key, `stats` summed over the shards, and the refusals that name the shard at fault.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use samplemix::store::shards::{self, ShardLayout};
use samplemix::store::Store;
use serde_json::Value;

fn sharded(env: &Env, n: usize) -> Env {
    let dir = env.path("sharded");
    let n = n.to_string();
    let r = Env::at(&dir)
        .run(&["shards", "create", s(&dir), "--shards", &n, "--json"])
        .ok()
        .json();
    assert_eq!(r["shards"].as_array().unwrap().len().to_string(), n);
    Env::at(&dir)
}

/// The fixture in three files, the last one holding a copy of the first 50 records too.
fn inputs(env: &Env) -> Vec<String> {
    let parts = [
        fixture_range(0, 120),
        fixture_range(120, 240),
        fixture_range(240, 302) + &fixture_range(0, 50),
    ];
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| s(&env.write(&format!("in{i}.jsonl"), p.as_bytes())).to_string())
        .collect()
}

fn append(env: &Env, files: &[String]) -> Value {
    let mut args = vec!["append", "--json"];
    args.extend(files.iter().map(String::as_str));
    env.run(&args).ok().json()
}

/// Per source: (samples, tokens), from a single store's or a sharded pool's `stats --json`.
fn per_source(stats: &Value) -> BTreeMap<String, (u64, u64)> {
    stats["sources"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), (u(v, "samples"), u(v, "tokens"))))
                .collect()
        })
        .unwrap_or_else(|| {
            stats["sources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| {
                    (
                        v["name"].as_str().unwrap().to_string(),
                        (u(v, "samples"), u(v, "tokens")),
                    )
                })
                .collect()
        })
}

#[test]
fn routing_is_by_text_key_and_exact_dedup_holds_across_shards() {
    let env = Env::new();
    let files = inputs(&env);
    let single = append(&env, &files);
    let one = env.stats();
    let pool = sharded(&env, 3);
    let report = append(&pool, &files);
    assert_eq!(u(&report, "added"), u(&single, "added"));
    assert_eq!(u(&report, "duplicates"), u(&single, "duplicates"));
    assert_eq!(u(&report, "duplicates"), 54, "50 copies and 4 exact copies");
    let three = pool.stats();
    assert_eq!(u(&three, "samples"), u(&one, "samples"));
    assert_eq!(u(&three, "tokens"), u(&one, "tokens"));
    assert_eq!(per_source(&three), per_source(&one));

    // Every shard holds only its partitions, and each got some.
    let layout = shards::open(&pool.store).unwrap();
    for i in 0..3 {
        let store = Store::open_reader(&layout.shard_path(&pool.store, i)).unwrap();
        let keys = store.text_keys().unwrap();
        assert!(keys.len() > 50, "shard {i}: {}", keys.len());
        assert!(keys.iter().all(|(k, _)| layout.shard_of(*k) == i));
    }
    // Appending again adds nothing: every record is a duplicate in its own shard.
    let again = append(&pool, &files);
    assert_eq!(u(&again, "added"), 0);
    // Another pool fed the files in reverse order has the same shards.
    let env2 = Env::new();
    let pool2 = sharded(&env2, 3);
    let reversed: Vec<String> = files.iter().rev().cloned().collect();
    append(&pool2, &reversed);
    let counts = |st: &Value| -> Vec<u64> {
        st["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| u(s, "samples"))
            .collect()
    };
    assert_eq!(counts(&pool2.stats()), counts(&three));
}

fn layout_of(dir: &Path) -> ShardLayout {
    serde_json::from_str(&std::fs::read_to_string(dir.join(shards::LAYOUT_FILE)).unwrap()).unwrap()
}

fn refused(pool: &Env, args: &[&str], needle: &str) {
    let r = pool.run(args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(needle), "{needle:?} not in {}", r.stderr);
}

#[test]
fn bad_shards_are_refused_naming_the_shard() {
    let env = Env::new();
    let files = inputs(&env);
    let pool = sharded(&env, 3);
    append(&pool, &files[..1]);
    let before = u(&pool.stats(), "samples");
    let dir = pool.store.clone();
    let more = ["append", files[1].as_str()];

    // Another writer holds shard 1: nothing is appended to any shard.
    {
        let _held = Store::open_writer(&dir.join("shard-0001")).unwrap();
        refused(&pool, &more, "shard 1 (shard-0001)");
    }
    assert_eq!(u(&pool.stats(), "samples"), before, "nothing appended");

    // A shard of another format.
    let format = dir.join("shard-0002").join("FORMAT");
    let text = std::fs::read_to_string(&format).unwrap();
    let current = format!("\"format_version\": {}", samplemix::store::FORMAT_VERSION);
    std::fs::write(&format, text.replace(&current, "\"format_version\": 2")).unwrap();
    refused(&pool, &["stats"], "shard 2 (shard-0002): store format 2");
    std::fs::write(&format, &text).unwrap();

    // A layout that disagrees with the stores (two shards swapped).
    let path = dir.join(shards::LAYOUT_FILE);
    let original = std::fs::read_to_string(&path).unwrap();
    let mut swapped = layout_of(&dir);
    swapped.shards.swap(0, 1);
    (swapped.shards[0].first, swapped.shards[0].end) = (0, 1365);
    (swapped.shards[1].first, swapped.shards[1].end) = (1365, 2730);
    std::fs::write(&path, serde_json::to_string(&swapped).unwrap()).unwrap();
    refused(
        &pool,
        &more,
        "shard 0 (shard-0001): the layout says shard 0",
    );
    std::fs::write(&path, &original).unwrap();

    // A missing shard.
    std::fs::rename(dir.join("shard-0000"), env.path("moved")).unwrap();
    refused(&pool, &more, "shard 0 (shard-0000): missing");
    std::fs::rename(env.path("moved"), dir.join("shard-0000")).unwrap();

    // Put back, it works again and nothing was lost.
    assert_eq!(u(&pool.stats(), "samples"), before);
    append(&pool, &files[1..2]);
    assert!(u(&pool.stats(), "samples") > before);
    // A sharded pool is not created over a store, nor twice.
    refused(
        &pool,
        &["shards", "create", s(&dir), "--shards", "2"],
        "already holds a sharded pool",
    );
}
