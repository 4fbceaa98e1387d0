//! Behaviour of the EventLog core (issue 3): ids, eviction, cursor reads, config, backends and
//! the activity endpoint's pure helpers.

use serde_json::{json, Value};
use tidepool::core::event_log::endpoint::{
    format_sse_event, parse_activity_query, parse_stream_cursor, ActivityParam, ActivityQuery,
    DEFAULT_LIMIT, MAX_LIMIT, SSE_HEARTBEAT,
};
use tidepool::core::event_log::{
    next_since, parse_backend_name, BackendKind, ConfigField, DisabledEventLog, Event,
    EventLogBackend, EventLogConfig, EventLogError, EventLogStats, InMemoryEventLog, PayloadBytes,
    SizedPayload, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_TTL_SECONDS,
};

const T0: f64 = 1_700_000_000.0;

fn log_with(ttl: f64, max: f64) -> InMemoryEventLog<Value> {
    let (config, fallbacks) = EventLogConfig::sanitized(Some(ttl), Some(max), None);
    assert!(fallbacks.is_empty(), "test config rejected: {fallbacks:?}");
    InMemoryEventLog::new(config)
}

fn append_n(log: &mut InMemoryEventLog<Value>, n: usize, now: f64) {
    for i in 0..n {
        log.append("tick", json!({ "i": i }), now).unwrap();
    }
}

fn ids<'a>(events: impl Iterator<Item = &'a Event<Value>>) -> Vec<u64> {
    events.map(|e| e.id).collect()
}

fn query_ids(
    log: &mut InMemoryEventLog<Value>,
    since: Option<u64>,
    limit: Option<i64>,
) -> Vec<u64> {
    ids(log.query(since, limit, T0).unwrap())
}

fn assert_stats_balance(log: &InMemoryEventLog<Value>) {
    let s = log.stats();
    assert_eq!(
        s.appended,
        s.evicted_by_ttl + s.evicted_by_size + s.evicted_by_bytes + s.cleared + log.len() as u64,
        "{s:?} with {} resident",
        log.len()
    );
}

// ---- events -------------------------------------------------------------------------------

#[test]
fn event_json_shape_is_exactly_id_timestamp_kind_payload() {
    let mut log = InMemoryEventLog::default();
    let event = log
        .append("tool.invoked", json!({ "tool": "grep" }), 1.5)
        .unwrap()
        .clone();
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(
        value,
        json!({ "id": 1, "timestamp": 1.5, "kind": "tool.invoked", "payload": { "tool": "grep" } })
    );
    assert_eq!(value.as_object().unwrap().len(), 4);
    let back: Event<Value> = serde_json::from_value(value).unwrap();
    assert_eq!(back, event);
}

#[test]
fn append_returns_the_stored_event_stamped_now() {
    let mut log = InMemoryEventLog::default();
    let event = log.append("turn.started", json!({}), T0 + 0.25).unwrap();
    assert_eq!(
        (event.id, event.timestamp, event.kind.as_str()),
        (1, T0 + 0.25, "turn.started")
    );
    assert_eq!(query_ids(&mut log, None, None), vec![1]);
}

// ---- ids ----------------------------------------------------------------------------------

#[test]
fn ids_start_at_one_and_grow_by_one() {
    let mut log = InMemoryEventLog::default();
    let got: Vec<u64> = (0..5)
        .map(|_| log.append("k", json!({}), T0).unwrap().id)
        .collect();
    assert_eq!(got, vec![1, 2, 3, 4, 5]);
    assert_eq!(log.last_id(), 5);
}

#[test]
fn ids_survive_size_eviction() {
    let mut log = log_with(3600.0, 3.0);
    append_n(&mut log, 5, T0);
    assert_eq!(query_ids(&mut log, None, None), vec![3, 4, 5]);
    assert_eq!(log.append("k", json!({}), T0).unwrap().id, 6);
    assert_eq!(query_ids(&mut log, None, None), vec![4, 5, 6]);
}

#[test]
fn ids_survive_ttl_eviction() {
    let mut log = log_with(10.0, 100.0);
    append_n(&mut log, 3, T0);
    assert!(log.query(None, None, T0 + 100.0).unwrap().next().is_none());
    assert_eq!(log.append("k", json!({}), T0 + 100.0).unwrap().id, 4);
}

#[test]
fn ids_survive_clear() {
    let mut log = InMemoryEventLog::default();
    append_n(&mut log, 3, T0);
    assert_eq!(log.clear(), 3);
    assert!(log.is_empty());
    assert_eq!(log.first_id(), None);
    assert_eq!(log.last_id(), 3);
    assert_eq!(log.append("k", json!({}), T0).unwrap().id, 4);
    assert_eq!(query_ids(&mut log, None, None), vec![4]);
    assert_eq!(query_ids(&mut log, Some(3), None), vec![4]);
}

// ---- bad input ----------------------------------------------------------------------------

#[test]
fn empty_kind_is_rejected_without_consuming_an_id() {
    let mut log = InMemoryEventLog::default();
    log.append("a", json!({}), T0).unwrap();
    let before = log.stats();
    let err = log.append("", json!({}), T0).unwrap_err();
    assert_eq!(err, EventLogError::EmptyKind);
    assert_eq!((err.code(), err.field()), ("INVALID_KIND", "kind"));
    assert!(err.to_string().contains("kind"), "{err}");
    assert_eq!(log.stats(), before);
    assert_eq!(log.len(), 1);
    assert_eq!(log.append("b", json!({}), T0).unwrap().id, 2);
}

