//! Judges stored mixes side by side on held-out text: for each mix, the texts it draws (each
//! repeated by its count) train a byte-level n-gram model whose bits per byte on the held-out
//! text rank the mixes, and the mix is described by DSIR's hashed n-gram KL reduction, its
//! distinct n-gram ratio, its redundancy, a labelled share (for example synthetic junk), its
//! per-source and per-topic shares and its mean q and d. Reads the store; writes nothing.

use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::algo::metrics::byte_lm;
use crate::algo::metrics::distinct::{self, distinct_ngram_ratio};
use crate::algo::metrics::dsir::{kl_divergence, HashedNgramDist};
use crate::algo::metrics::near_dup::near_duplicates;
use crate::error::{Error, Result};
use crate::ingest;
use crate::pool::mixes::{self, LoadedPool, MixSpec};
use crate::store::{MixRecord, Store};

/// Samples read from the store per multi-get.
const READ_CHUNK: usize = 4096;

/// How mixes are judged.
#[derive(Clone, Debug)]
pub struct JudgeOptions {
    /// Order of the byte-level n-gram model.
    pub lm_order: usize,
    /// Word n-gram length of the distinct n-gram ratio.
    pub distinct_n: usize,
    /// A metadata key marking samples whose share of each mix is reported (for example
    /// `synthetic_noise` in the demo corpus, which labels its planted junk).
    pub label_key: Option<String>,
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            lm_order: byte_lm::DEFAULT_ORDER,
            distinct_n: distinct::DEFAULT_DISTINCT_N,
            label_key: None,
        }
    }
}

/// Held-out text read from a JSONL file (`text` field).
#[derive(Clone, Debug)]
pub struct Heldout {
    /// The file.
    pub path: String,
    /// Its texts.
    pub texts: Vec<String>,
    /// Lines left out, as `file:line: reason`.
    pub skipped: Vec<String>,
}

impl Heldout {
    /// Total bytes of the held-out texts.
    pub fn bytes(&self) -> u64 {
        self.texts.iter().map(|t| t.len() as u64).sum()
    }
}

/// Reads held-out texts from a JSONL file (plain, gzip or zstd). Bad lines are skipped and
/// listed; a file that cannot be read to the end, or has no usable line, is an error.
pub fn read_heldout(path: &Path) -> Result<Heldout> {
    let name = path.display().to_string();
    let read = ingest::read_texts(&[ingest::Input::File(path.to_path_buf())])?;
    let out = Heldout {
        path: name.clone(),
        texts: read.texts,
        skipped: read.skipped,
    };
    if out.texts.is_empty() {
        return Err(Error::Invalid(format!(
            "{name}: no held-out text in it ({} lines skipped)",
            out.skipped.len()
        )));
    }
    Ok(out)
}

/// One mix, judged.
#[derive(Clone, Debug, Serialize)]
pub struct Judgement {
    /// The mix name.
    pub mix: String,
    /// Its kernel and parameters, in words.
    pub kernel: String,
    /// Tokens drawn.
    pub tokens: u64,
    /// Distinct samples drawn.
    pub samples: u64,
    /// Bytes of text the n-gram model was trained on (with repetitions).
    pub train_bytes: u64,
    /// Bits per byte of the held-out text under a byte-level n-gram model trained on the mix.
    pub heldout_bits_per_byte: f64,
    /// KL(held-out || pool) - KL(held-out || mix) over DSIR's hashed word 1- and 2-gram
    /// features, in nats: how much closer to the held-out text the mix is than the pool.
    pub dsir_kl_reduction: f64,
    /// Distinct word n-grams over all word n-grams of the mix (with repetitions).
    pub distinct_ngram_ratio: f64,
    /// Of the distinct samples drawn, the fraction with a near-duplicate also drawn.
    pub near_dup_rate: f64,
    /// Of the drawn instances, the fraction that repeat an earlier one exactly or nearly.
    pub redundant_rate: f64,
    /// Token share of samples whose metadata has the label key, when one was given.
    pub labelled_share: Option<f64>,
    /// Token-weighted mean q of the drawn samples that have one.
    pub mean_q: Option<f64>,
    /// Token-weighted mean d of the drawn samples that have one.
    pub mean_d: Option<f64>,
    /// Entropy of the mix's per-topic token shares over ln(topics): 1 is perfectly even.
    pub topic_evenness: Option<f64>,
    /// Topics whose token share in the mix is under half their share of the pool.
    pub topics_under_half: Option<u64>,
    /// Token share per source, in the order of [`Evaluation::sources`].
    pub source_shares: Vec<f64>,
    /// Token share per topic, by topic id.
    pub topic_shares: Vec<f64>,
}

