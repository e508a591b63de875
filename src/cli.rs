//! The command line: `awrsr train`, `awrsr eval`, `awrsr recommend`, `awrsr export` and
//! `awrsr ab` (an A/B pilot's verdict).
//!
//! Hostile input ends in a message and exit code 2, never a panic: settings are checked
//! before any work, output paths before training (`crate::fs`), models are read with
//! bounds (`files`) and written atomically, and a closed standard output (`| head`) is not
//! an error.

mod choices;
mod files;
mod protocol;

use std::error::Error;
use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ab;
use crate::bundle::{self, MAX_BUNDLE_BYTES, Precision};
use crate::catalogue::terminal_safe;
use crate::data::{self, EventOptions, Format, LoadOptions, Log, Standard};
use crate::eval::{Protocol, RepeatFit, Report, check_evaluable};
use crate::fs;
use crate::inference::{Recommendations, Recommender, Request};
use crate::model::{ModelConfig, RepeatBonus};
use crate::protocol::Prepared;
use crate::train::finish::{self, Continuing};
use crate::train::{
    Batching, LogKind, Loss, RATES_NOT_RECORDED, Start, TrainConfig, refit, train,
    with_repeat_bonus,
};
use crate::warm;
use choices::{
    ActivationChoice, BatchingChoice, FormatChoice, LossChoice, PilotFormatChoice, PrecisionChoice,
    RefinementChoice,
};
use protocol::{SplitChoice, prepare};

type CliResult = Result<(), Box<dyn Error>>;

/// awrsr: SASRec with attention weight refinement — train, evaluate, recommend.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model on an interaction log and write a model bundle.
    Train(Box<TrainArgs>),
    /// Evaluate a model bundle on a log (full ranking, leave-one-out).
    Eval(EvalArgs),
    /// Recommend the next items for a session.
    Recommend(RecommendArgs),
    /// Rewrite a model bundle in this version's format (with its checksum), optionally in
    /// another precision (`--precision f16|int8`: a smaller download).
    Export(ExportArgs),
    /// Read an A/B pilot's exported widget events and print its verdict: per arm CTR and
    /// conversion rate, each other arm against the control, and the sample size it needs.
    Ab(AbArgs),
}

/// Where the interactions come from.
#[derive(Args, Debug)]
struct DataArgs {
    /// Interaction log: a file, or a folder with ratings.csv, ratings.dat or one .inter file.
    #[arg(long)]
    data: PathBuf,
    /// Log format (detected from the file when omitted).
    #[arg(long, value_enum)]
    format: Option<FormatChoice>,
    /// Drop users with fewer interactions than this.
    #[arg(long, default_value_t = 1)]
    min_interactions: usize,
    /// Test cases of the session protocol, one a line: `name item … target` (the last id is
    /// the target, the ones before it the session so far). Implies `--split sessions`.
    #[arg(long)]
    test: Option<PathBuf>,
    /// How the log is split. `sessions`: every line (or session) of the log is an anonymous
    /// session trained whole, 10% of them validate (every prefix a case: the latest when the
    /// log has times, else a random 10%), and the test cases come from --test, else from the
    /// sessions `--preprocess standard` held out, else from the last 10% of the sessions.
    /// `leave-one-out`: per user, the last item tests and the one before it validates.
    /// `auto`: sessions when --test is given or the log is a click export (`--format
    /// events|diginetica|yoochoose|retailrocket`, or detected), leave-one-out otherwise.
    #[arg(long, value_enum, default_value_t = SplitChoice::Auto)]
    split: SplitChoice,
    #[command(flatten)]
    clicks: ClickArgs,
}

/// How a shop's click export is read (`--format events`, or detected from its header).
#[derive(Args, Debug)]
struct ClickArgs {
    /// Click exports: the session id column (default: guessed, e.g. `session_id`).
    #[arg(long)]
    session_column: Option<String>,
    /// Click exports: a visitor id column, cut into sessions at --session-gap (default:
    /// guessed, e.g. `visitorid`, when there is no session column).
    #[arg(long)]
    visitor_column: Option<String>,
    /// Click exports: the item id column (default: guessed, e.g. `item_id`, `sku`).
    #[arg(long)]
    item_column: Option<String>,
    /// Click exports: the time column: Unix seconds or milliseconds or ISO 8601, detected
    /// (default: guessed, e.g. `timestamp`; without one, file order is time order).
    #[arg(long)]
    time_column: Option<String>,
    /// Click exports: the event type column (default: guessed, e.g. `event`).
    #[arg(long)]
    event_column: Option<String>,
    /// Click exports: the event types to keep, e.g. `view,addtocart` (default: every row;
    /// RetailRocket's events.csv: `view`).
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    /// Click exports: minutes of inactivity that end a visitor's session.
    #[arg(long, default_value_t = crate::data::events::DEFAULT_SESSION_GAP_SECONDS / 60.0)]
    session_gap: f64,
    /// Click exports: `standard` applies SR-GNN's preprocessing (sessions of one click and
    /// items seen fewer than 5 times dropped, the last --test-days days the test sessions,
    /// test items unseen in training dropped, every prefix a test case).
    #[arg(long, value_enum, default_value_t = Preprocess::None)]
    preprocess: Preprocess,
    /// With `--preprocess standard`: the days at the end of the log held out for testing.
    #[arg(long, default_value_t = 7.0)]
    test_days: f64,
}

