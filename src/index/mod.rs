//! The pool index: tantivy, beside the database inside the store folder, over the text, the
//! source and the scores later stages fill. It is derived data: every document is a function of
//! one sample in the store, and the whole index can be rebuilt from the store.
//!
//! Consistency with the store rests on one number, the watermark: each commit carries, in
//! tantivy's commit payload, the store sequence number up to which every sample is indexed.
//! A writer that opens the pool indexes the samples from the watermark on (see `Pool`).

mod readonly;
mod schema;
mod search;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::{
    directory::MmapDirectory, doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument,
    Term,
};

pub use schema::{
    build as build_schema, names, to_json as schema_json, Fields, INDEX_SCHEMA_VERSION,
};
pub use search::{
    check_query_limits, DiversityFilter, IndexHit, QuerySpec, SearchResult, SortBy,
    MAX_QUERY_BYTES, MAX_QUERY_DEPTH,
};

use crate::error::{Error, Result};

/// Folder of the index inside the store folder.
pub const INDEX_DIR: &str = "index";

/// Memory budget of the index writer (shared by its two threads; tantivy's floor is 15 MiB a
/// thread). Appending a 2.2 GB Parquet file peaked at 479 MiB of heap with 64 MiB here and at
/// 407 MiB with 32 MiB (BENCHMARKS.md, "Parquet input").
const WRITER_MEMORY: usize = 32 << 20;

/// Scores a sample's index document carries, once later stages have computed them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IndexScores {
    /// Topic id.
    pub topic: Option<u64>,
    /// Mean NLL per token.
    pub mean_nll: Option<f64>,
    /// Novelty in [0, 1].
    pub novelty: Option<f64>,
}

/// Everything one index document is made of.
#[derive(Clone, Copy, Debug)]
pub struct IndexEntry<'a> {
    /// Store sequence number.
    pub seq: u64,
    /// The text.
    pub text: &'a str,
    /// The source.
    pub source: &'a str,
    /// Token count.
    pub tokens: u64,
    /// Scores, where known.
    pub scores: IndexScores,
}

/// `(seq, topic, novelty)` of an indexed document.
pub type IndexedDiversity = (u64, Option<u64>, Option<f64>);

/// The commit payload: what the last commit covers.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
struct Payload {
    /// Every sample with a smaller sequence number is indexed.
    next_seq: u64,
    /// The schema version the documents follow.
    schema: u32,
}

/// An open pool index.
pub struct PoolIndex {
    index: Index,
    fields: Fields,
    path: PathBuf,
    reader: IndexReader,
    writer: Option<IndexWriter>,
    /// Whether documents were added or deleted since the last commit.
    pending: bool,
    watermark: u64,
    /// Why opening discarded the index and started it afresh, if it did.
    rebuilt: Option<String>,
}

