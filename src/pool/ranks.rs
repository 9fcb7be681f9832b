//! The one place derived ranks come from: q(x) for each quality signal and rank scope, and d(x)
//! (through [`DiversityScale`]). `query`, `get`, `mix`, `report` and `eval` read ranks only here.
//!
//! - A signal ([`QualitySignal`]): `lm` (mean NLL under the reference model, lower is better),
//!   `repetition` and `classifier` (higher is better), or `combined`: the mean of the q's the
//!   sample has among those three, ranked again.
//! - A rank scope ([`RankScope`]): q is the sample's mid-rank among the values of the whole pool,
//!   of its own source, or of its own topic (after QuaDMix): q = 1 - midrank/n, n the samples of
//!   the scope that have a value, the best value ranked 1.
//!
//! Commands that read every row (`mix`, `report`, `eval`) rank exactly ([`q_column`]); commands
//! that look at a few samples (`get`, `query`) read the stored quantiles ([`QualityRanks`]), which
//! every pass that changes values writes ([`store_quantiles`]: `score`, `quality compute`, and
//! `topics` for the per-topic groups). Quantiles that are missing or stale (another fingerprint,
//! another count, another topic model) are recomputed in memory for the command, never trusted.

use serde::{Deserialize, Serialize};

pub use super::scale::{DiversityScale, QualityScale};
use crate::algo::mix;
use crate::algo::rank::{thin_sorted, QuantileIndex};
use crate::error::Result;
use crate::store::{
    QuantileGroup, SampleRow, ScorerState, Signal, SignalQuantiles, SignalState, Store, TopicState,
    SCORER_KEY, TOPICS_KEY,
};

/// The quality signal q(x) is read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QualitySignal {
    /// Mean NLL under the reference model (`samplemix score`).
    #[default]
    Lm,
    /// The model-free repetition score (`samplemix quality compute repetition`).
    Repetition,
    /// The trained classifier's score.
    Classifier,
    /// The mean of the sample's q's among lm, repetition and classifier (those it has), ranked
    /// again in the same scope.
    Combined,
}

impl QualitySignal {
    /// The name users type.
    pub fn name(self) -> &'static str {
        match self {
            QualitySignal::Lm => "lm",
            QualitySignal::Repetition => "repetition",
            QualitySignal::Classifier => "classifier",
            QualitySignal::Combined => "combined",
        }
    }

    /// The stored signal behind it (`None` for `combined`).
    pub fn signal(self) -> Option<Signal> {
        match self {
            QualitySignal::Lm => Some(Signal::Lm),
            QualitySignal::Repetition => Some(Signal::Repetition),
            QualitySignal::Classifier => Some(Signal::Classifier),
            QualitySignal::Combined => None,
        }
    }
}

/// Where q(x) is ranked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RankScope {
    /// Among the whole pool.
    #[default]
    Pool,
    /// Among the samples of the sample's source.
    Source,
    /// Among the samples of the sample's topic (samples without a topic get no q).
    Topic,
}

impl RankScope {
    /// Every scope.
    pub const ALL: [RankScope; 3] = [RankScope::Pool, RankScope::Source, RankScope::Topic];

    /// The name users type.
    pub fn name(self) -> &'static str {
        match self {
            RankScope::Pool => "pool",
            RankScope::Source => "source",
            RankScope::Topic => "topic",
        }
    }
}

/// A signal and a scope: what q(x) means for a command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QualityChoice {
    /// The signal.
    pub signal: QualitySignal,
    /// The scope.
    pub scope: RankScope,
}

impl QualityChoice {
    /// Today's q: `lm` ranked over the pool.
    pub fn is_default(&self) -> bool {
        *self == QualityChoice::default()
    }

    /// `signal` or `signal within scope`.
    pub fn describe(&self) -> String {
        match self.scope {
            RankScope::Pool => self.signal.name().to_string(),
            s => format!("{} within {}", self.signal.name(), s.name()),
        }
    }
}

