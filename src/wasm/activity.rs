//! `ActivityBufferCore`, `SequenceTrackerCore` and the activity functions: bindings of
//! `core::activity`. Every value crosses the boundary through `convert`; the JS classes in
//! `js/activity.js` add the clock (`now()`), bound methods and error classes.
//!
//! Time: each method that needs it takes `now_ms` from the JS wrapper (its `now()`), so the
//! core never calls back into JS for the clock.

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::activity::constants::{ack_stage, envelope_state, error_code, message_type};
use crate::core::activity::{
    self as core, Ack, ActivityBuffer, ActivityBufferOptions, ActivityError, Envelope,
    EnvelopeOptions, OnFull, SequenceTracker, Strategy,
};
use crate::wasm::convert::{self, JsData};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The exception thrown by a custom strategy's `victims()`, kept until the failed
/// operation turns it into the `cause` of its error. Holds a value only between the
/// throwing call and the end of that operation.
type ThrownByStrategy = Rc<RefCell<Option<JsValue>>>;

#[wasm_bindgen]
pub struct ActivityBufferCore {
    buffer: ActivityBuffer,
    thrown_by_strategy: ThrownByStrategy,
}

#[wasm_bindgen]
impl ActivityBufferCore {
    /// Options as JS wrote them; `undefined` takes the default.
    #[wasm_bindgen(constructor)]
    pub fn new(
        max_items: JsValue,
        dedup_window_s: JsValue,
        strategy: JsValue,
        on_full: JsValue,
    ) -> Result<ActivityBufferCore, JsValue> {
        let thrown_by_strategy = ThrownByStrategy::default();
        let options = buffer_options(
            &max_items,
            &dedup_window_s,
            &strategy,
            &on_full,
            &thrown_by_strategy,
        )?;
        let buffer = ActivityBuffer::new(options).map_err(activity_error)?;
        Ok(ActivityBufferCore {
            buffer,
            thrown_by_strategy,
        })
    }

    #[wasm_bindgen(js_name = fromSnapshot)]
    pub fn from_snapshot(
        snapshot: JsValue,
        max_items: JsValue,
        dedup_window_s: JsValue,
        strategy: JsValue,
        on_full: JsValue,
    ) -> Result<ActivityBufferCore, JsValue> {
        let thrown_by_strategy = ThrownByStrategy::default();
        let options = buffer_options(
            &max_items,
            &dedup_window_s,
            &strategy,
            &on_full,
            &thrown_by_strategy,
        )?;
        let snapshot = convert::json_from_js(&snapshot).map_err(|not_json| {
            activity_error(ActivityError::Snapshot {
                path: not_json.path,
                problem: not_json.problem,
            })
        })?;
        let buffer = ActivityBuffer::from_snapshot(&snapshot, options).map_err(activity_error)?;
        Ok(ActivityBufferCore {
            buffer,
            thrown_by_strategy,
        })
    }

    #[wasm_bindgen(js_name = recordIncoming)]
    pub fn record_incoming(&mut self, envelope: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let envelope = envelope_from_js(&envelope)?;
        let result = self.buffer.record_incoming(envelope, time(now_ms));
        let record = result.map_err(|e| strategy_error(e, &self.thrown_by_strategy))?;
        records_out(&[record])
    }

    #[wasm_bindgen(js_name = recordOutgoing)]
    pub fn record_outgoing(&mut self, envelope: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let envelope = envelope_from_js(&envelope)?;
        let result = self.buffer.record_outgoing(envelope, time(now_ms));
        let record = result.map_err(|e| strategy_error(e, &self.thrown_by_strategy))?;
        records_out(&[record])
    }

    /// The updated record, or `undefined` for an unknown id.
    pub fn ack(&mut self, ack: JsValue) -> Result<JsValue, JsValue> {
        let ack =
            convert::json_from_js(&ack).map_err(|not_json| not_json.into_type_error("ack"))?;
        let ack = Ack::from_value(&ack).map_err(activity_error)?;
        record_or_undefined(self.buffer.ack(&ack).map_err(activity_error)?)
    }

