//! [`LlamaScorer`]: quality as the negative log-likelihood of a sample under a GGUF language model
//! run by llama.cpp.
//!
//! One call to [`QualityScorer::score_batch`] tokenizes its texts in parallel, sorts them by length,
//! packs them into llama.cpp batches (one sequence id per sample, logits at every position), runs
//! one decode per batch on a context that lives as long as the scorer, and reduces every
//! position's logits to the NLL of the next token. The KV cache is cleared between batches, never
//! reallocated.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use llama_cpp_2::context::params::{LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::vocab::LlamaVocab;
use llama_cpp_2::{LlamaModelLoadError, LogOptions};
use rayon::prelude::*;
use self_cell::self_cell;

use super::types::{QualityScore, QualityScorer, SampleScore, ScoredText};
use super::{fingerprint, gguf, nll, pack, ScoreError};

/// File name of the default reference model (SmolLM2-135M-Instruct, Q4_1), as
/// `tools/fetch-model.sh` stores it.
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// Version of the scoring algorithm; part of the fingerprint. Bump it whenever a change in this
/// module changes the numbers it produces.
pub const SCORER_VERSION: u32 = 1;

/// llama.cpp's `LLAMA_FLASH_ATTN_TYPE_DISABLED` and `LLAMA_FLASH_ATTN_TYPE_ENABLED`.
const FLASH_ATTN_DISABLED: i32 = 0;
const FLASH_ATTN_ENABLED: i32 = 1;
/// llama.cpp gives every KV stream a multiple of this many cells.
const KV_CELL_PAD: usize = 256;
/// KV cells allocated per token of batch capacity: bounds how many sequences a batch may hold.
const KV_CELLS_PER_BATCH_TOKEN: usize = 4;
/// Upper bound on sequences per batch (llama.cpp allows 256 at most).
const MAX_SEQS: usize = 64;
/// Longest text tokenized whole; longer texts are cut here and their token count is a lower
/// bound. llama.cpp's tokenizer takes at most `i32::MAX` bytes.
const MAX_TEXT_BYTES: usize = 1 << 30;
/// Largest accepted `max_tokens` or `batch_tokens` (keeps llama.cpp's 32-bit sizes in range).
const MAX_SETTING_TOKENS: usize = 1 << 20;

/// The default model's path: `$SAMPLEMIX_MODEL` if set, else
/// `${SAMPLEMIX_MODEL_DIR:-$HOME/.cache/samplemix/models}/SmolLM2-135M-Instruct.Q4_1.gguf`, where
/// `tools/fetch-model.sh` puts it.
#[must_use]
pub fn default_model_path() -> PathBuf {
    let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(path) = non_empty("SAMPLEMIX_MODEL") {
        return PathBuf::from(path);
    }
    let dir = non_empty("SAMPLEMIX_MODEL_DIR").map_or_else(
        || {
            PathBuf::from(non_empty("HOME").unwrap_or_else(|| ".".into()))
                .join(".cache/samplemix/models")
        },
        PathBuf::from,
    );
    dir.join(DEFAULT_MODEL_FILE)
}

/// Settings of a [`LlamaScorer`].
///
/// Only `max_tokens` (and the effective GPU offload) changes scores, and so the fingerprint;
/// `threads` and `batch_tokens` change only speed and memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlamaSettings {
    /// Tokens scored per sample, counted after the BOS token; longer samples are scored on their
    /// first `max_tokens` tokens.
    pub max_tokens: usize,
    /// CPU threads llama.cpp uses.
    pub threads: usize,
    /// Tokens per llama.cpp batch (raised to `max_tokens` if smaller). Memory grows with it: about
    /// 0.4 MB of logits per token for a 49k vocabulary, plus 4 KV cells per token.
    pub batch_tokens: usize,
    /// Model layers offloaded to a GPU; ignored by a CPU-only build.
    pub gpu_layers: u32,
    /// Also return each sample's embedding (the mean of the model's last hidden states over
    /// the sample's scored text positions) from the same decode that gives the NLL. Changes no
    /// score, so it is not part of the fingerprint.
    pub embeddings: bool,
}

impl LlamaSettings {
    /// Default `max_tokens`. On 400 mixed samples of the demo corpus the ranking by mean NLL at
    /// 256 tokens agrees with the ranking at 1024 tokens to a Spearman correlation of 0.97, for
    /// 58% of the work (128 tokens: 0.90; 512: 0.9965 for 87%); see `BENCHMARKS-score.md`.
    pub const DEFAULT_MAX_TOKENS: usize = 256;
    /// Default `batch_tokens`.
    pub const DEFAULT_BATCH_TOKENS: usize = 2048;

