// Conformance checks of the EventLog and the activity endpoint (Fetch API only).
import { assert, assertEqual, assertThrows } from './assert.mjs';

const T0 = 1_700_000_000;
const ids = (events) => events.map((e) => e.id);

export const eventLogChecks = {
  'EventLog: ids survive eviction and clear'(tp) {
    const log = new tp.InMemoryEventLog({ maxEntries: 2, now: () => T0 });
    for (let i = 0; i < 4; i++) log.append('tick', { i });
    assertEqual(log.query(), [
      { id: 3, timestamp: T0, kind: 'tick', payload: { i: 2 } },
      { id: 4, timestamp: T0, kind: 'tick', payload: { i: 3 } },
    ], 'resident');
    log.clear();
    assertEqual(log.append('tick').id, 5, 'id after clear');
    const page = log.read({ since: 0 });
    assertEqual([page.firstId, page.lastId, page.missed], [5, 5, 4], 'read metadata');
  },
  'EventLog: strict TTL, limits, payload copy'(tp) {
    const clock = { t: T0 };
    const log = new tp.InMemoryEventLog({ ttlSeconds: 10, now: () => clock.t });
    const payload = { n: { deep: 1 } };
    log.append('a', payload);
    payload.n.deep = 2;
    clock.t = T0 + 10;
    assertEqual(log.query()[0].payload, { n: { deep: 1 } }, 'kept at exactly ttl, copied');
    log.append('b');
    assertEqual(log.query({ limit: 0 }), [], 'limit 0');
    assertEqual(ids(log.query({ limit: -1 })), [1, 2], 'negative limit');
    assertEqual(log.query({ since: 99 }), [], 'since past the end');
    clock.t = T0 + 10.5;
    assertEqual(ids(log.query()), [2], 'expired');
  },
  'EventLog: bad input throws TypeError and consumes no id'(tp) {
    const log = new tp.InMemoryEventLog();
    const cyclic = {};
    cyclic.self = cyclic;
    for (const [kind, payload] of [['', {}], ['k', [1]], ['k', cyclic], ['k', { f() {} }], ['k', { b: 1n }], ['k', 3]]) {
      assertThrows(() => log.append(kind, payload), TypeError, `append(${JSON.stringify(kind)})`);
    }
    assertThrows(() => log.query({ since: 0.5 }), TypeError, 'fractional since');
    assertEqual(log.append('ok').id, 1, 'first id after rejections');
  },
  'EventLog: factory names'(tp) {
    assert(tp.createEventLog({ backend: ' OFF ' }) instanceof tp.DisabledEventLog, 'off');
    assert(tp.createEventLog({ backend: 'memory' }) instanceof tp.InMemoryEventLog, 'memory');
    const disabled = new tp.DisabledEventLog();
    assertEqual([disabled.append('a').id, disabled.append('b').id, disabled.query()], [1, 2, []], 'disabled');
  },
  async 'activity endpoint: JSON, 400, 405'(tp) {
    const log = new tp.InMemoryEventLog({ now: () => T0 });
    for (let i = 0; i < 3; i++) log.append('tick', { i });
    const handler = tp.activityHandler(log);
    const ok = await handler(new Request('http://x/activity?since=1&limit=1'));
    assertEqual(ok.status, 200, 'status');
    assertEqual(await ok.json(), {
      events: [{ id: 2, timestamp: T0, kind: 'tick', payload: { i: 1 } }],
      first_id: 1, last_id: 3, missed: 0, next_since: 2,
    }, 'body');
    const bad = await handler(new Request('http://x/activity?limit=-2'));
    assertEqual(bad.status, 400, 'malformed limit');
    assert(typeof (await bad.json()).error === 'string', 'error message');
    const post = await handler(new Request('http://x/activity', { method: 'POST', body: 'x' }));
    assertEqual([post.status, post.headers.get('allow')], [405, 'GET, HEAD'], '405');
    const head = await handler(new Request('http://x/activity?since=1', { method: 'HEAD' }));
    assertEqual([head.status, head.body, head.headers.get('content-type')], [200, null, ok.headers.get('content-type')], 'HEAD');
  },
  async 'activity endpoint: SSE replay, live push, cancel leaves no listener'(tp) {
    const log = new tp.InMemoryEventLog({ now: () => T0 });
    const handler = tp.activityHandler(log, { heartbeatMs: 60_000 });
    // On an empty log, the first chunk (a retry: line) is there at once, before any event or heartbeat.
    const empty = await handler(new Request('http://x/', { headers: { accept: 'text/event-stream' } }));
    const opening = empty.body.getReader();
    assertEqual(new TextDecoder().decode((await opening.read()).value), 'retry: 3000\n\n', 'first line at once');
    await opening.cancel();
    log.append('one');
    const response = await handler(new Request('http://x/', { headers: { accept: 'text/event-stream' } }));
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readFrames = async (count) => {
      while (text.split('\n\n').length - 1 < count) text += decoder.decode((await reader.read()).value);
    };
    await readFrames(2);
    log.append('two', { n: 2 });
    await readFrames(3);
    assertEqual(text.split('\n\n')[0], 'retry: 3000', 'retry first');
    assertEqual(text.split('\n\n')[2], `id: 2\nevent: two\ndata: {"id":2,"timestamp":${T0},"kind":"two","payload":{"n":2}}`, 'pushed frame');
    assertEqual(log.subscriberCount, 1, 'subscribed while open');
    await reader.cancel();
    assertEqual(log.subscriberCount, 0, 'unsubscribed after cancel');
  },
};
