//! Golden bytes of the stored records: they pin store format 1 on disk.
//!
//! Each test is named after the table (and `meta` key) its value lives in. It encodes a fixed,
//! hand-built value and compares the bytes with the committed hex, then decodes the committed
//! bytes and compares the value. The hex is written field by field, in the order of
//! `schema/store.md`, so that a failure shows which field moved. bincode 2 `standard()`: unsigned
//! integers below 251 are one byte, then `fb` + u16 LE, `fc` + u32 LE, `fd` + u64 LE, `fe` +
//! u128 LE; signed ones are zigzag-mapped first; floats are fixed-width LE; `Option` is `00` or
//! `01` + value; strings, byte strings and sequences are a length, then their items.
//!
//! If one of these tests fails, stored data would no longer read the same: do not change the
//! hex. Either keep the bytes (a refactor must not change them) or bump the value version or the
//! store format, with a migration or a clear refusal (`schema/CHANGES.md`).
//!
//! The algorithm types embedded in `TopicState` and `TopicModel` (the embedder, the k-means
//! model) have private fields, so those parts are built from JSON through their serde derives:
//! whatever type holds them later must keep the bytes.

use std::fmt::Debug;

use serde_json::json;

use super::codec::{self, Versioned};
use super::format::{self, FormatFile};
use super::topic_records::{lsh_key, topic_key};
use super::*;

/// Joins hex parts (whitespace ignored).
fn hex_of(parts: &[&str]) -> String {
    parts.concat().split_whitespace().collect()
}

