//! `ActivityBufferCore`, `SequenceTrackerCore` and the activity functions: bindings of
//! `core::activity`. Every value crosses the boundary through `convert`; the JS classes in
//! `js/activity.js` add the clock (`now()`), bound methods and error classes.
//!
//! Envelopes stay on the JS heap: `js/activity.js` keeps its own copy of each recorded
//! envelope in an array indexed by slot, and the core records a [`HeldEnvelope`], the slot
//! plus the four fields the buffer reads. A whole envelope crosses the boundary only for
//! snapshots. Records go out as rows of numbers (see [`ROW`]), which the JS side joins
//! with its envelope copies.
//!
//! Time: each method that needs it takes `now_ms` from the JS wrapper (its `now()`), so the
//! core never calls back into JS for the clock.

use std::cell::RefCell;
use std::rc::Rc;

use crate::core::activity::constants::error_code;
use crate::core::activity::snapshot_of;
use crate::core::activity::{
    self as core, Ack, ActivityBuffer, ActivityBufferOptions, ActivityError, ActivityRecord,
    Direction, DuplicateStatus, Envelope, EnvelopeOptions, OnFull, RecordedEnvelope,
    SequenceTracker, Strategy,
};
use crate::core::durable::ChangeTracker;
use crate::core::number::safe_integer;
use crate::wasm::convert;
use crate::wasm::slots::SlotAllocator;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The exception thrown by a custom strategy's `victims()`, kept until the failed
/// operation turns it into the `cause` of its error. Holds a value only between the
/// throwing call and the end of that operation.
type ThrownByStrategy = Rc<RefCell<Option<JsValue>>>;

/// A recorded envelope as the core sees it: where the JS side keeps it, and copies of the
/// fields [`RecordedEnvelope`] reads, checked when it was built (see [`recorded_fields`]).
#[derive(Debug)]
struct HeldEnvelope {
    slot: u32,
    message_id: String,
    idempotency_token: String,
    correlation_id: String,
    state: i64,
}

impl HeldEnvelope {
    fn of(slot: u32, envelope: &Envelope) -> Self {
        HeldEnvelope {
            slot,
            message_id: envelope.message_id().unwrap_or_default().to_owned(),
            idempotency_token: envelope.idempotency_token().to_owned(),
            correlation_id: envelope.correlation_id().to_owned(),
            state: envelope.state(),
        }
    }
}

impl RecordedEnvelope for HeldEnvelope {
    fn validate_for_record(&self) -> Result<&str, ActivityError> {
        Ok(&self.message_id)
    }

    fn checked_idempotency_token(&self) -> Result<&str, ActivityError> {
        Ok(&self.idempotency_token)
    }

    fn idempotency_token(&self) -> &str {
        &self.idempotency_token
    }

    fn correlation_id(&self) -> &str {
        &self.correlation_id
    }

    fn state(&self) -> i64 {
        self.state
    }

    fn set_state(&mut self, state: i64) {
        self.state = state;
    }
}

/// One number of a record's row. Records go to `js/activity.js` (`#recordAt`) as rows of
/// numbers in a `Float64Array` (no text to encode or parse), laid out as [`ROW`]; the JS
/// side reads them by the positions in `ROW` of `js/activity_row.js`, which
/// `tests/js/activity_row.test.mjs` checks against [`activity_row_layout`]. The JS side
/// adds a copy of the envelope in the slot, and the ids, which it reads from that envelope
/// (they are the ones `HeldEnvelope` copied); the ack note itself comes from `ackNote`.
#[derive(Clone, Copy)]
enum RowField {
    Slot,
    /// 1 = out, 0 = in.
    Outgoing,
    TsMs,
    AckStage,
    ErrorCode,
    State,
    /// 1 when the record has an ack note.
    HasNote,
}

const ROW: [RowField; 7] = [
    RowField::Slot,
    RowField::Outgoing,
    RowField::TsMs,
    RowField::AckStage,
    RowField::ErrorCode,
    RowField::State,
    RowField::HasNote,
];

impl RowField {
    /// The name `js/activity_row.js` gives this position.
    fn name(self) -> &'static str {
        match self {
            RowField::Slot => "slot",
            RowField::Outgoing => "outgoing",
            RowField::TsMs => "tsMs",
            RowField::AckStage => "ackStage",
            RowField::ErrorCode => "errorCode",
            RowField::State => "state",
            RowField::HasNote => "hasNote",
        }
    }

    fn of(self, record: &ActivityRecord<HeldEnvelope>) -> f64 {
        match self {
            RowField::Slot => f64::from(record.envelope.slot),
            RowField::Outgoing => f64::from(u8::from(record.direction == Direction::Out)),
            RowField::TsMs => record.ts_ms as f64,
            RowField::AckStage => record.ack_stage as f64,
            RowField::ErrorCode => record.error_code as f64,
            RowField::State => record.envelope.state as f64,
            RowField::HasNote => f64::from(u8::from(!record.ack_note.is_empty())),
        }
    }
}

