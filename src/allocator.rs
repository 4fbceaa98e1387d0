//! The wasm build's global allocator: segregated size classes over a page-run free list.
//!
//! std's allocator on wasm32-unknown-unknown is dlmalloc, about 8 KB of .wasm. [`Heap`] is a
//! much smaller allocator that keeps memory use close to dlmalloc's for this library's
//! patterns (many small records, plus a few large buffers that grow by doubling). It is a
//! pure state machine over a [`Pages`] source, so `cargo test` exercises it on the host with
//! a fake heap; the wasm build wraps it as the `#[global_allocator]` over `memory.grow`.
//!
//! Two tiers, chosen by the layout alone (so `dealloc`, which gets the same layout, finds
//! the tier and class again without a header):
//! - small: `size <= SMALL_MAX` and `align <= 16`. 40 size classes: multiples of 8 up to 64,
//!   then 4 per power of two (80, 96, 112, 128, 160, ... 16384). A free small block is
//!   pushed on its class's free list and is only reused by that class. New blocks are
//!   carved from a bump region, which is a run taken from the page tier.
//! - large: everything else. Whole runs of `UNIT` (4 KiB) units from the page tier: an
//!   address-ordered list of free runs, first fit, coalesced with both neighbours on free.
//!   Small-tier refills take from the same list, so a freed buffer is reused by anything.
//!   A free run that ends at the top of memory is extended rather than left behind.
//!
//! Waste bounds: a small block is at most 25% larger than the request above 64 bytes
//! (class step / class size < 1/5) and less than 8 bytes larger below; a large block less
//! than 25% larger (rounded up to a unit, and large means > 4 units), except that a small
//! request with `align > 16` takes a whole aligned run (correct but wasteful; no type here
//! needs it); a bump region abandoned for a new one loses less than one unit (its whole
//! units go back to the page tier). Segregation: a freed small block stays in its class, so
//! the memory a class holds is its own peak of live blocks, and the footprint is at most the
//! sum of the classes' peaks (not the peak of their sum). A stable mix of sizes, as in a
//! bounded buffer, stays near its live set (1.17x in the churn test below); a program that
//! frees many blocks of one size and then allocates another size holds both.

/// One wasm page, the granularity of `memory.grow`.
pub const PAGE: usize = 65536;
/// The page tier's granularity: runs are whole units, unit-aligned.
const UNIT: usize = 4096;
/// The largest small class (4 units, so rounding a large request to units wastes < 25%).
const SMALL_MAX: usize = 16384;
/// Number of small classes: 8 multiples of 8 (8..=64), then 4 per power of two to 2^14.
const CLASSES: usize = 40;
/// Units a small-tier refill asks for when it has to grow memory (128 KiB).
const REFILL_UNITS: usize = 32;

/// A source of fresh memory, in whole pages.
///
/// # Safety
/// `grow(n)` returns the address of `n * PAGE` bytes that are PAGE-aligned, writable, owned
/// by the caller from then on and never returned again; or `None` (nothing changed).
pub unsafe trait Pages {
    fn grow(&mut self, pages: usize) -> Option<usize>;
}

/// Allocator state. Addresses are `usize`; 0 means "none" (no source hands out address 0).
///
/// Invariants:
/// - Every byte obtained from `pages` is in exactly one of: a live block handed out, a
///   small free list, the bump region `bump..bump_end`, a free run, or a lost remnant
///   (the part of an abandoned bump region below its next unit boundary, < 1 unit). So no
///   two live blocks overlap, and a free block is never also live.
/// - `small[c]` heads a singly linked list (next pointer in each block's first word) of free
///   blocks of exactly `class_size(c)` bytes. Every small block is 8-aligned, and 16-aligned
///   when its class size is a multiple of 16 (all classes a request with `align == 16` maps
///   to are).
/// - `bump` is 8-aligned, `bump <= bump_end`, and `bump_end` is unit-aligned (or both are 0).
/// - `runs` heads a list of free runs sorted by address, never adjacent (adjacent runs are
///   merged on free); each run is unit-aligned, at least one unit, and stores
///   `[next, units]` in its first two words.
/// - `top` is the end of the most recent memory from `pages`; growth that starts there
///   extends a free run that ends there.
/// - When `pages` refuses to grow, the operation returns null and the heap is unchanged
///   apart from having moved free memory between its free lists (so Rust's
///   `handle_alloc_error` applies, and a failed `realloc` leaves the old block valid).
pub struct Heap<P> {
    pages: P,
    small: [usize; CLASSES],
    bump: usize,
    bump_end: usize,
    runs: usize,
    top: usize,
}