fn unhex(hex: &str) -> Vec<u8> {
    assert!(hex.len().is_multiple_of(2), "odd hex length");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// `value` encodes to exactly `parts`, and `parts` decodes to exactly `value`.
fn golden<T: Versioned + PartialEq + Debug>(value: &T, parts: &[&str]) {
    let expected = hex_of(parts);
    assert_eq!(
        codec::hex(&codec::encode(value)),
        expected,
        "the bytes of a stored {} value changed",
        T::TABLE
    );
    let decoded: T = codec::decode(&unhex(&expected)).expect("the committed bytes decode");
    assert_eq!(
        &decoded, value,
        "the committed bytes decode to another value"
    );
}

/// The fingerprint used by the scorer values below.
const FP: &str = "00ff00ff00ff00ff";
const FP_HEX: &str = "10 30306666303066663030666630306666";

fn doc() -> DocRecord {
    DocRecord {
        id: "doc-1".into(),
        source: "web".into(),
        text: "Hello, world.".into(),
        metadata: Some(r#"{"lang":"en"}"#.into()),
        text_hash: 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        tokens_estimate: 4,
        origin_file: "a.jsonl".into(),
        origin_line: 300,
    }
}

const DOC_HEX: &[&str] = &[
    "01",                                  // value version
    "05 646f632d31",                       // id "doc-1"
    "03 776562",                           // source "web"
    "0d 48656c6c6f2c20776f726c642e",       // text "Hello, world."
    "01 0d 7b226c616e67223a22656e227d",    // metadata Some("{\"lang\":\"en\"}")
    "fe 1032547698badcfeefcdab8967452301", // text_hash u128
    "04",                                  // tokens_estimate 4
    "07 612e6a736f6e6c",                   // origin_file "a.jsonl"
    "fb 2c01",                             // origin_line 300
];

#[test]
fn docs_doc_record() {
    golden(&doc(), DOC_HEX);
}

fn full_row() -> SampleRow {
    SampleRow {
        tokens: 1000,
        source_id: 2,
        tokens_exact: true,
        quality_fp: 0x1122_3344_5566_7788,
        mean_nll: Some(2.5),
        topic: Some(3),
        novelty: Some(0.75),
    }
}

const FULL_ROW_HEX: &[&str] = &[
    "01",                  // value version
    "fb e803",             // tokens 1000
    "02",                  // source_id 2
    "01",                  // tokens_exact true
    "fd 8877665544332211", // quality_fp
    "01 00002040",         // mean_nll Some(2.5f32)
    "01 03",               // topic Some(3)
    "01 0000403f",         // novelty Some(0.75f32)
];

#[test]
fn samples_sample_row() {
    golden(&full_row(), FULL_ROW_HEX);
    // A new sample's row: estimate, nothing scored or assigned.
    golden(
        &SampleRow::new(7, 0),
        &["01", "07", "00", "00", "00", "00", "00", "00"],
    );
}

#[test]
fn sources_source_info() {
    let info = SourceInfo {
        id: 1,
        docs: 2,
        tokens: 70_000,
        bytes: 280_000,
    };
    golden(&info, &["01", "01", "02", "fc 70110100", "fc c0450400"]);
}

fn counters() -> PoolCounters {
    PoolCounters {
        next_seq: 300,
        docs: 298,
        tokens: 65_536,
        bytes: 1,
        duplicates: 2,
        rejected: 250,
        appends: 251,
    }
}

const COUNTERS_HEX: &[&str] = &[
    "01",          // value version
    "fb 2c01",     // next_seq 300
    "fb 2a01",     // docs 298
    "fc 00000100", // tokens 65536
    "01",          // bytes 1
    "02",          // duplicates 2
    "fa",          // rejected 250 (the largest one-byte varint)
    "fb fb00",     // appends 251 (the smallest two-byte one)
];

#[test]
fn meta_counters() {
    assert_eq!(COUNTERS_KEY, b"counters");
    golden(&counters(), COUNTERS_HEX);
}

#[test]
fn scores_score_record() {
    let score = ScoreRecord {
        fingerprint: FP.into(),
        n_tokens: 336,
        nll_sum: 993.25,
        n_scored: 255,
    };
    golden(
        &score,
        &[
            "01",               // value version
            FP_HEX,             // fingerprint
            "fb 5001",          // n_tokens 336
            "00000000000a8f40", // nll_sum 993.25f64
            "fb ff00",          // n_scored 255
        ],
    );
}

#[test]
fn meta_scorer() {
    assert_eq!(SCORER_KEY, b"scorer");
    let state = ScorerState {
        fingerprint: FP.into(),
        description: "m.gguf q4".into(),
        scored: 40,
        too_short: 1,
    };
    golden(&state, &["01", FP_HEX, "09 6d2e67677566207134", "28", "01"]);
}

#[test]
fn meta_nll_quantiles() {
    assert_eq!(NLL_QUANTILES_KEY, b"nll_quantiles");
    let q = NllQuantiles {
        fingerprint: FP.into(),
        n: 3,
        values: vec![1.5, 2.0, 3.25],
    };
    golden(
        &q,
        &[
            "01",
            FP_HEX,
            "03",                                                    // n
            "03 000000000000f83f 0000000000000040 0000000000000a40", // values
        ],
    );
}

#[test]
fn minhash_minhash_record() {
    let m = MinHashRecord {
        values: vec![1, 0xdead_beef],
    };
    // A byte string of 4 bytes per value, each u32 little-endian.
    golden(&m, &["01", "08 01000000 efbeadde"]);
    golden(&MinHashRecord { values: Vec::new() }, &["01", "00"]);
}

#[test]
fn overlaps_overlap_record() {
    let o = OverlapRecord {
        nearest: Some(258),
        jaccard: 0.5,
    };
    golden(&o, &["01", "01 fb 0201", "0000003f"]);
    let none = OverlapRecord {
        nearest: None,
        jaccard: 0.0,
    };
    golden(&none, &["01", "00", "00000000"]);
}

#[test]
fn embeddings_embedding_record() {
    let e = EmbeddingRecord {
        values: vec![1.0, -2.0, 0.5],
    };
    // A byte string of 2 bytes per value, each IEEE 754 binary16 little-endian.
    golden(&e, &["01", "06 003c 00c0 0038"]);
}

#[test]
fn assignments_assignment_record() {
    let a = AssignmentRecord {
        generation: 2,
        topic: 5,
        distance: 0.25,
    };
    golden(&a, &["01", "02", "05", "0000803e"]);
}

#[test]
fn topics_topic_record() {
    let t = TopicRecord {
        generation: 1,
        size: 10,
        tokens: 1200,
        compactness: 0.5,
        separation: 1.25,
        score: 0.75,
        cluster_rank: 0.625,
        sources: vec![
            TopicSourceShare {
                source_id: 0,
                samples: 6,
                tokens: 700,
            },
            TopicSourceShare {
                source_id: 1,
                samples: 4,
                tokens: 500,
            },
        ],
        terms: vec![TopicTerm {
            term: "rust".into(),
            score: 0.5,
            topic_share: 1.0,
            pool_share: 0.25,
        }],
        representatives: vec![3, 1000],
    };
    assert_eq!(topic_key(5), [0, 0, 0, 5]);
    golden(
        &t,
        &[
            "01",               // value version
            "01",               // generation 1
            "0a",               // size 10
            "fb b004",          // tokens 1200
            "000000000000e03f", // compactness 0.5
            "000000000000f43f", // separation 1.25
            "000000000000e83f", // score 0.75
            "000000000000e43f", // cluster_rank 0.625
            "02",               // sources: 2
            "00 06 fb bc02",    //   source 0: 6 samples, 700 tokens
            "01 04 fb f401",    //   source 1: 4 samples, 500 tokens
            "01",               // terms: 1
            "04 72757374",      //   term "rust"
            "000000000000e03f", //   score 0.5
            "000000000000f03f", //   topic_share 1.0
            "000000000000d03f", //   pool_share 0.25
            "02 03 fb e803",    // representatives [3, 1000]
        ],
    );
}

fn topic_state() -> TopicState {
    TopicState {
        settings: TopicSettings {
            num_perm: 128,
            shingle_words: 5,
            minhash_seed: 7,
            lsh: crate::algo::diversity::LshParams { bands: 32, rows: 4 },
            embedder: serde_json::from_value(json!({
                "dim": 256, "feature_bits": 20, "bigrams": false, "punctuation": true,
                "seed": 42,
            }))
            .expect("an embedder from JSON"),
            kmeans_seed: 9,
            k_requested: Some(8),
        },
        overlap_next: 300,
        topics_next: 299,
        generation: 2,
        refit_next: None,
    }
}

/// `TopicState.settings` up to `kmeans_seed`.
const TOPIC_SETTINGS_HEX: &[&str] = &[
    "80",      // num_perm 128
    "05",      // shingle_words 5
    "07",      // minhash_seed 7
    "20 04",   // lsh: 32 bands, 4 rows
    "fb 0001", // embedder.dim 256
    "14",      // embedder.feature_bits 20
    "00",      // embedder.bigrams false
    "01",      // embedder.punctuation true
    "2a",      // embedder.seed 42
    "09",      // kmeans_seed 9
];

#[test]
fn meta_topics() {
    assert_eq!(TOPICS_KEY, b"topics");
    let settings = hex_of(TOPIC_SETTINGS_HEX);
    golden(
        &topic_state(),
        &[
            "01",      // value version
            &settings, // settings, then
            "01 08",   // settings.k_requested Some(8)
            "fb 2c01", // overlap_next 300
            "fb 2b01", // topics_next 299
            "02",      // generation 2
            "00",      // refit_next None
        ],
    );
    let mut refitting = topic_state();
    refitting.settings.k_requested = None;
    refitting.refit_next = Some(100);
    golden(
        &refitting,
        &["01", &settings, "00", "fb 2c01", "fb 2b01", "02", "01 64"],
    );
}

/// Fixed-point sums of the k-means statistics are in units of 2^-32: 1.0 is 2^32.
fn topic_model() -> TopicModel {
    TopicModel {
        generation: 2,
        reason: "requested".into(),
        fitted_upto: 300,
        seed: 9,
        model: serde_json::from_value(json!({
            "dim": 2,
            "centroids": [0.5, -0.5, 1.0, 0.0],
            "stats": [
                {"count": 2, "distance_sum": 4_294_967_296_i64,
                 "row_sum": [2_147_483_648_i64, -2_147_483_648_i64]},
                {"count": 1, "distance_sum": 0, "row_sum": [4_294_967_296_i64, 0]},
            ],
            "fitted": 2,
            "fitted_distance_sum": 4_294_967_296_i64,
            "joined": 1,
            "joined_distance_sum": -1,
        }))
        .expect("a k-means model from JSON"),
    }
}

#[test]
fn meta_topic_model_and_topic_refit() {
    assert_eq!(TOPIC_MODEL_KEY, b"topic_model");
    assert_eq!(TOPIC_REFIT_KEY, b"topic_refit");
    let model = topic_model();
    assert_eq!(model.model.k(), 2);
    assert_eq!(model.model.stats()[0].distance_sum(), 1.0);
    golden(
        &model,
        &[
            "01",                                     // value version
            "02",                                     // generation 2
            "09 726571756573746564",                  // reason "requested"
            "fb 2c01",                                // fitted_upto 300
            "09",                                     // seed 9
            "02",                                     // model.dim 2
            "04 0000003f 000000bf 0000803f 00000000", // model.centroids
            "02",                                     // model.stats: 2
            "02",                                     //   count 2
            "fd 0000000002000000",                    //   distance_sum 2^32 (zigzag: 2^33)
            "02 fd 0000000001000000 fc ffffffff",     // row_sum [2^31, -2^31] (zigzag)
            "01",                                     //   count 1
            "00",                                     //   distance_sum 0
            "02 fd 0000000002000000 00",              // row_sum [2^32, 0]
            "02",                                     // model.fitted 2
            "fd 0000000002000000",                    // model.fitted_distance_sum 2^32
            "01",                                     // model.joined 1
            "01",                                     // model.joined_distance_sum -1 (zigzag: 1)
        ],
    );
}

#[test]
fn meta_diversity_scale() {
    assert_eq!(DIVERSITY_SCALE_KEY, b"diversity_scale");
    let d = DiversityQuantiles {
        generation: 2,
        n: 3,
        topic_score: vec![0.25, 1.0],
        topic_rank: vec![0.5, 0.875],
        values: vec![0.0, 0.125, 0.5],
    };
    golden(
        &d,
        &[
            "01",
            "02",
            "03",
            "02 000000000000d03f 000000000000f03f",
            "02 000000000000e03f 000000000000ec3f",
            "03 0000000000000000 000000000000c03f 000000000000e03f",
        ],
    );
}

#[test]
fn mixes_mix_record() {
    let mix = MixRecord {
        params: r#"{"kernel":"natural","tokens":5000}"#.into(),
        counters: counters(),
        scorer: String::new(),
        drawn_at: 1_764_806_400,
        tokens_requested: 5000,
        tokens_drawn: 5012,
        exclusions: MixExclusions {
            no_quality: 0,
            no_diversity: 1,
            no_topic: 2,
            zero_tokens: 3,
            eligible: 40,
        },
        counts: vec![(0, 1), (7, 300)],
        sources: vec![MixSourceTotals {
            name: "wiki".into(),
            natural_tokens: 9000,
            mixed_tokens: 5012,
            expected_tokens: 5000.5,
            samples_drawn: 2,
            distinct_tokens: 4000,
            pinned: Some("max".into()),
        }],
    };
    let counters_hex = hex_of(COUNTERS_HEX);
    let counters_body = &counters_hex[2..]; // without the counters' own version byte
    golden(
        &mix,
        &[
            "01",                                                                      // value version
            "22 7b226b65726e656c223a226e61747572616c222c22746f6b656e73223a353030307d", // params
            counters_body,         // counters (no version byte of their own)
            "00",                  // scorer ""
            "fc 00cf3069",         // drawn_at
            "fb 8813",             // tokens_requested 5000
            "fb 9413",             // tokens_drawn 5012
            "00 01 02 03 28",      // exclusions
            "02 00 01 07 fb 2c01", // counts [(0, 1), (7, 300)]
            "01",                  // sources: 1
            "04 77696b69",         //   name "wiki"
            "fb 2823",             //   natural_tokens 9000
            "fb 9413",             //   mixed_tokens 5012
            "000000008088b340",    //   expected_tokens 5000.5
            "02",                  //   samples_drawn 2
            "fb a00f",             //   distinct_tokens 4000
            "01 03 6d6178",        //   pinned Some("max")
        ],
    );
}

#[test]
fn key_layouts() {
    assert_eq!(codec::hex(&codec::seq_key(258)), "0000000000000102");
    assert_eq!(
        codec::hex(&codec::hash_key(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210)),
        "0123456789abcdeffedcba9876543210"
    );
    assert_eq!(
        codec::hex(&lsh_key(0x0102_0304_0506_0708, 9)),
        "01020304050607080000000000000009"
    );
    assert_eq!(codec::hex(&topic_key(0x0102_0304)), "01020304");
}

#[test]
fn table_names() {
    let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "meta",
            "docs",
            "samples",
            "sources",
            "dedup",
            "ids",
            "reindex",
            "scores",
            "minhash",
            "lsh",
            "overlaps",
            "embeddings",
            "assignments",
            "topics",
            "mixes",
            "signals",
            "model_embeddings",
        ]
    );
    let versions = [
        (DocRecord::TABLE, DocRecord::VERSION),
        (SampleRow::TABLE, SampleRow::VERSION),
        (SourceInfo::TABLE, SourceInfo::VERSION),
        (PoolCounters::TABLE, PoolCounters::VERSION),
        (ScoreRecord::TABLE, ScoreRecord::VERSION),
        (ScorerState::TABLE, ScorerState::VERSION),
        (NllQuantiles::TABLE, NllQuantiles::VERSION),
        (MinHashRecord::TABLE, MinHashRecord::VERSION),
        (OverlapRecord::TABLE, OverlapRecord::VERSION),
        (EmbeddingRecord::TABLE, EmbeddingRecord::VERSION),
        (AssignmentRecord::TABLE, AssignmentRecord::VERSION),
        (TopicRecord::TABLE, TopicRecord::VERSION),
        (TopicState::TABLE, TopicState::VERSION),
        (TopicModel::TABLE, TopicModel::VERSION),
        (DiversityQuantiles::TABLE, DiversityQuantiles::VERSION),
        (MixRecord::TABLE, MixRecord::VERSION),
        (SignalRecord::TABLE, SignalRecord::VERSION),
        (SignalState::TABLE, SignalState::VERSION),
        (SignalQuantiles::TABLE, SignalQuantiles::VERSION),
    ];
    for (table, version) in versions {
        assert!(names.contains(&table), "{table}");
        assert_eq!(version, 1, "{table}");
    }
}