/// The per-sample columns ranks are computed from, in sequence order.
#[derive(Clone, Debug, Default)]
pub struct RowColumns {
    /// Sequence numbers, ascending.
    pub seqs: Vec<u64>,
    /// Source ids.
    pub sources: Vec<u32>,
    /// Topic ids.
    pub topics: Vec<Option<u32>>,
    /// Mean NLL under the pool's current scorer (`None` when unscored, too short, or scored
    /// under another model).
    pub lm: Vec<Option<f32>>,
}

impl RowColumns {
    /// Adds one sample row; `scorer_fp` is the current scorer's fingerprint id.
    pub fn push(&mut self, seq: u64, row: &SampleRow, scorer_fp: Option<u64>) {
        self.seqs.push(seq);
        self.sources.push(row.source_id);
        self.topics.push(row.topic);
        self.lm.push(if Some(row.quality_fp) == scorer_fp {
            row.mean_nll
        } else {
            None
        });
    }

    /// Every sample row of the store.
    pub fn read(store: &Store) -> Result<RowColumns> {
        let fp = current_fp(store, Signal::Lm)?;
        let mut cols = RowColumns::default();
        for item in store.sample_rows() {
            let (seq, row) = item?;
            cols.push(seq, &row, fp);
        }
        Ok(cols)
    }

    fn groups(&self, scope: RankScope) -> Vec<Option<u32>> {
        match scope {
            RankScope::Pool => vec![Some(0); self.seqs.len()],
            RankScope::Source => self.sources.iter().map(|&s| Some(s)).collect(),
            RankScope::Topic => self.topics.clone(),
        }
    }
}

/// The fingerprint id of `signal`'s current computer (`lm`: the pool's scorer); `None` before
/// it ever ran.
pub fn current_fp(store: &Store, signal: Signal) -> Result<Option<u64>> {
    Ok(match signal {
        Signal::Lm => store
            .meta::<ScorerState>(SCORER_KEY)?
            .filter(|s| !s.fingerprint.is_empty())
            .map(|s| SampleRow::fingerprint_id(&s.fingerprint)),
        s => store
            .meta::<SignalState>(&s.state_key())?
            .map(|st| SampleRow::fingerprint_id(&st.fingerprint)),
    })
}

/// Samples with a value (not `None`) of `signal` under its current computer, as its state
/// counts them.
fn current_count(store: &Store, signal: Signal) -> Result<u64> {
    Ok(match signal {
        Signal::Lm => store
            .meta::<ScorerState>(SCORER_KEY)?
            .map_or(0, |s| s.scored),
        s => store
            .meta::<SignalState>(&s.state_key())?
            .map_or(0, |st| st.computed - st.not_applicable.min(st.computed)),
    })
}

/// The topic model generation and `topics_next` the per-topic groups depend on.
fn topic_stamp(store: &Store) -> Result<(u64, u64)> {
    Ok(store
        .meta::<TopicState>(TOPICS_KEY)?
        .map_or((0, 0), |t| (t.generation, t.topics_next)))
}

/// `signal`'s raw values aligned with `cols` (`None` where missing or under another computer).
pub fn raw_column(store: &Store, signal: Signal, cols: &RowColumns) -> Result<Vec<Option<f32>>> {
    if signal == Signal::Lm {
        return Ok(cols.lm.clone());
    }
    let mut out = vec![None; cols.seqs.len()];
    let Some(fp) = current_fp(store, signal)? else {
        return Ok(out);
    };
    let mut i = 0;
    for item in store.signal_values(signal, 0) {
        let (seq, v) = item?;
        i += cols.seqs[i..].partition_point(|&s| s < seq);
        if cols.seqs.get(i) == Some(&seq) && v.fingerprint_id == fp {
            out[i] = v.raw;
        }
    }
    Ok(out)
}

/// Values oriented so that lower is better (what [`mix::grouped_quality`] ranks).
fn oriented(signal: Signal, raw: &[Option<f32>]) -> Vec<Option<f32>> {
    if signal.higher_is_better() {
        raw.iter().map(|v| v.map(|x| -x)).collect()
    } else {
        raw.to_vec()
    }
}

