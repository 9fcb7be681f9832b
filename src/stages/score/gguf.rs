//! A header check for GGUF files, run before llama.cpp sees a file, so that a wrong file gets a
//! clear error instead of whatever llama.cpp makes of it.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use super::ScoreError;

/// The fixed part of a GGUF header: magic, version, tensor count, metadata count.
const HEADER_LEN: usize = 4 + 4 + 8 + 8;
/// Versions llama.cpp reads (version 1 is no longer supported there).
const SUPPORTED_VERSIONS: std::ops::RangeInclusive<u32> = 2..=3;
/// Far above any real model; a larger count means the bytes are not a GGUF header.
const MAX_PLAUSIBLE_COUNT: u64 = 1 << 24;

/// Checks that `path` exists and starts with a plausible GGUF header.
///
/// # Errors
/// [`ScoreError::ModelNotFound`], [`ScoreError::NotGguf`] or [`ScoreError::Io`].
pub(crate) fn check_header(path: &Path) -> Result<(), ScoreError> {
    let io_err = |source| ScoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let not_gguf = |reason: String| ScoreError::NotGguf {
        path: path.to_path_buf(),
        reason,
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(ScoreError::ModelNotFound {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(io_err(e)),
    };
    if !meta.is_file() {
        return Err(not_gguf("not a regular file".into()));
    }
    let mut header = [0u8; HEADER_LEN];
    let mut file = File::open(path).map_err(io_err)?;
    let mut filled = 0;
    while filled < HEADER_LEN {
        match file.read(&mut header[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    parse_header(&header[..filled]).map_err(not_gguf)
}

/// Checks the fixed header bytes; the error is the reason they are not GGUF.
fn parse_header(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 4 || &bytes[..4] != b"GGUF" {
        return Err("it does not start with the GGUF magic bytes".into());
    }
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "only {} bytes, shorter than a GGUF header",
            bytes.len()
        ));
    }
    let u32_at =
        |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let u64_at = |at: usize| u64::from(u32_at(at)) | (u64::from(u32_at(at + 4)) << 32);
    let version = u32_at(4);
    if !SUPPORTED_VERSIONS.contains(&version) {
        return Err(format!(
            "GGUF version {version}; llama.cpp reads versions {}..={}",
            SUPPORTED_VERSIONS.start(),
            SUPPORTED_VERSIONS.end()
        ));
    }
    let n_tensors = u64_at(8);
    let n_kv = u64_at(16);
    if n_tensors == 0 || n_tensors > MAX_PLAUSIBLE_COUNT || n_kv > MAX_PLAUSIBLE_COUNT {
        return Err(format!(
            "implausible header: {n_tensors} tensors, {n_kv} metadata entries"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_header;

    fn header(version: u32, n_tensors: u64, n_kv: u64) -> Vec<u8> {
        let mut h = b"GGUF".to_vec();
        h.extend_from_slice(&version.to_le_bytes());
        h.extend_from_slice(&n_tensors.to_le_bytes());
        h.extend_from_slice(&n_kv.to_le_bytes());
        h
    }

    #[test]
    fn accepts_a_real_looking_header() {
        assert_eq!(parse_header(&header(3, 272, 33)), Ok(()));
        assert_eq!(parse_header(&header(2, 1, 0)), Ok(()));
    }

    #[test]
    fn rejects_wrong_magic_short_files_and_nonsense_counts() {
        assert!(parse_header(b"").is_err());
        assert!(parse_header(b"GGU").is_err());
        assert!(parse_header(b"{\"text\": \"hello\"}\n").is_err());
        assert!(parse_header(&header(3, 272, 33)[..20]).is_err());
        assert!(parse_header(&header(1, 272, 33)).is_err());
        assert!(parse_header(&header(7, 272, 33)).is_err());
        assert!(parse_header(&header(3, 0, 33)).is_err());
        assert!(parse_header(&header(3, u64::MAX, 33)).is_err());
        assert!(parse_header(&header(3, 272, 1 << 40)).is_err());
    }
}
