//! The model bundle: one safetensors file holding everything a recommender needs.
//!
//! Layout (a standard safetensors container, readable by any safetensors tool):
//! - header metadata `awrsr.format` = `"awrsr-bundle"`, `awrsr.version` = `"1"`,
//!   `awrsr.config` = the [`ModelConfig`] as JSON, `awrsr.items` = the external item ids
//!   as a JSON array (item i + 1 is entry i), `awrsr.titles` = the titles as a JSON array
//!   of strings or nulls (only when the log had titles), `awrsr.checksum` = a CRC-32 of the
//!   content ([`checksum`]; bundles written before it load with a warning);
//! - one tensor per model parameter, named by its path in the model
//!   (`items.weight`, `blocks.0.attention.query.weight`, …): f32, or, with
//!   `awrsr.precision` = `"f16"` / `"int8"`, stored narrower ([`precision`]; loading widens
//!   them back to f32).
//!
//! Loading validates before it allocates: the file must be exactly as long as its header
//! says; the configuration must be within [`ModelConfig::validate`]'s bounds; the tensors it
//! implies ([`layout`], computed without building the network) must match the file's
//! names, dtypes and shapes, and their parameter count its bytes; the checksum must match
//! and every weight must be finite. Only then is the network built. Every error names
//! what is wrong.

mod checksum;
pub mod layout;
pub mod precision;

use std::collections::HashMap;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensors};

use crate::catalogue::{Catalogue, excerpt, message_excerpt};
use crate::model::{Awrsr, ModelConfig};
pub use precision::Precision;
use precision::read_f32;

/// Value of the `awrsr.format` metadata key.
pub const FORMAT_TAG: &str = "awrsr-bundle";
/// Bundle layout version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const KEY_FORMAT: &str = "awrsr.format";
const KEY_VERSION: &str = "awrsr.version";
const KEY_CONFIG: &str = "awrsr.config";
const KEY_ITEMS: &str = "awrsr.items";
const KEY_TITLES: &str = "awrsr.titles";
const KEY_CHECKSUM: &str = "awrsr.checksum";
const KEY_PRECISION: &str = "awrsr.precision";
/// Every `awrsr.*` key this version knows; any other is refused.
const KNOWN_KEYS: [&str; 7] = [
    KEY_FORMAT,
    KEY_VERSION,
    KEY_CONFIG,
    KEY_ITEMS,
    KEY_TITLES,
    KEY_CHECKSUM,
    KEY_PRECISION,
];
/// Largest bundle a reader should accept (2 GiB); `train` refuses models that would not fit.
pub const MAX_BUNDLE_BYTES: u64 = 1 << 31;
/// Longest safetensors header accepted (the limit of the safetensors crate).
pub const MAX_HEADER_BYTES: u64 = 100_000_000;
/// Warning given for a bundle without `awrsr.checksum`.
pub const NO_CHECKSUM_WARNING: &str =
    "the bundle has no checksum (written by an older awrsr): corruption cannot be detected";

