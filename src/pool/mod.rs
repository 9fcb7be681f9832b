//! The pool: the store and its index opened together, kept consistent, and the read side
//! (`stats`, `get`, `query`) built on both.
//!
//! Invariant: the store is the source of truth. A writer that opens the pool first brings the
//! index up to the store: samples from the index watermark on are indexed, samples marked for
//! re-indexing are replaced, and an index that is ahead of the store or unreadable is rebuilt.

mod embedding_checks;
pub mod mirror;
pub mod mixes;
pub mod ranks;
pub mod repair;
pub mod scale;
pub mod topic_views;

pub use scale::QualityScale;

use ranks::QualityChoice;

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::index::{IndexEntry, IndexScores, PoolIndex, QuerySpec, SortBy};
use crate::store::{DocRecord, PoolCounters, SampleRow, ScorerState, Store, SCORER_KEY};
use mirror::Mirror;

/// What opening the pool had to repair.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct OpenReport {
    /// Samples indexed on open because the index was behind the store (after a crash).
    pub indexed_on_open: u64,
    /// Samples whose index document was replaced on open.
    pub reindexed_on_open: u64,
    /// Whether the index was discarded and rebuilt from the store.
    pub index_rebuilt: bool,
}

/// An open pool.
pub struct Pool {
    pub(crate) store: Store,
    pub(crate) index: Option<PoolIndex>,
    /// The counters and sources, changed only through [`Mirror::commit`].
    pub(crate) mirror: Mirror,
    open_report: OpenReport,
    /// Why a reader could not open the index (the next writer rebuilds it).
    index_damage: Option<String>,
}

impl Pool {
    /// Opens (or creates) the pool at `path` as its single writer, bringing the index up to date.
    /// Only `append` creates pools; the other writers use [`Pool::open_existing_writer`].
    pub fn open_writer(path: &Path) -> Result<Pool> {
        Pool::writer(Store::open_writer(path)?)
    }

    /// Opens the pool at `path` as its single writer; [`Error::NoStore`] when there is none.
    pub fn open_existing_writer(path: &Path) -> Result<Pool> {
        Pool::writer(Store::open_existing_writer(path)?)
    }

    fn writer(store: Store) -> Result<Pool> {
        let index = PoolIndex::open_writer(store.path())?;
        let mut pool = Pool::assemble(store, Some(index))?;
        pool.catch_up_index()?;
        Ok(pool)
    }

    /// Opens the pool at `path` for reading; works while a writer runs in another process and
    /// on a read-only folder. A damaged index leaves the pool without one: `stats` and `get`
    /// work, `query` says the index is damaged.
    pub fn open_reader(path: &Path) -> Result<Pool> {
        let store = Store::open_reader(path)?;
        let (index, damage) = match PoolIndex::open_reader(path) {
            Ok(index) => (index, None),
            Err(Error::IndexDamaged { reason, .. }) => (None, Some(reason)),
            Err(e) => return Err(e),
        };
        let mut pool = Pool::assemble(store, index)?;
        pool.index_damage = damage;
        Ok(pool)
    }

    /// Why the index could not be read (a reader's pool then has none).
    pub fn index_damage(&self) -> Option<&str> {
        self.index_damage.as_deref()
    }

    /// Why opening as writer discarded the index and rebuilt it from the store, if it did.
    pub fn index_rebuild_reason(&self) -> Option<&str> {
        self.index.as_ref().and_then(PoolIndex::rebuild_reason)
    }

    fn assemble(store: Store, index: Option<PoolIndex>) -> Result<Pool> {
        let counters = store.counters()?;
        let sources = store.sources()?.into_iter().collect();
        let rebuilt = index.as_ref().is_some_and(PoolIndex::was_rebuilt);
        Ok(Pool {
            store,
            index,
            mirror: Mirror::new(counters, sources),
            open_report: OpenReport {
                index_rebuilt: rebuilt,
                ..OpenReport::default()
            },
            index_damage: None,
        })
    }

