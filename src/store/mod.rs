//! The store: RocksDB, the source of truth of the pool. One column family per table, each a typed
//! map (see [`Table`]); values carry a version byte ([`codec`]); the folder declares its format in
//! a `FORMAT` file ([`format`]); one writer at a time ([`lock`]), any number of readers.
//!
//! The store knows nothing of tantivy: the index is derived from it and can be rebuilt from it.

mod appended_files;
mod classifier_records;
pub mod codec;
mod create;
pub mod format;
#[cfg(test)]
mod golden_tests;
mod lock;
mod mix_records;
mod model_embeddings;
mod records;
pub mod shards;
mod signal_records;
pub mod topic_layouts;
mod topic_records;

use std::path::{Path, PathBuf};

use rocksdb::{ColumnFamily, ColumnFamilyDescriptor, DBCompressionType, Options, WriteBatch, DB};

pub use appended_files::{appended_file_key, AppendedFile, APPENDED_FILE_PREFIX};
pub use classifier_records::{ClassifierRecord, CLASSIFIER_KEY};
pub use codec::Versioned;
pub use format::{FORMAT_VERSION, OLDEST_READABLE_FORMAT};
pub use lock::LOCK_FILE;
pub use mix_records::{MixExclusions, MixRecord, MixSourceTotals};
pub use model_embeddings::{
    EmbeddingSource, ModelEmbeddingRecord, TopicEmbedding, TOPIC_EMBEDDING_KEY,
    TOPIC_EMBEDDING_REFIT_KEY,
};
pub use records::{
    DocRecord, NllQuantiles, PoolCounters, SampleRow, ScoreRecord, ScorerState, SourceInfo,
};
pub use signal_records::{
    read_signal_key, signal_key, QuantileGroup, Signal, SignalQuantiles, SignalRecord, SignalState,
};
pub use topic_records::{
    f16_bits_to_f32, f32_to_f16_bits, round_to_f16, AssignmentRecord, DiversityQuantiles,
    EmbeddingRecord, MinHashRecord, OverlapRecord, TopicModel, TopicRecord, TopicSettings,
    TopicSourceShare, TopicState, TopicTerm, DIVERSITY_SCALE_KEY, TOPICS_KEY, TOPIC_MODEL_KEY,
    TOPIC_REFIT_KEY,
};

use crate::error::{Error, Result};
pub use create::repair_database;
use create::{check_db_files, create_database, finish_creation, is_pristine, open_error};

/// Folder of the RocksDB database inside the store folder.
pub const DB_DIR: &str = "db";

/// The tables of the store, one RocksDB column family each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Maps a fixed name (`counters`, `format_version`) to pool-wide values.
    Meta,
    /// Maps a sequence number (u64 BE) to its [`DocRecord`].
    Docs,
    /// Maps a sequence number (u64 BE) to its compact [`SampleRow`].
    Samples,
    /// Maps a source name (UTF-8) to its [`SourceInfo`].
    Sources,
    /// Maps the xxh3-128 of a normalised text (u128 BE) to its sequence number (u64 BE).
    Dedup,
    /// Maps a sample id (UTF-8) to its sequence number (u64 BE).
    Ids,
    /// Maps a sequence number (u64 BE) to nothing: samples whose index document is stale.
    Reindex,
    /// Maps a sequence number (u64 BE) to its [`ScoreRecord`].
    Scores,
    /// Maps a sequence number (u64 BE) to its [`MinHashRecord`].
    Minhash,
    /// Maps an LSH bucket key (u64 BE) followed by a sequence number (u64 BE) to nothing: the
    /// samples of a bucket are the keys under its 8-byte prefix.
    Lsh,
    /// Maps a sequence number (u64 BE) to its [`OverlapRecord`].
    Overlaps,
    /// Maps a sequence number (u64 BE) to its [`EmbeddingRecord`].
    Embeddings,
    /// Maps a sequence number (u64 BE) to its [`AssignmentRecord`].
    Assignments,
    /// Maps a topic id (u32 BE) to its [`TopicRecord`].
    Topics,
    /// Maps a mix name (UTF-8) to its [`MixRecord`].
    Mixes,
    /// Maps a signal id (u32 BE) followed by a sequence number (u64 BE) to its
    /// [`SignalRecord`] (store format 2).
    Signals,
    /// Maps a sequence number (u64 BE) to its [`ModelEmbeddingRecord`] (store format 3).
    ModelEmbeddings,
}

