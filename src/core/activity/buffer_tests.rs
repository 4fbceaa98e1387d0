//! Behaviour of `ActivityBuffer`: recording, acks, queries, dedup, capacity.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{json, Value};

use super::constants::{ack_stage, envelope_state, error_code};
use super::*;

fn env(id: &str) -> Envelope {
    Envelope::from_json(json!({"message_id": id, "state": envelope_state::SENT})).unwrap()
}

fn env_with_token(id: &str, token: &str) -> Envelope {
    Envelope::from_json(
        json!({"message_id": id, "state": envelope_state::SENT, "idempotency_token": token}),
    )
    .unwrap()
}

fn buffer_with(max_items: usize, strategy: Strategy, on_full: OnFull) -> ActivityBuffer {
    ActivityBuffer::new(ActivityBufferOptions {
        max_items,
        dedup_window_s: 10,
        strategy,
        on_full,
    })
    .unwrap()
}

fn ids(records: Vec<&ActivityRecord>) -> Vec<&str> {
    records.into_iter().map(|r| r.message_id.as_str()).collect()
}

fn all_ids(buffer: &ActivityBuffer) -> Vec<String> {
    buffer.records().map(|r| r.message_id.clone()).collect()
}

fn fill(buffer: &mut ActivityBuffer, names: &[&str]) {
    for (i, id) in names.iter().enumerate() {
        buffer.record_outgoing(env(id), i as i64).unwrap();
    }
}

// --- recording -------------------------------------------------------------------

#[test]
fn defaults_match_the_issue() {
    let buffer: ActivityBuffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    assert_eq!(buffer.max_items(), 1000);
    assert_eq!(buffer.dedup_window_s(), 3600);
    assert!(buffer.is_empty());
    assert_eq!(buffer.stats(), ActivityStats::default());
}

#[test]
fn bad_options_are_rejected() {
    let options = ActivityBufferOptions {
        max_items: 0,
        ..ActivityBufferOptions::default()
    };
    let err = ActivityBuffer::<Envelope>::new(options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "maxItems must be a positive integer, got 0"
    );
    let options = ActivityBufferOptions {
        dedup_window_s: u64::MAX,
        ..ActivityBufferOptions::default()
    };
    assert!(matches!(
        ActivityBuffer::<Envelope>::new(options),
        Err(ActivityError::Range { .. })
    ));
}

#[test]
fn records_both_directions_with_fresh_ack_fields() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    let incoming = Envelope::from_json(json!({
        "message_id": "in-1", "state": 2, "idempotency_token": "tok", "correlation_id": "corr"
    }))
    .unwrap();
    let record = buffer
        .record_incoming(incoming.clone(), 100)
        .unwrap()
        .clone();
    assert_eq!(record.message_id, "in-1");
    assert_eq!(record.direction, Direction::In);
    assert_eq!(record.ts_ms, 100);
    assert_eq!(
        (
            record.ack_stage,
            record.error_code,
            record.ack_note.as_str()
        ),
        (0, 0, "")
    );
    assert_eq!(record.state(), 2);
    assert_eq!(record.idempotency_token(), "tok");
    assert_eq!(record.correlation_id(), "corr");
    assert_eq!(record.envelope, incoming);
    let out = buffer.record_outgoing(env("out-1"), 101).unwrap();
    assert_eq!(out.direction, Direction::Out);
    assert_eq!(buffer.len(), 2);
    assert_eq!(buffer.get("in-1"), Some(&record));
    assert_eq!(buffer.get("nope"), None);
}

#[test]
fn a_missing_or_empty_message_id_changes_nothing() {
    let mut buffer = buffer_with(2, Strategy::Fifo, OnFull::Evict);
    fill(&mut buffer, &["a", "b"]);
    for bad in [
        json!({}),
        json!({"message_id": ""}),
        json!({"message_id": 3}),
        json!({"message_id": null}),
    ] {
        let err = buffer
            .record_outgoing(Envelope::from_json(bad).unwrap(), 50)
            .unwrap_err();
        assert!(
            matches!(err, ActivityError::InvalidArgument { ref field, .. } if field == "message_id")
        );
        let err = buffer
            .record_incoming(Envelope::from_json(json!({"message_id": ""})).unwrap(), 50)
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_ARGUMENT");
    }
    assert_eq!(
        all_ids(&buffer),
        ["a", "b"],
        "a full buffer evicted nothing for bad input"
    );
    assert_eq!(buffer.stats(), ActivityStats::default());
}

#[test]
fn the_stored_envelope_is_an_independent_copy_with_bytes() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    let mut original = env("m1");
    original.insert_bytes("payload", vec![1, 2, 3]);
    buffer.record_outgoing(original.clone(), 0).unwrap();
    original.insert_bytes("payload", vec![9]);
    original.insert_json("state", 7);
    let stored = &buffer.get("m1").unwrap().envelope;
    assert_eq!(stored.get_bytes("payload"), Some(&[1, 2, 3][..]));
    assert_eq!(stored.state(), envelope_state::SENT);
}

#[test]
fn re_recording_replaces_in_place_and_resets_the_stage() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    fill(&mut buffer, &["a", "b", "c"]);
    buffer
        .ack(&Ack::new("b", ack_stage::FAILED).with_error(error_code::NO_ROUTE, "gone"))
        .unwrap();
    let mut replacement = env("b");
    replacement.insert_json("retry_count", 1);
    let record = buffer.record_incoming(replacement.clone(), 500).unwrap();
    assert_eq!(record.ts_ms, 500);
    assert_eq!(record.direction, Direction::In);
    assert_eq!(
        (
            record.ack_stage,
            record.error_code,
            record.ack_note.as_str()
        ),
        (0, 0, "")
    );
    assert_eq!(record.envelope, replacement);
    assert_eq!(all_ids(&buffer), ["a", "b", "c"]);
    assert_eq!(
        ids(buffer.recent(1)),
        ["c"],
        "replacing does not move a record to the end"
    );
    assert_eq!(buffer.len(), 3);
}

#[test]
fn re_recording_moves_the_token_entry_with_the_token() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    buffer
        .record_outgoing(env_with_token("m1", "t-old"), 0)
        .unwrap();
    buffer
        .record_outgoing(env_with_token("m1", "t-new"), 1)
        .unwrap();
    assert!(buffer.get_by_idempotency_token("t-old", 1).is_none());
    assert_eq!(
        buffer
            .get_by_idempotency_token("t-new", 1)
            .unwrap()
            .message_id,
        "m1"
    );
}

// --- acks ------------------------------------------------------------------------

