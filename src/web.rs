//! The JavaScript API (browser builds only): `Recommender.load(bytesOrUrl, { backend })`
//! and `recommender.recommend(ids, options)`. Glue only — the model, the bundle and the
//! ranking live in the shared modules. Every failure becomes a rejected promise with an
//! `Error` naming the problem; arguments are checked before any tensor work, so nothing
//! panics across the boundary.

use std::cell::Cell;
#[cfg(feature = "webgpu")]
use std::cell::RefCell;
use std::rc::Rc;

use burn::tensor::Device;
use js_sys::{Array, ArrayBuffer, Function, JsString, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::bundle::{self, MAX_HEADER_BYTES};
use crate::catalogue::excerpt;
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

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws on a revoked Proxy: caught here (js-sys's binding is not).
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array(value: &JsValue) -> Result<bool, JsValue>;
}

/// Largest `k` accepted (more than any page can show).
const MAX_K: f64 = 10_000.0;
/// Largest bundle the browser build loads: loading holds a few copies of it in the module's
/// memory, which cannot grow past 4 GiB (and a failed allocation would end the module).
const MAX_BUNDLE_BYTES: usize = 512 << 20;
/// Most ids one argument (a session, `exclude`, `include`, `hasItems`) may hold.
const MAX_IDS: f64 = 10_000_000.0;
/// Longest an argument may be as JSON, in UTF-16 units (64 Mi): arguments are copied into
/// the module's memory, and a copy it cannot make would end the module.
const MAX_ARGUMENT_CHARS: u32 = 64 << 20;

/// Where the page's one WebGPU device stands.
#[cfg(feature = "webgpu")]
#[derive(Clone)]
enum WebGpu {
    /// Not asked for yet.
    Unset,
    /// Being set up: the promise settles when it is done (concurrent loads wait for it).
    Pending(Promise),
    /// Set up, or why it cannot be.
    Done(Result<Device, String>),
}

#[cfg(feature = "webgpu")]
thread_local! {
    /// The page's one WebGPU device (or why there is none): burn's runtime can be set up
    /// only once per page, so every recommender shares it.
    static WEBGPU: RefCell<WebGpu> = const { RefCell::new(WebGpu::Unset) };
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
        let backend = options.backend.as_deref().unwrap_or("auto");
        let bytes = bundle_bytes(source).await?;
        let (device, backend, fallback_reason) = match backend {
            "cpu" => (Device::flex(), "cpu", None),
            "webgpu" => (
                webgpu()
                    .await
                    .map_err(|e| JsError::new(&format!("WebGPU is not available: {e}")))?,
                "webgpu",
                None,
            ),
            "auto" if cfg!(not(feature = "webgpu")) => {
                (Device::flex(), "cpu", webgpu().await.err())
            }
            "auto" => match probe_adapter().await {
                Adapter::Missing(reason) => (Device::flex(), "cpu", Some(reason)),
                Adapter::Software(name) => {
                    let reason = format!(
                        "the WebGPU adapter is a software fallback ({name}): the CPU path is faster"
                    );
                    (Device::flex(), "cpu", Some(reason))
                }
                Adapter::Hardware => match webgpu().await {
                    Ok(device) => (device, "webgpu", None),
                    Err(reason) => (Device::flex(), "cpu", Some(reason)),
                },
            },
            other => {
                return Err(JsError::new(&format!(
                    "backend must be 'auto', 'webgpu' or 'cpu', not {}",
                    excerpt(other)
                )));
            }
        };
        let inner = inference::Recommender::from_bytes(&bytes, &device)
            .map_err(|e| JsError::new(&e.to_string()))?;
        drop(bytes);
        // Weights can be finite and still overflow in the network (a flipped exponent bit in
        // a bundle without checksum): one run on the empty session refuses such a bundle now
        // rather than answering with NaN later. It also compiles the kernels early.
        let probe = Request {
            k: Some(inference::DEFAULT_K),
            explain: true,
            ..Request::default()
        };
        match inner.recommend(&probe).await {
            Ok(_) => {}
            Err(inference::InferenceError::NonFinite(what)) => {
                return Err(JsError::new(&format!(
                    "the bundle's weights make the network compute {what}: it is damaged"
                )));
            }
            Err(e) => return Err(JsError::new(&e.to_string())),
        }
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
            backend,
            fallback_reason,
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
        from_json(&known)
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
        from_json(self.inner.catalogue().ids())
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
            Ok(from_json(&output)?)
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

/// The shared WebGPU device, set up on first use; concurrent first uses wait for one setup.
#[cfg(feature = "webgpu")]
async fn webgpu() -> Result<Device, String> {
    let state = WEBGPU.with(|w| w.borrow().clone());
    let pending = match state {
        WebGpu::Done(known) => return known,
        WebGpu::Pending(pending) => pending,
        WebGpu::Unset => {
            let setup = future_to_promise(async {
                let result = match probe_adapter().await {
                    Adapter::Missing(reason) => Err(reason),
                    _ => Device::wgpu_options()
                        .init_async()
                        .await
                        .map_err(|e| format!("{e}")),
                };
                WEBGPU.with(|w| *w.borrow_mut() = WebGpu::Done(result));
                Ok(JsValue::UNDEFINED)
            });
            WEBGPU.with(|w| *w.borrow_mut() = WebGpu::Pending(setup.clone()));
            setup
        }
    };
    let _ = JsFuture::from(pending).await;
    match WEBGPU.with(|w| w.borrow().clone()) {
        WebGpu::Done(result) => result,
        _ => Err("WebGPU setup did not finish".to_string()),
    }
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
    let get = |object: &JsValue, key: &str| {
        Reflect::get(object, &key.into()).unwrap_or(JsValue::UNDEFINED)
    };
    let missing = || Adapter::Missing("this browser offers no WebGPU adapter".to_string());
    let gpu = get(&get(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return missing();
    }
    let Ok(request) = get(&gpu, "requestAdapter").dyn_into::<js_sys::Function>() else {
        return missing();
    };
    let Ok(promise) = request.call0(&gpu).and_then(|p| p.dyn_into::<Promise>()) else {
        return missing();
    };
    let adapter = match JsFuture::from(promise).await {
        Ok(adapter) if !adapter.is_null() && !adapter.is_undefined() => adapter,
        _ => return missing(),
    };
    let info = get(&adapter, "info");
    let text = |key: &str| get(&info, key).as_string().unwrap_or_default();
    let described = [
        text("vendor"),
        text("architecture"),
        text("device"),
        text("description"),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let flagged = get(&info, "isFallbackAdapter").as_bool() == Some(true)
        || get(&adapter, "isFallbackAdapter").as_bool() == Some(true);
    let lower = described.to_lowercase();
    let software_driver = ["swiftshader", "llvmpipe", "lavapipe", "software"]
        .iter()
        .any(|name| lower.contains(name));
    match flagged || software_driver {
        true => Adapter::Software(if described.is_empty() {
            "unnamed".to_string()
        } else {
            described
        }),
        false => Adapter::Hardware,
    }
}

/// Bytes of the bundle from a `Uint8Array`, an `ArrayBuffer`, or a URL to fetch. Every
/// property is read through `Reflect` and every call made through `Reflect.apply`, so that a
/// look-alike object (a Proxy, `Object.create(Uint8Array.prototype)`, a subclass with
/// throwing getters) is an `Error`, never an exception thrown through the module.
async fn bundle_bytes(source: JsValue) -> Result<Vec<u8>, JsError> {
    if ArrayBuffer::is_view(&source) {
        // A real typed array or DataView (a Proxy is not one); only bytes are bytes.
        if !source.is_instance_of::<Uint8Array>() {
            return Err(JsError::new(
                "model bytes must be a Uint8Array or an ArrayBuffer (not another typed array or a DataView)",
            ));
        }
        return read_bytes(&source);
    }
    if source.is_instance_of::<ArrayBuffer>() {
        return read_bytes(&uint8_view(&source)?);
    }
    let url = match source.as_string() {
        Some(url) => url,
        None if source.is_instance_of::<web_sys::Url>() => get(&source, "href")
            .ok()
            .and_then(|href| href.as_string())
            .ok_or_else(|| JsError::new("model source is a URL object without a readable href"))?,
        None => {
            return Err(JsError::new(
                "model source must be a Uint8Array, an ArrayBuffer or a URL",
            ));
        }
    };
    let shown = bundle_excerpt(&url);
    let buffer = fetch_buffer(&url)
        .await
        .map_err(|e| JsError::new(&format!("cannot load model from {shown}: {e}")))?;
    if !buffer.is_instance_of::<ArrayBuffer>() {
        return Err(JsError::new(&format!(
            "cannot load model from {shown}: the response body is not an ArrayBuffer"
        )));
    }
    read_bytes(&uint8_view(&buffer)?)
}

/// A URL (or any text) shortened for a message.
fn bundle_excerpt(text: &str) -> String {
    match text.char_indices().nth(200) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// `new Uint8Array(buffer)`, caught (a detached or look-alike buffer throws).
fn uint8_view(buffer: &JsValue) -> Result<JsValue, JsError> {
    let unreadable =
        |e: JsValue| JsError::new(&format!("the model bytes cannot be read: {}", describe(&e)));
    let constructor: Function = get(&js_sys::global(), "Uint8Array")
        .map_err(unreadable)?
        .unchecked_into();
    Reflect::construct(&constructor, &Array::of1(buffer)).map_err(unreadable)
}

/// Copies a Uint8Array (a real one, or whatever passed for one) into the module. Its length
/// is checked against [`MAX_BUNDLE_BYTES`] and against the length its safetensors header
/// declares before the bulk is copied: a huge or mismatched buffer is refused without a copy.
fn read_bytes(view: &JsValue) -> Result<Vec<u8>, JsError> {
    let empty = || {
        JsError::new(
            "not an awrsr model bundle: the model bytes are empty (or their buffer was detached)",
        )
    };
    let length = get(view, "byteLength")
        .ok()
        .and_then(|n| n.as_f64())
        .ok_or_else(empty)?;
    if !(length >= 1.0 && length.fract() == 0.0) {
        return Err(empty());
    }
    if length > MAX_BUNDLE_BYTES as f64 {
        return Err(JsError::new(&format!(
            "the model is {length} bytes, larger than the {} MiB the browser build loads",
            MAX_BUNDLE_BYTES >> 20
        )));
    }
    let length = length as usize;
    let head_length = match length {
        ..8 => length,
        _ => {
            let prefix = copy_range(view, 0, 8)?;
            let header = u64::from_le_bytes(prefix.try_into().unwrap_or_default());
            if header > MAX_HEADER_BYTES {
                8
            } else {
                (8 + header).min(length as u64) as usize
            }
        }
    };
    let declared = bundle::declared_len(&copy_range(view, 0, head_length)?)
        .map_err(|e| JsError::new(&e.to_string()))?;
    if declared != length as u64 {
        let problem = match declared > length as u64 {
            true => format!("truncated: {length} bytes of the {declared} its header describes"),
            false => format!(
                "{} bytes after the {declared} its header describes",
                length as u64 - declared
            ),
        };
        return Err(JsError::new(&format!(
            "not an awrsr model bundle: {problem}"
        )));
    }
    copy_range(view, 0, length)
}

/// Copies `length` bytes from `start` of a Uint8Array into a new vector, with
/// `Uint8Array.prototype.set` called through `Reflect.apply` (a look-alike source, one
/// shorter than it claims or a detached one is an `Error`; a failed allocation too).
fn copy_range(view: &JsValue, start: usize, length: usize) -> Result<Vec<u8>, JsError> {
    let unreadable =
        |e: JsValue| JsError::new(&format!("the model bytes cannot be read: {}", describe(&e)));
    let mut out = Vec::new();
    out.try_reserve_exact(length).map_err(|_| {
        JsError::new(&format!(
            "not enough memory for {length} bytes of model in this page"
        ))
    })?;
    out.resize(length, 0);
    let part = call_method(view, "subarray", &[start.into(), (start + length).into()])
        .map_err(unreadable)?;
    let set: Function = get(&Uint8Array::new_with_length(0), "set")
        .map_err(unreadable)?
        .unchecked_into();
    let arguments = Array::of1(&part);
    // SAFETY: the view covers `out` exactly and is used at once: nothing allocates in the
    // module between here and the copy (a source whose getters call back into the module
    // and grow its memory detaches the view, and `set` then throws: caught).
    let target = unsafe { Uint8Array::view_mut_raw(out.as_mut_ptr(), length) };
    Reflect::apply(&set, &target, &arguments).map_err(unreadable)?;
    Ok(out)
}

/// The body of `fetch(url)` as an `ArrayBuffer`, refused early when its declared length is
/// above [`MAX_BUNDLE_BYTES`]. Guarded throughout: a page may replace `fetch`.
async fn fetch_buffer(url: &str) -> Result<JsValue, String> {
    let text = |e: JsValue| describe(&e);
    let response = JsFuture::from(promise(
        call_method(&js_sys::global(), "fetch", &[url.into()]).map_err(text)?,
    )?)
    .await
    .map_err(text)?;
    if get(&response, "ok").ok().and_then(|ok| ok.as_bool()) != Some(true) {
        let status = get(&response, "status")
            .ok()
            .and_then(|s| s.as_f64())
            .unwrap_or(0.0);
        let status_text = get(&response, "statusText")
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        return Err(bundle_excerpt(&format!("HTTP {status} {status_text}")));
    }
    let headers = get(&response, "headers").map_err(text)?;
    let declared = call_method(&headers, "get", &["content-length".into()])
        .ok()
        .and_then(|n| n.as_string());
    if let Some(bytes) = declared
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|&n| n > MAX_BUNDLE_BYTES as f64)
    {
        return Err(format!(
            "the model is {bytes} bytes, larger than the {} MiB the browser build loads",
            MAX_BUNDLE_BYTES >> 20
        ));
    }
    JsFuture::from(promise(
        call_method(&response, "arrayBuffer", &[]).map_err(text)?,
    )?)
    .await
    .map_err(text)
}

/// `object[key]`, through `Reflect.get` (a throwing getter or a primitive is an `Err`).
fn get(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &key.into())
}

/// `object[name](...arguments)`, every step caught.
fn call_method(object: &JsValue, name: &str, arguments: &[JsValue]) -> Result<JsValue, JsValue> {
    let method = get(object, name)?;
    let method: &Function = method
        .dyn_ref()
        .ok_or_else(|| JsValue::from_str(&format!("{name} is not a function")))?;
    Reflect::apply(method, object, &arguments.iter().collect())
}

/// `Promise.resolve(value)`, caught (a promise with a throwing `constructor` getter throws).
fn promise(value: JsValue) -> Result<Promise, String> {
    let constructor = get(&js_sys::global(), "Promise").map_err(|e| describe(&e))?;
    call_method(&constructor, "resolve", &[value])
        .map_err(|e| describe(&e))?
        .dyn_into::<Promise>()
        .map_err(|_| "not a promise".to_string())
}

/// A thrown value's message: the string itself, or its `message`, read without a throw.
fn describe(error: &JsValue) -> String {
    let text = error
        .as_string()
        .or_else(|| get(error, "message").ok().and_then(|m| m.as_string()));
    bundle_excerpt(&text.unwrap_or_else(|| "unknown error".to_string()))
}

/// `console.warn(text)`, caught (a page may replace `console`).
fn warn(text: &str) {
    if let Ok(console) = get(&js_sys::global(), "console") {
        let _ = call_method(&console, "warn", &[text.into()]);
    }
}

/// Reads an options object: `undefined`/`null` mean defaults, unknown keys are refused.
/// It crosses into Rust as one JSON string (`JSON.stringify`, which catches a throwing
/// getter). serde-wasm-bindgen 0.6 was measured again once calls were cheap: as fast here
/// (p50 0.59 ms both ways, 0.97 ms with `explain`), but its struct reader looks up only the
/// known keys (so `deny_unknown_fields` would no longer refuse `{ topK: 3 }`), reads
/// getters without a catch, and widens f32 results to f64 digits (0.30000001192092896).
fn parse_options<T: for<'de> Deserialize<'de> + Default>(
    value: &JsValue,
    what: &str,
) -> Result<T, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    if !value.is_object() || is_array(value).unwrap_or(true) {
        return Err(JsError::new(&format!("{what} must be an object")));
    }
    serde_json::from_str(&to_json(value, what)?).map_err(|e| {
        JsError::new(&format!(
            "invalid {what}: {}",
            bundle_excerpt(&e.to_string())
        ))
    })
}

/// `JSON.stringify(value)` (caught: a throwing getter, `toJSON`, Proxy trap or a cycle is
/// an `Error`), refused above [`MAX_ARGUMENT_CHARS`] before it is copied into the module.
fn to_json(value: &JsValue, what: &str) -> Result<String, JsError> {
    let unreadable = |reason: String| {
        JsError::new(&format!(
            "{what} cannot be read as JSON: {}",
            bundle_excerpt(&reason)
        ))
    };
    let json: JsValue = js_sys::JSON::stringify(value)
        .map_err(|e| unreadable(describe(&e)))?
        .into();
    // `undefined` when a toJSON says so.
    let text = json
        .dyn_ref::<JsString>()
        .ok_or_else(|| unreadable("it has no JSON form".to_string()))?;
    let length = text.length();
    if length > MAX_ARGUMENT_CHARS {
        return Err(JsError::new(&format!(
            "{what} is too large: {length} characters as JSON, the limit is {MAX_ARGUMENT_CHARS}"
        )));
    }
    json.as_string()
        .map(replace_lone_surrogates)
        .ok_or_else(|| unreadable("it has no JSON form".to_string()))
}

/// `JSON.stringify` writes a lone surrogate (a string that is not valid Unicode) as a
/// `\udXXX` escape, which serde cannot read into a `String`: each becomes `\ufffd`, as
/// wasm-bindgen does when it passes such a string. (Surrogate pairs are written raw, so an
/// escaped surrogate is always a lone one; `\\` escapes are skipped whole.)
fn replace_lone_surrogates(json: String) -> String {
    if !json.contains("\\ud") && !json.contains("\\uD") {
        return json;
    }
    let mut out = String::with_capacity(json.len());
    let mut rest = json.as_str();
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest.as_bytes()[at..];
        let lone = escape.len() >= 6
            && escape[1] == b'u'
            && matches!(escape[2], b'd' | b'D')
            && matches!(escape[3], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F');
        let taken = if lone { 6 } else { 2.min(escape.len()) };
        out.push_str(if lone {
            "\\ufffd"
        } else {
            &rest[at..at + taken]
        });
        rest = &rest[at + taken..];
    }
    out.push_str(rest);
    out
}

/// Checks the session and options and turns them into a [`Request`].
fn parse_request(session: JsValue, options: JsValue) -> Result<Request, JsValue> {
    let items = string_array(&session, "session")?;
    // JSON turns NaN and ±Infinity into null: look at k itself before that happens.
    if let Some(k) = Reflect::get(&options, &"k".into())
        .ok()
        .and_then(|k| k.as_f64())
        .filter(|k| !k.is_finite())
    {
        return Err(JsError::new(&format!("k must be a positive integer, not {k}")).into());
    }
    let options: RecommendOptions = parse_options(&options, "recommend options")?;
    let k = match options.k {
        None => inference::DEFAULT_K,
        Some(k) if k.fract() == 0.0 && (1.0..=MAX_K).contains(&k) => k as usize,
        Some(k) => {
            return Err(JsError::new(&format!(
                "k must be a positive integer up to {MAX_K}, not {k}"
            ))
            .into());
        }
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
    if is_array(value) != Ok(true) {
        return Err(JsError::new(&format!(
            "{what} must be an array of item id strings"
        )));
    }
    // Read the length first: a sparse array of 2³² − 1 holes would make JSON of gigabytes.
    match get(value, "length").ok().and_then(|n| n.as_f64()) {
        Some(n) if n <= MAX_IDS => {}
        Some(n) => {
            return Err(JsError::new(&format!(
                "{what} has {n} items, the limit is {MAX_IDS}"
            )));
        }
        None => return Err(JsError::new(&format!("{what} has no readable length"))),
    }
    let values: Vec<serde_json::Value> =
        serde_json::from_str(&to_json(value, what)?).map_err(|e| {
            JsError::new(&format!(
                "{what} is not an array of strings: {}",
                bundle_excerpt(&e.to_string())
            ))
        })?;
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| match value {
            serde_json::Value::String(id) => Ok(id),
            _ => Err(JsError::new(&format!("{what} item {i} is not a string"))),
        })
        .collect()
}

/// A Rust value as a JavaScript value, through one JSON string: one crossing and a
/// `JSON.parse` instead of one crossing per value.
fn from_json<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("result cannot be read as JSON"))
}

/// Milliseconds from `performance.now()` (falls back to `Date.now()`).
fn now() -> f64 {
    let performance =
        Reflect::get(&js_sys::global(), &"performance".into()).unwrap_or(JsValue::UNDEFINED);
    Reflect::get(&performance, &"now".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call0(&performance).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or_else(js_sys::Date::now)
}