impl Table {
    /// Every table, in creation order.
    pub const ALL: [Table; 17] = [
        Table::Meta,
        Table::Docs,
        Table::Samples,
        Table::Sources,
        Table::Dedup,
        Table::Ids,
        Table::Reindex,
        Table::Scores,
        Table::Minhash,
        Table::Lsh,
        Table::Overlaps,
        Table::Embeddings,
        Table::Assignments,
        Table::Topics,
        Table::Mixes,
        Table::Signals,
        Table::ModelEmbeddings,
    ];

    /// The column family name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Docs => "docs",
            Table::Samples => "samples",
            Table::Sources => "sources",
            Table::Dedup => "dedup",
            Table::Ids => "ids",
            Table::Reindex => "reindex",
            Table::Scores => "scores",
            Table::Minhash => "minhash",
            Table::Lsh => "lsh",
            Table::Overlaps => "overlaps",
            Table::Embeddings => "embeddings",
            Table::Assignments => "assignments",
            Table::Topics => "topics",
            Table::Mixes => "mixes",
            Table::Signals => "signals",
            Table::ModelEmbeddings => "model_embeddings",
        }
    }
}

const COUNTERS_KEY: &[u8] = b"counters";
/// Key of [`ScorerState`] in table `meta`.
pub const SCORER_KEY: &[u8] = b"scorer";
/// Key of [`NllQuantiles`] in table `meta`.
pub const NLL_QUANTILES_KEY: &[u8] = b"nll_quantiles";
const FORMAT_KEY: &[u8] = b"format_version";

/// How a store was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The single writer: holds `writer.lock`.
    Write,
    /// A reader: sees the state as of opening, never blocks a writer.
    Read,
}

/// An open store.
pub struct Store {
    db: DB,
    path: PathBuf,
    access: Access,
    _lock: Option<lock::WriterLock>,
}

impl Drop for Store {
    /// A writer flushes every table on closing, so that a closed store's data lives in its
    /// table files and not only in the write-ahead log: RocksDB's repair recovers table files
    /// whole, but drops logged writes to tables that have no table file yet.
    fn drop(&mut self) {
        if self.access == Access::Write {
            for t in Table::ALL {
                if let Some(cf) = self.db.cf_handle(t.name()) {
                    let _ = self.db.flush_cf(cf);
                }
            }
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("access", &self.access)
            .finish()
    }
}

/// Options of the database; `create` lets RocksDB create a missing database, which only the
/// creation of a new store may do.
pub(crate) fn db_options(create: bool) -> Options {
    let mut opts = Options::default();
    opts.create_if_missing(create);
    opts.create_missing_column_families(true);
    opts.set_compression_type(DBCompressionType::Lz4);
    opts.set_bottommost_compression_type(DBCompressionType::Zstd);
    opts.increase_parallelism(2);
    opts.set_keep_log_file_num(4);
    // One memtable budget for all tables together (else each may hold 2 x 64 MiB).
    opts.set_db_write_buffer_size(64 << 20);
    opts
}

/// Folder in which a new store's database is built before it is renamed to [`DB_DIR`]: a crash
/// during creation leaves it behind, and since it never held data the next creation removes it.
pub const CREATING_DIR: &str = "db.creating";

/// Tables a store may lack because a later build of its format (`mixes`) or a later format
/// (`signals`, format 2; `model_embeddings`, format 3) added them; a writer creates them, a
/// reader treats them as empty.
const LATER_TABLES: [Table; 3] = [Table::Mixes, Table::Signals, Table::ModelEmbeddings];

/// Takes the writer lock of the store at `path` (held until dropped), so that nothing writes
/// while its files are copied.
pub(crate) fn lock_writer(path: &Path) -> Result<lock::WriterLock> {
    lock::acquire(path)
}

/// Whether `path` holds a store, whole or damaged: a `FORMAT` file or a database.
pub fn exists(path: &Path) -> bool {
    path.join(format::FORMAT_FILE).exists() || path.join(DB_DIR).exists()
}

impl Store {
    /// Opens `path` as its single writer, creating the store if the folder does not hold one.
    /// Only `append` creates stores; the other writing commands use [`Store::open_existing_writer`].
    pub fn open_writer(path: &Path) -> Result<Store> {
        Self::writer(path, true)
    }