    fn validate(&self) -> Result<(), ScoreError> {
        let bad = |what: String| Err(ScoreError::Settings(what));
        if self.max_tokens < 2 || self.max_tokens > MAX_SETTING_TOKENS {
            return bad(format!(
                "max_tokens is {}; it must be between 2 and {MAX_SETTING_TOKENS}",
                self.max_tokens
            ));
        }
        if self.batch_tokens == 0 || self.batch_tokens > MAX_SETTING_TOKENS {
            return bad(format!(
                "batch_tokens is {}; it must be between 1 and {MAX_SETTING_TOKENS}",
                self.batch_tokens
            ));
        }
        if self.threads == 0 || self.threads > 1024 {
            return bad(format!(
                "threads is {}; it must be between 1 and 1024",
                self.threads
            ));
        }
        Ok(())
    }
}

impl Default for LlamaSettings {
    fn default() -> Self {
        Self {
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            batch_tokens: Self::DEFAULT_BATCH_TOKENS,
            gpu_layers: if cfg!(any(feature = "cuda", feature = "metal")) {
                999
            } else {
                0
            },
            embeddings: true,
        }
    }
}

/// The process-wide llama.cpp backend. llama.cpp may be initialised once per process; its logging
/// is silenced unless `SAMPLEMIX_LLAMA_LOG` is set (then it goes to stderr).
fn backend() -> Result<&'static LlamaBackend, ScoreError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            if std::env::var_os("SAMPLEMIX_LLAMA_LOG").is_none() {
                llama_cpp_2::send_logs_to_tracing(LogOptions::default().with_logs_enabled(false));
            }
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|reason| ScoreError::Backend(reason.clone()))
}

/// How llama.cpp computes attention over a batch of several samples.
///
/// Only [`AttentionLayout::EXACT`] (the default) gives every sample the score it gets alone. The
/// other layouts are faster but let a sample's score move with the other samples in its batch by
/// a few hundredths of a nat; `BENCHMARKS-score.md` measures both effects. The layout is part of
/// the fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttentionLayout {
    /// Use llama.cpp's flash-attention kernels.
    pub flash_attention: bool,
    /// One KV cache shared by all sequences of a batch instead of one stream per sequence.
    pub unified_kv: bool,
}

impl AttentionLayout {
    /// Flash attention off, one KV stream per sequence: batch-independent scores.
    pub const EXACT: Self = Self {
        flash_attention: false,
        unified_kv: false,
    };
}

impl Default for AttentionLayout {
    fn default() -> Self {
        Self::EXACT
    }
}

/// A sample ready for the model: its first `max_tokens` tokens and its full length.
#[derive(Debug)]
struct Sequence {
    /// Index of the sample in the caller's slice.
    sample: usize,
    /// The tokens to predict (the sample's first tokens, at most `max_tokens`, at least 2).
    targets: Vec<LlamaToken>,
    /// The sample's full token count.
    n_tokens: u32,
}

/// Texts tokenized and packed into llama.cpp batches, not yet evaluated.
///
/// Exposed so that benchmarks can time the model alone on exactly the batches that scoring runs
/// ([`LlamaScorer::decode_only`]); the pipeline only needs [`QualityScorer::score_batch`].
#[derive(Debug)]
pub struct PreparedBatches {
    /// One entry per text; `None` for texts that go to the model.
    too_short: Vec<Option<SampleScore>>,
    sequences: Vec<Sequence>,
    /// Indices into `sequences`, one list per llama.cpp batch.
    batches: Vec<Vec<usize>>,
}

impl PreparedBatches {
    /// Number of llama.cpp batches.
    #[must_use]
    pub fn n_batches(&self) -> usize {
        self.batches.len()
    }

    /// Number of tokens fed to the model (BOS included), which is also the number of tokens
    /// scored.
    #[must_use]
    pub fn n_tokens_evaluated(&self) -> usize {
        self.sequences.iter().map(|s| s.targets.len()).sum()
    }
}

self_cell!(
    /// The model and the llama.cpp context that borrows it, owned together: `self_cell` keeps
    /// the model at a stable address and drops the context first.
    struct ModelContext {
        owner: LlamaModel,
        #[covariant]
        dependent: LlamaContext,
    }
);

/// Scores samples by their negative log-likelihood under a GGUF language model, run in-process by
/// llama.cpp. See the module documentation for how a call proceeds.
pub struct LlamaScorer {
    model_ctx: ModelContext,
    batch: LlamaBatch<'static>,
    path: PathBuf,
    name: String,
    fingerprint: String,
    settings: LlamaSettings,
    /// Token put before every sample (the model's BOS).
    prefix: LlamaToken,
    n_vocab: usize,
    /// Tokens per llama.cpp batch.
    batch_capacity: usize,
    /// Sequences per llama.cpp batch.
    max_seqs: usize,
    /// Width of the model's hidden states (the embedding dimension).
    n_embd: usize,
}

impl std::fmt::Debug for LlamaScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlamaScorer")
            .field("path", &self.path)
            .field("fingerprint", &self.fingerprint)
            .field("settings", &self.settings)
            .field("batch_capacity", &self.batch_capacity)
            .field("max_seqs", &self.max_seqs)
            .finish_non_exhaustive()
    }
}