/// The `FORMAT` file: JSON with the format version and the version that created the store.
#[test]
fn format_file() {
    assert_eq!(FORMAT_VERSION, 5);
    assert_eq!(OLDEST_READABLE_FORMAT, 1);
    assert_eq!(format::FORMAT_FILE, "FORMAT");
    let text = "{\n  \"format_version\": 1,\n  \"created_by\": \"samplemix 0.1.0\"\n}\n";
    let file = FormatFile {
        format_version: 1,
        created_by: "samplemix 0.1.0".into(),
    };
    assert_eq!(serde_json::to_string_pretty(&file).unwrap() + "\n", text);
    assert_eq!(serde_json::from_str::<FormatFile>(text).unwrap(), file);
    // Formats 2 and 3 write the same layout with the new number.
    let text2 = "{\n  \"format_version\": 3,\n  \"created_by\": \"samplemix 0.1.0\"\n}\n";
    let file2 = FormatFile {
        format_version: 3,
        ..file
    };
    assert_eq!(serde_json::to_string_pretty(&file2).unwrap() + "\n", text2);

    let dir = tempfile::tempdir().unwrap();
    let written = format::write_new(dir.path()).unwrap();
    assert_eq!(written.format_version, 5);
    let on_disk = std::fs::read_to_string(dir.path().join("FORMAT")).unwrap();
    let keys: Vec<String> = serde_json::from_str::<serde_json::Value>(&on_disk)
        .unwrap()
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["created_by", "format_version"]);
    assert_eq!(format::read(dir.path()).unwrap(), Some(written));
}

