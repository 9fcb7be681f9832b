//! The append pipeline: for each input, chunks of lines are parsed in parallel (rayon), then a
//! single writer checks them against the store and the chunk itself (exact duplicates by text
//! hash, id conflicts), writes the new samples, their dedup and id entries, the source totals
//! and the pool counters in one RocksDB batch, and only then adds them to the index.
//!
//! A crash loses at most the chunk in flight: the store holds whole chunks, and the index
//! catches up from its watermark when the pool is next opened for writing. Re-running the same
//! append completes the pool, since what is already stored is skipped as a duplicate.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ingest::dedup::{Dedup, Verdict};
use crate::ingest::expand::Planned;
use crate::ingest::input::Input;
use crate::ingest::parquet::RowGroups;
use crate::ingest::reader::{RawChunk, ReadError, Reader};
use crate::ingest::record::{self, estimate_tokens, FieldNames, Parsed};
use crate::pool::Pool;
use crate::store::shards::{self, PartitionRange};
use crate::store::{appended_file_key, AppendedFile, DocRecord, SampleRow};

/// Settings of an append.
#[derive(Clone, Debug)]
pub struct AppendOptions {
    /// Input field names.
    pub fields: FieldNames,
    /// Source for records without one (before the name implied by the file).
    pub source: Option<String>,
    /// Stop at the first bad record, adding nothing from its file.
    pub strict: bool,
    /// Longest accepted line, in bytes.
    pub max_line_bytes: usize,
    /// Lines per chunk (one parallel parse, one store batch).
    pub chunk_lines: usize,
    /// Bytes per chunk, whichever limit comes first.
    pub chunk_bytes: usize,
    /// Commit the index after this many new samples (and at the end).
    pub index_commit_every: u64,
    /// For a shard of a sharded pool: the partitions it keeps (records of other partitions are
    /// left for the other shards), and whether it reports the rejected records (one shard
    /// does, so that each is reported once).
    pub route: Option<Route>,
}

/// The records one shard of a sharded pool keeps ([`append_sharded`]).
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// The partitions kept.
    pub range: PartitionRange,
    /// Whether this shard reports and counts rejected records.
    pub reports_rejects: bool,
}

impl Default for AppendOptions {
    fn default() -> Self {
        AppendOptions {
            fields: FieldNames::default(),
            source: None,
            strict: false,
            max_line_bytes: 8 << 20,
            chunk_lines: 4096,
            chunk_bytes: 16 << 20,
            index_commit_every: 200_000,
            route: None,
        }
    }
}

/// A rejected record.
#[derive(Clone, Debug, Serialize)]
pub struct Reject {
    /// Input name (`-` for stdin).
    pub file: String,
    /// 1-based line number; for a Parquet input, the row within its row group (from 0).
    pub line: u64,
    /// For a Parquet input, the row group (from 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_group: Option<u64>,
    /// Why it was rejected.
    pub reason: String,
}

impl Reject {
    /// The reject of record `no` of `file` (a line, or a row of a Parquet file whose row
    /// groups are `groups`).
    fn at(file: &str, groups: Option<&RowGroups>, no: u64, reason: String) -> Reject {
        let (row_group, line) = match groups {
            None => (None, no),
            Some(g) => {
                let (group, row) = g.locate(no);
                (Some(group), row)
            }
        };
        Reject {
            file: file.to_string(),
            line,
            row_group,
            reason,
        }
    }
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.row_group {
            None => write!(f, "{}:{}: {}", self.file, self.line, self.reason),
            Some(g) => write!(f, "{}:{}:{}: {}", self.file, g, self.line, self.reason),
        }
    }
}

/// What happened to one input.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileReport {
    /// Input name.
    pub file: String,
    /// Format detected (`plain`, `gzip`, `zstd` JSONL, or `parquet`).
    pub compression: String,
    /// Lines (Parquet: rows) read.
    pub lines: u64,
    /// Samples added.
    pub added: u64,
    /// Exact duplicates skipped.
    pub duplicates: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Raw bytes read.
    pub input_bytes: u64,
    /// Why the input could not be read to its end, if so.
    pub error: Option<String>,
}

