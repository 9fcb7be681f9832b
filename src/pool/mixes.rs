//! The read side of mixes: the pool as a draw sees it ([`load`]: the compact `samples` rows,
//! never the texts, with q(x) and d(x)), the parameters of a stored mix ([`MixSpec`]), and what
//! `stats`, `mix`, `report` and `eval` show of a stored mix (summaries, shares, warnings). The
//! mix stage, [`crate::stages::mix`], draws and saves.
//!
//! q(x) comes from the stored mean NLLs of the samples scored under the pool's current scorer
//! (samples scored under another model count as unscored). d(x) is the mid-rank of
//! `cluster_rank(topic) * novelty` among the samples that have a topic and a novelty, with the
//! cluster ranks of the last `topics` run (`DiversityScale`), i.e. exactly what `topics`
//! defines; samples without a topic or novelty have no d(x).

use serde::{Deserialize, Serialize};

use crate::algo::mix::{self, Kernel, MixSample, ShareBounds, UniformKey};
use crate::error::{Error, Result};
use crate::pool::ranks::{self, QualityChoice, QualitySignal, RankScope, RowColumns};
use crate::store::{MixRecord, PoolCounters, SampleRow, ScorerState, Store, SCORER_KEY};

/// Everything that determines a mix besides the pool: saved with it as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixSpec {
    /// The kernel and its parameters.
    pub kernel: Kernel,
    /// Token budget.
    pub tokens: u64,
    /// Seed of the stable uniforms.
    pub seed: u64,
    /// Repetition cap.
    pub max_repeat: u16,
    /// Share constraints.
    pub bounds: ShareBounds,
    /// Cells a side of the pool density of the last `bivariate-beta` draw, which a re-draw
    /// keeps while the pool's own grid stays within 10% of it (absent for other kernels and in
    /// mixes saved before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density_grid: Option<usize>,
    /// The quality signal q(x) is read from (absent in mixes saved before it was recorded:
    /// `lm`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub quality: QualitySignal,
    /// Where q(x) is ranked (absent in mixes saved before it was recorded: `pool`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub rank_within: RankScope,
    /// What the per-sample uniform is keyed by: `text-key` for every new mix (store format 4);
    /// absent in mixes saved before it was recorded, which re-draw with the sequence-number
    /// uniform they were drawn with (`seq`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub uniform: UniformKey,
}

fn is_default<T: Default + PartialEq>(x: &T) -> bool {
    *x == T::default()
}

impl MixSpec {
    /// The spec saved in a mix record.
    pub fn of(record: &MixRecord) -> Result<MixSpec> {
        serde_json::from_str(&record.params).map_err(|e| Error::CorruptRecord {
            what: "mix parameters".into(),
            reason: e.to_string(),
        })
    }
}

impl MixSpec {
    /// The signal and scope q(x) is read under.
    pub fn quality_choice(&self) -> QualityChoice {
        QualityChoice {
            signal: self.quality,
            scope: self.rank_within,
        }
    }

    /// The kernel, its parameters and the share bounds in a few words.
    pub fn describe(&self) -> String {
        let mut s = match &self.kernel {
            Kernel::BivariateBeta { a, b, c } => format!("bivariate-beta a={a} b={b} c={c}"),
            Kernel::Linear { alpha } => format!("linear alpha={alpha}"),
            Kernel::Natural => "natural".into(),
            Kernel::Domain { shares, .. } => format!("domain ({} sources)", shares.len()),
            Kernel::QualityThreshold { fraction } => format!("quality-threshold {fraction}"),
            Kernel::TopicBalanced => "topic-balanced".into(),
        };
        let choice = self.quality_choice();
        if self.kernel.needs().0 && !choice.is_default() {
            s.push_str(&format!(", q from {}", choice.describe()));
        }
        if let Some((lo, hi)) = self.bounds.relative {
            s.push_str(&format!(", sources within {lo}-{hi}x natural"));
        }
        if !self.bounds.min_share.is_empty() || !self.bounds.max_share.is_empty() {
            s.push_str(", absolute share bounds");
        }
        if let Some((lo, hi)) = self.bounds.topic_relative {
            s.push_str(&format!(", topics within {lo}-{hi}x natural"));
        }
        s
    }
}

/// A stored mix in a line: what `stats` lists.
#[derive(Clone, Debug, Serialize)]
pub struct MixSummary {
    /// The mix name.
    pub name: String,
    /// Kernel and parameters in words.
    pub kernel: String,
    /// Tokens drawn.
    pub tokens: u64,
    /// Distinct samples drawn.
    pub samples: u64,
    /// Samples appended to the pool since the draw (a re-draw would see them).
    pub new_since: u64,
}

/// Every stored mix, summarised, by name.
pub fn summaries(store: &Store) -> Result<Vec<MixSummary>> {
    let next_seq = store.counters()?.next_seq;
    let mut out = Vec::new();
    for name in store.mix_names()? {
        let Some(record) = store.mix(&name)? else {
            continue;
        };
        out.push(MixSummary {
            kernel: MixSpec::of(&record).map_or_else(|e| e.to_string(), |s| s.describe()),
            tokens: record.tokens_drawn,
            samples: record.counts.len() as u64,
            new_since: next_seq.saturating_sub(record.counters.next_seq),
            name,
        });
    }
    Ok(out)
}

