//! What the commands share: one JSON object on stdout (`--json`), the lookup of a stored mix
//! by name with an error that lists the mixes there are, and the stderr notes on what opening
//! the pool found (a damaged index, a catch-up or rebuild).

use std::io::Write;

use anyhow::Result;
use samplemix::pool::Pool;
use samplemix::store::{MixRecord, Store};

/// Writes `value` as one line of JSON on stdout.
pub(super) fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// The stored mix `name`, or an error listing the mixes there are.
pub(super) fn load_mix(store: &Store, name: &str) -> Result<MixRecord> {
    match store.mix(name)? {
        Some(r) if r.counts.is_empty() => anyhow::bail!(
            "mix {name:?} is empty: its budget of {} tokens drew no sample (an older samplemix \
             saved it); draw it again with a larger budget: `samplemix mix {name} --tokens T`",
            r.tokens_requested
        ),
        Some(r) => Ok(r),
        None => {
            let names = store.mix_names()?;
            anyhow::bail!(
                "no mix called {name:?} in the store ({}): draw it with `samplemix mix {name} \
                 --tokens T`",
                if names.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("it has {}", names.join(", "))
                }
            )
        }
    }
}

/// Warns on stderr that a reader found the index damaged (what needs no index still works).
pub(super) fn warn_index_damage(pool: &Pool) {
    if let Some(reason) = pool.index_damage() {
        let e = samplemix::Error::IndexDamaged {
            path: pool.store().path().join(samplemix::index::INDEX_DIR),
            reason: reason.to_string(),
        };
        eprintln!("samplemix: warning: {e}");
    }
}

/// Says on stderr what opening the pool as writer repaired: an index rebuilt from the store, or
/// samples it lacked after a crash.
pub(super) fn note_open(pool: &Pool) {
    let opened = pool.open_report();
    if let Some(reason) = pool.index_rebuild_reason() {
        eprintln!(
            "samplemix: index {} was discarded ({reason}); rebuilt it from the store ({} samples)",
            pool.store()
                .path()
                .join(samplemix::index::INDEX_DIR)
                .display(),
            opened.indexed_on_open
        );
    } else if opened.indexed_on_open > 0 || opened.index_rebuilt {
        eprintln!(
            "samplemix: indexed {} samples the index lacked{}",
            opened.indexed_on_open,
            if opened.index_rebuilt {
                " (index rebuilt)"
            } else {
                ""
            }
        );
    }
}