/// The small class for `size` (1..=SMALL_MAX).
fn class_of(size: usize) -> usize {
    if size <= 64 {
        size.max(1).div_ceil(8) - 1
    } else {
        let s = size - 1;
        let log = (usize::BITS - 1 - s.leading_zeros()) as usize; // 6..=13
        8 + (log - 6) * 4 + ((s >> (log - 2)) & 3)
    }
}

/// The block size of small class `c`.
fn class_size(c: usize) -> usize {
    if c < 8 {
        (c + 1) * 8
    } else {
        let log = 6 + (c - 8) / 4;
        (1 << log) + (((c - 8) % 4 + 1) << (log - 2))
    }
}

fn is_small(size: usize, align: usize) -> bool {
    size <= SMALL_MAX && align <= 16
}

/// The small class for a small layout: a 16-aligned request maps to a multiple-of-16 class.
fn small_class(size: usize, align: usize) -> usize {
    class_of(if align > 8 { (size + 15) & !15 } else { size })
}

fn units_of(size: usize) -> usize {
    size.div_ceil(UNIT)
}

unsafe fn word(addr: usize, i: usize) -> usize {
    *(addr as *const usize).add(i)
}

unsafe fn set_word(addr: usize, i: usize, value: usize) {
    *(addr as *mut usize).add(i) = value;
}

impl<P: Pages> Heap<P> {
    pub const fn new(pages: P) -> Self {
        Heap {
            pages,
            small: [0; CLASSES],
            bump: 0,
            bump_end: 0,
            runs: 0,
            top: 0,
        }
    }