impl LlamaScorer {
    /// Loads the GGUF model at `path` and creates the scoring context.
    ///
    /// The file is checked for a GGUF header before llama.cpp sees it, and hashed for the
    /// fingerprint (about 0.1 s for the 98 MB default model).
    ///
    /// # Errors
    /// [`ScoreError::ModelNotFound`], [`ScoreError::NotGguf`], [`ScoreError::ModelLoad`] for a
    /// truncated or corrupt file, [`ScoreError::Settings`], [`ScoreError::Context`],
    /// [`ScoreError::Backend`], [`ScoreError::Io`].
    pub fn load(path: &Path, settings: LlamaSettings) -> Result<Self, ScoreError> {
        Self::load_with_layout(path, settings, AttentionLayout::EXACT)
    }

    /// [`Self::load`] with another attention layout (faster, batch-dependent scores).
    ///
    /// # Errors
    /// As [`Self::load`].
    pub fn load_with_layout(
        path: &Path,
        settings: LlamaSettings,
        layout: AttentionLayout,
    ) -> Result<Self, ScoreError> {
        settings.validate()?;
        gguf::check_header(path)?;
        let file_hash = fingerprint::hash_file(path)?;
        let backend = backend()?;
        let model = load_model(backend, path, &settings)?;
        let n_vocab = usize::try_from(model.n_vocab()).unwrap_or(0);
        let n_embd = usize::try_from(model.n_embd()).unwrap_or(0);
        let prefix = prefix_token(&model, n_vocab).ok_or_else(|| ScoreError::ModelLoad {
            path: path.to_path_buf(),
        })?;
        let effective_gpu_layers = if backend.supports_gpu_offload() {
            settings.gpu_layers.min(model.n_layer() + 1)
        } else {
            0
        };
        let fingerprint = fingerprint::combine(
            file_hash,
            &describe(&settings, prefix, layout, effective_gpu_layers),
        );
        let context_error = |reason: String| ScoreError::Context {
            path: path.to_path_buf(),
            reason,
        };
        let size = ContextSize::of(&settings, layout);
        let ctx_params = size.params(&settings, layout).map_err(|e| match e {
            SizeError::Threads => ScoreError::Settings("too many threads".into()),
            SizeError::TooLarge(n) => context_error(format!("{n} does not fit llama.cpp")),
        })?;
        let model_ctx = ModelContext::try_new(model, |model| {
            model
                .new_context(backend, ctx_params)
                .map_err(|e| context_error(e.to_string()))
        })?;
        let batch = LlamaBatch::new(size.batch_capacity, 1);

        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Self {
            model_ctx,
            batch,
            path: path.to_path_buf(),
            name,
            fingerprint,
            settings,
            prefix,
            n_vocab,
            batch_capacity: size.batch_capacity,
            max_seqs: size.max_seqs,
            n_embd,
        })
    }

    /// The settings this scorer was loaded with.
    #[must_use]
    pub fn settings(&self) -> &LlamaSettings {
        &self.settings
    }

    /// The model file.
    #[must_use]
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// The token put before every sample so that its first token is predicted too: the model's
    /// BOS token (its EOS token if it has no BOS).
    #[must_use]
    pub fn prefix_token(&self) -> i32 {
        self.prefix.0
    }

    /// Tokenizes `text` the way samples are tokenized (no BOS, special-token text taken
    /// literally) and returns every token id.
    #[must_use]
    pub fn tokenize(&self, text: &str) -> Vec<i32> {
        let vocab = self.model_ctx.borrow_owner().vocab();
        let (_, tokens) = tokenize_prefix(&vocab, text, usize::MAX);
        tokens.into_iter().map(|t| t.0).collect()
    }

    /// Tokenizes `texts` in parallel and packs them into llama.cpp batches without evaluating
    /// anything. [`Self::score_prepared`] finishes the job; [`Self::decode_only`] times the model
    /// alone on the same batches.
    #[must_use]
    pub fn prepare(&self, texts: &[&str]) -> PreparedBatches {
        let vocab = self.model_ctx.borrow_owner().vocab();
        let max_tokens = self.settings.max_tokens;
        let tokenized: Vec<(u32, Vec<LlamaToken>)> = texts
            .par_iter()
            .map(|text| tokenize_prefix(&vocab, text, max_tokens))
            .collect();
        let mut too_short = Vec::with_capacity(texts.len());
        let mut sequences = Vec::new();
        for (sample, (n_tokens, targets)) in tokenized.into_iter().enumerate() {
            if targets.len() < 2 {
                too_short.push(Some(SampleScore::TooShort { n_tokens }));
            } else {
                too_short.push(None);
                sequences.push(Sequence {
                    sample,
                    targets,
                    n_tokens,
                });
            }
        }
        let lengths: Vec<usize> = sequences.iter().map(|s| s.targets.len()).collect();
        let batches = pack::pack(&lengths, self.batch_capacity, self.max_seqs);
        PreparedBatches {
            too_short,
            sequences,
            batches,
        }
    }

    /// Evaluates prepared batches and returns one result per text, in the caller's order.
    ///
    /// # Errors
    /// [`ScoreError::Decode`] when llama.cpp fails or returns non-finite logits.
    pub fn score_prepared(
        &mut self,
        prepared: &PreparedBatches,
    ) -> Result<Vec<SampleScore>, ScoreError> {
        Ok(self
            .evaluate(prepared, false)?
            .into_iter()
            .map(|(score, _)| score)
            .collect())
    }

    /// Evaluates prepared batches: per text its score and, when `embed` (and the scorer was
    /// loaded with `embeddings`), its embedding; `None` for a text too short to score.
    fn evaluate(
        &mut self,
        prepared: &PreparedBatches,
        embed: bool,
    ) -> Result<Vec<ScoredText>, ScoreError> {
        let embed = embed && self.settings.embeddings;
        let mut results: Vec<(Option<SampleScore>, Option<Vec<f32>>)> = prepared
            .too_short
            .iter()
            .map(|&short| (short, None))
            .collect();
        for batch in &prepared.batches {
            let seqs: Vec<&Sequence> = batch.iter().map(|&i| &prepared.sequences[i]).collect();
            let offsets = self.decode(seqs.iter().map(|s| s.targets.as_slice()))?;
            let sums = self.sum_nlls(&seqs, &offsets)?;
            for ((seq, nll_sum), &offset) in seqs.iter().zip(sums).zip(&offsets) {
                let embedding = if embed {
                    Some(self.mean_hidden_state(offset, seq.targets.len())?)
                } else {
                    None
                };
                results[seq.sample] = (
                    Some(SampleScore::Scored(QualityScore {
                        nll_sum,
                        n_scored: u32::try_from(seq.targets.len()).unwrap_or(u32::MAX),
                        n_tokens: seq.n_tokens,
                    })),
                    embedding,
                );
            }
        }
        Ok(results
            .into_iter()
            .map(|(r, e)| (r.unwrap_or(SampleScore::TooShort { n_tokens: 0 }), e))
            .collect())
    }

    /// The mean of the last hidden states (after the final norm) at the text positions of the
    /// sequence that starts at batch index `offset` and predicts `n_targets` tokens: its inputs
    /// are BOS and the first `n_targets - 1` text tokens; BOS, the same for every sample, is left
    /// out. Summed in f64 in position order, so the result does not depend on the batch.
    fn mean_hidden_state(&self, offset: usize, n_targets: usize) -> Result<Vec<f32>, ScoreError> {
        let ctx = self.model_ctx.borrow_dependent();
        let mut sum = vec![0f64; self.n_embd];
        let positions = offset + 1..offset + n_targets;
        let count = positions.len().max(1) as f64;
        for index in positions {
            let i = i32::try_from(index).map_err(|_| self.decode_error("batch index".into()))?;
            let hidden = ctx
                .embeddings_ith(i)
                .map_err(|e| self.decode_error(format!("embeddings at {index}: {e}")))?;
            if hidden.len() != self.n_embd || hidden.iter().any(|v| !v.is_finite()) {
                return Err(self.decode_error(format!(
                    "hidden state at batch position {index} has {} values or a non-finite one",
                    hidden.len()
                )));
            }
            for (s, &v) in sum.iter_mut().zip(hidden) {
                *s += f64::from(v);
            }
        }
        Ok(sum.into_iter().map(|s| (s / count) as f32).collect())
    }

    /// Runs the model on prepared batches exactly as scoring does (same batches, logits at every
    /// position) but computes no NLL: the throughput limit that scoring is measured against.
    ///
    /// # Errors
    /// [`ScoreError::Decode`] when llama.cpp fails.
    pub fn decode_only(&mut self, prepared: &PreparedBatches) -> Result<(), ScoreError> {
        for batch in &prepared.batches {
            self.decode(
                batch
                    .iter()
                    .map(|&i| prepared.sequences[i].targets.as_slice()),
            )?;
        }
        Ok(())
    }

    /// The NLL (nats) of each of `tokens[1..]` given the tokens before it, evaluated as one
    /// sequence exactly as given (no BOS added). For checks against other tools, such as
    /// llama.cpp's `llama-perplexity`, that score a given token sequence.
    ///
    /// # Errors
    /// [`ScoreError::Settings`] when `tokens` is longer than `max_tokens` or holds an id outside
    /// the vocabulary; [`ScoreError::Decode`] when llama.cpp fails.
    pub fn token_nlls(&mut self, tokens: &[i32]) -> Result<Vec<f64>, ScoreError> {
        if tokens.len() < 2 || tokens.len() > self.settings.max_tokens {
            return Err(ScoreError::Settings(format!(
                "token_nlls takes 2 to max_tokens ({}) tokens, got {}",
                self.settings.max_tokens,
                tokens.len()
            )));
        }
        if let Some(bad) = tokens
            .iter()
            .find(|&&t| usize::try_from(t).map_or(true, |t| t >= self.n_vocab))
        {
            return Err(ScoreError::Settings(format!(
                "token id {bad} is outside the vocabulary"
            )));
        }
        self.batch.clear();
        for (pos, &t) in (0..).zip(tokens) {
            self.batch
                .add(LlamaToken(t), pos, &[0], true)
                .map_err(|e| self.decode_error(e.to_string()))?;
        }
        self.run_batch()?;
        (1..tokens.len())
            .map(|i| self.position_nll(i - 1, LlamaToken(tokens[i])))
            .collect()
    }

    /// Puts `sequences` into one llama.cpp batch (the BOS prefix then all but the last target of
    /// each, logits at every position) and decodes it on a cleared KV cache. Returns the batch
    /// index of each sequence's first position.
    fn decode<'s>(
        &mut self,
        sequences: impl Iterator<Item = &'s [LlamaToken]>,
    ) -> Result<Vec<usize>, ScoreError> {
        self.batch.clear();
        let mut offsets = Vec::new();
        let mut next = 0usize;
        for (seq_id, targets) in (0i32..).zip(sequences) {
            offsets.push(next);
            let inputs =
                std::iter::once(self.prefix).chain(targets[..targets.len() - 1].iter().copied());
            for (pos, token) in (0..).zip(inputs) {
                self.batch
                    .add(token, pos, &[seq_id], true)
                    .map_err(|e| ScoreError::Decode {
                        path: self.path.clone(),
                        reason: format!("batch overflow: {e}"),
                    })?;
            }
            next += targets.len();
        }
        self.run_batch()?;
        Ok(offsets)
    }

    /// Clears the KV cache (bookkeeping only; stale cells are masked out) and decodes the batch.
    fn run_batch(&mut self) -> Result<(), ScoreError> {
        let batch = &mut self.batch;
        let result = self.model_ctx.with_dependent_mut(|_, ctx| {
            ctx.clear_kv_cache_seq(None, None, None)
                .map_err(|e| e.to_string())?;
            ctx.decode(batch).map_err(|e| e.to_string())
        });
        result.map_err(|reason| self.decode_error(reason))
    }

    /// Per sequence, the sum of the NLLs of its targets, read from the logits of the last decode
    /// (sequence `i`'s first position at batch index `offsets[i]`). Positions are reduced in
    /// parallel; each sum is then taken in position order, so the result does not depend on the
    /// thread count.
    fn sum_nlls(&self, seqs: &[&Sequence], offsets: &[usize]) -> Result<Vec<f64>, ScoreError> {
        let mut rows: Vec<(&[f32], usize)> = Vec::new();
        for (seq, &offset) in seqs.iter().zip(offsets) {
            for (i, target) in seq.targets.iter().enumerate() {
                rows.push((
                    self.logits_at(offset + i)?,
                    usize::try_from(target.0).unwrap_or(usize::MAX),
                ));
            }
        }
        let nlls: Vec<Option<f64>> = rows
            .par_iter()
            .with_min_len(16)
            .map(|&(logits, target)| nll::nll(logits, target))
            .collect();
        let mut sums = Vec::with_capacity(seqs.len());
        let mut nlls = nlls.into_iter();
        for (seq, &offset) in seqs.iter().zip(offsets) {
            let mut sum = 0.0;
            for (i, value) in nlls.by_ref().take(seq.targets.len()).enumerate() {
                sum += value.ok_or_else(|| {
                    self.decode_error(format!(
                        "non-finite logits at batch position {}",
                        offset + i
                    ))
                })?;
            }
            sums.push(sum);
        }
        Ok(sums)
    }

    /// The logits at batch position `index` of the last decode.
    fn logits_at(&self, index: usize) -> Result<&[f32], ScoreError> {
        let index = i32::try_from(index).map_err(|_| self.decode_error("batch index".into()))?;
        Ok(self.model_ctx.borrow_dependent().get_logits_ith(index))
    }

    /// NLL of `target` from the logits at batch position `index` of the last decode.
    fn position_nll(&self, index: usize, target: LlamaToken) -> Result<f64, ScoreError> {
        let logits = self.logits_at(index)?;
        let target = usize::try_from(target.0).unwrap_or(usize::MAX);
        nll::nll(logits, target).ok_or_else(|| {
            self.decode_error(format!(
                "non-finite logits at batch position {index} (target token {target})"
            ))
        })
    }

    fn decode_error(&self, reason: String) -> ScoreError {
        ScoreError::Decode {
            path: self.path.clone(),
            reason,
        }
    }
}