/// Why a bundle cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bytes are not a safetensors container (truncated, or another kind of file).
    #[error("not an awrsr model bundle: {0}")]
    NotSafetensors(String),
    /// A safetensors file, but not ours.
    #[error("not an awrsr model bundle: format tag is {}, expected \"awrsr-bundle\"", excerpt(.0))]
    WrongTag(String),
    /// A bundle from another version of awrsr.
    #[error("unsupported bundle version {} (this build reads version {FORMAT_VERSION})", excerpt(.found))]
    UnsupportedVersion {
        /// The version in the file.
        found: String,
    },
    /// A metadata entry is missing or unreadable.
    #[error("bundle metadata {key:?} is invalid: {reason}")]
    BadMetadata {
        /// The metadata key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// An `awrsr.*` metadata key this version does not know (a damaged or newer file).
    #[error("bundle metadata key {} is unknown to this version", excerpt(.0))]
    UnknownMetadata(String),
    /// The content does not match the stored checksum: the file is damaged.
    #[error("the bundle is corrupted: checksum {stored} stored, {computed} computed")]
    Corrupted {
        /// The checksum in the file.
        stored: String,
        /// The checksum of the content.
        computed: String,
    },
    /// The configuration implies a different amount of weight data than the file holds.
    #[error("the configuration describes {parameters} parameters ({expected} bytes as {}) but the file holds {found} bytes of tensor data", .precision.name())]
    SizeMismatch {
        /// Parameters the configuration implies.
        parameters: u64,
        /// How the bundle says they are stored.
        precision: Precision,
        /// Bytes they take.
        expected: u64,
        /// Bytes of tensor data in the file.
        found: u64,
    },
    /// A tensor the model needs is absent.
    #[error("bundle lacks the tensor {}", excerpt(.0))]
    MissingTensor(String),
    /// A tensor the model does not have.
    #[error("bundle holds an unexpected tensor {}", excerpt(.0))]
    UnexpectedTensor(String),
    /// A tensor of the wrong shape or type.
    #[error("tensor {name:?} is {found}, expected {expected}")]
    BadTensor {
        /// The tensor.
        name: String,
        /// Expected dtype and shape.
        expected: String,
        /// Found dtype and shape.
        found: String,
    },
    /// A weight is NaN or infinite.
    #[error("tensor {name:?} holds a non-finite weight ({value}) at index {index}")]
    NonFinite {
        /// The tensor.
        name: String,
        /// Flat index of the first bad value.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A finite weight too large for the precision asked for (f16 ends at ±65504).
    #[error("tensor {name:?} has a weight beyond the range of {} at index {index}: keep this model in f32", .precision.name())]
    OutOfRange {
        /// The tensor as stored (an int8 tensor's `.scale` when its scale overflows).
        name: String,
        /// Flat index of the first weight out of range.
        index: usize,
        /// The precision asked for.
        precision: Precision,
    },
    /// The weights could not be applied or written.
    #[error("model weights: {0}")]
    Weights(String),
}

/// What a bundle holds apart from the network, once every check has passed.
#[derive(Debug)]
pub struct Verified {
    /// The network configuration.
    pub config: ModelConfig,
    /// The items the model ranks.
    pub catalogue: Catalogue,
    /// How the weights are stored.
    pub precision: Precision,
    /// Problems that do not stop loading (a bundle without checksum); callers show them.
    pub warnings: Vec<String>,
}

/// A loaded bundle: what its header says, the network with its weights, and the item table.
#[derive(Debug)]
pub struct Bundle {
    /// The configuration, catalogue, precision and warnings, as [`verify`] read them.
    pub header: Verified,
    /// The network, weights loaded, on the requested device, in inference mode.
    pub model: Awrsr,
    /// The item table `items.weight` widened to f32, row-major `[num_items + 1, d_model]`
    /// (row 0 is padding), read from the file once.
    pub item_table: Vec<f32>,
}

/// Which weights [`decode_weights`] loads into the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ItemRows {
    /// The whole network, its item embedding included (training, evaluation, export).
    Loaded,
    /// Everything but the item embedding, which keeps one (padding) row: the server holds
    /// the table itself ([`ServingItems`](crate::scoring::ServingItems)), so it is never
    /// uploaded twice.
    Omitted,
}

/// Reads a bundle from bytes onto `device`: [`verify`], then build the network and load
/// the weights. Only uploads data: safe on WebGPU.
pub fn decode(bytes: &[u8], device: &Device) -> Result<Bundle, BundleError> {
    decode_weights(bytes, device, ItemRows::Loaded)
}

/// [`decode`] for serving: the network's item embedding is left at one padding row (it is
/// never read: the server embeds sessions from [`Bundle::item_table`] through
/// [`Awrsr::encode_embedded`]), so the table is on the device at most once.
pub fn decode_for_serving(bytes: &[u8], device: &Device) -> Result<Bundle, BundleError> {
    decode_weights(bytes, device, ItemRows::Omitted)
}