/// What an append did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AppendReport {
    /// Per input read.
    pub files: Vec<FileReport>,
    /// Inputs read (the length of `files`).
    pub files_read: u64,
    /// Inputs found in a folder or by a glob and skipped as already appended completely.
    pub files_skipped: u64,
    /// Their names.
    pub skipped: Vec<String>,
    /// Samples added.
    pub added: u64,
    /// Exact duplicates skipped.
    pub duplicates: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Estimated tokens added.
    pub tokens_added: u64,
    /// Decompressed bytes of the added texts.
    pub bytes_added: u64,
    /// Input bytes read (as stored: compressed for compressed inputs).
    pub input_bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// Samples in the pool afterwards.
    pub pool_samples: u64,
}

impl AppendReport {
    /// Inputs that could not be read to their end.
    pub fn failed_files(&self) -> usize {
        self.files.iter().filter(|f| f.error.is_some()).count()
    }
}

/// Hears about an append as it goes (the CLI draws a progress bar and prints rejects).
pub trait AppendObserver: Sync {
    /// Before anything is read: the inputs to read and their total size (files of unknown
    /// size, such as stdin, count 0).
    fn files_planned(&self, _files: u64, _bytes: u64) {}
    /// An input was skipped as already appended; `size` in bytes.
    fn file_skipped(&self, _name: &str, _size: u64) {}
    /// An input is about to be read; `size` in raw bytes when known.
    fn input_started(&self, _name: &str, _size: Option<u64>) {}
    /// Raw bytes of the current input consumed so far, and samples added by it.
    fn input_progress(&self, _consumed: u64, _added: u64) {}
    /// An input is done.
    fn input_finished(&self, _report: &FileReport) {}
    /// A record was rejected.
    fn rejected(&self, _reject: &Reject) {}
}

/// An observer that ignores everything.
impl AppendObserver for () {}

/// Appends `inputs` (each read, none skipped) to the pool: [`append_planned`] with inputs named
/// one by one.
pub fn append(
    pool: &mut Pool,
    inputs: &[Input],
    opts: &AppendOptions,
    observer: &dyn AppendObserver,
) -> Result<AppendReport> {
    let planned: Vec<Planned> = inputs
        .iter()
        .map(|input| Planned {
            input: input.clone(),
            expanded: false,
        })
        .collect();
    append_planned(pool, &planned, opts, observer)
}

/// Appends `inputs` to the pool; those found in a folder or by a glob that the store has
/// recorded as appended completely (same absolute path, size and xxh3 of the first MiB) are
/// skipped unread. Every input read to its end (rejected records or not) is recorded so. Bad
/// records are reported and counted and the rest goes in;
/// inputs that cannot be opened are reported in their [`FileReport`] and the others still go
/// in. With `strict`, the first bad record ends the append with an error and nothing of its
/// input is added (inputs before it are kept).
pub fn append_planned(
    pool: &mut Pool,
    inputs: &[Planned],
    opts: &AppendOptions,
    observer: &dyn AppendObserver,
) -> Result<AppendReport> {
    if let Some(source) = &opts.source {
        crate::names::check_source_name(source)
            .map_err(|r| Error::Invalid(format!("--source: {r}")))?;
    }
    let started = Instant::now();
    let before = pool.counters();
    let mut report = AppendReport::default();
    let mut since_commit = 0u64;
    let mut todo = Vec::new();
    let mut total_bytes = 0u64;
    for planned in inputs {
        let seen = seen_file(&planned.input);
        if planned.expanded {
            if let Some((key, fingerprint)) = &seen {
                if pool.store.meta::<AppendedFile>(key)?.as_ref() == Some(fingerprint) {
                    let name = planned.input.display_name();
                    observer.file_skipped(&name, fingerprint.size);
                    report.skipped.push(name);
                    continue;
                }
            }
        }
        total_bytes += seen.as_ref().map_or(0, |(_, f)| f.size);
        todo.push((&planned.input, seen));
    }
    report.files_skipped = report.skipped.len() as u64;
    observer.files_planned(todo.len() as u64, total_bytes);
    for (input, seen) in todo {
        let (file, spooled) = match (input, opts.strict) {
            // Strict reads an input twice (check, then add): spool stdin to a file first.
            (Input::Stdin, true) => {
                let tmp = spool_stdin()?;
                (Input::File(tmp.path().to_path_buf()), Some(tmp))
            }
            _ => (input.clone(), None),
        };
        let name = input.display_name();
        let default_source = opts
            .source
            .clone()
            .unwrap_or_else(|| input.implied_source());
        let mut fr = FileReport {
            file: name.clone(),
            ..FileReport::default()
        };
        if opts.strict {
            if let Err(reject) = check_strict(pool, &file, &name, opts) {
                observer.rejected(&reject);
                return Err(Error::Invalid(format!(
                    "{reject} (--strict: nothing from {name} was added)"
                )));
            }
        }
        let mut run = FileRun {
            name: &name,
            default_source: &default_source,
            opts,
            observer,
            report: &mut fr,
            groups: None,
        };
        let outcome = run.ingest(pool, &file, &mut since_commit);
        drop(spooled);
        outcome?;
        if let (None, Some((key, fingerprint))) = (&fr.error, &seen) {
            let mut batch = pool.store.batch();
            batch.put_meta(key, fingerprint);
            batch.commit()?;
        }
        report.added += fr.added;
        report.duplicates += fr.duplicates;
        report.rejected += fr.rejected;
        report.input_bytes += fr.input_bytes;
        observer.input_finished(&fr);
        report.files.push(fr);
    }
    let mut tally = pool.mirror.tally();
    tally.counters().appends += 1;
    pool.mirror.commit(pool.store.batch(), tally)?;
    let after = pool.counters();
    let next_seq = after.next_seq;
    if let Some(index) = pool.index.as_mut() {
        index.commit(next_seq)?;
    }
    report.files_read = report.files.len() as u64;
    report.tokens_added = after.tokens - before.tokens;
    report.bytes_added = after.bytes - before.bytes;
    report.seconds = started.elapsed().as_secs_f64();
    report.pool_samples = after.docs;
    Ok(report)
}

