// RedisEventLog against a real redis-server behind the Upstash-compatible gateway: the
// InMemoryEventLog contract, the layout, one request per operation, eviction shared by
// instances ("pods"), lost responses (fault-injecting proxy), Redis down and back, and the
// activity endpoint over it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RedisEventLog, RedisRestClient, RedisRestError, InMemoryEventLog, activityHandler } from '../../pkg/entry/node.js';
import { redisUnavailableReason, startFaultProxy, startGateway, startRedis, startRedisWithGateway } from '../helpers/redis.mjs';
import { serveFetch, sseReader } from '../helpers/fetch_server.mjs';

const TOKEN = 'log-test-token';
const unavailable = redisUnavailableReason();
let servers;
let client;
const cleanups = [];

before(async () => {
  if (unavailable) return;
  servers = await startRedisWithGateway({ token: TOKEN });
  client = new RedisRestClient({ url: servers.url, token: TOKEN });
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await servers?.stop();
});

let keyCounter = 0;
const freshKey = () => `log:${process.pid}:${keyCounter++}`;
const ids = (events) => events.map((e) => e.id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Redis's clock in seconds. */
const redisTime = async () => {
  const [s, us] = await client.command(['TIME']);
  return Number(s) + Number(us) / 1e6;
};

async function proxy(policy) {
  const started = await startFaultProxy({ target: servers.url, policy });
  cleanups.push(() => started.stop());
  return started;
}

/** Everything a log wrote under its keys, for "nothing changed" checks. */
async function snapshot(key) {
  const [stream, meta, batches] = await client.pipeline([['XRANGE', key, '-', '+'], ['HGETALL', `${key}:meta`], ['KEYS', `${key}:append:*`]]);
  return { stream: stream.result, meta: meta.result, batches: batches.result.length };
}

describe('RedisEventLog', { skip: unavailable ?? false, timeout: 120_000 }, () => {
  test('the InMemoryEventLog contract: ids, timestamps from Redis, query, read, fresh copies', async () => {
    const log = new RedisEventLog({ client, key: freshKey() });
    const before = await redisTime();
    const payload = { tool: 'search', nested: { list: [1, 'ü😀', null] }, dropped: undefined };
    const first = await log.append('tool.invoked', payload);
    const afterTime = await redisTime();
    assert.deepEqual(Object.keys(first), ['id', 'timestamp', 'kind', 'payload']);
    assert.equal(first.id, 1);
    assert.equal(first.kind, 'tool.invoked');
    assert.deepEqual(first.payload, { tool: 'search', nested: { list: [1, 'ü😀', null] } });
    assert.ok(first.timestamp >= before - 1e-6 && first.timestamp <= afterTime + 1e-6, `${before} <= ${first.timestamp} <= ${afterTime}`);
    payload.tool = 'changed';
    first.payload.tool = 'changed too';
    const second = await log.append('turn.started');
    assert.deepEqual(second.payload, {});
    assert.equal(second.id, 2);
    assert.ok(second.timestamp >= first.timestamp);

    const all = await log.query();
    assert.deepEqual(ids(all), [1, 2]);
    assert.equal(all[0].payload.tool, 'search', 'stored a copy');
    assert.deepEqual(all[0], { ...first, payload: { tool: 'search', nested: { list: [1, 'ü😀', null] } } });
    assert.notEqual((await log.query())[0], all[0], 'fresh objects per call');
    assert.deepEqual(ids(await log.query({ since: 1 })), [2]);
    assert.deepEqual(ids(await log.query({ since: -5 })), [1, 2], 'negative since: from the start');
    assert.deepEqual(ids(await log.query({ since: 2 })), []);
    assert.deepEqual(ids(await log.query({ since: 99 })), []);
    assert.deepEqual(ids(await log.query({ limit: 1 })), [1]);
    assert.deepEqual(ids(await log.query({ limit: 0 })), []);
    assert.deepEqual(ids(await log.query({ limit: -1 })), [1, 2]);
    assert.deepEqual(await log.read({ since: 0, limit: 1 }), { events: [all[0]], firstId: 1, lastId: 2, missed: 0, nextSince: 1 });
    assert.deepEqual(await log.read({ since: 2 }), { events: [], firstId: 1, lastId: 2, missed: 0, nextSince: 2 });
    assert.deepEqual(await log.read({ since: 50 }), { events: [], firstId: 1, lastId: 2, missed: 0, nextSince: 2 }, 'a cursor from the future is pulled back');

    // The same answers as InMemoryEventLog, event for event (timestamps aside).
    const memory = new InMemoryEventLog();
    memory.append('tool.invoked', { tool: 'search', nested: { list: [1, 'ü😀', null] } });
    memory.append('turn.started');
    const strip = (r) => ({ ...r, events: r.events.map(({ timestamp, ...e }) => e) });
    for (const q of [{}, { since: 1 }, { since: 0, limit: 1 }, { limit: 0 }, { since: 7 }]) {
      assert.deepEqual(strip(await log.read(q)), strip(memory.read(q)), JSON.stringify(q));
    }
  });

  test('bad input is refused before anything is sent: no request, no id consumed', async () => {
    const key = freshKey();
    const log = new RedisEventLog({ client, key, maxBytes: 64 });
    await log.append('ok', { n: 1 });
    const before = await snapshot(key);
    const requests = (await log.stats()).requests;
    const cyclic = {};
    cyclic.self = cyclic;
    const bad = [
      [['', {}], TypeError, /kind/],
      [[42, {}], TypeError, /kind/],
      [['k', [1, 2]], TypeError, /payload/],
      [['k', 'text'], TypeError, /payload/],
      [['k', { f() {} }], TypeError, /payload\.f/],
      [['k', { n: NaN }], TypeError, /payload\.n/],
      [['k', { big: 1n }], TypeError, /payload\.big/],
      [['k', cyclic], TypeError, /payload/],
      [['k', { d: new Date() }], TypeError, /payload\.d/],
      [['k', { text: 'x'.repeat(100) }], RangeError, /maxBytes 64/],
    ];
    for (const [args, ErrorClass, message] of bad) {
      await assert.rejects(log.append(...args), (error) => error instanceof ErrorClass && message.test(error.message), String(args[0]));
    }
    for (const options of [{ since: 1.5 }, { since: '1' }, { limit: 2.5 }, { limit: 'all' }, 'x']) {
      await assert.rejects(log.read(options), TypeError);
      await assert.rejects(log.query(options), TypeError);
    }
    const stats = await log.stats();
    assert.equal(stats.requests, requests + 1, 'only the stats request itself');
    assert.deepEqual(await snapshot(key), before);
    assert.equal((await log.append('next', {})).id, 2, 'no id was consumed');
  });

  test('bad options are refused; bounds follow InMemoryEventLog (default with a warning)', () => {
    assert.throws(() => new RedisEventLog({ client }), /key must be a non-empty string/);
    assert.throws(() => new RedisEventLog({ client, key: '' }), /key must be a non-empty string/);
    assert.throws(() => new RedisEventLog({ client, key: 'k', maxBytes: 0 }), RangeError);
    assert.throws(() => new RedisEventLog({ client, key: 'k', maxBytes: 1.5 }), RangeError);
    assert.throws(() => new RedisEventLog({ client, key: 'k', maxBytes: '10' }), TypeError);
    assert.throws(() => new RedisEventLog({ client, key: 'k', timeoutMs: 0 }), RangeError);
    assert.throws(() => new RedisEventLog({ client, key: 'k', maxEntrys: 5 }), /unknown option "maxEntrys"/);
    assert.throws(() => new RedisEventLog({ client: {}, key: 'k' }), /client must be a RedisRestClient/);
    assert.throws(() => new RedisEventLog({ client, url: servers.url, key: 'k' }), /either client, or url/);
    assert.throws(() => new RedisEventLog({ client, key: 'k', ttlSeconds: 'long' }), TypeError);
    const warnings = [];
    const warn = console.warn;
    console.warn = (message) => warnings.push(message);
    try {
      const log = new RedisEventLog({ url: servers.url, token: TOKEN, key: 'k', ttlSeconds: -1, maxEntries: 2.5 });
      assert.equal(log.ttlSeconds, 3600);
      assert.equal(log.maxEntries, 10000);
      assert.equal(log.maxBytes, null);
      assert.equal(log.key, 'k');
    } finally {
      console.warn = warn;
    }
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(warnings[0], /RedisEventLog: ttlSeconds must be a positive finite number/);
  });

  test('a redis-cli-readable layout: a stream `<id>-0` {kind, ts, payload} and a meta hash', async () => {
    const key = freshKey();
    const log = new RedisEventLog({ client, key });
    const event = await log.append('tool.invoked', { tool: 'é' });
    const entries = await client.command(['XRANGE', key, '-', '+']);
    assert.deepEqual(entries, [['1-0', ['kind', 'tool.invoked', 'ts', event.timestamp.toFixed(6), 'payload', '{"tool":"é"}']]]);
    const meta = await client.command(['HGETALL', `${key}:meta`]);
    const fields = Object.fromEntries(meta.reduce((pairs, v, i) => (i % 2 ? pairs : [...pairs, [v, meta[i + 1]]]), []));
    assert.equal(fields.last_id, '1');
    assert.equal(fields.appended, '1');
    assert.equal(fields.bytes, String('tool.invoked'.length + Buffer.byteLength('{"tool":"é"}')));
    const batches = await client.command(['KEYS', `${key}:append:*`]);
    assert.equal(batches.length, 1);
    const ttl = await client.command(['TTL', batches[0]]);
    assert.ok(ttl > 250 && ttl <= 300, `the batch id is remembered for 300 s, TTL ${ttl}`);
  });

  test('appends of one tick are one request, in call order; query and read are one request each', async () => {
    const log = new RedisEventLog({ client, key: freshKey() });
    await log.append('warm', {});
    await servers.gateway.resetCounts();
    const events = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append('bulk', { i })));
    assert.deepEqual((await servers.gateway.counts())['/'], 1, 'one HTTP request for 200 appends');
    assert.deepEqual(ids(events), Array.from({ length: 200 }, (_, i) => i + 2));
    assert.deepEqual(events.map((e) => e.payload.i), Array.from({ length: 200 }, (_, i) => i));
    assert.equal(new Set(events.map((e) => e.timestamp)).size, 1, 'one batch, one TIME');
    await servers.gateway.resetCounts();
    await log.append('single', {});
    assert.equal((await servers.gateway.counts())['/'], 1);
    await servers.gateway.resetCounts();
    assert.equal((await log.read({ since: 0 })).events.length, 202);
    assert.equal((await log.query({ since: 100, limit: 5 })).length, 5);
    assert.equal((await servers.gateway.counts())['/'], 2);
  });

  test('size and byte eviction are shared by pods; a reader that falls behind sees missed', async () => {
    const key = freshKey();
    const podA = new RedisEventLog({ client, key, maxEntries: 5 });
    const podB = new RedisEventLog({ url: servers.url, token: TOKEN, key, maxEntries: 5 });
    for (let i = 1; i <= 4; i++) await podA.append('a', { i });
    const reader = await podB.read({ since: 0 });
    assert.deepEqual(ids(reader.events), [1, 2, 3, 4]);
    for (let i = 5; i <= 12; i++) await (i % 2 ? podA : podB).append('ab', { i });
    const behind = await podB.read({ since: reader.nextSince });
    assert.deepEqual(ids(behind.events), [8, 9, 10, 11, 12]);
    assert.equal(behind.firstId, 8);
    assert.equal(behind.lastId, 12);
    assert.equal(behind.missed, 3, 'ids 5, 6, 7 were evicted before this reader saw them');
    assert.deepEqual(ids(await podA.query()), [8, 9, 10, 11, 12], 'both pods see the same log');
    const stats = await podA.stats();
    assert.equal(stats.appended, 12);
    assert.equal(stats.evictedBySize, 7);
    assert.equal(stats.resident, 5);
    assert.equal(stats.appended, stats.evictedByTtl + stats.evictedBySize + stats.evictedByBytes + stats.cleared + stats.resident);

    const bytesKey = freshKey();
    const small = new RedisEventLog({ client, key: bytesKey, maxBytes: 100 });
    // Each event: kind 'k' (1 byte) + {"s":"<20 x>"} (28 bytes) = 29 bytes: three fit in 100.
    for (let i = 0; i < 5; i++) await small.append('k', { s: String(i).repeat(20) });
    const kept = await small.read({ since: 0 });
    assert.deepEqual(ids(kept.events), [3, 4, 5]);
    assert.equal(kept.missed, 2);
    const byteStats = await small.stats();
    assert.equal(byteStats.evictedByBytes, 2);
    assert.equal(byteStats.bytes, 87);
  });

  test('TTL eviction by Redis time, shared by pods; clear() keeps counting ids', async () => {
    const key = freshKey();
    const podA = new RedisEventLog({ client, key, ttlSeconds: 0.5 });
    const podB = new RedisEventLog({ client, key, ttlSeconds: 0.5 });
    await podA.append('old', {});
    await podB.append('old', {});
    await sleep(700);
    await podB.append('fresh', {});
    const page = await podA.read({ since: 0 });
    assert.deepEqual(ids(page.events), [3]);
    assert.equal(page.missed, 2);
    assert.equal((await podA.stats()).evictedByTtl, 2);
    await sleep(700);
    const empty = await podB.read({ since: 3 });
    assert.deepEqual(empty, { events: [], firstId: null, lastId: 3, missed: 0, nextSince: 3 }, 'expired by a read');
    assert.equal((await podB.read({ since: 0 })).missed, 3);

    const log = new RedisEventLog({ client, key: freshKey() });
    await Promise.all([log.append('a', {}), log.append('b', {})]);
    assert.equal(await log.clear(), 2);
    assert.equal(await log.clear(), 0);
    assert.deepEqual(await log.read({ since: 0 }), { events: [], firstId: null, lastId: 2, missed: 2, nextSince: 2 });
    assert.equal((await log.append('c', {})).id, 3, 'ids survive clear()');
    const stats = await log.stats();
    assert.deepEqual([stats.appended, stats.cleared, stats.resident, stats.lastId, stats.bytes], [3, 2, 1, 3, 3]);
  });

  test('id order and time order agree even when the stored clock is ahead; ids are never reused', async () => {
    const key = freshKey();
    const log = new RedisEventLog({ client, key });
    await log.append('a', {});
    const ahead = Math.round(((await redisTime()) + 30) * 1e6);
    await client.command(['HSET', `${key}:meta`, 'last_us', String(ahead)]);
    const later = await log.append('b', {});
    assert.equal(later.timestamp, ahead / 1e6, 'stamped max(TIME, latest): never before an earlier id');
    // The counter hash deleted by someone: ids continue above the stream's top entry.
    await client.command(['DEL', `${key}:meta`]);
    assert.equal((await log.append('c', {})).id, 3);
    assert.deepEqual(ids(await log.query()), [1, 2, 3]);
  });

  test('a retried append whose response was lost is stored once and returns the stored event', async () => {
    const key = freshKey();
    let drops = 0;
    const lossy = await proxy(({ body }) => (body.includes('EVAL') && body.includes(':append:') && drops++ % 2 === 0 ? 'drop-response' : 'pass'));
    const log = new RedisEventLog({ url: lossy.url, token: TOKEN, key });
    const single = await log.append('one', { n: 1 });
    const batch = await Promise.all([log.append('two', { n: 2 }), log.append('three', { n: 3 })]);
    assert.deepEqual(ids([single, ...batch]), [1, 2, 3]);
    assert.equal(lossy.counts.dropped, 2, 'the first attempt of each request lost its response');
    const stored = await new RedisEventLog({ client, key }).query();
    assert.deepEqual(stored.map((e) => [e.id, e.kind, e.payload.n, e.timestamp]), [single, ...batch].map((e) => [e.id, e.kind, e.payload.n, e.timestamp]));
    const stats = await log.stats();
    assert.equal(stats.replayedAppends, 2);
    assert.equal(stats.appended, 3, 'nothing appended twice');
    assert.equal(stats.retries, 2);

    // Every attempt lost: the append rejects (the log does not pretend), says it may have applied.
    const deaf = await proxy(({ body }) => (body.includes(':append:') ? 'drop-response' : 'pass'));
    const unlucky = new RedisEventLog({ url: deaf.url, token: TOKEN, key });
    await assert.rejects(unlucky.append('four', {}), (error) => error instanceof RedisRestError && error.code === 'REDIS_NETWORK' && error.mayHaveApplied === true && error.attempts === 3);
    assert.deepEqual(ids(await log.query({ since: 3 })), [4], 'it had been applied once, not three times');
  });

  test('Redis unavailable: appends and reads reject with typed errors; recovery without restart', async () => {
    const redis = await startRedis();
    const gateway = await startGateway({ redisUrl: redis.url, token: TOKEN });
    cleanups.push(() => gateway.stop(), () => redis.stop());
    const log = new RedisEventLog({ url: gateway.url, token: TOKEN, key: 'down', timeoutMs: 300 });
    await log.append('before', {});
    const handler = activityHandler(log);
    await redis.stop();
    await assert.rejects(log.append('lost', {}), (e) => e instanceof RedisRestError && e.code === 'REDIS_TIMEOUT' && e.mayHaveApplied === true);
    await assert.rejects(log.read({ since: 0 }), (e) => e instanceof RedisRestError && e.code === 'REDIS_TIMEOUT');
    await assert.rejects(log.query(), RedisRestError);
    await assert.rejects(log.stats(), RedisRestError);
    const response = await handler(new Request('http://x/activity?since=0'));
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '1');
    assert.equal((await response.json()).code, 'REDIS_TIMEOUT');

    const restarted = await startRedis({ port: redis.port });
    cleanups.push(() => restarted.stop());
    let appended;
    for (let i = 0; i < 40 && !appended; i++) {
      appended = await log.append('after', {}).catch(() => sleep(250).then(() => undefined));
    }
    assert.equal(appended?.id, 1, 'a fresh Redis: the log starts over there');
    assert.deepEqual((await log.query()).map((e) => e.kind), ['after']);
    assert.equal((await handler(new Request('http://x/activity'))).status, 200);

    // Gateway down (connection refused): REDIS_NETWORK, not certain to have applied... nothing.
    const closed = await startFaultProxy({ target: servers.url });
    await closed.stop();
    const refused = new RedisEventLog({ url: closed.url, token: TOKEN, key: 'x' });
    await assert.rejects(refused.append('x', {}), (e) => e instanceof RedisRestError && e.code === 'REDIS_NETWORK' && e.mayHaveApplied === false);
    // A wrong token: REDIS_UNAUTHORIZED, and the token is not in the message.
    const wrong = new RedisEventLog({ url: servers.url, token: 'wrong-secret', key: 'x' });
    await assert.rejects(wrong.append('x', {}), (e) => e.code === 'REDIS_UNAUTHORIZED' && !e.message.includes('wrong-secret'));
  });

  test('foreign data: a key of another type is refused whole; foreign stream entries are skipped and counted', async () => {
    const key = freshKey();
    await client.command(['SET', key, 'not a stream']);
    const log = new RedisEventLog({ client, key });
    await assert.rejects(log.append('x', {}), (e) => e.code === 'REDIS_ERROR' && /WRONGTYPE/.test(e.message));
    assert.equal(await client.command(['GET', key]), 'not a stream');
    assert.equal(await client.command(['EXISTS', `${key}:meta`]), 0, 'nothing written');
    await assert.rejects(log.read(), /WRONGTYPE/);

    const other = freshKey();
    const mixed = new RedisEventLog({ client, key: other });
    await mixed.append('ours', {});
    await client.command(['XADD', other, '2-0', 'something', 'else']);
    await client.command(['XADD', other, '3-0', 'kind', 'k', 'ts', '1.0', 'payload', 'not json']);
    const next = await mixed.append('ours again', {});
    assert.equal(next.id, 4, 'ids continue above entries written by others');
    const page = await mixed.read({ since: 0 });
    assert.deepEqual(page.events.map((e) => e.kind), ['ours', 'ours again']);
    assert.equal((await mixed.stats()).unreadable, 2);
  });

  test('activityHandler over it: JSON pages and a polled SSE live tail, fed by another pod', async () => {
    const key = freshKey();
    const log = new RedisEventLog({ client, key });
    const writer = new RedisEventLog({ url: servers.url, token: TOKEN, key });
    await writer.append('turn.started', { turn: 1 });
    const server = await serveFetch(activityHandler(log, { pollMs: 50, heartbeatMs: 10_000 }));
    cleanups.push(() => server.close());
    const page = await (await fetch(`${server.url}/activity?since=0`)).json();
    assert.deepEqual(page.events.map((e) => e.kind), ['turn.started']);
    assert.deepEqual([page.first_id, page.last_id, page.missed, page.next_since], [1, 1, 0, 1]);

    const controller = new AbortController();
    const response = await fetch(`${server.url}/activity`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    const reader = sseReader(response.body);
    try {
      const replayed = await nextFrame(reader);
      assert.equal(replayed.id, '1');
      await writer.append('tool.invoked', { tool: 'search' });
      const live = await nextFrame(reader);
      assert.equal(live.id, '2');
      assert.equal(live.event, 'tool.invoked');
      assert.deepEqual(live.data.payload, { tool: "search" });
    } finally {
      controller.abort();
    }
  });
});

async function nextFrame(reader) {
  for (;;) {
    const frame = await reader.next();
    if (frame === null || frame.id !== undefined) return frame;
  }
}
