// Type declarations of ActivityBuffer and the SW4RM envelope helpers (re-exported by index.d.ts).
import { TidepoolError } from './index.js';

// ---------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------

/** Acknowledgement stages (0-6). Frozen. */
export declare const AckStage: Readonly<{
  UNSPECIFIED: 0; RECEIVED: 1; READ: 2; FULFILLED: 3; REJECTED: 4; FAILED: 5; TIMED_OUT: 6;
}>;
/** Envelope states (0-7); PENDING and RUNNING are aliases of RECEIVED and READ. Frozen. */
export declare const EnvelopeState: Readonly<{
  UNSPECIFIED: 0; SENT: 1; RECEIVED: 2; READ: 3; FULFILLED: 4; REJECTED: 5; FAILED: 6; TIMED_OUT: 7;
  PENDING: 2; RUNNING: 3;
}>;
/** Protocol error codes. Frozen. */
export declare const ErrorCode: Readonly<{
  UNSPECIFIED: 0; BUFFER_FULL: 1; NO_ROUTE: 2; ACK_TIMEOUT: 3; AGENT_UNAVAILABLE: 4; AGENT_SHUTDOWN: 5;
  VALIDATION_ERROR: 6; PERMISSION_DENIED: 7; UNSUPPORTED_MESSAGE_TYPE: 8; OVERSIZE_PAYLOAD: 9; TOOL_TIMEOUT: 10;
  PARTIAL_DELIVERY: 11; FORCED_PREEMPTION: 12; TTL_EXPIRED: 13; DUPLICATE_DETECTED: 14; ALREADY_IN_PROGRESS: 15;
  INTERNAL_ERROR: 99;
}>;
/** Message types. Frozen. */
export declare const MessageType: Readonly<{
  UNSPECIFIED: 0; CONTROL: 1; DATA: 2; HEARTBEAT: 3; NOTIFICATION: 4; ACKNOWLEDGEMENT: 5; HITL_INVOCATION: 6;
  WORKTREE_CONTROL: 7; NEGOTIATION: 8; TOOL_CALL: 9; TOOL_RESULT: 10; TOOL_ERROR: 11;
}>;

export type AckStageValue = (typeof AckStage)[keyof typeof AckStage];
export type EnvelopeStateValue = (typeof EnvelopeState)[keyof typeof EnvelopeState];

/** True exactly for the terminal envelope states 4-7 (false for anything that is not an integer). */
export declare function isTerminalState(state: unknown): boolean;
/** True exactly for the terminal ack stages 3-6 (false for anything that is not an integer). */
export declare function isTerminalStage(stage: unknown): boolean;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/** An ActivityBuffer with `onFull: 'reject'` is full, or a snapshot holds more records than `maxItems`. */
export declare class BufferFullError extends TidepoolError {
  readonly code: 'BUFFER_FULL';
  /** The protocol's `ErrorCode.BUFFER_FULL`. */
  readonly errorCode: 1;
  readonly currentSize: number;
  readonly maxSize: number;
}

/** A snapshot is malformed. */
export declare class SnapshotError extends TidepoolError {
  readonly code: 'SNAPSHOT_INVALID';
  /** Where, e.g. `records.m1.ts_ms` or `order[3]`; empty for the snapshot itself. */
  readonly path: string;
  /** What is wrong there. */
  readonly problem: string;
}

// ---------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------

/**
 * A SW4RM envelope (wire object, snake_case). Byte fields are `Uint8Array`s at the top level;
 * every other field is JSON data. Unknown fields are kept.
 */
export interface Envelope {
  message_id: string;
  idempotency_token?: string | null;
  producer_id?: string;
  correlation_id?: string | null;
  parent_correlation_id?: string;
  sequence_number?: number;
  retry_count?: number;
  message_type?: number;
  content_type?: string;
  content_length?: number;
  repo_id?: string;
  worktree_id?: string;
  hlc_timestamp?: string;
  timestamp?: { seconds: number; nanos: number };
  ttl_ms?: number;
  state?: number | null;
  effective_policy_id?: string;
  payload?: Uint8Array | unknown;
  audit_proof?: Uint8Array | unknown;
  audit_policy_id?: string;
  [field: string]: unknown;
}

