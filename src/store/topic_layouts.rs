//! The stored layouts of the algorithm values inside [`super::TopicSettings`] and
//! [`super::TopicModel`]: the LSH banding, the hashed n-gram embedder and the k-means model.
//!
//! The bytes of a stored record are defined here, by these store-owned structs, and not by the
//! algorithm types: a field added to or reordered in `LshParams`, `HashedEmbedder` or
//! `KMeansModel` does not change what the store writes or reads, it breaks the conversions below
//! at compile time. Each layout is the field sequence those types had when the format was frozen
//! (`schema/store.md`), so the bytes are the same as when the algorithm types were serialised
//! directly. The records hold the algorithm types in memory and go through these layouts with
//! `#[serde(with = ...)]`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::algo::diversity::{ClusterStats, HashedEmbedder, KMeansModel, LshParams};

/// Stored layout of `LshParams`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredLshParams {
    /// Number of bands `b`.
    pub bands: usize,
    /// Signature values per band `r`.
    pub rows: usize,
}

impl From<&LshParams> for StoredLshParams {
    fn from(p: &LshParams) -> Self {
        StoredLshParams {
            bands: p.bands,
            rows: p.rows,
        }
    }
}

impl From<StoredLshParams> for LshParams {
    fn from(p: StoredLshParams) -> Self {
        LshParams {
            bands: p.bands,
            rows: p.rows,
        }
    }
}

/// Stored layout of `HashedEmbedder`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredEmbedder {
    /// Output dimension.
    pub dim: usize,
    /// Bits of the feature hash.
    pub feature_bits: u32,
    /// Token bigrams are features too.
    pub bigrams: bool,
    /// Punctuation tokens are features.
    pub punctuation: bool,
    /// Seed of the feature hash and the projection.
    pub seed: u64,
}

impl From<&HashedEmbedder> for StoredEmbedder {
    fn from(e: &HashedEmbedder) -> Self {
        StoredEmbedder {
            dim: e.dim(),
            feature_bits: e.feature_bits(),
            bigrams: e.bigrams(),
            punctuation: e.punctuation(),
            seed: e.seed(),
        }
    }
}

impl TryFrom<StoredEmbedder> for HashedEmbedder {
    type Error = String;

    fn try_from(e: StoredEmbedder) -> Result<Self, String> {
        HashedEmbedder::with_options(e.dim, e.feature_bits, e.bigrams, e.seed)
            .map(|h| h.with_punctuation(e.punctuation))
            .map_err(|err| format!("stored embedder settings: {err}"))
    }
}

/// Stored layout of one topic's running statistics (`ClusterStats`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StoredClusterStats {
    /// Number of members.
    pub count: u64,
    /// Sum of member distances to the centroid, in units of 2^-32.
    pub distance_sum: i128,
    /// Sum of member rows, in units of 2^-32.
    pub row_sum: Vec<i128>,
}

/// Stored layout of `KMeansModel`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct StoredKMeansModel {
    /// Row dimension.
    pub dim: usize,
    /// Centroids, row-major `k x dim`.
    pub centroids: Vec<f32>,
    /// Running statistics per topic.
    pub stats: Vec<StoredClusterStats>,
    /// Rows the centroids were fitted on.
    pub fitted: u64,
    /// Sum of the fitted rows' distances, in units of 2^-32.
    pub fitted_distance_sum: i128,
    /// Rows joined since the fit.
    pub joined: u64,
    /// Sum of the joined rows' distances, in units of 2^-32.
    pub joined_distance_sum: i128,
}

impl From<&KMeansModel> for StoredKMeansModel {
    fn from(m: &KMeansModel) -> Self {
        let (fitted_distance_sum, joined_distance_sum) = m.fixed_distance_sums();
        StoredKMeansModel {
            dim: m.dim(),
            centroids: m.centroids().to_vec(),
            stats: m
                .stats()
                .iter()
                .map(|s| {
                    let (distance_sum, row_sum) = s.fixed_sums();
                    StoredClusterStats {
                        count: s.count(),
                        distance_sum,
                        row_sum: row_sum.to_vec(),
                    }
                })
                .collect(),
            fitted: m.fitted(),
            fitted_distance_sum,
            joined: m.joined(),
            joined_distance_sum,
        }
    }
}

impl TryFrom<StoredKMeansModel> for KMeansModel {
    type Error = String;

    fn try_from(m: StoredKMeansModel) -> Result<Self, String> {
        let stats = m
            .stats
            .into_iter()
            .map(|s| ClusterStats::from_fixed(s.count, s.distance_sum, s.row_sum))
            .collect();
        KMeansModel::from_parts(
            m.dim,
            m.centroids,
            stats,
            (m.fitted, m.fitted_distance_sum),
            (m.joined, m.joined_distance_sum),
        )
        .map_err(|err| format!("stored topic model: {err}"))
    }
}

/// `#[serde(with)]` for an `LshParams` field, through [`StoredLshParams`].
pub(super) mod lsh {
    use super::*;

