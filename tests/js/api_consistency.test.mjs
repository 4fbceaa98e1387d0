// One consistent API (issue 9): unknown option names are TypeErrors everywhere, every public
// method of every exported class is bound, range checks agree across entry points, custom
// strategies are read only as far as needed and get a clear error when they re-enter the
// buffer, toText renders what parsePayload accepts, and messages read as English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tp from '../../pkg/entry/node.js';

const {
  ActivityBuffer, EventBuffer, InMemoryEventLog, DisabledEventLog, SequenceTracker, RedisRestClient, RedisEventBuffer, RedisEventLog, ConnectorClient,
  MemoryPersistence, PersistentActivityBuffer, RedisDedup,
  createEventLog, activityHandler, buildEnvelope, computeIdempotencyToken, parsePayload, toText, mergeActions, PayloadError, TidepoolError,
} = tp;

/** Asserts that `fn` throws a TypeError naming `option`. */
function assertUnknownOption(fn, option, what) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof TypeError, `${what}: ${error}`);
    assert.match(error.message, new RegExp(`unknown option "${option}"`), what);
    return true;
  }, what);
}

test('unknown option names are a TypeError naming the option, at every entry point; nothing changes', () => {
  const buffer = new EventBuffer({ maxSize: 5 });
  buffer.add({ type: 'actions' });
  const log = new InMemoryEventLog();
  log.append('k');
  const activity = new ActivityBuffer();
  activity.recordOutgoing({ message_id: 'm' });
  const cases = [
    [() => new EventBuffer({ maxsize: 5 }), 'maxsize', 'EventBuffer'],
    [() => buffer.drainByType({ action: false }), 'action', 'drainByType'],
    [() => new InMemoryEventLog({ ttl: 5 }), 'ttl', 'InMemoryEventLog'],
    [() => new DisabledEventLog({ maxentries: 5 }), 'maxentries', 'DisabledEventLog'],
    [() => createEventLog({ backed: 'off' }), 'backed', 'createEventLog'],
    [() => log.query({ after: 0 }), 'after', 'query'],
    [() => log.read({ since: 0, limt: 1 }), 'limt', 'read'],
    [() => activityHandler(log, { heartbeat: 5 }), 'heartbeat', 'activityHandler'],
    [() => new ActivityBuffer({ maxitems: 1 }), 'maxitems', 'ActivityBuffer'],
    [() => ActivityBuffer.fromSnapshot(activity.toSnapshot(), { strategie: 'fifo' }), 'strategie', 'fromSnapshot'],
    [() => new RedisRestClient({ url: 'http://127.0.0.1:1', token: 't', timeout: 5 }), 'timeout', 'RedisRestClient'],
    [() => new RedisEventBuffer({ url: 'http://127.0.0.1:1', token: 't', prefix: 'x' }), 'prefix', 'RedisEventBuffer'],
    [() => new RedisEventLog({ url: 'http://127.0.0.1:1', token: 't', key: 'k', ttl: 5 }), 'ttl', 'RedisEventLog'],
    [() => new ConnectorClient({ url: 'http://127.0.0.1:1/stream', retries: 1 }), 'retries', 'ConnectorClient'],
    [() => new MemoryPersistence({ lockname: 'x' }), 'lockname', 'MemoryPersistence'],
    [() => new RedisDedup({ url: 'http://127.0.0.1:1', token: 't', window: 5 }), 'window', 'RedisDedup'],
  ];
  for (const [fn, option, what] of cases) assertUnknownOption(fn, option, what);
  assert.throws(() => buildEnvelope({ producerId: 'p', messageType: 1, producerID: 'x' }), /producerID/);
  assert.equal(buffer.size, 1);
  assert.equal(log.stats().resident, 1);
  assert.equal(activity.size, 1);
});

