//! Export of a stored mix as token ids for training (`export --format tokens`).
//!
//! The mix's copies are shuffled exactly as the JSONL export shuffles them
//! ([`super`]); every copy is tokenized with a [`Tokenizer`] (the GGUF vocabulary) and written followed
//! by the tokenizer's EOS id. Shards `shard-NNNNN.bin` are flat little-endian arrays (uint16
//! when the vocabulary has at most 65536 ids, else uint32) that nanoGPT/OLMo-style loaders
//! memory-map. With [`TokenLayout::Megatron`] every shard also gets `shard-NNNNN.idx`, the
//! Megatron-LM `MMIDIDX` index over the same `.bin` (one sequence per document). A shard is
//! closed once it holds at least `shard_tokens` tokens. `manifest.json` lists the shards.
//! `schema/export.md` describes the files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use super::{shuffled_copies, write_manifest};
use crate::algo::tokenize::Tokenizer;
use crate::error::{Error, Result};
use crate::store::{MixRecord, Store};

/// Version of the token export layout (`schema/export.md`).
pub const TOKEN_EXPORT_VERSION: u32 = 1;

/// Megatron's index magic.
pub const MEGATRON_MAGIC: &[u8; 9] = b"MMIDIDX\x00\x00";

/// Which files a token export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenLayout {
    /// Flat `.bin` arrays only.
    Flat,
    /// Flat `.bin` arrays plus a Megatron `.idx` beside each.
    Megatron,
}

/// Settings of a token export.
#[derive(Clone, Debug)]
pub struct TokenExportOptions {
    /// Tokens per shard (a shard is closed once it holds at least this many).
    pub shard_tokens: u64,
    /// Shuffle seed; `None`: the mix's seed.
    pub seed: Option<u64>,
    /// Files to write.
    pub layout: TokenLayout,
}

/// The tokenizer as the manifest records it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TokenizerInfo {
    /// Kind: `gguf`.
    pub kind: String,
    /// The model file.
    pub model: String,
    /// xxh3 hash of the model file (hex).
    pub file_hash: String,
    /// Ids in the vocabulary.
    pub vocab_size: u32,
    /// The end-of-document id written after every document.
    pub eos_id: u32,
}

/// One shard of a token export.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TokenShard {
    /// The flat token file.
    pub bin: String,
    /// The Megatron index, when written.
    pub idx: Option<String>,
    /// Tokens in `bin` (EOS ids included).
    pub tokens: u64,
    /// Documents (sample copies).
    pub documents: u64,
}

/// The manifest of a token export.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TokenManifest {
    /// [`TOKEN_EXPORT_VERSION`].
    pub format_version: u32,
    /// `tokens`.
    pub format: String,
    /// The mix name.
    pub mix: String,
    /// Its parameters.
    pub params: serde_json::Value,
    /// The shuffle seed.
    pub shuffle_seed: u64,
    /// `uint16` or `uint32`, little-endian.
    pub dtype: String,
    /// Megatron dtype code of the `.idx` files (8: uint16, 4: int32).
    pub megatron_dtype_code: u8,
    /// Files written.
    pub layout: TokenLayout,
    /// The tokenizer.
    pub tokenizer: TokenizerInfo,
    /// Documents in all shards.
    pub documents: u64,
    /// Tokens in all shards.
    pub tokens: u64,
    /// Distinct samples.
    pub samples: u64,
    /// The shards, in order.
    pub shards: Vec<TokenShard>,
}

struct Shard {
    info: TokenShard,
    w: BufWriter<File>,
    sizes: Vec<i32>,
}