#[test]
fn acks_move_forward_and_record_error_and_note() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    fill(&mut buffer, &["m1"]);
    let r = buffer
        .ack(&Ack::new("m1", ack_stage::RECEIVED))
        .unwrap()
        .unwrap();
    assert_eq!(r.ack_stage, ack_stage::RECEIVED);
    let r = buffer
        .ack(&Ack::new("m1", ack_stage::READ).with_error(0, "reading"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.ack_stage, r.ack_note.as_str()),
        (ack_stage::READ, "reading")
    );
    let r = buffer
        .ack(&Ack::new("m1", ack_stage::READ).with_error(0, "again"))
        .unwrap()
        .unwrap();
    assert_eq!(
        r.ack_note, "again",
        "the same non-terminal stage is not a step back"
    );
    let r = buffer
        .ack(&Ack::new("m1", ack_stage::REJECTED).with_error(error_code::PERMISSION_DENIED, "no"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.ack_stage, r.error_code, r.ack_note.as_str()),
        (4, 7, "no")
    );
    assert_eq!(buffer.stats().ignored_acks, 0);
}

#[test]
fn backward_acks_and_acks_after_a_terminal_stage_are_ignored_and_counted() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    fill(&mut buffer, &["m1"]);
    buffer.ack(&Ack::new("m1", ack_stage::READ)).unwrap();
    let r = buffer
        .ack(&Ack::new("m1", ack_stage::RECEIVED).with_error(3, "late"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.ack_stage, r.error_code, r.ack_note.as_str()),
        (ack_stage::READ, 0, "")
    );
    buffer
        .ack(&Ack::new("m1", ack_stage::FULFILLED).with_error(0, "done"))
        .unwrap();
    for stage in [
        ack_stage::FULFILLED,
        ack_stage::TIMED_OUT,
        ack_stage::UNSPECIFIED,
    ] {
        let r = buffer
            .ack(&Ack::new("m1", stage).with_error(9, "x"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.ack_stage, r.ack_note.as_str()),
            (ack_stage::FULFILLED, "done")
        );
    }
    assert_eq!(buffer.stats().ignored_acks, 4);
}

#[test]
fn acks_for_unknown_ids_return_none() {
    let mut buffer: ActivityBuffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    assert_eq!(buffer.ack(&Ack::new("ghost", 1)), Ok(None));
    assert_eq!(buffer.stats().ignored_acks, 0);
}

#[test]
fn ack_stages_outside_0_to_6_are_range_errors() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    fill(&mut buffer, &["m1"]);
    for stage in [-1, 7, 100] {
        for id in ["m1", "ghost"] {
            let err = buffer.ack(&Ack::new(id, stage)).unwrap_err();
            assert!(matches!(err, ActivityError::Range { ref field, .. } if field == "ack_stage"));
        }
    }
    assert_eq!(buffer.get("m1").unwrap().ack_stage, 0);
    let parsed = Ack::from_value(&json!({"ack_for_message_id": "m1", "ack_stage": 2.5}));
    assert!(matches!(parsed, Err(ActivityError::Range { .. })));
    let parsed = Ack::from_value(&json!({"ack_for_message_id": "m1", "ack_stage": 2})).unwrap();
    assert_eq!(buffer.ack(&parsed).unwrap().unwrap().ack_stage, 2);
}

// --- queries ---------------------------------------------------------------------

#[test]
fn unacked_lists_both_directions_in_insertion_order() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    buffer.record_outgoing(env("o1"), 0).unwrap();
    buffer.record_incoming(env("i1"), 1).unwrap();
    buffer.record_outgoing(env("o2"), 2).unwrap();
    buffer.record_incoming(env("i2"), 3).unwrap();
    buffer.ack(&Ack::new("o1", ack_stage::READ)).unwrap();
    buffer.ack(&Ack::new("i1", ack_stage::FULFILLED)).unwrap();
    buffer.ack(&Ack::new("o2", ack_stage::TIMED_OUT)).unwrap();
    assert_eq!(ids(buffer.unacked()), ["o1", "i2"]);
    assert_eq!(ids(buffer.reconcile()), ["o1"]);
}

#[test]
fn reconcile_returns_unacked_outgoing_only() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    buffer.record_outgoing(env("o1"), 0).unwrap();
    buffer.record_incoming(env("i1"), 0).unwrap();
    buffer.record_outgoing(env("o2"), 0).unwrap();
    buffer.record_outgoing(env("o3"), 0).unwrap();
    buffer.ack(&Ack::new("o2", ack_stage::RECEIVED)).unwrap();
    buffer.ack(&Ack::new("o3", ack_stage::REJECTED)).unwrap();
    assert_eq!(ids(buffer.reconcile()), ["o1", "o2"]);
}

#[test]
fn recent_returns_the_last_n_oldest_first() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    fill(&mut buffer, &["a", "b", "c", "d"]);
    assert_eq!(ids(buffer.recent(2)), ["c", "d"]);
    assert_eq!(ids(buffer.recent(50)), ["a", "b", "c", "d"]);
    assert!(buffer.recent(0).is_empty());
    assert!(buffer.recent(-3).is_empty());
}

#[test]
fn update_state_sets_the_envelope_state() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    fill(&mut buffer, &["m1"]);
    let r = buffer
        .update_state("m1", envelope_state::RUNNING)
        .unwrap()
        .unwrap();
    assert_eq!(r.state(), 3);
    assert_eq!(r.envelope.get_json("state"), Some(&json!(3)));
    assert_eq!(buffer.update_state("ghost", 1), Ok(None));
    for bad in [-1, 8] {
        let err = buffer.update_state("m1", bad).unwrap_err();
        assert!(matches!(err, ActivityError::Range { ref field, .. } if field == "state"));
    }
    assert_eq!(buffer.get("m1").unwrap().state(), 3);
}

// --- idempotency -----------------------------------------------------------------

#[test]
fn token_lookup_holds_exactly_within_the_window() {
    let mut buffer = buffer_with(10, Strategy::Fifo, OnFull::Evict); // window 10 s
    buffer
        .record_outgoing(env_with_token("m1", "tok"), 1_000)
        .unwrap();
    assert_eq!(
        buffer
            .get_by_idempotency_token("tok", 1_000)
            .unwrap()
            .message_id,
        "m1"
    );
    assert!(
        buffer.get_by_idempotency_token("tok", 11_000).is_some(),
        "now - ts == window"
    );
    assert!(buffer.get_by_idempotency_token("tok", 11_001).is_none());
    assert!(
        buffer.get_by_idempotency_token("tok", 11_000).is_none(),
        "expired entries stay gone"
    );
    assert!(
        buffer.get("m1").is_some(),
        "expiry drops the index entry, not the record"
    );
    assert!(buffer.get_by_idempotency_token("", 1_000).is_none());
    assert!(buffer.get_by_idempotency_token("other", 1_000).is_none());
}

