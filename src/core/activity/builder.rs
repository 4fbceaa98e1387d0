//! Building outgoing envelopes: fresh ids, timestamps and every reference field.
//!
//! Randomness enters only through [`build_envelope`] (the platform source, via getrandom);
//! [`build_envelope_with`] takes the random source as a parameter for deterministic tests.

use serde_json::Value;

use super::constants::envelope_state;
use super::envelope::{Envelope, FieldValue};
use super::error::ActivityError;
use super::json::{any_integer, object};
use crate::core::describe::kind;
use crate::core::number::MAX_SAFE_INTEGER;

/// HLC node name when none is given (the reference's fallback when the host has no name).
pub const DEFAULT_HLC_NODE: &str = "unknown";
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

/// Options of `buildEnvelope`, camelCase as JS writes them; absent = the default.
///
/// `payload` and `auditProof` accept bytes, an array of byte values or a string (stored
/// as its UTF-8 bytes); null is empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvelopeOptions {
    /// Required, non-empty.
    pub producer_id: String,
    /// Required; any integer (see `message_type` constants).
    pub message_type: Option<i64>,
    /// Default `application/json`.
    pub content_type: Option<String>,
    pub payload: Vec<u8>,
    /// Generated (UUIDv4) when absent or empty.
    pub correlation_id: Option<String>,
    /// Written as `parent_correlation_id` only when given (the reference has no such field).
    pub parent_correlation_id: Option<String>,
    /// Default 1.
    pub sequence_number: Option<i64>,
    /// Default 0.
    pub retry_count: Option<i64>,
    pub idempotency_token: Option<String>,
    pub repo_id: Option<String>,
    pub worktree_id: Option<String>,
    /// Default 0 (no expiry).
    pub ttl_ms: Option<i64>,
    /// Default `SENT`; 0-7.
    pub state: Option<i64>,
    pub effective_policy_id: Option<String>,
    pub audit_proof: Vec<u8>,
    pub audit_policy_id: Option<String>,
    /// The node part of `hlc_timestamp`; default [`DEFAULT_HLC_NODE`].
    pub hlc_node: Option<String>,
}

impl EnvelopeOptions {
    pub fn new(producer_id: impl Into<String>, message_type: i64) -> Self {
        EnvelopeOptions {
            producer_id: producer_id.into(),
            message_type: Some(message_type),
            ..EnvelopeOptions::default()
        }
    }

