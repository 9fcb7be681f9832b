//! The budget solve and the counts (see the module docs of [`crate::algo::mix`]).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::error::{MixError, Result};
use super::kernel::{source_id, Weighted};
use super::MixSample;

/// Constraints on each source's token share, enforced inside the budget solve.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShareBounds {
    /// (low, high): every source's share stays within `[low, high]` times its natural share
    /// (its share of the pool's tokens), e.g. (0.5, 2).
    pub relative: Option<(f64, f64)>,
    /// Absolute minimum shares, by source name.
    pub min_share: Vec<(String, f64)>,
    /// Absolute maximum shares, by source name.
    pub max_share: Vec<(String, f64)>,
    /// (low, high): every topic's share stays within `[low, high]` times its natural share
    /// (`--topic-bounds`), enforced by per-topic factors on the weights (see
    /// [`bounds`](super::bounds)). Absent in mixes saved before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_relative: Option<(f64, f64)>,
    /// Whether a topic held at a bound rounds as one group rather than per (source, topic) cell
    /// (see [`bounds`](super::bounds)): `false` in mixes saved before the rule, so that they
    /// re-draw to their counts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held_topics_round_whole: bool,
}

impl ShareBounds {
    /// Whether no source constraint is set (the topic bounds are not source constraints: they
    /// combine with every kernel, `domain` included).
    pub fn is_empty(&self) -> bool {
        self.relative.is_none() && self.min_share.is_empty() && self.max_share.is_empty()
    }
}

/// What to draw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawParams {
    /// Token budget T.
    pub tokens: u64,
    /// Seed of the stable uniforms.
    pub seed: u64,
    /// Repetition cap per sample.
    pub max_repeat: u16,
    /// Share constraints.
    pub bounds: ShareBounds,
    /// What the per-sample uniform u(x) is keyed by.
    pub uniform: UniformKey,
}

/// What a sample's uniform u(x) is a hash of: its identity in the draw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UniformKey {
    /// The store's sequence number ([`MixSample::key`]): the draws of mixes saved before the
    /// text key (store formats up to 2), which depend on the order samples were appended in.
    #[default]
    Seq,
    /// The xxh3-128 of the sample's normalised text ([`MixSample::text_key`]): the same samples
    /// give the same uniforms whatever the order they were appended in, or the store holding
    /// them.
    TextKey,
}

/// One source in a draw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceTotals {
    /// Tokens of the source in the pool.
    pub natural_tokens: u64,
    /// Its share of the pool's tokens.
    pub natural_share: f64,
    /// Expected tokens in the mix, Σ e(x) tokens(x).
    pub expected_tokens: f64,
    /// Realised tokens in the mix, Σ count(x) tokens(x).
    pub mixed_tokens: u64,
    /// Its share of the mix's realised tokens.
    pub share: f64,
    /// Distinct samples drawn at least once.
    pub samples_drawn: u64,
    /// Tokens of the distinct samples drawn (mixed / distinct = average repetition).
    pub distinct_tokens: u64,
    /// The scale L_s of the source after the rounding correction.
    pub scale: f64,
    /// The share constraint the source is pinned at: "min", "max", "exact", or none.
    pub pinned: Option<String>,
}

/// A drawn mix.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// count(x) per sample, parallel to the samples.
    pub counts: Vec<u16>,
    /// Realised tokens, Σ count(x) tokens(x).
    pub tokens: u64,
    /// Expected tokens of the solve (equals the budget).
    pub expected_tokens: f64,
    /// Per source id.
    pub per_source: Vec<SourceTotals>,
}

/// u(x) in `[0, 1)`: the upper 32 bits of xxh3-64 of the key's 8 little-endian bytes under the
/// seed, divided by 2^32.
pub fn stable_uniform(seed: u64, key: u64) -> f64 {
    uniform_of_bits(uniform_bits(seed, key))
}

/// The 32 bits behind [`stable_uniform`]: the draw keeps these (4 bytes a sample, not 8).
fn uniform_bits(seed: u64, key: u64) -> u32 {
    (xxh3_64_with_seed(&key.to_le_bytes(), seed) >> 32) as u32
}

/// u(x) in `[0, 1)` of a text key: the upper 32 bits of xxh3-64 of the key's 16 little-endian
/// bytes under the seed, divided by 2^32.
pub fn text_uniform(seed: u64, text_key: u128) -> f64 {
    uniform_of_bits(text_uniform_bits(seed, text_key))
}

fn text_uniform_bits(seed: u64, text_key: u128) -> u32 {
    (xxh3_64_with_seed(&text_key.to_le_bytes(), seed) >> 32) as u32
}

/// The uniform bits of every sample, keyed as `params.uniform` says.
fn sample_uniforms(samples: &[MixSample], params: &DrawParams) -> Vec<u32> {
    match params.uniform {
        UniformKey::Seq => samples
            .par_iter()
            .map(|s| uniform_bits(params.seed, s.key))
            .collect(),
        UniformKey::TextKey => samples
            .par_iter()
            .map(|s| text_uniform_bits(params.seed, s.text_key))
            .collect(),
    }
}

/// The uniform of [`uniform_bits`]' bits (exact: every u32 is an f64).
fn uniform_of_bits(bits: u32) -> f64 {
    f64::from(bits) / 4_294_967_296.0
}