/// The preprocessing of a click export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Preprocess {
    /// The sessions as read.
    None,
    /// SR-GNN's standard preprocessing.
    Standard,
}

impl ClickArgs {
    /// The reader's options, checked.
    fn options(&self) -> Result<(EventOptions, Option<Standard>), Box<dyn Error>> {
        if !(self.session_gap.is_finite() && self.session_gap > 0.0) {
            return Err(format!(
                "--session-gap {} is not a positive number of minutes",
                self.session_gap
            )
            .into());
        }
        let events = EventOptions {
            session_column: self.session_column.clone(),
            visitor_column: self.visitor_column.clone(),
            item_column: self.item_column.clone(),
            time_column: self.time_column.clone(),
            event_column: self.event_column.clone(),
            keep_events: (!self.events.is_empty()).then(|| self.events.clone()),
            session_gap_seconds: self.session_gap * 60.0,
        };
        let standard = (self.preprocess == Preprocess::Standard).then(|| Standard {
            test_days: self.test_days,
            ..Standard::default()
        });
        Ok((events, standard))
    }
}

/// Where computations run.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
enum DeviceChoice {
    /// burn's pure-Rust CPU backend (flex).
    #[default]
    Cpu,
    /// burn's wgpu backend (Vulkan / Metal / DX12); needs the `wgpu` cargo feature.
    Wgpu,
}

#[derive(Args, Debug)]
struct TrainArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Where to write the model bundle.
    #[arg(long, default_value = "model.awrsr")]
    out: PathBuf,
    /// How to store the weights: f32 (exact), f16 (half the size) or int8 (a quarter, one
    /// scale per row); the reported figures are those of the stored model.
    #[arg(long, value_enum, default_value_t = Precision::default().into())]
    precision: PrecisionChoice,
    /// Write the final metrics as JSON here.
    #[arg(long)]
    metrics_json: Option<PathBuf>,
    /// Save the training state here after every epoch, and resume from it when the file
    /// exists (same data, model and training settings; --epochs and --patience may change).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Remove each user's input items from the rankings when reporting.
    #[arg(long)]
    filter_seen: bool,
    #[command(flatten)]
    architecture: ArchitectureArgs,
    /// Dropout probability (default: 0.2 for sessions, 0.5 for user histories).
    #[arg(long)]
    dropout: Option<f64>,
    /// Start from this model bundle (a warm retrain on a newer log): its architecture, its
    /// weights and its items' embeddings; items new to the log start from the items they
    /// were clicked with.
    #[arg(long, value_name = "BUNDLE")]
    init: Option<PathBuf>,
    /// With --init: leave out the previous model's items that the new log no longer has
    /// (kept by default: they can still be recommended).
    #[arg(long, requires = "init")]
    drop_gone: bool,
    /// With --init, on a session log with times: each epoch trains on every session newer
    /// than the newest the previous model trained on (its bundle records it) and on this
    /// share of the older ones, drawn afresh each epoch. Default: 0.1 where the bundle
    /// records it, else every session.
    #[arg(long, requires = "init")]
    replay: Option<f64>,
    /// Training objective: `ce` (full softmax), `sampled` (sampled softmax, see --negatives)
    /// or `bce`. Default: `ce` up to 20,000 items, `sampled` above.
    #[arg(long, value_enum)]
    loss: Option<LossChoice>,
    /// Uniformly drawn negatives per batch for `--loss sampled` (besides the batch's targets).
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.negatives)]
    negatives: usize,
    /// Draw the negatives of `--loss sampled` in proportion to (count + 1)^P, count an
    /// item's training targets: 0 uniformly, 1 by popularity.
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.negative_power)]
    negative_power: f32,
    /// Score by cosine similarity divided by this temperature (normalised item and session
    /// embeddings, as in NISER); 0 scores by the dot product.
    /// Default: 0.08 for sessions, 0 for user histories.
    #[arg(long)]
    temperature: Option<f32>,
    /// Maximum epochs.
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.epochs)]
    epochs: usize,
    /// Sequences per batch.
    /// Default: 256 for sessions, 128 for short user histories, 32 for long ones.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Adam learning rate. Default: 0.003, and a quarter of that (0.00075) for a warm
    /// retrain (--init).
    #[arg(long)]
    lr: Option<f64>,
    /// Multiply the learning rate by this after every epoch without a better validation
    /// NDCG@10. Default: 0.5 for sessions, 1 (constant) for user histories.
    #[arg(long)]
    lr_decay: Option<f64>,
    /// Multiply the learning rate by this after every epoch, on top of --lr-decay.
    /// Default: 1 (no per-epoch decay).
    #[arg(long)]
    lr_epoch_decay: Option<f64>,
    /// Early stopping patience in epochs (validation NDCG@10). Default: 3 for sessions, 20
    /// for user histories.
    #[arg(long)]
    patience: Option<usize>,
    /// Random seed.
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.seed)]
    seed: u64,
    /// How sequences are grouped into batches: `by-length` pads each batch only to its
    /// longest sequence (much faster when sessions are short, e.g. Amazon logs).
    /// Default: `by-length` for sessions and short user histories, `shuffled` for long ones.
    #[arg(long, value_enum)]
    batching: Option<BatchingChoice>,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
    /// Hide the progress bar and the note naming a detected log format.
    #[arg(long)]
    quiet: bool,
    /// Session protocol: after early stopping, train again on every training session, the
    /// validating ones included, from the same start (random weights, or --init's) for the
    /// best run's epochs at its learning rates, and store that model. The report keeps the
    /// early-stopped model's validation and test figures beside the refit model's test
    /// figures. Trained beside early stopping on a second core (`--refit-beside`), it adds
    /// about a fifth to the epoch times; after it, about three quarters to the training
    /// time. Default: on when the log has
    /// times (its validation is then the newest tenth of the sessions, which the model would
    /// otherwise never train on; on Diginetica the refit raised HR@20 by 5.6 %), off
    /// otherwise (a random tenth validates; no gain measured). `--refit=false` turns it off.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    refit: Option<bool>,
    /// With --refit, train the refit beside early stopping, on a thread of its own, one
    /// epoch behind, rather than after it: the same model, sooner where a second core is
    /// free. On by default on the CPU with two cores or more (on a GPU, or with one core,
    /// the refit trains after the run); `--refit-beside=false` trains it after the run, for
    /// a machine whose second core is busy.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, default_value_t = true, action = clap::ArgAction::Set)]
    refit_beside: bool,
    /// Session protocol on a log with times: after early stopping, up to N more epochs on
    /// the newest tenth of the training sessions and a tenth of the older ones, at a quarter
    /// of the learning rate, kept while validation NDCG@10 rises (none kept: the model as it
    /// was); the refit gets as many. Default: 2 on a log with times, unless the run is a
    /// warm retrain (--init, which already trains on the newest sessions); else 0.
    #[arg(long)]
    finish: Option<usize>,
    /// Session protocol: score the session's own items up by how recently they were
    /// clicked, with the bonus (and its decay per click back) that gives the best validation
    /// NDCG@10 among a small grid, none included, chosen after early stopping and stored in
    /// the bundle (on Diginetica a fifth of next clicks go back to a session item). It shows
    /// where the session's items are not left out (`recommend --include-seen`, `excludeSeen:
    /// false`). `--repeat-bonus=false`: none.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, default_value_t = true, action = clap::ArgAction::Set)]
    repeat_bonus: bool,
}

