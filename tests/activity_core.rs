//! ActivityBuffer core through its public API, and compatibility with snapshots written by
//! the reference (`sw4rm-sdk` 0.6.0, `PersistentActivityBuffer` + `JSONFilePersistence`).
//!
//! `tests/fixtures/activity_reference_snapshot.json` was written by this script, run with
//! sw4rm-sdk 0.6.0 installed (its timestamps and UUIDs are those of that run):
//!
//! ```python
//! from sw4rm import constants as C
//! from sw4rm.activity_buffer import PersistentActivityBuffer
//! from sw4rm.envelope import build_envelope, make_idempotency_token, compute_deterministic_hash
//! from sw4rm.persistence import JSONFilePersistence
//!
//! buf = PersistentActivityBuffer(persistence=JSONFilePersistence("activity_reference_snapshot.json"))
//!
//! def env(**kw):
//!     e = build_envelope(**kw)
//!     e["audit_proof"] = ""  # build_envelope's b"" default is not JSON-serialisable: the reference cannot save it
//!     return e
//!
//! token = make_idempotency_token("agent-a", "tool_call", compute_deterministic_hash({"tool": "git_commit"}))
//! out_binary = env(producer_id="agent-a", message_type=C.TOOL_CALL, payload=bytes([0, 1, 2, 254, 255]) + b"tail",
//!                  content_type="application/octet-stream", idempotency_token=token, repo_id="repo-1")
//! buf.record_outgoing(out_binary)
//!
//! in_json = env(producer_id="agent-b", message_type=C.DATA, payload=b'{"a":1,"b":2}', state=C.RECEIVED_ENVELOPE)
//! buf.record_incoming(in_json)
//! buf.ack({"ack_for_message_id": in_json["message_id"], "ack_stage": C.READ})
//!
//! out_done = env(producer_id="agent-a", message_type=C.TOOL_RESULT, payload=b"ok", correlation_id=out_binary["correlation_id"],
//!                sequence_number=2, ttl_ms=30000, idempotency_token="agent-a:tool_result:0123456789abcdef")
//! buf.record_outgoing(out_done)
//! buf.ack({"ack_for_message_id": out_done["message_id"], "ack_stage": C.FULFILLED, "note": "done"})
//! buf.update_state(out_done["message_id"], C.FULFILLED_ENVELOPE)
//!
//! out_failed = env(producer_id="agent-a", message_type=C.CONTROL, payload=b"", retry_count=2)
//! buf.record_outgoing(out_failed)
//! buf.ack({"ack_for_message_id": out_failed["message_id"], "ack_stage": 5,  # C.FAILED is AgentState.FAILED = 10
//!          "error_code": C.ACK_TIMEOUT, "note": "no ack in 10s"})
//!
//! hand_written = {"message_id": "hand-written-1", "producer_id": "legacy", "message_type": C.NOTIFICATION,
//!                 "payload": "plain text, not bytes", "state": C.SENT, "x_custom": {"k": [1, 2.5, None, True]}}
//! buf.record_incoming(hand_written)
//! buf.flush()
//! ```
//!
//! `activity_reference_stage_10.json` is the same script acking with `C.FAILED`, which in
//! sw4rm-sdk 0.6.0 is shadowed by `AgentState.FAILED` (10): the reference writes stage 10.

use serde_json::{json, Value};
use tidepool::core::activity::constants::{ack_stage, envelope_state, error_code, message_type};
use tidepool::core::activity::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn reference_buffer() -> (Value, ActivityBuffer) {
    let snapshot = fixture("activity_reference_snapshot.json");
    let buffer =
        ActivityBuffer::from_snapshot(&snapshot, ActivityBufferOptions::default()).unwrap();
    (snapshot, buffer)
}

