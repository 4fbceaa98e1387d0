// Wasm linear memory after filling an ActivityBuffer with 100k records carrying 1 KB
// payloads (node --expose-gc bench/activity_memory.mjs): the allocator's footprint at the
// largest resident set the library is sized for.
import { ActivityBuffer, buildEnvelope, MessageType } from '../pkg/entry/node.js';
import { wasmMemoryBytes } from '../pkg/wasm/tidepool.js';

const RECORDS = 100_000;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const template = buildEnvelope({
  producerId: 'agent-a', messageType: MessageType.TOOL_CALL, payload: new Uint8Array(1024).fill(7),
  contentType: 'application/octet-stream', repoId: 'repo-1',
});
const before = wasmMemoryBytes();
let t = 0;
const buffer = new ActivityBuffer({ maxItems: RECORDS, dedupWindowS: 3600, now: () => t++ });
const start = performance.now();
for (let i = 0; i < RECORDS; i++) {
  buffer.recordOutgoing({ ...template, message_id: `m${i}`, idempotency_token: `agent-a:tool_call:${i}` });
}
const ms = performance.now() - start;
if (buffer.size !== RECORDS) throw new Error(`size ${buffer.size}`);
console.log(
  `${RECORDS / 1000}k records with 1 KB payloads: wasm memory ${mib(before)} -> ${mib(wasmMemoryBytes())}, ` +
    `${((ms * 1000) / RECORDS).toFixed(2)} us/record`,
);
