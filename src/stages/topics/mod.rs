//! The diversity stage (`samplemix topics`): it keeps every sample's n-gram overlap, topic and
//! the parts of d(x) in the store, current as the pool grows, using the algorithms of
//! [`crate::algo::diversity`].
//!
//! One run, [`run`], does only the work the pool lacks:
//!
//! 1. **A refit in progress** (a crash while one was being written) is finished first.
//! 2. **New samples** (from the `overlap_next` watermark of [`TopicState`] to the pool's end), in
//!    chunks: each gets its MinHash signature, LSH bucket entries and hashed n-gram embedding
//!    (rounded to binary16, the stored precision); its overlap is found through the buckets
//!    among all older samples (prefix scans of table `lsh`) and the chunk's earlier ones, and
//!    every older sample whose overlap it raises gets its overlap and novelty rewritten
//!    ([`Overlap::offer`]: the larger estimate, the smaller sequence number among equals). When
//!    a topic model exists and no refit is due, the new samples join their nearest centroid
//!    ([`KMeansModel::join`]: running statistics in fixed point).
//! 3. **A refit** when asked (`--refit`, a different `--topics`), when there is no model yet,
//!    or when the drift rule of [`KMeansModel::refit_advice`] says so after the joins (unless
//!    `keep_topics`): k-means on every stored embedding, taken in the order of the samples' text
//!    hashes (table `dedup`), so the fit depends on the pool's content and not on the order it
//!    was appended in. The new model is stored first (`meta`/`topic_refit`), then the samples'
//!    topics in chunks, then it becomes the current model.
//! 4. **Summary**: per-topic records (size, tokens, sources, compactness, separation, score,
//!    cluster rank, representatives nearest the centroid and their characteristic terms), and
//!    the [`DiversityScale`] that turns a sample's topic and novelty into d(x).
//!
//! **Crashes.** Every write is one atomic batch that carries the watermarks it advances: a
//! chunk's signatures, buckets, overlaps (new and raised), embeddings, topics, sample rows,
//! re-index marks, the model's running statistics and [`TopicState`] go in together. Samples
//! whose index document changes are marked in table `reindex` in the same batch; their
//! documents are replaced after it and the marks cleared after the index commit, so a kill at any
//! point leaves a store that opens, and the next run (or a writer's open) completes the rest.
//!
//! [`DiversityScale`]: crate::pool::scale::DiversityScale
//! [`KMeansModel::join`]: crate::algo::diversity::KMeansModel::join
//! [`KMeansModel::refit_advice`]: crate::algo::diversity::KMeansModel::refit_advice

mod embedding;
mod summary;

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

pub use summary::REPRESENTATIVES;

use crate::algo::diversity::{
    bucket_keys, default_k, fit, Assignment, DiversityError, HashedEmbedder, KMeansParams,
    LshParams, MinHasher, Overlap, Signature, DEFAULT_MINHASH_SEED, DEFAULT_NUM_PERM,
    DEFAULT_SHINGLE_WORDS,
};
use crate::error::{Error, Result};
use crate::pool::topic_views::{self, advice_text, model, state, TopicsSummary};
use crate::pool::Pool;
use crate::store::{
    round_to_f16, AssignmentRecord, DocRecord, EmbeddingRecord, EmbeddingSource, MinHashRecord,
    OverlapRecord, SampleRow, Store, TopicEmbedding, TopicModel, TopicSettings, TopicState,
    TOPICS_KEY, TOPIC_EMBEDDING_KEY, TOPIC_EMBEDDING_REFIT_KEY, TOPIC_MODEL_KEY, TOPIC_REFIT_KEY,
};

/// Samples per chunk: one parallel signature and embedding pass, one store batch.
pub const DEFAULT_CHUNK: usize = 4096;
/// Commit the index after this many replaced documents (and at the end).
const INDEX_COMMIT_EVERY: usize = 100_000;

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct TopicsOptions {
    /// Re-cluster the whole pool.
    pub refit: bool,
    /// Number of topics, kept for later refits; `None`: as asked for before (the default rule
    /// [`default_k`] when never asked).
    pub topics: Option<TopicCount>,
    /// Never refit because of the drift rule: new samples always join the current topics.
    pub keep_topics: bool,
    /// Samples per chunk.
    pub chunk: usize,
    /// The embeddings to cluster on, kept for later runs; `None`: as chosen before. On the
    /// first run without a choice: the model's when every sample has one (they follow subject
    /// areas better, BENCHMARKS.md), else hashed. A change refits.
    pub embedding: Option<EmbeddingSource>,
}