/// Writes the mix `name` (its `record`) as tokens to `out` (see the module docs).
///
/// # Errors
/// I/O errors naming the file; a corrupt store; a document over `i32::MAX` tokens.
pub fn export_tokens(
    store: &Store,
    name: &str,
    record: &MixRecord,
    out: &Path,
    tok: &dyn Tokenizer,
    opts: &TokenExportOptions,
) -> Result<TokenManifest> {
    let (seed, copies) = shuffled_copies(record, opts.seed)?;
    let wide = tok.n_vocab() > 65536;
    let mut shards = Vec::new();
    let mut cur: Option<Shard> = None;
    let mut bytes = Vec::new();
    for chunk in copies.chunks(256) {
        let docs = store.docs(chunk)?;
        let texts = chunk
            .iter()
            .zip(docs)
            .map(|(&seq, d)| {
                d.map(|d| d.text).ok_or_else(|| {
                    Error::corrupt(
                        store.path(),
                        "mixes",
                        name,
                        format!("lists sample {seq}, which the store does not hold"),
                    )
                })
            })
            .collect::<Result<Vec<String>>>()?;
        let tokenized: Vec<Vec<u32>> = texts
            .par_iter()
            .map(|t| {
                let mut v = Vec::with_capacity(t.len() / 3 + 2);
                tok.tokenize_into(t, &mut v);
                v.push(tok.eos());
                v
            })
            .collect();
        for ids in tokenized {
            let shard = match cur.as_mut() {
                Some(s) => s,
                None => cur.insert(open_shard(out, shards.len(), opts.layout)?),
            };
            bytes.clear();
            for &id in &ids {
                if wide {
                    bytes.extend_from_slice(&id.to_le_bytes());
                } else {
                    // n_vocab <= 65536, so every id fits.
                    bytes.extend_from_slice(&u16::try_from(id).unwrap_or(u16::MAX).to_le_bytes());
                }
            }
            let path = out.join(&shard.info.bin);
            shard.w.write_all(&bytes).map_err(|e| Error::io(&path, e))?;
            let n = i32::try_from(ids.len()).map_err(|_| {
                Error::Invalid(format!("a document of {} tokens is too long", ids.len()))
            })?;
            shard.sizes.push(n);
            shard.info.tokens += ids.len() as u64;
            shard.info.documents += 1;
            if shard.info.tokens >= opts.shard_tokens.max(1) {
                if let Some(s) = cur.take() {
                    shards.push(close_shard(out, s, wide)?);
                }
            }
        }
    }
    if let Some(s) = cur.take() {
        shards.push(close_shard(out, s, wide)?);
    }
    let manifest = TokenManifest {
        format_version: TOKEN_EXPORT_VERSION,
        format: "tokens".into(),
        mix: name.to_string(),
        params: serde_json::from_str(&record.params).unwrap_or_default(),
        shuffle_seed: seed,
        dtype: if wide { "uint32" } else { "uint16" }.into(),
        megatron_dtype_code: if wide { 4 } else { 8 },
        layout: opts.layout,
        tokenizer: TokenizerInfo {
            kind: tok.kind().to_string(),
            model: tok.source(),
            file_hash: tok.file_hash().to_string(),
            vocab_size: tok.n_vocab(),
            eos_id: tok.eos(),
        },
        documents: shards.iter().map(|s| s.documents).sum(),
        tokens: shards.iter().map(|s| s.tokens).sum(),
        samples: record.counts.len() as u64,
        shards,
    };
    write_manifest(out, &manifest)?;
    Ok(manifest)
}

fn open_shard(out: &Path, n: usize, layout: TokenLayout) -> Result<Shard> {
    let bin = format!("shard-{n:05}.bin");
    let path = out.join(&bin);
    let f = File::create(&path).map_err(|e| Error::io(&path, e))?;
    Ok(Shard {
        info: TokenShard {
            bin,
            idx: (layout == TokenLayout::Megatron).then(|| format!("shard-{n:05}.idx")),
            tokens: 0,
            documents: 0,
        },
        w: BufWriter::with_capacity(1 << 20, f),
        sizes: Vec::new(),
    })
}

fn close_shard(out: &Path, mut s: Shard, wide: bool) -> Result<TokenShard> {
    let path = out.join(&s.info.bin);
    s.w.flush().map_err(|e| Error::io(&path, e))?;
    if let Some(idx) = &s.info.idx {
        let path = out.join(idx);
        std::fs::write(&path, megatron_index(&s.sizes, wide)).map_err(|e| Error::io(&path, e))?;
    }
    Ok(s.info)
}

/// The bytes of a Megatron-LM `MMIDIDX` version-1 index over documents of `sizes` tokens, one
/// sequence per document: magic, u64 version 1, u8 dtype code (8 uint16, 4 int32), u64
/// sequence count, u64 document count (sequences + 1), i32 sizes, i64 byte pointers, i64
/// document indices `0..=n`.
#[must_use]
pub fn megatron_index(sizes: &[i32], wide: bool) -> Vec<u8> {
    let item: i64 = if wide { 4 } else { 2 };
    let n = sizes.len() as u64;
    let mut b = Vec::with_capacity(34 + sizes.len() * 20 + 8);
    b.extend_from_slice(MEGATRON_MAGIC);
    b.extend_from_slice(&1u64.to_le_bytes());
    b.push(if wide { 4 } else { 8 });
    b.extend_from_slice(&n.to_le_bytes());
    b.extend_from_slice(&(n + 1).to_le_bytes());
    for &s in sizes {
        b.extend_from_slice(&s.to_le_bytes());
    }
    let mut ptr = 0i64;
    for &s in sizes {
        b.extend_from_slice(&ptr.to_le_bytes());
        ptr += i64::from(s) * item;
    }
    for i in 0..=n {
        b.extend_from_slice(&(i as i64).to_le_bytes());
    }
    b
}
