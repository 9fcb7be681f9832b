//! The values of the diversity stage (`samplemix topics`): per sample its MinHash signature, LSH
//! bucket entries, overlap, embedding and topic; per topic its statistics; per pool the topic
//! model, the stage's settings and watermarks, and the scale that turns the stored parts into
//! d(x). `schema/store.md` describes the same layouts for readers of the bytes.
//!
//! The typed accessors for these tables live here too (an `impl Store` and an `impl StoreBatch`
//! beside the ones of `mod.rs`), so that the stage's storage reads as one unit.

use std::collections::HashMap;

use rocksdb::IteratorMode;
use serde::{Deserialize, Serialize};

use super::codec::{self, Versioned};
use super::{SampleRow, Store, StoreBatch, Table};
use crate::algo::diversity::{HashedEmbedder, KMeansModel, LshParams, Overlap};
use crate::error::{Error, Result};

/// Key of [`TopicState`] in table `meta`.
pub const TOPICS_KEY: &[u8] = b"topics";
/// Key of the current [`TopicModel`] in table `meta`.
pub const TOPIC_MODEL_KEY: &[u8] = b"topic_model";
/// Key of the [`TopicModel`] of a refit in progress in table `meta`.
pub const TOPIC_REFIT_KEY: &[u8] = b"topic_refit";
/// Key of [`DiversityQuantiles`] in table `meta`.
pub const DIVERSITY_SCALE_KEY: &[u8] = b"diversity_scale";

/// A sample's MinHash signature. Table `minhash`, key: sequence number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct MinHashRecord {
    /// The `K` minima (bytes: `4 K`, each u32 little-endian); empty when the text has no words.
    #[serde(with = "u32_le")]
    pub values: Vec<u32>,
}

impl Versioned for MinHashRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "minhash";
}

/// A sample's most similar other sample. Table `overlaps`, key: sequence number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct OverlapRecord {
    /// Sequence number of the most similar other sample (the smallest among equals); `None`
    /// when no sample shares an LSH bucket with it.
    pub nearest: Option<u64>,
    /// Estimated Jaccard similarity of their word 5-gram sets (0 when `nearest` is `None`).
    pub jaccard: f32,
}

impl OverlapRecord {
    /// The overlap in the diversity module's terms.
    pub fn overlap(&self) -> Overlap {
        Overlap {
            nearest: self.nearest,
            jaccard: self.jaccard,
        }
    }
}

impl From<Overlap> for OverlapRecord {
    fn from(o: Overlap) -> Self {
        OverlapRecord {
            nearest: o.nearest,
            jaccard: o.jaccard,
        }
    }
}

impl Versioned for OverlapRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "overlaps";
}

/// A sample's embedding, kept for refits. Table `embeddings`, key: sequence number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct EmbeddingRecord {
    /// The vector (bytes: `2 dim`, each an IEEE 754 binary16 little-endian). Values are rounded
    /// to binary16 before they are used for anything, so a stored embedding and the one a sample
    /// joined its topic with are the same numbers.
    #[serde(with = "f16_le")]
    pub values: Vec<f32>,
}

impl Versioned for EmbeddingRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "embeddings";
}

/// A sample's topic. Table `assignments`, key: sequence number (u64 BE).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct AssignmentRecord {
    /// The topic model generation the topic belongs to.
    pub generation: u64,
    /// Topic id, `0..k`.
    pub topic: u32,
    /// Euclidean distance of the embedding to the topic's centroid.
    pub distance: f32,
}

impl Versioned for AssignmentRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "assignments";
}

/// A topic's share of one source.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct TopicSourceShare {
    /// `SourceInfo.id` of the source.
    pub source_id: u32,
    /// The topic's samples from that source.
    pub samples: u64,
    /// Their tokens.
    pub tokens: u64,
}

/// A characteristic term of a topic.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicTerm {
    /// The word.
    pub term: String,
    /// `p_t ln(p_t / p)`: its contribution to the KL divergence of the topic from the pool.
    pub score: f64,
    /// Share of the topic's representative samples that contain it (`p_t`).
    pub topic_share: f64,
    /// Estimated share of the pool's samples that contain it (`p`).
    pub pool_share: f64,
}

