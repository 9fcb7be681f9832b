//! Share constraints: source bounds that contradict each other, refused before the solve tries
//! them; and the per-topic share bounds (`--topic-bounds LOW,HIGH`), solved around the source
//! solve.
//!
//! ## Topic bounds
//! Every topic k must supply between LOW and HIGH times its natural tokens, `n_k T` (n_k: the
//! topic's share of the pool's tokens, T the budget). Topics cut across sources, so they are
//! enforced by a factor τ_k on the weights of the topic's samples: e(x) = min(cap, L_s τ_k w(x)).
//! The factors come from the same exact active-set solve as the sources, run over the topics'
//! token curves (samples without a topic form one more group, unbounded): free topics share one
//! scale (τ = 1 after normalising), a topic that would leave its interval is pinned at the bound
//! with its own scale. Without source constraints that one solve is the answer. With source
//! bounds (or the `domain` kernel's exact shares) the two solves alternate, each holding the
//! other's scales fixed (the topic solve over w(x) L_s, the source solve over w(x) τ_k), until
//! the source solution keeps every topic within its interval (to 0.1% of its natural tokens), as
//! iterative proportional fitting does for two sets of margins; at most
//! [`MAX_TOPIC_ROUNDS`] rounds, then [`MixError::TopicBoundsInfeasible`] names the topic that is
//! still outside.
//!
//! Relaxation: a topic whose eligible samples, every one at the repetition cap, cannot supply
//! its minimum (a small topic under a large budget, or one the kernel weighs 0, as
//! `quality-threshold` can) gets the minimum it can supply: all of it at the cap. It then shows
//! under its bound in the mix's topic coverage; nothing else is refused for it. The maximums
//! cannot be relaxed: when every topic at its maximum (or all it can supply) still falls short
//! of the budget, the draw is refused.
//!
//! The rounding correction works per (source, topic) cell; a topic held at a bound rounds to its
//! side of it as one group (in mixes saved before that rule, `held_topics_round_whole`, each of
//! its cells did, and on a small pool every cell overshot by up to a sample: the budget went +65%
//! over on a 48-sample store). What the held topics realise over or under their expected tokens
//! is taken from the free cells' targets. So the realised topic tokens differ from the solved
//! ones by the rounding of the topic's samples (about 1/sqrt(samples drawn) relative).

use super::error::{MixError, Result};
use super::solve::{curves_by, Pin, Solve, SourceProblem, SourceSolution};
use super::MixSample;

/// The most rounds of the topic and source solves (see the module docs).
pub const MAX_TOPIC_ROUNDS: usize = 200;

/// Refuses a source whose lower token bound is above its upper one (from `--min-share` and
/// `--max-share`, or either with `--source-bounds`): no mix can satisfy it, whatever the pool.
/// `lo` and `hi` are the per-source bounds in tokens of a budget of `budget` tokens.
pub(super) fn check_intervals(
    sources: &[String],
    lo: &[f64],
    hi: &[f64],
    budget: f64,
) -> Result<()> {
    for ((name, &lo), &hi) in sources.iter().zip(lo).zip(hi) {
        if lo > hi * (1.0 + 1e-12) {
            return Err(MixError::InfeasibleBounds {
                reason: format!(
                    "source {name} must have at least {} and at most {} of the mix's tokens: \
                     its minimum (--min-share, or LOW of --source-bounds times its natural \
                     share) is above its maximum (--max-share, or HIGH of --source-bounds times \
                     its natural share); loosen one of them",
                    lo / budget,
                    hi / budget
                ),
            });
        }
    }
    Ok(())
}

/// Each topic's token bounds (low, high) and what it can supply, for relative bounds `rel`,
/// plus one last unbounded group for the samples without a topic. Returns the group of each
/// sample too.
struct TopicGroups {
    /// Group per sample: its topic, or `n_topics` without one.
    group: Vec<u32>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Natural tokens per group.
    natural: Vec<f64>,
}