    /// Options from `(camelCase name, value)` pairs as JS wrote them. A null value is the
    /// default. Errors name the option: an unknown name or a value of the wrong type is
    /// `InvalidArgument`, a number that is not a safe integer is `Range`.
    pub fn from_fields(
        fields: impl IntoIterator<Item = (String, FieldValue)>,
    ) -> Result<Self, ActivityError> {
        /// Where an option's value goes, by its type.
        enum Slot<'a> {
            Text(&'a mut Option<String>),
            Integer(&'a mut Option<i64>),
            Bytes(&'a mut Vec<u8>),
        }
        let mut options = EnvelopeOptions::default();
        for (name, value) in fields {
            if matches!(value, FieldValue::Json(Value::Null)) {
                continue;
            }
            let field = name.as_str();
            let o = &mut options;
            let slot = match field {
                "producerId" => {
                    o.producer_id = string(field, value)?;
                    continue;
                }
                "messageType" => Slot::Integer(&mut o.message_type),
                "contentType" => Slot::Text(&mut o.content_type),
                "payload" => Slot::Bytes(&mut o.payload),
                "correlationId" => Slot::Text(&mut o.correlation_id),
                "parentCorrelationId" => Slot::Text(&mut o.parent_correlation_id),
                "sequenceNumber" => Slot::Integer(&mut o.sequence_number),
                "retryCount" => Slot::Integer(&mut o.retry_count),
                "idempotencyToken" => Slot::Text(&mut o.idempotency_token),
                "repoId" => Slot::Text(&mut o.repo_id),
                "worktreeId" => Slot::Text(&mut o.worktree_id),
                "ttlMs" => Slot::Integer(&mut o.ttl_ms),
                "state" => Slot::Integer(&mut o.state),
                "effectivePolicyId" => Slot::Text(&mut o.effective_policy_id),
                "auditProof" => Slot::Bytes(&mut o.audit_proof),
                "auditPolicyId" => Slot::Text(&mut o.audit_policy_id),
                "hlcNode" => Slot::Text(&mut o.hlc_node),
                _ => {
                    return Err(ActivityError::invalid(
                        name,
                        "is not a buildEnvelope option",
                    ))
                }
            };
            match slot {
                Slot::Text(text) => *text = Some(string(field, value)?),
                Slot::Integer(number) => *number = Some(integer(field, value)?),
                Slot::Bytes(bytes_value) => *bytes_value = bytes(field, value)?,
            }
        }
        Ok(options)
    }
}

fn string(field: &str, value: FieldValue) -> Result<String, ActivityError> {
    match value {
        FieldValue::Json(Value::String(text)) => Ok(text),
        other => Err(ActivityError::wrong_type(field, "a string", other.kind())),
    }
}

fn integer(field: &str, value: FieldValue) -> Result<i64, ActivityError> {
    match value {
        FieldValue::Json(number) => any_integer(&number, field),
        bytes => Err(ActivityError::wrong_type(field, "a number", bytes.kind())),
    }
}

/// Bytes, an array of byte values (0-255) or a string (its UTF-8 bytes).
fn bytes(field: &str, value: FieldValue) -> Result<Vec<u8>, ActivityError> {
    let wrong = |got: &str| {
        ActivityError::invalid(
            field,
            format!("must be a Uint8Array, an array of byte values or a string, got {got}"),
        )
    };
    match value {
        FieldValue::Bytes(bytes) => Ok(bytes),
        FieldValue::Json(Value::String(text)) => Ok(text.into_bytes()),
        FieldValue::Json(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_u64().and_then(|byte| u8::try_from(byte).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| wrong("an array holding something other than byte values")),
        FieldValue::Json(other) => Err(wrong(kind(&other))),
    }
}

/// A new envelope with the reference's field set: a fresh UUIDv4 `message_id`,
/// `correlation_id` generated when absent, `content_length`, `hlc_timestamp`
/// (`HLC:<unix µs>:0:<node>`), `timestamp: {seconds, nanos}` from `now_ms`, `payload` and
/// `audit_proof` as bytes, and every other field with its empty default (`""` or `0`).
pub fn build_envelope(options: &EnvelopeOptions, now_ms: i64) -> Result<Envelope, ActivityError> {
    build_envelope_with(options, now_ms, &mut fill_from_platform)
}

/// [`build_envelope`] with `fill_random` as the source of the UUIDs' random bytes.
pub fn build_envelope_with(
    options: &EnvelopeOptions,
    now_ms: i64,
    fill_random: &mut dyn FnMut(&mut [u8]) -> Result<(), ActivityError>,
) -> Result<Envelope, ActivityError> {
    if options.producer_id.is_empty() {
        return Err(ActivityError::invalid(
            "producerId",
            "must be a non-empty string",
        ));
    }
    let message_type = options
        .message_type
        .ok_or_else(|| ActivityError::invalid("messageType", "is missing"))?;
    let sequence_number = non_negative("sequenceNumber", options.sequence_number.unwrap_or(1))?;
    let retry_count = non_negative("retryCount", options.retry_count.unwrap_or(0))?;
    let ttl_ms = non_negative("ttlMs", options.ttl_ms.unwrap_or(0))?;
    let state = options.state.unwrap_or(envelope_state::SENT);
    if !envelope_state::VALID.contains(&state) {
        return Err(ActivityError::range(
            "state",
            state.to_string(),
            "an envelope state from 0 to 7",
        ));
    }

    let message_id = uuid_v4(fill_random)?;
    let correlation_id = match non_empty(&options.correlation_id) {
        Some(id) => id.to_string(),
        None => uuid_v4(fill_random)?,
    };
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let node = non_empty(&options.hlc_node).unwrap_or(DEFAULT_HLC_NODE);

    let mut env = Envelope::new();
    env.insert_json("message_id", message_id);
    env.insert_json("idempotency_token", text(&options.idempotency_token));
    env.insert_json("producer_id", options.producer_id.clone());
    env.insert_json("correlation_id", correlation_id);
    if let Some(parent) = &options.parent_correlation_id {
        env.insert_json("parent_correlation_id", parent.clone());
    }
    env.insert_json("sequence_number", sequence_number);
    env.insert_json("retry_count", retry_count);
    env.insert_json("message_type", message_type);
    let content_type = non_empty(&options.content_type).unwrap_or(DEFAULT_CONTENT_TYPE);
    env.insert_json("content_type", content_type);
    env.insert_json("content_length", options.payload.len());
    env.insert_json("repo_id", text(&options.repo_id));
    env.insert_json("worktree_id", text(&options.worktree_id));
    env.insert_json("hlc_timestamp", hlc_timestamp(now_ms, node));
    env.insert_json("timestamp", timestamp(now_ms));
    env.insert_json("ttl_ms", ttl_ms);
    env.insert_json("state", state);
    env.insert_json("effective_policy_id", text(&options.effective_policy_id));
    env.insert_bytes("payload", options.payload.clone());
    env.insert_bytes("audit_proof", options.audit_proof.clone());
    env.insert_json("audit_policy_id", text(&options.audit_policy_id));
    Ok(env)
}

/// `HLC:<unix microseconds>:0:<node>`, the reference's stub format (logical counter 0).
///
/// Clock readings are JS safe integers (|ms| < 2^53), so the microseconds fit an `i64`.
pub fn hlc_timestamp(now_ms: i64, node: &str) -> String {
    let micros = now_ms.saturating_mul(1000);
    format!("HLC:{micros}:0:{node}")
}

/// `{ seconds, nanos }` of `now_ms`, with `0 <= nanos < 1e9` for negative times too.
pub fn timestamp(now_ms: i64) -> Value {
    object([
        ("seconds", now_ms.div_euclid(1000).into()),
        ("nanos", (now_ms.rem_euclid(1000) * 1_000_000).into()),
    ])
}

/// A random (version 4, RFC 9562 variant) UUID in lowercase hyphenated form.
pub fn uuid_v4(
    fill_random: &mut dyn FnMut(&mut [u8]) -> Result<(), ActivityError>,
) -> Result<String, ActivityError> {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes)?;
    Ok(uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string())
}

/// Fills `bytes` from the platform's random source.
pub fn fill_from_platform(bytes: &mut [u8]) -> Result<(), ActivityError> {
    getrandom::fill(bytes).map_err(|e| ActivityError::Randomness {
        message: platform_error(e),
    })
}

/// On wasm the one failure of getrandom's `wasm_js` backend is "no Web Crypto API", which
/// getrandom's `Display` prints as `Unknown Error: 2147483658`: named here instead.
#[cfg(target_arch = "wasm32")]
fn platform_error(_: getrandom::Error) -> String {
    "Web Crypto API (crypto.getRandomValues) is unavailable".into()
}

#[cfg(not(target_arch = "wasm32"))]
fn platform_error(error: getrandom::Error) -> String {
    error.to_string()
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|s| !s.is_empty())
}

fn non_negative(field: &str, value: i64) -> Result<i64, ActivityError> {
    if (0..=MAX_SAFE_INTEGER).contains(&value) {
        Ok(value)
    } else {
        Err(ActivityError::range(
            field,
            value.to_string(),
            "a non-negative integer",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::activity::constants::message_type;
    use crate::core::activity::envelope::FieldValue;
    use serde_json::json;

    /// A deterministic source: 0, 1, 2, ... across calls.
    fn counting_source() -> impl FnMut(&mut [u8]) -> Result<(), ActivityError> {
        let mut next = 0u8;
        move |bytes: &mut [u8]| {
            for b in bytes.iter_mut() {
                *b = next;
                next = next.wrapping_add(1);
            }
            Ok(())
        }
    }

    fn build(options: &EnvelopeOptions, now_ms: i64) -> Result<Envelope, ActivityError> {
        build_envelope_with(options, now_ms, &mut counting_source())
    }

    #[test]
    fn builds_the_reference_field_set_with_defaults() {
        let env = build(
            &EnvelopeOptions::new("agent-a", message_type::DATA),
            1_700_000_000_123,
        )
        .unwrap();
        let names: Vec<&str> = env.fields().map(|(name, _)| name).collect();
        let mut expected = vec![
            "message_id",
            "idempotency_token",
            "producer_id",
            "correlation_id",
            "sequence_number",
            "retry_count",
            "message_type",
            "content_type",
            "content_length",
            "repo_id",
            "worktree_id",
            "hlc_timestamp",
            "timestamp",
            "ttl_ms",
            "state",
            "effective_policy_id",
            "payload",
            "audit_proof",
            "audit_policy_id",
        ];
        expected.sort_unstable();
        assert_eq!(names, expected);
        assert_eq!(
            env.message_id(),
            Some("00010203-0405-4607-8809-0a0b0c0d0e0f")
        );
        assert_eq!(env.correlation_id(), "10111213-1415-4617-9819-1a1b1c1d1e1f");
        let json = |name| env.get_json(name).cloned().unwrap();
        assert_eq!(json("idempotency_token"), json!(""));
        assert_eq!(json("producer_id"), json!("agent-a"));
        assert_eq!(json("sequence_number"), json!(1));
        assert_eq!(json("retry_count"), json!(0));
        assert_eq!(json("message_type"), json!(2));
        assert_eq!(json("content_type"), json!("application/json"));
        assert_eq!(json("content_length"), json!(0));
        assert_eq!(json("repo_id"), json!(""));
        assert_eq!(json("worktree_id"), json!(""));
        assert_eq!(
            json("hlc_timestamp"),
            json!("HLC:1700000000123000:0:unknown")
        );
        assert_eq!(
            json("timestamp"),
            json!({"seconds": 1_700_000_000i64, "nanos": 123_000_000})
        );
        assert_eq!(json("ttl_ms"), json!(0));
        assert_eq!(json("state"), json!(envelope_state::SENT));
        assert_eq!(json("effective_policy_id"), json!(""));
        assert_eq!(json("audit_policy_id"), json!(""));
        assert_eq!(env.get_bytes("payload"), Some(&[][..]));
        assert_eq!(env.get_bytes("audit_proof"), Some(&[][..]));
        assert_eq!(
            env.validate_for_record(),
            Ok("00010203-0405-4607-8809-0a0b0c0d0e0f")
        );
    }

    #[test]
    fn uses_every_given_option() {
        let options = EnvelopeOptions {
            content_type: Some("application/octet-stream".into()),
            payload: vec![0, 159, 255],
            correlation_id: Some("corr-1".into()),
            parent_correlation_id: Some("corr-0".into()),
            sequence_number: Some(7),
            retry_count: Some(2),
            idempotency_token: Some("agent-a:op:0011".into()),
            repo_id: Some("repo".into()),
            worktree_id: Some("wt".into()),
            ttl_ms: Some(5000),
            state: Some(envelope_state::PENDING),
            effective_policy_id: Some("pol".into()),
            audit_proof: vec![9, 9],
            audit_policy_id: Some("audit".into()),
            hlc_node: Some("node-7".into()),
            ..EnvelopeOptions::new("agent-a", message_type::TOOL_CALL)
        };
        let env = build(&options, 5).unwrap();
        assert_eq!(env.correlation_id(), "corr-1");
        assert_eq!(
            env.get_json("parent_correlation_id"),
            Some(&json!("corr-0"))
        );
        assert_eq!(env.get_json("content_length"), Some(&json!(3)));
        assert_eq!(env.get_bytes("payload"), Some(&[0, 159, 255][..]));
        assert_eq!(env.get_bytes("audit_proof"), Some(&[9, 9][..]));
        assert_eq!(env.get_json("sequence_number"), Some(&json!(7)));
        assert_eq!(env.get_json("retry_count"), Some(&json!(2)));
        assert_eq!(env.get_json("ttl_ms"), Some(&json!(5000)));
        assert_eq!(env.idempotency_token(), "agent-a:op:0011");
        assert_eq!(env.state(), 2);
        assert_eq!(
            env.get_json("hlc_timestamp"),
            Some(&json!("HLC:5000:0:node-7"))
        );
        assert_eq!(
            env.get_json("timestamp"),
            Some(&json!({"seconds": 0, "nanos": 5_000_000}))
        );
        for (name, value) in [
            ("repo_id", "repo"),
            ("worktree_id", "wt"),
            ("effective_policy_id", "pol"),
            ("audit_policy_id", "audit"),
            ("content_type", "application/octet-stream"),
        ] {
            assert_eq!(env.get_json(name), Some(&json!(value)), "{name}");
        }
    }

    #[test]
    fn every_build_gets_fresh_platform_uuids() {
        let options = EnvelopeOptions::new("agent-a", message_type::DATA);
        let a = build_envelope(&options, 0).unwrap();
        let b = build_envelope(&options, 0).unwrap();
        assert_ne!(a.message_id(), b.message_id());
        assert_ne!(a.message_id().unwrap(), a.correlation_id());
        for id in [a.message_id().unwrap(), a.correlation_id()] {
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4", "version nibble of {id}");
            assert!("89ab".contains(&id[19..20]), "variant of {id}");
        }
    }

    #[test]
    fn an_empty_correlation_id_is_generated() {
        let options = EnvelopeOptions {
            correlation_id: Some(String::new()),
            ..EnvelopeOptions::new("p", 1)
        };
        assert_eq!(build(&options, 0).unwrap().correlation_id().len(), 36);
    }

    #[test]
    fn negative_times_keep_nanos_non_negative() {
        assert_eq!(timestamp(-1), json!({"seconds": -1, "nanos": 999_000_000}));
        assert_eq!(hlc_timestamp(-1, "n"), "HLC:-1000:0:n");
    }

    #[test]
    fn bad_options_are_rejected_before_any_randomness_is_used() {
        let mut calls = 0;
        let mut source = |_: &mut [u8]| {
            calls += 1;
            Ok(())
        };
        let cases: Vec<(EnvelopeOptions, &str)> = vec![
            (
                EnvelopeOptions::new("", 1),
                "producerId must be a non-empty string",
            ),
            (
                EnvelopeOptions {
                    message_type: None,
                    ..EnvelopeOptions::new("p", 1)
                },
                "messageType is missing",
            ),
            (
                EnvelopeOptions {
                    sequence_number: Some(-1),
                    ..EnvelopeOptions::new("p", 1)
                },
                "sequenceNumber must be a non-negative integer, got -1",
            ),
            (
                EnvelopeOptions {
                    retry_count: Some(-2),
                    ..EnvelopeOptions::new("p", 1)
                },
                "retryCount must be a non-negative integer, got -2",
            ),
            (
                EnvelopeOptions {
                    ttl_ms: Some(-3),
                    ..EnvelopeOptions::new("p", 1)
                },
                "ttlMs must be a non-negative integer, got -3",
            ),
            (
                EnvelopeOptions {
                    state: Some(8),
                    ..EnvelopeOptions::new("p", 1)
                },
                "state must be an envelope state from 0 to 7, got 8",
            ),
        ];
        for (options, message) in cases {
            let err = build_envelope_with(&options, 0, &mut source).unwrap_err();
            assert_eq!(err.to_string(), message);
        }
        assert_eq!(calls, 0);
    }

    #[test]
    fn a_failing_random_source_is_an_error() {
        let mut failing = |_: &mut [u8]| {
            Err(ActivityError::Randomness {
                message: "no entropy".into(),
            })
        };
        let err = build_envelope_with(&EnvelopeOptions::new("p", 1), 0, &mut failing).unwrap_err();
        assert_eq!(err.code(), "RANDOMNESS_UNAVAILABLE");
    }

    fn options(value: Value) -> Result<EnvelopeOptions, ActivityError> {
        let Value::Object(map) = value else {
            panic!("not an object")
        };
        EnvelopeOptions::from_fields(map.into_iter().map(|(k, v)| (k, FieldValue::Json(v))))
    }

    #[test]
    fn options_read_from_camel_case_fields() {
        let options = options(json!({
            "producerId": "agent-a",
            "messageType": 9,
            "payload": "hé",
            "auditProof": [1, 2],
            "ttlMs": 10,
            "correlationId": null,
        }))
        .unwrap();
        assert_eq!(options.producer_id, "agent-a");
        assert_eq!(options.message_type, Some(9));
        assert_eq!(options.payload, "hé".as_bytes());
        assert_eq!(options.audit_proof, vec![1, 2]);
        assert_eq!(options.ttl_ms, Some(10));
        assert_eq!(options.correlation_id, None);
        let from_bytes = EnvelopeOptions::from_fields([
            ("producerId".to_owned(), FieldValue::Json(json!("p"))),
            ("payload".to_owned(), FieldValue::Bytes(vec![7, 8])),
        ])
        .unwrap();
        assert_eq!(from_bytes.payload, vec![7, 8]);
        let env = build(&options, 0).unwrap();
        assert_eq!(
            env.get("payload"),
            Some(&FieldValue::Bytes("hé".as_bytes().to_vec()))
        );
        assert_eq!(env.get_json("content_length"), Some(&json!(3)));
    }

    #[test]
    fn bad_options_name_the_option() {
        let message = |value: Value| options(value).unwrap_err().to_string();
        assert_eq!(
            message(json!({"producerID": "p"})),
            "producerID is not a buildEnvelope option"
        );
        assert_eq!(
            message(json!({"producerId": 5})),
            "producerId must be a string, got a number"
        );
        assert_eq!(
            message(json!({"retryCount": "1"})),
            "retryCount must be a number, got a string"
        );
        assert!(message(json!({"ttlMs": 1.5})).starts_with("ttlMs must be an integer"));
        assert!(message(json!({"payload": [1, 256]})).starts_with("payload must be a Uint8Array"));
        assert!(message(json!({"auditProof": 5})).ends_with("got a number"));
        let err = EnvelopeOptions::from_fields([("repoId".to_owned(), FieldValue::Bytes(vec![1]))])
            .unwrap_err();
        assert_eq!(err.to_string(), "repoId must be a string, got bytes");
    }
}