#[test]
fn whitespace_kind_is_a_non_empty_string_and_accepted() {
    let mut log = InMemoryEventLog::default();
    assert_eq!(log.append(" ", json!({}), T0).unwrap().kind, " ");
}

#[test]
fn non_finite_now_is_rejected_and_changes_nothing() {
    let mut log = log_with(10.0, 100.0);
    append_n(&mut log, 2, T0);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = log.append("k", json!({}), bad).unwrap_err();
        assert_eq!((err.code(), err.field()), ("INVALID_TIME", "now"));
        assert!(err.to_string().contains("now()"), "{err}");
        // An infinite now would expire everything if it were used.
        assert!(log.query(None, None, bad).is_err());
        assert!(log.read(None, None, bad).is_err());
        assert!(log.evict(bad).is_err());
        assert_eq!(log.len(), 2);
    }
    assert_eq!(
        EventLogError::NonFiniteTime(f64::INFINITY).to_string(),
        "now() must return a finite number of seconds, got Infinity"
    );
    assert_eq!(log.append("k", json!({}), T0).unwrap().id, 3);
    assert_eq!(log.stats().evicted_by_ttl, 0);
}

// ---- TTL eviction -------------------------------------------------------------------------

#[test]
fn ttl_boundary_is_strict() {
    let mut log = log_with(10.0, 100.0);
    log.append("k", json!({}), 990.0).unwrap();
    // Exactly ttl old: 990 < 1000 - 10 is false, so it stays.
    assert_eq!(ids(log.query(None, None, 1000.0).unwrap()), vec![1]);
    // A hair older than ttl: evicted.
    assert!(log.query(None, None, 1000.5).unwrap().next().is_none());
    assert_eq!(log.stats().evicted_by_ttl, 1);
}

#[test]
fn ttl_eviction_runs_on_append_query_read_and_evict() {
    let mut log = log_with(10.0, 100.0);
    log.append("old", json!({}), 0.0).unwrap();
    log.append("new", json!({}), 20.0).unwrap();
    assert_eq!(log.first_id(), Some(2), "append evicts");

    log.append("x", json!({}), 25.0).unwrap();
    assert_eq!(ids(log.query(None, None, 32.0).unwrap()), vec![3]);
    assert_eq!(log.first_id(), Some(3), "query evicts");

    assert_eq!(
        log.read(None, None, 40.0).unwrap().first_id,
        None,
        "read evicts"
    );

    log.append("y", json!({}), 50.0).unwrap();
    assert_eq!(log.evict(59.0).unwrap(), 0);
    assert_eq!(log.evict(61.0).unwrap(), 1);
    assert_eq!(log.stats().evicted_by_ttl, 4);
    assert_stats_balance(&log);
}

#[test]
fn ttl_runs_before_size() {
    let mut log = log_with(10.0, 2.0);
    log.append("a", json!({}), 0.0).unwrap();
    log.append("b", json!({}), 20.0).unwrap();
    // At 25, "a" is both expired and the one over the size bound: TTL claims it first.
    log.append("c", json!({}), 25.0).unwrap();
    let s = log.stats();
    assert_eq!((s.evicted_by_ttl, s.evicted_by_size), (1, 0));
    assert_eq!(ids(log.query(None, None, 25.0).unwrap()), vec![2, 3]);
}

#[test]
fn size_bound_holds_when_the_clock_steps_back() {
    let mut log = log_with(10.0, 3.0);
    log.append("k", json!({}), 100.0).unwrap();
    log.append("k", json!({}), 50.0).unwrap();
    for _ in 0..5 {
        log.append("k", json!({}), 100.0).unwrap();
        assert!(log.len() <= 3);
    }
    assert_eq!(ids(log.query(None, None, 100.0).unwrap()), vec![5, 6, 7]);
}

// ---- size eviction ------------------------------------------------------------------------

#[test]
fn size_eviction_keeps_the_newest_max_entries() {
    let mut log = log_with(3600.0, 4.0);
    for i in 0..10 {
        log.append("k", json!({}), T0).unwrap();
        assert_eq!(log.len(), (i + 1).min(4));
    }
    assert_eq!(query_ids(&mut log, None, None), vec![7, 8, 9, 10]);
    assert_eq!(log.stats().evicted_by_size, 6);
}

#[test]
fn max_entries_one_keeps_only_the_latest() {
    let mut log = log_with(3600.0, 1.0);
    append_n(&mut log, 3, T0);
    assert_eq!(query_ids(&mut log, None, None), vec![3]);
}

#[test]
fn stats_account_for_every_event() {
    let mut log = log_with(5.0, 7.0);
    let mut now = T0;
    for round in 0..40 {
        for _ in 0..(round % 5) {
            log.append("k", json!({}), now).unwrap();
        }
        now += [0.0, 1.0, 6.0][round % 3];
        log.query(Some(round as u64), Some(2), now).unwrap();
        if round % 11 == 10 {
            log.clear();
        }
        assert_stats_balance(&log);
    }
    let s = log.stats();
    assert_eq!(s.appended, log.last_id());
    assert!(
        s.evicted_by_ttl > 0 && s.evicted_by_size > 0 && s.cleared > 0,
        "{s:?}"
    );
}

