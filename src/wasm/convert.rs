//! Every conversion between JS values and Rust values, and every error thrown to JS.
//!
//! Errors: built-in `TypeError` / `RangeError` are thrown as such. tidepool's own errors
//! are thrown as `Error`s whose `name` is the JS class (`PayloadError`, ...) and whose own
//! properties carry `code` and the class's fields; `js/errors.js` lifts them into instances
//! of the exported classes.

use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Plain JS data from a Rust value: objects (not Maps), `null` for `None`.
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| type_error(&error.to_string()))
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
pub fn tidepool_error(
    name: &str,
    code: &str,
    message: &str,
    fields: &[(&str, JsValue)],
) -> JsValue {
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
        return match number {
            n if n == f64::INFINITY => "Infinity".into(),
            n if n == f64::NEG_INFINITY => "-Infinity".into(),
            n => format!("{n}"),
        };
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

/// An optional integer option such as `since` or `limit`: `undefined` or `null` gives `None`;
/// otherwise it must be a safe integer, else a `TypeError` naming `name`.
pub fn optional_integer(value: &JsValue, name: &str) -> Result<Option<i64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(number) if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER => {
            Ok(Some(number as i64))
        }
        _ => Err(type_error(&format!(
            "{name} must be an integer, got {}",
            describe(value)
        ))),
    }
}

/// An optional number option: `undefined` or `null` gives `None`; a non-number is a
/// `TypeError`. Range checks are the caller's (the core replaces bad bounds by defaults).
pub fn optional_number(value: &JsValue, name: &str) -> Result<Option<f64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    value
        .as_f64()
        .map(Some)
        .ok_or_else(|| type_error(&format!("{name} must be a number, got {}", describe(value))))
}

/// A required string argument; anything else is a `TypeError` naming `name`.
pub fn string(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| type_error(&format!("{name} must be a string, got {}", describe(value))))
}

/// Objects nested deeper than this are rejected (deep recursion would exhaust the wasm stack).
const MAX_JSON_DEPTH: usize = 128;

/// JSON data from a JS value, copied (later mutation of the JS value changes nothing) and
/// validated in one pass, with the rules of `JSON.stringify` made strict.
///
/// Accepted: plain objects (prototype `Object.prototype` of any realm, or `null`), arrays,
/// strings, finite numbers, booleans, `null`; an object property whose value is `undefined`
/// is omitted, as `JSON.stringify` does. Anything else is a [`NotJson`] naming where it is:
/// cycles, functions, BigInt, symbols, NaN and infinities, `undefined` elsewhere, non-plain
/// objects (Date, Map, class instances), nesting deeper than 128. Symbol-keyed and
/// non-enumerable properties are ignored, as by JSON. Whole numbers in the safe range are
/// stored as integers, so JSON output prints `1`, not `1.0`.
pub fn json_from_js(value: &JsValue) -> Result<serde_json::Value, NotJson> {
    json_value(value, String::new(), &mut Vec::new())
}

/// A JSON-compatible *plain object* (see [`json_from_js`]); `name` prefixes the path in the
/// `TypeError`, e.g. `payload.a.back is a circular reference`.
pub fn json_object(value: &JsValue, name: &str) -> Result<serde_json::Value, JsValue> {
    if !is_plain_object(value) {
        return Err(type_error(&format!(
            "{name} must be a plain object, got {}",
            describe_kind(value)
        )));
    }
    json_from_js(value).map_err(|not_json| {
        let separator = if not_json.path.starts_with('[') {
            ""
        } else {
            "."
        };
        type_error(&format!(
            "{name}{separator}{} is {}",
            not_json.path, not_json.problem
        ))
    })
}

/// A JS value that is not JSON data: at `path` (`items[2].name`; empty for the value itself)
/// stands `problem` (`a function`, `NaN`, `a circular reference`, ...).
pub struct NotJson {
    pub path: String,
    pub problem: String,
}

fn json_value(
    value: &JsValue,
    path: String,
    ancestors: &mut Vec<JsValue>,
) -> Result<serde_json::Value, NotJson> {
    use serde_json::Value;
    let fail = |path: String, problem: String| Err(NotJson { path, problem });
    if value.is_null() {
        return Ok(Value::Null);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Some(number) = value.as_f64() {
        return match json_number(number) {
            Some(number) => Ok(number),
            None => fail(path, describe(value)),
        };
    }
    if let Some(text) = value.as_string() {
        return Ok(Value::String(text));
    }
    let is_array = js_sys::Array::is_array(value);
    if !is_array && !is_plain_object(value) {
        return fail(path, describe_kind(value));
    }
    if ancestors.iter().any(|ancestor| ancestor == value) {
        return fail(path, "a circular reference".into());
    }
    if ancestors.len() >= MAX_JSON_DEPTH {
        return fail(path, format!("nested deeper than {MAX_JSON_DEPTH} levels"));
    }
    ancestors.push(value.clone());
    let result = if is_array {
        let array = js_sys::Array::from(value);
        let mut items = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if item.is_undefined() {
                return fail(item_path, "undefined".into());
            }
            items.push(json_value(&item, item_path, ancestors)?);
        }
        Value::Array(items)
    } else {
        let object: &js_sys::Object = value.unchecked_ref();
        let mut map = serde_json::Map::new();
        for key in js_sys::Object::keys(object).iter() {
            let key = key.as_string().unwrap_or_default();
            let item = js_sys::Reflect::get(value, &JsValue::from_str(&key)).unwrap_or_default();
            if item.is_undefined() {
                continue;
            }
            let item_path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            map.insert(key, json_value(&item, item_path, ancestors)?);
        }
        Value::Object(map)
    };
    ancestors.pop();
    Ok(result)
}

/// Integers within the safe range are stored as integers, so JSON output prints `1`, not `1.0`.
fn json_number(number: f64) -> Option<serde_json::Value> {
    if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER {
        Some(serde_json::Value::from(number as i64))
    } else {
        serde_json::Number::from_f64(number).map(serde_json::Value::Number)
    }
}

/// A plain object: its prototype is `null` or a prototype whose own prototype is `null`
/// (`Object.prototype` of any realm). Arrays, Dates, Maps and class instances are not.
fn is_plain_object(value: &JsValue) -> bool {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return false;
    }
    let prototype = js_sys::Object::get_prototype_of(value);
    prototype.is_null() || js_sys::Object::get_prototype_of(&prototype).is_null()
}

/// What kind of value this is, for messages about non-JSON values.
fn describe_kind(value: &JsValue) -> String {
    if value.is_function() {
        "a function".into()
    } else if value.is_bigint() {
        "a BigInt".into()
    } else if value.is_symbol() {
        "a symbol".into()
    } else if js_sys::Array::is_array(value) {
        "an array".into()
    } else if value.is_object() {
        let constructor = js_sys::Reflect::get(value, &JsValue::from_str("constructor"))
            .ok()
            .and_then(|c| js_sys::Reflect::get(&c, &JsValue::from_str("name")).ok())
            .and_then(|n| n.as_string())
            .filter(|n| !n.is_empty());
        match constructor {
            Some(name) => format!("a {name} object"),
            None => "a non-plain object".into(),
        }
    } else {
        describe(value)
    }
}