impl TopicGroups {
    fn new(problem: &SourceProblem<'_>, (a, b): (f64, f64)) -> Result<TopicGroups> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(a) || !ok(b) || a > 1.0 || b < 1.0 {
            return Err(MixError::BadParameter {
                what: "topic bounds",
                value: format!("{a},{b}"),
                expected: "finite numbers with 0 <= low <= 1 <= high",
            });
        }
        let samples = problem.samples;
        let n_topics = samples
            .iter()
            .filter_map(|s| s.topic)
            .max()
            .map_or(0, |t| t as usize + 1);
        if n_topics == 0 {
            return Err(MixError::BadParameter {
                what: "topic bounds",
                value: format!("{a},{b} over a pool without topics"),
                expected: "a pool with topics: run `samplemix topics` first",
            });
        }
        let group: Vec<u32> = samples
            .iter()
            .map(|s| s.topic.unwrap_or(n_topics as u32))
            .collect();
        let mut natural = vec![0.0f64; n_topics + 1];
        for (s, &g) in samples.iter().zip(&group) {
            natural[g as usize] += f64::from(s.tokens);
        }
        let pool: f64 = natural.iter().sum::<f64>().max(1.0);
        let t = problem.params.tokens as f64;
        let mut lo: Vec<f64> = natural.iter().map(|n| a * n / pool * t).collect();
        let mut hi: Vec<f64> = natural.iter().map(|n| b * n / pool * t).collect();
        lo[n_topics] = 0.0;
        hi[n_topics] = f64::INFINITY;
        Ok(TopicGroups {
            group,
            lo,
            hi,
            natural,
        })
    }

    fn n(&self) -> usize {
        self.lo.len()
    }
}

/// A draw under topic bounds: the weights scaled per topic, the source solution under them and
/// the cells of the rounding correction.
pub(super) struct TopicSolution {
    /// w(x) τ_k.
    pub(super) w_eff: Vec<f64>,
    pub(super) solved: SourceSolution,
    pub(super) cells: Cells,
}

/// The groups of the rounding correction under topic bounds: one per (source, topic) pair.
/// Cells of a topic held at a bound keep to its side of it; what they realise over or under
/// their expected tokens is taken from the other cells' targets, so the budget still holds.
pub(super) struct Cells {
    /// The samples with `source` replaced by their cell.
    pub(super) samples: Vec<MixSample>,
    /// The scale per cell (its source's).
    pub(super) scale: Vec<f64>,
    /// The side each cell must not end on: its topic's bound when the topic is held at one,
    /// else its source's.
    pub(super) pin: Vec<Pin>,
    /// Expected tokens per cell.
    pub(super) expected: Vec<f64>,
    /// Whether the cell's topic is held at one of its bounds.
    pub(super) held: Vec<bool>,
    /// The most tokens per cell.
    pub(super) max: Vec<f64>,
    /// The weights the cells round with, when not w(x) τ_k: w(x) τ_k times the source scale
    /// (the cells' scales are then 1), after [`Cells::merge_held`].
    pub(super) w: Option<Vec<f64>>,
}

impl Cells {
    fn new(
        problem: &SourceProblem<'_>,
        g: &TopicGroups,
        w_eff: &[f64],
        solved: &SourceSolution,
    ) -> Cells {
        let cap = f64::from(problem.params.max_repeat);
        let n_g = g.n();
        let n = problem.sources.len() * n_g;
        let (mut expected, mut max) = (vec![0.0f64; n], vec![0.0f64; n]);
        let mut samples = Vec::with_capacity(problem.samples.len());
        let mut topic_tokens = vec![0.0f64; n_g];
        let mut largest = vec![0u32; n];
        for ((s, &wx), &k) in problem.samples.iter().zip(w_eff).zip(&g.group) {
            let cell = s.source as usize * n_g + k as usize;
            if wx > 0.0 {
                largest[cell] = largest[cell].max(s.tokens);
                let t = f64::from(s.tokens);
                let e = (solved.scale[s.source as usize] * wx).min(cap) * t;
                expected[cell] += e;
                topic_tokens[k as usize] += e;
                max[cell] += cap * t;
            }
            samples.push(MixSample {
                source: cell as u32,
                ..*s
            });
        }
        // A topic rounds like one held at a bound when it is within what the rounding can move
        // it: the largest sample of each of its cells, added up (each cell ends within about
        // one sample of its expected tokens), or twice the tolerance of the alternating solve.
        let t_budget = problem.params.tokens as f64;
        let pool: f64 = g.natural.iter().sum::<f64>().max(1.0);
        let mut reach = vec![0.0f64; n_g];
        for (c, &l) in largest.iter().enumerate() {
            reach[c % n_g] += f64::from(l);
        }
        let topic_pin: Vec<Pin> = (0..n_g)
            .map(|k| {
                let tol = (2e-3 * g.natural[k] / pool * t_budget + 1e-9 * t_budget).max(reach[k]);
                if g.lo[k] > 0.0 && topic_tokens[k] <= g.lo[k] + tol {
                    Pin::Min
                } else if topic_tokens[k] >= g.hi[k] - tol {
                    Pin::Max
                } else {
                    Pin::Free
                }
            })
            .collect();
        let pin = (0..n)
            .map(|c| match topic_pin[c % n_g] {
                Pin::Free => solved.pin[c / n_g],
                p => p,
            })
            .collect();
        let held = (0..n).map(|c| topic_pin[c % n_g] != Pin::Free).collect();
        let cells = Cells {
            held,
            samples,
            scale: (0..n).map(|c| solved.scale[c / n_g]).collect(),
            pin,
            expected,
            max,
            w: None,
        };
        if problem.params.bounds.held_topics_round_whole {
            cells.merge_held(n_g, w_eff)
        } else {
            cells
        }
    }

