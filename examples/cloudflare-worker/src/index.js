// tidepool on Cloudflare Workers: POST /ingest (a connector payload into RedisEventBuffer),
// POST /drain (every buffered payload), GET /activity (the activity endpoint over
// RedisEventLog: JSON pages, or a live tail with Accept: text/event-stream). Configured from
// the Worker's env: UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN (secrets), KEY_PREFIX.
import { RedisRestClient, RedisEventBuffer, RedisEventLog, activityHandler, PayloadError } from 'tidepool';

/** One set of objects per isolate (env is the same for every request of a deployment). */
let app;

function setUp(env) {
  const client = RedisRestClient.fromEnv(env);
  const prefix = env.KEY_PREFIX || 'example';
  const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
  const log = new RedisEventLog({ client, key: `${prefix}:activity` });
  return { buffer, log, activity: activityHandler(log, { cors: true }) };
}

export default {
  async fetch(request, env) {
    app ??= setUp(env);
    const { buffer, log, activity } = app;
    const { pathname } = new URL(request.url);
    if (pathname === '/activity') return activity(request);
    if (pathname === '/ingest' && request.method === 'POST') {
      let payload;
      try {
        payload = await request.json();
        // Resolves once stored or reported dropped; a bad payload throws PayloadError at once.
        await buffer.add(payload);
      } catch (error) {
        if (error instanceof PayloadError || error instanceof SyntaxError) return Response.json({ error: error.message }, { status: 400 });
        throw error;
      }
      await log.append('payload.ingested', { type: payload.type, session_id: payload.session_id ?? null });
      return Response.json({ ok: true }, { status: 202 });
    }
    if (pathname === '/drain' && request.method === 'POST') {
      const events = await buffer.drain();
      await log.append('buffer.drained', { count: events.length });
      return Response.json({ events });
    }
    return Response.json({ error: 'not found' }, { status: 404 });
  },
};
