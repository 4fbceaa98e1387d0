//! The activity buffer: recorded envelopes in insertion order, their ack stages, an
//! idempotency index with a dedup window, and bounded capacity.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::constants::{ack_stage, envelope_state, is_terminal_stage, is_terminal_state};
use super::envelope::Envelope;
use super::error::ActivityError;
use super::record::{Ack, ActivityRecord, Direction, RecordedEnvelope, STAGE_EXPECTED};
use super::strategy::{OnFull, SplitMix64, Strategy};
use super::token_index::TokenIndex;

pub const DEFAULT_MAX_ITEMS: usize = 1000;
pub const DEFAULT_DEDUP_WINDOW_S: u64 = 3600;

/// Construction options (`new ActivityBuffer({ maxItems, dedupWindowS, strategy, onFull })`).
#[derive(Debug)]
pub struct ActivityBufferOptions {
    /// At least 1. Default 1000.
    pub max_items: usize,
    /// How long, in seconds, a token finds its record. Default 3600.
    pub dedup_window_s: u64,
    /// Default `Fifo`.
    pub strategy: Strategy,
    /// Default `Evict`.
    pub on_full: OnFull,
}

impl Default for ActivityBufferOptions {
    fn default() -> Self {
        ActivityBufferOptions {
            max_items: DEFAULT_MAX_ITEMS,
            dedup_window_s: DEFAULT_DEDUP_WINDOW_S,
            strategy: Strategy::Fifo,
            on_full: OnFull::Evict,
        }
    }
}

/// Lifetime counters; `clear()` does not reset them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityStats {
    /// Records removed to make room (`OnFull::Evict`).
    pub evictions: u64,
    /// Recordings refused with `BufferFull` (`OnFull::Reject`).
    pub rejections: u64,
    /// Acks that left their record unchanged: below its stage, or after a terminal stage.
    pub ignored_acks: u64,
    /// `check_duplicate` calls that found a live record for the token, i.e. answered
    /// `duplicate` or `in_progress`. Plain `get_by_idempotency_token` lookups don't count.
    pub dedup_hits: u64,
}

/// The answer of [`ActivityBuffer::check_duplicate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateStatus {
    /// No live record carries the token (or the envelope has none).
    New,
    /// A live record carries the token and its envelope state is terminal.
    Duplicate,
    /// A live record carries the token and its envelope state is not terminal.
    InProgress,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(bound(serialize = "E: RecordedEnvelope + Serialize"))]
pub struct DuplicateCheck<'a, E = Envelope> {
    pub status: DuplicateStatus,
    /// The record found; `None` for `New`.
    pub record: Option<&'a ActivityRecord<E>>,
}

/// Recorded messages, oldest first, at most `max_items` of them.
///
/// Invariants:
/// - `records` is keyed by insertion position (strictly increasing, never reused), so
///   iterating it gives insertion order; re-recording an id keeps its position;
/// - `positions` maps exactly the resident message ids to their positions;
/// - `settled` holds exactly the positions of records with a terminal ack stage or a
///   terminal envelope state (the `SettledFirst` candidates);
/// - `len() <= max_items` at all times: a new record is admitted only after the victims
///   chosen among the *resident* records are gone, so a new record is never its own
///   victim (`Lifo` evicts the newest resident record, not the incoming one), and
///   re-recording a resident id never needs room;
/// - ack stages only move forward, and never away from a terminal stage;
/// - see [`TokenIndex`] for the token index; a token lookup succeeds only while
///   `now - ts_ms <= dedup_window_s * 1000` for the record it points at.
///
/// Time is the caller's: every method that needs it takes `now_ms`. The envelope type `E`
/// is [`Envelope`] except in the wasm binding (see [`RecordedEnvelope`]).
#[derive(Debug)]
pub struct ActivityBuffer<E = Envelope> {
    max_items: usize,
    dedup_window_ms: i64,
    strategy: Strategy,
    on_full: OnFull,
    random: SplitMix64,
    records: BTreeMap<u64, ActivityRecord<E>>,
    positions: HashMap<String, u64>,
    settled: BTreeSet<u64>,
    next_position: u64,
    tokens: TokenIndex,
    stats: ActivityStats,
}

