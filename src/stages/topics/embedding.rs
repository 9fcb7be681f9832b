//! Which embeddings the topics are clustered on (`topics --embedding hashed|model`): the
//! stored choice, the checks before the model's embeddings are used, and their rows.

use crate::algo::diversity::model_topic_vector;
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::store::{
    EmbeddingSource, SampleRow, ScorerState, Store, TopicEmbedding, TopicState, SCORER_KEY,
    TOPIC_EMBEDDING_KEY, TOPIC_EMBEDDING_REFIT_KEY,
};

/// The last choice (the embeddings of the current model, or of a refit a crash interrupted)
/// and the one this run uses: `asked`, else the last.
pub(super) fn choose(
    pool: &Pool,
    state: &TopicState,
    first_run: bool,
    asked: Option<EmbeddingSource>,
) -> Result<(TopicEmbedding, TopicEmbedding)> {
    let last = match pool
        .store()
        .meta::<TopicEmbedding>(TOPIC_EMBEDDING_REFIT_KEY)?
    {
        Some(pending) => pending,
        None if first_run => first_choice(pool, state)?,
        None => stored(pool.store(), state)?,
    };
    let wanted = match asked.unwrap_or(last.source) {
        EmbeddingSource::Hashed => hashed(state),
        EmbeddingSource::Model => model(pool)?,
    };
    Ok((last, wanted))
}

/// The hashed embeddings of `state`'s embedder.
pub(super) fn hashed(state: &TopicState) -> TopicEmbedding {
    TopicEmbedding {
        source: EmbeddingSource::Hashed,
        scorer_fingerprint: String::new(),
        dim: state.settings.embedder.dim() as u32,
    }
}

/// The embeddings the current topic model was fitted on: the stored choice, else (a store whose
/// topics predate the choice) hashed.
pub(super) fn stored(store: &Store, state: &TopicState) -> Result<TopicEmbedding> {
    Ok(store
        .meta::<TopicEmbedding>(TOPIC_EMBEDDING_KEY)?
        .unwrap_or_else(|| hashed(state)))
}

/// The default of a pool's first `topics` run: the model's embeddings when every sample has
/// one under the current scorer (on the labelled benchmark they follow subject areas about twice
/// as well, BENCHMARKS.md), else the hashed ones, which need no scoring.
pub(super) fn first_choice(pool: &Pool, state: &TopicState) -> Result<TopicEmbedding> {
    match model(pool) {
        Ok(choice) => Ok(choice),
        Err(Error::Invalid(_)) => Ok(hashed(state)),
        Err(e) => Err(e),
    }
}

/// The model embeddings of the current scorer, after checking that every sample has one.
///
/// # Errors
/// [`Error::Invalid`] when nothing was scored, when some samples lack a model embedding under
/// the current scorer (how many, and that `score` computes them), or when no sample has one.
pub(super) fn model(pool: &Pool) -> Result<TopicEmbedding> {
    let store = pool.store();
    let Some(scorer) = store.meta::<ScorerState>(SCORER_KEY)? else {
        return Err(Error::Invalid(
            "topics --embedding model needs the reference model's embeddings, which `samplemix \
             score` computes: no sample has been scored yet"
                .into(),
        ));
    };
    let embedded = store.model_embedded(&scorer.fingerprint)?;
    let mut samples = 0u64;
    let mut missing = 0u64;
    let mut first = None;
    for item in store.sample_rows() {
        let (seq, _) = item?;
        samples += 1;
        if !embedded.contains(&seq) {
            missing += 1;
        } else if first.is_none() {
            first = Some(seq);
        }
    }
    if missing > 0 {
        return Err(Error::Invalid(format!(
            "{missing} of the pool's {samples} samples have no model embedding under the current \
             scorer (fingerprint {}): run `samplemix score` (it computes them beside the scores), \
             or cluster on --embedding hashed",
            scorer.fingerprint
        )));
    }
    let dim = model_dim(store, &embedded, first)?;
    Ok(TopicEmbedding {
        source: EmbeddingSource::Model,
        scorer_fingerprint: scorer.fingerprint,
        dim: dim as u32,
    })
}

/// The length of the model embeddings: that of the first non-empty one.
fn model_dim(
    store: &Store,
    embedded: &std::collections::HashSet<u64>,
    first: Option<u64>,
) -> Result<usize> {
    let mut seqs: Vec<u64> = embedded.iter().copied().collect();
    seqs.sort_unstable();
    let start = first.map_or(0, |f| seqs.partition_point(|&s| s < f));
    for chunk in seqs[start..].chunks(1024) {
        for record in store.model_embeddings(chunk)?.into_iter().flatten() {
            if !record.values.is_empty() {
                return Ok(record.values.len());
            }
        }
    }
    Err(Error::Invalid(
        "no sample is long enough to have a model embedding: cluster on --embedding hashed".into(),
    ))
}

/// The model embeddings of `seqs` as row-major `f32` vectors of `dim` values
/// ([`model_topic_vector`]), checked against the fingerprint and the dimension of `choice`.
///
/// # Errors
/// [`Error::Corrupt`] when one is missing, of another scorer, or of another length: the
/// topic state says every sample has one.
pub(super) fn model_rows(
    store: &Store,
    choice: &TopicEmbedding,
    seqs: &[u64],
    dim: usize,
) -> Result<Vec<f32>> {
    let id = SampleRow::fingerprint_id(&choice.scorer_fingerprint);
    let mut rows = Vec::with_capacity(seqs.len() * dim);
    for (record, &seq) in store.model_embeddings(seqs)?.into_iter().zip(seqs) {
        let bad = |reason: String| Error::Corrupt {
            path: store.path().to_path_buf(),
            table: "model_embeddings",
            key: seq.to_string(),
            reason,
        };
        let record = record.ok_or_else(|| {
            bad(
                "missing, but the topics were fitted on model embeddings: run `samplemix \
                 score`, then `topics`"
                    .into(),
            )
        })?;
        if record.fingerprint_id != id {
            return Err(bad(format!(
                "computed under another scorer than the topics' ({}): run `samplemix score`, \
                 then `topics`",
                choice.scorer_fingerprint
            )));
        }
        if !record.values.is_empty() && record.values.len() != dim {
            return Err(bad(format!(
                "{} values, the others have {dim}",
                record.values.len()
            )));
        }
        rows.extend(model_topic_vector(&record.values, dim));
    }
    Ok(rows)
}
