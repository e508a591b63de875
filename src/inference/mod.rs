//! Recommending for one session: external ids in, the top-k external ids out. Shared by
//! the CLI and the browser; reads results asynchronously, as WebGPU requires. Every
//! network run goes through [`Recommender::read_back`]: one pass, one read-back. The
//! explanations (`because`, the attention view) are in [`explain`].

mod explain;

use burn::tensor::{Device, Tensor, TensorData, Transaction};
use serde::Serialize;

use crate::bundle::{BundleError, Verified, decode_for_serving};
use crate::catalogue::Catalogue;
use crate::model::{Awrsr, Encoded, ModelConfig, input_tensor, window};
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

pub use explain::{AttentionMap, Because, MAX_BECAUSE, MAX_EXPLAIN_MULTIPLY_ADDS};

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
    /// The configuration, catalogue and warnings the bundle's header gave.
    header: Verified,
    /// The network; its item embedding is one padding row (the vectors are in `items`).
    network: Awrsr,
    /// The item table as served.
    items: ServingItems,
    device: Device,
}

impl Recommender {
    /// Loads a model bundle onto `device`.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self, BundleError> {
        let bundle = decode_for_serving(bytes, device)?;
        // The browser's CPU path scores on the host (see `scoring`); elsewhere burn does.
        let on_host = cfg!(target_arch = "wasm32") && *device == Device::flex();
        let items =
            ServingItems::from_table(&bundle.item_table, &bundle.header.config, on_host, device)?;
        Ok(Self {
            header: bundle.header,
            network: bundle.model,
            items,
            device: device.clone(),
        })
    }

    /// The items this model ranks.
    pub fn catalogue(&self) -> &Catalogue {
        &self.header.catalogue
    }

    /// The network configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.header.config
    }

    /// What loading the bundle noticed without refusing it (e.g. no checksum).
    pub fn warnings(&self) -> &[String] {
        &self.header.warnings
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
        let catalogue = &self.header.catalogue;
        let mut session = Vec::with_capacity(request.session.len());
        let mut unknown = Vec::new();
        for id in &request.session {
            match catalogue.index_of(id) {
                Some(index) => session.push(index),
                None => unknown.push(id.clone()),
            }
        }
        let max_len = self.header.config.max_len;
        let window = window(&session, max_len);

        let (scores, norm, explanation) = self.infer(window, request.explain).await?;
        let blocked = self.blocked(request, &session);
        let allowed = self.allow_list(request);
        let picked = top_k(&scores, k, |i| {
            blocked.binary_search(&i).is_err()
                && allowed.as_ref().is_none_or(|a| a.binary_search(&i).is_ok())
        });
        let mut because = match request.explain {
            true => self
                .because(window, &self.network_scores(window, &picked, norm))
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

    /// `picked`'s scores as the network alone gives them: less the repeat bonus, which
    /// explanations leave out (removing a session item changes the network's score only).
    fn network_scores(&self, window: &[u32], picked: &[(u32, f32)], norm: f32) -> Vec<(u32, f32)> {
        let repeat = self.config().repeat;
        picked
            .iter()
            .map(|&(item, score)| (item, score - repeat.added(window, item, norm)))
            .collect()
    }

    /// Scores of every item for `window` (the [`RepeatBonus`](crate::model::RepeatBonus)
    /// included), the length of the session's hidden state when there is a bonus (else 0)
    /// and, with `explain`, its attention read-outs.
    async fn infer(
        &self,
        window: &[u32],
        explain: bool,
    ) -> Result<(Vec<f32>, f32, Option<explain::Explanation>), InferenceError> {
        let repeat = self.config().repeat;
        let mut reads = self
            .read_back(&[window], |encoded| {
                let hidden = Awrsr::last_hidden(encoded);
                let norm =
                    (!repeat.is_none()).then(|| hidden.clone().powi_scalar(2).sum_dim(1).sqrt());
                let mut reads = vec![self.items.to_read(hidden)];
                reads.extend(norm);
                if explain {
                    reads.extend(crate::model::head_averaged(encoded));
                }
                reads
            })
            .await?
            .into_iter();
        let mut scores = self
            .items
            .finish(reads.next().ok_or_else(missing_read_back)?);
        let mut norm = 0.0;
        if !repeat.is_none() {
            let read = reads.next().ok_or_else(missing_read_back)?;
            norm = read.first().copied().ok_or_else(missing_read_back)?;
            repeat.apply(&mut scores, window, norm);
        }
        let explanation = match explain {
            true => Some(explain::Explanation::new(
                reads.collect(),
                self.config().max_len,
            )?),
            false => None,
        };
        Ok((scores, norm, explanation))
    }

    /// Runs `sessions` through the network (their newest position) and reads back the
    /// tensors `reads` takes from the result, in one transaction: the one network pass and
    /// the one read-back of inference.
    async fn read_back(
        &self,
        sessions: &[&[u32]],
        reads: impl FnOnce(&Encoded) -> Vec<Tensor<2>>,
    ) -> Result<Vec<Vec<f32>>, InferenceError> {
        let n = self.config().max_len;
        let embedded = self.items.embed(sessions, n, &self.device);
        let encoded =
            self.network
                .encode_embedded(embedded, input_tensor(sessions, n, &self.device), true);
        let transaction = reads(&encoded)
            .into_iter()
            .fold(Transaction::default(), |t, read| t.register(read));
        let data = transaction
            .execute_async()
            .await
            .map_err(|e| InferenceError::Device(format!("{e:?}")))?;
        data.into_iter().map(floats).collect()
    }

    /// Items never to recommend, sorted: the excluded ids and (by default) every known item
    /// of the session, also those older than the window the model reads.
    fn blocked(&self, request: &Request, session: &[u32]) -> Vec<u32> {
        let catalogue = &self.header.catalogue;
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
        let catalogue = &self.header.catalogue;
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

/// The error for a read-back with fewer tensors than were registered.
fn missing_read_back() -> InferenceError {
    InferenceError::Device("missing read-back".into())
}

/// The f32 values of a read-back tensor.
fn floats(data: TensorData) -> Result<Vec<f32>, InferenceError> {
    data.try_into_vec::<f32>()
        .map_err(|e| InferenceError::Device(format!("{e:?}")))
}
