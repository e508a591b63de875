//! The training loop: every position of a training sequence predicts its next item; Adam;
//! early stopping on validation NDCG@10. [`Trainer`] advances a run one batch at a time, so
//! that its driver can report progress, stop it or yield between batches (the studio's
//! Worker); [`train`] drives it to the end with a progress bar and, natively, a checkpoint
//! after every epoch to resume from.

use std::ops::Range;
#[cfg(not(target_arch = "wasm32"))]
use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha12Rng;
use web_time::Instant;

use super::adam::HostAdam;
#[cfg(not(target_arch = "wasm32"))]
use super::alongside::Alongside;
use super::batching::{epoch_batches, epoch_sequences, replayed, windows};
#[cfg(not(target_arch = "wasm32"))]
use super::checkpoint::{Checkpoint, Settings, State, load_optimizer, save_optimizer, write};
use super::checkpoint::{fingerprint, load_module, save_module};
use super::config::TrainConfig;
use super::loss::{Objective, as_served, batch_loss};
use crate::data::{Case, Split};
use crate::eval::evaluate;
use crate::metrics::Metrics;
use crate::model::{Awrsr, ModelConfig, host_device, to_host, with_mask_seed};

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

/// Why a run resumed from an old checkpoint cannot refit, beside it or after it.
pub const RATES_NOT_RECORDED: &str = "--refit: the checkpoint this run resumed from predates the record of its learning rates; train again without it";

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
    /// What a [`refit`] replays ([`Trainer::refit_scales`]); none when the run resumed
    /// from a checkpoint written before they were recorded.
    pub refit_scales: Option<Vec<f64>>,
    /// The refit trained beside the run ([`Trainer::refit_alongside`]), stopped at its best
    /// epoch: [`Alongside::finish`] gives its model.
    #[cfg(not(target_arch = "wasm32"))]
    pub refit: Option<Alongside>,
}

/// Where a [`train`] run starts, what it writes and what trains beside it.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Default)]
pub struct Start<'a> {
    /// The network to start from (a warm retrain, `crate::warm`) instead of random weights.
    pub init: Option<&'a Awrsr>,
    /// Where the run's state is written after every epoch and, when the file exists,
    /// resumed from.
    pub checkpoint: Option<&'a Path>,
    /// The sessions of a refit trained alongside ([`Trainer::refit_alongside`]), and where
    /// its epochs are reported.
    pub refit_alongside: Option<RefitSessions>,
}

/// The sessions a refit trains on, and where it reports its epochs.
#[cfg(not(target_arch = "wasm32"))]
pub type RefitSessions = (Vec<Vec<u32>>, fn(String));

/// Trains a model of `config` on `split` on `device` (an autodiff version is made) from
/// `start`, reporting each epoch through `say`. With a checkpoint, the run's state is
/// written there after every epoch and, when the file already exists, the run resumes from
/// it (it must come from the same data, model and training settings; `epochs` and
/// `patience` may differ). Fails on invalid settings, a split that cannot train
/// ([`check_trainable`]), a checkpoint of another run or a diverging loss (NaN or infinite).
#[cfg(not(target_arch = "wasm32"))]
pub fn train(
    config: &ModelConfig,
    train: &TrainConfig,
    split: &Split,
    device: &Device,
    start: Start,
    say: &mut dyn FnMut(String),
) -> Result<Trained, String> {
    let Start {
        init,
        checkpoint,
        refit_alongside,
    } = start;
    let mut trainer = Trainer::new(config, train, split, device, init, checkpoint.is_some())?;
    if let Some(path) = checkpoint.filter(|path| path.exists()) {
        say(trainer.resume(path)?);
    }
    if let Some((sessions, say_refit)) = refit_alongside {
        trainer.refit_alongside(sessions, init, say_refit)?;
    }
    drive(&mut trainer, checkpoint, say)?;
    if let Some(reason) = trainer.stopped_early() {
        say(reason);
    }
    trainer.into_trained()
}

