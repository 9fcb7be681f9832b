//! The names users give that the store keeps: source names (from input records, `--source`,
//! or an input's file name) and mix names. Both are printed in tables and reports and used as
//! keys, so they are checked where they come in: 1 to a bounded number of bytes, no control
//! characters (newline, tab, NUL, ...). Names already in a store are never changed.

/// Longest source name, in bytes of UTF-8.
pub const MAX_SOURCE_NAME_BYTES: usize = 256;

/// Longest mix name, in bytes of UTF-8.
pub const MAX_MIX_NAME_BYTES: usize = 128;

/// The most characters of a refused name a message repeats.
const SHOWN_CHARS: usize = 40;

/// Checks a source name; the reason when it is refused.
pub fn check_source_name(name: &str) -> Result<(), String> {
    check("source name", name, MAX_SOURCE_NAME_BYTES)
}

/// Checks a mix name; the reason when it is refused.
pub fn check_mix_name(name: &str) -> Result<(), String> {
    check("mix name", name, MAX_MIX_NAME_BYTES)
}

fn check(what: &str, name: &str, max_bytes: usize) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    if name.len() > max_bytes {
        return Err(format!(
            "the {what} {} is {} bytes long; the limit is {max_bytes} bytes",
            shown(name),
            name.len()
        ));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the {what} {} holds the control character U+{:04X}; names may not hold \
             newlines, tabs, NUL or other control characters",
            shown(name),
            u32::from(c)
        ));
    }
    Ok(())
}

/// A name as messages repeat it: quoted and escaped, its first [`SHOWN_CHARS`] characters.
fn shown(name: &str) -> String {
    match name.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{:?}...", &name[..cut]),
        None => format!("{name:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["web", "wiki-en", "Common Crawl 2026/10", "книги", "a"] {
            assert_eq!(check_source_name(ok), Ok(()));
            assert_eq!(check_mix_name(ok), Ok(()));
        }
        assert!(check_source_name(&"s".repeat(MAX_SOURCE_NAME_BYTES)).is_ok());
        assert!(check_mix_name(&"m".repeat(MAX_MIX_NAME_BYTES)).is_ok());
    }

    #[test]
    fn refuses_empty_long_and_control_characters() {
        assert_eq!(check_mix_name(""), Err("the mix name is empty".into()));
        let long = check_source_name(&"s".repeat(MAX_SOURCE_NAME_BYTES + 1)).unwrap_err();
        assert!(
            long.contains("257 bytes long; the limit is 256 bytes"),
            "{long}"
        );
        assert!(long.contains(&format!("{:?}...", "s".repeat(40))), "{long}");
        let long = check_mix_name(&"é".repeat(65)).unwrap_err();
        assert!(
            long.contains("130 bytes long; the limit is 128 bytes"),
            "{long}"
        );
        for (bad, code) in [("a\nb", "U+000A"), ("a\0", "U+0000"), ("\tx", "U+0009")] {
            let r = check_source_name(bad).unwrap_err();
            assert!(r.contains(code), "{r}");
            assert!(!r.contains('\n') && !r.contains('\0'), "{r}");
            assert!(check_mix_name(bad).is_err());
        }
        assert!(check_source_name("x\u{85}").is_err());
    }
}
