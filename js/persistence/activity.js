// PersistentActivityBuffer: an ActivityBuffer whose records survive reloads and restarts.
// The core tracks which records changed (src/core/durable, bound in src/wasm/activity.rs);
// a flush writes those records, in the reference file format, in one backend save.
import { ActivityBuffer } from '../activity.js';
import { ActivityBufferLoadError, BufferFullError, SnapshotError } from '../errors.js';
import { optionsObject } from '../arguments.js';
import { internal } from '../internal.js';
import { Durable, acquireLock, checkAutoFlush, checkChoice, checkPersistence, closedError, loadStore } from './durable.js';

const OPEN_OPTIONS = new Set([
  'persistence', 'maxItems', 'dedupWindowS', 'strategy', 'onFull', 'now',
  'loadFailureMode', 'autoFlushMs', 'ifLocked', 'onFlushError',
]);
/** Only `open` may construct (the constructor cannot await the store). */
const OPENING = Symbol('opening');
/** restoreChange kinds (src/wasm/activity.rs). */
const PUT = 0;
const REMOVED = 1;
const CLEARED = 2;

/** The reference snapshot of stored records (in stored order). */
function snapshotOf(records) {
  return { records: Object.fromEntries(records), order: records.map(([key]) => key), version: '1.0' };
}

/**
 * An ActivityBuffer on a PersistenceBackend: open loads every stored record in order (and
 * so the idempotency index); operations change memory at once and mark records dirty;
 * `flush()` saves the dirty records in one backend save.
 *
 * Invariants: the store holds the records as of the last successful flush; the core's
 * change tracker holds exactly what changed since (including what a failed flush was to
 * write); while `degraded` (stored data failed validation, `loadFailureMode: 'empty'`)
 * nothing is written until `clear()`.
 */
export class PersistentActivityBuffer extends ActivityBuffer {
  #durable;
  #degraded = false;
  /** The ActivityBuffer options it was opened with (for importSnapshot). */
  #bufferOptions;

  /** Use `await PersistentActivityBuffer.open(options)`. */
  constructor(opening, options) {
    if (opening !== OPENING) {
      throw new TypeError('use `await PersistentActivityBuffer.open({ persistence, ... })` to create a PersistentActivityBuffer');
    }
    super(options);
  }

