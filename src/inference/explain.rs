//! Why the model recommends what it does, for a [`Recommender`]'s answer with `explain`.
//!
//! Two kinds. Per recommended item, `because` names the session items that most raise
//! *its* score, measured by leaving each one out: the session is run again without each
//! distinct item (at most `max_len` sessions through the network, in passes of at most
//! 64 MiB of attention weights, scored on the k recommended items only), and an item's
//! weight is how much the recommendation's score falls without it. The runs cost at most
//! [`MAX_EXPLAIN_MULTIPLY_ADDS`]: a model with long windows leaves out only the session's
//! newest distinct items, as many as that allows. For the session as a whole, the attention
//! view gives the last layer's attention map and the attention rollout (Abnar & Zuidema
//! 2020) of every item read.

use serde::Serialize;

use super::{InferenceError, Recommender, missing_read_back};
use crate::model::{Awrsr, rollout};

/// A session item that raises a recommendation's score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Because {
    /// The session item's id.
    pub id: String,
    /// How much the recommendation's score falls when this item is left out of the session
    /// (in score units; positive).
    pub weight: f32,
}

/// Most session items named per recommendation.
pub const MAX_BECAUSE: usize = 5;

/// Most attention weights (sessions × heads × n × n × layers) one pass of the leave-one-out
/// explanation holds: 2^24 floats, 64 MiB. The demo's shape (n = 50, 2 heads, 2 layers)
/// explains in one pass; a bundle with long windows explains in several instead of asking
/// for gigabytes.
const MAX_EXPLAIN_WEIGHTS: usize = 1 << 24;

/// Most multiply-adds of attention ([`AttentionCost`](crate::model::AttentionCost)) that the
/// left-out runs of one explanation cost in all: 2^36, a few seconds on a laptop's CPU. The
/// demo's shape (n = 50) and ML-1M's (n = 200, 2 heads, 2 layers) leave out every session
/// item; with longer windows `because` weighs a long session's newest distinct items only,
/// as many as this allows (two at n = 2048, one head and one layer; none at n = 4096),
/// where leaving out each of 4096 items would run for hours.
pub const MAX_EXPLAIN_MULTIPLY_ADDS: u64 = 1 << 36;

/// How many left-out sessions one explanation pass runs (at least one), for sessions of
/// `floats` attention weights each ([`AttentionCost`](crate::model::AttentionCost), as `eval`
/// sizes its batches).
fn sessions_per_pass(floats: u64) -> usize {
    usize::try_from(MAX_EXPLAIN_WEIGHTS as u64 / floats.max(1))
        .unwrap_or(usize::MAX)
        .max(1)
}

/// The session's attention view (with `explain`): the last layer's attention, averaged over
/// heads (`weights[i][j]` is how much session item i attends to item j, j ≤ i), and the
/// attention rollout through every layer read at the newest position.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttentionMap {
    /// The session items read by the model, oldest first.
    pub ids: Vec<String>,
    /// Row-stochastic lower-triangular matrix, one row per item of `ids`.
    pub weights: Vec<Vec<f32>>,
    /// Each item's share in the newest position's output (one per entry of `ids`; they
    /// sum to 1 over the session).
    pub rollout: Vec<f32>,
}

/// What the model says about the session beyond the scores.
pub(super) struct Explanation {
    /// Rollout weight of every slot, `[max_len]`.
    rollout: Vec<f32>,
    /// Head-averaged last-layer attention, `[max_len, max_len]` row-major.
    last_layer: Vec<f32>,
}

impl Explanation {
    /// From the head-averaged attention of every layer, `[n, n]` each, read back.
    pub(super) fn new(layers: Vec<Vec<f32>>, n: usize) -> Result<Self, InferenceError> {
        let last_layer = layers.last().cloned().ok_or_else(missing_read_back)?;
        Ok(Self {
            rollout: rollout(&layers, n),
            last_layer,
        })
    }
}

