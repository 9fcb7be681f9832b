use super::*;

fn pool(n: usize, sources: u32) -> Vec<MixSample> {
    (0..n)
        .map(|i| {
            let x = stable_uniform(99, i as u64) as f32;
            let y = stable_uniform(98, i as u64) as f32;
            MixSample {
                key: i as u64,
                text_key: 0,
                tokens: 50 + (i % 200) as u32,
                source: i as u32 % sources,
                topic: Some((i % 7) as u32),
                q: Some(x),
                d: Some(y),
            }
        })
        .collect()
}

fn names(k: u32) -> Vec<String> {
    (0..k).map(|i| format!("s{i}")).collect()
}

fn params(tokens: u64) -> DrawParams {
    DrawParams {
        tokens,
        seed: 7,
        max_repeat: DEFAULT_MAX_REPEAT,
        bounds: ShareBounds::default(),
        uniform: UniformKey::Seq,
    }
}

#[test]
fn quality_midranks() {
    let q = quality_from_nll(&[Some(3.0), None, Some(1.0), Some(2.0), Some(2.0)]);
    // n = 4: ranks 1.0 -> 1, 2.0 -> 2.5 (tie), 3.0 -> 4.
    assert_eq!(
        q,
        vec![Some(0.0), None, Some(0.75), Some(0.375), Some(0.375)]
    );
    let r = rank_normalise(&[Some(0.1), Some(0.9), None]);
    assert_eq!(r, vec![Some(0.5), Some(1.0), None]);
}

#[test]
fn ln_gamma_and_density_normalised() {
    assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
    assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    let (a, b, c) = (2.0, 3.0, 1.5);
    let m = 400;
    let mut sum = 0.0;
    for i in 0..m {
        for j in 0..m {
            let x = (i as f64 + 0.5) / m as f64;
            let y = (j as f64 + 0.5) / m as f64;
            sum += bivariate_beta_density(x, y, a, b, c);
        }
    }
    let integral = sum / (m * m) as f64;
    assert!((integral - 1.0).abs() < 2e-3, "integral {integral}");
}

#[test]
fn budget_cap_and_determinism() {
    let p = pool(20_000, 3);
    let s = names(3);
    let w = weights(&p, &s, &Kernel::Linear { alpha: 0.8 }).unwrap();
    let total: u64 = p.iter().map(|x| x.tokens as u64).sum();
    let d = draw(&p, &s, &w, &params(total)).unwrap();
    let err = (d.tokens as f64 - total as f64).abs() / total as f64;
    assert!(err < 0.005, "budget error {err}");
    assert!(d.counts.iter().all(|&c| c <= DEFAULT_MAX_REPEAT));
    let d2 = draw(&p, &s, &w, &params(total)).unwrap();
    assert_eq!(d.counts, d2.counts);
    let mut other = params(total);
    other.seed = 8;
    assert_ne!(draw(&p, &s, &w, &other).unwrap().counts, d.counts);
}

#[test]
fn bad_budgets() {
    let p = pool(1000, 2);
    let s = names(2);
    let w = weights(&p, &s, &Kernel::Natural).unwrap();
    assert_eq!(draw(&p, &s, &w, &params(0)), Err(MixError::ZeroBudget));
    let total: u64 = p.iter().map(|x| x.tokens as u64).sum();
    match draw(&p, &s, &w, &params(4 * total + 1)) {
        Err(MixError::BudgetUnreachable { reachable, .. }) => assert_eq!(reachable, 4 * total),
        other => panic!("{other:?}"),
    }
    // Exactly reachable: every sample 4 times.
    let d = draw(&p, &s, &w, &params(4 * total)).unwrap();
    assert!(d.counts.iter().all(|&c| c == 4));
}

