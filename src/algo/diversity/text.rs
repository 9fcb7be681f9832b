//! Words as every algorithm of this module sees them.
//!
//! A word is a maximal run of Unicode alphanumeric characters or `_` (so `snake_case` identifiers
//! stay whole and punctuation, spaces and operators separate words), lowercased with Unicode
//! rules. No stemming and no stop list: the contrast statistics that use words (idf, topic terms)
//! discount frequent words by themselves.

/// Calls `f` with each lowercased word of `text`, in order, reusing one buffer.
pub fn for_each_word(text: &str, mut f: impl FnMut(&str)) {
    let mut buf = String::with_capacity(32);
    for ch in text.chars() {
        if ch.is_alphanumeric() || ch == '_' {
            if ch.is_ascii() {
                buf.push(ch.to_ascii_lowercase());
            } else {
                buf.extend(ch.to_lowercase());
            }
        } else if !buf.is_empty() {
            f(&buf);
            buf.clear();
        }
    }
    if !buf.is_empty() {
        f(&buf);
    }
}

/// Calls `f` with each token of `text`, in order: the lowercased words of [`for_each_word`], and
/// every other character that is neither a letter, a digit, `_` nor white space (punctuation,
/// brackets, operators) as a token of its own. Punctuation carries the form of a text (code,
/// lists, dialogue), which the embedding uses and shingles ignore.
pub fn for_each_token(text: &str, mut f: impl FnMut(&str)) {
    let mut buf = String::with_capacity(32);
    let mut sym = [0u8; 4];
    for ch in text.chars() {
        if ch.is_alphanumeric() || ch == '_' {
            if ch.is_ascii() {
                buf.push(ch.to_ascii_lowercase());
            } else {
                buf.extend(ch.to_lowercase());
            }
            continue;
        }
        if !buf.is_empty() {
            f(&buf);
            buf.clear();
        }
        if !ch.is_whitespace() {
            f(ch.encode_utf8(&mut sym));
        }
    }
    if !buf.is_empty() {
        f(&buf);
    }
}

/// The lowercased words of `text`, in order.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for_each_word(text, |w| out.push(w.to_owned()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_punctuation_and_lowercase() {
        assert_eq!(
            words("Hello, World! foo_bar=baz(2) ÉTÉ"),
            ["hello", "world", "foo_bar", "baz", "2", "été"]
        );
        assert!(words("  ,;- ").is_empty());
        assert!(words("").is_empty());
        let mut toks = Vec::new();
        for_each_token("f(x) = x_1;  É", |t| toks.push(t.to_owned()));
        assert_eq!(toks, ["f", "(", "x", ")", "=", "x_1", ";", "é"]);
    }
}
