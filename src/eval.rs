//! Full-ranking evaluation: every held-out target is ranked against the whole catalogue,
//! for the model and for the popularity baseline on the same split.

use std::collections::BTreeMap;

use burn::tensor::Device;
use rayon::prelude::*;
use serde::Serialize;

use crate::baselines::{self, Baseline, Popularity, SequentialRules, SessionKnn};
use crate::data::{Case, Split};
use crate::metrics::Metrics;
#[cfg(doc)]
use crate::model::AttentionCost;
use crate::model::{Awrsr, ModelConfig, RepeatBonus, input_tensor, trimmed_width, window};
use crate::protocol::Prepared;
pub use crate::protocol::Protocol;
use crate::rank::rank_of;

/// The model scored NaN or ±∞ (finite weights that overflow: a damaged bundle).
#[derive(Debug, thiserror::Error)]
#[error("the model computes non-finite scores (NaN or ±∞): its weights are damaged")]
pub struct NonFiniteScores;

/// Most sessions scored at once.
const EVAL_BATCH: usize = 256;

/// Most floats of attention weights one batch holds ([`AttentionCost::floats`]): 2^26,
/// 256 MiB. A batch of long sessions of a model with long windows holds fewer than
/// [`EVAL_BATCH`] sessions (at n = 4096, one head and one layer, 4 instead of 256: 256 MiB
/// instead of 16 GiB); the usual shapes (n = 200 or less, 2 heads, 2 layers) stay at 256.
///
/// [`AttentionCost::floats`]: crate::model::AttentionCost::floats
const MAX_EVAL_FLOATS: u64 = 1 << 26;

/// Ranks each case's target with `model` of `config` (in inference mode), its
/// [`RepeatBonus`] included, and accumulates the metrics in the cases' order. With
/// `filter_seen`, the items of the case's input are removed from the ranking. Cases are
/// encoded in batches of similar length ([`score_cases`]). Fails when a score is not finite,
/// rather than ranking NaN.
pub fn evaluate(
    model: &Awrsr,
    config: &ModelConfig,
    cases: &[Case],
    filter_seen: bool,
    device: &Device,
) -> Result<Metrics, NonFiniteScores> {
    let mut ranks = vec![0; cases.len()];
    score_cases(model, config.max_len, cases, device, |chunk, scored| {
        let chunk_ranks: Vec<usize> = chunk
            .par_iter()
            .zip(scored.par_iter())
            .map(|(&i, (row, norm))| {
                let case = &cases[i];
                let seen = seen(case, filter_seen);
                if config.repeat.is_none() {
                    return rank_of(row, case.target, seen);
                }
                let mut row = row.to_vec();
                config
                    .repeat
                    .apply(&mut row, window(&case.input, config.max_len), *norm);
                rank_of(&row, case.target, seen)
            })
            .collect();
        for (&i, rank) in chunk.iter().zip(chunk_ranks) {
            ranks[i] = rank;
        }
    })?;
    let mut metrics = Metrics::default();
    for rank in ranks {
        metrics.add(rank);
    }
    Ok(metrics)
}

/// One scored case: every item's score (entry j is item j + 1) and the length of the
/// session's hidden state.
pub type Scored<'a> = (&'a [f32], f32);

/// Scores every case's session with `model` (in inference mode) and hands each batch to
/// `each`: the cases' indices and their [`Scored`] rows. Cases are encoded in batches of
/// similar length, each trimmed to its longest session ([`trimmed_width`]): the same scores
/// as at full width up to float rounding (which can swap targets tied to the last bit), with
/// less work. A batch holds at most [`EVAL_BATCH`] sessions and [`MAX_EVAL_FLOATS`] floats of
/// attention. Fails when a score is not finite.
pub fn score_cases(
    model: &Awrsr,
    max_len: usize,
    cases: &[Case],
    device: &Device,
    mut each: impl FnMut(&[usize], &[Scored]),
) -> Result<(), NonFiniteScores> {
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by_key(|&i| cases[i].input.len().min(max_len));
    let mut rest = order.as_slice();
    while !rest.is_empty() {
        let chunk = next_batch(model, max_len, cases, rest);
        rest = &rest[chunk.len()..];
        let inputs: Vec<&[u32]> = chunk.iter().map(|&i| cases[i].input.as_slice()).collect();
        let width = trimmed_width(&inputs, max_len);
        let encoded = model.encode(input_tensor(&inputs, width, device));
        let hidden = Awrsr::last_hidden(&encoded);
        let norms = hidden.clone().powi_scalar(2).sum_dim(1).sqrt().into_data();
        let scores = model.score_all(hidden).into_data();
        let scores = scores.as_slice::<f32>().expect("scores are f32");
        let norms = norms.as_slice::<f32>().expect("norms are f32");
        if !all_finite(scores) || !all_finite(norms) {
            return Err(NonFiniteScores);
        }
        let columns = scores.len() / chunk.len();
        let scored: Vec<Scored> = scores.chunks(columns).zip(norms.iter().copied()).collect();
        each(chunk, &scored);
    }
    Ok(())
}

