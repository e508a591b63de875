//! Causal multi-head self-attention with attention weight refinement (AWRSR).
//!
//! Plain attention computes weights `A = softmax(QKᵀ/√d_h + M)`. The refinement "pays
//! attention to the attention weights": it maps the rows of `A` into a new correlation
//! space with two learnable n×n matrices per head, `A_q = A·W₁`, `A_k = A·W₂`, and takes
//! `Â = softmax(A_q·A_kᵀ/√n + M)`. How `Â` is used is the [`Refinement`] variant. This is
//! our reading of the paper (see `docs/model.md`); every variant is selectable.

use burn::module::{Module, Param};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Bool, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::dropout::dropout;

/// Value written into masked attention scores before the softmax (exp underflows to 0).
const MASKED_SCORE: f32 = -1.0e9;

/// How the refined weights `Â` enter the attention output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Refinement {
    /// Plain SASRec: `O = A V`.
    None,
    /// M_simp: `O = Â V`.
    Simple,
    /// M_value: `O = Â (A V)` (the default: never worse than plain SASRec in the study,
    /// docs/results.md).
    Value,
    /// M_add: `O = ((1 − g) A + g Â) V` with a learnable gate `g`.
    Additive,
}

/// The learnable part of the refinement for one layer: `W₁`, `W₂` per head and the gate.
#[derive(Module, Debug)]
pub struct Refiner {
    /// `W₁` for every head, `[heads, n, n]`: attention rows → query side of the new space.
    pub w_query: Param<Tensor<3>>,
    /// `W₂` for every head, `[heads, n, n]`: attention rows → key side of the new space.
    pub w_key: Param<Tensor<3>>,
    /// Logit of the mixing gate `g` (only for [`Refinement::Additive`]).
    pub gate: Option<Param<Tensor<1>>>,
}

impl Refiner {
    /// `W₁ = W₂ = scale·I` and `g = sigmoid(0) = 0.5`, as `docs/model.md` prescribes.
    fn new(heads: usize, n: usize, scale: f32, gated: bool, device: &Device) -> Self {
        let eye = || {
            let eye = Tensor::<2>::eye(n, device).mul_scalar(scale);
            Param::from_tensor(eye.unsqueeze_dim::<3>(0).repeat_dim(0, heads))
        };
        Self {
            w_query: eye(),
            w_key: eye(),
            gate: gated.then(|| Param::from_tensor(Tensor::zeros([1], device))),
        }
    }

    /// Refined weights `Â = softmax(A W₁ (A W₂)ᵀ / √n + M)` from weights `A` `[b, h, w, w]`.
    /// A batch trimmed to width `w < n` holds the last `w` key positions of left-padded
    /// sessions; the trimmed keys' weights are exactly 0, so only the last `w` rows of `W₁`
    /// and `W₂` meet non-zero weights and the result equals that of the untrimmed batch.
    fn refine(&self, weights: Tensor<4>, mask: Tensor<4, Bool>) -> Tensor<4> {
        let w = weights.dims()[3];
        let [heads, n, _] = self.w_query.dims();
        let rows = |m: &Param<Tensor<3>>| match w < n {
            true => m.val().slice([0..heads, n - w..n]).unsqueeze_dim(0),
            false => m.val().unsqueeze_dim(0),
        };
        let a_query = weights.clone().matmul(rows(&self.w_query));
        let a_key = weights.matmul(rows(&self.w_key));
        let scores = a_query
            .matmul(a_key.transpose())
            .div_scalar((n as f32).sqrt())
            .mask_fill(mask, MASKED_SCORE);
        softmax(scores, 3)
    }

    /// The mixing gate `g` as a `[1, 1, 1, 1]` tensor.
    fn gate(&self) -> Option<Tensor<4>> {
        self.gate
            .as_ref()
            .map(|g| sigmoid(g.val()).reshape([1, 1, 1, 1]))
    }
}

