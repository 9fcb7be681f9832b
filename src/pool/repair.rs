//! `samplemix check` and `samplemix repair`: what to do with a damaged store.
//!
//! [`check`] only reads: it says what is missing or damaged (the `FORMAT` file, the database's
//! files, every table read through with checksums verified, the consistency checks of
//! [`Pool::verify`], every index file's checksum) and changes nothing, not even on a read-only
//! store. [`repair_into`] recovers what can still be read into a NEW store and never writes to the
//! damaged one: it copies the database, repairs the copy (a lost `CURRENT` file is pointed back
//! at the newest manifest; anything worse goes through RocksDB's own repair, which rebuilds the
//! manifest from the table files), rebuilds the index from it, and runs [`Pool::verify`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::store::{self, format, Store, Table, DB_DIR};

/// What [`check`] found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CheckReport {
    /// The store folder.
    pub store: String,
    /// Whether nothing is damaged.
    pub sound: bool,
    /// Every problem found, one line each, naming the part at fault.
    pub problems: Vec<String>,
    /// Things that are not damage (an index behind the store after a crash).
    pub notes: Vec<String>,
    /// Keys per table, for the tables that could be read.
    pub tables: Vec<TableCount>,
    /// Samples the counters record, when the database could be opened.
    pub samples: Option<u64>,
    /// Documents in the index, when it could be opened.
    pub index_docs: Option<u64>,
    /// What to do.
    pub advice: String,
}

/// Keys in one table.
#[derive(Clone, Debug, Serialize)]
pub struct TableCount {
    /// The table.
    pub table: &'static str,
    /// Its keys.
    pub keys: u64,
}

/// Checks the store at `path` without changing anything.
pub fn check(path: &Path) -> Result<CheckReport> {
    if !store::exists(path) {
        return Err(Error::NoStore {
            path: path.to_path_buf(),
        });
    }
    let mut r = CheckReport {
        store: path.display().to_string(),
        ..CheckReport::default()
    };
    match format::read(path) {
        Ok(Some(_)) => {}
        Ok(None) => r.problems.push("FORMAT: the file is missing".into()),
        Err(e @ Error::IncompatibleFormat { .. }) => return Err(e),
        Err(e) => r.problems.push(format!("FORMAT: {e}")),
    }
    match Store::open_reader(path) {
        Ok(st) => check_tables(&st, &mut r),
        Err(Error::Damaged { what, .. }) if r.problems.is_empty() => {
            r.problems.push(format!("database: {what}"))
        }
        Err(e) if r.problems.is_empty() => r.problems.push(format!("database: {e}")),
        Err(_) => {}
    }
    let database_sound = r.problems.is_empty();
    if database_sound {
        check_pool(path, &mut r)?;
    }
    r.sound = r.problems.is_empty();
    r.advice = if r.sound {
        "nothing to do".into()
    } else if database_sound {
        "the database is sound; the next writing command (append, score, topics) rebuilds the \
         index from it"
            .into()
    } else {
        format!(
            "recover what can still be read into a new store: samplemix repair --store {} --into \
             NEW (the damaged store is not changed)",
            path.display()
        )
    };
    Ok(r)
}

fn check_tables(st: &Store, r: &mut CheckReport) {
    for t in Table::ALL {
        match st.scan_table(t) {
            Ok(Some(keys)) => r.tables.push(TableCount {
                table: t.name(),
                keys,
            }),
            Ok(None) => {}
            Err(e) => r.problems.push(format!("table {}: {e}", t.name())),
        }
    }
    match st.counters() {
        Ok(c) => r.samples = Some(c.docs),
        Err(e) => r.problems.push(format!("table meta: {e}")),
    }
}

fn check_pool(path: &Path, r: &mut CheckReport) -> Result<()> {
    let pool = match Pool::open_reader(path) {
        Ok(pool) => pool,
        Err(e) => {
            r.problems.push(format!("pool: {e}"));
            return Ok(());
        }
    };
    if let Some(reason) = pool.index_damage() {
        r.problems.push(format!("index: cannot be read: {reason}"));
    }
    let behind = pool.index().map(|ix| {
        r.index_docs = Some(ix.num_docs());
        pool.counters().next_seq.saturating_sub(ix.watermark())
    });
    if let Some(ix) = pool.index() {
        match ix.damaged_files() {
            Ok(files) => r.problems.extend(
                files
                    .iter()
                    .map(|f| format!("index: file {} fails its checksum", f.display())),
            ),
            Err(e) => r.problems.push(format!("index: {e}")),
        }
    }
    let problems = match pool.verify() {
        Ok(p) => p,
        Err(e) => vec![format!("{e}")],
    };
    for p in problems {
        if behind.is_some_and(|b| b > 0) && p.contains("index") {
            r.notes.push(format!(
                "{p} (the index is behind the store; a writer catches up)"
            ));
        } else {
            r.problems.push(format!("consistency: {p}"));
        }
    }
    Ok(())
}

/// What [`repair_into`] did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RepairReport {
    /// The damaged store (not changed).
    pub from: String,
    /// The new store.
    pub into: String,
    /// What was done to the copy, in order.
    pub steps: Vec<String>,
    /// Samples in the new store.
    pub samples: u64,
    /// Documents in its rebuilt index.
    pub index_docs: u64,
    /// What [`Pool::verify`] still finds in the new store (none when it is sound).
    pub problems: Vec<String>,
}

