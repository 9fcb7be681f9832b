//! Quality scoring: the per-sample raw figures behind q(x).
//!
//! This module owns everything that turns sample text into a quality measurement: the
//! [`QualityScorer`] interface the pipeline calls, the raw result types ([`QualityScore`],
//! [`SampleScore`]), the model fingerprint that says when stored scores are stale, and the one
//! implementation that exists today, [`LlamaScorer`], which runs a GGUF language model through
//! llama.cpp. It is the only module that links llama.cpp.
//!
//! A score is the negative log-likelihood of the first `max_tokens` tokens of a sample under the
//! reference model, with the model's BOS token in front so that the first text token is predicted
//! too. Ranking these values into q(x) in [0, 1] happens at mix time, elsewhere; this module only
//! produces and describes the raw figures.
//!
//! [`score_pool`] is the incremental pass over the pool: it scores the samples that have no score
//! under the scorer's fingerprint and stores the raw figures, batch by batch.
//!
//! Invariants:
//! - A sample's score does not depend on which other samples were scored in the same call or the
//!   same llama.cpp batch (flash attention off, one KV stream per sequence).
//! - [`QualityScorer::fingerprint`] changes whenever the model file or a setting that changes
//!   results changes; settings that only change speed (threads, batch size) leave it alone.

mod error;
mod fingerprint;
mod gguf;
mod llama;
mod nll;
mod pack;
mod pass;
mod run;
mod types;

pub use error::ScoreError;
pub use llama::{
    default_model_path, AttentionLayout, GgufTokenizer, LlamaScorer, LlamaSettings,
    PreparedBatches, DEFAULT_MODEL_FILE, SCORER_VERSION,
};
pub use pass::{
    nll_quantiles, pending, score_pool, Pending, ScoreObserver, ScoreOptions, ScoreReport,
};
pub use run::{llama_description, score_pending, ScoreOutcome};
pub use types::{QualityScore, QualityScorer, SampleScore, ScoredText};
