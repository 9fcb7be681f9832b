//! Export of a stored mix as shuffled document shards: zstd JSONL, or Parquet
//! ([`parquet`]), or token ids ([`tokens`]).
//!
//! Every sample appears `count` times. The order is a Fisher-Yates shuffle of all copies by a
//! ChaCha RNG (`rand::rngs::StdRng`) seeded with the export seed (the mix's seed unless given),
//! so the same store, mix and seed give the same bytes. Shards are filled in that order until a
//! shard holds at least `shard_tokens` tokens (the sample rows' token counts); lines (rows) are
//! `{"id", "text", "source", "metadata"}`. `manifest.json` lists the format, the shards, their
//! lines and tokens, and the mix parameters. Both formats write the same documents in the same
//! order for the same seed.

pub mod parquet;
pub mod tokens;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::pool::mixes::MixSpec;
use crate::store::{MixRecord, Store};

/// Name of the manifest file of an export.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Settings of an export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Tokens per shard (a shard is closed once it holds at least this many).
    pub shard_tokens: u64,
    /// Shuffle seed; `None`: the mix's seed.
    pub seed: Option<u64>,
    /// zstd level (of the JSONL stream or of the Parquet pages).
    pub level: i32,
    /// File format of the shards.
    pub format: DocFormat,
}

/// File format of a document export.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocFormat {
    /// zstd JSONL: `shard-NNNNN.jsonl.zst`.
    #[default]
    Jsonl,
    /// Parquet, zstd pages: `shard-NNNNN.parquet`.
    Parquet,
}

impl DocFormat {
    /// The shard files' extension.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            DocFormat::Jsonl => "jsonl.zst",
            DocFormat::Parquet => "parquet",
        }
    }
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            shard_tokens: 100_000_000,
            seed: None,
            level: 3,
            format: DocFormat::Jsonl,
        }
    }
}

/// One shard of an export.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ShardInfo {
    /// File name inside the output folder.
    pub file: String,
    /// Lines (sample copies).
    pub lines: u64,
    /// Tokens.
    pub tokens: u64,
}

/// The manifest of an export (`manifest.json`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ExportManifest {
    /// The mix name.
    pub mix: String,
    /// The shards' file format.
    pub format: DocFormat,
    /// Its parameters.
    pub params: serde_json::Value,
    /// The shuffle seed.
    pub shuffle_seed: u64,
    /// Lines in all shards.
    pub lines: u64,
    /// Tokens in all shards.
    pub tokens: u64,
    /// Distinct samples.
    pub samples: u64,
    /// The store's next_seq when the mix was drawn.
    pub drawn_at_next_seq: u64,
    /// The shards, in order.
    pub shards: Vec<ShardInfo>,
}

/// Checks that `out` can take an export: a missing or empty folder, or any folder with
/// `force` (whose earlier shards and manifest are then removed). A file is refused.
pub fn prepare_out(out: &Path, force: bool) -> Result<()> {
    if out.exists() {
        if !out.is_dir() {
            return Err(Error::Invalid(format!(
                "{} is a file, not a folder: give a folder for the export",
                out.display()
            )));
        }
        let entries: Vec<PathBuf> = std::fs::read_dir(out)
            .map_err(|e| Error::io(out, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        if !entries.is_empty() && !force {
            return Err(Error::Invalid(format!(
                "{} is not empty: give an empty or new folder, or --force to replace an \
                 earlier export there",
                out.display()
            )));
        }
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_file()
                && (name == MANIFEST_FILE
                    || (name.starts_with("shard-")
                        && (name.ends_with(".jsonl.zst")
                            || name.ends_with(".parquet")
                            || name.ends_with(".bin")
                            || name.ends_with(".idx"))))
            {
                std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            }
        }
    } else {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    }
    Ok(())
}

/// Writes `manifest` as pretty JSON to `out/manifest.json`.
pub(crate) fn write_manifest(out: &Path, manifest: &impl Serialize) -> Result<()> {
    let path = out.join(MANIFEST_FILE);
    let mut text =
        serde_json::to_vec_pretty(manifest).map_err(|e| Error::Invalid(e.to_string()))?;
    text.push(b'\n');
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
}

/// Every sample of the mix `count` times, shuffled by the export seed (`seed`, else the mix's
/// seed); returns the seed used and the order.
pub(crate) fn shuffled_copies(record: &MixRecord, seed: Option<u64>) -> Result<(u64, Vec<u64>)> {
    let spec = MixSpec::of(record)?;
    let seed = seed.unwrap_or(spec.seed);
    let mut copies: Vec<u64> = Vec::with_capacity(record.counts.iter().map(|c| c.1 as usize).sum());
    for &(seq, c) in &record.counts {
        for _ in 0..c {
            copies.push(seq);
        }
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x6578_706f_7274); // "export"
    copies.shuffle(&mut rng);
    Ok((seed, copies))
}

/// One exported document: the columns of a JSONL line and of a Parquet row.
#[derive(Serialize)]
pub(crate) struct Line<'a> {
    pub id: &'a str,
    pub text: &'a str,
    pub source: &'a str,
    pub metadata: Option<serde_json::Value>,
}

