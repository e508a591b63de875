//! The recommender network: a pre-LayerNorm SASRec backbone whose attention layers carry
//! the AWRSR refinement ([`attention`]). Pure tensors: no I/O and no synchronous reads, so
//! the same code runs natively and in the browser.

pub mod attention;
mod block;
mod dropout;
mod host;
mod repeat;

use burn::module::Module;
use burn::nn::{
    Dropout, DropoutConfig, Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig,
};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use attention::Refinement;
use block::Block;
use dropout::dropout;
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub use dropout::host_device;
pub use dropout::with_mask_seed;
pub use host::to_host;
pub use repeat::RepeatBonus;

/// Non-linearity of the position-wise feed-forward network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Gaussian error linear unit (the default).
    Gelu,
    /// Rectified linear unit (the original SASRec).
    Relu,
}

/// Everything needed to build the network; stored in every model bundle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Number of real items N (ids 1..=N; 0 is padding).
    pub num_items: usize,
    /// Sequence length n: a session keeps its newest n items.
    pub max_len: usize,
    /// Embedding size d.
    pub d_model: usize,
    /// Number of transformer blocks.
    pub layers: usize,
    /// Attention heads per block (must divide `d_model`).
    pub heads: usize,
    /// Dropout probability during training.
    pub dropout: f64,
    /// Attention weight refinement variant.
    pub refinement: Refinement,
    /// `W₁` and `W₂` start at `refine_scale·I`; larger values give sharper refined weights.
    pub refine_scale: f32,
    /// Feed-forward non-linearity.
    pub activation: Activation,
    /// Width of the feed-forward network's hidden layer, in multiples of `d_model` (bundles
    /// from before this setting have 1).
    #[serde(default = "ModelConfig::legacy_ffn_multiplier")]
    pub ffn_multiplier: usize,
    /// The score added to the session's own items ([`RepeatBonus`]); absent (none) in
    /// bundles without one.
    #[serde(default, skip_serializing_if = "RepeatBonus::is_none")]
    pub repeat: RepeatBonus,
    /// The start (Unix seconds) of the newest session the model trained on, for a session
    /// log with times: a warm retrain from the bundle replays only a share of the sessions
    /// up to it (`awrsr train --replay`). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained_until: Option<f64>,
}

impl ModelConfig {
    /// The default settings (see `docs/model.md`), for a catalogue size still to be set.
    pub const DEFAULTS: Self = Self {
        num_items: 0,
        max_len: 50,
        d_model: 64,
        layers: 2,
        heads: 2,
        dropout: 0.5,
        refinement: Refinement::Value,
        refine_scale: 1.0,
        activation: Activation::Gelu,
        ffn_multiplier: 4,
        repeat: RepeatBonus::NONE,
        trained_until: None,
    };

    /// Largest feed-forward multiplier accepted.
    pub const MAX_FFN_MULTIPLIER: usize = 16;

    /// The feed-forward multiplier of bundles written before it was a setting.
    fn legacy_ffn_multiplier() -> usize {
        1
    }

    /// Width of the feed-forward hidden layer.
    pub fn ffn_width(&self) -> usize {
        self.ffn_multiplier * self.d_model
    }

    /// The default configuration for a catalogue of `num_items`.
    pub fn new(num_items: usize) -> Self {
        Self {
            num_items,
            ..Self::DEFAULTS
        }
    }

    /// Largest catalogue a bundle may describe.
    pub const MAX_ITEMS: usize = 50_000_000;
    /// Longest sequence length n.
    pub const MAX_LEN: usize = 4096;
    /// Widest embedding size d.
    pub const MAX_D_MODEL: usize = 4096;
    /// Most transformer blocks.
    pub const MAX_LAYERS: usize = 64;
    /// Largest magnitude of `refine_scale`.
    pub const MAX_REFINE_SCALE: f32 = 1000.0;

