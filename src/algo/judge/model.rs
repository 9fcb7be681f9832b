//! A small byte-level decoder-only transformer (GPT-2 layout: learned positions, pre-norm
//! blocks, ReLU MLP, tied input and output embeddings) on candle's CPU back-end.
//!
//! Weights are drawn from a seeded RNG (candle's own random tensors draw from the thread RNG),
//! so a model is a function of its config and seed. Layer norm and attention are written from
//! candle's primitive ops, which all have gradients.

use candle_core::{Device, Tensor, Var, D};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use serde::Serialize;

use super::error::{JudgeError, Result};

/// Bytes are the vocabulary; byte 0 separates documents.
pub const VOCAB: usize = 256;

/// The architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ModelConfig {
    /// Width of the residual stream.
    pub d_model: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads (d_model must divide by it).
    pub heads: usize,
    /// Context length in bytes.
    pub context: usize,
}

impl ModelConfig {
    /// The default: about 0.84 M parameters, 128-byte context.
    pub const DEFAULT: ModelConfig = ModelConfig {
        d_model: 128,
        layers: 4,
        heads: 4,
        context: 128,
    };

    /// Number of trained parameters.
    pub fn params(&self) -> usize {
        let d = self.d_model;
        VOCAB * d + self.context * d + self.layers * (12 * d * d + 13 * d) + 2 * d
    }

    pub(crate) fn check(&self) -> Result<()> {
        let bad = |m: String| Err(JudgeError::Settings(m));
        if self.d_model == 0 || self.layers == 0 || self.heads == 0 || self.context < 2 {
            return bad(format!(
                "every size must be positive and the context at least 2: {self:?}"
            ));
        }
        if !self.d_model.is_multiple_of(self.heads) {
            return bad(format!(
                "d_model {} does not divide into {} heads",
                self.d_model, self.heads
            ));
        }
        if self.d_model > 4096 || self.layers > 64 || self.context > 4096 {
            return bad(format!("too large for a CPU judge: {self:?}"));
        }
        Ok(())
    }
}

struct Block {
    ln1_g: Var,
    ln1_b: Var,
    qkv_w: Var,
    qkv_b: Var,
    proj_w: Var,
    proj_b: Var,
    ln2_g: Var,
    ln2_b: Var,
    fc_w: Var,
    fc_b: Var,
    out_w: Var,
    out_b: Var,
}

/// The model's weights.
pub struct Model {
    config: ModelConfig,
    wte: Var,
    wpe: Var,
    blocks: Vec<Block>,
    lnf_g: Var,
    lnf_b: Var,
    /// Additive causal mask, [context, context]: -inf above the diagonal.
    mask: Tensor,
}

fn normal(rng: &mut StdRng, shape: (usize, usize), std: f32, dev: &Device) -> Result<Var> {
    let n = Normal::new(0.0f32, std)
        .map_err(|e| JudgeError::Settings(format!("initial weight scale {std}: {e}")))?;
    let v: Vec<f32> = (0..shape.0 * shape.1).map(|_| n.sample(rng)).collect();
    Ok(Var::from_tensor(&Tensor::from_vec(v, shape, dev)?)?)
}

fn fill(n: usize, value: f32, dev: &Device) -> Result<Var> {
    Ok(Var::from_tensor(&Tensor::full(value, n, dev)?)?)
}

fn layer_norm(x: &Tensor, g: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let mean = x.mean_keepdim(D::Minus1)?;
    let xc = x.broadcast_sub(&mean)?;
    let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
    let xn = xc.broadcast_div(&(var + 1e-5)?.sqrt()?)?;
    xn.broadcast_mul(g)?.broadcast_add(b)
}

/// `x [N, in] @ w [in, out] + b`.
fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    x.matmul(w)?.broadcast_add(b)
}

