//! k-means over plain row-major `f32` rows: k-means++ seeding, Lloyd or mini-batch fitting,
//! assignment of new rows to fitted centroids, and running per-topic statistics.
//!
//! **Input.** `data` holds `n` rows of dimension `dim`, row-major (`data.len() == n * dim`). Any
//! embedding works: [`HashedEmbedder`](super::HashedEmbedder) vectors, or the mean-pooled hidden
//! states of a language model (e.g. 576 dimensions). Distances are Euclidean; rows with NaN or
//! infinite values are rejected with [`DiversityError::NonFinite`].
//!
//! **Seeding.** Greedy k-means++ (Arthur and Vassilvitskii 2007, with the `2 + ln k` local
//! trials of scikit-learn): each new centre is the best of `2 + ln k` candidates drawn with
//! probability proportional to the squared distance to the nearest chosen centre. When every
//! remaining row coincides with a chosen centre (total distance zero, e.g. all rows identical),
//! the next centre is drawn uniformly; the duplicates it creates end as empty topics.
//!
//! **Lloyd** (`n < `[`MINI_BATCH_MIN_N`], or [`Algorithm::Lloyd`]): assign every row to its
//! nearest centre, move each centre to the mean of its rows, repeat until the inertia (sum of
//! squared distances) falls by less than `tol` (relative, default 1e-4) or `max_iter` (default
//! 100) iterations. An empty topic is moved onto the row farthest from its centre.
//!
//! **Mini-batch** (`n >= `[`MINI_BATCH_MIN_N`], or [`Algorithm::MiniBatch`]; Sculley 2010):
//! seed on `min(n, max(3 batch, 10 k))` rows drawn without replacement, then for each step draw
//! `batch` rows (default 4096) with replacement, assign them in parallel and move each centre
//! towards its rows with per-centre learning rate `1 / (rows it has received)`, sequentially in
//! draw order. It stops after `max_steps` (default: `clamp(ceil(n / batch), 100, 250)`, at most
//! one pass over the data) or when an exponentially weighted average of the batch inertia has
//! not improved for 10 steps (scikit-learn's rule). Then `refine_iters` (default 1) Lloyd
//! iterations run over all rows (they also move empty topics), and a final pass assigns every
//! row. More steps buy little: on 1M x 64 rows of a 256-centre mixture (k = 256), the inertia per
//! row after 100, 245 and 489 steps (+ 1 Lloyd) was 68.799, 68.797 and 68.796, and full Lloyd
//! from k-means++ on all rows reaches about the same (68.84 on 100k rows, against 68.34 for
//! mini-batch). Greedy seeding matters more: with one candidate per centre instead of
//! `2 + ln k`, the same 100k-row fit ends at 78.2. The switch at 50,000 rows: below it Lloyd
//! converges in seconds; above it one Lloyd iteration costs as much as
//! `n / batch` mini-batch steps, and Lloyd needs 5 to 100 iterations.
//!
//! **Why hand-written.** linfa-clustering 0.8.1 (the maintained Rust k-means, with k-means++ and
//! incremental mini-batch fitting) was measured on the same 1M x 64 `f32` rows (k = 256, batches
//! of 4096) on this project's 2-core build machine, both under the same load (BENCHMARKS.md,
//! "Diversity"): its k-means++ recomputes each row's distance to every chosen centre for each
//! new centre (O(n k^2 d)) and took 6.1 s on the first 4096-row batch alone; one pass of
//! mini-batch took 16.8 s and one prediction pass 10.7 s, ending at inertia/row 83.7. This module
//! fits in 12.1 s all told (seeding, 245 steps, one Lloyd iteration, final assignment) to
//! inertia/row 68.8 (the noise alone gives 64), and assigns all rows in 3.2 s. linfa also takes
//! a `rand` 0.8 generator (samplemix uses rand 0.9), accepts NaN without a word, keeps no
//! per-topic distance sums, and brings ndarray and its own dependency tree.
//!
//! **Determinism.** The generator is SplitMix64 from [`KMeansParams::seed`]; assignments run in
//! parallel but each row's result is independent of the others, and every sum is taken in a fixed
//! order, so a seed gives the same model whatever the number of threads.
//!
//! **Incremental.** Between refits the centroids are frozen: [`KMeansModel::assign`] gives new
//! rows the nearest centroid, and [`KMeansModel::join`] also adds them to the running
//! [`ClusterStats`] (count, sum of rows, sum of distances). The sums are kept in fixed point
//! (integers in units of 2^-32), so they are exactly the same whatever the order in which rows
//! join. [`KMeansModel::refit_advice`] says when the frozen centroids no longer describe the pool.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{DiversityError, Result};
use super::rng::SplitMix64;