/// Every mix judged against the same pool and held-out text.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    /// The held-out file.
    pub heldout: String,
    /// Number of held-out texts.
    pub heldout_texts: u64,
    /// Bytes of held-out text.
    pub heldout_bytes: u64,
    /// Held-out lines left out.
    pub heldout_skipped: Vec<String>,
    /// KL(held-out || pool) over the DSIR features, in nats (the reduction's starting point),
    /// with the pool weighted to the mixes' mean size so that smoothing treats both alike.
    pub pool_kl: f64,
    /// Order of the byte-level n-gram model.
    pub lm_order: usize,
    /// Word n-gram length of the distinct ratio.
    pub distinct_n: usize,
    /// The label key, when one was given.
    pub label_key: Option<String>,
    /// Source names (the columns of the shares).
    pub sources: Vec<String>,
    /// Natural token share per source.
    pub pool_source_shares: Vec<f64>,
    /// One per mix, in the order asked.
    pub mixes: Vec<Judgement>,
}

/// What every judgement shares: the pool's compact rows (in sequence order), its DSIR features
/// and labels.
struct PoolFacts {
    pool: LoadedPool,
    dsir: HashedNgramDist,
    labelled: HashSet<u64>,
    topic_tokens: Vec<u64>,
}

fn pool_facts(store: &Store, label_key: Option<&str>, weight: f64) -> Result<PoolFacts> {
    let pool = mixes::load(store)?;
    let mut dsir = HashedNgramDist::new();
    let mut labelled = HashSet::new();
    let seqs: Vec<u64> = pool.samples.iter().map(|s| s.key).collect();
    for chunk in seqs.chunks(READ_CHUNK) {
        let docs = store.docs(chunk)?;
        dsir.merge(&HashedNgramDist::from_texts(
            docs.par_iter().flatten().map(|d| (d.text.as_str(), weight)),
        ));
        if let Some(key) = label_key {
            for (seq, doc) in chunk.iter().zip(&docs) {
                if doc
                    .as_ref()
                    .is_some_and(|d| has_key(d.metadata.as_deref(), key))
                {
                    labelled.insert(*seq);
                }
            }
        }
    }
    // A topic id is below the number of topics, which is at most the number of samples: a
    // larger one is damage, refused before it sizes a vector.
    let mut topics = 0;
    for s in &pool.samples {
        if let Some(t) = s.topic {
            if t as usize >= pool.samples.len() {
                return Err(Error::corrupt(
                    store.path(),
                    "samples",
                    s.key,
                    format!(
                        "topic {t}, but the pool has only {} samples",
                        pool.samples.len()
                    ),
                ));
            }
            topics = topics.max(t as usize + 1);
        }
    }
    let mut topic_tokens = vec![0u64; topics];
    for s in &pool.samples {
        if let Some(t) = s.topic {
            topic_tokens[t as usize] += u64::from(s.tokens);
        }
    }
    Ok(PoolFacts {
        pool,
        dsir,
        labelled,
        topic_tokens,
    })
}

fn has_key(metadata: Option<&str>, key: &str) -> bool {
    metadata
        .and_then(|m| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(m).ok())
        .is_some_and(|m| m.get(key).is_some_and(|v| !v.is_null()))
}

fn shares(tokens: &[u64]) -> Vec<f64> {
    let total: u64 = tokens.iter().sum();
    tokens
        .iter()
        .map(|&t| {
            if total == 0 {
                0.0
            } else {
                t as f64 / total as f64
            }
        })
        .collect()
}

