//! What the commands share: one JSON object on stdout (`--json`), and the lookup of a stored mix
//! by name with an error that lists the mixes there are.

use std::io::Write;

use anyhow::Result;
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
