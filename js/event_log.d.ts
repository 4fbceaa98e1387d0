// Type declarations of the EventLog and the activity endpoint (re-exported by index.d.ts).

/** A log entry; also its JSON shape. Returned objects are fresh copies. */
export interface LogEvent<P extends Record<string, unknown> = Record<string, unknown>> {
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

export interface EventLogReadResult {
  events: LogEvent[];
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
  /** The clock, in seconds since the epoch; for deterministic tests. Default `Date.now() / 1000`. */
  now?: () => number;
}

/**
 * What every event log backend offers (in memory, disabled, and the IndexedDB and Redis
 * backends to come). Each method may return a Promise: callers always `await` them.
 */
export interface EventLogBackend {
  append(kind: string, payload?: Record<string, unknown>): LogEvent | Promise<LogEvent>;
  query(options?: EventLogQuery): LogEvent[] | Promise<LogEvent[]>;
  clear(): unknown;
  /** Optional: cursor metadata for the activity endpoint (without it: `first_id` null, `missed` 0). */
  read?(options?: EventLogQuery): EventLogReadResult | Promise<EventLogReadResult>;
  /** Optional: push for the endpoint's live tail (without it the tail polls `query`). Returns unsubscribe. */
  subscribe?(listener: (event: LogEvent) => void): () => void;
}

declare class EventLogBase implements EventLogBackend {
  /**
   * Appends and returns the stored event (bound method).
   * @throws {TypeError} for an empty or non-string `kind`, or a `payload` that is not a JSON-compatible
   * plain object (cycles, functions, BigInt, symbols, NaN, Dates, arrays...). Nothing changes then.
   * @throws {RangeError} for a `payload` whose JSON is larger than `maxBytes`: nothing is stored,
   * nothing evicted, no id consumed.
   */
  append(kind: string, payload?: Record<string, unknown>): LogEvent;
  /** @throws {TypeError} for a non-integer `since` or `limit`. */
  query(options?: EventLogQuery): LogEvent[];
  /** @throws {TypeError} for a non-integer `since` or `limit`. */
  read(options?: EventLogQuery): EventLogReadResult;
  /** Drops every entry; ids keep counting. Returns how many entries were dropped. */
  clear(): number;
  stats(): EventLogStats;
  /** Last id ever assigned; 0 before the first append. */
  readonly lastId: number;
  /** Called after each append, in id order; returns the unsubscribe function. Do not mutate the event. */
  subscribe(listener: (event: LogEvent) => void): () => void;
  /** Listeners subscribed now (one per open live tail of the activity endpoint). */
  readonly subscriberCount: number;
}

/** An append-and-query log in memory with TTL, then entry-count, then byte eviction on every append and query. */
export declare class InMemoryEventLog extends EventLogBase {
  /** @throws {TypeError} for a non-number bound or a non-function `now`. */
  constructor(options?: EventLogOptions);
  readonly ttlSeconds: number;
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/** Stores nothing: `append` returns synthetic events with increasing ids, `query` returns []. */
export declare class DisabledEventLog extends EventLogBase {
  constructor(options?: EventLogOptions);
}

export interface CreateEventLogOptions extends EventLogOptions {
  /** Trimmed, case-insensitive: `disabled` / `off` / `none`, else memory (unknown names warn once). */
  backend?: string;
}

export declare function createEventLog(options?: CreateEventLogOptions): InMemoryEventLog | DisabledEventLog;

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
  log: EventLogBackend,
  options?: ActivityHandlerOptions,
): (request: Request) => Promise<Response>;
