//! The quality-scorer tests' part of the harness: the real default model and fixed real texts.
//!
//! The texts are excerpts of files that ship with Debian 12 (licence texts, package docs, Python
//! 3.11 sources), chosen to cover legal prose, technical prose, Markdown, docstrings and code,
//! plus two non-English sentences (Article 1 of the Universal Declaration of Human Rights) and a
//! short chat message with emoji.

/// legal prose: GNU GPL v3 preamble (/usr/share/common-licenses/GPL-3).
pub const GPL_PREAMBLE: &str = r###"The licenses for most software and other practical works are designed
to take away your freedom to share and change the works.  By contrast,
the GNU General Public License is intended to guarantee your freedom to
share and change all versions of a program--to make sure it remains free
software for all its users.  We, the Free Software Foundation, use the
GNU General Public License for most of our software; it applies also to
any other work released this way by its authors.  You can apply it to
your programs, too.

  When we speak of free software, we are referring to freedom, not
price.  Our General Public Licenses are designed to make sure that you
have the freedom to distribute copies of free software (and charge for
them if you wish), that you receive source code or can get it if you
want it, that you can change the software or use pieces of it in new
free programs, and that you know you can do these things.

  To protect your rights, we need to prevent others from denying you
these rights or asking you to surrender the rights.  Therefore, you have
certain responsibilities if you distribute copies of the software, or if
you modify it: responsibilities to respect the freedom of others.

  For example, if you distribute copies of such a program, whether
gratis or for a fee, you must pass on to the recipients the same
freedoms that you received.  You must make sure that they, too, receive
or can get the source code.  And you must show them these terms so they
know their rights."###;

/// legal prose: Apache License 2.0, section 2 (/usr/share/common-licenses/Apache-2.0).
pub const APACHE_GRANT: &str = r###"2. Grant of Copyright License. Subject to the terms and conditions of
      this License, each Contributor hereby grants to You a perpetual,
      worldwide, non-exclusive, no-charge, royalty-free, irrevocable
      copyright license to reproduce, prepare Derivative Works of,
      publicly display, publicly perform, sublicense, and distribute the
      Work and such Derivative Works in Source or Object form."###;

/// technical Q&A: zlib FAQ, questions 4-5 (zlib1g-dev FAQ).
pub const ZLIB_FAQ: &str = r###"4. compress() returns Z_BUF_ERROR.

    Make sure that before the call of compress(), the length of the compressed
    buffer is equal to the available size of the compressed buffer and not
    zero.  For Visual Basic, check that this parameter is passed by reference
    ("as any"), not by value ("as long").

 5. deflate() or inflate() returns Z_BUF_ERROR.

    Before making the call, make sure that avail_in and avail_out are not zero.
    When setting the parameter flush equal to Z_FINISH, also make sure that
    avail_out is big enough to allow processing all pending input.  Note that a
    Z_BUF_ERROR is not fatal--another call to deflate() or inflate() can be
    made with more input or output space.  A Z_BUF_ERROR may in fact be
    unavoidable depending on how the functions are used, since it is not
    possible to tell whether or not there is more output pending when
    strm.avail_out returns with zero.  See http://zlib.net/zlib_how.html for a
    heavily annotated example."###;

/// technical prose: libffi README.
pub const LIBFFI_README: &str = r###"Compilers for high level languages generate code that follow certain
conventions. These conventions are necessary, in part, for separate
compilation to work. One such convention is the "calling
convention". The "calling convention" is essentially a set of
assumptions made by the compiler about where function arguments will
be found on entry to a function. A "calling convention" also specifies
where the return value for a function is found.

Some programs may not know at the time of compilation what arguments
are to be passed to a function. For instance, an interpreter may be
told at run-time about the number and types of arguments used to call
a given function. Libffi can be used in such programs to provide a
bridge from the interpreter program to compiled code."###;

/// Markdown with links: zstd README.
pub const ZSTD_README: &str = r###"__Zstandard__, or `zstd` as short version, is a fast lossless compression algorithm,
targeting real-time compression scenarios at zlib-level and better compression ratios.
It's backed by a very fast entropy stage, provided by [Huff0 and FSE library](https://github.com/Cyan4973/FiniteStateEntropy).

