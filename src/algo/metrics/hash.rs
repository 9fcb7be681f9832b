//! Hash maps keyed by `u64` (packed byte n-grams, xxh3 hashes of word n-grams) with a one-multiply
//! hasher, and sharding of such keys so that maps can be built in parallel without merging.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// `HashMap` keyed by `u64` under [`FoldHasher`].
pub(crate) type U64Map<V> = HashMap<u64, V, BuildHasherDefault<FoldHasher>>;
/// `HashSet` of `u64` under [`FoldHasher`].
pub(crate) type U64Set = HashSet<u64, BuildHasherDefault<FoldHasher>>;

/// The 128-bit product of `x` and `k`, folded to 64 bits (high XOR low): every bit of `x` reaches
/// every bit of the result, which hashbrown needs (it takes the bucket from the low bits and a
/// tag from the top seven).
#[inline(always)]
fn fold_mul(x: u64, k: u64) -> u64 {
    let p = u128::from(x) * u128::from(k);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Hasher for integer keys: one folded multiply per `u64` written. Byte strings go through
/// xxh3 first. Not resistant to chosen keys, which the keys here (n-grams of the user's own
/// texts, or xxh3 hashes of them) do not need.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FoldHasher(u64);

impl Hasher for FoldHasher {
    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.write_u64(xxhash_rust::xxh3::xxh3_64(bytes));
    }

    #[inline(always)]
    fn write_u64(&mut self, x: u64) {
        self.0 = fold_mul(self.0 ^ x, 0x9E37_79B9_7F4A_7C15);
    }
}

/// The shard of `key` among `shards` (Lemire's multiply-shift reduction of a second, independent
/// mix of the key, so that keys of one shard still spread over the map's buckets and tags).
#[inline(always)]
pub(crate) fn shard_of(key: u64, shards: usize) -> usize {
    let h = fold_mul(key ^ 0x2545_F491_4F6C_DD1D, 0xD1B5_4A32_D192_ED03) >> 32;
    ((h * shards as u64) >> 32) as usize
}

/// Number of shards for a parallel build: one per rayon thread.
pub(crate) fn default_shards() -> usize {
    rayon::current_num_threads().clamp(1, 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_range_evenly() {
        let mut seen = [0usize; 7];
        for key in 0..70_000u64 {
            seen[shard_of(key, 7)] += 1;
        }
        for n in seen {
            assert!((9_000..11_000).contains(&n), "{seen:?}");
        }
        assert_eq!(shard_of(u64::MAX, 1), 0);
    }
}
