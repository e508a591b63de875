//! Training: every position of a training sequence predicts its next item; Adam; early
//! stopping on validation NDCG@10; a checkpoint after every epoch to resume from. Native only (progress bar, synchronous reads).

use burn::module::Module;
use std::path::Path;

use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{softmax, softplus};
use burn::tensor::{Device, IndexingUpdateOp, Int, Tensor, TensorData};
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha12Rng;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{
    Checkpoint, Settings, State, fingerprint, load_module, load_optimizer, save_module,
    save_optimizer, write,
};
use crate::data::Split;
use crate::eval::evaluate;
use crate::metrics::Metrics;
use crate::model::{Awrsr, ModelConfig, input_tensor, left_padded, trimmed_width};

/// The training objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Full softmax cross-entropy over all items (the default).
    Ce,
    /// Binary cross-entropy with one sampled negative per position (original SASRec).
    Bce,
    /// Sampled softmax for large catalogues: each target against the batch's other targets
    /// and [`TrainConfig::negatives`] uniformly drawn items, every candidate's logit lowered
    /// by the log of its expected count among them (the log-frequency correction), copies of
    /// the target itself left out ([`sampled_softmax_cross_entropy`]).
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
            },
            Self::ShortHistories => KindDefaults {
                batch_size: 128,
                batching: Batching::ByLength,
                dropout: 0.5,
                temperature: 0.0,
                patience: 20,
                lr_decay: 1.0,
            },
            Self::LongHistories => KindDefaults {
                batch_size: 32,
                batching: Batching::Shuffled,
                dropout: 0.5,
                temperature: 0.0,
                patience: 20,
                lr_decay: 1.0,
            },
        }
    }
}

/// How training sequences are grouped into batches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
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
    /// Uniformly drawn negatives per batch under [`Loss::Sampled`].
    #[serde(default = "TrainConfig::default_negatives")]
    pub negatives: usize,
    /// With a positive value, items and sessions are scored by cosine similarity divided by
    /// this temperature (NISER's normalised embeddings: the item table is kept at unit
    /// length, also where it feeds the encoder); 0 scores by the plain dot product.
    #[serde(default)]
    pub temperature: f32,
    /// The learning rate is multiplied by this after every epoch that brings no better
    /// validation NDCG@10 (1: constant).
    #[serde(default = "TrainConfig::no_decay")]
    pub lr_decay: f64,
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
        negatives: 2048,
        temperature: 0.0,
        lr_decay: 1.0,
        progress: true,
    };

    fn default_negatives() -> usize {
        Self::DEFAULTS.negatives
    }

    fn no_decay() -> f64 {
        1.0
    }
}

impl TrainConfig {
    /// Most epochs accepted.
    pub const MAX_EPOCHS: usize = 100_000;
    /// Largest batch accepted.
    pub const MAX_BATCH_SIZE: usize = 65_536;
    /// Most uniform negatives per batch accepted.
    pub const MAX_NEGATIVES: usize = 1 << 20;
    /// Largest learning rate accepted (Adam steps beyond 1 only diverge).
    pub const MAX_LEARNING_RATE: f64 = 1.0;

