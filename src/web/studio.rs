//! The studio's JavaScript API (the `studio` feature's build, `pkg-studio/`): a shop's export
//! read by the CLI's readers, split under the CLI's protocol, a model trained by the CLI's
//! [`Trainer`] a few batches per call (the page's Worker yields between calls, so that it
//! hears "stop"), its figures beside the baselines, and the bundle to download. Glue only;
//! errors cross as `Error`s with the CLI's messages, naming the file and line.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen_futures::future_to_promise;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::after_run::{self, AfterRun, Phase};
use super::gpu;
use super::options::parse_options;
use super::reflect::now;
use super::results::to_js;
use crate::bundle::{self, Precision};
use crate::data::{self, EventOptions, Format, LoadOptions, Log, Split, Standard, files};
use crate::eval::{Report, check_evaluable};
use crate::model::{Awrsr, ModelConfig, Refinement, RepeatBonus};
use crate::protocol::{Prepared, Protocol, prepare};
use crate::train::{LogKind, Step, TrainConfig, Trainer, with_repeat_bonus};

/// Options of `read`: the CLI's reading flags.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct ReadOptions {
    /// `--format`'s names; detected when absent or `'auto'`.
    format: Option<String>,
    session_column: Option<String>,
    visitor_column: Option<String>,
    item_column: Option<String>,
    time_column: Option<String>,
    event_column: Option<String>,
    /// Event types to keep, comma-separated (`"view,addtocart"`).
    events: Option<String>,
    /// Minutes of inactivity that end a visitor's session.
    gap_minutes: Option<f64>,
    /// SR-GNN's standard preprocessing.
    preprocess: Option<bool>,
    /// With it, the days at the end held out for testing.
    test_days: Option<f64>,
    /// Users with fewer interactions are dropped.
    min_interactions: Option<usize>,
}

impl ReadOptions {
    /// The CLI's reading options for these; a click export's format when columns are named.
    fn load_options(&self) -> Result<LoadOptions, String> {
        let format = match self.format.as_deref() {
            None | Some("auto") => None,
            Some(name) => {
                Some(Format::from_name(name).ok_or_else(|| format!("unknown format {name:?}"))?)
            }
        };
        let gap = self
            .gap_minutes
            .unwrap_or(data::events::DEFAULT_SESSION_GAP_SECONDS / 60.0);
        if !(gap.is_finite() && gap > 0.0) {
            return Err(format!(
                "the session gap {gap} is not a positive number of minutes"
            ));
        }
        let named = |c: &Option<String>| c.clone().filter(|c| !c.is_empty());
        let events = EventOptions {
            session_column: named(&self.session_column),
            visitor_column: named(&self.visitor_column),
            item_column: named(&self.item_column),
            time_column: named(&self.time_column),
            event_column: named(&self.event_column),
            keep_events: named(&self.events)
                .map(|e| e.split(',').map(|e| e.trim().to_string()).collect()),
            session_gap_seconds: gap * 60.0,
        };
        let preprocess = self.preprocess.unwrap_or(false).then(|| Standard {
            test_days: self.test_days.unwrap_or(Standard::default().test_days),
            ..Standard::default()
        });
        Ok(LoadOptions {
            format: format.or(events.names_columns().then_some(Format::Events)),
            min_interactions: self.min_interactions.unwrap_or(1),
            events,
            preprocess,
        })
    }
}

/// What `read` found, for the page to show.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary<'a> {
    format: &'static str,
    detected: Option<&'static str>,
    kind: &'static str,
    sequences: usize,
    items: usize,
    interactions: usize,
    timed: bool,
    notes: &'a [String],
    protocol: Protocol,
    train_sequences: usize,
    valid_cases: usize,
    test_cases: usize,
}

/// Settings of `start`.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Settings {
    /// `'auto'` (the default), `'webgpu'` or `'cpu'`.
    backend: Option<String>,
    /// `'small'`, `'medium'` (the default) or `'large'`: d = 32, 64 or 128.
    size: Option<String>,
    /// Most epochs; 0 or absent: until validation stops improving.
    epochs: Option<usize>,
    patience: Option<usize>,
    seed: Option<u64>,
    refinement: Option<Refinement>,
}