    /// Checks that the numbers describe a buildable network of sane size: every size is
    /// positive and at most its `MAX_*` bound, `heads` divides `d_model` (so heads ≤ d),
    /// dropout is in [0, 1), `refine_scale` is finite with |s| ≤ [`Self::MAX_REFINE_SCALE`]
    /// and `trained_until` finite.
    /// Runs in constant time: loaders call it before anything is allocated.
    pub fn validate(&self) -> Result<(), String> {
        let sizes = [
            ("num_items", self.num_items, Self::MAX_ITEMS),
            ("max_len", self.max_len, Self::MAX_LEN),
            ("d_model", self.d_model, Self::MAX_D_MODEL),
            ("layers", self.layers, Self::MAX_LAYERS),
            ("heads", self.heads, Self::MAX_D_MODEL),
            (
                "ffn_multiplier",
                self.ffn_multiplier,
                Self::MAX_FFN_MULTIPLIER,
            ),
        ];
        check_counts(&sizes, "must be positive")?;
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(format!(
                "d_model {} is not divisible by heads {}",
                self.d_model, self.heads
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout {} is not in [0, 1)", self.dropout));
        }
        if !(-Self::MAX_REFINE_SCALE..=Self::MAX_REFINE_SCALE).contains(&self.refine_scale) {
            return Err(format!(
                "refine_scale {} is not a number in [-{m}, {m}]",
                self.refine_scale,
                m = Self::MAX_REFINE_SCALE
            ));
        }
        if let Some(time) = self.trained_until.filter(|t| !t.is_finite()) {
            return Err(format!("trained_until {time} is not a finite time"));
        }
        self.repeat.validate()
    }

    /// Builds a freshly initialised network on `device`.
    pub fn init(&self, device: &Device) -> Awrsr {
        self.init_with_item_rows(self.num_items + 1, device)
    }

    /// [`Self::init`] with an item embedding of `rows` rows instead of `num_items + 1`: a
    /// network whose item vectors are held elsewhere (serving passes them to
    /// [`Awrsr::encode_embedded`]) keeps one.
    pub fn init_with_item_rows(&self, rows: usize, device: &Device) -> Awrsr {
        let std = 1.0 / (self.d_model as f64).sqrt();
        let embedding = |n| {
            EmbeddingConfig::new(n, self.d_model)
                .with_initializer(Initializer::Normal { mean: 0.0, std })
                .init(device)
        };
        Awrsr {
            items: embedding(rows),
            positions: embedding(self.max_len),
            blocks: (0..self.layers).map(|_| Block::new(self, device)).collect(),
            final_norm: LayerNormConfig::new(self.d_model).init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            d_model: self.d_model,
        }
    }
}

/// Checks a table of `(name, value, max)` settings: each value must be at least 1 (else
/// `"{name} {zero}"`, `zero` saying so in the caller's words) and at most its `max` (else
/// `"{name} {value} is above the limit of {max}"`). [`ModelConfig::validate`] and the
/// training settings' check share it.
pub(crate) fn check_counts(table: &[(&str, usize, usize)], zero: &str) -> Result<(), String> {
    for &(name, value, max) in table {
        if value == 0 {
            return Err(format!("{name} {zero}"));
        }
        if value > max {
            return Err(format!("{name} {value} is above the limit of {max}"));
        }
    }
    Ok(())
}

/// The encoded sessions.
pub struct Encoded {
    /// Hidden state at every position after the final LayerNorm, `[b, n, d]`.
    pub hidden: Tensor<3>,
    /// Effective attention weights of every layer, each `[b, heads, n, n]`.
    pub attention: Vec<Tensor<4>>,
}

/// What the attention of one session costs through the whole network
/// ([`Awrsr::attention_cost`]): what batches are sized by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionCost {
    /// Floats of attention weights it holds: `heads × w × w` a layer, every layer's kept in
    /// [`Encoded`]. (The layer being computed holds a few more tensors of that size, and where
    /// it refines, two of `heads × w × n`.)
    pub floats: u64,
    /// Multiply-adds: `QKᵀ` and the weights times `V` (`2 × w × w × d` a layer) and where a
    /// layer refines, its three products (`3 × heads × w × w × n`).
    pub multiply_adds: u64,
}

/// SASRec with attention weight refinement.
#[derive(Module, Debug)]
pub struct Awrsr {
    /// Item embeddings `E`, `[N + 1, d]`, row 0 is padding; shared with the output layer.
    pub items: Embedding,
    /// Learned position embeddings `P`, `[n, d]`.
    pub positions: Embedding,
    /// The transformer blocks.
    pub blocks: Vec<Block>,
    /// LayerNorm after the last block.
    pub final_norm: LayerNorm,
    /// Dropout on the input embeddings.
    pub dropout: Dropout,
    /// Embedding size d.
    pub d_model: usize,
}