/// Recovers what can be read of the store at `from` into a new store at `into`, which must not
/// exist or be an empty folder. Nothing in `from` is written, except its writer lock, taken
/// while copying when the folder is writable.
pub fn repair_into(from: &Path, into: &Path) -> Result<RepairReport> {
    if !store::exists(from) {
        return Err(Error::NoStore {
            path: from.to_path_buf(),
        });
    }
    if !from.join(DB_DIR).is_dir() {
        return Err(Error::Invalid(format!(
            "store {}: its database folder db/ is missing; there is nothing to recover (the \
             samples must be appended again from their source files)",
            from.display()
        )));
    }
    check_target(from, into)?;
    if let Err(e @ Error::IncompatibleFormat { .. }) = format::read(from) {
        return Err(e);
    }
    // A writer at work would change the files under the copy; a read-only store has none.
    let _lock = match store::lock_writer(from) {
        Ok(lock) => Some(lock),
        Err(e @ Error::Locked { .. }) => return Err(e),
        Err(_) => None,
    };
    let mut r = RepairReport {
        from: from.display().to_string(),
        into: into.display().to_string(),
        ..RepairReport::default()
    };
    std::fs::create_dir_all(into).map_err(|e| Error::io(into, e))?;
    let db = into.join(DB_DIR);
    copy_dir(&from.join(DB_DIR), &db)?;
    r.steps.push(format!(
        "copied {} to {}",
        from.join(DB_DIR).display(),
        db.display()
    ));
    format::write_new(into)?;
    repair_copy(into, &mut r)?;
    let pool = Pool::open_existing_writer(into)?;
    r.steps
        .push("rebuilt the index from the recovered database".into());
    r.samples = pool.counters().docs;
    r.index_docs = pool.index().map_or(0, |ix| ix.num_docs());
    r.problems = pool.verify().unwrap_or_else(|e| vec![e.to_string()]);
    pool.close()?;
    Ok(r)
}

fn check_target(from: &Path, into: &Path) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::Invalid(format!(
            "--into {}: {why}; repair writes the recovered store to a new folder",
            into.display()
        )))
    };
    if into.exists() {
        let empty = std::fs::read_dir(into)
            .map_err(|e| Error::io(into, e))?
            .next()
            .is_none();
        if !into.is_dir() || !empty {
            return refuse("exists and is not an empty folder");
        }
    }
    let abs = |p: &Path| {
        std::path::absolute(p)
            .map(|a| a.components().collect::<PathBuf>())
            .map_err(|e| Error::io(p, e))
    };
    if abs(into)?.starts_with(abs(from)?) {
        return refuse("is inside the damaged store");
    }
    Ok(())
}

/// Opens the copied database as is; else points a missing `CURRENT` at the newest manifest;
/// else runs RocksDB's repair.
fn repair_copy(into: &Path, r: &mut RepairReport) -> Result<()> {
    let first = match Store::open_existing_writer(into) {
        Ok(_) => {
            r.steps
                .push("the copy opened as is: nothing to repair in the database".into());
            return Ok(());
        }
        Err(e) => e,
    };
    let why = match first {
        Error::Damaged { what, .. } => what,
        e => e.to_string(),
    };
    r.steps.push(format!("the copy does not open: {why}"));
    let db = into.join(DB_DIR);
    if !db.join("CURRENT").is_file() {
        if let Some(manifest) = newest_manifest(&db)? {
            let current = db.join("CURRENT");
            std::fs::write(&current, format!("{manifest}\n"))
                .map_err(|e| Error::io(&current, e))?;
            if Store::open_existing_writer(into).is_ok() {
                r.steps.push(format!(
                    "rewrote CURRENT to point at {manifest}: the copy opens"
                ));
                return Ok(());
            }
            std::fs::remove_file(&current).map_err(|e| Error::io(&current, e))?;
            r.steps
                .push(format!("pointing CURRENT at {manifest} did not help"));
        }
    }
    store::repair_database(into)?;
    r.steps.push(
        "ran RocksDB's repair on the copy (manifest rebuilt from the table files; writes that \
         exist only in the write-ahead log of a table with no table file are lost)"
            .into(),
    );
    Store::open_existing_writer(into)?;
    Ok(())
}

/// `MANIFEST-N` with the largest N in the database folder.
fn newest_manifest(db: &Path) -> Result<Option<String>> {
    let mut best: Option<(u64, String)> = None;
    for entry in std::fs::read_dir(db).map_err(|e| Error::io(db, e))? {
        let name = entry.map_err(|e| Error::io(db, e))?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .strip_prefix("MANIFEST-")
            .and_then(|n| n.parse::<u64>().ok())
        {
            if best.as_ref().is_none_or(|(b, _)| n > *b) {
                best = Some((n, name.into_owned()));
            }
        }
    }
    Ok(best.map(|(_, name)| name))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let src = entry.path();
        let dst = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| Error::io(&src, e))?;
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| Error::io(&src, e))?;
        }
    }
    Ok(())
}
