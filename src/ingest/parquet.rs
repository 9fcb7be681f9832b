//! Parquet input: a file read one row group at a time, in record batches of a few hundred rows
//! (memory bounded by the batch and the pages in flight, whatever the file's size). Each row
//! becomes one compact JSON object (struct columns become nested objects, nulls are kept as
//! `null`), which then goes through the same record checks as a JSONL line
//! ([`crate::ingest::record::parse`]). Rows are numbered 1.. across the whole file; messages
//! name them `row-group:row`, both counted from 0 as Parquet tools do. A string column marked
//! as JSON (Arrow's canonical extension type `arrow.json`, which pyarrow writes for
//! `pa.json_()` and `export --format parquet` writes for `metadata`) is read as the JSON value
//! it holds, so an exported mix appends back with its metadata objects intact.

use std::collections::VecDeque;
use std::fs::File;
use std::path::Path;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};

/// The four bytes a Parquet file starts (and ends) with.
pub const PARQUET_MAGIC: &[u8] = b"PAR1";

/// Rows per record batch.
pub const BATCH_ROWS: usize = 256;

/// The Arrow field metadata key naming an extension type.
pub const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";
/// Arrow's canonical extension type for JSON text in a string column.
pub const JSON_EXTENSION: &str = "arrow.json";

/// One row: its 1-based number in the file and its JSON text, or why it cannot be read.
pub(crate) type Row = (u64, Result<Vec<u8>, String>);

/// Where the row groups of a file start, to name a row as `row-group:row`.
#[derive(Clone, Debug, Default)]
pub struct RowGroups(Vec<u64>);

impl RowGroups {
    /// The row group (from 0) and the row within it (from 0) of the 1-based file row `no`.
    pub fn locate(&self, no: u64) -> (u64, u64) {
        let index = no.saturating_sub(1);
        let group = self.0.partition_point(|&start| start <= index).max(1) - 1;
        let start = self.0.get(group).copied().unwrap_or(0);
        (group as u64, index - start)
    }
}

/// An open Parquet file, read row group by row group.
pub struct ParquetRows {
    file: File,
    meta: ArrowReaderMetadata,
    groups: RowGroups,
    next_group: usize,
    reader: Option<ParquetRecordBatchReader>,
    /// Rows handed out or queued so far.
    rows: u64,
    pending: VecDeque<Row>,
    /// Compressed bytes of the row groups finished so far.
    done_bytes: u64,
    size: u64,
    /// Top-level columns of the `arrow.json` extension type, decoded to JSON values.
    json_columns: Vec<String>,
}

impl ParquetRows {
    /// Opens `path` and reads its footer (a truncated file fails here).
    pub fn open(path: &Path) -> Result<ParquetRows, String> {
        let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let meta =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(|e| {
                format!("not a readable Parquet file (truncated or damaged footer?): {e}")
            })?;
        let mut starts = Vec::new();
        let mut start = 0u64;
        for g in meta.metadata().row_groups() {
            starts.push(start);
            start += u64::try_from(g.num_rows()).unwrap_or(0);
        }
        let json_columns = meta
            .schema()
            .fields()
            .iter()
            .filter(|f| {
                f.metadata().get(EXTENSION_NAME_KEY).map(String::as_str) == Some(JSON_EXTENSION)
            })
            .map(|f| f.name().clone())
            .collect();
        Ok(ParquetRows {
            file,
            meta,
            json_columns,
            groups: RowGroups(starts),
            next_group: 0,
            reader: None,
            rows: 0,
            pending: VecDeque::new(),
            done_bytes: 0,
            size,
        })
    }

    /// The row groups' starts, for messages.
    pub fn row_groups(&self) -> &RowGroups {
        &self.groups
    }

    /// Size of the file in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Bytes read so far (the compressed size of the row groups finished; the whole file at
    /// the end).
    pub fn consumed(&self) -> u64 {
        if self.reader.is_none() && self.next_group >= self.groups.0.len() {
            self.size
        } else {
            self.done_bytes
        }
    }

