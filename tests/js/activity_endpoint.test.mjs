// The activity endpoint over real HTTP: node:http serving the Fetch handler (tests/helpers/
// fetch_server.mjs) and workerd through Miniflare, both read with a streaming SSE reader.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { InMemoryEventLog, activityHandler } from '../../pkg/entry/node.js';
import { serveFetch, sseReader } from '../helpers/fetch_server.mjs';
import { prepareConsumer } from '../helpers/consumer.mjs';

const T0 = 1_700_000_000;
const ids = (events) => events.map((e) => e.id);
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Waits (no deadline of its own: the test's timeout bounds it) until `condition()` holds. */
async function until(condition) {
  while (!(await condition())) await tick();
}

/** Reads frames until one has an `id` (skipping heartbeats). */
async function nextEvent(reader) {
  for (;;) {
    const frame = await reader.next();
    if (frame === null || frame.id !== undefined) return frame;
  }
}

describe('activity endpoint in Node (node:http)', { timeout: 60_000 }, () => {
  let server;
  let log;
  let corsServer;

  before(async () => {
    log = new InMemoryEventLog({ maxEntries: 700, now: () => T0 });
    server = await serveFetch(activityHandler(log, { heartbeatMs: 20 }));
    corsServer = await serveFetch(activityHandler(log, { cors: true }));
  });

  after(async () => {
    await server?.close();
    await corsServer?.close();
  });

  test('GET returns { events, first_id, last_id, missed, next_since }, limit default 100, cap 500', async () => {
    for (let i = 0; i < 710; i++) log.append(i % 2 ? 'tool.invoked' : 'turn.started', { i });
    const response = await fetch(`${server.url}/?since=20&limit=3`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^application\/json/);
    const body = await response.json();
    assert.deepEqual(Object.keys(body), ['events', 'first_id', 'last_id', 'missed', 'next_since']);
    assert.deepEqual(ids(body.events), [21, 22, 23]);
    assert.deepEqual(body.events[0], { id: 21, timestamp: T0, kind: 'turn.started', payload: { i: 20 } });
    assert.deepEqual([body.first_id, body.last_id, body.missed, body.next_since], [11, 710, 0, 23]);
    const stale = await (await fetch(`${server.url}/?since=5&limit=1`)).json();
    assert.deepEqual([ids(stale.events), stale.missed, stale.next_since], [[11], 5, 11]);
    assert.equal((await (await fetch(server.url)).json()).events.length, 100);
    assert.equal((await (await fetch(`${server.url}/?limit=100000`)).json()).events.length, 500);
    const empty = await (await fetch(`${server.url}/?since=710&limit=0`)).json();
    assert.deepEqual([empty.events, empty.next_since], [[], 710]);
    const ahead = await (await fetch(`${server.url}/?since=9999`)).json();
    assert.deepEqual([ahead.events, ahead.next_since], [[], 710]);
  });

  test('malformed since/limit -> 400 { error } naming the parameter; nothing changes', async () => {
    const before = log.stats();
    for (const [query, name] of [['since=abc', 'since'], ['since=-1', 'since'], ['since=1.5', 'since'],
      ['limit=-1', 'limit'], ['limit=ten', 'limit'], ['limit=2e3', 'limit'], ['since=99999999999999999999', 'since']]) {
      const response = await fetch(`${server.url}/?${query}`);
      assert.equal(response.status, 400, query);
      const body = await response.json();
      assert.deepEqual(Object.keys(body), ['error'], query);
      assert.match(body.error, new RegExp(`invalid ${name}`), query);
    }
    const stream = await fetch(`${server.url}/?since=x`, { headers: { accept: 'text/event-stream' } });
    assert.equal(stream.status, 400);
    const badHeader = await fetch(server.url, { headers: { accept: 'text/event-stream', 'last-event-id': 'z' } });
    assert.equal(badHeader.status, 400);
    assert.match((await badHeader.json()).error, /Last-Event-ID/);
    assert.deepEqual(log.stats(), before);
  });

  test('other methods -> 405 with Allow; CORS headers and preflight when enabled', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const response = await fetch(server.url, { method, body: method === 'OPTIONS' ? undefined : '{}' });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get('allow'), 'GET, HEAD', method);
      assert.match((await response.json()).error, new RegExp(method));
    }
    assert.equal((await fetch(server.url)).headers.get('access-control-allow-origin'), null);
    const get = await fetch(`${corsServer.url}/?limit=1`);
    assert.equal(get.headers.get('access-control-allow-origin'), '*');
    const preflight = await fetch(corsServer.url, { method: 'OPTIONS' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, HEAD, OPTIONS');
    assert.equal((await fetch(corsServer.url, { method: 'POST' })).headers.get('allow'), 'GET, HEAD, OPTIONS');
  });

  test('bad handler arguments are TypeErrors', () => {
    assert.throws(() => activityHandler(null), TypeError);
    assert.throws(() => activityHandler({}), TypeError);
    assert.throws(() => activityHandler(log, { heartbeatMs: 0 }), TypeError);
    assert.throws(() => activityHandler(log, { cors: 5 }), TypeError);
  });

  test('SSE: replays from since, pushes each append live, heartbeats, and cleans up on disconnect', async () => {
    const baselineTimers = timers();
    assert.equal(log.subscriberCount, 0);
    const last = log.lastId;
    const response = await fetch(`${server.url}/?since=${last - 2}`, { headers: { accept: 'text/event-stream' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const reader = sseReader(response.body);
    const replayed = [await nextEvent(reader), await nextEvent(reader)];
    assert.deepEqual(replayed.map((f) => Number(f.id)), [last - 1, last]);
    assert.equal(replayed[1].event, log.query({ since: last - 1 })[0].kind);
    assert.deepEqual(replayed[1].data, log.query({ since: last - 1 })[0]);
    await until(() => log.subscriberCount === 1);
    const appended = log.append('peer.message.delivered', { to: 'b', text: 'two\nlines' });
    const pushed = await nextEvent(reader);
    assert.deepEqual([Number(pushed.id), pushed.event, pushed.data], [appended.id, 'peer.message.delivered', appended]);
    let heartbeat;
    while (!(heartbeat = await reader.next()).comment);
    assert.equal(heartbeat.comment, 'heartbeat');
    assert.ok(timers() > baselineTimers, 'the heartbeat timer runs while connected');
    await reader.cancel();
    await until(() => log.subscriberCount === 0);
    await until(() => timers() === baselineTimers);
  });

  test('SSE: Last-Event-ID wins over since; no event is sent twice or skipped', async () => {
    const last = log.lastId;
    const response = await fetch(`${server.url}/?since=1`, {
      headers: { accept: 'text/event-stream', 'last-event-id': String(last - 1) },
    });
    const reader = sseReader(response.body);
    assert.equal(Number((await nextEvent(reader)).id), last);
    await until(() => log.subscriberCount === 1);
    const burst = [log.append('a'), log.append('b'), log.append('c')];
    for (const event of burst) assert.equal(Number((await nextEvent(reader)).id), event.id);
    await reader.cancel();
    await until(() => log.subscriberCount === 0);
  });

  test('an awaited backend without read/subscribe: JSON fallback and a polling tail', async () => {
    const inner = new InMemoryEventLog();
    const backend = {
      append: async (kind, payload) => inner.append(kind, payload),
      query: async (options) => inner.query(options),
      clear: async () => inner.clear(),
    };
    await backend.append('a');
    const pollServer = await serveFetch(activityHandler(backend, { pollMs: 10 }));
    try {
      const body = await (await fetch(pollServer.url)).json();
      assert.deepEqual([ids(body.events), body.first_id, body.last_id, body.missed, body.next_since], [[1], null, 1, 0, 1]);
      const reader = sseReader((await fetch(pollServer.url, { headers: { accept: 'text/event-stream' } })).body);
      assert.equal(Number((await nextEvent(reader)).id), 1);
      await backend.append('b');
      assert.equal(Number((await nextEvent(reader)).id), 2);
      await reader.cancel();
    } finally {
      await pollServer.close();
    }
  });
});

describe('activity endpoint in workerd (Miniflare)', { timeout: 120_000 }, () => {
  let mf;

  before(async () => {
    const consumer = await prepareConsumer('activity');
    mf = new Miniflare({
      modules: true,
      scriptPath: join(consumer.dir, 'activity-worker.mjs'),
      modulesRules: [
        { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
        { type: 'CompiledWasm', include: ['**/*.wasm'] },
      ],
      compatibilityDate: '2026-01-01',
      // workerd reports a client disconnect to the Worker through request.signal only with
      // this flag; the live tail stops on that abort (see README, "Activity endpoint").
      compatibilityFlags: ['enable_request_signal'],
    });
  });

  after(async () => {
    await mf?.dispose();
  });

  const append = async (kind, n) => (await mf.dispatchFetch(`http://localhost/append?kind=${kind}&n=${n}`)).json();
  const subscribers = async () => (await (await mf.dispatchFetch('http://localhost/subscribers')).json()).count;

  test('GET JSON, 400, 405 and CORS', async () => {
    for (let n = 1; n <= 3; n++) await append('tick', n);
    const response = await mf.dispatchFetch('http://localhost/activity?since=1&limit=1');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://canvas.example');
    const body = await response.json();
    assert.deepEqual([ids(body.events), body.first_id, body.last_id, body.missed, body.next_since], [[2], 1, 3, 0, 2]);
    assert.deepEqual(body.events[0].payload, { n: 2 });
    const bad = await mf.dispatchFetch('http://localhost/activity?limit=x');
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /invalid limit/);
    const post = await mf.dispatchFetch('http://localhost/activity', { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD, OPTIONS');
    await post.arrayBuffer();
  });

  test('SSE: replay, live push, heartbeat, and no listener left after disconnect', async () => {
    const response = await mf.dispatchFetch('http://localhost/activity?since=2', {
      headers: { accept: 'text/event-stream' },
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const reader = sseReader(response.body);
    const replayed = await nextEvent(reader);
    assert.deepEqual([Number(replayed.id), replayed.event, replayed.data.payload], [3, 'tick', { n: 3 }]);
    await until(async () => (await subscribers()) === 1);
    const appended = await append('tool.invoked', 4);
    const pushed = await nextEvent(reader);
    assert.deepEqual([Number(pushed.id), pushed.event, pushed.data], [appended.id, 'tool.invoked', appended]);
    let heartbeat;
    while (!(heartbeat = await reader.next()).comment);
    assert.equal(heartbeat.comment, 'heartbeat');
    await reader.cancel();
    await until(async () => (await subscribers()) === 0);
  });
});
