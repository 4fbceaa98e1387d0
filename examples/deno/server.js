// tidepool in a Deno server: POST /ingest (a connector payload into RedisEventBuffer),
// POST /drain (every buffered payload), GET /activity (the activity endpoint over
// RedisEventLog). Configured from the environment: UPSTASH_REDIS_REST_URL,
// UPSTASH_REDIS_REST_TOKEN, KEY_PREFIX (default 'example'), PORT (default 8000; 0: any free one).
//   deno run --allow-net --allow-env=UPSTASH_REDIS_REST_URL,UPSTASH_REDIS_REST_TOKEN,KEY_PREFIX,PORT server.js
// (with `tidepool` installed by npm beside it, or import it as 'npm:tidepool').
import { RedisRestClient, RedisEventBuffer, RedisEventLog, activityHandler, PayloadError } from 'tidepool';

const client = RedisRestClient.fromEnv();
const prefix = Deno.env.get('KEY_PREFIX') || 'example';
const buffer = new RedisEventBuffer({ client, keyPrefix: prefix });
const log = new RedisEventLog({ client, key: `${prefix}:activity` });
const activity = activityHandler(log, { cors: true });

async function handle(request) {
  const { pathname } = new URL(request.url);
  if (pathname === '/activity') return activity(request);
  if (pathname === '/ingest' && request.method === 'POST') {
    let payload;
    try {
      payload = await request.json();
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
}

Deno.serve({
  hostname: '127.0.0.1',
  port: Number(Deno.env.get('PORT') ?? 8000),
  onListen: ({ port }) => console.log(`listening ${port}`),
}, handle);
