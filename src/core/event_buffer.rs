//! A bounded, drop-oldest buffer of connector events, drained on the caller's cadence.
//!
//! Mirrors the autoplay event-connector SDK's `EventBuffer`: `add` never fails; when the
//! buffer is full the oldest item is dropped and handed back to the caller, so nothing is
//! lost silently.
//!
//! Items sit at numbered positions that callers may rely on: the wasm binding keeps an
//! `EventBuffer<PayloadKind>` and each payload object in a JS array at its item's position.
//! Adds can be planned ahead and carried out in a batch ([`EventBuffer::lease`],
//! [`EventBuffer::commit`]), so that a caller across a costly boundary crosses it once per
//! batch instead of once per add.

/// What a buffered item is, as far as [`EventBuffer::drain_where`] callers care.
///
/// The discriminants are part of the wasm boundary: the JS side sends them as tags
/// (`kind as u32`).
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadKind {
    /// Neither an actions nor a summary payload; never matched by a type filter.
    Other = 0,
    Actions = 1,
    Summary = 2,
}

impl PayloadKind {
    /// The inverse of `kind as u32`; unknown tags are `Other`.
    pub fn from_tag(tag: u32) -> Self {
        match tag {
            1 => PayloadKind::Actions,
            2 => PayloadKind::Summary,
            _ => PayloadKind::Other,
        }
    }
}

impl From<u32> for PayloadKind {
    fn from(tag: u32) -> Self {
        PayloadKind::from_tag(tag)
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

/// What one add does: the position its item goes to, and whether the item held there until
/// then is dropped by this add (a dropping add puts its item where the dropped one was).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub position: usize,
    pub dropped: bool,
}

impl Placement {
    /// `position << 1 | dropped`, the encoding the wasm boundary uses. Lossless there: a
    /// position is below the number of resident payloads, and the JS array holding them
    /// cannot reach 2^31 elements within V8's heap.
    pub fn encode(self) -> u32 {
        (self.position as u32) << 1 | self.dropped as u32
    }
}

/// A FIFO buffer that holds at most `max_size` items (`0` = unlimited).
///
/// Invariants:
/// - items are kept in arrival order; every read returns them oldest first;
/// - `len() <= max_size` whenever `max_size > 0`: a full buffer makes room by dropping
///   exactly its oldest item, which [`EventBuffer::add`] returns;
/// - `dropped_count` counts every item dropped that way over the buffer's lifetime;
///   drains and clears are the caller's own doing and are not drops;
/// - positions: `ring` holds exactly the resident items, the `i`-th oldest at position
///   `(head + i) % len()`, and `head` is 0 unless the buffer is full. So an add puts its item
///   at position `len()` when the buffer is not full, and otherwise at the position of the
///   item it drops. Items move only in [`EventBuffer::drain_where_positions`];
/// - lease: the next `leased` adds will happen as [`EventBuffer::plan`] described them when
///   they were leased. Only [`EventBuffer::commit`], which performs them, changes the buffer
///   while a lease is held; every other mutation ends the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBuffer<T> {
    ring: Vec<T>,
    head: usize,
    max_size: usize,
    dropped_count: u64,
    leased: usize,
}

impl<T> EventBuffer<T> {
    /// A buffer bounded at `max_size` items; `0` means unlimited.
    pub fn new(max_size: usize) -> Self {
        let initial_capacity = if max_size == 0 { 0 } else { max_size.min(1024) };
        EventBuffer {
            ring: Vec::with_capacity(initial_capacity),
            head: 0,
            max_size,
            dropped_count: 0,
            leased: 0,
        }
    }

    /// Appends `item`. When the buffer was full, returns the oldest item, which it dropped.
    pub fn add(&mut self, item: T) -> Option<T> {
        self.leased = 0;
        self.place(item)
    }

    fn place(&mut self, item: T) -> Option<T> {
        if !self.is_full() {
            self.ring.push(item);
            return None;
        }
        let dropped = std::mem::replace(&mut self.ring[self.head], item);
        self.head = if self.head + 1 == self.max_size {
            0
        } else {
            self.head + 1
        };
        self.dropped_count += 1;
        Some(dropped)
    }

