// EventBuffer: payload objects stay in a JS array of slots; the wasm core
// (src/core/event_buffer.rs, `SlottedEventBuffer`) decides their order, the bound, drops and
// type filters. Adds are batched: the core leases a plan for the next adds, `add` carries out
// one step of it, and the kinds added are committed to the core in one call.
import { EventBufferCore } from './wasm/tidepool.js';
import { describe, optionsObject } from './arguments.js';

/** A payload's kind as the core knows it (src/core/event_buffer.rs, `PayloadKind`). */
function kindTag(payload) {
  const type = payload.type;
  return type === 'actions' ? 1 : type === 'summary' ? 2 : 0;
}

/**
 * Steps per lease. A lease carried out to its end is followed by one twice as long, up to
 * the maximum; after a drain or clear ends a lease early, leases start short again, so code
 * that drains after every few adds does not plan steps it never takes.
 */
const MIN_LEASE = 16;
const MAX_LEASE = 1024;
const NO_LEASE = new Uint32Array(0);

/** At most one warning per interval for drops nobody handles, and for a failing onDrop. */
const WARNING_INTERVAL_MS = 10_000;

class RateLimitedWarning {
  #lastWarnedAt = -Infinity;
  #suppressed = 0;

  /** Whether a warning may be printed now; when not, counts one more suppressed warning. */
  due() {
    if (Date.now() - this.#lastWarnedAt < WARNING_INTERVAL_MS) {
      this.#suppressed += 1;
      return false;
    }
    return true;
  }

  /** Prints a warning that was `due()`. */
  warn(message, detail) {
    const suppressed = this.#suppressed ? ` (${this.#suppressed} more since the last warning)` : '';
    this.#lastWarnedAt = Date.now();
    this.#suppressed = 0;
    if (detail === undefined) console.warn(`tidepool: ${message}${suppressed}`);
    else console.warn(`tidepool: ${message}${suppressed}`, detail);
  }
}

/**
 * A bounded buffer of connector events, drained on your own cadence. When full, the
 * oldest payload is dropped and passed to `onDrop`.
 */
export class EventBuffer {
  #core;
  #payloads = [];
  #onDrop;
  #warning = new RateLimitedWarning();
  // The lease: what the next adds do, `slot << 1 | dropped` per add, planned by the core.
  // Steps before #committed are committed to the core; steps from #committed to #step are
  // carried out here (payload stored, kind in #kinds) but not yet committed; the rest are to
  // come. The core changes only through commits while a lease is held, so the rest stays exact.
  #lease = NO_LEASE;
  #step = 0;
  #committed = 0;
  #kinds = new Uint8Array(MAX_LEASE);
  #leaseSize = MIN_LEASE;

  constructor(options) {
    const { maxSize, onDrop } = optionsObject(options, 'EventBuffer');
    if (onDrop !== undefined && typeof onDrop !== 'function') {
      throw new TypeError(`onDrop must be a function, got ${describe(onDrop)}`);
    }
    this.#core = new EventBufferCore(maxSize);
    this.#onDrop = onDrop;
    this.add = this.add.bind(this);
  }

  /** Adds a payload object; bound, so `client.onActions(buffer.add)` works. */
  add(payload) {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new TypeError(`EventBuffer.add expects a payload object, got ${describe(payload)}`);
    }
    // Before touching the lease: reading `type` may run a getter that uses this buffer.
    const kind = kindTag(payload);
    if (this.#step === this.#lease.length) this.#renewLease();
    const step = this.#step;
    const placed = this.#lease[step];
    this.#kinds[step] = kind;
    this.#step = step + 1;
    const slot = placed >>> 1;
    if ((placed & 1) === 0) {
      this.#payloads[slot] = payload;
      return;
    }
    const dropped = this.#payloads[slot];
    this.#payloads[slot] = payload;
    // This add is complete on our side before calling out, so onDrop may use the buffer.
    this.#reportDrop(dropped);
  }

  /** Every payload in arrival order; the buffer is emptied. */
  drain() {
    this.#endLease();
    const payloads = this.#take(this.#core.drain());
    this.#payloads = [];
    return payloads;
  }

  /** Drains the payloads of the selected types; the others stay, in order. */
  drainByType(options) {
    const { actions = true, summaries = true } = optionsObject(options, 'drainByType');
    for (const [name, value] of [['actions', actions], ['summaries', summaries]]) {
      if (typeof value !== 'boolean') {
        throw new TypeError(`drainByType: ${name} must be a boolean, got ${describe(value)}`);
      }
    }
    this.#endLease();
    const slots = this.#core.drainByType(actions, summaries);
    const payloads = this.#take(slots);
    for (const slot of slots) this.#payloads[slot] = undefined;
    return payloads;
  }

  /** The newest `n` payloads (all when omitted), oldest first; nothing is removed. */
  peek(n) {
    this.#commit();
    return this.#take(this.#core.peek(n));
  }

  /** Discards every payload. Returns how many were discarded. */
  clear() {
    this.#endLease();
    this.#payloads = [];
    return this.#core.clear();
  }

  get size() {
    this.#commit();
    return this.#core.size;
  }

  get isEmpty() {
    this.#commit();
    return this.#core.size === 0;
  }

  /** The bound; 0 means unlimited. */
  get maxSize() {
    return this.#core.maxSize;
  }

  /** Payloads dropped because the buffer was full, over its lifetime. */
  get droppedCount() {
    this.#commit();
    return this.#core.droppedCount;
  }

  /** Commits the adds carried out so far and leases the next steps. */
  #renewLease() {
    if (this.#lease.length !== 0) this.#leaseSize = Math.min(2 * this.#leaseSize, MAX_LEASE);
    const kinds = this.#kinds.subarray(this.#committed, this.#step);
    this.#lease = this.#core.lease(kinds, this.#leaseSize);
    this.#step = 0;
    this.#committed = 0;
  }

  /** Commits the adds carried out since the last commit; the rest of the lease stays valid. */
  #commit() {
    if (this.#step === this.#committed) return;
    this.#core.commit(this.#kinds.subarray(this.#committed, this.#step));
    this.#committed = this.#step;
  }

  /** Commits, then gives the rest of the lease up: the core is about to change otherwise. */
  #endLease() {
    this.#commit();
    this.#lease = NO_LEASE;
    this.#step = 0;
    this.#committed = 0;
    this.#leaseSize = MIN_LEASE;
  }

  #take(slots) {
    const payloads = new Array(slots.length);
    for (let i = 0; i < slots.length; i++) payloads[i] = this.#payloads[slots[i]];
    return payloads;
  }

  #reportDrop(payload) {
    if (this.#onDrop === undefined) {
      if (!this.#warning.due()) return;
      this.#warning.warn(
        `EventBuffer full (maxSize=${this.maxSize}): dropped the oldest payload; ` +
          `${this.droppedCount} dropped in total. Pass onDrop to handle drops.`,
      );
      return;
    }
    try {
      this.#onDrop(payload);
    } catch (error) {
      if (this.#warning.due()) this.#warning.warn('EventBuffer onDrop callback threw', error);
    }
  }
}