impl<E: RecordedEnvelope> ActivityBuffer<E> {
    pub fn new(options: ActivityBufferOptions) -> Result<Self, ActivityError> {
        if options.max_items == 0 {
            return Err(ActivityError::range("maxItems", "0", "a positive integer"));
        }
        let dedup_window_ms = options
            .dedup_window_s
            .checked_mul(1000)
            .and_then(|ms| i64::try_from(ms).ok())
            .ok_or_else(|| {
                ActivityError::range(
                    "dedupWindowS",
                    options.dedup_window_s.to_string(),
                    "at most 9223372036854775 seconds",
                )
            })?;
        let seed = match options.strategy {
            Strategy::Random { seed } => seed,
            _ => 0,
        };
        Ok(ActivityBuffer {
            max_items: options.max_items,
            dedup_window_ms,
            strategy: options.strategy,
            on_full: options.on_full,
            random: SplitMix64::new(seed),
            records: BTreeMap::new(),
            positions: HashMap::new(),
            settled: BTreeSet::new(),
            next_position: 0,
            tokens: TokenIndex::default(),
            stats: ActivityStats::default(),
        })
    }

    /// Records a received envelope; see [`ActivityBuffer::record_outgoing`].
    pub fn record_incoming(
        &mut self,
        envelope: E,
        now_ms: i64,
    ) -> Result<&ActivityRecord<E>, ActivityError> {
        self.record(Direction::In, envelope, now_ms)
            .map(|(record, _evicted)| record)
    }

    /// Records a sent envelope at `now_ms`.
    ///
    /// The envelope needs a non-empty string `message_id` (see
    /// [`Envelope::validate_for_record`]). An id already present is replaced where it
    /// stands: same position, new envelope, direction and `ts_ms`, stage reset to
    /// UNSPECIFIED with no error or note. A new id into a full buffer evicts (or is
    /// rejected, per `on_full`).
    pub fn record_outgoing(
        &mut self,
        envelope: E,
        now_ms: i64,
    ) -> Result<&ActivityRecord<E>, ActivityError> {
        self.record(Direction::Out, envelope, now_ms)
            .map(|(record, _evicted)| record)
    }

    /// Records `envelope` as `record_incoming` / `record_outgoing` do, and also returns the
    /// records evicted to make room for it (oldest first within the strategy's choice).
    pub fn record(
        &mut self,
        direction: Direction,
        envelope: E,
        now_ms: i64,
    ) -> Result<(&ActivityRecord<E>, Vec<ActivityRecord<E>>), ActivityError> {
        let message_id = envelope.validate_for_record()?.to_owned();
        let mut evicted = Vec::new();
        let position = match self.positions.get(&message_id) {
            Some(&position) => {
                let old = &self.records[&position];
                self.tokens
                    .remove_if_points_at(old.idempotency_token(), &message_id);
                position
            }
            None => {
                evicted = self.make_room()?;
                let position = self.next_position;
                self.next_position += 1;
                self.positions.insert(message_id.clone(), position);
                position
            }
        };
        let record = ActivityRecord::new(message_id, direction, envelope, now_ms);
        if !record.idempotency_token().is_empty() {
            self.tokens
                .insert(record.idempotency_token(), &record.message_id, now_ms);
        }
        self.records.insert(position, record);
        self.refresh_settled(position);
        self.expire_tokens(now_ms);
        Ok((&self.records[&position], evicted))
    }

