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
    /// Result order.
    pub sort: SortBy,
    /// How many hits to return.
    pub limit: usize,
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
    if spec.min_diversity.is_some() || spec.sort == SortBy::Diversity {
        let min = spec.min_diversity.or(Some(f64::MIN));
        clauses.push((Occur::Must, Box::new(f64_range(f.diversity, min, None))));
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
        SortBy::Quality | SortBy::Diversity => {
            // Best quality is lowest mean NLL.
            let (field, order) = if spec.sort == SortBy::Quality {
                (names::MEAN_NLL, Order::Asc)
            } else {
                (names::DIVERSITY, Order::Desc)
            };
            let collector = TopDocs::with_limit(limit).order_by_fast_field::<f64>(field, order);
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