    fn catch_up_index(&mut self) -> Result<()> {
        let next_seq = self.mirror.counters().next_seq;
        let Pool { store, index, .. } = self;
        let index = index.as_mut().expect("a writer has an index");
        let mut from = index.watermark();
        if from > next_seq {
            // The index holds samples the store does not: only a lost store write explains it.
            index.clear()?;
            self.open_report.index_rebuilt = true;
            from = 0;
        }
        let mut added = 0;
        for item in store.docs_from(from) {
            let (seq, doc) = item?;
            if seq >= next_seq {
                break;
            }
            index.add(&entry(store, seq, &doc)?)?;
            added += 1;
        }
        let marks = store.reindex_marks()?;
        let mut replaced = 0;
        for &seq in &marks {
            if seq >= from {
                continue; // indexed fresh just above
            }
            if let Some(doc) = store.doc(seq)? {
                index.replace(&entry(store, seq, &doc)?)?;
                replaced += 1;
            }
        }
        if added > 0 || !marks.is_empty() || index.watermark() != next_seq {
            index.commit(next_seq)?;
            let mut batch = store.batch();
            for &seq in &marks {
                batch.clear_reindex(seq);
            }
            batch.commit()?;
        }
        self.open_report.indexed_on_open = added;
        self.open_report.reindexed_on_open = replaced;
        Ok(())
    }

