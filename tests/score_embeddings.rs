//! The scorer's embedding output: one decode gives the NLL and a mean-pooled hidden state.
//! Turning it on changes no score; a sample's embedding does not depend on its batch-mates;
//! texts about different things are further apart than texts about the same thing.

mod common;

use std::io::Write;

use common::score::{load, VARIED};
use samplemix::stages::score::{LlamaSettings, QualityScorer, SampleScore};

fn settings(embeddings: bool) -> LlamaSettings {
    LlamaSettings {
        max_tokens: 48,
        batch_tokens: 256,
        threads: 2,
        embeddings,
        ..LlamaSettings::default()
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn one_pass_gives_scores_and_embeddings_and_embedding_changes_no_score() {
    let mut plain = load(settings(false));
    let mut both = load(settings(true));
    assert_eq!(plain.embedding_dim(), None);
    let dim = both.embedding_dim().expect("an embedding dimension");
    assert_eq!(dim, 576, "SmolLM2-135M's hidden size");
    assert_eq!(plain.fingerprint(), both.fingerprint());

    let scores = plain.score_batch(&VARIED).unwrap();
    let results = both.score_and_embed(&VARIED).unwrap();
    for ((text, score), (with, embedding)) in VARIED.iter().zip(&scores).zip(&results) {
        assert_eq!(
            score, with,
            "scores differ with embeddings on for {text:.40}"
        );
        match with {
            SampleScore::Scored(_) => {
                let e = embedding.as_ref().expect("a scored text has an embedding");
                assert_eq!(e.len(), dim);
                assert!(e.iter().all(|v| v.is_finite()));
            }
            SampleScore::TooShort { .. } => assert!(embedding.is_none()),
        }
    }
    // Alone, a text gets the embedding it got in the batch (to kernel rounding).
    let mut worst = 0f64;
    for (text, (_, embedding)) in VARIED.iter().zip(&results) {
        let alone = both.score_and_embed(&[text]).unwrap();
        if let (Some(a), Some(b)) = (embedding, &alone[0].1) {
            worst = worst.max(1.0 - cosine(a, b));
        }
    }
    let _ = writeln!(
        std::io::stderr(),
        "score_embeddings: largest 1 - cos(batched, alone) over {} texts: {worst:.2e}",
        VARIED.len()
    );
    assert!(
        worst < 1e-4,
        "batch-mates moved an embedding: 1 - cos = {worst}"
    );
}

#[test]
fn embeddings_follow_meaning() {
    let mut scorer = load(settings(true));
    let texts = [
        "The cat sat on the mat and purred while the kitten chased a ball of yarn.",
        "My dog loves to fetch sticks in the park and bark at the neighbour's cat.",
        "The central bank raised interest rates to curb inflation in the bond market.",
        "Stock prices fell as investors worried about the bank's quarterly earnings.",
    ];
    let results = scorer.score_and_embed(&texts).unwrap();
    let e: Vec<&Vec<f32>> = results.iter().map(|(_, e)| e.as_ref().unwrap()).collect();
    let mean: Vec<f32> = (0..e[0].len())
        .map(|i| e.iter().map(|v| v[i]).sum::<f32>() / e.len() as f32)
        .collect();
    let centred: Vec<Vec<f32>> = e
        .iter()
        .map(|v| v.iter().zip(&mean).map(|(a, m)| a - m).collect())
        .collect();
    let same = cosine(&centred[0], &centred[1]).min(cosine(&centred[2], &centred[3]));
    let across = [(0, 2), (0, 3), (1, 2), (1, 3)]
        .iter()
        .map(|&(a, b)| cosine(&centred[a], &centred[b]))
        .fold(f64::MIN, f64::max);
    assert!(
        same > across,
        "animals/finance: within {same:.3}, across {across:.3}"
    );
}
