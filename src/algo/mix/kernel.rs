//! Weighting kernels: w(x) >= 0 per sample (see the module docs of [`crate::algo::mix`]).

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{MixError, Result};
use super::MixSample;

/// q and d are clamped to `[CORNER_EPS, 1 - CORNER_EPS]` before the bivariate beta density is
/// evaluated: the density vanishes or blows up at 0 and 1 (x^(a-1) for a < 1, and
/// (1 - xy)^-(a+b+c) at the corner (1, 1)), and a midrank q can be exactly 0. The clamp bounds
/// the weight of the few samples that sit in a corner; the repetition cap bounds it again.
pub const CORNER_EPS: f64 = 1e-3;

/// A weighting kernel with its parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kernel", rename_all = "kebab-case")]
pub enum Kernel {
    /// Target joint density of (q, d): the Olkin-Liu bivariate beta with shapes a (quality),
    /// b (diversity), c (coupling); marginals Beta(a, c) and Beta(b, c).
    BivariateBeta {
        /// Quality shape.
        a: f64,
        /// Diversity shape.
        b: f64,
        /// Coupling shape.
        c: f64,
    },
    /// w = alpha d + (1 - alpha) q.
    Linear {
        /// Weight of diversity, in `[0, 1]`.
        alpha: f64,
    },
    /// Uniform over samples: every source keeps its natural share.
    Natural,
    /// Given token shares per source, uniform inside a source.
    Domain {
        /// (source name, share); sources not listed get 0.
        shares: Vec<(String, f64)>,
        /// Divide by the sum instead of requiring a sum of 1.
        normalise: bool,
    },
    /// The best `fraction` of samples by q, uniformly.
    QualityThreshold {
        /// Fraction kept, in `(0, 1]`.
        fraction: f64,
    },
    /// Equal tokens per topic.
    TopicBalanced,
}

impl Kernel {
    /// Default shapes of `bivariate-beta`, chosen by `tools/evaluate.sh` (BENCHMARKS.md, "Mixes
    /// judged on held-out text"): marginals Beta(2, 2) for q and d, which favour the middle of
    /// both ranks. On the demo pool this gave the lowest held-out bits per byte of the 18 shapes
    /// measured, level with natural proportions, while cutting the labelled junk from 6.6% to
    /// 2.1% of the tokens and the drawn samples with a near-duplicate from 1% to 0.1-0.2%:
    /// each kind of junk sits at an edge (keyword spam at the top of q and d, gibberish at the
    /// top of d and bottom of q, shuffled text at the bottom of q, repeated boilerplate at the
    /// bottom of d), so all are pushed down. Every shape that tilts toward high q or d (c = 1
    /// with a or b above 1) moved books from 27% to 17% or less of the tokens and lost
    /// held-out perplexity (docs/method.md, "Pitfalls").
    pub const DEFAULT_BIVARIATE_BETA: Kernel = Kernel::BivariateBeta {
        a: 2.0,
        b: 2.0,
        c: 2.0,
    };
    /// The paper's linear weight, a = 0.8 (0.5 and 0.2 measured the same within noise).
    pub const DEFAULT_LINEAR_ALPHA: f64 = 0.8;
    /// Default fraction of `quality-threshold`: 0.8 (keeping half cut books to 3% of the tokens
    /// and gave the worst held-out perplexity of all kernels; BENCHMARKS.md).
    pub const DEFAULT_QUALITY_FRACTION: f64 = 0.8;

    /// The kernel's command-line name.
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::BivariateBeta { .. } => "bivariate-beta",
            Kernel::Linear { .. } => "linear",
            Kernel::Natural => "natural",
            Kernel::Domain { .. } => "domain",
            Kernel::QualityThreshold { .. } => "quality-threshold",
            Kernel::TopicBalanced => "topic-balanced",
        }
    }

    /// Whether the kernel reads (q, d, topic).
    pub fn needs(&self) -> (bool, bool, bool) {
        match self {
            Kernel::BivariateBeta { .. } => (true, true, false),
            Kernel::Linear { alpha } => (*alpha < 1.0, *alpha > 0.0, false),
            Kernel::Natural | Kernel::Domain { .. } => (false, false, false),
            Kernel::QualityThreshold { .. } => (true, false, false),
            Kernel::TopicBalanced => (false, false, true),
        }
    }
}

