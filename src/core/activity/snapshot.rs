//! Snapshots in the reference's JSON file format (`JSONFilePersistence`, version "1.0"):
//!
//! ```text
//! { "records": { <id>: { message_id, direction, envelope, ts_ms, ack_stage, error_code, ack_note } },
//!   "order": [<id>, ...], "version": "1.0" }
//! ```
//!
//! Byte fields of an envelope are written as base64 strings and named, sorted, in the
//! envelope's `_bytes_fields`. When `payload` is bytes, `_payload_is_b64: true` is written
//! too: it is the only marker the reference's loader reads, so it can load our snapshots.
//! Reading accepts both markers (the reference writes only `_payload_is_b64`) and removes
//! them from the loaded envelopes.
//!
//! Reading is strict where the reference is lenient: any malformation is a
//! `Snapshot { path, problem }` error and nothing is loaded.

use std::ops::RangeInclusive;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{Map, Value};

use super::buffer::{ActivityBuffer, ActivityBufferOptions};
use super::constants::ack_stage;
use super::envelope::{Envelope, FieldValue, BYTES_FIELDS_KEY, PAYLOAD_IS_B64_KEY};
use super::error::ActivityError;
use super::json::{integer_in, object};
use super::record::{ActivityRecord, Direction, RecordedEnvelope, STAGE_EXPECTED};
use crate::core::describe::kind;
use crate::core::json;
use crate::core::number::MAX_SAFE_INTEGER;

/// The only snapshot version there is.
pub const SNAPSHOT_VERSION: &str = "1.0";

const RECORD_FIELDS: [&str; 7] = [
    "message_id",
    "direction",
    "envelope",
    "ts_ms",
    "ack_stage",
    "error_code",
    "ack_note",
];

impl<E: RecordedEnvelope> ActivityBuffer<E> {
    /// The buffer in the reference file format, each record's envelope given by
    /// `envelope_of` (the first error stops it).
    pub fn to_snapshot_with<X>(
        &self,
        envelope_of: impl FnMut(&E) -> Result<Envelope, X>,
    ) -> Result<Value, X> {
        snapshot_of(&self.records().collect::<Vec<_>>(), envelope_of)
    }
}

/// `records` (in their order) in the reference file format, each record's envelope given
/// by `envelope_of` (the first error stops it). A durable buffer writes its changed
/// records through this, so stored records have exactly the snapshot's form.
pub fn snapshot_of<E, X>(
    records: &[&ActivityRecord<E>],
    mut envelope_of: impl FnMut(&E) -> Result<Envelope, X>,
) -> Result<Value, X> {
    let mut records_map = Map::new();
    let mut order = Vec::with_capacity(records.len());
    for record in records.iter().copied() {
        let envelope = envelope_of(&record.envelope)?;
        records_map.insert(
            record.message_id.clone(),
            record_to_snapshot(record, &envelope),
        );
        order.push(Value::String(record.message_id.clone()));
    }
    Ok(snapshot_object(records_map, order))
}

impl ActivityBuffer {
    /// The buffer in the reference file format.
    pub fn to_snapshot(&self) -> Value {
        let mut records = Map::new();
        let mut order = Vec::with_capacity(self.len());
        for record in self.records() {
            records.insert(
                record.message_id.clone(),
                record_to_snapshot(record, &record.envelope),
            );
            order.push(Value::String(record.message_id.clone()));
        }
        snapshot_object(records, order)
    }

    /// A buffer holding a snapshot's records in its order, with fresh statistics.
    ///
    /// Errors: any malformation -> `Snapshot`; more records than `options.max_items` ->
    /// `BufferFull`; bad options -> as [`ActivityBuffer::new`].
    pub fn from_snapshot(
        snapshot: &Value,
        options: ActivityBufferOptions,
    ) -> Result<Self, ActivityError> {
        ActivityBuffer::from_snapshot_with(snapshot, options, |envelope| envelope)
    }
}

