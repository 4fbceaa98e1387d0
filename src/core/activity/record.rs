//! What the buffer keeps per message, and the acks that move it along.

use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;

use super::constants::{ack_stage, error_code};
use super::envelope::{Envelope, FieldValue};
use super::error::ActivityError;
use super::json::{any_integer, integer_in};
use crate::core::describe::kind;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    /// `"in"` or `"out"`, as the reference writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "in" => Some(Direction::In),
            "out" => Some(Direction::Out),
            _ => None,
        }
    }
}

impl Serialize for Direction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What the buffer reads from, and writes to, the envelopes it records.
///
/// [`Envelope`] is the whole wire object. The wasm binding records a handle instead: the
/// envelope itself stays on the JS heap, and the handle carries copies of the fields below.
pub trait RecordedEnvelope {
    /// The message id, once the fields the buffer relies on are checked (see
    /// [`Envelope::validate_for_record`]).
    fn validate_for_record(&self) -> Result<&str, ActivityError>;
    /// The idempotency token, `""` when absent; an error when it is not a string.
    fn checked_idempotency_token(&self) -> Result<&str, ActivityError>;
    /// `""` when absent.
    fn idempotency_token(&self) -> &str;
    /// `""` when absent.
    fn correlation_id(&self) -> &str;
    /// `UNSPECIFIED` (0) when absent.
    fn state(&self) -> i64;
    fn set_state(&mut self, state: i64);
}

impl RecordedEnvelope for Envelope {
    fn validate_for_record(&self) -> Result<&str, ActivityError> {
        Envelope::validate_for_record(self)
    }

    fn checked_idempotency_token(&self) -> Result<&str, ActivityError> {
        match self.get("idempotency_token") {
            None | Some(FieldValue::Json(Value::String(_) | Value::Null)) => {
                Ok(Envelope::idempotency_token(self))
            }
            Some(_) => Err(ActivityError::invalid(
                "idempotency_token",
                "must be a string",
            )),
        }
    }

    fn idempotency_token(&self) -> &str {
        Envelope::idempotency_token(self)
    }

    fn correlation_id(&self) -> &str {
        Envelope::correlation_id(self)
    }

    fn state(&self) -> i64 {
        Envelope::state(self)
    }

    fn set_state(&mut self, state: i64) {
        self.insert_json("state", state);
    }
}

/// One recorded message.
///
/// Invariants (held by the buffer, which hands out only shared references):
/// `message_id == envelope.message_id()`, non-empty; `ack_stage` is 0-6; `ts_ms` is the
/// buffer's clock when the message was (last) recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRecord<E = Envelope> {
    pub message_id: String,
    pub direction: Direction,
    pub envelope: E,
    pub ts_ms: i64,
    pub ack_stage: i64,
    pub error_code: i64,
    pub ack_note: String,
}

impl<E> ActivityRecord<E> {
    /// The same record with its envelope replaced by `convert(envelope)`.
    pub fn map_envelope<H>(self, convert: impl FnOnce(E) -> H) -> ActivityRecord<H> {
        ActivityRecord {
            message_id: self.message_id,
            direction: self.direction,
            envelope: convert(self.envelope),
            ts_ms: self.ts_ms,
            ack_stage: self.ack_stage,
            error_code: self.error_code,
            ack_note: self.ack_note,
        }
    }
}

impl<E: RecordedEnvelope> ActivityRecord<E> {
    /// A fresh record: stage UNSPECIFIED, no error, no note.
    pub(crate) fn new(message_id: String, direction: Direction, envelope: E, ts_ms: i64) -> Self {
        ActivityRecord {
            message_id,
            direction,
            envelope,
            ts_ms,
            ack_stage: ack_stage::UNSPECIFIED,
            error_code: error_code::UNSPECIFIED,
            ack_note: String::new(),
        }
    }

    /// The envelope's `state` (0 when absent).
    pub fn state(&self) -> i64 {
        self.envelope.state()
    }

    /// The envelope's `idempotency_token` (`""` when absent).
    pub fn idempotency_token(&self) -> &str {
        self.envelope.idempotency_token()
    }

    /// The envelope's `correlation_id` (`""` when absent).
    pub fn correlation_id(&self) -> &str {
        self.envelope.correlation_id()
    }

    /// Still waiting for a decisive ack: stage UNSPECIFIED, RECEIVED or READ.
    pub fn is_unacked(&self) -> bool {
        matches!(
            self.ack_stage,
            ack_stage::UNSPECIFIED | ack_stage::RECEIVED | ack_stage::READ
        )
    }
}

/// The plain object handed to callers: the seven stored fields plus the derived
/// `state`, `idempotency_token` and `correlation_id`.
impl<E: RecordedEnvelope + Serialize> Serialize for ActivityRecord<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("ActivityRecord", 10)?;
        s.serialize_field("message_id", &self.message_id)?;
        s.serialize_field("direction", &self.direction)?;
        s.serialize_field("envelope", &self.envelope)?;
        s.serialize_field("ts_ms", &self.ts_ms)?;
        s.serialize_field("ack_stage", &self.ack_stage)?;
        s.serialize_field("error_code", &self.error_code)?;
        s.serialize_field("ack_note", &self.ack_note)?;
        s.serialize_field("state", &self.state())?;
        s.serialize_field("idempotency_token", self.idempotency_token())?;
        s.serialize_field("correlation_id", self.correlation_id())?;
        s.end()
    }
}

/// An acknowledgement of a recorded message.
///
/// `ack_stage` is checked (0-6) by `ActivityBuffer::ack`, so a hand-built `Ack` is checked
/// as well as a parsed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub ack_for_message_id: String,
    pub ack_stage: i64,
    pub error_code: i64,
    pub note: String,
}