/// Below this many rows [`Algorithm::Auto`] runs Lloyd; from it on, mini-batch.
pub const MINI_BATCH_MIN_N: usize = 50_000;
/// Largest number of topics [`default_k`] chooses.
pub const MAX_DEFAULT_TOPICS: usize = 256;
/// Rows per parallel work item and per partial sum (fixed, so sums do not depend on threads).
const CHUNK: usize = 1024;
/// Fixed-point scale of the running sums: 2^32.
const FIXED_SCALE: f64 = 4_294_967_296.0;

/// The number of topics when the user gives none: `clamp(round(sqrt(n / 2)), 2, 256)`, and at
/// most `n`.
///
/// `sqrt(n / 2)` is the classic rule of thumb for k-means (Mardia, Kent and Bibby 1979): topics
/// grow with the pool, but more slowly, so each topic keeps about `sqrt(2 n)` samples, enough
/// for stable compactness and readable top terms (302 samples: 12 topics of about 25; 7,000:
/// 59 of about 120). The cap of 256 bounds the assignment cost per sample (256 distances) and
/// keeps the topic list readable; pools beyond 131,072 samples get topics of more than 512.
pub fn default_k(n: usize) -> usize {
    let k = ((n as f64 / 2.0).sqrt().round() as usize).clamp(2, MAX_DEFAULT_TOPICS);
    k.min(n)
}

/// Which fitting algorithm to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Algorithm {
    /// Lloyd below [`MINI_BATCH_MIN_N`] rows, mini-batch from there on.
    #[default]
    Auto,
    /// Full-batch Lloyd iterations.
    Lloyd,
    /// Mini-batch steps, then `refine_iters` Lloyd iterations.
    MiniBatch,
}

/// Fitting options. [`KMeansParams::new`] gives the defaults for `k` topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansParams {
    /// Number of topics.
    pub k: usize,
    /// Seed of the generator (seeding and mini-batch draws).
    pub seed: u64,
    /// Lloyd or mini-batch.
    pub algorithm: Algorithm,
    /// Most Lloyd iterations (default 100).
    pub max_iter: usize,
    /// Stop when the inertia falls by less than this fraction (default 1e-4).
    pub tol: f64,
    /// Rows per mini-batch step (default 4096).
    pub batch_size: usize,
    /// Most mini-batch steps; 0 chooses `clamp(ceil(n / batch), 100, 250)`.
    pub max_steps: usize,
    /// Lloyd iterations over all rows after mini-batch (default 1).
    pub refine_iters: usize,
    /// k-means++ candidates per centre; 0 chooses `2 + floor(ln k)`.
    pub local_trials: usize,
}

impl KMeansParams {
    /// Defaults for `k` topics, seed 0.
    pub fn new(k: usize) -> Self {
        KMeansParams {
            k,
            seed: 0,
            algorithm: Algorithm::Auto,
            max_iter: 100,
            tol: 1e-4,
            batch_size: 4096,
            max_steps: 0,
            refine_iters: 1,
            local_trials: 0,
        }
    }

    /// The same with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same with another algorithm.
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }
}

/// A row's topic and its Euclidean distance to the topic's centroid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Topic number, `0..k`.
    pub topic: u32,
    /// Euclidean distance to the centroid.
    pub distance: f32,
}

/// Running statistics of one topic, exact under any order of joins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterStats {
    count: u64,
    /// Sum of member distances to the centroid, in units of 2^-32.
    distance_sum: i128,
    /// Sum of member rows, in units of 2^-32.
    row_sum: Vec<i128>,
}

fn to_fixed(v: f64) -> i128 {
    // Float-to-int casts saturate, so absurd magnitudes cannot panic.
    (v * FIXED_SCALE).round() as i128
}

impl ClusterStats {
    fn new(dim: usize) -> Self {
        ClusterStats {
            count: 0,
            distance_sum: 0,
            row_sum: vec![0; dim],
        }
    }

    fn add(&mut self, row: &[f32], distance: f32) {
        self.count += 1;
        self.distance_sum += to_fixed(f64::from(distance));
        for (s, &x) in self.row_sum.iter_mut().zip(row) {
            *s += to_fixed(f64::from(x));
        }
    }

