//! [`Tokenizer`]: what the token export needs of a tokenizer. The GGUF vocabulary
//! (`stages::score::GgufTokenizer`) implements it; the export stage takes any.

/// A tokenizer that turns texts into token ids.
pub trait Tokenizer: Sync {
    /// Appends the token ids of `text` to `out`.
    fn tokenize_into(&self, text: &str, out: &mut Vec<u32>);
    /// Ids in the vocabulary (every id is below it).
    fn n_vocab(&self) -> u32;
    /// The end-of-document id.
    fn eos(&self) -> u32;
    /// Kind of tokenizer, for manifests (`gguf`).
    fn kind(&self) -> &str;
    /// The file it was loaded from, for manifests.
    fn source(&self) -> String;
    /// A hash of that file (hex), for manifests.
    fn file_hash(&self) -> &str;
}
