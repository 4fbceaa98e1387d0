// toNodeListener: serves a Fetch API handler ((Request) => Response) from `node:http` (or any
// server with its request / response objects: `node:https`, Express). Written without `node:`
// imports, so this module loads in every runtime; only Node calls it.
import { describe } from './arguments.js';

/** Connection-level headers: they describe the Node connection, not the request. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'http2-settings']);

/**
 * The request body as a ReadableStream that reads `req` only as fast as the handler does
 * (paused while the stream's queue is full). Cancelling it discards the rest of the body.
 */
function requestBody(req) {
  let cancelled = false;
  return new ReadableStream({
    start(controller) {
      req.on('data', (chunk) => {
        if (cancelled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if (controller.desiredSize <= 0) req.pause();
      });
      req.on('end', () => {
        if (!cancelled) controller.close();
      });
      req.on('error', (error) => {
        if (!cancelled) controller.error(error);
      });
      req.on('close', () => {
        if (!cancelled && !req.complete) controller.error(new Error('the client closed the request before its body ended'));
        cancelled = true;
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      cancelled = true;
      req.resume();
    },
  });
}

/** A Fetch Request for a Node request; `signal` aborts when the client goes away. Throws for a malformed host. */
function toRequest(req, signal) {
  const protocol = req.socket?.encrypted ? 'https' : 'http';
  const url = new URL(req.url ?? '/', `${protocol}://${req.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  const raw = req.rawHeaders ?? [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (!HOP_BY_HOP.has(name) && !name.startsWith(':')) headers.append(name, raw[i + 1]);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(url, {
    method: req.method,
    headers,
    signal,
    ...(hasBody ? { body: requestBody(req), duplex: 'half' } : {}),
  });
}

function plain(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

/** Resolves once `res` can take more data, or has closed. */
function drained(res) {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Writes `response` to `res`: status and headers at once, then the body as it streams. */
async function send(response, req, res) {
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie?.() ?? [];
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  // Headers leave now, not with the first chunk: a live tail's client sees the response open.
  res.flushHeaders();
  const body = response.body;
  if (body === null || req.method === 'HEAD') {
    body?.cancel().catch(() => {});
    res.end();
    return;
  }
  const reader = body.getReader();
  const stop = () => reader.cancel().catch(() => {});
  res.on('close', stop);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) await drained(res);
    }
    res.end();
  } catch (error) {
    res.destroy(error);
  } finally {
    res.off('close', stop);
  }
}

/**
 * `toNodeListener(handler)` -> `(req, res) => Promise<void>` for `http.createServer`.
 *
 * Each request becomes a Fetch `Request` (URL from the Host header, headers, the body streamed
 * for methods other than GET / HEAD, a `signal` that aborts when the client disconnects); the
 * handler's `Response` is written back with its status and headers sent at once and its body
 * streamed (cancelled when the client disconnects; nothing for HEAD). A malformed Host is
 * answered 400; a handler that throws or returns no Response is answered 500 (the error is
 * reported with `console.error`), or the connection is closed if the response had started.
 */
export function toNodeListener(handler) {
  if (typeof handler !== 'function') {
    throw new TypeError(`toNodeListener expects a function (request) => Response, got ${describe(handler)}`);
  }
  return async function nodeListener(req, res) {
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let request;
    try {
      request = toRequest(req, abort.signal);
    } catch {
      plain(res, 400, 'Bad Request');
      return;
    }
    let response;
    try {
      response = await handler(request);
      if (response === null || typeof response !== 'object' || typeof response.status !== 'number' || !response.headers) {
        throw new TypeError(`the handler must return a Response, got ${describe(response)}`);
      }
    } catch (error) {
      console.error('tidepool: toNodeListener: the handler failed', error);
      if (!res.headersSent) plain(res, 500, 'Internal Server Error');
      else res.destroy();
      return;
    }
    await send(response, req, res);
  };
}
