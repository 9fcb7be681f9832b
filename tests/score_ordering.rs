//! Ordering sanity on real text: fluent prose has lower perplexity than keyboard gibberish, spam
//! keyword lists and the same prose with its words shuffled.

mod common;

use std::io::Write;

use common::score::{shared, GPL_PREAMBLE, LIBFFI_README};
use samplemix::stages::score::QualityScorer;

const GIBBERISH: &str = "asdf jkl; qwer uiop zxcv bnm, fjfjfj dkdk sls;a ghgh tyty rueiwo \
    qpwoei alskdj zmxncb vbvbvb poiu lkjh mnbv asdfgh qwerty uiopas dfghjk lzxcvb nmqwer \
    tyuiop sdfg hjkl xcvb ertyu dfgh cvbn wert sdfgv bhnj kiuy trew qasw edrf tgyh ujik olp; \
    aaaasd sdsdsd fgfgfh jhjhjk lklkl; qqwwee rrttyy uuiioo ppaass ddffgg hhjjkk llzzxx";

const SPAM: &str = "cheap viagra, buy cialis online, best casino bonus, free spins, payday loans, \
    bad credit ok, lose weight fast, miracle diet pills, work from home, earn $5000 weekly, \
    crypto giveaway, double your bitcoin, replica watches, designer handbags cheap, hot singles, \
    click here now, limited time offer, act now, 100% free, no prescription needed, \
    cheap meds online, seo backlinks, buy followers, rolex replica, loan approval instant, \
    winner selected, claim your prize, casino no deposit, online pharmacy, weight loss tea";

/// The words of `text` in a fixed pseudo-random order (a seeded Fisher-Yates shuffle).
fn shuffle_words(text: &str) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..words.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap();
        words.swap(i, j);
    }
    words.join(" ")
}

#[test]
fn fluent_prose_beats_gibberish_spam_and_shuffled_words() {
    let shuffled_gpl = shuffle_words(GPL_PREAMBLE);
    let shuffled_ffi = shuffle_words(LIBFFI_README);
    let fluent = [
        ("GPL preamble", GPL_PREAMBLE),
        ("libffi README", LIBFFI_README),
    ];
    let bad = [
        ("keyboard gibberish", GIBBERISH),
        ("spam keywords", SPAM),
        ("GPL preamble, words shuffled", shuffled_gpl.as_str()),
        ("libffi README, words shuffled", shuffled_ffi.as_str()),
    ];
    let texts: Vec<&str> = fluent.iter().chain(&bad).map(|&(_, t)| t).collect();
    let results = shared().score_batch(&texts).unwrap();
    let ppl: Vec<f64> = results
        .iter()
        .map(|r| r.scored().expect("every text is long enough").perplexity())
        .collect();
    let mut report = String::from("score_ordering: perplexity\n");
    for ((name, _), p) in fluent.iter().chain(&bad).zip(&ppl) {
        report.push_str(&format!("  {name:<32} {p:>10.2}\n"));
    }
    let _ = std::io::stderr().write_all(report.as_bytes());
    let worst_fluent = ppl[..fluent.len()].iter().copied().fold(0.0, f64::max);
    let best_bad = ppl[fluent.len()..]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    assert!(worst_fluent < best_bad, "{report}");
}