/// One group's token curve (a source's, or a topic's under the topic bounds): tokens(λ) =
/// Σ min(cap, λ w) t over its samples with w > 0, the weights rounded to f32 (a relative error of
/// 6e-8 in λ, which the rounding correction absorbs).
pub(super) struct Curve {
    /// Weights, descending.
    w: Vec<f32>,
    /// cum_t[k] = tokens of the k largest weights.
    cum_t: Vec<f64>,
    /// cum_wt[k] = Σ w t over the k largest weights.
    cum_wt: Vec<f64>,
}

impl Curve {
    pub(super) fn tokens(&self, lambda: f64, cap: f64) -> f64 {
        if lambda <= 0.0 || self.w.is_empty() {
            return 0.0;
        }
        let thr = cap / lambda;
        let k = self.w.partition_point(|&w| w as f64 >= thr);
        let m = self.w.len();
        cap * self.cum_t[k] + lambda * (self.cum_wt[m] - self.cum_wt[k])
    }
    pub(super) fn max(&self, cap: f64) -> f64 {
        cap * self.cum_t[self.w.len()]
    }
    /// λ at which every sample is capped.
    fn lambda_full(&self, cap: f64) -> f64 {
        self.w.last().map_or(0.0, |&w| cap / w as f64)
    }
}

