// RedisEventBuffer: a BufferBackend in Redis, shared with the autoplay Python SDK's
// RedisEventBuffer (same keys, members and scores). The rules, key layout, member encoding,
// scripts and reply decoding are the Rust core's (src/core/redis/); this file does the I/O:
// coalescing the adds of a tick into one request, backpressure, retries, settling batches
// whose outcome was lost, and the drain id protocol.
//
// Accounting invariant (see stats()): every payload accepted by add() is, at any moment,
// exactly one of pending (its request not answered yet), unsettled (its outcome unknown; being
// settled), stored, or dropped (reported to onDrop with a reason). Nothing leaves silently.
import { RedisBufferCore, redisBufferScripts, redisRandomId } from '../wasm/tidepool.js';
import { callCore, RedisRestError } from '../errors.js';
import { describe, optionsObject } from '../arguments.js';
import { RedisRestClient } from './client.js';

const OPTIONS = ['client', 'url', 'token', 'fetch', 'keyPrefix', 'windowSeconds', 'maxConcurrent', 'timeoutMs', 'onDrop', 'onUnreadable', 'now'];
/** Adds per request at most, and JSON bytes per request at most (adds past either start a new request). */
const MAX_BATCH_EVENTS = 500;
const MAX_BATCH_BYTES = 512 * 1024;
/** Pause before trying again to settle batches whose outcome was lost (ms), doubling up to the max. */
const SETTLE_FIRST_PAUSE_MS = 250;
const SETTLE_MAX_PAUSE_MS = 5000;

/** The buffer's Lua scripts by name; read from the core on first use (the module may not be loaded at import). */
let scripts = null;
const secondsSinceEpoch = () => Date.now() / 1000;

/**
 * True when `value` has the BufferBackend shape: `add`, `drain` and `size` functions (their
 * results may be Promises: always await them).
 */
export function isBufferBackend(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function')
    && typeof value.add === 'function' && typeof value.drain === 'function' && typeof value.size === 'function';
}

