//! The reference model's per-sample embeddings (store format 3): written by `score` beside each
//! sample's score, read by `topics --embedding model`.

use std::collections::HashSet;

use rocksdb::IteratorMode;
use serde::{Deserialize, Serialize};

use super::codec::{self, Versioned};
use super::{SampleRow, Store, StoreBatch, Table};
use crate::error::{Error, Result};

/// A sample's embedding under the reference model: the mean of the model's last hidden states
/// over the sample's scored text positions. Table `model_embeddings`, key: sequence number
/// (u64 BE).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ModelEmbeddingRecord {
    /// [`SampleRow::fingerprint_id`] of the scorer fingerprint it was computed under: current
    /// only while it equals the scorer's.
    pub fingerprint_id: u64,
    /// The vector (bytes: `2 dim`, binary16 little-endian, like [`super::EmbeddingRecord`]).
    /// Empty for a sample too short to score (it has no text position to average).
    #[serde(with = "super::topic_records::f16_le")]
    pub values: Vec<f32>,
}

impl Versioned for ModelEmbeddingRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "model_embeddings";
}

/// Key of the [`TopicEmbedding`] of the current topic model in table `meta`.
pub const TOPIC_EMBEDDING_KEY: &[u8] = b"topic_embedding";
/// Key of the [`TopicEmbedding`] of a refit in progress in table `meta`.
pub const TOPIC_EMBEDDING_REFIT_KEY: &[u8] = b"topic_embedding_refit";

/// Which embeddings the topics are clustered on.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddingSource {
    /// The hashed word n-gram embeddings of table `embeddings` (computed by `topics`).
    Hashed,
    /// The reference model's embeddings of table `model_embeddings` (computed by `score`).
    Model,
}

impl EmbeddingSource {
    /// `hashed` or `model`.
    pub fn name(self) -> &'static str {
        match self {
            EmbeddingSource::Hashed => "hashed",
            EmbeddingSource::Model => "model",
        }
    }
}

/// The embeddings a topic model was fitted on. Table `meta`, keys `topic_embedding` (the
/// current model's; absent: hashed, as before format 3) and `topic_embedding_refit` (a refit
/// being written).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct TopicEmbedding {
    /// The table the vectors come from.
    pub source: EmbeddingSource,
    /// For [`EmbeddingSource::Model`], the scorer fingerprint the embeddings were computed
    /// under (empty for hashed).
    pub scorer_fingerprint: String,
    /// Length of the vectors k-means sees.
    pub dim: u32,
}

impl Versioned for TopicEmbedding {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

impl Store {
    /// Model embeddings of `seqs`, in order (all `None` on a store without the table).
    pub fn model_embeddings(&self, seqs: &[u64]) -> Result<Vec<Option<ModelEmbeddingRecord>>> {
        if self.db.cf_handle(Table::ModelEmbeddings.name()).is_none() {
            return Ok(vec![None; seqs.len()]);
        }
        self.multi_get_seq_values(Table::ModelEmbeddings, seqs)
    }

    /// Number of stored model embeddings (a full scan: for checks).
    pub fn model_embedding_count(&self) -> Result<u64> {
        if self.db.cf_handle(Table::ModelEmbeddings.name()).is_none() {
            return Ok(0);
        }
        self.count_keys(Table::ModelEmbeddings)
    }

    /// The samples whose model embedding is current under `fingerprint` (a scorer fingerprint).
    pub fn model_embedded(&self, fingerprint: &str) -> Result<HashSet<u64>> {
        let id = SampleRow::fingerprint_id(fingerprint);
        let mut out = HashSet::new();
        let Some(cf) = self.db.cf_handle(Table::ModelEmbeddings.name()) else {
            return Ok(out);
        };
        for item in self.db.iterator_cf(cf, IteratorMode::Start) {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            let seq = codec::read_seq(&key).ok_or_else(|| Error::Corrupt {
                path: self.path.clone(),
                table: ModelEmbeddingRecord::TABLE,
                key: codec::hex(&key),
                reason: "key is not a sequence number".into(),
            })?;
            let record: ModelEmbeddingRecord = self.decode(&key, &value)?;
            if record.fingerprint_id == id {
                out.insert(seq);
            }
        }
        Ok(out)
    }
}

impl StoreBatch<'_> {
    /// Stores (or replaces) a sample's model embedding.
    pub fn put_model_embedding(&mut self, seq: u64, record: &ModelEmbeddingRecord) {
        self.put(Table::ModelEmbeddings, &codec::seq_key(seq), record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_as_binary16() {
        let r = ModelEmbeddingRecord {
            fingerprint_id: 7,
            values: vec![0.5, -1.25, 3.0],
        };
        let bytes = codec::encode(&r);
        assert_eq!(codec::decode::<ModelEmbeddingRecord>(&bytes).unwrap(), r);
        // Version byte, the u64 id, a length and 2 bytes per value.
        assert!(bytes.len() <= 1 + 8 + 8 + 6, "{} bytes", bytes.len());
    }
}
