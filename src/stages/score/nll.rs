//! Negative log-likelihood of a target token from a row of logits:
//! `logsumexp(logits) - logits[target]`.
//!
//! This runs once per scored token over the whole vocabulary (49,152 logits for the default
//! model), so it is written to vectorise: fixed-width lane arrays, an exp polynomial without
//! branches, and an AVX2 build of the same code chosen at run time. The lane arrays fix the order
//! of every addition, so the result is bit-for-bit the same on every code path and does not depend
//! on where the row sits in a batch.

/// Lanes per accumulator array; a multiple of every SIMD width in use.
const LANES: usize = 16;
/// Elements summed in f32 before the partial sum moves to f64 (bounds the f32 rounding error).
const BLOCK: usize = 1024;

/// NLL (nats) of `target` under the distribution `softmax(logits)`, or `None` when the row is not
/// usable (empty, target out of range, or non-finite values).
#[must_use]
pub(crate) fn nll(logits: &[f32], target: usize) -> Option<f64> {
    let target_logit = *logits.get(target)?;
    let (max, sum) = dispatch(logits);
    let value = f64::from(max) + sum.ln() - f64::from(target_logit);
    value.is_finite().then_some(value)
}

#[cfg(target_arch = "x86_64")]
fn dispatch(logits: &[f32]) -> (f32, f64) {
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { max_and_sum_exp_avx2(logits) }
    } else {
        max_and_sum_exp(logits)
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn dispatch(logits: &[f32]) -> (f32, f64) {
    max_and_sum_exp(logits)
}

/// [`max_and_sum_exp`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2 (`is_x86_feature_detected!("avx2")`); the body itself is safe code.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn max_and_sum_exp_avx2(logits: &[f32]) -> (f32, f64) {
    max_and_sum_exp(logits)
}

/// `(max, sum(exp(x - max)))` over the row. NaN makes the sum NaN, which the caller rejects.
#[inline(always)]
fn max_and_sum_exp(logits: &[f32]) -> (f32, f64) {
    let max = max_of(logits);
    if !max.is_finite() {
        return (max, f64::NAN);
    }
    // exp into a small buffer first: a plain element loop, which the compiler vectorises, then
    // a lane-wise sum.
    let mut total = 0.0f64;
    let mut exps = [0.0f32; BLOCK];
    for block in logits.chunks(BLOCK) {
        let exps = &mut exps[..block.len()];
        for (e, &x) in exps.iter_mut().zip(block) {
            *e = exp_nonpositive(x - max);
        }
        let mut acc = [0.0f32; LANES];
        let mut chunks = exps.chunks_exact(LANES);
        for chunk in &mut chunks {
            for (a, &e) in acc.iter_mut().zip(chunk) {
                *a += e;
            }
        }
        for (a, &e) in acc.iter_mut().zip(chunks.remainder()) {
            *a += e;
        }
        total += acc.iter().map(|&a| f64::from(a)).sum::<f64>();
    }
    // A NaN anywhere in the row poisons the sum (max_of skips NaN, exp_nonpositive keeps it).
    (max, total)
}

#[inline(always)]
fn max_of(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = xs.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            *a = if x > *a { x } else { *a };
        }
    }
    let mut max = f32::NEG_INFINITY;
    for &x in acc.iter().chain(chunks.remainder()) {
        max = if x > max { x } else { max };
    }
    max
}

/// `exp(x)` for `x <= 0`, within a few ulp (Cephes `expf` polynomial). Inputs below -87 return
/// about 1.6e-38 instead of a denormal or zero, which cannot change a sum that contains exp(0).
/// Branch-free so that loops over it vectorise; NaN stays NaN.
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = if x < -87.0 { -87.0 } else { x };
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let n_int = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001e-1, which is 0.5 in f32
    let e = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n_int + 127) as u32) << 23);
    e * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(logits: &[f32], target: usize) -> f64 {
        let max = logits
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, |m, x| m.max(f64::from(x)));
        let sum: f64 = logits.iter().map(|&x| (f64::from(x) - max).exp()).sum();
        max + sum.ln() - f64::from(logits[target])
    }

    /// A deterministic pseudo-random row resembling real logits (spread about +-15).
    fn row(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 30.0
            })
            .collect()
    }

    #[test]
    fn exp_is_accurate_over_its_range() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x <= 0.0 {
            let got = f64::from(exp_nonpositive(x));
            let want = f64::from(x).exp();
            worst = worst.max(((got - want) / want).abs());
            x += 0.001_37;
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert!(exp_nonpositive(-1000.0) > 0.0);
        assert!(exp_nonpositive(f32::NAN).is_nan());
    }

    #[test]
    fn nll_matches_a_naive_f64_computation() {
        for (n, seed) in [(49_152, 1), (49_152, 2), (32_000, 3), (17, 4), (1, 5)] {
            let logits = row(n, seed);
            for target in [0, n / 3, n - 1] {
                let got = nll(&logits, target).unwrap();
                let want = naive(&logits, target);
                assert!(
                    (got - want).abs() < 1e-5,
                    "n={n} target={target}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn dispatched_and_portable_paths_agree_bit_for_bit() {
        let logits = row(49_152, 9);
        assert_eq!(dispatch(&logits), max_and_sum_exp(&logits));
    }

    #[test]
    fn unusable_rows_give_none() {
        assert_eq!(nll(&[], 0), None);
        assert_eq!(nll(&[1.0, 2.0], 2), None);
        assert_eq!(nll(&[1.0, f32::NAN, 2.0], 0), None);
        assert_eq!(nll(&[1.0, f32::INFINITY], 0), None);
    }
}
