//! A damaged store is refused or repaired on request, never silently replaced (issue 11, cases
//! 1, 2, 5, 7 and the "Column family not found" race): a writer never recreates a database in a
//! store that had one, an unreadable index is rebuilt by the next writer and reported by readers,
//! a read-only store can be read, only `append` creates a store, readers racing a store's
//! creation get a clear answer, `check` reports damage without changing anything and `repair
//! --into` recovers every sample into a new store.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use common::{records, s, Env, Run};
use samplemix::pool::Pool;
use serde_json::Value;

/// A store of 300 samples, topics computed and a mix drawn, so that most tables hold data.
fn full_store() -> (Env, PathBuf) {
    let env = Env::new();
    let f = env.write("a.jsonl", records(300, "d").as_bytes());
    env.run(&["append", s(&f)]).ok();
    env.run(&["topics", "--topics", "4"]).ok();
    env.run(&["mix", "m", "--kernel", "natural", "--tokens", "3000"])
        .ok();
    (env, f)
}

fn run_on(store: &Path, args: &[&str]) -> Run {
    Command::new(common::bin())
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("SAMPLEMIX_STORE")
        .stdin(Stdio::null())
        .output()
        .unwrap()
        .into()
}

/// What a user can see of a store's samples: the stats without paths and sizes, and a few
/// samples in full.
fn snapshot(store: &Path) -> Value {
    let mut stats = run_on(store, &["stats", "--json"]).ok().json();
    let o = stats.as_object_mut().unwrap();
    for k in ["store", "size_on_disk", "index"] {
        o.remove(k);
    }
    let gets: Vec<Value> = ["d-0", "d-17", "d-299"]
        .iter()
        .map(|id| run_on(store, &["get", id, "--json"]).ok().json())
        .collect();
    serde_json::json!({"stats": stats, "gets": gets})
}