impl Default for TopicsOptions {
    fn default() -> Self {
        TopicsOptions {
            refit: false,
            topics: None,
            keep_topics: false,
            chunk: DEFAULT_CHUNK,
            embedding: None,
        }
    }
}

/// How many topics to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicCount {
    /// [`default_k`] of the samples fitted: `clamp(round(sqrt(n / 2)), 2, 256)`.
    Default,
    /// This many.
    Fixed(usize),
}

/// Hears about a run as it goes (the CLI draws progress bars).
pub trait TopicsObserver: Sync {
    /// A phase starts; `total` units of work when known.
    fn phase(&self, _name: &str, _total: Option<u64>) {}
    /// `n` more units of the current phase are done.
    fn advance(&self, _n: u64) {}
    /// The current phase is done.
    fn finished(&self) {}
}

/// An observer that ignores everything.
impl TopicsObserver for () {}

/// What a refit did.
#[derive(Clone, Debug, Serialize)]
pub struct RefitReport {
    /// Why it ran.
    pub reason: String,
    /// Topics.
    pub k: usize,
    /// Samples fitted.
    pub samples: u64,
    /// `lloyd` or `mini-batch`.
    pub algorithm: String,
    /// Mini-batch steps.
    pub mini_batch_steps: usize,
    /// Lloyd iterations.
    pub lloyd_iterations: usize,
    /// Mean squared distance of the samples to their centroids.
    pub inertia_per_sample: f64,
    /// Seconds of the fit alone.
    pub fit_seconds: f64,
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct TopicsReport {
    /// New samples given a signature, buckets, overlap and embedding.
    pub processed: u64,
    /// Older samples whose overlap (and novelty) the new ones raised.
    pub novelty_updated: u64,
    /// Samples that joined the existing topics.
    pub joined: u64,
    /// The refit, if one ran.
    pub refit: Option<RefitReport>,
    /// Index documents replaced.
    pub reindexed: u64,
    /// Wall time.
    pub seconds: f64,
    /// The topic state afterwards.
    pub state: TopicsSummary,
}

fn div_err(e: DiversityError) -> Error {
    Error::Invalid(e.to_string())
}

/// A diversity algorithm refused stored values (a signature, the settings, a model): the store
/// is damaged at `table`/`key`.
fn stored_err<'s>(
    store: &'s Store,
    table: &'static str,
    key: impl ToString,
) -> impl Fn(DiversityError) -> Error + 's {
    let key = key.to_string();
    move |e| Error::corrupt(store.path(), table, &key, e.to_string())
}

impl Default for TopicSettings {
    fn default() -> Self {
        TopicSettings {
            num_perm: DEFAULT_NUM_PERM as u32,
            shingle_words: DEFAULT_SHINGLE_WORDS as u32,
            minhash_seed: DEFAULT_MINHASH_SEED,
            lsh: LshParams::default(),
            embedder: HashedEmbedder::default(),
            kmeans_seed: 0,
            k_requested: None,
        }
    }
}

impl TopicSettings {
    /// The MinHasher of these settings.
    pub fn minhasher(&self) -> Result<MinHasher> {
        MinHasher::new(
            self.num_perm as usize,
            self.shingle_words as usize,
            self.minhash_seed,
        )
        .map_err(div_err)
    }
}

/// Refuses 0 topics and more topics than samples.
fn check_topic_count(topics: Option<TopicCount>, samples: u64) -> Result<()> {
    if let Some(TopicCount::Fixed(k)) = topics {
        if k == 0 {
            return Err(div_err(DiversityError::Zero {
                what: "number of topics",
            }));
        }
        if k as u64 > samples {
            return Err(div_err(DiversityError::TooFewSamples {
                n: samples as usize,
                k,
            }));
        }
    }
    Ok(())
}