/// Trains a model of `config` on `sequences` (a run's training data with its validating
/// data put back) from the run's start (random weights of its seed, or `init`'s) for as many
/// epochs as `lr_scales` holds, epoch `i` at `lr_scales[i]` times the learning rate, and
/// returns the last: a run's [`Trained::refit_scales`] replayed on all the data (a warm
/// retrain's old sequences, the leading ones, at its [`TrainConfig::replay`] share). Nothing
/// validates it (the data that did is trained on), so no epoch is chosen and nothing is
/// checkpointed.
#[cfg(not(target_arch = "wasm32"))]
pub fn refit(
    config: &ModelConfig,
    train: &TrainConfig,
    sequences: Vec<Vec<u32>>,
    lr_scales: &[f64],
    init: Option<&Awrsr>,
    device: &Device,
    say: &mut dyn FnMut(String),
) -> Result<Awrsr, String> {
    let mut trainer = Trainer::refit(config, train, sequences, lr_scales, init, device)?;
    drive(&mut trainer, None, say)?;
    Ok(trainer.into_trained()?.model)
}

/// Runs `trainer` to its end with a progress bar, validating after every epoch and, with
/// `checkpoint`, writing the run's state there.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn drive(
    trainer: &mut Trainer,
    checkpoint: Option<&Path>,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let mut bar = progress::Bar::hidden();
    while let Some(step) = trainer.step()? {
        match step {
            Step::Batch { batch, batches, .. } => {
                if batch == 1 {
                    let train = &trainer.train;
                    bar = progress::Bar::new(train.progress, batches, trainer.epoch(), train);
                }
                bar.advance(batch, || trainer.running_loss());
            }
            Step::EpochTrained { .. } => {
                bar.finish();
                let report = trainer.validate()?;
                say(report.line());
                if let Some(path) = checkpoint {
                    write(path, &trainer.checkpoint()?)?;
                }
            }
        }
    }
    Ok(())
}

/// What one [`Trainer::step`] did.
pub enum Step {
    /// Batch `batch` of `batches` (1-based) of epoch `epoch` trained.
    Batch {
        /// The epoch in progress (1-based).
        epoch: usize,
        /// Batches of this epoch done.
        batch: usize,
        /// Batches in this epoch.
        batches: usize,
    },
    /// Epoch `epoch`'s last batch trained: [`Trainer::validate`] (or
    /// [`Trainer::validate_on_host`]) comes next.
    EpochTrained {
        /// The epoch (1-based).
        epoch: usize,
    },
}

/// A finished epoch.
#[derive(Clone, Debug)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean batch loss.
    pub loss: f64,
    /// Seconds the epoch's batches took (validation not included).
    pub seconds: f64,
    /// Training sequences a second.
    pub sequences_per_second: f64,
    /// Validation metrics after the epoch (none in a [`refit`]).
    pub valid: Metrics,
    /// Whether they are the best so far (NDCG@10), which makes this epoch's model the kept one.
    pub improved: bool,
}

impl EpochReport {
    /// The CLI's line for the epoch.
    pub fn line(&self) -> String {
        let valid = match self.valid.count() {
            0 => "refit: nothing validates".to_string(),
            _ => format!(
                "valid {}{}",
                self.valid.summary(),
                if self.improved { "  *" } else { "" }
            ),
        };
        format!(
            "epoch {:>3}  loss {:.4}  {:.1} s, {:.0} seq/s  {valid}",
            self.epoch, self.loss, self.seconds, self.sequences_per_second,
        )
    }
}