/// Every (key, value) a store holds, by table, as hex.
fn raw_tables(store: &Store) -> Vec<(&'static str, Vec<(String, String)>)> {
    Table::ALL
        .iter()
        .map(|&t| {
            let rows = store
                .db
                .iterator_cf(store.cf(t), rocksdb::IteratorMode::Start)
                .map(|item| {
                    let (k, v) = item.unwrap();
                    (codec::hex(&k), codec::hex(&v))
                })
                .collect();
            (t.name(), rows)
        })
        .collect()
}

/// The keys and values each write of a batch puts in which table, read back raw from RocksDB;
/// `meta`/`format_version` is a bare u32 BE.
#[test]
fn batch_writes_land_in_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_writer(&dir.path().join("store")).unwrap();
    let mut batch = store.batch();
    batch.put_doc(258, &doc(), &full_row());
    batch.put_source("web", &SourceInfo::default());
    batch.put_counters(&counters());
    batch.mark_reindex(258);
    batch.put_lsh(0x0102_0304_0506_0708, 258);
    batch.put_signal(Signal::Repetition, 258, &signal_record());
    batch.commit().unwrap();
    let seq = "0000000000000102";
    let v = |parts: &[&str]| hex_of(parts);
    let expected: Vec<(&str, Vec<(String, String)>)> = vec![
        (
            "meta",
            vec![
                (codec::hex(b"counters"), v(COUNTERS_HEX)),
                // A new store is of format 5 (format 1 and 2 stores held 00000001 and
                // 00000002 here).
                (codec::hex(b"format_version"), "00000005".into()),
            ],
        ),
        ("docs", vec![(seq.into(), v(DOC_HEX))]),
        ("samples", vec![(seq.into(), v(FULL_ROW_HEX))]),
        ("sources", vec![(codec::hex(b"web"), "0100000000".into())]),
        (
            "dedup",
            vec![("0123456789abcdeffedcba9876543210".into(), seq.into())],
        ),
        ("ids", vec![(codec::hex(b"doc-1"), seq.into())]),
        ("reindex", vec![(seq.into(), String::new())]),
        ("scores", vec![]),
        ("minhash", vec![]),
        (
            "lsh",
            vec![(format!("0102030405060708{seq}"), String::new())],
        ),
        ("overlaps", vec![]),
        ("embeddings", vec![]),
        ("assignments", vec![]),
        ("topics", vec![]),
        ("mixes", vec![]),
        (
            "signals",
            vec![(format!("00000001{seq}"), v(SIGNAL_RECORD_HEX))],
        ),
        ("model_embeddings", vec![]),
    ];
    assert_eq!(raw_tables(&store), expected);
}

