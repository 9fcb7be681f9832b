//! The mix stage over the store: reads the compact `samples` rows (never the texts), draws a mix
//! with [`crate::mix`], saves its manifest in table `mixes`, and compares a re-draw with the
//! previous draw of the same name.
//!
//! q(x) comes from the stored mean NLLs of the samples scored under the pool's current scorer
//! (samples scored under another model count as unscored). d(x) is the mid-rank of
//! `cluster_rank(topic) * novelty` among the samples that have a topic and a novelty, with the
//! cluster ranks of the last `topics` run (`DiversityScale`), i.e. exactly what `topics`
//! defines; samples without a topic or novelty have no d(x).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::mix::{self, DrawParams, Kernel, MixSample, ShareBounds};
use crate::score::fingerprint_id;
use crate::store::{
    MixExclusions, MixRecord, MixSourceTotals, PoolCounters, ScorerState, Store, SCORER_KEY,
};

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
}

impl MixSpec {
    /// The spec saved in a mix record.
    pub fn of(record: &MixRecord) -> Result<MixSpec> {
        serde_json::from_str(&record.params)
            .map_err(|e| Error::Invalid(format!("stored mix parameters unreadable: {e}")))
    }
}

impl MixSpec {
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
        if let Some((lo, hi)) = self.bounds.relative {
            s.push_str(&format!(", sources within {lo}-{hi}x natural"));
        }
        if !self.bounds.min_share.is_empty() || !self.bounds.max_share.is_empty() {
            s.push_str(", absolute share bounds");
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

/// Reads the compact rows of the pool.
pub fn load(store: &Store) -> Result<LoadedPool> {
    let counters = store.counters()?;
    let scorer = store
        .meta::<ScorerState>(SCORER_KEY)?
        .map(|s| s.fingerprint)
        .unwrap_or_default();
    let fp = if scorer.is_empty() {
        None
    } else {
        Some(fingerprint_id(&scorer))
    };
    let mut sources = Vec::new();
    for (name, info) in store.sources()? {
        let id = info.id as usize;
        if sources.len() <= id {
            sources.resize(id + 1, String::new());
        }
        sources[id] = name;
    }
    let mut samples = Vec::with_capacity(counters.docs as usize);
    let mut nll = Vec::with_capacity(counters.docs as usize);
    let scale = crate::topics::DiversityScale::load(store)?;
    let mut products = Vec::with_capacity(counters.docs as usize);
    for item in store.sample_rows() {
        let (seq, row) = item?;
        if row.source_id as usize >= sources.len() {
            return Err(Error::Invalid(format!(
                "sample {seq} has source id {} that table sources does not list",
                row.source_id
            )));
        }
        samples.push(MixSample {
            key: seq,
            tokens: row.tokens,
            source: row.source_id,
            topic: row.topic,
            q: None,
            d: None,
        });
        nll.push(if Some(row.quality_fp) == fp {
            row.mean_nll
        } else {
            None
        });
        products.push(match (&scale, row.topic, row.novelty) {
            (Some(scale), Some(topic), Some(novelty)) => {
                scale.product(topic, novelty).map(|p| p as f32)
            }
            _ => None,
        });
    }
    let q = mix::quality_from_nll(&nll);
    drop(nll);
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

/// Draws `spec` over `pool` into a manifest (not yet saved).
pub fn draw(pool: &LoadedPool, spec: &MixSpec) -> Result<MixRecord> {
    let weighted = mix::weights_keeping_grid(
        &pool.samples,
        &pool.sources,
        &spec.kernel,
        spec.density_grid,
    )?;
    let spec = &MixSpec {
        density_grid: weighted.density.as_ref().map(|g| g.grid),
        ..spec.clone()
    };
    let params = DrawParams {
        tokens: spec.tokens,
        seed: spec.seed,
        max_repeat: spec.max_repeat,
        bounds: spec.bounds.clone(),
    };
    let d = mix::draw(&pool.samples, &pool.sources, &weighted, &params)?;
    let counts: Vec<_> = pool
        .samples
        .iter()
        .zip(&d.counts)
        .filter(|(_, &c)| c > 0)
        .map(|(s, &c)| (s.key, c))
        .collect();
    if counts.is_empty() {
        // A budget below every sample's size rounds every count to 0: refuse it rather than
        // save a mix of nothing that export, report and eval would then work on.
        let smallest = pool
            .samples
            .iter()
            .zip(&weighted.w)
            .filter(|(s, &w)| w > 0.0 && s.tokens > 0)
            .map(|(s, _)| u64::from(s.tokens))
            .min()
            .unwrap_or(0);
        return Err(mix::MixError::NothingDrawn {
            requested: spec.tokens,
            smallest,
        }
        .into());
    }
    let ex = weighted.exclusions;
    Ok(MixRecord {
        params: serde_json::to_string(spec).expect("a mix spec serialises"),
        counters: pool.counters,
        scorer: pool.scorer.clone(),
        drawn_at: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        tokens_requested: spec.tokens,
        tokens_drawn: d.tokens,
        exclusions: MixExclusions {
            no_quality: ex.no_quality,
            no_diversity: ex.no_diversity,
            no_topic: ex.no_topic,
            zero_tokens: ex.zero_tokens,
            eligible: ex.eligible,
        },
        counts,
        sources: d
            .per_source
            .iter()
            .zip(&pool.sources)
            .map(|(p, name)| MixSourceTotals {
                name: name.clone(),
                natural_tokens: p.natural_tokens,
                mixed_tokens: p.mixed_tokens,
                expected_tokens: p.expected_tokens,
                samples_drawn: p.samples_drawn,
                distinct_tokens: p.distinct_tokens,
                pinned: p.pinned.clone(),
            })
            .collect(),
    })
}

/// Saves `record` as the mix called `name`, replacing any previous one.
pub fn save(store: &Store, name: &str, record: &MixRecord) -> Result<()> {
    let mut batch = store.batch();
    batch.put_mix(name, record);
    batch.commit()
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

/// One source's tokens in two draws of a mix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceShift {
    /// The source.
    pub name: String,
    /// Tokens in the previous draw.
    pub tokens_before: u64,
    /// Tokens in this draw.
    pub tokens_after: u64,
    /// Share in the previous draw.
    pub share_before: f64,
    /// Share in this draw.
    pub share_after: f64,
}

/// What changed between two draws of a mix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixDiff {
    /// Whether the parameters differ.
    pub params_changed: bool,
    /// Samples appended to the pool between the draws (difference of `next_seq`).
    pub new_pool_samples: u64,
    /// Samples drawn now that were not drawn before.
    pub samples_added: u64,
    /// Samples drawn before that are not drawn now.
    pub samples_removed: u64,
    /// Samples drawn both times with a different count.
    pub count_changes: u64,
    /// Samples drawn both times with the same count.
    pub unchanged: u64,
    /// Of the samples the previous draw could see, the fraction whose count changed.
    pub old_samples_changed_fraction: f64,
    /// Tokens of the previous draw.
    pub tokens_before: u64,
    /// Tokens of this draw.
    pub tokens_after: u64,
    /// Per source.
    pub sources: Vec<SourceShift>,
}

/// Whether two saved parameter sets differ in what the user chose (the density grid follows
/// the pool, not the user).
fn params_differ(old: &str, new: &str) -> bool {
    let user = |p: &str| {
        serde_json::from_str::<MixSpec>(p).map(|s| MixSpec {
            density_grid: None,
            ..s
        })
    };
    match (user(old), user(new)) {
        (Ok(a), Ok(b)) => a != b,
        _ => old != new,
    }
}

/// Compares a new draw with the previous draw of the same name.
pub fn diff(old: &MixRecord, new: &MixRecord) -> MixDiff {
    let (mut added, mut removed, mut changed, mut same) = (0u64, 0u64, 0u64, 0u64);
    let mut old_changed = 0u64;
    let old_seen = old.counters.next_seq;
    let (mut i, mut j) = (0, 0);
    let (a, b) = (&old.counts, &new.counts);
    while i < a.len() || j < b.len() {
        let ka = a.get(i).map_or(u64::MAX, |x| x.0);
        let kb = b.get(j).map_or(u64::MAX, |x| x.0);
        if ka == kb {
            if a[i].1 == b[j].1 {
                same += 1;
            } else {
                changed += 1;
                old_changed += 1;
            }
            i += 1;
            j += 1;
        } else if ka < kb {
            removed += 1;
            old_changed += 1;
            i += 1;
        } else {
            added += 1;
            if kb < old_seen {
                old_changed += 1;
            }
            j += 1;
        }
    }
    let total = |r: &MixRecord| r.sources.iter().map(|s| s.mixed_tokens).sum::<u64>();
    let (tb, ta) = (total(old), total(new));
    let mut sources: Vec<SourceShift> = new
        .sources
        .iter()
        .map(|s| {
            let before = old
                .sources
                .iter()
                .find(|o| o.name == s.name)
                .map_or(0, |o| o.mixed_tokens);
            SourceShift {
                name: s.name.clone(),
                tokens_before: before,
                tokens_after: s.mixed_tokens,
                share_before: before as f64 / tb.max(1) as f64,
                share_after: s.mixed_tokens as f64 / ta.max(1) as f64,
            }
        })
        .collect();
    for o in &old.sources {
        if !new.sources.iter().any(|s| s.name == o.name) {
            sources.push(SourceShift {
                name: o.name.clone(),
                tokens_before: o.mixed_tokens,
                tokens_after: 0,
                share_before: o.mixed_tokens as f64 / tb.max(1) as f64,
                share_after: 0.0,
            });
        }
    }
    MixDiff {
        params_changed: params_differ(&old.params, &new.params),
        new_pool_samples: new.counters.next_seq.saturating_sub(old.counters.next_seq),
        samples_added: added,
        samples_removed: removed,
        count_changes: changed,
        unchanged: same,
        old_samples_changed_fraction: old_changed as f64 / old.counters.docs.max(1) as f64,
        tokens_before: tb,
        tokens_after: ta,
        sources,
    }
}
