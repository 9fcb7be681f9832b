use super::*;

fn tiny() -> TrainSettings {
    TrainSettings {
        model: ModelConfig {
            d_model: 32,
            layers: 2,
            heads: 2,
            context: 32,
        },
        steps: 30,
        batch: 8,
        lr: 3e-3,
        warmup: 3,
        min_lr_ratio: 0.1,
        weight_decay: 0.1,
    }
}

const TEXT: &str = "The river runs past the old mill and under the stone bridge. \
    Children fish from the bank in summer, and in winter the water freezes at the edges. ";

fn corpus() -> Vec<u8> {
    training_stream((0..40).map(|_| (TEXT.as_bytes(), 1u32)), 1)
}

#[test]
fn learning_rate_warms_up_then_decays_to_the_floor() {
    let s = TrainSettings::DEFAULT;
    assert!((s.lr_at(0) - s.lr / 16.0).abs() < 1e-12);
    assert!((s.lr_at(15) - s.lr).abs() < 1e-12);
    let last = s.lr_at(s.steps - 1);
    assert!(
        last < s.lr * 0.11 && last >= s.lr * s.min_lr_ratio,
        "{last}"
    );
    for step in s.warmup..s.steps - 1 {
        assert!(s.lr_at(step + 1) <= s.lr_at(step));
    }
}

#[test]
fn the_training_stream_holds_every_instance_once_per_count() {
    let a = training_stream([(b"alpha".as_slice(), 2), (b"beta".as_slice(), 1)], 7);
    assert_eq!(a.len(), 3 + 5 * 2 + 4);
    assert_eq!(a.iter().filter(|&&b| b == SEPARATOR).count(), 3);
    assert_eq!(
        a,
        training_stream([(b"alpha".as_slice(), 2), (b"beta".as_slice(), 1)], 7)
    );
}

#[test]
fn heldout_windows_predict_every_byte_once() {
    let docs: Vec<&[u8]> = vec![&[7u8; 100], b"", b"short"];
    let w = heldout_windows(&docs, 80, 32);
    let counted: usize = w
        .iter()
        .filter(|(d, _)| *d == 0)
        .map(|(_, s)| s.scored_len())
        .sum();
    assert_eq!(counted, 80);
    assert!(w.iter().all(|(_, s)| s.bytes.len() <= 33));
    assert_eq!(
        w.iter()
            .filter(|(d, _)| *d == 2)
            .map(|(_, s)| s.scored_len())
            .sum::<usize>(),
        5
    );
    assert!(w.iter().all(|(d, _)| *d != 1));
}

#[test]
fn training_is_deterministic_and_lowers_loss() {
    let stream = corpus();
    let held: Vec<Scored> = heldout_windows(&[TEXT.as_bytes()], 200, 32)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let a = train(&stream, &tiny(), 3, Some((&held, 3))).unwrap();
    let b = train(&stream, &tiny(), 3, None).unwrap();
    assert_eq!(a.final_train_loss.to_bits(), b.final_train_loss.to_bits());
    let (na, _) = total_nll(&a.model, &held).unwrap();
    let (nb, bytes) = total_nll(&b.model, &held).unwrap();
    assert_eq!(na.to_bits(), nb.to_bits());
    // Untrained, a byte costs about ln 256 = 5.5 nats; trained on this text, far less.
    assert!(na / (bytes as f64) < 3.5, "{}", na / bytes as f64);
    assert_eq!(a.curve.len(), 3);
    assert!(a.curve[2].heldout_nats_per_byte < a.curve[0].heldout_nats_per_byte);
    let c = train(&stream, &tiny(), 4, None).unwrap();
    assert_ne!(a.final_train_loss.to_bits(), c.final_train_loss.to_bits());
}

#[test]
fn too_little_text_and_bad_settings_are_refused() {
    assert!(matches!(
        train(b"abc", &tiny(), 1, None),
        Err(JudgeError::Data(_))
    ));
    let mut s = tiny();
    s.model.heads = 3;
    assert!(matches!(
        train(&corpus(), &s, 1, None),
        Err(JudgeError::Settings(_))
    ));
    s = tiny();
    s.lr = f64::NAN;
    assert!(matches!(
        train(&corpus(), &s, 1, None),
        Err(JudgeError::Settings(_))
    ));
}

#[test]
fn choice_items_are_deterministic_with_the_true_option_first() {
    let docs: Vec<String> = (0..10)
        .map(|i| format!("Document {i} begins with a sentence about topic {i} and goes on. Then it says more words about its subject, number {i}, at some length here."))
        .collect();
    let refs: Vec<&str> = docs.iter().map(String::as_str).collect();
    let a = choice::build(&refs, 5, 6);
    let b = choice::build(&refs, 5, 6);
    assert_eq!(a.len(), 6);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.options, y.options);
        assert_eq!(x.options.len(), choice::KINDS.len());
        let doc = docs[x.doc].as_bytes();
        assert!(doc.starts_with(&x.prefix));
        assert!(doc[x.prefix.len()..].starts_with(&x.options[0]));
        assert_ne!(x.options[0], x.options[3], "shuffled differs");
    }
    assert!(choice::build(&refs[..2], 5, 6).is_empty());
}

#[test]
fn wilson_interval_brackets_the_rate() {
    let (lo, hi) = choice::wilson(80, 100);
    assert!(lo < 0.8 && hi > 0.8 && lo > 0.7 && hi < 0.88, "{lo} {hi}");
    assert_eq!(choice::wilson(0, 0), (0.0, 1.0));
}
