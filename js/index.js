// The runtime-independent API. Each file in entry/ loads the wasm module for its runtime,
// then re-exports this module.
export { EventBuffer } from './event_buffer.js';
export { parsePayload, toText, mergeActions } from './payload.js';
export { TidepoolError, PayloadError, BufferFullError, SnapshotError } from './errors.js';
export { RedisRestError } from './errors.js';
export { PersistenceError, LockedError, StoreLoadError, ActivityBufferLoadError } from './errors.js';
export { MemoryPersistence } from './persistence/memory.js';
export { PersistentActivityBuffer } from './persistence/activity.js';
export { ConnectorError } from './errors.js';
export { InMemoryEventLog, DisabledEventLog, createEventLog } from './event_log.js';
export { activityHandler } from './activity_endpoint.js';
export { toNodeListener } from './node_listener.js';
export * from './activity.js';
export { RedisRestClient } from './redis/client.js';
export { RedisEventBuffer, isBufferBackend } from './redis/event_buffer.js';
export { ConnectorClient } from './connector.js';
export { RedisEventLog } from './redis/event_log.js';
export { RedisDedup } from './redis/dedup.js';
