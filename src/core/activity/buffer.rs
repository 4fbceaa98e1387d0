//! The activity buffer: recorded envelopes in insertion order, their ack stages, an
//! idempotency index with a dedup window, and bounded capacity.

use std::collections::{vec_deque, VecDeque};

use serde::Serialize;

use super::constants::{ack_stage, envelope_state, is_terminal_stage, is_terminal_state};
use super::envelope::Envelope;
use super::error::ActivityError;
use super::record::{Ack, ActivityRecord, Direction, RecordedEnvelope, STAGE_EXPECTED};
use super::strategy::{OnFull, SplitMix64, Strategy};
use super::token_index::{KeyHasher, KeyIndex, TokenIndex};

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
/// - every resident record has a *position*; positions increase in insertion order, and
///   re-recording an id keeps its position. `slots` holds the record at position
///   `first + i` in `slots[i]`, or a hole (`None`) where a record was removed. Holes are
///   popped at both ends, so the first and last slots hold records (or there are none).
///   A position popped at the back is given to the next record (see `TokenIndex` for
///   why the token queue does not mind);
/// - `holes <= len()` after every call: when removing victims leaves more holes than
///   records, the slots are compacted: the residents are renumbered `0..len()` in order,
///   and `ids`, `settled` and the token index are renumbered with them. So memory is
///   O(resident records), a uniformly drawn slot is resident with probability >= 1/2,
///   and compaction (O(len)) comes only after at least `len()` removals: O(1) amortised;
/// - `ids` indexes exactly the resident message ids (each by its record's position);
///   each record keeps the hashes of its id and token, so nothing is hashed twice to
///   unindex or renumber it;
/// - with `Strategy::SettledFirst`, `settled` holds exactly the positions of records with
///   a terminal ack stage or a terminal envelope state (the candidates), in increasing
///   order; with other strategies it is empty (nothing reads it);
/// - `len() <= max_items` at all times: a new record is admitted only after the victims
///   chosen among the *resident* records are gone, so a new record is never its own
///   victim (`Lifo` evicts the newest resident record, not the incoming one), and
///   re-recording a resident id never needs room;
/// - ack stages only move forward, and never away from a terminal stage;
/// - see [`TokenIndex`] for the token index; a token lookup succeeds only while
///   `now - ts_ms <= dedup_window_s * 1000` for the record it points at.
///
/// Costs: recording, acking, `update_state` and lookups by id or token are O(1)
/// (amortised, expected), plus choosing victims when full: `Fifo` and `Lifo` O(1);
/// `Random` O(1) expected; `SettledFirst` O(1) to take the oldest candidate, and keeping
/// the candidates sorted costs a record that settles or unsettles O(log len + its
/// distance from the nearer end of `settled`), O(1) when records settle roughly in
/// order; custom O(len) (the chooser is handed the whole order). `unacked`, `reconcile`
/// and `clear` are O(len); `recent(n)` is O(n + the holes it steps over).
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
    slots: Slots<E>,
    hasher: KeyHasher,
    ids: KeyIndex,
    settled: VecDeque<u64>,
    tokens: TokenIndex,
    stats: ActivityStats,
}

/// A resident record with the hashes of its keys (`token_hash` is 0 when it has no
/// token), so that unindexing or renumbering it needs no rehashing.
#[derive(Debug)]
struct Resident<E> {
    record: ActivityRecord<E>,
    id_hash: u64,
    token_hash: u64,
}

/// Records by position: `slots[i]` is position `first + i`; see [`ActivityBuffer`].
#[derive(Debug)]
struct Slots<E> {
    first: u64,
    slots: VecDeque<Option<Resident<E>>>,
}

impl<E> Slots<E> {
    fn get(&self, position: u64) -> Option<&Resident<E>> {
        self.slots.get(self.index(position)?)?.as_ref()
    }

    fn get_mut(&mut self, position: u64) -> Option<&mut Resident<E>> {
        let index = self.index(position)?;
        self.slots.get_mut(index)?.as_mut()
    }

    fn index(&self, position: u64) -> Option<usize> {
        usize::try_from(position.checked_sub(self.first)?).ok()
    }

    /// The position the next record gets.
    fn next_position(&self) -> u64 {
        self.first + self.slots.len() as u64
    }