  /**
   * Opens the buffer stored in `persistence`: takes its lock (where `navigator.locks`
   * exists), loads every record. Rejects with LockedError, StoreLoadError or
   * ActivityBufferLoadError (`loadFailureMode: 'raise'`); TypeError/RangeError for bad options.
   */
  static async open(options) {
    const given = optionsObject(options, 'PersistentActivityBuffer.open', OPEN_OPTIONS);
    const {
      persistence, loadFailureMode = 'raise', autoFlushMs, ifLocked = 'wait', onFlushError, ...bufferOptions
    } = given;
    checkPersistence(persistence, 'PersistentActivityBuffer.open');
    checkChoice(loadFailureMode, 'loadFailureMode', ['raise', 'empty']);
    checkChoice(ifLocked, 'ifLocked', ['wait', 'fail']);
    checkAutoFlush(autoFlushMs);
    if (onFlushError !== undefined && typeof onFlushError !== 'function') {
      throw new TypeError('onFlushError must be a function');
    }
    // Checks the buffer options before any I/O.
    const buffer = new PersistentActivityBuffer(OPENING, bufferOptions);
    buffer.#bufferOptions = bufferOptions;
    const release = await acquireLock(persistence.lockName, ifLocked);
    try {
      const { records } = await loadStore(persistence);
      if (records.length > 0) buffer.#load(records, bufferOptions, loadFailureMode);
    } catch (error) {
      release();
      throw error;
    }
    internal.activity.core(buffer).trackChanges();
    buffer.#durable = new Durable({
      persistence,
      release,
      autoFlushMs,
      onFlushError,
      take: () => buffer.#takeChanges(),
      restore: (changes) => buffer.#restoreChanges(changes),
    });
    return buffer;
  }

  recordIncoming(envelope) {
    this.#checkOpen('recordIncoming');
    return super.recordIncoming(envelope);
  }

  recordOutgoing(envelope) {
    this.#checkOpen('recordOutgoing');
    return super.recordOutgoing(envelope);
  }

  ack(ack) {
    this.#checkOpen('ack');
    return super.ack(ack);
  }

  updateState(messageId, state) {
    this.#checkOpen('updateState');
    return super.updateState(messageId, state);
  }

  /**
   * Empties memory at once, and storage with the flush it returns (which also ends a
   * degraded run: the stored data that failed validation is removed). If that flush fails,
   * the returned promise rejects and the clear stays pending for the next flush.
   */
  clear() {
    this.#checkOpen('clear');
    super.clear();
    this.#degraded = false;
    const flushed = this.flush();
    // Callers may use clear() as the synchronous ActivityBuffer method and not await it.
    flushed.catch(() => {});
    return flushed;
  }

  /** Saves every change since the last flush in one backend save. @throws PersistenceError */
  async flush() {
    await this.#durable.flush();
  }

  /** Flushes everything, stops the autoflush and releases the store and its lock. */
  close() {
    return this.#durable.close();
  }

  /** True after `close()`: operations that change the buffer throw PersistenceError 'CLOSED'. */
  get closed() {
    return this.#durable.closed;
  }

  /** True when stored data failed validation and the buffer runs in memory only until `clear()`. */
  get degraded() {
    return this.#degraded;
  }

  /**
   * Replaces every record with those of `snapshot` (reference file format); the next flush
   * rewrites the store. A malformed snapshot throws SnapshotError and changes nothing.
   */
  importSnapshot(snapshot) {
    this.#checkOpen('importSnapshot');
    const core = internal.activity.core;
    const loaded = ActivityBuffer.fromSnapshot(snapshot, this.#bufferOptions);
    internal.activity.adopt(this, loaded);
    core(this).trackChanges();
    core(this).restoreChange('', CLEARED);
    for (const { message_id: id } of this.recent(this.size)) core(this).restoreChange(id, PUT);
  }

  /** The buffer in the reference file format (as `toSnapshot`). */
  exportSnapshot() {
    return this.toSnapshot();
  }

  #load(records, bufferOptions, loadFailureMode) {
    try {
      internal.activity.adopt(this, ActivityBuffer.fromSnapshot(snapshotOf(records), bufferOptions));
    } catch (error) {
      if (!(error instanceof SnapshotError || error instanceof BufferFullError)) throw error;
      const where = error.path ? ` at ${error.path}` : '';
      const problem = error.problem ?? error.message;
      if (loadFailureMode === 'raise') {
        throw new ActivityBufferLoadError(`stored activity records failed validation${where}: ${problem}`, {
          code: 'ACTIVITY_BUFFER_LOAD_FAILED', path: error.path ?? '', problem, cause: error,
        });
      }
      console.warn(
        `tidepool: PersistentActivityBuffer: stored activity records failed validation${where}: ${problem}. ` +
          'Running degraded: starting empty, and nothing is saved until clear(), which removes the stored data.',
      );
      this.#degraded = true;
    }
  }

  #takeChanges() {
    if (this.#degraded) return null;
    const changes = internal.activity.core(this).takeChanges(internal.activity.envelopes(this));
    if (changes === null) return null;
    const { records, order, cleared, removed } = changes;
    return { clear: cleared, remove: removed, put: order.map((id) => [id, records[id]]) };
  }

  #restoreChanges(changes) {
    const core = internal.activity.core(this);
    if (changes.clear) core.restoreChange('', CLEARED);
    for (const id of changes.remove) core.restoreChange(id, REMOVED);
    for (const [id] of changes.put) core.restoreChange(id, PUT);
  }

  #checkOpen(what) {
    // Before open() finishes there is no #durable: the constructor's own setup is allowed.
    if (this.#durable?.closed) throw closedError(what);
  }
}

if (typeof Symbol.asyncDispose === 'symbol') {
  PersistentActivityBuffer.prototype[Symbol.asyncDispose] = function asyncDispose() {
    return this.close();
  };
}
