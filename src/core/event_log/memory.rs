use std::collections::VecDeque;

use super::{
    missed_count, next_since, validate_kind, validate_now, Event, EventLogBackend, EventLogConfig,
    EventLogError, EventLogStats, Events, PayloadBytes, ReadResult,
};

/// An append-and-query event log held in memory.
///
/// Invariants:
/// - **Eviction is the load-bearing invariant.** Every `append`, `query`, `read` and `evict`
///   first drops events older than the TTL (`timestamp < now - ttl_seconds`, strict: an event
///   exactly `ttl_seconds` old stays), then the oldest while more than `max_entries` remain,
///   then the oldest while the resident payloads hold more than `max_bytes` of JSON
///   ([`PayloadBytes`]; JetStream's MaxBytes). Memory is bounded by both however long the log
///   lives, and each eviction is counted under the bound that caused it.
/// - A payload larger than `max_bytes` by itself is refused before anything changes, so the
///   newest event always survives the eviction its append runs.
/// - **Ids survive eviction.** The first append gets id 1, each append the next id. Neither
///   eviction nor `clear()` resets the counter, so a reader's cursor stays meaningful after the
///   event it points to is gone.
/// - **Resident ids are contiguous.** `events` holds exactly the ids `first_id..=last_id`, or
///   nothing: appends push the next id at the back and removal only pops from the front or
///   drops everything. So the first event after cursor `since` sits at index
///   `since + 1 - first_id`: a query finds its start in O(1) and costs O(1 + k) for k results.
///   Consequently the gone ids are always the prefix `1..first_id` (`1..=last_id` when empty).
/// - TTL eviction stops at the first unexpired event. Timestamps ascend with a monotonic clock,
///   which makes this exact; if the clock steps back, an expired event can linger behind a newer
///   one until it reaches the front. The size bound holds regardless.
#[derive(Debug, Clone)]
pub struct InMemoryEventLog<P = serde_json::Value> {
    events: VecDeque<Event<P>>,
    /// The sum of `payload_bytes()` over `events`; at most `max_bytes` after every evicting call.
    bytes: u64,
    last_id: u64,
    config: EventLogConfig,
    stats: EventLogStats,
}

impl<P: PayloadBytes> Default for InMemoryEventLog<P> {
    fn default() -> Self {
        Self::new(EventLogConfig::default())
    }
}

/// `P::payload_bytes` is called once per append and once per evicted event: it should be O(1)
/// for the stored form (it is for JSON text).
impl<P: PayloadBytes> InMemoryEventLog<P> {
    pub fn new(config: EventLogConfig) -> Self {
        InMemoryEventLog {
            events: VecDeque::new(),
            bytes: 0,
            last_id: 0,
            config,
            stats: EventLogStats::default(),
        }
    }

    pub fn config(&self) -> EventLogConfig {
        self.config
    }

    pub fn ttl_seconds(&self) -> f64 {
        self.config.ttl_seconds()
    }

    pub fn max_entries(&self) -> usize {
        self.config.max_entries()
    }

    pub fn max_bytes(&self) -> usize {
        self.config.max_bytes()
    }

    /// The JSON bytes of the resident payloads, as of the last evicting call.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Resident events as of the last evicting call.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Oldest resident id, `None` when empty.
    pub fn first_id(&self) -> Option<u64> {
        self.events.front().map(|e| e.id)
    }

    /// Last id ever assigned; 0 before the first append.
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    pub fn stats(&self) -> EventLogStats {
        self.stats
    }

    /// Appends `kind`/`payload` stamped `now`, evicts, and returns the stored event (always
    /// resident after eviction: it is the newest, `max_entries >= 1` and its payload fits in
    /// `max_bytes`). On error nothing changes and no id is consumed.
    pub fn append(&mut self, kind: &str, payload: P, now: f64) -> Result<&Event<P>, EventLogError> {
        validate_kind(kind)?;
        validate_now(now)?;
        let bytes = payload.payload_bytes();
        if bytes > self.config.max_bytes() {
            return Err(EventLogError::PayloadTooLarge {
                bytes,
                max_bytes: self.config.max_bytes(),
            });
        }
        self.bytes += bytes as u64;
        self.last_id += 1;
        self.stats.appended += 1;
        self.events.push_back(Event {
            id: self.last_id,
            timestamp: now,
            kind: kind.to_owned(),
            payload,
        });
        self.evict_valid(now);
        Ok(self
            .events
            .back()
            .expect("the newest event survives eviction"))
    }

