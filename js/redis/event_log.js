// RedisEventLog: an EventLogBackend in Redis over REST, shared by every process, Worker and
// browser that points at the same Redis and key. The log's state and rules run in Redis (the
// scripts in event_log_scripts.js, one per operation); this file validates input with the same
// core as InMemoryEventLog, coalesces the appends of a tick into one request, and turns
// replies into events.
//
// Invariants:
// - A bad append (empty kind, non-JSON payload, an event above maxBytes) is refused before
//   anything is sent: no request, no id consumed.
// - An append resolves only once Redis has stored it, with the stored event; it rejects with a
//   RedisRestError when that cannot be known. A retried request (its answer lost) carries the
//   same batch id and returns what the first attempt stored, never a second copy.
// - Appends issued in the same tick keep their call order and consecutive ids.
import { EventLogCore, redisRandomId } from '../wasm/tidepool.js';
import { callCore, RedisRestError } from '../errors.js';
import { describe, optionsObject } from '../arguments.js';
import { RedisRestClient } from './client.js';
import { APPEND, CLEAR, READ } from './event_log_scripts.js';

const OPTIONS = ['client', 'url', 'token', 'fetch', 'key', 'ttlSeconds', 'maxEntries', 'maxBytes', 'timeoutMs'];
/** Events per append request at most, and JSON bytes per request at most. */
const MAX_BATCH_EVENTS = 500;
const MAX_BATCH_BYTES = 512 * 1024;
/** Seconds a batch id is remembered, so that a retried append is recognised. */
export const APPEND_WINDOW_SECONDS = 300;

const utf8 = new TextEncoder();

/** An event log in Redis (a stream plus a small hash), shared by every process using the same key. */
export class RedisEventLog {
  #client;
  #keys;
  #ttlSeconds;
  #maxEntries;
  #maxBytes;
  #timeoutMs;
  /** Validates kinds and payloads with InMemoryEventLog's rules; stores nothing. */
  #validator;
  /** The batch collecting this tick's appends, or null. */
  #filling = null;
  #stats = { requests: 0, retries: 0, errors: 0, replayedAppends: 0, unreadable: 0 };

  /**
   * Options: `client` (a RedisRestClient) or `url` + `token` (+ `fetch`); `key` (required: the
   * stream's key); `ttlSeconds` (3600), `maxEntries` (10000), `maxBytes` (none: the sum of the
   * kinds' and payloads' UTF-8 bytes); `timeoutMs` per request (the client's default when
   * omitted). Bounds follow InMemoryEventLog: a zero, negative or non-finite `ttlSeconds` /
   * `maxEntries` falls back to the default with a warning. Other bad options throw.
   */
  constructor(options) {
    const { client, url, token, fetch, key, ttlSeconds, maxEntries, maxBytes, timeoutMs } = optionsObject(options, 'RedisEventLog', OPTIONS);
    if (typeof key !== 'string' || key === '') throw new TypeError(`RedisEventLog: key must be a non-empty string, got ${describe(key)}`);
    if (maxBytes !== undefined && (typeof maxBytes !== 'number' || !Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
      throw new (typeof maxBytes === 'number' ? RangeError : TypeError)(`RedisEventLog: maxBytes must be a positive integer, got ${typeof maxBytes === 'number' ? maxBytes : describe(maxBytes)}`);
    }
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
      throw new (typeof timeoutMs === 'number' ? RangeError : TypeError)(`RedisEventLog: timeoutMs must be a finite number above 0, got ${describe(timeoutMs)}`);
    }
    if (client !== undefined) {
      if (!(client instanceof RedisRestClient)) throw new TypeError(`RedisEventLog: client must be a RedisRestClient, got ${describe(client)}`);
      if (url !== undefined || token !== undefined || fetch !== undefined) {
        throw new TypeError('RedisEventLog: pass either client, or url and token (and fetch), not both');
      }
    }
    // The memory core applies (and warns about) the same bound rules as InMemoryEventLog.
    const bounds = callCore(() => new EventLogCore(ttlSeconds, maxEntries, undefined, false));
    for (const warning of bounds.takeConfigWarnings()) console.warn(`tidepool: RedisEventLog: ${warning}`);
    this.#ttlSeconds = bounds.ttlSeconds;
    this.#maxEntries = bounds.maxEntries;
    bounds.free();
    this.#maxBytes = maxBytes ?? 0;
    this.#client = client ?? new RedisRestClient({ url, token, ...(fetch === undefined ? {} : { fetch }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    this.#timeoutMs = timeoutMs;
    this.#keys = { stream: key, meta: `${key}:meta`, batch: `${key}:append:` };
    this.#validator = new EventLogCore(undefined, undefined, undefined, true);
    for (const name of ['append', 'query', 'read', 'clear', 'stats']) this[name] = this[name].bind(this);
  }

