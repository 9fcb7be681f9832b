//! Mixes: sampling weights from quality and diversity, and budgeted draws (docs/method.md, "Weighting
//! kernels" and "Drawing a mix"). Pure functions over slices: no I/O, no store.
//!
//! ## Inputs
//! A draw reads one [`MixSample`] per sample: its key (the store's sequence number), tokens,
//! source id, topic, and its quality q(x) and diversity d(x) in `[0, 1]` when known.
//! [`quality_from_nll`] turns stored mean NLLs into q(x) = 1 - midrank(mean NLL)/n, ranked among
//! the samples being mixed that have a mean NLL (lower NLL, higher q).
//!
//! ## Kernels ([`Kernel`], [`weights`])
//! - `bivariate-beta`: w = f(q, d) / g(q, d), f the Olkin-Liu bivariate beta density
//!   ([`bivariate_beta_density`]) and g the pool's smoothed joint density of (q, d)
//!   ([`PoolDensity`]: a 2-D histogram, bilinearly interpolated, with a floor; see its docs for
//!   the grid size, the smoothing and the clamping at the corners).
//! - `linear`: w = a d + (1 - a) q, a = 0.8 by default.
//! - `natural`: w = 1 (every sample, scored or not).
//! - `domain`: per-source token shares, uniform inside a source (the shares are enforced exactly
//!   by the budget solve).
//! - `quality-threshold`: w = 1 for the best `fraction` of samples by q, else 0.
//! - `topic-balanced`: w = 1 / (tokens of the sample's topic): equal tokens per topic.
//!
//! Samples that lack a score the kernel needs get weight 0 and are counted in [`Exclusions`];
//! when no sample has it, the kernel fails with [`MixError::MissingScore`] naming what to run.
//!
//! ## The draw ([`draw`])
//! Expected counts e(x) = min(cap, L_s w(x)), cap = max repeat (default 4). Without share
//! constraints every source has the same scale L_s = L, solved so that Σ e(x) tokens(x) = T.
//! Share constraints (bounds relative to the natural share, absolute minimum or maximum shares,
//! or the exact shares of the `domain` kernel) are enforced inside the solve: a source whose
//! share would leave its interval is pinned at the violated bound with its own scale L_s, and
//! the free sources share one L solved for the remaining budget (an active-set iteration; see
//! `solve`). Each source's token curve Σ min(cap, λ w) t is exact and piecewise linear in λ
//! (sorted weights and prefix sums), so every solve is exact to rounding.
//!
//! Counts are count(x) = floor(e) + [u(x) < frac(e)], u(x) a uniform in `[0, 1)` from
//! xxh3-64(seed, text key) ([`text_uniform`], [`UniformKey::TextKey`]: the hash of the
//! sample's normalised text, so the uniform does not depend on the order samples were appended
//! in), or from xxh3-64(seed, seq) ([`stable_uniform`], [`UniformKey::Seq`]) for mixes saved
//! before the text key. Independent rounding alone leaves a relative error
//! of order 1/sqrt(samples) in the realised tokens (about 1% on 10k samples), so the draw then
//! scales each source's scale L_s by a factor ρ_s (bisection, counts are monotone in ρ_s) until
//! the source's realised tokens are the closest reachable to its expected tokens; a source pinned
//! at a bound takes the closest on the bound's side (never under its minimum or over its
//! maximum, at the cost of up to one sample of budget error). The same u(x)
//! is used throughout, so the same seed and pool give the same counts, and a re-draw after an
//! append changes only samples whose e(x) crosses their own u(x).

mod bounds;
mod error;
mod kernel;
mod solve;

#[cfg(test)]
mod tests;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::algo::rank::for_each_mid_rank;

pub use error::{MixError, Result};
pub use kernel::{
    bivariate_beta_density, ln_gamma, weights, weights_keeping_grid, Exclusions, Kernel,
    PoolDensity, Weighted, CORNER_EPS,
};
pub use solve::{
    draw, stable_uniform, text_uniform, Draw, DrawParams, ShareBounds, SourceTotals, UniformKey,
};