impl Awrsr {
    /// Encodes a batch of left-padded sessions (see [`input_tensor`]) at every position.
    pub fn encode(&self, input: Input) -> Encoded {
        let embedded = self.items.forward(input.items.clone());
        self.encode_embedded(embedded, input, false)
    }

    /// [`Awrsr::encode`] for item embeddings `[b, n, d]` looked up elsewhere (the serving
    /// table of [`crate::scoring`]); `input` gives the masks. Padded slots are zeroed here,
    /// so whatever was looked up for them does not matter. With `last_only` the last block
    /// computes its output at the newest position alone (`hidden` is `[b, 1, d]`): a
    /// recommendation needs nothing else, and it saves a quarter of the work.
    pub fn encode_embedded(&self, embedded: Tensor<3>, input: Input, last_only: bool) -> Encoded {
        let Input { keep, mask, .. } = input;
        let [b, n, _] = embedded.dims();
        // Left padding puts the newest item at the last position, so a batch narrower than
        // max_len (trimmed to its longest session) takes the last n position embeddings.
        let max_len = self.positions.weight.dims()[0];
        let positions = self
            .positions
            .weight
            .val()
            .slice(max_len - n..max_len)
            .unsqueeze_dim::<3>(0);
        let x = embedded.mul_scalar((self.d_model as f32).sqrt()) + positions;
        let mut x = dropout(&self.dropout, x) * keep.clone();
        let mut attention = Vec::with_capacity(self.blocks.len());
        for (i, block) in self.blocks.iter().enumerate() {
            let last = last_only && i + 1 == self.blocks.len();
            let (out, weights) = block.forward(x, mask.clone(), last);
            let keep = if last {
                keep.clone().slice([0..b, n - 1..n])
            } else {
                keep.clone()
            };
            x = out * keep;
            attention.push(weights);
        }
        Encoded {
            hidden: self.final_norm.forward(x),
            attention,
        }
    }

    /// The attention's cost for one session at width `w` (at most `max_len`, which is `n`).
    pub fn attention_cost(&self, w: usize) -> AttentionCost {
        let (w, n, d) = (
            w as u64,
            self.positions.weight.dims()[0] as u64,
            self.d_model as u64,
        );
        let mut cost = AttentionCost {
            floats: 0,
            multiply_adds: 0,
        };
        for block in &self.blocks {
            let (heads, refined) = block.attention_shape();
            let (heads, refined) = (heads as u64, u64::from(refined));
            cost.floats += heads * w * w;
            cost.multiply_adds += 2 * w * w * d + refined * 3 * heads * w * w * n;
        }
        cost
    }

    /// Scores of every real item (column j is item j + 1) for hidden states `[m, d]`.
    pub fn score_all(&self, hidden: Tensor<2>) -> Tensor<2> {
        hidden.matmul(self.item_vectors().transpose())
    }

    /// The items' embeddings `[num_items, d]` (row `j` is internal item `j + 1`; the padding
    /// row is left out): what [`score_all`](Self::score_all) scores against.
    pub fn item_vectors(&self) -> Tensor<2> {
        let n_rows = self.items.weight.dims()[0];
        self.items.weight.val().slice(1..n_rows)
    }

    /// Scores of the given items `[m, k]` for hidden states `[m, d]`: `h · E[item]`.
    pub fn score_items(&self, hidden: Tensor<2>, items: Tensor<2, Int>) -> Tensor<2> {
        let [m, k] = items.dims();
        let embedded = self.items.forward(items); // [m, k, d]
        let hidden = hidden.unsqueeze_dim::<3>(2); // [m, d, 1]
        embedded.matmul(hidden).reshape([m, k])
    }

    /// Hidden state at the newest (last) position of each sequence, `[b, d]`.
    pub fn last_hidden(encoded: &Encoded) -> Tensor<2> {
        let [b, n, d] = encoded.hidden.dims();
        encoded
            .hidden
            .clone()
            .slice([0..b, n - 1..n])
            .reshape([b, d])
    }
}

