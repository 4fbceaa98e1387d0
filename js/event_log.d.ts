// Type declarations of the EventLog and the activity endpoint (re-exported by index.d.ts).

/** A log entry; also its JSON shape. Returned objects are fresh copies. */
export interface LogEvent<P extends object = Record<string, unknown>> {
  /** 1 for the first append, +1 per append for the lifetime of the log; never reset. */
  id: number;
  /** Seconds since the epoch at append time (`Date.now() / 1000` shape). */
  timestamp: number;
  kind: string;
  payload: P;
}

export interface EventLogQuery {
  /** Only events with `id > since`; omitted or null: every resident event. An integer. */
  since?: number | null;
  /** At most this many; omitted, null or negative: no cap; 0: none. An integer. */
  limit?: number | null;
}

export interface EventLogReadResult<P extends object = Record<string, unknown>> {
  events: LogEvent<P>[];
  /** Oldest resident id; null when the log holds nothing. */
  firstId: number | null;
  /** Last id ever assigned; 0 before the first append. */
  lastId: number;
  /** Events after `since` that were evicted or cleared before this reader saw them. */
  missed: number;
  /** The cursor to send next (the last returned id, or `since` moved past what is gone). */
  nextSince: number;
}

export interface EventLogStats {
  appended: number;
  evictedByTtl: number;
  /** Evicted because more than `maxEntries` were held. */
  evictedBySize: number;
  /** Evicted because the held payloads were more than `maxBytes` of JSON. */
  evictedByBytes: number;
  /** Events dropped by `clear()`. */
  cleared: number;
  /**
   * Events held now. For InMemoryEventLog:
   * appended = evictedByTtl + evictedBySize + evictedByBytes + cleared + resident.
   */
  resident: number;
  /** The JSON bytes of the held payloads (at most `maxBytes`). */
  bytes: number;
}

export interface EventLogOptions {
  /** Default 3600. Zero, negative or non-finite: the default, with a warning. */
  ttlSeconds?: number;
  /** Default 10000. Zero, negative, fractional or non-finite: the default, with a warning. */
  maxEntries?: number;
  /**
   * The most payload bytes held, counted as the JSON text stored (UTF-8, compact); the oldest
   * events are evicted beyond it. Default 67108864 (64 MiB). Zero, negative, fractional or
   * non-finite: the default, with a warning.
   */
  maxBytes?: number;
  /**
   * The clock, in **seconds** since the epoch (float), like the reference's `time.time()` and
   * the events' `timestamp`; for deterministic tests. Default `Date.now() / 1000`. (The
   * ActivityBuffer's `now` returns milliseconds, like its `ts_ms`.)
   */
  now?: () => number;
}

/**
 * What every event log backend offers (in memory, disabled, and the IndexedDB and Redis
 * backends to come). Each method may return a Promise: callers always `await` them.
 */
export interface EventLogBackend<P extends object = Record<string, unknown>> {
  append(kind: string, payload?: P): LogEvent<P> | Promise<LogEvent<P>>;
  query(options?: EventLogQuery): LogEvent<P>[] | Promise<LogEvent<P>[]>;
  clear(): unknown;
  /** Optional: cursor metadata for the activity endpoint (without it: `first_id` null, `missed` 0). */
  read?(options?: EventLogQuery): EventLogReadResult<P> | Promise<EventLogReadResult<P>>;
  /** Optional: push for the endpoint's live tail (without it the tail polls `query`). Returns unsubscribe. */
  subscribe?(listener: (event: LogEvent<P>) => void): () => void;
}

