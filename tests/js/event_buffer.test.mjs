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

// Batched adds: `add` carries out a plan leased from the core and commits it later (see
// js/event_buffer.js). These tests interleave adds with everything that must see them, or
// that must end the plan, and compare with a plain-array model of the documented behaviour.

/** The documented behaviour, written plainly: a queue, drop-oldest, onDrop after the add. */
class ModelBuffer {
  items = [];
  droppedCount = 0;

  constructor({ maxSize = 1000, onDrop } = {}) {
    this.maxSize = maxSize;
    this.onDrop = onDrop;
  }

  add(payload) {
    this.items.push(payload);
    if (this.maxSize > 0 && this.items.length > this.maxSize) {
      this.droppedCount += 1;
      const dropped = this.items.shift();
      try {
        this.onDrop?.(dropped);
      } catch {
        // EventBuffer warns instead; the tests that care capture the warnings.
      }
    }
  }

  drain() {
    return this.items.splice(0);
  }

  drainByType({ actions = true, summaries = true } = {}) {
    const take = (p) => (p.type === 'actions' && actions) || (p.type === 'summary' && summaries);
    const taken = this.items.filter(take);
    this.items = this.items.filter((p) => !take(p));
    return taken;
  }

  peek(n) {
    return n === undefined ? [...this.items] : n === 0 ? [] : this.items.slice(-n);
  }

  clear() {
    return this.items.splice(0).length;
  }

  get size() {
    return this.items.length;
  }

  get isEmpty() {
    return this.items.length === 0;
  }
}

/** Deterministic pseudo-random integers in [0, bound). */
function random(seed) {
  let state = seed >>> 0;
  return (bound) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * bound);
  };
}

function assertSameState(buffer, model, context) {
  assert.deepEqual(ids(buffer.peek()), ids(model.items), `${context}: contents`);
  assert.equal(buffer.size, model.size, `${context}: size`);
  assert.equal(buffer.isEmpty, model.size === 0, `${context}: isEmpty`);
  assert.equal(buffer.droppedCount, model.droppedCount, `${context}: droppedCount`);
}

test('many adds in a row, across many leases, keep order and report every drop in order', () => {
  for (const maxSize of [0, 1, 7, 1000, 1500]) {
    const dropped = [];
    const buffer = new EventBuffer({ maxSize, onDrop: (p) => dropped.push(p.i) });
    for (let i = 0; i < 5000; i++) buffer.add(i % 3 ? action(i) : summary(i));
    const kept = maxSize === 0 ? 5000 : Math.min(maxSize, 5000);
    assert.deepEqual(dropped, Array.from({ length: 5000 - kept }, (_, i) => i), `maxSize ${maxSize}: drops`);
    assert.equal(buffer.droppedCount, 5000 - kept);
    assert.equal(buffer.size, kept);
    const summaries = buffer.drainByType({ actions: false });
    assert.ok(summaries.every((p) => p.type === 'summary' && p.i % 3 === 0), 'kinds survive the batching');
    const rest = buffer.drain();
    assert.equal(summaries.length + rest.length, kept);
    assert.deepEqual(ids(rest), ids(rest).toSorted((a, b) => a - b), 'the rest stay in order');
  }
});

test('getters between adds see every add, and the adds after them continue the plan', () => {
  for (const maxSize of [0, 1, 3, 50]) {
    const dropped = [];
    const buffer = new EventBuffer({ maxSize, onDrop: (p) => dropped.push(p.i) });
    const model = new ModelBuffer({ maxSize });
    for (let i = 0; i < 300; i++) {
      buffer.add(action(i));
      model.add(action(i));
      if (i % 7 === 0) assertSameState(buffer, model, `maxSize ${maxSize}, after add ${i}`);
      else if (i % 5 === 0) assert.equal(buffer.droppedCount, model.droppedCount);
      else if (i % 3 === 0) assert.equal(buffer.size, model.size);
    }
    assert.equal(dropped.length, model.droppedCount);
    assert.deepEqual(ids(buffer.drain()), ids(model.items));
  }
});

test('peek in the middle of a plan shows the adds so far and the later adds still drop in order', () => {
  const dropped = [];
  const buffer = new EventBuffer({ maxSize: 4, onDrop: (p) => dropped.push(p.i) });
  [0, 1, 2].forEach((i) => buffer.add(action(i)));
  assert.deepEqual(ids(buffer.peek()), [0, 1, 2]);
  assert.deepEqual(ids(buffer.peek(1)), [2]);
  [3, 4, 5].forEach((i) => buffer.add(action(i)));
  assert.deepEqual(dropped, [0, 1]);
  assert.deepEqual(ids(buffer.peek()), [2, 3, 4, 5]);
  buffer.add(action(6));
  assert.deepEqual(dropped, [0, 1, 2]);
  assert.deepEqual(ids(buffer.drain()), [3, 4, 5, 6]);
});