/// Whether every value is finite (neither NaN nor ±∞: not every exponent bit set), checked
/// in parallel chunks by a maximum that vectorises: a batch's scores are 256 rows of the
/// whole catalogue, and a validation scores every case of the newest tenth after each epoch.
fn all_finite(values: &[f32]) -> bool {
    const EXPONENT: u32 = 0x7f80_0000;
    values.par_chunks(1 << 16).all(|chunk| {
        let widest = chunk.iter().map(|v| v.to_bits() & EXPONENT).max();
        widest.is_none_or(|bits| bits != EXPONENT)
    })
}

/// The next batch of `order` (cases sorted by input length, shortest first): at most
/// [`EVAL_BATCH`] cases, fewer when their width would make the batch's attention hold more
/// than [`MAX_EVAL_FLOATS`] floats (at least one case).
fn next_batch<'a>(
    model: &Awrsr,
    max_len: usize,
    cases: &[Case],
    order: &'a [usize],
) -> &'a [usize] {
    let candidates = &order[..order.len().min(EVAL_BATCH)];
    let longest = candidates.last().map_or(0, |&i| cases[i].input.len());
    let width = longest.clamp(1, max_len.max(1));
    let per_case = model.attention_cost(width).floats.max(1);
    let fits = usize::try_from(MAX_EVAL_FLOATS / per_case).unwrap_or(usize::MAX);
    &candidates[..candidates.len().min(fits.max(1))]
}

/// Ranks each target by how often items occur in `history` (the popularity baseline).
pub fn evaluate_popularity<'a>(
    history: impl IntoIterator<Item = &'a [u32]>,
    num_items: usize,
    cases: &[Case],
    filter_seen: bool,
) -> Metrics {
    let mut counts = vec![0f32; num_items];
    for items in history {
        for &item in items {
            counts[item as usize - 1] += 1.0;
        }
    }
    let mut metrics = Metrics::default();
    for case in cases {
        metrics.add(rank_of(&counts, case.target, seen(case, filter_seen)));
    }
    metrics
}

fn seen(case: &Case, filter_seen: bool) -> &[u32] {
    if filter_seen { &case.input } else { &[] }
}

/// Checks that `split` has something to evaluate: at least one user with 3 or more
/// interactions (a validation and a test case).
pub fn check_evaluable(split: &Split) -> Result<(), String> {
    if split.valid.is_empty() || split.test.is_empty() {
        return Err(
            "nothing to evaluate: no user has 3 or more interactions with items the model knows"
                .into(),
        );
    }
    Ok(())
}

/// The figures of one model on one split, as written by `--metrics-json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// How the log was split.
    pub protocol: Protocol,
    /// Model metrics on the validation cases.
    pub valid: BTreeMap<String, f64>,
    /// Model metrics on the test cases.
    pub test: BTreeMap<String, f64>,
    /// The popularity baseline on the same cases.
    pub popularity: BTreeMap<String, BTreeMap<String, f64>>,
    /// Under the session protocol, the simple baselines' test metrics by name (popularity,
    /// sequential rules, session kNN), on the same cases.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub baselines: BTreeMap<String, BTreeMap<String, f64>>,
    /// Whether input items were removed from the rankings.
    pub filter_seen: bool,
    /// After a refit (`train --refit`): how it trained, and the early-stopped model's
    /// test metrics; `valid` stays that model's (the refit trained on the validating data),
    /// `test` and `test_ranks` are the refit model's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refit: Option<Refit>,
    /// The repeat bonus the model scores with, when one was chosen on the validation cases
    /// (`valid` and `test` include it), and the validation figures without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat: Option<RepeatFit>,
    /// The recency finish (`train --finish`), when one was tried: `valid` is the finished
    /// model's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish: Option<FinishFit>,
    /// The 0-based rank of each test case's target (users, or cases, in the log's order):
    /// two models on the same split can be compared case by case (a paired test).
    pub test_ranks: Vec<u32>,
}

