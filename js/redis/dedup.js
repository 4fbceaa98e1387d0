// RedisDedup: the idempotency dedup of ActivityBuffer.checkDuplicate, shared by every pod
// through Redis. A claim is one atomic script, so among concurrent claimers of a token exactly
// one gets 'new'; the others see 'in_progress' until the message is settled (a terminal
// state), then 'duplicate', until the claim expires with the dedup window.
//
// Layout: one HASH per claimed token, `<key>:<idempotency token>`, fields message_id (of the
// claimer), claim (the claimer's random claim id), claimed_ms (Redis TIME), state (the envelope
// state; terminal once settled). It expires dedupWindowS after the claim; settling keeps the
// expiry (the window counts from the claim, as the reference counts from the record).
import { redisRandomId } from '../wasm/tidepool.js';
import { callCore, RedisRestError } from '../errors.js';
import { describe, optionsObject } from '../arguments.js';
import { RedisRestClient } from './client.js';

const OPTIONS = ['client', 'url', 'token', 'fetch', 'key', 'dedupWindowS', 'timeoutMs'];
const STATUS = ['new', 'duplicate', 'in_progress'];
/** ActivityBuffer's default dedup window. */
const DEFAULT_WINDOW_S = 3600;
/** Envelope states 4-7 (FULFILLED, REJECTED, FAILED, TIMED_OUT) are terminal. */
const isTerminal = (state) => state >= 4 && state <= 7;

/**
 * Claims a token. KEYS: [claim key]. ARGV: [message id, claim id, window ms, state].
 * Returns {status, holder's message id}: 0 new (this claim id holds it, also on a retried
 * request), 1 duplicate (settled: terminal state), 2 in progress.
 */
const CLAIM = `local found = redis.call('TYPE', KEYS[1])['ok']
if found ~= 'none' and found ~= 'hash' then return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is not a hash') end
local held = redis.call('HMGET', KEYS[1], 'message_id', 'claim', 'state')
if held[1] then
  if held[2] == ARGV[2] then return {0, held[1]} end
  local state = tonumber(held[3]) or 0
  if state >= 4 and state <= 7 then return {1, held[1]} end
  return {2, held[1]}
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'message_id', ARGV[1], 'claim', ARGV[2], 'state', ARGV[4],
  'claimed_ms', string.format('%d', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {0, ARGV[1]}
`;

/**
 * Records a message's state on its claim, if the claim is live and held by that message.
 * KEYS: [claim key]. ARGV: [message id, state]. Returns 1 when updated, 0 otherwise.
 */
const SETTLE = `local found = redis.call('TYPE', KEYS[1])['ok']
if found ~= 'hash' then return 0 end
if redis.call('HGET', KEYS[1], 'message_id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
`;

/**
 * Deletes a claim still in progress and held by the message. KEYS: [claim key]. ARGV: [message
 * id]. Returns 1 when released, 0 otherwise (absent, another message's, or settled).
 */
const RELEASE = `local found = redis.call('TYPE', KEYS[1])['ok']
if found ~= 'hash' then return 0 end
local held = redis.call('HMGET', KEYS[1], 'message_id', 'state')
if held[1] ~= ARGV[1] then return 0 end
local state = tonumber(held[2]) or 0
if state >= 4 and state <= 7 then return 0 end
redis.call('DEL', KEYS[1])
return 1
`;

/** Idempotency dedup shared by every pod that uses the same Redis and key. Methods are bound. */
export class RedisDedup {
  #client;
  #key;
  #windowMs;
  #timeoutMs;
  #stats = { claims: 0, new: 0, duplicate: 0, inProgress: 0, untokened: 0, requests: 0, retries: 0, errors: 0 };

