//! The snapshot format: what is written, what round-trips, what is refused.

use serde_json::{json, Value};

use super::constants::{ack_stage, envelope_state, error_code, message_type};
use super::*;

fn options() -> ActivityBufferOptions {
    ActivityBufferOptions::default()
}

/// Deterministic UUID bytes for `build_envelope_with`.
fn counter() -> impl FnMut(&mut [u8]) -> Result<(), ActivityError> {
    let mut n = 0u8;
    move |bytes: &mut [u8]| {
        for b in bytes.iter_mut() {
            n = n.wrapping_add(37);
            *b = n;
        }
        Ok(())
    }
}

/// A buffer exercising every record shape: binary payloads, both directions, acks,
/// states, tokens, a non-payload byte field and unknown fields.
fn sample_buffer() -> ActivityBuffer {
    let mut random = counter();
    let mut buffer = ActivityBuffer::new(options()).unwrap();
    let all_bytes: Vec<u8> = (0..=255).collect();
    let built = EnvelopeOptions {
        payload: all_bytes,
        audit_proof: vec![0xde, 0xad],
        idempotency_token: Some("agent-a:call:00ff".into()),
        ..EnvelopeOptions::new("agent-a", message_type::TOOL_CALL)
    };
    let first = build_envelope_with(&built, 1_000, &mut random).unwrap();
    let first_id = first.message_id().unwrap().to_owned();
    buffer.record_outgoing(first, 1_000).unwrap();

    let mut incoming = Envelope::from_json(json!({
        "message_id": "in-1", "state": envelope_state::RECEIVED, "x_custom": {"k": [1, 2.5, null, true]}
    }))
    .unwrap();
    incoming.insert_bytes("signature", vec![1, 2, 3, 4]);
    buffer.record_incoming(incoming, 1_001).unwrap();
    buffer.ack(&Ack::new("in-1", ack_stage::READ)).unwrap();

    let done = build_envelope_with(
        &EnvelopeOptions {
            payload: b"ok".to_vec(),
            ..EnvelopeOptions::new("agent-a", 10)
        },
        1_002,
        &mut random,
    )
    .unwrap();
    let done_id = done.message_id().unwrap().to_owned();
    buffer.record_outgoing(done, 1_002).unwrap();
    buffer
        .ack(
            &Ack::new(&done_id, ack_stage::FAILED)
                .with_error(error_code::ACK_TIMEOUT, "no ack in 10s"),
        )
        .unwrap();
    buffer
        .update_state(&done_id, envelope_state::FAILED)
        .unwrap();
    buffer
        .ack(&Ack::new(&first_id, ack_stage::RECEIVED))
        .unwrap();
    buffer
}

#[test]
fn writes_the_reference_file_format() {
    let mut buffer = ActivityBuffer::new(options()).unwrap();
    let mut envelope = Envelope::from_json(json!({"message_id": "m1", "state": 1})).unwrap();
    envelope.insert_bytes("payload", vec![0, 1, 2, 254, 255, b't', b'a', b'i', b'l']);
    envelope.insert_bytes("audit_proof", Vec::new());
    buffer.record_outgoing(envelope, 42).unwrap();
    buffer
        .ack(&Ack::new("m1", ack_stage::READ).with_error(0, "n"))
        .unwrap();
    buffer
        .record_incoming(
            Envelope::from_json(json!({"message_id": "m0"})).unwrap(),
            43,
        )
        .unwrap();
    assert_eq!(
        buffer.to_snapshot(),
        json!({
            "records": {
                "m1": {
                    "message_id": "m1", "direction": "out", "ts_ms": 42,
                    "ack_stage": 2, "error_code": 0, "ack_note": "n",
                    "envelope": {
                        "message_id": "m1", "state": 1,
                        "payload": "AAEC/v90YWls", "audit_proof": "",
                        "_bytes_fields": ["audit_proof", "payload"], "_payload_is_b64": true,
                    },
                },
                "m0": {
                    "message_id": "m0", "direction": "in", "ts_ms": 43,
                    "ack_stage": 0, "error_code": 0, "ack_note": "",
                    "envelope": {"message_id": "m0"},
                },
            },
            "order": ["m1", "m0"],
            "version": "1.0",
        })
    );
}

#[test]
fn only_a_bytes_payload_gets_the_reference_marker() {
    let mut envelope = Envelope::from_json(json!({"message_id": "m", "payload": "text"})).unwrap();
    envelope.insert_bytes("signature", vec![255]);
    let written = envelope_to_snapshot(&envelope);
    assert_eq!(
        written,
        json!({"message_id": "m", "payload": "text", "signature": "/w==", "_bytes_fields": ["signature"]})
    );
    assert_eq!(envelope_from_snapshot(&written, "e").unwrap(), envelope);
}

