// The lifecycle every durable class shares: one writer per store (Web Locks), a flush that
// writes the core's changes in one backend save, autoflush, the page lifecycle, close.
import { LockedError, PersistenceError, StoreLoadError } from '../errors.js';
import { describe } from '../arguments.js';

/** Throws a TypeError unless `persistence` has the PersistenceBackend methods. */
export function checkPersistence(persistence, what) {
  for (const method of ['load', 'save', 'close']) {
    if (typeof persistence?.[method] !== 'function') {
      throw new TypeError(
        `${what}: persistence must be a PersistenceBackend with load, save and close methods, got ${describe(persistence)}`,
      );
    }
  }
}

/** Throws a TypeError unless `value` is one of `allowed` (strings). */
export function checkChoice(value, name, allowed) {
  if (!allowed.includes(value)) {
    throw new TypeError(`${name} must be ${allowed.map((a) => `'${a}'`).join(' or ')}, got ${describe(value)}`);
  }
}

/** Checks `autoFlushMs` (undefined or 0: off; else a positive finite number of milliseconds). */
export function checkAutoFlush(autoFlushMs) {
  if (autoFlushMs === undefined) return;
  if (typeof autoFlushMs !== 'number') throw new TypeError(`autoFlushMs must be a number, got ${describe(autoFlushMs)}`);
  if (!(autoFlushMs >= 0) || !Number.isFinite(autoFlushMs)) {
    throw new RangeError('autoFlushMs must be a non-negative finite number of milliseconds (0: no autoflush)');
  }
}

/**
 * Takes the Web Lock `name` for this context (tabs and workers of an origin share locks):
 * waits while another holds it, or with `ifLocked: 'fail'` rejects with LockedError.
 * Resolves to the function that releases it. Without `navigator.locks` (Node, workerd) or
 * without a name, there is nothing to take and the release does nothing.
 */
export async function acquireLock(name, ifLocked) {
  const locks = globalThis.navigator?.locks;
  if (typeof name !== 'string' || typeof locks?.request !== 'function') return () => {};
  let release;
  const held = new Promise((resolve) => {
    release = resolve;
  });
  await new Promise((resolve, reject) => {
    locks
      .request(name, { ifAvailable: ifLocked === 'fail' }, (lock) => {
        if (lock === null) {
          reject(new LockedError(`the store is in use by another tab or worker (lock ${JSON.stringify(name)})`, {
            code: 'LOCKED',
            lockName: name,
          }));
          return undefined;
        }
        resolve();
        return held;
      })
      .catch(reject);
  });
  return release;
}

/** `persistence.load()`, with its failures as StoreLoadError (a backend's own StoreLoadError as is). */
export async function loadStore(persistence) {
  let stored;
  try {
    stored = await persistence.load();
  } catch (error) {
    if (error instanceof StoreLoadError) throw error;
    throw new StoreLoadError(`the store could not be read: ${error?.message ?? describe(error)}`, {
      code: 'STORE_LOAD_FAILED',
      cause: error,
    });
  }
  if (!Array.isArray(stored?.records)) {
    throw new StoreLoadError('persistence.load() must resolve to { records: [[key, value], ...], meta }', {
      code: 'STORE_LOAD_FAILED',
    });
  }
  return stored;
}

/** A backend's failure as a PersistenceError (its own PersistenceError as is). */
export function asPersistenceError(error) {
  if (error instanceof PersistenceError) return error;
  return new PersistenceError(`the flush failed: ${error?.message ?? describe(error)}`, {
    code: 'WRITE_FAILED',
    operation: 'save',
    cause: error,
  });
}

export function closedError(what) {
  return new PersistenceError(`${what}: the store is closed`, { code: 'CLOSED', operation: 'save' });
}

const WARNING_INTERVAL_MS = 10_000;

/**
 * Flushes, autoflush, page lifecycle and close for one durable object.
 *
 * Invariants: at most one save is in flight (flushes run one after another); a change
 * taken for a save that fails is given back (`restore`) before the flush rejects, so the
 * next flush writes it; `close()` resolves only once a flush found nothing left to write,
 * and after it every flush rejects with PersistenceError 'CLOSED'.
 */
export class Durable {
  #persistence;
  #take;
  #restore;
  #release;
  #onFlushError;
  #queue = Promise.resolve();
  #closed = false;
  #timer;
  #unlisten = () => {};
  #lastWarning = -Infinity;

  /**
   * `take()` returns the changes to save (a ChangeSet) or null; `restore(changes)` gives
   * back the changes of a failed save; `release()` releases the lock.
   */
  constructor({ persistence, take, restore, release, autoFlushMs, onFlushError }) {
    this.#persistence = persistence;
    this.#take = take;
    this.#restore = restore;
    this.#release = release;
    this.#onFlushError = onFlushError;
    if (autoFlushMs) {
      this.#timer = setInterval(() => this.#background(), autoFlushMs);
      this.#timer.unref?.();
    }
    this.#listenToPage();
  }

  get closed() {
    return this.#closed;
  }

  /** Saves every change made so far; resolves to whether there was anything to save. */
  flush() {
    return this.#enqueue(false);
  }

  /** Flushes until nothing is left, then stops the timers and releases the store. */
  async close() {
    if (this.#closed) return;
    while (await this.#enqueue(true));
    clearInterval(this.#timer);
    this.#unlisten();
    try {
      await this.#persistence.close();
    } finally {
      this.#release();
    }
  }

  /** Runs a flush after those queued before it; `closing`: close once nothing is left. */
  #enqueue(closing) {
    if (this.#closed) return Promise.reject(closedError('flush'));
    const run = this.#queue.then(() => this.#flushOnce(closing));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #flushOnce(closing) {
    if (this.#closed) throw closedError('flush');
    const changes = this.#take();
    if (changes === null) {
      // Nothing can change between this check and the close: both happen in this task.
      if (closing) this.#closed = true;
      return false;
    }
    try {
      await this.#persistence.save(changes);
    } catch (error) {
      this.#restore(changes);
      throw asPersistenceError(error);
    }
    return true;
  }

  /** A flush nobody awaits (timer, page events): failures go to onFlushError or a warning. */
  #background() {
    if (this.#closed) return;
    this.flush().catch((error) => {
      if (this.#onFlushError) {
        try {
          this.#onFlushError(error);
        } catch (thrown) {
          console.warn('tidepool: onFlushError threw', thrown);
        }
      } else if (Date.now() - this.#lastWarning >= WARNING_INTERVAL_MS) {
        this.#lastWarning = Date.now();
        console.warn(`tidepool: a background flush failed (${error.code}); the changes are kept for the next flush. Pass onFlushError to handle this.`, error);
      }
    });
  }

  /** In a page: flush on `pagehide` and when the page becomes hidden. */
  #listenToPage() {
    const page = globalThis.document;
    if (typeof globalThis.addEventListener !== 'function' || typeof page?.addEventListener !== 'function') return;
    const onPageHide = () => this.#background();
    const onVisibility = () => {
      if (page.visibilityState === 'hidden') this.#background();
    };
    globalThis.addEventListener('pagehide', onPageHide);
    page.addEventListener('visibilitychange', onVisibility);
    this.#unlisten = () => {
      globalThis.removeEventListener('pagehide', onPageHide);
      page.removeEventListener('visibilitychange', onVisibility);
    };
  }
}
