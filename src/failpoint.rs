//! Deterministic fault injection for the crash tests (`tests/faults.rs`).
//!
//! The write paths call [`hit`] at named points. Without the environment variable
//! `SAMPLEMIX_FAILPOINT` every call is a no-op (one atomic load after the first). With
//! `SAMPLEMIX_FAILPOINT=NAME[:NTH][:ACTION]`, the NTH time (1-based, default 1) the process
//! reaches point NAME it fails there: ACTION `abort` (the default) ends the process at once, as
//! a crash or power cut would, and `error` returns [`Error::Injected`] so that the error path
//! runs. A hand-written hook rather than the `fail` crate: one variable, four points, no
//! dependency and no feature flag, so the tests drive the release binary users run.
//!
//! Points: `store.create` (a new store's database is complete, its `FORMAT` file not yet
//! written), `store.batch` (before a store write batch is applied), `index.commit` (before the
//! index commit), `mix.save` (before a mix manifest is written).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// The environment variable that arms a fail point.
pub const ENV: &str = "SAMPLEMIX_FAILPOINT";

#[derive(Debug)]
struct Armed {
    name: String,
    nth: u64,
    abort: bool,
    seen: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| std::env::var(ENV).ok().and_then(|v| parse(&v)))
        .as_ref()
}

fn parse(spec: &str) -> Option<Armed> {
    let mut parts = spec.trim().split(':');
    let name = parts.next().filter(|n| !n.is_empty())?.to_string();
    let mut nth = 1;
    let mut abort = true;
    for part in parts {
        match part {
            "abort" => abort = true,
            "error" => abort = false,
            n => nth = n.parse().ok().filter(|&n| n > 0)?,
        }
    }
    Some(Armed {
        name,
        nth,
        abort,
        seen: AtomicU64::new(0),
    })
}

/// Passes point `name`: fails here if `SAMPLEMIX_FAILPOINT` says so.
pub fn hit(name: &str) -> Result<()> {
    let Some(armed) = armed() else {
        return Ok(());
    };
    if armed.name != name {
        return Ok(());
    }
    if armed.seen.fetch_add(1, Ordering::SeqCst) + 1 != armed.nth {
        return Ok(());
    }
    if armed.abort {
        eprintln!("samplemix: fail point {name} reached: aborting ({ENV})");
        std::process::abort();
    }
    Err(Error::Injected(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn specs_parse() {
        let a = parse("store.batch").unwrap();
        assert_eq!((a.name.as_str(), a.nth, a.abort), ("store.batch", 1, true));
        let a = parse("index.commit:3:error").unwrap();
        assert_eq!(
            (a.name.as_str(), a.nth, a.abort),
            ("index.commit", 3, false)
        );
        assert!(parse("").is_none());
        assert!(parse("x:0").is_none());
        assert!(parse("x:many").is_none());
    }
}
