//! One writer, many readers, and format versions: a second writer is refused with a message
//! naming the store and its lock, readers work while an append runs, and a store of an unknown
//! format is refused before anything is touched.

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{records, s, Env};

#[test]
fn a_second_writer_is_refused_and_readers_work_during_an_append() {
    let env = Env::new();
    let f = env.write("base.jsonl", records(50, "r").as_bytes());
    env.run(&["append", s(&f)]).ok();

    // An append reading from a pipe we keep open holds the writer lock until we close it.
    let mut writer = env
        .cmd(&["append", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = writer.stdin.take().unwrap();
    stdin.write_all(records(10, "live").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let lock = env.store.join("writer.lock");
    // Wait until the live writer holds the lock (it writes its pid there).
    let deadline = Instant::now() + Duration::from_secs(30);
    let holder = format!("pid {}", writer.id());
    while std::fs::read_to_string(&lock).map_or(true, |t| !t.contains(&holder)) {
        assert!(
            Instant::now() < deadline,
            "the live writer never took the lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = env.run(&["append", s(&f)]);
    assert_eq!(second.code, 1);
    assert!(second.stderr.contains(s(&env.store)), "{}", second.stderr);
    assert!(second.stderr.contains(s(&lock)), "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!("pid {}", writer.id())),
        "{}",
        second.stderr
    );

    // Readers are not blocked.
    assert_eq!(env.stats()["samples"], 50);
    assert_eq!(env.run(&["get", "r-3", "--json"]).ok().json()["id"], "r-3");
    let q = env.run(&["query", "\"sample 17\"", "--json"]).ok().json();
    assert_eq!(q["hits"][0]["id"], "r-17");

    stdin.write_all(records(10, "more").as_bytes()).unwrap();
    drop(stdin);
    let out = writer.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["added"], 20);
    assert_eq!(env.stats()["samples"], 70);
    // The lock went with the writer.
    env.run(&["append", s(&f)]).ok();
}

#[test]
fn a_store_of_a_newer_format_is_refused() {
    let env = Env::new();
    let f = env.write("a.jsonl", records(5, "f").as_bytes());
    env.run(&["append", s(&f)]).ok();
    let format = env.store.join("FORMAT");
    let text = std::fs::read_to_string(&format).unwrap();
    let current = format!("\"format_version\": {}", samplemix::store::FORMAT_VERSION);
    assert!(text.contains(&current), "{text}");
    std::fs::write(&format, text.replace(&current, "\"format_version\": 99")).unwrap();
    for args in [vec!["stats"], vec!["append", s(&f)], vec!["get", "f-1"]] {
        let r = env.run(&args);
        assert_eq!(r.code, 1, "{args:?}");
        assert!(r.stderr.contains("format version 99"), "{}", r.stderr);
        assert!(r.stderr.contains("upgrade samplemix"), "{}", r.stderr);
    }
    // Nothing was changed: the old format opens again once the file is restored.
    std::fs::write(&format, text).unwrap();
    assert_eq!(env.stats()["samples"], 5);
}

#[test]
fn a_file_is_not_a_store() {
    let env = Env::new();
    std::fs::write(&env.store, b"x").unwrap();
    let f = env.write("a.jsonl", records(1, "x").as_bytes());
    let r = env.run(&["append", s(&f)]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("is not a folder"), "{}", r.stderr);
}
