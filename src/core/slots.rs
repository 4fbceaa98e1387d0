//! Slot indices for values kept on the JS heap: the JS wrapper holds the values in an
//! array indexed by slot, the core holds the slots.

/// Hands out slot indices, reusing released ones first.
///
/// Invariant: an index is either held by exactly one resident value or free.
#[derive(Default, Debug, Clone, PartialEq, Eq)]
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

    /// The indices that successive [`SlotAllocator::take`]s would return, in that order,
    /// without taking any.
    pub fn upcoming(&self) -> impl Iterator<Item = u32> + '_ {
        self.released
            .iter()
            .rev()
            .copied()
            .chain(self.next_unused..)
    }

    pub fn release(&mut self, index: u32) {
        self.released.push(index);
    }

    pub fn release_all(&mut self) {
        self.released.clear();
        self.next_unused = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upcoming_predicts_takes_without_taking() {
        let mut slots = SlotAllocator::default();
        for _ in 0..5 {
            slots.take();
        }
        slots.release(3);
        slots.release(1);
        let predicted: Vec<u32> = slots.upcoming().take(4).collect();
        assert_eq!(predicted, vec![1, 3, 5, 6]);
        let taken: Vec<u32> = (0..4).map(|_| slots.take()).collect();
        assert_eq!(taken, predicted);
    }
}