    /// What the next adds will do, in order, without changing anything. Endless: take as
    /// many steps as needed.
    pub fn plan(&self) -> Plan {
        Plan {
            next: if self.is_full() {
                self.head
            } else {
                self.ring.len()
            },
            wrap_at: if self.max_size == 0 {
                usize::MAX
            } else {
                self.max_size
            },
            room: self.room().unwrap_or(usize::MAX),
        }
    }

    /// Promises that the next `steps` adds will be [`EventBuffer::commit`]ted as
    /// [`EventBuffer::plan`] describes them, and returns that plan: its first `steps` steps
    /// are leased. Replaces any earlier lease.
    pub fn lease(&mut self, steps: usize) -> Plan {
        self.leased = steps;
        self.plan()
    }

    /// Performs the next leased adds, one per item (converted into `T`), exactly as planned.
    /// The items they drop are the ones the plan named, and are discarded: the caller dealt
    /// with them when it carried out the plan. The rest of the lease stays valid.
    ///
    /// # Panics
    /// When there are more items than leased steps left: the caller carried out steps it
    /// was never given, so its positions no longer match this buffer.
    pub fn commit<S: Copy>(&mut self, items: &[S])
    where
        T: From<S>,
    {
        assert!(
            items.len() <= self.leased,
            "commit of {} adds, {} leased",
            items.len(),
            self.leased
        );
        self.leased -= items.len();
        // The same as one `place` per item, a run at a time: first the adds that fit, then
        // the dropping ones, up to the end of the ring and from its start again.
        let fitting = self.room().unwrap_or(usize::MAX).min(items.len());
        let (fitting, mut dropping) = items.split_at(fitting);
        self.ring.extend(fitting.iter().map(|&item| T::from(item)));
        while !dropping.is_empty() {
            let run = dropping.len().min(self.max_size - self.head);
            let (replacing, rest) = dropping.split_at(run);
            let replaced = &mut self.ring[self.head..self.head + run];
            for (slot, &item) in replaced.iter_mut().zip(replacing) {
                *slot = T::from(item);
            }
            self.head = (self.head + run) % self.max_size;
            self.dropped_count += run as u64;
            dropping = rest;
        }
    }

    /// Removes and returns every item, oldest first.
    pub fn drain(&mut self) -> Vec<T> {
        self.leased = 0;
        self.ring.rotate_left(self.head);
        self.head = 0;
        self.ring.drain(..).collect()
    }

    /// [`EventBuffer::drain`] for callers that keep things at the items' positions: empties
    /// the buffer and returns the position the oldest item was at and how many items there
    /// were. The `i`-th oldest was at position `(oldest + i) % count`.
    pub fn drain_positions(&mut self) -> (usize, usize) {
        let drained = (self.head, self.len());
        self.clear();
        drained
    }

    /// Removes and returns, oldest first, the items for which `take` is true; the others
    /// stay in their order.
    pub fn drain_where(&mut self, mut take: impl FnMut(&T) -> bool) -> Vec<T> {
        let oldest_first = self.drain();
        let mut taken = Vec::new();
        for item in oldest_first {
            if take(&item) {
                taken.push(item);
            } else {
                self.ring.push(item);
            }
        }
        taken
    }

    /// [`EventBuffer::drain_where`] for callers that keep things at the items' positions, so
    /// the taken items are discarded here: returns the positions the taken items were at and
    /// those the kept items were at, each oldest first. The kept items now sit at positions
    /// `0..`, in order.
    pub fn drain_where_positions(
        &mut self,
        mut take: impl FnMut(&T) -> bool,
    ) -> (Vec<usize>, Vec<usize>) {
        self.leased = 0;
        let len = self.ring.len();
        let mut position = self.head;
        self.ring.rotate_left(self.head);
        self.head = 0;
        let (mut taken, mut kept) = (Vec::new(), Vec::with_capacity(len));
        self.ring.retain(|item| {
            let was_at = position;
            position = if position + 1 == len { 0 } else { position + 1 };
            if take(item) {
                taken.push(was_at);
                false
            } else {
                kept.push(was_at);
                true
            }
        });
        (taken, kept)
    }