/// [`decode`] and [`decode_for_serving`].
fn decode_weights(bytes: &[u8], device: &Device, rows: ItemRows) -> Result<Bundle, BundleError> {
    let (header, container) = checked(bytes)?;
    let item_table = read_f32(&container, layout::ITEM_TABLE)?;
    let config = &header.config;
    let mut expected = layout::tensors(config);
    let mut model = match rows {
        ItemRows::Loaded => config.init(device),
        ItemRows::Omitted => {
            expected.retain(|(name, _)| name != layout::ITEM_TABLE);
            config.init_with_item_rows(1, device)
        }
    };
    let widened = precision::widened(bytes, &container, &expected, header.precision, &item_table)?;
    let mut store = SafetensorsStore::from_bytes(Some(widened.into_owned()))
        .allow_partial(rows == ItemRows::Omitted);
    if rows == ItemRows::Omitted {
        store = store.with_predicate(|path, _| path != layout::ITEM_TABLE);
    }
    let applied = model
        .load_from(&mut store)
        .map_err(|e| BundleError::Weights(e.to_string()))?;
    // Partial only by the item table: any other tensor missing is still an error.
    if let Some((path, _)) = applied
        .missing
        .iter()
        .find(|(p, _)| p != layout::ITEM_TABLE)
    {
        return Err(BundleError::Weights(format!("tensor {path} not found")));
    }
    Ok(Bundle {
        header,
        model: model.valid(),
        item_table,
    })
}

/// Every check of [`decode`] without building the network: cheap, allocates nothing
/// beyond the metadata it parses.
pub fn verify(bytes: &[u8]) -> Result<Verified, BundleError> {
    checked(bytes).map(|(verified, _)| verified)
}

/// [`verify`], also handing back the parsed container for [`decode`] to read.
fn checked(bytes: &[u8]) -> Result<(Verified, SafeTensors<'_>), BundleError> {
    check_declared_len(bytes, bytes.len() as u64)?;
    let not_safetensors = |e: safetensors::SafeTensorError| {
        BundleError::NotSafetensors(message_excerpt(&e.to_string()))
    };
    let container = SafeTensors::deserialize(bytes).map_err(not_safetensors)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(not_safetensors)?;
    let meta = header.metadata().clone().unwrap_or_default();
    check_keys(&meta)?;
    let warnings = check_checksum(&meta, &container)?;
    let config: ModelConfig = json_entry(&meta, KEY_CONFIG)?;
    config
        .validate()
        .map_err(|reason| BundleError::BadMetadata {
            key: KEY_CONFIG,
            reason,
        })?;
    let precision = read_precision(&meta)?;
    let expected = layout::tensors(&config);
    let stored = precision.stored(&expected);
    check_tensors(&stored, &container)?;
    check_size(&expected, &stored, precision, header.data_len())?;
    let catalogue = read_catalogue(&meta, &config)?;
    check_finite(&container.tensors())?;
    Ok((
        Verified {
            config,
            catalogue,
            precision,
            warnings,
        },
        container,
    ))
}

/// Writes a bundle with its weights in `precision`, and its checksum. Reads the weights
/// back from the device synchronously: natively, or in the studio's build (on the CPU).
/// Refuses non-finite weights.
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub fn encode(
    model: &Awrsr,
    config: &ModelConfig,
    catalogue: &Catalogue,
    precision: Precision,
) -> Result<Vec<u8>, BundleError> {
    let mut store = SafetensorsStore::from_bytes(None)
        .metadata(KEY_FORMAT, FORMAT_TAG)
        .metadata(KEY_VERSION, FORMAT_VERSION.to_string())
        .metadata(KEY_CONFIG, json(config))
        .metadata(KEY_ITEMS, json(&catalogue.ids()));
    if catalogue.has_titles() {
        store = store.metadata(KEY_TITLES, json(&catalogue.titles()));
    }
    model
        .save_into(&mut store)
        .map_err(|e| BundleError::Weights(e.to_string()))?;
    let unsealed = store
        .get_bytes()
        .map_err(|e| BundleError::Weights(e.to_string()))?;
    seal(&unsealed, precision)
}