impl QualityScorer for LlamaScorer {
    fn name(&self) -> &str {
        &self.name
    }

    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn score_batch(&mut self, texts: &[&str]) -> Result<Vec<SampleScore>, ScoreError> {
        let prepared = self.prepare(texts);
        self.score_prepared(&prepared)
    }

    fn embedding_dim(&self) -> Option<usize> {
        self.settings.embeddings.then_some(self.n_embd)
    }

    fn score_and_embed(&mut self, texts: &[&str]) -> Result<Vec<ScoredText>, ScoreError> {
        let prepared = self.prepare(texts);
        self.evaluate(&prepared, true)
    }
}

/// Step 1 of a load: llama.cpp reads the GGUF file, offloading `settings.gpu_layers` layers.
fn load_model(
    backend: &LlamaBackend,
    path: &Path,
    settings: &LlamaSettings,
) -> Result<LlamaModel, ScoreError> {
    let model_params = LlamaModelParams::default().with_n_gpu_layers(settings.gpu_layers);
    match LlamaModel::load_from_file(backend, path, &model_params) {
        Ok(model) => Ok(model),
        Err(LlamaModelLoadError::PathToStrError(_) | LlamaModelLoadError::NullError(_)) => {
            Err(ScoreError::Settings(format!(
                "llama.cpp needs a UTF-8 model path without NUL bytes, got {}",
                path.display()
            )))
        }
        Err(LlamaModelLoadError::NullResult) => Err(ScoreError::ModelLoad {
            path: path.to_path_buf(),
        }),
    }
}

