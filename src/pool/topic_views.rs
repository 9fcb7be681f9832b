//! The read side of the diversity stage: the stored topic state and model, the topic state for
//! `stats`, the topic list of
//! `topics --show`, near-duplicate groups, one sample's diversity for `get`, and the consistency
//! checks `Pool::verify` runs.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::scale::{DiversityScale, SampleDiversity};
use crate::algo::diversity::{
    bucket_keys, grouping_threshold, RefitReason, Signature, DEFAULT_NEAR_DUPLICATE_THRESHOLD,
};
use crate::algo::grouping;
use crate::error::Result;
use crate::pool::Pool;
use crate::store::{
    AssignmentRecord, EmbeddingSource, MinHashRecord, OverlapRecord, SampleRow, Store, Table,
    TopicEmbedding, TopicModel, TopicRecord, TopicState, TOPICS_KEY, TOPIC_EMBEDDING_KEY,
    TOPIC_MODEL_KEY, TOPIC_REFIT_KEY,
};

/// The topic state of the pool, if `topics` ever ran.
pub fn state(store: &Store) -> Result<Option<TopicState>> {
    store.meta::<TopicState>(TOPICS_KEY)
}

/// The current topic model, if one was fitted.
pub fn model(store: &Store) -> Result<Option<TopicModel>> {
    store.meta::<TopicModel>(TOPIC_MODEL_KEY)
}

/// The drift rule's advice, in words.
pub fn advice_text(r: &RefitReason) -> String {
    match r {
        RefitReason::Growth { fitted, joined } => format!(
            "grown: {joined} samples joined since the fit on {fitted} (a refit is due at half)"
        ),
        RefitReason::Distance {
            fitted_mean,
            joined_mean,
        } => format!(
            "drifted: joined samples lie {joined_mean:.3} from their centroids on average, \
             fitted ones {fitted_mean:.3} (a refit is due above 1.25 times)"
        ),
    }
}

/// The topic state of the pool, for `stats` and the report of `topics`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct TopicsSummary {
    /// Topics of the current model (0 before the first fit).
    pub k: usize,
    /// Fits so far (the current model's generation).
    pub generation: u64,
    /// Why the current model was fitted.
    pub fit_reason: Option<String>,
    /// Samples the current model was fitted on.
    pub fitted_on: u64,
    /// Samples that joined its topics since.
    pub joined_since: u64,
    /// Samples without a topic yet (run `topics`).
    pub without_topic: u64,
    /// Samples without a novelty yet.
    pub without_novelty: u64,
    /// The drift rule's advice, when it advises a refit.
    pub refit_advice: Option<String>,
    /// Whether a refit was interrupted (the next `topics` run finishes it).
    pub refit_in_progress: bool,
    /// How samples are embedded.
    pub embedding: String,
}

impl std::fmt::Display for TopicsSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.generation == 0 {
            write!(f, "no topic model yet")?;
        } else {
            write!(
                f,
                "{} topics, fit {} on {} samples ({}), {} joined since",
                self.k,
                self.generation,
                self.fitted_on,
                self.fit_reason.as_deref().unwrap_or("-"),
                self.joined_since
            )?;
        }
        if self.without_topic > 0 {
            write!(f, "; {} samples without a topic", self.without_topic)?;
        }
        if self.refit_in_progress {
            write!(f, "; a refit was interrupted (run topics)")?;
        }
        match &self.refit_advice {
            Some(a) => write!(f, "; refit advised: {a}"),
            None if self.generation > 0 => write!(f, "; no refit advised"),
            None => Ok(()),
        }
    }
}

