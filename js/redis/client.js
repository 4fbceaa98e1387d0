// RedisRestClient: Redis over the Upstash REST protocol, with nothing but `fetch`, so the same
// code runs in Workers, Deno, browsers and Node. A command is a JSON array POSTed to the base
// URL, a pipeline an array of them POSTed to `<url>/pipeline`; answers are `{ result }` or
// `{ error }` (one per command for a pipeline).
//
// Invariants:
// - Every HTTP request has its own timeout signal; a caller's signal aborts only its own call.
// - The `upstash-sync-token` of a response is sent with every later request (read your writes).
// - A failed call is retried only when the caller says a repeat cannot apply a change twice
//   (`retry: true`), and only where the failure allows it; a script is never retried blindly.
// - Errors are `RedisRestError`s; no message contains the token.
import { RedisRestError } from '../errors.js';
import { describe, optionsObject } from '../arguments.js';

const CLIENT_OPTIONS = ['url', 'token', 'fetch', 'timeoutMs'];
const CALL_OPTIONS = ['retry', 'timeoutMs', 'signal', 'onAttempt'];
/** Attempts of a call with `retry: true`, and the pause before each retry (ms, jittered). */
const MAX_ATTEMPTS = 3;
const RETRY_PAUSES_MS = [50, 250];
/** How much of an unexpected body a message quotes. */
const QUOTE_CHARS = 200;
/** Prefix the local gateway (@humanwhocodes/upstash-redis-server) puts before Redis errors. */
const GATEWAY_ERROR_PREFIX = /^Failed to execute (?:Redis command|pipeline): /;
/** Redis error replies start with an upper-case code: `ERR ...`, `WRONGTYPE ...`, `NOSCRIPT ...`. */
const REDIS_ERROR_CODE = /^[A-Z][A-Z_]+(?: |$)/;
/** Redis errors that say the command was not run and may succeed later. */
const TRANSIENT_REDIS_ERRORS = new Set(['BUSY', 'LOADING', 'TRYAGAIN', 'MASTERDOWN', 'CLUSTERDOWN']);

/** A client for one Redis REST endpoint. Methods are bound. */
export class RedisRestClient {
  #url;
  #token;
  #fetch;
  #timeoutMs;
  #syncToken = '';
  #shas = new Map();
  #stats = { requests: 0, retries: 0, errors: 0, scriptFallbacks: 0 };

  /**
   * `url`: the REST endpoint (http or https). `token`: the bearer token. `fetch`: the Fetch API
   * function to use (default `globalThis.fetch`). `timeoutMs`: per HTTP request (default 5000).
   * Throws TypeError / RangeError for bad options (never quoting the token).
   */
  constructor(options) {
    const { url, token, fetch = defaultFetch, timeoutMs = 5000 } = optionsObject(options, 'RedisRestClient', CLIENT_OPTIONS);
    this.#url = checkUrl(url);
    this.#token = checkToken(token);
    if (typeof fetch !== 'function') throw new TypeError(`RedisRestClient: fetch must be a function, got ${describe(fetch)}`);
    this.#fetch = fetch;
    this.#timeoutMs = checkTimeout(timeoutMs, 'RedisRestClient: timeoutMs');
    for (const name of ['command', 'pipeline', 'evalScript', 'stats']) this[name] = this[name].bind(this);
  }

  /**
   * A client configured from `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN`, read from
   * `env` (a Workers `env` object, or any object) or else from `process.env` (Node) or
   * `Deno.env` (Deno). `options` adds the other constructor options.
   */
  static fromEnv(env, options) {
    const read = envReader(env);
    const url = read('UPSTASH_REDIS_REST_URL');
    const token = read('UPSTASH_REDIS_REST_TOKEN');
    return new RedisRestClient({ ...optionsObject(options, 'RedisRestClient.fromEnv', ['fetch', 'timeoutMs']), url, token });
  }

  /** The endpoint's URL (without a trailing slash). */
  get url() {
    return this.#url;
  }