/** Arguments for each public method, so that every method is called once unbound. */
function instances() {
  const snapshot = (() => {
    const a = new ActivityBuffer();
    a.recordOutgoing({ message_id: 'm' });
    return a.toSnapshot();
  })();
  const log = () => new InMemoryEventLog();
  // A stand-in server answering every command with 0 (one result per command of a pipeline).
  const fetch = async (url, init) => {
    const body = JSON.parse(init.body);
    return Response.json(String(url).endsWith('/pipeline') ? body.map(() => ({ result: 0 })) : { result: 0 });
  };
  const redisOptions = { url: 'http://127.0.0.1:9', token: 'secret-token', fetch };
  return [
    [EventBuffer, () => new EventBuffer(), {
      add: [{ type: 'summary' }], drain: [], drainByType: [{}], peek: [1], clear: [],
    }],
    [InMemoryEventLog, log, {
      append: ['k', {}], query: [{}], read: [{}], clear: [], stats: [], subscribe: [() => {}],
    }],
    [DisabledEventLog, () => new DisabledEventLog(), {
      append: ['k', {}], query: [{}], read: [{}], clear: [], stats: [], subscribe: [() => {}],
    }],
    [ActivityBuffer, () => ActivityBuffer.fromSnapshot(snapshot), {
      recordIncoming: [{ message_id: 'i' }], recordOutgoing: [{ message_id: 'o' }],
      ack: [{ ack_for_message_id: 'm', ack_stage: 1 }], get: ['m'], unacked: [], reconcile: [], recent: [2],
      updateState: ['m', 2], getByIdempotencyToken: ['t'], checkDuplicate: [{ message_id: 'x' }],
      clear: [], stats: [], toSnapshot: [],
    }],
    [SequenceTracker, () => new SequenceTracker(), { next: [] }],
    [MemoryPersistence, () => new MemoryPersistence(), { load: [], save: [{ put: [], remove: [] }], close: [] }],
    [PersistentActivityBuffer, () => PersistentActivityBuffer.open({ persistence: new MemoryPersistence() }), {
      recordIncoming: [{ message_id: 'i' }], recordOutgoing: [{ message_id: 'o' }],
      ack: [{ ack_for_message_id: 'o', ack_stage: 1 }], get: ['o'], unacked: [], reconcile: [], recent: [2],
      updateState: ['o', 2], getByIdempotencyToken: ['t'], checkDuplicate: [{ message_id: 'x' }],
      clear: [], stats: [], toSnapshot: [], importSnapshot: [snapshot], exportSnapshot: [], flush: [], close: [],
    }],
    [RedisRestClient, () => new RedisRestClient(redisOptions), {
      command: [['PING']], pipeline: [[['PING']]], evalScript: ['return 1', [], []], stats: [],
    }],
    [RedisEventBuffer, () => new RedisEventBuffer(redisOptions), {
      add: [{ type: 'summary', summary: 's' }], drain: [], size: [], flush: [], stats: [],
    }],
    // A stream that answers 404: run() ends at once with a ConnectorError.
    [ConnectorClient, () => new ConnectorClient({ url: 'http://127.0.0.1:9/stream', fetch: async () => new Response('', { status: 404 }) }), {
      onActions: [() => {}], onSummary: [() => {}], onEvent: [() => {}], onDrop: [() => {}], run: [], stop: [], stats: [],
    }],
    [RedisDedup, () => new RedisDedup(redisOptions), {
      claim: [{ message_id: 'm', idempotency_token: 'tok' }], settle: [{ message_id: 'm', idempotency_token: 'tok' }],
      release: [{ message_id: 'm', idempotency_token: 'tok' }], stats: [],
    }],
    [RedisEventLog, () => new RedisEventLog({ ...redisOptions, key: 'log' }), {
      append: ['k', {}], query: [{}], read: [{}], clear: [], stats: [],
    }],
  ];
}

/** Every method of `Class`'s prototype chain below Object.prototype (getters excluded). */
function methodNames(Class) {
  const names = new Set();
  for (let p = Class.prototype; p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(p, name).value === 'function') names.add(name);
    }
  }
  return [...names].sort();
}

