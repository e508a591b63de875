//! What the studio trains after early stopping on a session log with times, as `awrsr
//! train` does by default there: the recency finish (`crate::train::finish`), the refit on
//! every session, then the refit's own finish, each a [`Trainer`] that `Studio.step` drives
//! a few batches at a time in turn. A phase the page stops keeps what the CLI would keep of
//! it: a stopped finish its epochs that beat early stopping on validation, a stopped refit
//! nothing (the model it would have replaced stays).

use burn::tensor::Device;

use crate::data::Split;
use crate::eval::FinishFit;
use crate::metrics::Metrics;
use crate::model::{Awrsr, ModelConfig};
use crate::train::finish::{self, Continuing};
use crate::train::{TrainConfig, Trainer};

/// What the phases after the run train on: the run's settings, its split, every training
/// session (a refit's), the device.
pub struct Plan {
    /// The model's configuration.
    pub config: ModelConfig,
    /// The run's training settings.
    pub training: TrainConfig,
    /// The run's split (the finish validates on it).
    pub split: Split,
    /// Every training session, the validating ones included, in order of their start.
    pub sessions: Vec<Vec<u32>>,
    /// Where they train.
    pub device: Device,
}

/// The phase a studio's trainer is in.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Phase {
    /// The run, validated every epoch, until early stopping.
    #[default]
    Run,
    /// The recency finish of the stopped run, validated.
    Finish,
    /// The refit: the run's best epochs again on every session.
    Refit,
    /// The refit's finish, for as many epochs as the finish kept.
    RefitFinish,
}

/// The run once it has stopped: its best model (then the finished one), best epoch, epochs
/// run and best validation figures, and the learning-rate factors a refit replays.
pub struct Stopped {
    /// The early-stopped model, or the finished one once the finish has kept epochs.
    pub model: Awrsr,
    /// The run's best epoch.
    pub best: usize,
    /// The run's epochs.
    pub run: usize,
    /// The early-stopped model's validation figures.
    pub valid: Metrics,
    /// The factors of the run's epochs 1 to its best ([`Trainer::refit_scales`]).
    scales: Vec<f64>,
}

/// Where a studio run stands after early stopping.
#[derive(Default)]
pub struct AfterRun {
    /// Set by `start` for a session log with times (none: nothing follows the run).
    pub plan: Option<Plan>,
    /// The phase under way.
    pub phase: Phase,
    /// Once the run has stopped on its own.
    pub stopped: Option<Stopped>,
    /// The finish's record (epochs kept and tried), once it has ended.
    pub finish: Option<FinishFit>,
    /// Whether the refit and its finish ran all their epochs (a stopped refit is dropped).
    pub complete: bool,
}

impl AfterRun {
    /// Moves on once `trainer`'s phase has ended (`by_page`: the page stopped it): records
    /// what the phase left and swaps in the next phase's trainer; whether training goes on.
    pub fn next(&mut self, trainer: &mut Trainer, by_page: bool) -> Result<bool, String> {
        let Some(plan) = &self.plan else {
            return Ok(false);
        };
        let run = Continuing {
            config: &plan.config,
            train: &plan.training,
            device: &plan.device,
        };
        let next = match (self.phase, by_page) {
            (Phase::Run | Phase::Refit | Phase::RefitFinish, true) => None,
            (Phase::Run, false) => {
                let stopped = Stopped::of(trainer)?;
                let finishing = finish::trainer(&run, &plan.split, &stopped.model, finish::EPOCHS)?;
                self.stopped = Some(stopped);
                Some((Phase::Finish, finishing))
            }
            (Phase::Finish, _) => {
                let stopped = self.stopped.as_mut().ok_or("the run has not stopped")?;
                let model = stopped.model.clone();
                let finished = finish::kept(trainer, model, &stopped.valid);
                self.finish = Some(finished.record(&stopped.valid));
                stopped.model = finished.model;
                match by_page {
                    true => None,
                    false => Some((
                        Phase::Refit,
                        Trainer::refit(
                            &plan.config,
                            &plan.training,
                            plan.sessions.clone(),
                            &stopped.scales,
                            None,
                            &plan.device,
                        )?,
                    )),
                }
            }
            (Phase::Refit, false) => match self.finish.as_ref().map(|f| f.epochs) {
                Some(epochs @ 1..) => {
                    let model = trainer.best().ok_or("the refit ran no epoch")?;
                    let finishing =
                        finish::refit_trainer(&run, plan.sessions.clone(), model, epochs)?;
                    Some((Phase::RefitFinish, finishing))
                }
                _ => None,
            },
            (Phase::RefitFinish, false) => None,
        };
        self.complete =
            matches!(self.phase, Phase::Refit | Phase::RefitFinish) && !by_page && next.is_none();
        match next {
            Some((phase, next)) => {
                (self.phase, *trainer) = (phase, next);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// How training ended, once the refit is complete: the run, the finish, the refit.
    pub fn summary(&self) -> Option<String> {
        let (stopped, fit) = (self.stopped.as_ref()?, self.finish.as_ref()?);
        let (kept, tried) = (fit.epochs, fit.tried);
        let best = stopped.best;
        self.complete.then(|| {
            format!(
                "best epoch {best} of {}; {kept} of {tried} epochs on the newest sessions kept (the finish); then {best} epochs again on every session (the refit){}",
                stopped.run,
                match kept {
                    0 => String::new(),
                    _ => format!(", and {kept} on the newest (its finish)"),
                },
            )
        })
    }
}

impl Stopped {
    /// What the run `trainer` left when it stopped on its own.
    fn of(trainer: &Trainer) -> Result<Self, String> {
        let (best, run) = trainer.progress();
        let no_epoch = || "no epoch ran".to_string();
        Ok(Stopped {
            model: trainer.best().cloned().ok_or_else(no_epoch)?,
            best,
            run,
            valid: trainer.best_valid().cloned().ok_or_else(no_epoch)?,
            scales: trainer.refit_scales().ok_or_else(no_epoch)?.to_vec(),
        })
    }
}
