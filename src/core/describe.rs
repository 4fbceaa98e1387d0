//! How values are named in error messages, the same way in every core.
//!
//! [`kind`] names a value's type and never shows the value: envelope fields and arguments
//! may carry idempotency tokens or other secrets. [`describe`] also shows numbers, booleans
//! and short strings, for data whose values help the caller find the mistake (connector
//! payloads, options).

use serde_json::Value;

use crate::core::json;
use crate::core::number::safe_integer;

/// Strings longer than this (in characters) are described by their length.
const SHOWN_STRING_CHARS: usize = 40;

/// `"null"`, `"a boolean"`, `"a number"`, `"a string"`, `"an array"` or `"an object"`.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Booleans and numbers as JSON writes them, strings as [`string`] does; arrays, objects
/// and null by their [`kind`].
pub fn describe(value: &Value) -> String {
    match value {
        Value::Bool(_) | Value::Number(_) => json::text(value),
        Value::String(text) => string(text),
        other => kind(other).to_owned(),
    }
}

/// A JSON-quoted string, or `a string of N characters` when it is longer than 40.
pub fn string(text: &str) -> String {
    let chars = text.chars().count();
    if chars > SHOWN_STRING_CHARS {
        format!("a string of {chars} characters")
    } else {
        json::quoted(text)
    }
}

/// A number for a message to a JS caller: `NaN`, `Infinity` and `-Infinity` by JS's names
/// (Rust's would be `NaN`, `inf`, `-inf`), integers in plain digits (`3`, not `3.0`), other
/// numbers as JSON writes them (`2.5`, `1e-7`). That is JS's `String(number)` except in the
/// exponent of very large or small numbers (`1.5e300` where JS writes `1.5e+300`).
pub fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else if let Some(integer) = safe_integer(value) {
        integer.to_string()
    } else {
        json::text(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_never_show_the_value() {
        assert_eq!(kind(&json!("secret-token")), "a string");
        assert_eq!(kind(&json!(7)), "a number");
        assert_eq!(kind(&json!(null)), "null");
        assert_eq!(kind(&json!([1])), "an array");
        assert_eq!(kind(&json!({})), "an object");
        assert_eq!(kind(&json!(true)), "a boolean");
    }

    #[test]
    fn describe_shows_scalars_and_short_strings() {
        assert_eq!(describe(&json!("3")), "\"3\"");
        assert_eq!(describe(&json!(1.5)), "1.5");
        assert_eq!(describe(&json!(false)), "false");
        assert_eq!(describe(&json!([])), "an array");
        assert_eq!(describe(&json!(null)), "null");
    }

    #[test]
    fn long_strings_are_described_by_their_length_in_characters() {
        assert_eq!(string("a\"b"), "\"a\\\"b\"");
        assert_eq!(string(&"é".repeat(40)), format!("\"{}\"", "é".repeat(40)));
        assert_eq!(string(&"é".repeat(41)), "a string of 41 characters");
        assert_eq!(string(&"😀".repeat(41)), "a string of 41 characters");
    }

    #[test]
    fn numbers_print_as_js_callers_write_them() {
        for (value, js) in [
            (3.0, "3"),
            (-0.0, "0"),
            (-12.0, "-12"),
            (0.5, "0.5"),
            (-2.5, "-2.5"),
            (1e-7, "1e-7"),
            (9_007_199_254_740_991.0, "9007199254740991"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(number(value), js, "{value:?}");
        }
    }
}
