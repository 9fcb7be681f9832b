//! An input opened for the append stage, JSONL or Parquet alike (told apart by the file's
//! first bytes), read in chunks of numbered records: JSON lines, or Parquet rows written as
//! JSON, which the same record checks then parse.

use std::fs::File;
use std::io::Read;
use std::sync::atomic::Ordering;

use super::input::{self, Input, LineItem, OpenError, Opened};
use super::parquet::{ParquetRows, RowGroups, PARQUET_MAGIC};

/// One chunk of records with their numbers (line, or row of a Parquet file), or the reason a
/// record was refused unread.
pub(crate) type RawChunk = Vec<(u64, Result<Vec<u8>, String>)>;
/// A read error and the record number it happened at.
pub(crate) type ReadError = Option<(u64, String)>;

/// An opened input.
pub(crate) enum Reader {
    /// JSONL, plain or compressed.
    Lines(Opened),
    /// A Parquet file.
    Parquet(ParquetRows),
}

impl Reader {
    /// Opens `input`: a file starting with `PAR1` is Parquet, anything else JSONL.
    pub fn open(input: &Input, max_line_bytes: usize) -> Result<Reader, OpenError> {
        if let Input::File(path) = input {
            let mut head = [0u8; 4];
            let is_parquet = File::open(path)
                .and_then(|mut f| f.read_exact(&mut head))
                .is_ok()
                && head == PARQUET_MAGIC;
            if is_parquet {
                return ParquetRows::open(path)
                    .map(Reader::Parquet)
                    .map_err(OpenError);
            }
        }
        input::open(input, max_line_bytes).map(Reader::Lines)
    }

    /// Format name for reports: `plain`, `gzip`, `zstd` or `parquet`.
    pub fn format(&self) -> &'static str {
        match self {
            Reader::Lines(o) => o.compression.name(),
            Reader::Parquet(_) => "parquet",
        }
    }

    /// Size of the raw input, when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Reader::Lines(o) => o.size,
            Reader::Parquet(p) => Some(p.size()),
        }
    }

    /// Raw bytes consumed so far.
    pub fn consumed(&self) -> u64 {
        match self {
            Reader::Lines(o) => o.consumed.load(Ordering::Relaxed),
            Reader::Parquet(p) => p.consumed(),
        }
    }

    /// Lines or rows read so far.
    pub fn records_read(&self) -> u64 {
        match self {
            Reader::Lines(o) => o.lines.line_no(),
            Reader::Parquet(p) => p.rows_read(),
        }
    }

    /// The row groups of a Parquet input (to name rows in messages).
    pub fn row_groups(&self) -> Option<RowGroups> {
        match self {
            Reader::Lines(_) => None,
            Reader::Parquet(p) => Some(p.row_groups().clone()),
        }
    }

    /// Reads the next chunk of at most `max_records` records and about `max_bytes` bytes; a
    /// read error ends the chunk early.
    pub fn next_chunk(
        &mut self,
        max_records: usize,
        max_bytes: usize,
        max_line_bytes: usize,
    ) -> (RawChunk, ReadError) {
        let mut raw = Vec::new();
        let mut bytes = 0usize;
        while raw.len() < max_records && bytes < max_bytes {
            let item = match self {
                Reader::Parquet(p) => match p.next_row() {
                    None => break,
                    Some(Ok(row)) => row,
                    Some(Err(e)) => return (raw, Some(e)),
                },
                Reader::Lines(o) => match o.lines.next_line() {
                    None => break,
                    Some(Ok(LineItem::Line(no, line))) => {
                        if line.iter().all(u8::is_ascii_whitespace) {
                            continue; // blank lines separate nothing in JSONL; skip them quietly
                        }
                        (no, Ok(line))
                    }
                    Some(Ok(LineItem::TooLong(no, len))) => (
                        no,
                        Err(format!(
                            "line of {len} bytes exceeds the limit of {max_line_bytes} bytes \
                             (--max-line-bytes)"
                        )),
                    ),
                    Some(Err(e)) => {
                        return (raw, Some((o.lines.line_no() + 1, describe_read_error(&e))))
                    }
                },
            };
            bytes += item.1.as_ref().map_or(0, Vec::len);
            raw.push(item);
        }
        (raw, None)
    }
}

fn describe_read_error(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        format!("input ends in the middle of a compressed stream (truncated file?): {e}")
    } else {
        format!("read error (corrupt or truncated input?): {e}")
    }
}
