// InMemoryEventLog, DisabledEventLog and createEventLog through the built package (pkg/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryEventLog, DisabledEventLog, createEventLog } from '../../pkg/entry/node.js';

const T0 = 1_700_000_000;

/** A log on a hand-driven clock: `clock.t` is the time in seconds. */
function logAt(options = {}) {
  const clock = { t: T0 };
  const log = new InMemoryEventLog({ ...options, now: () => clock.t });
  return { log, clock };
}

const ids = (events) => events.map((e) => e.id);

/** Runs `fn` with console.warn captured; returns the warnings. */
function captureWarnings(fn) {
  const original = console.warn;
  const warnings = [];
  console.warn = (...args) => warnings.push(args.join(' '));
  try {
    fn();
  } finally {
    console.warn = original;
  }
  return warnings;
}

test('an event is exactly { id, timestamp, kind, payload }, ids from 1, payload defaults to {}', () => {
  const { log } = logAt();
  const first = log.append('turn.started');
  assert.deepEqual(first, { id: 1, timestamp: T0, kind: 'turn.started', payload: {} });
  assert.deepEqual(Object.keys(first), ['id', 'timestamp', 'kind', 'payload']);
  assert.equal(log.append('tool.invoked', { tool: 'search' }).id, 2);
  assert.deepEqual(log.query(), [first, { id: 2, timestamp: T0, kind: 'tool.invoked', payload: { tool: 'search' } }]);
});

test('the default clock is Date.now() / 1000', () => {
  const before = Date.now() / 1000;
  const event = new InMemoryEventLog().append('x');
  assert.ok(event.timestamp >= before && event.timestamp <= Date.now() / 1000);
  assert.ok(event.timestamp < 1e11, 'seconds, not milliseconds');
});

test('ids keep counting across size eviction and clear()', () => {
  const { log } = logAt({ maxEntries: 3 });
  for (let i = 0; i < 5; i++) log.append('tick', { i });
  assert.deepEqual(ids(log.query()), [3, 4, 5]);
  assert.equal(log.clear(), 3);
  assert.deepEqual(log.query(), []);
  assert.equal(log.append('tick').id, 6);
  assert.equal(log.lastId, 6);
  assert.deepEqual(log.stats(), {
    appended: 6, evictedByTtl: 0, evictedBySize: 2, evictedByBytes: 0, cleared: 3, resident: 1, bytes: 2,
  });
});

test('TTL eviction is strict: an event exactly ttlSeconds old stays, older goes', () => {
  const { log, clock } = logAt({ ttlSeconds: 10 });
  log.append('a');
  clock.t = T0 + 5;
  log.append('b');
  clock.t = T0 + 10;
  assert.deepEqual(ids(log.query()), [1, 2], 'exactly ttl old: kept');
  clock.t = T0 + 10.001;
  assert.deepEqual(ids(log.query()), [2], 'older than ttl: evicted by query');
  clock.t = T0 + 100;
  assert.equal(log.append('c').id, 3, 'append evicts too, ids continue');
  assert.deepEqual(ids(log.query()), [3]);
  assert.equal(log.stats().evictedByTtl, 2);
});

test('query: since, limit 0, negative limit, since past the end, non-integers', () => {
  const { log } = logAt();
  for (let i = 0; i < 5; i++) log.append('tick', { i });
  assert.deepEqual(ids(log.query({ since: 2 })), [3, 4, 5]);
  assert.deepEqual(ids(log.query({ since: 2, limit: 2 })), [3, 4]);
  assert.deepEqual(log.query({ limit: 0 }), []);
  assert.deepEqual(ids(log.query({ limit: -1 })), [1, 2, 3, 4, 5]);
  assert.deepEqual(ids(log.query({ since: null, limit: null })), [1, 2, 3, 4, 5]);
  assert.deepEqual(log.query({ since: 5 }), []);
  assert.deepEqual(log.query({ since: 1000 }), []);
  for (const bad of [{ since: 1.5 }, { limit: 2.5 }, { since: '1' }, { limit: NaN }, { since: Infinity }]) {
    assert.throws(() => log.query(bad), TypeError, JSON.stringify(bad));
    assert.throws(() => log.read(bad), TypeError, JSON.stringify(bad));
  }
  assert.throws(() => log.query(5), TypeError);
});

