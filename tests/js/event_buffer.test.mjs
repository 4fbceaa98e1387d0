// EventBuffer in Node, against the built package: every behaviour and bad input of issue 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBuffer } from '../../pkg/entry/node.js';

const action = (i) => ({ type: 'actions', session_id: `s${i}`, actions: [], i });
const summary = (i) => ({ type: 'summary', session_id: `s${i}`, summary: 'x', i });
const ids = (payloads) => payloads.map((p) => p.i);

/** Runs `fn` with console.warn captured; returns the captured calls. */
function captureWarnings(fn) {
  const calls = [];
  const original = console.warn;
  console.warn = (...args) => calls.push(args);
  try {
    fn();
  } finally {
    console.warn = original;
  }
  return calls;
}

test('defaults: maxSize 1000, empty', () => {
  const buffer = new EventBuffer();
  assert.equal(buffer.maxSize, 1000);
  assert.equal(buffer.size, 0);
  assert.equal(buffer.isEmpty, true);
  assert.equal(buffer.droppedCount, 0);
  assert.deepEqual(buffer.drain(), []);
});

test('drain returns payloads in arrival order, the same objects, and empties the buffer', () => {
  const buffer = new EventBuffer({ maxSize: 10 });
  const payloads = [action(0), summary(1), action(2)];
  payloads.forEach((p) => buffer.add(p));
  assert.equal(buffer.size, 3);
  const drained = buffer.drain();
  assert.deepEqual(ids(drained), [0, 1, 2]);
  drained.forEach((p, i) => assert.equal(p, payloads[i], 'identity is kept, no copy'));
  assert.equal(buffer.isEmpty, true);
  assert.deepEqual(buffer.drain(), []);
});

test('when full, the oldest is dropped and passed to onDrop, in order', () => {
  const dropped = [];
  const buffer = new EventBuffer({ maxSize: 3, onDrop: (p) => dropped.push(p) });
  for (let i = 0; i < 10; i++) buffer.add(action(i));
  assert.deepEqual(ids(dropped), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(buffer.droppedCount, 7);
  assert.equal(buffer.size, 3);
  assert.deepEqual(ids(buffer.drain()), [7, 8, 9]);
});

test('the bound holds across drains, partial drains and clears', () => {
  const dropped = [];
  const buffer = new EventBuffer({ maxSize: 4, onDrop: (p) => dropped.push(p.i) });
  let next = 0;
  const model = [];
  const add = (make) => {
    const p = make(next++);
    buffer.add(p);
    model.push(p.i);
    if (model.length > 4) assert.equal(dropped.at(-1), model.shift());
  };
  for (let round = 0; round < 50; round++) {
    for (let k = 0; k < (round % 7) + 1; k++) add(k % 2 ? action : summary);
    if (round % 5 === 0) {
      const summaries = buffer.drainByType({ actions: false });
      const kept = [];
      for (const i of model) (summaries.some((p) => p.i === i) ? null : kept.push(i));
      model.length = 0;
      model.push(...kept);
    }
    if (round % 11 === 0) {
      assert.deepEqual(ids(buffer.drain()), model);
      model.length = 0;
    }
    assert.deepEqual(ids(buffer.peek()), model, `round ${round}`);
    assert.equal(buffer.size, model.length);
  }
  assert.equal(buffer.droppedCount, dropped.length);
});

test('maxSize 0 is unlimited', () => {
  const buffer = new EventBuffer({ maxSize: 0 });
  for (let i = 0; i < 5000; i++) buffer.add(action(i));
  assert.equal(buffer.size, 5000);
  assert.equal(buffer.maxSize, 0);
  assert.equal(buffer.droppedCount, 0);
  const drained = buffer.drain();
  assert.equal(drained.length, 5000);
  assert.equal(drained[4999].i, 4999);
});

test('add is bound: it works detached, as a callback', () => {
  const buffer = new EventBuffer();
  const client = { handlers: [], onActions(fn) { this.handlers.push(fn); return this; } };
  client.onActions(buffer.add);
  client.handlers[0](action(1));
  const { add } = buffer;
  add(action(2));
  assert.deepEqual(ids(buffer.drain()), [1, 2]);
});

test('peek returns the newest n, oldest first, and changes nothing', () => {
  const buffer = new EventBuffer();
  for (let i = 0; i < 5; i++) buffer.add(action(i));
  assert.deepEqual(ids(buffer.peek(2)), [3, 4]);
  assert.deepEqual(ids(buffer.peek()), [0, 1, 2, 3, 4]);
  assert.deepEqual(ids(buffer.peek(null)), [0, 1, 2, 3, 4]);
  assert.deepEqual(buffer.peek(0), []);
  assert.deepEqual(ids(buffer.peek(99)), [0, 1, 2, 3, 4]);
  assert.equal(buffer.size, 5);
});

test('drainByType drains the selected types and keeps the rest in order', () => {
  const fill = () => {
    const buffer = new EventBuffer();
    [action(0), summary(1), { type: 'other', i: 2 }, action(3), summary(4), { i: 5 }].forEach(buffer.add);
    return buffer;
  };
  let buffer = fill();
  assert.deepEqual(ids(buffer.drainByType({ actions: false })), [1, 4]);
  assert.deepEqual(ids(buffer.drain()), [0, 2, 3, 5]);
  buffer = fill();
  assert.deepEqual(ids(buffer.drainByType({ summaries: false })), [0, 3]);
  assert.deepEqual(ids(buffer.peek()), [1, 2, 4, 5]);
  buffer = fill();
  assert.deepEqual(ids(buffer.drainByType()), [0, 1, 3, 4], 'untyped payloads are never drained by type');
  assert.deepEqual(ids(buffer.peek()), [2, 5]);
  assert.deepEqual(buffer.drainByType({ actions: false, summaries: false }), []);
  assert.equal(buffer.size, 2);
});

test('slots freed by drainByType are reused without mixing payloads up', () => {
  const buffer = new EventBuffer({ maxSize: 3, onDrop: () => {} });
  [action(0), summary(1), action(2)].forEach(buffer.add);
  buffer.drainByType({ actions: false });
  buffer.add(summary(3));
  buffer.add(action(4));
  assert.deepEqual(ids(buffer.peek()), [2, 3, 4]);
  buffer.add(action(5));
  assert.deepEqual(ids(buffer.drain()), [3, 4, 5]);
});

test('clear discards everything, returns the count, and is not a drop', () => {
  const buffer = new EventBuffer({ maxSize: 2, onDrop: () => {} });
  [action(0), action(1), action(2)].forEach(buffer.add);
  assert.equal(buffer.clear(), 2);
  assert.equal(buffer.size, 0);
  assert.equal(buffer.droppedCount, 1);
  buffer.add(action(3));
  assert.deepEqual(ids(buffer.drain()), [3]);
});

test('an exception from onDrop is caught, warned, and add still completes', () => {
  const buffer = new EventBuffer({ maxSize: 1, onDrop: () => { throw new Error('boom'); } });
  buffer.add(action(0));
  const warnings = captureWarnings(() => buffer.add(action(1)));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0][0], /onDrop callback threw/);
  assert.equal(warnings[0][1].message, 'boom');
  assert.deepEqual(ids(buffer.peek()), [1]);
  assert.equal(buffer.droppedCount, 1);
});