/// Judges the mixes `names` of `store` on `heldout`.
pub fn evaluate(
    store: &Store,
    names: &[String],
    heldout: &Heldout,
    opts: &JudgeOptions,
) -> Result<Evaluation> {
    let mut records = Vec::with_capacity(names.len());
    for name in names {
        let Some(record) = store.mix(name)? else {
            let known = store.mix_names()?;
            return Err(Error::Invalid(format!(
                "no mix called {name} in the store (stored: {}); draw it with `samplemix mix {name} --tokens N`",
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            )));
        };
        if record.counts.is_empty() {
            return Err(Error::Invalid(format!(
                "mix {name} is empty: its budget of {} tokens drew no sample (an older samplemix \
                 saved it); draw it again with a larger budget: `samplemix mix {name} --tokens N`",
                record.tokens_requested
            )));
        }
        records.push(record);
    }
    // The pool's features are weighted down to the mixes' mean size, so that add-one smoothing
    // weighs the same against the pool as against each mix (see `dsir`).
    let pool_tokens: u64 = store.counters()?.tokens;
    let mean_drawn =
        records.iter().map(|r| r.tokens_drawn as f64).sum::<f64>() / records.len().max(1) as f64;
    let pool_weight = if pool_tokens == 0 {
        1.0
    } else {
        (mean_drawn / pool_tokens as f64).min(1.0)
    };
    let facts = pool_facts(store, opts.label_key.as_deref(), pool_weight)?;
    let target = HashedNgramDist::from_texts(heldout.texts.par_iter().map(|t| (t.as_str(), 1.0)));
    let pool_kl = kl_divergence(&target, &facts.dsir);
    let heldout_bytes: Vec<&[u8]> = heldout.texts.iter().map(|t| t.as_bytes()).collect();
    let mut source_tokens = vec![0u64; facts.pool.sources.len()];
    for s in &facts.pool.samples {
        source_tokens[s.source as usize] += u64::from(s.tokens);
    }
    let mut mixes = Vec::with_capacity(records.len());
    for (name, record) in names.iter().zip(&records) {
        mixes.push(judge_one(
            store,
            name,
            record,
            &facts,
            &target,
            pool_kl,
            &heldout_bytes,
            opts,
        )?);
    }
    Ok(Evaluation {
        heldout: heldout.path.clone(),
        heldout_texts: heldout.texts.len() as u64,
        heldout_bytes: heldout.bytes(),
        heldout_skipped: heldout.skipped.clone(),
        pool_kl,
        lm_order: opts.lm_order,
        distinct_n: opts.distinct_n,
        label_key: opts.label_key.clone(),
        sources: facts.pool.sources.clone(),
        pool_source_shares: shares(&source_tokens),
        mixes,
    })
}

/// The kernel and its parameters in a few words, from the saved parameters.
pub fn describe(record: &MixRecord) -> String {
    MixSpec::of(record).map_or_else(|e| e.to_string(), |s| s.describe())
}

/// The texts of the mix `name` with their counts, in the record's order.
fn mix_texts(store: &Store, name: &str, record: &MixRecord) -> Result<Vec<(String, u32)>> {
    let mut texts: Vec<(String, u32)> = Vec::with_capacity(record.counts.len());
    for chunk in record.counts.chunks(READ_CHUNK) {
        let seqs: Vec<u64> = chunk.iter().map(|c| c.0).collect();
        for ((seq, count), doc) in chunk.iter().zip(store.docs(&seqs)?) {
            let doc = doc.ok_or_else(|| {
                Error::corrupt(
                    store.path(),
                    "mixes",
                    name,
                    format!("draws sample {seq}, which the store does not hold"),
                )
            })?;
            texts.push((doc.text, u32::from(*count)));
        }
    }
    Ok(texts)
}