    /// Statistics from their exact parts: member count, and the sums of member distances and
    /// rows in fixed point (units of 2^-32), as [`ClusterStats::fixed_sums`] gives them.
    pub fn from_fixed(count: u64, distance_sum: i128, row_sum: Vec<i128>) -> Self {
        ClusterStats {
            count,
            distance_sum,
            row_sum,
        }
    }

    /// The exact sums of member distances and rows, in fixed point (units of 2^-32).
    pub fn fixed_sums(&self) -> (i128, &[i128]) {
        (self.distance_sum, &self.row_sum)
    }

    /// Number of members.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the members' distances to the centroid.
    pub fn distance_sum(&self) -> f64 {
        self.distance_sum as f64 / FIXED_SCALE
    }

    /// Compactness: mean distance of the members to the centroid (0 for an empty topic).
    pub fn compactness(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.distance_sum() / self.count as f64
        }
    }

    /// Mean of the members (empty for an empty topic).
    pub fn mean(&self) -> Vec<f64> {
        if self.count == 0 {
            return Vec::new();
        }
        self.row_sum
            .iter()
            .map(|&s| s as f64 / FIXED_SCALE / self.count as f64)
            .collect()
    }
}

/// Why [`KMeansModel::refit_advice`] recommends a refit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum RefitReason {
    /// Rows joined since the fit reached half of the rows fitted (`joined >= fitted / 2`).
    Growth {
        /// Rows the centroids were fitted on.
        fitted: u64,
        /// Rows joined since.
        joined: u64,
    },
    /// The joined rows lie farther from their centroids than the fitted rows did: their mean
    /// distance exceeds 1.25 times the fitted mean distance (checked from 100 joined rows on).
    Distance {
        /// Mean distance of the fitted rows.
        fitted_mean: f64,
        /// Mean distance of the joined rows.
        joined_mean: f64,
    },
}

/// Fitted centroids and the running statistics of their topics. Serialisable for the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansModel {
    dim: usize,
    centroids: Vec<f32>,
    stats: Vec<ClusterStats>,
    fitted: u64,
    fitted_distance_sum: i128,
    joined: u64,
    joined_distance_sum: i128,
}

/// The result of [`fit`].
#[derive(Debug, Clone)]
pub struct Fit {
    /// Centroids and statistics of the fitted rows.
    pub model: KMeansModel,
    /// Topic and distance of every fitted row.
    pub assignments: Vec<Assignment>,
    /// Sum of squared distances of the rows to their centroids.
    pub inertia: f64,
    /// The algorithm that ran ([`Algorithm::Auto`] resolved).
    pub algorithm: Algorithm,
    /// Mini-batch steps run (0 for Lloyd).
    pub mini_batch_steps: usize,
    /// Lloyd iterations run (the refining ones after mini-batch).
    pub lloyd_iterations: usize,
}

/// Checks a row-major buffer; returns the number of rows.
fn check_rows(data: &[f32], dim: usize) -> Result<usize> {
    if dim == 0 {
        return Err(DiversityError::ZeroDim);
    }
    if !data.len().is_multiple_of(dim) {
        return Err(DiversityError::RaggedRows {
            len: data.len(),
            dim,
        });
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(DiversityError::NonFinite {
            row: i / dim,
            col: i % dim,
        });
    }
    Ok(data.len() / dim)
}

/// Squared Euclidean distance, eight lanes at a time.
#[inline]
fn sq_dist(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let d = x - y;
        tail += d * d;
    }
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    let s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    s + tail
}

/// Nearest centroid of `x` (the lowest topic number among equals) and the squared distance.
#[inline]
fn nearest(x: &[f32], centroids: &[f32], dim: usize) -> (u32, f32) {
    let mut best = (0u32, f32::INFINITY);
    for (c, cent) in centroids.chunks_exact(dim).enumerate() {
        let d = sq_dist(x, cent);
        if d < best.1 {
            best = (c as u32, d);
        }
    }
    best
}

/// Nearest centroid and squared distance of every row, in parallel.
fn assign_all(data: &[f32], dim: usize, centroids: &[f32]) -> Vec<(u32, f32)> {
    data.par_chunks_exact(dim)
        .with_min_len(64)
        .map(|x| nearest(x, centroids, dim))
        .collect()
}

/// Sum in a fixed order: partial sums over fixed chunks, added left to right.
fn det_sum(values: &[f32]) -> f64 {
    let partial: Vec<f64> = values
        .par_chunks(CHUNK)
        .map(|c| c.iter().map(|&v| f64::from(v)).sum::<f64>())
        .collect();
    partial.iter().sum()
}

fn row(data: &[f32], dim: usize, i: usize) -> &[f32] {
    &data[i * dim..(i + 1) * dim]
}

