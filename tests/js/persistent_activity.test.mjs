// PersistentActivityBuffer on MemoryPersistence (and on backends built here to fail on
// purpose): what a flush writes, reopening, failed flushes, load failures, the lifecycle.
// Each bad input asserts the error and that nothing changed in memory or in storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  PersistentActivityBuffer, MemoryPersistence, ActivityBuffer, PersistenceError, StoreLoadError,
  ActivityBufferLoadError, SnapshotError, TidepoolError, AckStage,
} from '../../pkg/entry/node.js';

const fixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
const env = (id, extra = {}) => ({ message_id: id, idempotency_token: `tok-${id}`, payload: new TextEncoder().encode(id), ...extra });

/** A MemoryPersistence that keeps every ChangeSet it was given and can be told to fail saves. */
class RecordingPersistence extends MemoryPersistence {
  saved = [];
  failNext = 0;
  failWith = () => new Error('injected failure');
  /** When set, a save waits for this promise before applying or failing. */
  gate = null;

  async save(changes) {
    if (this.gate) await this.gate;
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw this.failWith();
    }
    await super.save(changes);
    this.saved.push(structuredClone(changes));
  }
}

/** What a store holds, as a snapshot (fresh buffer opened on a copy of it). */
async function storedSnapshot(persistence, options = {}) {
  const copy = new MemoryPersistence();
  const { records } = await persistence.load();
  await copy.save({ clear: true, remove: [], put: records });
  const reopened = await PersistentActivityBuffer.open({ persistence: copy, maxItems: 100_000, ...options });
  const snapshot = reopened.exportSnapshot();
  await reopened.close();
  return snapshot;
}

test('close and reopen: records, order, stages, notes, bytes, token index and dedup survive', async () => {
  const persistence = new MemoryPersistence();
  let t = 1_000;
  const now = () => t;
  const a = await PersistentActivityBuffer.open({ persistence, maxItems: 10, dedupWindowS: 60, now });
  for (let i = 0; i < 6; i++) a.recordOutgoing(env(`m${i}`));
  a.recordIncoming(env('in1', { state: 6 }));
  a.ack({ ack_for_message_id: 'm2', ack_stage: AckStage.FULFILLED, error_code: 0, note: 'done' });
  a.ack({ ack_for_message_id: 'm3', ack_stage: AckStage.RECEIVED });
  a.updateState('m4', 4);
  a.recordOutgoing(env('m1', { correlation_id: 'c1' }));  // re-recorded: keeps its position
  t = 2_000;
  const before = a.exportSnapshot();
  const unacked = a.reconcile().map((r) => r.message_id);
  await a.close();

  const b = await PersistentActivityBuffer.open({ persistence, maxItems: 10, dedupWindowS: 60, now });
  assert.deepEqual(b.exportSnapshot(), before);
  assert.deepEqual(b.reconcile().map((r) => r.message_id), unacked);
  assert.equal(b.get('m2').ack_note, 'done');
  assert.deepEqual(b.get('m0').envelope.payload, new TextEncoder().encode('m0'));
  assert.equal(b.checkDuplicate({ message_id: 'x', idempotency_token: 'tok-in1' }).status, 'duplicate');
  assert.equal(b.checkDuplicate({ message_id: 'x', idempotency_token: 'tok-m3' }).status, 'in_progress');
  t = 1_000 + 61_000;
  assert.equal(b.getByIdempotencyToken('tok-m0'), undefined, 'the dedup window still applies to loaded records');
  await b.close();
});

test('a flush writes only what changed: puts, removals of evicted records, in order', async () => {
  const persistence = new RecordingPersistence();
  const buffer = await PersistentActivityBuffer.open({ persistence, maxItems: 1000, now: () => 5 });
  for (let i = 0; i < 1000; i++) buffer.recordOutgoing(env(`m${i}`));
  await buffer.flush();
  assert.equal(persistence.saved.length, 1);
  assert.equal(persistence.saved[0].put.length, 1000);
  assert.deepEqual(persistence.saved[0].put.slice(0, 3).map(([key]) => key), ['m0', 'm1', 'm2']);

  for (let i = 0; i < 50; i++) buffer.ack({ ack_for_message_id: 'm500', ack_stage: 1 });
  buffer.updateState('m7', 2);
  buffer.recordOutgoing(env('new1'));  // evicts m0
  await buffer.flush();
  const second = persistence.saved[1];
  assert.equal(second.clear, false);
  assert.deepEqual(second.put.map(([key]) => key), ['m7', 'm500', 'new1'], 'changed records once each, oldest first');
  assert.deepEqual(second.remove, ['m0']);
  assert.equal(second.put[1][1].ack_stage, 1);
  assert.equal(second.put[2][1].envelope._payload_is_b64, true, 'records are stored in the reference file format');

  // Nothing changed: no save at all.
  await buffer.flush();
  assert.equal(persistence.saved.length, 2);

  // Evicted, then recorded again before the flush: deleted, then written at the end.
  buffer.recordOutgoing(env('m1'));  // resident: replaced in place
  for (let i = 0; i < 1000; i++) buffer.recordOutgoing(env(`n${i}`));  // evicts everything else
  buffer.recordOutgoing(env('m1'));
  await buffer.flush();
  assert.deepEqual(await storedSnapshot(persistence), buffer.exportSnapshot());
  assert.equal(buffer.exportSnapshot().order.at(-1), 'm1');
  await buffer.close();
});

