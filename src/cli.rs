//! The command line: `awrsr train`, `awrsr eval` and `awrsr recommend`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use burn::tensor::Device;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::bundle;
use crate::data::{self, Format, Interactions, LoadOptions, Split};
use crate::eval::Report;
use crate::inference::{Recommendations, Recommender, Request};
use crate::model::{Activation, ModelConfig, Refinement};
use crate::train::{Loss, TrainConfig, train};

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
    Train(TrainArgs),
    /// Evaluate a model bundle on a log (full ranking, leave-one-out).
    Eval(EvalArgs),
    /// Recommend the next items for a session.
    Recommend(RecommendArgs),
}

/// Where the interactions come from.
#[derive(Args, Debug)]
struct DataArgs {
    /// Interaction log: a file, or a folder with ratings.csv, ratings.dat or a .inter file.
    #[arg(long)]
    data: PathBuf,
    /// Log format (detected from the file when omitted).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Drop users with fewer interactions than this.
    #[arg(long, default_value_t = 1)]
    min_interactions: usize,
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
    /// Write the final metrics as JSON here.
    #[arg(long)]
    metrics_json: Option<PathBuf>,
    /// Remove each user's input items from the rankings when reporting.
    #[arg(long)]
    filter_seen: bool,
    /// Attention weight refinement variant.
    #[arg(long, value_enum, default_value_t = ModelConfig::DEFAULTS.refinement)]
    refinement: Refinement,
    /// W₁ and W₂ start at this multiple of the identity.
    #[arg(long, default_value_t = ModelConfig::DEFAULTS.refine_scale)]
    refine_scale: f32,
    /// Embedding size.
    #[arg(long, default_value_t = ModelConfig::DEFAULTS.d_model)]
    d_model: usize,
    /// Transformer blocks.
    #[arg(long, default_value_t = ModelConfig::DEFAULTS.layers)]
    layers: usize,
    /// Attention heads.
    #[arg(long, default_value_t = ModelConfig::DEFAULTS.heads)]
    heads: usize,
    /// Sequence length: the newest items kept per session.
    #[arg(long, default_value_t = ModelConfig::DEFAULTS.max_len)]
    max_len: usize,
    /// Dropout probability.
    #[arg(long, default_value_t = ModelConfig::DEFAULTS.dropout)]
    dropout: f64,
    /// Feed-forward non-linearity.
    #[arg(long, value_enum, default_value_t = ModelConfig::DEFAULTS.activation)]
    activation: Activation,
    /// Training objective.
    #[arg(long, value_enum, default_value_t = TrainConfig::DEFAULTS.loss)]
    loss: Loss,
    /// Maximum epochs.
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.epochs)]
    epochs: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.batch_size)]
    batch_size: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.learning_rate)]
    lr: f64,
    /// Early stopping patience in epochs (validation NDCG@10).
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.patience)]
    patience: usize,
    /// Random seed.
    #[arg(long, default_value_t = TrainConfig::DEFAULTS.seed)]
    seed: u64,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
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
struct RecommendArgs {
    /// The model bundle.
    #[arg(long)]
    model: PathBuf,
    /// The session: item ids, oldest first, separated by commas.
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    session: Vec<String>,
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => run_train(args),
        Command::Eval(args) => run_eval(args),
        Command::Recommend(args) => run_recommend(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn device(choice: DeviceChoice) -> Result<Device, Box<dyn Error>> {
    match choice {
        DeviceChoice::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        DeviceChoice::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::default())),
        #[cfg(not(feature = "wgpu"))]
        DeviceChoice::Wgpu => Err("this build has no GPU support: rebuild with `--features wgpu`".into()),
    }
}

fn load_data(args: &DataArgs) -> Result<Interactions, Box<dyn Error>> {
    let options = LoadOptions { format: args.format, min_interactions: args.min_interactions };
    let interactions = data::load(&args.data, &options)?;
    println!(
        "data: {} — {} users, {} items, {} interactions",
        args.data.display(),
        interactions.users.len(),
        interactions.catalogue.len(),
        interactions.len()
    );
    Ok(interactions)
}

fn run_train(args: TrainArgs) -> CliResult {
    let device = device(args.device)?;
    let interactions = load_data(&args.data)?;
    let split = Split::leave_one_out(&interactions);
    let config = ModelConfig {
        num_items: interactions.catalogue.len(),
        max_len: args.max_len,
        d_model: args.d_model,
        layers: args.layers,
        heads: args.heads,
        dropout: args.dropout,
        refinement: args.refinement,
        refine_scale: args.refine_scale,
        activation: args.activation,
    };
    config.validate()?;
    let training = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size.max(1),
        learning_rate: args.lr,
        loss: args.loss,
        patience: args.patience.max(1),
        seed: args.seed,
        progress: !args.quiet,
    };
    println!("model: {}", serde_json::to_string(&config)?);
    println!("training: {}", serde_json::to_string(&training)?);

    let trained = train(&config, &training, &split, &device);
    println!("best epoch {} of {}: valid {}", trained.best_epoch, trained.epochs_run, trained.best_valid.summary());
    let report = Report::build(&trained.model, config.max_len, config.num_items, &split, args.filter_seen, &device);
    finish_report(&report, args.metrics_json.as_deref())?;

    let bytes = bundle::encode(&trained.model, &config, &interactions.catalogue)?;
    std::fs::write(&args.out, &bytes).map_err(|e| format!("cannot write {}: {e}", args.out.display()))?;
    println!("wrote {} ({} bytes)", args.out.display(), bytes.len());
    Ok(())
}

fn run_eval(args: EvalArgs) -> CliResult {
    let device = device(args.device)?;
    let recommender = load_model(&args.model, &device)?;
    let interactions = load_data(&args.data)?;
    let (interactions, dropped) = interactions.with_catalogue(recommender.catalogue());
    if dropped > 0 {
        println!("note: {dropped} interactions with items the model does not know were dropped");
    }
    let split = Split::leave_one_out(&interactions);
    let config = recommender.config();
    let model = recommender.model();
    let report = Report::build(model, config.max_len, config.num_items, &split, args.filter_seen, &device);
    finish_report(&report, args.metrics_json.as_deref())
}

fn finish_report(report: &Report, json: Option<&Path>) -> CliResult {
    for line in report.lines() {
        println!("{line}");
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(report)?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn load_model(path: &Path, device: &Device) -> Result<Recommender, Box<dyn Error>> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read model {}: {e}", path.display()))?;
    Recommender::from_bytes(&bytes, device).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn run_recommend(args: RecommendArgs) -> CliResult {
    let recommender = load_model(&args.model, &Device::flex())?;
    let request = Request {
        session: args.session.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        k: Some(args.k),
        exclude_seen: Some(!args.include_seen),
        explain: args.explain,
        ..Request::default()
    };
    let out = pollster::block_on(recommender.recommend(&request))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print_table(&out);
    }
    Ok(())
}

fn print_table(out: &Recommendations) {
    if !out.unknown.is_empty() {
        eprintln!("unknown ids skipped: {}", out.unknown.join(", "));
    }
    for (rank, item) in out.items.iter().enumerate() {
        println!("{:>3}. {:<10} {:>8.3}  {}", rank + 1, item.id, item.score, item.title.as_deref().unwrap_or(""));
    }
    if let Some(because) = out.items.first().and_then(|i| i.because.as_ref()) {
        let named: Vec<String> = because.iter().take(5).map(|b| format!("{} ({:.2})", b.id, b.weight)).collect();
        println!("because you viewed: {}", named.join(", "));
    }
}
