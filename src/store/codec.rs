//! Byte layouts of keys and values. Keys sort the way they are scanned (big-endian integers);
//! every value starts with a one-byte value version followed by its bincode (standard config)
//! encoding, so a value's layout can change without rewriting the table it lives in.

use serde::{de::DeserializeOwned, Serialize};

/// A value stored with a version byte in front of its bincode encoding.
pub trait Versioned: Serialize + DeserializeOwned {
    /// The value version this build writes (and the only one it reads, until a migration adds
    /// readers for older ones).
    const VERSION: u8;
    /// The column family the value lives in, for error messages.
    const TABLE: &'static str;
}

/// Encodes `value` as `[VERSION][bincode]`.
pub fn encode<T: Versioned>(value: &T) -> Vec<u8> {
    let mut out = vec![T::VERSION];
    // Encoding into a Vec cannot fail for the plain data types stored here.
    bincode::serde::encode_into_std_write(value, &mut out, bincode::config::standard())
        .expect("bincode encoding into a Vec is infallible for store values");
    out
}

/// Decodes a value written by [`encode`]; the error says what was wrong.
pub fn decode<T: Versioned>(bytes: &[u8]) -> Result<T, String> {
    let (&version, body) = bytes.split_first().ok_or("empty value")?;
    if version != T::VERSION {
        return Err(format!(
            "value version {version}, this build reads version {}",
            T::VERSION
        ));
    }
    let (value, used) = bincode::serde::decode_from_slice(body, bincode::config::standard())
        .map_err(|e| e.to_string())?;
    if used != body.len() {
        return Err(format!("{} trailing bytes", body.len() - used));
    }
    Ok(value)
}

/// Key of a sample: its sequence number, big-endian so that keys sort in append order.
pub fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// Reads a sequence-number key or value.
pub fn read_seq(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// Key of the dedup table: the 128-bit content hash, big-endian.
pub fn hash_key(hash: u128) -> [u8; 16] {
    hash.to_be_bytes()
}

/// The text hash of a `dedup` key, if it has the length of one.
pub fn read_hash_key(bytes: &[u8]) -> Option<u128> {
    bytes.try_into().ok().map(u128::from_be_bytes)
}

/// Hex rendering of a key for error messages.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Probe {
        a: u32,
        b: String,
    }
    impl Versioned for Probe {
        const VERSION: u8 = 3;
        const TABLE: &'static str = "probe";
    }

    #[test]
    fn round_trip_and_version_check() {
        let p = Probe {
            a: 7,
            b: "x".into(),
        };
        let bytes = encode(&p);
        assert_eq!(bytes[0], 3);
        assert_eq!(decode::<Probe>(&bytes).unwrap(), p);
        let mut wrong = bytes.clone();
        wrong[0] = 4;
        assert!(decode::<Probe>(&wrong).unwrap_err().contains("version 4"));
        assert!(decode::<Probe>(&bytes[..2]).is_err());
        assert!(decode::<Probe>(&[]).is_err());
    }

    #[test]
    fn seq_keys_sort_numerically() {
        assert!(seq_key(255) < seq_key(256));
        assert_eq!(read_seq(&seq_key(42)), Some(42));
        assert_eq!(read_seq(&[1, 2]), None);
    }
}
