//! Training checkpoints: the whole state of a training run in one file, written after
//! every epoch, so that a run stopped at any moment (Ctrl-C, a closed laptop, a session
//! limit) resumes where its last epoch ended. The file is written and read natively only.
//!
//! The file: the magic `AWRSRCKP`, a format version (u32, little-endian), a CRC-32 of
//! everything after it (u32), then four sections, each its length (u64) and its bytes:
//! the [`State`] as JSON, the model being trained, the optimizer's state (both in burn's
//! burnpack format, which keeps the parameter ids that tie the optimizer's moments to the
//! weights) and the best model so far (burnpack). The checksum is verified before any
//! section is parsed; every length is checked against the file's size before it sizes an
//! allocation. A checksum only shows that the file is as written, so a checkpoint is also
//! checked against the run it resumes ([`Checkpoint::check_fits`]).

use std::collections::{HashMap, HashSet};
#[cfg(not(target_arch = "wasm32"))]
use std::path::Path;

use burn::optim::OptimizerRecord;
use burn::store::{BurnpackStore, ModuleSnapshot, burn_pack};
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use super::config::{Batching, Loss, TrainConfig};
use crate::catalogue::{excerpt, message_excerpt};
use crate::data::Split;
#[cfg(not(target_arch = "wasm32"))]
use crate::fs::{Refused, read_bounded, write_atomic};
use crate::metrics::Metrics;
use crate::model::{Awrsr, ModelConfig};

/// The first bytes of every checkpoint.
const MAGIC: &[u8; 8] = b"AWRSRCKP";
/// The format version this build reads and writes.
const VERSION: u32 = 1;
/// Largest checkpoint read (three copies of a model's weights and two optimizer moments).
pub const MAX_CHECKPOINT_BYTES: u64 = 8 << 30;

/// Where a run stands after its last completed epoch.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The network being trained.
    pub model: ModelConfig,
    /// The settings a resumed run must share (epochs and patience may change).
    pub settings: Settings,
    /// Fingerprint of the training data ([`fingerprint`]).
    pub data: String,
    /// Epochs completed.
    pub epoch: usize,
    /// Position of the shuffling / negative-sampling generator, in 32-bit words.
    pub rng_word_pos: u128,
    /// The learning rate's factor after the decay so far (1 in checkpoints from before it).
    #[serde(default = "one")]
    pub lr_scale: f64,
    /// The factor each completed epoch trained at (empty in checkpoints from before it).
    #[serde(default)]
    pub lr_scales: Vec<f64>,
    /// Epoch of the best model so far (1-based).
    pub best_epoch: usize,
    /// Validation metrics of the best model so far.
    pub best_valid: Metrics,
}

/// The training settings that shape the run's trajectory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Sequences per batch.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Objective.
    pub loss: Loss,
    /// Seed.
    pub seed: u64,
    /// Batching (checkpoints from before this setting used shuffled batches).
    #[serde(default)]
    pub batching: Batching,
    /// Uniform negatives of the sampled softmax (checkpoints from before it: the default then).
    #[serde(default = "default_negatives")]
    pub negatives: usize,
    /// How the negatives are drawn (0: uniformly, as in checkpoints from before it).
    #[serde(default)]
    pub negative_power: f32,
    /// Cosine-scoring temperature (0: off, as in checkpoints from before it).
    #[serde(default)]
    pub temperature: f32,
    /// Learning-rate decay (1: none, as in checkpoints from before it).
    #[serde(default = "one")]
    pub lr_decay: f64,
    /// Per-epoch learning-rate decay (1: none, as in checkpoints from before it).
    #[serde(default = "one")]
    pub lr_epoch_decay: f64,
    /// A warm retrain's old sequences (none, as in checkpoints from before it).
    #[serde(default)]
    pub old_sessions: usize,
    /// The share of them each epoch replays (all, as in checkpoints from before it).
    #[serde(default = "one")]
    pub replay: f64,
}

fn one() -> f64 {
    1.0
}

fn default_negatives() -> usize {
    TrainConfig::NEGATIVES_BEFORE_THE_FIELD
}

