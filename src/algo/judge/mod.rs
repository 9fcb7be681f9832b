//! The trained judge: a small byte-level transformer language model trained on a mix's text,
//! then measured on held-out text (loss per byte) and on a multiple-choice task scored the way
//! lm-eval-harness scores one (length-normalised log-likelihood of each option).
//!
//! Everything here is a pure function of its inputs and seeds: the model's initial weights, the
//! order of the training text and the training windows come from seeded RNGs, and candle's CPU
//! kernels split work by output block, so the same inputs, seed and thread count give the same
//! losses. Byte level keeps the judge independent of any tokenizer: its loss is bits per byte.

pub mod choice;
mod error;
mod model;

use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_nn::optim::{AdamW, Optimizer, ParamsAdamW};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

pub use error::{JudgeError, Result};
pub use model::{Model, ModelConfig, VOCAB};

/// Byte that separates documents in the training stream and starts every held-out window.
pub const SEPARATOR: u8 = 0;

/// Sequences per forward pass when scoring.
const SCORE_BATCH: usize = 32;

/// How a judge model is trained.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct TrainSettings {
    /// The architecture.
    pub model: ModelConfig,
    /// Optimiser steps.
    pub steps: usize,
    /// Windows (of `model.context` bytes) per step.
    pub batch: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Linear warm-up steps to the peak; then a cosine decay to `lr * min_lr_ratio`.
    pub warmup: usize,
    /// The learning rate at the last step, as a fraction of the peak.
    pub min_lr_ratio: f64,
    /// AdamW's decoupled weight decay (betas 0.9, 0.95; eps 1e-8), on every tensor.
    pub weight_decay: f64,
}

impl TrainSettings {
    /// The default run: 0.84 M parameters, 192 steps of 16 x 128 bytes (393,216 training
    /// bytes), peak learning rate 2e-3 after 16 warm-up steps, cosine to 2e-4.
    pub const DEFAULT: TrainSettings = TrainSettings {
        model: ModelConfig::DEFAULT,
        steps: 192,
        batch: 16,
        lr: 2e-3,
        warmup: 16,
        min_lr_ratio: 0.1,
        weight_decay: 0.1,
    };

    /// Bytes (tokens) seen in training.
    pub fn tokens(&self) -> u64 {
        (self.steps * self.batch * self.model.context) as u64
    }

    /// The learning rate of step `step` (0-based).
    pub fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup {
            return self.lr * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.steps.saturating_sub(self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        let floor = self.lr * self.min_lr_ratio;
        floor + 0.5 * (self.lr - floor) * (1.0 + (std::f64::consts::PI * progress).cos())
    }

    fn check(&self) -> Result<()> {
        self.model.check()?;
        let ok = self.steps > 0
            && self.batch > 0
            && self.lr.is_finite()
            && self.lr > 0.0
            && (0.0..=1.0).contains(&self.min_lr_ratio)
            && self.weight_decay >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(JudgeError::Settings(format!(
                "steps and batch must be positive, the learning rate positive and finite, \
                 min_lr_ratio within 0..1 and weight decay not negative: {self:?}"
            )))
        }
    }
}

/// The training text of a mix: every drawn instance of every document, each preceded by
/// [`SEPARATOR`], in an order shuffled by `seed` (so windows cross documents as a packed
/// training stream does).
pub fn training_stream<'a>(docs: impl IntoIterator<Item = (&'a [u8], u32)>, seed: u64) -> Vec<u8> {
    let mut instances: Vec<&[u8]> = Vec::new();
    for (text, count) in docs {
        for _ in 0..count {
            instances.push(text);
        }
    }
    instances.shuffle(&mut StdRng::seed_from_u64(seed ^ 0x5EED_57EA));
    let mut out = Vec::with_capacity(instances.iter().map(|t| t.len() + 1).sum());
    for t in instances {
        out.push(SEPARATOR);
        out.extend_from_slice(t);
    }
    out
}

