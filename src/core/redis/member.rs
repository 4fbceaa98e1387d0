//! ZSET members as the Python SDK writes and reads them.
//!
//! Python writes `uuid4().hex[:8] + ":" + json.dumps(payload, separators=(",", ":"))`: compact
//! JSON with the default `ensure_ascii=True`, so every character outside printable ASCII
//! (space to `~`) is a `\uXXXX` escape, lowercase hex, characters beyond U+FFFF as a UTF-16
//! surrogate pair. [`encode_payload`] writes the same JSON (the 8-hex prefix is added by the add
//! script, from the arrival counter). Its reader strips the first 9 characters only when the
//! 9th is `:` and more follow; [`decode_member`] does the same, so members written without
//! the prefix (older SDKs) are read too.
//!
//! Field order follows the Python SDK's `_payload_to_json` (the order of `Payload`'s fields);
//! tidepool also writes `conversation_id` (last, in the payload and in each action), which
//! the Python SDK's `from_dict` reads and its writer never writes: payloads without it read
//! as `null`.

use super::ReadJson;
use crate::core::json;
use crate::core::payload::{self, Payload, PayloadError};

/// The compact, ASCII-only JSON of a payload, as the Python SDK writes it.
pub fn encode_payload(payload: &Payload) -> String {
    ensure_ascii(&json::text(payload))
}

/// `json` (serde_json's compact output) with Python's `ensure_ascii` escaping: serde_json has
/// already escaped `"`, `\` and control characters; what remains is DEL and every non-ASCII
/// character, which can only stand inside strings, since JSON's own syntax is ASCII.
fn ensure_ascii(json: &str) -> String {
    if json.bytes().all(|b| b < 0x7f) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for ch in json.chars() {
        if (ch as u32) < 0x7f {
            out.push(ch);
            continue;
        }
        let mut units = [0u16; 2];
        for unit in ch.encode_utf16(&mut units) {
            out.push_str("\\u");
            for shift in [12, 8, 4, 0] {
                out.push(char::from(
                    b"0123456789abcdef"[usize::from((*unit >> shift) & 0xf)],
                ));
            }
        }
    }
    out
}

/// Why a member could not be read back as a payload.
#[derive(Debug, Clone, PartialEq)]
pub enum UnreadableMember {
    /// The text after the prefix is not JSON.
    NotJson(String),
    /// The JSON is not a valid payload.
    Invalid(PayloadError),
}

impl std::fmt::Display for UnreadableMember {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnreadableMember::NotJson(problem) => write!(f, "not JSON: {problem}"),
            UnreadableMember::Invalid(error) => write!(f, "not a payload: {error}"),
        }
    }
}

/// The JSON text of a member: without its `{8 chars}:` prefix when it has one (the 9th
/// character is `:` and more follow, counted in characters as Python does).
pub fn member_json(member: &str) -> &str {
    match member.char_indices().nth(8) {
        // `at` is the index of an ASCII ':', so `at + 1` is a character boundary.
        Some((at, ':')) => member
            .get(at + 1..)
            .filter(|json| !json.is_empty())
            .unwrap_or(member),
        _ => member,
    }
}

