// ActivityBuffer and the SW4RM envelope helpers. The records, ack rules, dedup window,
// eviction and snapshot format live in Rust (src/core/activity/, bound in
// src/wasm/activity.rs); this module adds the clock, bound methods and error classes, and
// keeps the recorded envelopes: copies in an array indexed by the slot the core assigns.
import * as core from './wasm/tidepool.js';
import { callCore, TidepoolError } from './errors.js';
import { bindMethods, describe, optionsObject } from './arguments.js';
import { cloneEnvelope, copyEnvelope } from './envelope_copy.js';
import { ROW } from './activity_row.js';
import { internal } from './internal.js';

// The protocol constants, as literals: this module is evaluated before the entry module
// instantiates the wasm, so it cannot call into it here. `cargo test` checks that they
// equal the core's tables (tests/js_constants.rs against src/core/activity/constants.rs).

/** Acknowledgement stages (0-6). */
export const AckStage = Object.freeze({
  UNSPECIFIED: 0, RECEIVED: 1, READ: 2, FULFILLED: 3, REJECTED: 4, FAILED: 5, TIMED_OUT: 6,
});
/** Envelope states (0-7); PENDING and RUNNING are aliases of RECEIVED and READ. */
export const EnvelopeState = Object.freeze({
  UNSPECIFIED: 0, SENT: 1, RECEIVED: 2, READ: 3, FULFILLED: 4, REJECTED: 5, FAILED: 6, TIMED_OUT: 7,
  PENDING: 2, RUNNING: 3,
});
/** Protocol error codes. */
export const ErrorCode = Object.freeze({
  UNSPECIFIED: 0, BUFFER_FULL: 1, NO_ROUTE: 2, ACK_TIMEOUT: 3, AGENT_UNAVAILABLE: 4, AGENT_SHUTDOWN: 5,
  VALIDATION_ERROR: 6, PERMISSION_DENIED: 7, UNSUPPORTED_MESSAGE_TYPE: 8, OVERSIZE_PAYLOAD: 9, TOOL_TIMEOUT: 10,
  PARTIAL_DELIVERY: 11, FORCED_PREEMPTION: 12, TTL_EXPIRED: 13, DUPLICATE_DETECTED: 14, ALREADY_IN_PROGRESS: 15,
  INTERNAL_ERROR: 99,
});
/** Message types. */
export const MessageType = Object.freeze({
  UNSPECIFIED: 0, CONTROL: 1, DATA: 2, HEARTBEAT: 3, NOTIFICATION: 4, ACKNOWLEDGEMENT: 5, HITL_INVOCATION: 6,
  WORKTREE_CONTROL: 7, NEGOTIATION: 8, TOOL_CALL: 9, TOOL_RESULT: 10, TOOL_ERROR: 11,
});

/** True exactly for the terminal envelope states FULFILLED, REJECTED, FAILED, TIMED_OUT (4-7). */
export function isTerminalState(state) {
  return core.isTerminalState(state);
}

/** True exactly for the terminal ack stages FULFILLED, REJECTED, FAILED, TIMED_OUT (3-6). */
export function isTerminalStage(stage) {
  return core.isTerminalStage(stage);
}

/** A new outgoing envelope (snake_case wire object) with a fresh UUIDv4 message_id. */
export function buildEnvelope(options) {
  return callCore(() => core.buildEnvelope(options, Date.now()));
}

/** `{producerId}:{operation}:{16 hex of sha256(producerId \n operation \n bytes)}`; a string is hashed as UTF-8. */
export function computeIdempotencyToken(producerId, operation, bytes) {
  return callCore(() => core.computeIdempotencyToken(producerId, operation, bytes));
}

/** Hands out start, start + 1, ... (per producer sequence numbers). */
export class SequenceTracker {
  #core;

  constructor(start = 1) {
    this.#core = new core.SequenceTrackerCore(start);
    bindMethods(this);
  }

  next() {
    return this.#core.next();
  }
}

const OPTION_NAMES = new Set(['maxItems', 'dedupWindowS', 'strategy', 'onFull', 'now']);

/** The options object checked for shape; the core checks the values. */
function checkedOptions(given, what) {
  const options = optionsObject(given, what, OPTION_NAMES);
  const { now = Date.now } = options;
  if (typeof now !== 'function') {
    throw new TypeError(`now must be a function returning milliseconds, got ${describe(now)}`);
  }
  return { ...options, now, strategy: strategyForCore(options.strategy) };
}