/// A byte sequence to score: targets `bytes[1..]` predicted from the bytes before them; the
/// negative log-likelihoods of targets `score_from..` are summed.
#[derive(Clone, Debug)]
pub struct Scored {
    /// Input and target bytes, at most context + 1 long.
    pub bytes: Vec<u8>,
    /// First target (0-based, target j predicts `bytes[j + 1]`) that counts.
    pub score_from: usize,
}

impl Scored {
    /// Targets that count.
    pub fn scored_len(&self) -> usize {
        self.bytes
            .len()
            .saturating_sub(1)
            .saturating_sub(self.score_from)
    }
}

/// Cuts held-out documents into windows: each document's first `max_bytes` bytes, after a
/// separator, in windows of `context` targets (a window's first input is the previous window's
/// last target, so every byte is predicted exactly once). Returns (document index, window).
pub fn heldout_windows(docs: &[&[u8]], max_bytes: usize, context: usize) -> Vec<(usize, Scored)> {
    let mut out = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let n = doc.len().min(max_bytes);
        if n == 0 {
            continue;
        }
        let mut s = Vec::with_capacity(n + 1);
        s.push(SEPARATOR);
        s.extend_from_slice(&doc[..n]);
        let mut start = 0;
        while start + 1 < s.len() {
            let end = (start + context + 1).min(s.len());
            out.push((
                i,
                Scored {
                    bytes: s[start..end].to_vec(),
                    score_from: 0,
                },
            ));
            start = end - 1;
        }
    }
    out
}

/// One point of a learning curve.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CurvePoint {
    /// Training bytes seen.
    pub tokens: u64,
    /// Mean training loss of the steps since the previous point, nats per byte.
    pub train_nats_per_byte: f64,
    /// Held-out loss on the curve's windows, nats per byte.
    pub heldout_nats_per_byte: f64,
}

/// A trained judge and how its training went.
pub struct Trained {
    /// The model.
    pub model: Model,
    /// Wall-clock seconds of training (curve evaluations excluded).
    pub train_seconds: f64,
    /// Held-out loss at evenly spaced steps, when asked for.
    pub curve: Vec<CurvePoint>,
    /// Training loss of the last step, nats per byte.
    pub final_train_loss: f64,
}

/// Trains a model on `stream` with `seed`. `curve` (windows, points) evaluates held-out loss at
/// `points` evenly spaced steps, the last one included.
pub fn train(
    stream: &[u8],
    settings: &TrainSettings,
    seed: u64,
    curve: Option<(&[Scored], usize)>,
) -> Result<Trained> {
    settings.check()?;
    let t = settings.model.context;
    if stream.len() < t + 2 {
        return Err(JudgeError::Data(format!(
            "the mix has {} bytes of text; training needs at least {}",
            stream.len(),
            t + 2
        )));
    }
    let dev = device()?;
    let model = Model::new(settings.model, seed, &dev)?;
    let mut opt = AdamW::new(
        model.vars(),
        ParamsAdamW {
            lr: settings.lr_at(0),
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: settings.weight_decay,
        },
    )?;
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xDA7A);
    let every = curve.map(|(_, p)| settings.steps.div_ceil(p.max(1)));
    let mut points = Vec::new();
    let (mut since_sum, mut since_n, mut last) = (0.0, 0usize, f64::NAN);
    let mut train_seconds = 0.0;
    for step in 0..settings.steps {
        let started = Instant::now();
        let mut xs = Vec::with_capacity(settings.batch * t);
        let mut ys = Vec::with_capacity(settings.batch * t);
        for _ in 0..settings.batch {
            let s = rng.random_range(0..stream.len() - t - 1);
            xs.extend(stream[s..s + t].iter().map(|&b| u32::from(b)));
            ys.extend(stream[s + 1..s + t + 1].iter().map(|&b| u32::from(b)));
        }
        let x = Tensor::from_vec(xs, (settings.batch, t), &dev)?;
        let y = Tensor::from_vec(ys, (settings.batch, t), &dev)?;
        opt.set_learning_rate(settings.lr_at(step));
        let loss = model.nll(&x, &y)?.mean_all()?;
        opt.backward_step(&loss)?;
        last = f64::from(loss.to_scalar::<f32>()?);
        train_seconds += started.elapsed().as_secs_f64();
        if !last.is_finite() {
            return Err(JudgeError::Data(format!(
                "training diverged at step {step} (loss {last}); lower the learning rate"
            )));
        }
        since_sum += last;
        since_n += 1;
        if let (Some((windows, _)), Some(every)) = (curve, every) {
            if (step + 1) % every == 0 || step + 1 == settings.steps {
                let (nats, bytes) = total_nll(&model, windows)?;
                points.push(CurvePoint {
                    tokens: ((step + 1) * settings.batch * t) as u64,
                    train_nats_per_byte: since_sum / since_n as f64,
                    heldout_nats_per_byte: nats / bytes.max(1) as f64,
                });
                (since_sum, since_n) = (0.0, 0);
            }
        }
    }
    Ok(Trained {
        model,
        train_seconds,
        curve: points,
        final_train_loss: last,
    })
}

