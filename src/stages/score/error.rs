//! Errors of the scoring module. Each message names the file involved and says what to do.

use std::path::PathBuf;

/// Why a scorer could not be built or could not score.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// The model file does not exist.
    #[error(
        "model file {path} does not exist: run tools/fetch-model.sh to fetch the default model \
         (it prints the path), or point SAMPLEMIX_MODEL at another GGUF file"
    )]
    ModelNotFound {
        /// The path that was looked up.
        path: PathBuf,
    },

    /// The file exists but is not a GGUF model.
    #[error(
        "{path} is not a GGUF model file ({reason}): pass a .gguf file, or run \
         tools/fetch-model.sh for the default model"
    )]
    NotGguf {
        /// The offending file.
        path: PathBuf,
        /// What the header check found.
        reason: String,
    },

    /// The file looks like GGUF but llama.cpp could not load it.
    #[error(
        "llama.cpp could not load {path}: the GGUF file is truncated, corrupt or of an unsupported \
         architecture; fetch it again (tools/fetch-model.sh for the default model)"
    )]
    ModelLoad {
        /// The offending file.
        path: PathBuf,
    },

    /// Reading the model file failed.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The settings cannot work (for example zero threads).
    #[error("invalid scoring settings: {0}")]
    Settings(String),

    /// The llama.cpp backend could not be started.
    #[error("llama.cpp backend could not start: {0}")]
    Backend(String),

    /// llama.cpp could not create a context.
    #[error(
        "llama.cpp could not create a scoring context for {path} ({reason}); lower --batch-tokens \
         or --max-tokens if memory is short"
    )]
    Context {
        /// The model the context was for.
        path: PathBuf,
        /// What failed.
        reason: String,
    },

    /// A llama.cpp decode call failed or produced unusable logits.
    #[error(
        "llama.cpp failed to evaluate a batch with {path}: {reason}; nothing from this batch was \
         kept, so running again retries it"
    )]
    Decode {
        /// The model in use.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}