    /// Applies an ack to the record it names; `None` when no such record.
    ///
    /// A stage outside 0-6 is a `Range` error whether or not the record exists. An ack
    /// below the record's stage, or any ack once the stage is terminal, leaves the record
    /// unchanged, counts in `stats().ignored_acks`, and returns the record.
    pub fn ack(&mut self, ack: &Ack) -> Result<Option<&ActivityRecord<E>>, ActivityError> {
        if !ack_stage::VALID.contains(&ack.ack_stage) {
            return Err(ActivityError::range(
                "ack_stage",
                ack.ack_stage.to_string(),
                STAGE_EXPECTED,
            ));
        }
        let Some(&position) = self.positions.get(&ack.ack_for_message_id) else {
            return Ok(None);
        };
        let record = self
            .records
            .get_mut(&position)
            .expect("positions point at records");
        if is_terminal_stage(record.ack_stage) || ack.ack_stage < record.ack_stage {
            self.stats.ignored_acks += 1;
        } else {
            record.ack_stage = ack.ack_stage;
            record.error_code = ack.error_code;
            record.ack_note = ack.note.clone();
            self.refresh_settled(position);
        }
        Ok(Some(&self.records[&position]))
    }

    pub fn get(&self, message_id: &str) -> Option<&ActivityRecord<E>> {
        self.positions
            .get(message_id)
            .map(|position| &self.records[position])
    }

    /// Records of both directions with stage UNSPECIFIED, RECEIVED or READ, oldest first.
    pub fn unacked(&self) -> Vec<&ActivityRecord<E>> {
        self.records.values().filter(|r| r.is_unacked()).collect()
    }

    /// Unacked outgoing records, oldest first: what to retry after a restart.
    pub fn reconcile(&self) -> Vec<&ActivityRecord<E>> {
        self.records
            .values()
            .filter(|r| r.direction == Direction::Out && r.is_unacked())
            .collect()
    }

    /// The last `n` records, oldest first; empty for `n <= 0`.
    pub fn recent(&self, n: i64) -> Vec<&ActivityRecord<E>> {
        let n = usize::try_from(n).unwrap_or(0);
        let mut last: Vec<&ActivityRecord<E>> = self.records.values().rev().take(n).collect();
        last.reverse();
        last
    }

    /// Sets the envelope's `state` (0-7, else a `Range` error); `None` when no such record.
    pub fn update_state(
        &mut self,
        message_id: &str,
        state: i64,
    ) -> Result<Option<&ActivityRecord<E>>, ActivityError> {
        if !envelope_state::VALID.contains(&state) {
            return Err(ActivityError::range(
                "state",
                state.to_string(),
                "an envelope state from 0 to 7",
            ));
        }
        let Some(&position) = self.positions.get(message_id) else {
            return Ok(None);
        };
        let record = self
            .records
            .get_mut(&position)
            .expect("positions point at records");
        record.envelope.set_state(state);
        self.refresh_settled(position);
        Ok(Some(&self.records[&position]))
    }

    /// The record `token` points at, while `now_ms - ts_ms <= dedup_window_s * 1000`.
    pub fn get_by_idempotency_token(
        &mut self,
        token: &str,
        now_ms: i64,
    ) -> Option<&ActivityRecord<E>> {
        self.expire_tokens(now_ms);
        self.live_record_for(token, now_ms)
    }

