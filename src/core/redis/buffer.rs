//! The Redis event buffer's rules and command plans: what each operation sends (script,
//! KEYS, ARGV) and what its reply means. No I/O here.
//!
//! Rules, as in the Python SDK unless said otherwise:
//! - An event is filed under its session (`_nosession` when it has none) with score
//!   `forwarded_at`, or the adder's clock when `forwarded_at` is 0 (absent reads as 0).
//! - Each add first removes that session's members scored strictly below
//!   `score - window_seconds` (the Python SDK's bound is inclusive; only an event exactly
//!   `window_seconds` older differs).
//! - A drain returns events in chronological order (score), ties in arrival order: tidepool's
//!   members start with the 8-hex arrival counter, so within a score they sort as they arrived;
//!   members written by Python (random prefixes) sort among their ties by prefix.
//!
//! Exactly once, across lost responses:
//! - An add batch carries a random batch id. The script records what the batch did under the
//!   batch key (kept [`BATCH_KEY_SECONDS`]); a retry with the same id returns that record
//!   instead of adding again. A batch the client gave up on is *fenced* (see
//!   [`crate::core::redis::scripts::FENCE`]): afterwards it reports whether it had been
//!   applied, and a late copy of it can no longer apply.
//! - A drain carries a random drain id; the drained batch stays under the drain key (kept
//!   [`DRAIN_KEY_SECONDS`]) until the client's next drain names it as delivered, and a retry
//!   with the same id returns it again.

use super::keys::{session_of, KeyLayout, PrefixError};
use super::member::{decode_member, encode_payload};
use super::{BadReply, ReadJson};
use crate::core::json;
use crate::core::payload::Payload;
use serde_json::Value;
use std::fmt;

/// How long (seconds) the record of an add batch is kept: the horizon within which a retry,
/// or a copy of the request delayed in a gateway's queue, is recognised. Well above the
/// client's retry horizon (a few timeouts) and the time a gateway holds a request while its
/// Redis is down.
pub const BATCH_KEY_SECONDS: u32 = 300;

/// How long (seconds) a drained batch is kept for a retry of its drain, if the client never
/// drains again to release it.
pub const DRAIN_KEY_SECONDS: u32 = 600;

/// The default sliding window (seconds), as in the Python SDK.
pub const DEFAULT_WINDOW_SECONDS: f64 = 120.0;

/// Which script a plan runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Add,
    Fence,
    Drain,
    Size,
}

impl Script {
    pub fn source(self) -> &'static str {
        use super::scripts;
        match self {
            Script::Add => scripts::ADD,
            Script::Fence => scripts::FENCE,
            Script::Drain => scripts::DRAIN,
            Script::Size => scripts::SIZE,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Script::Add => "add",
            Script::Fence => "fence",
            Script::Drain => "drain",
            Script::Size => "size",
        }
    }
}

/// One script call: EVALSHA of `script` with these KEYS and ARGV.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub script: Script,
    pub keys: Vec<String>,
    pub args: Vec<String>,
}

/// A refused configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    Prefix(PrefixError),
    /// `windowSeconds` must be a finite number above 0.
    Window(f64),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Prefix(error) => error.fmt(f),
            ConfigError::Window(value) => write!(
                f,
                "windowSeconds must be a finite number above 0, got {}",
                redis_number(*value)
            ),
        }
    }
}

/// One event of an add batch, encoded: its session ZSET, session id, score, eviction bound
/// and member JSON (the script prefixes the arrival counter).
#[derive(Debug, Clone, PartialEq)]
pub struct AddEntry {
    pub key: String,
    pub session: String,
    pub score: String,
    pub bound: String,
    pub json: String,
}

/// What an add batch (or its fence) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddStatus {
    /// Applied by this request.
    Applied,
    /// Applied by an earlier attempt with the same batch id.
    Replayed,
    /// The batch id was fenced: the batch was never applied and never will be.
    Fenced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddOutcome {
    pub status: AddStatus,
    /// Members the window removed while the batch was applied (any writer's events).
    pub evicted: u64,
    /// Events that merged with an identical member already present.
    pub merged: u64,
}

/// A drained event with what orders it.
#[derive(Debug, Clone, PartialEq)]
pub struct DrainedEvent {
    pub score: f64,
    pub member: String,
    pub payload: Payload,
}

/// A member that could not be read as a payload: removed from Redis like the others, and
/// reported rather than dropped silently.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    pub member: String,
    pub problem: String,
}

