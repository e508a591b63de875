//! The bundle checksum (`awrsr.checksum` = `crc32:` + 8 hex digits): CRC-32 over the
//! canonical content, so that a flipped bit anywhere that matters is noticed on load.
//!
//! Canonical content, each part fed as its length (u64, little-endian) then its bytes:
//! the metadata entries `awrsr.config`, `awrsr.items`, `awrsr.titles` and `awrsr.precision` (each as key then
//! value, skipped when absent), then every tensor in name order as its name, its dtype
//! (`F32`, `F16`, `I8`), each dimension (as 8 little-endian bytes) and its data.

use std::collections::HashMap;

use safetensors::tensor::TensorView;

/// Prefix of the checksum value, naming the algorithm.
const PREFIX: &str = "crc32:";
/// The metadata entries covered, in this order.
pub const COVERED: [&str; 4] = [
    "awrsr.config",
    "awrsr.items",
    "awrsr.titles",
    "awrsr.precision",
];

/// The checksum value for `meta` and `tensors` (a container's tensors, in any order).
pub fn compute(meta: &HashMap<String, String>, tensors: &[(String, TensorView)]) -> String {
    let mut hasher = crc32fast::Hasher::new();
    let mut feed = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    for key in COVERED {
        if let Some(value) = meta.get(key) {
            feed(key.as_bytes());
            feed(value.as_bytes());
        }
    }
    let mut sorted: Vec<&(String, TensorView)> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, view) in sorted {
        feed(name.as_bytes());
        feed(format!("{:?}", view.dtype()).as_bytes());
        for &dim in view.shape() {
            feed(&(dim as u64).to_le_bytes());
        }
        feed(view.data());
    }
    format!("{PREFIX}{:08x}", hasher.finalize())
}

/// Whether `stored` has the form this build writes (`crc32:` and 8 lowercase hex digits).
pub fn well_formed(stored: &str) -> bool {
    stored.strip_prefix(PREFIX).is_some_and(|hex| {
        hex.len() == 8
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}
