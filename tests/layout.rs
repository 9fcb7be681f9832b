//! The dependency rules of `ARCHITECTURE.md` ("Layers"), checked over the sources under `src/`:
//! every `crate::`, `super::` and `self::` path (in `use` lines and in code, grouped imports
//! included, comments and string literals excluded) is resolved to the module it names, and every
//! mention of an external crate that belongs to one layer is located.
//!
//! - nothing under `algo/` uses the store, the index, the pool, the input readers or a stage;
//! - the store uses neither the index, the pool, the input readers nor a stage, and knows nothing
//!   of tantivy; the index uses neither the algorithms, the pool, the input readers nor a stage;
//!   the input readers use nothing of the crate but its error; the pool uses neither the input
//!   readers nor a stage;
//! - no stage uses another stage;
//! - only `cli/` knows clap, anyhow and the terminal (indicatif, `IsTerminal`);
//! - only the scorer (`stages/score/llama.rs`) links llama.cpp (`llama_cpp_2`);
//! - only the trained judge (`algo/judge/`) knows candle;
//! - only `index/` knows tantivy, only `store/` knows RocksDB.
//!
//! A failure names the file, the line and the rule.

use std::path::{Path, PathBuf};

/// Top-level layers a file can belong to (its first module segment under `src/`).
const ALGO: &str = "algo";
const STORE: &str = "store";
const INDEX: &str = "index";
const POOL: &str = "pool";
const STAGES: &str = "stages";
const INGEST: &str = "ingest";
const CLI: &str = "cli";

/// The layers each layer must not use.
fn forbidden_layers(layer: &str) -> &'static [&'static str] {
    match layer {
        ALGO => &[STORE, INDEX, POOL, STAGES, INGEST, CLI],
        STORE => &[INDEX, POOL, STAGES, INGEST, CLI],
        INDEX => &[ALGO, POOL, STAGES, INGEST, CLI],
        INGEST => &[ALGO, STORE, INDEX, POOL, STAGES, CLI],
        POOL => &[STAGES, INGEST, CLI],
        STAGES => &[CLI],
        _ => &[],
    }
}

/// External crates (or terminal APIs) and the files allowed to name them.
fn external_allowed(name: &str, module: &[String]) -> Option<bool> {
    let first = module.first().map(String::as_str);
    let is = |path: &[&str]| module.iter().map(String::as_str).eq(path.iter().copied());
    Some(match name {
        "clap" | "anyhow" | "indicatif" | "IsTerminal" | "is_terminal" => first == Some(CLI),
        "llama_cpp_2" => is(&[STAGES, "score", "llama"]),
        "candle_core" | "candle_nn" => module.starts_with(&[ALGO.to_string(), "judge".to_string()]),
        "tantivy" => first == Some(INDEX),
        "rocksdb" => first == Some(STORE),
        _ => return None,
    })
}