/// q of `signal` in `scope` for every sample of `cols`, exactly (mid-ranks of all values), from
/// its raw column.
fn signal_q_of(
    cols: &RowColumns,
    signal: Signal,
    raw: &[Option<f32>],
    scope: RankScope,
) -> Vec<Option<f32>> {
    if signal == Signal::Lm && scope == RankScope::Pool {
        return mix::quality_from_nll(raw);
    }
    mix::grouped_quality(&oriented(signal, raw), &cols.groups(scope))
}

/// The raw column of every signal, by signal id.
fn raw_columns(store: &Store, cols: &RowColumns) -> Result<Vec<Vec<Option<f32>>>> {
    Signal::ALL
        .iter()
        .map(|&s| raw_column(store, s, cols))
        .collect()
}

/// The mean of each sample's q's (in `scope`) among the signals it has; `None` with none.
fn combined_means(
    cols: &RowColumns,
    raws: &[Vec<Option<f32>>],
    scope: RankScope,
) -> Vec<Option<f32>> {
    let mut sum = vec![0f64; cols.seqs.len()];
    let mut count = vec![0u32; cols.seqs.len()];
    for (signal, raw) in Signal::ALL.iter().zip(raws) {
        for (i, q) in signal_q_of(cols, *signal, raw, scope)
            .into_iter()
            .enumerate()
        {
            if let Some(q) = q {
                sum[i] += f64::from(q);
                count[i] += 1;
            }
        }
    }
    sum.into_iter()
        .zip(count)
        .map(|(s, c)| (c > 0).then(|| (s / f64::from(c)) as f32))
        .collect()
}

/// q(x) under `choice` for every sample of `cols`, exactly: what a draw, a report and an
/// evaluation use. `lm` over the pool is [`mix::quality_from_nll`] of the mean NLLs, as ever.
pub fn q_column(
    store: &Store,
    cols: &RowColumns,
    choice: QualityChoice,
) -> Result<Vec<Option<f32>>> {
    Ok(match choice.signal.signal() {
        Some(signal) => signal_q_of(
            cols,
            signal,
            &raw_column(store, signal, cols)?,
            choice.scope,
        ),
        None => {
            let means = combined_means(cols, &raw_columns(store, cols)?, choice.scope);
            let neg: Vec<Option<f32>> = means.iter().map(|m| m.map(|x| -x)).collect();
            mix::grouped_quality(&neg, &cols.groups(choice.scope))
        }
    })
}

/// Sorted values per group of `scope`, thinned to at most 4097 each.
fn group_quantiles(values: &[Option<f32>], groups: &[Option<u32>]) -> Vec<QuantileGroup> {
    let mut by: std::collections::BTreeMap<u32, Vec<f64>> = Default::default();
    for (v, g) in values.iter().zip(groups) {
        if let (Some(v), Some(g)) = (v.filter(|x| !x.is_nan()), g) {
            by.entry(*g).or_default().push(f64::from(v));
        }
    }
    by.into_iter()
        .map(|(key, mut vals)| {
            vals.sort_by(f64::total_cmp);
            let n = vals.len() as u64;
            QuantileGroup {
                key,
                n,
                values: thin_sorted(vals, QuantileIndex::Floor),
            }
        })
        .collect()
}

/// The quantiles of every scope of one column (for `combined`, a column per scope).
fn quantiles_of(
    cols: &RowColumns,
    fingerprint_id: u64,
    stamp: (u64, u64),
    column: impl Fn(RankScope) -> Result<Vec<Option<f32>>>,
) -> Result<SignalQuantiles> {
    let pool = column(RankScope::Pool)?;
    Ok(SignalQuantiles {
        fingerprint_id,
        topic_stamp: stamp,
        pool: group_quantiles(&pool, &cols.groups(RankScope::Pool))
            .pop()
            .unwrap_or_default(),
        sources: group_quantiles(&column(RankScope::Source)?, &cols.groups(RankScope::Source)),
        topics: group_quantiles(&column(RankScope::Topic)?, &cols.groups(RankScope::Topic)),
    })
}

/// What every stored scale of q is checked against: each signal's (fingerprint id, count).
fn combined_id(store: &Store) -> Result<u64> {
    let mut bytes = Vec::new();
    for s in Signal::ALL {
        bytes.extend(current_fp(store, s)?.unwrap_or(0).to_le_bytes());
        bytes.extend(current_count(store, s)?.to_le_bytes());
    }
    Ok(xxhash_rust::xxh3::xxh3_64(&bytes))
}

