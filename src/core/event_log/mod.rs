//! EventLog core (issue 3): an append-and-query runtime log with monotonic ids, TTL and size
//! eviction, and cursor reads.
//!
//! Time is injected: every operation that evicts takes `now` in seconds since the epoch
//! (`Date.now() / 1000` shape), so this module never reads a clock. Payloads are generic over
//! [`PayloadBytes`] (their size as JSON, for `max_bytes`); the bindings store a
//! [`SizedPayload`] of `serde_json::Value`.
//!
//! - [`InMemoryEventLog`] stores events; [`DisabledEventLog`] stores nothing. Both implement
//!   [`EventLogBackend`].
//! - [`parse_backend_name`] is the factory's name rule.
//! - [`endpoint`] holds the activity endpoint's pure parts: query-string parsing and SSE frames.

mod disabled;
pub mod endpoint;
mod memory;

use std::collections::vec_deque;
use std::fmt;

use crate::core::describe;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

pub use disabled::DisabledEventLog;
pub use memory::InMemoryEventLog;

/// Default `ttlSeconds`.
pub const DEFAULT_TTL_SECONDS: f64 = 3600.0;
/// Default `maxEntries`.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;
/// Default `maxBytes`: 64 MiB of payload JSON.
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// The size a payload counts against `max_bytes`: the length in bytes of its JSON text, as the
/// log stores it (UTF-8, no whitespace).
pub trait PayloadBytes {
    fn payload_bytes(&self) -> usize;
}

/// Measured by writing the compact JSON to a counter (nothing is allocated): O(size), once per
/// call. Store a [`SizedPayload`] to measure once per append.
impl PayloadBytes for serde_json::Value {
    fn payload_bytes(&self) -> usize {
        struct Counter(usize);
        impl std::io::Write for Counter {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut counter = Counter(0);
        // A `Value` always serializes (its map keys are strings), and the counter never fails.
        let _ = serde_json::to_writer(&mut counter, self);
        counter.0
    }
}

/// A payload with its JSON size measured once, so that eviction reads it in O(1). Serializes
/// as the payload alone.
#[derive(Debug, Clone, PartialEq)]
pub struct SizedPayload<P> {
    payload: P,
    bytes: usize,
}

impl<P: PayloadBytes> SizedPayload<P> {
    pub fn new(payload: P) -> Self {
        let bytes = payload.payload_bytes();
        SizedPayload { payload, bytes }
    }
}

impl<P> SizedPayload<P> {
    pub fn get(&self) -> &P {
        &self.payload
    }
}

impl<P> PayloadBytes for SizedPayload<P> {
    fn payload_bytes(&self) -> usize {
        self.bytes
    }
}

impl<P: Serialize> Serialize for SizedPayload<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.payload.serialize(serializer)
    }
}

/// One log entry. Serializes to exactly `{ "id", "timestamp", "kind", "payload" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event<P> {
    /// Assigned by the log: 1 for the first append, +1 per append, never reused.
    pub id: u64,
    /// Seconds since the epoch at append time.
    pub timestamp: f64,
    /// Non-empty event kind, e.g. `tool.invoked`.
    pub kind: String,
    pub payload: P,
}

/// Events in ascending id order, borrowed from the log.
pub type Events<'a, P> = vec_deque::Iter<'a, Event<P>>;

/// Bad input to a log operation. Returned before anything changes: no event is stored, no id is
/// consumed, nothing is evicted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EventLogError {
    /// `kind` was the empty string.
    #[error("kind must be a non-empty string")]
    EmptyKind,
    /// `now` (the clock reading) was NaN or infinite.
    #[error("now() must return a finite number of seconds, got {}", describe::number(*.0))]
    NonFiniteTime(f64),
    /// The payload alone is larger than `max_bytes`: storing it would evict everything and still
    /// break the bound.
    #[error("payload is {bytes} bytes as JSON, more than maxBytes ({max_bytes})")]
    PayloadTooLarge { bytes: usize, max_bytes: usize },
}

impl EventLogError {
    /// Stable machine-readable code for the JS error's `code` property.
    pub fn code(&self) -> &'static str {
        match self {
            EventLogError::EmptyKind => "INVALID_KIND",
            EventLogError::NonFiniteTime(_) => "INVALID_TIME",
            EventLogError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
        }
    }

    /// The offending input, as the JS API names it.
    pub fn field(&self) -> &'static str {
        match self {
            EventLogError::EmptyKind => "kind",
            EventLogError::NonFiniteTime(_) => "now",
            EventLogError::PayloadTooLarge { .. } => "payload",
        }
    }
}

