//! The checks `Pool::verify` runs on the model embeddings (table `model_embeddings`, written by
//! `score`) and on the topics fitted on them.

use std::collections::HashMap;

use crate::error::Result;
use crate::store::{
    EmbeddingSource, SampleRow, ScorerState, Store, TopicEmbedding, TopicState, SCORER_KEY,
    TOPICS_KEY, TOPIC_EMBEDDING_KEY,
};

/// One line per problem: a model embedding of no sample; one under the current scorer whose
/// sample's row is not scored under it (they are written in one batch); lengths that differ
/// under the current scorer; a sample below the topics watermark without the embedding its
/// topic model was fitted on (while that scorer is still the current one).
pub fn verify(store: &Store, seqs: &[u64]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let scorer = store
        .meta::<ScorerState>(SCORER_KEY)?
        .map(|s| s.fingerprint);
    let current_id = scorer.as_deref().map(SampleRow::fingerprint_id);
    let mut dims: HashMap<usize, u64> = HashMap::new();
    let mut of_samples = 0u64;
    for chunk in seqs.chunks(4096) {
        let rows = store.sample_rows_of(chunk)?;
        for ((record, &seq), row) in store
            .model_embeddings(chunk)?
            .into_iter()
            .zip(chunk)
            .zip(rows)
        {
            let Some(record) = record else { continue };
            of_samples += 1;
            if Some(record.fingerprint_id) != current_id {
                continue;
            }
            if row.map(|r| r.quality_fp) != current_id {
                problems.push(format!(
                    "sample {seq}: model embedding under the current scorer, but its row is not \
                     scored under it"
                ));
            }
            if !record.values.is_empty() {
                *dims.entry(record.values.len()).or_default() += 1;
            }
        }
    }
    if dims.len() > 1 {
        problems.push(format!(
            "model embeddings under the current scorer have different lengths: {dims:?}"
        ));
    }
    let orphans = store.model_embedding_count()?.saturating_sub(of_samples);
    if orphans > 0 {
        problems.push(format!(
            "table model_embeddings holds {orphans} embeddings of no sample"
        ));
    }
    problems.extend(topic_problems(store, scorer.as_deref(), seqs)?);
    Ok(problems)
}

/// Topics fitted on model embeddings under the current scorer: every sample below the topics
/// watermark has one.
fn topic_problems(store: &Store, scorer: Option<&str>, seqs: &[u64]) -> Result<Vec<String>> {
    let Some(choice) = store.meta::<TopicEmbedding>(TOPIC_EMBEDDING_KEY)? else {
        return Ok(Vec::new());
    };
    let Some(state) = store.meta::<TopicState>(TOPICS_KEY)? else {
        return Ok(Vec::new());
    };
    if choice.source != EmbeddingSource::Model || Some(choice.scorer_fingerprint.as_str()) != scorer
    {
        return Ok(Vec::new());
    }
    let id = SampleRow::fingerprint_id(&choice.scorer_fingerprint);
    let below: Vec<u64> = seqs
        .iter()
        .copied()
        .filter(|&s| s < state.topics_next)
        .collect();
    let mut missing = 0u64;
    for chunk in below.chunks(4096) {
        missing += store
            .model_embeddings(chunk)?
            .iter()
            .filter(|r| r.as_ref().map(|r| r.fingerprint_id) != Some(id))
            .count() as u64;
    }
    Ok(if missing > 0 {
        vec![format!(
            "{missing} samples have a topic fitted on model embeddings but no model embedding \
             under scorer {}",
            choice.scorer_fingerprint
        )]
    } else {
        Vec::new()
    })
}
