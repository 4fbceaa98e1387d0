// RedisEventBuffer against a real redis-server behind the Upstash-compatible gateway: layout,
// ordering, request counts, lost responses (fault-injecting proxy), backpressure, degradation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RedisEventBuffer, RedisRestClient, EventBuffer, isBufferBackend, PayloadError, parsePayload,
} from '../../pkg/entry/node.js';
import { redisUnavailableReason, startFaultProxy, startGateway, startRedis, startRedisWithGateway } from '../helpers/redis.mjs';

const TOKEN = 'buffer-test-token';
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

let prefixCounter = 0;
const freshPrefix = () => `t${process.pid}x${prefixCounter++}`;
const summary = (text, extra = {}) => ({ type: 'summary', product_id: 'p', session_id: 's1', summary: text, replaces: 0, forwarded_at: 1000, ...extra });
const texts = (payloads) => payloads.map((p) => p.summary);

async function proxy(policy) {
  const started = await startFaultProxy({ target: servers.url, policy });
  cleanups.push(() => started.stop());
  return started;
}

/** Every key of a prefix, sorted. */
async function keysOf(prefix) {
  const keys = await client.command(['KEYS', `autoplay:sdk:*:${prefix}*`]);
  return keys.filter((k) => k.split(':')[3] === prefix).sort();
}

