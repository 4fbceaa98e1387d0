//! The SW4RM envelope as a wire object: snake_case field names mapped to JSON values or
//! raw bytes.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::constants::envelope_state;
use super::error::ActivityError;
use super::json::integer_in;
use crate::core::describe::kind;
use crate::core::number::safe_integer;

/// Snapshot marker listing an envelope's byte fields; never a field of a live envelope.
pub const BYTES_FIELDS_KEY: &str = "_bytes_fields";
/// The reference's snapshot marker for a base64 `payload`; never a field of a live envelope.
pub const PAYLOAD_IS_B64_KEY: &str = "_payload_is_b64";

/// One field of an envelope.
///
/// Serialises `Bytes` with `serialize_bytes` (an array of numbers through serde_json);
/// deserialises byte buffers as `Bytes` and everything else as `Json`.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Json(Value),
    Bytes(Vec<u8>),
}

/// An envelope: field name -> value, unknown fields included.
///
/// Invariants: an `Envelope` owns all of its data (recording one stores an independent
/// copy); byte values appear only at the top level; `fields` is sorted by name with no name
/// twice (field order is not significant, so equal envelopes compare equal). A sorted `Vec`:
/// envelopes hold a few dozen fields, looked up by binary search.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Envelope {
    fields: Vec<(String, FieldValue)>,
}

impl Envelope {
    pub fn new() -> Self {
        Envelope::default()
    }