fn signal_record() -> SignalRecord {
    SignalRecord {
        fingerprint_id: 0x0102_0304_0506_0708,
        raw: Some(1.5),
        features: vec![0.25, 2.0],
    }
}

const SIGNAL_RECORD_HEX: &[&str] = &[
    "01",                   // value version
    "fd 0807060504030201",  // fingerprint_id u64
    "01 0000c03f",          // raw Some(1.5f32)
    "02 0000803e 00000040", // features [0.25, 2.0] (f32 LE)
];

/// Table `signals` (store format 2): key signal id (u32 BE) then seq (u64 BE).
#[test]
fn signals_signal_record() {
    golden(&signal_record(), SIGNAL_RECORD_HEX);
    let none = SignalRecord {
        fingerprint_id: 3,
        raw: None,
        features: Vec::new(),
    };
    golden(&none, &["01", "03", "00", "00"]);
    assert_eq!(
        codec::hex(&signal_key(Signal::Repetition, 258)),
        "000000010000000000000102"
    );
    assert_eq!(
        read_signal_key(&signal_key(Signal::Classifier, 7)),
        Some((2, 7))
    );
    assert_eq!(read_signal_key(&[0; 8]), None);
    let ids: Vec<(u32, &str)> = Signal::ALL.iter().map(|s| (s.id(), s.name())).collect();
    assert_eq!(ids, [(0, "lm"), (1, "repetition"), (2, "classifier")]);
    assert_eq!(Signal::Repetition.state_key(), b"signal/repetition");
    assert_eq!(Signal::Lm.quantiles_key(), b"signal_quantiles/lm".to_vec());
}

