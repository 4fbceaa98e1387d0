// ConnectorClient: reads the event connector's Server-Sent Events stream with `fetch` (so the
// same code runs in browsers, Web Workers, Workers, Deno and Node) and feeds the payloads to
// callbacks, typically the buffers' bound `add`.
//
// Invariants:
// - One connection at a time; `stop()` aborts it (or the wait before the next one) at once and
//   leaves no timer or pending read behind.
// - Every event received is accounted for: `events.actions + events.summary` always equals
//   `delivered + skipped.invalidPayload + dropped + discarded + queued` (stats()).
// - The reader never waits for the callbacks: an event is handed to them at once when they are
//   idle, else queued; when `maxQueueSize` events wait, the newest is dropped and reported to
//   the onDrop callbacks (the reference SDK's policy).
// - Reconnects resume with Last-Event-ID (the last id received: queued events survive the
//   reconnect), so a server that sends ids delivers nothing twice and skips nothing.
// - `lastEventId` is the point to resume from after a restart: every event up to it was
//   delivered, skipped or dropped (and reported); events after it were not received or were
//   discarded by `stop()`.
// - Errors are ConnectorErrors with a stable `code`; no message contains the token.
import { ConnectorError } from './errors.js';
import { parsePayload } from './payload.js';
import { RateLimitedWarning } from './event_buffer.js';
import { SseParser } from './sse_parser.js';
import { describe, optionsObject } from './arguments.js';

const OPTIONS = [
  'url', 'token', 'headers', 'lastEventId', 'initialBackoffMs', 'maxBackoffMs', 'maxRetries', 'connectTimeoutMs',
  'maxQueueSize', 'maxEventBytes', 'onConnect', 'onDisconnect', 'fetch', 'timers', 'random',
];
/** Fatal statuses: retrying cannot help. */
const FATAL_STATUS = new Map([
  [401, ['CONNECTOR_UNAUTHORIZED', 'check the token']],
  [403, ['CONNECTOR_FORBIDDEN', 'the token may not read this stream']],
  [404, ['CONNECTOR_NOT_FOUND', 'check the URL']],
]);
/** The largest delay timers accept (longer ones fire at once in some runtimes). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Jitter added to each reconnect delay: up to this fraction of it (as the reference SDK). */
const JITTER = 0.1;
/** How much of an unexpected value a message quotes. */
const QUOTE_CHARS = 100;

