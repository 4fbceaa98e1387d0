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

/// As [`to_js`], except that byte buffers (`serialize_bytes`) become fresh `Uint8Array`s
/// (copies, never views of wasm memory) instead of arrays of numbers.
pub fn to_js_with_bytes<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsValue> {
    let serializer =
        serde_wasm_bindgen::Serializer::json_compatible().serialize_bytes_as_arrays(false);
    value
        .serialize(&serializer)
        .map_err(|error| type_error(&error.to_string()))
}

/// JSON text of a Rust value, with every byte buffer (`serialize_bytes`) written as `null`.
///
/// For values whose byte fields the caller can locate and attach itself: one string plus
/// `JSON.parse` is several times cheaper than building the object property by property
/// (each property name and string value otherwise crosses the boundary on its own).
pub fn json_text_with_bytes_as_null<T: Serialize + ?Sized>(value: &T) -> Result<String, JsValue> {
    struct BytesAsNull;
    impl serde_json::ser::Formatter for BytesAsNull {
        fn write_byte_array<W: ?Sized + std::io::Write>(
            &mut self,
            writer: &mut W,
            _bytes: &[u8],
        ) -> std::io::Result<()> {
            writer.write_all(b"null")
        }
    }
    let mut text = Vec::with_capacity(512);
    let mut serializer = serde_json::Serializer::with_formatter(&mut text, BytesAsNull);
    value
        .serialize(&mut serializer)
        .map_err(|error| type_error(&error.to_string()))?;
    // serde_json writes only valid UTF-8.
    String::from_utf8(text).map_err(|error| type_error(&error.to_string()))
}

/// An optional integer: `undefined` or `null` gives `None`; otherwise a safe integer
/// (`Number.isSafeInteger`), else a `RangeError` (a non-number is a `TypeError`).
pub fn optional_integer(value: &JsValue, name: &str) -> Result<Option<i64>, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let number = value.as_f64().ok_or_else(|| {
        type_error(&format!(
            "{name} must be an integer, got {}",
            describe(value)
        ))
    })?;
    if number.fract() != 0.0 || number.abs() > MAX_SAFE_INTEGER {
        return Err(range_error(&format!(
            "{name} must be an integer, got {}",
            describe(value)
        )));
    }
    Ok(Some(number as i64))
}

/// A required string argument, else a `TypeError` naming `name` and the kind of value
/// given (never the value: arguments may be secrets).
pub fn string_arg(value: &JsValue, name: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| {
        type_error(&format!(
            "{name} must be a string, got {}",
            describe_kind(value)
        ))
    })
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

/// One property of an object read by [`json_or_bytes_fields`].
pub enum JsData {
    Json(serde_json::Value),
    /// A copy of a `Uint8Array`'s bytes.
    Bytes(Vec<u8>),
}

