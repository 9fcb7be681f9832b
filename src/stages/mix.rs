//! The mix stage: draws a mix over the pool as [`crate::pool::mixes::load`] reads it, with
//! [`crate::algo::mix`], saves its manifest in table `mixes`, and compares a re-draw with the
//! previous draw of the same name.

pub mod params;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::algo::mix::{self, DrawParams, MixSample, SourceTotals, UniformKey};
use crate::error::Result;
use crate::pool::mixes::{LoadedPool, MixSpec};
use crate::store::{MixExclusions, MixRecord, MixSourceTotals, Store};

/// The samples of a pool in the order a draw sees them, and the way back to the pool's order.
/// Under [`UniformKey::TextKey`] the samples are sorted by text key and the source ids renumbered
/// in the order of the source names, so that the draw's input (and so its every sum, tie and
/// rounding) is the same whatever order the samples were appended in; under
/// [`UniformKey::Seq`] (mixes saved before the text key) the pool's own order and ids, as those
/// mixes were drawn.
struct DrawOrder {
    /// The samples as the draw sees them.
    samples: Vec<MixSample>,
    /// Source names by the draw's source id.
    sources: Vec<String>,
    /// `pool_index[i]`: the index in the pool of the draw's sample i.
    pool_index: Vec<usize>,
    /// `source_of[id]`: the pool's source id of the draw's source id.
    source_of: Vec<usize>,
}

impl DrawOrder {
    fn new(pool: &LoadedPool, uniform: UniformKey) -> DrawOrder {
        let n = pool.samples.len();
        let mut pool_index: Vec<usize> = (0..n).collect();
        let mut source_of: Vec<usize> = (0..pool.sources.len()).collect();
        if uniform == UniformKey::TextKey {
            pool_index.sort_unstable_by_key(|&i| (pool.samples[i].text_key, pool.samples[i].key));
            source_of.sort_by(|&a, &b| pool.sources[a].cmp(&pool.sources[b]));
        }
        let mut draw_source = vec![0u32; source_of.len()];
        for (id, &pool_id) in source_of.iter().enumerate() {
            draw_source[pool_id] = id as u32;
        }
        let samples = pool_index
            .iter()
            .map(|&i| {
                let s = pool.samples[i];
                MixSample {
                    source: draw_source[s.source as usize],
                    ..s
                }
            })
            .collect();
        DrawOrder {
            samples,
            sources: source_of.iter().map(|&i| pool.sources[i].clone()).collect(),
            pool_index,
            source_of,
        }
    }
}

/// Draws `spec` over `pool` into a manifest (not yet saved).
pub fn draw(pool: &LoadedPool, spec: &MixSpec) -> Result<MixRecord> {
    let order = DrawOrder::new(pool, spec.uniform);
    let weighted = mix::weights_keeping_grid(
        &order.samples,
        &order.sources,
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
        uniform: spec.uniform,
    };
    let d = mix::draw(&order.samples, &order.sources, &weighted, &params)?;
    let mut by_pool = vec![0u16; pool.samples.len()];
    for (&i, &c) in order.pool_index.iter().zip(&d.counts) {
        by_pool[i] = c;
    }
    let counts: Vec<_> = pool
        .samples
        .iter()
        .zip(&by_pool)
        .filter(|(_, &c)| c > 0)
        .map(|(s, &c)| (s.key, c))
        .collect();
    if counts.is_empty() {
        // A budget below every sample's size rounds every count to 0: refuse it rather than
        // save a mix of nothing that export, report and eval would then work on.
        let smallest = order
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
        sources: pool_order_sources(&d.per_source, &order.source_of)
            .into_iter()
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

/// The draw's per-source totals in the pool's source order.
fn pool_order_sources<'d>(
    per_source: &'d [SourceTotals],
    source_of: &[usize],
) -> Vec<&'d SourceTotals> {
    let mut out: Vec<(usize, &SourceTotals)> = source_of.iter().copied().zip(per_source).collect();
    out.sort_by_key(|p| p.0);
    out.into_iter().map(|p| p.1).collect()
}

/// Saves `record` as the mix called `name`, replacing any previous one.
pub fn save(store: &Store, name: &str, record: &MixRecord) -> Result<()> {
    crate::failpoint::hit("mix.save")?;
    let mut batch = store.batch();
    batch.put_mix(name, record);
    batch.commit()
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
