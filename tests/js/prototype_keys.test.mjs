// Keys named `__proto__`, `constructor` and `prototype` are data (issue 9): at every entry point
// they are kept as own data properties, exactly as `JSON.parse` creates them, round-trip through
// every path, and no object tidepool returns has a prototype other than Object.prototype /
// Array.prototype (Uint8Array.prototype for byte fields). No input changes a prototype.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ActivityBuffer, EventBuffer, InMemoryEventLog, DisabledEventLog, activityHandler, parsePayload, mergeActions,
} from '../../pkg/entry/node.js';
import { serveFetch, sseReader } from '../helpers/fetch_server.mjs';

const HOSTILE = '{"__proto__":{"isAdmin":true,"state":4,"payload":"inherited"},"constructor":{"name":"Evil"},'
  + '"prototype":3,"meta":{"__proto__":{"x":1},"constructor":"c","list":[{"__proto__":[1,2]}]}}';
/** A fresh object with own `__proto__` / `constructor` / `prototype` keys, top level and nested. */
const hostile = () => JSON.parse(HOSTILE);

/** Asserts that every object reachable from `value` has an ordinary prototype. */
function assertOrdinary(value, path = 'value') {
  if (value === null || typeof value !== 'object') return;
  const prototype = Object.getPrototypeOf(value);
  if (value instanceof Uint8Array) {
    assert.equal(prototype, Uint8Array.prototype, path);
    return;
  }
  const expected = Array.isArray(value) ? Array.prototype : Object.prototype;
  assert.equal(prototype, expected, `${path} has an unexpected prototype`);
  for (const key of Object.keys(value)) assertOrdinary(value[key], `${path}.${key}`);
}

/** Asserts that `object` holds `__proto__` as an own, enumerable data property equal to `expected`. */
function assertOwnProto(object, expected, path) {
  const descriptor = Object.getOwnPropertyDescriptor(object, '__proto__');
  assert.ok(descriptor, `${path}: __proto__ is not an own property`);
  assert.equal(descriptor.enumerable, true, path);
  assert.deepEqual(JSON.parse(JSON.stringify(descriptor.value)), expected, path);
}

/** The same JSON data, whatever the key order (the core stores object keys sorted). */
const assertSameData = (actual, expected, message) =>
  assert.deepEqual(JSON.parse(JSON.stringify(actual)), typeof expected === 'string' ? JSON.parse(expected) : JSON.parse(JSON.stringify(expected)), message);

const protoStillClean = () => {
  assert.equal({}.isAdmin, undefined, 'Object.prototype polluted');
  assert.equal({}.x, undefined, 'Object.prototype polluted');
};

test('ActivityBuffer: recordIncoming / recordOutgoing keep prototype keys as data, top level and nested', () => {
  for (const record of ['recordIncoming', 'recordOutgoing']) {
    const buffer = new ActivityBuffer();
    const envelope = { message_id: 'm', ...hostile() };
    const answer = buffer[record](envelope);
    for (const returned of [answer, buffer.get('m'), buffer.recent()[0], buffer.unacked()[0]]) {
      assertOrdinary(returned, record);
      assert.equal(returned.envelope.isAdmin, undefined, `${record}: nothing inherited`);
      assert.equal(returned.envelope.state, undefined, `${record}: nothing inherited`);
      assert.equal(returned.state, 0);
      assertOwnProto(returned.envelope, { isAdmin: true, state: 4, payload: 'inherited' }, record);
      assertOwnProto(returned.envelope.meta, { x: 1 }, `${record} meta`);
      assertOwnProto(returned.envelope.meta.list[0], [1, 2], `${record} meta.list[0]`);
      assertSameData(returned.envelope, envelope, `${record}: same data`);
    }
    protoStillClean();
  }
});

test('ActivityBuffer: toSnapshot writes prototype keys; fromSnapshot reads them back as data', () => {
  const buffer = new ActivityBuffer();
  const envelope = { message_id: 'm', ...hostile() };
  buffer.recordOutgoing(envelope);
  const snapshot = buffer.toSnapshot();  // threw 'envelope is a Object object' before issue 9
  assertOrdinary(snapshot, 'snapshot');
  assertSameData(snapshot.records.m.envelope, envelope);
  const file = JSON.stringify(snapshot);
  const restored = ActivityBuffer.fromSnapshot(JSON.parse(file));
  const record = restored.get('m');
  assertOrdinary(record, 'restored record');
  assert.equal(record.envelope.state, undefined, 'state is not inherited from __proto__');
  assert.equal(record.envelope.isAdmin, undefined, 'isAdmin is not inherited from __proto__');
  assertOwnProto(record.envelope, { isAdmin: true, state: 4, payload: 'inherited' }, 'restored');
  assertSameData(restored.toSnapshot(), file, 'round trip');
  protoStillClean();
});

