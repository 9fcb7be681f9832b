//! [`GgufTokenizer`]: a GGUF model's own vocabulary through llama.cpp, loaded without weights,
//! for token export.
//!
//! Texts are tokenized the way the scorer tokenizes samples: no BOS added, special-token text
//! taken literally. Decoding renders every token's bytes, special tokens included.

use std::path::{Path, PathBuf};

use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::LlamaModelLoadError;

use super::llama::backend;
use super::{fingerprint, gguf, ScoreError};

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