/// Every file under `dir` with its size and modification time, but the writer lock (which
/// `repair` takes while it copies, writing its pid there).
fn files(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else if e.file_name() != "writer.lock" {
                out.insert(e.path(), (m.len(), m.modified().unwrap()));
            }
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn assert_refused(r: &Run, what: &str) {
    assert_eq!(r.code, 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains(what), "{}", r.stderr);
    assert!(r.stderr.contains("samplemix repair"), "{}", r.stderr);
}

#[test]
fn a_store_without_its_database_current_file_is_refused_checked_and_repaired() {
    let (env, f) = full_store();
    let before = snapshot(&env.store);
    std::fs::remove_file(env.store.join("db/CURRENT")).unwrap();
    let g = env.write("more.jsonl", records(20, "new").as_bytes());
    // Case 1: two appends in a row used to recreate the database and drop every old sample.
    for _ in 0..2 {
        assert_refused(&env.run(&["append", s(&g)]), "db/CURRENT");
    }
    assert!(
        !env.store.join("db/CURRENT").exists(),
        "CURRENT was recreated"
    );
    for args in [
        vec!["stats"],
        vec!["get", "d-1"],
        vec!["score"],
        vec!["topics"],
    ] {
        assert_refused(&env.run(&args), "db/CURRENT");
    }
    let mix = env.run(&["mix", "m"]);
    assert_refused(&mix, "db/CURRENT");

    // check reports it and changes nothing.
    let untouched = files(&env.store);
    let c = env.run(&["check", "--json"]);
    assert_eq!(c.code, 1, "{}", c.stderr);
    let report = c.json();
    assert_eq!(report["sound"], false);
    let problems = report["problems"].to_string();
    assert!(problems.contains("CURRENT"), "{problems}");
    assert!(report["advice"].to_string().contains("repair"), "{report}");
    assert_eq!(files(&env.store), untouched, "check changed the store");

    // repair --into recovers every sample, the mix and the topics; the damaged store is kept.
    let new = env.path("recovered");
    let r = env.run(&["repair", "--into", s(&new), "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let rep = r.json();
    assert_eq!(rep["samples"], 300, "{rep}");
    assert_eq!(rep["index_docs"], 300, "{rep}");
    assert_eq!(rep["problems"], serde_json::json!([]), "{rep}");
    assert_eq!(snapshot(&new), before);
    assert_eq!(
        files(&env.store),
        untouched,
        "repair changed the damaged store"
    );
    let c = run_on(&new, &["check", "--json"]).ok().json();
    assert_eq!(c["sound"], true, "{c}");
    // The recovered store is a store like any other.
    run_on(&new, &["append", s(&f), s(&g)]).ok();
    assert_eq!(
        run_on(&new, &["stats", "--json"]).ok().json()["samples"],
        320
    );
    // repair never writes over anything.
    let again = env.run(&["repair", "--into", s(&new)]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("not an empty folder"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_store_whose_database_is_gone_is_never_recreated() {
    let (env, f) = full_store();
    std::fs::remove_dir_all(env.store.join("db")).unwrap();
    for _ in 0..2 {
        assert_refused(&env.run(&["append", s(&f)]), "db/ is missing");
    }
    assert!(!env.store.join("db").exists(), "a database was created");
    let c = env.run(&["check"]);
    assert_eq!(c.code, 1);
    assert!(c.stdout.contains("db/ is missing"), "{}", c.stdout);
    let r = env.run(&["repair", "--into", s(&env.path("new"))]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("nothing to recover"), "{}", r.stderr);
}

#[test]
fn a_lost_table_file_is_refused_and_repair_keeps_what_is_left() {
    let (env, _) = full_store();
    // A table file of the database lost (a disk error, a careless clean-up).
    let db = env.store.join("db");
    let sst = std::fs::read_dir(&db)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sst"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .expect("a closed store's tables are flushed to table files");
    std::fs::remove_file(&sst).unwrap();
    let r = env.run(&["stats"]);
    assert_refused(&r, "cannot be opened");
    let c = env.run(&["check", "--json"]);
    assert_eq!(c.code, 1);
    assert_eq!(c.json()["sound"], false);
    // Repair recovers into a store that opens; what was in the lost file is reported missing.
    let new = env.path("new");
    let r = env.run(&["repair", "--into", s(&new), "--json"]);
    assert!(new.join("FORMAT").exists(), "{}", r.stderr);
    let rep = r.json();
    assert!(
        rep["steps"].to_string().contains("RocksDB's repair"),
        "{rep}"
    );
    assert_eq!(
        r.code == 0,
        rep["problems"] == serde_json::json!([]),
        "{rep}"
    );
    run_on(&new, &["stats", "--json"]).ok();
}

/// Index files of a store by extension.
fn index_files(store: &Path, ext: &str) -> Vec<PathBuf> {
    std::fs::read_dir(store.join("index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect()
}

#[test]
fn an_unreadable_index_is_reported_by_readers_and_rebuilt_by_the_next_writer() {
    let (base, f) = full_store();
    let mut damages = 0;
    for ext in ["idx", "store", "term", "fast", "pos"] {
        for truncate in [false, true] {
            let env = Env::new();
            copy_dir(&base.store, &env.store);
            let files = index_files(&env.store, ext);
            assert!(!files.is_empty(), "no .{ext} file in the index");
            if truncate {
                let len = std::fs::metadata(&files[0]).unwrap().len();
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&files[0])
                    .unwrap();
                file.set_len(len / 2).unwrap();
            } else {
                std::fs::remove_file(&files[0]).unwrap();
            }
            damages += 1;
            let what = format!(".{ext} {}", if truncate { "truncated" } else { "removed" });
            // Readers: stats and get work from the store and warn; query says what to do.
            let st = env.run(&["stats", "--json"]);
            assert_eq!(st.code, 0, "{what}: {}", st.stderr);
            assert!(st.stderr.contains("is damaged"), "{what}: {}", st.stderr);
            let j = st.json();
            assert_eq!(j["samples"], 300, "{what}");
            assert!(j["index"]["damaged"].is_string(), "{what}: {j}");
            env.run(&["get", "d-5", "--json"]).ok();
            let q = env.run(&["query", "\"sample 17\""]);
            assert_eq!(q.code, 1, "{what}: {}", q.stdout);
            assert!(q.stderr.contains("is damaged"), "{what}: {}", q.stderr);
            assert!(
                q.stderr.contains("rebuilds the index"),
                "{what}: {}",
                q.stderr
            );
            assert!(
                !q.stderr.contains("Error {"),
                "{what}: a raw dump: {}",
                q.stderr
            );
            let c = env.run(&["check", "--json"]);
            assert_eq!(c.code, 1, "{what}");
            assert!(c.json()["problems"].to_string().contains("index"), "{what}");
            // The next writer rebuilds it and says so.
            let a = env.run(&["append", s(&f)]);
            assert_eq!(a.code, 0, "{what}: {}", a.stderr);
            assert!(
                a.stderr.contains("rebuilt it from the store"),
                "{what}: {}",
                a.stderr
            );
            let q = env.run(&["query", "\"sample 17\"", "--json"]).ok().json();
            assert_eq!(q["hits"][0]["id"], "d-17", "{what}");
            let pool = Pool::open_reader(&env.store).unwrap();
            assert_eq!(pool.verify().unwrap(), Vec::<String>::new(), "{what}");
            env.run(&["check"]).ok();
        }
    }
    assert_eq!(damages, 10);
}

/// Runs the binary as user `nobody` when the tests run as root (root ignores file modes), else
/// as the current user.
fn run_unprivileged(bin: &Path, store: &Path, args: &[&str]) -> Run {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin);
        c
    } else {
        Command::new(bin)
    };
    c.arg("--store")
        .arg(store)
        .args(args)
        .env_remove("SAMPLEMIX_STORE")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run setpriv (util-linux) to drop root: {e}"))
        .into()
}

fn chmod(path: &Path, args: &[&str]) {
    let ok = Command::new("chmod")
        .args(args)
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "chmod {args:?} {}", path.display());
}

#[test]
fn a_read_only_store_can_be_read() {
    let (base, _) = full_store();
    let expected = snapshot(&base.store);
    let query = run_on(&base.store, &["query", "\"sample 17\"", "--json"])
        .ok()
        .json();
    // A folder the unprivileged user can enter, holding a copy of the binary (the target dir
    // may be under a home it cannot enter) and a read-only copy of the store.
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), &["755"]);
    let bin = dir.path().join("samplemix");
    std::fs::copy(common::bin(), &bin).unwrap();
    chmod(&bin, &["755"]);
    let store = dir.path().join("archived");
    copy_dir(&base.store, &store);
    chmod(&store, &["-R", "a-w,a+rX"]);
    let untouched = files(&store);

    let st = run_unprivileged(&bin, &store, &["stats", "--json"])
        .ok()
        .json();
    assert_eq!(st["samples"], expected["stats"]["samples"]);
    assert_eq!(st["index"]["docs"], 300, "{st}");
    let g = run_unprivileged(&bin, &store, &["get", "d-17", "--json"])
        .ok()
        .json();
    assert_eq!(g, expected["gets"][1]);
    let q = run_unprivileged(&bin, &store, &["query", "\"sample 17\"", "--json"])
        .ok()
        .json();
    assert_eq!(q, query);
    let c = run_unprivileged(&bin, &store, &["check", "--json"])
        .ok()
        .json();
    assert_eq!(c["sound"], true, "{c}");
    // A writer is refused with the reason, and nothing changed.
    let a = run_unprivileged(&bin, &store, &["topics"]);
    assert_eq!(a.code, 1);
    assert!(a.stderr.contains("ermission denied"), "{}", a.stderr);
    assert_eq!(
        files(&store),
        untouched,
        "reading changed the read-only store"
    );
    chmod(&store, &["-R", "u+w"]);
}

#[test]
fn only_append_creates_a_store() {
    let env = Env::new();
    let out = env.path("out");
    let new = env.path("new");
    let commands: Vec<Vec<&str>> = vec![
        vec!["score"],
        vec!["topics"],
        vec!["mix", "m", "--kernel", "natural", "--tokens", "100"],
        vec!["stats"],
        vec!["get", "x"],
        vec!["query", "x"],
        vec!["export", "m", "--out", s(&out)],
        vec!["report", "m", "--out", s(&out)],
        vec!["check"],
        vec!["repair", "--into", s(&new)],
    ];
    for args in &commands {
        let r = env.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("no store at {}", env.store.display())),
            "{args:?}: {}",
            r.stderr
        );
        assert!(!env.store.exists(), "{args:?} created the store");
        assert!(!new.exists(), "{args:?} created {}", new.display());
    }
    // An empty folder is not a store either, and stays empty.
    std::fs::create_dir(&env.store).unwrap();
    for args in &commands {
        let r = env.run(args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("no store at"), "{args:?}: {}", r.stderr);
        assert_eq!(
            std::fs::read_dir(&env.store).unwrap().count(),
            0,
            "{args:?}"
        );
    }
    let f = env.write("a.jsonl", records(3, "c").as_bytes());
    env.run(&["append", s(&f)]).ok();
    assert_eq!(env.stats()["samples"], 3);
}

#[test]
fn readers_racing_the_creation_of_a_store_get_a_clear_answer() {
    let data = records(5000, "race");
    for round in 0..5 {
        let env = Env::new();
        let f = env.write("a.jsonl", data.as_bytes());
        let mut child = env
            .cmd(&["append", s(&f)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut opened = 0;
        let mut absent = 0;
        loop {
            let done = child.try_wait().unwrap().is_some();
            match Pool::open_reader(&env.store) {
                Ok(pool) => {
                    opened += 1;
                    pool.stats().unwrap();
                }
                Err(samplemix::Error::NoStore { .. }) => absent += 1,
                Err(e) => panic!("round {round}: a reader during creation got: {e}"),
            }
            if done {
                break;
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(opened > 0, "round {round}: never opened ({absent} absent)");
    }
}