fn order_of(snapshot: &Value) -> Vec<String> {
    snapshot["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_reference_snapshot_loads_with_bytes_acks_and_states() {
    let (snapshot, buffer) = reference_buffer();
    let order = order_of(&snapshot);
    assert_eq!(buffer.len(), 5);
    let ids: Vec<&str> = buffer.records().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, order);

    let [binary, json_in, done, failed, hand] =
        [0, 1, 2, 3, 4].map(|i| buffer.get(&order[i]).unwrap());
    assert_eq!(binary.direction, Direction::Out);
    assert_eq!(
        binary.envelope.get_bytes("payload"),
        Some(&b"\x00\x01\x02\xfe\xfftail"[..])
    );
    assert_eq!(binary.envelope.get_json("content_length"), Some(&json!(9)));
    assert_eq!(
        binary.envelope.get_json("audit_proof"),
        Some(&json!("")),
        "saved as a string"
    );
    assert_eq!(
        binary.idempotency_token(),
        "agent-a:tool_call:4dd5122149477936"
    );
    assert_eq!(
        binary.envelope.get_json("message_type"),
        Some(&json!(message_type::TOOL_CALL))
    );
    let hlc = binary
        .envelope
        .get_json("hlc_timestamp")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        hlc.starts_with("HLC:") && hlc.split(':').count() == 4,
        "{hlc}"
    );
    assert!(binary.envelope.get_json("timestamp").unwrap()["nanos"].is_u64());

    assert_eq!(json_in.direction, Direction::In);
    assert_eq!(
        json_in.envelope.get_bytes("payload"),
        Some(&br#"{"a":1,"b":2}"#[..])
    );
    assert_eq!(
        (json_in.ack_stage, json_in.state()),
        (ack_stage::READ, envelope_state::RECEIVED)
    );

    assert_eq!(
        (done.ack_stage, done.ack_note.as_str()),
        (ack_stage::FULFILLED, "done")
    );
    assert_eq!(done.state(), envelope_state::FULFILLED);
    assert_eq!(done.correlation_id(), binary.correlation_id());

    assert_eq!(failed.envelope.get_bytes("payload"), Some(&[][..]));
    assert_eq!(
        (failed.ack_stage, failed.error_code),
        (ack_stage::FAILED, error_code::ACK_TIMEOUT)
    );
    assert_eq!(failed.ack_note, "no ack in 10s");

    assert_eq!(hand.message_id, "hand-written-1");
    assert_eq!(
        hand.envelope.get_json("payload"),
        Some(&json!("plain text, not bytes"))
    );
    assert_eq!(
        hand.envelope.get_json("x_custom"),
        Some(&json!({"k": [1, 2.5, null, true]}))
    );
    for record in buffer.records() {
        assert!(record.envelope.get(PAYLOAD_IS_B64_KEY).is_none());
    }
}

#[test]
fn a_reference_snapshot_round_trips_adding_only_the_bytes_field_list() {
    let (snapshot, buffer) = reference_buffer();
    let mut expected = snapshot.clone();
    for record in expected["records"].as_object_mut().unwrap().values_mut() {
        let envelope = record["envelope"].as_object_mut().unwrap();
        if envelope.get(PAYLOAD_IS_B64_KEY) == Some(&json!(true)) {
            envelope.insert(BYTES_FIELDS_KEY.into(), json!(["payload"]));
        }
    }
    let written = buffer.to_snapshot();
    assert_eq!(written, expected);
    let reloaded =
        ActivityBuffer::from_snapshot(&written, ActivityBufferOptions::default()).unwrap();
    assert_eq!(
        reloaded.records().collect::<Vec<_>>(),
        buffer.records().collect::<Vec<_>>()
    );
}

#[test]
fn a_reference_snapshot_answers_reconcile_and_dedup() {
    let (snapshot, mut buffer) = reference_buffer();
    let order = order_of(&snapshot);
    let now = buffer.records().map(|r| r.ts_ms).max().unwrap() + 1_000;
    let reconcile: Vec<&str> = buffer
        .reconcile()
        .iter()
        .map(|r| r.message_id.as_str())
        .collect();
    assert_eq!(reconcile, [order[0].as_str()]);
    let unacked: Vec<&str> = buffer
        .unacked()
        .iter()
        .map(|r| r.message_id.as_str())
        .collect();
    assert_eq!(
        unacked,
        [order[0].as_str(), order[1].as_str(), "hand-written-1"]
    );

    let retry = |token: &str| {
        Envelope::from_json(json!({"message_id": "retry", "idempotency_token": token})).unwrap()
    };
    let check = buffer
        .check_duplicate(&retry("agent-a:tool_call:4dd5122149477936"), now)
        .unwrap();
    assert_eq!(check.status, DuplicateStatus::InProgress);
    let check = buffer
        .check_duplicate(&retry("agent-a:tool_result:0123456789abcdef"), now)
        .unwrap();
    assert_eq!(check.status, DuplicateStatus::Duplicate);
    assert_eq!(check.record.unwrap().message_id, order[2]);
    let later = now + 3_600_000;
    let check = buffer
        .check_duplicate(&retry("agent-a:tool_result:0123456789abcdef"), later)
        .unwrap();
    assert_eq!(check.status, DuplicateStatus::New);
}