/// [`encode`]'s bytes and the model as they store it: `model` itself at f32, else its
/// narrowed weights read back onto `device` (so that figures are those of the stored model).
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
pub fn encode_as_stored(
    model: Awrsr,
    config: &ModelConfig,
    catalogue: &Catalogue,
    precision: Precision,
    device: &Device,
) -> Result<(Vec<u8>, Awrsr), BundleError> {
    let bytes = encode(&model, config, catalogue, precision)?;
    let stored = match precision {
        Precision::F32 => model,
        _ => decode(&bytes, device)?.model,
    };
    Ok((bytes, stored))
}

/// Stores the f32 tensors of a bundle written by burn in `precision` and adds
/// `awrsr.precision` (unless f32) and `awrsr.checksum`.
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
fn seal(bytes: &[u8], precision: Precision) -> Result<Vec<u8>, BundleError> {
    let weights = |e: safetensors::SafeTensorError| BundleError::Weights(e.to_string());
    let f32s = SafeTensors::deserialize(bytes).map_err(weights)?.tensors();
    check_finite(&f32s)?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(weights)?;
    let mut meta = header.metadata().clone().unwrap_or_default();
    if precision != Precision::F32 {
        meta.insert(KEY_PRECISION.into(), precision.name().into());
    }
    let mut narrowed = Vec::new();
    for (name, view) in &f32s {
        narrowed.extend(precision::narrow(
            name,
            view.shape(),
            &precision::floats(view.data()),
            precision,
        ));
    }
    let views = narrowed
        .iter()
        .map(|(name, dtype, shape, data)| {
            Ok((
                name.clone(),
                TensorView::new(*dtype, shape.clone(), data).map_err(weights)?,
            ))
        })
        .collect::<Result<Vec<_>, BundleError>>()?;
    // A weight beyond f16's range became ±∞, which would not load.
    check_finite(&views).map_err(|e| match e {
        BundleError::NonFinite { name, index, .. } => BundleError::OutOfRange {
            name,
            index,
            precision,
        },
        other => other,
    })?;
    meta.insert(KEY_CHECKSUM.into(), checksum::compute(&meta, &views));
    safetensors::serialize(views, Some(meta)).map_err(weights)
}

/// Serialises plain data (config, id and title lists) to JSON; cannot fail for these types.
#[cfg(any(not(target_arch = "wasm32"), feature = "studio"))]
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

/// The length in bytes a safetensors file declares: 8 + header length + the end of its
/// tensor data. `head` is the start of the file, at least the 8-byte length and the header.
pub fn declared_len(head: &[u8]) -> Result<u64, BundleError> {
    let bad = |reason: &str| BundleError::NotSafetensors(reason.to_string());
    let prefix: [u8; 8] = head
        .get(..8)
        .and_then(|p| p.try_into().ok())
        .ok_or_else(|| bad("shorter than a safetensors header"))?;
    let header_len = u64::from_le_bytes(prefix);
    if header_len > MAX_HEADER_BYTES {
        return Err(bad(&format!(
            "header length {header_len} is above the limit of {MAX_HEADER_BYTES} bytes"
        )));
    }
    let header = head
        .get(8..8 + header_len as usize)
        .ok_or_else(|| bad("truncated inside the header"))?;
    let entries: HashMap<String, serde_json::Value> = serde_json::from_slice(header)
        .map_err(|e| bad(&message_excerpt(&format!("unreadable header: {e}"))))?;
    let mut data_end = 0u64;
    for (name, entry) in entries.iter().filter(|(name, _)| *name != "__metadata__") {
        let end = entry["data_offsets"][1]
            .as_u64()
            .ok_or_else(|| bad(&format!("tensor {} has no data offsets", excerpt(name))))?;
        data_end = data_end.max(end);
    }
    Ok((8 + header_len).saturating_add(data_end))
}

