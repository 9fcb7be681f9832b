//! The scorer interface and the raw per-sample results it produces.

use serde::{Deserialize, Serialize};

use super::ScoreError;

/// Raw quality figures of one sample under a reference language model.
///
/// The pipeline stores these as they are and ranks mean NLLs at mix time, so a growing pool never
/// forces a rescore.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QualityScore {
    /// Sum of the negative log-likelihoods (natural log, nats) of the scored tokens.
    pub nll_sum: f64,
    /// Number of tokens predicted: the sample's first tokens after the BOS token, at most the
    /// scorer's `max_tokens`.
    pub n_scored: u32,
    /// The sample's full length in the model's tokenizer, without BOS, even when only a prefix
    /// was scored.
    pub n_tokens: u32,
}

impl QualityScore {
    /// Mean negative log-likelihood per scored token, in nats.
    #[must_use]
    pub fn mean_nll(&self) -> f64 {
        self.nll_sum / f64::from(self.n_scored)
    }

    /// Perplexity of the scored tokens: `exp(mean_nll)`.
    #[must_use]
    pub fn perplexity(&self) -> f64 {
        self.mean_nll().exp()
    }
}

/// The outcome of scoring one sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum SampleScore {
    /// The sample was scored.
    Scored(QualityScore),
    /// The sample has fewer than two tokens (empty text included), too few to say anything about
    /// its quality; it gets no score.
    TooShort {
        /// The sample's length in the model's tokenizer, without BOS (0 or 1).
        n_tokens: u32,
    },
}

impl SampleScore {
    /// The score, if the sample was long enough to have one.
    #[must_use]
    pub fn scored(&self) -> Option<&QualityScore> {
        match self {
            SampleScore::Scored(score) => Some(score),
            SampleScore::TooShort { .. } => None,
        }
    }

    /// The sample's length in the model's tokenizer, without BOS.
    #[must_use]
    pub fn n_tokens(&self) -> u32 {
        match self {
            SampleScore::Scored(score) => score.n_tokens,
            SampleScore::TooShort { n_tokens } => *n_tokens,
        }
    }
}

/// One text's score and, when the scorer gives embeddings and the text was long enough to
/// score, its embedding.
pub type ScoredText = (SampleScore, Option<Vec<f32>>);

/// A quality scorer: turns sample texts into raw quality figures.
///
/// The pipeline depends only on this trait, so another scorer (for example a small model distilled
/// from these scores) can be added without touching it. Implementations must give every text the
/// same result whatever else is in the batch.
pub trait QualityScorer: Send {
    /// A short human-readable name, such as the model file name.
    fn name(&self) -> &str;

    /// Identifies the model and every setting that changes results. Stored with each score; a
    /// sample whose stored fingerprint differs from the scorer's needs rescoring.
    fn fingerprint(&self) -> &str;

    /// Scores `texts`, returning one result per text, in order.
    ///
    /// # Errors
    /// Fails only when the scorer itself fails (for example a llama.cpp decode error); bad sample
    /// text never makes it fail.
    fn score_batch(&mut self, texts: &[&str]) -> Result<Vec<SampleScore>, ScoreError>;

    /// Length of the embeddings [`Self::score_and_embed`] gives; `None` when it gives none.
    fn embedding_dim(&self) -> Option<usize> {
        None
    }

    /// Scores `texts` and, when [`Self::embedding_dim`] is `Some`, embeds every text long enough
    /// to be scored, from the same model pass. The default gives no embeddings.
    ///
    /// # Errors
    /// As [`Self::score_batch`].
    fn score_and_embed(&mut self, texts: &[&str]) -> Result<Vec<ScoredText>, ScoreError> {
        Ok(self
            .score_batch(texts)?
            .into_iter()
            .map(|s| (s, None))
            .collect())
    }
}