#[test]
fn exclusions_and_missing_scores() {
    let mut p = pool(1000, 2);
    for x in p.iter_mut().take(100) {
        x.q = None;
    }
    for x in p.iter_mut().skip(100).take(50) {
        x.d = None;
    }
    let s = names(2);
    let w = weights(&p, &s, &Kernel::DEFAULT_BIVARIATE_BETA).unwrap();
    assert_eq!(w.exclusions.no_quality, 100);
    assert_eq!(w.exclusions.no_diversity, 50);
    assert_eq!(w.exclusions.eligible, 850);
    let d = draw(&p, &s, &w, &params(50_000)).unwrap();
    assert!(d.counts[..150].iter().all(|&c| c == 0));
    let w = weights(&p, &s, &Kernel::Natural).unwrap();
    assert_eq!(w.exclusions.eligible, 1000);
    for x in p.iter_mut() {
        x.d = None;
    }
    let e = weights(&p, &s, &Kernel::Linear { alpha: 0.8 }).unwrap_err();
    assert!(e.to_string().contains("samplemix topics"), "{e}");
}

#[test]
fn domain_shares_exact_and_checked() {
    let p = pool(30_000, 3);
    let s = names(3);
    let k = Kernel::Domain {
        shares: vec![("s0".into(), 0.6), ("s1".into(), 0.3), ("s2".into(), 0.1)],
        normalise: false,
    };
    let w = weights(&p, &s, &k).unwrap();
    let d = draw(&p, &s, &w, &params(2_000_000)).unwrap();
    for (i, want) in [0.6, 0.3, 0.1].iter().enumerate() {
        let got = d.per_source[i].share;
        assert!(
            (got - want).abs() / want < 0.01,
            "source {i}: {got} vs {want}"
        );
    }
    let bad = Kernel::Domain {
        shares: vec![("s0".into(), 0.6), ("s1".into(), 0.3)],
        normalise: false,
    };
    assert!(matches!(
        weights(&p, &s, &bad),
        Err(MixError::WeightsDoNotSumToOne { .. })
    ));
    let norm = Kernel::Domain {
        shares: vec![("s0".into(), 6.0), ("s1".into(), 3.0)],
        normalise: true,
    };
    assert_eq!(
        weights(&p, &s, &norm).unwrap().domain_shares.unwrap(),
        vec![6.0 / 9.0, 3.0 / 9.0, 0.0]
    );
    let unknown = Kernel::Domain {
        shares: vec![("web".into(), 1.0)],
        normalise: false,
    };
    assert!(matches!(
        weights(&p, &s, &unknown),
        Err(MixError::UnknownSource { .. })
    ));
}

#[test]
fn source_bounds_hold_inside_the_budget() {
    // Source 0 has all the high-quality samples: quality-threshold would take only source 0.
    let mut p = pool(30_000, 3);
    for x in p.iter_mut() {
        x.q = Some(if x.source == 0 { 0.9 } else { 0.1 } * x.q.unwrap());
    }
    let s = names(3);
    let w = weights(&p, &s, &Kernel::Linear { alpha: 0.0 }).unwrap();
    let mut prm = params(2_000_000);
    let free = draw(&p, &s, &w, &prm).unwrap();
    assert!(free.per_source[0].share > 2.0 / 3.0);
    prm.bounds.relative = Some((0.5, 2.0));
    prm.bounds.min_share = vec![("s2".into(), 0.25)];
    let d = draw(&p, &s, &w, &prm).unwrap();
    let err = (d.tokens as f64 - 2e6).abs() / 2e6;
    assert!(err < 0.005, "budget error {err}");
    for (i, src) in d.per_source.iter().enumerate() {
        let r = src.share / src.natural_share;
        assert!(
            (0.5 - 0.01..=2.0 + 0.01).contains(&r),
            "source {i}: ratio {r}"
        );
    }
    assert!(
        d.per_source[2].share >= 0.25 - 0.003,
        "{}",
        d.per_source[2].share
    );
    prm.bounds.min_share = vec![("s2".into(), 0.8)];
    assert!(matches!(
        draw(&p, &s, &w, &prm),
        Err(MixError::InfeasibleBounds { .. })
    ));
}