/// Samples left out of a draw because they lack what the kernel needs, and those left in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exclusions {
    /// Samples without a quality score (kernel needs q).
    pub no_quality: u64,
    /// Samples with q but without a diversity score (kernel needs d).
    pub no_diversity: u64,
    /// Samples without a topic (kernel needs one).
    pub no_topic: u64,
    /// Samples with zero tokens.
    pub zero_tokens: u64,
    /// Samples with a positive weight.
    pub eligible: u64,
}

/// The weights of a pool under a kernel.
#[derive(Clone, Debug)]
pub struct Weighted {
    /// w(x) per sample, parallel to the samples; 0 for excluded samples.
    pub w: Vec<f64>,
    /// What was left out.
    pub exclusions: Exclusions,
    /// Exact token shares per source id (the `domain` kernel), resolved and normalised.
    pub domain_shares: Option<Vec<f64>>,
    /// The pool density g (the `bivariate-beta` kernel).
    pub density: Option<PoolDensity>,
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut s = G[0];
    for (i, g) in G.iter().enumerate().skip(1) {
        s += g / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + s.ln()
}

/// ln f(x, y) of the Olkin-Liu bivariate beta:
/// f = x^(a-1) y^(b-1) (1-x)^(b+c-1) (1-y)^(a+c-1) / (B(a,b,c) (1-xy)^(a+b+c)),
/// B(a,b,c) = Γ(a)Γ(b)Γ(c)/Γ(a+b+c), at x and y clamped to `[CORNER_EPS, 1 - CORNER_EPS]`.
fn ln_bivariate_beta(x: f64, y: f64, a: f64, b: f64, c: f64, ln_b: f64) -> f64 {
    let x = x.clamp(CORNER_EPS, 1.0 - CORNER_EPS);
    let y = y.clamp(CORNER_EPS, 1.0 - CORNER_EPS);
    (a - 1.0) * x.ln()
        + (b - 1.0) * y.ln()
        + (b + c - 1.0) * (1.0 - x).ln()
        + (a + c - 1.0) * (1.0 - y).ln()
        - (a + b + c) * (1.0 - x * y).ln()
        - ln_b
}

fn ln_beta3(a: f64, b: f64, c: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) + ln_gamma(c) - ln_gamma(a + b + c)
}

/// The Olkin-Liu bivariate beta density f(x, y) (see [`Kernel::BivariateBeta`]), with the
/// corner clamp of [`CORNER_EPS`].
pub fn bivariate_beta_density(x: f64, y: f64, a: f64, b: f64, c: f64) -> f64 {
    ln_bivariate_beta(x, y, a, b, c, ln_beta3(a, b, c)).exp()
}

/// The pool's smoothed joint density g(q, d).
///
/// A G x G histogram of (q, d) on `[0, 1]^2` with G = clamp(round(sqrt(n / 100)), 2, 48) (about
/// 100 samples a cell on average; 48 for 230k samples or more), cell density = count / (n cell
/// area). g at a point is the bilinear interpolation of the cell densities at the cell centres
/// (points within half a cell of the border take the border cells' values), floored at half a
/// sample per cell (0.5 / (n area)) so that a lone sample next to empty cells cannot take an
/// unbounded weight. A histogram is a box-smoothed density; interpolating it between centres
/// makes its bias second order in the cell width.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolDensity {
    /// Cells per axis.
    pub grid: usize,
    /// Density per cell, row-major with q as the row: `density[iq * grid + id]`.
    pub density: Vec<f64>,
    /// Smallest density returned.
    pub floor: f64,
}

impl PoolDensity {
    /// Fewest cells a side.
    pub const MIN_GRID: usize = 2;
    /// Most cells a side.
    pub const MAX_GRID: usize = 48;

    /// Grid size for n points.
    pub fn grid_for(n: usize) -> usize {
        ((n as f64 / 100.0).sqrt().round() as usize).clamp(Self::MIN_GRID, Self::MAX_GRID)
    }

    /// Fits g to the points (q, d).
    pub fn fit(points: &[(f32, f32)]) -> PoolDensity {
        Self::fit_iter(points.par_iter().copied())
    }

    /// The grid of a re-draw whose previous draw used `previous` cells a side, over n points:
    /// `previous` while the pool's own grid ([`Self::grid_for`]) is within 10% of it, so that a
    /// small append does not move every weight by re-binning the density; the pool's own grid
    /// once it has grown or shrunk further.
    pub fn grid_keeping(previous: Option<usize>, n: usize) -> usize {
        let own = Self::grid_for(n);
        match previous {
            Some(p)
                if (Self::MIN_GRID..=Self::MAX_GRID).contains(&p)
                    && own.abs_diff(p) as f64 <= 0.1 * p as f64 =>
            {
                p
            }
            _ => own,
        }
    }