/// Step 2: the token put before every sample: the model's BOS, else its EOS, if inside the
/// vocabulary.
fn prefix_token(model: &LlamaModel, n_vocab: usize) -> Option<LlamaToken> {
    let vocab = model.vocab();
    let valid = |t: LlamaToken| usize::try_from(t.0).is_ok_and(|id| id < n_vocab);
    [vocab.bos(), vocab.eos()].into_iter().find(|&t| valid(t))
}

/// Step 3: the settings that change scores, as hashed into the fingerprint with the model file.
fn describe(
    settings: &LlamaSettings,
    prefix: LlamaToken,
    layout: AttentionLayout,
    effective_gpu_layers: u32,
) -> String {
    format!(
        "samplemix llama scorer v{SCORER_VERSION}; max_tokens={}; prefix_token={}; \
         flash_attn={}; kv={}; gpu_layers={effective_gpu_layers}",
        settings.max_tokens,
        prefix.0,
        if layout.flash_attention { "on" } else { "off" },
        if layout.unified_kv {
            "unified"
        } else {
            "per-sequence"
        },
    )
}

/// Step 4: the sizes of the llama.cpp context and batch.
///
/// One KV stream per sequence, each large enough for max_tokens; the number of streams bounds
/// the sequences per batch, the KV memory is `KV_CELLS_PER_BATCH_TOKEN` per batch token. A
/// unified cache needs only as many cells as a batch has tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ContextSize {
    /// Tokens per llama.cpp batch.
    batch_capacity: usize,
    /// Sequences per batch.
    max_seqs: usize,
    /// KV cells.
    n_ctx: usize,
}

