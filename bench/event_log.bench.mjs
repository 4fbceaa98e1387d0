// EventLog benchmarks (node --expose-gc): the wasm log against the reference algorithm in
// plain JS, side by side in one process.
//   1. 1M appends at maxEntries 10k: the wasm linear memory high-water mark stays bounded.
//   2. query({ since, limit: 10 }) at 100k resident events, random cursors: the core finds the
//      start by index arithmetic; the reference filters over every event.
import { InMemoryEventLog } from '../pkg/entry/node.js';
import { wasmMemoryBytes } from '../pkg/wasm/tidepool.js';

const RESIDENT = 100_000;
const QUERIES = 20_000;
const LIMIT = 10;

/** The reference InMemoryEventLog's read path: a filter over all events, then the cap. */
class LinearScanLog {
  events = [];
  nextId = 1;
  append(kind, payload = {}) {
    const event = { id: this.nextId++, timestamp: Date.now() / 1000, kind, payload: structuredClone(payload) };
    this.events.push(event);
    return event;
  }
  query({ since = null, limit = null } = {}) {
    const matching = this.events.filter((e) => since === null || e.id > since);
    return limit === null || limit < 0 ? matching : matching.slice(0, limit);
  }
}

/** Deterministic cursors (xorshift), the same sequence for both contenders. */
function cursors(count, max) {
  let x = 2463534242;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % max;
  });
}

function timeQueries(log, since) {
  let checksum = 0;
  const start = performance.now();
  for (const s of since) checksum += log.query({ since: s, limit: LIMIT }).length;
  return { ms: performance.now() - start, checksum };
}

const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

// Memory first, while the module's linear memory is still small (it never shrinks).
const APPENDS = 1_000_000;
const bounded = new InMemoryEventLog({ maxEntries: 10_000, ttlSeconds: 1e9 });
const before = wasmMemoryBytes();
const checkpoints = [];
const start = performance.now();
for (let i = 1; i <= APPENDS; i++) {
  bounded.append('turn.started', { turn: i, agent: 'planner', note: 'a short payload' });
  if (i % 250_000 === 0) checkpoints.push(`${i / 1000}k: ${mib(wasmMemoryBytes())}`);
}
const appendMs = performance.now() - start;
const stats = bounded.stats();
console.log(`${APPENDS} appends at maxEntries 10k: ${((appendMs * 1000) / APPENDS).toFixed(2)} us/append`);
console.log(`  wasm memory before ${mib(before)}, high-water mark ${mib(wasmMemoryBytes())} (${checkpoints.join(', ')})`);
console.log(`  resident ${stats.resident}, evictedBySize ${stats.evictedBySize}`);

const wasmLog = new InMemoryEventLog({ maxEntries: RESIDENT, ttlSeconds: 1e9 });
const baseline = new LinearScanLog();
for (let i = 0; i < RESIDENT; i++) {
  const payload = { turn: i, tool: 'search' };
  wasmLog.append('tool.invoked', payload);
  baseline.append('tool.invoked', payload);
}
const since = cursors(QUERIES, RESIDENT);
const baselineSince = since.slice(0, QUERIES / 20); // the scan is slow: fewer rounds, per-query time compared
timeQueries(wasmLog, since.slice(0, 1000)); // warm up
timeQueries(baseline, baselineSince.slice(0, 50));
globalThis.gc?.();
const wasm = timeQueries(wasmLog, since);
globalThis.gc?.();
const scan = timeQueries(baseline, baselineSince);
const wasmPerQuery = (wasm.ms * 1000) / since.length;
const scanPerQuery = (scan.ms * 1000) / baselineSince.length;
console.log(`query({ since, limit: ${LIMIT} }) at ${RESIDENT} resident events, random cursors:`);
console.log(`  wasm InMemoryEventLog   ${wasmPerQuery.toFixed(2)} us/query (${since.length} queries)`);
console.log(`  JS linear scan (ref.)   ${scanPerQuery.toFixed(2)} us/query (${baselineSince.length} queries)`);
console.log(`  ratio                   ${(scanPerQuery / wasmPerQuery).toFixed(0)}x faster (target >= 50x)`);