    pub fn serialize<S: Serializer>(v: &LshParams, s: S) -> Result<S::Ok, S::Error> {
        StoredLshParams::from(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LshParams, D::Error> {
        StoredLshParams::deserialize(d).map(LshParams::from)
    }
}

/// `#[serde(with)]` for a `HashedEmbedder` field, through [`StoredEmbedder`].
pub(super) mod embedder {
    use super::*;

    pub fn serialize<S: Serializer>(v: &HashedEmbedder, s: S) -> Result<S::Ok, S::Error> {
        StoredEmbedder::from(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HashedEmbedder, D::Error> {
        HashedEmbedder::try_from(StoredEmbedder::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with)]` for a `KMeansModel` field, through [`StoredKMeansModel`].
pub(super) mod kmeans {
    use super::*;

    pub fn serialize<S: Serializer>(v: &KMeansModel, s: S) -> Result<S::Ok, S::Error> {
        StoredKMeansModel::from(v).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KMeansModel, D::Error> {
        KMeansModel::try_from(StoredKMeansModel::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::diversity::{fit, KMeansParams};
    use crate::store::codec::{self, Versioned};
    use crate::store::{TopicModel, TopicSettings, TopicState};

    /// The records as they were defined before the layouts moved here: the algorithm types
    /// serialised by their own derives.
    #[derive(Serialize)]
    struct LegacySettings {
        num_perm: u32,
        shingle_words: u32,
        minhash_seed: u64,
        lsh: LshParams,
        embedder: HashedEmbedder,
        kmeans_seed: u64,
        k_requested: Option<u32>,
    }

    #[derive(Serialize)]
    struct LegacyState {
        settings: LegacySettings,
        overlap_next: u64,
        topics_next: u64,
        generation: u64,
        refit_next: Option<u64>,
    }

    #[derive(Serialize)]
    struct LegacyModel {
        generation: u64,
        reason: String,
        fitted_upto: u64,
        seed: u64,
        model: KMeansModel,
    }

    fn bincode<T: Serialize>(v: &T) -> Vec<u8> {
        bincode::serde::encode_to_vec(v, bincode::config::standard()).unwrap()
    }

    fn fitted_model() -> KMeansModel {
        let data: Vec<f32> = (0..60)
            .map(|i| ((i * 37) % 11) as f32 * 0.25 - 1.0)
            .collect();
        let mut model = fit(&data, 3, &KMeansParams::new(4).with_seed(7))
            .unwrap()
            .model;
        model.join(&[0.5, -0.25, 1.0, 2.0, 0.0, -1.5], 3).unwrap();
        model
    }

    #[test]
    fn topic_state_bytes_equal_the_algorithm_types_own_encoding() {
        let embedder = HashedEmbedder::with_options(64, 18, true, 99)
            .unwrap()
            .with_punctuation(false);
        let lsh = LshParams { bands: 16, rows: 8 };
        let state = TopicState {
            settings: TopicSettings {
                num_perm: 128,
                shingle_words: 5,
                minhash_seed: 3,
                lsh,
                embedder: embedder.clone(),
                kmeans_seed: 11,
                k_requested: Some(9),
            },
            overlap_next: 400,
            topics_next: 390,
            generation: 2,
            refit_next: None,
        };
        let legacy = LegacyState {
            settings: LegacySettings {
                num_perm: 128,
                shingle_words: 5,
                minhash_seed: 3,
                lsh,
                embedder,
                kmeans_seed: 11,
                k_requested: Some(9),
            },
            overlap_next: 400,
            topics_next: 390,
            generation: 2,
            refit_next: None,
        };
        let bytes = codec::encode(&state);
        assert_eq!(bytes[0], TopicState::VERSION);
        assert_eq!(&bytes[1..], bincode(&legacy).as_slice());
        assert_eq!(codec::decode::<TopicState>(&bytes).unwrap(), state);
    }

    #[test]
    fn topic_model_bytes_equal_the_algorithm_types_own_encoding() {
        let model = fitted_model();
        let record = TopicModel {
            generation: 3,
            reason: "requested".into(),
            fitted_upto: 20,
            seed: 7,
            model: model.clone(),
        };
        let legacy = LegacyModel {
            generation: 3,
            reason: "requested".into(),
            fitted_upto: 20,
            seed: 7,
            model,
        };
        let bytes = codec::encode(&record);
        assert_eq!(&bytes[1..], bincode(&legacy).as_slice());
        assert_eq!(codec::decode::<TopicModel>(&bytes).unwrap(), record);
    }

    #[test]
    fn a_model_whose_lengths_disagree_is_refused_not_read() {
        let mut stored = StoredKMeansModel::from(&fitted_model());
        stored.centroids.pop();
        assert!(KMeansModel::try_from(stored.clone()).is_err());
        stored.centroids.push(0.0);
        stored.stats[1].row_sum.push(0);
        assert!(KMeansModel::try_from(stored).is_err());
    }
}