#[test]
fn round_trips_binary_payloads_acks_states_and_unknown_fields() {
    let buffer = sample_buffer();
    let snapshot = buffer.to_snapshot();
    let loaded = ActivityBuffer::from_snapshot(&snapshot, options()).unwrap();
    assert_eq!(
        loaded.records().collect::<Vec<_>>(),
        buffer.records().collect::<Vec<_>>()
    );
    assert_eq!(loaded.to_snapshot(), snapshot);
    let first = loaded.records().next().unwrap();
    assert_eq!(first.envelope.get_bytes("payload").unwrap().len(), 256);
    assert_eq!(
        first.envelope.get_bytes("audit_proof"),
        Some(&[0xde, 0xad][..])
    );
    assert_eq!(
        loaded.get("in-1").unwrap().envelope.get_bytes("signature"),
        Some(&[1, 2, 3, 4][..])
    );
    assert_eq!(
        loaded.stats(),
        ActivityStats::default(),
        "stats are not part of a snapshot"
    );
    let text = serde_json::to_string(&snapshot).unwrap();
    let reparsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        ActivityBuffer::from_snapshot(&reparsed, options())
            .unwrap()
            .to_snapshot(),
        snapshot
    );
}

#[test]
fn a_loaded_buffer_behaves_like_the_original() {
    let mut original = sample_buffer();
    let mut loaded = ActivityBuffer::from_snapshot(&original.to_snapshot(), options()).unwrap();
    for buffer in [&mut original, &mut loaded] {
        assert_eq!(buffer.reconcile().len(), 1);
        assert_eq!(buffer.unacked().len(), 2);
        let found = buffer
            .get_by_idempotency_token("agent-a:call:00ff", 2_000)
            .unwrap();
        assert_eq!(found.ts_ms, 1_000);
        assert!(buffer
            .get_by_idempotency_token("agent-a:call:00ff", 3_601_001)
            .is_none());
    }
}

#[test]
fn loaded_tokens_point_at_the_most_recently_recorded_carrier() {
    let snapshot = json!({
        "records": {
            "late": record_json("late", 500, json!({"message_id": "late", "idempotency_token": "tok"})),
            "early": record_json("early", 100, json!({"message_id": "early", "idempotency_token": "tok"})),
        },
        "order": ["late", "early"],
        "version": "1.0",
    });
    let mut buffer = ActivityBuffer::from_snapshot(&snapshot, options()).unwrap();
    assert_eq!(
        buffer
            .get_by_idempotency_token("tok", 600)
            .unwrap()
            .message_id,
        "late"
    );
}

#[test]
fn reads_the_reference_payload_marker() {
    let written = json!({"message_id": "m", "payload": "AAEC", "_payload_is_b64": true});
    let envelope = envelope_from_snapshot(&written, "e").unwrap();
    assert_eq!(envelope.get_bytes("payload"), Some(&[0, 1, 2][..]));
    assert!(envelope.get(PAYLOAD_IS_B64_KEY).is_none());
    let written = json!({"message_id": "m", "payload": "AAEC", "_payload_is_b64": false});
    assert_eq!(
        envelope_from_snapshot(&written, "e")
            .unwrap()
            .get_json("payload"),
        Some(&json!("AAEC"))
    );
    let both = json!({"message_id": "m", "payload": "AAEC", "_payload_is_b64": true, "_bytes_fields": ["payload"]});
    assert_eq!(envelope_from_snapshot(&both, "e").unwrap(), envelope);
}

#[test]
fn an_over_full_snapshot_is_refused() {
    let snapshot = sample_buffer().to_snapshot();
    let small = ActivityBufferOptions {
        max_items: 2,
        ..options()
    };
    let err = ActivityBuffer::from_snapshot(&snapshot, small).unwrap_err();
    assert_eq!(
        err,
        ActivityError::BufferFull {
            current_size: 3,
            max_size: 2
        }
    );
    let bad = ActivityBufferOptions {
        max_items: 0,
        ..options()
    };
    assert!(matches!(
        ActivityBuffer::from_snapshot(&snapshot, bad),
        Err(ActivityError::Range { .. })
    ));
}

// --- malformed snapshots ---------------------------------------------------------

