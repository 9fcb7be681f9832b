//! The incremental pass of a named signal: finds the samples without a value under the
//! computer's fingerprint, computes them in batches, writes each batch's values and the
//! signal's state in one atomic store batch, and at the end stores the quantiles q is read
//! from. A crash loses at most the batch in flight; the next run computes the rest.

use std::time::Instant;

use serde::Serialize;

use super::SignalComputer;
use crate::error::{Error, Result};
use crate::pool::Pool;
use crate::store::{SampleRow, Signal, SignalRecord, SignalState};

/// The samples a signal still has to be computed for.
#[derive(Clone, Debug, Default)]
pub struct SignalPending {
    /// Sequence numbers without a value under the fingerprint, in order.
    pub seqs: Vec<u64>,
    /// Samples that already have a value under the fingerprint.
    pub computed: u64,
    /// Of those, samples the signal does not apply to.
    pub not_applicable: u64,
}

/// Finds the samples without a value of `signal` under `fingerprint`: one scan of the sample
/// rows beside one scan of the signal's values.
pub fn pending(pool: &Pool, signal: Signal, fingerprint: &str) -> Result<SignalPending> {
    if signal == Signal::Lm {
        return Err(Error::Invalid(
            "signal lm is computed by `samplemix score`, not by the signal pass".into(),
        ));
    }
    let id = SampleRow::fingerprint_id(fingerprint);
    let store = pool.store();
    let mut values = store.signal_values(signal, 0).peekable();
    let mut p = SignalPending::default();
    for item in store.sample_rows() {
        let (seq, _) = item?;
        let mut current = None;
        while let Some(next) = values.peek() {
            match next {
                Ok((s, _)) if *s < seq => {
                    values.next();
                }
                Ok((s, _)) if *s == seq => {
                    if let Some(Ok((_, v))) = values.next() {
                        current = Some(v);
                    }
                    break;
                }
                Ok(_) => break,
                Err(_) => {
                    if let Some(Err(e)) = values.next() {
                        return Err(e);
                    }
                }
            }
        }
        match current {
            Some(v) if v.fingerprint_id == id => {
                p.computed += 1;
                if v.raw.is_none() {
                    p.not_applicable += 1;
                }
            }
            _ => p.seqs.push(seq),
        }
    }
    Ok(p)
}

/// Settings of a signal pass.
#[derive(Clone, Debug)]
pub struct SignalOptions {
    /// Samples per computer call and per store batch (what a crash can lose).
    pub batch_samples: usize,
}

impl Default for SignalOptions {
    fn default() -> Self {
        SignalOptions {
            batch_samples: 4096,
        }
    }
}

/// Hears about a signal pass as it goes.
pub trait SignalObserver {
    /// The pass starts with this many samples to compute.
    fn started(&self, _samples: u64) {}
    /// Samples done so far.
    fn progress(&self, _samples: u64) {}
}

impl SignalObserver for () {}

/// What a signal pass did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SignalReport {
    /// The signal.
    pub signal: String,
    /// The computer's fingerprint.
    pub fingerprint: String,
    /// Samples this pass computed a value for (the work done: 0 on a run with nothing to do).
    pub computed: u64,
    /// Of those, samples the signal does not apply to.
    pub not_applicable: u64,
    /// Samples that already had a value under this fingerprint.
    pub already_computed: u64,
    /// Samples of the pool with a value under this fingerprint afterwards.
    pub pool_computed: u64,
    /// Wall time of the computation and writes.
    pub seconds: f64,
    /// Samples computed per second.
    pub samples_per_second: f64,
}

/// Computes `computer`'s signal for the `pending` samples of the pool, then stores the
/// quantiles of every signal ([`crate::pool::ranks::store_quantiles`]).
pub fn compute_signal(
    pool: &mut Pool,
    computer: &dyn SignalComputer,
    pending: &SignalPending,
    opts: &SignalOptions,
    observer: &dyn SignalObserver,
) -> Result<SignalReport> {
    let started = Instant::now();
    let signal = computer.signal();
    let fingerprint = computer.fingerprint().to_string();
    let fp_id = SampleRow::fingerprint_id(&fingerprint);
    let mut state = SignalState {
        fingerprint: fingerprint.clone(),
        description: computer.description(),
        computed: pending.computed,
        not_applicable: pending.not_applicable,
    };
    let mut report = SignalReport {
        signal: signal.name().to_string(),
        fingerprint: fingerprint.clone(),
        already_computed: pending.computed,
        ..SignalReport::default()
    };
    observer.started(pending.seqs.len() as u64);
    let store = pool.store();
    for chunk in pending.seqs.chunks(opts.batch_samples.max(1)) {
        let docs = store.docs(chunk)?;
        let present: Vec<(u64, &str)> = chunk
            .iter()
            .zip(&docs)
            .filter_map(|(&seq, d)| d.as_ref().map(|d| (seq, d.text.as_str())))
            .collect();
        let texts: Vec<&str> = present.iter().map(|p| p.1).collect();
        let values = computer.compute_batch(&texts)?;
        if values.len() != texts.len() {
            return Err(Error::Invalid(format!(
                "signal {signal}: the computer returned {} values for {} texts",
                values.len(),
                texts.len()
            )));
        }
        let mut batch = store.batch();
        for ((seq, _), value) in present.iter().zip(values) {
            report.computed += 1;
            state.computed += 1;
            if value.raw.is_none() {
                report.not_applicable += 1;
                state.not_applicable += 1;
            }
            batch.put_signal(
                signal,
                *seq,
                &SignalRecord {
                    fingerprint_id: fp_id,
                    raw: value.raw.filter(|r| r.is_finite()),
                    features: value.features,
                },
            );
        }
        batch.put_meta(&signal.state_key(), &state);
        batch.commit()?;
        observer.progress(report.computed);
    }
    let mut batch = store.batch();
    batch.put_meta(&signal.state_key(), &state);
    batch.commit()?;
    crate::pool::ranks::store_quantiles(store)?;
    report.pool_computed = state.computed;
    report.seconds = started.elapsed().as_secs_f64();
    if report.seconds > 0.0 {
        report.samples_per_second = report.computed as f64 / report.seconds;
    }
    Ok(report)
}
