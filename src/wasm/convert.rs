//! Every conversion between JS values and Rust values, and every error thrown to JS.
//!
//! Errors: built-in `TypeError` / `RangeError` are thrown as such. tidepool's own errors
//! are thrown as `Error`s whose `name` is the JS class (`PayloadError`, ...) and whose own
//! properties carry `code` and the class's fields; `js/errors.js` lifts them into instances
//! of the exported classes.

use std::fmt::Write;

use crate::core::activity::{Envelope, FieldValue};
use crate::core::describe;
use crate::core::json;
use crate::core::number::{safe_integer, MAX_SAFE_INTEGER};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Plain JS data from a Rust value: objects (not Maps), `null` for `None`, byte buffers as
/// arrays of numbers. Through serde_json's text and one `JSON.parse`: measured against
/// serde-wasm-bindgen building the objects, it is as fast for small values and faster for
/// the large ones that cross whole (snapshots 1.56x, log reads of 100 events 1.1-1.2x;
/// `bench/experiments/boundary_conversion.mjs`, figures in docs/DEVELOPMENT.md).
///
/// Numbers above 2^53 lose precision, as in any JS number; non-finite floats become `null`
/// (the types sent here hold none: clocks and JSON data are checked finite on the way in).
pub fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    // Text serde_json wrote is valid JSON, so `JSON.parse` cannot fail.
    js_sys::JSON::parse(&json::text(value)).unwrap_or_default()
}

/// JSON text as JSON data, read by JS's `JSON.parse` (so the module carries no JSON parser)
/// and then checked like any JS value ([`json_from_js`]: nesting deeper than 128 levels is
/// refused, as serde_json refuses it). `Err` says why the text is not JSON data.
pub fn json_from_text(text: &str) -> Result<serde_json::Value, String> {
    let value = js_sys::JSON::parse(text).map_err(|error| error_message(&error))?;
    json_from_js(&value).map_err(|not_json| {
        let at = if not_json.path.is_empty() {
            "the value"
        } else {
            &not_json.path
        };
        format!("{at} is {}", not_json.problem)
    })
}

/// The message of a thrown JS value: an `Error`'s `message`, else the value described.
pub fn error_message(error: &JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .unwrap_or_else(|| describe(error))
}

/// An envelope as a plain object: JSON fields as plain data, byte fields as fresh
/// `Uint8Array`s (copies, never views of wasm memory).
/// Properties keep the envelope's field order.
pub fn envelope_to_js(envelope: &Envelope) -> js_sys::Object {
    // One `JSON.parse` for the whole envelope (one per field cost ~35% more per envelope),
    // with `null` holding each byte field's place until its `Uint8Array` is set.
    let mut text = String::from("{");
    for (name, value) in envelope.fields() {
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(&json::quoted(name));
        text.push(':');
        match value {
            FieldValue::Json(value) => text.push_str(&json::text(value)),
            FieldValue::Bytes(_) => text.push_str("null"),
        }
    }
    text.push('}');
    // Text built from serde_json's output is valid JSON, so `JSON.parse` cannot fail.
    let object: js_sys::Object = js_sys::JSON::parse(&text)
        .unwrap_or_default()
        .unchecked_into();
    for (name, value) in envelope.fields() {
        if let FieldValue::Bytes(bytes) = value {
            let bytes = js_sys::Uint8Array::from(bytes.as_slice());
            // The `null` placeholder made `name` an own data property, so this sets data even
            // for a field named `__proto__` (it never reaches the prototype setter). Setting
            // a property on a plain object cannot fail.
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(name), &bytes);
        }
    }
    object
}

/// An optional count: `undefined` or `null` gives `None`; otherwise a non-negative
/// integer that fits in `u32`, else a `RangeError` (a non-number is a `TypeError`).
pub fn optional_count(value: &JsValue, name: &str) -> Result<Option<usize>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let message = || must_be(name, "a non-negative integer", value);
    let number = value.as_f64().ok_or_else(|| type_error(&message()))?;
    if number.fract() != 0.0 || !(0.0..=u32::MAX as f64).contains(&number) {
        return Err(range_error(&message()));
    }
    Ok(Some(number as usize))
}

