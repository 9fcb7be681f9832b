//! Progress bars on stderr, drawn only when stderr is a terminal, and the reporting of rejected
//! records (stderr lines and the optional rejects file).

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use samplemix::stages::append::{AppendObserver, FileReport, Reject};
use samplemix::stages::score::ScoreObserver;
use std::time::Instant;

/// A bar on stderr with an indicatif `template` (`=> ` as the bar's characters), `len` steps
/// long or open-ended. The one place bars are styled.
pub fn bar(len: Option<u64>, template: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("the templates are constants, checked by a test")
            .progress_chars("=> "),
    );
    bar
}

/// The bar of a command that shows one at a time (one per input, one per phase), shared with
/// the library's worker through `&self`.
#[derive(Default)]
pub struct BarSlot(Mutex<Option<ProgressBar>>);

impl BarSlot {
    /// Shows `bar` in place of the current one.
    pub fn set(&self, bar: ProgressBar) {
        *self.0.lock().expect("progress lock") = Some(bar);
    }

    /// Runs `f` on the current bar, if any.
    pub fn with(&self, f: impl FnOnce(&ProgressBar)) {
        if let Some(bar) = self.0.lock().expect("progress lock").as_ref() {
            f(bar);
        }
    }

    /// Clears the current bar away.
    pub fn finish(&self) {
        if let Some(bar) = self.0.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}

/// Draws one bar for all the inputs (bytes of all the files; the prefix names the file and its
/// number) and reports rejects.
pub struct AppendProgress {
    bar: BarSlot,
    files: Mutex<FilesDone>,
    rejects: Option<Mutex<(PathBuf, File)>>,
    shown: Mutex<u64>,
    interactive: bool,
}

const APPEND_TEMPLATE: &str =
    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg} eta {eta}";
const SCORE_TEMPLATE: &str = "scoring [{bar:30}] {pos}/{len} samples, {per_sec} {msg}, eta {eta}";
/// `topics`: a phase of known length.
pub const PHASE_TEMPLATE: &str = "{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta}";
/// `topics`: a phase of unknown length.
pub const SPINNER_TEMPLATE: &str = "{prefix} {spinner} {elapsed}";

/// Rejects printed to stderr before the rest are only counted.
const MAX_PRINTED_REJECTS: u64 = 50;

impl AppendProgress {
    pub fn new(rejects: Option<(PathBuf, File)>) -> Self {
        AppendProgress {
            bar: BarSlot::default(),
            files: Mutex::default(),
            rejects: rejects.map(Mutex::new),
            shown: Mutex::new(0),
            interactive: std::io::stderr().is_terminal(),
        }
    }

    /// Clears the bar away at the end.
    pub fn finish(&self) {
        self.bar.finish();
    }

    fn println(&self, line: &str) {
        let mut printed = false;
        if self.interactive {
            self.bar.with(|bar| {
                bar.println(line);
                printed = true;
            });
        }
        if !printed {
            eprintln!("{line}");
        }
    }
}

/// Files and bytes of an append, for its bar.
#[derive(Default)]
struct FilesDone {
    files: u64,
    bytes: u64,
    started: u64,
    /// Bytes of the inputs finished.
    done_bytes: u64,
    /// Samples added by the inputs finished.
    added: u64,
}

impl AppendObserver for AppendProgress {
    fn files_planned(&self, files: u64, bytes: u64) {
        let mut f = self.files.lock().expect("progress lock");
        f.files = files;
        f.bytes = bytes;
    }

    fn input_started(&self, name: &str, size: Option<u64>) {
        let mut f = self.files.lock().expect("progress lock");
        f.started += 1;
        if !self.interactive {
            return;
        }
        let prefix = format!("file {}/{} {name}", f.started, f.files);
        let total = (f.bytes > 0).then_some(f.bytes).or(size);
        let done = f.done_bytes;
        drop(f);
        let mut current = None;
        self.bar.with(|b| current = Some(b.clone()));
        let shown = current.unwrap_or_else(|| {
            let fresh = bar(total, APPEND_TEMPLATE);
            self.bar.set(fresh.clone());
            fresh
        });
        shown.set_prefix(prefix);
        shown.set_position(done);
    }

    fn input_progress(&self, consumed: u64, added: u64) {
        let f = self.files.lock().expect("progress lock");
        let (done, added) = (f.done_bytes + consumed, f.added + added);
        drop(f);
        self.bar.with(|bar| {
            bar.set_position(done);
            bar.set_message(format!("{added} added"));
        });
    }

    fn input_finished(&self, report: &FileReport) {
        let mut f = self.files.lock().expect("progress lock");
        f.done_bytes += report.input_bytes;
        f.added += report.added;
        drop(f);
        if let Some(err) = &report.error {
            self.println(&format!("samplemix: {}: {err}", report.file));
        }
    }

    fn rejected(&self, reject: &Reject) {
        let mut shown = self.shown.lock().expect("progress lock");
        *shown += 1;
        if *shown <= MAX_PRINTED_REJECTS {
            self.println(&format!("samplemix: rejected {reject}"));
        } else if *shown == MAX_PRINTED_REJECTS + 1 {
            self.println("samplemix: more rejected records are counted but not printed");
        }
        if let Some(rejects) = &self.rejects {
            let mut guard = rejects.lock().expect("rejects lock");
            let line = serde_json::to_string(reject).expect("a reject serialises");
            if let Err(e) = writeln!(guard.1, "{line}") {
                eprintln!("samplemix: cannot write {}: {e}", guard.0.display());
            }
        }
    }
}

/// The progress bar of `samplemix score`: samples, tokens/s, samples/s, ETA.
pub struct ScoreProgress {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl ScoreProgress {
    pub fn new() -> Self {
        let bar = std::io::stderr()
            .is_terminal()
            .then(|| bar(Some(0), SCORE_TEMPLATE));
        ScoreProgress {
            bar,
            started: Instant::now(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl ScoreObserver for ScoreProgress {
    fn started(&self, samples: u64, _tokens_estimate: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(samples);
        }
    }

    fn embeddings_only(&self, samples: u64) {
        let note = format!(
            "samplemix: warning: {samples} samples already scored under this model have no model \
             embedding (scored before embeddings were stored, or with --no-embeddings): they are \
             evaluated again for it, a full model pass over them (their scores do not change); \
             `score --no-embeddings` skips that"
        );
        match &self.bar {
            Some(bar) => bar.println(note),
            None => eprintln!("{note}"),
        }
    }

    fn progress(&self, samples: u64, _tokens_estimate: u64, tokens_scored: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(samples);
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{:.0} tokens/s", tokens_scored as f64 / secs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        for t in [
            APPEND_TEMPLATE,
            SCORE_TEMPLATE,
            PHASE_TEMPLATE,
            SPINNER_TEMPLATE,
        ] {
            assert!(ProgressStyle::with_template(t).is_ok(), "{t}");
        }
    }

    #[test]
    fn a_slot_holds_one_bar_at_a_time() {
        let slot = BarSlot::default();
        let mut seen = 0;
        slot.with(|_| seen += 1);
        slot.set(bar(Some(10), PHASE_TEMPLATE));
        slot.with(|b| b.inc(3));
        slot.with(|b| seen = b.position());
        assert_eq!(seen, 3);
        slot.finish();
        slot.with(|_| seen = 99);
        assert_eq!(seen, 3);
    }
}