#[allow(clippy::too_many_arguments)]
fn judge_one(
    store: &Store,
    name: &str,
    record: &MixRecord,
    facts: &PoolFacts,
    target: &HashedNgramDist,
    pool_kl: f64,
    heldout: &[&[u8]],
    opts: &JudgeOptions,
) -> Result<Judgement> {
    let texts = mix_texts(store, name, record)?;
    let lm = byte_lm::train(opts.lm_order, texts.iter().map(|(t, c)| (t.as_bytes(), *c)))?;
    let bpb = lm.bits_per_byte(heldout.par_iter().copied());
    let train_bytes = texts
        .iter()
        .map(|(t, c)| t.len() as u64 * u64::from(*c))
        .sum();
    let mix_dsir =
        HashedNgramDist::from_texts(texts.par_iter().map(|(t, c)| (t.as_str(), f64::from(*c))));
    let reduction = pool_kl - kl_divergence(target, &mix_dsir);
    let distinct =
        distinct_ngram_ratio(texts.iter().map(|(t, c)| (t.as_str(), *c)), opts.distinct_n);
    let pairs: Vec<(&str, u32)> = texts.iter().map(|(t, c)| (t.as_str(), *c)).collect();
    let dups = near_duplicates(&pairs);

    // Shares and means from the compact rows.
    let sources = facts.pool.sources.len();
    let mut source_tokens = vec![0u64; sources];
    let mut topic_tokens = vec![0u64; facts.topic_tokens.len()];
    let (mut labelled, mut total) = (0u64, 0u64);
    let (mut q_sum, mut q_tok, mut d_sum, mut d_tok) = (0.0, 0u64, 0.0, 0u64);
    for &(seq, count) in &record.counts {
        let samples = &facts.pool.samples;
        let s = samples
            .binary_search_by_key(&seq, |s| s.key)
            .map(|i| &samples[i])
            .map_err(|_| {
                Error::corrupt(
                    store.path(),
                    "mixes",
                    name,
                    format!("draws sample {seq}, which the pool lacks"),
                )
            })?;
        let t = u64::from(s.tokens) * u64::from(count);
        total += t;
        source_tokens[s.source as usize] += t;
        if let Some(topic) = s.topic {
            topic_tokens[topic as usize] += t;
        }
        if facts.labelled.contains(&seq) {
            labelled += t;
        }
        if let Some(q) = s.q {
            q_sum += f64::from(q) * t as f64;
            q_tok += t;
        }
        if let Some(d) = s.d {
            d_sum += f64::from(d) * t as f64;
            d_tok += t;
        }
    }
    let topic_shares = shares(&topic_tokens);
    let pool_topic_shares = shares(&facts.topic_tokens);
    let k = topic_shares.len();
    let (topic_evenness, topics_under_half) = if k > 1 && topic_tokens.iter().any(|&t| t > 0) {
        let h: f64 = topic_shares
            .iter()
            .filter(|&&p| p > 0.0)
            .map(|&p| -p * p.ln())
            .sum();
        let under = topic_shares
            .iter()
            .zip(&pool_topic_shares)
            .filter(|(m, p)| **p > 0.0 && **m < 0.5 * **p)
            .count() as u64;
        (Some(h / (k as f64).ln()), Some(under))
    } else {
        (None, None)
    };
    let mean = |sum: f64, tok: u64| (tok > 0).then(|| sum / tok as f64);
    Ok(Judgement {
        mix: name.to_string(),
        kernel: describe(record),
        tokens: record.tokens_drawn,
        samples: record.counts.len() as u64,
        train_bytes,
        heldout_bits_per_byte: bpb,
        dsir_kl_reduction: reduction,
        distinct_ngram_ratio: distinct.ratio,
        near_dup_rate: dups.near_dup_rate,
        redundant_rate: dups.redundant_rate,
        labelled_share: opts.label_key.as_ref().map(|_| {
            if total == 0 {
                0.0
            } else {
                labelled as f64 / total as f64
            }
        }),
        mean_q: mean(q_sum, q_tok),
        mean_d: mean(d_sum, d_tok),
        topic_evenness,
        topics_under_half,
        source_shares: shares(&source_tokens),
        topic_shares,
    })
}