// ---- query --------------------------------------------------------------------------------

#[test]
fn query_since_returns_later_events_ascending() {
    let mut log = InMemoryEventLog::default();
    append_n(&mut log, 5, T0);
    assert_eq!(query_ids(&mut log, None, None), vec![1, 2, 3, 4, 5]);
    assert_eq!(query_ids(&mut log, Some(0), None), vec![1, 2, 3, 4, 5]);
    assert_eq!(query_ids(&mut log, Some(2), None), vec![3, 4, 5]);
    assert_eq!(query_ids(&mut log, Some(4), None), vec![5]);
}

#[test]
fn query_limit_zero_negative_and_caps() {
    let mut log = InMemoryEventLog::default();
    append_n(&mut log, 5, T0);
    assert_eq!(query_ids(&mut log, None, Some(0)), Vec::<u64>::new());
    assert_eq!(query_ids(&mut log, None, Some(-1)), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        query_ids(&mut log, None, Some(i64::MIN)),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(query_ids(&mut log, None, Some(2)), vec![1, 2]);
    assert_eq!(query_ids(&mut log, Some(3), Some(1)), vec![4]);
    assert_eq!(query_ids(&mut log, Some(3), Some(10)), vec![4, 5]);
    assert_eq!(
        query_ids(&mut log, None, Some(i64::MAX)),
        vec![1, 2, 3, 4, 5]
    );
}

#[test]
fn query_since_at_or_past_the_end_is_empty() {
    let mut log = InMemoryEventLog::default();
    append_n(&mut log, 3, T0);
    assert!(query_ids(&mut log, Some(3), None).is_empty());
    assert!(query_ids(&mut log, Some(4), None).is_empty());
    assert!(query_ids(&mut log, Some(u64::MAX), Some(5)).is_empty());
    let mut empty = InMemoryEventLog::<Value>::default();
    assert!(query_ids(&mut empty, Some(10), None).is_empty());
}

#[test]
fn query_since_before_the_oldest_resident_starts_at_the_oldest() {
    let mut log = log_with(3600.0, 3.0);
    append_n(&mut log, 10, T0);
    assert_eq!(query_ids(&mut log, Some(2), None), vec![8, 9, 10]);
    assert_eq!(query_ids(&mut log, Some(7), None), vec![8, 9, 10]);
    assert_eq!(query_ids(&mut log, Some(8), None), vec![9, 10]);
}

#[test]
fn query_matches_a_linear_scan_for_every_cursor_and_limit() {
    let mut log = log_with(3600.0, 8.0);
    for appended in 0..20u64 {
        for since in (0..=appended + 2).map(Some).chain([None]) {
            for limit in (-2..=10).map(Some).chain([None]) {
                let resident: Vec<Event<Value>> =
                    log.query(None, None, T0).unwrap().cloned().collect();
                let cap = match limit {
                    Some(l) if l >= 0 => l as usize,
                    _ => usize::MAX,
                };
                let expected: Vec<u64> = resident
                    .iter()
                    .filter(|e| e.id > since.unwrap_or(0))
                    .take(cap)
                    .map(|e| e.id)
                    .collect();
                assert_eq!(
                    query_ids(&mut log, since, limit),
                    expected,
                    "since {since:?} limit {limit:?} after {appended} appends"
                );
            }
        }
        log.append("k", json!({}), T0).unwrap();
    }
}

#[test]
fn query_result_is_exact_size_and_double_ended() {
    let mut log = InMemoryEventLog::default();
    append_n(&mut log, 6, T0);
    let events = log.query(Some(1), Some(3), T0).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(ids(events.rev()), vec![4, 3, 2]);
}

#[test]
fn stored_payload_is_owned_by_the_log() {
    let mut log = InMemoryEventLog::default();
    let mut payload = json!({ "n": 1 });
    log.append("k", payload.clone(), T0).unwrap();
    payload["n"] = json!(2);
    let stored = log.query(None, None, T0).unwrap().next().unwrap();
    assert_eq!(stored.payload, json!({ "n": 1 }));
}

// ---- read ---------------------------------------------------------------------------------

#[test]
fn read_on_a_fresh_log() {
    let mut log = InMemoryEventLog::<Value>::default();
    let r = log.read(None, None, T0).unwrap();
    assert_eq!(r.events.len(), 0);
    assert_eq!(
        (r.first_id, r.last_id, r.missed, r.next_since),
        (None, 0, 0, 0)
    );
}

#[test]
fn read_reports_events_and_bounds() {
    let mut log = log_with(3600.0, 3.0);
    append_n(&mut log, 10, T0);
    let r = log.read(Some(8), None, T0).unwrap();
    assert_eq!(ids(r.events.clone()), vec![9, 10]);
    assert_eq!((r.first_id, r.last_id, r.missed), (Some(8), 10, 0));
}

#[test]
fn missed_counts_evicted_events_after_the_cursor() {
    let mut log = log_with(3600.0, 3.0);
    append_n(&mut log, 10, T0); // resident 8, 9, 10; 1..=7 evicted
    let missed =
        |log: &mut InMemoryEventLog<Value>, since| log.read(since, None, T0).unwrap().missed;
    assert_eq!(missed(&mut log, None), 7);
    assert_eq!(missed(&mut log, Some(0)), 7);
    assert_eq!(missed(&mut log, Some(5)), 2);
    assert_eq!(missed(&mut log, Some(6)), 1);
    assert_eq!(missed(&mut log, Some(7)), 0);
    assert_eq!(missed(&mut log, Some(9)), 0);
    assert_eq!(missed(&mut log, Some(50)), 0);
    // A limit does not change what was missed.
    assert_eq!(log.read(Some(5), Some(0), T0).unwrap().missed, 2);
}

#[test]
fn missed_counts_ttl_evictions() {
    let mut log = log_with(10.0, 100.0);
    append_n(&mut log, 4, 0.0);
    log.append("k", json!({}), 20.0).unwrap();
    let r = log.read(Some(1), None, 20.0).unwrap();
    assert_eq!((ids(r.events), r.missed), (vec![5], 3));
}

#[test]
fn cleared_events_count_as_missed() {
    let mut log = InMemoryEventLog::default();
    append_n(&mut log, 5, T0);
    log.clear();
    let r = log.read(Some(2), None, T0).unwrap();
    assert_eq!(r.events.len(), 0);
    assert_eq!((r.first_id, r.last_id, r.missed), (None, 5, 3));
    assert_eq!(log.read(Some(5), None, T0).unwrap().missed, 0);
    log.append("k", json!({}), T0).unwrap();
    let r = log.read(Some(2), None, T0).unwrap();
    assert_eq!((ids(r.events), r.first_id, r.missed), (vec![6], Some(6), 3));
}

#[test]
fn next_since_is_the_last_returned_id() {
    let mut log = InMemoryEventLog::default();
    append_n(&mut log, 5, T0);
    assert_eq!(log.read(None, Some(2), T0).unwrap().next_since, 2);
    assert_eq!(log.read(Some(2), Some(2), T0).unwrap().next_since, 4);
    assert_eq!(log.read(Some(4), None, T0).unwrap().next_since, 5);
}

#[test]
fn next_since_without_events() {
    let mut log = log_with(3600.0, 3.0);
    append_n(&mut log, 10, T0); // resident 8..=10
                                // Caught up: stays.
    assert_eq!(log.read(Some(10), None, T0).unwrap().next_since, 10);
    // limit 0 inside the resident range: stays, nothing was consumed.
    assert_eq!(log.read(Some(8), Some(0), T0).unwrap().next_since, 8);
    // limit 0 inside the evicted gap: moves past the gap that `missed` just reported.
    assert_eq!(log.read(Some(3), Some(0), T0).unwrap().next_since, 7);
    // Ahead of every assigned id (log recreated): pulled back to last_id.
    assert_eq!(log.read(Some(99), None, T0).unwrap().next_since, 10);
    // Everything cleared: past the gap.
    log.clear();
    assert_eq!(log.read(None, None, T0).unwrap().next_since, 10);
    // The pure function agrees.
    assert_eq!(next_since(Some(3), None, 7, 10), 7);
    assert_eq!(next_since(None, Some(9), 7, 10), 9);
}

#[test]
fn a_reader_following_next_since_sees_every_event_or_counts_it_missed() {
    let mut log = log_with(3600.0, 5.0);
    let mut cursor = None;
    let (mut seen, mut missed) = (Vec::new(), 0);
    for round in 0..30u64 {
        append_n(&mut log, (round * 7 % 9) as usize, T0);
        let r = log.read(cursor, Some((round % 4) as i64), T0).unwrap();
        missed += r.missed;
        seen.extend(ids(r.events.clone()));
        cursor = Some(r.next_since);
    }
    let r = log.read(cursor, None, T0).unwrap();
    missed += r.missed;
    seen.extend(ids(r.events));
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "no duplicates, ascending"
    );
    assert_eq!(
        seen.len() as u64 + missed,
        log.last_id(),
        "each loss reported once"
    );
    assert!(missed > 0);
}

