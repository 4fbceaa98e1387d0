// Type declarations of 'tidepool/persistence/indexeddb'.
import type { PersistenceBackend, StoredState, ChangeSet } from '../persistence.js';

export interface IndexedDBPersistenceOptions {
  /** The database name (one durable object per name). */
  name: string;
  /** Passed to every readwrite transaction. Default 'strict'. */
  durability?: 'strict' | 'relaxed' | 'default';
}

/**
 * A PersistenceBackend in IndexedDB (browsers, Web Workers). A flush is one readwrite
 * transaction; `lockName` is `tidepool:indexeddb:<name>`.
 */
export declare class IndexedDBPersistence implements PersistenceBackend {
  /** @throws {TypeError} for a missing name or an unknown durability. */
  constructor(options: IndexedDBPersistenceOptions);
  readonly name: string;
  readonly lockName: string;
  /** @throws {StoreLoadError} */
  load(): Promise<StoredState>;
  /** @throws {PersistenceError} 'QUOTA_EXCEEDED' | 'DATABASE_CLOSED' | 'VERSION_CHANGED' | 'WRITE_FAILED', nothing applied. */
  save(changes: ChangeSet): Promise<void>;
  close(): Promise<void>;
}