fn record_json(id: &str, ts_ms: i64, envelope: Value) -> Value {
    json!({
        "message_id": id, "direction": "out", "envelope": envelope,
        "ts_ms": ts_ms, "ack_stage": 0, "error_code": 0, "ack_note": "",
    })
}

fn valid() -> Value {
    json!({
        "records": {
            "m1": record_json("m1", 1, json!({"message_id": "m1", "payload": "AAE=", "_bytes_fields": ["payload"]})),
            "m2": record_json("m2", 2, json!({"message_id": "m2"})),
        },
        "order": ["m1", "m2"],
        "version": "1.0",
    })
}

/// The error of loading `valid()` after `edit`, as `(path, message)`.
fn broken(edit: impl FnOnce(&mut Value)) -> (String, String) {
    let mut snapshot = valid();
    edit(&mut snapshot);
    let err =
        ActivityBuffer::from_snapshot(&snapshot, options()).expect_err("a malformed snapshot");
    match &err {
        ActivityError::Snapshot { path, .. } => (path.clone(), err.to_string()),
        other => panic!("expected a snapshot error, got {other:?}"),
    }
}

fn assert_broken(edit: impl FnOnce(&mut Value), path: &str, message: &str) {
    let (got_path, got_message) = broken(edit);
    assert_eq!(got_path, path);
    assert_eq!(got_message, format!("invalid snapshot: {message}"));
}

#[test]
fn the_valid_base_loads() {
    let buffer = ActivityBuffer::from_snapshot(&valid(), options()).unwrap();
    assert_eq!(
        buffer.get("m1").unwrap().envelope.get_bytes("payload"),
        Some(&[0, 1][..])
    );
}

#[test]
fn refuses_a_malformed_top_level() {
    let cases: Vec<(Value, &str)> = vec![
        (json!([]), "must be an object, got an array"),
        (
            json!({"records": {}, "order": [], "version": "1.0", "extra": 1}),
            "extra: is not a snapshot field",
        ),
        (json!({"records": {}, "order": []}), "version: is missing"),
        (
            json!({"records": {}, "order": [], "version": "2.0"}),
            "version: \"2.0\" is not supported (expected \"1.0\")",
        ),
        (
            json!({"records": {}, "order": [], "version": 1}),
            "version: must be a string, got a number",
        ),
        (
            json!({"order": [], "version": "1.0"}),
            "records: is missing",
        ),
        (
            json!({"records": [], "order": [], "version": "1.0"}),
            "records: must be an object, got an array",
        ),
        (
            json!({"records": {}, "version": "1.0"}),
            "order: is missing",
        ),
        (
            json!({"records": {}, "order": {}, "version": "1.0"}),
            "order: must be an array, got an object",
        ),
    ];
    for (snapshot, message) in cases {
        let err = ActivityBuffer::from_snapshot(&snapshot, options()).unwrap_err();
        assert_eq!(err.to_string(), format!("invalid snapshot: {message}"));
    }
    assert!(ActivityBuffer::from_snapshot(
        &json!({"records": {}, "order": [], "version": "1.0"}),
        options()
    )
    .unwrap()
    .is_empty());
}

#[test]
fn refuses_an_order_that_differs_from_the_records() {
    assert_broken(
        |s| s["order"] = json!(["m1", "m2", "m1"]),
        "order[2]",
        "order[2]: duplicate id \"m1\" (first at order[0])",
    );
    assert_broken(
        |s| s["order"] = json!(["m1", "m2", "m3"]),
        "order[2]",
        "order[2]: \"m3\" has no record",
    );
    assert_broken(
        |s| s["order"] = json!(["m1"]),
        "records[\"m2\"]",
        "records[\"m2\"]: is not listed in order",
    );
    assert_broken(
        |s| s["order"] = json!(["m1", 2]),
        "order[1]",
        "order[1]: must be a message id string, got a number",
    );
}

