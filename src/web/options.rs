//! Arguments in: the options of `Recommender.load` and `recommend` as typed structs (read by
//! serde-wasm-bindgen, unknown keys refused), `k`, and the id lists (a session, `hasItems`).
//!
//! A page's object is never read here property by property. An options object crosses as a
//! snapshot made in JavaScript by `JSON.stringify` then `JSON.parse` (caught: a throwing
//! getter, `toJSON`, Proxy trap or a cycle is an `Error`; its size is checked in between),
//! so serde reads plain data; an id list crosses as one JSON string (one copy for a million
//! ids instead of a million crossings).

use js_sys::{Array, JsString, Object};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::value::MapDeserializer;
use wasm_bindgen::prelude::*;

use super::reflect::{describe, get, is_array, parse_json};
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

/// Reads an options object: `undefined`/`null` mean defaults; anything but an object, and
/// unknown keys, are refused.
pub(super) fn parse_options<T: DeserializeOwned + Default>(
    value: &JsValue,
    what: &str,
) -> Result<T, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(T::default());
    }
    if !value.is_object() || is_array(value).unwrap_or(true) {
        return Err(JsError::new(&format!("{what} must be an object")));
    }
    let snapshot =
        parse_json(&json_text(value, what)?).map_err(|e| unreadable(what, describe(&e)))?;
    read_snapshot(snapshot)
        .map_err(|reason| JsError::new(&format!("invalid {what}: {}", message_excerpt(&reason))))
}

/// A snapshot as `T`: by serde-wasm-bindgen into JSON's data model, then by serde_json's
/// reader, whose messages name a wrong value as JSON does ("integer `5`", "null", "map").
/// A plain object is read as its entries in the order written: serde-wasm-bindgen's own
/// struct reader looks up only the fields it knows (so `deny_unknown_fields` would not see
/// `{ topK: 3 }`), and of several wrong keys the first written is the one named.
fn read_snapshot<T: DeserializeOwned>(snapshot: JsValue) -> Result<T, String> {
    let message = |e: serde_wasm_bindgen::Error| describe(&JsValue::from(e));
    if snapshot.is_object() && !Array::is_array(&snapshot) {
        let entries: Vec<(String, serde_json::Value)> =
            serde_wasm_bindgen::from_value(Object::entries(snapshot.unchecked_ref()).into())
                .map_err(message)?;
        let map = MapDeserializer::<_, serde_json::Error>::new(entries.into_iter());
        T::deserialize(map).map_err(|e| e.to_string())
    } else {
        let value: serde_json::Value = serde_wasm_bindgen::from_value(snapshot).map_err(message)?;
        T::deserialize(value).map_err(|e| e.to_string())
    }
}

/// `JSON.stringify(value)`, left in JavaScript (caught: a throwing getter, `toJSON`, Proxy
/// trap or a cycle is an `Error`), refused above [`MAX_ARGUMENT_CHARS`].
fn json_text(value: &JsValue, what: &str) -> Result<JsString, JsError> {
    let json: JsValue = js_sys::JSON::stringify(value)
        .map_err(|e| unreadable(what, describe(&e)))?
        .into();
    // `undefined` when a toJSON says so.
    let text = json
        .dyn_into::<JsString>()
        .map_err(|_| unreadable(what, "it has no JSON form".to_string()))?;
    let length = text.length();
    if length > MAX_ARGUMENT_CHARS {
        return Err(JsError::new(&format!(
            "{what} is too large: {length} characters as JSON, the limit is {MAX_ARGUMENT_CHARS}"
        )));
    }
    Ok(text)
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
    let json = json_text(value, what)?
        .as_string()
        .map(replace_lone_surrogates)
        .ok_or_else(|| unreadable(what, "it has no JSON form".to_string()))?;
    let values: Vec<serde_json::Value> = serde_json::from_str(&json).map_err(|e| {
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
