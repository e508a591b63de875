//! The item table as served, and scoring every item for a session: the one product per
//! recommendation that grows with the catalogue.
//!
//! The table is kept transposed, `Eᵀ` without the padding row (`[d, N]`, row-major), so that
//! scoring is a column-major matrix–vector product: a streaming pass with no horizontal sums
//! (natively, burn's CPU backend does it 2–2.5× faster than over the training layout
//! `[N + 1, d]`). A session's embeddings are a gather of at most n columns.
//!
//! In the browser on the CPU, burn's flex backend multiplies through `gemm`, whose wasm32
//! build runs matrix–vector products with its scalar kernel (gemm-common 0.19 injects the
//! `simd128` module with the `Scalar` SIMD type for gemv), and the size-tuned build does not
//! auto-vectorise: there the table stays on the host, packed in tiles of [`TILE`] items
//! (each tile's `d × TILE` block contiguous, so the pass reads memory strictly in order),
//! and a small simd128 kernel (`score_tiles`) scores it. Everywhere else burn's `matmul`
//! does. The browser parity tests (WebGPU, CPU wasm, native CLI: same top 10, scores
//! within 1e-4, at 9,724 and 100,000 items) hold the two paths together.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::bundle::BundleError;
use crate::model::{ModelConfig, left_padded};

/// The catalogue's embeddings, transposed, where scoring them is fastest.
#[derive(Debug)]
pub enum ServingItems {
    /// On the compute device; scored with burn's `matmul`.
    Device(Box<Tensor<2>>),
    /// On the host (the browser's CPU path), packed for `score_tiles`.
    Host {
        /// Item j's value k is at `tiled(j, k, d)`; the last tile is padded with zeros.
        tiles: Vec<f32>,
        /// Embedding size d.
        d: usize,
        /// Number of items N.
        items: usize,
    },
}

/// Items per tile of the host layout (eight simd128 registers of four lanes).
pub const TILE: usize = 32;

/// Where item j's value k lies in the host layout of width d: tile `j / TILE`, holding d
/// rows of TILE values.
fn tiled(j: usize, k: usize, d: usize) -> usize {
    (j / TILE) * d * TILE + k * TILE + j % TILE
}

impl ServingItems {
    /// Lays out a bundle's [`item_table`](crate::bundle::Bundle::item_table) on the host (no
    /// read-back from the device, which WebGPU cannot do synchronously), transposed; uploads
    /// it unless `on_host`.
    pub fn from_table(
        table: &[f32],
        config: &ModelConfig,
        on_host: bool,
        device: &Device,
    ) -> Result<Self, BundleError> {
        let (d, items) = (config.d_model, config.num_items);
        if table.len() != (items + 1) * d {
            return Err(BundleError::Weights(
                "items.weight does not match the configuration".into(),
            ));
        }
        let values = &table[d..];
        let at = |j: usize, k: usize| values[j * d + k];
        Ok(match on_host {
            true => {
                let mut tiles = vec![0.0f32; items.div_ceil(TILE) * TILE * d];
                for j in 0..items {
                    for k in 0..d {
                        tiles[tiled(j, k, d)] = at(j, k);
                    }
                }
                Self::Host { tiles, d, items }
            }
            false => {
                let transposed = (0..d)
                    .flat_map(|k| (0..items).map(move |j| (j, k)))
                    .map(|(j, k)| at(j, k))
                    .collect();
                Self::Device(Box::new(Tensor::from_data(
                    TensorData::new(transposed, [d, items]),
                    device,
                )))
            }
        })
    }

    /// Embeddings of each sequence's newest `n` items, left-padded, `[b, n, d]` (padded
    /// slots hold item 1's, which the network zeroes).
    pub fn embed(&self, sequences: &[&[u32]], n: usize, device: &Device) -> Tensor<3> {
        let b = sequences.len();
        let columns: Vec<usize> = left_padded(sequences, n)
            .iter()
            .map(|&id| (id - 1).max(0) as usize)
            .collect();
        match self {
            Self::Device(table) => {
                let d = table.dims()[0];
                let columns = columns.into_iter().map(|c| c as i64).collect();
                let columns =
                    Tensor::<1, Int>::from_data(TensorData::new(columns, [b * n]), device);
                table
                    .as_ref()
                    .clone()
                    .select(1, columns)
                    .transpose()
                    .reshape([b, n, d])
            }
            Self::Host { tiles, d, .. } => {
                let value = |j: usize, k: usize| tiles[tiled(j, k, *d)];
                let rows: Vec<f32> = columns
                    .iter()
                    .flat_map(|&j| (0..*d).map(move |k| value(j, k)))
                    .collect();
                Tensor::from_data(TensorData::new(rows, [b, n, *d]), device)
            }
        }
    }

