//! `parsePayload`, `toText`, `mergeActions`: the connector payload functions.

use crate::core::payload::{self, Payload, PayloadError};
use crate::wasm::convert;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_name = parsePayload)]
pub fn parse_payload(value: JsValue) -> Result<JsValue, JsValue> {
    Ok(convert::to_js(&parse(value)?))
}

#[wasm_bindgen(js_name = toText)]
pub fn to_text(value: JsValue) -> Result<String, JsValue> {
    Ok(payload::to_text(&parse(value)?))
}

#[wasm_bindgen(js_name = mergeActions)]
pub fn merge_actions(list: JsValue) -> Result<JsValue, JsValue> {
    if !js_sys::Array::is_array(&list) {
        return Err(convert::type_error(&format!(
            "mergeActions expects an array of actions payloads, got {}",
            convert::describe(&list)
        )));
    }
    let batches = js_sys::Array::from(&list)
        .iter()
        .enumerate()
        .map(|(i, item)| match parse_at(item, &format!("[{i}]"))? {
            Payload::Actions(batch) => Ok(batch),
            Payload::Summary(_) => Err(payload_error(PayloadError {
                field: format!("[{i}].type"),
                problem: "expected \"actions\", got \"summary\"".into(),
            })),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let merged = payload::merge_actions(&batches).map_err(payload_error)?;
    Ok(convert::to_js(&Payload::Actions(merged)))
}

pub(crate) fn parse(value: JsValue) -> Result<Payload, JsValue> {
    parse_at(value, "")
}

/// [`parse`] of the element at `at` (`[1]`) of a list; errors name the field under it.
fn parse_at(value: JsValue, at: &str) -> Result<Payload, JsValue> {
    let within = |field: String| match field.as_bytes().first() {
        None | Some(b'[') => format!("{at}{field}"),
        Some(_) if at.is_empty() => field,
        Some(_) => format!("{at}.{field}"),
    };
    let json = convert::json_from_js(&value).map_err(|not_json| {
        payload_error(PayloadError {
            field: within(not_json.path),
            problem: format!("{} is not JSON data", not_json.problem),
        })
    })?;
    payload::parse_payload(&json).map_err(|mut error| {
        error.field = within(error.field);
        payload_error(error)
    })
}

fn payload_error(error: PayloadError) -> JsValue {
    convert::tidepool_error(
        "PayloadError",
        "INVALID_PAYLOAD",
        &error.to_string(),
        &[("field", JsValue::from_str(&error.field))],
    )
}
