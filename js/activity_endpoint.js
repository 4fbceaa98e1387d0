// The activity endpoint: a Fetch API handler (Request -> Promise<Response>) over an event log,
// the same code in Workers, Deno, Node and service workers. Parameter parsing, limits and SSE
// framing are the core's (src/core/event_log/endpoint.rs).
import {
  activityEndpointLimits,
  formatSseEvent,
  parseActivityQuery,
  parseStreamCursor,
} from './wasm/tidepool.js';
import { describe, optionsObject } from './arguments.js';

/** `{ defaultLimit, maxLimit, heartbeatMs, heartbeat, retry }`, read from the core on first use (the
 * wasm module is not instantiated yet while this module is evaluated). */
let limits;
const LIMITS = () => (limits ??= activityEndpointLimits());

function corsHeaders(cors) {
  if (cors === undefined || cors === false) return {};
  if (cors === true) return { 'access-control-allow-origin': '*' };
  if (typeof cors === 'string' && cors !== '') return { 'access-control-allow-origin': cors, vary: 'Origin' };
  throw new TypeError(`cors must be a boolean or an origin string, got ${describe(cors)}`);
}

function positiveMs(value, name, fallback) {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/**
 * `activityHandler(log, { cors, heartbeatMs, pollMs })` -> `(request) => Promise<Response>`.
 *
 * - `GET ?since=&limit=` -> 200 `{ events, first_id, last_id, missed, next_since }`; `limit`
 *   defaults to 100 and is capped at 500; a malformed `since`/`limit` -> 400 `{ error }`.
 * - `GET` with `Accept: text/event-stream` -> a live tail from `Last-Event-ID` or `since`.
 * - `HEAD` -> the same status and headers as `GET`, no body.
 * - Any other method -> 405 with `Allow` (OPTIONS answers a CORS preflight when `cors` is set).
 */
export function activityHandler(log, handlerOptions) {
  if (log === null || typeof log !== 'object' || typeof log.query !== 'function') {
    throw new TypeError(`activityHandler expects an event log with a query method, got ${describe(log)}`);
  }
  const options = optionsObject(handlerOptions, 'activityHandler', ['cors', 'heartbeatMs', 'pollMs']);
  const cors = corsHeaders(options.cors);
  const heartbeatMs = positiveMs(options.heartbeatMs, 'heartbeatMs', LIMITS().heartbeatMs);
  const pollMs = positiveMs(options.pollMs, 'pollMs', 1000);
  const allow = options.cors ? 'GET, HEAD, OPTIONS' : 'GET, HEAD';

  const json = (status, body, headers = {}) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...cors, ...headers },
    });

  return async function handleActivityRequest(request) {
    if (request.method === 'HEAD') {
      // As GET, without a body (a live tail is opened and closed again at once).
      const response = await handle(new Request(request, { method: 'GET' }));
      response.body?.cancel().catch(() => {});
      return new Response(null, { status: response.status, headers: response.headers });
    }
    return handle(request);
  };

  async function handle(request) {
    if (request.method === 'OPTIONS' && options.cors) {
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          'access-control-allow-methods': allow,
          'access-control-allow-headers': 'Accept, Last-Event-ID',
          'access-control-max-age': '86400',
        },
      });
    }
    if (request.method !== 'GET') {
      return json(405, { error: `method ${request.method} not allowed; use GET or HEAD` }, { allow });
    }
    const params = new URL(request.url).searchParams;
    const param = (name) => params.get(name) ?? undefined;
    const wantsStream = (request.headers.get('accept') ?? '').includes('text/event-stream');
    if (wantsStream) {
      let cursor;
      try {
        cursor = parseStreamCursor(param('since'), request.headers.get('last-event-id') ?? undefined);
      } catch (error) {
        return json(400, { error: error.message });
      }
      const body = liveTail(log, cursor ?? 0, { heartbeatMs, pollMs, signal: request.signal });
      return new Response(body, {
        status: 200,
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
          ...cors,
        },
      });
    }
    let query;
    try {
      query = parseActivityQuery(param('since'), param('limit'));
    } catch (error) {
      return json(400, { error: error.message });
    }
    let page;
    try {
      page = await readPage(log, query.since, query.limit);
    } catch (error) {
      // A remote log (RedisEventLog) that cannot be read: the client may try again later.
      return json(503, { error: `the event log is unavailable: ${error?.message ?? error}`, code: error?.code ?? null }, { 'retry-after': '1' });
    }
    return json(200, page);
  }
}

