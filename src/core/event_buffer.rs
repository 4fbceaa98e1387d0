//! A bounded, drop-oldest buffer of connector events, drained on the caller's cadence.
//!
//! Mirrors the autoplay event-connector SDK's `EventBuffer`: `add` never fails; when the
//! buffer is full the oldest item is dropped and handed back to the caller, so nothing is
//! lost silently.

use std::collections::VecDeque;

/// What a buffered item is, as far as [`EventBuffer::drain_where`] callers care.
///
/// The discriminants are part of the wasm boundary: the JS side sends them as a `u8`.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadKind {
    /// Neither an actions nor a summary payload; never matched by a type filter.
    Other = 0,
    Actions = 1,
    Summary = 2,
}

impl PayloadKind {
    /// The inverse of `kind as u8`; unknown tags are `Other`.
    pub fn from_tag(tag: u8) -> Self {
        match tag {
            1 => PayloadKind::Actions,
            2 => PayloadKind::Summary,
            _ => PayloadKind::Other,
        }
    }
}

/// Which kinds a type-filtered drain takes. `Other` items are never taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindFilter {
    pub actions: bool,
    pub summaries: bool,
}

impl KindFilter {
    pub fn matches(self, kind: PayloadKind) -> bool {
        match kind {
            PayloadKind::Actions => self.actions,
            PayloadKind::Summary => self.summaries,
            PayloadKind::Other => false,
        }
    }
}

/// A FIFO buffer that holds at most `max_size` items (`0` = unlimited).
///
/// Invariants:
/// - items are kept in arrival order; every read returns them oldest first;
/// - `len() <= max_size` whenever `max_size > 0`: a full buffer makes room by dropping
///   exactly its oldest item, which [`EventBuffer::add`] returns;
/// - `dropped_count` counts every item dropped that way over the buffer's lifetime;
///   drains and clears are the caller's own doing and are not drops.
#[derive(Debug, Clone)]
pub struct EventBuffer<T> {
    items: VecDeque<T>,
    max_size: usize,
    dropped_count: u64,
}

impl<T> EventBuffer<T> {
    /// A buffer bounded at `max_size` items; `0` means unlimited.
    pub fn new(max_size: usize) -> Self {
        let initial_capacity = if max_size == 0 { 0 } else { max_size.min(1024) };
        EventBuffer {
            items: VecDeque::with_capacity(initial_capacity),
            max_size,
            dropped_count: 0,
        }
    }

