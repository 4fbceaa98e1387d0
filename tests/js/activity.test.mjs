// ActivityBuffer and the envelope helpers in Node, against the built package: every
// behaviour and every bad input of issue 4. Each bad input asserts the error class or code
// and that nothing changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ActivityBuffer, buildEnvelope, computeIdempotencyToken, SequenceTracker, AckStage, EnvelopeState,
  ErrorCode, MessageType, isTerminalState, isTerminalStage, BufferFullError, SnapshotError, TidepoolError,
} from '../../pkg/entry/node.js';

const fixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

const env = (id, extra = {}) => ({ message_id: id, ...extra });
const ids = (records) => records.map((r) => r.message_id);

function filled(n, options = {}) {
  const buffer = new ActivityBuffer({ now: () => 0, ...options });
  for (let i = 0; i < n; i++) buffer.recordOutgoing(env(`m${i}`));
  return buffer;
}

/** Asserts that `fn` throws `expected` (a class or an object of properties) and that the buffer is unchanged. */
function assertRejectedUnchanged(buffer, fn, expected, message) {
  const before = JSON.stringify([buffer.toSnapshot(), buffer.size]);
  const error = captured(fn);
  assert.ok(error !== undefined, `${message}: did not throw`);
  assert.throws(() => { throw error; }, expected, message);
  assert.equal(JSON.stringify([buffer.toSnapshot(), buffer.size]), before, `${message}: buffer unchanged`);
  return error;
}

function captured(fn) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Constants, terminal predicates, tokens, sequences, envelopes
// ---------------------------------------------------------------------------------------

// That the literals equal the core's tables is checked by `cargo test` (tests/js_constants.rs).
test('constants are frozen', () => {
  for (const [name, object] of Object.entries({ AckStage, EnvelopeState, ErrorCode, MessageType })) {
    assert.ok(Object.isFrozen(object), `${name} frozen`);
  }
  assert.equal(AckStage.TIMED_OUT, 6);
  assert.equal(EnvelopeState.PENDING, 2);
  assert.equal(EnvelopeState.RUNNING, 3);
  assert.equal(ErrorCode.INTERNAL_ERROR, 99);
  assert.equal(MessageType.TOOL_ERROR, 11);
  assert.throws(() => { 'use strict'; AckStage.READ = 9; }, TypeError);
});

test('isTerminalState is true exactly for 4-7, isTerminalStage for 3-6', () => {
  const range = (f) => [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8].filter(f);
  assert.deepEqual(range(isTerminalState), [4, 5, 6, 7]);
  assert.deepEqual(range(isTerminalStage), [3, 4, 5, 6]);
  for (const odd of ['4', 4.5, null, undefined, NaN, {}]) {
    assert.equal(isTerminalState(odd), false, String(odd));
    assert.equal(isTerminalStage(odd), false, String(odd));
  }
});

test('computeIdempotencyToken: the issue vectors, bytes or UTF-8 string', () => {
  assert.equal(computeIdempotencyToken('agent', 'work', new Uint8Array()), 'agent:work:e09d48d3d73fad94');
  assert.equal(computeIdempotencyToken('agent', 'work', ''), 'agent:work:e09d48d3d73fad94');
  const json = '{"a":1,"b":2}';
  assert.equal(computeIdempotencyToken('agent', 'work', new TextEncoder().encode(json)), 'agent:work:f65efee16e55e693');
  assert.equal(computeIdempotencyToken('agent', 'work', json), 'agent:work:f65efee16e55e693');
  const utf8 = 'héllo ✓';
  assert.equal(
    computeIdempotencyToken('p', 'o', utf8),
    computeIdempotencyToken('p', 'o', new TextEncoder().encode(utf8)),
  );
});

test('computeIdempotencyToken: bad input', () => {
  assert.throws(() => computeIdempotencyToken('age\nnt', 'work', ''), { name: 'TypeError', message: /producerId.*line feed/ });
  assert.throws(() => computeIdempotencyToken('agent', 'wo\nrk', ''), { name: 'TypeError', message: /operation/ });
  assert.throws(() => computeIdempotencyToken(5, 'work', ''), { name: 'TypeError', message: /producerId must be a string/ });
  assert.throws(() => computeIdempotencyToken('agent', 'work', [1, 2]), { name: 'TypeError', message: /Uint8Array or a string/ });
  assert.throws(() => computeIdempotencyToken('agent', 'work'), TypeError);
});

test('SequenceTracker counts up from start (default 1); next is bound', () => {
  const seq = new SequenceTracker();
  assert.deepEqual([seq.next(), seq.next(), seq.next()], [1, 2, 3]);
  const { next } = new SequenceTracker(41);
  assert.deepEqual([next(), next()], [41, 42]);
  assert.throws(() => new SequenceTracker(1.5), RangeError);
  assert.throws(() => new SequenceTracker('1'), TypeError);
  const end = new SequenceTracker(Number.MAX_SAFE_INTEGER);
  assert.equal(end.next(), Number.MAX_SAFE_INTEGER);
  assert.throws(() => end.next(), RangeError);
});