#[test]
fn read_serializes_to_the_endpoint_json() {
    let mut log = log_with(3600.0, 2.0);
    log.append("a", json!({}), 1.0).unwrap();
    log.append("b", json!({ "x": 1 }), 2.0).unwrap();
    log.append("c", json!({}), 3.0).unwrap();
    let r = log.read(Some(1), Some(1), 3.0).unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({
            "events": [{ "id": 2, "timestamp": 2.0, "kind": "b", "payload": { "x": 1 } }],
            "first_id": 2, "last_id": 3, "missed": 0, "next_since": 2
        })
    );
    let empty = InMemoryEventLog::<Value>::default()
        .read(None, None, 0.0)
        .map(|r| serde_json::to_value(&r).unwrap());
    assert_eq!(
        empty.unwrap(),
        json!({ "events": [], "first_id": null, "last_id": 0, "missed": 0, "next_since": 0 })
    );
}

// ---- byte eviction (maxBytes) -------------------------------------------------------------

fn log_with_bytes(max_entries: f64, max_bytes: f64) -> InMemoryEventLog<Value> {
    let (config, fallbacks) =
        EventLogConfig::sanitized(Some(3600.0), Some(max_entries), Some(max_bytes));
    assert!(fallbacks.is_empty(), "test config rejected: {fallbacks:?}");
    InMemoryEventLog::new(config)
}