/// The names of a row's numbers, in order (for the test that ties `js/activity_row.js` to
/// this layout).
#[wasm_bindgen(js_name = activityRowLayout)]
pub fn activity_row_layout() -> Vec<String> {
    ROW.iter().map(|field| field.name().to_owned()).collect()
}

fn row(record: &ActivityRecord<HeldEnvelope>) -> [f64; ROW.len()] {
    ROW.map(|field| field.of(record))
}

/// One row, or none (the JS side answers `undefined`).
fn row_of(record: Option<&ActivityRecord<HeldEnvelope>>) -> Vec<f64> {
    rows_of(record.as_slice())
}

fn rows_of(records: &[&ActivityRecord<HeldEnvelope>]) -> Vec<f64> {
    records.iter().flat_map(|record| row(record)).collect()
}

/// Invariant: `slots` holds exactly the slots of the resident records' envelopes.
#[wasm_bindgen]
pub struct ActivityBufferCore {
    buffer: ActivityBuffer<HeldEnvelope>,
    slots: SlotAllocator,
    thrown_by_strategy: ThrownByStrategy,
    /// The envelopes of a buffer built by `fromSnapshot`, indexed by slot, until the JS
    /// side takes them.
    loaded_envelopes: Option<js_sys::Array>,
    /// What changed since the last flush, for `PersistentActivityBuffer` (`trackChanges`);
    /// handles are envelope slots, keys message ids.
    changes: Option<ChangeTracker>,
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
        let (options, thrown_by_strategy) =
            buffer_options(&max_items, &dedup_window_s, &strategy, &on_full)?;
        let buffer = ActivityBuffer::new(options).map_err(activity_error)?;
        Ok(ActivityBufferCore {
            buffer,
            slots: SlotAllocator::default(),
            thrown_by_strategy,
            loaded_envelopes: None,
            changes: None,
        })
    }

    /// A buffer from a snapshot; its envelopes wait in `takeLoadedEnvelopes()`.
    #[wasm_bindgen(js_name = fromSnapshot)]
    pub fn from_snapshot(
        snapshot: JsValue,
        max_items: JsValue,
        dedup_window_s: JsValue,
        strategy: JsValue,
        on_full: JsValue,
    ) -> Result<ActivityBufferCore, JsValue> {
        let (options, thrown_by_strategy) =
            buffer_options(&max_items, &dedup_window_s, &strategy, &on_full)?;
        let snapshot = convert::json_from_js(&snapshot).map_err(|not_json| {
            activity_error(ActivityError::Snapshot {
                path: not_json.path,
                problem: not_json.problem,
            })
        })?;
        let mut slots = SlotAllocator::default();
        let envelopes = js_sys::Array::new();
        let buffer = ActivityBuffer::from_snapshot_with(&snapshot, options, |envelope| {
            let slot = slots.take();
            envelopes.set(slot, convert::envelope_to_js(&envelope).into());
            HeldEnvelope::of(slot, &envelope)
        })
        .map_err(activity_error)?;
        Ok(ActivityBufferCore {
            buffer,
            slots,
            thrown_by_strategy,
            loaded_envelopes: Some(envelopes),
            changes: None,
        })
    }

    /// The envelopes loaded by `fromSnapshot`, indexed by slot (once; then `undefined`).
    #[wasm_bindgen(js_name = takeLoadedEnvelopes)]
    pub fn take_loaded_envelopes(&mut self) -> Option<js_sys::Array> {
        self.loaded_envelopes.take()
    }

    /// Records an envelope whose copy the JS side keeps in the returned slot. JS passes
    /// the fields the buffer reads, from that copy (see [`recorded_fields`]). Returns the
    /// record's row followed by the slots of the records evicted to make room.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        incoming: bool,
        message_id: JsValue,
        idempotency_token: JsValue,
        correlation_id: JsValue,
        state: JsValue,
        snapshot_marker: Option<String>,
        now_ms: f64,
    ) -> Result<Vec<f64>, JsValue> {
        let fields = recorded_fields(
            [&message_id, &idempotency_token, &correlation_id, &state],
            snapshot_marker,
        )?;
        let message_id = fields.validate_for_record().map_err(activity_error)?;
        let (slot, new_slot) = match self.buffer.get(message_id) {
            Some(resident) => (resident.envelope.slot, false),
            None => (self.slots.take(), true),
        };
        let held = HeldEnvelope::of(slot, &fields);
        let direction = if incoming {
            Direction::In
        } else {
            Direction::Out
        };
        let Self {
            buffer,
            slots,
            thrown_by_strategy,
            changes,
            ..
        } = self;
        match buffer.record(direction, held, time(now_ms)) {
            Ok((record, evicted)) => {
                let mut out = row_of(Some(record));
                mark_changed(changes, Some(record));
                for evicted in evicted {
                    if let Some(changes) = changes.as_mut() {
                        changes.remove(evicted.envelope.slot, evicted.message_id);
                    }
                    slots.release(evicted.envelope.slot);
                    out.push(evicted.envelope.slot as f64);
                }
                Ok(out)
            }
            Err(error) => {
                if new_slot {
                    slots.release(slot);
                }
                Err(strategy_error(error, thrown_by_strategy))
            }
        }
    }

    /// The updated record, or `undefined` for an unknown id.
    pub fn ack(&mut self, ack: JsValue) -> Result<Vec<f64>, JsValue> {
        let ack =
            convert::json_from_js(&ack).map_err(|not_json| not_json.into_type_error("ack"))?;
        let ack = Ack::from_value(&ack).map_err(activity_error)?;
        let acked = self.buffer.ack(&ack).map_err(activity_error)?;
        mark_changed(&mut self.changes, acked);
        Ok(row_of(acked))
    }

    pub fn get(&self, message_id: JsValue) -> Result<Vec<f64>, JsValue> {
        let message_id = convert::string_arg(&message_id, "message_id")?;
        Ok(row_of(self.buffer.get(&message_id)))
    }

    pub fn unacked(&self) -> Vec<f64> {
        rows_of(&self.buffer.unacked())
    }

    pub fn reconcile(&self) -> Vec<f64> {
        rows_of(&self.buffer.reconcile())
    }

    /// The last `n` (default 50) records, oldest first.
    pub fn recent(&self, n: JsValue) -> Result<Vec<f64>, JsValue> {
        let n = convert::optional_integer(&n, "n", convert::NonInteger::RangeError)?.unwrap_or(50);
        Ok(rows_of(&self.buffer.recent(n)))
    }

    /// The updated record (the JS side sets `state` on its envelope copy), or `undefined`.
    #[wasm_bindgen(js_name = updateState)]
    pub fn update_state(
        &mut self,
        message_id: JsValue,
        state: JsValue,
    ) -> Result<Vec<f64>, JsValue> {
        let message_id = convert::string_arg(&message_id, "message_id")?;
        let state = convert::optional_integer(&state, "state", convert::NonInteger::RangeError)?
            .ok_or_else(|| convert::type_error("state must be an integer, got undefined"))?;
        let updated = self.buffer.update_state(&message_id, state);
        let updated = updated.map_err(activity_error)?;
        mark_changed(&mut self.changes, updated);
        Ok(row_of(updated))
    }

    /// The record the token maps to within the dedup window, else `undefined`.
    #[wasm_bindgen(js_name = getByIdempotencyToken)]
    pub fn get_by_idempotency_token(
        &mut self,
        token: JsValue,
        now_ms: f64,
    ) -> Result<Vec<f64>, JsValue> {
        let token = convert::string_arg(&token, "token")?;
        Ok(row_of(
            self.buffer.get_by_idempotency_token(&token, time(now_ms)),
        ))
    }

    /// `[status, ...row]`: status 0 new (no row), 1 duplicate, 2 in progress. JS passes
    /// the envelope's `idempotency_token` (`undefined` when absent).
    #[wasm_bindgen(js_name = checkDuplicate)]
    pub fn check_duplicate(
        &mut self,
        idempotency_token: JsValue,
        now_ms: f64,
    ) -> Result<Vec<f64>, JsValue> {
        let undefined = JsValue::UNDEFINED;
        let fields = recorded_fields(
            [&undefined, &idempotency_token, &undefined, &undefined],
            None,
        )?;
        fields.checked_idempotency_token().map_err(activity_error)?;
        let held = HeldEnvelope::of(0, &fields);
        let check = self.buffer.check_duplicate(&held, time(now_ms));
        let check = check.map_err(activity_error)?;
        let status = match check.status {
            DuplicateStatus::New => 0.0,
            DuplicateStatus::Duplicate => 1.0,
            DuplicateStatus::InProgress => 2.0,
        };
        let record = check.record.map(row);
        Ok(std::iter::once(status)
            .chain(record.into_iter().flatten())
            .collect())
    }

    /// The ack note of a resident record (`""` when none or no such record).
    #[wasm_bindgen(js_name = ackNote)]
    pub fn ack_note(&self, message_id: &str) -> String {
        self.buffer
            .get(message_id)
            .map_or_else(String::new, |record| record.ack_note.clone())
    }

    /// Removes every record; the JS side drops its envelope copies.
    pub fn clear(&mut self) {
        self.buffer.clear();
        self.slots.release_all();
        if let Some(changes) = self.changes.as_mut() {
            changes.clear();
        }
    }

    /// Starts tracking changes (records written, removed, everything cleared) for
    /// `takeChanges`; the records resident now count as saved.
    #[wasm_bindgen(js_name = trackChanges)]
    pub fn track_changes(&mut self) {
        self.changes = Some(ChangeTracker::default());
    }

    /// The changes since the last take, and starts over: a snapshot of the changed records
    /// (oldest first, in the reference file format, envelopes from `envelopes[slot]`) with
    /// two more fields, `cleared` (everything was removed first) and `removed` (message
    /// ids deleted before the records are written). `null` when nothing changed.
    #[wasm_bindgen(js_name = takeChanges)]
    pub fn take_changes(&mut self, envelopes: js_sys::Array) -> Result<JsValue, JsValue> {
        let Some(tracker) = self.changes.as_mut().filter(|t| !t.is_empty()) else {
            return Ok(JsValue::NULL);
        };
        let buffer = &self.buffer;
        let changes = tracker.take(|id| buffer.get(id).map(|r| r.envelope.slot));
        let records = buffer.records_among(&changes.put);
        let mut snapshot = snapshot_js(&records, &envelopes)?;
        if let serde_json::Value::Object(fields) = &mut snapshot {
            fields.insert("cleared".into(), changes.cleared.into());
            fields.insert("removed".into(), changes.removed.into());
        }
        Ok(convert::to_js(&snapshot))
    }

    /// Puts back one change of a `takeChanges` whose write failed, under those made since:
    /// `kind` 0 = `id` was to be written, 1 = deleted, 2 = everything was to be removed
    /// first (`id` unused).
    #[wasm_bindgen(js_name = restoreChange)]
    pub fn restore_change(&mut self, id: String, kind: u8) {
        let buffer = &self.buffer;
        if let Some(tracker) = self.changes.as_mut() {
            match kind {
                0 => tracker.restore_put(&id, buffer.get(&id).map(|r| r.envelope.slot)),
                1 => tracker.restore_removed(id),
                _ => tracker.restore_cleared(),
            }
        }
    }

    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.buffer.len() as u32
    }

    /// `[evictions, rejections, ignoredAcks, dedupHits]`; `js/activity.js` names them.
    pub fn stats(&self) -> Vec<f64> {
        let stats = self.buffer.stats();
        [
            stats.evictions,
            stats.rejections,
            stats.ignored_acks,
            stats.dedup_hits,
        ]
        .map(convert::count_to_js)
        .to_vec()
    }

    /// The reference file format (plain JSON data, bytes as base64), with each record's
    /// envelope taken from `envelopes[slot]`, the JS side's copies.
    #[wasm_bindgen(js_name = toSnapshot)]
    pub fn to_snapshot(&self, envelopes: js_sys::Array) -> Result<JsValue, JsValue> {
        let records: Vec<_> = self.buffer.records().collect();
        Ok(convert::to_js(&snapshot_js(&records, &envelopes)?))
    }
}

