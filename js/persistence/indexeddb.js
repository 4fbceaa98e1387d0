// IndexedDBPersistence: a PersistenceBackend in the browser's IndexedDB, through `idb`.
// Imported from 'tidepool/persistence/indexeddb' (it loads `idb`; the main entry does not).
import { openDB } from 'idb';
import { PersistenceError, StoreLoadError } from '../errors.js';
import { describe } from '../arguments.js';
import { checkChangeSet } from './memory.js';

/** The schema this version of the package writes. A newer one in another tab closes our connection. */
const SCHEMA_VERSION = 1;
const RECORDS = 'records';
const META = 'meta';

/** An IndexedDB failure as a PersistenceError whose code says which. */
function persistenceError(error, operation) {
  if (error instanceof PersistenceError) return error;
  const name = error?.name;
  const code =
    name === 'QuotaExceededError' ? 'QUOTA_EXCEEDED'
      : name === 'VersionError' ? 'VERSION_CHANGED'
        : name === 'InvalidStateError' ? 'DATABASE_CLOSED'
          : 'WRITE_FAILED';
  return new PersistenceError(`IndexedDB ${operation} failed (${name ?? describe(error)}): ${error?.message ?? ''}`, {
    code, operation, cause: error,
  });
}

/**
 * Records in the object store `records` under their key, as `{ seq, value }`: `seq` keeps the
 * stored order (a new key gets the next number, a stored key keeps its own); metadata under
 * `meta` in the object store `meta`. A save is one readwrite transaction over both stores
 * that awaits nothing but its own requests (so it never auto-commits early).
 *
 * Invariant: `#seqs` maps exactly the stored keys to their `seq`, as of the last committed
 * transaction; `#nextSeq` is above every stored `seq`.
 */
export class IndexedDBPersistence {
  #name;
  #durability;
  #db = null;
  #seqs = new Map();
  #nextSeq = 0;

  /** `name`: the database name; `durability`: 'strict' (default), 'relaxed' or 'default', passed to each transaction. */
  constructor({ name, durability = 'strict' } = {}) {
    if (typeof name !== 'string' || name === '') throw new TypeError(`name must be a non-empty string, got ${describe(name)}`);
    if (!['strict', 'relaxed', 'default'].includes(durability)) {
      throw new TypeError(`durability must be 'strict', 'relaxed' or 'default', got ${describe(durability)}`);
    }
    this.#name = name;
    this.#durability = durability;
    /** The Web Lock that keeps one writer per database across tabs and workers. */
    this.lockName = `tidepool:indexeddb:${name}`;
  }

  get name() {
    return this.#name;
  }

  /** Opens the database (creating it) and reads every record in stored order. @throws StoreLoadError */
  async load() {
    try {
      const db = await this.#open();
      const tx = db.transaction([RECORDS, META], 'readonly');
      const [keys, rows, meta] = await Promise.all([
        tx.objectStore(RECORDS).getAllKeys(), tx.objectStore(RECORDS).getAll(), tx.objectStore(META).get(META), tx.done,
      ]);
      const records = keys.map((key, i) => [key, rows[i]]);
      records.sort((a, b) => a[1].seq - b[1].seq);
      this.#seqs = new Map(records.map(([key, row]) => [key, row.seq]));
      this.#nextSeq = records.length ? records.at(-1)[1].seq + 1 : 0;
      return { records: records.map(([key, row]) => [key, row.value]), meta: meta ?? null };
    } catch (error) {
      throw new StoreLoadError(`IndexedDB ${JSON.stringify(this.#name)} could not be read: ${error?.message ?? describe(error)}`, {
        code: 'STORE_LOAD_FAILED', cause: error,
      });
    }
  }

  /** Applies a ChangeSet in one readwrite transaction. @throws PersistenceError (nothing applied) */
  async save(changes) {
    checkChangeSet(changes);
    let db;
    try {
      db = await this.#open();
    } catch (error) {
      throw persistenceError(error, 'save');
    }
    const seqs = changes.clear ? new Map() : new Map(this.#seqs);
    let nextSeq = this.#nextSeq;
    let tx;
    const requests = [];
    try {
      tx = db.transaction([RECORDS, META], 'readwrite', { durability: this.#durability });
      const records = tx.objectStore(RECORDS);
      if (changes.clear) requests.push(records.clear(), tx.objectStore(META).clear());
      for (const key of changes.remove) {
        seqs.delete(key);
        requests.push(records.delete(key));
      }
      for (const [key, value] of changes.put) {
        let seq = seqs.get(key);
        if (seq === undefined) seqs.set(key, (seq = nextSeq++));
        requests.push(records.put({ seq, value }, key));
      }
      if (changes.meta !== undefined) requests.push(tx.objectStore(META).put(changes.meta, META));
      await Promise.all([...requests, tx.done]);
    } catch (error) {
      // A request that threw, or failed: abort the rest; their rejections are this one.
      for (const request of requests) request.catch(() => {});
      tx?.done.catch(() => {});
      try {
        tx?.abort();
      } catch {}
      throw persistenceError(tx?.error ?? error, 'save');
    }
    this.#seqs = seqs;
    this.#nextSeq = nextSeq;
  }

  /** Closes the connection. */
  async close() {
    this.#db?.close();
    this.#db = null;
  }

  /** The open connection, or a new one (after a schema upgrade elsewhere or a lost connection). */
  async #open() {
    if (this.#db) return this.#db;
    const db = await openDB(this.#name, SCHEMA_VERSION, {
      upgrade(database) {
        if (!database.objectStoreNames.contains(RECORDS)) database.createObjectStore(RECORDS);
        if (!database.objectStoreNames.contains(META)) database.createObjectStore(META);
      },
      // A newer version wants to upgrade: step aside instead of blocking it; the next save
      // reopens and reports VERSION_CHANGED.
      blocking: () => {
        db.close();
        if (this.#db === db) this.#db = null;
      },
      // The browser dropped the connection (Safari after backgrounding): reopen on the next save.
      terminated: () => {
        if (this.#db === db) this.#db = null;
      },
    });
    this.#db = db;
    return db;
  }
}