/// Why [`ContextSize::params`] failed.
#[derive(Debug, PartialEq, Eq)]
enum SizeError {
    /// More threads than llama.cpp's `i32` takes.
    Threads,
    /// A size over llama.cpp's `u32`.
    TooLarge(usize),
}

impl ContextSize {
    fn of(settings: &LlamaSettings, layout: AttentionLayout) -> ContextSize {
        let batch_capacity = settings.batch_tokens.max(settings.max_tokens);
        let pad = |n: usize| n.div_ceil(KV_CELL_PAD) * KV_CELL_PAD;
        let cells_per_seq = pad(settings.max_tokens);
        let max_seqs =
            (KV_CELLS_PER_BATCH_TOKEN * batch_capacity / cells_per_seq).clamp(1, MAX_SEQS);
        let n_ctx = if layout.unified_kv {
            pad(batch_capacity)
        } else {
            max_seqs * cells_per_seq
        };
        ContextSize {
            batch_capacity,
            max_seqs,
            n_ctx,
        }
    }

    /// llama.cpp's context parameters for these sizes.
    fn params(
        &self,
        settings: &LlamaSettings,
        layout: AttentionLayout,
    ) -> Result<LlamaContextParams, SizeError> {
        let to_u32 = |n: usize| u32::try_from(n).map_err(|_| SizeError::TooLarge(n));
        let threads = i32::try_from(settings.threads).map_err(|_| SizeError::Threads)?;
        Ok(LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(to_u32(self.n_ctx)?))
            .with_n_batch(to_u32(self.batch_capacity)?)
            .with_n_ubatch(to_u32(self.batch_capacity)?)
            .with_n_seq_max(to_u32(self.max_seqs)?)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            .with_flash_attention_policy(if layout.flash_attention {
                FLASH_ATTN_ENABLED
            } else {
                FLASH_ATTN_DISABLED
            })
            .with_kv_unified(layout.unified_kv)
            // Per-token hidden states beside the logits; pooling is done here, per sequence,
            // because llama.cpp pools per micro-batch and may split a sequence across two.
            .with_embeddings(settings.embeddings)
            .with_pooling_type(LlamaPoolingType::None)
            .with_no_perf(true))
    }
}

