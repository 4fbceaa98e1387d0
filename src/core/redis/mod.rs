//! Redis over the Upstash REST protocol: everything about it that can be decided without a
//! server. The JS adapter (`js/redis/`) does the I/O (fetch, timeouts, retries, coalescing,
//! backpressure) and asks this module what to send and what an answer means.
//!
//! - [`keys`]: the key layout of the autoplay Python SDK's `RedisEventBuffer`, shared with it,
//!   and the prefix rule that keeps one prefix from ever reading another's keys.
//! - [`member`]: the Python-compatible member encoding (`{8 hex}:{compact JSON, ASCII only}`)
//!   and its reading (with or without the hex prefix).
//! - [`scripts`]: the Lua scripts (one request per operation, atomic).
//! - [`buffer`]: score and window rules, the command plans of add / drain / size / fence, and
//!   the decoding of their replies (drain ordering: chronological, ties in arrival order).

pub mod buffer;
pub mod keys;
pub mod member;
pub mod scripts;

use std::fmt;

use serde_json::Value;

/// Reads JSON text into a value; `Err` says why the text is not JSON. The Redis code reads
/// the JSON text in replies (members, scores) only through one of these, so the platform's
/// parser does the reading: JS's `JSON.parse` in the module (native, and the module carries
/// no JSON parser), serde_json in `cargo test` ([`read_json_with_serde`]).
pub type ReadJson<'a> = dyn FnMut(&str) -> Result<Value, String> + 'a;

/// serde_json's reader, for tests (JSON.parse and serde_json accept the same texts, up to
/// their messages).
#[cfg(test)]
pub(crate) fn read_json_with_serde(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|error| error.to_string())
}

/// A reply from Redis that does not have the shape a script returns (another server, a
/// gateway that rewrote it, a truncated body...). `problem` says what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadReply {
    pub problem: String,
}

impl fmt::Display for BadReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unexpected reply from Redis: {}", self.problem)
    }
}

impl std::error::Error for BadReply {}

impl BadReply {
    pub(crate) fn new(problem: impl Into<String>) -> Self {
        BadReply {
            problem: problem.into(),
        }
    }
}

/// A fresh random id (128 bits as 32 lowercase hex digits) for a batch or a drain: two
/// clients, or two attempts that are not retries of each other, never share one.
pub fn random_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

/// Lowercase hex digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing into a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_32_hex_digits_and_differ() {
        let a = random_id().unwrap();
        let b = random_id().unwrap();
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
    }

    #[test]
    fn hex_pads_each_byte() {
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
    }
}
