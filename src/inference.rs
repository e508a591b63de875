//! Recommending for one session: external ids in, the top-k external ids out, with
//! explanations on request. Shared by the CLI and the browser; reads results
//! asynchronously, as WebGPU requires.
//!
//! Explanations are of two kinds. Per recommended item, `because` names the session items
//! that most raise *its* score, measured by leaving each one out: the session is run again
//! without each distinct item (at most `max_len` sessions through the network, in passes of
//! at most 64 MiB of attention weights, scored on the k recommended items only), and an
//! item's weight is how much the recommendation's score falls without it. For the session as a whole, the attention view
//! gives the last layer's attention map and the attention rollout (Abnar & Zuidema 2020)
//! of every item read.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData, Transaction};
use serde::Serialize;

use crate::bundle::{Bundle, BundleError, decode};
use crate::catalogue::Catalogue;
use crate::model::{Awrsr, ModelConfig, head_averaged, input_tensor, rollout};
use crate::rank::top_k;
use crate::scoring::ServingItems;

/// What to recommend.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The session's item ids, oldest first.
    pub session: Vec<String>,
    /// Number of recommendations.
    pub k: Option<usize>,
    /// Leave the session's own items out (default true).
    pub exclude_seen: Option<bool>,
    /// Ids never to recommend.
    pub exclude: Vec<String>,
    /// When set, recommend only from these ids.
    pub include: Option<Vec<String>>,
    /// Add the explanations: each item's `because` and the session's attention view.
    pub explain: bool,
}

/// Default number of recommendations.
pub const DEFAULT_K: usize = 10;

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

/// How many left-out sessions one explanation pass runs (at least one).
fn sessions_per_pass(n: usize, heads: usize, layers: usize) -> usize {
    (MAX_EXPLAIN_WEIGHTS / (n * n * heads * layers).max(1)).max(1)
}

/// One recommended item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommended {
    /// External item id.
    pub id: String,
    /// Model score (higher is better).
    pub score: f32,
    /// Title, when the bundle has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The session items that most raise this item's score, strongest first, at most
    /// [`MAX_BECAUSE`], only those that raise it (with `explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub because: Option<Vec<Because>>,
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

/// The answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendations {
    /// The recommendations, best first.
    pub items: Vec<Recommended>,
    /// Session ids the model does not know (skipped).
    pub unknown: Vec<String>,
    /// The session's attention map (with `explain`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<AttentionMap>,
}

/// What the model says about the session beyond the scores.
struct Explanation {
    /// Rollout weight of every slot, `[max_len]`.
    rollout: Vec<f32>,
    /// Head-averaged last-layer attention, `[max_len, max_len]` row-major.
    last_layer: Vec<f32>,
}

/// Why a recommendation failed.
#[derive(Debug, thiserror::Error)]
pub enum InferenceError {
    /// A request argument is invalid.
    #[error("invalid argument: {0}")]
    BadArgument(String),
    /// The device failed to compute or return the result.
    #[error("device error: {0}")]
    Device(String),
    /// The network computed NaN or ±∞ (finite weights that overflow: a damaged bundle).
    #[error("the model computed {0} for this session: its weights are damaged")]
    NonFinite(&'static str),
}

/// A loaded model ready to recommend.
#[derive(Debug)]
pub struct Recommender {
    bundle: Bundle,
    items: ServingItems,
    device: Device,
}

impl Recommender {
    /// Loads a model bundle onto `device`.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self, BundleError> {
        let mut bundle = decode(bytes, device)?;
        // The browser's CPU path scores on the host (see `scoring`); elsewhere burn does.
        let on_host = cfg!(target_arch = "wasm32") && *device == Device::flex();
        let items = ServingItems::from_table(
            &std::mem::take(&mut bundle.item_table),
            &bundle.config,
            on_host,
            device,
        )?;
        // The serving table replaces the model's own: the catalogue's embeddings are held once.
        bundle.model.items.weight =
            Param::from_tensor(Tensor::zeros([1, bundle.config.d_model], device));
        Ok(Self {
            bundle,
            items,
            device: device.clone(),
        })
    }

    /// The items this model ranks.
    pub fn catalogue(&self) -> &Catalogue {
        &self.bundle.catalogue
    }