impl Settings {
    /// The trajectory-shaping part of `train`.
    pub fn of(train: &TrainConfig) -> Self {
        Self {
            batch_size: train.batch_size,
            learning_rate: train.learning_rate,
            loss: train.loss,
            seed: train.seed,
            batching: train.batching,
            negatives: train.negatives,
            negative_power: train.negative_power,
            temperature: train.temperature,
            lr_decay: train.lr_decay,
            lr_epoch_decay: train.lr_epoch_decay,
            old_sessions: train.old_sessions,
            replay: train.replay,
        }
    }
}

/// A checkpoint in memory: the state and the three burnpack sections.
pub struct Checkpoint {
    /// Where the run stands.
    pub state: State,
    /// The model being trained (autodiff parameters, with their ids).
    pub model: Vec<u8>,
    /// The optimizer's state, keyed by parameter id.
    pub optimizer: Vec<u8>,
    /// The best model so far.
    pub best: Vec<u8>,
}

impl Checkpoint {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let state = serde_json::to_vec(&self.state).map_err(|e| e.to_string())?;
        let sections = [state.as_slice(), &self.model, &self.optimizer, &self.best];
        let mut body = Vec::with_capacity(sections.iter().map(|s| 8 + s.len()).sum());
        for section in sections {
            body.extend_from_slice(&(section.len() as u64).to_le_bytes());
            body.extend_from_slice(section);
        }
        let mut bytes = Vec::with_capacity(16 + body.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        bytes.extend_from_slice(&body);
        Ok(bytes)
    }