/// The network's shape. Each flag left out takes the default (or, with --init, the
/// previous model's value; giving another is an error: a warm retrain keeps the shape).
#[derive(Args, Debug)]
struct ArchitectureArgs {
    /// Attention weight refinement variant [default: value].
    #[arg(long, value_enum)]
    refinement: Option<RefinementChoice>,
    /// W₁ and W₂ start at this multiple of the identity [default: 1].
    #[arg(long)]
    refine_scale: Option<f32>,
    /// Embedding size [default: 64].
    #[arg(long)]
    d_model: Option<usize>,
    /// Transformer blocks [default: 2].
    #[arg(long)]
    layers: Option<usize>,
    /// Attention heads [default: 2].
    #[arg(long)]
    heads: Option<usize>,
    /// Sequence length: the newest items kept per session [default: 50].
    #[arg(long)]
    max_len: Option<usize>,
    /// Feed-forward non-linearity [default: gelu].
    #[arg(long, value_enum)]
    activation: Option<ActivationChoice>,
    /// Feed-forward hidden width, in multiples of the embedding size [default: 4].
    #[arg(long)]
    ffn_multiplier: Option<usize>,
}

impl ArchitectureArgs {
    /// `base` with the flags given applied; with `fixed` (a warm start from `base`), a flag
    /// that differs from `base` is an error naming both values.
    fn resolve(&self, base: &ModelConfig, fixed: bool) -> Result<ModelConfig, String> {
        fn pick<T: PartialEq + std::fmt::Debug + Copy>(
            flag: &str,
            given: Option<T>,
            base: T,
            fixed: bool,
        ) -> Result<T, String> {
            match given {
                Some(value) if fixed && value != base => Err(format!(
                    "{flag} {value:?} differs from the --init model's {base:?}: a warm retrain keeps the model's architecture (leave {flag} out, or train from scratch)"
                )),
                Some(value) => Ok(value),
                None => Ok(base),
            }
        }
        Ok(ModelConfig {
            refinement: pick(
                "--refinement",
                self.refinement.map(Into::into),
                base.refinement,
                fixed,
            )?,
            refine_scale: pick(
                "--refine-scale",
                self.refine_scale,
                base.refine_scale,
                fixed,
            )?,
            d_model: pick("--d-model", self.d_model, base.d_model, fixed)?,
            layers: pick("--layers", self.layers, base.layers, fixed)?,
            heads: pick("--heads", self.heads, base.heads, fixed)?,
            max_len: pick("--max-len", self.max_len, base.max_len, fixed)?,
            activation: pick(
                "--activation",
                self.activation.map(Into::into),
                base.activation,
                fixed,
            )?,
            ffn_multiplier: pick(
                "--ffn-multiplier",
                self.ffn_multiplier,
                base.ffn_multiplier,
                fixed,
            )?,
            ..base.clone()
        })
    }
}