/// `meta`/`signal/NAME`.
#[test]
fn meta_signal_state() {
    let st = SignalState {
        fingerprint: FP.into(),
        description: "rep v1".into(),
        computed: 300,
        not_applicable: 2,
    };
    golden(
        &st,
        &[
            "01",
            FP_HEX,
            "06 726570207631", // description
            "fb 2c01",         // computed 300
            "02",              // not_applicable
        ],
    );
}

/// `meta`/`signal_quantiles/NAME`.
#[test]
fn meta_signal_quantiles() {
    let q = SignalQuantiles {
        fingerprint_id: 7,
        topic_stamp: (1, 300),
        pool: QuantileGroup {
            key: 0,
            n: 2,
            values: vec![0.5, 1.0],
        },
        sources: vec![QuantileGroup {
            key: 3,
            n: 1,
            values: vec![0.5],
        }],
        topics: Vec::new(),
    };
    golden(
        &q,
        &[
            "01",
            "07",                                         // fingerprint_id
            "01 fb2c01",                                  // topic_stamp (1, 300)
            "00 02 02 000000000000e03f 000000000000f03f", // pool: key, n, values
            "01 03 01 01 000000000000e03f",               // sources: one group
            "00",                                         // topics: none
        ],
    );
}

/// `meta`/`classifier/model` (store format 2): the classifier signal's model.
#[test]
fn meta_classifier_model() {
    let record = ClassifierRecord {
        model_format: 1,
        fingerprint: FP.into(),
        objective: "reference".into(),
        description: "d".into(),
        reference_samples: 300,
        negative_samples: 2,
        hard_negatives: 1,
        seed: 7,
        held_out_spearman: Some(0.5),
        model: vec![0x53, 0x4d],
    };
    golden(
        &record,
        &[
            "01",                    // value version
            "01",                    // model_format 1
            FP_HEX,                  // fingerprint
            "09 7265666572656e6365", // objective "reference"
            "01 64",                 // description "d"
            "fb 2c01",               // reference_samples 300
            "02",                    // negative_samples
            "01",                    // hard_negatives
            "07",                    // seed
            "01 000000000000e03f",   // held_out_spearman Some(0.5f64)
            "02 534d",               // model bytes
        ],
    );
    assert_eq!(CLASSIFIER_KEY, b"classifier/model");
}

#[test]
fn meta_appended_file() {
    assert_eq!(
        appended_file_key(std::path::Path::new("/d/a.parquet")),
        b"appended_file//d/a.parquet"
    );
    let value = AppendedFile {
        size: 300,
        head_xxh3: 1 << 64,
    };
    golden(
        &value,
        &[
            "01",      // value version
            "fb 2c01", // size 300
            // head_xxh3 2^64: a u128 over u64::MAX, tag fe then 16 bytes little-endian
            "fe 0000000000000000 0100000000000000",
        ],
    );
}