test('read reports firstId, lastId, missed and nextSince', () => {
  const { log } = logAt({ maxEntries: 3 });
  assert.deepEqual(log.read(), { events: [], firstId: null, lastId: 0, missed: 0, nextSince: 0 });
  for (let i = 0; i < 6; i++) log.append('tick', { i });
  const page = log.read({ since: 1, limit: 2 });
  assert.deepEqual(ids(page.events), [4, 5]);
  assert.deepEqual([page.firstId, page.lastId, page.missed, page.nextSince], [4, 6, 2, 5]);
  const caughtUp = log.read({ since: 6 });
  assert.deepEqual([caughtUp.events.length, caughtUp.missed, caughtUp.nextSince], [0, 0, 6]);
});

test('the payload is copied in and every returned event is a fresh copy', () => {
  const { log } = logAt();
  const payload = { list: [1, { deep: 'x' }], nested: { n: 1 } };
  const event = log.append('k', payload);
  payload.list[1].deep = 'changed';
  payload.nested.n = 2;
  payload.added = true;
  event.payload.nested.n = 3;
  event.kind = 'mutated';
  const [stored] = log.query();
  assert.deepEqual(stored, { id: 1, timestamp: T0, kind: 'k', payload: { list: [1, { deep: 'x' }], nested: { n: 1 } } });
  stored.payload.list.push(9);
  assert.deepEqual(log.query()[0].payload.list, [1, { deep: 'x' }]);
  assert.notEqual(log.query()[0], log.query()[0]);
});

test('JSON values round-trip; undefined properties are omitted like JSON.stringify', () => {
  const { log } = logAt();
  const payload = { s: 'é\u0000"', i: -3, f: 0.1, big: 2 ** 53 - 1, t: true, n: null, a: [[], {}], u: undefined };
  const event = log.append('k', payload);
  assert.deepEqual(event.payload, JSON.parse(JSON.stringify(payload)));
  assert.ok(!('u' in event.payload));
  assert.deepEqual(log.append('k', Object.create(null)).payload, {});
});

test('each bad input throws its error and changes nothing: no event, no id consumed', () => {
  const { log } = logAt({ maxEntries: 2 });
  log.append('ok');
  const cyclic = { a: {} };
  cyclic.a.back = cyclic;
  class Point { constructor() { this.x = 1; } }
  const cases = [
    [() => log.append(''), /kind must be a non-empty string/],
    [() => log.append(42), /kind must be a string, got a number/],
    [() => log.append(undefined), /kind must be a string/],
    [() => log.append('k', [1, 2]), /payload must be a plain object, got an array/],
    [() => log.append('k', 'text'), /payload must be a plain object/],
    [() => log.append('k', 7), /payload must be a plain object/],
    [() => log.append('k', null), /payload must be a plain object, got null/],
    [() => log.append('k', cyclic), /payload\.a\.back is a circular reference/],
    [() => log.append('k', { f: () => 1 }), /payload\.f is a function/],
    [() => log.append('k', { n: 10n }), /payload\.n is a BigInt/],
    [() => log.append('k', { s: Symbol('s') }), /payload\.s is a symbol/],
    [() => log.append('k', { d: new Date() }), /payload\.d is a Date$/],
    [() => log.append('k', { m: new Map() }), /payload\.m is a Map$/],
    [() => log.append('k', new Point()), /payload must be a plain object, got an instance of Point$/],
    [() => log.append('k', { x: [1, undefined] }), /payload\.x\[1\] is undefined/],
    [() => log.append('k', { x: NaN }), /payload\.x is NaN/],
    [() => log.append('k', { x: [Infinity] }), /payload\.x\[0\] is Infinity/],
  ];
  for (const [call, message] of cases) {
    assert.throws(call, (error) => error instanceof TypeError && message.test(error.message), String(message));
  }
  let deep = {};
  const root = deep;
  for (let i = 0; i < 200; i++) deep = deep.next = {};
  assert.throws(() => log.append('k', root), /nested deeper than 128/);
  assert.deepEqual(ids(log.query()), [1], 'nothing appended, nothing evicted');
  assert.equal(log.stats().appended, 1);
  assert.equal(log.append('ok').id, 2, 'no id consumed');
});

