// A local stand-in for the event connector (`GET /stream/<product_id>`, Server-Sent Events), on
// node:http, 127.0.0.1 and a free port, for the ConnectorClient tests. Each request is
// answered by the next handler the test queued with `script(...)` (faults injected there),
// else by the connector behaviour: bearer token checked, events resumed after Last-Event-ID,
// `perConnection` events then a normal end of stream, and 204 once every event was sent.
// Answers CORS preflights, so Chromium pages served from another port can connect.
import { createServer } from 'node:http';

/** One SSE frame; `fields` may hold `id`, `event`, `retry`. `data` is JSON-encoded unless a string. */
export function frame(data, fields = {}) {
  let text = '';
  if (fields.id !== undefined) text += `id: ${fields.id}\n`;
  if (fields.event !== undefined) text += `event: ${fields.event}\n`;
  if (fields.retry !== undefined) text += `retry: ${fields.retry}\n`;
  const body = typeof data === 'string' ? data : JSON.stringify(data);
  for (const line of body.split('\n')) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** The connector's payloads: odd numbers actions, even numbers summaries. */
export function connectorEvent(n) {
  return n % 2
    ? { type: 'actions', product_id: 'p', session_id: `s${n}`, actions: [{ index: 0, type: 'click', description: `click ${n} ü😀` }], forwarded_at: n }
    : { type: 'summary', product_id: 'p', session_id: `s${n}`, summary: `summary ${n}`, forwarded_at: n };
}

export const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'access-control-allow-origin': '*' };

/**
 * Resolves to `{ url, requests, script, close }`. `requests` records each request's
 * `{ path, authorization, lastEventId }` (preflights excluded). `script(...handlers)` queues
 * `(req, res) => void` answers for the next requests.
 */
export async function startSseServer({ token = 'connector-token', total = 6, perConnection = 3, heartbeat = true } = {}) {
  const requests = [];
  const handlers = [];
  const server = createServer((req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET',
        'access-control-allow-headers': 'authorization, last-event-id, accept, x-client',
        'access-control-max-age': '0',
      }).end();
      return;
    }
    requests.push({
      path: req.url, authorization: req.headers.authorization, lastEventId: req.headers['last-event-id'], client: req.headers['x-client'],
    });
    const handler = handlers.shift();
    if (handler) {
      handler(req, res);
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' }).end('Unauthorized');
      return;
    }
    const after = Number(req.headers['last-event-id'] ?? 0);
    if (after >= total) {
      res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
      return;
    }
    res.writeHead(200, SSE_HEADERS);
    if (heartbeat) res.write(frame({ type: 'heartbeat' }, { event: 'heartbeat' }));
    for (let n = after + 1; n <= Math.min(total, after + perConnection); n++) res.write(frame(connectorEvent(n), { id: n }));
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    script: (...list) => handlers.push(...list),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}