impl Ack {
    pub fn new(ack_for_message_id: impl Into<String>, ack_stage: i64) -> Self {
        Ack {
            ack_for_message_id: ack_for_message_id.into(),
            ack_stage,
            error_code: error_code::UNSPECIFIED,
            note: String::new(),
        }
    }

    pub fn with_error(mut self, error_code: i64, note: impl Into<String>) -> Self {
        self.error_code = error_code;
        self.note = note.into();
        self
    }

    /// Reads `{ ack_for_message_id, ack_stage, error_code = 0, note = '' }`.
    ///
    /// `ack_for_message_id` must be a string and `note` a string (null = default);
    /// `ack_stage` must be an integer 0-6 (anything else, absent included, is a `Range`
    /// error); `error_code` an integer.
    pub fn from_value(value: &Value) -> Result<Ack, ActivityError> {
        let Value::Object(map) = value else {
            return Err(ActivityError::wrong_type("ack", "an object", kind(value)));
        };
        let ack_for_message_id = match map.get("ack_for_message_id") {
            Some(Value::String(id)) => id.as_str(),
            None | Some(Value::Null) => {
                return Err(ActivityError::invalid("ack_for_message_id", "is missing"))
            }
            Some(other) => {
                return Err(ActivityError::wrong_type(
                    "ack_for_message_id",
                    "a string",
                    kind(other),
                ))
            }
        };
        let ack_stage = match map.get("ack_stage") {
            Some(stage @ Value::Number(_)) => {
                integer_in(stage, "ack_stage", ack_stage::VALID, STAGE_EXPECTED)?
            }
            other => {
                let shown = other.map_or("undefined", kind);
                return Err(ActivityError::range("ack_stage", shown, STAGE_EXPECTED));
            }
        };
        let error_code = match map.get("error_code") {
            None | Some(Value::Null) => error_code::UNSPECIFIED,
            Some(code) => any_integer(code, "error_code")?,
        };
        let note = match map.get("note") {
            None | Some(Value::Null) => "",
            Some(Value::String(note)) => note.as_str(),
            Some(other) => return Err(ActivityError::wrong_type("note", "a string", kind(other))),
        };
        // Borrowed until every field is checked: no copies to drop on an error.
        Ok(Ack {
            ack_for_message_id: ack_for_message_id.to_owned(),
            ack_stage,
            error_code,
            note: note.to_owned(),
        })
    }
}

pub(crate) const STAGE_EXPECTED: &str = "an integer from 0 to 6";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_the_plain_record_object() {
        let env = Envelope::from_json(json!({
            "message_id": "m1", "state": 1, "idempotency_token": "t", "correlation_id": "c"
        }))
        .unwrap();
        let record = ActivityRecord::new("m1".into(), Direction::Out, env, 42);
        assert_eq!(
            serde_json::to_value(&record).unwrap(),
            json!({
                "message_id": "m1", "direction": "out",
                "envelope": {"message_id": "m1", "state": 1, "idempotency_token": "t", "correlation_id": "c"},
                "ts_ms": 42, "ack_stage": 0, "error_code": 0, "ack_note": "",
                "state": 1, "idempotency_token": "t", "correlation_id": "c",
            })
        );
        assert!(record.is_unacked());
    }

    #[test]
    fn directions_parse_and_print() {
        assert_eq!(Direction::parse("in"), Some(Direction::In));
        assert_eq!(Direction::parse("out"), Some(Direction::Out));
        assert_eq!(Direction::parse("OUT"), None);
        assert_eq!(Direction::Out.as_str(), "out");
    }

    #[test]
    fn ack_from_value_applies_defaults() {
        let ack = Ack::from_value(&json!({"ack_for_message_id": "m1", "ack_stage": 2})).unwrap();
        assert_eq!(ack, Ack::new("m1", 2));
        let ack = Ack::from_value(&json!({
            "ack_for_message_id": "m1", "ack_stage": 5.0, "error_code": 3, "note": "late"
        }))
        .unwrap();
        assert_eq!(ack, Ack::new("m1", 5).with_error(3, "late"));
    }

    #[test]
    fn ack_from_value_rejects_bad_input() {
        let err = |v: Value| Ack::from_value(&v).unwrap_err();
        let range = |v: Value| matches!(err(v), ActivityError::Range { ref field, .. } if field == "ack_stage");
        assert!(range(json!({"ack_for_message_id": "m", "ack_stage": 7})));
        assert!(range(json!({"ack_for_message_id": "m", "ack_stage": -1})));
        assert!(range(json!({"ack_for_message_id": "m", "ack_stage": 1.5})));
        assert!(range(json!({"ack_for_message_id": "m", "ack_stage": "3"})));
        assert!(range(json!({"ack_for_message_id": "m"})));
        assert_eq!(
            err(json!({"ack_for_message_id": "m", "ack_stage": 9})).to_string(),
            "ack_stage must be an integer from 0 to 6, got 9"
        );
        assert_eq!(
            err(json!({"ack_stage": 1})).to_string(),
            "ack_for_message_id is missing"
        );
        assert_eq!(
            err(json!({"ack_for_message_id": 1, "ack_stage": 1})).to_string(),
            "ack_for_message_id must be a string, got a number"
        );
        assert_eq!(
            err(json!({"ack_for_message_id": "m", "ack_stage": 1, "note": 5})).to_string(),
            "note must be a string, got a number"
        );
        assert!(matches!(
            err(json!({"ack_for_message_id": "m", "ack_stage": 1, "error_code": 0.5})),
            ActivityError::Range { ref field, .. } if field == "error_code"
        ));
        assert_eq!(
            err(json!("m1")).to_string(),
            "ack must be an object, got a string"
        );
    }
}
