//! How to train: the objective ([`Loss`]), the batching ([`Batching`]), the settings
//! ([`TrainConfig`]) with their bounds and defaults, and the defaults that depend on the
//! kind of log ([`LogKind`]).

use serde::{Deserialize, Serialize};

use crate::model::check_counts;

/// The training objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Full softmax cross-entropy over all items (the default).
    Ce,
    /// Binary cross-entropy with one sampled negative per position (original SASRec).
    Bce,
    /// Sampled softmax for large catalogues: each target against the batch's other targets
    /// and [`TrainConfig::negatives`] uniformly drawn items, every candidate's logit lowered
    /// by the log of its expected count among them (the log-frequency correction), copies of
    /// the target itself left out (`loss::sampled_softmax_cross_entropy`).
    Sampled,
}

impl Loss {
    /// Catalogues larger than this train with [`Loss::Sampled`] by default.
    pub const SAMPLED_ABOVE: usize = 20_000;

    /// The default objective for a catalogue of `num_items`: the full softmax, the most
    /// accurate, up to [`Self::SAMPLED_ABOVE`] items; the sampled softmax above, where the
    /// full one's cost (targets × items × d) dominates an epoch.
    pub fn for_catalogue(num_items: usize) -> Self {
        if num_items > Self::SAMPLED_ABOVE {
            Self::Sampled
        } else {
            Self::Ce
        }
    }
}

/// The kinds of log whose default training settings differ, each chosen on validation data
/// (`docs/model.md`, `docs/results.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// Anonymous shop sessions under the session protocol (a few clicks each).
    Sessions,
    /// User histories mostly shorter than the model's window (Amazon reviews).
    ShortHistories,
    /// User histories that fill the window (MovieLens).
    LongHistories,
}

/// The settings that [`LogKind`] picks when the command line leaves them out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KindDefaults {
    /// Sequences per batch.
    pub batch_size: usize,
    /// How sequences are grouped into batches.
    pub batching: Batching,
    /// Dropout probability.
    pub dropout: f64,
    /// Cosine-scoring temperature (0: the dot product).
    pub temperature: f32,
    /// Epochs without a better validation NDCG@10 before stopping.
    pub patience: usize,
    /// The learning rate's factor after each such epoch.
    pub lr_decay: f64,
    /// The learning rate's factor after every epoch.
    pub lr_epoch_decay: f64,
}

impl LogKind {
    /// The kind of a log: sessions under the session protocol; else short histories when
    /// the mean training sequence is shorter than half of `max_len`.
    pub fn of(sessions: bool, train: &[Vec<u32>], max_len: usize) -> Self {
        let mean = train.iter().map(Vec::len).sum::<usize>() as f64 / train.len().max(1) as f64;
        match (sessions, mean < max_len as f64 / 2.0) {
            (true, _) => Self::Sessions,
            (false, true) => Self::ShortHistories,
            (false, false) => Self::LongHistories,
        }
    }

    /// The defaults of this kind. Sessions: batches of 256 similar lengths, dropout 0.2,
    /// cosine scores at temperature 0.08, patience 3 (Diginetica's validation: tens of
    /// thousands of validation cases make a smooth curve that peaks within a few epochs).
    /// Short histories: the refinement study's Amazon settings (batches of 128 similar
    /// lengths, dropout 0.5). Long histories: its MovieLens settings (shuffled batches of 32,
    /// dropout 0.5). Patience 20 for both.
    pub fn defaults(self) -> KindDefaults {
        match self {
            Self::Sessions => KindDefaults {
                batch_size: 256,
                batching: Batching::ByLength,
                dropout: 0.2,
                temperature: 0.08,
                patience: 3,
                lr_decay: 0.5,
                lr_epoch_decay: 1.0,
            },
            Self::ShortHistories => KindDefaults {
                batch_size: 128,
                batching: Batching::ByLength,
                dropout: 0.5,
                temperature: 0.0,
                patience: 20,
                lr_decay: 1.0,
                lr_epoch_decay: 1.0,
            },
            Self::LongHistories => KindDefaults {
                batch_size: 32,
                batching: Batching::Shuffled,
                dropout: 0.5,
                temperature: 0.0,
                patience: 20,
                lr_decay: 1.0,
                lr_epoch_decay: 1.0,
            },
        }
    }
}

