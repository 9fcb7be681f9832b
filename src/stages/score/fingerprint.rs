//! Fingerprints: which model file and which result-changing settings produced a score.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use super::ScoreError;

/// Read size when hashing a model file; large enough that hashing is bound by the disk.
const READ_CHUNK: usize = 1 << 20;

/// xxh3-64 of a file's bytes, read in chunks (models are hundreds of MB or more).
///
/// # Errors
/// [`ScoreError::Io`] when the file cannot be read.
pub(crate) fn hash_file(path: &Path) -> Result<u64, ScoreError> {
    let io_err = |source| ScoreError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    Ok(hasher.digest())
}

/// Combines a file hash with a description of the settings into the fingerprint string: 16 hex
/// digits of xxh3-64.
pub(crate) fn combine(file_hash: u64, settings: &str) -> String {
    let mut bytes = file_hash.to_le_bytes().to_vec();
    bytes.extend_from_slice(settings.as_bytes());
    format!("{:016x}", xxh3_64(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn file_hash_matches_one_shot_hash_across_chunk_boundaries() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..(READ_CHUNK * 2 + 12345))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        file.write_all(&data).unwrap();
        file.flush().unwrap();
        assert_eq!(hash_file(file.path()).unwrap(), xxh3_64(&data));
    }

    #[test]
    fn fingerprint_depends_on_file_and_settings() {
        let a = combine(1, "max_tokens=256");
        assert_eq!(a.len(), 16);
        assert_eq!(a, combine(1, "max_tokens=256"));
        assert_ne!(a, combine(2, "max_tokens=256"));
        assert_ne!(a, combine(1, "max_tokens=512"));
    }
}