/// What `start` planned.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Plan<'a> {
    batches: usize,
    sequences: usize,
    epochs: usize,
    patience: usize,
    /// `'webgpu'` or `'cpu'`: where it trains.
    backend: &'static str,
    /// Why `'auto'` chose the CPU.
    fallback_reason: Option<&'a str>,
    model: &'a ModelConfig,
    training: &'a TrainConfig,
}

/// A finished epoch, for the page.
#[derive(Serialize)]
struct EpochFigures {
    epoch: usize,
    loss: f64,
    seconds: f64,
    valid: BTreeMap<String, f64>,
    improved: bool,
}

/// What `step` did.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    epoch: usize,
    batch: usize,
    batches: usize,
    loss: f64,
    seconds: f64,
    sequences_per_second: f64,
    finished: Option<EpochFigures>,
    done: bool,
    reason: Option<String>,
    /// Whether this is the refit (training again on every session, nothing validated).
    refit: bool,
    /// Whether this is a recency finish (the run's, validated, or the refit's).
    finish: bool,
}

/// The result: the model's figures (as stored at `precision`) beside the baselines'.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Outcome<'a> {
    best_epoch: usize,
    epochs_run: usize,
    precision: Precision,
    bytes: usize,
    protocol: Protocol,
    test_cases: usize,
    valid: &'a BTreeMap<String, f64>,
    test: &'a BTreeMap<String, f64>,
    baselines: Vec<Baseline<'a>>,
    /// After a refit: its epochs and the stopped model's test figures.
    refit_epochs: Option<usize>,
    test_before_refit: Option<&'a BTreeMap<String, f64>>,
    /// Session logs: the repeat bonus chosen, and the validation figures without it.
    repeat_bonus: Option<RepeatBonus>,
    valid_without_repeat_bonus: Option<&'a BTreeMap<String, f64>>,
    /// After a recency finish: its epochs kept and tried, and the early-stopped model's
    /// validation figures (without a repeat bonus).
    finish_epochs: Option<usize>,
    finish_tried: Option<usize>,
    valid_before_finish: Option<&'a BTreeMap<String, f64>>,
}

/// One baseline's test figures.
#[derive(Serialize)]
struct Baseline<'a> {
    name: &'a str,
    metrics: &'a BTreeMap<String, f64>,
}

/// The studio: a log read, then a training run, then its bundle.
#[wasm_bindgen]
pub struct Studio {
    read: Option<(Log, Prepared)>,
    config: Option<ModelConfig>,
    /// The run, shared with the futures of `start` and `step` (a step holds it while it runs).
    trainer: Rc<RefCell<Option<Trainer>>>,
    /// Set by `stop`, which a step under way then obeys.
    stopping: Rc<Cell<bool>>,
    /// Set while a step runs (the trainer is out of its cell then).
    stepping: Rc<Cell<bool>>,
    /// The finish and the refit that follow early stopping on a session log with times.
    after: Rc<RefCell<AfterRun>>,
    /// The trained model's bundle and figures, once asked for.
    bundle: Option<Vec<u8>>,
}

#[wasm_bindgen]
impl Studio {
    /// An empty studio (a module holds one at a time: the files given to an earlier one are
    /// forgotten).
    #[wasm_bindgen(constructor)]
    pub fn new() -> Studio {
        files::forget_all();
        Studio {
            read: None,
            config: None,
            trainer: Rc::default(),
            stopping: Rc::default(),
            stepping: Rc::default(),
            after: Rc::default(),
            bundle: None,
        }
    }

    /// Makes `bytes` readable as the file `name` (a log, or a companion such as
    /// `movies.csv` next to MovieLens' `ratings.csv`).
    #[wasm_bindgen(js_name = addFile)]
    pub fn add_file(&mut self, name: &str, bytes: Vec<u8>) {
        files::give(name, bytes);
    }