pub(crate) fn validate_kind(kind: &str) -> Result<(), EventLogError> {
    if kind.is_empty() {
        Err(EventLogError::EmptyKind)
    } else {
        Ok(())
    }
}

pub(crate) fn validate_now(now: f64) -> Result<(), EventLogError> {
    if now.is_finite() {
        Ok(())
    } else {
        Err(EventLogError::NonFiniteTime(now))
    }
}

/// Eviction bounds of an [`InMemoryEventLog`].
///
/// Invariant: `ttl_seconds` is finite and > 0, `max_entries` >= 1, `max_bytes` >= 1. The
/// fields are private so that the only ways in are [`Default`] and
/// [`EventLogConfig::sanitized`]; a misconfigured bound must not silently lose events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventLogConfig {
    ttl_seconds: f64,
    max_entries: usize,
    max_bytes: usize,
}

impl Default for EventLogConfig {
    fn default() -> Self {
        EventLogConfig {
            ttl_seconds: DEFAULT_TTL_SECONDS,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl EventLogConfig {
    /// Builds a config from the user's options as JS numbers. `None` means "not given" and takes
    /// the default silently. A given value that is zero, negative, NaN or infinite, or a
    /// `max_entries` / `max_bytes` that is not a whole number, also takes the default and is
    /// reported in the returned list so the caller can warn. A count above `usize::MAX`
    /// saturates.
    pub fn sanitized(
        ttl_seconds: Option<f64>,
        max_entries: Option<f64>,
        max_bytes: Option<f64>,
    ) -> (EventLogConfig, Vec<ConfigFallback>) {
        let mut config = EventLogConfig::default();
        let mut fallbacks = Vec::new();
        if let Some(ttl) = ttl_seconds {
            if ttl.is_finite() && ttl > 0.0 {
                config.ttl_seconds = ttl;
            } else {
                fallbacks.push(ConfigFallback {
                    field: ConfigField::TtlSeconds,
                    value: ttl,
                });
            }
        }
        for (given, field, bound) in [
            (
                max_entries,
                ConfigField::MaxEntries,
                &mut config.max_entries,
            ),
            (max_bytes, ConfigField::MaxBytes, &mut config.max_bytes),
        ] {
            let Some(max) = given else { continue };
            if max.is_finite() && max >= 1.0 && max.fract() == 0.0 {
                // `as` saturates at usize::MAX, which is what we want on wasm32.
                *bound = max as usize;
            } else {
                fallbacks.push(ConfigFallback { field, value: max });
            }
        }
        (config, fallbacks)
    }

    pub fn ttl_seconds(&self) -> f64 {
        self.ttl_seconds
    }

    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }
}

/// Which option [`EventLogConfig::sanitized`] replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigField {
    TtlSeconds,
    MaxEntries,
    MaxBytes,
}

impl ConfigField {
    /// The option's name in the JS API.
    pub fn js_name(self) -> &'static str {
        match self {
            ConfigField::TtlSeconds => "ttlSeconds",
            ConfigField::MaxEntries => "maxEntries",
            ConfigField::MaxBytes => "maxBytes",
        }
    }
}

/// A rejected option value that was replaced by its default. `Display` is the warning text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConfigFallback {
    pub field: ConfigField,
    /// The rejected value.
    pub value: f64,
}

impl fmt::Display for ConfigFallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (requirement, default) = match self.field {
            ConfigField::TtlSeconds => ("a positive finite number", DEFAULT_TTL_SECONDS),
            ConfigField::MaxEntries => ("a positive integer", DEFAULT_MAX_ENTRIES as f64),
            ConfigField::MaxBytes => ("a positive integer", DEFAULT_MAX_BYTES as f64),
        };
        write!(
            f,
            "{} must be {}, got {}; using the default {}",
            self.field.js_name(),
            requirement,
            describe::number(self.value),
            describe::number(default)
        )
    }
}

/// Counters over the lifetime of a log, so that nothing is lost silently.
///
/// For an [`InMemoryEventLog`]:
/// `appended == evicted_by_ttl + evicted_by_size + evicted_by_bytes + cleared + len()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLogStats {
    pub appended: u64,
    pub evicted_by_ttl: u64,
    /// Evicted because more than `max_entries` were resident.
    pub evicted_by_size: u64,
    /// Evicted because the resident payloads held more than `max_bytes` of JSON.
    #[serde(default)]
    pub evicted_by_bytes: u64,
    /// Events dropped by `clear()`.
    pub cleared: u64,
}

