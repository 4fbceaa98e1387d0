// ActivityBuffer at 10k resident records: recordOutgoing (evicting the oldest) +
// getByIdempotencyToken of a resident record's token, against (a) a plain-JS Map-based
// implementation with the same semantics and (b) the same with the reference's
// rescan-the-whole-token-index-per-call expiry; side by side in one process.
import { ActivityBuffer, buildEnvelope, MessageType } from '../pkg/entry/node.js';
import { JsActivityBuffer } from './baselines/js_activity_buffer.mjs';
import { timeRounds } from './measure.mjs';

const RESIDENT = 10_000;
const template = buildEnvelope({
  producerId: 'agent-a', messageType: MessageType.TOOL_CALL, payload: new Uint8Array(64).fill(7),
  contentType: 'application/octet-stream', repoId: 'repo-1',
});
const envelope = (i) => ({ ...template, message_id: `m${i}`, idempotency_token: `agent-a:tool_call:${i}` });

/**
 * A buffer of `resident` records; each clock tick is 1 ms, the window is 1 hour. A rescan
 * baseline is filled with queue expiry (rescanning would make filling quadratic), then
 * switched to rescanning for the timed part.
 */
function prefilled(make, resident) {
  let t = 0;
  const buffer = make(() => t++);
  for (let i = 0; i < resident; i++) buffer.recordOutgoing(envelope(i));
  if (make.rescanAfterFill) buffer.startRescanning();
  return { buffer, next: resident };
}

/** `ops` rounds of recordOutgoing + getByIdempotencyToken; returns a function to time. */
function workload(make, ops, resident = RESIDENT) {
  const state = prefilled(make, resident);
  return () => {
    const { buffer } = state;
    for (let k = 0; k < ops; k++) {
      const i = state.next++;
      const record = buffer.recordOutgoing(envelope(i));
      const target = i - ((k * 7919) % resident); // one of the resident newest
      const found = buffer.getByIdempotencyToken(`agent-a:tool_call:${target}`);
      if (record.message_id !== `m${i}` || found === undefined) throw new Error('lost a record');
    }
    if (buffer.size !== resident) throw new Error(`size ${buffer.size}`);
  };
}

const tidepool = (maxItems) => (now) => new ActivityBuffer({ maxItems, dedupWindowS: 3600, now });
const plainJs = (maxItems) => (now) => new JsActivityBuffer({ maxItems, dedupWindowS: 3600, now });
const rescan = (maxItems) =>
  Object.assign((now) => new JsActivityBuffer({ maxItems, dedupWindowS: 3600, now }), { rescanAfterFill: true });

const OPS = 20_000;
const a = timeRounds({ candidate: workload(tidepool(RESIDENT), OPS), baseline: workload(plainJs(RESIDENT), OPS) });
const perOp = (ms, ops) => (ms * 1000) / ops;
console.log(
  `recordOutgoing + getByIdempotencyToken at ${RESIDENT / 1000}k resident: ` +
    `tidepool ${perOp(a.candidate, OPS).toFixed(2)} us/op, plain-JS Map ${perOp(a.baseline, OPS).toFixed(2)} us/op, ` +
    `ratio ${(a.candidate / a.baseline).toFixed(2)}x (target <= 2x)`,
);

const RESCAN_OPS = 400;
const b = timeRounds({ candidate: workload(tidepool(RESIDENT), RESCAN_OPS), baseline: workload(rescan(RESIDENT), RESCAN_OPS) });
console.log(
  `same, against the reference's rescan per call: tidepool ${perOp(b.candidate, RESCAN_OPS).toFixed(2)} us/op, ` +
    `rescan ${perOp(b.baseline, RESCAN_OPS).toFixed(2)} us/op, speed-up ${(b.baseline / b.candidate).toFixed(0)}x (target >= 100x)`,
);

const LARGE = 100_000;
const LARGE_OPS = 100;
const c = timeRounds(
  { candidate: workload(tidepool(LARGE), LARGE_OPS, LARGE), baseline: workload(rescan(LARGE), LARGE_OPS, LARGE) },
  3,
);
console.log(
  `same at ${LARGE / 1000}k resident: tidepool ${perOp(c.candidate, LARGE_OPS).toFixed(2)} us/op, ` +
    `rescan ${perOp(c.baseline, LARGE_OPS).toFixed(2)} us/op, speed-up ${(c.baseline / c.candidate).toFixed(0)}x`,
);