    /// A block of at least `size` bytes aligned to `align` (a power of two), or null.
    ///
    /// # Safety
    /// The heap must own the memory its source gave it (nothing else writes there).
    pub unsafe fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        if is_small(size, align) {
            return self.alloc_small(small_class(size, align));
        }
        let units = units_of(size);
        match self.take_run(units, units, align.max(UNIT)) {
            Some((addr, _)) => addr as *mut u8,
            None => core::ptr::null_mut(),
        }
    }

    /// Frees a block from `alloc`/`realloc` with the same `size` and `align`.
    ///
    /// # Safety
    /// `ptr` is live and was allocated by this heap with this layout.
    pub unsafe fn dealloc(&mut self, ptr: *mut u8, size: usize, align: usize) {
        let addr = ptr as usize;
        if is_small(size, align) {
            let c = small_class(size, align);
            set_word(addr, 0, self.small[c]);
            self.small[c] = addr;
        } else {
            self.free_run(addr, units_of(size));
        }
    }

    /// Resizes a block: in place when the new size keeps the block's class (small) or its
    /// run can shrink or extend into free memory after it (large); otherwise allocates,
    /// copies and frees. Null (old block intact) when memory cannot grow.
    ///
    /// # Safety
    /// As `dealloc`; `new_size` is not 0.
    pub unsafe fn realloc(
        &mut self,
        ptr: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut u8 {
        let addr = ptr as usize;
        match (is_small(size, align), is_small(new_size, align)) {
            (true, true) if small_class(size, align) == small_class(new_size, align) => return ptr,
            (false, false) => {
                let (old, new) = (units_of(size), units_of(new_size));
                if new <= old {
                    if new < old {
                        self.free_run(addr + new * UNIT, old - new);
                    }
                    return ptr;
                }
                if self.extend_run(addr + old * UNIT, new - old) {
                    return ptr;
                }
            }
            _ => {}
        }
        let moved = self.alloc(new_size, align);
        if !moved.is_null() {
            core::ptr::copy_nonoverlapping(ptr, moved, size.min(new_size));
            self.dealloc(ptr, size, align);
        }
        moved
    }

    unsafe fn alloc_small(&mut self, c: usize) -> *mut u8 {
        let head = self.small[c];
        if head != 0 {
            self.small[c] = word(head, 0);
            return head as *mut u8;
        }
        let size = class_size(c);
        if size % 16 == 0 && self.bump % 16 != 0 && self.bump < self.bump_end {
            // Align to 16; the 8-byte gap is a block of class 0 (bump_end is unit-aligned).
            self.dealloc(self.bump as *mut u8, 8, 8);
            self.bump += 8;
        }
        if self.bump_end - self.bump < size {
            // Give the old region's whole units back, then take a new one.
            let whole = (self.bump + UNIT - 1) & !(UNIT - 1);
            if whole < self.bump_end {
                self.free_run(whole, (self.bump_end - whole) / UNIT);
            }
            (self.bump, self.bump_end) = (0, 0);
            match self.take_run(units_of(size), REFILL_UNITS, UNIT) {
                Some((addr, units)) => (self.bump, self.bump_end) = (addr, addr + units * UNIT),
                None => return core::ptr::null_mut(),
            }
        }
        let block = self.bump;
        self.bump += size;
        block as *mut u8
    }

    /// Takes a run of `min..=want` units whose start is `align`-aligned (`align >= UNIT`):
    /// first fit in the free runs, else grows memory. Returns its address and length.
    unsafe fn take_run(&mut self, min: usize, want: usize, align: usize) -> Option<(usize, usize)> {
        let mut contiguous = true;
        loop {
            // First fit; `link` is the word pointing at `run` (the head, or the previous run's `next`).
            let mut link: *mut usize = &mut self.runs;
            let mut top_run = 0;
            while *link != 0 {
                let run = *link;
                let end = run + word(run, 1) * UNIT;
                let start = (run + align - 1) & !(align - 1);
                if start < end && (end - start) / UNIT >= min {
                    let units = ((end - start) / UNIT).min(want);
                    self.carve(link, start, units);
                    return Some((start, units));
                }
                if end == self.top {
                    top_run = end - run;
                }
                link = run as *mut usize;
            }
            // Grow: a free run at the top counts (when the source grows contiguously).
            let credit = if contiguous && align == UNIT {
                top_run
            } else {
                0
            };
            let slack = if align > UNIT { align } else { 0 };
            let need = want.max(min).checked_mul(UNIT)?.checked_add(slack)? - credit;
            let pages = need.div_ceil(PAGE);
            let addr = self.pages.grow(pages)?;
            contiguous = addr == self.top;
            self.top = addr + pages * PAGE;
            self.free_run(addr, pages * PAGE / UNIT);
        }
    }

    /// Removes `start .. start + units * UNIT` from the free run `*link` (which contains it),
    /// keeping what is left before and after it as free runs, in address order.
    unsafe fn carve(&mut self, link: *mut usize, start: usize, units: usize) {
        let run = *link;
        let end = run + word(run, 1) * UNIT;
        let mut next = word(run, 0);
        let after = start + units * UNIT;
        if after < end {
            set_word(after, 0, next);
            set_word(after, 1, (end - after) / UNIT);
            next = after;
        }
        if start > run {
            set_word(run, 0, next);
            set_word(run, 1, (start - run) / UNIT);
        } else {
            *link = next;
        }
    }

    /// Grows a large block ending at `end` by `extra` units in place, if the memory after it
    /// is a free run (or the top of memory) with room. False (nothing lost) otherwise.
    unsafe fn extend_run(&mut self, end: usize, extra: usize) -> bool {
        let mut link: *mut usize = &mut self.runs;
        while *link != 0 && *link < end {
            link = *link as *mut usize;
        }
        let (have, free_end) = if *link == end {
            (word(end, 1), end + word(end, 1) * UNIT)
        } else {
            (0, end)
        };
        if have < extra {
            if free_end != self.top {
                return false;
            }
            let pages = ((extra - have) * UNIT).div_ceil(PAGE);
            let Some(addr) = self.pages.grow(pages) else {
                return false;
            };
            let contiguous = addr == self.top;
            self.top = addr + pages * PAGE;
            self.free_run(addr, pages * PAGE / UNIT);
            if !contiguous {
                return false;
            }
            // `*link` is now the run starting at `end` (it was created or extended).
        }
        self.carve(link, end, extra);
        true
    }

    /// Returns `units` units at `addr` to the free runs, merging with adjacent runs.
    unsafe fn free_run(&mut self, addr: usize, mut units: usize) {
        let mut link: *mut usize = &mut self.runs;
        while *link != 0 && *link < addr {
            link = *link as *mut usize;
        }
        let mut next = *link;
        debug_assert!(
            next == 0 || addr + units * UNIT <= next,
            "freed run overlaps a free run"
        );
        if next != 0 && addr + units * UNIT == next {
            units += word(next, 1);
            next = word(next, 0);
        }
        let prev = link as usize; // the previous run's address (its `next` is its first word)
        if !core::ptr::eq(link, &self.runs) {
            let prev_end = prev + word(prev, 1) * UNIT;
            debug_assert!(prev_end <= addr, "freed run overlaps a free run");
            if prev_end == addr {
                set_word(prev, 0, next);
                set_word(prev, 1, word(prev, 1) + units);
                return;
            }
        }
        set_word(addr, 0, next);
        set_word(addr, 1, units);
        *link = addr;
    }
}