    /// Opens the store at `path` as its single writer; [`Error::NoStore`] when there is none.
    pub fn open_existing_writer(path: &Path) -> Result<Store> {
        Self::writer(path, false)
    }

    fn writer(path: &Path, create: bool) -> Result<Store> {
        if path.exists() && !path.is_dir() {
            return Err(Error::Invalid(format!(
                "store {} is not a folder",
                path.display()
            )));
        }
        if !create && !exists(path) {
            return Err(Error::NoStore {
                path: path.to_path_buf(),
            });
        }
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let lock = lock::acquire(path)?;
        if format::read(path)?.is_none() {
            if path.join(DB_DIR).exists() {
                finish_creation(path, create)?;
            } else if create {
                create_database(path)?;
            } else {
                return Err(Error::NoStore {
                    path: path.to_path_buf(),
                });
            }
        }
        check_db_files(path)?;
        let cfs = Table::ALL
            .iter()
            .map(|t| ColumnFamilyDescriptor::new(t.name(), db_options(false)));
        let db = DB::open_cf_descriptors(&db_options(false), path.join(DB_DIR), cfs)
            .map_err(|e| open_error(path, e))?;
        let store = Store {
            db,
            path: path.to_path_buf(),
            access: Access::Write,
            _lock: Some(lock),
        };
        store.check_db_format()?;
        Ok(store)
    }

    /// Opens `path` for reading. Works while a writer is running in another process, and on a
    /// read-only folder; sees the state as of the moment it opens.
    pub fn open_reader(path: &Path) -> Result<Store> {
        if format::read(path)?.is_none() {
            let db = path.join(DB_DIR);
            let holds_data = db.exists() && !is_pristine(&db).unwrap_or(false);
            // No store, or one being created: its FORMAT file, written last, may have appeared
            // meanwhile.
            if format::read(path)?.is_none() {
                return Err(if holds_data {
                    Error::Damaged {
                        path: path.to_path_buf(),
                        what: "the FORMAT file is missing but a database holding data exists"
                            .into(),
                    }
                } else {
                    Error::NoStore {
                        path: path.to_path_buf(),
                    }
                });
            }
        }
        check_db_files(path)?;
        // A writer at work deletes write-ahead logs it has flushed, which a reader listed a
        // moment before may still look for: a file that vanishes is retried, not damage.
        let mut tries = 0;
        loop {
            match Self::open_read_only(path) {
                Err(Error::Damaged { what, .. }) if what.contains("No such file") && tries < 20 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => return other,
            }
        }
    }

    fn open_read_only(path: &Path) -> Result<Store> {
        let existing =
            DB::list_cf(&db_options(false), path.join(DB_DIR)).map_err(|e| open_error(path, e))?;
        let mut names = Vec::new();
        for t in Table::ALL {
            if existing.iter().any(|e| e == t.name()) {
                names.push(t.name());
            } else if !LATER_TABLES.contains(&t) {
                return Err(Error::Damaged {
                    path: path.to_path_buf(),
                    what: format!("table {} is missing from its database", t.name()),
                });
            }
        }
        let db = DB::open_cf_for_read_only(&db_options(false), path.join(DB_DIR), names, false)
            .map_err(|e| open_error(path, e))?;
        let store = Store {
            db,
            path: path.to_path_buf(),
            access: Access::Read,
            _lock: None,
        };
        store.check_db_format()?;
        Ok(store)
    }

