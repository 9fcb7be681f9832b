//! One JSONL line (or Parquet row as JSON) to one record: UTF-8 and JSON checks, field
//! renaming (dotted names reach into nested objects), the dedup hash of the
//! whitespace-normalised text and the pre-scoring token estimate. Pure functions, run in
//! parallel over a chunk of lines.

use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

/// Names of the input fields (`--text-field`, `--id-field`, `--source-field`).
#[derive(Clone, Debug)]
pub struct FieldNames {
    /// Field holding the text (required, a non-empty string).
    pub text: String,
    /// Field holding the id (optional, a string or an integer).
    pub id: String,
    /// Field holding the source (optional, a string).
    pub source: String,
    /// Field holding the metadata (optional, any JSON).
    pub metadata: String,
}

impl Default for FieldNames {
    fn default() -> Self {
        FieldNames {
            text: "text".into(),
            id: "id".into(),
            source: "source".into(),
            metadata: "metadata".into(),
        }
    }
}

/// A record that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The id, if the line has one.
    pub id: Option<String>,
    /// The source, if the line has one.
    pub source: Option<String>,
    /// The text as given.
    pub text: String,
    /// Compact JSON of the metadata object plus unknown top-level fields.
    pub metadata: Option<String>,
    /// xxh3-128 of the whitespace-normalised text.
    pub hash: u128,
}

impl Parsed {
    /// The id a sample without one gets: the upper 64 bits of its text hash, in hex.
    pub fn default_id(&self) -> String {
        format!("{:016x}", (self.hash >> 64) as u64)
    }
}

/// Hash of a text with every run of Unicode whitespace replaced by one space and the ends
/// trimmed, so that re-wrapped or re-indented copies count as exact duplicates.
pub fn normalised_hash(text: &str) -> u128 {
    let mut h = Xxh3::new();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            h.update(b" ");
        }
        h.update(word.as_bytes());
    }
    h.digest128()
}

/// Token estimate used until a sample is scored by the reference model: one token per 4 bytes
/// of UTF-8, rounded up (English BPE tokenizers average about 4 characters a token).
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX)
}

/// Parses and checks one line. The error is the reason the line is rejected.
pub fn parse(line: &[u8], names: &FieldNames) -> Result<Parsed, String> {
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {} of the line", e.valid_up_to() + 1))?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("recursion limit exceeded") {
            format!("JSON nested more than 128 levels deep ({msg})")
        } else {
            format!("malformed JSON: {msg}")
        }
    })?;
    let Value::Object(mut obj) = value else {
        return Err(format!("not a JSON object (a JSON {})", kind(&value)));
    };
    let text = match take_field(&mut obj, &names.text) {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => return Err(format!("missing text field {:?}", names.text)),
        Some(other) => {
            return Err(format!(
                "text field {:?} is a {}, not a string",
                names.text,
                kind(&other)
            ))
        }
    };
    if text.trim().is_empty() {
        return Err(format!(
            "text field {:?} is empty or whitespace only",
            names.text
        ));
    }
    let id = match take_field(&mut obj, &names.id) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => {
            return Err(format!("id field {:?} is an empty string", names.id))
        }
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        Some(other) => {
            return Err(format!(
                "id field {:?} is a {}, not a string or an integer",
                names.id,
                kind(&other)
            ))
        }
    };
    let source = match take_field(&mut obj, &names.source) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            crate::names::check_source_name(&s)
                .map_err(|r| format!("source field {:?}: {r}", names.source))?;
            Some(s)
        }
        Some(other) => {
            return Err(format!(
                "source field {:?} is a {}, not a string",
                names.source,
                kind(&other)
            ))
        }
    };
    let metadata = merge_metadata(take_field(&mut obj, &names.metadata), obj);
    let hash = normalised_hash(&text);
    Ok(Parsed {
        id,
        source,
        text,
        metadata: metadata.map(|m| m.to_string()),
        hash,
    })
}

/// Takes the field `name` out of `obj`: a top-level field of that name, or else a dotted path
/// into nested objects (`meta.url`), whose last field is taken out of its object.
fn take_field(obj: &mut Map<String, Value>, name: &str) -> Option<Value> {
    if let Some(v) = obj.remove(name) {
        return Some(v);
    }
    let (head, rest) = name.split_once('.')?;
    match obj.get_mut(head) {
        Some(Value::Object(inner)) => take_field(inner, rest),
        _ => None,
    }
}

