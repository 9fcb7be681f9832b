//! Draw time and peak memory of a mix over synthetic pools of 1M and 10M samples.
//!
//! `cargo bench --bench mix` (sizes: `MIX_BENCH_SIZES=1000000,10000000`, the default).
//! Times: q from mean NLL (midranks), weights, and the draw (solve, counts, rounding correction)
//! for `bivariate-beta` and `linear`; a re-draw after a 1% append. Peak memory: the largest
//! heap in use above the input pool during each step (a counting allocator), and the process's
//! peak RSS at the end.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use samplemix::algo::mix::{self, DrawParams, Kernel, MixSample, ShareBounds, UniformKey};

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn reset_peak() -> usize {
    let now = CURRENT.load(Ordering::Relaxed);
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn peak_above(base: usize) -> f64 {
    (PEAK.load(Ordering::Relaxed) - base) as f64 / (1 << 20) as f64
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e3779b97f4a7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

fn unit(x: &mut u64) -> f64 {
    (splitmix(x) >> 11) as f64 / (1u64 << 53) as f64
}

/// n samples of 8 sources; mean NLL, novelty skewed; tokens 50..2050.
fn pool(n: usize, first: u64, seed: u64) -> (Vec<MixSample>, Vec<Option<f32>>) {
    let mut x = seed;
    let mut nll = Vec::with_capacity(n);
    let samples = (0..n)
        .map(|i| {
            nll.push(Some((2.0 + 3.0 * unit(&mut x) * unit(&mut x)) as f32));
            MixSample {
                key: first + i as u64,
                text_key: (u128::from(splitmix(&mut x)) << 64) | u128::from(splitmix(&mut x)),
                tokens: 50 + (splitmix(&mut x) % 2000) as u32,
                source: (splitmix(&mut x) % 8) as u32,
                topic: Some((splitmix(&mut x) % 256) as u32),
                q: None,
                d: Some(unit(&mut x).sqrt() as f32),
            }
        })
        .collect();
    (samples, nll)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("MIX_BENCH_SIZES")
        .unwrap_or_else(|_| "1000000,10000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("MIX_BENCH_SIZES: numbers"))
        .collect();
    let sources: Vec<String> = (0..8).map(|i| format!("src{i}")).collect();
    println!(
        "| samples | step | kernel | s | peak heap above input (MiB) |\n|---|---|---|---|---|"
    );
    for &n in &sizes {
        let (mut samples, nll) = pool(n, 0, 42);
        let base = reset_peak();
        let t = Instant::now();
        let q = mix::quality_from_nll(&nll);
        let tq = t.elapsed().as_secs_f64();
        println!(
            "| {n} | q from mean NLL | - | {tq:.2} | {:.0} |",
            peak_above(base)
        );
        for (s, q) in samples.iter_mut().zip(q) {
            s.q = q;
        }
        drop(nll);
        let pool_tokens: u64 = samples.iter().map(|s| s.tokens as u64).sum();
        let params = DrawParams {
            tokens: pool_tokens / 2,
            seed: 1,
            max_repeat: 4,
            bounds: ShareBounds::default(),
            uniform: UniformKey::TextKey,
        };
        for kernel in [
            Kernel::DEFAULT_BIVARIATE_BETA,
            Kernel::Linear { alpha: 0.8 },
        ] {
            let base = reset_peak();
            let t = Instant::now();
            let w = mix::weights(&samples, &sources, &kernel).unwrap();
            let tw = t.elapsed().as_secs_f64();
            let d = mix::draw(&samples, &sources, &w, &params).unwrap();
            let total = t.elapsed().as_secs_f64();
            let err = (d.tokens as f64 - params.tokens as f64) / params.tokens as f64;
            println!(
                "| {n} | weights + draw (weights {tw:.2} s; budget error {err:+.1e}) | {} | {total:.2} | {:.0} |",
                kernel.name(),
                peak_above(base)
            );
        }
        // Bounds: every source within 0.5..2 of natural, one source pinned at a minimum.
        let mut bounded = params.clone();
        bounded.bounds.relative = Some((0.5, 2.0));
        bounded.bounds.min_share = vec![("src0".into(), 0.2)];
        let base = reset_peak();
        let t = Instant::now();
        let w = mix::weights(&samples, &sources, &Kernel::DEFAULT_BIVARIATE_BETA).unwrap();
        mix::draw(&samples, &sources, &w, &bounded).unwrap();
        println!(
            "| {n} | weights + draw, --source-bounds 0.5,2 --min-share src0=0.2 | bivariate-beta | {:.2} | {:.0} |",
            t.elapsed().as_secs_f64(),
            peak_above(base)
        );
        drop(w);
        // Topic bounds (256 topics), alone and with the source bounds above.
        for (label, with_sources) in [
            ("--topic-bounds 0.5,2", false),
            (
                "--topic-bounds 0.5,2 --source-bounds 0.5,2 --min-share src0=0.2",
                true,
            ),
        ] {
            let mut tb = if with_sources {
                bounded.clone()
            } else {
                params.clone()
            };
            tb.bounds.topic_relative = Some((0.5, 2.0));
            let base = reset_peak();
            let t = Instant::now();
            let w = mix::weights(&samples, &sources, &Kernel::DEFAULT_BIVARIATE_BETA).unwrap();
            let d = mix::draw(&samples, &sources, &w, &tb).unwrap();
            let err = (d.tokens as f64 - tb.tokens as f64) / tb.tokens as f64;
            println!(
                "| {n} | weights + draw, {label} (budget error {err:+.1e}) | bivariate-beta | {:.2} | {:.0} |",
                t.elapsed().as_secs_f64(),
                peak_above(base)
            );
        }
        // Re-draw after a 1% append (the whole draw is repeated: it is cheap).
        let w = mix::weights(&samples, &sources, &Kernel::DEFAULT_BIVARIATE_BETA).unwrap();
        let first = mix::draw(&samples, &sources, &w, &params).unwrap();
        let first_grid = w.density.as_ref().map(|g| g.grid);
        drop(w);
        let (mut extra, nll2) = pool(n / 100, n as u64, 43);
        // New samples get q from their NLL's place in the synthetic NLL range (old q unchanged).
        for (s, v) in extra.iter_mut().zip(nll2) {
            s.q = v.map(|x| (1.0 - (x as f64 - 2.0) / 3.0).clamp(0.0, 1.0) as f32);
        }
        samples.extend(extra);
        let t = Instant::now();
        // As `samplemix mix NAME` re-draws: keeping the first draw's density grid.
        let w = mix::weights_keeping_grid(
            &samples,
            &sources,
            &Kernel::DEFAULT_BIVARIATE_BETA,
            first_grid,
        )
        .unwrap();
        let second = mix::draw(&samples, &sources, &w, &params).unwrap();
        let changed = first
            .counts
            .iter()
            .zip(&second.counts)
            .filter(|(a, b)| a != b)
            .count();
        println!(
            "| {n} | re-draw after a 1% append ({:.2}% of old samples changed count) | bivariate-beta | {:.2} | - |",
            100.0 * changed as f64 / n as f64,
            t.elapsed().as_secs_f64()
        );
        drop((samples, w, first, second));
    }
    println!("\npeak RSS of the process: {:.0} MiB", peak_rss_mb());
}
