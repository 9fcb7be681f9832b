//! A cheap check that a reference set is in the pool's language: the share of the reference's
//! most frequent words that are also among the pool's most frequent words.
//!
//! Frequent words are function words ("the", "of", "und", "de"), which differ between
//! languages and hardly between topics of one language, so the overlap is high for any two
//! English text sets (0.9 and more between the demo corpus's reference split and its pool) and
//! low across languages. The score weighs each of the reference's [`REFERENCE_TOP`] most
//! frequent words by its count.

use std::collections::HashMap;

use crate::algo::diversity::for_each_word;

/// Most frequent words of the reference set that are checked.
pub const REFERENCE_TOP: usize = 100;
/// Most frequent words of the pool they are looked up among.
pub const POOL_TOP: usize = 1000;
/// Below this overlap a reference set is reported as probably another language.
pub const LANGUAGE_OVERLAP_WARNING: f64 = 0.5;

fn counts(texts: &[&str]) -> HashMap<String, u64> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for t in texts {
        for_each_word(t, |w| {
            if let Some(c) = counts.get_mut(w) {
                *c += 1;
            } else {
                counts.insert(w.to_owned(), 1);
            }
        });
    }
    counts
}

/// The `k` most frequent words with their counts, ties broken by the word (deterministic).
fn top(counts: HashMap<String, u64>, k: usize) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(k);
    all
}

/// The count-weighted share of the reference's [`REFERENCE_TOP`] most frequent words found
/// among the pool's [`POOL_TOP`] most frequent; `None` when either side has no word.
pub fn vocabulary_overlap(reference: &[&str], pool: &[&str]) -> Option<f64> {
    let reference = top(counts(reference), REFERENCE_TOP);
    let pool: std::collections::HashSet<String> = top(counts(pool), POOL_TOP)
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    let total: u64 = reference.iter().map(|(_, c)| c).sum();
    if total == 0 || pool.is_empty() {
        return None;
    }
    let shared: u64 = reference
        .iter()
        .filter(|(w, _)| pool.contains(w))
        .map(|(_, c)| c)
        .sum();
    Some(shared as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_language_overlaps_and_another_does_not() {
        let english = [
            "The cat sat on the mat and looked at the door of the house.",
            "It is a truth universally acknowledged that a man in possession of a fortune",
        ];
        let pool = [
            "A dog ran to the door of the barn, and the farmer looked at it.",
            "The river is long and it flows through the valley to the sea.",
        ];
        let german = [
            "Die Katze sitzt auf der Matte und schaut zur Tür des Hauses.",
            "Es ist eine allgemein anerkannte Wahrheit, dass ein Mann im Besitz eines Vermögens",
        ];
        let same = vocabulary_overlap(&english, &pool).expect("words");
        let other = vocabulary_overlap(&german, &pool).expect("words");
        assert!(same > other, "{same} vs {other}");
        assert!(other < LANGUAGE_OVERLAP_WARNING, "{other}");
        assert_eq!(vocabulary_overlap(&[], &pool), None);
        assert_eq!(vocabulary_overlap(&english, &[" ,. "]), None);
    }
}
