//! The model bundle: one safetensors file holding everything a recommender needs.
//!
//! Layout (a standard safetensors container, readable by any safetensors tool):
//! - header metadata `awrsr.format` = `"awrsr-bundle"`, `awrsr.version` = `"1"`,
//!   `awrsr.config` = the [`ModelConfig`] as JSON, `awrsr.items` = the external item ids
//!   as a JSON array (item i + 1 is entry i), `awrsr.titles` = the titles as a JSON array
//!   of strings or nulls (only when the log had titles);
//! - one f32 tensor per model parameter, named by its path in the model
//!   (`items.weight`, `blocks.0.attention.query.weight`, …).
//!
//! Loading checks the tag, the version, the metadata and every tensor's name, dtype and
//! shape before any weight is used, and says precisely what is wrong with a bad file.

use std::collections::HashMap;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use burn::tensor::Device;
use safetensors::{Dtype, SafeTensors};

use crate::catalogue::Catalogue;
use crate::model::{Awrsr, ModelConfig};

/// Value of the `awrsr.format` metadata key.
pub const FORMAT_TAG: &str = "awrsr-bundle";
/// Bundle layout version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const KEY_FORMAT: &str = "awrsr.format";
const KEY_VERSION: &str = "awrsr.version";
const KEY_CONFIG: &str = "awrsr.config";
const KEY_ITEMS: &str = "awrsr.items";
const KEY_TITLES: &str = "awrsr.titles";

/// Why a bundle cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bytes are not a safetensors container (truncated, or another kind of file).
    #[error("not an awrsr model bundle: {0}")]
    NotSafetensors(String),
    /// A safetensors file, but not ours.
    #[error("not an awrsr model bundle: format tag is {0:?}, expected \"awrsr-bundle\"")]
    WrongTag(String),
    /// A bundle from another version of awrsr.
    #[error("unsupported bundle version {found:?} (this build reads version {FORMAT_VERSION})")]
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
    /// A tensor the model needs is absent.
    #[error("bundle lacks the tensor {0:?}")]
    MissingTensor(String),
    /// A tensor the model does not have.
    #[error("bundle holds an unexpected tensor {0:?}")]
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
    /// The weights could not be applied or written.
    #[error("model weights: {0}")]
    Weights(String),
}

/// A loaded bundle: the configuration, the catalogue and the model with its weights.
#[derive(Debug)]
pub struct Bundle {
    /// The network configuration.
    pub config: ModelConfig,
    /// The items the model ranks.
    pub catalogue: Catalogue,
    /// The network, weights loaded, on the requested device, in inference mode.
    pub model: Awrsr,
}

/// Reads a bundle from bytes onto `device`. Only uploads data: safe on WebGPU.
pub fn decode(bytes: &[u8], device: &Device) -> Result<Bundle, BundleError> {
    let container = SafeTensors::deserialize(bytes).map_err(|e| BundleError::NotSafetensors(e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| BundleError::NotSafetensors(e.to_string()))?;
    let meta = header.metadata().clone().unwrap_or_default();
    check_tag(&meta)?;
    let config: ModelConfig = json_entry(&meta, KEY_CONFIG)?;
    config.validate().map_err(|reason| BundleError::BadMetadata { key: KEY_CONFIG, reason })?;
    let ids: Vec<String> = json_entry(&meta, KEY_ITEMS)?;
    let titles: Vec<Option<String>> = match meta.get(KEY_TITLES) {
        Some(_) => json_entry(&meta, KEY_TITLES)?,
        None => vec![None; ids.len()],
    };
    if ids.len() != config.num_items {
        let reason = format!("{} item ids for a model of {} items", ids.len(), config.num_items);
        return Err(BundleError::BadMetadata { key: KEY_ITEMS, reason });
    }
    let catalogue = Catalogue::new(ids, titles).map_err(|reason| BundleError::BadMetadata { key: KEY_ITEMS, reason })?;

    let mut model = config.init(device);
    check_tensors(&model, &container)?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes.to_vec()));
    model.load_from(&mut store).map_err(|e| BundleError::Weights(e.to_string()))?;
    Ok(Bundle { config, catalogue, model: model.valid() })
}

/// Writes a bundle. Reads the weights back from the device synchronously: native only.
#[cfg(not(target_arch = "wasm32"))]
pub fn encode(model: &Awrsr, config: &ModelConfig, catalogue: &Catalogue) -> Result<Vec<u8>, BundleError> {
    let mut store = SafetensorsStore::from_bytes(None)
        .metadata(KEY_FORMAT, FORMAT_TAG)
        .metadata(KEY_VERSION, FORMAT_VERSION.to_string())
        .metadata(KEY_CONFIG, json(config))
        .metadata(KEY_ITEMS, json(&catalogue.ids()));
    if catalogue.has_titles() {
        store = store.metadata(KEY_TITLES, json(&catalogue.titles()));
    }
    model.save_into(&mut store).map_err(|e| BundleError::Weights(e.to_string()))?;
    store.get_bytes().map_err(|e| BundleError::Weights(e.to_string()))
}

/// Serialises plain data (config, id and title lists) to JSON; cannot fail for these types.
#[cfg(not(target_arch = "wasm32"))]
fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

fn check_tag(meta: &HashMap<String, String>) -> Result<(), BundleError> {
    match meta.get(KEY_FORMAT) {
        Some(tag) if tag == FORMAT_TAG => {}
        Some(tag) => return Err(BundleError::WrongTag(tag.clone())),
        None => return Err(BundleError::WrongTag(String::new())),
    }
    match meta.get(KEY_VERSION) {
        Some(v) if v.parse::<u32>() == Ok(FORMAT_VERSION) => Ok(()),
        found => Err(BundleError::UnsupportedVersion { found: found.cloned().unwrap_or_default() }),
    }
}

fn json_entry<T: serde::de::DeserializeOwned>(meta: &HashMap<String, String>, key: &'static str) -> Result<T, BundleError> {
    let text = meta.get(key).ok_or(BundleError::BadMetadata { key, reason: "missing".into() })?;
    serde_json::from_str(text).map_err(|e| BundleError::BadMetadata { key, reason: e.to_string() })
}

/// Every tensor the model has must be in the file as f32 with the model's shape, and
/// nothing else may be.
fn check_tensors(model: &Awrsr, container: &SafeTensors) -> Result<(), BundleError> {
    let expected: HashMap<String, Vec<usize>> = model
        .collect(None, None, false)
        .into_iter()
        .map(|t| (t.name.clone(), t.shape.to_vec()))
        .collect();
    for name in container.names() {
        if !expected.contains_key(&name[..]) {
            return Err(BundleError::UnexpectedTensor(name.to_string()));
        }
    }
    let mut names: Vec<_> = expected.keys().collect();
    names.sort();
    for name in names {
        let shape = &expected[name];
        let view = container.tensor(name).map_err(|_| BundleError::MissingTensor(name.clone()))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape.as_slice() {
            return Err(BundleError::BadTensor {
                name: name.clone(),
                expected: format!("F32 {shape:?}"),
                found: format!("{:?} {:?}", view.dtype(), view.shape()),
            });
        }
    }
    Ok(())
}
