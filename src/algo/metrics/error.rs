//! The one error type of the eval module.

use thiserror::Error;

/// What can go wrong when judging a mix. Every variant says what to do.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EvalError {
    /// A byte n-gram order outside `1..=MAX_ORDER`.
    #[error("n-gram order {order} is out of range: give an order from 1 to {max}")]
    BadOrder {
        /// The order given.
        order: usize,
        /// The largest order supported (n-grams are packed into 64 bits).
        max: usize,
    },
}

/// Result type of the eval module.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