/// The topic state; `None` before `topics` first ran.
pub fn summary(store: &Store) -> Result<Option<TopicsSummary>> {
    let Some(st) = state(store)? else {
        return Ok(None);
    };
    let samples = store.counters()?.docs;
    let m = model(store)?;
    let with_topic = m
        .as_ref()
        .map_or(0, |m| m.model.fitted() + m.model.joined());
    let e = &st.settings.embedder;
    Ok(Some(TopicsSummary {
        k: m.as_ref().map_or(0, |m| m.model.k()),
        generation: st.generation,
        fit_reason: m.as_ref().map(|m| m.reason.clone()),
        fitted_on: m.as_ref().map_or(0, |m| m.model.fitted()),
        joined_since: m.as_ref().map_or(0, |m| m.model.joined()),
        without_topic: samples.saturating_sub(with_topic),
        without_novelty: store.counters()?.next_seq.saturating_sub(st.overlap_next),
        refit_advice: m
            .as_ref()
            .and_then(|m| m.model.refit_advice())
            .map(|r| advice_text(&r)),
        refit_in_progress: st.refit_next.is_some(),
        embedding: match store.meta::<TopicEmbedding>(TOPIC_EMBEDDING_KEY)? {
            Some(t) if t.source == EmbeddingSource::Model => format!(
                "the reference model's mean hidden states, {} dimensions scaled to unit length, \
                 stored as binary16 (scorer fingerprint {})",
                t.dim, t.scorer_fingerprint
            ),
            _ => format!(
                "hashed words and punctuation, {} dimensions, stored as binary16",
                e.dim()
            ),
        },
    }))
}

/// One source's part of a topic.
#[derive(Clone, Debug, Serialize)]
pub struct SourceShareView {
    /// Source name.
    pub source: String,
    /// Samples of the topic from it.
    pub samples: u64,
    /// Their tokens.
    pub tokens: u64,
    /// Share of the topic's samples.
    pub share: f64,
}

/// One topic of `topics --show`.
#[derive(Clone, Debug, Serialize)]
pub struct TopicView {
    /// Topic id (`query --topic`).
    pub topic: u32,
    /// Samples.
    pub size: u64,
    /// Tokens.
    pub tokens: u64,
    /// Share of the pool's tokens.
    pub token_share: f64,
    /// Mean distance of the members to the centroid.
    pub compactness: f64,
    /// Mean distance to the other topics' centroids.
    pub separation: f64,
    /// Cluster score.
    pub score: f64,
    /// Cluster rank of its members.
    pub cluster_rank: f64,
    /// Per source, most samples first.
    pub sources: Vec<SourceShareView>,
    /// Characteristic terms, best first.
    pub terms: Vec<String>,
    /// A readable name: its first [`NAME_TERMS`] terms ([`topic_name`]).
    pub name: String,
    /// Ids of the members nearest to the centroid (at most 3).
    pub examples: Vec<String>,
}

/// Terms in a topic's name.
pub const NAME_TERMS: usize = 3;