/**
 * A custom strategy (`{ victims(order, excess) }`) as the core calls it: its `victims`
 * answers an array of the first ids the iterable the caller's returned yields, at most as
 * many as are resident (`order.length`: more could only repeat ids, and an endless
 * generator must not run on), or the returned value itself when it is not an iterable
 * object (the core reports it). What the caller's throws propagates (the core keeps it as
 * the error's `cause`). Other strategies pass through unchanged.
 */
function strategyForCore(strategy) {
  if (strategy === null || typeof strategy !== 'object') return strategy;
  const { victims } = strategy;
  if (typeof victims !== 'function') return strategy;
  return {
    victims(order, excess) {
      const ids = victims.call(strategy, order, excess);
      if (ids === null || typeof ids !== 'object' || typeof ids[Symbol.iterator] !== 'function') return ids;
      const taken = [];
      if (order.length === 0) return taken;
      for (const id of ids) {
        taken.push(id);
        if (taken.length === order.length) break;
      }
      return taken;
    },
  };
}

/** What a custom strategy's `victims()` gets when it calls back into the buffer it is choosing for. */
function reentrantCall() {
  return new TidepoolError(
    'ActivityBuffer: a custom strategy cannot use the buffer it chooses victims for while it is ' +
      'choosing them (the buffer is in the middle of recording); decide from the order of ids it receives',
    { code: 'REENTRANT_CALL' },
  );
}

const DUPLICATE_STATUS = ['new', 'duplicate', 'in_progress'];
/** Keys only snapshots may carry (src/core/activity/envelope.rs); a recorded envelope with one is refused. */
const SNAPSHOT_MARKERS = ['_bytes_fields', '_payload_is_b64'];

/** A core built by `fromSnapshot`, adopted by the constructor it calls next (synchronously). */
let loadedCore;

/**
 * The message lifecycle of a SW4RM agent: every incoming and outgoing envelope, its ack
 * stage, idempotency dedup within a window, bounded capacity, and reconcile after restart.
 * Returned records are plain snapshot objects (copies); nothing returned needs `free()`.
 */
export class ActivityBuffer {
  #core;
  #now;
  /** Copies of the recorded envelopes, indexed by slot; invariant: exactly the resident records' slots are set. */
  #envelopes = [];
  /** True while the core records, the only time it calls a custom strategy (see `#live`). */
  #recording = false;

  constructor(options = {}) {
    const loaded = loadedCore;
    loadedCore = undefined;
    const { maxItems, dedupWindowS, strategy, onFull, now } = checkedOptions(options, 'ActivityBuffer');
    this.#now = now;
    this.#core = loaded ?? callCore(() => new core.ActivityBufferCore(maxItems, dedupWindowS, strategy, onFull));
    if (loaded) this.#envelopes = Array.from(loaded.takeLoadedEnvelopes());
    bindMethods(this);
  }

  /**
   * The core, for every method. While the core records, the only JS it runs is a custom
   * strategy's `victims()`; a call back into this buffer from there gets a TidepoolError
   * `REENTRANT_CALL` that says so (the core is busy: it cannot be entered twice).
   */
  get #live() {
    if (this.#recording) throw reentrantCall();
    return this.#core;
  }

  /** A buffer holding the records of a snapshot in the reference file format. @throws SnapshotError */
  static fromSnapshot(snapshot, options = {}) {
    const { maxItems, dedupWindowS, strategy, onFull } = checkedOptions(options, 'ActivityBuffer.fromSnapshot');
    loadedCore = callCore(() => core.ActivityBufferCore.fromSnapshot(snapshot, maxItems, dedupWindowS, strategy, onFull));
    return new ActivityBuffer(options);
  }

  /** Records a received envelope; returns the record. Every method is bound. */
  recordIncoming(envelope) {
    return this.#record(true, envelope);
  }

  /** Records a sent envelope (bound); returns the record. */
  recordOutgoing(envelope) {
    return this.#record(false, envelope);
  }

  /** Applies `{ ack_for_message_id, ack_stage, error_code, note }` (bound); the record, or undefined. */
  ack(ack) {
    return this.#recordAt(callCore(() => this.#live.ack(ack)), 0);
  }

  get(messageId) {
    return this.#recordAt(callCore(() => this.#live.get(messageId)), 0);
  }

  /** Records of both directions with stage UNSPECIFIED, RECEIVED or READ, oldest first. */
  unacked() {
    return this.#recordsIn(this.#live.unacked());
  }

