//! `EventBufferCore`: the ring of an `EventBuffer` whose payloads stay on the JS heap.
//!
//! Converting a payload into Rust costs about a microsecond; the buffer never needs to look
//! inside one. So the core keeps, in arrival order, the kind of each payload at a position
//! (`EventBuffer<PayloadKind>`), and the JS side keeps the payload objects in an array at the
//! same positions. Ordering, the bound, dropping and type-filtered draining are decided in
//! the core. Adds cross the boundary in batches: JS carries out a leased plan of adds and
//! commits the kinds it added. Plans and kinds travel through an array in wasm memory that
//! JS copies to and from, so lease and commit calls pass only integers.

use crate::core::event_buffer::{EventBuffer, KindFilter, PayloadKind};
use crate::wasm::convert;
use wasm_bindgen::prelude::*;

/// The module's `WebAssembly.Memory`, for viewing arrays such as `EventBufferCore`'s lease.
/// A view must be made again after the memory grows (its buffer is then detached).
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

#[wasm_bindgen]
pub struct EventBufferCore {
    buffer: EventBuffer<PayloadKind>,
    /// Shared with JS, which reads planned adds from it and writes kind tags into it. Never
    /// reallocated, so its address stays valid for the life of the core.
    lease: Box<[u32]>,
}

/// Positions as JS receives them. Lossless: see `Placement::encode`.
fn positions(iter: impl Iterator<Item = usize>) -> Vec<u32> {
    iter.map(|position| position as u32).collect()
}

#[wasm_bindgen]
impl EventBufferCore {
    /// `max_size`: `undefined` for the default 1000, `0` for unlimited. `lease_capacity`:
    /// the most adds a lease can hold.
    #[wasm_bindgen(constructor)]
    pub fn new(max_size: JsValue, lease_capacity: u32) -> Result<EventBufferCore, JsValue> {
        let max_size = convert::optional_count(&max_size, "maxSize")?.unwrap_or(1000);
        Ok(EventBufferCore {
            buffer: EventBuffer::new(max_size),
            lease: vec![0; lease_capacity as usize].into_boxed_slice(),
        })
    }

    /// The byte address of the lease array (`lease_capacity` `u32`s) in wasm memory.
    #[wasm_bindgen(getter, js_name = leaseAddress)]
    pub fn lease_address(&self) -> u32 {
        self.lease.as_ptr() as u32
    }

    /// Commits `lease[done_from..done_to]` (see `commit`), then leases the next `steps` adds
    /// into `lease[..steps]`: `position << 1 | dropped` each (`Placement::encode`).
    pub fn lease(&mut self, done_from: u32, done_to: u32, steps: u32) {
        self.commit(done_from, done_to);
        let steps = (steps as usize).min(self.lease.len());
        self.buffer
            .lease(steps)
            .encode_into(&mut self.lease[..steps]);
    }

    /// Performs the next leased adds: JS carried them out and wrote the kind tag of each
    /// one's payload over its entry, `lease[done_from..done_to]`.
    pub fn commit(&mut self, done_from: u32, done_to: u32) {
        let kinds = &self.lease[done_from as usize..done_to as usize];
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
        std::iter::once(taken.len())
            .chain(taken)
            .chain(kept)
            .map(|n| n as u32)
            .collect()
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