test('drainByType in the middle of a plan: later adds neither overwrite kept payloads nor drop the wrong one', () => {
  const dropped = [];
  const buffer = new EventBuffer({ maxSize: 5, onDrop: (p) => dropped.push(p.i) });
  const model = new ModelBuffer({ maxSize: 5 });
  const both = (p) => {
    buffer.add(p);
    model.add(p);
  };
  [action(0), summary(1), action(2), summary(3), action(4), summary(5)].forEach(both);
  assert.deepEqual(ids(buffer.drainByType({ actions: false })), ids(model.drainByType({ actions: false })));
  assert.deepEqual(ids(buffer.peek()), [2, 4]);
  for (let i = 6; i < 14; i++) both(i % 2 ? summary(i) : action(i));
  assert.deepEqual(dropped, [0, 2, 4, 6, 7, 8]);
  assertSameState(buffer, model, 'after drainByType and more adds');
  assert.deepEqual(ids(buffer.drainByType({ summaries: false })), ids(model.drainByType({ summaries: false })));
  assert.deepEqual(ids(buffer.drain()), ids(model.drain()));
});

test('clear in the middle of a plan, then adds: the bound counts from empty again', () => {
  const dropped = [];
  const buffer = new EventBuffer({ maxSize: 3, onDrop: (p) => dropped.push(p.i) });
  [0, 1].forEach((i) => buffer.add(action(i)));
  assert.equal(buffer.clear(), 2);
  for (let i = 2; i < 6; i++) buffer.add(action(i));
  assert.deepEqual(dropped, [2], 'only the add past the bound drops, and the oldest since the clear');
  assert.equal(buffer.droppedCount, 1);
  assert.deepEqual(ids(buffer.drain()), [3, 4, 5]);
  buffer.add(action(6));
  assert.equal(buffer.clear(), 1);
  assert.equal(buffer.isEmpty, true);
});

test('maxSize 1: every add after the first drops the previous payload', () => {
  const dropped = [];
  const buffer = new EventBuffer({ maxSize: 1, onDrop: (p) => dropped.push(p.i) });
  for (let i = 0; i < 3000; i++) {
    buffer.add(i % 2 ? summary(i) : action(i));
    if (i % 500 === 0) assert.deepEqual(ids(buffer.peek()), [i]);
  }
  assert.deepEqual(dropped, Array.from({ length: 2999 }, (_, i) => i));
  assert.equal(buffer.droppedCount, 2999);
  assert.deepEqual(ids(buffer.drainByType({ actions: false })), [2999]);
  assert.equal(buffer.isEmpty, true);
});

test('onDrop may add to the buffer it is called from', () => {
  const run = (Buffer) => {
    const log = [];
    const buffer = new Buffer({
      maxSize: 3,
      onDrop: (p) => {
        log.push(p.i);
        if (p.i < 1000 && p.i % 2 === 0) buffer.add(summary(p.i + 1000));
      },
    });
    for (let i = 0; i < 40; i++) buffer.add(action(i));
    return { log, contents: ids(buffer.peek()), droppedCount: buffer.droppedCount, buffer };
  };
  const real = run(EventBuffer);
  const model = run(ModelBuffer);
  assert.deepEqual(real.log, model.log);
  assert.deepEqual(real.contents, model.contents);
  assert.equal(real.droppedCount, model.droppedCount);
  assert.deepEqual(ids(real.buffer.drainByType({ actions: false })), ids(model.buffer.drainByType({ actions: false })));
});

test('onDrop may drain, peek, drainByType or clear the buffer it is called from', () => {
  const reentries = {
    drain: (b) => ids(b.drain()),
    peek: (b) => ids(b.peek(2)),
    drainByType: (b) => ids(b.drainByType({ actions: false })),
    clear: (b) => b.clear(),
    getters: (b) => [b.size, b.isEmpty, b.droppedCount, b.maxSize],
  };
  for (const [name, reenter] of Object.entries(reentries)) {
    const run = (Buffer) => {
      const seen = [];
      const buffer = new Buffer({
        maxSize: 4,
        onDrop: (p) => {
          if (p.i % 3 === 0) seen.push([p.i, reenter(buffer)]);
        },
      });
      for (let i = 0; i < 100; i++) buffer.add(i % 2 ? summary(i) : action(i));
      return { seen, contents: ids(buffer.drain()), droppedCount: buffer.droppedCount };
    };
    assert.deepEqual(run(EventBuffer), run(ModelBuffer), name);
  }
});

test('an onDrop that throws in the middle of a plan: warned, and the adds go on exactly', () => {
  let calls = 0;
  const buffer = new EventBuffer({
    maxSize: 2,
    onDrop: () => {
      calls += 1;
      throw new Error(`drop ${calls}`);
    },
  });
  const warnings = captureWarnings(() => {
    for (let i = 0; i < 500; i++) buffer.add(action(i));
  });
  assert.equal(calls, 498);
  assert.equal(buffer.droppedCount, 498);
  assert.ok(warnings.length >= 1 && warnings.length <= 2, `${warnings.length} warnings`);
  assert.equal(warnings[0][1].message, 'drop 1');
  assert.deepEqual(ids(buffer.drain()), [498, 499]);
});

