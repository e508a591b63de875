//! The bundle's bytes, from a `Uint8Array`, an `ArrayBuffer` or a URL to fetch, copied into
//! the module with guards: every property is read through `Reflect` and every call made
//! through `Reflect.apply`, so that a look-alike object (a Proxy,
//! `Object.create(Uint8Array.prototype)`, a subclass with throwing getters) is an `Error`,
//! never an exception thrown through the module; and a buffer too large for the module, or
//! not as long as its header declares, is refused before its bulk is copied.

use js_sys::{Array, ArrayBuffer, Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::reflect::{call_method, describe, get, promise};
use crate::bundle::{self, MAX_HEADER_BYTES};
use crate::catalogue::message_excerpt;

/// Largest bundle the browser build loads (512 MiB; the format itself allows
/// [`bundle::MAX_BUNDLE_BYTES`]): loading holds a few copies of it in the module's memory,
/// which cannot grow past 4 GiB (and a failed allocation would end the module).
const MAX_BROWSER_BUNDLE_BYTES: usize = 512 << 20;

/// Bytes of the bundle from a `Uint8Array`, an `ArrayBuffer`, or a URL to fetch.
pub(super) async fn bundle_bytes(source: JsValue) -> Result<Vec<u8>, JsError> {
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
    read_bytes(&uint8_view(&fetch_body(&url).await?)?)
}

/// The body of `fetch(url)` as an `ArrayBuffer`; errors name the URL.
async fn fetch_body(url: &str) -> Result<JsValue, JsError> {
    let shown = message_excerpt(url);
    let buffer = fetch_buffer(url)
        .await
        .map_err(|e| JsError::new(&format!("cannot load model from {shown}: {e}")))?;
    if !buffer.is_instance_of::<ArrayBuffer>() {
        return Err(JsError::new(&format!(
            "cannot load model from {shown}: the response body is not an ArrayBuffer"
        )));
    }
    Ok(buffer)
}

/// `new Uint8Array(buffer)`, caught (a detached or look-alike buffer throws).
fn uint8_view(buffer: &JsValue) -> Result<JsValue, JsError> {
    let constructor: Function = get(&js_sys::global(), "Uint8Array")
        .map_err(unreadable)?
        .unchecked_into();
    Reflect::construct(&constructor, &Array::of1(buffer)).map_err(unreadable)
}

/// The error for bytes that cannot be read, with what the browser said.
fn unreadable(error: JsValue) -> JsError {
    JsError::new(&format!(
        "the model bytes cannot be read: {}",
        describe(&error)
    ))
}

/// The message for a model above [`MAX_BROWSER_BUNDLE_BYTES`].
fn too_large(bytes: f64) -> String {
    format!(
        "the model is {bytes} bytes, larger than the {} MiB the browser build loads",
        MAX_BROWSER_BUNDLE_BYTES >> 20
    )
}

/// Copies a Uint8Array (a real one, or whatever passed for one) into the module. Its length
/// is checked against [`MAX_BROWSER_BUNDLE_BYTES`] and against the length its safetensors
/// header declares ([`bundle::check_declared_len`]) before the bulk is copied: a huge or
/// mismatched buffer is refused without a copy.
fn read_bytes(view: &JsValue) -> Result<Vec<u8>, JsError> {
    let length = byte_length(view)?;
    let head = head_length(view, length)?;
    bundle::check_declared_len(&copy_range(view, 0, head)?, length as u64)
        .map_err(|e| JsError::new(&e.to_string()))?;
    copy_range(view, 0, length)
}

/// The view's `byteLength`: at least 1 and at most [`MAX_BROWSER_BUNDLE_BYTES`].
fn byte_length(view: &JsValue) -> Result<usize, JsError> {
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
    if length > MAX_BROWSER_BUNDLE_BYTES as f64 {
        return Err(JsError::new(&too_large(length)));
    }
    Ok(length as usize)
}

/// How many leading bytes of a `length`-byte bundle hold its 8-byte length and its header
/// (only the 8 bytes when the header length is past [`MAX_HEADER_BYTES`], which
/// [`bundle::check_declared_len`] then refuses).
fn head_length(view: &JsValue, length: usize) -> Result<usize, JsError> {
    if length < 8 {
        return Ok(length);
    }
    let prefix = copy_range(view, 0, 8)?;
    let header = u64::from_le_bytes(prefix.try_into().unwrap_or_default());
    Ok(match header > MAX_HEADER_BYTES {
        true => 8,
        false => (8 + header).min(length as u64) as usize,
    })
}

/// Copies `length` bytes from `start` of a Uint8Array into a new vector, with
/// `Uint8Array.prototype.set` called through `Reflect.apply` (a look-alike source, one
/// shorter than it claims or a detached one is an `Error`; a failed allocation too).
fn copy_range(view: &JsValue, start: usize, length: usize) -> Result<Vec<u8>, JsError> {
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
/// above [`MAX_BROWSER_BUNDLE_BYTES`]. Guarded throughout: a page may replace `fetch`.
async fn fetch_buffer(url: &str) -> Result<JsValue, String> {
    let text = |e: JsValue| describe(&e);
    let response = JsFuture::from(promise(
        call_method(&js_sys::global(), "fetch", &[url.into()]).map_err(text)?,
    )?)
    .await
    .map_err(text)?;
    check_response(&response)?;
    JsFuture::from(promise(
        call_method(&response, "arrayBuffer", &[]).map_err(text)?,
    )?)
    .await
    .map_err(text)
}

/// A response must be `ok`, and must not declare a length above
/// [`MAX_BROWSER_BUNDLE_BYTES`].
fn check_response(response: &JsValue) -> Result<(), String> {
    if get(response, "ok").ok().and_then(|ok| ok.as_bool()) != Some(true) {
        let status = get(response, "status")
            .ok()
            .and_then(|s| s.as_f64())
            .unwrap_or(0.0);
        let status_text = get(response, "statusText")
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default();
        return Err(message_excerpt(&format!("HTTP {status} {status_text}")));
    }
    let headers = get(response, "headers").map_err(|e| describe(&e))?;
    let declared = call_method(&headers, "get", &["content-length".into()])
        .ok()
        .and_then(|n| n.as_string());
    match declared
        .and_then(|n| n.trim().parse::<f64>().ok())
        .filter(|&n| n > MAX_BROWSER_BUNDLE_BYTES as f64)
    {
        Some(bytes) => Err(too_large(bytes)),
        None => Ok(()),
    }
}