test('a clock that returns a non-number or a non-finite number is a TypeError and changes nothing', () => {
  const clock = { t: T0 };
  const log = new InMemoryEventLog({ now: () => clock.t });
  log.append('a');
  for (const t of ['1', NaN, Infinity, undefined]) {
    clock.t = t;
    assert.throws(() => log.append('b'), TypeError, String(t));
    assert.throws(() => log.query(), TypeError, String(t));
  }
  clock.t = T0;
  assert.equal(log.append('b').id, 2);
});

test('bounds: getters, defaults, fallbacks with a warning, type errors', () => {
  const log = new InMemoryEventLog({ ttlSeconds: 60, maxEntries: 5 });
  assert.deepEqual([log.ttlSeconds, log.maxEntries], [60, 5]);
  assert.deepEqual([new InMemoryEventLog().ttlSeconds, new InMemoryEventLog().maxEntries], [3600, 10000]);
  for (const bad of [0, -1, NaN, Infinity]) {
    let fallback;
    const warnings = captureWarnings(() => (fallback = new InMemoryEventLog({ ttlSeconds: bad, maxEntries: bad })));
    assert.deepEqual([fallback.ttlSeconds, fallback.maxEntries], [3600, 10000], String(bad));
    assert.equal(warnings.length, 2, String(bad));
    assert.match(warnings[0], /ttlSeconds must be a positive finite number/);
  }
  assert.equal(captureWarnings(() => assert.equal(new InMemoryEventLog({ maxEntries: 2.5 }).maxEntries, 10000)).length, 1);
  assert.throws(() => new InMemoryEventLog({ ttlSeconds: '60' }), TypeError);
  assert.throws(() => new InMemoryEventLog({ now: 5 }), TypeError);
  assert.throws(() => new InMemoryEventLog(5), TypeError);
});

test('maxBytes: the oldest events go while the payloads hold more than maxBytes of JSON', () => {
  const { log } = logAt({ maxBytes: 100 });
  assert.equal(log.maxBytes, 100);
  // `{"s":"…"}` is 8 bytes plus the string's UTF-8 bytes: 'é' counts 2, '🦀' 4.
  const sized = (bytes) => ({ s: 'x'.repeat(bytes - 8) });
  log.append('k', sized(30));
  log.append('k', { s: 'é'.repeat(11) });  // 8 + 22 = 30
  log.append('k', { s: '🦀'.repeat(5) + 'xx' });  // 8 + 22 = 30
  assert.deepEqual(log.stats(), {
    appended: 3, evictedByTtl: 0, evictedBySize: 0, evictedByBytes: 0, cleared: 0, resident: 3, bytes: 90,
  });
  log.append('k', sized(30));
  assert.deepEqual(ids(log.query()), [2, 3, 4], 'exactly the oldest one went');
  log.append('k', sized(100));
  assert.deepEqual(ids(log.query()), [5], 'a payload of exactly maxBytes fits alone');
  const stats = log.stats();
  assert.equal(stats.evictedByBytes, 4);
  assert.equal(stats.bytes, 100);
  assert.equal(stats.appended, stats.evictedByTtl + stats.evictedBySize + stats.evictedByBytes + stats.cleared + stats.resident);
  assert.equal(JSON.stringify(log.query()[0].payload).length, 100);
});

test('maxBytes: a payload larger than maxBytes is a RangeError; nothing stored, evicted or consumed', () => {
  const { log } = logAt({ maxBytes: 100 });
  log.append('k', { s: 'x'.repeat(50) });
  const before = log.stats();
  assert.throws(
    () => log.append('k', { s: 'x'.repeat(93) }),
    (error) => error instanceof RangeError && error.message === 'payload is 101 bytes as JSON, more than maxBytes (100)',
  );
  assert.throws(() => log.append('k', { s: 'é'.repeat(47) }), RangeError, '8 + 94 bytes: UTF-8, not UTF-16');
  assert.deepEqual(log.stats(), before);
  assert.deepEqual(ids(log.query()), [1]);
  assert.equal(log.append('k', { s: 'x'.repeat(92) }).id, 2, 'no id consumed; 100 bytes fit');
});