  /**
   * Runs one command, e.g. `['SET', 'k', 'v']`; resolves to its result. Options: `retry`
   * (default false: retry failures that allow it; only for commands a repeat cannot apply
   * twice), `timeoutMs`, `signal`, `onAttempt(n)` (called before each HTTP request).
   * Rejects with a RedisRestError.
   */
  async command(command, options) {
    const args = checkCommand(command, 'command');
    const call = callOptions(options, this.#timeoutMs);
    const body = await this.#request('', args, commandName(args), call);
    return resultOf(body, commandName(args), 200);
  }

  /**
   * Runs commands in one request (not a transaction: each runs on its own). Resolves to one
   * entry per command, in order: `{ result }`, or `{ error }` holding a RedisRestError
   * ('REDIS_ERROR', with `index`) for a command that failed. Options as for `command`.
   */
  async pipeline(commands, options) {
    if (!Array.isArray(commands) || commands.length === 0) {
      throw new TypeError(`pipeline: commands must be a non-empty array of commands, got ${describe(commands)}`);
    }
    const list = commands.map((command, index) => checkCommand(command, `pipeline: commands[${index}]`));
    const call = callOptions(options, this.#timeoutMs);
    const body = await this.#request('/pipeline', list, 'PIPELINE', call);
    if (!Array.isArray(body) || body.length !== list.length) {
      throw this.#error('REDIS_BAD_RESPONSE', `Redis PIPELINE: expected ${list.length} results, got ${quote(JSON.stringify(body))}`, 200, 'PIPELINE', true);
    }
    return body.map((entry, index) => {
      const name = commandName(list[index]);
      if (entry !== null && typeof entry === 'object' && typeof entry.error === 'string') {
        return { error: this.#error('REDIS_ERROR', `Redis ${name}: ${entry.error}`, 200, name, false, { index }) };
      }
      if (entry === null || typeof entry !== 'object' || !('result' in entry)) {
        return { error: this.#error('REDIS_BAD_RESPONSE', `Redis ${name}: expected { result } or { error }, got ${quote(JSON.stringify(entry))}`, 200, name, true, { index }) };
      }
      return { result: entry.result };
    });
  }

  /**
   * Runs a Lua script by EVALSHA (its SHA-1 computed once per client), falling back to EVAL when the
   * server does not have it cached (an error containing NOSCRIPT: hosted Upstash answers 400,
   * the local gateway 500). `keys` and `args` are arrays of strings (numbers are sent as
   * their decimal text). Options as for `command`; `retry: true` only for a script a repeat
   * cannot apply twice.
   */
  async evalScript(source, keys = [], args = [], options) {
    if (typeof source !== 'string' || source === '') throw new TypeError(`evalScript: source must be a non-empty string, got ${describe(source)}`);
    if (!Array.isArray(keys)) throw new TypeError(`evalScript: keys must be an array, got ${describe(keys)}`);
    if (!Array.isArray(args)) throw new TypeError(`evalScript: args must be an array, got ${describe(args)}`);
    const sha = await this.#scriptSha(source, options);
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await this.command(['EVALSHA', sha, ...rest], options);
    } catch (error) {
      if (!(error instanceof RedisRestError && error.code === 'REDIS_ERROR' && error.message.includes('NOSCRIPT'))) throw error;
      this.#stats.scriptFallbacks += 1;
      // EVAL caches the script, so later calls find it by EVALSHA.
      return this.command(['EVAL', source, ...rest], options);
    }
  }

  /**
   * The SHA-1 (lowercase hex) EVALSHA names `source` by, computed once: Web Crypto's digest,
   * or, where the runtime has no `crypto.subtle` (a browser page served over plain http),
   * Redis's own answer to SCRIPT LOAD (one request, which also caches the script; loading
   * twice changes nothing, so it is retried).
   */
  async #scriptSha(source, options) {
    let sha = this.#shas.get(source);
    if (sha === undefined) {
      const subtle = globalThis.crypto?.subtle;
      sha = subtle
        ? hex(await subtle.digest('SHA-1', new TextEncoder().encode(source)))
        : await this.command(['SCRIPT', 'LOAD', source], { ...options, retry: true });
      this.#shas.set(source, sha);
    }
    return sha;
  }

  /** `{ requests, retries, errors, scriptFallbacks }` over the client's lifetime. */
  stats() {
    return { ...this.#stats };
  }

  /** POSTs `payload` to the endpoint (`path` '' or '/pipeline'); resolves to the parsed body of a 2xx answer. */
  async #request(path, payload, name, call) {
    const body = JSON.stringify(payload);
    // Whether any attempt so far may have been carried out: a later attempt's refusal does
    // not undo an earlier attempt that timed out.
    let mayHaveApplied = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#attempt(path, body, name, call, attempt);
      } catch (error) {
        this.#stats.errors += 1;
        mayHaveApplied ||= error.mayHaveApplied;
        if (!call.retry || !error.retryable || attempt >= MAX_ATTEMPTS || call.signal?.aborted) {
          delete error.retryable;
          error.attempts = attempt;
          error.mayHaveApplied = mayHaveApplied;
          throw error;
        }
        this.#stats.retries += 1;
        const pause = RETRY_PAUSES_MS[attempt - 1] ?? RETRY_PAUSES_MS.at(-1);
        await new Promise((resolve) => setTimeout(resolve, pause * (0.5 + Math.random())));
      }
    }
  }

