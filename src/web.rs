//! The JavaScript API (browser builds only): `Recommender.load(bytesOrUrl, { backend })`
//! and `recommender.recommend(ids, options)`. Glue only — the model, the bundle and the
//! ranking live in the shared modules. Every failure becomes a rejected promise with an
//! `Error` naming the problem; arguments are checked before any tensor work, so nothing
//! panics across the boundary.

#[cfg(feature = "webgpu")]
use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Array, ArrayBuffer, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::inference::{self, Recommendations, Request};

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
#[wasm_bindgen(start)]
fn start() {
    // SAFETY: called once per instance, before any other export runs (wasm-bindgen calls
    // the start function right after instantiation); the constructors are idempotent.
    unsafe { __wasm_call_ctors() }
}

/// Largest `k` accepted (more than any page can show).
const MAX_K: f64 = 10_000.0;

#[cfg(feature = "webgpu")]
thread_local! {
    /// The page's one WebGPU device (or why there is none): burn's runtime can be set up
    /// only once per page, so every recommender shares it.
    static WEBGPU: RefCell<Option<Result<Device, String>>> = const { RefCell::new(None) };
}

/// Options of `Recommender.load`.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct LoadOptions {
    /// `'auto'` (WebGPU, else the CPU), `'webgpu'` or `'cpu'`.
    backend: Option<String>,
}

/// Options of `recommend`; `k` is checked by hand for a clearer message.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct RecommendOptions {
    k: Option<f64>,
    exclude_seen: Option<bool>,
    exclude: Option<Vec<String>>,
    include: Option<Vec<String>>,
    explain: Option<bool>,
}

/// What `recommend` resolves to.
#[derive(Serialize)]
struct RecommendOutput {
    #[serde(flatten)]
    result: Recommendations,
    backend: &'static str,
    ms: f64,
}

/// A model loaded in the page, ready to recommend.
#[wasm_bindgen]
pub struct Recommender {
    inner: Rc<inference::Recommender>,
    backend: &'static str,
    fallback_reason: Option<String>,
}

#[wasm_bindgen]
impl Recommender {
    /// Loads a model bundle from bytes (`Uint8Array`, `ArrayBuffer`) or a URL (string or
    /// `URL`). `options.backend` is `'auto'` (default), `'webgpu'` or `'cpu'`.
    pub async fn load(source: JsValue, options: JsValue) -> Result<Recommender, JsError> {
        let options: LoadOptions = parse_options(&options, "load options")?;
        let backend = options.backend.as_deref().unwrap_or("auto");
        let bytes = bundle_bytes(source).await?;
        let (device, backend, fallback_reason) = match backend {
            "cpu" => (Device::flex(), "cpu", None),
            "webgpu" => (webgpu().await.map_err(|e| JsError::new(&format!("WebGPU is not available: {e}")))?, "webgpu", None),
            "auto" if cfg!(not(feature = "webgpu")) => (Device::flex(), "cpu", webgpu().await.err()),
            "auto" => match probe_adapter().await {
                Adapter::Missing(reason) => (Device::flex(), "cpu", Some(reason)),
                Adapter::Software(name) => {
                    let reason = format!("the WebGPU adapter is a software fallback ({name}): the CPU path is faster");
                    (Device::flex(), "cpu", Some(reason))
                }
                Adapter::Hardware => match webgpu().await {
                    Ok(device) => (device, "webgpu", None),
                    Err(reason) => (Device::flex(), "cpu", Some(reason)),
                },
            },
            other => return Err(JsError::new(&format!("backend must be 'auto', 'webgpu' or 'cpu', not {other:?}"))),
        };
        let inner = inference::Recommender::from_bytes(&bytes, &device).map_err(|e| JsError::new(&e.to_string()))?;
        for warning in inner.warnings() {
            web_sys::console::warn_1(&format!("awrsr: {warning}").into());
        }
        Ok(Recommender { inner: Rc::new(inner), backend, fallback_reason })
    }