/// A training run that advances a batch at a time: the settings, the data (owned, so that
/// a browser Worker can keep the trainer between calls), the network and its optimizer, the
/// best model so far and the epoch in progress.
pub struct Trainer {
    config: ModelConfig,
    train: TrainConfig,
    valid: Vec<Case>,
    /// Where the model is evaluated (and the best one kept).
    device: Device,
    /// The autodiff version of `device`, where the model trains.
    ad_device: Device,
    /// The training sequences, long histories cut into [`windows`].
    sequences: Vec<Vec<u32>>,
    /// How many of the leading `sequences` come from [`TrainConfig::old_sessions`]: each
    /// epoch replays a [`TrainConfig::replay`] share of them.
    old_windows: usize,
    objective: Objective,
    /// The split's [`fingerprint`] (checkpoints, native only, are checked against it).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    data: String,
    /// Whether the best model's weights are kept as bytes for checkpoints.
    keep_saved: bool,
    run: Run,
    epoch: Option<Epoch>,
    /// Set by [`Trainer::stop`].
    stopped: bool,
    /// In a refit ([`Trainer::refit`]), the learning-rate factor of each epoch: nothing
    /// validates, and every epoch's model replaces the last.
    schedule: Option<Vec<f64>>,
    /// A refit trained beside this run ([`Trainer::refit_alongside`]).
    #[cfg(not(target_arch = "wasm32"))]
    alongside: Option<Alongside>,
}

/// The epoch in progress: its batches (ranges of `order`, indices of sequences) and how far
/// it has come.
struct Epoch {
    order: Vec<usize>,
    batches: Vec<Range<usize>>,
    per_batch: Option<f32>,
    done: usize,
    /// The batch losses, summed on the device: reading one back each batch would make a GPU
    /// wait for every step before the next is queued.
    loss_sum: Tensor<1>,
    started: Instant,
}

impl Trainer {
    /// A run of `config` on `split` (copied) on `device`, from random weights or `init`'s (a
    /// warm retrain); with `keep_saved`, it can write checkpoints. Fails on invalid settings
    /// or a split that cannot train ([`check_trainable`]).
    pub fn new(
        config: &ModelConfig,
        train: &TrainConfig,
        split: &Split,
        device: &Device,
        init: Option<&Awrsr>,
        keep_saved: bool,
    ) -> Result<Self, String> {
        check_trainable(split)?;
        Self::assemble(config, train, split, device, init, keep_saved)
    }

    /// A refit ([`refit`]): `sequences` trained from random weights or `init`'s for
    /// `lr_scales.len()` epochs, epoch `i` at `lr_scales[i]` times the learning rate, with no
    /// validation. Fails on invalid settings, no epoch, or no sequence of two items.
    pub fn refit(
        config: &ModelConfig,
        train: &TrainConfig,
        sequences: Vec<Vec<u32>>,
        lr_scales: &[f64],
        init: Option<&Awrsr>,
        device: &Device,
    ) -> Result<Self, String> {
        if lr_scales.is_empty() {
            return Err("a refit needs the learning rates of at least one epoch".into());
        }
        if !sequences.iter().any(|s| s.len() >= 2) {
            return Err("nothing to refit on: no sequence of two or more items".into());
        }
        let train = TrainConfig {
            epochs: lr_scales.len(),
            ..train.clone()
        };
        let split = Split {
            train: sequences,
            ..Split::default()
        };
        let mut trainer = Self::assemble(config, &train, &split, device, init, false)?;
        trainer.schedule = Some(lr_scales.to_vec());
        Ok(trainer)
    }

    /// Appends an epoch at `scale` times the learning rate to a refit's schedule (nothing
    /// happens to a run that validates).
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn schedule_next(&mut self, scale: f64) {
        if let Some(schedule) = &mut self.schedule {
            schedule.push(scale);
            self.train.epochs = schedule.len();
        }
    }