/// A payload whose compact JSON, `{"s":"xx…"}`, is exactly `bytes` long.
fn payload_of(bytes: usize) -> Value {
    let payload = json!({ "s": "x".repeat(bytes - 8) });
    assert_eq!(serde_json::to_string(&payload).unwrap().len(), bytes);
    payload
}

#[test]
fn payload_bytes_are_the_compact_json_length() {
    for payload in [
        json!({}),
        json!({ "a": [1, 2.5, null, true], "b": { "c": "é\n\"" } }),
        json!({ "emoji": "🦀", "n": -0.000001 }),
    ] {
        let text = serde_json::to_string(&payload).unwrap();
        assert_eq!(payload.payload_bytes(), text.len(), "{text}");
        let sized = SizedPayload::new(payload.clone());
        assert_eq!(sized.payload_bytes(), text.len());
        assert_eq!(
            serde_json::to_string(&sized).unwrap(),
            text,
            "serializes as the payload"
        );
    }
}

#[test]
fn byte_eviction_drops_the_oldest_until_the_payloads_fit() {
    let mut log = log_with_bytes(100.0, 100.0);
    for _ in 0..3 {
        log.append("k", payload_of(30), T0).unwrap();
    }
    assert_eq!((log.len(), log.bytes()), (3, 90));
    // 90 + 30 > 100: the oldest goes, and only it.
    log.append("k", payload_of(30), T0).unwrap();
    assert_eq!(query_ids(&mut log, None, None), vec![2, 3, 4]);
    assert_eq!(log.bytes(), 90);
    // One big payload evicts as many as it takes; a payload of exactly maxBytes fits alone.
    log.append("k", payload_of(70), T0).unwrap();
    assert_eq!(query_ids(&mut log, None, None), vec![4, 5]);
    log.append("k", payload_of(100), T0).unwrap();
    assert_eq!(query_ids(&mut log, None, None), vec![6]);
    assert_eq!(log.bytes(), 100);
    let s = log.stats();
    assert_eq!(
        (s.evicted_by_bytes, s.evicted_by_size, s.evicted_by_ttl),
        (5, 0, 0)
    );
    assert_stats_balance(&log);
}

#[test]
fn a_payload_larger_than_max_bytes_changes_nothing() {
    let mut log = log_with_bytes(100.0, 100.0);
    log.append("k", payload_of(60), T0).unwrap();
    let before = (log.stats(), log.bytes(), log.last_id());
    let error = log.append("k", payload_of(101), T0 + 1.0).unwrap_err();
    assert_eq!(
        error,
        EventLogError::PayloadTooLarge {
            bytes: 101,
            max_bytes: 100
        }
    );
    assert_eq!(error.code(), "PAYLOAD_TOO_LARGE");
    assert_eq!(error.field(), "payload");
    assert_eq!(
        error.to_string(),
        "payload is 101 bytes as JSON, more than maxBytes (100)"
    );
    assert_eq!((log.stats(), log.bytes(), log.last_id()), before);
    assert_eq!(query_ids(&mut log, None, None), vec![1]);
    assert_eq!(
        log.append("k", json!({}), T0).unwrap().id,
        2,
        "no id consumed"
    );
}

#[test]
fn evictions_are_counted_under_the_bound_that_caused_them() {
    // TTL first, then maxEntries, then maxBytes.
    let (config, _) = EventLogConfig::sanitized(Some(10.0), Some(3.0), Some(100.0));
    let mut log = InMemoryEventLog::new(config);
    log.append("old", payload_of(10), 0.0).unwrap();
    for _ in 0..3 {
        log.append("k", payload_of(10), 20.0).unwrap();
    }
    // At 20 the expired one went by TTL; the fifth event pushed id 2 out by count.
    log.append("k", payload_of(10), 20.0).unwrap();
    // The sixth pushes id 3 out by count, then 10 + 10 + 90 > 100 pushes id 4 out by bytes.
    log.append("k", payload_of(90), 20.0).unwrap();
    let s = log.stats();
    assert_eq!(
        (s.evicted_by_ttl, s.evicted_by_size, s.evicted_by_bytes),
        (1, 2, 1),
        "{s:?}"
    );
    assert_eq!(ids(log.query(None, None, 20.0).unwrap()), vec![5, 6]);
    assert_eq!(log.bytes(), 100);
    assert_stats_balance(&log);
}

#[test]
fn clear_and_ttl_keep_the_byte_count_in_step() {
    let mut log = log_with_bytes(10.0, 1000.0);
    log.append("k", payload_of(40), T0).unwrap();
    log.append("k", payload_of(50), T0 + 5000.0).unwrap();
    assert_eq!(log.bytes(), 50, "the expired one no longer counts");
    log.clear();
    assert_eq!(log.bytes(), 0);
    log.append("k", payload_of(1000), T0 + 5000.0).unwrap();
    assert_eq!(log.bytes(), 1000);
}