#[derive(Args, Debug)]
struct EvalArgs {
    /// The model bundle.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Remove each user's input items from the rankings.
    #[arg(long)]
    filter_seen: bool,
    /// Write the metrics as JSON here.
    #[arg(long)]
    metrics_json: Option<PathBuf>,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
}

#[derive(Args, Debug)]
struct ExportArgs {
    /// The model bundle to read.
    #[arg(long)]
    model: PathBuf,
    /// Where to write it (never the input).
    #[arg(long)]
    out: PathBuf,
    /// How to store the weights: f32 (exact), f16 (half the size) or int8 (a quarter,
    /// one scale per row).
    #[arg(long, value_enum, default_value_t = Precision::default().into())]
    precision: PrecisionChoice,
}

#[derive(Args, Debug)]
struct AbArgs {
    /// The pilot's events: CSV/TSV with a header naming the columns visitor, arm, event
    /// (and item, time), or JSON lines with those keys. Events: impression, click,
    /// conversion (also with the `awrsr:` prefix).
    #[arg(long)]
    events: PathBuf,
    /// The file's format (default: JSON lines when its first character is `{`, else CSV).
    #[arg(long, value_enum)]
    format: Option<PilotFormatChoice>,
    /// The control arm, against which every other arm is compared.
    #[arg(long, default_value = "control")]
    control: String,
    /// The relative uplift over the control's rate that the sample size is for (0.1: +10%),
    /// at two-sided α = 0.05 and power 0.8.
    #[arg(long, default_value_t = 0.1, allow_negative_numbers = true)]
    uplift: f64,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct RecommendArgs {
    /// The model bundle.
    #[arg(long)]
    model: PathBuf,
    /// The session: item ids, oldest first, separated by commas (ids holding a comma or
    /// starting with `-`: --session-json or --session-file).
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    session: Vec<String>,
    /// The session as a JSON array of item ids, oldest first, each id exactly as given:
    /// `--session-json '["a,b", "-x"]'`.
    #[arg(long, value_name = "JSON", allow_hyphen_values = true, conflicts_with_all = ["session", "session_file"])]
    session_json: Option<String>,
    /// The session from a file: one item id a line, oldest first, each line exactly as
    /// written (blank lines skipped; LF, CRLF or CR line ends).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["session", "session_json"])]
    session_file: Option<PathBuf>,
    /// Number of recommendations.
    #[arg(short, long, default_value_t = crate::inference::DEFAULT_K)]
    k: usize,
    /// Allow the session's own items in the results.
    #[arg(long)]
    include_seen: bool,
    /// Show which session items each recommendation comes from.
    #[arg(long)]
    explain: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Parses the command line, runs the command and turns errors into an exit code.
pub fn run() -> ExitCode {
    ignore_file_size_signal();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(error.exit_code().clamp(0, 255) as u8);
        }
    };
    let result = match cli.command {
        Command::Train(args) => run_train(*args),
        Command::Eval(args) => run_eval(args),
        Command::Recommend(args) => run_recommend(args),
        Command::Export(args) => run_export(args),
        Command::Ab(args) => run_ab(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            warn(format!("error: {error}"));
            ExitCode::from(2)
        }
    }
}

/// Writing past `ulimit -f` raises SIGXFSZ, which kills the process; ignored, the write
/// fails with an error instead and [`fs::write_atomic`] cleans up.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Whether this machine runs two threads or more at once.
fn two_cores() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// Prints a line on standard output. A closed output (the reader quit: `| head -1`) is
/// not an error: the command goes on quietly, and `train` still writes its model.
fn say(line: impl Display) {
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Prints a line on standard error, ignoring a closed stream likewise.
fn warn(line: impl Display) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn device(choice: DeviceChoice) -> Result<Device, Box<dyn Error>> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        DeviceChoice::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::default())),
        #[cfg(not(feature = "wgpu"))]
        DeviceChoice::Wgpu => {
            Err("this build has no GPU support: rebuild with `--features wgpu`".into())
        }
    }
}

