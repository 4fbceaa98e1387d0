// How values that cross the boundary whole are best turned into JS: serde_json text read back
// by JSON.parse, or serde-wasm-bindgen building the objects. Compares two builds of the
// package side by side in one process (each an independent module instance):
//   node --expose-gc bench/experiments/boundary_conversion.mjs <pkg-dir-A> <pkg-dir-B>
// (build, copy pkg/ to A; switch src/wasm/convert.rs; build, copy pkg/ to B).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { timeRounds } from '../measure.mjs';

const [dirA, dirB] = process.argv.slice(2);
if (!dirB) throw new Error('usage: boundary_conversion.mjs <pkg-dir-A> <pkg-dir-B>');
const load = (dir) => import(pathToFileURL(resolve(dir, 'entry/node.js')).href);
const [a, b] = await Promise.all([load(dirA), load(dirB)]);

function scenarios(t) {
  const log = new t.InMemoryEventLog({ maxEntries: 10_000, ttlSeconds: 1e9 });
  for (let i = 0; i < 10_000; i++) {
    log.append('tool.invoked', { tool: 'search', args: { query: `q${i}`, limit: 10, exact: false }, turn: i });
  }
  const buffer = new t.ActivityBuffer({ maxItems: 1000 });
  const payload = new Uint8Array(64).fill(7);
  for (let i = 0; i < 1000; i++) {
    buffer.recordOutgoing(t.buildEnvelope({
      producerId: 'agent-a', messageType: t.MessageType.TOOL_CALL, payload,
      idempotencyToken: `agent-a:tool_call:${i}`,
    }));
  }
  const snapshot = buffer.toSnapshot();
  const actions = {
    type: 'actions', session_id: 'ps_1', product_id: 'p', forwarded_at: 1.5,
    actions: Array.from({ length: 20 }, (_, i) => ({
      index: i, type: 'click', title: `t${i}`, description: 'Clicked Export', canonical_url: 'https://app/x',
    })),
  };
  let sink = 0;
  return {
    'EventLog query, 10 events (x2000)': () => {
      for (let i = 0; i < 2000; i++) sink += log.query({ since: (i * 37) % 9000, limit: 10 }).length;
    },
    'EventLog read, 100 events (x200)': () => {
      for (let i = 0; i < 200; i++) sink += log.read({ since: (i * 37) % 9000, limit: 100 }).events.length;
    },
    'ActivityBuffer toSnapshot, 1000 records (x5)': () => {
      for (let i = 0; i < 5; i++) sink += Object.keys(buffer.toSnapshot().records).length;
    },
    'ActivityBuffer.fromSnapshot, 1000 records (x5)': () => {
      for (let i = 0; i < 5; i++) sink += t.ActivityBuffer.fromSnapshot(snapshot, { maxItems: 1000 }).size;
    },
    'buildEnvelope (x2000)': () => {
      for (let i = 0; i < 2000; i++) sink += t.buildEnvelope({ producerId: 'p', messageType: 2, payload }).content_length;
    },
    'parsePayload, 20 actions (x1000)': () => {
      for (let i = 0; i < 1000; i++) sink += t.parsePayload(actions).count;
    },
  };
}

const [sa, sb] = [scenarios(a), scenarios(b)];
console.log(`A = ${dirA}, B = ${dirB}; medians of 7 alternating rounds`);
for (const name of Object.keys(sa)) {
  const { candidate, baseline } = timeRounds({ candidate: sb[name], baseline: sa[name] });
  console.log(`${name}: A ${baseline.toFixed(1)} ms, B ${candidate.toFixed(1)} ms, B/A ${(candidate / baseline).toFixed(2)}x`);
}
