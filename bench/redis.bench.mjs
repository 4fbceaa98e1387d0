// RedisEventBuffer benchmarks against a real redis-server behind the Upstash-compatible
// gateway (both started here on 127.0.0.1, stopped at the end):
//   1. HTTP requests per operation, counted at the gateway: 1,000 adds issued together (target
//      at most 10), a drain (1), a size (1).
//   2. Adds per second at concurrency 10 (10 tasks, each awaiting its adds in turn), side by
//      side in this process with a naive client that sends one request per add (the Python
//      SDK's SADD + ZREMRANGEBYSCORE + ZADD as one /pipeline request), rounds alternating;
//      and the autoplay Python SDK's RedisEventBuffer on the same Redis (over TCP, not REST).
import { join } from 'node:path';
import { RedisEventBuffer, RedisRestClient } from '../pkg/entry/node.js';
import { interopPython, redisUnavailableReason, repoRoot, startRedisWithGateway } from '../tests/helpers/redis.mjs';
import { run } from '../tests/helpers/run.mjs';
import { median } from './measure.mjs';

const TOKEN = 'bench-token';
const CONCURRENCY = 10;
const ADDS_PER_ROUND = 2000;
const ROUNDS = 5;

const reason = redisUnavailableReason();
if (reason) {
  console.log(`redis bench skipped: ${reason}`);
  process.exit(0);
}

const payload = (i) => ({ type: 'summary', product_id: 'bench', session_id: `s${i % 8}`, summary: `${'x'.repeat(56)}${i}`, replaces: 0, forwarded_at: 0 });

/** The one-request-per-add client: what the Python SDK's add does, over REST. */
function naiveAdder(client, prefix, windowSeconds = 120) {
  return async (p) => {
    const session = p.session_id || '_nosession';
    const score = Date.now() / 1000;
    const member = `${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}:${JSON.stringify(p)}`;
    const key = `autoplay:sdk:buffer:${prefix}:${session}`;
    await client.pipeline([
      ['SADD', `autoplay:sdk:sessions:${prefix}`, session],
      ['ZREMRANGEBYSCORE', key, '-inf', String(score - windowSeconds)],
      ['ZADD', key, String(score), member],
    ]);
  };
}

/** Adds per second when CONCURRENCY tasks each await `add` in turn. */
async function addsPerSecond(add, count) {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) await add(payload(next++));
  }));
  return count / ((performance.now() - started) / 1000);
}

const servers = await startRedisWithGateway({ token: TOKEN });
try {
  const client = new RedisRestClient({ url: servers.url, token: TOKEN });

  // 1. Requests per operation, counted at the server (scripts cached first).
  const counted = new RedisEventBuffer({ client, keyPrefix: 'count' });
  await counted.add(payload(0));
  await counted.size();
  await counted.drain();
  await servers.gateway.resetCounts();
  const adds = [];
  for (let i = 0; i < 1000; i++) adds.push(counted.add(payload(i)));
  await Promise.all(adds);
  const addRequests = Object.values(await servers.gateway.counts()).reduce((a, b) => a + b, 0);
  await servers.gateway.resetCounts();
  const size = await counted.size();
  const sizeRequests = Object.values(await servers.gateway.counts()).reduce((a, b) => a + b, 0);
  await servers.gateway.resetCounts();
  const drained = (await counted.drain()).length;
  const drainRequests = Object.values(await servers.gateway.counts()).reduce((a, b) => a + b, 0);
  console.log(`requests at the server: 1,000 adds issued together -> ${addRequests} (target <= 10) ${addRequests <= 10 ? 'met' : 'MISSED'}; ` +
    `size (${size}) -> ${sizeRequests}; drain (${drained} events) -> ${drainRequests}`);

  // 2. Adds per second at concurrency 10: tidepool and the naive client, alternating rounds.
  const buffer = new RedisEventBuffer({ client, keyPrefix: 'rate', maxConcurrent: CONCURRENCY });
  const naive = naiveAdder(client, 'naive');
  await addsPerSecond(buffer.add, 200);
  await addsPerSecond(naive, 200);
  const rates = { tidepool: [], naive: [] };
  for (let round = 0; round < ROUNDS; round++) {
    rates.tidepool.push(await addsPerSecond(buffer.add, ADDS_PER_ROUND));
    rates.naive.push(await addsPerSecond(naive, ADDS_PER_ROUND));
    await client.command(['FLUSHDB']);
  }
  const stats = buffer.stats();
  if (stats.stored !== stats.added) throw new Error(`tidepool adds not all stored: ${JSON.stringify(stats)}`);
  const tidepoolRate = median(rates.tidepool);
  const naiveRate = median(rates.naive);
  console.log(`adds/s at concurrency ${CONCURRENCY} (${ADDS_PER_ROUND} per round, median of ${ROUNDS}): tidepool ${tidepoolRate.toFixed(0)}, ` +
    `naive one-request-per-add ${naiveRate.toFixed(0)}: ${(tidepoolRate / naiveRate).toFixed(1)}x ` +
    `(${(stats.requests / stats.added).toFixed(2)} requests per add)`);

  // 3. The Python SDK on the same Redis, over TCP.
  const python = interopPython();
  if (python) {
    const results = [];
    for (let round = 0; round < 3; round++) {
      const result = await run(python, [join(repoRoot, 'tests', 'python', 'autoplay_redis.py'), 'bench', servers.redis.url, 'py', String(ADDS_PER_ROUND), String(CONCURRENCY)]);
      if (result.code !== 0) throw new Error(result.stderr);
      const { adds: n, seconds, dropped } = JSON.parse(result.stdout.trim().split('\n').at(-1));
      results.push({ rate: n / seconds, dropped });
    }
    const pythonRate = median(results.map((r) => r.rate));
    console.log(`autoplay Python SDK RedisEventBuffer (TCP, asyncio, concurrency ${CONCURRENCY}, median of 3): ${pythonRate.toFixed(0)} adds/s ` +
      `(dropped ${results.map((r) => r.dropped).join('/')}); tidepool over REST: ${(tidepoolRate / pythonRate).toFixed(2)}x`);
  } else {
    console.log('autoplay Python SDK comparison skipped: no .venv (run scripts/setup.sh)');
  }
} finally {
  await servers.stop();
}
