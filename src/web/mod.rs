//! The JavaScript API (browser builds only): `Recommender.load(bytesOrUrl, { backend })`
//! and `recommender.recommend(ids, options)`. Glue only — the model, the bundle and the
//! ranking live in the shared modules. Every failure becomes a rejected promise with an
//! `Error` naming the problem; arguments are checked before any tensor work, so nothing
//! panics across the boundary.
//!
//! This file is the whole API a page sees: the exported class and its TypeScript types.
//! Behind it: [`gpu`] (which device runs the model), [`bytes`] (the bundle's bytes from a
//! buffer or a URL, guarded), [`options`] (arguments in), [`results`] (answers out) and
//! [`reflect`] (caught reads and calls on the page's values).

#[cfg(feature = "studio")]
mod after_run;
mod bytes;
mod gpu;
mod options;
mod reflect;
mod results;
#[cfg(feature = "studio")]
mod studio;

use std::cell::Cell;
use std::rc::Rc;

use js_sys::{JsString, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::inference::{self, Request};
use options::{LoadOptions, parse_options, parse_request, string_array};
use reflect::{now, warn};
use results::{RecommendOutput, strings_to_js, to_js};

unsafe extern "C" {
    /// The linker-made function that runs every static constructor of the module.
    fn __wasm_call_ctors();
}

/// Runs the module's static constructors once, when the module is instantiated.
///
/// burn's WebGPU runtime registers thousands of items through `inventory`, which on wasm32
/// are static constructors. When no export calls `__wasm_call_ctors`, wasm-ld treats the
/// module as a run-once "command" and starts **every** export with that call: each call
/// from JavaScript (even `malloc`) paid ~0.5 ms. Calling it here, from the start function
/// wasm-bindgen runs at `init()`, runs them once and keeps every other export lean.
/// wasm-bindgen also exports it as `start()`: a second call from the page does nothing.
#[wasm_bindgen(start)]
fn start() {
    thread_local!(static STARTED: Cell<bool> = const { Cell::new(false) });
    if STARTED.with(|started| started.replace(true)) {
        return;
    }
    // SAFETY: called once per instance (guarded above), before any other export runs
    // (wasm-bindgen calls the start function right after instantiation).
    unsafe { __wasm_call_ctors() }
}

/// A model loaded in the page, ready to recommend.
#[wasm_bindgen]
pub struct Recommender {
    inner: Rc<inference::Recommender>,
    backend: &'static str,
    fallback_reason: Option<String>,
    /// Byte length of the longest item id: a longer argument cannot be a known id.
    longest_id: usize,
}

#[wasm_bindgen]
impl Recommender {
    /// Loads a model bundle from bytes (`Uint8Array`, `ArrayBuffer`) or a URL (string or
    /// `URL`). `options.backend` is `'auto'` (default), `'webgpu'` or `'cpu'`.
    pub async fn load(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | string | URL")]
        source: JsValue,
        #[wasm_bindgen(unchecked_param_type = "LoadOptions")] options: JsValue,
    ) -> Result<Recommender, JsError> {
        let options: LoadOptions = parse_options(&options, "load options")?;
        let bytes = bytes::bundle_bytes(source).await?;
        let chosen = gpu::choose(options.backend.as_deref()).await?;
        let inner = inference::Recommender::from_bytes(&bytes, &chosen.device)
            .map_err(|e| JsError::new(&e.to_string()))?;
        drop(bytes);
        check_network(&inner).await?;
        for warning in inner.warnings() {
            warn(&format!("awrsr: {warning}"));
        }
        let longest_id = inner
            .catalogue()
            .ids()
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0);
        Ok(Recommender {
            inner: Rc::new(inner),
            backend: chosen.backend,
            fallback_reason: chosen.fallback_reason,
            longest_id,
        })
    }

    /// `'webgpu'` or `'cpu'`: what actually runs.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    /// Why `'auto'` fell back to the CPU, or `null`.
    #[wasm_bindgen(getter, js_name = fallbackReason, unchecked_return_type = "string | null")]
    pub fn fallback_reason(&self) -> JsValue {
        self.fallback_reason
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from)
    }

    /// What loading noticed without refusing the bundle (e.g. it has no checksum), as
    /// strings; also written to the console as warnings.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn warnings(&self) -> JsValue {
        to_js(self.inner.warnings()).unwrap_or_else(|_| js_sys::Array::new().into())
    }

    /// Number of items the model knows.
    #[wasm_bindgen(getter, js_name = itemCount)]
    pub fn item_count(&self) -> usize {
        self.inner.catalogue().len()
    }

    /// Longest session the model reads; longer sessions keep their newest items.
    #[wasm_bindgen(getter, js_name = maxLength)]
    pub fn max_length(&self) -> usize {
        self.inner.config().max_len
    }

    /// Whether the model knows this item id (a string; anything else is an `Error`).
    #[wasm_bindgen(js_name = hasItem)]
    pub fn has_item(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<bool, JsError> {
        Ok(self.index_of(&id)?.is_some())
    }

    /// For each id of `ids` (an array of strings), whether the model knows it: one call for a
    /// whole catalogue page instead of one per item.
    #[wasm_bindgen(js_name = hasItems, unchecked_return_type = "boolean[]")]
    pub fn has_items(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] ids: JsValue,
    ) -> Result<JsValue, JsError> {
        let catalogue = self.inner.catalogue();
        let known: Vec<bool> = string_array(&ids, "ids")?
            .iter()
            .map(|id| catalogue.index_of(id).is_some())
            .collect();
        to_js(&known)
    }

    /// The title of an item, or `undefined`.
    pub fn title(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue,
    ) -> Result<Option<String>, JsError> {
        Ok(self
            .index_of(&id)?
            .and_then(|i| self.inner.catalogue().title(i))
            .map(str::to_string))
    }

    /// All item ids the model knows, in its internal order (one array, built in one call;
    /// `new Set(rec.itemIds())` answers membership for a whole catalogue).
    #[wasm_bindgen(js_name = itemIds, unchecked_return_type = "string[]")]
    pub fn item_ids(&self) -> Result<JsValue, JsError> {
        strings_to_js(self.inner.catalogue().ids())
    }

    /// Recommends for a session (item ids, oldest first). Resolves to
    /// `{ items: [{ id, score, title?, because? }], unknown, backend, ms, attention? }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Recommendations>")]
    pub fn recommend(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string[]")] session: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RecommendOptions")] options: JsValue,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        let backend = self.backend;
        let request = parse_request(session, options);
        future_to_promise(async move {
            let request = request?;
            let start = now();
            let result = inner
                .recommend(&request)
                .await
                .map_err(|e| JsError::new(&e.to_string()))?;
            let output = RecommendOutput {
                result,
                backend,
                ms: now() - start,
            };
            Ok(to_js(&output)?)
        })
    }
}