/// What an append into a sharded pool did: each shard's report, and their sums.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ShardedAppendReport {
    /// Shards appended to.
    pub shards: Vec<AppendReport>,
    /// Samples added, over the shards.
    pub added: u64,
    /// Exact duplicates skipped, over the shards.
    pub duplicates: u64,
    /// Records rejected (reported by the first shard only).
    pub rejected: u64,
    /// Estimated tokens added, over the shards.
    pub tokens_added: u64,
    /// Samples in the sharded pool afterwards.
    pub pool_samples: u64,
    /// Inputs that could not be read to their end, by name.
    pub failed: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

/// Appends `inputs` to the sharded pool at `dir` (checked by [`shards::open`]): each shard, in
/// turn, reads every input and keeps the records of its partitions (by text key), so exact
/// duplicates always meet in one store. Rejected records are reported by the first shard.
/// `--strict` is refused: its check would judge ids against one shard only.
pub fn append_sharded(
    dir: &Path,
    inputs: &[Planned],
    opts: &AppendOptions,
    observer: &dyn AppendObserver,
) -> Result<ShardedAppendReport> {
    if opts.strict {
        return Err(Error::Invalid(
            "--strict is not supported for a sharded pool yet: check the inputs with a \
             single-store append first"
                .into(),
        ));
    }
    let started = Instant::now();
    let layout = shards::open(dir)?;
    // Every shard is opened (and locked) before anything is read, so that a shard held by
    // another writer stops the append before any shard changes.
    let pools = (0..layout.shards.len())
        .map(|i| {
            Pool::open_existing_writer(&layout.shard_path(dir, i)).map_err(|e| Error::Shard {
                dir: dir.to_path_buf(),
                shard: format!("{i} ({})", layout.shards[i].path),
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<Pool>>>()?;
    let mut out = ShardedAppendReport::default();
    for (i, mut pool) in pools.into_iter().enumerate() {
        let shard_opts = AppendOptions {
            route: Some(Route {
                range: layout.range(i),
                reports_rejects: i == 0,
            }),
            ..opts.clone()
        };
        let report = append_planned(&mut pool, inputs, &shard_opts, observer)?;
        pool.close()?;
        out.added += report.added;
        out.duplicates += report.duplicates;
        out.rejected += report.rejected;
        out.tokens_added += report.tokens_added;
        out.pool_samples += report.pool_samples;
        for f in report.files.iter().filter(|f| f.error.is_some()) {
            if !out.failed.contains(&f.file) {
                out.failed.push(f.file.clone());
            }
        }
        out.shards.push(report);
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

/// The `meta` key and fingerprint of a file input (`None` for stdin and files that cannot be
/// read: those are never skipped, and the append reports them).
fn seen_file(input: &Input) -> Option<(Vec<u8>, AppendedFile)> {
    let Input::File(path) = input else {
        return None;
    };
    let absolute = std::fs::canonicalize(path).ok()?;
    let fingerprint = fingerprint(&absolute).ok()?;
    Some((appended_file_key(&absolute), fingerprint))
}

/// Size and xxh3-128 of the first MiB of the file at `path`.
fn fingerprint(path: &Path) -> std::io::Result<AppendedFile> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::with_capacity(1 << 20);
    file.take(1 << 20).read_to_end(&mut head)?;
    Ok(AppendedFile {
        size,
        head_xxh3: xxhash_rust::xxh3::xxh3_128(&head),
    })
}

fn spool_stdin() -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::NamedTempFile::new().map_err(|e| Error::io("temporary file", e))?;
    std::io::copy(&mut std::io::stdin().lock(), &mut tmp)
        .map_err(|e| Error::io("standard input", e))?;
    tmp.flush().map_err(|e| Error::io(tmp.path(), e))?;
    Ok(tmp)
}

/// One chunk of records: parsed, or rejected with a reason.
type Chunk = Vec<(u64, std::result::Result<Parsed, String>)>;

fn next_chunk(reader: &mut Reader, opts: &AppendOptions) -> (RawChunk, ReadError) {
    reader.next_chunk(opts.chunk_lines, opts.chunk_bytes, opts.max_line_bytes)
}

fn parse_chunk(raw: RawChunk, fields: &FieldNames) -> Chunk {
    raw.into_par_iter()
        .map(|(no, line)| (no, line.and_then(|l| record::parse(&l, fields))))
        .collect()
}

/// The `--strict` check: reads the whole input, returns its first bad record.
fn check_strict(
    pool: &Pool,
    file: &Input,
    name: &str,
    opts: &AppendOptions,
) -> std::result::Result<(), Reject> {
    let mut opened =
        Reader::open(file, opts.max_line_bytes).map_err(|e| Reject::at(name, None, 0, e.0))?;
    let groups = opened.row_groups();
    let reject = |no: u64, reason: String| Reject::at(name, groups.as_ref(), no, reason);
    let mut dedup = Dedup::default();
    loop {
        let (raw, read_error) = next_chunk(&mut opened, opts);
        let done = raw.is_empty();
        for (no, parsed) in parse_chunk(raw, &opts.fields) {
            let p = parsed.map_err(|r| reject(no, r))?;
            let id = p.id.clone().unwrap_or_else(|| p.default_id());
            let text_stored = matches!(
                pool.store.seqs_of_hashes(&[p.hash]).as_deref(),
                Ok([Some(_)])
            );
            // The owner of the id matters only for a text the store does not hold.
            let id_owner = if text_stored {
                None
            } else {
                pool.store.seq_of_id(&id).ok().flatten()
            };
            if let Verdict::Reject(reason) = dedup.judge(&id, p.hash, text_stored, id_owner) {
                return Err(reject(no, reason));
            }
        }
        if let Some((line, reason)) = read_error {
            return Err(reject(line, reason));
        }
        if done {
            return Ok(());
        }
    }
}

/// The state of one input's append.
struct FileRun<'a> {
    name: &'a str,
    default_source: &'a str,
    opts: &'a AppendOptions,
    observer: &'a dyn AppendObserver,
    report: &'a mut FileReport,
    /// The row groups of a Parquet input, to name its rows.
    groups: Option<RowGroups>,
}

impl FileRun<'_> {
    fn reject(&mut self, line: u64, reason: String) {
        if self.opts.route.is_some_and(|r| !r.reports_rejects) {
            return;
        }
        let r = Reject::at(self.name, self.groups.as_ref(), line, reason);
        self.observer.rejected(&r);
        self.report.rejected += 1;
    }

    fn ingest(&mut self, pool: &mut Pool, file: &Input, since_commit: &mut u64) -> Result<()> {
        if let Err(reason) = crate::names::check_source_name(self.default_source) {
            // Only a name implied by the file name can be refused here (--source is checked
            // first): nothing of this input is read.
            self.observer.input_started(self.name, None);
            self.report.error = Some(format!(
                "its file name gives records without a source an invalid one ({reason}): \
                 name their source with --source"
            ));
            return Ok(());
        }
        let mut opened = match Reader::open(file, self.opts.max_line_bytes) {
            Ok(o) => o,
            Err(e) => {
                self.observer.input_started(self.name, None);
                self.report.error = Some(e.0);
                return Ok(());
            }
        };
        self.report.compression = opened.format().into();
        self.groups = opened.row_groups();
        self.observer.input_started(self.name, opened.size());
        loop {
            let (raw, read_error) = next_chunk(&mut opened, self.opts);
            let done = raw.is_empty() && read_error.is_none();
            if !raw.is_empty() {
                let chunk = parse_chunk(raw, &self.opts.fields);
                let added = self.apply(pool, chunk)?;
                *since_commit += added;
                if *since_commit >= self.opts.index_commit_every {
                    let next = pool.counters().next_seq;
                    if let Some(index) = pool.index.as_mut() {
                        index.commit(next)?;
                    }
                    *since_commit = 0;
                }
            }
            self.report.lines = opened.records_read();
            self.report.input_bytes = opened.consumed();
            self.observer
                .input_progress(self.report.input_bytes, self.report.added);
            if let Some((line, reason)) = read_error {
                self.reject(line, reason.clone());
                // The rejection is counted with the pool's next write.
                let mut tally = pool.mirror.tally();
                tally.counters().rejected +=
                    u64::from(self.opts.route.is_none_or(|r| r.reports_rejects));
                pool.mirror.commit(pool.store.batch(), tally)?;
                let at = Reject::at(self.name, self.groups.as_ref(), line, reason);
                self.report.error = Some(at.to_string());
                return Ok(());
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Writes one parsed chunk; returns the number of samples added.
    fn apply(&mut self, pool: &mut Pool, mut chunk: Chunk) -> Result<u64> {
        if let Some(route) = self.opts.route {
            chunk.retain(|(_, r)| r.as_ref().map_or(true, |p| route.range.contains(p.hash)));
        }
        let ok: Vec<&Parsed> = chunk.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
        let hashes: Vec<u128> = ok.iter().map(|p| p.hash).collect();
        let ids: Vec<String> = ok
            .iter()
            .map(|p| p.id.clone().unwrap_or_else(|| p.default_id()))
            .collect();
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let known_hashes = pool.store.seqs_of_hashes(&hashes)?;
        let known_ids = pool.store.seqs_of_ids(&id_refs)?;

        let mut dedup = Dedup::default();
        let mut new_docs: Vec<(u64, DocRecord, SampleRow)> = Vec::new();
        let mut tally = pool.mirror.tally();
        let mut duplicates = 0u64;
        let mut rejected_before = self.report.rejected;
        let mut k = 0usize;
        for (line, parsed) in &chunk {
            let p = match parsed {
                Err(reason) => {
                    self.reject(*line, reason.clone());
                    continue;
                }
                Ok(p) => p,
            };
            let i = k;
            k += 1;
            let id = ids[i].as_str();
            match dedup.judge(id, p.hash, known_hashes[i].is_some(), known_ids[i]) {
                Verdict::New => {}
                Verdict::Duplicate => {
                    duplicates += 1;
                    continue;
                }
                Verdict::Reject(reason) => {
                    self.reject(*line, reason);
                    continue;
                }
            }
            let source = p
                .source
                .clone()
                .unwrap_or_else(|| self.default_source.to_string());
            let tokens = estimate_tokens(&p.text);
            let info = tally.source(&pool.mirror, &source);
            info.docs += 1;
            info.tokens += u64::from(tokens);
            info.bytes += p.text.len() as u64;
            let row = SampleRow::new(tokens, info.id);
            let c = tally.counters();
            let seq = c.next_seq;
            c.next_seq += 1;
            c.docs += 1;
            c.tokens += u64::from(tokens);
            c.bytes += p.text.len() as u64;
            new_docs.push((
                seq,
                DocRecord {
                    id: id.to_string(),
                    source,
                    text: p.text.clone(),
                    metadata: p.metadata.clone(),
                    text_hash: p.hash,
                    tokens_estimate: tokens,
                    origin_file: self.name.to_string(),
                    origin_line: *line,
                },
                row,
            ));
        }
        rejected_before = self.report.rejected - rejected_before;
        tally.counters().duplicates += duplicates;
        tally.counters().rejected += rejected_before;
        self.report.duplicates += duplicates;

        let mut batch = pool.store.batch();
        for (seq, doc, row) in &new_docs {
            batch.put_doc(*seq, doc, row);
        }
        pool.mirror.commit(batch, tally)?;

        if let Some(index) = pool.index.as_mut() {
            for (seq, doc, row) in &new_docs {
                index.add(&crate::index::IndexEntry {
                    seq: *seq,
                    text: &doc.text,
                    source: &doc.source,
                    tokens: u64::from(row.tokens),
                    scores: Default::default(),
                })?;
            }
        }
        let added = new_docs.len() as u64;
        self.report.added += added;
        Ok(added)
    }
}