/// What one attention layer returns.
pub struct AttentionOutput {
    /// The attended values after the output projection, `[b, n, d]`.
    pub context: Tensor<3>,
    /// The effective weights that map values to outputs, `[b, heads, n, n]` (for `value`
    /// the product `Â·A`); attention rollout reads these.
    pub weights: Tensor<4>,
}

/// Multi-head causal self-attention with optional attention weight refinement.
#[derive(Module, Debug)]
pub struct RefinedAttention {
    /// Query projection `W_Q`.
    pub query: Linear,
    /// Key projection `W_K`.
    pub key: Linear,
    /// Value projection `W_V`.
    pub value: Linear,
    /// Output projection `W_O` applied to the concatenated heads.
    pub output: Linear,
    /// Refinement parameters; `None` for plain SASRec.
    pub refiner: Option<Refiner>,
    /// Dropout on the attention weights.
    pub dropout: Dropout,
    /// Number of heads.
    pub heads: usize,
    /// How the refined weights are used.
    #[module(skip)]
    pub refinement: Refinement,
}

impl RefinedAttention {
    /// A layer for model width `d`, `heads` heads and sequences of length `n`.
    pub fn new(
        d: usize,
        heads: usize,
        n: usize,
        refinement: Refinement,
        refine_scale: f32,
        dropout: f64,
        device: &Device,
    ) -> Self {
        let linear = || LinearConfig::new(d, d).init(device);
        let gated = refinement == Refinement::Additive;
        Self {
            query: linear(),
            key: linear(),
            value: linear(),
            output: linear(),
            refiner: (refinement != Refinement::None)
                .then(|| Refiner::new(heads, n, refine_scale, gated, device)),
            dropout: DropoutConfig::new(dropout).init(),
            heads,
            refinement,
        }
    }

    /// Attends `x` `[b, n, d]` to itself; `mask` `[b, 1, n, n]` is true where attention is
    /// forbidden (future keys, padding keys). With `last_only` the context is computed for
    /// the newest position alone (`[b, 1, d]`, all a recommendation reads); the weights are
    /// always complete.
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<4, Bool>, last_only: bool) -> AttentionOutput {
        let [b, n, d] = x.dims();
        let d_head = d / self.heads;
        let q = self.split_heads(self.query.forward(x.clone()));
        let k = self.split_heads(self.key.forward(x.clone()));
        let v = self.split_heads(self.value.forward(x));

        let scores = q
            .matmul(k.transpose())
            .div_scalar((d_head as f32).sqrt())
            .mask_fill(mask.clone(), MASKED_SCORE);
        let attention = softmax(scores, 3);
        let weights = self.mix(attention, mask);

        let rows = if last_only { n - 1..n } else { 0..n };
        let applied = weights.clone().slice([0..b, 0..self.heads, rows.clone()]);
        let heads = dropout(&self.dropout, applied).matmul(v);
        let context = heads.swap_dims(1, 2).reshape([b, rows.len(), d]);
        AttentionOutput {
            context: self.output.forward(context),
            weights,
        }
    }

    /// The effective weights: the matrix that multiplies V.
    fn mix(&self, attention: Tensor<4>, mask: Tensor<4, Bool>) -> Tensor<4> {
        let Some(refiner) = &self.refiner else {
            return attention;
        };
        let refined = refiner.refine(attention.clone(), mask);
        match (self.refinement, refiner.gate()) {
            (Refinement::Value, _) => refined.matmul(attention),
            (Refinement::Additive, Some(g)) => {
                attention.clone() - attention.mul(g.clone()) + refined.mul(g)
            }
            _ => refined,
        }
    }

    /// `[b, n, d]` → `[b, heads, n, d / heads]`.
    fn split_heads(&self, x: Tensor<3>) -> Tensor<4> {
        let [b, n, d] = x.dims();
        x.reshape([b, n, self.heads, d / self.heads])
            .swap_dims(1, 2)
    }
}