    /// The positions of the items, oldest first.
    pub fn positions(&self) -> impl Iterator<Item = usize> {
        self.peek_positions(None)
    }

    /// The positions of the newest `n` items (all of them for `None`), oldest first.
    pub fn peek_positions(&self, n: Option<usize>) -> impl Iterator<Item = usize> {
        let (head, len) = (self.head, self.ring.len());
        let skip = n.map_or(0, |n| len.saturating_sub(n));
        // The oldest item is at `head`: the ring from there to its end, then from its start.
        (head..len).chain(0..head).skip(skip)
    }

    /// The newest `n` items (all of them for `None`), oldest first, without removing them.
    pub fn peek(&self, n: Option<usize>) -> impl Iterator<Item = &T> {
        self.peek_positions(n).map(|position| &self.ring[position])
    }

    /// Discards every item; returns how many there were.
    pub fn clear(&mut self) -> usize {
        self.leased = 0;
        self.head = 0;
        let discarded = self.ring.len();
        self.ring.clear();
        discarded
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
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
        self.max_size > 0 && self.ring.len() >= self.max_size
    }

    /// The item the next drop would take.
    pub fn oldest(&self) -> Option<&T> {
        self.ring.get(self.head)
    }

    /// How many adds fit before one drops; `None` when unlimited (no add ever drops).
    pub fn room(&self) -> Option<usize> {
        (self.max_size > 0).then(|| self.max_size - self.ring.len())
    }
}

/// The adds to come, from [`EventBuffer::plan`]: each new item goes to `next`, which wraps
/// around at the bound; the first `room` adds drop nothing and every later one drops.
#[derive(Clone, Debug)]
pub struct Plan {
    next: usize,
    wrap_at: usize,
    room: usize,
}

impl Plan {
    /// Writes the next `out.len()` steps into `out`, encoded ([`Placement::encode`]), and
    /// moves past them.
    pub fn encode_into(&mut self, out: &mut [u32]) {
        let mut out = out;
        while !out.is_empty() {
            // A run of steps at consecutive positions that all drop or all do not.
            let until_drops = if self.room == 0 {
                usize::MAX
            } else {
                self.room
            };
            let run = out.len().min(self.wrap_at - self.next).min(until_drops);
            let (encoded, rest) = std::mem::take(&mut out).split_at_mut(run);
            let dropped = (self.room == 0) as u32;
            for (offset, entry) in encoded.iter_mut().enumerate() {
                *entry = ((self.next + offset) as u32) << 1 | dropped;
            }
            self.advance(run);
            out = rest;
        }
    }

    fn advance(&mut self, steps: usize) {
        self.room = self.room.saturating_sub(steps);
        self.next += steps;
        if self.next == self.wrap_at {
            self.next = 0;
        }
    }
}

impl Iterator for Plan {
    type Item = Placement;