/// The figures of one topic, as of the last `topics` run. Table `topics`, key: topic id
/// (u32 BE).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicRecord {
    /// The model generation the topic belongs to.
    pub generation: u64,
    /// Samples.
    pub size: u64,
    /// Their tokens.
    pub tokens: u64,
    /// Mean distance of the members to the centroid.
    pub compactness: f64,
    /// Mean distance of the centroid to the other non-empty topics' centroids.
    pub separation: f64,
    /// Cluster score `r(compactness) r(separation)` over the non-empty topics (0 when empty).
    pub score: f64,
    /// The cluster rank its members get: mid-rank of `score` among all samples, over n.
    pub cluster_rank: f64,
    /// Samples and tokens per source, most samples first.
    pub sources: Vec<TopicSourceShare>,
    /// Characteristic terms, best first.
    pub terms: Vec<TopicTerm>,
    /// Sequence numbers of the members nearest to the centroid, nearest first.
    pub representatives: Vec<u64>,
}

impl Versioned for TopicRecord {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "topics";
}

/// The settings every signature, bucket and embedding of the pool was made with: they are
/// comparable only under the same ones.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicSettings {
    /// MinHash signature length `K`.
    pub num_perm: u32,
    /// Words per shingle.
    pub shingle_words: u32,
    /// Seed of the MinHash permutations.
    pub minhash_seed: u64,
    /// LSH banding (stored as [`super::topic_layouts::StoredLshParams`]).
    #[serde(with = "super::topic_layouts::lsh")]
    pub lsh: LshParams,
    /// The hashed n-gram embedder (dimension, feature bits, bigrams, punctuation, seed; stored
    /// as [`super::topic_layouts::StoredEmbedder`]).
    #[serde(with = "super::topic_layouts::embedder")]
    pub embedder: HashedEmbedder,
    /// Seed of k-means.
    pub kmeans_seed: u64,
    /// Topics asked for with `--topics`, kept for later refits; `None`: the default rule.
    pub k_requested: Option<u32>,
}

/// Where the diversity stage stands. Table `meta`, key `topics`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicState {
    /// The settings of every stored signature, bucket and embedding.
    pub settings: TopicSettings,
    /// Every sample with a smaller sequence number has its signature, buckets, overlap and
    /// embedding.
    pub overlap_next: u64,
    /// Every sample with a smaller sequence number has a topic under the current model.
    pub topics_next: u64,
    /// Generation of the current model (`meta`/`topic_model`); 0 before the first fit.
    pub generation: u64,
    /// A refit in progress (model under `meta`/`topic_refit`): the samples below this have
    /// their topic under it already.
    pub refit_next: Option<u64>,
}

impl Versioned for TopicState {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// A fitted topic model. Table `meta`, keys `topic_model` (current) and `topic_refit` (a refit
/// being written).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicModel {
    /// Generation: 1 for the first fit, one more for each refit.
    pub generation: u64,
    /// Why it was fitted (`first fit`, `requested`, or the drift rule that advised it).
    pub reason: String,
    /// The samples below this sequence number were fitted (all that had embeddings).
    pub fitted_upto: u64,
    /// Seed of the fit.
    pub seed: u64,
    /// Centroids and running statistics (fitted and joined counts, per-topic sums; stored as
    /// [`super::topic_layouts::StoredKMeansModel`]).
    #[serde(with = "super::topic_layouts::kmeans")]
    pub model: KMeansModel,
}

impl Versioned for TopicModel {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// What turns a sample's stored topic and novelty into d(x): the cluster rank of each topic and
/// the sorted products `cluster_rank * novelty` of the pool. Table `meta`, key
/// `diversity_scale`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct DiversityQuantiles {
    /// Model generation the ranks belong to.
    pub generation: u64,
    /// Samples with a topic and a novelty.
    pub n: u64,
    /// Cluster score of each topic (index: topic id).
    pub topic_score: Vec<f64>,
    /// Cluster rank of each topic's members (index: topic id).
    pub topic_rank: Vec<f64>,
    /// Ascending products `cluster_rank * novelty`: all of them, or 4097 evenly spaced order
    /// statistics.
    pub values: Vec<f64>,
}

impl Versioned for DiversityQuantiles {
    const VERSION: u8 = 1;
    const TABLE: &'static str = "meta";
}

