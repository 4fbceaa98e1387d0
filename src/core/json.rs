//! JSON text, written one way everywhere: serde_json's compact writer into a `String`
//! (messages, Redis members and numbers, values handed to JS). `Value`'s `Display` would
//! write the same text through a second writer; use [`text`] instead.

use serde::Serialize;

/// The compact JSON text of `value`.
pub fn text<T: Serialize + ?Sized>(value: &T) -> String {
    // Writing into a `Vec` fails only for a map with non-string keys, which no type written
    // here has (serde_json's `Value` keys are strings).
    serde_json::to_string(value).unwrap_or_default()
}

/// A string as a JSON string literal (quoted and escaped).
pub fn quoted(text: &str) -> String {
    self::text(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_compact_and_the_same_as_display() {
        let value = json!({ "b": [1, 2.5, null], "a": "é\"\n" });
        assert_eq!(text(&value), r#"{"a":"é\"\n","b":[1,2.5,null]}"#);
        assert_eq!(text(&value), value.to_string());
        assert_eq!(quoted("a\"b"), r#""a\"b""#);
        assert_eq!(text(&1.5f64), "1.5");
    }
}