/// The scales of every signal and of `combined`, computed from the whole pool.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolScales {
    /// One per signal that has a computer, by signal.
    pub signals: Vec<(Signal, SignalQuantiles)>,
    /// The sorted means of the per-signal q's, per scope.
    pub combined: SignalQuantiles,
}

/// Computes the scales of every signal from the store (one scan of the rows, one of each
/// signal's values).
pub fn compute_quantiles(store: &Store) -> Result<PoolScales> {
    let cols = RowColumns::read(store)?;
    let stamp = topic_stamp(store)?;
    let raws = raw_columns(store, &cols)?;
    let mut signals = Vec::new();
    for (signal, raw) in Signal::ALL.into_iter().zip(&raws) {
        let Some(fp) = current_fp(store, signal)? else {
            continue;
        };
        signals.push((signal, quantiles_of(&cols, fp, stamp, |_| Ok(raw.clone()))?));
    }
    let combined = quantiles_of(&cols, combined_id(store)?, stamp, |scope| {
        Ok(combined_means(&cols, &raws, scope))
    })?;
    Ok(PoolScales { signals, combined })
}

/// Stores the scales of every signal (`meta`/`signal_quantiles/NAME` and
/// `meta`/`signal_quantiles/combined`), in one batch. Called at the end of every pass that
/// changes values or topics.
pub fn store_quantiles(store: &Store) -> Result<()> {
    let scales = compute_quantiles(store)?;
    let mut batch = store.batch();
    for (signal, q) in &scales.signals {
        batch.put_meta(&signal.quantiles_key(), q);
    }
    batch.put_meta(COMBINED_QUANTILES_KEY, &scales.combined);
    batch.commit()
}

/// Key in table `meta` of the `combined` scale.
pub const COMBINED_QUANTILES_KEY: &[u8] = b"signal_quantiles/combined";

/// q from a group's ascending values, as [`mix::grouped_quality`] gives it when the values are
/// all of the group's: 1 - midrank/n with the best value ranked 1.
fn q_in(group: &QuantileGroup, v: f64, higher_is_better: bool) -> Option<f64> {
    let vals = &group.values;
    if vals.is_empty() || v.is_nan() {
        return None;
    }
    let n = vals.len() as f64;
    let lo = vals.partition_point(|&x| x < v) as f64;
    let hi = vals.partition_point(|&x| x <= v) as f64;
    Some(if higher_is_better {
        // midrank among the negated values: (n - hi) + (1 + hi - lo) / 2.
        ((lo + hi - 1.0) / 2.0 / n).max(0.0)
    } else {
        1.0 - (lo + 1.0 + hi) / 2.0 / n
    })
}

/// A group of a stored scale.
fn group(
    q: &SignalQuantiles,
    scope: RankScope,
    source: u32,
    topic: Option<u32>,
) -> Option<&QuantileGroup> {
    let find = |gs: &'_ [QuantileGroup], k: u32| gs.binary_search_by_key(&k, |g| g.key).ok();
    match scope {
        RankScope::Pool => Some(&q.pool),
        RankScope::Source => find(&q.sources, source).map(|i| &q.sources[i]),
        RankScope::Topic => find(&q.topics, topic?).map(|i| &q.topics[i]),
    }
}

/// What q of one sample is read from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleSignals {
    /// Its source id.
    pub source: u32,
    /// Its topic.
    pub topic: Option<u32>,
    /// Its raw value of each signal under the current computers, by signal id.
    pub raw: [Option<f32>; 3],
}

/// q for samples one at a time, from the stored scales (recomputed in memory when stale).
#[derive(Clone, Debug)]
pub struct QualityRanks {
    scales: PoolScales,
    lm_pool: Option<QualityScale>,
    fps: [Option<u64>; 3],
}

