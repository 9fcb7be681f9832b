//! The one error type of the diversity module.

use thiserror::Error;

/// What can go wrong in the diversity algorithms. Every variant names the fix.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum DiversityError {
    /// Clustering was asked for more topics than there are samples.
    #[error("{n} samples cannot form {k} topics: give at most {n} topics, or add samples")]
    TooFewSamples {
        /// Samples given.
        n: usize,
        /// Topics asked for.
        k: usize,
    },
    /// A parameter that must be at least one was zero (topics, dimensions, shingle size, ...).
    #[error("{what} must be at least 1")]
    Zero {
        /// The parameter.
        what: &'static str,
    },
    /// Vectors of dimension zero.
    #[error("vectors have dimension 0: embeddings need at least one dimension")]
    ZeroDim,
    /// A row-major buffer whose length is not a multiple of the dimension.
    #[error("a buffer of {len} values does not hold whole rows of dimension {dim}")]
    RaggedRows {
        /// Length of the buffer.
        len: usize,
        /// Expected row dimension.
        dim: usize,
    },
    /// Vectors whose dimension differs from the model's.
    #[error("vectors of dimension {got} given to a model of dimension {expected}: use the embedding the topics were fitted with, or refit")]
    DimMismatch {
        /// Dimension of the model.
        expected: usize,
        /// Dimension given.
        got: usize,
    },
    /// A NaN or infinite coordinate.
    #[error("row {row}, column {col} is not a finite number: check the embeddings of that sample")]
    NonFinite {
        /// Row (sample) index.
        row: usize,
        /// Column (dimension) index.
        col: usize,
    },
    /// A score that must be a finite number was not.
    #[error("{what} of sample {index} is not a finite number")]
    NonFiniteScore {
        /// Which input.
        what: &'static str,
        /// Sample index.
        index: usize,
    },
    /// Two parallel inputs of different lengths.
    #[error("{what}: {left} values against {right}")]
    LengthMismatch {
        /// Which inputs.
        what: &'static str,
        /// Length of the first.
        left: usize,
        /// Length of the second.
        right: usize,
    },
    /// A MinHash signature of the wrong length for the index or the other signature.
    #[error("MinHash signature of {got} values where {expected} are expected: compute all signatures with the same MinHasher")]
    SignatureLength {
        /// Expected number of values.
        expected: usize,
        /// Number given.
        got: usize,
    },
    /// LSH bands that need more signature values than a signature has.
    #[error(
        "{bands} bands x {rows} rows need {need} signature values, but signatures have {have}"
    )]
    BandsTooWide {
        /// Number of bands.
        bands: usize,
        /// Rows per band.
        rows: usize,
        /// bands * rows.
        need: usize,
        /// Signature length.
        have: usize,
    },
    /// A sample key inserted twice into an [`LshIndex`](super::LshIndex).
    #[error("sample {0} is already in the LSH index")]
    DuplicateKey(u64),
    /// A topic number outside the model.
    #[error("topic {topic} does not exist: the model has {k} topics")]
    NoSuchTopic {
        /// Topic asked for.
        topic: usize,
        /// Topics in the model.
        k: usize,
    },
}

/// Result alias of the diversity module.
pub type Result<T, E = DiversityError> = std::result::Result<T, E>;