describe('RedisEventBuffer', { skip: unavailable ?? false }, () => {
  test('is a BufferBackend; isBufferBackend checks the shape', () => {
    const buffer = new RedisEventBuffer({ client, keyPrefix: freshPrefix() });
    assert.equal(isBufferBackend(buffer), true);
    assert.equal(isBufferBackend({ add() {}, drain() {}, size() {} }), true);
    assert.equal(isBufferBackend(new EventBuffer()), false, 'size is a getter there, not a method');
    for (const value of [null, undefined, 1, 'x', {}, { add() {}, drain() {} }]) assert.equal(isBufferBackend(value), false);
  });

  test('writes the Python SDK layout: sessions set, one ZSET per session, 8-hex members, scores', async () => {
    const prefix = freshPrefix();
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix, now: () => 1234.5 });
    await Promise.all([
      buffer.add(summary('a', { session_id: 's1', forwarded_at: 1000.25 })),
      buffer.add(summary('é😀', { session_id: null, forwarded_at: 0 })),
      buffer.add({ type: 'actions', session_id: '', actions: [{ index: 0, type: 'click', description: 'ü' }] }),
    ]);
    assert.deepEqual((await client.command(['SMEMBERS', `autoplay:sdk:sessions:${prefix}`])).sort(), ['_nosession', 's1']);
    const s1 = await client.command(['ZRANGE', `autoplay:sdk:buffer:${prefix}:s1`, '0', '-1', 'WITHSCORES']);
    assert.equal(s1.length, 2);
    assert.match(s1[0], /^[0-9a-f]{8}:\{"type":"summary","product_id":"p","session_id":"s1","summary":"a",/);
    assert.equal(Number(s1[1]), 1000.25);
    const none = await client.command(['ZRANGE', `autoplay:sdk:buffer:${prefix}:_nosession`, '0', '-1', 'WITHSCORES']);
    assert.equal(none.length, 4);
    assert.ok(none.includes('1234.5'), 'forwarded_at 0 or absent scores as now');
    const members = none.filter((_, i) => i % 2 === 0);
    assert.ok(members.every((m) => /^[\x20-\x7e]+$/.test(m)), 'members are ASCII');
    assert.ok(members.some((m) => m.includes('"summary":"\\u00e9\\ud83d\\ude00"')), 'ensure_ascii escapes with surrogate pairs');
    assert.ok(members.some((m) => m.includes('"description":"\\u00fc"')));
    assert.equal(await buffer.size(), 3);
  });

  test('each add trims members of its session older than the window', async () => {
    const prefix = freshPrefix();
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix, windowSeconds: 100 });
    await buffer.add(summary('old', { forwarded_at: 1000 }));
    await buffer.add(summary('edge', { forwarded_at: 1050 }));
    await buffer.add(summary('other session', { session_id: 's2', forwarded_at: 900 }));
    await buffer.add(summary('new', { forwarded_at: 1150 }));
    // 1150 - 100 = 1050: 'old' is below and goes; 'edge' (exactly at the bound) stays.
    assert.equal(buffer.stats().evicted, 1);
    assert.deepEqual(texts(await buffer.drain()), ['other session', 'edge', 'new']);
  });

  test('drain: chronological across sessions, ties in arrival order, removes what it returned', async () => {
    const prefix = freshPrefix();
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
    const adds = [];
    for (let i = 0; i < 30; i++) adds.push(buffer.add(summary(`t${i}`, { session_id: `s${i % 4}`, forwarded_at: i % 3 === 0 ? 50 : 60 })));
    await Promise.all(adds);
    await buffer.add(summary('later', { forwarded_at: 40 }));
    const drained = await buffer.drain();
    const expected = [
      'later',
      ...Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 === 0).map((i) => `t${i}`),
      ...Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `t${i}`),
    ];
    assert.deepEqual(texts(drained), expected);
    assert.deepEqual(drained[0], parsePayload(summary('later', { forwarded_at: 40 })), 'payloads come back as parsePayload gives them');
    assert.deepEqual(await buffer.drain(), []);
    assert.equal(await buffer.size(), 0);
    assert.deepEqual((await keysOf(prefix)).filter((k) => !k.includes(':seq:') && !k.includes(':batch:') && !k.includes(':drain:')), []);
  });

  test('HTTP requests at the server: 1,000 adds issued together take at most 10, a drain 1, a size 1', async () => {
    const prefix = freshPrefix();
    const buffer = new RedisEventBuffer({ client: new RedisRestClient({ url: servers.url, token: TOKEN }), keyPrefix: prefix });
    await buffer.add(summary('warm-up')); // the scripts get cached by the first EVAL
    await buffer.size();
    await buffer.drain();
    await servers.gateway.resetCounts();
    const adds = [];
    for (let i = 0; i < 1000; i++) adds.push(buffer.add(summary(`e${i}`, { session_id: `s${i % 7}` })));
    await Promise.all(adds);
    const addRequests = (await servers.gateway.counts())['/'];
    assert.ok(addRequests <= 10, `${addRequests} requests for 1,000 adds`);
    await servers.gateway.resetCounts();
    assert.equal(await buffer.size(), 1000);
    assert.deepEqual(await servers.gateway.counts(), { '/': 1 });
    await servers.gateway.resetCounts();
    assert.equal((await buffer.drain()).length, 1000);
    assert.deepEqual(await servers.gateway.counts(), { '/': 1 });
    assert.equal(buffer.stats().stored, 1001);
  });

  test('concurrent drainers never receive the same event, and together receive all', async () => {
    const prefix = freshPrefix();
    const writer = new RedisEventBuffer({ client, keyPrefix: prefix });
    const drainers = [0, 1].map(() => new RedisEventBuffer({ url: servers.url, token: TOKEN, keyPrefix: prefix }));
    const received = [[], []];
    let writing = true;
    const loops = drainers.map(async (drainer, i) => {
      while (writing) {
        received[i].push(...texts(await drainer.drain()));
        await new Promise((r) => setTimeout(r, Math.random() * 4));
      }
      received[i].push(...texts(await drainer.drain()));
    });
    for (let round = 0; round < 40; round++) {
      const batch = [];
      for (let j = 0; j < 25; j++) batch.push(writer.add(summary(`r${round}-${j}`, { session_id: `s${j % 5}` })));
      await Promise.all(batch);
    }
    writing = false;
    await Promise.all(loops);
    const all = [...received[0], ...received[1]];
    assert.equal(new Set(all).size, all.length, 'no event drained twice');
    assert.equal(all.length, 1000);
    assert.ok(received[0].length > 0 && received[1].length > 0, `both drainers took part: ${received[0].length} + ${received[1].length}`);
  });

  test('lost add responses: retried under the same batch id, stored once', async () => {
    const prefix = freshPrefix();
    let drops = 0;
    const lossy = await proxy(({ body }) => (body.includes('EVAL') && drops++ < 2 ? 'drop-response' : 'pass'));
    const buffer = new RedisEventBuffer({ client: new RedisRestClient({ url: lossy.url, token: TOKEN }), keyPrefix: prefix });
    await Promise.all([buffer.add(summary('x')), buffer.add(summary('y'))]);
    const stats = buffer.stats();
    assert.equal(stats.stored, 2);
    assert.equal(stats.replayedAdds, 1, 'the retry found the batch already applied');
    assert.ok(stats.retries >= 1);
    assert.deepEqual(texts(await new RedisEventBuffer({ client, keyPrefix: prefix }).drain()), ['x', 'y']);
  });

  test('lost drain responses: the same batch comes back under the same drain id, then is released', async () => {
    const prefix = freshPrefix();
    const writer = new RedisEventBuffer({ client, keyPrefix: prefix });
    await Promise.all([writer.add(summary('a')), writer.add(summary('b'))]);
    let dropDrains = 3; // every attempt of one drain() call
    const lossy = await proxy(({ body }) => {
      const isDrain = body.includes(`autoplay:sdk:drain:${prefix}:`);
      return isDrain && dropDrains-- > 0 ? 'drop-response' : 'pass';
    });
    const drainer = new RedisEventBuffer({ client: new RedisRestClient({ url: lossy.url, token: TOKEN }), keyPrefix: prefix });
    assert.deepEqual(await drainer.drain(), [], 'the answer never arrived');
    assert.equal(await writer.size(), 0, 'the server did drain');
    await writer.add(summary('c'));
    assert.deepEqual(texts(await drainer.drain()), ['a', 'b'], 'the next drain returns the kept batch');
    assert.equal(drainer.stats().replayedDrains, 1);
    assert.equal((await keysOf(prefix)).filter((k) => k.includes(':drain:')).length, 1, 'kept until the next drain');
    assert.deepEqual(texts(await drainer.drain()), ['c']);
    assert.deepEqual(texts(await drainer.drain()), []);
    assert.equal((await keysOf(prefix)).filter((k) => k.includes(':drain:')).length, 0, 'delivered batches are released');
  });

  test('a proxy that drops responses at random: nothing lost, nothing duplicated', async () => {
    const prefix = freshPrefix();
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const lossy = await proxy(() => (random() < 0.25 ? 'drop-response' : 'pass'));
    const lossyClient = new RedisRestClient({ url: lossy.url, token: TOKEN, timeoutMs: 2000 });
    const dropped = [];
    const writer = new RedisEventBuffer({ client: lossyClient, keyPrefix: prefix, onDrop: (p) => dropped.push(p.summary) });
    const drainer = new RedisEventBuffer({ client: lossyClient, keyPrefix: prefix });
    const drained = [];
    let writing = true;
    const loop = (async () => {
      while (writing) {
        drained.push(...texts(await drainer.drain()));
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const produced = [];
    for (let round = 0; round < 60; round++) {
      const batch = [];
      for (let j = 0; j < 10; j++) {
        const text = `f${round}-${j}`;
        produced.push(text);
        batch.push(writer.add(summary(text, { session_id: `s${j % 3}` })));
      }
      await Promise.all(batch);
    }
    writing = false;
    await loop;
    for (let i = 0; i < 20 && (await writer.flush()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const final = new RedisEventBuffer({ client, keyPrefix: prefix });
    for (let i = 0; i < 5; i++) drained.push(...texts(await drainer.drain())); // release or replay kept batches
    drained.push(...texts(await final.drain()));
    assert.equal(writer.stats().unsettled, 0);
    assert.equal(new Set(drained).size, drained.length, 'nothing drained twice');
    assert.deepEqual(drained.filter((t) => dropped.includes(t)), [], 'nothing both dropped and drained');
    assert.deepEqual([...drained, ...dropped].sort(), produced.sort(), 'produced = drained + dropped');
    assert.ok(lossy.counts.dropped > 10, `${lossy.counts.dropped} responses dropped`);
  });

  test('backpressure: with maxConcurrent requests in flight, new payloads are dropped at once', async () => {
    const prefix = freshPrefix();
    const held = [];
    const slow = await proxy(() => {
      held.push(true);
      return 'hang';
    });
    const dropped = [];
    const buffer = new RedisEventBuffer({
      client: new RedisRestClient({ url: slow.url, token: TOKEN, timeoutMs: 400 }), keyPrefix: prefix, maxConcurrent: 2,
      onDrop: (p, reason) => dropped.push([p.summary, reason]),
    });
    const first = buffer.add(summary('1'));
    await null;
    const second = buffer.add(summary('2'));
    await new Promise((r) => setTimeout(r, 50));
    await buffer.add(summary('3'));
    assert.deepEqual(dropped, [['3', 'backpressure']], 'dropped and resolved at once');
    assert.equal(buffer.stats().pending, 2);
    await Promise.all([first, second]);
    const stats = buffer.stats();
    assert.equal(stats.added, 3);
    assert.equal(stats.added, stats.pending + stats.unsettled + stats.stored + stats.dropped.backpressure + stats.dropped.unavailable + stats.dropped.error);
  });

  test('Redis down behind a live gateway: nothing throws, it degrades, then recovers by itself', async () => {
    const redis = await startRedis();
    const gateway = await startGateway({ redisUrl: redis.url, token: TOKEN });
    cleanups.push(() => gateway.stop(), () => redis.stop());
    const dropped = [];
    const buffer = new RedisEventBuffer({
      url: gateway.url, token: TOKEN, keyPrefix: freshPrefix(), timeoutMs: 300, maxConcurrent: 1,
      onDrop: (p, reason) => dropped.push([p.summary, reason]),
    });
    await buffer.add(summary('before'));
    await redis.stop();
    await buffer.add(summary('lost in transit')); // times out: outcome unknown, kept for settling
    assert.equal(buffer.stats().unsettled, 1);
    await buffer.add(summary('no slot'));
    assert.deepEqual(dropped, [['no slot', 'backpressure']]);
    assert.deepEqual(await buffer.drain(), []);
    assert.equal(await buffer.size(), 0);
    const restarted = await startRedis({ port: redis.port });
    cleanups.push(() => restarted.stop());
    let unsettled = 1;
    for (let i = 0; i < 60 && unsettled > 0; i++) {
      unsettled = await buffer.flush();
      if (unsettled) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(unsettled, 0, 'settled once Redis is back');
    // The new Redis is empty: the batch was never applied there, so it is fenced and dropped.
    assert.deepEqual(dropped, [['no slot', 'backpressure'], ['lost in transit', 'unavailable']]);
    await buffer.add(summary('after'));
    assert.deepEqual(texts(await buffer.drain()), ['after'], 'recovered without a restart');
    const s = buffer.stats();
    assert.equal(s.added, s.stored + s.dropped.backpressure + s.dropped.unavailable + s.dropped.error + s.pending + s.unsettled);
  });

  test('gateway down (connection refused): add reports onDrop at once; drain [] and size 0', async () => {
    const closed = await startFaultProxy({ target: servers.url });
    const { url } = closed;
    await closed.stop();
    const dropped = [];
    const buffer = new RedisEventBuffer({ url, token: TOKEN, onDrop: (p, reason) => dropped.push(reason) });
    await buffer.add(summary('x'));
    assert.deepEqual(dropped, ['unavailable']);
    assert.deepEqual(await buffer.drain(), []);
    assert.equal(await buffer.size(), 0);
    assert.equal(buffer.stats().unsettled, 0);
  });

  test('a wrong token: add drops with reason error; drain and size degrade', async () => {
    const dropped = [];
    const buffer = new RedisEventBuffer({ url: servers.url, token: 'wrong', onDrop: (p, reason) => dropped.push(reason) });
    await buffer.add(summary('x'));
    assert.deepEqual(dropped, ['error']);
    assert.deepEqual(await buffer.drain(), []);
    assert.equal(await buffer.size(), 0);
    assert.ok(buffer.stats().errors >= 3);
  });

  test('members that are no payload are removed and reported, not dropped silently', async () => {
    const prefix = freshPrefix();
    await client.command(['SADD', `autoplay:sdk:sessions:${prefix}`, 's']);
    await client.command(['ZADD', `autoplay:sdk:buffer:${prefix}:s`, '1', 'abcdefgh:{broken']);
    await client.command(['ZADD', `autoplay:sdk:buffer:${prefix}:s`, '2', JSON.stringify(summary('no prefix'))]);
    const unreadable = [];
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix, onUnreadable: (member, problem) => unreadable.push([member, problem]) });
    assert.deepEqual(texts(await buffer.drain()), ['no prefix']);
    assert.equal(unreadable.length, 1);
    assert.equal(unreadable[0][0], 'abcdefgh:{broken');
    assert.match(unreadable[0][1], /not JSON/);
    assert.equal(buffer.stats().unreadable, 1);
  });

  test('foreign data under a session key: the add fails whole, nothing half written', async () => {
    const prefix = freshPrefix();
    await client.command(['SET', `autoplay:sdk:buffer:${prefix}:bad`, 'a string']);
    const dropped = [];
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix, onDrop: (p, reason) => dropped.push([p.summary, reason]) });
    await Promise.all([buffer.add(summary('ok', { session_id: 'good' })), buffer.add(summary('x', { session_id: 'bad' }))]);
    assert.deepEqual(dropped, [['ok', 'error'], ['x', 'error']]);
    assert.equal(await client.command(['EXISTS', `autoplay:sdk:buffer:${prefix}:good`]), 0, 'nothing of the batch was written');
    assert.equal(await buffer.size(), 0);
  });

  test('bad options and payloads throw, naming what is wrong, and change nothing', async () => {
    const prefix = freshPrefix();
    for (const keyPrefix of ['', 'a:b', ':']) {
      assert.throws(() => new RedisEventBuffer({ client, keyPrefix }), RangeError);
    }
    assert.throws(() => new RedisEventBuffer({ client, keyPrefix: 'a:b' }), /keyPrefix must not contain ':'/);
    assert.throws(() => new RedisEventBuffer({ client, keyPrefix: 5 }), TypeError);
    for (const windowSeconds of [0, -1, NaN, Infinity]) assert.throws(() => new RedisEventBuffer({ client, windowSeconds }), RangeError);
    assert.throws(() => new RedisEventBuffer({ client, maxConcurrent: 0 }), RangeError);
    assert.throws(() => new RedisEventBuffer({ client, maxConcurrent: 1.5 }), RangeError);
    assert.throws(() => new RedisEventBuffer({ client, maxConcurent: 3 }), /unknown option "maxConcurent"/);
    assert.throws(() => new RedisEventBuffer({ client, url: servers.url, token: TOKEN }), TypeError);
    assert.throws(() => new RedisEventBuffer({ client, onDrop: 'x' }), TypeError);
    assert.throws(() => new RedisEventBuffer({ client: {} }), TypeError);
    const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
    assert.throws(() => buffer.add({ type: 'actions', actions: [{ index: '3' }] }), (e) => e instanceof PayloadError && e.field === 'actions[0].index');
    assert.throws(() => buffer.add(null), PayloadError);
    assert.throws(() => buffer.add({ type: 'other' }), PayloadError);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(buffer.stats().added, 0);
    assert.deepEqual(await keysOf(prefix), [], 'nothing was written');
    const { add, drain, size } = buffer;
    await add(summary('bound'));
    assert.equal(await size(), 1);
    assert.deepEqual(texts(await drain()), ['bound']);
  });
});