/// The smallest λ in `[0, hi]` with f(λ) >= target, f increasing (bisection to f64 precision).
fn invert(target: f64, hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    if target <= 0.0 {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0f64, hi);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

fn curves(samples: &[MixSample], w: &[f64], n_src: usize) -> Vec<Curve> {
    curves_by(samples, w, n_src, |s| s.source as usize)
}

/// The token curve of each group, `group(sample)` < `n_groups`.
pub(super) fn curves_by(
    samples: &[MixSample],
    w: &[f64],
    n_groups: usize,
    group: impl Fn(&MixSample) -> usize,
) -> Vec<Curve> {
    // Bucket by group, each item packed as (f32 bits of w) << 32 | tokens: a positive f32's
    // bits order like its value, so sorting the u64s descending sorts by weight.
    let mut sizes = vec![0usize; n_groups];
    for (s, &wx) in samples.iter().zip(w) {
        if wx > 0.0 {
            sizes[group(s)] += 1;
        }
    }
    let mut buckets: Vec<Vec<u64>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (s, &wx) in samples.iter().zip(w) {
        if wx > 0.0 {
            let w32 = (wx as f32).max(f32::MIN_POSITIVE);
            buckets[group(s)].push(((w32.to_bits() as u64) << 32) | s.tokens as u64);
        }
    }
    buckets
        .into_iter()
        .map(|mut b| {
            b.par_sort_unstable_by(|x, y| y.cmp(x));
            let mut c = Curve {
                w: Vec::with_capacity(b.len()),
                cum_t: Vec::with_capacity(b.len() + 1),
                cum_wt: Vec::with_capacity(b.len() + 1),
            };
            let (mut ct, mut cwt) = (0.0f64, 0.0f64);
            c.cum_t.push(0.0);
            c.cum_wt.push(0.0);
            for item in b {
                let wx = f32::from_bits((item >> 32) as u32);
                let t = (item & 0xffff_ffff) as f64;
                c.w.push(wx);
                ct += t;
                cwt += wx as f64 * t;
                c.cum_t.push(ct);
                c.cum_wt.push(cwt);
            }
            c
        })
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Pin {
    Free,
    Min,
    Max,
    Exact,
}

/// Draws a mix: solves the scales, then the counts (see the module docs).
/// `sources` names the source ids of the samples; `weighted` comes from
/// [`weights`](super::weights) over the same samples.
pub fn draw(
    samples: &[MixSample],
    sources: &[String],
    weighted: &Weighted,
    params: &DrawParams,
) -> Result<Draw> {
    check_params(samples, sources, params)?;
    let n_src = sources.len();
    let (natural, natural_share) = natural_shares(samples, n_src);
    let t_budget = params.tokens as f64;
    let (lo, hi) = token_bounds(&params.bounds, sources, &natural_share, t_budget)?;
    let problem = SourceProblem {
        samples,
        sources,
        params,
        weighted,
        lo: &lo,
        hi: &hi,
    };
    let (w_topics, solved, cells) = match params.bounds.topic_relative {
        None => (None, problem.solve(&weighted.w)?, None),
        Some(rel) => {
            let t = super::bounds::solve_with_topics(&problem, rel)?;
            (Some(t.w_eff), t.solved, Some(t.cells))
        }
    };
    let w = w_topics.as_deref().unwrap_or(&weighted.w);
    let cap = f64::from(params.max_repeat);
    let SourceSolution {
        pin,
        scale,
        expected,
        max_s,
    } = solved;
    let u = sample_uniforms(samples, params);
    // Under topic bounds the correction runs per (source, topic) cell, so that topics land on
    // their bounds as sources do; the sources' scales are then reported uncorrected.
    let (counts, rho) = match &cells {
        None => {
            let r = Rounding {
                samples,
                w,
                u,
                scale: scale.clone(),
                cap,
            };
            let rho = r.correct(&pin, &expected, &max_s);
            (r.counts(&rho), rho)
        }
        Some(c) => {
            let r = Rounding {
                samples: &c.samples,
                w: c.w.as_deref().unwrap_or(w),
                u,
                scale: c.scale.clone(),
                cap,
            };
            let mut rho = r.correct(&c.pin, &c.expected, &c.max);
            // Held cells round to their side of the bound; the free cells give back the excess.
            let realised = r.realised(&rho);
            let (mut excess, mut free) = (0.0f64, 0.0f64);
            for (i, &e) in c.expected.iter().enumerate() {
                if c.held[i] {
                    excess += realised[i] as f64 - e;
                } else {
                    free += e;
                }
            }
            let mut target = c.expected.clone();
            if excess != 0.0 && free > 0.0 {
                let f = (1.0 - excess / free).max(0.0);
                for (t, &h) in target.iter_mut().zip(&c.held) {
                    if !h {
                        *t *= f;
                    }
                }
                rho = r.correct(&c.pin, &target, &c.max);
            }
            if c.w.is_some() {
                rho = closer_to_budget(&r, c, target, rho, t_budget);
            }
            (r.counts(&rho), vec![1.0; n_src])
        }
    };
    let per_source = per_source_totals(
        samples,
        &counts,
        (natural, natural_share),
        &expected,
        &rho,
        &scale,
        &pin,
    );
    Ok(Draw {
        tokens: per_source.iter().map(|p| p.mixed_tokens).sum(),
        counts,
        expected_tokens: expected.iter().sum(),
        per_source,
    })
}

/// The corrections of a draw under topic bounds whose held topics round whole, brought closer
/// to the budget: the free cells' targets are scaled again by what the whole draw still misses
/// (a few rounds: each free cell rounds to about a sample, and on a pool of a few hundred samples
/// those add up to several percent), and when the held topics' overshoot is more than the free
/// cells can give back, the held topics round to the nearest count instead of to their side of
/// the bound, where that keeps closer to the budget. Mixes saved before the rule skip this, so
/// they re-draw as they were.
fn closer_to_budget(
    r: &Rounding<'_>,
    c: &super::bounds::Cells,
    mut target: Vec<f64>,
    rho: Vec<f64>,
    t_budget: f64,
) -> Vec<f64> {
    let off = |rho: &[f64]| r.realised(rho).iter().sum::<u64>() as f64 - t_budget;
    let largest = r.samples.iter().map(|s| s.tokens).max().unwrap_or(0) as f64;
    let mut best = (off(&rho).abs(), rho.clone());
    let mut cur = rho;
    for _ in 0..4 {
        // What the latest targets still miss scales them again.
        let miss = off(&cur);
        let free: f64 = (target.iter().zip(&c.held))
            .filter(|(_, &h)| !h)
            .map(|(t, _)| t)
            .sum();
        if miss.abs() <= 0.5 * largest.min(0.01 * t_budget).max(1.0) || free <= 0.0 {
            break;
        }
        let f = (1.0 - miss / free).max(0.0);
        for (t, &h) in target.iter_mut().zip(&c.held) {
            if !h {
                *t *= f;
            }
        }
        cur = r.correct(&c.pin, &target, &c.max);
        let o = off(&cur).abs();
        if o < best.0 {
            best = (o, cur.clone());
        }
    }
    if best.0 > largest.max(0.01 * t_budget) {
        let free_pins: Vec<Pin> = (c.pin.iter().zip(&c.held))
            .map(|(&p, &h)| if h { Pin::Free } else { p })
            .collect();
        let nearest = r.correct(&free_pins, &target, &c.max);
        let o = off(&nearest).abs();
        if o < best.0 {
            best = (o, nearest);
        }
    }
    best.1
}

/// The budget solve over the sources, for any weights of the samples (the kernel's, or those
/// scaled per topic by the topic bounds).
pub(super) struct SourceProblem<'a> {
    pub(super) samples: &'a [MixSample],
    pub(super) sources: &'a [String],
    pub(super) params: &'a DrawParams,
    pub(super) weighted: &'a Weighted,
    /// Token bounds per source.
    pub(super) lo: &'a [f64],
    pub(super) hi: &'a [f64],
}

/// The solved source scales.
pub(super) struct SourceSolution {
    pub(super) pin: Vec<Pin>,
    /// L_s per source.
    pub(super) scale: Vec<f64>,
    /// Expected tokens per source.
    pub(super) expected: Vec<f64>,
    /// The most tokens each source can supply.
    pub(super) max_s: Vec<f64>,
}

impl SourceProblem<'_> {
    /// Whether the sources are constrained at all (bounds, or the domain kernel's shares).
    pub(super) fn constrained(&self) -> bool {
        !self.params.bounds.is_empty() || self.weighted.domain_shares.is_some()
    }

    /// Steps 4-7 under the weights `w`.
    pub(super) fn solve(&self, w: &[f64]) -> Result<SourceSolution> {
        let params = self.params;
        let cap = f64::from(params.max_repeat);
        let t_budget = params.tokens as f64;
        let curves = curves(self.samples, w, self.sources.len());
        let max_s: Vec<f64> = curves.iter().map(|c| c.max(cap)).collect();
        let reachable: f64 = max_s.iter().sum();
        if t_budget > reachable {
            return Err(MixError::BudgetUnreachable {
                requested: params.tokens,
                reachable: reachable as u64,
                max_repeat: params.max_repeat,
                eligible: self.weighted.exclusions.eligible,
            });
        }
        let solve = Solve {
            curves: &curves,
            cap,
            t_budget,
            lo: self.lo,
            hi: self.hi,
            max_s: &max_s,
        };
        let domain = self.weighted.domain_shares.as_deref();
        let (pin, target) = solve.initial_pins(domain, &params.bounds)?;
        solve.check_sources(self.sources, &pin, &target, params.max_repeat)?;
        let (pin, target, lambda_free) = solve.active_set(pin, target)?;
        let scale = solve.scales(&pin, &target, lambda_free);
        let expected = (0..curves.len())
            .map(|s| curves[s].tokens(scale[s], cap))
            .collect();
        Ok(SourceSolution {
            pin,
            scale,
            expected,
            max_s,
        })
    }
}