#[test]
fn refuses_records_with_wrong_fields() {
    assert_broken(
        |s| s["records"]["m2"]["message_id"] = json!("m3"),
        "records[\"m2\"].message_id",
        "records[\"m2\"].message_id: \"m3\" differs from the record's key",
    );
    assert_broken(
        |s| s["records"]["m2"]["envelope"]["message_id"] = json!("m3"),
        "records[\"m2\"].envelope.message_id",
        "records[\"m2\"].envelope.message_id: \"m3\" differs from the record's key",
    );
    assert_broken(
        |s| s["records"]["m2"]["envelope"] = json!({}),
        "records[\"m2\"].envelope.message_id",
        "records[\"m2\"].envelope.message_id: is missing",
    );
    assert_broken(
        |s| s["records"]["m2"]["envelope"] = json!("m2"),
        "records[\"m2\"].envelope",
        "records[\"m2\"].envelope: must be an object, got a string",
    );
    assert_broken(
        |s| s["records"]["m2"]["envelope"]["idempotency_token"] = json!(12),
        "records[\"m2\"].envelope.idempotency_token",
        "records[\"m2\"].envelope.idempotency_token: must be a string, got a number",
    );
    assert_broken(
        |s| s["records"]["m2"]["direction"] = json!("sideways"),
        "records[\"m2\"].direction",
        "records[\"m2\"].direction: must be \"in\" or \"out\", got \"sideways\"",
    );
    assert_broken(
        |s| s["records"]["m2"]["ts_ms"] = json!("2"),
        "records[\"m2\"].ts_ms",
        "records[\"m2\"].ts_ms: must be a number, got a string",
    );
    assert_broken(
        |s| s["records"]["m2"]["ts_ms"] = json!(1.5),
        "records[\"m2\"].ts_ms",
        "records[\"m2\"].ts_ms: must be an integer, got 1.5",
    );
    assert_broken(
        |s| s["records"]["m2"]["ack_stage"] = json!(7),
        "records[\"m2\"].ack_stage",
        "records[\"m2\"].ack_stage: must be an integer from 0 to 6, got 7",
    );
    assert_broken(
        |s| s["records"]["m2"]["error_code"] = json!(null),
        "records[\"m2\"].error_code",
        "records[\"m2\"].error_code: must be a number, got null",
    );
    assert_broken(
        |s| s["records"]["m2"]["ack_note"] = json!(5),
        "records[\"m2\"].ack_note",
        "records[\"m2\"].ack_note: must be a string, got a number",
    );
    assert_broken(
        |s| {
            s["records"]["m2"]
                .as_object_mut()
                .unwrap()
                .remove("ack_note");
        },
        "records[\"m2\"].ack_note",
        "records[\"m2\"].ack_note: is missing",
    );
    assert_broken(
        |s| s["records"]["m2"]["state"] = json!(1),
        "records[\"m2\"].state",
        "records[\"m2\"].state: is not a record field",
    );
    assert_broken(
        |s| s["records"]["m2"] = json!([]),
        "records[\"m2\"]",
        "records[\"m2\"]: must be an object, got an array",
    );
}

#[test]
fn refuses_bad_byte_fields() {
    let env = "records[\"m1\"].envelope";
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["payload"] = json!("AA!="),
        &format!("{env}.payload"),
        &format!("{env}.payload: invalid base64: Invalid symbol 33, offset 2."),
    );
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["payload"] = json!("AAE"),
        &format!("{env}.payload"),
        &format!("{env}.payload: invalid base64: Invalid padding"),
    );
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["payload"] = json!([0, 1]),
        &format!("{env}.payload"),
        &format!("{env}.payload: must be a base64 string (it is a byte field), got an array"),
    );
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["_bytes_fields"] = json!("payload"),
        &format!("{env}._bytes_fields"),
        &format!("{env}._bytes_fields: must be an array of field names, got a string"),
    );
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["_bytes_fields"] = json!(["payload", 1]),
        &format!("{env}._bytes_fields[1]"),
        &format!("{env}._bytes_fields[1]: must be a string, got a number"),
    );
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["_bytes_fields"] = json!(["payload", "payload"]),
        &format!("{env}._bytes_fields[1]"),
        &format!("{env}._bytes_fields[1]: lists \"payload\" twice"),
    );
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["_bytes_fields"] = json!(["payload", "audit_proof"]),
        &format!("{env}._bytes_fields[1]"),
        &format!(
            "{env}._bytes_fields[1]: names \"audit_proof\", which is not a field of the envelope"
        ),
    );
    assert_broken(
        |s| s["records"]["m1"]["envelope"]["_payload_is_b64"] = json!("yes"),
        &format!("{env}._payload_is_b64"),
        &format!("{env}._payload_is_b64: must be a boolean, got a string"),
    );
    assert_broken(
        |s| s["records"]["m2"]["envelope"]["_payload_is_b64"] = json!(true),
        "records[\"m2\"].envelope._payload_is_b64",
        "records[\"m2\"].envelope._payload_is_b64: is true but the envelope has no payload",
    );
}

#[test]
fn a_failed_load_names_ids_but_never_tokens() {
    let (_, message) = broken(|s| {
        s["records"]["m2"]["envelope"]["idempotency_token"] = json!({"secret": "tok-123"})
    });
    assert!(!message.contains("tok-123"), "{message}");
}