/// How training sequences are grouped into batches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Batching {
    /// Shuffled sequences, every batch padded to n; the loss is each batch's mean over its
    /// targets (the default).
    #[default]
    Shuffled,
    /// Shuffled, then sorted by length within buckets of [`LENGTH_BUCKET`] batches, the
    /// batches in random order; each batch is padded only to its longest sequence, which
    /// saves most of the work when sequences are much shorter than n. The loss is a batch's
    /// sum over its targets divided by the epoch's mean number of targets per batch: every
    /// target weighs the same, about what it weighs in shuffled batches (whose target counts
    /// stay near that mean), and the epoch's loss is the mean over its targets.
    ByLength,
}

/// Batches per bucket of length-sorted sequences under [`Batching::ByLength`].
pub const LENGTH_BUCKET: usize = 64;

/// How to train.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Maximum number of epochs.
    pub epochs: usize,
    /// Sequences per batch.
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Objective.
    pub loss: Loss,
    /// Stop after this many epochs without a better validation NDCG@10.
    pub patience: usize,
    /// Seed for initialisation, shuffling, dropout and negatives.
    pub seed: u64,
    /// How sequences are grouped into batches.
    #[serde(default)]
    pub batching: Batching,
    /// Uniformly drawn negatives per batch under [`Loss::Sampled`] (default 4,096).
    #[serde(default = "TrainConfig::default_negatives")]
    pub negatives: usize,
    /// How the [`Self::negatives`] are drawn: item `i` in proportion to `(cᵢ + 1)^power`,
    /// `cᵢ` its count among the training targets; 0 (the default, and settings from before
    /// it) draws them uniformly, 1 in proportion to popularity.
    #[serde(default)]
    pub negative_power: f32,
    /// With a positive value, items and sessions are scored by cosine similarity divided by
    /// this temperature (NISER's normalised embeddings: the item table is kept at unit
    /// length, also where it feeds the encoder); 0 scores by the plain dot product.
    #[serde(default)]
    pub temperature: f32,
    /// The learning rate is multiplied by this after every epoch that brings no better
    /// validation NDCG@10 (1: constant).
    #[serde(default = "TrainConfig::no_decay")]
    pub lr_decay: f64,
    /// The learning rate is multiplied by this after every epoch, on top of
    /// [`Self::lr_decay`] (1: no such schedule).
    #[serde(default = "TrainConfig::no_decay")]
    pub lr_epoch_decay: f64,
    /// In a warm retrain, how many of the leading training sequences the starting model has
    /// already trained on (the sessions no newer than its `trained_until`; 0: none).
    #[serde(default)]
    pub old_sessions: usize,
    /// The share of the [`Self::old_sessions`]' sequences (sessions, long ones cut into
    /// windows) that each epoch trains on, drawn afresh every epoch (1: all); the newer
    /// sequences all train every epoch.
    #[serde(default = "TrainConfig::no_decay")]
    pub replay: f64,
    /// Show a progress bar.
    pub progress: bool,
}

impl TrainConfig {
    /// The default settings (the CLI's defaults).
    pub const DEFAULTS: Self = Self {
        epochs: 200,
        batch_size: 32,
        learning_rate: 3e-3,
        loss: Loss::Ce,
        patience: 20,
        seed: 42,
        batching: Batching::Shuffled,
        negatives: 4096,
        negative_power: 0.0,
        temperature: 0.0,
        lr_decay: 1.0,
        lr_epoch_decay: 1.0,
        old_sessions: 0,
        replay: 1.0,
        progress: true,
    };

    fn default_negatives() -> usize {
        Self::NEGATIVES_BEFORE_THE_FIELD
    }

    /// The negatives of settings written before [`Self::negatives`] was recorded (the default
    /// then; it became 4,096 once the sampled softmax ran on the host, where validation on
    /// Diginetica gained 4 % NDCG@10 for 1.12× the old build's epoch at 2,048: `docs/results.md`).
    pub const NEGATIVES_BEFORE_THE_FIELD: usize = 2048;