    /// Forgets every file given.
    #[wasm_bindgen(js_name = clearFiles)]
    pub fn clear_files(&mut self) {
        files::forget_all();
    }

    /// Reads the file `name` as `awrsr train --data name` would, with the CLI's reading
    /// options, and splits it under the CLI's protocol; what was read.
    #[wasm_bindgen(unchecked_return_type = "Summary")]
    pub fn read(
        &mut self,
        name: &str,
        #[wasm_bindgen(unchecked_param_type = "ReadOptions")] options: JsValue,
    ) -> Result<JsValue, JsError> {
        self.not_stepping()?;
        let options: ReadOptions = parse_options(&options, "read options")?;
        let load = options.load_options().map_err(|e| JsError::new(&e))?;
        let log = data::read(name.as_ref(), &load).map_err(|e| JsError::new(&e.to_string()))?;
        let protocol = match log.format.is_click_export() {
            true => Protocol::Sessions,
            false => Protocol::LeaveOneOut,
        };
        let mut notes = log.notes.clone();
        let prepared = prepare(
            &log,
            &log.interactions,
            protocol,
            None,
            TrainConfig::DEFAULTS.seed,
            &mut |line| notes.push(line),
        );
        crate::train::check_trainable(&prepared.split)
            .and_then(|()| check_evaluable(&prepared.split))
            .map_err(|e| JsError::new(&format!("{name}: {e}")))?;
        let interactions = &log.interactions;
        let summary = to_js(&Summary {
            format: log.format.name(),
            detected: log.detected,
            kind: if log.format.is_click_export() {
                "sessions"
            } else {
                "users"
            },
            sequences: interactions.users.len(),
            items: interactions.catalogue.len(),
            interactions: interactions.len(),
            timed: log.timed(),
            notes: &notes,
            protocol,
            train_sequences: prepared.split.train.len(),
            valid_cases: prepared.split.valid.len(),
            test_cases: prepared.split.test.len(),
        })?;
        // Field by field: replacing the whole studio would drop it, and its files with it.
        *self.trainer.borrow_mut() = None;
        self.read = Some((log, prepared));
        (self.config, self.bundle) = (None, None);
        Ok(summary)
    }