/// A `u64` counter as a JS number (exact up to 2^53).
pub fn count_to_js(count: u64) -> f64 {
    (count as f64).min(MAX_SAFE_INTEGER as f64)
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

/// `<name> must be <what>, got <value described>`.
fn must_be(name: &str, what: &str, value: &JsValue) -> String {
    format!("{name} must be {what}, got {}", describe(value))
}

/// A JS value for error messages, as [`describe::describe`] writes JSON values: numbers,
/// booleans and short strings shown, anything else by its [`kind`]. Not for values that
/// may be secrets (use [`kind`]).
pub fn describe(value: &JsValue) -> String {
    if let Some(number) = value.as_f64() {
        describe::number(number)
    } else if let Some(text) = value.as_string() {
        describe::string(&text)
    } else if let Some(flag) = value.as_bool() {
        flag.to_string()
    } else {
        kind(value)
    }
}

/// Which error a number that is not a safe integer gets (the issues differ per API).
pub enum NonInteger {
    TypeError,
    RangeError,
}

/// An optional integer: `undefined` or `null` gives `None`; a non-number is a `TypeError`;
/// a number that is not a safe integer is the error `non_integer` names.
pub fn optional_integer(
    value: &JsValue,
    name: &str,
    non_integer: NonInteger,
) -> Result<Option<i64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let message = || must_be(name, "an integer", value);
    let number = value.as_f64().ok_or_else(|| type_error(&message()))?;
    if let Some(integer) = safe_integer(number) {
        return Ok(Some(integer));
    }
    if number.fract() == 0.0 {
        // Whole, but beyond what a JS number holds exactly: say which limit.
        return Err(range_error(&must_be(
            name,
            "an integer within ±Number.MAX_SAFE_INTEGER (9007199254740991)",
            value,
        )));
    }
    Err(match non_integer {
        NonInteger::TypeError => type_error(&message()),
        NonInteger::RangeError => range_error(&message()),
    })
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
        .ok_or_else(|| type_error(&must_be(name, "a number", value)))
}

/// A required string argument, else a `TypeError` naming `name` and the kind of value given
/// (never the value: arguments may be secrets such as tokens).
pub fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value
        .as_string()
        .ok_or_else(|| type_error(&format!("{name} must be a string, got {}", kind(value))))
}

/// The bytes of a `Uint8Array` (copied) or the UTF-8 bytes of a string; `None` otherwise.
pub fn bytes_or_text(value: &JsValue) -> Option<Vec<u8>> {
    if let Some(text) = value.as_string() {
        return Some(text.into_bytes());
    }
    value
        .dyn_ref::<js_sys::Uint8Array>()
        .map(js_sys::Uint8Array::to_vec)
}

/// Objects nested deeper than this are rejected (deep recursion would exhaust the wasm stack).
const MAX_JSON_DEPTH: usize = 128;
/// The problem of a value nested deeper than [`MAX_JSON_DEPTH`].
const NESTED_TOO_DEEP: &str = "nested deeper than 128 levels";

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
    json_value(value, &mut String::new(), &mut Vec::new())
}

/// A JSON-compatible *plain object* (see [`json_from_js`]); `name` prefixes the path in the
/// `TypeError`, e.g. `payload.a.back is a circular reference`.
pub fn json_object(value: &JsValue, name: &str) -> Result<serde_json::Value, JsValue> {
    if !is_plain_object(value) {
        return Err(type_error(&format!(
            "{name} must be a plain object, got {}",
            kind(value)
        )));
    }
    json_from_js(value).map_err(|not_json| not_json.into_type_error(name))
}

/// A JS value that is not JSON data: at `path` (`items[2].name`; empty for the value itself)
/// stands `problem` (`a function`, `NaN`, `a circular reference`, ...).
pub struct NotJson {
    pub path: String,
    pub problem: String,
}

impl NotJson {
    /// A `TypeError` about the argument `what`: `envelope.meta.f is a function`.
    pub fn into_type_error(self, what: &str) -> JsValue {
        let separator = match self.path.as_bytes().first() {
            None | Some(b'[') => "",
            Some(_) => ".",
        };
        type_error(&format!(
            "{what}{separator}{} is {}",
            self.path, self.problem
        ))
    }
}

/// The own enumerable properties of a plain object whose values are `Uint8Array`s (copied,
/// so later changes to them are not seen) or JSON data (strict, as [`json_from_js`]).
/// Properties whose value is `undefined` are left out. Bytes are accepted at the top level
/// only; a `Uint8Array` nested deeper is a [`NotJson`] error naming where it is.
pub fn json_or_bytes_fields(value: &JsValue) -> Result<Vec<(String, FieldValue)>, NotJson> {
    if !is_plain_object(value) {
        return Err(NotJson {
            path: String::new(),
            problem: format!("{} (expected a plain object)", kind(value)),
        });
    }
    let mut ancestors = vec![value.clone()];
    let object: &js_sys::Object = value.unchecked_ref();
    let mut fields = Vec::new();
    for key in js_sys::Object::keys(object).iter() {
        let name = key.as_string().unwrap_or_default();
        let item = js_sys::Reflect::get(value, &key).unwrap_or_default();
        if item.is_undefined() {
            continue;
        }
        let data = match item.dyn_ref::<js_sys::Uint8Array>() {
            Some(bytes) => FieldValue::Bytes(bytes.to_vec()),
            None => {
                let mut at = name.clone();
                FieldValue::Json(json_value(&item, &mut at, &mut ancestors)?)
            }
        };
        fields.push((name, data));
    }
    Ok(fields)
}