test('every public method of every exported class is bound: destructured, each one works', async () => {
  const exportedClasses = Object.entries(tp)
    .filter(([, value]) => typeof value === 'function' && /^class\b/.test(Function.prototype.toString.call(value)))
    .filter(([, value]) => !(value.prototype instanceof Error) && value !== TidepoolError)
    .map(([, value]) => value);
  const table = instances();
  assert.deepEqual(
    exportedClasses.map((c) => c.name).sort(),
    table.map(([Class]) => Class.name).sort(),
    'the table covers every exported class',
  );
  for (const [Class, make, args] of table) {
    assert.deepEqual(Object.keys(args).sort(), methodNames(Class), `${Class.name}: every method has arguments here`);
    const instance = await make();
    for (const name of methodNames(Class)) {
      const { [name]: method } = instance;
      // Unbound, `this` would be undefined: 'Cannot read properties of undefined' or 'Cannot
      // read private member'. Errors from the stand-in server's answers are fine here.
      try {
        await method(...args[name]);
      } catch (error) {
        assert.doesNotMatch(String(error), /of undefined|private member|undefined \(reading/, `${Class.name}.${name}`);
      }
    }
  }
  // Static methods work detached too.
  const { fromSnapshot } = ActivityBuffer;
  assert.equal(fromSnapshot(new ActivityBuffer().toSnapshot()).size, 0);
  const { fromEnv } = RedisRestClient;
  assert.ok(fromEnv({ UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9', UPSTASH_REDIS_REST_TOKEN: 't' }) instanceof RedisRestClient);
});

test('a bound method keeps working on its own object, and extra properties stay hidden', () => {
  const buffer = new EventBuffer();
  const { add, drain } = buffer;
  add({ type: 'summary', n: 1 });
  assert.deepEqual(drain(), [{ type: 'summary', n: 1 }]);
  assert.deepEqual(Object.keys(buffer), [], 'bound methods are not enumerable');
  const log = new InMemoryEventLog();
  const { append, stats } = log;
  append('k');
  assert.equal(stats().appended, 1);
});

test('envelope state ranges agree: recordIncoming / recordOutgoing / updateState / buildEnvelope / snapshots', () => {
  const buffer = new ActivityBuffer();
  buffer.recordOutgoing({ message_id: 'kept', state: 7 });
  const before = JSON.stringify(buffer.toSnapshot());
  for (const state of [99, -1, 8]) {
    for (const record of ['recordIncoming', 'recordOutgoing']) {
      assert.throws(() => buffer[record]({ message_id: 'new', state }), RangeError, `${record} state ${state}`);
      assert.throws(() => buffer[record]({ message_id: 'kept', state }), RangeError, `${record} state ${state} (resident id)`);
    }
    assert.throws(() => buffer.updateState('kept', state), RangeError);
    assert.throws(() => buildEnvelope({ producerId: 'p', messageType: 1, state }), RangeError);
    const snapshot = JSON.parse(before);
    snapshot.records.kept.envelope.state = state;
    assert.throws(() => ActivityBuffer.fromSnapshot(snapshot), tp.SnapshotError);
  }
  assert.equal(JSON.stringify(buffer.toSnapshot()), before, 'nothing changed');
  for (const state of [0, 7]) assert.equal(buffer.recordIncoming({ message_id: `s${state}`, state }).state, state);
  assert.throws(() => buffer.recordIncoming({ message_id: 'x', state: 1.5 }), RangeError);
  assert.throws(() => buffer.recordIncoming({ message_id: 'x', state: '1' }), TypeError);
});

test('a custom strategy is read for at most as many ids as are resident (an endless generator ends)', () => {
  let pulled = 0;
  const endless = {
    * victims(order) {
      for (;;) {
        pulled += 1;
        yield order[0];
      }
    },
  };
  const buffer = new ActivityBuffer({ maxItems: 3, strategy: endless });
  for (const id of ['a', 'b', 'c']) buffer.recordOutgoing({ message_id: id });
  const evicted = buffer.recordOutgoing({ message_id: 'd' });
  assert.equal(evicted.message_id, 'd');
  assert.equal(pulled, 3, 'read exactly as many ids as resident');
  assert.deepEqual(buffer.recent().map((r) => r.message_id), ['b', 'c', 'd']);

  pulled = 0;
  const cycling = { * victims(order) { for (;;) for (const id of order) { pulled += 1; yield id; } } };
  const full = new ActivityBuffer({ maxItems: 2, strategy: cycling });
  full.recordOutgoing({ message_id: 'a' });
  full.recordOutgoing({ message_id: 'b' });
  full.recordOutgoing({ message_id: 'c' });
  assert.equal(pulled, 2);
  assert.deepEqual(full.recent().map((r) => r.message_id), ['c'], 'every id read is evicted (at least excess)');

  // Yielding only ids that are not resident fails like any unknown victim, after order.length ids.
  const stranger = new ActivityBuffer({ maxItems: 1, strategy: { * victims() { for (;;) yield 'nobody'; } } });
  stranger.recordOutgoing({ message_id: 'a' });
  assert.throws(() => stranger.recordOutgoing({ message_id: 'b' }), { code: 'UNKNOWN_VICTIM' });
  assert.deepEqual(stranger.recent().map((r) => r.message_id), ['a']);
});

test('a strategy that calls back into its buffer gets an error saying so; nothing is evicted', () => {
  const calls = [];
  const buffer = new ActivityBuffer({
    maxItems: 2,
    strategy: {
      victims(order) {
        for (const use of [() => buffer.get(order[0]), () => buffer.size, () => buffer.stats(), () => buffer.recordOutgoing({ message_id: 'z' })]) {
          try {
            use();
          } catch (error) {
            calls.push(error);
          }
        }
        return [buffer.recent(1)[0].message_id];
      },
    },
  });
  buffer.recordOutgoing({ message_id: 'a' });
  buffer.recordOutgoing({ message_id: 'b' });
  const before = JSON.stringify(buffer.toSnapshot());
  const error = (() => {
    try {
      buffer.recordOutgoing({ message_id: 'c' });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(error instanceof TidepoolError);
  assert.equal(error.code, 'STRATEGY_FAILED');
  assert.equal(error.cause.code, 'REENTRANT_CALL');
  assert.match(error.message, /cannot use the buffer it chooses victims for/);
  assert.doesNotMatch(error.message, /aliasing/);
  assert.equal(calls.length, 4);
  for (const call of calls) {
    assert.equal(call.code, 'REENTRANT_CALL');
    assert.ok(call instanceof TidepoolError);
  }
  assert.equal(JSON.stringify(buffer.toSnapshot()), before, 'nothing changed');
  // The buffer works normally afterwards; a strategy may use other buffers.
  const other = new ActivityBuffer();
  const polite = new ActivityBuffer({ maxItems: 1, strategy: { victims: (order) => (other.recordIncoming({ message_id: order[0] }), order) } });
  polite.recordOutgoing({ message_id: 'p' });
  polite.recordOutgoing({ message_id: 'q' });
  assert.deepEqual([polite.get('q')?.message_id, other.get('p')?.message_id], ['q', 'p']);
  assert.equal(buffer.get('a').message_id, 'a');
});

test('toText renders every payload parsePayload accepts (unknown fields ignored)', () => {
  const drained = [
    { type: 'actions', session_id: 'ps_1', extra: { nested: [1] }, actions: [{ index: 0, type: 'click', description: 'd', surprise: true }] },
    { type: 'summary', summary: 'S', replaces: 2, unknownField: 'x' },
    { type: 'actions' },
  ];
  for (const payload of drained) assert.equal(toText(payload), toText(parsePayload(payload)));
  assert.equal(toText(drained[0]), 'Session ps_1 — 1 actions\n[0] click: d — ');
});

test('messages read as English and name the offending element or limit', () => {
  class Foo {}
  const message = (fn) => {
    try {
      fn();
    } catch (error) {
      return error.message;
    }
    assert.fail('did not throw');
  };
  const log = new InMemoryEventLog();
  assert.equal(message(() => log.append('k', new Foo())), 'payload must be a plain object, got an instance of Foo');
  assert.equal(message(() => log.append('k', { b: new ArrayBuffer(1) })), 'payload.b is an ArrayBuffer');
  assert.equal(message(() => log.append('k', { d: new Date(0) })), 'payload.d is a Date');
  assert.match(message(() => toText(new ArrayBuffer(2))), /an ArrayBuffer is not JSON data/);
  assert.match(message(() => new EventBuffer({ onDrop: new Foo() })), /got an instance of Foo$/);
  assert.match(message(() => computeIdempotencyToken('p', 'o', new ArrayBuffer(1))), /got an ArrayBuffer$/);
  const payload = parsePayload({ type: 'actions' });
  const merge = (() => {
    try {
      mergeActions([payload, null]);
    } catch (error) {
      return error;
    }
  })();
  assert.ok(merge instanceof PayloadError);
  assert.equal(merge.field, '[1]');
  assert.match(merge.message, /^\[1\]: /);
  const nested = (() => {
    try {
      mergeActions([payload, { type: 'actions', actions: [{ index: 'x' }] }]);
    } catch (error) {
      return error;
    }
  })();
  assert.equal(nested.field, '[1].actions[0].index');
  assert.throws(() => log.query({ since: 2 ** 53 }), (error) => error instanceof RangeError && /Number\.MAX_SAFE_INTEGER \(9007199254740991\)/.test(error.message));
  assert.throws(() => log.query({ since: 0.5 }), TypeError);
  assert.doesNotMatch(message(() => new ActivityBuffer().recordIncoming(new Foo())), /a Foo object|Object object/);
});