  /** The stream's key (its hash is `<key>:meta`). */
  get key() {
    return this.#keys.stream;
  }

  get ttlSeconds() {
    return this.#ttlSeconds;
  }

  get maxEntries() {
    return this.#maxEntries;
  }

  /** The byte bound, or null when there is none. */
  get maxBytes() {
    return this.#maxBytes || null;
  }

  /**
   * Appends an event; resolves to the stored `{ id, timestamp, kind, payload }` (id from the
   * shared counter, timestamp from Redis TIME). Rejects with a TypeError for an empty or
   * non-string kind or a non-JSON payload, a RangeError for an event above maxBytes (nothing
   * sent either way), a RedisRestError when Redis could not be reached or refused (with
   * `mayHaveApplied`). Appends of the same tick travel in one request.
   */
  append(kind, payload) {
    let entry;
    try {
      entry = this.#entry(kind, payload);
    } catch (error) {
      return Promise.reject(error);
    }
    let batch = this.#filling;
    if (batch !== null && (batch.entries.length >= MAX_BATCH_EVENTS || batch.bytes + entry.json.length > MAX_BATCH_BYTES)) batch = null;
    if (batch === null) {
      batch = { entries: [], bytes: 0, waiters: [] };
      this.#filling = batch;
      queueMicrotask(() => this.#send(batch));
    }
    batch.entries.push(entry);
    batch.bytes += entry.json.length;
    return new Promise((resolve, reject) => batch.waiters.push({ resolve, reject }));
  }

  /**
   * Events with `id > since` (all resident when omitted), ascending, at most `limit` (omitted,
   * null or negative: all; 0: none). One request; evicts first, as every operation does.
   */
  async query(options) {
    return (await this.#read(options, 'query')).events;
  }

  /**
   * `{ events, firstId, lastId, missed, nextSince }` as InMemoryEventLog's `read`: `missed`
   * counts the events after `since` that were evicted or cleared before this reader saw them.
   * One request.
   */
  read(options) {
    return this.#read(options, 'read');
  }

  /** Drops every event (of every process); ids keep counting. Resolves to how many were dropped. */
  async clear() {
    return this.#run(CLEAR, [this.#keys.stream, this.#keys.meta], [], 'clear');
  }

  /**
   * Counters shared by every process using the key: `{ appended, evictedByTtl, evictedBySize,
   * evictedByBytes, cleared, resident, bytes, lastId }` (appended = evicted* + cleared +
   * resident), and this instance's `{ requests, retries, errors, replayedAppends, unreadable }`.
   * One request.
   */
  async stats() {
    const [meta, length] = await this.#client.pipeline([['HGETALL', this.#keys.meta], ['XLEN', this.#keys.stream]], this.#callOptions(true));
    if (meta.error) throw meta.error;
    if (length.error) throw length.error;
    const fields = {};
    const flat = Array.isArray(meta.result) ? meta.result : [];
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = Number(flat[i + 1]);
    const count = (name) => fields[name] ?? 0;
    return {
      appended: count('appended'),
      evictedByTtl: count('evicted_ttl'),
      evictedBySize: count('evicted_size'),
      evictedByBytes: count('evicted_bytes'),
      cleared: count('cleared'),
      resident: Number(length.result),
      bytes: count('bytes'),
      lastId: count('last_id'),
      ...this.#stats,
    };
  }

  /** `{ kind, payload, json, bytes }` for a valid append; throws (nothing changes) otherwise. */
  #entry(kind, payload) {
    // The disabled core checks kind and payload with InMemoryEventLog's rules and messages, and
    // returns a fresh copy of the payload (properties holding undefined dropped).
    const checked = callCore(() => this.#validator.append(kind, payload, 0));
    const json = JSON.stringify(checked.payload);
    const bytes = utf8.encode(json).length + utf8.encode(kind).length;
    if (this.#maxBytes > 0 && bytes > this.#maxBytes) {
      throw new RangeError(`RedisEventLog: the event (kind and payload JSON) is ${bytes} bytes, above maxBytes ${this.#maxBytes}`);
    }
    return { kind, json };
  }

  async #send(batch) {
    if (this.#filling === batch) this.#filling = null;
    const args = [this.#ttlMicros(), this.#maxEntries, this.#maxBytes, APPEND_WINDOW_SECONDS];
    for (const entry of batch.entries) args.push(entry.kind, entry.json);
    let reply;
    try {
      const batchId = callCore(() => redisRandomId());
      reply = await this.#run(APPEND, [this.#keys.stream, this.#keys.meta, this.#keys.batch + batchId], args, 'append');
      if (!Array.isArray(reply) || reply.length !== 3 || !Number.isSafeInteger(reply[1]) || typeof reply[2] !== 'string') {
        throw new RedisRestError(`Redis append: unexpected reply ${JSON.stringify(reply)?.slice(0, 200)}`, {
          code: 'REDIS_BAD_RESPONSE', status: 200, command: 'EVALSHA', mayHaveApplied: true,
        });
      }
    } catch (error) {
      for (const waiter of batch.waiters) waiter.reject(error);
      return;
    }
    const [replayed, first, ts] = reply;
    if (replayed === 1) this.#stats.replayedAppends += 1;
    const timestamp = Number(ts);
    batch.entries.forEach((entry, i) => {
      batch.waiters[i].resolve({ id: first + i, timestamp, kind: entry.kind, payload: JSON.parse(entry.json) });
    });
  }

  async #read(options, what) {
    const { since, limit } = optionsObject(options, what, ['since', 'limit']);
    const from = checkInteger(since, 'since');
    const cap = checkInteger(limit, 'limit');
    // A negative `since` is before every id: the same as no cursor.
    const after = from === null ? 0 : Math.max(from, 0);
    const count = cap === null || cap < 0 ? -1 : cap;
    const reply = await this.#run(READ, [this.#keys.stream, this.#keys.meta], [this.#ttlMicros(), this.#maxEntries, this.#maxBytes, String(after + 1), count], what);
    if (!Array.isArray(reply) || reply.length !== 3 || !Array.isArray(reply[2])) {
      throw new RedisRestError(`Redis ${what}: unexpected reply ${JSON.stringify(reply)?.slice(0, 200)}`, {
        code: 'REDIS_BAD_RESPONSE', status: 200, command: 'EVALSHA', mayHaveApplied: false,
      });
    }
    const firstId = reply[0] > 0 ? reply[0] : null;
    const lastId = reply[1];
    const events = [];
    for (const entry of reply[2]) {
      const event = eventOf(entry);
      if (event === null) this.#stats.unreadable += 1;
      else events.push(event);
    }
    // The gone ids are always the prefix 1..goneThrough (see InMemoryEventLog).
    const goneThrough = firstId === null ? lastId : firstId - 1;
    const nextSince = events.length > 0 ? events[events.length - 1].id : Math.min(Math.max(after, goneThrough), lastId);
    return { events, firstId, lastId, missed: Math.max(goneThrough - after, 0), nextSince };
  }

  #ttlMicros() {
    return String(Math.round(this.#ttlSeconds * 1e6));
  }

  #callOptions(retry) {
    const options = {
      retry,
      onAttempt: (attempt) => {
        this.#stats.requests += 1;
        if (attempt > 1) this.#stats.retries += 1;
      },
    };
    if (this.#timeoutMs !== undefined) options.timeoutMs = this.#timeoutMs;
    return options;
  }

  /** Runs a script; every script of the log can be repeated without effect (append by its batch id). */
  async #run(script, keys, args, what) {
    try {
      return await this.#client.evalScript(script, keys, args, this.#callOptions(true));
    } catch (error) {
      this.#stats.errors += 1;
      if (error instanceof RedisRestError) error.message = error.message.replace(/^Redis (EVALSHA|EVAL)\b/, `Redis ${what} ($1)`);
      throw error;
    }
  }
}

/** An integer option of query/read, or null when omitted. */
function checkInteger(value, name) {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`${name} must be an integer, got ${typeof value === 'number' ? String(value) : describe(value)}`);
  }
  return value;
}

/** The event of a stream entry `[id, [field, value, ...]]`, or null for an entry that is not one. */
function eventOf(entry) {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return null;
  const id = Number(entry[0].slice(0, entry[0].indexOf('-')));
  const fields = {};
  for (let i = 0; i + 1 < entry[1].length; i += 2) fields[entry[1][i]] = entry[1][i + 1];
  const { kind, ts, payload } = fields;
  if (!Number.isSafeInteger(id) || typeof kind !== 'string' || kind === '' || typeof ts !== 'string' || typeof payload !== 'string') return null;
  let parsed;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  return { id, timestamp: Number(ts), kind, payload: parsed };
}
