//! The append pipeline: for each input, chunks of lines are parsed in parallel (rayon), then a
//! single writer checks them against the store and the chunk itself (exact duplicates by text
//! hash, id conflicts), writes the new samples, their dedup and id entries, the source totals
//! and the pool counters in one RocksDB batch, and only then adds them to the index.
//!
//! A crash loses at most the chunk in flight: the store holds whole chunks, and the index
//! catches up from its watermark when the pool is next opened for writing. Re-running the same
//! append completes the pool, since what is already stored is skipped as a duplicate.

use std::io::Write;
use std::sync::atomic::Ordering;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ingest::dedup::{Dedup, Verdict};
use crate::ingest::input::{self, Input, LineItem};
use crate::ingest::record::{self, estimate_tokens, FieldNames, Parsed};
use crate::pool::Pool;
use crate::store::{DocRecord, SampleRow};

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
        }
    }
}

/// A rejected record.
#[derive(Clone, Debug, Serialize)]
pub struct Reject {
    /// Input name (`-` for stdin).
    pub file: String,
    /// 1-based line number.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// What happened to one input.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileReport {
    /// Input name.
    pub file: String,
    /// Compression detected (`plain`, `gzip`, `zstd`).
    pub compression: String,
    /// Lines read.
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
    /// Per input.
    pub files: Vec<FileReport>,
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

/// Appends `inputs` to the pool. Bad records are reported and counted and the rest goes in;
/// inputs that cannot be opened are reported in their [`FileReport`] and the others still go
/// in. With `strict`, the first bad record ends the append with an error and nothing of its
/// input is added (inputs before it are kept).
pub fn append(
    pool: &mut Pool,
    inputs: &[Input],
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
    for input in inputs {
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
        };
        let outcome = run.ingest(pool, &file, &mut since_commit);
        drop(spooled);
        outcome?;
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
    report.tokens_added = after.tokens - before.tokens;
    report.bytes_added = after.bytes - before.bytes;
    report.seconds = started.elapsed().as_secs_f64();
    report.pool_samples = after.docs;
    Ok(report)
}

fn spool_stdin() -> Result<tempfile::NamedTempFile> {
    let mut tmp = tempfile::NamedTempFile::new().map_err(|e| Error::io("temporary file", e))?;
    std::io::copy(&mut std::io::stdin().lock(), &mut tmp)
        .map_err(|e| Error::io("standard input", e))?;
    tmp.flush().map_err(|e| Error::io(tmp.path(), e))?;
    Ok(tmp)
}

/// One chunk of lines: parsed, or rejected with a reason.
type Chunk = Vec<(u64, std::result::Result<Parsed, String>)>;
/// One chunk of raw lines with their numbers, or the reason a line was refused unread.
type RawChunk = Vec<(u64, std::result::Result<Vec<u8>, String>)>;
/// A read error and the line it happened at.
type ReadError = Option<(u64, String)>;

/// Reads the next chunk; `Err` carries the read error and the line it happened at.
fn read_chunk(
    lines: &mut input::LineReader<Box<dyn std::io::BufRead + Send>>,
    opts: &AppendOptions,
) -> (RawChunk, ReadError) {
    let mut raw = Vec::new();
    let mut bytes = 0usize;
    while raw.len() < opts.chunk_lines && bytes < opts.chunk_bytes {
        match lines.next_line() {
            None => break,
            Some(Ok(LineItem::Line(no, line))) => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue; // blank lines separate nothing in JSONL; skip them quietly
                }
                bytes += line.len();
                raw.push((no, Ok(line)));
            }
            Some(Ok(LineItem::TooLong(no, len))) => raw.push((
                no,
                Err(format!(
                    "line of {len} bytes exceeds the limit of {} bytes (--max-line-bytes)",
                    opts.max_line_bytes
                )),
            )),
            Some(Err(e)) => return (raw, Some((lines.line_no() + 1, describe_read_error(&e)))),
        }
    }
    (raw, None)
}

fn describe_read_error(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        format!("input ends in the middle of a compressed stream (truncated file?): {e}")
    } else {
        format!("read error (corrupt or truncated input?): {e}")
    }
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
    let reject = |line: u64, reason: String| Reject {
        file: name.to_string(),
        line,
        reason,
    };
    let mut opened = input::open(file, opts.max_line_bytes).map_err(|e| reject(0, e.0))?;
    let mut dedup = Dedup::default();
    loop {
        let (raw, read_error) = read_chunk(&mut opened.lines, opts);
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
}

impl FileRun<'_> {
    fn reject(&mut self, line: u64, reason: String) {
        let r = Reject {
            file: self.name.to_string(),
            line,
            reason,
        };
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
        let mut opened = match input::open(file, self.opts.max_line_bytes) {
            Ok(o) => o,
            Err(e) => {
                self.observer.input_started(self.name, None);
                self.report.error = Some(e.0);
                return Ok(());
            }
        };
        self.report.compression = opened.compression.name().into();
        self.observer.input_started(self.name, opened.size);
        loop {
            let (raw, read_error) = read_chunk(&mut opened.lines, self.opts);
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
            self.report.lines = opened.lines.line_no();
            self.report.input_bytes = opened.consumed.load(Ordering::Relaxed);
            self.observer
                .input_progress(self.report.input_bytes, self.report.added);
            if let Some((line, reason)) = read_error {
                self.reject(line, reason.clone());
                // The rejection is counted with the pool's next write.
                let mut tally = pool.mirror.tally();
                tally.counters().rejected += 1;
                pool.mirror.commit(pool.store.batch(), tally)?;
                self.report.error = Some(format!("{}:{}: {}", self.name, line, reason));
                return Ok(());
            }
            if done {
                return Ok(());
            }
        }
    }

    /// Writes one parsed chunk; returns the number of samples added.
    fn apply(&mut self, pool: &mut Pool, chunk: Chunk) -> Result<u64> {
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