/// A member read back as a payload (validated and normalised like `parsePayload`); its JSON
/// text is read by `read_json`.
pub fn decode_member(member: &str, read_json: &mut ReadJson) -> Result<Payload, UnreadableMember> {
    let value = read_json(member_json(member)).map_err(UnreadableMember::NotJson)?;
    payload::parse_payload(&value).map_err(UnreadableMember::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::redis::read_json_with_serde;
    use serde_json::json;

    fn decode_member(member: &str) -> Result<Payload, UnreadableMember> {
        super::decode_member(member, &mut read_json_with_serde)
    }

    fn parsed(value: serde_json::Value) -> Payload {
        payload::parse_payload(&value).unwrap()
    }

    // Expected texts below are what the Python SDK 0.13 writes after its 9-character prefix
    // (`_payload_to_json` of `ActionsPayload.from_dict(...)` / `SummaryPayload.from_dict(...)`),
    // plus the `conversation_id` fields tidepool adds.
    #[test]
    fn summary_json_is_compact_in_the_python_field_order() {
        let payload = parsed(
            json!({ "type": "summary", "product_id": "p", "session_id": "s1",
            "summary": "did things", "replaces": 3, "forwarded_at": 1732190000.5 }),
        );
        assert_eq!(
            encode_payload(&payload),
            r#"{"type":"summary","product_id":"p","session_id":"s1","summary":"did things","replaces":3,"forwarded_at":1732190000.5}"#
        );
    }

    #[test]
    fn actions_json_is_compact_in_the_python_field_order() {
        let payload = parsed(
            json!({ "type": "actions", "product_id": "p", "session_id": null,
            "actions": [{ "title": "t", "index": 0, "type": "click", "timestamp_start": 1.5 }],
            "forwarded_at": 10.0 }),
        );
        assert_eq!(
            encode_payload(&payload),
            concat!(
                r#"{"type":"actions","product_id":"p","session_id":null,"user_id":null,"email":null,"#,
                r#""actions":[{"title":"t","description":"","canonical_url":"","index":0,"type":"click","#,
                r#""timestamp_start":1.5,"timestamp_end":0.0,"raw_url":"","session_id":null,"user_id":null,"#,
                r#""email":null,"conversation_id":null}],"count":1,"forwarded_at":10.0,"conversation_id":null}"#
            )
        );
    }

    #[test]
    fn non_ascii_is_escaped_like_ensure_ascii_with_surrogate_pairs() {
        // json.dumps("é✓😀\x7f\n\"\\/", ensure_ascii=True) == '"\\u00e9\\u2713\\ud83d\\ude00\\u007f\\n\\"\\\\/"'
        let payload =
            parsed(json!({ "type": "summary", "summary": "é✓😀\u{7f}\n\"\\/", "forwarded_at": 1 }));
        let text = encode_payload(&payload);
        assert!(
            text.contains(r#""summary":"\u00e9\u2713\ud83d\ude00\u007f\n\"\\/""#),
            "{text}"
        );
        assert!(text.is_ascii());
        // Control characters use Python's short escapes where it has them, else \u00XX.
        let payload = parsed(json!({ "type": "summary", "summary": "\u{8}\u{c}\r\t\u{1}\u{1f}" }));
        assert!(encode_payload(&payload).contains(r#""summary":"\b\f\r\t\u0001\u001f""#));
    }

    #[test]
    fn members_are_read_with_or_without_the_prefix() {
        let text = r#"{"type":"summary","product_id":"p","session_id":"s","summary":"\u00e9\ud83d\ude00","replaces":0,"forwarded_at":0.0}"#;
        for member in [format!("0a1b2c3d:{text}"), text.to_string()] {
            match decode_member(&member).unwrap() {
                Payload::Summary(s) => {
                    assert_eq!(s.summary, "é😀");
                    assert_eq!(s.session_id.as_deref(), Some("s"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn python_payloads_without_conversation_id_read_as_null() {
        let member = concat!(
            r#"deadbeef:{"type":"actions","product_id":"p","session_id":"s","user_id":null,"email":null,"#,
            r#""actions":[{"title":"","description":"d","canonical_url":"u","index":0,"type":"click","#,
            r#""timestamp_start":0.0,"timestamp_end":0.0,"raw_url":"","session_id":"s","user_id":null,"email":null}],"#,
            r#""count":1,"forwarded_at":5.0}"#
        );
        match decode_member(member).unwrap() {
            Payload::Actions(a) => {
                assert_eq!(a.conversation_id, None);
                assert_eq!(a.actions[0].conversation_id, None);
                assert_eq!(a.actions[0].description, "d");
                assert_eq!(a.forwarded_at, 5.0);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_prefix_rule_counts_characters_like_python() {
        // 9th character ':' and more after it: stripped.
        assert_eq!(member_json("12345678:{}"), "{}");
        // Exactly 9 characters: kept (Python requires len > 9).
        assert_eq!(member_json("12345678:"), "12345678:");
        // The 9th character is not ':': kept whole.
        assert_eq!(member_json(r#"{"a":"bcdefgh"}"#), r#"{"a":"bcdefgh"}"#);
        // Multi-byte characters count as one each.
        assert_eq!(member_json("éééééééé:{}"), "{}");
        assert_eq!(member_json("short"), "short");
    }

    #[test]
    fn unreadable_members_say_why() {
        assert!(matches!(
            decode_member("12345678:{not json"),
            Err(UnreadableMember::NotJson(_))
        ));
        match decode_member(r#"12345678:{"type":"other"}"#) {
            Err(UnreadableMember::Invalid(error)) => assert_eq!(error.field, "type"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encoding_round_trips_through_decoding() {
        let payload = parsed(
            json!({ "type": "actions", "session_id": "s😀", "user_id": "u",
            "conversation_id": "c", "forwarded_at": 1732190000.123,
            "actions": [{ "index": 2, "description": "ü", "conversation_id": "c" }] }),
        );
        let member = format!("00000001:{}", encode_payload(&payload));
        assert_eq!(decode_member(&member).unwrap(), payload);
    }
}
