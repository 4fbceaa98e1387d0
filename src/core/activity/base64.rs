//! Standard base64 (RFC 4648 §4, `+` `/`, `=` padding), as Python's `base64.b64encode`
//! writes it.
//!
//! Decoding is strict: the length is a multiple of 4, padding appears only at the end,
//! no whitespace, and the unused low bits of the last symbol are zero, so every accepted
//! string is the one `encode` would write for its bytes.

use std::fmt;

use crate::core::text;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Why a string is not canonical base64; `offset` is a byte offset into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base64Error {
    /// The length is not a multiple of 4.
    Length(usize),
    /// A byte outside the alphabet, or `=` before the end.
    InvalidByte { offset: usize, byte: u8 },
    /// The last symbol carries bits that no byte uses.
    NonCanonical,
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Base64Error::Length(len) => write!(f, "length {len} is not a multiple of 4"),
            Base64Error::InvalidByte { offset, byte } => {
                // By hand, not `'{}'` / `{:02x}`: the `char` and `LowerHex` formatting
                // code would be linked for this message alone.
                let shown = if byte.is_ascii_graphic() {
                    let mut shown = String::from("'");
                    shown.push(char::from(*byte));
                    shown.push('\'');
                    shown
                } else {
                    format!("byte 0x{}", text::hex(&[*byte]))
                };
                write!(f, "unexpected {shown} at offset {offset}")
            }
            Base64Error::NonCanonical => write!(f, "non-zero padding bits"),
        }
    }
}

/// The base64 text of `bytes`, padded.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // `get`, not indexing, for each byte: no bounds-check panic site (and source path)
        // in the .wasm. A chunk is never empty.
        let b = [
            *chunk.first().unwrap_or(&0),
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..4 {
            if i < symbols {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The bytes `text` encodes.
pub fn decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let input = text.as_bytes();
    if input.len() % 4 != 0 {
        return Err(Base64Error::Length(input.len()));
    }
    let padding = input
        .iter()
        .rev()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    let data_len = input.len() - padding;
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for (offset, &byte) in input.iter().take(data_len).enumerate() {
        let value = symbol_value(byte).ok_or(Base64Error::InvalidByte { offset, byte })?;
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return Err(Base64Error::NonCanonical);
    }
    Ok(out)
}

fn symbol_value(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes());
        }
    }

    #[test]
    fn matches_python_for_binary_bytes() {
        // base64.b64encode(bytes([0, 1, 2, 254, 255]) + b"tail")
        assert_eq!(
            encode(&[0, 1, 2, 254, 255, b't', b'a', b'i', b'l']),
            "AAEC/v90YWls"
        );
    }

    #[test]
    fn every_byte_value_round_trips() {
        let all: Vec<u8> = (0..=255u8).collect();
        for len in 0..all.len() {
            assert_eq!(decode(&encode(&all[..len])).unwrap(), &all[..len]);
        }
    }

    #[test]
    fn rejects_malformed_text() {
        assert_eq!(decode("Zm9"), Err(Base64Error::Length(3)));
        assert_eq!(
            decode("Zm9v!A=="),
            Err(Base64Error::InvalidByte {
                offset: 4,
                byte: b'!'
            })
        );
        assert_eq!(
            decode("Zg=a"),
            Err(Base64Error::InvalidByte {
                offset: 2,
                byte: b'='
            })
        );
        assert!(matches!(
            decode("Z==="),
            Err(Base64Error::InvalidByte { offset: 1, .. })
        ));
        assert!(matches!(
            decode("Zm 9"),
            Err(Base64Error::InvalidByte { offset: 2, .. })
        ));
        assert_eq!(decode("Zh=="), Err(Base64Error::NonCanonical));
        assert_eq!(
            decode("Zm9!").unwrap_err().to_string(),
            "unexpected '!' at offset 3"
        );
        assert_eq!(
            decode("Zm9\n").unwrap_err().to_string(),
            "unexpected byte 0x0a at offset 3"
        );
    }
}