    /// What opening had to repair.
    pub fn open_report(&self) -> OpenReport {
        self.open_report
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The index, if one exists (a reader of a pool that was never indexed has none).
    pub fn index(&self) -> Option<&PoolIndex> {
        self.index.as_ref()
    }

    /// Pool-wide counters.
    pub fn counters(&self) -> PoolCounters {
        self.mirror.counters()
    }

    /// Replaces a sample's index document after its row changed (the caller has marked it for
    /// re-indexing in the store first).
    pub(crate) fn replace_in_index(
        &mut self,
        seq: u64,
        doc: &DocRecord,
        row: &SampleRow,
    ) -> Result<()> {
        if let Some(index) = self.index.as_mut() {
            index.replace(&entry_from_row(seq, doc, row))?;
        }
        Ok(())
    }

    /// Commits the index, then clears the re-index marks of the samples it now covers.
    pub(crate) fn commit_reindexed(&mut self, seqs: &[u64]) -> Result<()> {
        let next = self.mirror.counters().next_seq;
        if let Some(index) = self.index.as_mut() {
            index.commit(next)?;
        }
        let mut batch = self.store.batch();
        for &seq in seqs {
            batch.clear_reindex(seq);
        }
        batch.commit()
    }

    /// Commits the index and waits for its merges: call before dropping a writer.
    pub fn close(mut self) -> Result<()> {
        if let Some(mut index) = self.index.take() {
            if self.store.access() == crate::store::Access::Write {
                index.commit(self.mirror.counters().next_seq)?;
            }
            index.close()?;
        }
        Ok(())
    }

    /// Checks that the store's tables agree with each other and that the index holds exactly
    /// one document per stored sample. Returns the problems found (none for a sound pool).
    pub fn verify(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let c = self.mirror.counters();
        let mut seqs = Vec::new();
        let mut docs = Vec::new();
        for item in self.store.docs_from(0) {
            let (seq, doc) = item?;
            if seq >= c.next_seq {
                problems.push(format!(
                    "sample {seq} is at or past next_seq {}",
                    c.next_seq
                ));
            }
            seqs.push(seq);
            docs.push(doc);
        }
        if seqs.len() as u64 != c.docs {
            problems.push(format!(
                "{} samples stored, counters say {}",
                seqs.len(),
                c.docs
            ));
        }
        for (chunk_seqs, chunk_docs) in seqs.chunks(4096).zip(docs.chunks(4096)) {
            let hashes: Vec<u128> = chunk_docs.iter().map(|d| d.text_hash).collect();
            let ids: Vec<&str> = chunk_docs.iter().map(|d| d.id.as_str()).collect();
            let by_hash = self.store.seqs_of_hashes(&hashes)?;
            let by_id = self.store.seqs_of_ids(&ids)?;
            for (i, &seq) in chunk_seqs.iter().enumerate() {
                if by_hash[i] != Some(seq) {
                    problems.push(format!(
                        "sample {seq}: dedup entry points to {:?}",
                        by_hash[i]
                    ));
                }
                if by_id[i] != Some(seq) {
                    problems.push(format!("sample {seq}: id entry points to {:?}", by_id[i]));
                }
                if self.store.sample_row(seq)?.is_none() {
                    problems.push(format!("sample {seq} has no row in table samples"));
                }
            }
        }
        let by_source: u64 = self.mirror.sources().values().map(|s| s.docs).sum();
        if by_source != c.docs {
            problems.push(format!(
                "sources total {by_source} samples, counters say {}",
                c.docs
            ));
        }
        if let Some(index) = &self.index {
            let mut indexed = index.indexed_seqs()?;
            indexed.sort_unstable();
            let before = indexed.len();
            indexed.dedup();
            if indexed.len() != before {
                problems.push(format!(
                    "{} samples are indexed more than once",
                    before - indexed.len()
                ));
            }
            if indexed != seqs {
                problems.push(format!(
                    "index holds {} distinct samples, the store {}",
                    indexed.len(),
                    seqs.len()
                ));
            }
        }
        problems.extend(crate::pool::topic_views::verify(self)?);
        problems.extend(embedding_checks::verify(&self.store, &seqs)?);
        problems.extend(ranks::verify(&self.store, &seqs)?);
        Ok(problems)
    }

    /// Summary of the pool.
    pub fn stats(&self) -> Result<PoolStats> {
        let c = self.mirror.counters();
        let scorer = self.store.meta::<ScorerState>(SCORER_KEY)?;
        let exact = self.store.sample_rows().try_fold(0u64, |n, r| {
            r.map(|(_, row)| n + u64::from(row.tokens_exact))
        })?;
        let mut sources: Vec<SourceStats> = self
            .mirror
            .sources()
            .iter()
            .map(|(name, s)| SourceStats {
                name: name.clone(),
                samples: s.docs,
                tokens: s.tokens,
                bytes: s.bytes,
                token_share: if c.tokens == 0 {
                    0.0
                } else {
                    s.tokens as f64 / c.tokens as f64
                },
            })
            .collect();
        sources.sort_by(|a, b| b.tokens.cmp(&a.tokens).then(a.name.cmp(&b.name)));
        let index = match &self.index {
            Some(ix) => IndexStats {
                docs: ix.num_docs(),
                watermark: ix.watermark(),
                behind_by: c.next_seq.saturating_sub(ix.watermark()),
                damaged: None,
            },
            None => IndexStats {
                docs: 0,
                watermark: 0,
                behind_by: c.next_seq,
                damaged: self.index_damage.clone(),
            },
        };
        Ok(PoolStats {
            store: self.store.path().display().to_string(),
            format_version: self.store.format_version()?,
            samples: c.docs,
            tokens: c.tokens,
            tokens_estimated: c.docs - exact,
            bytes: c.bytes,
            sources,
            duplicates_skipped: c.duplicates,
            rejected: c.rejected,
            appends: c.appends,
            scored: scorer.as_ref().map_or(0, |s| s.scored),
            too_short: scorer.as_ref().map_or(0, |s| s.too_short),
            scorer: scorer.map(|s| s.description),
            topics: crate::pool::topic_views::summary(&self.store)?,
            index,
            size_on_disk: self.store.size_on_disk(),
            mixes: crate::pool::mixes::summaries(&self.store)?,
            signals: ranks::signal_summaries(&self.store)?,
        })
    }

    /// The sample with this id.
    pub fn get(&self, id: &str) -> Result<SampleView> {
        let seq = self
            .store
            .seq_of_id(id)?
            .ok_or_else(|| Error::NotFound(id.to_string()))?;
        let doc = self.store.doc(seq)?.ok_or_else(|| Error::Corrupt {
            path: self.store.path().to_path_buf(),
            table: "ids",
            key: id.to_string(),
            reason: format!("points to sequence number {seq}, which has no sample"),
        })?;
        SampleView::new(&self.store, seq, doc)
    }

    /// Searches the pool. A reader opened before the first index commit finds nothing.
    pub fn query(&self, spec: &QuerySpec, full_text: bool) -> Result<QueryResult> {
        self.query_with(spec, full_text, QualityChoice::default())
    }

    /// Searches the pool with q(x) read under `choice`. Today's q (`lm` over the pool) is
    /// answered by the index (mean-NLL ranges); any other signal or scope filters and sorts the
    /// index's matches by q read from the stored scales ([`ranks::QualityRanks`]), which reads
    /// every match's row when a quality bound or order is asked for.
    pub fn query_with(
        &self,
        spec: &QuerySpec,
        full_text: bool,
        choice: QualityChoice,
    ) -> Result<QueryResult> {
        if let Some(reason) = &self.index_damage {
            return Err(Error::IndexDamaged {
                path: self.store.path().join(crate::index::INDEX_DIR),
                reason: reason.clone(),
            });
        }
        let Some(index) = &self.index else {
            return Ok(QueryResult {
                total: 0,
                hits: Vec::new(),
            });
        };
        let ranks = if choice.is_default() {
            None
        } else {
            Some(ranks::QualityRanks::load(&self.store)?)
        };
        let scale = QualityScale::load(&self.store)?;
        let mut spec = spec.clone();
        let sort_q = spec.sort == SortBy::Quality;
        let (min_q, max_q, limit) = (spec.min_quality, spec.max_quality, spec.limit);
        let by_signal = ranks.is_some() && (min_q.is_some() || max_q.is_some() || sort_q);
        if ranks.is_some() {
            spec.min_quality = None;
            spec.max_quality = None;
            if sort_q {
                spec.sort = SortBy::Relevance;
            }
            if by_signal {
                spec.limit = usize::MAX;
            }
        }
        if spec.mean_nll_bounds.is_none() {
            spec.mean_nll_bounds = scale
                .as_ref()
                .map(|s| s.nll_bounds(spec.min_quality, spec.max_quality));
        }
        let diversity = crate::pool::scale::DiversityScale::load(&self.store)?;
        if spec.diversity.is_none() {
            spec.diversity = diversity
                .as_ref()
                .map(|s| s.index_filter(spec.min_diversity));
        }
        let result = index.search(&spec)?;
        let mut found = Vec::with_capacity(result.hits.len());
        for hit in &result.hits {
            let row = self.store.sample_row(hit.seq)?;
            let q = match (&ranks, &row) {
                (Some(r), Some(row)) => r.q(&r.sample(&self.store, hit.seq, row)?, choice),
                (Some(_), None) => None,
                (None, _) => row
                    .and_then(|r| r.mean_nll)
                    .zip(scale.as_ref())
                    .map(|(m, s)| s.quality(f64::from(m))),
            };
            found.push((hit, row, q));
        }
        let mut total = result.total;
        if by_signal {
            found.retain(|(_, _, q)| {
                q.is_some_and(|q| min_q.is_none_or(|m| q >= m) && max_q.is_none_or(|m| q <= m))
            });
            if sort_q {
                found.sort_by(|a, b| {
                    b.2.unwrap_or(0.0)
                        .total_cmp(&a.2.unwrap_or(0.0))
                        .then(a.0.seq.cmp(&b.0.seq))
                });
            }
            total = found.len();
            found.truncate(limit);
        }
        let mut hits = Vec::with_capacity(found.len());
        for (hit, row, q) in found {
            let Some(doc) = self.store.doc(hit.seq)? else {
                continue; // indexed by a writer after this reader's snapshot of the store
            };
            let mean_nll = row.and_then(|r| r.mean_nll).map(f64::from);
            let parts = row
                .and_then(|r| r.topic.zip(r.novelty))
                .zip(diversity.as_ref())
                .and_then(|((t, n), s)| s.parts(t, n));
            let text = if full_text {
                doc.text.clone()
            } else {
                result.snippet(&doc.text, 200)
            };
            hits.push(QueryHit {
                id: doc.id,
                source: doc.source,
                tokens: row.map_or(doc.tokens_estimate, |r| r.tokens),
                relevance: hit.relevance,
                quality: q,
                mean_nll,
                diversity: parts.map(|p| p.d),
                topic: row.and_then(|r| r.topic).map(u64::from),
                text,
                novelty: row.and_then(|r| r.novelty).map(f64::from),
                diversity_parts: parts,
            });
        }
        Ok(QueryResult { total, hits })
    }
}

/// The index document of a stored sample, from its compact row.
pub(crate) fn entry_from_row<'d>(seq: u64, doc: &'d DocRecord, row: &SampleRow) -> IndexEntry<'d> {
    IndexEntry {
        seq,
        text: &doc.text,
        source: &doc.source,
        tokens: u64::from(row.tokens),
        scores: IndexScores {
            topic: row.topic.map(u64::from),
            mean_nll: row.mean_nll.map(f64::from),
            novelty: row.novelty.map(f64::from),
        },
    }
}