/// A decoded drain reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Drained {
    /// The drain id had already run: this is its kept batch.
    pub replayed: bool,
    /// Chronological; ties in arrival order.
    pub events: Vec<DrainedEvent>,
    pub unreadable: Vec<Unreadable>,
}

/// The configuration of one buffer: its keys and window.
#[derive(Debug, Clone)]
pub struct RedisBuffer {
    keys: KeyLayout,
    window_seconds: f64,
}

impl RedisBuffer {
    pub fn new(prefix: &str, window_seconds: f64) -> Result<RedisBuffer, ConfigError> {
        let keys = KeyLayout::new(prefix).map_err(ConfigError::Prefix)?;
        if !window_seconds.is_finite() || window_seconds <= 0.0 {
            return Err(ConfigError::Window(window_seconds));
        }
        Ok(RedisBuffer {
            keys,
            window_seconds,
        })
    }

    pub fn keys(&self) -> &KeyLayout {
        &self.keys
    }

    pub fn window_seconds(&self) -> f64 {
        self.window_seconds
    }

    /// Encodes one event added at `now_seconds` (the adder's clock, seconds since the epoch).
    pub fn entry(&self, payload: &Payload, now_seconds: f64) -> AddEntry {
        let (session_id, _) = identity(payload);
        let session = session_of(session_id).to_string();
        let score = score_of(payload, now_seconds);
        AddEntry {
            key: self.keys.buffer(&session),
            session,
            score: redis_number(score),
            bound: format!("({}", redis_number(score - self.window_seconds)),
            json: encode_payload(payload),
        }
    }

    /// The add of a batch of entries under `batch_id`.
    pub fn add_plan(&self, batch_id: &str, entries: &[AddEntry]) -> Plan {
        let mut keys = Vec::with_capacity(3 + entries.len());
        keys.push(self.keys.sessions());
        keys.push(self.keys.sequence());
        keys.push(self.keys.batch(batch_id));
        let mut args = Vec::with_capacity(1 + 4 * entries.len());
        args.push(BATCH_KEY_SECONDS.to_string());
        for entry in entries {
            keys.push(entry.key.clone());
            args.push(entry.session.clone());
            args.push(entry.score.clone());
            args.push(entry.bound.clone());
            args.push(entry.json.clone());
        }
        Plan {
            script: Script::Add,
            keys,
            args,
        }
    }

    /// The fence of add batches whose outcome is unknown.
    pub fn fence_plan(&self, batch_ids: &[String]) -> Plan {
        Plan {
            script: Script::Fence,
            keys: batch_ids.iter().map(|id| self.keys.batch(id)).collect(),
            args: vec![BATCH_KEY_SECONDS.to_string()],
        }
    }

    /// The drain `drain_id`, releasing the kept batches of the `delivered` drain ids.
    pub fn drain_plan(&self, drain_id: &str, delivered: &[String]) -> Plan {
        let mut keys = vec![self.keys.sessions(), self.keys.drain(drain_id)];
        keys.extend(delivered.iter().map(|id| self.keys.drain(id)));
        Plan {
            script: Script::Drain,
            keys,
            args: vec![self.keys.buffer_base(), DRAIN_KEY_SECONDS.to_string()],
        }
    }

    pub fn size_plan(&self) -> Plan {
        Plan {
            script: Script::Size,
            keys: vec![self.keys.sessions()],
            args: vec![self.keys.buffer_base()],
        }
    }
}

/// The score of an event: `forwarded_at`, or `now_seconds` when it is 0.
pub fn score_of(payload: &Payload, now_seconds: f64) -> f64 {
    let (_, forwarded_at) = identity(payload);
    if forwarded_at == 0.0 {
        now_seconds
    } else {
        forwarded_at
    }
}

fn identity(payload: &Payload) -> (Option<&str>, f64) {
    match payload {
        Payload::Actions(a) => (a.session_id.as_deref(), a.forwarded_at),
        Payload::Summary(s) => (s.session_id.as_deref(), s.forwarded_at),
    }
}

/// A number as text Redis reads back exactly: the shortest decimal that round-trips (serde_json's,
/// i.e. ryu's; Redis parses exponent notation too), so no precision is lost on the way into a score.
fn redis_number(value: f64) -> String {
    json::text(&value)
}

/// A score as Redis prints it (`%.17g`, or `inf` / `-inf`); the digits are read as a JSON
/// number by `read_json`.
fn parse_score(text: &str, read_json: &mut ReadJson) -> Option<f64> {
    match text {
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => read_json(text.strip_prefix('+').unwrap_or(text))
            .ok()?
            .as_f64(),
    }
}