/// A topic's readable name: its first [`NAME_TERMS`] characteristic terms (the words whose
/// share among its representatives most exceeds their share of the pool), joined by spaces;
/// `topic N` when it has none.
pub fn topic_name(topic: u32, record: &TopicRecord) -> String {
    if record.terms.is_empty() {
        return format!("topic {topic}");
    }
    record
        .terms
        .iter()
        .take(NAME_TERMS)
        .map(|t| t.term.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every stored topic's name ([`topic_name`]), by id.
pub fn topic_names(store: &Store) -> Result<HashMap<u32, String>> {
    Ok(store
        .topic_records()?
        .into_iter()
        .map(|(topic, r)| (topic, topic_name(topic, &r)))
        .collect())
}

/// Every topic, by id.
pub fn show(store: &Store) -> Result<Vec<TopicView>> {
    let names: HashMap<u32, String> = store
        .sources()?
        .into_iter()
        .map(|(name, info)| (info.id, name))
        .collect();
    let records = store.topic_records()?;
    let pool_tokens: u64 = records.iter().map(|(_, r)| r.tokens).sum();
    let mut out = Vec::with_capacity(records.len());
    for (topic, r) in records {
        let examples: Vec<u64> = r.representatives.iter().take(3).copied().collect();
        let examples = store
            .docs(&examples)?
            .into_iter()
            .flatten()
            .map(|d| d.id)
            .collect();
        out.push(TopicView {
            topic,
            size: r.size,
            tokens: r.tokens,
            token_share: r.tokens as f64 / pool_tokens.max(1) as f64,
            compactness: r.compactness,
            separation: r.separation,
            score: r.score,
            cluster_rank: r.cluster_rank,
            sources: r
                .sources
                .iter()
                .map(|s| SourceShareView {
                    source: names
                        .get(&s.source_id)
                        .cloned()
                        .unwrap_or_else(|| format!("#{}", s.source_id)),
                    samples: s.samples,
                    tokens: s.tokens,
                    share: s.samples as f64 / r.size.max(1) as f64,
                })
                .collect(),
            terms: r.terms.iter().map(|t| t.term.clone()).collect(),
            name: topic_name(topic, &r),
            examples,
        });
    }
    Ok(out)
}

/// A member of a near-duplicate group.
#[derive(Clone, Debug, Serialize)]
pub struct DuplicateMember {
    /// Sample id.
    pub id: String,
    /// Source.
    pub source: String,
    /// Its novelty.
    pub novelty: f64,
}

/// Samples linked by estimated Jaccard similarity at or above the grouping cut.
#[derive(Clone, Debug, Serialize)]
pub struct DuplicateGroup {
    /// Its members, in sequence order.
    pub members: Vec<DuplicateMember>,
}

/// The near-duplicate groups of the pool: connected components of the pairs whose estimated
/// Jaccard similarity is at least [`grouping_threshold`]`(0.8, K)` (0.729 for K = 128), which
/// finds about 97% of the pairs at a true similarity of exactly 0.8 and nearly all above. Returns
/// the cut and the groups, largest first.
pub fn near_duplicate_groups(store: &Store) -> Result<(f32, Vec<DuplicateGroup>)> {
    let Some(st) = state(store)? else {
        return Ok((0.0, Vec::new()));
    };
    let cut = grouping_threshold(
        DEFAULT_NEAR_DUPLICATE_THRESHOLD,
        st.settings.num_perm as usize,
    );
    // A sample in a pair at >= cut has an overlap >= cut: only those can be grouped.
    let mut close: BTreeMap<u64, f32> = BTreeMap::new();
    for item in store.all_overlaps() {
        let (seq, o) = item?;
        if o.jaccard >= cut {
            close.insert(seq, o.jaccard);
        }
    }
    let seqs: Vec<u64> = close.keys().copied().collect();
    let sigs: HashMap<u64, Signature> = seqs
        .iter()
        .zip(store.minhashes(&seqs)?)
        .filter_map(|(&s, m)| m.map(|m| (s, Signature::from_values(m.values))))
        .collect();
    // Only samples with a stored signature can be linked: the others get an empty one and no
    // bucket. Two close samples share a bucket exactly when table lsh lists both under it.
    let (signatures, keys): (Vec<Signature>, Vec<Vec<u64>>) = seqs
        .iter()
        .map(|x| match sigs.get(x) {
            Some(sig) => (
                sig.clone(),
                bucket_keys(sig, &st.settings.lsh).unwrap_or_default(),
            ),
            None => (Signature::from_values(Vec::new()), Vec::new()),
        })
        .unzip();
    let mut out = Vec::new();
    for group in grouping::near_duplicate_groups(&signatures, &keys, cut) {
        let members: Vec<u64> = group.iter().map(|&i| seqs[i]).collect();
        let docs = store.docs(&members)?;
        out.push(DuplicateGroup {
            members: members
                .iter()
                .zip(docs)
                .filter_map(|(s, d)| {
                    d.map(|d| DuplicateMember {
                        id: d.id,
                        source: d.source,
                        novelty: 1.0 - f64::from(close[s]),
                    })
                })
                .collect(),
        });
    }
    out.sort_by_key(|g| std::cmp::Reverse(g.members.len()));
    Ok((cut, out))
}

/// A sample's diversity and its parts; `None` before `topics` reached it.
pub fn sample_diversity(
    store: &Store,
    seq: u64,
    row: Option<&SampleRow>,
) -> Result<Option<SampleDiversity>> {
    let Some(row) = row else { return Ok(None) };
    if row.topic.is_none() && row.novelty.is_none() {
        return Ok(None);
    }
    let scale = DiversityScale::load(store)?;
    let parts = match (row.topic, row.novelty, &scale) {
        (Some(t), Some(n), Some(s)) => s.parts(t, n),
        _ => None,
    };
    let overlap = store.overlap(seq)?;
    let nearest = match overlap.and_then(|o| o.nearest) {
        Some(s) => store.doc(s)?.map(|d| d.id),
        None => None,
    };
    let assignment = store
        .assignment(seq)?
        .filter(|a| Some(a.topic) == row.topic);
    Ok(Some(SampleDiversity {
        topic: row.topic,
        topic_distance: assignment.map(|a| a.distance),
        cluster_score: parts.map(|p| p.cluster_score),
        cluster_rank: parts.map(|p| p.cluster_rank),
        novelty: row.novelty.map(f64::from),
        nearest,
        nearest_jaccard: overlap
            .filter(|o| o.nearest.is_some())
            .map(|o| f64::from(o.jaccard)),
        d: parts.map(|p| p.d),
    }))
}

/// Checks that the diversity tables agree with each other, with the sample rows and with the
/// index (as `Pool::verify` reports them: one line per problem, none for a sound pool).
pub fn verify(pool: &Pool) -> Result<Vec<String>> {
    let store = &pool.store;
    let next_seq = pool.counters().next_seq;
    let Some(st) = state(store)? else {
        return untouched_tables(store);
    };
    let current = store.meta::<TopicModel>(TOPIC_MODEL_KEY)?;
    let pending = store.meta::<TopicModel>(TOPIC_REFIT_KEY)?;
    let mut checker = Checker {
        problems: state_problems(&st, next_seq, current.as_ref(), pending.as_ref()),
        num_perm: st.settings.minhasher()?.num_perm(),
        st: &st,
        pending_generation: pending.as_ref().map(|p| p.generation),
        next_seq,
        counts: vec![0; current.as_ref().map_or(0, |m| m.model.k())],
        expected_lsh: 0,
    };
    let marks: HashSet<u64> = store.reindex_marks()?.into_iter().collect();
    let mut rows: HashMap<u64, SampleRow> = HashMap::new();
    let all: Vec<u64> = (0..next_seq).collect();
    for chunk in all.chunks(4096) {
        let sample_rows = store.sample_rows_of(chunk)?;
        let mins = store.minhashes(chunk)?;
        let overlaps = store.overlaps(chunk)?;
        let embeddings = store.embeddings(chunk)?;
        let assignments = store.assignments(chunk)?;
        for (i, &seq) in chunk.iter().enumerate() {
            let Some(row) = sample_rows[i] else { continue };
            rows.insert(seq, row);
            checker.sample(
                seq,
                &row,
                mins[i].as_ref(),
                overlaps[i],
                embeddings[i].is_some(),
                assignments[i],
            );
        }
    }
    let Checker {
        mut problems,
        counts,
        expected_lsh,
        ..
    } = checker;
    let lsh = store.count_keys(Table::Lsh)?;
    if lsh != expected_lsh {
        problems.push(format!(
            "table lsh holds {lsh} entries, the signatures make {expected_lsh}"
        ));
    }
    if let (Some(m), None) = (&current, st.refit_next) {
        let sizes: Vec<u64> = m.model.stats().iter().map(|s| s.count()).collect();
        if sizes != counts {
            problems.push(format!(
                "topic sizes in the model {sizes:?} differ from the assignments {counts:?}"
            ));
        }
    }
    problems.extend(index_problems(pool, &rows, &marks)?);
    Ok(problems)
}

/// Before `topics` ever ran: every diversity table must be empty.
fn untouched_tables(store: &Store) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for t in [
        Table::Minhash,
        Table::Overlaps,
        Table::Embeddings,
        Table::Assignments,
    ] {
        if store.count_keys(t)? > 0 {
            problems.push(format!(
                "table {} has values but topics never ran",
                t.name()
            ));
        }
    }
    Ok(problems)
}

/// The topic state against the pool and the stored models: watermarks in order, a refit
/// recorded in both places or neither, the current model's generation.
fn state_problems(
    st: &TopicState,
    next_seq: u64,
    current: Option<&TopicModel>,
    pending: Option<&TopicModel>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if st.overlap_next > next_seq || st.topics_next > st.overlap_next {
        problems.push(format!(
            "topics watermarks out of order: topics {} <= overlaps {} <= next_seq {next_seq} \
             does not hold",
            st.topics_next, st.overlap_next
        ));
    }
    if st.refit_next.is_some() != pending.is_some() {
        problems.push("a refit is half recorded: state and model disagree".into());
    }
    if current.map_or(0, |m| m.generation) != st.generation {
        problems.push(format!(
            "the topic model has generation {:?}, the state says {}",
            current.map(|m| m.generation),
            st.generation
        ));
    }
    problems
}

/// Index documents whose topic or novelty differ from their rows without a re-index mark.
fn index_problems(
    pool: &Pool,
    rows: &HashMap<u64, SampleRow>,
    marks: &HashSet<u64>,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    if let Some(index) = pool.index() {
        for (seq, topic, novelty) in index.indexed_diversity()? {
            if marks.contains(&seq) {
                continue;
            }
            let Some(row) = rows.get(&seq) else { continue };
            let want = (row.topic.map(u64::from), row.novelty.map(f64::from));
            if (topic, novelty) != want {
                problems.push(format!(
                    "sample {seq}: index holds topic {topic:?} novelty {novelty:?}, the store \
                     {want:?}, and it is not marked for re-indexing"
                ));
            }
        }
    }
    Ok(problems)
}

/// The per-sample checks of [`verify`], and what they add up.
struct Checker<'a> {
    st: &'a TopicState,
    /// Generation of the refit being written, if any.
    pending_generation: Option<u64>,
    /// Values of a signature under the stored settings.
    num_perm: usize,
    next_seq: u64,
    /// Samples per topic of the current model, from the assignments.
    counts: Vec<u64>,
    /// LSH entries the signatures make.
    expected_lsh: u64,
    problems: Vec<String>,
}