    /// Checks that the settings can train: 1 ≤ epochs ≤ [`Self::MAX_EPOCHS`],
    /// 1 ≤ batch size ≤ [`Self::MAX_BATCH_SIZE`], patience ≥ 1 and a finite learning rate
    /// in (0, [`Self::MAX_LEARNING_RATE`]].
    pub fn validate(&self) -> Result<(), String> {
        let counts = [
            ("epochs", self.epochs, Self::MAX_EPOCHS),
            ("batch size", self.batch_size, Self::MAX_BATCH_SIZE),
            ("patience", self.patience, usize::MAX),
        ];
        for (name, value, max) in counts {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
            if value > max {
                return Err(format!("{name} {value} is above the limit of {max}"));
            }
        }
        if self.negatives > Self::MAX_NEGATIVES {
            return Err(format!(
                "negatives {} is above the limit of {}",
                self.negatives,
                Self::MAX_NEGATIVES
            ));
        }
        if !(self.temperature == 0.0 || (self.temperature >= 1e-3 && self.temperature <= 100.0)) {
            return Err(format!(
                "temperature {} is neither 0 (off) nor in [0.001, 100]",
                self.temperature
            ));
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return Err(format!(
                "learning-rate decay {} is not a number in (0, 1]",
                self.lr_decay
            ));
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

/// Checks that `split` allows training and model selection: at least one training
/// sequence of two items (one step) and one validation case (a user with ≥ 3 interactions).
pub fn check_trainable(split: &Split) -> Result<(), String> {
    if split.valid.is_empty() {
        return Err("the log is too small to train on: no user has 3 or more interactions".into());
    }
    if !split.train.iter().any(|s| s.len() >= 2) {
        return Err("the log is too small to train on: no user has 4 or more interactions (nor exactly 2), so no training step is possible".into());
    }
    Ok(())
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self::DEFAULTS
    }
}

/// The result of a training run.
pub struct Trained {
    /// The model of the best validation epoch, in inference mode.
    pub model: Awrsr,
    /// 1-based epoch of the best model.
    pub best_epoch: usize,
    /// Validation metrics of the best model.
    pub best_valid: Metrics,
    /// Epochs run.
    pub epochs_run: usize,
}

/// Trains a model of `config` on `split` on `device` (an autodiff version is made),
/// reporting each epoch through `say`. With `checkpoint`, the run's state is written there
/// after every epoch and, when the file already exists, the run resumes from it (it must
/// come from the same data, model and training settings; `epochs` and `patience` may
/// differ). With `init`, training starts from that network's weights (a warm retrain,
/// [`crate::warm`]) instead of random ones. Fails on invalid settings, a split that cannot
/// train ([`check_trainable`]), a checkpoint of another run or a diverging loss (NaN or
/// infinite).
pub fn train(
    config: &ModelConfig,
    train: &TrainConfig,
    split: &Split,
    device: &Device,
    init: Option<&Awrsr>,
    checkpoint: Option<&Path>,
    say: &mut dyn FnMut(String),
) -> Result<Trained, String> {
    config.validate()?;
    train.validate()?;
    check_trainable(split)?;
    let ad_device = device.clone().autodiff();
    ad_device.seed(train.seed);
    let mut model = config.init(&ad_device).train();
    if let Some(init) = init {
        load_module(&mut model, &save_module(init)?)?;
    }
    let mut run = Run {
        rng: ChaCha12Rng::seed_from_u64(train.seed),
        lr_scale: 1.0,
        model,
        optimizer: AdamConfig::new().init(),
        best: None,
        epoch: 0,
    };
    let data = fingerprint(split);
    if let Some(path) = checkpoint.filter(|path| path.exists()) {
        let saved = Checkpoint::read(path)?;
        saved
            .check_fits(config, train, &data)
            .map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        run = Run::resume(saved, config, device, &ad_device)
            .map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        // Dropout after a resume draws from a stream of its own (the backend's generator
        // cannot be saved); shuffling and negatives continue exactly.
        ad_device.seed(train.seed ^ (run.epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let best = run.best.as_ref().map_or(String::new(), |b| {
            format!(" (best epoch {}: valid {})", b.epoch, b.valid.summary())
        });
        say(format!(
            "resumed from {} after epoch {}{best}",
            path.display(),
            run.epoch
        ));
    }
    let sequences: Vec<&[u32]> = split
        .train
        .iter()
        .flat_map(|s| windows(s, config.max_len))
        .collect();
    let objective = Objective::new(config, train, &sequences);
    while run.epoch < train.epochs {
        if run
            .best
            .as_ref()
            .is_some_and(|b| run.epoch - b.epoch >= train.patience)
        {
            say(format!(
                "early stop: no better validation NDCG@10 for {} epochs",
                train.patience
            ));
            break;
        }
        let epoch = run.epoch + 1;
        let started = std::time::Instant::now();
        let loss;
        (run, loss) = run.fit_epoch(config, train, &objective, &sequences, &ad_device);
        let seconds = started.elapsed().as_secs_f64();
        if !loss.is_finite() {
            return Err(format!(
                "training diverged in epoch {epoch}: the loss is {loss} (try a lower learning rate)"
            ));
        }
        let snapshot = as_served(run.model.valid(), train.temperature);
        let valid = evaluate(&snapshot, config.max_len, &split.valid, false, device);
        let improved = run
            .best
            .as_ref()
            .is_none_or(|b| valid.get("NDCG@10") > b.valid.get("NDCG@10"));
        let pace = format!(
            "{seconds:.1} s, {:.0} seq/s",
            sequences.len() as f64 / seconds
        );
        say(format!(
            "epoch {epoch:>3}  loss {loss:.4}  {pace}  valid {}{}",
            valid.summary(),
            if improved { "  *" } else { "" }
        ));
        if !improved {
            run.lr_scale *= train.lr_decay;
        }
        if improved {
            let saved = checkpoint.map(|_| save_module(&snapshot)).transpose()?;
            run.best = Some(Best {
                model: snapshot,
                epoch,
                valid,
                saved,
            });
        }
        run.epoch = epoch;
        if let Some(path) = checkpoint {
            write(path, &run.checkpoint(config, train, &data)?)?;
        }
    }
    let Best {
        model,
        epoch,
        valid,
        ..
    } = run.best.ok_or("no epoch ran")?;
    Ok(Trained {
        model,
        best_epoch: epoch,
        best_valid: valid,
        epochs_run: run.epoch,
    })
}

/// A training run between epochs: everything a checkpoint holds.
struct Run {
    rng: ChaCha12Rng,
    /// The learning rate's factor now (the decay applied so far).
    lr_scale: f64,
    model: Awrsr,
    optimizer: ModuleOptimizer,
    best: Option<Best>,
    epoch: usize,
}

/// The best model so far and, when checkpointing, its saved weights.
struct Best {
    model: Awrsr,
    epoch: usize,
    valid: Metrics,
    saved: Option<Vec<u8>>,
}

impl Run {
    /// One pass over the shuffled `sequences`, an Adam step per batch; the mean batch loss.
    /// (The model moves through each step, so that burn may update its weights in place.)
    fn fit_epoch(
        mut self,
        config: &ModelConfig,
        train: &TrainConfig,
        objective: &Objective,
        sequences: &[&[u32]],
        device: &Device,
    ) -> (Self, f64) {
        let mut order = sequences.to_vec();
        order.shuffle(&mut self.rng);
        let (batches, per_batch) = match train.batching {
            Batching::Shuffled => (order.chunks(train.batch_size).collect::<Vec<_>>(), None),
            Batching::ByLength => {
                let batches = by_length(&mut order, train.batch_size, &mut self.rng);
                let targets: usize = sequences.iter().map(|s| s.len() - 1).sum();
                let per_batch = targets as f64 / batches.len() as f64;
                (batches, Some(per_batch as f32))
            }
        };
        let bar = progress_bar(train.progress, batches.len(), self.epoch + 1, train.epochs);
        // The losses add up on the device: reading one back each batch would make a GPU wait
        // for every step before the next is queued. The bar reads the sum now and then.
        let mut loss_sum = Tensor::<1>::zeros([1], device);
        for (i, batch) in batches.iter().enumerate() {
            let loss = batch_loss(
                &self.model,
                config,
                objective,
                batch,
                per_batch,
                &mut self.rng,
                device,
            );
            loss_sum = loss_sum + loss.clone().detach();
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            self.model =
                self.optimizer
                    .step(train.learning_rate * self.lr_scale, self.model, grads);
            bar.inc(1);
            if !bar.is_hidden() && i % PROGRESS_READ_EVERY == 0 {
                bar.set_message(format!(
                    "loss {:.4}",
                    read_scalar(&loss_sum) / (i + 1) as f64
                ));
            }
        }
        bar.finish_and_clear();
        (self, read_scalar(&loss_sum) / batches.len() as f64)
    }

    /// The run a checkpoint describes: weights and optimizer on `ad_device`, the best
    /// model on `device`.
    fn resume(
        saved: Checkpoint,
        config: &ModelConfig,
        device: &Device,
        ad_device: &Device,
    ) -> Result<Self, String> {
        let mut model = config.init(ad_device).train();
        load_module(&mut model, &saved.model)?;
        let optimizer = AdamConfig::new()
            .init()
            .load_record(load_optimizer(&saved.optimizer)?);
        let mut best_model = config.init(device);
        load_module(&mut best_model, &saved.best)?;
        let mut rng = ChaCha12Rng::seed_from_u64(saved.state.settings.seed);
        rng.set_word_pos(saved.state.rng_word_pos);
        let state = saved.state;
        let best = Best {
            model: best_model,
            epoch: state.best_epoch,
            valid: state.best_valid,
            saved: Some(saved.best),
        };
        Ok(Self {
            rng,
            lr_scale: state.lr_scale,
            model,
            optimizer,
            best: Some(best),
            epoch: state.epoch,
        })
    }

    /// The checkpoint of this run (which has completed at least one epoch).
    fn checkpoint(
        &self,
        config: &ModelConfig,
        train: &TrainConfig,
        data: &str,
    ) -> Result<Checkpoint, String> {
        let best = self.best.as_ref().ok_or("no epoch ran")?;
        let state = State {
            model: config.clone(),
            settings: Settings::of(train),
            data: data.to_string(),
            epoch: self.epoch,
            rng_word_pos: self.rng.get_word_pos(),
            lr_scale: self.lr_scale,
            best_epoch: best.epoch,
            best_valid: best.valid.clone(),
        };
        Ok(Checkpoint {
            state,
            model: save_module(&self.model)?,
            optimizer: save_optimizer(self.optimizer.to_record())?,
            best: best.saved.clone().ok_or("the best model was not saved")?,
        })
    }
}

/// How often (in batches) the progress bar reads the running loss from the device.
const PROGRESS_READ_EVERY: usize = 16;

/// A one-element tensor's value, read from its device.
fn read_scalar(tensor: &Tensor<1>) -> f64 {
    f64::from(tensor.clone().into_scalar::<f32>())
}

fn progress_bar(show: bool, batches: usize, epoch: usize, epochs: usize) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(batches as u64);
    let style =
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
            .expect("valid template")
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

/// A training sequence cut into windows of at most `n + 1` items, newest first, each
/// overlapping the next by one item: every item after the first is a target exactly once,
/// seen from up to `n` items before it. (Training on the newest `n + 1` alone, as plain
/// SASRec does, would never learn from the older part of a long history.)
pub fn windows(sequence: &[u32], n: usize) -> Vec<&[u32]> {
    let mut out = Vec::new();
    let mut end = sequence.len();
    while end >= 2 {
        out.push(&sequence[end.saturating_sub(n + 1)..end]);
        end = end.saturating_sub(n);
    }
    out
}

/// [`Batching::ByLength`]'s batches: `shuffled` sorted by length within buckets of
/// [`LENGTH_BUCKET`] batches (ties keep their shuffled order), cut into batches that are
/// then put in random order.
fn by_length<'a>(
    shuffled: &'a mut [&'a [u32]],
    batch_size: usize,
    rng: &mut ChaCha12Rng,
) -> Vec<&'a [&'a [u32]]> {
    for bucket in shuffled.chunks_mut(batch_size * LENGTH_BUCKET) {
        bucket.sort_by_key(|s| s.len());
    }
    let mut batches: Vec<_> = shuffled.chunks(batch_size).collect();
    batches.shuffle(rng);
    batches
}

/// The full-softmax cross-entropy of hidden states `[m, d]` against their `targets`
/// (internal item ids, 1-based) over `items` `[N, d]` (row `j` is item `j + 1`), summed over targets and multiplied by `scale`, as a tensor
/// whose value is that loss and whose gradient is its gradient.
///
/// The gradient is worked out beside the autodiff graph rather than through it: with
/// P = softmax(h·Eᵀ) and Y the targets' one-hot rows, ∂L/∂h = scale·(P − Y)·E and
/// ∂L/∂E = scale·(P − Y)ᵀ·h. Only those two products, `[m, d]` and `[num_items, d]`, enter the
/// graph (as the sums of h ⊙ ∂L/∂h and E ⊙ ∂L/∂E); the `[m, num_items]` work is three matmuls
/// and one softmax (fused on the CPU backend). Through `log_softmax` and `gather`, autodiff
/// made and kept several `[m, num_items]` buffers per batch; this way a Beauty epoch is about
/// 5% faster (`docs/results.md`). The two agree up to float rounding (`tests/train.rs`).
///
/// The loss is log-sum-exp exact: log pₜ = zₜ − max z + log max P, since the largest
/// probability, 1/Σ exp(z − max z), is at least 1/num_items and cannot underflow, while pₜ
/// itself can.
pub fn full_softmax_cross_entropy(
    items: Tensor<2>,
    hidden: Tensor<2>,
    targets: &[i64],
    scale: f32,
) -> Tensor<1> {
    let (h, e) = (hidden.clone().inner(), items.clone().inner());
    let device = h.device();
    let m = targets.len();
    let columns: Vec<i64> = targets.iter().map(|t| t - 1).collect();
    let columns = Tensor::<2, Int>::from_data(TensorData::new(columns, [m, 1]), &device);
    let logits = h.clone().matmul(e.clone().transpose());
    let shifted_target = logits.clone().gather(1, columns.clone()) - logits.clone().max_dim(1);
    let probs = softmax(logits, 1);
    let log_probs = shifted_target + probs.clone().max_dim(1).log();
    let loss = log_probs.sum().neg().mul_scalar(scale);
    let residual = probs.scatter(
        1,
        columns,
        Tensor::full([m, 1], -1.0, &device),
        IndexingUpdateOp::Add,
    );
    let grad_hidden = residual.clone().matmul(e).mul_scalar(scale);
    let grad_items = residual.transpose().matmul(h).mul_scalar(scale);
    let surrogate = (hidden * Tensor::from_inner(grad_hidden)).sum()
        + (items * Tensor::from_inner(grad_items)).sum();
    surrogate.clone() - surrogate.detach() + Tensor::from_inner(loss)
}

/// What every batch's loss needs besides the batch: the objective's settings and, for the
/// sampled softmax, how often each item is a training target.
struct Objective {
    loss: Loss,
    batching: Batching,
    negatives: usize,
    temperature: f32,
    /// Share of the training targets that each item is (row `j` is item `j + 1`).
    target_share: Vec<f32>,
}

impl Objective {
    fn new(config: &ModelConfig, train: &TrainConfig, sequences: &[&[u32]]) -> Self {
        let mut counts = vec![0f64; config.num_items];
        for &item in sequences.iter().flat_map(|s| &s[1..]) {
            counts[item as usize - 1] += 1.0;
        }
        let total = counts.iter().sum::<f64>().max(1.0);
        let target_share = counts.iter().map(|c| (c / total) as f32).collect();
        Self {
            loss: train.loss,
            batching: train.batching,
            negatives: train.negatives,
            temperature: train.temperature,
            target_share,
        }
    }