#[test]
fn quality_threshold_and_topics() {
    let p = pool(10_000, 2);
    let s = names(2);
    let w = weights(&p, &s, &Kernel::QualityThreshold { fraction: 0.25 }).unwrap();
    assert_eq!(w.exclusions.eligible, 2500);
    let d = draw(&p, &s, &w, &params(100_000)).unwrap();
    for (x, &c) in p.iter().zip(&d.counts) {
        if c > 0 {
            assert!(x.q.unwrap() >= 0.74);
        }
    }
    // Equal expected tokens per topic; the realised ones differ by rounding (about 1.2% here).
    let p = pool(100_000, 2);
    let w = weights(&p, &s, &Kernel::TopicBalanced).unwrap();
    let d = draw(&p, &s, &w, &params(5_000_000)).unwrap();
    let mut per_topic = [0u64; 7];
    for (x, &c) in p.iter().zip(&d.counts) {
        per_topic[x.topic.unwrap() as usize] += c as u64 * x.tokens as u64;
    }
    for t in per_topic {
        assert!((t as f64 - 5e6 / 7.0).abs() / (5e6 / 7.0) < 0.04, "{t}");
    }
}

#[test]
fn a_redraw_keeps_the_density_grid_until_the_pool_moves_it_by_over_10_percent() {
    // grid_for(n) = round(sqrt(n / 100)), clamped to 2..=48.
    assert_eq!(PoolDensity::grid_for(193_600), 44);
    assert_eq!(PoolDensity::grid_for(198_970), 45);
    assert_eq!(PoolDensity::grid_keeping(None, 198_970), 45);
    assert_eq!(PoolDensity::grid_keeping(Some(44), 198_970), 44);
    // 44 + 10% = 48.4: the pool's own grid 48 is still within it, 30 is not.
    assert_eq!(PoolDensity::grid_keeping(Some(44), 230_000), 44);
    assert_eq!(PoolDensity::grid_keeping(Some(44), 90_000), 30);
    assert_eq!(PoolDensity::grid_keeping(Some(10), 20_000), 14);
    // A saved grid out of range is ignored.
    assert_eq!(PoolDensity::grid_keeping(Some(0), 198_970), 45);
    assert_eq!(PoolDensity::grid_keeping(Some(500), 198_970), 45);
}

#[test]
fn rounding_keeps_a_small_source_on_the_right_side_of_its_bound() {
    // Source 2: 12 long samples the kernel dislikes, pinned at half its natural share, where
    // one sample is a large part of its target: rounding alone could leave it under the bound.
    let mut p = pool(20_000, 2);
    for i in 0..12u64 {
        p.push(MixSample {
            key: 1_000_000 + i,
            text_key: 0,
            tokens: 2_000 + 150 * i as u32,
            source: 2,
            topic: Some(0),
            q: Some(0.01),
            d: Some(0.01),
        });
    }
    let s = names(3);
    let w = weights(&p, &s, &Kernel::Linear { alpha: 0.5 }).unwrap();
    let total: u64 = p.iter().map(|x| x.tokens as u64).sum();
    for seed in 0..20 {
        let mut prm = params(total / 3);
        prm.seed = seed;
        prm.bounds.relative = Some((0.5, 2.0));
        let d = draw(&p, &s, &w, &prm).unwrap();
        let src = &d.per_source[2];
        assert_eq!(src.pinned.as_deref(), Some("min"), "seed {seed}");
        assert!(
            src.mixed_tokens as f64 >= src.expected_tokens - 1e-6,
            "seed {seed}: {} realised tokens under the bound's {}",
            src.mixed_tokens,
            src.expected_tokens
        );
    }
}

/// A pool whose quality rises with the topic: topic t of 7 has q around t/7, so w = q starves
/// the low topics.
fn topic_skewed_pool(n: usize, sources: u32) -> Vec<MixSample> {
    pool(n, sources)
        .into_iter()
        .map(|mut s| {
            let t = s.topic.unwrap_or(0) as f32;
            s.q = Some(((t + s.q.unwrap_or(0.5)) / 7.0).clamp(0.0, 1.0));
            s
        })
        .collect()
}