/// The reply of the add script.
pub fn decode_add(reply: &Value) -> Result<AddOutcome, BadReply> {
    let items = reply
        .as_array()
        .filter(|items| items.len() == 3)
        .ok_or_else(|| BadReply::new("the add script returns {status, evicted, merged}"))?;
    outcome(&items[0], &items[1], &items[2])
}

/// The reply of the fence script for `count` batches.
pub fn decode_fence(reply: &Value, count: usize) -> Result<Vec<AddOutcome>, BadReply> {
    let items = reply
        .as_array()
        .filter(|items| items.len() == 3 * count)
        .ok_or_else(|| {
            BadReply::new(format!(
                "the fence script returns 3 integers for each of {count} batches"
            ))
        })?;
    let mut outcomes = Vec::with_capacity(count);
    for triple in items.chunks(3) {
        let found = outcome(&triple[0], &triple[1], &triple[2])?;
        if found.status == AddStatus::Applied {
            return Err(BadReply::new("a fence cannot apply a batch"));
        }
        outcomes.push(found);
    }
    Ok(outcomes)
}

fn outcome(status: &Value, evicted: &Value, merged: &Value) -> Result<AddOutcome, BadReply> {
    let status = match status.as_u64() {
        Some(0) => AddStatus::Applied,
        Some(1) => AddStatus::Replayed,
        Some(2) => AddStatus::Fenced,
        _ => {
            return Err(BadReply::new(format!(
                "unknown add status {}",
                json::text(status)
            )))
        }
    };
    let count = |value: &Value| {
        value
            .as_u64()
            .ok_or_else(|| BadReply::new(format!("expected a count, got {}", json::text(value))))
    };
    Ok(AddOutcome {
        status,
        evicted: count(evicted)?,
        merged: count(merged)?,
    })
}

/// The reply of the drain script: events read back (their JSON text by `read_json`) and put
/// in order.
pub fn decode_drain(reply: &Value, read_json: &mut ReadJson) -> Result<Drained, BadReply> {
    let shape = || BadReply::new("the drain script returns {replayed, member, score, ...}");
    let items = reply.as_array().ok_or_else(shape)?;
    let (flag, pairs) = items.split_first().ok_or_else(shape)?;
    let replayed = match flag.as_u64() {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(shape()),
    };
    if pairs.len() % 2 != 0 {
        return Err(shape());
    }
    let mut events = Vec::with_capacity(pairs.len() / 2);
    let mut unreadable = Vec::new();
    for pair in pairs.chunks(2) {
        let member = pair[0].as_str().ok_or_else(|| {
            BadReply::new(format!(
                "a member must be a string, got {}",
                json::text(&pair[0])
            ))
        })?;
        let score = pair[1]
            .as_str()
            .and_then(|text| parse_score(text, read_json))
            .ok_or_else(|| {
                BadReply::new(format!(
                    "a score must be a number as text, got {}",
                    json::text(&pair[1])
                ))
            })?;
        match decode_member(member, read_json) {
            Ok(payload) => events.push(DrainedEvent {
                score,
                member: member.to_string(),
                payload,
            }),
            Err(problem) => unreadable.push(Unreadable {
                member: member.to_string(),
                problem: problem.to_string(),
            }),
        }
    }
    // Stable: equal (score, member) pairs cannot occur (members of one session are unique,
    // and members of different sessions differ in their JSON's session_id).
    events.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then_with(|| a.member.as_bytes().cmp(b.member.as_bytes()))
    });
    Ok(Drained {
        replayed,
        events,
        unreadable,
    })
}