/// A shard file of documents being written.
trait DocShard {
    fn write(&mut self, line: &Line<'_>) -> Result<()>;
    fn finish(self: Box<Self>) -> Result<()>;
}

/// A zstd JSONL shard: one JSON object per line.
struct JsonlShard {
    enc: zstd::Encoder<'static, BufWriter<File>>,
    path: PathBuf,
    buf: Vec<u8>,
}

impl JsonlShard {
    fn create(path: PathBuf, level: i32) -> Result<Self> {
        let f = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let enc = zstd::Encoder::new(BufWriter::new(f), level).map_err(|e| Error::io(&path, e))?;
        Ok(JsonlShard {
            enc,
            path,
            buf: Vec::new(),
        })
    }
}

impl DocShard for JsonlShard {
    fn write(&mut self, line: &Line<'_>) -> Result<()> {
        self.buf.clear();
        serde_json::to_writer(&mut self.buf, line).map_err(|e| Error::Invalid(e.to_string()))?;
        self.buf.push(b'\n');
        self.enc
            .write_all(&self.buf)
            .map_err(|e| Error::io(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let mut w = self.enc.finish().map_err(|e| Error::io(&self.path, e))?;
        w.flush().map_err(|e| Error::io(&self.path, e))
    }
}

fn open_shard(out: &Path, n: usize, opts: &ExportOptions) -> Result<(Box<dyn DocShard>, String)> {
    let file = format!("shard-{n:05}.{}", opts.format.extension());
    let path = out.join(&file);
    let shard: Box<dyn DocShard> = match opts.format {
        DocFormat::Jsonl => Box::new(JsonlShard::create(path, opts.level)?),
        DocFormat::Parquet => Box::new(parquet::ParquetShard::create(path, opts.level)?),
    };
    Ok((shard, file))
}

/// Writes the mix `name` (its `record`) to `out` (see the module docs).
pub fn export(
    store: &Store,
    name: &str,
    record: &MixRecord,
    out: &Path,
    opts: &ExportOptions,
) -> Result<ExportManifest> {
    let (seed, copies) = shuffled_copies(record, opts.seed)?;
    let mut shards = Vec::new();
    let mut writer: Option<(Box<dyn DocShard>, ShardInfo)> = None;
    let mut total_tokens = 0u64;
    for chunk in copies.chunks(1024) {
        let docs = store.docs(chunk)?;
        let rows: Vec<_> = chunk
            .iter()
            .map(|&s| store.sample_row(s))
            .collect::<Result<_>>()?;
        for ((&seq, doc), row) in chunk.iter().zip(docs).zip(rows) {
            let (Some(doc), Some(row)) = (doc, row) else {
                return Err(Error::corrupt(
                    store.path(),
                    "mixes",
                    name,
                    format!("lists sample {seq}, which the store does not hold"),
                ));
            };
            let (shard, info) = match writer.as_mut() {
                Some(w) => w,
                None => {
                    let (shard, file) = open_shard(out, shards.len(), opts)?;
                    let info = ShardInfo {
                        file,
                        lines: 0,
                        tokens: 0,
                    };
                    writer.insert((shard, info))
                }
            };
            shard.write(&Line {
                id: &doc.id,
                text: &doc.text,
                source: &doc.source,
                metadata: doc
                    .metadata
                    .as_deref()
                    .and_then(|m| serde_json::from_str(m).ok()),
            })?;
            info.lines += 1;
            info.tokens += row.tokens as u64;
            total_tokens += row.tokens as u64;
            if info.tokens >= opts.shard_tokens.max(1) {
                if let Some((shard, info)) = writer.take() {
                    shard.finish()?;
                    shards.push(info);
                }
            }
        }
    }
    if let Some((shard, info)) = writer.take() {
        shard.finish()?;
        shards.push(info);
    }
    let manifest = ExportManifest {
        mix: name.to_string(),
        format: opts.format,
        params: serde_json::from_str(&record.params).unwrap_or_default(),
        shuffle_seed: seed,
        lines: copies.len() as u64,
        tokens: total_tokens,
        samples: record.counts.len() as u64,
        drawn_at_next_seq: record.counters.next_seq,
        shards,
    };
    write_manifest(out, &manifest)?;
    Ok(manifest)
}
