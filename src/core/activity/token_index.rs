//! The buffer's two hash indexes: [`KeyIndex`] (string key -> position of the record that
//! holds the key, without storing the key) and, built on it, [`TokenIndex`] (idempotency
//! token -> position of the record that last carried it, with expiry in amortised O(1)).

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

/// Hashes index keys (message ids, idempotency tokens) with std's SipHash under keys drawn
/// per buffer. Keys are chosen by peers (the ids of the envelopes they send), hence a keyed
/// hash; on wasm32-unknown-unknown std has no random source and the keys are fixed, but
/// every key in an index belongs to a resident record, so a crafted collision costs at most
/// `max_items` compared hashes.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyHasher(RandomState);

impl KeyHasher {
    pub(crate) fn hash(&self, key: &str) -> u64 {
        self.0.hash_one(key)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    hash: u64,
    position: u64,
    /// Scratch bit for [`TokenIndex::compact`]; false between calls.
    marked: bool,
}

/// A hash index from string keys to record positions that does not store the keys.
///
/// Each entry is `(hash of key, position)` in a `hashbrown` table; the key itself lives in
/// the record at that position, and lookups compare it through an `is_key(position)`
/// callback (called only for entries with an equal hash). So indexing a record allocates
/// nothing, and removing or renumbering an entry needs only its hash and position, never
/// the key.
///
/// Invariant: at most one entry per key and per position (the owner guarantees it: it
/// inserts a key only after finding it absent, and a position holds one record).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex {
    entries: HashTable<Entry>,
}

impl KeyIndex {
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The position of the key with `hash` for which `is_key` holds.
    pub(crate) fn find(&self, hash: u64, mut is_key: impl FnMut(u64) -> bool) -> Option<u64> {
        self.entries
            .find(hash, |entry| entry.hash == hash && is_key(entry.position))
            .map(|entry| entry.position)
    }

    /// Whether an entry `(hash, position)` exists.
    #[cfg(test)]
    pub(crate) fn contains(&self, hash: u64, position: u64) -> bool {
        self.entries
            .find(hash, |entry| {
                entry.hash == hash && entry.position == position
            })
            .is_some()
    }

    /// Adds `(hash, position)`; the key must not be indexed yet.
    pub(crate) fn insert(&mut self, hash: u64, position: u64) {
        let entry = Entry {
            hash,
            position,
            marked: false,
        };
        self.entries.insert_unique(hash, entry, |entry| entry.hash);
    }

    /// Points the key with `hash` for which `is_key` holds at `position`, adding it if
    /// absent.
    pub(crate) fn upsert(&mut self, hash: u64, position: u64, mut is_key: impl FnMut(u64) -> bool) {
        match self
            .entries
            .find_mut(hash, |entry| entry.hash == hash && is_key(entry.position))
        {
            Some(entry) => entry.position = position,
            None => self.insert(hash, position),
        }
    }