/// The index document of a stored sample.
pub(crate) fn entry<'d>(store: &Store, seq: u64, doc: &'d DocRecord) -> Result<IndexEntry<'d>> {
    let row = store
        .sample_row(seq)?
        .unwrap_or_else(|| SampleRow::new(doc.tokens_estimate, 0));
    Ok(entry_from_row(seq, doc, &row))
}

/// `samplemix stats`.
#[derive(Clone, Debug, Serialize)]
pub struct PoolStats {
    /// The store folder.
    pub store: String,
    /// Store format version.
    pub format_version: u32,
    /// Samples in the pool.
    pub samples: u64,
    /// Tokens in the pool.
    pub tokens: u64,
    /// Samples whose token count is still the byte-based estimate.
    pub tokens_estimated: u64,
    /// UTF-8 bytes of text.
    pub bytes: u64,
    /// Per source, by tokens.
    pub sources: Vec<SourceStats>,
    /// Exact duplicates skipped by all appends.
    pub duplicates_skipped: u64,
    /// Records rejected by all appends.
    pub rejected: u64,
    /// Completed append runs.
    pub appends: u64,
    /// Samples with a quality score under the current scorer.
    pub scored: u64,
    /// Samples too short to score.
    pub too_short: u64,
    /// The current scorer (model and settings), once `score` has run.
    pub scorer: Option<String>,
    /// Topic model state, once `topics` has run.
    pub topics: Option<crate::pool::topic_views::TopicsSummary>,
    /// Index state.
    pub index: IndexStats,
    /// Bytes on disk (database and index).
    pub size_on_disk: u64,
    /// The stored mixes.
    pub mixes: Vec<crate::pool::mixes::MixSummary>,
    /// The quality signals besides `lm` that have been computed.
    pub signals: Vec<ranks::SignalSummary>,
}

