//! `EventLogCore`: the EventLog (src/core/event_log) behind one handle, with payloads held in
//! Rust as `serde_json::Value`, plus the activity endpoint's pure helpers.
//!
//! Every argument is validated here, before the core is called, so that bad input throws and
//! changes nothing: no event stored, no id consumed. Events leave as fresh plain objects.

use crate::core::event_log::endpoint::{self, ParamError};
use crate::core::event_log::SizedPayload;
use crate::core::event_log::{
    parse_backend_name, BackendKind, DisabledEventLog, EventLogConfig, EventLogError, Events,
    InMemoryEventLog, ReadResult,
};
use crate::wasm::convert;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

/// Payloads with their JSON size, measured once on append (`maxBytes` counts it).
type Payload = SizedPayload<Value>;

enum Backend {
    Memory(InMemoryEventLog<Payload>),
    Disabled(DisabledEventLog),
}

#[wasm_bindgen]
pub struct EventLogCore {
    backend: Backend,
    /// Warnings about option values replaced by defaults, taken once by the JS constructor.
    config_warnings: Vec<String>,
}

/// Events written as an array straight from the log (not collected into a `Vec` first).
struct EventList<'a>(Events<'a, Payload>);

impl Serialize for EventList<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

/// `read()`'s result in the JS API's camelCase.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReadView<'a> {
    events: EventList<'a>,
    first_id: Option<u64>,
    last_id: u64,
    missed: u64,
    next_since: u64,
}

/// `stats()`'s result. Invariant (memory backend): `appended == evictedByTtl + evictedBySize +
/// evictedByBytes + cleared + resident`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsView {
    appended: u64,
    evicted_by_ttl: u64,
    evicted_by_size: u64,
    evicted_by_bytes: u64,
    cleared: u64,
    resident: usize,
    bytes: u64,
}

#[wasm_bindgen]
impl EventLogCore {
    /// `disabled`: store nothing (DisabledEventLog). Bounds are ignored then.
    #[wasm_bindgen(constructor)]
    pub fn new(
        ttl_seconds: JsValue,
        max_entries: JsValue,
        max_bytes: JsValue,
        disabled: bool,
    ) -> Result<EventLogCore, JsValue> {
        let ttl = convert::optional_number(&ttl_seconds, "ttlSeconds")?;
        let max = convert::optional_number(&max_entries, "maxEntries")?;
        let max_bytes = convert::optional_number(&max_bytes, "maxBytes")?;
        if disabled {
            return Ok(EventLogCore {
                backend: Backend::Disabled(DisabledEventLog::new()),
                config_warnings: Vec::new(),
            });
        }
        let (config, fallbacks) = EventLogConfig::sanitized(ttl, max, max_bytes);
        Ok(EventLogCore {
            backend: Backend::Memory(InMemoryEventLog::new(config)),
            config_warnings: fallbacks.iter().map(ToString::to_string).collect(),
        })
    }

    /// The config warnings, once; later calls return none.
    #[wasm_bindgen(js_name = takeConfigWarnings)]
    pub fn take_config_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.config_warnings)
    }

    /// Appends and returns the event. `payload` `undefined` means `{}`.
    pub fn append(
        &mut self,
        kind: JsValue,
        payload: JsValue,
        now: f64,
    ) -> Result<JsValue, JsValue> {
        let kind = convert::string_arg(&kind, "kind")?;
        let payload = if payload.is_undefined() {
            Value::Object(Default::default())
        } else {
            convert::json_object(&payload, "payload")?
        };
        let payload = SizedPayload::new(payload);
        match &mut self.backend {
            Backend::Memory(log) => Ok(convert::to_js(
                log.append(&kind, payload, now).map_err(log_error)?,
            )),
            Backend::Disabled(log) => Ok(convert::to_js(
                &log.append(&kind, payload, now).map_err(log_error)?,
            )),
        }
    }

    /// Events after `since`, at most `limit`, as an array of fresh objects.
    pub fn query(&mut self, since: JsValue, limit: JsValue, now: f64) -> Result<JsValue, JsValue> {
        let (since, limit) = cursor_args(&since, &limit)?;
        let events = match &mut self.backend {
            Backend::Memory(log) => log.query(since, limit, now),
            Backend::Disabled(log) => log.query(since, limit, now),
        };
        Ok(convert::to_js(&EventList(events.map_err(log_error)?)))
    }

    /// `{ events, firstId, lastId, missed, nextSince }`.
    pub fn read(&mut self, since: JsValue, limit: JsValue, now: f64) -> Result<JsValue, JsValue> {
        let (since, limit) = cursor_args(&since, &limit)?;
        match &mut self.backend {
            Backend::Memory(log) => Ok(convert::to_js(&view(
                log.read(since, limit, now).map_err(log_error)?,
            ))),
            Backend::Disabled(log) => Ok(convert::to_js(&view(
                log.read(since, limit, now).map_err(log_error)?,
            ))),
        }
    }

    /// Drops every stored event; ids keep counting. Returns how many were dropped.
    pub fn clear(&mut self) -> u32 {
        match &mut self.backend {
            Backend::Memory(log) => log.clear() as u32,
            Backend::Disabled(log) => {
                log.clear();
                0
            }
        }
    }

    /// Lifetime counters (memory backend; a disabled log reports its appends only).
    pub fn stats(&self) -> JsValue {
        let view = match &self.backend {
            Backend::Memory(log) => {
                let stats = log.stats();
                StatsView {
                    appended: stats.appended,
                    evicted_by_ttl: stats.evicted_by_ttl,
                    evicted_by_size: stats.evicted_by_size,
                    evicted_by_bytes: stats.evicted_by_bytes,
                    cleared: stats.cleared,
                    resident: log.len(),
                    bytes: log.bytes(),
                }
            }
            Backend::Disabled(log) => StatsView {
                appended: log.last_id(),
                evicted_by_ttl: 0,
                evicted_by_size: 0,
                evicted_by_bytes: 0,
                cleared: 0,
                resident: 0,
                bytes: 0,
            },
        };
        convert::to_js(&view)
    }

    #[wasm_bindgen(getter, js_name = ttlSeconds)]
    pub fn ttl_seconds(&self) -> Option<f64> {
        match &self.backend {
            Backend::Memory(log) => Some(log.ttl_seconds()),
            Backend::Disabled(_) => None,
        }
    }

    #[wasm_bindgen(getter, js_name = maxEntries)]
    pub fn max_entries(&self) -> Option<f64> {
        match &self.backend {
            Backend::Memory(log) => Some(log.max_entries() as f64),
            Backend::Disabled(_) => None,
        }
    }

    #[wasm_bindgen(getter, js_name = maxBytes)]
    pub fn max_bytes(&self) -> Option<f64> {
        match &self.backend {
            Backend::Memory(log) => Some(log.max_bytes() as f64),
            Backend::Disabled(_) => None,
        }
    }

    /// Last id ever assigned; 0 before the first append.
    #[wasm_bindgen(getter, js_name = lastId)]
    pub fn last_id(&self) -> f64 {
        convert::count_to_js(match &self.backend {
            Backend::Memory(log) => log.last_id(),
            Backend::Disabled(log) => log.last_id(),
        })
    }
}

