//! The one error type of the transformer judge.

use thiserror::Error;

/// What can go wrong when training or applying the judge. Every variant says what to do.
#[derive(Debug, Error)]
pub enum JudgeError {
    /// Settings that cannot describe a model or a run.
    #[error("transformer judge settings: {0}")]
    Settings(String),
    /// Too little text to train on or to judge with.
    #[error("transformer judge: {0}")]
    Data(String),
    /// The tensor library failed (out of memory, a shape bug).
    #[error("transformer judge: tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
}

/// Result type of the judge.
pub type Result<T, E = JudgeError> = std::result::Result<T, E>;