/// The module path of a source file relative to `src/` (`stages/score/llama.rs` ->
/// `[stages, score, llama]`, `pool/mod.rs` -> `[pool]`, `lib.rs` and `main.rs` -> `[]`).
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if !matches!(stem, "mod" | "lib" | "main") {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// The text with comments and the contents of string and char literals blanked out (newlines
/// kept, so offsets keep their line numbers).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && matches!(next, Some('"') | Some('#'))
            && (i == 0
                || !is_ident(c[i - 1])
                || (c[i - 1] == 'b' && (i < 2 || !is_ident(c[i - 2]))))
        {
            // A raw string: r"..." or r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            out.extend(std::iter::repeat_n(' ', j + 1 - i));
            i = j + 1;
            while i < c.len() {
                if c[i] == '"' && (0..hashes).all(|h| c.get(i + 1 + h) == Some(&'#')) {
                    out.extend(std::iter::repeat_n(' ', hashes + 1));
                    i += hashes + 1;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
        } else if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && next == Some('\\') {
            // An escaped char literal: '\n', '\'', '\u{..}'.
            out.push_str("  ");
            i += 2;
            while i < c.len() && c[i] != '\'' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            out.push_str("   ");
            i += 3;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn is_ident(ch: char) -> bool {
    ch.is_alphanumeric() || ch == '_'
}

/// The paths of a use tree (or an expression path) starting at `i`: `a::b::{c, d::e}` gives
/// `[a, b, c]` and `[a, b, d, e]`, each with the offset of its last segment.
fn parse_tree(c: &[char], mut i: usize) -> Vec<(Vec<String>, usize)> {
    while i < c.len() && c[i].is_whitespace() {
        i += 1;
    }
    if c.get(i) == Some(&'{') {
        let mut out = Vec::new();
        let mut depth = 0;
        let mut start = i + 1;
        for (j, &ch) in c.iter().enumerate().skip(i) {
            match ch {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    out.extend(parse_tree(c, start));
                    start = j + 1;
                    if ch == '}' {
                        break;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        return out;
    }
    let start = i;
    while i < c.len() && (is_ident(c[i]) || c[i] == '*') {
        i += 1;
    }
    let ident: String = c[start..i].iter().collect();
    if ident.is_empty() {
        return vec![(Vec::new(), start)];
    }
    let mut j = i;
    while j < c.len() && c[j].is_whitespace() {
        j += 1;
    }
    if c.get(j) == Some(&':') && c.get(j + 1) == Some(&':') {
        let mut rest = parse_tree(c, j + 2);
        for (r, _) in &mut rest {
            r.insert(0, ident.clone());
        }
        rest
    } else {
        vec![(vec![ident], start)]
    }
}

/// Resolves a path found in the file of module `module` to an absolute module path, or `None`
/// when it does not start at the crate (`crate`, `super`, `self`).
fn resolve(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = module.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The rule broken by one use of `target` from `module`, if any.
fn broken_rule(module: &[String], target: &[String]) -> Option<String> {
    let (Some(from), Some(to)) = (module.first(), target.first()) else {
        return None;
    };
    if from == to {
        if from == STAGES {
            if let (Some(a), Some(b)) = (module.get(1), target.get(1)) {
                if a != b && b != "*" {
                    return Some(format!("stage {a} uses stage {b} (no stage uses another)"));
                }
            }
        }
        return None;
    }
    forbidden_layers(from)
        .contains(&to.as_str())
        .then(|| format!("{from}/ uses {to}/ (not allowed: {from}/ must not use {to}/)"))
}

/// Every rule broken in one source file, as `file:line: what`.
fn violations(file: &str, module: &[String], text: &str) -> Vec<String> {
    let code = code_only(text);
    let c: Vec<char> = code.chars().collect();
    let line_of = |pos: usize| 1 + c[..pos].iter().filter(|&&ch| ch == '\n').count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if !is_ident(c[i]) || (i > 0 && is_ident(c[i - 1])) {
            i += 1;
            continue;
        }
        let after_path_separator = i > 0 && c[i - 1] == ':';
        let start = i;
        while i < c.len() && is_ident(c[i]) {
            i += 1;
        }
        let word: String = c[start..i].iter().collect();
        if let Some(allowed) = external_allowed(&word, module) {
            if !allowed {
                out.push(format!(
                    "{file}:{}: uses `{word}`, which only its own layer may know",
                    line_of(start)
                ));
            }
            continue;
        }
        if matches!(word.as_str(), "crate" | "super" | "self")
            && !after_path_separator
            && c.get(i) == Some(&':')
            && c.get(i + 1) == Some(&':')
        {
            for (path, at) in parse_tree(&c, start) {
                let Some(target) = resolve(module, &path) else {
                    continue;
                };
                if let Some(rule) = broken_rule(module, &target) {
                    out.push(format!(
                        "{file}:{}: `{}`: {rule}",
                        line_of(at),
                        path.join("::")
                    ));
                }
            }
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_layers_use_only_what_the_rules_allow() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 40,
        "found only {} files under {}",
        files.len(),
        src.display()
    );
    let mut all = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src/");
        let text = std::fs::read_to_string(path).expect("a readable source file");
        let shown = format!("src/{}", rel.display());
        all.extend(violations(&shown, &module_path(rel), &text));
    }
    assert!(
        all.is_empty(),
        "{} dependency rule(s) broken (ARCHITECTURE.md, \"Layers\"):\n{}",
        all.len(),
        all.join("\n")
    );
}

#[test]
fn the_layers_every_rule_names_exist() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for layer in [ALGO, STORE, INDEX, POOL, STAGES, INGEST, CLI] {
        assert!(src.join(layer).is_dir(), "src/{layer}/ is missing");
    }
    assert!(src.join("stages/score/llama.rs").is_file());
}

fn module(path: &str) -> Vec<String> {
    module_path(Path::new(path))
}

#[test]
fn the_checker_finds_each_kind_of_breach() {
    let algo = module("algo/mix/solve.rs");
    let found = violations(
        "src/algo/mix/solve.rs",
        &algo,
        "use std::fmt;\n\
         use crate::{error::Result,\n    store::Store};\n\
         fn f() { let _ = crate::pool::Pool::open_writer; }\n",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("src/algo/mix/solve.rs:3: `crate::store::Store`"));
    assert!(found[1].starts_with("src/algo/mix/solve.rs:4: `crate::pool::Pool"));

    let stage = module("stages/mix.rs");
    let found = violations(
        "src/stages/mix.rs",
        &stage,
        "use super::eval::judge;\nuse super::mix::draw;\nuse crate::pool::Pool;\n",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(":1:") && found[0].contains("stage mix uses stage eval"));

    let nested = module("stages/topics/summary.rs");
    assert_eq!(
        violations(
            "x",
            &nested,
            "use super::super::score::pass;\nuse super::model;\n"
        )
        .len(),
        1
    );

    let store = module("store/mod.rs");
    let found = violations(
        "src/store/mod.rs",
        &store,
        "use tantivy::Index;\nuse rocksdb::DB;\nuse anyhow::Result;\n",
    );
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains(":1:") && found[0].contains("`tantivy`"));
    assert!(found[1].contains(":3:") && found[1].contains("`anyhow`"));

    let pass = module("stages/score/pass.rs");
    assert_eq!(
        violations("x", &pass, "use llama_cpp_2::model::LlamaModel;").len(),
        1
    );
    let llama = module("stages/score/llama.rs");
    assert!(violations("x", &llama, "use llama_cpp_2::model::LlamaModel;").is_empty());
    assert!(violations("x", &module("cli/topics.rs"), "use std::io::IsTerminal;").is_empty());
    assert_eq!(
        violations("x", &module("pool/mod.rs"), "use std::io::IsTerminal;").len(),
        1
    );
}

#[test]
fn comments_strings_and_chars_do_not_count() {
    let algo = module("algo/diversity/lsh.rs");
    let text = "//! See [`crate::store::Store`].\n\
                /* crate::pool */ fn f() -> &'static str { let _q = '\"'; \"crate::stages::mix anyhow\" }\n\
                const R: &str = r#\"use crate::index;\"#;\n";
    assert!(violations("x", &algo, text).is_empty());
    assert_eq!(
        violations("x", &algo, &format!("{text}use crate::index::PoolIndex;\n")),
        vec!["x:4: `crate::index::PoolIndex`: algo/ uses index/ (not allowed: algo/ must not use index/)"]
    );
}
