// EventBuffer: payload objects stay in a JS array of slots; the wasm core
// (src/wasm/event_buffer.rs) decides their order, the bound, drops and type filters.
import { EventBufferCore } from './wasm/tidepool.js';
import { describe, optionsObject } from './arguments.js';

/** A payload's kind as the core knows it (src/core/event_buffer.rs, `PayloadKind`). */
function kindTag(payload) {
  const type = payload.type;
  return type === 'actions' ? 1 : type === 'summary' ? 2 : 0;
}

/** At most one warning per interval for drops nobody handles, and for a failing onDrop. */
const WARNING_INTERVAL_MS = 10_000;

class RateLimitedWarning {
  #lastWarnedAt = -Infinity;
  #suppressed = 0;

  warn(message, detail) {
    const now = Date.now();
    if (now - this.#lastWarnedAt < WARNING_INTERVAL_MS) {
      this.#suppressed += 1;
      return;
    }
    const suppressed = this.#suppressed ? ` (${this.#suppressed} more since the last warning)` : '';
    this.#lastWarnedAt = now;
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
    const placed = this.#core.add(kindTag(payload));
    const slot = placed >>> 1;
    const dropped = placed & 1 ? this.#payloads[slot] : undefined;
    this.#payloads[slot] = payload;
    if (dropped !== undefined) this.#reportDrop(dropped);
  }

  /** Every payload in arrival order; the buffer is emptied. */
  drain() {
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
    const slots = this.#core.drainByType(actions, summaries);
    const payloads = this.#take(slots);
    for (const slot of slots) this.#payloads[slot] = undefined;
    return payloads;
  }

  /** The newest `n` payloads (all when omitted), oldest first; nothing is removed. */
  peek(n) {
    return this.#take(this.#core.peek(n));
  }

  /** Discards every payload. Returns how many were discarded. */
  clear() {
    this.#payloads = [];
    return this.#core.clear();
  }

  get size() {
    return this.#core.size;
  }

  get isEmpty() {
    return this.#core.size === 0;
  }

  /** The bound; 0 means unlimited. */
  get maxSize() {
    return this.#core.maxSize;
  }

  /** Payloads dropped because the buffer was full, over its lifetime. */
  get droppedCount() {
    return this.#core.droppedCount;
  }

  #take(slots) {
    const payloads = new Array(slots.length);
    for (let i = 0; i < slots.length; i++) payloads[i] = this.#payloads[slots[i]];
    return payloads;
  }

  #reportDrop(payload) {
    if (this.#onDrop === undefined) {
      this.#warning.warn(
        `EventBuffer full (maxSize=${this.maxSize}): dropped the oldest payload; ` +
          `${this.droppedCount} dropped in total. Pass onDrop to handle drops.`,
      );
      return;
    }
    try {
      this.#onDrop(payload);
    } catch (error) {
      this.#warning.warn('EventBuffer onDrop callback threw', error);
    }
  }
}