/// Attention rollout (Abnar & Zuidema 2020) read at the newest position: how much each
/// position contributes to the last output, `[n]`. `layers` holds each layer's
/// head-averaged effective weights `Ā_l` (`[n, n]` row-major, first layer first); the
/// rollout is the last row of `R = Π_l (½·Ā_l + ½·I)`, computed on the host as a row
/// vector times each layer from the last down (a few thousand multiply-adds).
pub fn rollout(layers: &[Vec<f32>], n: usize) -> Vec<f32> {
    let mut row = vec![0.0f32; n];
    row[n - 1] = 1.0;
    for weights in layers.iter().rev() {
        let mut next = vec![0.0f32; n];
        for (i, &r) in row.iter().enumerate().filter(|(_, r)| **r != 0.0) {
            for (out, &w) in next.iter_mut().zip(&weights[i * n..(i + 1) * n]) {
                *out += 0.5 * r * w;
            }
            next[i] += 0.5 * r;
        }
        row = next;
    }
    row
}

/// Each layer's effective attention weights averaged over heads, `[n, n]` per layer, for
/// the first session of the batch (what [`rollout`] and the attention map read).
pub fn head_averaged(encoded: &Encoded) -> Vec<Tensor<2>> {
    encoded
        .attention
        .iter()
        .map(|weights| {
            let [_, _, n, _] = weights.dims();
            weights.clone().slice(0..1).mean_dim(1).reshape([n, n])
        })
        .collect()
}

/// A batch of sessions ready for [`Awrsr::encode`]: the ids and the masks derived from them,
/// all built on the host and uploaded once (a handful of tensor ops less per call).
pub struct Input {
    /// Left-padded item ids `[b, n]` (0 = padding).
    pub items: Tensor<2, Int>,
    /// 1 at real items, 0 at padding, `[b, n, 1]`.
    pub keep: Tensor<3>,
    /// `[b, 1, n, n]`, true where query i may not see key j: j > i, or j is padding (j ≠ i,
    /// so that every row keeps one visible key and padding rows never look ahead).
    pub mask: Tensor<4, Bool>,
}

/// Left-pads (with 0) or truncates (keeping the newest items) each sequence to `max_len`
/// and builds the network's [`Input`] on `device`.
pub fn input_tensor(sequences: &[&[u32]], max_len: usize, device: &Device) -> Input {
    let (b, n) = (sequences.len(), max_len);
    let ids = left_padded(sequences, n);
    let keep: Vec<f32> = ids
        .iter()
        .map(|&id| if id == 0 { 0.0 } else { 1.0 })
        .collect();
    let mut mask = vec![false; b * n * n];
    for (row, cells) in mask.chunks_mut(n * n).enumerate() {
        let padding: Vec<bool> = ids[row * n..(row + 1) * n]
            .iter()
            .map(|&id| id == 0)
            .collect();
        // Row i: the padding keys before i, i itself visible, every key after i.
        for (i, line) in cells.chunks_mut(n).enumerate() {
            line[..i].copy_from_slice(&padding[..i]);
            line[i + 1..].fill(true);
        }
    }
    Input {
        items: Tensor::from_data(TensorData::new(ids, [b, n]), device),
        keep: Tensor::from_data(TensorData::new(keep, [b, n, 1]), device),
        mask: Tensor::from_data(TensorData::new(mask, [b, 1, n, n]), device),
    }
}

/// The narrowest width that holds every sequence's newest `max_len` items (at least 1): a
/// batch built at this width instead of `max_len` encodes to the same outputs at its real
/// positions, with less work when the sessions are short.
pub fn trimmed_width(sequences: &[&[u32]], max_len: usize) -> usize {
    sequences
        .iter()
        .map(|s| s.len())
        .max()
        .unwrap_or(0)
        .clamp(1, max_len.max(1))
}

/// The newest `max_len` items of `sequence`: what the network reads of it.
pub fn window(sequence: &[u32], max_len: usize) -> &[u32] {
    &sequence[sequence.len().saturating_sub(max_len)..]
}

/// The row-major `[b, max_len]` ids of [`input_tensor`], on the host.
pub fn left_padded(sequences: &[&[u32]], max_len: usize) -> Vec<i64> {
    let mut data = vec![0i64; sequences.len() * max_len];
    for (row, items) in data.chunks_mut(max_len).zip(sequences) {
        let items = window(items, max_len);
        let start = max_len - items.len();
        for (slot, &item) in row[start..].iter_mut().zip(items) {
            *slot = item as i64;
        }
    }
    data
}