    /// Fits g to the points (q, d) of a parallel iterator.
    pub fn fit_iter(points: impl ParallelIterator<Item = (f32, f32)> + Clone) -> PoolDensity {
        Self::fit_iter_keeping(points, None)
    }

    /// Fits g to the points (q, d), on the grid [`Self::grid_keeping`] chooses.
    pub fn fit_iter_keeping(
        points: impl ParallelIterator<Item = (f32, f32)> + Clone,
        previous_grid: Option<usize>,
    ) -> PoolDensity {
        let n_points = points.clone().count();
        let n = n_points.max(1);
        let g = Self::grid_keeping(previous_grid, n_points);
        let counts = points
            .fold(
                || vec![0u64; g * g],
                |mut acc, (q, d)| {
                    acc[Self::cell(q as f64, g) * g + Self::cell(d as f64, g)] += 1;
                    acc
                },
            )
            .reduce(
                || vec![0u64; g * g],
                |mut a, b| {
                    a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                    a
                },
            );
        let area = 1.0 / (g * g) as f64;
        let density = counts
            .iter()
            .map(|&c| c as f64 / (n as f64 * area))
            .collect();
        PoolDensity {
            grid: g,
            density,
            floor: 0.5 / (n as f64 * area),
        }
    }

    fn cell(v: f64, g: usize) -> usize {
        ((v.clamp(0.0, 1.0) * g as f64) as usize).min(g - 1)
    }

    /// g(q, d).
    pub fn at(&self, q: f64, d: f64) -> f64 {
        let g = self.grid;
        // Position in cell-centre coordinates: centre i sits at (i + 0.5) / g.
        let pos = |v: f64| (v.clamp(0.0, 1.0) * g as f64 - 0.5).clamp(0.0, (g - 1) as f64);
        let (pq, pd) = (pos(q), pos(d));
        let (i0, j0) = (pq.floor() as usize, pd.floor() as usize);
        let (i1, j1) = ((i0 + 1).min(g - 1), (j0 + 1).min(g - 1));
        let (fq, fd) = (pq - i0 as f64, pd - j0 as f64);
        let v = |i: usize, j: usize| self.density[i * g + j];
        let val = (1.0 - fq) * ((1.0 - fd) * v(i0, j0) + fd * v(i0, j1))
            + fq * ((1.0 - fd) * v(i1, j0) + fd * v(i1, j1));
        val.max(self.floor)
    }
}

fn bad(what: &'static str, value: f64, expected: &'static str) -> MixError {
    MixError::BadParameter {
        what,
        value: value.to_string(),
        expected,
    }
}

fn check_params(kernel: &Kernel) -> Result<()> {
    let positive = |what, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(bad(what, v, "a finite number above 0"))
        }
    };
    match *kernel {
        Kernel::BivariateBeta { a, b, c } => {
            positive("a", a)?;
            positive("b", b)?;
            positive("c", c)?;
        }
        Kernel::Linear { alpha } if !(0.0..=1.0).contains(&alpha) => {
            return Err(bad("alpha", alpha, "a number in [0, 1]"));
        }
        Kernel::QualityThreshold { fraction } if !(fraction > 0.0 && fraction <= 1.0) => {
            return Err(bad("fraction", fraction, "a number in (0, 1]"));
        }
        _ => {}
    }
    Ok(())
}

/// Resolves domain shares by source name into shares per source id (summing to 1).
pub(crate) fn resolve_shares(
    shares: &[(String, f64)],
    normalise: bool,
    sources: &[String],
) -> Result<Vec<f64>> {
    let mut out = vec![0.0; sources.len()];
    let mut seen = vec![false; sources.len()];
    for (name, share) in shares {
        let id = source_id(name, sources)?;
        if !share.is_finite() || *share < 0.0 {
            return Err(MixError::BadParameter {
                what: "domain share",
                value: format!("{name}={share}"),
                expected: "a finite number >= 0",
            });
        }
        if seen[id] {
            return Err(MixError::BadParameter {
                what: "domain share",
                value: name.clone(),
                expected: "each source given once",
            });
        }
        seen[id] = true;
        out[id] = *share;
    }
    let sum: f64 = out.iter().sum();
    if normalise {
        if sum <= 0.0 {
            return Err(MixError::WeightsDoNotSumToOne { sum });
        }
        out.iter_mut().for_each(|s| *s /= sum);
    } else if (sum - 1.0).abs() > 1e-6 {
        return Err(MixError::WeightsDoNotSumToOne { sum });
    }
    Ok(out)
}