    /// Rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.rows - self.pending.len() as u64
    }

    /// The next row; `None` at the end; `Some(Err((row, reason)))` when the file cannot be
    /// read further (`row` is the first row not read).
    pub fn next_row(&mut self) -> Option<Result<Row, (u64, String)>> {
        loop {
            if let Some(row) = self.pending.pop_front() {
                return Some(Ok(row));
            }
            let reader = match self.reader.as_mut() {
                Some(r) => r,
                None => match self.open_next_group()? {
                    Ok(()) => continue,
                    Err(e) => return Some(Err((self.rows + 1, e))),
                },
            };
            match reader.next() {
                None => {
                    self.reader = None;
                    let g = self.next_group - 1;
                    let group = &self.meta.metadata().row_groups()[g];
                    self.done_bytes += u64::try_from(group.compressed_size()).unwrap_or(0);
                }
                Some(Err(e)) => {
                    self.reader = None;
                    self.next_group = self.groups.0.len();
                    return Some(Err((
                        self.rows + 1,
                        format!("cannot read Parquet data (corrupt or truncated file?): {e}"),
                    )));
                }
                Some(Ok(batch)) => self.queue(&batch),
            }
        }
    }

    /// Starts the next row group; `None` when there is none left.
    fn open_next_group(&mut self) -> Option<Result<(), String>> {
        let group = self.next_group;
        if group >= self.groups.0.len() {
            return None;
        }
        self.next_group += 1;
        let built = self
            .file
            .try_clone()
            .map_err(|e| format!("cannot reopen: {e}"))
            .and_then(|file| {
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
                    .with_row_groups(vec![group])
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|e| format!("cannot read row group {group}: {e}"))
            });
        Some(built.map(|r| self.reader = Some(r)))
    }

    /// Turns a batch into queued JSON rows.
    fn queue(&mut self, batch: &RecordBatch) {
        let n = batch.num_rows();
        match batch_json(batch) {
            Ok(lines) => {
                for line in lines {
                    self.rows += 1;
                    let line = decode_json_columns(line, &self.json_columns);
                    self.pending.push_back((self.rows, line));
                }
            }
            Err(reason) => {
                for _ in 0..n {
                    self.rows += 1;
                    self.pending.push_back((self.rows, Err(reason.clone())));
                }
            }
        }
    }
}

/// One compact JSON object per row of `batch`, nulls written out.
fn batch_json(batch: &RecordBatch) -> Result<Vec<Vec<u8>>, String> {
    let mut buf = Vec::new();
    {
        let mut writer = arrow_json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow_json::writer::LineDelimited>(&mut buf);
        writer
            .write(batch)
            .and_then(|()| writer.finish())
            .map_err(|e| format!("a column cannot be read as JSON: {e}"))?;
    }
    let lines: Vec<Vec<u8>> = buf
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if lines.len() != batch.num_rows() {
        return Err(format!(
            "{} rows became {} JSON objects",
            batch.num_rows(),
            lines.len()
        ));
    }
    Ok(lines)
}

/// The row `line` with the string values of `columns` replaced by the JSON they hold.
fn decode_json_columns(line: Vec<u8>, columns: &[String]) -> Result<Vec<u8>, String> {
    if columns.is_empty() {
        return Ok(line);
    }
    let mut row: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&line).map_err(|e| format!("a row is not a JSON object: {e}"))?;
    for name in columns {
        if let Some(v) = row.get_mut(name) {
            if let serde_json::Value::String(text) = v {
                *v = serde_json::from_str(text).map_err(|e| {
                    format!("column `{name}` is marked as JSON ({JSON_EXTENSION}) but holds invalid JSON: {e}")
                })?;
            }
        }
    }
    serde_json::to_vec(&row).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_located_in_their_row_group() {
        let groups = RowGroups(vec![0, 3, 10]);
        assert_eq!(groups.locate(1), (0, 0));
        assert_eq!(groups.locate(3), (0, 2));
        assert_eq!(groups.locate(4), (1, 0));
        assert_eq!(groups.locate(11), (2, 0));
        assert_eq!(RowGroups::default().locate(5), (0, 4));
    }

    #[test]
    fn json_columns_are_decoded_and_bad_json_is_named() {
        let cols = vec!["metadata".to_string()];
        let line = br#"{"text":"t","metadata":"{\"k\":[1,2]}","other":"{}"}"#.to_vec();
        let out = decode_json_columns(line, &cols).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["metadata"]["k"][1], 2);
        assert_eq!(v["other"], "{}", "only marked columns are decoded");
        let null = br#"{"text":"t","metadata":null}"#.to_vec();
        let out = decode_json_columns(null, &cols).unwrap();
        assert!(serde_json::from_slice::<serde_json::Value>(&out).unwrap()["metadata"].is_null());
        let bad = br#"{"text":"t","metadata":"{nope"}"#.to_vec();
        let err = decode_json_columns(bad, &cols).unwrap_err();
        assert!(
            err.contains("metadata") && err.contains("invalid JSON"),
            "{err}"
        );
    }
}
