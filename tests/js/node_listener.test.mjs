// toNodeListener over real HTTP (node:http on 127.0.0.1, an ephemeral port), and the live tail
// answering at once: headers and a first `retry:` line before any event or heartbeat; HEAD
// answered like GET without a body (issue 9).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { InMemoryEventLog, activityHandler, toNodeListener } from '../../pkg/entry/node.js';
import { sseReader } from '../helpers/fetch_server.mjs';

const HOUR = 3_600_000;

/** Serves `listener` on 127.0.0.1 and a free port; resolves to `{ url, port, close }`. */
async function serve(listener) {
  const server = createServer(listener);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

/** Waits (bounded by the test's timeout) until `condition()` holds. */
async function until(condition) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('the live tail answers at once, through toNodeListener', { timeout: 20_000 }, () => {
  let server;
  let log;

  before(async () => {
    log = new InMemoryEventLog();
    // An hour between heartbeats: anything the client sees before that is the first line.
    server = await serve(toNodeListener(activityHandler(log, { heartbeatMs: HOUR })));
  });

  after(async () => {
    await server?.close();
  });

  test('an SSE request on an empty log gets its headers and a retry: line at once', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/event-stream' } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const reader = sseReader(response.body);
    assert.deepEqual(await reader.next(), { retry: '3000' });
    await until(() => log.subscriberCount === 1);
    const appended = log.append('turn.started', { turn: 1 });
    const pushed = await reader.next();
    assert.deepEqual([Number(pushed.id), pushed.data], [appended.id, appended]);
    await reader.cancel();
    await until(() => log.subscriberCount === 0);
  });

  test('HEAD is answered like GET without a body (JSON and SSE); nothing stays subscribed', async () => {
    const get = await fetch(`${server.url}/?since=0`);
    const head = await fetch(`${server.url}/?since=0`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), get.headers.get('content-type'));
    assert.equal(await head.text(), '');
    await get.arrayBuffer();
    const bad = await fetch(`${server.url}/?limit=x`, { method: 'HEAD' });
    assert.equal(bad.status, 400);
    const sse = await fetch(server.url, { method: 'HEAD', headers: { accept: 'text/event-stream' } });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type'), /^text\/event-stream/);
    assert.equal(await sse.text(), '');
    await until(() => log.subscriberCount === 0);
    const post = await fetch(server.url, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.arrayBuffer();
  });
});

describe('toNodeListener', { timeout: 20_000 }, () => {
  test('the request: method, URL, headers, a streamed body; the response: status, headers, cookies, body', async () => {
    let seen;
    const server = await serve(toNodeListener(async (request) => {
      const body = new Uint8Array(await request.arrayBuffer());
      seen = { method: request.method, url: request.url, type: request.headers.get('x-type'), length: body.length, sum: body.reduce((a, b) => a + b, 0) };
      const headers = new Headers({ 'content-type': 'text/plain', 'x-answer': '42' });
      headers.append('set-cookie', 'a=1');
      headers.append('set-cookie', 'b=2');
      return new Response('created', { status: 201, statusText: 'Made', headers });
    }));
    try {
      const body = new Uint8Array(3 << 20).map((_, i) => i % 251);
      const response = await fetch(`${server.url}/path?q=1`, { method: 'PUT', body, headers: { 'x-type': 'bytes' } });
      assert.equal(response.status, 201);
      assert.equal(response.statusText, 'Made');
      assert.equal(response.headers.get('x-answer'), '42');
      assert.deepEqual(response.headers.getSetCookie(), ['a=1', 'b=2']);
      assert.equal(await response.text(), 'created');
      assert.deepEqual(seen, {
        method: 'PUT', url: `${server.url}/path?q=1`, type: 'bytes', length: body.length, sum: body.reduce((a, b) => a + b, 0),
      });
    } finally {
      await server.close();
    }
  });

  test('a client that goes away aborts request.signal and cancels the response body', async () => {
    let aborted = false;
    let cancelled = false;
    const server = await serve(toNodeListener((request) => {
      request.signal.addEventListener('abort', () => (aborted = true));
      const encoder = new TextEncoder();
      return new Response(new ReadableStream({
        start(controller) {
          controller.enqueue(encoder.encode('first\n'));
        },
        cancel() {
          cancelled = true;
        },
      }));
    }));
    try {
      const controller = new AbortController();
      const response = await fetch(server.url, { signal: controller.signal });
      const reader = response.body.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), 'first\n');
      controller.abort();
      await until(() => aborted && cancelled);
    } finally {
      await server.close();
    }
  });

  test('a failing handler -> 500 (reported); a malformed Host -> 400; a non-function -> TypeError', async () => {
    const reported = [];
    const original = console.error;
    console.error = (...args) => reported.push(args);
    const server = await serve(toNodeListener(() => {
      throw new Error('boom');
    }));
    try {
      const response = await fetch(server.url);
      assert.equal(response.status, 500);
      assert.equal(await response.text(), 'Internal Server Error');
      assert.equal(reported.length, 1);
      assert.equal(reported[0][1].message, 'boom');
      const raw = await new Promise((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1', () => socket.end('GET / HTTP/1.1\r\nHost: bad host\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(raw, /^HTTP\/1\.1 400/);
    } finally {
      console.error = original;
      await server.close();
    }
    assert.throws(() => toNodeListener({}), /toNodeListener expects a function \(request\) => Response, got an object/);
  });
});