/// The value at path `at` (`items[2].name`, empty for the value given), converted. `at` is
/// extended for nested values and restored before returning `Ok`: one buffer for the whole
/// walk, copied only into an error (not a new path string per value: slower and larger).
fn json_value(
    value: &JsValue,
    at: &mut String,
    ancestors: &mut Vec<JsValue>,
) -> Result<serde_json::Value, NotJson> {
    use serde_json::Value;
    let fail = |at: &str, problem: String| {
        Err(NotJson {
            path: at.to_owned(),
            problem,
        })
    };
    if value.is_null() {
        return Ok(Value::Null);
    }
    if let Some(flag) = value.as_bool() {
        return Ok(Value::Bool(flag));
    }
    if let Some(number) = value.as_f64() {
        return match json_number(number) {
            Some(number) => Ok(number),
            None => fail(at, describe::number(number)),
        };
    }
    if let Some(text) = value.as_string() {
        return Ok(Value::String(text));
    }
    let is_array = js_sys::Array::is_array(value);
    if !is_array && !is_plain_object(value) {
        return fail(at, kind(value));
    }
    if ancestors.iter().any(|ancestor| ancestor == value) {
        return fail(at, "a circular reference".into());
    }
    if ancestors.len() >= MAX_JSON_DEPTH {
        return fail(at, NESTED_TOO_DEEP.into());
    }
    ancestors.push(value.clone());
    let parent_len = at.len();
    let result = if is_array {
        let array = js_sys::Array::from(value);
        let mut items = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.iter().enumerate() {
            write!(at, "[{i}]").expect("writing to a String cannot fail");
            if item.is_undefined() {
                return fail(at, "undefined".into());
            }
            items.push(json_value(&item, at, ancestors)?);
            at.truncate(parent_len);
        }
        Value::Array(items)
    } else {
        let object: &js_sys::Object = value.unchecked_ref();
        let mut map = serde_json::Map::new();
        for key in js_sys::Object::keys(object).iter() {
            let item = js_sys::Reflect::get(value, &key).unwrap_or_default();
            if item.is_undefined() {
                continue;
            }
            let key = key.as_string().unwrap_or_default();
            if !at.is_empty() {
                at.push('.');
            }
            at.push_str(&key);
            map.insert(key, json_value(&item, at, ancestors)?);
            at.truncate(parent_len);
        }
        Value::Object(map)
    };
    ancestors.pop();
    Ok(result)
}

/// Integers within the safe range are stored as integers, so JSON output prints `1`, not `1.0`.
fn json_number(number: f64) -> Option<serde_json::Value> {
    match safe_integer(number) {
        Some(integer) => Some(integer.into()),
        None => serde_json::Number::from_f64(number).map(serde_json::Value::Number),
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

/// What kind of value this is, for messages; never a primitive's value (it may be a
/// secret). The same words as [`describe::kind`] for JSON values, and as `describe` in
/// `js/arguments.js`: `an object` (plain), `a Date` / `an ArrayBuffer` (built-in classes),
/// `an instance of Foo` (other classes).
pub fn kind(value: &JsValue) -> String {
    if value.is_null() {
        "null".into()
    } else if value.is_undefined() {
        "undefined".into()
    } else if value.is_function() {
        "a function".into()
    } else if value.is_bigint() {
        "a BigInt".into()
    } else if value.is_symbol() {
        "a symbol".into()
    } else if js_sys::Array::is_array(value) {
        "an array".into()
    } else if is_plain_object(value) {
        "an object".into()
    } else if value.is_object() {
        // The prototype's constructor, not `value.constructor`: an own `constructor` key is data.
        let prototype = js_sys::Object::get_prototype_of(value);
        let descriptor =
            js_sys::Object::get_own_property_descriptor(&prototype, &"constructor".into());
        let constructor = js_sys::Reflect::get(&descriptor, &"value".into())
            .ok()
            .and_then(|c| c.dyn_into::<js_sys::Function>().ok());
        let Some(constructor) = constructor else {
            return "an object with a custom prototype".into();
        };
        let name = String::from(constructor.name());
        if name.is_empty() {
            "an object with a custom prototype".into()
        } else if !String::from(constructor.to_string()).ends_with("[native code] }") {
            format!("an instance of {name}")
        } else if name.starts_with(['A', 'E', 'I', 'O']) {
            format!("an {name}")
        } else {
            format!("a {name}")
        }
    } else {
        // A string, number or boolean: its type only, never the value (it may be a secret).
        format!("a {}", value.js_typeof().as_string().unwrap_or_default())
    }
}
