//! The training loop: every position of a training sequence predicts its next item; Adam;
//! early stopping on validation NDCG@10; a checkpoint after every epoch to resume from.

use std::path::Path;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand_chacha::ChaCha12Rng;

use super::batching::{epoch_batches, windows};
use super::checkpoint::{
    Checkpoint, Settings, State, fingerprint, load_module, load_optimizer, save_module,
    save_optimizer, write,
};
use super::config::TrainConfig;
use super::loss::{Objective, as_served, batch_loss};
use crate::data::Split;
use crate::eval::evaluate;
use crate::metrics::Metrics;
use crate::model::{Awrsr, ModelConfig};

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
    let mut run = Run::start(config, train, init, &ad_device)?;
    let sequences: Vec<&[u32]> = split
        .train
        .iter()
        .flat_map(|s| windows(s, config.max_len))
        .collect();
    let fit = Fit {
        config,
        train,
        split,
        device,
        objective: Objective::new(config, train, &sequences),
        sequences,
        ad_device,
        checkpoint,
        data: fingerprint(split),
    };
    if let Some(path) = checkpoint.filter(|path| path.exists()) {
        run = fit.resume(path, say)?;
    }
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
        run = fit.epoch(run, say)?;
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

/// What every epoch of a run reads: the settings, the data, the devices and where the
/// checkpoint goes.
struct Fit<'a> {
    config: &'a ModelConfig,
    train: &'a TrainConfig,
    split: &'a Split,
    /// Where the model is evaluated (and the best one kept).
    device: &'a Device,
    /// The autodiff version of `device`, where the model trains.
    ad_device: Device,
    /// The training sequences, long histories cut into [`windows`].
    sequences: Vec<&'a [u32]>,
    objective: Objective,
    checkpoint: Option<&'a Path>,
    /// The split's [`fingerprint`].
    data: String,
}

impl Fit<'_> {
    /// The run saved at `path`, which must be a checkpoint of this run.
    fn resume(&self, path: &Path, say: &mut dyn FnMut(String)) -> Result<Run, String> {
        let saved = Checkpoint::read(path)?;
        saved
            .check_fits(self.config, self.train, &self.data, self.split.valid.len())
            .map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        let run = Run::resume(saved, self.config, self.device, &self.ad_device)
            .map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        // Dropout after a resume draws from a stream of its own (the backend's generator
        // cannot be saved); shuffling and negatives continue exactly.
        let stream = (run.epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.ad_device.seed(self.train.seed ^ stream);
        let best = run.best.as_ref().map_or(String::new(), |b| {
            format!(" (best epoch {}: valid {})", b.epoch, b.valid.summary())
        });
        say(format!(
            "resumed from {} after epoch {}{best}",
            path.display(),
            run.epoch
        ));
        Ok(run)
    }

    /// Trains `run` for one more epoch, validates it (keeping the best model, decaying the
    /// learning rate when it is no better) and writes the checkpoint. Fails when the loss
    /// diverges.
    fn epoch(&self, run: Run, say: &mut dyn FnMut(String)) -> Result<Run, String> {
        let epoch = run.epoch + 1;
        let started = std::time::Instant::now();
        let (mut run, loss) = run.fit_epoch(self);
        let seconds = started.elapsed().as_secs_f64();
        if !loss.is_finite() {
            return Err(format!(
                "training diverged in epoch {epoch}: the loss is {loss} (try a lower learning rate)"
            ));
        }
        let snapshot = as_served(run.model.valid(), self.train.temperature);
        let valid = evaluate(
            &snapshot,
            self.config.max_len,
            &self.split.valid,
            false,
            self.device,
        )
        .map_err(|e| {
            format!("training diverged in epoch {epoch}: {e} (try a lower learning rate)")
        })?;
        let improved = run
            .best
            .as_ref()
            .is_none_or(|b| valid.get("NDCG@10") > b.valid.get("NDCG@10"));
        let pace = format!(
            "{seconds:.1} s, {:.0} seq/s",
            self.sequences.len() as f64 / seconds
        );
        say(format!(
            "epoch {epoch:>3}  loss {loss:.4}  {pace}  valid {}{}",
            valid.summary(),
            if improved { "  *" } else { "" }
        ));
        if !improved {
            run.lr_scale *= self.train.lr_decay;
        }
        if improved {
            let saved = self
                .checkpoint
                .map(|_| save_module(&snapshot))
                .transpose()?;
            run.best = Some(Best {
                model: snapshot,
                epoch,
                valid,
                saved,
            });
        }
        run.epoch = epoch;
        if let Some(path) = self.checkpoint {
            write(path, &run.checkpoint(self.config, self.train, &self.data)?)?;
        }
        Ok(run)
    }
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
    /// A fresh run on `ad_device`: random weights, or `init`'s (a warm retrain).
    fn start(
        config: &ModelConfig,
        train: &TrainConfig,
        init: Option<&Awrsr>,
        ad_device: &Device,
    ) -> Result<Self, String> {
        let mut model = config.init(ad_device).train();
        if let Some(init) = init {
            load_module(&mut model, &save_module(init)?)?;
        }
        Ok(Self {
            rng: ChaCha12Rng::seed_from_u64(train.seed),
            lr_scale: 1.0,
            model,
            optimizer: AdamConfig::new().init(),
            best: None,
            epoch: 0,
        })
    }

    /// One pass over the shuffled training sequences, an Adam step per batch; the mean batch
    /// loss. (The model moves through each step, so that burn may update its weights in
    /// place.)
    fn fit_epoch(mut self, fit: &Fit) -> (Self, f64) {
        let train = fit.train;
        let mut order = fit.sequences.to_vec();
        let (batches, per_batch) =
            epoch_batches(&mut order, train.batching, train.batch_size, &mut self.rng);
        let bar = progress_bar(train.progress, batches.len(), self.epoch + 1, train.epochs);
        // The losses add up on the device: reading one back each batch would make a GPU wait
        // for every step before the next is queued. The bar reads the sum now and then.
        let mut loss_sum = Tensor::<1>::zeros([1], &fit.ad_device);
        for (i, batch) in batches.iter().enumerate() {
            let loss = batch_loss(
                &self.model,
                fit.config,
                &fit.objective,
                batch,
                per_batch,
                &mut self.rng,
                &fit.ad_device,
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
