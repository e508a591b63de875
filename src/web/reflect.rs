//! Caught reads and calls on JavaScript values a page may have made hostile (a Proxy with
//! throwing traps, a getter that throws, a replaced global): every step goes through
//! `Reflect` and comes back as a `Result`, never as an exception thrown through the module.

use js_sys::{Function, JsString, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::catalogue::message_excerpt;

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws on a revoked Proxy: caught here (js-sys's binding is not).
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub(super) fn is_array(value: &JsValue) -> Result<bool, JsValue>;

    /// `JSON.parse` of a string that is already in JavaScript (js-sys's binding takes a
    /// Rust `&str`, a copy out of the module).
    #[wasm_bindgen(catch, js_namespace = JSON, js_name = parse)]
    pub(super) fn parse_json(text: &JsString) -> Result<JsValue, JsValue>;
}

/// `object[key]`, through `Reflect.get` (a throwing getter or a primitive is an `Err`).
pub(super) fn get(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &key.into())
}

/// `object[name](...arguments)`, every step caught.
pub(super) fn call_method(
    object: &JsValue,
    name: &str,
    arguments: &[JsValue],
) -> Result<JsValue, JsValue> {
    let method = get(object, name)?;
    let method: &Function = method
        .dyn_ref()
        .ok_or_else(|| JsValue::from_str(&format!("{name} is not a function")))?;
    Reflect::apply(method, object, &arguments.iter().collect())
}

/// `Promise.resolve(value)`, caught (a promise with a throwing `constructor` getter throws).
pub(super) fn promise(value: JsValue) -> Result<Promise, String> {
    let constructor = get(&js_sys::global(), "Promise").map_err(|e| describe(&e))?;
    call_method(&constructor, "resolve", &[value])
        .map_err(|e| describe(&e))?
        .dyn_into::<Promise>()
        .map_err(|_| "not a promise".to_string())
}

/// A thrown value's message: the string itself, or its `message`, read without a throw.
pub(super) fn describe(error: &JsValue) -> String {
    let text = error
        .as_string()
        .or_else(|| get(error, "message").ok().and_then(|m| m.as_string()));
    message_excerpt(&text.unwrap_or_else(|| "unknown error".to_string()))
}

/// `console.warn(text)`, caught (a page may replace `console`).
pub(super) fn warn(text: &str) {
    if let Ok(console) = get(&js_sys::global(), "console") {
        let _ = call_method(&console, "warn", &[text.into()]);
    }
}

/// Milliseconds from `performance.now()` (falls back to `Date.now()`).
pub(super) fn now() -> f64 {
    let performance =
        Reflect::get(&js_sys::global(), &"performance".into()).unwrap_or(JsValue::UNDEFINED);
    Reflect::get(&performance, &"now".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call0(&performance).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or_else(js_sys::Date::now)
}
