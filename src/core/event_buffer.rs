//! A bounded, drop-oldest buffer of connector events, drained on the caller's cadence.
//!
//! Mirrors the autoplay event-connector SDK's `EventBuffer`: `add` never fails; when the
//! buffer is full the oldest item is dropped and handed back to the caller, so nothing is
//! lost silently.

use crate::core::slots::SlotAllocator;
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// How many adds fit before one drops; `None` when unlimited (no add ever drops).
    pub fn room(&self) -> Option<usize> {
        (self.max_size > 0).then(|| self.max_size.saturating_sub(self.items.len()))
    }

    /// The `index`-th oldest item (`0` is the oldest).
    pub fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index)
    }
}

/// A payload the caller keeps in slot `slot` of its own array, as the core records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slotted {
    slot: u32,
    kind: PayloadKind,
}

/// What one add does: the slot the new payload goes to and whether the payload held there
/// until now is dropped by this add (a dropping add reuses the slot of the payload it drops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub slot: u32,
    pub dropped: bool,
}

impl Placement {
    /// `slot << 1 | dropped`, the encoding the wasm boundary uses. Lossless because a slot
    /// is below the number of resident payloads, and each takes 8 bytes of a 4 GiB memory.
    pub fn encode(self) -> u32 {
        self.slot << 1 | self.dropped as u32
    }
}

/// An [`EventBuffer`] of payloads that the caller keeps in an array of numbered slots, while
/// this core decides their order, the bound and every drop.
///
/// Adds can be batched: [`SlottedEventBuffer::lease`] plans the next adds (which slot each
/// payload goes to, and whether it drops the payload held there) without changing anything;
/// the caller carries out a prefix of the plan on its side, then reports that prefix's kinds
/// with [`SlottedEventBuffer::commit`], which performs exactly those adds here.
///
/// Invariants:
/// - the slots of the resident payloads are distinct, and none of them is free in `slots`;
/// - `lease[next_step..]` is exactly what the next adds will do from the current state:
///   `commit` performs its first steps and moves `next_step` past them, and every other
///   mutation (add, drain, drain by kind, clear, a new lease) replaces or empties it. Reads
///   leave it valid.
#[derive(Debug, Clone)]
pub struct SlottedEventBuffer {
    buffer: EventBuffer<Slotted>,
    slots: SlotAllocator,
    lease: Vec<Placement>,
    next_step: usize,
}

impl SlottedEventBuffer {
    /// A buffer bounded at `max_size` payloads; `0` means unlimited.
    pub fn new(max_size: usize) -> Self {
        SlottedEventBuffer {
            buffer: EventBuffer::new(max_size),
            slots: SlotAllocator::default(),
            lease: Vec::new(),
            next_step: 0,
        }
    }

    /// Places one payload of kind `kind`. A dropping add hands the new payload the slot of
    /// the payload it drops.
    pub fn add(&mut self, kind: PayloadKind) -> Placement {
        self.end_lease();
        self.place(kind)
    }

    fn place(&mut self, kind: PayloadKind) -> Placement {
        let placement = match self.buffer.oldest() {
            Some(oldest) if self.buffer.is_full() => Placement {
                slot: oldest.slot,
                dropped: true,
            },
            _ => Placement {
                slot: self.slots.take(),
                dropped: false,
            },
        };
        self.buffer.add(Slotted {
            slot: placement.slot,
            kind,
        });
        placement
    }

    /// Plans the next `steps` adds, whatever their kinds, replacing any earlier lease: the
    /// `j`-th placement is what the `j`-th add from now will do. Nothing else changes.
    pub fn lease(&mut self, steps: usize) -> &[Placement] {
        let mut lease = std::mem::take(&mut self.lease);
        self.plan_into(steps, &mut lease);
        self.lease = lease;
        self.next_step = 0;
        &self.lease
    }

    fn end_lease(&mut self) {
        self.lease.clear();
        self.next_step = 0;
    }