/** Reads an event connector's SSE stream and dispatches its payloads to callbacks. */
export class ConnectorClient {
  #url;
  #token;
  #headers;
  #initialBackoffMs;
  #maxBackoffMs;
  #maxRetries;
  #connectTimeoutMs;
  #maxQueueSize;
  #onConnect;
  #onDisconnect;
  #fetch;
  #setTimeout;
  #clearTimeout;
  #random;
  #parser;
  #warning = new RateLimitedWarning();
  /** Registered callbacks in order: `{ kind: 'actions' | 'summary' | 'event', fn }`. */
  #callbacks = [];
  #dropCallbacks = [];
  /** Waiting events `{ raw, idBefore }`, oldest at #head. */
  #queue = [];
  #head = 0;
  /** A callback's promise is pending: events wait in the queue. */
  #busy = false;
  #idleWaiters = [];
  /** The server's `retry:` (ms), replacing initialBackoffMs. */
  #retryMs = null;
  /** Where to resume after events were discarded by stop(); null when none were. */
  #resumeId = null;
  #running = false;
  #stopping = false;
  #controller = null;
  #reader = null;
  #sleep = null;
  #stats = {
    connects: 0, reconnects: 0, failures: 0,
    events: { actions: 0, summary: 0, heartbeat: 0 },
    skipped: { invalidJson: 0, unknownType: 0, invalidPayload: 0, tooLarge: 0, incomplete: 0 },
    delivered: 0, dropped: 0, discarded: 0, callbackErrors: 0,
  };

  /**
   * Throws TypeError / RangeError for bad options (never quoting the token). Nothing happens
   * until `run()`.
   */
  constructor(options) {
    const {
      url, token, headers, lastEventId = '', initialBackoffMs = 1000, maxBackoffMs = 30000, maxRetries = null,
      connectTimeoutMs = 10000, maxQueueSize = 500, maxEventBytes = 1 << 20, onConnect, onDisconnect,
      fetch = defaultFetch, timers = globalThis, random = Math.random,
    } = optionsObject(options, 'ConnectorClient', OPTIONS);
    this.#url = checkUrl(url);
    if (token !== undefined && typeof token !== 'function') checkToken(token, 'token');
    this.#token = token;
    if (headers !== undefined && typeof headers !== 'function') checkHeaders(headers, 'headers');
    this.#headers = headers;
    this.#initialBackoffMs = checkMs(initialBackoffMs, 'initialBackoffMs');
    this.#maxBackoffMs = checkMs(maxBackoffMs, 'maxBackoffMs');
    if (this.#maxBackoffMs < this.#initialBackoffMs) {
      throw new RangeError(`ConnectorClient: maxBackoffMs (${maxBackoffMs}) must be at least initialBackoffMs (${initialBackoffMs})`);
    }
    if (maxRetries !== null) checkInteger(maxRetries, 'maxRetries', 0);
    this.#maxRetries = maxRetries;
    this.#connectTimeoutMs = checkMs(connectTimeoutMs, 'connectTimeoutMs');
    this.#maxQueueSize = checkInteger(maxQueueSize, 'maxQueueSize', 1);
    checkInteger(maxEventBytes, 'maxEventBytes', 1);
    this.#onConnect = checkFunction(onConnect, 'onConnect', true);
    this.#onDisconnect = checkFunction(onDisconnect, 'onDisconnect', true);
    this.#fetch = checkFunction(fetch, 'fetch');
    if (timers === null || typeof timers !== 'object') throw new TypeError(`ConnectorClient: timers must be an object, got ${describe(timers)}`);
    checkFunction(timers.setTimeout, 'timers.setTimeout');
    checkFunction(timers.clearTimeout, 'timers.clearTimeout');
    // Called as methods of `timers`: browsers reject a setTimeout called on another object.
    this.#setTimeout = (fn, ms) => timers.setTimeout(fn, ms);
    this.#clearTimeout = (timer) => timers.clearTimeout(timer);
    this.#random = checkFunction(random, 'random');
    this.#parser = new SseParser({
      onEvent: (data, type, id, previousId) => this.#received(data, type, previousId),
      // At least 1 ms, so a `retry: 0` cannot make failures retry in a tight loop.
      onRetry: (ms) => (this.#retryMs = Math.min(Math.max(ms, 1), this.#maxBackoffMs)),
      onSkip: (reason) => (this.#stats.skipped[reason] += 1),
      maxEventBytes,
      lastEventId: checkEventId(lastEventId, 'lastEventId'),
    });
    for (const name of ['onActions', 'onSummary', 'onEvent', 'onDrop', 'run', 'stop', 'stats']) this[name] = this[name].bind(this);
  }

  /** Calls `fn(payload)` for each valid actions payload; returns the client. */
  onActions(fn) {
    this.#callbacks.push({ kind: 'actions', fn: checkFunction(fn, 'onActions callback') });
    return this;
  }

  /** Calls `fn(payload)` for each valid summary payload; returns the client. */
  onSummary(fn) {
    this.#callbacks.push({ kind: 'summary', fn: checkFunction(fn, 'onSummary callback') });
    return this;
  }

  /** Calls `fn(payload)` for each valid payload of either type; returns the client. */
  onEvent(fn) {
    this.#callbacks.push({ kind: 'event', fn: checkFunction(fn, 'onEvent callback') });
    return this;
  }

  /** Calls `fn(raw, totalDropped)` for each event dropped because the queue was full; returns the client. */
  onDrop(fn) {
    this.#dropCallbacks.push(checkFunction(fn, 'onDrop callback'));
    return this;
  }

  /** The point to resume from after a restart (pass it back as the `lastEventId` option). */
  get lastEventId() {
    if (this.#head < this.#queue.length) return this.#queue[this.#head].idBefore;
    return this.#resumeId ?? this.#parser.lastEventId;
  }

  /** Whether `run()` is in progress. */
  get running() {
    return this.#running;
  }

  /**
   * Connects and reads until `stop()` (resolves), a 204 answer (resolves), or a fatal error
   * (rejects with a ConnectorError; a bad token or headers function result: TypeError).
   * Settles once no callback runs any more: after `stop()`, queued events are discarded
   * (counted, and `lastEventId` points before them); otherwise they are delivered first.
   */
  async run() {
    if (this.#running) throw new ConnectorError('ConnectorClient: run() is already in progress', { code: 'CONNECTOR_RUNNING', status: 0 });
    this.#running = true;
    this.#stopping = false;
    if (this.#resumeId !== null) {
      this.#parser.setLastEventId(this.#resumeId);
      this.#resumeId = null;
    }
    try {
      await this.#loop();
    } finally {
      if (this.#stopping) this.#discardQueue();
      await this.#idle();
      this.#running = false;
    }
  }

  /** Stops at once: aborts the connection or the wait before the next one; `run()` then resolves. */
  stop() {
    if (!this.#running || this.#stopping) return;
    this.#stopping = true;
    this.#controller?.abort();
    this.#reader?.cancel().catch(() => {});
    this.#sleep?.();
    this.#discardQueue();
  }

  /**
   * `{ connects, reconnects, failures, events: { actions, summary, heartbeat }, skipped:
   * { invalidJson, unknownType, invalidPayload, tooLarge, incomplete }, delivered, dropped,
   * discarded, callbackErrors, queued, lastEventId }` over the client's lifetime.
   */
  stats() {
    const s = this.#stats;
    return {
      ...s, events: { ...s.events }, skipped: { ...s.skipped },
      queued: this.#queue.length - this.#head, lastEventId: this.lastEventId,
    };
  }

  async #loop() {
    let failures = 0;
    for (let attempt = 0; !this.#stopping; attempt++) {
      if (attempt > 0) {
        await this.#wait(this.#delay(failures));
        if (this.#stopping) return;
        this.#stats.reconnects += 1;
      }
      const outcome = await this.#connect();
      if (outcome.connected) failures = 0;
      switch (outcome.kind) {
        case 'stopped':
        case 'noContent':
          return;
        case 'ended':
          break;
        case 'failed':
          failures += 1;
          this.#stats.failures += 1;
          if (this.#maxRetries !== null && failures > this.#maxRetries) {
            throw new ConnectorError(`ConnectorClient: gave up after ${failures} failed attempts in a row (maxRetries ${this.#maxRetries}): ${outcome.error.message}`, {
              code: 'CONNECTOR_RETRIES_EXHAUSTED', status: outcome.error.status, attempts: failures, cause: outcome.error,
            });
          }
          break;
        default:
          throw outcome.error;
      }
    }
  }

  /** The wait before the next attempt: the base doubled per failure in a row, capped, plus jitter. */
  #delay(failures) {
    const base = this.#retryMs ?? this.#initialBackoffMs;
    const delay = Math.min(this.#maxBackoffMs, base * 2 ** Math.max(0, failures - 1));
    return delay + delay * JITTER * this.#random();
  }

  #wait(ms) {
    return new Promise((resolve) => {
      const timer = this.#setTimeout(() => {
        this.#sleep = null;
        resolve();
      }, Math.min(ms, MAX_TIMER_MS));
      this.#sleep = () => {
        this.#clearTimeout(timer);
        this.#sleep = null;
        resolve();
      };
    });
  }

  /**
   * One connection: resolves to `{ kind, connected, error }`, kind 'ended' (the server ended the
   * stream), 'failed' (retry), 'fatal', 'noContent' (204) or 'stopped'.
   */
  async #connect() {
    let headers;
    try {
      headers = await this.#requestHeaders();
    } catch (error) {
      if (error instanceof TypeError) return { kind: 'fatal', error };
      return { kind: 'failed', error: this.#error('CONNECTOR_TOKEN', `the ${error.what} function threw: ${error.cause?.message ?? error.cause}`, 0, error.cause) };
    }
    if (this.#stopping) return { kind: 'stopped' };
    const controller = new AbortController();
    this.#controller = controller;
    let timedOut = false;
    const timer = this.#setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, Math.min(this.#connectTimeoutMs, MAX_TIMER_MS));
    let response;
    try {
      // Called unbound: Workers reject a `fetch` called as a method of another object.
      const fetchFn = this.#fetch;
      response = await fetchFn(this.#url, { method: 'GET', headers, signal: controller.signal });
    } catch (cause) {
      this.#controller = null;
      if (this.#stopping) return { kind: 'stopped' };
      if (timedOut) return { kind: 'failed', error: this.#error('CONNECTOR_TIMEOUT', `no response within ${this.#connectTimeoutMs} ms`, 0) };
      return { kind: 'failed', error: this.#error('CONNECTOR_NETWORK', `network error: ${causeText(cause)}`, 0, cause) };
    } finally {
      this.#clearTimeout(timer);
    }
    const { status } = response;
    const contentType = response.headers.get('content-type') ?? '';
    const refusal = this.#refusal(status, contentType);
    if (refusal !== null) {
      this.#controller = null;
      response.body?.cancel().catch(() => {});
      return refusal;
    }
    this.#stats.connects += 1;
    this.#callHook(this.#onConnect, 'onConnect');
    const error = await this.#read(response);
    this.#controller = null;
    this.#callHook(this.#onDisconnect, 'onDisconnect', error);
    if (this.#stopping) return { kind: 'stopped', connected: true };
    return error === null ? { kind: 'ended', connected: true } : { kind: 'failed', connected: true, error };
  }

  /** Why a response cannot be read as the stream (an outcome), or null when it can. */
  #refusal(status, contentType) {
    if (status === 204) return { kind: 'noContent' };
    const fatal = FATAL_STATUS.get(status);
    if (fatal) return { kind: 'fatal', error: this.#error(fatal[0], `HTTP ${status} (${fatal[1]})`, status) };
    if (status !== 200) return { kind: 'failed', error: this.#error('CONNECTOR_HTTP', `HTTP ${status}`, status) };
    const mediaType = contentType.split(';', 1)[0].trim().toLowerCase();
    if (mediaType !== 'text/event-stream') {
      return {
        kind: 'fatal',
        error: this.#error('CONNECTOR_BAD_CONTENT_TYPE', `expected content type text/event-stream, got ${quote(contentType || '(none)')}`, status, undefined, { contentType }),
      };
    }
    return null;
  }

  /** Reads the body to its end; resolves to null, or the error that broke the stream. */
  async #read(response) {
    if (response.body === null) return null;
    const reader = response.body.getReader();
    this.#reader = reader;
    let error = null;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.#stopping) break;
        this.#parser.feed(value);
      }
    } catch (cause) {
      if (!this.#stopping) error = this.#error('CONNECTOR_STREAM', `the stream broke: ${causeText(cause)}`, response.status, cause);
    } finally {
      this.#reader = null;
      reader.releaseLock?.();
    }
    this.#parser.end();
    return error;
  }

  async #requestHeaders() {
    let token;
    if (this.#token !== undefined) {
      token = await callUserFunction(this.#token, 'token');
      if (typeof this.#token === 'function') checkToken(token, 'the token function result');
      this.#currentToken = token;
    }
    const headers = new Headers();
    if (this.#headers !== undefined) {
      const extra = await callUserFunction(this.#headers, 'headers');
      if (typeof this.#headers === 'function') checkHeaders(extra, 'the headers function result');
      new Headers(extra).forEach((value, name) => headers.set(name, value));
    }
    headers.set('accept', 'text/event-stream');
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    const id = this.#parser.lastEventId;
    if (id !== '') headers.set('last-event-id', id);
    else headers.delete('last-event-id');
    return headers;
  }

  #currentToken = '';

  /** One event from the parser. */
  #received(data, type, idBefore) {
    const stats = this.#stats;
    if (type === 'heartbeat') {
      stats.events.heartbeat += 1;
      return;
    }
    let raw;
    try {
      raw = JSON.parse(data);
    } catch {
      stats.skipped.invalidJson += 1;
      return;
    }
    const kind = raw !== null && typeof raw === 'object' ? raw.type : undefined;
    if (kind === 'actions' || kind === 'summary') stats.events[kind] += 1;
    else {
      if (kind === 'heartbeat') stats.events.heartbeat += 1;
      else stats.skipped.unknownType += 1;
      return;
    }
    if (this.#stopping) {
      this.#discard(idBefore);
    } else if (!this.#busy && this.#head === this.#queue.length) {
      this.#deliver(raw);
    } else if (this.#queue.length - this.#head >= this.#maxQueueSize) {
      stats.dropped += 1;
      for (const fn of this.#dropCallbacks) {
        try {
          fn(raw, stats.dropped);
        } catch (error) {
          this.#callbackError(error, 'an onDrop callback');
        }
      }
    } else {
      this.#queue.push({ raw, idBefore });
    }
  }

  /** Validates the payload and calls the callbacks for it; while one's promise is pending, events queue. */
  #deliver(raw) {
    let payload;
    try {
      payload = parsePayload(raw);
    } catch {
      this.#stats.skipped.invalidPayload += 1;
      return;
    }
    this.#stats.delivered += 1;
    let pending = null;
    for (const { kind, fn } of this.#callbacks) {
      if (kind !== 'event' && kind !== payload.type) continue;
      try {
        const result = fn(payload);
        if (result !== null && typeof result?.then === 'function') (pending ??= []).push(result);
      } catch (error) {
        this.#callbackError(error, `an on${kind === 'event' ? 'Event' : kind === 'actions' ? 'Actions' : 'Summary'} callback`);
      }
    }
    if (pending === null) return;
    this.#busy = true;
    Promise.allSettled(pending).then((results) => {
      for (const result of results) {
        if (result.status === 'rejected') this.#callbackError(result.reason, 'a callback\'s promise');
      }
      this.#busy = false;
      this.#pump();
    });
  }

  /** Delivers queued events while the callbacks are idle. */
  #pump() {
    while (!this.#busy && this.#head < this.#queue.length) {
      const { raw } = this.#queue[this.#head];
      this.#queue[this.#head] = undefined;
      this.#head += 1;
      this.#deliver(raw);
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (!this.#busy && this.#head === this.#queue.length) {
      for (const resolve of this.#idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves when no callback is running and the queue is empty. */
  #idle() {
    if (!this.#busy && this.#head === this.#queue.length) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #discard(idBefore) {
    this.#stats.discarded += 1;
    this.#resumeId ??= idBefore;
  }

  #discardQueue() {
    for (let i = this.#head; i < this.#queue.length; i++) this.#discard(this.#queue[i].idBefore);
    this.#queue = [];
    this.#head = 0;
    if (!this.#busy) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  #callbackError(error, what) {
    this.#stats.callbackErrors += 1;
    if (this.#warning.due()) this.#warning.warn(`ConnectorClient: ${what} threw; the client goes on`, error);
  }

  #callHook(fn, name, argument) {
    if (fn === undefined) return;
    try {
      const result = argument === undefined ? fn() : fn(argument);
      if (result !== null && typeof result?.then === 'function') result.then(undefined, (error) => this.#callbackError(error, name));
    } catch (error) {
      this.#callbackError(error, name);
    }
  }

  #error(code, message, status, cause, extra = {}) {
    const text = redact(`ConnectorClient: ${message}`, this.#currentToken);
    return new ConnectorError(text, { code, status, ...(cause === undefined ? {} : { cause }), ...extra });
  }
}

/** The runtime's fetch, looked up at call time. */
function defaultFetch(input, init) {
  return globalThis.fetch(input, init);
}

/** Calls a token or headers option (a value or a function, sync or async); a throw is tagged with `what`. */
async function callUserFunction(option, what) {
  if (typeof option !== 'function') return option;
  try {
    return await option();
  } catch (cause) {
    throw Object.assign(new Error(what), { what, cause });
  }
}

function checkUrl(url) {
  const text = url instanceof URL ? url.href : url;
  if (typeof text !== 'string' || text === '') throw new TypeError(`ConnectorClient: url must be a non-empty string or a URL, got ${describe(url)}`);
  let parsed;
  try {
    parsed = new URL(text);
  } catch {
    throw new TypeError(`ConnectorClient: url is not a URL: ${quote(text)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`ConnectorClient: url must be http(s), got ${parsed.protocol}`);
  }
  return text;
}

function checkToken(token, what) {
  // The value is never quoted: it is a secret.
  if (typeof token !== 'string' || token === '') throw new TypeError(`ConnectorClient: ${what} must be a non-empty string, got ${describe(token)}`);
  if (/[\s\x00-\x1f\x7f]/.test(token)) throw new TypeError(`ConnectorClient: ${what} must not contain whitespace or control characters`);
  return token;
}

function checkHeaders(headers, what) {
  if (headers === null || typeof headers !== 'object') throw new TypeError(`ConnectorClient: ${what} must be an object, an array of pairs or a Headers, got ${describe(headers)}`);
  try {
    new Headers(headers);
  } catch (error) {
    throw new TypeError(`ConnectorClient: ${what} are not valid headers: ${error.message}`);
  }
}

function checkEventId(id, what) {
  if (typeof id !== 'string') throw new TypeError(`ConnectorClient: ${what} must be a string, got ${describe(id)}`);
  if (/[\0\r\n]/.test(id)) throw new TypeError(`ConnectorClient: ${what} must not contain NUL, CR or LF`);
  return id;
}

function checkMs(value, what) {
  if (typeof value !== 'number') throw new TypeError(`ConnectorClient: ${what} must be a number, got ${describe(value)}`);
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`ConnectorClient: ${what} must be a finite number above 0, got ${value}`);
  return value;
}

function checkInteger(value, what, min) {
  if (typeof value !== 'number') throw new TypeError(`ConnectorClient: ${what} must be a number, got ${describe(value)}`);
  if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`ConnectorClient: ${what} must be an integer of at least ${min}, got ${value}`);
  return value;
}

function checkFunction(fn, what, optional = false) {
  if (optional && fn === undefined) return undefined;
  if (typeof fn !== 'function') throw new TypeError(`ConnectorClient: ${what} must be a function, got ${describe(fn)}`);
  return fn;
}

function causeText(cause) {
  const inner = cause?.cause;
  const detail = inner?.code ?? inner?.message;
  return detail ? `${cause?.message ?? cause} (${detail})` : String(cause?.message ?? cause);
}

function quote(text) {
  const value = String(text);
  return value.length > QUOTE_CHARS ? `${value.slice(0, QUOTE_CHARS)}…` : value;
}

/** `text` with every occurrence of the token replaced. */
function redact(text, token) {
  return token ? text.split(token).join('[token]') : text;
}
