// ConnectorClient against a real local SSE server (tests/helpers/sse_server.mjs, node:http on
// 127.0.0.1), with faults injected by the server: cuts, error statuses, wrong content types,
// silence, bursts. Backoff is checked with injected timers, never with wall-clock sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorClient, ConnectorError, EventBuffer, TidepoolError } from '../../pkg/entry/node.js';
import { SSE_HEADERS, connectorEvent, frame, startSseServer } from '../helpers/sse_server.mjs';

const TOKEN = 'connector-token';
const tick = () => new Promise((resolve) => setTimeout(resolve, 2));

/** Waits (no deadline of its own: the test's timeout bounds it) until `condition()` holds. */
async function until(condition) {
  while (!(await condition())) await tick();
}

/** The invariant stats() promises: every actions or summary event received is accounted for. */
function assertAccounted(stats) {
  const { events, delivered, skipped, dropped, discarded, queued } = stats;
  assert.equal(events.actions + events.summary, delivered + skipped.invalidPayload + dropped + discarded + queued, JSON.stringify(stats));
}

/** setTimeout / clearTimeout that only fire when the test says so. */
function fakeTimers() {
  const pending = new Map();
  let next = 1;
  return {
    pending,
    timers: {
      setTimeout: (fn, ms) => {
        pending.set(next, { fn, ms });
        return next++;
      },
      clearTimeout: (id) => pending.delete(id),
    },
    /** Waits for a pending timer whose delay is not `except`, fires it, and returns its delay. */
    async fire(except) {
      for (;;) {
        for (const [id, timer] of pending) {
          if (timer.ms !== except) {
            pending.delete(id);
            timer.fn();
            return timer.ms;
          }
        }
        await tick();
      }
    },
  };
}

const status = (code, headers = {}) => (req, res) => res.writeHead(code, { 'content-type': 'text/plain', ...headers }).end('no');
const forwardedAts = (payloads) => payloads.map((p) => p.forwarded_at);

