//! The single-writer lock of a store: an exclusive advisory lock on `writer.lock`, held for the
//! life of a writing process and released by the operating system when the process ends, even
//! by SIGKILL. Readers never take it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Name of the lock file inside the store folder.
pub const LOCK_FILE: &str = "writer.lock";

/// Holds the writer lock until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// Takes the writer lock of `store`, or says who holds it.
pub fn acquire(store: &Path) -> Result<WriterLock> {
    let path = store.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(Error::Locked {
                path: store.to_path_buf(),
                lock: path,
                holder: if holder.is_empty() {
                    String::new()
                } else {
                    format!(", held by {holder}")
                },
            });
        }
        Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    }
    // Record the holder for the message another writer gets; failing to do so is harmless.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = writeln!(file, "pid {}", std::process::id());
    Ok(WriterLock { _file: file })
}