    /// Parses a checkpoint file's bytes, checking its form and checksum (not yet whether
    /// it fits a run: see [`Checkpoint::check_fits`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let header = bytes
            .get(..16)
            .ok_or("not an awrsr checkpoint: shorter than its 16-byte header")?;
        if &header[..8] != MAGIC {
            return Err("not an awrsr checkpoint: wrong magic bytes".into());
        }
        let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(format!(
                "checkpoint format version {version}; this build reads version {VERSION}"
            ));
        }
        let stored = u32::from_le_bytes(header[12..16].try_into().expect("4 bytes"));
        let body = &bytes[16..];
        if crc32fast::hash(body) != stored {
            return Err(
                "the checkpoint is damaged or truncated: its checksum does not match".into(),
            );
        }
        let mut rest = body;
        let mut sections = Vec::with_capacity(4);
        for name in ["state", "model", "optimizer", "best model"] {
            let len = rest
                .get(..8)
                .ok_or_else(|| format!("the checkpoint ends before its {name} section"))?;
            let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
            rest = &rest[8..];
            if len > rest.len() as u64 {
                return Err(format!(
                    "the checkpoint's {name} section claims {len} bytes; {} remain",
                    rest.len()
                ));
            }
            let (section, tail) = rest.split_at(len as usize);
            sections.push(section);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(format!(
                "the checkpoint has {} bytes after its last section",
                rest.len()
            ));
        }
        let state = serde_json::from_slice(sections[0])
            .map_err(|e| format!("the checkpoint's state is unreadable: {e}"))?;
        Ok(Self {
            state,
            model: sections[1].to_vec(),
            optimizer: sections[2].to_vec(),
            best: sections[3].to_vec(),
        })
    }

    /// Checks that this checkpoint continues a run of `model` and `train` on the data of
    /// fingerprint `data` with `valid_cases` validation cases (names every difference), that
    /// its epochs and learning-rate factor are possible, and that its optimizer state belongs
    /// to its model ([`Checkpoint::check_optimizer`]). The checksum only shows that the file
    /// is as written: these checks hold even for one whose checksum was computed again.
    pub fn check_fits(
        &self,
        model: &ModelConfig,
        train: &TrainConfig,
        data: &str,
        valid_cases: usize,
    ) -> Result<(), String> {
        let (epoch, best) = (self.state.epoch, self.state.best_epoch);
        if best == 0 || best > epoch || epoch > TrainConfig::MAX_EPOCHS {
            return Err(format!(
                "the checkpoint is inconsistent: best epoch {best} of {epoch} (at most {})",
                TrainConfig::MAX_EPOCHS
            ));
        }
        let lr_scale = self.state.lr_scale;
        let scales = &self.state.lr_scales;
        if !scales.is_empty() && scales.len() != epoch {
            return Err(format!(
                "the checkpoint is inconsistent: {} learning rates for {epoch} epochs",
                scales.len()
            ));
        }
        if let Some(bad) = scales.iter().find(|s| !(0.0..=1.0).contains(*s)) {
            return Err(format!(
                "the checkpoint is inconsistent: learning-rate factor {bad} is not in [0, 1]"
            ));
        }
        if !(0.0..=1.0).contains(&lr_scale) {
            return Err(format!(
                "the checkpoint is inconsistent: learning-rate factor {lr_scale} is not in [0, 1]"
            ));
        }
        let mut differences = Vec::new();
        if self.state.data != data {
            differences.push(format!("data {} (now {data})", self.state.data));
        }
        if &self.state.model != model {
            let json = |c: &ModelConfig| serde_json::to_string(c).unwrap_or_default();
            differences.push(format!(
                "model {} (now {})",
                json(&self.state.model),
                json(model)
            ));
        }
        if self.state.settings != Settings::of(train) {
            let json = |s: &Settings| serde_json::to_string(s).unwrap_or_default();
            differences.push(format!(
                "training {} (now {})",
                json(&self.state.settings),
                json(&Settings::of(train))
            ));
        }
        if !differences.is_empty() {
            return Err(format!(
                "the checkpoint is of another run: {}",
                differences.join("; ")
            ));
        }
        let validated = self.state.best_valid.count();
        if validated != valid_cases || self.state.best_valid.ranks().len() != validated {
            return Err(format!(
                "the checkpoint is inconsistent: its best model was validated on {validated} cases ({} ranks); this run has {valid_cases}",
                self.state.best_valid.ranks().len()
            ));
        }
        self.check_optimizer()
    }

    /// Checks that the optimizer's state is this model's: every tensor and scalar of it names a
    /// parameter of the model section by its id, with that parameter's shape and rank, and
    /// every parameter has its state. Another run's state (whose ids match nothing, so that
    /// Adam would silently restart its moments) or moments of the wrong shape (which would
    /// fail at the first step) are refused.
    pub fn check_optimizer(&self) -> Result<(), String> {
        let bad = |reason: String| format!("the checkpoint's optimizer state {reason}");
        let params = parameter_shapes(&self.model)?;
        let reader = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(self.optimizer.clone()))
            .map_err(|e| {
            bad(format!(
                "is unreadable: {}",
                message_excerpt(&e.to_string())
            ))
        })?;
        let param = |key: &str, id: Option<u64>| {
            id.and_then(|id| params.get(&id)).ok_or_else(|| {
                bad(format!(
                    "{} belongs to no parameter of the model",
                    excerpt(key)
                ))
            })
        };
        let mut ranked = HashSet::new();
        for (key, value) in reader.scalars() {
            let (id, field) = key.split_once('.').unwrap_or((key, ""));
            let id = id.parse::<u64>().ok();
            let shape = param(key, id)?;
            if field == "__rank" {
                if usize::try_from(*value).ok() != Some(shape.len()) {
                    return Err(bad(format!(
                        "gives {} a rank other than its parameter's {}",
                        excerpt(key),
                        shape.len()
                    )));
                }
                ranked.extend(id);
            }
        }
        let tensors = reader.into_tensors().map_err(|e| {
            bad(format!(
                "is unreadable: {}",
                message_excerpt(&e.to_string())
            ))
        })?;
        for tensor in &tensors {
            let shape = param(&tensor.name, tensor.param_id)?;
            if tensor.shape.as_slice() != shape.as_slice() {
                return Err(bad(format!(
                    "holds {} of shape {:?} for a parameter of shape {shape:?}",
                    excerpt(&tensor.name),
                    tensor.shape.as_slice()
                )));
            }
        }
        if ranked.len() != params.len() {
            return Err(bad(format!(
                "covers {} of the model's {} parameters",
                ranked.len(),
                params.len()
            )));
        }
        Ok(())
    }

    /// Reads a checkpoint file: a regular file of at most [`MAX_CHECKPOINT_BYTES`], read
    /// with that bound (a file that grows while it is read is cut there and then fails its
    /// checksum).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(path: &Path) -> Result<Self, String> {
        let refuse = |e: String| format!("checkpoint {}: {e}", path.display());
        let bytes = read_bounded(path, MAX_CHECKPOINT_BYTES).map_err(|e| match e {
            Refused::Io(e) => refuse(e.to_string()),
            Refused::NotRegular => refuse("not a regular file".into()),
            Refused::TooLarge(size) => refuse(format!(
                "{size} bytes is above the limit of {MAX_CHECKPOINT_BYTES}"
            )),
        })?;
        Self::from_bytes(&bytes).map_err(refuse)
    }
}