  /**
   * Options: `client` (a RedisRestClient) or `url` + `token` (+ `fetch`); `key` (the prefix of
   * the claim keys, default 'tidepool:dedup'), `dedupWindowS` (3600, a positive integer, as
   * ActivityBuffer's), `timeoutMs`. Bad options throw a TypeError or RangeError.
   */
  constructor(options) {
    const { client, url, token, fetch, key = 'tidepool:dedup', dedupWindowS = DEFAULT_WINDOW_S, timeoutMs } = optionsObject(options, 'RedisDedup', OPTIONS);
    if (typeof key !== 'string' || key === '') throw new TypeError(`RedisDedup: key must be a non-empty string, got ${describe(key)}`);
    if (typeof dedupWindowS !== 'number') throw new TypeError(`RedisDedup: dedupWindowS must be a positive integer, got ${describe(dedupWindowS)}`);
    if (!Number.isSafeInteger(dedupWindowS) || dedupWindowS < 1) throw new RangeError(`RedisDedup: dedupWindowS must be a positive integer, got ${dedupWindowS}`);
    if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs))) {
      throw new (typeof timeoutMs === 'number' ? RangeError : TypeError)(`RedisDedup: timeoutMs must be a finite number above 0, got ${describe(timeoutMs)}`);
    }
    if (client !== undefined) {
      if (!(client instanceof RedisRestClient)) throw new TypeError(`RedisDedup: client must be a RedisRestClient, got ${describe(client)}`);
      if (url !== undefined || token !== undefined || fetch !== undefined) {
        throw new TypeError('RedisDedup: pass either client, or url and token (and fetch), not both');
      }
    }
    this.#client = client ?? new RedisRestClient({ url, token, ...(fetch === undefined ? {} : { fetch }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    this.#key = key;
    // The reference keeps a token while `now - ts <= window`: the claim lives one ms past it.
    this.#windowMs = dedupWindowS * 1000 + 1;
    this.#timeoutMs = timeoutMs;
    for (const name of ['claim', 'settle', 'release', 'stats']) this[name] = this[name].bind(this);
  }

  get key() {
    return this.#key;
  }

  get dedupWindowS() {
    return (this.#windowMs - 1) / 1000;
  }

  /**
   * Claims the envelope's idempotency token for its message: resolves to `{ status, messageId }`,
   * `status` 'new' (this claim holds the token: process the message), 'in_progress' (another
   * claim holds it and has not settled) or 'duplicate' (the holder settled with a terminal
   * state); `messageId` is the holder's message id. An envelope without a token is always 'new'
   * (nothing to dedup by) and sends nothing. One request; a retry of a request whose answer was
   * lost is recognised (a claim id). Rejects with a TypeError for a bad envelope (nothing sent)
   * or a RedisRestError.
   */
  async claim(envelope) {
    const { messageId, token, state } = fields(envelope, 'claim');
    this.#stats.claims += 1;
    if (token === '') {
      this.#stats.untokened += 1;
      this.#stats.new += 1;
      return { status: 'new', messageId };
    }
    const claimId = callCore(() => redisRandomId());
    const reply = await this.#run(CLAIM, token, [messageId, claimId, String(this.#windowMs), String(state)]);
    if (!Array.isArray(reply) || reply.length !== 2 || !(reply[0] in STATUS) || typeof reply[1] !== 'string') {
      throw badReply('claim', reply);
    }
    const status = STATUS[reply[0]];
    this.#stats[status === 'in_progress' ? 'inProgress' : status] += 1;
    return { status, messageId: reply[1] };
  }

  /**
   * Records that the envelope's message reached its state, which must be terminal (4-7: a
   * RangeError otherwise, nothing sent): later claims of the token answer 'duplicate' until the
   * window ends. Resolves to true when the message held a live claim, false otherwise (expired,
   * never claimed, or held by another message).
   */
  async settle(envelope) {
    const { messageId, token, state } = fields(envelope, 'settle');
    if (!isTerminal(state)) throw new RangeError(`settle: envelope.state must be a terminal state (4-7: FULFILLED, REJECTED, FAILED, TIMED_OUT), got ${state}`);
    if (token === '') return false;
    return (await this.#run(SETTLE, token, [messageId, String(state)])) === 1;
  }

  /**
   * Gives up the envelope's claim while it is still in progress (processing failed and may be
   * tried again): the next claim of the token gets 'new'. Resolves to true when released.
   */
  async release(envelope) {
    const { messageId, token } = fields(envelope, 'release');
    if (token === '') return false;
    return (await this.#run(RELEASE, token, [messageId])) === 1;
  }

  /** This instance's counters: `{ claims, new, duplicate, inProgress, untokened, requests, retries, errors }`. */
  stats() {
    return { ...this.#stats };
  }

  async #run(script, token, args) {
    const options = {
      retry: true,
      onAttempt: (attempt) => {
        this.#stats.requests += 1;
        if (attempt > 1) this.#stats.retries += 1;
      },
    };
    if (this.#timeoutMs !== undefined) options.timeoutMs = this.#timeoutMs;
    try {
      return await this.#client.evalScript(script, [`${this.#key}:${token}`], args, options);
    } catch (error) {
      this.#stats.errors += 1;
      throw error;
    }
  }
}

/** The fields a claim reads from an envelope; a TypeError naming the field otherwise. */
function fields(envelope, what) {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    throw new TypeError(`${what}: envelope must be an object, got ${describe(envelope)}`);
  }
  const { message_id: messageId, idempotency_token: token = '', state = 0 } = envelope;
  if (typeof messageId !== 'string' || messageId === '') {
    throw new TypeError(`${what}: envelope.message_id must be a non-empty string, got ${describe(messageId)}`);
  }
  if (token !== null && typeof token !== 'string') {
    throw new TypeError(`${what}: envelope.idempotency_token must be a string, got ${describe(token)}`);
  }
  if (state !== null && (!Number.isInteger(state) || state < 0 || state > 7)) {
    throw new TypeError(`${what}: envelope.state must be an integer 0-7, got ${typeof state === 'number' ? state : describe(state)}`);
  }
  return { messageId, token: token ?? '', state: state ?? 0 };
}

function badReply(what, reply) {
  return new RedisRestError(`Redis ${what}: unexpected reply ${JSON.stringify(reply)?.slice(0, 200)}`, {
    code: 'REDIS_BAD_RESPONSE', status: 200, command: 'EVALSHA', mayHaveApplied: true,
  });
}
