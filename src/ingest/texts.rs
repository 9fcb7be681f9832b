//! Whole-file reading of texts, for inputs that are read at once rather than appended: the
//! reference and negative sets of `quality train`. The same opening, decompression, line limit
//! and record checks as `append`; bad lines are skipped and named, never fatal.

use super::input::{self, Input, LineItem};
use super::record::{parse, FieldNames};
use crate::error::{Error, Result};

/// Longest line read (as `append`'s default).
const MAX_LINE_BYTES: usize = 64 << 20;

/// The texts of some inputs, with their normalised hashes ([`super::normalised_hash`]).
#[derive(Clone, Debug, Default)]
pub struct Texts {
    /// The texts, in input and line order.
    pub texts: Vec<String>,
    /// xxh3-128 of each whitespace-normalised text, as `append` keys its duplicates.
    pub hashes: Vec<u128>,
    /// The source field of each record (empty when it has none).
    pub sources: Vec<String>,
    /// Compact JSON of each record's metadata plus unknown top-level fields, as `append` stores it.
    pub metadata: Vec<Option<String>>,
    /// Lines left out, as `file:line: reason`.
    pub skipped: Vec<String>,
}

/// Reads every record of `inputs` (JSONL, plain, gzip or zstd). A line that is too long or
/// fails the record checks is skipped and listed; an input that cannot be opened or read to the
/// end is an error naming it.
pub fn read_texts(inputs: &[Input]) -> Result<Texts> {
    let names = FieldNames::default();
    let mut out = Texts::default();
    for inp in inputs {
        let name = inp.display_name();
        let mut opened = input::open(inp, MAX_LINE_BYTES)
            .map_err(|e| Error::Invalid(format!("{name}: {}", e.0)))?;
        while let Some(item) = opened.lines.next_line() {
            let item = item.map_err(|e| {
                Error::Invalid(format!(
                    "{name}:{}: cannot read further: {e}",
                    opened.lines.line_no() + 1
                ))
            })?;
            match item {
                LineItem::TooLong(line, len) => out
                    .skipped
                    .push(format!("{name}:{line}: line of {len} bytes is too long")),
                LineItem::Line(line, bytes) => {
                    if bytes.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match parse(&bytes, &names) {
                        Ok(p) => {
                            out.hashes.push(p.hash);
                            out.texts.push(p.text);
                            out.sources.push(p.source.unwrap_or_default());
                            out.metadata.push(p.metadata);
                        }
                        Err(reason) => out.skipped.push(format!("{name}:{line}: {reason}")),
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_texts_and_names_bad_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ref.jsonl");
        std::fs::write(
            &path,
            "{\"text\": \"one  text\"}\nnot json\n\n{\"text\": \"two\"}\n",
        )
        .expect("write");
        let t = read_texts(&[Input::File(path.clone())]).expect("reads");
        assert_eq!(t.texts, ["one  text", "two"]);
        assert_eq!(t.hashes[0], crate::ingest::normalised_hash("one text"));
        assert_eq!(t.skipped.len(), 1);
        assert!(t.skipped[0].starts_with(&format!("{}:2: ", path.display())));
        let missing = read_texts(&[Input::File(dir.path().join("absent.jsonl"))]);
        assert!(missing.unwrap_err().to_string().contains("absent.jsonl"));
    }
}