#[test]
fn max_bytes_defaults_and_fallbacks() {
    assert_eq!(DEFAULT_MAX_BYTES, 64 * 1024 * 1024);
    assert_eq!(EventLogConfig::default().max_bytes(), DEFAULT_MAX_BYTES);
    let (config, fallbacks) = EventLogConfig::sanitized(None, None, Some(1.0));
    assert!(fallbacks.is_empty());
    assert_eq!(config.max_bytes(), 1);
    let (config, _) = EventLogConfig::sanitized(None, None, Some(1e30));
    assert_eq!(config.max_bytes(), usize::MAX);
    for bad in [0.0, -1.0, 2.5, f64::NAN, f64::INFINITY] {
        let (config, fallbacks) = EventLogConfig::sanitized(None, Some(5.0), Some(bad));
        assert_eq!(config.max_bytes(), DEFAULT_MAX_BYTES, "{bad}");
        assert_eq!(config.max_entries(), 5);
        assert_eq!(fallbacks.len(), 1);
        assert_eq!(fallbacks[0].field, ConfigField::MaxBytes);
        assert_eq!(fallbacks[0].field.js_name(), "maxBytes");
    }
    let (_, fallbacks) = EventLogConfig::sanitized(None, None, Some(-3.0));
    assert_eq!(
        fallbacks[0].to_string(),
        "maxBytes must be a positive integer, got -3; using the default 67108864"
    );
}

// ---- config -------------------------------------------------------------------------------

#[test]
fn config_defaults() {
    let config = EventLogConfig::default();
    assert_eq!(
        (config.ttl_seconds(), config.max_entries()),
        (3600.0, 10_000)
    );
    assert_eq!((DEFAULT_TTL_SECONDS, DEFAULT_MAX_ENTRIES), (3600.0, 10_000));
    let (sanitized, fallbacks) = EventLogConfig::sanitized(None, None, None);
    assert_eq!(sanitized, config);
    assert!(fallbacks.is_empty());
    let log = InMemoryEventLog::<Value>::default();
    assert_eq!((log.ttl_seconds(), log.max_entries()), (3600.0, 10_000));
}

#[test]
fn config_keeps_valid_values() {
    let (config, fallbacks) = EventLogConfig::sanitized(Some(0.5), Some(1.0), None);
    assert!(fallbacks.is_empty());
    assert_eq!((config.ttl_seconds(), config.max_entries()), (0.5, 1));
    let (config, _) = EventLogConfig::sanitized(Some(1e12), Some(1e30), None);
    assert_eq!(
        (config.ttl_seconds(), config.max_entries()),
        (1e12, usize::MAX)
    );
}

#[test]
fn bad_ttl_falls_back_to_the_default_and_is_reported() {
    for bad in [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let (config, fallbacks) = EventLogConfig::sanitized(Some(bad), Some(5.0), None);
        assert_eq!(config.ttl_seconds(), DEFAULT_TTL_SECONDS, "{bad}");
        assert_eq!(config.max_entries(), 5);
        assert_eq!(fallbacks.len(), 1, "{bad}");
        assert_eq!(fallbacks[0].field, ConfigField::TtlSeconds);
        assert!(fallbacks[0].value.is_nan() == bad.is_nan());
    }
    let (_, fallbacks) = EventLogConfig::sanitized(Some(f64::INFINITY), None, None);
    assert_eq!(
        fallbacks[0].to_string(),
        "ttlSeconds must be a positive finite number, got Infinity; using the default 3600"
    );
}

#[test]
fn bad_max_entries_falls_back_to_the_default_and_is_reported() {
    for bad in [0.0, -5.0, 0.5, 2.5, f64::NAN, f64::INFINITY] {
        let (config, fallbacks) = EventLogConfig::sanitized(Some(7.0), Some(bad), None);
        assert_eq!(config.max_entries(), DEFAULT_MAX_ENTRIES, "{bad}");
        assert_eq!(config.ttl_seconds(), 7.0);
        assert_eq!(fallbacks.len(), 1, "{bad}");
        assert_eq!(fallbacks[0].field.js_name(), "maxEntries");
    }
    let (_, fallbacks) = EventLogConfig::sanitized(Some(-1.0), Some(-2.0), None);
    let messages: Vec<String> = fallbacks.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        messages,
        vec![
            "ttlSeconds must be a positive finite number, got -1; using the default 3600",
            "maxEntries must be a positive integer, got -2; using the default 10000",
        ]
    );
}

#[test]
fn a_bad_bound_does_not_lose_events() {
    let (config, _) = EventLogConfig::sanitized(Some(0.0), Some(0.0), None);
    let mut log = InMemoryEventLog::new(config);
    append_n(&mut log, 50, T0);
    assert_eq!(log.read(None, None, T0 + 60.0).unwrap().events.len(), 50);
}

// ---- disabled backend ---------------------------------------------------------------------

#[test]
fn disabled_log_hands_out_ids_and_stores_nothing() {
    let mut log = DisabledEventLog::new();
    let first = log.append("k", json!({ "a": 1 }), T0).unwrap();
    assert_eq!(
        first,
        Event {
            id: 1,
            timestamp: T0,
            kind: "k".into(),
            payload: json!({ "a": 1 })
        }
    );
    assert_eq!(log.append("k", json!({}), T0).unwrap().id, 2);
    assert_eq!(log.query::<Value>(None, None, T0).unwrap().len(), 0);
    log.clear();
    assert_eq!(log.append("k", json!({}), T0).unwrap().id, 3);
    assert_eq!(log.last_id(), 3);
}

