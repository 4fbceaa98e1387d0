// Type declarations of the persistence interface, MemoryPersistence and the durable classes
// (re-exported by index.d.ts). IndexedDBPersistence and JSONFilePersistence are declared in
// persistence/indexeddb.d.ts and persistence/file.d.ts (sub-path exports).
import { TidepoolError } from './index.js';
import { ActivityBuffer, ActivityBufferOptions, ActivitySnapshot, SnapshotError, BufferFullError } from './activity.js';

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/**
 * Storage failed. A failed flush changed nothing in storage and keeps every change for the
 * next flush.
 */
export declare class PersistenceError extends TidepoolError {
  readonly code:
    | 'QUOTA_EXCEEDED' | 'DISK_FULL' | 'READ_ONLY' | 'DATABASE_CLOSED' | 'VERSION_CHANGED' | 'CLOSED' | 'WRITE_FAILED';
  /** What failed: 'save' (a flush), 'open' or 'close'. */
  readonly operation: 'save' | 'open' | 'close';
  readonly cause?: unknown;
}

/** `ifLocked: 'fail'` and another tab or worker holds the store. */
export declare class LockedError extends TidepoolError {
  readonly code: 'LOCKED';
  /** The Web Lock's name. */
  readonly lockName: string;
}

/** The store could not be read at open (unreadable file, invalid JSON, a failing backend). */
export declare class StoreLoadError extends TidepoolError {
  readonly code: 'STORE_LOAD_FAILED';
  readonly cause?: unknown;
}

/** Stored activity records failed validation (`loadFailureMode: 'raise'`). Storage is unchanged. */
export declare class ActivityBufferLoadError extends TidepoolError {
  readonly code: 'ACTIVITY_BUFFER_LOAD_FAILED';
  /** Where, as in SnapshotError (e.g. `records["m1"].ts_ms`); empty when not about one field. */
  readonly path: string;
  readonly problem: string;
  readonly cause: SnapshotError | BufferFullError;
}

// ---------------------------------------------------------------------------------------
// The backend interface
// ---------------------------------------------------------------------------------------

/** Records are JSON data: plain objects, arrays, strings, finite numbers, booleans, null. */
export type StoredValue = unknown;

/** What `load()` resolves to. */
export interface StoredState {
  /** Every stored record as `[key, value]`, in stored order. */
  records: Array<[string, StoredValue]>;
  /** The metadata last saved (`null` when none). */
  meta: Record<string, unknown> | null;
}

/**
 * One flush: applied in this order, all of it or none of it.
 * 1. `clear`: remove every record and the metadata;
 * 2. `remove`: delete these keys (absent keys are ignored);
 * 3. `put`: write these records, in this order: a key not stored goes after every stored
 *    record, a stored key keeps its place (a key in `remove` and `put` goes to the end);
 * 4. `meta`, when present, replaces the stored metadata.
 */
export interface ChangeSet {
  clear: boolean;
  remove: string[];
  put: Array<[string, StoredValue]>;
  meta?: Record<string, unknown>;
}

/**
 * Where a durable object keeps its state. Every method is async: always await. One backend
 * instance serves one durable object at a time.
 */
export interface PersistenceBackend {
  /**
   * The Web Lock taken by `open` so that one tab or worker of an origin writes the store at a
   * time; omit for no lock. Used only where `navigator.locks` exists.
   */
  readonly lockName?: string;
  /** Reads everything; called once by `open`. Rejects (e.g. with StoreLoadError) when the store cannot be read. */
  load(): Promise<StoredState>;
  /** Applies one ChangeSet atomically. Rejects (preferably with PersistenceError) having changed nothing. */
  save(changes: ChangeSet): Promise<void>;
  /** Releases connections and files; called by `close()` after the last flush. */
  close(): Promise<void>;
}

/** A PersistenceBackend in memory (copies of the values), for tests and examples. */
export declare class MemoryPersistence implements PersistenceBackend {
  constructor(options?: { lockName?: string });
  readonly lockName: string | undefined;
  load(): Promise<StoredState>;
  /** @throws {TypeError} for a malformed ChangeSet (nothing applied). */
  save(changes: ChangeSet): Promise<void>;
  close(): Promise<void>;
  /** Records stored. */
  readonly size: number;
  /** Saves applied so far. */
  readonly saves: number;
}

// ---------------------------------------------------------------------------------------
// Durable classes
// ---------------------------------------------------------------------------------------

/** Options every durable class's `open` takes. */
export interface DurableOptions {
  persistence: PersistenceBackend;
  /** Flush every this many milliseconds when something changed; 0 or omitted: off. */
  autoFlushMs?: number;
  /** When another tab or worker holds the store: wait for it (default), or reject with LockedError. */
  ifLocked?: 'wait' | 'fail';
  /** Receives the errors of background flushes (autoflush, pagehide, visibilitychange); default: a warning. */
  onFlushError?: (error: PersistenceError) => void;
}

export interface PersistentActivityBufferOptions extends ActivityBufferOptions, DurableOptions {
  /** Stored records that fail validation: 'raise' (default) rejects with ActivityBufferLoadError; 'empty' starts empty, degraded. */
  loadFailureMode?: 'raise' | 'empty';
}

/** An ActivityBuffer whose records survive reloads, crashes (up to the last flush) and restarts. */
/**
 * Where the runtime has `Symbol.asyncDispose`, `[Symbol.asyncDispose]()` closes it too (`await using`).
 */
export declare class PersistentActivityBuffer extends ActivityBuffer {
  /** Use `open`. @throws {TypeError} always. */
  private constructor();
  /**
   * Takes the store's lock, loads every record in order (and the idempotency index).
   * @throws {LockedError | StoreLoadError | ActivityBufferLoadError}; {TypeError | RangeError} for bad options.
   */
  static open(options: PersistentActivityBufferOptions): Promise<PersistentActivityBuffer>;
  /** Saves every change since the last flush in one backend save. @throws {PersistenceError} */
  flush(): Promise<void>;
  /** Empties memory at once and storage with the returned flush (ends a degraded run). */
  clear(): Promise<void>;
  /** Flushes everything, stops autoflush, closes the backend and releases the lock. */
  close(): Promise<void>;
  /** True after close(): changes throw PersistenceError 'CLOSED'. */
  readonly closed: boolean;
  /** Stored data failed validation (`loadFailureMode: 'empty'`): nothing is saved until clear(). */
  readonly degraded: boolean;
  /** Replaces every record with the snapshot's. @throws {SnapshotError | BufferFullError} changing nothing. */
  importSnapshot(snapshot: unknown): void;
  exportSnapshot(): ActivitySnapshot;
}