test('without onDrop, the warning reports the exact running count in the middle of a plan', () => {
  const buffer = new EventBuffer({ maxSize: 2 });
  const warnings = captureWarnings(() => {
    for (let i = 0; i < 3; i++) buffer.add(action(i));
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0][0], /1 dropped in total/);
  buffer.add(action(3));
  assert.equal(buffer.droppedCount, 2);
  assert.deepEqual(ids(buffer.drain()), [2, 3]);
});

test('a payload whose type getter uses the buffer is added after what the getter did', () => {
  const buffer = new EventBuffer({ maxSize: 3, onDrop: () => {} });
  [0, 1].forEach((i) => buffer.add(action(i)));
  let drainedInGetter;
  const tricky = {
    i: 9,
    get type() {
      drainedInGetter = ids(buffer.drain());
      buffer.add(action(8));
      return 'summary';
    },
  };
  buffer.add(tricky);
  assert.deepEqual(drainedInGetter, [0, 1]);
  assert.deepEqual(ids(buffer.peek()), [8, 9]);
  assert.deepEqual(ids(buffer.drainByType({ actions: false })), [9], 'its kind is the one the getter returned');
  const throwing = { get type() { throw new Error('no type'); } };
  assert.throws(() => buffer.add(throwing), /no type/);
  assert.deepEqual(ids(buffer.peek()), [8], 'a throwing getter adds nothing');
});

test('adds carried out while another buffer grows wasm memory are committed with their kinds', async () => {
  const { wasmMemory } = await import('../../pkg/wasm/tidepool.js');
  const small = new EventBuffer({ maxSize: 0 });
  [action(0), summary(1), action(2)].forEach(small.add);
  const before = wasmMemory().buffer.byteLength;
  const big = new EventBuffer({ maxSize: 0 });
  const payload = action(-1);
  for (let i = 0; i < 3_000_000; i++) big.add(payload);
  assert.equal(big.size, 3_000_000);
  assert.ok(wasmMemory().buffer.byteLength > before, 'wasm memory grew, detaching earlier views of it');
  small.add(summary(3));
  assert.deepEqual(ids(small.drainByType({ actions: false })), [1, 3]);
  assert.deepEqual(ids(small.drain()), [0, 2]);
  assert.equal(big.drain().length, 3_000_000);
});

test('random interleavings of every operation, with re-entrant callbacks, match the model', () => {
  for (const maxSize of [0, 1, 2, 3, 17, 1000]) {
    const next = random(maxSize + 1);
    let serial = 0;
    const make = () => {
      serial += 1;
      const pick = next(5);
      return pick < 2 ? action(serial) : pick < 4 ? summary(serial) : { type: 'other', i: serial };
    };
    // The same callback decisions for both: drawn in advance, indexed by the dropped payload.
    const reentry = new Map();
    const onDropFor = (getBuffer) => (p) => {
      const what = reentry.get(p.i);
      if (what === 'add') getBuffer().add({ type: 'summary', i: -p.i });
      if (what === 'drain') getBuffer().drain();
      if (what === 'size') getBuffer().size;
    };
    let buffer;
    let model;
    buffer = new EventBuffer({ maxSize, onDrop: onDropFor(() => buffer) });
    model = new ModelBuffer({ maxSize, onDrop: onDropFor(() => model) });
    for (let step = 0; step < 6000; step++) {
      const op = next(100);
      const context = `maxSize ${maxSize}, step ${step}`;
      if (op < 70) {
        const runLength = 1 + next(op < 10 ? 300 : 5);
        for (let k = 0; k < runLength; k++) {
          const p = make();
          const r = next(50);
          if (r === 0) reentry.set(p.i, 'add');
          else if (r === 1) reentry.set(p.i, 'drain');
          else if (r === 2) reentry.set(p.i, 'size');
          buffer.add(p);
          model.add(p);
        }
      } else if (op < 75) {
        assert.deepEqual(ids(buffer.drain()), ids(model.drain()), context);
      } else if (op < 82) {
        const flags = [{}, { actions: false }, { summaries: false }, { actions: false, summaries: false }][next(4)];
        assert.deepEqual(ids(buffer.drainByType(flags)), ids(model.drainByType(flags)), context);
      } else if (op < 90) {
        const n = next(4) === 0 ? undefined : next(6);
        assert.deepEqual(ids(buffer.peek(n)), ids(model.peek(n)), context);
      } else if (op < 92) {
        assert.equal(buffer.clear(), model.clear(), context);
      } else {
        assert.equal(buffer.size, model.size, context);
        assert.equal(buffer.droppedCount, model.droppedCount, context);
      }
    }
    assertSameState(buffer, model, `maxSize ${maxSize}, at the end`);
  }
});