/** The endpoint's JSON body. Backends without `read` report `first_id: null`, `missed: 0`. */
async function readPage(log, since, limit) {
  if (typeof log.read === 'function') {
    const page = await log.read({ since, limit });
    return {
      events: page.events,
      first_id: page.firstId,
      last_id: page.lastId,
      missed: page.missed,
      next_since: page.nextSince,
    };
  }
  const events = await log.query({ since, limit });
  const last = events.length ? events[events.length - 1].id : (since ?? 0);
  return { events, first_id: null, last_id: last, missed: 0, next_since: last };
}

/**
 * An SSE stream: every event with `id > cursor`, then each new one as it is appended.
 *
 * Invariants: events go out in ascending id order, each at most once (`lastSent` only grows);
 * appends that happen during the replay are held and sent after it. Cancellation (client
 * disconnect), `signal` abort or a failed enqueue all run `stop`, which removes the append
 * listener, the timers and the abort listener, so nothing is left behind.
 */
function liveTail(log, cursor, { heartbeatMs, pollMs, signal }) {
  const encoder = new TextEncoder();
  let stop = () => {};
  return new ReadableStream({
    start(controller) {
      let lastSent = cursor;
      let replaying = true;
      let stopped = false;
      const held = [];
      const send = (text) => {
        if (stopped) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop();
        }
      };
      const sendEvent = (event) => {
        if (event.id <= lastSent) return;
        lastSent = event.id;
        send(formatSseEvent(event.id, event.kind, JSON.stringify(event)));
      };
      const catchUp = async () => {
        for (;;) {
          const events = await log.query({ since: lastSent, limit: LIMITS().maxLimit });
          if (stopped) return;
          events.forEach(sendEvent);
          if (events.length < LIMITS().maxLimit) return;
        }
      };

      const unsubscribe =
        typeof log.subscribe === 'function'
          ? log.subscribe((event) => (replaying ? held.push(event) : sendEvent(event)))
          : undefined;
      // Backends that cannot notify are polled instead, one poll at a time. A failed poll (a
      // remote log that is unavailable for a while) is retried at the next tick: the cursor
      // only moves on success, so nothing is skipped.
      let polling = false;
      const poll = () => {
        if (polling || replaying) return;
        polling = true;
        catchUp()
          .catch(() => {})
          .finally(() => (polling = false));
      };
      const poller = unsubscribe ? undefined : setInterval(poll, pollMs);
      // The first line goes out at once: the response is open before any event or heartbeat.
      send(LIMITS().retry);
      const heartbeat = setInterval(() => send(LIMITS().heartbeat), heartbeatMs);
      const onAbort = () => stop();
      signal?.addEventListener('abort', onAbort);

      stop = () => {
        if (stopped) return;
        stopped = true;
        unsubscribe?.();
        clearInterval(poller);
        clearInterval(heartbeat);
        signal?.removeEventListener('abort', onAbort);
        held.length = 0;
        try {
          controller.close();
        } catch {}
      };
      const fail = (error) => {
        if (stopped) return;
        stop();
        console.warn('tidepool: activity live tail stopped', error);
      };
      if (signal?.aborted) stop();

      catchUp()
        .catch((error) => {
          // Pushing logs hold appends in memory: a failed replay would lose them, so stop.
          // A polled log just replays from the cursor at the next poll.
          if (unsubscribe) throw error;
        })
        .then(() => {
          replaying = false;
          held.splice(0).forEach(sendEvent);
        })
        .catch(fail);
    },
    cancel() {
      stop();
    },
  });
}