    /// Starts training on the log read, with the CLI's defaults for its kind and `settings`,
    /// on the device `settings.backend` chooses (as `Recommender.load`'s `backend`: `'auto'`
    /// takes WebGPU on a real GPU only); resolves to the plan.
    #[wasm_bindgen(unchecked_return_type = "Promise<Plan>")]
    pub fn start(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "TrainSettings")] settings: JsValue,
    ) -> Result<Promise, JsError> {
        self.not_stepping()?;
        let settings: Settings = parse_options(&settings, "training settings")?;
        let (config, training, split) = self.plan(&settings)?;
        let (trainer_cell, stopping) = (self.trainer.clone(), self.stopping.clone());
        *trainer_cell.borrow_mut() = None;
        (self.config, self.bundle) = (Some(config.clone()), None);
        stopping.set(false);
        let after = self.after.clone();
        *after.borrow_mut() = AfterRun::default();
        let sessions = self.refit_sessions();
        Ok(future_to_promise(async move {
            let chosen = gpu::choose(settings.backend.as_deref()).await?;
            let trainer = Trainer::new(&config, &training, &split, &chosen.device, None, false)
                .map_err(|e| JsError::new(&e))?;
            let plan = to_js(&Plan {
                batches: trainer.batches_per_epoch(),
                sequences: trainer.sequences(),
                epochs: training.epochs,
                patience: training.patience,
                backend: chosen.backend,
                fallback_reason: chosen.fallback_reason.as_deref(),
                model: &config,
                training: &training,
            })?;
            // What the finish and the refit train on, kept only where they follow the run.
            after.borrow_mut().plan = sessions.map(|sessions| after_run::Plan {
                config,
                training,
                split,
                sessions,
                device: chosen.device,
            });
            *trainer_cell.borrow_mut() = Some(trainer);
            Ok(plan)
        }))
    }

    /// The sessions a refit trains on, when the log read calls for one (the CLI's default).
    fn refit_sessions(&self) -> Option<Vec<Vec<u32>>> {
        let (_, prepared) = self.read.as_ref()?;
        (prepared.refits_by_default()).then(|| prepared.refit_sessions().cloned().collect())
    }

    /// Refuses a call while a step runs (the page must await it, or stop it first).
    fn not_stepping(&self) -> Result<(), JsError> {
        match self.stepping.get() {
            true => Err(JsError::new(
                "a step is under way: await it (or stop) first",
            )),
            false => Ok(()),
        }
    }

    /// The network, the training settings and the split for `settings` on the log read.
    fn plan(&self, settings: &Settings) -> Result<(ModelConfig, TrainConfig, Split), JsError> {
        let (log, prepared) = self
            .read
            .as_ref()
            .ok_or_else(|| JsError::new("no log has been read"))?;
        let num_items = log.interactions.catalogue.len();
        let d_model = match settings.size.as_deref() {
            None | Some("medium") => ModelConfig::DEFAULTS.d_model,
            Some("small") => 32,
            Some("large") => 128,
            Some(other) => return Err(JsError::new(&format!("unknown size {other:?}"))),
        };
        let kind = LogKind::of(
            prepared.protocol == Protocol::Sessions,
            &prepared.split.train,
            ModelConfig::DEFAULTS.max_len,
        );
        let config = ModelConfig {
            num_items,
            d_model,
            dropout: kind.defaults().dropout,
            refinement: settings
                .refinement
                .unwrap_or(ModelConfig::DEFAULTS.refinement),
            ..ModelConfig::DEFAULTS
        };
        let base = TrainConfig::for_log(kind, num_items);
        let training = TrainConfig {
            epochs: settings.epochs.filter(|&e| e > 0).unwrap_or(base.epochs),
            patience: settings.patience.unwrap_or(base.patience),
            seed: settings.seed.unwrap_or(base.seed),
            progress: false,
            ..base
        };
        Ok((config, training, prepared.split.clone()))
    }

    /// Trains batches for about `budget_ms` milliseconds, or up to the end of an epoch
    /// (which is then validated, its weights read back without blocking); resolves to where
    /// training stands.
    #[wasm_bindgen(unchecked_return_type = "Promise<Progress>")]
    pub fn step(&self, budget_ms: f64) -> Promise {
        let (trainer_cell, stopping) = (self.trainer.clone(), self.stopping.clone());
        let after = self.after.clone();
        future_to_promise(async move {
            // Taken out while the step runs (it awaits read-backs), put back after.
            let taken = trainer_cell.borrow_mut().take();
            let mut trainer = taken
                .ok_or_else(|| JsError::new("training has not started (or a step is under way)"))?;
            let progress = train_for(&mut trainer, budget_ms, &stopping).await;
            let progress = match progress {
                Ok(progress) => next_phase(&mut trainer, progress, &after, &stopping),
                failed => failed,
            };
            *trainer_cell.borrow_mut() = Some(trainer);
            Ok(to_js(&progress?)?)
        })
    }

    /// Ends training at once (also while a step is under way); the best model so far is kept.
    pub fn stop(&self) {
        self.stopping.set(true);
        if let Some(trainer) = self.trainer.borrow_mut().as_mut() {
            trainer.stop();
        }
    }

    /// The best model stored at `precision` (`'int8'` by default), evaluated as stored on
    /// the test cases beside the baselines; the bundle is what [`Studio::bundle`] returns.
    #[wasm_bindgen(unchecked_return_type = "StudioResult")]
    pub fn finish(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "'int8' | 'f16' | 'f32'")] precision: JsValue,
    ) -> Result<JsValue, JsError> {
        self.not_stepping()?;
        let precision: Precision = match precision.is_undefined() || precision.is_null() {
            true => Precision::Int8,
            false => serde_wasm_bindgen::from_value(precision)
                .map_err(|_| JsError::new("precision must be 'int8', 'f16' or 'f32'"))?,
        };
        let message = |e: String| JsError::new(&e);
        let (log, prepared) = self
            .read
            .as_ref()
            .ok_or_else(|| message("no log has been read".into()))?;
        let config = self
            .config
            .as_ref()
            .ok_or_else(|| message("training has not started".into()))?;
        let guard = self.trainer.borrow();
        let trainer = guard
            .as_ref()
            .ok_or_else(|| message("training has not started".into()))?;
        let after = self.after.borrow();
        // After early stopping, the finished model; a refit stopped before its end is dropped.
        let (model, (best_epoch, epochs_run), refit_model) = match &after.stopped {
            Some(stopped) => (
                &stopped.model,
                (stopped.best, stopped.run),
                after.complete.then(|| trainer.best()).flatten(),
            ),
            None => (
                trainer
                    .best()
                    .ok_or_else(|| message("no epoch has finished yet".into()))?,
                trainer.progress(),
                None,
            ),
        };
        let catalogue = &log.interactions.catalogue;
        let device = Device::flex();
        let store = |model: &Awrsr, config: &ModelConfig| {
            bundle::encode_as_stored(model.clone(), config, catalogue, precision, &device)
                .map_err(|e| message(e.to_string()))
        };
        let (mut bytes, stored) = store(model, config)?;
        let (config, repeat) = with_repeat_bonus(&stored, config, prepared, &device)
            .map_err(|e| message(e.to_string()))?;
        if !config.repeat.is_none() {
            bytes = store(model, &config)?.0;
        }
        let mut report = Report::of(&stored, &config, prepared, false, &device)
            .map_err(|e| message(e.to_string()))?;
        report.repeat = repeat;
        report.finish = after.finish.clone();
        if let Some(refitted) = refit_model {
            let (refit_bytes, stored) = store(refitted, &config)?;
            bytes = refit_bytes;
            report = (report.refitted(&stored, &config, prepared, best_epoch, &device))
                .map_err(|e| message(e.to_string()))?;
        }
        let baselines = match report.baselines.is_empty() {
            true => vec![Baseline {
                name: "popularity",
                metrics: &report.popularity["test"],
            }],
            false => report
                .baselines
                .iter()
                .map(|(name, metrics)| Baseline { name, metrics })
                .collect(),
        };
        let result = to_js(&Outcome {
            best_epoch,
            epochs_run,
            precision,
            bytes: bytes.len(),
            protocol: report.protocol,
            test_cases: prepared.split.test.len(),
            valid: &report.valid,
            test: &report.test,
            baselines,
            refit_epochs: report.refit.as_ref().map(|r| r.epochs),
            test_before_refit: report.refit.as_ref().map(|r| &r.test_before),
            repeat_bonus: report.repeat.as_ref().map(|r| r.chosen),
            valid_without_repeat_bonus: report.repeat.as_ref().map(|r| &r.valid_without),
            finish_epochs: report.finish.as_ref().map(|f| f.epochs),
            finish_tried: report.finish.as_ref().map(|f| f.tried),
            valid_before_finish: report.finish.as_ref().map(|f| &f.valid_before),
        })?;
        drop((guard, after));
        self.bundle = Some(bytes);
        Ok(result)
    }

    /// The bundle `finish` made (`model.awrsr`): loadable by the CLI and the widget.
    pub fn bundle(&self) -> Result<Vec<u8>, JsError> {
        self.bundle
            .clone()
            .ok_or_else(|| JsError::new("call finish() first"))
    }

    /// Up to `count` test inputs (item ids, oldest first, at most the last 10 clicks) to show
    /// recommendations for: spread over the test cases, two clicks or more.
    #[wasm_bindgen(unchecked_return_type = "string[][]")]
    pub fn examples(&self, count: usize) -> Result<JsValue, JsError> {
        let (log, prepared) = self
            .read
            .as_ref()
            .ok_or_else(|| JsError::new("no log has been read"))?;
        let candidates: Vec<&[u32]> = prepared
            .split
            .test
            .iter()
            .map(|c| &c.input[c.input.len().saturating_sub(10)..])
            .filter(|input| input.len() >= 2)
            .collect();
        let step = (candidates.len() / count.max(1)).max(1);
        let catalogue = &log.interactions.catalogue;
        let examples: Vec<Vec<&str>> = candidates
            .iter()
            .step_by(step)
            .take(count)
            .map(|input| input.iter().map(|&i| catalogue.id(i)).collect())
            .collect();
        to_js(&examples)
    }

    /// A `catalogue.json` skeleton for the widget: every item's id and, where the log came
    /// with them, its title (the shop fills in the rest: titles, images, links, prices).
    pub fn catalogue(&self) -> Result<String, JsError> {
        let (log, _) = self
            .read
            .as_ref()
            .ok_or_else(|| JsError::new("no log has been read"))?;
        let catalogue = &log.interactions.catalogue;
        let entries: Vec<serde_json::Value> = catalogue
            .ids()
            .iter()
            .zip(catalogue.titles())
            .map(|(id, title)| match title {
                Some(title) => serde_json::json!({ "id": id, "title": title }),
                None => serde_json::json!({ "id": id }),
            })
            .collect();
        serde_json::to_string(&entries).map_err(|e| JsError::new(&e.to_string()))
    }
}