/// Each topic's realised share of the mix over its natural share, by topic id.
fn topic_ratios(p: &[MixSample], counts: &[u16]) -> Vec<f64> {
    let mut nat = [0u64; 7];
    let mut mix = [0u64; 7];
    for (s, &c) in p.iter().zip(counts) {
        let t = s.topic.unwrap_or(0) as usize;
        nat[t] += u64::from(s.tokens);
        mix[t] += u64::from(c) * u64::from(s.tokens);
    }
    let (np, mp) = (
        nat.iter().sum::<u64>() as f64,
        mix.iter().sum::<u64>() as f64,
    );
    (0..7)
        .map(|t| (mix[t] as f64 / mp) / (nat[t] as f64 / np))
        .collect()
}

fn topic_bounded(tokens: u64, lo: f64, hi: f64) -> DrawParams {
    DrawParams {
        bounds: ShareBounds {
            topic_relative: Some((lo, hi)),
            ..ShareBounds::default()
        },
        ..params(tokens)
    }
}

#[test]
fn topic_bounds_hold_inside_the_budget() {
    let p = topic_skewed_pool(20_000, 3);
    let s = names(3);
    let w = weights(&p, &s, &Kernel::Linear { alpha: 0.0 }).unwrap();
    let total: u64 = p.iter().map(|x| x.tokens as u64).sum();
    let budget = total / 2;
    // Without bounds topic 0 (q near 0.07) gets far under half its natural share.
    let free = draw(&p, &s, &w, &params(budget)).unwrap();
    let r = topic_ratios(&p, &free.counts);
    assert!(r[0] < 0.3 && r[6] > 1.5, "{r:?}");
    // With bounds 0.6..1.4 every topic is inside, up to the rounding of ~2,800 samples each.
    let d = draw(&p, &s, &w, &topic_bounded(budget, 0.6, 1.4)).unwrap();
    let r = topic_ratios(&p, &d.counts);
    for (t, &x) in r.iter().enumerate() {
        assert!(
            (0.6 * 0.98..=1.4 * 1.02).contains(&x),
            "topic {t}: {x} ({r:?})"
        );
    }
    assert!(
        (r[0] - 0.6).abs() < 0.02 && (r[6] - 1.4).abs() < 0.03,
        "{r:?}"
    );
    assert!((d.tokens as f64 - budget as f64).abs() / (budget as f64) < 1e-3);
    // The same inputs draw the same counts.
    let again = draw(&p, &s, &w, &topic_bounded(budget, 0.6, 1.4)).unwrap();
    assert!(again.counts == d.counts);
    // Loose bounds that the free draw already meets change only the rounding (per source and
    // topic instead of per source).
    let loose = draw(&p, &s, &w, &topic_bounded(budget, 0.01, 100.0)).unwrap();
    let (rf, rl) = (
        topic_ratios(&p, &free.counts),
        topic_ratios(&p, &loose.counts),
    );
    for (a, b) in rf.iter().zip(&rl) {
        assert!((a - b).abs() < 0.05, "{rf:?} vs {rl:?}");
    }
}

#[test]
fn topic_bounds_and_source_bounds_hold_together() {
    // Sources skewed too: source 0 holds the low topics' samples more often.
    let mut p = topic_skewed_pool(20_000, 3);
    for s in &mut p {
        if s.topic.unwrap_or(0) < 3 && s.key % 3 != 0 {
            s.source = 0;
        }
    }
    let s = names(3);
    let w = weights(&p, &s, &Kernel::Linear { alpha: 0.0 }).unwrap();
    let budget = p.iter().map(|x| x.tokens as u64).sum::<u64>() / 2;
    let bounds = ShareBounds {
        relative: Some((0.8, 1.25)),
        topic_relative: Some((0.5, 2.0)),
        ..ShareBounds::default()
    };
    let d = draw(
        &p,
        &s,
        &w,
        &DrawParams {
            bounds,
            ..params(budget)
        },
    )
    .unwrap();
    for (t, &x) in topic_ratios(&p, &d.counts).iter().enumerate() {
        assert!((0.5 * 0.98..=2.0 * 1.02).contains(&x), "topic {t}: {x}");
    }
    for src in &d.per_source {
        let ratio = src.share / src.natural_share;
        assert!((0.8 * 0.99..=1.25 * 1.01).contains(&ratio), "{src:?}");
    }
}

