//! `append FOLDER` and `append 'GLOB'`: every matching file in sorted order; files appended
//! completely before are skipped unread (by path, size and the hash of their first MiB), so a
//! growing folder appended again reads only its new files.

mod common;

use common::{gzip, records, s, u, zstd, Env};

fn names(report: &serde_json::Value) -> Vec<String> {
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["file"].as_str().unwrap();
            p.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_folder_appended_again_reads_only_its_new_file() {
    let env = Env::new();
    let data = env.path("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("b.jsonl"), records(30, "b")).unwrap();
    std::fs::write(data.join("a.jsonl.gz"), gzip(records(20, "a").as_bytes())).unwrap();
    std::fs::write(
        data.join("sub/c.jsonl.zst"),
        zstd(records(10, "c").as_bytes()),
    )
    .unwrap();
    std::fs::write(data.join(".hidden.jsonl"), records(5, "h")).unwrap();

    let first = env.run(&["append", s(&data), "--json"]).ok().json();
    assert_eq!(names(&first), ["a.jsonl.gz", "b.jsonl", "c.jsonl.zst"]);
    assert_eq!(
        (u(&first, "files_read"), u(&first, "files_skipped")),
        (3, 0)
    );
    assert_eq!(u(&first, "added"), 60);

    std::fs::write(data.join("sub/d.jsonl"), records(7, "d")).unwrap();
    let second = env.run(&["append", s(&data), "--json"]).ok().json();
    assert_eq!(names(&second), ["d.jsonl"]);
    assert_eq!(
        (u(&second, "files_read"), u(&second, "files_skipped")),
        (1, 3)
    );
    assert_eq!((u(&second, "added"), u(&second, "duplicates")), (7, 0));
    assert_eq!(env.stats()["samples"], 67);

    // A glob over the same files: all seen. A file that grew is read again (its new records
    // go in, its old ones are duplicates).
    let mut b = records(30, "b");
    b.push_str(&records(33, "b")[b.len()..]);
    std::fs::write(data.join("b.jsonl"), b).unwrap();
    let pattern = format!("{}/**/*.jsonl*", s(&data));
    let third = env.run(&["append", &pattern, "--json"]).ok().json();
    assert_eq!(names(&third), ["b.jsonl"]);
    assert_eq!(
        (u(&third, "files_read"), u(&third, "files_skipped")),
        (1, 3)
    );
    assert_eq!((u(&third, "added"), u(&third, "duplicates")), (3, 30));

    // A file named on its own is always read.
    let named = env
        .run(&["append", s(&data.join("b.jsonl")), "--json"])
        .ok()
        .json();
    assert_eq!((u(&named, "files_read"), u(&named, "duplicates")), (1, 33));
}

#[test]
fn a_file_with_a_broken_end_is_not_recorded_as_appended() {
    let env = Env::new();
    let data = env.path("dump");
    std::fs::create_dir_all(&data).unwrap();
    let whole = zstd(records(40, "z").as_bytes());
    std::fs::write(data.join("z.jsonl.zst"), &whole[..whole.len() - 9]).unwrap();
    let r = env.run(&["append", s(&data), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let again = env.run(&["append", s(&data), "--json"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(u(&again.json(), "files_skipped"), 0);
}

#[test]
fn a_glob_that_matches_nothing_is_an_error() {
    let env = Env::new();
    let pattern = format!("{}/*.parquet", s(env.dir.path()));
    let r = env.run(&["append", &pattern]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("no file matches"), "{}", r.stderr);
}
