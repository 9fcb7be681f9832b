//! The persistent formats in `schema/` must tell the truth about the code: the tantivy schema is
//! pinned byte for byte, and the docs name every table, value version and index field.
//! Run with `SAMPLEMIX_BLESS=1` to rewrite `schema/tantivy-schema.json` after a deliberate change
//! (and bump the versions it implies).

use samplemix::index::{self, names};
use samplemix::store::{
    self, AssignmentRecord, DiversityQuantiles, DocRecord, EmbeddingRecord, MinHashRecord,
    MixRecord, ModelEmbeddingRecord, NllQuantiles, OverlapRecord, PoolCounters, SampleRow,
    ScoreRecord, ScorerState, SignalQuantiles, SignalRecord, SignalState, SourceInfo, Table,
    TopicEmbedding, TopicModel, TopicRecord, TopicState, Versioned,
};

fn read(path: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn tantivy_schema_matches_schema_folder() {
    let code = index::schema_json() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/tantivy-schema.json");
    if std::env::var_os("SAMPLEMIX_BLESS").is_some() {
        std::fs::write(&path, &code).unwrap();
    }
    let pinned = read("schema/tantivy-schema.json");
    assert_eq!(
        pinned, code,
        "the index schema in src/index/schema.rs drifted from schema/tantivy-schema.json: \
         update schema/index.md, bump INDEX_SCHEMA_VERSION and store FORMAT_VERSION, then \
         re-run with SAMPLEMIX_BLESS=1"
    );
}

#[test]
fn index_doc_names_every_field() {
    let doc = read("schema/index.md");
    for f in [
        names::SEQ,
        names::TEXT,
        names::SOURCE,
        names::TOKENS,
        names::TOPIC,
        names::MEAN_NLL,
        names::NOVELTY,
    ] {
        assert!(
            doc.contains(&format!("`{f}`")),
            "schema/index.md does not describe field {f}"
        );
    }
    assert!(doc.contains(&format!(
        "index schema version {}",
        index::INDEX_SCHEMA_VERSION
    )));
}

#[test]
fn store_doc_names_every_table_and_value_version() {
    let doc = read("schema/store.md");
    for t in Table::ALL {
        assert!(
            doc.contains(&format!("`{}`", t.name())),
            "schema/store.md does not describe table {}",
            t.name()
        );
    }
    for (name, version) in [
        ("DocRecord", DocRecord::VERSION),
        ("SampleRow", SampleRow::VERSION),
        ("SourceInfo", SourceInfo::VERSION),
        ("PoolCounters", PoolCounters::VERSION),
        ("ScoreRecord", ScoreRecord::VERSION),
        ("ScorerState", ScorerState::VERSION),
        ("NllQuantiles", NllQuantiles::VERSION),
        ("MinHashRecord", MinHashRecord::VERSION),
        ("OverlapRecord", OverlapRecord::VERSION),
        ("EmbeddingRecord", EmbeddingRecord::VERSION),
        ("AssignmentRecord", AssignmentRecord::VERSION),
        ("TopicRecord", TopicRecord::VERSION),
        ("TopicState", TopicState::VERSION),
        ("TopicModel", TopicModel::VERSION),
        ("DiversityQuantiles", DiversityQuantiles::VERSION),
        ("MixRecord", MixRecord::VERSION),
        ("SignalRecord", SignalRecord::VERSION),
        ("SignalState", SignalState::VERSION),
        ("SignalQuantiles", SignalQuantiles::VERSION),
        ("ModelEmbeddingRecord", ModelEmbeddingRecord::VERSION),
        ("TopicEmbedding", TopicEmbedding::VERSION),
    ] {
        assert!(
            doc.contains(&format!("{name} v{version}")),
            "schema/store.md does not describe {name} v{version}"
        );
    }
    assert!(doc.contains(&format!("format version {}", store::FORMAT_VERSION)));
}
