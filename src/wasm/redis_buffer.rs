//! `RedisBufferCore`: the rules and command plans of `RedisEventBuffer`
//! (src/core/redis/buffer.rs) behind one handle, plus the script helpers the REST client
//! uses. `js/redis/event_buffer.js` does the I/O.

use crate::core::redis::buffer::{
    self, AddEntry, AddOutcome, AddStatus, ConfigError, Plan, RedisBuffer,
};
use crate::core::redis::{self as redis, scripts, BadReply};
use crate::wasm::{convert, payload};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct RedisBufferCore {
    buffer: RedisBuffer,
}

/// A plan as JS receives it: `{ script, keys, args }` (`script` names one of
/// [`redis_buffer_scripts`]).
#[derive(Serialize)]
struct PlanView<'a> {
    script: &'static str,
    keys: &'a [String],
    args: &'a [String],
}

#[derive(Serialize)]
struct OutcomeView {
    status: &'static str,
    evicted: u64,
    merged: u64,
}

impl From<AddOutcome> for OutcomeView {
    fn from(outcome: AddOutcome) -> Self {
        OutcomeView {
            status: match outcome.status {
                AddStatus::Applied => "applied",
                AddStatus::Replayed => "replayed",
                AddStatus::Fenced => "fenced",
            },
            evicted: outcome.evicted,
            merged: outcome.merged,
        }
    }
}

#[derive(Serialize)]
struct UnreadableView<'a> {
    member: &'a str,
    problem: &'a str,
}

#[derive(Serialize)]
struct DrainView<'a> {
    replayed: bool,
    events: Vec<&'a crate::core::payload::Payload>,
    unreadable: Vec<UnreadableView<'a>>,
}

fn plan_to_js(plan: &Plan) -> JsValue {
    convert::to_js(&PlanView {
        script: plan.script.name(),
        keys: &plan.keys,
        args: &plan.args,
    })
}

/// A reply without the expected shape, to be lifted into a `RedisRestError`.
fn bad_reply(error: BadReply) -> JsValue {
    convert::tidepool_error(
        "RedisRestError",
        "REDIS_BAD_RESPONSE",
        &error.to_string(),
        &[],
    )
}

fn reply_json(reply: &JsValue) -> Result<serde_json::Value, JsValue> {
    convert::json_from_js(reply).map_err(|not_json| {
        bad_reply(BadReply::new(format!(
            "{} is {}",
            if not_json.path.is_empty() {
                "the reply"
            } else {
                &not_json.path
            },
            not_json.problem
        )))
    })
}

#[wasm_bindgen]
impl RedisBufferCore {
    /// `key_prefix` (default `'default'`): a non-empty string without `:`, else `RangeError`;
    /// `window_seconds` (default 120): a finite number above 0, else `RangeError`.
    #[wasm_bindgen(constructor)]
    pub fn new(key_prefix: JsValue, window_seconds: JsValue) -> Result<RedisBufferCore, JsValue> {
        let prefix = if key_prefix.is_undefined() {
            "default".to_string()
        } else {
            convert::string_arg(&key_prefix, "keyPrefix")?
        };
        let window = convert::optional_number(&window_seconds, "windowSeconds")?
            .unwrap_or(buffer::DEFAULT_WINDOW_SECONDS);
        let buffer = RedisBuffer::new(&prefix, window)
            .map_err(|error: ConfigError| convert::range_error(&error.to_string()))?;
        Ok(RedisBufferCore { buffer })
    }

    #[wasm_bindgen(getter, js_name = keyPrefix)]
    pub fn key_prefix(&self) -> String {
        self.buffer.keys().prefix().to_string()
    }

    #[wasm_bindgen(getter, js_name = windowSeconds)]
    pub fn window_seconds(&self) -> f64 {
        self.buffer.window_seconds()
    }

    /// Validates `payload` (as `parsePayload`; `PayloadError` otherwise) and encodes it, added
    /// at `now_seconds`: `[key, session, score, bound, json]`.
    pub fn entry(&self, value: JsValue, now_seconds: f64) -> Result<Vec<String>, JsValue> {
        if !now_seconds.is_finite() {
            return Err(convert::range_error(
                "the clock must read a finite number of seconds",
            ));
        }
        let parsed = payload::parse(value)?;
        let AddEntry {
            key,
            session,
            score,
            bound,
            json,
        } = self.buffer.entry(&parsed, now_seconds);
        Ok(vec![key, session, score, bound, json])
    }

