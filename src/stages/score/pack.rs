//! Packing samples into llama.cpp batches.
//!
//! With one KV stream per sequence, llama.cpp splits a batch into micro-batches that take the same
//! number of tokens from every sequence in them, so a batch of sequences of equal length runs as a
//! single micro-batch while every distinct length costs an extra one. Sorting by length before
//! packing keeps lengths within a batch equal or close. Order does not change any score.

/// Groups sequences into batches of at most `max_tokens` tokens and `max_seqs` sequences.
///
/// `lengths[i]` is the number of tokens sequence `i` puts into a batch; every length must be at
/// least 1 and at most `max_tokens`. Returns the indices of each batch, longest sequences first,
/// ties in input order.
pub(crate) fn pack(lengths: &[usize], max_tokens: usize, max_seqs: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by(|&a, &b| lengths[b].cmp(&lengths[a]).then(a.cmp(&b)));
    let mut batches = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut used = 0;
    for i in order {
        let len = lengths[i];
        debug_assert!(len >= 1 && len <= max_tokens);
        if !current.is_empty() && (used + len > max_tokens || current.len() == max_seqs) {
            batches.push(std::mem::take(&mut current));
            used = 0;
        }
        current.push(i);
        used += len;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::pack;

    #[test]
    fn every_sequence_lands_in_exactly_one_batch_within_limits() {
        let lengths: Vec<usize> = (0..200).map(|i| 1 + (i * 37) % 256).collect();
        for (max_tokens, max_seqs) in [(256, 1), (512, 4), (2048, 16), (2048, 64)] {
            let batches = pack(&lengths, max_tokens, max_seqs);
            let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
            for b in &batches {
                assert!(!b.is_empty() && b.len() <= max_seqs);
                assert!(b.iter().map(|&i| lengths[i]).sum::<usize>() <= max_tokens);
            }
        }
    }

    #[test]
    fn equal_lengths_share_batches_and_longest_come_first() {
        let lengths = [5, 257, 257, 3, 257, 257, 257];
        let batches = pack(&lengths, 1100, 16);
        assert_eq!(batches, vec![vec![1, 2, 4, 5], vec![6, 0, 3]]);
    }

    #[test]
    fn empty_input_gives_no_batches() {
        assert!(pack(&[], 512, 8).is_empty());
    }
}
