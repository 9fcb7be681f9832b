//! The tantivy schema of the pool index: which fields exist, how each is indexed, and the typed
//! handles the rest of the crate uses. `schema/index.md` documents it for people and
//! `schema/tantivy-schema.json` pins its exact serialised form (a test compares the two).

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, FAST,
    INDEXED, STRING,
};

/// Bump with any change to the fields below (it is also part of the store format).
pub const INDEX_SCHEMA_VERSION: u32 = 1;

/// Field names, as used in tantivy queries and fast-field look-ups.
pub mod names {
    /// Sequence number of the sample in the store.
    pub const SEQ: &str = "seq";
    /// The text, tokenised for words and phrases.
    pub const TEXT: &str = "text";
    /// The source (domain), as one token.
    pub const SOURCE: &str = "source";
    /// Token count of the sample.
    pub const TOKENS: &str = "tokens";
    /// Topic (cluster) id, once assigned.
    pub const TOPIC: &str = "topic";
    /// Mean negative log-likelihood per token under the reference model, once scored.
    pub const MEAN_NLL: &str = "mean_nll";
    /// Novelty (1 - largest estimated Jaccard similarity to another sample), once computed.
    pub const NOVELTY: &str = "novelty";
}

/// Handles of every field of the index.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// u64, indexed and fast: the store key; used to delete and re-add a sample's document.
    pub seq: Field,
    /// Text, default tokenizer with positions (phrase queries), not stored: the store has it.
    pub text: Field,
    /// String (raw tokenizer), fast: exact-match filter and per-source counts.
    pub source: Field,
    /// u64, fast.
    pub tokens: Field,
    /// u64, indexed and fast; absent until `topics` assigns one.
    pub topic: Field,
    /// f64, indexed and fast; absent until `score`. Quality q is a decreasing function of it
    /// (its rank in the pool), so quality filters and sorts are mean-NLL ranges and sorts.
    pub mean_nll: Field,
    /// f64, indexed and fast; absent until `topics`. Diversity d is a rank of
    /// `cluster_rank(topic) * novelty` over the pool, so diversity filters and sorts are
    /// per-topic novelty ranges and a sort on that product.
    pub novelty: Field,
}

/// Builds the index schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let indexed_fast = NumericOptions::from(INDEXED) | FAST;
    let seq = b.add_u64_field(names::SEQ, indexed_fast.clone());
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("default")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let text = b.add_text_field(names::TEXT, text_options);
    let source = b.add_text_field(names::SOURCE, STRING | FAST);
    let tokens = b.add_u64_field(names::TOKENS, FAST);
    let topic = b.add_u64_field(names::TOPIC, indexed_fast.clone());
    let mean_nll = b.add_f64_field(names::MEAN_NLL, indexed_fast.clone());
    let novelty = b.add_f64_field(names::NOVELTY, indexed_fast);
    let fields = Fields {
        seq,
        text,
        source,
        tokens,
        topic,
        mean_nll,
        novelty,
    };
    (b.build(), fields)
}

/// The schema as pretty JSON, the form pinned in `schema/tantivy-schema.json`.
pub fn to_json() -> String {
    let (schema, _) = build();
    serde_json::to_string_pretty(&schema).expect("a tantivy schema serialises")
}