    /// What to read back for the scores of the items `picked` (internal indices 1..=N) for
    /// hidden states `[b, d]`: the `[b, k]` scores (on the device), or `hidden` (on the host,
    /// scored after the read by [`Self::finish_picked`]).
    pub fn to_read_picked(&self, hidden: Tensor<2>, picked: &[u32], device: &Device) -> Tensor<2> {
        match self {
            Self::Device(table) => {
                let columns = picked.iter().map(|&j| j as i64 - 1).collect();
                let columns =
                    Tensor::<1, Int>::from_data(TensorData::new(columns, [picked.len()]), device);
                hidden.matmul(table.as_ref().clone().select(1, columns))
            }
            Self::Host { .. } => hidden,
        }
    }

    /// The `[b, k]` scores (row-major) of the items `picked` from what
    /// [`Self::to_read_picked`] read back.
    pub fn finish_picked(&self, read: Vec<f32>, picked: &[u32]) -> Vec<f32> {
        match self {
            Self::Device(_) => read,
            Self::Host { tiles, d, .. } => read
                .chunks_exact(*d)
                .flat_map(|hidden| {
                    picked.iter().map(move |&j| {
                        (0..*d)
                            .map(|k| hidden[k] * tiles[tiled(j as usize - 1, k, *d)])
                            .sum::<f32>()
                    })
                })
                .collect(),
        }
    }

    /// What to read back for the scores of `hidden` `[1, d]`: the scores themselves (on the
    /// device), or `hidden` (on the host, scored after the read by [`Self::finish`]).
    pub fn to_read(&self, hidden: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Device(table) => hidden.matmul(table.as_ref().clone()),
            Self::Host { .. } => hidden,
        }
    }

    /// Scores of every item (entry j is item j + 1) from what [`Self::to_read`] read back.
    pub fn finish(&self, read: Vec<f32>) -> Vec<f32> {
        match self {
            Self::Device(_) => read,
            Self::Host { tiles, items, .. } => {
                let mut scores = score_tiles(tiles, &read);
                scores.truncate(*items);
                scores
            }
        }
    }
}

/// `scores[j] = Σ_k hidden[k] · E[j][k]` for every item of the tiled host layout (padding
/// included): per tile, `d` broadcasts into eight simd128 accumulators, reading the tile
/// once, in order.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn score_tiles(tiles: &[f32], hidden: &[f32]) -> Vec<f32> {
    use core::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_store};
    const LANES: usize = 4;
    let d = hidden.len();
    let mut scores = vec![0.0f32; tiles.len() / d];
    for (tile, out) in tiles
        .chunks_exact(d * TILE)
        .zip(scores.chunks_exact_mut(TILE))
    {
        let mut acc = [f32x4_splat(0.0); TILE / LANES];
        for (row, &h) in tile.chunks_exact(TILE).zip(hidden) {
            let h = f32x4_splat(h);
            for (i, a) in acc.iter_mut().enumerate() {
                // SAFETY: `row` holds TILE floats, so lanes 4i..4i + 4 are in bounds;
                // v128_load has no alignment requirement.
                let v = unsafe { v128_load(row.as_ptr().add(LANES * i) as *const v128) };
                *a = f32x4_add(*a, f32x4_mul(h, v));
            }
        }
        for (i, a) in acc.iter().enumerate() {
            // SAFETY: `out` holds TILE floats; unaligned stores are allowed.
            unsafe { v128_store(out.as_mut_ptr().add(LANES * i) as *mut v128, *a) };
        }
    }
    scores
}

/// `scores[j] = Σ_k hidden[k] · E[j][k]` for every item of the tiled host layout (padding
/// included), summing in the kernel's order (portable).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn score_tiles(tiles: &[f32], hidden: &[f32]) -> Vec<f32> {
    let d = hidden.len();
    let mut scores = vec![0.0f32; tiles.len() / d];
    for (tile, out) in tiles
        .chunks_exact(d * TILE)
        .zip(scores.chunks_exact_mut(TILE))
    {
        for (row, &h) in tile.chunks_exact(TILE).zip(hidden) {
            for (score, &v) in out.iter_mut().zip(row) {
                *score += h * v;
            }
        }
    }
    scores
}