/// The own enumerable properties of a plain object whose values are `Uint8Array`s (copied,
/// so later changes to them are not seen) or JSON data (strict, as [`json_from_js`]).
/// Properties whose value is `undefined` are left out. Bytes are accepted at the top level
/// only; a `Uint8Array` nested deeper is a [`NotJson`] error naming where it is.
pub fn json_or_bytes_fields(value: &JsValue) -> Result<Vec<(String, JsData)>, NotJson> {
    let mut walk = JsonWalk::new();
    if !value.is_object() || js_sys::Array::is_array(value) {
        let kind = if value.is_object() {
            "an array".to_string()
        } else {
            describe_kind(value)
        };
        return Err(NotJson {
            path: String::new(),
            problem: format!("expected a plain object, got {kind}"),
        });
    }
    walk.check_plain_object(value, "")?;
    walk.ancestors.push(value.clone());
    let object = js_sys::Object::from(value.clone());
    let mut fields = Vec::new();
    for key in js_sys::Object::keys(&object).iter() {
        let name = key.as_string().unwrap_or_default();
        let item = js_sys::Reflect::get(&object, &key).unwrap_or_default();
        if item.is_undefined() {
            continue;
        }
        let data = if let Some(text) = item.as_string() {
            JsData::Json(serde_json::Value::String(text))
        } else if let Some(bytes) = item.dyn_ref::<js_sys::Uint8Array>() {
            JsData::Bytes(bytes.to_vec())
        } else {
            JsData::Json(walk.value(&item, &name)?)
        };
        fields.push((name, data));
    }
    Ok(fields)
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

/// JSON data from a JS value, with the rules of `JSON.stringify` made strict: only plain
/// objects, arrays, strings, finite numbers, booleans and `null` are accepted; object
/// properties whose value is `undefined` are left out. Anything else (a function, a BigInt,
/// a symbol, `undefined` elsewhere, `NaN`/`Infinity`, a class instance, a cycle) is a
/// [`NotJson`] error naming where it is.
///
/// Numbers that are safe integers become integer JSON numbers (as `serde_json` parses the
/// text `JSON.stringify` writes), so Rust types with integer fields deserialise from them.
pub fn json_from_js(value: &JsValue) -> Result<serde_json::Value, NotJson> {
    JsonWalk::new().value(value, "")
}

/// A JS value that is not JSON data: `path` is where (`items[2].name`, empty for the value
/// itself), `problem` what is wrong there.
pub struct NotJson {
    pub path: String,
    pub problem: String,
}

struct JsonWalk {
    object_prototype: js_sys::Object,
    /// The objects and arrays enclosing the value being converted, to detect cycles.
    ancestors: Vec<JsValue>,
}

impl JsonWalk {
    fn new() -> Self {
        JsonWalk {
            object_prototype: js_sys::Object::get_prototype_of(&js_sys::Object::new()),
            ancestors: Vec::new(),
        }
    }

    /// Fails unless `value` (an object) has `Object.prototype` or `null` as prototype.
    fn check_plain_object(&self, value: &JsValue, path: &str) -> Result<(), NotJson> {
        let prototype = js_sys::Object::get_prototype_of(value);
        if prototype.is_null() || prototype == self.object_prototype {
            return Ok(());
        }
        Err(NotJson {
            path: path.to_string(),
            problem: format!("expected a plain object, got {}", describe_kind(value)),
        })
    }

    fn value(&mut self, value: &JsValue, path: &str) -> Result<serde_json::Value, NotJson> {
        let fail = |problem: String| NotJson {
            path: path.to_string(),
            problem,
        };
        use serde_json::Value;
        // Most likely kinds first: each test is a call into JS.
        if let Some(text) = value.as_string() {
            return Ok(Value::String(text));
        }
        if let Some(number) = value.as_f64() {
            if number.fract() == 0.0 && number.abs() <= MAX_SAFE_INTEGER {
                return Ok(Value::from(number as i64));
            }
            return serde_json::Number::from_f64(number)
                .map(Value::Number)
                .ok_or_else(|| fail(format!("{number} is not a finite number")));
        }
        if value.is_null() {
            return Ok(Value::Null);
        }
        if let Some(flag) = value.as_bool() {
            return Ok(Value::Bool(flag));
        }
        if !value.is_object() {
            return Err(fail(format!("{} is not JSON data", describe_kind(value))));
        }
        if self.ancestors.iter().any(|ancestor| ancestor == value) {
            return Err(fail("the value contains a cycle".into()));
        }
        self.ancestors.push(value.clone());
        let converted = if js_sys::Array::is_array(value) {
            self.array(value, path)
        } else {
            self.object(value, path)
        };
        self.ancestors.pop();
        converted
    }

    fn array(&mut self, value: &JsValue, path: &str) -> Result<serde_json::Value, NotJson> {
        js_sys::Array::from(value)
            .iter()
            .enumerate()
            .map(|(i, item)| self.value(&item, &format!("{path}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(serde_json::Value::Array)
    }

    fn object(&mut self, value: &JsValue, path: &str) -> Result<serde_json::Value, NotJson> {
        let object = js_sys::Object::from(value.clone());
        self.check_plain_object(value, path)?;
        let mut map = serde_json::Map::new();
        for key in js_sys::Object::keys(&object).iter() {
            let key = key.as_string().unwrap_or_default();
            let item = js_sys::Reflect::get(&object, &JsValue::from_str(&key)).unwrap_or_default();
            if item.is_undefined() {
                continue;
            }
            let item_path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            map.insert(key, self.value(&item, &item_path)?);
        }
        Ok(serde_json::Value::Object(map))
    }
}

/// What kind of JS value this is, for messages: "a function", "a BigInt", "a Date", ...
pub fn describe_kind(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    if value.is_null() {
        return "null".into();
    }
    if value.is_function() {
        return "a function".into();
    }
    if value.is_bigint() {
        return "a BigInt".into();
    }
    if value.is_symbol() {
        return "a symbol".into();
    }
    if !value.is_object() {
        // string, number, boolean
        return format!("a {}", value.js_typeof().as_string().unwrap_or_default());
    }
    let constructor = js_sys::Object::from(value.clone()).constructor().name();
    format!("a {}", String::from(constructor))
}