/// The shape of every parameter of burnpack weights, by parameter id.
fn parameter_shapes(bytes: &[u8]) -> Result<HashMap<u64, Vec<usize>>, String> {
    let unreadable = |e: burn_pack::Error| {
        format!(
            "the checkpoint's model is unreadable: {}",
            message_excerpt(&e.to_string())
        )
    };
    let tensors = burn_pack::Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .and_then(burn_pack::Reader::into_tensors)
        .map_err(unreadable)?;
    let mut shapes = HashMap::with_capacity(tensors.len());
    for tensor in tensors {
        let id = tensor.param_id.ok_or_else(|| {
            format!(
                "the checkpoint's model has no parameter id for {}",
                excerpt(&tensor.name)
            )
        })?;
        if shapes
            .insert(id, tensor.shape.as_slice().to_vec())
            .is_some()
        {
            return Err(format!(
                "the checkpoint's model has parameter id {id} twice"
            ));
        }
    }
    Ok(shapes)
}

/// Writes `checkpoint` to `path` atomically (a temporary file renamed over it): a run
/// stopped mid-write leaves the previous epoch's checkpoint whole.
#[cfg(not(target_arch = "wasm32"))]
pub fn write(path: &Path, checkpoint: &Checkpoint) -> Result<(), String> {
    write_atomic(path, &checkpoint.to_bytes()?)
}

/// A module's weights, with their parameter ids, as burnpack bytes.
pub fn save_module(model: &Awrsr) -> Result<Vec<u8>, String> {
    let mut store = BurnpackStore::from_bytes(None);
    model
        .save_into(&mut store)
        .map_err(|e| format!("cannot save the model's weights: {e}"))?;
    Ok(store
        .get_bytes()
        .map_err(|e| format!("cannot save the model's weights: {e}"))?
        .to_vec())
}

/// Loads burnpack weights (and their parameter ids) into `model`, which must have the
/// same shape; every tensor must be present.
pub fn load_module(model: &mut Awrsr, bytes: &[u8]) -> Result<(), String> {
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())));
    let result = model
        .load_from(&mut store)
        .map_err(|e| format!("the checkpoint's weights do not fit the model: {e}"))?;
    match result.missing.is_empty() && result.errors.is_empty() {
        true => Ok(()),
        false => Err(format!(
            "the checkpoint's weights do not fit the model: missing {:?}, errors {:?}",
            result.missing, result.errors
        )),
    }
}

/// The optimizer's state as burnpack bytes.
pub fn save_optimizer(record: OptimizerRecord) -> Result<Vec<u8>, String> {
    Ok(record
        .into_bytes()
        .map_err(|e| format!("cannot save the optimizer's state: {e}"))?
        .to_vec())
}

/// The optimizer's state from burnpack bytes.
pub fn load_optimizer(bytes: &[u8]) -> Result<OptimizerRecord, String> {
    OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| format!("the checkpoint's optimizer state is unreadable: {e}"))
}

/// A short fingerprint of a split: its size and a CRC-32 of every sequence and case, so
/// that a checkpoint is never resumed on other data.
pub fn fingerprint(split: &Split) -> String {
    let mut hasher = crc32fast::Hasher::new();
    let mut feed = |items: &[u32]| {
        hasher.update(&(items.len() as u64).to_le_bytes());
        items.iter().for_each(|i| hasher.update(&i.to_le_bytes()));
    };
    split.train.iter().for_each(|s| feed(s));
    for case in split.valid.iter().chain(&split.test) {
        feed(&case.input);
        feed(&[case.target]);
    }
    format!(
        "{} users, crc32:{:08x}",
        split.train.len(),
        hasher.finalize()
    )
}