/// Reads the log of `args`, printing what was read; a detected format is named on standard
/// error unless `quiet`.
fn load_data(args: &DataArgs, quiet: bool) -> Result<Log, Box<dyn Error>> {
    let (events, preprocess) = args.clicks.options()?;
    // Naming a click export's columns or events says what the file is.
    let format = args
        .format
        .map(Format::from)
        .or(events.names_columns().then_some(Format::Events));
    let options = LoadOptions {
        format,
        min_interactions: args.min_interactions,
        events,
        preprocess,
    };
    let log = data::read(&args.data, &options)?;
    if let Some(why) = log.detected.filter(|_| !quiet) {
        let file = data::input_files(&args.data)?.swap_remove(0);
        warn(format!(
            "{}: read as {} (detected from {why}; --format chooses another)",
            file.display(),
            log.format.name()
        ));
    }
    for note in &log.notes {
        let note = note.strip_prefix("read: ").unwrap_or(note);
        say(format!("read: {}", terminal_safe(note)));
    }
    let interactions = &log.interactions;
    let who = if log.format.is_click_export() {
        "sessions"
    } else {
        "users"
    };
    say(format!(
        "data: {} — {} {who}, {} items, {} interactions",
        args.data.display(),
        interactions.users.len(),
        interactions.catalogue.len(),
        interactions.len()
    ));
    Ok(log)
}

/// The model and training settings of the command line, checked; what it leaves out
/// comes from the defaults of the log's `kind`.
fn settings(
    args: &TrainArgs,
    previous: Option<&ModelConfig>,
    num_items: usize,
    kind: LogKind,
) -> Result<(ModelConfig, TrainConfig), Box<dyn Error>> {
    let defaults = kind.defaults();
    let base = previous.unwrap_or(&ModelConfig::DEFAULTS);
    let config = ModelConfig {
        num_items,
        dropout: args.dropout.unwrap_or(defaults.dropout),
        // Chosen again after training (`--repeat-bonus`); validation during training
        // reads the network alone.
        repeat: RepeatBonus::NONE,
        // Set when the model is stored.
        trained_until: None,
        ..args.architecture.resolve(base, previous.is_some())?
    };
    config.validate()?;
    let parameters =
        bundle::layout::parameter_count(&bundle::layout::tensors(&config)).unwrap_or(u64::MAX);
    if parameters.saturating_mul(4) > MAX_BUNDLE_BYTES {
        return Err(format!("a model of {parameters} parameters is above the {MAX_BUNDLE_BYTES}-byte limit of a bundle").into());
    }
    let base = TrainConfig::for_log(kind, num_items);
    let training = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size.unwrap_or(base.batch_size),
        learning_rate: args.lr.unwrap_or(match previous {
            Some(_) => base.learning_rate * TrainConfig::WARM_LEARNING_RATE_SHARE,
            None => base.learning_rate,
        }),
        loss: args.loss.map_or(base.loss, Loss::from),
        patience: args.patience.unwrap_or(base.patience),
        seed: args.seed,
        batching: args.batching.map_or(base.batching, Batching::from),
        negatives: args.negatives,
        negative_power: args.negative_power,
        temperature: args.temperature.unwrap_or(base.temperature),
        lr_decay: args.lr_decay.unwrap_or(base.lr_decay),
        lr_epoch_decay: args.lr_epoch_decay.unwrap_or(base.lr_epoch_decay),
        // Set once the log is split (`replaying`).
        old_sessions: 0,
        replay: args.replay.unwrap_or(1.0),
        progress: !args.quiet,
    };
    training.validate()?;
    Ok((config, training))
}

/// A warm retrain's old sessions (the leading training sessions older than `until`, the
/// newest the previous model trained on) and the share of them each epoch replays:
/// `replay`, by default [`TrainConfig::WARM_REPLAY`]; none and every session without both
/// a recorded `until` and a log with times, where `--replay` is an error.
fn replaying(
    replay: Option<f64>,
    until: Option<f64>,
    prepared: &Prepared,
) -> Result<(usize, f64), String> {
    match until.and_then(|until| prepared.training_sessions_before(until)) {
        Some(old) => Ok((old, replay.unwrap_or(TrainConfig::WARM_REPLAY))),
        None if replay.is_some() => Err("--replay needs a log with times and an --init bundle that records the newest session it trained on (trained on a log with times by this version of awrsr)".into()),
        None => Ok((0, 1.0)),
    }
}

/// Output paths must be writable and distinct from every input and from each other.
fn check_outputs(outputs: &[(&str, Option<&Path>)], mut inputs: Vec<PathBuf>) -> CliResult {
    for (what, path) in outputs {
        if let Some(path) = path {
            fs::check_output(path, what, &inputs)?;
            inputs.push(path.to_path_buf());
        }
    }
    Ok(())
}

