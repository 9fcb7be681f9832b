//! Judges stored mixes side by side on held-out text: for each mix, the texts it draws (each
//! repeated by its count) train a byte-level n-gram model whose bits per byte on the held-out
//! text rank the mixes, and the mix is described by DSIR's hashed n-gram KL reduction, its
//! distinct n-gram ratio, its redundancy, a labelled share (for example synthetic junk), its
//! per-source and per-topic shares and its mean q and d. With a trained judge
//! ([`TransformerOptions`]), a small byte-level transformer is also trained on each mix, once per
//! seed, and measured on the held-out text (bits per byte, overall and per source and label) and
//! on a multiple-choice task built from it. Reads the store; writes nothing.

use std::collections::HashSet;
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;

use crate::algo::judge::{self, choice, CurvePoint, Scored, TrainSettings};
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
    /// Also train the transformer judge on each mix.
    pub transformer: Option<TransformerOptions>,
}

impl Default for JudgeOptions {
    fn default() -> Self {
        JudgeOptions {
            lm_order: byte_lm::DEFAULT_ORDER,
            distinct_n: distinct::DEFAULT_DISTINCT_N,
            label_key: None,
            transformer: None,
        }
    }
}

/// How the trained judge runs.
#[derive(Clone, Debug, Serialize)]
pub struct TransformerOptions {
    /// Architecture, steps, batch and learning-rate schedule.
    pub train: TrainSettings,
    /// One model per seed and mix; the seed also orders the training text and its windows.
    pub seeds: Vec<u64>,
    /// Bytes of each held-out document measured (its first bytes).
    pub heldout_bytes: usize,
    /// Questions of the choice task (fewer when the held-out text has fewer documents).
    pub choice_items: usize,
    /// Points of a held-out learning curve per run (0: none; costs a held-out pass each).
    pub curve_points: usize,
}