test('without onDrop, drops are warned without flooding', () => {
  const buffer = new EventBuffer({ maxSize: 2 });
  const warnings = captureWarnings(() => {
    for (let i = 0; i < 10_000; i++) buffer.add(action(i));
  });
  assert.equal(buffer.droppedCount, 9_998);
  assert.ok(warnings.length >= 1 && warnings.length <= 2, `${warnings.length} warnings for 9998 drops`);
  assert.match(warnings[0][0], /EventBuffer full \(maxSize=2\)/);
});

test('bad maxSize: RangeError for negative or fractional, TypeError for non-numbers', () => {
  for (const maxSize of [-1, 1.5, NaN, Infinity, 2 ** 40]) {
    assert.throws(() => new EventBuffer({ maxSize }), RangeError, String(maxSize));
  }
  for (const maxSize of ['10', true, {}]) {
    assert.throws(() => new EventBuffer({ maxSize }), TypeError, String(maxSize));
  }
  assert.throws(() => new EventBuffer({ maxSize: -1 }), /maxSize must be a non-negative integer, got -1/);
  assert.equal(new EventBuffer({ maxSize: undefined }).maxSize, 1000);
});

test('bad options and onDrop are TypeErrors', () => {
  assert.throws(() => new EventBuffer(null), TypeError);
  assert.throws(() => new EventBuffer(5), TypeError);
  assert.throws(() => new EventBuffer({ onDrop: 'log' }), /onDrop must be a function/);
});

test('add of a non-object is a TypeError and changes nothing', () => {
  const dropped = [];
  const buffer = new EventBuffer({ maxSize: 2, onDrop: (p) => dropped.push(p) });
  buffer.add(action(0));
  buffer.add(action(1));
  for (const bad of [null, undefined, 0, 'payload', true, Symbol('s'), () => {}, [action(9)]]) {
    assert.throws(() => buffer.add(bad), TypeError);
  }
  assert.deepEqual(ids(buffer.peek()), [0, 1]);
  assert.equal(buffer.droppedCount, 0);
  assert.deepEqual(dropped, []);
});

test('bad peek and drainByType arguments throw and change nothing', () => {
  const buffer = new EventBuffer();
  [action(0), summary(1)].forEach(buffer.add);
  assert.throws(() => buffer.peek(-1), RangeError);
  assert.throws(() => buffer.peek(1.5), RangeError);
  assert.throws(() => buffer.peek('2'), TypeError);
  assert.throws(() => buffer.drainByType({ actions: 'no' }), /actions must be a boolean/);
  assert.throws(() => buffer.drainByType(null), TypeError);
  assert.deepEqual(ids(buffer.peek()), [0, 1]);
});