    /// The database records the format too, so that a `FORMAT` file copied from elsewhere cannot
    /// hide a mismatch. A new database gets the current version.
    fn check_db_format(&self) -> Result<()> {
        match self.stored_format()? {
            Some(found) => {
                format::check(&self.path, found)?;
                if found < FORMAT_VERSION && self.access == Access::Write {
                    self.migrate(found)?;
                }
                Ok(())
            }
            None if self.access == Access::Write => self
                .db
                .put_cf(
                    self.cf(Table::Meta),
                    FORMAT_KEY,
                    FORMAT_VERSION.to_be_bytes(),
                )
                .map_err(|e| self.db_err(e)),
            None => Ok(()),
        }
    }

    /// The format version recorded in `meta`, if any (4 bytes, big-endian).
    fn stored_format(&self) -> Result<Option<u32>> {
        let Some(bytes) = self
            .db
            .get_cf(self.cf(Table::Meta), FORMAT_KEY)
            .map_err(|e| self.db_err(e))?
        else {
            return Ok(None);
        };
        bytes
            .as_slice()
            .try_into()
            .map(|b| Some(u32::from_be_bytes(b)))
            .map_err(|_| Error::Corrupt {
                path: self.path.clone(),
                table: "meta",
                key: "format_version".into(),
                reason: format!("{} bytes, expected 4", bytes.len()),
            })
    }

    /// Brings a store of an older readable format to the current one, as its writer. Format 1
    /// to 2 adds table `signals`, 2 to 3 table `model_embeddings`, both of which opening the
    /// database already created empty; 3 to 4 changes no byte (new mixes draw with the text-key
    /// uniform, and a stored mix without the `uniform` parameter keeps the sequence-number
    /// one): only the version is raised, in the database first, then in `FORMAT` (a crash in
    /// between leaves a store that opens, and the next writer rewrites `FORMAT`). Readers never
    /// migrate: they read a format-1 to 4 store as it is (an absent `signals` or
    /// `model_embeddings` table reads as empty). The bump to 4 keeps an older samplemix, which
    /// would re-draw a text-key mix with the sequence-number uniform, off a store that holds
    /// one; the bump to 5 likewise for mixes whose held topics round whole.
    fn migrate(&self, from: u32) -> Result<()> {
        debug_assert!(from >= OLDEST_READABLE_FORMAT);
        self.db
            .put_cf(
                self.cf(Table::Meta),
                FORMAT_KEY,
                FORMAT_VERSION.to_be_bytes(),
            )
            .map_err(|e| self.db_err(e))?;
        self.db
            .flush_cf(self.cf(Table::Meta))
            .map_err(|e| self.db_err(e))?;
        format::rewrite(&self.path).map(|_| ())
    }

    /// The store format version the database records (what `stats` shows): an older one for a
    /// store only readers have opened since it was written.
    pub fn format_version(&self) -> Result<u32> {
        Ok(self.stored_format()?.unwrap_or(FORMAT_VERSION))
    }

    /// The store folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How the store was opened.
    pub fn access(&self) -> Access {
        self.access
    }

    fn cf(&self, table: Table) -> &ColumnFamily {
        self.db
            .cf_handle(table.name())
            .expect("every table is opened with the store")
    }

    fn db_err(&self, e: rocksdb::Error) -> Error {
        Error::Db {
            path: self.path.clone(),
            message: e.into_string(),
        }
    }

    fn decode<T: Versioned>(&self, key: &[u8], bytes: &[u8]) -> Result<T> {
        codec::decode(bytes).map_err(|reason| Error::Corrupt {
            path: self.path.clone(),
            table: T::TABLE,
            key: codec::hex(key),
            reason,
        })
    }

    fn get<T: Versioned>(&self, table: Table, key: &[u8]) -> Result<Option<T>> {
        match self
            .db
            .get_pinned_cf(self.cf(table), key)
            .map_err(|e| self.db_err(e))?
        {
            Some(bytes) => self.decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Pool-wide counters (all zero for a new store).
    pub fn counters(&self) -> Result<PoolCounters> {
        Ok(self.get(Table::Meta, COUNTERS_KEY)?.unwrap_or_default())
    }

    /// Every source with its totals, sorted by name.
    pub fn sources(&self) -> Result<Vec<(String, SourceInfo)>> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(Table::Sources), rocksdb::IteratorMode::Start)
        {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            let name = String::from_utf8_lossy(&key).into_owned();
            out.push((name, self.decode(&key, &value)?));
        }
        Ok(out)
    }

