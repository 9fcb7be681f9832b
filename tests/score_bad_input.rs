//! Bad input: broken model files give errors (never a panic or an abort), and no sample text,
//! however odd, makes scoring fail.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use common::score::{load, model_path, shared, test_settings, ARABIC, CHINESE, EMOJI_CHAT, VARIED};
use samplemix::stages::score::{
    LlamaScorer, LlamaSettings, QualityScorer, SampleScore, ScoreError,
};

fn load_err(path: &Path) -> ScoreError {
    match LlamaScorer::load(path, test_settings()) {
        Ok(_) => panic!("{} loaded, expected an error", path.display()),
        Err(e) => e,
    }
}

#[test]
fn missing_model_file_says_how_to_fetch_it() {
    let path = Path::new("/nonexistent/samplemix/model.gguf");
    let err = load_err(path);
    assert!(matches!(err, ScoreError::ModelNotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("/nonexistent/samplemix/model.gguf"),
        "{message}"
    );
    assert!(message.contains("tools/fetch-model.sh"), "{message}");
}

#[test]
fn files_that_are_not_gguf_are_rejected_before_llama_cpp() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("empty.gguf", b""),
        ("json.gguf", b"{\"text\": \"not a model\"}\n"),
        ("magic-only.gguf", b"GGUF"),
        (
            "bad-version.gguf",
            b"GGUF\x63\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00",
        ),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = load_err(&path);
        assert!(matches!(err, ScoreError::NotGguf { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(name), "{err}");
    }
    let err = load_err(dir.path());
    assert!(
        matches!(err, ScoreError::NotGguf { .. }),
        "directory: {err:?}"
    );
}

#[test]
fn truncated_gguf_is_an_error_not_an_abort() {
    let model = std::fs::read(model_path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Inside the metadata, inside the tensor index (the header ends near 1.7 MB), and in the data.
    for len in [64, 4096, 1 << 20, model.len() / 2, model.len() - 4096] {
        let path = dir.path().join(format!("truncated-{len}.gguf"));
        std::fs::write(&path, &model[..len]).unwrap();
        let err = load_err(&path);
        assert!(
            matches!(err, ScoreError::ModelLoad { .. }),
            "truncated to {len} bytes: {err:?}"
        );
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}

#[test]
fn invalid_settings_are_errors() {
    for settings in [
        LlamaSettings {
            max_tokens: 1,
            ..test_settings()
        },
        LlamaSettings {
            threads: 0,
            ..test_settings()
        },
        LlamaSettings {
            batch_tokens: 0,
            ..test_settings()
        },
    ] {
        let err = LlamaScorer::load(&model_path(), settings).err();
        assert!(matches!(err, Some(ScoreError::Settings(_))), "{err:?}");
    }
}

#[test]
fn empty_and_one_token_texts_are_too_short() {
    let mut scorer = shared();
    let one_token = "Hello";
    assert_eq!(scorer.tokenize(one_token).len(), 1);
    assert_eq!(scorer.tokenize(" ").len(), 1);
    let results = scorer
        .score_batch(&["", one_token, " ", VARIED[0]])
        .unwrap();
    assert_eq!(results[0], SampleScore::TooShort { n_tokens: 0 });
    assert_eq!(results[1], SampleScore::TooShort { n_tokens: 1 });
    assert_eq!(results[2], SampleScore::TooShort { n_tokens: 1 });
    assert!(results[3].scored().is_some());
    let two_tokens = "Hello world";
    assert_eq!(scorer.tokenize(two_tokens).len(), 2);
    let score = *scorer.score_batch(&[two_tokens]).unwrap()[0]
        .scored()
        .unwrap();
    assert_eq!((score.n_scored, score.n_tokens), (2, 2));
}

#[test]
fn long_texts_are_truncated_to_max_tokens_but_counted_whole() {
    let max_tokens = 64;
    let mut scorer = load(LlamaSettings {
        max_tokens,
        ..test_settings()
    });
    // About 3 MB of real text, and two adversarial megabytes: one endless "word" and random bytes.
    let mut prose = String::new();
    let mut i = 0;
    while prose.len() < 3_000_000 {
        prose.push_str(VARIED[i % VARIED.len()]);
        prose.push_str(&format!("\n\n[{i}]\n\n"));
        i += 1;
    }
    let one_word = "a".repeat(1_000_000);
    let mut state: u32 = 12345;
    let noise: Vec<u8> = (0..1_000_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as u8
        })
        .collect();
    let noise = String::from_utf8_lossy(&noise).into_owned();
    let texts = [prose.as_str(), one_word.as_str(), noise.as_str()];

    let started = Instant::now();
    let results = scorer.score_batch(&texts).unwrap();
    let elapsed = started.elapsed();
    for (text, result) in texts.iter().zip(&results) {
        let score = result.scored().expect("long texts are scored");
        assert_eq!(score.n_scored, u32::try_from(max_tokens).unwrap());
        assert_eq!(score.n_tokens as usize, scorer.tokenize(text).len());
        assert!(score.mean_nll().is_finite());
    }
    assert!(results[0].n_tokens() > 500_000, "{:?}", results[0]);
    let _ = writeln!(
        std::io::stderr(),
        "score_bad_input: {} + {} + {} bytes ({} + {} + {} tokens) scored in {:.2} s",
        prose.len(),
        one_word.len(),
        noise.len(),
        results[0].n_tokens(),
        results[1].n_tokens(),
        results[2].n_tokens(),
        elapsed.as_secs_f64()
    );
    // Tokenizing is linear; a quadratic tokenizer would take minutes here.
    assert!(elapsed.as_secs() < 60, "took {elapsed:?}");
}

#[test]
fn non_english_emoji_binary_and_special_token_text_is_scored() {
    let mut bytes: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
    bytes.extend_from_slice(b"\0\0\0 tail");
    let binary = String::from_utf8_lossy(&bytes).into_owned();
    let with_nul = "before\0after\0\0 and some more words after the NUL bytes";
    let special = "<|im_start|>user\nhello<|im_end|> <|endoftext|> and plain text";
    let texts = [
        CHINESE,
        ARABIC,
        EMOJI_CHAT,
        binary.as_str(),
        with_nul,
        special,
    ];
    let results = shared().score_batch(&texts).unwrap();
    for (text, result) in texts.iter().zip(&results) {
        let score = result
            .scored()
            .unwrap_or_else(|| panic!("{text:?} was not scored: {result:?}"));
        assert!(
            score.n_scored >= 2 && score.mean_nll().is_finite(),
            "{score:?}"
        );
    }
    // Special-token text is taken literally, not as one control token each.
    assert!(shared().tokenize("<|im_start|>").len() > 1);
}