/// The id of a source name, or [`MixError::UnknownSource`].
pub(crate) fn source_id(name: &str, sources: &[String]) -> Result<usize> {
    sources
        .iter()
        .position(|s| s == name)
        .ok_or_else(|| MixError::UnknownSource {
            name: name.to_string(),
            known: sources.join(", "),
        })
}

/// The weights of every sample under `kernel`. `sources` names the source ids.
pub fn weights(samples: &[MixSample], sources: &[String], kernel: &Kernel) -> Result<Weighted> {
    weights_keeping_grid(samples, sources, kernel, None)
}

/// [`weights`] for a re-draw: `bivariate-beta` keeps the pool density's grid of the previous
/// draw while the pool's own grid stays within 10% of it ([`PoolDensity::grid_keeping`]).
pub fn weights_keeping_grid(
    samples: &[MixSample],
    sources: &[String],
    kernel: &Kernel,
    previous_grid: Option<usize>,
) -> Result<Weighted> {
    check_params(kernel)?;
    let (eligible, mut ex) = eligibility(samples, kernel);
    check_scores_exist(samples, kernel)?;
    let mut domain_shares = None;
    let mut density = None;
    let w: Vec<f64> = match kernel {
        Kernel::Natural => eligible.iter().map(|&e| e as u8 as f64).collect(),
        Kernel::Domain { shares, normalise } => {
            let resolved = resolve_shares(shares, *normalise, sources)?;
            let w = domain_weights(samples, &eligible, &resolved);
            domain_shares = Some(resolved);
            w
        }
        Kernel::Linear { alpha } => linear_weights(samples, &eligible, *alpha),
        Kernel::BivariateBeta { a, b, c } => {
            let (w, g) = bivariate_beta_weights(samples, &eligible, (*a, *b, *c), previous_grid);
            density = Some(g);
            w
        }
        Kernel::QualityThreshold { fraction } => {
            quality_threshold_weights(samples, &eligible, *fraction)
        }
        Kernel::TopicBalanced => topic_balanced_weights(samples, &eligible),
    };
    ex.eligible = w.iter().filter(|&&x| x > 0.0).count() as u64;
    if ex.eligible == 0 {
        return Err(MixError::NothingToDraw {
            kernel: kernel.name(),
        });
    }
    Ok(Weighted {
        w,
        exclusions: ex,
        domain_shares,
        density,
    })
}

/// Step 1: which samples the kernel can weigh (tokens, and the scores it needs), and why the
/// others are left out (`eligible` still 0: it counts positive weights once they are known).
fn eligibility(samples: &[MixSample], kernel: &Kernel) -> (Vec<bool>, Exclusions) {
    let (need_q, need_d, need_topic) = kernel.needs();
    let reason: Vec<u8> = samples
        .par_iter()
        .map(|s| {
            if s.tokens == 0 {
                1
            } else if need_q && s.q.is_none() {
                2
            } else if need_d && s.d.is_none() {
                3
            } else if need_topic && s.topic.is_none() {
                4
            } else {
                0
            }
        })
        .collect();
    let mut reasons = [0u64; 5];
    for &e in &reason {
        reasons[e as usize] += 1;
    }
    let ex = Exclusions {
        zero_tokens: reasons[1],
        no_quality: reasons[2],
        no_diversity: reasons[3],
        no_topic: reasons[4],
        ..Default::default()
    };
    (reason.into_par_iter().map(|e| e == 0).collect(), ex)
}

/// Step 2: a kernel that needs a score no sample has is refused with what to run.
fn check_scores_exist(samples: &[MixSample], kernel: &Kernel) -> Result<()> {
    let (need_q, need_d, need_topic) = kernel.needs();
    let name = kernel.name();
    if need_q && !samples.par_iter().any(|s| s.q.is_some()) {
        return Err(MixError::MissingScore {
            kernel: name,
            what: "a quality score q(x)",
            run: "samplemix score",
            alt: ", topic-balanced",
        });
    }
    if need_d && !samples.par_iter().any(|s| s.d.is_some()) {
        return Err(MixError::MissingScore {
            kernel: name,
            what: "a diversity score d(x)",
            run: "samplemix topics",
            alt: ", quality-threshold",
        });
    }
    if need_topic && !samples.par_iter().any(|s| s.topic.is_some()) {
        return Err(MixError::MissingScore {
            kernel: name,
            what: "a topic",
            run: "samplemix topics",
            alt: ", quality-threshold",
        });
    }
    Ok(())
}