/** Event buffer in Redis over REST, shared by every process that uses the same Redis and key prefix. */
export class RedisEventBuffer {
  #client;
  #core;
  #onDrop;
  #onUnreadable;
  #now;
  #maxConcurrent;
  #timeoutMs;
  /** The batch collecting this tick's adds, or null. */
  #filling = null;
  /** Add batches holding a slot: filling, in flight, or unsettled. At most maxConcurrent. */
  #slots = 0;
  /** Requests of add batches not answered yet (for flush). */
  #inFlight = new Set();
  /** Batches whose outcome was lost, waiting to be settled by a fence. */
  #unsettled = [];
  #settling = null;
  #settleTimer = null;
  #settlePauseMs = SETTLE_FIRST_PAUSE_MS;
  /** Drains run one at a time, in call order. */
  #drainChain = Promise.resolve();
  /** The drain id not yet answered (kept across failed drains: the server may have run it). */
  #openDrainId = null;
  /** Drain ids whose batches were delivered; the next drain releases their kept copies. */
  #delivered = [];
  #stats = {
    added: 0, pending: 0, unsettled: 0, stored: 0,
    dropped: { backpressure: 0, unavailable: 0, error: 0 },
    evicted: 0, merged: 0, drains: 0, drained: 0, replayedDrains: 0, replayedAdds: 0, unreadable: 0,
    requests: 0, retries: 0, errors: 0,
  };

  /**
   * Options: `client` (a RedisRestClient) or `url` + `token` (+ `fetch`); `keyPrefix`
   * ('default'; non-empty, no ':'), `windowSeconds` (120), `maxConcurrent` (10 add requests in
   * flight), `timeoutMs` (per request; the client's default when omitted), `onDrop(payload,
   * reason)`, `onUnreadable(member, problem)`, `now()` (seconds since the epoch, for scores of
   * payloads without `forwarded_at`). Bad options: TypeError / RangeError, naming the option.
   */
  constructor(options) {
    const {
      client, url, token, fetch, keyPrefix, windowSeconds, maxConcurrent = 10, timeoutMs,
      onDrop, onUnreadable, now = secondsSinceEpoch,
    } = optionsObject(options, 'RedisEventBuffer', OPTIONS);
    this.#core = callCore(() => new RedisBufferCore(keyPrefix, windowSeconds));
    if (client !== undefined) {
      if (!(client instanceof RedisRestClient)) throw new TypeError(`RedisEventBuffer: client must be a RedisRestClient, got ${describe(client)}`);
      if (url !== undefined || token !== undefined || fetch !== undefined) {
        throw new TypeError('RedisEventBuffer: pass either client, or url and token (and fetch), not both');
      }
    }
    if (!Number.isInteger(maxConcurrent)) {
      throw new (typeof maxConcurrent === 'number' ? RangeError : TypeError)(`RedisEventBuffer: maxConcurrent must be a positive integer, got ${describe(maxConcurrent)}`);
    }
    if (maxConcurrent < 1) throw new RangeError(`RedisEventBuffer: maxConcurrent must be a positive integer, got ${maxConcurrent}`);
    for (const [name, fn] of [['onDrop', onDrop], ['onUnreadable', onUnreadable], ['now', now]]) {
      if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`RedisEventBuffer: ${name} must be a function, got ${describe(fn)}`);
    }
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
      throw new (typeof timeoutMs === 'number' ? RangeError : TypeError)(`RedisEventBuffer: timeoutMs must be a finite number above 0, got ${describe(timeoutMs)}`);
    }
    this.#client = client ?? new RedisRestClient({ url, token, ...(fetch === undefined ? {} : { fetch }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    this.#timeoutMs = timeoutMs;
    this.#maxConcurrent = maxConcurrent;
    this.#onDrop = onDrop;
    this.#onUnreadable = onUnreadable;
    this.#now = now;
    for (const name of ['add', 'drain', 'size', 'stats', 'flush']) this[name] = this[name].bind(this);
  }

  get keyPrefix() {
    return this.#core.keyPrefix;
  }

  get windowSeconds() {
    return this.#core.windowSeconds;
  }

  get maxConcurrent() {
    return this.#maxConcurrent;
  }

  /**
   * Adds a connector payload (validated as by parsePayload: a PayloadError is thrown at once,
   * nothing sent). Adds made in the same tick travel in one request. Resolves (never rejects)
   * once the payload is stored or dropped, or once its outcome is known to be lost in transit
   * (it is then settled in the background: stored, or reported to onDrop). When maxConcurrent
   * add requests are in flight the payload is dropped at once (onDrop, 'backpressure').
   */
  add(payload) {
    const entry = callCore(() => this.#core.entry(payload, this.#clock()));
    this.#stats.added += 1;
    const bytes = entry[4].length;
    let batch = this.#filling;
    if (batch !== null && (batch.payloads.length >= MAX_BATCH_EVENTS || batch.bytes + bytes > MAX_BATCH_BYTES)) {
      batch = null;
    }
    if (batch === null) {
      if (this.#slots >= this.#maxConcurrent) {
        this.#drop([payload], 'backpressure');
        return Promise.resolve();
      }
      this.#slots += 1;
      batch = { entries: [], payloads: [], bytes: 0, id: null, resolve: null, done: null };
      batch.done = new Promise((resolve) => (batch.resolve = resolve));
      this.#filling = batch;
      queueMicrotask(() => this.#send(batch));
    }
    batch.entries.push(entry);
    batch.payloads.push(payload);
    batch.bytes += bytes;
    this.#stats.pending += 1;
    return batch.done;
  }

  /**
   * Every buffered payload of the prefix (all sessions, whoever added them), oldest first
   * (ties in arrival order), removed from Redis in the same atomic step: concurrent drainers
   * never receive the same payload. Resolves to [] when Redis is unavailable; a batch the
   * server drained but whose answer was lost is returned by this buffer's next drain.
   */
  drain() {
    const run = this.#drainChain.then(() => this.#drainOnce());
    this.#drainChain = run.catch(() => {});
    return run;
  }

  /** How many payloads are buffered under the prefix (0 when Redis is unavailable). One request. */
  async size() {
    try {
      const reply = await this.#run(this.#core.sizePlan());
      return callCore(() => this.#core.decodeSize(reply));
    } catch (error) {
      this.#failed(error);
      return 0;
    }
  }

  /**
   * Waits for the add requests issued so far, then tries once to settle batches whose outcome
   * was lost. Resolves to the number of payloads still unsettled (0: every add is stored or
   * reported dropped).
   */
  async flush() {
    await null; // let this tick's adds leave
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    if (this.#unsettled.length > 0) await this.#settle();
    return this.#stats.unsettled;
  }

  /**
   * Counters over the buffer's lifetime: `added` = `pending` + `unsettled` + `stored` + every
   * `dropped` reason. `evicted`: members the window removed during this buffer's adds (anyone's);
   * `merged`: adds that matched an identical member. `drained`, `unreadable` (members that were
   * no payload, passed to onUnreadable), `drains`, `replayedDrains`, `replayedAdds`, and the
   * HTTP `requests`, `retries` and failed requests (`errors`) this buffer made.
   */
  stats() {
    return { ...this.#stats, dropped: { ...this.#stats.dropped } };
  }

  #clock() {
    const seconds = this.#now();
    if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
      throw new TypeError(`RedisEventBuffer: now() must return a finite number of seconds, got ${describe(seconds)}`);
    }
    return seconds;
  }

  async #send(batch) {
    if (this.#filling === batch) this.#filling = null;
    const request = this.#sendBatch(batch);
    this.#inFlight.add(request);
    await request;
    this.#inFlight.delete(request);
  }

  async #sendBatch(batch) {
    let sent = false;
    try {
      batch.id = callCore(() => redisRandomId());
      const plan = this.#core.addPlan(batch.id, batch.entries);
      batch.entries = null;
      sent = true;
      const reply = await this.#run(plan);
      const outcome = callCore(() => this.#core.decodeAdd(reply));
      this.#stats.pending -= batch.payloads.length;
      this.#settled([batch], [outcome]);
    } catch (error) {
      this.#failed(error);
      this.#stats.pending -= batch.payloads.length;
      // A reply that could not be read (no mayHaveApplied) leaves the outcome unknown too.
      const unknown = sent && (!(error instanceof RedisRestError) || error.mayHaveApplied !== false);
      if (unknown) {
        // The server may have applied the batch: settle it before reporting anything.
        this.#stats.unsettled += batch.payloads.length;
        this.#unsettled.push(batch);
        this.#scheduleSettle(SETTLE_FIRST_PAUSE_MS);
      } else {
        this.#release(batch);
        this.#drop(batch.payloads, dropReason(error));
      }
    }
    batch.resolve();
  }

  /** Records what batches did (`outcomes[i]` for `batches[i]`) and frees their slots. */
  #settled(batches, outcomes) {
    batches.forEach((batch, i) => {
      const { status, evicted, merged } = outcomes[i];
      this.#release(batch);
      this.#stats.evicted += evicted;
      this.#stats.merged += merged;
      if (status === 'fenced') {
        this.#drop(batch.payloads, 'unavailable');
      } else {
        if (status === 'replayed') this.#stats.replayedAdds += 1;
        this.#stats.stored += batch.payloads.length;
      }
    });
  }

  #release(batch) {
    if (batch.released) return;
    batch.released = true;
    this.#slots -= 1;
  }

  /**
   * Settles every unsettled batch with one fence request: a batch that was applied counts as
   * stored; one that was not is fenced (a late copy can never apply) and its payloads dropped.
   * On failure, tries again later, pausing longer each time.
   */
  #settle() {
    if (this.#settling !== null) return this.#settling;
    clearTimeout(this.#settleTimer);
    this.#settleTimer = null;
    const batches = this.#unsettled.slice();
    this.#settling = (async () => {
      try {
        const reply = await this.#run(this.#core.fencePlan(batches.map((b) => b.id)));
        const outcomes = callCore(() => this.#core.decodeFence(reply, batches.length));
        this.#unsettled = this.#unsettled.filter((b) => !batches.includes(b));
        for (const batch of batches) this.#stats.unsettled -= batch.payloads.length;
        this.#settled(batches, outcomes);
        this.#settlePauseMs = SETTLE_FIRST_PAUSE_MS;
      } catch (error) {
        this.#failed(error);
        this.#settlePauseMs = Math.min(this.#settlePauseMs * 2, SETTLE_MAX_PAUSE_MS);
      } finally {
        this.#settling = null;
        if (this.#unsettled.length > 0) this.#scheduleSettle(this.#settlePauseMs);
      }
    })();
    return this.#settling;
  }

  #scheduleSettle(pauseMs) {
    if (this.#settleTimer !== null || this.#settling !== null) return;
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = null;
      this.#settle();
    }, pauseMs);
    // Settling must not keep a process alive on its own (Node, Deno).
    if (typeof this.#settleTimer === 'object') this.#settleTimer?.unref?.();
    else globalThis.Deno?.unrefTimer?.(this.#settleTimer);
  }

  async #drainOnce() {
    this.#stats.drains += 1;
    this.#openDrainId ??= callCore(() => redisRandomId());
    let drained;
    try {
      const reply = await this.#run(this.#core.drainPlan(this.#openDrainId, this.#delivered));
      drained = callCore(() => this.#core.decodeDrain(reply));
    } catch (error) {
      // The drain id stays open: if the server ran it, the next drain returns its batch.
      this.#failed(error);
      return [];
    }
    // The kept copies of earlier batches were released by this drain; this batch's copy is
    // released by the next one.
    this.#delivered = drained.events.length + drained.unreadable.length > 0 ? [this.#openDrainId] : [];
    this.#openDrainId = null;
    if (drained.replayed) this.#stats.replayedDrains += 1;
    this.#stats.drained += drained.events.length;
    for (const { member, problem } of drained.unreadable) {
      this.#stats.unreadable += 1;
      this.#report(this.#onUnreadable, [member, problem], 'onUnreadable', `tidepool: RedisEventBuffer drained a member that is no payload (${problem})`);
    }
    return drained.events;
  }

  /** Runs a plan's script; every plan the buffer sends can be repeated without effect. */
  #run(plan) {
    const options = {
      retry: true,
      onAttempt: (attempt) => {
        this.#stats.requests += 1;
        if (attempt > 1) this.#stats.retries += 1;
      },
    };
    if (this.#timeoutMs !== undefined) options.timeoutMs = this.#timeoutMs;
    scripts ??= callCore(() => redisBufferScripts());
    return this.#client.evalScript(scripts[plan.script], plan.keys, plan.args, options);
  }

  #failed(error) {
    this.#stats.errors += 1;
    if (!(error instanceof RedisRestError)) console.warn('tidepool: RedisEventBuffer: unexpected error', error);
  }

  #drop(payloads, reason) {
    this.#stats.dropped[reason] += payloads.length;
    for (const payload of payloads) this.#report(this.#onDrop, [payload, reason], 'onDrop', null);
  }

  #report(callback, args, name, fallback) {
    if (callback === undefined) {
      if (fallback !== null) console.warn(fallback);
      return;
    }
    try {
      callback(...args);
    } catch (error) {
      console.warn(`tidepool: RedisEventBuffer ${name} threw`, error);
    }
  }
}

/** Why a batch that was certainly not applied is dropped: the server said no, or could not be reached. */
function dropReason(error) {
  if (!(error instanceof RedisRestError)) return 'error';
  if (error.code === 'REDIS_NETWORK' || error.code === 'REDIS_TIMEOUT') return 'unavailable';
  if (error.code === 'REDIS_HTTP' && (error.status >= 500 || error.status === 429 || error.status === 408)) return 'unavailable';
  return 'error';
}