    /// Trains a refit ([`refit`]) on `sequences` from this run's start (`init`'s weights or
    /// the seed's) beside this run, on a thread of its own ([`Alongside`]), reporting its
    /// epochs through `say`; [`Trained::refit`] gives its model. The model is the one
    /// [`refit`] would train after the run. A resumed run's refit first trains the epochs
    /// already run. Fails on a resumed run whose learning rates were not recorded, or with
    /// no sequence of two items.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn refit_alongside(
        &mut self,
        sequences: Vec<Vec<u32>>,
        init: Option<&Awrsr>,
        say: fn(String),
    ) -> Result<(), String> {
        let run = &self.run;
        if run.lr_scales.len() != run.epoch {
            return Err(RATES_NOT_RECORDED.into());
        }
        let scales = [&run.lr_scales[..], &[run.lr_scale]].concat();
        let keep_at = run.best.as_ref().map_or(0, |best| best.epoch);
        let refit = Self::refit(
            &self.config,
            &self.train,
            sequences,
            &scales,
            init,
            &self.device,
        )?;
        self.alongside = Some(Alongside::start(refit, keep_at, say));
        Ok(())
    }

    /// [`Trainer::new`] without the check that `split` can validate.
    fn assemble(
        config: &ModelConfig,
        train: &TrainConfig,
        split: &Split,
        device: &Device,
        init: Option<&Awrsr>,
        keep_saved: bool,
    ) -> Result<Self, String> {
        config.validate()?;
        train.validate()?;
        let ad_device = device.clone().autodiff();
        seed_devices(&ad_device, train.seed);
        let run = Run::start(config, train, init, &ad_device)?;
        let old_windows = (split.train.iter().take(train.old_sessions))
            .map(|s| windows(s, config.max_len).len())
            .sum();
        let windows: Vec<&[u32]> = split
            .train
            .iter()
            .flat_map(|s| windows(s, config.max_len))
            .collect();
        Ok(Self {
            old_windows,
            objective: Objective::new(config, train, &windows),
            sequences: windows.into_iter().map(<[u32]>::to_vec).collect(),
            config: config.clone(),
            train: train.clone(),
            valid: split.valid.clone(),
            device: device.clone(),
            ad_device,
            data: fingerprint(split),
            keep_saved,
            run,
            epoch: None,
            stopped: false,
            schedule: None,
            #[cfg(not(target_arch = "wasm32"))]
            alongside: None,
        })
    }

    /// Training sequences (windows) an epoch passes over.
    pub fn sequences(&self) -> usize {
        let old = self.old_windows;
        self.sequences.len() - old + replayed(old, self.train.replay)
    }

    /// The epoch in progress or, between epochs, the last one finished (0 before the first).
    pub fn epoch(&self) -> usize {
        self.run.epoch + usize::from(self.epoch.is_some())
    }

    /// Batches in an epoch.
    pub fn batches_per_epoch(&self) -> usize {
        match &self.epoch {
            Some(epoch) => epoch.batches.len(),
            None => self.sequences().div_ceil(self.train.batch_size),
        }
    }

    /// Seconds the epoch in progress has run.
    pub fn epoch_seconds(&self) -> f64 {
        self.epoch
            .as_ref()
            .map_or(0.0, |e| e.started.elapsed().as_secs_f64())
    }

    /// The mean loss of the epoch in progress so far (read from the device).
    pub fn running_loss(&self) -> f64 {
        self.epoch.as_ref().map_or(f64::NAN, |e| {
            read_scalar(&e.loss_sum) / e.done.max(1) as f64
        })
    }

    /// [`Trainer::running_loss`], read without blocking (WebGPU in a browser).
    pub async fn running_loss_async(&self) -> Result<f64, String> {
        match &self.epoch {
            Some(e) => Ok(read_scalar_async(&e.loss_sum).await? / e.done.max(1) as f64),
            None => Ok(f64::NAN),
        }
    }

    /// Ends the run now: the epoch in progress is dropped and the best model so far kept.
    pub fn stop(&mut self) {
        self.epoch = None;
        self.stopped = true;
    }

    /// Why the run ended before its last epoch: patience spent (or a stop), if so.
    pub fn stopped_early(&self) -> Option<String> {
        if self.stopped {
            return Some(format!("stopped after epoch {}", self.run.epoch));
        }
        let best = self.run.best.as_ref()?;
        (self.run.epoch < self.train.epochs && self.run.epoch - best.epoch >= self.train.patience)
            .then(|| {
                format!(
                    "early stop: no better validation NDCG@10 for {} epochs",
                    self.train.patience
                )
            })
    }

    /// Whether the run has ended: its epochs done, patience spent, or stopped.
    pub fn finished(&self) -> bool {
        self.epoch.is_none()
            && (self.run.epoch >= self.train.epochs || self.stopped_early().is_some())
    }

    /// Trains the next batch (the first of a new epoch shuffles the sequences); `None` once
    /// the run has [`finished`]. After an epoch's last batch ([`Step::EpochTrained`]), the
    /// epoch must be validated before the next step: [`Trainer::validate`], or
    /// [`Trainer::validate_on_host`] where the device cannot be read synchronously.
    ///
    /// [`finished`]: Trainer::finished
    pub fn step(&mut self) -> Result<Option<Step>, String> {
        if self.finished() {
            return Ok(None);
        }
        if self.trained_epoch().is_some() {
            return Err("the epoch's last batch has trained: validate it first".into());
        }
        let run = &mut self.run;
        if let (None, Some(scales)) = (&self.epoch, &self.schedule) {
            run.lr_scale = scales[run.epoch];
        }
        let epoch = self.epoch.get_or_insert_with(|| {
            let count = self.sequences.len();
            let mut order =
                epoch_sequences(count, self.old_windows, self.train.replay, &mut run.rng);
            let lengths: Vec<usize> = self.sequences.iter().map(Vec::len).collect();
            let (batches, per_batch) = epoch_batches(
                &mut order,
                &lengths,
                self.train.batching,
                self.train.batch_size,
                &mut run.rng,
            );
            Epoch {
                order,
                batches,
                per_batch,
                done: 0,
                loss_sum: Tensor::<1>::zeros([1], &self.ad_device),
                started: Instant::now(),
            }
        });
        let range = epoch.batches[epoch.done].clone();
        let batch: Vec<&[u32]> = epoch.order[range]
            .iter()
            .map(|&i| self.sequences[i].as_slice())
            .collect();
        // Dropout's masks come from the run's own generator, not the device's, which every
        // thread shares: runs side by side stay reproducible, and a checkpoint resumes them.
        let mask_seed = run.rng.next_u64();
        let loss = with_mask_seed(mask_seed, || {
            batch_loss(
                run.model.as_ref().expect("a model between steps"),
                &self.config,
                &self.objective,
                &batch,
                epoch.per_batch,
                &mut run.rng,
                &self.ad_device,
            )
        });
        epoch.loss_sum = epoch.loss_sum.clone() + loss.clone().detach();
        let grads = GradientsParams::from_grads(loss.backward(), run.model());
        let lr = self.train.learning_rate * run.lr_scale;
        // The model moves through the step, so that burn may update its weights in place.
        let model = run.model.take().expect("a model between steps");
        run.model = Some(run.optimizer.step(lr, model, grads));
        epoch.done += 1;
        let (done, batches) = (epoch.done, epoch.batches.len());
        if done < batches {
            return Ok(Some(Step::Batch {
                epoch: run.epoch + 1,
                batch: done,
                batches,
            }));
        }
        Ok(Some(Step::EpochTrained {
            epoch: run.epoch + 1,
        }))
    }

    /// The epoch whose batches have all trained, awaiting validation.
    fn trained_epoch(&self) -> Option<&Epoch> {
        self.epoch.as_ref().filter(|e| e.done == e.batches.len())
    }

    /// Validates the model after an epoch's last batch ([`Step::EpochTrained`]) on the run's
    /// device, reading it synchronously; keeps it when it is the best so far and decays the
    /// learning rate when it is not. Fails when the loss diverged.
    pub fn validate(&mut self) -> Result<EpochReport, String> {
        let epoch = self.take_trained()?;
        let loss = read_scalar(&epoch.loss_sum);
        let snapshot = as_served(self.run.model().valid(), self.train.temperature);
        let device = self.device.clone();
        self.conclude(epoch, loss, snapshot, &device)
    }

    /// [`Trainer::validate`] for a device that is read asynchronously (WebGPU in a browser):
    /// the loss and the weights are read back without blocking, and the model is validated
    /// (and kept, when best) on burn's CPU device.
    pub async fn validate_on_host(&mut self) -> Result<EpochReport, String> {
        let epoch = self.take_trained()?;
        let loss = read_scalar_async(&epoch.loss_sum).await?;
        let host = to_host(&self.run.model().valid(), &self.config).await?;
        let snapshot = as_served(host, self.train.temperature);
        self.conclude(epoch, loss, snapshot, &Device::flex())
    }

    /// The epoch whose batches have all trained, taken out for validation.
    fn take_trained(&mut self) -> Result<Epoch, String> {
        match self.trained_epoch() {
            Some(_) => Ok(self.epoch.take().expect("a trained epoch")),
            None => Err("no epoch has finished training".into()),
        }
    }

    /// `epoch`'s mean loss (from its summed `loss_sum`), and the served `snapshot` (on
    /// `device`) validated there and kept when it is the best so far.
    fn conclude(
        &mut self,
        epoch: Epoch,
        loss_sum: f64,
        snapshot: Awrsr,
        device: &Device,
    ) -> Result<EpochReport, String> {
        let seconds = epoch.started.elapsed().as_secs_f64();
        let loss = loss_sum / epoch.batches.len() as f64;
        let number = self.run.epoch + 1;
        let diverged = |why: String| {
            format!("training diverged in epoch {number}: {why} (try a lower learning rate)")
        };
        if !loss.is_finite() {
            return Err(diverged(format!("the loss is {loss}")));
        }
        let valid = match self.schedule {
            Some(_) => Metrics::default(),
            None => evaluate(&snapshot, &self.config, &self.valid, false, device)
                .map_err(|e| diverged(e.to_string()))?,
        };
        let run = &mut self.run;
        let improved = self.schedule.is_some()
            || run
                .best
                .as_ref()
                .is_none_or(|b| valid.get("NDCG@10") > b.valid.get("NDCG@10"));
        run.lr_scales.push(run.lr_scale);
        if improved {
            let saved = self
                .keep_saved
                .then(|| save_module(&snapshot))
                .transpose()?;
            run.best = Some(Best {
                model: snapshot,
                epoch: number,
                valid: valid.clone(),
                saved,
            });
        } else {
            run.lr_scale *= self.train.lr_decay;
        }
        run.lr_scale *= self.train.lr_epoch_decay;
        run.epoch = number;
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(refit) = &self.alongside {
            refit.epoch_validated(improved, run.lr_scale);
        }
        Ok(EpochReport {
            epoch: number,
            loss,
            seconds,
            sequences_per_second: self.sequences() as f64 / seconds,
            valid,
            improved,
        })
    }

    /// The best epoch so far (1-based; 0 before the first ends) and the epochs finished.
    pub fn progress(&self) -> (usize, usize) {
        let best = self.run.best.as_ref().map_or(0, |b| b.epoch);
        (best, self.run.epoch)
    }

    /// The learning-rate factors of epochs 1 to the best, which a refit replays: none
    /// before an epoch has ended, nor when the run resumed from a checkpoint written before
    /// the factors were recorded (the record then starts at the resume, not at epoch 1).
    pub fn refit_scales(&self) -> Option<&[f64]> {
        let (best, scales) = (self.run.best.as_ref()?.epoch, &self.run.lr_scales);
        (scales.len() == self.run.epoch).then(|| &scales[..best])
    }

    /// The best model so far, in inference mode (none before the first epoch ends).
    pub fn best(&self) -> Option<&Awrsr> {
        self.run.best.as_ref().map(|b| &b.model)
    }

    /// The best model's validation figures (none before the first epoch ends).
    pub fn best_valid(&self) -> Option<&Metrics> {
        self.run.best.as_ref().map(|b| &b.valid)
    }

    /// The run's result: the best model and its epoch. Fails when no epoch has finished.
    pub fn into_trained(self) -> Result<Trained, String> {
        let refit_scales = self.refit_scales().map(<[f64]>::to_vec);
        let Best {
            model,
            epoch,
            valid,
            ..
        } = self.run.best.ok_or("no epoch ran")?;
        #[cfg(not(target_arch = "wasm32"))]
        let mut refit = self.alongside;
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(refit) = &mut refit {
            refit.run_stopped(epoch);
        }
        Ok(Trained {
            model,
            best_epoch: epoch,
            best_valid: valid,
            epochs_run: self.run.epoch,
            refit_scales,
            #[cfg(not(target_arch = "wasm32"))]
            refit,
        })
    }

    /// Continues the run saved at `path`, which must be a checkpoint of this run; the line
    /// to print.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn resume(&mut self, path: &Path) -> Result<String, String> {
        let saved = Checkpoint::read(path)?;
        saved
            .check_fits(&self.config, &self.train, &self.data, self.valid.len())
            .map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        self.run = Run::resume(saved, &self.config, &self.device, &self.ad_device)
            .map_err(|e| format!("checkpoint {}: {e}", path.display()))?;
        self.epoch = None;
        let best = self.run.best.as_ref().map_or(String::new(), |b| {
            format!(" (best epoch {}: valid {})", b.epoch, b.valid.summary())
        });
        Ok(format!(
            "resumed from {} after epoch {}{best}",
            path.display(),
            self.run.epoch
        ))
    }

    /// The checkpoint of this run between epochs (at least one finished).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn checkpoint(&self) -> Result<Checkpoint, String> {
        let run = &self.run;
        let best = run.best.as_ref().ok_or("no epoch ran")?;
        let state = State {
            model: self.config.clone(),
            settings: Settings::of(&self.train),
            data: self.data.clone(),
            epoch: run.epoch,
            rng_word_pos: run.rng.get_word_pos(),
            lr_scale: run.lr_scale,
            lr_scales: run.lr_scales.clone(),
            best_epoch: best.epoch,
            best_valid: best.valid.clone(),
        };
        Ok(Checkpoint {
            state,
            model: save_module(run.model())?,
            optimizer: save_optimizer(run.optimizer.to_record())?,
            best: best.saved.clone().ok_or("the best model was not saved")?,
        })
    }
}