/// How a refit trained (`train --refit`), in a [`Report`].
#[derive(Clone, Debug, Serialize)]
pub struct Refit {
    /// Epochs trained: the early-stopped run's best epoch.
    pub epochs: usize,
    /// Training sequences, the validating ones included.
    pub sequences: usize,
    /// The early-stopped model's test metrics.
    pub test_before: BTreeMap<String, f64>,
}

/// The recency finish (`train --finish`) in a [`Report`]: the epochs on the newest
/// sessions kept after early stopping, and the validation figures before them.
#[derive(Clone, Debug, Serialize)]
pub struct FinishFit {
    /// Epochs kept (0: none beat the early-stopped model on validation).
    pub epochs: usize,
    /// Epochs tried.
    pub tried: usize,
    /// The early-stopped model's validation figures (without a repeat bonus).
    pub valid_before: BTreeMap<String, f64>,
}

/// A [`RepeatBonus`] chosen on the validation cases, in a [`Report`].
#[derive(Clone, Debug, Serialize)]
pub struct RepeatFit {
    /// The bonus chosen ([`RepeatBonus::NONE`] when none helped).
    #[serde(flatten)]
    pub chosen: RepeatBonus,
    /// The validation metrics without a bonus.
    pub valid_without: BTreeMap<String, f64>,
}

impl Report {
    /// This report (of an early-stopped model on `prepared`) after a refit of `epochs`
    /// epochs on `prepared`'s refit sessions to `model` (of `config`): its test figures
    /// replace the early-stopped model's, which move to [`Report::refit`].
    pub fn refitted(
        mut self,
        model: &Awrsr,
        config: &ModelConfig,
        prepared: &Prepared,
        epochs: usize,
        device: &Device,
    ) -> Result<Self, NonFiniteScores> {
        let cases = &prepared.split.test;
        let test = evaluate(model, config, cases, self.filter_seen, device)?;
        self.refit = Some(Refit {
            epochs,
            sequences: prepared.refit_sessions().count(),
            test_before: std::mem::replace(&mut self.test, test.averages()),
        });
        self.test_ranks = test.ranks().to_vec();
        Ok(self)
    }

    /// Evaluates `model` and the popularity baseline on a leave-one-out `split`.
    pub fn build(
        model: &Awrsr,
        config: &ModelConfig,
        split: &Split,
        filter_seen: bool,
        device: &Device,
    ) -> Result<Self, NonFiniteScores> {
        let num_items = config.num_items;
        let valid = evaluate(model, config, &split.valid, filter_seen, device)?;
        let test = evaluate(model, config, &split.test, filter_seen, device)?;
        let train = || split.train.iter().map(Vec::as_slice);
        let pop_valid = evaluate_popularity(train(), num_items, &split.valid, filter_seen);
        let valid_targets: Vec<[u32; 1]> = split.valid.iter().map(|c| [c.target]).collect();
        let test_history = train().chain(valid_targets.iter().map(|t| t.as_slice()));
        let pop_test = evaluate_popularity(test_history, num_items, &split.test, filter_seen);
        let popularity = BTreeMap::from([
            ("valid".to_string(), pop_valid.averages()),
            ("test".to_string(), pop_test.averages()),
        ]);
        Ok(Self {
            protocol: Protocol::LeaveOneOut,
            valid: valid.averages(),
            test: test.averages(),
            popularity,
            baselines: BTreeMap::new(),
            filter_seen,
            refit: None,
            repeat: None,
            finish: None,
            test_ranks: test.ranks().to_vec(),
        })
    }