impl Default for TransformerOptions {
    fn default() -> Self {
        TransformerOptions {
            train: TrainSettings::DEFAULT,
            seeds: vec![1],
            heldout_bytes: 128,
            choice_items: 250,
            curve_points: 0,
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
    /// The source of each text (empty when the line has none).
    pub sources: Vec<String>,
    /// The metadata of each text, as compact JSON.
    pub metadata: Vec<Option<String>>,
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
        sources: read.sources,
        metadata: read.metadata,
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
    /// The trained judge's figures, when it ran.
    pub transformer: Option<TransformerJudgement>,
}

/// Mean and spread of one figure over the seeds.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (0 for one seed).
    pub std: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// Of `values` (at least one).
    pub fn of(values: &[f64]) -> Spread {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Spread {
            mean,
            std: var.sqrt(),
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// One trained model: its seed, held-out figures and cost.
#[derive(Clone, Debug, Serialize)]
pub struct TransformerRun {
    /// The seed.
    pub seed: u64,
    /// Bits per byte of the held-out windows.
    pub heldout_bits_per_byte: f64,
    /// Bits per byte per held-out source, in the order of [`TransformerSetup::heldout_sources`].
    pub source_bits_per_byte: Vec<f64>,
    /// Bits per byte per value of the label key among held-out texts (those with the key).
    pub label_bits_per_byte: Vec<(String, f64)>,
    /// The choice task.
    pub choice: choice::Outcome,
    /// Training loss of the last step, nats per byte.
    pub final_train_nats_per_byte: f64,
    /// Seconds of training.
    pub train_seconds: f64,
    /// Training bytes per second.
    pub train_tokens_per_second: f64,
    /// Seconds of the whole run (training, held-out and choice scoring).
    pub seconds: f64,
    /// The learning curve, when asked for.
    pub curve: Vec<CurvePoint>,
}

/// The trained judge on one mix: every seed, and the mean and spread.
#[derive(Clone, Debug, Serialize)]
pub struct TransformerJudgement {
    /// One per seed, in the order given.
    pub runs: Vec<TransformerRun>,
    /// Held-out bits per byte over the seeds.
    pub heldout_bits_per_byte: Spread,
    /// Choice accuracy over the seeds.
    pub choice_accuracy: Spread,
}

/// What every trained judge of an evaluation shares.
#[derive(Clone, Debug, Serialize)]
pub struct TransformerSetup {
    /// The options as given.
    pub options: TransformerOptions,
    /// Trained parameters of the model.
    pub params: u64,
    /// Training bytes per run.
    pub train_tokens: u64,
    /// Worker threads of the tensor kernels.
    pub threads: usize,
    /// Held-out bytes measured (over every held-out text).
    pub heldout_bytes: u64,
    /// Held-out sources, in order of first appearance.
    pub heldout_sources: Vec<String>,
    /// Questions of the choice task.
    pub choice_items: u64,
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
    /// The trained judge's settings, when it ran.
    pub transformer: Option<TransformerSetup>,
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
    let prepared = opts
        .transformer
        .as_ref()
        .map(|t| Prepared::new(heldout, t, opts.label_key.as_deref()));
    let mut mixes = Vec::with_capacity(records.len());
    for (name, record) in names.iter().zip(&records) {
        let texts = mix_texts(store, name, record)?;
        let mut j = judge_one(
            store,
            name,
            record,
            &texts,
            &facts,
            &target,
            pool_kl,
            &heldout_bytes,
            opts,
        )?;
        if let (Some(p), Some(t)) = (&prepared, &opts.transformer) {
            j.transformer = Some(p.judge(&texts, t)?);
        }
        mixes.push(j);
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
        transformer: prepared
            .zip(opts.transformer.as_ref())
            .map(|(p, t)| p.setup(t)),
    })
}

/// The held-out windows, their groups and the choice task, built once for every mix.
struct Prepared {
    windows: Vec<Scored>,
    /// Held-out text of each window.
    window_doc: Vec<usize>,
    /// Source index of each held-out text.
    doc_source: Vec<usize>,
    sources: Vec<String>,
    /// Label value index of each held-out text that has the label key.
    doc_label: Vec<Option<usize>>,
    labels: Vec<String>,
    /// Every `stride`-th window makes the learning curve's held-out set.
    curve_windows: Vec<Scored>,
    items: Vec<choice::Item>,
}

/// Held-out windows on the learning curve (a spread-out subset: a curve point costs a pass).
const CURVE_WINDOWS: usize = 256;

impl Prepared {
    fn new(heldout: &Heldout, t: &TransformerOptions, label_key: Option<&str>) -> Prepared {
        let bytes: Vec<&[u8]> = heldout.texts.iter().map(|x| x.as_bytes()).collect();
        let (window_doc, windows): (Vec<usize>, Vec<Scored>) =
            judge::heldout_windows(&bytes, t.heldout_bytes, t.train.model.context)
                .into_iter()
                .unzip();
        let mut sources: Vec<String> = Vec::new();
        let doc_source = heldout
            .sources
            .iter()
            .map(|s| index_of(&mut sources, s))
            .collect();
        let mut labels: Vec<String> = Vec::new();
        let doc_label = heldout
            .metadata
            .iter()
            .map(|m| {
                let v = label_key.and_then(|k| label_value(m.as_deref(), k))?;
                Some(index_of(&mut labels, &v))
            })
            .collect();
        let stride = windows.len().div_ceil(CURVE_WINDOWS).max(1);
        let curve_windows = windows.iter().step_by(stride).cloned().collect();
        let texts: Vec<&str> = heldout.texts.iter().map(String::as_str).collect();
        Prepared {
            items: choice::build(&texts, 0, t.choice_items),
            windows,
            window_doc,
            doc_source,
            sources,
            doc_label,
            labels,
            curve_windows,
        }
    }

    fn setup(&self, t: &TransformerOptions) -> TransformerSetup {
        TransformerSetup {
            options: t.clone(),
            params: t.train.model.params() as u64,
            train_tokens: t.train.tokens(),
            threads: judge::threads(),
            heldout_bytes: self.windows.iter().map(|w| w.scored_len() as u64).sum(),
            heldout_sources: self.sources.clone(),
            choice_items: self.items.len() as u64,
        }
    }

    /// Trains one model per seed on the mix's texts and measures each.
    fn judge(
        &self,
        texts: &[(String, u32)],
        t: &TransformerOptions,
    ) -> Result<TransformerJudgement> {
        let mut runs = Vec::with_capacity(t.seeds.len());
        for &seed in &t.seeds {
            runs.push(self.run(texts, t, seed)?);
        }
        let bpb: Vec<f64> = runs.iter().map(|r| r.heldout_bits_per_byte).collect();
        let acc: Vec<f64> = runs.iter().map(|r| r.choice.accuracy).collect();
        Ok(TransformerJudgement {
            heldout_bits_per_byte: Spread::of(&bpb),
            choice_accuracy: Spread::of(&acc),
            runs,
        })
    }

    fn run(
        &self,
        texts: &[(String, u32)],
        t: &TransformerOptions,
        seed: u64,
    ) -> Result<TransformerRun> {
        let started = std::time::Instant::now();
        let stream = judge::training_stream(texts.iter().map(|(x, c)| (x.as_bytes(), *c)), seed);
        let curve = (t.curve_points > 0).then_some((self.curve_windows.as_slice(), t.curve_points));
        let trained = judge::train(&stream, &t.train, seed, curve).map_err(judge_error)?;
        let nll = judge::score(&trained.model, &self.windows).map_err(judge_error)?;
        let mut by_source = vec![(0.0, 0u64); self.sources.len()];
        let mut by_label = vec![(0.0, 0u64); self.labels.len()];
        let (mut nats, mut bytes) = (0.0, 0u64);
        for ((w, &doc), v) in self.windows.iter().zip(&self.window_doc).zip(&nll) {
            let n = w.scored_len() as u64;
            nats += v;
            bytes += n;
            let s = &mut by_source[self.doc_source[doc]];
            (s.0, s.1) = (s.0 + v, s.1 + n);
            if let Some(l) = self.doc_label[doc] {
                let l = &mut by_label[l];
                (l.0, l.1) = (l.0 + v, l.1 + n);
            }
        }
        let bpb = |(n, b): (f64, u64)| judge::bits(n / b.max(1) as f64);
        let choice = choice::evaluate(&trained.model, &self.items).map_err(judge_error)?;
        Ok(TransformerRun {
            seed,
            heldout_bits_per_byte: bpb((nats, bytes)),
            source_bits_per_byte: by_source.into_iter().map(bpb).collect(),
            label_bits_per_byte: self
                .labels
                .iter()
                .cloned()
                .zip(by_label.into_iter().map(bpb))
                .collect(),
            choice,
            final_train_nats_per_byte: trained.final_train_loss,
            train_seconds: trained.train_seconds,
            train_tokens_per_second: t.train.tokens() as f64 / trained.train_seconds.max(1e-9),
            seconds: started.elapsed().as_secs_f64(),
            curve: trained.curve,
        })
    }
}

fn judge_error(e: judge::JudgeError) -> Error {
    Error::Invalid(e.to_string())
}

fn index_of(names: &mut Vec<String>, name: &str) -> usize {
    names.iter().position(|n| n == name).unwrap_or_else(|| {
        names.push(name.to_string());
        names.len() - 1
    })
}

/// The value of `key` in compact-JSON metadata, as text (strings unquoted), if present.
fn label_value(metadata: Option<&str>, key: &str) -> Option<String> {
    let m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(metadata?).ok()?;
    match m.get(key)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        v => Some(v.to_string()),
    }
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
    texts: &[(String, u32)],
    facts: &PoolFacts,
    target: &HashedNgramDist,
    pool_kl: f64,
    heldout: &[&[u8]],
    opts: &JudgeOptions,
) -> Result<Judgement> {
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
        transformer: None,
    })
}
