//! Arguments in: the options of `Recommender.load` and `recommend` as typed structs
//! (unknown keys refused), `k`, and the id lists (a session, `hasItems`).
//!
//! A page's object is never read here property by property: each argument crosses as one
//! JSON string, made in JavaScript by `JSON.stringify` (caught: a throwing getter, `toJSON`,
//! Proxy trap or a cycle is an `Error`; its size is checked before it is copied in).

use js_sys::JsString;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::reflect::{describe, get, is_array};
use crate::catalogue::message_excerpt;
use crate::inference::{self, Request};

/// Largest `k` accepted (more than any page can show).
const MAX_K: f64 = 10_000.0;
/// Most ids one id list (a session, the ids of `hasItems`) may hold.
const MAX_IDS: f64 = 10_000_000.0;
/// Longest an argument may be as JSON, in UTF-16 units (64 Mi): arguments are copied into
/// the module's memory, and a copy it cannot make would end the module.
const MAX_ARGUMENT_CHARS: u32 = 64 << 20;

/// Options of `Recommender.load`.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct LoadOptions {
    /// `'auto'` (WebGPU, else the CPU), `'webgpu'` or `'cpu'`.
    pub backend: Option<String>,
}

/// Options of `recommend`; `k` is checked by hand for a clearer message.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct RecommendOptions {
    /// How many items to recommend (default [`inference::DEFAULT_K`]).
    k: Option<f64>,
    /// Whether the session's own items are left out (the default of [`Request`]).
    exclude_seen: Option<bool>,
    /// Ids never recommended.
    exclude: Option<Vec<String>>,
    /// The only ids that may be recommended.
    include: Option<Vec<String>>,
    /// Whether to explain each item and return the attention view.
    explain: Option<bool>,
}

/// Reads an options object: `undefined`/`null` mean defaults, unknown keys are refused.
/// It crosses into Rust as one JSON string (`JSON.stringify`, which catches a throwing
/// getter). serde-wasm-bindgen 0.6 was measured again once calls were cheap: as fast here
/// (p50 0.59 ms both ways, 0.97 ms with `explain`), but its struct reader looks up only the
/// known keys (so `deny_unknown_fields` would no longer refuse `{ topK: 3 }`), reads
/// getters without a catch, and widens f32 results to f64 digits (0.30000001192092896).
pub(super) fn parse_options<T: for<'de> Deserialize<'de> + Default>(
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
            message_excerpt(&e.to_string())
        ))
    })
}

/// `JSON.stringify(value)` (caught: a throwing getter, `toJSON`, Proxy trap or a cycle is
/// an `Error`), refused above [`MAX_ARGUMENT_CHARS`] before it is copied into the module.
fn to_json(value: &JsValue, what: &str) -> Result<String, JsError> {
    let json: JsValue = js_sys::JSON::stringify(value)
        .map_err(|e| unreadable(what, describe(&e)))?
        .into();
    // `undefined` when a toJSON says so.
    let text = json
        .dyn_ref::<JsString>()
        .ok_or_else(|| unreadable(what, "it has no JSON form".to_string()))?;
    let length = text.length();
    if length > MAX_ARGUMENT_CHARS {
        return Err(JsError::new(&format!(
            "{what} is too large: {length} characters as JSON, the limit is {MAX_ARGUMENT_CHARS}"
        )));
    }
    json.as_string()
        .map(replace_lone_surrogates)
        .ok_or_else(|| unreadable(what, "it has no JSON form".to_string()))
}

/// The error for an argument that `JSON.stringify` cannot write, and why.
fn unreadable(what: &str, reason: String) -> JsError {
    JsError::new(&format!(
        "{what} cannot be read as JSON: {}",
        message_excerpt(&reason)
    ))
}

/// Checks the session and options and turns them into a [`Request`].
pub(super) fn parse_request(session: JsValue, options: JsValue) -> Result<Request, JsValue> {
    let items = string_array(&session, "session")?;
    // JSON turns NaN and ±Infinity into null: look at k itself before that happens.
    if let Some(k) = get(&options, "k")
        .ok()
        .and_then(|k| k.as_f64())
        .filter(|k| !k.is_finite())
    {
        return Err(JsError::new(&format!("k must be a positive integer, not {k}")).into());
    }
    let options: RecommendOptions = parse_options(&options, "recommend options")?;
    Ok(Request {
        session: items,
        k: Some(parse_k(options.k)?),
        exclude_seen: options.exclude_seen,
        exclude: options.exclude.unwrap_or_default(),
        include: options.include,
        explain: options.explain.unwrap_or(false),
    })
}

/// `k` as a count: [`inference::DEFAULT_K`] when not given, else an integer in 1..=[`MAX_K`].
fn parse_k(k: Option<f64>) -> Result<usize, JsError> {
    match k {
        None => Ok(inference::DEFAULT_K),
        Some(k) if k.fract() == 0.0 && (1.0..=MAX_K).contains(&k) => Ok(k as usize),
        Some(k) => Err(JsError::new(&format!(
            "k must be a positive integer up to {MAX_K}, not {k}"
        ))),
    }
}

/// An array of strings, read in one crossing; `what` names it in errors.
pub(super) fn string_array(value: &JsValue, what: &str) -> Result<Vec<String>, JsError> {
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
                message_excerpt(&e.to_string())
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