test('buildEnvelope: the reference field set with defaults', () => {
  const payload = new Uint8Array([0, 1, 2, 255]);
  const before = Date.now();
  const e = buildEnvelope({ producerId: 'agent-a', messageType: MessageType.TOOL_CALL, payload });
  assert.match(e.message_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(e.correlation_id, /^[0-9a-f-]{36}$/);
  assert.notEqual(e.message_id, e.correlation_id);
  assert.ok(e.payload instanceof Uint8Array);
  assert.deepEqual([...e.payload], [0, 1, 2, 255]);
  payload[0] = 9;
  assert.equal(e.payload[0], 0, 'payload copied');
  assert.equal(e.content_length, 4);
  assert.equal(e.content_type, 'application/json');
  assert.equal(e.state, EnvelopeState.SENT);
  assert.equal(e.sequence_number, 1);
  assert.equal(e.retry_count, 0);
  assert.equal(e.ttl_ms, 0);
  assert.equal(e.idempotency_token, '');
  assert.equal(e.repo_id, '');
  assert.ok(e.audit_proof instanceof Uint8Array && e.audit_proof.length === 0);
  assert.match(e.hlc_timestamp, /^HLC:\d+:0:unknown$/);
  assert.ok(e.timestamp.seconds * 1000 >= before - 1000 && e.timestamp.nanos >= 0 && e.timestamp.nanos < 1e9);
  const second = buildEnvelope({ producerId: 'agent-a', messageType: 1 });
  assert.notEqual(second.message_id, e.message_id, 'fresh message_id per call');
});

test('buildEnvelope: given fields are kept; strings become UTF-8 payloads', () => {
  const e = buildEnvelope({
    producerId: 'p', messageType: MessageType.DATA, contentType: 'text/plain', payload: 'hé',
    correlationId: 'c-1', parentCorrelationId: 'c-0', sequenceNumber: 7, retryCount: 2,
    idempotencyToken: 'p:op:0123456789abcdef', repoId: 'r', worktreeId: 'w', ttlMs: 500,
    state: EnvelopeState.RECEIVED,
  });
  assert.deepEqual([...e.payload], [...new TextEncoder().encode('hé')]);
  assert.equal(e.content_length, 3);
  assert.deepEqual(
    [e.correlation_id, e.parent_correlation_id, e.sequence_number, e.retry_count, e.repo_id, e.worktree_id, e.ttl_ms, e.state],
    ['c-1', 'c-0', 7, 2, 'r', 'w', 500, 2],
  );
  assert.equal(e.idempotency_token, 'p:op:0123456789abcdef');
});

test('buildEnvelope: bad options name the field', () => {
  assert.throws(() => buildEnvelope(), TypeError);
  assert.throws(() => buildEnvelope(null), TypeError);
  assert.throws(() => buildEnvelope({ messageType: 1 }), { name: 'TypeError', message: /producerId/ });
  assert.throws(() => buildEnvelope({ producerId: 'p' }), { name: 'TypeError', message: /messageType/ });
  assert.throws(() => buildEnvelope({ producerId: 5, messageType: 1 }), { name: 'TypeError', message: /producerId/ });
  assert.throws(() => buildEnvelope({ producerId: 'p', messageType: 1, payload: 5 }), { name: 'TypeError', message: /payload/ });
  assert.throws(() => buildEnvelope({ producerId: 'p', messageType: 1, colour: 'x' }), { name: 'TypeError', message: /colour/ });
  assert.throws(() => buildEnvelope({ producerId: 'p', messageType: 1, state: 8 }), { name: 'RangeError', message: /state/ });
  assert.throws(() => buildEnvelope({ producerId: 'p', messageType: 1, retryCount: -1 }), { name: 'RangeError', message: /retryCount/ });
});

// ---------------------------------------------------------------------------------------
// Recording
// ---------------------------------------------------------------------------------------

test('recordIncoming / recordOutgoing return a plain record', () => {
  const c = clock(5000);
  const buffer = new ActivityBuffer({ now: c.now });
  const e = env('m1', { idempotency_token: 't1', correlation_id: 'c1', state: EnvelopeState.SENT, x: { k: [1, null] } });
  const out = buffer.recordOutgoing(e);
  assert.deepEqual(out, {
    message_id: 'm1', direction: 'out', envelope: e, ts_ms: 5000, ack_stage: 0, error_code: 0, ack_note: '',
    state: 1, idempotency_token: 't1', correlation_id: 'c1',
  });
  assert.notEqual(out.envelope, e, 'a copy');
  const incoming = buffer.recordIncoming(env('m2'));
  assert.equal(incoming.direction, 'in');
  assert.deepEqual([incoming.state, incoming.idempotency_token, incoming.correlation_id], [0, '', '']);
  assert.equal(buffer.size, 2);
  assert.deepEqual(buffer.get('m1'), out);
  assert.equal(buffer.get('nope'), undefined);
});

test('record methods and ack are bound', () => {
  const buffer = new ActivityBuffer();
  const { recordIncoming, recordOutgoing, ack } = buffer;
  recordIncoming(env('a'));
  recordOutgoing(env('b'));
  assert.equal(ack({ ack_for_message_id: 'a', ack_stage: AckStage.READ }).ack_stage, 2);
  assert.equal(buffer.size, 2);
});

test('the envelope is stored as an independent copy, Uint8Array payloads included', () => {
  const buffer = new ActivityBuffer();
  const payload = new Uint8Array([1, 2, 3]);
  const nested = { list: [1, 2] };
  const e = env('m1', { payload, nested });
  const record = buffer.recordOutgoing(e);
  payload[0] = 99;
  nested.list.push(3);
  e.state = 7;
  record.envelope.payload[1] = 42;
  record.envelope.nested.list.length = 0;
  const stored = buffer.get('m1');
  assert.ok(stored.envelope.payload instanceof Uint8Array);
  assert.deepEqual([...stored.envelope.payload], [1, 2, 3]);
  assert.deepEqual(stored.envelope.nested, { list: [1, 2] });
  assert.equal(stored.state, 0);
  assert.notEqual(buffer.get('m1').envelope.payload, stored.envelope.payload, 'each read is a fresh copy');
});

test('recording a present id replaces it where it stands: same position, new ts_ms, stage reset', () => {
  const c = clock(100);
  const buffer = new ActivityBuffer({ now: c.now });
  for (const id of ['a', 'b', 'c']) buffer.recordOutgoing(env(id));
  buffer.ack({ ack_for_message_id: 'b', ack_stage: AckStage.FULFILLED, error_code: 3, note: 'n' });
  c.t = 200;
  const replaced = buffer.recordIncoming(env('b', { v: 2 }));
  assert.deepEqual(ids(buffer.recent()), ['a', 'b', 'c']);
  assert.deepEqual(
    [replaced.direction, replaced.ts_ms, replaced.ack_stage, replaced.error_code, replaced.ack_note, replaced.envelope.v],
    ['in', 200, 0, 0, '', 2],
  );
  assert.equal(buffer.size, 3);
});

test('bad envelopes: TypeError, nothing recorded', () => {
  const buffer = filled(2);
  const cases = [
    [{}, /message_id is missing/],
    [{ message_id: '' }, /message_id must not be empty/],
    [{ message_id: null }, /message_id/],
    [{ message_id: 5 }, /message_id must be a string/],
    [{ message_id: new Uint8Array([1]) }, /message_id/],
    [{ message_id: 'x', idempotency_token: 5 }, /idempotency_token/],
    [{ message_id: 'x', correlation_id: [] }, /correlation_id/],
    [{ message_id: 'x', state: 'SENT' }, /state/],
    [{ message_id: 'x', _bytes_fields: [] }, /_bytes_fields/],
    [{ message_id: 'x', f: () => 1 }, /envelope\.f is a function/],
    [{ message_id: 'x', n: { deep: NaN } }, /envelope\.n\.deep/],
    [{ message_id: 'x', n: { b: new Uint8Array(1) } }, /envelope\.n\.b/],
    [{ message_id: 'x', d: new Date() }, /envelope\.d/],
    [null, /envelope/],
    ['m1', /envelope/],
    [[{ message_id: 'x' }], /envelope/],
  ];
  for (const [i, [bad, message]] of cases.entries()) {
    for (const method of ['recordIncoming', 'recordOutgoing']) {
      assertRejectedUnchanged(buffer, () => buffer[method](bad), { name: 'TypeError', message }, `case ${i} ${method}`);
    }
  }
  const cyclic = env('x');
  cyclic.self = cyclic;
  assertRejectedUnchanged(buffer, () => buffer.recordOutgoing(cyclic), { name: 'TypeError', message: /circular reference/ }, 'cycle');
  assertRejectedUnchanged(buffer, () => buffer.recordOutgoing(env('x', { state: 1.5 })), RangeError, 'fractional state');
});

test('undefined-valued envelope fields are left out, like JSON', () => {
  const buffer = new ActivityBuffer();
  const record = buffer.recordOutgoing(env('m', { gone: undefined, kept: null }));
  assert.deepEqual(record.envelope, { message_id: 'm', kept: null });
});

// ---------------------------------------------------------------------------------------
// Acks, states, queries
// ---------------------------------------------------------------------------------------

test('ack moves stages forward only; ignored acks are counted', () => {
  const buffer = filled(1);
  let r = buffer.ack({ ack_for_message_id: 'm0', ack_stage: AckStage.READ });
  assert.equal(r.ack_stage, 2);
  r = buffer.ack({ ack_for_message_id: 'm0', ack_stage: AckStage.RECEIVED });
  assert.equal(r.ack_stage, 2, 'backwards ignored');
  r = buffer.ack({ ack_for_message_id: 'm0', ack_stage: AckStage.READ, note: 'same stage' });
  assert.deepEqual([r.ack_stage, r.ack_note], [2, 'same stage'], 'same stage applies');
  r = buffer.ack({ ack_for_message_id: 'm0', ack_stage: AckStage.FAILED, error_code: ErrorCode.ACK_TIMEOUT, note: 'late' });
  assert.deepEqual([r.ack_stage, r.error_code, r.ack_note], [5, 3, 'late']);
  r = buffer.ack({ ack_for_message_id: 'm0', ack_stage: AckStage.TIMED_OUT });
  assert.deepEqual([r.ack_stage, r.error_code, r.ack_note], [5, 3, 'late'], 'after terminal: ignored');
  assert.equal(buffer.stats().ignoredAcks, 2);
  assert.equal(buffer.ack({ ack_for_message_id: 'nope', ack_stage: 1 }), undefined);
});

test('bad acks: RangeError / TypeError, nothing changed', () => {
  const buffer = filled(2);
  for (const stage of [7, -1, 1.5, '3', undefined, null, 10]) {
    assertRejectedUnchanged(
      buffer, () => buffer.ack({ ack_for_message_id: 'm0', ack_stage: stage }), RangeError, `stage ${String(stage)}`,
    );
  }
  assertRejectedUnchanged(buffer, () => buffer.ack({ ack_for_message_id: 'nope', ack_stage: 9 }), RangeError, 'unknown id, bad stage');
  assertRejectedUnchanged(buffer, () => buffer.ack({ ack_stage: 1 }), { name: 'TypeError', message: /ack_for_message_id/ }, 'no id');
  assertRejectedUnchanged(buffer, () => buffer.ack({ ack_for_message_id: 'm0', ack_stage: 1, note: 5 }), TypeError, 'note');
  assertRejectedUnchanged(buffer, () => buffer.ack({ ack_for_message_id: 'm0', ack_stage: 1, error_code: 0.5 }), RangeError, 'error_code');
  assertRejectedUnchanged(buffer, () => buffer.ack(null), TypeError, 'null');
  assertRejectedUnchanged(buffer, () => buffer.ack('m0'), TypeError, 'string');
  assert.equal(buffer.stats().ignoredAcks, 0);
});

test('unacked, reconcile and recent', () => {
  const buffer = new ActivityBuffer();
  buffer.recordOutgoing(env('o1'));
  buffer.recordIncoming(env('i1'));
  buffer.recordOutgoing(env('o2'));
  buffer.recordOutgoing(env('o3'));
  buffer.recordIncoming(env('i2'));
  buffer.ack({ ack_for_message_id: 'o2', ack_stage: AckStage.FULFILLED });
  buffer.ack({ ack_for_message_id: 'o3', ack_stage: AckStage.READ });
  buffer.ack({ ack_for_message_id: 'i2', ack_stage: AckStage.REJECTED });
  assert.deepEqual(ids(buffer.unacked()), ['o1', 'i1', 'o3']);
  assert.deepEqual(ids(buffer.reconcile()), ['o1', 'o3']);
  assert.deepEqual(ids(buffer.recent(2)), ['o3', 'i2']);
  assert.deepEqual(ids(buffer.recent()), ['o1', 'i1', 'o2', 'o3', 'i2']);
  assert.deepEqual(buffer.recent(0), []);
  assert.deepEqual(buffer.recent(-3), []);
  assert.throws(() => buffer.recent(1.5), RangeError);
  assert.throws(() => buffer.recent('2'), TypeError);
});

test('updateState sets the envelope state; bad states change nothing', () => {
  const buffer = filled(1);
  const r = buffer.updateState('m0', EnvelopeState.FULFILLED);
  assert.deepEqual([r.state, r.envelope.state], [4, 4]);
  assert.equal(buffer.updateState('nope', 1), undefined);
  for (const [bad, ErrorClass] of [[8, RangeError], [-1, RangeError], [1.5, RangeError], ['4', TypeError], [undefined, TypeError]]) {
    assertRejectedUnchanged(buffer, () => buffer.updateState('m0', bad), ErrorClass, `state ${String(bad)}`);
  }
  assertRejectedUnchanged(buffer, () => buffer.updateState(5, 1), TypeError, 'id not a string');
});

test('get and getByIdempotencyToken take strings', () => {
  const buffer = filled(1);
  assert.throws(() => buffer.get(5), TypeError);
  assert.throws(() => buffer.getByIdempotencyToken(5), TypeError);
});

test('getByIdempotencyToken finds the record only within the dedup window', () => {
  const c = clock(0);
  const buffer = new ActivityBuffer({ dedupWindowS: 10, now: c.now });
  buffer.recordOutgoing(env('m1', { idempotency_token: 'tok' }));
  c.t = 10_000;
  assert.equal(buffer.getByIdempotencyToken('tok').message_id, 'm1', 'at the edge');
  c.t = 10_001;
  assert.equal(buffer.getByIdempotencyToken('tok'), undefined, 'expired');
  assert.equal(buffer.get('m1').message_id, 'm1', 'the record stays');
  buffer.recordOutgoing(env('m2', { idempotency_token: 'tok' }));
  assert.equal(buffer.getByIdempotencyToken('tok').message_id, 'm2');
  assert.equal(buffer.getByIdempotencyToken('other'), undefined);
});

test('checkDuplicate: new, in_progress, duplicate; dedup hits counted', () => {
  const c = clock(0);
  const buffer = new ActivityBuffer({ dedupWindowS: 60, now: c.now });
  assert.deepEqual(buffer.checkDuplicate(env('x', { idempotency_token: 't' })), { status: 'new', record: null });
  assert.deepEqual(buffer.checkDuplicate(env('x')), { status: 'new', record: null }, 'no token');
  buffer.recordOutgoing(env('m1', { idempotency_token: 't', state: EnvelopeState.SENT }));
  const retry = env('m2', { idempotency_token: 't' });
  let check = buffer.checkDuplicate(retry);
  assert.deepEqual([check.status, check.record.message_id], ['in_progress', 'm1']);
  buffer.updateState('m1', EnvelopeState.FULFILLED);
  check = buffer.checkDuplicate(retry);
  assert.deepEqual([check.status, check.record.message_id], ['duplicate', 'm1']);
  assert.equal(buffer.stats().dedupHits, 2);
  c.t = 60_001;
  assert.equal(buffer.checkDuplicate(retry).status, 'new', 'outside the window');
  assert.throws(() => buffer.checkDuplicate(env('x', { idempotency_token: 5 })), TypeError);
  assert.throws(() => buffer.checkDuplicate(null), TypeError);
  assert.equal(buffer.stats().dedupHits, 2);
});

test('clear removes records and keeps stats; size follows', () => {
  const buffer = filled(3, { maxItems: 2 });
  assert.equal(buffer.size, 2);
  buffer.clear();
  assert.equal(buffer.size, 0);
  assert.deepEqual(buffer.recent(), []);
  assert.deepEqual(buffer.stats(), { evictions: 1, rejections: 0, ignoredAcks: 0, dedupHits: 0 });
});

test('tokens never appear in error messages', () => {
  const secret = 'producer:op:feedfacecafebeef';
  const buffer = new ActivityBuffer({ maxItems: 1, onFull: 'reject' });
  buffer.recordOutgoing(env('m1', { idempotency_token: secret }));
  const errors = [
    captured(() => buffer.recordOutgoing(env('m2', { idempotency_token: secret }))),
    captured(() => buffer.getByIdempotencyToken({ token: secret })),
    captured(() => computeIdempotencyToken(`${secret}\n`, 'op', '')),
  ];
  for (const error of errors) {
    assert.ok(error instanceof Error);
    assert.ok(!error.message.includes(secret) && !error.message.includes('feedface'), error.message);
  }
});

// ---------------------------------------------------------------------------------------
// Options and capacity
// ---------------------------------------------------------------------------------------

test('bad options: TypeError / RangeError', () => {
  assert.throws(() => new ActivityBuffer(null), TypeError);
  assert.throws(() => new ActivityBuffer({ maxItems: 0 }), { name: 'RangeError', message: /maxItems/ });
  assert.throws(() => new ActivityBuffer({ maxItems: -1 }), RangeError);
  assert.throws(() => new ActivityBuffer({ maxItems: 1.5 }), RangeError);
  assert.throws(() => new ActivityBuffer({ maxItems: '5' }), TypeError);
  assert.throws(() => new ActivityBuffer({ dedupWindowS: -1 }), { name: 'RangeError', message: /dedupWindowS/ });
  assert.throws(() => new ActivityBuffer({ strategy: 'oldest' }), { name: 'TypeError', message: /oldest/ });
  assert.throws(() => new ActivityBuffer({ strategy: 3 }), TypeError);
  assert.throws(() => new ActivityBuffer({ strategy: { random: { seed: -1 } } }), RangeError);
  assert.throws(() => new ActivityBuffer({ strategy: { random: {} } }), TypeError);
  assert.throws(() => new ActivityBuffer({ strategy: { victims: 5 } }), { name: 'TypeError', message: /victims/ });
  assert.throws(() => new ActivityBuffer({ onFull: 'drop' }), { name: 'TypeError', message: /onFull/ });
  assert.throws(() => new ActivityBuffer({ onFull: 1 }), TypeError);
  assert.throws(() => new ActivityBuffer({ now: 5 }), { name: 'TypeError', message: /now/ });
  assert.throws(() => new ActivityBuffer({ maxitems: 5 }), { name: 'TypeError', message: /maxitems/ });
  const buffer = new ActivityBuffer({ now: () => 'soon' });
  assert.throws(() => buffer.recordOutgoing(env('m')), { name: 'TypeError', message: /now\(\)/ });
  assert.equal(buffer.size, 0);
});

test('defaults: maxItems 1000, fifo, evict', () => {
  const buffer = filled(1001);
  assert.equal(buffer.size, 1000);
  assert.equal(buffer.get('m0'), undefined);
  assert.equal(buffer.stats().evictions, 1);
});

test('fifo evicts the oldest, lifo the newest resident', () => {
  assert.deepEqual(ids(filled(5, { maxItems: 3, strategy: 'fifo' }).recent()), ['m2', 'm3', 'm4']);
  assert.deepEqual(ids(filled(5, { maxItems: 3, strategy: 'lifo' }).recent()), ['m0', 'm1', 'm4']);
});

test('settled-first evicts terminal records first, then fifo', () => {
  const buffer = filled(4, { maxItems: 4, strategy: 'settled-first' });
  buffer.ack({ ack_for_message_id: 'm2', ack_stage: AckStage.FULFILLED });
  buffer.updateState('m3', EnvelopeState.FAILED);
  buffer.recordOutgoing(env('n1'));
  assert.deepEqual(ids(buffer.recent()), ['m0', 'm1', 'm3', 'n1']);
  buffer.recordOutgoing(env('n2'));
  assert.deepEqual(ids(buffer.recent()), ['m0', 'm1', 'n1', 'n2']);
  buffer.recordOutgoing(env('n3'));
  assert.deepEqual(ids(buffer.recent()), ['m1', 'n1', 'n2', 'n3'], 'then oldest');
  assert.equal(buffer.stats().evictions, 3);
});

test('a seeded random strategy gives the same victims twice; other seeds differ', () => {
  const survivors = (seed) => ids(filled(60, { maxItems: 20, strategy: { random: { seed } } }).recent());
  const first = survivors(42);
  assert.equal(first.length, 20);
  assert.deepEqual(survivors(42), first);
  assert.notDeepEqual(survivors(43), first);
  assert.notDeepEqual(first, ids(filled(60, { maxItems: 20 }).recent()), 'not fifo');
});

test('a custom victims object chooses; its order and excess are given', () => {
  const calls = [];
  const strategy = {
    victims(order, excess) {
      calls.push([order, excess]);
      return new Set([order[1]]);
    },
  };
  const buffer = filled(4, { maxItems: 3, strategy });
  assert.deepEqual(calls, [[['m0', 'm1', 'm2'], 1]]);
  assert.deepEqual(ids(buffer.recent()), ['m0', 'm2', 'm3']);
  function* generator(order) {
    yield order.at(-1);
  }
  const viaGenerator = filled(3, { maxItems: 2, strategy: { victims: generator } });
  assert.deepEqual(ids(viaGenerator.recent()), ['m0', 'm2']);
});

test('custom victims: unknown ids, too few, non-strings, a throwing victims(): error, nothing evicted', () => {
  const cases = [
    [() => ['ghost'], { code: 'UNKNOWN_VICTIM', message: /ghost.*nothing was evicted/ }],
    [(order) => [order[0], 'ghost'], { code: 'UNKNOWN_VICTIM' }],
    [() => [], { code: 'NOT_ENOUGH_VICTIMS' }],
    [() => 5, { code: 'STRATEGY_FAILED', message: /iterable/ }],
    [() => [1], { code: 'STRATEGY_FAILED', message: /a number/ }],
    [() => { throw new RangeError('chooser broke'); }, { code: 'STRATEGY_FAILED', message: /chooser broke/ }],
    [function* iterationBreaks(order) { yield order[0]; throw new Error('iteration broke'); },
      { code: 'STRATEGY_FAILED', message: /iteration broke/ }],
  ];
  for (const [i, [victims, expected]] of cases.entries()) {
    const buffer = filled(3, { maxItems: 3, strategy: { victims } });
    const error = assertRejectedUnchanged(buffer, () => buffer.recordOutgoing(env('new')), expected, `case ${i}`);
    assert.ok(captured(() => buffer.recordOutgoing(env('new'))) instanceof TidepoolError, `case ${i} class`);
    assert.equal(buffer.stats().evictions, 0);
    void error;
  }
  const thrown = new RangeError('chooser broke');
  const buffer = filled(1, { maxItems: 1, strategy: { victims: () => { throw thrown; } } });
  assert.equal(captured(() => buffer.recordOutgoing(env('x'))).cause, thrown, 'the exception is the cause');
  buffer.recordOutgoing(env('m0', { v: 2 }));
  assert.equal(buffer.get('m0').envelope.v, 2, 're-recording needs no room');
});

test('a victims() that calls back into the buffer fails cleanly, nothing evicted', () => {
  let buffer;
  buffer = filled(2, { maxItems: 2, strategy: { victims: (order) => (buffer.size ? order : order) } });
  const error = captured(() => buffer.recordOutgoing(env('new')));
  assert.ok(error instanceof TidepoolError, String(error));
  assert.equal(error.code, 'STRATEGY_FAILED');
  assert.deepEqual(ids(buffer.recent()), ['m0', 'm1']);
});

test("onFull 'reject': BufferFullError with sizes, nothing changed, counted", () => {
  const buffer = filled(2, { maxItems: 2, onFull: 'reject' });
  const error = captured(() => buffer.recordIncoming(env('m9')));
  assert.ok(error instanceof BufferFullError && error instanceof TidepoolError && error instanceof Error);
  assert.deepEqual(
    [error.name, error.code, error.errorCode, error.currentSize, error.maxSize],
    ['BufferFullError', 'BUFFER_FULL', ErrorCode.BUFFER_FULL, 2, 2],
  );
  assertRejectedUnchanged(buffer, () => buffer.recordOutgoing(env('m9')), BufferFullError, 'again');
  assert.deepEqual(ids(buffer.recent()), ['m0', 'm1']);
  assert.equal(buffer.stats().rejections, 2);
  buffer.recordOutgoing(env('m1', { v: 2 }));
  assert.equal(buffer.size, 2, 're-recording a resident id is allowed');
});

test('evicting a record drops its token entry only if the entry points at it', () => {
  const buffer = new ActivityBuffer({ maxItems: 2, now: () => 0 });
  buffer.recordOutgoing(env('a', { idempotency_token: 't' }));
  buffer.recordOutgoing(env('b', { idempotency_token: 't' }));
  buffer.recordOutgoing(env('c'));
  assert.equal(buffer.getByIdempotencyToken('t').message_id, 'b', 'a evicted, t still maps to b');
  buffer.recordOutgoing(env('d'));
  assert.equal(buffer.getByIdempotencyToken('t'), undefined, 'b evicted');
});

// ---------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------

test('snapshot round trip with binary payloads: Uint8Array in, Uint8Array out, byte-equal', () => {
  const c = clock(1234);
  const buffer = new ActivityBuffer({ now: c.now });
  const bytes = new Uint8Array(256).map((_, i) => i);
  buffer.recordOutgoing(env('bin', { payload: bytes, audit_proof: new Uint8Array([7]), idempotency_token: 'tk' }));
  buffer.recordIncoming(env('txt', { payload: 'plain text', x: { k: [1, 2.5, null, true] } }));
  buffer.ack({ ack_for_message_id: 'txt', ack_stage: AckStage.READ, note: 'seen' });
  const snapshot = buffer.toSnapshot();
  assert.equal(snapshot.version, '1.0');
  assert.deepEqual(snapshot.order, ['bin', 'txt']);
  const written = snapshot.records.bin.envelope;
  assert.equal(typeof written.payload, 'string', 'base64 in the snapshot');
  assert.deepEqual(written._bytes_fields, ['audit_proof', 'payload']);
  assert.equal(written._payload_is_b64, true);
  assert.equal(snapshot.records.txt.envelope._bytes_fields, undefined);

  const text = JSON.stringify(snapshot);
  const loaded = ActivityBuffer.fromSnapshot(JSON.parse(text), { now: c.now });
  const record = loaded.get('bin');
  assert.ok(record.envelope.payload instanceof Uint8Array);
  assert.deepEqual(record.envelope.payload, bytes);
  assert.deepEqual([...record.envelope.audit_proof], [7]);
  assert.equal(record.envelope._bytes_fields, undefined, 'markers removed');
  assert.deepEqual(loaded.get('txt'), buffer.get('txt'));
  assert.deepEqual(loaded.get('bin'), buffer.get('bin'));
  assert.equal(JSON.stringify(loaded.toSnapshot()), text);
  assert.equal(loaded.getByIdempotencyToken('tk').message_id, 'bin', 'token index rebuilt');
  assert.deepEqual(loaded.stats(), { evictions: 0, rejections: 0, ignoredAcks: 0, dedupHits: 0 });
});

test('a snapshot written by the reference loads and round-trips', () => {
  const reference = fixture('activity_reference_snapshot.json');
  const loaded = ActivityBuffer.fromSnapshot(reference);
  assert.equal(loaded.size, reference.order.length);
  assert.deepEqual(ids(loaded.recent()), reference.order);
  const binary = loaded.get(reference.order[0]);
  assert.ok(binary.envelope.payload instanceof Uint8Array);
  assert.deepEqual([...binary.envelope.payload], [0, 1, 2, 254, 255, ...new TextEncoder().encode('tail')]);
  const hand = loaded.get('hand-written-1');
  assert.equal(hand.envelope.payload, 'plain text, not bytes');
  assert.deepEqual(hand.envelope.x_custom, { k: [1, 2.5, null, true] });
  const again = loaded.toSnapshot();
  assert.deepEqual(again.order, reference.order);
  for (const id of reference.order) {
    const { _bytes_fields: bytesFields, ...envelope } = again.records[id].envelope;
    assert.deepEqual({ ...again.records[id], envelope }, reference.records[id], id);
    if (bytesFields !== undefined) assert.deepEqual(bytesFields, ['payload'], `${id} markers`);
  }
  assert.deepEqual(ActivityBuffer.fromSnapshot(again).toSnapshot(), again, 'stable');
  assert.deepEqual(ids(loaded.reconcile()), ids(ActivityBuffer.fromSnapshot(again).reconcile()));
});

test('the reference stage-10 snapshot is refused (documented decision)', () => {
  const error = captured(() => ActivityBuffer.fromSnapshot(fixture('activity_reference_stage_10.json')));
  assert.ok(error instanceof SnapshotError, String(error));
  assert.match(error.path, /ack_stage/);
});

test('malformed snapshots: SnapshotError naming what is wrong', () => {
  const base = () => {
    const b = new ActivityBuffer({ now: () => 5 });
    b.recordOutgoing(env('m1', { payload: new Uint8Array([1, 2]) }));
    b.recordOutgoing(env('m2'));
    return b.toSnapshot();
  };
  const cases = [
    ['record key differs from its message_id', (s) => { s.records.m1.message_id = 'other'; }, /records/],
    ['order differs from the records', (s) => { s.order = ['m1']; }, /order|m2/],
    ['order names an unknown id', (s) => { s.order = ['m1', 'm2', 'm3']; }, /order/],
    ['duplicate ids in order', (s) => { s.order = ['m1', 'm1', 'm2']; }, /order/],
    ['invalid base64', (s) => { s.records.m1.envelope.payload = '!!!'; }, /payload/],
    ['ts_ms not a number', (s) => { s.records.m1.ts_ms = 'yesterday'; }, /ts_ms/],
    ['direction unknown', (s) => { s.records.m1.direction = 'sideways'; }, /direction/],
    ['ack_stage out of range', (s) => { s.records.m1.ack_stage = 10; }, /ack_stage/],
    ['records not an object', (s) => { s.records = []; }, /records/],
    ['order not an array', (s) => { s.order = 'm1'; }, /order/],
    ['unknown version', (s) => { s.version = '2.0'; }, /version/],
    ['unknown top-level field', (s) => { s.extra = 1; }, /extra/],
    ['_bytes_fields names a missing field', (s) => { s.records.m2.envelope._bytes_fields = ['payload']; }, /_bytes_fields/],
    ['not JSON data', (s) => { s.records.m1.envelope.f = () => 1; }, /records\.m1\.envelope\.f/],
  ];
  for (const [what, mutate, path] of cases) {
    const snapshot = base();
    mutate(snapshot);
    const error = captured(() => ActivityBuffer.fromSnapshot(snapshot));
    assert.ok(error instanceof SnapshotError, `${what}: ${error}`);
    assert.equal(error.code, 'SNAPSHOT_INVALID', what);
    assert.match(`${error.path} ${error.message}`, path, `${what}: ${error.message}`);
    assert.ok(error.message.length > 0 && typeof error.problem === 'string', what);
  }
  for (const bad of [null, 'text', [], 5]) {
    assert.throws(() => ActivityBuffer.fromSnapshot(bad), SnapshotError, String(bad));
  }
});

test('fromSnapshot takes the buffer options; too many records is BufferFullError', () => {
  const snapshot = filled(3).toSnapshot();
  const error = captured(() => ActivityBuffer.fromSnapshot(snapshot, { maxItems: 2 }));
  assert.ok(error instanceof BufferFullError, String(error));
  const c = clock(0);
  const loaded = ActivityBuffer.fromSnapshot(snapshot, { maxItems: 3, strategy: 'lifo', now: c.now });
  loaded.recordOutgoing(env('n'));
  assert.deepEqual(ids(loaded.recent()), ['m0', 'm1', 'n']);
  assert.throws(() => ActivityBuffer.fromSnapshot(snapshot, { onFull: 'nope' }), TypeError);
});

test('each record keeps its own envelope through evictions, re-recording, acks, clear and snapshots', () => {
  const buffer = new ActivityBuffer({ maxItems: 4, strategy: { random: { seed: 11 } } });
  const lastN = new Map();
  for (let i = 0; i < 300; i++) {
    const id = `m${(i * 7) % 9}`;
    buffer.recordOutgoing({ message_id: id, n: i, payload: new Uint8Array([i & 255, 7]) });
    lastN.set(id, i);
    if (i % 5 === 0) buffer.ack({ ack_for_message_id: id, ack_stage: AckStage.READ, note: `read ${i}` });
    const records = buffer.recent(10);
    assert.ok(records.length <= 4);
    for (const record of records) {
      assert.equal(record.envelope.message_id, record.message_id);
      assert.equal(record.envelope.n, lastN.get(record.message_id), `${record.message_id} at step ${i}`);
      assert.deepEqual([...record.envelope.payload], [record.envelope.n & 255, 7]);
    }
  }
  const noted = buffer.recent(10).find((r) => r.ack_note !== '');
  if (noted) assert.match(noted.ack_note, /^read \d+$/);
  const restored = ActivityBuffer.fromSnapshot(buffer.toSnapshot(), { maxItems: 4 });
  assert.deepEqual(restored.recent(10), buffer.recent(10));
  restored.recordOutgoing({ message_id: 'after-load', n: -1 });
  assert.equal(restored.get('after-load').envelope.n, -1);
  assert.equal(restored.size, 4);
  buffer.clear();
  assert.deepEqual(buffer.recent(10), []);
  buffer.recordOutgoing({ message_id: 'fresh', n: 1 });
  assert.deepEqual(buffer.recent(10).map((r) => [r.message_id, r.envelope.n]), [['fresh', 1]]);
  assert.deepEqual(buffer.toSnapshot().order, ['fresh']);
});
