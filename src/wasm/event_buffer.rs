//! `EventBufferCore`: the ring of an `EventBuffer` whose payloads stay on the JS heap.
//!
//! Converting a payload into Rust costs about a microsecond; the buffer never needs to look
//! inside one. So the JS side keeps payload objects in an array of slots and this core
//! keeps, in arrival order, which slot holds which kind of payload. Ordering, the bound,
//! dropping and type-filtered draining are decided here.

use crate::core::event_buffer::{EventBuffer, KindFilter, PayloadKind};
use crate::wasm::convert;
use crate::wasm::slots::SlotAllocator;
use wasm_bindgen::prelude::*;

#[derive(Clone, Copy)]
struct Slot {
    index: u32,
    kind: PayloadKind,
}

#[wasm_bindgen]
pub struct EventBufferCore {
    buffer: EventBuffer<Slot>,
    slots: SlotAllocator,
}

#[wasm_bindgen]
impl EventBufferCore {
    /// `max_size`: `undefined` for the default 1000, `0` for unlimited.
    #[wasm_bindgen(constructor)]
    pub fn new(max_size: JsValue) -> Result<EventBufferCore, JsValue> {
        let max_size = convert::optional_count(&max_size, "maxSize")?.unwrap_or(1000);
        Ok(EventBufferCore {
            buffer: EventBuffer::new(max_size),
            slots: SlotAllocator::default(),
        })
    }

    /// Places a payload of kind `kind_tag` and returns `slot << 1 | dropped`.
    ///
    /// When the buffer was full, the oldest payload is dropped and the new payload takes
    /// over its slot (`dropped` = 1): the JS side finds the dropped payload in that slot.
    pub fn add(&mut self, kind_tag: u8) -> u32 {
        let kind = PayloadKind::from_tag(kind_tag);
        let index = match self.buffer.oldest() {
            Some(oldest) if self.buffer.is_full() => oldest.index,
            _ => self.slots.take(),
        };
        let dropped = self.buffer.add(Slot { index, kind }).is_some();
        index << 1 | dropped as u32
    }

    /// The slots of every payload, oldest first; all slots become free.
    pub fn drain(&mut self) -> Vec<u32> {
        self.slots.release_all();
        self.buffer
            .drain()
            .into_iter()
            .map(|slot| slot.index)
            .collect()
    }

    /// The slots of the matching payloads, oldest first; those slots become free.
    #[wasm_bindgen(js_name = drainByType)]
    pub fn drain_by_type(&mut self, actions: bool, summaries: bool) -> Vec<u32> {
        let filter = KindFilter { actions, summaries };
        let taken = self.buffer.drain_where(|slot| filter.matches(slot.kind));
        taken
            .into_iter()
            .map(|slot| {
                self.slots.release(slot.index);
                slot.index
            })
            .collect()
    }

    /// The slots of the newest `n` payloads (all for `undefined`/`null`), oldest first.
    pub fn peek(&self, n: JsValue) -> Result<Vec<u32>, JsValue> {
        let n = convert::optional_count(&n, "n")?;
        Ok(self.buffer.peek(n).map(|slot| slot.index).collect())
    }

    /// Discards everything; returns how many payloads were discarded.
    pub fn clear(&mut self) -> u32 {
        self.slots.release_all();
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
