//! Synthetic hard negatives: pool samples damaged the way junk on the web is damaged, so the
//! classifier learns the damage and not only "reference set vs. pool".
//!
//! Three kinds, each a deterministic function of the text and a seed (SplitMix64):
//!
//! - [`HardNegativeKind::KeywordRepetition`]: two to four words of the text (of at least four
//!   letters) become keywords; a keyword phrase follows every line, and a closing line repeats
//!   keyword phrases 12 to 30 times, comma-separated (the "cheap hosting, backlinks, review"
//!   pattern of keyword stuffing).
//! - [`HardNegativeKind::DuplicatedLines`]: one to three lines of the text are repeated 3 to 6
//!   times each at random places, and half the time the whole text is appended again (repeated
//!   boilerplate, paginated copies).
//! - [`HardNegativeKind::ShuffledWords`]: a random share (30% to 100%) of the text's
//!   whitespace-separated words trade places ([`shuffle_words`]); line breaks stay where they were.

use crate::algo::diversity::{for_each_word, SplitMix64};

/// How a hard negative was made from its sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HardNegativeKind {
    /// Keywords of the text stuffed after each line and in a closing list.
    KeywordRepetition,
    /// Lines repeated, sometimes the whole text twice.
    DuplicatedLines,
    /// A share of the words shuffled among their positions.
    ShuffledWords,
}

impl HardNegativeKind {
    /// The three kinds, in the order [`hard_negatives`] cycles through them.
    pub const ALL: [HardNegativeKind; 3] = [
        HardNegativeKind::KeywordRepetition,
        HardNegativeKind::DuplicatedLines,
        HardNegativeKind::ShuffledWords,
    ];

    /// A short name (`keywords`, `duplicated-lines`, `shuffled`).
    pub fn name(self) -> &'static str {
        match self {
            HardNegativeKind::KeywordRepetition => "keywords",
            HardNegativeKind::DuplicatedLines => "duplicated-lines",
            HardNegativeKind::ShuffledWords => "shuffled",
        }
    }
}

/// A synthetic hard negative and the text it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardNegative {
    /// How it was made.
    pub kind: HardNegativeKind,
    /// Index of the text it was made from.
    pub source: usize,
    /// The damaged text.
    pub text: String,
}

/// `count` hard negatives made from `texts`: the i-th from text `i mod texts.len()` with kind
/// `i mod 3`, seeded by `seed` and `i`. Empty when `texts` is empty.
pub fn hard_negatives(texts: &[&str], count: usize, seed: u64) -> Vec<HardNegative> {
    if texts.is_empty() {
        return Vec::new();
    }
    (0..count)
        .map(|i| {
            let kind = HardNegativeKind::ALL[i % 3];
            let source = i % texts.len();
            let seed = seed ^ (i as u64).wrapping_mul(0x9E37_79B9);
            HardNegative {
                kind,
                source,
                text: hard_negative(texts[source], kind, seed),
            }
        })
        .collect()
}

/// One hard negative of `kind` made from `text`.
pub fn hard_negative(text: &str, kind: HardNegativeKind, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    match kind {
        HardNegativeKind::KeywordRepetition => stuff_keywords(text, &mut rng),
        HardNegativeKind::DuplicatedLines => duplicate_lines(text, &mut rng),
        HardNegativeKind::ShuffledWords => {
            let fraction = 0.3 + 0.7 * rng.next_f64();
            shuffle_words(text, fraction, rng.next_u64())
        }
    }
}

