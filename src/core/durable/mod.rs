//! Change tracking for the durable classes: what changed since the last flush, so that a
//! flush writes the number of changes, not the number of resident records.
//!
//! [`ChangeTracker`] is keyed by the caller's *handles*: small integers it assigns to
//! resident records and reuses after a record is removed (the ActivityBuffer binding's
//! envelope slots). Records are named by their *keys* (message ids) in what a flush
//! writes. Non-generic on purpose: one instance of this code serves every durable class.

/// What a flush writes, in this order: everything removed first when `cleared`, then the
/// `removed` keys, then the `put` keys (whose records the caller writes).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub cleared: bool,
    /// Keys to write, each once; the caller orders them as the records are ordered.
    pub put: Vec<String>,
    /// Keys to delete. A key may also be in `put` (removed, then recorded again): the
    /// delete comes first, so the record goes to the end of the stored order.
    pub removed: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        !self.cleared && self.put.is_empty() && self.removed.is_empty()
    }
}

/// The changes since the last [`ChangeTracker::take`].
///
/// Invariants:
/// - `marked[h]` is true exactly when the record holding handle `h` changed since the last
///   take, and then its key is in `dirty` (at least once; stale entries, whose record is
///   gone or whose handle is unmarked, are skipped by `take`), so marking is O(1) and
///   repeated changes to one record cost no memory;
/// - every key removed since the last take is in `removed`;
/// - after `clear`, `cleared` is set and only what changed after it is kept.
#[derive(Debug, Default)]
pub struct ChangeTracker {
    cleared: bool,
    marked: Vec<bool>,
    dirty: Vec<String>,
    removed: Vec<String>,
}

impl ChangeTracker {
    /// The record with `handle` and `key` was added or changed.
    pub fn put(&mut self, handle: u32, key: &str) {
        let handle = handle as usize;
        if self.marked.len() <= handle {
            self.marked.resize(handle + 1, false);
        }
        if !std::mem::replace(&mut self.marked[handle], true) {
            self.dirty.push(key.to_owned());
        }
    }

    /// The record with `handle` and `key` was removed (its handle may be reused at once).
    pub fn remove(&mut self, handle: u32, key: String) {
        if let Some(marked) = self.marked.get_mut(handle as usize) {
            *marked = false;
        }
        self.removed.push(key);
    }

    /// Every record was removed.
    pub fn clear(&mut self) {
        self.cleared = true;
        self.marked.clear();
        self.dirty.clear();
        self.removed.clear();
    }

    pub fn is_empty(&self) -> bool {
        !self.cleared && self.dirty.is_empty() && self.removed.is_empty()
    }

    /// The changes so far, and starts over. `handle_of(key)` is the handle of the resident
    /// record with that key, `None` when there is none. Costs O(changes).
    pub fn take(&mut self, mut handle_of: impl FnMut(&str) -> Option<u32>) -> Changes {
        let mut put = Vec::new();
        for key in std::mem::take(&mut self.dirty) {
            let Some(handle) = handle_of(&key) else {
                continue;
            };
            if let Some(marked) = self.marked.get_mut(handle as usize) {
                if std::mem::replace(marked, false) {
                    put.push(key);
                }
            }
        }
        Changes {
            cleared: std::mem::take(&mut self.cleared),
            put,
            removed: std::mem::take(&mut self.removed),
        }
    }

    /// Puts back one change of a flush that failed, under the changes made since: the
    /// next take writes both. `put`: re-marks the key's record if it is still resident
    /// (`handle`; a record gone since has its removal tracked already, and one changed
    /// since is written once, as it is now).
    pub fn restore_put(&mut self, key: &str, handle: Option<u32>) {
        if let Some(handle) = handle {
            self.put(handle, key);
        }
    }

    /// See [`ChangeTracker::restore_put`]: a key the failed flush was to delete.
    pub fn restore_removed(&mut self, key: String) {
        self.removed.push(key);
    }