/// `records` in the reference file format, with each record's envelope taken from
/// `envelopes[slot]` (the JS side's copies): `toSnapshot` and `takeChanges` both write
/// records through this one path.
fn snapshot_js(
    records: &[&ActivityRecord<HeldEnvelope>],
    envelopes: &js_sys::Array,
) -> Result<serde_json::Value, JsValue> {
    snapshot_of(records, |held| envelope_from_js(&envelopes.get(held.slot)))
}

/// Marks the record an operation changed, if changes are tracked.
fn mark_changed(
    changes: &mut Option<ChangeTracker>,
    record: Option<&ActivityRecord<HeldEnvelope>>,
) {
    if let (Some(changes), Some(record)) = (changes.as_mut(), record) {
        changes.put(record.envelope.slot, &record.message_id);
    }
}

/// The fields of an envelope that [`RecordedEnvelope`] reads, as JS passed them (in
/// [`RECORDED_FIELDS`] order; `undefined` when absent), and the snapshot-only key the
/// envelope carries, if any: a core `Envelope` of just these, so that the core's checks
/// (`validate_for_record`, `checked_idempotency_token`) apply unchanged. JS has already
/// checked that the whole envelope is JSON data with `Uint8Array` fields (`copyEnvelope`).
fn recorded_fields(
    values: [&JsValue; 4],
    snapshot_marker: Option<String>,
) -> Result<Envelope, JsValue> {
    let mut fields = Envelope::new();
    for (name, value) in RECORDED_FIELDS.into_iter().zip(values) {
        if value.is_undefined() {
            continue;
        }
        if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
            fields.insert_bytes(name, bytes.to_vec());
        } else {
            let value = convert::json_from_js(value)
                .map_err(|not_json| not_json.into_type_error(&format!("envelope.{name}")))?;
            fields.insert_json(name, value);
        }
    }
    if let Some(marker) = snapshot_marker {
        fields.insert_json(marker, serde_json::Value::Null);
    }
    Ok(fields)
}