fn view(result: ReadResult<'_, Payload>) -> ReadView<'_> {
    ReadView {
        events: EventList(result.events),
        first_id: result.first_id,
        last_id: result.last_id,
        missed: result.missed,
        next_since: result.next_since,
    }
}

fn cursor_args(since: &JsValue, limit: &JsValue) -> Result<(Option<u64>, Option<i64>), JsValue> {
    // A negative `since` is before every id: the same as no cursor.
    let since = convert::optional_integer(since, "since", convert::NonInteger::TypeError)?
        .map(|since| since.max(0) as u64);
    let limit = convert::optional_integer(limit, "limit", convert::NonInteger::TypeError)?;
    Ok((since, limit))
}

/// Core errors are bad arguments: `TypeError`s (an empty kind, a non-finite clock reading),
/// except a payload over `maxBytes`, a `RangeError`.
fn log_error(error: EventLogError) -> JsValue {
    match error {
        EventLogError::PayloadTooLarge { .. } => convert::range_error(&error.to_string()),
        _ => convert::type_error(&error.to_string()),
    }
}

/// The factory's name rule: `"memory"`, `"disabled"` or `"unknown"` (memory, warn once).
#[wasm_bindgen(js_name = eventLogBackendKind)]
pub fn event_log_backend_kind(name: &str) -> String {
    match parse_backend_name(name) {
        (BackendKind::Disabled, _) => "disabled",
        (BackendKind::Memory, false) => "memory",
        (BackendKind::Memory, true) => "unknown",
    }
    .into()
}

/// Parses `?since=&limit=` (`undefined` when absent) into `{ since, limit }` (`since` null when
/// absent, `limit` defaulted and capped). Throws a `RangeError` whose message is the 400 body.
#[wasm_bindgen(js_name = parseActivityQuery)]
pub fn parse_activity_query(
    since: Option<String>,
    limit: Option<String>,
) -> Result<JsValue, JsValue> {
    let query =
        endpoint::parse_activity_query(since.as_deref(), limit.as_deref()).map_err(param_error)?;
    #[derive(Serialize)]
    struct View {
        since: Option<u64>,
        limit: u32,
    }
    Ok(convert::to_js(&View {
        since: query.since,
        limit: query.limit,
    }))
}

/// The live tail's starting cursor: `Last-Event-ID` over `since`; `undefined` when neither.
#[wasm_bindgen(js_name = parseStreamCursor)]
pub fn parse_stream_cursor(
    since: Option<String>,
    last_event_id: Option<String>,
) -> Result<Option<f64>, JsValue> {
    let cursor = endpoint::parse_stream_cursor(since.as_deref(), last_event_id.as_deref())
        .map_err(param_error)?;
    Ok(cursor.map(convert::count_to_js))
}

/// One SSE frame for an event; `data_json` is the event's JSON.
#[wasm_bindgen(js_name = formatSseEvent)]
pub fn format_sse_event(id: f64, kind: &str, data_json: &str) -> String {
    endpoint::format_sse_event(id as u64, kind, data_json)
}

#[wasm_bindgen(js_name = activityEndpointLimits)]
pub fn activity_endpoint_limits() -> JsValue {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Limits {
        default_limit: u32,
        max_limit: u32,
        heartbeat_ms: u32,
        heartbeat: &'static str,
        retry: &'static str,
    }
    convert::to_js(&Limits {
        default_limit: endpoint::DEFAULT_LIMIT,
        max_limit: endpoint::MAX_LIMIT,
        heartbeat_ms: endpoint::HEARTBEAT_INTERVAL_SECONDS * 1000,
        heartbeat: endpoint::SSE_HEARTBEAT,
        retry: endpoint::SSE_RETRY,
    })
}

fn param_error(error: ParamError) -> JsValue {
    convert::range_error(&error.to_string())
}

/// Bytes of the module's linear memory (it only grows): the high-water mark, for benchmarks.
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    js_sys::ArrayBuffer::from(memory.buffer()).byte_length() as f64
}
