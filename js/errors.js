// tidepool's error classes, and the one place where errors thrown by the wasm core become
// instances of them (src/wasm/convert.rs throws `Error`s named after these classes).

/** Base class of every error tidepool defines; `code` is a stable string. */
export class TidepoolError extends Error {
  constructor(message, fields = {}) {
    super(message);
    Object.assign(this, fields);
  }
}
// Set explicitly: minifiers rename classes, and `name` must stay stable.
TidepoolError.prototype.name = 'TidepoolError';

/** A payload failed validation; `field` is the path of the offending field. */
export class PayloadError extends TidepoolError {}
PayloadError.prototype.name = 'PayloadError';

/**
 * An ActivityBuffer with `onFull: 'reject'` is full (or a snapshot holds more records than
 * `maxItems`): `code` 'BUFFER_FULL', `errorCode` 1 (the protocol's ErrorCode.BUFFER_FULL),
 * `currentSize`, `maxSize`.
 */
export class BufferFullError extends TidepoolError {}
BufferFullError.prototype.name = 'BufferFullError';

/** A snapshot is malformed: `code` 'SNAPSHOT_INVALID', `path` where (empty: the snapshot itself), `problem` what. */
export class SnapshotError extends TidepoolError {}
SnapshotError.prototype.name = 'SnapshotError';

/**
 * A request to Redis over the Upstash REST protocol failed. `code`: 'REDIS_UNAUTHORIZED'
 * (401/403), 'REDIS_HTTP' (another HTTP error), 'REDIS_ERROR' (Redis answered an error),
 * 'REDIS_NETWORK', 'REDIS_TIMEOUT', 'REDIS_ABORTED' (the caller's signal), 'REDIS_BAD_RESPONSE'
 * (a body that is not the protocol's). `status`: the HTTP status, 0 when no response arrived.
 * `command`: the command's name. `mayHaveApplied`: whether the server may have carried the
 * command out. The message never contains the token.
 */
export class RedisRestError extends TidepoolError {}
RedisRestError.prototype.name = 'RedisRestError';

/**
 * Storage failed: a flush (`operation` 'save'), or a store that could not be opened or
 * closed. `code`: 'QUOTA_EXCEEDED' (storage quota), 'DISK_FULL', 'READ_ONLY' (a read-only
 * file or directory, or permissions), 'DATABASE_CLOSED' (the connection was closed or lost,
 * e.g. by a schema upgrade in another tab; the next flush reopens it), 'VERSION_CHANGED' (a
 * newer version of the package upgraded the store), 'CLOSED' (the durable object was
 * closed), 'WRITE_FAILED' (anything else; see `cause`). A failed flush changed nothing in
 * storage and keeps every change for the next flush.
 */
export class PersistenceError extends TidepoolError {}
PersistenceError.prototype.name = 'PersistenceError';

/** `ifLocked: 'fail'` and another tab or worker holds the store: `code` 'LOCKED', `lockName`. */
export class LockedError extends TidepoolError {}
LockedError.prototype.name = 'LockedError';

/** A store could not be read at open (unreadable file, invalid JSON, a failing backend): `code` 'STORE_LOAD_FAILED', `cause`. */
export class StoreLoadError extends TidepoolError {}
StoreLoadError.prototype.name = 'StoreLoadError';

/**
 * Stored activity records failed validation at `PersistentActivityBuffer.open` with
 * `loadFailureMode: 'raise'`: `code` 'ACTIVITY_BUFFER_LOAD_FAILED', `path` and `problem` as in
 * SnapshotError (the `cause`), or a BufferFullError cause when more records are stored than
 * `maxItems`. Nothing was changed in storage.
 */
export class ActivityBufferLoadError extends TidepoolError {}
ActivityBufferLoadError.prototype.name = 'ActivityBufferLoadError';

const classesByName = new Map(
  [TidepoolError, PayloadError, BufferFullError, SnapshotError, RedisRestError].map((c) => [c.prototype.name, c]),
);

/** The error to throw for `error`, thrown by the core: tidepool's own class where it names one. */
export function liftError(error) {
  const ErrorClass = error instanceof Error ? classesByName.get(error.name) : undefined;
  if (ErrorClass === undefined) return error;
  const { message, name, stack, ...fields } = Object.assign({}, error);
  return new ErrorClass(error.message, fields);
}

/** Calls `fn`, lifting what it throws. */
export function callCore(fn) {
  try {
    return fn();
  } catch (error) {
    throw liftError(error);
  }
}

/**
 * The event connector's stream failed. Fatal, rejecting `ConnectorClient.run()`:
 * 'CONNECTOR_UNAUTHORIZED' (401), 'CONNECTOR_FORBIDDEN' (403), 'CONNECTOR_NOT_FOUND' (404),
 * 'CONNECTOR_BAD_CONTENT_TYPE' (`contentType`), 'CONNECTOR_RETRIES_EXHAUSTED' (`attempts`, the
 * last failure as `cause`). One attempt's failure, retried (passed to `onDisconnect`, and the
 * `cause` of an exhausted run): 'CONNECTOR_HTTP' (another status), 'CONNECTOR_NETWORK',
 * 'CONNECTOR_TIMEOUT' (no response within `connectTimeoutMs`), 'CONNECTOR_STREAM' (the
 * stream broke while being read), 'CONNECTOR_TOKEN' (the token or headers function threw).
 * `status`: the HTTP status, 0 when no response arrived. Messages never contain the token.
 */
export class ConnectorError extends TidepoolError {}
ConnectorError.prototype.name = 'ConnectorError';
