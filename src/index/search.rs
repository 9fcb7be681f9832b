//! Searches over the pool index: a tantivy query string over the text plus filters on source,
//! topic and scores, sorted by relevance or by a score.

use std::ops::Bound;

use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Order, Searcher, Term};

use super::{names, Fields, PoolIndex};

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
    /// How many hits to return (at most the number of documents; 0 returns none, and
    /// [`SearchResult::total`] still counts the matches).
    pub limit: usize,
}

impl QuerySpec {
    /// The bounds given by the user (quality and diversity) are within 0 to 1; the error names
    /// the option (`--min-quality 1.5 is outside 0 to 1`).
    pub fn check_bounds(&self) -> crate::error::Result<()> {
        for (name, v) in [
            ("--min-quality", self.min_quality),
            ("--max-quality", self.max_quality),
            ("--min-diversity", self.min_diversity),
        ] {
            if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
                return Err(crate::error::Error::Invalid(format!(
                    "{name} {v} is outside 0 to 1"
                )));
            }
        }
        Ok(())
    }
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

/// Longest query text accepted, in bytes (`query` refuses longer ones with exit 1).
pub const MAX_QUERY_BYTES: usize = 2048;

/// Deepest nesting of parentheses accepted in a query text. tantivy 0.25's query grammar parses
/// what each level of parentheses holds twice (fixed in tantivy 0.27), so its time doubles per
/// level (2.6 s for `((...the...))` 22 deep) and grows with the length: with this cap and
/// [`MAX_QUERY_BYTES`] the worst shapes found take about 50 to 70 ms (BENCHMARKS.md, "Query
/// parse time at the caps").
pub const MAX_QUERY_DEPTH: usize = 6;

/// The most characters of a refused query an error message repeats.
const SHOWN_QUERY_CHARS: usize = 80;

#[derive(Debug)]
pub(super) enum SearchError {
    Query(String, String),
    Tantivy(tantivy::TantivyError),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Tantivy(e)
    }
}

