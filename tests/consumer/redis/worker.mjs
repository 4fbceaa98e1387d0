// A Worker using RedisEventBuffer, run in workerd (Miniflare) by tests/js/redis_runtimes.test.mjs:
// POST /add?prefix= adds three summaries, POST /drain?prefix= drains; the gateway's URL and
// token come from the Worker's env (bindings).
import { RedisEventBuffer, RedisRestClient } from 'tidepool';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const buffer = new RedisEventBuffer({ client: RedisRestClient.fromEnv(env), keyPrefix: url.searchParams.get('prefix') });
    if (url.pathname === '/add') {
      await Promise.all([1, 2, 3].map((i) => buffer.add({ type: 'summary', session_id: 'workerd', summary: `workerd-${i}`, forwarded_at: i })));
      return Response.json({ stats: buffer.stats() });
    }
    if (url.pathname === '/drain') return Response.json({ drained: (await buffer.drain()).map((p) => p.summary), stats: buffer.stats() });
    return new Response('not found', { status: 404 });
  },
};