/// One source in [`PoolStats`].
#[derive(Clone, Debug, Serialize)]
pub struct SourceStats {
    /// Source name.
    pub name: String,
    /// Samples.
    pub samples: u64,
    /// Tokens.
    pub tokens: u64,
    /// UTF-8 bytes.
    pub bytes: u64,
    /// Share of the pool's tokens.
    pub token_share: f64,
}

/// Index state in [`PoolStats`].
#[derive(Clone, Debug, Serialize)]
pub struct IndexStats {
    /// Searchable documents.
    pub docs: u64,
    /// Every sample below this sequence number is indexed.
    pub watermark: u64,
    /// Samples the index lacks (a writer indexes them when it opens the pool).
    pub behind_by: u64,
    /// Why the index could not be read, if it could not (the next writer rebuilds it).
    pub damaged: Option<String>,
}

/// `samplemix get`.
#[derive(Clone, Debug, Serialize)]
pub struct SampleView {
    /// Sample id.
    pub id: String,
    /// Sequence number in the store.
    pub seq: u64,
    /// Source.
    pub source: String,
    /// Token count.
    pub tokens: u32,
    /// Whether `tokens` is the byte-based estimate.
    pub tokens_estimated: bool,
    /// Metadata.
    pub metadata: Option<serde_json::Value>,
    /// Input file and line it was appended from.
    pub origin: String,
    /// xxh3-128 of the normalised text, hex.
    pub text_hash: String,
    /// Topic id.
    pub topic: Option<u64>,
    /// Quality q.
    pub quality: Option<f64>,
    /// Mean NLL per token.
    pub mean_nll: Option<f64>,
    /// Perplexity, exp(mean NLL).
    pub perplexity: Option<f64>,
    /// Tokens the scorer predicted (0: too short to score).
    pub scored_tokens: Option<u32>,
    /// Fingerprint of the scorer.
    pub fingerprint: Option<String>,
    /// Diversity d.
    pub diversity: Option<f64>,
    /// The text.
    pub text: String,
    /// The parts of d (topic, distance, cluster score and rank, novelty, nearest sample).
    pub diversity_parts: Option<crate::pool::scale::SampleDiversity>,
    /// Every quality signal: raw value, q per rank scope, features.
    pub signals: Vec<ranks::SignalView>,
}