#[test]
fn re_recording_restarts_the_window() {
    let mut buffer = buffer_with(10, Strategy::Fifo, OnFull::Evict);
    buffer
        .record_outgoing(env_with_token("m1", "tok"), 0)
        .unwrap();
    buffer
        .record_outgoing(env_with_token("m1", "tok"), 9_000)
        .unwrap();
    assert!(buffer.get_by_idempotency_token("tok", 15_000).is_some());
    assert!(buffer.get_by_idempotency_token("tok", 19_001).is_none());
}

#[test]
fn a_retry_with_the_same_token_takes_over_the_index() {
    let mut buffer = buffer_with(10, Strategy::Fifo, OnFull::Evict);
    buffer
        .record_outgoing(env_with_token("attempt-1", "tok"), 0)
        .unwrap();
    buffer
        .record_outgoing(env_with_token("attempt-2", "tok"), 5_000)
        .unwrap();
    assert_eq!(
        buffer
            .get_by_idempotency_token("tok", 12_000)
            .unwrap()
            .message_id,
        "attempt-2"
    );
}

#[test]
fn check_duplicate_reports_new_in_progress_and_duplicate() {
    let mut buffer = buffer_with(10, Strategy::Fifo, OnFull::Evict);
    let check = buffer
        .check_duplicate(&env_with_token("x", "tok"), 0)
        .unwrap();
    assert_eq!((check.status, check.record), (DuplicateStatus::New, None));
    let check = buffer.check_duplicate(&env("x"), 0).unwrap();
    assert_eq!(check.status, DuplicateStatus::New, "no token is always new");

    buffer
        .record_outgoing(env_with_token("m1", "tok"), 0)
        .unwrap();
    let retry = env_with_token("m2", "tok");
    let check = buffer.check_duplicate(&retry, 1).unwrap();
    assert_eq!(check.status, DuplicateStatus::InProgress);
    assert_eq!(check.record.unwrap().message_id, "m1");

    buffer.ack(&Ack::new("m1", ack_stage::FULFILLED)).unwrap();
    let check = buffer.check_duplicate(&retry, 2).unwrap();
    assert_eq!(
        check.status,
        DuplicateStatus::InProgress,
        "the envelope state decides, not the stage"
    );

    buffer
        .update_state("m1", envelope_state::FULFILLED)
        .unwrap();
    let check = buffer.check_duplicate(&retry, 3).unwrap();
    assert_eq!(check.status, DuplicateStatus::Duplicate);
    assert_eq!(check.record.unwrap().message_id, "m1");

    let check = buffer.check_duplicate(&retry, 10_001).unwrap();
    assert_eq!(check.status, DuplicateStatus::New, "outside the window");
    assert_eq!(buffer.stats().dedup_hits, 3);
}

#[test]
fn check_duplicate_rejects_a_non_string_token() {
    let mut buffer = buffer_with(10, Strategy::Fifo, OnFull::Evict);
    let bad = Envelope::from_json(json!({"message_id": "m", "idempotency_token": 5})).unwrap();
    let err = buffer.check_duplicate(&bad, 0).unwrap_err();
    assert_eq!(err.to_string(), "idempotency_token must be a string");
}

#[test]
fn duplicate_checks_serialize_as_plain_objects() {
    let mut buffer = buffer_with(10, Strategy::Fifo, OnFull::Evict);
    buffer
        .record_outgoing(env_with_token("m1", "tok"), 0)
        .unwrap();
    let check = buffer
        .check_duplicate(&env_with_token("m2", "tok"), 0)
        .unwrap();
    let value = serde_json::to_value(check).unwrap();
    assert_eq!(value["status"], json!("in_progress"));
    assert_eq!(value["record"]["message_id"], json!("m1"));
    let check = buffer.check_duplicate(&env("m3"), 0).unwrap();
    assert_eq!(
        serde_json::to_value(check).unwrap(),
        json!({"status": "new", "record": null})
    );
    assert_eq!(
        serde_json::to_value(buffer.stats()).unwrap(),
        json!({"evictions": 0, "rejections": 0, "ignoredAcks": 0, "dedupHits": 1})
    );
}

#[test]
fn the_token_index_expires_without_rescanning() {
    let mut buffer = buffer_with(100_000, Strategy::Fifo, OnFull::Evict); // window 10 s
    for i in 0..20_000i64 {
        buffer
            .record_outgoing(env_with_token(&format!("m{i}"), &format!("t{i}")), i)
            .unwrap();
    }
    assert_eq!(
        buffer.token_index_len(),
        10_001,
        "records 9_999..=19_999 are within 10 s"
    );
    assert!(buffer.token_queue_len() <= 2 * buffer.token_index_len() + 64);
    assert!(buffer.get_by_idempotency_token("t9998", 19_999).is_none());
    assert!(buffer.get_by_idempotency_token("t9999", 19_999).is_some());
    buffer.get_by_idempotency_token("t0", 100_000);
    assert_eq!(buffer.token_index_len(), 0);
    assert_eq!(buffer.token_queue_len(), 0);
}

#[test]
fn the_token_queue_stays_bounded_under_eviction_churn() {
    let mut buffer = buffer_with(100, Strategy::Fifo, OnFull::Evict);
    for i in 0..10_000i64 {
        buffer
            .record_outgoing(env_with_token(&format!("m{i}"), &format!("t{i}")), 0)
            .unwrap();
    }
    assert_eq!(buffer.token_index_len(), 100);
    assert!(buffer.token_queue_len() <= 2 * 100 + 64 + 1);
}

#[test]
fn clear_removes_records_and_tokens_but_keeps_stats() {
    let mut buffer = buffer_with(1, Strategy::Fifo, OnFull::Evict);
    buffer
        .record_outgoing(env_with_token("m1", "tok"), 0)
        .unwrap();
    buffer
        .record_outgoing(env_with_token("m2", "tok2"), 0)
        .unwrap();
    buffer.clear();
    assert_eq!(buffer.len(), 0);
    assert!(buffer.get("m2").is_none());
    assert!(buffer.get_by_idempotency_token("tok2", 0).is_none());
    assert!(buffer.unacked().is_empty());
    assert_eq!(buffer.stats().evictions, 1);
    buffer.record_outgoing(env("m3"), 1).unwrap();
    assert_eq!(all_ids(&buffer), ["m3"]);
}

// --- capacity --------------------------------------------------------------------