/// Trains `trainer` for about `budget_ms` (or to the end of an epoch, validated on the host),
/// ending it when `stopping` is set; where it stands.
async fn train_for(
    trainer: &mut Trainer,
    budget_ms: f64,
    stopping: &Cell<bool>,
) -> Result<Progress, JsError> {
    let fail = |e: String| JsError::new(&e);
    let started = now();
    let mut finished = None;
    let mut position = (trainer.epoch(), 0, trainer.batches_per_epoch());
    loop {
        if stopping.get() {
            trainer.stop();
        }
        match trainer.step().map_err(fail)? {
            None => break,
            Some(Step::Batch {
                epoch,
                batch,
                batches,
            }) => position = (epoch, batch, batches),
            Some(Step::EpochTrained { epoch }) => {
                position = (epoch, position.2, position.2);
                finished = Some(trainer.validate_on_host().await.map_err(fail)?);
                break;
            }
        }
        if now() - started >= budget_ms {
            break;
        }
    }
    let (epoch, batch, batches) = position;
    let loss = match &finished {
        Some(report) => report.loss,
        None => trainer.running_loss_async().await.map_err(fail)?,
    };
    let seconds = finished
        .as_ref()
        .map_or(trainer.epoch_seconds(), |r| r.seconds);
    let done = trainer.finished();
    Ok(Progress {
        epoch,
        batch,
        batches,
        loss,
        seconds,
        sequences_per_second: (batch as f64 / batches.max(1) as f64) * trainer.sequences() as f64
            / seconds.max(1e-9),
        reason: done.then(|| {
            trainer
                .stopped_early()
                .unwrap_or_else(|| format!("all {epoch} epochs done"))
        }),
        refit: false,
        finish: false,
        finished: finished.map(|r| EpochFigures {
            epoch: r.epoch,
            loss: r.loss,
            seconds: r.seconds,
            valid: r.valid.averages(),
            improved: r.improved,
        }),
        done,
    })
}