/** What `buildEnvelope` returns: every reference field present. */
export interface BuiltEnvelope extends Envelope {
  idempotency_token: string;
  producer_id: string;
  correlation_id: string;
  sequence_number: number;
  retry_count: number;
  message_type: number;
  content_type: string;
  content_length: number;
  repo_id: string;
  worktree_id: string;
  hlc_timestamp: string;
  timestamp: { seconds: number; nanos: number };
  ttl_ms: number;
  state: number;
  effective_policy_id: string;
  payload: Uint8Array;
  audit_proof: Uint8Array;
  audit_policy_id: string;
}

export interface BuildEnvelopeOptions {
  producerId: string;
  messageType: number;
  /** Default 'application/json'. */
  contentType?: string;
  /** Bytes, an array of byte values, or a string (UTF-8). */
  payload?: Uint8Array | number[] | string | null;
  /** Generated (UUIDv4) when absent or empty. */
  correlationId?: string | null;
  parentCorrelationId?: string | null;
  /** Default 1. */
  sequenceNumber?: number;
  /** Default 0. */
  retryCount?: number;
  idempotencyToken?: string | null;
  repoId?: string | null;
  worktreeId?: string | null;
  /** Default 0 (no expiry). */
  ttlMs?: number;
  /** Default EnvelopeState.SENT. */
  state?: number;
  effectivePolicyId?: string | null;
  auditProof?: Uint8Array | number[] | string | null;
  auditPolicyId?: string | null;
  /** The node part of `hlc_timestamp`; default 'unknown'. */
  hlcNode?: string | null;
}

/**
 * A new envelope with a fresh UUIDv4 `message_id` (from the platform's random source),
 * `correlation_id` generated when absent, `content_length`, `hlc_timestamp`, `timestamp`.
 * @throws {TypeError} naming a missing or mistyped option; {RangeError} for a bad number.
 */
export declare function buildEnvelope(options: BuildEnvelopeOptions): BuiltEnvelope;

/**
 * `{producerId}:{operation}:{first 16 hex of sha256(producerId + "\n" + operation + "\n" + bytes)}`;
 * a string is hashed as its UTF-8 bytes.
 * @throws {TypeError} when producerId or operation contains a line feed.
 */
export declare function computeIdempotencyToken(producerId: string, operation: string, bytes: Uint8Array | string): string;

/** Hands out start, start + 1, ... */
export declare class SequenceTracker {
  /** @throws {RangeError} when `start` is not a safe integer. */
  constructor(start?: number);
  /** Bound. @throws {RangeError} past Number.MAX_SAFE_INTEGER. */
  next(): number;
}

// ---------------------------------------------------------------------------------------
// ActivityBuffer
// ---------------------------------------------------------------------------------------

/** One recorded message: a plain snapshot object (a copy; changing it changes nothing). */
export interface ActivityRecord {
  message_id: string;
  direction: 'in' | 'out';
  envelope: Envelope;
  /** The buffer's clock (`now()`) when the message was last recorded. */
  ts_ms: number;
  ack_stage: number;
  error_code: number;
  ack_note: string;
  /** The envelope's state (0 when absent). */
  state: number;
  /** The envelope's idempotency token ('' when absent). */
  idempotency_token: string;
  /** The envelope's correlation id ('' when absent). */
  correlation_id: string;
}

export interface Ack {
  ack_for_message_id: string;
  /** An integer 0-6, else RangeError. */
  ack_stage: number;
  /** Default 0. */
  error_code?: number;
  /** Default ''. */
  note?: string;
}

export interface DuplicateCheck {
  status: 'new' | 'duplicate' | 'in_progress';
  /** The live record carrying the token; null for 'new'. */
  record: ActivityRecord | null;
}

export interface ActivityStats {
  evictions: number;
  rejections: number;
  ignoredAcks: number;
  dedupHits: number;
}