impl Model {
    /// A fresh model: N(0, 0.02) weights (residual projections scaled by 1/sqrt(2 layers), as in
    /// GPT-2), unit layer-norm gains, zero biases.
    pub fn new(config: ModelConfig, seed: u64, dev: &Device) -> Result<Model> {
        config.check()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let d = config.d_model;
        let std = 0.02f32;
        let proj_std = std / (2.0 * config.layers as f32).sqrt();
        let wte = normal(&mut rng, (VOCAB, d), std, dev)?;
        let wpe = normal(&mut rng, (config.context, d), std / 2.0, dev)?;
        let mut blocks = Vec::with_capacity(config.layers);
        for _ in 0..config.layers {
            blocks.push(Block {
                ln1_g: fill(d, 1.0, dev)?,
                ln1_b: fill(d, 0.0, dev)?,
                qkv_w: normal(&mut rng, (d, 3 * d), std, dev)?,
                qkv_b: fill(3 * d, 0.0, dev)?,
                proj_w: normal(&mut rng, (d, d), proj_std, dev)?,
                proj_b: fill(d, 0.0, dev)?,
                ln2_g: fill(d, 1.0, dev)?,
                ln2_b: fill(d, 0.0, dev)?,
                fc_w: normal(&mut rng, (d, 4 * d), std, dev)?,
                fc_b: fill(4 * d, 0.0, dev)?,
                out_w: normal(&mut rng, (4 * d, d), proj_std, dev)?,
                out_b: fill(d, 0.0, dev)?,
            });
        }
        let t = config.context;
        let mask: Vec<f32> = (0..t * t)
            .map(|i| {
                if i % t > i / t {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Model {
            config,
            wte,
            wpe,
            blocks,
            lnf_g: fill(d, 1.0, dev)?,
            lnf_b: fill(d, 0.0, dev)?,
            mask: Tensor::from_vec(mask, (t, t), dev)?,
        })
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        self.mask.device()
    }

    /// The architecture.
    pub fn config(&self) -> ModelConfig {
        self.config
    }

    /// Every trained tensor.
    pub fn vars(&self) -> Vec<Var> {
        let mut v = vec![self.wte.clone(), self.wpe.clone()];
        for b in &self.blocks {
            v.extend(
                [
                    &b.ln1_g, &b.ln1_b, &b.qkv_w, &b.qkv_b, &b.proj_w, &b.proj_b, &b.ln2_g,
                    &b.ln2_b, &b.fc_w, &b.fc_b, &b.out_w, &b.out_b,
                ]
                .into_iter()
                .cloned(),
            );
        }
        v.push(self.lnf_g.clone());
        v.push(self.lnf_b.clone());
        v
    }

    /// Logits `[B*T, VOCAB]` for input bytes `idx [B, T]` (u32), T <= context.
    fn logits(&self, idx: &Tensor) -> candle_core::Result<Tensor> {
        let (b, t) = idx.dims2()?;
        let c = self.config;
        let (d, h) = (c.d_model, c.heads);
        let hd = d / h;
        let tok = self.wte.as_tensor().embedding(&idx.flatten_all()?)?;
        let pos = self.wpe.as_tensor().narrow(0, 0, t)?;
        let mut x = tok
            .reshape((b, t, d))?
            .broadcast_add(&pos)?
            .reshape((b * t, d))?;
        let mask = self.mask.narrow(0, 0, t)?.narrow(1, 0, t)?;
        let scale = 1.0 / (hd as f64).sqrt();
        let heads = |qkv: &Tensor, i: usize| -> candle_core::Result<Tensor> {
            qkv.narrow(2, i, 1)?
                .squeeze(2)?
                .transpose(1, 2)?
                .contiguous()
        };
        for blk in &self.blocks {
            let a = layer_norm(&x, &blk.ln1_g, &blk.ln1_b)?;
            let qkv = linear(&a, &blk.qkv_w, &blk.qkv_b)?.reshape((b, t, 3, h, hd))?;
            let (q, k, v) = (heads(&qkv, 0)?, heads(&qkv, 1)?, heads(&qkv, 2)?);
            let att = (q.matmul(&k.t()?.contiguous()?)? * scale)?.broadcast_add(&mask)?;
            let att = candle_nn::ops::softmax_last_dim(&att)?;
            let y = att
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b * t, d))?;
            x = (x + linear(&y, &blk.proj_w, &blk.proj_b)?)?;
            let m = layer_norm(&x, &blk.ln2_g, &blk.ln2_b)?;
            let m = linear(&m, &blk.fc_w, &blk.fc_b)?.relu()?;
            x = (x + linear(&m, &blk.out_w, &blk.out_b)?)?;
        }
        let x = layer_norm(&x, &self.lnf_g, &self.lnf_b)?;
        x.matmul(&self.wte.as_tensor().t()?)
    }

    /// Negative log-likelihood in nats of each target byte, `[B*T]`, for inputs and targets
    /// `[B, T]` (u32).
    pub fn nll(&self, idx: &Tensor, targets: &Tensor) -> candle_core::Result<Tensor> {
        let logits = self.logits(idx)?;
        let logp = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        let t = targets.flatten_all()?.unsqueeze(1)?;
        logp.gather(&t, 1)?.squeeze(1)?.neg()
    }
}