/// Tokenizes `text` whole (no BOS, special-token text taken literally) and keeps the first `keep`
/// tokens. Returns the full token count and the kept tokens. Linear in the text length: the token
/// buffer is sized once (a byte-level BPE token covers at least one byte).
fn tokenize_prefix(vocab: &LlamaVocab<'_>, text: &str, keep: usize) -> (u32, Vec<LlamaToken>) {
    if text.is_empty() {
        return (0, Vec::new());
    }
    let text = truncate_at_char_boundary(text, MAX_TEXT_BYTES);
    let mut tokens = Vec::with_capacity(text.len() + 1);
    vocab.tokenize_into(text.as_bytes(), &mut tokens, false, false);
    let n_tokens = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
    tokens.truncate(keep);
    tokens.shrink_to_fit();
    (n_tokens, tokens)
}

fn truncate_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

// ---------------------------------------------------------------------------------------------
// GgufTokenizer: a GGUF model's own vocabulary through llama.cpp, loaded without weights, for
// the token export. Texts are tokenized the way the scorer tokenizes samples: no BOS added,
// special-token text taken literally. Decoding renders every token's bytes.

/// A GGUF model's vocabulary (the model is loaded with `vocab_only`).
pub struct GgufTokenizer {
    model: LlamaModel,
    path: PathBuf,
    file_hash: String,
    n_vocab: u32,
    eos: u32,
}

impl std::fmt::Debug for GgufTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GgufTokenizer")
            .field("path", &self.path)
            .field("n_vocab", &self.n_vocab)
            .field("eos", &self.eos)
            .finish_non_exhaustive()
    }
}

impl GgufTokenizer {
    /// Loads the vocabulary of the GGUF model at `path`.
    ///
    /// # Errors
    /// [`ScoreError::ModelNotFound`], [`ScoreError::NotGguf`], [`ScoreError::ModelLoad`] (also
    /// for a model without a valid EOS token), [`ScoreError::Settings`] for a non-UTF-8 path,
    /// [`ScoreError::Backend`], [`ScoreError::Io`].
    pub fn load(path: &Path) -> Result<Self, ScoreError> {
        gguf::check_header(path)?;
        let file_hash = fingerprint::hash_file(path)?;
        let backend = backend()?;
        let params = LlamaModelParams::default().with_vocab_only(true);
        let model = match LlamaModel::load_from_file(backend, path, &params) {
            Ok(m) => m,
            Err(LlamaModelLoadError::PathToStrError(_) | LlamaModelLoadError::NullError(_)) => {
                return Err(ScoreError::Settings(format!(
                    "llama.cpp needs a UTF-8 model path without NUL bytes, got {}",
                    path.display()
                )))
            }
            Err(LlamaModelLoadError::NullResult) => {
                return Err(ScoreError::ModelLoad {
                    path: path.to_path_buf(),
                })
            }
        };
        let n_vocab = u32::try_from(model.n_vocab()).unwrap_or(0);
        let eos = u32::try_from(model.vocab().eos().0)
            .ok()
            .filter(|&e| e < n_vocab)
            .ok_or_else(|| ScoreError::ModelLoad {
                path: path.to_path_buf(),
            })?;
        Ok(Self {
            model,
            path: path.to_path_buf(),
            file_hash: format!("{file_hash:016x}"),
            n_vocab,
            eos,
        })
    }

    /// The model file.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// xxh3 hash of the model file (hex), as the scorer's fingerprint uses it.
    #[must_use]
    pub fn file_hash(&self) -> &str {
        &self.file_hash
    }

    /// Ids in the vocabulary.
    #[must_use]
    pub fn n_vocab(&self) -> u32 {
        self.n_vocab
    }

    /// The end-of-document (EOS) token id.
    #[must_use]
    pub fn eos(&self) -> u32 {
        self.eos
    }

    /// Appends the token ids of `text` to `out` (no BOS, special-token text taken literally).
    pub fn tokenize_into(&self, text: &str, out: &mut Vec<u32>) {
        if text.is_empty() {
            return;
        }
        let mut buf: Vec<LlamaToken> = Vec::with_capacity(text.len() / 3 + 8);
        self.model
            .vocab()
            .tokenize_into(text.as_bytes(), &mut buf, false, false);
        // llama.cpp's ids are non-negative and below n_vocab.
        out.extend(buf.iter().map(|t| u32::try_from(t.0).unwrap_or(0)));
    }