    /// An envelope from a parsed JSON object; all its fields are `Json`.
    pub fn from_json(value: Value) -> Result<Self, ActivityError> {
        match value {
            // A JSON object's keys are unique and iterate sorted.
            Value::Object(map) => Ok(Envelope {
                fields: map
                    .into_iter()
                    .map(|(name, value)| (name, FieldValue::Json(value)))
                    .collect(),
            }),
            other => Err(ActivityError::wrong_type(
                "envelope",
                "an object",
                kind(&other),
            )),
        }
    }

    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        let index = self.position(name).ok()?;
        Some(&self.fields[index].1)
    }

    /// Where `name` is, or where it would be inserted.
    fn position(&self, name: &str) -> Result<usize, usize> {
        self.fields
            .binary_search_by(|(field, _)| field.as_str().cmp(name))
    }

    /// The field's JSON value; `None` when absent or bytes.
    pub fn get_json(&self, name: &str) -> Option<&Value> {
        match self.get(name) {
            Some(FieldValue::Json(value)) => Some(value),
            _ => None,
        }
    }

    /// The field's bytes; `None` when absent or JSON.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        match self.get(name) {
            Some(FieldValue::Bytes(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// Sets a field, returning its previous value.
    pub fn insert(&mut self, name: impl Into<String>, value: FieldValue) -> Option<FieldValue> {
        self.insert_named(name.into(), value)
    }

    fn insert_named(&mut self, name: String, value: FieldValue) -> Option<FieldValue> {
        match self.position(&name) {
            Ok(index) => Some(std::mem::replace(&mut self.fields[index].1, value)),
            Err(index) => {
                self.fields.insert(index, (name, value));
                None
            }
        }
    }

    pub fn insert_json(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.insert(name, FieldValue::Json(value.into()));
    }

    pub fn insert_bytes(&mut self, name: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        self.insert(name, FieldValue::Bytes(bytes.into()));
    }

    pub fn remove(&mut self, name: &str) -> Option<FieldValue> {
        let index = self.position(name).ok()?;
        Some(self.fields.remove(index).1)
    }

    /// Fields sorted by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &FieldValue)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_str(), value))
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `message_id` when it is a string.
    pub fn message_id(&self) -> Option<&str> {
        self.string_field("message_id")
    }

    /// `idempotency_token`; `""` when absent, null or not a string.
    pub fn idempotency_token(&self) -> &str {
        self.string_field("idempotency_token").unwrap_or("")
    }

    /// `correlation_id`; `""` when absent, null or not a string.
    pub fn correlation_id(&self) -> &str {
        self.string_field("correlation_id").unwrap_or("")
    }

    /// `state`; `UNSPECIFIED` (0) when absent, null or not an integer.
    pub fn state(&self) -> i64 {
        self.get_json("state")
            .and_then(Value::as_i64)
            .or_else(|| self.get_json("state")?.as_f64().and_then(safe_integer))
            .unwrap_or(0)
    }

    fn string_field(&self, name: &str) -> Option<&str> {
        self.get_json(name).and_then(Value::as_str)
    }

    /// Checks what the buffer relies on and returns the message id.
    ///
    /// `message_id` is a non-empty string; `idempotency_token` and `correlation_id` are
    /// strings or absent/null; `state` is an envelope state (0-7, the range `updateState` and
    /// `buildEnvelope` accept) or absent/null; the snapshot markers are absent.
    pub fn validate_for_record(&self) -> Result<&str, ActivityError> {
        let message_id = match self.get("message_id") {
            None | Some(FieldValue::Json(Value::Null)) => {
                return Err(ActivityError::invalid("message_id", "is missing"))
            }
            Some(FieldValue::Json(Value::String(id))) if id.is_empty() => {
                return Err(ActivityError::invalid("message_id", "must not be empty"))
            }
            Some(FieldValue::Json(Value::String(id))) => id.as_str(),
            Some(other) => {
                return Err(ActivityError::wrong_type(
                    "message_id",
                    "a string",
                    other.kind(),
                ))
            }
        };
        for name in ["idempotency_token", "correlation_id"] {
            match self.get(name) {
                None | Some(FieldValue::Json(Value::Null | Value::String(_))) => {}
                Some(other) => {
                    return Err(ActivityError::wrong_type(name, "a string", other.kind()))
                }
            }
        }
        match self.get("state") {
            None | Some(FieldValue::Json(Value::Null)) => {}
            Some(FieldValue::Json(state)) => {
                integer_in(
                    state,
                    "state",
                    envelope_state::VALID,
                    "an envelope state from 0 to 7",
                )?;
            }
            Some(FieldValue::Bytes(_)) => {
                return Err(ActivityError::invalid(
                    "state",
                    "must be a number, got bytes",
                ))
            }
        }
        for marker in [BYTES_FIELDS_KEY, PAYLOAD_IS_B64_KEY] {
            if self.position(marker).is_ok() {
                return Err(ActivityError::invalid(
                    marker,
                    "is reserved for snapshots and cannot be a field of a recorded envelope",
                ));
            }
        }
        Ok(message_id)
    }
}

impl FieldValue {
    /// What kind of value this is, for messages ("a string", "bytes"); never the value.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            FieldValue::Json(value) => kind(value),
            FieldValue::Bytes(_) => "bytes",
        }
    }
}

impl Serialize for FieldValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Json(value) => value.serialize(serializer),
            FieldValue::Bytes(bytes) => serializer.serialize_bytes(bytes),
        }
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldValueVisitor)
    }
}

struct FieldValueVisitor;

