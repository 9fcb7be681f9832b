//! Known answer: the default model's scores of a fixed English text, recorded once and checked
//! against llama.cpp's own `llama-perplexity`.
//!
//! How the recorded values were checked. `llama-perplexity` (llama.cpp from the llama-cpp-python
//! 0.3.36 sdist, built by tools/build-llama-reference.sh) was run on the text of
//! [`GPL_PREAMBLE`] written to a file without a trailing newline:
//!
//! ```text
//! llama-perplexity -m SmolLM2-135M-Instruct.Q4_1.gguf -f gpl.txt -c 128 -b 128 --chunks 1 \
//!     -fa off -t 2 --ppl-output-type 1
//! ```
//!
//! It tokenizes the text without BOS (the model's `add_bos_token` is false), evaluates the first
//! 128 tokens as one sequence and averages the NLL of the predictions made at positions 64..=126
//! (the second half of the chunk): it printed a mean NLL of 2.840887 nats (perplexity 17.1310).
//! The same 63 predictions from this crate's per-position NLLs ([`LlamaScorer::token_nlls`] on
//! the same 128 tokens) average to 2.841400 nats ([`OURS_CHUNK_MEAN_NLL`]): 0.0005 nats apart,
//! from two different llama.cpp builds (different versions; AVX2 kernels here, native AVX-512
//! there). The recorded whole-text score (336 tokens, mean NLL 2.956331 with BOS in front,
//! [`RECORDED_MEAN_NLL`]) comes from the same per-position code path, which
//! `score_batch_equals_the_per_position_path` ties to `score_batch` exactly.
//!
//! If llama-perplexity is built, the test also runs it and compares live.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use common::score::{load, model_path, test_settings, GPL_PREAMBLE};
use samplemix::stages::score::{LlamaScorer, LlamaSettings, QualityScorer};

/// llama-perplexity's mean NLL of the first 128-token chunk's second half (see the module docs).
const LLAMA_PERPLEXITY_CHUNK_MEAN_NLL: f64 = 2.840_887;
/// This crate's value of the same quantity, recorded once.
const OURS_CHUNK_MEAN_NLL: f64 = 2.841_400_368;
/// Token count of the text, and its score with BOS in front and max_tokens 512 (the whole text).
const RECORDED_N_TOKENS: u32 = 336;
const RECORDED_MEAN_NLL: f64 = 2.956_330_513;

/// Agreement expected between two llama.cpp builds (AVX2 here, native AVX-512 for the reference)
/// on the same computation.
const CROSS_BUILD_TOLERANCE: f64 = 2e-3;
/// Agreement expected between runs of this build.
const SAME_BUILD_TOLERANCE: f64 = 1e-4;

const CHUNK: usize = 128;

fn scorer() -> LlamaScorer {
    load(LlamaSettings {
        max_tokens: 512,
        ..test_settings()
    })
}

fn chunk_second_half_mean(scorer: &mut LlamaScorer) -> f64 {
    let tokens = scorer.tokenize(GPL_PREAMBLE);
    assert!(
        tokens.len() >= 2 * CHUNK,
        "llama-perplexity needs two chunks"
    );
    let nlls = scorer.token_nlls(&tokens[..CHUNK]).unwrap();
    // nlls[p] is the NLL of tokens[p + 1] predicted at position p.
    let half = &nlls[CHUNK / 2..CHUNK - 1];
    half.iter().sum::<f64>() / half.len() as f64
}

#[test]
fn recorded_score_of_a_fixed_text() {
    let mut scorer = scorer();
    let score = *scorer.score_batch(&[GPL_PREAMBLE]).unwrap()[0]
        .scored()
        .unwrap();
    let chunk_mean = chunk_second_half_mean(&mut scorer);
    let _ = writeln!(
        std::io::stderr(),
        "score_known_answer: whole text {} tokens, mean NLL {:.9}; chunk second half: ours \
         {chunk_mean:.9}, llama-perplexity {LLAMA_PERPLEXITY_CHUNK_MEAN_NLL:.6}",
        score.n_tokens,
        score.mean_nll()
    );
    assert_eq!(score.n_tokens, RECORDED_N_TOKENS);
    assert_eq!(score.n_scored, RECORDED_N_TOKENS);
    assert!((score.mean_nll() - RECORDED_MEAN_NLL).abs() < SAME_BUILD_TOLERANCE);
    assert!((chunk_mean - OURS_CHUNK_MEAN_NLL).abs() < SAME_BUILD_TOLERANCE);
    assert!((chunk_mean - LLAMA_PERPLEXITY_CHUNK_MEAN_NLL).abs() < CROSS_BUILD_TOLERANCE);
}

#[test]
fn score_batch_equals_the_per_position_path() {
    let mut scorer = scorer();
    let score = *scorer.score_batch(&[GPL_PREAMBLE]).unwrap()[0]
        .scored()
        .unwrap();
    let mut input = vec![scorer.prefix_token()];
    input.extend(scorer.tokenize(GPL_PREAMBLE));
    let nlls = scorer.token_nlls(&input).unwrap();
    assert_eq!(nlls.len(), score.n_scored as usize);
    let sum: f64 = nlls.iter().sum();
    assert!(
        (sum - score.nll_sum).abs() < 1e-9,
        "{sum} vs {}",
        score.nll_sum
    );
}

/// Runs llama-perplexity live: `tools/build-llama-reference.sh` builds it. Ignored by default
/// (run it with `tools/test.sh --test score_known_answer -- --ignored`); without the binary it
/// fails rather than passing unchecked.
#[test]
#[ignore = "needs llama.cpp's llama-perplexity: tools/build-llama-reference.sh"]
fn matches_llama_perplexity_when_it_is_built() {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let bin = home.join(".cache/samplemix/llama.cpp-ref/bin/llama-perplexity");
    assert!(
        bin.is_file(),
        "{} is missing: build it with tools/build-llama-reference.sh",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("gpl.txt");
    std::fs::write(&text, GPL_PREAMBLE).unwrap();
    let output = Command::new(&bin)
        .arg("-m")
        .arg(model_path())
        .arg("-f")
        .arg(&text)
        .args([
            "-c", "128", "-b", "128", "--chunks", "1", "-fa", "off", "-t", "2",
        ])
        .args(["--ppl-output-type", "1"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The result line is "<chunk start>  <ppl>  <mean nll>  <its standard error>".
    let stdout = String::from_utf8_lossy(&output.stdout);
    let theirs: f64 = stdout
        .lines()
        .find_map(|line| {
            let fields: Vec<f64> = line
                .split_whitespace()
                .map(|f| f.parse().ok())
                .collect::<Option<_>>()?;
            (fields.len() == 4).then(|| fields[2])
        })
        .unwrap_or_else(|| panic!("unexpected llama-perplexity output: {stdout}"));
    let ours = chunk_second_half_mean(&mut scorer());
    let _ = writeln!(
        std::io::stderr(),
        "score_known_answer: live llama-perplexity {theirs:.6}, ours {ours:.6}"
    );
    assert!((ours - theirs).abs() < CROSS_BUILD_TOLERANCE);
}