impl<E: RecordedEnvelope> ActivityBuffer<E> {
    /// [`ActivityBuffer::from_snapshot`] keeping each loaded envelope as `hold(envelope)`,
    /// which must keep what [`RecordedEnvelope`] reads (message id, token, correlation id,
    /// state). `hold` is called once per record, in order, after the whole snapshot has
    /// been checked.
    pub fn from_snapshot_with(
        snapshot: &Value,
        options: ActivityBufferOptions,
        mut hold: impl FnMut(Envelope) -> E,
    ) -> Result<Self, ActivityError> {
        let records = records_from_snapshot(snapshot)?
            .into_iter()
            .map(|record| record.map_envelope(&mut hold))
            .collect();
        ActivityBuffer::from_records(records, options)
    }
}

/// The snapshot form of an envelope: bytes as base64, named in `_bytes_fields`.
pub fn envelope_to_snapshot(envelope: &Envelope) -> Value {
    let mut map = Map::new();
    let mut bytes_fields = Vec::new();
    for (name, value) in envelope.fields() {
        let written = match value {
            FieldValue::Json(value) => value.clone(),
            FieldValue::Bytes(bytes) => {
                bytes_fields.push(Value::String(name.to_owned()));
                Value::String(BASE64.encode(bytes))
            }
        };
        map.insert(name.to_owned(), written);
    }
    if envelope.get_bytes("payload").is_some() {
        map.insert(PAYLOAD_IS_B64_KEY.to_owned(), Value::Bool(true));
    }
    if !bytes_fields.is_empty() {
        map.insert(BYTES_FIELDS_KEY.to_owned(), Value::Array(bytes_fields));
    }
    Value::Object(map)
}

/// Reads the snapshot form of an envelope; `path` prefixes error paths.
pub fn envelope_from_snapshot(value: &Value, path: &str) -> Result<Envelope, ActivityError> {
    let Value::Object(map) = value else {
        return Err(must_be(path, "an object", value));
    };
    let mut bytes_fields: Vec<String> = Vec::new();
    match map.get(BYTES_FIELDS_KEY) {
        None => {}
        Some(Value::Array(names)) => {
            for (i, name) in names.iter().enumerate() {
                let name_path = format!("{path}.{BYTES_FIELDS_KEY}[{i}]");
                let Value::String(name) = name else {
                    return Err(must_be(&name_path, "a string", name));
                };
                if bytes_fields.contains(name) {
                    return Err(ActivityError::snapshot(
                        name_path,
                        format!("lists {} twice", json::quoted(name)),
                    ));
                }
                if name == BYTES_FIELDS_KEY || name == PAYLOAD_IS_B64_KEY || !map.contains_key(name)
                {
                    return Err(ActivityError::snapshot(
                        name_path,
                        format!(
                            "names {}, which is not a field of the envelope",
                            json::quoted(name)
                        ),
                    ));
                }
                bytes_fields.push(name.clone());
            }
        }
        Some(other) => {
            return Err(must_be(
                &dotted(path, BYTES_FIELDS_KEY),
                "an array of field names",
                other,
            ))
        }
    }
    match map.get(PAYLOAD_IS_B64_KEY) {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            if !map.contains_key("payload") {
                return Err(ActivityError::snapshot(
                    dotted(path, PAYLOAD_IS_B64_KEY),
                    "is true but the envelope has no payload",
                ));
            }
            if !bytes_fields.iter().any(|name| name == "payload") {
                bytes_fields.push("payload".to_owned());
            }
        }
        Some(other) => {
            return Err(must_be(
                &dotted(path, PAYLOAD_IS_B64_KEY),
                "a boolean",
                other,
            ))
        }
    }

    let mut envelope = Envelope::new();
    for (name, value) in map {
        if name == BYTES_FIELDS_KEY || name == PAYLOAD_IS_B64_KEY {
            continue;
        }
        if !bytes_fields.contains(name) {
            envelope.insert_json(name.clone(), value.clone());
            continue;
        }
        let field_path = dotted(path, name);
        let Value::String(text) = value else {
            return Err(must_be(
                &field_path,
                "a base64 string (it is a byte field)",
                value,
            ));
        };
        let bytes = BASE64
            .decode(text)
            .map_err(|e| ActivityError::snapshot(field_path, format!("invalid base64: {e}")))?;
        envelope.insert_bytes(name.clone(), bytes);
    }
    Ok(envelope)
}

