//! The recency finish: after early stopping, a few more epochs on the newest training
//! sessions, so that the model leans toward what the shop sells now.
//!
//! A shop's test sessions come after its training sessions, and the newest ones say most
//! about them: a model warm-retrained on the newest sessions from an older model validated
//! above one trained on all of them at once (Diginetica, `docs/results.md`, "Warm
//! retrains"). The finish does that within one run: from the early-stopped model, each
//! epoch trains the newest tenth of the training sessions and a fresh
//! [`TrainConfig::WARM_REPLAY`] share of the older ones, at a warm retrain's learning rate
//! ([`TrainConfig::WARM_LEARNING_RATE_SHARE`]), for as long as validation NDCG@10 rises,
//! up to a number of epochs. The epochs kept are those that beat the early-stopped model on
//! validation (none: the model as it was). A refit gets the same finish on all its
//! sessions, for as many epochs (no validation is left to choose them).

use burn::tensor::Device;

use super::config::TrainConfig;
use super::fit::Trainer;
#[cfg(not(target_arch = "wasm32"))]
use super::fit::drive;
use crate::data::split::Split;
use crate::eval::FinishFit;
use crate::metrics::Metrics;
use crate::model::{Awrsr, ModelConfig};

/// The share of the training sessions, the newest, that every epoch of a finish trains on.
pub const RECENT_SHARE: f64 = 0.1;
/// The most epochs a finish tries by default on a log with times (`train --finish`). On
/// Diginetica's validation, three seeds kept 2, 2 and 1 epochs of up to 3 and never a third,
/// so 2 trains the same models in less time (`docs/results.md`, "A recency finish").
pub const EPOCHS: usize = 2;

/// The run a finish continues: its model's shape, its training settings and its device.
pub struct Continuing<'a> {
    /// The model's configuration.
    pub config: &'a ModelConfig,
    /// The run's training settings (a finish derives its own from them).
    pub train: &'a TrainConfig,
    /// Where it trains.
    pub device: &'a Device,
}

/// What a finish did: the model after its epochs kept, how many, and the validation
/// figures of the model it started from.
pub struct Finished {
    /// The finished model (the early-stopped one when no epoch was kept).
    pub model: Awrsr,
    /// Epochs kept (0: none beat the early-stopped model on validation).
    pub epochs: usize,
    /// Epochs tried.
    pub tried: usize,
    /// The best validation figures, the kept epochs' or the early-stopped model's.
    pub valid: Metrics,
}

impl Finished {
    /// The finish's record in a report: its epochs kept and tried, and `before`, the
    /// early-stopped model's validation figures.
    pub fn record(&self, before: &Metrics) -> FinishFit {
        FinishFit {
            epochs: self.epochs,
            tried: self.tried,
            valid_before: before.averages(),
        }
    }

    /// `model`, the early-stopped model whose validation figures were `before`, kept after
    /// `tried` epochs of which none was better.
    fn unchanged(model: Awrsr, before: &Metrics, tried: usize) -> Self {
        Finished {
            model,
            epochs: 0,
            tried,
            valid: before.clone(),
        }
    }
}

/// How a finish trains `sequences` of which all but the newest [`RECENT_SHARE`] are old:
/// `train`'s settings for `epochs` epochs at the warm retrain's learning rate and replay,
/// without a decay, stopping at the first epoch that does not improve.
fn settings(train: &TrainConfig, sequences: usize, epochs: usize) -> TrainConfig {
    let recent = ((sequences as f64 * RECENT_SHARE).ceil() as usize).min(sequences);
    TrainConfig {
        epochs,
        patience: 1,
        learning_rate: train.learning_rate * TrainConfig::WARM_LEARNING_RATE_SHARE,
        lr_decay: 1.0,
        lr_epoch_decay: 1.0,
        old_sessions: sequences - recent,
        replay: TrainConfig::WARM_REPLAY,
        ..train.clone()
    }
}

/// The finish of `model`, the early-stopped model of `run` on `split` (its training sessions
/// in order of their start), for up to `epochs` (at least 1) epochs: a [`Trainer`] to drive
/// to its end, then to give to [`kept`].
pub fn trainer(
    run: &Continuing,
    split: &Split,
    model: &Awrsr,
    epochs: usize,
) -> Result<Trainer, String> {
    let settings = settings(run.train, split.train.len(), epochs);
    Trainer::new(run.config, &settings, split, run.device, Some(model), false)
}

/// What a finish's `trainer` (ended, or stopped) keeps of its epochs over `model`, the
/// early-stopped model whose best validation figures were `before`: its best epoch when that
/// beats `before` on NDCG@10, else `model` unchanged.
pub fn kept(trainer: &Trainer, model: Awrsr, before: &Metrics) -> Finished {
    let (best, tried) = trainer.progress();
    let ndcg = |m: &Metrics| m.get("NDCG@10");
    match (trainer.best(), trainer.best_valid()) {
        (Some(better), Some(valid)) if ndcg(valid) > ndcg(before) => Finished {
            model: better.clone(),
            epochs: best,
            tried,
            valid: valid.clone(),
        },
        _ => Finished::unchanged(model, before, tried),
    }
}

/// The finish of a refit model: `epochs` (at least 1; a run's [`Finished::epochs`]) epochs
/// on `sequences`, all the training sessions of `run`'s refit in order of their start, from
/// `model`, with nothing validated: a [`Trainer`] whose model after its last epoch is the
/// refit's.
pub fn refit_trainer(
    run: &Continuing,
    sequences: Vec<Vec<u32>>,
    model: &Awrsr,
    epochs: usize,
) -> Result<Trainer, String> {
    let settings = settings(run.train, sequences.len(), epochs);
    let scales = vec![1.0; epochs];
    Trainer::refit(
        run.config,
        &settings,
        sequences,
        &scales,
        Some(model),
        run.device,
    )
}

/// Finishes `model`, the early-stopped model of `run` on `split` whose best validation
/// figures were `before`: up to `epochs` epochs ([`trainer`]), kept while they beat `before`
/// on NDCG@10 ([`kept`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn finish(
    run: &Continuing,
    split: &Split,
    model: Awrsr,
    before: &Metrics,
    epochs: usize,
    say: &mut dyn FnMut(String),
) -> Result<Finished, String> {
    if epochs == 0 {
        return Ok(Finished::unchanged(model, before, 0));
    }
    let mut trainer = trainer(run, split, &model, epochs)?;
    let say = &mut |line| say(format!("finish: {line}"));
    drive(&mut trainer, None, say)?;
    if let Some(reason) = trainer.stopped_early() {
        say(reason);
    }
    Ok(kept(&trainer, model, before))
}

/// The finish of a refit model ([`refit_trainer`]) driven to its end: `model` itself when
/// `epochs` is 0.
#[cfg(not(target_arch = "wasm32"))]
pub fn finish_refit(
    run: &Continuing,
    sequences: Vec<Vec<u32>>,
    model: Awrsr,
    epochs: usize,
    say: &mut dyn FnMut(String),
) -> Result<Awrsr, String> {
    if epochs == 0 {
        return Ok(model);
    }
    let mut trainer = refit_trainer(run, sequences, &model, epochs)?;
    drive(&mut trainer, None, &mut |line| {
        say(format!("finish: refit {line}"))
    })?;
    Ok(trainer.into_trained()?.model)
}