const RECORDED_FIELDS: [&str; 4] = ["message_id", "idempotency_token", "correlation_id", "state"];

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
pub fn build_envelope(options: JsValue, now_ms: f64) -> Result<js_sys::Object, JsValue> {
    let options = envelope_options_from_js(&options)?;
    let envelope = core::build_envelope(&options, time(now_ms)).map_err(activity_error)?;
    Ok(convert::envelope_to_js(&envelope))
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
            convert::kind(&bytes)
        ))
    })?;
    core::compute_idempotency_token(&producer_id, &operation, &bytes).map_err(activity_error)
}

/// Builds the core's options; a `{ victims }` strategy becomes a chooser calling it, which
/// keeps what `victims()` throws in the returned slot.
fn buffer_options(
    max_items: &JsValue,
    dedup_window_s: &JsValue,
    strategy: &JsValue,
    on_full: &JsValue,
) -> Result<(ActivityBufferOptions, ThrownByStrategy), JsValue> {
    let thrown_by_strategy = ThrownByStrategy::default();
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
    let options = ActivityBufferOptions {
        max_items,
        dedup_window_s,
        strategy,
        on_full,
    };
    Ok((options, thrown_by_strategy))
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

/// A chooser calling `victims.call(chooser, order, excess)` and reading the array of ids it
/// returns (`strategyForCore` in `js/activity.js` makes any iterable one). A JS exception is
/// kept in `thrown` (see [`strategy_error`]).
fn custom_strategy(
    chooser: JsValue,
    victims: js_sys::Function,
    thrown: ThrownByStrategy,
) -> Strategy {
    Strategy::Custom(Box::new(move |order: Vec<String>, excess: usize| {
        let order: js_sys::Array = order.iter().map(|id| JsValue::from_str(id)).collect();
        let failed = |error: JsValue| {
            let message = convert::error_message(&error);
            *thrown.borrow_mut() = Some(error);
            message
        };
        let returned = victims
            .call2(&chooser, &order, &JsValue::from(excess as f64))
            .map_err(failed)?;
        // `js/activity.js` hands the core a `victims` that answers `Array.from` of what
        // the caller's returned, or that value itself when it is not an object.
        let Some(returned) = returned.dyn_ref::<js_sys::Array>() else {
            return Err("victims() must return an iterable of message ids".to_string());
        };
        let mut ids = Vec::with_capacity(returned.length() as usize);
        for item in returned.iter() {
            let id = item.as_string().ok_or_else(|| {
                format!(
                    "victims() returned {}, not a message id string",
                    convert::kind(&item)
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
    for (name, value) in fields {
        envelope.insert(name, value);
    }
    Ok(envelope)
}

/// `buildEnvelope` options: strict JSON with `Uint8Array` bytes (for `payload` and
/// `auditProof`); the core checks each option and names it in errors.
fn envelope_options_from_js(value: &JsValue) -> Result<EnvelopeOptions, JsValue> {
    if value.is_undefined() {
        return Err(convert::type_error(
            "buildEnvelope options must be an object with producerId and messageType",
        ));
    }
    let fields = convert::json_or_bytes_fields(value)
        .map_err(|not_json| not_json.into_type_error("buildEnvelope options"))?;
    EnvelopeOptions::from_fields(fields).map_err(activity_error)
}

/// A JS clock reading as whole milliseconds (the JS wrapper checks it is finite).
fn time(now_ms: f64) -> i64 {
    now_ms.floor() as i64
}

fn integer(value: &JsValue) -> Option<i64> {
    value.as_f64().and_then(safe_integer)
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
