//! How a bundle stores its weights: f32 (exact), f16 (half the bytes) or int8 with one f16
//! scale per row (a quarter; the item table dominates a bundle and compresses poorly as
//! floats). Computation is always f32: loading widens the stored weights back.
//!
//! - `f32`: every tensor F32; the bundle has no `awrsr.precision` key (older bundles too).
//! - `f16`: every tensor F16 (IEEE half, round to nearest).
//! - `int8`: every tensor of rank ≥ 2 as I8 plus `<name>.scale`, F16, one value per row
//!   (all dimensions but the last): `w = q · scale`, `scale ≥ max |row| / 127` (the nearest
//!   f16 at or above it: its 11-bit precision is far finer than the 8-bit values it scales,
//!   and it saves 2 bytes a row — 16 KB gzip on the demo's item table). Vectors (biases,
//!   norms, the refinement gate) stay F32.

use std::borrow::Cow;

use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use super::BundleError;
use super::layout::{Expected, ITEM_TABLE};

/// Storage precision of a bundle's weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats: exact.
    #[default]
    F32,
    /// 16-bit floats: half the size.
    F16,
    /// 8-bit integers with an f16 scale per row: a quarter of the size.
    Int8,
}

/// Suffix of the per-row scale tensor of an int8 tensor.
pub const SCALE_SUFFIX: &str = ".scale";

impl Precision {
    /// The name written in `awrsr.precision`.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::Int8 => "int8",
        }
    }

    /// Reads an `awrsr.precision` value.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::F32, Self::F16, Self::Int8]
            .into_iter()
            .find(|p| p.name() == text)
    }

    /// The tensors stored for the model tensors `expected`, with their dtypes, sorted by name.
    pub fn stored(self, expected: &[Expected]) -> Vec<(String, Dtype, Vec<usize>)> {
        let mut stored = Vec::with_capacity(expected.len() * 2);
        for (name, shape) in expected {
            match self {
                Self::F32 => stored.push((name.clone(), Dtype::F32, shape.clone())),
                Self::F16 => stored.push((name.clone(), Dtype::F16, shape.clone())),
                Self::Int8 if shape.len() < 2 => {
                    stored.push((name.clone(), Dtype::F32, shape.clone()))
                }
                Self::Int8 => {
                    stored.push((name.clone(), Dtype::I8, shape.clone()));
                    stored.push((
                        format!("{name}{SCALE_SUFFIX}"),
                        Dtype::F16,
                        shape[..shape.len() - 1].to_vec(),
                    ));
                }
            }
        }
        stored.sort_by(|a, b| a.0.cmp(&b.0));
        stored
    }
}

/// Bytes per value of a stored dtype (only the three a bundle uses).
pub fn dtype_bytes(dtype: Dtype) -> u64 {
    match dtype {
        Dtype::F16 => 2,
        Dtype::I8 => 1,
        _ => 4,
    }
}

/// The f32 values of model tensor `name` (stored in any precision), row-major.
pub fn read_f32(container: &SafeTensors, name: &str) -> Result<Vec<f32>, BundleError> {
    let view = container
        .tensor(name)
        .map_err(|_| BundleError::MissingTensor(name.to_string()))?;
    match view.dtype() {
        Dtype::I8 => {
            let scale_name = format!("{name}{SCALE_SUFFIX}");
            let scales = container
                .tensor(&scale_name)
                .map_err(|_| BundleError::MissingTensor(scale_name.clone()))?;
            let scales = real_values(&scale_name, scales.dtype(), scales.data())?;
            let row = view.shape().last().copied().unwrap_or(1).max(1);
            Ok(view
                .data()
                .iter()
                .enumerate()
                .map(|(i, &q)| f32::from(q as i8) * scales.get(i / row).copied().unwrap_or(0.0))
                .collect())
        }
        dtype => real_values(name, dtype, view.data()),
    }
}

