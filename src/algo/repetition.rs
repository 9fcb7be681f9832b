//! The `repetition` quality signal: model-free text statistics in the family of the Gopher
//! repetition and quality rules (Rae et al. 2021, table A1) and FineWeb's quality filter (as
//! datatrove implements them), and one score derived from them.
//!
//! [`features`] measures a text ([`FEATURE_NAMES`] lists them in stored order); [`score`] turns
//! the features into a soft pass score: each rule of [`RULES`] (a published threshold, or one of
//! ours where marked) passes with probability σ((x - t) / w) for a minimum t (σ((t - x) / w)
//! for a maximum), and the score is the geometric mean of the rules' pass probabilities. It is
//! in (0, 1], higher is better, ordered exactly as the product of the probabilities (the chance
//! that a text passes every rule under logistic noise), and continuous, so that clean texts do
//! not all tie at 1 as they would under hard thresholds.
//!
//! Words are the whitespace-separated tokens with non-alphanumeric characters trimmed from both
//! ends, compared in lower case; tokens with nothing left are not words. Lines are trimmed and
//! empty lines dropped; paragraphs are runs of non-empty lines. Characters are Unicode scalar
//! values.

/// Version of the features and the score: part of the signal's fingerprint.
pub const REPETITION_VERSION: u32 = 1;

/// The features, in the order [`features`] returns and the store keeps them.
pub const FEATURE_NAMES: [&str; 24] = [
    "dup_line_frac",
    "dup_line_char_frac",
    "dup_para_frac",
    "dup_para_char_frac",
    "top_2gram_char_frac",
    "top_3gram_char_frac",
    "top_4gram_char_frac",
    "dup_5gram_char_frac",
    "dup_6gram_char_frac",
    "dup_7gram_char_frac",
    "dup_8gram_char_frac",
    "dup_9gram_char_frac",
    "dup_10gram_char_frac",
    "unique_word_ratio",
    "line_punct_frac",
    "short_line_frac",
    "mean_word_len",
    "symbol_word_ratio",
    "alpha_word_frac",
    "alpha_char_ratio",
    "sentence_case_frac",
    "stop_word_frac",
    "nav_line_frac",
    "words",
];

/// Index of a feature in [`FEATURE_NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
#[allow(missing_docs)]
pub enum Feature {
    DupLineFrac,
    DupLineCharFrac,
    DupParaFrac,
    DupParaCharFrac,
    Top2,
    Top3,
    Top4,
    Dup5,
    Dup6,
    Dup7,
    Dup8,
    Dup9,
    Dup10,
    UniqueWordRatio,
    LinePunctFrac,
    ShortLineFrac,
    MeanWordLen,
    SymbolWordRatio,
    AlphaWordFrac,
    AlphaCharRatio,
    SentenceCaseFrac,
    StopWordFrac,
    NavLineFrac,
    Words,
}

/// One rule of the score: feature, threshold, whether the threshold is a minimum, width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rule {
    /// The feature it reads.
    pub feature: Feature,
    /// Its threshold.
    pub threshold: f64,
    /// True: the feature must be at least the threshold; false: at most.
    pub minimum: bool,
    /// How soft the threshold is: one width past it, the pass probability is σ(-1) = 0.27.
    pub width: f64,
}

const fn max(feature: Feature, threshold: f64, width: f64) -> Rule {
    Rule {
        feature,
        threshold,
        minimum: false,
        width,
    }
}

const fn min(feature: Feature, threshold: f64, width: f64) -> Rule {
    Rule {
        feature,
        threshold,
        minimum: true,
        width,
    }
}