/// Greedy k-means++ on `data`; returns `k * dim` centroids. Needs `n >= 1`.
fn kmeans_pp(data: &[f32], dim: usize, k: usize, trials: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let n = data.len() / dim;
    let mut centroids = Vec::with_capacity(k * dim);
    centroids.extend_from_slice(row(data, dim, rng.below(n)));
    let mut min_d: Vec<f32> = data
        .par_chunks_exact(dim)
        .with_min_len(64)
        .map(|x| sq_dist(x, &centroids[..dim]))
        .collect();
    let mut cum = vec![0.0f64; n];
    for _ in 1..k {
        let mut total = 0.0f64;
        for (c, &d) in cum.iter_mut().zip(&min_d) {
            total += f64::from(d);
            *c = total;
        }
        if total <= 0.0 {
            // Every row coincides with a chosen centre: any row will do.
            centroids.extend_from_slice(row(data, dim, rng.below(n)));
            continue;
        }
        let cands: Vec<usize> = (0..trials)
            .map(|_| {
                let u = rng.next_f64() * total;
                cum.partition_point(|&c| c <= u).min(n - 1)
            })
            .collect();
        // Potential (sum of new minimum distances) of each candidate, in one pass.
        let partial: Vec<Vec<f64>> = data
            .par_chunks(CHUNK * dim)
            .zip(min_d.par_chunks(CHUNK))
            .map(|(rows, mins)| {
                let mut pot = vec![0.0f64; cands.len()];
                for (x, &m) in rows.chunks_exact(dim).zip(mins) {
                    for (p, &c) in pot.iter_mut().zip(&cands) {
                        *p += f64::from(m.min(sq_dist(x, row(data, dim, c))));
                    }
                }
                pot
            })
            .collect();
        let mut best = 0;
        let mut best_pot = f64::INFINITY;
        for (t, _) in cands.iter().enumerate() {
            let pot: f64 = partial.iter().map(|p| p[t]).sum();
            if pot < best_pot {
                best_pot = pot;
                best = t;
            }
        }
        let chosen = row(data, dim, cands[best]).to_vec();
        min_d
            .par_iter_mut()
            .zip(data.par_chunks_exact(dim))
            .with_min_len(64)
            .for_each(|(m, x)| *m = m.min(sq_dist(x, &chosen)));
        centroids.extend_from_slice(&chosen);
    }
    centroids
}

/// Moves each centroid to the mean of its rows; empty topics go to the farthest rows. Returns
/// whether any topic was empty and moved.
fn update_centroids(
    data: &[f32],
    dim: usize,
    centroids: &mut [f32],
    assigned: &[(u32, f32)],
) -> bool {
    let k = centroids.len() / dim;
    let mut sums = vec![0.0f64; k * dim];
    let mut counts = vec![0u64; k];
    for (x, &(c, _)) in data.chunks_exact(dim).zip(assigned) {
        let c = c as usize;
        counts[c] += 1;
        for (s, &v) in sums[c * dim..(c + 1) * dim].iter_mut().zip(x) {
            *s += f64::from(v);
        }
    }
    for c in 0..k {
        if counts[c] > 0 {
            let inv = 1.0 / counts[c] as f64;
            for (dst, &s) in centroids[c * dim..(c + 1) * dim]
                .iter_mut()
                .zip(&sums[c * dim..(c + 1) * dim])
            {
                *dst = (s * inv) as f32;
            }
        }
    }
    let empty: Vec<usize> = (0..k).filter(|&c| counts[c] == 0).collect();
    if empty.is_empty() {
        return false;
    }
    // The farthest rows, farthest first (lowest index among equals); only rows at a positive
    // distance, so identical rows never spawn identical centroids.
    let mut far: Vec<usize> = (0..assigned.len())
        .filter(|&i| assigned[i].1 > 0.0)
        .collect();
    let take = empty.len().min(far.len());
    if take == 0 {
        return false;
    }
    let by_distance =
        |a: &usize, b: &usize| assigned[*b].1.total_cmp(&assigned[*a].1).then(a.cmp(b));
    if take < far.len() {
        far.select_nth_unstable_by(take - 1, by_distance);
        far.truncate(take);
    }
    far.sort_by(by_distance);
    for (&c, &i) in empty.iter().zip(&far) {
        centroids[c * dim..(c + 1) * dim].copy_from_slice(row(data, dim, i));
    }
    true
}

