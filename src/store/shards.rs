//! Sharded pools: a folder holding N ordinary stores and a layout file (`SHARDS`, JSON,
//! schema/shards.md) that maps a fixed number of virtual partitions, as contiguous ranges, to
//! the stores. A record belongs to the partition of its text key (the xxh3-128 of its
//! normalised text, the dedup key), so exact duplicates always meet in the same store and
//! exact dedup stays shard-local and correct. Each store holds a `SHARD` file naming the layout
//! and the range it serves, so that a store moved, swapped or replaced is found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{format, Store};
use crate::error::{Error, Result};

/// Name of the layout file in a sharded pool's folder.
pub const LAYOUT_FILE: &str = "SHARDS";
/// Name of the file in each shard's store that says which shard it is.
pub const SHARD_FILE: &str = "SHARD";
/// The layout format this build writes and reads.
pub const LAYOUT_VERSION: u32 = 1;
/// Virtual partitions of a new sharded pool by default.
pub const DEFAULT_PARTITIONS: u32 = 4096;
/// The most partitions a layout may have.
pub const MAX_PARTITIONS: u32 = 1 << 20;

/// The partition of a text key among `partitions`: the upper 64 bits of the key, scaled
/// (multiply and shift), so that partitions are contiguous ranges of keys.
pub fn partition_of(text_key: u128, partitions: u32) -> u32 {
    (((text_key >> 64) * u128::from(partitions)) >> 64) as u32
}

/// The partitions `first..end` of `partitions`: what one shard serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionRange {
    /// Virtual partitions of the layout.
    pub partitions: u32,
    /// First partition served.
    pub first: u32,
    /// One past the last partition served.
    pub end: u32,
}

impl PartitionRange {
    /// Whether the record with this text key belongs here.
    pub fn contains(&self, text_key: u128) -> bool {
        (self.first..self.end).contains(&partition_of(text_key, self.partitions))
    }
}

/// One shard in the layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// Its store's folder, relative to the sharded pool's folder.
    pub path: String,
    /// First partition served.
    pub first: u32,
    /// One past the last partition served.
    pub end: u32,
}

/// The layout file (`SHARDS`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardLayout {
    /// [`LAYOUT_VERSION`] of the build that wrote it.
    pub layout_version: u32,
    /// A random id written into every shard's `SHARD` file.
    pub id: String,
    /// Virtual partitions.
    pub partitions: u32,
    /// The shards, by partition range, covering `0..partitions` without gaps.
    pub shards: Vec<ShardEntry>,
}

/// The `SHARD` file of a shard's store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMark {
    /// The layout's id.
    pub layout_id: String,
    /// The shard's index in the layout.
    pub index: usize,
    /// The partitions it serves.
    pub range: PartitionRange,
}

fn shard_err(dir: &Path, shard: impl ToString, reason: impl Into<String>) -> Error {
    Error::Shard {
        dir: dir.to_path_buf(),
        shard: shard.to_string(),
        reason: reason.into(),
    }
}

/// Whether `dir` holds a sharded pool (a layout file).
pub fn is_sharded(dir: &Path) -> bool {
    dir.join(LAYOUT_FILE).is_file()
}

impl ShardLayout {
    /// `n` shards over `partitions` partitions in equal contiguous ranges.
    pub fn new(n: usize, partitions: u32, id: String) -> Result<ShardLayout> {
        if partitions == 0 || partitions > MAX_PARTITIONS {
            return Err(Error::Invalid(format!(
                "--partitions {partitions}: give 1 to {MAX_PARTITIONS}"
            )));
        }
        if n == 0 || n > partitions as usize {
            return Err(Error::Invalid(format!(
                "--shards {n}: give 1 to {partitions} (the number of partitions)"
            )));
        }
        let p = u64::from(partitions);
        let shards = (0..n as u64)
            .map(|i| ShardEntry {
                path: format!("shard-{i:04}"),
                first: (i * p / n as u64) as u32,
                end: ((i + 1) * p / n as u64) as u32,
            })
            .collect();
        Ok(ShardLayout {
            layout_version: LAYOUT_VERSION,
            id,
            partitions,
            shards,
        })
    }

    /// The range shard `i` serves.
    pub fn range(&self, i: usize) -> PartitionRange {
        PartitionRange {
            partitions: self.partitions,
            first: self.shards[i].first,
            end: self.shards[i].end,
        }
    }

