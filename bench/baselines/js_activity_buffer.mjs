// Baselines for bench/activity.bench.mjs: the part of ActivityBuffer the benchmark drives
// (recordOutgoing with fifo eviction, getByIdempotencyToken with a dedup window) in plain JS,
// with the same semantics: envelopes are validated and stored as independent copies
// (Uint8Array fields copied), every returned record is a fresh copy, the token index maps a
// token to the last record carrying it and answers only within the window.
//
// Tokens expire in amortised O(1) (a FIFO of insertions, as the core) until
// `startRescanning()`; from then on every call rescans the whole token index, as the
// reference does.

function copyJson(value) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const copy = {};
  for (const key of Object.keys(value)) copy[key] = copyJson(value[key]);
  return copy;
}

function copyEnvelope(envelope) {
  const copy = {};
  for (const key of Object.keys(envelope)) {
    const value = envelope[key];
    if (value === undefined) continue;
    copy[key] = value instanceof Uint8Array ? value.slice() : copyJson(value);
  }
  return copy;
}

function snapshot(record) {
  const envelope = copyEnvelope(record.envelope);
  return {
    message_id: record.message_id, direction: record.direction, envelope, ts_ms: record.ts_ms,
    ack_stage: record.ack_stage, error_code: record.error_code, ack_note: record.ack_note,
    state: Number.isInteger(envelope.state) ? envelope.state : 0,
    idempotency_token: typeof envelope.idempotency_token === 'string' ? envelope.idempotency_token : '',
    correlation_id: typeof envelope.correlation_id === 'string' ? envelope.correlation_id : '',
  };
}

export class JsActivityBuffer {
  #records = new Map();
  /** Resident ids in insertion order, from #orderHead (a Map's own order would do, but V8
   * makes finding the first entry of a Map with many deletions O(deletions)). */
  #order = [];
  #orderHead = 0;
  #tokens = new Map(); // token -> { id, ts }
  #queue = []; // [token, id, ts] in insertion order (queue expiry)
  #queueHead = 0;
  #maxItems;
  #windowMs;
  #now;
  #rescan = false;
  evictions = 0;

  constructor({ maxItems = 1000, dedupWindowS = 3600, now = Date.now } = {}) {
    this.#maxItems = maxItems;
    this.#windowMs = dedupWindowS * 1000;
    this.#now = now;
  }

  recordOutgoing(envelope) {
    const id = envelope?.message_id;
    if (typeof id !== 'string' || id === '') throw new TypeError('message_id is missing');
    const token = envelope.idempotency_token ?? '';
    if (typeof token !== 'string') throw new TypeError('idempotency_token must be a string');
    const now = this.#now();
    const old = this.#records.get(id);
    if (old !== undefined) this.#dropToken(old);
    else if (this.#records.size >= this.#maxItems) {
      const victimId = this.#order[this.#orderHead++];
      const victim = this.#records.get(victimId);
      this.#records.delete(victimId);
      if (this.#orderHead > 1024 && this.#orderHead * 2 > this.#order.length) {
        this.#order = this.#order.slice(this.#orderHead);
        this.#orderHead = 0;
      }
      this.#dropToken(victim);
      this.evictions++;
    }
    const record = {
      message_id: id, direction: 'out', envelope: copyEnvelope(envelope), ts_ms: now,
      ack_stage: 0, error_code: 0, ack_note: '',
    };
    this.#records.set(id, record); // a replaced id keeps its place
    if (old === undefined) this.#order.push(id);
    if (token !== '') {
      this.#tokens.set(token, { id, ts: now });
      if (!this.#rescan) this.#queue.push([token, id, now]);
    }
    this.#expire(now);
    return snapshot(record);
  }

  getByIdempotencyToken(token) {
    if (typeof token !== 'string') throw new TypeError('token must be a string');
    const now = this.#now();
    this.#expire(now);
    const entry = this.#tokens.get(token);
    const record = entry && this.#records.get(entry.id);
    if (record === undefined || now - record.ts_ms > this.#windowMs) return undefined;
    return snapshot(record);
  }

  get size() {
    return this.#records.size;
  }

  /** From now on, expire tokens by rescanning the whole index on every call (the reference). */
  startRescanning() {
    this.#rescan = true;
  }

  #dropToken(record) {
    const token = record.envelope.idempotency_token;
    if (token && this.#tokens.get(token)?.id === record.message_id) this.#tokens.delete(token);
  }

  #expire(now) {
    if (this.#rescan) {
      for (const [token, entry] of this.#tokens) {
        if (now - entry.ts > this.#windowMs) this.#tokens.delete(token);
      }
      return;
    }
    const queue = this.#queue;
    while (this.#queueHead < queue.length && now - queue[this.#queueHead][2] > this.#windowMs) {
      const [token, id] = queue[this.#queueHead++];
      const entry = this.#tokens.get(token);
      if (entry?.id === id && now - entry.ts > this.#windowMs) this.#tokens.delete(token);
    }
    if (this.#queueHead > 1024 && this.#queueHead * 2 > queue.length) {
      this.#queue = queue.slice(this.#queueHead);
      this.#queueHead = 0;
    }
  }
}