describe('ConnectorClient in Node against a local SSE server', { timeout: 60_000 }, () => {
  let server;
  const clientFor = (options = {}) => new ConnectorClient({ url: `${server.url}/stream/p`, token: TOKEN, initialBackoffMs: 5, ...options });

  before(async () => {
    server = await startSseServer({ token: TOKEN });
  });
  after(async () => server?.close());

  const fresh = () => {
    server.requests.length = 0;
  };

  test('feeds an EventBuffer through bound callbacks, resumes after a normal end, stops cleanly on 204', async () => {
    fresh();
    const buffer = new EventBuffer();
    const everything = [];
    const hooks = [];
    const client = clientFor({ onConnect: () => hooks.push('connect'), onDisconnect: (error) => hooks.push(error) });
    assert.equal(client.onActions(buffer.add).onSummary(buffer.add), client, 'registration returns the client');
    client.onEvent((payload) => everything.push(payload.type));
    await client.run();
    const drained = buffer.drain();
    assert.deepEqual(forwardedAts(drained), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(drained[0], {
      type: 'actions', product_id: 'p', session_id: 's1', user_id: null, email: null, count: 1, forwarded_at: 1, conversation_id: null,
      actions: [{
        title: '', description: 'click 1 ü😀', canonical_url: '', index: 0, type: 'click', timestamp_start: 0, timestamp_end: 0,
        raw_url: '', session_id: null, user_id: null, email: null, conversation_id: null,
      }],
    }, 'payloads are validated and normalised by parsePayload');
    assert.deepEqual(everything, ['actions', 'summary', 'actions', 'summary', 'actions', 'summary']);
    assert.deepEqual(hooks, ['connect', null, 'connect', null]);
    assert.deepEqual(server.requests.map((r) => [r.path, r.authorization, r.lastEventId]), [
      ['/stream/p', `Bearer ${TOKEN}`, undefined], ['/stream/p', `Bearer ${TOKEN}`, '3'], ['/stream/p', `Bearer ${TOKEN}`, '6'],
    ]);
    const stats = client.stats();
    assert.deepEqual(stats, {
      connects: 2, reconnects: 2, failures: 0,
      events: { actions: 3, summary: 3, heartbeat: 2 },
      skipped: { invalidJson: 0, unknownType: 0, invalidPayload: 0, tooLarge: 0, incomplete: 0 },
      delivered: 6, dropped: 0, discarded: 0, callbackErrors: 0, queued: 0, lastEventId: '6',
    });
    assertAccounted(stats);
    assert.equal(client.lastEventId, '6');
    assert.equal(client.running, false);
  });

  test('a stream cut mid-event: reconnects with Last-Event-ID, no duplicates, no gaps', async () => {
    fresh();
    server.script((req, res) => {
      res.writeHead(200, SSE_HEADERS);
      const text = frame(connectorEvent(1), { id: 1 }) + frame(connectorEvent(2), { id: 2 }) + frame(connectorEvent(3), { id: 3 });
      res.write(text.slice(0, text.length - 20), () => setTimeout(() => res.socket.destroy(), 20));
    });
    const delivered = [];
    const disconnects = [];
    const client = clientFor({ onDisconnect: (error) => disconnects.push(error) }).onEvent((p) => delivered.push(p));
    await client.run();
    assert.deepEqual(forwardedAts(delivered), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(server.requests.map((r) => r.lastEventId), [undefined, '2', '5', '6']);
    assert.ok(disconnects[0] instanceof ConnectorError);
    assert.equal(disconnects[0].code, 'CONNECTOR_STREAM');
    const stats = client.stats();
    assert.equal(stats.skipped.incomplete, 1, 'the cut event counts as incomplete (and came again after the resume)');
    assert.equal(stats.failures, 1);
    assertAccounted(stats);
  });

  test('every byte written separately (CRLF line ends, multi-byte characters) still yields the same events', async () => {
    fresh();
    const bytes = new TextEncoder().encode(
      [1, 2, 3, 4].map((n) => frame(connectorEvent(n), { id: n })).join('').replaceAll('\n', '\r\n'),
    );
    server.script(async (req, res) => {
      res.writeHead(200, SSE_HEADERS);
      for (const byte of bytes) {
        res.write(Uint8Array.of(byte));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    }, status(204));
    const delivered = [];
    const client = clientFor().onEvent((p) => delivered.push(p));
    await client.run();
    assert.deepEqual(forwardedAts(delivered), [1, 2, 3, 4]);
    assert.equal(delivered[0].actions[0].description, 'click 1 ü😀');
  });

  for (const [code, name] of [[401, 'CONNECTOR_UNAUTHORIZED'], [403, 'CONNECTOR_FORBIDDEN'], [404, 'CONNECTOR_NOT_FOUND']]) {
    test(`HTTP ${code} is fatal: run() rejects with ${name} at once, without retrying`, async () => {
      fresh();
      server.script(status(code));
      const connects = [];
      const client = clientFor({ token: 'secret-token-value', onConnect: () => connects.push(1) });
      await assert.rejects(client.run(), (error) => {
        assert.ok(error instanceof ConnectorError && error instanceof TidepoolError);
        assert.equal(error.name, 'ConnectorError');
        assert.equal(error.code, name);
        assert.equal(error.status, code);
        assert.match(error.message, new RegExp(`HTTP ${code}`));
        assert.ok(!error.message.includes('secret-token-value'), 'the token is not in the message');
        return true;
      });
      assert.equal(server.requests.length, 1);
      assert.deepEqual(connects, []);
      assert.equal(client.stats().connects, 0);
      assert.equal(client.running, false);
    });
  }

  test('a content type other than text/event-stream is fatal; parameters are allowed', async () => {
    fresh();
    server.script(status(200, { 'content-type': 'text/html' }));
    const client = clientFor();
    await assert.rejects(client.run(), { name: 'ConnectorError', code: 'CONNECTOR_BAD_CONTENT_TYPE', status: 200, contentType: 'text/html' });
    assert.equal(server.requests.length, 1);
    fresh();
    server.script((req, res) => {
      res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' });
      res.end(frame(connectorEvent(2)));
    }, status(204));
    const delivered = [];
    await clientFor().onSummary((p) => delivered.push(p)).run();
    assert.deepEqual(forwardedAts(delivered), [2]);
  });

  test('500 and 503 are retried; the client recovers and delivers everything', async () => {
    fresh();
    server.script(status(500), status(503));
    const hooks = [];
    const delivered = [];
    const client = clientFor({ onConnect: () => hooks.push('connect'), onDisconnect: (e) => hooks.push(e) }).onEvent((p) => delivered.push(p));
    await client.run();
    assert.deepEqual(forwardedAts(delivered), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(hooks, ['connect', null, 'connect', null], 'failed attempts are not connections');
    const stats = client.stats();
    assert.deepEqual([stats.failures, stats.connects, stats.reconnects], [2, 2, 4]);
  });

  test('a server that accepts and never answers: each attempt times out; maxRetries ends the run', async () => {
    fresh();
    const silent = () => {};
    server.script(silent, silent);
    const client = clientFor({ connectTimeoutMs: 50, maxRetries: 1 });
    await assert.rejects(client.run(), (error) => {
      assert.equal(error.code, 'CONNECTOR_RETRIES_EXHAUSTED');
      assert.equal(error.attempts, 2);
      assert.equal(error.cause.code, 'CONNECTOR_TIMEOUT');
      assert.equal(error.cause.status, 0);
      return true;
    });
    assert.equal(server.requests.length, 2);
    assert.equal(client.stats().failures, 2);
  });

  test('the token and headers functions are called before each connection; a throwing token function is retried', async () => {
    fresh();
    let calls = 0;
    const client = clientFor({
      token: async () => {
        calls += 1;
        if (calls === 1) throw new Error('token service down');
        return TOKEN;
      },
      headers: () => ({ 'x-client': String(calls) }),
    });
    const delivered = [];
    client.onEvent((p) => delivered.push(p));
    await client.run();
    assert.deepEqual(forwardedAts(delivered), [1, 2, 3, 4, 5, 6]);
    assert.equal(calls, 4, 'one failed call, then one per request');
    assert.deepEqual(server.requests.map((r) => [r.authorization, r.client]), [
      [`Bearer ${TOKEN}`, '2'], [`Bearer ${TOKEN}`, '3'], [`Bearer ${TOKEN}`, '4'],
    ]);
    assert.equal(client.stats().failures, 1);
  });

  test('a token function returning something that is not a token rejects run() with a TypeError, before any request', async () => {
    fresh();
    for (const bad of ['', 'has space', 42, null]) {
      const client = clientFor({ token: () => bad });
      await assert.rejects(client.run(), TypeError);
    }
    assert.equal(server.requests.length, 0);
  });

  test('backoff: doubles up to maxBackoffMs with jitter, resets after a connection, honours retry:', async () => {
    fresh();
    const fail = status(500);
    server.script(fail, fail, fail, fail, fail, fail, (req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.end(frame(connectorEvent(1), { id: 6, retry: 300 }));
    }, fail, fail);
    const clock = fakeTimers();
    const client = clientFor({ initialBackoffMs: 100, maxBackoffMs: 1000, connectTimeoutMs: 10_000, timers: clock.timers, random: () => 0.5 });
    const running = client.run();
    const delays = [];
    for (let i = 0; i < 9; i++) delays.push(await clock.fire(10_000));
    await running;
    // +5%: the jitter is random() * 10% of the delay.
    assert.deepEqual(delays, [105, 210, 420, 840, 1050, 1050, 315, 315, 630]);
    assert.equal(server.requests.length, 10);
    assert.equal(clock.pending.size, 0, 'no timer left behind');
    assert.deepEqual([client.stats().failures, client.stats().reconnects], [8, 9]);
  });

  test('bursts larger than the queue: the newest events are dropped and reported; the reader never waits', async () => {
    fresh();
    server.script((req, res) => {
      res.writeHead(200, SSE_HEADERS);
      for (let n = 1; n <= 20; n++) res.write(frame(connectorEvent(2 * n), { id: n }));
      // Stays open: the test stops the client.
    });
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const delivered = [];
    const drops = [];
    const client = clientFor({ maxQueueSize: 5 })
      .onSummary(async (p) => {
        delivered.push(p.forwarded_at);
        await gate;
      })
      .onDrop((raw, total) => drops.push([raw.forwarded_at, total]));
    const running = client.run();
    await until(() => client.stats().dropped === 14);
    assert.deepEqual(delivered, [2], 'one event in the callback, five queued');
    assert.deepEqual(drops, Array.from({ length: 14 }, (_, i) => [2 * (i + 7), i + 1]), 'the raw event and the running total');
    let stats = client.stats();
    assert.deepEqual([stats.queued, stats.dropped, stats.delivered], [5, 14, 1]);
    assert.equal(client.lastEventId, '1', 'a restart would resume before the queued events');
    assertAccounted(stats);
    release();
    await until(() => client.stats().queued === 0);
    assert.deepEqual(delivered, [2, 4, 6, 8, 10, 12]);
    assert.equal(client.lastEventId, '20');
    client.stop();
    await running;
    stats = client.stats();
    assertAccounted(stats);
    assert.equal(stats.events.summary, 20);
  });

  test('stop() mid-stream: aborts the connection at once, leaves no timer; queued events are discarded and resumed later', async () => {
    fresh();
    let closed = false;
    server.script((req, res) => {
      req.on('close', () => (closed = true));
      res.writeHead(200, SSE_HEADERS);
      for (let n = 1; n <= 4; n++) res.write(frame(connectorEvent(2 * n), { id: n }));
    });
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    let release;
    const gate = new Promise((resolve) => (release = resolve));
    const delivered = [];
    const client = clientFor().onSummary(async (p) => {
      delivered.push(p.forwarded_at);
      await gate;
    });
    let settled = false;
    const running = client.run().then(() => (settled = true));
    await until(() => client.stats().queued === 3);
    client.stop();
    await until(() => closed);
    await tick();
    assert.equal(settled, false, 'run() waits for the callback in progress');
    release();
    await running;
    assert.deepEqual(delivered, [2]);
    const stats = client.stats();
    assert.deepEqual([stats.discarded, stats.queued], [3, 0]);
    assertAccounted(stats);
    assert.equal(client.lastEventId, '1', 'resumes after the last delivered event');
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore, 'no timer left');
    // Running again resumes where delivery stopped.
    fresh();
    server.script((req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.end(frame(connectorEvent(4), { id: 2 }));
    }, status(204));
    await client.run();
    assert.equal(server.requests[0].lastEventId, '1');
    assert.deepEqual(delivered, [2, 4]);
  });

  test('stop() during the wait before a reconnect resolves run() at once and clears the timer', async () => {
    fresh();
    server.script(status(500));
    const clock = fakeTimers();
    const client = clientFor({ timers: clock.timers, connectTimeoutMs: 10_000 });
    const running = client.run();
    await until(() => [...clock.pending.values()].some((t) => t.ms !== 10_000));
    client.stop();
    await running;
    assert.equal(clock.pending.size, 0);
    assert.equal(server.requests.length, 1);
    client.stop(); // idempotent
  });

  test('bad events are skipped and counted, callbacks that throw are reported, and the loop goes on', async () => {
    fresh();
    server.script((req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.end([
        frame('not json'),
        frame({ type: 'other' }),
        frame([1, 2]),
        frame({ type: 'actions', actions: [{ index: 'x' }] }),
        frame({}, { event: 'heartbeat' }),
        frame({ type: 'heartbeat' }),
        frame(connectorEvent(1)),
        frame(connectorEvent(2)),
        frame(connectorEvent(3)),
      ].join(''));
    }, status(204));
    const warnings = [];
    const warn = console.warn;
    console.warn = (...args) => warnings.push(args.join(' '));
    const summaries = [];
    try {
      const client = clientFor()
        .onActions(() => {
          throw new Error('callback bug');
        })
        .onSummary(async (p) => {
          summaries.push(p.forwarded_at);
          throw new Error('async callback bug');
        });
      await client.run();
      const stats = client.stats();
      assert.deepEqual(stats.skipped, { invalidJson: 1, unknownType: 2, invalidPayload: 1, tooLarge: 0, incomplete: 0 });
      assert.deepEqual(stats.events, { actions: 3, summary: 1, heartbeat: 2 });
      assert.deepEqual([stats.delivered, stats.callbackErrors], [3, 3]);
      assertAccounted(stats);
    } finally {
      console.warn = warn;
    }
    assert.deepEqual(summaries, [2]);
    assert.ok(warnings.some((w) => w.includes('ConnectorClient') && w.includes('callback bug')), warnings.join('\n'));
  });

  test('an event larger than maxEventBytes is skipped and counted; the next one arrives', async () => {
    fresh();
    server.script((req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.end(frame({ ...connectorEvent(2), summary: 'x'.repeat(2000) }) + frame(connectorEvent(4)));
    }, status(204));
    const delivered = [];
    const client = clientFor({ maxEventBytes: 1000 }).onEvent((p) => delivered.push(p));
    await client.run();
    assert.deepEqual(forwardedAts(delivered), [4]);
    assert.equal(client.stats().skipped.tooLarge, 1);
  });

  test('the lastEventId option resumes a new client where a previous one stopped', async () => {
    fresh();
    const delivered = [];
    const client = clientFor({ lastEventId: '4' }).onEvent((p) => delivered.push(p));
    assert.equal(client.lastEventId, '4');
    await client.run();
    assert.deepEqual(forwardedAts(delivered), [5, 6]);
    assert.equal(server.requests[0].lastEventId, '4');
  });

  test('run() while running rejects with CONNECTOR_RUNNING and leaves the run going', async () => {
    fresh();
    const client = clientFor();
    const first = client.run();
    await assert.rejects(client.run(), { name: 'ConnectorError', code: 'CONNECTOR_RUNNING' });
    await first;
    assert.equal(client.stats().delivered, 6);
  });

  test('bad options and callbacks: TypeError or RangeError naming the option, and no request', async () => {
    fresh();
    let fetched = 0;
    const fetch = () => {
      fetched += 1;
      return Promise.reject(new Error('unused'));
    };
    const url = `${server.url}/stream/p`;
    const cases = [
      [undefined, TypeError, /url must be/],
      [{ url: 'nope' }, TypeError, /url is not a URL/],
      [{ url: 'ftp://x/y' }, TypeError, /http\(s\)/],
      [{ url, token: '' }, TypeError, /token must be a non-empty string/],
      [{ url, token: 'super secret' }, TypeError, /whitespace/],
      [{ url, token: 5 }, TypeError, /token must be/],
      [{ url, tokn: 'x' }, TypeError, /unknown option "tokn"/],
      [{ url, headers: 'x' }, TypeError, /headers must be/],
      [{ url, headers: { 'bad name': 'x' } }, TypeError, /headers are not valid/],
      [{ url, lastEventId: 5 }, TypeError, /lastEventId must be a string/],
      [{ url, lastEventId: 'a\nb' }, TypeError, /lastEventId must not contain/],
      [{ url, initialBackoffMs: 0 }, RangeError, /initialBackoffMs/],
      [{ url, initialBackoffMs: Number.NaN }, RangeError, /initialBackoffMs/],
      [{ url, initialBackoffMs: '5' }, TypeError, /initialBackoffMs must be a number/],
      [{ url, initialBackoffMs: 500, maxBackoffMs: 100 }, RangeError, /maxBackoffMs \(100\) must be at least/],
      [{ url, maxRetries: -1 }, RangeError, /maxRetries/],
      [{ url, maxRetries: 1.5 }, RangeError, /maxRetries/],
      [{ url, connectTimeoutMs: Infinity }, RangeError, /connectTimeoutMs/],
      [{ url, maxQueueSize: 0 }, RangeError, /maxQueueSize/],
      [{ url, maxEventBytes: 0.5 }, RangeError, /maxEventBytes/],
      [{ url, onConnect: 'x' }, TypeError, /onConnect must be a function/],
      [{ url, fetch: null }, TypeError, /fetch must be a function/],
      [{ url, timers: {} }, TypeError, /timers.setTimeout must be a function/],
      [{ url, random: 1 }, TypeError, /random must be a function/],
    ];
    for (const [options, ErrorClass, message] of cases) {
      assert.throws(() => new ConnectorClient(options && { fetch, ...options }), (error) => {
        assert.ok(error instanceof ErrorClass, `${JSON.stringify(options)}: ${error}`);
        assert.match(error.message, message);
        assert.ok(!error.message.includes('super secret'));
        return true;
      });
    }
    const client = new ConnectorClient({ url, fetch });
    for (const name of ['onActions', 'onSummary', 'onEvent', 'onDrop']) {
      assert.throws(() => client[name]('not a function'), { name: 'TypeError', message: new RegExp(`${name} callback must be a function`) });
    }
    assert.equal(fetched, 0);
    assert.equal(server.requests.length, 0);
  });
});
