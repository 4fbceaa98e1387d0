// Conformance checks of ActivityBuffer and the envelope helpers (buildEnvelope draws its
// UUIDs from the platform's random source: in workerd these checks run inside the fetch
// handler, where random generation is allowed).
import { assert, assertEqual, assertThrows } from './assert.mjs';

const env = (id, extra = {}) => ({ message_id: id, ...extra });
const ids = (records) => records.map((r) => r.message_id);

function filled(tp, n, options) {
  const buffer = new tp.ActivityBuffer({ now: () => 0, ...options });
  for (let i = 0; i < n; i++) buffer.recordOutgoing(env(`m${i}`));
  return buffer;
}

export const activityChecks = {
  'activity constants are frozen; terminal predicates'(tp) {
    assert(Object.isFrozen(tp.AckStage) && Object.isFrozen(tp.EnvelopeState), 'frozen');
    assertEqual([tp.AckStage.TIMED_OUT, tp.EnvelopeState.RUNNING, tp.ErrorCode.INTERNAL_ERROR, tp.MessageType.TOOL_ERROR],
      [6, 3, 99, 11], 'values');
    assertEqual([3, 4, 7, 8].map(tp.isTerminalState), [false, true, true, false], 'isTerminalState');
    assertEqual([2, 3, 6, 7].map(tp.isTerminalStage), [false, true, true, false], 'isTerminalStage');
  },
  'idempotency token vectors; SequenceTracker'(tp) {
    assertEqual(tp.computeIdempotencyToken('agent', 'work', new Uint8Array()), 'agent:work:e09d48d3d73fad94', 'empty');
    assertEqual(tp.computeIdempotencyToken('agent', 'work', '{"a":1,"b":2}'), 'agent:work:f65efee16e55e693', 'json');
    assertThrows(() => tp.computeIdempotencyToken('a\nb', 'work', ''), TypeError, 'line feed');
    const seq = new tp.SequenceTracker(5);
    assertEqual([seq.next(), seq.next()], [5, 6], 'sequence');
  },
  'buildEnvelope draws fresh UUIDs and keeps bytes as Uint8Array'(tp) {
    const a = tp.buildEnvelope({ producerId: 'p', messageType: tp.MessageType.DATA, payload: new Uint8Array([1, 2]) });
    const b = tp.buildEnvelope({ producerId: 'p', messageType: tp.MessageType.DATA });
    assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4/.test(a.message_id) && a.message_id !== b.message_id, 'uuids');
    assert(a.payload instanceof Uint8Array && a.payload.length === 2 && a.content_length === 2, 'payload');
    assertEqual([a.state, a.sequence_number], [tp.EnvelopeState.SENT, 1], 'defaults');
  },
  'record, ack, unacked, reconcile, dedup'(tp) {
    let t = 0;
    const buffer = new tp.ActivityBuffer({ dedupWindowS: 1, now: () => t });
    const payload = new Uint8Array([1, 2, 3]);
    buffer.recordOutgoing(env('o1', { idempotency_token: 'tok', payload }));
    buffer.recordIncoming(env('i1'));
    payload[0] = 9;
    assertEqual([...buffer.get('o1').envelope.payload], [1, 2, 3], 'independent copy');
    assertEqual(buffer.ack({ ack_for_message_id: 'i1', ack_stage: tp.AckStage.FULFILLED }).ack_stage, 3, 'ack');
    assertEqual(buffer.ack({ ack_for_message_id: 'i1', ack_stage: tp.AckStage.READ }).ack_stage, 3, 'forward only');
    assertThrows(() => buffer.ack({ ack_for_message_id: 'i1', ack_stage: 7 }), RangeError, 'stage 7');
    assertEqual(ids(buffer.unacked()), ['o1'], 'unacked');
    assertEqual(ids(buffer.reconcile()), ['o1'], 'reconcile');
    assertEqual(buffer.checkDuplicate(env('o2', { idempotency_token: 'tok' })).status, 'in_progress', 'in progress');
    t = 1001;
    assertEqual(buffer.getByIdempotencyToken('tok'), undefined, 'window expired');
    assertThrows(() => buffer.recordOutgoing({}), TypeError, 'no message_id');
    assertEqual(buffer.stats(), { evictions: 0, rejections: 0, ignoredAcks: 1, dedupHits: 1 }, 'stats');
  },
  'eviction strategies and reject mode'(tp) {
    assertEqual(ids(filled(tp, 4, { maxItems: 2 }).recent()), ['m2', 'm3'], 'fifo');
    assertEqual(ids(filled(tp, 4, { maxItems: 2, strategy: 'lifo' }).recent()), ['m0', 'm3'], 'lifo');
    const seeded = () => ids(filled(tp, 30, { maxItems: 10, strategy: { random: { seed: 7 } } }).recent());
    assertEqual(seeded(), seeded(), 'seeded random is reproducible');
    const custom = filled(tp, 3, { maxItems: 2, strategy: { victims: (order) => [order[1]] } });
    assertEqual(ids(custom.recent()), ['m0', 'm2'], 'custom');
    const unknown = filled(tp, 2, { maxItems: 2, strategy: { victims: () => ['ghost'] } });
    const error = assertThrows(() => unknown.recordOutgoing(env('x')), tp.TidepoolError, 'unknown victim');
    assertEqual([error.code, unknown.size], ['UNKNOWN_VICTIM', 2], 'nothing evicted');
    const full = filled(tp, 2, { maxItems: 2, onFull: 'reject' });
    const rejected = assertThrows(() => full.recordOutgoing(env('x')), tp.BufferFullError, 'reject');
    assertEqual([rejected.code, rejected.errorCode, rejected.currentSize, rejected.maxSize], ['BUFFER_FULL', 1, 2, 2], 'fields');
  },
  'snapshot round trip with bytes; malformed snapshots'(tp) {
    const buffer = new tp.ActivityBuffer({ now: () => 42 });
    buffer.recordOutgoing(env('b', { payload: new Uint8Array([0, 255, 128]) }));
    const snapshot = JSON.parse(JSON.stringify(buffer.toSnapshot()));
    assertEqual(snapshot.records.b.envelope._bytes_fields, ['payload'], 'markers');
    const loaded = tp.ActivityBuffer.fromSnapshot(snapshot);
    const payload = loaded.get('b').envelope.payload;
    assert(payload instanceof Uint8Array, 'Uint8Array out');
    assertEqual([...payload], [0, 255, 128], 'bytes');
    snapshot.order.push('b');
    const error = assertThrows(() => tp.ActivityBuffer.fromSnapshot(snapshot), tp.SnapshotError, 'duplicate id');
    assert(error.code === 'SNAPSHOT_INVALID' && /order/.test(error.path), `path ${error.path}`);
  },
};