    /// What the next `steps` adds will do, without changing anything.
    ///
    /// Adds `0..room` take fresh slots; from then on every add drops the oldest payload,
    /// which for the `j`-th add is element `j - room` of the resident payloads followed by
    /// the planned ones.
    pub fn plan(&self, steps: usize) -> Vec<Placement> {
        let mut plan = Vec::new();
        self.plan_into(steps, &mut plan);
        plan
    }

    fn plan_into(&self, steps: usize, plan: &mut Vec<Placement>) {
        let room = self.buffer.room().unwrap_or(usize::MAX).min(steps);
        let resident = self.buffer.len();
        plan.clear();
        plan.reserve(steps);
        plan.extend(self.slots.upcoming().take(room).map(|slot| Placement {
            slot,
            dropped: false,
        }));
        for victim in 0..steps - room {
            let slot = match self.buffer.get(victim) {
                Some(oldest) => oldest.slot,
                None => plan[victim - resident].slot,
            };
            plan.push(Placement {
                slot,
                dropped: true,
            });
        }
    }

    /// Performs the first `kinds.len()` steps of the lease, with those kinds; the rest of
    /// the lease stays valid.
    ///
    /// # Panics
    /// When `kinds` is longer than what is left of the lease: the caller carried out steps
    /// it was never given, so its slots no longer match this core.
    pub fn commit(&mut self, kinds: impl ExactSizeIterator<Item = PayloadKind>) {
        let leased = self.lease.len() - self.next_step;
        assert!(
            kinds.len() <= leased,
            "commit of {} steps, {leased} leased",
            kinds.len()
        );
        for kind in kinds {
            let placed = self.place(kind);
            debug_assert_eq!(placed, self.lease[self.next_step]);
            self.next_step += 1;
        }
    }

    /// The slots of every payload, oldest first; all slots become free.
    pub fn drain(&mut self) -> Vec<u32> {
        self.end_lease();
        self.slots.release_all();
        self.buffer
            .drain()
            .into_iter()
            .map(|item| item.slot)
            .collect()
    }

    /// The slots of the payloads `filter` matches, oldest first; those slots become free.
    pub fn drain_by_kind(&mut self, filter: KindFilter) -> Vec<u32> {
        self.end_lease();
        let taken = self.buffer.drain_where(|item| filter.matches(item.kind));
        taken
            .into_iter()
            .map(|item| {
                self.slots.release(item.slot);
                item.slot
            })
            .collect()
    }

