// Types of RedisRestClient, RedisRestError, RedisEventBuffer, isBufferBackend and RedisEventLog.
import type { AnyPayload } from './index.js';
import type { TidepoolError } from './index.js';
import type { EventLogBackend, EventLogQuery, EventLogReadResult, LogEvent } from './event_log.js';

/** How a Redis REST request failed. */
export type RedisRestErrorCode =
  | 'REDIS_UNAUTHORIZED' | 'REDIS_HTTP' | 'REDIS_ERROR' | 'REDIS_NETWORK' | 'REDIS_TIMEOUT' | 'REDIS_ABORTED' | 'REDIS_BAD_RESPONSE';

/** A request to Redis over REST failed. The message never contains the token. */
export declare class RedisRestError extends TidepoolError {
  readonly code: RedisRestErrorCode;
  /** The HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** The command's name (`GET`, `EVALSHA`, `PIPELINE`...). */
  readonly command: string;
  /** Whether the server may have carried the command out (false: certainly not). */
  readonly mayHaveApplied: boolean;
  /** HTTP attempts made (1 unless the call allowed retries). */
  readonly attempts?: number;
  /** For an entry of a pipeline: its index. */
  readonly index?: number;
}

export interface RedisRestClientOptions {
  /** The REST endpoint, http(s). */
  url: string;
  /** The bearer token. */
  token: string;
  /** The Fetch API function to use. Default: the runtime's `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Per HTTP request. Default 5000. */
  timeoutMs?: number;
}

export interface RedisCallOptions {
  /** Retry failures that allow it (network, timeout, 5xx, 408, 429). Only for commands a repeat cannot apply twice. Default false. */
  retry?: boolean;
  timeoutMs?: number;
  /** Aborts this call only. */
  signal?: AbortSignal;
  /** Called before each HTTP request of the call with the attempt number (1 first). */
  onAttempt?: (attempt: number) => void;
}

export type RedisArg = string | number;
export type PipelineEntry = { result: unknown } | { error: RedisRestError };

/** Redis over the Upstash REST protocol, with `fetch` only. Methods are bound. */
export declare class RedisRestClient {
  constructor(options: RedisRestClientOptions);
  /** From UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN in `env` (e.g. a Worker's env), else process.env or Deno.env. */
  static fromEnv(env?: Record<string, unknown>, options?: Pick<RedisRestClientOptions, 'fetch' | 'timeoutMs'>): RedisRestClient;
  readonly url: string;
  /** One command; resolves to its result. @throws {RedisRestError} */
  command(command: RedisArg[], options?: RedisCallOptions): Promise<unknown>;
  /** Commands in one request; one entry per command, a failed one as `{ error }`. */
  pipeline(commands: RedisArg[][], options?: RedisCallOptions): Promise<PipelineEntry[]>;
  /** EVALSHA, falling back to EVAL on NOSCRIPT. */
  evalScript(source: string, keys?: string[], args?: RedisArg[], options?: RedisCallOptions): Promise<unknown>;
  stats(): { requests: number; retries: number; errors: number; scriptFallbacks: number };
}

/** Why RedisEventBuffer dropped a payload. */
export type RedisDropReason = 'backpressure' | 'unavailable' | 'error';

export interface RedisEventBufferOptions {
  /** A client; or `url` + `token` (+ `fetch`) to make one. */
  client?: RedisRestClient;
  url?: string;
  token?: string;
  fetch?: RedisRestClientOptions['fetch'];
  /** Non-empty, without ':'. Default 'default'. */
  keyPrefix?: string;
  /** Sliding window in seconds. Default 120. */
  windowSeconds?: number;
  /** Add requests in flight at most; adds beyond are dropped ('backpressure'). Default 10. */
  maxConcurrent?: number;
  /** Per request. Default: the client's. */
  timeoutMs?: number;
  onDrop?: (payload: AnyPayload | Record<string, unknown>, reason: RedisDropReason) => void;
  /** A drained member that is not a payload (removed from Redis, passed here). */
  onUnreadable?: (member: string, problem: string) => void;
  /** Seconds since the epoch; scores payloads whose forwarded_at is 0 or absent. */
  now?: () => number;
}

export interface RedisEventBufferStats {
  added: number;
  pending: number;
  unsettled: number;
  stored: number;
  dropped: Record<RedisDropReason, number>;
  evicted: number;
  merged: number;
  drains: number;
  drained: number;
  replayedDrains: number;
  replayedAdds: number;
  unreadable: number;
  requests: number;
  retries: number;
  errors: number;
}

/** Async storage behind an event buffer. Always await each method. */
export interface BufferBackend<T = AnyPayload> {
  add(payload: T): Promise<void> | void;
  drain(): Promise<T[]> | T[];
  size(): Promise<number> | number;
}

/** True when `value` has `add`, `drain` and `size` methods. */
export declare function isBufferBackend(value: unknown): value is BufferBackend<unknown>;

/** A BufferBackend in Redis, shared with the autoplay Python SDK's RedisEventBuffer. Methods are bound. */
export declare class RedisEventBuffer implements BufferBackend<AnyPayload> {
  constructor(options: RedisEventBufferOptions);
  readonly keyPrefix: string;
  readonly windowSeconds: number;
  readonly maxConcurrent: number;
  /** @throws {PayloadError} synchronously for an invalid payload; otherwise never rejects. */
  add(payload: AnyPayload | Record<string, unknown>): Promise<void>;
  /** Oldest first; [] when Redis is unavailable. */
  drain(): Promise<AnyPayload[]>;
  /** 0 when Redis is unavailable. */
  size(): Promise<number>;
  /** Waits for add requests; resolves to the payloads still unsettled. */
  flush(): Promise<number>;
  stats(): RedisEventBufferStats;
}