/// Lloyd iterations from `centroids`; returns the final assignment and the iterations run.
fn lloyd(
    data: &[f32],
    dim: usize,
    centroids: &mut [f32],
    max_iter: usize,
    tol: f64,
) -> (Vec<(u32, f32)>, usize) {
    let mut assigned = assign_all(data, dim, centroids);
    let mut inertia = det_sum(&assigned.iter().map(|a| a.1).collect::<Vec<_>>());
    let mut iters = 0;
    while iters < max_iter {
        let moved = update_centroids(data, dim, centroids, &assigned);
        iters += 1;
        assigned = assign_all(data, dim, centroids);
        let next = det_sum(&assigned.iter().map(|a| a.1).collect::<Vec<_>>());
        let converged = !moved && inertia - next <= tol * inertia;
        inertia = next;
        if converged {
            break;
        }
    }
    (assigned, iters)
}

/// Mini-batch k-means (see the module doc); returns the centroids and the steps run.
fn mini_batch(
    data: &[f32],
    dim: usize,
    params: &KMeansParams,
    trials: usize,
    rng: &mut SplitMix64,
) -> (Vec<f32>, usize) {
    let n = data.len() / dim;
    let k = params.k;
    let batch = params.batch_size.max(1);
    // Seed on a sample drawn without replacement (partial Fisher-Yates).
    let m = n.min((3 * batch).max(10 * k));
    let mut idx: Vec<u32> = (0..n as u32).collect();
    for i in 0..m {
        let j = i + rng.below(n - i);
        idx.swap(i, j);
    }
    let mut sample = Vec::with_capacity(m * dim);
    for &i in &idx[..m] {
        sample.extend_from_slice(row(data, dim, i as usize));
    }
    drop(idx);
    let mut centroids = kmeans_pp(&sample, dim, k, trials, rng);
    drop(sample);
    let mut wide: Vec<f64> = centroids.iter().map(|&v| f64::from(v)).collect();
    let mut counts = vec![0u64; k];
    let max_steps = if params.max_steps > 0 {
        params.max_steps
    } else {
        n.div_ceil(batch).clamp(100, 250)
    };
    let alpha = (2.0 * batch as f64 / (n as f64 + 1.0)).min(1.0);
    let mut ewa: Option<f64> = None;
    let mut best_ewa = f64::INFINITY;
    let mut no_improvement = 0;
    let mut steps = 0;
    let mut picks = vec![0usize; batch];
    while steps < max_steps {
        steps += 1;
        for p in picks.iter_mut() {
            *p = rng.below(n);
        }
        let assigned: Vec<(u32, f32)> = picks
            .par_iter()
            .with_min_len(64)
            .map(|&i| nearest(row(data, dim, i), &centroids, dim))
            .collect();
        let mut batch_inertia = 0.0f64;
        for (&i, &(c, d)) in picks.iter().zip(&assigned) {
            batch_inertia += f64::from(d);
            let c = c as usize;
            counts[c] += 1;
            let eta = 1.0 / counts[c] as f64;
            for (w, &x) in wide[c * dim..(c + 1) * dim]
                .iter_mut()
                .zip(row(data, dim, i))
            {
                *w += eta * (f64::from(x) - *w);
            }
        }
        for (c, w) in centroids.iter_mut().zip(&wide) {
            *c = *w as f32;
        }
        let b = batch_inertia / batch as f64;
        let e = match ewa {
            None => b,
            Some(prev) => prev * (1.0 - alpha) + b * alpha,
        };
        ewa = Some(e);
        if e < best_ewa {
            best_ewa = e;
            no_improvement = 0;
        } else {
            no_improvement += 1;
            if no_improvement >= 10 {
                break;
            }
        }
    }
    (centroids, steps)
}