#[test]
fn fifo_evicts_the_oldest() {
    let mut buffer = buffer_with(3, Strategy::Fifo, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c", "d", "e"]);
    assert_eq!(all_ids(&buffer), ["c", "d", "e"]);
    assert_eq!(buffer.stats().evictions, 2);
    assert!(buffer.get("a").is_none());
}

#[test]
fn lifo_evicts_the_newest_resident_record_never_the_incoming_one() {
    let mut buffer = buffer_with(3, Strategy::Lifo, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c", "d", "e"]);
    assert_eq!(all_ids(&buffer), ["a", "b", "e"]);
    assert_eq!(buffer.stats().evictions, 2);
}

#[test]
fn settled_first_evicts_terminal_records_oldest_first_then_fifo() {
    let mut buffer = buffer_with(3, Strategy::SettledFirst, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c"]);
    buffer.ack(&Ack::new("c", ack_stage::FULFILLED)).unwrap();
    buffer.ack(&Ack::new("b", ack_stage::REJECTED)).unwrap();
    buffer.record_outgoing(env("d"), 10).unwrap();
    assert_eq!(
        all_ids(&buffer),
        ["a", "c", "d"],
        "b is the oldest settled record"
    );
    buffer.record_outgoing(env("e"), 11).unwrap();
    assert_eq!(all_ids(&buffer), ["a", "d", "e"]);
    buffer.update_state("e", envelope_state::TIMED_OUT).unwrap();
    buffer.record_outgoing(env("f"), 12).unwrap();
    assert_eq!(
        all_ids(&buffer),
        ["a", "d", "f"],
        "a terminal envelope state settles too"
    );
    buffer.update_state("d", envelope_state::FAILED).unwrap();
    buffer.update_state("d", envelope_state::SENT).unwrap();
    buffer.record_outgoing(env("g"), 13).unwrap();
    assert_eq!(all_ids(&buffer), ["d", "f", "g"], "nothing settled: fifo");
}

#[test]
fn settled_first_forgets_a_settled_record_that_is_re_recorded() {
    let mut buffer = buffer_with(2, Strategy::SettledFirst, OnFull::Evict);
    fill(&mut buffer, &["a", "b"]);
    buffer.ack(&Ack::new("b", ack_stage::FAILED)).unwrap();
    buffer.record_outgoing(env("b"), 5).unwrap();
    buffer.record_outgoing(env("c"), 6).unwrap();
    assert_eq!(all_ids(&buffer), ["b", "c"]);
}

fn random_victims(seed: u64) -> Vec<String> {
    let mut buffer = buffer_with(10, Strategy::Random { seed }, OnFull::Evict);
    let mut evicted = Vec::new();
    for i in 0..60 {
        let before = all_ids(&buffer);
        buffer.record_outgoing(env(&format!("m{i}")), i).unwrap();
        evicted.extend(before.into_iter().filter(|id| buffer.get(id).is_none()));
    }
    evicted
}

#[test]
fn seeded_random_gives_the_same_victims_twice() {
    let first = random_victims(42);
    assert_eq!(first.len(), 50);
    assert_eq!(first, random_victims(42));
    assert_ne!(first, random_victims(7));
    let fifo: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    assert_ne!(first, fifo, "random is not fifo");
}

type Calls = Rc<RefCell<Vec<(Vec<String>, usize)>>>;
type Reply = Box<dyn Fn(&[String]) -> Result<Vec<String>, String>>;

fn custom(reply: impl Fn(&[String]) -> Result<Vec<String>, String> + 'static) -> (Strategy, Calls) {
    let calls: Calls = Rc::default();
    let seen = calls.clone();
    let chooser = move |order: Vec<String>, excess: usize| {
        let answer = reply(&order);
        seen.borrow_mut().push((order, excess));
        answer
    };
    (Strategy::Custom(Box::new(chooser)), calls)
}

#[test]
fn custom_strategy_gets_the_resident_order_and_excess() {
    let (strategy, calls) = custom(|order| Ok(vec![order[1].clone()]));
    let mut buffer = buffer_with(3, strategy, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c", "d"]);
    assert_eq!(all_ids(&buffer), ["a", "c", "d"]);
    assert_eq!(
        *calls.borrow(),
        vec![(vec!["a".into(), "b".into(), "c".into()], 1)]
    );
    assert_eq!(buffer.stats().evictions, 1);
}

#[test]
fn custom_strategy_may_evict_more_than_needed_and_repeat_ids() {
    let (strategy, _) =
        custom(|order| Ok(vec![order[0].clone(), order[0].clone(), order[2].clone()]));
    let mut buffer = buffer_with(3, strategy, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c", "d"]);
    assert_eq!(all_ids(&buffer), ["b", "d"]);
    assert_eq!(buffer.stats().evictions, 2);
}

#[test]
fn custom_strategy_errors_evict_nothing_and_insert_nothing() {
    let cases: Vec<(Reply, ActivityError)> = vec![
        (
            Box::new(|order| Ok(vec![order[0].clone(), "ghost".into()])),
            ActivityError::UnknownVictim { id: "ghost".into() },
        ),
        (
            Box::new(|_| Ok(vec!["d".into()])),
            ActivityError::UnknownVictim { id: "d".into() },
        ),
        (
            Box::new(|_| Ok(vec![])),
            ActivityError::NotEnoughVictims {
                needed: 1,
                returned: 0,
            },
        ),
        (
            Box::new(|_| Err("boom".into())),
            ActivityError::StrategyFailed {
                message: "boom".into(),
            },
        ),
    ];
    for (reply, expected) in cases {
        let (strategy, _) = custom(reply);
        let mut buffer = buffer_with(3, strategy, OnFull::Evict);
        fill(&mut buffer, &["a", "b", "c"]);
        let err = buffer.record_outgoing(env("d"), 9).unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(all_ids(&buffer), ["a", "b", "c"]);
        assert_eq!(buffer.stats(), ActivityStats::default());
    }
}

#[test]
fn reject_refuses_new_ids_and_changes_nothing() {
    let mut buffer = buffer_with(2, Strategy::Fifo, OnFull::Reject);
    buffer
        .record_outgoing(env_with_token("a", "tok-a"), 0)
        .unwrap();
    buffer.record_outgoing(env("b"), 0).unwrap();
    let err = buffer
        .record_outgoing(env_with_token("c", "tok-c"), 1)
        .unwrap_err();
    assert_eq!(
        err,
        ActivityError::BufferFull {
            current_size: 2,
            max_size: 2
        }
    );
    assert_eq!(err.protocol_error_code(), Some(error_code::BUFFER_FULL));
    assert_eq!(all_ids(&buffer), ["a", "b"]);
    assert!(buffer.get_by_idempotency_token("tok-c", 1).is_none());
    assert!(buffer.get_by_idempotency_token("tok-a", 1).is_some());
    assert_eq!(buffer.stats().rejections, 1);
    assert_eq!(
        buffer.record_incoming(env("a"), 2).unwrap().ts_ms,
        2,
        "replacing needs no room"
    );
    assert_eq!(buffer.stats().rejections, 1);
}

#[test]
fn evicting_removes_the_token_entry_only_if_it_points_at_the_victim() {
    let mut buffer = buffer_with(2, Strategy::Fifo, OnFull::Evict);
    buffer
        .record_outgoing(env_with_token("first", "shared"), 0)
        .unwrap();
    buffer
        .record_outgoing(env_with_token("retry", "shared"), 1)
        .unwrap();
    buffer.record_outgoing(env("other"), 2).unwrap(); // evicts "first"
    assert_eq!(
        buffer
            .get_by_idempotency_token("shared", 2)
            .unwrap()
            .message_id,
        "retry"
    );
    buffer.record_outgoing(env("another"), 3).unwrap(); // evicts "retry"
    assert!(buffer.get_by_idempotency_token("shared", 3).is_none());
}

#[test]
fn ten_thousand_records_stay_cheap_to_extend() {
    let mut buffer = buffer_with(10_000, Strategy::Fifo, OnFull::Evict);
    for i in 0..30_000i64 {
        buffer
            .record_outgoing(env_with_token(&format!("m{i}"), &format!("t{i}")), i)
            .unwrap();
        assert!(buffer
            .get_by_idempotency_token(&format!("t{i}"), i)
            .is_some());
    }
    assert_eq!(buffer.len(), 10_000);
    assert_eq!(buffer.records().next().unwrap().message_id, "m20000");
    assert_eq!(buffer.stats().evictions, 20_000);
}

#[test]
fn records_serialize_with_their_derived_fields() {
    let mut buffer = ActivityBuffer::new(ActivityBufferOptions::default()).unwrap();
    let record = buffer
        .record_outgoing(env_with_token("m1", "tok"), 7)
        .unwrap();
    let value: Value = serde_json::to_value(record).unwrap();
    assert_eq!(value["direction"], json!("out"));
    assert_eq!(value["state"], json!(1));
    assert_eq!(value["idempotency_token"], json!("tok"));
    assert_eq!(value["correlation_id"], json!(""));
    assert_eq!(value["ts_ms"], json!(7));
}

// --- other envelope types, eviction reports ----------------------------------------

/// A recorded envelope that is only a handle, as in the wasm binding.
#[derive(Debug, Clone, PartialEq)]
struct Handle {
    slot: u32,
    id: String,
    token: String,
    state: i64,
}

impl RecordedEnvelope for Handle {
    fn validate_for_record(&self) -> Result<&str, ActivityError> {
        Ok(&self.id)
    }
    fn checked_idempotency_token(&self) -> Result<&str, ActivityError> {
        Ok(&self.token)
    }
    fn idempotency_token(&self) -> &str {
        &self.token
    }
    fn correlation_id(&self) -> &str {
        ""
    }
    fn state(&self) -> i64 {
        self.state
    }
    fn set_state(&mut self, state: i64) {
        self.state = state;
    }
}

#[test]
fn record_reports_the_records_it_evicted() {
    let mut buffer = buffer_with(2, Strategy::Fifo, OnFull::Evict);
    let (_, evicted) = buffer.record(Direction::Out, env("a"), 1).unwrap();
    assert!(evicted.is_empty());
    buffer.record(Direction::Out, env("b"), 2).unwrap();
    let (record, evicted) = buffer.record(Direction::In, env("c"), 3).unwrap();
    assert_eq!(record.message_id, "c");
    assert_eq!(evicted.len(), 1);
    assert_eq!(evicted[0].message_id, "a");
    assert_eq!(evicted[0].envelope, env("a"));
    assert_eq!(buffer.stats().evictions, 1);
    let (_, evicted) = buffer.record(Direction::Out, env("b"), 4).unwrap();
    assert!(evicted.is_empty(), "re-recording needs no room");
}

#[test]
fn clear_returns_the_cleared_records_oldest_first() {
    let mut buffer = buffer_with(5, Strategy::Fifo, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c"]);
    let cleared: Vec<String> = buffer.clear().into_iter().map(|r| r.message_id).collect();
    assert_eq!(cleared, ["a", "b", "c"]);
    assert!(buffer.is_empty());
}

#[test]
fn from_snapshot_with_keeps_order_stages_tokens_and_settled_state() {
    let mut buffer = buffer_with(3, Strategy::Fifo, OnFull::Evict);
    buffer
        .record_outgoing(env_with_token("a", "t-a"), 10)
        .unwrap();
    buffer.record_outgoing(env("b"), 20).unwrap();
    buffer.ack(&Ack::new("b", ack_stage::FULFILLED)).unwrap();
    let mut next_slot = 0;
    let options = ActivityBufferOptions {
        max_items: 3,
        ..ActivityBufferOptions::default()
    };
    let mut handles: ActivityBuffer<Handle> =
        ActivityBuffer::from_snapshot_with(&buffer.to_snapshot(), options, |envelope| {
            next_slot += 1;
            Handle {
                slot: next_slot,
                id: envelope.message_id().unwrap().to_owned(),
                token: envelope.idempotency_token().to_owned(),
                state: envelope.state(),
            }
        })
        .unwrap();
    let order: Vec<(&str, u32)> = handles
        .records()
        .map(|r| (r.message_id.as_str(), r.envelope.slot))
        .collect();
    assert_eq!(order, [("a", 1), ("b", 2)]);
    assert_eq!(handles.get("b").unwrap().ack_stage, ack_stage::FULFILLED);
    assert_eq!(
        handles
            .get_by_idempotency_token("t-a", 30)
            .unwrap()
            .message_id,
        "a"
    );
    handles.update_state("a", envelope_state::FAILED).unwrap();
    assert_eq!(
        handles.get("a").unwrap().envelope.state,
        envelope_state::FAILED
    );
    assert_eq!(handles.len(), 2);
}

#[test]
fn from_snapshot_with_holds_nothing_from_a_bad_snapshot() {
    let mut buffer = buffer_with(3, Strategy::Fifo, OnFull::Evict);
    fill(&mut buffer, &["a", "b"]);
    let mut snapshot = buffer.to_snapshot();
    snapshot["records"]["b"]["ts_ms"] = serde_json::json!("soon");
    let mut held = 0;
    let result = ActivityBuffer::from_snapshot_with(
        &snapshot,
        ActivityBufferOptions::default(),
        |envelope: Envelope| {
            held += 1;
            envelope
        },
    );
    assert_eq!(result.unwrap_err().code(), "SNAPSHOT_INVALID");
    assert_eq!(held, 0);
}

#[test]
fn to_snapshot_with_resolves_each_envelope() {
    let mut buffer = buffer_with(3, Strategy::Fifo, OnFull::Evict);
    fill(&mut buffer, &["a", "b"]);
    let direct = buffer.to_snapshot();
    let resolved = buffer
        .to_snapshot_with(|envelope| Ok::<_, ()>(envelope.clone()))
        .unwrap();
    assert_eq!(direct, resolved);
    let failed = buffer.to_snapshot_with(|_| Err::<Envelope, _>("unreachable envelope"));
    assert_eq!(failed.unwrap_err(), "unreachable envelope");
}

// --- storage: holes, compaction, renumbering ------------------------------------------

/// Checks the storage invariants that tests can see from outside the type.
fn assert_compact(buffer: &ActivityBuffer) {
    assert!(
        buffer.slot_count() <= 2 * buffer.len(),
        "{} slots for {} records",
        buffer.slot_count(),
        buffer.len()
    );
    assert!(buffer.token_queue_len() <= 2 * buffer.token_index_len() + 64 + 1);
}

#[test]
fn settled_first_holes_are_compacted_and_every_index_is_renumbered() {
    // m0 stays in flight while the records after it settle and go: holes pile up behind
    // it until they outnumber the residents, then the slots are compacted and renumbered.
    let mut buffer = buffer_with(8, Strategy::SettledFirst, OnFull::Evict);
    for i in 0..8 {
        let id = format!("m{i}");
        buffer
            .record_outgoing(env_with_token(&id, &format!("t{i}")), i)
            .unwrap();
    }
    let mut next = 8;
    let mut evicted = Vec::new();
    let (mut holes, mut compactions) = (0, 0);
    for _round in 0..3 {
        let resident = all_ids(&buffer);
        let settle = &resident[1..resident.len() - 1];
        for id in settle {
            buffer.ack(&Ack::new(id, ack_stage::FULFILLED)).unwrap();
        }
        for _ in settle {
            let (_, gone) = buffer
                .record(
                    Direction::Out,
                    env_with_token(&format!("m{next}"), &format!("t{next}")),
                    next,
                )
                .unwrap();
            evicted.extend(gone.into_iter().map(|r| r.message_id));
            next += 1;
            assert_compact(&buffer);
            let now_holes = buffer.slot_count() - buffer.len();
            if now_holes < holes {
                compactions += 1; // m0 stays in front: only compaction removes holes
            }
            holes = now_holes;
        }
        assert_eq!(
            evicted[evicted.len() - settle.len()..],
            *settle,
            "oldest settled first"
        );
    }
    assert_eq!(compactions, 2);
    assert_eq!(buffer.len(), 8);
    assert_eq!(evicted.len(), 18);
    let resident = all_ids(&buffer);
    assert_eq!(resident[0], "m0");
    for (i, id) in resident.iter().enumerate() {
        let record = buffer.get(id).unwrap();
        assert_eq!(&record.message_id, id, "the id index follows renumbering");
        let token = format!("t{}", &id[1..]);
        let found = buffer.get_by_idempotency_token(&token, next).unwrap();
        assert_eq!(&found.message_id, id, "the token index follows renumbering");
        assert_eq!(ids(buffer.recent(8))[i], id.as_str());
    }
    for id in &evicted {
        assert!(buffer.get(id).is_none());
        let token = format!("t{}", &id[1..]);
        assert!(buffer.get_by_idempotency_token(&token, next).is_none());
    }
    // The settled positions were renumbered too: settle two residents, oldest goes first.
    buffer
        .ack(&Ack::new(&resident[5], ack_stage::REJECTED))
        .unwrap();
    buffer
        .ack(&Ack::new(&resident[2], ack_stage::FAILED))
        .unwrap();
    buffer.record_outgoing(env("x"), next).unwrap();
    buffer.record_outgoing(env("y"), next).unwrap();
    let expected: Vec<String> = resident
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != 2 && i != 5)
        .map(|(_, id)| id.clone())
        .collect();
    assert_eq!(all_ids(&buffer)[..6], expected[..]);
}

#[test]
fn settled_first_evicts_in_insertion_order_after_a_terminal_state_is_reverted() {
    let mut buffer = buffer_with(4, Strategy::SettledFirst, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c", "d"]);
    buffer.update_state("c", envelope_state::FAILED).unwrap();
    buffer.ack(&Ack::new("d", ack_stage::FULFILLED)).unwrap();
    buffer.update_state("b", envelope_state::FULFILLED).unwrap();
    buffer.update_state("c", envelope_state::SENT).unwrap(); // c is in flight again
    buffer.update_state("c", envelope_state::TIMED_OUT).unwrap(); // and settled again
    buffer.update_state("b", envelope_state::SENT).unwrap();
    // Settled now: c, d (b reverted); oldest settled first.
    buffer.record_outgoing(env("e"), 10).unwrap();
    assert_eq!(all_ids(&buffer), ["a", "b", "d", "e"]);
    buffer.record_outgoing(env("f"), 11).unwrap();
    assert_eq!(all_ids(&buffer), ["a", "b", "e", "f"]);
    buffer.update_state("f", envelope_state::FULFILLED).unwrap();
    buffer.ack(&Ack::new("b", ack_stage::REJECTED)).unwrap();
    buffer.update_state("b", envelope_state::SENT).unwrap(); // the ack stage keeps b settled
    buffer.record_outgoing(env("g"), 12).unwrap();
    assert_eq!(all_ids(&buffer), ["a", "e", "f", "g"]);
    buffer.record_outgoing(env("h"), 13).unwrap();
    assert_eq!(all_ids(&buffer), ["a", "e", "g", "h"]);
    buffer.record_outgoing(env("i"), 14).unwrap();
    assert_eq!(
        all_ids(&buffer),
        ["e", "g", "h", "i"],
        "nothing settled: fifo"
    );
}

#[test]
fn tokens_expire_on_time_after_compaction() {
    // A custom chooser evicting all but the oldest and the newest resident leaves more
    // holes than records: the buffer compacts, and the token queue follows; entries then
    // expire exactly at the window's end.
    let (strategy, _) = custom(|order| Ok(order[1..order.len() - 1].to_vec()));
    let mut buffer = buffer_with(6, strategy, OnFull::Evict); // window 10 s
    for i in 0..6 {
        buffer
            .record_outgoing(env_with_token(&format!("m{i}"), &format!("t{i}")), i * 1000)
            .unwrap();
    }
    buffer
        .record_outgoing(env_with_token("m6", "t6"), 6000)
        .unwrap();
    assert_eq!(all_ids(&buffer), ["m0", "m5", "m6"]);
    assert_eq!(buffer.slot_count(), 3, "compacted: no holes left");
    assert_eq!(buffer.token_index_len(), 3);
    assert_eq!(
        buffer.token_queue_len(),
        3,
        "items of evicted carriers went"
    );
    assert!(buffer.get_by_idempotency_token("t0", 10_000).is_some());
    assert!(buffer.get_by_idempotency_token("t0", 10_001).is_none());
    assert_eq!(buffer.token_index_len(), 2);
    assert!(buffer.get_by_idempotency_token("t3", 10_001).is_none());
    assert!(buffer.get_by_idempotency_token("t5", 15_000).is_some());
    assert!(buffer.get_by_idempotency_token("t5", 15_001).is_none());
    assert_eq!(buffer.token_index_len(), 1);
    assert_eq!(
        buffer
            .get_by_idempotency_token("t6", 16_000)
            .unwrap()
            .message_id,
        "m6"
    );
    buffer.get_by_idempotency_token("t6", 16_001);
    assert_eq!((buffer.token_index_len(), buffer.token_queue_len()), (0, 0));
    buffer
        .record_outgoing(env_with_token("m0", "t0"), 20_000)
        .unwrap();
    assert_eq!(
        buffer
            .get_by_idempotency_token("t0", 20_000)
            .unwrap()
            .message_id,
        "m0",
        "a renumbered record re-recorded finds its token again"
    );
}

#[test]
fn lifo_reuses_the_freed_position_without_reviving_the_victims_token() {
    let mut buffer = buffer_with(2, Strategy::Lifo, OnFull::Evict);
    buffer
        .record_outgoing(env_with_token("a", "ta"), 0)
        .unwrap();
    buffer
        .record_outgoing(env_with_token("b", "shared"), 0)
        .unwrap();
    // c takes b's position (b's queue item is still there, at the same ts).
    buffer
        .record_outgoing(env_with_token("c", "other"), 0)
        .unwrap();
    assert_eq!(all_ids(&buffer), ["a", "c"]);
    assert_eq!(buffer.slot_count(), 2);
    assert!(buffer.get_by_idempotency_token("shared", 0).is_none());
    assert_eq!(
        buffer
            .get_by_idempotency_token("other", 10_000)
            .unwrap()
            .message_id,
        "c"
    );
    assert!(buffer.get_by_idempotency_token("other", 10_001).is_none());
    assert!(buffer.get_by_idempotency_token("ta", 10_001).is_none());
    assert_eq!((buffer.token_index_len(), buffer.token_queue_len()), (0, 0));
}

#[test]
fn clear_then_refill_keeps_every_index_consistent() {
    let mut buffer = buffer_with(3, Strategy::SettledFirst, OnFull::Evict);
    fill(&mut buffer, &["a", "b", "c"]);
    buffer.ack(&Ack::new("b", ack_stage::FAILED)).unwrap();
    buffer.clear();
    fill(&mut buffer, &["b", "d", "e", "f"]);
    assert_eq!(
        all_ids(&buffer),
        ["d", "e", "f"],
        "b's old settled state is gone"
    );
    assert_eq!(buffer.get("e").unwrap().message_id, "e");
}

// --- the same behaviour as a plain model, over random operations -----------------------

/// The buffer's contract, written as plainly as possible: a Vec in insertion order, a
/// token map, linear scans. Expiry is left out: with a monotonic clock it only reclaims
/// memory (lookups check the window against the record).
struct Model {
    max_items: usize,
    window_ms: i64,
    reject: bool,
    records: Vec<ActivityRecord>,
    tokens: std::collections::HashMap<String, String>,
    stats: ActivityStats,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Fifo,
    Lifo,
    SettledFirst,
    Random,
    /// Every third resident from the second on (or the oldest): many holes.
    EveryThird,
    Reject,
}

fn every_third(order: &[String]) -> Vec<String> {
    let chosen: Vec<String> = order.iter().skip(1).step_by(3).cloned().collect();
    if chosen.is_empty() {
        vec![order[0].clone()]
    } else {
        chosen
    }
}

impl Model {
    fn position(&self, id: &str) -> Option<usize> {
        self.records.iter().position(|r| r.message_id == id)
    }

    /// Victim indices for one more record, or `None` when rejected.
    fn victims(&self, kind: Kind) -> Option<Vec<usize>> {
        if self.records.len() < self.max_items {
            return Some(vec![]);
        }
        let all = 0..self.records.len();
        Some(match kind {
            Kind::Fifo => vec![0],
            Kind::Lifo => vec![self.records.len() - 1],
            Kind::SettledFirst => {
                let settled = all.clone().find(|&i| {
                    let r = &self.records[i];
                    is_terminal_stage(r.ack_stage) || is_terminal_state(r.state())
                });
                vec![settled.unwrap_or(0)]
            }
            Kind::Random => unreachable!("random victims are taken from the buffer"),
            Kind::EveryThird => {
                let order: Vec<String> = all.map(|i| self.records[i].message_id.clone()).collect();
                every_third(&order)
                    .iter()
                    .map(|id| self.position(id).unwrap())
                    .collect()
            }
            Kind::Reject => return None,
        })
    }

    fn record(
        &mut self,
        direction: Direction,
        envelope: Envelope,
        now_ms: i64,
        victims: Option<Vec<usize>>,
    ) -> Result<(ActivityRecord, Vec<ActivityRecord>), ActivityError> {
        let id = envelope.validate_for_record()?.to_owned();
        let fresh = ActivityRecord::new(id.clone(), direction, envelope, now_ms);
        let mut evicted = Vec::new();
        if let Some(at) = self.position(&id) {
            let old_token = self.records[at].idempotency_token().to_owned();
            if self.tokens.get(&old_token) == Some(&id) {
                self.tokens.remove(&old_token);
            }
            self.records[at] = fresh.clone();
        } else {
            let Some(victims) = victims else {
                self.stats.rejections += 1;
                return Err(ActivityError::BufferFull {
                    current_size: self.records.len(),
                    max_size: self.max_items,
                });
            };
            let victim_ids: Vec<String> = victims
                .iter()
                .map(|&i| self.records[i].message_id.clone())
                .collect();
            for victim in victim_ids {
                let at = self.position(&victim).unwrap();
                let gone = self.records.remove(at);
                if self.tokens.get(gone.idempotency_token()) == Some(&gone.message_id) {
                    self.tokens.remove(gone.idempotency_token());
                }
                evicted.push(gone);
            }
            self.stats.evictions += evicted.len() as u64;
            self.records.push(fresh.clone());
        }
        if !fresh.idempotency_token().is_empty() {
            self.tokens
                .insert(fresh.idempotency_token().to_owned(), id.clone());
        }
        Ok((fresh, evicted))
    }

    fn by_token(&self, token: &str, now_ms: i64) -> Option<&ActivityRecord> {
        let id = self.tokens.get(token)?;
        let record = &self.records[self.position(id).unwrap()];
        (now_ms - record.ts_ms <= self.window_ms).then_some(record)
    }
}

/// Applies the same ack to both and compares the answers.
fn ack_both(buffer: &mut ActivityBuffer, model: &mut Model, id: &str, stage: i64, context: &str) {
    let mut ack = Ack::new(id, stage);
    ack.note = format!("note {context}");
    let got = buffer.ack(&ack).map(|r| r.cloned());
    let expected = if !ack_stage::VALID.contains(&stage) {
        Err(ActivityError::range(
            "ack_stage",
            stage.to_string(),
            super::record::STAGE_EXPECTED,
        ))
    } else {
        Ok(model.position(id).map(|at| {
            let record = &mut model.records[at];
            if is_terminal_stage(record.ack_stage) || stage < record.ack_stage {
                model.stats.ignored_acks += 1;
            } else {
                record.ack_stage = stage;
                record.error_code = ack.error_code;
                record.ack_note = ack.note.clone();
            }
            record.clone()
        }))
    };
    assert_eq!(got, expected, "{context}");
}

fn run_against_the_model(kind: Kind, seed: u64) {
    let max_items = 12;
    let strategy = match kind {
        Kind::Fifo | Kind::Reject => Strategy::Fifo,
        Kind::Lifo => Strategy::Lifo,
        Kind::SettledFirst => Strategy::SettledFirst,
        Kind::Random => Strategy::Random { seed },
        Kind::EveryThird => {
            Strategy::Custom(Box::new(|order: Vec<String>, _| Ok(every_third(&order))))
        }
    };
    let on_full = match kind {
        Kind::Reject => OnFull::Reject,
        _ => OnFull::Evict,
    };
    let mut buffer = buffer_with(max_items, strategy, on_full); // window 10 s
    let mut model = Model {
        max_items,
        window_ms: 10_000,
        reject: matches!(kind, Kind::Reject),
        records: vec![],
        tokens: Default::default(),
        stats: ActivityStats::default(),
    };
    assert_eq!(model.reject, on_full == OnFull::Reject);
    let mut rng = super::strategy::SplitMix64::new(seed);
    let mut now = 0i64;
    let mut fresh_id = 0;
    for step in 0..3000 {
        now += rng.below(700) as i64;
        let id = if rng.below(3) == 0 {
            format!("m{}", rng.below(fresh_id + 1)) // maybe resident, maybe evicted
        } else {
            fresh_id += 1;
            format!("m{fresh_id}")
        };
        let token = match rng.below(4) {
            0 => String::new(),
            _ => format!("t{}", rng.below(30)),
        };
        let context = format!("{kind:?} seed {seed} step {step}");
        match rng.below(10) {
            0..=3 => {
                let mut envelope = if token.is_empty() {
                    env(&id)
                } else {
                    env_with_token(&id, &token)
                };
                if rng.below(5) == 0 {
                    envelope.insert_json("state", rng.below(8) as i64);
                }
                let direction = if rng.below(2) == 0 {
                    Direction::In
                } else {
                    Direction::Out
                };
                let got = buffer
                    .record(direction, envelope.clone(), now)
                    .map(|(r, evicted)| (r.clone(), evicted));
                let victims = match (kind, &got) {
                    (Kind::Random, Ok((_, evicted))) => Some(
                        evicted
                            .iter()
                            .map(|r| model.position(&r.message_id).expect(&context))
                            .collect(),
                    ),
                    (Kind::Random, Err(_)) => unreachable!("{context}"),
                    _ => model.victims(kind),
                };
                let expected = model.record(direction, envelope, now, victims);
                assert_eq!(got, expected, "{context}");
                if matches!(kind, Kind::SettledFirst) && rng.below(4) != 0 {
                    // Most records settle soon: holes pile up behind the in-flight ones.
                    ack_both(&mut buffer, &mut model, &id, ack_stage::FULFILLED, &context);
                }
            }
            4 => {
                let stage = rng.below(8) as i64;
                ack_both(&mut buffer, &mut model, &id, stage, &context);
            }
            5 => {
                let state = rng.below(9) as i64;
                let got = buffer.update_state(&id, state).map(|r| r.cloned());
                match got {
                    Err(error) => {
                        assert_eq!(state, 8, "{context}");
                        assert_eq!(error.code(), "OUT_OF_RANGE", "{context}");
                    }
                    Ok(got) => {
                        let expected = model.position(&id).map(|at| {
                            model.records[at].envelope.set_state(state);
                            model.records[at].clone()
                        });
                        assert_eq!(got, expected, "{context}");
                    }
                }
            }
            6 => {
                let got = buffer.get_by_idempotency_token(&token, now).cloned();
                assert_eq!(got.as_ref(), model.by_token(&token, now), "{context}");
            }
            7 => {
                let probe = env_with_token(&id, &token);
                let got = buffer.check_duplicate(&probe, now).unwrap();
                let (status, record) = (got.status, got.record.cloned());
                let expected = match model.by_token(&token, now).cloned() {
                    None => (DuplicateStatus::New, None),
                    Some(found) => {
                        model.stats.dedup_hits += 1;
                        let status = if is_terminal_state(found.state()) {
                            DuplicateStatus::Duplicate
                        } else {
                            DuplicateStatus::InProgress
                        };
                        (status, Some(found))
                    }
                };
                assert_eq!((status, record), expected, "{context}");
            }
            8 => {
                let n = rng.below(15) as i64 - 1;
                let got: Vec<ActivityRecord> = buffer.recent(n).into_iter().cloned().collect();
                let skip = model.records.len().saturating_sub(n.max(0) as usize);
                assert_eq!(got, model.records[skip..], "{context}");
                let unacked: Vec<&ActivityRecord> =
                    model.records.iter().filter(|r| r.is_unacked()).collect();
                assert_eq!(buffer.unacked(), unacked, "{context}");
                let reconcile: Vec<&ActivityRecord> = unacked
                    .into_iter()
                    .filter(|r| r.direction == Direction::Out)
                    .collect();
                assert_eq!(buffer.reconcile(), reconcile, "{context}");
            }
            _ => {
                if rng.below(40) == 0 {
                    let cleared = buffer.clear();
                    assert_eq!(cleared, std::mem::take(&mut model.records), "{context}");
                    model.tokens.clear();
                } else {
                    assert_eq!(
                        buffer.get(&id),
                        model.position(&id).map(|at| &model.records[at])
                    );
                }
            }
        }
        assert_eq!(buffer.len(), model.records.len(), "{context}");
        assert!(buffer.records().eq(model.records.iter()), "{context}");
        assert!(
            buffer.records().rev().eq(model.records.iter().rev()),
            "{context}"
        );
        assert_eq!(buffer.stats(), model.stats, "{context}");
        assert_compact(&buffer);
    }
}

#[test]
fn every_strategy_behaves_as_the_plain_model() {
    for kind in [
        Kind::Fifo,
        Kind::Lifo,
        Kind::SettledFirst,
        Kind::Random,
        Kind::EveryThird,
        Kind::Reject,
    ] {
        for seed in [1, 2, 3] {
            run_against_the_model(kind, seed);
        }
    }
}