/// Step 1: the parameters a draw refuses before any work.
fn check_params(samples: &[MixSample], sources: &[String], params: &DrawParams) -> Result<()> {
    if let Some(s) = samples.iter().find(|s| s.source as usize >= sources.len()) {
        return Err(MixError::UnknownSource {
            name: format!("#{}", s.source),
            known: sources.join(", "),
        });
    }
    if params.tokens == 0 {
        return Err(MixError::ZeroBudget);
    }
    if params.max_repeat == 0 {
        return Err(MixError::BadParameter {
            what: "max repeat",
            value: "0".into(),
            expected: "at least 1",
        });
    }
    Ok(())
}

/// Step 2: each source's tokens in the pool and its share of the pool's tokens.
fn natural_shares(samples: &[MixSample], n_src: usize) -> (Vec<u64>, Vec<f64>) {
    let mut natural = vec![0u64; n_src];
    for s in samples {
        natural[s.source as usize] += s.tokens as u64;
    }
    let pool_tokens: u64 = natural.iter().sum();
    let natural_share = natural
        .iter()
        .map(|&t| t as f64 / pool_tokens.max(1) as f64)
        .collect();
    (natural, natural_share)
}

fn check_share(what: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(MixError::BadParameter {
            what,
            value: v.to_string(),
            expected: "a finite number >= 0",
        })
    }
}

/// Step 3: the share bounds in tokens, (low, high) per source.
fn token_bounds(
    bounds: &ShareBounds,
    sources: &[String],
    natural_share: &[f64],
    t_budget: f64,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let n_src = sources.len();
    let mut lo = vec![0.0f64; n_src];
    let mut hi = vec![f64::INFINITY; n_src];
    if let Some((a, b)) = bounds.relative {
        check_share("lower source bound", a)?;
        check_share("upper source bound", b)?;
        if a > b || a > 1.0 || b < 1.0 {
            return Err(MixError::BadParameter {
                what: "source bounds",
                value: format!("{a},{b}"),
                expected: "low <= 1 <= high",
            });
        }
        for s in 0..n_src {
            lo[s] = a * natural_share[s] * t_budget;
            hi[s] = b * natural_share[s] * t_budget;
        }
    }
    for (name, share) in &bounds.min_share {
        check_share("minimum share", *share)?;
        let s = source_id(name, sources)?;
        lo[s] = lo[s].max(share * t_budget);
    }
    for (name, share) in &bounds.max_share {
        check_share("maximum share", *share)?;
        let s = source_id(name, sources)?;
        hi[s] = hi[s].min(share * t_budget);
    }
    super::bounds::check_intervals(sources, &lo, &hi, t_budget)?;
    Ok((lo, hi))
}

/// The budget solve over groups' token curves: the sources', or the topics' under the topic
/// bounds.
pub(super) struct Solve<'a> {
    pub(super) curves: &'a [Curve],
    pub(super) cap: f64,
    pub(super) t_budget: f64,
    /// Token bounds per group.
    pub(super) lo: &'a [f64],
    pub(super) hi: &'a [f64],
    /// The most tokens each group can supply.
    pub(super) max_s: &'a [f64],
}