    /// The sample stored under `seq`.
    pub fn doc(&self, seq: u64) -> Result<Option<DocRecord>> {
        self.get(Table::Docs, &codec::seq_key(seq))
    }

    /// The compact row of the sample stored under `seq`.
    pub fn sample_row(&self, seq: u64) -> Result<Option<SampleRow>> {
        self.get(Table::Samples, &codec::seq_key(seq))
    }

    /// A value of table `meta`.
    pub fn meta<T: Versioned>(&self, key: &[u8]) -> Result<Option<T>> {
        self.get(Table::Meta, key)
    }

    /// The raw quality figures of the sample stored under `seq`.
    pub fn score(&self, seq: u64) -> Result<Option<ScoreRecord>> {
        self.get(Table::Scores, &codec::seq_key(seq))
    }

    /// Every compact sample row, in sequence order.
    pub fn sample_rows(&self) -> impl Iterator<Item = Result<(u64, SampleRow)>> + '_ {
        self.scan_seq(Table::Samples, 0)
    }

    /// Values of a table keyed by sequence number, from `from` on, in sequence order.
    fn scan_seq<T: Versioned>(
        &self,
        table: Table,
        from: u64,
    ) -> impl Iterator<Item = Result<(u64, T)>> + '_ {
        let start = codec::seq_key(from);
        self.db
            .iterator_cf(
                self.cf(table),
                rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward),
            )
            .map(move |item| {
                let (key, value) = item.map_err(|e| self.db_err(e))?;
                let seq = codec::read_seq(&key).ok_or_else(|| Error::Corrupt {
                    path: self.path.clone(),
                    table: table.name(),
                    key: codec::hex(&key),
                    reason: "key is not a sequence number".into(),
                })?;
                Ok((seq, self.decode(&key, &value)?))
            })
    }

    /// Texts of the samples stored under `seqs`, in order (`None` for a missing sample).
    pub fn docs(&self, seqs: &[u64]) -> Result<Vec<Option<DocRecord>>> {
        self.multi_get_seq_values(Table::Docs, seqs)
    }

    /// The sequence number of the sample with this id.
    pub fn seq_of_id(&self, id: &str) -> Result<Option<u64>> {
        Ok(self.seqs_of_ids(&[id])?[0])
    }

    /// Sequence numbers of samples with these ids, in order.
    pub fn seqs_of_ids(&self, ids: &[&str]) -> Result<Vec<Option<u64>>> {
        self.multi_get_seq(Table::Ids, ids.iter().map(|id| id.as_bytes()))
    }

    /// Sequence numbers of samples whose normalised text has these hashes, in order.
    pub fn seqs_of_hashes(&self, hashes: &[u128]) -> Result<Vec<Option<u64>>> {
        let keys: Vec<[u8; 16]> = hashes.iter().map(|h| codec::hash_key(*h)).collect();
        self.multi_get_seq(Table::Dedup, keys.iter().map(|k| k.as_slice()))
    }

    fn multi_get_seq<'k>(
        &self,
        table: Table,
        keys: impl Iterator<Item = &'k [u8]>,
    ) -> Result<Vec<Option<u64>>> {
        let cf = self.cf(table);
        self.db
            .multi_get_cf(keys.map(|k| (cf, k)))
            .into_iter()
            .map(|r| {
                let bytes = r.map_err(|e| self.db_err(e))?;
                Ok(match bytes {
                    None => None,
                    Some(b) => Some(codec::read_seq(&b).ok_or_else(|| Error::Corrupt {
                        path: self.path.clone(),
                        table: table.name(),
                        key: String::new(),
                        reason: format!("sequence number of {} bytes", b.len()),
                    })?),
                })
            })
            .collect()
    }

    /// Samples with sequence numbers `from..`, in order.
    pub fn docs_from(&self, from: u64) -> impl Iterator<Item = Result<(u64, DocRecord)>> + '_ {
        self.scan_seq(Table::Docs, from)
    }

    /// The mix stored under `name`.
    pub fn mix(&self, name: &str) -> Result<Option<MixRecord>> {
        if self.db.cf_handle(Table::Mixes.name()).is_none() {
            return Ok(None);
        }
        self.get(Table::Mixes, name.as_bytes())
    }

    /// Names of the stored mixes, sorted.
    pub fn mix_names(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        if self.db.cf_handle(Table::Mixes.name()).is_none() {
            return Ok(out);
        }
        for item in self
            .db
            .iterator_cf(self.cf(Table::Mixes), rocksdb::IteratorMode::Start)
        {
            let (key, _) = item.map_err(|e| self.db_err(e))?;
            out.push(String::from_utf8_lossy(&key).into_owned());
        }
        Ok(out)
    }

    /// `signal`'s value of the sample stored under `seq`.
    pub fn signal_value(&self, signal: Signal, seq: u64) -> Result<Option<SignalRecord>> {
        if self.db.cf_handle(Table::Signals.name()).is_none() {
            return Ok(None);
        }
        self.get(Table::Signals, &signal_key(signal, seq))
    }

    /// `signal`'s values of the samples stored under `seqs`, in order.
    pub fn signal_values_of(
        &self,
        signal: Signal,
        seqs: &[u64],
    ) -> Result<Vec<Option<SignalRecord>>> {
        let Some(cf) = self.db.cf_handle(Table::Signals.name()) else {
            return Ok(vec![None; seqs.len()]);
        };
        let keys: Vec<[u8; 12]> = seqs.iter().map(|&s| signal_key(signal, s)).collect();
        self.db
            .multi_get_cf(keys.iter().map(|k| (cf, k.as_slice())))
            .into_iter()
            .zip(&keys)
            .map(|(r, key)| match r.map_err(|e| self.db_err(e))? {
                Some(bytes) => self.decode(key, &bytes).map(Some),
                None => Ok(None),
            })
            .collect()
    }

    /// Every stored value of `signal` from sequence number `from` on, in sequence order (an
    /// empty iterator on a store without table `signals`).
    pub fn signal_values(
        &self,
        signal: Signal,
        from: u64,
    ) -> Box<dyn Iterator<Item = Result<(u64, SignalRecord)>> + '_> {
        let Some(cf) = self.db.cf_handle(Table::Signals.name()) else {
            return Box::new(std::iter::empty());
        };
        let start = signal_key(signal, from);
        let prefix = signal.id().to_be_bytes();
        let it = self
            .db
            .iterator_cf(
                cf,
                rocksdb::IteratorMode::From(&start, rocksdb::Direction::Forward),
            )
            .map(move |item| item.map_err(|e| self.db_err(e)))
            .take_while(move |item| match item {
                Ok((key, _)) => key.starts_with(&prefix),
                Err(_) => true,
            })
            .map(move |item| {
                let (key, value) = item?;
                let (_, seq) = read_signal_key(&key).ok_or_else(|| Error::Corrupt {
                    path: self.path.clone(),
                    table: "signals",
                    key: codec::hex(&key),
                    reason: "key is not a signal id and a sequence number".into(),
                })?;
                Ok((seq, self.decode(&key, &value)?))
            });
        Box::new(it)
    }

    /// Sequence numbers marked for re-indexing.
    pub fn reindex_marks(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(Table::Reindex), rocksdb::IteratorMode::Start)
        {
            let (key, _) = item.map_err(|e| self.db_err(e))?;
            if let Some(seq) = codec::read_seq(&key) {
                out.push(seq);
            }
        }
        Ok(out)
    }

    /// Bytes the store's files take on disk (database and index).
    pub fn size_on_disk(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            let Ok(rd) = std::fs::read_dir(p) else {
                return 0;
            };
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        }
        walk(&self.path)
    }

    /// Reads every key and value of `table` (checksums verified), returning how many there are;
    /// `None` when the store lacks the table (one added later within its format).
    pub fn scan_table(&self, table: Table) -> Result<Option<u64>> {
        let Some(cf) = self.db.cf_handle(table.name()) else {
            return Ok(None);
        };
        let mut opts = rocksdb::ReadOptions::default();
        opts.set_verify_checksums(true);
        opts.fill_cache(false);
        let mut n = 0;
        for item in self
            .db
            .iterator_cf_opt(cf, opts, rocksdb::IteratorMode::Start)
        {
            item.map_err(|e| self.db_err(e))?;
            n += 1;
        }
        Ok(Some(n))
    }

    /// A new atomic write batch.
    pub fn batch(&self) -> StoreBatch<'_> {
        StoreBatch {
            store: self,
            wb: WriteBatch::default(),
        }
    }
}