    fn next(&mut self) -> Option<Placement> {
        let placement = Placement {
            position: self.next,
            dropped: self.room == 0,
        };
        self.advance(1);
        Some(placement)
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
            assert_eq!(PayloadKind::from_tag(kind as u32), kind);
        }
        assert_eq!(PayloadKind::from_tag(200), PayloadKind::Other);
    }

    /// Everything a caller can observe of a buffer: its items with their positions, oldest
    /// first, the drop count, and what its next adds would do.
    fn observed(buffer: &EventBuffer<i32>) -> (Vec<(usize, i32)>, u64, Vec<Placement>) {
        let items = buffer.positions().map(|p| (p, buffer.ring[p])).collect();
        let plan = buffer.plan().take(2 * buffer.max_size() + 8).collect();
        (items, buffer.dropped_count(), plan)
    }

    /// Buffers in assorted states: empty, partly full, full, full with the oldest item at
    /// any position, after a partial drain.
    fn assorted(max_size: usize) -> Vec<EventBuffer<i32>> {
        let mut states = Vec::new();
        for resident in [0, 1, max_size / 2, max_size, max_size + 1, 2 * max_size + 3] {
            let buffer = filled(max_size, &(0..resident as i32).collect::<Vec<_>>());
            let mut partly_drained = buffer.clone();
            partly_drained.drain_where(|n| n % 3 == 1);
            states.extend([buffer, partly_drained]);
        }
        states
    }

    /// What a single add did, as a plan would have said it: where the new item went, and
    /// whether it dropped the item that was there.
    fn add_placed(buffer: &mut EventBuffer<i32>, item: i32) -> Placement {
        let oldest_at = buffer.positions().next();
        let dropped = buffer.add(item).is_some();
        let position = buffer.positions().last().unwrap();
        if dropped {
            assert_eq!(
                oldest_at,
                Some(position),
                "a drop reuses the dropped item's position"
            );
        }
        Placement { position, dropped }
    }

    fn placed(position: usize, dropped: bool) -> Placement {
        Placement { position, dropped }
    }

    #[test]
    fn positions_stay_put_until_a_partial_drain_compacts_them() {
        let mut buffer = filled(3, &[10, 11, 12, 13]);
        assert_eq!(buffer.positions().collect::<Vec<_>>(), vec![1, 2, 0]);
        assert_eq!(buffer.oldest(), Some(&11));
        let (taken, kept) = buffer.drain_where_positions(|&n| n == 12);
        assert_eq!((taken, kept), (vec![2], vec![1, 0]));
        assert_eq!(buffer.positions().collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(buffer.peek(None).copied().collect::<Vec<_>>(), vec![11, 13]);
        assert_eq!(buffer.peek_positions(Some(1)).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn drain_positions_reports_the_rotation() {
        for max_size in [0, 1, 3, 5] {
            for mut buffer in assorted(max_size) {
                let positions: Vec<usize> = buffer.positions().collect();
                let dropped = buffer.dropped_count();
                let (oldest, count) = buffer.drain_positions();
                let rotation: Vec<usize> = (0..count).map(|i| (oldest + i) % count).collect();
                assert_eq!(rotation, positions);
                assert!(buffer.is_empty());
                assert_eq!(buffer.dropped_count(), dropped, "a drain is not a drop");
            }
        }
    }

    #[test]
    fn plan_then_commit_of_k_steps_equals_k_single_adds() {
        for max_size in [0, 1, 2, 3, 7, 1000] {
            for start in assorted(max_size) {
                for steps in [1, 4, 16] {
                    for k in 0..=steps {
                        let items: Vec<i32> = (100..100 + k as i32).collect();
                        let mut leased = start.clone();
                        let plan: Vec<Placement> = leased.lease(steps).take(steps).collect();
                        leased.commit(&items);
                        let mut single = start.clone();
                        let placements: Vec<Placement> =
                            items.iter().map(|&n| add_placed(&mut single, n)).collect();
                        let context = format!("max_size {max_size}, {steps} steps, k {k}");
                        assert_eq!(placements, plan[..k], "{context}");
                        assert_eq!(observed(&leased), observed(&single), "{context}");
                        let rest: Vec<Placement> = leased.plan().take(steps - k).collect();
                        assert_eq!(rest, plan[k..], "{context}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_lease_commits_in_pieces_and_survives_reads() {
        let start = filled(3, &[1, 2, 3, 4]);
        let mut leased = start.clone();
        let plan: Vec<Placement> = leased.lease(10).take(10).collect();
        leased.commit(&[100, 101, 102, 103]);
        let _ = (leased.len(), leased.peek(Some(2)).count(), leased.oldest());
        leased.commit(&(104..110).collect::<Vec<_>>());
        let mut single = start.clone();
        let placements: Vec<Placement> = (100..110).map(|n| add_placed(&mut single, n)).collect();
        assert_eq!(placements, plan);
        assert_eq!(observed(&leased), observed(&single));
    }

    #[test]
    fn plan_and_lease_change_nothing_observable() {
        for max_size in [0, 1, 5] {
            for mut buffer in assorted(max_size) {
                let before = buffer.clone();
                let plan: Vec<Placement> = buffer.lease(12).take(12).collect();
                assert_eq!(buffer.plan().take(12).collect::<Vec<_>>(), plan);
                assert_eq!(observed(&buffer), observed(&before));
                assert_eq!(buffer.drain(), before.clone().drain());
            }
        }
    }

    #[test]
    fn plan_at_max_size_one_drops_from_the_second_add_on_in_one_position() {
        let plan: Vec<Placement> = EventBuffer::<i32>::new(1).plan().take(4).collect();
        let expected = [
            placed(0, false),
            placed(0, true),
            placed(0, true),
            placed(0, true),
        ];
        assert_eq!(plan, expected);
    }

    #[test]
    fn plan_within_a_larger_bound_drops_only_once_full() {
        let buffer = EventBuffer::<i32>::new(1000);
        assert!(buffer.plan().take(64).all(|p| !p.dropped));
        let buffer = filled(5, &[1, 2, 3]);
        let plan: Vec<Placement> = buffer.plan().take(9).collect();
        let expected = [
            placed(3, false),
            placed(4, false),
            placed(0, true), // drops 1, the oldest
            placed(1, true),
            placed(2, true),
            placed(3, true), // drops the first planned add's item
            placed(4, true),
            placed(0, true),
            placed(1, true),
        ];
        assert_eq!(plan, expected);
    }

    #[test]
    fn plan_when_unlimited_never_drops_and_appends() {
        let mut buffer = filled(0, &[1, 2, 3, 4]);
        buffer.drain_where(|n| n % 2 == 0);
        let plan: Vec<Placement> = buffer.plan().take(3).collect();
        assert_eq!(plan, [placed(2, false), placed(3, false), placed(4, false)]);
        assert!(buffer.plan().take(3000).all(|p| !p.dropped));
    }

    #[test]
    fn encode_into_writes_what_the_plan_iterates() {
        for max_size in [0, 1, 2, 7] {
            for buffer in assorted(max_size) {
                for steps in [0, 1, 3, 20] {
                    let mut plan = buffer.plan();
                    let mut encoded = vec![0; steps];
                    plan.encode_into(&mut encoded);
                    let iterated: Vec<Placement> = buffer.plan().take(steps + 5).collect();
                    let expected: Vec<u32> = iterated[..steps].iter().map(|p| p.encode()).collect();
                    assert_eq!(encoded, expected, "max_size {max_size}, {steps} steps");
                    let after: Vec<Placement> = plan.take(5).collect();
                    assert_eq!(after, iterated[steps..], "the plan continues after them");
                }
            }
        }
        assert_eq!(placed(5, true).encode(), 11);
        assert_eq!(placed(5, false).encode(), 10);
    }

    #[test]
    #[should_panic(expected = "commit of 3 adds, 2 leased")]
    fn committing_more_than_leased_panics() {
        let mut buffer = EventBuffer::<i32>::new(4);
        let _ = buffer.lease(2);
        buffer.commit(&[1, 2, 3]);
    }

    #[test]
    fn every_mutation_but_commit_ends_the_lease() {
        let mutations: [fn(&mut EventBuffer<i32>); 5] = [
            |b| {
                b.add(7);
            },
            |b| drop(b.drain()),
            |b| drop(b.drain_where(|_| false)),
            |b| drop(b.drain_where_positions(|_| true)),
            |b| {
                b.clear();
            },
        ];
        for mutate in mutations {
            let mut buffer = filled(3, &[1, 2]);
            let _ = buffer.lease(4);
            buffer.commit(&[0]);
            mutate(&mut buffer);
            buffer.commit::<i32>(&[]);
            let ended = std::panic::catch_unwind(move || buffer.commit(&[0]));
            assert!(ended.is_err());
        }
    }

    /// Random interleavings of leases, partial commits, single adds, reads and the other
    /// mutations, carried out the way the JS side does (a mirror array indexed by position),
    /// agree with a plain model queue: same order, same drops, every item where the buffer
    /// says it is.
    #[test]
    fn random_interleavings_keep_the_mirror_exact() {
        let mut seed: u64 = 0x5eed;
        let mut next = |bound: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % bound
        };
        for max_size in [0, 1, 2, 5, 40] {
            let mut buffer = EventBuffer::new(max_size);
            let mut model = std::collections::VecDeque::new();
            let mut model_dropped = 0;
            let mut mirror: Vec<i32> = Vec::new();
            let mut plan: Vec<Placement> = Vec::new();
            let mut carried_out: Vec<i32> = Vec::new();
            let mut item = 0;
            for _ in 0..5000 {
                let op = next(24);
                if op >= 6 && !plan.is_empty() {
                    // Carry out the next planned step, as the JS add does.
                    let step = plan.remove(0);
                    item += 1;
                    if step.position == mirror.len() {
                        mirror.push(item);
                    } else {
                        let dropped = std::mem::replace(&mut mirror[step.position], item);
                        assert!(step.dropped, "only a drop overwrites a resident item");
                        assert_eq!(model.pop_front(), Some(dropped), "the oldest is dropped");
                        model_dropped += 1;
                    }
                    model.push_back(item);
                    carried_out.push(item);
                    if max_size > 0 {
                        assert!(model.len() <= max_size);
                    }
                    continue;
                }
                // Anything else first commits what was carried out.
                buffer.commit(&carried_out);
                carried_out.clear();
                match op {
                    0 => {
                        let positions: Vec<usize> = buffer.positions().collect();
                        let drained = if next(2) == 0 {
                            buffer.drain()
                        } else {
                            let (oldest, count) = buffer.drain_positions();
                            (0..count).map(|i| mirror[(oldest + i) % count]).collect()
                        };
                        let via_mirror: Vec<i32> = positions.iter().map(|&p| mirror[p]).collect();
                        assert_eq!(drained, via_mirror);
                        assert_eq!(drained, model.drain(..).collect::<Vec<_>>());
                        mirror.clear();
                        plan.clear();
                    }
                    1 => {
                        assert_eq!(buffer.clear(), model.len());
                        model.clear();
                        mirror.clear();
                        plan.clear();
                    }
                    2 => {
                        let parity = next(2) as i32;
                        let (taken, kept) = buffer.drain_where_positions(|n| n % 2 == parity);
                        let taken: Vec<i32> = taken.iter().map(|&p| mirror[p]).collect();
                        mirror = kept.iter().map(|&p| mirror[p]).collect();
                        let (model_taken, model_kept): (std::collections::VecDeque<i32>, _) =
                            model.iter().copied().partition(|&n| n % 2 == parity);
                        model = model_kept;
                        assert_eq!(taken, Vec::from(model_taken));
                        plan.clear();
                    }
                    3 => {
                        item += 1;
                        let dropped = buffer.add(item);
                        let position = buffer.positions().last().unwrap();
                        let was = (position < mirror.len()).then(|| mirror[position]);
                        assert_eq!(dropped, was);
                        if position == mirror.len() {
                            mirror.push(item);
                        } else {
                            mirror[position] = item;
                        }
                        model.push_back(item);
                        if max_size > 0 && model.len() > max_size {
                            assert_eq!(model.pop_front(), dropped);
                            model_dropped += 1;
                        }
                        plan.clear();
                    }
                    4 => {
                        let n = next(8) as usize;
                        let newest: Vec<i32> = buffer.peek(Some(n)).copied().collect();
                        let skip = model.len().saturating_sub(n);
                        assert_eq!(newest, model.iter().skip(skip).copied().collect::<Vec<_>>());
                    }
                    _ => {
                        if plan.is_empty() {
                            let steps = 1 + next(60) as usize;
                            plan = buffer.lease(steps).take(steps).collect();
                        }
                    }
                }
                let via_mirror: Vec<i32> = buffer.positions().map(|p| mirror[p]).collect();
                assert_eq!(via_mirror, model.iter().copied().collect::<Vec<_>>());
                assert_eq!(buffer.peek(None).copied().collect::<Vec<_>>(), via_mirror);
                assert_eq!(buffer.dropped_count(), model_dropped);
                assert_eq!(mirror.len(), buffer.len());
            }
        }
    }
}