/// Repetition cap by default: at most 4 copies of a sample (4 epochs).
pub const DEFAULT_MAX_REPEAT: u16 = 4;

/// One sample as a draw sees it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixSample {
    /// Stable key: the store's sequence number.
    pub key: u64,
    /// The xxh3-128 of the sample's normalised text (the store's dedup key): its identity
    /// whatever the order it was appended in ([`UniformKey::TextKey`]).
    #[serde(default)]
    pub text_key: u128,
    /// Token count.
    pub tokens: u32,
    /// Dense source id (an index into the source names given with the pool).
    pub source: u32,
    /// Topic id, when assigned.
    pub topic: Option<u32>,
    /// Quality q(x) in `[0, 1]`, when scored.
    pub q: Option<f32>,
    /// Diversity d(x) in `[0, 1]`, when computed.
    pub d: Option<f32>,
}

/// q(x) = 1 - midrank(mean NLL)/n for each sample that has a mean NLL, ranked among those (n of
/// them); ties share the mean of the ranks they span. `None` stays `None`, as does a NaN.
/// The lowest NLL gets the highest q (1 - 1/n for a unique minimum), the highest gets 0 when
/// unique.
pub fn quality_from_nll(nll: &[Option<f32>]) -> Vec<Option<f32>> {
    let mut order: Vec<(f32, u32)> = nll
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|x| !x.is_nan()).map(|x| (x, i as u32)))
        .collect();
    order.par_sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let n = order.len();
    let mut out = vec![None; nll.len()];
    for_each_mid_rank(
        &order,
        |a, b| a.0 == b.0,
        |_| 1,
        |run, mid| {
            let q = (1.0 - mid / n as f64) as f32;
            for &(_, idx) in run {
                out[idx as usize] = Some(q);
            }
        },
    );
    out
}

/// [`quality_from_nll`] within groups: q(x) = 1 - midrank/n among the samples of x's group
/// that have a value (lower value, higher q), n their number. A sample without a group or a
/// value (or with a NaN) gets `None`. With one group for every sample it is exactly
/// [`quality_from_nll`].
pub fn grouped_quality(values: &[Option<f32>], groups: &[Option<u32>]) -> Vec<Option<f32>> {
    let mut order: Vec<(u32, f32, u32)> = values
        .iter()
        .zip(groups)
        .enumerate()
        .filter_map(|(i, (v, g))| {
            let v = v.filter(|x| !x.is_nan())?;
            Some(((*g)?, v, i as u32))
        })
        .collect();
    order.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut out = vec![None; values.len()];
    let mut start = 0;
    while start < order.len() {
        let g = order[start].0;
        let end = start + order[start..].partition_point(|x| x.0 == g);
        let run = &order[start..end];
        let n = run.len();
        for_each_mid_rank(
            run,
            |a, b| a.1 == b.1,
            |_| 1,
            |ties, mid| {
                let q = (1.0 - mid / n as f64) as f32;
                for &(_, _, idx) in ties {
                    out[idx as usize] = Some(q);
                }
            },
        );
        start = end;
    }
    out
}

/// Rank-normalised values in `(0, 1]` (midrank / n) for each `Some`, ranked among those.
/// Used to turn the stored diversity product (cluster rank x novelty) into d(x).
pub fn rank_normalise(values: &[Option<f32>]) -> Vec<Option<f32>> {
    let neg: Vec<Option<f32>> = values.iter().map(|v| v.map(|x| -x)).collect();
    // 1 - midrank(-v)/n = (n + 1 - midrank(-v))/n - 1/n ... use the direct form instead.
    let q = quality_from_nll(&neg);
    let n = values
        .iter()
        .filter(|v| v.is_some_and(|x| !x.is_nan()))
        .count();
    // midrank(v) = n + 1 - midrank(-v), so midrank(v)/n = 1 + 1/n - midrank(-v)/n = q + 1/n.
    q.into_iter()
        .map(|v| v.map(|x| (x as f64 + 1.0 / n as f64) as f32))
        .collect()
}