/// IEEE 754 binary16 bits of `x`, rounded to nearest, ties to even (overflow gives infinity,
/// NaN stays NaN).
pub fn f32_to_f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = (b >> 16) & 0x8000;
    let exp = b & 0x7F80_0000;
    let man = b & 0x007F_FFFF;
    if exp == 0x7F80_0000 {
        let nan = if man == 0 { 0 } else { 0x0200 };
        return (sign | 0x7C00 | nan | (man >> 13)) as u16;
    }
    let half_exp = ((exp >> 23) as i32) - 127 + 15;
    if half_exp >= 0x1F {
        return (sign | 0x7C00) as u16;
    }
    if half_exp <= 0 {
        // Subnormal (or zero) in binary16.
        if 14 - half_exp > 24 {
            return sign as u16;
        }
        let man = man | 0x0080_0000;
        let shift = (14 - half_exp) as u32;
        let mut half_man = man >> shift;
        let round_bit = 1u32 << (shift - 1);
        if man & round_bit != 0 && man & (3 * round_bit - 1) != 0 {
            half_man += 1;
        }
        return (sign | half_man) as u16;
    }
    let bits = sign | ((half_exp as u32) << 10) | (man >> 13);
    let round_bit = 0x0000_1000u32;
    if man & round_bit != 0 && man & (3 * round_bit - 1) != 0 {
        (bits + 1) as u16
    } else {
        bits as u16
    }
}

/// The value of IEEE 754 binary16 bits (exact).
pub fn f16_bits_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from(h & 0x7C00);
    let man = u32::from(h & 0x03FF);
    if exp == 0x7C00 {
        return f32::from_bits(sign | 0x7F80_0000 | (man << 13));
    }
    if exp == 0 {
        if man == 0 {
            return f32::from_bits(sign);
        }
        // Subnormal: man * 2^-24.
        // Shift the leading one up to bit 10, the implicit bit of a normal binary16.
        let e = man.leading_zeros() - 22;
        let exp32 = (127 - 15 - e) << 23;
        let man32 = (man << (14 + e)) & 0x007F_FFFF;
        return f32::from_bits(sign | exp32 | man32);
    }
    f32::from_bits(sign | (((exp >> 10) + 127 - 15) << 23) | (man << 13))
}

/// Rounds every value to the nearest binary16 (what an [`EmbeddingRecord`] keeps).
pub fn round_to_f16(values: &mut [f32]) {
    for v in values {
        *v = f16_bits_to_f32(f32_to_f16_bits(*v));
    }
}

struct BytesVisitor;

impl<'de> serde::de::Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("bytes")
    }
    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }
    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::new();
        while let Some(b) = seq.next_element()? {
            out.push(b);
        }
        Ok(out)
    }
}