    pub fn get(&self, message_id: JsValue) -> Result<JsValue, JsValue> {
        let message_id = convert::string_arg(&message_id, "message_id")?;
        record_or_undefined(self.buffer.get(&message_id))
    }

    pub fn unacked(&self) -> Result<JsValue, JsValue> {
        records_out(&self.buffer.unacked())
    }

    pub fn reconcile(&self) -> Result<JsValue, JsValue> {
        records_out(&self.buffer.reconcile())
    }

    /// The last `n` (default 50) records, oldest first.
    pub fn recent(&self, n: JsValue) -> Result<JsValue, JsValue> {
        let n = convert::optional_integer(&n, "n", convert::NonInteger::RangeError)?.unwrap_or(50);
        records_out(&self.buffer.recent(n))
    }

    #[wasm_bindgen(js_name = updateState)]
    pub fn update_state(
        &mut self,
        message_id: JsValue,
        state: JsValue,
    ) -> Result<JsValue, JsValue> {
        let message_id = convert::string_arg(&message_id, "message_id")?;
        let state = convert::optional_integer(&state, "state", convert::NonInteger::RangeError)?
            .ok_or_else(|| convert::type_error("state must be an integer, got undefined"))?;
        let updated = self.buffer.update_state(&message_id, state);
        record_or_undefined(updated.map_err(activity_error)?)
    }

    /// The record the token maps to within the dedup window, else `undefined`.
    #[wasm_bindgen(js_name = getByIdempotencyToken)]
    pub fn get_by_idempotency_token(
        &mut self,
        token: JsValue,
        now_ms: f64,
    ) -> Result<JsValue, JsValue> {
        let token = convert::string_arg(&token, "token")?;
        record_or_undefined(self.buffer.get_by_idempotency_token(&token, time(now_ms)))
    }

    /// `[status, records]`: status `'new' | 'duplicate' | 'in_progress'`, records as
    /// [`records_out`] (none for `new`, else the record found).
    #[wasm_bindgen(js_name = checkDuplicate)]
    pub fn check_duplicate(&mut self, envelope: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
        let envelope = envelope_from_js(&envelope)?;
        let check = self.buffer.check_duplicate(&envelope, time(now_ms));
        let check = check.map_err(activity_error)?;
        let status = convert::json_text_with_bytes_as_null(&check.status)?;
        let found: Vec<_> = check.record.into_iter().collect();
        Ok(js_sys::Array::of2(&status.into(), &records_out(&found)?).into())
    }

    pub fn clear(&mut self) {
        self.buffer.clear();
    }

    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.buffer.len() as u32
    }

    /// `{ evictions, rejections, ignoredAcks, dedupHits }`.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        convert::to_js(&self.buffer.stats())
    }

    /// The reference file format: plain JSON data (bytes as base64).
    #[wasm_bindgen(js_name = toSnapshot)]
    pub fn to_snapshot(&self) -> Result<JsValue, JsValue> {
        convert::to_js(&self.buffer.to_snapshot())
    }
}

/// A `SequenceTracker` whose numbers stay safe JS integers.
#[wasm_bindgen]
pub struct SequenceTrackerCore {
    tracker: SequenceTracker,
}

#[wasm_bindgen]
impl SequenceTrackerCore {
    /// `start`: `undefined` for 1, else a safe integer.
    #[wasm_bindgen(constructor)]
    pub fn new(start: JsValue) -> Result<SequenceTrackerCore, JsValue> {
        let start = convert::optional_integer(&start, "start", convert::NonInteger::RangeError)?
            .unwrap_or(1);
        Ok(SequenceTrackerCore {
            tracker: SequenceTracker::new(start),
        })
    }