/// A training run between batches: everything a checkpoint holds.
struct Run {
    rng: ChaCha12Rng,
    /// The learning rate's factor now (the decay applied so far).
    lr_scale: f64,
    /// The factor each finished epoch trained at.
    lr_scales: Vec<f64>,
    /// The network (taken out only while an optimizer step runs).
    model: Option<Awrsr>,
    optimizer: ModuleOptimizer,
    best: Option<Best>,
    epoch: usize,
}

/// The best model so far and, when checkpointing, its saved weights.
struct Best {
    model: Awrsr,
    epoch: usize,
    valid: Metrics,
    /// Its weights as a checkpoint holds them (native only).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    saved: Option<Vec<u8>>,
}

impl Run {
    /// A fresh run on `ad_device`: random weights, or `init`'s (a warm retrain). Random
    /// weights are drawn by the host device's generator on every device, so that a seed
    /// starts from the same weights on the CPU and on a GPU.
    fn start(
        config: &ModelConfig,
        train: &TrainConfig,
        init: Option<&Awrsr>,
        ad_device: &Device,
    ) -> Result<Self, String> {
        let mut model = config.init(ad_device).train();
        let drawn_on_host;
        let init = match init {
            None if *ad_device != host_device() => {
                drawn_on_host = config.init(&host_device());
                Some(&drawn_on_host)
            }
            init => init,
        };
        if let Some(init) = init {
            load_module(&mut model, &save_module(init)?)?;
        }
        Ok(Self {
            rng: ChaCha12Rng::seed_from_u64(train.seed),
            lr_scale: 1.0,
            lr_scales: Vec::new(),
            model: Some(model),
            optimizer: HostAdam::init(),
            best: None,
            epoch: 0,
        })
    }