/// After a step: marks the phase the step trained ([`AfterRun`]); when the phase has ended,
/// moves on to the next one (the run's finish, the refit, the refit's finish), which the
/// following steps train, or says how training ended.
fn next_phase(
    trainer: &mut Trainer,
    mut progress: Progress,
    after: &RefCell<AfterRun>,
    stopping: &Cell<bool>,
) -> Result<Progress, JsError> {
    let mut after = after.borrow_mut();
    let phase = after.phase;
    progress.finish = matches!(phase, Phase::Finish | Phase::RefitFinish);
    progress.refit = matches!(phase, Phase::Refit | Phase::RefitFinish);
    if !progress.done {
        return Ok(progress);
    }
    // The page's Stop (the only caller of `Trainer::stop`) ends the phase under way for good.
    if after
        .next(trainer, stopping.get())
        .map_err(|e| JsError::new(&e))?
    {
        // This step's finished epoch is still the ended phase's: the next phase's come next.
        (progress.done, progress.reason) = (false, None);
    } else if let Some(summary) = after.summary() {
        progress.reason = Some(summary);
    }
    Ok(progress)
}

impl Default for Studio {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Studio {
    /// The files given are freed with the studio.
    fn drop(&mut self) {
        files::forget_all();
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Options of `Studio.read`: the CLI's reading flags. */
export interface ReadOptions {
  format?: 'auto' | 'movielens' | 'dat' | 'atomic' | 'sequences' | 'pairs' | 'events' | 'diginetica' | 'yoochoose' | 'retailrocket';
  sessionColumn?: string; visitorColumn?: string; itemColumn?: string; timeColumn?: string; eventColumn?: string;
  /** Event types to keep, comma-separated. */ events?: string;
  gapMinutes?: number; preprocess?: boolean; testDays?: number; minInteractions?: number;
}
/** What `Studio.read` found. */
export interface Summary {
  format: string; detected: string | null; kind: 'sessions' | 'users'; sequences: number; items: number;
  interactions: number; timed: boolean; notes: string[]; protocol: 'sessions' | 'leave-one-out';
  trainSequences: number; validCases: number; testCases: number;
}
/** Settings of `Studio.start`; `epochs` 0 or absent: until validation stops improving. */
export interface TrainSettings {
  /** Where to train: 'auto' (WebGPU on a real GPU, else the CPU), 'webgpu' or 'cpu'. */
  backend?: 'auto' | 'webgpu' | 'cpu';
  size?: 'small' | 'medium' | 'large'; epochs?: number; patience?: number; seed?: number;
  refinement?: 'none' | 'simple' | 'value' | 'additive';
}
/** What `Studio.start` planned. */
export interface Plan {
  batches: number; sequences: number; epochs: number; patience: number;
  backend: 'webgpu' | 'cpu'; fallbackReason: string | null; model: object; training: object;
}
/** Figures by name: `HR@10`, `NDCG@10`, `HR@20`, `MRR@20`, … */
export type Metrics = Record<string, number>;
/** What `Studio.step` did; `finished` when an epoch ended in the call. */
export interface Progress {
  epoch: number; batch: number; batches: number; loss: number; seconds: number; sequencesPerSecond: number;
  finished: { epoch: number; loss: number; seconds: number; valid: Metrics; improved: boolean } | null;
  done: boolean; reason: string | null;
  /** Whether this is the refit: after early stopping on a session log with times, the run
   * again on every session (validating ones included) for its best epochs; nothing validates. */
  refit: boolean;
  /** Whether this is a recency finish: after early stopping on a session log with times, a
   * few epochs on the newest sessions, validated (with `refit`: the refit's, not validated). */
  finish: boolean;
}
/** What `Studio.finish` measured: the stored model's figures beside the baselines'. */
export interface StudioResult {
  bestEpoch: number; epochsRun: number; precision: 'int8' | 'f16' | 'f32'; bytes: number;
  protocol: 'sessions' | 'leave-one-out'; testCases: number; valid: Metrics; test: Metrics;
  baselines: { name: string; metrics: Metrics }[];
  /** After a refit: its epochs and the stopped model's test figures (`test` is the refit's). */
  refitEpochs: number | null; testBeforeRefit: Metrics | null;
  /** Session logs: the bonus of the session's own items chosen on validation (`bonus` 0:
   * none; `decay` per click back), and the validation figures without it. */
  repeatBonus: { bonus: number; decay: number } | null; validWithoutRepeatBonus: Metrics | null;
  /** After early stopping on a session log with times: the recency finish's epochs on the
   * newest sessions kept (0: none beat early stopping on validation) and tried, and the
   * early-stopped model's validation figures (`valid` is the finished model's). */
  finishEpochs: number | null; finishTried: number | null; validBeforeFinish: Metrics | null;
}
"#;