    /// See [`ChangeTracker::restore_put`]: the failed flush was to remove everything first.
    /// Changes made since came after that clear, so they are kept.
    pub fn restore_cleared(&mut self) {
        self.cleared = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Resident keys and their handles, as a buffer would have them.
    fn lookup<'a>(resident: &'a HashMap<&str, u32>) -> impl FnMut(&str) -> Option<u32> + 'a {
        move |key| resident.get(key).copied()
    }

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn repeated_changes_to_one_record_are_written_once() {
        let mut tracker = ChangeTracker::default();
        for _ in 0..1000 {
            tracker.put(0, "a");
        }
        tracker.put(1, "b");
        assert_eq!(tracker.dirty.len(), 2);
        let resident = HashMap::from([("a", 0), ("b", 1)]);
        let changes = tracker.take(lookup(&resident));
        assert_eq!(changes.put, keys(&["a", "b"]));
        assert!(tracker.is_empty());
        assert!(tracker.take(lookup(&resident)).is_empty());
    }

    #[test]
    fn a_removed_record_is_deleted_not_written_even_when_its_handle_is_reused() {
        let mut tracker = ChangeTracker::default();
        tracker.put(3, "a");
        tracker.remove(3, "a".into());
        tracker.put(3, "b");
        let resident = HashMap::from([("b", 3)]);
        let changes = tracker.take(lookup(&resident));
        assert_eq!(changes.put, keys(&["b"]));
        assert_eq!(changes.removed, keys(&["a"]));
    }

    #[test]
    fn removed_then_recorded_again_is_deleted_then_written() {
        let mut tracker = ChangeTracker::default();
        tracker.put(3, "a");
        tracker.remove(3, "a".into());
        tracker.put(7, "a");
        let resident = HashMap::from([("a", 7)]);
        let changes = tracker.take(lookup(&resident));
        assert_eq!(changes.put, keys(&["a"]));
        assert_eq!(changes.removed, keys(&["a"]));
    }

    #[test]
    fn clear_forgets_earlier_changes_and_keeps_later_ones() {
        let mut tracker = ChangeTracker::default();
        tracker.put(0, "a");
        tracker.remove(1, "b".into());
        tracker.clear();
        tracker.put(0, "c");
        let resident = HashMap::from([("c", 0)]);
        let changes = tracker.take(lookup(&resident));
        assert!(changes.cleared);
        assert_eq!(changes.put, keys(&["c"]));
        assert!(changes.removed.is_empty());
        assert!(!tracker.take(lookup(&resident)).cleared);
    }

    /// Restores `failed` as the binding does, one change at a time.
    fn restore(tracker: &mut ChangeTracker, failed: Changes, resident: &HashMap<&str, u32>) {
        if failed.cleared {
            tracker.restore_cleared();
        }
        for key in failed.removed {
            tracker.restore_removed(key);
        }
        for key in &failed.put {
            tracker.restore_put(key, resident.get(key.as_str()).copied());
        }
    }

    #[test]
    fn a_failed_flush_is_restored_under_later_changes() {
        let mut tracker = ChangeTracker::default();
        tracker.put(0, "a");
        tracker.put(1, "b");
        tracker.remove(2, "c".into());
        let mut resident = HashMap::from([("a", 0), ("b", 1)]);
        let failed = tracker.take(lookup(&resident));
        // While the flush was in flight: `a` changed again, `b` was removed, `d` added.
        tracker.put(0, "a");
        tracker.remove(1, "b".into());
        resident.remove("b");
        tracker.put(1, "d");
        resident.insert("d", 1);
        restore(&mut tracker, failed, &resident);
        let mut changes = tracker.take(lookup(&resident));
        changes.put.sort();
        changes.removed.sort();
        assert_eq!(changes.put, keys(&["a", "d"]));
        assert_eq!(changes.removed, keys(&["b", "c"]));
    }

    #[test]
    fn a_failed_clear_is_restored_with_what_came_after_it() {
        let mut tracker = ChangeTracker::default();
        tracker.clear();
        tracker.put(0, "a");
        let resident = HashMap::from([("a", 0), ("b", 1)]);
        let failed = tracker.take(lookup(&resident));
        tracker.put(1, "b");
        restore(&mut tracker, failed, &resident);
        let mut changes = tracker.take(lookup(&resident));
        changes.put.sort();
        assert!(changes.cleared);
        assert_eq!(changes.put, keys(&["a", "b"]));
    }
}
