//! A whole `quality compute SIGNAL` run: the computer of a named signal (the classifier's from
//! the model stored in the pool), then the pass over the samples lacking a value, or, when
//! there are none, a report that says so without work.

use serde::Serialize;

use super::classifier::ClassifierComputer;
use super::pass::{compute_signal, pending, SignalObserver, SignalOptions, SignalReport};
use super::repetition::RepetitionComputer;
use super::SignalComputer;
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::store::Signal;

/// What a compute run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SignalOutcome {
    /// The pass's report (counts only, when nothing was pending).
    #[serde(flatten)]
    pub report: SignalReport,
    /// Whether anything was computed.
    pub work_done: bool,
}

/// The signal `quality compute` accepts under `name` (repetition, classifier).
pub fn computable_signal(name: &str) -> Result<Signal> {
    match Signal::from_name(name) {
        Some(Signal::Lm) => Err(Error::Invalid(
            "signal lm is computed by `samplemix score`".into(),
        )),
        Some(s) => Ok(s),
        None => Err(Error::Invalid(format!(
            "unknown signal {name:?}: expected repetition or classifier"
        ))),
    }
}

/// The computer of the signal `name` (the classifier's from the model stored in the pool).
pub fn computer(name: &str, pool: &Pool) -> Result<Box<dyn SignalComputer>> {
    Ok(match computable_signal(name)? {
        Signal::Classifier => Box::new(ClassifierComputer::load(pool.store())?),
        _ => Box::new(RepetitionComputer::new()),
    })
}

/// Computes the signal `name` for every sample of `pool` without a value under its computer's
/// fingerprint; with none, nothing is computed and the report gives the pool's counts.
pub fn compute_named(
    pool: &mut Pool,
    name: &str,
    opts: &SignalOptions,
    observer: &dyn SignalObserver,
) -> Result<SignalOutcome> {
    let computer = computer(name, pool)?;
    let pending = pending(pool, computer.signal(), computer.fingerprint())?;
    if pending.seqs.is_empty() {
        let report = SignalReport {
            signal: computer.signal().name().to_string(),
            fingerprint: computer.fingerprint().to_string(),
            already_computed: pending.computed,
            pool_computed: pending.computed,
            ..Default::default()
        };
        return Ok(SignalOutcome {
            report,
            work_done: false,
        });
    }
    let report = compute_signal(pool, computer.as_ref(), &pending, opts, observer)?;
    Ok(SignalOutcome {
        report,
        work_done: true,
    })
}