    /// The slots of the newest `n` payloads (all for `None`), oldest first.
    pub fn peek(&self, n: Option<usize>) -> impl Iterator<Item = u32> + '_ {
        self.buffer.peek(n).map(|item| item.slot)
    }

    /// Discards every payload; returns how many there were.
    pub fn clear(&mut self) -> usize {
        self.end_lease();
        self.slots.release_all();
        self.buffer.clear()
    }

    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// The bound; `0` means unlimited.
    pub fn max_size(&self) -> usize {
        self.buffer.max_size()
    }

    /// Payloads dropped to make room, over the buffer's lifetime.
    pub fn dropped_count(&self) -> u64 {
        self.buffer.dropped_count()
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

    use PayloadKind::{Actions, Other, Summary};

    const BOTH: KindFilter = KindFilter {
        actions: true,
        summaries: true,
    };

    fn kinds(n: usize) -> Vec<PayloadKind> {
        [Actions, Summary, Other, Actions, Actions]
            .into_iter()
            .cycle()
            .take(n)
            .collect()
    }

    fn placed(slot: u32, dropped: bool) -> Placement {
        Placement { slot, dropped }
    }

    /// Everything a caller can observe of a slotted buffer, and what its next adds would do.
    fn observed(buffer: &SlottedEventBuffer) -> (Vec<u32>, usize, u64, Vec<Placement>) {
        (
            buffer.peek(None).collect(),
            buffer.len(),
            buffer.dropped_count(),
            buffer.plan(2 * buffer.max_size() + 8),
        )
    }

    /// Buffers in assorted states: empty, partly full, full, with freed slots.
    fn assorted(max_size: usize) -> Vec<SlottedEventBuffer> {
        let mut states = Vec::new();
        for resident in [0, 1, max_size / 2, max_size, max_size + 3] {
            let mut buffer = SlottedEventBuffer::new(max_size);
            for kind in kinds(resident) {
                buffer.add(kind);
            }
            states.push(buffer.clone());
            buffer.drain_by_kind(KindFilter {
                actions: false,
                summaries: true,
            });
            states.push(buffer);
        }
        states
    }

    #[test]
    fn slotted_add_reuses_the_dropped_payloads_slot() {
        let mut buffer = SlottedEventBuffer::new(2);
        assert_eq!(buffer.add(Actions), placed(0, false));
        assert_eq!(buffer.add(Summary), placed(1, false));
        assert_eq!(buffer.add(Actions), placed(0, true));
        assert_eq!(buffer.add(Other), placed(1, true));
        assert_eq!(buffer.dropped_count(), 2);
        assert_eq!(buffer.drain(), vec![0, 1]);
    }

    #[test]
    fn plan_then_commit_of_k_steps_equals_k_single_adds() {
        for max_size in [0, 1, 2, 3, 7, 1000] {
            for start in assorted(max_size) {
                for steps in [1, 4, 16] {
                    for k in 0..=steps {
                        let mut leased = start.clone();
                        let plan = leased.lease(steps).to_vec();
                        leased.commit(kinds(k).into_iter());
                        let mut single = start.clone();
                        let placements: Vec<Placement> =
                            kinds(k).into_iter().map(|kind| single.add(kind)).collect();
                        let context = format!("max_size {max_size}, {steps} steps, k {k}");
                        assert_eq!(placements, plan[..k], "{context}");
                        assert_eq!(observed(&leased), observed(&single), "{context}");
                        assert_eq!(leased.plan(steps - k), plan[k..], "{context}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_lease_commits_in_pieces_and_survives_reads() {
        let start = &assorted(3)[3];
        let mut leased = start.clone();
        let plan = leased.lease(10).to_vec();
        leased.commit(kinds(4).into_iter());
        let _ = (
            leased.len(),
            leased.peek(Some(2)).count(),
            leased.dropped_count(),
        );
        leased.commit(kinds(10).into_iter().skip(4));
        let mut single = start.clone();
        let placements: Vec<Placement> = kinds(10).into_iter().map(|k| single.add(k)).collect();
        assert_eq!(placements, plan);
        assert_eq!(observed(&leased), observed(&single));
    }

    #[test]
    fn plan_and_lease_change_nothing_observable() {
        for max_size in [0, 1, 5] {
            for mut buffer in assorted(max_size) {
                let before = buffer.clone();
                let plan = buffer.lease(12).to_vec();
                assert_eq!(buffer.buffer, before.buffer);
                assert_eq!(buffer.slots, before.slots);
                assert_eq!(buffer.plan(12), plan);
                assert_eq!(observed(&buffer), observed(&before));
            }
        }
    }

    #[test]
    fn plan_at_max_size_one_drops_from_the_second_add_on_in_one_slot() {
        let buffer = SlottedEventBuffer::new(1);
        let expected = [
            placed(0, false),
            placed(0, true),
            placed(0, true),
            placed(0, true),
        ];
        assert_eq!(buffer.plan(4), expected);
    }

    #[test]
    fn plan_within_a_larger_bound_drops_only_once_full() {
        let buffer = SlottedEventBuffer::new(1000);
        assert!(buffer.plan(64).iter().all(|p| !p.dropped));
        let mut buffer = SlottedEventBuffer::new(5);
        for kind in kinds(3) {
            buffer.add(kind);
        }
        let plan = buffer.plan(9);
        let expected = [
            placed(3, false),
            placed(4, false),
            placed(0, true), // the three resident payloads, oldest first
            placed(1, true),
            placed(2, true),
            placed(3, true), // then the planned ones
            placed(4, true),
            placed(0, true),
            placed(1, true),
        ];
        assert_eq!(plan, expected);
    }

    #[test]
    fn plan_when_unlimited_never_drops_and_reuses_freed_slots_first() {
        let mut buffer = SlottedEventBuffer::new(0);
        for kind in [Actions, Summary, Actions, Summary] {
            buffer.add(kind);
        }
        assert_eq!(
            buffer.drain_by_kind(KindFilter {
                actions: false,
                summaries: true
            }),
            vec![1, 3]
        );
        let slots: Vec<(u32, bool)> = buffer.plan(4).iter().map(|p| (p.slot, p.dropped)).collect();
        assert_eq!(slots, vec![(3, false), (1, false), (4, false), (5, false)]);
        assert_eq!(buffer.plan(3000).iter().filter(|p| p.dropped).count(), 0);
    }

    #[test]
    #[should_panic(expected = "commit of 3 steps, 2 leased")]
    fn committing_more_than_leased_panics() {
        let mut buffer = SlottedEventBuffer::new(4);
        buffer.lease(2);
        buffer.commit(kinds(3).into_iter());
    }

    #[test]
    #[should_panic(expected = "commit of 1 steps, 0 leased")]
    fn a_drain_ends_the_lease() {
        let mut buffer = SlottedEventBuffer::new(4);
        buffer.lease(8);
        buffer.commit(kinds(2).into_iter());
        buffer.drain_by_kind(BOTH);
        buffer.commit(kinds(1).into_iter());
    }

    #[test]
    fn every_mutation_but_commit_ends_the_lease() {
        let mutations: [fn(&mut SlottedEventBuffer); 4] = [
            |b| drop(b.add(Actions)),
            |b| drop(b.drain()),
            |b| drop(b.drain_by_kind(BOTH)),
            |b| drop(b.clear()),
        ];
        for mutate in mutations {
            let mut buffer = SlottedEventBuffer::new(3);
            buffer.lease(4);
            mutate(&mut buffer);
            buffer.commit(std::iter::empty());
            let ended = std::panic::catch_unwind(move || buffer.commit(kinds(1).into_iter()));
            assert!(ended.is_err());
        }
    }

    /// Random interleavings of leases, partial commits, reads and the other mutations agree
    /// with a twin that only ever adds one payload at a time.
    #[test]
    fn random_interleavings_match_single_adds() {
        let mut seed: u64 = 0x5eed;
        let mut next = |bound: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % bound
        };
        for max_size in [0, 1, 2, 5, 40] {
            let mut leased = SlottedEventBuffer::new(max_size);
            let mut single = SlottedEventBuffer::new(max_size);
            let mut plan: Vec<Placement> = Vec::new();
            for _ in 0..4000 {
                match next(20) {
                    0 => assert_eq!(leased.drain(), single.drain()),
                    1 => assert_eq!(leased.clear(), single.clear()),
                    2 | 3 => {
                        let filter = KindFilter {
                            actions: next(2) == 0,
                            summaries: next(2) == 0,
                        };
                        assert_eq!(leased.drain_by_kind(filter), single.drain_by_kind(filter));
                    }
                    4 => assert_eq!(observed(&leased), observed(&single)),
                    _ => {
                        if plan.is_empty() {
                            plan = leased.lease(1 + next(60) as usize).to_vec();
                            plan.reverse();
                        }
                        let k = (next(8) as usize).min(plan.len());
                        let batch: Vec<PayloadKind> = (0..k)
                            .map(|_| PayloadKind::from_tag(next(4) as u8))
                            .collect();
                        leased.commit(batch.iter().copied());
                        for kind in batch {
                            assert_eq!(Some(single.add(kind)), plan.pop());
                        }
                        continue;
                    }
                }
                plan.clear();
            }
            assert_eq!(observed(&leased), observed(&single));
        }
    }
}