    /// Removes the entry `(hash, position)`, if any.
    pub(crate) fn remove(&mut self, hash: u64, position: u64) -> bool {
        match self.entries.find_entry(hash, |entry| {
            entry.hash == hash && entry.position == position
        }) {
            Ok(found) => {
                found.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// Renumbers the entry `(hash, from)` to `to`, if it exists.
    pub(crate) fn renumber(&mut self, hash: u64, from: u64, to: u64) {
        if let Some(entry) = self.entry(hash, from) {
            entry.position = to;
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entry `(hash, position)`.
    fn entry(&mut self, hash: u64, position: u64) -> Option<&mut Entry> {
        self.entries.find_mut(hash, |entry| {
            entry.hash == hash && entry.position == position
        })
    }
}

/// A queued expiry check: the token with `hash` was pointed at `position`, recorded at
/// `ts_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expiry {
    ts_ms: i64,
    position: u64,
    hash: u64,
}

/// Maps each idempotency token to the position of the resident record that most recently
/// carried it.
///
/// Invariants:
/// - an entry `token -> position` means the record at `position` is resident and its
///   envelope carries `token` (the buffer removes an entry when the record it points at is
///   evicted, replaced or cleared, and only then; it renumbers entries when it renumbers
///   records); so the entry for a record, if any, is `(hash of its token, its position)`;
/// - every entry has a queued `Expiry` with its hash, its position and its record's
///   current `ts_ms`. A queued item is *live* while an entry `(hash, position)` exists and
///   the record at `position` has that `ts_ms`; expiring a live item removes its entry.
///   A stale item (of a replaced, evicted, renumbered-away or already expired entry)
///   that looks live again (its position now holds a record whose entry has the same hash
///   and `ts_ms`) describes that entry exactly, so it expires it at the right time;
/// - the queue holds at most `2 * entries + COMPACT_SLACK` items after any call.
///
/// Entries may outlive the dedup window: the buffer checks the window against the record
/// on every lookup, so expiry only reclaims memory and correctness never depends on it
/// (nor on the clock being monotonic). With a monotonic clock the queue is in time order
/// and `expire` pops exactly the expired entries from its front.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenIndex {
    by_token: KeyIndex,
    queue: VecDeque<Expiry>,
}

const COMPACT_SLACK: usize = 64;

impl TokenIndex {
    /// Points the token with `hash` (the one `is_token(position)` recognises) at
    /// `position`, recorded at `ts_ms`. No entry may point at `position` already.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        position: u64,
        ts_ms: i64,
        is_token: impl FnMut(u64) -> bool,
    ) {
        self.by_token.upsert(hash, position, is_token);
        self.queue.push_back(Expiry {
            ts_ms,
            position,
            hash,
        });
    }

    /// The position the token with `hash` (recognised by `is_token`) points at.
    pub(crate) fn get(&self, hash: u64, is_token: impl FnMut(u64) -> bool) -> Option<u64> {
        self.by_token.find(hash, is_token)
    }

    /// Removes the entry of the token with `hash` if it points at `position`.
    pub(crate) fn remove_if_points_at(&mut self, hash: u64, position: u64) {
        self.by_token.remove(hash, position);
    }

    /// Drops entries whose record was recorded more than `window_ms` before `now_ms`,
    /// and compacts the queue when stale items (of replaced, evicted or already expired
    /// entries) outnumber live ones. `ts_of` gives a resident record's current `ts_ms`.
    pub(crate) fn expire(
        &mut self,
        now_ms: i64,
        window_ms: i64,
        ts_of: impl Fn(u64) -> Option<i64>,
    ) {
        while let Some(&front) = self.queue.front() {
            if now_ms.saturating_sub(front.ts_ms) <= window_ms {
                break;
            }
            self.queue.pop_front();
            if ts_of(front.position) == Some(front.ts_ms) {
                self.by_token.remove(front.hash, front.position);
            }
        }
        if self.queue.len() > 2 * self.by_token.len() + COMPACT_SLACK {
            self.compact(&ts_of);
        }
    }

    /// Renumbers positions when the buffer renumbers its records: `renumbered` holds
    /// `(token hash, old, new)` for every resident carrier, in increasing order of both
    /// old and new positions, with `new <= old`; `new_position` maps any old position to
    /// its new one (`None` for a position that holds no record). Stale items go.
    pub(crate) fn renumber(
        &mut self,
        renumbered: impl Iterator<Item = (u64, u64, u64)>,
        new_position: impl Fn(u64) -> Option<u64>,
    ) {
        // In increasing order with `new <= old`, an entry already renumbered to `new`
        // cannot be mistaken for one still at `old`: earlier carriers got smaller numbers.
        for (hash, from, to) in renumbered {
            self.by_token.renumber(hash, from, to);
        }
        self.queue
            .retain_mut(|item| match new_position(item.position) {
                Some(position) => {
                    item.position = position;
                    true
                }
                None => false,
            });
    }

    pub(crate) fn clear(&mut self) {
        self.by_token.clear();
        self.queue.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_token.len()
    }

    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Keeps one queued item per live entry, in queue order: the first live item of an
    /// entry marks it, later ones see the mark; the marks are cleared afterwards.
    fn compact(&mut self, ts_of: &impl Fn(u64) -> Option<i64>) {
        let by_token = &mut self.by_token;
        self.queue.retain(|item| {
            if ts_of(item.position) != Some(item.ts_ms) {
                return false;
            }
            by_token
                .entry(item.hash, item.position)
                .is_some_and(|entry| !std::mem::replace(&mut entry.marked, true))
        });
        for item in &self.queue {
            if let Some(entry) = by_token.entry(item.hash, item.position) {
                entry.marked = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const WINDOW: i64 = 1000;

    /// One hasher for every test key: positions are found by the hash the index stored.
    fn hash_key(key: &str) -> u64 {
        thread_local!(static HASHER: KeyHasher = KeyHasher::default());
        HASHER.with(|hasher| hasher.hash(key))
    }

    /// Stand-in records: position -> (token, ts_ms).
    #[derive(Default)]
    struct Residents(HashMap<u64, (&'static str, i64)>);

    impl Residents {
        fn with(pairs: &[(u64, &'static str, i64)]) -> Self {
            Residents(pairs.iter().map(|&(p, t, ts)| (p, (t, ts))).collect())
        }
        fn ts_of(&self) -> impl Fn(u64) -> Option<i64> + '_ {
            |p| self.0.get(&p).map(|&(_, ts)| ts)
        }
        fn carries<'a>(&'a self, token: &'a str) -> impl FnMut(u64) -> bool + 'a {
            move |p| self.0.get(&p).is_some_and(|&(t, _)| t == token)
        }
    }

    fn get(index: &TokenIndex, residents: &Residents, token: &str) -> Option<u64> {
        index.get(hash_key(token), residents.carries(token))
    }

    fn insert(index: &mut TokenIndex, residents: &Residents, position: u64) {
        let (token, ts) = residents.0[&position];
        index.insert(hash_key(token), position, ts, residents.carries(token));
    }

    #[test]
    fn expire_pops_only_expired_entries() {
        let residents = Residents::with(&[(1, "t1", 0), (2, "t2", 500)]);
        let mut index = TokenIndex::default();
        insert(&mut index, &residents, 1);
        insert(&mut index, &residents, 2);
        index.expire(1000, WINDOW, residents.ts_of());
        assert_eq!(
            get(&index, &residents, "t1"),
            Some(1),
            "exactly at the window edge is inside"
        );
        index.expire(1001, WINDOW, residents.ts_of());
        assert_eq!(get(&index, &residents, "t1"), None);
        assert_eq!(get(&index, &residents, "t2"), Some(2));
        assert_eq!(index.queued(), 1);
    }

    #[test]
    fn a_stale_queue_item_does_not_remove_a_newer_entry() {
        // t1 first pointed at 1 (ts 0), then at 2 (ts 900).
        let residents = Residents::with(&[(1, "t1", 0), (2, "t1", 900)]);
        let mut index = TokenIndex::default();
        insert(&mut index, &residents, 1);
        insert(&mut index, &residents, 2);
        assert_eq!(index.len(), 1, "one entry per token");
        index.expire(1500, WINDOW, residents.ts_of());
        assert_eq!(get(&index, &residents, "t1"), Some(2));
    }

    #[test]
    fn a_re_recorded_message_keeps_its_entry_until_its_new_time_expires() {
        let mut residents = Residents::with(&[(1, "t1", 0)]);
        let mut index = TokenIndex::default();
        insert(&mut index, &residents, 1);
        residents.0.insert(1, ("t1", 800));
        index.remove_if_points_at(hash_key("t1"), 1);
        insert(&mut index, &residents, 1);
        index.expire(1500, WINDOW, residents.ts_of());
        assert_eq!(get(&index, &residents, "t1"), Some(1));
        index.expire(1801, WINDOW, residents.ts_of());
        assert_eq!(get(&index, &residents, "t1"), None);
    }

    #[test]
    fn remove_only_when_pointing_at_the_position() {
        let residents = Residents::with(&[(1, "t0", 0), (2, "t1", 0)]);
        let mut index = TokenIndex::default();
        insert(&mut index, &residents, 2);
        index.remove_if_points_at(hash_key("t1"), 1);
        assert_eq!(get(&index, &residents, "t1"), Some(2));
        index.remove_if_points_at(hash_key("t1"), 2);
        assert_eq!(get(&index, &residents, "t1"), None);
    }

    #[test]
    fn the_queue_stays_bounded_under_churn_without_expiry() {
        // One record re-recorded at the same instant over and over: all items are alike.
        let residents = Residents::with(&[(0, "t", 5)]);
        let mut index = TokenIndex::default();
        for _ in 0..10_000 {
            index.remove_if_points_at(hash_key("t"), 0);
            insert(&mut index, &residents, 0);
            index.expire(5, WINDOW, residents.ts_of());
        }
        assert_eq!(index.len(), 1);
        assert!(
            index.queued() <= 2 + COMPACT_SLACK,
            "queued {}",
            index.queued()
        );
        assert!(index.by_token.entries.iter().all(|e| !e.marked));
    }

    #[test]
    fn compaction_drops_items_of_removed_entries() {
        let mut residents = Residents::default();
        let tokens: Vec<&'static str> = (0..1000)
            .map(|i| &*Box::leak(format!("t{i}").into_boxed_str()))
            .collect();
        let mut index = TokenIndex::default();
        for (i, token) in tokens.iter().enumerate() {
            residents.0.insert(i as u64, (token, 0));
            insert(&mut index, &residents, i as u64);
            index.remove_if_points_at(hash_key(token), i as u64);
            index.expire(0, WINDOW, residents.ts_of());
        }
        assert_eq!(index.len(), 0);
        assert!(index.queued() <= COMPACT_SLACK + 1);
    }

    #[test]
    fn renumbering_moves_entries_and_drops_items_of_vacated_positions() {
        // Records at 3, 5 and 9; 5 lost its entry to 9 (same token). Renumbered 3->0, 5->1,
        // 9->2; an item for position 7 (no record) goes.
        let residents = Residents::with(&[(3, "a", 0), (5, "b", 0), (7, "c", 0), (9, "b", 1)]);
        let mut index = TokenIndex::default();
        for position in [3, 5, 7, 9] {
            insert(&mut index, &residents, position);
        }
        index.remove_if_points_at(hash_key("c"), 7);
        let map = |p: u64| match p {
            3 => Some(0),
            5 => Some(1),
            9 => Some(2),
            _ => None,
        };
        let carriers = [
            (hash_key("a"), 3, 0),
            (hash_key("b"), 5, 1),
            (hash_key("b"), 9, 2),
        ];
        index.renumber(carriers.into_iter(), map);
        let renumbered = Residents::with(&[(0, "a", 0), (1, "b", 0), (2, "b", 1)]);
        assert_eq!(get(&index, &renumbered, "a"), Some(0));
        assert_eq!(get(&index, &renumbered, "b"), Some(2));
        assert_eq!(index.queued(), 3);
        index.expire(1001, WINDOW, renumbered.ts_of());
        assert_eq!(get(&index, &renumbered, "a"), None);
        assert_eq!(get(&index, &renumbered, "b"), Some(2));
        index.expire(1002, WINDOW, renumbered.ts_of());
        assert_eq!((index.len(), index.queued()), (0, 0));
    }

    #[test]
    fn clear_empties_everything() {
        let residents = Residents::with(&[(0, "t", 0)]);
        let mut index = TokenIndex::default();
        insert(&mut index, &residents, 0);
        index.clear();
        assert_eq!((index.len(), index.queued()), (0, 0));
        assert_eq!(get(&index, &residents, "t"), None);
    }

    // --- KeyIndex ------------------------------------------------------------------

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("m{i}")).collect()
    }

    fn find(index: &KeyIndex, keys: &[String], key: &str) -> Option<u64> {
        index.find(hash_key(key), |p| keys[p as usize] == key)
    }

    #[test]
    fn key_index_finds_every_key_through_growth_and_removal() {
        let keys = keys(5000);
        let mut index = KeyIndex::default();
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(find(&index, &keys, key), None);
            index.insert(hash_key(key), i as u64);
        }
        assert_eq!(index.len(), 5000);
        for i in (0..5000).step_by(3) {
            assert!(index.remove(hash_key(&keys[i]), i as u64));
            assert!(!index.remove(hash_key(&keys[i]), i as u64), "removed once");
        }
        for (i, key) in keys.iter().enumerate() {
            let expected = (i % 3 != 0).then_some(i as u64);
            assert_eq!(find(&index, &keys, key), expected, "{key}");
        }
        assert_eq!(index.len(), 5000 - 1667);
    }

    #[test]
    fn key_index_survives_colliding_hashes() {
        // Every key hashes alike: lookups fall back to comparing keys, removal keeps the
        // rest reachable.
        let keys = keys(100);
        let mut index = KeyIndex::default();
        for i in 0..100 {
            index.insert(7, i);
        }
        let find = |index: &KeyIndex, i: usize| index.find(7, |p| keys[p as usize] == keys[i]);
        for i in (0..100).step_by(2) {
            assert!(index.remove(7, i as u64));
        }
        for i in 0..100 {
            assert_eq!(find(&index, i), (i % 2 == 1).then_some(i as u64));
        }
        index.renumber(7, 99, 0);
        assert_eq!(find(&index, 0), Some(0), "the entry of key 99 now says 0");
        assert!(!index.contains(7, 99));
    }

    #[test]
    fn key_index_matches_a_set_under_random_churn_with_clustered_hashes() {
        // Few distinct hashes: every lookup compares keys through positions.
        let hash_of = |key: u64| ((key * 7919) % 23) | 0x3f8;
        let mut rng = crate::core::activity::strategy::SplitMix64::new(9);
        let mut index = KeyIndex::default();
        let mut model = std::collections::HashMap::new(); // key -> position
        for step in 0..20_000 {
            let key = rng.below(300);
            match model.get(&key).copied() {
                None => {
                    let position = 1000 + key;
                    index.insert(hash_of(key), position);
                    model.insert(key, position);
                }
                Some(position) if rng.below(3) == 0 => {
                    // Keys are told apart by position here: each key has its own range.
                    let moved = if position >= 1000 { key } else { 1000 + key };
                    index.renumber(hash_of(key), position, moved);
                    model.insert(key, moved);
                }
                Some(position) => {
                    assert!(index.remove(hash_of(key), position), "step {step}");
                    model.remove(&key);
                }
            }
            assert_eq!(index.len(), model.len());
            if step % 97 == 0 {
                for key in 0..300 {
                    let found = index.find(hash_of(key), |p| p % 1000 == key);
                    assert_eq!(found, model.get(&key).copied(), "step {step} key {key}");
                }
            }
        }
    }

    #[test]
    fn key_index_upsert_repoints_or_adds() {
        let keys = ["a", "b", "a"];
        let mut index = KeyIndex::default();
        index.upsert(hash_key("a"), 0, |p| keys[p as usize] == "a");
        index.upsert(hash_key("b"), 1, |p| keys[p as usize] == "b");
        index.upsert(hash_key("a"), 2, |p| keys[p as usize] == "a");
        assert_eq!(index.len(), 2);
        assert_eq!(
            index.find(hash_key("a"), |p| keys[p as usize] == "a"),
            Some(2)
        );
        index.clear();
        assert_eq!(index.len(), 0);
        assert_eq!(index.find(hash_key("b"), |_| true), None);
    }
}
