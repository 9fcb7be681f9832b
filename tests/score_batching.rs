//! Batching must not change scores: a sample scored with others, in any order and any batch size,
//! gets the score it gets alone (within 0.01 nats of mean NLL; llama.cpp kernels may round
//! differently by batch shape).

mod common;

use std::io::Write;

use common::score::{load, shared, test_settings, VARIED};
use samplemix::stages::score::{LlamaSettings, QualityScore, QualityScorer, SampleScore};

const TOLERANCE_NATS: f64 = 0.01;

fn scored(result: &SampleScore) -> QualityScore {
    *result
        .scored()
        .unwrap_or_else(|| panic!("expected a score, got {result:?}"))
}

/// Largest mean-NLL difference between two result lists, checking that the token counts agree.
fn largest_difference(a: &[SampleScore], b: &[SampleScore]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut worst = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (scored(x), scored(y));
        assert_eq!((x.n_scored, x.n_tokens), (y.n_scored, y.n_tokens));
        worst = worst.max((x.mean_nll() - y.mean_nll()).abs());
    }
    worst
}

#[test]
fn batched_scores_match_scores_of_each_sample_alone() {
    let mut scorer = shared();
    let batched = scorer.score_batch(&VARIED).unwrap();
    let alone: Vec<SampleScore> = VARIED
        .iter()
        .map(|text| scorer.score_batch(&[text]).unwrap()[0])
        .collect();
    let worst = largest_difference(&batched, &alone);
    // Written to stderr directly so that it shows without --nocapture.
    let _ = writeln!(
        std::io::stderr(),
        "score_batching: largest |batched - alone| mean NLL over {} texts: {worst:.6} nats",
        VARIED.len()
    );
    assert!(
        worst < TOLERANCE_NATS,
        "batched and single scores differ by {worst} nats"
    );
}

#[test]
fn order_and_batch_size_do_not_change_scores() {
    let reference = shared().score_batch(&VARIED).unwrap();

    let mut reversed_texts = VARIED;
    reversed_texts.reverse();
    let mut reversed = shared().score_batch(&reversed_texts).unwrap();
    reversed.reverse();
    let worst_order = largest_difference(&reference, &reversed);

    // Batches so small that most samples go through llama.cpp alone.
    let mut small = load(LlamaSettings {
        batch_tokens: 64,
        ..test_settings()
    });
    assert_eq!(
        small.fingerprint(),
        shared().fingerprint(),
        "batch size must not change the fingerprint"
    );
    let worst_small = largest_difference(&reference, &small.score_batch(&VARIED).unwrap());
    let _ = writeln!(
        std::io::stderr(),
        "score_batching: reversed order {worst_order:.6} nats, 64-token batches {worst_small:.6} nats"
    );
    assert!(worst_order < TOLERANCE_NATS && worst_small < TOLERANCE_NATS);
}

#[test]
fn scores_are_plausible_and_counts_consistent() {
    let mut scorer = shared();
    let max_tokens = u32::try_from(scorer.settings().max_tokens).unwrap();
    for (text, result) in VARIED.iter().zip(scorer.score_batch(&VARIED).unwrap()) {
        let score = scored(&result);
        let n_tokens = u32::try_from(scorer.tokenize(text).len()).unwrap();
        assert_eq!(score.n_tokens, n_tokens);
        assert_eq!(score.n_scored, n_tokens.min(max_tokens));
        let mean = score.mean_nll();
        assert!(mean.is_finite() && mean > 0.0 && mean < 15.0, "{mean}");
        assert!((score.perplexity() - mean.exp()).abs() < 1e-9);
    }
    assert!(scorer.score_batch(&[]).unwrap().is_empty());
}

#[test]
fn fingerprint_follows_max_tokens_but_not_threads() {
    let base = shared().fingerprint().to_owned();
    assert_eq!(base.len(), 16);
    let one_thread = load(LlamaSettings {
        threads: 1,
        ..test_settings()
    });
    assert_eq!(one_thread.fingerprint(), base);
    let longer = load(LlamaSettings {
        max_tokens: 2 * test_settings().max_tokens,
        ..test_settings()
    });
    assert_ne!(longer.fingerprint(), base);
    assert_eq!(
        shared().name(),
        samplemix::stages::score::DEFAULT_MODEL_FILE
    );
}