impl SampleView {
    fn new(store: &Store, seq: u64, doc: DocRecord) -> Result<SampleView> {
        let row = store.sample_row(seq)?;
        let score = store.score(seq)?;
        let mean_nll = row.and_then(|r| r.mean_nll).map(f64::from);
        let scale = QualityScale::load(store)?;
        let diversity = crate::pool::topic_views::sample_diversity(store, seq, row.as_ref())?;
        let signals = match &row {
            Some(r) => ranks::QualityRanks::load(store)?.views(store, seq, r)?,
            None => Vec::new(),
        };
        let metadata = match &doc.metadata {
            None => None,
            Some(m) => Some(serde_json::from_str(m).map_err(|e| Error::Corrupt {
                path: store.path().to_path_buf(),
                table: "docs",
                key: seq.to_string(),
                reason: format!("metadata is not JSON: {e}"),
            })?),
        };
        Ok(SampleView {
            id: doc.id,
            seq,
            source: doc.source,
            tokens: row.map_or(doc.tokens_estimate, |r| r.tokens),
            tokens_estimated: !row.is_some_and(|r| r.tokens_exact),
            metadata,
            origin: format!("{}:{}", doc.origin_file, doc.origin_line),
            text_hash: format!("{:032x}", doc.text_hash),
            topic: row.and_then(|r| r.topic).map(u64::from),
            quality: mean_nll.zip(scale.as_ref()).map(|(m, s)| s.quality(m)),
            mean_nll,
            perplexity: mean_nll.map(f64::exp),
            scored_tokens: score.as_ref().map(|s| s.n_scored),
            fingerprint: score.map(|s| s.fingerprint),
            diversity: diversity.as_ref().and_then(|d| d.d),
            text: doc.text,
            diversity_parts: diversity,
            signals,
        })
    }
}

/// `samplemix query`.
#[derive(Clone, Debug, Serialize)]
pub struct QueryResult {
    /// Documents that matched.
    pub total: usize,
    /// The best `limit` of them.
    pub hits: Vec<QueryHit>,
}

/// One line of `samplemix query`.
#[derive(Clone, Debug, Serialize)]
pub struct QueryHit {
    /// Sample id.
    pub id: String,
    /// Source.
    pub source: String,
    /// Token count.
    pub tokens: u32,
    /// BM25 relevance, when sorted by relevance to a query text.
    pub relevance: Option<f32>,
    /// Quality q.
    pub quality: Option<f64>,
    /// Mean NLL per token.
    pub mean_nll: Option<f64>,
    /// Diversity d.
    pub diversity: Option<f64>,
    /// Topic id.
    pub topic: Option<u64>,
    /// A snippet, or the whole text with `--full`.
    pub text: String,
    /// Novelty: 1 - largest estimated Jaccard similarity to another sample.
    pub novelty: Option<f64>,
    /// The parts of d (cluster score and rank, novelty, d).
    pub diversity_parts: Option<crate::algo::diversity::DiversityParts>,
}
