// Run by tests/js/redis_runtimes.test.mjs in Deno against the local gateway: drains what Node
// added under DRAIN_PREFIX, adds its own under ADD_PREFIX; prints the drained summaries.
import { RedisEventBuffer, RedisRestClient } from 'tidepool';

const client = RedisRestClient.fromEnv();
const drained = await new RedisEventBuffer({ client, keyPrefix: Deno.env.get('DRAIN_PREFIX') }).drain();
const buffer = new RedisEventBuffer({ client, keyPrefix: Deno.env.get('ADD_PREFIX') });
await Promise.all([1, 2, 3].map((i) => buffer.add({ type: 'summary', session_id: 'deno', summary: `deno-${i} ü😀`, forwarded_at: i })));
console.log(JSON.stringify({ drained: drained.map((p) => p.summary), stats: buffer.stats() }));