    /// The cells of each held topic merged into one group (the source scales folded into the
    /// weights), so that the topic, not each of its cells, rounds to its side of the bound:
    /// it overshoots by at most about one sample, where per cell each small cell would (on a
    /// small pool every cell is smaller than a sample, and the budget went +65% over on a
    /// 48-sample store). Mixes saved before this rule keep the per-cell rounding.
    fn merge_held(self, n_g: usize, w_eff: &[f64]) -> Cells {
        let n = self.expected.len();
        let group = |c: usize| if self.held[c] { n + c % n_g } else { c };
        let m = n + n_g;
        let (mut expected, mut max) = (vec![0.0f64; m], vec![0.0f64; m]);
        let mut pin = vec![Pin::Free; m];
        let mut held = vec![false; m];
        for c in 0..n {
            let to = group(c);
            expected[to] += self.expected[c];
            max[to] += self.max[c];
            if self.held[c] || pin[to] == Pin::Free {
                pin[to] = self.pin[c];
            }
            held[to] = self.held[c];
        }
        let w = self
            .samples
            .iter()
            .zip(w_eff)
            .map(|(s, &wx)| wx * self.scale[s.source as usize])
            .collect();
        let samples = self
            .samples
            .iter()
            .map(|s| MixSample {
                source: group(s.source as usize) as u32,
                ..*s
            })
            .collect();
        Cells {
            samples,
            scale: vec![1.0; m],
            pin,
            expected,
            held,
            max,
            w: Some(w),
        }
    }
}

/// The weights scaled per topic and the source solution under them, such that every topic's
/// expected tokens lie within its bounds (see the module docs).
pub(super) fn solve_with_topics(
    problem: &SourceProblem<'_>,
    rel: (f64, f64),
) -> Result<TopicSolution> {
    let mut g = TopicGroups::new(problem, rel)?;
    let (samples, w) = (problem.samples, &problem.weighted.w);
    let cap = f64::from(problem.params.max_repeat);
    let t_budget = problem.params.tokens as f64;
    // What each group can supply; a minimum above it is relaxed to it.
    let mut supply = vec![0.0f64; g.n()];
    for ((s, &wx), &k) in samples.iter().zip(w).zip(&g.group) {
        if wx > 0.0 {
            supply[k as usize] += cap * f64::from(s.tokens);
        }
    }
    for (lo, &sup) in g.lo.iter_mut().zip(&supply) {
        *lo = lo.min(sup);
    }
    let reachable: f64 = supply.iter().sum();
    if reachable < t_budget {
        return Err(MixError::BudgetUnreachable {
            requested: problem.params.tokens,
            reachable: reachable as u64,
            max_repeat: problem.params.max_repeat,
            eligible: problem.weighted.exclusions.eligible,
        });
    }
    let room: f64 = (0..g.n()).map(|k| g.hi[k].min(supply[k])).sum();
    if room < t_budget * (1.0 - 1e-9) {
        return Err(MixError::TopicBoundsInfeasible {
            reason: format!(
                "every topic at its maximum (HIGH times its natural share, or all it can supply \
                 at the repetition cap) gives only {:.6} of the budget; raise HIGH, lower \
                 --tokens or raise --max-repeat",
                room / t_budget
            ),
        });
    }
    let mut source_scale = vec![1.0f64; problem.sources.len()];
    let mut worst = None;
    for _ in 0..MAX_TOPIC_ROUNDS {
        let tau = topic_factors(problem, &g, &source_scale, &supply)?;
        let w_eff: Vec<f64> = w
            .iter()
            .zip(&g.group)
            .map(|(&wx, &k)| wx * tau[k as usize])
            .collect();
        let solved = problem.solve(&w_eff)?;
        if problem.constrained() {
            worst = worst_topic(problem, &g, &w_eff, &solved.scale);
        }
        if !problem.constrained() || worst.is_none() {
            let cells = Cells::new(problem, &g, &w_eff, &solved);
            return Ok(TopicSolution {
                w_eff,
                solved,
                cells,
            });
        }
        source_scale.clone_from(&solved.scale);
    }
    let (k, tokens) = worst.unwrap_or_default();
    Err(MixError::TopicBoundsInfeasible {
        reason: format!(
            "with the source constraints, topic {k} still gets {:.3}x its natural share after \
             {MAX_TOPIC_ROUNDS} rounds (bounds {}x to {}x); loosen --topic-bounds or the source \
             bounds",
            tokens / g.natural[k].max(1.0) * g.natural.iter().sum::<f64>() / t_budget,
            rel.0,
            rel.1
        ),
    })
}