    /// The text of `tokens` (invalid UTF-8 replaced).
    ///
    /// # Errors
    /// [`ScoreError::Settings`] for an id outside the vocabulary.
    pub fn detokenize(&self, tokens: &[u32]) -> Result<String, ScoreError> {
        let toks = tokens
            .iter()
            .map(|&t| {
                i32::try_from(t)
                    .ok()
                    .filter(|_| t < self.n_vocab)
                    .map(LlamaToken)
                    .ok_or_else(|| {
                        ScoreError::Settings(format!("token id {t} is outside the vocabulary"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if toks.is_empty() {
            return Ok(String::new());
        }
        let bytes = self.model.vocab().detokenize(&toks, false, true);
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl crate::algo::tokenize::Tokenizer for GgufTokenizer {
    fn tokenize_into(&self, text: &str, out: &mut Vec<u32>) {
        GgufTokenizer::tokenize_into(self, text, out);
    }
    fn n_vocab(&self) -> u32 {
        self.n_vocab
    }
    fn eos(&self) -> u32 {
        self.eos
    }
    fn kind(&self) -> &str {
        "gguf"
    }
    fn source(&self) -> String {
        self.path.display().to_string()
    }
    fn file_hash(&self) -> &str {
        &self.file_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only test in this crate's unit tests that touches these variables.
    #[test]
    fn default_model_path_follows_the_environment() {
        let saved: Vec<_> = ["SAMPLEMIX_MODEL", "SAMPLEMIX_MODEL_DIR", "HOME"]
            .iter()
            .map(|k| (*k, std::env::var_os(k)))
            .collect();
        std::env::remove_var("SAMPLEMIX_MODEL");
        std::env::remove_var("SAMPLEMIX_MODEL_DIR");
        std::env::set_var("HOME", "/home/u");
        assert_eq!(
            default_model_path(),
            PathBuf::from("/home/u/.cache/samplemix/models").join(DEFAULT_MODEL_FILE)
        );
        std::env::set_var("SAMPLEMIX_MODEL_DIR", "/models");
        assert_eq!(
            default_model_path(),
            PathBuf::from("/models").join(DEFAULT_MODEL_FILE)
        );
        std::env::set_var("SAMPLEMIX_MODEL", "/x/other.gguf");
        assert_eq!(default_model_path(), PathBuf::from("/x/other.gguf"));
        for (k, v) in saved {
            match v {
                Some(v) => std::env::set_var(k, v),
                None => std::env::remove_var(k),
            }
        }
    }

    #[test]
    fn the_description_names_every_setting_that_changes_scores() {
        let settings = LlamaSettings {
            max_tokens: 256,
            ..LlamaSettings::default()
        };
        assert_eq!(
            describe(&settings, LlamaToken(1), AttentionLayout::EXACT, 0),
            "samplemix llama scorer v1; max_tokens=256; prefix_token=1; flash_attn=off; \
             kv=per-sequence; gpu_layers=0"
        );
        let fast = AttentionLayout {
            flash_attention: true,
            unified_kv: true,
        };
        assert!(describe(&settings, LlamaToken(2), fast, 5)
            .ends_with("prefix_token=2; flash_attn=on; kv=unified; gpu_layers=5"));
    }

    #[test]
    fn context_sizes_follow_the_batch_and_the_kv_layout() {
        let settings = LlamaSettings {
            max_tokens: 256,
            batch_tokens: 2048,
            threads: 2,
            gpu_layers: 0,
            embeddings: true,
        };
        // 4 cells per batch token, 256 per sequence: 32 sequences of 256 cells.
        let exact = ContextSize::of(&settings, AttentionLayout::EXACT);
        assert_eq!(
            exact,
            ContextSize {
                batch_capacity: 2048,
                max_seqs: 32,
                n_ctx: 32 * 256
            }
        );
        let unified = AttentionLayout {
            flash_attention: false,
            unified_kv: true,
        };
        assert_eq!(ContextSize::of(&settings, unified).n_ctx, 2048);
        // A batch smaller than max_tokens is raised to it; sequences never exceed MAX_SEQS.
        let small = LlamaSettings {
            max_tokens: 300,
            batch_tokens: 10,
            ..settings.clone()
        };
        let s = ContextSize::of(&small, AttentionLayout::EXACT);
        assert_eq!((s.batch_capacity, s.max_seqs, s.n_ctx), (300, 2, 1024));
        let wide = LlamaSettings {
            max_tokens: 2,
            batch_tokens: 1 << 20,
            ..settings.clone()
        };
        assert_eq!(
            ContextSize::of(&wide, AttentionLayout::EXACT).max_seqs,
            MAX_SEQS
        );
        assert!(exact.params(&settings, AttentionLayout::EXACT).is_ok());
        let huge = ContextSize {
            n_ctx: usize::MAX,
            ..exact
        };
        assert_eq!(
            huge.params(&settings, AttentionLayout::EXACT).err(),
            Some(SizeError::TooLarge(usize::MAX))
        );
        let threads = LlamaSettings {
            threads: usize::MAX,
            ..settings
        };
        assert_eq!(
            exact.params(&threads, AttentionLayout::EXACT).err(),
            Some(SizeError::Threads)
        );
    }

    #[test]
    fn char_boundary_truncation_never_splits_a_character() {
        assert_eq!(truncate_at_char_boundary("héllo", 2), "h");
        assert_eq!(truncate_at_char_boundary("héllo", 3), "hé");
        assert_eq!(truncate_at_char_boundary("abc", 10), "abc");
    }
}
