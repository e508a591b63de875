//! Which device runs the model: the `backend` option (`'auto'`, `'webgpu'`, `'cpu'`), the
//! page's one WebGPU device (set up once, shared by every recommender), and the adapter
//! probe that keeps `'auto'` off a browser without WebGPU or with only a software adapter.

#[cfg(feature = "webgpu")]
use std::cell::RefCell;

use burn::tensor::Device;
#[cfg(feature = "webgpu")]
use js_sys::Promise;
use wasm_bindgen::prelude::*;
#[cfg(feature = "webgpu")]
use wasm_bindgen_futures::{JsFuture, future_to_promise};

#[cfg(feature = "webgpu")]
use super::reflect::get;
use crate::catalogue::excerpt;

/// The device a model runs on, as `Recommender.load` chose it.
pub(super) struct Chosen {
    /// Where the tensors live.
    pub device: Device,
    /// `'webgpu'` or `'cpu'`, as the `backend` getter reports it.
    pub backend: &'static str,
    /// Why `'auto'` fell back to the CPU.
    pub fallback_reason: Option<String>,
}

impl Chosen {
    /// burn's CPU backend, with the reason `'auto'` took it (if it did).
    fn cpu(fallback_reason: Option<String>) -> Self {
        Chosen {
            device: Device::flex(),
            backend: "cpu",
            fallback_reason,
        }
    }
}

/// The device for the `backend` option (`None` is `'auto'`): `'webgpu'` fails when WebGPU is
/// not available, `'auto'` falls back to the CPU and says why.
pub(super) async fn choose(backend: Option<&str>) -> Result<Chosen, JsError> {
    match backend.unwrap_or("auto") {
        "cpu" => Ok(Chosen::cpu(None)),
        "webgpu" => Ok(Chosen {
            device: webgpu()
                .await
                .map_err(|e| JsError::new(&format!("WebGPU is not available: {e}")))?,
            backend: "webgpu",
            fallback_reason: None,
        }),
        "auto" => Ok(auto().await),
        other => Err(JsError::new(&format!(
            "backend must be 'auto', 'webgpu' or 'cpu', not {}",
            excerpt(other)
        ))),
    }
}

/// `'auto'` in the CPU-only build: the CPU, saying why.
#[cfg(not(feature = "webgpu"))]
async fn auto() -> Chosen {
    Chosen::cpu(webgpu().await.err())
}

/// `'auto'`: WebGPU on a real GPU, else the CPU (on a software adapter the wasm CPU path is
/// faster), saying why.
#[cfg(feature = "webgpu")]
async fn auto() -> Chosen {
    match probe_adapter().await {
        Adapter::Missing(reason) => Chosen::cpu(Some(reason)),
        Adapter::Software(name) => Chosen::cpu(Some(format!(
            "the WebGPU adapter is a software fallback ({name}): the CPU path is faster"
        ))),
        Adapter::Hardware => match webgpu().await {
            Ok(device) => Chosen {
                device,
                backend: "webgpu",
                fallback_reason: None,
            },
            Err(reason) => Chosen::cpu(Some(reason)),
        },
    }
}

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
    Err(
        "this is the CPU-only build of awrsr, which has no WebGPU backend (the awrsr package's \
         WebGPU build is webgpu/awrsr.js)"
            .to_string(),
    )
}

/// What `navigator.gpu` offers this page.
#[cfg(feature = "webgpu")]
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
#[cfg(feature = "webgpu")]
async fn probe_adapter() -> Adapter {
    let missing = || Adapter::Missing("this browser offers no WebGPU adapter".to_string());
    let Some(adapter) = request_adapter().await else {
        return missing();
    };
    let info = property(&adapter, "info");
    let flagged = property(&info, "isFallbackAdapter").as_bool() == Some(true)
        || property(&adapter, "isFallbackAdapter").as_bool() == Some(true);
    let described = describe_adapter(&info);
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

/// `await navigator.gpu.requestAdapter()`, or `None` where there is no adapter (or any step
/// throws).
#[cfg(feature = "webgpu")]
async fn request_adapter() -> Option<JsValue> {
    let gpu = property(&property(&js_sys::global(), "navigator"), "gpu");
    if gpu.is_undefined() || gpu.is_null() {
        return None;
    }
    let request = property(&gpu, "requestAdapter")
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let promise = request
        .call0(&gpu)
        .and_then(|p| p.dyn_into::<Promise>())
        .ok()?;
    match JsFuture::from(promise).await {
        Ok(adapter) if !adapter.is_null() && !adapter.is_undefined() => Some(adapter),
        _ => None,
    }
}

/// The adapter info's vendor, architecture, device and description, those that are set.
#[cfg(feature = "webgpu")]
fn describe_adapter(info: &JsValue) -> String {
    let text = |key: &str| property(info, key).as_string().unwrap_or_default();
    [
        text("vendor"),
        text("architecture"),
        text("device"),
        text("description"),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(" ")
}

/// `object[key]`, `undefined` where reading it throws.
#[cfg(feature = "webgpu")]
fn property(object: &JsValue, key: &str) -> JsValue {
    get(object, key).unwrap_or(JsValue::UNDEFINED)
}