export interface RedisEventLogOptions {
  /** A client; or `url` + `token` (+ `fetch`) to make one. */
  client?: RedisRestClient;
  url?: string;
  token?: string;
  fetch?: RedisRestClientOptions['fetch'];
  /** The stream's key (required, non-empty); the log also uses `<key>:meta` and `<key>:append:*`. */
  key: string;
  /** Default 3600; may be fractional. Zero, negative or non-finite: the default, with a warning. */
  ttlSeconds?: number;
  /** Default 10000. Zero, negative, fractional or non-finite: the default, with a warning. */
  maxEntries?: number;
  /** Bound on the resident events' kind + payload JSON bytes (UTF-8); none when omitted. A positive integer. */
  maxBytes?: number;
  /** Per request. Default: the client's. */
  timeoutMs?: number;
}

export interface RedisEventLogStats {
  /** Shared by every process using the key: appended = evictedByTtl + evictedBySize + evictedByBytes + cleared + resident. */
  appended: number;
  evictedByTtl: number;
  evictedBySize: number;
  evictedByBytes: number;
  cleared: number;
  resident: number;
  /** Kind + payload bytes of the resident events. */
  bytes: number;
  /** Last id ever assigned (0 before the first append). */
  lastId: number;
  /** This instance: HTTP requests, retried requests, failed calls. */
  requests: number;
  retries: number;
  errors: number;
  /** Append requests whose first answer was lost and whose retry returned what was stored. */
  replayedAppends: number;
  /** Stream entries read that were not events of this log (written by others), skipped. */
  unreadable: number;
}

/**
 * An EventLogBackend in Redis (a stream and a hash), shared by every process that uses the
 * same key; ids from one counter, timestamps from Redis TIME. Methods are bound.
 */
export declare class RedisEventLog implements EventLogBackend {
  /** @throws {TypeError | RangeError} for bad options. */
  constructor(options: RedisEventLogOptions);
  readonly key: string;
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  readonly maxBytes: number | null;
  /**
   * Resolves to the stored event. Rejects with TypeError (kind, payload) or RangeError (above
   * maxBytes) before anything is sent, or with a RedisRestError (see `mayHaveApplied`).
   * Appends of the same tick travel in one request.
   */
  append(kind: string, payload?: Record<string, unknown>): Promise<LogEvent>;
  /** One request. @throws {TypeError} for a non-integer `since` or `limit`; RedisRestError. */
  query(options?: EventLogQuery): Promise<LogEvent[]>;
  /** One request. @throws {TypeError} for a non-integer `since` or `limit`; RedisRestError. */
  read(options?: EventLogQuery): Promise<EventLogReadResult>;
  /** Drops every event; ids keep counting. Resolves to how many were dropped. */
  clear(): Promise<number>;
  /** One request. */
  stats(): Promise<RedisEventLogStats>;
}

export interface RedisDedupOptions {
  /** A client; or `url` + `token` (+ `fetch`) to make one. */
  client?: RedisRestClient;
  url?: string;
  token?: string;
  fetch?: RedisRestClientOptions['fetch'];
  /** Prefix of the claim keys (`<key>:<idempotency token>`). Default 'tidepool:dedup'. */
  key?: string;
  /** Seconds a claim lives, counted from the claim (ActivityBuffer's window). A positive integer; default 3600. */
  dedupWindowS?: number;
  /** Per request. Default: the client's. */
  timeoutMs?: number;
}

/** The envelope fields a claim reads (any SW4RM envelope has them). */
export interface DedupEnvelope {
  message_id: string;
  idempotency_token?: string | null;
  /** Envelope state 0-7; terminal: 4-7. */
  state?: number | null;
  [field: string]: unknown;
}

export interface DedupClaim {
  /** new: process it; in_progress: another claim holds it; duplicate: its holder settled (terminal state). */
  status: 'new' | 'duplicate' | 'in_progress';
  /** The message id of the claim's holder. */
  messageId: string;
}

/** Idempotency dedup shared by every pod through Redis: exactly one concurrent claimer gets 'new'. Methods are bound. */
export declare class RedisDedup {
  /** @throws {TypeError | RangeError} for bad options. */
  constructor(options: RedisDedupOptions);
  readonly key: string;
  readonly dedupWindowS: number;
  /** One request (none without a token: 'new'). Rejects with TypeError for a bad envelope, or RedisRestError. */
  claim(envelope: DedupEnvelope): Promise<DedupClaim>;
  /** Marks the holder's claim terminal (envelope.state 4-7, else RangeError). Resolves to whether it held a live claim. */
  settle(envelope: DedupEnvelope): Promise<boolean>;
  /** Deletes the message's claim while in progress, so the next claim gets 'new'. Resolves to whether it did. */
  release(envelope: DedupEnvelope): Promise<boolean>;
  stats(): { claims: number; new: number; duplicate: number; inProgress: number; untokened: number; requests: number; retries: number; errors: number };
}
