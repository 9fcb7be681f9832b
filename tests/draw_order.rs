//! Append-order independence of a single store's mixes (store format 4): the committed fixture
//! appended into two stores in different orders (files reversed, the records of each file
//! permuted, one append command against three), then the same stages (the cheap `repetition`
//! signal, topics, mixes of several kernels and bounds), gives every sample the same count
//! (a digest over the sorted (text key, count) pairs) and every source the same tokens. A mix
//! keyed by sequence number (the uniform of mixes saved before format 4) does not: the check
//! can fail.

mod common;

use std::collections::BTreeMap;

use common::*;
use samplemix::algo::mix::UniformKey;
use samplemix::pool::mixes::{self, MixSpec};
use samplemix::store::Store;
use xxhash_rust::xxh3::xxh3_64;

/// The fixture's lines in three files, as `order` arranges them: each file's records permuted
/// by `permute` (a stride through the file), the files in the order given.
fn write_parts(env: &Env, files: [usize; 3], stride: usize) -> Vec<String> {
    let lines: Vec<String> = fixture_lines(0, 302).lines().map(String::from).collect();
    let parts: Vec<&[String]> = vec![&lines[..100], &lines[100..200], &lines[200..]];
    files
        .iter()
        .map(|&f| {
            let part = parts[f];
            let n = part.len();
            // stride is coprime with 100 and 102, so this visits every record once.
            let text: String = (0..n)
                .map(|i| format!("{}\n", part[(i * stride) % n]))
                .collect();
            s(&env.write(&format!("part{f}.jsonl"), text.as_bytes())).to_string()
        })
        .collect()
}

/// The mixes drawn in each store: name and flags.
const MIXES: [(&str, &[&str]); 4] = [
    (
        "beta",
        &["--kernel", "bivariate-beta", "--quality", "repetition"],
    ),
    (
        "linear-bounded",
        &[
            "--kernel",
            "linear",
            "--quality",
            "repetition",
            "--source-bounds",
            "0.5,2",
        ],
    ),
    (
        "topics",
        &[
            "--kernel",
            "natural",
            "--topic-bounds",
            "0.7,1.5",
            "--max-repeat",
            "2",
        ],
    ),
    (
        "threshold-by-source",
        &[
            "--kernel",
            "quality-threshold",
            "--quality",
            "repetition",
            "--rank-within",
            "source",
        ],
    ),
];

fn build(env: &Env, appends: &[Vec<String>]) {
    for files in appends {
        let mut args = vec!["append"];
        args.extend(files.iter().map(|f| f.as_str()));
        env.run(&args).ok();
    }
    env.run(&["quality", "compute", "repetition"]).ok();
    env.run(&["topics", "--topics", "6"]).ok();
    for (name, flags) in MIXES {
        let mut args = vec!["mix", name, "--tokens", "30000", "--seed", "11"];
        args.extend_from_slice(flags);
        env.run(&args).ok();
    }
}

/// What must not depend on the append order: the digest over the sorted (text key, count)
/// pairs, the number of samples drawn, and per source (by name) its pool and mix tokens.
#[derive(Debug, PartialEq)]
struct Outcome {
    digest: u64,
    drawn: usize,
    tokens: u64,
    sources: BTreeMap<String, (u64, u64)>,
}

fn keyed(store: &Store, counts: &[(u64, u16)]) -> Vec<(u128, u16)> {
    let key_of: BTreeMap<u64, u128> = store
        .text_keys()
        .unwrap()
        .into_iter()
        .map(|(k, s)| (s, k))
        .collect();
    let mut out: Vec<(u128, u16)> = counts.iter().map(|&(s, c)| (key_of[&s], c)).collect();
    out.sort_unstable();
    out
}

fn digest(pairs: &[(u128, u16)]) -> u64 {
    let bytes: Vec<u8> = pairs
        .iter()
        .flat_map(|(k, c)| k.to_le_bytes().into_iter().chain(c.to_le_bytes()))
        .collect();
    xxh3_64(&bytes)
}

fn outcome(env: &Env, name: &str) -> Outcome {
    let store = Store::open_reader(&env.store).unwrap();
    let record = store.mix(name).unwrap().unwrap();
    let spec = MixSpec::of(&record).unwrap();
    assert_eq!(spec.uniform, UniformKey::TextKey, "{name}: a new mix");
    Outcome {
        digest: digest(&keyed(&store, &record.counts)),
        drawn: record.counts.len(),
        tokens: record.tokens_drawn,
        sources: record
            .sources
            .iter()
            .map(|s| (s.name.clone(), (s.natural_tokens, s.mixed_tokens)))
            .collect(),
    }
}

/// The counts of `name`'s spec re-drawn with the sequence-number uniform, by text key.
fn seq_keyed_draw(env: &Env, name: &str) -> Vec<(u128, u16)> {
    let store = Store::open_reader(&env.store).unwrap();
    let record = store.mix(name).unwrap().unwrap();
    let spec = MixSpec {
        uniform: UniformKey::Seq,
        ..MixSpec::of(&record).unwrap()
    };
    let pool = mixes::load_with(&store, spec.quality_choice()).unwrap();
    let drawn = samplemix::stages::mix::draw(&pool, &spec).unwrap();
    keyed(&store, &drawn.counts)
}

#[test]
fn the_same_samples_give_the_same_mix_whatever_the_append_order() {
    let a = Env::new();
    let b = Env::new();
    let forward = write_parts(&a, [0, 1, 2], 1);
    // Files reversed, records of each file permuted, each file its own append.
    let permuted = write_parts(&b, [2, 1, 0], 7);
    build(&a, &[forward]);
    build(
        &b,
        &permuted.into_iter().map(|f| vec![f]).collect::<Vec<_>>(),
    );

    // The stores really differ in order: some sample has another sequence number.
    let (sa, sb) = (
        Store::open_reader(&a.store).unwrap(),
        Store::open_reader(&b.store).unwrap(),
    );
    let (ka, kb) = (sa.text_keys().unwrap(), sb.text_keys().unwrap());
    assert_eq!(ka.len(), kb.len());
    assert_eq!(ka.len(), 298, "302 records, 4 exact copies");
    let moved = ka.iter().zip(&kb).filter(|(x, y)| x.1 != y.1).count();
    assert!(moved > 250, "only {moved} samples moved");
    drop((sa, sb));

    for (name, _) in MIXES {
        let (oa, ob) = (outcome(&a, name), outcome(&b, name));
        assert!(oa.drawn > 20, "{name}: {oa:?}");
        assert_eq!(oa, ob, "{name}");
    }
    // The sequence-number uniform, as mixes before store format 4 drew, depends on the order.
    let (la, lb) = (seq_keyed_draw(&a, "beta"), seq_keyed_draw(&b, "beta"));
    assert_ne!(digest(&la), digest(&lb), "seq-keyed draws should differ");
}