test('a failing flush rejects with a typed error, changes nothing stored, and the next flush saves everything', async () => {
  const persistence = new RecordingPersistence();
  const buffer = await PersistentActivityBuffer.open({ persistence, maxItems: 5, now: () => 1 });
  for (let i = 0; i < 4; i++) buffer.recordOutgoing(env(`m${i}`));
  await buffer.flush();
  const stored = await storedSnapshot(persistence);

  buffer.ack({ ack_for_message_id: 'm1', ack_stage: 2 });
  buffer.recordOutgoing(env('m4'));
  buffer.recordOutgoing(env('m5'));  // evicts m0
  persistence.failNext = 1;
  const quota = new PersistenceError('quota', { code: 'QUOTA_EXCEEDED', operation: 'save' });
  persistence.failWith = () => quota;
  await assert.rejects(buffer.flush(), (e) => e === quota);
  assert.deepEqual(await storedSnapshot(persistence), stored, 'nothing was written');

  persistence.failNext = 1;
  persistence.failWith = () => new Error('disk on fire');
  await assert.rejects(buffer.flush(), (e) => e instanceof PersistenceError && e.code === 'WRITE_FAILED' && e.cause.message === 'disk on fire');
  assert.deepEqual(await storedSnapshot(persistence), stored);

  buffer.ack({ ack_for_message_id: 'm2', ack_stage: 3 });
  await buffer.flush();
  assert.deepEqual(await storedSnapshot(persistence), buffer.exportSnapshot(), 'the retry saved the failed changes too');
  await buffer.close();
});

test('changes made while a flush is in flight are kept whether it fails or succeeds', async () => {
  for (const fail of [true, false]) {
    const persistence = new RecordingPersistence();
    const buffer = await PersistentActivityBuffer.open({ persistence, maxItems: 3, now: () => 1 });
    for (let i = 0; i < 3; i++) buffer.recordOutgoing(env(`m${i}`));
    let open;
    persistence.gate = new Promise((resolve) => { open = resolve; });
    persistence.failNext = fail ? 1 : 0;
    const flushing = buffer.flush();
    // In flight: m0 changed again, m1 evicted and recorded again, m2 evicted for good, a clear-free mix.
    buffer.ack({ ack_for_message_id: 'm0', ack_stage: 3 });
    buffer.recordOutgoing(env('x1'));  // evicts m0
    buffer.recordOutgoing(env('m0'));  // evicts m1
    buffer.recordOutgoing(env('x2'));  // evicts m2
    open();
    if (fail) await assert.rejects(flushing, PersistenceError);
    else await flushing;
    persistence.gate = null;
    await buffer.flush();
    assert.deepEqual(await storedSnapshot(persistence), buffer.exportSnapshot(), `fail=${fail}`);
    await buffer.close();
  }
});

test('clear() empties memory at once and storage with its flush; a failed clear is retried', async () => {
  const persistence = new RecordingPersistence();
  const buffer = await PersistentActivityBuffer.open({ persistence, now: () => 1 });
  for (let i = 0; i < 10; i++) buffer.recordOutgoing(env(`m${i}`));
  await buffer.flush();
  persistence.failNext = 1;
  await assert.rejects(buffer.clear(), PersistenceError);
  assert.equal(buffer.size, 0);
  assert.equal(persistence.size, 10, 'storage unchanged by the failed clear');
  buffer.recordOutgoing(env('after'));
  await buffer.flush();
  assert.equal(persistence.size, 1);
  assert.deepEqual((await persistence.load()).records.map(([key]) => key), ['after']);
  assert.equal(persistence.saved.at(-1).clear, true);
  buffer.clear();  // not awaited: no unhandled rejection even if it failed; close flushes it
  await buffer.close();
  assert.equal(persistence.size, 0);
});