impl Solve<'_> {
    fn n_src(&self) -> usize {
        self.curves.len()
    }

    /// Step 4: every source pinned at its exact share under the domain kernel, else free; the
    /// bounds checked for feasibility.
    fn initial_pins(
        &self,
        domain_shares: Option<&[f64]>,
        bounds: &ShareBounds,
    ) -> Result<(Vec<Pin>, Vec<f64>)> {
        let (n_src, t_budget) = (self.n_src(), self.t_budget);
        let mut pin = vec![Pin::Free; n_src];
        let mut target = vec![0.0f64; n_src];
        if let Some(shares) = domain_shares {
            if !bounds.is_empty() {
                return Err(MixError::BadParameter {
                    what: "source bounds",
                    value: "given with kernel domain".into(),
                    expected: "none: the domain kernel fixes every source's share",
                });
            }
            for s in 0..n_src {
                pin[s] = Pin::Exact;
                target[s] = shares[s] * t_budget;
            }
        } else if !bounds.is_empty() {
            let sum_lo: f64 = self.lo.iter().sum();
            if sum_lo > t_budget * (1.0 + 1e-9) {
                return Err(MixError::InfeasibleBounds {
                    reason: format!(
                        "the minimum shares add up to {:.6}, more than 1",
                        sum_lo / t_budget
                    ),
                });
            }
            let sum_hi: f64 = (0..n_src).map(|s| self.hi[s].min(self.max_s[s])).sum();
            if sum_hi < t_budget * (1.0 - 1e-9) {
                return Err(MixError::InfeasibleBounds {
                    reason: format!(
                        "the maximum shares (limited by what each source can supply) add up to \
                         {:.6}, less than 1",
                        sum_hi / t_budget
                    ),
                });
            }
        }
        Ok((pin, target))
    }

    /// Step 5: every source can supply its minimum (or its exact share).
    fn check_sources(
        &self,
        sources: &[String],
        pin: &[Pin],
        target: &[f64],
        max_repeat: u16,
    ) -> Result<()> {
        let (lo, max_s) = (self.lo, self.max_s);
        for s in 0..self.n_src() {
            if lo[s] > max_s[s] * (1.0 + 1e-12) || (pin[s] == Pin::Exact && target[s] > max_s[s]) {
                return Err(MixError::SourceUnreachable {
                    source_name: sources[s].clone(),
                    required: lo[s].max(target[s]).ceil() as u64,
                    reachable: max_s[s] as u64,
                    max_repeat,
                });
            }
        }
        Ok(())
    }

    /// Step 6, the active set: pin the most violating free source at its bound, release pinned
    /// sources the free scale would keep inside their interval, until nothing changes. Returns
    /// the pins, their targets and the free sources' scale.
    pub(super) fn active_set(
        &self,
        mut pin: Vec<Pin>,
        mut target: Vec<f64>,
    ) -> Result<(Vec<Pin>, Vec<f64>, f64)> {
        let n_src = self.n_src();
        let (curves, cap, t_budget) = (self.curves, self.cap, self.t_budget);
        let (lo, hi) = (self.lo, self.hi);
        let mut lambda_free = 0.0;
        for _ in 0..(4 * n_src + 8) {
            let fixed: f64 = (0..n_src)
                .filter(|&s| pin[s] != Pin::Free)
                .map(|s| target[s])
                .sum();
            let free: Vec<usize> = (0..n_src).filter(|&s| pin[s] == Pin::Free).collect();
            let remaining = t_budget - fixed;
            let free_max: f64 = free.iter().map(|&s| self.max_s[s]).sum();
            if remaining > free_max * (1.0 + 1e-12) + 1e-9 * t_budget {
                return Err(MixError::InfeasibleBounds {
                    reason: format!(
                        "after pinning the constrained sources, the others can supply at most {} \
                         of the remaining {} tokens",
                        free_max as u64, remaining as u64
                    ),
                });
            }
            let hi_l = free
                .iter()
                .map(|&s| curves[s].lambda_full(cap))
                .fold(0.0, f64::max);
            lambda_free = invert(remaining.min(free_max), hi_l, |l| {
                free.iter().map(|&s| curves[s].tokens(l, cap)).sum()
            });
            let tol = 1e-9 * t_budget;
            if let Some((s, p)) = self.worst_violation(&free, lambda_free, tol) {
                pin[s] = p;
                target[s] = if p == Pin::Min { lo[s] } else { hi[s] };
                continue;
            }
            let mut released = false;
            for s in 0..n_src {
                let t = curves[s].tokens(lambda_free, cap);
                let release = match pin[s] {
                    Pin::Min => t > lo[s] + tol,
                    Pin::Max => t < hi[s] - tol,
                    _ => false,
                };
                if release {
                    pin[s] = Pin::Free;
                    released = true;
                }
            }
            if !released {
                break;
            }
        }
        Ok((pin, target, lambda_free))
    }

    /// The free source whose tokens at `lambda` lie furthest outside its bounds (beyond `tol`),
    /// and the bound to pin it at.
    fn worst_violation(&self, free: &[usize], lambda: f64, tol: f64) -> Option<(usize, Pin)> {
        let mut worst: Option<(usize, f64, Pin)> = None;
        for &s in free {
            let t = self.curves[s].tokens(lambda, self.cap);
            let (v, p) = if t < self.lo[s] - tol {
                (self.lo[s] - t, Pin::Min)
            } else if t > self.hi[s] + tol {
                (t - self.hi[s], Pin::Max)
            } else {
                continue;
            };
            if worst.is_none_or(|(_, wv, _)| v > wv) {
                worst = Some((s, v, p));
            }
        }
        worst.map(|(s, _, p)| (s, p))
    }

    /// Step 7: each source's scale: the free scale, or the one that meets its pinned target.
    pub(super) fn scales(&self, pin: &[Pin], target: &[f64], lambda_free: f64) -> Vec<f64> {
        let (curves, cap) = (self.curves, self.cap);
        (0..self.n_src())
            .map(|s| match pin[s] {
                Pin::Free => lambda_free,
                _ => invert(target[s], curves[s].lambda_full(cap), |l| {
                    curves[s].tokens(l, cap)
                }),
            })
            .collect()
    }
}

/// count(x) for e(x) = `e` and the uniform bits `u`: floor(e), plus one with probability
/// frac(e).
fn count_of(e: f64, u: u32) -> u16 {
    let f = e.floor();
    let frac = e - f;
    f as u16 + (uniform_of_bits(u) < frac) as u16
}

/// Counts from scales: the rounding correction and the final counts.
struct Rounding<'a> {
    samples: &'a [MixSample],
    w: &'a [f64],
    /// Uniform bits per sample.
    u: Vec<u32>,
    /// The solved scale per source.
    scale: Vec<f64>,
    cap: f64,
}