/// Checks a query text against [`MAX_QUERY_BYTES`] and [`MAX_QUERY_DEPTH`] before any parser
/// sees it; the reason when it breaks one. Every `(` counts, inside a "phrase" too (the parser
/// drops parentheses from phrases anyway), and a `)` closes at most one open `(`.
pub fn check_query_limits(q: &str) -> Result<(), String> {
    if q.len() > MAX_QUERY_BYTES {
        return Err(format!(
            "the query is {} bytes long; the limit is {MAX_QUERY_BYTES} bytes",
            q.len()
        ));
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for b in q.bytes() {
        match b {
            b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_QUERY_DEPTH {
        return Err(format!(
            "parentheses nested {deepest} deep; the limit is {MAX_QUERY_DEPTH} levels"
        ));
    }
    Ok(())
}

/// A query as error messages repeat it: its first [`SHOWN_QUERY_CHARS`] characters.
fn shown(q: &str) -> String {
    match q.char_indices().nth(SHOWN_QUERY_CHARS) {
        Some((cut, _)) => format!("{}...", &q[..cut]),
        None => q.to_string(),
    }
}

/// Step 1: the query text as a tantivy query over the text field (all words must match);
/// `None` without a text or for a blank one.
fn parse_text(
    index: &tantivy::Index,
    text_field: tantivy::schema::Field,
    text: Option<&str>,
) -> Result<Option<Box<dyn Query>>, SearchError> {
    let Some(q) = text.filter(|q| !q.trim().is_empty()) else {
        return Ok(None);
    };
    check_query_limits(q).map_err(|reason| SearchError::Query(shown(q), reason))?;
    let mut parser = QueryParser::for_index(index, vec![text_field]);
    parser.set_conjunction_by_default();
    let parsed = parser
        .parse_query(q)
        .map_err(|e| SearchError::Query(shown(q), e.to_string()))?;
    Ok(Some(parsed))
}

fn f64_range(field: tantivy::schema::Field, min: Option<f64>, max: Option<f64>) -> RangeQuery {
    let bound = |v: Option<f64>| match v {
        Some(v) => Bound::Included(Term::from_field_f64(field, v)),
        None => Bound::Unbounded,
    };
    RangeQuery::new(bound(min), bound(max))
}

fn term_clause(term: Term) -> (Occur, Box<dyn Query>) {
    (
        Occur::Must,
        Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
    )
}

/// Step 2a: the quality filter or sort as a mean-NLL range (q decreases with mean NLL), when
/// asked for. Sorting by a score implies the score exists: an open range keeps only documents
/// that have it; without scores in the pool it matches nothing.
fn quality_clause(f: &Fields, spec: &QuerySpec) -> Option<(Occur, Box<dyn Query>)> {
    let wanted =
        spec.min_quality.is_some() || spec.max_quality.is_some() || spec.sort == SortBy::Quality;
    if !wanted {
        return None;
    }
    Some(match spec.mean_nll_bounds {
        Some((lo, hi)) => {
            let lo = lo.or(Some(f64::MIN));
            (Occur::Must, Box::new(f64_range(f.mean_nll, lo, hi)))
        }
        None => (Occur::Must, Box::new(EmptyQuery)),
    })
}

/// Step 2b: the diversity filter or sort as, per topic, a novelty range (see
/// [`DiversityFilter`]), when asked for; without a diversity scale it matches nothing.
fn diversity_clause(f: &Fields, spec: &QuerySpec) -> Option<(Occur, Box<dyn Query>)> {
    if spec.min_diversity.is_none() && spec.sort != SortBy::Diversity {
        return None;
    }
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
    Some(if per_topic.is_empty() {
        (Occur::Must, Box::new(EmptyQuery))
    } else {
        (Occur::Must, Box::new(BooleanQuery::new(per_topic)))
    })
}

/// Step 2: the whole query: the parsed text and every filter of `spec`, all of which must
/// match; every document when there is none.
fn build_query(f: &Fields, spec: &QuerySpec, text: Option<&dyn Query>) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(q) = text {
        clauses.push((Occur::Must, q.box_clone()));
    }
    if let Some(source) = &spec.source {
        clauses.push(term_clause(Term::from_field_text(f.source, source)));
    }
    if let Some(topic) = spec.topic {
        clauses.push(term_clause(Term::from_field_u64(f.topic, topic)));
    }
    clauses.extend(quality_clause(f, spec));
    clauses.extend(diversity_clause(f, spec));
    if clauses.is_empty() {
        Box::new(AllQuery)
    } else {
        Box::new(BooleanQuery::new(clauses))
    }
}

/// Step 3: how many hits to collect: the limit asked for, but never more than the index holds
/// (collectors allocate their limit up front). 0 collects none (only the total is counted).
fn clamp_limit(limit: usize, num_docs: u64) -> usize {
    limit.min(usize::try_from(num_docs).unwrap_or(usize::MAX))
}

/// The store sequence number of an index document.
fn seq_of(searcher: &Searcher, addr: DocAddress) -> Result<u64, SearchError> {
    let col = searcher
        .segment_reader(addr.segment_ord)
        .fast_fields()
        .u64(names::SEQ)?;
    col.first(addr.doc_id).ok_or_else(|| {
        SearchError::Tantivy(tantivy::TantivyError::InternalError(
            "document without seq".into(),
        ))
    })
}

/// Orders documents by `topic_rank[topic] * novelty`, the product d(x) ranks (documents without
/// both come last).
fn diversity_collector(
    limit: usize,
    ranks: Vec<f64>,
) -> impl Collector<Fruit = Vec<(f64, DocAddress)>> {
    TopDocs::with_limit(limit).custom_score(move |segment: &tantivy::SegmentReader| {
        let ff = segment.fast_fields();
        let topic = ff.u64(names::TOPIC).ok();
        let novelty = ff.f64(names::NOVELTY).ok();
        let ranks = ranks.clone();
        move |doc: tantivy::DocId| -> f64 {
            let t = topic.as_ref().and_then(|c| c.first(doc));
            let n = novelty.as_ref().and_then(|c| c.first(doc));
            match (t.and_then(|t| ranks.get(t as usize)), n) {
                // The product as topics::DiversityScale computes it (novelty is an f32 stored
                // as f64, so this is the same number).
                (Some(r), Some(n)) => r * n,
                _ => f64::NEG_INFINITY,
            }
        }
    })
}

/// Step 4: the best `limit` documents in the order of `spec.sort` (their BM25 score when sorted
/// by relevance to a text), and how many matched in all.
fn top_hits(
    searcher: &Searcher,
    query: &dyn Query,
    spec: &QuerySpec,
    limit: usize,
    has_text: bool,
) -> Result<(Vec<IndexHit>, usize), SearchError> {
    if limit == 0 {
        return Ok((Vec::new(), searcher.search(query, &Count)?));
    }
    let (top, total): (Vec<(Option<f32>, DocAddress)>, usize) = match spec.sort {
        SortBy::Relevance => {
            let (top, n) = searcher.search(query, &(TopDocs::with_limit(limit), Count))?;
            let relevance = |score: f32| has_text.then_some(score);
            (top.into_iter().map(|(s, a)| (relevance(s), a)).collect(), n)
        }
        SortBy::Diversity => {
            let ranks = spec
                .diversity
                .as_ref()
                .map(|d| d.topic_rank.clone())
                .unwrap_or_default();
            let collector = diversity_collector(limit, ranks);
            let (top, n) = searcher.search(query, &(collector, Count))?;
            (top.into_iter().map(|(_, a)| (None, a)).collect(), n)
        }
        SortBy::Quality => {
            // Best quality is lowest mean NLL.
            let collector =
                TopDocs::with_limit(limit).order_by_fast_field::<f64>(names::MEAN_NLL, Order::Asc);
            let (top, n) = searcher.search(query, &(collector, Count))?;
            (top.into_iter().map(|(_, a)| (None, a)).collect(), n)
        }
    };
    let hits = top
        .into_iter()
        .map(|(relevance, addr)| {
            Ok(IndexHit {
                seq: seq_of(searcher, addr)?,
                relevance,
            })
        })
        .collect::<Result<Vec<_>, SearchError>>()?;
    Ok((hits, total))
}

/// Step 5: what highlights the text query's terms in a hit's text.
fn snippet_generator(
    searcher: &Searcher,
    text: Option<&dyn Query>,
    text_field: tantivy::schema::Field,
) -> Result<Option<SnippetGenerator>, SearchError> {
    let Some(q) = text else {
        return Ok(None);
    };
    let mut gen = SnippetGenerator::create(searcher, q, text_field)?;
    gen.set_max_num_chars(200);
    Ok(Some(gen))
}

/// Runs a search: parse the text, add the filters, collect the best hits in the asked order,
/// prepare the snippets.
pub(super) fn run(index: &PoolIndex, spec: &QuerySpec) -> Result<SearchResult, SearchError> {
    let f = index.fields;
    let searcher: Searcher = index.reader.searcher();
    let text_query = parse_text(&index.index, f.text, spec.text.as_deref())?;
    let query = build_query(&f, spec, text_query.as_deref());
    let limit = clamp_limit(spec.limit, searcher.num_docs());
    let (hits, total) = top_hits(&searcher, query.as_ref(), spec, limit, text_query.is_some())?;
    let snippets = snippet_generator(&searcher, text_query.as_deref(), f.text)?;
    Ok(SearchResult {
        hits,
        total,
        snippets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{IndexEntry, IndexScores};

    /// An index of three documents: seq 0 (web, scored, topic 0, novelty 0.5), seq 1 (wiki,
    /// scored, topic 1, novelty 0.9), seq 2 (web, nothing computed).
    fn three_docs() -> (tempfile::TempDir, PoolIndex) {
        let dir = tempfile::tempdir().unwrap();
        let mut index = PoolIndex::open_writer(dir.path()).unwrap();
        let docs = [
            (
                0,
                "the river flows past the harbor",
                "web",
                Some((2.0, 0, 0.5)),
            ),
            (
                1,
                "a theorem about the river delta",
                "wiki",
                Some((3.0, 1, 0.9)),
            ),
            (2, "compiler kernel ledger", "web", None),
        ];
        for (seq, text, source, scores) in docs {
            let scores = scores.map_or(IndexScores::default(), |(nll, topic, novelty)| {
                IndexScores {
                    topic: Some(topic),
                    mean_nll: Some(nll),
                    novelty: Some(novelty),
                }
            });
            index
                .add(&IndexEntry {
                    seq,
                    text,
                    source,
                    tokens: 5,
                    scores,
                })
                .unwrap();
        }
        index.commit(3).unwrap();
        (dir, index)
    }

    fn count(index: &PoolIndex, spec: &QuerySpec) -> usize {
        let query = build_query(&index.fields, spec, None);
        index
            .reader
            .searcher()
            .search(query.as_ref(), &Count)
            .unwrap()
    }

    fn query_error(r: Result<Option<Box<dyn Query>>, SearchError>) -> (String, String) {
        match r {
            Err(SearchError::Query(q, reason)) => (q, reason),
            Err(SearchError::Tantivy(e)) => panic!("tantivy error {e}"),
            Ok(_) => panic!("the query was accepted"),
        }
    }

    #[test]
    fn limits_count_nesting_and_bytes() {
        assert!(check_query_limits("a (b OR (c -d))").is_ok());
        let at_cap = format!("{}the{}", "(".repeat(6), ")".repeat(6));
        assert!(check_query_limits(&at_cap).is_ok());
        let deep = format!("{}the{}", "(".repeat(7), ")".repeat(7));
        let reason = check_query_limits(&deep).unwrap_err();
        assert!(
            reason.contains("nested 7 deep; the limit is 6 levels"),
            "{reason}"
        );
        // Unclosed groups nest as deep; surplus closers do not pay for later openers.
        assert!(check_query_limits(&"(".repeat(7)).is_err());
        assert!(check_query_limits(&format!("{}{}", ")".repeat(5), "(".repeat(7))).is_err());
        assert!(check_query_limits("(a) (b) (c) (d) (e) (f) (g) (h) (i) (j) (k) (l)").is_ok());
        let long = "a ".repeat(MAX_QUERY_BYTES / 2) + "b";
        let reason = check_query_limits(&long).unwrap_err();
        assert!(reason.contains("the limit is 2048 bytes"), "{reason}");
        assert!(check_query_limits(&long[..MAX_QUERY_BYTES]).is_ok());
    }

    #[test]
    fn errors_repeat_only_the_start_of_a_long_query() {
        assert_eq!(shown("short"), "short");
        let long = "é".repeat(200);
        assert_eq!(shown(&long), format!("{}...", "é".repeat(80)));
    }

    #[test]
    fn parse_text_step() {
        let (_dir, index) = three_docs();
        let f = index.fields;
        assert!(parse_text(&index.index, f.text, None).unwrap().is_none());
        assert!(parse_text(&index.index, f.text, Some(" \t"))
            .ok()
            .flatten()
            .is_none());
        assert!(parse_text(&index.index, f.text, Some("river -delta"))
            .ok()
            .flatten()
            .is_some());
        let (q, _) = query_error(parse_text(&index.index, f.text, Some("text:(")));
        assert_eq!(q, "text:(");
        let deep = format!("{}the{}", "(".repeat(30), ")".repeat(30));
        let (q, reason) = query_error(parse_text(&index.index, f.text, Some(&deep)));
        assert_eq!(q, deep);
        assert!(reason.contains("the limit is 6 levels"), "{reason}");
    }

    #[test]
    fn build_query_step_applies_every_filter() {
        let (_dir, index) = three_docs();
        let spec = |f: &dyn Fn(&mut QuerySpec)| {
            let mut s = QuerySpec::default();
            f(&mut s);
            s
        };
        assert_eq!(count(&index, &QuerySpec::default()), 3);
        assert_eq!(count(&index, &spec(&|s| s.source = Some("web".into()))), 2);
        assert_eq!(count(&index, &spec(&|s| s.topic = Some(1))), 1);
        // Quality: a mean-NLL range; no scale yet matches nothing; sorting needs a score.
        let q = spec(&|s| {
            s.min_quality = Some(0.5);
            s.mean_nll_bounds = Some((None, Some(2.5)));
        });
        assert_eq!(count(&index, &q), 1);
        assert_eq!(count(&index, &spec(&|s| s.min_quality = Some(0.5))), 0);
        let sorted = spec(&|s| {
            s.sort = SortBy::Quality;
            s.mean_nll_bounds = Some((None, None));
        });
        assert_eq!(count(&index, &sorted), 2);
        // Diversity: per-topic novelty bounds.
        let d = spec(&|s| {
            s.min_diversity = Some(0.5);
            s.diversity = Some(DiversityFilter {
                topic_rank: vec![1.0, 1.0],
                min_novelty: vec![Some(0.6), Some(0.6)],
            });
        });
        assert_eq!(count(&index, &d), 1);
        assert_eq!(count(&index, &spec(&|s| s.sort = SortBy::Diversity)), 0);
        assert!(quality_clause(&index.fields, &QuerySpec::default()).is_none());
        assert!(diversity_clause(&index.fields, &QuerySpec::default()).is_none());
    }

    #[test]
    fn clamp_limit_step() {
        assert_eq!(clamp_limit(10, 3), 3);
        assert_eq!(clamp_limit(usize::MAX, 3), 3);
        assert_eq!(clamp_limit(2, 3), 2);
        assert_eq!(clamp_limit(0, 3), 0);
        assert_eq!(clamp_limit(5, u64::MAX), 5);
    }

    #[test]
    fn top_hits_step_orders_and_counts() {
        let (_dir, index) = three_docs();
        let searcher = index.reader.searcher();
        let all = QuerySpec::default();
        let (hits, total) = top_hits(&searcher, &AllQuery, &all, 0, false).unwrap();
        assert!(hits.is_empty());
        assert_eq!(total, 3);
        let text = parse_text(&index.index, index.fields.text, Some("river"))
            .ok()
            .flatten()
            .unwrap();
        let (hits, total) = top_hits(&searcher, text.as_ref(), &all, 3, true).unwrap();
        assert_eq!(total, 2);
        assert!(hits.iter().all(|h| h.relevance.is_some()));
        let by_quality = QuerySpec {
            sort: SortBy::Quality,
            ..QuerySpec::default()
        };
        let (hits, _) = top_hits(&searcher, &AllQuery, &by_quality, 2, false).unwrap();
        assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [0, 1]);
        let by_diversity = QuerySpec {
            sort: SortBy::Diversity,
            diversity: Some(DiversityFilter {
                topic_rank: vec![1.0, 1.0],
                min_novelty: vec![Some(0.0), Some(0.0)],
            }),
            ..QuerySpec::default()
        };
        let (hits, _) = top_hits(&searcher, &AllQuery, &by_diversity, 2, false).unwrap();
        assert_eq!(hits.iter().map(|h| h.seq).collect::<Vec<_>>(), [1, 0]);
        assert!(hits.iter().all(|h| h.relevance.is_none()));
    }

    #[test]
    fn snippet_step() {
        let (_dir, index) = three_docs();
        let searcher = index.reader.searcher();
        assert!(snippet_generator(&searcher, None, index.fields.text)
            .ok()
            .flatten()
            .is_none());
        let text = parse_text(&index.index, index.fields.text, Some("harbor"))
            .ok()
            .flatten()
            .unwrap();
        let gen = snippet_generator(&searcher, Some(text.as_ref()), index.fields.text)
            .ok()
            .flatten()
            .unwrap();
        let snippet = gen.snippet("the river flows past the harbor");
        assert!(snippet.fragment().contains("harbor"));
    }

    #[test]
    fn run_clamps_huge_limits_and_zero_returns_none() {
        let (_dir, index) = three_docs();
        for limit in [usize::MAX, 1_000_000_000_000] {
            let spec = QuerySpec {
                limit,
                ..QuerySpec::default()
            };
            let r = run(&index, &spec).ok().unwrap();
            assert_eq!((r.hits.len(), r.total), (3, 3));
        }
        let r = run(&index, &QuerySpec::default()).ok().unwrap();
        assert_eq!((r.hits.len(), r.total), (0, 3));
    }
}
