// Conformance checks of EventBuffer and the payload functions.
import { assert, assertEqual, assertThrows } from './assert.mjs';

const action = (i) => ({ type: 'actions', session_id: `s${i}`, actions: [], count: 0, i });
const summary = (i) => ({ type: 'summary', session_id: `s${i}`, summary: `sum ${i}`, i });
const ids = (payloads) => payloads.map((p) => p.i);

export const eventBufferChecks = {
  'module is ready without an init call'(tp) {
    assert(typeof tp.EventBuffer === 'function', 'EventBuffer exported');
    assert(tp.ready instanceof Promise && typeof tp.init === 'function', 'ready and init exported');
    new tp.EventBuffer().add(action(0));
  },
  async 'init is idempotent'(tp) {
    await tp.init();
    await tp.init();
    await tp.ready;
  },
  'drop oldest when full, reported to onDrop'(tp) {
    const dropped = [];
    const buffer = new tp.EventBuffer({ maxSize: 3, onDrop: (p) => dropped.push(p) });
    for (let i = 0; i < 5; i++) buffer.add(action(i));
    assertEqual(ids(dropped), [0, 1], 'dropped');
    assertEqual(buffer.droppedCount, 2, 'droppedCount');
    assertEqual(ids(buffer.drain()), [2, 3, 4], 'drain');
    assert(buffer.isEmpty && buffer.size === 0, 'empty after drain');
  },
  'batched adds: drops in order across leases, exact while another buffer grows memory'(tp) {
    const dropped = [];
    const bounded = new tp.EventBuffer({ maxSize: 100, onDrop: (p) => dropped.push(p.i) });
    for (let i = 0; i < 3000; i++) bounded.add(i % 2 ? summary(i) : action(i));
    assertEqual([dropped.length, dropped[0], dropped.at(-1)], [2900, 0, 2899], 'drops');
    assertEqual(bounded.drainByType({ actions: false }).length, 50, 'kinds');
    const small = new tp.EventBuffer({ maxSize: 0 });
    [action(0), summary(1)].forEach(small.add);
    const big = new tp.EventBuffer({ maxSize: 0 });
    const payload = action(-1);
    for (let i = 0; i < 500_000; i++) big.add(payload);
    small.add(summary(2));
    assertEqual(ids(small.drainByType({ actions: false })), [1, 2], 'pending kinds committed');
    assertEqual([big.size, ids(small.drain())], [500_000, [0]], 'sizes');
  },
  'add is bound'(tp) {
    const buffer = new tp.EventBuffer();
    const subscribe = (callback) => callback(summary(7));
    subscribe(buffer.add);
    assertEqual(ids(buffer.peek()), [7], 'peek after bound add');
  },
  'drainByType keeps the rest in order'(tp) {
    const buffer = new tp.EventBuffer();
    [action(0), summary(1), action(2), summary(3)].forEach(buffer.add);
    assertEqual(ids(buffer.drainByType({ actions: false })), [1, 3], 'summaries');
    assertEqual(ids(buffer.drain()), [0, 2], 'rest');
  },
  'bad input is rejected and changes nothing'(tp) {
    assertThrows(() => new tp.EventBuffer({ maxSize: -1 }), RangeError, 'negative maxSize');
    assertThrows(() => new tp.EventBuffer({ maxSize: 1.5 }), RangeError, 'fractional maxSize');
    const buffer = new tp.EventBuffer({ maxSize: 2 });
    buffer.add(action(0));
    for (const bad of [null, undefined, 42, 'x']) {
      assertThrows(() => buffer.add(bad), TypeError, `add(${String(bad)})`);
    }
    assertEqual(ids(buffer.peek()), [0], 'unchanged');
  },
  'parsePayload normalises and throws PayloadError'(tp) {
    const parsed = tp.parsePayload({ type: 'actions', user_id: '', actions: [{ index: 0 }], count: 9 });
    assertEqual([parsed.count, parsed.user_id], [1, null], 'normalised');
    const error = assertThrows(
      () => tp.parsePayload({ type: 'actions', actions: [{ index: 'x' }] }),
      tp.PayloadError,
      'bad index',
    );
    assert(error instanceof tp.TidepoolError && error instanceof Error, 'error hierarchy');
    assertEqual([error.code, error.field], ['INVALID_PAYLOAD', 'actions[0].index'], 'error fields');
  },
  'toText uses the reference format'(tp) {
    const text = tp.toText({
      type: 'actions',
      session_id: null,
      actions: [{ index: 0, type: 'click', description: 'Clicked Export', canonical_url: 'https://a.example/x' }],
    });
    assertEqual(text, 'Session unknown — 1 actions\n[0] click: Clicked Export — https://a.example/x', 'text');
  },
};