#[test]
fn topic_bounds_relax_an_unreachable_minimum_and_refuse_impossible_maximums() {
    let p = topic_skewed_pool(7_000, 2);
    let s = names(2);
    // quality-threshold keeps the best half by q: topics 0-2 keep (almost) nothing, so their
    // minimum is relaxed to what they can supply, and the other topics stay within bounds.
    let w = weights(&p, &s, &Kernel::QualityThreshold { fraction: 0.5 }).unwrap();
    let budget = p.iter().map(|x| x.tokens as u64).sum::<u64>() / 3;
    let d = draw(&p, &s, &w, &topic_bounded(budget, 0.5, 3.0)).unwrap();
    let r = topic_ratios(&p, &d.counts);
    assert!(r[0] < 0.05, "{r:?}");
    for (t, &x) in r.iter().enumerate().skip(4) {
        assert!(
            (0.5 * 0.97..=3.0 * 1.03).contains(&x),
            "topic {t}: {x} ({r:?})"
        );
    }
    // Maximums of 1x natural cannot fill the budget when three topics supply nothing.
    let err = draw(&p, &s, &w, &topic_bounded(budget, 0.5, 1.0)).unwrap_err();
    assert!(
        matches!(err, MixError::TopicBoundsInfeasible { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("raise HIGH"), "{err}");
    // Bounds that do not bracket 1, and a pool without topics, are refused.
    let nat = weights(&p, &s, &Kernel::Natural).unwrap();
    for (lo, hi) in [(1.5, 2.0), (0.5, 0.9), (f64::NAN, 2.0)] {
        assert!(matches!(
            draw(&p, &s, &nat, &topic_bounded(budget, lo, hi)),
            Err(MixError::BadParameter { .. })
        ));
    }
    let no_topics: Vec<MixSample> = p.iter().map(|x| MixSample { topic: None, ..*x }).collect();
    let err = draw(&no_topics, &s, &nat, &topic_bounded(budget, 0.5, 2.0)).unwrap_err();
    assert!(err.to_string().contains("samplemix topics"), "{err}");
}

#[test]
fn topic_bounds_are_optional_in_saved_bounds() {
    let old: ShareBounds =
        serde_json::from_str(r#"{"relative":[0.5,2.0],"min_share":[],"max_share":[]}"#).unwrap();
    assert_eq!(old.topic_relative, None);
    let json = serde_json::to_string(&old).unwrap();
    assert!(!json.contains("topic"), "{json}");
    let new = ShareBounds {
        topic_relative: Some((0.5, 2.0)),
        ..old
    };
    let back: ShareBounds = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
    assert_eq!(back, new);
}

/// Within one group, grouped q is exactly `quality_from_nll`; across groups each group is ranked
/// on its own, and samples without a group or a value get none.
#[test]
fn grouped_quality_ranks_within_each_group() {
    use super::{grouped_quality, quality_from_nll};
    let values: Vec<Option<f32>> = vec![
        Some(3.0),
        Some(1.0),
        None,
        Some(2.0),
        Some(1.0),
        Some(f32::NAN),
        Some(5.0),
    ];
    let one = vec![Some(0); values.len()];
    assert_eq!(grouped_quality(&values, &one), quality_from_nll(&values));
    let groups = vec![Some(0), Some(0), Some(1), Some(1), Some(1), Some(0), None];
    let q = grouped_quality(&values, &groups);
    // Group 0: 3.0 and 1.0 (the NaN has no q): 1.0 is best.
    assert_eq!(q[0], Some(0.0));
    assert_eq!(q[1], Some(0.5));
    // Group 1: 2.0 and 1.0.
    assert_eq!((q[3], q[4]), (Some(0.0), Some(0.5)));
    assert_eq!((q[2], q[5], q[6]), (None, None, None));
}