    /// `'webgpu'` or `'cpu'`: what actually runs.
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    /// Why `'auto'` fell back to the CPU, or `null`.
    #[wasm_bindgen(getter, js_name = fallbackReason, unchecked_return_type = "string | null")]
    pub fn fallback_reason(&self) -> JsValue {
        self.fallback_reason.as_deref().map_or(JsValue::NULL, JsValue::from)
    }

    /// What loading noticed without refusing the bundle (e.g. it has no checksum), as
    /// strings; also written to the console as warnings.
    #[wasm_bindgen(getter, unchecked_return_type = "string[]")]
    pub fn warnings(&self) -> JsValue {
        from_json(self.inner.warnings()).unwrap_or_else(|_| Array::new().into())
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
    pub fn has_item(&self, #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> Result<bool, JsError> {
        Ok(self.inner.catalogue().index_of(&item_id(&id)?).is_some())
    }

    /// For each id of `ids` (an array of strings), whether the model knows it: one call for a
    /// whole catalogue page instead of one per item.
    #[wasm_bindgen(js_name = hasItems, unchecked_return_type = "boolean[]")]
    pub fn has_items(&self, #[wasm_bindgen(unchecked_param_type = "string[]")] ids: JsValue) -> Result<JsValue, JsError> {
        let catalogue = self.inner.catalogue();
        let known: Vec<bool> = string_array(&ids, "ids")?.iter().map(|id| catalogue.index_of(id).is_some()).collect();
        from_json(&known)
    }

    /// The title of an item, or `undefined`.
    pub fn title(&self, #[wasm_bindgen(unchecked_param_type = "string")] id: JsValue) -> Result<Option<String>, JsError> {
        let catalogue = self.inner.catalogue();
        Ok(catalogue.index_of(&item_id(&id)?).and_then(|i| catalogue.title(i)).map(str::to_string))
    }

    /// All item ids the model knows, in its internal order (one array, built in one call;
    /// `new Set(rec.itemIds())` answers membership for a whole catalogue).
    #[wasm_bindgen(js_name = itemIds, unchecked_return_type = "string[]")]
    pub fn item_ids(&self) -> Result<JsValue, JsError> {
        from_json(self.inner.catalogue().ids())
    }

    /// Recommends for a session (item ids, oldest first). Resolves to
    /// `{ items: [{ id, score, title?, because? }], unknown, backend, ms }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Recommendations>")]
    pub fn recommend(&self, session: JsValue, options: JsValue) -> Promise {
        let inner = Rc::clone(&self.inner);
        let backend = self.backend;
        let request = parse_request(session, options);
        future_to_promise(async move {
            let request = request?;
            let start = now();
            let result = inner.recommend(&request).await.map_err(|e| JsError::new(&e.to_string()))?;
            let output = RecommendOutput { result, backend, ms: now() - start };
            Ok(from_json(&output)?)
        })
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One session item's share in a recommendation (weights of a session sum to 1). */
export interface Because { id: string; weight: number }
/** One recommended item. */
export interface Recommended { id: string; score: number; title?: string; because?: Because[] }
/** What `recommend` resolves to. */
export interface Recommendations {
  items: Recommended[]; unknown: string[]; backend: 'webgpu' | 'cpu'; ms: number;
  /** With `explain`: the last layer's attention among the session items read (oldest first). */
  attention?: { ids: string[]; weights: number[][] };
}
/** Options of `recommend`. */
export interface RecommendOptions { k?: number; excludeSeen?: boolean; exclude?: string[]; include?: string[] | null; explain?: boolean }
"#;

/// The shared WebGPU device, set up on first use.
#[cfg(feature = "webgpu")]
async fn webgpu() -> Result<Device, String> {
    if let Some(known) = WEBGPU.with(|w| w.borrow().clone()) {
        return known;
    }
    let result = match probe_adapter().await {
        Adapter::Missing(reason) => Err(reason),
        _ => Device::wgpu_options().init_async().await.map_err(|e| format!("{e}")),
    };
    WEBGPU.with(|w| *w.borrow_mut() = Some(result.clone()));
    result
}

/// The CPU-only build has no WebGPU backend.
#[cfg(not(feature = "webgpu"))]
async fn webgpu() -> Result<Device, String> {
    Err("this is the CPU-only build of awrsr (pkg-cpu), which has no WebGPU backend".to_string())
}

/// What `navigator.gpu` offers this page.
enum Adapter {
    /// No WebGPU adapter, and why.
    Missing(String),
    /// A software (CPU-emulated) adapter such as SwiftShader, described.
    Software(String),
    /// A real GPU.
    Hardware,
}

/// Asks `navigator.gpu` for an adapter before burn does, so a browser without WebGPU is a
/// plain answer rather than an error deep inside the runtime, and a software adapter is
/// recognised (WebGPU's `isFallbackAdapter`, or a known software driver in the adapter
/// info): on one, the wasm CPU path is many times faster than emulated shaders.
async fn probe_adapter() -> Adapter {
    let get = |object: &JsValue, key: &str| Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED);
    let missing = || Adapter::Missing("this browser offers no WebGPU adapter".to_string());
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return missing();
    }
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<js_sys::Function>() else { return missing() };
    let Ok(promise) = request.call0(&gpu).and_then(|p| p.dyn_into::<Promise>()) else { return missing() };
    let adapter = match JsFuture::from(promise).await {
        Ok(adapter) if !adapter.is_null() && !adapter.is_undefined() => adapter,
        _ => return missing(),
    };
    let info = get(&adapter, "info");
    let text = |key: &str| get(&info, key).as_string().unwrap_or_default();
    let described = [text("vendor"), text("architecture"), text("device"), text("description")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let flagged = get(&info, "isFallbackAdapter").as_bool() == Some(true) || get(&adapter, "isFallbackAdapter").as_bool() == Some(true);
    let lower = described.to_lowercase();
    let software_driver = ["swiftshader", "llvmpipe", "lavapipe", "software"].iter().any(|name| lower.contains(name));
    match flagged || software_driver {
        true => Adapter::Software(if described.is_empty() { "unnamed".to_string() } else { described }),
        false => Adapter::Hardware,
    }
}

/// Bytes of the bundle from a `Uint8Array`, an `ArrayBuffer`, or a URL to fetch.
async fn bundle_bytes(source: JsValue) -> Result<Vec<u8>, JsError> {
    let bytes = match (source.dyn_ref::<Uint8Array>(), source.dyn_ref::<ArrayBuffer>()) {
        (Some(bytes), _) => Some(bytes.clone()),
        (None, Some(buffer)) => Some(Uint8Array::new(buffer)),
        (None, None) => None,
    };
    if let Some(bytes) = bytes {
        // A detached buffer reads as empty; copying from it would throw inside the glue.
        if bytes.length() == 0 || bytes.buffer().byte_length() == 0 {
            return Err(JsError::new("not an awrsr model bundle: the model bytes are empty (or their buffer was detached)"));
        }
        return Ok(bytes.to_vec());
    }
    let url = match source.as_string() {
        Some(url) => url,
        None if source.is_instance_of::<web_sys::Url>() => source.unchecked_ref::<web_sys::Url>().href(),
        None => return Err(JsError::new("model source must be a Uint8Array, an ArrayBuffer or a URL")),
    };
    fetch_bytes(&url).await.map_err(|e| JsError::new(&format!("cannot load model from {url}: {e}")))
}

async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let describe = |e: JsValue| e.as_string().or_else(|| js_sys::Error::from(e).message().as_string()).unwrap_or_default();
    let fetch = Reflect::get(&js_sys::global(), &"fetch".into()).map_err(describe)?;
    let fetch: js_sys::Function = fetch.dyn_into().map_err(|_| "fetch is not available".to_string())?;
    let response = JsFuture::from(fetch.call1(&JsValue::NULL, &url.into()).map_err(describe)?.unchecked_into::<Promise>())
        .await
        .map_err(describe)?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!("HTTP {} {}", response.status(), response.status_text()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(describe)?).await.map_err(describe)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// Reads an options object: `undefined`/`null` mean defaults, unknown keys are refused.
/// It crosses into Rust as one JSON string (`JSON.stringify`, which catches a throwing
/// getter). serde-wasm-bindgen 0.6 was measured again once calls were cheap: as fast here
/// (p50 0.59 ms both ways, 0.97 ms with `explain`), but its struct reader looks up only the
/// known keys (so `deny_unknown_fields` would no longer refuse `{ topK: 3 }`), reads
/// getters without a catch, and widens f32 results to f64 digits (0.30000001192092896).
fn parse_options<T: for<'de> Deserialize<'de> + Default>(value: &JsValue, what: &str) -> Result<T, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    if !value.is_object() || Array::is_array(value) {
        return Err(JsError::new(&format!("{what} must be an object")));
    }
    serde_json::from_str(&to_json(value)?).map_err(|e| JsError::new(&format!("invalid {what}: {e}")))
}

fn to_json(value: &JsValue) -> Result<String, JsError> {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| JsError::new("argument cannot be read as JSON"))
}