/// Fits `params.k` topics to `n` rows of dimension `dim`.
///
/// Errors: `k = 0`, `n < k`, `dim = 0`, a buffer that is not whole rows, NaN or infinite values.
/// All rows identical is not an error: one topic holds them all and the others are empty.
pub fn fit(data: &[f32], dim: usize, params: &KMeansParams) -> Result<Fit> {
    let n = check_rows(data, dim)?;
    let k = params.k;
    if k == 0 {
        return Err(DiversityError::Zero {
            what: "number of topics",
        });
    }
    if n < k {
        return Err(DiversityError::TooFewSamples { n, k });
    }
    let trials = if params.local_trials > 0 {
        params.local_trials
    } else {
        2 + (k as f64).ln() as usize
    };
    let algorithm = match params.algorithm {
        Algorithm::Auto if n >= MINI_BATCH_MIN_N => Algorithm::MiniBatch,
        Algorithm::Auto => Algorithm::Lloyd,
        a => a,
    };
    let mut rng = SplitMix64::new(params.seed);
    let (centroids, assigned, mini_batch_steps, lloyd_iterations) = match algorithm {
        Algorithm::MiniBatch => {
            let (mut centroids, steps) = mini_batch(data, dim, params, trials, &mut rng);
            let (assigned, iters) =
                lloyd(data, dim, &mut centroids, params.refine_iters, params.tol);
            (centroids, assigned, steps, iters)
        }
        _ => {
            let mut centroids = kmeans_pp(data, dim, k, trials, &mut rng);
            let (assigned, iters) = lloyd(data, dim, &mut centroids, params.max_iter, params.tol);
            (centroids, assigned, 0, iters)
        }
    };
    let inertia = det_sum(&assigned.iter().map(|a| a.1).collect::<Vec<_>>());
    let assignments: Vec<Assignment> = assigned
        .iter()
        .map(|&(topic, sq)| Assignment {
            topic,
            distance: sq.sqrt(),
        })
        .collect();
    let mut model = KMeansModel {
        dim,
        stats: vec![ClusterStats::new(dim); k],
        centroids,
        fitted: 0,
        fitted_distance_sum: 0,
        joined: 0,
        joined_distance_sum: 0,
    };
    for (x, a) in data.chunks_exact(dim).zip(&assignments) {
        model.stats[a.topic as usize].add(x, a.distance);
        model.fitted += 1;
        model.fitted_distance_sum += to_fixed(f64::from(a.distance));
    }
    Ok(Fit {
        model,
        assignments,
        inertia,
        algorithm,
        mini_batch_steps,
        lloyd_iterations,
    })
}

impl KMeansModel {
    /// A model from its exact parts (as a store keeps them): `centroids` row-major `k x dim` for
    /// the `k` topics of `stats`, each with `dim` row sums; the fitted and joined row counts and
    /// their distance sums in fixed point (units of 2^-32), as
    /// [`KMeansModel::fixed_distance_sums`] gives them. Errors when the lengths disagree.
    pub fn from_parts(
        dim: usize,
        centroids: Vec<f32>,
        stats: Vec<ClusterStats>,
        (fitted, fitted_distance_sum): (u64, i128),
        (joined, joined_distance_sum): (u64, i128),
    ) -> Result<Self> {
        let k = stats.len();
        if centroids.len() != k.saturating_mul(dim) {
            return Err(DiversityError::LengthMismatch {
                what: "centroid values against topics times dimension",
                left: centroids.len(),
                right: k.saturating_mul(dim),
            });
        }
        if let Some(s) = stats.iter().find(|s| s.row_sum.len() != dim) {
            return Err(DiversityError::LengthMismatch {
                what: "a topic's row sums against the dimension",
                left: s.row_sum.len(),
                right: dim,
            });
        }
        Ok(KMeansModel {
            dim,
            centroids,
            stats,
            fitted,
            fitted_distance_sum,
            joined,
            joined_distance_sum,
        })
    }

    /// The exact distance sums of the fitted rows and of the joined rows, in fixed point
    /// (units of 2^-32).
    pub fn fixed_distance_sums(&self) -> (i128, i128) {
        (self.fitted_distance_sum, self.joined_distance_sum)
    }

    /// Number of topics.
    pub fn k(&self) -> usize {
        self.stats.len()
    }

    /// Row dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// All centroids, row-major `k x dim`.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// The centroid of `topic`.
    pub fn centroid(&self, topic: usize) -> Result<&[f32]> {
        if topic >= self.k() {
            return Err(DiversityError::NoSuchTopic { topic, k: self.k() });
        }
        Ok(&self.centroids[topic * self.dim..(topic + 1) * self.dim])
    }

    /// Running statistics per topic (fitted rows plus joined rows).
    pub fn stats(&self) -> &[ClusterStats] {
        &self.stats
    }

    /// Rows the centroids were fitted on.
    pub fn fitted(&self) -> u64 {
        self.fitted
    }

    /// Rows joined since the fit.
    pub fn joined(&self) -> u64 {
        self.joined
    }

    /// Nearest centroid of each row of `data` (row-major, rows of dimension `dim`, which must be
    /// the model's), lowest topic among equals; changes nothing.
    pub fn assign(&self, data: &[f32], dim: usize) -> Result<Vec<Assignment>> {
        if dim != self.dim {
            return Err(DiversityError::DimMismatch {
                expected: self.dim,
                got: dim,
            });
        }
        check_rows(data, dim)?;
        Ok(assign_all(data, self.dim, &self.centroids)
            .into_iter()
            .map(|(topic, sq)| Assignment {
                topic,
                distance: sq.sqrt(),
            })
            .collect())
    }