/// `Vec<u32>` as bytes, 4 little-endian bytes per value.
mod u32_le {
    use serde::{de::Error, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        let bytes = d.deserialize_bytes(super::BytesVisitor)?;
        if bytes.len() % 4 != 0 {
            return Err(D::Error::custom(format!(
                "{} bytes do not hold whole u32 values",
                bytes.len()
            )));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

/// `Vec<f32>` as bytes, each value rounded to binary16 (2 little-endian bytes).
pub(super) mod f16_le {
    use serde::{de::Error, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = v
            .iter()
            .flat_map(|&x| super::f32_to_f16_bits(x).to_le_bytes())
            .collect();
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        let bytes = d.deserialize_bytes(super::BytesVisitor)?;
        if bytes.len() % 2 != 0 {
            return Err(D::Error::custom(format!(
                "{} bytes do not hold whole binary16 values",
                bytes.len()
            )));
        }
        Ok(bytes
            .chunks_exact(2)
            .map(|c| super::f16_bits_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect())
    }
}

/// Key of the `lsh` table: bucket (u64 BE) then sequence number (u64 BE).
pub fn lsh_key(bucket: u64, seq: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&bucket.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// Key of the `topics` table: the topic id, u32 BE.
pub fn topic_key(topic: u32) -> [u8; 4] {
    topic.to_be_bytes()
}

impl Store {
    pub(super) fn multi_get_seq_values<T: Versioned>(
        &self,
        table: Table,
        seqs: &[u64],
    ) -> Result<Vec<Option<T>>> {
        let cf = self.cf(table);
        let keys: Vec<[u8; 8]> = seqs.iter().map(|&s| codec::seq_key(s)).collect();
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

    /// Compact rows of the samples stored under `seqs`, in order.
    pub fn sample_rows_of(&self, seqs: &[u64]) -> Result<Vec<Option<SampleRow>>> {
        self.multi_get_seq_values(Table::Samples, seqs)
    }

    /// MinHash signatures of `seqs`, in order.
    pub fn minhashes(&self, seqs: &[u64]) -> Result<Vec<Option<MinHashRecord>>> {
        self.multi_get_seq_values(Table::Minhash, seqs)
    }

    /// Overlaps of `seqs`, in order.
    pub fn overlaps(&self, seqs: &[u64]) -> Result<Vec<Option<OverlapRecord>>> {
        self.multi_get_seq_values(Table::Overlaps, seqs)
    }

    /// Embeddings of `seqs`, in order.
    pub fn embeddings(&self, seqs: &[u64]) -> Result<Vec<Option<EmbeddingRecord>>> {
        self.multi_get_seq_values(Table::Embeddings, seqs)
    }

    /// Topic assignments of `seqs`, in order.
    pub fn assignments(&self, seqs: &[u64]) -> Result<Vec<Option<AssignmentRecord>>> {
        self.multi_get_seq_values(Table::Assignments, seqs)
    }

    /// The overlap of one sample.
    pub fn overlap(&self, seq: u64) -> Result<Option<OverlapRecord>> {
        self.get(Table::Overlaps, &codec::seq_key(seq))
    }

    /// The topic assignment of one sample.
    pub fn assignment(&self, seq: u64) -> Result<Option<AssignmentRecord>> {
        self.get(Table::Assignments, &codec::seq_key(seq))
    }

    /// The samples of each of `buckets` (ascending seqs per bucket; buckets without samples are
    /// left out): one iterator seeks the sorted bucket keys in turn.
    pub fn lsh_buckets(&self, buckets: &[u64]) -> Result<HashMap<u64, Vec<u64>>> {
        let mut sorted = buckets.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = HashMap::new();
        let mut it = self.db.raw_iterator_cf(self.cf(Table::Lsh));
        for b in sorted {
            let prefix = b.to_be_bytes();
            it.seek(lsh_key(b, 0));
            let mut seqs = Vec::new();
            while let Some(key) = it.key() {
                if key.len() != 16 || key[..8] != prefix {
                    break;
                }
                seqs.extend(codec::read_seq(&key[8..]));
                it.next();
            }
            if !seqs.is_empty() {
                out.insert(b, seqs);
            }
        }
        it.status().map_err(|e| self.db_err(e))?;
        Ok(out)
    }

    fn corrupt_key(&self, table: &'static str, key: &[u8]) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            table,
            key: codec::hex(key),
            reason: "key of unexpected length".into(),
        }
    }

    /// Every value of a table keyed by sequence number, in sequence order.
    fn seq_values<T: Versioned>(
        &self,
        table: Table,
    ) -> impl Iterator<Item = Result<(u64, T)>> + '_ {
        self.db
            .iterator_cf(self.cf(table), IteratorMode::Start)
            .map(move |item| {
                let (key, value) = item.map_err(|e| self.db_err(e))?;
                let seq = codec::read_seq(&key).ok_or_else(|| self.corrupt_key(T::TABLE, &key))?;
                Ok((seq, self.decode(&key, &value)?))
            })
    }

    /// Every overlap, in sequence order.
    pub fn all_overlaps(&self) -> impl Iterator<Item = Result<(u64, OverlapRecord)>> + '_ {
        self.seq_values(Table::Overlaps)
    }

    /// Every topic assignment, in sequence order.
    pub fn all_assignments(&self) -> impl Iterator<Item = Result<(u64, AssignmentRecord)>> + '_ {
        self.seq_values(Table::Assignments)
    }

    /// Sequence numbers of every sample, ordered by the hash of its normalised text (the key
    /// order of table `dedup`): an order that depends on the pool's content only, not on the
    /// order it was appended in.
    pub fn seqs_by_text_hash(&self) -> Result<Vec<u64>> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(Table::Dedup), IteratorMode::Start)
        {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            out.push(codec::read_seq(&value).ok_or_else(|| self.corrupt_key("dedup", &key))?);
        }
        Ok(out)
    }

    /// (text key, sequence number) of every sample, ascending by text key: the xxh3-128 of the
    /// sample's normalised text (the dedup key), which is a sample's identity in the draws of
    /// mixes (docs/method.md, "Order independence").
    pub fn text_keys(&self) -> Result<Vec<(u128, u64)>> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(Table::Dedup), IteratorMode::Start)
        {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            let hash = codec::read_hash_key(&key).ok_or_else(|| self.corrupt_key("dedup", &key))?;
            let seq = codec::read_seq(&value).ok_or_else(|| self.corrupt_key("dedup", &key))?;
            out.push((hash, seq));
        }
        Ok(out)
    }

    /// Every topic's record, by topic id.
    pub fn topic_records(&self) -> Result<Vec<(u32, TopicRecord)>> {
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(Table::Topics), IteratorMode::Start)
        {
            let (key, value) = item.map_err(|e| self.db_err(e))?;
            let topic = <[u8; 4]>::try_from(&key[..])
                .map(u32::from_be_bytes)
                .map_err(|_| self.corrupt_key("topics", &key))?;
            out.push((topic, self.decode(&key, &value)?));
        }
        Ok(out)
    }

    /// Number of keys in a table (a full scan: for checks).
    pub fn count_keys(&self, table: Table) -> Result<u64> {
        let mut n = 0;
        for item in self.db.iterator_cf(self.cf(table), IteratorMode::Start) {
            item.map_err(|e| self.db_err(e))?;
            n += 1;
        }
        Ok(n)
    }
}

