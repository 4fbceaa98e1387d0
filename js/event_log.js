// EventLog: the log lives in the wasm core (src/wasm/event_log.rs over src/core/event_log/);
// this file adds the clock, bound methods, append subscriptions (for the activity endpoint's
// live tail) and the factory.
import { EventLogCore, eventLogBackendKind } from './wasm/tidepool.js';
import { bindMethods, describe, optionsObject } from './arguments.js';

/** The core of a log, for the subclasses here only (set by EventLogBase's static block). */
let coreOf;

const secondsSinceEpoch = () => Date.now() / 1000;

/** The options of the log classes; `createEventLog` also takes `backend`. */
const LOG_OPTIONS = ['ttlSeconds', 'maxEntries', 'maxBytes', 'now'];
const CURSOR_OPTIONS = ['since', 'limit'];

/**
 * What InMemoryEventLog and DisabledEventLog share: validation and storage are the core's;
 * here, the clock and the append listeners.
 *
 * Invariant: a listener is called once per successful append, after the event is stored, in
 * id order; a listener that throws is reported and does not affect the append or the others.
 */
class EventLogBase {
  #core;
  #now;
  #listeners = new Set();

  constructor(what, options, disabled) {
    const { ttlSeconds, maxEntries, maxBytes, now = secondsSinceEpoch } = optionsObject(options, what, LOG_OPTIONS);
    if (typeof now !== 'function') throw new TypeError(`now must be a function, got ${describe(now)}`);
    this.#now = now;
    this.#core = new EventLogCore(ttlSeconds, maxEntries, maxBytes, disabled);
    for (const warning of this.#core.takeConfigWarnings()) console.warn(`tidepool: ${what}: ${warning}`);
    bindMethods(this);
  }

  /**
   * Appends an event `{ id, timestamp, kind, payload }` and returns it (a fresh object).
   * Throws TypeError for an empty or non-string kind or a non-JSON payload, RangeError for a
   * payload larger than `maxBytes` as JSON; nothing changes then.
   */
  append(kind, payload) {
    const event = this.#core.append(kind, payload, this.#clock());
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        console.warn('tidepool: an EventLog append listener threw', error);
      }
    }
    return event;
  }

  /** Events with `id > since` (all when omitted), ascending, at most `limit` (negative: all). */
  query(options) {
    const { since, limit } = optionsObject(options, 'query', CURSOR_OPTIONS);
    return this.#core.query(since, limit, this.#clock());
  }

  /** `{ events, firstId, lastId, missed, nextSince }`: `query` plus what the reader missed. */
  read(options) {
    const { since, limit } = optionsObject(options, 'read', CURSOR_OPTIONS);
    return this.#core.read(since, limit, this.#clock());
  }

  /** Drops every entry; ids keep counting. Returns how many entries were dropped. */
  clear() {
    return this.#core.clear();
  }

  /**
   * Lifetime counters `{ appended, evictedByTtl, evictedBySize, evictedByBytes, cleared }`, plus
   * what is held now: `resident` events whose payloads are `bytes` of JSON.
   */
  stats() {
    return this.#core.stats();
  }

  /** Last id ever assigned; 0 before the first append. */
  get lastId() {
    return this.#core.lastId;
  }

  /**
   * Calls `listener(event)` after each append; returns the function that unsubscribes
   * (idempotent). The event object is shared by all listeners: do not mutate it.
   */
  subscribe(listener) {
    if (typeof listener !== 'function') {
      throw new TypeError(`subscribe expects a function, got ${describe(listener)}`);
    }
    const entry = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Listeners currently subscribed (each open live tail of the activity endpoint holds one). */
  get subscriberCount() {
    return this.#listeners.size;
  }

  static {
    coreOf = (log) => log.#core;
  }

  #clock() {
    const now = this.#now();
    if (typeof now !== 'number') {
      throw new TypeError(`now() must return a number of seconds, got ${describe(now)}`);
    }
    return now;
  }
}

/**
 * An append-and-query log held in memory. Ids start at 1 and never reset; every append and
 * query evicts first by TTL (strictly older than `ttlSeconds`), then the oldest beyond
 * `maxEntries`, then the oldest while the payloads hold more than `maxBytes` of JSON.
 */
export class InMemoryEventLog extends EventLogBase {
  constructor(options) {
    super('InMemoryEventLog', options, false);
  }

  get ttlSeconds() {
    return coreOf(this).ttlSeconds;
  }

  get maxEntries() {
    return coreOf(this).maxEntries;
  }

  get maxBytes() {
    return coreOf(this).maxBytes;
  }
}

/** A log that stores nothing: `append` returns events with increasing ids, `query` returns []. */
export class DisabledEventLog extends EventLogBase {
  constructor(options) {
    super('DisabledEventLog', options, true);
  }
}

/**
 * `backend` (trimmed, case-insensitive): `disabled` / `off` / `none` -> DisabledEventLog;
 * `memory` or anything else -> InMemoryEventLog, with one warning for an unknown name.
 */
export function createEventLog(options) {
  const { backend = 'memory', ...logOptions } = optionsObject(options, 'createEventLog', ['backend', ...LOG_OPTIONS]);
  if (typeof backend !== 'string') {
    throw new TypeError(`backend must be a string, got ${describe(backend)}`);
  }
  const kind = eventLogBackendKind(backend);
  if (kind === 'disabled') return new DisabledEventLog(logOptions);
  if (kind === 'unknown') {
    console.warn(`tidepool: unknown event log backend ${JSON.stringify(backend)}; using "memory"`);
  }
  return new InMemoryEventLog(logOptions);
}
