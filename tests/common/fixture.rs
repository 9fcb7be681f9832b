//! The committed multi-domain fixture `tests/fixtures/demo-mini.jsonl` (302 records of 8
//! sources, interleaved; see `tests/fixtures/README.md`) and its held-out companion.

/// Path of the pool fixture.
pub const DEMO_MINI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/demo-mini.jsonl"
);

/// Path of the held-out text that is not in the pool fixture.
pub const DEMO_MINI_HELDOUT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/demo-mini-heldout.jsonl"
);

/// Path of the reference text (positives for a quality classifier): in neither the pool fixture
/// nor the held-out one.
pub const DEMO_MINI_REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/demo-mini-reference.jsonl"
);

/// Lines `skip..skip + n` of the pool fixture, each ending in a newline.
pub fn fixture_lines(skip: usize, n: usize) -> String {
    let text = std::fs::read_to_string(DEMO_MINI).unwrap();
    text.lines()
        .skip(skip)
        .take(n)
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Lines `from..to` of the pool fixture, each ending in a newline.
pub fn fixture_range(from: usize, to: usize) -> String {
    fixture_lines(from, to - from)
}