fn run_train(args: TrainArgs) -> CliResult {
    settings(&args, None, 1, LogKind::Sessions)?;
    let mut inputs = data::input_files(&args.data.data)?;
    inputs.extend(args.data.test.clone());
    inputs.extend(args.init.clone());
    let outputs = [
        ("--out", Some(args.out.as_path())),
        ("--metrics-json", args.metrics_json.as_deref()),
        ("--checkpoint", args.checkpoint.as_deref()),
    ];
    check_outputs(&outputs, inputs)?;
    let device = device(args.device)?;
    let previous = match &args.init {
        Some(path) => Some(load_bundle(path, &device)?),
        None => None,
    };
    let previous_config = previous.as_ref().map(|p| &p.header.config);
    // The network's shape, checked against --init's before the log is read.
    let shape = args.architecture.resolve(
        previous_config.unwrap_or(&ModelConfig::DEFAULTS),
        previous.is_some(),
    )?;
    let log = load_data(&args.data, args.quiet)?;
    let interactions = match &previous {
        Some(previous) => {
            let catalogue = warm::merged_catalogue(
                &previous.header.catalogue,
                &log.interactions.catalogue,
                args.drop_gone,
            );
            log.interactions.with_catalogue(&catalogue).0
        }
        None => log.interactions.clone(),
    };
    let interactions = &interactions;
    let prepared = prepare(&args.data, &log, interactions, args.seed)?;
    let split = &prepared.split;
    let kind = LogKind::of(
        prepared.protocol == Protocol::Sessions,
        &split.train,
        shape.max_len,
    );
    let (mut config, mut training) =
        settings(&args, previous_config, interactions.catalogue.len(), kind)?;
    let until = previous_config.and_then(|c| c.trained_until);
    (training.old_sessions, training.replay) = replaying(args.replay, until, &prepared)?;
    crate::train::check_trainable(split)
        .map_err(|e| format!("{}: {e}", args.data.data.display()))?;
    let refitting = args.refit.unwrap_or(prepared.refits_by_default());
    if refitting && prepared.protocol != Protocol::Sessions {
        return Err("--refit needs the session protocol (--split sessions): under leave-one-out the validating items are each user's second-to-last, not whole sessions".into());
    }
    let finishing =
        args.finish
            .unwrap_or(match prepared.refits_by_default() && previous.is_none() {
                true => finish::EPOCHS,
                false => 0,
            });
    if finishing > 0 && !prepared.refits_by_default() {
        return Err("--finish needs a session log with times: its newest sessions validate, and the finish trains on the newest of the others".into());
    }
    let init = previous.map(|previous| {
        let (model, start) =
            warm::warm_model(previous, &config, &interactions.catalogue, interactions, &device);
        say(format!(
            "warm start from {}: {} items keep their rows, {} new items start from the items clicked with them, {} from scratch, {} dropped",
            args.init.as_deref().unwrap_or(Path::new("")).display(),
            start.kept,
            start.from_neighbours,
            start.fresh,
            start.dropped
        ));
        model
    });
    say(format!("model: {}", serde_json::to_string(&config)?));
    say(format!("training: {}", serde_json::to_string(&training)?));
    if let (Some(until), old @ 1..) = (until, training.old_sessions) {
        say(format!(
            "replay: {old} of the {} training sessions start before the --init model's newest ({}); each epoch trains on the {} others and about {} of these (a share of {}), drawn afresh",
            split.train.len(),
            data::events::format_time(until),
            split.train.len() - old,
            (old as f64 * training.replay).round(),
            training.replay
        ));
    }

    // A refit trains beside the run where it can: on the CPU backend with two cores or more.
    let alongside = refitting && args.refit_beside && device == Device::flex() && two_cores();
    let sessions = || prepared.refit_sessions().cloned().collect::<Vec<_>>();
    let start = Start {
        init: init.as_ref(),
        checkpoint: args.checkpoint.as_deref(),
        refit_alongside: alongside.then(|| (sessions(), (|line| say(line)) as fn(String))),
    };
    if alongside {
        say(
            "refit: beside the run, on a thread of its own (its epochs say \"refit: nothing validates\")",
        );
    }
    let mut trained = train(&config, &training, split, &device, start, &mut |line| {
        say(line)
    })?;
    say(format!(
        "best epoch {} of {}: valid {}",
        trained.best_epoch,
        trained.epochs_run,
        trained.best_valid.summary()
    ));
    let run = Continuing {
        config: &config,
        train: &training,
        device: &device,
    };
    let before = &trained.best_valid;
    let finished = finish::finish(&run, split, trained.model, before, finishing, &mut |line| {
        say(line)
    })?;
    let finish_fit = (finishing > 0).then(|| {
        say(format!(
            "finish: {} of {} epochs on the newest sessions kept: valid NDCG@10 {:.4} -> {:.4}",
            finished.epochs,
            finished.tried,
            before.get("NDCG@10"),
            finished.valid.get("NDCG@10")
        ));
        finished.record(before)
    });
    trained.model = finished.model;
    let not_written = |e: &dyn Display| {
        format!(
            "{}: the trained model was not written: {e}",
            args.out.display()
        )
    };
    let precision = Precision::from(args.precision);
    // The figures are those of the model as stored.
    let store = |model, config: &ModelConfig| {
        bundle::encode_as_stored(model, config, &interactions.catalogue, precision, &device)
            .map_err(|e| not_written(&e))
    };
    // A warm retrain's model has also trained on everything its start had.
    config.trained_until = match (prepared.trained_until(refitting), until) {
        (Some(newest), Some(before)) => Some(newest.max(before)),
        (newest, before) => newest.or(before),
    };
    let (mut bytes, stored) = store(trained.model.clone(), &config)?;
    let mut repeat = None;
    if args.repeat_bonus {
        let fitted = with_repeat_bonus(&stored, &config, &prepared, &device);
        (config, repeat) = fitted.map_err(|e| not_written(&e))?;
        if let Some(fit) = &repeat {
            say(repeat_line(fit));
        }
        if !config.repeat.is_none() {
            bytes = store(trained.model, &config)?.0;
        }
    }
    let mut report = Report::of(&stored, &config, &prepared, args.filter_seen, &device)
        .map_err(|e| not_written(&e))?;
    report.repeat = repeat;
    report.finish = finish_fit;
    if refitting {
        let epochs = trained.best_epoch;
        let summary = |count: usize| {
            let warm = if init.is_some() {
                ", from the same warm start"
            } else {
                ""
            };
            format!(
                "refit: {epochs} epochs on all {count} training sessions, the validating ones included{warm}"
            )
        };
        let model = match trained.refit.take() {
            Some(alongside) => {
                let model = alongside.finish()?;
                say(summary(prepared.refit_sessions().count()));
                model
            }
            None => {
                let scales = trained.refit_scales.as_deref().ok_or(RATES_NOT_RECORDED)?;
                let sessions = sessions();
                say(summary(sessions.len()));
                let start = init.as_ref();
                refit(
                    &config, &training, sessions, scales, start, &device, &mut say,
                )?
            }
        };
        let run = Continuing {
            config: &config,
            train: &training,
            device: &device,
        };
        let model = finish::finish_refit(&run, sessions(), model, finished.epochs, &mut say)?;
        let (refit_bytes, stored) = store(model, &config)?;
        bytes = refit_bytes;
        report = (report.refitted(&stored, &config, &prepared, epochs, &device))
            .map_err(|e| not_written(&e))?;
    }
    fs::write_atomic(&args.out, &bytes)?;
    say(format!(
        "wrote {} ({} bytes)",
        args.out.display(),
        bytes.len()
    ));
    finish_report(&report, args.metrics_json.as_deref())
}