#[test]
fn disabled_log_validates_like_the_memory_log() {
    let mut log = DisabledEventLog::new();
    assert_eq!(
        log.append("", json!({}), T0).unwrap_err(),
        EventLogError::EmptyKind
    );
    assert!(log.append("k", json!({}), f64::NAN).is_err());
    assert!(log.query::<Value>(None, None, f64::NAN).is_err());
    assert_eq!(log.append("k", json!({}), T0).unwrap().id, 1);
}

#[test]
fn disabled_read_reports_everything_after_since_as_missed() {
    let mut log = DisabledEventLog::new();
    for _ in 0..4 {
        log.append("k", (), T0).unwrap();
    }
    let r = log.read::<()>(Some(1), None, T0).unwrap();
    assert_eq!(r.events.len(), 0);
    assert_eq!(
        (r.first_id, r.last_id, r.missed, r.next_since),
        (None, 4, 3, 4)
    );
}

#[test]
fn both_backends_work_behind_the_trait() {
    fn emit(log: &mut dyn EventLogBackend<Value>) -> Vec<u64> {
        let a = log.append("turn.started", json!({}), T0).unwrap().id;
        let b = log.append("turn.ended", json!({}), T0).unwrap().id;
        let resident = ids(log.query(Some(a), None, T0).unwrap());
        log.clear();
        let c = log.append("again", json!({}), T0).unwrap().id;
        let missed = log.read(None, None, T0).unwrap().missed;
        [vec![a, b, c, missed], resident].concat()
    }
    let mut backends: Vec<Box<dyn EventLogBackend<Value>>> = vec![
        Box::new(InMemoryEventLog::default()),
        Box::new(DisabledEventLog::new()),
    ];
    assert_eq!(emit(backends[0].as_mut()), vec![1, 2, 3, 2, 2]);
    assert_eq!(emit(backends[1].as_mut()), vec![1, 2, 3, 3]);
}

// ---- backend names ------------------------------------------------------------------------

#[test]
fn backend_names() {
    let cases = [
        ("memory", BackendKind::Memory, false),
        ("  MEMORY\n", BackendKind::Memory, false),
        ("", BackendKind::Memory, false),
        ("   ", BackendKind::Memory, false),
        ("disabled", BackendKind::Disabled, false),
        ("Disabled", BackendKind::Disabled, false),
        (" off ", BackendKind::Disabled, false),
        ("OFF", BackendKind::Disabled, false),
        ("none", BackendKind::Disabled, false),
        ("NoNe\t", BackendKind::Disabled, false),
        ("memroy", BackendKind::Memory, true),
        ("redis", BackendKind::Memory, true),
        ("dis abled", BackendKind::Memory, true),
        ("nonexistent", BackendKind::Memory, true),
    ];
    for (name, kind, unknown) in cases {
        assert_eq!(parse_backend_name(name), (kind, unknown), "{name:?}");
    }
}

// ---- activity endpoint: query string ------------------------------------------------------

#[test]
fn activity_query_defaults() {
    let q = parse_activity_query(None, None).unwrap();
    assert_eq!(
        q,
        ActivityQuery {
            since: None,
            limit: DEFAULT_LIMIT
        }
    );
    assert_eq!(q.limit, 100);
    assert_eq!(q.log_limit(), Some(100));
    assert_eq!(parse_activity_query(Some(""), Some("")).unwrap(), q);
}

#[test]
fn activity_query_values_and_cap() {
    let parse = |s, l| parse_activity_query(s, l).unwrap();
    assert_eq!(
        parse(Some("42"), Some("7")),
        ActivityQuery {
            since: Some(42),
            limit: 7
        }
    );
    assert_eq!(
        parse(Some("0"), Some("0")),
        ActivityQuery {
            since: Some(0),
            limit: 0
        }
    );
    assert_eq!(parse(Some("007"), None).since, Some(7));
    assert_eq!(parse(None, Some("500")).limit, 500);
    assert_eq!(parse(None, Some("501")).limit, MAX_LIMIT);
    assert_eq!(
        parse(None, Some("99999999999999999999999")).limit,
        MAX_LIMIT
    );
    assert_eq!(
        parse(Some("18446744073709551615"), None).since,
        Some(u64::MAX)
    );
}

#[test]
fn malformed_since_is_an_error_naming_since() {
    for bad in [
        "abc",
        "-1",
        "+3",
        "1.5",
        "1e3",
        " 3",
        "3 ",
        "0x10",
        "١٢",
        "18446744073709551616",
    ] {
        let err = parse_activity_query(Some(bad), Some("10")).unwrap_err();
        assert_eq!((err.param, err.value.as_str()), (ActivityParam::Since, bad));
        assert!(err.to_string().starts_with("invalid since:"), "{err}");
    }
    assert_eq!(
        parse_activity_query(Some("abc"), None)
            .unwrap_err()
            .to_string(),
        r#"invalid since: expected a non-negative integer event id, got "abc""#
    );
}

