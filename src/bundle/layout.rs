//! The tensors a model configuration implies — names, shapes, parameter count — computed
//! from the numbers alone, without building the network. Loading compares a file against
//! this before anything is allocated; `tests/bundle.rs` checks that it matches the network.

use crate::model::{ModelConfig, Refinement};

/// The item table's tensor name: `[num_items + 1, d_model]`, row 0 for padding.
pub const ITEM_TABLE: &str = "items.weight";

/// One expected tensor: its path in the model and its shape.
pub type Expected = (String, Vec<usize>);

/// Every parameter tensor of a network of `config`, sorted by name. Call it on a validated
/// configuration only: its sizes keep the list short and every count within `u64`.
pub fn tensors(config: &ModelConfig) -> Vec<Expected> {
    let (d, n) = (config.d_model, config.max_len);
    let mut all = vec![
        (ITEM_TABLE.to_string(), vec![config.num_items + 1, d]),
        ("positions.weight".to_string(), vec![n, d]),
        ("final_norm.gamma".to_string(), vec![d]),
        ("final_norm.beta".to_string(), vec![d]),
    ];
    for layer in 0..config.layers {
        let at = |name: &str| format!("blocks.{layer}.{name}");
        for norm in ["norm_attention", "norm_ffn"] {
            all.push((at(&format!("{norm}.gamma")), vec![d]));
            all.push((at(&format!("{norm}.beta")), vec![d]));
        }
        let f = config.ffn_width();
        let linears = [
            ("attention.query", d, d),
            ("attention.key", d, d),
            ("attention.value", d, d),
            ("attention.output", d, d),
            ("ffn_in", d, f),
            ("ffn_out", f, d),
        ];
        for (linear, inputs, outputs) in linears {
            all.push((at(&format!("{linear}.weight")), vec![inputs, outputs]));
            all.push((at(&format!("{linear}.bias")), vec![outputs]));
        }
        if config.refinement != Refinement::None {
            all.push((at("attention.refiner.w_query"), vec![config.heads, n, n]));
            all.push((at("attention.refiner.w_key"), vec![config.heads, n, n]));
        }
        if config.refinement == Refinement::Additive {
            all.push((at("attention.refiner.gate"), vec![1]));
        }
    }
    all.sort();
    all
}

/// Number of f32 values in `tensors`, or `None` past `u64`.
pub fn parameter_count(tensors: &[Expected]) -> Option<u64> {
    tensors.iter().try_fold(0u64, |total, (_, shape)| {
        let size = shape
            .iter()
            .try_fold(1u64, |size, &dim| size.checked_mul(dim as u64))?;
        total.checked_add(size)
    })
}