  /** Unacked outgoing records, oldest first: what to retry after a restart. */
  reconcile() {
    return this.#recordsIn(this.#live.reconcile());
  }

  /** The last `n` records, oldest first ([] for n <= 0). */
  recent(n = 50) {
    return this.#recordsIn(callCore(() => this.#live.recent(n)));
  }

  /** Sets the envelope state (0-7) of a record; the record, or undefined. */
  updateState(messageId, state) {
    const row = callCore(() => this.#live.updateState(messageId, state));
    if (row.length === 0) return undefined;
    this.#envelopes[row[ROW.slot]].state = row[ROW.state];
    return this.#recordAt(row, 0);
  }

  /** The record a token maps to, while within the dedup window; else undefined. */
  getByIdempotencyToken(token) {
    const now = this.#time();
    return this.#recordAt(callCore(() => this.#live.getByIdempotencyToken(token, now)), 0);
  }

  /** `{ status: 'new' | 'duplicate' | 'in_progress', record }` for the envelope's idempotency token. */
  checkDuplicate(envelope) {
    const now = this.#time();
    const { idempotency_token: token } = copyEnvelope(envelope);
    const answer = callCore(() => this.#live.checkDuplicate(token, now));
    return { status: DUPLICATE_STATUS[answer[0]], record: this.#recordAt(answer, 1) ?? null };
  }

  /** Removes every record; statistics are kept. */
  clear() {
    this.#live.clear();
    this.#envelopes = [];
  }

  get size() {
    return this.#live.size;
  }

  /** Lifetime counters: `{ evictions, rejections, ignoredAcks, dedupHits }`. */
  stats() {
    const [evictions, rejections, ignoredAcks, dedupHits] = this.#live.stats();
    return { evictions, rejections, ignoredAcks, dedupHits };
  }

  /** The buffer in the reference file format (plain JSON data; bytes as base64). */
  toSnapshot() {
    return callCore(() => this.#live.toSnapshot(this.#envelopes));
  }

  static {
    // PersistentActivityBuffer (persistence/activity.js) reads the core's changes with the
    // envelope copies, and takes over the state of a buffer loaded from a snapshot.
    internal.activity = {
      core: (buffer) => buffer.#core,
      envelopes: (buffer) => buffer.#envelopes,
      adopt(target, source) {
        target.#core = source.#core;
        target.#envelopes = source.#envelopes;
      },
    };
  }

  /** Records `envelope`: the core checks the fields it reads and assigns the copy a slot. */
  #record(incoming, envelope) {
    const now = this.#time();
    const copy = copyEnvelope(envelope);
    const { message_id: id, idempotency_token: token, correlation_id: correlation, state } = copy;
    const marker = SNAPSHOT_MARKERS.find((key) => copy[key] !== undefined);
    const live = this.#live;
    let answer;
    this.#recording = true;
    try {
      answer = callCore(() => live.record(incoming, id, token, correlation, state, marker, now));
    } finally {
      this.#recording = false;
    }
    for (let i = ROW.length; i < answer.length; i++) this.#envelopes[answer[i]] = undefined;
    this.#envelopes[answer[ROW.slot]] = copy;
    return this.#recordAt(answer, 0);
  }

  /** The record in `rows` at `offset` (see `ROW`) with a copy of its envelope; undefined past the end. */
  #recordAt(rows, offset) {
    if (offset >= rows.length) return undefined;
    const envelope = this.#envelopes[rows[offset + ROW.slot]];
    return {
      message_id: envelope.message_id,
      direction: rows[offset + ROW.outgoing] ? 'out' : 'in',
      envelope: cloneEnvelope(envelope),
      ts_ms: rows[offset + ROW.tsMs],
      ack_stage: rows[offset + ROW.ackStage],
      error_code: rows[offset + ROW.errorCode],
      ack_note: rows[offset + ROW.hasNote] ? this.#live.ackNote(envelope.message_id) : '',
      state: rows[offset + ROW.state],
      // The core copied these from this envelope when it was recorded; '' when absent.
      idempotency_token: envelope.idempotency_token ?? '',
      correlation_id: envelope.correlation_id ?? '',
    };
  }

  #recordsIn(rows) {
    const records = [];
    for (let offset = 0; offset < rows.length; offset += ROW.length) records.push(this.#recordAt(rows, offset));
    return records;
  }

  #time() {
    const now = this.#now();
    if (typeof now !== 'number' || !Number.isFinite(now)) {
      throw new TypeError(`now() must return a finite number of milliseconds, got ${describe(now)}`);
    }
    return now;
  }
}
