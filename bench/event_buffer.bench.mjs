// EventBuffer: add + drain of 1M payloads against a plain-JS ring buffer with the same
// semantics, side by side in one process; cold import time in Node.
import { execFileSync } from 'node:child_process';
import { EventBuffer } from '../pkg/entry/node.js';
import { JsRingBuffer } from './baselines/js_ring_buffer.mjs';
import { median, timeRounds } from './measure.mjs';

const PAYLOADS = 1_000_000;
const payloads = Array.from({ length: 1024 }, (_, i) => ({
  type: i % 3 ? 'actions' : 'summary', session_id: `s${i}`, actions: [], count: 0, forwarded_at: i,
}));

function addAndDrain(Buffer, maxSize) {
  let dropped = 0;
  const buffer = new Buffer({ maxSize, onDrop: () => dropped++ });
  const { add } = buffer;
  for (let i = 0; i < PAYLOADS; i++) add(payloads[i & 1023]);
  const drained = buffer.drain();
  if (drained.length + dropped !== PAYLOADS) throw new Error('lost payloads');
}

for (const [label, maxSize] of [['maxSize 1000 (overflowing)', 1000], ['unlimited', 0]]) {
  const { candidate, baseline } = timeRounds({
    candidate: () => addAndDrain(EventBuffer, maxSize),
    baseline: () => addAndDrain(JsRingBuffer, maxSize),
  });
  console.log(
    `add + drain 1M, ${label}: tidepool ${candidate.toFixed(1)} ms, plain-JS ring ${baseline.toFixed(1)} ms, ` +
      `ratio ${(candidate / baseline).toFixed(2)}x (target <= 1.5x)`,
  );
}


function coldImportMs(specifier) {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); ` +
    'console.log(performance.now() - t);';
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}
const entry = new URL('../pkg/entry/node.js', import.meta.url).href;
const baselineModule = new URL('./baselines/js_ring_buffer.mjs', import.meta.url).href;
const importRounds = Array.from({ length: 7 }, () => [coldImportMs(entry), coldImportMs(baselineModule)]);
const importMs = median(importRounds.map(([t]) => t));
const baselineImportMs = median(importRounds.map(([, b]) => b));
console.log(
  `cold import + init in Node: tidepool ${importMs.toFixed(1)} ms, plain-JS module ${baselineImportMs.toFixed(1)} ms, ` +
    `ratio ${(importMs / baselineImportMs).toFixed(1)}x`,
);
