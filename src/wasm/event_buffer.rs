//! `EventBufferCore`: the ring of an `EventBuffer` whose payloads stay on the JS heap.
//!
//! Converting a payload into Rust costs about a microsecond; the buffer never needs to look
//! inside one. So the core keeps, in arrival order, the kind of each payload at a position
//! (`EventBuffer<PayloadKind>`), and the JS side keeps the payload objects in an array at the
//! same positions. Ordering, the bound, dropping and type-filtered draining are decided in
//! the core. Adds cross the boundary in batches: JS carries out a leased plan of adds and
//! commits the kinds it added.

use crate::core::event_buffer::{EventBuffer, KindFilter, PayloadKind};
use crate::wasm::convert;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct EventBufferCore {
    buffer: EventBuffer<PayloadKind>,
}

fn positions(positions: impl Iterator<Item = usize>) -> Vec<u32> {
    positions.map(|position| position as u32).collect()
}

#[wasm_bindgen]
impl EventBufferCore {
    /// `max_size`: `undefined` for the default 1000, `0` for unlimited.
    #[wasm_bindgen(constructor)]
    pub fn new(max_size: JsValue) -> Result<EventBufferCore, JsValue> {
        let max_size = convert::optional_count(&max_size, "maxSize")?.unwrap_or(1000);
        Ok(EventBufferCore {
            buffer: EventBuffer::new(max_size),
        })
    }

    /// The JS side's lease array, in both directions. On entry `lease[done_from..done_to]`
    /// holds the kind tags of the adds carried out since the last commit, which are
    /// committed. On return `lease[..steps]` holds the next `steps` adds, `position << 1 |
    /// dropped` each (`Placement::encode`).
    pub fn lease(&mut self, lease: &mut [u32], done_from: u32, done_to: u32, steps: u32) {
        self.commit(&lease[done_from as usize..done_to as usize]);
        let steps = (steps as usize).min(lease.len());
        self.buffer.lease(steps).encode_into(&mut lease[..steps]);
    }

    /// Performs the next `kinds.len()` leased adds, one payload kind tag per add.
    pub fn commit(&mut self, kinds: &[u32]) {
        self.buffer.commit(kinds);
    }

    /// Empties the buffer; returns `[oldest, count]`: the `i`-th oldest payload was at
    /// position `(oldest + i) % count`.
    pub fn drain(&mut self) -> Vec<u32> {
        let (oldest, count) = self.buffer.drain_positions();
        vec![oldest as u32, count as u32]
    }

    /// Drains the matching payloads: returns how many, their positions, then the positions
    /// of the kept payloads, each oldest first. The kept payloads move to positions `0..`.
    #[wasm_bindgen(js_name = drainByType)]
    pub fn drain_by_type(&mut self, actions: bool, summaries: bool) -> Vec<u32> {
        let filter = KindFilter { actions, summaries };
        let (taken, kept) = self
            .buffer
            .drain_where_positions(|&kind| filter.matches(kind));
        let count = std::iter::once(taken.len());
        positions(count.chain(taken).chain(kept))
    }

    /// The positions of the newest `n` payloads (all for `undefined`/`null`), oldest first.
    pub fn peek(&self, n: JsValue) -> Result<Vec<u32>, JsValue> {
        let n = convert::optional_count(&n, "n")?;
        Ok(positions(self.buffer.peek_positions(n)))
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