    /// Assigns the rows (as [`KMeansModel::assign`]) and adds them to the running statistics; the
    /// centroids stay.
    pub fn join(&mut self, data: &[f32], dim: usize) -> Result<Vec<Assignment>> {
        let assignments = self.assign(data, dim)?;
        for (x, a) in data.chunks_exact(self.dim).zip(&assignments) {
            self.stats[a.topic as usize].add(x, a.distance);
            self.joined += 1;
            self.joined_distance_sum += to_fixed(f64::from(a.distance));
        }
        Ok(assignments)
    }

    /// Whether the frozen centroids should be refitted, and why (see [`RefitReason`]).
    pub fn refit_advice(&self) -> Option<RefitReason> {
        if self.joined > 0 && 2 * self.joined >= self.fitted {
            return Some(RefitReason::Growth {
                fitted: self.fitted,
                joined: self.joined,
            });
        }
        if self.joined >= 100 && self.fitted > 0 {
            let fitted_mean = self.fitted_distance_sum as f64 / FIXED_SCALE / self.fitted as f64;
            let joined_mean = self.joined_distance_sum as f64 / FIXED_SCALE / self.joined as f64;
            if joined_mean > 1.25 * fitted_mean {
                return Some(RefitReason::Distance {
                    fitted_mean,
                    joined_mean,
                });
            }
        }
        None
    }
}