    /// The network being trained.
    fn model(&self) -> &Awrsr {
        self.model.as_ref().expect("a model between steps")
    }

    /// The run a checkpoint describes: weights and optimizer on `ad_device`, the best
    /// model on `device`.
    #[cfg(not(target_arch = "wasm32"))]
    fn resume(
        saved: Checkpoint,
        config: &ModelConfig,
        device: &Device,
        ad_device: &Device,
    ) -> Result<Self, String> {
        let mut model = config.init(ad_device).train();
        load_module(&mut model, &saved.model)?;
        let optimizer = HostAdam::init().load_record(load_optimizer(&saved.optimizer)?);
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
            lr_scales: state.lr_scales,
            model: Some(model),
            optimizer,
            best: Some(best),
            epoch: state.epoch,
        })
    }
}

/// A one-element tensor's value, read from its device.
fn read_scalar(tensor: &Tensor<1>) -> f64 {
    f64::from(tensor.clone().into_scalar::<f32>())
}

/// Seeds `ad_device`'s generator and, when it is another, the host device's, which draws
/// the initial weights and the host dropout masks ([`host_device`]).
fn seed_devices(ad_device: &Device, seed: u64) {
    ad_device.seed(seed);
    if *ad_device != host_device() {
        host_device().seed(seed);
    }
}

