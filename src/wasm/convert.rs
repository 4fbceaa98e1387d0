//! Every conversion between JS values and Rust values, and every error thrown to JS.
//!
//! Errors: built-in `TypeError` / `RangeError` are thrown as such. tidepool's own errors
//! are thrown as `Error`s whose `name` is the JS class (`PayloadError`, ...) and whose own
//! properties carry `code` and the class's fields; `js/errors.js` lifts them into instances
//! of the exported classes.

use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;

/// Largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Plain JS data from a Rust value: objects (not Maps), `null` for `None`.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| type_error(&error.to_string()))
}

/// A Rust value from JS data; `what` names the argument in the error message.
pub fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|error| type_error(&format!("{what}: {error}")))
}

/// An optional count: `undefined` or `null` gives `None`; otherwise a non-negative
/// integer that fits in `u32`, else a `RangeError` (a non-number is a `TypeError`).
pub fn optional_count(value: &JsValue, name: &str) -> Result<Option<usize>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let number = value.as_f64().ok_or_else(|| {
        type_error(&format!(
            "{name} must be a non-negative integer, got {}",
            describe(value)
        ))
    })?;
    if number.fract() != 0.0 || !(0.0..=u32::MAX as f64).contains(&number) {
        return Err(range_error(&format!(
            "{name} must be a non-negative integer, got {}",
            describe(value)
        )));
    }
    Ok(Some(number as usize))
}

/// A `u64` counter as a JS number (exact up to 2^53).
pub fn count_to_js(count: u64) -> f64 {
    (count as f64).min(MAX_SAFE_INTEGER)
}

pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

pub fn range_error(message: &str) -> JsValue {
    js_sys::RangeError::new(message).into()
}

/// One of tidepool's own errors, to be lifted by `js/errors.js` into the class `name`.
pub fn tidepool_error(name: &str, code: &str, message: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(name);
    let set = |key: &str, value: &JsValue| {
        // Setting a property on a fresh Error object cannot fail.
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str(key), value);
    };
    set("code", &JsValue::from_str(code));
    for (key, value) in fields {
        set(key, value);
    }
    error.into()
}

/// A short description of a JS value for error messages.
pub fn describe(value: &JsValue) -> String {
    if let Some(number) = value.as_f64() {
        return format!("{number}");
    }
    if let Some(text) = value.as_string() {
        return if text.chars().count() > 40 {
            format!("a string of {} characters", text.chars().count())
        } else {
            format!("{text:?}")
        };
    }
    if value.is_null() {
        return "null".into();
    }
    if value.is_undefined() {
        return "undefined".into();
    }
    value.js_typeof().as_string().unwrap_or_default()
}