impl Rounding<'_> {
    /// e(x) under the corrections `rho`, for a sample of weight `wx > 0`.
    fn expected(&self, rho: &[f64], s: &MixSample, wx: f64) -> f64 {
        let si = s.source as usize;
        (rho[si] * self.scale[si] * wx).min(self.cap)
    }

    /// Realised tokens per source under the corrections `rho`.
    fn realised(&self, rho: &[f64]) -> Vec<u64> {
        let n_src = self.scale.len();
        self.samples
            .par_iter()
            .zip(self.w.par_iter())
            .zip(self.u.par_iter())
            .fold(
                || vec![0u64; n_src],
                |mut acc, ((s, &wx), &ux)| {
                    if wx > 0.0 {
                        let e = self.expected(rho, s, wx);
                        acc[s.source as usize] += count_of(e, ux) as u64 * s.tokens as u64;
                    }
                    acc
                },
            )
            .reduce(
                || vec![0u64; n_src],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            )
    }

    /// The largest sample of each source with a positive weight, in tokens.
    fn largest_samples(&self) -> Vec<f64> {
        let mut m = vec![0u32; self.scale.len()];
        for (s, &wx) in self.samples.iter().zip(self.w) {
            if wx > 0.0 {
                m[s.source as usize] = m[s.source as usize].max(s.tokens);
            }
        }
        m.into_iter().map(f64::from).collect()
    }

    /// Step 8, the rounding correction: a factor rho per source so that realised tokens match
    /// the expected ones (secant steps inside a bracket, at most 40 rounds).
    fn correct(&self, pin: &[Pin], expected: &[f64], max_s: &[f64]) -> Vec<f64> {
        let n_src = self.scale.len();
        let t_max = self.largest_samples();
        let mut rho = vec![1.0f64; n_src];
        let mut br_lo = vec![0.0f64; n_src];
        let mut br_hi = vec![f64::INFINITY; n_src];
        // A source pinned at a bound must not end on the wrong side of it: among the
        // corrections tried, one that keeps it on the right side wins over a closer one that
        // does not.
        let wrong_side = |s: usize, rs: f64, es: f64| match pin[s] {
            Pin::Min => rs < es,
            Pin::Max => rs > es,
            _ => false,
        };
        // (on the wrong side of a bound, |R - E|, rho)
        let mut best: Vec<(bool, f64, f64)> = vec![(true, f64::INFINITY, 1.0); n_src];
        let tol: Vec<f64> = (0..n_src)
            .map(|s| (1e-4 * expected[s]).max(t_max[s]))
            .collect();
        for _ in 0..40 {
            let r = self.realised(&rho);
            let mut done = true;
            for s in 0..n_src {
                let (rs, es) = (r[s] as f64, expected[s]);
                let err = (rs - es).abs();
                let wrong = wrong_side(s, rs, es);
                if (wrong, err) < (best[s].0, best[s].1) {
                    best[s] = (wrong, err, rho[s]);
                }
                if (err <= tol[s] / 2.0 && !wrong) || es <= 0.0 || expected[s] >= max_s[s] {
                    continue;
                }
                if rs < es {
                    br_lo[s] = rho[s];
                } else {
                    br_hi[s] = rho[s];
                }
                let next = bracketed_step(rho[s], rs, es, br_lo[s], br_hi[s]);
                if next != rho[s] && (br_hi[s] - br_lo[s]) > 1e-15 * br_hi[s].min(1e300) {
                    rho[s] = next;
                    done = false;
                }
            }
            if done {
                break;
            }
        }
        best.iter().map(|b| b.2).collect()
    }

    /// Step 9: the final counts under the corrections `rho`.
    fn counts(&self, rho: &[f64]) -> Vec<u16> {
        self.samples
            .par_iter()
            .zip(self.w.par_iter())
            .zip(self.u.par_iter())
            .map(|((s, &wx), &ux)| {
                if wx > 0.0 {
                    count_of(self.expected(rho, s, wx), ux)
                } else {
                    0
                }
            })
            .collect()
    }
}

/// The next correction of a source at `rho` that realised `rs` tokens for `es` expected: the
/// proportional guess when it falls inside the bracket `(lo, hi)`, else the bracket's middle
/// (or twice its low end while it has no high end).
fn bracketed_step(rho: f64, rs: f64, es: f64, lo: f64, hi: f64) -> f64 {
    let guess = if rs > 0.0 { rho * es / rs } else { 0.0 };
    if guess > lo && guess < hi && guess != rho {
        guess
    } else if hi.is_finite() {
        0.5 * (lo + hi)
    } else {
        lo * 2.0
    }
}

/// Step 10: the per-source totals of the final counts.
fn per_source_totals(
    samples: &[MixSample],
    counts: &[u16],
    (natural, natural_share): (Vec<u64>, Vec<f64>),
    expected: &[f64],
    rho: &[f64],
    scale: &[f64],
    pin: &[Pin],
) -> Vec<SourceTotals> {
    let mut per_source: Vec<SourceTotals> = (0..natural.len())
        .map(|s| SourceTotals {
            natural_tokens: natural[s],
            natural_share: natural_share[s],
            expected_tokens: expected[s],
            scale: rho[s] * scale[s],
            pinned: match pin[s] {
                Pin::Free => None,
                Pin::Min => Some("min".into()),
                Pin::Max => Some("max".into()),
                Pin::Exact => Some("exact".into()),
            },
            ..Default::default()
        })
        .collect();
    for (s, &c) in samples.iter().zip(counts) {
        if c > 0 {
            let p = &mut per_source[s.source as usize];
            p.mixed_tokens += c as u64 * s.tokens as u64;
            p.samples_drawn += 1;
            p.distinct_tokens += s.tokens as u64;
        }
    }
    let total: u64 = per_source.iter().map(|p| p.mixed_tokens).sum();
    for p in &mut per_source {
        p.share = p.mixed_tokens as f64 / total.max(1) as f64;
    }
    per_source
}

#[cfg(test)]
mod step_tests {
    use super::*;

    fn sample(key: u64, tokens: u32, source: u32) -> MixSample {
        MixSample {
            key,
            text_key: 0,
            tokens,
            source,
            topic: None,
            q: None,
            d: None,
        }
    }