/// `domain`: 1 for an eligible sample of a source with a positive share, else 0.
fn domain_weights(samples: &[MixSample], eligible: &[bool], shares: &[f64]) -> Vec<f64> {
    samples
        .iter()
        .zip(eligible)
        .map(|(s, &e)| {
            let share = shares.get(s.source as usize).copied().unwrap_or(0.0);
            if e && share > 0.0 {
                1.0
            } else {
                0.0
            }
        })
        .collect()
}

/// `linear`: alpha d + (1 - alpha) q.
fn linear_weights(samples: &[MixSample], eligible: &[bool], alpha: f64) -> Vec<f64> {
    samples
        .par_iter()
        .zip(eligible.par_iter())
        .map(|(s, &e)| {
            if !e {
                return 0.0;
            }
            let q = s.q.unwrap_or(0.0) as f64;
            let d = s.d.unwrap_or(0.0) as f64;
            (alpha * d + (1.0 - alpha) * q).max(0.0)
        })
        .collect()
}

/// `bivariate-beta`: the Olkin-Liu density over the pool density g of the eligible samples'
/// (q, d), fitted on the grid [`PoolDensity::grid_keeping`] chooses. Returns g too.
fn bivariate_beta_weights(
    samples: &[MixSample],
    eligible: &[bool],
    (a, b, c): (f64, f64, f64),
    previous_grid: Option<usize>,
) -> (Vec<f64>, PoolDensity) {
    let g = PoolDensity::fit_iter_keeping(
        samples
            .par_iter()
            .zip(eligible.par_iter())
            .filter(|(_, &e)| e)
            .map(|(s, _)| (s.q.unwrap_or(0.0), s.d.unwrap_or(0.0))),
        previous_grid,
    );
    let ln_b = ln_beta3(a, b, c);
    let w = samples
        .par_iter()
        .zip(eligible.par_iter())
        .map(|(s, &e)| {
            if !e {
                return 0.0;
            }
            let (q, d) = (s.q.unwrap_or(0.0) as f64, s.d.unwrap_or(0.0) as f64);
            (ln_bivariate_beta(q, d, a, b, c, ln_b) - g.at(q, d).ln()).exp()
        })
        .collect();
    (w, g)
}

/// `quality-threshold`: 1 for the eligible samples whose q is among the top `fraction` (at
/// least one sample; ties at the threshold all kept).
fn quality_threshold_weights(samples: &[MixSample], eligible: &[bool], fraction: f64) -> Vec<f64> {
    let mut qs: Vec<f32> = samples
        .iter()
        .zip(eligible)
        .filter(|(_, &e)| e)
        .map(|(s, _)| s.q.unwrap_or(0.0))
        .collect();
    let keep = ((qs.len() as f64 * fraction).ceil() as usize).clamp(1, qs.len().max(1));
    let threshold = if qs.is_empty() {
        f32::INFINITY
    } else {
        let k = qs.len() - keep;
        *qs.select_nth_unstable_by(k, f32::total_cmp).1
    };
    samples
        .iter()
        .zip(eligible)
        .map(|(s, &e)| (e && s.q.unwrap_or(0.0) >= threshold) as u8 as f64)
        .collect()
}

