//! The mix report over a synthetic pool with known (q, d): files, CSV, HTML without network.

use samplemix::algo::mix::{Kernel, MixSample, ShareBounds};
use samplemix::pool::mixes::{self, LoadedPool, MixSpec};
use samplemix::stages::mix;
use samplemix::stages::report;
use samplemix::store::PoolCounters;

fn pool(n: usize) -> LoadedPool {
    let samples = (0..n)
        .map(|i| {
            let x = samplemix::algo::mix::stable_uniform(101, i as u64) as f32;
            let y = samplemix::algo::mix::stable_uniform(102, i as u64) as f32;
            MixSample {
                key: i as u64,
                text_key: 0,
                tokens: 100 + (i % 300) as u32,
                source: (i % 3) as u32,
                topic: Some((i % 10) as u32),
                q: Some(x),
                d: Some(y),
            }
        })
        .collect();
    LoadedPool {
        samples,
        sources: vec!["web".into(), "wiki, en".into(), "code".into()],
        counters: PoolCounters {
            next_seq: n as u64,
            docs: n as u64,
            ..Default::default()
        },
        scorer: String::new(),
    }
}

#[test]
fn report_files_and_contents() {
    // (q, d) from other seeds than the draw's: u(x) must not be q(x).
    let p = pool(50_000);
    let tokens: u64 = p.samples.iter().map(|s| s.tokens as u64).sum::<u64>() / 4;
    let spec = MixSpec {
        kernel: Kernel::BivariateBeta {
            a: 3.0,
            b: 2.0,
            c: 1.5,
        },
        tokens,
        seed: 1,
        max_repeat: 4,
        bounds: ShareBounds::default(),
        density_grid: None,
        quality: Default::default(),
        rank_within: Default::default(),
        uniform: Default::default(),
    };
    let record = mix::draw(&p, &spec).unwrap();
    let r = report::build("m", &record, &p).unwrap();
    // The mix's q histogram is closer to the target than the (uniform) pool's is.
    let target = r.quality.target.as_ref().unwrap();
    let l1 = |a: &[f64]| {
        a.iter()
            .zip(target)
            .map(|(x, t)| (x - t).abs())
            .sum::<f64>()
    };
    assert!(l1(&r.quality.mix) < 0.1, "{}", l1(&r.quality.mix));
    assert!(l1(&r.quality.pool) > 0.25, "{}", l1(&r.quality.pool));
    assert_eq!(r.topics.pool_topics, 10);
    assert_eq!(r.topics.mix_topics, 10);
    let reps: u64 = r.repetition.iter().map(|x| x.samples).sum();
    assert_eq!(reps, record.counts.len() as u64);

    let dir = tempfile::tempdir().unwrap();
    report::write(dir.path(), &r).unwrap();
    if let Some(keep) = std::env::var_os("KEEP_REPORT") {
        report::write(std::path::Path::new(&keep), &r).unwrap();
    }
    let csv = std::fs::read_to_string(dir.path().join("sources.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0].starts_with("source,natural_tokens,mixed_tokens"));
    assert!(lines[2].starts_with("\"wiki, en\","), "{csv}");
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 5);
    assert!(html.contains("target"));
    // Self-contained: no script, no external resource.
    assert!(!html.contains("<script"));
    assert!(!html
        .replace("http://www.w3.org/2000/svg", "")
        .contains("http"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(json["name"], "m");
    let file = dir.path().join("report.json");
    assert!(report::write(&file, &r).is_err());
}

#[test]
fn a_source_held_at_its_bound_is_not_warned_about_but_one_past_2x_is() {
    // Source "web" has the worst q: weights by q push it down; bounds hold it at 0.5x.
    let mut p = pool(30_000);
    for s in p.samples.iter_mut().filter(|s| s.source == 0) {
        s.q = s.q.map(|q| q * 0.2);
    }
    let tokens: u64 = p.samples.iter().map(|s| s.tokens as u64).sum::<u64>() / 3;
    let mut spec = MixSpec {
        kernel: Kernel::Linear { alpha: 0.0 },
        tokens,
        seed: 3,
        max_repeat: 4,
        bounds: ShareBounds::default(),
        density_grid: None,
        quality: Default::default(),
        rank_within: Default::default(),
        uniform: Default::default(),
    };
    let free = mix::draw(&p, &spec).unwrap();
    let warned = mixes::share_warnings(&free);
    assert!(
        warned.iter().any(|w| w.starts_with("source web:")),
        "{warned:?}"
    );
    spec.bounds.relative = Some((0.5, 2.0));
    let bounded = mix::draw(&p, &spec).unwrap();
    let web = &mixes::shares(&bounded)[0];
    assert_eq!(web.name, "web");
    assert!((web.ratio - 0.5).abs() < 0.01, "{web:?}");
    assert!(
        mixes::share_warnings(&bounded).is_empty(),
        "{:?}",
        mixes::share_warnings(&bounded)
    );

    // A little past the bound (the realised total a little over the budget, as rounding on a
    // small pool leaves it) is no move past 2x; 2% past it is.
    let scaled = |factor: f64| {
        let mut r = bounded.clone();
        r.sources[0].mixed_tokens = (r.sources[0].mixed_tokens as f64 * factor) as u64;
        (mixes::shares(&r)[0].ratio, mixes::share_warnings(&r))
    };
    let (ratio, warned) = scaled(0.99);
    assert!(ratio < 0.5 && warned.is_empty(), "{ratio}: {warned:?}");
    let (ratio, warned) = scaled(0.97);
    assert!(ratio < 0.49 && warned.len() == 1, "{ratio}: {warned:?}");
}