fn run_eval(args: EvalArgs) -> CliResult {
    let mut inputs = data::input_files(&args.data.data)?;
    inputs.extend(args.data.test.clone());
    inputs.push(args.model.clone());
    check_outputs(&[("--metrics-json", args.metrics_json.as_deref())], inputs)?;
    let device = device(args.device)?;
    let model = load_bundle(&args.model, &device)?;
    let log = load_data(&args.data, false)?;
    let (interactions, dropped) = log.interactions.with_catalogue(&model.header.catalogue);
    if dropped > 0 {
        say(format!(
            "note: {dropped} interactions with items the model does not know were dropped"
        ));
    }
    let prepared = prepare(&args.data, &log, &interactions, TrainConfig::DEFAULTS.seed)?;
    check_evaluable(&prepared.split).map_err(|e| format!("{}: {e}", args.data.data.display()))?;
    let report = Report::of(
        &model.model,
        &model.header.config,
        &prepared,
        args.filter_seen,
        &device,
    )
    .map_err(|e| format!("{}: {e}", args.model.display()))?;
    finish_report(&report, args.metrics_json.as_deref())
}

/// What `train` says of the repeat bonus it chose.
fn repeat_line(fit: &RepeatFit) -> String {
    let without = fit.valid_without["NDCG@10"];
    match fit.chosen.is_none() {
        true => {
            format!("repeat bonus: none (no bonus tried raised valid NDCG@10 from {without:.4})")
        }
        false => format!(
            "repeat bonus: {} for the newest click, x{} per click back (chosen on valid NDCG@10; {without:.4} without it)",
            fit.chosen.bonus, fit.chosen.decay
        ),
    }
}

fn finish_report(report: &Report, json: Option<&Path>) -> CliResult {
    for line in report.lines() {
        say(line);
    }
    if let Some(path) = json {
        fs::write_atomic(path, serde_json::to_string_pretty(report)?.as_bytes())?;
    }
    Ok(())
}

/// Reads and decodes a bundle file, printing its warnings.
fn load_bundle(path: &Path, device: &Device) -> Result<bundle::Bundle, Box<dyn Error>> {
    let bytes = files::read_bundle(path)?;
    let bundle = bundle::decode(&bytes, device).map_err(|e| format!("{}: {e}", path.display()))?;
    warn_loaded(path, &bundle.header.warnings);
    Ok(bundle)
}

/// Prints what loading the model at `path` noticed without refusing it.
fn warn_loaded(path: &Path, warnings: &[String]) {
    for warning in warnings {
        warn(format!("warning: {}: {warning}", path.display()));
    }
}