    fn push(&mut self, resident: Resident<E>) -> u64 {
        let position = self.next_position();
        self.slots.push_back(Some(resident));
        position
    }

    /// Removes the record at `position` (which must be resident), popping holes at both
    /// ends.
    fn take(&mut self, position: u64) -> Resident<E> {
        let index = self.index(position).expect("a resident position");
        let resident = self.slots[index].take().expect("a resident position");
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.first += 1;
        }
        while let Some(None) = self.slots.back() {
            self.slots.pop_back();
        }
        resident
    }

    fn holes(&self, live: usize) -> usize {
        self.slots.len() - live
    }

    /// The resident positions, oldest first.
    fn positions(&self) -> impl DoubleEndedIterator<Item = u64> + '_ {
        let first = self.first;
        self.slots
            .iter()
            .enumerate()
            .filter_map(move |(index, slot)| slot.as_ref().map(|_| first + index as u64))
    }
}

/// The records of an [`ActivityBuffer`], oldest first: the slots without the holes.
struct Records<'a, E> {
    slots: vec_deque::Iter<'a, Option<Resident<E>>>,
    left: usize,
}

impl<'a, E> Iterator for Records<'a, E> {
    type Item = &'a ActivityRecord<E>;

    fn next(&mut self) -> Option<Self::Item> {
        let resident = self.slots.find_map(Option::as_ref)?;
        self.left -= 1;
        Some(&resident.record)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<E> DoubleEndedIterator for Records<'_, E> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let resident = self.slots.rfind(|slot| slot.is_some())?.as_ref()?;
        self.left -= 1;
        Some(&resident.record)
    }
}

impl<E> ExactSizeIterator for Records<'_, E> {}

fn is_settled<E: RecordedEnvelope>(record: &ActivityRecord<E>) -> bool {
    is_terminal_stage(record.ack_stage) || is_terminal_state(record.state())
}