test('random operations with random failed flushes: after every successful flush the store reopens to the same buffer', async () => {
  let seed = 42;
  const random = (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (const strategy of ['fifo', 'lifo', 'settled-first', { random: { seed: 7 } }]) {
    const persistence = new RecordingPersistence();
    let t = 0;
    const buffer = await PersistentActivityBuffer.open({ persistence, maxItems: 20, strategy, now: () => t });
    for (let step = 0; step < 600; step++) {
      t += 1;
      const id = `m${random(40)}`;
      const op = random(100);
      if (op < 45) buffer.recordOutgoing(env(id, { state: random(8) }));
      else if (op < 60) buffer.recordIncoming(env(id));
      else if (op < 80) buffer.ack({ ack_for_message_id: id, ack_stage: random(7), note: `n${step}` });
      else if (op < 88) buffer.updateState(id, random(8));
      else if (op < 90) buffer.clear();
      else {
        persistence.failNext = random(3) === 0 ? 1 : 0;
        try {
          await buffer.flush();
          assert.deepEqual(await storedSnapshot(persistence), buffer.exportSnapshot(), `${JSON.stringify(strategy)} step ${step}`);
        } catch (error) {
          assert.ok(error instanceof PersistenceError, String(error));
        }
      }
    }
    persistence.failNext = 0;
    const final = buffer.exportSnapshot();
    await buffer.close();
    assert.deepEqual(await storedSnapshot(persistence), final);
  }
});

test('stored records that fail validation: raise rejects naming the problem; empty runs degraded until clear()', async () => {
  const persistence = new MemoryPersistence();
  const good = await PersistentActivityBuffer.open({ persistence, now: () => 1 });
  good.recordOutgoing(env('a'));
  good.recordOutgoing(env('b'));
  await good.close();
  const { records } = await persistence.load();
  records[1][1].ts_ms = 'yesterday';
  await persistence.save({ clear: true, remove: [], put: records });
  const corrupt = await persistence.load();

  await assert.rejects(PersistentActivityBuffer.open({ persistence }), (e) =>
    e instanceof ActivityBufferLoadError && e instanceof TidepoolError && e.code === 'ACTIVITY_BUFFER_LOAD_FAILED' &&
    e.path === 'records["b"].ts_ms' && e.cause instanceof SnapshotError && /ts_ms/.test(e.message));
  assert.deepEqual(await persistence.load(), corrupt, 'raise leaves storage as it was');

  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args.join(' '));
  let degraded;
  try {
    degraded = await PersistentActivityBuffer.open({ persistence, loadFailureMode: 'empty', now: () => 1 });
  } finally {
    console.warn = warn;
  }
  assert.equal(degraded.degraded, true);
  assert.equal(degraded.size, 0);
  assert.match(warnings.join('\n'), /degraded/);
  degraded.recordOutgoing(env('c'));
  await degraded.flush();
  assert.deepEqual(await persistence.load(), corrupt, 'degraded: the stored data stays in place');
  await degraded.clear();
  assert.equal(degraded.degraded, false);
  assert.deepEqual((await persistence.load()).records, [], 'clear() removed the stored data');
  degraded.recordOutgoing(env('d'));
  await degraded.close();
  const reopened = await PersistentActivityBuffer.open({ persistence });
  assert.deepEqual(reopened.recent().map((r) => r.message_id), ['d']);
  await reopened.close();
});

test('more stored records than maxItems, a record under the wrong key, an unreadable store', async () => {
  const persistence = new MemoryPersistence();
  const buffer = await PersistentActivityBuffer.open({ persistence, now: () => 1 });
  for (let i = 0; i < 5; i++) buffer.recordOutgoing(env(`m${i}`));
  await buffer.close();
  await assert.rejects(PersistentActivityBuffer.open({ persistence, maxItems: 4 }),
    (e) => e instanceof ActivityBufferLoadError && e.cause.code === 'BUFFER_FULL');

  const wrongKey = new MemoryPersistence();
  await wrongKey.save({ clear: false, remove: [], put: [['other', (await persistence.load()).records[0][1]]] });
  await assert.rejects(PersistentActivityBuffer.open({ persistence: wrongKey }),
    (e) => e instanceof ActivityBufferLoadError && e.path.startsWith('records["other"]'));

  const failing = { load: async () => { throw new Error('no such thing'); }, save: async () => {}, close: async () => {} };
  await assert.rejects(PersistentActivityBuffer.open({ persistence: failing }),
    (e) => e instanceof StoreLoadError && e.code === 'STORE_LOAD_FAILED' && e.cause.message === 'no such thing');
  const malformed = { load: async () => ({ rows: [] }), save: async () => {}, close: async () => {} };
  await assert.rejects(PersistentActivityBuffer.open({ persistence: malformed }), StoreLoadError);
});

