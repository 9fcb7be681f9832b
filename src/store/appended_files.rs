//! The inputs appended completely (table `meta`, keys `appended_file/PATH`), by which a folder
//! or glob append skips the files it has already read. `schema/store.md` describes the bytes.

use serde::{Deserialize, Serialize};

use super::codec::Versioned;

/// Prefix of the `meta` keys of appended files; the rest of the key is the file's absolute
/// path (UTF-8, lossy for other names).
pub const APPENDED_FILE_PREFIX: &str = "appended_file/";

/// What identifies a file read to its end: its size and the xxh3-128 of its first MiB.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendedFile {
    /// Size in bytes when it was appended.
    pub size: u64,
    /// xxh3-128 of its first 1 MiB (of all of it when smaller).
    pub head_xxh3: u128,
}

impl Versioned for AppendedFile {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// The `meta` key of the file at the absolute path `path`.
pub fn appended_file_key(path: &std::path::Path) -> Vec<u8> {
    format!("{APPENDED_FILE_PREFIX}{}", path.to_string_lossy()).into_bytes()
}
