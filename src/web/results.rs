//! Answers out: Rust values as plain JavaScript values (objects, arrays, strings, numbers).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::inference::Recommendations;

/// What `recommend` resolves to.
#[derive(Serialize)]
pub(super) struct RecommendOutput {
    /// The items, the unknown ids and, with `explain`, the attention view.
    #[serde(flatten)]
    pub result: Recommendations,
    /// `'webgpu'` or `'cpu'`.
    pub backend: &'static str,
    /// Milliseconds the call took in the module.
    pub ms: f64,
}

/// A Rust value as a JavaScript value, through one JSON string: one crossing and a
/// `JSON.parse` instead of one crossing per value.
pub(super) fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("result cannot be read as JSON"))
}