impl StoreBatch<'_> {
    /// Stores a sample's MinHash signature.
    pub fn put_minhash(&mut self, seq: u64, record: &MinHashRecord) {
        self.put(Table::Minhash, &codec::seq_key(seq), record);
    }

    /// Adds a sample to an LSH bucket.
    pub fn put_lsh(&mut self, bucket: u64, seq: u64) {
        self.wb
            .put_cf(self.store.cf(Table::Lsh), lsh_key(bucket, seq), []);
    }

    /// Stores (or replaces) a sample's overlap.
    pub fn put_overlap(&mut self, seq: u64, record: &OverlapRecord) {
        self.put(Table::Overlaps, &codec::seq_key(seq), record);
    }

    /// Stores a sample's embedding.
    pub fn put_embedding(&mut self, seq: u64, record: &EmbeddingRecord) {
        self.put(Table::Embeddings, &codec::seq_key(seq), record);
    }

    /// Stores (or replaces) a sample's topic assignment.
    pub fn put_assignment(&mut self, seq: u64, record: &AssignmentRecord) {
        self.put(Table::Assignments, &codec::seq_key(seq), record);
    }

    /// Stores (or replaces) a topic's record.
    pub fn put_topic_record(&mut self, topic: u32, record: &TopicRecord) {
        self.put(Table::Topics, &topic_key(topic), record);
    }

    /// Deletes the records of topics `from` and up (after a refit to fewer topics).
    pub fn delete_topic_records_from(&mut self, from: u32) {
        let cf = self.store.cf(Table::Topics);
        self.wb
            .delete_range_cf(cf, &topic_key(from)[..], &[0xFF; 5][..]);
    }

    /// Deletes a value of table `meta`.
    pub fn delete_meta(&mut self, key: &[u8]) {
        self.wb.delete_cf(self.store.cf(Table::Meta), key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary16_round_trips_and_rounds_to_nearest_even() {
        for h in 0..=u16::MAX {
            let x = f16_bits_to_f32(h);
            if x.is_nan() {
                assert!(f16_bits_to_f32(f32_to_f16_bits(x)).is_nan());
                continue;
            }
            assert_eq!(f32_to_f16_bits(x), h, "bits {h:#06x} -> {x}");
        }
        assert_eq!(f32_to_f16_bits(1.0), 0x3C00);
        assert_eq!(f32_to_f16_bits(-2.0), 0xC000);
        assert_eq!(f32_to_f16_bits(0.1), 0x2E66);
        assert_eq!(f32_to_f16_bits(65504.0), 0x7BFF);
        assert_eq!(f32_to_f16_bits(1e6), 0x7C00);
        assert_eq!(f32_to_f16_bits(1e-7), 0x0002);
        assert_eq!(f32_to_f16_bits(1e-9), 0x0000);
        // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa.
        assert_eq!(f32_to_f16_bits(1.0 + 2f32.powi(-11)), 0x3C00);
        assert_eq!(f32_to_f16_bits(1.0 + 3.0 * 2f32.powi(-11)), 0x3C02);
        let mut v = [0.123_456_f32, -0.5, 3.0e-6];
        round_to_f16(&mut v);
        assert_eq!(v[1], -0.5);
        assert!((v[0] - 0.123_456).abs() < 1e-4);
    }

    #[test]
    fn packed_values_round_trip() {
        let m = MinHashRecord {
            values: vec![0, 1, u32::MAX, 0x1234_5678],
        };
        let bytes = codec::encode(&m);
        assert_eq!(bytes.len(), 1 + 1 + 16);
        assert_eq!(codec::decode::<MinHashRecord>(&bytes).unwrap(), m);
        let e = EmbeddingRecord {
            values: vec![0.5, -0.25, 0.0, 1.0],
        };
        let bytes = codec::encode(&e);
        assert_eq!(bytes.len(), 1 + 1 + 8);
        assert_eq!(codec::decode::<EmbeddingRecord>(&bytes).unwrap(), e);
        let empty = MinHashRecord { values: Vec::new() };
        assert_eq!(
            codec::decode::<MinHashRecord>(&codec::encode(&empty)).unwrap(),
            empty
        );
        assert!(lsh_key(1, 2) < lsh_key(1, 3) && lsh_key(1, u64::MAX) < lsh_key(2, 0));
    }
}