/// τ per group: the topic solve over the weights w(x) L_s under the source scales `scale`.
fn topic_factors(
    problem: &SourceProblem<'_>,
    g: &TopicGroups,
    scale: &[f64],
    supply: &[f64],
) -> Result<Vec<f64>> {
    let samples = problem.samples;
    let w: Vec<f64> = samples
        .iter()
        .zip(&problem.weighted.w)
        .map(|(s, &wx)| wx * scale[s.source as usize])
        .collect();
    let group = |s: &MixSample| match s.topic {
        Some(t) => t as usize,
        None => g.n() - 1,
    };
    let curves = curves_by(samples, &w, g.n(), group);
    let solve = Solve {
        curves: &curves,
        cap: f64::from(problem.params.max_repeat),
        t_budget: problem.params.tokens as f64,
        lo: &g.lo,
        hi: &g.hi,
        max_s: supply,
    };
    let (pin, target, lambda_free) = solve
        .active_set(vec![Pin::Free; g.n()], vec![0.0; g.n()])
        .map_err(|e| match e {
            MixError::InfeasibleBounds { reason } => MixError::TopicBoundsInfeasible {
                reason: reason.replace("constrained sources", "bounded topics"),
            },
            e => e,
        })?;
    let lambdas = solve.scales(&pin, &target, lambda_free);
    let norm = if lambda_free > 0.0 && lambda_free.is_finite() {
        lambda_free
    } else {
        1.0
    };
    Ok(lambdas.into_iter().map(|l| l / norm).collect())
}

/// The topic furthest outside its bounds under the source scales, beyond 0.1% of its natural
/// tokens (and its expected tokens), if any.
fn worst_topic(
    problem: &SourceProblem<'_>,
    g: &TopicGroups,
    w_eff: &[f64],
    scale: &[f64],
) -> Option<(usize, f64)> {
    let cap = f64::from(problem.params.max_repeat);
    let mut tokens = vec![0.0f64; g.n()];
    for ((s, &wx), &k) in problem.samples.iter().zip(w_eff).zip(&g.group) {
        if wx > 0.0 {
            tokens[k as usize] += (scale[s.source as usize] * wx).min(cap) * f64::from(s.tokens);
        }
    }
    let t_budget = problem.params.tokens as f64;
    let pool: f64 = g.natural.iter().sum::<f64>().max(1.0);
    let mut worst: Option<(usize, f64, f64)> = None;
    for (k, &t) in tokens.iter().enumerate() {
        let tol = 1e-3 * g.natural[k] / pool * t_budget + 1e-9 * t_budget;
        let v = (g.lo[k] - t).max(t - g.hi[k]);
        if v > tol && worst.is_none_or(|(_, _, wv)| v > wv) {
            worst = Some((k, t, v));
        }
    }
    worst.map(|(k, t, _)| (k, t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimum_above_the_maximum_is_refused() {
        let names = ["web".to_string(), "wiki".to_string()];
        let inf = f64::INFINITY;
        assert_eq!(
            check_intervals(&names, &[0.0, 10.0], &[inf, 10.0], 100.0),
            Ok(())
        );
        let msg = check_intervals(&names, &[90.0, 0.0], &[10.0, inf], 100.0)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("cannot all hold: source web must have at least 0.9 and at most 0.1"),
            "{msg}"
        );
        let err = check_intervals(&names, &[0.0, 50.0], &[inf, 40.0], 100.0).unwrap_err();
        assert!(matches!(err, MixError::InfeasibleBounds { .. }));
        assert!(err
            .to_string()
            .contains("source wiki must have at least 0.5 and at most 0.4"));
    }
}