/// The pool as a draw sees it.
#[derive(Clone, Debug)]
pub struct LoadedPool {
    /// One per stored sample, in sequence order.
    pub samples: Vec<MixSample>,
    /// Source names by source id.
    pub sources: Vec<String>,
    /// The counters of the store read.
    pub counters: PoolCounters,
    /// The current scorer fingerprint, empty when never scored.
    pub scorer: String,
}

/// Reads the compact rows of the pool, with q(x) of `lm` over the pool.
pub fn load(store: &Store) -> Result<LoadedPool> {
    load_with(store, QualityChoice::default())
}

/// Reads the compact rows of the pool, with q(x) of `choice` ([`ranks::q_column`]).
pub fn load_with(store: &Store, choice: QualityChoice) -> Result<LoadedPool> {
    let counters = store.counters()?;
    let scorer = store
        .meta::<ScorerState>(SCORER_KEY)?
        .map(|s| s.fingerprint)
        .unwrap_or_default();
    let fp = if scorer.is_empty() {
        None
    } else {
        Some(SampleRow::fingerprint_id(&scorer))
    };
    let mut sources = Vec::new();
    let listed = store.sources()?;
    let n_sources = listed.len();
    for (name, info) in listed {
        let id = info.id as usize;
        if id >= n_sources {
            return Err(Error::corrupt(
                store.path(),
                "sources",
                &name,
                format!("source id {id}, but the table lists only {n_sources} sources"),
            ));
        }
        if sources.len() <= id {
            sources.resize(id + 1, String::new());
        }
        sources[id] = name;
    }
    let mut samples = Vec::with_capacity(counters.docs as usize);
    let mut cols = RowColumns::default();
    let scale = super::scale::DiversityScale::load(store)?;
    let mut products = Vec::with_capacity(counters.docs as usize);
    for item in store.sample_rows() {
        let (seq, row) = item?;
        if row.source_id as usize >= sources.len() {
            return Err(Error::corrupt(
                store.path(),
                "samples",
                seq,
                format!(
                    "source id {} that table sources does not list",
                    row.source_id
                ),
            ));
        }
        samples.push(MixSample {
            key: seq,
            text_key: 0,
            tokens: row.tokens,
            source: row.source_id,
            topic: row.topic,
            q: None,
            d: None,
        });
        cols.push(seq, &row, fp);
        products.push(match (&scale, row.topic, row.novelty) {
            (Some(scale), Some(topic), Some(novelty)) => {
                scale.product(topic, novelty).map(|p| p as f32)
            }
            _ => None,
        });
    }
    let q = ranks::q_column(store, &cols, choice)?;
    drop(cols);
    set_text_keys(store, &mut samples)?;
    let d = mix::rank_normalise(&products);
    for ((s, q), d) in samples.iter_mut().zip(q).zip(d) {
        s.q = q;
        s.d = d;
    }
    Ok(LoadedPool {
        samples,
        sources,
        counters,
        scorer,
    })
}

/// Sets every sample's text key from table `dedup`; a sample without one, or a key naming a
/// sample that is not stored, is a damaged store.
fn set_text_keys(store: &Store, samples: &mut [MixSample]) -> Result<()> {
    let mut found = vec![false; samples.len()];
    for (hash, seq) in store.text_keys()? {
        let Ok(i) = samples.binary_search_by_key(&seq, |s| s.key) else {
            return Err(Error::corrupt(
                store.path(),
                "dedup",
                format!("{hash:032x}"),
                format!("names sample {seq}, which table samples does not hold"),
            ));
        };
        if std::mem::replace(&mut found[i], true) {
            return Err(Error::corrupt(
                store.path(),
                "dedup",
                format!("{hash:032x}"),
                format!("names sample {seq}, which another text key names too"),
            ));
        }
        samples[i].text_key = hash;
    }
    if let Some(i) = found.iter().position(|f| !f) {
        return Err(Error::corrupt(
            store.path(),
            "samples",
            samples[i].key,
            "no entry in table dedup names it",
        ));
    }
    Ok(())
}

/// A source's share in the pool and in a mix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceShare {
    /// The source.
    pub name: String,
    /// Its share of the pool's tokens.
    pub natural_share: f64,
    /// Its share of the mix's tokens.
    pub mixed_share: f64,
    /// mixed / natural (infinite when the pool share is 0).
    pub ratio: f64,
    /// Mixed tokens over the tokens of its distinct drawn samples.
    pub average_repetition: f64,
}