    /// The network configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.bundle.config
    }

    /// What loading the bundle noticed without refusing it (e.g. no checksum).
    pub fn warnings(&self) -> &[String] {
        &self.bundle.warnings
    }

    /// Recommends for `request.session`. Unknown ids are skipped and listed; only the
    /// newest `max_len` known items are used; an empty session gets the model's answer for
    /// no history.
    pub async fn recommend(&self, request: &Request) -> Result<Recommendations, InferenceError> {
        let k = request.k.unwrap_or(DEFAULT_K);
        if k == 0 {
            return Err(InferenceError::BadArgument(
                "k must be a positive integer".into(),
            ));
        }
        let catalogue = &self.bundle.catalogue;
        let mut session = Vec::with_capacity(request.session.len());
        let mut unknown = Vec::new();
        for id in &request.session {
            match catalogue.index_of(id) {
                Some(index) => session.push(index),
                None => unknown.push(id.clone()),
            }
        }
        let max_len = self.bundle.config.max_len;
        let window = &session[session.len().saturating_sub(max_len)..];

        let (scores, explanation) = self.infer(window, request.explain).await?;
        let blocked = self.blocked(request, &session);
        let allowed = self.allow_list(request);
        let picked = top_k(&scores, k, |i| {
            blocked.binary_search(&i).is_err()
                && allowed.as_ref().is_none_or(|a| a.binary_search(&i).is_ok())
        });
        let mut because = match request.explain {
            true => self
                .because(window, &picked)
                .await?
                .into_iter()
                .map(Some)
                .collect(),
            false => vec![None; picked.len()],
        };
        let attention = explanation.map(|e| self.attention_map(window, &e));
        let items = picked
            .into_iter()
            .zip(because.drain(..))
            .map(|((index, score), because)| Recommended {
                id: catalogue.id(index).to_string(),
                score,
                title: catalogue.title(index).map(str::to_string),
                because,
            })
            .collect();
        let answer = Recommendations {
            items,
            unknown,
            attention,
        };
        non_finite(&answer).map_err(InferenceError::NonFinite)?;
        Ok(answer)
    }

    /// Scores of every item and, with `explain`, the attention read-outs: one read-back.
    async fn infer(
        &self,
        window: &[u32],
        explain: bool,
    ) -> Result<(Vec<f32>, Option<Explanation>), InferenceError> {
        let model = &self.bundle.model;
        let n = self.bundle.config.max_len;
        let embedded = self.items.embed(&[window], n, &self.device);
        let encoded =
            model.encode_embedded(embedded, input_tensor(&[window], n, &self.device), true);
        let mut reads =
            Transaction::default().register(self.items.to_read(Awrsr::last_hidden(&encoded)));
        if explain {
            for layer in head_averaged(&encoded) {
                reads = reads.register(layer);
            }
        }
        let data = reads
            .execute_async()
            .await
            .map_err(|e| InferenceError::Device(format!("{e:?}")))?;
        let mut data = data
            .into_iter()
            .map(floats)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter();
        let scores = self.items.finish(
            data.next()
                .ok_or_else(|| InferenceError::Device("missing read-back".into()))?,
        );
        let explanation = match explain {
            true => {
                let layers: Vec<Vec<f32>> = data.collect();
                let last_layer = layers
                    .last()
                    .cloned()
                    .ok_or_else(|| InferenceError::Device("missing read-back".into()))?;
                Some(Explanation {
                    rollout: rollout(&layers, n),
                    last_layer,
                })
            }
            false => None,
        };
        Ok((scores, explanation))
    }

    /// The window's block of the last-layer attention, and its slots' rollout weights
    /// (normalised over the window).
    fn attention_map(&self, window: &[u32], explanation: &Explanation) -> AttentionMap {
        let n = self.bundle.config.max_len;
        let start = n - window.len();
        let weights = (start..n)
            .map(|i| explanation.last_layer[i * n + start..(i + 1) * n].to_vec())
            .collect();
        let ids = window
            .iter()
            .map(|&i| self.bundle.catalogue.id(i).to_string())
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
    /// window without each distinct item, run as one batch, scored on the picked items.
    async fn because(
        &self,
        window: &[u32],
        picked: &[(u32, f32)],
    ) -> Result<Vec<Vec<Because>>, InferenceError> {
        let mut distinct = window.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.is_empty() || picked.is_empty() {
            return Ok(vec![Vec::new(); picked.len()]);
        }
        let without: Vec<Vec<u32>> = distinct
            .iter()
            .map(|&left_out| window.iter().copied().filter(|&i| i != left_out).collect())
            .collect();
        let sequences: Vec<&[u32]> = without.iter().map(Vec::as_slice).collect();
        let config = &self.bundle.config;
        let n = config.max_len;
        let items: Vec<u32> = picked.iter().map(|&(item, _)| item).collect();
        let mut scores = Vec::with_capacity(sequences.len() * items.len()); // [distinct, picked]
        for batch in sequences.chunks(sessions_per_pass(n, config.heads, config.layers)) {
            let embedded = self.items.embed(batch, n, &self.device);
            let encoded = self.bundle.model.encode_embedded(
                embedded,
                input_tensor(batch, n, &self.device),
                true,
            );
            let read =
                self.items
                    .to_read_picked(Awrsr::last_hidden(&encoded), &items, &self.device);
            let data = Transaction::default()
                .register(read)
                .execute_async()
                .await
                .map_err(|e| InferenceError::Device(format!("{e:?}")))?;
            let data = data
                .into_iter()
                .next()
                .ok_or_else(|| InferenceError::Device("missing read-back".into()))?;
            scores.extend(self.items.finish_picked(floats(data)?, &items));
        }
        let catalogue = &self.bundle.catalogue;
        let k = picked.len();
        Ok(picked
            .iter()
            .enumerate()
            .map(|(r, &(_, score))| {
                let mut drops: Vec<(u32, f32)> = distinct
                    .iter()
                    .enumerate()
                    .map(|(u, &item)| (item, score - scores[u * k + r]))
                    .filter(|&(_, drop)| drop > 0.0)
                    .collect();
                drops.sort_by(|a, b| b.1.total_cmp(&a.1));
                drops
                    .into_iter()
                    .take(MAX_BECAUSE)
                    .map(|(item, weight)| Because {
                        id: catalogue.id(item).to_string(),
                        weight,
                    })
                    .collect()
            })
            .collect())
    }

    /// Items never to recommend, sorted: the excluded ids and (by default) every known item
    /// of the session, also those older than the window the model reads.
    fn blocked(&self, request: &Request, session: &[u32]) -> Vec<u32> {
        let catalogue = &self.bundle.catalogue;
        let mut blocked: Vec<u32> = request
            .exclude
            .iter()
            .filter_map(|id| catalogue.index_of(id))
            .collect();
        if request.exclude_seen.unwrap_or(true) {
            blocked.extend(session);
        }
        blocked.sort_unstable();
        blocked
    }

    /// The allow-list, sorted, when the request has one.
    fn allow_list(&self, request: &Request) -> Option<Vec<u32>> {
        let catalogue = &self.bundle.catalogue;
        request.include.as_ref().map(|ids| {
            let mut allowed: Vec<u32> =
                ids.iter().filter_map(|id| catalogue.index_of(id)).collect();
            allowed.sort_unstable();
            allowed
        })
    }
}

/// Names the first non-finite number of an answer (scores, explanation weights, attention).
fn non_finite(answer: &Recommendations) -> Result<(), &'static str> {
    if answer.items.iter().any(|item| !item.score.is_finite()) {
        return Err("non-finite scores");
    }
    let because = answer
        .items
        .iter()
        .flat_map(|item| item.because.iter().flatten());
    if because.map(|b| b.weight).any(|w| !w.is_finite()) {
        return Err("non-finite explanation weights");
    }
    if answer
        .attention
        .iter()
        .flat_map(|a| a.weights.iter().flatten().chain(&a.rollout))
        .any(|w| !w.is_finite())
    {
        return Err("non-finite attention weights");
    }
    Ok(())
}

/// The f32 values of a read-back tensor.
fn floats(data: TensorData) -> Result<Vec<f32>, InferenceError> {
    data.try_into_vec::<f32>()
        .map_err(|e| InferenceError::Device(format!("{e:?}")))
}