/// The answer to a cursor read: the events after `since` plus what the reader needs to know
/// about the ones it cannot get.
///
/// Serializes to the activity endpoint's JSON, `{ events, first_id, last_id, missed, next_since }`.
#[derive(Debug, Clone)]
pub struct ReadResult<'a, P> {
    /// Events with `id > since`, ascending, at most `limit`.
    pub events: Events<'a, P>,
    /// Oldest resident id; `None` when the log holds nothing.
    pub first_id: Option<u64>,
    /// Last id ever assigned; 0 before the first append. Survives eviction and `clear()`.
    pub last_id: u64,
    /// Events with `id > since` that are gone (evicted or cleared) and so were never returned to
    /// this reader. Computed from the cursor alone: a reader starting at `since = 0` learns how
    /// many events it can never see.
    pub missed: u64,
    /// The cursor for the next read; see [`next_since`].
    pub next_since: u64,
}

impl<P: Serialize> Serialize for ReadResult<'_, P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Seq<'b, P>(&'b Events<'b, P>);
        impl<P: Serialize> Serialize for Seq<'_, P> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.clone())
            }
        }
        let mut s = serializer.serialize_struct("ReadResult", 5)?;
        s.serialize_field("events", &Seq(&self.events))?;
        s.serialize_field("first_id", &self.first_id)?;
        s.serialize_field("last_id", &self.last_id)?;
        s.serialize_field("missed", &self.missed)?;
        s.serialize_field("next_since", &self.next_since)?;
        s.end()
    }
}

/// How many ids after `since` are gone, when exactly the ids `1..=gone_through` are gone.
///
/// Eviction and `clear()` only ever remove the oldest ids, so the gone ids of a log are always a
/// prefix `1..=gone_through` (with `gone_through = first_id - 1`, or `last_id` when empty).
pub fn missed_count(since: u64, gone_through: u64) -> u64 {
    gone_through.saturating_sub(since)
}

/// The cursor a reader should send next.
///
/// - Some events returned: the id of the last one.
/// - None returned: `since`, moved past the gone prefix (`missed` has reported it, so following
///   `next_since` reports each loss once), and pulled back to `last_id` when it is ahead of
///   every assigned id (the log was recreated, e.g. after a restart, so ids start over).
///
/// `since = None` counts as 0.
pub fn next_since(
    since: Option<u64>,
    last_returned: Option<u64>,
    gone_through: u64,
    last_id: u64,
) -> u64 {
    match last_returned {
        Some(id) => id,
        None => since.unwrap_or(0).max(gone_through).min(last_id),
    }
}

/// The interface every event log backend implements (the in-memory and disabled logs here; the
/// IndexedDB and Redis backends later). Callers on the JS side always await these.
pub trait EventLogBackend<P> {
    /// Appends an event stamped `now` and returns it. Errors leave the log unchanged.
    fn append(&mut self, kind: &str, payload: P, now: f64) -> Result<Event<P>, EventLogError>;

    /// Events with `id > since` (all when `None`), ascending. `limit`: `None` or negative means
    /// no cap, 0 means none.
    fn query(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<Events<'_, P>, EventLogError>;

    /// [`EventLogBackend::query`] plus the cursor metadata of [`ReadResult`].
    fn read(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<ReadResult<'_, P>, EventLogError>;

    /// Drops every stored event; ids keep counting.
    fn clear(&mut self);
}

/// The backends the factory can build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Memory,
    Disabled,
}

/// The factory's name rule. The name is trimmed and compared case-insensitively:
/// `disabled`, `off`, `none` -> `Disabled`; `memory` and the empty string (an unset environment
/// variable) -> `Memory`; anything else -> `Memory` with the second value `true`, meaning "unknown
/// name, warn once". A typo degrades to the safe default.
pub fn parse_backend_name(name: &str) -> (BackendKind, bool) {
    let name = name.trim();
    let is = |candidate: &str| name.eq_ignore_ascii_case(candidate);
    if is("disabled") || is("off") || is("none") {
        (BackendKind::Disabled, false)
    } else if is("memory") || name.is_empty() {
        (BackendKind::Memory, false)
    } else {
        (BackendKind::Memory, true)
    }
}