/// Reads a bundle file into a recommender, printing its warnings.
fn load_recommender(path: &Path, device: &Device) -> Result<Recommender, Box<dyn Error>> {
    let bytes = files::read_bundle(path)?;
    let recommender =
        Recommender::from_bytes(&bytes, device).map_err(|e| format!("{}: {e}", path.display()))?;
    warn_loaded(path, recommender.warnings());
    Ok(recommender)
}

fn run_export(args: ExportArgs) -> CliResult {
    check_outputs(&[("--out", Some(&args.out))], vec![args.model.clone()])?;
    let device = Device::flex();
    let loaded = load_bundle(&args.model, &device)?;
    let bytes = bundle::encode(
        &loaded.model,
        &loaded.header.config,
        &loaded.header.catalogue,
        args.precision.into(),
    )
    .map_err(|e| format!("{}: not exported: {e}", args.model.display()))?;
    fs::write_atomic(&args.out, &bytes)?;
    say(format!(
        "wrote {} ({} bytes)",
        args.out.display(),
        bytes.len()
    ));
    Ok(())
}

fn run_ab(args: AbArgs) -> CliResult {
    let settings = ab::Settings {
        control: args.control,
        uplift: args.uplift,
    };
    settings.check()?;
    check_outputs(
        &[("--json", args.json.as_deref())],
        vec![args.events.clone()],
    )?;
    let pilot = ab::read_pilot(&args.events, args.format.map(Into::into))?;
    let verdict =
        ab::verdict(&pilot, &settings).map_err(|e| format!("{}: {e}", args.events.display()))?;
    say(format!(
        "pilot: {} ({})",
        args.events.display(),
        pilot.format.name()
    ));
    for line in verdict.lines() {
        say(line);
    }
    if let Some(path) = &args.json {
        fs::write_atomic(path, serde_json::to_string_pretty(&verdict)?.as_bytes())?;
    }
    Ok(())
}

/// Largest `--session-file` read.
const MAX_SESSION_FILE_BYTES: u64 = 16 << 20;

/// The session's ids, from --session, --session-json or --session-file.
fn session_ids(args: &RecommendArgs) -> Result<Vec<String>, Box<dyn Error>> {
    if let Some(json) = &args.session_json {
        return serde_json::from_str(json).map_err(|e| {
            let reason = crate::catalogue::message_excerpt(&e.to_string());
            format!("--session-json is not a JSON array of strings: {reason}").into()
        });
    }
    if let Some(path) = &args.session_file {
        let refuse = |reason: String| format!("--session-file {}: {reason}", path.display());
        let bytes = fs::read_bounded(path, MAX_SESSION_FILE_BYTES).map_err(|e| match e {
            fs::Refused::Io(e) => refuse(e.to_string()),
            fs::Refused::NotRegular => refuse("not a regular file".into()),
            fs::Refused::TooLarge(size) => refuse(format!(
                "{size} bytes is above the limit of {MAX_SESSION_FILE_BYTES}"
            )),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            refuse(format!(
                "not UTF-8 (byte {})",
                e.utf8_error().valid_up_to() + 1
            ))
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        return Ok(data::formats::lines(text)
            .filter(|line| !line.trim().is_empty())
            .map(str::to_string)
            .collect());
    }
    Ok(args
        .session
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect())
}

fn run_recommend(args: RecommendArgs) -> CliResult {
    let session = session_ids(&args)?;
    let recommender = load_recommender(&args.model, &Device::flex())?;
    let request = Request {
        session,
        k: Some(args.k),
        exclude_seen: Some(!args.include_seen),
        explain: args.explain,
        ..Request::default()
    };
    let out = pollster::block_on(recommender.recommend(&request))
        .map_err(|e| format!("{}: {e}", args.model.display()))?;
    if args.json {
        say(serde_json::to_string_pretty(&out)?);
    } else {
        print_table(&out);
    }
    Ok(())
}

/// The recommendations as a table, ids and titles through [`terminal_safe`].
fn print_table(out: &Recommendations) {
    if !out.unknown.is_empty() {
        let unknown: Vec<_> = out.unknown.iter().map(|id| terminal_safe(id)).collect();
        warn(format!("unknown ids skipped: {}", unknown.join(", ")));
    }
    for (rank, item) in out.items.iter().enumerate() {
        say(format!(
            "{:>3}. {:<10} {:>8.3}  {}",
            rank + 1,
            terminal_safe(&item.id),
            item.score,
            terminal_safe(item.title.as_deref().unwrap_or(""))
        ));
        if let Some(because) = item.because.as_ref().filter(|b| !b.is_empty()) {
            let named: Vec<String> = because
                .iter()
                .take(3)
                .map(|b| format!("{} (+{:.2})", terminal_safe(&b.id), b.weight))
                .collect();
            say(format!("{:>16}because you viewed {}", "", named.join(", ")));
        }
    }
}
