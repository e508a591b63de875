//! The training objective of one batch: the full softmax, the sampled softmax and the
//! binary cross-entropy, their gradients worked out beside the autodiff graph, and the
//! cosine scoring that normalises the item table.

use burn::tensor::activation::{softmax, softplus};
use burn::tensor::{Device, IndexingUpdateOp, Int, Tensor, TensorData};
use rand::Rng;
use rand_chacha::ChaCha12Rng;
use rayon::prelude::*;

use super::config::{Batching, Loss, TrainConfig};
use crate::model::{Awrsr, ModelConfig, input_tensor, left_padded, trimmed_width};

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
/// 5% faster (`docs/results.md`). The two agree up to float rounding (`train/tests.rs`).
///
/// The loss is log-sum-exp exact: log pₜ = zₜ − max z + log max P, since the largest
/// probability, 1/Σ exp(z − max z), is at least 1/num_items and cannot underflow, while pₜ
/// itself can.
pub(super) fn full_softmax_cross_entropy(
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
pub(super) struct Objective {
    loss: Loss,
    batching: Batching,
    negatives: usize,
    temperature: f32,
    /// Share of the training targets that each item is (row `j` is item `j + 1`).
    target_share: Vec<f32>,
    /// How negatives are drawn when not uniformly ([`TrainConfig::negative_power`] > 0).
    proposal: Option<Proposal>,
}

/// Negatives drawn in proportion to a weight per item: the weights' running sums, searched
/// for a uniform draw, and each item's probability.
pub(super) struct Proposal {
    /// Entry `j`: the weights of items 1..=j + 1.
    cumulative: Vec<f64>,
    /// Entry `j`: item `j + 1`'s probability.
    pub(super) probability: Vec<f32>,
}

impl Proposal {
    /// Items in proportion to `(count + 1)^power` (`counts[j]`: item `j + 1`'s).
    pub(super) fn new(counts: &[f64], power: f32) -> Self {
        let cumulative: Vec<f64> = counts
            .iter()
            .scan(0.0, |sum, c| {
                *sum += (c + 1.0).powf(power as f64);
                Some(*sum)
            })
            .collect();
        let total = cumulative.last().copied().unwrap_or(1.0);
        let mut previous = 0.0;
        let probability = cumulative
            .iter()
            .map(|&c| {
                let p = (c - previous) / total;
                previous = c;
                p as f32
            })
            .collect();
        Self {
            cumulative,
            probability,
        }
    }

    /// One item (1-based).
    pub(super) fn draw(&self, rng: &mut ChaCha12Rng) -> i64 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let u = rng.random::<f64>() * total;
        let j = self.cumulative.partition_point(|&c| c <= u);
        j.min(self.cumulative.len() - 1) as i64 + 1
    }
}

