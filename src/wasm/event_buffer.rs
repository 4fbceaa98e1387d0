//! `EventBufferCore`: the ring of an `EventBuffer` whose payloads stay on the JS heap.
//!
//! Converting a payload into Rust costs about a microsecond; the buffer never needs to look
//! inside one. So the JS side keeps payload objects in an array of slots and the core
//! (`SlottedEventBuffer`) keeps, in arrival order, which slot holds which kind of payload.
//! Ordering, the bound, dropping and type-filtered draining are decided there. Adds cross
//! the boundary in batches: JS carries out a leased plan and commits the kinds it added.

use crate::core::event_buffer::{KindFilter, PayloadKind, SlottedEventBuffer};
use crate::wasm::convert;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct EventBufferCore {
    buffer: SlottedEventBuffer,
}

#[wasm_bindgen]
impl EventBufferCore {
    /// `max_size`: `undefined` for the default 1000, `0` for unlimited.
    #[wasm_bindgen(constructor)]
    pub fn new(max_size: JsValue) -> Result<EventBufferCore, JsValue> {
        let max_size = convert::optional_count(&max_size, "maxSize")?.unwrap_or(1000);
        Ok(EventBufferCore {
            buffer: SlottedEventBuffer::new(max_size),
        })
    }

    /// Commits `kinds` (see `commit`), then leases the next `steps` adds: one
    /// `slot << 1 | dropped` per add (`Placement::encode`).
    pub fn lease(&mut self, kinds: &[u8], steps: u32) -> Vec<u32> {
        self.commit(kinds);
        let lease = self.buffer.lease(steps as usize);
        lease.iter().map(|placement| placement.encode()).collect()
    }

    /// Performs the next `kinds.len()` leased adds, one payload kind tag per add.
    pub fn commit(&mut self, kinds: &[u8]) {
        let kinds = kinds.iter().map(|&tag| PayloadKind::from_tag(tag));
        self.buffer.commit(kinds);
    }

    /// The slots of every payload, oldest first; all slots become free.
    pub fn drain(&mut self) -> Vec<u32> {
        self.buffer.drain()
    }

    /// The slots of the matching payloads, oldest first; those slots become free.
    #[wasm_bindgen(js_name = drainByType)]
    pub fn drain_by_type(&mut self, actions: bool, summaries: bool) -> Vec<u32> {
        self.buffer.drain_by_kind(KindFilter { actions, summaries })
    }

    /// The slots of the newest `n` payloads (all for `undefined`/`null`), oldest first.
    pub fn peek(&self, n: JsValue) -> Result<Vec<u32>, JsValue> {
        let n = convert::optional_count(&n, "n")?;
        Ok(self.buffer.peek(n).collect())
    }

    /// Discards everything; returns how many payloads were discarded.
    pub fn clear(&mut self) -> u32 {
        self.buffer.clear() as u32
    }

    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.buffer.len() as u32
    }

    #[wasm_bindgen(getter, js_name = maxSize)]
    pub fn max_size(&self) -> u32 {
        self.buffer.max_size() as u32
    }

    #[wasm_bindgen(getter, js_name = droppedCount)]
    pub fn dropped_count(&self) -> f64 {
        convert::count_to_js(self.buffer.dropped_count())
    }
}