fn snapshot_object(records: Map<String, Value>, order: Vec<Value>) -> Value {
    object([
        ("records", Value::Object(records)),
        ("order", Value::Array(order)),
        ("version", SNAPSHOT_VERSION.into()),
    ])
}

fn record_to_snapshot<E>(record: &ActivityRecord<E>, envelope: &Envelope) -> Value {
    object([
        ("message_id", record.message_id.clone().into()),
        ("direction", record.direction.as_str().into()),
        ("envelope", envelope_to_snapshot(envelope)),
        ("ts_ms", record.ts_ms.into()),
        ("ack_stage", record.ack_stage.into()),
        ("error_code", record.error_code.into()),
        ("ack_note", record.ack_note.clone().into()),
    ])
}

/// The records of a snapshot, in its order, each checked.
fn records_from_snapshot(snapshot: &Value) -> Result<Vec<ActivityRecord>, ActivityError> {
    let Value::Object(top) = snapshot else {
        return Err(must_be("", "an object", snapshot));
    };
    for key in top.keys() {
        if !["records", "order", "version"].contains(&key.as_str()) {
            return Err(ActivityError::snapshot(
                key.clone(),
                "is not a snapshot field",
            ));
        }
    }
    match top.get("version") {
        None => return Err(ActivityError::snapshot("version", "is missing")),
        Some(Value::String(v)) if v == SNAPSHOT_VERSION => {}
        Some(Value::String(v)) => {
            return Err(ActivityError::snapshot(
                "version",
                format!(
                    "{} is not supported (expected {})",
                    json::quoted(v),
                    json::quoted(SNAPSHOT_VERSION)
                ),
            ))
        }
        Some(other) => return Err(must_be("version", "a string", other)),
    }
    let records = match top.get("records") {
        None => return Err(ActivityError::snapshot("records", "is missing")),
        Some(Value::Object(records)) => records,
        Some(other) => return Err(must_be("records", "an object", other)),
    };
    let order = match top.get("order") {
        None => return Err(ActivityError::snapshot("order", "is missing")),
        Some(Value::Array(order)) => order,
        Some(other) => return Err(must_be("order", "an array", other)),
    };

    // The records, sorted by id (a JSON object iterates sorted), and where in `order` each
    // id was first seen.
    let entries: Vec<(&String, &Value)> = records.iter().collect();
    let mut first_seen: Vec<Option<usize>> = vec![None; entries.len()];
    // `entries` indices in snapshot order.
    let mut listed = Vec::with_capacity(order.len());
    for (i, id) in order.iter().enumerate() {
        let path = format!("order[{i}]");
        let Value::String(id) = id else {
            return Err(must_be(&path, "a message id string", id));
        };
        let Ok(index) = entries.binary_search_by(|(key, _)| key.as_str().cmp(id)) else {
            return Err(ActivityError::snapshot(
                path,
                format!("{} has no record", json::quoted(id)),
            ));
        };
        if let Some(first) = first_seen[index] {
            return Err(ActivityError::snapshot(
                path,
                format!(
                    "duplicate id {} (first at order[{first}])",
                    json::quoted(id)
                ),
            ));
        }
        first_seen[index] = Some(i);
        listed.push(index);
    }
    if let Some(unlisted) = first_seen.iter().position(Option::is_none) {
        return Err(ActivityError::snapshot(
            record_path(entries[unlisted].0),
            "is not listed in order",
        ));
    }

    listed
        .into_iter()
        .map(|index| record_from_snapshot(entries[index].0, entries[index].1))
        .collect()
}