/** `P`: the payload type of the events (JSON data); every method is bound. */
declare class EventLogBase<P extends object = Record<string, unknown>> implements EventLogBackend<P> {
  /**
   * Appends and returns the stored event.
   * @throws {TypeError} for an empty or non-string `kind`, or a `payload` that is not a JSON-compatible
   * plain object (cycles, functions, BigInt, symbols, NaN, Dates, arrays...). Nothing changes then.
   * @throws {RangeError} for a `payload` whose JSON is larger than `maxBytes`: nothing is stored,
   * nothing evicted, no id consumed.
   */
  append(kind: string, payload?: P): LogEvent<P>;
  /** @throws {TypeError} for a non-integer `since` or `limit`, or an unknown option; {RangeError} beyond ±Number.MAX_SAFE_INTEGER. */
  query(options?: EventLogQuery): LogEvent<P>[];
  /** @throws {TypeError} for a non-integer `since` or `limit`, or an unknown option; {RangeError} beyond ±Number.MAX_SAFE_INTEGER. */
  read(options?: EventLogQuery): EventLogReadResult<P>;
  /** Drops every entry; ids keep counting. Returns how many entries were dropped. */
  clear(): number;
  stats(): EventLogStats;
  /** Last id ever assigned; 0 before the first append. */
  readonly lastId: number;
  /** Called after each append, in id order; returns the unsubscribe function. Do not mutate the event. */
  subscribe(listener: (event: LogEvent<P>) => void): () => void;
  /** Listeners subscribed now (one per open live tail of the activity endpoint). */
  readonly subscriberCount: number;
}

/** An append-and-query log in memory with TTL, then entry-count, then byte eviction on every append and query. */
export declare class InMemoryEventLog<P extends object = Record<string, unknown>> extends EventLogBase<P> {
  /** @throws {TypeError} for a non-number bound, a non-function `now` or an unknown option. */
  constructor(options?: EventLogOptions);
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** Stores nothing: `append` returns synthetic events with increasing ids, `query` returns []. */
export declare class DisabledEventLog<P extends object = Record<string, unknown>> extends EventLogBase<P> {
  constructor(options?: EventLogOptions);
}

export interface CreateEventLogOptions extends EventLogOptions {
  /** Trimmed, case-insensitive: `disabled` / `off` / `none`, else memory (unknown names warn once). */
  backend?: string;
}

export declare function createEventLog<P extends object = Record<string, unknown>>(
  options?: CreateEventLogOptions,
): InMemoryEventLog<P> | DisabledEventLog<P>;

export interface ActivityHandlerOptions {
  /** `true`: `Access-Control-Allow-Origin: *`; a string: that origin. Also answers OPTIONS preflights. */
  cors?: boolean | string;
  /** Milliseconds between SSE heartbeat comments. Default 15000. */
  heartbeatMs?: number;
  /** For logs without `subscribe`: milliseconds between polls of a live tail. Default 1000. */
  pollMs?: number;
}

/** The JSON body of `GET ?since=&limit=` (snake_case wire shape). */
export interface ActivityPage {
  events: LogEvent[];
  first_id: number | null;
  last_id: number;
  missed: number;
  next_since: number;
}

/**
 * A Fetch API handler over `log`: `GET ?since=&limit=` -> 200 {@link ActivityPage} (limit default
 * 100, cap 500; malformed -> 400 `{ error }`; a log that cannot be read -> 503 `{ error, code }`);
 * `Accept: text/event-stream` -> a live tail from
 * `Last-Event-ID` or `since` with heartbeats; other methods -> 405.
 */
export declare function activityHandler(
  log: EventLogBackend<any>,
  options?: ActivityHandlerOptions,
): (request: Request) => Promise<Response>;

/**
 * Serves a Fetch API handler (such as {@link activityHandler}'s) from `node:http`:
 * `http.createServer(toNodeListener(handler))`. Each request becomes a `Request` (URL from the
 * Host header, headers, the body streamed for methods other than GET / HEAD, a `signal` that
 * aborts when the client disconnects); the `Response` is written back with its status and
 * headers sent at once, its body streamed and cancelled when the client disconnects (none for
 * HEAD). A malformed Host -> 400; a handler that throws -> 500 (reported with `console.error`).
 * `req` / `res` are Node's `IncomingMessage` / `ServerResponse` (typed loosely so that the
 * package needs no `@types/node`).
 * @throws {TypeError} when `handler` is not a function.
 */
export declare function toNodeListener(
  handler: (request: Request) => Response | Promise<Response>,
): (req: any, res: any) => Promise<void>;
