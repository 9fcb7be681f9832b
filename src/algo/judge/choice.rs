//! A multiple-choice task built from held-out documents and scored the way lm-eval-harness
//! scores one (`acc_norm`): each option's log-likelihood after the shared prefix, divided by
//! its length in bytes; the model picks the option with the highest.
//!
//! For each eligible document the prefix is its first ~64 bytes and the true option the next
//! ~64; the distractors are the same span of two other held-out documents, the true span with
//! its words shuffled, and a keyword of the prefix repeated to the same length: the text a
//! model trained on keyword spam or shuffled junk would not reject.

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::SeedableRng;
use serde::Serialize;

use super::{score, Model, Result, Scored, SEPARATOR};

/// Bytes of prefix and of each option (cut back to a UTF-8 character boundary).
pub const SPAN: usize = 64;

/// The kinds of option, in the order of [`Item::options`]; the first is the true one.
pub const KINDS: [&str; 5] = ["true", "other-doc-a", "other-doc-b", "shuffled", "keywords"];

/// One question.
#[derive(Clone, Debug)]
pub struct Item {
    /// The held-out document it came from.
    pub doc: usize,
    /// The shared prefix.
    pub prefix: Vec<u8>,
    /// The options, kinds as in [`KINDS`]; the first is the true continuation.
    pub options: Vec<Vec<u8>>,
}

/// The largest char boundary of `text` at or below `at`.
fn floor_boundary(text: &str, at: usize) -> usize {
    let mut i = at.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The prefix and true continuation of a document, if it has two spans of text with at least
/// 4 words in the second.
fn spans(text: &str) -> Option<(&str, &str)> {
    let p = floor_boundary(text, SPAN);
    let e = floor_boundary(text, p + SPAN);
    let (prefix, cont) = (&text[..p], &text[p..e]);
    (p > SPAN / 2 && e - p > SPAN / 2 && cont.split_whitespace().count() >= 4)
        .then_some((prefix, cont))
}

fn fit(mut s: String, len: usize) -> Vec<u8> {
    let cut = floor_boundary(&s, len);
    s.truncate(cut);
    s.into_bytes()
}

/// Builds up to `max_items` questions from `docs` with `seed` (the task depends on the held-out
/// text and this seed only, so every model faces the same questions).
pub fn build(docs: &[&str], seed: u64, max_items: usize) -> Vec<Item> {
    let eligible: Vec<(usize, &str, &str)> = docs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| spans(d).map(|(p, c)| (i, p, c)))
        .collect();
    if eligible.len() < 3 {
        return Vec::new();
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0xC401CE);
    let mut order: Vec<usize> = (0..eligible.len()).collect();
    order.shuffle(&mut rng);
    order.truncate(max_items);
    order.sort_unstable();
    let mut items = Vec::with_capacity(order.len());
    for &k in &order {
        let (doc, prefix, cont) = eligible[k];
        let others: Vec<usize> = (0..eligible.len())
            .filter(|&j| j != k && eligible[j].2 != cont)
            .collect();
        let picked: Vec<&usize> = others.choose_multiple(&mut rng, 2).collect();
        if picked.len() < 2 {
            continue;
        }
        let mut words: Vec<&str> = cont.split_whitespace().collect();
        let original = words.clone();
        words.shuffle(&mut rng);
        if words == original {
            words.rotate_left(1);
        }
        let shuffled = fit(words.join(" "), cont.len());
        let keyword = prefix
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 4)
            .max_by_key(|w| (prefix.matches(w).count(), w.len()))
            .unwrap_or("data");
        let repeated = fit(
            std::iter::repeat_n(keyword, cont.len() / (keyword.len() + 1) + 1)
                .collect::<Vec<_>>()
                .join(" "),
            cont.len(),
        );
        items.push(Item {
            doc,
            prefix: prefix.as_bytes().to_vec(),
            options: vec![
                cont.as_bytes().to_vec(),
                eligible[*picked[0]].2.as_bytes().to_vec(),
                eligible[*picked[1]].2.as_bytes().to_vec(),
                shuffled,
                repeated,
            ],
        });
    }
    items
}

/// How a model did on the task.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// Questions.
    pub items: u64,
    /// Answered right: the true option strictly best.
    pub correct: u64,
    /// `correct / items`.
    pub accuracy: f64,
    /// 95% Wilson score interval of the accuracy.
    pub ci95: (f64, f64),
    /// Per distractor kind (after "true" in [`KINDS`]), how often the true option beat it.
    pub beats: Vec<(String, f64)>,
}

/// The 95% Wilson score interval of `k` successes in `n` trials.
pub fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, p, z) = (n as f64, k as f64 / n as f64, 1.959_963_984_540_054);
    let centre = p + z * z / (2.0 * n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    let denom = 1.0 + z * z / n;
    ((centre - half) / denom, (centre + half) / denom)
}

/// Scores `items` with `model`.
pub fn evaluate(model: &Model, items: &[Item]) -> Result<Outcome> {
    let context = model.config().context;
    let mut seqs = Vec::with_capacity(items.len() * KINDS.len());
    for item in items {
        for opt in &item.options {
            let mut bytes = Vec::with_capacity(1 + item.prefix.len() + opt.len());
            bytes.push(SEPARATOR);
            bytes.extend_from_slice(&item.prefix);
            bytes.extend_from_slice(opt);
            // Keep the option whole; drop the start of the prefix if it does not fit.
            let over = bytes.len().saturating_sub(context + 1);
            let score_from = bytes.len() - 1 - opt.len() - over;
            seqs.push(Scored {
                bytes: bytes[over..].to_vec(),
                score_from,
            });
        }
    }
    let nll = score(model, &seqs)?;
    let mut correct = 0u64;
    let mut beats = vec![0u64; KINDS.len() - 1];
    for (i, item) in items.iter().enumerate() {
        let per_byte: Vec<f64> = (0..KINDS.len())
            .map(|o| nll[i * KINDS.len() + o] / item.options[o].len().max(1) as f64)
            .collect();
        let mut all = true;
        for o in 1..KINDS.len() {
            if per_byte[0] < per_byte[o] {
                beats[o - 1] += 1;
            } else {
                all = false;
            }
        }
        correct += u64::from(all);
    }
    let n = items.len() as u64;
    let frac = |k: u64| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    Ok(Outcome {
        items: n,
        correct,
        accuracy: frac(correct),
        ci95: wilson(correct, n),
        beats: KINDS[1..]
            .iter()
            .zip(&beats)
            .map(|(k, &b)| (k.to_string(), frac(b)))
            .collect(),
    })
}
