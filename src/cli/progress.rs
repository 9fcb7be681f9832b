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

/// Draws one bar per input and reports rejects.
pub struct AppendProgress {
    bar: Mutex<Option<ProgressBar>>,
    rejects: Option<Mutex<(PathBuf, File)>>,
    shown: Mutex<u64>,
    interactive: bool,
}

/// Rejects printed to stderr before the rest are only counted.
const MAX_PRINTED_REJECTS: u64 = 50;

impl AppendProgress {
    pub fn new(rejects: Option<(PathBuf, File)>) -> Self {
        AppendProgress {
            bar: Mutex::new(None),
            rejects: rejects.map(Mutex::new),
            shown: Mutex::new(0),
            interactive: std::io::stderr().is_terminal(),
        }
    }

    fn println(&self, line: &str) {
        match self.bar.lock().expect("progress lock").as_ref() {
            Some(bar) if self.interactive => bar.println(line),
            _ => eprintln!("{line}"),
        }
    }
}

impl AppendObserver for AppendProgress {
    fn input_started(&self, name: &str, size: Option<u64>) {
        if !self.interactive {
            return;
        }
        let bar = match size {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg} eta {eta}",
        )
        .expect("template is valid")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        *self.bar.lock().expect("progress lock") = Some(bar);
    }

    fn input_progress(&self, consumed: u64, added: u64) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.set_position(consumed);
            bar.set_message(format!("{added} added"));
        }
    }

    fn input_finished(&self, report: &FileReport) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
        if let Some(err) = &report.error {
            eprintln!("samplemix: {}: {err}", report.file);
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
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "scoring [{bar:30}] {pos}/{len} samples, {per_sec} {msg}, eta {eta}",
                )
                .expect("template is valid")
                .progress_chars("=> "),
            );
            bar
        });
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

    fn progress(&self, samples: u64, _tokens_estimate: u64, tokens_scored: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(samples);
            let secs = self.started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{:.0} tokens/s", tokens_scored as f64 / secs));
        }
    }
}