/// The values of an F32 or F16 tensor's data, as f32.
pub fn real_values(name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>, BundleError> {
    match dtype {
        Dtype::F32 => Ok(floats(data)),
        Dtype::F16 => Ok(data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect()),
        other => Err(BundleError::Weights(format!(
            "tensor {name:?} has unsupported dtype {other:?}"
        ))),
    }
}

/// Little-endian f32 values.
pub fn floats(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The bundle's tensors as an f32 safetensors container (what burn's store loads): the
/// bytes themselves when they already are, else a widened copy of the model tensors, the
/// item table taken from `item_table` (already widened) rather than widened again.
pub fn widened<'a>(
    bytes: &'a [u8],
    container: &SafeTensors,
    expected: &[Expected],
    precision: Precision,
    item_table: &[f32],
) -> Result<Cow<'a, [u8]>, BundleError> {
    if precision == Precision::F32 {
        return Ok(Cow::Borrowed(bytes));
    }
    let values = |name: &str| match name {
        ITEM_TABLE => Ok(to_bytes(item_table)),
        _ => read_f32(container, name).map(|v| to_bytes(&v)),
    };
    let tensors = expected
        .iter()
        .map(|(name, shape)| Ok((name.clone(), shape.clone(), values(name)?)))
        .collect::<Result<Vec<_>, BundleError>>()?;
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            Ok((
                name.clone(),
                safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), data)
                    .map_err(weights)?,
            ))
        })
        .collect::<Result<Vec<_>, BundleError>>()?;
    Ok(Cow::Owned(
        safetensors::serialize(views, None).map_err(weights)?,
    ))
}

/// Stores f32 `values` (a tensor of `shape`) in `precision`: the tensors to write, named
/// from `name`.
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub fn narrow(
    name: &str,
    shape: &[usize],
    values: &[f32],
    precision: Precision,
) -> Vec<(String, Dtype, Vec<usize>, Vec<u8>)> {
    match precision {
        Precision::F32 => vec![(
            name.to_string(),
            Dtype::F32,
            shape.to_vec(),
            to_bytes(values),
        )],
        Precision::F16 => {
            let data = values
                .iter()
                .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
                .collect();
            vec![(name.to_string(), Dtype::F16, shape.to_vec(), data)]
        }
        Precision::Int8 if shape.len() < 2 => vec![(
            name.to_string(),
            Dtype::F32,
            shape.to_vec(),
            to_bytes(values),
        )],
        Precision::Int8 => {
            let row = shape[shape.len() - 1].max(1);
            let scales: Vec<half::f16> = values
                .chunks(row)
                .map(|r| f16_at_least(r.iter().fold(0.0f32, |m, v| m.max(v.abs())) / 127.0))
                .collect();
            let data = values
                .chunks(row)
                .zip(&scales)
                .flat_map(|(r, s)| {
                    let s = s.to_f32();
                    r.iter().map(move |&v| {
                        if s > 0.0 {
                            (v / s).round().clamp(-127.0, 127.0) as i8 as u8
                        } else {
                            0
                        }
                    })
                })
                .collect();
            let scale_bytes = scales.iter().flat_map(|s| s.to_le_bytes()).collect();
            vec![
                (name.to_string(), Dtype::I8, shape.to_vec(), data),
                (
                    format!("{name}{SCALE_SUFFIX}"),
                    Dtype::F16,
                    shape[..shape.len() - 1].to_vec(),
                    scale_bytes,
                ),
            ]
        }
    }
}

/// The nearest f16 at or above a non-negative `value` (so that `max |row| / scale ≤ 127`).
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
fn f16_at_least(value: f32) -> half::f16 {
    let rounded = half::f16::from_f32(value);
    match rounded.to_f32() < value {
        true => half::f16::from_bits(rounded.to_bits() + 1),
        false => rounded,
    }
}

/// Little-endian bytes of f32 values.
fn to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn weights(e: safetensors::SafeTensorError) -> BundleError {
    BundleError::Weights(e.to_string())
}