test('ActivityBuffer.fromSnapshot: an untrusted file with __proto__ in an envelope gives data, not inheritance', () => {
  const file = '{"records":{"m":{"message_id":"m","direction":"in","envelope":{"message_id":"m",'
    + '"__proto__":{"state":4,"isAdmin":true,"payload":"x"}},"ts_ms":1,"ack_stage":0,"error_code":0,"ack_note":""}},'
    + '"order":["m"],"version":"1.0"}';
  const buffer = ActivityBuffer.fromSnapshot(JSON.parse(file));
  for (const record of [buffer.get('m'), buffer.recent()[0], buffer.reconcile()[0] ?? buffer.unacked()[0]]) {
    assertOrdinary(record, 'record');
    assert.equal(record.state, 0);
    assert.equal(record.envelope.state, undefined);
    assert.equal(record.envelope.isAdmin, undefined);
    assert.equal(record.envelope.payload, undefined);
    assertOwnProto(record.envelope, { state: 4, isAdmin: true, payload: 'x' }, 'loaded');
  }
  assertSameData(buffer.toSnapshot(), file);
  protoStillClean();
});

test('ActivityBuffer.fromSnapshot: a byte field named __proto__ comes back as an own Uint8Array property', () => {
  const file = '{"records":{"m":{"message_id":"m","direction":"in","envelope":{"message_id":"m",'
    + '"__proto__":"AQID","_bytes_fields":["__proto__"]},"ts_ms":1,"ack_stage":0,"error_code":0,"ack_note":""}},'
    + '"order":["m"],"version":"1.0"}';
  const envelope = ActivityBuffer.fromSnapshot(JSON.parse(file)).get('m').envelope;
  assert.equal(Object.getPrototypeOf(envelope), Object.prototype);
  const descriptor = Object.getOwnPropertyDescriptor(envelope, '__proto__');
  assert.ok(descriptor?.value instanceof Uint8Array);
  assert.deepEqual([...descriptor.value], [1, 2, 3]);
});

test('EventLog: append / query / read keep prototype keys as data', () => {
  for (const log of [new InMemoryEventLog(), new DisabledEventLog()]) {
    const appended = log.append('k', hostile());
    const events = log instanceof InMemoryEventLog
      ? [appended, log.query()[0], log.read().events[0]]
      : [appended];
    for (const event of events) {
      assertOrdinary(event, 'event');
      assert.equal(event.payload.isAdmin, undefined);
      assertOwnProto(event.payload, { isAdmin: true, state: 4, payload: 'inherited' }, 'payload');
      assertOwnProto(event.payload.meta, { x: 1 }, 'payload.meta');
      assertSameData(event.payload, HOSTILE);
    }
  }
  protoStillClean();
});

test('activity endpoint: JSON and SSE bodies carry prototype keys as data', async () => {
  const log = new InMemoryEventLog();
  log.append('k', hostile());
  const server = await serveFetch(activityHandler(log, { heartbeatMs: 60_000 }));
  try {
    const body = await (await fetch(`${server.url}/?since=0`)).json();
    assertSameData(body.events[0].payload, HOSTILE);
    const reader = sseReader((await fetch(server.url, { headers: { accept: 'text/event-stream' } })).body);
    let frame;
    while ((frame = await reader.next()).id === undefined);
    assertSameData(frame.data.payload, HOSTILE);
    await reader.cancel();
  } finally {
    await server.close();
  }
});

test('EventBuffer: add / drain / peek / drainByType return the payload objects unchanged', () => {
  const buffer = new EventBuffer();
  const payload = { type: 'actions', ...hostile() };
  buffer.add(payload);
  assert.equal(buffer.peek()[0], payload);
  assert.equal(buffer.drainByType({ summaries: false })[0], payload);
  buffer.add(payload);
  const [drained] = buffer.drain();
  assert.equal(drained, payload);
  assert.equal(Object.getPrototypeOf(drained), Object.prototype);
  assert.equal(JSON.stringify(drained), JSON.stringify(payload));
});

test('parsePayload / mergeActions: prototype keys are unknown fields, dropped without touching prototypes', () => {
  const parsed = parsePayload(JSON.parse('{"type":"actions","__proto__":{"session_id":"inherited"},'
    + '"actions":[{"index":0,"type":"click","__proto__":{"description":"inherited"}}]}'));
  assertOrdinary(parsed, 'parsed');
  assert.equal(parsed.session_id, null);
  assert.equal(parsed.actions[0].description, '');
  assert.equal(Object.hasOwn(parsed, '__proto__'), false);
  const merged = mergeActions([parsed, parsed]);
  assertOrdinary(merged, 'merged');
  protoStillClean();
});