impl Checker<'_> {
    /// One sample's diversity records against its row and the watermarks.
    fn sample(
        &mut self,
        seq: u64,
        row: &SampleRow,
        min: Option<&MinHashRecord>,
        overlap: Option<OverlapRecord>,
        has_embedding: bool,
        assignment: Option<AssignmentRecord>,
    ) {
        let done = seq < self.st.overlap_next;
        let has = [min.is_some(), overlap.is_some(), has_embedding];
        if has.iter().any(|&h| h != done) {
            self.problems.push(format!(
                "sample {seq}: signature/overlap/embedding present {has:?}, the watermark {} \
                 says {done}",
                self.st.overlap_next
            ));
            return;
        }
        if let Some(m) = min {
            self.signature(seq, m);
        }
        self.overlap(seq, overlap, row.novelty);
        self.assignment(seq, row, assignment);
    }

    /// A signature has the stored settings' length; its bucket keys are counted.
    fn signature(&mut self, seq: u64, m: &MinHashRecord) {
        let sig = Signature::from_values(m.values.clone());
        self.expected_lsh += bucket_keys(&sig, &self.st.settings.lsh).map_or(0, |b| b.len() as u64);
        if !sig.is_empty() && sig.len() != self.num_perm {
            self.problems
                .push(format!("sample {seq}: signature of {} values", sig.len()));
        }
    }

    /// The row's novelty is the overlap's, whose nearest sample is another stored one.
    fn overlap(&mut self, seq: u64, overlap: Option<OverlapRecord>, novelty: Option<f32>) {
        match (&overlap, novelty) {
            (Some(o), Some(n)) if o.overlap().novelty() == n => {
                if o.nearest.is_some_and(|s| s >= self.next_seq || s == seq) {
                    self.problems
                        .push(format!("sample {seq}: nearest sample {:?}", o.nearest));
                }
            }
            (None, None) => {}
            (o, n) => self.problems.push(format!(
                "sample {seq}: overlap {o:?} but novelty {n:?} in its row"
            )),
        }
    }

    /// Topics: under the current model below `topics_next`, under the refit being written
    /// below `refit_next`; the row holds the assigned topic, which the model has.
    fn assignment(&mut self, seq: u64, row: &SampleRow, assignment: Option<AssignmentRecord>) {
        let st = self.st;
        let under = match (st.refit_next, self.pending_generation) {
            (Some(r), Some(p)) if seq < r => Some(p),
            _ if seq < st.topics_next => Some(st.generation),
            _ => None,
        };
        match (assignment, under) {
            (Some(a), Some(g)) if a.generation == g => {
                if row.topic != Some(a.topic) {
                    self.problems.push(format!(
                        "sample {seq}: topic {} assigned, its row says {:?}",
                        a.topic, row.topic
                    ));
                }
                if g == st.generation && st.refit_next.is_none() {
                    let k_now = self.counts.len();
                    match self.counts.get_mut(a.topic as usize) {
                        Some(c) => *c += 1,
                        None => self.problems.push(format!(
                            "sample {seq}: topic {} of a model of {k_now}",
                            a.topic
                        )),
                    }
                }
            }
            (None, None) => {}
            (_, None) if seq >= st.overlap_next => {}
            (a, g) => self.problems.push(format!(
                "sample {seq}: assignment {a:?}, expected one of generation {g:?}"
            )),
        }
    }
}