/// [`read_scalar`] without blocking.
async fn read_scalar_async(tensor: &Tensor<1>) -> Result<f64, String> {
    let data = tensor
        .clone()
        .into_data_async()
        .await
        .map_err(|e| format!("reading the loss back failed: {e:?}"))?;
    let values = data.try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    Ok(values.first().copied().map_or(f64::NAN, f64::from))
}

/// The CLI's progress bar over an epoch's batches.
#[cfg(not(target_arch = "wasm32"))]
mod progress {
    use indicatif::{ProgressBar, ProgressStyle};

    use super::TrainConfig;

    /// How often (in batches) the bar reads the running loss from the device.
    const READ_EVERY: usize = 16;

    /// A bar, hidden when progress is off.
    pub(super) struct Bar(ProgressBar);

    impl Bar {
        /// A bar that shows nothing.
        pub(super) fn hidden() -> Self {
            Self(ProgressBar::hidden())
        }

        /// A bar over `batches` batches of `epoch`, shown when `show` is set.
        pub(super) fn new(show: bool, batches: usize, epoch: usize, train: &TrainConfig) -> Self {
            if !show {
                return Self::hidden();
            }
            let bar = ProgressBar::new(batches as u64);
            let style = ProgressStyle::with_template(
                "epoch {prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_prefix(format!("{epoch}/{}", train.epochs));
            Self(bar)
        }

        /// Marks batch `batch` (1-based) done, showing `loss()` now and then.
        pub(super) fn advance(&self, batch: usize, loss: impl FnOnce() -> f64) {
            self.0.inc(1);
            if !self.0.is_hidden() && (batch - 1).is_multiple_of(READ_EVERY) {
                self.0.set_message(format!("loss {:.4}", loss()));
            }
        }

        /// Clears the bar.
        pub(super) fn finish(&self) {
            self.0.finish_and_clear();
        }
    }
}