/// Summed negative log-likelihood (nats) of the counted targets of each sequence.
pub fn score(model: &Model, seqs: &[Scored]) -> Result<Vec<f64>> {
    let context = model.config().context;
    let dev = model.device();
    let mut out = Vec::with_capacity(seqs.len());
    for chunk in seqs.chunks(SCORE_BATCH) {
        let width = chunk.iter().map(|s| s.bytes.len() - 1).max().unwrap_or(1);
        if chunk.iter().any(|s| s.bytes.len() < 2) || width > context {
            return Err(JudgeError::Data(format!(
                "a scored sequence must hold 2 to {} bytes",
                context + 1
            )));
        }
        // Padding goes after each sequence: causal attention keeps it from the real targets.
        let mut xs = vec![0u32; chunk.len() * width];
        let mut ys = vec![0u32; chunk.len() * width];
        for (r, s) in chunk.iter().enumerate() {
            for (j, w) in s.bytes.windows(2).enumerate() {
                xs[r * width + j] = u32::from(w[0]);
                ys[r * width + j] = u32::from(w[1]);
            }
        }
        let x = Tensor::from_vec(xs, (chunk.len(), width), dev)?;
        let y = Tensor::from_vec(ys, (chunk.len(), width), dev)?;
        let nll: Vec<f32> = model.nll(&x, &y)?.to_vec1()?;
        for (r, s) in chunk.iter().enumerate() {
            let row = &nll[r * width..r * width + s.bytes.len() - 1];
            out.push(
                row[s.score_from.min(row.len())..]
                    .iter()
                    .map(|&v| f64::from(v))
                    .sum(),
            );
        }
    }
    Ok(out)
}

/// Total nats and counted bytes over `seqs`.
pub fn total_nll(model: &Model, seqs: &[Scored]) -> Result<(f64, u64)> {
    let nats = score(model, seqs)?.iter().sum();
    let bytes = seqs.iter().map(|s| s.scored_len() as u64).sum();
    Ok((nats, bytes))
}

/// Nats per byte as bits per byte.
pub fn bits(nats_per_byte: f64) -> f64 {
    nats_per_byte / std::f64::consts::LN_2
}

/// The device a judge trains on: the first CUDA (or Metal) device when samplemix was built with
/// the `cuda` (or `metal`) feature and one is present, else the CPU.
pub fn device() -> Result<Device> {
    if candle_core::utils::cuda_is_available() {
        return Ok(Device::new_cuda(0)?);
    }
    if candle_core::utils::metal_is_available() {
        return Ok(Device::new_metal(0)?);
    }
    Ok(Device::Cpu)
}

/// The worker threads candle's CPU kernels use (`CANDLE_NUM_THREADS`, else every core).
pub fn threads() -> usize {
    candle_core::utils::get_num_threads()
}

#[cfg(test)]
mod tests;