Zstandard's format is stable and documented in [RFC8878](https://datatracker.ietf.org/doc/html/rfc8878). Multiple independent implementations are already available.
This repository represents the reference implementation, provided as an open-source dual [BSD](LICENSE) and [GPLv2](COPYING) licensed **C** library,
and a command line utility producing and decoding `.zst`, `.gz`, `.xz` and `.lz4` files.
Should your project require another programming language,
a list of known ports and bindings is provided on [Zstandard homepage](https://facebook.github.io/zstd/#other-languages)."###;

/// docstring with doctests: Python 3.11 json/__init__.py.
pub const PY_JSON_DOC: &str = r###"r"""JSON (JavaScript Object Notation) <https://json.org> is a subset of
JavaScript syntax (ECMA-262 3rd edition) used as a lightweight data
interchange format.

:mod:`json` exposes an API familiar to users of the standard library
:mod:`marshal` and :mod:`pickle` modules.  It is derived from a
version of the externally maintained simplejson library.

Encoding basic Python object hierarchies::

    >>> import json
    >>> json.dumps(['foo', {'bar': ('baz', None, 1.0, 2)}])
    '["foo", {"bar": ["baz", null, 1.0, 2]}]'
    >>> print(json.dumps("\"foo\bar"))
    "\"foo\bar"
    >>> print(json.dumps('\u1234'))
    "\u1234"
    >>> print(json.dumps('\\'))
    "\\"
    >>> print(json.dumps({"c": 0, "b": 0, "a": 0}, sort_keys=True))
    {"a": 0, "b": 0, "c": 0}
    >>> from io import StringIO
    >>> io = StringIO()
    >>> json.dump(['streaming API'], io)
    >>> io.getvalue()
    '["streaming API"]'"###;

/// Python code: Python 3.11 heapq.py.
pub const PY_HEAPQ: &str = r###"def heappush(heap, item):
    """Push item onto heap, maintaining the heap invariant."""
    heap.append(item)
    _siftdown(heap, 0, len(heap)-1)

def heappop(heap):
    """Pop the smallest item off the heap, maintaining the heap invariant."""
    lastelt = heap.pop()    # raises appropriate IndexError if heap is empty
    if heap:
        returnitem = heap[0]
        heap[0] = lastelt
        _siftup(heap, 0)
        return returnitem
    return lastelt"###;

/// Python code with regex: Python 3.11 textwrap.py.
pub const PY_TEXTWRAP: &str = r###"def _split(self, text):
        """_split(text : string) -> [string]

        Split the text to wrap into indivisible chunks.  Chunks are
        not quite the same as words; see _wrap_chunks() for full
        details.  As an example, the text
          Look, goof-ball -- use the -b option!
        breaks into the following chunks:
          'Look,', ' ', 'goof-', 'ball', ' ', '--', ' ',
          'use', ' ', 'the', ' ', '-b', ' ', 'option!'
        if break_on_hyphens is True, or in:
          'Look,', ' ', 'goof-ball', ' ', '--', ' ',
          'use', ' ', 'the', ' ', '-b', ' ', option!'
        otherwise.
        """
        if self.break_on_hyphens is True:
            chunks = self.wordsep_re.split(text)
        else:
            chunks = self.wordsep_simple_re.split(text)
        chunks = [c for c in chunks if c]
        return chunks"###;
/// Chinese: UDHR Article 1.
pub const CHINESE: &str =
    "人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心，并应以兄弟关系的精神相对待。";

/// Arabic: UDHR Article 1.
pub const ARABIC: &str = "يولد جميع الناس أحرارًا متساوين في الكرامة والحقوق. وقد وهبوا عقلاً وضميرًا وعليهم أن يعامل بعضهم بعضًا بروح الإخاء.";

/// A chat message with emoji.
pub const EMOJI_CHAT: &str =
    "omg the train is late AGAIN 😤🚆 see you at 7 instead? 🍕🍻 save me a seat!! 🙏";

/// A short sentence.
pub const SHORT: &str = "Thanks, see you tomorrow.";

/// The varied real texts used by batching tests, longest to shortest in no particular order.
pub const VARIED: [&str; 12] = [
    GPL_PREAMBLE,
    SHORT,
    APACHE_GRANT,
    ZLIB_FAQ,
    CHINESE,
    LIBFFI_README,
    ZSTD_README,
    EMOJI_CHAT,
    PY_JSON_DOC,
    PY_HEAPQ,
    ARABIC,
    PY_TEXTWRAP,
];

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock};

use samplemix::stages::score::{default_model_path, LlamaScorer, LlamaSettings};

/// The default model's path. Panics (failing the test, not skipping it) when the model is missing.
pub fn model_path() -> PathBuf {
    let path = default_model_path();
    assert!(
        path.is_file(),
        "the default model is missing at {}: run tools/fetch-model.sh (the scorer tests use the \
         real model)",
        path.display()
    );
    path
}

/// Loads the default model with `settings`, panicking with the error's message on failure.
pub fn load(settings: LlamaSettings) -> LlamaScorer {
    let path = model_path();
    LlamaScorer::load(&path, settings).unwrap_or_else(|e| panic!("{e}"))
}

/// Settings used by the tests: 2 threads, default otherwise.
pub fn test_settings() -> LlamaSettings {
    LlamaSettings {
        threads: 2,
        ..LlamaSettings::default()
    }
}

/// One scorer with [`test_settings`] per test binary; tests take turns with it.
pub fn shared() -> MutexGuard<'static, LlamaScorer> {
    static SCORER: OnceLock<Mutex<LlamaScorer>> = OnceLock::new();
    SCORER
        .get_or_init(|| Mutex::new(load(test_settings())))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