    /// The next number; a `RangeError` once it would exceed `Number.MAX_SAFE_INTEGER`.
    pub fn next(&mut self) -> Result<f64, JsValue> {
        if self.tracker.peek() > core::MAX_SAFE_INTEGER {
            return Err(convert::range_error(
                "SequenceTracker exhausted: the next number would exceed Number.MAX_SAFE_INTEGER",
            ));
        }
        Ok(self.tracker.next() as f64)
    }
}

/// `{ AckStage, EnvelopeState, ErrorCode, MessageType }`, each name -> value: the tables
/// the literals in `js/activity.js` are checked against (that module cannot call the wasm
/// while it is evaluated).
#[wasm_bindgen(js_name = activityConstants)]
pub fn activity_constants() -> JsValue {
    let groups = js_sys::Object::new();
    for (group, table) in [
        ("AckStage", ack_stage::TABLE),
        ("EnvelopeState", envelope_state::TABLE),
        ("ErrorCode", error_code::TABLE),
        ("MessageType", message_type::TABLE),
    ] {
        let object = js_sys::Object::new();
        for (name, value) in table {
            // Setting a property on a fresh plain object cannot fail.
            let _ = js_sys::Reflect::set(&object, &(*name).into(), &(*value as f64).into());
        }
        let _ = js_sys::Reflect::set(&groups, &group.into(), &object);
    }
    groups.into()
}

/// True exactly for the terminal envelope states 4-7; false for anything not an integer.
#[wasm_bindgen(js_name = isTerminalState)]
pub fn is_terminal_state(state: JsValue) -> bool {
    integer(&state).is_some_and(core::is_terminal_state)
}

/// True exactly for the terminal ack stages 3-6; false for anything not an integer.
#[wasm_bindgen(js_name = isTerminalStage)]
pub fn is_terminal_stage(stage: JsValue) -> bool {
    integer(&stage).is_some_and(core::is_terminal_stage)
}

/// A new envelope (snake_case wire object) from camelCase options.
#[wasm_bindgen(js_name = buildEnvelope)]
pub fn build_envelope(options: JsValue, now_ms: f64) -> Result<JsValue, JsValue> {
    let options = envelope_options_from_js(&options)?;
    let envelope = core::build_envelope(&options, time(now_ms)).map_err(activity_error)?;
    convert::to_js_with_bytes(&envelope)
}

#[wasm_bindgen(js_name = computeIdempotencyToken)]
pub fn compute_idempotency_token(
    producer_id: JsValue,
    operation: JsValue,
    bytes: JsValue,
) -> Result<String, JsValue> {
    let producer_id = convert::string_arg(&producer_id, "producerId")?;
    let operation = convert::string_arg(&operation, "operation")?;
    let bytes = convert::bytes_or_text(&bytes).ok_or_else(|| {
        convert::type_error(&format!(
            "bytes must be a Uint8Array or a string, got {}",
            convert::describe_kind(&bytes)
        ))
    })?;
    core::compute_idempotency_token(&producer_id, &operation, &bytes).map_err(activity_error)
}

/// Builds the core's options; a `{ victims }` strategy becomes a chooser calling it.
fn buffer_options(
    max_items: &JsValue,
    dedup_window_s: &JsValue,
    strategy: &JsValue,
    on_full: &JsValue,
    thrown_by_strategy: &ThrownByStrategy,
) -> Result<ActivityBufferOptions, JsValue> {
    let defaults = ActivityBufferOptions::default();
    let max_items = convert::optional_count(max_items, "maxItems")?.unwrap_or(defaults.max_items);
    let dedup_window_s = convert::optional_count(dedup_window_s, "dedupWindowS")?
        .map_or(defaults.dedup_window_s, |s| s as u64);
    let on_full = if on_full.is_undefined() {
        defaults.on_full
    } else {
        let name = convert::string_arg(on_full, "onFull")?;
        OnFull::from_name(&name).map_err(activity_error)?
    };
    let strategy = if strategy.is_undefined() {
        defaults.strategy
    } else if let Some(victims) = victims_method(strategy)? {
        custom_strategy(strategy.clone(), victims, thrown_by_strategy.clone())
    } else {
        let value = convert::json_from_js(strategy)
            .map_err(|not_json| not_json.into_type_error("strategy"))?;
        Strategy::from_value(&value).map_err(activity_error)?
    };
    Ok(ActivityBufferOptions {
        max_items,
        dedup_window_s,
        strategy,
        on_full,
    })
}