impl Objective {
    /// The objective of `train` for the training `sequences` of a model of `config`.
    pub(super) fn new(config: &ModelConfig, train: &TrainConfig, sequences: &[&[u32]]) -> Self {
        let mut counts = vec![0f64; config.num_items];
        for &item in sequences.iter().flat_map(|s| &s[1..]) {
            counts[item as usize - 1] += 1.0;
        }
        let total = counts.iter().sum::<f64>().max(1.0);
        let target_share = counts.iter().map(|c| (c / total) as f32).collect();
        let proposal =
            (train.negative_power > 0.0).then(|| Proposal::new(&counts, train.negative_power));
        Self {
            proposal,
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
pub(super) fn as_served(mut model: Awrsr, temperature: f32) -> Awrsr {
    if temperature > 0.0 {
        model.items.weight = model.items.weight.map(unit_rows);
    }
    model
}

/// The loss over every non-padded position of a batch of training sequences: their mean,
/// or with `per_batch` their sum divided by it ([`Batching`]).
pub(super) fn batch_loss(
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
                .map(|_| match &objective.proposal {
                    Some(proposal) => proposal.draw(rng),
                    None => rng.random_range(1..=config.num_items as i64),
                })
                .collect();
            let drawn = objective.negatives as f32;
            let uniform = drawn / config.num_items as f32;
            let log_expected = |item: i64| {
                let j = item as usize - 1;
                let among_negatives = objective
                    .proposal
                    .as_ref()
                    .map_or(uniform, |p| drawn * p.probability[j]);
                (m as f32 * objective.target_share[j] + among_negatives).ln()
            };
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
/// The `[m, candidates]` softmax between the matmuls runs on the host on the CPU backend
/// ([`sampled_residual_on_host`]) and as tensor operations elsewhere.
pub(super) fn sampled_softmax_cross_entropy(
    chosen: Tensor<2>,
    hidden: Tensor<2>,
    targets: &[i64],
    negatives: &[i64],
    log_expected: impl Fn(i64) -> f32,
    scale: f32,
) -> Tensor<1> {
    let candidates: Vec<i64> = targets.iter().chain(negatives).copied().collect();
    let correction: Vec<f32> = candidates.iter().map(|&i| log_expected(i)).collect();
    let (h, e) = (hidden.clone().inner(), chosen.clone().inner());
    let logits = h.clone().matmul(e.clone().transpose());
    let (loss, residual) = match h.device() == Device::flex() {
        true => sampled_residual_on_host(logits, targets, &candidates, &correction),
        false => sampled_residual(logits, targets, candidates, correction),
    };
    let grad_hidden = residual.clone().matmul(e).mul_scalar(scale);
    let grad_chosen = residual.transpose().matmul(h).mul_scalar(scale);
    let surrogate = (hidden * Tensor::from_inner(grad_hidden)).sum()
        + (chosen * Tensor::from_inner(grad_chosen)).sum();
    surrogate.clone() - surrogate.detach() + Tensor::from_inner(loss.mul_scalar(scale))
}

/// The sampled softmax's loss (summed over rows, unscaled) and residual R from its raw
/// `logits` `[m, c]` (row i: target i against every candidate), as tensor operations.
pub(super) fn sampled_residual(
    logits: Tensor<2>,
    targets: &[i64],
    candidates: Vec<i64>,
    correction: Vec<f32>,
) -> (Tensor<1>, Tensor<2>) {
    let device = logits.device();
    let [m, c] = logits.dims();
    let correction = Tensor::<2>::from_data(TensorData::new(correction, [1, c]), &device);
    let diagonal = Tensor::<2, Int>::from_data(
        TensorData::new((0..m as i64).collect::<Vec<_>>(), [m, 1]),
        &device,
    );
    let logits = logits - correction;
    let own = logits.clone().gather(1, diagonal.clone());
    let row_targets =
        Tensor::<2, Int>::from_data(TensorData::new(targets.to_vec(), [m, 1]), &device)
            .expand([m, c]);
    let columns =
        Tensor::<2, Int>::from_data(TensorData::new(candidates, [1, c]), &device).expand([m, c]);
    let others = logits.mask_fill(row_targets.equal(columns), f32::NEG_INFINITY);
    let top = others.clone().max_dim(1).max_pair(own.clone());
    let others = (others - top.clone()).exp();
    let own_exp = (own.clone() - top.clone()).exp();
    let total = others.clone().sum_dim(1) + own_exp.clone();
    let loss = (total.clone().log() + top - own).sum();
    let residual =
        (others / total.clone()).scatter(1, diagonal, own_exp / total - 1.0, IndexingUpdateOp::Add);
    (loss, residual)
}

/// [`sampled_residual`] on the host, one fused pass per row, the rows split among rayon's
/// threads: on the CPU backend each tensor operation there is its own single-threaded pass
/// over `[m, c]`.
pub(super) fn sampled_residual_on_host(
    logits: Tensor<2>,
    targets: &[i64],
    candidates: &[i64],
    correction: &[f32],
) -> (Tensor<1>, Tensor<2>) {
    let device = logits.device();
    let [m, c] = logits.dims();
    let mut rows: Vec<f32> = logits.into_data().try_into_vec().expect("f32 logits");
    // (`max(1)`: a batch without targets and without negatives has no rows, and no chunks.)
    let loss: f64 = rows
        .par_chunks_mut(c.max(1))
        .enumerate()
        .map(|(i, row)| softmax_residual(row, i, targets[i], candidates, correction) as f64)
        .sum();
    (
        Tensor::from_data(TensorData::new(vec![loss as f32], [1]), &device),
        Tensor::from_data(TensorData::new(rows, [m, c]), &device),
    )
}

/// One row of the sampled softmax: `row` (raw logits against `candidates`) becomes its
/// residual (the softmax over the `own` column and the candidates that are not `target`,
/// less one at `own`); returns the row's loss.
fn softmax_residual(
    row: &mut [f32],
    own: usize,
    target: i64,
    candidates: &[i64],
    correction: &[f32],
) -> f32 {
    let own_logit = row[own] - correction[own];
    for ((z, &item), &lowered) in row.iter_mut().zip(candidates).zip(correction) {
        *z = if item == target {
            f32::NEG_INFINITY
        } else {
            *z - lowered
        };
    }
    row[own] = own_logit;
    let top = lanes_max(row);
    let total = exp_and_sum(row, top);
    let share = 1.0 / total;
    row.iter_mut().for_each(|z| *z *= share);
    row[own] -= 1.0;
    total.ln() + top - own_logit
}

/// Independent partial results in the row loops below, so that the compiler can vectorise
/// a maximum and a sum (a single running one is a chain it must keep in order).
const LANES: usize = 16;

/// The largest value of `row` (−∞ for an empty one).
fn lanes_max(row: &[f32]) -> f32 {
    let larger = |a: f32, b: f32| if b > a { b } else { a };
    let mut lanes = [f32::NEG_INFINITY; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &z) in lanes.iter_mut().zip(chunk) {
            *lane = larger(*lane, z);
        }
    }
    lanes
        .iter()
        .chain(rest)
        .fold(f32::NEG_INFINITY, |a, &b| larger(a, b))
}

/// Replaces each `z` of `row` by e^(z − top) (`top` at least every `z`) and returns their sum.
fn exp_and_sum(row: &mut [f32], top: f32) -> f32 {
    let mut lanes = [0f32; LANES];
    let mut chunks = row.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        for (lane, z) in lanes.iter_mut().zip(chunk) {
            *z = exp_nonpositive(*z - top);
            *lane += *z;
        }
    }
    let mut total: f32 = lanes.iter().sum();
    for z in chunks.into_remainder() {
        *z = exp_nonpositive(*z - top);
        total += *z;
    }
    total
}

/// e^x for x ≤ 0, within 2.5·10⁻⁷ of it relatively (Cephes' `expf`: x = n·ln 2 + r, |r| ≤ ln 2 / 2,
/// e^r by a polynomial, 2^n by the exponent bits), and 0 below the smallest normal float's
/// logarithm and at −∞. Branch-free, so a loop over a row vectorises, where `f32::exp` is
/// a call per element (libm's `expf`).
pub(super) fn exp_nonpositive(x: f32) -> f32 {
    const SMALLEST: f32 = -87.336_55; // ln of f32::MIN_POSITIVE
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2²³: adding and subtracting it rounds to an integer
    // ln 2 in two parts (0.693359375 exactly, and the rest), as Cephes splits it.
    let clamped = x.max(SMALLEST);
    let n = (clamped * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = clamped - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 0.166_666_65;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    let two_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if x < SMALLEST { 0.0 } else { e_r * two_n }
}