#[cfg(test)]
mod verify_tests {
    use super::*;

    fn state(overlap_next: u64, topics_next: u64) -> TopicState {
        TopicState {
            settings: crate::store::TopicSettings::default(),
            overlap_next,
            topics_next,
            generation: 1,
            refit_next: None,
        }
    }

    fn checker(st: &TopicState, k: usize) -> Checker<'_> {
        Checker {
            st,
            pending_generation: None,
            num_perm: st.settings.num_perm as usize,
            next_seq: 10,
            counts: vec![0; k],
            expected_lsh: 0,
            problems: Vec::new(),
        }
    }

    fn row(topic: Option<u32>, novelty: Option<f32>) -> SampleRow {
        SampleRow {
            topic,
            novelty,
            ..SampleRow::new(5, 0)
        }
    }

    #[test]
    fn state_problems_catch_disordered_watermarks_and_generation_mismatch() {
        assert!(
            state_problems(&state(5, 5), 10, None, None).len() == 1,
            "generation 1, no model"
        );
        assert_eq!(state_problems(&state(11, 5), 10, None, None).len(), 2);
        let st = TopicState {
            generation: 0,
            refit_next: Some(0),
            ..state(5, 5)
        };
        assert_eq!(
            state_problems(&st, 10, None, None),
            vec!["a refit is half recorded: state and model disagree".to_string()]
        );
        let sound = TopicState {
            generation: 0,
            ..state(5, 5)
        };
        assert!(state_problems(&sound, 10, None, None).is_empty());
    }

    #[test]
    fn a_sound_sample_raises_nothing_and_counts_its_topic() {
        let st = state(5, 5);
        let mut c = checker(&st, 3);
        let overlap = OverlapRecord {
            nearest: Some(1),
            jaccard: 0.25,
        };
        let assignment = AssignmentRecord {
            generation: 1,
            topic: 2,
            distance: 0.5,
        };
        let sig = MinHashRecord {
            values: vec![7; c.num_perm],
        };
        c.sample(
            3,
            &row(Some(2), Some(0.75)),
            Some(&sig),
            Some(overlap),
            true,
            Some(assignment),
        );
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.counts, vec![0, 0, 1]);
        assert!(c.expected_lsh > 0);
        // Past the watermark: no records expected.
        c.sample(7, &row(None, None), None, None, false, None);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
    }

    #[test]
    fn each_disagreement_is_one_problem() {
        let st = state(5, 5);
        let mut c = checker(&st, 1);
        // Records past the watermark.
        c.sample(7, &row(None, None), None, None, true, None);
        // A short signature.
        c.signature(1, &MinHashRecord { values: vec![1, 2] });
        // Novelty that is not the overlap's; a nearest sample that is itself.
        let o = OverlapRecord {
            nearest: Some(2),
            jaccard: 0.5,
        };
        c.overlap(2, Some(o), Some(0.1));
        c.overlap(2, Some(o), Some(0.5));
        // A topic the row does not hold, one the model does not have, one of another generation.
        let a = |generation, topic| AssignmentRecord {
            generation,
            topic,
            distance: 0.0,
        };
        c.assignment(1, &row(Some(0), None), Some(a(1, 0)));
        assert_eq!(c.problems.len(), 4, "{:?}", c.problems);
        c.assignment(2, &row(Some(1), None), Some(a(1, 0)));
        c.assignment(3, &row(Some(5), None), Some(a(1, 5)));
        c.assignment(4, &row(Some(0), None), Some(a(9, 0)));
        c.assignment(4, &row(None, None), None);
        assert_eq!(c.problems.len(), 8, "{:?}", c.problems);
        assert_eq!(c.counts, vec![2]);
    }
}
