// Types of ConnectorClient and ConnectorError.
import type { ActionsPayload, AnyPayload, SummaryPayload, TidepoolError } from './index.js';

/** Why the connector's stream failed. */
export type ConnectorErrorCode =
  /** Fatal, reject `run()`. */
  | 'CONNECTOR_UNAUTHORIZED' | 'CONNECTOR_FORBIDDEN' | 'CONNECTOR_NOT_FOUND' | 'CONNECTOR_BAD_CONTENT_TYPE'
  | 'CONNECTOR_RETRIES_EXHAUSTED' | 'CONNECTOR_RUNNING'
  /** One attempt failed; retried (passed to `onDisconnect`, or the `cause` of CONNECTOR_RETRIES_EXHAUSTED). */
  | 'CONNECTOR_HTTP' | 'CONNECTOR_NETWORK' | 'CONNECTOR_TIMEOUT' | 'CONNECTOR_STREAM' | 'CONNECTOR_TOKEN';

/** The connector's stream failed. The message never contains the token. */
export declare class ConnectorError extends TidepoolError {
  readonly code: ConnectorErrorCode;
  /** The HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** CONNECTOR_BAD_CONTENT_TYPE: the content type received. */
  readonly contentType?: string;
  /** CONNECTOR_RETRIES_EXHAUSTED: failed attempts in a row. */
  readonly attempts?: number;
  /** CONNECTOR_RETRIES_EXHAUSTED: the last failure; otherwise the underlying error, if any. */
  readonly cause?: unknown;
}

/** A value, or a function (sync or async) called before each connection. */
export type Refreshable<T> = T | (() => T | Promise<T>);

export interface ConnectorClientOptions {
  /** The stream, e.g. `https://connector.example/stream/<product_id>` (http or https). */
  url: string | URL;
  /** Sent as `Authorization: Bearer <token>`. A function is called before each connection, so a refreshed token is used on reconnect. */
  token?: Refreshable<string>;
  /** More request headers (an object, pairs, or Headers); a function is called before each connection. */
  headers?: Refreshable<HeadersInit>;
  /** Resume after this event id (e.g. `client.lastEventId` saved before a restart). Default ''. */
  lastEventId?: string;
  /** The wait before the first reconnect; doubles per failure in a row. Default 1000. */
  initialBackoffMs?: number;
  /** The longest wait between attempts (before jitter). Default 30000. */
  maxBackoffMs?: number;
  /** Failed attempts in a row before `run()` rejects; null retries forever. Default null. */
  maxRetries?: number | null;
  /** No response within this counts as a failed attempt. Default 10000. */
  connectTimeoutMs?: number;
  /** Events waiting while a callback's promise is pending; beyond, the newest are dropped. Default 500. */
  maxQueueSize?: number;
  /** Events larger than this (bytes of their lines) are skipped and counted. Default 1 MiB. */
  maxEventBytes?: number;
  /** Called after each successful connection. Errors it throws are caught and warned. */
  onConnect?: () => void | Promise<void>;
  /** Called when a connection ends: `null` for a normal end or `stop()`, else the failure. */
  onDisconnect?: (error: ConnectorError | null) => void | Promise<void>;
  /** The Fetch API function to use. Default: the runtime's `fetch`. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Timers for the reconnect waits and the connect timeout (deterministic tests). Default: the runtime's. */
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(timer: any): void };
  /** Source of the jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

export interface ConnectorClientStats {
  /** Successful connections. */
  connects: number;
  /** Attempts after the first one. */
  reconnects: number;
  /** Failed attempts (errors, timeouts, statuses other than 200/204, broken streams). */
  failures: number;
  /** Events received, by type. */
  events: { actions: number; summary: number; heartbeat: number };
  /** Events not delivered, by reason. */
  skipped: { invalidJson: number; unknownType: number; invalidPayload: number; tooLarge: number; incomplete: number };
  /** Payloads handed to the callbacks. */
  delivered: number;
  /** Events dropped because the queue was full (each passed to the onDrop callbacks). */
  dropped: number;
  /** Queued events discarded by `stop()`; `lastEventId` points before them. */
  discarded: number;
  /** Exceptions and rejections of callbacks and hooks. */
  callbackErrors: number;
  /** Events waiting now. */
  queued: number;
  lastEventId: string;
}

/** Reads an event connector's Server-Sent Events stream and feeds its payloads to callbacks. Methods are bound. */
export declare class ConnectorClient {
  /** @throws {TypeError | RangeError} for bad options; nothing connects until `run()`. */
  constructor(options: ConnectorClientOptions);
  /** Each valid actions payload; returns the client. A returned promise is awaited before the next event. */
  onActions(fn: (payload: ActionsPayload) => unknown): this;
  /** Each valid summary payload; returns the client. */
  onSummary(fn: (payload: SummaryPayload) => unknown): this;
  /** Each valid payload of either type; returns the client. */
  onEvent(fn: (payload: AnyPayload) => unknown): this;
  /** Each event dropped because the queue was full: the raw JSON and the running total; returns the client. */
  onDrop(fn: (raw: Record<string, unknown>, totalDropped: number) => void): this;
  /**
   * Connects and reads until `stop()` or a 204 answer (resolves) or a fatal error (rejects with a
   * ConnectorError; a token or headers function returning a bad value: TypeError).
   */
  run(): Promise<void>;
  /** Aborts the connection or the wait at once; `run()` resolves. Queued events are discarded (counted). */
  stop(): void;
  stats(): ConnectorClientStats;
  /** The id to resume from after a restart: every event up to it was delivered, skipped or dropped. */
  readonly lastEventId: string;
  readonly running: boolean;
}