test('maxBytes: default 64 MiB, fallbacks with a warning, type errors; the disabled log ignores it', () => {
  assert.equal(new InMemoryEventLog().maxBytes, 64 * 1024 * 1024);
  assert.equal(createEventLog({ maxBytes: 10 }).maxBytes, 10);
  for (const bad of [0, -1, 2.5, NaN, Infinity]) {
    let log;
    const warnings = captureWarnings(() => (log = new InMemoryEventLog({ maxBytes: bad })));
    assert.equal(log.maxBytes, 64 * 1024 * 1024, String(bad));
    assert.equal(warnings.length, 1, String(bad));
    assert.match(warnings[0], /maxBytes must be a positive integer, got .*; using the default 67108864/);
  }
  assert.throws(() => new InMemoryEventLog({ maxBytes: '100' }), /maxBytes must be a number, got "100"/);
  const disabled = new DisabledEventLog({ maxBytes: 10 });
  assert.equal(disabled.append('k', { s: 'x'.repeat(100) }).id, 1);
  assert.equal(disabled.stats().evictedByBytes, 0);
});

test('methods are bound', () => {
  const { log } = logAt();
  const { append, query, read, clear } = log;
  append('a');
  assert.deepEqual(ids(query()), [1]);
  assert.equal(read().lastId, 1);
  assert.equal(clear(), 1);
});

test('DisabledEventLog: synthetic increasing ids, stores nothing, validates the same', () => {
  const log = new DisabledEventLog({ now: () => T0 });
  assert.deepEqual(log.append('a', { x: 1 }), { id: 1, timestamp: T0, kind: 'a', payload: { x: 1 } });
  assert.equal(log.append('b').id, 2);
  assert.deepEqual(log.query(), []);
  assert.deepEqual(log.read({ since: 0 }), { events: [], firstId: null, lastId: 2, missed: 2, nextSince: 2 });
  assert.equal(log.clear(), 0);
  assert.throws(() => log.append('', {}), TypeError);
  assert.throws(() => log.append('c', [1]), TypeError);
  assert.equal(log.append('c').id, 3);
});

test('createEventLog: names trimmed and case-insensitive; one warning for an unknown name', () => {
  for (const name of ['disabled', 'OFF', ' none ', 'Disabled']) {
    assert.ok(createEventLog({ backend: name }) instanceof DisabledEventLog, name);
  }
  for (const name of ['memory', ' MEMORY', '', undefined]) {
    let log;
    assert.deepEqual(captureWarnings(() => (log = createEventLog({ backend: name }))), [], String(name));
    assert.ok(log instanceof InMemoryEventLog, String(name));
  }
  assert.ok(createEventLog() instanceof InMemoryEventLog);
  let typo;
  const warnings = captureWarnings(() => (typo = createEventLog({ backend: 'memroy', maxEntries: 7 })));
  assert.ok(typo instanceof InMemoryEventLog);
  assert.equal(typo.maxEntries, 7, 'options pass through');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /unknown event log backend "memroy"/);
  assert.throws(() => createEventLog({ backend: 3 }), TypeError);
});

test('many concurrent async appenders through the always-await interface get unique ascending ids', async () => {
  /** @type {import('../../pkg/index.js').EventLogBackend} */
  const backend = createEventLog({ maxEntries: 100_000 });
  const appender = async (worker) => {
    const got = [];
    for (let i = 0; i < 50; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      got.push((await backend.append('work', { worker, i })).id);
    }
    return got;
  };
  const perWorker = await Promise.all(Array.from({ length: 40 }, (_, w) => appender(w)));
  for (const got of perWorker) assert.deepEqual(got, [...got].sort((a, b) => a - b), 'ascending per appender');
  const all = perWorker.flat().sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 2000 }, (_, i) => i + 1), 'unique and gap-free');
  assert.deepEqual(ids(await backend.query()), all, 'the log holds them in id order');
});

test('subscribe: listeners see each append in order, a throwing listener is isolated, unsubscribe is idempotent', () => {
  const { log } = logAt();
  const seen = [];
  const unsubscribe = log.subscribe((event) => seen.push(event.id));
  const warnings = captureWarnings(() => {
    const off = log.subscribe(() => {
      throw new Error('boom');
    });
    assert.equal(log.subscriberCount, 2);
    log.append('a');
    off();
  });
  assert.equal(warnings.length, 1);
  log.append('b');
  assert.throws(() => log.append(''), TypeError);
  assert.deepEqual(seen, [1, 2], 'no notification for a rejected append');
  unsubscribe();
  unsubscribe();
  assert.equal(log.subscriberCount, 0);
  assert.throws(() => log.subscribe('nope'), TypeError);
});
