//! Searches over the pool index: a tantivy query string over the text plus filters on source,
//! topic and scores, sorted by relevance or by a score.

use std::ops::Bound;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher, Term};

use super::{names, PoolIndex};

/// The order of search results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortBy {
    /// BM25 relevance to the query text (index order when there is none).
    #[default]
    Relevance,
    /// Quality, highest first (mean NLL, lowest first); unscored samples never match.
    Quality,
    /// Diversity, highest first; samples without diversity never match.
    Diversity,
}

/// What to search for.
#[derive(Clone, Debug, Default)]
pub struct QuerySpec {
    /// A tantivy query string over the text: words (all must match), "phrases", OR, -exclusions.
    pub text: Option<String>,
    /// Only this source.
    pub source: Option<String>,
    /// Only this topic.
    pub topic: Option<u64>,
    /// Quality at least this.
    pub min_quality: Option<f64>,
    /// Quality at most this.
    pub max_quality: Option<f64>,
    /// The mean-NLL bounds (inclusive) equivalent to the quality bounds in the current pool,
    /// filled in by `Pool::query` from the pool's NLL quantiles; `None` while nothing is scored,
    /// and then any quality filter or sort matches nothing.
    pub mean_nll_bounds: Option<(Option<f64>, Option<f64>)>,
    /// Diversity at least this.
    pub min_diversity: Option<f64>,
    /// The per-topic novelty bounds equivalent to the diversity filter and order in the current
    /// pool, filled in by `Pool::query` from the pool's diversity scale; `None` before `topics`
    /// has run, and then any diversity filter or sort matches nothing.
    pub diversity: Option<DiversityFilter>,
    /// Result order.
    pub sort: SortBy,
    /// How many hits to return.
    pub limit: usize,
}

/// Diversity as the index can answer it. d(x) is a rank of `topic_rank[topic] * novelty` over the
/// pool, so `d >= D` is, per topic, a lower bound on novelty, and sorting by d is sorting by that
/// product (see `topics::DiversityScale`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiversityFilter {
    /// Cluster rank of each topic's members (index: topic id).
    pub topic_rank: Vec<f64>,
    /// Smallest novelty that qualifies in each topic (index: topic id); `None`: no sample of
    /// the topic does.
    pub min_novelty: Vec<Option<f32>>,
}

/// One search result.
#[derive(Clone, Debug)]
pub struct IndexHit {
    /// Store sequence number of the sample.
    pub seq: u64,
    /// BM25 score when sorted by relevance.
    pub relevance: Option<f32>,
}

/// Results of a search, with what is needed to highlight them.
pub struct SearchResult {
    /// The hits, best first.
    pub hits: Vec<IndexHit>,
    /// How many documents matched in all.
    pub total: usize,
    snippets: Option<SnippetGenerator>,
}