/** A custom eviction strategy. */
export interface VictimChooser {
  /**
   * `order`: resident ids, oldest first (not the one being recorded). Return at least `excess`
   * distinct ids from it; every id returned is evicted. The iterable is read for at most
   * `order.length` ids (an endless generator is fine). Anything else (or an exception) is an
   * error and nothing is evicted. It must not use the buffer it chooses for (the buffer is in
   * the middle of recording): such a call throws a TidepoolError `REENTRANT_CALL`, and
   * recording then fails with `STRATEGY_FAILED`.
   */
  victims(order: string[], excess: number): Iterable<string>;
}

export type EvictionStrategy = 'fifo' | 'lifo' | 'settled-first' | { random: { seed: number } } | VictimChooser;

export interface ActivityBufferOptions {
  /** Default 1000; a positive integer. */
  maxItems?: number;
  /** How long a token finds its record, in seconds. Default 3600. */
  dedupWindowS?: number;
  /** Default 'fifo'. */
  strategy?: EvictionStrategy;
  /** Default 'evict'; 'reject' throws BufferFullError. */
  onFull?: 'evict' | 'reject';
  /**
   * The clock, in **milliseconds** since the epoch, like the records' `ts_ms`. Default
   * `Date.now`. (The EventLog's `now` returns seconds, like its `timestamp`: the units
   * follow each reference.)
   */
  now?: () => number;
}

/** The reference (`sw4rm-sdk` JSONFilePersistence) file format, version "1.0". */
export interface ActivitySnapshot {
  records: Record<string, {
    message_id: string;
    direction: 'in' | 'out';
    /** Byte fields are base64 strings named in `_bytes_fields` (and `_payload_is_b64` for payload). */
    envelope: Record<string, unknown>;
    ts_ms: number;
    ack_stage: number;
    error_code: number;
    ack_note: string;
  }>;
  order: string[];
  version: '1.0';
}

/**
 * The message lifecycle of a SW4RM agent: every incoming and outgoing envelope, its ack stage,
 * idempotency dedup within a window, bounded capacity, and reconcile after restart.
 */
export declare class ActivityBuffer {
  /** Every method is bound. @throws {TypeError | RangeError} for bad or unknown options. */
  constructor(options?: ActivityBufferOptions);
  /**
   * A buffer holding a snapshot's records, with fresh statistics.
   * @throws {SnapshotError} for a malformed snapshot; {BufferFullError} for more records than maxItems.
   */
  static fromSnapshot(snapshot: unknown, options?: ActivityBufferOptions): ActivityBuffer;
  /** Bound. Records a received envelope (an independent copy); an id already present is replaced in place. */
  recordIncoming(envelope: Envelope): ActivityRecord;
  /** Bound. Records a sent envelope; see recordIncoming. @throws {BufferFullError} when full with onFull 'reject'. */
  recordOutgoing(envelope: Envelope): ActivityRecord;
  /** Bound. Stages only move forward; the record, or undefined for an unknown id. */
  ack(ack: Ack): ActivityRecord | undefined;
  get(messageId: string): ActivityRecord | undefined;
  /** Records of both directions with stage UNSPECIFIED, RECEIVED or READ, oldest first. */
  unacked(): ActivityRecord[];
  /** Unacked outgoing records, oldest first. */
  reconcile(): ActivityRecord[];
  /** The last n (default 50), oldest first; [] for n <= 0. */
  recent(n?: number): ActivityRecord[];
  /** Sets the envelope state (0-7); the record, or undefined. */
  updateState(messageId: string, state: number): ActivityRecord | undefined;
  /** The record the token maps to while `now - ts_ms <= dedupWindowS * 1000`; else undefined. */
  getByIdempotencyToken(token: string): ActivityRecord | undefined;
  checkDuplicate(envelope: Envelope): DuplicateCheck;
  /** Removes every record; statistics are kept. */
  clear(): void;
  readonly size: number;
  stats(): ActivityStats;
  toSnapshot(): ActivitySnapshot;
}