    /// The add of `entries` (each as `entry` returned it) under `batch_id`.
    #[wasm_bindgen(js_name = addPlan)]
    pub fn add_plan(&self, batch_id: &str, entries: js_sys::Array) -> Result<JsValue, JsValue> {
        let mut decoded = Vec::with_capacity(entries.length() as usize);
        for entry in entries.iter() {
            let parts: Vec<String> = js_sys::Array::from(&entry)
                .iter()
                .filter_map(|part| part.as_string())
                .collect();
            let [key, session, score, bound, json]: [String; 5] =
                parts.try_into().map_err(|_| {
                    convert::type_error("an add entry is the 5 strings entry() returned")
                })?;
            decoded.push(AddEntry {
                key,
                session,
                score,
                bound,
                json,
            });
        }
        Ok(plan_to_js(&self.buffer.add_plan(batch_id, &decoded)))
    }

    #[wasm_bindgen(js_name = fencePlan)]
    pub fn fence_plan(&self, batch_ids: Vec<String>) -> JsValue {
        plan_to_js(&self.buffer.fence_plan(&batch_ids))
    }

    #[wasm_bindgen(js_name = drainPlan)]
    pub fn drain_plan(&self, drain_id: &str, delivered: Vec<String>) -> JsValue {
        plan_to_js(&self.buffer.drain_plan(drain_id, &delivered))
    }

    #[wasm_bindgen(js_name = sizePlan)]
    pub fn size_plan(&self) -> JsValue {
        plan_to_js(&self.buffer.size_plan())
    }

    /// `{ status: 'applied' | 'replayed' | 'fenced', evicted, merged }`.
    #[wasm_bindgen(js_name = decodeAdd)]
    pub fn decode_add(&self, reply: JsValue) -> Result<JsValue, JsValue> {
        let outcome = buffer::decode_add(&reply_json(&reply)?).map_err(bad_reply)?;
        Ok(convert::to_js(&OutcomeView::from(outcome)))
    }

    /// One `{ status: 'replayed' | 'fenced', evicted, merged }` per fenced batch.
    #[wasm_bindgen(js_name = decodeFence)]
    pub fn decode_fence(&self, reply: JsValue, count: u32) -> Result<JsValue, JsValue> {
        let outcomes =
            buffer::decode_fence(&reply_json(&reply)?, count as usize).map_err(bad_reply)?;
        let views: Vec<OutcomeView> = outcomes.into_iter().map(OutcomeView::from).collect();
        Ok(convert::to_js(&views))
    }

    /// `{ replayed, events, unreadable: [{ member, problem }] }`; events in drain order.
    #[wasm_bindgen(js_name = decodeDrain)]
    pub fn decode_drain(&self, reply: JsValue) -> Result<JsValue, JsValue> {
        let drained = buffer::decode_drain(&reply_json(&reply)?, &mut convert::json_from_text)
            .map_err(bad_reply)?;
        Ok(convert::to_js(&DrainView {
            replayed: drained.replayed,
            events: drained.events.iter().map(|event| &event.payload).collect(),
            unreadable: drained
                .unreadable
                .iter()
                .map(|u| UnreadableView {
                    member: &u.member,
                    problem: &u.problem,
                })
                .collect(),
        }))
    }

    #[wasm_bindgen(js_name = decodeSize)]
    pub fn decode_size(&self, reply: JsValue) -> Result<f64, JsValue> {
        let size = buffer::decode_size(&reply_json(&reply)?).map_err(bad_reply)?;
        Ok(convert::count_to_js(size))
    }
}

/// The buffer's scripts by the names plans use: `{ add, fence, drain, size }`.
#[wasm_bindgen(js_name = redisBufferScripts)]
pub fn redis_buffer_scripts() -> JsValue {
    #[derive(Serialize)]
    struct Scripts {
        add: &'static str,
        fence: &'static str,
        drain: &'static str,
        size: &'static str,
    }
    convert::to_js(&Scripts {
        add: scripts::ADD,
        fence: scripts::FENCE,
        drain: scripts::DRAIN,
        size: scripts::SIZE,
    })
}

/// A fresh random id for an add batch or a drain.
#[wasm_bindgen(js_name = redisRandomId)]
pub fn redis_random_id() -> Result<String, JsValue> {
    redis::random_id()
        .map_err(|_| convert::type_error("Web Crypto API (crypto.getRandomValues) is unavailable"))
}