impl Recommender {
    /// The internal index of an id argument: a string, or an `Error` (never a trap on a
    /// number or an object). A string longer than every known id is not copied in.
    fn index_of(&self, id: &JsValue) -> Result<Option<u32>, JsError> {
        let text = id
            .dyn_ref::<JsString>()
            .ok_or_else(|| JsError::new("item id must be a string"))?;
        // A UTF-16 unit is at least one UTF-8 byte: a longer string matches no id.
        if text.length() as usize > self.longest_id {
            return Ok(None);
        }
        Ok(id
            .as_string()
            .and_then(|id| self.inner.catalogue().index_of(&id)))
    }
}

/// Runs the network once on the empty session. Weights can be finite and still overflow in
/// the network (a flipped exponent bit in a bundle without checksum): this refuses such a
/// bundle at load rather than answering with NaN later. It also compiles the kernels early.
async fn check_network(inner: &inference::Recommender) -> Result<(), JsError> {
    let probe = Request {
        k: Some(inference::DEFAULT_K),
        explain: true,
        ..Request::default()
    };
    match inner.recommend(&probe).await {
        Ok(_) => Ok(()),
        Err(inference::InferenceError::NonFinite(what)) => Err(JsError::new(&format!(
            "the bundle's weights make the network compute {what}: it is damaged"
        ))),
        Err(e) => Err(JsError::new(&e.to_string())),
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** A session item that raises a recommendation's score: `weight` is how much the score falls without it (> 0). */
export interface Because { id: string; weight: number }
/** One recommended item. */
export interface Recommended {
  id: string; score: number; title?: string;
  /** With `explain`: the session items that most raise this item's score, strongest first (at most 5). */
  because?: Because[];
}
/** What `recommend` resolves to. */
export interface Recommendations {
  items: Recommended[]; unknown: string[]; backend: 'webgpu' | 'cpu'; ms: number;
  /** With `explain`: the session's attention view, over the items read (oldest first): the
   * last layer's attention map (`weights[i][j]`, j ≤ i) and the rollout share of each item. */
  attention?: { ids: string[]; weights: number[][]; rollout: number[] };
}
/** Options of `Recommender.load`. */
export interface LoadOptions { backend?: 'auto' | 'webgpu' | 'cpu' }
/** Options of `recommend`. */
export interface RecommendOptions { k?: number; excludeSeen?: boolean; exclude?: string[]; include?: string[] | null; explain?: boolean }
"#;