/// Checks the session and options and turns them into a [`Request`].
fn parse_request(session: JsValue, options: JsValue) -> Result<Request, JsValue> {
    let items = string_array(&session, "session")?;
    // JSON turns NaN and ±Infinity into null: look at k itself before that happens.
    if let Some(k) = Reflect::get(&options, &"k".into()).ok().and_then(|k| k.as_f64()).filter(|k| !k.is_finite()) {
        return Err(JsError::new(&format!("k must be a positive integer, not {k}")).into());
    }
    let options: RecommendOptions = parse_options(&options, "recommend options")?;
    let k = match options.k {
        None => inference::DEFAULT_K,
        Some(k) if k.fract() == 0.0 && (1.0..=MAX_K).contains(&k) => k as usize,
        Some(k) => return Err(JsError::new(&format!("k must be a positive integer up to {MAX_K}, not {k}")).into()),
    };
    Ok(Request {
        session: items,
        k: Some(k),
        exclude_seen: options.exclude_seen,
        exclude: options.exclude.unwrap_or_default(),
        include: options.include,
        explain: options.explain.unwrap_or(false),
    })
}

/// An array of strings, read in one crossing; `what` names it in errors.
fn string_array(value: &JsValue, what: &str) -> Result<Vec<String>, JsError> {
    if !Array::is_array(value) {
        return Err(JsError::new(&format!("{what} must be an array of item id strings")));
    }
    let values: Vec<serde_json::Value> = serde_json::from_str(&to_json(value)?).map_err(|e| JsError::new(&e.to_string()))?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| match value {
            serde_json::Value::String(id) => Ok(id),
            _ => Err(JsError::new(&format!("{what} item {i} is not a string"))),
        })
        .collect()
}

/// One item id argument: a string, or an `Error` (never a trap on a number or an object).
fn item_id(value: &JsValue) -> Result<String, JsError> {
    value.as_string().ok_or_else(|| JsError::new("item id must be a string"))
}

/// A Rust value as a JavaScript value, through one JSON string: one crossing and a
/// `JSON.parse` instead of one crossing per value.
fn from_json<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("result cannot be read as JSON"))
}

/// Milliseconds from `performance.now()` (falls back to `Date.now()`).
fn now() -> f64 {
    let performance = Reflect::get(&js_sys::global(), &"performance".into()).unwrap_or(JsValue::UNDEFINED);
    Reflect::get(&performance, &"now".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call0(&performance).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or_else(js_sys::Date::now)
}