    /// Evaluates `model` on a session `split` ([`Split::sessions`]), with the simple baselines
    /// fitted on `sessions` (every training session, the validating ones included: the
    /// baselines need no early stopping, so they get all the data a shop would give them).
    pub fn sessions(
        model: &Awrsr,
        config: &ModelConfig,
        split: &Split,
        sessions: &[Vec<u32>],
        filter_seen: bool,
        device: &Device,
    ) -> Result<Self, NonFiniteScores> {
        let num_items = config.num_items;
        let valid = evaluate(model, config, &split.valid, filter_seen, device)?;
        let test = evaluate(model, config, &split.test, filter_seen, device)?;
        let best_sellers = Popularity::fit(sessions, num_items);
        let baselines =
            session_baselines(&best_sellers, sessions, num_items, &split.test, filter_seen);
        let popularity = BTreeMap::from([
            (
                "valid".to_string(),
                baselines::evaluate(&best_sellers, &best_sellers, &split.valid, filter_seen)
                    .averages(),
            ),
            ("test".to_string(), baselines["popularity"].clone()),
        ]);
        Ok(Self {
            protocol: Protocol::Sessions,
            valid: valid.averages(),
            test: test.averages(),
            popularity,
            baselines,
            filter_seen,
            refit: None,
            repeat: None,
            finish: None,
            test_ranks: test.ranks().to_vec(),
        })
    }

    /// Evaluates `model` of `config` on `prepared`'s split under its protocol
    /// ([`Report::build`] or [`Report::sessions`]).
    pub fn of(
        model: &Awrsr,
        config: &ModelConfig,
        prepared: &Prepared,
        filter_seen: bool,
        device: &Device,
    ) -> Result<Self, NonFiniteScores> {
        let split = &prepared.split;
        match prepared.protocol {
            Protocol::LeaveOneOut => Self::build(model, config, split, filter_seen, device),
            Protocol::Sessions => Self::sessions(
                model,
                config,
                split,
                &prepared.sessions,
                filter_seen,
                device,
            ),
        }
    }

    /// A few printable lines.
    pub fn lines(&self) -> Vec<String> {
        let line = |name: &str, m: &BTreeMap<String, f64>| match self.protocol {
            Protocol::LeaveOneOut => format!(
                "{name:<20} HR@5 {:.4}  HR@10 {:.4}  HR@20 {:.4}  NDCG@10 {:.4}  NDCG@20 {:.4}  MRR {:.4}",
                m["HR@5"], m["HR@10"], m["HR@20"], m["NDCG@10"], m["NDCG@20"], m["MRR"]
            ),
            Protocol::Sessions => format!(
                "{name:<20} HR@10 {:.4}  HR@20 {:.4}  MRR@10 {:.4}  MRR@20 {:.4}  NDCG@10 {:.4}  NDCG@20 {:.4}",
                m["HR@10"], m["HR@20"], m["MRR@10"], m["MRR@20"], m["NDCG@10"], m["NDCG@20"]
            ),
        };
        let mut lines = Vec::new();
        if let Some(repeat) = &self.repeat {
            lines.push(line("valid, no repeat bonus", &repeat.valid_without));
        }
        lines.push(line("valid", &self.valid));
        if let Some(refit) = &self.refit {
            lines.push(line("test before refit", &refit.test_before));
        }
        lines.push(line("test", &self.test));
        if self.baselines.is_empty() {
            lines.push(line("popularity valid", &self.popularity["valid"]));
            lines.push(line("popularity test", &self.popularity["test"]));
        }
        lines.extend(
            self.baselines
                .iter()
                .map(|(name, m)| line(&format!("{name} test"), m)),
        );
        lines
    }
}

/// The simple baselines' test metrics under the session protocol, by name: `popularity`
/// (fitted on `sessions`, and the backfill of the others), sequential rules and session kNN
/// ([`crate::baselines`]), fitted on `sessions`.
fn session_baselines(
    popularity: &Popularity,
    sessions: &[Vec<u32>],
    num_items: usize,
    test: &[Case],
    filter_seen: bool,
) -> BTreeMap<String, BTreeMap<String, f64>> {
    let rules = SequentialRules::fit(sessions, num_items);
    let knn = SessionKnn::fit(sessions, num_items);
    let methods: [(&str, &dyn Baseline); 3] = [
        ("popularity", popularity),
        ("sequential rules", &rules),
        ("session kNN", &knn),
    ];
    methods
        .into_iter()
        .map(|(name, method)| {
            (
                name.to_string(),
                baselines::evaluate(method, popularity, test, filter_seen).averages(),
            )
        })
        .collect()
}