    fn params(tokens: u64, max_repeat: u16) -> DrawParams {
        DrawParams {
            tokens,
            seed: 7,
            max_repeat,
            bounds: ShareBounds::default(),
            uniform: UniformKey::Seq,
        }
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i}")).collect()
    }

    /// Two sources of 100 samples of 10 tokens, weights 1 (source 0) and 3 (source 1).
    fn two_sources() -> (Vec<MixSample>, Vec<f64>) {
        let samples: Vec<MixSample> = (0..200).map(|i| sample(i, 10, (i % 2) as u32)).collect();
        let w = samples
            .iter()
            .map(|s| 1.0 + 2.0 * s.source as f64)
            .collect();
        (samples, w)
    }

    #[test]
    fn check_params_refuses_unknown_sources_zero_budgets_and_zero_caps() {
        let s = [sample(0, 5, 2)];
        assert!(matches!(
            check_params(&s, &names(2), &params(10, 1)),
            Err(MixError::UnknownSource { .. })
        ));
        let s = [sample(0, 5, 1)];
        assert!(matches!(
            check_params(&s, &names(2), &params(0, 1)),
            Err(MixError::ZeroBudget)
        ));
        assert!(matches!(
            check_params(&s, &names(2), &params(10, 0)),
            Err(MixError::BadParameter { .. })
        ));
        assert!(check_params(&s, &names(2), &params(10, 1)).is_ok());
    }

    #[test]
    fn natural_shares_are_token_shares() {
        let s = [sample(0, 30, 0), sample(1, 10, 1), sample(2, 60, 0)];
        let (natural, share) = natural_shares(&s, 3);
        assert_eq!(natural, vec![90, 10, 0]);
        assert_eq!(share, vec![0.9, 0.1, 0.0]);
        assert_eq!(natural_shares(&[], 1), (vec![0], vec![0.0]));
    }

    #[test]
    fn token_bounds_combine_relative_and_absolute_shares() {
        let bounds = ShareBounds {
            relative: Some((0.5, 2.0)),
            min_share: vec![("s1".into(), 0.4)],
            max_share: vec![("s0".into(), 0.4)],
            ..ShareBounds::default()
        };
        let (lo, hi) = token_bounds(&bounds, &names(2), &[0.75, 0.25], 100.0).unwrap();
        assert_eq!(lo, vec![37.5, 40.0]);
        assert_eq!(hi, vec![40.0, 50.0]);
        // A maximum under the relative minimum contradicts it: refused, not drawn past.
        let contradictory = ShareBounds {
            max_share: vec![("s0".into(), 0.3)],
            ..bounds
        };
        assert!(matches!(
            token_bounds(&contradictory, &names(2), &[0.75, 0.25], 100.0),
            Err(MixError::InfeasibleBounds { .. })
        ));
        let bad = ShareBounds {
            relative: Some((1.5, 2.0)),
            ..ShareBounds::default()
        };
        assert!(matches!(
            token_bounds(&bad, &names(2), &[0.5, 0.5], 100.0),
            Err(MixError::BadParameter { .. })
        ));
        let unknown = ShareBounds {
            min_share: vec![("nope".into(), 0.1)],
            ..ShareBounds::default()
        };
        assert!(token_bounds(&unknown, &names(2), &[0.5, 0.5], 100.0).is_err());
        let nan = ShareBounds {
            max_share: vec![("s0".into(), f64::NAN)],
            ..ShareBounds::default()
        };
        assert!(token_bounds(&nan, &names(2), &[0.5, 0.5], 100.0).is_err());
    }

    fn solve<'a>(curves: &'a [Curve], lo: &'a [f64], hi: &'a [f64], max_s: &'a [f64]) -> Solve<'a> {
        Solve {
            curves,
            cap: 1.0,
            t_budget: 1000.0,
            lo,
            hi,
            max_s,
        }
    }

    #[test]
    fn initial_pins_fix_domain_shares_and_check_the_bounds_add_up() {
        let (samples, w) = two_sources();
        let c = curves(&samples, &w, 2);
        let max_s: Vec<f64> = c.iter().map(|c| c.max(1.0)).collect();
        assert_eq!(max_s, vec![1000.0, 1000.0]);
        let (lo, hi) = (vec![0.0; 2], vec![f64::INFINITY; 2]);
        let sv = solve(&c, &lo, &hi, &max_s);
        let none = ShareBounds::default();
        let (pin, target) = sv.initial_pins(Some(&[0.25, 0.75]), &none).unwrap();
        assert_eq!(pin, vec![Pin::Exact; 2]);
        assert_eq!(target, vec![250.0, 750.0]);
        let some = ShareBounds {
            relative: Some((0.5, 2.0)),
            ..ShareBounds::default()
        };
        assert!(sv.initial_pins(Some(&[0.5, 0.5]), &some).is_err());
        let (pin, _) = sv.initial_pins(None, &none).unwrap();
        assert_eq!(pin, vec![Pin::Free; 2]);
        let lo = vec![600.0, 600.0];
        assert!(matches!(
            solve(&c, &lo, &hi, &max_s).initial_pins(None, &some),
            Err(MixError::InfeasibleBounds { .. })
        ));
        let (lo, hi) = (vec![0.0; 2], vec![400.0, 400.0]);
        assert!(matches!(
            solve(&c, &lo, &hi, &max_s).initial_pins(None, &some),
            Err(MixError::InfeasibleBounds { .. })
        ));
    }

    #[test]
    fn check_sources_names_a_source_that_cannot_supply_its_minimum() {
        let (samples, w) = two_sources();
        let c = curves(&samples, &w, 2);
        let max_s: Vec<f64> = c.iter().map(|c| c.max(1.0)).collect();
        let (lo, hi) = (vec![0.0, 1500.0], vec![f64::INFINITY; 2]);
        let err = solve(&c, &lo, &hi, &max_s)
            .check_sources(&names(2), &[Pin::Free; 2], &[0.0; 2], 1)
            .unwrap_err();
        match err {
            MixError::SourceUnreachable {
                source_name,
                required,
                reachable,
                ..
            } => assert_eq!(
                (source_name.as_str(), required, reachable),
                ("s1", 1500, 1000)
            ),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn active_set_pins_a_source_over_its_maximum_and_the_free_one_takes_the_rest() {
        let (samples, w) = two_sources();
        let c = curves(&samples, &w, 2);
        let max_s: Vec<f64> = c.iter().map(|c| c.max(1.0)).collect();
        // Unconstrained, source 1 (3x the weight) would get 3/4 of 1000 tokens; cap it at 500.
        let (lo, hi) = (vec![0.0; 2], vec![f64::INFINITY, 500.0]);
        let sv = solve(&c, &lo, &hi, &max_s);
        assert_eq!(
            sv.worst_violation(&[0, 1], 1.0 / 3.0, 1e-6),
            Some((1, Pin::Max))
        );
        let (pin, target, lambda) = sv.active_set(vec![Pin::Free; 2], vec![0.0; 2]).unwrap();
        assert_eq!(pin, vec![Pin::Free, Pin::Max]);
        assert_eq!(target[1], 500.0);
        assert!((c[0].tokens(lambda, 1.0) - 500.0).abs() < 1e-6);
        let scale = sv.scales(&pin, &target, lambda);
        assert_eq!(scale[0], lambda);
        assert!((c[1].tokens(scale[1], 1.0) - 500.0).abs() < 1e-6);
    }

    #[test]
    fn uniforms_come_from_one_function() {
        for key in [0, 1, 99, u64::MAX] {
            let bits = uniform_bits(5, key);
            assert_eq!(
                stable_uniform(5, key),
                (xxh3_64_with_seed(&key.to_le_bytes(), 5) >> 32) as f64 / 4_294_967_296.0
            );
            assert_eq!(stable_uniform(5, key), uniform_of_bits(bits));
        }
        assert_eq!(uniform_of_bits(u32::MAX), 1.0 - 1.0 / 4_294_967_296.0);
    }

    #[test]
    fn count_of_rounds_up_with_the_fractional_probability() {
        assert_eq!(count_of(2.0, 0), 2);
        assert_eq!(count_of(2.0, u32::MAX), 2);
        assert_eq!(count_of(0.5, 0), 1);
        assert_eq!(count_of(0.5, 1 << 31), 0);
        assert_eq!(count_of(0.5, (1 << 31) - 1), 1);
        assert_eq!(count_of(0.0, 0), 0);
    }

    #[test]
    fn bracketed_step_takes_the_proportional_guess_inside_the_bracket() {
        assert_eq!(bracketed_step(1.0, 80.0, 100.0, 1.0, f64::INFINITY), 1.25);
        // The guess falls outside: the middle of the bracket, or doubling without a high end.
        assert_eq!(bracketed_step(1.0, 80.0, 100.0, 1.0, 1.1), 1.05);
        assert_eq!(bracketed_step(1.0, 0.0, 100.0, 1.0, f64::INFINITY), 2.0);
    }

    #[test]
    fn the_rounding_correction_brings_realised_tokens_to_the_expected_ones() {
        let samples: Vec<MixSample> = (0..5000)
            .map(|i| sample(i, 1 + (i % 7) as u32, 0))
            .collect();
        let w = vec![1.0; samples.len()];
        let rounding = Rounding {
            samples: &samples,
            w: &w,
            u: samples.iter().map(|s| uniform_bits(3, s.key)).collect(),
            scale: vec![0.37],
            cap: 4.0,
        };
        let tokens: f64 = samples.iter().map(|s| f64::from(s.tokens)).sum();
        let expected = [0.37 * tokens];
        assert_eq!(rounding.largest_samples(), vec![7.0]);
        let rho = rounding.correct(&[Pin::Free], &expected, &[4.0 * tokens]);
        let realised = rounding.realised(&rho)[0] as f64;
        assert!(
            (realised - expected[0]).abs() <= 7.0 / 2.0,
            "{realised} vs {}",
            expected[0]
        );
        let counts = rounding.counts(&rho);
        let from_counts: u64 = counts
            .iter()
            .zip(&samples)
            .map(|(&c, s)| u64::from(c) * u64::from(s.tokens))
            .sum();
        assert_eq!(from_counts as f64, realised);
        assert!(counts.iter().all(|&c| c <= 1));
    }

    #[test]
    fn per_source_totals_add_up_the_counts() {
        let s = [sample(0, 10, 0), sample(1, 20, 1), sample(2, 30, 1)];
        let totals = per_source_totals(
            &s,
            &[2, 0, 1],
            (vec![10, 50], vec![1.0 / 6.0, 5.0 / 6.0]),
            &[20.0, 30.0],
            &[1.0, 0.5],
            &[2.0, 4.0],
            &[Pin::Free, Pin::Min],
        );
        assert_eq!(totals[0].mixed_tokens, 20);
        assert_eq!(totals[1].mixed_tokens, 30);
        assert_eq!((totals[0].share, totals[1].share), (0.4, 0.6));
        assert_eq!(
            (totals[1].samples_drawn, totals[1].distinct_tokens),
            (1, 30)
        );
        assert_eq!((totals[0].scale, totals[1].scale), (2.0, 2.0));
        assert_eq!(totals[1].pinned.as_deref(), Some("min"));
        assert_eq!(totals[0].pinned, None);
    }
}