/// Per-source shares of a mix.
pub fn shares(record: &MixRecord) -> Vec<SourceShare> {
    let pool: u64 = record.sources.iter().map(|s| s.natural_tokens).sum();
    let mixed: u64 = record.sources.iter().map(|s| s.mixed_tokens).sum();
    record
        .sources
        .iter()
        .map(|s| {
            let natural_share = s.natural_tokens as f64 / pool.max(1) as f64;
            let mixed_share = s.mixed_tokens as f64 / mixed.max(1) as f64;
            SourceShare {
                name: s.name.clone(),
                natural_share,
                mixed_share,
                ratio: if natural_share > 0.0 {
                    mixed_share / natural_share
                } else if mixed_share > 0.0 {
                    f64::INFINITY
                } else {
                    1.0
                },
                average_repetition: if s.distinct_tokens > 0 {
                    s.mixed_tokens as f64 / s.distinct_tokens as f64
                } else {
                    0.0
                },
            }
        })
        .collect()
}

/// Slack of the 2x share warning: a source held at a 0.5x or 2x bound lands a little past it in
/// realised shares (the realised total differs from the budget by rounding), which is no move
/// beyond the bound.
const SHARE_WARNING_SLACK: f64 = 0.01;

/// Warnings for every source whose share moved by more than 2x from its natural share (either
/// way, by more than 1% past 2x), bounds or not.
pub fn share_warnings(record: &MixRecord) -> Vec<String> {
    let ok = 0.5 * (1.0 - SHARE_WARNING_SLACK)..=2.0 * (1.0 + SHARE_WARNING_SLACK);
    shares(record)
        .into_iter()
        .filter(|s| s.natural_share > 0.0 && !ok.contains(&s.ratio))
        .map(|s| {
            format!(
                "source {}: share {:.4} in the mix against {:.4} in the pool ({:.2}x); bound it \
                 with --source-bounds if that is not intended",
                s.name, s.mixed_share, s.natural_share, s.ratio
            )
        })
        .collect()
}

/// A warning when more than 5% of the drawn samples sit at the repetition cap: the kernel wants
/// more of them than the cap allows, so the mix under-serves that region (for bivariate-beta,
/// the realised (q, d) departs from the target where the pool is thin).
pub fn cap_warning(record: &MixRecord) -> Option<String> {
    let spec = MixSpec::of(record).ok()?;
    let at_cap = record
        .counts
        .iter()
        .filter(|c| c.1 >= spec.max_repeat)
        .count();
    let frac = at_cap as f64 / record.counts.len().max(1) as f64;
    (frac > 0.05).then(|| {
        format!(
            "{at_cap} of {} drawn samples ({:.1}%) are at the repetition cap ({}): the kernel \
             asks for more of them than the cap allows; raise --max-repeat, lower --tokens or \
             soften the kernel",
            record.counts.len(),
            100.0 * frac,
            spec.max_repeat
        )
    })
}

/// A mix's tokens per topic, over the pool's current topics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicShares {
    /// Topics with tokens in the pool.
    pub pool_topics: u64,
    /// Topics with tokens in the mix.
    pub mix_topics: u64,
    /// (topic, pool tokens, mix tokens), by topic id.
    pub topics: Vec<(u32, u64, u64)>,
    /// Topics whose share of the mix's topic tokens is under half their share of the pool's
    /// topic tokens, by topic id.
    pub under_half: Vec<u32>,
}

/// The per-topic tokens of the mix `counts` ((seq, count) by seq, as a record holds them) over
/// `pool`; empty when the pool has no topics.
pub fn topic_shares(pool: &LoadedPool, counts: &[(u64, u16)]) -> TopicShares {
    let mut topics: std::collections::BTreeMap<u32, (u64, u64)> = Default::default();
    let mut next = counts.iter().peekable();
    for s in &pool.samples {
        while next.peek().is_some_and(|c| c.0 < s.key) {
            next.next();
        }
        let c = match next.peek() {
            Some(&&(k, c)) if k == s.key => u64::from(c),
            _ => 0,
        };
        if let Some(t) = s.topic {
            let e = topics.entry(t).or_default();
            e.0 += u64::from(s.tokens);
            e.1 += c * u64::from(s.tokens);
        }
    }
    let topics: Vec<(u32, u64, u64)> = topics.into_iter().map(|(k, (p, m))| (k, p, m)).collect();
    TopicShares {
        pool_topics: topics.iter().filter(|t| t.1 > 0).count() as u64,
        mix_topics: topics.iter().filter(|t| t.2 > 0).count() as u64,
        under_half: topics_under(&topics, 0.5),
        topics,
    }
}

/// The topics of `topics` ((topic, pool tokens, mix tokens)) whose share of the mix is under
/// `fraction` times their share of the pool (shares of the tokens that have a topic).
pub fn topics_under(topics: &[(u32, u64, u64)], fraction: f64) -> Vec<u32> {
    let pool: u64 = topics.iter().map(|t| t.1).sum();
    let mix: u64 = topics.iter().map(|t| t.2).sum();
    if pool == 0 || mix == 0 {
        return Vec::new();
    }
    topics
        .iter()
        .filter(|&&(_, p, m)| {
            p > 0 && (m as f64 / mix as f64) < fraction * (p as f64 / pool as f64)
        })
        .map(|t| t.0)
        .collect()
}
