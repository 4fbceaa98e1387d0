//! Idempotency token -> the message that last carried it, with expiry in amortised O(1).

use std::collections::{HashMap, HashSet, VecDeque};

/// A queued expiry check: `token` pointed at `message_id`, recorded at `ts_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expiry {
    ts_ms: i64,
    token: String,
    message_id: String,
}

/// Maps each idempotency token to the resident record that most recently carried it.
///
/// Invariants:
/// - an entry `token -> id` means record `id` is resident and its envelope carries
///   `token` (the buffer removes an entry when the record it points at is evicted,
///   replaced or cleared, and only then);
/// - every entry has a queued `Expiry` with its record's current `ts_ms`;
/// - the queue holds at most `2 * entries + COMPACT_SLACK` items after any call.
///
/// Entries may outlive the dedup window: the buffer checks the window against the record
/// on every lookup, so expiry only reclaims memory and correctness never depends on it
/// (nor on the clock being monotonic). With a monotonic clock the queue is in time order
/// and `expire` pops exactly the expired entries from its front.
#[derive(Debug, Clone, Default)]
pub(crate) struct TokenIndex {
    by_token: HashMap<String, String>,
    queue: VecDeque<Expiry>,
}

const COMPACT_SLACK: usize = 64;

impl TokenIndex {
    /// Points `token` at `message_id`, recorded at `ts_ms`.
    pub(crate) fn insert(&mut self, token: &str, message_id: &str, ts_ms: i64) {
        self.by_token
            .insert(token.to_owned(), message_id.to_owned());
        self.queue.push_back(Expiry {
            ts_ms,
            token: token.to_owned(),
            message_id: message_id.to_owned(),
        });
    }

    /// The message id `token` points at.
    pub(crate) fn get(&self, token: &str) -> Option<&str> {
        self.by_token.get(token).map(String::as_str)
    }

    /// Removes `token`'s entry if it points at `message_id`.
    pub(crate) fn remove_if_points_at(&mut self, token: &str, message_id: &str) {
        if self.by_token.get(token).is_some_and(|id| id == message_id) {
            self.by_token.remove(token);
        }
    }

    /// Drops entries whose record was recorded more than `window_ms` before `now_ms`,
    /// and compacts the queue when stale items (of replaced, evicted or already expired
    /// entries) outnumber live ones. `ts_of` gives a resident record's current `ts_ms`.
    pub(crate) fn expire(
        &mut self,
        now_ms: i64,
        window_ms: i64,
        ts_of: impl Fn(&str) -> Option<i64>,
    ) {
        while let Some(front) = self.queue.front() {
            if now_ms.saturating_sub(front.ts_ms) <= window_ms {
                break;
            }
            let expired = self.queue.pop_front().expect("front exists");
            if self.is_live(&expired, &ts_of) {
                self.by_token.remove(&expired.token);
            }
        }
        if self.queue.len() > 2 * self.by_token.len() + COMPACT_SLACK {
            self.compact(&ts_of);
        }
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

    /// The queued item still describes its token's entry.
    fn is_live(&self, item: &Expiry, ts_of: &impl Fn(&str) -> Option<i64>) -> bool {
        self.by_token.get(&item.token) == Some(&item.message_id)
            && ts_of(&item.message_id) == Some(item.ts_ms)
    }

    /// Keeps one queued item per live entry, in queue order.
    fn compact(&mut self, ts_of: &impl Fn(&str) -> Option<i64>) {
        let mut seen = HashSet::new();
        let queue = std::mem::take(&mut self.queue);
        self.queue = queue
            .into_iter()
            .filter(|item| self.is_live(item, ts_of) && seen.insert(item.token.clone()))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const WINDOW: i64 = 1000;

    #[test]
    fn expire_pops_only_expired_entries() {
        let ts: HashMap<&str, i64> = [("m1", 0), ("m2", 500)].into();
        let ts_of = |id: &str| ts.get(id).copied();
        let mut index = TokenIndex::default();
        index.insert("t1", "m1", 0);
        index.insert("t2", "m2", 500);
        index.expire(1000, WINDOW, ts_of);
        assert_eq!(
            index.get("t1"),
            Some("m1"),
            "exactly at the window edge is inside"
        );
        index.expire(1001, WINDOW, ts_of);
        assert_eq!(index.get("t1"), None);
        assert_eq!(index.get("t2"), Some("m2"));
        assert_eq!(index.queued(), 1);
    }

    #[test]
    fn a_stale_queue_item_does_not_remove_a_newer_entry() {
        // t1 first pointed at m1 (ts 0), then at m2 (ts 900).
        let ts: HashMap<&str, i64> = [("m1", 0), ("m2", 900)].into();
        let ts_of = |id: &str| ts.get(id).copied();
        let mut index = TokenIndex::default();
        index.insert("t1", "m1", 0);
        index.insert("t1", "m2", 900);
        index.expire(1500, WINDOW, ts_of);
        assert_eq!(index.get("t1"), Some("m2"));
    }

    #[test]
    fn a_re_recorded_message_keeps_its_entry_until_its_new_time_expires() {
        let ts: HashMap<&str, i64> = [("m1", 800)].into();
        let ts_of = |id: &str| ts.get(id).copied();
        let mut index = TokenIndex::default();
        index.insert("t1", "m1", 0);
        index.insert("t1", "m1", 800);
        index.expire(1500, WINDOW, ts_of);
        assert_eq!(index.get("t1"), Some("m1"));
        index.expire(1801, WINDOW, ts_of);
        assert_eq!(index.get("t1"), None);
    }

    #[test]
    fn remove_only_when_pointing_at_the_message() {
        let mut index = TokenIndex::default();
        index.insert("t1", "m2", 0);
        index.remove_if_points_at("t1", "m1");
        assert_eq!(index.get("t1"), Some("m2"));
        index.remove_if_points_at("t1", "m2");
        assert_eq!(index.get("t1"), None);
    }

    #[test]
    fn the_queue_stays_bounded_under_churn_without_expiry() {
        // One record re-recorded at the same instant over and over: all items are alike.
        let ts_of = |_: &str| Some(5);
        let mut index = TokenIndex::default();
        for _ in 0..10_000 {
            index.insert("t", "m", 5);
            index.expire(5, WINDOW, ts_of);
        }
        assert_eq!(index.len(), 1);
        assert!(
            index.queued() <= 2 + COMPACT_SLACK,
            "queued {}",
            index.queued()
        );
    }

    #[test]
    fn compaction_drops_items_of_removed_entries() {
        let ts_of = |id: &str| id.strip_prefix('m').map(|_| 0);
        let mut index = TokenIndex::default();
        for i in 0..1000 {
            let (token, id) = (format!("t{i}"), format!("m{i}"));
            index.insert(&token, &id, 0);
            index.remove_if_points_at(&token, &id);
            index.expire(0, WINDOW, ts_of);
        }
        assert_eq!(index.len(), 0);
        assert!(index.queued() <= COMPACT_SLACK + 1);
    }

    #[test]
    fn clear_empties_everything() {
        let mut index = TokenIndex::default();
        index.insert("t", "m", 0);
        index.clear();
        assert_eq!((index.len(), index.queued()), (0, 0));
    }
}