/// The metadata field, with any other top-level fields (url, date, ...) kept beside it.
fn merge_metadata(metadata: Option<Value>, rest: Map<String, Value>) -> Option<Value> {
    match (metadata, rest.is_empty()) {
        (None | Some(Value::Null), true) => None,
        (Some(m), true) => Some(m),
        (None | Some(Value::Null), false) => Some(Value::Object(rest)),
        (Some(Value::Object(mut m)), false) => {
            for (k, v) in rest {
                m.entry(k).or_insert(v);
            }
            Some(Value::Object(m))
        }
        (Some(other), false) => {
            let mut m = rest;
            m.insert("metadata".into(), other);
            Some(Value::Object(m))
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Result<Parsed, String> {
        parse(line.as_bytes(), &FieldNames::default())
    }

    #[test]
    fn accepts_a_full_record() {
        let r =
            p(r#"{"id":"a1","text":"Hello  world","source":"web","metadata":{"k":1},"url":"u"}"#)
                .unwrap();
        assert_eq!(r.id.as_deref(), Some("a1"));
        assert_eq!(r.source.as_deref(), Some("web"));
        assert_eq!(r.text, "Hello  world");
        let meta: Value = serde_json::from_str(r.metadata.as_deref().unwrap()).unwrap();
        assert_eq!(meta, serde_json::json!({"k": 1, "url": "u"}));
    }

    #[test]
    fn integer_ids_become_strings() {
        assert_eq!(
            p(r#"{"id":17,"text":"x y"}"#).unwrap().id.as_deref(),
            Some("17")
        );
        assert!(p(r#"{"id":1.5,"text":"x y"}"#)
            .unwrap_err()
            .contains("not a string or an integer"));
    }

    #[test]
    fn rejects_with_reasons() {
        assert!(p("{not json").unwrap_err().starts_with("malformed JSON"));
        assert!(p("[1,2]")
            .unwrap_err()
            .contains("not a JSON object (a JSON array)"));
        assert!(p(r#"{"body":"x"}"#)
            .unwrap_err()
            .contains("missing text field \"text\""));
        assert!(p(r#"{"text":5}"#)
            .unwrap_err()
            .contains("is a number, not a string"));
        assert!(p(r#"{"text":"  \n\t "}"#)
            .unwrap_err()
            .contains("empty or whitespace only"));
        assert!(parse(b"{\"text\":\"\xff\"}", &FieldNames::default())
            .unwrap_err()
            .contains("invalid UTF-8 at byte 10"));
        let deep = format!(
            "{{\"text\":\"x\",\"metadata\":{}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(p(&deep)
            .unwrap_err()
            .contains("nested more than 128 levels"));
    }

    #[test]
    fn source_names_are_bounded_and_printable() {
        let r = p(r#"{"text":"x y","source":"a\nb"}"#).unwrap_err();
        assert!(
            r.starts_with("source field \"source\": the source name \"a\\nb\" holds"),
            "{r}"
        );
        let long = format!(r#"{{"text":"x y","source":"{}"}}"#, "s".repeat(257));
        assert!(p(&long).unwrap_err().contains("the limit is 256 bytes"));
        let ok = format!(r#"{{"text":"x y","source":"{}"}}"#, "s".repeat(256));
        assert_eq!(p(&ok).unwrap().source.map(|s| s.len()), Some(256));
        assert!(p(r#"{"text":"x y","source":"nul\u0000"}"#).is_err());
    }

    #[test]
    fn renamed_fields() {
        let names = FieldNames {
            text: "content".into(),
            id: "doc_id".into(),
            source: "domain".into(),
            metadata: "metadata".into(),
        };
        let r = parse(
            br#"{"content":"abc def","doc_id":"d","domain":"books"}"#,
            &names,
        )
        .unwrap();
        assert_eq!(
            (r.id.as_deref(), r.source.as_deref()),
            (Some("d"), Some("books"))
        );
    }

    #[test]
    fn dotted_names_reach_into_nested_objects() {
        let names = FieldNames {
            text: "doc.body".into(),
            id: "meta.ids.main".into(),
            source: "meta.site".into(),
            metadata: "metadata".into(),
        };
        let r = parse(
            br#"{"doc":{"body":"a b"},"meta":{"ids":{"main":7},"site":"web","url":"u"}}"#,
            &names,
        )
        .unwrap();
        assert_eq!(r.text, "a b");
        assert_eq!(
            (r.id.as_deref(), r.source.as_deref()),
            (Some("7"), Some("web"))
        );
        let meta: Value = serde_json::from_str(r.metadata.as_deref().unwrap()).unwrap();
        assert_eq!(
            meta,
            serde_json::json!({"doc": {}, "meta": {"ids": {}, "url": "u"}})
        );
        // A top-level field named with the dot wins.
        let r = parse(br#"{"doc.body":"x y","doc":{"body":"no"}}"#, &names).unwrap();
        assert_eq!(r.text, "x y");
        assert!(parse(br#"{"doc":"flat"}"#, &names)
            .unwrap_err()
            .contains("missing text field \"doc.body\""));
    }

    #[test]
    fn whitespace_does_not_change_the_hash() {
        assert_eq!(normalised_hash("a b\nc"), normalised_hash("  a\t b  c \n"));
        assert_ne!(normalised_hash("a b c"), normalised_hash("a bc"));
        assert_eq!(estimate_tokens("abcdefghi"), 3);
    }
}