/// A bundle of `actual` bytes must be exactly as long as its safetensors header declares
/// ([`declared_len`]; `head` is the start of the file, at least the 8-byte length and the
/// header, or the whole file). One check, one message, for every reader: [`verify`] and
/// [`decode`] run it on the whole file, the browser build (`src/web/bytes.rs`) on the head
/// alone before it copies the rest, the CLI's bounded file reader (`src/cli/files.rs`) on
/// the head before it reads the rest.
pub fn check_declared_len(head: &[u8], actual: u64) -> Result<(), BundleError> {
    let declared = declared_len(head)?;
    match actual.cmp(&declared) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(BundleError::NotSafetensors(format!(
            "truncated: {actual} bytes of the {declared} its header describes"
        ))),
        std::cmp::Ordering::Greater => Err(BundleError::NotSafetensors(format!(
            "{} bytes after the {declared} its header describes",
            actual - declared
        ))),
    }
}

/// The tag and version must be ours, and every `awrsr.*` key known.
fn check_keys(meta: &HashMap<String, String>) -> Result<(), BundleError> {
    match meta.get(KEY_FORMAT) {
        Some(tag) if tag == FORMAT_TAG => {}
        Some(tag) => return Err(BundleError::WrongTag(tag.clone())),
        None => return Err(BundleError::WrongTag(String::new())),
    }
    match meta.get(KEY_VERSION) {
        Some(v) if v.parse::<u32>() == Ok(FORMAT_VERSION) => {}
        found => {
            return Err(BundleError::UnsupportedVersion {
                found: found.cloned().unwrap_or_default(),
            });
        }
    }
    let mut keys: Vec<&String> = meta
        .keys()
        .filter(|k| k.starts_with("awrsr.") && !KNOWN_KEYS.contains(&k.as_str()))
        .collect();
    keys.sort();
    match keys.first() {
        Some(key) => Err(BundleError::UnknownMetadata(key.to_string())),
        None => Ok(()),
    }
}

/// A stored checksum must match; a missing one is a warning.
fn check_checksum(
    meta: &HashMap<String, String>,
    container: &SafeTensors,
) -> Result<Vec<String>, BundleError> {
    let Some(stored) = meta.get(KEY_CHECKSUM) else {
        return Ok(vec![NO_CHECKSUM_WARNING.to_string()]);
    };
    if !checksum::well_formed(stored) {
        let reason = format!("{} is not `crc32:` and 8 hex digits", excerpt(stored));
        return Err(BundleError::BadMetadata {
            key: KEY_CHECKSUM,
            reason,
        });
    }
    let computed = checksum::compute(meta, &container.tensors());
    if *stored != computed {
        return Err(BundleError::Corrupted {
            stored: stored.clone(),
            computed,
        });
    }
    Ok(Vec::new())
}

fn json_entry<T: serde::de::DeserializeOwned>(
    meta: &HashMap<String, String>,
    key: &'static str,
) -> Result<T, BundleError> {
    let text = meta.get(key).ok_or(BundleError::BadMetadata {
        key,
        reason: "missing".into(),
    })?;
    serde_json::from_str(text).map_err(|e| BundleError::BadMetadata {
        key,
        reason: message_excerpt(&e.to_string()),
    })
}

