//! How values are written into error messages, the same way in every core: strings
//! JSON-quoted, numbers as JS prints them. Both reuse serde_json's writers, so the wasm
//! module carries no second string escaper and no `f64` `Display` (about 18 KiB of code).

/// `text` as a JSON string literal: `"a \"b\""`.
pub fn quoted(text: &str) -> String {
    // Serialising a `str` into a `Vec` cannot fail.
    serde_json::to_string(text).unwrap_or_default()
}

/// `value` as compact JSON text, as `value.to_string()` writes it. Not through `Value`'s
/// `Display`: that one builds an `io::Error` from a string, whose `Debug` links the
/// Unicode tables of `{:?}` into the wasm module (about 6 KiB).
pub fn json(value: &serde_json::Value) -> String {
    // Writing into a `Vec` cannot fail, and a `Value`'s map keys are strings.
    serde_json::to_string(value).unwrap_or_default()
}

/// A string for an error message: JSON-quoted, or `a string of N characters` when it is
/// longer than 40 characters.
pub fn short_string(text: &str) -> String {
    // Characters counted as the bytes that start one (not UTF-8 continuation bytes): a
    // plain loop, less .wasm than `chars().count()` and its vectorised counting here.
    let count = text.bytes().filter(|&byte| byte as i8 >= -0x40).count();
    if count > 40 {
        format!("a string of {count} characters")
    } else {
        quoted(text)
    }
}

/// A number as `String(number)` in JS prints it for the common cases: integers without
/// a fraction (`3`, not `3.0`), `NaN`, `Infinity`, `-Infinity`; other numbers in their
/// shortest round-trip form (`0.5`, `1e-7`, `1.5e+300`).
pub fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if value.fract() == 0.0 && value.abs() < 9.2e18 {
        // Exact: such an integer fits in i64. `-0` prints as `0`, as in JS. (Larger
        // integers print in exponent form, where JS writes every digit up to 1e21.)
        integer(value as i64)
    } else {
        // serde_json's writer, not `Number`'s `Display` (one number formatter in the .wasm).
        serde_json::to_string(&value).unwrap_or_default()
    }
}

/// An integer in decimal, as `value.to_string()` writes it. By hand, not through `fmt`:
/// `i64` / `u64` `Display` and `ToString` then stay out of the .wasm.
pub fn integer(value: i64) -> String {
    let mut text = String::with_capacity(20);
    if value < 0 {
        text.push('-');
    }
    push_unsigned(&mut text, value.unsigned_abs());
    text
}

/// A `u64` in decimal, as `value.to_string()` writes it (see [`integer`]).
pub fn unsigned(value: u64) -> String {
    let mut text = String::with_capacity(20);
    push_unsigned(&mut text, value);
    text
}

/// Appends `value`'s decimal digits to `text`.
pub fn push_unsigned(text: &mut String, value: u64) {
    // Leading digits first, by recursion (at most 20 deep): a digit buffer indexed from the
    // back kept a bounds-check panic site, and its source path, in the .wasm.
    if value >= 10 {
        push_unsigned(text, value / 10);
    }
    text.push(char::from(b'0' + (value % 10) as u8));
}

/// `bytes` as lowercase hexadecimal, two digits per byte.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_json_quoted() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
    }

    #[test]
    fn long_strings_are_described_by_their_length_in_characters() {
        assert_eq!(short_string(&"é".repeat(40)), quoted(&"é".repeat(40)));
        assert_eq!(short_string(&"é".repeat(41)), "a string of 41 characters");
        assert_eq!(short_string(&"😀".repeat(40)), quoted(&"😀".repeat(40)));
        assert_eq!(short_string(&"😀".repeat(41)), "a string of 41 characters");
    }

    #[test]
    fn integers_print_as_to_string_does() {
        for value in [0, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            assert_eq!(integer(value), value.to_string());
        }
        for value in [0, 9, 10, u64::MAX] {
            assert_eq!(unsigned(value), value.to_string());
        }
    }

    #[test]
    fn hex_is_lowercase_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn numbers_print_as_in_js() {
        assert_eq!(number(3.0), "3");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(-12.0), "-12");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(1.5e300), "1.5e+300");
        assert_eq!(number(1e-7), "1e-7");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "Infinity");
        assert_eq!(number(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number(9_007_199_254_740_993.0), "9007199254740992");
    }
}