    /// The index of the shard serving this text key.
    pub fn shard_of(&self, text_key: u128) -> usize {
        let p = partition_of(text_key, self.partitions);
        self.shards.partition_point(|s| s.end <= p)
    }

    /// The folder of shard `i`'s store.
    pub fn shard_path(&self, dir: &Path, i: usize) -> PathBuf {
        dir.join(&self.shards[i].path)
    }

    /// Refuses a layout of another version, or whose ranges do not cover the partitions.
    fn check(&self, dir: &Path) -> Result<()> {
        let bad = |reason: String| Error::Corrupt {
            path: dir.to_path_buf(),
            table: "SHARDS file",
            key: LAYOUT_FILE.into(),
            reason,
        };
        if self.layout_version != LAYOUT_VERSION {
            return Err(bad(format!(
                "layout version {}, this samplemix reads {LAYOUT_VERSION}",
                self.layout_version
            )));
        }
        let mut next = 0;
        for (i, s) in self.shards.iter().enumerate() {
            let safe = !s.path.is_empty()
                && Path::new(&s.path)
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)));
            if s.first != next || s.end <= s.first || !safe {
                return Err(bad(format!(
                    "shard {i} ({:?}, partitions {}..{}) does not continue the ranges at {next}",
                    s.path, s.first, s.end
                )));
            }
            next = s.end;
        }
        if next != self.partitions || self.shards.is_empty() {
            return Err(bad(format!(
                "the shards cover partitions 0..{next} of {}",
                self.partitions
            )));
        }
        Ok(())
    }
}

/// Creates a sharded pool of `n` empty stores in `dir` (which must not hold a store or a
/// layout): the stores and their `SHARD` files first, the layout file last, so that a layout
/// file always names stores that exist.
pub fn create(dir: &Path, n: usize, partitions: u32) -> Result<ShardLayout> {
    if is_sharded(dir) {
        return Err(Error::Invalid(format!(
            "{} already holds a sharded pool",
            dir.display()
        )));
    }
    if super::exists(dir) {
        return Err(Error::Invalid(format!(
            "{} holds a store: give an empty or new folder",
            dir.display()
        )));
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = format!("{}/{nanos}/{}", dir.display(), std::process::id());
    let id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(seed.as_bytes()));
    let layout = ShardLayout::new(n, partitions, id)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for i in 0..n {
        let path = layout.shard_path(dir, i);
        if super::exists(&path) {
            return Err(shard_err(dir, i, "its folder already holds a store"));
        }
        drop(Store::open_writer(&path)?);
        let mark = ShardMark {
            layout_id: layout.id.clone(),
            index: i,
            range: layout.range(i),
        };
        super::format::write_json_atomic(&path.join(SHARD_FILE), &mark)?;
    }
    super::format::write_json_atomic(&dir.join(LAYOUT_FILE), &layout)?;
    Ok(layout)
}

/// Reads the layout of the sharded pool at `dir` and checks every shard: its store exists, has
/// the format of the others, and its `SHARD` file names this layout, its index and its range.
/// Each failure is an error naming the shard.
pub fn open(dir: &Path) -> Result<ShardLayout> {
    let path = dir.join(LAYOUT_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let layout: ShardLayout = serde_json::from_str(&text).map_err(|e| Error::Corrupt {
        path: dir.to_path_buf(),
        table: "SHARDS file",
        key: LAYOUT_FILE.into(),
        reason: e.to_string(),
    })?;
    layout.check(dir)?;
    let mut first_format: Option<u32> = None;
    for (i, entry) in layout.shards.iter().enumerate() {
        let name = format!("{i} ({})", entry.path);
        let store = layout.shard_path(dir, i);
        let found = match format::read(&store) {
            Ok(Some(f)) => f.format_version,
            Ok(None) => return Err(shard_err(dir, &name, "missing: no store in its folder")),
            Err(e) => return Err(shard_err(dir, &name, e.to_string())),
        };
        match first_format {
            None => first_format = Some(found),
            Some(f) if f != found => {
                return Err(shard_err(
                    dir,
                    &name,
                    format!("store format {found}, but shard 0 has format {f}"),
                ))
            }
            Some(_) => {}
        }
        check_mark(dir, &layout, i, &name)?;
    }
    Ok(layout)
}

fn check_mark(dir: &Path, layout: &ShardLayout, i: usize, name: &str) -> Result<()> {
    let path = layout.shard_path(dir, i).join(SHARD_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        shard_err(
            dir,
            name,
            format!("its {SHARD_FILE} file cannot be read ({e}): not a shard of this pool"),
        )
    })?;
    let mark: ShardMark = serde_json::from_str(&text)
        .map_err(|e| shard_err(dir, name, format!("its {SHARD_FILE} file: {e}")))?;
    let expected = ShardMark {
        layout_id: layout.id.clone(),
        index: i,
        range: layout.range(i),
    };
    if mark != expected {
        return Err(shard_err(
            dir,
            name,
            format!(
                "the layout says shard {i}, partitions {}..{} of layout {}, its store says shard \
                 {}, partitions {}..{} of layout {}",
                expected.range.first,
                expected.range.end,
                expected.layout_id,
                mark.index,
                mark.range.first,
                mark.range.end,
                mark.layout_id
            ),
        ));
    }
    Ok(())
}