impl SearchResult {
    /// A snippet of `text` around the query's terms (the start of the text without a query).
    pub fn snippet(&self, text: &str, max_chars: usize) -> String {
        if let Some(gen) = &self.snippets {
            let snippet = gen.snippet(text);
            if !snippet.fragment().is_empty() {
                return snippet
                    .fragment()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
            }
        }
        let cut: String = text.chars().take(max_chars).collect();
        cut.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

pub(super) enum SearchError {
    Query(String, String),
    Tantivy(tantivy::TantivyError),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Tantivy(e)
    }
}

fn f64_range(field: tantivy::schema::Field, min: Option<f64>, max: Option<f64>) -> RangeQuery {
    let bound = |v: Option<f64>| match v {
        Some(v) => Bound::Included(Term::from_field_f64(field, v)),
        None => Bound::Unbounded,
    };
    RangeQuery::new(bound(min), bound(max))
}

pub(super) fn run(index: &PoolIndex, spec: &QuerySpec) -> Result<SearchResult, SearchError> {
    let f = index.fields;
    let searcher: Searcher = index.reader.searcher();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut text_query = None;
    if let Some(q) = spec.text.as_deref().filter(|q| !q.trim().is_empty()) {
        let mut parser = QueryParser::for_index(&index.index, vec![f.text]);
        parser.set_conjunction_by_default();
        let parsed = parser
            .parse_query(q)
            .map_err(|e| SearchError::Query(q.to_string(), e.to_string()))?;
        text_query = Some(parsed.box_clone());
        clauses.push((Occur::Must, parsed));
    }
    if let Some(source) = &spec.source {
        let term = Term::from_field_text(f.source, source);
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        ));
    }
    if let Some(topic) = spec.topic {
        let term = Term::from_field_u64(f.topic, topic);
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
        ));
    }
    // Quality filters and sorts are mean-NLL ranges (q decreases with mean NLL). Sorting by a
    // score implies the score exists: an open range keeps only documents that have it.
    let wants_quality =
        spec.min_quality.is_some() || spec.max_quality.is_some() || spec.sort == SortBy::Quality;
    if wants_quality {
        match spec.mean_nll_bounds {
            Some((lo, hi)) => {
                let lo = lo.or(Some(f64::MIN));
                clauses.push((Occur::Must, Box::new(f64_range(f.mean_nll, lo, hi))));
            }
            None => clauses.push((Occur::Must, Box::new(EmptyQuery))),
        }
    }
    // Diversity filters and sorts are, per topic, novelty ranges (see DiversityFilter).
    if spec.min_diversity.is_some() || spec.sort == SortBy::Diversity {
        let per_topic: Vec<(Occur, Box<dyn Query>)> = spec
            .diversity
            .iter()
            .flat_map(|d| d.min_novelty.iter().enumerate())
            .filter(|(t, _)| spec.topic.is_none_or(|only| only == *t as u64))
            .filter_map(|(t, min)| {
                let min = (*min)?;
                let topic = TermQuery::new(
                    Term::from_field_u64(f.topic, t as u64),
                    IndexRecordOption::Basic,
                );
                let novelty = f64_range(f.novelty, Some(f64::from(min)), None);
                let both: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(topic) as Box<dyn Query>),
                    (Occur::Must, Box::new(novelty)),
                ]));
                Some((Occur::Should, both))
            })
            .collect();
        if per_topic.is_empty() {
            clauses.push((Occur::Must, Box::new(EmptyQuery)));
        } else {
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(per_topic))));
        }
    }
    let query: Box<dyn Query> = if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    };
    let limit = spec.limit.max(1);
    let seq_of = |addr: DocAddress| -> Result<u64, SearchError> {
        let col = searcher
            .segment_reader(addr.segment_ord)
            .fast_fields()
            .u64(names::SEQ)?;
        col.first(addr.doc_id).ok_or_else(|| {
            SearchError::Tantivy(tantivy::TantivyError::InternalError(
                "document without seq".into(),
            ))
        })
    };
    let mut hits = Vec::new();
    let total;
    match spec.sort {
        SortBy::Relevance => {
            let (top, count) = searcher.search(&query, &(TopDocs::with_limit(limit), Count))?;
            total = count;
            for (score, addr) in top {
                hits.push(IndexHit {
                    seq: seq_of(addr)?,
                    relevance: text_query.as_ref().map(|_| score),
                });
            }
        }
        SortBy::Diversity => {
            let ranks = spec
                .diversity
                .as_ref()
                .map(|d| d.topic_rank.clone())
                .unwrap_or_default();
            let collector =
                TopDocs::with_limit(limit).custom_score(move |segment: &tantivy::SegmentReader| {
                    let ff = segment.fast_fields();
                    let topic = ff.u64(names::TOPIC).ok();
                    let novelty = ff.f64(names::NOVELTY).ok();
                    let ranks = ranks.clone();
                    move |doc: tantivy::DocId| -> f64 {
                        let t = topic.as_ref().and_then(|c| c.first(doc));
                        let n = novelty.as_ref().and_then(|c| c.first(doc));
                        match (t.and_then(|t| ranks.get(t as usize)), n) {
                            // The product as topics::DiversityScale computes it (novelty is an
                            // f32 stored as f64, so this is the same number).
                            (Some(r), Some(n)) => r * n,
                            _ => f64::NEG_INFINITY,
                        }
                    }
                });
            let (top, count) = searcher.search(&query, &(collector, Count))?;
            total = count;
            for (_, addr) in top {
                hits.push(IndexHit {
                    seq: seq_of(addr)?,
                    relevance: None,
                });
            }
        }
        SortBy::Quality => {
            // Best quality is lowest mean NLL.
            let collector =
                TopDocs::with_limit(limit).order_by_fast_field::<f64>(names::MEAN_NLL, Order::Asc);
            let (top, count) = searcher.search(&query, &(collector, Count))?;
            total = count;
            for (_, addr) in top {
                hits.push(IndexHit {
                    seq: seq_of(addr)?,
                    relevance: None,
                });
            }
        }
    }
    let snippets = match &text_query {
        Some(q) => {
            let mut gen = SnippetGenerator::create(&searcher, q.as_ref(), f.text)?;
            gen.set_max_num_chars(200);
            Some(gen)
        }
        None => None,
    };
    Ok(SearchResult {
        hits,
        total,
        snippets,
    })
}
