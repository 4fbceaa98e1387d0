// An Upstash-compatible REST gateway in front of a Redis server, for tests and benchmarks:
// the npm package @humanwhocodes/upstash-redis-server, wrapped so that
//   - the bearer token is checked on every path (the stock app checks it only on `POST /`),
//   - it listens on 127.0.0.1 only (the stock server listens on every interface),
//   - it counts requests per path, readable at `GET /__counts` (authenticated, not counted;
//     `POST /__counts/reset` zeroes them), so benchmarks count requests at the server.
// Run with node; configuration through the environment: URS_TOKEN, REDIS_URL, PORT (0: any free
// port). Prints `listening <port>` on stdout once it accepts connections.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { createApp } from '@humanwhocodes/upstash-redis-server';

const token = process.env.URS_TOKEN;
const redisUrl = process.env.REDIS_URL;
if (!token || !redisUrl) {
  console.error('upstash_gateway: URS_TOKEN and REDIS_URL are required');
  process.exit(2);
}

const counts = {};
const app = new Hono();
app.use('*', bearerAuth({ token }));
app.get('/__counts', (c) => c.json(counts));
app.post('/__counts/reset', (c) => {
  for (const path of Object.keys(counts)) delete counts[path];
  return c.json({ ok: true });
});
app.use('*', async (c, next) => {
  counts[c.req.path] = (counts[c.req.path] ?? 0) + 1;
  await next();
});
app.route('/', createApp({ token, redisUrl }));

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  console.log(`listening ${info.port}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