/// Whether the record at `position` carries `token` (the token index's key check).
fn carries<E: RecordedEnvelope>(slots: &Slots<E>, position: u64, token: &str) -> bool {
    slots
        .get(position)
        .is_some_and(|r| r.record.idempotency_token() == token)
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
            slots: Slots {
                first: 0,
                slots: VecDeque::new(),
            },
            hasher: KeyHasher::default(),
            ids: KeyIndex::default(),
            settled: VecDeque::new(),
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
        let message_id = envelope.validate_for_record()?;
        let id_hash = self.hasher.hash(message_id);
        let mut evicted = Vec::new();
        let resident = self.find_id(id_hash, message_id);
        let (position, message_id) = match resident {
            Some(position) => {
                let old = self.slots.get_mut(position).expect("ids point at records");
                self.tokens.remove_if_points_at(old.token_hash, position);
                (position, std::mem::take(&mut old.record.message_id))
            }
            None => {
                evicted = self.make_room()?;
                (self.slots.next_position(), message_id.to_owned())
            }
        };
        let record = ActivityRecord::new(message_id, direction, envelope, now_ms);
        let token_hash = self.token_hash(&record);
        let resident_record = Resident {
            record,
            id_hash,
            token_hash,
        };
        match resident {
            Some(_) => *self.slots.get_mut(position).expect("resident") = resident_record,
            None => {
                self.slots.push(resident_record);
                self.ids.insert(id_hash, position);
            }
        }
        self.index_token(position);
        self.refresh_settled(position);
        self.expire_tokens(now_ms);
        Ok((self.record_at(position), evicted))
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
        let Some(position) = self.position_of(&ack.ack_for_message_id) else {
            return Ok(None);
        };
        let record = &mut self
            .slots
            .get_mut(position)
            .expect("ids point at records")
            .record;
        if is_terminal_stage(record.ack_stage) || ack.ack_stage < record.ack_stage {
            self.stats.ignored_acks += 1;
        } else {
            record.ack_stage = ack.ack_stage;
            record.error_code = ack.error_code;
            record.ack_note.clone_from(&ack.note);
            self.refresh_settled(position);
        }
        Ok(Some(self.record_at(position)))
    }

    pub fn get(&self, message_id: &str) -> Option<&ActivityRecord<E>> {
        self.position_of(message_id)
            .map(|position| self.record_at(position))
    }

    /// Records of both directions with stage UNSPECIFIED, RECEIVED or READ, oldest first.
    pub fn unacked(&self) -> Vec<&ActivityRecord<E>> {
        self.records_where(|r| r.is_unacked())
    }

    /// Unacked outgoing records, oldest first: what to retry after a restart.
    pub fn reconcile(&self) -> Vec<&ActivityRecord<E>> {
        self.records_where(|r| r.direction == Direction::Out && r.is_unacked())
    }

    /// The records `keep` accepts, oldest first.
    fn records_where(&self, keep: impl Fn(&ActivityRecord<E>) -> bool) -> Vec<&ActivityRecord<E>> {
        self.records().filter(|record| keep(record)).collect()
    }

    /// The last `n` records, oldest first; empty for `n <= 0`.
    pub fn recent(&self, n: i64) -> Vec<&ActivityRecord<E>> {
        let n = usize::try_from(n).unwrap_or(0);
        let mut last: Vec<_> = self.records().rev().take(n).collect();
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
        let Some(position) = self.position_of(message_id) else {
            return Ok(None);
        };
        let resident = self.slots.get_mut(position).expect("ids point at records");
        resident.record.envelope.set_state(state);
        self.refresh_settled(position);
        Ok(Some(self.record_at(position)))
    }

    /// The record `token` points at, while `now_ms - ts_ms <= dedup_window_s * 1000`.
    pub fn get_by_idempotency_token(
        &mut self,
        token: &str,
        now_ms: i64,
    ) -> Option<&ActivityRecord<E>> {
        self.expire_tokens(now_ms);
        let position = self.live_position_for(token, now_ms)?;
        Some(self.record_at(position))
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
            self.live_position_for(token, now_ms)
        };
        let Some(position) = found else {
            return Ok(DuplicateCheck {
                status: DuplicateStatus::New,
                record: None,
            });
        };
        self.stats.dedup_hits += 1;
        let record = self.record_at(position);
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
        let cleared = std::mem::take(&mut self.slots.slots)
            .into_iter()
            .flatten()
            .map(|resident| resident.record)
            .collect();
        self.ids.clear();
        self.settled.clear();
        self.tokens.clear();
        cleared
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// The resident records among `ids` (distinct), oldest first; ids not resident are
    /// skipped. O(k log k) for k ids: a durable buffer writes its changed records in this
    /// order.
    pub fn records_among(&self, ids: &[String]) -> Vec<&ActivityRecord<E>> {
        // (position, 0): the element type `from_records` sorts, so both share one sort.
        let mut positions: Vec<(i64, u64)> = ids
            .iter()
            .filter_map(|id| Some((self.position_of(id)? as i64, 0)))
            .collect();
        positions.sort_unstable();
        positions
            .into_iter()
            .map(|(p, _)| self.record_at(p as u64))
            .collect()
    }

    /// All records, oldest first.
    pub fn records(
        &self,
    ) -> impl DoubleEndedIterator<Item = &ActivityRecord<E>> + ExactSizeIterator {
        Records {
            slots: self.slots.slots.iter(),
            left: self.len(),
        }
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
        buffer.slots.slots.reserve_exact(records.len());
        let mut carriers: Vec<(i64, u64)> = Vec::new();
        for record in records {
            let id_hash = buffer.hasher.hash(&record.message_id);
            let token_hash = buffer.token_hash(&record);
            let ts_ms = record.ts_ms;
            let position = buffer.slots.push(Resident {
                record,
                id_hash,
                token_hash,
            });
            buffer.ids.insert(id_hash, position);
            if !buffer.record_at(position).idempotency_token().is_empty() {
                carriers.push((ts_ms, position));
            }
            buffer.refresh_settled(position);
        }
        // Oldest first, so that the newest carrier of a token is indexed last and the
        // expiry queue is in time order.
        carriers.sort_unstable();
        for (_, position) in carriers {
            buffer.index_token(position);
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

    /// Slots and holes, for tests of compaction.
    #[cfg(test)]
    pub(crate) fn slot_count(&self) -> usize {
        self.slots.slots.len()
    }

    fn record_at(&self, position: u64) -> &ActivityRecord<E> {
        &self
            .slots
            .get(position)
            .expect("a resident position")
            .record
    }

    /// The hash of the record's token; 0 when it has none.
    fn token_hash(&self, record: &ActivityRecord<E>) -> u64 {
        match record.idempotency_token() {
            "" => 0,
            token => self.hasher.hash(token),
        }
    }

    fn position_of(&self, message_id: &str) -> Option<u64> {
        self.find_id(self.hasher.hash(message_id), message_id)
    }

    fn find_id(&self, id_hash: u64, message_id: &str) -> Option<u64> {
        let slots = &self.slots;
        self.ids.find(id_hash, |position| {
            slots
                .get(position)
                .is_some_and(|r| r.record.message_id == message_id)
        })
    }

    /// Points the token of the record at `position`, if it has one, at it.
    fn index_token(&mut self, position: u64) {
        let slots = &self.slots;
        let resident = slots.get(position).expect("a resident position");
        let token = resident.record.idempotency_token();
        if !token.is_empty() {
            self.tokens
                .insert(resident.token_hash, position, resident.record.ts_ms, |p| {
                    carries(slots, p, token)
                });
        }
    }

    /// The position of the record `token` points at, if within the window.
    fn live_position_for(&self, token: &str, now_ms: i64) -> Option<u64> {
        let slots = &self.slots;
        let position = self
            .tokens
            .get(self.hasher.hash(token), |p| carries(slots, p, token))?;
        let ts_ms = self.record_at(position).ts_ms;
        (now_ms.saturating_sub(ts_ms) <= self.dedup_window_ms).then_some(position)
    }

    fn expire_tokens(&mut self, now_ms: i64) {
        let slots = &self.slots;
        let ts_of = |position| slots.get(position).map(|r| r.record.ts_ms);
        self.tokens.expire(now_ms, self.dedup_window_ms, ts_of);
    }

    fn tracks_settled(&self) -> bool {
        matches!(self.strategy, Strategy::SettledFirst)
    }

    fn refresh_settled(&mut self, position: u64) {
        if !self.tracks_settled() {
            return;
        }
        let settled = is_settled(self.record_at(position));
        match self.settled.binary_search(&position) {
            Ok(at) if !settled => {
                self.settled.remove(at);
            }
            Err(at) if settled => self.settled.insert(at, position),
            _ => {}
        }
    }

    /// Ensures one more record fits: evicts per the strategy (returning the evicted
    /// records), or refuses. Victims are all chosen and checked before any is removed,
    /// and the slots are compacted only after all are gone.
    fn make_room(&mut self) -> Result<Vec<ActivityRecord<E>>, ActivityError> {
        if self.len() < self.max_items {
            return Ok(Vec::new());
        }
        if self.on_full == OnFull::Reject {
            self.stats.rejections += 1;
            return Err(ActivityError::BufferFull {
                current_size: self.len(),
                max_size: self.max_items,
            });
        }
        let excess = self.len() + 1 - self.max_items;
        let victims = self.choose_victims(excess)?;
        self.stats.evictions += victims.len() as u64;
        let evicted = victims
            .into_iter()
            .map(|position| self.remove_at(position))
            .collect();
        if self.slots.holes(self.len()) > self.len() {
            self.compact();
        }
        Ok(evicted)
    }

    /// Positions of at least `excess` distinct resident records.
    fn choose_victims(&mut self, excess: usize) -> Result<Vec<u64>, ActivityError> {
        let victims = match self.strategy {
            Strategy::Fifo => self.slots.positions().take(excess).collect(),
            Strategy::Lifo => self.slots.positions().rev().take(excess).collect(),
            Strategy::SettledFirst => {
                let settled = &self.settled;
                let unsettled = self
                    .slots
                    .positions()
                    .filter(|p| settled.binary_search(p).is_err());
                settled
                    .iter()
                    .copied()
                    .chain(unsettled)
                    .take(excess)
                    .collect()
            }
            Strategy::Random { .. } => {
                let mut chosen = Vec::with_capacity(excess);
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
    /// Probes uniform slots, accepting resident ones (uniform over residents; as holes
    /// never outnumber residents, a probe hits with probability at least 1/2 when nothing
    /// is excluded); after `RANDOM_PROBES` misses, draws a rank and walks to it.
    fn draw_random_position(&mut self, exclude: &[u64]) -> u64 {
        const RANDOM_PROBES: usize = 32;
        let span = self.slots.slots.len() as u64;
        for _ in 0..RANDOM_PROBES {
            let position = self.slots.first + self.random.below(span);
            if self.slots.get(position).is_some() && !exclude.contains(&position) {
                return position;
            }
        }
        let rank = self.random.below((self.len() - exclude.len()) as u64) as usize;
        self.slots
            .positions()
            .filter(|p| !exclude.contains(p))
            .nth(rank)
            .expect("rank is below the number of candidates")
    }

    /// Asks the custom chooser, then checks every id before anything is removed.
    fn custom_victims(&mut self, excess: usize) -> Result<Vec<u64>, ActivityError> {
        let Strategy::Custom(chooser) = &mut self.strategy else {
            unreachable!("called for custom strategies only");
        };
        let order = self
            .slots
            .slots
            .iter()
            .flatten()
            .map(|resident| resident.record.message_id.clone())
            .collect();
        let named = chooser
            .victims(order, excess)
            .map_err(|message| ActivityError::StrategyFailed { message })?;
        let mut seen = vec![false; self.slots.slots.len()];
        let mut chosen = Vec::with_capacity(named.len());
        for id in named {
            let Some(position) = self.position_of(&id) else {
                return Err(ActivityError::UnknownVictim { id });
            };
            let index = self.slots.index(position).expect("a resident position");
            if !std::mem::replace(&mut seen[index], true) {
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
        let resident = self.slots.take(position);
        self.ids.remove(resident.id_hash, position);
        if let Ok(at) = self.settled.binary_search(&position) {
            self.settled.remove(at);
        }
        self.tokens
            .remove_if_points_at(resident.token_hash, position);
        resident.record
    }

    /// Renumbers the residents `0..len()` in order, dropping the holes, and renumbers
    /// every structure that holds positions.
    fn compact(&mut self) {
        let slots = &self.slots;
        // The new position of each slot's record; `None` for a hole.
        let mut next = 0;
        let renumbered: Vec<Option<u64>> = slots
            .slots
            .iter()
            .map(|slot| {
                slot.as_ref().map(|_| {
                    next += 1;
                    next - 1
                })
            })
            .collect();
        let new_position =
            |position: u64| renumbered.get(slots.index(position)?).copied().flatten();
        // In increasing order with new <= old: an entry already renumbered cannot be
        // mistaken for one not yet renumbered (see `TokenIndex::renumber`).
        let mut carriers = Vec::new();
        for ((position, slot), &to) in (slots.first..).zip(&slots.slots).zip(&renumbered) {
            let (Some(resident), Some(to)) = (slot, to) else {
                continue;
            };
            self.ids.renumber(resident.id_hash, position, to);
            if !resident.record.idempotency_token().is_empty() {
                carriers.push((resident.token_hash, position, to));
            }
        }
        self.tokens.renumber(carriers.into_iter(), new_position);
        for position in self.settled.iter_mut() {
            *position = new_position(*position).unwrap_or(*position);
        }
        self.slots.slots.retain(Option::is_some);
        self.slots.first = 0;
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
    fn random_draws_are_uniform_over_residents_between_holes() {
        let mut buffer = random_buffer(8);
        for position in [1, 3, 4] {
            buffer.remove_at(position);
        }
        assert_eq!(buffer.slot_count(), 8, "three holes, no compaction yet");
        let mut counts = [0usize; 8];
        for _ in 0..50_000 {
            counts[buffer.draw_random_position(&[]) as usize] += 1;
        }
        for (position, &count) in counts.iter().enumerate() {
            if [1, 3, 4].contains(&position) {
                assert_eq!(count, 0, "{counts:?}");
            } else {
                assert!((9_000..11_000).contains(&count), "{counts:?}");
            }
        }
    }

    #[test]
    fn random_draws_fall_back_to_a_rank_walk_when_probes_miss() {
        let mut buffer = random_buffer(1000);
        let exclude: Vec<u64> = (0..999).collect();
        assert_eq!(buffer.draw_random_position(&exclude), 999);
    }
}