    /// Events with `id > since` (all resident when `None`), ascending, after evicting at `now`.
    /// `limit`: `None` or negative means no cap, 0 means none.
    pub fn query(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<Events<'_, P>, EventLogError> {
        self.evict(now)?;
        Ok(self.range(since, limit))
    }

    /// [`InMemoryEventLog::query`] plus the cursor metadata of [`ReadResult`].
    pub fn read(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<ReadResult<'_, P>, EventLogError> {
        self.evict(now)?;
        let first_id = self.first_id();
        let gone_through = first_id.map_or(self.last_id, |first| first - 1);
        let events = self.range(since, limit);
        let last_returned = events.clone().next_back().map(|e| e.id);
        Ok(ReadResult {
            events,
            first_id,
            last_id: self.last_id,
            missed: missed_count(since.unwrap_or(0), gone_through),
            next_since: next_since(since, last_returned, gone_through, self.last_id),
        })
    }

    /// Runs eviction at `now` and returns how many events it dropped.
    pub fn evict(&mut self, now: f64) -> Result<usize, EventLogError> {
        validate_now(now)?;
        Ok(self.evict_valid(now))
    }

    /// Drops every resident event and returns how many; the id counter is kept.
    pub fn clear(&mut self) -> usize {
        let dropped = self.events.len();
        self.events.clear();
        self.bytes = 0;
        self.stats.cleared += dropped as u64;
        dropped
    }

    fn evict_valid(&mut self, now: f64) -> usize {
        let cutoff = now - self.config.ttl_seconds();
        let mut expired = 0;
        while self.events.front().is_some_and(|e| e.timestamp < cutoff) {
            self.pop_oldest();
            expired += 1;
        }
        let excess = self.events.len().saturating_sub(self.config.max_entries());
        for _ in 0..excess {
            self.pop_oldest();
        }
        let mut over_bytes = 0;
        while self.bytes > self.config.max_bytes() as u64 && !self.events.is_empty() {
            self.pop_oldest();
            over_bytes += 1;
        }
        self.stats.evicted_by_ttl += expired as u64;
        self.stats.evicted_by_size += excess as u64;
        self.stats.evicted_by_bytes += over_bytes;
        expired + excess + over_bytes as usize
    }

    /// Drops the oldest event, keeping `bytes` in step.
    fn pop_oldest(&mut self) {
        if let Some(event) = self.events.pop_front() {
            self.bytes -= event.payload.payload_bytes() as u64;
        }
    }

    /// The resident events after `since`, capped by `limit`; no eviction.
    fn range(&self, since: Option<u64>, limit: Option<i64>) -> Events<'_, P> {
        let start = match (self.first_id(), since) {
            (Some(first), Some(since)) if since >= first => usize::try_from(since - first + 1)
                .map_or(self.events.len(), |offset| offset.min(self.events.len())),
            _ => 0,
        };
        debug_assert!(
            self.events
                .get(start)
                .map_or(true, |e| e.id > since.unwrap_or(0)),
            "resident ids must be contiguous"
        );
        debug_assert!(
            start == 0 || self.events[start - 1].id <= since.unwrap_or(0),
            "resident ids must be contiguous"
        );
        let available = self.events.len() - start;
        let count = match limit {
            Some(limit) if limit >= 0 => {
                usize::try_from(limit).map_or(available, |limit| limit.min(available))
            }
            _ => available,
        };
        self.events.range(start..start + count)
    }
}

impl<P: Clone + PayloadBytes> EventLogBackend<P> for InMemoryEventLog<P> {
    fn append(&mut self, kind: &str, payload: P, now: f64) -> Result<Event<P>, EventLogError> {
        InMemoryEventLog::append(self, kind, payload, now).cloned()
    }

    fn query(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<Events<'_, P>, EventLogError> {
        InMemoryEventLog::query(self, since, limit, now)
    }

    fn read(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<ReadResult<'_, P>, EventLogError> {
        InMemoryEventLog::read(self, since, limit, now)
    }

    fn clear(&mut self) {
        InMemoryEventLog::clear(self);
    }
}