/// The reply of the size script.
pub fn decode_size(reply: &Value) -> Result<u64, BadReply> {
    reply.as_u64().ok_or_else(|| {
        BadReply::new(format!(
            "the size script returns a count, got {}",
            json::text(reply)
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::payload::parse_payload;
    use crate::core::redis::read_json_with_serde;
    use serde_json::json;

    fn decode_drain(reply: &Value) -> Result<Drained, BadReply> {
        super::decode_drain(reply, &mut read_json_with_serde)
    }

    fn parse_score(text: &str) -> Option<f64> {
        super::parse_score(text, &mut read_json_with_serde)
    }

    fn payload(value: Value) -> Payload {
        parse_payload(&value).unwrap()
    }

    fn buffer() -> RedisBuffer {
        RedisBuffer::new("svc", 120.0).unwrap()
    }

    #[test]
    fn configuration_is_checked() {
        assert!(matches!(
            RedisBuffer::new("", 1.0),
            Err(ConfigError::Prefix(PrefixError::Empty))
        ));
        assert!(matches!(
            RedisBuffer::new("a:b", 1.0),
            Err(ConfigError::Prefix(_))
        ));
        for window in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(
                matches!(RedisBuffer::new("a", window), Err(ConfigError::Window(_))),
                "{window}"
            );
        }
        assert_eq!(RedisBuffer::new("a", 0.5).unwrap().window_seconds(), 0.5);
    }

    #[test]
    fn score_is_forwarded_at_or_now_when_zero() {
        assert_eq!(
            score_of(
                &payload(json!({ "type": "summary", "forwarded_at": 50.25 })),
                99.0
            ),
            50.25
        );
        assert_eq!(score_of(&payload(json!({ "type": "summary" })), 99.0), 99.0);
        assert_eq!(
            score_of(
                &payload(json!({ "type": "summary", "forwarded_at": 0 })),
                99.0
            ),
            99.0
        );
        assert_eq!(
            score_of(
                &payload(json!({ "type": "actions", "forwarded_at": -3 })),
                99.0
            ),
            -3.0
        );
    }

    #[test]
    fn entries_carry_session_score_exclusive_window_bound_and_json() {
        let entry = buffer().entry(
            &payload(
                json!({ "type": "summary", "session_id": "s1", "forwarded_at": 1732190000.123 }),
            ),
            5.0,
        );
        assert_eq!(entry.key, "autoplay:sdk:buffer:svc:s1");
        assert_eq!(entry.session, "s1");
        assert_eq!(entry.score, "1732190000.123");
        assert_eq!(entry.bound, format!("({}", 1732190000.123 - 120.0));
        assert!(entry.json.starts_with(r#"{"type":"summary""#));
        let none = buffer().entry(
            &payload(json!({ "type": "actions", "session_id": "" })),
            7.5,
        );
        assert_eq!(none.key, "autoplay:sdk:buffer:svc:_nosession");
        assert_eq!(none.session, "_nosession");
        assert_eq!(none.score, "7.5");
        assert_eq!(none.bound, "(-112.5");
    }

    #[test]
    fn scores_travel_as_exact_decimal_text() {
        for value in [1732190000.1234567, 0.1, 1e21, 5e-324, -0.0, 7.0] {
            let text = redis_number(value);
            // Redis reads scores with strtod, as Rust's parser reads this text.
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
        assert_eq!(redis_number(1732190000.5), "1732190000.5");
    }

    #[test]
    fn scores_are_read_as_redis_prints_them() {
        // ZRANGE WITHSCORES prints %.17g: these are its texts for 1732190000.123, 1e21, 10, -inf.
        assert_eq!(parse_score("1732190000.1229999"), Some(1732190000.1229999));
        assert_eq!(parse_score("1732190000.1229999"), Some(1732190000.123));
        assert_eq!(parse_score("1.0000000000000001e+21"), Some(1e21));
        assert_eq!(parse_score("10"), Some(10.0));
        assert_eq!(parse_score("inf"), Some(f64::INFINITY));
        assert_eq!(parse_score("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score("nan"), None);
        assert_eq!(parse_score("x"), None);
    }

    #[test]
    fn add_plan_lists_keys_and_args_in_the_scripts_order() {
        let b = buffer();
        let e1 = b.entry(
            &payload(json!({ "type": "summary", "session_id": "a", "forwarded_at": 1 })),
            0.0,
        );
        let e2 = b.entry(
            &payload(json!({ "type": "summary", "forwarded_at": 2 })),
            0.0,
        );
        let plan = b.add_plan("B", &[e1.clone(), e2.clone()]);
        assert_eq!(plan.script, Script::Add);
        assert_eq!(
            plan.keys,
            vec![
                "autoplay:sdk:sessions:svc".to_string(),
                "autoplay:sdk:seq:svc".into(),
                "autoplay:sdk:batch:svc:B".into(),
                e1.key.clone(),
                e2.key.clone(),
            ]
        );
        assert_eq!(
            plan.args,
            vec![
                BATCH_KEY_SECONDS.to_string(),
                e1.session,
                e1.score,
                e1.bound,
                e1.json,
                e2.session,
                e2.score,
                e2.bound,
                e2.json,
            ]
        );
    }

    #[test]
    fn drain_fence_and_size_plans() {
        let b = buffer();
        let drain = b.drain_plan("D2", &["D1".to_string()]);
        assert_eq!(
            drain.keys,
            vec![
                "autoplay:sdk:sessions:svc",
                "autoplay:sdk:drain:svc:D2",
                "autoplay:sdk:drain:svc:D1"
            ]
        );
        assert_eq!(
            drain.args,
            vec![
                "autoplay:sdk:buffer:svc:".to_string(),
                DRAIN_KEY_SECONDS.to_string()
            ]
        );
        let fence = b.fence_plan(&["x".to_string(), "y".to_string()]);
        assert_eq!(
            fence.keys,
            vec!["autoplay:sdk:batch:svc:x", "autoplay:sdk:batch:svc:y"]
        );
        assert_eq!(b.size_plan().keys, vec!["autoplay:sdk:sessions:svc"]);
    }

    #[test]
    fn add_and_fence_replies() {
        assert_eq!(
            decode_add(&json!([0, 2, 0])).unwrap(),
            AddOutcome {
                status: AddStatus::Applied,
                evicted: 2,
                merged: 0
            }
        );
        assert_eq!(
            decode_add(&json!([1, 0, 1])).unwrap().status,
            AddStatus::Replayed
        );
        assert_eq!(
            decode_add(&json!([2, 0, 0])).unwrap().status,
            AddStatus::Fenced
        );
        for bad in [
            json!(null),
            json!([0, 1]),
            json!([7, 0, 0]),
            json!([0, "1", 0]),
            json!("OK"),
        ] {
            assert!(decode_add(&bad).is_err(), "{bad}");
        }
        let outcomes = decode_fence(&json!([1, 3, 0, 2, 0, 0]), 2).unwrap();
        assert_eq!(
            outcomes[0],
            AddOutcome {
                status: AddStatus::Replayed,
                evicted: 3,
                merged: 0
            }
        );
        assert_eq!(outcomes[1].status, AddStatus::Fenced);
        assert!(decode_fence(&json!([1, 3, 0]), 2).is_err());
        assert!(decode_fence(&json!([0, 0, 0]), 1).is_err());
    }

    fn member(prefix: &str, summary: &str, session: &str) -> String {
        format!(
            r#"{prefix}:{{"type":"summary","product_id":"","session_id":"{session}","summary":"{summary}","replaces":0,"forwarded_at":0.0}}"#
        )
    }

    #[test]
    fn drains_are_chronological_with_ties_in_arrival_order() {
        // Sessions come back from Redis in any order; within a score, tidepool's arrival
        // counter (the member prefix) decides.
        let reply = json!([
            0,
            member("00000003", "c", "s2"),
            "10",
            member("00000001", "a", "s2"),
            "10",
            member("00000004", "d", "s1"),
            "5.5",
            member("00000002", "b", "s1"),
            "10",
            member("00000005", "e", "s1"),
            "1e1",
        ]);
        let drained = decode_drain(&reply).unwrap();
        assert!(!drained.replayed);
        let order: Vec<&str> = drained
            .events
            .iter()
            .map(|e| match &e.payload {
                Payload::Summary(s) => s.summary.as_str(),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(order, ["d", "a", "b", "c", "e"]);
        assert!(drained.unreadable.is_empty());
    }

    #[test]
    fn drains_report_unreadable_members_and_reject_bad_shapes() {
        let drained = decode_drain(&json!([
            1,
            "12345678:{broken",
            "1",
            member("00000001", "ok", "s"),
            "2"
        ]))
        .unwrap();
        assert!(drained.replayed);
        assert_eq!(drained.events.len(), 1);
        assert_eq!(drained.unreadable.len(), 1);
        assert_eq!(drained.unreadable[0].member, "12345678:{broken");
        assert!(drained.unreadable[0].problem.starts_with("not JSON"));
        assert_eq!(decode_drain(&json!([0])).unwrap().events.len(), 0);
        for bad in [
            json!([]),
            json!([0, "m"]),
            json!([0, 1, "2"]),
            json!([0, "m", 2]),
            json!([0, "m", "x"]),
            json!([3]),
            json!({}),
        ] {
            assert!(decode_drain(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn size_reply() {
        assert_eq!(decode_size(&json!(42)).unwrap(), 42);
        assert!(decode_size(&json!("42")).is_err());
        assert!(decode_size(&json!(-1)).is_err());
    }
}