fn record_from_snapshot(key: &str, value: &Value) -> Result<ActivityRecord, ActivityError> {
    let path = record_path(key);
    let Value::Object(map) = value else {
        return Err(must_be(&path, "an object", value));
    };
    for (key, _) in map {
        if !RECORD_FIELDS.contains(&key.as_str()) {
            return Err(ActivityError::snapshot(
                dotted(&path, key),
                "is not a record field",
            ));
        }
    }
    let record = RecordFields { map, path };

    let message_id = record.string("message_id")?;
    if message_id != key {
        return Err(ActivityError::snapshot(
            record.at("message_id"),
            format!("{} differs from the record's key", json::quoted(message_id)),
        ));
    }
    let direction = record.string("direction")?;
    let direction = Direction::parse(direction).ok_or_else(|| {
        ActivityError::snapshot(
            record.at("direction"),
            format!("must be \"in\" or \"out\", got {}", json::quoted(direction)),
        )
    })?;
    let envelope_path = record.at("envelope");
    let envelope = envelope_from_snapshot(record.get("envelope")?, &envelope_path)?;
    match envelope.validate_for_record() {
        Ok(id) if id == key => {}
        Ok(id) => {
            return Err(ActivityError::snapshot(
                dotted(&envelope_path, "message_id"),
                format!("{} differs from the record's key", json::quoted(id)),
            ))
        }
        Err(e) => return Err(relocate(e, &envelope_path)),
    }
    let any = -MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER;
    Ok(ActivityRecord {
        message_id: key.to_owned(),
        direction,
        envelope,
        ts_ms: record.integer("ts_ms", any.clone(), "an integer")?,
        ack_stage: record.integer("ack_stage", ack_stage::VALID, STAGE_EXPECTED)?,
        error_code: record.integer("error_code", any, "an integer")?,
        ack_note: record.string("ack_note")?.to_owned(),
    })
}

/// The fields of one snapshot record, read in record order: the first missing or bad
/// field is the record's error.
struct RecordFields<'a> {
    map: &'a Map<String, Value>,
    /// `records["<id>"]`
    path: String,
}

impl<'a> RecordFields<'a> {
    /// The path of field `name`.
    fn at(&self, name: &str) -> String {
        dotted(&self.path, name)
    }

    fn get(&self, name: &str) -> Result<&'a Value, ActivityError> {
        self.map
            .get(name)
            .ok_or_else(|| ActivityError::snapshot(self.at(name), "is missing"))
    }

    fn string(&self, name: &str) -> Result<&'a str, ActivityError> {
        match self.get(name)? {
            Value::String(text) => Ok(text),
            other => Err(must_be(&self.at(name), "a string", other)),
        }
    }

    /// The integer `name` in `allowed` (see [`integer_in`]).
    fn integer(
        &self,
        name: &str,
        allowed: RangeInclusive<i64>,
        expected: &str,
    ) -> Result<i64, ActivityError> {
        integer_in(self.get(name)?, name, allowed, expected).map_err(|e| relocate(e, &self.path))
    }
}

/// `<path>.<name>`.
fn dotted(path: &str, name: &str) -> String {
    format!("{path}.{name}")
}

/// `records["<id>"]`, the id JSON-quoted.
fn record_path(id: &str) -> String {
    format!("records[{}]", json::quoted(id))
}

fn must_be(path: &str, expected: &str, got: &Value) -> ActivityError {
    ActivityError::snapshot(path, format!("must be {expected}, got {}", kind(got)))
}

/// A field-level error as a snapshot error under `prefix`.
fn relocate(error: ActivityError, prefix: &str) -> ActivityError {
    match error {
        ActivityError::InvalidArgument { field, problem } => {
            ActivityError::snapshot(dotted(prefix, &field), problem)
        }
        ActivityError::Range {
            field,
            value,
            expected,
        } => ActivityError::snapshot(
            dotted(prefix, &field),
            format!("must be {expected}, got {value}"),
        ),
        other => other,
    }
}
