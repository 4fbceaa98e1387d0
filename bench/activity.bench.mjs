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

/** A buffer of RESIDENT records; each clock tick is 1 ms, the window is 1 hour. */
function prefilled(make) {
  let t = 0;
  const buffer = make(() => t++);
  for (let i = 0; i < RESIDENT; i++) buffer.recordOutgoing(envelope(i));
  return { buffer, next: RESIDENT };
}

/** `ops` rounds of recordOutgoing + getByIdempotencyToken; returns a function to time. */
function workload(make, ops) {
  const state = prefilled(make);
  return () => {
    const { buffer } = state;
    for (let k = 0; k < ops; k++) {
      const i = state.next++;
      const record = buffer.recordOutgoing(envelope(i));
      const resident = i - ((k * 7919) % RESIDENT); // one of the RESIDENT newest
      const found = buffer.getByIdempotencyToken(`agent-a:tool_call:${resident}`);
      if (record.message_id !== `m${i}` || found === undefined) throw new Error('lost a record');
    }
    if (buffer.size !== RESIDENT) throw new Error(`size ${buffer.size}`);
  };
}

const tidepool = (now) => new ActivityBuffer({ maxItems: RESIDENT, dedupWindowS: 3600, now });
const plainJs = (now) => new JsActivityBuffer({ maxItems: RESIDENT, dedupWindowS: 3600, now });
const rescan = (now) => new JsActivityBuffer({ maxItems: RESIDENT, dedupWindowS: 3600, now, expiry: 'rescan' });

const OPS = 20_000;
const a = timeRounds({ candidate: workload(tidepool, OPS), baseline: workload(plainJs, OPS) });
const perOp = (ms, ops) => (ms * 1000) / ops;
console.log(
  `recordOutgoing + getByIdempotencyToken at ${RESIDENT / 1000}k resident: ` +
    `tidepool ${perOp(a.candidate, OPS).toFixed(2)} us/op, plain-JS Map ${perOp(a.baseline, OPS).toFixed(2)} us/op, ` +
    `ratio ${(a.candidate / a.baseline).toFixed(2)}x (target <= 2x)`,
);

const RESCAN_OPS = 400;
const b = timeRounds({ candidate: workload(tidepool, RESCAN_OPS), baseline: workload(rescan, RESCAN_OPS) });
console.log(
  `same, against the reference's rescan per call: tidepool ${perOp(b.candidate, RESCAN_OPS).toFixed(2)} us/op, ` +
    `rescan ${perOp(b.baseline, RESCAN_OPS).toFixed(2)} us/op, speed-up ${(b.baseline / b.candidate).toFixed(0)}x (target >= 100x)`,
);