/// The rules of the score. Gopher repetition (table A1): duplicate lines <= 0.30 and
/// paragraphs <= 0.30 by count, <= 0.20 and <= 0.20 by characters; the most frequent 2-, 3-,
/// 4-gram <= 0.20, 0.18, 0.16 of the characters; duplicated 5- to 10-grams <= 0.15 to 0.10.
/// Gopher quality: mean word length 3 to 10; symbols (`#`, `...`, `…`) per word <= 0.1; at
/// least 80% of words with an alphabetic character; stop words (the Gopher eight) present,
/// here as a share of words >= 0.02. FineWeb: lines ending in terminal punctuation, here >=
/// 0.05 (FineWeb drops a document under 0.12; hard-wrapped prose and code sit near 0.1, texts
/// whose words were shuffled at 0). Ours: unique word ratio >= 0.2 (keyword spam); sentence
/// case, the share of words ending a sentence (`.`, `!`, `?`) that the next word on the same
/// line follows with a capital or a non-letter, >= 0.5 (shuffled text; the same line only, so
/// that a comment's full stop before a line of code is no sentence end); navigation lines,
/// lines with two or more standalone separators (`|`, `>`, `»`, `›`, `·`, `•`, `--`, `–`, `—`,
/// `/`, `::`), <= 0.05 (menus and breadcrumbs). The thresholds of our rules and the widths were
/// set on the demo corpus (docs/method.md, "The repetition signal"). Short lines and the alphabetic character ratio are stored but not scored.
pub const RULES: [Rule; 22] = [
    max(Feature::DupLineFrac, 0.30, 0.05),
    max(Feature::DupParaFrac, 0.30, 0.05),
    max(Feature::DupLineCharFrac, 0.20, 0.05),
    max(Feature::DupParaCharFrac, 0.20, 0.05),
    max(Feature::Top2, 0.20, 0.04),
    max(Feature::Top3, 0.18, 0.04),
    max(Feature::Top4, 0.16, 0.04),
    max(Feature::Dup5, 0.15, 0.04),
    max(Feature::Dup6, 0.14, 0.04),
    max(Feature::Dup7, 0.13, 0.04),
    max(Feature::Dup8, 0.12, 0.04),
    max(Feature::Dup9, 0.11, 0.04),
    max(Feature::Dup10, 0.10, 0.04),
    min(Feature::MeanWordLen, 3.0, 0.5),
    max(Feature::MeanWordLen, 10.0, 1.0),
    max(Feature::SymbolWordRatio, 0.1, 0.03),
    min(Feature::AlphaWordFrac, 0.8, 0.05),
    min(Feature::UniqueWordRatio, 0.2, 0.05),
    min(Feature::SentenceCaseFrac, 0.5, 0.1),
    min(Feature::LinePunctFrac, 0.05, 0.02),
    min(Feature::StopWordFrac, 0.02, 0.01),
    max(Feature::NavLineFrac, 0.05, 0.02),
];

/// The score of a text's features: the geometric mean of the rules' pass probabilities, in
/// (0, 1], higher is better. `features` must be what [`features`] returned.
pub fn score(features: &[f32]) -> f32 {
    let mut log_p = 0.0f64;
    for r in &RULES {
        let x = f64::from(features.get(r.feature as usize).copied().unwrap_or(0.0));
        let z = if r.minimum {
            (x - r.threshold) / r.width
        } else {
            (r.threshold - x) / r.width
        };
        // ln σ(z) = -ln(1 + e^-z), computed without overflow.
        log_p -= if z > 0.0 {
            (-z).exp().ln_1p()
        } else {
            -z + z.exp().ln_1p()
        };
    }
    (log_p / RULES.len() as f64).exp() as f32
}

/// The features and score of `text`; `None` for a text of only whitespace.
pub fn measure(text: &str) -> Option<(f32, Vec<f32>)> {
    if text.trim().is_empty() {
        return None;
    }
    let f = features(text);
    Some((score(&f), f))
}

fn fnv_mix(h: u64) -> u64 {
    // The finaliser of SplitMix64, so that close FNV values spread over all bits.
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a word in lower case, and its length in characters.
fn word_hash(core: &str) -> (u64, u32) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut n = 0u32;
    if core.is_ascii() {
        for b in core.bytes() {
            h = (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x100_0000_01b3);
        }
        n = core.len() as u32;
    } else {
        for c in core.chars() {
            for l in c.to_lowercase() {
                h = (h ^ u64::from(u32::from(l))).wrapping_mul(0x100_0000_01b3);
            }
            n += 1;
        }
    }
    (fnv_mix(h), n)
}

