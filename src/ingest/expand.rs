//! The arguments of `append` made into inputs: `-` is stdin, a folder stands for every file
//! under it (recursively, hidden files and folders left out), a pattern with `*`, `?` or `[`
//! that names no existing file is a glob (`crawl/**/*.jsonl.zst`), anything else one file.
//! Folder and glob matches come in sorted order; a file named twice is read once. A folder
//! without files stays one input, which the append reports as unreadable.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

use super::input::Input;

/// One input to read, and whether it came from a folder or a glob (such inputs are skipped
/// when the store has seen them appended completely).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    /// The input.
    pub input: Input,
    /// Found by expanding a folder or a glob (not named as such).
    pub expanded: bool,
}

/// Expands the arguments. A glob that matches no file is an error, as is a bad pattern.
pub fn expand(args: &[String]) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    let mut push = |input: Input, expanded: bool, out: &mut Vec<Planned>| {
        if let Input::File(p) = &input {
            if !seen.insert(p.clone()) {
                return;
            }
        }
        out.push(Planned { input, expanded });
    };
    for arg in args {
        let path = Path::new(arg);
        if arg == "-" {
            push(Input::Stdin, false, &mut out);
        } else if path.is_dir() {
            let pattern = format!("{}/**/*", glob::Pattern::escape(arg.trim_end_matches('/')));
            let files = matches(&pattern, arg)?;
            if files.is_empty() {
                // Left to the append, which reports it and reads the other inputs.
                push(Input::parse(arg), false, &mut out);
            }
            for file in files {
                push(Input::File(file), true, &mut out);
            }
        } else if !path.exists() && arg.contains(['*', '?', '[']) {
            let files = matches(arg, arg)?;
            if files.is_empty() {
                return Err(Error::Invalid(format!(
                    "{arg}: no file matches this pattern"
                )));
            }
            for file in files {
                push(Input::File(file), true, &mut out);
            }
        } else {
            push(Input::parse(arg), false, &mut out);
        }
    }
    Ok(out)
}

/// The files (not folders) matching `pattern`, sorted.
fn matches(pattern: &str, arg: &str) -> Result<Vec<PathBuf>> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let paths = glob::glob_with(pattern, options)
        .map_err(|e| Error::Invalid(format!("{arg}: not a valid pattern: {e}")))?;
    let mut files = Vec::new();
    for entry in paths {
        let path = entry.map_err(|e| Error::Invalid(format!("{arg}: {e}")))?;
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_globs_expand_sorted_and_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        for f in [
            "z.jsonl",
            "a/b/x.jsonl.zst",
            "a/y.jsonl",
            ".hidden",
            "a/b/w.txt",
        ] {
            std::fs::write(d.join(f), "").unwrap();
        }
        let ds = d.display().to_string();
        let got = expand(&[format!("{ds}/"), format!("{ds}/z.jsonl")]).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|p| match &p.input {
                Input::File(f) => f.strip_prefix(d).unwrap().display().to_string(),
                Input::Stdin => "-".into(),
            })
            .collect();
        assert_eq!(
            names,
            ["a/b/w.txt", "a/b/x.jsonl.zst", "a/y.jsonl", "z.jsonl"]
        );
        assert!(got.iter().all(|p| p.expanded));
        let glob = expand(&[format!("{ds}/**/*.jsonl*"), "-".into()]).unwrap();
        assert_eq!(glob.len(), 4);
        assert_eq!(
            glob[3],
            Planned {
                input: Input::Stdin,
                expanded: false
            }
        );
        assert!(expand(&[format!("{ds}/*.parquet")]).is_err());
        let plain = expand(&[format!("{ds}/missing.jsonl")]).unwrap();
        assert!(!plain[0].expanded);
        std::fs::create_dir(d.join("empty")).unwrap();
        let empty = expand(&[format!("{ds}/empty")]).unwrap();
        assert_eq!(empty.len(), 1);
        assert!(!empty[0].expanded);
    }
}