#[test]
fn a_reference_snapshot_acked_with_the_shadowed_failed_constant_is_refused() {
    let snapshot = fixture("activity_reference_stage_10.json");
    let err =
        ActivityBuffer::from_snapshot(&snapshot, ActivityBufferOptions::default()).unwrap_err();
    let ActivityError::Snapshot { path, problem } = &err else {
        panic!("expected a snapshot error, got {err:?}");
    };
    assert!(path.ends_with("].ack_stage"), "{path}");
    assert_eq!(problem, "must be an integer from 0 to 6, got 10");
}

#[test]
fn an_agent_session_end_to_end() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions {
        max_items: 3,
        strategy: Strategy::SettledFirst,
        ..ActivityBufferOptions::default()
    })
    .unwrap();
    let mut seq = SequenceTracker::default();
    let mut now = 1_700_000_000_000i64;
    let payload = br#"{"tool":"git_commit"}"#;
    let token = compute_idempotency_token("agent-a", "tool_call", payload).unwrap();

    let attempt = |seq: i64, retry: i64, now: i64| {
        let options = EnvelopeOptions {
            payload: payload.to_vec(),
            idempotency_token: Some(token.clone()),
            correlation_id: Some("workflow-1".into()),
            sequence_number: Some(seq),
            retry_count: Some(retry),
            ..EnvelopeOptions::new("agent-a", message_type::TOOL_CALL)
        };
        build_envelope(&options, now).unwrap()
    };

    let first = attempt(seq.next(), 0, now);
    let first_id = first.message_id().unwrap().to_owned();
    assert_eq!(
        buffer.check_duplicate(&first, now).unwrap().status,
        DuplicateStatus::New
    );
    buffer.record_outgoing(first, now).unwrap();
    now += 5_000;

    let retry = attempt(seq.next(), 1, now);
    assert_ne!(retry.message_id().unwrap(), first_id);
    let check = buffer.check_duplicate(&retry, now).unwrap();
    assert_eq!(
        (check.status, check.record.unwrap().message_id.as_str()),
        (DuplicateStatus::InProgress, first_id.as_str())
    );

    let ack = Ack::from_value(
        &json!({"ack_for_message_id": first_id, "ack_stage": ack_stage::FULFILLED}),
    )
    .unwrap();
    buffer.ack(&ack).unwrap();
    buffer
        .update_state(&first_id, envelope_state::FULFILLED)
        .unwrap();
    assert_eq!(
        buffer.check_duplicate(&retry, now).unwrap().status,
        DuplicateStatus::Duplicate
    );

    for i in 0..3 {
        let other = build_envelope(
            &EnvelopeOptions::new("agent-a", message_type::HEARTBEAT),
            now + i,
        )
        .unwrap();
        buffer.record_outgoing(other, now + i).unwrap();
    }
    assert!(
        buffer.get(&first_id).is_none(),
        "the settled message went first"
    );
    assert_eq!(buffer.stats().evictions, 1);
    assert_eq!(buffer.stats().dedup_hits, 2);

    let snapshot = buffer.to_snapshot();
    let text = serde_json::to_string_pretty(&snapshot).unwrap();
    let restored = ActivityBuffer::from_snapshot(
        &serde_json::from_str(&text).unwrap(),
        ActivityBufferOptions::default(),
    )
    .unwrap();
    assert_eq!(restored.reconcile().len(), 3);
    for record in restored.records() {
        assert_eq!(record.envelope.get_bytes("payload"), Some(&[][..]));
        assert_eq!(record.envelope.get_bytes("audit_proof"), Some(&[][..]));
    }
}

#[test]
fn protocol_constants_are_exported() {
    assert!(is_terminal_state(envelope_state::TIMED_OUT));
    assert!(!is_terminal_state(envelope_state::PENDING));
    assert!(is_terminal_stage(ack_stage::REJECTED));
    assert!(!is_terminal_stage(ack_stage::READ));
    assert_eq!(error_code::INTERNAL_ERROR, 99);
    assert_eq!(integer_from_f64(6.0, "ack_stage"), Ok(6));
}
