//! Slot indices for values kept on the JS heap: the JS wrapper holds the values in an
//! array indexed by slot, the core holds the slots.

/// Hands out slot indices, reusing released ones first.
///
/// Invariant: an index is either held by exactly one resident value or free.
#[derive(Default)]
pub struct SlotAllocator {
    released: Vec<u32>,
    next_unused: u32,
}

impl SlotAllocator {
    pub fn take(&mut self) -> u32 {
        self.released.pop().unwrap_or_else(|| {
            self.next_unused += 1;
            self.next_unused - 1
        })
    }

    pub fn release(&mut self, index: u32) {
        self.released.push(index);
    }

    pub fn release_all(&mut self) {
        self.released.clear();
        self.next_unused = 0;
    }
}
