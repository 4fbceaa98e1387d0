// IndexedDBPersistence in Node on fake-indexeddb (the in-memory IndexedDB implementation),
// under PersistentActivityBuffer: reopening, what a flush writes, a quota failure, a schema
// upgrade by a newer version while this connection is open.
import 'fake-indexeddb/auto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDB } from 'idb';
import { PersistentActivityBuffer, PersistenceError, StoreLoadError } from '../../pkg/entry/node.js';
import { IndexedDBPersistence } from '../../pkg/persistence/indexeddb.js';

const env = (id, extra = {}) => ({ message_id: id, idempotency_token: `tok-${id}`, payload: new TextEncoder().encode(id), ...extra });
let databases = 0;
const freshName = () => `tidepool-test-${process.pid}-${databases++}`;

/** The records stored in database `name`, as [key, { seq, value }] by key. */
async function rows(name) {
  const db = await openDB(name);
  const keys = await db.getAllKeys('records');
  const values = await db.getAll('records');
  db.close();
  return keys.map((key, i) => [key, values[i]]);
}

test('persist, close, reopen: the same buffer; re-recorded ids keep their place, evicted ones go', async () => {
  const name = freshName();
  const a = await PersistentActivityBuffer.open({ persistence: new IndexedDBPersistence({ name }), maxItems: 4, now: () => 7 });
  for (let i = 0; i < 6; i++) a.recordOutgoing(env(`m${i}`));  // m0, m1 evicted
  a.ack({ ack_for_message_id: 'm3', ack_stage: 2, note: 'read' });
  a.recordIncoming(env('m2'));  // re-recorded in place
  await a.flush();
  a.updateState('m4', 6);
  const expected = a.exportSnapshot();
  await a.close();
  const b = await PersistentActivityBuffer.open({ persistence: new IndexedDBPersistence({ name }), maxItems: 4, now: () => 7 });
  assert.deepEqual(b.exportSnapshot(), expected);
  assert.equal(b.checkDuplicate({ message_id: 'x', idempotency_token: 'tok-m4' }).status, 'duplicate');
  b.recordOutgoing(env('m6'));  // evicts m2 in storage too
  await b.close();
  assert.deepEqual((await rows(name)).map(([key]) => key).sort(), ['m3', 'm4', 'm5', 'm6']);
});

test('a flush writes only the changed records, in one transaction', async () => {
  const name = freshName();
  const persistence = new IndexedDBPersistence({ name, durability: 'relaxed' });
  const buffer = await PersistentActivityBuffer.open({ persistence, maxItems: 10_000, now: () => 7 });
  for (let i = 0; i < 2000; i++) buffer.recordOutgoing(env(`m${i}`));
  await buffer.flush();
  const puts = [];
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function tracked(value, key) {
    puts.push(key);
    return put.call(this, value, key);
  };
  try {
    buffer.ack({ ack_for_message_id: 'm10', ack_stage: 1 });
    buffer.ack({ ack_for_message_id: 'm1500', ack_stage: 3 });
    await buffer.flush();
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  assert.deepEqual(puts, ['m10', 'm1500']);
  await buffer.close();
});

test('a quota failure rejects with QUOTA_EXCEEDED, stores nothing, and the next flush saves everything', async () => {
  const name = freshName();
  const buffer = await PersistentActivityBuffer.open({ persistence: new IndexedDBPersistence({ name }), now: () => 7 });
  buffer.recordOutgoing(env('a'));
  await buffer.flush();
  const before = await rows(name);
  buffer.recordOutgoing(env('b'));
  buffer.recordOutgoing(env('c'));
  buffer.ack({ ack_for_message_id: 'a', ack_stage: 3 });
  const put = IDBObjectStore.prototype.put;
  let calls = 0;
  IDBObjectStore.prototype.put = function failing(value, key) {
    calls += 1;
    if (calls === 2) throw new DOMException('quota', 'QuotaExceededError');
    return put.call(this, value, key);
  };
  try {
    await assert.rejects(buffer.flush(), (e) => e instanceof PersistenceError && e.code === 'QUOTA_EXCEEDED' && e.operation === 'save');
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  assert.deepEqual(await rows(name), before, 'the transaction was aborted: nothing of it is stored');
  await buffer.flush();
  const expected = buffer.exportSnapshot();
  await buffer.close();
  const reopened = await PersistentActivityBuffer.open({ persistence: new IndexedDBPersistence({ name }), now: () => 7 });
  assert.deepEqual(reopened.exportSnapshot(), expected);
  await reopened.close();
});

test('a newer version upgrading the schema is not blocked by an open buffer, whose next flush fails typed and keeps its changes', async () => {
  const name = freshName();
  const buffer = await PersistentActivityBuffer.open({ persistence: new IndexedDBPersistence({ name }), now: () => 7 });
  buffer.recordOutgoing(env('a'));
  await buffer.flush();
  // What a newer package version would do in another tab: open with a higher version.
  const newer = await openDB(name, 2, { upgrade(db) { db.createObjectStore('v2'); } });
  assert.ok(newer.objectStoreNames.contains('v2'));
  newer.close();
  buffer.recordOutgoing(env('b'));
  await assert.rejects(buffer.flush(), (e) => e instanceof PersistenceError && e.code === 'VERSION_CHANGED');
  assert.equal(buffer.size, 2);
  assert.deepEqual((await rows(name)).map(([key]) => key), ['a']);
  await assert.rejects(buffer.close(), PersistenceError, 'close cannot lose the unsaved record silently');
  await assert.rejects(PersistentActivityBuffer.open({ persistence: new IndexedDBPersistence({ name }) }), StoreLoadError);
});

test('bad options', () => {
  for (const options of [undefined, {}, { name: '' }, { name: 3 }, { name: 'x', durability: 'eventually' }]) {
    assert.throws(() => new IndexedDBPersistence(options), TypeError);
  }
  assert.equal(new IndexedDBPersistence({ name: 'n' }).lockName, 'tidepool:indexeddb:n');
});