    /// Appends `item`. When the buffer was full, returns the oldest item, which it dropped.
    pub fn add(&mut self, item: T) -> Option<T> {
        let dropped = if self.is_full() {
            self.dropped_count += 1;
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(item);
        dropped
    }

    /// Removes and returns every item, oldest first.
    pub fn drain(&mut self) -> Vec<T> {
        self.items.drain(..).collect()
    }

    /// Removes and returns, oldest first, the items for which `take` is true; the others
    /// stay in their order.
    pub fn drain_where(&mut self, mut take: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(self.items.len());
        for item in self.items.drain(..) {
            if take(&item) {
                taken.push(item);
            } else {
                kept.push_back(item);
            }
        }
        self.items = kept;
        taken
    }

    /// The newest `n` items (all of them for `None`), oldest first, without removing them.
    pub fn peek(&self, n: Option<usize>) -> impl Iterator<Item = &T> {
        let len = self.items.len();
        let skip = n.map_or(0, |n| len.saturating_sub(n));
        self.items.iter().skip(skip)
    }

    /// Discards every item; returns how many there were.
    pub fn clear(&mut self) -> usize {
        let discarded = self.items.len();
        self.items.clear();
        discarded
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The bound; `0` means unlimited.
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// Items dropped to make room, over the buffer's lifetime.
    pub fn dropped_count(&self) -> u64 {
        self.dropped_count
    }

    /// True when the next `add` will drop the oldest item.
    pub fn is_full(&self) -> bool {
        self.max_size > 0 && self.items.len() >= self.max_size
    }

    /// The item the next drop would take.
    pub fn oldest(&self) -> Option<&T> {
        self.items.front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(max_size: usize, items: &[i32]) -> EventBuffer<i32> {
        let mut buffer = EventBuffer::new(max_size);
        for &item in items {
            buffer.add(item);
        }
        buffer
    }

    #[test]
    fn drain_returns_arrival_order_and_empties() {
        let mut buffer = filled(10, &[1, 2, 3]);
        assert_eq!(buffer.drain(), vec![1, 2, 3]);
        assert!(buffer.is_empty());
        assert_eq!(buffer.drain(), Vec::<i32>::new());
    }

    #[test]
    fn full_buffer_drops_oldest_and_returns_it() {
        let mut buffer = filled(3, &[1, 2, 3]);
        assert_eq!(buffer.add(4), Some(1));
        assert_eq!(buffer.add(5), Some(2));
        assert_eq!(buffer.len(), 3);
        assert_eq!(buffer.dropped_count(), 2);
        assert_eq!(buffer.drain(), vec![3, 4, 5]);
    }

    #[test]
    fn unlimited_never_drops() {
        let mut buffer = EventBuffer::new(0);
        for i in 0..5000 {
            assert_eq!(buffer.add(i), None);
        }
        assert_eq!(buffer.len(), 5000);
        assert_eq!(buffer.dropped_count(), 0);
        assert_eq!(buffer.max_size(), 0);
    }

    #[test]
    fn max_size_one_keeps_only_newest() {
        let mut buffer = filled(1, &[1]);
        assert_eq!(buffer.add(2), Some(1));
        assert_eq!(buffer.drain(), vec![2]);
    }

    #[test]
    fn peek_returns_newest_n_oldest_first_without_removing() {
        let buffer = filled(10, &[1, 2, 3, 4]);
        assert_eq!(
            buffer.peek(Some(2)).copied().collect::<Vec<_>>(),
            vec![3, 4]
        );
        assert_eq!(
            buffer.peek(None).copied().collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        assert_eq!(buffer.peek(Some(0)).count(), 0);
        assert_eq!(buffer.peek(Some(99)).count(), 4);
        assert_eq!(buffer.len(), 4);
    }

    #[test]
    fn drain_where_keeps_the_rest_in_order() {
        let mut buffer = filled(10, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(buffer.drain_where(|n| n % 2 == 0), vec![2, 4, 6]);
        assert_eq!(buffer.drain(), vec![1, 3, 5]);
    }

    #[test]
    fn drain_where_keeps_the_bound() {
        let mut buffer = filled(3, &[1, 2, 3]);
        buffer.drain_where(|&n| n == 2);
        buffer.add(4);
        assert_eq!(buffer.add(5), Some(1));
        assert_eq!(buffer.drain(), vec![3, 4, 5]);
    }

    #[test]
    fn clear_reports_count_and_is_not_a_drop() {
        let mut buffer = filled(2, &[1, 2, 3]);
        assert_eq!(buffer.clear(), 2);
        assert!(buffer.is_empty());
        assert_eq!(buffer.dropped_count(), 1);
    }

    #[test]
    fn kind_filter_never_matches_other() {
        let both = KindFilter {
            actions: true,
            summaries: true,
        };
        assert!(both.matches(PayloadKind::Actions));
        assert!(both.matches(PayloadKind::Summary));
        assert!(!both.matches(PayloadKind::Other));
        let summaries_only = KindFilter {
            actions: false,
            summaries: true,
        };
        assert!(!summaries_only.matches(PayloadKind::Actions));
        assert!(summaries_only.matches(PayloadKind::Summary));
    }

    #[test]
    fn kind_tags_round_trip() {
        for kind in [
            PayloadKind::Other,
            PayloadKind::Actions,
            PayloadKind::Summary,
        ] {
            assert_eq!(PayloadKind::from_tag(kind as u8), kind);
        }
        assert_eq!(PayloadKind::from_tag(200), PayloadKind::Other);
    }
}
