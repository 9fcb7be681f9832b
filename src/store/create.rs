//! Creating a store, and telling a store that was never fully created from a damaged one.
//!
//! A new store's database is built, with every table and its format key, in `db.creating/`,
//! renamed to `db/`, and only then is the `FORMAT` file written. So:
//! - `FORMAT` present: the store was fully created; a missing or unreadable database is damage,
//!   refused with [`Error::Damaged`], never recreated.
//! - no `FORMAT`, `db/` present: creation stopped between the rename and `FORMAT`, or `FORMAT` was
//!   removed. A database holding nothing but its format key is finished (`FORMAT` written);
//!   one holding data is refused.
//! - neither: no store. A leftover `db.creating/` never held data and is removed.

use std::path::Path;

use rocksdb::{ColumnFamilyDescriptor, IteratorMode, DB};

use super::{db_options, format, Table, CREATING_DIR, DB_DIR, FORMAT_KEY};
use crate::error::{Error, Result};
use crate::failpoint;

/// Creates the database of a new store at `store`, then its `FORMAT` file.
pub(super) fn create_database(store: &Path) -> Result<()> {
    let tmp = store.join(CREATING_DIR);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    {
        let cfs = Table::ALL
            .iter()
            .map(|t| ColumnFamilyDescriptor::new(t.name(), db_options(true)));
        let db = DB::open_cf_descriptors(&db_options(true), &tmp, cfs).map_err(|e| Error::Db {
            path: store.to_path_buf(),
            message: e.into_string(),
        })?;
        let db_err = |e: rocksdb::Error| Error::Db {
            path: store.to_path_buf(),
            message: e.into_string(),
        };
        let meta = db.cf_handle(Table::Meta.name()).ok_or_else(|| Error::Db {
            path: store.to_path_buf(),
            message: "table meta was not created".into(),
        })?;
        db.put_cf(meta, FORMAT_KEY, format::FORMAT_VERSION.to_be_bytes())
            .map_err(db_err)?;
        db.flush_cf(meta).map_err(db_err)?;
    }
    let db_path = store.join(DB_DIR);
    std::fs::rename(&tmp, &db_path).map_err(|e| Error::io(&db_path, e))?;
    sync_dir(store)?;
    failpoint::hit("store.create")?;
    format::write_new(store)?;
    sync_dir(store)
}

/// `db/` exists without a `FORMAT` file: finishes a creation that stopped before writing
/// `FORMAT` (when `create`; otherwise there is no store yet), or refuses a database that holds
/// data.
pub(super) fn finish_creation(store: &Path, create: bool) -> Result<()> {
    match is_pristine(&store.join(DB_DIR)) {
        Ok(true) if create => {
            format::write_new(store)?;
            sync_dir(store)
        }
        Ok(true) => Err(Error::NoStore {
            path: store.to_path_buf(),
        }),
        Ok(false) => Err(Error::Damaged {
            path: store.to_path_buf(),
            what: "the FORMAT file is missing but a database holding data exists (or a \
                   database that is not samplemix's)"
                .into(),
        }),
        Err(reason) => Err(Error::Damaged {
            path: store.to_path_buf(),
            what: format!("the FORMAT file is missing and the database cannot be read: {reason}"),
        }),
    }
}

/// Whether the database at `db` is a new store's that never held data: every table of the
/// current format, nothing in any of them but the format key.
pub(super) fn is_pristine(db: &Path) -> std::result::Result<bool, String> {
    let opts = db_options(false);
    let names = DB::list_cf(&opts, db).map_err(|e| e.into_string())?;
    if Table::ALL
        .iter()
        .any(|t| !names.iter().any(|n| n == t.name()))
    {
        return Ok(false);
    }
    let db = DB::open_cf_for_read_only(&opts, db, &names, false).map_err(|e| e.into_string())?;
    for name in &names {
        let Some(cf) = db.cf_handle(name) else {
            return Ok(false);
        };
        for item in db.iterator_cf(cf, IteratorMode::Start) {
            let (key, _) = item.map_err(|e| e.into_string())?;
            if !(name == Table::Meta.name() && &*key == FORMAT_KEY) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Refuses a store whose database folder or its `CURRENT` file is missing, before RocksDB
/// would be asked to open it.
pub(super) fn check_db_files(store: &Path) -> Result<()> {
    let db = store.join(DB_DIR);
    let what = if !db.is_dir() {
        "its database folder db/ is missing"
    } else if !db.join("CURRENT").is_file() {
        "db/CURRENT (RocksDB's pointer to its manifest) is missing"
    } else {
        return Ok(());
    };
    Err(Error::Damaged {
        path: store.to_path_buf(),
        what: what.into(),
    })
}

/// A RocksDB error on opening: damage (missing files, corruption) or another failure.
pub(super) fn open_error(store: &Path, e: rocksdb::Error) -> Error {
    let message = e.into_string();
    let damage = ["Corruption", "No such file", "does not exist", "not found"];
    if damage.iter().any(|d| message.contains(d)) {
        Error::Damaged {
            path: store.to_path_buf(),
            what: format!("its database cannot be opened: {message}"),
        }
    } else {
        Error::Db {
            path: store.to_path_buf(),
            message,
        }
    }
}

/// Makes a rename or a new file in `dir` durable.
pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// Runs RocksDB's own repair on the database of the store folder `store` (in place: callers run
/// it on a copy). It rebuilds the manifest from the table files; writes that exist only in the
/// write-ahead log of a table with no table file are lost.
pub fn repair_database(store: &Path) -> Result<()> {
    DB::repair(&db_options(false), store.join(DB_DIR)).map_err(|e| Error::Db {
        path: store.to_path_buf(),
        message: format!("RocksDB's repair failed: {}", e.into_string()),
    })
}