impl Recommender {
    /// The window's block of the last-layer attention, and its slots' rollout weights
    /// (normalised over the window).
    pub(super) fn attention_map(&self, window: &[u32], explanation: &Explanation) -> AttentionMap {
        let n = self.config().max_len;
        let start = n - window.len();
        let weights = (start..n)
            .map(|i| explanation.last_layer[i * n + start..(i + 1) * n].to_vec())
            .collect();
        let ids = window
            .iter()
            .map(|&i| self.catalogue().id(i).to_string())
            .collect();
        let slots = &explanation.rollout[start..];
        let total: f32 = slots.iter().sum();
        let rollout = slots
            .iter()
            .map(|&w| if total > 0.0 { w / total } else { 0.0 })
            .collect();
        AttentionMap {
            ids,
            weights,
            rollout,
        }
    }

    /// For each picked item, the session items whose removal lowers its score most: the
    /// window without each distinct item (the newest ones [`MAX_EXPLAIN_MULTIPLY_ADDS`]
    /// allows), run in batches, scored on the picked items.
    pub(super) async fn because(
        &self,
        window: &[u32],
        picked: &[(u32, f32)],
    ) -> Result<Vec<Vec<Because>>, InferenceError> {
        let per_run = self
            .network
            .attention_cost(self.config().max_len)
            .multiply_adds
            .max(1);
        let most = usize::try_from(MAX_EXPLAIN_MULTIPLY_ADDS / per_run).unwrap_or(usize::MAX);
        let mut seen = std::collections::HashSet::new();
        let mut distinct: Vec<u32> = window
            .iter()
            .rev()
            .copied()
            .filter(|&item| seen.insert(item))
            .take(most)
            .collect();
        distinct.sort_unstable();
        if distinct.is_empty() || picked.is_empty() {
            return Ok(vec![Vec::new(); picked.len()]);
        }
        let without: Vec<Vec<u32>> = distinct
            .iter()
            .map(|&left_out| window.iter().copied().filter(|&i| i != left_out).collect())
            .collect();
        let scores = self.left_out_scores(&without, picked).await?;
        let k = picked.len();
        Ok(picked
            .iter()
            .enumerate()
            .map(|(r, &(_, score))| {
                let drops = distinct
                    .iter()
                    .enumerate()
                    .map(|(u, &item)| (item, score - scores[u * k + r]));
                self.strongest(drops)
            })
            .collect())
    }

    /// The picked items' scores for each session of `without`, `[without, picked]`
    /// row-major, in passes of at most [`MAX_EXPLAIN_WEIGHTS`] attention weights.
    async fn left_out_scores(
        &self,
        without: &[Vec<u32>],
        picked: &[(u32, f32)],
    ) -> Result<Vec<f32>, InferenceError> {
        let sequences: Vec<&[u32]> = without.iter().map(Vec::as_slice).collect();
        let config = self.config();
        let items: Vec<u32> = picked.iter().map(|&(item, _)| item).collect();
        let mut scores = Vec::with_capacity(sequences.len() * items.len());
        let per_pass = sessions_per_pass(self.network.attention_cost(config.max_len).floats);
        for batch in sequences.chunks(per_pass) {
            let read = self
                .read_back(batch, |encoded| {
                    let hidden = Awrsr::last_hidden(encoded);
                    vec![self.items.to_read_picked(hidden, &items, &self.device)]
                })
                .await?
                .into_iter()
                .next()
                .ok_or_else(missing_read_back)?;
            scores.extend(self.items.finish_picked(read, &items));
        }
        Ok(scores)
    }

    /// The items whose removal lowers the score, by how much, strongest first, at most
    /// [`MAX_BECAUSE`].
    fn strongest(&self, drops: impl Iterator<Item = (u32, f32)>) -> Vec<Because> {
        let mut drops: Vec<(u32, f32)> = drops.filter(|&(_, drop)| drop > 0.0).collect();
        drops.sort_by(|a, b| b.1.total_cmp(&a.1));
        drops
            .into_iter()
            .take(MAX_BECAUSE)
            .map(|(item, weight)| Because {
                id: self.catalogue().id(item).to_string(),
                weight,
            })
            .collect()
    }
}
