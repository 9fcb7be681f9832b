//! Opening JSONL inputs and splitting them into lines: plain, gzip or zstd files and stdin, detected
//! by extension or by magic bytes, read through a line reader that never holds more than the
//! line-length limit in memory and drops a UTF-8 byte-order mark at the start of the text.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One input given to `append`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// `-` is stdin, anything else a path.
    pub fn parse(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(arg))
        }
    }

    /// The name used in messages and in `origin_file`.
    pub fn display_name(&self) -> String {
        match self {
            Input::Stdin => "-".into(),
            Input::File(p) => p.display().to_string(),
        }
    }

    /// The source name a file implies: its name up to the first dot (`web.jsonl.gz` → `web`).
    pub fn implied_source(&self) -> String {
        match self {
            Input::Stdin => "stdin".into(),
            Input::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy())
                .and_then(|n| n.split('.').next().map(str::to_string))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

/// Compression of an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain text.
    None,
    /// gzip (one or more members).
    Gzip,
    /// zstd (one or more frames).
    Zstd,
}

impl Compression {
    fn from_magic(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Counts the bytes read from the underlying file (compressed bytes for compressed inputs).
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An opened input: its decompressed line stream and how far into the raw bytes it has read.
pub struct Opened {
    /// Lines of the decompressed input.
    pub lines: LineReader<Box<dyn BufRead + Send>>,
    /// Compression detected.
    pub compression: Compression,
    /// Size of the raw file, when known.
    pub size: Option<u64>,
    /// Raw bytes consumed so far.
    pub consumed: Arc<AtomicU64>,
}

/// Why an input could not be opened.
#[derive(Debug)]
pub struct OpenError(pub String);

/// Opens an input for reading, decompressing by magic bytes (the extension is only a hint).
pub fn open(input: &Input, max_line_bytes: usize) -> Result<Opened, OpenError> {
    let consumed = Arc::new(AtomicU64::new(0));
    let (raw, size): (Box<dyn Read + Send>, Option<u64>) = match input {
        Input::Stdin => (Box::new(io::stdin()), None),
        Input::File(path) => {
            let meta = std::fs::metadata(path).map_err(|e| OpenError(describe_open(path, &e)))?;
            if meta.is_dir() {
                return Err(OpenError("is a directory with no files to read".into()));
            }
            let file = File::open(path).map_err(|e| OpenError(describe_open(path, &e)))?;
            (Box::new(file), Some(meta.len()))
        }
    };
    let counted = Counting {
        inner: raw,
        count: consumed.clone(),
    };
    let mut buffered = BufReader::with_capacity(1 << 20, counted);
    let head = buffered
        .fill_buf()
        .map_err(|e| OpenError(format!("cannot read: {e}")))?;
    if matches!(input, Input::Stdin) && head.starts_with(super::parquet::PARQUET_MAGIC) {
        return Err(OpenError(
            "Parquet cannot be read from standard input (it is read from its footer): \
             give the file's path"
                .into(),
        ));
    }
    let compression = Compression::from_magic(head);
    let reader: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(buffered),
        )),
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::with_buffer(buffered)
                .map_err(|e| OpenError(format!("cannot start zstd decoding: {e}")))?;
            Box::new(BufReader::with_capacity(1 << 20, decoder))
        }
    };
    Ok(Opened {
        lines: LineReader::new(reader, max_line_bytes),
        compression,
        size,
        consumed,
    })
}

fn describe_open(path: &Path, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => format!("cannot open {}: {e}", path.display()),
    }
}

/// One item of a line stream.
#[derive(Debug, PartialEq, Eq)]
pub enum LineItem {
    /// A line (without its `\n` or `\r\n`), with its 1-based number.
    Line(u64, Vec<u8>),
    /// A line longer than the limit, skipped without being held in memory.
    TooLong(u64, u64),
}