fn combine(a: u64, b: u64) -> u64 {
    (a.rotate_left(17) ^ b).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

const TERMINAL: [char; 7] = ['.', '!', '?', '"', '\'', '\u{201d}', '\u{2019}'];
const SEPARATORS: [&str; 11] = [
    "|", ">", "\u{bb}", "\u{203a}", "\u{b7}", "\u{2022}", "--", "\u{2013}", "\u{2014}", "/", "::",
];
const STOP_WORDS: [&str; 8] = ["the", "be", "to", "of", "and", "that", "have", "with"];

/// Duplicates among items given as (hash, characters): the share of items equal to an earlier
/// one, and the share of characters in them.
fn duplicates(items: &mut [(u64, u32)]) -> (f32, f32) {
    if items.is_empty() {
        return (0.0, 0.0);
    }
    let total: u64 = items.iter().map(|x| u64::from(x.1)).sum();
    items.sort_unstable();
    let (mut dup, mut dup_chars) = (0u64, 0u64);
    for w in items.windows(2) {
        if w[0].0 == w[1].0 {
            dup += 1;
            dup_chars += u64::from(w[1].1);
        }
    }
    (
        dup as f32 / items.len() as f32,
        if total > 0 {
            dup_chars as f32 / total as f32
        } else {
            0.0
        },
    )
}

/// What one pass over the lines and their tokens counts.
#[derive(Default)]
struct Scan {
    /// Non-empty lines and paragraphs as (hash, characters).
    lines: Vec<(u64, u32)>,
    paras: Vec<(u64, u32)>,
    /// Lines ending in terminal punctuation, short lines, navigation lines.
    punct: u32,
    short: u32,
    nav: u32,
    /// Words: lower-case hashes and characters.
    hashes: Vec<u64>,
    chars: Vec<u32>,
    alpha_words: u32,
    stop: u32,
    sentence_ends: u32,
    sentence_case: u32,
    /// Alphabetic and non-whitespace characters of the text.
    alpha_chars: u64,
    non_space: u64,
}

/// The tokens of one line: words, separators, sentence ends, characters.
fn scan_tokens(line: &str, stop: &[u64; 8], out: &mut Scan) {
    let mut prev_ends = false;
    let mut seps = 0;
    for tok in line.split_whitespace() {
        if prev_ends {
            out.sentence_ends += 1;
            let first = tok.chars().next().unwrap_or(' ');
            if !first.is_alphabetic() || first.is_uppercase() {
                out.sentence_case += 1;
            }
        }
        prev_ends = tok.ends_with(['.', '!', '?']);
        if SEPARATORS.contains(&tok) {
            seps += 1;
        }
        let mut alpha = 0u32;
        for c in tok.chars() {
            out.non_space += 1;
            if c.is_alphabetic() {
                alpha += 1;
            }
        }
        out.alpha_chars += u64::from(alpha);
        let core = tok.trim_matches(|c: char| !c.is_alphanumeric());
        if core.is_empty() {
            continue;
        }
        let (h, n) = word_hash(core);
        if alpha > 0 {
            // Trimming drops no letter: a token with one has a core with one.
            out.alpha_words += 1;
        }
        if stop.contains(&h) {
            out.stop += 1;
        }
        out.hashes.push(h);
        out.chars.push(n);
    }
    if seps >= 2 {
        out.nav += 1;
    }
}

/// One pass over the text's lines and tokens.
fn scan(text: &str) -> Scan {
    let stop = STOP_WORDS.map(|w| word_hash(w).0);
    let mut out = Scan::default();
    let mut para: Option<(u64, u32)> = None;
    for raw in text.split('\n') {
        let line = raw.trim();
        if line.is_empty() {
            out.paras.extend(para.take());
            continue;
        }
        let h = xxhash_rust::xxh3::xxh3_64(line.as_bytes());
        let chars = line.chars().count() as u32;
        out.lines.push((h, chars));
        para = Some(match para {
            None => (h, chars),
            Some((ph, pc)) => (combine(ph, h), pc + chars),
        });
        if line.ends_with(TERMINAL) {
            out.punct += 1;
        }
        if chars <= 30 {
            out.short += 1;
        }
        scan_tokens(line, &stop, &mut out);
    }
    out.paras.extend(para);
    out
}

/// The n-gram features: the character share of the most frequent repeated 2-, 3- and 4-gram,
/// and the character share of words covered by repeated 5- to 10-grams (every occurrence after
/// the first).
fn ngrams(words: &Scan, out: &mut [f32]) {
    let n_words = words.hashes.len();
    let mut prefix = Vec::with_capacity(n_words + 1);
    prefix.push(0u64);
    for &c in &words.chars {
        prefix.push(prefix[prefix.len() - 1] + u64::from(c));
    }
    let total = prefix[n_words];
    if total == 0 {
        return;
    }
    let mut h = words.hashes.clone();
    let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(n_words);
    let mut marked = vec![false; n_words];
    for n in 2..=10usize {
        if n > n_words {
            break;
        }
        let m = n_words - n + 1;
        for (x, &w) in h.iter_mut().zip(&words.hashes[n - 1..]) {
            *x = combine(*x, w);
        }
        h.truncate(m);
        pairs.clear();
        pairs.extend(h.iter().enumerate().map(|(i, &x)| (x, i as u32)));
        pairs.sort_unstable();
        if n <= 4 {
            let mut best = 0u64;
            let mut i = 0;
            while i < m {
                let j = i + pairs[i..].partition_point(|p| p.0 == pairs[i].0);
                if j - i >= 2 {
                    let s = pairs[i].1 as usize;
                    best = best.max((j - i) as u64 * (prefix[s + n] - prefix[s]));
                }
                i = j;
            }
            out[Feature::Top2 as usize + n - 2] = (best as f64 / total as f64) as f32;
        } else {
            marked.iter_mut().for_each(|x| *x = false);
            for w in pairs.windows(2) {
                if w[0].0 == w[1].0 {
                    let s = w[1].1 as usize;
                    marked[s..s + n].iter_mut().for_each(|x| *x = true);
                }
            }
            let covered: u64 = marked
                .iter()
                .zip(&words.chars)
                .filter(|(m, _)| **m)
                .map(|(_, &c)| u64::from(c))
                .sum();
            out[Feature::Dup5 as usize + n - 5] = (covered as f64 / total as f64) as f32;
        }
    }
}

/// The features of `text`, in the order of [`FEATURE_NAMES`].
pub fn features(text: &str) -> Vec<f32> {
    let mut f = vec![0f32; FEATURE_NAMES.len()];
    let mut w = scan(text);
    let n_lines = w.lines.len() as f32;
    (f[0], f[1]) = duplicates(&mut w.lines);
    (f[2], f[3]) = duplicates(&mut w.paras);
    if n_lines > 0.0 {
        f[Feature::LinePunctFrac as usize] = w.punct as f32 / n_lines;
        f[Feature::ShortLineFrac as usize] = w.short as f32 / n_lines;
        f[Feature::NavLineFrac as usize] = w.nav as f32 / n_lines;
    }
    let n_words = w.hashes.len();
    ngrams(&w, &mut f);
    if w.non_space > 0 {
        f[Feature::AlphaCharRatio as usize] = (w.alpha_chars as f64 / w.non_space as f64) as f32;
    }
    f[Feature::SentenceCaseFrac as usize] = if w.sentence_ends > 0 {
        w.sentence_case as f32 / w.sentence_ends as f32
    } else {
        1.0
    };
    f[Feature::Words as usize] = n_words as f32;
    if n_words > 0 {
        let nw = n_words as f64;
        let mut sorted = std::mem::take(&mut w.hashes);
        sorted.sort_unstable();
        sorted.dedup();
        f[Feature::UniqueWordRatio as usize] = (sorted.len() as f64 / nw) as f32;
        let chars: u64 = w.chars.iter().map(|&c| u64::from(c)).sum();
        f[Feature::MeanWordLen as usize] = (chars as f64 / nw) as f32;
        let symbols = text.matches('#').count()
            + text.matches("...").count()
            + text.matches('\u{2026}').count();
        f[Feature::SymbolWordRatio as usize] = (symbols as f64 / nw) as f32;
        f[Feature::AlphaWordFrac as usize] = (f64::from(w.alpha_words) / nw) as f32;
        f[Feature::StopWordFrac as usize] = (f64::from(w.stop) / nw) as f32;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feat(text: &str, f: Feature) -> f32 {
        features(text)[f as usize]
    }

    #[test]
    fn duplicate_lines_and_paragraphs() {
        let t = "a b c\na b c\nd e f\n\na b c\nd e f";
        // Lines: a b c, a b c, d e f, a b c, d e f: 3 of 5 repeat an earlier one.
        assert!((feat(t, Feature::DupLineFrac) - 0.6).abs() < 1e-6);
        assert!((feat(t, Feature::DupLineCharFrac) - 0.6).abs() < 1e-6);
        // Paragraphs: "a b c/a b c/d e f" and "a b c/d e f": none repeats.
        assert_eq!(feat(t, Feature::DupParaFrac), 0.0);
        let t = "one two.\n\none two.\n\nthree.";
        assert!((feat(t, Feature::DupParaFrac) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn ngram_shares() {
        // "buy cheap" four times among 8 words of 3+5 chars: 4 * 8 / 32 = 1.
        let t = "buy cheap buy cheap buy cheap buy cheap";
        assert!((feat(t, Feature::Top2) - 1.0).abs() < 1e-6);
        // Repeated 5-grams cover every word after the first occurrence (words 2..8 of 8).
        let d5 = feat(t, Feature::Dup5);
        assert!((d5 - 0.75).abs() < 1e-6, "{d5}");
        // Unique words: no repeated n-gram at all.
        let t = "the quick brown fox jumps over a lazy dog";
        for f in [Feature::Top2, Feature::Top3, Feature::Top4, Feature::Dup5] {
            assert_eq!(feat(t, f), 0.0, "{f:?}");
        }
        // Case and surrounding punctuation do not make words differ.
        let t = "Buy CHEAP, buy cheap! (buy) cheap";
        assert!((feat(t, Feature::UniqueWordRatio) - 2.0 / 6.0).abs() < 1e-6);
    }

    #[test]
    fn word_and_line_statistics() {
        let t = "Hello world. This is fine!\nshort\nHome | Forum | Help";
        assert!((feat(t, Feature::LinePunctFrac) - 1.0 / 3.0).abs() < 1e-6);
        assert!((feat(t, Feature::ShortLineFrac) - 1.0).abs() < 1e-6);
        assert!((feat(t, Feature::NavLineFrac) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(feat(t, Feature::Words), 9.0);
        // "world." is followed by "This" (a capital); "fine!" ends its line: no sentence end.
        assert_eq!(feat(t, Feature::SentenceCaseFrac), 1.0);
        assert_eq!(feat("end. then more", Feature::SentenceCaseFrac), 0.0);
        assert!((feat("# a # b", Feature::SymbolWordRatio) - 1.0).abs() < 1e-6);
        assert!((feat("the cat and 42", Feature::StopWordFrac) - 0.5).abs() < 1e-6);
        assert!((feat("ab 12", Feature::AlphaWordFrac) - 0.5).abs() < 1e-6);
        assert!((feat("abc def", Feature::MeanWordLen) - 3.0).abs() < 1e-6);
    }

    #[test]
    fn spam_scores_below_prose_and_scores_are_in_range() {
        let prose = "The committee met on Tuesday to discuss the budget. Several members \
                     argued that the proposal was too expensive, and the chair agreed to \
                     revise it before the next meeting. A final vote is expected in May.";
        let spam = "cheap watches cheap watches buy now cheap watches best price cheap \
                    watches buy now cheap watches best price cheap watches buy now";
        let (p, _) = measure(prose).unwrap();
        let (s, _) = measure(spam).unwrap();
        eprintln!("prose {p}, spam {s}");
        assert!(p > 0.8 && p <= 1.0, "{p}");
        assert!(s < p - 0.2, "spam {s} prose {p}");
        assert!(s > 0.0);
        assert!(measure(" \n\t").is_none());
        // A text of symbols only still gets a (low) score.
        let (x, f) = measure("#### !!!! ----").unwrap();
        assert!(x < p / 2.0, "{x}");
        assert_eq!(f[Feature::Words as usize], 0.0);
    }

    #[test]
    fn feature_names_match_the_enum() {
        assert_eq!(FEATURE_NAMES[Feature::Words as usize], "words");
        assert_eq!(
            FEATURE_NAMES[Feature::Dup10 as usize],
            "dup_10gram_char_frac"
        );
        assert_eq!(
            FEATURE_NAMES[Feature::NavLineFrac as usize],
            "nav_line_frac"
        );
        assert_eq!(features("x").len(), FEATURE_NAMES.len());
    }
}