  async #attempt(path, body, name, call, attempt) {
    if (call.signal?.aborted) throw this.#error('REDIS_ABORTED', `Redis ${name}: aborted by the caller's signal`, 0, name, false);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, call.timeoutMs);
    const onAbort = () => controller.abort();
    call.signal?.addEventListener('abort', onAbort, { once: true });
    const headers = { authorization: `Bearer ${this.#token}`, 'content-type': 'application/json' };
    if (this.#syncToken) headers['upstash-sync-token'] = this.#syncToken;
    this.#stats.requests += 1;
    call.onAttempt?.(attempt);
    let response;
    let text;
    try {
      // Called unbound: Workers reject a `fetch` called as a method of another object (Illegal invocation).
      const fetchFn = this.#fetch;
      response = await fetchFn(`${this.#url}${path}`, { method: 'POST', headers, body, signal: controller.signal });
      const syncToken = response.headers?.get?.('upstash-sync-token');
      if (syncToken) this.#syncToken = syncToken;
      text = await response.text();
    } catch (cause) {
      if (timedOut) {
        throw this.#error('REDIS_TIMEOUT', `Redis ${name}: no response within ${call.timeoutMs} ms`, response?.status ?? 0, name, true, { retryable: true });
      }
      if (call.signal?.aborted) throw this.#error('REDIS_ABORTED', `Redis ${name}: aborted by the caller's signal`, 0, name, true);
      const refused = connectionRefused(cause);
      throw this.#error('REDIS_NETWORK', `Redis ${name}: ${refused ? 'connection refused' : 'network error'}: ${causeText(cause)}`,
        response?.status ?? 0, name, !refused, { retryable: true });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
    }
    return this.#interpret(response.status, text, name);
  }

  /** The parsed body of an answer, or the error it means. */
  #interpret(status, text, name) {
    let parsed;
    let json = true;
    try {
      parsed = JSON.parse(text);
    } catch {
      json = false;
    }
    if (status === 401 || status === 403) {
      throw this.#error('REDIS_UNAUTHORIZED', `Redis ${name}: HTTP ${status} (check the token): ${quote(text)}`, status, name, false);
    }
    const message = json && parsed !== null && typeof parsed === 'object' && typeof parsed.error === 'string' ? parsed.error : null;
    if (status >= 200 && status < 300) {
      if (!json) throw this.#error('REDIS_BAD_RESPONSE', `Redis ${name}: the body is not JSON (HTTP ${status}): ${quote(text)}`, status, name, true, { retryable: true });
      if (message !== null) throw this.#redisError(message, status, name);
      return parsed;
    }
    if (message !== null && REDIS_ERROR_CODE.test(message.replace(GATEWAY_ERROR_PREFIX, ''))) {
      throw this.#redisError(message, status, name);
    }
    // No Redis error reply: the gateway or something before it failed. After a 5xx the
    // command may have run; 408 / 429 / 5xx may pass on a later attempt.
    const retryable = status === 408 || status === 429 || status >= 500;
    throw this.#error('REDIS_HTTP', `Redis ${name}: HTTP ${status}: ${quote(message ?? text)}`, status, name, status >= 500, { retryable });
  }

  /** Redis answered an error: the command was not carried out (or failed where it stood). */
  #redisError(message, status, name) {
    const reply = message.replace(GATEWAY_ERROR_PREFIX, '');
    const retryable = TRANSIENT_REDIS_ERRORS.has(reply.split(' ', 1)[0]);
    return this.#error('REDIS_ERROR', `Redis ${name}: ${reply}`, status, name, false, { retryable });
  }

  #error(code, message, status, command, mayHaveApplied, extra = {}) {
    return new RedisRestError(redact(message, this.#token), { code, status, command, mayHaveApplied, ...extra });
  }
}