impl PoolIndex {
    fn err(path: &Path, e: impl std::fmt::Display) -> Error {
        Error::Index {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }

    /// Opens the index of `store` for writing, creating it when missing. An index that cannot
    /// be opened or read, or that follows another schema, is discarded and starts empty
    /// (watermark 0): the caller re-indexes from the store.
    pub fn open_writer(store: &Path) -> Result<PoolIndex> {
        let path = store.join(INDEX_DIR);
        let (schema, fields) = build_schema();
        let mut rebuilt = None;
        let opened = if path.join("meta.json").exists() {
            Self::open_checked(&path, &fields, |p| {
                MmapDirectory::open(p).map_err(|e| e.to_string())
            })
            .map(Some)
        } else {
            Ok(None)
        };
        let index = match opened {
            Ok(Some((index, payload)))
                if index.schema() == schema
                    && payload.is_none_or(|p| p.schema == INDEX_SCHEMA_VERSION) =>
            {
                index
            }
            Ok(None) => Self::create(&path, schema)?,
            outdated_or_damaged => {
                rebuilt = Some(match outdated_or_damaged {
                    Err(reason) => format!("it could not be read: {reason}"),
                    _ => "it follows another schema".to_string(),
                });
                std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
                Self::create(&path, schema)?
            }
        };
        let watermark = Self::read_payload(&index, &path)?.map_or(0, |p| p.next_seq);
        let writer = index
            .writer_with_num_threads(2, WRITER_MEMORY)
            .map_err(|e| Self::err(&path, e))?;
        // A writer killed before its commit leaves files the last commit does not reference; a
        // replayed delete would then collide with its `.del` file. Remove them first.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(|e| Self::err(&path, e))?;
        let reader = Self::reader(&index, &path)?;
        Ok(PoolIndex {
            index,
            fields,
            path,
            reader,
            writer: Some(writer),
            pending: false,
            watermark,
            rebuilt,
        })
    }

    /// Opens the index of `store` for searching; `None` when it does not exist yet. Works on a
    /// read-only folder. An index that cannot be read is [`Error::IndexDamaged`].
    pub fn open_reader(store: &Path) -> Result<Option<PoolIndex>> {
        let path = store.join(INDEX_DIR);
        if !path.join("meta.json").exists() {
            return Ok(None);
        }
        let (schema, fields) = build_schema();
        let (index, payload) = Self::open_checked(&path, &fields, |p| {
            readonly::ReaderDirectory::open(p).map_err(|e| e.to_string())
        })
        .map_err(|reason| Error::IndexDamaged {
            path: path.clone(),
            reason,
        })?;
        if index.schema() != schema {
            return Err(Self::err(
                &path,
                "the index follows another schema; open the store with a writing command \
                 (append) to rebuild it",
            ));
        }
        let reader = Self::reader(&index, &path)?;
        Ok(Some(PoolIndex {
            index,
            fields,
            path,
            reader,
            writer: None,
            pending: false,
            watermark: payload.map_or(0, |p| p.next_seq),
            rebuilt: None,
        }))
    }

    /// Opens the index through `dir` and reads a little of every segment (each file's footer,
    /// the seq column, the text's term dictionary, the last stored document): a missing or
    /// truncated file shows here rather than in the middle of a search or a merge.
    fn open_checked<D: tantivy::Directory>(
        path: &Path,
        fields: &Fields,
        dir: impl FnOnce(&Path) -> std::result::Result<D, String>,
    ) -> std::result::Result<(Index, Option<Payload>), String> {
        let index = Index::open(dir(path)?).map_err(|e| describe(&e))?;
        let payload = Self::read_payload(&index, path).map_err(|e| e.to_string())?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: tantivy::TantivyError| describe(&e))?;
        let searcher = reader.searcher();
        for segment in searcher.segment_readers() {
            let id = segment.segment_id().uuid_string();
            let fail = |e: tantivy::TantivyError| format!("segment {id}: {}", describe(&e));
            segment.fast_fields().u64(names::SEQ).map_err(fail)?;
            segment.inverted_index(fields.text).map_err(fail)?;
            if segment.max_doc() > 0 {
                let store = segment.get_store_reader(1).map_err(|e| fail(e.into()))?;
                store
                    .get::<TantivyDocument>(segment.max_doc() - 1)
                    .map_err(fail)?;
            }
        }
        Ok((index, payload))
    }

    /// The files of the index whose checksum does not match their contents (reads every byte;
    /// for `samplemix check`).
    pub fn damaged_files(&self) -> std::result::Result<Vec<PathBuf>, String> {
        let mut files: Vec<PathBuf> = self
            .index
            .validate_checksum()
            .map_err(|e| describe(&e))?
            .into_iter()
            .collect();
        files.sort();
        Ok(files)
    }

    fn create(path: &Path, schema: tantivy::schema::Schema) -> Result<Index> {
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let dir = MmapDirectory::open(path).map_err(|e| Self::err(path, e))?;
        Index::create(dir, schema, Default::default()).map_err(|e| Self::err(path, e))
    }