/// `text` with a share `fraction` (clamped to `[0, 1]`) of its whitespace-separated words
/// permuted among their own positions at random; the white space between words is kept as it
/// was. `fraction` 0 returns the text unchanged; 1 shuffles every word.
pub fn shuffle_words(text: &str, fraction: f64, seed: u64) -> String {
    let spans = word_spans(text);
    let k = (fraction.clamp(0.0, 1.0) * spans.len() as f64).round() as usize;
    if k < 2 {
        return text.to_owned();
    }
    let mut rng = SplitMix64::new(seed);
    // Choose k positions (partial Fisher-Yates), then permute their words among them.
    let mut positions: Vec<usize> = (0..spans.len()).collect();
    for i in 0..k {
        let j = i + rng.below(spans.len() - i);
        positions.swap(i, j);
    }
    let mut chosen = positions[..k].to_vec();
    chosen.sort_unstable();
    let mut words: Vec<usize> = chosen.clone();
    for i in (1..words.len()).rev() {
        words.swap(i, rng.below(i + 1));
    }
    let mut replacement: Vec<usize> = (0..spans.len()).collect();
    for (&at, &from) in chosen.iter().zip(&words) {
        replacement[at] = from;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, &(start, end)) in spans.iter().enumerate() {
        out.push_str(&text[last..start]);
        let (s, e) = spans[replacement[at]];
        out.push_str(&text[s..e]);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Byte spans of the whitespace-separated words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, ch) in text.char_indices() {
        match (ch.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

fn stuff_keywords(text: &str, rng: &mut SplitMix64) -> String {
    let mut candidates = Vec::new();
    for_each_word(text, |w| {
        if w.chars().count() >= 4 && w.chars().all(char::is_alphabetic) {
            candidates.push(w.to_owned());
        }
    });
    if candidates.is_empty() {
        candidates = vec!["free".into(), "download".into(), "best".into()];
    }
    let keywords: Vec<String> = (0..2 + rng.below(3))
        .map(|_| candidates[rng.below(candidates.len())].clone())
        .collect();
    let phrase = |rng: &mut SplitMix64| {
        let a = &keywords[rng.below(keywords.len())];
        let b = &keywords[rng.below(keywords.len())];
        if rng.below(2) == 0 {
            a.clone()
        } else {
            format!("{a} {b}")
        }
    };
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        out.push_str(line);
        if !line.trim().is_empty() {
            out.push_str(" - ");
            out.push_str(&phrase(rng));
        }
        out.push('\n');
    }
    let repeats = 12 + rng.below(19);
    let list: Vec<String> = (0..repeats).map(|_| phrase(rng)).collect();
    out.push_str(&list.join(", "));
    out
}

fn duplicate_lines(text: &str, rng: &mut SplitMix64) -> String {
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return text.to_owned();
    }
    let originals = lines.clone();
    for _ in 0..1 + rng.below(3) {
        let line = originals[rng.below(originals.len())];
        for _ in 0..3 + rng.below(4) {
            let at = rng.below(lines.len() + 1);
            lines.insert(at, line);
        }
    }
    let mut out = lines.join("\n");
    if rng.below(2) == 0 {
        out.push('\n');
        out.push_str(&originals.join("\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_words(text: &str) -> Vec<&str> {
        let mut w: Vec<&str> = text.split_whitespace().collect();
        w.sort_unstable();
        w
    }

    #[test]
    fn shuffling_keeps_words_and_layout() {
        let text = "one two three four five\nsix seven eight nine ten\n";
        assert_eq!(shuffle_words(text, 0.0, 1), text);
        for fraction in [0.3, 0.6, 1.0] {
            let s = shuffle_words(text, fraction, 7);
            assert_eq!(sorted_words(&s), sorted_words(text));
            assert_eq!(s.matches('\n').count(), 2);
            assert_eq!(s, shuffle_words(text, fraction, 7), "seeded");
        }
        let moved = |s: &str| {
            s.split_whitespace()
                .zip(text.split_whitespace())
                .filter(|(a, b)| a != b)
                .count()
        };
        assert!(moved(&shuffle_words(text, 1.0, 3)) > moved(&shuffle_words(text, 0.2, 3)));
        assert_eq!(shuffle_words("", 1.0, 1), "");
    }

    #[test]
    fn each_kind_damages_the_text_in_its_own_way() {
        let text = "The harbour town wakes early.\nFishermen mend their nets.\nGulls circle above.";
        let kw = hard_negative(text, HardNegativeKind::KeywordRepetition, 5);
        assert!(kw.len() > text.len() + 50);
        assert!(kw.matches(", ").count() >= 11, "{kw}");
        let dup = hard_negative(text, HardNegativeKind::DuplicatedLines, 5);
        assert!(dup.lines().count() >= 6, "{dup}");
        let shuffled = hard_negative(text, HardNegativeKind::ShuffledWords, 5);
        assert_eq!(sorted_words(&shuffled), sorted_words(text));
        let made = hard_negatives(&[text, "second text here"], 6, 9);
        assert_eq!(made.len(), 6);
        assert_eq!(made[4].kind, HardNegativeKind::DuplicatedLines);
        assert_eq!(made[4].source, 0);
        assert_eq!(made, hard_negatives(&[text, "second text here"], 6, 9));
        assert!(hard_negatives(&[], 3, 1).is_empty());
        assert_eq!(hard_negative("", HardNegativeKind::DuplicatedLines, 1), "");
    }
}
