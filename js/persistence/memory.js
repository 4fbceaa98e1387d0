// MemoryPersistence: a PersistenceBackend held in memory, for tests and examples.
import { bindMethods, describe, optionsObject } from '../arguments.js';

/** Checks a ChangeSet's shape; a TypeError names what is wrong. */
export function checkChangeSet(changes) {
  const fail = (what, value) => {
    throw new TypeError(`save(changes): ${what}, got ${describe(value)}`);
  };
  if (changes === null || typeof changes !== 'object') fail('changes must be an object', changes);
  if (typeof changes.clear !== 'boolean') fail('changes.clear must be a boolean', changes.clear);
  if (!Array.isArray(changes.remove)) fail('changes.remove must be an array of keys', changes.remove);
  for (const key of changes.remove) if (typeof key !== 'string') fail('changes.remove must hold string keys', key);
  if (!Array.isArray(changes.put)) fail('changes.put must be an array of [key, value] pairs', changes.put);
  for (const entry of changes.put) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      fail('changes.put must hold [key, value] pairs with string keys', entry);
    }
  }
  if (changes.meta !== undefined && (changes.meta === null || typeof changes.meta !== 'object' || Array.isArray(changes.meta))) {
    fail('changes.meta must be an object when present', changes.meta);
  }
}

/**
 * A PersistenceBackend that keeps the stored state in memory (copies, so the caller's
 * objects are never shared with it). Survives closing and reopening a durable object on the
 * same instance, not the process. `lockName` (optional) is used as the Web Lock name.
 */
export class MemoryPersistence {
  #records = new Map();
  #meta = null;
  #saves = 0;

  constructor(options) {
    const { lockName } = optionsObject(options, 'MemoryPersistence', ['lockName']);
    if (lockName !== undefined && typeof lockName !== 'string') {
      throw new TypeError(`lockName must be a string, got ${describe(lockName)}`);
    }
    this.lockName = lockName;
    bindMethods(this);
  }

  /** Resolves to `{ records: [[key, value], ...] in stored order, meta }` (copies). */
  async load() {
    return { records: structuredClone([...this.#records]), meta: structuredClone(this.#meta) };
  }

  /** Applies a ChangeSet: all of it, or (on a TypeError or DataCloneError) none of it. */
  async save(changes) {
    checkChangeSet(changes);
    const put = structuredClone(changes.put);
    const meta = changes.meta === undefined ? undefined : structuredClone(changes.meta);
    if (changes.clear) {
      this.#records.clear();
      this.#meta = null;
    }
    for (const key of changes.remove) this.#records.delete(key);
    for (const [key, value] of put) this.#records.set(key, value);
    if (meta !== undefined) this.#meta = meta;
    this.#saves += 1;
  }

  async close() {}

  /** Records stored. */
  get size() {
    return this.#records.size;
  }

  /** Saves applied so far. */
  get saves() {
    return this.#saves;
  }
}