    fn read_payload(index: &Index, path: &Path) -> Result<Option<Payload>> {
        let metas = index.load_metas().map_err(|e| Self::err(path, e))?;
        match metas.payload {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Self::err(path, format!("commit payload {text:?}: {e}"))),
        }
    }

    fn reader(index: &Index, path: &Path) -> Result<IndexReader> {
        index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| Self::err(path, e))
    }

    /// Every sample with a sequence number below this is indexed (as of the last commit).
    pub fn watermark(&self) -> u64 {
        self.watermark
    }

    /// Whether opening discarded an unreadable or outdated index.
    pub fn was_rebuilt(&self) -> bool {
        self.rebuilt.is_some()
    }

    /// Why opening discarded the index, if it did.
    pub fn rebuild_reason(&self) -> Option<&str> {
        self.rebuilt.as_deref()
    }

    /// Documents visible to searches.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Sequence numbers of every live document, in index order (for consistency checks).
    pub fn indexed_seqs(&self) -> Result<Vec<u64>> {
        let searcher = self.reader.searcher();
        let mut out = Vec::with_capacity(searcher.num_docs() as usize);
        for segment in searcher.segment_readers() {
            let col = segment
                .fast_fields()
                .u64(names::SEQ)
                .map_err(|e| Self::err(&self.path, e))?;
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    out.extend(col.first(doc));
                }
            }
        }
        Ok(out)
    }

    /// `(seq, topic, novelty)` of every live document, in index order (for consistency checks).
    pub fn indexed_diversity(&self) -> Result<Vec<IndexedDiversity>> {
        let searcher = self.reader.searcher();
        let mut out = Vec::with_capacity(searcher.num_docs() as usize);
        let err = |e| Self::err(&self.path, e);
        for segment in searcher.segment_readers() {
            let ff = segment.fast_fields();
            let seq = ff.u64(names::SEQ).map_err(err)?;
            let topic = ff.u64(names::TOPIC).map_err(err)?;
            let novelty = ff.f64(names::NOVELTY).map_err(err)?;
            let alive = segment.alive_bitset();
            for doc in 0..segment.max_doc() {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    if let Some(s) = seq.first(doc) {
                        out.push((s, topic.first(doc), novelty.first(doc)));
                    }
                }
            }
        }
        Ok(out)
    }

    /// The field handles.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    fn writer(&mut self) -> Result<&mut IndexWriter> {
        let path = &self.path;
        self.writer
            .as_mut()
            .ok_or_else(|| Self::err(path, "the index is open for reading only"))
    }

    fn document(&self, e: &IndexEntry<'_>) -> TantivyDocument {
        let f = &self.fields;
        let mut d = doc!(
            f.seq => e.seq,
            f.text => e.text,
            f.source => e.source,
            f.tokens => e.tokens,
        );
        if let Some(t) = e.scores.topic {
            d.add_u64(f.topic, t);
        }
        if let Some(n) = e.scores.mean_nll {
            d.add_f64(f.mean_nll, n);
        }
        if let Some(v) = e.scores.novelty {
            d.add_f64(f.novelty, v);
        }
        d
    }

    /// Adds a sample's document (the sample must not be indexed yet).
    pub fn add(&mut self, entry: &IndexEntry<'_>) -> Result<()> {
        let d = self.document(entry);
        let path = self.path.clone();
        self.writer()?
            .add_document(d)
            .map_err(|e| Self::err(&path, e))?;
        self.pending = true;
        Ok(())
    }

    /// Replaces a sample's document (after its scores changed).
    pub fn replace(&mut self, entry: &IndexEntry<'_>) -> Result<()> {
        let term = Term::from_field_u64(self.fields.seq, entry.seq);
        self.writer()?.delete_term(term);
        self.add(entry)
    }

    /// Removes every document (before a rebuild from the store).
    pub fn clear(&mut self) -> Result<()> {
        let path = self.path.clone();
        self.writer()?
            .delete_all_documents()
            .map_err(|e| Self::err(&path, e))?;
        self.pending = true;
        self.watermark = 0;
        Ok(())
    }

    /// Commits what was added, recording that every sample below `next_seq` is indexed, and
    /// makes it visible to this handle's searches.
    pub fn commit(&mut self, next_seq: u64) -> Result<()> {
        if !self.pending && self.watermark == next_seq {
            // Nothing added or deleted, same watermark: the last commit stands.
            return Ok(());
        }
        let path = self.path.clone();
        let payload = serde_json::to_string(&Payload {
            next_seq,
            schema: INDEX_SCHEMA_VERSION,
        })
        .expect("payload serialises");
        let writer = self.writer()?;
        crate::failpoint::hit("index.commit")?;
        let mut prepared = writer.prepare_commit().map_err(|e| Self::err(&path, e))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(|e| Self::err(&path, e))?;
        self.pending = false;
        self.watermark = next_seq;
        self.reader.reload().map_err(|e| Self::err(&path, e))?;
        Ok(())
    }

    /// Waits for background merges to finish and releases the writer.
    pub fn close(mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            w.wait_merging_threads()
                .map_err(|e| Self::err(&self.path, e))?;
        }
        Ok(())
    }

    /// The tantivy index, for advanced use (benchmarks, inspection).
    pub fn tantivy(&self) -> &Index {
        &self.index
    }

    /// Runs a search.
    pub fn search(&self, spec: &QuerySpec) -> Result<SearchResult> {
        search::run(self, spec).map_err(|e| match e {
            search::SearchError::Query(query, reason) => Error::Query { query, reason },
            search::SearchError::Tantivy(e) if is_damage(&e) => Error::IndexDamaged {
                path: self.path.clone(),
                reason: describe(&e),
            },
            search::SearchError::Tantivy(e) => Self::err(&self.path, e),
        })
    }
}

/// Whether a tantivy error means that files of the index are missing or damaged.
fn is_damage(e: &tantivy::TantivyError) -> bool {
    use tantivy::TantivyError as T;
    matches!(
        e,
        T::DataCorruption(_) | T::OpenReadError(_) | T::IoError(_) | T::IncompatibleIndex(_)
    )
}

/// A tantivy error in words: the file at fault and the operating system's or tantivy's reason,
/// without the Debug dumps of tantivy's own messages.
fn describe(e: &tantivy::TantivyError) -> String {
    use tantivy::directory::error::OpenReadError as O;
    use tantivy::TantivyError as T;
    match e {
        T::OpenReadError(O::FileDoesNotExist(p)) => format!("file {} is missing", p.display()),
        T::OpenReadError(O::IoError { io_error, filepath }) => {
            format!("file {}: {io_error}", filepath.display())
        }
        T::OpenReadError(O::IncompatibleIndex(_)) => {
            "a file was written by an unsupported tantivy version".into()
        }
        T::IoError(io) => io.to_string(),
        T::DataCorruption(d) => format!("{d:?}"),
        other => other.to_string(),
    }
}
