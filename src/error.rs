//! Library errors: one enum for every stage, each variant saying what went wrong, where, and,
//! when the user can act on it, what to do.

use std::path::PathBuf;

/// Result type of the samplemix library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of the samplemix library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The store folder does not exist (read commands never create one).
    #[error("no store at {}: run `samplemix append` to create one, or pass --store", path.display())]
    NoStore {
        /// The store folder.
        path: PathBuf,
    },
    /// A shard of a sharded pool is missing, locked, of another format, or disagrees with the
    /// layout (`store::shards`).
    #[error("sharded pool {}: shard {shard}: {reason}", dir.display())]
    Shard {
        /// The sharded pool's folder.
        dir: PathBuf,
        /// The shard: its index and folder.
        shard: String,
        /// What is wrong.
        reason: String,
    },
    /// Another process holds the store's writer lock.
    #[error(
        "store {} is locked by another writer (lock file {}{holder}); wait for it to finish. \
         Read commands (stats, get, query) work meanwhile",
        path.display(),
        lock.display()
    )]
    Locked {
        /// The store folder.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Who holds it, as written in the lock file (", held by pid N"), or empty.
        holder: String,
    },
    /// The store was written by a samplemix with a format this one cannot read.
    #[error(
        "store {} has format version {found}; this samplemix {crate_version} reads versions \
         {oldest} to {current}. {hint}",
        path.display(),
        crate_version = env!("CARGO_PKG_VERSION")
    )]
    IncompatibleFormat {
        /// The store folder.
        path: PathBuf,
        /// The version the store declares.
        found: u32,
        /// Oldest version this build reads.
        oldest: u32,
        /// The version this build writes.
        current: u32,
        /// What to do about it.
        hint: &'static str,
    },
    /// The store's database is missing or damaged: it is refused, never recreated.
    #[error(
        "store {} is damaged: {what}. Nothing was changed. Run `samplemix check --store {}` to \
         see what is damaged, and `samplemix repair --store {} --into NEW` to recover what can \
         still be read into a new store",
        path.display(),
        path.display(),
        path.display()
    )]
    Damaged {
        /// The store folder.
        path: PathBuf,
        /// What is missing or damaged.
        what: String,
    },
    /// The index cannot be read; the store is intact and the next writer rebuilds the index.
    #[error(
        "index {} is damaged ({reason}); the store is intact: the next writing command (append, \
         score, topics) rebuilds the index from it",
        path.display()
    )]
    IndexDamaged {
        /// The index folder.
        path: PathBuf,
        /// What could not be read.
        reason: String,
    },
    /// A fault injected by `SAMPLEMIX_FAILPOINT` (tests only).
    #[error("injected failure at fail point {0} (SAMPLEMIX_FAILPOINT)")]
    Injected(String),
    /// RocksDB reported an error.
    #[error("store {}: {message}", path.display())]
    Db {
        /// The store folder.
        path: PathBuf,
        /// RocksDB's message.
        message: String,
    },
    /// A stored value could not be decoded.
    #[error("store {}: corrupt value in table {table} at key {key}: {reason}", path.display())]
    Corrupt {
        /// The store folder.
        path: PathBuf,
        /// The column family.
        table: &'static str,
        /// The key, printed as hex.
        key: String,
        /// What was wrong.
        reason: String,
    },
    /// The tantivy index reported an error.
    #[error("index {}: {message}", path.display())]
    Index {
        /// The index folder.
        path: PathBuf,
        /// tantivy's message.
        message: String,
    },
    /// A query string could not be parsed.
    #[error("invalid query {query:?}: {reason}")]
    Query {
        /// The query as given.
        query: String,
        /// The parser's reason.
        reason: String,
    },
    /// No sample has this id.
    #[error("no sample with id {0:?} in the store")]
    NotFound(String),
    /// The quality scorer failed (model file, settings, llama.cpp).
    #[error(transparent)]
    Score(#[from] crate::stages::score::ScoreError),
    /// A mix could not be weighted or drawn (parameters, budget, missing scores).
    #[error(transparent)]
    Mix(#[from] crate::algo::mix::MixError),
    /// A mix could not be judged (metric parameters).
    #[error(transparent)]
    Eval(#[from] crate::algo::metrics::EvalError),
    /// The quality classifier could not be trained, read or applied (training input, model
    /// bytes, a model of a newer format).
    #[error(transparent)]
    Classifier(#[from] crate::algo::classifier::ClassifierError),
    /// A user-supplied value is invalid (a flag, a file given as input). Stored data that
    /// fails a check is [`Error::Corrupt`] or [`Error::CorruptRecord`], never this.
    #[error("{0}")]
    Invalid(String),
    /// A stored record, read where the store's path is not at hand, is unreadable or
    /// contradicts the rest of the store.
    #[error("corrupt stored {what}: {reason}")]
    CorruptRecord {
        /// Which record (e.g. "parameters of a mix").
        what: String,
        /// What was wrong.
        reason: String,
    },
}

impl Error {
    /// [`Error::Corrupt`]: stored data in `table` at `key` of the store at `path` fails a check.
    pub(crate) fn corrupt(
        path: &std::path::Path,
        table: &'static str,
        key: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        Error::Corrupt {
            path: path.to_path_buf(),
            table,
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
