// Type declarations of the `tidepool` package (every runtime entry exports the same API).

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/** Resolves once the WebAssembly module is loaded. Importing the package already waits for it. */
export declare const ready: Promise<void>;
/** Idempotent: returns `ready`. For callers who want to control loading explicitly. */
export declare function init(): Promise<void>;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/** Base class of every error tidepool defines; `code` is a stable string. */
export declare class TidepoolError extends Error {
  readonly code: string;
}

/** A payload failed validation. */
export declare class PayloadError extends TidepoolError {
  readonly code: 'INVALID_PAYLOAD';
  /** Path of the offending field, e.g. `actions[2].index`; empty when the value itself is wrong. */
  readonly field: string;
}

// ---------------------------------------------------------------------------------------
// Connector payloads (the event connector's wire JSON, snake_case)
// ---------------------------------------------------------------------------------------

export interface SlimAction {
  title: string;
  description: string;
  canonical_url: string;
  index: number;
  type: string;
  timestamp_start: number;
  timestamp_end: number;
  raw_url: string;
  session_id: string | null;
  user_id: string | null;
  email: string | null;
  conversation_id: string | null;
}

export interface ActionsPayload {
  type: 'actions';
  product_id: string;
  session_id: string | null;
  user_id: string | null;
  email: string | null;
  actions: SlimAction[];
  /** Always equals `actions.length` after `parsePayload`. */
  count: number;
  /** Seconds since the epoch. */
  forwarded_at: number;
  conversation_id: string | null;
}

export interface SummaryPayload {
  type: 'summary';
  product_id: string;
  session_id: string | null;
  summary: string;
  replaces: number;
  forwarded_at: number;
}

export type AnyPayload = ActionsPayload | SummaryPayload;

/**
 * A connector payload as it arrives on the wire, before `parsePayload`: any field may be
 * absent and unknown fields are allowed; payloads of other types are held too. What an
 * `EventBuffer` holds by default (`add` accepts any object).
 */
export type WirePayload =
  | ({ type: 'actions'; actions?: Array<Partial<SlimAction>> } & Partial<Omit<ActionsPayload, 'type' | 'actions'>>)
  | ({ type: 'summary' } & Partial<Omit<SummaryPayload, 'type'>>)
  | { type?: string; [field: string]: unknown };

/**
 * Validates and normalises a payload: missing fields get defaults, empty identity strings
 * become `null`, `count` is corrected to `actions.length`, unknown fields are dropped.
 * @throws {PayloadError} naming the offending field.
 */
export declare function parsePayload(value: unknown): AnyPayload;

/**
 * Actions: `Session {session_id|unknown} — {n} actions` and one
 * `[{index}] {type}: {description} — {canonical_url}` line per action. Summary: its text.
 * @throws {PayloadError} when `payload` is not a valid payload.
 */
export declare function toText(payload: AnyPayload | Record<string, unknown>): string;

/**
 * Merges actions payloads of one session: actions concatenated and re-indexed from 0, first
 * non-null `user_id` / `email` / `conversation_id`, greatest `forwarded_at`.
 * @throws {PayloadError} for an empty list or an element that is not an actions payload.
 */
export declare function mergeActions(payloads: ReadonlyArray<ActionsPayload | Record<string, unknown>>): ActionsPayload;

// ---------------------------------------------------------------------------------------
// EventBuffer
// ---------------------------------------------------------------------------------------

export interface EventBufferOptions<T extends object> {
  /** Maximum number of payloads kept; 0 = unlimited. Default 1000. A non-negative integer. */
  maxSize?: number;
  /** Called with each payload dropped because the buffer was full. Errors it throws are caught and warned. */
  onDrop?: (dropped: T) => void;
}

/** A bounded, drop-oldest buffer of payload objects, drained on the caller's cadence. Every method is bound. */
export declare class EventBuffer<T extends object = WirePayload> {
  /** @throws {RangeError} for a negative or non-integer `maxSize`; {TypeError} for an unknown option. */
  constructor(options?: EventBufferOptions<T>);
  /** Adds a payload (bound: `client.onActions(buffer.add)` works). @throws {TypeError} for a non-object. */
  add(payload: T): void;
  /** Every payload in arrival order; the buffer is emptied. */
  drain(): T[];
  /** The payloads of the selected types in arrival order; others stay buffered. @throws {TypeError} for an unknown option. */
  drainByType(options?: { actions?: boolean; summaries?: boolean }): T[];
  /** The newest `n` payloads (all when omitted), oldest first; nothing is removed. */
  peek(n?: number): T[];
  /** Discards every payload; returns how many were discarded. */
  clear(): number;
  readonly size: number;
  readonly isEmpty: boolean;
  /** 0 = unlimited. */
  readonly maxSize: number;
  /** Payloads dropped because the buffer was full, over its lifetime. */
  readonly droppedCount: number;
}
export * from './event_log.js';

// ---------------------------------------------------------------------------------------
// ActivityBuffer (declared in activity.d.ts)
// ---------------------------------------------------------------------------------------

export * from './activity.js';

// ---------------------------------------------------------------------------------------
// Redis over REST (declared in redis.d.ts)
// ---------------------------------------------------------------------------------------

export * from './redis.js';

// ---------------------------------------------------------------------------------------
// Persistence and durable classes (declared in persistence.d.ts)
// ---------------------------------------------------------------------------------------

export * from './persistence.js';

// ---------------------------------------------------------------------------------------
// The event connector's SSE client (declared in connector.d.ts)
// ---------------------------------------------------------------------------------------

export * from './connector.js';
