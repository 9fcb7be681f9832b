//! Parquet shards of a document export (`export --format parquet`).
//!
//! The columns are the JSONL export's keys: `id`, `text`, `source` (UTF-8, never null) and
//! `metadata` (UTF-8 JSON text of the sample's metadata object, null when it has none, marked
//! with Arrow's canonical `arrow.json` extension type). The metadata stays JSON text because
//! samples of one mix carry different keys (Parquet needs one schema per file); pandas and
//! Hugging Face `datasets` read it as a string column, pyarrow as `pa.json_()`, and `append`
//! reads it back as the metadata object. Rows are
//! buffered [`BATCH_ROWS`] at a time; row groups close at [`ROW_GROUP_ROWS`] rows or
//! [`ROW_GROUP_BYTES`] bytes, whichever comes first, so memory stays bounded by a row group.
//! Pages are zstd-compressed at the export's level.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{DocShard, Line};
use crate::error::{Error, Result};
use crate::ingest::parquet::{EXTENSION_NAME_KEY, JSON_EXTENSION};

/// Rows per record batch handed to the writer.
pub const BATCH_ROWS: usize = 1024;
/// Most rows in one row group.
pub const ROW_GROUP_ROWS: usize = 65_536;
/// Most (estimated encoded) bytes in one row group.
pub const ROW_GROUP_BYTES: usize = 128 << 20;

/// The schema of an exported shard.
#[must_use]
pub fn export_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("metadata", DataType::Utf8, true).with_metadata(
            std::collections::HashMap::from([(
                EXTENSION_NAME_KEY.to_string(),
                JSON_EXTENSION.to_string(),
            )]),
        ),
    ]))
}

/// One Parquet shard being written.
pub(super) struct ParquetShard {
    writer: ArrowWriter<BufWriter<File>>,
    path: PathBuf,
    schema: SchemaRef,
    columns: [StringBuilder; 4],
    rows: usize,
}

impl ParquetShard {
    pub(super) fn create(path: PathBuf, level: i32) -> Result<Self> {
        let f = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let level = ZstdLevel::try_new(level).map_err(|e| Error::Invalid(e.to_string()))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_created_by(format!("samplemix {}", env!("CARGO_PKG_VERSION")))
            .build();
        let schema = export_schema();
        let writer = ArrowWriter::try_new(BufWriter::new(f), schema.clone(), Some(props))
            .map_err(|e| parquet_error(&path, e))?;
        Ok(ParquetShard {
            writer,
            path,
            schema,
            columns: std::array::from_fn(|_| StringBuilder::new()),
            rows: 0,
        })
    }

    /// Hands the buffered rows to the writer as one record batch.
    fn write_batch(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| Error::Invalid(format!("{}: {e}", self.path.display())))?;
        self.rows = 0;
        self.writer
            .write(&batch)
            .map_err(|e| parquet_error(&self.path, e))
    }
}

impl DocShard for ParquetShard {
    fn write(&mut self, line: &Line<'_>) -> Result<()> {
        let [id, text, source, metadata] = &mut self.columns;
        id.append_value(line.id);
        text.append_value(line.text);
        source.append_value(line.source);
        match &line.metadata {
            Some(m) => metadata.append_value(m.to_string()),
            None => metadata.append_null(),
        }
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        self.write_batch()?;
        let path = self.path.clone();
        self.writer.close().map_err(|e| parquet_error(&path, e))?;
        Ok(())
    }
}

fn parquet_error(path: &std::path::Path, e: parquet::errors::ParquetError) -> Error {
    match e {
        parquet::errors::ParquetError::External(inner) => {
            Error::io(path, std::io::Error::other(inner))
        }
        other => Error::Invalid(format!("{}: writing Parquet: {other}", path.display())),
    }
}