/// A single row of dimension `dim` checked like [`fit`]'s input, for callers that assign one
/// sample at a time.
#[cfg(test)]
pub fn check_row(x: &[f32], dim: usize) -> Result<()> {
    if x.len() != dim {
        return Err(DiversityError::DimMismatch {
            expected: dim,
            got: x.len(),
        });
    }
    check_rows(x, dim).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `per` rows around each of `centres` well separated centres in `dim` dimensions.
    fn blobs(
        centres: usize,
        per: usize,
        dim: usize,
        spread: f32,
        seed: u64,
    ) -> (Vec<f32>, Vec<usize>) {
        let mut rng = SplitMix64::new(seed);
        let mut gauss = move || {
            // Box-Muller.
            let u1 = rng.next_f64().max(1e-12);
            let u2 = rng.next_f64();
            ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
        };
        let c: Vec<f32> = (0..centres * dim).map(|_| 10.0 * gauss()).collect();
        let mut data = Vec::new();
        let mut labels = Vec::new();
        for i in 0..centres * per {
            let j = i % centres;
            for t in 0..dim {
                data.push(c[j * dim + t] + spread * gauss());
            }
            labels.push(j);
        }
        (data, labels)
    }

    fn labels(f: &Fit) -> Vec<usize> {
        f.assignments.iter().map(|a| a.topic as usize).collect()
    }

    #[test]
    fn default_k_rule() {
        assert_eq!(default_k(0), 0);
        assert_eq!(default_k(1), 1);
        assert_eq!(default_k(5), 2);
        assert_eq!(default_k(302), 12);
        assert_eq!(default_k(7000), 59);
        assert_eq!(default_k(10_000_000), 256);
    }

    #[test]
    fn recovers_blobs_with_lloyd_and_mini_batch() {
        let (data, truth) = blobs(8, 300, 16, 1.0, 3);
        for algorithm in [Algorithm::Lloyd, Algorithm::MiniBatch] {
            let mut p = KMeansParams::new(8).with_seed(5).with_algorithm(algorithm);
            p.batch_size = 256;
            let f = fit(&data, 16, &p).unwrap();
            assert_eq!(f.algorithm, algorithm);
            let nmi = crate::algo::diversity::score::nmi(&truth, &labels(&f)).unwrap();
            assert!(nmi > 0.99, "{algorithm:?}: NMI {nmi}");
            let total: u64 = f.model.stats().iter().map(|s| s.count()).sum();
            assert_eq!(total, 2400);
        }
    }

    #[test]
    fn deterministic_for_a_seed_whatever_the_threads() {
        let (data, _) = blobs(5, 200, 8, 3.0, 1);
        let p = KMeansParams::new(6).with_seed(9);
        let a = fit(&data, 8, &p).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = pool.install(|| fit(&data, 8, &p).unwrap());
        assert_eq!(a.model, b.model);
        assert_eq!(a.assignments, b.assignments);
        let c = fit(&data, 8, &p.clone().with_seed(10)).unwrap();
        assert_ne!(a.model.centroids(), c.model.centroids());
    }

    #[test]
    fn bad_input_is_an_error() {
        let p = KMeansParams::new(3);
        assert_eq!(
            fit(&[0.0; 4], 2, &p).unwrap_err(),
            DiversityError::TooFewSamples { n: 2, k: 3 }
        );
        assert_eq!(fit(&[], 0, &p).unwrap_err(), DiversityError::ZeroDim);
        assert!(matches!(
            fit(&[0.0; 7], 2, &p),
            Err(DiversityError::RaggedRows { .. })
        ));
        let mut data = vec![0.5f32; 20];
        data[13] = f32::NAN;
        assert_eq!(
            fit(&data, 4, &p).unwrap_err(),
            DiversityError::NonFinite { row: 3, col: 1 }
        );
        assert!(fit(&[1.0; 8], 2, &KMeansParams::new(0)).is_err());
        let f = fit(&[1.0; 8], 2, &KMeansParams::new(2)).unwrap();
        assert!(f.model.assign(&[1.0; 3], 2).is_err());
        assert!(f.model.assign(&[f32::INFINITY, 0.0], 2).is_err());
        assert!(f.model.assign(&[1.0; 4], 4).is_err());
        assert!(check_row(&[1.0], 2).is_err());
        assert!(f.model.centroid(2).is_err());
    }

    #[test]
    fn identical_rows_do_not_panic() {
        let data = vec![0.25f32; 50 * 3];
        for algorithm in [Algorithm::Lloyd, Algorithm::MiniBatch] {
            let f = fit(&data, 3, &KMeansParams::new(4).with_algorithm(algorithm)).unwrap();
            assert_eq!(f.inertia, 0.0);
            let sizes: Vec<u64> = f.model.stats().iter().map(|s| s.count()).collect();
            assert_eq!(sizes.iter().sum::<u64>(), 50);
            assert_eq!(sizes.iter().filter(|&&s| s > 0).count(), 1);
            assert!(f.model.centroids().iter().all(|v| v.is_finite()));
            assert!(f.model.stats().iter().all(|s| s.compactness() == 0.0));
        }
        // Fewer distinct rows than topics.
        let mut data = vec![0.0f32; 40];
        data[..20].fill(1.0);
        let f = fit(&data, 2, &KMeansParams::new(5)).unwrap();
        let used = f.model.stats().iter().filter(|s| s.count() > 0).count();
        assert_eq!(used, 2);
    }

    #[test]
    fn join_updates_stats_in_any_order() {
        let (data, _) = blobs(4, 250, 8, 2.0, 2);
        let (first, rest) = data.split_at(8 * 400);
        let fit0 = fit(first, 8, &KMeansParams::new(4).with_seed(1)).unwrap();
        let mut a = fit0.model.clone();
        let mut b = fit0.model.clone();
        let parts: Vec<&[f32]> = rest.chunks(8 * 150).collect();
        for p in &parts {
            a.join(p, 8).unwrap();
        }
        for p in parts.iter().rev() {
            b.join(p, 8).unwrap();
        }
        assert_eq!(a, b);
        assert_eq!(a.joined(), 600);
        assert_eq!(a.stats().iter().map(|s| s.count()).sum::<u64>(), 1000);
        assert_eq!(a.centroids(), fit0.model.centroids());
        // Compactness of the joined model is the mean distance over all members.
        let all = fit0.model.assign(&data, 8).unwrap();
        for (t, s) in a.stats().iter().enumerate() {
            let d: Vec<f64> = all
                .iter()
                .filter(|x| x.topic as usize == t)
                .map(|x| f64::from(x.distance))
                .collect();
            let mean = d.iter().sum::<f64>() / d.len() as f64;
            assert!((s.compactness() - mean).abs() < 1e-6);
        }
        assert!(matches!(a.refit_advice(), Some(RefitReason::Growth { .. })));
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<KMeansModel>(&json).unwrap(), a);
    }

    #[test]
    fn distance_drift_advises_a_refit() {
        let (data, _) = blobs(3, 400, 4, 1.0, 4);
        let mut m = fit(&data, 4, &KMeansParams::new(3)).unwrap().model;
        assert_eq!(m.refit_advice(), None);
        // 150 rows far from every centre.
        let far: Vec<f32> = (0..150 * 4).map(|i| 100.0 + i as f32).collect();
        m.join(&far, 4).unwrap();
        assert!(matches!(
            m.refit_advice(),
            Some(RefitReason::Distance { .. })
        ));
    }
}