/** Lowercase hex digits of the bytes of `buffer` (an ArrayBuffer). */
function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The runtime's fetch, looked up at call time. */
function defaultFetch(input, init) {
  return globalThis.fetch(input, init);
}

function checkUrl(url) {
  if (typeof url !== 'string' || url === '') throw new TypeError(`RedisRestClient: url must be a non-empty string, got ${describe(url)}`);
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`RedisRestClient: url is not a URL: ${quote(url)}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`RedisRestClient: url must be http(s), got ${parsed.protocol}`);
  }
  return url.replace(/\/+$/, '');
}

function checkToken(token) {
  // The value is never quoted: it is a secret.
  if (typeof token !== 'string' || token === '') throw new TypeError(`RedisRestClient: token must be a non-empty string, got ${describe(token)}`);
  if (/[\s\x00-\x1f\x7f]/.test(token)) throw new TypeError('RedisRestClient: token must not contain whitespace or control characters');
  return token;
}

function checkTimeout(value, what) {
  if (typeof value !== 'number') throw new TypeError(`${what} must be a number, got ${describe(value)}`);
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${what} must be a finite number above 0, got ${value}`);
  return value;
}

function callOptions(options, defaultTimeoutMs) {
  const { retry = false, timeoutMs = defaultTimeoutMs, signal, onAttempt } = optionsObject(options, 'call', CALL_OPTIONS);
  if (typeof retry !== 'boolean') throw new TypeError(`retry must be a boolean, got ${describe(retry)}`);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`signal must be an AbortSignal, got ${describe(signal)}`);
  if (onAttempt !== undefined && typeof onAttempt !== 'function') throw new TypeError(`onAttempt must be a function, got ${describe(onAttempt)}`);
  return { retry, timeoutMs: checkTimeout(timeoutMs, 'timeoutMs'), signal, onAttempt };
}

/** A command as sent: strings, numbers as decimal text (JSON numbers would lose nothing, but Redis reads text). */
function checkCommand(command, what) {
  if (!Array.isArray(command) || command.length === 0) throw new TypeError(`${what} must be a non-empty array, got ${describe(command)}`);
  return command.map((arg, index) => {
    if (typeof arg === 'string') return arg;
    if (typeof arg === 'number' && Number.isFinite(arg)) return String(arg);
    throw new TypeError(`${what}[${index}] must be a string or a finite number, got ${describe(arg)}`);
  });
}

function commandName(args) {
  return String(args[0]).toUpperCase();
}

function resultOf(body, name, status) {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !('result' in body)) {
    throw new RedisRestError(`Redis ${name}: expected { result }, got ${quote(JSON.stringify(body))}`, {
      code: 'REDIS_BAD_RESPONSE', status, command: name, mayHaveApplied: true,
    });
  }
  return body.result;
}

function envReader(env) {
  if (env !== undefined) {
    if (env === null || typeof env !== 'object') throw new TypeError(`RedisRestClient.fromEnv: env must be an object, got ${describe(env)}`);
    return (name) => required(env[name], name);
  }
  const processEnv = globalThis.process?.env;
  if (processEnv) return (name) => required(processEnv[name], name);
  const denoEnv = globalThis.Deno?.env;
  if (denoEnv) {
    return (name) => {
      let value;
      try {
        value = denoEnv.get(name);
      } catch (error) {
        throw new TypeError(`RedisRestClient.fromEnv: cannot read ${name} (${error.name}; run Deno with --allow-env=${name})`);
      }
      return required(value, name);
    };
  }
  throw new TypeError('RedisRestClient.fromEnv: no environment here; pass the env object (e.g. a Worker\'s env)');
}

function required(value, name) {
  if (typeof value !== 'string' || value === '') throw new TypeError(`RedisRestClient.fromEnv: ${name} is not set`);
  return value;
}

function connectionRefused(cause) {
  const code = cause?.cause?.code ?? cause?.code;
  return code === 'ECONNREFUSED' || /connection refused|ECONNREFUSED/i.test(String(cause?.message ?? ''));
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