/// The ids (one per item of the configuration) and optional titles.
fn read_catalogue(
    meta: &HashMap<String, String>,
    config: &ModelConfig,
) -> Result<Catalogue, BundleError> {
    let ids: Vec<String> = json_entry(meta, KEY_ITEMS)?;
    if ids.len() != config.num_items {
        let reason = format!(
            "{} item ids for a model of {} items",
            ids.len(),
            config.num_items
        );
        return Err(BundleError::BadMetadata {
            key: KEY_ITEMS,
            reason,
        });
    }
    let titles: Vec<Option<String>> = match meta.get(KEY_TITLES) {
        Some(_) => json_entry(meta, KEY_TITLES)?,
        None => vec![None; ids.len()],
    };
    if titles.len() != ids.len() {
        let reason = format!("{} titles for {} items", titles.len(), ids.len());
        return Err(BundleError::BadMetadata {
            key: KEY_TITLES,
            reason,
        });
    }
    Catalogue::new(ids, titles).map_err(|reason| BundleError::BadMetadata {
        key: KEY_ITEMS,
        reason,
    })
}

/// `awrsr.precision`: absent (f32), `f16` or `int8`.
fn read_precision(meta: &HashMap<String, String>) -> Result<Precision, BundleError> {
    match meta.get(KEY_PRECISION) {
        None => Ok(Precision::F32),
        Some(text) => Precision::parse(text).ok_or_else(|| BundleError::BadMetadata {
            key: KEY_PRECISION,
            reason: format!("{} is not \"f32\", \"f16\" or \"int8\"", excerpt(text)),
        }),
    }
}

/// The tensor data must be exactly what the configuration implies in the stored precision
/// (implied by matching shapes; checked on its own as the last guard before allocation).
fn check_size(
    expected: &[layout::Expected],
    stored: &[(String, Dtype, Vec<usize>)],
    precision: Precision,
    data_len: usize,
) -> Result<(), BundleError> {
    let parameters = layout::parameter_count(expected).unwrap_or(u64::MAX);
    let bytes = stored.iter().try_fold(0u64, |total, (_, dtype, shape)| {
        let size = shape
            .iter()
            .try_fold(precision::dtype_bytes(*dtype), |size, &dim| {
                size.checked_mul(dim as u64)
            })?;
        total.checked_add(size)
    });
    let bytes = bytes.unwrap_or(u64::MAX);
    if bytes != data_len as u64 {
        return Err(BundleError::SizeMismatch {
            parameters,
            precision,
            expected: bytes,
            found: data_len as u64,
        });
    }
    Ok(())
}

/// Every stored tensor must be in the file with its dtype and shape, and nothing else may be.
fn check_tensors(
    stored: &[(String, Dtype, Vec<usize>)],
    container: &SafeTensors,
) -> Result<(), BundleError> {
    let mut names = container.names();
    names.sort();
    if let Some(name) = names.iter().find(|name| {
        stored
            .binary_search_by(|(e, _, _)| e.as_str().cmp(name))
            .is_err()
    }) {
        return Err(BundleError::UnexpectedTensor(name.to_string()));
    }
    for (name, dtype, shape) in stored {
        let view = container
            .tensor(name)
            .map_err(|_| BundleError::MissingTensor(name.clone()))?;
        if view.dtype() != *dtype || view.shape() != shape.as_slice() {
            return Err(BundleError::BadTensor {
                name: name.clone(),
                expected: format!("{dtype:?} {shape:?}"),
                found: format!("{:?} {:?}", view.dtype(), view.shape()),
            });
        }
    }
    Ok(())
}

/// Every weight must be a finite number (f32 and f16 tensors, int8 scales included).
fn check_finite(tensors: &[(String, TensorView)]) -> Result<(), BundleError> {
    let mut tensors: Vec<&(String, TensorView)> = tensors.iter().collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, view) in tensors
        .into_iter()
        .filter(|(_, v)| matches!(v.dtype(), Dtype::F32 | Dtype::F16))
    {
        let values = precision::real_values(name, view.dtype(), view.data())?;
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(BundleError::NonFinite {
                name: name.clone(),
                index,
                value,
            });
        }
    }
    Ok(())
}