impl QualityRanks {
    /// The stored scales of the pool, or fresh ones computed in memory when a stored one is
    /// missing or stale.
    pub fn load(store: &Store) -> Result<QualityRanks> {
        let stamp = topic_stamp(store)?;
        let mut fps = [None; 3];
        let mut fresh = true;
        let mut signals = Vec::new();
        for signal in Signal::ALL {
            let fp = current_fp(store, signal)?;
            fps[signal.id() as usize] = fp;
            let Some(fp) = fp else { continue };
            match store.meta::<SignalQuantiles>(&signal.quantiles_key())? {
                Some(q)
                    if q.fingerprint_id == fp
                        && q.topic_stamp == stamp
                        && q.pool.n == current_count(store, signal)? =>
                {
                    signals.push((signal, q));
                }
                _ => fresh = false,
            }
        }
        let combined = match store.meta::<SignalQuantiles>(COMBINED_QUANTILES_KEY)? {
            Some(q)
                if fresh && q.fingerprint_id == combined_id(store)? && q.topic_stamp == stamp =>
            {
                q
            }
            _ => {
                fresh = false;
                SignalQuantiles::default()
            }
        };
        let scales = if fresh {
            PoolScales { signals, combined }
        } else {
            compute_quantiles(store)?
        };
        Ok(QualityRanks {
            scales,
            lm_pool: QualityScale::load(store)?,
            fps,
        })
    }

    /// The raw values of the sample stored under `seq` with this row.
    pub fn sample(&self, store: &Store, seq: u64, row: &SampleRow) -> Result<SampleSignals> {
        let mut raw = [None; 3];
        if Some(row.quality_fp) == self.fps[0] {
            raw[0] = row.mean_nll;
        }
        for signal in [Signal::Repetition, Signal::Classifier] {
            let i = signal.id() as usize;
            if let Some(fp) = self.fps[i] {
                raw[i] = store
                    .signal_value(signal, seq)?
                    .filter(|v| v.fingerprint_id == fp)
                    .and_then(|v| v.raw);
            }
        }
        Ok(SampleSignals {
            source: row.source_id,
            topic: row.topic,
            raw,
        })
    }

    /// q of one stored signal in `scope`. `lm` over the pool is [`QualityScale::quality`], as
    /// `get` and `query` have always shown it.
    pub fn signal_q(&self, s: &SampleSignals, signal: Signal, scope: RankScope) -> Option<f64> {
        if signal == Signal::Lm && scope == RankScope::Pool {
            let v = f64::from(s.raw[0]?);
            return self.lm_pool.as_ref().map(|scale| scale.quality(v));
        }
        self.exact_q(s, signal, scope)
    }

    /// q of one stored signal in `scope` as a draw ranks it.
    fn exact_q(&self, s: &SampleSignals, signal: Signal, scope: RankScope) -> Option<f64> {
        let v = f64::from(s.raw[signal.id() as usize]?);
        let q = &self.scales.signals.iter().find(|(x, _)| *x == signal)?.1;
        q_in(
            group(q, scope, s.source, s.topic)?,
            v,
            signal.higher_is_better(),
        )
    }

    /// q under `choice`.
    pub fn q(&self, s: &SampleSignals, choice: QualityChoice) -> Option<f64> {
        if let Some(signal) = choice.signal.signal() {
            return self.signal_q(s, signal, choice.scope);
        }
        // As `combined_means`: each q rounded to f32, summed in signal order, the mean rounded.
        let qs: Vec<f64> = Signal::ALL
            .iter()
            .filter_map(|&sig| self.exact_q(s, sig, choice.scope))
            .map(|q| f64::from(q as f32))
            .collect();
        if qs.is_empty() {
            return None;
        }
        let mean = f64::from((qs.iter().sum::<f64>() / qs.len() as f64) as f32);
        let g = group(&self.scales.combined, choice.scope, s.source, s.topic)?;
        q_in(g, mean, true)
    }
}

/// One signal of one sample, as `get` shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SignalView {
    /// `lm`, `repetition`, `classifier` or `combined`.
    pub signal: &'static str,
    /// The raw value under the signal's current computer (`combined`: none).
    pub raw: Option<f64>,
    /// q among the pool.
    pub q_pool: Option<f64>,
    /// q among the sample's source.
    pub q_source: Option<f64>,
    /// q among the sample's topic.
    pub q_topic: Option<f64>,
    /// The stored features (`repetition`: named by `feature_names`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<f32>,
    /// Names of `features`, when known.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub feature_names: &'static [&'static str],
}