    fn no_decay() -> f64 {
        1.0
    }
}

impl TrainConfig {
    /// The defaults for a log of `kind` with `num_items` items: the kind's
    /// ([`LogKind::defaults`]) and the catalogue's objective ([`Loss::for_catalogue`]), the
    /// rest [`Self::DEFAULTS`].
    pub fn for_log(kind: LogKind, num_items: usize) -> Self {
        let defaults = kind.defaults();
        Self {
            batch_size: defaults.batch_size,
            batching: defaults.batching,
            loss: Loss::for_catalogue(num_items),
            patience: defaults.patience,
            temperature: defaults.temperature,
            lr_decay: defaults.lr_decay,
            lr_epoch_decay: defaults.lr_epoch_decay,
            ..Self::DEFAULTS
        }
    }

    /// Most epochs accepted.
    pub const MAX_EPOCHS: usize = 100_000;
    /// Largest batch accepted.
    pub const MAX_BATCH_SIZE: usize = 65_536;
    /// Most uniform negatives per batch accepted.
    pub const MAX_NEGATIVES: usize = 1 << 20;
    /// Largest learning rate accepted (Adam steps beyond 1 only diverge).
    pub const MAX_LEARNING_RATE: f64 = 1.0;
    /// A warm retrain's default learning rate, as a share of a fresh run's: started from a
    /// trained model, smaller steps stay nearer what it learnt (on Diginetica, chosen on
    /// validation: 0.2063 NDCG@10 at a quarter against 0.2025 at the full rate and 0.2061 at
    /// an eighth; `docs/results.md`, "Warm retrains").
    pub const WARM_LEARNING_RATE_SHARE: f64 = 0.25;
    /// A warm retrain's default [`Self::replay`] of the sessions its starting model trained
    /// on (on Diginetica, chosen on validation: best NDCG@10 0.2198 at a tenth against 0.2194
    /// at 0.05, 0.2191 at a quarter and 0.2159 replaying all; `docs/results.md`, "Warm
    /// retrains").
    pub const WARM_REPLAY: f64 = 0.1;

    /// Checks that the settings can train: 1 ≤ epochs ≤ [`Self::MAX_EPOCHS`],
    /// 1 ≤ batch size ≤ [`Self::MAX_BATCH_SIZE`], patience ≥ 1, a replayed share in (0, 1]
    /// and a finite learning rate in (0, [`Self::MAX_LEARNING_RATE`]].
    pub fn validate(&self) -> Result<(), String> {
        let counts = [
            ("epochs", self.epochs, Self::MAX_EPOCHS),
            ("batch size", self.batch_size, Self::MAX_BATCH_SIZE),
            ("patience", self.patience, usize::MAX),
        ];
        check_counts(&counts, "must be at least 1")?;
        if self.negatives > Self::MAX_NEGATIVES {
            return Err(format!(
                "negatives {} is above the limit of {}",
                self.negatives,
                Self::MAX_NEGATIVES
            ));
        }
        if !(0.0..=1.0).contains(&self.negative_power) {
            return Err(format!(
                "negative power {} is not a number in [0, 1]",
                self.negative_power
            ));
        }
        if !(self.temperature == 0.0 || (self.temperature >= 1e-3 && self.temperature <= 100.0)) {
            return Err(format!(
                "temperature {} is neither 0 (off) nor in [0.001, 100]",
                self.temperature
            ));
        }
        if !(self.replay > 0.0 && self.replay <= 1.0) {
            return Err(format!("replay {} is not a share in (0, 1]", self.replay));
        }
        for (what, decay) in [("", self.lr_decay), ("per-epoch ", self.lr_epoch_decay)] {
            if !(decay > 0.0 && decay <= 1.0) {
                return Err(format!(
                    "{what}learning-rate decay {decay} is not a number in (0, 1]"
                ));
            }
        }
        let lr = self.learning_rate;
        if !(lr > 0.0 && lr <= Self::MAX_LEARNING_RATE) {
            return Err(format!(
                "learning rate {lr} is not a number in (0, {}]",
                Self::MAX_LEARNING_RATE
            ));
        }
        Ok(())
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self::DEFAULTS
    }
}
