// EventBuffer: payload objects stay in a JS array, each at the position the wasm core
// (src/core/event_buffer.rs) gives it; the core decides their order, the bound, drops and type
// filters. Adds are batched: the core leases a plan for the next adds, `add` carries out one
// step of it, and the kinds added are committed to the core in one call.
import { EventBufferCore, wasmMemory } from './wasm/tidepool.js';
import { bindMethods, describe, optionsObject } from './arguments.js';

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

/** Copies `source[from, to)` to `target[from, to)`: short runs element by element. */
function copyRange(source, target, from, to) {
  if (to - from <= MIN_LEASE) {
    for (let i = from; i < to; i++) target[i] = source[i];
  } else {
    target.set(source.subarray(from, to), from);
  }
}

/** At most one warning per interval for drops nobody handles, and for a failing onDrop. */
const WARNING_INTERVAL_MS = 10_000;

export class RateLimitedWarning {
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
  // #payloads[p] is the payload at position p of the core, for the committed adds and for
  // those carried out since (#committed to #step below).
  #payloads = [];
  #onDrop;
  #warning = new RateLimitedWarning();
  // The lease: what the next adds do, `position << 1 | dropped` per add, planned by the core,
  // in #lease[0, #leaseEnd). Steps before #committed are committed to the core; steps from
  // #committed to #step are carried out here (payload stored, entry overwritten with the
  // payload's kind tag) but not yet committed; the rest are to come. While a lease is held
  // the core changes only through commits of its steps, so the rest stays exact.
  // #lease is a copy of the core's lease array (in wasm memory, viewed by #shared) that a
  // growing wasm memory cannot detach, which keeps the typed-array accesses of `add` fast.
  #lease = new Uint32Array(MAX_LEASE);
  #shared;
  #leaseEnd = 0;
  #step = 0;
  #committed = 0;
  #leaseSize = MIN_LEASE;

  constructor(options) {
    const { maxSize, onDrop } = optionsObject(options, 'EventBuffer', ['maxSize', 'onDrop']);
    if (onDrop !== undefined && typeof onDrop !== 'function') {
      throw new TypeError(`onDrop must be a function, got ${describe(onDrop)}`);
    }
    this.#core = new EventBufferCore(maxSize, MAX_LEASE);
    this.#shared = this.#viewShared();
    this.#onDrop = onDrop;
    bindMethods(this);
  }

  /** Adds a payload object. Every method is bound, so `client.onActions(buffer.add)` works. */
  add(payload) {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new TypeError(`EventBuffer.add expects a payload object, got ${describe(payload)}`);
    }
    // Before touching the lease: reading `type` may run a getter that uses this buffer.
    const kind = kindTag(payload);
    if (this.#step === this.#leaseEnd) this.#renewLease();
    const step = this.#step;
    const placed = this.#lease[step];
    this.#lease[step] = kind;
    this.#step = step + 1;
    const position = placed >>> 1;
    if ((placed & 1) === 0) {
      this.#payloads[position] = payload;
      return;
    }
    const dropped = this.#payloads[position];
    this.#payloads[position] = payload;
    // This add is complete on our side before calling out, so onDrop may use the buffer.
    this.#reportDrop(dropped);
  }

  /** Every payload in arrival order; the buffer is emptied. */
  drain() {
    this.#endLease();
    const drained = this.#core.drain();
    const oldest = drained[0];
    const count = drained[1];
    const payloads = this.#payloads;
    this.#payloads = [];
    // Arrival order is the ring order from `oldest`: often the array as it stands.
    if (oldest === 0 && payloads.length === count) return payloads;
    const inOrder = new Array(count);
    for (let i = 0, p = oldest; i < count; i++, p = p + 1 === count ? 0 : p + 1) {
      inOrder[i] = payloads[p];
    }
    return inOrder;
  }

  /** Drains the payloads of the selected types; the others stay, in order. */
  drainByType(options) {
    const { actions = true, summaries = true } = optionsObject(options, 'drainByType', ['actions', 'summaries']);
    for (const [name, value] of [['actions', actions], ['summaries', summaries]]) {
      if (typeof value !== 'boolean') {
        throw new TypeError(`drainByType: ${name} must be a boolean, got ${describe(value)}`);
      }
    }
    this.#endLease();
    // How many are drained, their positions, then the former positions of those kept.
    const positions = this.#core.drainByType(actions, summaries);
    const drained = this.#take(positions.subarray(1, 1 + positions[0]));
    this.#payloads = this.#take(positions.subarray(1 + positions[0]));
    return drained;
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
    if (this.#leaseEnd !== 0) this.#leaseSize = Math.min(2 * this.#leaseSize, MAX_LEASE);
    copyRange(this.#lease, this.#sharedLease(), this.#committed, this.#step);
    this.#core.lease(this.#committed, this.#step, this.#leaseSize);
    copyRange(this.#sharedLease(), this.#lease, 0, this.#leaseSize);
    this.#leaseEnd = this.#leaseSize;
    this.#step = 0;
    this.#committed = 0;
  }

  /** Commits the adds carried out since the last commit; the rest of the lease stays valid. */
  #commit() {
    if (this.#step === this.#committed) return;
    copyRange(this.#lease, this.#sharedLease(), this.#committed, this.#step);
    this.#core.commit(this.#committed, this.#step);
    this.#committed = this.#step;
  }

  /** The core's lease array, viewed again if wasm memory grew (which detaches views). */
  #sharedLease() {
    if (this.#shared.length === 0) this.#shared = this.#viewShared();
    return this.#shared;
  }

  #viewShared() {
    return new Uint32Array(wasmMemory().buffer, this.#core.leaseAddress, MAX_LEASE);
  }

  /** Commits, then gives the rest of the lease up: the core is about to change otherwise. */
  #endLease() {
    this.#commit();
    this.#leaseEnd = 0;
    this.#step = 0;
    this.#committed = 0;
    this.#leaseSize = MIN_LEASE;
  }

  #take(positions) {
    const payloads = new Array(positions.length);
    for (let i = 0; i < positions.length; i++) payloads[i] = this.#payloads[positions[i]];
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