test('bad options are refused before any I/O', async () => {
  let loads = 0;
  const persistence = new (class extends MemoryPersistence {
    async load() {
      loads += 1;
      return super.load();
    }
  })();
  const cases = [
    [undefined, TypeError],
    [{}, TypeError],
    [{ persistence: { load() {} } }, TypeError],
    [{ persistence, loadFailureMode: 'ignore' }, TypeError],
    [{ persistence, ifLocked: 'steal' }, TypeError],
    [{ persistence, autoFlushMs: -1 }, RangeError],
    [{ persistence, autoFlushMs: '100' }, TypeError],
    [{ persistence, onFlushError: 'log' }, TypeError],
    [{ persistence, maxItems: 0 }, RangeError],
    [{ persistence, strategy: 'newest' }, TypeError],
    [{ persistence, maxitems: 5 }, TypeError],
  ];
  for (const [options, expected] of cases) {
    await assert.rejects(PersistentActivityBuffer.open(options), expected, JSON.stringify(options));
  }
  assert.equal(loads, 0);
  assert.throws(() => new PersistentActivityBuffer({ persistence }), TypeError);
});

test('after close: changes throw CLOSED, flush rejects, reads still work; close flushes first', async () => {
  const persistence = new RecordingPersistence();
  const buffer = await PersistentActivityBuffer.open({ persistence, now: () => 1 });
  buffer.recordOutgoing(env('a'));
  persistence.failNext = 1;
  await assert.rejects(buffer.close(), PersistenceError);
  assert.equal(buffer.closed, false, 'a close whose flush failed leaves the buffer open');
  await buffer.close();
  assert.equal(buffer.closed, true);
  assert.equal(persistence.size, 1);
  const closed = (e) => e instanceof PersistenceError && e.code === 'CLOSED';
  assert.throws(() => buffer.recordOutgoing(env('b')), closed);
  assert.throws(() => buffer.recordIncoming(env('b')), closed);
  assert.throws(() => buffer.ack({ ack_for_message_id: 'a', ack_stage: 1 }), closed);
  assert.throws(() => buffer.updateState('a', 1), closed);
  assert.throws(() => buffer.clear(), closed);
  await assert.rejects(buffer.flush(), closed);
  assert.equal(buffer.size, 1);
  assert.equal(buffer.get('a').ack_stage, 0);
  await buffer.close();  // idempotent
  if (typeof Symbol.asyncDispose === 'symbol') assert.equal(typeof buffer[Symbol.asyncDispose], 'function');
});

test('autoFlushMs saves without an explicit flush; failures go to onFlushError and are retried', async () => {
  const persistence = new RecordingPersistence();
  const errors = [];
  const buffer = await PersistentActivityBuffer.open({ persistence, autoFlushMs: 5, onFlushError: (e) => errors.push(e), now: () => 1 });
  persistence.failNext = 1;
  buffer.recordOutgoing(env('a'));
  while (persistence.size === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'WRITE_FAILED');
  assert.deepEqual((await persistence.load()).records.map(([key]) => key), ['a']);
  await buffer.close();
});

test('importSnapshot replaces everything and the next flush rewrites the store; exportSnapshot is the reference format', async () => {
  const persistence = new RecordingPersistence();
  const buffer = await PersistentActivityBuffer.open({ persistence, now: () => 1 });
  buffer.recordOutgoing(env('old'));
  await buffer.flush();
  const reference = fixture('activity_reference_snapshot.json');
  assert.throws(() => buffer.importSnapshot({ ...reference, version: '2.0' }), SnapshotError);
  assert.deepEqual(buffer.recent().map((r) => r.message_id), ['old'], 'a bad snapshot changes nothing');
  buffer.importSnapshot(reference);
  await buffer.flush();
  assert.equal(persistence.saved.at(-1).clear, true);
  const expected = ActivityBuffer.fromSnapshot(reference).toSnapshot();
  assert.deepEqual(buffer.exportSnapshot(), expected);
  assert.deepEqual(await storedSnapshot(persistence), expected);
  await buffer.close();
});

test('MemoryPersistence: a malformed ChangeSet or an uncloneable value is refused whole', async () => {
  const persistence = new MemoryPersistence();
  await persistence.save({ clear: false, remove: [], put: [['a', { v: 1 }]], meta: { n: 1 } });
  const before = await persistence.load();
  for (const bad of [null, {}, { clear: 'no', remove: [], put: [] }, { clear: false, remove: [1], put: [] },
    { clear: false, remove: [], put: [['k']] }, { clear: false, remove: [], put: [], meta: [] }]) {
    await assert.rejects(persistence.save(bad), TypeError);
  }
  await assert.rejects(persistence.save({ clear: true, remove: [], put: [['b', { f() {} }]] }));
  assert.deepEqual(await persistence.load(), before);
  assert.deepEqual(before, { records: [['a', { v: 1 }]], meta: { n: 1 } });
  assert.throws(() => new MemoryPersistence({ lockName: 3 }), TypeError);
});