    /// The item table `[N + 1, d]` as scored and fed to the encoder: the embeddings, at unit
    /// length when scoring by cosine similarity.
    fn item_table(&self, model: &Awrsr) -> Tensor<2> {
        self.served(model.items.weight.val())
    }

    /// Rows `ids` of [`Self::item_table`], normalising only those rows: the same values, without a
    /// pass (forward and backward) over the whole table for the few thousand rows a sampled
    /// batch reads.
    fn item_rows(&self, model: &Awrsr, ids: Tensor<1, Int>) -> Tensor<2> {
        self.served(model.items.weight.val().select(0, ids))
    }

    /// Embedding rows as scored: at unit length under cosine scoring.
    fn served(&self, rows: Tensor<2>) -> Tensor<2> {
        if self.temperature > 0.0 {
            unit_rows(rows)
        } else {
            rows
        }
    }
}

/// Each row of `x` divided by its length (rows of zeros stay near zero).
fn unit_rows(x: Tensor<2>) -> Tensor<2> {
    let norms = x.clone().powi_scalar(2).sum_dim(1).add_scalar(1e-12).sqrt();
    x / norms
}

/// `model` as served: under cosine scoring (a positive `temperature`) its item table is set
/// to unit length, which the encoder and the scores then read exactly as in training (the
/// session's length and the temperature change no ranking), so bundles, evaluation and the
/// browser need nothing new.
pub fn as_served(mut model: Awrsr, temperature: f32) -> Awrsr {
    if temperature > 0.0 {
        model.items.weight = model.items.weight.map(unit_rows);
    }
    model
}

/// The loss over every non-padded position of a batch of training sequences: their mean,
/// or with `per_batch` their sum divided by it ([`Batching`]).
fn batch_loss(
    model: &Awrsr,
    config: &ModelConfig,
    objective: &Objective,
    batch: &[&[u32]],
    per_batch: Option<f32>,
    rng: &mut ChaCha12Rng,
    device: &Device,
) -> Tensor<1> {
    let inputs: Vec<&[u32]> = batch.iter().map(|s| &s[..s.len() - 1]).collect();
    let n = match objective.batching {
        Batching::Shuffled => config.max_len,
        Batching::ByLength => trimmed_width(&inputs, config.max_len),
    };
    let targets: Vec<&[u32]> = batch.iter().map(|s| &s[1..]).collect();
    let target_ids = left_padded(&targets, n);
    let positions: Vec<i64> = (0..target_ids.len())
        .filter(|&p| target_ids[p] != 0)
        .map(|p| p as i64)
        .collect();
    let targets: Vec<i64> = positions.iter().map(|&p| target_ids[p as usize]).collect();
    let m = positions.len();

    let input = input_tensor(&inputs, n, device);
    let embedded = objective
        .item_rows(model, input.items.clone().reshape([batch.len() * n]))
        .reshape([batch.len(), n, config.d_model]);
    let encoded = model.encode_embedded(embedded, input, false);
    let hidden = encoded.hidden.reshape([batch.len() * n, config.d_model]);
    let mut hidden = hidden.select(
        0,
        Tensor::<1, Int>::from_data(TensorData::new(positions, [m]), device),
    );
    if objective.temperature > 0.0 {
        hidden = unit_rows(hidden).div_scalar(objective.temperature);
    }
    let items = || objective.item_table(model).slice(1..config.num_items + 1);
    let scale = 1.0 / per_batch.unwrap_or(m as f32);
    match objective.loss {
        Loss::Ce => full_softmax_cross_entropy(items(), hidden, &targets, scale),
        Loss::Sampled => {
            let negatives: Vec<i64> = (0..objective.negatives)
                .map(|_| rng.random_range(1..=config.num_items as i64))
                .collect();
            let uniform = objective.negatives as f32 / config.num_items as f32;
            let log_expected =
                |item: i64| (m as f32 * objective.target_share[item as usize - 1] + uniform).ln();
            let ids: Vec<i64> = targets.iter().chain(&negatives).copied().collect();
            let ids =
                Tensor::<1, Int>::from_data(TensorData::new(ids, [m + negatives.len()]), device);
            let chosen = objective.item_rows(model, ids);
            sampled_softmax_cross_entropy(chosen, hidden, &targets, &negatives, log_expected, scale)
        }
        Loss::Bce => {
            let mut pairs = Vec::with_capacity(2 * m);
            for &positive in &targets {
                pairs.push(positive - 1);
                pairs.push(rng.random_range(0..config.num_items as i64));
            }
            let pairs = Tensor::<1, Int>::from_data(TensorData::new(pairs, [2 * m]), device);
            let paired = items().select(0, pairs).reshape([m, 2, config.d_model]);
            let logits = paired.matmul(hidden.unsqueeze_dim::<3>(2)).reshape([m, 2]);
            let positive = logits.clone().slice([0..m, 0..1]);
            let negative = logits.slice([0..m, 1..2]);
            (softplus(positive.neg(), 1.0) + softplus(negative, 1.0))
                .sum()
                .mul_scalar(scale)
        }
    }
}

/// The sampled softmax cross-entropy of hidden states `[m, d]` against their `targets`
/// (1-based item ids), summed and multiplied by `scale`; `chosen` holds the candidates'
/// embeddings, the targets' rows and then the negatives' (`[m + negatives, d]`). Each target
/// competes with the candidates: every target of the batch (drawn, in effect, by
/// popularity) and `negatives` (drawn uniformly). A candidate's logit is lowered by
/// `log_expected(item)`, the log of its expected count among them, and so is the target's
/// own (the correction that makes a sampled softmax estimate the full one); candidates equal
/// to a row's own target are left out of that row, so a target never competes with itself.
///
/// As [`full_softmax_cross_entropy`], the gradient is worked out beside the autodiff graph:
/// with R the softmax over each row's own logit and its other candidates, less one at the
/// own logit (which sits at column i of row i: candidate i is target i), ∂L/∂h = scale·R·C
/// and ∂L/∂C = scale·Rᵀ·h for the candidates' embeddings C; only those enter the graph.
pub fn sampled_softmax_cross_entropy(
    chosen: Tensor<2>,
    hidden: Tensor<2>,
    targets: &[i64],
    negatives: &[i64],
    log_expected: impl Fn(i64) -> f32,
    scale: f32,
) -> Tensor<1> {
    let device = hidden.device();
    let (m, c) = (targets.len(), targets.len() + negatives.len());
    let candidates: Vec<i64> = targets.iter().chain(negatives).copied().collect();
    let correction: Vec<f32> = candidates.iter().map(|&i| log_expected(i)).collect();
    let (h, e) = (hidden.clone().inner(), chosen.clone().inner());
    let correction = Tensor::from_data(TensorData::new(correction, [1, c]), &device);
    let own = (h.clone() * e.clone().slice(0..m)).sum_dim(1)
        - correction.clone().slice([0..1, 0..m]).reshape([m, 1]);
    let row_targets =
        Tensor::<2, Int>::from_data(TensorData::new(targets.to_vec(), [m, 1]), &device)
            .expand([m, c]);
    let columns =
        Tensor::<2, Int>::from_data(TensorData::new(candidates, [1, c]), &device).expand([m, c]);
    let others = (h.clone().matmul(e.clone().transpose()) - correction)
        .mask_fill(row_targets.equal(columns), f32::NEG_INFINITY);
    let top = others.clone().max_dim(1).max_pair(own.clone());
    let others = (others - top.clone()).exp();
    let own_exp = (own.clone() - top.clone()).exp();
    let total = others.clone().sum_dim(1) + own_exp.clone();
    let loss = (total.clone().log() + top - own).sum().mul_scalar(scale);
    let diagonal = Tensor::<2, Int>::from_data(
        TensorData::new((0..m as i64).collect::<Vec<_>>(), [m, 1]),
        &device,
    );
    let residual =
        (others / total.clone()).scatter(1, diagonal, own_exp / total - 1.0, IndexingUpdateOp::Add);
    let grad_hidden = residual.clone().matmul(e).mul_scalar(scale);
    let grad_chosen = residual.transpose().matmul(h).mul_scalar(scale);
    let surrogate = (hidden * Tensor::from_inner(grad_hidden)).sum()
        + (chosen * Tensor::from_inner(grad_chosen)).sum();
    surrogate.clone() - surrogate.detach() + Tensor::from_inner(loss)
}