/// The `#[global_allocator]` of the wasm build: a [`Heap`] over `memory.grow`.
/// (Threads would need a lock; a build with the atomics feature keeps std's allocator.)
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod wasm {
    use super::{Heap, Pages, PAGE};
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    struct MemoryGrow;

    // SAFETY: memory.grow hands out fresh zeroed pages past the old end, page-aligned; only
    // this allocator grows memory 0.
    unsafe impl Pages for MemoryGrow {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            let old = core::arch::wasm32::memory_grow(0, pages);
            (old != usize::MAX).then(|| old * PAGE)
        }
    }

    struct Global(UnsafeCell<Heap<MemoryGrow>>);

    // SAFETY: wasm32 without the atomics feature is single-threaded, and the heap never
    // calls back into the allocator, so there is never more than one `&mut Heap` at a time.
    unsafe impl Sync for Global {}

    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            (*self.0.get()).alloc(layout.size(), layout.align())
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            (*self.0.get()).dealloc(ptr, layout.size(), layout.align())
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            (*self.0.get()).realloc(ptr, layout.size(), layout.align(), new_size)
        }
    }

    #[global_allocator]
    static GLOBAL: Global = Global(UnsafeCell::new(Heap::new(MemoryGrow)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::Layout;

    /// A fake linear memory: `limit` pages reserved up front, handed out in order; with
    /// `gap`, one page is skipped between grows (a non-contiguous source).
    struct FakePages {
        base: usize,
        limit: usize,
        used: usize,
        gap: bool,
    }

    impl FakePages {
        fn new(limit: usize) -> Self {
            let layout = Layout::from_size_align(limit * PAGE, PAGE).unwrap();
            let base = unsafe { std::alloc::alloc(layout) } as usize;
            assert_ne!(base, 0);
            FakePages {
                base,
                limit,
                used: 0,
                gap: false,
            }
        }
    }

    impl Drop for FakePages {
        fn drop(&mut self) {
            let layout = Layout::from_size_align(self.limit * PAGE, PAGE).unwrap();
            unsafe { std::alloc::dealloc(self.base as *mut u8, layout) }
        }
    }

    unsafe impl Pages for FakePages {
        fn grow(&mut self, pages: usize) -> Option<usize> {
            let start = self.used + usize::from(self.gap && self.used > 0);
            if start + pages > self.limit {
                return None;
            }
            self.used = start + pages;
            Some(self.base + start * PAGE)
        }
    }

    /// xorshift64: deterministic, no dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    struct Block {
        addr: usize,
        size: usize,
        align: usize,
        fill: u8,
    }

    fn fill(block: &Block, from: usize) {
        for i in from..block.size {
            unsafe { *((block.addr + i) as *mut u8) = block.fill.wrapping_add(i as u8) }
        }
    }

    fn check(block: &Block) {
        for i in 0..block.size {
            let byte = unsafe { *((block.addr + i) as *const u8) };
            assert_eq!(
                byte,
                block.fill.wrapping_add(i as u8),
                "block {:#x}+{i} clobbered",
                block.addr
            );
        }
    }

    fn check_disjoint(live: &[Block]) {
        let mut ranges: Vec<(usize, usize)> =
            live.iter().map(|b| (b.addr, b.addr + b.size)).collect();
        ranges.sort();
        for pair in ranges.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "overlap: {:x?} and {:x?}",
                pair[0],
                pair[1]
            );
        }
    }

    fn random_size(rng: &mut Rng) -> usize {
        match rng.below(20) {
            0 => 16_385 + rng.below(200_000), // large
            1 => 4_000 + rng.below(13_000),   // upper small classes / boundary
            2..=5 => 65 + rng.below(2_000),
            _ => 1 + rng.below(64),
        }
    }

    fn random_align(rng: &mut Rng) -> usize {
        [1, 1, 2, 4, 8, 8, 8, 16, 16, 32, 4096, 8192, 65536][rng.below(13)]
    }

    fn run_random(seed: u64, gap: bool) {
        let mut pages = FakePages::new(2048); // 128 MiB
        pages.gap = gap;
        let mut heap = Heap::new(pages);
        let mut rng = Rng(seed);
        let mut live: Vec<Block> = Vec::new();
        for step in 0..8_000 {
            match rng.below(10) {
                0..=4 => {
                    let (size, align) = (random_size(&mut rng), random_align(&mut rng));
                    let addr = unsafe { heap.alloc(size, align) } as usize;
                    assert_ne!(addr, 0);
                    assert_eq!(addr % align, 0, "alignment {align} of {addr:#x}");
                    let block = Block {
                        addr,
                        size,
                        align,
                        fill: rng.next() as u8,
                    };
                    fill(&block, 0);
                    live.push(block);
                }
                5..=7 if !live.is_empty() => {
                    let block = live.swap_remove(rng.below(live.len()));
                    check(&block);
                    unsafe { heap.dealloc(block.addr as *mut u8, block.size, block.align) };
                }
                8 | 9 if !live.is_empty() => {
                    let i = rng.below(live.len());
                    let new_size = if rng.below(2) == 0 {
                        live[i].size * 2 + 1
                    } else {
                        random_size(&mut rng)
                    };
                    let block = &mut live[i];
                    check(block);
                    let addr = unsafe {
                        heap.realloc(block.addr as *mut u8, block.size, block.align, new_size)
                    } as usize;
                    assert_ne!(addr, 0);
                    assert_eq!(addr % block.align, 0);
                    block.addr = addr;
                    let kept = block.size.min(new_size);
                    block.size = kept;
                    check(block); // contents preserved
                    block.size = new_size;
                    fill(block, kept);
                }
                _ => {}
            }
            if step % 1000 == 0 {
                check_disjoint(&live);
                live.iter().for_each(check);
            }
        }
        check_disjoint(&live);
        live.iter().for_each(check);
        for block in live.drain(..) {
            unsafe { heap.dealloc(block.addr as *mut u8, block.size, block.align) };
        }
    }

    #[test]
    fn classes_are_ordered_tight_and_aligned() {
        assert_eq!(class_of(1), 0);
        assert_eq!(class_size(CLASSES - 1), SMALL_MAX);
        assert_eq!(class_of(SMALL_MAX), CLASSES - 1);
        for size in 1..=SMALL_MAX {
            let c = class_of(size);
            assert!(class_size(c) >= size, "{size}");
            assert!(
                c == 0 || class_size(c - 1) < size,
                "{size}: not the smallest class"
            );
            if size > 64 {
                assert!((class_size(c) - size) * 4 <= size, "{size}: waste over 25%");
            }
            assert_eq!(class_size(small_class(size, 16)) % 16, 0);
        }
    }

    #[test]
    fn random_sequences_never_overlap_and_preserve_contents() {
        for seed in 1..=4 {
            run_random((seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15), false);
        }
    }

    #[test]
    fn non_contiguous_page_source() {
        run_random(0xDEAD_BEEF, true);
    }

    #[test]
    fn freed_blocks_are_reused() {
        let mut heap = Heap::new(FakePages::new(64));
        unsafe {
            let a = heap.alloc(24, 8);
            heap.dealloc(a, 24, 8);
            assert_eq!(heap.alloc(20, 4), a, "same class reuses the block");
            let big = heap.alloc(1 << 20, 8);
            let used = heap.pages.used;
            heap.dealloc(big, 1 << 20, 8);
            // A freed large run serves small refills and other large requests: no growth.
            let small: Vec<_> = (0..10_000).map(|_| heap.alloc(48, 8)).collect();
            let other = heap.alloc(300_000, 16);
            assert!(small.iter().all(|p| !p.is_null()) && !other.is_null());
            assert_eq!(heap.pages.used, used);
        }
    }

    #[test]
    fn churn_footprint_stays_near_the_live_set() {
        // A bounded FIFO of 10k blocks of random sizes, churned: what eviction does.
        let mut heap = Heap::new(FakePages::new(1024));
        let mut rng = Rng(7);
        let mut fifo = std::collections::VecDeque::new();
        let (mut live, mut peak) = (0, 0);
        for _ in 0..200_000 {
            let size = 1 + rng.below(2_000);
            fifo.push_back((unsafe { heap.alloc(size, 8) }, size));
            live += size;
            peak = peak.max(live);
            if fifo.len() > 10_000 {
                let (p, size) = fifo.pop_front().unwrap();
                unsafe { heap.dealloc(p, size, 8) };
                live -= size;
            }
        }
        let footprint = heap.pages.used * PAGE;
        assert!(
            footprint * 10 < peak * 14,
            "footprint {footprint} for a peak live set of {peak}"
        );
    }

    #[test]
    fn doubling_growth_extends_in_place_at_the_top() {
        let mut heap = Heap::new(FakePages::new(256));
        unsafe {
            let mut size = 32 * 1024;
            let mut p = heap.alloc(size, 8);
            let first = p;
            while size < 4 << 20 {
                p = heap.realloc(p, size, 8, size * 2);
                size *= 2;
            }
            assert_eq!(p, first, "grew in place");
            assert_eq!(heap.pages.used, (4 << 20) / PAGE);
        }
    }

    #[test]
    fn refusal_to_grow_returns_null_and_recovers() {
        let mut heap = Heap::new(FakePages::new(16)); // 1 MiB
        unsafe {
            assert!(heap.alloc(2 << 20, 8).is_null());
            assert!(heap.alloc(usize::MAX / 2, 8).is_null());
            let mut blocks = Vec::new();
            loop {
                let p = heap.alloc(1000, 8);
                if p.is_null() {
                    break;
                }
                p.write_bytes(0xAB, 1000);
                blocks.push(p);
            }
            assert!(blocks.len() > 700);
            // A failing realloc leaves the old block intact.
            let p = blocks[0];
            assert!(heap.realloc(p, 1000, 8, 500_000).is_null());
            assert_eq!(*p.add(999), 0xAB);
            for p in blocks.drain(..) {
                heap.dealloc(p, 1000, 8);
            }
            for _ in 0..700 {
                assert!(!heap.alloc(1000, 8).is_null(), "freed blocks serve again");
            }
        }
    }
}
