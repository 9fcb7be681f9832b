//! The store's format version and the `FORMAT` file that declares it.
//!
//! The file is plain JSON so that any samplemix, old or new, can read it before it opens
//! RocksDB, and refuse a store it does not understand with a message instead of a RocksDB error.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The store format this build writes. Bump it on any change to a key layout, a table, a value
/// version or the index schema, and describe the change in `schema/CHANGES.md`.
pub const FORMAT_VERSION: u32 = 5;
/// The oldest store format this build opens (older ones need a migration that does not exist
/// yet). A writer migrates formats 1 to 4 to 5 when it opens them (`Store::migrate`).
pub const OLDEST_READABLE_FORMAT: u32 = 1;
/// Name of the file, inside the store folder, that declares the format.
pub const FORMAT_FILE: &str = "FORMAT";

/// Contents of the `FORMAT` file.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct FormatFile {
    /// The store format version.
    pub format_version: u32,
    /// The samplemix version that created the store.
    pub created_by: String,
}

/// Reads and checks the `FORMAT` file of `store`. `Ok(None)` when there is none.
pub fn read(store: &Path) -> Result<Option<FormatFile>> {
    let path = store.join(FORMAT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    let format: FormatFile = serde_json::from_str(&text).map_err(|e| Error::Corrupt {
        path: store.to_path_buf(),
        table: "FORMAT file",
        key: FORMAT_FILE.into(),
        reason: e.to_string(),
    })?;
    check(store, format.format_version)?;
    Ok(Some(format))
}

/// Refuses versions outside what this build reads.
pub fn check(store: &Path, found: u32) -> Result<()> {
    if found > FORMAT_VERSION {
        return Err(Error::IncompatibleFormat {
            path: store.to_path_buf(),
            found,
            oldest: OLDEST_READABLE_FORMAT,
            current: FORMAT_VERSION,
            hint: "It was written by a newer samplemix: upgrade samplemix to open it.",
        });
    }
    if found < OLDEST_READABLE_FORMAT {
        return Err(Error::IncompatibleFormat {
            path: store.to_path_buf(),
            found,
            oldest: OLDEST_READABLE_FORMAT,
            current: FORMAT_VERSION,
            hint: "No migration from that version exists: rebuild the store by appending the \
                   source files again.",
        });
    }
    Ok(())
}

/// Writes the `FORMAT` file for a new store, atomically (temporary file, then rename).
pub fn write_new(store: &Path) -> Result<FormatFile> {
    let format = FormatFile {
        format_version: FORMAT_VERSION,
        created_by: format!("samplemix {}", env!("CARGO_PKG_VERSION")),
    };
    write(store, format)
}

/// Rewrites the `FORMAT` file of a migrated store with the current version, keeping who
/// created it.
pub fn rewrite(store: &Path) -> Result<FormatFile> {
    let created_by = read(store)?.map_or_else(
        || format!("samplemix {}", env!("CARGO_PKG_VERSION")),
        |f| f.created_by,
    );
    write(
        store,
        FormatFile {
            format_version: FORMAT_VERSION,
            created_by,
        },
    )
}

fn write(store: &Path, format: FormatFile) -> Result<FormatFile> {
    write_json_atomic(&store.join(FORMAT_FILE), &format)?;
    Ok(format)
}

/// Writes `value` as pretty JSON to `path` through `path.tmp` (synced, then renamed), so a
/// crash leaves the old file or the new one, never half of one.
pub(crate) fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    text.push('\n');
    std::fs::File::create(&tmp)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, text.as_bytes())?;
            f.sync_all()
        })
        .map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