/// The `victims` method of a custom strategy object; `None` when it has no such property.
fn victims_method(strategy: &JsValue) -> Result<Option<js_sys::Function>, JsValue> {
    if !strategy.is_object() {
        return Ok(None);
    }
    let victims = js_sys::Reflect::get(strategy, &"victims".into()).unwrap_or_default();
    if victims.is_undefined() {
        return Ok(None);
    }
    victims
        .dyn_into::<js_sys::Function>()
        .map(Some)
        .map_err(|_| {
            convert::type_error(
                "strategy.victims must be a function(order, excess) returning message ids",
            )
        })
}

/// A chooser calling `victims.call(chooser, order, excess)` and reading the iterable of
/// ids it returns. A JS exception is kept in `thrown` (see [`strategy_error`]).
fn custom_strategy(
    chooser: JsValue,
    victims: js_sys::Function,
    thrown: ThrownByStrategy,
) -> Strategy {
    Strategy::Custom(Box::new(move |order: Vec<String>, excess: usize| {
        let order: js_sys::Array = order.iter().map(|id| JsValue::from_str(id)).collect();
        let failed = |error: JsValue| {
            let message = error
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| convert::describe(&error));
            *thrown.borrow_mut() = Some(error);
            message
        };
        let returned = victims
            .call2(&chooser, &order, &JsValue::from(excess as f64))
            .map_err(failed)?;
        let not_iterable = || "victims() must return an iterable of message ids".to_string();
        if !returned.is_object() {
            return Err(not_iterable());
        }
        let iterator = js_sys::try_iter(&returned)
            .map_err(failed)?
            .ok_or_else(not_iterable)?;
        let mut ids = Vec::new();
        for item in iterator {
            let item = item.map_err(failed)?;
            let id = item.as_string().ok_or_else(|| {
                format!(
                    "victims() returned {}, not a message id string",
                    convert::describe_kind(&item)
                )
            })?;
            ids.push(id);
        }
        Ok(ids)
    }))
}

/// `error` for JS; a strategy failure gets the exception `victims()` threw as `cause`.
fn strategy_error(error: ActivityError, thrown: &ThrownByStrategy) -> JsValue {
    let cause = thrown.borrow_mut().take();
    let js_error = activity_error(error);
    if let Some(cause) = cause {
        let _ = js_sys::Reflect::set(&js_error, &"cause".into(), &cause);
    }
    js_error
}

/// An envelope from a plain object: `Uint8Array` fields become bytes (copied), every other
/// field strict JSON data. Wrong shapes are `TypeError`s naming the field.
fn envelope_from_js(value: &JsValue) -> Result<Envelope, JsValue> {
    let fields = convert::json_or_bytes_fields(value)
        .map_err(|not_json| not_json.into_type_error("envelope"))?;
    let mut envelope = Envelope::new();
    for (name, data) in fields {
        match data {
            JsData::Json(value) => envelope.insert_json(name, value),
            JsData::Bytes(bytes) => envelope.insert_bytes(name, bytes),
        }
    }
    Ok(envelope)
}