/// The UTF-8 byte-order mark some editors put at the start of a text file.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Splits a byte stream into lines, skipping (and measuring) lines longer than a limit. A UTF-8
/// byte-order mark at the very start of the stream is not part of line 1.
pub struct LineReader<R> {
    inner: R,
    max: usize,
    line_no: u64,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    /// A reader that refuses lines longer than `max` bytes.
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            max,
            line_no: 0,
            done: false,
        }
    }

    /// Number of the last line returned.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The next line; `None` at the end; an error when the stream breaks (the line number of
    /// the failure is `line_no() + 1`).
    pub fn next_line(&mut self) -> Option<io::Result<LineItem>> {
        if self.done {
            return None;
        }
        let mut buf = Vec::new();
        let mut len: u64 = 0;
        let mut too_long = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if avail.is_empty() {
                self.done = true;
                if len == 0 {
                    return None;
                }
                break;
            }
            let (chunk, found) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], true),
                None => (avail, false),
            };
            len += chunk.len() as u64;
            if !too_long {
                if len > self.max as u64 {
                    too_long = true;
                    buf = Vec::new();
                } else {
                    buf.extend_from_slice(chunk);
                }
            }
            let used = chunk.len() + usize::from(found);
            self.inner.consume(used);
            if found {
                break;
            }
        }
        self.line_no += 1;
        if too_long {
            return Some(Ok(LineItem::TooLong(self.line_no, len)));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        if self.line_no == 1 && buf.starts_with(UTF8_BOM) {
            buf.drain(..UTF8_BOM.len());
        }
        Some(Ok(LineItem::Line(self.line_no, buf)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8], max: usize) -> Vec<LineItem> {
        let mut r = LineReader::new(io::Cursor::new(data.to_vec()), max);
        let mut out = Vec::new();
        while let Some(item) = r.next_line() {
            out.push(item.unwrap());
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        let got = lines(b"a\r\nbb\n\nccc", 10);
        assert_eq!(
            got,
            vec![
                LineItem::Line(1, b"a".to_vec()),
                LineItem::Line(2, b"bb".to_vec()),
                LineItem::Line(3, b"".to_vec()),
                LineItem::Line(4, b"ccc".to_vec()),
            ]
        );
    }

    #[test]
    fn long_lines_are_skipped_and_measured() {
        let mut data = vec![b'x'; 5000];
        data.extend_from_slice(b"\nok\n");
        let mut r = LineReader::new(io::BufReader::with_capacity(64, io::Cursor::new(data)), 100);
        assert_eq!(r.next_line().unwrap().unwrap(), LineItem::TooLong(1, 5000));
        assert_eq!(
            r.next_line().unwrap().unwrap(),
            LineItem::Line(2, b"ok".to_vec())
        );
        assert!(r.next_line().is_none());
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped_only_at_the_start() {
        let got = lines(b"\xEF\xBB\xBF{\"text\":\"a\"}\n\xEF\xBB\xBFx\n", 100);
        assert_eq!(
            got,
            vec![
                LineItem::Line(1, br#"{"text":"a"}"#.to_vec()),
                LineItem::Line(2, b"\xEF\xBB\xBFx".to_vec()),
            ]
        );
        // A reader that hands out one byte at a time splits the mark across reads.
        let data = b"\xEF\xBB\xBFok\n".to_vec();
        let mut r = LineReader::new(io::BufReader::with_capacity(1, io::Cursor::new(data)), 10);
        assert_eq!(
            r.next_line().unwrap().unwrap(),
            LineItem::Line(1, b"ok".to_vec())
        );
        assert_eq!(lines(b"\xEF\xBB\xBF", 10), vec![LineItem::Line(1, vec![])]);
    }

    #[test]
    fn implied_source_is_the_name_before_the_first_dot() {
        assert_eq!(Input::parse("/x/web.jsonl.gz").implied_source(), "web");
        assert_eq!(Input::parse("-").implied_source(), "stdin");
        assert_eq!(Input::parse("-"), Input::Stdin);
    }
}