/// Runs the diversity stage over the samples that need it (see the module doc).
pub fn run(
    pool: &mut Pool,
    opts: &TopicsOptions,
    observer: &dyn TopicsObserver,
) -> Result<TopicsReport> {
    let started = Instant::now();
    let samples = pool.counters().docs;
    if samples == 0 {
        return Err(Error::Invalid(
            "the pool has no samples: append some before computing topics".into(),
        ));
    }
    check_topic_count(opts.topics, samples)?;
    let first_run = state(&pool.store)?.is_none();
    let state = state(&pool.store)?.unwrap_or_else(|| TopicState {
        settings: TopicSettings::default(),
        overlap_next: 0,
        topics_next: 0,
        generation: 0,
        refit_next: None,
    });
    let current = model(&pool.store)?;
    let (last, wanted) = embedding::choose(pool, &state, first_run, opts.embedding)?;
    let mut stage = Stage {
        hasher: state.settings.minhasher()?,
        pool,
        state,
        current,
        observer,
        chunk: opts.chunk.max(1),
        to_reindex: BTreeSet::new(),
        report: TopicsReport {
            processed: 0,
            novelty_updated: 0,
            joined: 0,
            refit: None,
            reindexed: 0,
            seconds: 0.0,
            state: TopicsSummary::default(),
        },
        embedding: last,
    };
    let k_before = stage.state.settings.k_requested;
    match opts.topics {
        Some(TopicCount::Fixed(k)) => stage.state.settings.k_requested = Some(k as u32),
        Some(TopicCount::Default) => stage.state.settings.k_requested = None,
        None => {}
    }

    // 1. A refit that a crash interrupted.
    if let Some(from) = stage.state.refit_next {
        let pending = stage
            .pool
            .store
            .meta::<TopicModel>(TOPIC_REFIT_KEY)?
            .ok_or_else(|| corrupt(&stage.pool.store, "a refit in progress has no model"))?;
        stage.write_refit(pending, from)?;
    }
    let embedding_differs = stage.current.is_some() && stage.embedding != wanted;
    let embedding_change = format!(
        "embeddings changed from {} to {}",
        stage.embedding.source.name(),
        wanted.source.name()
    );
    stage.embedding = wanted;

    // 2. New samples. Joins are skipped when a refit follows anyway.
    // A different number of topics than the current model's, or a change of rule, refits.
    let k_differs = opts.topics.is_some()
        && stage.current.as_ref().is_some_and(|m| match opts.topics {
            Some(TopicCount::Fixed(k)) => m.model.k() != k,
            _ => k_before.is_some(),
        });
    let refit_first = opts.refit || stage.current.is_none() || k_differs || embedding_differs;
    if !refit_first && stage.state.topics_next < stage.state.overlap_next {
        // Samples embedded by a run that ended before it could give them a topic.
        stage.join_stored(stage.state.topics_next, stage.state.overlap_next)?;
    }
    stage.process_new(!refit_first)?;

    // 3. A refit, when due.
    let reason = if opts.refit {
        Some("requested".to_string())
    } else if embedding_differs {
        Some(embedding_change)
    } else if let Some(m) = stage.current.as_ref() {
        if k_differs {
            Some(match opts.topics {
                Some(TopicCount::Fixed(k)) => {
                    format!("{k} topics asked for, the model has {}", m.model.k())
                }
                _ => "the default number of topics asked for".to_string(),
            })
        } else if opts.keep_topics {
            None
        } else {
            m.model.refit_advice().map(|r| advice_text(&r))
        }
    } else {
        Some("first fit".to_string())
    };
    if let Some(reason) = reason {
        stage.refit(reason)?;
    }

    // 4. Topic records and the diversity scale.
    stage.observer.phase("summarising topics", None);
    summary::summarise(stage.pool, &stage.state)?;
    // The per-topic scales of the quality signals follow the topics.
    crate::pool::ranks::store_quantiles(stage.pool.store())?;
    stage.observer.finished();
    stage.commit_index()?;
    let mut report = stage.report;
    report.state = topic_views::summary(&pool.store)?.unwrap_or_default();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

fn corrupt(store: &Store, reason: &str) -> Error {
    Error::Corrupt {
        path: store.path().to_path_buf(),
        table: "meta",
        key: "topics".into(),
        reason: reason.into(),
    }
}

/// A run in progress.
struct Stage<'p, 'o> {
    pool: &'p mut Pool,
    state: TopicState,
    current: Option<TopicModel>,
    hasher: MinHasher,
    observer: &'o dyn TopicsObserver,
    chunk: usize,
    /// Samples whose index document must be replaced (marked in the store).
    to_reindex: BTreeSet<u64>,
    report: TopicsReport,
    /// The embeddings of the model being fitted, written or joined.
    embedding: TopicEmbedding,
}

/// What one new sample brings.
struct Computed {
    signature: Signature,
    buckets: Vec<u64>,
    embedding: Vec<f32>,
}

/// Older samples that share a bucket with a chunk's new ones.
struct OldCandidates {
    /// Per new sample, its older candidates, ascending.
    cands: Vec<Vec<u64>>,
    /// Their stored signatures.
    sigs: HashMap<u64, Signature>,
    /// Their stored overlaps.
    overlaps: HashMap<u64, Overlap>,
}

/// A chunk computed, ready to be written.
struct ChunkOutcome {
    seqs: Vec<u64>,
    end: u64,
    computed: Vec<Computed>,
    /// Overlaps of the new samples and of every older candidate.
    overlaps: HashMap<u64, Overlap>,
    /// Older samples whose overlap was raised, ascending.
    raised: Vec<u64>,
    model: Option<TopicModel>,
    assignments: Option<Vec<Assignment>>,
}

/// Step 3 of a chunk: overlaps in sequence order. The new sample `start + i` (`computed[i]`) is
/// compared with its older candidates `old_cands[i]` and with the chunk's earlier samples that
/// share a bucket; it takes the most similar as its overlap, and every candidate it is closer
/// to than that candidate's overlap gets it as its new one. `overlaps` holds every older
/// candidate's overlap and receives the new samples'. Returns the older samples raised, or the
/// older sample whose stored signature could not be compared.
fn chunk_overlaps(
    start: u64,
    computed: &[Computed],
    old_cands: &[Vec<u64>],
    old_sigs: &HashMap<u64, Signature>,
    overlaps: &mut HashMap<u64, Overlap>,
) -> std::result::Result<BTreeSet<u64>, (u64, DiversityError)> {
    let mut raised: BTreeSet<u64> = BTreeSet::new();
    let mut local: HashMap<u64, Vec<u64>> = HashMap::new();
    for ((x, c), old) in (start..).zip(computed).zip(old_cands) {
        let mut cands = old.clone();
        for b in &c.buckets {
            if let Some(m) = local.get(b) {
                cands.extend_from_slice(m);
            }
        }
        cands.sort_unstable();
        cands.dedup();
        let mut own = Overlap::NONE;
        for other in cands {
            let sig = if other >= start {
                &computed[(other - start) as usize].signature
            } else {
                match old_sigs.get(&other) {
                    Some(sig) => sig,
                    None => continue,
                }
            };
            let j = sig.similarity(&c.signature).map_err(|e| (other, e))?;
            own.offer(other, j);
            if let Some(theirs) = overlaps.get_mut(&other) {
                if theirs.offer(x, j) && other < start {
                    raised.insert(other);
                }
            }
        }
        overlaps.insert(x, own);
        for &b in &c.buckets {
            local.entry(b).or_default().push(x);
        }
    }
    Ok(raised)
}

impl Stage<'_, '_> {
    fn store(&self) -> &Store {
        &self.pool.store
    }

    fn docs(&self, seqs: &[u64]) -> Result<Vec<DocRecord>> {
        self.store()
            .docs(seqs)?
            .into_iter()
            .zip(seqs)
            .map(|(d, &seq)| d.ok_or_else(|| missing(self.store(), "docs", seq)))
            .collect()
    }

    fn rows(&self, seqs: &[u64]) -> Result<Vec<SampleRow>> {
        self.store()
            .sample_rows_of(seqs)?
            .into_iter()
            .zip(seqs)
            .map(|(r, &seq)| r.ok_or_else(|| missing(self.store(), "samples", seq)))
            .collect()
    }

    /// Notes samples whose rows changed (and were marked for re-indexing in the batch just
    /// committed); their documents are replaced once each, by [`Stage::commit_index`].
    fn reindex(&mut self, seqs: impl IntoIterator<Item = u64>) -> Result<()> {
        self.to_reindex.extend(seqs);
        if self.to_reindex.len() >= INDEX_COMMIT_EVERY {
            self.commit_index()?;
        }
        Ok(())
    }

    /// Replaces the noted samples' documents from their current rows, commits the index and
    /// clears their re-index marks.
    fn commit_index(&mut self) -> Result<()> {
        if self.to_reindex.is_empty() {
            return Ok(());
        }
        let seqs: Vec<u64> = std::mem::take(&mut self.to_reindex).into_iter().collect();
        self.observer
            .phase("updating the index", Some(seqs.len() as u64));
        for chunk in seqs.chunks(self.chunk) {
            let docs = self.docs(chunk)?;
            let rows = self.rows(chunk)?;
            for ((&seq, doc), row) in chunk.iter().zip(&docs).zip(&rows) {
                self.pool.replace_in_index(seq, doc, row)?;
            }
            self.observer.advance(chunk.len() as u64);
        }
        self.report.reindexed += seqs.len() as u64;
        self.pool.commit_reindexed(&seqs)?;
        self.observer.finished();
        Ok(())
    }

    /// Step 2: signatures, buckets, overlaps and embeddings of the samples from the
    /// `overlap_next` watermark on; joins when `join` and a model exists.
    fn process_new(&mut self, join: bool) -> Result<()> {
        let from = self.state.overlap_next;
        let to = self.pool.counters().next_seq;
        if from >= to {
            return Ok(());
        }
        self.observer
            .phase("signatures and embeddings", Some(to - from));
        let mut start = from;
        while start < to {
            let end = (start + self.chunk as u64).min(to);
            self.process_chunk(start, end, join)?;
            self.observer.advance(end - start);
            start = end;
        }
        self.observer.finished();
        Ok(())
    }

    /// One chunk of new samples (`start..end`): signatures, buckets and embeddings, overlaps
    /// against older samples and the chunk's earlier ones, topics when they join, all written
    /// in one batch.
    fn process_chunk(&mut self, start: u64, end: u64, join: bool) -> Result<()> {
        let seqs: Vec<u64> = (start..end).collect();
        let computed = self.compute(&self.docs(&seqs)?)?;
        let OldCandidates {
            cands,
            sigs,
            mut overlaps,
        } = self.old_candidates(&computed)?;
        let raised = chunk_overlaps(start, &computed, &cands, &sigs, &mut overlaps)
            .map_err(|(other, e)| stored_err(self.store(), "minhash", other)(e))?;
        let (model, assignments) = self.join_chunk(&seqs, &computed, join)?;
        self.write_chunk(ChunkOutcome {
            seqs,
            end,
            computed,
            overlaps,
            raised: raised.into_iter().collect(),
            model,
            assignments,
        })
    }

    /// Step 1 of a chunk: each sample's signature, LSH bucket keys and embedding (rounded to
    /// binary16 as stored), in parallel.
    fn compute(&self, docs: &[DocRecord]) -> Result<Vec<Computed>> {
        let settings = &self.state.settings;
        let hasher = &self.hasher;
        let path = self.store().path();
        docs.par_iter()
            .map(|doc| -> Result<Computed> {
                let signature = hasher.signature_of_text(&doc.text);
                let buckets = bucket_keys(&signature, &settings.lsh)
                    .map_err(|e| Error::corrupt(path, "meta", "topics", e.to_string()))?;
                let mut embedding = settings.embedder.embed(&doc.text);
                round_to_f16(&mut embedding);
                Ok(Computed {
                    signature,
                    buckets,
                    embedding,
                })
            })
            .collect()
    }

    /// Step 2 of a chunk: the older samples sharing a bucket with each new one, and their
    /// stored signatures and overlaps.
    fn old_candidates(&self, computed: &[Computed]) -> Result<OldCandidates> {
        let all_buckets: Vec<u64> = computed
            .iter()
            .flat_map(|c| c.buckets.iter().copied())
            .collect();
        let members = self.store().lsh_buckets(&all_buckets)?;
        let cands: Vec<Vec<u64>> = computed
            .iter()
            .map(|c| {
                let mut cands = Vec::new();
                for b in &c.buckets {
                    if let Some(m) = members.get(b) {
                        cands.extend_from_slice(m);
                    }
                }
                cands.sort_unstable();
                cands.dedup();
                cands
            })
            .collect();
        let mut old: Vec<u64> = cands.iter().flatten().copied().collect();
        old.sort_unstable();
        old.dedup();
        let sigs: HashMap<u64, Signature> = old
            .iter()
            .zip(self.store().minhashes(&old)?)
            .map(|(&s, m)| {
                m.map(|m| (s, Signature::from_values(m.values)))
                    .ok_or_else(|| missing(self.store(), "minhash", s))
            })
            .collect::<Result<_>>()?;
        let overlaps: HashMap<u64, Overlap> = old
            .iter()
            .zip(self.store().overlaps(&old)?)
            .map(|(&s, o)| {
                o.map(|o| (s, o.overlap()))
                    .ok_or_else(|| missing(self.store(), "overlaps", s))
            })
            .collect::<Result<_>>()?;
        Ok(OldCandidates {
            cands,
            sigs,
            overlaps,
        })
    }

    /// Step 4 of a chunk: when `join` and a model exists, the new samples join the nearest
    /// centroids of a copy of the current model. Returns the copy and the assignments.
    fn join_chunk(
        &self,
        seqs: &[u64],
        computed: &[Computed],
        join: bool,
    ) -> Result<(Option<TopicModel>, Option<Vec<Assignment>>)> {
        let dim = self.embedding.dim as usize;
        let mut model = self.current.clone();
        let assignments = match (&mut model, join) {
            (Some(m), true) => {
                let rows: Vec<f32> = match self.embedding.source {
                    EmbeddingSource::Hashed => computed
                        .iter()
                        .flat_map(|c| c.embedding.iter().copied())
                        .collect(),
                    EmbeddingSource::Model => self.embedding_rows(seqs, dim)?,
                };
                Some(m.model.join(&rows, dim).map_err(stored_err(
                    self.store(),
                    "meta",
                    "topic_model",
                ))?)
            }
            _ => None,
        };
        Ok((model, assignments))
    }

    /// Step 5 of a chunk: one batch writes the new samples' records and rows (novelty, and
    /// topic when joined), the raised samples' overlaps and rows, the model and the watermarks.
    fn write_chunk(&mut self, chunk: ChunkOutcome) -> Result<()> {
        let ChunkOutcome {
            seqs,
            end,
            computed,
            overlaps,
            raised,
            model,
            assignments,
        } = chunk;
        let generation = self.state.generation;
        let mut new_rows = self.rows(&seqs)?;
        for (i, row) in new_rows.iter_mut().enumerate() {
            row.novelty = Some(overlaps[&seqs[i]].novelty());
            if let Some(a) = &assignments {
                row.topic = Some(a[i].topic);
            }
        }
        let mut raised_rows = self.rows(&raised)?;
        for (s, row) in raised.iter().zip(raised_rows.iter_mut()) {
            row.novelty = Some(overlaps[s].novelty());
        }

        let mut state = self.state.clone();
        state.overlap_next = end;
        if assignments.is_some() {
            state.topics_next = end;
        }
        let mut batch = self.store().batch();
        for (i, c) in computed.iter().enumerate() {
            let x = seqs[i];
            batch.put_minhash(
                x,
                &MinHashRecord {
                    values: c.signature.values().to_vec(),
                },
            );
            for &b in &c.buckets {
                batch.put_lsh(b, x);
            }
            batch.put_overlap(x, &OverlapRecord::from(overlaps[&x]));
            batch.put_embedding(
                x,
                &EmbeddingRecord {
                    values: c.embedding.clone(),
                },
            );
            if let Some(a) = &assignments {
                batch.put_assignment(
                    x,
                    &AssignmentRecord {
                        generation,
                        topic: a[i].topic,
                        distance: a[i].distance,
                    },
                );
            }
            batch.put_sample_row(x, &new_rows[i]);
            batch.mark_reindex(x);
        }
        for (s, row) in raised.iter().zip(&raised_rows) {
            batch.put_overlap(*s, &OverlapRecord::from(overlaps[s]));
            batch.put_sample_row(*s, row);
            batch.mark_reindex(*s);
        }
        if let Some(m) = &model {
            if assignments.is_some() {
                batch.put_meta(TOPIC_MODEL_KEY, m);
            }
        }
        batch.put_meta(TOPICS_KEY, &state);
        batch.commit()?;
        self.state = state;
        if assignments.is_some() {
            self.current = model;
            self.report.joined += seqs.len() as u64;
        }
        self.report.processed += seqs.len() as u64;
        self.report.novelty_updated += raised.len() as u64;

        self.reindex(seqs.into_iter().chain(raised))?;
        Ok(())
    }

    /// Joins samples that have an embedding but no topic (`from..to`) to the current model.
    fn join_stored(&mut self, from: u64, to: u64) -> Result<()> {
        let Some(mut model) = self.current.clone() else {
            return Ok(());
        };
        let dim = self.embedding.dim as usize;
        self.observer.phase("joining topics", Some(to - from));
        let mut start = from;
        while start < to {
            let end = (start + self.chunk as u64).min(to);
            let seqs: Vec<u64> = (start..end).collect();
            let rows = self.embedding_rows(&seqs, dim)?;
            let assigned = model.model.join(&rows, dim).map_err(stored_err(
                self.store(),
                "meta",
                "topic_model",
            ))?;
            let mut sample_rows = self.rows(&seqs)?;
            let mut state = self.state.clone();
            state.topics_next = end;
            let mut batch = self.store().batch();
            for (i, a) in assigned.iter().enumerate() {
                sample_rows[i].topic = Some(a.topic);
                batch.put_assignment(
                    seqs[i],
                    &AssignmentRecord {
                        generation: state.generation,
                        topic: a.topic,
                        distance: a.distance,
                    },
                );
                batch.put_sample_row(seqs[i], &sample_rows[i]);
                batch.mark_reindex(seqs[i]);
            }
            batch.put_meta(TOPIC_MODEL_KEY, &model);
            batch.put_meta(TOPICS_KEY, &state);
            batch.commit()?;
            self.state = state;
            self.current = Some(model.clone());
            self.report.joined += seqs.len() as u64;
            self.reindex(seqs)?;
            self.observer.advance(end - start);
            start = end;
        }
        self.observer.finished();
        Ok(())
    }

    /// The stored embeddings of `seqs` (of the source in effect) as row-major `f32`.
    fn embedding_rows(&self, seqs: &[u64], dim: usize) -> Result<Vec<f32>> {
        if self.embedding.source == EmbeddingSource::Model {
            return embedding::model_rows(self.store(), &self.embedding, seqs, dim);
        }
        let mut rows = Vec::with_capacity(seqs.len() * dim);
        for (e, &s) in self.store().embeddings(seqs)?.into_iter().zip(seqs) {
            let e = e.ok_or_else(|| missing(self.store(), "embeddings", s))?;
            if e.values.len() != dim {
                return Err(Error::Corrupt {
                    path: self.store().path().to_path_buf(),
                    table: "embeddings",
                    key: s.to_string(),
                    reason: format!("{} values, the embedder has {dim}", e.values.len()),
                });
            }
            rows.extend_from_slice(&e.values);
        }
        Ok(rows)
    }

    /// Step 3: fits k-means on every embedded sample, in text-hash order, then writes the
    /// samples' topics.
    fn refit(&mut self, reason: String) -> Result<()> {
        let upto = self.state.overlap_next;
        let order: Vec<u64> = self
            .store()
            .seqs_by_text_hash()?
            .into_iter()
            .filter(|&s| s < upto)
            .collect();
        let n = order.len();
        let k = match self.state.settings.k_requested {
            Some(k) => k as usize,
            None => default_k(n),
        };
        if k > n {
            return Err(div_err(DiversityError::TooFewSamples { n, k }));
        }
        let dim = self.embedding.dim as usize;
        self.observer.phase("loading embeddings", Some(n as u64));
        let mut rows = Vec::with_capacity(n * dim);
        for chunk in order.chunks(self.chunk) {
            rows.extend(self.embedding_rows(chunk, dim)?);
            self.observer.advance(chunk.len() as u64);
        }
        self.observer.finished();
        self.observer
            .phase(&format!("fitting {k} topics on {n} samples"), None);
        let seed = self.state.settings.kmeans_seed;
        let t = Instant::now();
        let fitted = fit(&rows, dim, &KMeansParams::new(k).with_seed(seed)).map_err(div_err)?;
        let fit_seconds = t.elapsed().as_secs_f64();
        self.observer.finished();
        drop(rows);
        self.report.refit = Some(RefitReport {
            reason: reason.clone(),
            k,
            samples: n as u64,
            algorithm: match fitted.algorithm {
                crate::algo::diversity::Algorithm::MiniBatch => "mini-batch".into(),
                _ => "lloyd".into(),
            },
            mini_batch_steps: fitted.mini_batch_steps,
            lloyd_iterations: fitted.lloyd_iterations,
            inertia_per_sample: fitted.inertia / n.max(1) as f64,
            fit_seconds,
        });
        let pending = TopicModel {
            generation: self.state.generation + 1,
            reason,
            fitted_upto: upto,
            seed,
            model: fitted.model,
        };
        let mut state = self.state.clone();
        state.refit_next = Some(0);
        let mut batch = self.store().batch();
        batch.put_meta(TOPIC_REFIT_KEY, &pending);
        batch.put_meta(TOPIC_EMBEDDING_REFIT_KEY, &self.embedding);
        batch.put_meta(TOPICS_KEY, &state);
        batch.commit()?;
        self.state = state;
        self.write_refit(pending, 0)
    }

    /// Writes the topics of a fitted model for the samples from `from` to the model's
    /// `fitted_upto`, then makes it the current model.
    fn write_refit(&mut self, pending: TopicModel, from: u64) -> Result<()> {
        let dim = self.embedding.dim as usize;
        let upto = pending.fitted_upto;
        self.observer
            .phase("writing topics", Some(upto.saturating_sub(from)));
        let mut start = from;
        while start < upto {
            let end = (start + self.chunk as u64).min(upto);
            let seqs: Vec<u64> = (start..end).collect();
            let rows = self.embedding_rows(&seqs, dim)?;
            let assigned = pending.model.assign(&rows, dim).map_err(stored_err(
                self.store(),
                "meta",
                "topic_refit",
            ))?;
            let mut sample_rows = self.rows(&seqs)?;
            let mut changed = Vec::new();
            let mut state = self.state.clone();
            state.refit_next = Some(end);
            let mut batch = self.store().batch();
            for (i, a) in assigned.iter().enumerate() {
                batch.put_assignment(
                    seqs[i],
                    &AssignmentRecord {
                        generation: pending.generation,
                        topic: a.topic,
                        distance: a.distance,
                    },
                );
                if sample_rows[i].topic != Some(a.topic) {
                    sample_rows[i].topic = Some(a.topic);
                    batch.put_sample_row(seqs[i], &sample_rows[i]);
                    batch.mark_reindex(seqs[i]);
                    changed.push(seqs[i]);
                }
            }
            batch.put_meta(TOPICS_KEY, &state);
            batch.commit()?;
            self.state = state;
            self.reindex(changed)?;
            self.observer.advance(end - start);
            start = end;
        }
        let mut state = self.state.clone();
        state.refit_next = None;
        state.generation = pending.generation;
        state.topics_next = upto;
        let mut batch = self.store().batch();
        batch.put_meta(TOPIC_MODEL_KEY, &pending);
        batch.delete_meta(TOPIC_REFIT_KEY);
        batch.put_meta(TOPIC_EMBEDDING_KEY, &self.embedding);
        batch.delete_meta(TOPIC_EMBEDDING_REFIT_KEY);
        batch.put_meta(TOPICS_KEY, &state);
        batch.commit()?;
        self.state = state;
        self.current = Some(pending);
        self.observer.finished();
        Ok(())
    }
}

fn missing(store: &Store, table: &'static str, seq: u64) -> Error {
    Error::Corrupt {
        path: store.path().to_path_buf(),
        table,
        key: seq.to_string(),
        reason: "missing: the topics watermarks say it exists".into(),
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    fn computed(values: Vec<u32>, buckets: Vec<u64>) -> Computed {
        Computed {
            signature: Signature::from_values(values),
            buckets,
            embedding: Vec::new(),
        }
    }

    #[test]
    fn chunk_overlaps_compare_with_older_candidates_and_earlier_chunk_samples() {
        // Older sample 3: signature [1, 2, 3, 4], overlap 0.25 with sample 1.
        let old_sigs = HashMap::from([(3, Signature::from_values(vec![1, 2, 3, 4]))]);
        let mut overlaps = HashMap::from([(
            3,
            Overlap {
                nearest: Some(1),
                jaccard: 0.25,
            },
        )]);
        // New samples 10, 11, 12: 10 shares 3 values of 4 with sample 3; 11 shares bucket 7
        // with 10 and equals it; 12 meets nobody.
        let chunk = vec![
            computed(vec![1, 2, 3, 9], vec![5, 7]),
            computed(vec![1, 2, 3, 9], vec![7]),
            computed(vec![8, 8, 8, 8], vec![99]),
        ];
        let old_cands = vec![vec![3], vec![], vec![]];
        let raised = chunk_overlaps(10, &chunk, &old_cands, &old_sigs, &mut overlaps).unwrap();
        assert_eq!(raised, BTreeSet::from([3]));
        assert_eq!(
            overlaps[&3],
            Overlap {
                nearest: Some(10),
                jaccard: 0.75
            }
        );
        assert_eq!(
            overlaps[&10],
            Overlap {
                nearest: Some(11),
                jaccard: 1.0
            }
        );
        assert_eq!(
            overlaps[&11],
            Overlap {
                nearest: Some(10),
                jaccard: 1.0
            }
        );
        assert_eq!(overlaps[&12], Overlap::NONE);
    }

    #[test]
    fn chunk_overlaps_name_an_older_sample_whose_signature_does_not_compare() {
        let old_sigs = HashMap::from([(3, Signature::from_values(vec![1, 2]))]);
        let mut overlaps = HashMap::from([(3, Overlap::NONE)]);
        let chunk = vec![computed(vec![1, 2, 3, 4], vec![5])];
        let err = chunk_overlaps(10, &chunk, &[vec![3]], &old_sigs, &mut overlaps).unwrap_err();
        assert_eq!(err.0, 3);
    }
}