/// `buildEnvelope` options: strict JSON with `Uint8Array` bytes (for `payload` and
/// `auditProof`), each field checked on its own so that an error names it.
fn envelope_options_from_js(value: &JsValue) -> Result<EnvelopeOptions, JsValue> {
    if value.is_undefined() {
        return Err(convert::type_error(
            "buildEnvelope options must be an object with producerId and messageType",
        ));
    }
    let fields = convert::json_or_bytes_fields(value)
        .map_err(|not_json| not_json.into_type_error("buildEnvelope options"))?;
    let mut object = serde_json::Map::new();
    for (name, data) in fields {
        let value = match data {
            JsData::Json(value) => value,
            JsData::Bytes(bytes) => bytes.into(),
        };
        let single =
            serde_json::Value::Object([(name.clone(), value.clone())].into_iter().collect());
        if let Err(error) = serde_json::from_value::<EnvelopeOptions>(single) {
            return Err(convert::type_error(&format!(
                "buildEnvelope options.{name}: {error}"
            )));
        }
        object.insert(name, value);
    }
    serde_json::from_value(serde_json::Value::Object(object))
        .map_err(|error| convert::type_error(&format!("buildEnvelope options: {error}")))
}

fn record_or_undefined(record: Option<&core::ActivityRecord>) -> Result<JsValue, JsValue> {
    record.map_or(Ok(JsValue::UNDEFINED), |record| records_out(&[record]))
}

/// Records for `js/activity.js` to lift (`liftRecords`): a flat array `[json, i, name,
/// bytes, i, name, bytes, ...]` where `json` is the JSON text of the records (an array)
/// with byte fields written as `null`, and each triple puts a `Uint8Array` copy of the
/// bytes at `records[i].envelope[name]`.
///
/// Invariant: byte values occur only as top-level envelope fields (see `Envelope`), so the
/// triples locate every one of them.
fn records_out(records: &[&core::ActivityRecord]) -> Result<JsValue, JsValue> {
    let out = js_sys::Array::new();
    out.push(&convert::json_text_with_bytes_as_null(records)?.into());
    for (i, record) in records.iter().enumerate() {
        for (name, value) in record.envelope.fields() {
            if let core::FieldValue::Bytes(bytes) = value {
                out.push(&JsValue::from(i as f64));
                out.push(&JsValue::from_str(name));
                out.push(&js_sys::Uint8Array::from(bytes.as_slice()).into());
            }
        }
    }
    Ok(out.into())
}

/// A JS clock reading as whole milliseconds (the JS wrapper checks it is finite).
fn time(now_ms: f64) -> i64 {
    now_ms.floor() as i64
}

fn integer(value: &JsValue) -> Option<i64> {
    let number = value.as_f64()?;
    (number.fract() == 0.0 && number.abs() <= core::MAX_SAFE_INTEGER as f64)
        .then_some(number as i64)
}

/// The JS error for a core error: built-in `TypeError` / `RangeError` for bad arguments,
/// else an error lifted by `js/errors.js` into `BufferFullError`, `SnapshotError` or
/// `TidepoolError`, with `code` and the fields a caller needs.
fn activity_error(error: ActivityError) -> JsValue {
    let message = error.to_string();
    let code = error.code();
    match &error {
        ActivityError::InvalidArgument { .. } => convert::type_error(&message),
        ActivityError::Range { .. } => convert::range_error(&message),
        ActivityError::BufferFull {
            current_size,
            max_size,
        } => convert::tidepool_error(
            "BufferFullError",
            code,
            &message,
            &[
                ("errorCode", JsValue::from(error_code::BUFFER_FULL as f64)),
                ("currentSize", JsValue::from(*current_size as f64)),
                ("maxSize", JsValue::from(*max_size as f64)),
            ],
        ),
        ActivityError::Snapshot { path, problem } => convert::tidepool_error(
            "SnapshotError",
            code,
            &message,
            &[
                ("path", JsValue::from_str(path)),
                ("problem", JsValue::from_str(problem)),
            ],
        ),
        ActivityError::UnknownVictim { id } => convert::tidepool_error(
            "TidepoolError",
            code,
            &message,
            &[("messageId", JsValue::from_str(id))],
        ),
        ActivityError::NotEnoughVictims { .. }
        | ActivityError::StrategyFailed { .. }
        | ActivityError::Randomness { .. } => {
            convert::tidepool_error("TidepoolError", code, &message, &[])
        }
    }
}