impl QualityRanks {
    /// Every signal of the sample stored under `seq` (those with a computer, and `combined`
    /// when any has a value).
    pub fn views(&self, store: &Store, seq: u64, row: &SampleRow) -> Result<Vec<SignalView>> {
        let s = self.sample(store, seq, row)?;
        let mut out = Vec::new();
        let choices = Signal::ALL
            .iter()
            .map(|&x| (x.name(), Some(x)))
            .chain([("combined", None)]);
        for (name, signal) in choices {
            if signal.is_some_and(|x| self.fps[x.id() as usize].is_none()) {
                continue;
            }
            let q = |scope| match signal {
                Some(x) => self.signal_q(&s, x, scope),
                None => self.q(
                    &s,
                    QualityChoice {
                        signal: QualitySignal::Combined,
                        scope,
                    },
                ),
            };
            let (features, feature_names) = match signal {
                Some(Signal::Repetition) => (
                    store
                        .signal_value(Signal::Repetition, seq)?
                        .filter(|v| Some(v.fingerprint_id) == self.fps[1])
                        .map(|v| v.features)
                        .unwrap_or_default(),
                    &crate::algo::repetition::FEATURE_NAMES[..],
                ),
                _ => (Vec::new(), &[][..]),
            };
            let view = SignalView {
                signal: name,
                raw: signal.and_then(|x| s.raw[x.id() as usize]).map(f64::from),
                q_pool: q(RankScope::Pool),
                q_source: q(RankScope::Source),
                q_topic: q(RankScope::Topic),
                feature_names: if features.is_empty() {
                    &[]
                } else {
                    feature_names
                },
                features,
            };
            if signal.is_none() && view.q_pool.is_none() {
                continue;
            }
            out.push(view);
        }
        Ok(out)
    }
}

/// A computed signal, as `stats` lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SignalSummary {
    /// The signal's name.
    pub signal: &'static str,
    /// Its current computer's fingerprint.
    pub fingerprint: String,
    /// The computer, for people.
    pub description: String,
    /// Samples with a value under it.
    pub computed: u64,
    /// Of those, samples it does not apply to.
    pub not_applicable: u64,
}

/// Every signal besides `lm` that has a computer, in id order.
pub fn signal_summaries(store: &Store) -> Result<Vec<SignalSummary>> {
    let mut out = Vec::new();
    for signal in [Signal::Repetition, Signal::Classifier] {
        if let Some(st) = store.meta::<SignalState>(&signal.state_key())? {
            out.push(SignalSummary {
                signal: signal.name(),
                fingerprint: st.fingerprint,
                description: st.description,
                computed: st.computed,
                not_applicable: st.not_applicable,
            });
        }
    }
    Ok(out)
}

/// The checks `Pool::verify` runs on the signals: every value belongs to a stored sample (`seqs`,
/// ascending), and each signal's state counts the values under its fingerprint.
pub(crate) fn verify(store: &Store, seqs: &[u64]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for signal in [Signal::Repetition, Signal::Classifier] {
        let state = store.meta::<SignalState>(&signal.state_key())?;
        let fp = state
            .as_ref()
            .map(|st| SampleRow::fingerprint_id(&st.fingerprint));
        let (mut current, mut without, mut orphans) = (0u64, 0u64, 0u64);
        for item in store.signal_values(signal, 0) {
            let (seq, v) = item?;
            if seqs.binary_search(&seq).is_err() {
                orphans += 1;
            }
            if Some(v.fingerprint_id) == fp {
                current += 1;
                without += u64::from(v.raw.is_none());
            }
        }
        if orphans > 0 {
            problems.push(format!(
                "signal {signal}: {orphans} values belong to no stored sample"
            ));
        }
        let (computed, na) = state.map_or((0, 0), |st| (st.computed, st.not_applicable));
        if (current, without) != (computed, na) {
            problems.push(format!(
                "signal {signal}: {current} values under the current fingerprint ({without} not \
                 applicable), its state counts {computed} ({na})"
            ));
        }
    }
    Ok(problems)
}