#[test]
fn malformed_or_negative_limit_is_an_error_naming_limit() {
    for bad in ["ten", "-1", "-0", "+5", "2.0", "5 "] {
        let err = parse_activity_query(Some("1"), Some(bad)).unwrap_err();
        assert_eq!((err.param, err.value.as_str()), (ActivityParam::Limit, bad));
    }
    assert_eq!(
        parse_activity_query(None, Some("-1"))
            .unwrap_err()
            .to_string(),
        r#"invalid limit: expected a non-negative integer, got "-1""#
    );
}

#[test]
fn long_bad_values_are_shortened_in_messages() {
    let long = "é".repeat(1000);
    let err = parse_activity_query(Some(&long), None).unwrap_err();
    assert_eq!(err.value, long, "the error keeps the value");
    let message = err.to_string();
    assert!(message.len() < 150, "{message}");
    assert!(message.ends_with(r#"...""#), "{message}");
}

#[test]
fn stream_cursor_prefers_last_event_id() {
    assert_eq!(parse_stream_cursor(None, None).unwrap(), None);
    assert_eq!(parse_stream_cursor(Some("5"), None).unwrap(), Some(5));
    assert_eq!(parse_stream_cursor(Some("5"), Some("9")).unwrap(), Some(9));
    assert_eq!(parse_stream_cursor(None, Some("9")).unwrap(), Some(9));
    assert_eq!(parse_stream_cursor(Some("5"), Some("")).unwrap(), Some(5));
    let err = parse_stream_cursor(Some("5"), Some("x")).unwrap_err();
    assert_eq!(err.param, ActivityParam::LastEventId);
    assert!(
        err.to_string().starts_with("invalid Last-Event-ID:"),
        "{err}"
    );
    let err = parse_stream_cursor(Some("x"), Some("9")).unwrap_err();
    assert_eq!(err.param.name(), "since");
}

// ---- activity endpoint: SSE ---------------------------------------------------------------

/// The receiving side of the SSE spec for one frame: joins `data:` lines with `\n`, strips one
/// leading space from each value.
fn parse_sse_frame(frame: &str) -> (Option<String>, Option<String>, String) {
    assert!(frame.ends_with("\n\n"), "{frame:?}");
    let body = &frame[..frame.len() - 2];
    let (mut id, mut event, mut data) = (None, None, Vec::new());
    for line in body.split('\n') {
        assert!(!line.contains('\r'), "{frame:?}");
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_string();
        match field {
            "id" => id = Some(value),
            "event" => event = Some(value),
            "data" => data.push(value),
            other => panic!("unexpected field {other:?} in {frame:?}"),
        }
    }
    (id, event, data.join("\n"))
}

#[test]
fn sse_event_frame() {
    assert_eq!(
        format_sse_event(7, "tool.invoked", r#"{"id":7}"#),
        "id: 7\nevent: tool.invoked\ndata: {\"id\":7}\n\n"
    );
}

#[test]
fn sse_data_is_split_into_lines() {
    assert_eq!(
        format_sse_event(1, "k", "a\nb\r\nc\rd"),
        "id: 1\nevent: k\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
    );
    assert_eq!(
        format_sse_event(1, "k", "a\n"),
        "id: 1\nevent: k\ndata: a\ndata: \n\n"
    );
    assert_eq!(format_sse_event(1, "k", ""), "id: 1\nevent: k\ndata: \n\n");
}

#[test]
fn sse_kind_cannot_break_the_frame() {
    assert_eq!(
        format_sse_event(2, "evil\ndata: injected\r", "{}"),
        "id: 2\nevent: evil data: injected \ndata: {}\n\n"
    );
}

#[test]
fn sse_frames_round_trip_through_a_spec_parser() {
    let datas = [
        "{}",
        "  leading spaces",
        "a\nb",
        "a\r\nb\rc\n",
        "\n\n",
        "x: y",
    ];
    for (i, data) in datas.iter().enumerate() {
        let frame = format_sse_event(i as u64, "k.v", data);
        let normalized = data.replace("\r\n", "\n").replace('\r', "\n");
        assert_eq!(
            parse_sse_frame(&frame),
            (Some(i.to_string()), Some("k.v".to_string()), normalized),
            "{data:?}"
        );
    }
    let mut log = InMemoryEventLog::default();
    let event = log
        .append("peer.message.delivered", json!({ "text": "hi\nthere" }), T0)
        .unwrap();
    let json = serde_json::to_string(event).unwrap();
    let (_, _, data) = parse_sse_frame(&format_sse_event(event.id, &event.kind, &json));
    assert_eq!(serde_json::from_str::<Event<Value>>(&data).unwrap(), *event);
}

#[test]
fn sse_heartbeat_is_a_comment_frame() {
    assert_eq!(SSE_HEARTBEAT, ": heartbeat\n\n");
}

#[test]
fn stats_serialize_with_snake_case_fields() {
    let stats = EventLogStats {
        appended: 5,
        evicted_by_ttl: 1,
        evicted_by_size: 2,
        evicted_by_bytes: 1,
        cleared: 1,
    };
    assert_eq!(
        serde_json::to_value(stats).unwrap(),
        json!({ "appended": 5, "evicted_by_ttl": 1, "evicted_by_size": 2, "evicted_by_bytes": 1, "cleared": 1 })
    );
}
