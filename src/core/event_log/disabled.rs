use super::{
    missed_count, next_since, validate_kind, validate_now, Event, EventLogBackend, EventLogError,
    Events, ReadResult,
};

/// A log that stores nothing, for switching the event log off without touching emitting sites.
///
/// Invariant: ids still count 1, 2, 3... per successful append, and input is validated exactly as
/// by [`super::InMemoryEventLog`], so emitting code and cursors behave the same. Every appended
/// event is gone at once: `read` reports all ids after `since` as `missed`.
#[derive(Debug, Clone, Default)]
pub struct DisabledEventLog {
    last_id: u64,
}

impl DisabledEventLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Last id handed out; 0 before the first append.
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    /// Returns the event that would have been stored; stores nothing.
    pub fn append<P>(
        &mut self,
        kind: &str,
        payload: P,
        now: f64,
    ) -> Result<Event<P>, EventLogError> {
        validate_kind(kind)?;
        validate_now(now)?;
        self.last_id += 1;
        Ok(Event {
            id: self.last_id,
            timestamp: now,
            kind: kind.to_owned(),
            payload,
        })
    }

    /// Always empty.
    pub fn query<P>(
        &self,
        _since: Option<u64>,
        _limit: Option<i64>,
        now: f64,
    ) -> Result<Events<'_, P>, EventLogError> {
        validate_now(now)?;
        Ok(Events::default())
    }

    /// No events; `last_id` is the last synthetic id and every id after `since` counts as missed.
    pub fn read<P>(
        &self,
        since: Option<u64>,
        _limit: Option<i64>,
        now: f64,
    ) -> Result<ReadResult<'_, P>, EventLogError> {
        validate_now(now)?;
        Ok(ReadResult {
            events: Events::default(),
            first_id: None,
            last_id: self.last_id,
            missed: missed_count(since.unwrap_or(0), self.last_id),
            next_since: next_since(since, None, self.last_id, self.last_id),
        })
    }

    /// Does nothing: there is nothing to drop, and ids keep counting.
    pub fn clear(&mut self) {}
}

impl<P> EventLogBackend<P> for DisabledEventLog {
    fn append(&mut self, kind: &str, payload: P, now: f64) -> Result<Event<P>, EventLogError> {
        DisabledEventLog::append(self, kind, payload, now)
    }

    fn query(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<Events<'_, P>, EventLogError> {
        DisabledEventLog::query(self, since, limit, now)
    }

    fn read(
        &mut self,
        since: Option<u64>,
        limit: Option<i64>,
        now: f64,
    ) -> Result<ReadResult<'_, P>, EventLogError> {
        DisabledEventLog::read(self, since, limit, now)
    }

    fn clear(&mut self) {
        DisabledEventLog::clear(self);
    }
}