    /// Whether `envelope`'s idempotency token was seen within the window: `New` when it
    /// has no token or no live record carries it, else `Duplicate` (the record's state
    /// is terminal) or `InProgress`. Found records count in `stats().dedup_hits`.
    pub fn check_duplicate(
        &mut self,
        envelope: &E,
        now_ms: i64,
    ) -> Result<DuplicateCheck<'_, E>, ActivityError> {
        let token = envelope.checked_idempotency_token()?;
        self.expire_tokens(now_ms);
        let found = if token.is_empty() {
            None
        } else {
            self.live_record_for(token, now_ms)
                .map(|r| &r.message_id)
                .cloned()
        };
        let Some(message_id) = found else {
            return Ok(DuplicateCheck {
                status: DuplicateStatus::New,
                record: None,
            });
        };
        self.stats.dedup_hits += 1;
        let record = self.get(&message_id).expect("live record is resident");
        let status = if is_terminal_state(record.state()) {
            DuplicateStatus::Duplicate
        } else {
            DuplicateStatus::InProgress
        };
        Ok(DuplicateCheck {
            status,
            record: Some(record),
        })
    }

    /// Removes every record; statistics are kept.
    pub fn clear(&mut self) -> Vec<ActivityRecord<E>> {
        let cleared = std::mem::take(&mut self.records).into_values().collect();
        self.positions.clear();
        self.settled.clear();
        self.tokens.clear();
        cleared
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn max_items(&self) -> usize {
        self.max_items
    }

    pub fn dedup_window_s(&self) -> u64 {
        (self.dedup_window_ms / 1000) as u64
    }

    pub fn stats(&self) -> ActivityStats {
        self.stats
    }

    /// All records, oldest first.
    pub fn records(
        &self,
    ) -> impl DoubleEndedIterator<Item = &ActivityRecord<E>> + ExactSizeIterator {
        self.records.values()
    }

    /// Builds a buffer holding `records` in the given order, as `record_*` would have
    /// left them (tokens pointing at the most recently recorded carrier). The caller has
    /// checked ids are unique and each record is valid.
    pub(crate) fn from_records(
        records: Vec<ActivityRecord<E>>,
        options: ActivityBufferOptions,
    ) -> Result<Self, ActivityError> {
        let mut buffer = ActivityBuffer::new(options)?;
        if records.len() > buffer.max_items {
            return Err(ActivityError::BufferFull {
                current_size: records.len(),
                max_size: buffer.max_items,
            });
        }
        let mut carriers: Vec<(i64, u64)> = Vec::new();
        for record in records {
            let position = buffer.next_position;
            buffer.next_position += 1;
            if !record.idempotency_token().is_empty() {
                carriers.push((record.ts_ms, position));
            }
            buffer.positions.insert(record.message_id.clone(), position);
            buffer.records.insert(position, record);
            buffer.refresh_settled(position);
        }
        carriers.sort_unstable();
        for (ts_ms, position) in carriers {
            let record = &buffer.records[&position];
            buffer
                .tokens
                .insert(record.idempotency_token(), &record.message_id, ts_ms);
        }
        Ok(buffer)
    }

    #[cfg(test)]
    pub(crate) fn token_index_len(&self) -> usize {
        self.tokens.len()
    }

    #[cfg(test)]
    pub(crate) fn token_queue_len(&self) -> usize {
        self.tokens.queued()
    }

    fn live_record_for(&self, token: &str, now_ms: i64) -> Option<&ActivityRecord<E>> {
        let record = self.get(self.tokens.get(token)?)?;
        (now_ms.saturating_sub(record.ts_ms) <= self.dedup_window_ms).then_some(record)
    }

    fn expire_tokens(&mut self, now_ms: i64) {
        let (records, positions) = (&self.records, &self.positions);
        let ts_of = |id: &str| positions.get(id).map(|position| records[position].ts_ms);
        self.tokens.expire(now_ms, self.dedup_window_ms, ts_of);
    }

    fn refresh_settled(&mut self, position: u64) {
        let record = &self.records[&position];
        if is_terminal_stage(record.ack_stage) || is_terminal_state(record.state()) {
            self.settled.insert(position);
        } else {
            self.settled.remove(&position);
        }
    }

    /// Ensures one more record fits: evicts per the strategy (returning the evicted
    /// records), or refuses. Victims are all chosen and checked before any is removed.
    fn make_room(&mut self) -> Result<Vec<ActivityRecord<E>>, ActivityError> {
        if self.records.len() < self.max_items {
            return Ok(Vec::new());
        }
        if self.on_full == OnFull::Reject {
            self.stats.rejections += 1;
            return Err(ActivityError::BufferFull {
                current_size: self.records.len(),
                max_size: self.max_items,
            });
        }
        let excess = self.records.len() + 1 - self.max_items;
        let victims = self.choose_victims(excess)?;
        self.stats.evictions += victims.len() as u64;
        Ok(victims
            .into_iter()
            .map(|position| self.remove_at(position))
            .collect())
    }

    /// Positions of at least `excess` distinct resident records.
    fn choose_victims(&mut self, excess: usize) -> Result<Vec<u64>, ActivityError> {
        let positions = self.records.keys().copied();
        let victims = match self.strategy {
            Strategy::Fifo => positions.take(excess).collect(),
            Strategy::Lifo => positions.rev().take(excess).collect(),
            Strategy::SettledFirst => {
                let mut chosen: Vec<u64> = self.settled.iter().copied().take(excess).collect();
                let missing = excess - chosen.len();
                let unsettled = positions.filter(|p| !self.settled.contains(p));
                chosen.extend(unsettled.take(missing));
                chosen
            }
            Strategy::Random { .. } => {
                let mut chosen: Vec<u64> = Vec::with_capacity(excess);
                while chosen.len() < excess {
                    let position = self.draw_random_position(&chosen);
                    chosen.push(position);
                }
                chosen
            }
            Strategy::Custom(_) => self.custom_victims(excess)?,
        };
        Ok(victims)
    }

    /// A uniformly drawn resident position not in `exclude` (which leaves at least one).
    ///
    /// Probes uniform positions between the oldest and newest record, accepting resident
    /// ones (uniform over residents; cheap while positions are dense, as random eviction
    /// keeps them); after `RANDOM_PROBES` misses, draws a rank and walks to it.
    fn draw_random_position(&mut self, exclude: &[u64]) -> u64 {
        const RANDOM_PROBES: usize = 32;
        let first = *self
            .records
            .keys()
            .next()
            .expect("a full buffer has records");
        let last = *self
            .records
            .keys()
            .next_back()
            .expect("a full buffer has records");
        for _ in 0..RANDOM_PROBES {
            let position = first + self.random.below(last - first + 1);
            if self.records.contains_key(&position) && !exclude.contains(&position) {
                return position;
            }
        }
        let rank = self
            .random
            .below((self.records.len() - exclude.len()) as u64);
        self.records
            .keys()
            .copied()
            .filter(|p| !exclude.contains(p))
            .nth(rank as usize)
            .expect("rank below candidate count")
    }

    /// Asks the custom chooser, then checks every id before anything is removed.
    fn custom_victims(&mut self, excess: usize) -> Result<Vec<u64>, ActivityError> {
        let Strategy::Custom(chooser) = &mut self.strategy else {
            unreachable!("called for custom strategies only");
        };
        let order: Vec<String> = self
            .records
            .values()
            .map(|r| r.message_id.clone())
            .collect();
        let named = chooser
            .victims(order, excess)
            .map_err(|message| ActivityError::StrategyFailed { message })?;
        let mut seen = HashSet::new();
        let mut chosen = Vec::with_capacity(named.len());
        for id in named {
            let Some(&position) = self.positions.get(&id) else {
                return Err(ActivityError::UnknownVictim { id });
            };
            if seen.insert(position) {
                chosen.push(position);
            }
        }
        if chosen.len() < excess {
            return Err(ActivityError::NotEnoughVictims {
                needed: excess,
                returned: chosen.len(),
            });
        }
        Ok(chosen)
    }

    fn remove_at(&mut self, position: u64) -> ActivityRecord<E> {
        let record = self
            .records
            .remove(&position)
            .expect("victims are resident");
        self.positions.remove(&record.message_id);
        self.settled.remove(&position);
        self.tokens
            .remove_if_points_at(record.idempotency_token(), &record.message_id);
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn random_buffer(records: usize) -> ActivityBuffer {
        let mut buffer = ActivityBuffer::new(ActivityBufferOptions {
            max_items: records,
            strategy: Strategy::Random { seed: 3 },
            ..ActivityBufferOptions::default()
        })
        .unwrap();
        for i in 0..records {
            let envelope = Envelope::from_json(json!({ "message_id": format!("m{i}") })).unwrap();
            buffer.record_outgoing(envelope, 0).unwrap();
        }
        buffer
    }

    #[test]
    fn random_draws_are_uniform_over_residents() {
        let mut buffer = random_buffer(4);
        let mut counts = [0usize; 4];
        for _ in 0..40_000 {
            counts[buffer.draw_random_position(&[]) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn random_draws_fall_back_to_a_rank_walk_when_probes_miss() {
        let mut buffer = random_buffer(1000);
        let exclude: Vec<u64> = (0..999).collect();
        assert_eq!(buffer.draw_random_position(&exclude), 999);
    }
}