/// One shard in [`stats`].
#[derive(Clone, Debug, Serialize)]
pub struct ShardStats {
    /// Its store's folder.
    pub path: String,
    /// Partitions served.
    pub first: u32,
    /// One past the last partition served.
    pub end: u32,
    /// Samples stored.
    pub samples: u64,
    /// Tokens (estimates until scored).
    pub tokens: u64,
}

/// One source summed over the shards.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SourceSum {
    /// Samples.
    pub samples: u64,
    /// Tokens.
    pub tokens: u64,
    /// UTF-8 bytes of text.
    pub bytes: u64,
}

/// A sharded pool's totals: the shards' counters and sources summed.
#[derive(Clone, Debug, Serialize)]
pub struct ShardedStats {
    /// Virtual partitions.
    pub partitions: u32,
    /// Per shard.
    pub shards: Vec<ShardStats>,
    /// Samples stored.
    pub samples: u64,
    /// Tokens.
    pub tokens: u64,
    /// UTF-8 bytes of text.
    pub bytes: u64,
    /// Exact duplicates skipped.
    pub duplicates: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Per source, by name.
    pub sources: BTreeMap<String, SourceSum>,
}

/// Opens every shard for reading (after [`open`]'s checks) and sums counters and sources.
pub fn stats(dir: &Path) -> Result<ShardedStats> {
    let layout = open(dir)?;
    let mut out = ShardedStats {
        partitions: layout.partitions,
        shards: Vec::new(),
        samples: 0,
        tokens: 0,
        bytes: 0,
        duplicates: 0,
        rejected: 0,
        sources: BTreeMap::new(),
    };
    for (i, entry) in layout.shards.iter().enumerate() {
        let store = Store::open_reader(&layout.shard_path(dir, i))
            .map_err(|e| shard_err(dir, format!("{i} ({})", entry.path), e.to_string()))?;
        let c = store.counters()?;
        out.samples += c.docs;
        out.tokens += c.tokens;
        out.bytes += c.bytes;
        out.duplicates += c.duplicates;
        out.rejected += c.rejected;
        for (name, info) in store.sources()? {
            let s = out.sources.entry(name).or_default();
            s.samples += info.docs;
            s.tokens += info.tokens;
            s.bytes += info.bytes;
        }
        out.shards.push(ShardStats {
            path: entry.path.clone(),
            first: entry.first,
            end: entry.end,
            samples: c.docs,
            tokens: c.tokens,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_contiguous_key_ranges_and_shards_cover_them() {
        assert_eq!(partition_of(0, 4096), 0);
        assert_eq!(partition_of(u128::MAX, 4096), 4095);
        assert_eq!(partition_of(1u128 << 127, 4096), 2048);
        let layout = ShardLayout::new(3, 4096, "x".into()).unwrap();
        assert_eq!(
            layout
                .shards
                .iter()
                .map(|s| (s.first, s.end))
                .collect::<Vec<_>>(),
            [(0, 1365), (1365, 2730), (2730, 4096)]
        );
        for key in [0u128, 1 << 126, 1 << 127, u128::MAX] {
            let i = layout.shard_of(key);
            assert!(layout.range(i).contains(key), "{key:x} -> {i}");
        }
        layout.check(Path::new("d")).unwrap();
        assert!(ShardLayout::new(0, 16, "x".into()).is_err());
        assert!(ShardLayout::new(17, 16, "x".into()).is_err());
        let mut gap = layout.clone();
        gap.shards[1].first += 1;
        assert!(gap.check(Path::new("d")).is_err());
        let mut escape = layout;
        escape.shards[0].path = "../elsewhere".into();
        assert!(escape.check(Path::new("d")).is_err());
    }
}