/// `topic-balanced`: 1 / (tokens of the sample's topic), so every topic weighs the same.
fn topic_balanced_weights(samples: &[MixSample], eligible: &[bool]) -> Vec<f64> {
    let mut topic_tokens: HashMap<u32, u64> = HashMap::new();
    for (s, &e) in samples.iter().zip(eligible) {
        if e {
            *topic_tokens.entry(s.topic.unwrap_or(0)).or_default() += s.tokens as u64;
        }
    }
    samples
        .iter()
        .zip(eligible)
        .map(|(s, &e)| {
            if e {
                1.0 / topic_tokens[&s.topic.unwrap_or(0)] as f64
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod step_tests {
    use super::*;

    fn sample(
        tokens: u32,
        source: u32,
        q: Option<f32>,
        d: Option<f32>,
        topic: Option<u32>,
    ) -> MixSample {
        MixSample {
            key: 0,
            text_key: 0,
            tokens,
            source,
            topic,
            q,
            d,
        }
    }

    fn pool() -> Vec<MixSample> {
        vec![
            sample(0, 0, Some(0.5), Some(0.5), Some(0)),
            sample(10, 0, None, Some(0.5), Some(0)),
            sample(10, 1, Some(0.2), None, None),
            sample(10, 1, Some(0.9), Some(0.1), Some(1)),
            sample(30, 0, Some(0.6), Some(0.8), Some(0)),
        ]
    }

    #[test]
    fn eligibility_counts_the_first_reason_each_sample_is_left_out() {
        let (eligible, ex) = eligibility(&pool(), &Kernel::DEFAULT_BIVARIATE_BETA);
        assert_eq!(eligible, vec![false, false, false, true, true]);
        assert_eq!(
            (
                ex.zero_tokens,
                ex.no_quality,
                ex.no_diversity,
                ex.no_topic,
                ex.eligible
            ),
            (1, 1, 1, 0, 0)
        );
        let (eligible, ex) = eligibility(&pool(), &Kernel::TopicBalanced);
        assert_eq!(eligible, vec![false, true, false, true, true]);
        assert_eq!((ex.zero_tokens, ex.no_topic), (1, 1));
        let (eligible, _) = eligibility(&pool(), &Kernel::Natural);
        assert_eq!(eligible, vec![false, true, true, true, true]);
    }

    #[test]
    fn check_scores_exist_names_what_to_run() {
        let unscored = vec![sample(10, 0, None, None, None)];
        match check_scores_exist(&unscored, &Kernel::QualityThreshold { fraction: 0.5 }) {
            Err(MixError::MissingScore { run, .. }) => assert_eq!(run, "samplemix score"),
            r => panic!("{r:?}"),
        }
        match check_scores_exist(&unscored, &Kernel::TopicBalanced) {
            Err(MixError::MissingScore { what, .. }) => assert_eq!(what, "a topic"),
            r => panic!("{r:?}"),
        }
        assert!(check_scores_exist(&unscored, &Kernel::Natural).is_ok());
        assert!(check_scores_exist(&pool(), &Kernel::DEFAULT_BIVARIATE_BETA).is_ok());
    }

    #[test]
    fn the_simple_kernels_weigh_as_documented() {
        let p = pool();
        let all = vec![false, true, true, true, true];
        assert_eq!(
            domain_weights(&p, &all, &[0.0, 1.0]),
            vec![0.0, 0.0, 1.0, 1.0, 0.0]
        );
        let lin = linear_weights(&p, &all, 0.25);
        assert_eq!(lin[0], 0.0);
        assert!((lin[3] - (0.25 * 0.1f32 as f64 + 0.75 * 0.9f32 as f64)).abs() < 1e-12);
        assert!(
            (lin[1] - 0.25 * 0.5).abs() < 1e-12,
            "a missing q counts as 0"
        );
        // q of the eligible: 0.2, 0.9, 0.6 (and 0 for the missing one): the top half is 2 of 4.
        assert_eq!(
            quality_threshold_weights(&p, &all, 0.5),
            vec![0.0, 0.0, 0.0, 1.0, 1.0]
        );
        assert_eq!(
            quality_threshold_weights(&p, &[false; 5], 0.5),
            vec![0.0; 5]
        );
        // Topic 0 holds 50 eligible tokens (None counts as topic 0), topic 1 holds 10.
        assert_eq!(
            topic_balanced_weights(&p, &all),
            vec![0.0, 1.0 / 50.0, 1.0 / 50.0, 1.0 / 10.0, 1.0 / 50.0]
        );
    }

    #[test]
    fn bivariate_beta_weights_divide_the_target_by_the_pool_density() {
        let p = pool();
        let eligible = vec![false, false, false, true, true];
        let (w, g) = bivariate_beta_weights(&p, &eligible, (2.0, 2.0, 2.0), None);
        assert_eq!(g.grid, PoolDensity::MIN_GRID);
        assert_eq!((w[0], w[1], w[2]), (0.0, 0.0, 0.0));
        let ln_b = ln_beta3(2.0, 2.0, 2.0);
        let (q, d) = (0.6f32 as f64, 0.8f32 as f64);
        let want = (ln_bivariate_beta(q, d, 2.0, 2.0, 2.0, ln_b) - g.at(q, d).ln()).exp();
        assert_eq!(w[4], want);
        assert!(w[3] > 0.0 && w[4] > 0.0);
    }
}