/// A set of writes applied all at once or not at all.
pub struct StoreBatch<'s> {
    store: &'s Store,
    wb: WriteBatch,
}

impl StoreBatch<'_> {
    fn put<T: Versioned>(&mut self, table: Table, key: &[u8], value: &T) {
        self.wb
            .put_cf(self.store.cf(table), key, codec::encode(value));
    }

    /// Stores a new sample under `seq`, with its dedup and id entries.
    pub fn put_doc(&mut self, seq: u64, doc: &DocRecord, row: &SampleRow) {
        let key = codec::seq_key(seq);
        self.put(Table::Docs, &key, doc);
        self.put(Table::Samples, &key, row);
        let dedup = self.store.cf(Table::Dedup);
        self.wb.put_cf(dedup, codec::hash_key(doc.text_hash), key);
        let ids = self.store.cf(Table::Ids);
        self.wb.put_cf(ids, doc.id.as_bytes(), key);
    }

    /// Replaces a sample's compact row.
    pub fn put_sample_row(&mut self, seq: u64, row: &SampleRow) {
        self.put(Table::Samples, &codec::seq_key(seq), row);
    }

    /// Stores a sample's raw quality figures.
    pub fn put_score(&mut self, seq: u64, score: &ScoreRecord) {
        self.put(Table::Scores, &codec::seq_key(seq), score);
    }

    /// Stores `seq`'s value of `signal` (never `lm`, whose values live in the sample rows).
    pub fn put_signal(&mut self, signal: Signal, seq: u64, value: &SignalRecord) {
        debug_assert!(signal != Signal::Lm, "lm values live in the sample rows");
        self.put(Table::Signals, &signal_key(signal, seq), value);
    }

    /// Stores a value of table `meta`.
    pub fn put_meta<T: Versioned>(&mut self, key: &[u8], value: &T) {
        self.put(Table::Meta, key, value);
    }

    /// Replaces a source's totals.
    pub fn put_source(&mut self, name: &str, info: &SourceInfo) {
        self.put(Table::Sources, name.as_bytes(), info);
    }

    /// Replaces the pool counters.
    pub fn put_counters(&mut self, counters: &PoolCounters) {
        self.put(Table::Meta, COUNTERS_KEY, counters);
    }

    /// Stores (or replaces) the mix called `name`.
    pub fn put_mix(&mut self, name: &str, mix: &MixRecord) {
        self.put(Table::Mixes, name.as_bytes(), mix);
    }

    /// Marks a sample's index document as stale.
    pub fn mark_reindex(&mut self, seq: u64) {
        self.wb
            .put_cf(self.store.cf(Table::Reindex), codec::seq_key(seq), []);
    }

    /// Clears a re-index mark.
    pub fn clear_reindex(&mut self, seq: u64) {
        self.wb
            .delete_cf(self.store.cf(Table::Reindex), codec::seq_key(seq));
    }

    /// Number of writes in the batch.
    pub fn len(&self) -> usize {
        self.wb.len()
    }

    /// Whether the batch holds no write.
    pub fn is_empty(&self) -> bool {
        self.wb.is_empty()
    }

    /// Applies every write atomically.
    pub fn commit(self) -> Result<()> {
        if self.store.access != Access::Write {
            return Err(Error::Invalid(format!(
                "store {} is open for reading only",
                self.store.path.display()
            )));
        }
        crate::failpoint::hit("store.batch")?;
        self.store
            .db
            .write(self.wb)
            .map_err(|e| self.store.db_err(e))
    }
}