impl<'de> Visitor<'de> for FieldValueVisitor {
    type Value = FieldValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value or bytes")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<FieldValue, E> {
        Ok(FieldValue::Bytes(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<FieldValue, E> {
        Ok(FieldValue::Bytes(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::from(v)))
    }

    /// Non-finite numbers become null, as `JSON.stringify` writes them.
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::from(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::String(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::String(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Json(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<FieldValue, D::Error> {
        FieldValue::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<FieldValue, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(FieldValue::Json)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldValue, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(FieldValue::Json)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields = BTreeMap::<String, FieldValue>::deserialize(deserializer)?;
        Ok(Envelope {
            fields: fields.into_iter().collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{BytesDeserializer, Error as ValueError};
    use serde_json::json;

    fn envelope(value: Value) -> Envelope {
        Envelope::from_json(value).unwrap()
    }

    #[test]
    fn from_json_keeps_every_field() {
        let env = envelope(json!({"message_id": "m1", "x_custom": {"k": [1, null]}}));
        assert_eq!(env.len(), 2);
        assert_eq!(env.get_json("x_custom"), Some(&json!({"k": [1, null]})));
        assert!(Envelope::from_json(json!([1])).is_err());
    }

    #[test]
    fn accessors_default_like_the_reference() {
        let env = envelope(json!({"message_id": "m1"}));
        assert_eq!(env.message_id(), Some("m1"));
        assert_eq!(env.idempotency_token(), "");
        assert_eq!(env.correlation_id(), "");
        assert_eq!(env.state(), 0);
        let env = envelope(json!({"state": 4.0, "idempotency_token": "t", "correlation_id": "c"}));
        assert_eq!(env.state(), 4);
        assert_eq!(env.idempotency_token(), "t");
        assert_eq!(env.correlation_id(), "c");
    }

    #[test]
    fn validation_requires_a_non_empty_string_message_id() {
        let err = |v: Value| envelope(v).validate_for_record().unwrap_err().to_string();
        assert_eq!(err(json!({})), "message_id is missing");
        assert_eq!(err(json!({"message_id": null})), "message_id is missing");
        assert_eq!(
            err(json!({"message_id": ""})),
            "message_id must not be empty"
        );
        assert_eq!(
            err(json!({"message_id": 5})),
            "message_id must be a string, got a number"
        );
        let mut env = Envelope::new();
        env.insert_bytes("message_id", b"m1".to_vec());
        assert_eq!(
            env.validate_for_record().unwrap_err().to_string(),
            "message_id must be a string, got bytes"
        );
    }

    #[test]
    fn validation_checks_token_correlation_state_and_markers() {
        let err = |v: Value| envelope(v).validate_for_record().unwrap_err();
        let e = err(json!({"message_id": "m", "idempotency_token": 7}));
        assert_eq!(
            e.to_string(),
            "idempotency_token must be a string, got a number"
        );
        let e = err(json!({"message_id": "m", "correlation_id": []}));
        assert_eq!(
            e.to_string(),
            "correlation_id must be a string, got an array"
        );
        let e = err(json!({"message_id": "m", "state": 2.5}));
        assert!(matches!(e, ActivityError::Range { ref field, .. } if field == "state"));
        let e = err(json!({"message_id": "m", "state": "SENT"}));
        assert!(matches!(e, ActivityError::InvalidArgument { ref field, .. } if field == "state"));
        let e = err(json!({"message_id": "m", "_bytes_fields": []}));
        assert!(
            matches!(e, ActivityError::InvalidArgument { ref field, .. } if field == "_bytes_fields")
        );
        let e = err(json!({"message_id": "m", "_payload_is_b64": true}));
        assert!(matches!(e, ActivityError::InvalidArgument { .. }));
        for state in [42, -1, 8] {
            let e = err(json!({"message_id": "m", "state": state}));
            assert_eq!(
                e.to_string(),
                format!("state must be an envelope state from 0 to 7, got {state}")
            );
        }
        let ok = envelope(json!({"message_id": "m", "state": 7, "idempotency_token": null}));
        assert_eq!(ok.validate_for_record(), Ok("m"));
    }

    #[test]
    fn serde_round_trip_keeps_bytes_as_bytes() {
        let mut env = envelope(json!({"message_id": "m1", "n": 1.5}));
        env.insert_bytes("payload", vec![0u8, 255]);
        let written = serde_json::to_value(&env).unwrap();
        assert_eq!(
            written,
            json!({"message_id": "m1", "n": 1.5, "payload": [0, 255]})
        );
        let read: Envelope =
            serde_json::from_value(json!({"a": {"b": [true]}, "c": null})).unwrap();
        assert_eq!(read.get_json("a"), Some(&json!({"b": [true]})));
        assert_eq!(read.get_json("c"), Some(&Value::Null));
    }

    #[test]
    fn byte_buffers_deserialize_as_bytes() {
        let value =
            FieldValue::deserialize(BytesDeserializer::<ValueError>::new(&[1, 2, 3])).unwrap();
        assert_eq!(value, FieldValue::Bytes(vec![1, 2, 3]));
    }
}
