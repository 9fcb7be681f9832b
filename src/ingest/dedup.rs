//! The dedup rules of an append, in one place: `append` applies them to every line, and
//! `--strict` runs them over a file first to refuse it whole if any line would be rejected.

use std::collections::HashSet;

/// What the rules make of one parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A new sample.
    New,
    /// Its text (by normalised hash) is already stored or came earlier: skipped, not an error.
    Duplicate,
    /// Rejected, with the reason.
    Reject(String),
}

/// The texts and ids an append has taken so far, to judge the next line against them and
/// against the store.
#[derive(Debug, Default)]
pub(crate) struct Dedup {
    hashes: HashSet<u128>,
    ids: HashSet<String>,
}

impl Dedup {
    /// Judges a line with text hash `hash` and id `id`. `text_stored`: the store holds a sample
    /// with this text; `id_owner`: the sample of the store that has this id. In order: a known
    /// text is a duplicate; an id the store gives another sample, or one taken earlier by
    /// another text, is rejected; otherwise the line is new and its text and id are taken.
    pub(crate) fn judge(
        &mut self,
        id: &str,
        hash: u128,
        text_stored: bool,
        id_owner: Option<u64>,
    ) -> Verdict {
        if text_stored || self.hashes.contains(&hash) {
            return Verdict::Duplicate;
        }
        if let Some(seq) = id_owner {
            return Verdict::Reject(format!(
                "id {id:?} already belongs to another sample (seq {seq}) with a different text"
            ));
        }
        if !self.ids.insert(id.to_string()) {
            return Verdict::Reject(format!("id {id:?} is used twice with different texts"));
        }
        self.hashes.insert(hash);
        Verdict::New
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_texts_are_duplicates_and_ids_of_other_texts_are_rejected() {
        let mut d = Dedup::default();
        assert_eq!(d.judge("a", 1, false, None), Verdict::New);
        // The same text again, under any id: a duplicate.
        assert_eq!(d.judge("a", 1, false, None), Verdict::Duplicate);
        assert_eq!(d.judge("b", 1, false, None), Verdict::Duplicate);
        // A stored text: a duplicate, even when the store gives its id to another sample.
        assert_eq!(d.judge("c", 2, true, Some(7)), Verdict::Duplicate);
        // A new text under an id the store gives another sample, or one taken in this run.
        assert!(matches!(
            d.judge("c", 3, false, Some(7)),
            Verdict::Reject(r) if r.contains("already belongs to another sample (seq 7)")
        ));
        assert!(matches!(
            d.judge("a", 4, false, None),
            Verdict::Reject(r) if r.contains("used twice with different texts")
        ));
        // Rejected lines take nothing: their text is new when it comes again.
        assert_eq!(d.judge("d", 4, false, None), Verdict::New);
    }
}
