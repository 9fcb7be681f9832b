//! The budget solve and the counts (see the module docs of [`crate::mix`]).

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
}

impl ShareBounds {
    /// Whether no constraint is set.
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
    (xxh3_64_with_seed(&key.to_le_bytes(), seed) >> 32) as f64 / 4_294_967_296.0
}

/// One source's token curve: tokens(λ) = Σ min(cap, λ w) t over its samples with w > 0, the
/// weights rounded to f32 (a relative error of 6e-8 in λ, which the rounding correction absorbs).
struct Curve {
    /// Weights, descending.
    w: Vec<f32>,
    /// cum_t[k] = tokens of the k largest weights.
    cum_t: Vec<f64>,
    /// cum_wt[k] = Σ w t over the k largest weights.
    cum_wt: Vec<f64>,
}

impl Curve {
    fn tokens(&self, lambda: f64, cap: f64) -> f64 {
        if lambda <= 0.0 || self.w.is_empty() {
            return 0.0;
        }
        let thr = cap / lambda;
        let k = self.w.partition_point(|&w| w as f64 >= thr);
        let m = self.w.len();
        cap * self.cum_t[k] + lambda * (self.cum_wt[m] - self.cum_wt[k])
    }
    fn max(&self, cap: f64) -> f64 {
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
    // Bucket by source, each item packed as (f32 bits of w) << 32 | tokens: a positive f32's
    // bits order like its value, so sorting the u64s descending sorts by weight.
    let mut sizes = vec![0usize; n_src];
    for (s, &wx) in samples.iter().zip(w) {
        if wx > 0.0 {
            sizes[s.source as usize] += 1;
        }
    }
    let mut buckets: Vec<Vec<u64>> = sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
    for (s, &wx) in samples.iter().zip(w) {
        if wx > 0.0 {
            let w32 = (wx as f32).max(f32::MIN_POSITIVE);
            buckets[s.source as usize].push(((w32.to_bits() as u64) << 32) | s.tokens as u64);
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
enum Pin {
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
    let n_src = sources.len();
    if let Some(s) = samples.iter().find(|s| s.source as usize >= n_src) {
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
    let cap = params.max_repeat as f64;
    let t_budget = params.tokens as f64;
    let w = &weighted.w;
    let curves = curves(samples, w, n_src);
    let max_s: Vec<f64> = curves.iter().map(|c| c.max(cap)).collect();
    let reachable: f64 = max_s.iter().sum();
    if t_budget > reachable {
        return Err(MixError::BudgetUnreachable {
            requested: params.tokens,
            reachable: reachable as u64,
            max_repeat: params.max_repeat,
            eligible: weighted.exclusions.eligible,
        });
    }

    // Natural shares: of the pool's tokens.
    let mut natural = vec![0u64; n_src];
    for s in samples {
        natural[s.source as usize] += s.tokens as u64;
    }
    let pool_tokens: u64 = natural.iter().sum();
    let natural_share: Vec<f64> = natural
        .iter()
        .map(|&t| t as f64 / pool_tokens.max(1) as f64)
        .collect();

    // Bounds in tokens.
    let mut lo = vec![0.0f64; n_src];
    let mut hi = vec![f64::INFINITY; n_src];
    let bounds = &params.bounds;
    let check_share = |what: &'static str, v: f64| -> Result<()> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(MixError::BadParameter {
                what,
                value: v.to_string(),
                expected: "a finite number >= 0",
            })
        }
    };
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
    let mut pin = vec![Pin::Free; n_src];
    let mut target = vec![0.0f64; n_src];
    if let Some(shares) = &weighted.domain_shares {
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
        let sum_lo: f64 = lo.iter().sum();
        if sum_lo > t_budget * (1.0 + 1e-9) {
            return Err(MixError::InfeasibleBounds {
                reason: format!(
                    "the minimum shares add up to {:.6}, more than 1",
                    sum_lo / t_budget
                ),
            });
        }
        let sum_hi: f64 = (0..n_src).map(|s| hi[s].min(max_s[s])).sum();
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
    for s in 0..n_src {
        if lo[s] > max_s[s] * (1.0 + 1e-12) || (pin[s] == Pin::Exact && target[s] > max_s[s]) {
            return Err(MixError::SourceUnreachable {
                source_name: sources[s].clone(),
                required: lo[s].max(target[s]).ceil() as u64,
                reachable: max_s[s] as u64,
                max_repeat: params.max_repeat,
            });
        }
    }

    // Active set: pin the most violating free source at its bound, release pinned sources the
    // free scale would keep inside their interval, until nothing changes.
    let mut lambda_free = 0.0;
    for _ in 0..(4 * n_src + 8) {
        let fixed: f64 = (0..n_src)
            .filter(|&s| pin[s] != Pin::Free)
            .map(|s| target[s])
            .sum();
        let free: Vec<usize> = (0..n_src).filter(|&s| pin[s] == Pin::Free).collect();
        let remaining = t_budget - fixed;
        let free_max: f64 = free.iter().map(|&s| max_s[s]).sum();
        if remaining > free_max * (1.0 + 1e-12) + 1e-9 * t_budget {
            return Err(MixError::InfeasibleBounds {
                reason: format!(
                    "after pinning the constrained sources, the others can supply at most {} of \
                     the remaining {} tokens",
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
        let mut worst: Option<(usize, f64, Pin)> = None;
        for &s in &free {
            let t = curves[s].tokens(lambda_free, cap);
            let (v, p) = if t < lo[s] - tol {
                (lo[s] - t, Pin::Min)
            } else if t > hi[s] + tol {
                (t - hi[s], Pin::Max)
            } else {
                continue;
            };
            if worst.is_none_or(|(_, wv, _)| v > wv) {
                worst = Some((s, v, p));
            }
        }
        if let Some((s, _, p)) = worst {
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
    let lambda: Vec<f64> = (0..n_src)
        .map(|s| match pin[s] {
            Pin::Free => lambda_free,
            _ => invert(target[s], curves[s].lambda_full(cap), |l| {
                curves[s].tokens(l, cap)
            }),
        })
        .collect();
    let expected: Vec<f64> = (0..n_src)
        .map(|s| curves[s].tokens(lambda[s], cap))
        .collect();
    let t_max: Vec<f64> = {
        let mut m = vec![0u32; n_src];
        for (s, &wx) in samples.iter().zip(w) {
            if wx > 0.0 {
                m[s.source as usize] = m[s.source as usize].max(s.tokens);
            }
        }
        m.into_iter().map(|x| x as f64).collect()
    };

    // Rounding correction: per-source factor rho so realised tokens match expected tokens.
    let u: Vec<u32> = samples
        .par_iter()
        .map(|s| (xxh3_64_with_seed(&s.key.to_le_bytes(), params.seed) >> 32) as u32)
        .collect();
    let count_of = |e: f64, u: u32| -> u16 {
        let f = e.floor();
        let frac = e - f;
        f as u16 + ((u as f64 / 4_294_967_296.0) < frac) as u16
    };
    let scale: Vec<f64> = lambda.clone();
    let realised = |rho: &[f64]| -> Vec<u64> {
        samples
            .par_iter()
            .zip(w.par_iter())
            .zip(u.par_iter())
            .fold(
                || vec![0u64; n_src],
                |mut acc, ((s, &wx), &ux)| {
                    if wx > 0.0 {
                        let si = s.source as usize;
                        let e = (rho[si] * scale[si] * wx).min(cap);
                        acc[si] += count_of(e, ux) as u64 * s.tokens as u64;
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
    };
    let mut rho = vec![1.0f64; n_src];
    let mut br_lo = vec![0.0f64; n_src];
    let mut br_hi = vec![f64::INFINITY; n_src];
    // A source pinned at a bound must not end on the wrong side of it: among the corrections
    // tried, one that keeps it on the right side wins over a closer one that does not.
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
        let r = realised(&rho);
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
            let guess = if rs > 0.0 { rho[s] * es / rs } else { 0.0 };
            let next = if guess > br_lo[s] && guess < br_hi[s] && guess != rho[s] {
                guess
            } else if br_hi[s].is_finite() {
                0.5 * (br_lo[s] + br_hi[s])
            } else {
                br_lo[s] * 2.0
            };
            if next != rho[s] && (br_hi[s] - br_lo[s]) > 1e-15 * br_hi[s].min(1e300) {
                rho[s] = next;
                done = false;
            }
        }
        if done {
            break;
        }
    }
    let rho: Vec<f64> = best.iter().map(|b| b.2).collect();

    // Final counts.
    let counts: Vec<u16> = samples
        .par_iter()
        .zip(w.par_iter())
        .zip(u.par_iter())
        .map(|((s, &wx), &ux)| {
            if wx > 0.0 {
                let si = s.source as usize;
                count_of((rho[si] * scale[si] * wx).min(cap), ux)
            } else {
                0
            }
        })
        .collect();
    let mut per_source: Vec<SourceTotals> = (0..n_src)
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
    for (s, &c) in samples.iter().zip(&counts) {
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
    Ok(Draw {
        counts,
        tokens: total,
        expected_tokens: expected.iter().sum(),
        per_source,
    })
}
