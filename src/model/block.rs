//! One pre-LayerNorm transformer block: attention and a position-wise feed-forward network,
//! each behind a residual connection.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::activation::{gelu, relu};
use burn::tensor::{Bool, Device, Tensor};

use super::attention::RefinedAttention;
use super::dropout::dropout;
use super::{Activation, ModelConfig};

/// `h = x + Dropout(MHA(LN₁(x)))`, `out = h + Dropout(FFN(LN₂(h)))`.
#[derive(Module, Debug)]
pub struct Block {
    norm_attention: LayerNorm,
    attention: RefinedAttention,
    norm_ffn: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    dropout: Dropout,
    #[module(skip)]
    activation: Activation,
}

impl Block {
    /// A block shaped by `config`.
    pub fn new(config: &ModelConfig, device: &Device) -> Self {
        let d = config.d_model;
        Self {
            norm_attention: LayerNormConfig::new(d).init(device),
            attention: RefinedAttention::new(
                d,
                config.heads,
                config.max_len,
                config.refinement,
                config.refine_scale,
                config.dropout,
                device,
            ),
            norm_ffn: LayerNormConfig::new(d).init(device),
            ffn_in: LinearConfig::new(d, config.ffn_width()).init(device),
            ffn_out: LinearConfig::new(config.ffn_width(), d).init(device),
            dropout: DropoutConfig::new(config.dropout).init(),
            activation: config.activation,
        }
    }

    /// The attention's heads, and whether it refines its weights: what the attention's cost
    /// depends on besides the width ([`Awrsr::attention_cost`](super::Awrsr::attention_cost)).
    pub fn attention_shape(&self) -> (usize, bool) {
        (self.attention.heads, self.attention.refiner.is_some())
    }

    /// Returns the block output `[b, n, d]` (with `last_only`, `[b, 1, d]`: the newest
    /// position alone) and the layer's effective attention weights.
    pub fn forward(
        &self,
        x: Tensor<3>,
        mask: Tensor<4, Bool>,
        last_only: bool,
    ) -> (Tensor<3>, Tensor<4>) {
        let attended =
            self.attention
                .forward(self.norm_attention.forward(x.clone()), mask, last_only);
        let [b, n, _] = x.dims();
        let x = if last_only {
            x.slice([0..b, n - 1..n])
        } else {
            x
        };
        let h = x + dropout(&self.dropout, attended.context);
        let ffn = self.ffn_in.forward(self.norm_ffn.forward(h.clone()));
        let ffn = match self.activation {
            Activation::Gelu => gelu(ffn),
            Activation::Relu => relu(ffn),
        };
        let ffn = self.ffn_out.forward(dropout(&self.dropout, ffn));
        (h + dropout(&self.dropout, ffn), attended.weights)
    }
}
